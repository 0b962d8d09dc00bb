/*
 * check_supervise_containment.c: one bad service takes nothing else down,
 * with the real daemon: a command that cannot be executed (at start, or
 * broken later) is failed with its reason and retried apart from its
 * supervisor's intensity; warden -n and a reload refuse one up front; a
 * naive configuration outlives a flaky worker; warden out of descriptors
 * is its own problem, not the service's.
 *
 * Configurations are written with ' for " (dq()); no test needs a real '.
 */
#include <sys/resource.h>
#include <sys/stat.h>

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

/* --- containment: one bad service takes nothing else down --------------- */

/*
 * A service whose command cannot be executed, between two healthy ones,
 * under a root with an explicit intensity of 3 in 5 s: warden stays up,
 * the siblings keep their pids, the bad one is failed with the reason and
 * retried every 1, 2, 4... s without touching the root's intensity.
 * "at start" cases are bad from the first start; the others break a
 * working service's command, then kill it.
 */
enum break_how { AT_START, UNLINK, MKDIR, CHMOD };

static const struct {
	const char	*what;
	const char	*tool;		/* DIR/tool's text, mode 0755 */
	const char	*more;		/* more keys of "bad" */
	enum break_how	 how;
	const char	*reason;
} bad_execs[] = {
	{ "script whose interpreter is missing", "#!/nonexistent/sh\n", "",
	    AT_START, "exec: No such file or directory" },
	{ "cwd that does not exist", "#!/bin/sh\nexec @WORKER@\n",
	    ", 'cwd': '@DIR@/nowhere'", AT_START,
	    "cwd: No such file or directory" },
	{ "binary removed", "#!/bin/sh\nexec @WORKER@\n", "", UNLINK,
	    "exec: No such file or directory" },
	{ "binary replaced by a folder", "#!/bin/sh\nexec @WORKER@\n", "",
	    MKDIR, "exec: Permission denied" },
	{ "execute bit removed", "#!/bin/sh\nexec @WORKER@\n", "", CHMOD,
	    "exec: Permission denied" },
};

static void
tool_write(struct harness *h, const char *text)
{
	char	*path = harness_path(h, "tool");

	ck_assert_int_eq(harness_write_file(h, "tool", text), 0);
	ck_assert_int_eq(chmod(path, 0755), 0);
	free(path);
}

/* The next service.failed of bad: its attempt, retry and time. */
static json_t *
next_failed(struct harness_conn *c, json_t *list, const char *reason)
{
	json_t	*ev;
	long long attempt;

	list = events_until(c, "service.failed", "bad", list);
	ev = json_array_get(list, json_array_size(list) - 1);
	ck_assert_msg(str(ev, "reason") != NULL &&
	    strcmp(str(ev, "reason"), reason) == 0, "reason: %s", dump(ev));
	attempt = num(ev, "attempt");
	ck_assert_int_ge(attempt, 1);
	ck_assert_msg(num(ev, "retry_ms") == (attempt >= 7 ? 60000 :
	    1000LL << (attempt - 1)), "retry: %s", dump(ev));
	return list;
}

