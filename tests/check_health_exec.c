/*
 * check_health_exec.c: exec probes against the real warden: run as the
 * worker runs (its cwd, its env, WARDEN_PID), their reason from their
 * output, one that hangs (killed at its timeout with its whole group),
 * one that floods its output (warden stays responsive, its memory flat),
 * one abandoned with its worker; a reload that changes only the probe,
 * and a reexec, after which the rounds go on.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faultstest.h"
#include "harness.h"
#include "healthtest.h"
#include "testlib.h"
#include "util.h"
#include "suite.h"

/* As the worker: its cwd, its env, and the pid of the instance probed. */
START_TEST(test_exec_as_worker)
{
	struct harness	 h;
	char		*w, *path, *text, *want;
	pid_t		 pid;

	w = dq("{ 'name': 'w', 'command': ['@WORKER@'], 'cwd': '@DIR@', "
	    "'env': { 'FOO': 'bar' }, 'health': { 'exec': ['/bin/sh', '-c', "
	    "'echo $WARDEN_PID $FOO $(pwd) > env.tmp && mv env.tmp env'], "
	    "'interval_ms': 100 } }");
	ht_start(&h, w, NULL);
	pid = pid_of(&h, "w");
	path = harness_path(&h, "env");
	text = harness_wait_file(path, NULL, TESTLIB_WAIT);
	ck_assert_ptr_nonnull(text);
	xasprintf(&want, "%ld bar %s\n", (long)pid, h.dir);
	ck_assert_str_eq(text, want);
	ht_wait_health(&h, "w", "healthy");
	free(want);
	free(text);
	free(path);
	free(w);
	stop(&h);
}
END_TEST

/* The reason: its exit, and the start of its first line. */
START_TEST(test_exec_reason)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*e;
	char			*w;

	w = dq("{ 'name': 'w', 'command': ['@WORKER@'], 'health': { 'exec': "
	    "['/bin/sh', '-c', 'echo db down; echo more; exit 3'], "
	    "'interval_ms': 100, 'failures': 2 } }");
	ht_start(&h, w, NULL);
	sub = subscribe(&h, NULL);
	e = ht_unhealthy(sub, "w", "exec", "exit 3: db down");
	json_decref(e);
	harness_conn_close(sub);
	free(w);
	stop(&h);
}
END_TEST

/* A probe whose command went away since warden read it: said so. */
START_TEST(test_exec_gone)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*e;
	char			*w, *probe, *why;

	w = dq("{ 'name': 'w', 'command': ['@WORKER@'], 'health': { 'exec': "
	    "['@DIR@/probe.sh'], 'interval_ms': 100, 'failures': 1 } }");
	ht_prepare_probe(&h, w, "probe.sh", "#!/bin/sh\nexit 0\n");
	probe = harness_path(&h, "probe.sh");
	ck_assert_int_eq(harness_launch(&h), 0);
	ht_wait_health(&h, "w", "healthy");
	sub = subscribe(&h, NULL);
	ck_assert_int_eq(unlink(probe), 0);
	xasprintf(&why, "cannot run %s: No such file or directory", probe);
	e = ht_unhealthy(sub, "w", "exec", why);
	json_decref(e);
	harness_conn_close(sub);
	free(why);
	free(probe);
	free(w);
	stop(&h);
}
END_TEST

/* A probe that hangs is killed at its timeout, with what it started. */
START_TEST(test_exec_hangs)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*e;
	char			*w, *pf, *gf;
	pid_t			 probe, grand;

	w = dq("{ 'name': 'w', 'command': ['@WORKER@'], 'health': { 'exec': "
	    "['/bin/sh', '-c', 'sleep 1000 & echo $! > @DIR@/grand; "
	    "echo $$ > @DIR@/probe; wait'], 'interval_ms': 300, "
	    "'timeout_ms': 200, 'failures': 1 } }");
	ht_start(&h, w, NULL);
	sub = subscribe(&h, NULL);
	pf = harness_path(&h, "probe");
	gf = harness_path(&h, "grand");
	ck_assert_int_gt(probe = harness_wait_pidfile(pf, 0, TESTLIB_WAIT), 0);
	ck_assert_int_gt(grand = harness_wait_pidfile(gf, 0, TESTLIB_WAIT), 0);
	e = ht_unhealthy(sub, "w", NULL, "timed out after 200 ms");
	json_decref(e);
	/* Its group went with it: the probe and what it started. */
	ck_assert_int_eq(harness_wait_pid_gone(probe, TESTLIB_WAIT), 0);
	ck_assert_int_eq(harness_wait_pid_gone(grand, TESTLIB_WAIT), 0);
	harness_conn_close(sub);
	free(pf);
	free(gf);
	free(w);
	stop(&h);
}
END_TEST

/*
 * A probe that floods its output until killed: warden answers pings
 * promptly meanwhile, and its memory does not grow with what was read.
 */
