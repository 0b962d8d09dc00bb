/*
 * check_drill.c: failure drills without a daemon (src/core/drill*.c):
 * parsing and its errors, every shipped drill, matching, wait conditions,
 * and the report's measurements and renderings.
 */
#include <check.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill.h"
#include "util.h"
#include "suite.h"

static struct drill *
parse_ok(const char *text)
{
	struct drill	*d = NULL;
	char		 err[1024];

	err[0] = '\0';
	ck_assert_msg(drill_parse(text, strlen(text), "d.json", &d, err,
	    sizeof(err)) == 0, "unexpected error: %s", err);
	ck_assert_ptr_nonnull(d);
	return d;
}

static json_t *
js(const char *text)
{
	json_error_t	 je;
	json_t		*v;

	v = json_loads(text, JSON_DECODE_ANY, &je);
	ck_assert_msg(v != NULL, "bad JSON in the test: %s: %s", text,
	    je.text);
	return v;
}

/* --- parsing ---------------------------------------------------------- */

static const char full_drill[] =
	"{\n"
	"  \"name\": \"full\",\n"
	"  \"description\": \"every kind of step\",\n"
	"  \"steady_state\": [\n"
	"    { \"expect\": \"status\", \"match\": { \"health\": \"ok\" } }\n"
	"  ],\n"
	"  \"steps\": [\n"
	"    { \"name\": \"up\", \"do\": \"stage.set\", \"params\": "
	"{ \"stage\": 4 } },\n"
	"    { \"do\": [ { \"method\": \"service.kill\", \"params\": "
	"{ \"service\": \"*\" } },\n"
	"              { \"method\": \"table.delete\" } ] },\n"
	"    { \"expect\": \"status\", \"params\": { \"service\": \"r\" },\n"
	"      \"match\": { \"services\": [ { \"restarts\": "
	"{ \"$delta\": { \"$ge\": 1 } } } ] } },\n"
	"    { \"wait\": { \"recovered\": true }, \"within_ms\": 2000 },\n"
	"    { \"wait\": { \"service\": \"r\", \"state\": \"running\",\n"
	"                \"min_restarts\": { \"$delta\": 2 } }, "
	"\"within_ms\": 0 }\n"
	"  ],\n"
	"  \"rollback\": [ { \"do\": \"stage.emergency\" } ]\n"
	"}\n";

START_TEST(test_parse_full)
{
	struct drill		*d = parse_ok(full_drill);
	struct drill_step	*s;

	ck_assert_str_eq(d->file, "d.json");
	ck_assert_str_eq(d->name, "full");
	ck_assert_str_eq(d->description, "every kind of step");
	ck_assert_uint_eq(d->steady_state.n, 1);
	ck_assert_uint_eq(d->steps.n, 5);
	ck_assert_uint_eq(d->rollback.n, 1);

	s = &d->steady_state.step[0];
	ck_assert_int_eq(s->kind, DRILL_EXPECT);
	ck_assert(!s->baseline);
	ck_assert_ptr_null(s->calls[0].params);

	s = &d->steps.step[0];
	ck_assert_int_eq(s->kind, DRILL_DO);
	ck_assert_str_eq(s->name, "up");
	ck_assert(!s->batch);
	ck_assert_uint_eq(s->ncalls, 1);
	ck_assert_str_eq(s->calls[0].method, "stage.set");
	ck_assert_int_eq(json_integer_value(json_object_get(s->calls[0].params,
	    "stage")), 4);

	s = &d->steps.step[1];
	ck_assert(s->batch);
	ck_assert_ptr_null(s->name);
	ck_assert_uint_eq(s->ncalls, 2);
	ck_assert_str_eq(s->calls[0].method, "service.kill");
	ck_assert_str_eq(s->calls[1].method, "table.delete");
	ck_assert_ptr_null(s->calls[1].params);

	s = &d->steps.step[2];
	ck_assert_int_eq(s->kind, DRILL_EXPECT);
	ck_assert(s->baseline);
	ck_assert(json_is_object(s->match));

	s = &d->steps.step[3];
	ck_assert_int_eq(s->kind, DRILL_WAIT);
	ck_assert_int_eq(s->within_ms, 2000);
	ck_assert(!s->baseline);
	ck_assert(json_is_true(json_object_get(s->condition, "recovered")));

	s = &d->steps.step[4];
	ck_assert(s->baseline);
	ck_assert_int_eq(s->within_ms, 0);

	ck_assert_ptr_eq(drill_phase_steps(d, DRILL_BEFORE), &d->steady_state);
	ck_assert_ptr_eq(drill_phase_steps(d, DRILL_AFTER), &d->steady_state);
	ck_assert_ptr_eq(drill_phase_steps(d, DRILL_ROLLBACK), &d->rollback);
	drill_free(d);
}
END_TEST

/* Empty steady_state and rollback are fine; steps only need one. */
START_TEST(test_parse_minimal)
{
	struct drill	*d = parse_ok("{\"name\":\"m\",\"steady_state\":[],"
	    "\"steps\":[{\"do\":\"ping\"}],\"rollback\":[]}");

	ck_assert_ptr_null(d->description);
	ck_assert_uint_eq(d->steady_state.n, 0);
	ck_assert_uint_eq(d->rollback.n, 0);
	ck_assert_uint_eq(d->steps.n, 1);
	drill_free(d);
	drill_free(NULL);
}
END_TEST

static const char *const shipped_names[] = {
	"conf/drills/kill-registry.json",
	"conf/drills/rest-for-one.json",
	"conf/drills/table-delete.json",
	"conf/drills/table-corrupt.json",
	"conf/drills/stage-migration.json",
	"conf/drills/crash-loop-escalation.json",
	"conf/drills/guard-rollback.json",
	"conf/drills/extreme-failure.json",
	"conf/drills/reexec.json",
};

