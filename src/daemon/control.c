/*
 * control.c: the control socket (see control.h).
 *
 * Nothing a client does can stall the loop: input is read as it comes and
 * cut into lines, a line over limits.max_line_bytes or a line not complete
 * limits.idle_ms after its first byte gets an error and is closed, a
 * client that does not read its answers stops being read (backpressure)
 * and a subscriber that does not read its events is dropped. Past
 * limits.max_clients a new client gets an error and is closed; on EMFILE
 * accepting pauses for a moment instead of spinning. The limits come from
 * warden.json (see warden.json(5)), with the defaults of SPEC 5.
 *
 * A reexec hands the socket and every client to the next image, which
 * goes on where this one stopped (control_handover, control_adopt).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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
#include "desc.h"
#include "jsonout.h"
#include "log.h"
#include "rpc.h"
#include "util.h"

static struct event_base	*base;
static const struct config	*conf;
static struct evconnlistener	*listener;
static int			 listen_fd = -1;
static bool			 handed_over;	/* frozen for an exec */
static struct event		*ev_adopted;	/* serves what waited */
static struct event		*ev_resume;
static void			(*drained_cb)(void);
static struct client		*clients;
static size_t			 nclients;
static uint64_t			 next_id = 1;
static char			*sock_path;

const char *
control_role_name(enum role r)
{
	switch (r) {
	case ROLE_READ:
		return "read";
	case ROLE_OPERATE:
		return "operate";
	case ROLE_ADMIN:
		return "admin";
	}
	return "?";
}

struct client *
control_clients(void)
{
	return clients;
}

/* --- roles ------------------------------------------------------------------ */

/*
 * The peer's groups as they were when it connected: SO_PEERGROUPS (Linux
 * 4.13) records them with the connection, so a peer that exits and whose
 * pid is reused cannot lend us another process's groups, as reading
 * /proc/PID/status at accept time could.
 */
struct peer {
	uid_t	 uid;
	gid_t	 gid;
	gid_t	*groups;
	size_t	 ngroups;
};

static void
control_peer_groups(int fd, struct peer *p)
{
	socklen_t	len = 32 * sizeof(gid_t);

	p->groups = NULL;
	p->ngroups = 0;
	for (;;) {
		p->groups = xreallocarray(p->groups, len / sizeof(gid_t) + 1,
		    sizeof(gid_t));
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, p->groups, &len) == 0) {
			p->ngroups = len / sizeof(gid_t);
			return;
		}
		if (errno != ERANGE)
			break;
	}
	/* No SO_PEERGROUPS: the primary group alone decides. */
	log_debug("SO_PEERGROUPS: %s; supplementary groups not considered",
	    strerror(errno));
	p->ngroups = 0;
}

static bool
control_peer_in_group(const struct peer *p, gid_t want)
{
	size_t	i;

	if (p->gid == want)
		return true;
	for (i = 0; i < p->ngroups; i++)
		if (p->groups[i] == want)
			return true;
	return false;
}

static bool
control_listed(const struct access_list *a, const struct peer *p)
{
	struct group	*gr;
	size_t		 i;

	for (i = 0; i < a->nuids; i++)
		if (a->uids[i] == p->uid)
			return true;
	for (i = 0; i < a->ngroups; i++) {
		if ((gr = getgrnam(a->groups[i])) == NULL)
			continue;
		if (control_peer_in_group(p, gr->gr_gid))
			return true;
	}
	return false;
}

static enum role
control_peer_role(const struct peer *p)
{
	if (p->uid == 0 || p->uid == geteuid())
		return ROLE_ADMIN;
	if (control_listed(&conf->admin, p))
		return ROLE_ADMIN;
	if (control_listed(&conf->operate, p))
		return ROLE_OPERATE;
	return ROLE_READ;
}

/* --- clients ------------------------------------------------------------------ */

