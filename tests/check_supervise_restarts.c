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

/* --- kills and what comes of them ----------------------------------------- */

/* A kill a test sends a service, and the exit warden sees of it. */
struct restarts_kill {
	const char	*name;		/* the service */
	const char	*send;		/* the signal (NULL: KILL) */
	int		 code;		/* the exit seen: its code, */
	const char	*sig;		/* or its signal (NULL: none) */
};

/* k's exit as a service's last_exit, into buf. */
static const char *
restarts_last_exit(const struct restarts_kill *k, char *buf, size_t len)
{
	if (k->sig != NULL)
		snprintf(buf, len, "{\"signal\":\"%s\"}", k->sig);
	else
		snprintf(buf, len, "{\"code\":%d}", k->code);
	return buf;
}

/*
 * Kill k's service and see it come back: its exit, a start and ready of
 * a new process. types are the service's events in list by then, all
 * told. Returns list, with the events read.
 */
static json_t *
restarts_kill_back(struct harness *h, struct harness_conn *c, json_t *list,
    const struct restarts_kill *k, const char *types, int restarts)
{
	pid_t	 pid = pid_of(h, k->name);
	size_t	 from = list != NULL ? json_array_size(list) : 0;
	char	 buf[64];

	ck_assert_int_eq(kill_one(h, k->name, k->send), pid);
	list = events_until(c, "service.ready", k->name, list);
	ck_assert_str_eq(ev_types_of(list, k->name), types);
	expect_exited(json_array_get(list, ev_find(list, "service.exited",
	    k->name, from)), pid, k->code, k->sig, false);
	expect_svc(h, k->name, "running", 0, restarts);
	ck_assert_int_ne(pid_of(h, k->name), pid);
	expect_last_exit(h, k->name, restarts_last_exit(k, buf, sizeof(buf)));
	return list;
}

/*
 * Kill k's service and see it stay down in state, once until has come
 * and then the SENTINEL's barrier: nothing more comes for it.
 */
static json_t *
restarts_kill_down(struct harness *h, struct harness_conn *c, json_t *list,
    const struct restarts_kill *k, const char *until, const char *types,
    const char *state, int restarts)
{
	pid_t	 pid = pid_of(h, k->name);
	size_t	 from = list != NULL ? json_array_size(list) : 0;
	char	 buf[64];
	int	 i;

	ck_assert_int_eq(kill_one(h, k->name, k->send), pid);
	list = events_until(c, until, k->name, list);
	i = ev_find(list, "service.exited", k->name, from);
	ck_assert_msg(i >= 0, "no exit of %s before %s: %s", k->name, until,
	    dump(list));
	expect_exited(json_array_get(list, i), pid, k->code, k->sig, false);
	list = barrier(h, c, list);
	ck_assert_str_eq(ev_types_of(list, k->name), types);
	expect_svc(h, k->name, state, -1, restarts);
	expect_last_exit(h, k->name, restarts_last_exit(k, buf, sizeof(buf)));
	return list;
}

/* --- 1-4: a killed worker comes back, in its strategy's scope ------------ */

START_TEST(test_kill_restarts)
{
	static const struct restarts_kill w_kill = { "w", NULL, 0, "KILL" };
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list, *ev;
	pid_t		 pid0, pid1;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@'] } ] } }");
	pid0 = pid_of(&h, "w");
	c = subscribe(&h, NULL);
	list = restarts_kill_back(&h, c, NULL, &w_kill,
	    "service.exited,service.started,service.ready", 1);
	ev = json_array_get(list, ev_find(list, "service.started", "w", 0));
	pid1 = (pid_t)num(ev, "pid");
	ck_assert_int_ne(pid1, pid0);
	ck_assert_int_eq(num(ev, "restarts"), 1);
	ev = json_array_get(list, ev_find(list, "service.ready", "w", 0));
	ck_assert_int_eq(num(ev, "pid"), pid1);

	expect_svc(&h, "w", "running", pid1, 1);
	ck_assert_int_eq(harness_wait_pid_gone(pid0, T_WAIT), 0);
	ck_assert(!is_zombie(pid0));
	finish_watching(&h, c, list);
}
END_TEST

/*
 * Three workers a, b, c under one strategy; b is killed. A row says which
 * of them the strategy stops (the killed one first, then the rest from
 * the last down) and starts again (in order), once all of them are down.
 */
static const struct strategy_case {
	const char	*what;		/* what the row proves */
	const char	*keys;		/* the supervisor's own keys */
	const char	*last;		/* the last one ready again */
	const char	*exited;	/* the services that exit, in order */
	const char	*started;	/* those started again, in order */
} strategies[] = {
	{ "one_for_one restarts the killed one alone",
	  "'strategy': 'one_for_one', ", "b", "b", "b" },
	{ "one_for_all restarts all, stopped from the last",
	  "'strategy': 'one_for_all', 'max_restarts': 10, ", "c", "b,c,a",
	  "a,b,c" },
	{ "rest_for_one restarts the killed one and those after it",
	  "'strategy': 'rest_for_one', 'max_restarts': 10, ", "c", "b,c",
	  "b,c" },
};