static char *
slurp(const char *path, size_t *len)
{
	FILE	*fp = fopen(path, "r");
	char	*buf;
	long	 n;

	ck_assert_msg(fp != NULL, "%s: cannot open (run from the top of the "
	    "tree)", path);
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	ck_assert_int_ge(n, 0);
	rewind(fp);
	buf = xmalloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* Every file in conf/drills parses, and the required ones are there. */
START_TEST(test_shipped)
{
	struct drill	*d;
	glob_t		 g;
	size_t		 i, k, len, found = 0;
	char		*text, err[1024];

	ck_assert_int_eq(glob("conf/drills/*.json", 0, NULL, &g), 0);
	for (i = 0; i < g.gl_pathc; i++) {
		text = slurp(g.gl_pathv[i], &len);
		ck_assert_msg(drill_parse(text, len, g.gl_pathv[i], &d, err,
		    sizeof(err)) == 0, "%s", err);
		/* Something to undo or nothing touched, and a check first. */
		ck_assert_msg(d->steady_state.n > 0, "%s: no steady state",
		    g.gl_pathv[i]);
		for (k = 0; k < nitems(shipped_names); k++)
			if (strcmp(g.gl_pathv[i], shipped_names[k]) == 0)
				found++;
		drill_free(d);
		free(text);
	}
	ck_assert_uint_eq(found, nitems(shipped_names));
	globfree(&g);
}
END_TEST

/* The extreme drill kills every worker and deletes the table in one batch. */
START_TEST(test_shipped_extreme)
{
	struct drill		*d;
	struct drill_step	*s = NULL;
	size_t			 i, len;
	char			*text, err[512];

	text = slurp("conf/drills/extreme-failure.json", &len);
	ck_assert_int_eq(drill_parse(text, len, "x", &d, err, sizeof(err)), 0);
	for (i = 0; i < d->steps.n; i++)
		if (d->steps.step[i].batch)
			s = &d->steps.step[i];
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->ncalls, 2);
	ck_assert_str_eq(s->calls[0].method, "service.kill");
	ck_assert_str_eq(json_string_value(json_object_get(s->calls[0].params,
	    "service")), "*");
	ck_assert_str_eq(s->calls[1].method, "table.delete");
	ck_assert_uint_eq(d->rollback.n, 1);
	ck_assert_str_eq(d->rollback.step[0].calls[0].method,
	    "stage.emergency");
	drill_free(d);
	free(text);
}
END_TEST

