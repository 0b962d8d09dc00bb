/*
 * check_control.c: the control socket and its JSON-RPC, against the real
 * daemon: framing and error codes, batches and notifications, the limits
 * of control.c (line length, idle clients, the number of clients), events
 * and their sequence numbers, wait, service.kill, status, recovery and
 * shutdown, a flood of garbage, the calls one client may have awaiting
 * their answer, and the deadline of a request line.
 */
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "util.h"
#include "version.h"
#include "suite.h"

#define CALL_MS		HARNESS_CALL_TIMEOUT
/* For an answer whose id must be null. */
#define ID_NULL		LLONG_MIN
#define MAX_LINE	(1024 * 1024)	/* control.c's CONTROL_MAX_LINE */
#define MAX_CLIENTS	256		/* CONTROL_MAX_CLIENTS */

/*
 * Three workers: a and b under the root, c under a nested supervisor.
 * Budgets are wide so that the tests that kill many times never reach them.
 */
static const char conf_abc[] =
    "{ \"supervisor\": { \"strategy\": \"one_for_one\",\n"
    "  \"max_restarts\": 50, \"max_seconds\": 60, \"children\": [\n"
    "    { \"name\": \"a\", \"command\": [\"@WORKER@\"] },\n"
    "    { \"name\": \"b\", \"command\": [\"@WORKER@\"] },\n"
    "    { \"name\": \"grp\", \"strategy\": \"one_for_one\",\n"
    "      \"max_restarts\": 20, \"max_seconds\": 60, \"children\": [\n"
    "        { \"name\": \"c\", \"command\": [\"@WORKER@\"] } ] } ] } }\n";

/* A budget small enough to read back exactly in recovery. */
static const char conf_budget[] =
    "{ \"supervisor\": { \"strategy\": \"one_for_one\",\n"
    "  \"max_restarts\": 5, \"max_seconds\": 60, \"children\": [\n"
    "    { \"name\": \"a\", \"command\": [\"@WORKER@\"] },\n"
    "    { \"name\": \"b\", \"command\": [\"@WORKER@\"] } ] } }\n";

/* --- helpers -------------------------------------------------------------- */

static void
start(struct harness *h, const char *conf)
{
	ck_assert_msg(harness_start(h, conf) == 0, "warden did not start");
}

static void
stop(struct harness *h)
{
	ck_assert_int_eq(harness_stop(h), 0);
	ck_assert_int_eq(h->leftovers, 0);
}

static struct harness_conn *
conn_open(struct harness *h)
{
	struct harness_conn	*c;

	c = harness_conn_open(h);
	ck_assert_msg(c != NULL, "cannot connect to %s", h->sock);
	return c;
}

/*
 * JSON in the tests is written with ' for " so that it reads as it goes
 * over the wire; no test needs a real '. Returns text with a " for each '
 * and then suffix, malloc'd.
 */
static char *
dq(const char *text, const char *suffix)
{
	char	*s, *p;

	xasprintf(&s, "%s%s", text, suffix);
	for (p = s; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return s;
}

/* Send text (see dq()) and a newline. */
static void
send_line(struct harness_conn *c, const char *text)
{
	char	*line = dq(text, "\n");

	ck_assert_int_eq(harness_conn_send_raw(c, line, strlen(line)), 0);
	free(line);
}

/* The very next line, which must come. */
static json_t *
next_line(struct harness_conn *c)
{
	json_t	*msg;

	msg = harness_read_line(c, CALL_MS);
	ck_assert_msg(msg != NULL, "no line from warden (%s)",
	    c->eof ? "connection closed" : strerror(errno));
	return msg;
}

static void
check_id(const json_t *resp, long long id)
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
static void
check_error(const json_t *resp, int code, const char *kind, long long id)
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
	check_id(resp, id);
}

static const char *
error_message(const json_t *resp)
{
	const char	*m;

	m = json_string_value(json_object_get(json_object_get(resp, "error"),
	    "message"));
	return m != NULL ? m : "";
}

/* A result answer with this id; returns the result (borrowed). */
static json_t *
check_result(const json_t *resp, long long id)
{
	json_t	*res;

	ck_assert_ptr_nonnull(resp);
	res = json_object_get(resp, "result");
	ck_assert_msg(res != NULL, "expected a result, got error %d (%s)",
	    harness_error_code(resp), error_message(resp));
	ck_assert_ptr_null(json_object_get(resp, "error"));
	check_id(resp, id);
	return res;
}

static void
check_pong(const json_t *resp, long long id)
{
	json_t	*res = check_result(resp, id);

	ck_assert_msg(json_is_string(res), "ping: result is not a string");
	ck_assert_str_eq(json_string_value(res), "pong");
}

/* One call on a fresh connection; the whole answer. */
static json_t *
call(struct harness *h, const char *method, json_t *params)
{
	json_t	*resp;

	resp = harness_call(h, method, params);
	ck_assert_msg(resp != NULL, "%s: no answer", method);
	return resp;
}

/* A call that must succeed: its result (a new reference). */
static json_t *
result(struct harness *h, const char *method, json_t *params)
{
	json_t	*res;

	res = harness_result(h, method, params);
	ck_assert_msg(res != NULL, "%s failed", method);
	return res;
}

static void
ping_ok(struct harness *h)
{
	json_t	*resp = call(h, "ping", NULL);

	check_pong(resp, json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
}

/*
 * Prove that nothing was answered: a ping with a fresh id goes out, and
 * the very next line must be its answer. Answers go out in the order the
 * requests were handled, so anything owed before would come first.
 */
static void
check_quiet(struct harness_conn *c)
{
	static long long	 serial = 900000;
	char			 text[128];
	json_t			*resp;
	long long		 id = serial++;

	snprintf(text, sizeof(text),
	    "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"ping\"}", id);
	send_line(c, text);
	resp = next_line(c);
	ck_assert_msg(json_is_object(resp), "the next line is not the ping's");
	check_pong(resp, id);
	json_decref(resp);
}

/* A line sent raw; the next line must be an error with code and id. */
static void
expect_error_line(struct harness_conn *c, const char *text, int code,
    const char *kind, long long id)
{
	json_t	*resp;

	send_line(c, text);
	resp = next_line(c);
	ck_assert_msg(json_is_object(resp), "answer to %s is not an object",
	    text);
	check_error(resp, code, kind, id);
	json_decref(resp);
}

static pid_t
pid_of(struct harness *h, const char *service)
{
	pid_t	pid = harness_pid_of(h, service);

	ck_assert_msg(pid > 0, "%s has no pid", service);
	return pid;
}

static json_t *
service_of(struct harness *h, const char *service)
{
	json_t	*s = harness_service(h, service);

	ck_assert_msg(s != NULL, "no status for %s", service);
	return s;
}

static struct harness_conn *
subscribe(struct harness *h, json_t *topics)
{
	struct harness_conn	*c = harness_subscribe(h, topics);

	ck_assert_msg(c != NULL, "subscribe failed");
	ck_assert_int_ge(c->seq, 0);
	return c;
}

/* The service.exited event of service, which must carry pid. */
static void
await_exit(struct harness_conn *sub, const char *service, pid_t pid)
{
	json_t	*ev;

	ev = harness_wait_event(sub, "service.exited", service, CALL_MS);
	ck_assert_msg(ev != NULL, "no service.exited for %s", service);
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "pid")), pid);
	json_decref(ev);
}

