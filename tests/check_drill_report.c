/*
 * check_drill_report.c: a drill run's report (src/core/drill*.c): what
 * it measures from the events, and its JSON and text renderings, for a
 * pass, a failure and an interrupted run.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "drill.h"
#include "util.h"
#include "drilltest.h"
#include "testlib.h"
#include "suite.h"

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
	struct drill		*d = drilltest_parse(report_drill);
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
	struct drill		*d = drilltest_parse(report_drill);
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
	struct drill		*d = drilltest_parse(report_drill);
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

/* What the text of either report begins with: the table's first rows. */
#define REPORT_TEXT_HEAD						\
	"drill extreme (d.json)\n"					\
	"PHASE       #  KIND    WHAT                          VERDICT  TIME      " \
	"NAME\n"							\
	"before      0  expect  status                        pass     0.25ms\n" \
	"steps       0  do      [service.kill, table.delete]  pass     0.50ms\n" \
	"steps       1  wait    {\"recovered\":true}            pass     4.13ms    " \
	"all back\n"

/* Its measurements, the same in both. */
#define REPORT_TEXT_MEASURED						\
	"measurements:\n"						\
	"  a (pid 10) killed: exited +0.10ms, started +1.00ms, ready +2.00ms\n" \
	"  b (pid 11) killed: exited +1.25ms, started +2.50ms, ready +4.00ms\n" \
	"  table delete: repaired +0.35ms (warden's figure: 0.30ms)\n"	\
	"  full recovery (steps[1]): 4.10ms\n"				\
	"  restarts: 2\n"

static const char report_text_pass[] =
	REPORT_TEXT_HEAD
	"steps       2  expect  flag.get                      pass     0.12ms\n"
	"rollback    0  do      stage.emergency               pass     12.5ms\n"
	"after       0  expect  status                        pass     0.25ms\n"
	REPORT_TEXT_MEASURED
	"drill extreme: PASS\n";

static const char report_text_fail[] =
	REPORT_TEXT_HEAD
	"steps       2  expect  flag.get                      FAIL     0.12ms\n"
	"                       value: expected true, got false\n"
	"rollback    0  do      stage.emergency               pass     12.5ms\n"
	"after       0  expect  status                        skip     -\n"
	REPORT_TEXT_MEASURED
	"error: steps[2] (expect flag.get): value: expected true, got false\n"
	"drill extreme: FAIL\n";

START_TEST(test_report_text)
{
	struct drill		*d = drilltest_parse(report_drill);
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
	struct drill		*d = drilltest_parse(report_drill);
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
drill_report_suite(void)
{
	Suite	*s = suite_create("drill_report");
	TCase	*tc = tcase_create("drill_report");

	tcase_add_test(tc, test_report_measure);
	tcase_add_test(tc, test_report_unmeasured);
	tcase_add_test(tc, test_report_json);
	tcase_add_test(tc, test_report_text);
	tcase_add_test(tc, test_report_fail);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(drill_report_suite)
