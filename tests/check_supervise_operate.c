/*
 * check_supervise_operate.c: what an operator does, with the real daemon:
 * stop, start and restart of a service or a supervisor, the "wait" method,
 * service.kill of many at once; and warden under load: a storm of crashes
 * as fast as it can fork, still answering and reaping, and a kill then a
 * wait that never shows the killed instance running.
 *
 * Configurations are written with ' for " (dq()); no test needs a real '.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
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
#include "procinfo.h"
#include "util.h"
#include "suite.h"

/* --- 19-20: operator actions and "wait" ---------------------------------- */

START_TEST(test_operator_actions)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*r, *list;
	pid_t		 w, x, y, w2;
	char		*hl;

	start(&h, "{ 'supervisor': { 'max_restarts': 10, 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@'] },"
	    " { 'name': 'nest', 'children': ["
	    "   { 'name': 'x', 'command': ['@WORKER@'] },"
	    "   { 'name': 'y', 'command': ['@WORKER@'] } ] }," SENTINEL
	    " ] } }");
	w = pid_of(&h, "w");
	x = pid_of(&h, "x");
	y = pid_of(&h, "y");
	c = subscribe(&h, NULL);

	r = result(&h, "service.stop", json_pack("{s:s}", "service", "w"));
	ck_assert_str_eq(str(r, "state"), "stopped");
	ck_assert(json_is_null(json_object_get(r, "pid")));
	json_decref(r);
	ck_assert_int_eq(harness_wait_pid_gone(w, T_WAIT), 0);
	list = barrier(&h, c, NULL);
	ck_assert_str_eq(ev_types_of(list, "w"), "service.exited");
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "w",
	    0)), w, 0, "TERM", true);
	expect_svc(&h, "w", "stopped", -1, 0);
	ck_assert_str_eq((hl = health(&h)), "degraded");
	free(hl);

	r = result(&h, "service.start", json_pack("{s:s}", "service", "w"));
	ck_assert_str_eq(str(r, "state"), "running");
	w2 = (pid_t)num(r, "pid");
	ck_assert_int_ne(w2, w);
	ck_assert_int_eq(num(r, "restarts"), 1);
	json_decref(r);
	json_decref(list);
	list = events_until(c, "service.ready", "w", NULL);
	ck_assert_str_eq(ev_types_of(list, "w"),
	    "service.started,service.ready");
	ck_assert_str_eq((hl = health(&h)), "ok");
	free(hl);

	r = result(&h, "service.restart", json_pack("{s:s}", "service",
	    "w"));
	ck_assert_str_eq(str(r, "state"), "running");
	ck_assert_int_ne(num(r, "pid"), w2);
	ck_assert_int_ne(num(r, "pid"), w);
	ck_assert_int_eq(num(r, "restarts"), 2);
	json_decref(r);
	ck_assert_int_eq(harness_wait_pid_gone(w2, T_WAIT), 0);
	json_decref(list);
	list = events_until(c, "service.ready", "w", NULL);
	ck_assert_str_eq(ev_types_of(list, "w"),
	    "service.exited,service.started,service.ready");
	expect_exited(json_array_get(list, 0), w2, 0, "TERM", true);

	/* Stopping a supervisor stops its children, last first. */
	json_decref(list);
	list = json_array();
	r = result(&h, "service.stop", json_pack("{s:s}", "service",
	    "nest"));
	ck_assert_str_eq(str(r, "state"), "stopped");
	json_decref(r);
	list = events_until(c, "service.exited", "x", list);
	ck_assert_str_eq(ev_seq(list, "service.exited"), "y,x");
	expect_svc(&h, "x", "stopped", -1, 0);
	expect_svc(&h, "y", "stopped", -1, 0);
	ck_assert_int_eq(harness_wait_pid_gone(x, T_WAIT), 0);
	ck_assert_int_eq(harness_wait_pid_gone(y, T_WAIT), 0);

	expect_error(&h, "service.start", json_pack("{s:s}", "service",
	    "x"), -32004, "conflict");
	expect_svc(&h, "x", "stopped", -1, 0);

	r = result(&h, "service.start", json_pack("{s:s}", "service",
	    "nest"));
	ck_assert_str_eq(str(r, "state"), "running");
	json_decref(r);
	expect_svc(&h, "x", "running", 0, 1);
	expect_svc(&h, "y", "running", 0, 1);
	ck_assert_str_eq((hl = health(&h)), "ok");
	free(hl);
	finish_watching(&h, c, list);
}
END_TEST

