/*
 * check_drill.c: failure drills without a daemon (src/core/drill*.c):
 * parsing and its errors, and every shipped drill. Matching and wait
 * conditions are check_drill_match's, the report check_drill_report's.
 */
#include <check.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill.h"
#include "util.h"
#include "harness.h"
#include "drilltest.h"
#include "suite.h"

/* --- parsing ---------------------------------------------------------- */

START_TEST(test_parse_full)
{
	struct drill		*d = drilltest_parse(drilltest_full);
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
	struct drill	*d = drilltest_parse("{\"name\":\"m\","
	    "\"steady_state\":[],"
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

/* A shipped file's text, malloc'd (make check runs from the top). */
static char *
shipped_text(const char *path, size_t *len)
{
	char	*text = harness_read_file(path);

	ck_assert_msg(text != NULL, "%s: %s (run from the top of the tree)",
	    path, strerror(errno));
	*len = strlen(text);
	return text;
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
		text = shipped_text(g.gl_pathv[i], &len);
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

	text = shipped_text("conf/drills/extreme-failure.json", &len);
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
	/* A key with a newline cannot break the one-line error. */
	{ "newline_in_key",
	    "{\"name\": \"x\", \"a\\nb\": 1}",
	    "bad.json:1:15: a?b: unknown key" },
};

/* text is refused, its error in err (len bytes; NULL: none), no drill made. */
static void
drill_expect_refused(const char *what, const char *text, char *err,
    size_t len)
{
	struct drill	*d = (struct drill *)&d;

	ck_assert_msg(drill_parse(text, strlen(text), "bad.json", &d, err,
	    len) == -1, "%s: accepted", what);
	ck_assert_ptr_null(d);
}

START_TEST(test_bad)
{
	char		 err[1024];

	memset(err, 'x', sizeof(err));
	drill_expect_refused(bad[_i].what, bad[_i].text, err, sizeof(err));
	ck_assert_msg(strcmp(err, bad[_i].err) == 0,
	    "%s:\n  got  \"%s\"\n  want \"%s\"", bad[_i].what, err,
	    bad[_i].err);
}
END_TEST

/* An error never spills past the buffer; no buffer at all is fine too. */
START_TEST(test_error_buffer)
{
	static const char	 text[] = "{\"name\": \"x\", \"oops\": 1}";
	char			 err[12];

	memset(err, 'x', sizeof(err));
	drill_expect_refused("a short buffer", text, err, 8);
	ck_assert_str_eq(err, "bad.jso");
	ck_assert_int_eq(err[8], 'x');
	drill_expect_refused("no buffer", text, NULL, 0);
}
END_TEST

START_TEST(test_step_what)
{
	struct drill	*d = drilltest_parse(drilltest_full);
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
	tcase_add_test(tc, test_step_what);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(drill_suite)
