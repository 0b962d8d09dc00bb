/*
 * drill.c: failure drills without I/O (see drill.h and warden-drill(5)).
 *
 * The parser walks the jansson tree keeping the key path it is at, as the
 * config loader does, so that an error names the file, the line and
 * column (through jsonpos), the step and the key. Matching and the report
 * work on values the caller hands in; nothing here reads a file or a
 * socket, so the unit suite drives all of it directly.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill.h"
#include "jsonpos.h"
#include "log.h"
#include "util.h"

/* How much of a value an error message quotes. */
#define DRILL_QUOTE_MAX		60
/* The WHAT column of the text report. */
#define DRILL_WHAT_MAX		40

struct dparse {
	const char		*text;
	size_t			 len;
	const char		*file;
	char			*err;
	size_t			 errlen;
	struct jsonpos_path	 kp;	/* where the walk is */
	enum drill_phase	 phase;	/* of the steps being parsed */
	struct drill_step	*step;	/* being parsed */
};

static const char *const top_keys[] = { "name", "description",
	"steady_state", "steps", "rollback", NULL };
static const char *const step_keys[] = { "name", "do", "expect", "wait",
	"params", "match", "within_ms", NULL };
static const char *const call_keys[] = { "method", "params", NULL };
static const char *const kind_keys[] = { "do", "expect", "wait", NULL };
static const char *const comparisons[] = { "$gt", "$ge", "$lt", "$le",
	NULL };
static const char *const operators[] = { "$gt", "$ge", "$lt", "$le",
	"$delta", "$length", "$contains", "$all", "$last", "$or", NULL };
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
static const char *const phase_keys[] = {
	[DRILL_BEFORE] = "steady_state",
	[DRILL_STEPS] = "steps",
	[DRILL_ROLLBACK] = "rollback",
	[DRILL_AFTER] = "steady_state",
};
static const char *const kind_names[] = {
	[DRILL_DO] = "do",
	[DRILL_EXPECT] = "expect",
	[DRILL_WAIT] = "wait",
};
static const char *const verdict_names[] = {
	[DRILL_PASS] = "pass",
	[DRILL_FAIL] = "fail",
	[DRILL_SKIP] = "skip",
};

