/*
 * wardenctl-rpc.c: wardenctl's JSON-RPC calls to warden, through its
 * connection (wardenctl-conn.c), and what each failure tells the user.
 *
 * Calls are one at a time; notifications that arrive before an answer
 * are kept for ctl_next_event(). Every failure is printed here, with the
 * exit status it calls for, so that a command only passes it on.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "protocol.h"
#include "util.h"
#include "wardenctl.h"

/* rpc_read: warden closed the connection. */
#define RPC_EOF		(-1)

void
ctl_init(struct ctl *c, const char *socket, bool json)
{
	memset(c, 0, sizeof(*c));
	c->socket = socket;
	c->json = json;
	conn_init(&c->conn, socket);
}

void
ctl_close(struct ctl *c)
{
	conn_close(&c->conn);
}

static int
rpc_connect(struct ctl *c)
{
	int	error;

	if ((error = conn_open(&c->conn, CTL_DEADLINE_QUICK_MS)) == 0)
		return CTL_EXIT_OK;
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
rpc_lost(struct ctl *c)
{
	return ctl_errx(CTL_EXIT_CONNECT, "connection to %s lost: %s",
	    c->socket, strerror(c->conn.error));
}

static int
rpc_bad_answer(const char *why)
{
	return ctl_errx(CTL_EXIT_ERROR, "bad answer from warden: %s", why);
}

/*
 * The next JSON object from warden. RPC_EOF when warden closed the
 * connection, and CTL_EXIT_TIMEOUT at the deadline, both unreported;
 * any other failure is printed.
 */
static int
rpc_read(struct ctl *c, uint64_t deadline, json_t **msg)
{
	json_error_t	why;

	switch (conn_read(&c->conn, deadline, msg, &why)) {
	case CONN_OK:
		break;
	case CONN_EOF:
		return RPC_EOF;
	case CONN_TIMEOUT:
		return CTL_EXIT_TIMEOUT;
	case CONN_TOO_LONG:
		return ctl_errx(CTL_EXIT_ERROR, "bad answer from warden: a "
		    "line longer than %zu bytes", CONN_LINE_MAX);
	case CONN_BAD:
		return rpc_bad_answer(why.text);
	case CONN_AGAIN:
	case CONN_INVALID:
	case CONN_ERROR:
		return rpc_lost(c);
	}
	if (!json_is_object(*msg)) {
		json_decref(*msg);
		*msg = NULL;
		return rpc_bad_answer("not a JSON object");
	}
	return CTL_EXIT_OK;
}

/*
 * An answer to request id: its result, or the error it carries. The
 * message is for people; when data says why in a "reason" the message
 * does not already hold (a reexec that failed), that is printed too.
 */
static int
rpc_answer(json_t *msg, json_int_t id, json_t **result)
{
	json_t		*error = json_object_get(msg, "error");
	json_t		*res = json_object_get(msg, "result");
	const char	*message, *reason;
	json_int_t	 code;
	int		 status;

	if (!conn_is_answer(msg, id, 1, false))
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

/* Send a request and say why it could not be. */
static int
rpc_send(struct ctl *c, const char *method, json_t *req, int deadline_ms,
    uint64_t deadline)
{
	switch (conn_send(&c->conn, req, deadline)) {
	case CONN_OK:
		return CTL_EXIT_OK;
	case CONN_INVALID:	/* only when an argument is not UTF-8 */
		return ctl_errx(CTL_EXIT_USAGE, "%s: arguments must be UTF-8",
		    method);
	case CONN_TIMEOUT:
		return ctl_errx(CTL_EXIT_TIMEOUT, "warden did not take the "
		    "request within %d ms", deadline_ms);
	default:
		return rpc_lost(c);
	}
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
	uint64_t	 deadline;
	json_int_t	 id;
	int		 rc;

	*result = NULL;
	if (c->conn.fd == -1 && (rc = rpc_connect(c)) != CTL_EXIT_OK) {
		json_decref(params);
		return rc;
	}
	id = ++c->next_id;
	req = conn_request(id, method, params);
	deadline = util_now_us() + (uint64_t)deadline_ms * 1000;
	rc = rpc_send(c, method, req, deadline_ms, deadline);
	json_decref(req);
	if (rc != CTL_EXIT_OK)
		return rc;
	for (;;) {
		rc = rpc_read(c, deadline, &msg);
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
		if ((ev = conn_event_params(msg)) != NULL)
			conn_keep(&c->conn, ev);
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
	return ctl_next_note(c, "event", timeout_ms, params);
}

int
ctl_next_note(struct ctl *c, const char *method, int timeout_ms, json_t **params)
{
	json_t		*msg, *ev;
	uint64_t	 deadline = CONN_NO_DEADLINE;
	int		 rc;

	*params = NULL;
	/* Only events are kept while an answer is awaited. */
	if ((strcmp(method, "event") == 0 &&
	    (*params = conn_kept(&c->conn)) != NULL) || c->conn.fd == -1)
		return CTL_EXIT_OK;
	if (timeout_ms >= 0)
		deadline = util_now_us() + (uint64_t)timeout_ms * 1000;
	for (;;) {
		rc = rpc_read(c, deadline, &msg);
		if (rc == RPC_EOF)
			return CTL_EXIT_OK;
		if (rc != CTL_EXIT_OK)
			return rc;
		/* Any other message is not for this reader: skip it. */
		if ((ev = conn_note_params(msg, method)) != NULL)
			*params = json_incref(ev);
		json_decref(msg);
		if (*params != NULL)
			return CTL_EXIT_OK;
	}
}
