/*
 * check_control.c: the control socket and its JSON-RPC, against the real
 * daemon: framing and error codes, batches and notifications, ping and
 * version. The limits of control.c are check_control_limits's, events and
 * wait check_control_events's, service.kill, status, recovery and
 * shutdown check_control_services's, the calls one client may have
 * awaiting their answer check_control_pending's.
 */
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "util.h"
#include "version.h"
#include "controltest.h"
#include "controlops.h"
#include "suite.h"

/*
 * Every test (every row of a table too) has a warden of its own, with
 * ct_conf_abc, and a connection to it: a checked fixture.
 */
static struct harness		 control_h;
static struct harness_conn	*control_c;

static void
control_setup(void)
{
	start(&control_h, ct_conf_abc);
	control_c = ct_conn_open(&control_h);
}

static void
control_teardown(void)
{
	harness_conn_close(control_c);
	stop(&control_h);
}

/* --- lines answered with an error ---------------------------------------- */

/* A line sent raw and the error that answers it (id: ID_NULL for null). */
struct control_bad_line {
	const char	*what;
	const char	*line;
	int		 code;
	const char	*kind;
	long long	 id;
};

#define PARSE_ERROR	-32700, "parse_error"
#define INVALID_REQ	-32600, "invalid_request"
#define NO_METHOD	-32601, "method_not_found"
#define BAD_PARAMS	-32602, "invalid_params"
#define NOT_FOUND	-32001, "not_found"

static const struct control_bad_line control_bad_lines[] = {
	{ "not JSON", "{not json", PARSE_ERROR, ID_NULL },
	{ "cut short: the id is never seen, so it is null",
	    "{'jsonrpc':'2.0','id':7,'method':'ping'", PARSE_ERROR, ID_NULL },
	{ "a key twice", "{'jsonrpc':'2.0','id':1,'id':2,'method':'ping'}",
	    PARSE_ERROR, ID_NULL },
	{ "not UTF-8", "\xff\xfe{}", PARSE_ERROR, ID_NULL },
	{ "a stray bracket", "]", PARSE_ERROR, ID_NULL },
	/* Valid JSON, but no request: -32600, not a parse error. */
	{ "a number", "42", INVALID_REQ, ID_NULL },
	{ "a string", "'ping'", INVALID_REQ, ID_NULL },
	{ "null", "null", INVALID_REQ, ID_NULL },
	{ "an empty batch", "[]", INVALID_REQ, ID_NULL },
	{ "no jsonrpc", "{'id':1,'method':'ping'}", INVALID_REQ, 1 },
	{ "jsonrpc 1.0", "{'jsonrpc':'1.0','id':2,'method':'ping'}",
	    INVALID_REQ, 2 },
	{ "jsonrpc a number", "{'jsonrpc':2.0,'id':3,'method':'ping'}",
	    INVALID_REQ, 3 },
	{ "method a number", "{'jsonrpc':'2.0','id':4,'method':5}",
	    INVALID_REQ, 4 },
	{ "no method", "{'jsonrpc':'2.0','id':5}", INVALID_REQ, 5 },
	{ "a key more", "{'jsonrpc':'2.0','id':6,'method':'ping',"
	    "'extra':true}", INVALID_REQ, 6 },
	{ "an id that is no id cannot be echoed",
	    "{'jsonrpc':'2.0','id':{},'method':'ping'}", INVALID_REQ, ID_NULL },
	{ "an invalid request without id is still answered (id null)",
	    "{'method':'ping'}", INVALID_REQ, ID_NULL },
	{ "no such method", "{'jsonrpc':'2.0','id':1,'method':'nosuch'}",
	    NO_METHOD, 1 },
	{ "methods are lower case", "{'jsonrpc':'2.0','id':2,'method':'PING'}",
	    NO_METHOD, 2 },
	{ "ping takes no params", "{'jsonrpc':'2.0','id':3,'method':'ping',"
	    "'params':{'x':1}}", BAD_PARAMS, 3 },
	{ "a param status does not take", "{'jsonrpc':'2.0','id':4,"
	    "'method':'status','params':{'service':'a','verbose':true}}",
	    BAD_PARAMS, 4 },
	{ "service a number", "{'jsonrpc':'2.0','id':5,'method':'status',"
	    "'params':{'service':5}}", BAD_PARAMS, 5 },
	{ "params an array", "{'jsonrpc':'2.0','id':6,'method':'status',"
	    "'params':['a']}", BAD_PARAMS, 6 },
	{ "params a string", "{'jsonrpc':'2.0','id':7,'method':'status',"
	    "'params':'a'}", BAD_PARAMS, 7 },
	{ "no such service", "{'jsonrpc':'2.0','id':8,'method':'status',"
	    "'params':{'service':'nope'}}", NOT_FOUND, 8 },
	{ "service.stop without its service", "{'jsonrpc':'2.0','id':9,"
	    "'method':'service.stop','params':{}}", BAD_PARAMS, 9 },
	{ "service.restart of no such service", "{'jsonrpc':'2.0','id':10,"
	    "'method':'service.restart','params':{'service':'nope'}}",
	    NOT_FOUND, 10 },
};

