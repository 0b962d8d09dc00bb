/*
 * check_flags.c: feature flags, migration stages and the guard
 * (src/core/flags.c, flags-ops.c, flags-record.c): cumulative stages,
 * rollback to saved values, emergency, the params of each change and the
 * errors the protocol maps, change records and their replay.
 *
 * Every change goes through run(), which checks on the way that building a
 * record never touches the state and that applying it changes exactly what
 * the record says.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "flags.h"
#include "util.h"

/* The demo's seven flags and four stages, a rollout and a default-on flag. */
#define DEMO_FLAGS \
	"  \"use_ets_agent_registry\": { \"default\": false,\n" \
	"      \"description\": \"agents in ETS\" },\n" \
	"  \"enable_migration_monitoring\": {},\n" \
	"  \"use_logger_error_context\": {},\n" \
	"  \"use_genserver_telemetry\": {},\n" \
	"  \"use_genserver_span_management\": {},\n" \
	"  \"use_ets_sampled_events\": {},\n" \
	"  \"enforce_no_process_dict\": {},\n" \
	"  \"checkout_rollout\": { \"default\": 25 },\n" \
	"  \"dark_mode\": { \"default\": true }"
#define DEMO_STAGES \
	"  { \"stage\": 1, \"enable\": [\"use_ets_agent_registry\",\n" \
	"      \"enable_migration_monitoring\"] },\n" \
	"  { \"stage\": 2, \"enable\": [\"use_logger_error_context\"] },\n" \
	"  { \"stage\": 3, \"enable\": [\"use_genserver_telemetry\",\n" \
	"      \"use_genserver_span_management\", \"use_ets_sampled_events\"] },\n" \
	"  { \"stage\": 4, \"enable\": [\"enforce_no_process_dict\"] }"
#define SUPERVISOR \
	"\"supervisor\": { \"children\": [ { \"name\": \"w\",\n" \
	"    \"command\": [\"/bin/true\"] } ] }"

static const char demo_text[] =
	"{ \"flags\": {\n" DEMO_FLAGS "\n},\n"
	"  \"stages\": [\n" DEMO_STAGES "\n],\n"
	"  \"guard\": { \"max_restarts\": 10, \"window_s\": 60 },\n"
	SUPERVISOR "\n}\n";

/* The demo with one more flag in stage 1. */
static const char legacy_text[] =
	"{ \"flags\": {\n" DEMO_FLAGS ",\n  \"legacy_flag\": {}\n},\n"
	"  \"stages\": [\n"
	"  { \"stage\": 1, \"enable\": [\"use_ets_agent_registry\",\n"
	"      \"enable_migration_monitoring\", \"legacy_flag\"] },\n"
	"  { \"stage\": 2, \"enable\": [\"use_logger_error_context\"] },\n"
	"  { \"stage\": 3, \"enable\": [\"use_genserver_telemetry\",\n"
	"      \"use_genserver_span_management\", \"use_ets_sampled_events\"] },\n"
	"  { \"stage\": 4, \"enable\": [\"enforce_no_process_dict\"] }\n],\n"
	SUPERVISOR "\n}\n";

/* A reload: use_ets_sampled_events gone, new_flag added, two stages left. */
static const char reload_text[] =
	"{ \"flags\": {\n"
	"  \"use_ets_agent_registry\": {},\n"
	"  \"enable_migration_monitoring\": {},\n"
	"  \"use_logger_error_context\": {},\n"
	"  \"use_genserver_telemetry\": {},\n"
	"  \"new_flag\": { \"default\": true },\n"
	"  \"checkout_rollout\": { \"default\": 25 },\n"
	"  \"dark_mode\": { \"default\": true }\n},\n"
	"  \"stages\": [\n"
	"  { \"stage\": 1, \"enable\": [\"use_ets_agent_registry\",\n"
	"      \"enable_migration_monitoring\"] },\n"
	"  { \"stage\": 2, \"enable\": [\"use_logger_error_context\"] }\n],\n"
	SUPERVISOR "\n}\n";

static const char nostages_text[] =
	"{ \"flags\": { \"a\": {} },\n" SUPERVISOR "\n}\n";

#define NDEMO	9
static const char *const stage_of[NDEMO][2] = {
	{ "use_ets_agent_registry", "1" },
	{ "enable_migration_monitoring", "1" },
	{ "use_logger_error_context", "2" },
	{ "use_genserver_telemetry", "3" },
	{ "use_genserver_span_management", "3" },
	{ "use_ets_sampled_events", "3" },
	{ "enforce_no_process_dict", "4" },
	{ "checkout_rollout", "-" },
	{ "dark_mode", "-" },
};

static struct config	*conf;
static struct flags	*fs;
static json_t		*journal;	/* every record applied, in order */
static char		 last_err[512];
static int64_t		 clock_ms;
static struct flags_actor alice = { 1000, 4242 };

#define T0	1714564800000LL		/* 2024-05-01T12:00:00.000Z */

static struct config *
parse(const char *text)
{
	struct config	*c = NULL;
	char		 err[1024];

	ck_assert_msg(config_parse(text, strlen(text), "/etc/warden/w.json",
	    &c, err, sizeof(err)) == 0, "config: %s", err);
	return c;
}

