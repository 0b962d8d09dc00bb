/*
 * check_signal.c: service.signal and "wardenctl signal", the operator's
 * signal, with the real warden. A worker that handles it lives on (a
 * reload by HUP); one that dies of it has asked-for exit: no failure
 * counted, no backoff, and a permanent worker is started again at once,
 * even under a supervisor that may restart nothing (max_restarts 0); a
 * transient one stays down. Refused: a service that is not running, a bad
 * signal, an unknown name, and then nothing is sent.
 *
 * Configurations are written with ' for " (dq()).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "suite.h"
#include "supervisetest.h"
#include "testlib.h"
#include "util.h"
#include "wardenctltest.h"

/*
 * The root may restart nothing: one failure and it gives up. r reloads on
 * HUP, p is permanent, t transient; the sentinel of barrier() lives under
 * a supervisor of its own, whose budget its kills use.
 */
static const char conf_sig[] =
    "{ 'supervisor': { 'max_restarts': 0, 'max_seconds': 60,"
    "  'children': ["
    "  { 'name': 'r', 'command': ['@WORKER@'" READY_ARGS ","
    "    '--on-hup', '@DIR@/hup']," SET_UP " },"
    "  { 'name': 'p', 'command': ['@WORKER@'" READY_ARGS "]," SET_UP " },"
    "  { 'name': 't', 'restart': 'transient',"
    "    'command': ['@WORKER@'" READY_ARGS "]," SET_UP " },"
    "  { 'name': 'side', 'max_restarts': 100, 'children': [" SENTINEL " ] }"
    "  ] } }";

static json_t *
sig_call(struct harness *h, const char *service, const char *sig)
{
	return result(h, "service.signal", json_pack("{s:o,s:s}", "service",
	    js(service), "signal", sig));
}

/* The n-th HUP r has handled, as it wrote it. */
static void
hup_seen(struct harness *h, int n, const char *prev)
{
	char	*path = harness_path(h, "hup"), *text, want[32];

	text = harness_wait_file(path, prev, T_WAIT);
	ck_assert_ptr_nonnull(text);
	snprintf(want, sizeof(want), "hup %d\n", n);
	ck_assert_str_eq(text, want);
	free(text);
	free(path);
}

static void
sup_running(struct harness *h, const char *name)
{
	json_t	*s = sup(h, name);

	ck_assert_str_eq(str(s, "state"), "running");
	json_decref(s);
}

/* A HUP handled: same pid, nothing counted, said and logged. */
START_TEST(test_hup_reload)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*r, *ev, *k;
	char			 line[128];
	pid_t			 pid;

	start(&h, conf_sig);
	pid = pid_of(&h, "r");
	c = subscribe(&h, "service.", NULL);
	r = sig_call(&h, "'r'", "HUP");
	ck_assert_str_eq(str(r, "signal"), "HUP");
	ck_assert_int_eq(json_array_size(json_object_get(r, "signaled")), 1);
	k = json_array_get(json_object_get(r, "signaled"), 0);
	ck_assert_str_eq(str(k, "service"), "r");
	ck_assert_int_eq(num(k, "pid"), pid);
	json_decref(r);
	ev = wait_event(c, "service.signaled", "r");
	ck_assert_int_eq(num(ev, "pid"), pid);
	ck_assert_str_eq(str(ev, "signal"), "HUP");
	json_decref(ev);
	hup_seen(&h, 1, NULL);

	snprintf(line, sizeof(line), "signal HUP to r (pid %ld) by uid ",
	    (long)pid);
	ck_assert_int_eq(harness_wait_log(&h, line, T_WAIT), 0);
	json_decref(barrier(&h, c, NULL));
	expect_svc(&h, "r", "running", pid, 0);
	sup_running(&h, "root");
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/*
 * TERM to a permanent worker: down as asked, up again at once, not a
 * failure; twice, under a root that gives up at the first failure.
 */
START_TEST(test_term_permanent)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*list, *rec, *svc;
	pid_t			 pid, pid2;
	size_t			 i;
	int			 round;
	char			*hl;

	start(&h, conf_sig);
	c = subscribe(&h, "service.", "supervisor.", NULL);
	for (round = 1; round <= 2; round++) {
		pid = pid_of(&h, "p");
		json_decref(sig_call(&h, "['p']", "TERM"));
		list = events_until(c, "service.ready", "p", NULL);
		expect_exited(json_array_get(list, ev_find(list,
		    "service.exited", "p", 0)), pid, 0, "TERM", true);
		ck_assert_int_eq(ev_count(list, "service.backoff", "p"), 0);
		ck_assert_int_eq(ev_count(list, "supervisor.failed", NULL), 0);
		json_decref(list);
		pid2 = pid_of(&h, "p");
		ck_assert_int_ne(pid2, pid);
		/* A start after the first: counted as such, never as a failure. */
		expect_svc(&h, "p", "running", pid2, round);
	}
	sup_running(&h, "root");
	ck_assert_str_eq((hl = health(&h)), "ok");
	free(hl);
	rec = result(&h, "recovery", NULL);
	json_array_foreach(json_object_get(rec, "services"), i, svc)
		if (strcmp(str(svc, "name"), "p") == 0)
			ck_assert_int_eq(num(svc, "restarts_in_window"), 0);
	ck_assert(json_is_false(json_object_get(rec, "recovering")));
	json_decref(rec);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* TERM to a transient worker: it stays down, as after a clean exit. */