START_TEST(test_wait_min_restarts)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*resp, *res;
	long long	 id;
	pid_t		 pid, g;

	/* Each run waits for SIGUSR2 to be ready and exits 1 on SIGUSR1. */
	start_early(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'ready': 'notify', 'command': ['@WORKER@',"
	    "   '--ready', 'signal', '--exit-on-usr1', '1',"
	    "   '--grandchild', '@DIR@/w.pid'] } ] } }", "w");
	g = usr2_when_set_up(&h, "w", "w.pid", 0);
	ck_assert_int_eq(harness_wait_ready(&h, T_WAIT), 0);

	c = harness_conn_open(&h);
	ck_assert_ptr_nonnull(c);
	id = harness_conn_request(c, "wait", json_pack("{s:{s:s,s:s,s:i},s:i}",
	    "condition", "service", "w", "state", "running", "min_restarts", 2,
	    "timeout_ms", 20000));
	ck_assert_int_gt(id, 0);

	/* Restart 1, running: not yet. */
	kill_one(&h, "w", "USR1");
	wait_restarts(&h, "w", "starting", 1);
	g = usr2_when_set_up(&h, "w", "w.pid", g);
	wait_restarts(&h, "w", "running", 1);
	resp = harness_read_response(c, id, 0);
	ck_assert_msg(resp == NULL, "answered after 1 restart: %s", dump(resp));

	/* Restart 2, starting: not yet either. */
	kill_one(&h, "w", "USR1");
	wait_restarts(&h, "w", "starting", 2);
	resp = harness_read_response(c, id, 0);
	ck_assert_msg(resp == NULL, "answered while starting: %s", dump(resp));

	pid = pid_of(&h, "w");
	usr2_when_set_up(&h, "w", "w.pid", g);
	resp = harness_read_response(c, id, T_WAIT);
	ck_assert_msg(resp != NULL, "no answer after the 2nd restart");
	res = json_object_get(resp, "result");
	ck_assert_msg(res != NULL, "wait failed: %s", dump(resp));
	ck_assert_str_eq(str(res, "name"), "w");
	ck_assert_str_eq(str(res, "state"), "running");
	ck_assert_int_eq(num(res, "restarts"), 2);
	ck_assert_int_eq(num(res, "pid"), pid);
	json_decref(resp);
	harness_conn_close(c);

	/* Already true: answered at once. */
	ck_assert_int_eq(harness_wait(&h, json_pack("{s:s,s:s,s:i}", "service",
	    "w", "state", "running", "min_restarts", 1), 0), 0);
	expect_error(&h, "wait", json_pack("{s:{s:s,s:s,s:i}}",
	    "condition", "service", "w", "state", "running", "min_restarts",
	    -1), -32602, "invalid_params");
	stop_marked(&h, "w", "w.pid");
	finish(&h, 0);
}
END_TEST

/* --- 17-18: many at once ------------------------------------------------- */

/*
 * n workers named w000.., under a root allowing max_restarts; more is the
 * rest of each worker's object after "@WORKER@" (it closes the command).
 */
static char *
many_config(int n, const char *more, int max_restarts)
{
	char	*s, *t;
	int	 i;

	xasprintf(&s, "{ \"supervisor\": { \"max_restarts\": %d, "
	    "\"max_seconds\": 10, \"children\": [", max_restarts);
	for (i = 0; i < n; i++) {
		xasprintf(&t, "%s%s\n { \"name\": \"w%03d\", \"command\": "
		    "[\"@WORKER@\"%s }", s, i > 0 ? "," : "", i, more);
		free(s);
		s = t;
	}
	xasprintf(&t, "%s ] } }\n", s);
	free(s);
	return t;
}

/* How many children parent has, and how many of them are zombies. */
static void
children_of(pid_t parent, int *alive, int *zombies)
{
	DIR			*d;
	struct dirent		*de;
	struct proc_info	 pi;

	*alive = *zombies = 0;
	d = opendir("/proc");
	ck_assert_msg(d != NULL, "opendir /proc: %s", strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (proc_info((pid_t)atol(de->d_name), &pi) == -1 ||
		    pi.ppid != parent)
			continue;
		if (pi.state == 'Z')
			(*zombies)++;
		else
			(*alive)++;
	}
	closedir(d);
}