static void
setup(void)
{
	conf = parse(demo_text);
	fs = flags_new(conf);
	journal = json_array();
	clock_ms = T0;
	last_err[0] = '\0';
}

static void
teardown(void)
{
	json_decref(journal);
	flags_free(fs);
	config_free(conf);
}

static int
val(const char *name)
{
	ssize_t	i = flags_find(fs, name);

	ck_assert_msg(i >= 0, "no flag %s", name);
	return fs->flag[i].value;
}

static json_t *
parse_json(const char *text)
{
	json_error_t	 jerr;
	json_t		*v;

	v = json_loads(text, JSON_DECODE_ANY, &jerr);
	ck_assert_msg(v != NULL, "bad test JSON %s: %s", text, jerr.text);
	return v;
}

static const json_t *
find_change(const json_t *rec, const char *name)
{
	const json_t	*c;
	size_t		 i;

	json_array_foreach(json_object_get(rec, "changes"), i, c)
		if (strcmp(json_string_value(json_object_get(c, "name")),
		    name) == 0)
			return c;
	return NULL;
}

/*
 * rec applied to a state whose values were `before` at stage `from`: each
 * flag changed exactly as listed, nothing else, and the stage and saved
 * stack are where the record says.
 */
static void
check_describes(const json_t *rec, const int *before, int from)
{
	const json_t	*c;
	size_t		 i;
	int		 rfrom, rto, k;

	for (i = 0; i < fs->nflags; i++) {
		c = find_change(rec, fs->flag[i].name);
		if (c == NULL) {
			ck_assert_msg(fs->flag[i].value == before[i],
			    "%s changed from %d to %d but the record does not "
			    "say so", fs->flag[i].name, before[i],
			    fs->flag[i].value);
			continue;
		}
		ck_assert_int_eq(json_integer_value(json_object_get(c, "old")),
		    before[i]);
		ck_assert_int_eq(json_integer_value(json_object_get(c, "new")),
		    fs->flag[i].value);
	}
	if (flags_record_stage(rec, &rfrom, &rto)) {
		ck_assert_int_eq(rfrom, from);
		ck_assert_int_eq(rto, fs->stage);
	} else
		ck_assert_int_eq(fs->stage, from);
	for (k = 0; k < fs->nstages; k++)
		ck_assert_msg((fs->saved[k] != NULL) == (k < fs->stage),
		    "saved set %d present with stage %d", k + 1, fs->stage);
}

/* A change as the protocol asks for it: the method's op, its params read, then the op. */
static enum flags_err
request(const char *method, const json_t *params, json_t **rec)
{
	struct flags_change	ch;
	enum flags_op		op;
	enum flags_err		e;

	*rec = NULL;
	if (flags_op_parse(method, &op) == -1) {
		snprintf(last_err, sizeof(last_err), "%s: not a change", method);
		return FLAGS_INVALID_PARAMS;
	}
	ck_assert_str_eq(flags_op_name(op), method);
	if ((e = flags_change_read(op, params, &ch, last_err,
	    sizeof(last_err))) != FLAGS_OK)
		return e;
	return flags_op_change(fs, &ch, &alice, clock_ms, rec, last_err,
	    sizeof(last_err));
}

/*
 * One protocol request: the answer must be `want`; on success the record is
 * applied, checked and kept in the journal (returned, borrowed).
 */
static const json_t *
run(enum flags_err want, const char *method, const char *params_text)
{
	json_t		*params = NULL, *before_snap, *after_snap, *rec = NULL;
	enum flags_err	 e;
	int		*before;
	int		 from;
	size_t		 i;

	if (params_text != NULL)
		params = parse_json(params_text);
	clock_ms += 1000;
	before_snap = flags_snapshot_json(fs);
	last_err[0] = '\0';
	e = request(method, params, &rec);
	ck_assert_msg(e == want, "%s %s: got %d (%s), want %d", method,
	    params_text ? params_text : "", e, last_err, want);
	after_snap = flags_snapshot_json(fs);
	ck_assert_msg(json_equal(before_snap, after_snap),
	    "%s changed the state before apply", method);
	json_decref(before_snap);
	json_decref(after_snap);
	json_decref(params);
	if (e != FLAGS_OK) {
		ck_assert_ptr_null(rec);
		ck_assert_msg(last_err[0] != '\0', "no message for %s", method);
		return NULL;
	}
	ck_assert_ptr_nonnull(rec);
	before = xcalloc(fs->nflags, sizeof(int));
	for (i = 0; i < fs->nflags; i++)
		before[i] = fs->flag[i].value;
	from = fs->stage;
	ck_assert_int_eq(flags_apply(fs, rec), 0);
	check_describes(rec, before, from);
	free(before);
	json_array_append_new(journal, rec);
	return rec;
}

static void
stage_set(int n)
{
	char	buf[64];

	snprintf(buf, sizeof(buf), "{\"stage\": %d}", n);
	run(FLAGS_OK, "stage.set", buf);
}

static void
flag_set(const char *name, const char *value)
{
	char	buf[256];

	snprintf(buf, sizeof(buf), "{\"name\": \"%s\", \"value\": %s}", name,
	    value);
	run(FLAGS_OK, "flag.set", buf);
}

