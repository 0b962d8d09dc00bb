/*
 * check_fleet_plan.c: what a host does with the fleet's keys
 * (src/core/fleet-plan.c): each change as the local op it matches, the
 * same state as the op made locally by the same writer, every key that
 * cannot be applied rejected whole with its reason, 10,000 random values
 * planned without harm, and a whole resync: the fewest steps to the state
 * the keys make, from wherever the host starts, and none once there.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flagcoretest.h"
#include "fleet.h"
#include "fleettest.h"
#include "suite.h"
#include "util.h"

#define PFX	"/warden/"
#define DPFX	PFX "desired/"	/* the fleet's desired state */
#define NOW	(T0 + 3600000)

static const struct fleet_audit ctl = { "ctl-1", 1000, 4242, 0, NULL };

/* A stage key's value, by ctl at `at`. */
static char *
stage_text(int stage, bool emergency, int64_t at, const char *reason)
{
	struct fleet_stage	s = { stage, emergency, ctl, NULL };

	s.by.at = at;
	s.by.reason = (char *)reason;
	return fleet_value_text(fleet_stage_json(&s));
}

/* A flag key's value ("true", "40"), by ctl at `at`. */
static char *
flag_text(const char *value, int64_t at, const char *reason)
{
	json_t	*v = parse_json(value);
	char	*t;

	xasprintf(&t, "{\"value\": %s, \"by\": {\"host\": \"ctl-1\", \"uid\": "
	    "1000, \"pid\": 4242}, \"at\": %lld, \"reason\": %s%s%s}", value,
	    (long long)at, reason != NULL ? "\"" : "", reason != NULL ? reason :
	    "null", reason != NULL ? "\"" : "");
	json_decref(v);
	return t;
}

/* A flag key's reset record, by ctl at `at`. */
static char *
reset_text(int64_t at, const char *reason)
{
	struct fleet_flag	f;

	memset(&f, 0, sizeof(f));
	f.reset = true;
	f.by = ctl;
	f.by.at = at;
	f.by.reason = (char *)reason;
	return fleet_value_text(fleet_flag_json(&f));
}

static struct fleet_kv
kv_of(const char *key, const char *value, int64_t rev)
{
	struct fleet_kv	kv = { key, strlen(key), value, value != NULL ?
			    strlen(value) : 0, value == NULL, rev };

	return kv;
}

/* Plan kv on fs: want the verdict; on FLEET_APPLY apply the step to fs. */
static void
plan_apply(struct flags *on, const struct fleet_kv *kv, enum fleet_verdict want,
    struct fleet_step *st, char *why, size_t whylen)
{
	enum fleet_verdict	 v;
	json_t			*rec;
	char			 err[FLEET_ERR_MAX];

	why[0] = '\0';
	v = fleet_plan_event(on, PFX, kv, NOW, st, why, whylen);
	ck_assert_msg(v == want, "%.*s: verdict %d, want %d (%s)",
	    (int)kv->keylen, kv->key, v, want, why);
	if (v != FLEET_APPLY)
		return;
	ck_assert_int_eq(fleet_step_record(on, st, &rec, err, sizeof(err)),
	    FLAGS_OK);
	ck_assert_int_eq(flags_apply(on, rec), 0);
	json_decref(rec);
}

/* The same state, audit and history included. */
static void
same_state(const struct flags *a, const struct flags *b)
{
	json_t	*x = flags_snapshot_json(a), *y = flags_snapshot_json(b);
	char	*xs = json_dumps(x, JSON_SORT_KEYS), *ys = json_dumps(y,
		    JSON_SORT_KEYS);

	ck_assert_str_eq(xs, ys);
	free(xs);
	free(ys);
	json_decref(x);
	json_decref(y);
}

