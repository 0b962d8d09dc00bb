/*
 * check_cli_names.c: the operator's commands on several services at once,
 * with the real warden: start, stop and restart of a list, of "*" and of a
 * supervisor's subtree, all or nothing; status of several names and
 * wardenctl's exit status for scripts; subscribe's refusal of a topic no
 * event has; stage.get's limit on its history.
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

#define EXIT_NOT_OK	6	/* status: not ok, or not running and ready */

/* a, b, and the supervisor grp of x then y, everyone ready when started. */
static const char conf_grp[] =
    "{ 'supervisor': { 'max_restarts': 20, 'max_seconds': 60,"
    "  'children': ["
    "  { 'name': 'a', 'command': ['@WORKER@'" READY_ARGS "]," SET_UP " },"
    "  { 'name': 'b', 'command': ['@WORKER@'" READY_ARGS "]," SET_UP " },"
    "  { 'name': 'grp', 'children': ["
    "    { 'name': 'x', 'command': ['@WORKER@'" READY_ARGS "]," SET_UP " },"
    "    { 'name': 'y', 'command': ['@WORKER@'" READY_ARGS "]," SET_UP " }"
    "  ] } ] } }";

/* The names of an answer's "services", in order: "a,b"; malloc'd. */
static char *
names_of(const json_t *r)
{
	json_t	*svc;
	size_t	 i, len = 1;
	char	*out;

	json_array_foreach(json_object_get(r, "services"), i, svc)
		len += strlen(str(svc, "name")) + 1;
	out = calloc(1, len);
	ck_assert_ptr_nonnull(out);
	json_array_foreach(json_object_get(r, "services"), i, svc) {
		if (i > 0)
			strcat(out, ",");
		strcat(out, str(svc, "name"));
	}
	return out;
}

/* Every service of an answer is in state. */
static void
all_in(const json_t *r, const char *state)
{
	json_t	*svc;
	size_t	 i;

	ck_assert_int_gt(json_array_size(json_object_get(r, "services")), 0);
	json_array_foreach(json_object_get(r, "services"), i, svc)
		ck_assert_msg(strcmp(str(svc, "state"), state) == 0,
		    "%s: %s, want %s", str(svc, "name"), str(svc, "state"),
		    state);
}

static void
answer_is(const json_t *r, const char *names, const char *state)
{
	char	*got = names_of(r);

	ck_assert_str_eq(got, names);
	free(got);
	all_in(r, state);
}

/* service.<op> of the names (JSON, ' for "); the answer. */
static json_t *
op(struct harness *h, const char *method, const char *names)
{
	return result(h, method, json_pack("{s:o}", "service", js(names)));
}

/* --- several names, "*" -------------------------------------------------- */

START_TEST(test_list_and_all)
{
	struct harness	 h;
	json_t		*r;
	pid_t		 a, b, a2, b2;
	char		*hl;

	start(&h, conf_grp);
	a = pid_of(&h, "a");
	b = pid_of(&h, "b");

	/* Answered once both are down, each as one name would be. */
	r = op(&h, "service.stop", "['a','b']");
	answer_is(r, "a,b", "stopped");
	json_decref(r);
	ck_assert_int_eq(harness_wait_pid_gone(a, T_WAIT), 0);
	ck_assert_int_eq(harness_wait_pid_gone(b, T_WAIT), 0);
	ck_assert_str_eq(state_of(&h, "x"), "running");

	/* Named twice, or named and under a supervisor named: once. */
	r = op(&h, "service.start", "['b','a','b']");
	answer_is(r, "a,b", "running");
	json_decref(r);

	r = op(&h, "service.restart", "['a','b']");
	answer_is(r, "a,b", "running");
	json_decref(r);
	a2 = pid_of(&h, "a");
	b2 = pid_of(&h, "b");
	ck_assert_int_ne(a2, a);
	ck_assert_int_ne(b2, b);
	ck_assert_int_eq(field_of(&h, "a", "restarts"), 2);

	/* "*": every service, the root's children and what is under them. */
	r = op(&h, "service.stop", "'*'");
	answer_is(r, "a,b,x,y", "stopped");
	json_decref(r);
	ck_assert_str_eq((hl = health(&h)), "degraded");
	free(hl);
	r = op(&h, "service.start", "'*'");
	answer_is(r, "a,b,x,y", "running");
	json_decref(r);
	ck_assert_str_eq((hl = health(&h)), "ok");
	free(hl);
	stop(&h);
}
END_TEST

