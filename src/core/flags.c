/*
 * flags.c: feature flags and migration stages, as pure state (see flags.h).
 *
 * The rule that keeps replay honest: an operation only reads the state and
 * describes the change; flags_apply() is the one place that changes it, and
 * it reads nothing but the record and the configuration.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flags.h"
#include "log.h"
#include "util.h"

static const char *const kind_names[] = { "set", "rollback", "emergency", "guard" };

static const char *const write_methods[] = { "flag.set", "flag.reset", "stage.set",
	"stage.rollback", "stage.emergency" };

static enum flags_err flags_fail(char *, size_t, enum flags_err, const char *, ...)
	    __attribute__((format(printf, 4, 5)));

static enum flags_err
flags_fail(char *err, size_t errlen, enum flags_err e, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return e;
}

static int
flags_clamp(json_int_t v)
{
	if (v < 0)
		return 0;
	if (v > 100)
		return 100;
	return (int)v;
}

static int
flags_clamp_stage(const struct flags *fs, json_int_t v)
{
	if (v < 0)
		return 0;
	if (v > fs->nstages)
		return fs->nstages;
	return (int)v;
}

static bool
flags_name_in(const char *s, const char *const *names, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

/* --- the state ------------------------------------------------------------------- */

struct flags *
flags_new(const struct config *conf)
{
	struct flags	*fs = xcalloc(1, sizeof(*fs));
	struct flag_state *f;
	ssize_t		 idx;
	size_t		 i, j;

	fs->nflags = conf->nflags;
	fs->flag = xcalloc(fs->nflags, sizeof(*fs->flag));
	for (i = 0; i < fs->nflags; i++) {
		f = &fs->flag[i];
		f->name = xstrdup(conf->flags[i].name);
		f->description = xstrdup(conf->flags[i].description != NULL ?
		    conf->flags[i].description : "");
		f->dflt = flags_clamp(conf->flags[i].dflt);
		f->dflt_is_bool = conf->flags[i].dflt_is_bool;
		f->value = f->dflt;
	}
	fs->nstages = (int)conf->nstages;
	fs->stage_flags = xcalloc(conf->nstages, sizeof(*fs->stage_flags));
	fs->stage_nflags = xcalloc(conf->nstages, sizeof(*fs->stage_nflags));
	fs->saved = xcalloc(conf->nstages, sizeof(*fs->saved));
	for (i = 0; i < conf->nstages; i++) {
		fs->stage_flags[i] = xcalloc(conf->stages[i].nenable,
		    sizeof(**fs->stage_flags));
		for (j = 0; j < conf->stages[i].nenable; j++) {
			/* config.c lets stages name configured flags only. */
			if ((idx = flags_find(fs, conf->stages[i].enable[j])) < 0)
				continue;
			fs->stage_flags[i][fs->stage_nflags[i]++] = (size_t)idx;
		}
	}
	fs->history = json_array();
	return fs;
}

static void
flags_clear(struct flags *fs)
{
	size_t	i;
	int	k;

	for (i = 0; i < fs->nflags; i++) {
		free(fs->flag[i].name);
		free(fs->flag[i].description);
		free(fs->flag[i].reason);
	}
	free(fs->flag);
	for (k = 0; k < fs->nstages; k++) {
		free(fs->stage_flags[k]);
		free(fs->saved[k]);
	}
	free(fs->stage_flags);
	free(fs->stage_nflags);
	free(fs->saved);
	json_decref(fs->history);
	memset(fs, 0, sizeof(*fs));
}

void
flags_free(struct flags *fs)
{
	if (fs == NULL)
		return;
	flags_clear(fs);
	free(fs);
}

ssize_t
flags_find(const struct flags *fs, const char *name)
{
	size_t	i;

	if (name == NULL)
		return -1;
	for (i = 0; i < fs->nflags; i++)
		if (strcmp(fs->flag[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

void
flags_reconfigure(struct flags *fs, const struct config *conf)
{
	struct flags	*nf = flags_new(conf);
	json_t		*snap = flags_snapshot_json(fs);
	char		 err[256];

	/* Our own snapshot always has the right shape. */
	if (flags_restore(nf, snap, err, sizeof(err)) == -1)
		fatalx("flags_reconfigure: %s", err);
	json_decref(snap);
	flags_clear(fs);
	*fs = *nf;
	free(nf);
}

static int *
flags_values(const struct flags *fs)
{
	int	*v = xcalloc(fs->nflags, sizeof(*v));
	size_t	 i;

	for (i = 0; i < fs->nflags; i++)
		v[i] = fs->flag[i].value;
	return v;
}

/* --- protocol JSON ---------------------------------------------------------------- */

json_t *
flags_time_json(int64_t ms)
{
	char		buf[64];
	struct tm	tm;
	time_t		sec;
	int64_t		frac;

	if (ms == 0)
		return json_null();
	sec = (time_t)(ms / 1000);
	frac = ms % 1000;
	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	if (gmtime_r(&sec, &tm) == NULL)
		return json_integer((json_int_t)ms);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)frac);
	return json_string(buf);
}

static json_t *
flags_actor_json(const struct flags_actor *by)
{
	if (by == NULL)
		return json_null();
	return json_pack("{s:I, s:I}", "uid", (json_int_t)by->uid,
	    "pid", (json_int_t)by->pid);
}

static json_t *
flags_str_or_null(const char *s)
{
	json_t	*v;

	if (s == NULL || (v = json_string(s)) == NULL)
		return json_null();
	return v;
}

json_t *
flags_value_json(const struct flags *fs, size_t i, int value)
{
	if (i < fs->nflags && fs->flag[i].dflt_is_bool &&
	    (value == 0 || value == 100))
		return json_boolean(value == 100);
	return json_integer(value);
}

json_t *
flags_flag_json(const struct flags *fs, size_t i)
{
	const struct flag_state	*f = &fs->flag[i];

	return json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:o}",
	    "name", f->name,
	    "value", flags_value_json(fs, i, f->value),
	    "default", flags_value_json(fs, i, f->dflt),
	    "description", f->description,
	    "changed_at", flags_time_json(f->changed_at),
	    "changed_by", f->has_by ? flags_actor_json(&f->by) : json_null(),
	    "reason", flags_str_or_null(f->reason));
}