/* The local op on `on`, by ctl at `at`, for the direct path. */
static void
direct(struct flags *on, enum flags_op op, const char *params, int64_t at,
    bool by_ctl)
{
	struct flags_actor	 a = { ctl.uid, ctl.pid, "ctl-1" };
	struct flags_change	 ch;
	json_t			*p = params != NULL ? parse_json(params) : NULL;
	json_t			*rec;
	char			 err[256];

	ck_assert_int_eq(flags_change_read(op, p, &ch, err, sizeof(err)),
	    FLAGS_OK);
	ck_assert_msg(flags_op_change(on, &ch, by_ctl ? &a : NULL, at, &rec, err,
	    sizeof(err)) == FLAGS_OK, "%s", err);
	ck_assert_int_eq(flags_apply(on, rec), 0);
	json_decref(rec);
	json_decref(p);
}

/*
 * stage 0 -> set 2 -> a flag off -> rollback 1 -> emergency -> a flag's
 * key deleted, through the fleet and through flags.c directly.
 */
START_TEST(test_sequence)
{
	struct flags		*d = flags_new(conf);
	struct fleet_step	 st;
	struct fleet_kv		 kv;
	char			 why[FLEET_ERR_MAX], *t;
	char			*roll = fleet_key_flag(PFX, "checkout_rollout");

	t = stage_text(2, false, T0 + 1000, "go 2");
	kv = kv_of(DPFX "stage", t, 2);
	plan_apply(fs, &kv, FLEET_APPLY, &st, why, sizeof(why));
	ck_assert_int_eq(st.op, FLAGS_OP_STAGE_SET);
	ck_assert(st.has_by);
	ck_assert_str_eq(st.by.host, "ctl-1");
	ck_assert_int_eq(st.at, T0 + 1000);
	ck_assert_int_eq(st.revision, 2);
	ck_assert_str_eq(st.key, DPFX "stage");
	check_json(json_deep_copy(st.params), "{\"stage\": 2, \"reason\": \"go 2\"}");
	fleet_step_clear(&st);
	direct(d, FLAGS_OP_STAGE_SET, "{\"stage\": 2, \"reason\": \"go 2\"}",
	    T0 + 1000, true);
	same_state(fs, d);
	/* The same stage again changes nothing. */
	kv.mod_revision = 3;
	plan_apply(fs, &kv, FLEET_NOTHING, &st, why, sizeof(why));
	free(t);

	t = flag_text("false", T0 + 2000, "too noisy");
	kv = kv_of(DPFX "flags/use_logger_error_context", t, 4);
	plan_apply(fs, &kv, FLEET_APPLY, &st, why, sizeof(why));
	ck_assert_int_eq(st.op, FLAGS_OP_SET);
	check_json(json_deep_copy(st.params), "{\"name\": "
	    "\"use_logger_error_context\", \"value\": false, \"reason\": "
	    "\"too noisy\"}");
	fleet_step_clear(&st);
	direct(d, FLAGS_OP_SET, "{\"name\": \"use_logger_error_context\", "
	    "\"value\": false, \"reason\": \"too noisy\"}", T0 + 2000, true);
	same_state(fs, d);
	free(t);

	t = stage_text(1, false, T0 + 3000, NULL);
	kv = kv_of(DPFX "stage", t, 5);
	plan_apply(fs, &kv, FLEET_APPLY, &st, why, sizeof(why));
	ck_assert_int_eq(st.op, FLAGS_OP_STAGE_ROLLBACK);
	fleet_step_clear(&st);
	direct(d, FLAGS_OP_STAGE_ROLLBACK, "{\"stage\": 1}", T0 + 3000, true);
	same_state(fs, d);
	free(t);

	t = stage_text(0, true, T0 + 4000, "pager");
	kv = kv_of(DPFX "stage", t, 6);
	plan_apply(fs, &kv, FLEET_APPLY, &st, why, sizeof(why));
	ck_assert_int_eq(st.op, FLAGS_OP_STAGE_EMERGENCY);
	fleet_step_clear(&st);
	direct(d, FLAGS_OP_STAGE_EMERGENCY, "{\"reason\": \"pager\"}",
	    T0 + 4000, true);
	same_state(fs, d);
	free(t);

	/* A deleted flag key: a reset by warden itself, now. */
	t = flag_text("40", T0 + 5000, NULL);
	kv = kv_of(DPFX "flags/checkout_rollout", t, 7);
	plan_apply(fs, &kv, FLEET_APPLY, &st, why, sizeof(why));
	fleet_step_clear(&st);
	direct(d, FLAGS_OP_SET, "{\"name\": \"checkout_rollout\", \"value\": 40}",
	    T0 + 5000, true);
	free(t);
	kv = kv_of(DPFX "flags/checkout_rollout", NULL, 8);
	plan_apply(fs, &kv, FLEET_APPLY, &st, why, sizeof(why));
	ck_assert_int_eq(st.op, FLAGS_OP_RESET);
	ck_assert(!st.has_by);
	ck_assert_int_eq(st.at, NOW);
	fleet_step_clear(&st);
	direct(d, FLAGS_OP_RESET, "{\"name\": \"checkout_rollout\"}", NOW, false);
	same_state(fs, d);
	ck_assert_int_eq(val_of("checkout_rollout"), 25);

	/* A reset record: a reset by its writer, at its time, with its why. */
	t = flag_text("60", T0 + 5500, NULL);
	kv = kv_of(roll, t, 9);
	plan_apply(fs, &kv, FLEET_APPLY, &st, why, sizeof(why));
	fleet_step_clear(&st);
	direct(d, FLAGS_OP_SET, "{\"name\": \"checkout_rollout\", \"value\": 60}",
	    T0 + 5500, true);
	free(t);
	t = reset_text(T0 + 5600, "done");
	kv = kv_of(roll, t, 10);
	plan_apply(fs, &kv, FLEET_APPLY, &st, why, sizeof(why));
	ck_assert_int_eq(st.op, FLAGS_OP_RESET);
	ck_assert(st.has_by);
	ck_assert_str_eq(st.by.host, "ctl-1");
	ck_assert_int_eq(st.at, T0 + 5600);
	ck_assert_int_eq(st.revision, 10);
	check_json(json_deep_copy(st.params), "{\"name\": \"checkout_rollout\", "
	    "\"reason\": \"done\"}");
	fleet_step_clear(&st);
	direct(d, FLAGS_OP_RESET, "{\"name\": \"checkout_rollout\", \"reason\": "
	    "\"done\"}", T0 + 5600, true);
	same_state(fs, d);
	ck_assert_int_eq(val_of("checkout_rollout"), 25);
	free(t);
	free(roll);

	/* The stage key deleted: the fleet's start, stage 0. */
	t = stage_text(3, false, T0 + 6000, NULL);
	kv = kv_of(DPFX "stage", t, 11);
	plan_apply(fs, &kv, FLEET_APPLY, &st, why, sizeof(why));
	fleet_step_clear(&st);
	free(t);
	kv = kv_of(DPFX "stage", NULL, 12);
	plan_apply(fs, &kv, FLEET_APPLY, &st, why, sizeof(why));
	ck_assert_int_eq(st.op, FLAGS_OP_STAGE_ROLLBACK);
	fleet_step_clear(&st);
	ck_assert_int_eq(fs->stage, 0);
	plan_apply(fs, &kv, FLEET_NOTHING, &st, why, sizeof(why));
	flags_free(d);
}
END_TEST