/* --- a supervisor: its subtree, in its order -------------------------------- */

START_TEST(test_subtree)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*r, *list;
	pid_t			 a;
	char			*seq;

	start(&h, conf_grp);
	a = pid_of(&h, "a");
	c = subscribe(&h, "service.", NULL);

	/* Down last to first, up first to last, as its supervisor does it. */
	r = op(&h, "service.stop", "['grp']");
	answer_is(r, "x,y", "stopped");
	json_decref(r);
	list = events_until(c, "service.exited", "x", NULL);
	ck_assert_str_eq((seq = ev_seq(list, "service.exited")), "y,x");
	free(seq);
	json_decref(list);
	ck_assert_str_eq(str(sup(&h, "grp"), "state"), "stopped");
	ck_assert_int_eq(pid_of(&h, "a"), a);

	r = op(&h, "service.start", "['grp','a']");
	answer_is(r, "a,x,y", "running");
	json_decref(r);
	list = events_until(c, "service.ready", "y", NULL);
	ck_assert_str_eq((seq = ev_seq(list, "service.started")), "x,y");
	free(seq);
	json_decref(list);
	/* a was running: started again is nothing to do. */
	ck_assert_int_eq(pid_of(&h, "a"), a);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/*
 * A stop of several still under way when warden reexecutes: the new image
 * answers it, once each is down, on the same connection.
 */
START_TEST(test_many_across_reexec)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*r, *res;
	long long		 id;
	pid_t			 slow;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'k', 'command': ['@WORKER@'] },"
	    " { 'name': 'slow', 'command': ['@WORKER@', '--linger-term', '3000'"
	    READY_ARGS "], 'shutdown_ms': 10000," SET_UP " } ] } }");
	slow = pid_of(&h, "slow");
	c = harness_conn_open(&h);
	ck_assert_ptr_nonnull(c);
	id = harness_conn_request(c, "service.stop", json_pack("{s:o}",
	    "service", js("['k','slow']")));
	ck_assert_int_gt(id, 0);
	wait_state(&h, "slow", "stopping");
	r = harness_call_timeout(&h, "reexec", NULL, 30000);
	ck_assert_msg(r != NULL && json_object_get(r, "result") != NULL,
	    "reexec: %s", dump(r));
	json_decref(r);
	/* Handed over unanswered: slow takes its time to die. */
	ck_assert(harness_pid_alive(slow));
	ck_assert_int_eq(harness_wait_log(&h, "client(s) handed over",
	    T_WAIT), 0);
	r = harness_read_response(c, id, 3 * T_WAIT);
	ck_assert_msg(r != NULL, "no answer to the stop after the reexec");
	res = json_object_get(r, "result");
	ck_assert_msg(res != NULL, "stop: %s", dump(r));
	answer_is(res, "k,slow", "stopped");
	json_decref(r);
	ck_assert(!harness_pid_alive(slow));
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* --- all or nothing --------------------------------------------------------------- */

START_TEST(test_all_or_nothing)
{
	struct harness	 h;
	json_t		*err;
	pid_t		 a, b;

	start(&h, conf_grp);
	a = pid_of(&h, "a");
	b = pid_of(&h, "b");

	/* An unknown name among good ones: named, and nothing is done. */
	err = expect_error_object(&h, "service.stop", json_pack("{s:o}",
	    "service", js("['a','nope','b']")), -32001, "not_found");
	ck_assert_str_eq(str(err, "message"), "no service named 'nope'");
	json_decref(err);
	expect_error(&h, "service.restart", json_pack("{s:o}", "service",
	    js("['a','grp','']")), -32001, "not_found");
	/* One that may not be stopped: refused before any other is. */
	err = expect_error_object(&h, "service.stop", json_pack("{s:o}",
	    "service", js("['a','root']")), -32004, "conflict");
	ck_assert_str_eq(str(err, "message"),
	    "root: the root supervisor cannot be stopped; use shutdown");
	json_decref(err);
	/* Not a name, nor a list of names. */
	expect_error(&h, "service.start", json_pack("{s:o}", "service",
	    js("[]")), -32602, "invalid_params");
	expect_error(&h, "service.stop", json_pack("{s:o}", "service",
	    js("['a',1]")), -32602, "invalid_params");
	expect_error(&h, "service.stop", json_pack("{s:o}", "service",
	    js("{}")), -32602, "invalid_params");

	expect_svc(&h, "a", "running", a, 0);
	expect_svc(&h, "b", "running", b, 0);
	ck_assert(harness_pid_alive(a));
	stop(&h);
}
END_TEST