/*
 * Each client is an fd with a read event, a write event that is armed only
 * while output waits, and two evbuffers that are empty most of the time.
 * A read goes into one static buffer and its whole lines are handed to
 * rpc.c from there; the answers to them collect in another static buffer
 * and go out in one write at the end of the read. So a request costs one
 * read and one write, no change to the epoll set and no buffer of its own;
 * only a partial line, or output the socket did not take, is kept in the
 * client's evbuffers. Output queued from anywhere else (events, a wait
 * answered later) is written when the socket is writable, several at once.
 */

static char		read_buf[65536];
/* The line being built, and the answers to the read being served. */
static struct jsonout	line_buf, batch;
static struct client	*batching;	/* whose answers are in batch */

static size_t
control_output(const struct client *c)
{
	return evbuffer_get_length(c->out) + (batching == c ? batch.len : 0);
}

static void
control_free(struct client *c)
{
	struct client	**pp;

	for (pp = &clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	nclients--;
	if (batching == c)
		batching = NULL;
	rpc_client_gone(c);
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	if (c->ev_idle != NULL)
		event_free(c->ev_idle);
	if (c->ev_close != NULL)
		event_free(c->ev_close);
	if (c->in != NULL)
		evbuffer_free(c->in);
	if (c->out != NULL)
		evbuffer_free(c->out);
	if (c->fd != -1)
		close(c->fd);
	json_decref(c->topics);
	free(c);
	if (drained_cb != NULL && clients == NULL) {
		void	(*cb)(void) = drained_cb;

		drained_cb = NULL;
		cb();
		return;
	}
	/* A slot is free again: accept if we had paused for the limit. */
	if (listener != NULL && ev_resume != NULL && !handed_over &&
	    !evtimer_pending(ev_resume, NULL))
		evconnlistener_enable(listener);
}

static void
control_close_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	control_free(arg);
}

static void
control_stop_reading(struct client *c)
{
	if (c->reading) {
		event_del(c->ev_read);
		c->reading = false;
	}
	if (c->ev_idle != NULL)
		evtimer_del(c->ev_idle);
	c->mid_line = false;
}

static void
control_start_reading(struct client *c)
{
	if (!c->reading && event_add(c->ev_read, NULL) == 0)
		c->reading = true;
}

/* Output waits for the socket: write it when the socket takes more. */
static void
control_want_write(struct client *c)
{
	if (!c->writing && event_add(c->ev_write, NULL) == 0)
		c->writing = true;
}

static bool
control_write_failed(struct client *c)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return false;
	if (errno != ECONNRESET && errno != EPIPE)
		log_debug("client %llu: write: %s", (unsigned long long)c->id,
		    strerror(errno));
	return true;
}

/* Write what the evbuffer holds, as far as the socket takes it; -1: the peer is gone. */
static int
control_write_out(struct client *c)
{
	int	n;

	if (evbuffer_get_length(c->out) == 0)
		return 0;
	do
		n = evbuffer_write(c->out, c->fd);
	while (n == -1 && errno == EINTR);
	return n == -1 && control_write_failed(c) ? -1 : 0;
}

/*
 * Write the answers collected during a read straight from the batch; what
 * the socket does not take goes into the client's evbuffer. Returns -1
 * when the write failed for good.
 */
static int
control_flush_batch(struct client *c)
{
	ssize_t	n = 0;

	if (batching != c)
		return 0;
	batching = NULL;
	if (batch.len == 0)
		return 0;
	do
		n = send(c->fd, batch.buf, batch.len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (control_write_failed(c))
			return -1;
		n = 0;
	}
	if ((size_t)n < batch.len &&
	    evbuffer_add(c->out, batch.buf + n, batch.len - (size_t)n) == -1)
		log_warnx("client %llu: out of memory for output",
		    (unsigned long long)c->id);
	jsonout_reset(&batch);
	return 0;
}

/*
 * Write what is queued, as far as the socket takes it. Returns -1 when the
 * client is gone (the peer reset, or it was closing and is now drained):
 * the caller must not touch it again.
 */