START_TEST(test_kill_10_of_20)
{
	struct harness	 h;
	json_t		*names, *r, *e;
	pid_t		 pids[20];
	char		*text, name[16];
	bool		 seen[20];
	int		 i, k;
	size_t		 j;

	text = many_config(20, "]", 100);
	start(&h, text);
	free(text);
	names = json_array();
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "w%03d", i);
		pids[i] = pid_of(&h, name);
		if (i % 2 == 0)
			json_array_append_new(names, json_string(name));
	}
	r = kill_svc(&h, names, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r, "killed")), 10);
	memset(seen, 0, sizeof(seen));
	json_array_foreach(json_object_get(r, "killed"), j, e) {
		ck_assert_msg(sscanf(str(e, "service"), "w%d", &k) == 1 &&
		    k >= 0 && k < 20 && k % 2 == 0 && !seen[k],
		    "killed: %s", dump(r));
		seen[k] = true;
		ck_assert_int_eq(num(e, "pid"), pids[k]);
	}
	json_decref(r);
	for (i = 0; i < 20; i += 2) {
		snprintf(name, sizeof(name), "w%03d", i);
		wait_restarts(&h, name, "running", 1);
	}
	ck_assert_int_eq(harness_wait_recovered(&h, T_WAIT), 0);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "w%03d", i);
		if (i % 2 == 0) {
			expect_svc(&h, name, "running", 0, 1);
			ck_assert_int_ne(pid_of(&h, name), pids[i]);
		} else
			expect_svc(&h, name, "running", pids[i], 0);
	}
	finish(&h, 0);
}
END_TEST

START_TEST(test_100_workers_exit)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*r, *e, *ev;
	pid_t		 pids[100];
	char		*text, name[16];
	bool		 ready[100];
	int		 i, k, nready = 0, alive, zombies;
	size_t		 j;

	text = many_config(100, ", \"--exit-on-usr1\", \"1\", \"--ready\", "
	    "\"notify\"], \"ready\": \"notify\"", 1000);
	start(&h, text);
	free(text);
	c = subscribe(&h, NULL);
	r = kill_svc(&h, json_string("*"), "USR1");
	ck_assert_str_eq(str(r, "signal"), "USR1");
	ck_assert_int_eq(json_array_size(json_object_get(r, "killed")), 100);
	memset(pids, 0, sizeof(pids));
	json_array_foreach(json_object_get(r, "killed"), j, e) {
		ck_assert_msg(sscanf(str(e, "service"), "w%d", &k) == 1 &&
		    k >= 0 && k < 100 && pids[k] == 0, "killed: %s", dump(e));
		pids[k] = (pid_t)num(e, "pid");
	}
	json_decref(r);

	/* Every one of them exits 1 and is up again. */
	memset(ready, 0, sizeof(ready));
	while (nready < 100) {
		ev = harness_next_event(c, T_WAIT);
		ck_assert_msg(ev != NULL, "only %d of 100 back", nready);
		if (ev_is(ev, "service.exited", NULL))
			expect_exited(ev, 0, 1, NULL, false);
		if (ev_is(ev, "service.ready", NULL) &&
		    sscanf(str(ev, "service"), "w%d", &k) == 1 && k >= 0 &&
		    k < 100 && !ready[k]) {
			ready[k] = true;
			nready++;
			ck_assert_int_ne(num(ev, "pid"), pids[k]);
		}
		json_decref(ev);
	}
	ck_assert_int_eq(harness_wait_recovered(&h, T_WAIT), 0);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "w%03d", i);
		expect_svc(&h, name, "running", 0, 1);
		ck_assert_int_eq(harness_wait_pid_gone(pids[i], T_WAIT), 0);
		ck_assert_msg(!is_zombie(pids[i]), "pid %ld left a zombie",
		    (long)pids[i]);
	}
	/* warden's children: the 100 new workers, no zombie among them. */
	children_of(h.pid, &alive, &zombies);
	ck_assert_int_eq(zombies, 0);
	ck_assert_int_eq(alive, 100);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/* --- a storm of crashes, and kill then wait ------------------------------ */

