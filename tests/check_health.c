/*
 * check_health.c: liveness probes against the real warden: an HTTP
 * server answering 200, 500 or garbage (tests/workers/probe-server.c), a
 * port that accepts and never answers (tcp passes, http times out), a
 * worker SIGSTOPped (restarted as a failure, counted in its supervisor's
 * intensity, which gives up as for crashes), the start period, a
 * healthy worker through many rounds, the wait for a verdict and its bad
 * forms. check_health_exec.c has the exec probes, reloads and reexecs,
 * check_health_many.c a thousand probed workers.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "healthtest.h"
#include "testlib.h"
#include "util.h"
#include "suite.h"

/* A worker serving HTTP on port by mode, probed as health says. */
static char *
served(const char *name, int port, const char *mode, const char *health)
{
	return cfg("{ 'name': '%s', 'command': ['@BIN@/tests/probe-server', "
	    "'%d', '%s'], 'shutdown_ms': 2000, 'health': %s }", name, port,
	    mode, health);
}

START_TEST(test_http_healthy)
{
	struct harness	 h;
	json_t		*s, *hl;
	int		 port = free_port();
	char		*w, *health;

	health = cfg("{ 'http': 'http://127.0.0.1:%d/healthz', "
	    "'interval_ms': 100, 'timeout_ms': 100, 'failures': 2 }", port);
	w = served("web", port, "200", health);
	ht_start(&h, w, NULL);
	ht_wait_health(&h, "web", "healthy");
	s = service_of(&h, "web");
	hl = json_object_get(s, "health");
	ck_assert_str_eq(str(hl, "check"), "http");
	ck_assert_str_eq(str(hl, "status"), "healthy");
	ck_assert_int_eq(num(hl, "failures"), 0);
	ck_assert(json_is_null(json_object_get(hl, "last_error")));
	ck_assert_ptr_nonnull(str(hl, "last_probe"));
	ck_assert_int_eq(num(s, "restarts"), 0);
	json_decref(s);
	free(w);
	free(health);
	stop(&h);
}
END_TEST

/* An answer that is not 2xx or 3xx, or not HTTP: unhealthy, restarted. */
static const struct {
	const char	*mode;
	const char	*reason;
} answers[] = {
	{ "500", "HTTP 500" },
	{ "garbage", "not an HTTP answer" },
	{ "close", "closed without an answer" },
};

START_TEST(test_http_bad_answer)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*e, *sup;
	int			 port = free_port();
	char			*w, *health;

	health = cfg("{ 'http': 'http://127.0.0.1:%d/', 'interval_ms': 100, "
	    "'timeout_ms': 100, 'failures': 2 }", port);
	w = served("web", port, answers[_i].mode, health);
	ht_start(&h, w, NULL);
	sub = subscribe(&h, NULL);
	e = ht_unhealthy(sub, "web", "http", answers[_i].reason);
	json_decref(e);
	/* A failure: restarted, and counted in the supervisor's intensity. */
	e = wait_event(sub, "service.exited", "web");
	ck_assert(json_is_false(json_object_get(e, "expected")));
	json_decref(e);
	json_decref(wait_event(sub, "service.started", "web"));
	sup = result(&h, "status", js("{'service': 'root'}"));
	ck_assert_int_ge(num(json_array_get(json_object_get(sup,
	    "supervisors"), 0), "restarts_in_window"), 1);
	json_decref(sup);
	harness_conn_close(sub);
	free(w);
	free(health);
	stop(&h);
}
END_TEST

/* An answer in time passes; one later than timeout_ms fails. */
START_TEST(test_http_slow)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*e;
	int			 p1 = free_port(), p2 = free_port();
	char			*a, *b;

	a = cfg("{ 'name': 'quick', 'command': ['@BIN@/tests/probe-server', "
	    "'%d', 'slow', '20'], 'health': { 'http': 'http://127.0.0.1:%d/', "
	    "'interval_ms': 500, 'timeout_ms': 400, 'failures': 1 } }", p1, p1);
	b = cfg("{ 'name': 'late', 'command': ['@BIN@/tests/probe-server', "
	    "'%d', 'slow', '2000'], 'health': { 'http': 'http://127.0.0.1:%d/', "
	    "'interval_ms': 300, 'timeout_ms': 100, 'failures': 1 } }", p2, p2);
	ht_start(&h, a, b, NULL);
	sub = subscribe(&h, NULL);
	e = ht_unhealthy(sub, "late", "http", "timed out after 100 ms");
	json_decref(e);
	ht_wait_health(&h, "quick", "healthy");
	ck_assert_int_eq(field_of(&h, "quick", "restarts"), 0);
	harness_conn_close(sub);
	free(a);
	free(b);
	stop(&h);
}
END_TEST

