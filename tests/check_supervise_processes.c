/*
 * check_supervise_processes.c: what a service is, as processes, with the
 * real daemon: its process group (and what left it with setsid) goes
 * with it when it stops, restarts, fails and at shutdown; workers do not
 * outlive a warden that dies, and the next warden stops those that did;
 * the grace of a stop; warden's own shutdown on SIGTERM and SIGINT.
 *
 * Configurations are written with ' for " (dq()); no test needs a real '.
 */
#include <sys/resource.h>

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

/* --- 8-9: process groups and shutdown grace ------------------------------ */

START_TEST(test_stop_kills_grandchild)
{
	struct harness	 h;
	char		*path;
	pid_t		 w, g;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--grandchild',"
	    "   '@DIR@/gc.pid'] } ] } }");
	w = pid_of(&h, "w");
	path = harness_path(&h, "gc.pid");
	g = harness_wait_pidfile(path, 0, T_WAIT);
	ck_assert_int_gt(g, 0);
	ck_assert(harness_pid_alive(g));
	stop_takes(&h, "w", w);
	ck_assert_int_eq(harness_wait_pid_gone(g, T_WAIT), 0);
	free(path);
	finish(&h, 0);
}
END_TEST

START_TEST(test_kill_leader_kills_grandchild)
{
	struct harness	 h;
	char		*path;
	pid_t		 g, g2;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--grandchild',"
	    "   '@DIR@/gc.pid'] } ] } }");
	path = harness_path(&h, "gc.pid");
	g = harness_wait_pidfile(path, 0, T_WAIT);
	ck_assert_int_gt(g, 0);
	/* SIGKILL to the leader alone: what it forked must go with it. */
	kill_one(&h, "w", "KILL");
	ck_assert_int_eq(harness_wait_pid_gone(g, T_WAIT), 0);
	wait_restarts(&h, "w", "running", 1);
	g2 = harness_wait_pidfile(path, g, T_WAIT);
	ck_assert_int_gt(g2, 0);
	ck_assert_int_ne(g2, g);
	ck_assert(harness_pid_alive(g2));
	free(path);
	finish(&h, 0);
}
END_TEST

/*
 * On its way out, warden (the subreaper of its workers' descendants) is
 * done only when what it killed is gone: 20 workers, each with a child in
 * its process group, and none of them may outlive warden.
 */
START_TEST(test_exit_reaps_groups)
{
	struct harness	 h;
	char		*text, *t, name[32], *path;
	pid_t		 g[20];
	int		 i;

	text = xstrdup("{ 'supervisor': { 'children': [");
	for (i = 0; i < 20; i++) {
		xasprintf(&t, "%s%s { 'name': 'w%02d', 'command': ['@WORKER@',"
		    " '--grandchild', '@DIR@/g%02d.pid'] }", text, i > 0 ?
		    "," : "", i, i);
		free(text);
		text = t;
	}
	xasprintf(&t, "%s ] } }", text);
	free(text);
	start(&h, t);
	free(t);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "g%02d.pid", i);
		path = harness_path(&h, name);
		g[i] = harness_wait_pidfile(path, 0, T_WAIT);
		ck_assert_int_gt(g[i], 0);
		free(path);
	}
	finish(&h, 0);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(harness_wait_pid_gone(g[i], 0), 0);
}
END_TEST

/*
 * A worker's child that leaves the group (setsid, as a daemon does) is
 * still the service's: it goes when the service stops, restarts, fails
 * and at shutdown.
 */
static pid_t
setsid_child(struct harness *h, pid_t prev)
{
	char	*path = harness_path(h, "gc.pid");
	pid_t	 g;

	g = harness_wait_pidfile(path, prev, T_WAIT);
	free(path);
	ck_assert_msg(g > 0, "no new gc.pid");
	ck_assert(harness_pid_alive(g));
	ck_assert_int_eq(getpgid(g), g);
	return g;
}

