/*
 * control.c: the control socket's clients and their I/O (see control.h).
 *
 * Nothing a client does can stall the loop: input is read as it comes and
 * cut into lines, a line over limits.max_line_bytes or a line not complete
 * limits.idle_ms after its first byte gets an error and is closed, a
 * client that does not read its answers stops being read (backpressure)
 * and a subscriber that does not read its events is dropped. The limits
 * come from warden.json (see warden.json(5)), with the defaults of SPEC 5.
 *
 * The socket and who may connect are in control-listen.c; a reexec's
 * handover of the socket and every client in control-handover.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "config.h"
#include "control.h"
#include "control-private.h"
#include "events.h"
#include "jsonout.h"
#include "jsonrpc.h"
#include "log.h"
#include "util.h"

struct control_state	control = { .listen_fd = -1, .next_id = 1 };

void
control_set_dispatcher(const struct control_dispatcher *d)
{
	control.dispatcher = d;
}

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
	return control.clients;
}

/* --- clients ------------------------------------------------------------------ */

/*
 * Each client is an fd with a read event, a write event that is armed only
 * while output waits, and two evbuffers that are empty most of the time.
 * A read goes into one static buffer and its whole lines are handed to
 * the dispatcher from there; the answers to them collect in another static buffer
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

void
control_free(struct client *c)
{
	struct client	**pp;

	for (pp = &control.clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	control.nclients--;
	if (batching == c)
		batching = NULL;
	/* It is going now: no answer still due may close it later. */
	c->eof = false;
	if (control.dispatcher != NULL)
		control.dispatcher->gone(c);
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
	control_unfollow_logs(c);
	free(c);
	if (control.drained_cb != NULL && control.clients == NULL) {
		void	(*cb)(void) = control.drained_cb;

		control.drained_cb = NULL;
		cb();
		return;
	}
	/* A slot is free again: accept if we had paused for the limit. */
	if (control.listener != NULL && control.ev_resume != NULL && !control.handed_over &&
	    !evtimer_pending(control.ev_resume, NULL))
		evconnlistener_enable(control.listener);
}

void
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

void
control_start_reading(struct client *c)
{
	if (!c->reading && event_add(c->ev_read, NULL) == 0)
		c->reading = true;
}

/* Output waits for the socket: write it when the socket takes more. */
void
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

/* Paused for output that has since drained below the low-water mark? */
static bool
control_may_resume(const struct client *c)
{
	return !c->closing && !c->eof && !c->reading &&
	    control_output(c) <= (size_t)control.conf->limits.max_output_bytes / 2;
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
void
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
		c->ev_close = evtimer_new(control.base, control_close_cb, c);
	if (c->ev_close == NULL || evtimer_add(c->ev_close, &tv) == -1)
		fatalx("cannot arm a close timer");
	c->close_deadline = util_now_ms() + (uint64_t)tv.tv_sec * 1000 +
	    (uint64_t)tv.tv_usec / 1000;
}

void
control_close(struct client *c)
{
	control_close_within(c, control.conf->limits.idle_ms);
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
	if (control_output(c) > (size_t)control.conf->limits.max_output_bytes)
		control_stop_reading(c);
}

/*
 * A notification to a client that asked for them (events, log lines).
 * A client too slow to take them, over subscriber_queue_bytes, gets one
 * last note, {"type": dropped, "seq": seq}, and the door: what it missed
 * is said, never silently skipped.
 */
void
control_send_note(struct client *c, const char *method, json_t *params,
    const char *dropped, json_int_t seq)
{
	json_t	*note;

	if (c->closing)
		return;
	/* Over the cap may only mean the loop has not written yet: try now. */
	if (control_output(c) > (size_t)control.conf->limits.subscriber_queue_bytes &&
	    batching != c)
		control_write_now(c);
	if (c->closing)
		return;
	if (control_output(c) > (size_t)control.conf->limits.subscriber_queue_bytes) {
		note = json_pack("{s:s,s:s,s:{s:s,s:I,s:I}}", "jsonrpc", "2.0",
		    "method", method, "params", "type", dropped, "dropped",
		    (json_int_t)1, "seq", seq);
		control_queue(c, note);
		json_decref(note);
		log_warnx("client %llu (pid %ld): too slow to read %s, disconnected",
		    (unsigned long long)c->id, (long)c->pid,
		    strcmp(method, "event") == 0 ? "events" : "log lines");
		control_close(c);
		return;
	}
	note = json_pack("{s:s,s:s,s:O}", "jsonrpc", "2.0", "method", method,
	    "params", params);
	control_queue(c, note);
	json_decref(note);
}

void
control_unbatch(struct client *c)
{
	if (batching != c)
		return;
	if (batch.len > 0 && evbuffer_add(c->out, batch.buf, batch.len) == -1)
		fatalx("out of memory for output");
	jsonout_reset(&batch);
	batching = NULL;
}

void
control_buffers_free(void)
{
	jsonout_free(&line_buf);
	jsonout_free(&batch);
	batching = NULL;
}

