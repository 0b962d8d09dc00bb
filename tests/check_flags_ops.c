/*
 * check_flags_ops.c: flag changes as the protocol asks for them
 * (src/core/flags-ops.c): unknown flags, the values a flag takes and
 * those refused, the params of each method and their errors, reset,
 * who changed a flag, and the results, events and listings the daemon
 * answers with. Every change goes through try_op() (flagcoretest.h).
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

/* --- flags ----------------------------------------------------------------------- */

START_TEST(test_unknown_flag)
{
	try_op(FLAGS_NOT_FOUND, "flag.set", "{\"name\": \"nope\", \"value\": true}");
	ck_assert_msg(strstr(last_err, "nope") != NULL, "%s", last_err);
	try_op(FLAGS_NOT_FOUND, "flag.set", "{\"name\": \"nope\", \"value\": 500}");
	try_op(FLAGS_NOT_FOUND, "flag.reset", "{\"name\": \"nope\"}");
}
END_TEST

static const char *const bad_values[] = { "101", "-1", "\"x\"", "1.5", "null",
	"[]", "{}", "\"true\"", "50.0", "1e2", "9223372036854775807" };

START_TEST(test_bad_values)
{
	json_t	*v;
	char	 buf[256];
	int	 n;

	snprintf(buf, sizeof(buf), "{\"name\": \"dark_mode\", \"value\": %s}",
	    bad_values[_i]);
	try_op(FLAGS_INVALID_PARAMS, "flag.set", buf);
	ck_assert_msg(strstr(last_err, "value") != NULL, "%s", last_err);
	ck_assert_int_eq(val_of("dark_mode"), 100);
	v = parse_json(bad_values[_i]);
	ck_assert_int_eq(flags_value_parse(v, &n), -1);
	ck_assert(!flags_value_equal(fs, (size_t)flags_find(fs, "dark_mode"), v));
	json_decref(v);
}
END_TEST

static const struct {
	const char	*json;
	int		 value;
} good_values[] = { { "true", 100 }, { "false", 0 }, { "0", 0 }, { "1", 1 },
	{ "99", 99 }, { "100", 100 } };

START_TEST(test_good_values)
{
	json_t	*v = parse_json(good_values[_i].json);
	int	 n = -1;

	ck_assert_int_eq(flags_value_parse(v, &n), 0);
	ck_assert_int_eq(n, good_values[_i].value);
	set_flag("checkout_rollout", good_values[_i].json);
	ck_assert_int_eq(val_of("checkout_rollout"), good_values[_i].value);
	set_flag("dark_mode", good_values[_i].json);
	ck_assert_int_eq(val_of("dark_mode"), good_values[_i].value);
	ck_assert(flags_value_equal(fs, (size_t)flags_find(fs, "dark_mode"), v));
	ck_assert(!flags_value_equal(fs, NDEMO, v));
	json_decref(v);
}
END_TEST

START_TEST(test_params)
{
	char		buf[2048], reason[FLAGS_REASON_MAX + 2];
	enum flags_op	op;

	try_op(FLAGS_INVALID_PARAMS, "flag.set", "{\"name\": \"dark_mode\"}");
	try_op(FLAGS_INVALID_PARAMS, "flag.set", "{\"value\": true}");
	try_op(FLAGS_INVALID_PARAMS, "flag.set", "{\"name\": 5, \"value\": true}");
	try_op(FLAGS_INVALID_PARAMS, "flag.set",
	    "{\"name\": \"dark_mode\", \"value\": true, \"extra\": 1}");
	ck_assert_msg(strstr(last_err, "extra") != NULL, "%s", last_err);
	try_op(FLAGS_INVALID_PARAMS, "flag.set",
	    "{\"name\": \"dark_mode\", \"value\": true, \"reason\": 5}");
	try_op(FLAGS_INVALID_PARAMS, "flag.set", "[\"dark_mode\", true]");
	try_op(FLAGS_INVALID_PARAMS, "flag.reset", "{\"name\": false}");
	try_op(FLAGS_INVALID_PARAMS, "stage.set", "{}");
	try_op(FLAGS_INVALID_PARAMS, "stage.set", NULL);
	try_op(FLAGS_INVALID_PARAMS, "stage.set", "{\"stage\": \"2\"}");
	try_op(FLAGS_INVALID_PARAMS, "stage.set", "{\"stage\": 2.0}");
	try_op(FLAGS_INVALID_PARAMS, "stage.set", "{\"stage\": 2, \"to\": 3}");
	try_op(FLAGS_INVALID_PARAMS, "stage.rollback", "{\"stage\": true}");
	try_op(FLAGS_INVALID_PARAMS, "stage.emergency", "{\"stage\": 0}");

	/* A reason up to the limit. */
	memset(reason, 'r', sizeof(reason));
	reason[FLAGS_REASON_MAX + 1] = '\0';
	snprintf(buf, sizeof(buf), "{\"name\": \"dark_mode\", \"value\": false,"
	    " \"reason\": \"%s\"}", reason);
	try_op(FLAGS_INVALID_PARAMS, "flag.set", buf);
	reason[FLAGS_REASON_MAX] = '\0';
	snprintf(buf, sizeof(buf), "{\"name\": \"dark_mode\", \"value\": false,"
	    " \"reason\": \"%s\"}", reason);
	try_op(FLAGS_OK, "flag.set", buf);
	ck_assert_uint_eq(strlen(fs->flag[flags_find(fs, "dark_mode")].reason),
	    FLAGS_REASON_MAX);

	/* The ops are the writes, named as their records name them. */
	ck_assert_int_eq(flags_op_parse("flag.set", &op), 0);
	ck_assert_int_eq(op, FLAGS_OP_SET);
	ck_assert_int_eq(flags_op_parse("stage.emergency", &op), 0);
	ck_assert_int_eq(op, FLAGS_OP_STAGE_EMERGENCY);
	ck_assert_int_eq(flags_op_parse("flag.get", &op), -1);
	ck_assert_int_eq(flags_op_parse(NULL, &op), -1);
	try_op(FLAGS_INVALID_PARAMS, "flag.list", NULL);
}
END_TEST

