/*
 * control.h: the control socket. Accepts clients (SO_PEERCRED read at
 * accept), frames their input into lines, caps what each may send and
 * have queued, and hands each line to the dispatcher it was given
 * (control_set_dispatcher(): rpc.c's, set by rpc_init()). It knows
 * nothing of what a line means: what the dispatcher keeps of a client is
 * its session, an opaque pointer, and all it tells control is how many
 * answers the client still has due (control_hold, control_release).
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

enum role { ROLE_READ, ROLE_OPERATE, ROLE_ADMIN };

struct client {
	uint64_t		 id;
	int			 fd;
	struct evbuffer		*in;
	struct evbuffer		*out;
	struct event		*ev_read;
	struct event		*ev_write;	/* armed only while output waits */
	struct event		*ev_idle;	/* armed from a line's first byte to its end */
	bool			 mid_line;	/* ev_idle runs for the partial line kept */
	uint64_t		 line_deadline;	/* ... to then, monotonic ms */
	bool			 line_done;	/* a line was served since the last look */
	bool			 reading;
	bool			 writing;
	uid_t			 uid;
	gid_t			 gid;
	pid_t			 pid;
	char			 author[96];	/* "uid U pid P (comm)", made when first said */
	enum role		 role;
	bool			 subscribed;
	json_t			*topics;	/* NULL: every event */
	json_t			*follow_logs;	/* NULL: none; [] every service's; or names */
	uint64_t		 dropped;	/* events lost while over the cap */
	bool			 closing;
	uint64_t		 close_deadline; /* freed then, output or not */
	bool			 eof;		/* the peer is done sending; answers still due */
	unsigned		 npending;	/* answers still due (control_hold) */
	void			*session;	/* the dispatcher's, NULL until it makes one */
	struct event		*ev_close;
	struct client		*next;
};

/*
 * What control hands a client's lines to, set once (NULL: none). line()
 * gets each line, without its newline and CR, never empty. gone() is
 * called as a client is freed: its session, if any, goes. handover()
 * describes a client's session for the next image of a reexec (the
 * client's "rpc" member); adopt() makes it again there, before the
 * client's events run: -1 with err, and then nothing of it is kept.
 */
struct control_dispatcher {
	void	 (*line)(struct client *, const char *, size_t);
	void	 (*gone)(struct client *);
	json_t	*(*handover)(const struct client *);
	int	 (*adopt)(struct client *, const json_t *, char *err, size_t errlen);
};

void		 control_set_dispatcher(const struct control_dispatcher *);

int		 control_listen(struct event_base *, const struct config *);
/* Stop accepting, let each client's queued output go (a second at most), then done(). */
void		 control_drain(void (*done)(void));
/* Close every client at once. */
void		 control_shutdown(void);
/* After a reload: the access lists come from here now. */
void		 control_set_config(const struct config *);
/* Queue one JSON text and a newline. */
void		 control_send(struct client *, json_t *);
/* Close after what is queued has gone out (or after idle_ms, if the peer does not read). */
void		 control_close(struct client *);
/*
 * One more answer is due to the client, and one was given (or will never
 * be): a client that has sent all it had to say stays for its answers,
 * and leaves with its last one.
 */
void		 control_hold(struct client *);
void		 control_release(struct client *);
/* Events for the client from now on: those of topics (a list; NULL: every one). */
void		 control_subscribe(struct client *, json_t *topics);
/* An event to every subscriber whose topics cover it. */
void		 control_publish(json_t *event);
/*
 * Log lines for the client from now on: those of the services named
 * (a list, stolen; empty: every service's), as "service.log"
 * notifications (control-logs.c).
 */
void		 control_follow_logs(struct client *, json_t *names);
/* A line to every client that follows its service. */
void		 control_publish_log(const char *service, json_t *line);
/* How many clients follow log lines (none: no line is made for them). */
size_t		 control_log_followers(void);
struct client	*control_clients(void);
/* Who the client is, for warden's log: "uid 1000 pid 4242 (wardenctl)". */
const char	*control_author(struct client *);
const char	*control_role_name(enum role);

/*
 * Upgrade in place (reexec.h). control_handover(), just before the exec:
 * stop accepting (new peers wait in the backlog) and reading (their bytes
 * wait in the kernel), describe the listening socket and every client
 * with what it has sent and not been served, what it has not read yet and
 * its session (the dispatcher's handover()), and clear
 * close-on-exec on each fd named. Call it from the loop, not while a
 * request is being handled (a batch is described once it is whole).
 * Nothing is closed or freed, and nothing may be sent to clients after
 * it: the loop must not run again before the exec. NULL when there is
 * nothing to hand over (not listening, draining) or an fd cannot be kept
 * open across the exec. If the exec fails, control_handover_abort() puts
 * everything back as it was.
 */
json_t		*control_handover(void);
void		 control_handover_abort(void);
/* Free what control_handover() described, leaving its fds open (tests). */
void		 control_handover_release(void);
/*
 * In the new image, after rpc_init() and instead of control_listen():
 * take over the socket and the clients control_handover() described.
 * Their calls are tested, and the lines they had sent served, once the
 * loop runs. -1 with err naming what is wrong in the description;
 * nothing is kept then, and no fd is closed.
 */
int		 control_adopt(struct event_base *, const struct config *,
		    const json_t *desc, char *err, size_t errlen);

#endif
