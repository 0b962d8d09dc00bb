/*
 * fleet-plan.c: what a host does with the fleet's keys (fleet.h).
 *
 * One change, from a watch, becomes the local op it matches, checked
 * against the state as the op itself checks it (flags_op_change()), so
 * that a change is either taken whole or rejected with a reason naming
 * its key; nothing here changes the state.
 *
 * A resync (at start, after a compaction) does not replay history: the
 * keys at a revision say what the fleet's state is, namely what applying
 * them in mod_revision order to every flag at its default and stage 0
 * makes (the target). The plan is then the fewest steps from the host's
 * state to the target: the stage first, then each flag still different,
 * each step stamped with the writer of the key that decided it. A host
 * already there gets no step, so a restart journals nothing. A key the
 * host rejects holds what it decides, as it does from a watch: a stage
 * this host lacks leaves its stage where it is (the target starts there),
 * a flag's bad value leaves that flag as it is.
 *
 * Where history matters the keys alone could differ from a watch: a flag
 * that stage 2 enables, turned off by its key at stage 2, then stage 3,
 * then a rollback to 2 leaves a watching host with the flag off (the
 * rollback restores what was saved before 3), while the keys alone replay
 * that key before the stage key, whose stage.set from 0 turns the flag on
 * again. So a stage key carries "values", every flag's value on its
 * writer after the change: after the stage op, a host sets each flag that
 * differs from them (fleet_plan_change()), from a watch and in a resync
 * alike, and both end with the writer's values.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "util.h"

static enum fleet_verdict
fleet_reject(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum fleet_verdict
fleet_reject(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return FLEET_REJECT;
}

void
fleet_step_clear(struct fleet_step *st)
{
	json_decref(st->params);
	fleet_audit_clear(&st->by);
	free(st->key);
	memset(st, 0, sizeof(*st));
}

/*
 * A step of op with params (stolen), by the writer a (NULL: warden itself,
 * at now_ms), from key at revision.
 */
static enum fleet_verdict
fleet_step_make(struct fleet_step *st, enum flags_op op, json_t *params,
    const struct fleet_audit *a, int64_t now_ms, const char *key,
    int64_t revision)
{
	memset(st, 0, sizeof(*st));
	st->op = op;
	st->params = params;
	st->at = now_ms;
	if (a != NULL) {
		st->has_by = true;
		st->by = *a;
		st->by.reason = a->reason != NULL ? xstrdup(a->reason) : NULL;
		st->at = a->at;
		if (a->reason != NULL)
			json_object_set_new(params, "reason",
			    json_string(a->reason));
	}
	st->key = xstrdup(key);
	st->revision = revision;
	return FLEET_APPLY;
}

enum flags_err
fleet_step_record(const struct flags *fs, const struct fleet_step *st,
    json_t **rec, char *err, size_t errlen)
{
	struct flags_actor	actor = { st->by.uid, st->by.pid, "" };
	struct flags_change	ch;
	enum flags_err		e;

	snprintf(actor.host, sizeof(actor.host), "%s", st->by.host);
	*rec = NULL;
	if ((e = flags_change_read(st->op, st->params, &ch, err, errlen)) !=
	    FLAGS_OK)
		return e;
	return flags_op_change(fs, &ch, st->has_by ? &actor : NULL, st->at,
	    rec, err, errlen);
}

/* "stages 1 to 4" or "no stages", for a rejection. */
static const char *
fleet_stages_text(const struct flags *fs, char *buf, size_t len)
{
	if (fs->nstages == 0)
		snprintf(buf, len, "no stages");
	else
		snprintf(buf, len, "stages 1 to %d", fs->nstages);
	return buf;
}