/* The worker's failure hook says it was unhealthy, and why. */
START_TEST(test_hook_reason)
{
	struct harness	 h;
	char		*w, *path, *text;

	w = dq("{ 'name': 'w', 'command': ['@WORKER@'], 'health': { 'exec': "
	    "['/bin/sh', '-c', 'echo no quorum; exit 1'], 'interval_ms': 100, "
	    "'failures': 1 }, 'on_failure': { 'command': ['/bin/sh', '-c', "
	    "'echo $WARDEN_REASON > @DIR@/r.tmp && mv @DIR@/r.tmp @DIR@/r'] } }");
	ht_start(&h, w, NULL);
	path = harness_path(&h, "r");
	text = harness_wait_file(path, NULL, TESTLIB_WAIT);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "unhealthy (exec): exit 1: no quorum\n");
	free(text);
	free(path);
	free(w);
	stop(&h);
}
END_TEST

/*
 * A port whose server accepts and never answers: a tcp probe passes (the
 * connection is made), an http probe fails at its timeout.
 */
START_TEST(test_silent_port)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*e;
	int			 port = free_port();
	char			*a, *b, *health;

	health = cfg("{ 'tcp': '127.0.0.1:%d', 'interval_ms': 100, "
	    "'timeout_ms': 100, 'failures': 1 }", port);
	a = served("silent", port, "silent", health);
	free(health);
	b = cfg("{ 'name': 'asker', 'command': ['@WORKER@'], 'health': "
	    "{ 'http': 'http://localhost:%d/', 'interval_ms': 300, "
	    "'timeout_ms': 150, 'failures': 1 } }", port);
	ht_start(&h, a, b, NULL);
	sub = subscribe(&h, NULL);
	e = ht_unhealthy(sub, "asker", "http", "timed out after 150 ms");
	json_decref(e);
	ht_wait_health(&h, "silent", "healthy");
	ck_assert_int_eq(field_of(&h, "silent", "restarts"), 0);
	harness_conn_close(sub);
	free(a);
	free(b);
	stop(&h);
}
END_TEST

/* A loopback listener of the test's own on port. */
static int
listen_on(int port)
{
	struct sockaddr_in	sin;
	int			fd, one = 1;

	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0),
	    -1);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	return fd;
}

/* Connections in TIME_WAIT from or to port, as /proc/net/tcp lists them. */
static int
time_waits(int port)
{
	FILE		*f = fopen("/proc/net/tcp", "r");
	char		 line[512];
	unsigned	 lport, rport, st;
	int		 n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " %*d: %*x:%x %*x:%x %x", &lport, &rport,
		    &st) == 3 && st == 6 && (lport == (unsigned)port ||
		    rport == (unsigned)port))
			n++;
	fclose(f);
	return n;
}

/*
 * A probe's connection ends with a reset: nothing is left in TIME_WAIT,
 * on either side, however many rounds (a thousand probes a second would
 * otherwise hold tens of thousands of them). Each connection is read to
 * its end before the test closes it, so that warden closes first.
 */
START_TEST(test_no_time_wait)
{
	struct pollfd	 pfd;
	struct harness	 h;
	int		 port = free_port(), lfd, c, i;
	char		*w, buf[16];

	lfd = listen_on(port);
	w = cfg("{ 'name': 'w', 'command': ['@WORKER@'], 'health': "
	    "{ 'tcp': '127.0.0.1:%d', 'interval_ms': 100 } }", port);
	ht_start(&h, w, NULL);
	for (i = 0; i < 5; i++) {
		pfd.fd = lfd;
		pfd.events = POLLIN;
		ck_assert_int_eq(poll(&pfd, 1, TESTLIB_WAIT), 1);
		ck_assert_int_ne(c = accept(lfd, NULL, NULL), -1);
		pfd.fd = c;
		ck_assert_int_eq(poll(&pfd, 1, TESTLIB_WAIT), 1);
		ck_assert_int_eq(read(c, buf, sizeof(buf)), -1);
		ck_assert_int_eq(errno, ECONNRESET);
		close(c);
	}
	ck_assert_int_eq(time_waits(port), 0);
	close(lfd);
	free(w);
	stop(&h);
}
END_TEST

