/*
 * check_watchdog.c: a worker's watchdog ("watchdog_ms", WATCHDOG=1) and its
 * STATUS= text, with the real warden and tests/workers/watchdog-worker.c.
 *
 * A worker that pings lives on; one that stops (SIGSTOPped, or a hang
 * the worker plays on SIGUSR1) is judged hung: service.unhealthy with
 * check "watchdog", SIGABRT, SIGKILL after its grace if it survives that,
 * and a restart counted as a failure. Pings from another pid than the
 * main one do not feed it; WATCHDOG=trigger fires it at once and
 * WATCHDOG_USEC= changes its period. What it was given: WATCHDOG_USEC and
 * WATCHDOG_PID, its own pid at each start. Across a reexec its deadline
 * and its STATUS= text are kept.
 *
 * Nothing waits by sleeping: each wait is for the event that proves it
 * (service.unhealthy, service.exited, a file the worker writes).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

#define WD_WORKER	"'@BIN@/tests/watchdog-worker'"

/* Start warden with one watchdog worker "w": its extra args and keys. */
static void
wd_start(struct harness *h, const char *args, const char *keys)
{
	char	*conf;

	conf = cfg("{ 'supervisor': { 'max_restarts': 10, 'max_seconds': 60,"
	    " 'children': [ { 'name': 'w', 'command': [" WD_WORKER "%s],"
	    " 'ready': 'notify', %s } ] } }", args, keys);
	start(h, conf);
	free(conf);
}

/* The service.unhealthy of w, checked: check "watchdog", its pid, why. */
static void
expect_hung(struct harness_conn *c, pid_t pid, const char *why)
{
	json_t	*ev = wait_event(c, "service.unhealthy", "w");

	ck_assert_str_eq(str(ev, "check"), "watchdog");
	ck_assert_int_eq(num(ev, "pid"), pid);
	ck_assert_msg(strstr(str(ev, "reason"), why) != NULL,
	    "reason %s, want %s", str(ev, "reason"), why);
	json_decref(ev);
}

/* Its exit, by this signal; then the next instance, ready. Its pid. */
static pid_t
expect_replaced(struct harness *h, struct harness_conn *c, pid_t pid,
    const char *sig)
{
	json_t	*ev = wait_event(c, "service.exited", "w");

	ck_assert_int_eq(num(ev, "pid"), pid);
	ck_assert_str_eq(str(ev, "signal"), sig);
	ck_assert(json_is_false(json_object_get(ev, "expected")));
	json_decref(ev);
	json_decref(wait_event(c, "service.ready", "w"));
	ck_assert_int_ne(pid_of(h, "w"), pid);
	return pid_of(h, "w");
}

/*
 * SIGUSR1: w stops pinging (its main process, at least); judged hung for
 * why, and replaced after it dies of sig. The new instance's pid.
 */
static pid_t
hang_replaced(struct harness *h, struct harness_conn *c, const char *why,
    const char *sig)
{
	pid_t	pid = pid_of(h, "w");

	json_decref(result(h, "service.signal", json_pack("{s:s,s:s}",
	    "service", "w", "signal", "USR1")));
	expect_hung(c, pid, why);
	return expect_replaced(h, c, pid, sig);
}

/*
 * The environment: WATCHDOG_USEC, and WATCHDOG_PID its own pid each time
 * (the worker writes it before it says READY=1).
 */
