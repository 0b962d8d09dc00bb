/*
 * check_supervise_reload.c: config.reload, SIGHUP and systemd's reload
 * with the real daemon: a dry run changes nothing, a reload keeps what is
 * unchanged, restarts what changed, stops what went, starts what came; a
 * file that does not parse is refused whole, where it is wrong; a
 * shutdown waits for what a reload is still stopping.
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

/* --- 16: reload ---------------------------------------------------------- */

static const char reload_v1[] =
	"{ 'supervisor': { 'max_restarts': 10, 'children': ["
	" { 'name': 'keep', 'command': ['@WORKER@'] },"
	" { 'name': 'change', 'command': ['@WORKER@'] },"
	" { 'name': 'gone', 'command': ['@WORKER@'] } ] } }";

static const char reload_v2[] =
	"{ 'supervisor': { 'max_restarts': 10, 'children': ["
	" { 'name': 'keep', 'command': ['@WORKER@'] },"
	" { 'name': 'change', 'command': ['@WORKER@', '--print',"
	"   'change-v2'] },"
	" { 'name': 'new', 'command': ['@WORKER@'] } ] } }";

static void
expect_v2_diff(const json_t *r)
{
	expect_names(r, "added", "[\"new\"]");
	expect_names(r, "removed", "[\"gone\"]");
	expect_names(r, "changed", "[\"change\"]");
	expect_names(r, "unchanged", "[\"root\", \"keep\"]");
}

/* The pids of reload_v1's services, to tell what a reload kept. */
struct reload_v1_pids {
	pid_t	 keep, change, gone;
};

/* warden on reload_v1, and the pids of its services. */
static struct reload_v1_pids
reload_start_v1(struct harness *h)
{
	struct reload_v1_pids	p;

	start(h, reload_v1);
	p.keep = pid_of(h, "keep");
	p.change = pid_of(h, "change");
	p.gone = pid_of(h, "gone");
	return p;
}

/* Nothing was reloaded: v1's services run on, as they were. */
static void
expect_v1_untouched(struct harness *h, const struct reload_v1_pids *v1)
{
	expect_svc(h, "keep", "running", v1->keep, 0);
	expect_svc(h, "change", "running", v1->change, 0);
	expect_svc(h, "gone", "running", v1->gone, 0);
}

/* After v2 is in force: what stayed, what went, what came. */
static void
expect_v2_applied(struct harness *h, const struct reload_v1_pids *v1)
{
	pid_t	 keep = v1->keep, change = v1->change, gone = v1->gone;

	wait_state(h, "new", "running");
	wait_state(h, "change", "running");
	expect_svc(h, "keep", "running", keep, 0);
	ck_assert_int_ne(pid_of(h, "change"), change);
	ck_assert_int_eq(harness_wait_pid_gone(change, T_WAIT), 0);
	ck_assert_int_eq(harness_wait_pid_gone(gone, T_WAIT), 0);
	expect_error(h, "status", json_pack("{s:s}", "service", "gone"),
	    -32001, "not_found");
	ck_assert_int_eq(harness_wait_log(h, "change: change-v2", T_WAIT), 0);
}

START_TEST(test_reload)
{
	struct harness	 h;
	json_t		*r;
	struct reload_v1_pids v1;

	v1 = reload_start_v1(&h);
	write_config(&h, reload_v2);

	r = result(&h, "config.reload", json_pack("{s:b}", "dry_run", 1));
	expect_v2_diff(r);
	json_decref(r);
	/* A dry run changes nothing. */
	expect_v1_untouched(&h, &v1);
	expect_error(&h, "status", json_pack("{s:s}", "service", "new"),
	    -32001, "not_found");

	r = result(&h, "config.reload", NULL);
	expect_v2_diff(r);
	json_decref(r);
	expect_v2_applied(&h, &v1);
	finish(&h, 0);
}
END_TEST

/*
 * SIGHUP reloads too, as systemd's ExecReload= sends it: RELOADING=1,
 * then READY=1 when done.
 */