/*
 * One of a, b, c after the restart: if the strategy restarted it, it
 * exited (b by the KILL, the others by warden's TERM) and runs anew;
 * if not, nothing happened to it.
 */
static void
restarts_expect_scope(struct harness *h, const struct strategy_case *row,
    json_t *list, const char *name, pid_t old)
{
	bool	 killed = strcmp(name, "b") == 0;

	if (!strstr(row->started, name)) {
		ck_assert_msg(strcmp(ev_types_of(list, name), "") == 0,
		    "%s: %s had events: %s", row->what, name, dump(list));
		expect_svc(h, name, "running", old, 0);
		return;
	}
	expect_exited(json_array_get(list, ev_find(list, "service.exited",
	    name, 0)), old, 0, killed ? "KILL" : "TERM", !killed);
	expect_svc(h, name, "running", 0, 1);
	ck_assert_int_ne(pid_of(h, name), old);
}

START_TEST(test_strategy)
{
	const struct strategy_case *row = &strategies[_i];
	static const char *const names[] = { "a", "b", "c" };
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 old[nitems(names)];
	char		 conf[512];
	size_t		 n;
	int		 first_start;

	snprintf(conf, sizeof(conf), "{ 'supervisor': { %s'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'] },"
	    " { 'name': 'b', 'command': ['@WORKER@'] },"
	    " { 'name': 'c', 'command': ['@WORKER@'] } ] } }", row->keys);
	start(&h, conf);
	for (n = 0; n < nitems(names); n++)
		old[n] = pid_of(&h, names[n]);
	c = subscribe(&h, NULL);
	kill_one(&h, "b", NULL);
	list = events_until(c, "service.ready", row->last, NULL);

	ck_assert_str_eq(ev_seq(list, "service.exited"), row->exited);
	ck_assert_str_eq(ev_seq(list, "service.started"), row->started);
	/* Nothing starts again before all that stop are down. */
	first_start = ev_find(list, "service.started", NULL, 0);
	ck_assert_msg(first_start >= 0 && ev_find(list, "service.exited", NULL,
	    (size_t)first_start) < 0, "%s: a start before all were down: %s",
	    row->what, dump(list));
	for (n = 0; n < nitems(names); n++)
		restarts_expect_scope(&h, row, list, names[n], old[n]);
	finish_watching(&h, c, list);
}
END_TEST

/* --- 5: restart types ---------------------------------------------------- */

/*
 * A worker "t" of one restart type exits with a code on SIGUSR1. A row
 * says whether it comes back (until is service.ready) or stays down in
 * state, with the events it had and the health warden reports then.
 */
static const struct restart_type_case {
	const char	*what;		/* what the row proves */
	const char	*restart;	/* t's restart type */
	int		 code;		/* its exit code */
	const char	*until;		/* the event waited for */
	const char	*types;		/* t's events */
	const char	*state;		/* t's state after */
	const char	*health;	/* warden's then */
} restart_types[] = {
	{ "transient: an exit 0 is normal, it stays stopped", "transient", 0,
	  "service.exited", "service.exited", "stopped", "degraded" },
	{ "transient: an exit 3 is not, it comes back", "transient", 3,
	  "service.ready", "service.exited,service.started,service.ready",
	  "running", "ok" },
	{ "temporary: it never comes back, an exit 3 fails it", "temporary",
	  3, "service.failed", "service.exited,service.failed", "failed",
	  "degraded" },
	{ "permanent: even an exit 0 brings it back", "permanent", 0,
	  "service.ready", "service.exited,service.started,service.ready",
	  "running", "ok" },
};

START_TEST(test_restart_type)
{
	const struct restart_type_case *row = &restart_types[_i];
	const struct restarts_kill k = { "t", "USR1", row->code, NULL };
	bool		 back = strcmp(row->state, "running") == 0;
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	char		 conf[512];

	snprintf(conf, sizeof(conf), "{ 'supervisor': { 'children': ["
	    " { 'name': 't', 'restart': '%s'," SET_UP ","
	    "   'command': ['@WORKER@', '--exit-on-usr1', '%d'" READY_ARGS
	    "] }%s ] } }", row->restart, row->code, back ? "" : "," SENTINEL);
	start(&h, conf);
	c = subscribe(&h, NULL);
	if (back)
		list = restarts_kill_back(&h, c, NULL, &k, row->types, 1);
	else
		list = restarts_kill_down(&h, c, NULL, &k, row->until,
		    row->types, row->state, 0);
	ck_assert_msg(strcmp(health(&h), row->health) == 0,
	    "%s: health %s, want %s", row->what, health(&h), row->health);
	finish_watching(&h, c, list);
}
END_TEST