static bool
drill_in(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

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
	return drill_in(read_methods, method);
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

/* --- errors ------------------------------------------------------------- */

static int __attribute__((format(printf, 4, 5)))
drill_errx(struct dparse *p, int want_key, const char *extra,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	jsonpos_verror(p->text, p->len, p->file, &p->kp, want_key, extra,
	    p->err, p->errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The value at the current path is wrong. */
#define drill_err(p, ...)	drill_errx((p), 0, NULL, __VA_ARGS__)
/* The key of the current path's last member is wrong. */
#define drill_err_key(p, ...)	drill_errx((p), 1, NULL, __VA_ARGS__)
/* The object at the current path lacks key. */
#define drill_err_missing(p, key) \
	drill_errx((p), 0, (key), "required key is missing")

#define drill_push_key(p, key)	jsonpos_push(&(p)->kp, (key), 0)
#define drill_push_index(p, i)	jsonpos_push(&(p)->kp, NULL, (i))
#define drill_pop(p)		jsonpos_pop(&(p)->kp)

/* Every key of obj is in known; the first that is not is the error. */
static int
drill_keys(struct dparse *p, json_t *obj, const char *const *known)
{
	const char	*key;
	json_t		*v;

	json_object_foreach(obj, key, v) {
		if (drill_in(known, key))
			continue;
		drill_push_key(p, key);
		return drill_err_key(p, "unknown key");
	}
	return 0;
}

/* A non-empty string at obj.key, copied to *out; required or not. */
static int
drill_string(struct dparse *p, json_t *obj, const char *key, bool required,
    char **out)
{
	json_t	*v;

	if ((v = json_object_get(obj, key)) == NULL) {
		if (required)
			return drill_err_missing(p, key);
		return 0;
	}
	drill_push_key(p, key);
	if (!json_is_string(v) || json_string_length(v) == 0)
		return drill_err(p, "expected a non-empty string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return drill_err(p, "expected a string without NUL");
	*out = xstrdup(json_string_value(v));
	drill_pop(p);
	return 0;
}

/* --- patterns ----------------------------------------------------------- */

static bool
drill_is_operator(const char *key)
{
	return key[0] == '$';
}

/* {"$ge": 1, "$lt": 5}: comparisons only, each with a number. */
static bool
drill_is_comparison(json_t *v)
{
	const char	*key;
	json_t		*arg;

	if (!json_is_object(v) || json_object_size(v) == 0)
		return false;
	json_object_foreach(v, key, arg)
		if (!drill_in(comparisons, key) || !json_is_number(arg))
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
		return drill_err_key(p, "$delta cannot be under $contains or "
		    "$all: no one element is its baseline");
	if (p->phase == DRILL_BEFORE)
		return drill_err_key(p, "$delta compares with the start of "
		    "the steps: it belongs in steps and rollback, not in "
		    "steady_state");
	if (method == NULL || !drill_method_reads(method))
		return drill_err_key(p, "$delta needs a method that changes "
		    "nothing (status, recovery, flag.get, flag.list, "
		    "stage.get, table.info): its baseline is the same call "
		    "at the start");
	if (!json_is_number(arg) && !drill_is_comparison(arg))
		return drill_err(p, "expected a number or a comparison such "
		    "as {\"$ge\": 1}");
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
		return drill_err(p, "expected an array of patterns, at least "
		    "one");
	json_array_foreach(arg, i, v) {
		drill_push_index(p, i);
		if (drill_pattern(p, v, method, delta_ok) == -1)
			return -1;
		drill_pop(p);
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
		drill_push_key(p, key);
		if (!drill_is_operator(key))
			return drill_err_key(p, "operators ($...) and keys "
			    "cannot be mixed in one object");
		if (!drill_in(operators, key))
			return drill_err_key(p, "unknown operator (one of "
			    "$gt, $ge, $lt, $le, $delta, $length, $contains, "
			    "$all, $last, $or)");
		if (drill_in(comparisons, key)) {
			if (!json_is_number(arg))
				return drill_err(p, "expected a number");
		} else if (strcmp(key, "$delta") == 0) {
			if (drill_delta(p, arg, method, delta_ok) == -1)
				return -1;
		} else if (strcmp(key, "$length") == 0) {
			if (!(json_is_integer(arg) &&
			    json_integer_value(arg) >= 0) &&
			    !drill_is_comparison(arg))
				return drill_err(p, "expected an integer >= 0 "
				    "or a comparison such as {\"$ge\": 1}");
		} else if (strcmp(key, "$last") == 0) {
			if (drill_pattern(p, arg, method, delta_ok) == -1)
				return -1;
		} else if (strcmp(key, "$or") == 0) {
			if (drill_alternatives(p, arg, method, delta_ok) == -1)
				return -1;
		} else if (drill_pattern(p, arg, method, false) == -1)
			return -1;
		drill_pop(p);
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
			drill_push_index(p, i);
			if (drill_pattern(p, v, method, delta_ok) == -1)
				return -1;
			drill_pop(p);
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
		drill_push_key(p, key);
		if (drill_is_operator(key))
			return drill_err_key(p, "operators ($...) and keys "
			    "cannot be mixed in one object");
		if (drill_pattern(p, v, method, delta_ok) == -1)
			return -1;
		drill_pop(p);
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
	drill_push_key(p, "params");
	if (!json_is_object(v))
		return drill_err(p, "expected an object");
	drill_pop(p);
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
	drill_push_key(p, key);
	return drill_err_key(p, "%s", why);
}

/* "do": [ {method, params?}, ... ] */
static int
drill_batch(struct dparse *p, json_t *arr, struct drill_step *s)
{
	json_t	*v;
	size_t	 i;

	if (json_array_size(arr) == 0)
		return drill_err(p, "expected at least one call in a batch");
	s->batch = true;
	s->calls = xcalloc(json_array_size(arr), sizeof(*s->calls));
	json_array_foreach(arr, i, v) {
		drill_push_index(p, i);
		if (!json_is_object(v))
			return drill_err(p, "expected a call: {\"method\": "
			    "METHOD, \"params\": {...}}");
		s->ncalls++;
		if (drill_keys(p, v, call_keys) == -1 ||
		    drill_string(p, v, "method", true,
		    &s->calls[i].method) == -1 ||
		    drill_params(p, v, &s->calls[i].params) == -1)
			return -1;
		drill_pop(p);
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
		drill_push_key(p, "do");
		if (drill_batch(p, v, s) == -1)
			return -1;
		drill_pop(p);
		return 0;
	}
	if (!json_is_string(v)) {
		drill_push_key(p, "do");
		return drill_err(p, "expected a method, or a batch: an array "
		    "of calls");
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
		return drill_err_missing(p, "match");
	drill_push_key(p, "match");
	if (drill_pattern(p, match, s->calls[0].method, true) == -1)
		return -1;
	drill_pop(p);
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
	drill_push_key(p, "min_restarts");
	if (json_object_size(v) != 1 ||
	    (n = json_object_get(v, "$delta")) == NULL)
		return drill_err(p, "expected an integer, or {\"$delta\": N}: "
		    "N more than at the start of the steps");
	drill_push_key(p, "$delta");
	if (p->phase == DRILL_BEFORE)
		return drill_err_key(p, "$delta compares with the start of "
		    "the steps: it belongs in steps and rollback, not in "
		    "steady_state");
	if (!json_is_integer(n) || json_integer_value(n) < 0 ||
	    json_integer_value(n) > INT32_MAX)
		return drill_err(p, "expected an integer >= 0");
	drill_pop(p);
	drill_pop(p);
	if (!json_is_string(json_object_get(cond, "service")))
		return drill_err(p, "a $delta in min_restarts needs the "
		    "service's name in \"service\"");
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
	drill_push_key(p, "wait");
	if (!json_is_object(cond) || json_object_size(cond) == 0)
		return drill_err(p, "expected a condition, such as "
		    "{\"recovered\": true}");
	if (drill_condition_delta(p, cond) == -1)
		return -1;
	drill_pop(p);
	s->condition = json_incref(cond);
	if ((ms = json_object_get(obj, "within_ms")) == NULL)
		return drill_err_missing(p, "within_ms");
	drill_push_key(p, "within_ms");
	/* 1e3 is 1000 for jansson's reader too, but not an integer. */
	if (!json_is_integer(ms) || json_integer_value(ms) < 0 ||
	    json_integer_value(ms) > DRILL_WITHIN_MAX_MS)
		return drill_err(p, "expected an integer from 0 to %d",
		    DRILL_WITHIN_MAX_MS);
	s->within_ms = (int)json_integer_value(ms);
	drill_pop(p);
	return 0;
}

static int
drill_step(struct dparse *p, json_t *obj, struct drill_step *s)
{
	const char	*key, *first = NULL;
	json_t		*v;

	if (!json_is_object(obj))
		return drill_err(p, "expected a step: an object with \"do\", "
		    "\"expect\" or \"wait\"");
	if (drill_keys(p, obj, step_keys) == -1)
		return -1;
	/* The kind comes from the first of do, expect and wait. */
	json_object_foreach(obj, key, v) {
		if (!drill_in(kind_keys, key))
			continue;
		if (first != NULL) {
			drill_push_key(p, key);
			return drill_err_key(p, "a step is one of do, expect "
			    "and wait, and this one is already a %s", first);
		}
		first = key;
	}
	if (first == NULL)
		return drill_err(p, "expected one of \"do\", \"expect\" or "
		    "\"wait\"");
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
		return drill_err_missing(p, key);
	drill_push_key(p, key);
	if (!json_is_array(arr))
		return drill_err(p, "expected an array of steps");
	if (json_array_size(arr) == 0 && !may_be_empty)
		return drill_err(p, "expected at least one step");
	out->step = xcalloc(json_array_size(arr) + 1, sizeof(*out->step));
	p->phase = phase;
	json_array_foreach(arr, i, v) {
		drill_push_index(p, i);
		p->step = &out->step[i];
		out->n++;
		if (drill_step(p, v, &out->step[i]) == -1)
			return -1;
		drill_pop(p);
	}
	drill_pop(p);
	return 0;
}

static int
drill_top(struct dparse *p, json_t *top, struct drill *d)
{
	if (!json_is_object(top))
		return drill_err(p, "expected an object");
	if (drill_keys(p, top, top_keys) == -1 ||
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
	json_error_t	 je;
	json_t		*top;
	int		 rv;

	*out = NULL;
	if (err == NULL)
		errlen = 0;
	if (errlen > 0)
		err[0] = '\0';
	if ((top = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		/* jansson says column 0 at the very start of a line. */
		if (je.line >= 1)
			snprintf(err, errlen, "%s:%d:%d: %s", file, je.line,
			    je.column < 1 ? 1 : je.column, je.text);
		else
			snprintf(err, errlen, "%s: %s", file, je.text);
		if (errlen > 0 && strlen(err) > strlen(file))
			jsonpos_one_line(err + strlen(file));
		return -1;
	}
	memset(&p, 0, sizeof(p));
	p.text = text;
	p.len = len;
	p.file = file;
	p.err = err;
	p.errlen = errlen;
	d = xcalloc(1, sizeof(*d));
	d->file = xstrdup(file);
	rv = drill_top(&p, top, d);
	jsonpos_path_free(&p.kp);
	json_decref(top);
	if (rv == -1) {
		drill_free(d);
		return -1;
	}
	*out = d;
	return 0;
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

/* Compact JSON; reals as short as they read. The caller frees it. */
static char *
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

/* --- matching ----------------------------------------------------------- */

struct dmatch {
	char	*why;
	size_t	 whylen;
	char	 path[512];
};

/* Compact JSON, cut to DRILL_QUOTE_MAX characters. */
static char *
drill_quote(json_t *v)
{
	char	*s = drill_json_text(v);

	if (strlen(s) > DRILL_QUOTE_MAX)
		strcpy(s + DRILL_QUOTE_MAX - 3, "...");
	return s;
}

static bool __attribute__((format(printf, 2, 3)))
drill_mismatch(struct dmatch *m, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(m->why, m->whylen, "%s: %s", m->path[0] != '\0' ? m->path :
	    "result", msg);
	if (m->whylen > 0)
		jsonpos_one_line(m->why);
	return false;
}

static bool
drill_expected(struct dmatch *m, json_t *pat, json_t *v)
{
	char	*want = drill_quote(pat), *got = drill_quote(v);

	drill_mismatch(m, "expected %s, got %s", want, got);
	free(want);
	free(got);
	return false;
}

/* Extend the path by a key or an index; returns the old length. */
static size_t
drill_path_key(struct dmatch *m, const char *key)
{
	size_t	old = strlen(m->path);

	snprintf(m->path + old, sizeof(m->path) - old, "%s%s",
	    old > 0 ? "." : "", key);
	return old;
}

static size_t
drill_path_index(struct dmatch *m, size_t i)
{
	size_t	old = strlen(m->path);

	snprintf(m->path + old, sizeof(m->path) - old, "[%zu]", i);
	return old;
}

static bool	drill_match_at(struct dmatch *, json_t *, json_t *, json_t *);

/* Numbers compare by value: 1 matches 1.0. */
static bool
drill_number_equal(json_t *a, json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b))
		return json_integer_value(a) == json_integer_value(b);
	return json_number_value(a) == json_number_value(b);
}

static bool
drill_compare(const char *op, double v, double arg)
{
	if (strcmp(op, "$gt") == 0)
		return v > arg;
	if (strcmp(op, "$ge") == 0)
		return v >= arg;
	if (strcmp(op, "$lt") == 0)
		return v < arg;
	return v <= arg;
}

static const char *
drill_compare_sign(const char *op)
{
	if (strcmp(op, "$gt") == 0)
		return ">";
	if (strcmp(op, "$ge") == 0)
		return ">=";
	if (strcmp(op, "$lt") == 0)
		return "<";
	return "<=";
}

/* "> 1 and <= 5" for a comparison object. */
static char *
drill_comparison_text(json_t *cmp)
{
	const char	*op;
	json_t		*arg;
	char		*out = xstrdup(""), *num, *tmp;

	json_object_foreach(cmp, op, arg) {
		num = drill_json_text(arg);
		xasprintf(&tmp, "%s%s%s %s", out, out[0] != '\0' ? " and " :
		    "", drill_compare_sign(op), num);
		free(num);
		free(out);
		out = tmp;
	}
	return out;
}

/* v against a number or a comparison object, quietly. */
static bool
drill_number_fits(json_t *arg, double v)
{
	const char	*op;
	json_t		*a;

	if (json_is_number(arg))
		return v == json_number_value(arg);
	json_object_foreach(arg, op, a)
		if (!drill_compare(op, v, json_number_value(a)))
			return false;
	return true;
}

static bool
drill_match_delta(struct dmatch *m, json_t *arg, json_t *v, json_t *base)
{
	char	*vt, *bt, *want;
	double	 d;
	bool	 ok;

	if (!json_is_number(base))
		return drill_mismatch(m, "no baseline: the result at the "
		    "start had no number here");
	if (!json_is_number(v))
		return drill_expected(m, base, v);
	d = json_number_value(v) - json_number_value(base);
	if (drill_number_fits(arg, d))
		return true;
	vt = drill_json_text(v);
	bt = drill_json_text(base);
	if (json_is_number(arg)) {
		want = drill_json_text(arg);
		ok = drill_mismatch(m, "expected %s more than at the start "
		    "(%s), got %s", want, bt, vt);
	} else {
		want = drill_comparison_text(arg);
		ok = drill_mismatch(m, "expected a change %s since the start "
		    "(%s), got %s", want, bt, vt);
	}
	free(want);
	free(vt);
	free(bt);
	return ok;
}

/* $or: the first alternative that matches will do. */
static bool
drill_match_any(struct dmatch *m, json_t *alts, json_t *v, json_t *base)
{
	json_t	*alt;
	size_t	 i, old = strlen(m->path);
	char	*first = NULL;
	bool	 ok;

	json_array_foreach(alts, i, alt) {
		if (drill_match_at(m, alt, v, base)) {
			free(first);
			return true;
		}
		m->path[old] = '\0';
		if (first == NULL && m->whylen > 0)
			first = xstrdup(m->why);
	}
	/* The first alternative's reason says the most: it is the usual. */
	ok = drill_mismatch(m, "none of %zu alternatives matches; the "
	    "first: %s", json_array_size(alts), first != NULL ? first : "");
	free(first);
	return ok;
}

static bool
drill_match_ops(struct dmatch *m, json_t *ops, json_t *v, json_t *base)
{
	const char	*op;
	json_t		*arg, *e;
	size_t		 i, n, old;
	char		*want, *got;
	bool		 ok;

	json_object_foreach(ops, op, arg) {
		if (drill_in(comparisons, op)) {
			if (!json_is_number(v) ||
			    !drill_compare(op, json_number_value(v),
			    json_number_value(arg))) {
				want = drill_json_text(arg);
				got = drill_quote(v);
				drill_mismatch(m, "expected %s %s, got %s",
				    drill_compare_sign(op), want, got);
				free(want);
				free(got);
				return false;
			}
			continue;
		}
		if (strcmp(op, "$delta") == 0) {
			if (!drill_match_delta(m, arg, v, base))
				return false;
			continue;
		}
		if (strcmp(op, "$or") == 0) {
			if (!drill_match_any(m, arg, v, base))
				return false;
			continue;
		}
		if (!json_is_array(v)) {
			got = drill_quote(v);
			drill_mismatch(m, "expected an array for %s, got %s",
			    op, got);
			free(got);
			return false;
		}
		n = json_array_size(v);
		if (strcmp(op, "$length") == 0) {
			if (drill_number_fits(arg, (double)n))
				continue;
			want = json_is_number(arg) ? drill_json_text(arg) :
			    drill_comparison_text(arg);
			drill_mismatch(m, "expected a length %s%s, got %zu",
			    json_is_number(arg) ? "of " : "", want, n);
			free(want);
			return false;
		}
		if (strcmp(op, "$last") == 0) {
			if (n == 0)
				return drill_mismatch(m, "expected a last "
				    "element, got an empty array");
			old = drill_path_index(m, n - 1);
			ok = drill_match_at(m, arg, json_array_get(v, n - 1),
			    json_is_array(base) && json_array_size(base) > 0 ?
			    json_array_get(base, json_array_size(base) - 1) :
			    NULL);
			m->path[old] = '\0';
			if (!ok)
				return false;
			continue;
		}
		if (strcmp(op, "$all") == 0) {
			json_array_foreach(v, i, e) {
				old = drill_path_index(m, i);
				ok = drill_match_at(m, arg, e, NULL);
				m->path[old] = '\0';
				if (!ok)
					return false;
			}
			continue;
		}
		/* $contains: the first element that matches will do. */
		ok = false;
		json_array_foreach(v, i, e)
			if ((ok = drill_match_at(m, arg, e, NULL)))
				break;
		if (!ok) {
			want = drill_quote(arg);
			drill_mismatch(m, "no element of %zu matches %s", n,
			    want);
			free(want);
			return false;
		}
	}
	return true;
}

static bool
drill_match_at(struct dmatch *m, json_t *pat, json_t *v, json_t *base)
{
	const char	*key;
	json_t		*p, *e;
	size_t		 i, old;
	bool		 ok;

	switch (json_typeof(pat)) {
	case JSON_OBJECT:
		json_object_foreach(pat, key, p) {
			if (drill_is_operator(key))
				return drill_match_ops(m, pat, v, base);
			break;
		}
		if (!json_is_object(v))
			return drill_expected(m, pat, v);
		json_object_foreach(pat, key, p) {
			old = drill_path_key(m, key);
			e = json_object_get(v, key);
			ok = e != NULL ? drill_match_at(m, p, e,
			    json_object_get(base, key)) :
			    drill_expected(m, p, NULL);
			m->path[old] = '\0';
			if (!ok)
				return false;
		}
		return true;
	case JSON_ARRAY:
		if (!json_is_array(v))
			return drill_expected(m, pat, v);
		if (json_array_size(v) != json_array_size(pat))
			return drill_mismatch(m, "expected %zu elements, got "
			    "%zu", json_array_size(pat), json_array_size(v));
		json_array_foreach(pat, i, p) {
			old = drill_path_index(m, i);
			ok = drill_match_at(m, p, json_array_get(v, i),
			    json_array_get(base, i));
			m->path[old] = '\0';
			if (!ok)
				return false;
		}
		return true;
	case JSON_INTEGER:
	case JSON_REAL:
		if (json_is_number(v) && drill_number_equal(pat, v))
			return true;
		return drill_expected(m, pat, v);
	case JSON_STRING:
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL:
		break;
	}
	if (json_equal(pat, v))
		return true;
	return drill_expected(m, pat, v);
}

bool
drill_match(json_t *pattern, json_t *value, json_t *baseline, char *why,
    size_t whylen)
{
	struct dmatch	m;

	if (why == NULL)
		whylen = 0;
	if (whylen > 0)
		why[0] = '\0';
	m.why = why;
	m.whylen = whylen;
	m.path[0] = '\0';
	return drill_match_at(&m, pattern, value, baseline);
}

/* --- the report ----------------------------------------------------------- */

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
			    kind_names[res->kind], res->what,
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
		    "s:o}", "phase", phase_names[res->phase],
		    "index", (json_int_t)res->index,
		    "kind", kind_names[res->kind], "what", res->what,
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
		    "phase", phase_names[rc->phase],
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
		    phase_names[res->phase], res->index, kind_names[res->kind],
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