static const struct {
	const char	*what;
	const char	*text;
	const char	*err;
} bad[] = {
	{ "syntax",
	    "{\n  \"name\": \"x\"\n  \"steps\": []\n}",
	    "bad.json:3:9: '}' expected near '\"steps\"'" },
	{ "duplicate_key",
	    "{\"name\": \"a\", \"name\": \"b\"}",
	    "bad.json:1:20: duplicate object key near '\"name\"'" },
	{ "not_object",
	    "  [1]",
	    "bad.json:1:3: expected an object" },
	{ "unknown_top_key",
	    "{\n  \"name\": \"x\",\n  \"stepz\": []\n}",
	    "bad.json:3:3: stepz: unknown key" },
	{ "missing_name",
	    "{\"steps\": []}",
	    "bad.json:1:1: name: required key is missing" },
	{ "empty_name",
	    "{\"name\": \"\"}",
	    "bad.json:1:10: name: expected a non-empty string" },
	{ "description_number",
	    "{\"name\": \"x\", \"description\": 3}",
	    "bad.json:1:30: description: expected a non-empty string" },
	{ "missing_steady_state",
	    "{\"name\": \"x\", \"steps\": [], \"rollback\": []}",
	    "bad.json:1:1: steady_state: required key is missing" },
	{ "steps_not_array",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": {}}",
	    "bad.json:1:44: steps: expected an array of steps" },
	{ "steps_empty",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": []}",
	    "bad.json:1:44: steps: expected at least one step" },
	{ "missing_rollback",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": "
	    "[{\"do\": \"ping\"}]}",
	    "bad.json:1:1: rollback: required key is missing" },
	{ "step_not_object",
	    "{\"name\": \"x\", \"steady_state\": [],\n"
	    " \"steps\": [{\"do\": \"ping\"}, \"ping\"]}",
	    "bad.json:2:28: steps[1]: expected a step: an object with "
	    "\"do\", \"expect\" or \"wait\"" },
	{ "step_unknown_key",
	    "{\"name\": \"x\", \"steady_state\": [],\n"
	    " \"steps\": [\n"
	    "   {\"do\": \"ping\"},\n"
	    "   {\"do\": \"ping\", \"sleep_ms\": 100}\n"
	    " ]}",
	    "bad.json:4:19: steps[1].sleep_ms: unknown key" },
	{ "step_no_kind",
	    "{\"name\": \"x\", \"steady_state\": [\n"
	    "   {\"name\": \"what?\"}]}",
	    "bad.json:2:4: steady_state[0]: expected one of \"do\", "
	    "\"expect\" or \"wait\"" },
	{ "step_two_kinds",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"do\": \"ping\", \"wait\": {\"stage\": 1}}]}",
	    "bad.json:2:19: steps[0].wait: a step is one of do, expect and "
	    "wait, and this one is already a do" },
	{ "step_name_empty",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"name\": \"\", \"do\": \"ping\"}]}",
	    "bad.json:2:13: steps[0].name: expected a non-empty string" },
	{ "do_number",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"do\": 42}]}",
	    "bad.json:2:11: steps[0].do: expected a method, or a batch: an "
	    "array of calls" },
	{ "do_empty_method",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"do\": \"\"}]}",
	    "bad.json:2:11: steps[0].do: expected a non-empty string" },
	{ "do_params_not_object",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"do\": \"status\", \"params\": [\"registry\"]}]}",
	    "bad.json:2:31: steps[0].params: expected an object" },
	{ "do_with_match",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"do\": \"status\", \"match\": {}}]}",
	    "bad.json:2:21: steps[0].match: only an expect step has a "
	    "match" },
	{ "do_with_within",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"do\": \"status\", \"within_ms\": 5}]}",
	    "bad.json:2:21: steps[0].within_ms: only a wait step has "
	    "within_ms" },
	{ "batch_empty",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"do\": []}]}",
	    "bad.json:2:11: steps[0].do: expected at least one call in a "
	    "batch" },
	{ "batch_member_string",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"do\": [{\"method\": \"ping\"}, \"table.delete\"]}]}",
	    "bad.json:2:32: steps[0].do[1]: expected a call: {\"method\": "
	    "METHOD, \"params\": {...}}" },
	{ "batch_member_no_method",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"do\": [{\"method\": \"ping\"},\n"
	    "           {\"params\": {}}]}]}",
	    "bad.json:3:12: steps[0].do[1].method: required key is missing" },
	{ "batch_member_unknown_key",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"do\": [{\"method\": \"ping\", \"id\": 3}]}]}",
	    "bad.json:2:31: steps[0].do[0].id: unknown key" },
	{ "batch_with_step_params",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"do\": [{\"method\": \"ping\"}], \"params\": {}}]}",
	    "bad.json:2:33: steps[0].params: a batch's calls carry their "
	    "own params" },
	{ "expect_without_match",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"expect\": \"status\"}]}",
	    "bad.json:2:4: steps[0].match: required key is missing" },
	{ "expect_unknown_operator",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"expect\": \"status\",\n"
	    "    \"match\": {\"services\": [{\"restarts\": {\"$gte\": 1}}]}}]}",
	    "bad.json:3:42: steps[0].match.services[0].restarts.$gte: "
	    "unknown operator (one of $gt, $ge, $lt, $le, $delta, $length, "
	    "$contains, $all, $last, $or)" },
	{ "expect_mixed_operators",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"expect\": \"status\",\n"
	    "    \"match\": {\"stage\": {\"$ge\": 1, \"x\": 2}}}]}",
	    "bad.json:3:35: steps[0].match.stage.x: operators ($...) and "
	    "keys cannot be mixed in one object" },
	{ "expect_comparison_string",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"expect\": \"status\", \"match\": {\"stage\": "
	    "{\"$lt\": \"4\"}}}]}",
	    "bad.json:2:52: steps[0].match.stage.$lt: expected a number" },
	{ "delta_in_steady_state",
	    "{\"name\": \"x\", \"steady_state\": [\n"
	    "   {\"expect\": \"table.info\", \"match\": {\"repairs\": "
	    "{\"$delta\": 0}}}]}",
	    "bad.json:2:51: steady_state[0].match.repairs.$delta: $delta "
	    "compares with the start of the steps: it belongs in steps and "
	    "rollback, not in steady_state" },
	{ "delta_on_write",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"expect\": \"stage.set\", \"params\": {\"stage\": 1},\n"
	    "    \"match\": {\"stage\": {\"$delta\": 1}}}]}",
	    "bad.json:3:25: steps[0].match.stage.$delta: $delta needs a "
	    "method that changes nothing (status, recovery, flag.get, "
	    "flag.list, stage.get, table.info): its baseline is the same "
	    "call at the start" },
	{ "delta_under_contains",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"expect\": \"status\", \"match\": {\"services\": "
	    "{\"$contains\": {\"restarts\": {\"$delta\": 1}}}}}]}",
	    "bad.json:2:75: steps[0].match.services.$contains.restarts.$delta: "
	    "$delta cannot be under $contains or $all: no one element is its "
	    "baseline" },
	{ "delta_bad_argument",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"expect\": \"status\", \"match\": {\"stage\": "
	    "{\"$delta\": \"one\"}}}]}",
	    "bad.json:2:55: steps[0].match.stage.$delta: expected a number or "
	    "a comparison such as {\"$ge\": 1}" },
	{ "length_negative",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"expect\": \"status\", \"match\": {\"services\": "
	    "{\"$length\": -1}}}]}",
	    "bad.json:2:59: steps[0].match.services.$length: expected an "
	    "integer >= 0 or a comparison such as {\"$ge\": 1}" },
	{ "or_not_array",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"expect\": \"status\", \"match\": {\"stage\": "
	    "{\"$or\": {\"stage\": 1}}}}]}",
	    "bad.json:2:52: steps[0].match.stage.$or: expected an array of "
	    "patterns, at least one" },
	{ "or_bad_alternative",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"expect\": \"status\", \"match\": {\"stage\": "
	    "{\"$or\": [1, {\"$gt\": null}]}}}]}",
	    "bad.json:2:64: steps[0].match.stage.$or[1].$gt: expected a "
	    "number" },
	{ "wait_not_object",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"wait\": \"recovered\", \"within_ms\": 100}]}",
	    "bad.json:2:13: steps[0].wait: expected a condition, such as "
	    "{\"recovered\": true}" },
	{ "wait_without_within",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"wait\": {\"recovered\": true}}]}",
	    "bad.json:2:4: steps[0].within_ms: required key is missing" },
	{ "wait_within_real",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"wait\": {\"recovered\": true}, \"within_ms\": 1.5}]}",
	    "bad.json:2:47: steps[0].within_ms: expected an integer from 0 "
	    "to 86400000" },
	{ "wait_within_negative",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"wait\": {\"recovered\": true}, \"within_ms\": -1}]}",
	    "bad.json:2:47: steps[0].within_ms: expected an integer from 0 "
	    "to 86400000" },
	{ "wait_with_params",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"wait\": {\"recovered\": true}, \"params\": {}, "
	    "\"within_ms\": 1}]}",
	    "bad.json:2:34: steps[0].params: a wait step has no params: its "
	    "condition is in \"wait\"" },
	{ "wait_delta_bad",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"wait\": {\"service\": \"r\", \"state\": \"running\",\n"
	    "             \"min_restarts\": {\"$delta\": -2}}, "
	    "\"within_ms\": 1}]}",
	    "bad.json:3:41: steps[0].wait.min_restarts.$delta: expected an "
	    "integer >= 0" },
	{ "wait_delta_other_key",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [\n"
	    "   {\"wait\": {\"service\": \"r\", \"state\": \"running\",\n"
	    "             \"min_restarts\": {\"$ge\": 2}}, \"within_ms\": 1}]}",
	    "bad.json:3:30: steps[0].wait.min_restarts: expected an integer, "
	    "or {\"$delta\": N}: N more than at the start of the steps" },
	{ "wait_delta_in_steady_state",
	    "{\"name\": \"x\", \"steady_state\": [\n"
	    "   {\"wait\": {\"service\": \"r\", \"state\": \"running\",\n"
	    "             \"min_restarts\": {\"$delta\": 1}}, "
	    "\"within_ms\": 1}]}",
	    "bad.json:3:31: steady_state[0].wait.min_restarts.$delta: $delta "
	    "compares with the start of the steps: it belongs in steps and "
	    "rollback, not in steady_state" },
	{ "rollback_bad_step",
	    "{\"name\": \"x\", \"steady_state\": [], \"steps\": [{\"do\": "
	    "\"ping\"}],\n"
	    " \"rollback\": [{\"do\": \"stage.emergency\"}, {\"undo\": "
	    "\"x\"}]}",
	    "bad.json:2:43: rollback[1].undo: unknown key" },
};

START_TEST(test_bad)
{
	struct drill	*d = (struct drill *)&d;
	char		 err[1024];

	memset(err, 'x', sizeof(err));
	ck_assert_msg(drill_parse(bad[_i].text, strlen(bad[_i].text),
	    "bad.json", &d, err, sizeof(err)) == -1, "%s: accepted",
	    bad[_i].what);
	ck_assert_ptr_null(d);
	ck_assert_msg(strcmp(err, bad[_i].err) == 0,
	    "%s:\n  got  \"%s\"\n  want \"%s\"", bad[_i].what, err,
	    bad[_i].err);
}
END_TEST

/* An error never spills past the buffer; no buffer at all is fine too. */
START_TEST(test_error_buffer)
{
	static const char	 text[] = "{\"name\": \"x\", \"oops\": 1}";
	struct drill		*d;
	char			 err[12];

	memset(err, 'x', sizeof(err));
	ck_assert_int_eq(drill_parse(text, strlen(text), "bad.json", &d, err,
	    8), -1);
	ck_assert_str_eq(err, "bad.jso");
	ck_assert_int_eq(err[8], 'x');
	ck_assert_int_eq(drill_parse(text, strlen(text), "bad.json", &d, NULL,
	    0), -1);
	ck_assert_ptr_null(d);
}
END_TEST

/* A key with a newline cannot break the one-line error. */
START_TEST(test_error_one_line)
{
	static const char	 text[] = "{\"name\": \"x\", \"a\\nb\": 1}";
	struct drill		*d;
	char			 err[256];

	ck_assert_int_eq(drill_parse(text, strlen(text), "bad.json", &d, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "bad.json:1:15: a?b: unknown key");
}
END_TEST

START_TEST(test_step_what)
{
	struct drill	*d = parse_ok(full_drill);
	char		*s;

	s = drill_step_what(&d->steps.step[0]);
	ck_assert_str_eq(s, "stage.set");
	free(s);
	s = drill_step_what(&d->steps.step[1]);
	ck_assert_str_eq(s, "[service.kill, table.delete]");
	free(s);
	s = drill_step_what(&d->steps.step[3]);
	ck_assert_str_eq(s, "{\"recovered\":true}");
	free(s);
	ck_assert_str_eq(drill_phase_name(DRILL_ROLLBACK), "rollback");
	ck_assert_str_eq(drill_kind_name(DRILL_WAIT), "wait");
	ck_assert(drill_method_reads("status"));
	ck_assert(drill_method_reads("flag.get"));
	ck_assert(!drill_method_reads("flag.set"));
	ck_assert(!drill_method_reads("service.kill"));
	drill_free(d);
}
END_TEST

/* --- matching ----------------------------------------------------------- */

static const struct {
	const char	*what;
	const char	*pattern;
	const char	*value;
	const char	*baseline;	/* NULL: none */
	const char	*why;		/* NULL: matches */
} matches[] = {
	{ "equal scalar", "\"pong\"", "\"pong\"", NULL, NULL },
	{ "other scalar", "\"pong\"", "\"ping\"", NULL,
	    "result: expected \"pong\", got \"ping\"" },
	{ "subset", "{\"health\":\"ok\"}",
	    "{\"health\":\"ok\",\"stage\":2,\"services\":[]}", NULL, NULL },
	{ "empty object matches any object", "{}", "{\"a\":1}", NULL, NULL },
	{ "value differs", "{\"health\":\"ok\"}", "{\"health\":\"recovering\"}",
	    NULL, "health: expected \"ok\", got \"recovering\"" },
	{ "key missing", "{\"stage\":0}", "{\"health\":\"ok\"}", NULL,
	    "stage: expected 0, got nothing" },
	{ "nested", "{\"table\":{\"healthy\":true}}",
	    "{\"table\":{\"healthy\":true,\"repairs\":3}}", NULL, NULL },
	{ "nested differs", "{\"table\":{\"healthy\":true}}",
	    "{\"table\":{\"healthy\":false,\"repairs\":3}}", NULL,
	    "table.healthy: expected true, got false" },
	{ "object against array", "{\"a\":1}", "[1]", NULL,
	    "result: expected {\"a\":1}, got [1]" },
	{ "array by position", "[{\"n\":\"a\"},{\"n\":\"b\"}]",
	    "[{\"n\":\"a\",\"x\":1},{\"n\":\"b\"}]", NULL, NULL },
	{ "array out of order", "[{\"n\":\"a\"},{\"n\":\"b\"}]",
	    "[{\"n\":\"b\"},{\"n\":\"a\"}]", NULL,
	    "[0].n: expected \"a\", got \"b\"" },
	{ "array longer", "{\"k\":[1,2]}", "{\"k\":[1,2,3]}", NULL,
	    "k: expected 2 elements, got 3" },
	{ "array against object", "{\"k\":[]}", "{\"k\":{}}", NULL,
	    "k: expected [], got {}" },
	{ "integer matches real", "{\"n\":1}", "{\"n\":1.0}", NULL, NULL },
	{ "real matches integer", "{\"n\":1.0}", "{\"n\":1}", NULL, NULL },
	{ "real differs", "{\"n\":1.5}", "{\"n\":1}", NULL,
	    "n: expected 1.5, got 1" },
	{ "number against string", "{\"n\":1}", "{\"n\":\"1\"}", NULL,
	    "n: expected 1, got \"1\"" },
	{ "null matches null", "{\"x\":null}", "{\"x\":null}", NULL, NULL },
	{ "null against a value", "{\"x\":null}", "{\"x\":0}", NULL,
	    "x: expected null, got 0" },
	{ "null is not missing", "{\"x\":null}", "{}", NULL,
	    "x: expected null, got nothing" },
	{ "false against null", "{\"x\":false}", "{\"x\":null}", NULL,
	    "x: expected false, got null" },
	{ "comparison", "{\"n\":{\"$ge\":1,\"$lt\":5}}", "{\"n\":4}", NULL,
	    NULL },
	{ "comparison fails", "{\"n\":{\"$ge\":1,\"$lt\":5}}", "{\"n\":5}",
	    NULL, "n: expected < 5, got 5" },
	{ "comparison on a string", "{\"n\":{\"$gt\":1}}", "{\"n\":\"9\"}",
	    NULL, "n: expected > 1, got \"9\"" },
	{ "comparison on a real", "{\"ms\":{\"$le\":2.5}}", "{\"ms\":2.25}",
	    NULL, NULL },
	{ "delta", "{\"r\":{\"$delta\":1}}", "{\"r\":4}", "{\"r\":3}", NULL },
	{ "delta zero", "{\"r\":{\"$delta\":0}}", "{\"r\":3}", "{\"r\":3}",
	    NULL },
	{ "delta fails", "{\"r\":{\"$delta\":1}}", "{\"r\":3}", "{\"r\":3}",
	    "r: expected 1 more than at the start (3), got 3" },
	{ "delta comparison", "{\"r\":{\"$delta\":{\"$ge\":1}}}",
	    "{\"r\":9}", "{\"r\":3}", NULL },
	{ "delta comparison fails", "{\"r\":{\"$delta\":{\"$ge\":1}}}",
	    "{\"r\":3}", "{\"r\":3}",
	    "r: expected a change >= 1 since the start (3), got 3" },
	{ "delta without baseline", "{\"r\":{\"$delta\":1}}", "{\"r\":3}",
	    "{}", "r: no baseline: the result at the start had no number "
	    "here" },
	{ "delta in arrays", "{\"s\":[{\"r\":{\"$delta\":2}}]}",
	    "{\"s\":[{\"r\":7}]}", "{\"s\":[{\"r\":5}]}", NULL },
	{ "length", "{\"k\":{\"$length\":2}}", "{\"k\":[1,{}]}", NULL, NULL },
	{ "length fails", "{\"k\":{\"$length\":{\"$ge\":3}}}", "{\"k\":[1]}",
	    NULL, "k: expected a length >= 3, got 1" },
	{ "length of a non-array", "{\"k\":{\"$length\":0}}", "{\"k\":\"\"}",
	    NULL, "k: expected an array for $length, got \"\"" },
	{ "contains", "{\"s\":{\"$contains\":{\"name\":\"b\",\"n\":{\"$gt\":0}}}}",
	    "{\"s\":[{\"name\":\"a\",\"n\":5},{\"name\":\"b\",\"n\":1}]}", NULL,
	    NULL },
	{ "contains fails", "{\"s\":{\"$contains\":{\"name\":\"c\"}}}",
	    "{\"s\":[{\"name\":\"a\"},{\"name\":\"b\"}]}", NULL,
	    "s: no element of 2 matches {\"name\":\"c\"}" },
	{ "all", "{\"f\":{\"$all\":{\"value\":false}}}",
	    "{\"f\":[{\"value\":false},{\"value\":false,\"x\":1}]}", NULL,
	    NULL },
	{ "all of none", "{\"f\":{\"$all\":{\"value\":false}}}", "{\"f\":[]}",
	    NULL, NULL },
	{ "all fails", "{\"f\":{\"$all\":{\"value\":false}}}",
	    "{\"f\":[{\"value\":false},{\"value\":25}]}", NULL,
	    "f[1].value: expected false, got 25" },
	{ "last", "{\"h\":{\"$last\":{\"kind\":\"guard\"}}}",
	    "{\"h\":[{\"kind\":\"set\"},{\"kind\":\"guard\"}]}", NULL, NULL },
	{ "last of none", "{\"h\":{\"$last\":{\"kind\":\"guard\"}}}",
	    "{\"h\":[]}", NULL,
	    "h: expected a last element, got an empty array" },
	{ "last with delta", "{\"h\":{\"$last\":{\"n\":{\"$delta\":1}}}}",
	    "{\"h\":[{\"n\":1},{\"n\":6}]}", "{\"h\":[{\"n\":5}]}", NULL },
	{ "or", "{\"s\":[{\"$or\":[{\"restarts\":0},"
	    "{\"uptime_ms\":{\"$ge\":10000}}]}]}",
	    "{\"s\":[{\"restarts\":3,\"uptime_ms\":12000}]}", NULL, NULL },
	{ "or, the first", "{\"n\":{\"$or\":[0,{\"$gt\":5}]}}",
	    "{\"n\":0}", NULL, NULL },
	{ "or fails", "{\"s\":[{\"$or\":[{\"restarts\":0},"
	    "{\"uptime_ms\":{\"$ge\":10000}}]}]}",
	    "{\"s\":[{\"restarts\":3,\"uptime_ms\":120}]}", NULL,
	    "s[0]: none of 2 alternatives matches; the first: "
	    "s[0].restarts: expected 0, got 3" },
	{ "or with delta", "{\"r\":{\"$or\":[{\"$delta\":1},"
	    "{\"$delta\":2}]}}", "{\"r\":5}", "{\"r\":3}", NULL },
	{ "long values are cut",
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
	    "1", NULL,
	    "result: expected \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aa..., got 1" },
};

START_TEST(test_match)
{
	json_t	*pat = js(matches[_i].pattern), *v = js(matches[_i].value);
	json_t	*base = matches[_i].baseline != NULL ?
		    js(matches[_i].baseline) : NULL;
	char	 why[512];
	bool	 ok;

	memset(why, 'x', sizeof(why));
	ok = drill_match(pat, v, base, why, sizeof(why));
	if (matches[_i].why == NULL)
		ck_assert_msg(ok, "%s: no match: %s", matches[_i].what, why);
	else {
		ck_assert_msg(!ok, "%s: matched", matches[_i].what);
		ck_assert_msg(strcmp(why, matches[_i].why) == 0,
		    "%s:\n  got  \"%s\"\n  want \"%s\"", matches[_i].what,
		    why, matches[_i].why);
	}
	json_decref(pat);
	json_decref(v);
	json_decref(base);
}
END_TEST

/* No buffer for the reason, and no value at all, are fine. */
START_TEST(test_match_no_buffer)
{
	json_t	*pat = js("{\"a\":1}"), *v = js("{\"a\":2}");

	ck_assert(!drill_match(pat, v, NULL, NULL, 0));
	ck_assert(!drill_match(pat, NULL, NULL, NULL, 0));
	json_decref(pat);
	json_decref(v);
}
END_TEST

/* --- baselines and wait conditions ------------------------------------- */

START_TEST(test_baseline_call)
{
	struct drill	*d = parse_ok(full_drill);
	const char	*method;
	json_t		*params;

	ck_assert(!drill_baseline_call(&d->steps.step[0], &method, &params));
	ck_assert_ptr_null(method);
	ck_assert_ptr_null(params);
	ck_assert(drill_baseline_call(&d->steps.step[2], &method, &params));
	ck_assert_str_eq(method, "status");
	ck_assert_str_eq(json_string_value(json_object_get(params, "service")),
	    "r");
	json_decref(params);
	/* A wait on restarts: status of its service. */
	ck_assert(drill_baseline_call(&d->steps.step[4], &method, &params));
	ck_assert_str_eq(method, "status");
	ck_assert_str_eq(json_string_value(json_object_get(params, "service")),
	    "r");
	json_decref(params);
	drill_free(d);
}
END_TEST

START_TEST(test_condition)
{
	struct drill	*d = parse_ok(full_drill);
	json_t		*base, *cond;
	char		 why[256];

	/* No $delta: the condition as written. */
	cond = drill_condition(&d->steps.step[3], NULL, why, sizeof(why));
	ck_assert(json_equal(cond, d->steps.step[3].condition));
	json_decref(cond);

	base = js("{\"services\":[{\"name\":\"r\",\"restarts\":3}],"
	    "\"supervisors\":[]}");
	cond = drill_condition(&d->steps.step[4], base, why, sizeof(why));
	ck_assert_int_eq(json_integer_value(json_object_get(cond,
	    "min_restarts")), 5);
	ck_assert_str_eq(json_string_value(json_object_get(cond, "state")),
	    "running");
	/* The drill's own condition is left alone. */
	ck_assert(json_is_object(json_object_get(d->steps.step[4].condition,
	    "min_restarts")));
	json_decref(cond);
	json_decref(base);

	/* A supervisor's restarts are under supervisors. */
	base = js("{\"services\":[],\"supervisors\":[{\"name\":\"r\","
	    "\"restarts\":1}]}");
	cond = drill_condition(&d->steps.step[4], base, why, sizeof(why));
	ck_assert_int_eq(json_integer_value(json_object_get(cond,
	    "min_restarts")), 3);
	json_decref(cond);
	json_decref(base);

	base = js("{\"services\":[]}");
	ck_assert_ptr_null(drill_condition(&d->steps.step[4], base, why,
	    sizeof(why)));
	ck_assert_str_eq(why, "no baseline: status at the start did not give "
	    "the restarts of r");
	json_decref(base);
	drill_free(d);
}
END_TEST

/* --- the report ----------------------------------------------------------- */

static const char report_drill[] =
	"{ \"name\": \"extreme\", \"steady_state\": [\n"
	"    { \"expect\": \"status\", \"match\": { \"health\": \"ok\" } } ],\n"
	"  \"steps\": [\n"
	"    { \"do\": [ { \"method\": \"service.kill\" }, "
	"{ \"method\": \"table.delete\" } ] },\n"
	"    { \"name\": \"all back\", \"wait\": { \"recovered\": true }, "
	"\"within_ms\": 2000 },\n"
	"    { \"expect\": \"flag.get\", \"params\": { \"name\": \"f\" },\n"
	"      \"match\": { \"value\": true } } ],\n"
	"  \"rollback\": [ { \"do\": \"stage.emergency\" } ] }";

static void
add_event(struct drill_report *r, const char *text)
{
	json_t	*ev = js(text);

	drill_report_event(r, ev);
	json_decref(ev);
}

/* A run of report_drill as the runner would record it. */
static void
build_report(struct drill_report *r, const struct drill *d, bool fail)
{
	json_t	*kill;

	drill_report_init(r, d);
	r->started = 1000.0;
	drill_report_step(r, DRILL_BEFORE, 0, &d->steady_state.step[0],
	    DRILL_PASS, 0.25, NULL);
	/* Two workers killed at 1000.5, the table deleted at 1000.4. */
	kill = js("{\"killed\":[{\"service\":\"a\",\"pid\":10},"
	    "{\"service\":\"b\",\"pid\":11}],\"signal\":\"KILL\","
	    "\"ts\":1000.5}");
	drill_report_kill(r, kill);
	json_decref(kill);
	drill_report_fault(r, "delete", 1000.4);
	drill_report_step(r, DRILL_STEPS, 0, &d->steps.step[0], DRILL_PASS,
	    0.5, NULL);
	add_event(r, "{\"seq\":1,\"ts\":999.0,\"type\":\"service.started\","
	    "\"service\":\"a\",\"pid\":9,\"restarts\":4}");
	add_event(r, "{\"seq\":2,\"ts\":1000.6,\"type\":\"service.exited\","
	    "\"service\":\"a\",\"pid\":10,\"signal\":\"KILL\"}");
	add_event(r, "{\"seq\":3,\"ts\":1000.7,\"type\":\"table.deleted\","
	    "\"name\":\"/t\"}");
	add_event(r, "{\"seq\":4,\"ts\":1000.75,\"type\":\"table.repaired\","
	    "\"name\":\"/t\",\"repair_ms\":0.3,\"repairs\":1}");
	add_event(r, "{\"seq\":5,\"ts\":1001.5,\"type\":\"service.started\","
	    "\"service\":\"a\",\"pid\":12,\"restarts\":1}");
	add_event(r, "{\"seq\":6,\"ts\":1001.75,\"type\":\"service.exited\","
	    "\"service\":\"b\",\"pid\":11,\"signal\":\"KILL\"}");
	add_event(r, "{\"seq\":7,\"ts\":1002.5,\"type\":\"service.ready\","
	    "\"service\":\"a\",\"pid\":12}");
	add_event(r, "{\"seq\":8,\"ts\":1003.0,\"type\":\"service.started\","
	    "\"service\":\"b\",\"pid\":13,\"restarts\":2}");
	add_event(r, "{\"seq\":9,\"ts\":1004.5,\"type\":\"service.ready\","
	    "\"service\":\"b\",\"pid\":13}");
	drill_report_step(r, DRILL_STEPS, 1, &d->steps.step[1], DRILL_PASS,
	    4.126, NULL);
	drill_report_recovered(r, DRILL_STEPS, 1, 1005.0);
	/* Ready after the wait's answer: not part of that recovery. */
	add_event(r, "{\"seq\":10,\"ts\":1006.0,\"type\":\"service.ready\","
	    "\"service\":\"c\",\"pid\":14}");
	drill_report_step(r, DRILL_STEPS, 2, &d->steps.step[2],
	    fail ? DRILL_FAIL : DRILL_PASS, 0.124,
	    fail ? "value: expected true, got false" : NULL);
	drill_report_step(r, DRILL_ROLLBACK, 0, &d->rollback.step[0],
	    DRILL_PASS, 12.5, NULL);
	drill_report_step(r, DRILL_AFTER, 0, &d->steady_state.step[0],
	    fail ? DRILL_SKIP : DRILL_PASS, fail ? -1 : 0.25, NULL);
	r->ended = 1020.0;
	drill_report_finish(r);
}

START_TEST(test_report_measure)
{
	struct drill		*d = parse_ok(report_drill);
	struct drill_report	 r;

	build_report(&r, d, false);
	ck_assert_int_eq(r.verdict, DRILL_PASS);
	ck_assert_ptr_null(r.error);
	ck_assert_uint_eq(r.nkills, 2);
	ck_assert_str_eq(r.kills[0].service, "a");
	ck_assert_int_eq(r.kills[0].pid, 10);
	ck_assert_double_eq_tol(r.kills[0].exited_ms, 0.1, 1e-9);
	ck_assert_double_eq_tol(r.kills[0].started_ms, 1.0, 1e-9);
	ck_assert_double_eq_tol(r.kills[0].ready_ms, 2.0, 1e-9);
	ck_assert_double_eq_tol(r.kills[1].exited_ms, 1.25, 1e-9);
	ck_assert_double_eq_tol(r.kills[1].started_ms, 2.5, 1e-9);
	ck_assert_double_eq_tol(r.kills[1].ready_ms, 4.0, 1e-9);
	ck_assert_uint_eq(r.nfaults, 1);
	ck_assert_double_eq_tol(r.faults[0].repaired_ms, 0.35, 1e-9);
	ck_assert_double_eq_tol(r.faults[0].repair_ms, 0.3, 1e-9);
	/* From the first fault (the delete at 1000.4) to b ready at 1004.5. */
	ck_assert_uint_eq(r.nrecoveries, 1);
	ck_assert_double_eq_tol(r.recoveries[0].recovered_ms, 4.1, 1e-9);
	/* The start before the drill is not one of its restarts. */
	ck_assert_int_eq(r.restarts, 2);
	drill_report_free(&r);
	drill_free(d);
}
END_TEST

/* What was never seen is not measured, and shows as such. */
START_TEST(test_report_unmeasured)
{
	struct drill		*d = parse_ok(report_drill);
	struct drill_report	 r;
	json_t			*j, *kill;

	drill_report_init(&r, d);
	kill = js("{\"killed\":[{\"service\":\"a\",\"pid\":10}],\"ts\":5.0}");
	drill_report_kill(&r, kill);
	json_decref(kill);
	/* No ts: nothing to measure from. */
	kill = js("{\"killed\":[{\"service\":\"a\",\"pid\":11}]}");
	drill_report_kill(&r, kill);
	json_decref(kill);
	drill_report_fault(&r, "corrupt", 6.0);
	drill_report_recovered(&r, DRILL_STEPS, 3, 4.0);
	r.events_lost = true;
	drill_report_finish(&r);
	ck_assert_uint_eq(r.nkills, 1);
	ck_assert(r.kills[0].exited_ms < 0 && r.kills[0].started_ms < 0 &&
	    r.kills[0].ready_ms < 0);
	ck_assert(r.faults[0].repaired_ms < 0 && r.faults[0].repair_ms < 0);
	/* Nothing had failed by then: nothing to recover from. */
	ck_assert(r.recoveries[0].recovered_ms < 0);
	ck_assert_int_eq(r.verdict, DRILL_PASS);
	j = drill_report_json(&r);
	ck_assert(json_is_null(json_object_get(json_array_get(json_object_get(
	    json_object_get(j, "measurements"), "services"), 0),
	    "started_ms")));
	ck_assert(json_is_false(json_object_get(json_object_get(j,
	    "measurements"), "events_complete")));
	ck_assert(json_is_null(json_object_get(j, "duration_ms")));
	json_decref(j);
	drill_report_free(&r);
	drill_free(d);
}
END_TEST

START_TEST(test_report_json)
{
	struct drill		*d = parse_ok(report_drill);
	struct drill_report	 r;
	json_t			*j, *want;
	char			*got;

	build_report(&r, d, false);
	j = drill_report_json(&r);
	want = js("{\"name\":\"extreme\",\"file\":\"d.json\",\"verdict\":\"pass\","
	    "\"error\":null,\"interrupted\":false,\"duration_ms\":20.0,"
	    "\"steps\":["
	    "{\"phase\":\"before\",\"index\":0,\"kind\":\"expect\","
	    "\"what\":\"status\",\"name\":null,\"verdict\":\"pass\","
	    "\"ms\":0.25,\"error\":null},"
	    "{\"phase\":\"steps\",\"index\":0,\"kind\":\"do\","
	    "\"what\":\"[service.kill, table.delete]\",\"name\":null,"
	    "\"verdict\":\"pass\",\"ms\":0.5,\"error\":null},"
	    "{\"phase\":\"steps\",\"index\":1,\"kind\":\"wait\","
	    "\"what\":\"{\\\"recovered\\\":true}\",\"name\":\"all back\","
	    "\"verdict\":\"pass\",\"ms\":4.126,\"error\":null},"
	    "{\"phase\":\"steps\",\"index\":2,\"kind\":\"expect\","
	    "\"what\":\"flag.get\",\"name\":null,\"verdict\":\"pass\","
	    "\"ms\":0.124,\"error\":null},"
	    "{\"phase\":\"rollback\",\"index\":0,\"kind\":\"do\","
	    "\"what\":\"stage.emergency\",\"name\":null,\"verdict\":\"pass\","
	    "\"ms\":12.5,\"error\":null},"
	    "{\"phase\":\"after\",\"index\":0,\"kind\":\"expect\","
	    "\"what\":\"status\",\"name\":null,\"verdict\":\"pass\","
	    "\"ms\":0.25,\"error\":null}],"
	    "\"measurements\":{"
	    "\"services\":["
	    "{\"service\":\"a\",\"pid\":10,\"killed_at\":1000.5,"
	    "\"exited_ms\":0.1,\"started_ms\":1.0,\"ready_ms\":2.0},"
	    "{\"service\":\"b\",\"pid\":11,\"killed_at\":1000.5,"
	    "\"exited_ms\":1.25,\"started_ms\":2.5,\"ready_ms\":4.0}],"
	    "\"table\":[{\"fault\":\"delete\",\"at\":1000.4,"
	    "\"repaired_ms\":0.35,\"repair_ms\":0.3}],"
	    "\"recoveries\":[{\"phase\":\"steps\",\"index\":1,"
	    "\"recovered_ms\":4.1}],"
	    "\"restarts\":2,\"events\":10,\"events_complete\":true}}");
	got = json_dumps(j, JSON_COMPACT);
	ck_assert_msg(json_equal(j, want), "got %s", got);
	free(got);
	json_decref(want);
	json_decref(j);
	drill_report_free(&r);
	drill_free(d);
}
END_TEST

static const char report_text_pass[] =
	"drill extreme (d.json)\n"
	"PHASE       #  KIND    WHAT                          VERDICT  TIME      "
	"NAME\n"
	"before      0  expect  status                        pass     0.25ms\n"
	"steps       0  do      [service.kill, table.delete]  pass     0.50ms\n"
	"steps       1  wait    {\"recovered\":true}            pass     4.13ms    "
	"all back\n"
	"steps       2  expect  flag.get                      pass     0.12ms\n"
	"rollback    0  do      stage.emergency               pass     12.5ms\n"
	"after       0  expect  status                        pass     0.25ms\n"
	"measurements:\n"
	"  a (pid 10) killed: exited +0.10ms, started +1.00ms, ready +2.00ms\n"
	"  b (pid 11) killed: exited +1.25ms, started +2.50ms, ready +4.00ms\n"
	"  table delete: repaired +0.35ms (warden's figure: 0.30ms)\n"
	"  full recovery (steps[1]): 4.10ms\n"
	"  restarts: 2\n"
	"drill extreme: PASS\n";

static const char report_text_fail[] =
	"drill extreme (d.json)\n"
	"PHASE       #  KIND    WHAT                          VERDICT  TIME      "
	"NAME\n"
	"before      0  expect  status                        pass     0.25ms\n"
	"steps       0  do      [service.kill, table.delete]  pass     0.50ms\n"
	"steps       1  wait    {\"recovered\":true}            pass     4.13ms    "
	"all back\n"
	"steps       2  expect  flag.get                      FAIL     0.12ms\n"
	"                       value: expected true, got false\n"
	"rollback    0  do      stage.emergency               pass     12.5ms\n"
	"after       0  expect  status                        skip     -\n"
	"measurements:\n"
	"  a (pid 10) killed: exited +0.10ms, started +1.00ms, ready +2.00ms\n"
	"  b (pid 11) killed: exited +1.25ms, started +2.50ms, ready +4.00ms\n"
	"  table delete: repaired +0.35ms (warden's figure: 0.30ms)\n"
	"  full recovery (steps[1]): 4.10ms\n"
	"  restarts: 2\n"
	"error: steps[2] (expect flag.get): value: expected true, got false\n"
	"drill extreme: FAIL\n";

START_TEST(test_report_text)
{
	struct drill		*d = parse_ok(report_drill);
	struct drill_report	 r;
	char			*text;

	build_report(&r, d, false);
	text = drill_report_text(&r);
	ck_assert_msg(strcmp(text, report_text_pass) == 0, "got:\n%s", text);
	free(text);
	drill_report_free(&r);

	build_report(&r, d, true);
	ck_assert_int_eq(r.verdict, DRILL_FAIL);
	ck_assert_str_eq(r.error, "steps[2] (expect flag.get): value: "
	    "expected true, got false");
	text = drill_report_text(&r);
	ck_assert_msg(strcmp(text, report_text_fail) == 0, "got:\n%s", text);
	free(text);
	drill_report_free(&r);
	drill_free(d);
}
END_TEST

/* A failure outside the steps, and an interruption, fail the drill. */
START_TEST(test_report_fail)
{
	struct drill		*d = parse_ok(report_drill);
	struct drill_report	 r;
	json_t			*j;
	char			*text;

	drill_report_init(&r, d);
	drill_report_fail(&r, "cannot connect to /x: No such file or directory");
	drill_report_fail(&r, "only the first failure is kept");
	drill_report_step(&r, DRILL_BEFORE, 0, &d->steady_state.step[0],
	    DRILL_SKIP, -1, NULL);
	drill_report_finish(&r);
	ck_assert_int_eq(r.verdict, DRILL_FAIL);
	ck_assert_str_eq(r.error, "cannot connect to /x: No such file or "
	    "directory");
	j = drill_report_json(&r);
	ck_assert_str_eq(json_string_value(json_object_get(j, "verdict")),
	    "fail");
	json_decref(j);
	drill_report_free(&r);

	drill_report_init(&r, d);
	drill_report_step(&r, DRILL_STEPS, 0, &d->steps.step[0], DRILL_PASS,
	    1, NULL);
	r.interrupted = true;
	drill_report_finish(&r);
	ck_assert_int_eq(r.verdict, DRILL_FAIL);
	ck_assert_str_eq(r.error, "interrupted by a signal");
	text = drill_report_text(&r);
	ck_assert_ptr_nonnull(strstr(text, "\ninterrupted: the steps were cut "
	    "short and the rollback ran\ndrill extreme: FAIL\n"));
	free(text);
	j = drill_report_json(&r);
	ck_assert(json_is_true(json_object_get(j, "interrupted")));
	json_decref(j);
	drill_report_free(&r);
	drill_free(d);
}
END_TEST

static Suite *
drill_suite(void)
{
	Suite	*s = suite_create("drill");
	TCase	*tc = tcase_create("drill");

	tcase_add_test(tc, test_parse_full);
	tcase_add_test(tc, test_parse_minimal);
	tcase_add_test(tc, test_shipped);
	tcase_add_test(tc, test_shipped_extreme);
	tcase_add_loop_test(tc, test_bad, 0, (int)nitems(bad));
	tcase_add_test(tc, test_error_buffer);
	tcase_add_test(tc, test_error_one_line);
	tcase_add_test(tc, test_step_what);
	tcase_add_loop_test(tc, test_match, 0, (int)nitems(matches));
	tcase_add_test(tc, test_match_no_buffer);
	tcase_add_test(tc, test_baseline_call);
	tcase_add_test(tc, test_condition);
	tcase_add_test(tc, test_report_measure);
	tcase_add_test(tc, test_report_unmeasured);
	tcase_add_test(tc, test_report_json);
	tcase_add_test(tc, test_report_text);
	tcase_add_test(tc, test_report_fail);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(drill_suite)