/*
 * Death by the service's own stop signal is a normal exit; any other signal
 * is not. "u" stops with USR1, so for it TERM is the abnormal one.
 */
START_TEST(test_stop_signal_normal)
{
	static const struct restarts_kill t_term = { "t", "TERM", 0, "TERM" },
	    u_term = { "u", "TERM", 0, "TERM" },
	    u_usr1 = { "u", "USR1", 0, "USR1" };
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 't', 'restart': 'transient', 'command': ['@WORKER@'] },"
	    " { 'name': 'u', 'restart': 'transient', 'stop_signal': 'USR1',"
	    "   'command': ['@WORKER@'] }," SENTINEL " ] } }");
	c = subscribe(&h, NULL);
	list = restarts_kill_down(&h, c, NULL, &t_term, "service.exited",
	    "service.exited", "stopped", 0);
	list = restarts_kill_back(&h, c, list, &u_term,
	    "service.exited,service.started,service.ready", 1);
	list = restarts_kill_down(&h, c, list, &u_usr1, "service.exited",
	    "service.exited,service.started,service.ready,service.exited",
	    "stopped", 1);
	finish_watching(&h, c, list);
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

	start_early(&h, "{ 'supervisor': { 'max_restarts': 5,"
	    " 'max_seconds': 10, 'children': ["
	    " { 'name': 'gate', 'command': ['@WORKER@', '--ready', 'signal',"
	    "   '--grandchild', '@DIR@/gate.pid'], 'ready': 'notify' },"
	    " { 'name': 'nest', 'max_restarts': 3, 'max_seconds': 10,"
	    "   'children': ["
	    "   { 'name': 'crash', 'command': ['@WORKER@', '--crash', '1'],"
	    "     'backoff': { 'initial_ms': 20, 'factor': 2, 'max_ms': 200,"
	    "                  'jitter': 0 } } ] } ] } }", "gate");
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
	finish_watching(&h, c, list);
}
END_TEST

/*
 * warden on conf, whose crashing workers make the root supervisor give up
 * once: warden exits 3, and its log shows crashes exits of 1. Returns the
 * log, malloc'd, for what else it must say.
 */
static char *
restarts_root_gives_up(struct harness *h, const char *conf, int timeout_ms,
    int crashes)
{
	char	*text = cfg("%s", conf), *log;
	int	 status;

	status = harness_start_expect_fail(h, text, timeout_ms);
	free(text);
	ck_assert_int_eq(status, 3);
	log = log_text(h);
	ck_assert_int_eq(count_of(log, "root: supervisor gave up"), 1);
	ck_assert_ptr_nonnull(strstr(log,
	    "the root supervisor failed: warden exits 3"));
	ck_assert_msg(count_of(log, " exited 1\n") == crashes,
	    "%d crashes, want %d", count_of(log, " exited 1\n"), crashes);
	return log;
}

/*
 * The nested supervisor keeps failing: the root restarts it 5 times, the
 * 6th failure is more than it allows, and warden exits 3. Short delays
 * keep the test fast; they still count against the limit. 6 rounds of 4
 * runs: the 4th failure of each round is one too many.
 */
START_TEST(test_escalation_to_root)
{
	struct harness	 h;
	char		*log;

	log = restarts_root_gives_up(&h, "{ 'supervisor': { 'max_restarts': 5,"
	    " 'max_seconds': 10, 'children': ["
	    " { 'name': 'nest', 'max_restarts': 3, 'max_seconds': 10,"
	    "   'children': ["
	    "   { 'name': 'crash', 'command': ['@WORKER@', '--crash', '1'],"
	    "     'backoff': { 'initial_ms': 1, 'factor': 2, 'max_ms': 4,"
	    "                  'jitter': 0 } } ] } ] } }", 20000, 24);
	ck_assert_msg(count_of(log, "nest: supervisor gave up") == 6,
	    "nest gave up %d times, want 6", count_of(log,
	    "nest: supervisor gave up"));
	free(log);
	finish(&h, 3);
}
END_TEST

START_TEST(test_root_fails)
{
	struct harness	 h;

	free(restarts_root_gives_up(&h, "{ 'supervisor': { 'max_restarts': 2,"
	    " 'max_seconds': 10, 'children': ["
	    " { 'name': 'crash', 'command': ['@WORKER@', '--crash', '1'] }"
	    " ] } }", 10000, 3));
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
	tcase_add_loop_test(tc, test_strategy, 0, (int)nitems(strategies));
	suite_add_tcase(s, tc);

	tc = tcase_create("restarts");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_loop_test(tc, test_restart_type, 0,
	    (int)nitems(restart_types));
	tcase_add_test(tc, test_stop_signal_normal);
	tcase_add_test(tc, test_crash_backoff);
	tcase_add_test(tc, test_escalation_to_root);
	tcase_add_test(tc, test_root_fails);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(supervise_restarts_suite)
