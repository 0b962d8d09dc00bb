/*
 * check_control_events.c: events and wait against the real daemon:
 * subscriptions and their sequence numbers, the wait method and its
 * errors, a client that leaves with a wait pending, and a subscriber too
 * slow to read its events.
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

/* --- events --------------------------------------------------------------- */

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

	start(&h, ct_conf_abc);
	s1 = subscribe(&h, NULL);
	s2 = subscribe(&h, NULL);
	rd = subscribe(&h, "service.ready", NULL);
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
	ct_check_quiet(rd);

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

	start(&h, ct_conf_abc);
	c = ct_conn_open(&h);
	id = harness_conn_request(c, "subscribe", json_pack("{s:s}", "topics",
	    "service.ready"));
	resp = ct_next_line(c);
	ct_check_error(resp, -32602, "invalid_params", id);
	json_decref(resp);
	id = harness_conn_request(c, "subscribe", json_pack("{s:[i]}",
	    "topics", 3));
	resp = ct_next_line(c);
	ct_check_error(resp, -32602, "invalid_params", id);
	json_decref(resp);
	id = harness_conn_request(c, "subscribe", json_pack("{s:b}", "all", 1));
	resp = ct_next_line(c);
	ct_check_error(resp, -32602, "invalid_params", id);
	json_decref(resp);
	/* The seq is the last one emitted: nothing happened since start. */
	id = harness_conn_request(c, "subscribe", NULL);
	resp = ct_next_line(c);
	r = ct_check_result(resp, id);
	ck_assert_msg(json_is_integer(json_object_get(r, "seq")),
	    "subscribe: no seq");
	ck_assert_int_ge(json_integer_value(json_object_get(r, "seq")), 1);
	json_decref(resp);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* --- wait ----------------------------------------------------------------- */

static json_t *
wait_call(struct harness *h, json_t *cond, int timeout_ms)
{
	json_t	*params;

	params = json_pack("{s:o}", "condition", cond);
	if (timeout_ms >= 0)
		json_object_set_new(params, "timeout_ms",
		    json_integer(timeout_ms));
	return ct_call(h, "wait", params);
}

START_TEST(test_wait_timeout)
{
	struct harness	 h;
	json_t		*resp, *data;
	uint64_t	 t0, elapsed;

	start(&h, ct_conf_abc);
	t0 = util_now_ms();
	resp = wait_call(&h, json_pack("{s:s,s:s}", "service", "a", "state",
	    "stopped"), 300);
	elapsed = util_now_ms() - t0;
	ct_check_error(resp, -32003, "timeout",
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
	ct_check_result(resp, json_integer_value(json_object_get(resp, "id")));
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

	start(&h, ct_conf_abc);
	resp = wait_call(&h, json_pack("{s:s,s:s}", "service", "nope", "state",
	    "running"), 1000);
	ct_check_error(resp, -32001, "not_found",
	    json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
	for (i = 0; i < nitems(bad); i++) {
		text = dq(bad[i]);
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
	resp = ct_call(&h, "wait", json_pack("{s:i}", "timeout_ms", 100));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	resp = ct_call(&h, "wait", json_pack("{s:{s:b},s:i}", "condition",
	    "recovered", 1, "timeout_ms", -1));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	resp = ct_call(&h, "wait", json_pack("{s:{s:b},s:s}", "condition",
	    "recovered", 1, "timeout_ms", "1000"));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	ct_ping_ok(&h);
	stop(&h);
}
END_TEST

START_TEST(test_wait_recovered_now)
{
	struct harness	 h;
	json_t		*resp, *r;

	start(&h, ct_conf_abc);
	/* A long timeout: only an answer at once fits the call's deadline. */
	resp = harness_call_timeout(&h, "wait", json_pack("{s:{s:b},s:i}",
	    "condition", "recovered", 1, "timeout_ms", 600000), 5000);
	ck_assert_msg(resp != NULL, "wait recovered did not answer at once");
	r = ct_check_result(resp, json_integer_value(json_object_get(resp,
	    "id")));
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

	start(&h, ct_conf_abc);
	sub = subscribe(&h, NULL);
	c = ct_conn_open(&h);
	id = harness_conn_request(c, "wait", json_pack("{s:{s:s,s:s,s:i},s:i}",
	    "condition", "service", "b", "state", "running", "min_restarts", 1,
	    "timeout_ms", 20000));
	id2 = harness_conn_request(c, "wait", json_pack("{s:{s:s,s:s},s:i}",
	    "condition", "service", "c", "state", "stopped",
	    "timeout_ms", 20000));
	ck_assert_int_gt(id, 0);
	ck_assert_int_gt(id2, 0);
	/* Both pending: the ping sent after them is answered first. */
	ct_check_quiet(c);

	controlops_kill_seen(&h, sub, "b");
	resp = ct_next_line(c);
	r = ct_check_result(resp, id);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "b");
	ck_assert_str_eq(json_string_value(json_object_get(r, "state")),
	    "running");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "restarts")), 1);
	json_decref(resp);
	ct_check_quiet(c);

	controlops_service(&h, "service.stop", "c", "stopped");
	resp = ct_next_line(c);
	r = ct_check_result(resp, id2);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "c");
	ck_assert_str_eq(json_string_value(json_object_get(r, "state")),
	    "stopped");
	json_decref(resp);

	harness_conn_close(c);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* --- a client leaves with a wait pending ---------------------------------- */