void
control_publish(json_t *ev)
{
	const char	*type = json_string_value(json_object_get(ev, "type"));
	struct client	*c;
	json_t		*t;
	size_t		 i;

	for (c = control.clients; c != NULL; c = c->next) {
		if (!c->subscribed || c->closing)
			continue;
		if (c->topics != NULL) {
			json_array_foreach(c->topics, i, t)
				if (events_topic_match(json_string_value(t), type))
					break;
			if (i == json_array_size(c->topics))
				continue;
		}
		control_send_note(c, "event", ev, "events.dropped",
		    json_integer_value(json_object_get(ev, "seq")));
	}
}

void
control_subscribe(struct client *c, json_t *topics)
{
	json_decref(c->topics);
	c->topics = topics;
	c->subscribed = true;
}

void
control_hold(struct client *c)
{
	c->npending++;
}

void
control_release(struct client *c)
{
	if (c->npending > 0)
		c->npending--;
	/* A client that said all it had to say leaves with its last answer. */
	if (c->eof && c->npending == 0)
		control_close(c);
}

void
control_reject(struct client *c, const char *fmt, const char *what)
{
	json_t	*err;

	err = jsonrpc_error_response(NULL, RPC_INVALID_REQUEST, NULL, fmt, what);
	control_send(c, err);
	json_decref(err);
	control_close(c);
}

static void
control_reject_long(struct client *c)
{
	char	num[32];

	snprintf(num, sizeof(num), "%d", control.conf->limits.max_line_bytes);
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
	snprintf(num, sizeof(num), "%d", control.conf->limits.idle_ms);
	control_reject(c, "request line not complete within %s ms", num);
	control_flush(c);
}

/* One line, without its LF; false when the client cannot take more now. */
static bool
control_line(struct client *c, const char *line, size_t len)
{
	if (len > (size_t)control.conf->limits.max_line_bytes) {
		control_reject_long(c);
		return false;
	}
	c->line_done = true;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > 0 && control.dispatcher != NULL)
		control.dispatcher->line(c, line, len);
	/* Answers piling up unread: stop here, the rest waits for the drain. */
	if (control_output(c) > (size_t)control.conf->limits.max_output_bytes)
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
		if (len > (size_t)control.conf->limits.max_line_bytes) {
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
	struct timeval	tv = { control.conf->limits.idle_ms / 1000,
			    (control.conf->limits.idle_ms % 1000) * 1000 };

	if (evbuffer_get_length(c->in) == 0) {
		if (c->mid_line)
			evtimer_del(c->ev_idle);
		c->mid_line = false;
	} else if (!c->mid_line || c->line_done) {
		if (evtimer_add(c->ev_idle, &tv) == -1)
			fatalx("cannot arm a line timer");
		c->line_deadline = util_now_ms() +
		    (uint64_t)control.conf->limits.idle_ms;
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
void
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
			    (size_t)control.conf->limits.max_line_bytes)
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
	if (c->npending > 0)
		c->eof = true;		/* a wait, say: it closes after the answer */
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

int
control_client_events(struct client *c)
{
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	c->ev_read = event_new(control.base, c->fd, EV_READ | EV_PERSIST,
	    control_read_cb, c);
	c->ev_write = event_new(control.base, c->fd, EV_WRITE | EV_PERSIST,
	    control_write_cb, c);
	c->ev_idle = evtimer_new(control.base, control_idle_cb, c);
	if (c->in == NULL || c->out == NULL || c->ev_read == NULL ||
	    c->ev_write == NULL || c->ev_idle == NULL)
		return -1;
	return 0;
}

void
control_drain(void (*done)(void))
{
	struct client	*c, *next;

	if (control.listener != NULL)
		evconnlistener_disable(control.listener);
	if (control.ev_resume != NULL)
		evtimer_del(control.ev_resume);
	if (control.clients == NULL) {
		done();
		return;
	}
	control.drained_cb = done;
	for (c = control.clients; c != NULL; c = next) {
		next = c->next;
		control_close_within(c, 1000);
	}
}

void
control_set_config(const struct config *c)
{
	control.conf = c;
}

void
control_shutdown(void)
{
	struct client	*c;

	control.drained_cb = NULL;
	while ((c = control.clients) != NULL)
		control_free(c);
	if (control.listener != NULL)
		evconnlistener_free(control.listener);
	control.listener = NULL;
	if (control.listen_fd != -1)
		close(control.listen_fd);
	control.listen_fd = -1;
	if (control.ev_resume != NULL)
		event_free(control.ev_resume);
	control.ev_resume = NULL;
	if (control.ev_adopted != NULL)
		event_free(control.ev_adopted);
	control.ev_adopted = NULL;
	if (control.sock_path != NULL && unlink(control.sock_path) == -1 &&
	    errno != ENOENT)
		log_warn("unlink %s", control.sock_path);
	free(control.sock_path);
	control.sock_path = NULL;
	control_buffers_free();
}

