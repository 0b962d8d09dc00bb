/*
 * flagcoretest.c: the demo state and the change runner of the flag core's
 * unit suites (flagcoretest.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "flagcoretest.h"
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

const char demo_text[] =
	"{ \"flags\": {\n" DEMO_FLAGS "\n},\n"
	"  \"stages\": [\n" DEMO_STAGES "\n],\n"
	"  \"guard\": { \"max_restarts\": 10, \"window_s\": 60 },\n"
	SUPERVISOR "\n}\n";

/* The demo with one more flag in stage 1. */
const char legacy_text[] =
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
const char reload_text[] =
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

/* One flag and no stages. */
const char nostages_text[] =
	"{ \"flags\": { \"a\": {} },\n" SUPERVISOR "\n}\n";

/* Each stage flag of the demo and its stage ("-": in none). */
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

struct config	*conf;
struct flags	*fs;
json_t		*journal;
char		 last_err[512];
int64_t		 clock_ms;
struct flags_actor alice = { 1000, 4242, "" };

struct config *
parse_conf(const char *text)
{
	struct config	*c = NULL;
	char		 err[1024];

	ck_assert_msg(config_parse(text, strlen(text), "/etc/warden/w.json",
	    &c, err, sizeof(err)) == 0, "config: %s", err);
	return c;
}

void
flagcoretest_setup(void)
{
	conf = parse_conf(demo_text);
	fs = flags_new(conf);
	journal = json_array();
	clock_ms = T0;
	last_err[0] = '\0';
}

void
flagcoretest_teardown(void)
{
	json_decref(journal);
	flags_free(fs);
	config_free(conf);
}

int
val_of(const char *name)
{
	ssize_t	i = flags_find(fs, name);

	ck_assert_msg(i >= 0, "no flag %s", name);
	return fs->flag[i].value;
}

/* The flags named in want ("a=100 b=0") have those values. */
void
expect_values(const char *want)
{
	char	*names = xstrdup(want), *got = xstrdup("");
	char	*t, *name, *save;

	for (name = strtok_r(names, " ", &save); name != NULL;
	    name = strtok_r(NULL, " ", &save)) {
		name[strcspn(name, "=")] = '\0';
		xasprintf(&t, "%s%s%s=%d", got, *got != '\0' ? " " : "", name,
		    val_of(name));
		free(got);
		got = t;
	}
	ck_assert_str_eq(got, want);
	free(got);
	free(names);
}

json_t *
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

/*
 * A change as the protocol asks for it: the method's op, its params read,
 * then the op.
 */
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

/* Apply rec, see that it describes the change, and keep it in the journal. */
static void
flagcore_apply(json_t *rec)
{
	int	*before = xcalloc(fs->nflags, sizeof(int)), from = fs->stage;
	size_t	 i;

	for (i = 0; i < fs->nflags; i++)
		before[i] = fs->flag[i].value;
	ck_assert_int_eq(flags_apply(fs, rec), 0);
	check_describes(rec, before, from);
	free(before);
	json_array_append_new(journal, rec);
}

/*
 * One protocol request: the answer must be `want`; on success the record is
 * applied, checked and kept in the journal (returned, borrowed).
 */
const json_t *
try_op(enum flags_err want, const char *method, const char *params_text)
{
	json_t		*params = NULL, *before_snap, *after_snap, *rec = NULL;
	enum flags_err	 e;

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
	flagcore_apply(rec);
	return rec;
}

/* A stage method (stage.set, stage.rollback) to stage n, which must apply. */
static void
flagcore_stage_op(const char *method, int n)
{
	char	buf[64];

	snprintf(buf, sizeof(buf), "{\"stage\": %d}", n);
	try_op(FLAGS_OK, method, buf);
}

void
stage_set(int n)
{
	flagcore_stage_op("stage.set", n);
}

void
set_flag(const char *name, const char *value)
{
	char	buf[256];

	snprintf(buf, sizeof(buf), "{\"name\": \"%s\", \"value\": %s}", name,
	    value);
	try_op(FLAGS_OK, "flag.set", buf);
}

void
rollback(int n)
{
	flagcore_stage_op("stage.rollback", n);
}

/* At stage n, stages 1..n on and the others off; the other two as given. */
void
expect_stage_values(int n, int rollout, int dark)
{
	size_t	i;

	ck_assert_int_eq(fs->stage, n);
	for (i = 0; i < 7; i++)
		ck_assert_msg(val_of(stage_of[i][0]) ==
		    (atoi(stage_of[i][1]) <= n ? 100 : 0),
		    "%s is %d at stage %d", stage_of[i][0],
		    val_of(stage_of[i][0]), n);
	ck_assert_int_eq(val_of("checkout_rollout"), rollout);
	ck_assert_int_eq(val_of("dark_mode"), dark);
}

void
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

/* A sequence with every kind of record. */
void
busy_day(void)
{
	struct flags_ctx ctx = { 0, NULL, "guard: 11 restarts within 60 s "
	    "after stage 4 (limit 10)" };
	json_t		*rec;
	char		 err[256];

	set_flag("checkout_rollout", "30");
	stage_set(2);
	set_flag("use_logger_error_context", "false");
	try_op(FLAGS_OK, "flag.reset", "{\"name\": \"use_logger_error_context\"}");
	stage_set(4);
	set_flag("dark_mode", "false");
	rollback(3);
	stage_set(4);
	/* The guard's rollback, as the daemon would make it. */
	ctx.now_ms = clock_ms += 1000;
	ck_assert_int_eq(flags_op_guard(fs, &ctx, &rec, err, sizeof(err)),
	    FLAGS_OK);
	flagcore_apply(rec);
	try_op(FLAGS_OK, "flag.reset", NULL);
	try_op(FLAGS_OK, "stage.rollback", NULL);
	try_op(FLAGS_OK, "stage.emergency", "{\"reason\": \"stop\"}");
	stage_set(3);
	set_flag("checkout_rollout", "77");
}