static int
control_flush(struct client *c)
{
	if (control_flush_batch(c) == -1) {
		control_free(c);
		return -1;
	}
	if (control_write_out(c) == -1) {
		control_free(c);
		return -1;
	}
	if (evbuffer_get_length(c->out) > 0) {
		control_want_write(c);
		return 0;
	}
	if (c->writing) {
		event_del(c->ev_write);
		c->writing = false;
	}
	if (c->closing) {
		control_free(c);
		return -1;
	}
	return 0;
}

static void	control_serve(struct client *, const char *, size_t);

/* Paused for output that has since drained below the low-water mark? */
static bool
control_may_resume(const struct client *c)
{
	return !c->closing && !c->eof && !c->reading &&
	    control_output(c) <= (size_t)conf->limits.max_output_bytes / 2;
}

/*
 * Write queued output at once, outside the write callback; a peer that is
 * gone is closed (freed from the loop, never under the caller's feet).
 */
static void
control_write_now(struct client *c)
{
	if (control_write_out(c) == -1) {
		evbuffer_drain(c->out, evbuffer_get_length(c->out));
		control_close(c);
	}
}

/*
 * Under the low-water mark again: read the client's requests again,
 * starting with the whole lines that arrived while it was paused.
 */
static void
control_maybe_resume(struct client *c)
{
	if (!control_may_resume(c))
		return;
	control_start_reading(c);
	control_serve(c, NULL, 0);
}

static void
control_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;

	(void)fd;
	(void)what;
	if (control_flush(c) == 0)
		control_maybe_resume(c);
}

/*
 * Free once the output is gone (an error, an events.dropped: the last
 * word), or after grace_ms if the peer does not read it.
 */
static void
control_close_within(struct client *c, int grace_ms)
{
	struct timeval	tv = { grace_ms / 1000, (grace_ms % 1000) * 1000 };

	if (c->closing)
		return;
	c->closing = true;
	control_stop_reading(c);
	if (control_output(c) == 0)
		tv.tv_sec = tv.tv_usec = 0;
	else if (batching != c)
		control_want_write(c);
	if (c->ev_close == NULL)
		c->ev_close = evtimer_new(base, control_close_cb, c);
	if (c->ev_close == NULL || evtimer_add(c->ev_close, &tv) == -1)
		fatalx("cannot arm a close timer");
	c->close_deadline = util_now_ms() + (uint64_t)tv.tv_sec * 1000 +
	    (uint64_t)tv.tv_usec / 1000;
}

void
control_close(struct client *c)
{
	control_close_within(c, conf->limits.idle_ms);
}

static void
control_queue(struct client *c, json_t *msg)
{
	/* Serving this client's read: its answers go out together at the end. */
	if (batching == c) {
		jsonout_append(&batch, msg);
		jsonout_raw(&batch, "\n", 1);
		return;
	}
	jsonout_reset(&line_buf);
	jsonout_append(&line_buf, msg);
	jsonout_raw(&line_buf, "\n", 1);
	if (evbuffer_add(c->out, line_buf.buf, line_buf.len) == -1)
		log_warnx("client %llu: out of memory for output",
		    (unsigned long long)c->id);
	control_want_write(c);
}

void
control_send(struct client *c, json_t *msg)
{
	if (c->closing)
		return;
	control_queue(c, msg);
	/* A client that sends and never reads stops being read, not served forever. */
	if (control_output(c) > (size_t)conf->limits.max_output_bytes)
		control_stop_reading(c);
}