/* Keys this host does not apply: rejected with why, or nothing to do. */
static const struct {
	const char		*key;
	size_t			 keylen;	/* 0: strlen */
	const char		*value;		/* NULL: deleted */
	enum fleet_verdict	 verdict;
	const char		*why;
} events[] = {
	{ DPFX "flags/nope", 0, "{\"value\": true, \"by\": {\"host\": \"h\", "
	    "\"uid\": 1, \"pid\": 2}, \"at\": 1}", FLEET_REJECT,
	    DPFX "flags/nope: flag nope is not in this host's configuration" },
	{ DPFX "flags/nope", 0, NULL, FLEET_NOTHING, NULL },
	{ DPFX "stage", 0, "{\"stage\": 5, \"by\": {\"host\": \"h\", \"uid\": 1, "
	    "\"pid\": 2}, \"at\": 1}", FLEET_REJECT, DPFX "stage: stage 5 is not "
	    "in this host's configuration (it has stages 1 to 4)" },
	{ DPFX "stage", 0, "{\"stage\": 1000000, \"by\": {\"host\": \"h\", "
	    "\"uid\": 1, \"pid\": 2}, \"at\": 1}", FLEET_REJECT, DPFX "stage: stage "
	    "1000000 is not" },
	{ DPFX "stage", 0, "{\"stage\": -3, \"by\": {\"host\": \"h\", \"uid\": 1, "
	    "\"pid\": 2}, \"at\": 1}", FLEET_REJECT, DPFX "stage: stage: expected "
	    "an integer from 0" },
	{ DPFX "stage", 0, "{\"stage\": 0, \"by\": {\"host\": \"h\", \"uid\": 1, "
	    "\"pid\": 2}, \"at\": 1}", FLEET_NOTHING, NULL },
	{ DPFX "stage", 0, NULL, FLEET_NOTHING, NULL },
	{ DPFX "stage", 0, "garbage", FLEET_REJECT, DPFX "stage: not JSON" },
	{ DPFX "stage", 0, "", FLEET_REJECT, DPFX "stage: not JSON" },
	{ DPFX "flags/dark_mode", 0, "{\"value\": 101, \"by\": {\"host\": \"h\", "
	    "\"uid\": 1, \"pid\": 2}, \"at\": 1}", FLEET_REJECT,
	    DPFX "flags/dark_mode: value: expected true, false or an integer" },
	{ DPFX "flags/dark_mode", 0, "{\"value\": true, \"by\": {\"host\": \"a b\", "
	    "\"uid\": 1, \"pid\": 2}, \"at\": 1}", FLEET_REJECT,
	    DPFX "flags/dark_mode: by.host: a host's name has only" },
	{ PFX "junk", 0, "{}", FLEET_REJECT, PFX "junk: not a key of the fleet "
	    "(expected /warden/desired/stage, /warden/desired/flags/NAME or "
	    "/warden/hosts/NAME)" },
	{ DPFX "flags/a b", 0, "{}", FLEET_REJECT, DPFX "flags/a b: not a key" },
	{ DPFX "flags/\xff\n", 0, "{}", FLEET_REJECT,
	    DPFX "flags/\\xff\\x0a: not a key" },
	{ DPFX "stage\0x", 23, "{}", FLEET_REJECT,
	    DPFX "stage\\x00x: not a key" },
	{ PFX "hosts/web-1", 0, "garbage", FLEET_NOTHING, NULL },
	{ PFX "hosts/web-1", 0, NULL, FLEET_NOTHING, NULL },
};