/* The stage key's change: set, rollback, emergency, or nothing. */
static enum fleet_verdict
fleet_plan_stage(const struct flags *fs, const char *key,
    const struct fleet_kv *kv, int64_t now_ms, struct fleet_step *st,
    char *why, size_t whylen)
{
	struct fleet_stage	 s;
	enum fleet_verdict	 v = FLEET_NOTHING;
	char			 err[FLEET_ERR_MAX], have[64];

	if (kv->deleted)	/* no stage key: the fleet's start, stage 0 */
		return fs->stage == 0 ? FLEET_NOTHING : fleet_step_make(st,
		    FLAGS_OP_STAGE_ROLLBACK, json_pack("{s:i}", "stage", 0),
		    NULL, now_ms, key, kv->mod_revision);
	if (fleet_stage_decode(key, kv->value, kv->valuelen, &s, err,
	    sizeof(err)) == -1)
		return fleet_reject(why, whylen, "%s", err);
	if (s.emergency)
		v = fleet_step_make(st, FLAGS_OP_STAGE_EMERGENCY,
		    json_object(), &s.by, now_ms, key, kv->mod_revision);
	else if (s.stage > fs->nstages)
		v = fleet_reject(why, whylen, "%s: stage %d is not in this "
		    "host's configuration (it has %s)", key, s.stage,
		    fleet_stages_text(fs, have, sizeof(have)));
	else if (s.stage != fs->stage)
		v = fleet_step_make(st, s.stage > fs->stage ?
		    FLAGS_OP_STAGE_SET : FLAGS_OP_STAGE_ROLLBACK,
		    json_pack("{s:i}", "stage", s.stage), &s.by, now_ms, key,
		    kv->mod_revision);
	fleet_stage_clear(&s);
	return v;
}

/* A flag's key: its value set; its reset record, or its deletion, a reset. */
static enum fleet_verdict
fleet_plan_flag(const struct flags *fs, const char *name, const char *key,
    const struct fleet_kv *kv, int64_t now_ms, struct fleet_step *st,
    char *why, size_t whylen)
{
	struct fleet_flag	 f;
	enum fleet_verdict	 v;
	char			 err[FLEET_ERR_MAX];

	if (flags_find(fs, name) < 0)
		return kv->deleted ? FLEET_NOTHING : fleet_reject(why, whylen,
		    "%s: flag %s is not in this host's configuration", key,
		    name);
	if (kv->deleted)
		return fleet_step_make(st, FLAGS_OP_RESET, json_pack("{s:s}",
		    "name", name), NULL, now_ms, key, kv->mod_revision);
	if (fleet_flag_decode(key, kv->value, kv->valuelen, &f, err,
	    sizeof(err)) == -1)
		return fleet_reject(why, whylen, "%s", err);
	if (f.reset)
		v = fleet_step_make(st, FLAGS_OP_RESET, json_pack("{s:s}",
		    "name", name), &f.by, now_ms, key, kv->mod_revision);
	else
		v = fleet_step_make(st, FLAGS_OP_SET, json_pack("{s:s, s:o}",
		    "name", name, "value", f.is_bool ?
		    json_boolean(f.value == 100) : json_integer(f.value)),
		    &f.by, now_ms, key, kv->mod_revision);
	fleet_audit_clear(&f.by);
	return v;
}

enum fleet_verdict
fleet_plan_event(const struct flags *fs, const char *prefix,
    const struct fleet_kv *kv, int64_t now_ms, struct fleet_step *st,
    char *why, size_t whylen)
{
	char			 name[FLEET_NAME_BUF], err[FLEET_ERR_MAX];
	char			*key = fleet_key_text(kv->key, kv->keylen);
	enum fleet_verdict	 v = FLEET_NOTHING;
	json_t			*rec;

	memset(st, 0, sizeof(*st));
	switch (fleet_key_parse(prefix, kv->key, kv->keylen, name)) {
	case FLEET_KEY_UNKNOWN:
		v = fleet_reject(why, whylen, "%s: not a key of the fleet "
		    "(expected %sdesired/stage, %sdesired/flags/NAME or "
		    "%shosts/NAME)", key,
		    prefix, prefix, prefix);
		break;
	case FLEET_KEY_HOST:
		break;
	case FLEET_KEY_STAGE:
		v = fleet_plan_stage(fs, key, kv, now_ms, st, why, whylen);
		break;
	case FLEET_KEY_FLAG:
		v = fleet_plan_flag(fs, name, key, kv, now_ms, st, why, whylen);
		break;
	}
	/* Taken whole or not at all: the op's own checks decide. */
	if (v == FLEET_APPLY && fleet_step_record(fs, st, &rec, err,
	    sizeof(err)) != FLAGS_OK) {
		fleet_step_clear(st);
		v = fleet_reject(why, whylen, "%s: %s", key, err);
	}
	if (v == FLEET_APPLY)
		json_decref(rec);
	free(key);
	return v;
}

/* --- a whole resync ------------------------------------------------------------------ */

/* The target: the keys applied in order to a fresh state. */
struct fleet_target {
	struct flags		 *t;
	const struct fleet_kv	 *stage_kv;	/* the stage key; NULL: none */
	const struct fleet_kv	**author;	/* [flag]: the key that last set it */
	bool			 *held;		/* [flag]: its key was rejected */
};

