/*
 * check_drill_match.c: how a drill judges what warden answers
 * (src/core/drill*.c): a pattern matched against a result, with $delta
 * against a baseline, the status call that takes the baseline, and a
 * wait condition made concrete from it.
 */
#include <check.h>
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "drill.h"
#include "util.h"
#include "drilltest.h"
#include "testlib.h"
#include "suite.h"

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
	struct drill	*d = drilltest_parse(drilltest_full);
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

/* Step 4's condition ($delta of r's restarts) against the status base. */
static json_t *
match_delta_condition(const struct drill *d, const char *base, char *why,
    size_t len)
{
	json_t	*b = js(base), *cond;

	cond = drill_condition(&d->steps.step[4], b, why, len);
	json_decref(b);
	return cond;
}

START_TEST(test_condition)
{
	struct drill	*d = drilltest_parse(drilltest_full);
	json_t		*cond;
	char		 why[256];

	/* No $delta: the condition as written. */
	cond = drill_condition(&d->steps.step[3], NULL, why, sizeof(why));
	ck_assert(json_equal(cond, d->steps.step[3].condition));
	json_decref(cond);

	cond = match_delta_condition(d, "{\"services\":[{\"name\":\"r\","
	    "\"restarts\":3}],\"supervisors\":[]}", why, sizeof(why));
	ck_assert_int_eq(json_integer_value(json_object_get(cond,
	    "min_restarts")), 5);
	ck_assert_str_eq(json_string_value(json_object_get(cond, "state")),
	    "running");
	/* The drill's own condition is left alone. */
	ck_assert(json_is_object(json_object_get(d->steps.step[4].condition,
	    "min_restarts")));
	json_decref(cond);

	/* A supervisor's restarts are under supervisors. */
	cond = match_delta_condition(d, "{\"services\":[],\"supervisors\":"
	    "[{\"name\":\"r\",\"restarts\":1}]}", why, sizeof(why));
	ck_assert_int_eq(json_integer_value(json_object_get(cond,
	    "min_restarts")), 3);
	json_decref(cond);

	ck_assert_ptr_null(match_delta_condition(d, "{\"services\":[]}", why,
	    sizeof(why)));
	ck_assert_str_eq(why, "no baseline: status at the start did not give "
	    "the restarts of r");
	drill_free(d);
}
END_TEST

static Suite *
drill_match_suite(void)
{
	Suite	*s = suite_create("drill_match");
	TCase	*tc = tcase_create("drill_match");

	tcase_add_loop_test(tc, test_match, 0, (int)nitems(matches));
	tcase_add_test(tc, test_match_no_buffer);
	tcase_add_test(tc, test_baseline_call);
	tcase_add_test(tc, test_condition);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(drill_match_suite)