static void
rollback(int n)
{
	char	buf[64];

	snprintf(buf, sizeof(buf), "{\"stage\": %d}", n);
	run(FLAGS_OK, "stage.rollback", buf);
}

/* Flags of stages 1..n on, the others as given in rest (default when NULL). */
static void
expect_stage_values(int n, int rollout, int dark)
{
	size_t	i;

	ck_assert_int_eq(fs->stage, n);
	for (i = 0; i < 7; i++)
		ck_assert_msg(val(stage_of[i][0]) ==
		    (atoi(stage_of[i][1]) <= n ? 100 : 0),
		    "%s is %d at stage %d", stage_of[i][0],
		    val(stage_of[i][0]), n);
	ck_assert_int_eq(val("checkout_rollout"), rollout);
	ck_assert_int_eq(val("dark_mode"), dark);
}

static void
check_json(json_t *got, const char *want_text)
{
	json_t	*want = parse_json(want_text);
	char	*g, *w;

	if (!json_equal(got, want)) {
		g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		ck_abort_msg("got %s\nwant %s", g, w);
	}
	json_decref(want);
	json_decref(got);
}

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

	rec = run(FLAGS_OK, "stage.set", "{\"stage\": 4}");
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
	flag_set("checkout_rollout", "60");
	rec = run(FLAGS_OK, "stage.set", "{\"stage\": 3}");
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
	flag_set("checkout_rollout", "60");
	flag_set("use_logger_error_context", "false");
	stage_set(4);
	ck_assert_int_eq(val("use_logger_error_context"), 0);
	flag_set("checkout_rollout", "90");

	rollback(3);
	ck_assert_int_eq(fs->stage, 3);
	ck_assert_int_eq(val("use_ets_agent_registry"), 100);
	ck_assert_int_eq(val("enable_migration_monitoring"), 100);
	ck_assert_int_eq(val("use_logger_error_context"), 0);
	ck_assert_int_eq(val("use_genserver_telemetry"), 100);
	ck_assert_int_eq(val("use_genserver_span_management"), 100);
	ck_assert_int_eq(val("use_ets_sampled_events"), 100);
	ck_assert_int_eq(val("enforce_no_process_dict"), 0);
	ck_assert_int_eq(val("checkout_rollout"), 60);
	ck_assert_ptr_null(fs->saved[3]);

	rollback(2);
	ck_assert_int_eq(fs->stage, 2);
	ck_assert_int_eq(val("use_ets_agent_registry"), 100);
	ck_assert_int_eq(val("use_logger_error_context"), 0);
	ck_assert_int_eq(val("use_genserver_telemetry"), 0);
	ck_assert_int_eq(val("checkout_rollout"), 60);

	rollback(0);
	expect_stage_values(0, 25, 100);
	ck_assert_ptr_null(fs->saved[0]);
}
END_TEST

START_TEST(test_rollback_to_zero_as_they_were)
{
	flag_set("checkout_rollout", "70");
	flag_set("dark_mode", "false");
	stage_set(3);
	flag_set("checkout_rollout", "10");
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
	run(FLAGS_OK, "stage.rollback", "{}");
	expect_stage_values(2, 25, 100);
	run(FLAGS_OK, "stage.rollback", NULL);
	expect_stage_values(1, 25, 100);
	run(FLAGS_OK, "stage.rollback", "{\"stage\": null}");
	expect_stage_values(0, 25, 100);
	run(FLAGS_CONFLICT, "stage.rollback", NULL);
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
	flag_set("checkout_rollout", "80");
	flag_set("dark_mode", "0");
	rec = run(FLAGS_OK, "stage.emergency", "{\"reason\": \"pager\"}");
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
	rec = run(FLAGS_OK, "stage.emergency", NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(rec, "changes")), 0);
}
END_TEST

START_TEST(test_stage_conflict)
{
	stage_set(2);
	run(FLAGS_CONFLICT, "stage.set", "{\"stage\": 2}");
	run(FLAGS_CONFLICT, "stage.set", "{\"stage\": 1}");
	ck_assert_msg(strstr(last_err, "stage.rollback") != NULL, "%s",
	    last_err);
	run(FLAGS_CONFLICT, "stage.rollback", "{\"stage\": 2}");
	run(FLAGS_CONFLICT, "stage.rollback", "{\"stage\": 3}");
	ck_assert_msg(strstr(last_err, "stage.set") != NULL, "%s", last_err);
	expect_stage_values(2, 25, 100);
}
END_TEST

START_TEST(test_stage_not_found)
{
	struct config	*c;

	run(FLAGS_NOT_FOUND, "stage.set", "{\"stage\": 5}");
	ck_assert_msg(strstr(last_err, "1 to 4") != NULL, "%s", last_err);
	run(FLAGS_NOT_FOUND, "stage.set", "{\"stage\": 0}");
	run(FLAGS_NOT_FOUND, "stage.set", "{\"stage\": -1}");
	run(FLAGS_NOT_FOUND, "stage.set", "{\"stage\": 4294967296}");
	stage_set(2);
	run(FLAGS_NOT_FOUND, "stage.rollback", "{\"stage\": 5}");
	run(FLAGS_NOT_FOUND, "stage.rollback", "{\"stage\": -1}");
	expect_stage_values(2, 25, 100);

	/* No stages at all. */
	flags_free(fs);
	config_free(conf);
	conf = c = parse(nostages_text);
	fs = flags_new(c);
	run(FLAGS_NOT_FOUND, "stage.set", "{\"stage\": 1}");
	run(FLAGS_CONFLICT, "stage.rollback", NULL);
	run(FLAGS_OK, "stage.emergency", NULL);
	check_json(flags_stage_json(fs), "{\"stage\": 0, \"stages\": [],"
	    " \"history\": [{\"from\": 0, \"to\": 0, \"at\":"
	    " \"2024-05-01T12:00:10.000Z\", \"by\": {\"uid\": 1000, \"pid\": 4242},"
	    " \"reason\": null, \"kind\": \"emergency\"}]}");
}
END_TEST