/* --- wardenctl: several names, status's exit -------------------------------------- */

START_TEST(test_ctl_names)
{
	struct harness	 h;
	json_t		*v;
	int		 rc;

	start(&h, conf_grp);
	rc = CTL(&h, "stop", "a", "b");
	CHECK_RC(rc, EXIT_OK, "stop a b");
	ck_assert_str_eq(ctl_out, "a: stopped\nb: stopped\n");
	rc = CTL(&h, "stop", "a", "nope");
	CHECK_RC(rc, EXIT_ERROR, "stop a nope");
	has(ctl_err, "no service named 'nope'", "stop a nope");

	/* Running and ready, each named: 0; one stopped: 6, table printed. */
	rc = CTL(&h, "status", "x", "y");
	CHECK_RC(rc, EXIT_OK, "status x y");
	rc = CTL(&h, "status", "x", "a");
	CHECK_RC(rc, EXIT_NOT_OK, "status x a");
	has(ctl_out, "stopped", "status x a");
	has(ctl_out, "running", "status x a");
	rc = CTL(&h, "-j", "status", "a", "grp");
	CHECK_RC(rc, EXIT_NOT_OK, "-j status a grp");
	v = parse_output(ctl_out, "-j status a grp");
	ck_assert_int_eq(json_array_size(json_object_get(v, "services")), 1);
	ck_assert_int_eq(json_array_size(json_object_get(v, "supervisors")),
	    1);
	json_decref(v);
	/* Health degraded: 6. */
	rc = CTL(&h, "status");
	CHECK_RC(rc, EXIT_NOT_OK, "status");
	has(ctl_out, "health degraded", "status");
	rc = CTL(&h, "status", "a", "nope");
	CHECK_RC(rc, EXIT_ERROR, "status a nope");

	rc = CTL(&h, "start", "*");
	CHECK_RC(rc, EXIT_OK, "start *");
	/* A line each, in the tree's order. */
	ck_assert_int_eq(count_of(ctl_out, ": running, pid "), 4);
	ck_assert_ptr_eq(strstr(ctl_out, "a: running"), ctl_out);
	ck_assert_ptr_nonnull(strstr(ctl_out, "\ny: running"));
	stop(&h);
}
END_TEST

START_TEST(test_ctl_status_failed)
{
	struct harness	 h;
	int		 rc;

	/* A temporary worker that crashes: failed for good. */
	start(&h, "{ 'supervisor': { 'max_restarts': 20, 'max_seconds': 60,"
	    "  'children': ["
	    "  { 'name': 'a', 'command': ['@WORKER@'" READY_ARGS "]," SET_UP " },"
	    "  { 'name': 'bad', 'restart': 'temporary',"
	    "    'command': ['@WORKER@', '--crash', '3'] } ] } }");
	wait_state(&h, "bad", "failed");
	rc = CTL(&h, "status");
	CHECK_RC(rc, EXIT_NOT_OK, "status");
	rc = CTL(&h, "status", "bad");
	CHECK_RC(rc, EXIT_NOT_OK, "status bad");
	has(ctl_out, "failed", "status bad");
	rc = CTL(&h, "status", "a");
	CHECK_RC(rc, EXIT_OK, "status a");
	rc = CTL(&h, "-j", "status", "a", "bad");
	CHECK_RC(rc, EXIT_NOT_OK, "-j status a bad");
	stop(&h);
}
END_TEST

/* --- events: a topic no event has ------------------------------------------------ */