START_TEST(test_stop_kills_setsid_child)
{
	struct harness	 h;
	json_t		*r;
	pid_t		 g;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--grandchild',"
	    "   '@DIR@/gc.pid', '--setsid'] } ] } }");
	g = setsid_child(&h, 0);
	stop_takes(&h, "w", g);

	r = result(&h, "service.start", json_pack("{s:s}", "service", "w"));
	json_decref(r);
	g = setsid_child(&h, g);
	r = result(&h, "service.restart", json_pack("{s:s}", "service",
	    "w"));
	json_decref(r);
	ck_assert_msg(harness_wait_pid_gone(g, T_WAIT) == 0,
	    "restart: %ld outlived its instance", (long)g);

	/* The leader dies alone: the group and the escaped child go. */
	g = setsid_child(&h, g);
	kill_one(&h, "w", "KILL");
	ck_assert_msg(harness_wait_pid_gone(g, T_WAIT) == 0,
	    "failure: %ld outlived its instance", (long)g);

	/* And at shutdown, nothing is left for warden's parent to find. */
	g = setsid_child(&h, g);
	finish(&h, 0);
	ck_assert_msg(harness_wait_pid_gone(g, 0) == 0,
	    "shutdown: %ld outlived warden", (long)g);
}
END_TEST

START_TEST(test_setsid_child_ignoring_term)
{
	struct harness	 h;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--grandchild',"
	    "   '@DIR@/gc.pid', '--setsid', '--ignore-term'],"
	    "   'shutdown_ms': 200 } ] } }");
	stop_takes(&h, "w", setsid_child(&h, 0));
	finish(&h, 0);
}
END_TEST

/*
 * warden dies without stopping its workers (SIGKILL, a crash): outside
 * systemd they must not run on unattended. The worker holds a lock a
 * second instance cannot take, as a server holds its port; the next
 * warden's copy must start.
 */
static const int warden_deaths[] = { SIGKILL, SIGSEGV, SIGABRT };

START_TEST(test_warden_death_ends_workers)
{
	struct harness	 h;
	struct rlimit	 nocore = { 0, 0 };
	char		*path;
	pid_t		 w, w2;
	int		 sig = warden_deaths[_i], st;

	/* A crash of warden leaves no core in the test's folder. */
	ck_assert_int_eq(setrlimit(RLIMIT_CORE, &nocore), 0);
	prepare(&h, "{ 'supervisor': { 'max_restarts': 1, 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--lock', '@DIR@/port',"
	    "   '--pidfile', '@DIR@/w.pid'] } ] } }");
	h.keep_orphans = true;
	ck_assert_int_eq(harness_launch(&h), 0);
	path = harness_path(&h, "w.pid");
	w = harness_wait_pidfile(path, 0, T_WAIT);
	ck_assert_int_gt(w, 0);
	ck_assert_int_eq(w, pid_of(&h, "w"));

	ck_assert_int_eq(harness_signal(&h, sig), 0);
	st = harness_wait_exit(&h, T_WAIT);
	/* Under AddressSanitizer a SIGSEGV is reported, then abort()s. */
	ck_assert_msg(st == 128 + sig || (sig == SIGSEGV && st == 128 +
	    SIGABRT && getenv("WARDEN_SANITIZED") != NULL),
	    "warden exited %d, want %d", st, 128 + sig);
	ck_assert_msg(harness_wait_pid_gone(w, T_WAIT) == 0,
	    "SIG%s to warden: worker %ld runs on", util_signal_name(sig),
	    (long)w);

	ck_assert_int_eq(harness_restart(&h), 0);
	w2 = harness_wait_pidfile(path, w, T_WAIT);
	ck_assert_int_gt(w2, 0);
	wait_state(&h, "w", "running");
	ck_assert_int_eq(pid_of(&h, "w"), w2);
	free(path);
	finish(&h, 0);
}
END_TEST

