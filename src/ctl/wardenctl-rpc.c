/*
 * wardenctl-rpc.c: wardenctl's connection to warden and its JSON-RPC calls.
 *
 * One JSON text per line each way. The socket stays blocking, but every
 * send and receive is MSG_DONTWAIT after a poll bounded by the call's
 * deadline, so a daemon that stops reading or answering costs a timeout,
 * never a hang. Answers may be lines of any length (status with a thousand
 * services is large). Calls are one at a time; notifications that arrive
 * before an answer are kept for ctl_next_event().
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "protocol.h"
#include "util.h"
#include "wardenctl.h"

#define RPC_CHUNK	65536
/* Far above any real answer; only there so garbage cannot eat all memory. */
#define RPC_LINE_MAX	((size_t)1 << 30)
#define RPC_NO_DEADLINE	UINT64_MAX
/* rpc_read_message: warden closed the connection. */
#define RPC_EOF		(-1)

void
ctl_init(struct ctl *c, const char *socket, bool json)
{
	memset(c, 0, sizeof(*c));
	c->socket = socket;
	c->json = json;
	c->fd = -1;
}

void
ctl_close(struct ctl *c)
{
	if (c->fd != -1)
		(void)close(c->fd);	/* nothing is left to flush */
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->off = c->len = c->cap = c->scan = 0;
	json_decref(c->pending);
	c->pending = NULL;
}

static int
rpc_connect_error(struct ctl *c, int error)
{
	if (error == EAGAIN)
		return ctl_errx(CTL_EXIT_TIMEOUT, "cannot connect to %s: "
		    "warden did not accept the connection within %d ms",
		    c->socket, CTL_DEADLINE_QUICK_MS);
	if (error == ENAMETOOLONG)
		return ctl_errx(CTL_EXIT_CONNECT, "cannot connect to %s: %s",
		    c->socket, strerror(error));
	return ctl_errx(CTL_EXIT_CONNECT, "cannot connect to %s: %s (is warden "
	    "running? set WARDEN_SOCKET or use -S SOCKET)", c->socket,
	    strerror(error));
}

static int
rpc_connect(struct ctl *c)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv;
	size_t			 len = strlen(c->socket);
	int			 fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (len >= sizeof(sun.sun_path))
		return rpc_connect_error(c, ENAMETOOLONG);
	memcpy(sun.sun_path, c->socket, len + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return rpc_connect_error(c, errno);
	/*
	 * connect(2) to a listener whose backlog is full blocks for as long
	 * as the send timeout allows; without one, forever.
	 */
	tv.tv_sec = CTL_DEADLINE_QUICK_MS / 1000;
	tv.tv_usec = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		goto fail;
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EINTR)
			continue;
		/* An interrupted attempt that went through after all. */
		if (errno == EISCONN)
			break;
		goto fail;
	}
	c->fd = fd;
	return CTL_EXIT_OK;
fail:
	saved = errno;
	(void)close(fd);
	return rpc_connect_error(c, saved);
}

static int
rpc_lost(struct ctl *c, int error)
{
	return ctl_errx(CTL_EXIT_CONNECT, "connection to %s lost: %s",
	    c->socket, strerror(error));
}

/* Wait until the socket is ready for events; CTL_EXIT_TIMEOUT at deadline. */
static int
rpc_poll(struct ctl *c, short events, uint64_t deadline)
{
	struct pollfd	pfd;
	uint64_t	now;
	int		timeout, n;

	for (;;) {
		timeout = -1;
		if (deadline != RPC_NO_DEADLINE) {
			now = util_now_ms();
			if (now >= deadline)
				return CTL_EXIT_TIMEOUT;
			timeout = deadline - now > INT_MAX ? INT_MAX :
			    (int)(deadline - now);
		}
		pfd.fd = c->fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return ctl_errx(CTL_EXIT_CONNECT, "poll: %s",
			    strerror(errno));
		}
		/* On POLLERR or POLLHUP, send or recv tells what happened. */
		if (n > 0)
			return CTL_EXIT_OK;
	}
}

static int
rpc_write(struct ctl *c, const char *p, size_t len, uint64_t deadline)
{
	ssize_t	n;
	int	rc;

	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return rpc_lost(c, errno);
		if ((rc = rpc_poll(c, POLLOUT, deadline)) != CTL_EXIT_OK)
			return rc;
	}
	return CTL_EXIT_OK;
}

