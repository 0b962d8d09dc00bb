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
#include "suite.h"

/* --- framing -------------------------------------------------------------- */

START_TEST(test_parse_error)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, ct_conf_abc);
	c = ct_conn_open(&h);
	ct_expect_error_line(c, "{not json", -32700, "parse_error", ID_NULL);
	ct_check_quiet(c);
	/* Cut short: the id is never seen, so it is null. */
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':7,'method':'ping'",
	    -32700, "parse_error", ID_NULL);
	ct_check_quiet(c);
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':1,'id':2,"
	    "'method':'ping'}", -32700, "parse_error", ID_NULL);
	ct_expect_error_line(c, "\xff\xfe{}", -32700, "parse_error", ID_NULL);
	ct_expect_error_line(c, "]", -32700, "parse_error", ID_NULL);
	ct_check_quiet(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* --- invalid requests ----------------------------------------------------- */

START_TEST(test_not_an_object)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, ct_conf_abc);
	c = ct_conn_open(&h);
	/* Valid JSON, but no request: -32600, not a parse error. */
	ct_expect_error_line(c, "42", -32600, "invalid_request", ID_NULL);
	ct_expect_error_line(c, "'ping'", -32600, "invalid_request", ID_NULL);
	ct_expect_error_line(c, "null", -32600, "invalid_request", ID_NULL);
	ct_check_quiet(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

START_TEST(test_invalid_request)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, ct_conf_abc);
	c = ct_conn_open(&h);
	ct_expect_error_line(c, "{'id':1,'method':'ping'}", -32600,
	    "invalid_request", 1);
	ct_expect_error_line(c, "{'jsonrpc':'1.0','id':2,'method':'ping'}",
	    -32600, "invalid_request", 2);
	ct_expect_error_line(c, "{'jsonrpc':2.0,'id':3,'method':'ping'}",
	    -32600, "invalid_request", 3);
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':4,'method':5}",
	    -32600, "invalid_request", 4);
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':5}", -32600,
	    "invalid_request", 5);
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':6,'method':'ping',"
	    "'extra':true}", -32600, "invalid_request", 6);
	/* An id that is no id cannot be echoed. */
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':{},'method':'ping'}",
	    -32600, "invalid_request", ID_NULL);
	/* An invalid request without id is still answered (id null). */
	ct_expect_error_line(c, "{'method':'ping'}", -32600, "invalid_request",
	    ID_NULL);
	ct_check_quiet(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* --- methods and params --------------------------------------------------- */

START_TEST(test_method_and_params_errors)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, ct_conf_abc);
	c = ct_conn_open(&h);
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':1,'method':'nosuch'}",
	    -32601, "method_not_found", 1);
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':2,'method':'PING'}",
	    -32601, "method_not_found", 2);
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':3,'method':'ping',"
	    "'params':{'x':1}}", -32602, "invalid_params", 3);
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':4,'method':'status',"
	    "'params':{'service':'a','verbose':true}}", -32602,
	    "invalid_params", 4);
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':5,'method':'status',"
	    "'params':{'service':5}}", -32602, "invalid_params", 5);
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':6,'method':'status',"
	    "'params':['a']}", -32602, "invalid_params", 6);
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':7,'method':'status',"
	    "'params':'a'}", -32602, "invalid_params", 7);
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':8,'method':'status',"
	    "'params':{'service':'nope'}}", -32001, "not_found", 8);
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':9,"
	    "'method':'service.stop','params':{}}", -32602,
	    "invalid_params", 9);
	ct_expect_error_line(c, "{'jsonrpc':'2.0','id':10,"
	    "'method':'service.restart','params':{'service':'nope'}}",
	    -32001, "not_found", 10);
	/* A string id is echoed as it came. */
	ct_send_line(c, "{'jsonrpc':'2.0','id':'x-1','method':'nosuch'}");
	{
		json_t	*resp = ct_next_line(c);

		ck_assert_int_eq(harness_error_code(resp), -32601);
		ck_assert_str_eq(json_string_value(json_object_get(resp, "id")),
		    "x-1");
		json_decref(resp);
	}
	ct_check_quiet(c);
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

/* --- batches -------------------------------------------------------------- */