/* service.exited of each of n services, in whatever order they come. */
static void
await_exits(struct harness_conn *sub, size_t n, const char *const *names,
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

static void
await_recovered(struct harness *h)
{
	ck_assert_int_eq(harness_wait_recovered(h, CALL_MS), 0);
}

/*
 * Kill service and see warden notice and recover: a barrier. Whatever an
 * earlier request did to the processes has shown by the time a later kill
 * has gone all the way round, so a test can then tell what did not happen.
 */
static void
kill_and_recover(struct harness *h, struct harness_conn *sub,
    const char *service)
{
	json_t	*res;
	pid_t	 pid = pid_of(h, service);

	res = result(h, "service.kill", json_pack("{s:s}", "service",
	    service));
	json_decref(res);
	await_exit(sub, service, pid);
	await_recovered(h);
	ck_assert_int_ne(pid_of(h, service), pid);
}

/* killed: [{service, pid}] has exactly these services, with these pids. */
static void
check_killed(json_t *res, size_t n, const char *const *names,
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

/* --- 1. framing ----------------------------------------------------------- */

START_TEST(test_parse_error)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, conf_abc);
	c = conn_open(&h);
	expect_error_line(c, "{not json", -32700, "parse_error", ID_NULL);
	check_quiet(c);
	/* Cut short: the id is never seen, so it is null. */
	expect_error_line(c, "{'jsonrpc':'2.0','id':7,'method':'ping'",
	    -32700, "parse_error", ID_NULL);
	check_quiet(c);
	expect_error_line(c, "{'jsonrpc':'2.0','id':1,'id':2,"
	    "'method':'ping'}", -32700, "parse_error", ID_NULL);
	expect_error_line(c, "\xff\xfe{}", -32700, "parse_error", ID_NULL);
	expect_error_line(c, "]", -32700, "parse_error", ID_NULL);
	check_quiet(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* --- 2. invalid requests -------------------------------------------------- */

START_TEST(test_not_an_object)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, conf_abc);
	c = conn_open(&h);
	/* Valid JSON, but no request: -32600, not a parse error. */
	expect_error_line(c, "42", -32600, "invalid_request", ID_NULL);
	expect_error_line(c, "'ping'", -32600, "invalid_request", ID_NULL);
	expect_error_line(c, "null", -32600, "invalid_request", ID_NULL);
	check_quiet(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

START_TEST(test_invalid_request)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, conf_abc);
	c = conn_open(&h);
	expect_error_line(c, "{'id':1,'method':'ping'}", -32600,
	    "invalid_request", 1);
	expect_error_line(c, "{'jsonrpc':'1.0','id':2,'method':'ping'}",
	    -32600, "invalid_request", 2);
	expect_error_line(c, "{'jsonrpc':2.0,'id':3,'method':'ping'}",
	    -32600, "invalid_request", 3);
	expect_error_line(c, "{'jsonrpc':'2.0','id':4,'method':5}",
	    -32600, "invalid_request", 4);
	expect_error_line(c, "{'jsonrpc':'2.0','id':5}", -32600,
	    "invalid_request", 5);
	expect_error_line(c, "{'jsonrpc':'2.0','id':6,'method':'ping',"
	    "'extra':true}", -32600, "invalid_request", 6);
	/* An id that is no id cannot be echoed. */
	expect_error_line(c, "{'jsonrpc':'2.0','id':{},'method':'ping'}",
	    -32600, "invalid_request", ID_NULL);
	/* An invalid request without id is still answered (id null). */
	expect_error_line(c, "{'method':'ping'}", -32600, "invalid_request",
	    ID_NULL);
	check_quiet(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* --- 3. methods and params ------------------------------------------------ */

START_TEST(test_method_and_params_errors)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, conf_abc);
	c = conn_open(&h);
	expect_error_line(c, "{'jsonrpc':'2.0','id':1,'method':'nosuch'}",
	    -32601, "method_not_found", 1);
	expect_error_line(c, "{'jsonrpc':'2.0','id':2,'method':'PING'}",
	    -32601, "method_not_found", 2);
	expect_error_line(c, "{'jsonrpc':'2.0','id':3,'method':'ping',"
	    "'params':{'x':1}}", -32602, "invalid_params", 3);
	expect_error_line(c, "{'jsonrpc':'2.0','id':4,'method':'status',"
	    "'params':{'service':'a','verbose':true}}", -32602,
	    "invalid_params", 4);
	expect_error_line(c, "{'jsonrpc':'2.0','id':5,'method':'status',"
	    "'params':{'service':5}}", -32602, "invalid_params", 5);
	expect_error_line(c, "{'jsonrpc':'2.0','id':6,'method':'status',"
	    "'params':['a']}", -32602, "invalid_params", 6);
	expect_error_line(c, "{'jsonrpc':'2.0','id':7,'method':'status',"
	    "'params':'a'}", -32602, "invalid_params", 7);
	expect_error_line(c, "{'jsonrpc':'2.0','id':8,'method':'status',"
	    "'params':{'service':'nope'}}", -32001, "not_found", 8);
	expect_error_line(c, "{'jsonrpc':'2.0','id':9,"
	    "'method':'service.stop','params':{}}", -32602,
	    "invalid_params", 9);
	expect_error_line(c, "{'jsonrpc':'2.0','id':10,"
	    "'method':'service.restart','params':{'service':'nope'}}",
	    -32001, "not_found", 10);
	/* A string id is echoed as it came. */
	send_line(c, "{'jsonrpc':'2.0','id':'x-1','method':'nosuch'}");
	{
		json_t	*resp = next_line(c);

		ck_assert_int_eq(harness_error_code(resp), -32601);
		ck_assert_str_eq(json_string_value(json_object_get(resp, "id")),
		    "x-1");
		json_decref(resp);
	}
	check_quiet(c);
	/* Nothing of it touched the services. */
	{
		json_t	*s = service_of(&h, "a");

		ck_assert_str_eq(json_string_value(json_object_get(s, "state")),
		    "running");
		ck_assert_int_eq(json_integer_value(json_object_get(s,
		    "restarts")), 0);
		json_decref(s);
	}
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* --- 4. batches ----------------------------------------------------------- */

START_TEST(test_batch_in_order)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*resp, *r;

	start(&h, conf_abc);
	c = conn_open(&h);
	send_line(c, "[{'jsonrpc':'2.0','id':31,'method':'ping'},"
	    "{'jsonrpc':'2.0','id':'v','method':'version'},"
	    "{'jsonrpc':'2.0','id':33,'method':'status'}]");
	resp = next_line(c);
	ck_assert_msg(json_is_array(resp), "a batch is answered as an array");
	ck_assert_uint_eq(json_array_size(resp), 3);
	check_pong(json_array_get(resp, 0), 31);
	r = json_object_get(json_array_get(resp, 1), "result");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(resp,
	    1), "id")), "v");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "protocol")), 1);
	r = check_result(json_array_get(resp, 2), 33);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "services")), 3);
	json_decref(resp);
	check_quiet(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

START_TEST(test_batch_bad_member)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*resp;

	start(&h, conf_abc);
	c = conn_open(&h);
	send_line(c, "[{'jsonrpc':'2.0','id':1,'method':'ping'},"
	    "{'jsonrpc':'2.0','id':2,'method':'nosuch'},"
	    "42,"
	    "{'jsonrpc':'2.0','id':4,'method':'status',"
	    "'params':{'service':'nope'}},"
	    "{'jsonrpc':'2.0','id':5,'method':'ping'}]");
	resp = next_line(c);
	ck_assert_msg(json_is_array(resp), "a batch is answered as an array");
	ck_assert_uint_eq(json_array_size(resp), 5);
	check_pong(json_array_get(resp, 0), 1);
	check_error(json_array_get(resp, 1), -32601, "method_not_found", 2);
	check_error(json_array_get(resp, 2), -32600, "invalid_request",
	    ID_NULL);
	check_error(json_array_get(resp, 3), -32001, "not_found", 4);
	check_pong(json_array_get(resp, 4), 5);
	json_decref(resp);
	check_quiet(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

START_TEST(test_batch_empty)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, conf_abc);
	c = conn_open(&h);
	expect_error_line(c, "[]", -32600, "invalid_request", ID_NULL);
	check_quiet(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

START_TEST(test_batch_all_notifications)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, conf_abc);
	c = conn_open(&h);
	/* Even a failing notification is not answered. */
	send_line(c, "[{'jsonrpc':'2.0','method':'ping'},"
	    "{'jsonrpc':'2.0','method':'version'},"
	    "{'jsonrpc':'2.0','method':'nosuch'},"
	    "{'jsonrpc':'2.0','method':'status',"
	    "'params':{'service':'nope'}}]");
	check_quiet(c);
	/* Mixed: only the members with an id are in the answer. */
	send_line(c, "[{'jsonrpc':'2.0','method':'ping'},"
	    "{'jsonrpc':'2.0','id':8,'method':'ping'},"
	    "{'jsonrpc':'2.0','method':'nosuch'}]");
	{
		json_t	*resp = next_line(c);

		ck_assert_msg(json_is_array(resp), "expected an array");
		ck_assert_uint_eq(json_array_size(resp), 1);
		check_pong(json_array_get(resp, 0), 8);
		json_decref(resp);
	}
	check_quiet(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

START_TEST(test_batch_with_wait)
{
	struct harness		 h;
	struct harness_conn	*c, *sub;
	json_t			*resp, *r;
	pid_t			 pid;

	start(&h, conf_abc);
	sub = subscribe(&h, NULL);
	pid = pid_of(&h, "a");
	c = conn_open(&h);
	send_line(c, "[{'jsonrpc':'2.0','id':10,'method':'ping'},"
	    "{'jsonrpc':'2.0','id':11,'method':'wait','params':"
	    "{'condition':{'service':'a','state':'running',"
	    "'min_restarts':1},'timeout_ms':20000}},"
	    "{'jsonrpc':'2.0','id':12,'method':'version'}]");
	/* Not answered yet: the ping sent after it comes back first. */
	check_quiet(c);
	r = result(&h, "service.kill", json_pack("{s:s}", "service", "a"));
	json_decref(r);
	await_exit(sub, "a", pid);
	resp = next_line(c);
	ck_assert_msg(json_is_array(resp), "the batch's answer is an array");
	ck_assert_uint_eq(json_array_size(resp), 3);
	check_pong(json_array_get(resp, 0), 10);
	r = check_result(json_array_get(resp, 1), 11);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "a");
	ck_assert_str_eq(json_string_value(json_object_get(r, "state")),
	    "running");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "restarts")), 1);
	ck_assert_int_ne(json_integer_value(json_object_get(r, "pid")), pid);
	r = check_result(json_array_get(resp, 2), 12);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "protocol")), 1);
	json_decref(resp);
	check_quiet(c);
	harness_conn_close(c);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* --- 5. notifications ----------------------------------------------------- */

