/*
 * control.h: the control socket. Accepts clients (SO_PEERCRED read at
 * accept), frames their input into lines, caps what each may send and
 * have queued, and hands each line to rpc.c.
 */
#ifndef WARDEN_CONTROL_H
#define WARDEN_CONTROL_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

struct event_base;
struct event;
struct evbuffer;
struct config;
struct pending;

enum role { ROLE_READ, ROLE_OPERATE, ROLE_ADMIN };

/* Calls whose answer comes later, linked through the calls themselves. */
TAILQ_HEAD(pending_list, pending);

struct client {
	uint64_t		 id;
	int			 fd;
	struct evbuffer		*in;
	struct evbuffer		*out;
	struct event		*ev_read;
	struct event		*ev_write;	/* armed only while output waits */
	struct event		*ev_idle;	/* armed from a line's first byte to its end */
	bool			 mid_line;	/* ev_idle runs for the partial line kept */
	bool			 line_done;	/* a line was served since the last look */
	bool			 reading;
	bool			 writing;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	enum role		 role;
	bool			 subscribed;
	json_t			*topics;	/* NULL: every event */
	uint64_t		 dropped;	/* events lost while over the cap */
	bool			 closing;
	bool			 eof;		/* the peer is done sending; answers still due */
	struct pending_list	 pending;	/* its calls awaiting an answer (rpc.c) */
	unsigned		 npending;
	struct event		*ev_close;
	struct client		*next;
};

int		 control_listen(struct event_base *, const struct config *);
/* Stop accepting, let each client's queued output go (a second at most), then done(). */
void		 control_drain(void (*done)(void));
/* Close every client at once. */
void		 control_shutdown(void);
/* After a reload: the access lists come from here now. */
void		 control_set_config(const struct config *);
/* Queue one JSON text and a newline. */
void		 control_send(struct client *, json_t *);
/* Queue an event; a subscriber over its cap gets events.dropped and is closed. */
void		 control_send_event(struct client *, json_t *event);
/* Close after what is queued has gone out (or after idle_ms, if the peer does not read). */
void		 control_close(struct client *);
struct client	*control_clients(void);
const char	*control_role_name(enum role);

#endif