START_TEST(test_term_transient)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*list;
	pid_t			 pid;
	char			*hl;

	start(&h, conf_sig);
	pid = pid_of(&h, "t");
	c = subscribe(&h, "service.", "supervisor.", NULL);
	json_decref(sig_call(&h, "'t'", "TERM"));
	list = events_until(c, "service.exited", "t", NULL);
	expect_exited(json_array_get(list, ev_find(list, "service.exited",
	    "t", 0)), pid, 0, "TERM", true);
	/* Nothing more for t, up to the sentinel's return. */
	list = barrier(&h, c, list);
	ck_assert_str_eq(ev_types_of(list, "t"),
	    "service.signaled,service.exited");
	ck_assert_int_eq(ev_count(list, "supervisor.failed", NULL), 0);
	json_decref(list);
	expect_svc(&h, "t", "stopped", -1, 0);
	sup_running(&h, "root");
	ck_assert_str_eq((hl = health(&h)), "degraded");
	free(hl);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* Refused, and nothing sent: r's count of HUPs shows it. */
START_TEST(test_refused)
{
	struct harness	 h;
	json_t		*err;
	char		*text, *path;
	pid_t		 pid;

	start(&h, conf_sig);
	pid = pid_of(&h, "r");
	json_decref(sig_call(&h, "'r'", "HUP"));
	hup_seen(&h, 1, NULL);
	json_decref(result(&h, "service.stop", json_pack("{s:s}", "service",
	    "t")));

	err = expect_error_object(&h, "service.signal", json_pack("{s:o,s:s}",
	    "service", js("['r','t']"), "signal", "HUP"), -32004, "conflict");
	ck_assert_str_eq(str(err, "message"), "t: not running (stopped)");
	json_decref(err);
	err = expect_error_object(&h, "service.signal", json_pack("{s:o,s:s}",
	    "service", js("['r','nope']"), "signal", "HUP"), -32001,
	    "not_found");
	ck_assert_str_eq(str(err, "message"), "no service named 'nope'");
	json_decref(err);
	err = expect_error_object(&h, "service.signal", json_pack("{s:s,s:s}",
	    "service", "r", "signal", "HUPP"), -32602, "invalid_params");
	ck_assert_str_eq(str(err, "message"), "'signal' is not a signal "
	    "(a name such as HUP or SIGHUP, or a number)");
	json_decref(err);
	expect_error(&h, "service.signal", json_pack("{s:s,s:i}", "service",
	    "r", "signal", 0), -32602, "invalid_params");
	expect_error(&h, "service.signal", json_pack("{s:s}", "service", "r"),
	    -32602, "invalid_params");
	expect_error(&h, "service.signal", json_pack("{s:s,s:s,s:b}",
	    "service", "r", "signal", "HUP", "extra", 1), -32602,
	    "invalid_params");

	/* The next HUP is r's second: none of the refused ones came. */
	path = harness_path(&h, "hup");
	text = harness_read_file(path);
	json_decref(sig_call(&h, "['r']", "SIGHUP"));
	hup_seen(&h, 2, text);
	free(text);
	free(path);
	expect_svc(&h, "r", "running", pid, 0);
	stop(&h);
}
END_TEST

/* wardenctl signal: its output and exit statuses. */
START_TEST(test_ctl_signal)
{
	struct harness	 h;
	char		 want[64];
	pid_t		 pid;
	int		 rc;

	start(&h, conf_sig);
	pid = pid_of(&h, "r");
	rc = CTL(&h, "signal", "r", "HUP");
	CHECK_RC(rc, EXIT_OK, "signal r HUP");
	snprintf(want, sizeof(want), "sent HUP to r (pid %ld)\n", (long)pid);
	ck_assert_str_eq(ctl_out, want);
	hup_seen(&h, 1, NULL);
	rc = CTL(&h, "signal", "r", "NOPE");
	CHECK_RC(rc, EXIT_USAGE, "signal r NOPE");
	has(ctl_err, "NOPE is not a signal", "signal r NOPE");
	rc = CTL(&h, "stop", "t");
	CHECK_RC(rc, EXIT_OK, "stop t");
	rc = CTL(&h, "signal", "r", "t", "1");
	CHECK_RC(rc, EXIT_ERROR, "signal r t 1");
	has(ctl_err, "t: not running", "signal r t 1");
	rc = CTL(&h, "-j", "signal", "side", "USR1");
	CHECK_RC(rc, EXIT_OK, "-j signal side USR1");
	has(ctl_out, "\"signaled\"", "-j signal side USR1");
	has(ctl_out, "\"s\"", "-j signal side USR1");
	/* "*" with nothing running: refused too. */
	rc = CTL(&h, "stop", "*");
	CHECK_RC(rc, EXIT_OK, "stop *");
	rc = CTL(&h, "signal", "*", "HUP");
	CHECK_RC(rc, EXIT_ERROR, "signal * HUP");
	has(ctl_err, "no service to signal is running", "signal * HUP");
	stop(&h);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("signal");
	TCase	*tc = tcase_create("signal");

	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_hup_reload);
	tcase_add_test(tc, test_term_permanent);
	tcase_add_test(tc, test_term_transient);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_ctl_signal);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