START_TEST(test_batch_in_order)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*resp, *r;

	start(&h, ct_conf_abc);
	c = ct_conn_open(&h);
	ct_send_line(c, "[{'jsonrpc':'2.0','id':31,'method':'ping'},"
	    "{'jsonrpc':'2.0','id':'v','method':'version'},"
	    "{'jsonrpc':'2.0','id':33,'method':'status'}]");
	resp = ct_next_line(c);
	ck_assert_msg(json_is_array(resp), "a batch is answered as an array");
	ck_assert_uint_eq(json_array_size(resp), 3);
	ct_check_pong(json_array_get(resp, 0), 31);
	r = json_object_get(json_array_get(resp, 1), "result");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(resp,
	    1), "id")), "v");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "protocol")), 1);
	r = ct_check_result(json_array_get(resp, 2), 33);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "services")), 3);
	json_decref(resp);
	ct_check_quiet(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

START_TEST(test_batch_bad_member)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*resp;

	start(&h, ct_conf_abc);
	c = ct_conn_open(&h);
	ct_send_line(c, "[{'jsonrpc':'2.0','id':1,'method':'ping'},"
	    "{'jsonrpc':'2.0','id':2,'method':'nosuch'},"
	    "42,"
	    "{'jsonrpc':'2.0','id':4,'method':'status',"
	    "'params':{'service':'nope'}},"
	    "{'jsonrpc':'2.0','id':5,'method':'ping'}]");
	resp = ct_next_line(c);
	ck_assert_msg(json_is_array(resp), "a batch is answered as an array");
	ck_assert_uint_eq(json_array_size(resp), 5);
	ct_check_pong(json_array_get(resp, 0), 1);
	ct_check_error(json_array_get(resp, 1), -32601, "method_not_found", 2);
	ct_check_error(json_array_get(resp, 2), -32600, "invalid_request",
	    ID_NULL);
	ct_check_error(json_array_get(resp, 3), -32001, "not_found", 4);
	ct_check_pong(json_array_get(resp, 4), 5);
	json_decref(resp);
	ct_check_quiet(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

START_TEST(test_batch_empty)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, ct_conf_abc);
	c = ct_conn_open(&h);
	ct_expect_error_line(c, "[]", -32600, "invalid_request", ID_NULL);
	ct_check_quiet(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

START_TEST(test_batch_all_notifications)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, ct_conf_abc);
	c = ct_conn_open(&h);
	/* Even a failing notification is not answered. */
	ct_send_line(c, "[{'jsonrpc':'2.0','method':'ping'},"
	    "{'jsonrpc':'2.0','method':'version'},"
	    "{'jsonrpc':'2.0','method':'nosuch'},"
	    "{'jsonrpc':'2.0','method':'status',"
	    "'params':{'service':'nope'}}]");
	ct_check_quiet(c);
	/* Mixed: only the members with an id are in the answer. */
	ct_send_line(c, "[{'jsonrpc':'2.0','method':'ping'},"
	    "{'jsonrpc':'2.0','id':8,'method':'ping'},"
	    "{'jsonrpc':'2.0','method':'nosuch'}]");
	{
		json_t	*resp = ct_next_line(c);

		ck_assert_msg(json_is_array(resp), "expected an array");
		ck_assert_uint_eq(json_array_size(resp), 1);
		ct_check_pong(json_array_get(resp, 0), 8);
		json_decref(resp);
	}
	ct_check_quiet(c);
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

	start(&h, ct_conf_abc);
	sub = subscribe(&h, NULL);
	pid = pid_of(&h, "a");
	c = ct_conn_open(&h);
	ct_send_line(c, "[{'jsonrpc':'2.0','id':10,'method':'ping'},"
	    "{'jsonrpc':'2.0','id':11,'method':'wait','params':"
	    "{'condition':{'service':'a','state':'running',"
	    "'min_restarts':1},'timeout_ms':20000}},"
	    "{'jsonrpc':'2.0','id':12,'method':'version'}]");
	/* Not answered yet: the ping sent after it comes back first. */
	ct_check_quiet(c);
	r = result(&h, "service.kill", json_pack("{s:s}", "service", "a"));
	json_decref(r);
	ct_await_exit(sub, "a", pid);
	resp = ct_next_line(c);
	ck_assert_msg(json_is_array(resp), "the batch's answer is an array");
	ck_assert_uint_eq(json_array_size(resp), 3);
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
	ct_check_quiet(c);
	harness_conn_close(c);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* --- notifications -------------------------------------------------------- */

START_TEST(test_notification)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, ct_conf_abc);
	c = ct_conn_open(&h);
	ct_send_line(c, "{'jsonrpc':'2.0','method':'ping'}");
	ct_check_quiet(c);
	ct_send_line(c, "{'jsonrpc':'2.0','method':'nosuch'}");
	ct_send_line(c, "{'jsonrpc':'2.0','method':'status',"
	    "'params':{'service':7}}");
	ct_check_quiet(c);
	/* Blank lines are no requests either. */
	ct_send_line(c, "");
	ct_send_line(c, "\r");
	ct_check_quiet(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* --- ping and version ----------------------------------------------------- */

START_TEST(test_ping_version)
{
	struct harness	 h;
	json_t		*resp, *r;

	start(&h, ct_conf_abc);
	resp = ct_call(&h, "ping", NULL);
	ct_check_pong(resp, json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
	/* No params at all may also be written as [] or null. */
	resp = ct_call(&h, "ping", json_array());
	ct_check_pong(resp, json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
	resp = ct_call(&h, "ping", json_null());
	ct_check_pong(resp, json_integer_value(json_object_get(resp, "id")));
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

static Suite *
control_suite(void)
{
	Suite	*s = suite_create("control");
	TCase	*tc = tcase_create("control");

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
	tcase_add_test(tc, test_ping_version);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(control_suite)