/* A port nobody listens on: the connection refused, said as the reason. */
START_TEST(test_refused)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*e;
	char			*w;

	w = cfg("{ 'name': 'w', 'command': ['@WORKER@'], 'health': "
	    "{ 'tcp': '127.0.0.1:%d', 'interval_ms': 100, 'failures': 2 } }",
	    free_port());
	ht_start(&h, w, NULL);
	/* The verdict, seen while the instance judged is stopping. */
	ht_wait_health(&h, "w", "unhealthy");
	sub = subscribe(&h, NULL);
	e = ht_unhealthy(sub, "w", "tcp", "connect: Connection refused");
	json_decref(e);
	harness_conn_close(sub);
	free(w);
	stop(&h);
}
END_TEST

/*
 * A worker stopped (SIGSTOP) still holds its port: the kernel completes
 * connections, nobody answers. Its http probe times out "failures" times
 * and it is restarted, as a failure.
 */
START_TEST(test_sigstop)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*e;
	int			 port = free_port();
	char			*w, *health;
	pid_t			 pid;

	health = cfg("{ 'http': 'http://127.0.0.1:%d/', 'interval_ms': 200, "
	    "'timeout_ms': 100, 'failures': 3 }", port);
	w = served("web", port, "200", health);
	ht_start(&h, w, NULL);
	ht_wait_health(&h, "web", "healthy");
	pid = pid_of(&h, "web");
	sub = subscribe(&h, NULL);
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	e = ht_unhealthy(sub, "web", NULL, "timed out after 100 ms");
	ck_assert_int_eq(num(e, "pid"), pid);
	json_decref(e);
	e = wait_event(sub, "service.started", "web");
	ck_assert_int_eq(num(e, "restarts"), 1);
	json_decref(e);
	ck_assert_int_eq(harness_wait_pid_gone(pid, TESTLIB_WAIT), 0);
	/* The new instance starts afresh, and is healthy again. */
	ht_wait_health(&h, "web", "healthy");
	harness_conn_close(sub);
	free(w);
	free(health);
	stop(&h);
}
END_TEST

/* Unhealthy again and again: its supervisor gives up, as for crashes. */
START_TEST(test_intensity)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*e;
	int			 port = free_port();
	char			*w, *health, *conf;

	health = cfg("{ 'http': 'http://127.0.0.1:%d/', 'interval_ms': 100, "
	    "'timeout_ms': 100, 'failures': 1 }", port);
	w = served("bad", port, "500", health);
	conf = cfg("{ 'supervisor': { 'max_restarts': 10, 'max_seconds': 60, "
	    "'children': [ { 'name': 's', 'max_restarts': 1, "
	    "'max_seconds': 60, 'children': [ %s ] } ] } }", w);
	start(&h, conf);
	sub = subscribe(&h, NULL);
	e = wait_event(sub, "supervisor.failed", "s");
	json_decref(e);
	/* root restarts s, as after a crash loop. */
	wait_restarts(&h, "s", "running", 1);
	harness_conn_close(sub);
	free(conf);
	free(w);
	free(health);
	stop(&h);
}
END_TEST

/*
 * Failures inside start_period_ms do not count: the worker stays
 * starting through rounds that fail, where one without it is judged.
 */
START_TEST(test_start_period)
{
	struct harness	 h;
	json_t		*s, *hl;
	char		*a, *b, *path;

	a = dq("{ 'name': 'patient', 'command': ['@WORKER@'], 'health': "
	    "{ 'exec': ['/bin/sh', '-c', 'echo x >> @DIR@/rounds; exit 1'], "
	    "'interval_ms': 100, 'failures': 1, "
	    "'start_period_ms': 600000 } }");
	b = dq("{ 'name': 'hasty', 'command': ['@WORKER@'], 'health': "
	    "{ 'exec': ['/bin/false'], 'interval_ms': 100, 'failures': 1 } }");
	ht_start(&h, a, b, NULL);
	path = harness_path(&h, "rounds");
	ht_wait_lines(path, 5);
	s = service_of(&h, "patient");
	hl = json_object_get(s, "health");
	ck_assert_str_eq(str(hl, "status"), "starting");
	ck_assert_int_eq(num(hl, "failures"), 0);
	ck_assert_str_eq(str(hl, "last_error"), "exit 1");
	ck_assert_int_eq(num(s, "restarts"), 0);
	json_decref(s);
	/* Without a start period the first failure judges. */
	wait_restarts(&h, "hasty", "running", 1);
	free(path);
	free(a);
	free(b);
	stop(&h);
}
END_TEST

