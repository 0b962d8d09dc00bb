/*
 * check_flags.c: migration stages and the guard (src/core/flags.c,
 * flags-ops.c): the demo's initial state, cumulative stages, the saved
 * sets a rollback restores, emergency, the stage errors the protocol maps,
 * the capped history, and the guard that rolls a stage back when workers
 * restart too often after it. Every change goes through try_op()
 * (flagcoretest.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "flagcoretest.h"
#include "flags.h"
#include "suite.h"
#include "util.h"

/* --- the state ------------------------------------------------------------------- */

START_TEST(test_initial)
{
	ck_assert_uint_eq(fs->nflags, NDEMO);
	ck_assert_int_eq(fs->nstages, 4);
	expect_stage_values(0, 25, 100);
	check_json(flags_flag_json(fs, 0), "{\"name\": \"use_ets_agent_registry\","
	    " \"value\": false, \"default\": false, \"description\": "
	    "\"agents in ETS\", \"changed_at\": null, \"changed_by\": null,"
	    " \"reason\": null}");
	check_json(flags_flag_json(fs, (size_t)flags_find(fs, "checkout_rollout")),
	    "{\"name\": \"checkout_rollout\", \"value\": 25, \"default\": 25,"
	    " \"description\": \"\", \"changed_at\": null, \"changed_by\": null,"
	    " \"reason\": null}");
	check_json(flags_flag_json(fs, (size_t)flags_find(fs, "dark_mode")),
	    "{\"name\": \"dark_mode\", \"value\": true, \"default\": true,"
	    " \"description\": \"\", \"changed_at\": null, \"changed_by\": null,"
	    " \"reason\": null}");
	ck_assert_int_eq(flags_find(fs, "nope"), -1);
	ck_assert_int_eq(flags_find(fs, NULL), -1);
}
END_TEST

/* --- stages ---------------------------------------------------------------------- */

START_TEST(test_stage_cumulative)
{
	const json_t	*rec, *push;
	size_t		 i;

	rec = try_op(FLAGS_OK, "stage.set", "{\"stage\": 4}");
	expect_stage_values(4, 25, 100);
	/* One record for the whole change, saving before each stage. */
	ck_assert_uint_eq(json_array_size(journal), 1);
	ck_assert_uint_eq(json_array_size(json_object_get(rec, "changes")), 7);
	push = json_object_get(rec, "push");
	ck_assert_uint_eq(json_array_size(push), 4);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(json_integer_value(json_object_get(
		    json_array_get(push, i), "stage")), (json_int_t)i + 1);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "kind")), "set");
	ck_assert_uint_eq(json_array_size(fs->history), 1);

	/* The same values by steps. */
	flags_free(fs);
	fs = flags_new(conf);
	stage_set(2);
	expect_stage_values(2, 25, 100);
	stage_set(4);
	expect_stage_values(4, 25, 100);
	ck_assert_uint_eq(json_array_size(fs->history), 2);
}
END_TEST

START_TEST(test_stage_saved_values)
{
	const json_t	*rec, *push;

	stage_set(1);
	set_flag("checkout_rollout", "60");
	rec = try_op(FLAGS_OK, "stage.set", "{\"stage\": 3}");
	push = json_object_get(rec, "push");
	/* Before stage 2: stage 1 on and the rollout at 60. */
	check_json(json_deep_copy(json_object_get(json_array_get(push, 0),
	    "values")), "{\"use_ets_agent_registry\": 100,"
	    " \"enable_migration_monitoring\": 100, \"use_logger_error_context\": 0,"
	    " \"use_genserver_telemetry\": 0, \"use_genserver_span_management\": 0,"
	    " \"use_ets_sampled_events\": 0, \"enforce_no_process_dict\": 0,"
	    " \"checkout_rollout\": 60, \"dark_mode\": 100}");
	/* Before stage 3: stage 2 on as well. */
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    json_array_get(push, 1), "values"), "use_logger_error_context")), 100);
	ck_assert_int_eq(fs->saved[1][flags_find(fs, "checkout_rollout")], 60);
	ck_assert_int_eq(fs->saved[2][flags_find(fs, "use_logger_error_context")],
	    100);
	ck_assert_int_eq(fs->saved[2][flags_find(fs, "use_genserver_telemetry")],
	    0);
}
END_TEST

