/*
 * drill.c: failure drills without I/O (see drill.h and warden-drill(5)):
 * the names of phases and kinds, what a step does, its baseline and the
 * condition it sends, and freeing a drill.
 *
 * drill-parse.c reads a drill's text, drill-match.c matches results
 * against patterns, drill-report.c keeps a run's report and renders it.
 * Nothing reads a file or a socket, so the unit suite drives all of it
 * directly.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill.h"
#include "drill-int.h"
#include "jsonerr.h"
#include "log.h"
#include "util.h"

const char *const drill_comparisons[] = { "$gt", "$ge", "$lt", "$le", NULL };

/*
 * Methods that change nothing: only their results can be taken twice, once
 * as a baseline at the start and once by the step.
 */
static const char *const read_methods[] = { "ping", "version", "status",
	"recovery", "flag.list", "flag.get", "stage.get", "table.info", NULL };

static const char *const phase_names[] = {
	[DRILL_BEFORE] = "before",
	[DRILL_STEPS] = "steps",
	[DRILL_ROLLBACK] = "rollback",
	[DRILL_AFTER] = "after",
};
static const char *const kind_names[] = {
	[DRILL_DO] = "do",
	[DRILL_EXPECT] = "expect",
	[DRILL_WAIT] = "wait",
};

const char *
drill_phase_name(enum drill_phase phase)
{
	return phase_names[phase];
}

const char *
drill_kind_name(enum drill_kind kind)
{
	return kind_names[kind];
}

bool
drill_method_reads(const char *method)
{
	return jsonerr_listed(read_methods, method);
}

const struct drill_steps *
drill_phase_steps(const struct drill *d, enum drill_phase phase)
{
	switch (phase) {
	case DRILL_STEPS:
		return &d->steps;
	case DRILL_ROLLBACK:
		return &d->rollback;
	case DRILL_BEFORE:
	case DRILL_AFTER:
		break;
	}
	return &d->steady_state;
}

bool
drill_is_operator(const char *key)
{
	return key[0] == '$';
}

static void
drill_steps_free(struct drill_steps *l)
{
	struct drill_step	*s;
	size_t			 i, k;

	for (i = 0; i < l->n; i++) {
		s = &l->step[i];
		free(s->name);
		for (k = 0; k < s->ncalls; k++) {
			free(s->calls[k].method);
			json_decref(s->calls[k].params);
		}
		free(s->calls);
		json_decref(s->match);
		json_decref(s->condition);
	}
	free(l->step);
}

void
drill_free(struct drill *d)
{
	if (d == NULL)
		return;
	free(d->file);
	free(d->name);
	free(d->description);
	drill_steps_free(&d->steady_state);
	drill_steps_free(&d->steps);
	drill_steps_free(&d->rollback);
	free(d);
}

/* --- what steps do ------------------------------------------------------ */

char *
drill_json_text(json_t *v)
{
	char	*s;

	if (v == NULL)
		return xstrdup("nothing");
	if ((s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_REAL_PRECISION(15))) == NULL)
		fatalx("out of memory");
	return s;
}

char *
drill_step_what(const struct drill_step *s)
{
	char	*out, *tmp;
	size_t	 i;

	if (s->kind == DRILL_WAIT)
		return drill_json_text(s->condition);
	if (!s->batch)
		return xstrdup(s->calls[0].method);
	out = xstrdup("[");
	for (i = 0; i < s->ncalls; i++) {
		xasprintf(&tmp, "%s%s%s%s", out, i > 0 ? ", " : "",
		    s->calls[i].method, i + 1 == s->ncalls ? "]" : "");
		free(out);
		out = tmp;
	}
	return out;
}

bool
drill_baseline_call(const struct drill_step *s, const char **method,
    json_t **params)
{
	*method = NULL;
	*params = NULL;
	if (!s->baseline)
		return false;
	if (s->kind == DRILL_WAIT) {
		*method = "status";
		if ((*params = json_pack("{s:O}", "service",
		    json_object_get(s->condition, "service"))) == NULL)
			fatalx("out of memory");
		return true;
	}
	*method = s->calls[0].method;
	if (s->calls[0].params != NULL)
		*params = json_incref(s->calls[0].params);
	return true;
}

/* The restarts of name in a status result: services or supervisors. */
static json_t *
drill_status_restarts(json_t *status, const char *name)
{
	static const char *const lists[] = { "services", "supervisors" };
	json_t	*entry;
	size_t	 i, k;

	for (k = 0; k < nitems(lists); k++)
		json_array_foreach(json_object_get(status, lists[k]), i, entry)
			if (json_is_string(json_object_get(entry, "name")) &&
			    strcmp(json_string_value(json_object_get(entry,
			    "name")), name) == 0)
				return json_object_get(entry, "restarts");
	return NULL;
}

json_t *
drill_condition(const struct drill_step *s, json_t *baseline, char *why,
    size_t whylen)
{
	json_t		*cond, *mr, *restarts;
	const char	*service;

	if ((cond = json_deep_copy(s->condition)) == NULL)
		fatalx("out of memory");
	mr = json_object_get(cond, "min_restarts");
	if (!json_is_object(mr))
		return cond;
	service = json_string_value(json_object_get(cond, "service"));
	restarts = drill_status_restarts(baseline, service);
	if (!json_is_integer(restarts)) {
		snprintf(why, whylen, "no baseline: status at the start did "
		    "not give the restarts of %s", service);
		json_decref(cond);
		return NULL;
	}
	if (json_object_set_new(cond, "min_restarts",
	    json_integer(json_integer_value(restarts) +
	    json_integer_value(json_object_get(mr, "$delta")))) == -1)
		fatalx("out of memory");
	return cond;
}
