/*
 * check_control_services.c: the methods that act on services, against the
 * real daemon: service.kill (all, a list, unknown names, signals),
 * status, the recovery of a restart budget, and shutdown.
 */
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "util.h"
#include "version.h"
#include "controltest.h"
#include "suite.h"

/* --- service.kill --------------------------------------------------------- */

START_TEST(test_kill_all)
{
	static const char *const names[] = { "a", "b", "c" };
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*r;
	pid_t			 pids[3];
	size_t			 i;

	start(&h, ct_conf_abc);
	for (i = 0; i < 3; i++)
		pids[i] = pid_of(&h, names[i]);
	sub = subscribe(&h, NULL);
	r = result(&h, "service.kill", json_pack("{s:s}", "service", "*"));
	ct_check_killed(r, 3, names, pids);
	ck_assert_str_eq(json_string_value(json_object_get(r, "signal")),
	    "KILL");
	json_decref(r);
	ct_await_exits(sub, 3, names, pids);
	ct_await_recovered(&h);
	for (i = 0; i < 3; i++) {
		ck_assert_int_ne(pid_of(&h, names[i]), pids[i]);
		ck_assert(!harness_pid_alive(pids[i]));
	}
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

START_TEST(test_kill_list)
{
	static const char *const names[] = { "a", "c" };
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*r;
	pid_t			 pids[2], pid_b;

	start(&h, ct_conf_abc);
	pids[0] = pid_of(&h, "a");
	pids[1] = pid_of(&h, "c");
	pid_b = pid_of(&h, "b");
	sub = subscribe(&h, NULL);
	r = result(&h, "service.kill", json_pack("{s:[s,s]}", "service", "a",
	    "c"));
	ct_check_killed(r, 2, names, pids);
	json_decref(r);
	ct_await_exits(sub, 2, names, pids);
	ct_await_recovered(&h);
	ck_assert_int_ne(pid_of(&h, "a"), pids[0]);
	ck_assert_int_ne(pid_of(&h, "c"), pids[1]);
	/* b was not in the list: the barrier shows it was left alone. */
	ct_kill_and_recover(&h, sub, "a");
	ck_assert(harness_pid_alive(pid_b));
	r = service_of(&h, "b");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "pid")), pid_b);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "restarts")), 0);
	json_decref(r);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* After the barrier: a and c still have the pids they had, never restarted. */
static void
check_untouched(struct harness *h, pid_t pid_a, pid_t pid_c)
{
	json_t	*s;

	ck_assert(harness_pid_alive(pid_a));
	ck_assert(harness_pid_alive(pid_c));
	s = service_of(h, "a");
	ck_assert_int_eq(json_integer_value(json_object_get(s, "pid")), pid_a);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "restarts")), 0);
	ck_assert_msg(json_is_null(json_object_get(s, "last_exit")),
	    "a has exited");
	json_decref(s);
	s = service_of(h, "c");
	ck_assert_int_eq(json_integer_value(json_object_get(s, "pid")), pid_c);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "restarts")), 0);
	json_decref(s);
}

START_TEST(test_kill_unknown_in_list)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*resp;
	pid_t			 pid_a, pid_c;

	start(&h, ct_conf_abc);
	pid_a = pid_of(&h, "a");
	pid_c = pid_of(&h, "c");
	sub = subscribe(&h, NULL);
	resp = ct_call(&h, "service.kill", json_pack("{s:[s,s,s]}", "service",
	    "a", "nope", "c"));
	ct_check_error(resp, -32001, "not_found",
	    json_integer_value(json_object_get(resp, "id")));
	ck_assert_msg(strstr(ct_error_message(resp), "nope") != NULL,
	    "the message does not name the unknown service: %s",
	    ct_error_message(resp));
	json_decref(resp);
	/* Bad lists: nothing killed either. */
	resp = ct_call(&h, "service.kill", json_pack("{s:[]}", "service"));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	resp = ct_call(&h, "service.kill", json_pack("{s:[s,i]}", "service",
	    "a", 1));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	resp = ct_call(&h, "service.kill", NULL);
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	resp = ct_call(&h, "service.kill", json_pack("{s:s}", "service",
	    "nope"));
	ck_assert_int_eq(harness_error_code(resp), -32001);
	json_decref(resp);

	ct_kill_and_recover(&h, sub, "b");
	check_untouched(&h, pid_a, pid_c);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