START_TEST(test_exec_failure_contained)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list = NULL, *ev, *prev, *e, *r;
	const char	*reason = bad_execs[_i].reason;
	char		*out, *path, *conf;
	pid_t		 pa, pb;
	int		 i, from;

	conf = cfg("{ 'supervisor': { 'max_restarts': 3, 'max_seconds': 5,"
	    " 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'] },"
	    " { 'name': 'bad', 'command': ['@DIR@/tool', 'x']%s },"
	    " { 'name': 'b', 'command': ['@WORKER@'] } ] } }",
	    bad_execs[_i].more);
	prepare(&h, conf);
	free(conf);
	tool_write(&h, bad_execs[_i].tool);
	ck_assert_msg(harness_launch(&h) == 0, "warden did not start");
	c = subscribe(&h, NULL);
	pa = pid_of(&h, "a");
	pb = pid_of(&h, "b");
	path = harness_path(&h, "tool");
	switch (bad_execs[_i].how) {
	case AT_START:
		break;
	case UNLINK:
		ck_assert_int_eq(unlink(path), 0);
		break;
	case MKDIR:
		ck_assert_int_eq(unlink(path), 0);
		ck_assert_int_eq(mkdir(path, 0755), 0);
		break;
	case CHMOD:
		ck_assert_int_eq(chmod(path, 0644), 0);
		break;
	}
	if (bad_execs[_i].how != AT_START)
		kill_one(&h, "bad", NULL);

	/* Two failures in a row: the second waited out the first's retry. */
	list = next_failed(c, list, reason);
	from = (int)json_array_size(list);
	list = next_failed(c, list, reason);
	ev = json_array_get(list, json_array_size(list) - 1);
	prev = json_array_get(list, (size_t)ev_find(list, "service.failed",
	    "bad", 0));
	for (i = ev_find(list, "service.failed", "bad", 0) + 1;
	    i < (int)json_array_size(list) - 1; i++)
		if (ev_is(json_array_get(list, i), "service.failed", "bad"))
			prev = json_array_get(list, (size_t)i);
	ck_assert_int_eq(num(ev, "attempt"), num(prev, "attempt") + 1);
	ck_assert_msg(ev_ts(ev) - ev_ts(prev) >= (double)num(prev, "retry_ms") -
	    timer_slack_ms(), "retried %.1f ms after a failure that said %lld",
	    ev_ts(ev) - ev_ts(prev), num(prev, "retry_ms"));
	/* One exit per try, each with the reason; it never started. */
	ck_assert_int_eq(ev_count(list, "service.started", "bad"), 0);
	for (i = from; i < (int)json_array_size(list); i++) {
		e = json_array_get(list, (size_t)i);
		if (ev_is(e, "service.exited", "bad"))
			ck_assert_msg(str(e, "reason") != NULL &&
			    strcmp(str(e, "reason"), reason) == 0,
			    "exited: %s", dump(e));
	}
	ck_assert_int_eq(ev_count(list, "supervisor.failed", NULL), 0);

	/* The siblings never noticed; the root's budget is untouched. */
	expect_svc(&h, "a", "running", pa, 0);
	expect_svc(&h, "b", "running", pb, 0);
	e = service_of(&h, "bad");
	ck_assert_str_eq(str(e, "state"), "failed");
	ck_assert_msg(json_is_null(json_object_get(e, "pid")), "%s", dump(e));
	ck_assert_msg(str(e, "reason") != NULL &&
	    strcmp(str(e, "reason"), reason) == 0, "%s", dump(e));
	json_decref(e);
	e = sup(&h, "root");
	ck_assert_int_le(num(e, "restarts_in_window"),
	    bad_execs[_i].how == AT_START ? 0 : 1);
	ck_assert_str_eq(str(e, "state"), "running");
	json_decref(e);
	r = result(&h, "recovery", NULL);
	ck_assert_msg(strstr(dump(r), reason) != NULL, "recovery: %s", dump(r));
	json_decref(r);
	ck_assert_str_eq(health(&h), "degraded");
	ck_assert_int_eq(harness_ctl(&h, &out, NULL, "status", NULL), 0);
	ck_assert_msg(strstr(out, reason) != NULL, "wardenctl status:\n%s", out);
	free(out);
	ck_assert_int_ne(harness_wait_log(&h, reason, T_WAIT), -1);

	/* A reload that changes it runs the new one at once. */
	if (bad_execs[_i].how == AT_START) {
		write_config(&h, "{ 'supervisor': { 'max_restarts': 3,"
		    " 'max_seconds': 5, 'children': ["
		    " { 'name': 'a', 'command': ['@WORKER@'] },"
		    " { 'name': 'bad', 'command': ['@WORKER@'] },"
		    " { 'name': 'b', 'command': ['@WORKER@'] } ] } }");
		r = result(&h, "config.reload", NULL);
		expect_json(json_object_get(r, "changed"), "[\"bad\"]",
		    "reload");
		json_decref(r);
		wait_state(&h, "bad", "running");
		e = service_of(&h, "bad");
		ck_assert_msg(json_is_null(json_object_get(e, "reason")),
		    "%s", dump(e));
		json_decref(e);
		expect_svc(&h, "a", "running", pa, 0);
		expect_svc(&h, "b", "running", pb, 0);
	}
	/* Mended, an operator's start runs it at once. */
	if (bad_execs[_i].how != AT_START) {
		if (bad_execs[_i].how == MKDIR)
			ck_assert_int_eq(rmdir(path), 0);
		tool_write(&h, bad_execs[_i].tool);
		json_decref(result(&h, "service.start",
		    json_pack("{s:s}", "service", "bad")));
		wait_state(&h, "bad", "running");
		e = service_of(&h, "bad");
		ck_assert_msg(json_is_null(json_object_get(e, "reason")),
		    "%s", dump(e));
		json_decref(e);
	}
	free(path);
	finish_watching(&h, c, list);
}
END_TEST

