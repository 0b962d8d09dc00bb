/*
 * fuzz_drill.c: failure drills (src/core/drill*.c, warden-drill(5)): parsing
 * and validation, and for a drill that parses, everything wardenctl's
 * drill runner does with it: what each step says it does, baselines,
 * wait conditions with $delta, matching results, and a report fed with
 * steps, kills, faults, recoveries and events, rendered as JSON and text.
 *
 * The input is a drill's text, then optionally a NUL byte and a JSON
 * value, then optionally another NUL byte and a second JSON value:
 *
 *	DRILL [\0 VALUE [\0 BASELINE]]
 *
 * VALUE plays warden's answers: the result every expect step is matched
 * against, service.kill's result, and the events (an array is taken as
 * several). BASELINE is the start-of-steps result for $delta. Without
 * them a status answer of the demo's shape stands in. A parse error must
 * be one line naming the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "drill.h"
#include "fuzz-util.h"
#include "log.h"

#define FUZZ_FILE	"fuzz.drill"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char fuzz_drill_status[] =
    "{\"health\":\"ok\",\"stage\":1,\"services\":[{\"name\":\"registry\","
    "\"state\":\"running\",\"pid\":42,\"ready\":true,\"restarts\":2,"
    "\"last_exit\":{\"signal\":9}}],\"supervisors\":[{\"name\":\"root\","
    "\"restarts\":2,\"restarts_in_window\":1}],\"killed\":[{\"service\":"
    "\"registry\",\"pid\":42}],\"ts\":1000.5,\"type\":\"service.started\","
    "\"service\":\"registry\"}";

static json_t	*status;	/* the stand-in answer */

#define fuzz_drill_fail(...)	fuzz_fail("fuzz_drill", __VA_ARGS__)

/* A JSON value from a piece of the input; NULL if it is not one. */
static json_t *
fuzz_drill_value(const uint8_t *p, size_t len)
{
	return json_loadb((const char *)p, len, JSON_DECODE_ANY, NULL);
}

static void
fuzz_drill_steps(const struct drill *d, struct drill_report *r,
    json_t *value, json_t *baseline)
{
	static const enum drill_phase	 phases[] = { DRILL_BEFORE, DRILL_STEPS,
	    DRILL_ROLLBACK, DRILL_AFTER };
	const struct drill_steps	*l;
	const struct drill_step		*s;
	const char			*method;
	json_t				*params, *cond;
	char				 why[512], *what;
	size_t				 p, i, k;
	bool				 ok;

	for (p = 0; p < sizeof(phases) / sizeof(phases[0]); p++) {
		(void)drill_phase_name(phases[p]);
		if ((l = drill_phase_steps(d, phases[p])) == NULL)
			continue;
		for (i = 0; i < l->n; i++) {
			s = &l->step[i];
			(void)drill_kind_name(s->kind);
			if ((what = drill_step_what(s)) == NULL)
				fuzz_drill_fail("no text for a step");
			free(what);
			for (k = 0; k < s->ncalls; k++)
				(void)drill_method_reads(s->calls[k].method);
			params = NULL;
			method = NULL;
			if (drill_baseline_call(s, &method, &params) &&
			    method == NULL)
				fuzz_drill_fail("a baseline call without a "
				    "method");
			json_decref(params);
			why[0] = '\0';
			ok = true;
			switch (s->kind) {
			case DRILL_EXPECT:
				memset(why, 'x', sizeof(why));
				ok = drill_match(s->match, value, baseline, why,
				    sizeof(why));
				if (!ok && memchr(why, '\0', sizeof(why)) ==
				    NULL)
					fuzz_drill_fail("a mismatch's reason is "
					    "not NUL-terminated");
				break;
			case DRILL_WAIT:
				cond = drill_condition(s, baseline, why,
				    sizeof(why));
				ok = cond != NULL;
				json_decref(cond);
				break;
			case DRILL_DO:
				break;
			}
			drill_report_step(r, phases[p], i, s,
			    ok ? DRILL_PASS : (i % 2 ? DRILL_FAIL : DRILL_SKIP),
			    (double)i * 1.5, ok ? NULL : why);
		}
	}
}

static void
fuzz_drill_report(const struct drill *d, json_t *value, json_t *baseline)
{
	struct drill_report	 r;
	json_t			*j, *ev;
	char			*text;
	size_t			 i;

	drill_report_init(&r, d);
	r.started = 0;
	fuzz_drill_steps(d, &r, value, baseline);
	drill_report_kill(&r, value);
	drill_report_kill(&r, baseline);
	drill_report_fault(&r, "delete", 10.0);
	drill_report_fault(&r, "corrupt", -1.0);
	drill_report_recovered(&r, DRILL_STEPS, 0, 2000.0);
	drill_report_recovered(&r, DRILL_AFTER, 1, 1.0);
	if (json_is_array(value))
		json_array_foreach(value, i, ev)
			drill_report_event(&r, ev);
	else
		drill_report_event(&r, value);
	drill_report_event(&r, baseline);
	r.ended = 5000;
	drill_report_finish(&r);
	if ((j = drill_report_json(&r)) == NULL)
		fuzz_drill_fail("no JSON report");
	json_decref(j);
	if ((text = drill_report_text(&r)) == NULL)
		fuzz_drill_fail("no text report");
	free(text);
	drill_report_free(&r);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_drill", LOG_LEVEL_ERR);
	if ((status = json_loads(fuzz_drill_status, 0, NULL)) == NULL)
		fuzz_drill_fail("the stand-in answer does not parse");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*nul, *rest;
	struct drill	*d = NULL;
	json_t		*value = NULL, *baseline = NULL;
	size_t		 len = size, restlen;
	char		 err[1024];

	if ((nul = memchr(data, '\0', size)) != NULL) {
		len = (size_t)(nul - data);
		rest = nul + 1;
		restlen = size - len - 1;
		if ((nul = memchr(rest, '\0', restlen)) != NULL) {
			value = fuzz_drill_value(rest, (size_t)(nul - rest));
			baseline = fuzz_drill_value(nul + 1,
			    restlen - (size_t)(nul - rest) - 1);
		} else
			value = fuzz_drill_value(rest, restlen);
	}
	if (value == NULL)
		value = json_incref(status);
	if (baseline == NULL)
		baseline = json_incref(status);

	memset(err, 'x', sizeof(err));
	if (drill_parse((const char *)data, len, FUZZ_FILE, &d, err,
	    sizeof(err)) == 0) {
		if (d == NULL || d->name == NULL)
			fuzz_drill_fail("a drill without a name");
		fuzz_drill_report(d, value, baseline);
		drill_free(d);
	} else {
		if (d != NULL)
			fuzz_drill_fail("an error, and a drill");
		if (memchr(err, '\0', sizeof(err)) == NULL)
			fuzz_drill_fail("the error is not NUL-terminated");
		if (strncmp(err, FUZZ_FILE, strlen(FUZZ_FILE)) != 0)
			fuzz_drill_fail("the error does not name the file: %s",
			    err);
		if (strchr(err, '\n') != NULL)
			fuzz_drill_fail("the error is not one line: %s", err);
	}
	json_decref(value);
	json_decref(baseline);
	return 0;
}
