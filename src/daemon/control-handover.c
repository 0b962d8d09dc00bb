/*
 * control-handover.c: the control socket handed over by a reexec (see
 * control.h).
 *
 * A reexec keeps every connection. The next image gets the fds and, for
 * each client, what lay between the kernel and the dispatcher: a partial
 * line, lines held back while its answers went unread, output the socket
 * had not taken, its deadlines (CLOCK_MONOTONIC ms, which go on across an
 * exec) and its session (the calls awaiting their answer), which the
 * dispatcher describes and makes again. What is still in the kernel's
 * buffers needs nothing: the sockets are the same.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "config.h"
#include "control.h"
#include "control-private.h"
#include "desc.h"
#include "log.h"
#include "util.h"

/* An evbuffer's bytes, as base64: input need not be UTF-8. */
static json_t *
control_b64(struct evbuffer *buf)
{
	size_t		 len = evbuffer_get_length(buf);
	unsigned char	*p = NULL;

	if (len > 0 && (p = evbuffer_pullup(buf, -1)) == NULL)
		fatalx("evbuffer_pullup");
	return desc_b64(p, len);
}

/* Stop the client's events, keeping the state they were armed for. */
static void
control_freeze(struct client *c)
{
	/* Handed over during a read: its answers so far are output. */
	control_unbatch(c);
	if (c->reading)
		event_del(c->ev_read);
	if (c->writing)
		event_del(c->ev_write);
	evtimer_del(c->ev_idle);
	if (c->ev_close != NULL)
		evtimer_del(c->ev_close);
}

static json_t *
control_describe(struct client *c)
{
	json_t	*o = json_object();

	json_object_set_new(o, "fd", json_integer(c->fd));
	json_object_set_new(o, "id", json_integer((json_int_t)c->id));
	json_object_set_new(o, "uid", json_integer((json_int_t)c->uid));
	json_object_set_new(o, "gid", json_integer((json_int_t)c->gid));
	json_object_set_new(o, "pid", json_integer(c->pid));
	json_object_set_new(o, "role", json_string(control_role_name(c->role)));
	json_object_set_new(o, "subscribed", json_boolean(c->subscribed));
	json_object_set_new(o, "topics", c->topics != NULL ?
	    json_deep_copy(c->topics) : json_null());
	if (c->follow_logs != NULL)
		json_object_set_new(o, "follow_logs",
		    json_deep_copy(c->follow_logs));
	json_object_set_new(o, "dropped", json_integer((json_int_t)c->dropped));
	json_object_set_new(o, "eof", json_boolean(c->eof));
	json_object_set_new(o, "reading", json_boolean(c->reading));
	json_object_set_new(o, "closing", json_boolean(c->closing));
	json_object_set_new(o, "close_deadline_ms", c->closing ?
	    json_integer((json_int_t)c->close_deadline) : json_null());
	json_object_set_new(o, "line_deadline_ms", c->mid_line ?
	    json_integer((json_int_t)c->line_deadline) : json_null());
	json_object_set_new(o, "input", control_b64(c->in));
	json_object_set_new(o, "output", control_b64(c->out));
	json_object_set_new(o, "rpc", control.dispatcher->handover(c));
	return o;
}

/* Close-on-exec on every fd handed over: off for the exec, on again after. */
static int
control_cloexec(bool on)
{
	struct client	*c;
	int		 rc = 0;

	if (util_set_cloexec(control.listen_fd, on) == -1) {
		log_warn("control socket: fd %d: close-on-exec", control.listen_fd);
		rc = -1;
	}
	for (c = control.clients; c != NULL; c = c->next)
		if (util_set_cloexec(c->fd, on) == -1) {
			log_warn("client %llu: fd %d: close-on-exec",
			    (unsigned long long)c->id, c->fd);
			rc = -1;
		}
	return rc;
}

json_t *
control_handover(void)
{
	struct client	*c;
	json_t		*desc, *list;

	if (control.listener == NULL || control.drained_cb != NULL ||
	    control.handed_over || control.dispatcher == NULL)
		return NULL;
	control.handed_over = true;
	/* Peers that connect now wait in the backlog for the next image. */
	evconnlistener_disable(control.listener);
	evtimer_del(control.ev_resume);
	list = json_array();
	for (c = control.clients; c != NULL; c = c->next) {
		control_freeze(c);
		json_array_append_new(list, control_describe(c));
	}
	desc = json_object();
	json_object_set_new(desc, "listen_fd", json_integer(control.listen_fd));
	json_object_set_new(desc, "path", json_string(control.sock_path));
	json_object_set_new(desc, "next_id", json_integer((json_int_t)control.next_id));
	json_object_set_new(desc, "clients", list);
	if (control_cloexec(false) == -1) {
		control_handover_abort();
		json_decref(desc);
		return NULL;
	}
	return desc;
}