/* --- flags ----------------------------------------------------------------------- */

START_TEST(test_unknown_flag)
{
	run(FLAGS_NOT_FOUND, "flag.set", "{\"name\": \"nope\", \"value\": true}");
	ck_assert_msg(strstr(last_err, "nope") != NULL, "%s", last_err);
	run(FLAGS_NOT_FOUND, "flag.set", "{\"name\": \"nope\", \"value\": 500}");
	run(FLAGS_NOT_FOUND, "flag.reset", "{\"name\": \"nope\"}");
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
	run(FLAGS_INVALID_PARAMS, "flag.set", buf);
	ck_assert_msg(strstr(last_err, "value") != NULL, "%s", last_err);
	ck_assert_int_eq(val("dark_mode"), 100);
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
	flag_set("checkout_rollout", good_values[_i].json);
	ck_assert_int_eq(val("checkout_rollout"), good_values[_i].value);
	flag_set("dark_mode", good_values[_i].json);
	ck_assert_int_eq(val("dark_mode"), good_values[_i].value);
	ck_assert(flags_value_equal(fs, (size_t)flags_find(fs, "dark_mode"), v));
	ck_assert(!flags_value_equal(fs, NDEMO, v));
	json_decref(v);
}
END_TEST

START_TEST(test_params)
{
	char		buf[2048], reason[FLAGS_REASON_MAX + 2];
	enum flags_op	op;

	run(FLAGS_INVALID_PARAMS, "flag.set", "{\"name\": \"dark_mode\"}");
	run(FLAGS_INVALID_PARAMS, "flag.set", "{\"value\": true}");
	run(FLAGS_INVALID_PARAMS, "flag.set", "{\"name\": 5, \"value\": true}");
	run(FLAGS_INVALID_PARAMS, "flag.set",
	    "{\"name\": \"dark_mode\", \"value\": true, \"extra\": 1}");
	ck_assert_msg(strstr(last_err, "extra") != NULL, "%s", last_err);
	run(FLAGS_INVALID_PARAMS, "flag.set",
	    "{\"name\": \"dark_mode\", \"value\": true, \"reason\": 5}");
	run(FLAGS_INVALID_PARAMS, "flag.set", "[\"dark_mode\", true]");
	run(FLAGS_INVALID_PARAMS, "flag.reset", "{\"name\": false}");
	run(FLAGS_INVALID_PARAMS, "stage.set", "{}");
	run(FLAGS_INVALID_PARAMS, "stage.set", NULL);
	run(FLAGS_INVALID_PARAMS, "stage.set", "{\"stage\": \"2\"}");
	run(FLAGS_INVALID_PARAMS, "stage.set", "{\"stage\": 2.0}");
	run(FLAGS_INVALID_PARAMS, "stage.set", "{\"stage\": 2, \"to\": 3}");
	run(FLAGS_INVALID_PARAMS, "stage.rollback", "{\"stage\": true}");
	run(FLAGS_INVALID_PARAMS, "stage.emergency", "{\"stage\": 0}");

	/* A reason up to the limit. */
	memset(reason, 'r', sizeof(reason));
	reason[FLAGS_REASON_MAX + 1] = '\0';
	snprintf(buf, sizeof(buf), "{\"name\": \"dark_mode\", \"value\": false,"
	    " \"reason\": \"%s\"}", reason);
	run(FLAGS_INVALID_PARAMS, "flag.set", buf);
	reason[FLAGS_REASON_MAX] = '\0';
	snprintf(buf, sizeof(buf), "{\"name\": \"dark_mode\", \"value\": false,"
	    " \"reason\": \"%s\"}", reason);
	run(FLAGS_OK, "flag.set", buf);
	ck_assert_uint_eq(strlen(fs->flag[flags_find(fs, "dark_mode")].reason),
	    FLAGS_REASON_MAX);

	/* The ops are the writes, named as their records name them. */
	ck_assert_int_eq(flags_op_parse("flag.set", &op), 0);
	ck_assert_int_eq(op, FLAGS_OP_SET);
	ck_assert_int_eq(flags_op_parse("stage.emergency", &op), 0);
	ck_assert_int_eq(op, FLAGS_OP_STAGE_EMERGENCY);
	ck_assert_int_eq(flags_op_parse("flag.get", &op), -1);
	ck_assert_int_eq(flags_op_parse(NULL, &op), -1);
	run(FLAGS_INVALID_PARAMS, "flag.list", NULL);
}
END_TEST