static int
fleet_kv_cmp(const void *a, const void *b)
{
	const struct fleet_kv	*x = *(const struct fleet_kv *const *)a;
	const struct fleet_kv	*y = *(const struct fleet_kv *const *)b;
	size_t			 n = x->keylen < y->keylen ? x->keylen :
				    y->keylen;
	int			 c;

	if (x->mod_revision != y->mod_revision)
		return x->mod_revision < y->mod_revision ? -1 : 1;
	/* One transaction writes several keys at one revision: by key. */
	if ((c = memcmp(x->key, y->key, n)) != 0)
		return c;
	return x->keylen < y->keylen ? -1 : x->keylen > y->keylen;
}

static void
fleet_plan_reject(struct fleet_plan *p, const struct fleet_kv *kv,
    const char *why)
{
	struct fleet_reject	*r;

	p->reject = xreallocarray(p->reject, p->nrejects + 1,
	    sizeof(*p->reject));
	r = &p->reject[p->nrejects++];
	r->key = fleet_key_text(kv->key, kv->keylen);
	r->revision = kv->mod_revision;
	r->why = xstrdup(why);
}

/* Move one's rejections to the end of p's. */
static void
fleet_plan_take_rejects(struct fleet_plan *p, struct fleet_plan *one)
{
	size_t	i;

	if (one->nrejects == 0)
		return;
	p->reject = xreallocarray(p->reject, p->nrejects + one->nrejects,
	    sizeof(*p->reject));
	for (i = 0; i < one->nrejects; i++)
		p->reject[p->nrejects++] = one->reject[i];
	free(one->reject);
	one->reject = NULL;
	one->nrejects = 0;
}

/* Drop p's rejections from the first'th on. */
static void
fleet_plan_unreject(struct fleet_plan *p, size_t first)
{
	while (p->nrejects > first) {
		p->nrejects--;
		free(p->reject[p->nrejects].key);
		free(p->reject[p->nrejects].why);
	}
}

/* Add st (taken) to p's steps. */
static void
fleet_plan_push(struct fleet_plan *p, struct fleet_step *st)
{
	p->step = xreallocarray(p->step, p->nsteps + 1, sizeof(*p->step));
	p->step[p->nsteps++] = *st;
	memset(st, 0, sizeof(*st));
}

/* Drop p's steps from the first'th on. */
static void
fleet_plan_cut(struct fleet_plan *p, size_t first)
{
	while (p->nsteps > first)
		fleet_step_clear(&p->step[--p->nsteps]);
}

/* Apply st to s: 0, or -1 with err when its op refuses. */
static int
fleet_step_take(struct flags *s, const struct fleet_step *st, char *err,
    size_t errlen)
{
	json_t	*rec;

	if (fleet_step_record(s, st, &rec, err, errlen) != FLAGS_OK)
		return -1;
	flags_apply(s, rec);
	json_decref(rec);
	return 0;
}

/*
 * The flags a stage key's "values" set on s (its stage op made), by the
 * key's writer: a step for each of this host's flags that differs, in the
 * configuration's order; a flag this host lacks rejected alone. 0, or -1
 * with why when one of them cannot be set (then the key is rejected).
 */
static int
fleet_plan_values(struct fleet_plan *p, struct flags *s,
    const struct fleet_kv *kv, int64_t now_ms, char *why, size_t whylen)
{
	struct fleet_stage	 sv;
	struct fleet_step	 st;
	char			*key = fleet_key_text(kv->key, kv->keylen);
	char			 err[FLEET_ERR_MAX], *msg;
	const char		*name;
	json_t			*v;
	size_t			 i;
	int			 n, rv = 0;

	if (fleet_stage_decode(key, kv->value, kv->valuelen, &sv, why,
	    whylen) == -1) {
		free(key);
		return 0;	/* fleet_plan_event() judged it */
	}
	if (sv.values == NULL) {
		fleet_stage_clear(&sv);
		free(key);
		return 0;
	}
	for (i = 0; i < s->nflags && rv == 0; i++) {
		v = json_object_get(sv.values, s->flag[i].name);
		if (v == NULL || flags_value_parse(v, &n) == -1 ||
		    n == s->flag[i].value)
			continue;
		fleet_step_make(&st, FLAGS_OP_SET, json_pack("{s:s, s:O}",
		    "name", s->flag[i].name, "value", v), &sv.by, now_ms, key,
		    kv->mod_revision);
		if (fleet_step_take(s, &st, err, sizeof(err)) == -1) {
			fleet_reject(why, whylen, "%s: values.%s: %s", key,
			    s->flag[i].name, err);
			fleet_step_clear(&st);
			rv = -1;
		} else
			fleet_plan_push(p, &st);
	}
	json_object_foreach(sv.values, name, v)
		if (rv == 0 && flags_find(s, name) < 0) {
			xasprintf(&msg, "%s: values.%s: flag %s is not in this "
			    "host's configuration (ignored)", key, name, name);
			fleet_plan_reject(p, kv, msg);
			free(msg);
		}
	fleet_stage_clear(&sv);
	free(key);
	return rv;
}

