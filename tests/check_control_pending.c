/*
 * check_control_pending.c: the calls one client may have awaiting their
 * answer, against the real daemon: the cap, their timeouts, and the index
 * that finds them.
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
#include "controllines.h"
#include "suite.h"

/* --- calls awaiting their answer ------------------------------------------ */

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

	ct_check_error(resp, -32600, "invalid_request", id);
	snprintf(want, sizeof(want), "max_pending %d", max);
	ck_assert_msg(strstr(ct_error_message(resp), want) != NULL, "%s",
	    ct_error_message(resp));
	data = json_object_get(json_object_get(resp, "error"), "data");
	ck_assert_str_eq(json_string_value(json_object_get(data, "limit")),
	    "max_pending");
}

/* The next line on c must be that error, answering id. */
static void
next_over_pending(struct harness_conn *c, long long id, int max)
{
	json_t	*resp = ct_next_line(c);

	check_over_pending(resp, id, max);
	json_decref(resp);
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
	c = ct_conn_open(&h);
	other = ct_conn_open(&h);
	/* Four calls of four kinds, none of them true now. */
	first = wait_request(c, json_pack("{s:s,s:b}", "flag", "f", "value", 1),
	    60000);
	wait_request(c, json_pack("{s:s,s:s}", "service", "a", "state",
	    "stopped"), 60000);
	wait_request(c, json_pack("{s:i}", "stage", 3), 60000);
	wait_request(c, json_pack("{s:s,s:s,s:i}", "service", "b", "state",
	    "running", "min_restarts", 5), 60000);
	ct_check_quiet(c);

	/* A fifth: refused at once, the connection kept. */
	id = wait_request(c, json_pack("{s:s,s:s}", "service", "c", "state",
	    "stopped"), 60000);
	next_over_pending(c, id, 4);
	ct_check_quiet(c);
	/* A service operation too, before it does anything. */
	pid_c = pid_of(&h, "c");
	id = harness_conn_request(c, "service.stop", json_pack("{s:s}",
	    "service", "c"));
	next_over_pending(c, id, 4);
	ck_assert_int_eq(pid_of(&h, "c"), pid_c);
	ck_assert_str_eq(json_string_value(json_object_get(service_of(&h, "c"),
	    "state")), "running");
	/* In a batch, each member past the limit. */
	ct_send_line(c, "[{'jsonrpc':'2.0','id':70,'method':'wait','params':"
	    "{'condition':{'stage':4},'timeout_ms':60000}},"
	    "{'jsonrpc':'2.0','id':71,'method':'ping'}]");
	resp = ct_next_line(c);
	ck_assert_msg(json_is_array(resp) && json_array_size(resp) == 2,
	    "the batch is answered at once, as an array of two");
	check_over_pending(json_array_get(resp, 0), 70, 4);
	ct_check_pong(json_array_get(resp, 1), 71);
	json_decref(resp);

	/* Another client has room of its own. */
	for (i = 0; i < 4; i++)
		wait_request(other, json_pack("{s:s,s:s}", "service", "a",
		    "state", "stopped"), 60000);
	ct_check_quiet(other);

	/* One comes true: answered, and its room is free again. */
	r = result(&h, "flag.set", json_pack("{s:s,s:b}", "name", "f",
	    "value", 1));
	json_decref(r);
	resp = ct_next_line(c);
	r = ct_check_result(resp, first);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "f");
	json_decref(resp);
	wait_request(c, json_pack("{s:s,s:b}", "flag", "f", "value", 0), 60000);
	ct_check_quiet(c);
	id = wait_request(c, json_pack("{s:i}", "stage", 5), 60000);
	next_over_pending(c, id, 4);

	/* A reload to 6: two more for each client, then the error names 6. */
	conf = xstrdup(conf_pending);
	*strchr(conf, '4') = '6';
	ck_assert_int_eq(harness_write_config(&h, conf), 0);
	free(conf);
	r = result(&h, "config.reload", NULL);
	json_decref(r);
	for (i = 0; i < 2; i++)
		wait_request(c, json_pack("{s:i}", "stage", 6 + i), 60000);
	ct_check_quiet(c);
	id = wait_request(c, json_pack("{s:i}", "stage", 9), 60000);
	next_over_pending(c, id, 6);
	ct_check_quiet(c);
	ct_check_quiet(other);
	harness_conn_close(c);
	harness_conn_close(other);
	ct_ping_ok(&h);
	stop(&h);
}
END_TEST

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

	start(&h, ct_conf_abc);
	for (i = 0; i < CLIENTS; i++)
		cs[i] = ct_conn_open(&h);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < CLIENTS; i++) {
			batch = controllines_waits(conds[i % nitems(conds)],
			    300, 1, CAP + 1, true);
			ck_assert_int_eq(harness_conn_send_raw(cs[i], batch,
			    strlen(batch)), 0);
			free(batch);
		}
		/* All of them pending at once, and warden answering. */
		ct_ping_ok(&h);
		for (i = 0; i < CLIENTS; i++) {
			resp = ct_next_line(cs[i]);
			ck_assert_msg(json_is_array(resp) &&
			    json_array_size(resp) == CAP + 1,
			    "round %d client %d: no batch of %d answers", round,
			    i, CAP + 1);
			json_array_foreach(resp, j, m) {
				if (j < CAP)
					ct_check_error(m, -32003, "timeout",
					    (long long)j + 1);
				else
					check_over_pending(m, CAP + 1, CAP);
			}
			json_decref(resp);
		}
		ct_ping_ok(&h);
	}
	for (i = 0; i < CLIENTS; i++) {
		ct_check_quiet(cs[i]);
		harness_conn_close(cs[i]);
	}
	stop(&h);
}
END_TEST

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
	int			 i, k;

	xasprintf(&conf, "{ \"flags\": { \"f\": { \"default\": false } },%s",
	    strchr(ct_conf_abc, '{') + 1);
	start(&h, conf);
	free(conf);
	sub = subscribe(&h, NULL);
	for (i = 0; i < CLIENTS; i++) {
		cs[i] = ct_conn_open(&h);
		lines = controllines_waits(conds[i % nitems(conds)], 60000, 1,
		    CAP, false);
		ck_assert_int_eq(harness_conn_send_raw(cs[i], lines,
		    strlen(lines)), 0);
		free(lines);
	}
	for (i = 0; i < CLIENTS; i++)
		ct_check_quiet(cs[i]);
	/* Each client is at its limit. */
	id = wait_request(cs[0], json_pack("{s:b}", "recovered", 1), 60000);
	next_over_pending(cs[0], id, CAP);

	w = ct_conn_open(&h);
	id = wait_request(w, json_pack("{s:s,s:s,s:i}", "service", "a",
	    "state", "running", "min_restarts", 1), 20000);
	ct_check_quiet(w);
	controlops_kill_seen(&h, sub, "a");
	resp = ct_next_line(w);
	r = ct_check_result(resp, id);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "a");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "restarts")), 1);
	json_decref(resp);
	for (i = 0; i < CLIENTS; i++)
		ct_check_quiet(cs[i]);

	/* f to 50: the waits for 50 are answered, all of them, and no other. */
	r = result(&h, "flag.set", json_pack("{s:s,s:i}", "name", "f",
	    "value", 50));
	json_decref(r);
	for (i = 0; i < CLIENTS; i++) {
		if (i % (int)nitems(conds) != 0) {
			ct_check_quiet(cs[i]);
			continue;
		}
		for (k = 0; k < CAP; k++) {
			resp = ct_next_line(cs[i]);
			r = ct_check_result(resp, json_integer_value(
			    json_object_get(resp, "id")));
			ck_assert_int_eq(json_integer_value(json_object_get(r,
			    "value")), 50);
			json_decref(resp);
		}
		ct_check_quiet(cs[i]);
	}
	for (i = 0; i < CLIENTS; i++)
		harness_conn_close(cs[i]);
	harness_conn_close(w);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

static Suite *
control_pending_suite(void)
{
	Suite	*s = suite_create("control_pending");
	TCase	*tc = tcase_create("control_pending");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_pending_cap);
	tcase_add_test(tc, test_pending_timeouts);
	tcase_add_test(tc, test_pending_indexed);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(control_pending_suite)