START_TEST(test_reset)
{
	const json_t	*rec;
	json_t		*evs;

	set_flag("dark_mode", "false");
	set_flag("checkout_rollout", "50");
	set_flag("use_ets_agent_registry", "true");
	try_op(FLAGS_OK, "flag.reset", "{\"name\": \"dark_mode\", \"reason\": \"r\"}");
	ck_assert_int_eq(val_of("dark_mode"), 100);
	ck_assert_int_eq(val_of("checkout_rollout"), 50);
	ck_assert_str_eq(fs->flag[flags_find(fs, "dark_mode")].reason, "r");

	rec = try_op(FLAGS_OK, "flag.reset", NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(rec, "changes")), 2);
	expect_stage_values(0, 25, 100);
	evs = flags_result_json(fs, rec);
	ck_assert_uint_eq(json_array_size(json_object_get(evs, "flags")), NDEMO);
	json_decref(evs);

	/* A named reset is recorded even when nothing changes... */
	rec = try_op(FLAGS_OK, "flag.reset", "{\"name\": \"checkout_rollout\"}");
	ck_assert_uint_eq(json_array_size(json_object_get(rec, "changes")), 1);
	ck_assert_int_eq(fs->flag[flags_find(fs, "checkout_rollout")].changed_at,
	    clock_ms);
	/* ...and makes no event. */
	evs = flags_events_json(fs, rec);
	ck_assert_uint_eq(json_array_size(evs), 0);
	json_decref(evs);

	/* Reset turns stage flags off too, but leaves the stage alone. */
	stage_set(1);
	set_flag("dark_mode", "false");
	set_flag("checkout_rollout", "35");
	rec = try_op(FLAGS_OK, "flag.reset", NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(rec, "changes")), 4);
	ck_assert_int_eq(fs->stage, 1);
	ck_assert_int_eq(val_of("use_ets_agent_registry"), 0);
	ck_assert_int_eq(val_of("dark_mode"), 100);
	ck_assert_ptr_nonnull(fs->saved[0]);
	stage_set(2);
	ck_assert_int_eq(val_of("use_ets_agent_registry"), 0);
	ck_assert_int_eq(val_of("use_logger_error_context"), 100);
}
END_TEST

START_TEST(test_changed_by)
{
	json_t	*j;

	set_flag("checkout_rollout", "40");
	check_json(flags_flag_json(fs, (size_t)flags_find(fs, "checkout_rollout")),
	    "{\"name\": \"checkout_rollout\", \"value\": 40, \"default\": 25,"
	    " \"description\": \"\", \"changed_at\": \"2024-05-01T12:00:01.000Z\","
	    " \"changed_by\": {\"uid\": 1000, \"pid\": 4242}, \"reason\": null}");
	try_op(FLAGS_OK, "stage.set", "{\"stage\": 1, \"reason\": \"migrate\"}");
	j = flags_flag_json(fs, 0);
	ck_assert_str_eq(json_string_value(json_object_get(j, "changed_at")),
	    "2024-05-01T12:00:02.000Z");
	ck_assert_str_eq(json_string_value(json_object_get(j, "reason")),
	    "migrate");
	json_decref(j);
	/* Flags the stage left alone keep their author. */
	ck_assert_ptr_null(fs->flag[flags_find(fs, "dark_mode")].reason);
	ck_assert_int_eq(fs->flag[flags_find(fs, "dark_mode")].changed_at, 0);
	ck_assert_int_eq(fs->flag[flags_find(fs, "checkout_rollout")].changed_at,
	    T0 + 1000);
}
END_TEST

/* --- answers and events ------------------------------------------------------------- */

