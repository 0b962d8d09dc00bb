/*
 * check_supervise_restarts.c: a killed worker comes back, as seen from
 * outside with the real daemon and real workers (tests/harness.h,
 * tests/workers/test-worker.c): in its strategy's scope (one_for_one,
 * one_for_all, rest_for_one), by its restart type, after a backoff, and
 * until the intensity of its supervisor is spent, which escalates up the
 * tree to warden's exit. The other check_supervise_* suites have the
 * rest of supervision; tests/supervisetest.h is what they share.
 *
 * Configurations are written with ' for " (dq()); no test needs a real '.
 */
#include <check.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "supervisetest.h"
#include "util.h"
#include "suite.h"

/* --- 1-4: a killed worker comes back, in its strategy's scope ------------ */

START_TEST(test_kill_restarts)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list, *ev;
	pid_t		 pid0, pid1;
	int		 i;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@'] } ] } }");
	pid0 = pid_of(&h, "w");
	c = subscribe(&h, NULL);
	ck_assert_int_eq(kill_one(&h, "w", NULL), pid0);
	list = events_until(c, "service.ready", "w", NULL);
	ck_assert_str_eq(ev_types_of(list, "w"),
	    "service.exited,service.started,service.ready");
	i = ev_find(list, "service.exited", "w", 0);
	expect_exited(json_array_get(list, i), pid0, 0, "KILL", false);
	ev = json_array_get(list, ev_find(list, "service.started", "w", 0));
	pid1 = (pid_t)num(ev, "pid");
	ck_assert_int_ne(pid1, pid0);
	ck_assert_int_eq(num(ev, "restarts"), 1);
	ev = json_array_get(list, ev_find(list, "service.ready", "w", 0));
	ck_assert_int_eq(num(ev, "pid"), pid1);

	expect_svc(&h, "w", "running", pid1, 1);
	expect_last_exit(&h, "w", "{\"signal\":\"KILL\"}");
	ck_assert_int_eq(harness_wait_pid_gone(pid0, T_WAIT), 0);
	ck_assert(!is_zombie(pid0));
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

START_TEST(test_one_for_one)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 a, b, cc;

	start(&h, "{ 'supervisor': { 'strategy': 'one_for_one', 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'] },"
	    " { 'name': 'b', 'command': ['@WORKER@'] },"
	    " { 'name': 'c', 'command': ['@WORKER@'] } ] } }");
	a = pid_of(&h, "a");
	b = pid_of(&h, "b");
	cc = pid_of(&h, "c");
	c = subscribe(&h, NULL);
	kill_one(&h, "b", NULL);
	list = events_until(c, "service.ready", "b", NULL);
	ck_assert_str_eq(ev_types_of(list, "a"), "");
	ck_assert_str_eq(ev_types_of(list, "c"), "");
	expect_svc(&h, "a", "running", a, 0);
	expect_svc(&h, "c", "running", cc, 0);
	expect_svc(&h, "b", "running", 0, 1);
	ck_assert_int_ne(pid_of(&h, "b"), b);
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

START_TEST(test_one_for_all)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 a, b, cc;
	int		 last_exit, first_start;

	start(&h, "{ 'supervisor': { 'strategy': 'one_for_all', "
	    "'max_restarts': 10, 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'] },"
	    " { 'name': 'b', 'command': ['@WORKER@'] },"
	    " { 'name': 'c', 'command': ['@WORKER@'] } ] } }");
	a = pid_of(&h, "a");
	b = pid_of(&h, "b");
	cc = pid_of(&h, "c");
	c = subscribe(&h, NULL);
	kill_one(&h, "b", NULL);
	list = events_until(c, "service.ready", "c", NULL);

	/* The killed one, the rest from the last down, then all up in order. */
	ck_assert_str_eq(ev_seq(list, "service.exited"), "b,c,a");
	ck_assert_str_eq(ev_seq(list, "service.started"), "a,b,c");
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "b",
	    0)), b, 0, "KILL", false);
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "c",
	    0)), cc, 0, "TERM", true);
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "a",
	    0)), a, 0, "TERM", true);
	last_exit = ev_find(list, "service.exited", "a", 0);
	first_start = ev_find(list, "service.started", "a", 0);
	ck_assert_msg(last_exit < first_start,
	    "a start before all were down: %s", dump(list));

	expect_svc(&h, "a", "running", 0, 1);
	expect_svc(&h, "b", "running", 0, 1);
	expect_svc(&h, "c", "running", 0, 1);
	ck_assert_int_ne(pid_of(&h, "a"), a);
	ck_assert_int_ne(pid_of(&h, "b"), b);
	ck_assert_int_ne(pid_of(&h, "c"), cc);
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