void
control_send_event(struct client *c, json_t *event)
{
	json_t	*note, *params;

	if (c->closing)
		return;
	/* Over the cap may only mean the loop has not written yet: try now. */
	if (control_output(c) > (size_t)conf->limits.subscriber_queue_bytes &&
	    batching != c)
		control_write_now(c);
	if (c->closing)
		return;
	if (control_output(c) > (size_t)conf->limits.subscriber_queue_bytes) {
		/* Too slow: one events.dropped, then the door. */
		params = json_pack("{s:s,s:I,s:I}", "type", "events.dropped",
		    "dropped", (json_int_t)1,
		    "seq", json_integer_value(json_object_get(event, "seq")));
		note = json_pack("{s:s,s:s,s:o}", "jsonrpc", "2.0", "method", "event",
		    "params", params);
		control_queue(c, note);
		json_decref(note);
		log_warnx("client %llu (pid %ld): too slow to read events, disconnected",
		    (unsigned long long)c->id, (long)c->pid);
		control_close(c);
		return;
	}
	note = json_pack("{s:s,s:s,s:O}", "jsonrpc", "2.0", "method", "event",
	    "params", event);
	control_queue(c, note);
	json_decref(note);
}

static void
control_reject(struct client *c, const char *fmt, const char *what)
{
	json_t	*err;

	err = rpc_error_response(NULL, RPC_INVALID_REQUEST, fmt, what);
	control_send(c, err);
	json_decref(err);
	control_close(c);
}

static void
control_reject_long(struct client *c)
{
	char	num[32];

	snprintf(num, sizeof(num), "%d", conf->limits.max_line_bytes);
	control_reject(c, "request line over %s bytes", num);
}

static void
control_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;
	char		 num[32];

	(void)fd;
	(void)what;
	if (c->closing)
		return;
	snprintf(num, sizeof(num), "%d", conf->limits.idle_ms);
	control_reject(c, "request line not complete within %s ms", num);
	control_flush(c);
}

/* One line, without its LF; false when the client cannot take more now. */
static bool
control_line(struct client *c, const char *line, size_t len)
{
	if (len > (size_t)conf->limits.max_line_bytes) {
		control_reject_long(c);
		return false;
	}
	c->line_done = true;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > 0)
		rpc_handle(c, line, len);
	/* Answers piling up unread: stop here, the rest waits for the drain. */
	if (control_output(c) > (size_t)conf->limits.max_output_bytes)
		control_stop_reading(c);
	return !c->closing && c->reading;
}

/* The whole lines kept in the client's input buffer. */
static void
control_buffered_lines(struct client *c)
{
	struct evbuffer_ptr	 eol;
	size_t			 eol_len, len;
	char			*line;
	bool			 more;

	while (!c->closing && c->reading) {
		eol = evbuffer_search_eol(c->in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos == -1)
			break;
		len = (size_t)eol.pos;
		if (len > (size_t)conf->limits.max_line_bytes) {
			control_reject_long(c);
			return;
		}
		line = (char *)evbuffer_pullup(c->in, (ev_ssize_t)(len + eol_len));
		if (line == NULL)
			fatalx("evbuffer_pullup");
		more = control_line(c, line, len);
		evbuffer_drain(c->in, len + eol_len);
		if (!more)
			break;
	}
}

/* The whole lines at p[0..n), from where they lie; returns the bytes used. */
static size_t
control_fresh_lines(struct client *c, const char *p, size_t n)
{
	const char	*nl;
	size_t		 used = 0, len;

	while (used < n && !c->closing && c->reading &&
	    (nl = memchr(p + used, '\n', n - used)) != NULL) {
		len = (size_t)(nl - (p + used));
		control_line(c, p + used, len);
		used += len + 1;
	}
	return used;
}

/*
 * A partial line kept: the client has limits.idle_ms from its first byte
 * to send the rest. Bytes that trickle in do not move the deadline; a
 * line that ends does, for the next one.
 */