START_TEST(test_results_and_events)
{
	const json_t	*rec;
	json_t		*evs;

	rec = try_op(FLAGS_OK, "flag.set", "{\"name\": \"dark_mode\", \"value\": false,"
	    " \"reason\": \"night\"}");
	check_json(flags_result_json(fs, rec), "{\"name\": \"dark_mode\","
	    " \"value\": false, \"default\": true, \"description\": \"\","
	    " \"changed_at\": \"2024-05-01T12:00:01.000Z\", \"changed_by\":"
	    " {\"uid\": 1000, \"pid\": 4242}, \"reason\": \"night\"}");
	check_json(flags_events_json(fs, rec), "[{\"type\": \"flag.changed\","
	    " \"fields\": {\"name\": \"dark_mode\", \"old\": true, \"new\": false,"
	    " \"by\": {\"uid\": 1000, \"pid\": 4242}, \"reason\": \"night\"}}]");

	rec = try_op(FLAGS_OK, "flag.set", "{\"name\": \"dark_mode\", \"value\": 50}");
	check_json(flags_events_json(fs, rec), "[{\"type\": \"flag.changed\","
	    " \"fields\": {\"name\": \"dark_mode\", \"old\": false, \"new\": 50,"
	    " \"by\": {\"uid\": 1000, \"pid\": 4242}, \"reason\": null}}]");

	rec = try_op(FLAGS_OK, "flag.reset", "{\"name\": \"dark_mode\"}");
	evs = flags_result_json(fs, rec);
	ck_assert_uint_eq(json_array_size(json_object_get(evs, "flags")), 1);
	check_json(json_incref(json_object_get(json_array_get(json_object_get(
	    evs, "flags"), 0), "value")), "true");
	json_decref(evs);

	rec = try_op(FLAGS_OK, "stage.set", "{\"stage\": 2, \"reason\": \"go\"}");
	evs = flags_events_json(fs, rec);
	ck_assert_uint_eq(json_array_size(evs), 4);
	check_json(json_incref(json_array_get(evs, 3)), "{\"type\":"
	    " \"stage.changed\", \"fields\": {\"from\": 0, \"to\": 2, \"kind\":"
	    " \"set\", \"by\": {\"uid\": 1000, \"pid\": 4242}, \"reason\": \"go\"}}");
	json_decref(evs);
	evs = flags_result_json(fs, rec);
	ck_assert_int_eq(json_integer_value(json_object_get(evs, "stage")), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(evs, "flags")), NDEMO);
	json_decref(evs);
}
END_TEST

START_TEST(test_list_and_stage_json)
{
	json_t	*l;

	try_op(FLAGS_OK, "stage.set", "{\"stage\": 2, \"reason\": \"go\"}");
	l = flags_list_json(fs, 7);
	ck_assert_int_eq(json_integer_value(json_object_get(l, "stage")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(l, "generation")), 7);
	ck_assert_uint_eq(json_array_size(json_object_get(l, "flags")), NDEMO);
	ck_assert(json_is_true(json_object_get(json_array_get(json_object_get(l,
	    "flags"), 2), "value")));
	json_decref(l);
	check_json(flags_stage_json(fs), "{\"stage\": 2, \"stages\": ["
	    "{\"stage\": 1, \"enable\": [\"use_ets_agent_registry\","
	    " \"enable_migration_monitoring\"]},"
	    "{\"stage\": 2, \"enable\": [\"use_logger_error_context\"]},"
	    "{\"stage\": 3, \"enable\": [\"use_genserver_telemetry\","
	    " \"use_genserver_span_management\", \"use_ets_sampled_events\"]},"
	    "{\"stage\": 4, \"enable\": [\"enforce_no_process_dict\"]}],"
	    " \"history\": [{\"from\": 0, \"to\": 2, \"at\":"
	    " \"2024-05-01T12:00:01.000Z\", \"by\": {\"uid\": 1000, \"pid\": 4242},"
	    " \"reason\": \"go\", \"kind\": \"set\"}]}");
	check_json(flags_time_json(T0 + 123), "\"2024-05-01T12:00:00.123Z\"");
	check_json(flags_time_json(86400000LL * 366 + 59999),
	    "\"1971-01-02T00:00:59.999Z\"");
	check_json(flags_time_json(0), "null");
	/* Percentages of a boolean flag, and 100 of a percentage flag. */
	check_json(flags_value_json(fs, (size_t)flags_find(fs, "dark_mode"), 50),
	    "50");
	check_json(flags_value_json(fs, (size_t)flags_find(fs, "dark_mode"), 0),
	    "false");
	check_json(flags_value_json(fs, (size_t)flags_find(fs,
	    "checkout_rollout"), 100), "100");
}
END_TEST

static Suite *
flags_ops_suite(void)
{
	Suite	*s = suite_create("flags_ops");
	TCase	*tc = tcase_create("flags_ops");

	tcase_add_checked_fixture(tc, flagcoretest_setup,
	    flagcoretest_teardown);
	tcase_add_test(tc, test_unknown_flag);
	tcase_add_loop_test(tc, test_bad_values, 0, (int)nitems(bad_values));
	tcase_add_loop_test(tc, test_good_values, 0, (int)nitems(good_values));
	tcase_add_test(tc, test_params);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_changed_by);
	tcase_add_test(tc, test_results_and_events);
	tcase_add_test(tc, test_list_and_stage_json);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(flags_ops_suite)