/*
 * Workers that do not end with warden (they cleared the parent-death
 * signal, as a set-user-ID program would) are stopped by the next warden
 * on the same state_dir, before it starts its tree: the stop signal to
 * the group, SIGKILL after shutdown_ms for one that ignores it.
 */
START_TEST(test_next_warden_stops_earlier_workers)
{
	struct harness	 h;
	char		*p1, *p2, *pg;
	pid_t		 a, b, g, a2, b2;
	int		 st;

	prepare(&h, "{ 'supervisor': { 'max_restarts': 1, 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@', '--no-pdeathsig',"
	    "   '--lock', '@DIR@/a.lock', '--pidfile', '@DIR@/a.pid',"
	    "   '--grandchild', '@DIR@/g.pid'] },"
	    " { 'name': 'b', 'command': ['@WORKER@', '--no-pdeathsig',"
	    "   '--ignore-term', '--lock', '@DIR@/b.lock', '--pidfile',"
	    "   '@DIR@/b.pid'], 'shutdown_ms': 300 } ] } }");
	h.keep_orphans = true;
	ck_assert_int_eq(harness_launch(&h), 0);
	p1 = harness_path(&h, "a.pid");
	p2 = harness_path(&h, "b.pid");
	pg = harness_path(&h, "g.pid");
	a = harness_wait_pidfile(p1, 0, T_WAIT);
	b = harness_wait_pidfile(p2, 0, T_WAIT);
	g = harness_wait_pidfile(pg, 0, T_WAIT);
	ck_assert(a > 0 && b > 0 && g > 0);

	ck_assert_int_eq(harness_signal(&h, SIGKILL), 0);
	st = harness_wait_exit(&h, T_WAIT);
	ck_assert_int_eq(st, 128 + SIGKILL);
	/* They outlive warden: only the next one can stop them. */
	ck_assert(harness_pid_alive(a));
	ck_assert(harness_pid_alive(b));
	ck_assert(harness_pid_alive(g));

	harness_log_mark(&h);
	ck_assert_int_eq(harness_restart(&h), 0);
	ck_assert_int_eq(harness_wait_pid_gone(a, T_WAIT), 0);
	ck_assert_int_eq(harness_wait_pid_gone(b, T_WAIT), 0);
	ck_assert_int_eq(harness_wait_pid_gone(g, T_WAIT), 0);
	ck_assert_int_eq(harness_wait_log(&h, "a: pid", T_WAIT), 0);
	ck_assert_int_eq(harness_wait_log(&h,
	    "left running by an earlier warden", T_WAIT), 0);
	a2 = harness_wait_pidfile(p1, a, T_WAIT);
	b2 = harness_wait_pidfile(p2, b, T_WAIT);
	ck_assert(a2 > 0 && b2 > 0);
	wait_state(&h, "a", "running");
	wait_state(&h, "b", "running");
	ck_assert_int_eq(pid_of(&h, "a"), a2);
	ck_assert_int_eq(pid_of(&h, "b"), b2);
	free(p1);
	free(p2);
	free(pg);
	finish(&h, 0);
}
END_TEST