/* warden -n names the key path of what cannot be run, and exits 1. */
static const struct {
	const char	*what;
	const char	*worker;	/* the second child's keys */
	const char	*err;		/* after "supervisor.children[1]." */
} bad_checks[] = {
	{ "misspelt path", "'command': ['/usr/bin/pyhton3']",
	    "command[0]: /usr/bin/pyhton3: No such file or directory" },
	{ "folder", "'command': ['@DIR@']",
	    "command[0]: @DIR@: is a directory" },
	{ "not executable", "'command': ['@DIR@/warden.json']",
	    "command[0]: @DIR@/warden.json: not executable" },
	{ "not in PATH", "'command': ['pyhton3']",
	    "command[0]: pyhton3: not found in PATH" },
	{ "unknown user", "'command': ['@WORKER@'], 'user': 'no-such-user-w'",
	    "user: unknown user 'no-such-user-w'" },
	{ "unknown group", "'command': ['@WORKER@'], 'group': 'no-such-group-w'",
	    "group: unknown group 'no-such-group-w'" },
};

static char *
at_dir(struct harness *h, const char *s)
{
	char	*out = xstrdup(""), *t;
	const char *p;

	for (p = s; *p != '\0'; p++) {
		if (strncmp(p, "@DIR@", 5) == 0) {
			xasprintf(&t, "%s%s", out, h->dir);
			p += 4;
		} else
			xasprintf(&t, "%s%c", out, *p);
		free(out);
		out = t;
	}
	return out;
}

START_TEST(test_check_refuses_command)
{
	struct harness	 h;
	char		*err, *want, *tail, *conf;
	int		 rc;

	conf = cfg("{ 'supervisor': { 'children': [\n"
	    " { 'name': 'a', 'command': ['@WORKER@'] },\n"
	    " { 'name': 'bad', %s } ] } }\n", bad_checks[_i].worker);
	prepare(&h, conf);
	free(conf);
	{
		const char *const argv[] = { "warden", "-n", "-c", h.config,
		    NULL };

		rc = harness_run(&h, argv, NULL, &err, T_WAIT);
	}
	ck_assert_msg(rc == 1, "%s: warden -n exited %d", bad_checks[_i].what,
	    rc);
	tail = at_dir(&h, bad_checks[_i].err);
	xasprintf(&want, "%s:3:", h.config);
	ck_assert_msg(strstr(err, want) != NULL, "%s: %s", bad_checks[_i].what,
	    err);
	free(want);
	xasprintf(&want, "supervisor.children[1].%s", tail);
	ck_assert_msg(strstr(err, want) != NULL, "%s:\n  got  %s  want %s",
	    bad_checks[_i].what, err, want);
	free(want);
	free(tail);
	free(err);
	harness_cleanup(&h);
}
END_TEST