START_TEST(test_kill_signals)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*sigs[3], *r, *ev, *resp;
	const char		*names[1] = { "a" };
	pid_t			 pid, pid_c;
	size_t			 i;

	start(&h, ct_conf_abc);
	sub = subscribe(&h, NULL);
	sigs[0] = json_string("TERM");
	sigs[1] = json_string("SIGTERM");
	sigs[2] = json_integer(15);
	for (i = 0; i < nitems(sigs); i++) {
		pid = pid_of(&h, "a");
		r = result(&h, "service.kill", json_pack("{s:s,s:o}", "service",
		    "a", "signal", sigs[i]));
		ct_check_killed(r, 1, names, &pid);
		ck_assert_str_eq(json_string_value(json_object_get(r,
		    "signal")), "TERM");
		json_decref(r);
		ev = harness_wait_event(sub, "service.exited", "a", CALL_MS);
		ck_assert_ptr_nonnull(ev);
		ck_assert_int_eq(json_integer_value(json_object_get(ev, "pid")),
		    pid);
		ck_assert_str_eq(json_string_value(json_object_get(ev,
		    "signal")), "TERM");
		json_decref(ev);
		ct_await_recovered(&h);
		ck_assert_int_ne(pid_of(&h, "a"), pid);
	}

	pid = pid_of(&h, "a");
	pid_c = pid_of(&h, "c");
	resp = ct_call(&h, "service.kill", json_pack("{s:s,s:s}", "service",
	    "a", "signal", "BOGUS"));
	ct_check_error(resp, -32602, "invalid_params",
	    json_integer_value(json_object_get(resp, "id")));
	json_decref(resp);
	resp = ct_call(&h, "service.kill", json_pack("{s:s,s:i}", "service",
	    "*", "signal", 0));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	resp = ct_call(&h, "service.kill", json_pack("{s:s,s:i}", "service",
	    "*", "signal", 1000));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	resp = ct_call(&h, "service.kill", json_pack("{s:s,s:b}", "service",
	    "*", "signal", 1));
	ck_assert_int_eq(harness_error_code(resp), -32602);
	json_decref(resp);
	ct_kill_and_recover(&h, sub, "b");
	ck_assert(harness_pid_alive(pid));
	ck_assert(harness_pid_alive(pid_c));
	ck_assert_int_eq(pid_of(&h, "a"), pid);
	ck_assert_int_eq(pid_of(&h, "c"), pid_c);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* --- status --------------------------------------------------------------- */

static void
check_service_entry(json_t *s, const char *name, const char *path)
{
	json_t	*pid = json_object_get(s, "pid");

	ck_assert_str_eq(json_string_value(json_object_get(s, "name")), name);
	ck_assert_str_eq(json_string_value(json_object_get(s, "path")), path);
	ck_assert_str_eq(json_string_value(json_object_get(s, "state")),
	    "running");
	ck_assert_msg(json_is_integer(pid) && json_integer_value(pid) > 0,
	    "%s: no pid", name);
	ck_assert_msg(json_is_true(json_object_get(s, "ready")),
	    "%s: not ready", name);
	ck_assert_msg(json_is_integer(json_object_get(s, "uptime_ms")),
	    "%s: uptime_ms", name);
	ck_assert_int_ge(json_integer_value(json_object_get(s, "uptime_ms")),
	    0);
	ck_assert_msg(json_is_integer(json_object_get(s, "restarts")),
	    "%s: restarts", name);
	ck_assert_int_eq(json_integer_value(json_object_get(s, "restarts")), 0);
	ck_assert_msg(json_object_get(s, "last_exit") != NULL,
	    "%s: no last_exit", name);
	ck_assert_msg(json_is_null(json_object_get(s, "last_exit")),
	    "%s: last_exit before any exit", name);
	ck_assert(harness_pid_alive((pid_t)json_integer_value(pid)));
}