START_TEST(test_shutdown_grace)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*r, *list;
	uint64_t	 t0, took;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'ig', 'command': ['@WORKER@', '--ignore-term'"
	    READY_ARGS "], 'shutdown_ms': 300," SET_UP " },"
	    " { 'name': 'brutal', 'command': ['@WORKER@'],"
	    "   'shutdown_ms': 'brutal_kill' },"
	    " { 'name': 'plain', 'command': ['@WORKER@'] } ] } }");
	c = subscribe(&h, NULL);

	t0 = util_now_ms();
	r = result(&h, "service.stop", json_pack("{s:s}", "service", "ig"));
	took = util_now_ms() - t0;
	ck_assert_str_eq(str(r, "state"), "stopped");
	expect_json(json_object_get(r, "last_exit"), "{\"signal\":\"KILL\"}",
	    "ig");
	ck_assert_msg((double)took >= 300 - timer_slack_ms(), "SIGKILL after "
	    "%llu ms, before the grace of 300 ms", (unsigned long long)took);
	json_decref(r);
	list = events_until(c, "service.exited", "ig", NULL);
	expect_exited(json_array_get(list, json_array_size(list) - 1), 0, 0,
	    "KILL", true);
	ck_assert_int_eq(harness_wait_log(&h,
	    "ig: still running 300 ms after SIGTERM", T_WAIT), 0);

	t0 = util_now_ms();
	r = result(&h, "service.stop", json_pack("{s:s}", "service",
	    "brutal"));
	took = util_now_ms() - t0;
	ck_assert_str_eq(str(r, "state"), "stopped");
	expect_json(json_object_get(r, "last_exit"), "{\"signal\":\"KILL\"}",
	    "brutal");
	ck_assert_msg(took < 250, "brutal_kill took %llu ms",
	    (unsigned long long)took);
	json_decref(r);
	list = events_until(c, "service.exited", "brutal", list);
	expect_exited(json_array_get(list, json_array_size(list) - 1), 0, 0,
	    "KILL", true);

	r = result(&h, "service.stop", json_pack("{s:s}", "service",
	    "plain"));
	ck_assert_str_eq(str(r, "state"), "stopped");
	expect_json(json_object_get(r, "last_exit"), "{\"signal\":\"TERM\"}",
	    "plain");
	json_decref(r);
	list = events_until(c, "service.exited", "plain", list);
	expect_exited(json_array_get(list, json_array_size(list) - 1), 0, 0,
	    "TERM", true);
	finish_watching(&h, c, list);
}
END_TEST

/* --- 15: warden's own shutdown ------------------------------------------- */

static const int stop_signals[] = { SIGTERM, SIGINT };

START_TEST(test_signal_shutdown)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list, *ev;
	pid_t		 pids[3];
	const char	*names[] = { "a", "b", "c" };
	size_t		 i;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'] },"
	    " { 'name': 'b', 'command': ['@WORKER@'] },"
	    " { 'name': 'c', 'command': ['@WORKER@'] } ] } }");
	for (i = 0; i < 3; i++)
		pids[i] = pid_of(&h, names[i]);
	c = subscribe(&h, NULL);
	ck_assert_int_eq(harness_signal(&h, stop_signals[_i]), 0);
	list = events_until(c, "service.exited", "a", NULL);
	ck_assert_str_eq(ev_seq(list, "service.exited"), "c,b,a");
	ck_assert_int_eq(ev_count(list, "service.started", NULL), 0);
	json_array_foreach(list, i, ev)
		if (ev_is(ev, "service.exited", NULL))
			expect_exited(ev, 0, 0, "TERM", true);
	ck_assert_int_eq(harness_conn_wait_closed(c, T_WAIT), 0);
	ck_assert_int_eq(harness_wait_exit(&h, T_WAIT), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(harness_wait_pid_gone(pids[i], T_WAIT), 0);
	finish_watching(&h, c, list);
}
END_TEST

static Suite *
supervise_processes_suite(void)
{
	Suite	*s = suite_create("supervise_processes");
	TCase	*tc;

	tc = tcase_create("processes");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_stop_kills_grandchild);
	tcase_add_test(tc, test_kill_leader_kills_grandchild);
	tcase_add_test(tc, test_exit_reaps_groups);
	tcase_add_test(tc, test_stop_kills_setsid_child);
	tcase_add_test(tc, test_setsid_child_ignoring_term);
	tcase_add_loop_test(tc, test_warden_death_ends_workers, 0,
	    (int)nitems(warden_deaths));
	tcase_add_test(tc, test_next_warden_stops_earlier_workers);
	tcase_add_test(tc, test_shutdown_grace);
	tcase_add_loop_test(tc, test_signal_shutdown, 0,
	    (int)nitems(stop_signals));
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(supervise_processes_suite)
