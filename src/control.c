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
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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
#include "jsonout.h"
#include "log.h"
#include "rpc.h"
#include "util.h"

static struct event_base	*base;
static const struct config	*conf;
static struct evconnlistener	*listener;
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
	if (listener != NULL && ev_resume != NULL && !evtimer_pending(ev_resume, NULL))
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
	listener = evconnlistener_new(base, control_accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128, fd);
	if (listener == NULL) {
		log_warnx("cannot listen on %s", c->socket);
		close(fd);
		unlink(c->socket);
		return -1;
	}
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
	if (ev_resume != NULL)
		event_free(ev_resume);
	ev_resume = NULL;
	if (sock_path != NULL && unlink(sock_path) == -1 && errno != ENOENT)
		log_warn("unlink %s", sock_path);
	free(sock_path);
	sock_path = NULL;
	jsonout_free(&line_buf);
	jsonout_free(&batch);
}