/*
 * The next line from warden, without its newline and NUL-terminated. It
 * stays valid until the next call. RPC_EOF when warden closed the
 * connection (a partial last line is dropped).
 */
static int
rpc_read_line(struct ctl *c, uint64_t deadline, char **line, size_t *linelen)
{
	char	*nl;
	ssize_t	 n;
	int	 rc;

	for (;;) {
		nl = c->scan < c->len ?
		    memchr(c->buf + c->scan, '\n', c->len - c->scan) : NULL;
		if (nl != NULL) {
			*nl = '\0';
			*line = c->buf + c->off;
			*linelen = (size_t)(nl - *line);
			c->off = c->scan = (size_t)(nl - c->buf) + 1;
			return CTL_EXIT_OK;
		}
		c->scan = c->len;
		if (c->off > 0) {
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->scan -= c->off;
			c->off = 0;
		}
		if (c->len >= RPC_LINE_MAX)
			return ctl_errx(CTL_EXIT_ERROR, "bad answer from "
			    "warden: a line longer than %zu bytes",
			    RPC_LINE_MAX);
		if (c->cap - c->len < RPC_CHUNK) {
			c->cap = c->cap == 0 ? RPC_CHUNK * 2 : c->cap * 2;
			c->buf = xreallocarray(c->buf, c->cap, 1);
		}
		if ((rc = rpc_poll(c, POLLIN, deadline)) != CTL_EXIT_OK)
			return rc;
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			return rpc_lost(c, errno);
		}
		if (n == 0)
			return RPC_EOF;
		c->len += (size_t)n;
	}
}

static int
rpc_bad_answer(const char *why)
{
	return ctl_errx(CTL_EXIT_ERROR, "bad answer from warden: %s", why);
}

/* The next JSON object from warden; blank lines are skipped. */
static int
rpc_read_message(struct ctl *c, uint64_t deadline, json_t **msg)
{
	json_error_t	 err;
	char		*line = NULL;
	size_t		 len = 0;
	int		 rc;

	*msg = NULL;
	do {
		if ((rc = rpc_read_line(c, deadline, &line, &len)) !=
		    CTL_EXIT_OK)
			return rc;
	} while (line[strspn(line, " \t\r")] == '\0');
	if ((*msg = json_loadb(line, len, 0, &err)) == NULL)
		return rpc_bad_answer(err.text);
	if (!json_is_object(*msg)) {
		json_decref(*msg);
		*msg = NULL;
		return rpc_bad_answer("not a JSON object");
	}
	return CTL_EXIT_OK;
}

/* The params of an event notification, or NULL when msg is not one. */
static json_t *
rpc_event_params(json_t *msg)
{
	const char	*method = ctl_json_str(msg, "method");
	json_t		*params = json_object_get(msg, "params");

	if (json_object_get(msg, "id") != NULL || method == NULL ||
	    strcmp(method, "event") != 0 || !json_is_object(params))
		return NULL;
	return params;
}

/*
 * An answer to request id: its result, or the error it carries. The
 * message is for people; when data says why in a "reason" the message
 * does not already hold (a reexec that failed), that is printed too.
 */
static int
rpc_answer(json_t *msg, json_int_t id, json_t **result)
{
	json_t		*jid = json_object_get(msg, "id");
	json_t		*error = json_object_get(msg, "error");
	json_t		*res = json_object_get(msg, "result");
	const char	*message, *reason;
	json_int_t	 code;
	int		 status;

	/* A request warden could not parse is answered with a null id. */
	if (!(json_is_integer(jid) && json_integer_value(jid) == id) &&
	    !(json_is_null(jid) && error != NULL))
		return rpc_bad_answer("an answer to another request");
	if (error != NULL) {
		code = json_integer_value(json_object_get(error, "code"));
		status = code == RPC_TIMEOUT ? CTL_EXIT_TIMEOUT :
		    CTL_EXIT_ERROR;
		reason = ctl_json_str(json_object_get(error, "data"),
		    "reason");
		if ((message = ctl_json_str(error, "message")) == NULL)
			message = reason;
		if (message == NULL)
			return ctl_errx(status, "error %" JSON_INTEGER_FORMAT,
			    code);
		if (reason != NULL && *reason != '\0' &&
		    strstr(message, reason) == NULL)
			return ctl_errx(status, "%s: %s", message, reason);
		return ctl_errx(status, "%s", message);
	}
	if (res == NULL)
		return rpc_bad_answer("neither result nor error");
	*result = json_incref(res);
	return CTL_EXIT_OK;
}

