/*
 * controltest.c: what the control suites share (controltest.h).
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "util.h"
#include "controltest.h"

/*
 * Three workers: a and b under the root, c under a nested supervisor.
 * Budgets are wide so that the tests that kill many times never reach them.
 */
const char ct_conf_abc[] =
    "{ \"supervisor\": { \"strategy\": \"one_for_one\",\n"
    "  \"max_restarts\": 50, \"max_seconds\": 60, \"children\": [\n"
    "    { \"name\": \"a\", \"command\": [\"@WORKER@\"] },\n"
    "    { \"name\": \"b\", \"command\": [\"@WORKER@\"] },\n"
    "    { \"name\": \"grp\", \"strategy\": \"one_for_one\",\n"
    "      \"max_restarts\": 20, \"max_seconds\": 60, \"children\": [\n"
    "        { \"name\": \"c\", \"command\": [\"@WORKER@\"] } ] } ] } }\n";

/* A budget small enough to read back exactly in recovery. */
const char ct_conf_budget[] =
    "{ \"supervisor\": { \"strategy\": \"one_for_one\",\n"
    "  \"max_restarts\": 5, \"max_seconds\": 60, \"children\": [\n"
    "    { \"name\": \"a\", \"command\": [\"@WORKER@\"] },\n"
    "    { \"name\": \"b\", \"command\": [\"@WORKER@\"] } ] } }\n";

/* --- lines and answers ---------------------------------------------------- */

struct harness_conn *
ct_conn_open(struct harness *h)
{
	struct harness_conn	*c;

	c = harness_conn_open(h);
	ck_assert_msg(c != NULL, "cannot connect to %s", h->sock);
	return c;
}

/* Send text (see dq()) and a newline. */
void
ct_send_line(struct harness_conn *c, const char *text)
{
	char	*line = cfg("%s\n", text);

	ck_assert_int_eq(harness_conn_send_raw(c, line, strlen(line)), 0);
	free(line);
}

/* The very next line, which must come. */
json_t *
ct_next_line(struct harness_conn *c)
{
	json_t	*msg;

	msg = harness_read_line(c, CALL_MS);
	ck_assert_msg(msg != NULL, "no line from warden (%s)",
	    c->eof ? "connection closed" : strerror(errno));
	return msg;
}

void
ct_check_id(const json_t *resp, long long id)
{
	json_t	*jid = json_object_get(resp, "id");

	if (id == ID_NULL) {
		ck_assert_msg(json_is_null(jid), "id should be null");
		return;
	}
	ck_assert_msg(json_is_integer(jid), "id should be %lld", id);
	ck_assert_int_eq(json_integer_value(jid), id);
}

/* An error answer with this code, data.kind and id. */
void
ct_check_error(const json_t *resp, int code, const char *kind, long long id)
{
	json_t	*err;

	ck_assert_ptr_nonnull(resp);
	ck_assert_str_eq(json_string_value(json_object_get(resp, "jsonrpc")),
	    "2.0");
	err = json_object_get(resp, "error");
	ck_assert_msg(json_is_object(err), "expected error %d, got %s", code,
	    json_object_get(resp, "result") != NULL ? "a result" : "nothing");
	ck_assert_ptr_null(json_object_get(resp, "result"));
	ck_assert_int_eq(harness_error_code(resp), code);
	ck_assert_ptr_nonnull(harness_error_kind(resp));
	ck_assert_str_eq(harness_error_kind(resp), kind);
	ck_assert_msg(json_is_string(json_object_get(err, "message")),
	    "error without a message");
	ct_check_id(resp, id);
}

const char *
ct_error_message(const json_t *resp)
{
	const char	*m;

	m = json_string_value(json_object_get(json_object_get(resp, "error"),
	    "message"));
	return m != NULL ? m : "";
}

/* A result answer with this id; returns the result (borrowed). */
json_t *
ct_check_result(const json_t *resp, long long id)
{
	json_t	*res;

	ck_assert_ptr_nonnull(resp);
	res = json_object_get(resp, "result");
	ck_assert_msg(res != NULL, "expected a result, got error %d (%s)",
	    harness_error_code(resp), ct_error_message(resp));
	ck_assert_ptr_null(json_object_get(resp, "error"));
	ct_check_id(resp, id);
	return res;
}

void
ct_check_pong(const json_t *resp, long long id)
{
	json_t	*res = ct_check_result(resp, id);

	ck_assert_msg(json_is_string(res), "ping: result is not a string");
	ck_assert_str_eq(json_string_value(res), "pong");
}

/* One call on a fresh connection; the whole answer. */
json_t *
ct_call(struct harness *h, const char *method, json_t *params)
{
	json_t	*resp;

	resp = harness_call(h, method, params);
	ck_assert_msg(resp != NULL, "%s: no answer", method);
	return resp;
}