START_TEST(test_notification)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, conf_abc);
	c = conn_open(&h);
	send_line(c, "{'jsonrpc':'2.0','method':'ping'}");
	check_quiet(c);
	send_line(c, "{'jsonrpc':'2.0','method':'nosuch'}");
	send_line(c, "{'jsonrpc':'2.0','method':'status',"
	    "'params':{'service':7}}");
	check_quiet(c);
	/* Blank lines are no requests either. */
	send_line(c, "");
	send_line(c, "\r");
	check_quiet(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* --- 6. line length ------------------------------------------------------- */

START_TEST(test_line_limit)
{
	static const char	 req[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
	struct harness		 h;
	struct harness_conn	*other, *c;
	json_t			*resp;
	char			*buf;

	start(&h, conf_abc);
	other = conn_open(&h);
	check_quiet(other);
	buf = xmalloc(MAX_LINE + 2);

	/* Exactly the limit, with its newline: an ordinary request. */
	c = conn_open(&h);
	memcpy(buf, req, sizeof(req) - 1);
	memset(buf + sizeof(req) - 1, ' ', MAX_LINE - (sizeof(req) - 1));
	buf[MAX_LINE] = '\n';
	ck_assert_int_eq(harness_conn_send_raw(c, buf, MAX_LINE + 1), 0);
	resp = next_line(c);
	check_pong(resp, 1);
	json_decref(resp);
	check_quiet(c);
	harness_conn_close(c);

	/* One byte over and no newline yet: an error, then the door. */
	c = conn_open(&h);
	memset(buf, 'x', MAX_LINE + 1);
	ck_assert_int_eq(harness_conn_send_raw(c, buf, MAX_LINE + 1), 0);
	resp = next_line(c);
	check_error(resp, -32600, "invalid_request", ID_NULL);
	json_decref(resp);
	ck_assert_int_eq(harness_conn_wait_closed(c, CALL_MS), 0);
	harness_conn_close(c);
	check_quiet(other);

	/* One byte over, newline and all. */
	c = conn_open(&h);
	memset(buf, ' ', MAX_LINE + 1);
	buf[MAX_LINE + 1] = '\n';
	ck_assert_int_eq(harness_conn_send_raw(c, buf, MAX_LINE + 2), 0);
	resp = next_line(c);
	check_error(resp, -32600, "invalid_request", ID_NULL);
	json_decref(resp);
	ck_assert_int_eq(harness_conn_wait_closed(c, CALL_MS), 0);
	harness_conn_close(c);

	free(buf);
	check_quiet(other);
	harness_conn_close(other);
	ping_ok(&h);
	stop(&h);
}
END_TEST

/* The limits come from warden.json: small ones, each hit. */
START_TEST(test_configured_limits)
{
	struct harness		 h;
	struct harness_conn	*c, *cs[3], *extra;
	json_t			*resp;
	char			 line[256];
	size_t			 i;

	start(&h, "{ \"limits\": { \"max_line_bytes\": 200, \"max_clients\": 3,\n"
	    "  \"idle_ms\": 300, \"max_json_depth\": 4, \"max_batch\": 2 },\n"
	    "  \"supervisor\": { \"children\": [] } }\n");

	/* Nesting: 4 levels pass (an error about params, not depth), 5 do not. */
	c = conn_open(&h);
	send_line(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
	    "\"params\":{\"a\":[[1]]}}");
	resp = next_line(c);
	check_error(resp, -32602, "invalid_params", 1);
	json_decref(resp);
	send_line(c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\","
	    "\"params\":{\"a\":[[[1]]]}}");
	resp = next_line(c);
	check_error(resp, -32600, "invalid_request", ID_NULL);
	ck_assert_msg(strstr(error_message(resp), "deeper than 4") != NULL,
	    "%s", error_message(resp));
	json_decref(resp);
	/* Brackets inside strings are not nesting. */
	send_line(c, "{\"jsonrpc\":\"2.0\",\"id\":\"[[[[[[\",\"method\":\"ping\"}");
	resp = next_line(c);
	ck_assert_str_eq(json_string_value(json_object_get(resp, "result")), "pong");
	json_decref(resp);

	/* Batches: 2 are served, 3 are refused whole. */
	send_line(c, "[{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}]");
	resp = next_line(c);
	ck_assert_msg(json_is_array(resp) && json_array_size(resp) == 2,
	    "batch of 2 not answered as 2");
	json_decref(resp);
	send_line(c, "[{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}]");
	resp = next_line(c);
	check_error(resp, -32600, "invalid_request", ID_NULL);
	ck_assert_msg(strstr(error_message(resp), "over 2") != NULL, "%s",
	    error_message(resp));
	json_decref(resp);
	harness_conn_close(c);

	/* Line length: 201 bytes of a line is over. */
	c = conn_open(&h);
	memset(line, ' ', sizeof(line));
	ck_assert_int_eq(harness_conn_send_raw(c, line, 201), 0);
	resp = next_line(c);
	check_error(resp, -32600, "invalid_request", ID_NULL);
	ck_assert_msg(strstr(error_message(resp), "over 200 bytes") != NULL,
	    "%s", error_message(resp));
	json_decref(resp);
	ck_assert_int_eq(harness_conn_wait_closed(c, CALL_MS), 0);
	harness_conn_close(c);

	/* Clients: 3 are served, the 4th refused. */
	for (i = 0; i < 3; i++) {
		cs[i] = conn_open(&h);
		check_quiet(cs[i]);
	}
	extra = conn_open(&h);
	resp = next_line(extra);
	check_error(resp, -32600, "invalid_request", ID_NULL);
	ck_assert_msg(strstr(error_message(resp), "limit 3") != NULL, "%s",
	    error_message(resp));
	json_decref(resp);
	ck_assert_int_eq(harness_conn_wait_closed(extra, CALL_MS), 0);
	harness_conn_close(extra);

	/* Idle mid-line: closed after 300 ms, not 10 s. */
	ck_assert_int_eq(harness_conn_send_raw(cs[0], "{\"jsonrpc\"", 11), 0);
	resp = next_line(cs[0]);
	check_error(resp, -32600, "invalid_request", ID_NULL);
	ck_assert_msg(strstr(error_message(resp), "300 ms") != NULL, "%s",
	    error_message(resp));
	json_decref(resp);
	ck_assert_int_eq(harness_conn_wait_closed(cs[0], CALL_MS), 0);
	for (i = 0; i < 3; i++)
		harness_conn_close(cs[i]);
	ping_ok(&h);
	stop(&h);
}
END_TEST

/* --- 7. idle mid-line ----------------------------------------------------- */

START_TEST(test_idle_mid_line)
{
	static const char	 half[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"me";
	struct harness		 h;
	struct harness_conn	*idle, *other;
	struct pollfd		 pfd;
	json_t			*resp;
	uint64_t		 t0, elapsed;
	long long		 id;

	start(&h, conf_abc);
	other = conn_open(&h);
	idle = conn_open(&h);
	t0 = util_now_ms();
	ck_assert_int_eq(harness_conn_send_raw(idle, half, sizeof(half) - 1),
	    0);
	/* Served meanwhile: a ping at once, and a 2 s wait that runs out. */
	check_quiet(other);
	id = harness_conn_request(other, "wait",
	    json_pack("{s:{s:s,s:s},s:i}", "condition", "service", "a",
	    "state", "stopped", "timeout_ms", 2000));
	ck_assert_int_gt(id, 0);
	resp = next_line(other);
	check_error(resp, -32003, "timeout", id);
	json_decref(resp);
	/* Well inside the 10 s, the idle client has had nothing yet. */
	pfd.fd = idle->fd;
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	check_quiet(other);

	resp = harness_read_line(idle, 20000);
	elapsed = util_now_ms() - t0;
	ck_assert_msg(resp != NULL, "the idle client got no error");
	check_error(resp, -32600, "invalid_request", ID_NULL);
	json_decref(resp);
	ck_assert_msg(elapsed >= 9500, "closed after %llu ms, before 10 s",
	    (unsigned long long)elapsed);
	ck_assert_int_eq(harness_conn_wait_closed(idle, CALL_MS), 0);
	harness_conn_close(idle);
	check_quiet(other);
	harness_conn_close(other);
	stop(&h);
}
END_TEST

/* --- 8. number of clients ------------------------------------------------- */

START_TEST(test_max_clients)
{
	struct harness		 h;
	struct harness_conn	*cs[MAX_CLIENTS], *extra;
	json_t			*resp;
	size_t			 i;

	start(&h, conf_abc);
	for (i = 0; i < MAX_CLIENTS; i++)
		cs[i] = conn_open(&h);
	/* All of them served: so all of them accepted. */
	for (i = 0; i < MAX_CLIENTS; i++)
		check_quiet(cs[i]);

	extra = conn_open(&h);
	resp = next_line(extra);
	check_error(resp, -32600, "invalid_request", ID_NULL);
	ck_assert_msg(strstr(error_message(resp), "too many clients") != NULL,
	    "message: %s", error_message(resp));
	json_decref(resp);
	ck_assert_int_eq(harness_conn_wait_closed(extra, CALL_MS), 0);
	harness_conn_close(extra);
	/* The refusal cost nobody their place. */
	check_quiet(cs[0]);
	check_quiet(cs[MAX_CLIENTS - 1]);

	/*
	 * One leaves. Half-closing and waiting for warden to close its end
	 * proves warden has let it go before the next one comes.
	 */
	ck_assert_int_eq(shutdown(cs[0]->fd, SHUT_WR), 0);
	ck_assert_int_eq(harness_conn_wait_closed(cs[0], CALL_MS), 0);
	harness_conn_close(cs[0]);
	cs[0] = conn_open(&h);
	check_quiet(cs[0]);

	for (i = 0; i < MAX_CLIENTS; i++)
		harness_conn_close(cs[i]);
	stop(&h);
}
END_TEST

/* --- 9. events ------------------------------------------------------------ */

/* Events up to service.ready of service, their seqs checked on the way. */
static json_t *
collect_until_ready(struct harness_conn *sub, const char *service,
    long long *next_seq)
{
	json_t		*list = json_array(), *ev;
	const char	*type, *svc;

	for (;;) {
		ev = harness_next_event(sub, CALL_MS);
		ck_assert_msg(ev != NULL, "events stopped before %s was ready",
		    service);
		ck_assert_msg(json_is_integer(json_object_get(ev, "seq")),
		    "an event without seq");
		ck_assert_msg(json_is_number(json_object_get(ev, "ts")),
		    "an event without ts");
		type = json_string_value(json_object_get(ev, "type"));
		ck_assert_ptr_nonnull(type);
		ck_assert_int_eq(json_integer_value(json_object_get(ev, "seq")),
		    *next_seq);
		(*next_seq)++;
		json_array_append(list, ev);
		svc = json_string_value(json_object_get(ev, "service"));
		if (strcmp(type, "service.ready") == 0 && svc != NULL &&
		    strcmp(svc, service) == 0) {
			json_decref(ev);
			return list;
		}
		json_decref(ev);
	}
}

START_TEST(test_subscribe_seq)
{
	struct harness		 h;
	struct harness_conn	*s1, *s2, *rd;
	json_t			*all, *part, *ev, *ev2, *r;
	long long		 seq, seq2, first;
	size_t			 i, nready = 0;
	int			 cycle;
	pid_t			 pid;
	bool			 exited;

	start(&h, conf_abc);
	s1 = subscribe(&h, NULL);
	s2 = subscribe(&h, NULL);
	rd = subscribe(&h, json_pack("[s]", "service.ready"));
	/* Nothing happens between the three: they start from one seq. */
	ck_assert_int_eq(s2->seq, s1->seq);
	ck_assert_int_eq(rd->seq, s1->seq);

	first = seq = s1->seq + 1;
	all = json_array();
	for (cycle = 0; cycle < 2; cycle++) {
		pid = pid_of(&h, "a");
		r = result(&h, "service.kill", json_pack("{s:s}", "service",
		    "a"));
		json_decref(r);
		part = collect_until_ready(s1, "a", &seq);
		/* The exit comes before the new process is ready. */
		exited = false;
		json_array_foreach(part, i, ev) {
			if (strcmp(json_string_value(json_object_get(ev,
			    "type")), "service.exited") == 0) {
				ck_assert_int_eq(json_integer_value(
				    json_object_get(ev, "pid")), pid);
				exited = true;
			}
		}
		ck_assert_msg(exited, "cycle %d: no service.exited", cycle);
		json_array_extend(all, part);
		json_decref(part);
	}

	/* The second subscriber saw exactly the same. */
	seq2 = first;
	json_array_foreach(all, i, ev) {
		ev2 = harness_next_event(s2, CALL_MS);
		ck_assert_ptr_nonnull(ev2);
		ck_assert_int_eq(json_integer_value(json_object_get(ev2,
		    "seq")), seq2++);
		ck_assert_msg(json_equal(ev, ev2), "subscribers differ at %zu",
		    i);
		json_decref(ev2);
	}

	/* The filtered one: only service.ready, with the same seqs. */
	json_array_foreach(all, i, ev) {
		if (strcmp(json_string_value(json_object_get(ev, "type")),
		    "service.ready") != 0)
			continue;
		ev2 = harness_next_event(rd, CALL_MS);
		ck_assert_ptr_nonnull(ev2);
		ck_assert_str_eq(json_string_value(json_object_get(ev2,
		    "type")), "service.ready");
		ck_assert_int_eq(json_integer_value(json_object_get(ev2,
		    "seq")), json_integer_value(json_object_get(ev, "seq")));
		json_decref(ev2);
		nready++;
	}
	ck_assert_uint_eq(nready, 2);
	ck_assert_uint_gt(json_array_size(all), 2 * 2);
	/* Nothing else was queued for it. */
	check_quiet(rd);

	json_decref(all);
	harness_conn_close(s1);
	harness_conn_close(s2);
	harness_conn_close(rd);
	stop(&h);
}
END_TEST

START_TEST(test_subscribe_params)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*resp, *r;
	long long		 id;

	start(&h, conf_abc);
	c = conn_open(&h);
	id = harness_conn_request(c, "subscribe", json_pack("{s:s}", "topics",
	    "service.ready"));
	resp = next_line(c);
	check_error(resp, -32602, "invalid_params", id);
	json_decref(resp);
	id = harness_conn_request(c, "subscribe", json_pack("{s:[i]}",
	    "topics", 3));
	resp = next_line(c);
	check_error(resp, -32602, "invalid_params", id);
	json_decref(resp);
	id = harness_conn_request(c, "subscribe", json_pack("{s:b}", "all", 1));
	resp = next_line(c);
	check_error(resp, -32602, "invalid_params", id);
	json_decref(resp);
	/* The seq is the last one emitted: nothing happened since start. */
	id = harness_conn_request(c, "subscribe", NULL);
	resp = next_line(c);
	r = check_result(resp, id);
	ck_assert_msg(json_is_integer(json_object_get(r, "seq")),
	    "subscribe: no seq");
	ck_assert_int_ge(json_integer_value(json_object_get(r, "seq")), 1);
	json_decref(resp);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* --- 10. wait ------------------------------------------------------------- */

static json_t *
wait_call(struct harness *h, json_t *cond, int timeout_ms)
{
	json_t	*params;

	params = json_pack("{s:o}", "condition", cond);
	if (timeout_ms >= 0)
		json_object_set_new(params, "timeout_ms",
		    json_integer(timeout_ms));
	return call(h, "wait", params);
}

START_TEST(test_wait_timeout)
{
	struct harness	 h;
	json_t		*resp, *data;
	uint64_t	 t0, elapsed;

	start(&h, conf_abc);
	t0 = util_now_ms();
	resp = wait_call(&h, json_pack("{s:s,s:s}", "service", "a", "state",
	    "stopped"), 300);
	elapsed = util_now_ms() - t0;
	check_error(resp, -32003, "timeout",
	    json_integer_value(json_object_get(resp, "id")));
	data = json_object_get(json_object_get(resp, "error"), "data");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(data,
	    "condition"), "service")), "a");
	/* It ran its time, not answered at once. */
	ck_assert_msg(elapsed >= 250, "timed out after %llu ms",
	    (unsigned long long)elapsed);
	json_decref(resp);
	/* Zero: one test, no wait. */
	resp = wait_call(&h, json_pack("{s:s,s:s}", "service", "a", "state",
	    "stopped"), 0);
	ck_assert_int_eq(harness_error_code(resp), -32003);
	json_decref(resp);
	resp = wait_call(&h, json_pack("{s:s,s:s}", "service", "a", "state",
	    "running"), 0);
	check_result(resp, json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
	stop(&h);
}
END_TEST

START_TEST(test_wait_errors)
{
	static const char *const bad[] = {
		"{}",
		"{'service':'a'}",
		"{'service':'a','state':'sleeping'}",
		"{'service':'a','state':5}",
		"{'service':3,'state':'running'}",
		"{'service':'a','state':'running','min_restarts':-1}",
		"{'service':'a','state':'running','min_restarts':'1'}",
		"{'service':'a','state':'running','color':'red'}",
		"{'recovered':false}",
		"{'recovered':true,'service':'a'}",
		"'recovered'",
		"[]",
	};
	struct harness	 h;
	json_error_t	 jerr;
	json_t		*resp, *cond;
	char		*text;
	size_t		 i;

	start(&h, conf_abc);
	resp = wait_call(&h, json_pack("{s:s,s:s}", "service", "nope", "state",
	    "running"), 1000);
	check_error(resp, -32001, "not_found",
	    json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
	for (i = 0; i < nitems(bad); i++) {
		text = dq(bad[i], "");
		cond = json_loads(text, JSON_DECODE_ANY, &jerr);
		free(text);
		ck_assert_ptr_nonnull(cond);
		resp = wait_call(&h, cond, 1000);
		ck_assert_msg(harness_error_code(resp) == -32602,
		    "condition %s: code %d, expected -32602", bad[i],
		    harness_error_code(resp));
		json_decref(resp);
	}
	/* No condition; a timeout that is not one. */
	resp = call(&h, "wait", json_pack("{s:i}", "timeout_ms", 100));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	resp = call(&h, "wait", json_pack("{s:{s:b},s:i}", "condition",
	    "recovered", 1, "timeout_ms", -1));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	resp = call(&h, "wait", json_pack("{s:{s:b},s:s}", "condition",
	    "recovered", 1, "timeout_ms", "1000"));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	ping_ok(&h);
	stop(&h);
}
END_TEST

START_TEST(test_wait_recovered_now)
{
	struct harness	 h;
	json_t		*resp, *r;

	start(&h, conf_abc);
	/* A long timeout: only an answer at once fits the call's deadline. */
	resp = harness_call_timeout(&h, "wait", json_pack("{s:{s:b},s:i}",
	    "condition", "recovered", 1, "timeout_ms", 600000), 5000);
	ck_assert_msg(resp != NULL, "wait recovered did not answer at once");
	r = check_result(resp, json_integer_value(json_object_get(resp, "id")));
	ck_assert_msg(json_is_false(json_object_get(r, "recovering")),
	    "recovered, yet recovering");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "failed")), 0);
	json_decref(resp);
	stop(&h);
}
END_TEST