static void
control_line_deadline(struct client *c)
{
	struct timeval	tv = { conf->limits.idle_ms / 1000,
			    (conf->limits.idle_ms % 1000) * 1000 };

	if (evbuffer_get_length(c->in) == 0) {
		if (c->mid_line)
			evtimer_del(c->ev_idle);
		c->mid_line = false;
	} else if (!c->mid_line || c->line_done) {
		if (evtimer_add(c->ev_idle, &tv) == -1)
			fatalx("cannot arm a line timer");
		c->line_deadline = util_now_ms() +
		    (uint64_t)conf->limits.idle_ms;
		c->mid_line = true;
	}
	c->line_done = false;
}

/*
 * Serve fresh input p[0..n) (none: only what is buffered). With nothing
 * buffered before it, whole lines are served from p where they lie and
 * only the rest is kept. When answers fill max_output_bytes reading
 * pauses; if the socket then takes them all at once, serving goes on with
 * the lines that waited, else it resumes once the socket has drained.
 */
static void
control_serve(struct client *c, const char *p, size_t n)
{
	size_t	used;

	for (;;) {
		if (evbuffer_get_length(c->out) == 0)
			batching = c;
		if (n > 0 && evbuffer_get_length(c->in) > 0) {
			if (evbuffer_add(c->in, p, n) == -1)
				fatalx("out of memory for input");
			n = 0;
		}
		control_buffered_lines(c);
		used = control_fresh_lines(c, p, n);
		if (used < n && !c->closing &&
		    evbuffer_add(c->in, p + used, n - used) == -1)
			fatalx("out of memory for input");
		n = 0;
		if (!c->closing && !c->eof && c->reading) {
			if (evbuffer_get_length(c->in) >
			    (size_t)conf->limits.max_line_bytes)
				control_reject_long(c);
			else
				control_line_deadline(c);
		}
		if (control_flush(c) == -1)
			return;
		if (!control_may_resume(c))
			return;
		control_start_reading(c);
	}
}

/* The peer has sent all it will: answer what is due, then close. */
static void
control_eof(struct client *c)
{
	control_stop_reading(c);
	if (rpc_client_busy(c))
		c->eof = true;		/* a wait, say: rpc.c closes after the answer */
	else
		control_close(c);
	control_flush(c);
}

static void
control_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client	*c = arg;
	ssize_t		 n;

	(void)what;
	do
		n = read(fd, read_buf, sizeof(read_buf));
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (errno != ECONNRESET)
			log_debug("client %llu: read: %s", (unsigned long long)c->id,
			    strerror(errno));
		control_free(c);
		return;
	}
	if (n == 0)
		control_eof(c);
	else
		control_serve(c, read_buf, (size_t)n);
}

static void
control_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct client	*c;
	struct ucred	 uc;
	struct peer	 peer;
	socklen_t	 uclen = sizeof(uc);

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	c = xcalloc(1, sizeof(*c));
	c->id = next_id++;
	c->fd = fd;
	TAILQ_INIT(&c->pending);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &uclen) == -1) {
		log_warn("SO_PEERCRED");
		uc.uid = (uid_t)-1;
		uc.gid = (gid_t)-1;
		uc.pid = 0;
	}
	c->uid = uc.uid;
	c->gid = uc.gid;
	c->pid = uc.pid;
	peer.uid = c->uid;
	peer.gid = c->gid;
	control_peer_groups(fd, &peer);
	c->role = control_peer_role(&peer);
	free(peer.groups);
	c->next = clients;
	clients = c;
	nclients++;
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, control_read_cb, c);
	c->ev_write = event_new(base, fd, EV_WRITE | EV_PERSIST, control_write_cb, c);
	c->ev_idle = evtimer_new(base, control_idle_cb, c);
	if (c->in == NULL || c->out == NULL || c->ev_read == NULL ||
	    c->ev_write == NULL || c->ev_idle == NULL) {
		log_warnx("cannot set up a client");
		control_free(c);
		return;
	}
	control_start_reading(c);
	log_debug("client %llu: uid %ld pid %ld, role %s", (unsigned long long)c->id,
	    (long)c->uid, (long)c->pid, control_role_name(c->role));
	if (nclients > (size_t)conf->limits.max_clients) {
		char	num[32];

		log_warnx("client %llu: over %d clients, refused",
		    (unsigned long long)c->id, conf->limits.max_clients);
		snprintf(num, sizeof(num), "%d", conf->limits.max_clients);
		control_reject(c, "too many clients (limit %s)", num);
	}
}