static json_t *
flags_all_json(const struct flags *fs)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < fs->nflags; i++)
		json_array_append_new(a, flags_flag_json(fs, i));
	return a;
}

json_t *
flags_list_json(const struct flags *fs, uint64_t generation)
{
	return json_pack("{s:o, s:i, s:I}", "flags", flags_all_json(fs),
	    "stage", fs->stage, "generation", (json_int_t)generation);
}

/* A history entry as the protocol shows it: "at" as a time string. */
static json_t *
flags_history_entry_json(const json_t *e)
{
	json_t	*o = json_deep_copy(e);
	json_t	*at = json_object_get(e, "at");

	if (o != NULL && json_is_integer(at))
		json_object_set_new(o, "at",
		    flags_time_json((int64_t)json_integer_value(at)));
	return o;
}

json_t *
flags_stage_json(const struct flags *fs)
{
	json_t	*stages = json_array(), *hist = json_array(), *en, *e;
	size_t	 i, j;
	int	 k;

	for (k = 0; k < fs->nstages; k++) {
		en = json_array();
		for (j = 0; j < fs->stage_nflags[k]; j++)
			json_array_append_new(en,
			    json_string(fs->flag[fs->stage_flags[k][j]].name));
		json_array_append_new(stages, json_pack("{s:i, s:o}",
		    "stage", k + 1, "enable", en));
	}
	json_array_foreach(fs->history, i, e)
		json_array_append_new(hist, flags_history_entry_json(e));
	return json_pack("{s:i, s:o, s:o}", "stage", fs->stage,
	    "stages", stages, "history", hist);
}

/* --- operations ------------------------------------------------------------------- */

int
flags_value_parse(const json_t *v, int *out)
{
	json_int_t	n;

	if (json_is_boolean(v)) {
		*out = json_is_true(v) ? 100 : 0;
		return 0;
	}
	if (!json_is_integer(v))
		return -1;
	n = json_integer_value(v);
	if (n < 0 || n > 100)
		return -1;
	*out = (int)n;
	return 0;
}

bool
flags_value_equal(const struct flags *fs, size_t i, const json_t *v)
{
	int	n;

	return i < fs->nflags && flags_value_parse(v, &n) == 0 &&
	    fs->flag[i].value == n;
}

static enum flags_err
flags_check_ctx(const struct flags_ctx *ctx, char *err, size_t errlen)
{
	json_t	*s;

	if (ctx->reason == NULL)
		return FLAGS_OK;
	if (strlen(ctx->reason) > FLAGS_REASON_MAX)
		return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
		    "reason: at most %d bytes", FLAGS_REASON_MAX);
	/* json_string() refuses text that is not UTF-8. */
	if ((s = json_string(ctx->reason)) == NULL)
		return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
		    "reason: not UTF-8 text");
	json_decref(s);
	return FLAGS_OK;
}

static json_t *
flags_record_new(const char *op, const struct flags_ctx *ctx)
{
	return json_pack("{s:i, s:s, s:I, s:o, s:o, s:[]}",
	    "v", FLAGS_RECORD_VERSION, "op", op,
	    "at", (json_int_t)ctx->now_ms,
	    "by", flags_actor_json(ctx->by),
	    "reason", flags_str_or_null(ctx->reason),
	    "changes");
}

static void
flags_record_change(json_t *rec, const char *name, int old, int new)
{
	json_array_append_new(json_object_get(rec, "changes"),
	    json_pack("{s:s, s:i, s:i}", "name", name, "old", old, "new", new));
}

/* Every flag whose value differs between cur and to. */
static void
flags_record_diff(const struct flags *fs, json_t *rec, const int *to)
{
	size_t	i;

	for (i = 0; i < fs->nflags; i++)
		if (fs->flag[i].value != to[i])
			flags_record_change(rec, fs->flag[i].name,
			    fs->flag[i].value, to[i]);
}