START_TEST(test_reset)
{
	const json_t	*rec;
	json_t		*evs;

	flag_set("dark_mode", "false");
	flag_set("checkout_rollout", "50");
	flag_set("use_ets_agent_registry", "true");
	run(FLAGS_OK, "flag.reset", "{\"name\": \"dark_mode\", \"reason\": \"r\"}");
	ck_assert_int_eq(val("dark_mode"), 100);
	ck_assert_int_eq(val("checkout_rollout"), 50);
	ck_assert_str_eq(fs->flag[flags_find(fs, "dark_mode")].reason, "r");

	rec = run(FLAGS_OK, "flag.reset", NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(rec, "changes")), 2);
	expect_stage_values(0, 25, 100);
	evs = flags_result_json(fs, rec);
	ck_assert_uint_eq(json_array_size(json_object_get(evs, "flags")), NDEMO);
	json_decref(evs);

	/* A named reset is recorded even when nothing changes... */
	rec = run(FLAGS_OK, "flag.reset", "{\"name\": \"checkout_rollout\"}");
	ck_assert_uint_eq(json_array_size(json_object_get(rec, "changes")), 1);
	ck_assert_int_eq(fs->flag[flags_find(fs, "checkout_rollout")].changed_at,
	    clock_ms);
	/* ...and makes no event. */
	evs = flags_events_json(fs, rec);
	ck_assert_uint_eq(json_array_size(evs), 0);
	json_decref(evs);

	/* Reset turns stage flags off too, but leaves the stage alone. */
	stage_set(1);
	flag_set("dark_mode", "false");
	flag_set("checkout_rollout", "35");
	rec = run(FLAGS_OK, "flag.reset", NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(rec, "changes")), 4);
	ck_assert_int_eq(fs->stage, 1);
	ck_assert_int_eq(val("use_ets_agent_registry"), 0);
	ck_assert_int_eq(val("dark_mode"), 100);
	ck_assert_ptr_nonnull(fs->saved[0]);
	stage_set(2);
	ck_assert_int_eq(val("use_ets_agent_registry"), 0);
	ck_assert_int_eq(val("use_logger_error_context"), 100);
}
END_TEST

