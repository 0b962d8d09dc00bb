/*
 * check_drills_live.c: the shipped failure drills (every file in conf/drills,
 * warden-drill(5)) run by the real `wardenctl drill run` against the real
 * daemon (tests/harness.h) on the demo configuration, each on a warden of
 * its own; a drill that must fail, and its rollback; an invalid drill file.
 *
 * The drills are written for the demo configuration, conf/warden.json. The
 * README's tour has its reader edit that file (and make check must pass
 * after that), so the drills do not run on whatever the file holds now but
 * on the suite's own copy of the demo as shipped: tests/drills-demo.json,
 * conf/warden.json without its socket, state_dir and table (the harness
 * puts its own in the test's folder) and with the demo-worker of the build.
 * Flags, stages, guard, tree and intensities are those the drills were
 * written against. check_shipped.c keeps the copy honest: while
 * conf/warden.json is as committed it must be the copy, and `warden -n`
 * must accept it; once it was edited (git says so, or there is no git to
 * ask), that comparison is skipped with a note. A change of the demo in
 * git fails check_shipped until the copy follows it, and with the copy
 * the drills here.
 *
 * The suite runs from the top of the source tree, as make check runs it,
 * and finds conf/ there; a drill file added to conf/drills is run without
 * touching this file. What each report must measure is worked out from
 * the drill's own steps: a time to exit, start and be ready for every
 * process a step killed, a time to repair for every fault of the table,
 * a time to recover for every {"recovered": true} wait after a fault.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "util.h"
#include "suite.h"

#define T_CASE		60	/* failure bound of one test, s */
#define T_DRILL		50000	/* failure bound of one wardenctl run, ms */
#define DEMO_COPY	"tests/drills-demo.json"
#define DRILLS_GLOB	"conf/drills/*.json"

#define EXIT_DRILL_FAILED	5
#define EXIT_DRILL_INVALID	1

/*
 * The shipped drills, found when the suite is made (glob sorts them); the
 * tests index them for the life of the process.
 */
static glob_t	drills;

/* --- numbers ------------------------------------------------------------- */

/* A measured time: a number, at least 0 (null in the report: not seen). */
static bool
is_ms(const json_t *v)
{
	return json_is_number(v) && json_number_value(v) >= 0;
}