/* Arm ev to fire at deadline (monotonic ms); one already past fires at once. */
static void
control_timer_at(struct event *ev, uint64_t deadline)
{
	uint64_t	now = util_now_ms();
	uint64_t	ms = deadline > now ? deadline - now : 0;
	struct timeval	tv = { (time_t)(ms / 1000),
			    (suseconds_t)(ms % 1000 * 1000) };

	if (evtimer_add(ev, &tv) == -1)
		fatalx("cannot arm a client's timer");
}

/*
 * Arm the client's events for the state it is in, after a handover
 * undone or adopted: its deadlines stay where they were.
 */
static void
control_arm(struct client *c, bool reading)
{
	c->reading = c->writing = false;
	if (c->closing) {
		if (c->ev_close == NULL)
			c->ev_close = evtimer_new(control.base, control_close_cb, c);
		if (c->ev_close == NULL)
			fatalx("cannot arm a close timer");
		control_timer_at(c->ev_close, c->close_deadline);
	}
	if (c->mid_line)
		control_timer_at(c->ev_idle, c->line_deadline);
	if (evbuffer_get_length(c->out) > 0)
		control_want_write(c);
	if (reading)
		control_start_reading(c);
}

void
control_handover_abort(void)
{
	struct client	*c;

	if (!control.handed_over)
		return;
	control.handed_over = false;
	/* Each failure is logged; an fd open across an exec harms nothing. */
	(void)control_cloexec(true);
	if (evconnlistener_enable(control.listener) == -1)
		log_warnx("control socket: cannot accept clients again");
	for (c = control.clients; c != NULL; c = c->next)
		control_arm(c, c->reading);
}

void
control_handover_release(void)
{
	struct client	*c;

	if (control.listener != NULL)
		evconnlistener_free(control.listener);
	control.listener = NULL;
	control.listen_fd = -1;
	if (control.ev_resume != NULL)
		event_free(control.ev_resume);
	control.ev_resume = NULL;
	if (control.ev_adopted != NULL)
		event_free(control.ev_adopted);
	control.ev_adopted = NULL;
	control.drained_cb = NULL;
	while ((c = control.clients) != NULL) {
		c->fd = -1;		/* the next image's */
		control_free(c);
	}
	free(control.sock_path);
	control.sock_path = NULL;
	control_buffers_free();
	control.handed_over = false;
}

/* An int socket option of fd, -1 when it cannot be read. */
static int
control_sockopt(int fd, int opt)
{
	socklen_t	len = sizeof(int);
	int		v;

	if (getsockopt(fd, SOL_SOCKET, opt, &v, &len) == -1)
		return -1;
	return v;
}

/* Is fd a local stream socket, listening or connected as asked? */
static int
control_check_socket(int fd, bool listening, const char *where, char *err,
    size_t errlen)
{
	struct stat	st;
	int		acc;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: fd %d: %s", where, fd,
		    strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: fd %d is not a socket", where, fd);
		return -1;
	}
	if (control_sockopt(fd, SO_DOMAIN) != AF_UNIX ||
	    control_sockopt(fd, SO_TYPE) != SOCK_STREAM) {
		snprintf(err, errlen, "%s: fd %d is not a local stream socket",
		    where, fd);
		return -1;
	}
	if ((acc = control_sockopt(fd, SO_ACCEPTCONN)) == -1 ||
	    (acc != 0) != listening) {
		snprintf(err, errlen, listening ? "%s: fd %d is not listening" :
		    "%s: fd %d is a listening socket, not a client's", where,
		    fd);
		return -1;
	}
	return 0;
}

/* Is fd bound to path? */
static int
control_check_bound(int fd, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un	sun;
	socklen_t		len = sizeof(sun);
	size_t			n;

	memset(&sun, 0, sizeof(sun));
	if (getsockname(fd, (struct sockaddr *)&sun, &len) == -1) {
		snprintf(err, errlen, "control.listen_fd: fd %d: %s", fd,
		    strerror(errno));
		return -1;
	}
	n = len > offsetof(struct sockaddr_un, sun_path) ?
	    len - offsetof(struct sockaddr_un, sun_path) : 0;
	n = strnlen(sun.sun_path, n < sizeof(sun.sun_path) ? n :
	    sizeof(sun.sun_path));
	if (n != strlen(path) || memcmp(sun.sun_path, path, n) != 0) {
		snprintf(err, errlen, "control.listen_fd: fd %d is bound to "
		    "\"%.*s\", not %s", fd, (int)n, sun.sun_path, path);
		return -1;
	}
	return 0;
}

