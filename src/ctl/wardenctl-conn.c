/*
 * wardenctl-conn.c: a connection to warden's control socket (see
 * wardenctl-conn.h). Nothing here prints: callers say what went wrong
 * in their own terms, wardenctl's commands on stderr, the drill runner
 * in its report.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "wardenctl-conn.h"

#define CONN_CHUNK	65536

void
conn_init(struct conn *c, const char *socket)
{
	memset(c, 0, sizeof(*c));
	c->socket = socket;
	c->fd = -1;
}

void
conn_close(struct conn *c)
{
	if (c->fd != -1)
		(void)close(c->fd);	/* nothing is left to flush */
	free(c->buf);
	json_decref(c->kept);
	conn_init(c, c->socket);
}

int
conn_open(struct conn *c, int connect_ms)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv;
	size_t			 len = strlen(c->socket);
	int			 fd, saved;

	conn_close(c);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (len >= sizeof(sun.sun_path))
		return ENAMETOOLONG;
	memcpy(sun.sun_path, c->socket, len + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return errno;
	/*
	 * connect(2) to a listener whose backlog is full blocks for as long
	 * as the send timeout allows; without one, forever.
	 */
	tv.tv_sec = connect_ms / 1000;
	tv.tv_usec = (connect_ms % 1000) * 1000;
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
	return 0;
fail:
	saved = errno;
	(void)close(fd);
	return saved;
}

static enum conn_rc
conn_failed(struct conn *c, int error)
{
	c->error = error;
	return CONN_ERROR;
}

/* Wait until the socket is ready for events, or the deadline. */
static enum conn_rc
conn_wait(struct conn *c, short events, uint64_t deadline)
{
	struct pollfd	pfd;
	uint64_t	now, left;
	int		timeout, n;

	for (;;) {
		timeout = -1;
		if (deadline != CONN_NO_DEADLINE) {
			if ((now = util_now_us()) >= deadline)
				return CONN_TIMEOUT;
			/* Rounded up: a poll of 0 ms before it would spin. */
			left = (deadline - now + 999) / 1000;
			timeout = left > INT_MAX ? INT_MAX : (int)left;
		}
		pfd.fd = c->fd;
		pfd.events = events;
		pfd.revents = 0;
		if ((n = poll(&pfd, 1, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			return conn_failed(c, errno);
		}
		/* On POLLERR or POLLHUP, send or recv tells what happened. */
		if (n > 0)
			return CONN_OK;
	}
}

static enum conn_rc
conn_write(struct conn *c, const char *p, size_t len, uint64_t deadline)
{
	enum conn_rc	rc;
	ssize_t		n;

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
			return conn_failed(c, errno);
		if ((rc = conn_wait(c, POLLOUT, deadline)) != CONN_OK)
			return rc;
	}
	return CONN_OK;
}

enum conn_rc
conn_send(struct conn *c, json_t *msg, uint64_t deadline)
{
	enum conn_rc	 rc;
	char		*text;
	size_t		 len;

	/* Strings are set unchecked; json_dumps refuses what is not UTF-8. */
	if ((text = json_dumps(msg, JSON_COMPACT)) == NULL)
		return CONN_INVALID;
	len = strlen(text);
	text = xreallocarray(text, len + 2, 1);
	text[len++] = '\n';
	text[len] = '\0';
	rc = conn_write(c, text, len, deadline);
	free(text);
	return rc;
}

/* Room to read into, once what was consumed is dropped. */
static enum conn_rc
conn_room(struct conn *c)
{
	if (c->off > 0) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->scan -= c->off;
		c->off = 0;
	}
	if (c->len >= CONN_LINE_MAX)
		return CONN_TOO_LONG;
	if (c->cap - c->len < CONN_CHUNK) {
		c->cap = c->cap == 0 ? CONN_CHUNK * 2 : c->cap * 2;
		c->buf = xreallocarray(c->buf, c->cap, 1);
	}
	return CONN_OK;
}