START_TEST(test_rest_for_one)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 a, b, cc;
	int		 c_exit, b_start, c_start;

	start(&h, "{ 'supervisor': { 'strategy': 'rest_for_one', "
	    "'max_restarts': 10, 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'] },"
	    " { 'name': 'b', 'command': ['@WORKER@'] },"
	    " { 'name': 'c', 'command': ['@WORKER@'] } ] } }");
	a = pid_of(&h, "a");
	b = pid_of(&h, "b");
	cc = pid_of(&h, "c");
	c = subscribe(&h, NULL);
	kill_one(&h, "b", NULL);
	list = events_until(c, "service.ready", "c", NULL);

	ck_assert_str_eq(ev_types_of(list, "a"), "");
	ck_assert_str_eq(ev_seq(list, "service.exited"), "b,c");
	ck_assert_str_eq(ev_seq(list, "service.started"), "b,c");
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "b",
	    0)), b, 0, "KILL", false);
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "c",
	    0)), cc, 0, "TERM", true);
	c_exit = ev_find(list, "service.exited", "c", 0);
	b_start = ev_find(list, "service.started", "b", 0);
	c_start = ev_find(list, "service.started", "c", 0);
	ck_assert_msg(c_exit < b_start && b_start < c_start, "order: %s",
	    dump(list));

	expect_svc(&h, "a", "running", a, 0);
	expect_svc(&h, "b", "running", 0, 1);
	expect_svc(&h, "c", "running", 0, 1);
	ck_assert_int_ne(pid_of(&h, "b"), b);
	ck_assert_int_ne(pid_of(&h, "c"), cc);
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/* --- 5: restart types ---------------------------------------------------- */

START_TEST(test_transient_exit0)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 pid;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 't', 'restart': 'transient'," SET_UP ","
	    "   'command': ['@WORKER@', '--exit-on-usr1', '0'" READY_ARGS
	    "] },"
	    SENTINEL
	    " ] } }");
	pid = pid_of(&h, "t");
	c = subscribe(&h, NULL);
	ck_assert_int_eq(kill_one(&h, "t", "USR1"), pid);
	list = events_until(c, "service.exited", "t", NULL);
	expect_exited(json_array_get(list, json_array_size(list) - 1), pid, 0,
	    NULL, false);
	list = barrier(&h, c, list);
	ck_assert_str_eq(ev_types_of(list, "t"), "service.exited");
	expect_svc(&h, "t", "stopped", -1, 0);
	expect_last_exit(&h, "t", "{\"code\":0}");
	ck_assert_str_eq(health(&h), "degraded");
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

START_TEST(test_transient_exit3)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 pid;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 't', 'restart': 'transient'," SET_UP ","
	    "   'command': ['@WORKER@', '--exit-on-usr1', '3'" READY_ARGS
	    "] }"
	    " ] } }");
	pid = pid_of(&h, "t");
	c = subscribe(&h, NULL);
	kill_one(&h, "t", "USR1");
	list = events_until(c, "service.ready", "t", NULL);
	ck_assert_str_eq(ev_types_of(list, "t"),
	    "service.exited,service.started,service.ready");
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "t",
	    0)), pid, 3, NULL, false);
	expect_svc(&h, "t", "running", 0, 1);
	ck_assert_int_ne(pid_of(&h, "t"), pid);
	expect_last_exit(&h, "t", "{\"code\":3}");
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

START_TEST(test_temporary_exit3)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 pid;
	int		 i;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 't', 'restart': 'temporary'," SET_UP ","
	    "   'command': ['@WORKER@', '--exit-on-usr1', '3'" READY_ARGS
	    "] },"
	    SENTINEL
	    " ] } }");
	pid = pid_of(&h, "t");
	c = subscribe(&h, NULL);
	kill_one(&h, "t", "USR1");
	list = events_until(c, "service.failed", "t", NULL);
	i = ev_find(list, "service.exited", "t", 0);
	ck_assert_msg(i >= 0, "no exit before service.failed: %s",
	    dump(list));
	expect_exited(json_array_get(list, i), pid, 3, NULL, false);
	list = barrier(&h, c, list);
	ck_assert_str_eq(ev_types_of(list, "t"),
	    "service.exited,service.failed");
	expect_svc(&h, "t", "failed", -1, 0);
	expect_last_exit(&h, "t", "{\"code\":3}");
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