/* The socket itself: the same inode, still bound; nothing to unlink or bind. */
static int
control_adopt_listener(const json_t *desc, char *err, size_t errlen)
{
	const char	*path;
	json_int_t	 fd;

	if (desc_int(desc, "control", "listen_fd", 0, INT_MAX, &fd, err,
	    errlen) == -1 ||
	    desc_string(desc, "control", "path", &path, err, errlen) == -1 ||
	    control_check_socket((int)fd, true, "control.listen_fd", err,
	    errlen) == -1 ||
	    control_check_bound((int)fd, path, err, errlen) == -1)
		return -1;
	if (util_set_nonblock((int)fd, true) == -1 ||
	    util_set_cloexec((int)fd, true) == -1) {
		snprintf(err, errlen, "control.listen_fd: fd %d: %s", (int)fd,
		    strerror(errno));
		return -1;
	}
	if (strcmp(path, control.conf->socket) != 0)
		log_warnx("%s: kept from before the reexec; the socket "
		    "configured now, %s, takes a restart", path, control.conf->socket);
	/* Listening already: backlog 0 leaves it as it is. */
	control.listener = evconnlistener_new(control.base, control_accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_EXEC, 0, (evutil_socket_t)fd);
	if (control.listener == NULL) {
		snprintf(err, errlen, "control.listen_fd: cannot accept on "
		    "fd %d", (int)fd);
		return -1;
	}
	evconnlistener_set_error_cb(control.listener, control_accept_error_cb);
	control.ev_resume = evtimer_new(control.base, control_resume_cb, NULL);
	if (control.ev_resume == NULL)
		fatalx("cannot create the resume timer");
	control.listen_fd = (int)fd;
	control.sock_path = xstrdup(path);
	return 0;
}

/* A client as described, every member checked. */
struct client_desc {
	json_int_t	 fd, id, uid, gid, pid, dropped, line_ms, close_ms;
	bool		 subscribed, eof, reading, closing;
	bool		 mid_line, has_close;
	enum role	 role;
	json_t		*topics, *rpc;
	json_t		*follow_logs;	/* NULL: not following */
};

static int
control_desc_role(const json_t *d, const char *where, enum role *r, char *err,
    size_t errlen)
{
	const char	*name;

	if (desc_string(d, where, "role", &name, err, errlen) == -1)
		return -1;
	for (*r = ROLE_READ; *r <= ROLE_ADMIN; (*r)++)
		if (strcmp(name, control_role_name(*r)) == 0)
			return 0;
	snprintf(err, errlen, "%s.role: must be read, operate or admin", where);
	return -1;
}

/* null (every event), or a list of topics as subscribe takes them. */
static int
control_desc_topics(const json_t *d, const char *where, json_t **out,
    char *err, size_t errlen)
{
	json_t	*t = json_object_get(d, "topics"), *v;
	size_t	 i;

	*out = NULL;
	if (t == NULL) {
		snprintf(err, errlen, "%s.topics: missing", where);
		return -1;
	}
	if (json_is_null(t))
		return 0;
	if (!json_is_array(t))
		goto bad;
	json_array_foreach(t, i, v)
		if (!json_is_string(v) || json_string_length(v) == 0)
			goto bad;
	*out = json_array_size(t) > 0 ? t : NULL;
	return 0;
bad:
	snprintf(err, errlen, "%s.topics: must be null or a list of topics",
	    where);
	return -1;
}

/* Absent (an older image's, or not following), or a list of names. */
static int
control_desc_follow(const json_t *d, const char *where, json_t **out,
    char *err, size_t errlen)
{
	json_t	*t = json_object_get(d, "follow_logs"), *v;
	size_t	 i;

	*out = NULL;
	if (t == NULL)
		return 0;
	if (!json_is_array(t))
		goto bad;
	json_array_foreach(t, i, v)
		if (!json_is_string(v))
			goto bad;
	*out = t;
	return 0;
bad:
	snprintf(err, errlen, "%s.follow_logs: must be a list of names", where);
	return -1;
}