START_TEST(test_wait_later)
{
	struct harness		 h;
	struct harness_conn	*c, *sub;
	json_t			*resp, *r;
	long long		 id, id2;
	pid_t			 pid;

	start(&h, conf_abc);
	sub = subscribe(&h, NULL);
	pid = pid_of(&h, "b");
	c = conn_open(&h);
	id = harness_conn_request(c, "wait", json_pack("{s:{s:s,s:s,s:i},s:i}",
	    "condition", "service", "b", "state", "running", "min_restarts", 1,
	    "timeout_ms", 20000));
	id2 = harness_conn_request(c, "wait", json_pack("{s:{s:s,s:s},s:i}",
	    "condition", "service", "c", "state", "stopped",
	    "timeout_ms", 20000));
	ck_assert_int_gt(id, 0);
	ck_assert_int_gt(id2, 0);
	/* Both pending: the ping sent after them is answered first. */
	check_quiet(c);

	r = result(&h, "service.kill", json_pack("{s:s}", "service", "b"));
	json_decref(r);
	await_exit(sub, "b", pid);
	resp = next_line(c);
	r = check_result(resp, id);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "b");
	ck_assert_str_eq(json_string_value(json_object_get(r, "state")),
	    "running");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "restarts")), 1);
	json_decref(resp);
	check_quiet(c);

	r = result(&h, "service.stop", json_pack("{s:s}", "service", "c"));
	ck_assert_str_eq(json_string_value(json_object_get(r, "state")),
	    "stopped");
	json_decref(r);
	resp = next_line(c);
	r = check_result(resp, id2);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "c");
	ck_assert_str_eq(json_string_value(json_object_get(r, "state")),
	    "stopped");
	json_decref(resp);

	harness_conn_close(c);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* --- 11. service.kill ----------------------------------------------------- */

START_TEST(test_kill_all)
{
	static const char *const names[] = { "a", "b", "c" };
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*r;
	pid_t			 pids[3];
	size_t			 i;

	start(&h, conf_abc);
	for (i = 0; i < 3; i++)
		pids[i] = pid_of(&h, names[i]);
	sub = subscribe(&h, NULL);
	r = result(&h, "service.kill", json_pack("{s:s}", "service", "*"));
	check_killed(r, 3, names, pids);
	ck_assert_str_eq(json_string_value(json_object_get(r, "signal")),
	    "KILL");
	json_decref(r);
	await_exits(sub, 3, names, pids);
	await_recovered(&h);
	for (i = 0; i < 3; i++) {
		ck_assert_int_ne(pid_of(&h, names[i]), pids[i]);
		ck_assert(!harness_pid_alive(pids[i]));
	}
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

START_TEST(test_kill_list)
{
	static const char *const names[] = { "a", "c" };
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*r;
	pid_t			 pids[2], pid_b;

	start(&h, conf_abc);
	pids[0] = pid_of(&h, "a");
	pids[1] = pid_of(&h, "c");
	pid_b = pid_of(&h, "b");
	sub = subscribe(&h, NULL);
	r = result(&h, "service.kill", json_pack("{s:[s,s]}", "service", "a",
	    "c"));
	check_killed(r, 2, names, pids);
	json_decref(r);
	await_exits(sub, 2, names, pids);
	await_recovered(&h);
	ck_assert_int_ne(pid_of(&h, "a"), pids[0]);
	ck_assert_int_ne(pid_of(&h, "c"), pids[1]);
	/* b was not in the list: the barrier shows it was left alone. */
	kill_and_recover(&h, sub, "a");
	ck_assert(harness_pid_alive(pid_b));
	r = service_of(&h, "b");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "pid")), pid_b);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "restarts")), 0);
	json_decref(r);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* After the barrier: a and c still have the pids they had, never restarted. */
static void
check_untouched(struct harness *h, pid_t pid_a, pid_t pid_c)
{
	json_t	*s;

	ck_assert(harness_pid_alive(pid_a));
	ck_assert(harness_pid_alive(pid_c));
	s = service_of(h, "a");
	ck_assert_int_eq(json_integer_value(json_object_get(s, "pid")), pid_a);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "restarts")), 0);
	ck_assert_msg(json_is_null(json_object_get(s, "last_exit")),
	    "a has exited");
	json_decref(s);
	s = service_of(h, "c");
	ck_assert_int_eq(json_integer_value(json_object_get(s, "pid")), pid_c);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "restarts")), 0);
	json_decref(s);
}

START_TEST(test_kill_unknown_in_list)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*resp;
	pid_t			 pid_a, pid_c;

	start(&h, conf_abc);
	pid_a = pid_of(&h, "a");
	pid_c = pid_of(&h, "c");
	sub = subscribe(&h, NULL);
	resp = call(&h, "service.kill", json_pack("{s:[s,s,s]}", "service",
	    "a", "nope", "c"));
	check_error(resp, -32001, "not_found",
	    json_integer_value(json_object_get(resp, "id")));
	ck_assert_msg(strstr(error_message(resp), "nope") != NULL,
	    "the message does not name the unknown service: %s",
	    error_message(resp));
	json_decref(resp);
	/* Bad lists: nothing killed either. */
	resp = call(&h, "service.kill", json_pack("{s:[]}", "service"));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	resp = call(&h, "service.kill", json_pack("{s:[s,i]}", "service", "a",
	    1));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	resp = call(&h, "service.kill", NULL);
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	resp = call(&h, "service.kill", json_pack("{s:s}", "service", "nope"));
	ck_assert_int_eq(harness_error_code(resp), -32001);
	json_decref(resp);

	kill_and_recover(&h, sub, "b");
	check_untouched(&h, pid_a, pid_c);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