START_TEST(test_rollback_restores_saved)
{
	stage_set(2);
	/* Manual changes between stages: kept by the saved sets. */
	set_flag("checkout_rollout", "60");
	set_flag("use_logger_error_context", "false");
	stage_set(4);
	ck_assert_int_eq(val_of("use_logger_error_context"), 0);
	set_flag("checkout_rollout", "90");

	rollback(3);
	ck_assert_int_eq(fs->stage, 3);
	expect_values("use_ets_agent_registry=100 "
	    "enable_migration_monitoring=100 use_logger_error_context=0 "
	    "use_genserver_telemetry=100 use_genserver_span_management=100 "
	    "use_ets_sampled_events=100 enforce_no_process_dict=0 "
	    "checkout_rollout=60");
	ck_assert_ptr_null(fs->saved[3]);

	rollback(2);
	ck_assert_int_eq(fs->stage, 2);
	expect_values("use_ets_agent_registry=100 use_logger_error_context=0 "
	    "use_genserver_telemetry=0 checkout_rollout=60");

	rollback(0);
	expect_stage_values(0, 25, 100);
	ck_assert_ptr_null(fs->saved[0]);
}
END_TEST

START_TEST(test_rollback_to_zero_as_they_were)
{
	set_flag("checkout_rollout", "70");
	set_flag("dark_mode", "false");
	stage_set(3);
	set_flag("checkout_rollout", "10");
	rollback(0);
	/* The values before stage 1, not the configured defaults. */
	expect_stage_values(0, 70, 0);
}
END_TEST

START_TEST(test_rollback_default)
{
	json_t	*rec = NULL;
	char	 err[256];
	struct flags_ctx ctx = { T0, &alice, NULL };

	stage_set(3);
	try_op(FLAGS_OK, "stage.rollback", "{}");
	expect_stage_values(2, 25, 100);
	try_op(FLAGS_OK, "stage.rollback", NULL);
	expect_stage_values(1, 25, 100);
	try_op(FLAGS_OK, "stage.rollback", "{\"stage\": null}");
	expect_stage_values(0, 25, 100);
	try_op(FLAGS_CONFLICT, "stage.rollback", NULL);
	ck_assert_int_eq(flags_op_stage_rollback(fs, FLAGS_STAGE_DEFAULT, &ctx,
	    &rec, err, sizeof(err)), FLAGS_CONFLICT);
	ck_assert_ptr_null(rec);
}
END_TEST

START_TEST(test_emergency)
{
	const json_t	*rec, *h;
	int		 k;

	stage_set(4);
	set_flag("checkout_rollout", "80");
	set_flag("dark_mode", "0");
	rec = try_op(FLAGS_OK, "stage.emergency", "{\"reason\": \"pager\"}");
	expect_stage_values(0, 25, 100);
	for (k = 0; k < fs->nstages; k++)
		ck_assert_ptr_null(fs->saved[k]);
	ck_assert_int_eq(json_integer_value(json_object_get(rec, "drop")), 4);
	h = json_array_get(fs->history, json_array_size(fs->history) - 1);
	ck_assert_str_eq(json_string_value(json_object_get(h, "kind")),
	    "emergency");
	ck_assert_str_eq(json_string_value(json_object_get(h, "reason")), "pager");
	ck_assert_int_eq(json_integer_value(json_object_get(h, "from")), 4);
	ck_assert_int_eq(json_integer_value(json_object_get(h, "to")), 0);

	/* A fresh start from 0, and a rollback back to the defaults. */
	stage_set(1);
	expect_stage_values(1, 25, 100);
	rollback(0);
	expect_stage_values(0, 25, 100);
	/* Nothing to undo is still recorded. */
	rec = try_op(FLAGS_OK, "stage.emergency", NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(rec, "changes")), 0);
}
END_TEST

START_TEST(test_stage_conflict)
{
	stage_set(2);
	try_op(FLAGS_CONFLICT, "stage.set", "{\"stage\": 2}");
	try_op(FLAGS_CONFLICT, "stage.set", "{\"stage\": 1}");
	ck_assert_msg(strstr(last_err, "stage.rollback") != NULL, "%s",
	    last_err);
	try_op(FLAGS_CONFLICT, "stage.rollback", "{\"stage\": 2}");
	try_op(FLAGS_CONFLICT, "stage.rollback", "{\"stage\": 3}");
	ck_assert_msg(strstr(last_err, "stage.set") != NULL, "%s", last_err);
	expect_stage_values(2, 25, 100);
}
END_TEST