static void
flags_record_stage_set(json_t *rec, const char *kind, int from, int to)
{
	json_object_set_new(rec, "kind", json_string(kind));
	json_object_set_new(rec, "stage", json_pack("{s:i, s:i}",
	    "from", from, "to", to));
}

static json_t *
flags_values_json(const struct flags *fs, const int *v)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; i < fs->nflags; i++)
		json_object_set_new(o, fs->flag[i].name, json_integer(v[i]));
	return o;
}

enum flags_err
flags_op_set(const struct flags *fs, const char *name, const json_t *value,
    const struct flags_ctx *ctx, json_t **rec, char *err, size_t errlen)
{
	enum flags_err	e;
	ssize_t		i;
	int		v;

	*rec = NULL;
	if ((e = flags_check_ctx(ctx, err, errlen)) != FLAGS_OK)
		return e;
	if (name == NULL)
		return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
		    "name: expected a flag name");
	if ((i = flags_find(fs, name)) < 0)
		return flags_fail(err, errlen, FLAGS_NOT_FOUND,
		    "no flag named '%s'", name);
	if (value == NULL || flags_value_parse(value, &v) == -1)
		return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
		    "value: expected true, false or an integer from 0 to 100");
	*rec = flags_record_new("flag.set", ctx);
	json_object_set_new(*rec, "name", json_string(name));
	flags_record_change(*rec, name, fs->flag[i].value, v);
	return FLAGS_OK;
}

enum flags_err
flags_op_reset(const struct flags *fs, const char *name,
    const struct flags_ctx *ctx, json_t **rec, char *err, size_t errlen)
{
	enum flags_err	e;
	ssize_t		i;
	size_t		j;

	*rec = NULL;
	if ((e = flags_check_ctx(ctx, err, errlen)) != FLAGS_OK)
		return e;
	if (name != NULL) {
		if ((i = flags_find(fs, name)) < 0)
			return flags_fail(err, errlen, FLAGS_NOT_FOUND,
			    "no flag named '%s'", name);
		*rec = flags_record_new("flag.reset", ctx);
		json_object_set_new(*rec, "name", json_string(name));
		flags_record_change(*rec, name, fs->flag[i].value,
		    fs->flag[i].dflt);
		return FLAGS_OK;
	}
	*rec = flags_record_new("flag.reset", ctx);
	for (j = 0; j < fs->nflags; j++)
		if (fs->flag[j].value != fs->flag[j].dflt)
			flags_record_change(*rec, fs->flag[j].name,
			    fs->flag[j].value, fs->flag[j].dflt);
	return FLAGS_OK;
}

static enum flags_err
flags_not_configured(const struct flags *fs, int stage, char *err, size_t errlen)
{
	if (fs->nstages == 0)
		return flags_fail(err, errlen, FLAGS_NOT_FOUND,
		    "stage %d is not configured (there are no stages)", stage);
	return flags_fail(err, errlen, FLAGS_NOT_FOUND,
	    "stage %d is not configured (stages are 1 to %d)", stage,
	    fs->nstages);
}

enum flags_err
flags_op_stage_set(const struct flags *fs, int stage,
    const struct flags_ctx *ctx, json_t **rec, char *err, size_t errlen)
{
	enum flags_err	 e;
	json_t		*push;
	int		*vals;
	size_t		 j;
	int		 k;

	*rec = NULL;
	if ((e = flags_check_ctx(ctx, err, errlen)) != FLAGS_OK)
		return e;
	if (stage < 1 || stage > fs->nstages)
		return flags_not_configured(fs, stage, err, errlen);
	if (stage == fs->stage)
		return flags_fail(err, errlen, FLAGS_CONFLICT,
		    "already at stage %d", stage);
	if (stage < fs->stage)
		return flags_fail(err, errlen, FLAGS_CONFLICT,
		    "stage %d is below the current stage %d: use "
		    "stage.rollback", stage, fs->stage);

	/* Stages are cumulative: M+1..N in order, saving before each. */
	vals = flags_values(fs);
	push = json_array();
	for (k = fs->stage + 1; k <= stage; k++) {
		json_array_append_new(push, json_pack("{s:i, s:o}", "stage", k,
		    "values", flags_values_json(fs, vals)));
		for (j = 0; j < fs->stage_nflags[k - 1]; j++)
			vals[fs->stage_flags[k - 1][j]] = 100;
	}
	*rec = flags_record_new("stage.set", ctx);
	flags_record_stage_set(*rec, "set", fs->stage, stage);
	flags_record_diff(fs, *rec, vals);
	json_object_set_new(*rec, "push", push);
	free(vals);
	return FLAGS_OK;
}

/* Back to stage `to` < M: the values saved before stage to+1. */
static json_t *
flags_rollback_record(const struct flags *fs, int to, const char *kind,
    const struct flags_ctx *ctx)
{
	json_t	*rec = flags_record_new("stage.rollback", ctx);

	flags_record_stage_set(rec, kind, fs->stage, to);
	flags_record_diff(fs, rec, fs->saved[to]);
	json_object_set_new(rec, "drop", json_integer(fs->stage - to));
	return rec;
}