START_TEST(test_permanent_exit0)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 pid;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 't', 'restart': 'permanent'," SET_UP ","
	    "   'command': ['@WORKER@', '--exit-on-usr1', '0'" READY_ARGS
	    "] }"
	    " ] } }");
	pid = pid_of(&h, "t");
	c = subscribe(&h, NULL);
	kill_one(&h, "t", "USR1");
	list = events_until(c, "service.ready", "t", NULL);
	ck_assert_str_eq(ev_types_of(list, "t"),
	    "service.exited,service.started,service.ready");
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "t",
	    0)), pid, 0, NULL, false);
	expect_svc(&h, "t", "running", 0, 1);
	ck_assert_int_ne(pid_of(&h, "t"), pid);
	expect_last_exit(&h, "t", "{\"code\":0}");
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/*
 * Death by the service's own stop signal is a normal exit; any other signal
 * is not. "u" stops with USR1, so for it TERM is the abnormal one.
 */
START_TEST(test_stop_signal_normal)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 t, u;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 't', 'restart': 'transient', 'command': ['@WORKER@'] },"
	    " { 'name': 'u', 'restart': 'transient', 'stop_signal': 'USR1',"
	    "   'command': ['@WORKER@'] }," SENTINEL " ] } }");
	t = pid_of(&h, "t");
	u = pid_of(&h, "u");
	c = subscribe(&h, NULL);

	kill_one(&h, "t", "TERM");
	list = events_until(c, "service.exited", "t", NULL);
	expect_exited(json_array_get(list, json_array_size(list) - 1), t, 0,
	    "TERM", false);
	list = barrier(&h, c, list);
	ck_assert_str_eq(ev_types_of(list, "t"), "service.exited");
	expect_svc(&h, "t", "stopped", -1, 0);
	expect_last_exit(&h, "t", "{\"signal\":\"TERM\"}");

	kill_one(&h, "u", "TERM");
	list = events_until(c, "service.ready", "u", list);
	ck_assert_str_eq(ev_types_of(list, "u"),
	    "service.exited,service.started,service.ready");
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "u",
	    0)), u, 0, "TERM", false);
	expect_svc(&h, "u", "running", 0, 1);
	u = pid_of(&h, "u");

	kill_one(&h, "u", "USR1");
	list = events_until(c, "service.exited", "u", list);
	expect_exited(json_array_get(list, json_array_size(list) - 1), u, 0,
	    "USR1", false);
	list = barrier(&h, c, list);
	ck_assert_str_eq(ev_types_of(list, "u"), "service.exited,"
	    "service.started,service.ready,service.exited");
	expect_svc(&h, "u", "stopped", -1, 1);
	expect_last_exit(&h, "u", "{\"signal\":\"USR1\"}");
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/* --- 6-7: backoff, intensity, escalation --------------------------------- */

/*
 * "gate" holds the rest of the tree back until the test has subscribed, so
 * that no event of the crash loop is missed.
 */