START_TEST(test_events)
{
	struct fleet_kv		 kv = kv_of(events[_i].key, events[_i].value, 9);
	struct fleet_step	 st;
	struct flags		*before = flags_copy(fs);
	char			 why[FLEET_ERR_MAX];

	if (events[_i].keylen != 0)
		kv.keylen = events[_i].keylen;
	plan_apply(fs, &kv, events[_i].verdict, &st, why, sizeof(why));
	if (events[_i].why != NULL)
		ck_assert_msg(strncmp(why, events[_i].why,
		    strlen(events[_i].why)) == 0, "got %s", why);
	/* Nothing was applied, nothing is left to free. */
	same_state(fs, before);
	ck_assert_ptr_null(st.params);
	ck_assert_ptr_null(st.key);
	flags_free(before);
}
END_TEST

/* Reset records this host cannot take: rejected whole, saying why. */
START_TEST(test_reset_rejected)
{
	static const struct {
		const char	*flag, *text, *why;
	} bad[] = {
		{ "nope", "{\"reset\": true, \"by\": {\"host\": \"h\", \"uid\": "
		    "1, \"pid\": 2}, \"at\": 1}", "flag nope is not in this "
		    "host's configuration" },
		{ "dark_mode", "{\"reset\": true, \"value\": true, \"by\": "
		    "{\"host\": \"h\", \"uid\": 1, \"pid\": 2}, \"at\": 1}",
		    "value: not beside \"reset\"" },
		{ "dark_mode", "{\"reset\": false, \"by\": {\"host\": \"h\", "
		    "\"uid\": 1, \"pid\": 2}, \"at\": 1}", "reset: expected true" },
		{ "dark_mode", "{\"reset\": true, \"at\": 1}", "by: missing" },
	};
	struct fleet_step	 st;
	struct fleet_kv		 kv;
	struct flags		*before = flags_copy(fs);
	char			 why[FLEET_ERR_MAX], want[FLEET_ERR_MAX], *key;
	size_t			 i;

	for (i = 0; i < nitems(bad); i++) {
		key = fleet_key_flag(PFX, bad[i].flag);
		kv = kv_of(key, bad[i].text, 4);
		plan_apply(fs, &kv, FLEET_REJECT, &st, why, sizeof(why));
		snprintf(want, sizeof(want), "%s: %s", key, bad[i].why);
		ck_assert_msg(strncmp(why, want, strlen(want)) == 0, "got %s",
		    why);
		same_state(fs, before);
		free(key);
	}
	flags_free(before);
}
END_TEST