enum flags_err
flags_op_stage_rollback(const struct flags *fs, int stage,
    const struct flags_ctx *ctx, json_t **rec, char *err, size_t errlen)
{
	enum flags_err	e;

	*rec = NULL;
	if ((e = flags_check_ctx(ctx, err, errlen)) != FLAGS_OK)
		return e;
	if (stage == FLAGS_STAGE_DEFAULT) {
		if (fs->stage == 0)
			return flags_fail(err, errlen, FLAGS_CONFLICT,
			    "already at stage 0: nothing to roll back");
		stage = fs->stage - 1;
	} else if (stage < 0 || stage > fs->nstages)
		return flags_not_configured(fs, stage, err, errlen);
	else if (stage >= fs->stage)
		return flags_fail(err, errlen, FLAGS_CONFLICT,
		    "the current stage is %d: a rollback goes below it "
		    "(use stage.set to go up)", fs->stage);
	*rec = flags_rollback_record(fs, stage, "rollback", ctx);
	return FLAGS_OK;
}

enum flags_err
flags_op_guard(const struct flags *fs, const struct flags_ctx *ctx,
    json_t **rec, char *err, size_t errlen)
{
	enum flags_err	e;

	*rec = NULL;
	if ((e = flags_check_ctx(ctx, err, errlen)) != FLAGS_OK)
		return e;
	if (fs->stage == 0)
		return flags_fail(err, errlen, FLAGS_CONFLICT,
		    "already at stage 0: nothing to roll back");
	*rec = flags_rollback_record(fs, fs->stage - 1, "guard", ctx);
	return FLAGS_OK;
}

enum flags_err
flags_op_emergency(const struct flags *fs, const struct flags_ctx *ctx,
    json_t **rec, char *err, size_t errlen)
{
	enum flags_err	 e;
	size_t		 i;

	*rec = NULL;
	if ((e = flags_check_ctx(ctx, err, errlen)) != FLAGS_OK)
		return e;
	*rec = flags_record_new("stage.emergency", ctx);
	flags_record_stage_set(*rec, "emergency", fs->stage, 0);
	for (i = 0; i < fs->nflags; i++)
		if (fs->flag[i].value != fs->flag[i].dflt)
			flags_record_change(*rec, fs->flag[i].name,
			    fs->flag[i].value, fs->flag[i].dflt);
	json_object_set_new(*rec, "drop", json_integer(fs->stage));
	return FLAGS_OK;
}

/* --- the protocol's write methods ------------------------------------------------- */

bool
flags_is_write_method(const char *method)
{
	return method != NULL &&
	    flags_name_in(method, write_methods, nitems(write_methods));
}

static enum flags_err
flags_check_params(const json_t *params, const char *const *allowed,
    char *err, size_t errlen)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	if (params == NULL)
		return FLAGS_OK;
	if (!json_is_object(params))
		return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
		    "params: expected an object");
	json_object_foreach((json_t *)params, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
			    "unknown param '%s'", key);
	}
	return FLAGS_OK;
}

/* An optional string param: absent or null leaves *out NULL. */
static enum flags_err
flags_str_param(const json_t *params, const char *key, const char **out,
    char *err, size_t errlen)
{
	json_t	*v = json_object_get(params, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return FLAGS_OK;
	if (!json_is_string(v))
		return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
		    "%s: expected a string", key);
	*out = json_string_value(v);
	return FLAGS_OK;
}

/* A stage param; *present false when absent. Negative stages do not exist. */
static enum flags_err
flags_stage_param(const json_t *params, bool *present, int *out,
    char *err, size_t errlen)
{
	json_t		*v = json_object_get(params, "stage");
	json_int_t	 n;

	*present = false;
	if (v == NULL || json_is_null(v))
		return FLAGS_OK;
	if (!json_is_integer(v))
		return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
		    "stage: expected an integer");
	n = json_integer_value(v);
	if (n < 0 || n > INT_MAX)
		return flags_fail(err, errlen, FLAGS_NOT_FOUND,
		    "stage %" JSON_INTEGER_FORMAT " is not configured", n);
	*present = true;
	*out = (int)n;
	return FLAGS_OK;
}

