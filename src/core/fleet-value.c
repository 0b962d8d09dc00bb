/*
 * fleet-value.c: the values under the fleet's prefix (fleet.h), made and
 * read. Reading is strict about what it knows: every field has its type
 * and range, and the first thing wrong is one message, "KEY: FIELD: what".
 * Stage and flag values refuse fields they do not know (a change is
 * understood whole or not applied); host reports ignore them (they only
 * inform, and a newer host's report must still be listed).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "log.h"
#include "util.h"

#define FLEET_UID_MAX	4294967294LL	/* (uid_t)-1 is no one */
#define FLEET_PID_MAX	INT32_MAX

/* A decode in progress: the key, and where the one error goes. */
struct fleet_dec {
	const char	*key;
	char		*err;
	size_t		 errlen;
	const char	*in;	/* the object the fields are in; NULL: the top */
};

static const char *const fleet_stage_fields[] = { "stage", "emergency", "by",
	"at", "reason", "values", NULL };
static const char *const fleet_flag_fields[] = { "value", "reset", "by",
	"at", "reason", NULL };
static const char *const fleet_by_fields[] = { "host", "uid", "pid", NULL };

static int
fleet_dec_fail(struct fleet_dec *d, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fleet_dec_fail(struct fleet_dec *d, const char *field, const char *fmt, ...)
{
	char	 what[FLEET_ERR_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (field != NULL)
		snprintf(d->err, d->errlen, "%s: %s%s%s: %s", d->key,
		    d->in != NULL ? d->in : "", d->in != NULL ? "." : "",
		    field, what);
	else
		snprintf(d->err, d->errlen, "%s: %s", d->key, what);
	return -1;
}

/* The text as one JSON object, or NULL with the error. */
static json_t *
fleet_dec_load(struct fleet_dec *d, const char *text, size_t len)
{
	json_error_t	 je;
	json_t		*v;

	if (text == NULL)
		return fleet_dec_fail(d, NULL, "no value"), NULL;
	if ((v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		fleet_dec_fail(d, NULL, "not JSON: %s (at byte %d)", je.text,
		    je.position);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		fleet_dec_fail(d, NULL, "expected a JSON object");
		return NULL;
	}
	return v;
}

/* Every field of obj is in known. */
static int
fleet_dec_known(struct fleet_dec *d, const char *where, json_t *obj,
    const char *const *known)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	json_object_foreach(obj, k, v) {
		for (i = 0; known[i] != NULL && strcmp(known[i], k) != 0; i++)
			;
		if (known[i] == NULL)
			return fleet_dec_fail(d, where, "unknown field \"%s\" "
			    "(a change is applied whole or not at all)", k);
	}
	return 0;
}

/* obj's integer field in min..max; absent is an error when required. */
static int
fleet_dec_int(struct fleet_dec *d, json_t *obj, const char *field,
    int64_t min, int64_t max, bool required, int64_t *out)
{
	json_t	*v = json_object_get(obj, field);

	if (v == NULL) {
		if (required)
			return fleet_dec_fail(d, field, "missing");
		return 0;
	}
	if (!json_is_integer(v))
		return fleet_dec_fail(d, field, "expected an integer");
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return fleet_dec_fail(d, field, "expected an integer from %lld "
		    "to %lld", (long long)min, (long long)max);
	*out = json_integer_value(v);
	return 0;
}

/* obj's field: absent or null is NULL, else a string of at most max bytes. */
static int
fleet_dec_str(struct fleet_dec *d, json_t *obj, const char *field,
    size_t max, char **out)
{
	json_t	*v = json_object_get(obj, field);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return fleet_dec_fail(d, field, "expected a string or null");
	if (json_string_length(v) > max)
		return fleet_dec_fail(d, field, "at most %zu bytes", max);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return fleet_dec_fail(d, field, "must not contain NUL");
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* "by", "at" and "reason" of a change. */
static int
fleet_dec_audit(struct fleet_dec *d, json_t *obj, struct fleet_audit *a)
{
	json_t		*by = json_object_get(obj, "by"), *h;
	int64_t		 n;
	const char	*why;

	if (by == NULL)
		return fleet_dec_fail(d, "by", "missing");
	if (!json_is_object(by))
		return fleet_dec_fail(d, "by", "expected {\"host\", \"uid\", "
		    "\"pid\"}");
	if (fleet_dec_known(d, "by", by, fleet_by_fields) == -1)
		return -1;
	d->in = "by";
	if (!json_is_string(h = json_object_get(by, "host")))
		return fleet_dec_fail(d, "host", "expected a host's name");
	why = strlen(json_string_value(h)) != json_string_length(h) ?
	    "must not contain NUL" : fleet_host_problem(json_string_value(h));
	if (why != NULL)
		return fleet_dec_fail(d, "host", "%s", why);
	snprintf(a->host, sizeof(a->host), "%s", json_string_value(h));
	if (fleet_dec_int(d, by, "uid", 0, FLEET_UID_MAX, true, &n) == -1)
		return -1;
	a->uid = (uid_t)n;
	if (fleet_dec_int(d, by, "pid", 0, FLEET_PID_MAX, true, &n) == -1)
		return -1;
	a->pid = (pid_t)n;
	d->in = NULL;
	if (fleet_dec_int(d, obj, "at", 0, INT64_MAX, true, &n) == -1)
		return -1;
	a->at = n;
	return fleet_dec_str(d, obj, "reason", FLEET_REASON_MAX, &a->reason);
}

void
fleet_audit_clear(struct fleet_audit *a)
{
	free(a->reason);
	memset(a, 0, sizeof(*a));
}

void
fleet_stage_clear(struct fleet_stage *s)
{
	fleet_audit_clear(&s->by);
	json_decref(s->values);
	s->values = NULL;
}

/*
 * A stage's "values": absent, or an object of at most CONFIG_FLAGS_MAX
 * flag names, each true, false or 0..100. Whether this host has the flags
 * is the plan's business: the value itself is well formed or not.
 */
static int
fleet_dec_values(struct fleet_dec *d, json_t *obj, json_t **out)
{
	json_t		*vs = json_object_get(obj, "values"), *v;
	const char	*name;
	int		 n;

	*out = NULL;
	if (vs == NULL)
		return 0;
	if (!json_is_object(vs) || json_object_size(vs) > CONFIG_FLAGS_MAX)
		return fleet_dec_fail(d, "values", "expected an object of at "
		    "most %d flags and their values", CONFIG_FLAGS_MAX);
	d->in = "values";
	json_object_foreach(vs, name, v) {
		if (!fleet_flag_name_ok(name))
			return fleet_dec_fail(d, name, "not a flag's name");
		if (flags_value_parse(v, &n) == -1)
			return fleet_dec_fail(d, name, "expected true, false or "
			    "an integer from 0 to 100");
	}
	d->in = NULL;
	*out = json_incref(vs);
	return 0;
}

json_t *
fleet_values_json(const struct flags *fs)
{
	json_t	*vs = json_object();
	size_t	 i;

	for (i = 0; i < fs->nflags; i++)
		json_object_set_new(vs, fs->flag[i].name, flags_value_json(fs, i,
		    fs->flag[i].value));
	return vs;
}

int
fleet_stage_decode(const char *key, const char *text, size_t len,
    struct fleet_stage *out, char *err, size_t errlen)
{
	struct fleet_dec	 d = { key, err, errlen, NULL };
	json_t			*v, *e;
	int64_t			 n = 0;
	int			 rv = -1;

	memset(out, 0, sizeof(*out));
	if ((v = fleet_dec_load(&d, text, len)) == NULL)
		return -1;
	if (fleet_dec_known(&d, NULL, v, fleet_stage_fields) == -1 ||
	    fleet_dec_int(&d, v, "stage", 0, FLEET_STAGE_MAX, true, &n) == -1)
		goto out;
	out->stage = (int)n;
	if ((e = json_object_get(v, "emergency")) != NULL &&
	    !json_is_boolean(e)) {
		fleet_dec_fail(&d, "emergency", "expected true or false");
		goto out;
	}
	out->emergency = json_is_true(e);
	if (out->emergency && out->stage != 0) {
		fleet_dec_fail(&d, "stage", "an emergency is stage 0, not %d",
		    out->stage);
		goto out;
	}
	if (fleet_dec_values(&d, v, &out->values) == -1)
		goto out;
	rv = fleet_dec_audit(&d, v, &out->by);
out:
	json_decref(v);
	if (rv == -1)
		fleet_stage_clear(out);
	return rv;
}

/*
 * A flag's "reset": absent (a value), or true with no "value" beside it
 * (the flag back to its default, by whom and why). false is refused: a
 * value is written without it, so false would only be a second spelling.
 */
static int
fleet_dec_reset(struct fleet_dec *d, json_t *obj, bool *reset)
{
	json_t	*r = json_object_get(obj, "reset");

	*reset = false;
	if (r == NULL)
		return 0;
	if (!json_is_true(r))
		return fleet_dec_fail(d, "reset", "expected true (a value is "
		    "written without \"reset\")");
	if (json_object_get(obj, "value") != NULL)
		return fleet_dec_fail(d, "value", "not beside \"reset\" (a "
		    "reset has no value: the flag goes to its default)");
	*reset = true;
	return 0;
}

int
fleet_flag_decode(const char *key, const char *text, size_t len,
    struct fleet_flag *out, char *err, size_t errlen)
{
	struct fleet_dec	 d = { key, err, errlen, NULL };
	json_t			*v, *e;
	int			 rv = -1;

	memset(out, 0, sizeof(*out));
	if ((v = fleet_dec_load(&d, text, len)) == NULL)
		return -1;
	if (fleet_dec_known(&d, NULL, v, fleet_flag_fields) == -1 ||
	    fleet_dec_reset(&d, v, &out->reset) == -1)
		goto out;
	if (out->reset) {
		rv = fleet_dec_audit(&d, v, &out->by);
		goto out;
	}
	if ((e = json_object_get(v, "value")) == NULL) {
		fleet_dec_fail(&d, "value", "missing");
		goto out;
	}
	if (flags_value_parse(e, &out->value) == -1) {
		fleet_dec_fail(&d, "value", "expected true, false or an "
		    "integer from 0 to 100");
		goto out;
	}
	out->is_bool = json_is_boolean(e);
	rv = fleet_dec_audit(&d, v, &out->by);
out:
	json_decref(v);
	if (rv == -1)
		fleet_audit_clear(&out->by);
	return rv;
}

/* A report's "guard": null, or the last guard rollback. */
static int
fleet_dec_guard(struct fleet_dec *d, json_t *g, struct fleet_guard *out)
{
	int64_t	from, to, at;

	if (g == NULL || json_is_null(g))
		return 0;
	if (!json_is_object(g))
		return fleet_dec_fail(d, "guard", "expected null or {\"from\", "
		    "\"to\", \"reason\", \"at\"}");
	d->in = "guard";
	if (fleet_dec_int(d, g, "from", 1, FLEET_STAGE_MAX, true, &from) == -1 ||
	    fleet_dec_int(d, g, "to", 0, FLEET_STAGE_MAX, true, &to) == -1 ||
	    fleet_dec_int(d, g, "at", 0, INT64_MAX, true, &at) == -1 ||
	    fleet_dec_str(d, g, "reason", FLAGS_REASON_MAX, &out->reason) == -1)
		return -1;
	if (to >= from)
		return fleet_dec_fail(d, "to", "a rollback goes down: %lld is "
		    "not below from (%lld)", (long long)to, (long long)from);
	d->in = NULL;
	out->has = true;
	out->from = (int)from;
	out->to = (int)to;
	out->at = at;
	return 0;
}

/* A report's "rejected": absent, or up to FLEET_REJECTED_MAX entries. */
static int
fleet_dec_rejected(struct fleet_dec *d, json_t *a, json_t **out)
{
	json_t		*e;
	size_t		 i;

	if (a == NULL) {
		*out = json_array();
		return 0;
	}
	if (!json_is_array(a) || json_array_size(a) > FLEET_REJECTED_MAX)
		return fleet_dec_fail(d, "rejected", "expected an array of at "
		    "most %d {\"key\", \"revision\", \"reason\"}",
		    FLEET_REJECTED_MAX);
	json_array_foreach(a, i, e)
		if (!json_is_object(e) ||
		    !json_is_string(json_object_get(e, "key")) ||
		    !json_is_string(json_object_get(e, "reason")) ||
		    !json_is_integer(json_object_get(e, "revision")) ||
		    json_integer_value(json_object_get(e, "revision")) < 0)
			return fleet_dec_fail(d, "rejected", "entry %zu: expected "
			    "{\"key\": S, \"revision\": R, \"reason\": S}", i);
	*out = json_deep_copy(a);
	return 0;
}

static int
fleet_dec_report(struct fleet_dec *d, json_t *v, struct fleet_report *out)
{
	int64_t		 n = 0;
	json_t		*u;

	if (fleet_dec_int(d, v, "stage", 0, FLEET_STAGE_MAX, true, &n) == -1)
		return -1;
	out->stage = (int)n;
	if (fleet_dec_int(d, v, "generation", 0, INT64_MAX, true, &n) == -1)
		return -1;
	out->generation = (uint64_t)n;
	if (fleet_dec_int(d, v, "revision", 0, INT64_MAX, true,
	    &out->revision) == -1 ||
	    fleet_dec_int(d, v, "applied_at", 0, INT64_MAX, true,
	    &out->applied_at) == -1)
		return -1;
	/* A report without it says nothing of readers: as applied. */
	out->observed = out->revision;
	if (fleet_dec_int(d, v, "observed", 0, out->revision, false,
	    &out->observed) == -1)
		return -1;
	if ((u = json_object_get(v, "unreachable_since")) != NULL &&
	    !json_is_null(u) && fleet_dec_int(d, v, "unreachable_since", 1,
	    INT64_MAX, true, &out->unreachable_since) == -1)
		return -1;
	if (fleet_dec_guard(d, json_object_get(v, "guard"), &out->guard) == -1)
		return -1;
	return fleet_dec_rejected(d, json_object_get(v, "rejected"),
	    &out->rejected);
}

int
fleet_report_decode(const char *key, const char *text, size_t len,
    struct fleet_report *out, char *err, size_t errlen)
{
	struct fleet_dec	 d = { key, err, errlen, NULL };
	json_t			*v;
	int			 rv;

	memset(out, 0, sizeof(*out));
	if ((v = fleet_dec_load(&d, text, len)) == NULL)
		return -1;
	rv = fleet_dec_report(&d, v, out);
	json_decref(v);
	if (rv == -1)
		fleet_report_clear(out);
	return rv;
}

void
fleet_report_clear(struct fleet_report *r)
{
	free(r->guard.reason);
	json_decref(r->rejected);
	memset(r, 0, sizeof(*r));
}

/* --- making them ------------------------------------------------------------------- */

static json_t *
fleet_str_or_null(const char *s)
{
	json_t	*v = s != NULL ? json_string(s) : NULL;

	return v != NULL ? v : json_null();
}

/* {"by": ..., "at": ..., "reason": ...} added to obj. */
static json_t *
fleet_audit_add(json_t *obj, const struct fleet_audit *a)
{
	json_object_set_new(obj, "by", json_pack("{s:s, s:I, s:I}", "host",
	    a->host, "uid", (json_int_t)a->uid, "pid", (json_int_t)a->pid));
	json_object_set_new(obj, "at", json_integer(a->at));
	json_object_set_new(obj, "reason", fleet_str_or_null(a->reason));
	return obj;
}

json_t *
fleet_stage_json(const struct fleet_stage *s)
{
	json_t	*v = json_pack("{s:i}", "stage", s->emergency ? 0 : s->stage);

	if (s->emergency)
		json_object_set_new(v, "emergency", json_true());
	if (s->values != NULL)
		json_object_set_new(v, "values", json_deep_copy(s->values));
	return fleet_audit_add(v, &s->by);
}

json_t *
fleet_flag_json(const struct fleet_flag *f)
{
	json_t	*v;

	if (f->reset)
		return fleet_audit_add(json_pack("{s:b}", "reset", 1), &f->by);
	v = f->is_bool && (f->value == 0 || f->value == 100) ?
	    json_boolean(f->value == 100) : json_integer(f->value);
	return fleet_audit_add(json_pack("{s:o}", "value", v), &f->by);
}

json_t *
fleet_report_json(const struct fleet_report *r)
{
	const struct fleet_guard	*g = &r->guard;

	return json_pack("{s:i, s:I, s:I, s:I, s:I, s:o, s:o, s:o}",
	    "stage", r->stage, "generation", (json_int_t)r->generation,
	    "revision", (json_int_t)r->revision,
	    "observed", (json_int_t)r->observed,
	    "applied_at", (json_int_t)r->applied_at,
	    "unreachable_since", r->unreachable_since != 0 ?
	    json_integer(r->unreachable_since) : json_null(),
	    "guard", g->has ? json_pack("{s:i, s:i, s:o, s:I}", "from", g->from,
	    "to", g->to, "reason", fleet_str_or_null(g->reason),
	    "at", (json_int_t)g->at) : json_null(),
	    "rejected", r->rejected != NULL ? json_deep_copy(r->rejected) :
	    json_array());
}

char *
fleet_value_text(json_t *v)
{
	char	*s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	json_decref(v);
	if (s == NULL)
		fatalx("out of memory");
	return s;
}