/*
 * Call method with params (taken over; NULL: none) and wait at most
 * deadline_ms for the answer. On CTL_EXIT_OK *result holds the result (the
 * caller's reference); otherwise the error has been printed and the return
 * is the exit status it calls for.
 */
int
ctl_call(struct ctl *c, const char *method, json_t *params, int deadline_ms,
    json_t **result)
{
	json_t		*req, *msg, *ev;
	char		*text;
	size_t		 len;
	uint64_t	 deadline;
	json_int_t	 id;
	int		 rc;

	*result = NULL;
	if (c->fd == -1 && (rc = rpc_connect(c)) != CTL_EXIT_OK) {
		json_decref(params);
		return rc;
	}
	id = ++c->next_id;
	/* Unchecked strings: json_dumps below refuses what is not UTF-8. */
	if ((req = json_object()) == NULL ||
	    json_object_set_new(req, "jsonrpc", json_string("2.0")) == -1 ||
	    json_object_set_new(req, "id", json_integer(id)) == -1 ||
	    json_object_set_new(req, "method",
	    json_string_nocheck(method)) == -1 ||
	    (params != NULL &&
	    json_object_set_new(req, "params", params) == -1))
		fatalx("out of memory");
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (text == NULL)	/* only when an argument is not UTF-8 */
		return ctl_errx(CTL_EXIT_USAGE, "%s: arguments must be UTF-8",
		    method);
	len = strlen(text);
	text = xreallocarray(text, len + 2, 1);
	text[len++] = '\n';
	text[len] = '\0';

	deadline = util_now_ms() + (uint64_t)deadline_ms;
	rc = rpc_write(c, text, len, deadline);
	free(text);
	if (rc == CTL_EXIT_TIMEOUT)
		return ctl_errx(rc, "warden did not take the request within "
		    "%d ms", deadline_ms);
	if (rc != CTL_EXIT_OK)
		return rc;
	for (;;) {
		rc = rpc_read_message(c, deadline, &msg);
		if (rc == RPC_EOF)
			return ctl_errx(CTL_EXIT_CONNECT, "%s: warden closed "
			    "the connection without answering", c->socket);
		if (rc == CTL_EXIT_TIMEOUT)
			return ctl_errx(rc, "no answer from warden within "
			    "%d ms", deadline_ms);
		if (rc != CTL_EXIT_OK)
			return rc;
		if (json_object_get(msg, "id") != NULL)
			break;
		if ((ev = rpc_event_params(msg)) != NULL) {
			if (c->pending == NULL)
				c->pending = json_array();
			if (c->pending == NULL ||
			    json_array_append(c->pending, ev) == -1)
				fatalx("cannot keep an event");
		}
		json_decref(msg);
	}
	rc = rpc_answer(msg, id, result);
	json_decref(msg);
	return rc;
}

/*
 * The next event's params (the caller's reference), waiting at most
 * timeout_ms (-1: as long as it takes). *params is NULL when warden closed
 * the connection. CTL_EXIT_TIMEOUT, unreported, when the time ran out.
 */
int
ctl_next_event(struct ctl *c, int timeout_ms, json_t **params)
{
	json_t		*msg, *ev;
	uint64_t	 deadline = RPC_NO_DEADLINE;
	int		 rc;

	*params = NULL;
	if (json_array_size(c->pending) > 0) {
		*params = json_incref(json_array_get(c->pending, 0));
		(void)json_array_remove(c->pending, 0);
		return CTL_EXIT_OK;
	}
	if (c->fd == -1)
		return CTL_EXIT_OK;
	if (timeout_ms >= 0)
		deadline = util_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		rc = rpc_read_message(c, deadline, &msg);
		if (rc == RPC_EOF)
			return CTL_EXIT_OK;
		if (rc != CTL_EXIT_OK)
			return rc;
		/* Anything but an event is not for a subscriber: skip it. */
		if ((ev = rpc_event_params(msg)) != NULL)
			*params = json_incref(ev);
		json_decref(msg);
		if (*params != NULL)
			return CTL_EXIT_OK;
	}
}