enum flags_err
flags_op_request(const struct flags *fs, const char *method,
    const json_t *params, const struct flags_actor *by, int64_t now_ms,
    json_t **rec, char *err, size_t errlen)
{
	static const char *const set_keys[] = { "name", "value", "reason", NULL };
	static const char *const reset_keys[] = { "name", "reason", NULL };
	static const char *const stage_keys[] = { "stage", "reason", NULL };
	static const char *const emergency_keys[] = { "reason", NULL };
	struct flags_ctx ctx;
	enum flags_err	 e;
	const char	*name;
	bool		 present;
	int		 stage = 0;

	*rec = NULL;
	ctx.now_ms = now_ms;
	ctx.by = by;
	if (method == NULL || !flags_is_write_method(method))
		return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
		    "%s: not a flag or stage change", method ? method : "(null)");
	if (strcmp(method, "flag.set") == 0) {
		if ((e = flags_check_params(params, set_keys, err, errlen)) ||
		    (e = flags_str_param(params, "reason", &ctx.reason, err,
		    errlen)) ||
		    (e = flags_str_param(params, "name", &name, err, errlen)))
			return e;
		if (name == NULL)
			return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
			    "name: missing");
		if (json_object_get(params, "value") == NULL)
			return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
			    "value: missing");
		return flags_op_set(fs, name, json_object_get(params, "value"),
		    &ctx, rec, err, errlen);
	}
	if (strcmp(method, "flag.reset") == 0) {
		if ((e = flags_check_params(params, reset_keys, err, errlen)) ||
		    (e = flags_str_param(params, "reason", &ctx.reason, err,
		    errlen)) ||
		    (e = flags_str_param(params, "name", &name, err, errlen)))
			return e;
		return flags_op_reset(fs, name, &ctx, rec, err, errlen);
	}
	if (strcmp(method, "stage.emergency") == 0) {
		if ((e = flags_check_params(params, emergency_keys, err,
		    errlen)) ||
		    (e = flags_str_param(params, "reason", &ctx.reason, err,
		    errlen)))
			return e;
		return flags_op_emergency(fs, &ctx, rec, err, errlen);
	}
	if ((e = flags_check_params(params, stage_keys, err, errlen)) ||
	    (e = flags_str_param(params, "reason", &ctx.reason, err, errlen)) ||
	    (e = flags_stage_param(params, &present, &stage, err, errlen)))
		return e;
	if (strcmp(method, "stage.set") == 0) {
		if (!present)
			return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
			    "stage: missing");
		return flags_op_stage_set(fs, stage, &ctx, rec, err, errlen);
	}
	return flags_op_stage_rollback(fs, present ? stage :
	    FLAGS_STAGE_DEFAULT, &ctx, rec, err, errlen);
}

/* --- applying records ------------------------------------------------------------- */

/* A record, checked whole before anything is applied. */
struct flags_rec {
	const char		*op;
	const char		*kind;		/* stage ops */
	json_int_t		 at;
	bool			 has_by;
	struct flags_actor	 by;
	const char		*reason;
	const json_t		*changes;
	bool			 has_stage;
	json_int_t		 from, to;
	const json_t		*push;		/* NULL: none */
	bool			 has_seq;
	json_int_t		 seq;
};

static bool
flags_is_int(const json_t *o, const char *key, json_int_t *out)
{
	json_t	*v = json_object_get(o, key);

	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

static int
flags_parse_actor(const json_t *v, bool *has, struct flags_actor *by)
{
	json_int_t	uid, pid;

	*has = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v) || !flags_is_int(v, "uid", &uid) ||
	    !flags_is_int(v, "pid", &pid))
		return -1;
	*has = true;
	by->uid = (uid_t)uid;
	by->pid = (pid_t)pid;
	return 0;
}

static int
flags_parse_opt_str(const json_t *v, const char **out)
{
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = json_string_value(v);
	return 0;
}

/* An object whose members are all integers. */
static bool
flags_is_values(const json_t *o)
{
	const char	*key;
	json_t		*v;

	if (!json_is_object(o))
		return false;
	json_object_foreach((json_t *)o, key, v)
		if (!json_is_integer(v))
			return false;
	return true;
}

static int
flags_parse_record(const json_t *rec, struct flags_rec *r)
{
	static const char *const ops[] = { "flag.set", "flag.reset",
		"stage.set", "stage.rollback", "stage.emergency" };
	json_int_t	 ver, n;
	json_t		*v, *c;
	size_t		 i;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(rec) || !flags_is_int(rec, "v", &ver) ||
	    ver != FLAGS_RECORD_VERSION)
		return -1;
	if ((r->op = json_string_value(json_object_get(rec, "op"))) == NULL ||
	    !flags_name_in(r->op, ops, nitems(ops)))
		return -1;
	if (!flags_is_int(rec, "at", &r->at))
		return -1;
	if (flags_parse_actor(json_object_get(rec, "by"), &r->has_by,
	    &r->by) == -1)
		return -1;
	if (flags_parse_opt_str(json_object_get(rec, "reason"),
	    &r->reason) == -1)
		return -1;
	if ((v = json_object_get(rec, "seq")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return -1;
		r->has_seq = true;
		r->seq = json_integer_value(v);
	}
	r->changes = json_object_get(rec, "changes");
	if (!json_is_array(r->changes))
		return -1;
	json_array_foreach(r->changes, i, c)
		if (!json_is_object(c) ||
		    !json_is_string(json_object_get(c, "name")) ||
		    !flags_is_int(c, "new", &n))
			return -1;
	if (strncmp(r->op, "stage.", 6) != 0)
		return 0;

	if ((r->kind = json_string_value(json_object_get(rec, "kind"))) ==
	    NULL || !flags_name_in(r->kind, kind_names, nitems(kind_names)))
		return -1;
	v = json_object_get(rec, "stage");
	if (!json_is_object(v) || !flags_is_int(v, "from", &r->from) ||
	    !flags_is_int(v, "to", &r->to))
		return -1;
	r->has_stage = true;
	if ((r->push = json_object_get(rec, "push")) != NULL) {
		if (!json_is_array(r->push))
			return -1;
		json_array_foreach(r->push, i, c)
			if (!json_is_object(c) ||
			    !flags_is_values(json_object_get(c, "values")))
				return -1;
	}
	return 0;
}