/* No stages configured: any stage above 0 is rejected, saying so. */
START_TEST(test_no_stages)
{
	struct config		*c = parse_conf(nostages_text);
	struct flags		*f = flags_new(c);
	struct fleet_step	 st;
	struct fleet_kv		 kv;
	char			 why[FLEET_ERR_MAX], *t = stage_text(1, false, T0,
				    NULL);

	kv = kv_of(DPFX "stage", t, 3);
	plan_apply(f, &kv, FLEET_REJECT, &st, why, sizeof(why));
	ck_assert_str_eq(why, DPFX "stage: stage 1 is not in this host's "
	    "configuration (it has no stages)");
	free(t);
	flags_free(f);
	config_free(c);
}
END_TEST

/* Random values under every key: planned without harm, applied whole. */
START_TEST(test_random_values)
{
	static const char *const keys[] = { DPFX "stage", DPFX "flags/dark_mode",
		DPFX "flags/checkout_rollout", DPFX "flags/nope",
		PFX "hosts/web-1" };
	struct fleet_step	 st;
	struct fleet_kv		 kv;
	struct flags		*before = flags_copy(fs);
	enum fleet_verdict	 v;
	char			 why[FLEET_ERR_MAX], *t;
	size_t			 len;
	int			 i, n[3] = { 0, 0, 0 };

	fleettest_seed(0x2545f4914f6cdd1dULL);
	for (i = 0; i < 10000; i++) {
		t = fleettest_text(&len);
		kv = kv_of(keys[fleettest_random() % nitems(keys)], t, i + 1);
		kv.valuelen = len;
		why[0] = '\0';
		n[fleet_plan_event(fs, PFX, &kv, NOW, &st, why, sizeof(why))]++;
		fleet_step_clear(&st);
		ck_assert(why[0] == '\0' || strncmp(why, kv.key, kv.keylen) == 0);
		/* Now and then take one, so that plans meet every state. */
		if (fleettest_random() % 4 == 0) {
			v = fleet_plan_event(fs, PFX, &kv, NOW, &st, why,
			    sizeof(why));
			fleet_step_clear(&st);
			plan_apply(fs, &kv, v, &st, why, sizeof(why));
			fleet_step_clear(&st);
		}
		free(t);
	}
	ck_assert_msg(n[FLEET_APPLY] > 0 && n[FLEET_NOTHING] > 0 &&
	    n[FLEET_REJECT] > 0, "%d %d %d", n[0], n[1], n[2]);
	flags_free(before);
}
END_TEST

/* --- a whole resync ------------------------------------------------------------------- */

/* Apply a plan's steps to on, each record as it comes. */
static void
resync_apply(struct flags *on, const struct fleet_kv *kvs, size_t n,
    struct fleet_plan *p)
{
	json_t	*rec;
	char	 err[FLEET_ERR_MAX];
	size_t	 i;

	fleet_plan_resync(on, PFX, kvs, n, NOW, p);
	for (i = 0; i < p->nsteps; i++) {
		ck_assert_msg(fleet_step_record(on, &p->step[i], &rec, err,
		    sizeof(err)) == FLAGS_OK, "step %zu: %s", i, err);
		ck_assert_int_eq(flags_apply(on, rec), 0);
		json_decref(rec);
	}
}