/* A process seen as a zombie: its pid and start time (pids are reused). */
struct zombie {
	pid_t			pid;
	unsigned long long	start;
};

/* The zombies among parent's children, at most max. */
static int
zombies_of(pid_t parent, struct zombie *z, int max)
{
	DIR			*d;
	struct dirent		*de;
	struct proc_info	 pi;
	pid_t			 pid;
	int			 count = 0;

	d = opendir("/proc");
	ck_assert_msg(d != NULL, "opendir /proc: %s", strerror(errno));
	while ((de = readdir(d)) != NULL && count < max) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		pid = (pid_t)atol(de->d_name);
		if (proc_info(pid, &pi) == -1 || pi.ppid != parent ||
		    pi.state != 'Z')
			continue;
		z[count].pid = pid;
		z[count].start = pi.start;
		count++;
	}
	closedir(d);
	return count;
}

/* Restarts of every service, from status. */
static long long
total_restarts(struct harness *h)
{
	json_t		*r, *e;
	long long	 sum = 0;
	size_t		 i;

	r = result(h, "status", NULL);
	json_array_foreach(json_object_get(r, "services"), i, e)
		sum += num(e, "restarts");
	json_decref(r);
	return sum;
}

/*
 * 100 workers that exit as soon as they are started, no backoff, an
 * intensity they never reach: they crash as fast as warden can fork.
 */
static char *
storm_config(void)
{
	return many_config(100, ", \"--crash\", \"0\"], "
	    "\"backoff\": { \"initial_ms\": 0 }", 1000000);
}

/*
 * While the storm runs, warden answers: every ping within the bound, and
 * no zombie outlives two pings (the turn of the loop that answers the
 * first one has its SIGCHLD to read, and reaps all that is dead).
 */
START_TEST(test_storm_served)
{
	struct harness	 h;
	struct zombie	 z1[128], z2[128];
	json_t		*r;
	char		*text;
	long long	 restarts;
	int		 round, n1, n2, i, j;

	text = storm_config();
	start(&h, text);
	free(text);
	ck_assert_msg(harness_wait_log(&h, "w099: pid", T_WAIT) == 0,
	    "the last worker never exited");
	restarts = total_restarts(&h);
	for (round = 0; round < 20; round++) {
		n1 = zombies_of(h.pid, z1, (int)nitems(z1));
		for (i = 0; i < 2; i++) {
			r = harness_call_timeout(&h, "ping", NULL, T_WAIT);
			ck_assert_msg(r != NULL, "round %d: no answer to ping "
			    "within %d ms", round, T_WAIT);
			ck_assert_msg(json_is_string(json_object_get(r, "result")) &&
			    strcmp(json_string_value(json_object_get(r,
			    "result")), "pong") == 0, "ping: %s", dump(r));
			json_decref(r);
		}
		n2 = zombies_of(h.pid, z2, (int)nitems(z2));
		for (i = 0; i < n1; i++)
			for (j = 0; j < n2; j++)
				ck_assert_msg(z1[i].pid != z2[j].pid ||
				    z1[i].start != z2[j].start,
				    "round %d: pid %ld still a zombie after two "
				    "pings (%d zombies before, %d after)", round,
				    (long)z1[i].pid, n1, n2);
	}
	/* And the storm went on meanwhile. */
	ck_assert_msg(total_restarts(&h) > restarts, "no restart in 20 rounds");
	finish(&h, 0);
}
END_TEST

/* SIGTERM in the middle of the storm: warden stops everything and exits. */
START_TEST(test_storm_sigterm)
{
	struct harness	 h;
	char		*text;

	text = storm_config();
	start(&h, text);
	free(text);
	ck_assert_msg(harness_wait_log(&h, "w099: pid", T_WAIT) == 0,
	    "the last worker never exited");
	ck_assert_int_eq(harness_signal(&h, SIGTERM), 0);
	ck_assert_msg(harness_wait_exit(&h, 2 * T_WAIT) == 0,
	    "warden did not exit on SIGTERM");
	finish(&h, 0);
}
END_TEST