/* A saved set from {name: value}: names missing take the value in force. */
static int *
flags_values_from(const struct flags *fs, const json_t *o)
{
	int	*v = flags_values(fs);
	json_t	*x;
	size_t	 i;

	for (i = 0; i < fs->nflags; i++)
		if ((x = json_object_get(o, fs->flag[i].name)) != NULL &&
		    json_is_integer(x))
			v[i] = flags_clamp(json_integer_value(x));
	return v;
}

/* Make the saved stack exactly `stage` deep, padding with `pad`. */
static void
flags_set_depth(struct flags *fs, int depth, int stage, const int *pad)
{
	int	k;

	for (k = stage; k < depth; k++) {
		free(fs->saved[k]);
		fs->saved[k] = NULL;
	}
	for (k = depth; k < stage; k++) {
		fs->saved[k] = xcalloc(fs->nflags, sizeof(int));
		if (fs->nflags > 0)
			memcpy(fs->saved[k], pad, fs->nflags * sizeof(int));
	}
	fs->stage = stage;
}

static void
flags_history_add(struct flags *fs, const struct flags_rec *r)
{
	json_array_append_new(fs->history, json_pack("{s:I, s:I, s:I, s:o, s:o, s:s}",
	    "from", r->from, "to", r->to, "at", r->at,
	    "by", r->has_by ? flags_actor_json(&r->by) : json_null(),
	    "reason", flags_str_or_null(r->reason), "kind", r->kind));
	while (json_array_size(fs->history) > FLAGS_HISTORY_MAX)
		json_array_remove(fs->history, 0);
}

int
flags_apply(struct flags *fs, const json_t *rec)
{
	struct flags_rec	 r;
	struct flag_state	*f;
	json_t			*c;
	int			*before;
	size_t			 i;
	ssize_t			 idx;
	int			 depth;

	if (flags_parse_record(rec, &r) == -1)
		return -1;
	before = flags_values(fs);
	depth = fs->stage;

	/* The saved sets first: they hold the values before this change. */
	if (r.push != NULL)
		json_array_foreach(r.push, i, c) {
			if (depth >= fs->nstages)
				break;
			fs->saved[depth++] = flags_values_from(fs,
			    json_object_get(c, "values"));
		}
	json_array_foreach(r.changes, i, c) {
		if ((idx = flags_find(fs,
		    json_string_value(json_object_get(c, "name")))) < 0)
			continue;
		f = &fs->flag[idx];
		f->value = flags_clamp(json_integer_value(json_object_get(c,
		    "new")));
		f->changed_at = (int64_t)r.at;
		f->has_by = r.has_by;
		f->by = r.by;
		free(f->reason);
		f->reason = r.reason != NULL ? xstrdup(r.reason) : NULL;
	}
	if (r.has_stage) {
		flags_set_depth(fs, depth, flags_clamp_stage(fs, r.to), before);
		flags_history_add(fs, &r);
	} else
		flags_set_depth(fs, depth, depth, before);
	if (r.has_seq)
		fs->seq = (uint64_t)r.seq;
	free(before);
	return 0;
}

int
flags_replay(struct flags *fs, const json_t *records, size_t *bad)
{
	json_t	*rec;
	size_t	 i;

	json_array_foreach(records, i, rec)
		if (flags_apply(fs, rec) == -1) {
			*bad = i;
			return -1;
		}
	return 0;
}

bool
flags_record_stage(const json_t *rec, int *from, int *to)
{
	json_t	*st = json_object_get(rec, "stage");
	json_t	*f = json_object_get(st, "from"), *t = json_object_get(st, "to");

	if (!json_is_integer(f) || !json_is_integer(t))
		return false;
	*from = (int)json_integer_value(f);
	*to = (int)json_integer_value(t);
	return true;
}

json_t *
flags_result_json(const struct flags *fs, const json_t *rec)
{
	const char	*op = json_string_value(json_object_get(rec, "op"));
	const char	*name = json_string_value(json_object_get(rec, "name"));
	ssize_t		 i;

	if (op == NULL)
		return json_null();
	if (strcmp(op, "flag.set") == 0) {
		if ((i = flags_find(fs, name)) < 0)
			return json_null();
		return flags_flag_json(fs, (size_t)i);
	}
	if (strcmp(op, "flag.reset") == 0) {
		if (name == NULL)
			return json_pack("{s:o}", "flags", flags_all_json(fs));
		if ((i = flags_find(fs, name)) < 0)
			return json_pack("{s:[]}", "flags");
		return json_pack("{s:[o]}", "flags",
		    flags_flag_json(fs, (size_t)i));
	}
	return json_pack("{s:i, s:o}", "stage", fs->stage,
	    "flags", flags_all_json(fs));
}