/* The same values and stage (audit aside). */
static void
same_values(const struct flags *a, const struct flags *b)
{
	size_t	i;

	ck_assert_int_eq(a->stage, b->stage);
	for (i = 0; i < a->nflags; i++)
		ck_assert_msg(a->flag[i].value == b->flag[i].value,
		    "%s: %d against %d", a->flag[i].name, a->flag[i].value,
		    b->flag[i].value);
}

START_TEST(test_resync_fresh)
{
	char			*st2 = stage_text(2, false, T0 + 5000, "wave 2");
	char			*dark = flag_text("false", T0 + 7000, NULL);
	char			*roll = flag_text("60", T0 + 3000, "more");
	char			*nope = flag_text("true", T0, NULL);
	struct fleet_kv		 kvs[] = {
		kv_of(DPFX "flags/dark_mode", dark, 7),
		kv_of(PFX "hosts/web-1", "{}", 10),
		kv_of(PFX "junk", "x", 9),
		kv_of(DPFX "stage", st2, 5),
		kv_of(DPFX "flags/nope", nope, 8),
		kv_of(DPFX "flags/checkout_rollout", roll, 3),
	};
	struct flags		*d = flags_new(conf);
	struct fleet_plan	 p;
	struct fleet_step	 st;
	char			 why[FLEET_ERR_MAX];
	size_t			 order[] = { 5, 3, 0 }, i;

	resync_apply(fs, kvs, nitems(kvs), &p);
	ck_assert_uint_eq(p.nsteps, 3);
	ck_assert_int_eq(p.step[0].op, FLAGS_OP_STAGE_SET);
	ck_assert_str_eq(p.step[0].key, DPFX "stage");
	ck_assert_int_eq(p.step[0].revision, 5);
	ck_assert(p.step[0].has_by);
	ck_assert_int_eq(p.step[0].at, T0 + 5000);
	check_json(json_deep_copy(p.step[0].params), "{\"stage\": 2, "
	    "\"reason\": \"wave 2\"}");
	/* Then the flags, in the configuration's order, each by its key. */
	ck_assert_int_eq(p.step[1].op, FLAGS_OP_SET);
	check_json(json_deep_copy(p.step[1].params), "{\"name\": "
	    "\"checkout_rollout\", \"value\": 60, \"reason\": \"more\"}");
	ck_assert_int_eq(p.step[1].revision, 3);
	ck_assert_int_eq(p.step[2].op, FLAGS_OP_SET);
	ck_assert_str_eq(p.step[2].key, DPFX "flags/dark_mode");
	/* The keys it could not apply, in revision order. */
	ck_assert_uint_eq(p.nrejects, 2);
	ck_assert_str_eq(p.reject[0].key, DPFX "flags/nope");
	ck_assert_int_eq(p.reject[0].revision, 8);
	ck_assert(strstr(p.reject[0].why, "not in this host's") != NULL);
	ck_assert_str_eq(p.reject[1].key, PFX "junk");
	fleet_plan_free(&p);
	/* The same as the changes taken one by one, in revision order. */
	for (i = 0; i < nitems(order); i++) {
		plan_apply(d, &kvs[order[i]], FLEET_APPLY, &st, why, sizeof(why));
		fleet_step_clear(&st);
	}
	same_values(fs, d);
	expect_values("checkout_rollout=60 dark_mode=0 "
	    "use_logger_error_context=100");
	/* Once there, a resync has nothing to do. */
	resync_apply(fs, kvs, nitems(kvs), &p);
	ck_assert_uint_eq(p.nsteps, 0);
	ck_assert_uint_eq(p.nrejects, 2);
	fleet_plan_free(&p);
	flags_free(d);
	free(st2);
	free(dark);
	free(roll);
	free(nope);
}
END_TEST