START_TEST(test_kill_signals)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*sigs[3], *r, *ev, *resp;
	const char		*names[1] = { "a" };
	pid_t			 pid, pid_c;
	size_t			 i;

	start(&h, conf_abc);
	sub = subscribe(&h, NULL);
	sigs[0] = json_string("TERM");
	sigs[1] = json_string("SIGTERM");
	sigs[2] = json_integer(15);
	for (i = 0; i < nitems(sigs); i++) {
		pid = pid_of(&h, "a");
		r = result(&h, "service.kill", json_pack("{s:s,s:o}", "service",
		    "a", "signal", sigs[i]));
		check_killed(r, 1, names, &pid);
		ck_assert_str_eq(json_string_value(json_object_get(r,
		    "signal")), "TERM");
		json_decref(r);
		ev = harness_wait_event(sub, "service.exited", "a", CALL_MS);
		ck_assert_ptr_nonnull(ev);
		ck_assert_int_eq(json_integer_value(json_object_get(ev, "pid")),
		    pid);
		ck_assert_str_eq(json_string_value(json_object_get(ev,
		    "signal")), "TERM");
		json_decref(ev);
		await_recovered(&h);
		ck_assert_int_ne(pid_of(&h, "a"), pid);
	}

	pid = pid_of(&h, "a");
	pid_c = pid_of(&h, "c");
	resp = call(&h, "service.kill", json_pack("{s:s,s:s}", "service", "a",
	    "signal", "BOGUS"));
	check_error(resp, -32602, "invalid_params",
	    json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
	resp = call(&h, "service.kill", json_pack("{s:s,s:i}", "service", "*",
	    "signal", 0));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	resp = call(&h, "service.kill", json_pack("{s:s,s:i}", "service", "*",
	    "signal", 1000));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	resp = call(&h, "service.kill", json_pack("{s:s,s:b}", "service", "*",
	    "signal", 1));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	kill_and_recover(&h, sub, "b");
	ck_assert(harness_pid_alive(pid));
	ck_assert(harness_pid_alive(pid_c));
	ck_assert_int_eq(pid_of(&h, "a"), pid);
	ck_assert_int_eq(pid_of(&h, "c"), pid_c);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* --- 12. ping and version ------------------------------------------------- */

START_TEST(test_ping_version)
{
	struct harness	 h;
	json_t		*resp, *r;

	start(&h, conf_abc);
	resp = call(&h, "ping", NULL);
	check_pong(resp, json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
	/* No params at all may also be written as [] or null. */
	resp = call(&h, "ping", json_array());
	check_pong(resp, json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
	resp = call(&h, "ping", json_null());
	check_pong(resp, json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
	r = result(&h, "version", NULL);
	ck_assert_str_eq(json_string_value(json_object_get(r, "version")),
	    WARDEN_VERSION);
	ck_assert_msg(json_is_integer(json_object_get(r, "protocol")),
	    "protocol is not an integer");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "protocol")), 1);
	ck_assert_uint_eq(json_object_size(r), 2);
	json_decref(r);
	stop(&h);
}
END_TEST

/* --- 13. status ----------------------------------------------------------- */

static void
check_service_entry(json_t *s, const char *name, const char *path)
{
	json_t	*pid = json_object_get(s, "pid");

	ck_assert_str_eq(json_string_value(json_object_get(s, "name")), name);
	ck_assert_str_eq(json_string_value(json_object_get(s, "path")), path);
	ck_assert_str_eq(json_string_value(json_object_get(s, "state")),
	    "running");
	ck_assert_msg(json_is_integer(pid) && json_integer_value(pid) > 0,
	    "%s: no pid", name);
	ck_assert_msg(json_is_true(json_object_get(s, "ready")),
	    "%s: not ready", name);
	ck_assert_msg(json_is_integer(json_object_get(s, "uptime_ms")),
	    "%s: uptime_ms", name);
	ck_assert_int_ge(json_integer_value(json_object_get(s, "uptime_ms")),
	    0);
	ck_assert_msg(json_is_integer(json_object_get(s, "restarts")),
	    "%s: restarts", name);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "restarts")), 0);
	ck_assert_msg(json_object_get(s, "last_exit") != NULL,
	    "%s: no last_exit", name);
	ck_assert_msg(json_is_null(json_object_get(s, "last_exit")),
	    "%s: last_exit before any exit", name);
	ck_assert(harness_pid_alive((pid_t)json_integer_value(pid)));
}

static json_t *
find_named(json_t *list, const char *name)
{
	json_t		*e;
	const char	*n;
	size_t		 i;

	json_array_foreach(list, i, e) {
		n = json_string_value(json_object_get(e, "name"));
		if (n != NULL && strcmp(n, name) == 0)
			return e;
	}
	ck_abort_msg("%s is not listed", name);
	return NULL;
}

START_TEST(test_status)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*r, *svcs, *sups, *s, *kids;
	pid_t			 pid;

	start(&h, conf_abc);
	r = result(&h, "status", NULL);
	ck_assert_str_eq(json_string_value(json_object_get(r, "health")), "ok");
	ck_assert_msg(json_is_integer(json_object_get(r, "stage")),
	    "status: no stage");
	svcs = json_object_get(r, "services");
	sups = json_object_get(r, "supervisors");
	ck_assert_uint_eq(json_array_size(svcs), 3);
	check_service_entry(find_named(svcs, "a"), "a", "/a");
	check_service_entry(find_named(svcs, "b"), "b", "/b");
	check_service_entry(find_named(svcs, "c"), "c", "/grp/c");
	ck_assert_uint_eq(json_array_size(sups), 2);
	s = find_named(sups, "grp");
	ck_assert_str_eq(json_string_value(json_object_get(s, "path")), "/grp");
	ck_assert_str_eq(json_string_value(json_object_get(s, "state")),
	    "running");
	ck_assert_str_eq(json_string_value(json_object_get(s, "strategy")),
	    "one_for_one");
	ck_assert_int_eq(json_integer_value(json_object_get(s,
	    "max_restarts")), 20);
	ck_assert_int_eq(json_integer_value(json_object_get(s,
	    "max_seconds")), 60);
	ck_assert_int_eq(json_integer_value(json_object_get(s,
	    "restarts_in_window")), 0);
	kids = json_object_get(s, "children");
	ck_assert_uint_eq(json_array_size(kids), 1);
	ck_assert_str_eq(json_string_value(json_array_get(kids, 0)), "c");
	s = json_array_get(sups, 0);
	ck_assert_str_eq(json_string_value(json_object_get(s, "path")), "/");
	ck_assert_uint_eq(json_array_size(json_object_get(s, "children")), 3);
	json_decref(r);

	/* One service only. */
	r = result(&h, "status", json_pack("{s:s}", "service", "b"));
	ck_assert_str_eq(json_string_value(json_object_get(r, "health")), "ok");
	svcs = json_object_get(r, "services");
	ck_assert_uint_eq(json_array_size(svcs), 1);
	check_service_entry(json_array_get(svcs, 0), "b", "/b");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "supervisors")),
	    0);
	json_decref(r);
	r = result(&h, "status", json_pack("{s:s}", "service", "grp"));
	ck_assert_uint_eq(json_array_size(json_object_get(r, "services")), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "supervisors")),
	    1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(r, "supervisors"), 0), "name")), "grp");
	json_decref(r);

	/* After a kill: its last exit and a restart. */
	sub = subscribe(&h, NULL);
	pid = pid_of(&h, "b");
	kill_and_recover(&h, sub, "b");
	s = service_of(&h, "b");
	ck_assert_int_eq(json_integer_value(json_object_get(s, "restarts")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(s,
	    "last_exit"), "signal")), "KILL");
	ck_assert_int_ne(json_integer_value(json_object_get(s, "pid")), pid);
	json_decref(s);
	r = result(&h, "status", NULL);
	ck_assert_str_eq(json_string_value(json_object_get(r, "health")), "ok");
	s = json_array_get(json_object_get(r, "supervisors"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(s,
	    "restarts_in_window")), 1);
	json_decref(r);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* --- 14. recovery --------------------------------------------------------- */

static void
check_budget(json_t *e, const char *name, int restarts, int in_window)
{
	ck_assert_str_eq(json_string_value(json_object_get(e, "name")), name);
	ck_assert_str_eq(json_string_value(json_object_get(e, "state")),
	    "running");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "restarts")),
	    restarts);
	ck_assert_msg(json_is_integer(json_object_get(e, "restarts_in_window")),
	    "%s: restarts_in_window", name);
	ck_assert_int_eq(json_integer_value(json_object_get(e,
	    "restarts_in_window")), in_window);
	/* The root allows 5: what is used and what is left make 5. */
	ck_assert_int_eq(json_integer_value(json_object_get(e, "budget_left")),
	    5 - in_window);
	ck_assert_msg(json_object_get(e, "down_since") != NULL &&
	    json_is_null(json_object_get(e, "down_since")),
	    "%s: down_since while up", name);
	ck_assert_msg(json_object_get(e, "last_recovery_ms") != NULL,
	    "%s: no last_recovery_ms", name);
}

START_TEST(test_recovery)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*r, *list, *e;

	start(&h, conf_budget);
	r = result(&h, "recovery", NULL);
	ck_assert_msg(json_is_false(json_object_get(r, "recovering")),
	    "recovering after start");
	ck_assert_msg(json_is_array(json_object_get(r, "failed")),
	    "failed is not a list");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "failed")), 0);
	list = json_object_get(r, "services");
	ck_assert_uint_eq(json_array_size(list), 2);
	e = find_named(list, "a");
	check_budget(e, "a", 0, 0);
	ck_assert(json_is_null(json_object_get(e, "last_recovery_ms")));
	check_budget(find_named(list, "b"), "b", 0, 0);
	json_decref(r);

	sub = subscribe(&h, NULL);
	kill_and_recover(&h, sub, "a");
	r = result(&h, "recovery", NULL);
	ck_assert(json_is_false(json_object_get(r, "recovering")));
	ck_assert_uint_eq(json_array_size(json_object_get(r, "failed")), 0);
	list = json_object_get(r, "services");
	e = find_named(list, "a");
	check_budget(e, "a", 1, 1);
	ck_assert_msg(json_is_integer(json_object_get(e, "last_recovery_ms")),
	    "a: last_recovery_ms is not a number after a recovery");
	ck_assert_int_ge(json_integer_value(json_object_get(e,
	    "last_recovery_ms")), 0);
	/* b shares the root's window but has not recovered from anything. */
	e = find_named(list, "b");
	check_budget(e, "b", 0, 1);
	ck_assert(json_is_null(json_object_get(e, "last_recovery_ms")));
	json_decref(r);

	kill_and_recover(&h, sub, "b");
	r = result(&h, "recovery", NULL);
	list = json_object_get(r, "services");
	check_budget(find_named(list, "a"), "a", 1, 2);
	check_budget(find_named(list, "b"), "b", 1, 2);
	ck_assert(json_is_integer(json_object_get(find_named(list, "b"),
	    "last_recovery_ms")));
	json_decref(r);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* --- 15. a client leaves with a wait pending ------------------------------ */