START_TEST(test_exec_floods)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*s;
	long			 rss0, rss1;
	uint64_t		 t0, worst = 0, deadline;
	long long		 failures = 0;
	char			*w;

	w = dq("{ 'name': 'w', 'command': ['@WORKER@'], 'health': { 'exec': "
	    "['yes', 'flooding'], 'interval_ms': 400, 'timeout_ms': 300, "
	    "'failures': 1000 } }");
	ht_start(&h, w, NULL);
	c = harness_conn_open(&h);
	ck_assert_ptr_nonnull(c);
	rss0 = ft_rss_kb(h.pid);
	deadline = util_now_ms() + 20000;
	/* Three rounds flooded and timed out, pinging all along. */
	while (failures < 3) {
		ck_assert_msg(util_now_ms() < deadline, "3 rounds not seen");
		t0 = util_now_ms();
		ft_conn_ping(c);
		if (util_now_ms() - t0 > worst)
			worst = util_now_ms() - t0;
		s = service_of(&h, "w");
		failures = num(json_object_get(s, "health"), "failures");
		json_decref(s);
	}
	rss1 = ft_rss_kb(h.pid);
	fprintf(stderr, "check_health_exec: flood: slowest ping %llu ms, "
	    "RSS %ld -> %ld kB\n", (unsigned long long)worst, rss0, rss1);
	ck_assert_msg(worst < 500, "a ping took %llu ms",
	    (unsigned long long)worst);
	/* Under AddressSanitizer freed memory sits in a quarantine: no sign. */
	if (getenv("WARDEN_SANITIZED") == NULL)
		ck_assert_msg(rss1 - rss0 < 2048, "RSS %ld -> %ld kB", rss0,
		    rss1);
	s = service_of(&h, "w");
	ck_assert_str_eq(str(json_object_get(s, "health"), "last_error"),
	    "timed out after 300 ms");
	ck_assert_int_eq(num(s, "restarts"), 0);
	json_decref(s);
	harness_conn_close(c);
	free(w);
	stop(&h);
}
END_TEST

/* No probe outlives its worker: stopped with it, long before its timeout. */
START_TEST(test_exec_abandoned)
{
	struct harness	 h;
	json_t		*r;
	char		*w, *pf;
	pid_t		 probe;

	w = dq("{ 'name': 'w', 'command': ['@WORKER@'], 'health': { 'exec': "
	    "['/bin/sh', '-c', 'echo $$ > @DIR@/probe; exec sleep 1000'], "
	    "'interval_ms': 5000, 'timeout_ms': 5000 } }");
	ht_start(&h, w, NULL);
	pf = harness_path(&h, "probe");
	ck_assert_int_gt(probe = harness_wait_pidfile(pf, 0, TESTLIB_WAIT), 0);
	r = result(&h, "service.stop", js("{'service': 'w'}"));
	json_decref(r);
	ck_assert_int_eq(harness_wait_pid_gone(probe, 3000), 0);
	free(pf);
	free(w);
	stop(&h);
}
END_TEST

/* A reload that changes only the probe restarts nothing; the new one judges. */
START_TEST(test_reload_probe_only)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*r, *e;
	int			 port = free_port();
	char			*w, *conf;
	const char		*kids[1];
	pid_t			 pid;

	w = cfg("{ 'name': 'web', 'command': ['@BIN@/tests/probe-server', "
	    "'%d', '500'], 'health': { 'tcp': '127.0.0.1:%d', "
	    "'interval_ms': 100, 'failures': 1 } }", port, port);
	ht_start(&h, w, NULL);
	ht_wait_health(&h, "web", "healthy");
	pid = pid_of(&h, "web");
	sub = subscribe(&h, NULL);
	free(w);
	w = cfg("{ 'name': 'web', 'command': ['@BIN@/tests/probe-server', "
	    "'%d', '500'], 'health': { 'http': 'http://127.0.0.1:%d/', "
	    "'interval_ms': 100, 'failures': 1 } }", port, port);
	kids[0] = w;
	conf = ht_conf(kids, 1);
	free(w);
	w = dq(conf);
	ck_assert_int_eq(harness_write_config(&h, w), 0);
	r = result(&h, "config.reload", NULL);
	ck_assert_msg(json_array_size(json_object_get(r, "changed")) == 0 &&
	    json_array_size(json_object_get(r, "unchanged")) >= 1,
	    "reload: %s", dump(r));
	json_decref(r);
	e = ht_unhealthy(sub, "web", "http", "HTTP 500");
	/* The instance the reload kept: not restarted by the reload. */
	ck_assert_int_eq(num(e, "pid"), pid);
	json_decref(e);
	harness_conn_close(sub);
	free(conf);
	free(w);
	stop(&h);
}
END_TEST

/* A reexec: the rounds go on in the next image, nothing restarted. */
START_TEST(test_reexec)
{
	struct harness	 h;
	json_t		*s;
	char		*path, *text;
	pid_t		 pid;
	int		 before;

	pid = ht_start_rounds(&h, &path);
	reexec_by_signal(&h);
	text = harness_read_file(path);
	ck_assert_ptr_nonnull(text);
	before = count_of(text, "\n");
	free(text);
	ht_wait_lines(path, before + 5);
	ht_wait_health(&h, "w", "healthy");
	s = service_of(&h, "w");
	ck_assert_int_eq(num(s, "pid"), pid);
	ck_assert_int_eq(num(s, "restarts"), 0);
	json_decref(s);
	free(path);
	stop(&h);
}
END_TEST

static Suite *
health_exec_suite(void)
{
	Suite	*s = suite_create("health_exec");
	TCase	*tc = tcase_create("health_exec");

	tcase_set_timeout(tc, HT_CASE);
	tcase_add_test(tc, test_exec_as_worker);
	tcase_add_test(tc, test_exec_reason);
	tcase_add_test(tc, test_exec_gone);
	tcase_add_test(tc, test_exec_hangs);
	tcase_add_test(tc, test_exec_floods);
	tcase_add_test(tc, test_exec_abandoned);
	tcase_add_test(tc, test_reload_probe_only);
	tcase_add_test(tc, test_reexec);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(health_exec_suite)