START_TEST(test_stage_not_found)
{
	struct config	*c;

	try_op(FLAGS_NOT_FOUND, "stage.set", "{\"stage\": 5}");
	ck_assert_msg(strstr(last_err, "1 to 4") != NULL, "%s", last_err);
	try_op(FLAGS_NOT_FOUND, "stage.set", "{\"stage\": 0}");
	try_op(FLAGS_NOT_FOUND, "stage.set", "{\"stage\": -1}");
	try_op(FLAGS_NOT_FOUND, "stage.set", "{\"stage\": 4294967296}");
	stage_set(2);
	try_op(FLAGS_NOT_FOUND, "stage.rollback", "{\"stage\": 5}");
	try_op(FLAGS_NOT_FOUND, "stage.rollback", "{\"stage\": -1}");
	expect_stage_values(2, 25, 100);

	/* No stages at all. */
	flags_free(fs);
	config_free(conf);
	conf = c = parse_conf(nostages_text);
	fs = flags_new(c);
	try_op(FLAGS_NOT_FOUND, "stage.set", "{\"stage\": 1}");
	try_op(FLAGS_CONFLICT, "stage.rollback", NULL);
	try_op(FLAGS_OK, "stage.emergency", NULL);
	check_json(flags_stage_json(fs), "{\"stage\": 0, \"stages\": [],"
	    " \"history\": [{\"from\": 0, \"to\": 0, \"at\":"
	    " \"2024-05-01T12:00:10.000Z\", \"by\": {\"uid\": 1000, \"pid\": 4242},"
	    " \"reason\": null, \"kind\": \"emergency\"}]}");
}
END_TEST

/* The stage history keeps the latest FLAGS_HISTORY_MAX changes. */
START_TEST(test_history_cap)
{
	const json_t	*h;
	int		 i;

	for (i = 0; i < 150; i++) {
		stage_set(1);
		rollback(0);
	}
	ck_assert_uint_eq(json_array_size(fs->history), FLAGS_HISTORY_MAX);
	h = json_array_get(fs->history, FLAGS_HISTORY_MAX - 1);
	ck_assert_str_eq(json_string_value(json_object_get(h, "kind")),
	    "rollback");
	ck_assert_int_eq(json_integer_value(json_object_get(h, "at")), clock_ms);
}
END_TEST

/* --- the guard ------------------------------------------------------------------- */

START_TEST(test_guard_edges)
{
	struct guard_conf g = { true, 10, 60, NULL, GUARD_SCOPE_ALL };
	uint64_t	raised = 500000, stamps[32];
	size_t		n, count;

	for (n = 0; n < 10; n++)
		stamps[n] = raised + n * 1000;
	ck_assert(!flags_guard_exceeded(&g, raised, stamps, n, &count));
	ck_assert_uint_eq(count, 10);
	/* One more within the window rolls back. */
	stamps[n++] = raised + 59999;
	ck_assert(flags_guard_exceeded(&g, raised, stamps, n, &count));
	ck_assert_uint_eq(count, 11);
	/* At the end of the window it does not count. */
	stamps[n - 1] = raised + 60000;
	ck_assert(!flags_guard_exceeded(&g, raised, stamps, n, &count));
	ck_assert_uint_eq(count, 10);
	/* Nor before the stage change. */
	stamps[n - 1] = raised - 1;
	ck_assert(!flags_guard_exceeded(&g, raised, stamps, n, NULL));
	/* At the very moment of the change it does. */
	stamps[n - 1] = raised;
	ck_assert(flags_guard_exceeded(&g, raised, stamps, n, NULL));
	/* Many restarts, none after the change. */
	for (n = 0; n < 32; n++)
		stamps[n] = raised - 1 - n;
	ck_assert_uint_eq(flags_guard_count(&g, raised, stamps, n), 0);
	/* Without a guard nothing rolls back. */
	for (n = 0; n < 32; n++)
		stamps[n] = raised + n;
	g.enabled = false;
	ck_assert(!flags_guard_exceeded(&g, raised, stamps, n, &count));
	ck_assert_uint_eq(count, 32);
}
END_TEST