/* A reload that adds a service that cannot run is refused whole. */
START_TEST(test_reload_refuses_command)
{
	struct harness	 h;
	json_t		*err, *r;
	const char	*msg;
	pid_t		 pa;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'] } ] } }");
	pa = pid_of(&h, "a");
	write_config(&h, "{ 'supervisor': { 'children': [\n"
	    " { 'name': 'a', 'command': ['@WORKER@'] },\n"
	    " { 'name': 'py', 'command': ['/usr/bin/pyhton3', 'x.py'] } ] } }\n");
	err = expect_error_object(&h, "config.reload", NULL, -32602,
	    "invalid_params");
	msg = str(err, "message");
	ck_assert_msg(msg != NULL && strstr(msg, "supervisor.children[1]."
	    "command[0]: /usr/bin/pyhton3: No such file or directory") != NULL,
	    "%s", msg);
	json_decref(err);
	expect_svc(&h, "a", "running", pa, 0);
	r = result(&h, "status", NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r, "services")), 1);
	json_decref(r);
	finish(&h, 0);
}
END_TEST

/* A temporary service that cannot be executed is not tried again. */
START_TEST(test_exec_failure_temporary)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list, *ev, *e;
	pid_t		 ps;

	start_early(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'gate', 'command': ['@WORKER@', '--ready', 'signal',"
	    "   '--grandchild', '@DIR@/gate.pid'], 'ready': 'notify' },"
	    SENTINEL ","
	    " { 'name': 'bad', 'command': ['@WORKER@'], 'restart': 'temporary',"
	    "   'cwd': '@DIR@/nowhere' } ] } }", "gate");
	c = subscribe(&h, NULL);
	usr2_when_set_up(&h, "gate", "gate.pid", 0);
	list = events_until(c, "service.failed", "bad", NULL);
	ev = json_array_get(list, json_array_size(list) - 1);
	ck_assert_str_eq(str(ev, "reason"), "cwd: No such file or directory");
	ck_assert_msg(json_is_null(json_object_get(ev, "retry_ms")), "%s",
	    dump(ev));
	ck_assert_int_eq(harness_wait_ready(&h, T_WAIT), 0);
	ps = pid_of(&h, "s");
	e = service_of(&h, "bad");
	ck_assert_str_eq(str(e, "state"), "failed");
	ck_assert_str_eq(str(e, "reason"), "cwd: No such file or directory");
	json_decref(e);
	expect_svc(&h, "s", "running", ps, 0);
	stop_marked(&h, "gate", "gate.pid");
	finish_watching(&h, c, list);
}
END_TEST

/*
 * The naive config: no backoff, no intensity. A worker that exits at once
 * every time is restarted with a growing delay and warden stays up; the
 * same worker under an explicit 3 in 5 s takes warden down as before.
 */
START_TEST(test_naive_flaky_worker)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list = NULL, *ev;
	long long	 prev = 0, d;
	pid_t		 ps;
	int		 n;

	start(&h, "{ 'supervisor': { 'children': ["
	    SENTINEL ","
	    " { 'name': 'flaky', 'command': ['@WORKER@', '--crash', '1'] } ] } }");
	c = subscribe(&h, NULL);
	ps = pid_of(&h, "s");
	/* Five restarts within about 3 s: past the 3 in 5 s the defaults name. */
	for (n = 1; n <= 5; n++) {
		list = events_until(c, "service.backoff", "flaky", list);
		ev = json_array_get(list, json_array_size(list) - 1);
		d = num(ev, "delay_ms");
		ck_assert_msg(d > prev, "delay %lld after %lld", d, prev);
		ck_assert_int_le(d, 30000);
		prev = d;
	}
	/* Each backoff follows an exit, and a start comes between them. */
	ck_assert_int_ge(ev_count(list, "service.exited", "flaky"), 5);
	ck_assert_int_ge(ev_count(list, "service.started", "flaky"), 4);
	ck_assert_int_eq(ev_count(list, "supervisor.failed", NULL), 0);
	expect_svc(&h, "s", "running", ps, 0);
	ev = sup(&h, "root");
	ck_assert_int_eq(num(ev, "restarts_in_window"), 0);
	json_decref(ev);
	finish_watching(&h, c, list);
}
END_TEST