static double
ms(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

/* --- the demo configuration ---------------------------------------------- */

/* The copy's text, malloc'd. */
static char *
demo_copy(void)
{
	char	*text = harness_read_file(DEMO_COPY);

	ck_assert_msg(text != NULL, "%s: %s (run from the top of the source "
	    "tree)", DEMO_COPY, strerror(errno));
	return text;
}

/* The names of the workers of supervisor sup, appended to workers. */
static void
demo_workers(const json_t *sup, json_t *workers)
{
	json_t	*child;
	size_t	 i;

	json_array_foreach(json_object_get(sup, "children"), i, child) {
		if (json_object_get(child, "command") == NULL)
			demo_workers(child, workers);
		else
			ck_assert_int_eq(json_array_append_new(workers,
			    json_string(str(child, "name"))), 0);
	}
}

/* warden on the copy; *workers gets the names of its workers (a new array). */
static void
start_demo(struct harness *h, json_t **workers)
{
	json_error_t	 jerr;
	json_t		*root;
	char		*text = demo_copy();

	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(root != NULL, "%s:%d:%d: %s", DEMO_COPY, jerr.line,
	    jerr.column, jerr.text);
	ck_assert_ptr_nonnull(*workers = json_array());
	demo_workers(json_object_get(root, "supervisor"), *workers);
	ck_assert_int_gt(json_array_size(*workers), 0);
	json_decref(root);
	ck_assert_msg(harness_start(h, text) == 0, "warden did not start on "
	    "the demo configuration");
	free(text);
}

/* --- running drills ------------------------------------------------------ */

/*
 * `wardenctl drill run FILE... --report DIR/report.json`: its exit status;
 * *report gets the report (NULL when none was written), *out and *err what
 * it printed. file2 is a second drill file, or NULL.
 */
static int
drill_run(struct harness *h, json_t **report, char **out, char **err,
    const char *file, const char *file2)
{
	json_error_t	 jerr;
	char		*path = harness_path(h, "report.json");
	int		 rc;

	if (unlink(path) == -1 && errno != ENOENT)
		ck_abort_msg("unlink %s: %s", path, strerror(errno));
	if (file2 == NULL)
		rc = harness_ctl(h, out, err, "drill", "run", file, "--report",
		    path, NULL);
	else
		rc = harness_ctl(h, out, err, "drill", "run", file, file2,
		    "--report", path, NULL);
	ck_assert_msg(rc >= 0, "wardenctl drill run %s did not finish", file);
	ck_assert(*out != NULL && *err != NULL);
	if (access(path, F_OK) == 0) {
		*report = json_load_file(path, 0, &jerr);
		ck_assert_msg(*report != NULL, "%s:%d:%d: %s", path, jerr.line,
		    jerr.column, jerr.text);
	} else
		*report = NULL;
	free(path);
	return rc;
}

/*
 * What a drill's steps must make the report measure. For every service.kill
 * (alone or in a batch) the processes it takes down: kills[service] counts
 * them, "*" taking every worker; for every table.delete or table.corrupt
 * its kind, in order, in faults; and for every {"recovered": true} wait
 * the index of the step and whether a fault came before it since the
 * previous such wait (then its time to recover must be measured).
 */
struct expected {
	json_t	*kills;		/* {service: count} */
	json_t	*faults;	/* ["delete", "corrupt"...] */
	json_t	*recoveries;	/* [{index, after_fault}] */
	int	 nkills;
};

static void
expect_call(struct expected *e, const json_t *workers, const char *method,
    const json_t *params, bool *fault)
{
	const char	*svc;
	json_t		*w, *n;
	size_t		 i;

	if (strcmp(method, "service.kill") == 0) {
		svc = str(params, "service");
		ck_assert_ptr_nonnull(svc);
		json_array_foreach(workers, i, w) {
			if (strcmp(svc, "*") != 0 &&
			    strcmp(svc, json_string_value(w)) != 0)
				continue;
			n = json_object_get(e->kills, json_string_value(w));
			ck_assert_int_eq(json_object_set_new(e->kills,
			    json_string_value(w), json_integer(1 +
			    json_integer_value(n))), 0);
			e->nkills++;
			*fault = true;
		}
	} else if (strcmp(method, "table.delete") == 0 ||
	    strcmp(method, "table.corrupt") == 0) {
		ck_assert_int_eq(json_array_append_new(e->faults,
		    json_string(method + strlen("table."))), 0);
		*fault = true;
	}
}

static void
expected_of(struct expected *e, const json_t *drill, const json_t *workers)
{
	json_t		*steps, *step, *do_, *cond, *call;
	const char	*m;
	size_t		 i, j;
	bool		 fault = false;

	e->kills = json_object();
	e->faults = json_array();
	e->recoveries = json_array();
	e->nkills = 0;
	ck_assert(e->kills != NULL && e->faults != NULL &&
	    e->recoveries != NULL);
	steps = json_object_get(drill, "steps");
	json_array_foreach(steps, i, step) {
		do_ = json_object_get(step, "do");
		if (json_is_string(do_))
			expect_call(e, workers, json_string_value(do_),
			    json_object_get(step, "params"), &fault);
		else if (json_is_array(do_))
			json_array_foreach(do_, j, call) {
				m = str(call, "method");
				ck_assert_ptr_nonnull(m);
				expect_call(e, workers, m,
				    json_object_get(call, "params"), &fault);
			}
		cond = json_object_get(step, "wait");
		if (json_is_object(cond) && json_object_size(cond) == 1 &&
		    json_is_true(json_object_get(cond, "recovered"))) {
			ck_assert_int_eq(json_array_append_new(e->recoveries,
			    json_pack("{s:I,s:b}", "index", (json_int_t)i,
			    "after_fault", fault)), 0);
			fault = false;
		}
	}
}

static void
expected_free(struct expected *e)
{
	json_decref(e->kills);
	json_decref(e->faults);
	json_decref(e->recoveries);
}

/*
 * Every step ran and passed, phase by phase: the steady state before,
 * the steps, the rollback, the steady state after.
 */
static void
check_steps_passed(const json_t *drill, const json_t *steps)
{
	static const struct {
		const char	*phase;
		const char	*key;
	} phases[] = {
		{ "before", "steady_state" },
		{ "steps", "steps" },
		{ "rollback", "rollback" },
		{ "after", "steady_state" },
	};
	json_t	*r;
	size_t	 p, i, k = 0, n;
	char	*s;

	for (p = 0; p < nitems(phases); p++) {
		n = json_array_size(json_object_get(drill, phases[p].key));
		for (i = 0; i < n; i++, k++) {
			r = json_array_get(steps, k);
			s = dump(r);
			ck_assert_msg(r != NULL, "no result for %s[%zu]",
			    phases[p].key, i);
			ck_assert_msg(str(r, "phase") != NULL &&
			    strcmp(str(r, "phase"), phases[p].phase) == 0 &&
			    json_integer_value(json_object_get(r, "index")) ==
			    (json_int_t)i, "%s[%zu]: the report has %s",
			    phases[p].phase, i, s);
			ck_assert_msg(str(r, "verdict") != NULL &&
			    strcmp(str(r, "verdict"), "pass") == 0 &&
			    json_is_null(json_object_get(r, "error")) &&
			    is_ms(json_object_get(r, "ms")),
			    "%s[%zu] did not pass: %s", phases[p].key, i, s);
			free(s);
		}
	}
	ck_assert_int_eq(json_array_size(steps), k);
}

/* The measurements the drill's steps call for are all there. */
static void
check_measurements(const struct expected *e, const json_t *m)
{
	json_t		*svcs, *table, *recs, *k, *f, *r, *want;
	const char	*name;
	size_t		 i, j;
	json_int_t	 seen;
	char		*s;

	ck_assert_ptr_nonnull(m);
	s = dump(m);
	ck_assert_msg(json_is_true(json_object_get(m, "events_complete")),
	    "the event stream broke: %s", s);

	/* A time to exit, start and be ready for each process killed. */
	svcs = json_object_get(m, "services");
	ck_assert_msg(json_is_array(svcs) &&
	    json_array_size(svcs) == (size_t)e->nkills,
	    "expected %d killed processes: %s", e->nkills, s);
	json_object_foreach(e->kills, name, want) {
		seen = 0;
		json_array_foreach(svcs, i, k)
			if (str(k, "service") != NULL &&
			    strcmp(str(k, "service"), name) == 0)
				seen++;
		ck_assert_msg(seen == json_integer_value(want),
		    "%s killed %lld times, the report has %lld: %s", name,
		    (long long)json_integer_value(want), (long long)seen, s);
	}
	json_array_foreach(svcs, i, k) {
		ck_assert_msg(json_integer_value(json_object_get(k, "pid")) >
		    0 && json_is_number(json_object_get(k, "killed_at")),
		    "kill %zu: %s", i, s);
		ck_assert_msg(is_ms(json_object_get(k, "exited_ms")) &&
		    is_ms(json_object_get(k, "started_ms")) &&
		    is_ms(json_object_get(k, "ready_ms")),
		    "%s: exit, start or ready not measured: %s",
		    str(k, "service"), s);
		ck_assert_msg(ms(k, "exited_ms") <= ms(k, "started_ms") &&
		    ms(k, "started_ms") <= ms(k, "ready_ms"),
		    "%s: exited, started, ready out of order: %s",
		    str(k, "service"), s);
	}

	/* A time to repair, seen and warden's own, for each fault. */
	table = json_object_get(m, "table");
	ck_assert_msg(json_is_array(table) &&
	    json_array_size(table) == json_array_size(e->faults),
	    "expected %zu table faults: %s", json_array_size(e->faults), s);
	json_array_foreach(table, i, f) {
		ck_assert_msg(str(f, "fault") != NULL &&
		    strcmp(str(f, "fault"),
		    json_string_value(json_array_get(e->faults, i))) == 0,
		    "table fault %zu: %s", i, s);
		ck_assert_msg(is_ms(json_object_get(f, "repaired_ms")) &&
		    is_ms(json_object_get(f, "repair_ms")),
		    "table fault %zu: repair not measured: %s", i, s);
	}

	/* A time to recover for each recovered wait that followed a fault. */
	recs = json_object_get(m, "recoveries");
	ck_assert_msg(json_is_array(recs) &&
	    json_array_size(recs) == json_array_size(e->recoveries),
	    "expected %zu recoveries: %s", json_array_size(e->recoveries), s);
	json_array_foreach(e->recoveries, i, want) {
		r = json_array_get(recs, i);
		ck_assert_msg(str(r, "phase") != NULL &&
		    strcmp(str(r, "phase"), "steps") == 0 &&
		    json_integer_value(json_object_get(r, "index")) ==
		    json_integer_value(json_object_get(want, "index")),
		    "recovery %zu: %s", i, s);
		if (json_is_true(json_object_get(want, "after_fault")))
			ck_assert_msg(is_ms(json_object_get(r,
			    "recovered_ms")), "steps[%lld]: recovery not "
			    "measured: %s", (long long)json_integer_value(
			    json_object_get(want, "index")), s);
	}

	/* Every process killed was started again: one restart each at least. */
	ck_assert_msg(json_integer_value(json_object_get(m, "restarts")) >=
	    e->nkills, "%d killed, fewer restarts: %s", e->nkills, s);
	j = (size_t)json_integer_value(json_object_get(m, "events"));
	ck_assert_msg(e->nkills == 0 || j > 0, "no event seen: %s", s);
	free(s);
}

/* The figures, for the record. */
static void
print_measurements(const char *drill, const json_t *rep)
{
	const json_t	*m = json_object_get(rep, "measurements");
	json_t		*v;
	size_t		 i;

	printf("drill \"%s\": %s in %.1f ms, %lld restarts, %lld events\n",
	    drill, str(rep, "verdict"), ms(rep, "duration_ms"),
	    (long long)json_integer_value(json_object_get(m, "restarts")),
	    (long long)json_integer_value(json_object_get(m, "events")));
	json_array_foreach(json_object_get(m, "services"), i, v)
		printf("  killed %-15s exited %8.3f ms  started %8.3f ms  "
		    "ready %8.3f ms\n", str(v, "service"), ms(v, "exited_ms"),
		    ms(v, "started_ms"), ms(v, "ready_ms"));
	json_array_foreach(json_object_get(m, "table"), i, v)
		printf("  table %-16s repaired %8.3f ms  (warden: %.3f ms)\n",
		    str(v, "fault"), ms(v, "repaired_ms"), ms(v, "repair_ms"));
	json_array_foreach(json_object_get(m, "recoveries"), i, v)
		if (is_ms(json_object_get(v, "recovered_ms")))
			printf("  steps[%lld] recovered in %8.3f ms\n",
			    (long long)json_integer_value(json_object_get(v,
			    "index")), ms(v, "recovered_ms"));
	fflush(stdout);
}

/* --- the shipped drills -------------------------------------------------- */

/* Every shipped drill passes on a fresh warden, with its figures. */
START_TEST(test_shipped_drill)
{
	struct harness	 h;
	struct expected	 e;
	json_error_t	 jerr;
	json_t		*drill, *workers, *report, *rep;
	const char	*file = drills.gl_pathv[_i];
	char		*out = NULL, *err = NULL, *s;
	int		 rc;

	drill = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(drill != NULL, "%s:%d:%d: %s", file, jerr.line,
	    jerr.column, jerr.text);
	printf("%s: drill \"%s\"\n", file, str(drill, "name"));
	fflush(stdout);

	start_demo(&h, &workers);
	expected_of(&e, drill, workers);
	rc = drill_run(&h, &report, &out, &err, file, NULL);
	s = dump(report);
	ck_assert_msg(rc == 0, "%s: exit %d\n%s%s", file, rc, out, err);
	ck_assert_msg(json_is_array(report) && json_array_size(report) == 1,
	    "%s: report %s", file, s);
	rep = json_array_get(report, 0);
	ck_assert_str_eq(str(rep, "name"), str(drill, "name"));
	ck_assert_str_eq(str(rep, "file"), file);
	ck_assert_msg(str(rep, "verdict") != NULL &&
	    strcmp(str(rep, "verdict"), "pass") == 0 &&
	    json_is_null(json_object_get(rep, "error")) &&
	    json_is_false(json_object_get(rep, "interrupted")),
	    "%s did not pass: %s", file, s);
	ck_assert_msg(is_ms(json_object_get(rep, "duration_ms")),
	    "%s: no duration: %s", file, s);
	check_steps_passed(drill, json_object_get(rep, "steps"));
	check_measurements(&e, json_object_get(rep, "measurements"));
	print_measurements(str(drill, "name"), rep);
	/* The text report ends with the verdict. */
	ck_assert_msg(strstr(out, ": PASS\n") != NULL, "%s: text report %s",
	    file, out);

	free(s);
	free(out);
	free(err);
	json_decref(report);
	expected_free(&e);
	json_decref(workers);
	json_decref(drill);
	stop(&h);
}
END_TEST

/* conf/drills is where the loop above looks: it must find the drills. */
START_TEST(test_drills_found)
{
	size_t	i;

	ck_assert_msg(drills.gl_pathc > 0, "no drill in %s (run from the top "
	    "of the source tree)", DRILLS_GLOB);
	for (i = 0; i < drills.gl_pathc; i++)
		printf("shipped drill %s\n", drills.gl_pathv[i]);
	fflush(stdout);
}
END_TEST

/*
 * All the shipped drills in one go against one warden, as a user runs them
 * against make run's: those that wear a supervisor's budget down restore it
 * in their rollback, so none finds the budget spent by another.
 */
START_TEST(test_all_drills_one_go)
{
	struct harness	 h;
	json_t		*workers = NULL, *report, *d;
	const char	**argv;
	char		*out = NULL, *err = NULL, *path;
	json_error_t	 jerr;
	size_t		 i, n = drills.gl_pathc;
	int		 rc;

	ck_assert_uint_gt(n, 0);
	start_demo(&h, &workers);
	path = harness_path(&h, "all.json");
	argv = calloc(n + 6, sizeof(*argv));
	ck_assert_ptr_nonnull(argv);
	argv[0] = "wardenctl";
	argv[1] = "drill";
	argv[2] = "run";
	for (i = 0; i < n; i++)
		argv[3 + i] = drills.gl_pathv[i];
	argv[3 + n] = "--report";
	argv[4 + n] = path;
	rc = harness_run(&h, argv, &out, &err, 120000);
	if (rc != 0) {
		/* The whole output is too long for a Check message: print it. */
		fprintf(stderr, "%s%s", out != NULL ? out : "", err != NULL ? err : "");
		ck_abort_msg("drill run of all %zu drills: exit %d", n, rc);
	}
	report = json_load_file(path, 0, &jerr);
	ck_assert_msg(json_is_array(report) && json_array_size(report) == n,
	    "report of %zu drills expected", n);
	json_array_foreach(report, i, d)
		ck_assert_msg(strcmp(str(d, "verdict"), "pass") == 0,
		    "%s: %s", str(d, "name"), dump(d));
	json_decref(report);
	json_decref(workers);
	free(argv);
	free(path);
	free(out);
	free(err);
	stop(&h);
}
END_TEST

/* --- a drill that must fail ---------------------------------------------- */

/*
 * registry is permanent: killed, it is started again, never "stopped". The
 * wait runs out, the drill fails, the step after it is skipped, and the
 * rollback still runs and leaves its mark on a flag.
 */
/* Each step of a report as "phase[index] verdict", joined by ", "; malloc'd. */
static char *
drills_step_verdicts(const json_t *steps)
{
	const json_t	*st;
	char		*out = xstrdup(""), *t;
	size_t		 i;

	json_array_foreach(steps, i, st) {
		xasprintf(&t, "%s%s%s[%lld] %s", out, i > 0 ? ", " : "",
		    str(st, "phase") != NULL ? str(st, "phase") : "?",
		    (long long)json_integer_value(json_object_get(st, "index")),
		    str(st, "verdict") != NULL ? str(st, "verdict") : "?");
		free(out);
		out = t;
	}
	return out;
}

static const char drill_fails[] =
    "{\n"
    "  \"name\": \"registry stays down\",\n"
    "  \"steady_state\": [\n"
    "    { \"expect\": \"status\", \"match\": { \"health\": \"ok\" } }\n"
    "  ],\n"
    "  \"steps\": [\n"
    "    { \"name\": \"kill registry\", \"do\": \"service.kill\",\n"
    "      \"params\": { \"service\": \"registry\" } },\n"
    "    { \"name\": \"registry stopped\",\n"
    "      \"wait\": { \"service\": \"registry\", \"state\": \"stopped\" },\n"
    "      \"within_ms\": 300 },\n"
    "    { \"name\": \"never reached\", \"do\": \"ping\" }\n"
    "  ],\n"
    "  \"rollback\": [\n"
    "    { \"name\": \"leave a mark\", \"do\": \"flag.set\",\n"
    "      \"params\": { \"name\": \"enforce_no_process_dict\",\n"
    "                  \"value\": true, \"reason\": \"rollback ran\" } }\n"
    "  ]\n"
    "}\n";

START_TEST(test_drill_fails_rollback_runs)
{
	struct harness	 h;
	json_t		*workers, *report, *rep, *steps, *st, *flag, *k;
	static const char fails_steps[] = "before[0] pass, steps[0] pass, "
	    "steps[1] fail, steps[2] skip, rollback[0] pass, after[0] ";
	char		*file, *out = NULL, *err = NULL, *s, *got;
	int		 rc;

	start_demo(&h, &workers);
	ck_assert_int_eq(harness_write_file(&h, "fails.json", drill_fails), 0);
	file = harness_path(&h, "fails.json");
	/* Not set before: the mark can only come from the rollback. */
	flag = harness_result(&h, "flag.get",
	    json_pack("{s:s}", "name", "enforce_no_process_dict"));
	ck_assert_ptr_nonnull(flag);
	ck_assert(json_is_false(json_object_get(flag, "value")));
	json_decref(flag);

	rc = drill_run(&h, &report, &out, &err, file, NULL);
	s = dump(report);
	ck_assert_msg(rc == EXIT_DRILL_FAILED, "exit %d, not %d\n%s%s", rc,
	    EXIT_DRILL_FAILED, out, err);
	ck_assert_msg(json_is_array(report) && json_array_size(report) == 1,
	    "report %s", s);
	rep = json_array_get(report, 0);
	ck_assert_str_eq(str(rep, "verdict"), "fail");
	ck_assert(json_is_false(json_object_get(rep, "interrupted")));
	ck_assert_msg(str(rep, "error") != NULL &&
	    strstr(str(rep, "error"), "steps[1]") != NULL &&
	    strstr(str(rep, "error"), "not met within 300 ms") != NULL,
	    "the failure: %s", s);

	/* before[0], steps[0..2], rollback[0], after[0]. */
	steps = json_object_get(rep, "steps");
	/* after[0] last, whatever its verdict: the restart may be under way. */
	got = drills_step_verdicts(steps);
	ck_assert_msg(strncmp(got, fails_steps, strlen(fails_steps)) == 0 &&
	    strchr(got + strlen(fails_steps), ',') == NULL, "steps: %s", got);
	free(got);
	st = json_array_get(steps, 2);
	ck_assert_msg(str(st, "error") != NULL &&
	    strstr(str(st, "error"), "not met within 300 ms") != NULL,
	    "steps[1]: %s", s);
	/*
	 * The step as a whole has 300 ms, the wait for the exit included;
	 * warden is given what is left in whole milliseconds, rounded down.
	 */
	ck_assert_msg(ms(st, "ms") >= 299 && ms(st, "ms") < 2000,
	    "steps[1] took %.3f ms for 300: %s", ms(st, "ms"), s);

	/* The kill was measured even so. */
	k = json_array_get(json_object_get(json_object_get(rep,
	    "measurements"), "services"), 0);
	ck_assert_msg(k != NULL && strcmp(str(k, "service"), "registry") == 0 &&
	    is_ms(json_object_get(k, "exited_ms")), "kill: %s", s);
	printf("failing drill: steps[1] failed after %.1f ms: %s\n",
	    ms(json_array_get(steps, 2), "ms"), str(rep, "error"));
	fflush(stdout);

	/* The rollback's mark. */
	flag = harness_result(&h, "flag.get",
	    json_pack("{s:s}", "name", "enforce_no_process_dict"));
	ck_assert_ptr_nonnull(flag);
	ck_assert(json_is_true(json_object_get(flag, "value")));
	ck_assert_str_eq(str(flag, "reason"), "rollback ran");
	json_decref(flag);
	ck_assert_msg(strstr(out, "drill registry stays down: FAIL") != NULL,
	    "text report: %s", out);

	free(s);
	free(out);
	free(err);
	free(file);
	json_decref(report);
	json_decref(workers);
	stop(&h);
}
END_TEST

/* --- an invalid drill file ----------------------------------------------- */

/* Would set a flag: it must not run when another file is invalid. */
static const char drill_valid[] =
    "{ \"name\": \"sets a flag\", \"steady_state\": [],\n"
    "  \"steps\": [ { \"do\": \"flag.set\", \"params\": {\n"
    "    \"name\": \"use_ets_agent_registry\", \"value\": true } } ],\n"
    "  \"rollback\": [] }\n";

/* Line 6, column 20: the -5. */
static const char drill_invalid[] =
    "{\n"
    "  \"name\": \"bad wait\",\n"
    "  \"steady_state\": [],\n"
    "  \"steps\": [\n"
    "    { \"wait\": { \"recovered\": true },\n"
    "      \"within_ms\": -5 }\n"
    "  ],\n"
    "  \"rollback\": []\n"
    "}\n";

START_TEST(test_drill_invalid)
{
	struct harness	 h;
	json_t		*workers, *report, *flag;
	char		*valid, *bad, *want, *out = NULL, *err = NULL, *rpt;
	int		 rc;

	start_demo(&h, &workers);
	ck_assert_int_eq(harness_write_file(&h, "valid.json", drill_valid), 0);
	ck_assert_int_eq(harness_write_file(&h, "bad.json", drill_invalid), 0);
	valid = harness_path(&h, "valid.json");
	bad = harness_path(&h, "bad.json");
	rpt = harness_path(&h, "report.json");

	rc = drill_run(&h, &report, &out, &err, valid, bad);
	ck_assert_msg(rc == EXIT_DRILL_INVALID, "exit %d, not %d\n%s%s", rc,
	    EXIT_DRILL_INVALID, out, err);
	xasprintf(&want, "%s:6:20: steps[0].within_ms: expected an integer "
	    "from 0 to 86400000", bad);
	ck_assert_msg(strstr(err, want) != NULL, "stderr: %s\nwanted: %s",
	    err, want);
	ck_assert_msg(strstr(err, valid) == NULL, "the valid file was "
	    "blamed: %s", err);
	/* Nothing ran: no report, and the valid drill's flag is as it was. */
	ck_assert_msg(report == NULL, "a report was written");
	ck_assert_int_eq(access(rpt, F_OK), -1);
	flag = harness_result(&h, "flag.get",
	    json_pack("{s:s}", "name", "use_ets_agent_registry"));
	ck_assert_ptr_nonnull(flag);
	ck_assert(json_is_false(json_object_get(flag, "value")));
	ck_assert(json_is_null(json_object_get(flag, "changed_by")));
	json_decref(flag);
	free(out);
	free(err);
	out = err = NULL;

	/* The valid one alone does run: the test above could fail. */
	rc = drill_run(&h, &report, &out, &err, valid, NULL);
	ck_assert_msg(rc == 0, "exit %d\n%s%s", rc, out, err);
	ck_assert_ptr_nonnull(report);
	flag = harness_result(&h, "flag.get",
	    json_pack("{s:s}", "name", "use_ets_agent_registry"));
	ck_assert_ptr_nonnull(flag);
	ck_assert(json_is_true(json_object_get(flag, "value")));
	json_decref(flag);

	json_decref(report);
	free(want);
	free(out);
	free(err);
	free(valid);
	free(bad);
	free(rpt);
	json_decref(workers);
	stop(&h);
}
END_TEST

static Suite *
drills_live_suite(void)
{
	Suite	*s = suite_create("drills_live");
	TCase	*tc = tcase_create("drills_live");
	int	 rc;

	/* No match leaves the list empty; test_drills_found fails then. */
	rc = glob(DRILLS_GLOB, 0, NULL, &drills);
	if (rc != 0 && rc != GLOB_NOMATCH) {
		fprintf(stderr, "glob %s: error %d\n", DRILLS_GLOB, rc);
		drills.gl_pathc = 0;
	}
	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_drills_found);
	tcase_add_test(tc, test_all_drills_one_go);
	tcase_add_loop_test(tc, test_shipped_drill, 0, (int)drills.gl_pathc);
	tcase_add_test(tc, test_drill_fails_rollback_runs);
	tcase_add_test(tc, test_drill_invalid);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(drills_live_suite)