enum conn_rc
conn_fill(struct conn *c)
{
	enum conn_rc	rc;
	ssize_t		n;

	if ((rc = conn_room(c)) != CONN_OK)
		return rc;
	for (;;) {
		n = recv(c->fd, c->buf + c->len, c->cap - c->len,
		    MSG_DONTWAIT);
		if (n > 0) {
			c->len += (size_t)n;
			return CONN_OK;
		}
		if (n == 0)
			return CONN_EOF;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return CONN_AGAIN;
		return conn_failed(c, errno);
	}
}

/* The next whole line, without its newline and NUL-terminated. */
static bool
conn_line(struct conn *c, char **line, size_t *len)
{
	char	*nl;

	nl = c->scan < c->len ?
	    memchr(c->buf + c->scan, '\n', c->len - c->scan) : NULL;
	if (nl == NULL) {
		c->scan = c->len;
		return false;
	}
	*nl = '\0';
	*line = c->buf + c->off;
	*len = (size_t)(nl - *line);
	c->off = c->scan = (size_t)(nl - c->buf) + 1;
	return true;
}

static bool
conn_blank(const char *line, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return false;
	return true;
}

enum conn_rc
conn_next(struct conn *c, json_t **msg, json_error_t *why)
{
	char	*line;
	size_t	 len;

	*msg = NULL;
	do {
		if (!conn_line(c, &line, &len))
			return CONN_AGAIN;
	} while (conn_blank(line, len));
	if ((*msg = json_loadb(line, len, 0, why)) == NULL)
		return CONN_BAD;
	return CONN_OK;
}

enum conn_rc
conn_read(struct conn *c, uint64_t deadline, json_t **msg, json_error_t *why)
{
	enum conn_rc	rc;

	for (;;) {
		if ((rc = conn_next(c, msg, why)) != CONN_AGAIN)
			return rc;
		/* A line too long is known before waiting for more of it. */
		if ((rc = conn_room(c)) != CONN_OK ||
		    (rc = conn_wait(c, POLLIN, deadline)) != CONN_OK)
			return rc;
		if ((rc = conn_fill(c)) != CONN_OK && rc != CONN_AGAIN)
			return rc;
	}
}

json_t *
conn_request(json_int_t id, const char *method, json_t *params)
{
	json_t	*req;

	/* Unchecked strings: json_dumps refuses what is not UTF-8. */
	if ((req = json_object()) == NULL ||
	    json_object_set_new(req, "jsonrpc", json_string("2.0")) == -1 ||
	    json_object_set_new(req, "id", json_integer(id)) == -1 ||
	    json_object_set_new(req, "method",
	    json_string_nocheck(method)) == -1 ||
	    (params != NULL &&
	    json_object_set_new(req, "params", params) == -1))
		fatalx("out of memory");
	return req;
}

bool
conn_is_answer(json_t *msg, json_int_t first, size_t n, bool batch)
{
	json_t	*id;

	if (batch && json_is_array(msg)) {
		id = json_object_get(json_array_get(msg, 0), "id");
		return json_is_integer(id) && json_integer_value(id) >= first &&
		    json_integer_value(id) < first + (json_int_t)n;
	}
	id = json_object_get(msg, "id");
	if (!batch && json_is_integer(id))
		return json_integer_value(id) == first;
	return json_is_null(id) && json_object_get(msg, "error") != NULL;
}

json_t *
conn_note_params(json_t *msg, const char *name)
{
	json_t	*method = json_object_get(msg, "method");
	json_t	*params = json_object_get(msg, "params");

	if (json_object_get(msg, "id") != NULL || !json_is_string(method) ||
	    strcmp(json_string_value(method), name) != 0 ||
	    !json_is_object(params))
		return NULL;
	return params;
}

json_t *
conn_event_params(json_t *msg)
{
	return conn_note_params(msg, "event");
}

void
conn_keep(struct conn *c, json_t *params)
{
	if (c->kept == NULL && (c->kept = json_array()) == NULL)
		fatalx("cannot keep an event");
	if (json_array_append(c->kept, params) == -1)
		fatalx("cannot keep an event");
}

json_t *
conn_kept(struct conn *c)
{
	json_t	*params;

	if (json_array_size(c->kept) == 0)
		return NULL;
	params = json_incref(json_array_get(c->kept, 0));
	(void)json_array_remove(c->kept, 0);
	return params;
}