enum fleet_verdict
fleet_plan_change(const struct flags *fs, const char *prefix,
    const struct fleet_kv *kv, int64_t now_ms, struct fleet_plan *p)
{
	struct fleet_step	 st;
	struct flags		*s;
	char			 why[FLEET_ERR_MAX], name[FLEET_NAME_BUF];
	enum fleet_verdict	 v;
	size_t			 first = p->nsteps, firstrej = p->nrejects;

	v = fleet_plan_event(fs, prefix, kv, now_ms, &st, why, sizeof(why));
	if (v == FLEET_REJECT) {
		fleet_plan_reject(p, kv, why);
		return v;
	}
	s = flags_copy(fs);
	if (v == FLEET_APPLY) {
		fleet_step_take(s, &st, NULL, 0);	/* checked by the plan */
		fleet_plan_push(p, &st);
	}
	if (!kv->deleted && fleet_key_parse(prefix, kv->key, kv->keylen,
	    name) == FLEET_KEY_STAGE) {
		if (fleet_plan_values(p, s, kv, now_ms, why, sizeof(why)) ==
		    -1) {
			fleet_plan_cut(p, first);
			fleet_plan_unreject(p, firstrej);
			fleet_plan_reject(p, kv, why);
			v = FLEET_REJECT;
		} else if (p->nsteps > first)
			v = FLEET_APPLY;
	}
	flags_free(s);
	return v;
}

/* Apply st's record to fs; the kvs it set are noted as their authors. */
static void
fleet_target_apply(struct fleet_target *tg, const struct fleet_step *st,
    const struct fleet_kv *kv)
{
	json_t	*rec, *c;
	size_t	 i;
	ssize_t	 f;

	if (fleet_step_record(tg->t, st, &rec, NULL, 0) != FLAGS_OK)
		return;		/* fleet_plan_event() checked it */
	json_array_foreach(json_object_get(rec, "changes"), i, c)
		if ((f = flags_find(tg->t, json_string_value(json_object_get(c,
		    "name")))) >= 0)
			tg->author[f] = kv;
	flags_apply(tg->t, rec);
	json_decref(rec);
}

/*
 * Every flag at its default, at stage 0, or at the host's own stage when
 * the fleet's stage key is one it rejects.
 */
static void
fleet_target_base(struct fleet_target *tg, const struct flags *fs,
    const char *prefix, const struct fleet_kv *kvs, size_t n, int64_t now_ms)
{
	struct flags_ctx	 ctx = { now_ms, NULL, NULL };
	struct fleet_plan	 one;
	char			 name[FLEET_NAME_BUF];
	json_t			*rec;
	size_t			 i;
	bool			 held = false;

	if (flags_op_emergency(tg->t, &ctx, &rec, NULL, 0) == FLAGS_OK) {
		flags_apply(tg->t, rec);
		json_decref(rec);
	}
	/* Whether it is rejected does not depend on the state. */
	for (i = 0; i < n; i++) {
		if (fleet_key_parse(prefix, kvs[i].key, kvs[i].keylen, name) !=
		    FLEET_KEY_STAGE)
			continue;
		memset(&one, 0, sizeof(one));
		if (fleet_plan_change(tg->t, prefix, &kvs[i], now_ms, &one) ==
		    FLEET_REJECT)
			held = true;
		fleet_plan_free(&one);
	}
	if (held && fs->stage > 0 && flags_op_stage_set(tg->t, fs->stage, &ctx,
	    &rec, NULL, 0) == FLAGS_OK) {
		flags_apply(tg->t, rec);
		json_decref(rec);
	}
}

/*
 * A stage key taken after a flag's key was rejected decides that flag again
 * when its emergency or its values set it, as it does from a watch: the
 * flag is no longer held, and that key is its author.
 */