json_t *
flags_events_json(const struct flags *fs, const json_t *rec)
{
	json_t		*evs = json_array(), *c, *by, *reason;
	const char	*kind;
	json_int_t	 old, new;
	ssize_t		 idx;
	size_t		 i;
	int		 from, to;

	by = json_object_get(rec, "by");
	reason = json_object_get(rec, "reason");
	json_array_foreach(json_object_get(rec, "changes"), i, c) {
		idx = flags_find(fs, json_string_value(json_object_get(c,
		    "name")));
		if (idx < 0 || !flags_is_int(c, "old", &old) ||
		    !flags_is_int(c, "new", &new) || old == new)
			continue;
		json_array_append_new(evs, json_pack("{s:s, s:{s:s, s:o, s:o, "
		    "s:O, s:O}}", "type", "flag.changed", "fields",
		    "name", fs->flag[idx].name,
		    "old", flags_value_json(fs, (size_t)idx, flags_clamp(old)),
		    "new", flags_value_json(fs, (size_t)idx, flags_clamp(new)),
		    "by", by != NULL ? by : json_null(),
		    "reason", reason != NULL ? reason : json_null()));
	}
	if (!flags_record_stage(rec, &from, &to))
		return evs;
	if ((kind = json_string_value(json_object_get(rec, "kind"))) == NULL)
		kind = "set";
	json_array_append_new(evs, json_pack("{s:s, s:{s:i, s:i, s:s, s:O, "
	    "s:O}}", "type", "stage.changed", "fields", "from", from, "to", to,
	    "kind", kind, "by", by != NULL ? by : json_null(),
	    "reason", reason != NULL ? reason : json_null()));
	if (strcmp(kind, "guard") == 0)
		json_array_append_new(evs, json_pack("{s:s, s:{s:i, s:i, s:O}}",
		    "type", "guard.rollback", "fields", "from", from, "to", to,
		    "reason", reason != NULL ? reason : json_null()));
	return evs;
}

/* --- snapshots -------------------------------------------------------------------- */

json_t *
flags_snapshot_json(const struct flags *fs)
{
	const struct flag_state	*f;
	json_t			*flags = json_object(), *saved = json_array();
	size_t			 i;
	int			 k;

	for (i = 0; i < fs->nflags; i++) {
		f = &fs->flag[i];
		json_object_set_new(flags, f->name, json_pack("{s:i, s:I, s:o, "
		    "s:o}", "value", f->value, "changed_at",
		    (json_int_t)f->changed_at,
		    "by", f->has_by ? flags_actor_json(&f->by) : json_null(),
		    "reason", flags_str_or_null(f->reason)));
	}
	for (k = 0; k < fs->stage; k++)
		json_array_append_new(saved, flags_values_json(fs, fs->saved[k]));
	return json_pack("{s:i, s:I, s:o, s:o, s:O}", "stage", fs->stage,
	    "seq", (json_int_t)fs->seq, "flags", flags, "saved", saved,
	    "history", fs->history);
}

static int
flags_check_snapshot(const json_t *snap, char *err, size_t errlen)
{
	const char	*key, *s;
	json_t		*v, *flags, *saved, *hist;
	json_int_t	 stage, n;
	size_t		 i;
	bool		 has;
	struct flags_actor by;

#define BAD(...)	do { flags_fail(err, errlen, FLAGS_INVALID_PARAMS, \
			    __VA_ARGS__); return -1; } while (0)
	if (!json_is_object(snap))
		BAD("state: expected an object");
	if (!flags_is_int(snap, "stage", &stage) || stage < 0)
		BAD("stage: expected an integer >= 0");
	if ((v = json_object_get(snap, "seq")) != NULL &&
	    (!json_is_integer(v) || json_integer_value(v) < 0))
		BAD("seq: expected an integer >= 0");
	if (!json_is_object(flags = json_object_get(snap, "flags")))
		BAD("flags: expected an object");
	json_object_foreach(flags, key, v) {
		if (!json_is_object(v) || !flags_is_int(v, "value", &n) ||
		    n < 0 || n > 100)
			BAD("flags.%s.value: expected an integer from 0 to 100",
			    key);
		if (!flags_is_int(v, "changed_at", &n))
			BAD("flags.%s.changed_at: expected an integer", key);
		if (flags_parse_actor(json_object_get(v, "by"), &has, &by) == -1)
			BAD("flags.%s.by: expected {uid, pid} or null", key);
		if (flags_parse_opt_str(json_object_get(v, "reason"), &s) == -1)
			BAD("flags.%s.reason: expected a string or null", key);
	}
	if (!json_is_array(saved = json_object_get(snap, "saved")) ||
	    json_array_size(saved) != (size_t)stage)
		BAD("saved: expected one set of values per stage applied "
		    "(%" JSON_INTEGER_FORMAT ")", stage);
	json_array_foreach(saved, i, v) {
		if (!flags_is_values(v))
			BAD("saved[%zu]: expected an object of integers", i);
	}
	if ((hist = json_object_get(snap, "history")) != NULL) {
		if (!json_is_array(hist))
			BAD("history: expected an array");
		json_array_foreach(hist, i, v)
			if (!json_is_object(v) || !flags_is_int(v, "from", &n) ||
			    !flags_is_int(v, "to", &n) ||
			    !flags_is_int(v, "at", &n) ||
			    !json_is_string(json_object_get(v, "kind")))
				BAD("history[%zu]: expected {from, to, at, by, "
				    "reason, kind}", i);
	}