/* A host ahead of the fleet rolls back, then mends each flag. */
START_TEST(test_resync_ahead)
{
	char			*st1 = stage_text(1, false, T0 + 5000, NULL);
	struct fleet_kv		 kvs[] = { kv_of(DPFX "stage", st1, 5) };
	struct fleet_plan	 p;

	/* Before the stages: the rollback keeps it, the fleet does not. */
	set_flag("dark_mode", "false");
	stage_set(4);
	set_flag("use_ets_agent_registry", "false");
	resync_apply(fs, kvs, nitems(kvs), &p);
	ck_assert_uint_eq(p.nsteps, 2);
	ck_assert_int_eq(p.step[0].op, FLAGS_OP_STAGE_ROLLBACK);
	check_json(json_deep_copy(p.step[0].params), "{\"stage\": 1}");
	expect_stage_values(1, 25, 100);
	/* dark_mode: no key, so back to its default, by warden itself. */
	ck_assert_int_eq(p.step[p.nsteps - 1].op, FLAGS_OP_RESET);
	ck_assert(!p.step[p.nsteps - 1].has_by);
	ck_assert_int_eq(p.step[p.nsteps - 1].at, NOW);
	fleet_plan_free(&p);
	free(st1);
}
END_TEST

/* The fleet's emergency is an emergency here too, by its writer. */
START_TEST(test_resync_emergency)
{
	char			*em = stage_text(0, true, T0 + 5000, "pager");
	struct fleet_kv		 kvs[] = { kv_of(DPFX "stage", em, 5) };
	struct fleet_plan	 p;

	stage_set(3);
	set_flag("checkout_rollout", "80");
	resync_apply(fs, kvs, nitems(kvs), &p);
	ck_assert_uint_eq(p.nsteps, 1);
	ck_assert_int_eq(p.step[0].op, FLAGS_OP_STAGE_EMERGENCY);
	ck_assert_str_eq(p.step[0].by.host, "ctl-1");
	expect_stage_values(0, 25, 100);
	fleet_plan_free(&p);
	free(em);
}
END_TEST

/* No keys at all: the fleet's start, every flag at its default, stage 0. */
START_TEST(test_resync_empty)
{
	struct fleet_plan	p;
	struct flags		*d = flags_new(conf);

	set_flag("dark_mode", "false");
	stage_set(2);
	resync_apply(fs, NULL, 0, &p);
	ck_assert_uint_eq(p.nsteps, 2);
	ck_assert_int_eq(p.step[0].op, FLAGS_OP_STAGE_ROLLBACK);
	ck_assert_int_eq(p.step[1].op, FLAGS_OP_RESET);
	same_values(fs, d);
	fleet_plan_free(&p);
	resync_apply(fs, NULL, 0, &p);
	ck_assert_uint_eq(p.nsteps, 0);
	fleet_plan_free(&p);
	flags_free(d);
}
END_TEST

/*
 * Keys this host rejects hold what they decide, as from a watch: a stage
 * its configuration lacks leaves its stage, a flag's bad value that flag.
 */
START_TEST(test_resync_held)
{
	char			*st9 = stage_text(9, false, T0 + 5000, NULL);
	char			*roll = flag_text("70", T0 + 6000, NULL);
	struct fleet_kv		 kvs[] = {
		kv_of(DPFX "stage", st9, 5),
		kv_of(DPFX "flags/dark_mode", "{\"value\": 101}", 6),
		kv_of(DPFX "flags/checkout_rollout", roll, 7),
	};
	struct fleet_plan	 p;

	stage_set(3);
	set_flag("dark_mode", "false");
	resync_apply(fs, kvs, nitems(kvs), &p);
	ck_assert_uint_eq(p.nrejects, 2);
	ck_assert_str_eq(p.reject[0].key, DPFX "stage");
	ck_assert_str_eq(p.reject[1].key, DPFX "flags/dark_mode");
	ck_assert_uint_eq(p.nsteps, 1);
	check_json(json_deep_copy(p.step[0].params), "{\"name\": "
	    "\"checkout_rollout\", \"value\": 70}");
	expect_stage_values(3, 70, 0);
	fleet_plan_free(&p);
	free(st9);
	free(roll);
}
END_TEST