START_TEST(test_reload_sighup)
{
	struct harness	 h;
	struct reload_v1_pids v1;

	v1 = reload_start_v1(&h);
	write_config(&h, reload_v2);
	harness_log_mark(&h);
	ck_assert_int_eq(harness_signal(&h, SIGHUP), 0);
	ck_assert_msg(harness_wait_notify(&h, "RELOADING=1", T_WAIT) == 0,
	    "no RELOADING=1 on SIGHUP");
	ck_assert_msg(harness_wait_notify(&h, "READY=1", T_WAIT) == 0,
	    "no READY=1 after the reload");
	ck_assert_int_eq(harness_wait_log(&h, "SIGHUP: reloaded", T_WAIT), 0);
	expect_v2_applied(&h, &v1);
	finish(&h, 0);
}
END_TEST

/*
 * A shutdown while services removed by a reload are still stopping waits
 * for them and for the whole tree, whichever is down first: "gone" ignores
 * SIGTERM and takes its 200 ms of grace, "keep" its 600 ms.
 */
START_TEST(test_reload_then_shutdown)
{
	struct harness	 h;
	json_t		*r;
	pid_t		 keep, gone;

	start(&h, "{ 'supervisor': { 'max_restarts': 10, 'children': ["
	    " { 'name': 'keep', 'command': ['@WORKER@', '--ignore-term'"
	    READY_ARGS "], 'shutdown_ms': 600, " SET_UP " },"
	    " { 'name': 'gone', 'command': ['@WORKER@', '--ignore-term'"
	    READY_ARGS "], 'shutdown_ms': 200, " SET_UP " } ] } }");
	keep = pid_of(&h, "keep");
	gone = pid_of(&h, "gone");
	write_config(&h, "{ 'supervisor': { 'max_restarts': 10, 'children': ["
	    " { 'name': 'keep', 'command': ['@WORKER@', '--ignore-term'"
	    READY_ARGS "], 'shutdown_ms': 600, " SET_UP " } ] } }");
	r = result(&h, "config.reload", NULL);
	expect_names(r, "removed", "[\"gone\"]");
	json_decref(r);
	ck_assert(harness_pid_alive(gone));
	finish(&h, 0);
	ck_assert_int_eq(harness_wait_pid_gone(keep, 0), 0);
	ck_assert_int_eq(harness_wait_pid_gone(gone, 0), 0);
}
END_TEST

START_TEST(test_reload_bad_file)
{
	struct harness	 h;
	json_t		*err, *r;
	const char	*msg;
	char		*want, *bad;
	struct reload_v1_pids v1;

	v1 = reload_start_v1(&h);
	/* A stray '@' on line 4, column 7. */
	bad = cfg("{ 'supervisor': {\n"
	    "    'children': [\n"
	    "      { 'name': 'keep', 'command': ['@WORKER@'] }\n"
	    "      @\n"
	    "  ] } }\n");
	ck_assert_int_eq(harness_write_config(&h, bad), 0);
	free(bad);

	err = expect_error_object(&h, "config.reload", NULL, -32602,
	    "invalid_params");
	msg = str(err, "message");
	xasprintf(&want, "%s:4:7:", h.config);
	ck_assert_msg(msg != NULL && strstr(msg, want) != NULL,
	    "error %s does not name %s", msg, want);
	free(want);
	json_decref(err);
	expect_error(&h, "config.reload", json_pack("{s:b}", "dry_run",
	    1), -32602, "invalid_params");

	/* Nor does SIGHUP take it. */
	harness_log_mark(&h);
	ck_assert_int_eq(harness_signal(&h, SIGHUP), 0);
	ck_assert_int_eq(harness_wait_log(&h, "reload refused", T_WAIT), 0);

	expect_v1_untouched(&h, &v1);
	r = result(&h, "status", NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r, "services")), 3);
	ck_assert_str_eq(str(r, "health"), "ok");
	json_decref(r);
	finish(&h, 0);
}
END_TEST

static Suite *
supervise_reload_suite(void)
{
	Suite	*s = suite_create("supervise_reload");
	TCase	*tc;

	tc = tcase_create("reload");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_reload_sighup);
	tcase_add_test(tc, test_reload_then_shutdown);
	tcase_add_test(tc, test_reload_bad_file);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(supervise_reload_suite)