START_TEST(test_disconnect_pending_wait)
{
	struct harness		 h;
	struct harness_conn	*c, *other, *sub;
	json_t			*r;
	pid_t			 pid;

	start(&h, conf_abc);
	other = conn_open(&h);
	sub = subscribe(&h, NULL);
	c = conn_open(&h);
	/* A single wait and a batch of two, all pending on a and c. */
	ck_assert_int_gt(harness_conn_request(c, "wait",
	    json_pack("{s:{s:s,s:s},s:i}", "condition", "service", "a",
	    "state", "stopped", "timeout_ms", 60000)), 0);
	send_line(c, "[{'jsonrpc':'2.0','id':50,'method':'wait',"
	    "'params':{'condition':{'service':'a','state':'running',"
	    "'min_restarts':1},'timeout_ms':60000}},"
	    "{'jsonrpc':'2.0','id':51,'method':'wait',"
	    "'params':{'condition':{'service':'c','state':'stopped'},"
	    "'timeout_ms':60000}},"
	    "{'jsonrpc':'2.0','id':52,'method':'ping'}]");
	/* They have been read and registered. */
	check_quiet(c);
	harness_conn_close(c);
	check_quiet(other);

	/* Now make every one of them come true: nobody is there to answer. */
	pid = pid_of(&h, "a");
	r = result(&h, "service.kill", json_pack("{s:s}", "service", "a"));
	json_decref(r);
	await_exit(sub, "a", pid);
	await_recovered(&h);
	r = result(&h, "service.stop", json_pack("{s:s}", "service", "c"));
	json_decref(r);
	r = result(&h, "service.stop", json_pack("{s:s}", "service", "a"));
	json_decref(r);
	check_quiet(other);
	r = result(&h, "service.start", json_pack("{s:s}", "service", "a"));
	ck_assert_str_eq(json_string_value(json_object_get(r, "state")),
	    "running");
	json_decref(r);
	check_quiet(other);
	harness_conn_close(other);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* --- 16. shutdown --------------------------------------------------------- */

START_TEST(test_shutdown)
{
	struct harness	 h;
	json_t		*r;
	pid_t		 pid_a, pid_c;

	start(&h, conf_abc);
	pid_a = pid_of(&h, "a");
	pid_c = pid_of(&h, "c");
	r = result(&h, "shutdown", NULL);
	ck_assert_msg(json_is_object(r), "shutdown: result is not an object");
	ck_assert_msg(json_is_true(json_object_get(r, "stopping")),
	    "shutdown: stopping is not true");
	json_decref(r);
	ck_assert_int_eq(harness_wait_exit(&h, HARNESS_STOP_TIMEOUT), 0);
	ck_assert_int_eq(harness_wait_pid_gone(pid_a, CALL_MS), 0);
	ck_assert_int_eq(harness_wait_pid_gone(pid_c, CALL_MS), 0);
	stop(&h);
}
END_TEST

/* --- 17. garbage ---------------------------------------------------------- */

static uint64_t
prng_next(uint64_t *s)
{
	/* xorshift64*: the same bytes on every run. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/*
 * Lines of random bytes, and lines of random JSON-ish tokens that get
 * deeper into the parser and now and then make valid JSON that is no
 * request. The buffer ends with a newline.
 */
static void
garbage_make(char *buf, size_t len)
{
	static const char	*const tokens[] = {
		"{", "}", "[", "]", ":", ",", "\"", "\"jsonrpc\"", "\"2.0\"",
		"\"id\"", "\"method\"", "\"params\"", "\"ping\"", "1", "-0.5e3",
		"true", "null", " ", "\\u00e9", "\xc3\xa9", "\xff", "\t", "\r",
	};
	uint64_t	 s = 0x5eedc0ffee123457ULL, r;
	size_t		 i = 0, n;
	bool		 tokenish = false;
	const char	*t;

	while (i < len - 1) {
		r = prng_next(&s);
		if (r % 40 == 0) {
			buf[i++] = '\n';
			tokenish = (r >> 8) % 2 == 0;
		} else if (tokenish) {
			t = tokens[(r >> 16) % nitems(tokens)];
			n = strlen(t);
			if (n > len - 1 - i)
				n = len - 1 - i;
			memcpy(buf + i, t, n);
			i += n;
		} else
			buf[i++] = (char)(r >> 24);
	}
	buf[len - 1] = '\n';
}

/* The lines warden must answer: all but the empty ones ("\r" is empty). */
static size_t
garbage_lines(const char *buf, size_t len)
{
	const char	*p = buf, *nl;
	size_t		 n, lines = 0;

	while ((nl = memchr(p, '\n', len - (size_t)(p - buf))) != NULL) {
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0)
			lines++;
		p = nl + 1;
	}
	return lines;
}

/* The answer to a garbage line: an error, or a batch of errors. */
static void
check_garbage_answer(json_t *msg)
{
	json_t	*m;
	size_t	 i;
	int	 code;

	if (json_is_array(msg)) {
		ck_assert_uint_gt(json_array_size(msg), 0);
		json_array_foreach(msg, i, m)
			check_garbage_answer(m);
		return;
	}
	ck_assert_msg(json_is_object(msg), "an answer that is no object");
	ck_assert_msg(json_object_get(msg, "error") != NULL,
	    "garbage got a result");
	code = harness_error_code(msg);
	ck_assert_msg(code == -32700 || code == -32600 || code == -32601 ||
	    code == -32602, "garbage got error %d", code);
}

START_TEST(test_garbage_flood)
{
	enum { TOTAL = 300 * 1024, CHUNK = 16 * 1024 };
	struct harness		 h;
	struct harness_conn	*c, *other;
	json_t			*msg;
	char			*buf;
	size_t			 lines, got = 0, off;
	pid_t			 pid;

	start(&h, conf_abc);
	pid = h.pid;
	buf = xmalloc(TOTAL);
	garbage_make(buf, TOTAL);
	lines = garbage_lines(buf, TOTAL);
	ck_assert_uint_gt(lines, 1000);
	other = conn_open(&h);
	c = conn_open(&h);
	for (off = 0; off < TOTAL; off += CHUNK) {
		ck_assert_int_eq(harness_conn_send_raw(c, buf + off,
		    TOTAL - off < CHUNK ? TOTAL - off : CHUNK), 0);
		/* Others are served all along. */
		if (off % (4 * CHUNK) == 0)
			check_quiet(other);
	}
	free(buf);
	/* One answer per line, then the ping's: nothing more, nothing less. */
	check_quiet(other);
	send_line(c, "{'jsonrpc':'2.0','id':'end','method':'ping'}");
	for (;;) {
		msg = harness_read_line(c, CALL_MS);
		ck_assert_msg(msg != NULL, "answers stopped after %zu of %zu "
		    "lines (%s)", got, lines, c->eof ? "closed" :
		    strerror(errno));
		if (json_is_object(msg) && json_is_string(json_object_get(msg,
		    "id")) && strcmp(json_string_value(json_object_get(msg,
		    "id")), "end") == 0) {
			ck_assert_str_eq(json_string_value(json_object_get(msg,
			    "result")), "pong");
			json_decref(msg);
			break;
		}
		check_garbage_answer(msg);
		json_decref(msg);
		got++;
	}
	ck_assert_msg(got == lines, "%zu answers to %zu lines", got, lines);
	harness_conn_close(c);
	check_quiet(other);
	harness_conn_close(other);
	ck_assert(harness_pid_alive(pid));
	ping_ok(&h);
	stop(&h);
}
END_TEST

/* --- 17. framing and backpressure ----------------------------------------- */

/* n requests of method, ids first..first+n-1, one per line, in one string. */
static char *
request_lines(const char *method, long long first, int n)
{
	char	*buf, *p;
	size_t	 cap = (size_t)n * (48 + strlen(method)) + 1;
	int	 i;

	buf = p = xmalloc(cap);
	for (i = 0; i < n; i++)
		p += snprintf(p, cap - (size_t)(p - buf),
		    "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"%s\"}\n",
		    first + i, method);
	return buf;
}

START_TEST(test_pipelined)
{
	static const char	 split[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":999,\"method\":\"ping\"}\r\n";
	struct harness		 h;
	struct harness_conn	*c, *other;
	json_t			*resp;
	char			*lines;
	int			 i;

	start(&h, conf_abc);
	c = conn_open(&h);
	other = conn_open(&h);
	/* 500 requests in one write: 500 answers, in order. */
	lines = request_lines("ping", 1, 500);
	ck_assert_int_eq(harness_conn_send_raw(c, lines, strlen(lines)), 0);
	free(lines);
	for (i = 1; i <= 500; i++) {
		resp = next_line(c);
		check_pong(resp, i);
		json_decref(resp);
	}
	/* One request in three writes, others served in between; CRLF too. */
	ck_assert_int_eq(harness_conn_send_raw(c, split, 10), 0);
	check_quiet(other);
	ck_assert_int_eq(harness_conn_send_raw(c, split + 10, 20), 0);
	check_quiet(other);
	ck_assert_int_eq(harness_conn_send_raw(c, split + 30,
	    sizeof(split) - 1 - 30), 0);
	resp = next_line(c);
	check_pong(resp, 999);
	json_decref(resp);
	/* Half a line, then a whole one and the other half in one write. */
	ck_assert_int_eq(harness_conn_send_raw(c, "{\"jsonrpc\":\"2.0\",", 17), 0);
	check_quiet(other);
	lines = dq("'id':7,'method':'ping'}\n{'jsonrpc':'2.0','id':8,"
	    "'method':'ping'}\n", "");
	ck_assert_int_eq(harness_conn_send_raw(c, lines, strlen(lines)), 0);
	free(lines);
	resp = next_line(c);
	check_pong(resp, 7);
	json_decref(resp);
	resp = next_line(c);
	check_pong(resp, 8);
	json_decref(resp);
	check_quiet(c);
	harness_conn_close(c);
	harness_conn_close(other);
	stop(&h);
}
END_TEST

/*
 * A client that sends a thousand requests and reads nothing: warden
 * answers until the socket and max_output_bytes are full, then stops
 * reading that client (and serves others). Once it reads, the requests
 * that waited are served too, every one answered in order.
 */
START_TEST(test_backpressure)
{
	enum { N = 1000 };
	struct harness		 h;
	struct harness_conn	*c, *other;
	json_t			*resp, *res;
	char			*buf, *conf;
	size_t			 answered = 0;
	int			 i;

	/* conf_abc with the smallest output cap. */
	xasprintf(&conf, "{ \"limits\": { \"max_output_bytes\": 4096 },%s",
	    strchr(conf_abc, '{') + 1);
	start(&h, conf);
	free(conf);
	c = conn_open(&h);
	other = conn_open(&h);
	/* Each answer is the whole tree's status, about 1 KiB: 1 MiB in all. */
	buf = request_lines("status", 1, N);
	ck_assert_int_eq(harness_conn_send_raw(c, buf, strlen(buf)), 0);
	free(buf);
	/* Served all along, though c's answers are piling up. */
	for (i = 0; i < 5; i++)
		check_quiet(other);
	for (i = 1; i <= N; i++) {
		resp = next_line(c);
		res = check_result(resp, i);
		ck_assert_msg(json_array_size(json_object_get(res, "services"))
		    == 3, "answer %d is not the whole status", i);
		answered += json_dumpb(resp, NULL, 0, JSON_COMPACT);
		json_decref(resp);
	}
	ck_assert_uint_gt(answered, 512 * 1024);
	check_quiet(c);
	check_quiet(other);
	harness_conn_close(c);
	harness_conn_close(other);
	stop(&h);
}
END_TEST

/*
 * A client that sends its requests and shuts its side down still gets
 * every answer, a pending wait's included, and then warden closes.
 */
START_TEST(test_half_close)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*resp;
	char			*lines;

	start(&h, conf_abc);
	/* Answered at once. */
	c = conn_open(&h);
	lines = request_lines("ping", 1, 3);
	ck_assert_int_eq(harness_conn_send_raw(c, lines, strlen(lines)), 0);
	free(lines);
	ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
	for (int i = 1; i <= 3; i++) {
		resp = next_line(c);
		check_pong(resp, i);
		json_decref(resp);
	}
	ck_assert_int_eq(harness_conn_wait_closed(c, CALL_MS), 0);
	harness_conn_close(c);

	/* A wait that times out later: its answer comes, then the close. */
	c = conn_open(&h);
	send_line(c, "{'jsonrpc':'2.0','id':1,'method':'ping'}\n"
	    "{'jsonrpc':'2.0','id':2,'method':'wait','params':{'condition':"
	    "{'service':'a','state':'stopped'},'timeout_ms':200}}");
	ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
	resp = next_line(c);
	check_pong(resp, 1);
	json_decref(resp);
	resp = next_line(c);
	check_error(resp, -32003, "timeout", 2);
	json_decref(resp);
	ck_assert_int_eq(harness_conn_wait_closed(c, CALL_MS), 0);
	harness_conn_close(c);
	ping_ok(&h);
	stop(&h);
}
END_TEST

/* n flag.set of f in one batch, sent on c; the batch's answer read. */
static void
batch_flag_sets(struct harness_conn *c, int n)
{
	json_t	*batch = json_array(), *resp;
	int	 i;

	for (i = 0; i < n; i++)
		json_array_append_new(batch, json_pack("{s:s,s:i,s:s,s:{s:s,s:b}}",
		    "jsonrpc", "2.0", "id", i + 1, "method", "flag.set", "params",
		    "name", "f", "value", i % 2));
	/* harness_conn_send takes the batch. */
	ck_assert_int_eq(harness_conn_send(c, batch), 0);
	resp = next_line(c);
	ck_assert_msg(json_is_array(resp) && json_array_size(resp) == (size_t)n,
	    "the batch of flag.set was not answered whole");
	json_decref(resp);
}

/* A subscriber that never reads: an events.dropped, then closed. */
START_TEST(test_slow_subscriber)
{
	struct harness		 h;
	struct harness_conn	*sub, *other;
	json_t			*ev;
	const char		*type;
	char			*conf;
	int			 i, events = 0;
	bool			 dropped = false;

	xasprintf(&conf, "{ \"limits\": { \"subscriber_queue_bytes\": 4096 },"
	    " \"flags\": { \"f\": { \"default\": false } },%s",
	    strchr(conf_abc, '{') + 1);
	start(&h, conf);
	free(conf);
	sub = subscribe(&h, NULL);
	other = conn_open(&h);
	/*
	 * Flag changes, 50 to a batch, until warden has given up on the
	 * subscriber (it says so in its log): each change is an event, so the
	 * socket fills, then the queue.
	 */
	for (i = 0; i < 200; i++) {
		char	*log;
		bool	 gone;

		batch_flag_sets(other, 50);
		log = harness_log(&h);
		gone = log != NULL && strstr(log, "too slow to read events") != NULL;
		free(log);
		if (gone)
			break;
	}
	ck_assert_msg(i < 200, "the subscriber was never dropped");
	check_quiet(other);
	/* What the subscriber got: events in order, the last one the notice. */
	while ((ev = harness_next_event(sub, CALL_MS)) != NULL) {
		type = json_string_value(json_object_get(ev, "type"));
		ck_assert_ptr_nonnull(type);
		ck_assert_int_eq(json_integer_value(json_object_get(ev, "seq")),
		    sub->seq + events + 1);
		events++;
		dropped = strcmp(type, "events.dropped") == 0;
		json_decref(ev);
		if (dropped)
			break;
	}
	ck_assert_msg(dropped, "no events.dropped after %d events", events);
	ck_assert_int_eq(harness_conn_wait_closed(sub, CALL_MS), 0);
	harness_conn_close(sub);
	check_quiet(other);
	harness_conn_close(other);
	stop(&h);
}
END_TEST

/* --- 18. calls awaiting their answer ---------------------------------------- */

/* A wait sent on c (cond stolen); its id. */
static long long
wait_request(struct harness_conn *c, json_t *cond, int timeout_ms)
{
	long long	id;

	id = harness_conn_request(c, "wait", json_pack("{s:o,s:i}", "condition",
	    cond, "timeout_ms", timeout_ms));
	ck_assert_int_gt(id, 0);
	return id;
}

/* The answer to id must be the error of a client over max_pending. */
static void
check_over_pending(json_t *resp, long long id, int max)
{
	char	want[64];
	json_t	*data;

	check_error(resp, -32600, "invalid_request", id);
	snprintf(want, sizeof(want), "max_pending %d", max);
	ck_assert_msg(strstr(error_message(resp), want) != NULL, "%s",
	    error_message(resp));
	data = json_object_get(json_object_get(resp, "error"), "data");
	ck_assert_str_eq(json_string_value(json_object_get(data, "limit")),
	    "max_pending");
}

static const char conf_pending[] =
    "{ \"limits\": { \"max_pending\": 4 },\n"
    "  \"flags\": { \"f\": { \"default\": false } },\n"
    "  \"supervisor\": { \"strategy\": \"one_for_one\",\n"
    "  \"max_restarts\": 50, \"max_seconds\": 60, \"children\": [\n"
    "    { \"name\": \"a\", \"command\": [\"@WORKER@\"] },\n"
    "    { \"name\": \"b\", \"command\": [\"@WORKER@\"] },\n"
    "    { \"name\": \"c\", \"command\": [\"@WORKER@\"] } ] } }\n";

/*
 * limits.max_pending: a client with that many calls awaiting their answer
 * gets an error for one more (a wait or a service operation, which is then
 * not done), stays connected and served, and has its room back as its
 * calls are answered. Other clients have room of their own; a reload
 * changes the limit for everyone at once.
 */
START_TEST(test_pending_cap)
{
	struct harness		 h;
	struct harness_conn	*c, *other;
	json_t			*resp, *r;
	long long		 first, id;
	char			*conf;
	pid_t			 pid_c;
	int			 i;

	start(&h, conf_pending);
	c = conn_open(&h);
	other = conn_open(&h);
	/* Four calls of four kinds, none of them true now. */
	first = wait_request(c, json_pack("{s:s,s:b}", "flag", "f", "value", 1),
	    60000);
	wait_request(c, json_pack("{s:s,s:s}", "service", "a", "state",
	    "stopped"), 60000);
	wait_request(c, json_pack("{s:i}", "stage", 3), 60000);
	wait_request(c, json_pack("{s:s,s:s,s:i}", "service", "b", "state",
	    "running", "min_restarts", 5), 60000);
	check_quiet(c);

	/* A fifth: refused at once, the connection kept. */
	id = wait_request(c, json_pack("{s:s,s:s}", "service", "c", "state",
	    "stopped"), 60000);
	resp = next_line(c);
	check_over_pending(resp, id, 4);
	json_decref(resp);
	check_quiet(c);
	/* A service operation too, before it does anything. */
	pid_c = pid_of(&h, "c");
	id = harness_conn_request(c, "service.stop", json_pack("{s:s}",
	    "service", "c"));
	resp = next_line(c);
	check_over_pending(resp, id, 4);
	json_decref(resp);
	ck_assert_int_eq(pid_of(&h, "c"), pid_c);
	ck_assert_str_eq(json_string_value(json_object_get(service_of(&h, "c"),
	    "state")), "running");
	/* In a batch, each member past the limit. */
	send_line(c, "[{'jsonrpc':'2.0','id':70,'method':'wait','params':"
	    "{'condition':{'stage':4},'timeout_ms':60000}},"
	    "{'jsonrpc':'2.0','id':71,'method':'ping'}]");
	resp = next_line(c);
	ck_assert_msg(json_is_array(resp) && json_array_size(resp) == 2,
	    "the batch is answered at once, as an array of two");
	check_over_pending(json_array_get(resp, 0), 70, 4);
	check_pong(json_array_get(resp, 1), 71);
	json_decref(resp);

	/* Another client has room of its own. */
	for (i = 0; i < 4; i++)
		wait_request(other, json_pack("{s:s,s:s}", "service", "a",
		    "state", "stopped"), 60000);
	check_quiet(other);

	/* One comes true: answered, and its room is free again. */
	r = result(&h, "flag.set", json_pack("{s:s,s:b}", "name", "f",
	    "value", 1));
	json_decref(r);
	resp = next_line(c);
	r = check_result(resp, first);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "f");
	json_decref(resp);
	wait_request(c, json_pack("{s:s,s:b}", "flag", "f", "value", 0), 60000);
	check_quiet(c);
	id = wait_request(c, json_pack("{s:i}", "stage", 5), 60000);
	resp = next_line(c);
	check_over_pending(resp, id, 4);
	json_decref(resp);

	/* A reload to 6: two more for each client, then the error names 6. */
	conf = xstrdup(conf_pending);
	*strchr(conf, '4') = '6';
	ck_assert_int_eq(harness_write_config(&h, conf), 0);
	free(conf);
	r = result(&h, "config.reload", NULL);
	json_decref(r);
	for (i = 0; i < 2; i++)
		wait_request(c, json_pack("{s:i}", "stage", 6 + i), 60000);
	check_quiet(c);
	id = wait_request(c, json_pack("{s:i}", "stage", 9), 60000);
	resp = next_line(c);
	check_over_pending(resp, id, 6);
	json_decref(resp);
	check_quiet(c);
	check_quiet(other);
	harness_conn_close(c);
	harness_conn_close(other);
	ping_ok(&h);
	stop(&h);
}
END_TEST