void
ct_ping_ok(struct harness *h)
{
	json_t	*resp = ct_call(h, "ping", NULL);

	ct_check_pong(resp, json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
}

/*
 * Prove that nothing was answered: a ping with a fresh id goes out, and
 * the very next line must be its answer. Answers go out in the order the
 * requests were handled, so anything owed before would come first.
 */
void
ct_check_quiet(struct harness_conn *c)
{
	static long long	 serial = 900000;
	char			 text[128];
	json_t			*resp;
	long long		 id = serial++;

	snprintf(text, sizeof(text),
	    "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"ping\"}", id);
	ct_send_line(c, text);
	resp = ct_next_line(c);
	ck_assert_msg(json_is_object(resp), "the next line is not the ping's");
	ct_check_pong(resp, id);
	json_decref(resp);
}

/* A line sent raw; the next line must be an error with code and id. */
void
ct_expect_error_line(struct harness_conn *c, const char *text, int code,
    const char *kind, long long id)
{
	json_t	*resp;

	ct_send_line(c, text);
	resp = ct_next_line(c);
	ck_assert_msg(json_is_object(resp), "answer to %s is not an object",
	    text);
	ct_check_error(resp, code, kind, id);
	json_decref(resp);
}

/* --- services killed ------------------------------------------------------ */

/* The service.exited event of service, which must carry pid. */
void
ct_await_exit(struct harness_conn *sub, const char *service, pid_t pid)
{
	json_t	*ev;

	ev = harness_wait_event(sub, "service.exited", service, CALL_MS);
	ck_assert_msg(ev != NULL, "no service.exited for %s", service);
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "pid")), pid);
	json_decref(ev);
}

/* service.exited of each of n services, in whatever order they come. */
void
ct_await_exits(struct harness_conn *sub, size_t n, const char *const *names,
    const pid_t *pids)
{
	json_t		*ev;
	const char	*svc;
	size_t		 i, left = n;
	bool		 seen[8] = { false };

	ck_assert_uint_le(n, nitems(seen));
	while (left > 0) {
		ev = harness_wait_event(sub, "service.exited", NULL, CALL_MS);
		ck_assert_msg(ev != NULL, "%zu of %zu exits not seen", left, n);
		svc = json_string_value(json_object_get(ev, "service"));
		for (i = 0; i < n; i++)
			if (svc != NULL && strcmp(svc, names[i]) == 0)
				break;
		ck_assert_msg(i < n, "%s exited, it should not have", svc);
		ck_assert_msg(!seen[i], "%s exited twice", svc);
		ck_assert_int_eq(json_integer_value(json_object_get(ev, "pid")),
		    pids[i]);
		seen[i] = true;
		left--;
		json_decref(ev);
	}
}

void
ct_await_recovered(struct harness *h)
{
	ck_assert_int_eq(harness_wait_recovered(h, CALL_MS), 0);
}

/*
 * Kill service and see warden notice and recover: a barrier. Whatever an
 * earlier request did to the processes has shown by the time a later kill
 * has gone all the way round, so a test can then tell what did not happen.
 */
void
ct_kill_and_recover(struct harness *h, struct harness_conn *sub,
    const char *service)
{
	json_t	*res;
	pid_t	 pid = pid_of(h, service);

	res = result(h, "service.kill", json_pack("{s:s}", "service",
	    service));
	json_decref(res);
	ct_await_exit(sub, service, pid);
	ct_await_recovered(h);
	ck_assert_int_ne(pid_of(h, service), pid);
}

/* killed: [{service, pid}] has exactly these services, with these pids. */
void
ct_check_killed(json_t *res, size_t n, const char *const *names,
    const pid_t *pids)
{
	json_t		*killed = json_object_get(res, "killed"), *k;
	const char	*name;
	size_t		 i, j;
	bool		 seen[8] = { false };

	ck_assert_uint_le(n, nitems(seen));
	ck_assert_msg(json_is_array(killed), "killed is not a list");
	ck_assert_uint_eq(json_array_size(killed), n);
	json_array_foreach(killed, i, k) {
		name = json_string_value(json_object_get(k, "service"));
		ck_assert_ptr_nonnull(name);
		for (j = 0; j < n; j++)
			if (strcmp(names[j], name) == 0)
				break;
		ck_assert_msg(j < n, "%s was killed, it should not be", name);
		ck_assert_msg(!seen[j], "%s killed twice", name);
		seen[j] = true;
		ck_assert_int_eq(json_integer_value(json_object_get(k, "pid")),
		    pids[j]);
	}
	ck_assert_msg(json_is_number(json_object_get(res, "ts")),
	    "service.kill: no numeric ts");
}