static void
fleet_target_unhold(struct fleet_target *tg, const struct fleet_kv *kv)
{
	struct fleet_stage	s;
	size_t			i;

	if (kv->deleted || fleet_stage_decode("", kv->value, kv->valuelen, &s,
	    NULL, 0) == -1)
		return;
	for (i = 0; i < tg->t->nflags; i++)
		if (tg->held[i] && (s.emergency || json_object_get(s.values,
		    tg->t->flag[i].name) != NULL)) {
			tg->held[i] = false;
			tg->author[i] = kv;
		}
	fleet_stage_clear(&s);
}

/* The state the keys make, and who decided each flag; rejections noted. */
static void
fleet_target_make(struct fleet_target *tg, const struct flags *fs,
    const char *prefix, const struct fleet_kv *kvs, size_t n, int64_t now_ms,
    struct fleet_plan *p)
{
	const struct fleet_kv	**ord = xcalloc(n + 1, sizeof(*ord));
	struct fleet_plan	  one;
	char			  name[FLEET_NAME_BUF];
	enum fleet_key_kind	  kind;
	enum fleet_verdict	  v;
	size_t			  i, j;
	ssize_t			  f;

	tg->t = flags_copy(fs);
	tg->author = xcalloc(fs->nflags + 1, sizeof(*tg->author));
	tg->held = xcalloc(fs->nflags + 1, sizeof(*tg->held));
	tg->stage_kv = NULL;
	fleet_target_base(tg, fs, prefix, kvs, n, now_ms);
	for (i = 0; i < n; i++)
		ord[i] = &kvs[i];
	qsort(ord, n, sizeof(*ord), fleet_kv_cmp);
	for (i = 0; i < n; i++) {
		kind = fleet_key_parse(prefix, ord[i]->key, ord[i]->keylen, name);
		memset(&one, 0, sizeof(one));
		v = fleet_plan_change(tg->t, prefix, ord[i], now_ms, &one);
		fleet_plan_take_rejects(p, &one);
		for (j = 0; j < one.nsteps; j++)
			fleet_target_apply(tg, &one.step[j], ord[i]);
		fleet_plan_free(&one);
		if (v == FLEET_REJECT) {
			if (kind == FLEET_KEY_FLAG &&
			    (f = flags_find(tg->t, name)) >= 0)
				tg->held[f] = true;
			continue;
		}
		if (kind == FLEET_KEY_STAGE) {
			tg->stage_kv = ord[i];
			fleet_target_unhold(tg, ord[i]);
		}
	}
	free(ord);
}

/*
 * The writer of kv (a stage or flag key that decoded), or false; whether
 * it is an emergency, or a flag's reset record.
 */
static bool
fleet_kv_audit(const char *prefix, const struct fleet_kv *kv, bool *emergency,
    struct fleet_audit *a)
{
	struct fleet_stage	 s;
	struct fleet_flag	 f;
	char			 name[FLEET_NAME_BUF];
	enum fleet_key_kind	 kind;

	*emergency = false;
	if (kv == NULL || kv->deleted)
		return false;
	kind = fleet_key_parse(prefix, kv->key, kv->keylen, name);
	if (kind == FLEET_KEY_STAGE && fleet_stage_decode("", kv->value,
	    kv->valuelen, &s, NULL, 0) == 0) {
		*emergency = s.emergency;
		*a = s.by;
		json_decref(s.values);
		return true;
	}
	if (kind == FLEET_KEY_FLAG && fleet_flag_decode("", kv->value,
	    kv->valuelen, &f, NULL, 0) == 0) {
		*emergency = f.reset;
		*a = f.by;
		return true;
	}
	return false;
}

/* kv resets its flag: its reset record, or its key deleted. */
static bool
fleet_kv_resets(const char *prefix, const struct fleet_kv *kv)
{
	struct fleet_audit	a;
	bool			reset;

	if (kv->deleted)
		return true;
	if (!fleet_kv_audit(prefix, kv, &reset, &a))
		return false;
	fleet_audit_clear(&a);
	return reset;
}

/*
 * Add a step of op (params stolen) decided by kv (NULL: none; then named
 * by dflt_key), once it applies to s, and apply it there.
 */