#undef BAD
	return 0;
}

int
flags_restore(struct flags *fs, const json_t *snap, char *err, size_t errlen)
{
	struct flag_state	*f;
	json_t			*flags, *saved, *hist, *v, *x;
	const char		*reason;
	int			*before;
	size_t			 i;
	int			 stage, k;

	if (flags_check_snapshot(snap, err, errlen) == -1)
		return -1;
	flags = json_object_get(snap, "flags");
	saved = json_object_get(snap, "saved");
	hist = json_object_get(snap, "history");
	for (i = 0; i < fs->nflags; i++) {
		f = &fs->flag[i];
		if ((v = json_object_get(flags, f->name)) == NULL)
			continue;
		f->value = flags_clamp(json_integer_value(json_object_get(v,
		    "value")));
		f->changed_at = (int64_t)json_integer_value(json_object_get(v,
		    "changed_at"));
		flags_parse_actor(json_object_get(v, "by"), &f->has_by, &f->by);
		flags_parse_opt_str(json_object_get(v, "reason"), &reason);
		free(f->reason);
		f->reason = reason != NULL ? xstrdup(reason) : NULL;
	}

	/* Stages beyond those configured now are gone, with their saved sets. */
	stage = flags_clamp_stage(fs, json_integer_value(json_object_get(snap,
	    "stage")));
	before = flags_values(fs);
	flags_set_depth(fs, fs->stage, 0, before);
	for (k = 0; k < stage; k++)
		fs->saved[k] = flags_values_from(fs, json_array_get(saved,
		    (size_t)k));
	fs->stage = stage;
	free(before);

	json_array_clear(fs->history);
	if (hist != NULL) {
		i = json_array_size(hist) > FLAGS_HISTORY_MAX ?
		    json_array_size(hist) - FLAGS_HISTORY_MAX : 0;
		for (; i < json_array_size(hist); i++)
			json_array_append_new(fs->history,
			    json_deep_copy(json_array_get(hist, i)));
	}
	if ((x = json_object_get(snap, "seq")) != NULL)
		fs->seq = (uint64_t)json_integer_value(x);
	return 0;
}

/* --- the guard -------------------------------------------------------------------- */

static bool
flags_guard_in_window(const struct guard_conf *g, uint64_t raised_ms,
    uint64_t stamp)
{
	return stamp >= raised_ms &&
	    stamp - raised_ms < (uint64_t)g->window_s * 1000u;
}

size_t
flags_guard_count(const struct guard_conf *g, uint64_t raised_ms,
    const uint64_t *stamps, size_t n)
{
	size_t	i, count = 0;

	for (i = 0; i < n; i++)
		if (flags_guard_in_window(g, raised_ms, stamps[i]))
			count++;
	return count;
}

bool
flags_guard_exceeded(const struct guard_conf *g, uint64_t raised_ms,
    const uint64_t *stamps, size_t n, size_t *count)
{
	size_t	c = flags_guard_count(g, raised_ms, stamps, n);

	if (count != NULL)
		*count = c;
	return g->enabled && c > (size_t)g->max_restarts;
}

void
flags_guard_arm(struct flags_guard *gs, int stage, uint64_t now_ms)
{
	gs->armed = true;
	gs->stage = stage;
	gs->raised_ms = now_ms;
	gs->count = 0;
}

void
flags_guard_disarm(struct flags_guard *gs)
{
	gs->armed = false;
}

bool
flags_guard_note(struct flags_guard *gs, const struct guard_conf *g,
    uint64_t now_ms)
{
	if (!gs->armed || !g->enabled)
		return false;
	if (!flags_guard_in_window(g, gs->raised_ms, now_ms)) {
		/* Past the window nothing can count any more. */
		if (now_ms >= gs->raised_ms)
			gs->armed = false;
		return false;
	}
	if (++gs->count <= (size_t)g->max_restarts)
		return false;
	gs->armed = false;
	return true;
}

char *
flags_guard_reason(const struct flags_guard *gs, const struct guard_conf *g)
{
	char	*s;

	xasprintf(&s, "guard: %zu restarts within %d s after stage %d "
	    "(limit %d)", gs->count, g->window_s, gs->stage, g->max_restarts);
	return s;
}
