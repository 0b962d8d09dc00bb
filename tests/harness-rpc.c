/*
 * harness-rpc.c: the control socket from the tests (harness.h):
 * connections, requests, events and waits.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "harness-private.h"
#include "procinfo.h"
#include "util.h"

#define HARNESS_LINE_MAX	(256u << 20)

/*
 * Connections.
 */

int
harness_connect(struct harness *h)
{
	struct sockaddr_un	sun;
	int			fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(h->sock) >= sizeof(sun.sun_path)) {
		harness_warnx("%s: path too long", h->sock);
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, h->sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		harness_warn("socket");
		return -1;
	}
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (r == -1 && errno == EINTR) {
		/* The connection goes on; wait until it is made or failed. */
		struct pollfd	pfd = { fd, POLLOUT, 0 };
		socklen_t	len = sizeof(r);
		int		soerr = 0;

		while (poll(&pfd, 1, HARNESS_CALL_TIMEOUT) == -1 &&
		    errno == EINTR)
			;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
		    soerr == 0)
			r = 0;
		else
			errno = soerr;
	}
	if (r == -1) {
		harness_warn("connect %s", h->sock);
		close(fd);
		return -1;
	}
	return fd;
}

struct harness_conn *
harness_conn_wrap(int fd)
{
	struct harness_conn	*c;

	if (fd == -1)
		return NULL;
	if (util_set_nonblock(fd, true) == -1) {
		harness_warn("O_NONBLOCK");
		close(fd);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->cap = 65536;
	c->buf = xmalloc(c->cap);
	c->queue = json_array();
	c->next_id = 1;
	c->seq = -1;
	return c;
}

struct harness_conn *
harness_conn_open(struct harness *h)
{
	return harness_conn_wrap(harness_connect(h));
}

void
harness_conn_close(struct harness_conn *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	json_decref(c->queue);
	free(c->buf);
	free(c);
}

int
harness_conn_send_raw(struct harness_conn *c, const void *buf, size_t len)
{
	struct pollfd	 pfd;
	const char	*p = buf;
	uint64_t	 deadline = harness_deadline(HARNESS_CALL_TIMEOUT);
	ssize_t		 n;
	int		 r;

	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		pfd.fd = c->fd;
		pfd.events = POLLOUT;
		r = poll(&pfd, 1, harness_left(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

int
harness_conn_send(struct harness_conn *c, json_t *msg)
{
	char	*s;
	size_t	 len;
	int	 rv;

	if (msg == NULL)
		return -1;
	harness_trace("->", msg);
	s = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(msg);
	if (s == NULL)
		return -1;
	len = strlen(s);
	s = xreallocarray(s, len + 2, 1);
	s[len] = '\n';
	s[len + 1] = '\0';
	rv = harness_conn_send_raw(c, s, len + 1);
	free(s);
	return rv;
}

long long
harness_conn_request(struct harness_conn *c, const char *method,
    json_t *params)
{
	json_t		*req;
	long long	 id = c->next_id++;

	req = json_pack("{s:s, s:I, s:s}", "jsonrpc", "2.0", "id",
	    (json_int_t)id, "method", method);
	if (req == NULL) {
		json_decref(params);
		return -1;
	}
	if (params != NULL)
		json_object_set_new(req, "params", params);
	if (harness_conn_send(c, req) == -1) {
		harness_warn("send %s", method);
		return -1;
	}
	return id;
}

json_t *
harness_read_line(struct harness_conn *c, int timeout_ms)
{
	struct pollfd	 pfd;
	json_error_t	 jerr;
	json_t		*msg;
	uint64_t	 deadline = harness_deadline(timeout_ms);
	char		*nl;
	size_t		 scanned = 0, linelen;
	ssize_t		 n;
	int		 r;

	for (;;) {
		nl = memchr(c->buf + scanned, '\n', c->len - scanned);
		if (nl != NULL) {
			linelen = (size_t)(nl - c->buf);
			msg = json_loadb(c->buf, linelen, JSON_DECODE_ANY,
			    &jerr);
			if (msg == NULL)
				harness_warnx("not JSON (%s): %.*s", jerr.text,
				    (int)(linelen > 200 ? 200 : linelen),
				    c->buf);
			memmove(c->buf, nl + 1, c->len - linelen - 1);
			c->len -= linelen + 1;
			if (msg == NULL) {
				errno = EBADMSG;
				return NULL;
			}
			harness_trace("<-", msg);
			return msg;
		}
		scanned = c->len;
		if (c->eof) {
			if (c->len > 0)
				harness_warnx("connection closed mid-line "
				    "(%zu bytes)", c->len);
			errno = 0;
			return NULL;
		}
		if (c->len == c->cap) {
			if (c->cap >= HARNESS_LINE_MAX) {
				harness_warnx("line over %u bytes",
				    HARNESS_LINE_MAX);
				errno = EMSGSIZE;
				return NULL;
			}
			c->buf = xreallocarray(c->buf, c->cap *= 2, 1);
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->eof = true;
			continue;
		}
		if (errno == EINTR)
			continue;
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, harness_left(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0) {
			errno = ETIMEDOUT;
			return NULL;
		}
		if (r == -1)
			return NULL;
	}
}

static bool
harness_is_event(const json_t *msg)
{
	const char	*m = json_string_value(json_object_get(msg, "method"));

	return m != NULL && strcmp(m, "event") == 0;
}

json_t *
harness_read_response(struct harness_conn *c, long long id, int timeout_ms)
{
	json_t		*msg, *jid;
	uint64_t	 deadline = harness_deadline(timeout_ms);

	for (;;) {
		if ((msg = harness_read_line(c, harness_left(deadline))) ==
		    NULL)
			return NULL;
		jid = json_object_get(msg, "id");
		if (json_is_integer(jid) && json_integer_value(jid) == id)
			return msg;
		if (harness_is_event(msg))
			json_array_append(c->queue, json_object_get(msg,
			    "params"));
		else if (json_is_array(msg))
			/* A batch answer is the caller's to take apart. */
			return msg;
		else
			harness_trace("skipped", msg);
		json_decref(msg);
	}
}

int
harness_conn_wait_closed(struct harness_conn *c, int timeout_ms)
{
	json_t		*msg;
	uint64_t	 deadline = harness_deadline(timeout_ms);

	for (;;) {
		msg = harness_read_line(c, harness_left(deadline));
		if (msg != NULL) {
			json_decref(msg);
			continue;
		}
		if (c->eof)
			return 0;
		if (errno == ETIMEDOUT)
			return -1;
		/* A line that was not JSON: keep reading. */
		if (errno != EBADMSG)
			return -1;
	}
}

json_t *
harness_call_timeout(struct harness *h, const char *method, json_t *params,
    int timeout_ms)
{
	struct harness_conn	*c;
	json_t			*resp;
	long long		 id;

	if ((c = harness_conn_open(h)) == NULL) {
		json_decref(params);
		return NULL;
	}
	c->next_id = h->next_id++;
	if ((id = harness_conn_request(c, method, params)) == -1) {
		harness_conn_close(c);
		return NULL;
	}
	resp = harness_read_response(c, id, timeout_ms);
	if (resp == NULL) {
		if (c->eof)
			harness_warnx("%s: connection closed without an answer",
			    method);
		else
			harness_warn("%s: no answer", method);
	}
	harness_conn_close(c);
	return resp;
}

json_t *
harness_call(struct harness *h, const char *method, json_t *params)
{
	return harness_call_timeout(h, method, params, HARNESS_CALL_TIMEOUT);
}

int
harness_error_code(const json_t *response)
{
	json_t	*err = json_object_get(response, "error");

	if (!json_is_object(err))
		return 0;
	return (int)json_integer_value(json_object_get(err, "code"));
}

const char *
harness_error_kind(const json_t *response)
{
	json_t	*err = json_object_get(response, "error");

	return json_string_value(json_object_get(json_object_get(err, "data"),
	    "kind"));
}

static void
harness_print_error(const char *method, const json_t *resp)
{
	json_t		*err = json_object_get(resp, "error");
	const char	*msg = json_string_value(json_object_get(err, "message"));
	const char	*kind = harness_error_kind(resp);

	harness_warnx("%s failed: %d %s (%s)", method, harness_error_code(resp),
	    msg != NULL ? msg : "?", kind != NULL ? kind : "?");
}

json_t *
harness_result(struct harness *h, const char *method, json_t *params)
{
	json_t	*resp, *result;

	if ((resp = harness_call(h, method, params)) == NULL)
		return NULL;
	result = json_object_get(resp, "result");
	if (result == NULL) {
		harness_print_error(method, resp);
		json_decref(resp);
		return NULL;
	}
	json_incref(result);
	json_decref(resp);
	return result;
}

/*
 * Events.
 */

struct harness_conn *
harness_subscribe(struct harness *h, json_t *topics)
{
	struct harness_conn	*c;
	json_t			*resp, *params = NULL, *result;
	long long		 id;

	if (topics != NULL)
		params = json_pack("{s:o}", "topics", topics);
	if ((c = harness_conn_open(h)) == NULL) {
		json_decref(params);
		return NULL;
	}
	if ((id = harness_conn_request(c, "subscribe", params)) == -1)
		goto fail;
	if ((resp = harness_read_response(c, id, HARNESS_CALL_TIMEOUT)) ==
	    NULL) {
		harness_warnx("subscribe: no answer");
		goto fail;
	}
	if ((result = json_object_get(resp, "result")) == NULL) {
		harness_print_error("subscribe", resp);
		json_decref(resp);
		goto fail;
	}
	c->seq = json_integer_value(json_object_get(result, "seq"));
	json_decref(resp);
	return c;
fail:
	harness_conn_close(c);
	return NULL;
}

json_t *
harness_next_event(struct harness_conn *c, int timeout_ms)
{
	json_t		*msg, *params;
	uint64_t	 deadline = harness_deadline(timeout_ms);

	if (json_array_size(c->queue) > 0) {
		params = json_incref(json_array_get(c->queue, 0));
		json_array_remove(c->queue, 0);
		return params;
	}
	for (;;) {
		if ((msg = harness_read_line(c, harness_left(deadline))) ==
		    NULL) {
			if (errno == EBADMSG)
				continue;
			return NULL;
		}
		if (harness_is_event(msg)) {
			params = json_incref(json_object_get(msg, "params"));
			json_decref(msg);
			return params;
		}
		harness_trace("skipped", msg);
		json_decref(msg);
	}
}

json_t *
harness_wait_event(struct harness_conn *c, const char *type,
    const char *service, int timeout_ms)
{
	json_t		*ev;
	const char	*t, *s;
	uint64_t	 deadline = harness_deadline(timeout_ms);

	for (;;) {
		if ((ev = harness_next_event(c, harness_left(deadline))) ==
		    NULL) {
			harness_warnx("no %s event%s%s within %d ms%s", type,
			    service != NULL ? " for " : "",
			    service != NULL ? service : "", timeout_ms,
			    c->eof ? " (connection closed)" : "");
			return NULL;
		}
		t = json_string_value(json_object_get(ev, "type"));
		s = json_string_value(json_object_get(ev, "service"));
		if (t != NULL && strcmp(t, type) == 0 && (service == NULL ||
		    (s != NULL && strcmp(s, service) == 0)))
			return ev;
		json_decref(ev);
	}
}

int
harness_wait(struct harness *h, json_t *condition, int timeout_ms)
{
	json_t	*resp, *params, *status;
	char	*cond, *st;

	cond = json_dumps(condition, JSON_COMPACT | JSON_ENCODE_ANY);
	params = json_pack("{s:o, s:i}", "condition", condition, "timeout_ms",
	    timeout_ms);
	/* The socket deadline leaves warden time to say "timeout" itself. */
	resp = harness_call_timeout(h, "wait", params, timeout_ms + 5000);
	if (resp != NULL && json_object_get(resp, "result") != NULL) {
		json_decref(resp);
		free(cond);
		return 0;
	}
	harness_warnx("wait %s: not met within %d ms", cond != NULL ? cond :
	    "?", timeout_ms);
	if (resp != NULL)
		harness_print_error("wait", resp);
	json_decref(resp);
	free(cond);
	if ((status = harness_result(h, "status", NULL)) != NULL) {
		st = json_dumps(status, JSON_INDENT(1));
		harness_warnx("status: %s", st != NULL ? st : "?");
		free(st);
		json_decref(status);
	}
	return -1;
}

int
harness_wait_state(struct harness *h, const char *service, const char *state,
    int timeout_ms)
{
	return harness_wait(h, json_pack("{s:s, s:s}", "service", service,
	    "state", state), timeout_ms);
}

int
harness_wait_recovered(struct harness *h, int timeout_ms)
{
	return harness_wait(h, json_pack("{s:b}", "recovered", 1), timeout_ms);
}

json_t *
harness_service(struct harness *h, const char *service)
{
	json_t		*result, *list, *entry, *found = NULL;
	const char	*name;
	size_t		 i;

	result = harness_result(h, "status", json_pack("{s:s}", "service",
	    service));
	if (result == NULL)
		return NULL;
	list = json_object_get(result, "services");
	if (json_is_array(list)) {
		json_array_foreach(list, i, entry) {
			name = json_string_value(json_object_get(entry, "name"));
			if (name != NULL && strcmp(name, service) == 0) {
				found = json_incref(entry);
				break;
			}
		}
	} else if ((name = json_string_value(json_object_get(result, "name")))
	    != NULL && strcmp(name, service) == 0)
		found = json_incref(result);
	if (found == NULL)
		harness_warnx("status: no service %s", service);
	json_decref(result);
	return found;
}

pid_t
harness_pid_of(struct harness *h, const char *service)
{
	json_t	*entry, *pid;
	pid_t	 rv = 0;

	if ((entry = harness_service(h, service)) == NULL)
		return -1;
	pid = json_object_get(entry, "pid");
	if (json_is_integer(pid) && json_integer_value(pid) > 0)
		rv = (pid_t)json_integer_value(pid);
	json_decref(entry);
	return rv;
}