START_TEST(test_unknown_topic)
{
	struct harness	 h;
	json_t		*err;
	char		*bad;
	int		 rc;

	start(&h, conf_grp);
	err = expect_error_object(&h, "subscribe", json_pack("{s:o}", "topics",
	    js("['service.exited','servce']")), -32602, "invalid_params");
	ck_assert_str_eq(str(err, "message"), "unknown topic 'servce': "
	    "neither an event type nor a prefix of one ending at a dot");
	json_decref(err);
	json_decref(result(&h, "subscribe", json_pack("{s:o}", "topics",
	    js("['service','flag.','table.repaired']"))));

	/* Refused before connecting: no warden is needed to say so. */
	rc = CTL(&h, "events", "service", "servce");
	CHECK_RC(rc, EXIT_USAGE, "events service servce");
	has(ctl_err, "servce: unknown topic", "events servce");
	bad = harness_path(&h, "no.sock");
	forget();
	{
		const char *const argv[] = { "wardenctl", "-S", bad, "events",
		    "nope", NULL };

		rc = ctl_run(&h, argv);
	}
	CHECK_RC(rc, EXIT_USAGE, "events nope, no warden");
	free(bad);
	stop(&h);
}
END_TEST

/* --- stage.get's limit -------------------------------------------------------------- */

START_TEST(test_stage_limit)
{
	static const char *const bad[] = { "-1", "'2'", "1.5", "1000001",
	    "9223372036854775807", "null", "true" };
	struct harness	 h;
	json_t		*r, *err;
	size_t		 i;
	int		 rc;

	start(&h, "{ 'flags': { 'f': { 'default': false },"
	    " 'g': { 'default': false } },"
	    " 'stages': [ { 'stage': 1, 'enable': ['f'] },"
	    "  { 'stage': 2, 'enable': ['g'] } ],"
	    " 'supervisor': { 'children': ["
	    "  { 'name': 'a', 'command': ['@WORKER@'] } ] } }");
	json_decref(result(&h, "stage.set", json_pack("{s:i}", "stage", 1)));
	json_decref(result(&h, "stage.set", json_pack("{s:i}", "stage", 2)));
	json_decref(result(&h, "stage.rollback", json_pack("{s:i}", "stage",
	    1)));

	r = result(&h, "stage.get", NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r, "history")), 3);
	json_decref(r);
	/* The last N, newest last, as the whole is. */
	r = result(&h, "stage.get", json_pack("{s:i}", "limit", 2));
	ck_assert_int_eq(json_array_size(json_object_get(r, "history")), 2);
	ck_assert_int_eq(num(json_array_get(json_object_get(r, "history"), 1),
	    "to"), 1);
	ck_assert_int_eq(num(json_array_get(json_object_get(r, "history"), 0),
	    "to"), 2);
	json_decref(r);
	r = result(&h, "stage.get", json_pack("{s:i}", "limit", 0));
	ck_assert_int_eq(json_array_size(json_object_get(r, "history")), 0);
	json_decref(r);
	r = result(&h, "stage.get", json_pack("{s:i}", "limit", 100));
	ck_assert_int_eq(json_array_size(json_object_get(r, "history")), 3);
	json_decref(r);
	for (i = 0; i < nitems(bad); i++) {
		err = expect_error_object(&h, "stage.get", json_pack("{s:o}",
		    "limit", js(bad[i])), -32602, "invalid_params");
		ck_assert_str_eq(str(err, "message"),
		    "'limit' must be an integer from 0 to 1000000");
		json_decref(err);
	}

	rc = CTL(&h, "-j", "stage", "-n", "1");
	CHECK_RC(rc, EXIT_OK, "-j stage -n 1");
	r = parse_output(ctl_out, "-j stage -n 1");
	ck_assert_int_eq(json_array_size(json_object_get(r, "history")), 1);
	json_decref(r);
	rc = CTL(&h, "stage", "get", "--limit", "2");
	CHECK_RC(rc, EXIT_OK, "stage get --limit 2");
	rc = CTL(&h, "stage", "-n", "x");
	CHECK_RC(rc, EXIT_USAGE, "stage -n x");
	has(ctl_err, "-n: x is not a number", "stage -n x");
	rc = CTL(&h, "stage", "-n", "5000000");
	CHECK_RC(rc, EXIT_USAGE, "stage -n 5000000");
	stop(&h);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("cli_names");
	TCase	*tc = tcase_create("names");

	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_list_and_all);
	tcase_add_test(tc, test_subtree);
	tcase_add_test(tc, test_many_across_reexec);
	tcase_add_test(tc, test_all_or_nothing);
	tcase_add_test(tc, test_ctl_names);
	tcase_add_test(tc, test_ctl_status_failed);
	tcase_add_test(tc, test_unknown_topic);
	tcase_add_test(tc, test_stage_limit);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