START_TEST(test_changed_by)
{
	json_t	*j;

	flag_set("checkout_rollout", "40");
	check_json(flags_flag_json(fs, (size_t)flags_find(fs, "checkout_rollout")),
	    "{\"name\": \"checkout_rollout\", \"value\": 40, \"default\": 25,"
	    " \"description\": \"\", \"changed_at\": \"2024-05-01T12:00:01.000Z\","
	    " \"changed_by\": {\"uid\": 1000, \"pid\": 4242}, \"reason\": null}");
	run(FLAGS_OK, "stage.set", "{\"stage\": 1, \"reason\": \"migrate\"}");
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

/* --- records --------------------------------------------------------------------- */

/* A sequence with every kind of record. */
static void
busy_day(void)
{
	struct flags_ctx ctx = { 0, NULL, "guard: 11 restarts within 60 s "
	    "after stage 4 (limit 10)" };
	json_t		*rec;
	char		 err[256];
	int		*before, from;
	size_t		 i;

	flag_set("checkout_rollout", "30");
	stage_set(2);
	flag_set("use_logger_error_context", "false");
	run(FLAGS_OK, "flag.reset", "{\"name\": \"use_logger_error_context\"}");
	stage_set(4);
	flag_set("dark_mode", "false");
	rollback(3);
	stage_set(4);
	/* The guard's rollback, as the daemon would make it. */
	ctx.now_ms = clock_ms += 1000;
	ck_assert_int_eq(flags_op_guard(fs, &ctx, &rec, err, sizeof(err)),
	    FLAGS_OK);
	before = xcalloc(fs->nflags, sizeof(int));
	for (i = 0; i < fs->nflags; i++)
		before[i] = fs->flag[i].value;
	from = fs->stage;
	ck_assert_int_eq(flags_apply(fs, rec), 0);
	check_describes(rec, before, from);
	free(before);
	json_array_append_new(journal, rec);
	run(FLAGS_OK, "flag.reset", NULL);
	run(FLAGS_OK, "stage.rollback", NULL);
	run(FLAGS_OK, "stage.emergency", "{\"reason\": \"stop\"}");
	stage_set(3);
	flag_set("checkout_rollout", "77");
}

START_TEST(test_replay)
{
	struct flags	*fresh = flags_new(conf);
	json_t		*live, *replayed, *copy, *rec;
	char		*text;
	size_t		 i, bad;

	busy_day();
	/* Through text, as the journal holds them. */
	copy = json_array();
	json_array_foreach(journal, i, rec) {
		text = json_dumps(rec, JSON_COMPACT);
		json_array_append_new(copy, parse_json(text));
		free(text);
	}
	ck_assert_int_eq(flags_replay(fresh, copy, &bad), 0);
	live = flags_snapshot_json(fs);
	replayed = flags_snapshot_json(fresh);
	ck_assert_msg(json_equal(live, replayed), "replay differs");
	ck_assert_int_eq(fresh->stage, 3);
	ck_assert_int_eq(fresh->flag[flags_find(fresh, "checkout_rollout")].value,
	    77);
	json_decref(live);
	json_decref(replayed);
	json_decref(copy);
	flags_free(fresh);
}
END_TEST

START_TEST(test_replay_unknown_names)
{
	struct config	*legacy = parse(legacy_text);
	struct flags	*old = fs, *now;
	size_t		 i, bad;
	int		 k;

	/* Records made while legacy_flag was configured... */
	fs = flags_new(legacy);
	stage_set(2);
	flag_set("legacy_flag", "30");
	flag_set("checkout_rollout", "45");
	stage_set(3);
	rollback(2);
	ck_assert_int_eq(val("legacy_flag"), 30);
	rollback(1);
	ck_assert_int_eq(val("legacy_flag"), 100);
	flags_free(old);

	/* ...replayed after it was removed. */
	now = flags_new(conf);
	ck_assert_int_eq(flags_replay(now, journal, &bad), 0);
	ck_assert_int_eq(now->stage, 1);
	ck_assert_int_eq(flags_find(now, "legacy_flag"), -1);
	for (i = 0; i < now->nflags; i++)
		ck_assert_int_eq(now->flag[i].value,
		    fs->flag[flags_find(fs, now->flag[i].name)].value);
	for (k = 0; k < now->stage; k++)
		for (i = 0; i < now->nflags; i++)
			ck_assert_int_eq(now->saved[k][i],
			    fs->saved[k][flags_find(fs, now->flag[i].name)]);
	flags_free(fs);
	fs = now;
	config_free(legacy);
	/* And the replayed state goes on working. */
	rollback(0);
	expect_stage_values(0, 25, 100);
}
END_TEST

static const char *const malformed[] = {
	"[]",
	"{}",
	"{\"v\": 2, \"op\": \"flag.set\", \"at\": 1, \"changes\": []}",
	"{\"v\": 1, \"op\": \"flag.nope\", \"at\": 1, \"changes\": []}",
	"{\"v\": 1, \"op\": \"flag.set\", \"changes\": []}",
	"{\"v\": 1, \"op\": \"flag.set\", \"at\": 1}",
	"{\"v\": 1, \"op\": \"flag.set\", \"at\": 1, \"changes\": [{\"name\": 1,"
	    " \"new\": 5}]}",
	"{\"v\": 1, \"op\": \"flag.set\", \"at\": 1, \"changes\": [{\"name\":"
	    " \"dark_mode\", \"new\": \"on\"}]}",
	"{\"v\": 1, \"op\": \"flag.set\", \"at\": 1, \"by\": 5, \"changes\": []}",
	"{\"v\": 1, \"op\": \"flag.set\", \"at\": 1, \"reason\": 5, \"changes\": []}",
	"{\"v\": 1, \"op\": \"flag.set\", \"at\": 1, \"seq\": -1, \"changes\": []}",
	"{\"v\": 1, \"op\": \"stage.set\", \"at\": 1, \"kind\": \"set\","
	    " \"changes\": []}",
	"{\"v\": 1, \"op\": \"stage.set\", \"at\": 1, \"kind\": \"sideways\","
	    " \"stage\": {\"from\": 0, \"to\": 1}, \"changes\": []}",
	"{\"v\": 1, \"op\": \"stage.set\", \"at\": 1, \"kind\": \"set\","
	    " \"stage\": {\"from\": 0, \"to\": 1}, \"changes\": [],"
	    " \"push\": [{\"stage\": 1, \"values\": {\"dark_mode\": true}}]}",
	/* A change first, then a bad part: nothing at all is applied. */
	"{\"v\": 1, \"op\": \"stage.set\", \"at\": 1, \"kind\": \"set\","
	    " \"stage\": {\"from\": 0, \"to\": \"1\"}, \"changes\":"
	    " [{\"name\": \"dark_mode\", \"old\": 100, \"new\": 0}]}",
};

/*
 * A record that does not apply stops the replay there: the records after
 * it were made on top of it, so skipping it would change them.
 */
START_TEST(test_replay_stops)
{
	struct flags	*fresh = flags_new(conf), *upto = flags_new(conf);
	json_t		*copy, *head, *a, *b;
	size_t		 bad = 99, i;

	busy_day();
	ck_assert_uint_gt(json_array_size(journal), 3);
	copy = json_deep_copy(journal);
	json_array_insert_new(copy, 2, parse_json(malformed[_i]));
	ck_assert_int_eq(flags_replay(fresh, copy, &bad), -1);
	ck_assert_uint_eq(bad, 2);
	head = json_array();
	for (i = 0; i < 2; i++)
		json_array_append(head, json_array_get(journal, i));
	ck_assert_int_eq(flags_replay(upto, head, &bad), 0);
	a = flags_snapshot_json(fresh);
	b = flags_snapshot_json(upto);
	ck_assert_msg(json_equal(a, b), "records after the bad one applied");
	json_decref(a);
	json_decref(b);
	json_decref(head);
	json_decref(copy);
	flags_free(fresh);
	flags_free(upto);
}
END_TEST

START_TEST(test_apply_malformed)
{
	json_t	*before, *after, *rec;

	stage_set(1);
	before = flags_snapshot_json(fs);
	rec = parse_json(malformed[_i]);
	ck_assert_int_eq(flags_apply(fs, rec), -1);
	after = flags_snapshot_json(fs);
	ck_assert_msg(json_equal(before, after), "%s changed the state",
	    malformed[_i]);
	json_decref(rec);
	json_decref(before);
	json_decref(after);
}
END_TEST

START_TEST(test_apply_clamps)
{
	json_t	*rec;

	rec = parse_json("{\"v\": 1, \"op\": \"flag.set\", \"at\": 5, \"by\": null,"
	    " \"reason\": null, \"changes\": ["
	    " {\"name\": \"checkout_rollout\", \"old\": 25, \"new\": 150},"
	    " {\"name\": \"dark_mode\", \"old\": 100, \"new\": -4},"
	    " {\"name\": \"gone\", \"old\": 0, \"new\": 100}]}");
	ck_assert_int_eq(flags_apply(fs, rec), 0);
	json_decref(rec);
	ck_assert_int_eq(val("checkout_rollout"), 100);
	ck_assert_int_eq(val("dark_mode"), 0);

	/* A stage beyond the configured ones, with too few saved sets. */
	rec = parse_json("{\"v\": 1, \"op\": \"stage.set\", \"at\": 6,"
	    " \"kind\": \"set\", \"stage\": {\"from\": 0, \"to\": 9},"
	    " \"push\": [{\"stage\": 1, \"values\": {\"checkout_rollout\": 5,"
	    " \"gone\": 7}}], \"changes\": [{\"name\":"
	    " \"enforce_no_process_dict\", \"old\": 0, \"new\": 100}],"
	    " \"seq\": 17}");
	ck_assert_int_eq(flags_apply(fs, rec), 0);
	json_decref(rec);
	ck_assert_int_eq(fs->stage, 4);
	ck_assert_uint_eq(fs->seq, 17);
	ck_assert_ptr_nonnull(fs->saved[3]);
	/* The pushed set; a name it lacks took the value then in force. */
	ck_assert_int_eq(fs->saved[0][flags_find(fs, "checkout_rollout")], 5);
	ck_assert_int_eq(fs->saved[0][flags_find(fs, "dark_mode")], 0);
	/* Padding: the values before the record. */
	ck_assert_int_eq(fs->saved[3][flags_find(fs, "checkout_rollout")], 100);
	ck_assert_int_eq(fs->saved[3][flags_find(fs, "enforce_no_process_dict")],
	    0);

	rollback(3);
	ck_assert_int_eq(val("enforce_no_process_dict"), 0);
	rollback(0);
	ck_assert_int_eq(val("checkout_rollout"), 5);
	ck_assert_int_eq(fs->stage, 0);
}
END_TEST

START_TEST(test_results_and_events)
{
	const json_t	*rec;
	json_t		*evs;

	rec = run(FLAGS_OK, "flag.set", "{\"name\": \"dark_mode\", \"value\": false,"
	    " \"reason\": \"night\"}");
	check_json(flags_result_json(fs, rec), "{\"name\": \"dark_mode\","
	    " \"value\": false, \"default\": true, \"description\": \"\","
	    " \"changed_at\": \"2024-05-01T12:00:01.000Z\", \"changed_by\":"
	    " {\"uid\": 1000, \"pid\": 4242}, \"reason\": \"night\"}");
	check_json(flags_events_json(fs, rec), "[{\"type\": \"flag.changed\","
	    " \"fields\": {\"name\": \"dark_mode\", \"old\": true, \"new\": false,"
	    " \"by\": {\"uid\": 1000, \"pid\": 4242}, \"reason\": \"night\"}}]");

	rec = run(FLAGS_OK, "flag.set", "{\"name\": \"dark_mode\", \"value\": 50}");
	check_json(flags_events_json(fs, rec), "[{\"type\": \"flag.changed\","
	    " \"fields\": {\"name\": \"dark_mode\", \"old\": false, \"new\": 50,"
	    " \"by\": {\"uid\": 1000, \"pid\": 4242}, \"reason\": null}}]");

	rec = run(FLAGS_OK, "flag.reset", "{\"name\": \"dark_mode\"}");
	evs = flags_result_json(fs, rec);
	ck_assert_uint_eq(json_array_size(json_object_get(evs, "flags")), 1);
	check_json(json_incref(json_object_get(json_array_get(json_object_get(
	    evs, "flags"), 0), "value")), "true");
	json_decref(evs);

	rec = run(FLAGS_OK, "stage.set", "{\"stage\": 2, \"reason\": \"go\"}");
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

	run(FLAGS_OK, "stage.set", "{\"stage\": 2, \"reason\": \"go\"}");
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

/* --- snapshots and reloads ---------------------------------------------------------- */

START_TEST(test_snapshot_roundtrip)
{
	struct flags	*fresh = flags_new(conf);
	json_t		*snap, *again;
	char		 err[256];

	busy_day();
	snap = flags_snapshot_json(fs);
	ck_assert_int_eq(flags_restore(fresh, snap, err, sizeof(err)), 0);
	again = flags_snapshot_json(fresh);
	ck_assert(json_equal(snap, again));
	json_decref(again);
	/* The restored state goes on like the live one. */
	flags_free(fs);
	fs = fresh;
	rollback(1);
	ck_assert_int_eq(val("checkout_rollout"), 25);
	ck_assert_int_eq(val("use_ets_agent_registry"), 100);
	json_decref(snap);
}
END_TEST

static const char *const bad_snaps[] = {
	"[]",
	"{\"stage\": -1, \"flags\": {}, \"saved\": []}",
	"{\"stage\": 0, \"flags\": [], \"saved\": []}",
	"{\"stage\": 0, \"flags\": {\"dark_mode\": {\"value\": 101,"
	    " \"changed_at\": 0}}, \"saved\": []}",
	"{\"stage\": 0, \"flags\": {\"dark_mode\": {\"value\": true,"
	    " \"changed_at\": 0}}, \"saved\": []}",
	"{\"stage\": 0, \"flags\": {\"dark_mode\": {\"value\": 1}}, \"saved\": []}",
	"{\"stage\": 0, \"flags\": {\"dark_mode\": {\"value\": 1, \"changed_at\": 0,"
	    " \"by\": \"me\"}}, \"saved\": []}",
	"{\"stage\": 2, \"flags\": {}, \"saved\": [{}]}",
	"{\"stage\": 1, \"flags\": {}, \"saved\": [{\"dark_mode\": \"x\"}]}",
	"{\"stage\": 0, \"flags\": {}, \"saved\": [], \"history\": [1]}",
	"{\"stage\": 0, \"flags\": {}, \"saved\": [], \"seq\": \"3\"}",
};

START_TEST(test_snapshot_bad)
{
	json_t	*snap, *before, *after;
	char	 err[256];

	flag_set("checkout_rollout", "33");
	before = flags_snapshot_json(fs);
	snap = parse_json(bad_snaps[_i]);
	err[0] = '\0';
	ck_assert_int_eq(flags_restore(fs, snap, err, sizeof(err)), -1);
	ck_assert_msg(err[0] != '\0', "no message");
	after = flags_snapshot_json(fs);
	ck_assert(json_equal(before, after));
	json_decref(snap);
	json_decref(before);
	json_decref(after);
}
END_TEST

START_TEST(test_reconfigure)
{
	struct config	*re = parse(reload_text);
	json_t		*j;

	flag_set("checkout_rollout", "60");
	stage_set(3);
	flag_set("dark_mode", "false");
	flags_reconfigure(fs, re);
	config_free(conf);
	conf = re;
	ck_assert_uint_eq(fs->nflags, 7);
	ck_assert_int_eq(fs->nstages, 2);
	ck_assert_int_eq(fs->stage, 2);
	ck_assert_int_eq(flags_find(fs, "use_ets_sampled_events"), -1);
	ck_assert_int_eq(val("new_flag"), 100);
	ck_assert_int_eq(val("use_genserver_telemetry"), 100);
	ck_assert_int_eq(val("dark_mode"), 0);
	ck_assert_int_eq(val("checkout_rollout"), 60);
	ck_assert_uint_eq(json_array_size(fs->history), 1);
	j = flags_stage_json(fs);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "stages")), 2);
	json_decref(j);
	rollback(1);
	ck_assert_int_eq(val("use_logger_error_context"), 0);
	ck_assert_int_eq(val("use_genserver_telemetry"), 0);
	ck_assert_int_eq(val("new_flag"), 100);
	ck_assert_int_eq(val("checkout_rollout"), 60);
	ck_assert_int_eq(val("dark_mode"), 100);
	run(FLAGS_NOT_FOUND, "stage.set", "{\"stage\": 3}");
}
END_TEST