START_TEST(test_env)
{
	struct harness		 h;
	struct harness_conn	*c;
	char			*path, *text, want[96];
	pid_t			 pid;
	int			 round;

	wd_start(&h, ", '--env-out', '@DIR@/env'", "'watchdog_ms': 1500");
	c = subscribe(&h, "service.", NULL);
	path = harness_path(&h, "env");
	for (round = 0; round < 2; round++) {
		pid = pid_of(&h, "w");
		text = harness_read_file(path);
		snprintf(want, sizeof(want), "1500000 %ld %ld\n", (long)pid,
		    (long)pid);
		ck_assert_str_eq(text, want);
		free(text);
		json_decref(result(&h, "service.kill", json_pack("{s:s}",
		    "service", "w")));
		json_decref(wait_event(c, "service.ready", "w"));
	}
	free(path);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/*
 * A worker that pings through many periods is left alone: it exits 0 after
 * its pings, with no service.unhealthy before.
 */
START_TEST(test_fed)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*list;

	wd_start(&h, ", '--every', '20', '--pings', '40'",
	    "'watchdog_ms': 200, 'restart': 'transient'");
	c = subscribe(&h, "service.", NULL);
	list = events_until(c, "service.exited", "w", NULL);
	ck_assert_int_eq(num(json_array_get(list, json_array_size(list) - 1),
	    "code"), 0);
	for (size_t i = 0; i < json_array_size(list); i++)
		ck_assert_str_ne(str(json_array_get(list, i), "type"),
		    "service.unhealthy");
	json_decref(list);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/*
 * SIGSTOPped: no more pings. Judged hung, sent SIGABRT (with SIGCONT so
 * that it can die of it), restarted as after a crash, and said in status
 * and the log; twice, counted twice.
 */
START_TEST(test_stopped)
{
	struct harness		 h;
	struct harness_conn	*c;
	pid_t			 pid;
	int			 round;

	wd_start(&h, "", "'watchdog_ms': 100");
	c = subscribe(&h, "service.", NULL);
	pid = pid_of(&h, "w");
	for (round = 1; round <= 2; round++) {
		ck_assert_int_eq(kill(pid, SIGSTOP), 0);
		expect_hung(c, pid, "no WATCHDOG=1 within 100 ms");
		pid = expect_replaced(&h, c, pid, "ABRT");
		ck_assert_int_eq(field_of(&h, "w", "restarts"), round);
	}
	ck_assert_int_eq(harness_wait_log(&h, "unhealthy (watchdog): no "
	    "WATCHDOG=1 within 100 ms; aborting it", TESTLIB_WAIT), 0);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/*
 * It ignores SIGABRT: SIGKILL once its grace (shutdown_ms) is over. Its
 * failure hook is told why it was stopped, not only how it died.
 */
START_TEST(test_abort_ignored)
{
	struct harness		 h;
	struct harness_conn	*c;
	char			*path, *reason;

	wd_start(&h, ", '--ignore-abrt'", "'watchdog_ms': 100, "
	    "'shutdown_ms': 200, 'on_failure': { 'command': ['/bin/sh', '-c',"
	    " 'printf %s \\\"$WARDEN_REASON\\\" > @DIR@/r.tmp && "
	    "mv @DIR@/r.tmp @DIR@/reason'] }");
	c = subscribe(&h, "service.", NULL);
	(void)hang_replaced(&h, c, "no WATCHDOG=1", "KILL");
	ck_assert_int_eq(harness_wait_log(&h, "still running 200 ms after "
	    "SIGABRT, killing it", TESTLIB_WAIT), 0);
	path = harness_path(&h, "reason");
	reason = harness_wait_file(path, NULL, TESTLIB_WAIT);
	ck_assert_ptr_nonnull(reason);
	ck_assert_str_eq(reason, "unhealthy (watchdog): no WATCHDOG=1 within "
	    "100 ms");
	free(reason);
	free(path);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/*
 * The main process hangs while a child of its goes on pinging: those
 * pings are not its, so it is judged hung all the same; said once.
 */
START_TEST(test_other_pid)
{
	struct harness		 h;
	struct harness_conn	*c;
	char			*log;

	wd_start(&h, ", '--child-pings', '--every', '10'",
	    "'watchdog_ms': 150");
	c = subscribe(&h, "service.", NULL);
	(void)hang_replaced(&h, c, "no WATCHDOG=1 within 150 ms", "ABRT");
	log = harness_log(&h);
	ck_assert_int_eq(count_of(log, "watchdog message from pid "), 1);
	free(log);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/*
 * WATCHDOG=trigger (sent on SIGUSR1): hung at once, however long its
 * period.
 */
START_TEST(test_trigger)
{
	struct harness		 h;
	struct harness_conn	*c;
	pid_t			 pid;

	wd_start(&h, ", '--trigger'", "'watchdog_ms': 600000, "
	    "'restart': 'temporary'");
	c = subscribe(&h, "service.", NULL);
	pid = pid_of(&h, "w");
	json_decref(result(&h, "service.signal", json_pack("{s:s,s:s}",
	    "service", "w", "signal", "USR1")));
	expect_hung(c, pid, "WATCHDOG=trigger");
	json_decref(wait_event(c, "service.exited", "w"));
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/*
 * WATCHDOG_USEC= gives the instance another period: pings every 150 ms
 * feed a watchdog of 50 ms made 1 s; a bad value is refused and said.
 */
START_TEST(test_usec)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*list, *w;

	wd_start(&h, ", '--usec', '1000000', '--every', '150', '--pings', "
	    "'6'", "'watchdog_ms': 50, 'restart': 'transient'");
	c = subscribe(&h, "service.", NULL);
	w = service_of(&h, "w");
	ck_assert_int_eq(num(json_object_get(w, "watchdog"), "ms"), 1000);
	json_decref(w);
	list = events_until(c, "service.exited", "w", NULL);
	ck_assert_int_eq(num(json_array_get(list, json_array_size(list) - 1),
	    "code"), 0);
	json_decref(list);
	harness_conn_close(c);
	stop(&h);

	wd_start(&h, ", '--usec', '12x', '--pings', '3'",
	    "'watchdog_ms': 1000, 'restart': 'transient'");
	ck_assert_int_eq(harness_wait_log(&h, "WATCHDOG_USEC=12x: not a number",
	    TESTLIB_WAIT), 0);
	stop(&h);
}
END_TEST

/*
 * STATUS= is shown in status, kept printable and UTF-8, at most 256
 * bytes; gone with its instance.
 */
START_TEST(test_status_text)
{
	static const struct {
		const char	*sent;
		const char	*shown;
	} rows[] = {
		{ "serving 12 clients", "serving 12 clients" },
		/* A control byte becomes '?'; a bad byte U+FFFD. */
		{ "a\\\\x01b\\\\xffc", "a?b\xef\xbf\xbd" "c" },
		{ "caf\\\\xc3\\\\xa9", "caf\xc3\xa9" },
		/* A C1 control (CSI) is a command to a terminal: '?'. */
		{ "a\\\\xc2\\\\x9b2Jb", "a??2Jb" },
	};
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*w;
	char			 args[256], *long_arg, *conf_args, *out;
	size_t			 i;

	for (i = 0; i < nitems(rows); i++) {
		snprintf(args, sizeof(args), ", '--status', '%s'", rows[i].sent);
		wd_start(&h, args, "'watchdog_ms': 5000");
		w = service_of(&h, "w");
		ck_assert_msg(str(w, "status_text") != NULL &&
		    strcmp(str(w, "status_text"), rows[i].shown) == 0,
		    "row %zu: %s", i, str(w, "status_text"));
		json_decref(w);
		/* wardenctl status shows it under the services. */
		ck_assert_int_eq(harness_ctl(&h, &out, NULL, "status", NULL), 0);
		ck_assert_msg(strstr(out, "STATUS-TEXT") != NULL &&
		    strstr(out, rows[i].shown) != NULL, "row %zu: %s", i, out);
		free(out);
		stop(&h);
	}
	long_arg = xmalloc(1001);
	memset(long_arg, 'x', 1000);
	long_arg[1000] = '\0';
	xasprintf(&conf_args, ", '--status', '%s'", long_arg);
	wd_start(&h, conf_args, "'watchdog_ms': 5000");
	free(conf_args);
	w = service_of(&h, "w");
	ck_assert_uint_eq(strlen(str(w, "status_text")), 256);
	json_decref(w);
	c = subscribe(&h, "service.", NULL);
	json_decref(result(&h, "service.stop", json_pack("{s:s}", "service",
	    "w")));
	json_decref(wait_event(c, "service.exited", "w"));
	w = service_of(&h, "w");
	ck_assert(json_is_null(json_object_get(w, "status_text")));
	json_decref(w);
	free(long_arg);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/*
 * A reexec keeps the watchdog's deadline and the STATUS= text: a worker
 * SIGSTOPped just before is judged hung by the next image.
 */
START_TEST(test_reexec)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*w;
	pid_t			 pid;

	wd_start(&h, ", '--status', 'kept'", "'watchdog_ms': 2000");
	pid = pid_of(&h, "w");
	ck_assert_int_eq(kill(pid, SIGSTOP), 0);
	reexec_by_signal(&h);
	w = service_of(&h, "w");
	ck_assert_str_eq(str(w, "status_text"), "kept");
	ck_assert_int_eq(num(json_object_get(w, "watchdog"), "ms"), 2000);
	json_decref(w);
	c = subscribe(&h, "service.", NULL);
	expect_hung(c, pid, "no WATCHDOG=1 within 2000 ms");
	(void)expect_replaced(&h, c, pid, "ABRT");
	harness_conn_close(c);
	stop(&h);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("watchdog");
	TCase	*tc = tcase_create("watchdog");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_fed);
	tcase_add_test(tc, test_stopped);
	tcase_add_test(tc, test_abort_ignored);
	tcase_add_test(tc, test_other_pid);
	tcase_add_test(tc, test_trigger);
	tcase_add_test(tc, test_usec);
	tcase_add_test(tc, test_status_text);
	tcase_add_test(tc, test_reexec);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