/* The wait that follows service.kill; returns the instance's pid. */
static pid_t
wait_running_pid(struct harness *h, const char *name)
{
	json_t	*r;
	pid_t	 pid;

	r = result(h, "wait", json_pack("{s:{s:s,s:s},s:i}", "condition",
	    "service", name, "state", "running", "timeout_ms", T_WAIT));
	ck_assert_str_eq(str(r, "state"), "running");
	pid = (pid_t)num(r, "pid");
	json_decref(r);
	return pid;
}

/*
 * After service.kill has answered, nothing shows the killed instance
 * running: status shows it stopping until it exits, and "wait running"
 * waits for the next instance. The worker takes 200 ms to die of SIGTERM,
 * so the old instance is still there when status and wait are asked.
 */
START_TEST(test_kill_then_wait)
{
	struct harness	 h;
	json_t		*e;
	pid_t		 killed, pid;
	int		 i;

	start(&h, "{ 'supervisor': { 'max_restarts': 1000, 'children': ["
	    " { 'name': 'k', 'command': ['@WORKER@', '--linger-term', '200'],"
	    "   'backoff': { 'initial_ms': 0 } } ] } }");
	for (i = 0; i < 8; i++) {
		killed = kill_one(&h, "k", "TERM");
		e = service_of(&h, "k");
		ck_assert_msg(num(e, "pid") != killed ||
		    strcmp(str(e, "state"), "stopping") == 0,
		    "round %d: after the kill: %s", i, dump(e));
		ck_assert_msg(num(e, "pid") != killed ||
		    !json_is_true(json_object_get(e, "ready")),
		    "round %d: the killed instance is ready: %s", i, dump(e));
		json_decref(e);
		pid = wait_running_pid(&h, "k");
		ck_assert_msg(pid != killed, "round %d: wait running answered "
		    "with the killed pid %ld", i, (long)killed);
	}
	/* SIGKILL, many times: the race is narrower, the answer the same. */
	for (i = 0; i < 50; i++) {
		killed = kill_one(&h, "k", NULL);
		pid = wait_running_pid(&h, "k");
		ck_assert_msg(pid != killed, "round %d: wait running answered "
		    "with the SIGKILLed pid %ld", i, (long)killed);
	}
	finish(&h, 0);
}
END_TEST

/* The same through wardenctl, as in the README's tour. */
START_TEST(test_kill_then_wait_ctl)
{
	struct harness	 h;
	json_t		*r;
	json_error_t	 jerr;
	char		*out, *err;
	pid_t		 killed;
	int		 i, st;

	start(&h, "{ 'supervisor': { 'max_restarts': 1000, 'children': ["
	    " { 'name': 'k', 'command': ['@WORKER@', '--linger-term', '200'],"
	    "   'backoff': { 'initial_ms': 0 } } ] } }");
	for (i = 0; i < 4; i++) {
		killed = pid_of(&h, "k");
		st = harness_ctl(&h, &out, &err, "kill", "k", "-s", "TERM", NULL);
		ck_assert_msg(st == 0, "wardenctl kill: %d: %s", st, err);
		free(out);
		free(err);
		st = harness_ctl(&h, &out, &err, "-j", "wait", "k", "running",
		    "-t", "5000", NULL);
		ck_assert_msg(st == 0, "wardenctl wait: %d: %s", st, err);
		r = json_loads(out, 0, &jerr);
		ck_assert_msg(r != NULL, "wardenctl -j wait: %s", out);
		ck_assert_msg(num(r, "pid") != killed, "round %d: wardenctl "
		    "wait k running returned the killed pid %ld", i, (long)killed);
		json_decref(r);
		free(out);
		free(err);
	}
	finish(&h, 0);
}
END_TEST

static Suite *
supervise_operate_suite(void)
{
	Suite	*s = suite_create("supervise_operate");
	TCase	*tc;

	tc = tcase_create("operate");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_operator_actions);
	tcase_add_test(tc, test_wait_min_restarts);
	tcase_add_test(tc, test_kill_10_of_20);
	tcase_add_test(tc, test_100_workers_exit);
	suite_add_tcase(s, tc);

	tc = tcase_create("storm");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_storm_served);
	tcase_add_test(tc, test_storm_sigterm);
	tcase_add_test(tc, test_kill_then_wait);
	tcase_add_test(tc, test_kill_then_wait_ctl);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(supervise_operate_suite)