static void
control_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	evconnlistener_enable(listener);
}

static void
control_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct timeval	tv = { 0, 200000 };
	int		err = EVUTIL_SOCKET_ERROR();

	(void)arg;
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		/* Out of fds: pause instead of spinning on a ready listener. */
		log_warnx("accept: %s; pausing new clients", strerror(err));
		evconnlistener_disable(l);
		evtimer_add(ev_resume, &tv);
		return;
	}
	if (err != EINTR && err != EAGAIN && err != ECONNABORTED)
		log_warnx("accept: %s", strerror(err));
}

/* Is a warden already answering on this path? */
static bool
control_socket_live(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return false;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strncpy(sun.sun_path, path, sizeof(sun.sun_path) - 1);
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return r == 0;
}

/* The socket's folder, when it does not exist yet (one level, mode 0755). */
static int
control_make_folder(const char *path)
{
	char	*dir = xstrdup(path), *slash = strrchr(dir, '/');
	int	 r = 0;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			log_warn("mkdir %s", dir);
			r = -1;
		}
	}
	free(dir);
	return r;
}

int
control_listen(struct event_base *b, const struct config *c)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old;
	int			 fd;

	base = b;
	conf = c;
	if (strlen(c->socket) >= sizeof(sun.sun_path)) {
		log_warnx("socket path %s: longer than %zu bytes", c->socket,
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	if (control_make_folder(c->socket) == -1)
		return -1;
	if (lstat(c->socket, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("%s: exists and is not a socket", c->socket);
			return -1;
		}
		if (control_socket_live(c->socket)) {
			log_warnx("%s: another warden is answering there", c->socket);
			return -1;
		}
		/* A stale socket of a warden that is gone. */
		if (unlink(c->socket) == -1) {
			log_warn("unlink %s", c->socket);
			return -1;
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		log_warn("socket");
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, c->socket, strlen(c->socket));
	/* Never a moment with wider access than asked for. */
	old = umask(0777 & ~c->socket_mode);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		log_warn("bind %s", c->socket);
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(c->socket, c->socket_mode) == -1)
		log_warn("chmod %s", c->socket);
	/* Not closed with the listener: a reexec keeps it open. */
	listener = evconnlistener_new(base, control_accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_EXEC, 128, fd);
	if (listener == NULL) {
		log_warnx("cannot listen on %s", c->socket);
		close(fd);
		unlink(c->socket);
		return -1;
	}
	listen_fd = fd;
	evconnlistener_set_error_cb(listener, control_accept_error_cb);
	ev_resume = evtimer_new(base, control_resume_cb, NULL);
	if (ev_resume == NULL)
		fatalx("cannot create the resume timer");
	sock_path = xstrdup(c->socket);
	log_info("listening on %s", c->socket);
	return 0;
}

void
control_drain(void (*done)(void))
{
	struct client	*c, *next;

	if (listener != NULL)
		evconnlistener_disable(listener);
	if (ev_resume != NULL)
		evtimer_del(ev_resume);
	if (clients == NULL) {
		done();
		return;
	}
	drained_cb = done;
	for (c = clients; c != NULL; c = next) {
		next = c->next;
		control_close_within(c, 1000);
	}
}

void
control_set_config(const struct config *c)
{
	conf = c;
}

void
control_shutdown(void)
{
	struct client	*c;

	drained_cb = NULL;
	while ((c = clients) != NULL)
		control_free(c);
	if (listener != NULL)
		evconnlistener_free(listener);
	listener = NULL;
	if (listen_fd != -1)
		close(listen_fd);
	listen_fd = -1;
	if (ev_resume != NULL)
		event_free(ev_resume);
	ev_resume = NULL;
	if (ev_adopted != NULL)
		event_free(ev_adopted);
	ev_adopted = NULL;
	if (sock_path != NULL && unlink(sock_path) == -1 && errno != ENOENT)
		log_warn("unlink %s", sock_path);
	free(sock_path);
	sock_path = NULL;
	jsonout_free(&line_buf);
	jsonout_free(&batch);
}

/* --- handover ----------------------------------------------------------- */

/*
 * A reexec keeps every connection. The next image gets the fds and, for
 * each client, what lay between the kernel and rpc.c: a partial line,
 * lines held back while its answers went unread, output the socket had
 * not taken, its deadlines (CLOCK_MONOTONIC ms, which go on across an
 * exec) and its calls awaiting their answer. What is still in the
 * kernel's buffers needs nothing: the sockets are the same.
 */

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
	if (batching == c) {
		if (batch.len > 0 &&
		    evbuffer_add(c->out, batch.buf, batch.len) == -1)
			fatalx("out of memory for output");
		jsonout_reset(&batch);
		batching = NULL;
	}
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
	json_object_set_new(o, "rpc", rpc_handover_client(c));
	return o;
}

