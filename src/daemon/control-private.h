/*
 * control-private.h: what the control socket's files share (control.c: the
 * clients and their I/O; control-listen.c: the socket and who connects;
 * control-handover.c: a reexec's handover). control.h is the interface.
 */
#ifndef WARDEN_CONTROL_PRIVATE_H
#define WARDEN_CONTROL_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "control.h"

struct evconnlistener;

struct control_state {
	struct event_base		 *base;
	const struct config		 *conf;
	const struct control_dispatcher	 *dispatcher;
	struct evconnlistener		 *listener;
	int				  listen_fd;
	char				 *sock_path;
	bool				  handed_over;	/* frozen for an exec */
	struct event			 *ev_adopted;	/* serves what waited */
	struct event			 *ev_resume;	/* accepting again after EMFILE */
	void				(*drained_cb)(void);
	struct client			 *clients;
	size_t				  nclients;
	uint64_t			  next_id;
};

extern struct control_state	control;

/* control.c */
int	 control_client_events(struct client *);	/* -1: cannot */
void	 control_free(struct client *);
void	 control_close_cb(evutil_socket_t, short, void *);
void	 control_start_reading(struct client *);
void	 control_want_write(struct client *);
void	 control_reject(struct client *, const char *fmt, const char *what);
void	 control_send_note(struct client *, const char *method, json_t *params,
	    const char *dropped, json_int_t seq);
void	 control_unfollow_logs(struct client *);
/* Serve what the client sent and that waited (fresh input: none). */
void	 control_serve(struct client *, const char *, size_t);
void	 control_maybe_resume(struct client *);
/* The answers of the read being served go to the client's own output. */
void	 control_unbatch(struct client *);
void	 control_buffers_free(void);

/* control-listen.c */
void	 control_accept_cb(struct evconnlistener *, evutil_socket_t,
	    struct sockaddr *, int, void *);
void	 control_accept_error_cb(struct evconnlistener *, void *);
void	 control_resume_cb(evutil_socket_t, short, void *);

#endif