START_TEST(test_disconnect_pending_wait)
{
	struct harness		 h;
	struct harness_conn	*c, *other, *sub;

	start(&h, ct_conf_abc);
	other = ct_conn_open(&h);
	sub = subscribe(&h, NULL);
	c = ct_conn_open(&h);
	/* A single wait and a batch of two, all pending on a and c. */
	ck_assert_int_gt(harness_conn_request(c, "wait",
	    json_pack("{s:{s:s,s:s},s:i}", "condition", "service", "a",
	    "state", "stopped", "timeout_ms", 60000)), 0);
	ct_send_line(c, "[{'jsonrpc':'2.0','id':50,'method':'wait',"
	    "'params':{'condition':{'service':'a','state':'running',"
	    "'min_restarts':1},'timeout_ms':60000}},"
	    "{'jsonrpc':'2.0','id':51,'method':'wait',"
	    "'params':{'condition':{'service':'c','state':'stopped'},"
	    "'timeout_ms':60000}},"
	    "{'jsonrpc':'2.0','id':52,'method':'ping'}]");
	/* They have been read and registered. */
	ct_check_quiet(c);
	harness_conn_close(c);
	ct_check_quiet(other);

	/* Now make every one of them come true: nobody is there to answer. */
	controlops_kill_seen(&h, sub, "a");
	ct_await_recovered(&h);
	controlops_service(&h, "service.stop", "c", "stopped");
	controlops_service(&h, "service.stop", "a", "stopped");
	ct_check_quiet(other);
	controlops_service(&h, "service.start", "a", "running");
	ct_check_quiet(other);
	harness_conn_close(other);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* --- a slow subscriber ---------------------------------------------------- */

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
	resp = ct_next_line(c);
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
	    strchr(ct_conf_abc, '{') + 1);
	start(&h, conf);
	free(conf);
	sub = subscribe(&h, NULL);
	other = ct_conn_open(&h);
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
	ct_check_quiet(other);
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
	ct_check_quiet(other);
	harness_conn_close(other);
	stop(&h);
}
END_TEST

static Suite *
control_events_suite(void)
{
	Suite	*s = suite_create("control_events");
	TCase	*tc = tcase_create("control_events");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_subscribe_seq);
	tcase_add_test(tc, test_subscribe_params);
	tcase_add_test(tc, test_wait_timeout);
	tcase_add_test(tc, test_wait_errors);
	tcase_add_test(tc, test_wait_recovered_now);
	tcase_add_test(tc, test_wait_later);
	tcase_add_test(tc, test_disconnect_pending_wait);
	tcase_add_test(tc, test_slow_subscriber);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(control_events_suite)