/* Close-on-exec on every fd handed over: off for the exec, on again after. */
static int
control_cloexec(bool on)
{
	struct client	*c;
	int		 rc = 0;

	if (util_set_cloexec(listen_fd, on) == -1) {
		log_warn("control socket: fd %d: close-on-exec", listen_fd);
		rc = -1;
	}
	for (c = clients; c != NULL; c = c->next)
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

	if (listener == NULL || drained_cb != NULL || handed_over)
		return NULL;
	handed_over = true;
	/* Peers that connect now wait in the backlog for the next image. */
	evconnlistener_disable(listener);
	evtimer_del(ev_resume);
	list = json_array();
	for (c = clients; c != NULL; c = c->next) {
		control_freeze(c);
		json_array_append_new(list, control_describe(c));
	}
	desc = json_object();
	json_object_set_new(desc, "listen_fd", json_integer(listen_fd));
	json_object_set_new(desc, "path", json_string(sock_path));
	json_object_set_new(desc, "next_id", json_integer((json_int_t)next_id));
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
			c->ev_close = evtimer_new(base, control_close_cb, c);
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

	if (!handed_over)
		return;
	handed_over = false;
	/* Each failure is logged; an fd open across an exec harms nothing. */
	(void)control_cloexec(true);
	if (evconnlistener_enable(listener) == -1)
		log_warnx("control socket: cannot accept clients again");
	for (c = clients; c != NULL; c = c->next)
		control_arm(c, c->reading);
}

void
control_handover_release(void)
{
	struct client	*c;

	if (listener != NULL)
		evconnlistener_free(listener);
	listener = NULL;
	listen_fd = -1;
	if (ev_resume != NULL)
		event_free(ev_resume);
	ev_resume = NULL;
	if (ev_adopted != NULL)
		event_free(ev_adopted);
	ev_adopted = NULL;
	drained_cb = NULL;
	while ((c = clients) != NULL) {
		c->fd = -1;		/* the next image's */
		control_free(c);
	}
	free(sock_path);
	sock_path = NULL;
	jsonout_free(&line_buf);
	jsonout_free(&batch);
	batching = NULL;
	handed_over = false;
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
	if (strcmp(path, conf->socket) != 0)
		log_warnx("%s: kept from before the reexec; the socket "
		    "configured now, %s, takes a restart", path, conf->socket);
	/* Listening already: backlog 0 leaves it as it is. */
	listener = evconnlistener_new(base, control_accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_EXEC, 0, (evutil_socket_t)fd);
	if (listener == NULL) {
		snprintf(err, errlen, "control.listen_fd: cannot accept on "
		    "fd %d", (int)fd);
		return -1;
	}
	evconnlistener_set_error_cb(listener, control_accept_error_cb);
	ev_resume = evtimer_new(base, control_resume_cb, NULL);
	if (ev_resume == NULL)
		fatalx("cannot create the resume timer");
	listen_fd = (int)fd;
	sock_path = xstrdup(path);
	return 0;
}