/* --- the guard ------------------------------------------------------------------- */

START_TEST(test_guard_edges)
{
	struct guard_conf g = { true, 10, 60 };
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
	struct guard_conf g = { true, 10, 60 };
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
	flag_set("checkout_rollout", "12");
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

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_initial);
	tcase_add_test(tc, test_stage_cumulative);
	tcase_add_test(tc, test_stage_saved_values);
	tcase_add_test(tc, test_rollback_restores_saved);
	tcase_add_test(tc, test_rollback_to_zero_as_they_were);
	tcase_add_test(tc, test_rollback_default);
	tcase_add_test(tc, test_emergency);
	tcase_add_test(tc, test_stage_conflict);
	tcase_add_test(tc, test_stage_not_found);
	tcase_add_test(tc, test_unknown_flag);
	tcase_add_loop_test(tc, test_bad_values, 0, (int)nitems(bad_values));
	tcase_add_loop_test(tc, test_good_values, 0, (int)nitems(good_values));
	tcase_add_test(tc, test_params);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_changed_by);
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_replay_unknown_names);
	tcase_add_loop_test(tc, test_apply_malformed, 0, (int)nitems(malformed));
	tcase_add_loop_test(tc, test_replay_stops, 0, (int)nitems(malformed));
	tcase_add_test(tc, test_apply_clamps);
	tcase_add_test(tc, test_results_and_events);
	tcase_add_test(tc, test_list_and_stage_json);
	tcase_add_test(tc, test_history_cap);
	tcase_add_test(tc, test_snapshot_roundtrip);
	tcase_add_loop_test(tc, test_snapshot_bad, 0, (int)nitems(bad_snaps));
	tcase_add_test(tc, test_reconfigure);
	tcase_add_test(tc, test_guard_edges);
	tcase_add_test(tc, test_guard_state);
	tcase_add_test(tc, test_guard_rollback);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(flags_suite());
	int	 failed;

	/* Each test in its own process (CK_FORK unless CK_FORK=no). */
	srunner_set_fork_status(sr, CK_FORK_GETENV);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