static int
control_desc_client(const json_t *d, const char *where, struct client_desc *cd,
    char *err, size_t errlen)
{
	if (desc_int(d, where, "fd", 0, INT_MAX, &cd->fd, err, errlen) == -1 ||
	    desc_int(d, where, "id", 1, INT64_MAX, &cd->id, err,
	    errlen) == -1 ||
	    desc_int(d, where, "uid", 0, (uid_t)-1, &cd->uid, err,
	    errlen) == -1 ||
	    desc_int(d, where, "gid", 0, (gid_t)-1, &cd->gid, err,
	    errlen) == -1 ||
	    desc_int(d, where, "pid", 0, INT_MAX, &cd->pid, err,
	    errlen) == -1 ||
	    control_desc_role(d, where, &cd->role, err, errlen) == -1 ||
	    desc_bool(d, where, "subscribed", &cd->subscribed, err,
	    errlen) == -1 ||
	    control_desc_topics(d, where, &cd->topics, err, errlen) == -1 ||
	    control_desc_follow(d, where, &cd->follow_logs, err, errlen) == -1 ||
	    desc_int(d, where, "dropped", 0, INT64_MAX, &cd->dropped, err,
	    errlen) == -1 ||
	    desc_bool(d, where, "eof", &cd->eof, err, errlen) == -1 ||
	    desc_bool(d, where, "reading", &cd->reading, err, errlen) == -1 ||
	    desc_bool(d, where, "closing", &cd->closing, err, errlen) == -1 ||
	    desc_opt_int(d, where, "close_deadline_ms", 0, INT64_MAX,
	    &cd->close_ms, &cd->has_close, err, errlen) == -1 ||
	    desc_opt_int(d, where, "line_deadline_ms", 0, INT64_MAX,
	    &cd->line_ms, &cd->mid_line, err, errlen) == -1 ||
	    desc_object(d, where, "rpc", &cd->rpc, err, errlen) == -1)
		return -1;
	if (cd->closing && !cd->has_close) {
		snprintf(err, errlen, "%s.close_deadline_ms: a closing "
		    "client's is needed", where);
		return -1;
	}
	return 0;
}

/* A client's fd: a connected local socket, nobody else's here, of its peer. */
static int
control_desc_fd(const struct client_desc *cd, const char *where, char *err,
    size_t errlen)
{
	struct client	*c;
	struct ucred	 uc;
	socklen_t	 len = sizeof(uc);
	char		 w[64];
	int		 fd = (int)cd->fd;

	snprintf(w, sizeof(w), "%s.fd", where);
	if (fd == control.listen_fd) {
		snprintf(err, errlen, "%s: fd %d is the listening socket", w,
		    fd);
		return -1;
	}
	for (c = control.clients; c != NULL; c = c->next)
		if (c->fd == fd) {
			snprintf(err, errlen, "%s: fd %d is client %llu's too",
			    w, fd, (unsigned long long)c->id);
			return -1;
		}
	if (control_check_socket(fd, false, w, err, errlen) == -1)
		return -1;
	if ((uid_t)cd->uid != (uid_t)-1 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 &&
	    uc.uid != (uid_t)cd->uid) {
		snprintf(err, errlen, "%s: fd %d has a peer of uid %ld, not "
		    "%lld", w, fd, (long)uc.uid, (long long)cd->uid);
		return -1;
	}
	if (util_set_nonblock(fd, true) == -1 ||
	    util_set_cloexec(fd, true) == -1) {
		snprintf(err, errlen, "%s: fd %d: %s", w, fd, strerror(errno));
		return -1;
	}
	return 0;
}

/* Bytes handed over into an evbuffer. */
static int
control_desc_buffer(const json_t *d, const char *where, const char *key,
    struct evbuffer *buf, char *err, size_t errlen)
{
	char	*bytes;
	size_t	 len;
	int	 rc;

	if (desc_bytes(d, where, key, &bytes, &len, err, errlen) == -1)
		return -1;
	rc = evbuffer_add(buf, bytes, len);
	free(bytes);
	if (rc == -1)
		fatalx("out of memory for a client's buffers");
	return 0;
}