/* Random local ops on on: set, rollback, a flag, an emergency. */
static void
random_local(struct flags *on, int n)
{
	struct flags_ctx	 ctx = { T0, &alice, NULL };
	json_t			*rec = NULL, *v;
	int			 i;

	for (i = 0; i < n; i++) {
		switch (fleettest_random() % 4) {
		case 0:
			flags_op_stage_set(on, 1 + (int)(fleettest_random() % 4),
			    &ctx, &rec, NULL, 0);
			break;
		case 1:
			flags_op_stage_rollback(on, FLAGS_STAGE_DEFAULT, &ctx,
			    &rec, NULL, 0);
			break;
		case 2:
			v = json_integer(fleettest_random() % 101);
			flags_op_set(on, on->flag[fleettest_random() %
			    on->nflags].name, v, &ctx, &rec, NULL, 0);
			json_decref(v);
			break;
		default:
			flags_op_emergency(on, &ctx, &rec, NULL, 0);
			break;
		}
		if (rec != NULL)
			ck_assert_int_eq(flags_apply(on, rec), 0);
		json_decref(rec);
		rec = NULL;
	}
}

/*
 * Random keys (a stage, an emergency, flags set or reset, garbage) at random
 * revisions: wherever a host starts, a resync brings it to the same
 * values and stage, and a second one has nothing to do.
 */
START_TEST(test_resync_anywhere)
{
	struct fleet_kv		 kvs[12];
	struct fleet_plan	 p;
	struct flags		*ref, *on;
	char			*texts[12], *keys[12], val[8];
	size_t			 n, i;
	int			 round, stage;

	fleettest_seed(0xda942042e4dd58b5ULL);
	for (round = 0; round < 200; round++) {
		n = 0;
		stage = (int)(fleettest_random() % 6) - 1;	/* -1: none */
		if (stage >= 0) {
			keys[n] = fleet_key_stage(PFX);
			texts[n] = stage_text(stage == 5 ? 0 : stage, stage == 5,
			    T0, NULL);
			n++;
		}
		for (i = 0; i < fs->nflags && n < nitems(kvs) - 1; i++) {
			if (fleettest_random() % 3 != 0)
				continue;
			keys[n] = fleet_key_flag(PFX, fs->flag[i].name);
			snprintf(val, sizeof(val), "%u", fleettest_random() % 101);
			/* A quarter of them reset records. */
			texts[n] = fleettest_random() % 4 == 0 ?
			    reset_text(T0, "r") : flag_text(val, T0, NULL);
			n++;
		}
		keys[n] = fleet_key_flag(PFX, "nope");
		texts[n] = xstrdup("{\"value\": 1}");
		n++;
		for (i = 0; i < n; i++)
			kvs[i] = kv_of(keys[i], texts[i], 1 + (int64_t)(
			    fleettest_random() % 1000));
		ref = flags_new(conf);
		resync_apply(ref, kvs, n, &p);
		fleet_plan_free(&p);
		on = flags_new(conf);
		random_local(on, (int)(fleettest_random() % 8));
		resync_apply(on, kvs, n, &p);
		ck_assert_uint_ge(p.nrejects, 1);
		fleet_plan_free(&p);
		same_values(on, ref);
		resync_apply(on, kvs, n, &p);
		ck_assert_uint_eq(p.nsteps, 0);
		fleet_plan_free(&p);
		flags_free(ref);
		flags_free(on);
		for (i = 0; i < n; i++) {
			free(keys[i]);
			free(texts[i]);
		}
	}
}
END_TEST

static Suite *
fleet_plan_suite(void)
{
	Suite	*s = suite_create("fleet_plan");
	TCase	*tc = tcase_create("fleet_plan");

	tcase_add_checked_fixture(tc, flagcoretest_setup, flagcoretest_teardown);
	tcase_add_test(tc, test_sequence);
	tcase_add_loop_test(tc, test_events, 0, (int)nitems(events));
	tcase_add_test(tc, test_reset_rejected);
	tcase_add_test(tc, test_no_stages);
	tcase_add_test(tc, test_random_values);
	tcase_add_test(tc, test_resync_fresh);
	tcase_add_test(tc, test_resync_ahead);
	tcase_add_test(tc, test_resync_emergency);
	tcase_add_test(tc, test_resync_empty);
	tcase_add_test(tc, test_resync_held);
	tcase_add_test(tc, test_resync_anywhere);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(fleet_plan_suite)