START_TEST(test_guard_state)
{
	struct guard_conf g = { true, 10, 60, NULL, GUARD_SCOPE_ALL };
	struct flags_guard gs;
	uint64_t	t = 1000000;
	char		*reason;
	int		 i;

	memset(&gs, 0, sizeof(gs));
	ck_assert(!flags_guard_note(&gs, &g, t));	/* not armed */
	flags_guard_arm(&gs, 4, t);
	for (i = 0; i < 10; i++)
		ck_assert(!flags_guard_note(&gs, &g, t + (uint64_t)i * 5000));
	ck_assert(flags_guard_note(&gs, &g, t + 59999));
	reason = flags_guard_reason(&gs, &g);
	ck_assert_str_eq(reason, "guard: 11 restarts within 60 s after stage 4 "
	    "(limit 10)");
	free(reason);
	/* Rolled back: quiet until the next raise. */
	ck_assert(!gs.armed);
	for (i = 0; i < 20; i++)
		ck_assert(!flags_guard_note(&gs, &g, t + 59999));

	/* Re-armed by a raise; restarts after the window do not count. */
	t += 100000;
	flags_guard_arm(&gs, 3, t);
	for (i = 0; i < 10; i++)
		ck_assert(!flags_guard_note(&gs, &g, t + 1));
	ck_assert(!flags_guard_note(&gs, &g, t + 60000));
	ck_assert(!gs.armed);

	/* A lowering disarms. */
	flags_guard_arm(&gs, 2, t);
	flags_guard_disarm(&gs);
	for (i = 0; i < 20; i++)
		ck_assert(!flags_guard_note(&gs, &g, t + 1));

	/* No guard configured. */
	g.enabled = false;
	flags_guard_arm(&gs, 2, t);
	for (i = 0; i < 20; i++)
		ck_assert(!flags_guard_note(&gs, &g, t + 1));
}
END_TEST

START_TEST(test_guard_rollback)
{
	struct flags_ctx ctx = { T0, NULL, "guard: 11 restarts within 60 s after "
	    "stage 4 (limit 10)" };
	json_t		*rec = NULL, *evs;
	const json_t	*h;
	char		 err[256];

	ck_assert_int_eq(flags_op_guard(fs, &ctx, &rec, err, sizeof(err)),
	    FLAGS_CONFLICT);
	ck_assert_ptr_null(rec);
	stage_set(3);
	set_flag("checkout_rollout", "12");
	stage_set(4);
	ck_assert_int_eq(flags_op_guard(fs, &ctx, &rec, err, sizeof(err)),
	    FLAGS_OK);
	ck_assert_str_eq(json_string_value(json_object_get(rec, "kind")), "guard");
	ck_assert_int_eq(flags_apply(fs, rec), 0);
	expect_stage_values(3, 12, 100);
	h = json_array_get(fs->history, json_array_size(fs->history) - 1);
	check_json(json_incref((json_t *)h), "{\"from\": 4, \"to\": 3, \"at\": "
	    "1714564800000, \"by\": null, \"reason\": \"guard: 11 restarts within"
	    " 60 s after stage 4 (limit 10)\", \"kind\": \"guard\"}");
	evs = flags_events_json(fs, rec);
	ck_assert_uint_eq(json_array_size(evs), 3);
	check_json(json_incref(json_array_get(evs, 2)), "{\"type\":"
	    " \"guard.rollback\", \"fields\": {\"from\": 4, \"to\": 3,"
	    " \"reason\": \"guard: 11 restarts within 60 s after stage 4"
	    " (limit 10)\"}}");
	json_decref(evs);
	json_decref(rec);
}
END_TEST

static Suite *
flags_suite(void)
{
	Suite	*s = suite_create("flags");
	TCase	*tc = tcase_create("flags");

	tcase_add_checked_fixture(tc, flagcoretest_setup,
	    flagcoretest_teardown);
	tcase_add_test(tc, test_initial);
	tcase_add_test(tc, test_stage_cumulative);
	tcase_add_test(tc, test_stage_saved_values);
	tcase_add_test(tc, test_rollback_restores_saved);
	tcase_add_test(tc, test_rollback_to_zero_as_they_were);
	tcase_add_test(tc, test_rollback_default);
	tcase_add_test(tc, test_emergency);
	tcase_add_test(tc, test_stage_conflict);
	tcase_add_test(tc, test_stage_not_found);
	tcase_add_test(tc, test_history_cap);
	tcase_add_test(tc, test_guard_edges);
	tcase_add_test(tc, test_guard_state);
	tcase_add_test(tc, test_guard_rollback);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(flags_suite)