/* "[wait, wait, ...]": n waits on cond (JSON text), ids first.., one batch. */
static char *
wait_batch(const char *cond, int timeout_ms, long long first, int n)
{
	char	*buf, *p;
	size_t	 cap = (size_t)n * (96 + strlen(cond)) + 4;
	int	 i;

	buf = p = xmalloc(cap);
	*p++ = '[';
	for (i = 0; i < n; i++)
		p += snprintf(p, cap - (size_t)(p - buf),
		    "%s{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"wait\","
		    "\"params\":{\"condition\":%s,\"timeout_ms\":%d}}",
		    i > 0 ? "," : "", first + i, cond, timeout_ms);
	snprintf(p, cap - (size_t)(p - buf), "]\n");
	return buf;
}

/*
 * Sixteen clients each send a batch of 65 waits that never come true,
 * with the default limits: 64 of each run out of time, the 65th is
 * refused. Then the same again: the calls that timed out were freed, so
 * there is room for 64 more. warden answers a ping all along.
 */
START_TEST(test_pending_timeouts)
{
	enum { CLIENTS = 16, CAP = 64 };	/* CAP: the default max_pending */
	static const char *const conds[] = {
		"{\"service\":\"a\",\"state\":\"failed\"}",
		"{\"service\":\"c\",\"state\":\"stopped\",\"min_restarts\":2}",
		"{\"stage\":12}",
		"{\"service\":\"grp\",\"state\":\"backoff\"}",
	};
	struct harness		 h;
	struct harness_conn	*cs[CLIENTS];
	json_t			*resp, *m;
	char			*batch;
	size_t			 j;
	int			 round, i;

	start(&h, conf_abc);
	for (i = 0; i < CLIENTS; i++)
		cs[i] = conn_open(&h);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < CLIENTS; i++) {
			batch = wait_batch(conds[i % nitems(conds)], 300, 1,
			    CAP + 1);
			ck_assert_int_eq(harness_conn_send_raw(cs[i], batch,
			    strlen(batch)), 0);
			free(batch);
		}
		/* All of them pending at once, and warden answering. */
		ping_ok(&h);
		for (i = 0; i < CLIENTS; i++) {
			resp = next_line(cs[i]);
			ck_assert_msg(json_is_array(resp) &&
			    json_array_size(resp) == CAP + 1,
			    "round %d client %d: no batch of %d answers", round,
			    i, CAP + 1);
			json_array_foreach(resp, j, m) {
				if (j < CAP)
					check_error(m, -32003, "timeout",
					    (long long)j + 1);
				else
					check_over_pending(m, CAP + 1, CAP);
			}
			json_decref(resp);
		}
		ping_ok(&h);
	}
	for (i = 0; i < CLIENTS; i++) {
		check_quiet(cs[i]);
		harness_conn_close(cs[i]);
	}
	stop(&h);
}
END_TEST