START_TEST(test_explicit_flaky_worker)
{
	struct harness	 h;
	char		*text, *log;
	int		 st;

	text = cfg("{ 'supervisor': { 'max_seconds': 5, 'children': ["
	    " { 'name': 'flaky', 'command': ['@WORKER@', '--crash', '1'] } ] } }");
	st = harness_start_expect_fail(&h, text, T_WAIT);
	free(text);
	ck_assert_int_eq(st, 3);
	log = log_text(&h);
	ck_assert_msg(strstr(log, "more than 3 restarts in 5 s") != NULL,
	    "%s", log);
	free(log);
	harness_cleanup(&h);
}
END_TEST

/*
 * warden out of descriptors: the worker's restart cannot even make its
 * pipe. That is warden's problem: retried with backoff, said once in the
 * log, never charged to the supervisor (which allows 1 restart here).
 */
START_TEST(test_emfile_at_start)
{
	struct harness	 h;
	struct harness_conn *c;
	struct rlimit	 low, old;
	json_t		*list = NULL, *ev;
	char		*log;
	pid_t		 pw, ps;
	int		 n;

	start(&h, "{ 'supervisor': { 'max_restarts': 1, 'max_seconds': 60,"
	    " 'children': [" SENTINEL ","
	    " { 'name': 'w', 'command': ['@WORKER@'] } ] } }");
	c = subscribe(&h, NULL);
	pw = pid_of(&h, "w");
	ps = pid_of(&h, "s");
	ck_assert_int_eq(prlimit(h.pid, RLIMIT_NOFILE, NULL, &old), 0);
	/* No new descriptor at all: 0, 1 and 2 are taken. */
	low = old;
	low.rlim_cur = 3;
	ck_assert_int_eq(prlimit(h.pid, RLIMIT_NOFILE, &low, NULL), 0);
	ck_assert_int_eq(kill(pw, SIGKILL), 0);
	for (n = 1; n <= 4; n++) {
		list = events_until(c, "service.backoff", "w", list);
		ev = json_array_get(list, json_array_size(list) - 1);
		ck_assert_msg(str(ev, "reason") != NULL && strcmp(str(ev,
		    "reason"), "warden: cannot start: Too many open files") == 0,
		    "%s", dump(ev));
		ck_assert_int_eq(num(ev, "attempt"), n);
	}
	ck_assert_int_eq(prlimit(h.pid, RLIMIT_NOFILE, &old, NULL), 0);
	list = events_until(c, "service.ready", "w", list);
	ck_assert_int_eq(ev_count(list, "supervisor.failed", NULL), 0);
	expect_svc(&h, "s", "running", ps, 0);
	ev = service_of(&h, "w");
	ck_assert_str_eq(str(ev, "state"), "running");
	ck_assert_msg(json_is_null(json_object_get(ev, "reason")), "%s", dump(ev));
	json_decref(ev);
	log = log_text(&h);
	ck_assert_int_eq(count_of(log, "cannot start: Too many open files"), 1);
	free(log);
	finish_watching(&h, c, list);
}
END_TEST

static Suite *
supervise_containment_suite(void)
{
	Suite	*s = suite_create("supervise_containment");
	TCase	*tc;

	tc = tcase_create("containment");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_loop_test(tc, test_exec_failure_contained, 0,
	    (int)nitems(bad_execs));
	tcase_add_loop_test(tc, test_check_refuses_command, 0,
	    (int)nitems(bad_checks));
	tcase_add_test(tc, test_reload_refuses_command);
	tcase_add_test(tc, test_exec_failure_temporary);
	tcase_add_test(tc, test_naive_flaky_worker);
	tcase_add_test(tc, test_explicit_flaky_worker);
	tcase_add_test(tc, test_emfile_at_start);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(supervise_containment_suite)