static json_t *
find_named(json_t *list, const char *name)
{
	json_t		*e;
	const char	*n;
	size_t		 i;

	json_array_foreach(list, i, e) {
		n = json_string_value(json_object_get(e, "name"));
		if (n != NULL && strcmp(n, name) == 0)
			return e;
	}
	ck_abort_msg("%s is not listed", name);
	return NULL;
}

START_TEST(test_status)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*r, *svcs, *sups, *s, *kids;
	pid_t			 pid;

	start(&h, ct_conf_abc);
	r = result(&h, "status", NULL);
	ck_assert_str_eq(json_string_value(json_object_get(r, "health")), "ok");
	ck_assert_msg(json_is_integer(json_object_get(r, "stage")),
	    "status: no stage");
	svcs = json_object_get(r, "services");
	sups = json_object_get(r, "supervisors");
	ck_assert_uint_eq(json_array_size(svcs), 3);
	check_service_entry(find_named(svcs, "a"), "a", "/a");
	check_service_entry(find_named(svcs, "b"), "b", "/b");
	check_service_entry(find_named(svcs, "c"), "c", "/grp/c");
	ck_assert_uint_eq(json_array_size(sups), 2);
	s = find_named(sups, "grp");
	ck_assert_str_eq(json_string_value(json_object_get(s, "path")), "/grp");
	ck_assert_str_eq(json_string_value(json_object_get(s, "state")),
	    "running");
	ck_assert_str_eq(json_string_value(json_object_get(s, "strategy")),
	    "one_for_one");
	ck_assert_int_eq(json_integer_value(json_object_get(s,
	    "max_restarts")), 20);
	ck_assert_int_eq(json_integer_value(json_object_get(s,
	    "max_seconds")), 60);
	ck_assert_int_eq(json_integer_value(json_object_get(s,
	    "restarts_in_window")), 0);
	kids = json_object_get(s, "children");
	ck_assert_uint_eq(json_array_size(kids), 1);
	ck_assert_str_eq(json_string_value(json_array_get(kids, 0)), "c");
	s = json_array_get(sups, 0);
	ck_assert_str_eq(json_string_value(json_object_get(s, "path")), "/");
	ck_assert_uint_eq(json_array_size(json_object_get(s, "children")), 3);
	json_decref(r);

	/* One service only. */
	r = result(&h, "status", json_pack("{s:s}", "service", "b"));
	ck_assert_str_eq(json_string_value(json_object_get(r, "health")), "ok");
	svcs = json_object_get(r, "services");
	ck_assert_uint_eq(json_array_size(svcs), 1);
	check_service_entry(json_array_get(svcs, 0), "b", "/b");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "supervisors")),
	    0);
	json_decref(r);
	r = result(&h, "status", json_pack("{s:s}", "service", "grp"));
	ck_assert_uint_eq(json_array_size(json_object_get(r, "services")), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(r, "supervisors")),
	    1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(r, "supervisors"), 0), "name")), "grp");
	json_decref(r);

	/* After a kill: its last exit and a restart. */
	sub = subscribe(&h, NULL);
	pid = pid_of(&h, "b");
	ct_kill_and_recover(&h, sub, "b");
	s = service_of(&h, "b");
	ck_assert_int_eq(json_integer_value(json_object_get(s, "restarts")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(s,
	    "last_exit"), "signal")), "KILL");
	ck_assert_int_ne(json_integer_value(json_object_get(s, "pid")), pid);
	json_decref(s);
	r = result(&h, "status", NULL);
	ck_assert_str_eq(json_string_value(json_object_get(r, "health")), "ok");
	s = json_array_get(json_object_get(r, "supervisors"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(s,
	    "restarts_in_window")), 1);
	json_decref(r);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* --- recovery ------------------------------------------------------------- */