/* n wait requests on cond (JSON text), ids first.., one per line. */
static char *
wait_lines(const char *cond, int timeout_ms, long long first, int n)
{
	char	*buf, *p;
	size_t	 cap = (size_t)n * (96 + strlen(cond)) + 1;
	int	 i;

	buf = p = xmalloc(cap);
	for (i = 0; i < n; i++)
		p += snprintf(p, cap - (size_t)(p - buf),
		    "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"wait\","
		    "\"params\":{\"condition\":%s,\"timeout_ms\":%d}}\n",
		    first + i, cond, timeout_ms);
	return buf;
}

/*
 * Thousands of waits on other things sit idle (and on a, for more
 * restarts than it gets): a wait on a's restart is answered when a
 * restarts, and none of the others; a flag change answers exactly the
 * waits for that value.
 */
START_TEST(test_pending_indexed)
{
	enum { CLIENTS = 40, CAP = 64 };
	static const char *const conds[] = {
		"{\"flag\":\"f\",\"value\":50}",
		"{\"service\":\"b\",\"state\":\"failed\"}",
		"{\"service\":\"a\",\"state\":\"running\",\"min_restarts\":5}",
		"{\"stage\":7}",
		"{\"flag\":\"f\",\"value\":true}",
		"{\"service\":\"c\",\"state\":\"stopped\"}",
	};
	struct harness		 h;
	struct harness_conn	*cs[CLIENTS], *w, *sub;
	json_t			*resp, *r;
	char			*lines, *conf;
	long long		 id;
	pid_t			 pid;
	int			 i, k;

	xasprintf(&conf, "{ \"flags\": { \"f\": { \"default\": false } },%s",
	    strchr(conf_abc, '{') + 1);
	start(&h, conf);
	free(conf);
	sub = subscribe(&h, NULL);
	for (i = 0; i < CLIENTS; i++) {
		cs[i] = conn_open(&h);
		lines = wait_lines(conds[i % nitems(conds)], 60000, 1, CAP);
		ck_assert_int_eq(harness_conn_send_raw(cs[i], lines,
		    strlen(lines)), 0);
		free(lines);
	}
	for (i = 0; i < CLIENTS; i++)
		check_quiet(cs[i]);
	/* Each client is at its limit. */
	id = wait_request(cs[0], json_pack("{s:b}", "recovered", 1), 60000);
	resp = next_line(cs[0]);
	check_over_pending(resp, id, CAP);
	json_decref(resp);

	w = conn_open(&h);
	id = wait_request(w, json_pack("{s:s,s:s,s:i}", "service", "a",
	    "state", "running", "min_restarts", 1), 20000);
	check_quiet(w);
	pid = pid_of(&h, "a");
	r = result(&h, "service.kill", json_pack("{s:s}", "service", "a"));
	json_decref(r);
	await_exit(sub, "a", pid);
	resp = next_line(w);
	r = check_result(resp, id);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "a");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "restarts")), 1);
	json_decref(resp);
	for (i = 0; i < CLIENTS; i++)
		check_quiet(cs[i]);

	/* f to 50: the waits for 50 are answered, all of them, and no other. */
	r = result(&h, "flag.set", json_pack("{s:s,s:i}", "name", "f",
	    "value", 50));
	json_decref(r);
	for (i = 0; i < CLIENTS; i++) {
		if (i % (int)nitems(conds) != 0) {
			check_quiet(cs[i]);
			continue;
		}
		for (k = 0; k < CAP; k++) {
			resp = next_line(cs[i]);
			r = check_result(resp, json_integer_value(
			    json_object_get(resp, "id")));
			ck_assert_int_eq(json_integer_value(json_object_get(r,
			    "value")), 50);
			json_decref(resp);
		}
		check_quiet(cs[i]);
	}
	for (i = 0; i < CLIENTS; i++)
		harness_conn_close(cs[i]);
	harness_conn_close(w);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/*
 * limits.idle_ms bounds a whole request line from its first byte: a line
 * that comes in pieces is served as long as each line is whole within the
 * limit, however long the connection lasts; a client that trickles a byte
 * every 100 ms without ending its line is closed at the limit all the same.
 */
START_TEST(test_line_deadline)
{
	static const char	 ping[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
	struct harness		 h;
	struct harness_conn	*c, *other;
	struct pollfd		 pfd;
	json_t			*resp;
	uint64_t		 t0;
	size_t			 piece = (sizeof(ping) - 1) / 4, off;
	int			 i, n;

	start(&h, "{ \"limits\": { \"idle_ms\": 1000 },\n"
	    "  \"supervisor\": { \"children\": [] } }\n");
	c = conn_open(&h);
	other = conn_open(&h);
	pfd.fd = c->fd;
	pfd.events = POLLIN;

	/* Eight lines of four pieces 100 ms apart: 2.4 s in all, each line 0.3. */
	for (i = 0; i < 8; i++) {
		for (off = 0; off < sizeof(ping) - 1; off += n) {
			n = off + 2 * piece > sizeof(ping) - 1 ?
			    (int)(sizeof(ping) - 1 - off) : (int)piece;
			ck_assert_int_eq(harness_conn_send_raw(c, ping + off,
			    (size_t)n), 0);
			if (off + (size_t)n < sizeof(ping) - 1)
				ck_assert_msg(poll(&pfd, 1, 100) == 0,
				    "line %d: warden spoke before the line ended",
				    i);
		}
		resp = next_line(c);
		check_pong(resp, 1);
		json_decref(resp);
	}

	/* A byte every 100 ms, no newline: the error comes at 1 s. */
	t0 = util_now_ms();
	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(harness_conn_send_raw(c, i == 0 ? "{" : " ", 1),
		    0);
		if ((n = poll(&pfd, 1, 100)) != 0)
			break;
	}
	ck_assert_msg(i < 100, "a byte every 100 ms kept the line open for "
	    "10 s: the limit is 1 s");
	resp = next_line(c);
	ck_assert_msg(util_now_ms() - t0 >= 1000, "closed before the limit");
	check_error(resp, -32600, "invalid_request", ID_NULL);
	ck_assert_msg(strstr(error_message(resp), "1000 ms") != NULL, "%s",
	    error_message(resp));
	json_decref(resp);
	ck_assert_int_eq(harness_conn_wait_closed(c, CALL_MS), 0);
	harness_conn_close(c);
	check_quiet(other);
	harness_conn_close(other);
	stop(&h);
}
END_TEST

static Suite *
control_suite(void)
{
	Suite	*s = suite_create("control");
	TCase	*tc = tcase_create("control");
	TCase	*slow = tcase_create("idle");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_parse_error);
	tcase_add_test(tc, test_not_an_object);
	tcase_add_test(tc, test_invalid_request);
	tcase_add_test(tc, test_method_and_params_errors);
	tcase_add_test(tc, test_batch_in_order);
	tcase_add_test(tc, test_batch_bad_member);
	tcase_add_test(tc, test_batch_empty);
	tcase_add_test(tc, test_batch_all_notifications);
	tcase_add_test(tc, test_batch_with_wait);
	tcase_add_test(tc, test_notification);
	tcase_add_test(tc, test_line_limit);
	tcase_add_test(tc, test_configured_limits);
	tcase_add_test(tc, test_max_clients);
	tcase_add_test(tc, test_subscribe_seq);
	tcase_add_test(tc, test_subscribe_params);
	tcase_add_test(tc, test_wait_timeout);
	tcase_add_test(tc, test_wait_errors);
	tcase_add_test(tc, test_wait_recovered_now);
	tcase_add_test(tc, test_wait_later);
	tcase_add_test(tc, test_kill_all);
	tcase_add_test(tc, test_kill_list);
	tcase_add_test(tc, test_kill_unknown_in_list);
	tcase_add_test(tc, test_kill_signals);
	tcase_add_test(tc, test_ping_version);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_recovery);
	tcase_add_test(tc, test_disconnect_pending_wait);
	tcase_add_test(tc, test_shutdown);
	tcase_add_test(tc, test_garbage_flood);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_backpressure);
	tcase_add_test(tc, test_half_close);
	tcase_add_test(tc, test_slow_subscriber);
	tcase_add_test(tc, test_pending_cap);
	tcase_add_test(tc, test_pending_timeouts);
	tcase_add_test(tc, test_pending_indexed);
	tcase_add_test(tc, test_line_deadline);
	suite_add_tcase(s, tc);

	/* Ten seconds of idling by design: its own case, its own bound. */
	tcase_set_timeout(slow, 30);
	tcase_add_test(slow, test_idle_mid_line);
	suite_add_tcase(s, slow);
	return s;
}

SUITE_MAIN(control_suite)
