/*
 * drill-report.c: the report of one run (drill.h): the outcome of each
 * step, the faults and kills it caused, the events it saw, the figures
 * worked out from them, and the report as JSON and as text.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill.h"
#include "drill-int.h"
#include "jsonpos.h"
#include "log.h"
#include "util.h"

/* The WHAT column of the text report. */
#define DRILL_WHAT_MAX		40

/* Where a phase's steps are in the file, as a failure names them. */
static const char *const phase_keys[] = {
	[DRILL_BEFORE] = "steady_state",
	[DRILL_STEPS] = "steps",
	[DRILL_ROLLBACK] = "rollback",
	[DRILL_AFTER] = "steady_state",
};
static const char *const verdict_names[] = {
	[DRILL_PASS] = "pass",
	[DRILL_FAIL] = "fail",
	[DRILL_SKIP] = "skip",
};

void
drill_report_init(struct drill_report *r, const struct drill *d)
{
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(d->name);
	r->file = xstrdup(d->file);
	if ((r->events = json_array()) == NULL)
		fatalx("out of memory");
	r->started = r->ended = -1;
}

void
drill_report_free(struct drill_report *r)
{
	size_t	i;

	for (i = 0; i < r->nresults; i++) {
		free(r->results[i].what);
		free(r->results[i].name);
		free(r->results[i].error);
	}
	free(r->results);
	for (i = 0; i < r->nkills; i++)
		free(r->kills[i].service);
	free(r->kills);
	for (i = 0; i < r->nfaults; i++)
		free(r->faults[i].kind);
	free(r->faults);
	free(r->recoveries);
	json_decref(r->events);
	free(r->name);
	free(r->file);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

void
drill_report_step(struct drill_report *r, enum drill_phase phase, size_t index,
    const struct drill_step *s, enum drill_verdict verdict, double ms,
    const char *error)
{
	struct drill_result	*res;

	r->results = xreallocarray(r->results, r->nresults + 1,
	    sizeof(*r->results));
	res = &r->results[r->nresults++];
	res->phase = phase;
	res->index = index;
	res->kind = s->kind;
	res->what = drill_step_what(s);
	res->name = s->name != NULL ? xstrdup(s->name) : NULL;
	res->verdict = verdict;
	res->ms = ms;
	res->error = error != NULL ? xstrdup(error) : NULL;
}

void
drill_report_fail(struct drill_report *r, const char *error)
{
	if (r->error == NULL)
		r->error = xstrdup(error);
}

void
drill_report_kill(struct drill_report *r, json_t *result)
{
	struct drill_kill	*k;
	json_t			*killed, *e;
	size_t			 i;
	double			 ts;

	if (!json_is_number(json_object_get(result, "ts")))
		return;
	ts = json_number_value(json_object_get(result, "ts"));
	killed = json_object_get(result, "killed");
	json_array_foreach(killed, i, e) {
		if (!json_is_string(json_object_get(e, "service")) ||
		    !json_is_integer(json_object_get(e, "pid")))
			continue;
		r->kills = xreallocarray(r->kills, r->nkills + 1,
		    sizeof(*r->kills));
		k = &r->kills[r->nkills++];
		k->service = xstrdup(json_string_value(json_object_get(e,
		    "service")));
		k->pid = json_integer_value(json_object_get(e, "pid"));
		k->ts = ts;
		k->exited_ms = k->started_ms = k->ready_ms = -1;
	}
}

void
drill_report_fault(struct drill_report *r, const char *kind, double at)
{
	struct drill_fault	*f;

	r->faults = xreallocarray(r->faults, r->nfaults + 1,
	    sizeof(*r->faults));
	f = &r->faults[r->nfaults++];
	f->kind = xstrdup(kind);
	f->at = at;
	f->repaired_ms = f->repair_ms = -1;
}

void
drill_report_recovered(struct drill_report *r, enum drill_phase phase,
    size_t index, double at)
{
	struct drill_recovery	*rc;

	r->recoveries = xreallocarray(r->recoveries, r->nrecoveries + 1,
	    sizeof(*r->recoveries));
	rc = &r->recoveries[r->nrecoveries++];
	rc->phase = phase;
	rc->index = index;
	rc->at = at;
	rc->recovered_ms = -1;
}

void
drill_report_event(struct drill_report *r, json_t *ev)
{
	if (json_array_append(r->events, ev) == -1)
		fatalx("out of memory");
}

static bool
drill_event_is(json_t *ev, const char *type, const char *service)
{
	const char	*t = json_string_value(json_object_get(ev, "type"));
	const char	*s = json_string_value(json_object_get(ev, "service"));

	return t != NULL && strcmp(t, type) == 0 &&
	    (service == NULL || (s != NULL && strcmp(s, service) == 0));
}

static double
drill_event_ts(json_t *ev)
{
	json_t	*ts = json_object_get(ev, "ts");

	return json_is_number(ts) ? json_number_value(ts) : -1;
}

/* When the killed process exited, and its service started and was ready. */
static void
drill_measure_kill(struct drill_report *r, struct drill_kill *k)
{
	json_t	*ev;
	size_t	 i;
	double	 ts;

	json_array_foreach(r->events, i, ev) {
		if ((ts = drill_event_ts(ev)) < k->ts)
			continue;
		if (k->exited_ms < 0 &&
		    drill_event_is(ev, "service.exited", k->service) &&
		    json_integer_value(json_object_get(ev, "pid")) == k->pid)
			k->exited_ms = ts - k->ts;
		else if (k->started_ms < 0 &&
		    drill_event_is(ev, "service.started", k->service))
			k->started_ms = ts - k->ts;
		else if (k->started_ms >= 0 && k->ready_ms < 0 &&
		    drill_event_is(ev, "service.ready", k->service))
			k->ready_ms = ts - k->ts;
	}
}

static void
drill_measure_fault(struct drill_report *r, struct drill_fault *f)
{
	json_t	*ev, *ms;
	size_t	 i;
	double	 ts;

	json_array_foreach(r->events, i, ev) {
		if (!drill_event_is(ev, "table.repaired", NULL) ||
		    (ts = drill_event_ts(ev)) < f->at)
			continue;
		f->repaired_ms = ts - f->at;
		if (json_is_number(ms = json_object_get(ev, "repair_ms")))
			f->repair_ms = json_number_value(ms);
		return;
	}
}

/*
 * From the first fault after the previous recovery to the last sign of
 * recovery (a service ready, the table repaired) before the answer.
 */
static void
drill_measure_recovery(struct drill_report *r, struct drill_recovery *rc,
    double since)
{
	json_t	*ev;
	size_t	 i;
	double	 first = -1, last = -1, ts;

	for (i = 0; i < r->nkills; i++)
		if (r->kills[i].ts > since && r->kills[i].ts <= rc->at &&
		    (first < 0 || r->kills[i].ts < first))
			first = r->kills[i].ts;
	for (i = 0; i < r->nfaults; i++)
		if (r->faults[i].at > since && r->faults[i].at <= rc->at &&
		    (first < 0 || r->faults[i].at < first))
			first = r->faults[i].at;
	if (first < 0)
		return;
	json_array_foreach(r->events, i, ev) {
		ts = drill_event_ts(ev);
		if (ts < first || ts > rc->at)
			continue;
		if (drill_event_is(ev, "service.ready", NULL) ||
		    drill_event_is(ev, "table.repaired", NULL))
			last = ts;
	}
	rc->recovered_ms = (last >= 0 ? last : rc->at) - first;
}

void
drill_report_finish(struct drill_report *r)
{
	struct drill_result	*res;
	json_t			*ev, *n;
	size_t			 i;
	double			 since = -1;
	char			*msg;

	for (i = 0; i < r->nkills; i++)
		drill_measure_kill(r, &r->kills[i]);
	for (i = 0; i < r->nfaults; i++)
		drill_measure_fault(r, &r->faults[i]);
	for (i = 0; i < r->nrecoveries; i++) {
		drill_measure_recovery(r, &r->recoveries[i], since);
		since = r->recoveries[i].at;
	}
	r->restarts = 0;
	json_array_foreach(r->events, i, ev)
		if (drill_event_is(ev, "service.started", NULL) &&
		    (r->started < 0 || drill_event_ts(ev) >= r->started) &&
		    json_is_integer(n = json_object_get(ev, "restarts")) &&
		    json_integer_value(n) > 0)
			r->restarts++;
	r->verdict = r->error != NULL || r->interrupted ? DRILL_FAIL :
	    DRILL_PASS;
	for (i = 0; i < r->nresults; i++) {
		res = &r->results[i];
		if (res->verdict != DRILL_FAIL)
			continue;
		if (r->error == NULL) {
			xasprintf(&msg, "%s[%zu] (%s %s): %s",
			    phase_keys[res->phase], res->index,
			    drill_kind_name(res->kind), res->what,
			    res->error != NULL ? res->error : "failed");
			r->error = msg;
		}
		r->verdict = DRILL_FAIL;
	}
	if (r->error == NULL && r->interrupted)
		r->error = xstrdup("interrupted by a signal");
}

/* --- renderings ----------------------------------------------------------- */

/* Milliseconds to the microsecond, or null when not measured. */
static json_t *
drill_ms_json(double ms)
{
	double	us = ms * 1000;

	if (ms < 0)
		return json_null();
	/*
	 * Rounded to the nearest microsecond by hand: round() alone would
	 * make wardenctl load libm at every start.
	 */
	if (us < 9e15)
		us = (double)(long long)(us + 0.5);
	return json_real(us / 1000);
}

static json_t *
drill_str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static void
drill_append(json_t *arr, json_t *v)
{
	if (v == NULL || json_array_append_new(arr, v) == -1)
		fatalx("out of memory");
}

json_t *
drill_report_json(const struct drill_report *r)
{
	const struct drill_result	*res;
	const struct drill_kill		*k;
	const struct drill_fault	*f;
	const struct drill_recovery	*rc;
	json_t				*steps, *svcs, *table, *recs, *out;
	size_t				 i;

	if ((steps = json_array()) == NULL || (svcs = json_array()) == NULL ||
	    (table = json_array()) == NULL || (recs = json_array()) == NULL)
		fatalx("out of memory");
	for (i = 0; i < r->nresults; i++) {
		res = &r->results[i];
		drill_append(steps, json_pack("{s:s,s:I,s:s,s:s,s:o,s:s,s:o,"
		    "s:o}", "phase", drill_phase_name(res->phase),
		    "index", (json_int_t)res->index,
		    "kind", drill_kind_name(res->kind), "what", res->what,
		    "name", drill_str_or_null(res->name),
		    "verdict", verdict_names[res->verdict],
		    "ms", drill_ms_json(res->ms),
		    "error", drill_str_or_null(res->error)));
	}
	for (i = 0; i < r->nkills; i++) {
		k = &r->kills[i];
		drill_append(svcs, json_pack("{s:s,s:I,s:o,s:o,s:o,s:o}",
		    "service", k->service, "pid", k->pid,
		    "killed_at", drill_ms_json(k->ts),
		    "exited_ms", drill_ms_json(k->exited_ms),
		    "started_ms", drill_ms_json(k->started_ms),
		    "ready_ms", drill_ms_json(k->ready_ms)));
	}
	for (i = 0; i < r->nfaults; i++) {
		f = &r->faults[i];
		drill_append(table, json_pack("{s:s,s:o,s:o,s:o}",
		    "fault", f->kind, "at", drill_ms_json(f->at),
		    "repaired_ms", drill_ms_json(f->repaired_ms),
		    "repair_ms", drill_ms_json(f->repair_ms)));
	}
	for (i = 0; i < r->nrecoveries; i++) {
		rc = &r->recoveries[i];
		drill_append(recs, json_pack("{s:s,s:I,s:o}",
		    "phase", drill_phase_name(rc->phase),
		    "index", (json_int_t)rc->index,
		    "recovered_ms", drill_ms_json(rc->recovered_ms)));
	}
	out = json_pack("{s:s,s:s,s:s,s:o,s:b,s:o,s:o,s:{s:o,s:o,s:o,s:i,"
	    "s:I,s:b}}", "name", r->name, "file", r->file,
	    "verdict", verdict_names[r->verdict],
	    "error", drill_str_or_null(r->error),
	    "interrupted", r->interrupted,
	    "duration_ms", drill_ms_json(r->started >= 0 && r->ended >= 0 ?
	    r->ended - r->started : -1),
	    "steps", steps,
	    "measurements", "services", svcs, "table", table,
	    "recoveries", recs, "restarts", r->restarts,
	    "events", (json_int_t)json_array_size(r->events),
	    "events_complete", !r->events_lost);
	if (out == NULL)
		fatalx("out of memory");
	return out;
}

/* 0.12ms, 12.3ms, 1.25s; "-" when not measured. */
static const char *
drill_fmt_ms(char *buf, size_t len, double ms)
{
	if (ms < 0)
		snprintf(buf, len, "-");
	else if (ms < 10)
		snprintf(buf, len, "%.2fms", ms);
	else if (ms < 1000)
		snprintf(buf, len, "%.1fms", ms);
	else
		snprintf(buf, len, "%.2fs", ms / 1000);
	return buf;
}

/* The WHAT cell: what the step does, cut to fit. */
static char *
drill_what_cell(const struct drill_result *res)
{
	char	*s = xstrdup(res->what);

	if (strlen(s) > DRILL_WHAT_MAX)
		strcpy(s + DRILL_WHAT_MAX - 3, "...");
	jsonpos_one_line(s);
	return s;
}

static void
drill_text_measurements(FILE *fp, const struct drill_report *r)
{
	const struct drill_kill		*k;
	const struct drill_fault	*f;
	const struct drill_recovery	*rc;
	char				 a[32], b[32], c[32];
	size_t				 i;

	fprintf(fp, "measurements:\n");
	for (i = 0; i < r->nkills; i++) {
		k = &r->kills[i];
		fprintf(fp, "  %s (pid %" JSON_INTEGER_FORMAT ") killed: exited "
		    "+%s, started +%s, ready +%s\n", k->service, k->pid,
		    drill_fmt_ms(a, sizeof(a), k->exited_ms),
		    drill_fmt_ms(b, sizeof(b), k->started_ms),
		    drill_fmt_ms(c, sizeof(c), k->ready_ms));
	}
	for (i = 0; i < r->nfaults; i++) {
		f = &r->faults[i];
		fprintf(fp, "  table %s: repaired +%s (warden's figure: %s)\n",
		    f->kind, drill_fmt_ms(a, sizeof(a), f->repaired_ms),
		    drill_fmt_ms(b, sizeof(b), f->repair_ms));
	}
	for (i = 0; i < r->nrecoveries; i++) {
		rc = &r->recoveries[i];
		if (rc->recovered_ms < 0)
			continue;
		fprintf(fp, "  full recovery (%s[%zu]): %s\n",
		    phase_keys[rc->phase], rc->index,
		    drill_fmt_ms(a, sizeof(a), rc->recovered_ms));
	}
	fprintf(fp, "  restarts: %d\n", r->restarts);
	if (r->events_lost)
		fprintf(fp, "  (the event stream broke off: figures may be "
		    "missing)\n");
}

char *
drill_report_text(const struct drill_report *r)
{
	const struct drill_result	*res;
	FILE				*fp;
	char				*text = NULL, *what, *name, buf[32];
	size_t				 len = 0, i, wwhat = 4;

	for (i = 0; i < r->nresults; i++) {
		what = drill_what_cell(&r->results[i]);
		if (strlen(what) > wwhat)
			wwhat = strlen(what);
		free(what);
	}
	if ((fp = open_memstream(&text, &len)) == NULL)
		fatal("open_memstream");
	fprintf(fp, "drill %s (%s)\n", r->name, r->file);
	fprintf(fp, "%-8s  %3s  %-6s  %-*s  %-7s  %-8s  %s\n", "PHASE", "#",
	    "KIND", (int)wwhat, "WHAT", "VERDICT", "TIME", "NAME");
	for (i = 0; i < r->nresults; i++) {
		res = &r->results[i];
		what = drill_what_cell(res);
		name = res->name != NULL ? xstrdup(res->name) : NULL;
		if (name != NULL)
			jsonpos_one_line(name);
		/* The name is last and whole; no blanks after the time. */
		fprintf(fp, "%-8s  %3zu  %-6s  %-*s  %-7s  %-*s%s%s\n",
		    drill_phase_name(res->phase), res->index,
		    drill_kind_name(res->kind),
		    (int)wwhat, what, res->verdict == DRILL_FAIL ? "FAIL" :
		    verdict_names[res->verdict], name != NULL ? 8 : 0,
		    drill_fmt_ms(buf, sizeof(buf), res->ms),
		    name != NULL ? "  " : "", name != NULL ? name : "");
		free(what);
		free(name);
		if (res->error != NULL)
			fprintf(fp, "%*s%s\n", 8 + 2 + 3 + 2 + 6 + 2, "",
			    res->error);
	}
	drill_text_measurements(fp, r);
	if (r->error != NULL)
		fprintf(fp, "error: %s\n", r->error);
	if (r->interrupted)
		fprintf(fp, "interrupted: the steps were cut short and the "
		    "rollback ran\n");
	fprintf(fp, "drill %s: %s\n", r->name, r->verdict == DRILL_PASS ?
	    "PASS" : "FAIL");
	if (fclose(fp) == EOF)
		fatal("open_memstream");
	return text;
}