static void
fleet_plan_step(struct fleet_plan *p, struct flags *s, const char *prefix,
    enum flags_op op, json_t *params, const struct fleet_kv *kv,
    const char *dflt_key, int64_t now_ms)
{
	struct fleet_audit	 a;
	struct fleet_step	 st;
	struct fleet_kv		 none = { dflt_key, strlen(dflt_key), NULL, 0,
				    true, 0 };
	bool			 has, emergency;
	char			*key, err[FLEET_ERR_MAX];

	has = fleet_kv_audit(prefix, kv, &emergency, &a);
	if (kv == NULL)
		kv = &none;
	key = fleet_key_text(kv->key, kv->keylen);
	fleet_step_make(&st, op, params, has ? &a : NULL, now_ms, key,
	    kv->mod_revision);
	if (has)
		fleet_audit_clear(&a);
	free(key);
	if (fleet_step_take(s, &st, err, sizeof(err)) == -1) {
		fleet_plan_reject(p, kv, err);
		fleet_step_clear(&st);
		return;
	}
	fleet_plan_push(p, &st);
}

/* The stage first: up, down, or an emergency when the fleet's was one. */
static void
fleet_plan_to_stage(struct fleet_plan *p, struct flags *s,
    const struct fleet_target *tg, const char *prefix, int64_t now_ms)
{
	struct fleet_audit	 a;
	bool			 emergency = false;
	char			*key = fleet_key_stage(prefix);

	if (fleet_kv_audit(prefix, tg->stage_kv, &emergency, &a))
		fleet_audit_clear(&a);
	if (tg->t->stage > s->stage)
		fleet_plan_step(p, s, prefix, FLAGS_OP_STAGE_SET,
		    json_pack("{s:i}", "stage", tg->t->stage), tg->stage_kv,
		    key, now_ms);
	else if (tg->t->stage < s->stage)
		fleet_plan_step(p, s, prefix, emergency ?
		    FLAGS_OP_STAGE_EMERGENCY : FLAGS_OP_STAGE_ROLLBACK,
		    emergency ? json_object() : json_pack("{s:i}", "stage",
		    tg->t->stage), tg->stage_kv, key, now_ms);
	free(key);
}

/* Then each flag still different, set by the key that decided it. */
static void
fleet_plan_to_flags(struct fleet_plan *p, struct flags *s,
    const struct fleet_target *tg, const char *prefix, int64_t now_ms)
{
	const struct fleet_kv	*kv;
	const struct flag_state	*f;
	char			 name[FLEET_NAME_BUF], *key;
	bool			 by_flag;
	size_t			 i;

	for (i = 0; i < s->nflags; i++) {
		f = &tg->t->flag[i];
		if (s->flag[i].value == f->value || tg->held[i])
			continue;
		kv = tg->author[i];
		by_flag = kv != NULL && fleet_key_parse(prefix, kv->key,
		    kv->keylen, name) == FLEET_KEY_FLAG;
		key = fleet_key_flag(prefix, f->name);
		/* A reset by its key is a reset here too, by its writer. */
		if (f->value == f->dflt && (!by_flag ||
		    fleet_kv_resets(prefix, kv)))
			fleet_plan_step(p, s, prefix, FLAGS_OP_RESET,
			    json_pack("{s:s}", "name", f->name), kv, key,
			    now_ms);
		else
			fleet_plan_step(p, s, prefix, FLAGS_OP_SET,
			    json_pack("{s:s, s:o}", "name", f->name, "value",
			    flags_value_json(tg->t, i, f->value)), kv, key,
			    now_ms);
		free(key);
	}
}

void
fleet_plan_resync(const struct flags *fs, const char *prefix,
    const struct fleet_kv *kvs, size_t n, int64_t now_ms,
    struct fleet_plan *p)
{
	struct fleet_target	 tg;
	struct flags		*s;

	memset(p, 0, sizeof(*p));
	fleet_target_make(&tg, fs, prefix, kvs, n, now_ms, p);
	s = flags_copy(fs);
	fleet_plan_to_stage(p, s, &tg, prefix, now_ms);
	fleet_plan_to_flags(p, s, &tg, prefix, now_ms);
	flags_free(s);
	flags_free(tg.t);
	free(tg.author);
	free(tg.held);
}

void
fleet_plan_free(struct fleet_plan *p)
{
	size_t	i;

	for (i = 0; i < p->nsteps; i++)
		fleet_step_clear(&p->step[i]);
	for (i = 0; i < p->nrejects; i++) {
		free(p->reject[i].key);
		free(p->reject[i].why);
	}
	free(p->step);
	free(p->reject);
	memset(p, 0, sizeof(*p));
}