START_TEST(test_crash_backoff)
{
	static const int delays[] = { 20, 40, 80 };
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list, *ev, *nest;
	int		 failed, i, b, s, nb = 0;

	prepare(&h, "{ 'supervisor': { 'max_restarts': 5, 'max_seconds': 10,"
	    " 'children': ["
	    " { 'name': 'gate', 'command': ['@WORKER@', '--ready', 'signal',"
	    "   '--grandchild', '@DIR@/gate.pid'], 'ready': 'notify' },"
	    " { 'name': 'nest', 'max_restarts': 3, 'max_seconds': 10,"
	    "   'children': ["
	    "   { 'name': 'crash', 'command': ['@WORKER@', '--crash', '1'],"
	    "     'backoff': { 'initial_ms': 20, 'factor': 2, 'max_ms': 200,"
	    "                  'jitter': 0 } } ] } ] } }");
	spawn_early(&h);
	wait_state(&h, "gate", "starting");
	c = subscribe(&h, NULL);
	usr2_when_set_up(&h, "gate", "gate.pid", 0);

	list = events_until(c, "supervisor.failed", "nest", NULL);
	failed = (int)json_array_size(list) - 1;
	ev = json_array_get(list, failed);
	ck_assert_int_eq(num(ev, "max_restarts"), 3);
	ck_assert_int_eq(num(ev, "max_seconds"), 10);
	/* Four runs, three restarts each after a longer delay, then give up. */
	ck_assert_str_eq(ev_types_of(list, "crash"),
	    "service.started,service.ready,service.exited,service.backoff,"
	    "service.started,service.ready,service.exited,service.backoff,"
	    "service.started,service.ready,service.exited,service.backoff,"
	    "service.started,service.ready,service.exited");
	for (i = 0; i < (int)json_array_size(list); i++) {
		ev = json_array_get(list, i);
		if (ev_is(ev, "service.exited", "crash"))
			expect_exited(ev, 0, 1, NULL, false);
		if (!ev_is(ev, "service.backoff", "crash"))
			continue;
		ck_assert_int_lt(nb, 3);
		ck_assert_msg(num(ev, "delay_ms") == delays[nb] &&
		    num(ev, "attempt") == nb + 1, "backoff %d: %s", nb + 1,
		    dump(ev));
		/* The next start waited at least that long. */
		b = i;
		s = ev_find(list, "service.started", "crash", (size_t)b);
		ck_assert_int_ge(s, 0);
		ck_assert_msg(ev_ts(json_array_get(list, s)) - ev_ts(ev) >=
		    delays[nb] - timer_slack_ms(), "restart %d came %.1f ms "
		    "after its backoff of %d ms", nb + 1,
		    ev_ts(json_array_get(list, s)) - ev_ts(ev), delays[nb]);
		nb++;
	}
	ck_assert_int_eq(nb, 3);

	/* The root restarts the supervisor, and it its worker. */
	list = events_until(c, "service.started", "crash", list);
	ev = json_array_get(list, json_array_size(list) - 1);
	ck_assert_int_eq(num(ev, "restarts"), 4);
	ck_assert_int_eq(ev_count(list, "supervisor.failed", "root"), 0);
	nest = sup(&h, "nest");
	ck_assert_int_eq(num(nest, "restarts"), 1);
	json_decref(nest);
	ck_assert_int_eq(harness_wait_ready(&h, T_WAIT), 0);
	stop_marked(&h, "gate", "gate.pid");
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/*
 * The nested supervisor keeps failing: the root restarts it 5 times, the
 * 6th failure is more than it allows, and warden exits 3. Short delays
 * keep the test fast; they still count against the limit.
 */
START_TEST(test_escalation_to_root)
{
	struct harness	 h;
	char		*text, *log;
	int		 status;

	text = cfg("{ 'supervisor': { 'max_restarts': 5, 'max_seconds': 10,"
	    " 'children': ["
	    " { 'name': 'nest', 'max_restarts': 3, 'max_seconds': 10,"
	    "   'children': ["
	    "   { 'name': 'crash', 'command': ['@WORKER@', '--crash', '1'],"
	    "     'backoff': { 'initial_ms': 1, 'factor': 2, 'max_ms': 4,"
	    "                  'jitter': 0 } } ] } ] } }");
	status = harness_start_expect_fail(&h, text, 20000);
	free(text);
	ck_assert_int_eq(status, 3);
	log = log_text(&h);
	ck_assert_msg(count_of(log, "nest: supervisor gave up") == 6,
	    "nest gave up %d times, want 6", count_of(log,
	    "nest: supervisor gave up"));
	ck_assert_int_eq(count_of(log, "root: supervisor gave up"), 1);
	ck_assert_ptr_nonnull(strstr(log,
	    "the root supervisor failed: warden exits 3"));
	/* 6 rounds of 4 runs: the 4th failure of each round is one too many. */
	ck_assert_msg(count_of(log, " exited 1\n") == 24,
	    "%d crashes, want 24", count_of(log, " exited 1\n"));
	free(log);
	finish(&h, 3);
}
END_TEST

START_TEST(test_root_fails)
{
	struct harness	 h;
	char		*text, *log;
	int		 status;

	text = cfg("{ 'supervisor': { 'max_restarts': 2, 'max_seconds': 10,"
	    " 'children': ["
	    " { 'name': 'crash', 'command': ['@WORKER@', '--crash', '1'] }"
	    " ] } }");
	status = harness_start_expect_fail(&h, text, 10000);
	free(text);
	ck_assert_int_eq(status, 3);
	log = log_text(&h);
	ck_assert_int_eq(count_of(log, "root: supervisor gave up"), 1);
	ck_assert_msg(count_of(log, " exited 1\n") == 3,
	    "%d crashes, want 3", count_of(log, " exited 1\n"));
	free(log);
	finish(&h, 3);
}
END_TEST

static Suite *
supervise_restarts_suite(void)
{
	Suite	*s = suite_create("supervise_restarts");
	TCase	*tc;

	tc = tcase_create("strategies");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_kill_restarts);
	tcase_add_test(tc, test_one_for_one);
	tcase_add_test(tc, test_one_for_all);
	tcase_add_test(tc, test_rest_for_one);
	suite_add_tcase(s, tc);

	tc = tcase_create("restarts");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_transient_exit0);
	tcase_add_test(tc, test_transient_exit3);
	tcase_add_test(tc, test_temporary_exit3);
	tcase_add_test(tc, test_permanent_exit0);
	tcase_add_test(tc, test_stop_signal_normal);
	tcase_add_test(tc, test_crash_backoff);
	tcase_add_test(tc, test_escalation_to_root);
	tcase_add_test(tc, test_root_fails);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(supervise_restarts_suite)
