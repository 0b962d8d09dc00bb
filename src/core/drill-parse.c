/*
 * drill-parse.c: a drill's text, parsed and checked (warden-drill(5)).
 *
 * The parser walks the jansson tree keeping the key path it is at, as the
 * config loader does (jsonerr.h), so that an error names the file, the
 * line and column, the step and the key.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drill.h"
#include "drill-int.h"
#include "jsonerr.h"
#include "util.h"

struct dparse {
	struct jsonerr		 je;	/* the text, and where the walk is */
	enum drill_phase	 phase;	/* of the steps being parsed */
	struct drill_step	*step;	/* being parsed */
};

static const char *const top_keys[] = { "name", "description",
	"steady_state", "steps", "rollback", NULL };
static const char *const step_keys[] = { "name", "do", "expect", "wait",
	"params", "match", "within_ms", NULL };
static const char *const call_keys[] = { "method", "params", NULL };
static const char *const kind_keys[] = { "do", "expect", "wait", NULL };
static const char *const operators[] = { "$gt", "$ge", "$lt", "$le",
	"$delta", "$length", "$contains", "$all", "$last", "$or", NULL };

/* A non-empty string at obj.key, copied to *out; required or not. */
static int
drill_string(struct dparse *p, json_t *obj, const char *key, bool required,
    char **out)
{
	json_t	*v;

	if ((v = json_object_get(obj, key)) == NULL) {
		if (required)
			return jsonerr_missing(&p->je, key);
		return 0;
	}
	jsonerr_push_key(&p->je, key);
	if (!json_is_string(v) || json_string_length(v) == 0)
		return jsonerr_value(&p->je, "expected a non-empty string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return jsonerr_value(&p->je, "expected a string without NUL");
	*out = xstrdup(json_string_value(v));
	jsonerr_pop(&p->je);
	return 0;
}

/* --- patterns ----------------------------------------------------------- */

/* {"$ge": 1, "$lt": 5}: comparisons only, each with a number. */
static bool
drill_is_comparison(json_t *v)
{
	const char	*key;
	json_t		*arg;

	if (!json_is_object(v) || json_object_size(v) == 0)
		return false;
	json_object_foreach(v, key, arg)
		if (!jsonerr_listed(drill_comparisons, key) ||
		    !json_is_number(arg))
			return false;
	return true;
}

static int	drill_pattern(struct dparse *, json_t *, const char *method,
		    bool delta_ok);

/*
 * The argument of $delta (the path ends at the operator): may it be
 * measured here, and is it well formed?
 */
static int
drill_delta(struct dparse *p, json_t *arg, const char *method, bool delta_ok)
{
	if (!delta_ok)
		return jsonerr_key(&p->je, "$delta cannot be under $contains "
		    "or $all: no one element is its baseline");
	if (p->phase == DRILL_BEFORE)
		return jsonerr_key(&p->je, "$delta compares with the start of "
		    "the steps: it belongs in steps and rollback, not in "
		    "steady_state");
	if (method == NULL || !drill_method_reads(method))
		return jsonerr_key(&p->je, "$delta needs a method that changes "
		    "nothing (status, recovery, flag.get, flag.list, "
		    "stage.get, table.info): its baseline is the same call "
		    "at the start");
	if (!json_is_number(arg) && !drill_is_comparison(arg))
		return jsonerr_value(&p->je, "expected a number or a "
		    "comparison such as {\"$ge\": 1}");
	p->step->baseline = true;
	return 0;
}

/* The argument of $or: one or more patterns for the same value. */
static int
drill_alternatives(struct dparse *p, json_t *arg, const char *method,
    bool delta_ok)
{
	json_t	*v;
	size_t	 i;

	if (!json_is_array(arg) || json_array_size(arg) == 0)
		return jsonerr_value(&p->je, "expected an array of patterns, "
		    "at least one");
	json_array_foreach(arg, i, v) {
		jsonerr_push_index(&p->je, i);
		if (drill_pattern(p, v, method, delta_ok) == -1)
			return -1;
		jsonerr_pop(&p->je);
	}
	return 0;
}

/* An object of operators: {"$ge": 1}, {"$contains": {...}}... */
static int
drill_operators(struct dparse *p, json_t *obj, const char *method,
    bool delta_ok)
{
	const char	*key;
	json_t		*arg;

	json_object_foreach(obj, key, arg) {
		jsonerr_push_key(&p->je, key);
		if (!drill_is_operator(key))
			return jsonerr_key(&p->je, "operators ($...) and keys "
			    "cannot be mixed in one object");
		if (!jsonerr_listed(operators, key))
			return jsonerr_key(&p->je, "unknown operator (one of "
			    "$gt, $ge, $lt, $le, $delta, $length, $contains, "
			    "$all, $last, $or)");
		if (jsonerr_listed(drill_comparisons, key)) {
			if (!json_is_number(arg))
				return jsonerr_value(&p->je, "expected a "
				    "number");
		} else if (strcmp(key, "$delta") == 0) {
			if (drill_delta(p, arg, method, delta_ok) == -1)
				return -1;
		} else if (strcmp(key, "$length") == 0) {
			if (!(json_is_integer(arg) &&
			    json_integer_value(arg) >= 0) &&
			    !drill_is_comparison(arg))
				return jsonerr_value(&p->je, "expected an "
				    "integer >= 0 or a comparison such as "
				    "{\"$ge\": 1}");
		} else if (strcmp(key, "$last") == 0) {
			if (drill_pattern(p, arg, method, delta_ok) == -1)
				return -1;
		} else if (strcmp(key, "$or") == 0) {
			if (drill_alternatives(p, arg, method, delta_ok) == -1)
				return -1;
		} else if (drill_pattern(p, arg, method, false) == -1)
			return -1;
		jsonerr_pop(&p->je);
	}
	return 0;
}

static int
drill_pattern(struct dparse *p, json_t *pat, const char *method,
    bool delta_ok)
{
	const char	*key;
	json_t		*v;
	size_t		 i;
	bool		 ops = false;

	if (json_is_array(pat)) {
		json_array_foreach(pat, i, v) {
			jsonerr_push_index(&p->je, i);
			if (drill_pattern(p, v, method, delta_ok) == -1)
				return -1;
			jsonerr_pop(&p->je);
		}
		return 0;
	}
	if (!json_is_object(pat))
		return 0;
	json_object_foreach(pat, key, v) {
		ops = drill_is_operator(key);
		break;
	}
	if (ops)
		return drill_operators(p, pat, method, delta_ok);
	json_object_foreach(pat, key, v) {
		jsonerr_push_key(&p->je, key);
		if (drill_is_operator(key))
			return jsonerr_key(&p->je, "operators ($...) and keys "
			    "cannot be mixed in one object");
		if (drill_pattern(p, v, method, delta_ok) == -1)
			return -1;
		jsonerr_pop(&p->je);
	}
	return 0;
}

/* --- steps -------------------------------------------------------------- */

static int
drill_params(struct dparse *p, json_t *obj, json_t **out)
{
	json_t	*v;

	if ((v = json_object_get(obj, "params")) == NULL)
		return 0;
	jsonerr_push_key(&p->je, "params");
	if (!json_is_object(v))
		return jsonerr_value(&p->je, "expected an object");
	jsonerr_pop(&p->je);
	*out = json_incref(v);
	return 0;
}

/* A key that this kind of step does not take. */
static int
drill_not_here(struct dparse *p, json_t *obj, const char *key,
    const char *why)
{
	if (json_object_get(obj, key) == NULL)
		return 0;
	jsonerr_push_key(&p->je, key);
	return jsonerr_key(&p->je, "%s", why);
}

/* "do": [ {method, params?}, ... ] */
static int
drill_batch(struct dparse *p, json_t *arr, struct drill_step *s)
{
	json_t	*v;
	size_t	 i;

	if (json_array_size(arr) == 0)
		return jsonerr_value(&p->je, "expected at least one call in a "
		    "batch");
	s->batch = true;
	s->calls = xcalloc(json_array_size(arr), sizeof(*s->calls));
	json_array_foreach(arr, i, v) {
		jsonerr_push_index(&p->je, i);
		if (!json_is_object(v))
			return jsonerr_value(&p->je, "expected a call: "
			    "{\"method\": METHOD, \"params\": {...}}");
		s->ncalls++;
		if (jsonerr_keys(&p->je, v, call_keys, NULL) == -1 ||
		    drill_string(p, v, "method", true,
		    &s->calls[i].method) == -1 ||
		    drill_params(p, v, &s->calls[i].params) == -1)
			return -1;
		jsonerr_pop(&p->je);
	}
	return 0;
}

static int
drill_do(struct dparse *p, json_t *obj, struct drill_step *s)
{
	json_t	*v = json_object_get(obj, "do");

	if (drill_not_here(p, obj, "match", "only an expect step has a "
	    "match") == -1 ||
	    drill_not_here(p, obj, "within_ms", "only a wait step has "
	    "within_ms") == -1)
		return -1;
	if (json_is_array(v)) {
		if (drill_not_here(p, obj, "params", "a batch's calls carry "
		    "their own params") == -1)
			return -1;
		jsonerr_push_key(&p->je, "do");
		if (drill_batch(p, v, s) == -1)
			return -1;
		jsonerr_pop(&p->je);
		return 0;
	}
	if (!json_is_string(v)) {
		jsonerr_push_key(&p->je, "do");
		return jsonerr_value(&p->je, "expected a method, or a batch: "
		    "an array of calls");
	}
	s->calls = xcalloc(1, sizeof(*s->calls));
	s->ncalls = 1;
	if (drill_string(p, obj, "do", true, &s->calls[0].method) == -1 ||
	    drill_params(p, obj, &s->calls[0].params) == -1)
		return -1;
	return 0;
}

static int
drill_expect(struct dparse *p, json_t *obj, struct drill_step *s)
{
	json_t	*match;

	if (drill_not_here(p, obj, "within_ms", "only a wait step has "
	    "within_ms") == -1)
		return -1;
	s->calls = xcalloc(1, sizeof(*s->calls));
	s->ncalls = 1;
	if (drill_string(p, obj, "expect", true, &s->calls[0].method) == -1 ||
	    drill_params(p, obj, &s->calls[0].params) == -1)
		return -1;
	if ((match = json_object_get(obj, "match")) == NULL)
		return jsonerr_missing(&p->je, "match");
	jsonerr_push_key(&p->je, "match");
	if (drill_pattern(p, match, s->calls[0].method, true) == -1)
		return -1;
	jsonerr_pop(&p->je);
	s->match = json_incref(match);
	return 0;
}

/* {"service": S, ..., "min_restarts": {"$delta": N}} */
static int
drill_condition_delta(struct dparse *p, json_t *cond)
{
	json_t	*v = json_object_get(cond, "min_restarts"), *n;

	if (!json_is_object(v))
		return 0;
	jsonerr_push_key(&p->je, "min_restarts");
	if (json_object_size(v) != 1 ||
	    (n = json_object_get(v, "$delta")) == NULL)
		return jsonerr_value(&p->je, "expected an integer, or "
		    "{\"$delta\": N}: N more than at the start of the steps");
	jsonerr_push_key(&p->je, "$delta");
	if (p->phase == DRILL_BEFORE)
		return jsonerr_key(&p->je, "$delta compares with the start of "
		    "the steps: it belongs in steps and rollback, not in "
		    "steady_state");
	if (!json_is_integer(n) || json_integer_value(n) < 0 ||
	    json_integer_value(n) > INT32_MAX)
		return jsonerr_value(&p->je, "expected an integer >= 0");
	jsonerr_pop(&p->je);
	jsonerr_pop(&p->je);
	if (!json_is_string(json_object_get(cond, "service")))
		return jsonerr_value(&p->je, "a $delta in min_restarts needs "
		    "the service's name in \"service\"");
	p->step->baseline = true;
	return 0;
}

static int
drill_wait(struct dparse *p, json_t *obj, struct drill_step *s)
{
	json_t	*cond = json_object_get(obj, "wait"), *ms;

	if (drill_not_here(p, obj, "params", "a wait step has no params: "
	    "its condition is in \"wait\"") == -1 ||
	    drill_not_here(p, obj, "match", "only an expect step has a "
	    "match") == -1)
		return -1;
	jsonerr_push_key(&p->je, "wait");
	if (!json_is_object(cond) || json_object_size(cond) == 0)
		return jsonerr_value(&p->je, "expected a condition, such as "
		    "{\"recovered\": true}");
	if (drill_condition_delta(p, cond) == -1)
		return -1;
	jsonerr_pop(&p->je);
	s->condition = json_incref(cond);
	if ((ms = json_object_get(obj, "within_ms")) == NULL)
		return jsonerr_missing(&p->je, "within_ms");
	jsonerr_push_key(&p->je, "within_ms");
	/* 1e3 is 1000 for jansson's reader too, but not an integer. */
	if (!json_is_integer(ms) || json_integer_value(ms) < 0 ||
	    json_integer_value(ms) > DRILL_WITHIN_MAX_MS)
		return jsonerr_value(&p->je, "expected an integer from 0 to %d",
		    DRILL_WITHIN_MAX_MS);
	s->within_ms = (int)json_integer_value(ms);
	jsonerr_pop(&p->je);
	return 0;
}

static int
drill_step(struct dparse *p, json_t *obj, struct drill_step *s)
{
	const char	*key, *first = NULL;
	json_t		*v;

	if (!json_is_object(obj))
		return jsonerr_value(&p->je, "expected a step: an object with "
		    "\"do\", \"expect\" or \"wait\"");
	if (jsonerr_keys(&p->je, obj, step_keys, NULL) == -1)
		return -1;
	/* The kind comes from the first of do, expect and wait. */
	json_object_foreach(obj, key, v) {
		if (!jsonerr_listed(kind_keys, key))
			continue;
		if (first != NULL) {
			jsonerr_push_key(&p->je, key);
			return jsonerr_key(&p->je, "a step is one of do, "
			    "expect and wait, and this one is already a %s",
			    first);
		}
		first = key;
	}
	if (first == NULL)
		return jsonerr_value(&p->je, "expected one of \"do\", "
		    "\"expect\" or \"wait\"");
	if (drill_string(p, obj, "name", false, &s->name) == -1)
		return -1;
	if (strcmp(first, "do") == 0) {
		s->kind = DRILL_DO;
		return drill_do(p, obj, s);
	}
	if (strcmp(first, "expect") == 0) {
		s->kind = DRILL_EXPECT;
		return drill_expect(p, obj, s);
	}
	s->kind = DRILL_WAIT;
	return drill_wait(p, obj, s);
}

static int
drill_steps(struct dparse *p, json_t *top, const char *key,
    enum drill_phase phase, bool may_be_empty, struct drill_steps *out)
{
	json_t	*arr, *v;
	size_t	 i;

	if ((arr = json_object_get(top, key)) == NULL)
		return jsonerr_missing(&p->je, key);
	jsonerr_push_key(&p->je, key);
	if (!json_is_array(arr))
		return jsonerr_value(&p->je, "expected an array of steps");
	if (json_array_size(arr) == 0 && !may_be_empty)
		return jsonerr_value(&p->je, "expected at least one step");
	out->step = xcalloc(json_array_size(arr) + 1, sizeof(*out->step));
	p->phase = phase;
	json_array_foreach(arr, i, v) {
		jsonerr_push_index(&p->je, i);
		p->step = &out->step[i];
		out->n++;
		if (drill_step(p, v, &out->step[i]) == -1)
			return -1;
		jsonerr_pop(&p->je);
	}
	jsonerr_pop(&p->je);
	return 0;
}

static int
drill_top(struct dparse *p, json_t *top, struct drill *d)
{
	if (jsonerr_object(&p->je, top, top_keys) == -1 ||
	    drill_string(p, top, "name", true, &d->name) == -1 ||
	    drill_string(p, top, "description", false,
	    &d->description) == -1)
		return -1;
	if (drill_steps(p, top, "steady_state", DRILL_BEFORE, true,
	    &d->steady_state) == -1 ||
	    drill_steps(p, top, "steps", DRILL_STEPS, false, &d->steps) == -1 ||
	    drill_steps(p, top, "rollback", DRILL_ROLLBACK, true,
	    &d->rollback) == -1)
		return -1;
	return 0;
}

int
drill_parse(const char *text, size_t len, const char *file, struct drill **out,
    char *err, size_t errlen)
{
	struct dparse	 p;
	struct drill	*d;
	json_t		*top;
	int		 rv;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	if ((top = jsonerr_load(&p.je, text, len, file, err, errlen)) ==
	    NULL) {
		jsonerr_free(&p.je);
		return -1;
	}
	d = xcalloc(1, sizeof(*d));
	d->file = xstrdup(file);
	rv = drill_top(&p, top, d);
	jsonerr_free(&p.je);
	json_decref(top);
	if (rv == -1) {
		drill_free(d);
		return -1;
	}
	*out = d;
	return 0;
}
