/*
 * check_faults_procs.c: processes warden must not leave or touch, with
 * the real daemon (SPEC 9): workers that leave children or ignore SIGTERM
 * are all gone after shutdown, and a reaped pid taken by a stranger is
 * never signalled.
 *
 * Choosing the next pid needs root: without it only the empty kill lists
 * are checked, with a message.
 *
 * JSON in the tests is written with ' for "; dq() turns it into JSON.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "pidtake.h"
#include "testlib.h"
#include "util.h"
#include "faultstest.h"
#include "suite.h"

/* --- 4. shutdown leaves nothing -------------------------------------------------- */

/*
 * Workers with children in their process group, one of them (and its
 * child) ignoring SIGTERM: warden's shutdown ends them all, the stubborn
 * ones with SIGKILL after their grace, and exits 0.
 */
START_TEST(test_shutdown_kills_all)
{
	struct harness	 h;
	pid_t		 gc1, gc2, w1, w2;
	uint64_t	 t0, took;
	char		*p1, *p2, *log;
	int		 st;

	start(&h, "{ 'supervisor': { 'children': [\n"
	    "    { 'name': 'w1', 'command': ['@WORKER@', '--grandchild',\n"
	    "      '@DIR@/gc1.pid'] },\n"
	    "    { 'name': 'w2', 'command': ['@WORKER@', '--ignore-term',\n"
	    "      '--grandchild', '@DIR@/gc2.pid'], 'shutdown_ms': 300 } ] } }");
	p1 = harness_path(&h, "gc1.pid");
	p2 = harness_path(&h, "gc2.pid");
	gc1 = harness_wait_pidfile(p1, 0, FT_WAIT);
	gc2 = harness_wait_pidfile(p2, 0, FT_WAIT);
	ck_assert(gc1 > 0 && gc2 > 0);
	w1 = pid_of(&h, "w1");
	w2 = pid_of(&h, "w2");
	ck_assert(harness_pid_alive(gc1) && harness_pid_alive(gc2));

	t0 = util_now_ms();
	json_decref(result(&h, "shutdown", NULL));
	st = harness_wait_exit(&h, HARNESS_STOP_TIMEOUT);
	took = util_now_ms() - t0;
	ck_assert_int_eq(st, 0);
	/* w2 had its grace, and not much more. */
	ck_assert_msg(took >= 250 && took < 3000, "shutdown took %llu ms",
	    (unsigned long long)took);
	log = harness_log(&h);
	ck_assert_msg(strstr(log, "w2: still running 300 ms after SIGTERM, "
	    "killing it") != NULL, "no SIGKILL after the grace:\n%s", log);
	free(log);
	ck_assert(!harness_pid_alive(w1) && !harness_pid_alive(w2));
	ck_assert_msg(!harness_pid_alive(gc1), "w1's child survived");
	ck_assert_msg(!harness_pid_alive(gc2), "w2's child survived");
	free(p1);
	free(p2);
	/* The keeper counts what warden left: nothing. */
	stop(&h);
}
END_TEST

/* --- 5. a reaped pid is nobody's business ----------------------------------------- */

/* In the child: lead a process group of its own, the group warden signals. */
static int
stranger_become(const void *arg)
{
	(void)arg;
	return setpgid(0, 0);
}

/*
 * A process of ours with exactly this pid, leading its own process group
 * (so that Check's clean-up would miss it), or -1 when the pid cannot be
 * chosen here.
 */
static pid_t
stranger_at(pid_t want)
{
	return pidtake_fork_at(want, stranger_become, NULL);
}

START_TEST(test_pid_reuse)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*r, *k;
	pid_t			 x0, other, stranger;
	char			*s;

	start(&h, "{ 'supervisor': { 'max_restarts': 50, 'max_seconds': 60,\n"
	    "  'children': [\n"
	    "    { 'name': 'x', 'command': ['@WORKER@', '--exit-on-usr1', '0'],\n"
	    "      'backoff': { 'initial_ms': 5000, 'max_ms': 5000,\n"
	    "        'jitter': 0 } },\n"
	    "    { 'name': 'other', 'command': ['@WORKER@'] } ] } }");
	x0 = pid_of(&h, "x");
	other = pid_of(&h, "other");
	sub = harness_subscribe(&h, NULL);
	ck_assert_ptr_nonnull(sub);

	/* x exits by itself and stays down for its backoff. */
	ck_assert_int_eq(kill(x0, SIGUSR1), 0);
	json_decref(wait_event(sub, "service.exited", "x"));
	json_decref(wait_event(sub, "service.backoff", "x"));
	r = harness_service(&h, "x");
	s = dump(r);
	ck_assert_msg(json_is_null(json_object_get(r, "pid")) &&
	    strcmp(json_string_value(json_object_get(r, "state")), "backoff")
	    == 0, "x: %s", s);
	free(s);
	json_decref(r);

	/* Its old pid now belongs to a stranger (when the kernel lets us). */
	stranger = stranger_at(x0);
	if (stranger == -1)
		fprintf(stderr, "check_faults: pid reuse not arranged; only "
		    "the empty kill lists are checked\n");

	r = result(&h, "service.kill", js("{'service': 'x'}"));
	s = dump(r);
	ck_assert_msg(json_array_size(json_object_get(r, "killed")) == 0,
	    "a down service was signalled: %s", s);
	free(s);
	json_decref(r);

	r = result(&h, "service.kill",
	    js("{'service': '*', 'signal': 'TERM'}"));
	s = dump(r);
	k = json_object_get(r, "killed");
	ck_assert_msg(json_array_size(k) == 1 && strcmp(json_string_value(
	    json_object_get(json_array_get(k, 0), "service")), "other") == 0 &&
	    json_integer_value(json_object_get(json_array_get(k, 0), "pid")) ==
	    other, "kill *: %s", s);
	free(s);
	json_decref(r);

	r = result(&h, "service.stop", js("{'service': 'x'}"));
	ck_assert_str_eq(json_string_value(json_object_get(r, "state")),
	    "stopped");
	json_decref(r);
	wait_state(&h, "other", "running");
	ck_assert_int_eq(harness_wait_recovered(&h, FT_WAIT), 0);

	if (stranger > 0) {
		ck_assert_msg(harness_pid_alive(stranger), "warden signalled "
		    "pid %ld, which it had reaped", (long)stranger);
		ck_assert_int_eq(pidtake_end(stranger), 0);
	}
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

static Suite *
faults_procs_suite(void)
{
	Suite	*s = suite_create("faults_procs");
	TCase	*tc = tcase_create("faults_procs");

	tcase_set_timeout(tc, FT_CASE);
	tcase_add_test(tc, test_shutdown_kills_all);
	tcase_add_test(tc, test_pid_reuse);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(faults_procs_suite)