/* A healthy worker through many rounds: never restarted, never failing. */
START_TEST(test_many_rounds)
{
	struct harness	 h;
	json_t		*s, *hl;
	char		*path;
	pid_t		 pid;

	pid = ht_start_rounds(&h, &path);
	ht_wait_lines(path, 20);
	s = service_of(&h, "w");
	hl = json_object_get(s, "health");
	ck_assert_str_eq(str(hl, "status"), "healthy");
	ck_assert_int_eq(num(hl, "failures"), 0);
	ck_assert_int_eq(num(s, "restarts"), 0);
	ck_assert_int_eq(num(s, "pid"), pid);
	json_decref(s);
	free(path);
	stop(&h);
}
END_TEST

/* Status without a probe, and the wait's bad forms. */
START_TEST(test_no_probe_and_bad_waits)
{
	struct harness	 h;
	json_t		*s, *r;

	ht_start(&h, "{ 'name': 'plain', 'command': ['@WORKER@'] }", NULL);
	s = service_of(&h, "plain");
	ck_assert(json_is_null(json_object_get(s, "health")));
	json_decref(s);
	r = harness_call(&h, "wait", js("{'condition': {'service': 'plain', "
	    "'health': 'fine'}}"));
	ck_assert_int_eq(harness_error_code(r), -32602);
	ck_assert_ptr_nonnull(strstr(dump(r), "'health' must be one of "
	    "starting, healthy, unhealthy"));
	json_decref(r);
	r = harness_call(&h, "wait", js("{'condition': {'service': 'plain', "
	    "'health': 1}}"));
	ck_assert_int_eq(harness_error_code(r), -32602);
	json_decref(r);
	r = harness_call(&h, "wait", js("{'condition': {'service': 'plain'}}"));
	ck_assert_int_eq(harness_error_code(r), -32602);
	json_decref(r);
	/* Not probed: never healthy; the wait runs out. */
	r = harness_call(&h, "wait", js("{'condition': {'service': 'plain', "
	    "'health': 'healthy'}, 'timeout_ms': 50}"));
	ck_assert_int_eq(harness_error_code(r), -32003);
	json_decref(r);
	stop(&h);
}
END_TEST

/* wardenctl: the verdict in status, a failing probe's reason, a wait. */
START_TEST(test_wardenctl)
{
	struct harness	 h;
	char		*a, *b, *out = NULL, *err = NULL;
	int		 rc;

	a = dq("{ 'name': 'good', 'command': ['@WORKER@'], 'health': "
	    "{ 'exec': ['/bin/true'], 'interval_ms': 100 } }");
	b = dq("{ 'name': 'flaky', 'command': ['@WORKER@'], 'health': "
	    "{ 'exec': ['/bin/sh', '-c', 'echo x >> @DIR@/rounds; echo "
	    "slow disk; exit 1'], 'interval_ms': 100, 'failures': 1000 } }");
	ht_start(&h, a, b, "{ 'name': 'plain', 'command': ['@WORKER@'] }",
	    NULL);
	rc = harness_ctl(&h, &out, &err, "wait", "good", "healthy", NULL);
	ck_assert_msg(rc == 0, "wait good healthy: %d %s", rc, err);
	free(out);
	free(err);
	free(a);
	a = harness_path(&h, "rounds");
	ht_wait_lines(a, 2);
	rc = harness_ctl(&h, &out, &err, "status", NULL);
	ck_assert_msg(rc == 0, "status: %d %s", rc, err);
	ck_assert_msg(strstr(out, "HEALTH") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "healthy\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "flaky: exec probe failed (") != NULL &&
	    strstr(out, " in a row): exit 1: slow disk\n") != NULL, "%s", out);
	free(out);
	free(err);
	rc = harness_ctl(&h, &out, &err, "wait", "good", "fine", NULL);
	ck_assert_int_ne(rc, 0);
	ck_assert_msg(strstr(err, "nor a health (healthy, unhealthy)") != NULL,
	    "%s", err);
	free(out);
	free(err);
	free(a);
	free(b);
	stop(&h);
}
END_TEST

static Suite *
health_suite(void)
{
	Suite	*s = suite_create("health");
	TCase	*tc = tcase_create("health");

	tcase_set_timeout(tc, HT_CASE);
	tcase_add_test(tc, test_http_healthy);
	tcase_add_loop_test(tc, test_http_bad_answer, 0, (int)nitems(answers));
	tcase_add_test(tc, test_http_slow);
	tcase_add_test(tc, test_hook_reason);
	tcase_add_test(tc, test_silent_port);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_no_time_wait);
	tcase_add_test(tc, test_sigstop);
	tcase_add_test(tc, test_intensity);
	tcase_add_test(tc, test_start_period);
	tcase_add_test(tc, test_many_rounds);
	tcase_add_test(tc, test_no_probe_and_bad_waits);
	tcase_add_test(tc, test_wardenctl);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(health_suite)