/*
 * Each line is answered with its error, nothing else is answered, and
 * nothing of it touched the services.
 */
START_TEST(test_bad_line)
{
	const struct control_bad_line	*row = &control_bad_lines[_i];
	json_t				*resp, *s;

	ct_send_line(control_c, row->line);
	resp = ct_next_line(control_c);
	ck_assert_msg(json_is_object(resp) &&
	    harness_error_code(resp) == row->code, "%s: not error %d",
	    row->what, row->code);
	ct_check_error(resp, row->code, row->kind, row->id);
	json_decref(resp);
	ct_check_quiet(control_c);
	s = service_of(&control_h, "a");
	ck_assert_str_eq(json_string_value(json_object_get(s, "state")),
	    "running");
	ck_assert_int_eq(json_integer_value(json_object_get(s, "restarts")),
	    0);
	json_decref(s);
}
END_TEST

/* A string id is echoed as it came. */
START_TEST(test_string_id)
{
	json_t	*resp;

	ct_send_line(control_c, "{'jsonrpc':'2.0','id':'x-1',"
	    "'method':'nosuch'}");
	resp = ct_next_line(control_c);
	ck_assert_int_eq(harness_error_code(resp), -32601);
	ck_assert_str_eq(json_string_value(json_object_get(resp, "id")),
	    "x-1");
	json_decref(resp);
	ct_check_quiet(control_c);
}
END_TEST

/* --- batches -------------------------------------------------------------- */

/* The next line answers a batch: an array of n answers. */
static json_t *
control_batch_answer(size_t n)
{
	json_t	*resp = ct_next_line(control_c);

	ck_assert_msg(json_is_array(resp), "a batch is answered as an array");
	ck_assert_uint_eq(json_array_size(resp), n);
	return resp;
}

START_TEST(test_batch_in_order)
{
	json_t	*resp, *r;

	ct_send_line(control_c, "[{'jsonrpc':'2.0','id':31,'method':'ping'},"
	    "{'jsonrpc':'2.0','id':'v','method':'version'},"
	    "{'jsonrpc':'2.0','id':33,'method':'status'}]");
	resp = control_batch_answer(3);
	ct_check_pong(json_array_get(resp, 0), 31);
	r = json_object_get(json_array_get(resp, 1), "result");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(resp,
	    1), "id")), "v");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "protocol")), 1);
	r = ct_check_result(json_array_get(resp, 2), 33);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "services")), 3);
	json_decref(resp);
	ct_check_quiet(control_c);
}
END_TEST

START_TEST(test_batch_bad_member)
{
	json_t	*resp;

	ct_send_line(control_c, "[{'jsonrpc':'2.0','id':1,'method':'ping'},"
	    "{'jsonrpc':'2.0','id':2,'method':'nosuch'},"
	    "42,"
	    "{'jsonrpc':'2.0','id':4,'method':'status',"
	    "'params':{'service':'nope'}},"
	    "{'jsonrpc':'2.0','id':5,'method':'ping'}]");
	resp = control_batch_answer(5);
	ct_check_pong(json_array_get(resp, 0), 1);
	ct_check_error(json_array_get(resp, 1), -32601, "method_not_found", 2);
	ct_check_error(json_array_get(resp, 2), -32600, "invalid_request",
	    ID_NULL);
	ct_check_error(json_array_get(resp, 3), -32001, "not_found", 4);
	ct_check_pong(json_array_get(resp, 4), 5);
	json_decref(resp);
	ct_check_quiet(control_c);
}
END_TEST

