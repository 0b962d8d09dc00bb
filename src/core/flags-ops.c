/*
 * flags-ops.c: the operations that describe a change of flags or stage
 * (see flags.h), the params the protocol gives them, and the guard.
 *
 * An operation only reads the state: it returns the record of the change,
 * which flags_apply() (flags-record.c) alone applies.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "flags-private.h"
#include "util.h"

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

/* What every change does first: no record yet, and a reason that fits. */
static enum flags_err
flags_op_begin(const struct flags_ctx *ctx, json_t **rec, char *err,
    size_t errlen)
{
	json_t	*s;

	*rec = NULL;
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

enum flags_err
flags_op_set(const struct flags *fs, const char *name, const json_t *value,
    const struct flags_ctx *ctx, json_t **rec, char *err, size_t errlen)
{
	enum flags_err	e;
	ssize_t		i;
	int		v;

	if ((e = flags_op_begin(ctx, rec, err, errlen)) != FLAGS_OK)
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

	if ((e = flags_op_begin(ctx, rec, err, errlen)) != FLAGS_OK)
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

	if ((e = flags_op_begin(ctx, rec, err, errlen)) != FLAGS_OK)
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

	if ((e = flags_op_begin(ctx, rec, err, errlen)) != FLAGS_OK)
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

	if ((e = flags_op_begin(ctx, rec, err, errlen)) != FLAGS_OK)
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

	if ((e = flags_op_begin(ctx, rec, err, errlen)) != FLAGS_OK)
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

/* --- the changes the protocol asks for ------------------------------------------ */

/* Each op: its name (the records' "op") and the params it takes. */
static const struct {
	const char		*name;
	const char *const	*keys;
} flags_ops[] = {
	[FLAGS_OP_SET] = { "flag.set",
	    (const char *const []){ "name", "value", "reason", NULL } },
	[FLAGS_OP_RESET] = { "flag.reset",
	    (const char *const []){ "name", "reason", NULL } },
	[FLAGS_OP_STAGE_SET] = { "stage.set",
	    (const char *const []){ "stage", "reason", NULL } },
	[FLAGS_OP_STAGE_ROLLBACK] = { "stage.rollback",
	    (const char *const []){ "stage", "reason", NULL } },
	[FLAGS_OP_STAGE_EMERGENCY] = { "stage.emergency",
	    (const char *const []){ "reason", NULL } },
};

const char *
flags_op_name(enum flags_op op)
{
	return flags_ops[op].name;
}

int
flags_op_parse(const char *s, enum flags_op *op)
{
	size_t	i;

	for (i = 0; s != NULL && i < nitems(flags_ops); i++)
		if (strcmp(s, flags_ops[i].name) == 0) {
			*op = (enum flags_op)i;
			return 0;
		}
	return -1;
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

/* The params only some ops take: a flag's name and value, a stage. */
static enum flags_err
flags_change_args(enum flags_op op, const json_t *params,
    struct flags_change *ch, char *err, size_t errlen)
{
	enum flags_err	e;
	bool		present;

	switch (op) {
	case FLAGS_OP_SET:
	case FLAGS_OP_RESET:
		if ((e = flags_str_param(params, "name", &ch->name, err,
		    errlen)) != FLAGS_OK || op == FLAGS_OP_RESET)
			return e;
		if (ch->name == NULL)
			return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
			    "name: missing");
		if ((ch->value = json_object_get(params, "value")) == NULL)
			return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
			    "value: missing");
		return FLAGS_OK;
	case FLAGS_OP_STAGE_SET:
	case FLAGS_OP_STAGE_ROLLBACK:
		if ((e = flags_stage_param(params, &present, &ch->stage, err,
		    errlen)) != FLAGS_OK)
			return e;
		if (!present && op == FLAGS_OP_STAGE_SET)
			return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
			    "stage: missing");
		if (!present)
			ch->stage = FLAGS_STAGE_DEFAULT;
		return FLAGS_OK;
	case FLAGS_OP_STAGE_EMERGENCY:
		break;
	}
	return FLAGS_OK;
}

enum flags_err
flags_change_read(enum flags_op op, const json_t *params,
    struct flags_change *ch, char *err, size_t errlen)
{
	enum flags_err	e;

	memset(ch, 0, sizeof(*ch));
	ch->op = op;
	if ((e = flags_check_params(params, flags_ops[op].keys, err,
	    errlen)) != FLAGS_OK ||
	    (e = flags_str_param(params, "reason", &ch->reason, err,
	    errlen)) != FLAGS_OK)
		return e;
	return flags_change_args(op, params, ch, err, errlen);
}

enum flags_err
flags_op_change(const struct flags *fs, const struct flags_change *ch,
    const struct flags_actor *by, int64_t now_ms, json_t **rec, char *err,
    size_t errlen)
{
	struct flags_ctx	ctx = { now_ms, by, ch->reason };

	switch (ch->op) {
	case FLAGS_OP_SET:
		return flags_op_set(fs, ch->name, ch->value, &ctx, rec, err,
		    errlen);
	case FLAGS_OP_RESET:
		return flags_op_reset(fs, ch->name, &ctx, rec, err, errlen);
	case FLAGS_OP_STAGE_SET:
		return flags_op_stage_set(fs, ch->stage, &ctx, rec, err, errlen);
	case FLAGS_OP_STAGE_ROLLBACK:
		return flags_op_stage_rollback(fs, ch->stage, &ctx, rec, err,
		    errlen);
	case FLAGS_OP_STAGE_EMERGENCY:
		return flags_op_emergency(fs, &ctx, rec, err, errlen);
	}
	*rec = NULL;
	return flags_fail(err, errlen, FLAGS_INVALID_PARAMS,
	    "not a flag or stage change");
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