static void
check_budget(json_t *e, const char *name, int restarts, int in_window)
{
	ck_assert_str_eq(json_string_value(json_object_get(e, "name")), name);
	ck_assert_str_eq(json_string_value(json_object_get(e, "state")),
	    "running");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "restarts")),
	    restarts);
	ck_assert_msg(json_is_integer(json_object_get(e, "restarts_in_window")),
	    "%s: restarts_in_window", name);
	ck_assert_int_eq(json_integer_value(json_object_get(e,
	    "restarts_in_window")), in_window);
	/* The root allows 5: what is used and what is left make 5. */
	ck_assert_int_eq(json_integer_value(json_object_get(e, "budget_left")),
	    5 - in_window);
	ck_assert_msg(json_object_get(e, "down_since") != NULL &&
	    json_is_null(json_object_get(e, "down_since")),
	    "%s: down_since while up", name);
	ck_assert_msg(json_object_get(e, "last_recovery_ms") != NULL,
	    "%s: no last_recovery_ms", name);
}

START_TEST(test_recovery)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*r, *list, *e;

	start(&h, ct_conf_budget);
	r = result(&h, "recovery", NULL);
	ck_assert_msg(json_is_false(json_object_get(r, "recovering")),
	    "recovering after start");
	ck_assert_msg(json_is_array(json_object_get(r, "failed")),
	    "failed is not a list");
	ck_assert_uint_eq(json_array_size(json_object_get(r, "failed")), 0);
	list = json_object_get(r, "services");
	ck_assert_uint_eq(json_array_size(list), 2);
	e = find_named(list, "a");
	check_budget(e, "a", 0, 0);
	ck_assert(json_is_null(json_object_get(e, "last_recovery_ms")));
	check_budget(find_named(list, "b"), "b", 0, 0);
	json_decref(r);

	sub = subscribe(&h, NULL);
	ct_kill_and_recover(&h, sub, "a");
	r = result(&h, "recovery", NULL);
	ck_assert(json_is_false(json_object_get(r, "recovering")));
	ck_assert_uint_eq(json_array_size(json_object_get(r, "failed")), 0);
	list = json_object_get(r, "services");
	e = find_named(list, "a");
	check_budget(e, "a", 1, 1);
	ck_assert_msg(json_is_integer(json_object_get(e, "last_recovery_ms")),
	    "a: last_recovery_ms is not a number after a recovery");
	ck_assert_int_ge(json_integer_value(json_object_get(e,
	    "last_recovery_ms")), 0);
	/* b shares the root's window but has not recovered from anything. */
	e = find_named(list, "b");
	check_budget(e, "b", 0, 1);
	ck_assert(json_is_null(json_object_get(e, "last_recovery_ms")));
	json_decref(r);

	ct_kill_and_recover(&h, sub, "b");
	r = result(&h, "recovery", NULL);
	list = json_object_get(r, "services");
	check_budget(find_named(list, "a"), "a", 1, 2);
	check_budget(find_named(list, "b"), "b", 1, 2);
	ck_assert(json_is_integer(json_object_get(find_named(list, "b"),
	    "last_recovery_ms")));
	json_decref(r);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* --- shutdown ------------------------------------------------------------- */

START_TEST(test_shutdown)
{
	struct harness	 h;
	json_t		*r;
	pid_t		 pid_a, pid_c;

	start(&h, ct_conf_abc);
	pid_a = pid_of(&h, "a");
	pid_c = pid_of(&h, "c");
	r = result(&h, "shutdown", NULL);
	ck_assert_msg(json_is_object(r), "shutdown: result is not an object");
	ck_assert_msg(json_is_true(json_object_get(r, "stopping")),
	    "shutdown: stopping is not true");
	json_decref(r);
	ck_assert_int_eq(harness_wait_exit(&h, HARNESS_STOP_TIMEOUT), 0);
	ck_assert_int_eq(harness_wait_pid_gone(pid_a, CALL_MS), 0);
	ck_assert_int_eq(harness_wait_pid_gone(pid_c, CALL_MS), 0);
	stop(&h);
}
END_TEST

static Suite *
control_services_suite(void)
{
	Suite	*s = suite_create("control_services");
	TCase	*tc = tcase_create("control_services");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_kill_all);
	tcase_add_test(tc, test_kill_list);
	tcase_add_test(tc, test_kill_unknown_in_list);
	tcase_add_test(tc, test_kill_signals);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_recovery);
	tcase_add_test(tc, test_shutdown);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(control_services_suite)