/* The client itself, linked last; its events wait for control_adopted(). */
static struct client *
control_new_adopted(const struct client_desc *cd)
{
	struct client	*c, **pp;

	c = xcalloc(1, sizeof(*c));
	c->id = (uint64_t)cd->id;
	c->fd = (int)cd->fd;
	c->uid = (uid_t)cd->uid;
	c->gid = (gid_t)cd->gid;
	c->pid = (pid_t)cd->pid;
	c->role = cd->role;
	c->subscribed = cd->subscribed;
	c->topics = cd->topics != NULL ? json_deep_copy(cd->topics) : NULL;
	if (cd->follow_logs != NULL)
		control_follow_logs(c, json_deep_copy(cd->follow_logs));
	c->dropped = (uint64_t)cd->dropped;
	c->reading = cd->reading;	/* what control_arm() makes of it */
	c->closing = cd->closing;
	c->close_deadline = (uint64_t)cd->close_ms;
	c->mid_line = cd->mid_line;
	c->line_deadline = (uint64_t)cd->line_ms;
	for (pp = &control.clients; *pp != NULL; pp = &(*pp)->next)
		continue;
	*pp = c;
	control.nclients++;
	if (control_client_events(c) == -1)
		fatalx("cannot set up a client");
	return c;
}

static int
control_adopt_client(const json_t *d, size_t idx, char *err, size_t errlen)
{
	struct client_desc	 cd;
	struct client		*c;
	char			 where[32], why[1024];

	snprintf(where, sizeof(where), "clients[%zu]", idx);
	memset(&cd, 0, sizeof(cd));
	if (!json_is_object(d)) {
		snprintf(err, errlen, "%s: must be an object", where);
		return -1;
	}
	if (control_desc_client(d, where, &cd, err, errlen) == -1 ||
	    control_desc_fd(&cd, where, err, errlen) == -1)
		return -1;
	c = control_new_adopted(&cd);
	if (control_desc_buffer(d, where, "input", c->in, err, errlen) == -1 ||
	    control_desc_buffer(d, where, "output", c->out, err, errlen) == -1)
		return -1;
	if (control.dispatcher == NULL) {
		snprintf(err, errlen, "%s.rpc: nothing here takes its calls", where);
		return -1;
	}
	if (control.dispatcher->adopt(c, cd.rpc, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s.%s", where, why);
		return -1;
	}
	/* Only now: a call dropped above must not close it. */
	c->eof = cd.eof;
	if (c->id >= control.next_id)
		control.next_id = c->id + 1;
	return 0;
}

/* Once every client is in place: its events. */
static void
control_adopted(struct client *c)
{
	control_arm(c, c->reading);
	/* Said all it had to say, and nothing left to answer: it goes. */
	if (c->eof && !c->closing && c->npending == 0)
		control_close(c);
}

/*
 * The loop's first turn in the new image, with all of warden adopted:
 * the lines clients had sent and that were not served yet, as if just
 * read (a paused client's, once its output has drained).
 */
static void
control_adopted_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c, *next;

	(void)fd;
	(void)what;
	(void)arg;
	/* Serving a client frees none but that one. */
	for (c = control.clients; c != NULL; c = next) {
		next = c->next;
		if (c->reading)
			control_serve(c, NULL, 0);
		else
			control_maybe_resume(c);
	}
}

int
control_adopt(struct event_base *b, const struct config *cf, const json_t *desc,
    char *err, size_t errlen)
{
	struct client	*c, *next;
	json_t		*list, *v;
	json_int_t	 nid;
	size_t		 i;

	if (control.listener != NULL || control.clients != NULL) {
		snprintf(err, errlen, "control: the socket is set up already");
		return -1;
	}
	control.base = b;
	control.conf = cf;
	if (!json_is_object(desc)) {
		snprintf(err, errlen, "control: must be an object");
		return -1;
	}
	if (desc_int(desc, "control", "next_id", 1, INT64_MAX, &nid, err,
	    errlen) == -1 ||
	    desc_array(desc, "control", "clients", &list, err, errlen) == -1 ||
	    control_adopt_listener(desc, err, errlen) == -1)
		goto fail;
	control.next_id = (uint64_t)nid;
	json_array_foreach(list, i, v)
		if (control_adopt_client(v, i, err, errlen) == -1)
			goto fail;
	for (c = control.clients; c != NULL; c = next) {
		next = c->next;
		control_adopted(c);
	}
	control.ev_adopted = event_new(control.base, -1, 0, control_adopted_cb, NULL);
	if (control.ev_adopted == NULL)
		fatalx("cannot create the adoption's event");
	event_active(control.ev_adopted, EV_TIMEOUT, 0);
	log_info("listening on %s, with %zu client(s) handed over", control.sock_path,
	    control.nclients);
	return 0;
fail:
	control_handover_release();
	return -1;
}