/* A client as described, every member checked. */
struct client_desc {
	json_int_t	 fd, id, uid, gid, pid, dropped, line_ms, close_ms;
	bool		 subscribed, eof, reading, closing;
	bool		 mid_line, has_close;
	enum role	 role;
	json_t		*topics, *rpc;
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
	if (fd == listen_fd) {
		snprintf(err, errlen, "%s: fd %d is the listening socket", w,
		    fd);
		return -1;
	}
	for (c = clients; c != NULL; c = c->next)
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
	TAILQ_INIT(&c->pending);
	c->uid = (uid_t)cd->uid;
	c->gid = (gid_t)cd->gid;
	c->pid = (pid_t)cd->pid;
	c->role = cd->role;
	c->subscribed = cd->subscribed;
	c->topics = cd->topics != NULL ? json_deep_copy(cd->topics) : NULL;
	c->dropped = (uint64_t)cd->dropped;
	c->eof = cd->eof;
	c->reading = cd->reading;	/* what control_arm() makes of it */
	c->closing = cd->closing;
	c->close_deadline = (uint64_t)cd->close_ms;
	c->mid_line = cd->mid_line;
	c->line_deadline = (uint64_t)cd->line_ms;
	for (pp = &clients; *pp != NULL; pp = &(*pp)->next)
		continue;
	*pp = c;
	nclients++;
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->ev_read = event_new(base, c->fd, EV_READ | EV_PERSIST,
	    control_read_cb, c);
	c->ev_write = event_new(base, c->fd, EV_WRITE | EV_PERSIST,
	    control_write_cb, c);
	c->ev_idle = evtimer_new(base, control_idle_cb, c);
	if (c->in == NULL || c->out == NULL || c->ev_read == NULL ||
	    c->ev_write == NULL || c->ev_idle == NULL)
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
	if (rpc_adopt_client(c, cd.rpc, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s.%s", where, why);
		return -1;
	}
	if (c->id >= next_id)
		next_id = c->id + 1;
	return 0;
}

/* Once every client is in place: its events. */
static void
control_adopted(struct client *c)
{
	control_arm(c, c->reading);
	/* Said all it had to say, and nothing left to answer: it goes. */
	if (c->eof && !c->closing && !rpc_client_busy(c))
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
	for (c = clients; c != NULL; c = next) {
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

	if (listener != NULL || clients != NULL) {
		snprintf(err, errlen, "control: the socket is set up already");
		return -1;
	}
	base = b;
	conf = cf;
	if (!json_is_object(desc)) {
		snprintf(err, errlen, "control: must be an object");
		return -1;
	}
	if (desc_int(desc, "control", "next_id", 1, INT64_MAX, &nid, err,
	    errlen) == -1 ||
	    desc_array(desc, "control", "clients", &list, err, errlen) == -1 ||
	    control_adopt_listener(desc, err, errlen) == -1)
		goto fail;
	next_id = (uint64_t)nid;
	json_array_foreach(list, i, v)
		if (control_adopt_client(v, i, err, errlen) == -1)
			goto fail;
	for (c = clients; c != NULL; c = next) {
		next = c->next;
		control_adopted(c);
	}
	ev_adopted = event_new(base, -1, 0, control_adopted_cb, NULL);
	if (ev_adopted == NULL)
		fatalx("cannot create the adoption's event");
	event_active(ev_adopted, EV_TIMEOUT, 0);
	log_info("listening on %s, with %zu client(s) handed over", sock_path,
	    nclients);
	return 0;
fail:
	control_handover_release();
	return -1;
}