START_TEST(test_batch_all_notifications)
{
	json_t	*resp;

	/* Even a failing notification is not answered. */
	ct_send_line(control_c, "[{'jsonrpc':'2.0','method':'ping'},"
	    "{'jsonrpc':'2.0','method':'version'},"
	    "{'jsonrpc':'2.0','method':'nosuch'},"
	    "{'jsonrpc':'2.0','method':'status',"
	    "'params':{'service':'nope'}}]");
	ct_check_quiet(control_c);
	/* Mixed: only the members with an id are in the answer. */
	ct_send_line(control_c, "[{'jsonrpc':'2.0','method':'ping'},"
	    "{'jsonrpc':'2.0','id':8,'method':'ping'},"
	    "{'jsonrpc':'2.0','method':'nosuch'}]");
	resp = control_batch_answer(1);
	ct_check_pong(json_array_get(resp, 0), 8);
	json_decref(resp);
	ct_check_quiet(control_c);
}
END_TEST

START_TEST(test_batch_with_wait)
{
	struct harness_conn	*sub;
	json_t			*resp, *r;
	pid_t			 pid;

	sub = subscribe(&control_h, NULL);
	ct_send_line(control_c, "[{'jsonrpc':'2.0','id':10,'method':'ping'},"
	    "{'jsonrpc':'2.0','id':11,'method':'wait','params':"
	    "{'condition':{'service':'a','state':'running',"
	    "'min_restarts':1},'timeout_ms':20000}},"
	    "{'jsonrpc':'2.0','id':12,'method':'version'}]");
	/* Not answered yet: the ping sent after it comes back first. */
	ct_check_quiet(control_c);
	pid = controlops_kill_seen(&control_h, sub, "a");
	resp = control_batch_answer(3);
	ct_check_pong(json_array_get(resp, 0), 10);
	r = ct_check_result(json_array_get(resp, 1), 11);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "a");
	ck_assert_str_eq(json_string_value(json_object_get(r, "state")),
	    "running");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "restarts")), 1);
	ck_assert_int_ne(json_integer_value(json_object_get(r, "pid")), pid);
	r = ct_check_result(json_array_get(resp, 2), 12);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "protocol")), 1);
	json_decref(resp);
	ct_check_quiet(control_c);
	harness_conn_close(sub);
}
END_TEST

/* --- notifications -------------------------------------------------------- */

START_TEST(test_notification)
{
	ct_send_line(control_c, "{'jsonrpc':'2.0','method':'ping'}");
	ct_check_quiet(control_c);
	ct_send_line(control_c, "{'jsonrpc':'2.0','method':'nosuch'}");
	ct_send_line(control_c, "{'jsonrpc':'2.0','method':'status',"
	    "'params':{'service':7}}");
	ct_check_quiet(control_c);
	/* Blank lines are no requests either. */
	ct_send_line(control_c, "");
	ct_send_line(control_c, "\r");
	ct_check_quiet(control_c);
}
END_TEST

/* --- ping and version ----------------------------------------------------- */

START_TEST(test_ping_version)
{
	json_t	*resp, *r;

	resp = ct_call(&control_h, "ping", NULL);
	ct_check_pong(resp, json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
	/* No params at all may also be written as [] or null. */
	resp = ct_call(&control_h, "ping", json_array());
	ct_check_pong(resp, json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
	resp = ct_call(&control_h, "ping", json_null());
	ct_check_pong(resp, json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
	r = result(&control_h, "version", NULL);
	ck_assert_str_eq(json_string_value(json_object_get(r, "version")),
	    WARDEN_VERSION);
	ck_assert_msg(json_is_integer(json_object_get(r, "protocol")),
	    "protocol is not an integer");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "protocol")), 1);
	ck_assert_uint_eq(json_object_size(r), 2);
	json_decref(r);
}
END_TEST

static Suite *
control_suite(void)
{
	Suite	*s = suite_create("control");
	TCase	*tc = tcase_create("control");

	tcase_add_checked_fixture(tc, control_setup, control_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_bad_line, 0,
	    (int)nitems(control_bad_lines));
	tcase_add_test(tc, test_string_id);
	tcase_add_test(tc, test_batch_in_order);
	tcase_add_test(tc, test_batch_bad_member);
	tcase_add_test(tc, test_batch_all_notifications);
	tcase_add_test(tc, test_batch_with_wait);
	tcase_add_test(tc, test_notification);
	tcase_add_test(tc, test_ping_version);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(control_suite)
