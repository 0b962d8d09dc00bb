/*
 * drill-match.c: does a result contain a pattern (warden-drill(5),
 * MATCHING)? On a mismatch, why says where and how: "path: expected ...,
 * got ...".
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill.h"
#include "drill-int.h"
#include "jsonerr.h"
#include "jsonpos.h"
#include "util.h"

/* How much of a value an error message quotes. */
#define DRILL_QUOTE_MAX		60

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
		if (jsonerr_listed(drill_comparisons, op)) {
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
