/*
 * check_fleet_values.c: a stage key's "values" (src/core/fleet-plan.c):
 * after the stage op a host sets each flag that differs from the
 * writer's values, so a host following the watch and one resyncing from
 * the keys end with the writer's values; a flag of values this host lacks
 * is rejected alone, one it cannot take rejects the key whole.
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
#define LOGCTX	"use_logger_error_context"

/* The writer: its own state, on which each change is made first. */
static struct flags	*writer;

static void
values_setup(void)
{
	flagcoretest_setup();
	writer = flags_new(conf);
}

static void
values_teardown(void)
{
	flags_free(writer);
	flagcoretest_teardown();
}

/* op (params as JSON text) made on the writer by uid 1000 at `at`. */
static void
writer_op(enum flags_op op, const char *params, int64_t at)
{
	struct flags_actor	 a = { 1000, 4242, "" };
	struct flags_change	 ch;
	json_t			*p = parse_json(params), *rec;
	char			 err[256];

	ck_assert_int_eq(flags_change_read(op, p, &ch, err, sizeof(err)),
	    FLAGS_OK);
	ck_assert_msg(flags_op_change(writer, &ch, &a, at, &rec, err,
	    sizeof(err)) == FLAGS_OK, "%s", err);
	ck_assert_int_eq(flags_apply(writer, rec), 0);
	json_decref(rec);
	json_decref(p);
}

/* A stage key's value by the writer; values (stolen) NULL: none. */
static char *
stagev_text(int stage, bool emergency, int64_t at, json_t *values)
{
	struct fleet_stage	 s = { stage, emergency, { "ctl-1", 1000, 4242,
				    at, NULL }, values };
	char			*t = fleet_value_text(fleet_stage_json(&s));

	json_decref(values);
	return t;
}

static struct fleet_kv
kvv_of(const char *key, const char *value, int64_t rev)
{
	struct fleet_kv	kv = { key, strlen(key), value, value != NULL ?
			    strlen(value) : 0, value == NULL, rev };

	return kv;
}

/* Apply every step of p to on. */
static void
steps_take(struct flags *on, const struct fleet_plan *p)
{
	json_t	*rec;
	char	 err[FLEET_ERR_MAX];
	size_t	 i;

	for (i = 0; i < p->nsteps; i++) {
		ck_assert_msg(fleet_step_record(on, &p->step[i], &rec, err,
		    sizeof(err)) == FLAGS_OK, "step %zu: %s", i, err);
		ck_assert_int_eq(flags_apply(on, rec), 0);
		json_decref(rec);
	}
}

/* A change from the watch: its verdict must be want; its steps applied. */
static void
watch_take(struct flags *on, const struct fleet_kv *kv, enum fleet_verdict want)
{
	struct fleet_plan	p;

	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(fleet_plan_change(on, PFX, kv, NOW, &p), want);
	steps_take(on, &p);
	fleet_plan_free(&p);
}

static void
resync_take(struct flags *on, const struct fleet_kv *kvs, size_t n)
{
	struct fleet_plan	p;

	fleet_plan_resync(on, PFX, kvs, n, NOW, &p);
	steps_take(on, &p);
	fleet_plan_free(&p);
}

/* The same stage, and a's flags the same values in b, by name. */
static bool
values_equal(const struct flags *a, const struct flags *b)
{
	size_t	i;
	ssize_t	j;

	if (a->stage != b->stage)
		return false;
	for (i = 0; i < a->nflags; i++)
		if ((j = flags_find(b, a->flag[i].name)) < 0 ||
		    a->flag[i].value != b->flag[j].value)
			return false;
	return true;
}

/*
 * fleet-plan.c's case: a flag stage 2 enables, turned off by its key at
 * stage 2, then stage 3, then a rollback to 2. The host that watched and
 * the host that resyncs from the two keys left both have the writer's
 * values; without "values" they would not.
 */
START_TEST(test_values_converge)
{
	char		*t2, *t3, *tr, *tr_bare;
	char		 off[] = "{\"value\": false, \"by\": {\"host\": \"ctl-1\", "
			    "\"uid\": 1000, \"pid\": 4242}, \"at\": 1714564802000}";
	struct fleet_kv	 kv2, kvf, kv3, kvr, keys[2];
	struct flags	*watched = flags_new(conf), *resynced = flags_new(conf);
	struct flags	*bare = flags_new(conf);

	writer_op(FLAGS_OP_STAGE_SET, "{\"stage\": 2}", T0 + 1000);
	t2 = stagev_text(2, false, T0 + 1000, fleet_values_json(writer));
	writer_op(FLAGS_OP_SET, "{\"name\": \"" LOGCTX "\", \"value\": false}",
	    T0 + 2000);
	writer_op(FLAGS_OP_STAGE_SET, "{\"stage\": 3}", T0 + 3000);
	t3 = stagev_text(3, false, T0 + 3000, fleet_values_json(writer));
	writer_op(FLAGS_OP_STAGE_ROLLBACK, "{\"stage\": 2}", T0 + 4000);
	tr = stagev_text(2, false, T0 + 4000, fleet_values_json(writer));
	tr_bare = stagev_text(2, false, T0 + 4000, NULL);
	ck_assert_int_eq(writer->flag[flags_find(writer, LOGCTX)].value, 0);
	kv2 = kvv_of(DPFX "stage", t2, 2);
	kvf = kvv_of(DPFX "flags/" LOGCTX, off, 3);
	kv3 = kvv_of(DPFX "stage", t3, 4);
	kvr = kvv_of(DPFX "stage", tr, 5);
	watch_take(watched, &kv2, FLEET_APPLY);
	watch_take(watched, &kvf, FLEET_APPLY);
	watch_take(watched, &kv3, FLEET_APPLY);
	watch_take(watched, &kvr, FLEET_APPLY);
	ck_assert(values_equal(watched, writer));
	keys[0] = kvf;
	keys[1] = kvr;
	resync_take(resynced, keys, 2);
	ck_assert(values_equal(resynced, writer));
	/* The same keys without values: the resync turns the flag on again. */
	keys[1] = kvv_of(DPFX "stage", tr_bare, 5);
	resync_take(bare, keys, 2);
	ck_assert(!values_equal(bare, writer));
	ck_assert_int_eq(bare->flag[flags_find(bare, LOGCTX)].value, 100);
	flags_free(watched);
	flags_free(resynced);
	flags_free(bare);
	free(t2);
	free(t3);
	free(tr);
	free(tr_bare);
}
END_TEST

/* After the stage op, each differing flag set by the stage's writer. */
START_TEST(test_values_steps)
{
	struct fleet_plan	 p;
	struct fleet_kv		 kv;
	char			*t;

	t = stagev_text(1, false, T0 + 1000, json_pack("{s:b, s:i, s:b}",
	    "dark_mode", 0, "checkout_rollout", 25, "use_ets_agent_registry",
	    1));
	kv = kvv_of(DPFX "stage", t, 7);
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(fleet_plan_change(fs, PFX, &kv, NOW, &p), FLEET_APPLY);
	ck_assert_uint_eq(p.nsteps, 2);
	ck_assert_uint_eq(p.nrejects, 0);
	ck_assert_int_eq(p.step[0].op, FLAGS_OP_STAGE_SET);
	ck_assert_int_eq(p.step[1].op, FLAGS_OP_SET);
	check_json(json_deep_copy(p.step[1].params), "{\"name\": \"dark_mode\", "
	    "\"value\": false}");
	ck_assert(p.step[1].has_by);
	ck_assert_str_eq(p.step[1].by.host, "ctl-1");
	ck_assert_int_eq(p.step[1].at, T0 + 1000);
	ck_assert_int_eq(p.step[1].revision, 7);
	steps_take(fs, &p);
	fleet_plan_free(&p);
	expect_stage_values(1, 25, 0);
	/* The stage in force, the values not: only the flags. */
	free(t);
	t = stagev_text(1, false, T0 + 2000, json_pack("{s:b}", "dark_mode", 1));
	kv = kvv_of(DPFX "stage", t, 8);
	ck_assert_int_eq(fleet_plan_change(fs, PFX, &kv, NOW, &p), FLEET_APPLY);
	ck_assert_uint_eq(p.nsteps, 1);
	ck_assert_int_eq(p.step[0].op, FLAGS_OP_SET);
	steps_take(fs, &p);
	fleet_plan_free(&p);
	/* Both there: nothing. */
	ck_assert_int_eq(fleet_plan_change(fs, PFX, &kv, NOW, &p),
	    FLEET_NOTHING);
	ck_assert_uint_eq(p.nsteps, 0);
	fleet_plan_free(&p);
	free(t);
}
END_TEST

/* A flag this host lacks: rejected alone, the rest applied. */
START_TEST(test_values_unknown_flag)
{
	struct fleet_plan	 p;
	struct fleet_kv		 kv;
	char			*t;

	t = stagev_text(2, false, T0, json_pack("{s:b, s:i}", "nope", 1,
	    "checkout_rollout", 70));
	kv = kvv_of(DPFX "stage", t, 9);
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(fleet_plan_change(fs, PFX, &kv, NOW, &p), FLEET_APPLY);
	ck_assert_uint_eq(p.nsteps, 2);
	ck_assert_uint_eq(p.nrejects, 1);
	ck_assert_str_eq(p.reject[0].key, DPFX "stage");
	ck_assert_int_eq(p.reject[0].revision, 9);
	ck_assert_str_eq(p.reject[0].why, DPFX "stage: values.nope: flag nope is "
	    "not in this host's configuration (ignored)");
	steps_take(fs, &p);
	fleet_plan_free(&p);
	expect_stage_values(2, 70, 100);
	/* In a resync as well. */
	fleet_plan_resync(fs, PFX, &kv, 1, NOW, &p);
	ck_assert_uint_eq(p.nsteps, 0);
	ck_assert_uint_eq(p.nrejects, 1);
	fleet_plan_free(&p);
	free(t);
}
END_TEST

/* A stage key without values (and with a reason): the stage op alone. */
START_TEST(test_values_absent)
{
	struct fleet_stage	 s = { 1, false, { "ctl-1", 1000, 4242, T0,
				    (char *)"no values" }, NULL };
	struct fleet_plan	 p;
	struct fleet_kv		 kv;
	char			*t = fleet_value_text(fleet_stage_json(&s));

	kv = kvv_of(DPFX "stage", t, 3);
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(fleet_plan_change(fs, PFX, &kv, NOW, &p), FLEET_APPLY);
	ck_assert_uint_eq(p.nsteps, 1);
	ck_assert_int_eq(p.step[0].op, FLAGS_OP_STAGE_SET);
	fleet_plan_free(&p);
	free(t);
}
END_TEST

/* A stage this host lacks rejects its values too: nothing changes. */
START_TEST(test_values_stage_lacking)
{
	struct fleet_plan	 p;
	struct fleet_kv		 kv;
	char			*t;

	t = stagev_text(9, false, T0, json_pack("{s:b}", "dark_mode", 0));
	kv = kvv_of(DPFX "stage", t, 4);
	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(fleet_plan_change(fs, PFX, &kv, NOW, &p),
	    FLEET_REJECT);
	ck_assert_uint_eq(p.nsteps, 0);
	ck_assert_uint_eq(p.nrejects, 1);
	ck_assert(strstr(p.reject[0].why, "stage 9 is not in this host's") !=
	    NULL);
	fleet_plan_free(&p);
	fleet_plan_resync(fs, PFX, &kv, 1, NOW, &p);
	ck_assert_uint_eq(p.nsteps, 0);
	fleet_plan_free(&p);
	expect_stage_values(0, 25, 100);
	free(t);
}
END_TEST

/*
 * A flag's key this host rejects (a field of a newer writer), then a stage
 * key whose values, or whose emergency, set that flag: the host that
 * watched took the stage key's value of it, and so must one that resyncs
 * from the same keys, whatever value it had.
 */
START_TEST(test_values_after_held)
{
	char		 newer[] = "{\"value\": false, \"ttl\": 5, \"by\": "
			    "{\"host\": \"ctl-1\", \"uid\": 1000, \"pid\": 4242}, "
			    "\"at\": 1714564802000}";
	char		*t;
	struct fleet_kv	 keys[2];
	struct fleet_plan p;
	struct flags	*watched, *resynced;
	int		 emergency;
	ssize_t		 dark = flags_find(fs, "dark_mode");

	for (emergency = 0; emergency < 2; emergency++) {
		watched = flags_new(conf);
		resynced = flags_new(conf);
		/* Both had dark_mode off before the newer writer's key. */
		watched->flag[dark].value = resynced->flag[dark].value = 0;
		t = stagev_text(0, emergency, T0 + 3000, emergency ?
		    fleet_values_json(writer) : json_pack("{s:b}", "dark_mode",
		    1));
		keys[0] = kvv_of(DPFX "flags/dark_mode", newer, 2);
		keys[1] = kvv_of(DPFX "stage", t, 3);
		watch_take(watched, &keys[0], FLEET_REJECT);
		watch_take(watched, &keys[1], FLEET_APPLY);
		ck_assert_int_eq(watched->flag[dark].value, 100);
		resync_take(resynced, keys, 2);
		ck_assert_msg(values_equal(resynced, watched), "emergency %d: "
		    "dark_mode %d after the resync, %d after the watch",
		    emergency, resynced->flag[dark].value,
		    watched->flag[dark].value);
		/* There, a resync again has nothing to do. */
		fleet_plan_resync(resynced, PFX, keys, 2, NOW, &p);
		ck_assert_uint_eq(p.nsteps, 0);
		fleet_plan_free(&p);
		flags_free(watched);
		flags_free(resynced);
		free(t);
	}
}
END_TEST

/* op (params as JSON text) tried on the writer at `at`: whether it was made. */
static bool
writer_try(enum flags_op op, const char *params, int64_t at)
{
	struct flags_actor	 a = { 1000, 4242, "" };
	struct flags_change	 ch;
	json_t			*p = parse_json(params), *rec;
	bool			 made = false;

	if (flags_change_read(op, p, &ch, NULL, 0) == FLAGS_OK &&
	    flags_op_change(writer, &ch, &a, at, &rec, NULL, 0) == FLAGS_OK) {
		ck_assert_int_eq(flags_apply(writer, rec), 0);
		json_decref(rec);
		made = true;
	}
	json_decref(p);
	return made;
}

/* A flag key's value by the writer: its value now, or its reset record. */
static char *
flagv_text(const char *name, bool reset, int64_t at)
{
	struct fleet_flag	f;
	ssize_t			i = flags_find(writer, name);

	memset(&f, 0, sizeof(f));
	snprintf(f.by.host, sizeof(f.by.host), "ctl-1");
	f.by.uid = 1000;
	f.by.pid = 4242;
	f.by.at = at;
	f.reset = reset;
	f.value = writer->flag[i].value;
	return fleet_value_text(fleet_flag_json(&f));
}

/* The keys as etcd keeps them: the newest value of each, with its revision. */
#define VALUES_KEYS	(2 + NDEMO)	/* the stage's, the flags' of legacy_text */
struct values_keys {
	char	*key[VALUES_KEYS];	/* [0] the stage's, then the flags' */
	char	*text[VALUES_KEYS];
	int64_t	 rev[VALUES_KEYS];
};

/*
 * One random change made on the writer as a fleet writer makes it (a
 * stage key with the writer's values, a flag's value, a flag's reset
 * record), put at revision rev: the slot it went to, or -1 when the op
 * was refused.
 */
static int
values_random_change(struct values_keys *k, int64_t rev)
{
	char	 params[128];
	size_t	 f = fleettest_random() % writer->nflags;
	int	 stage = (int)(fleettest_random() % 5), slot = 0;
	bool	 made, reset = false, emergency = false;
	int64_t	 at = T0 + rev * 1000;

	switch (fleettest_random() % 5) {
	case 0:
		snprintf(params, sizeof(params), "{\"stage\": %d}", stage);
		made = writer_try(FLAGS_OP_STAGE_SET, params, at);
		break;
	case 1:
		snprintf(params, sizeof(params), "{\"stage\": %d}", stage);
		made = writer_try(FLAGS_OP_STAGE_ROLLBACK, params, at);
		break;
	case 2:
		made = emergency = writer_try(FLAGS_OP_STAGE_EMERGENCY, "{}",
		    at);
		break;
	case 3:
		snprintf(params, sizeof(params), "{\"name\": \"%s\", \"value\": "
		    "%u}", writer->flag[f].name, fleettest_random() % 101);
		made = writer_try(FLAGS_OP_SET, params, at);
		slot = 1 + (int)f;
		break;
	default:
		snprintf(params, sizeof(params), "{\"name\": \"%s\"}",
		    writer->flag[f].name);
		made = writer_try(FLAGS_OP_RESET, params, at);
		slot = 1 + (int)f;
		reset = true;
		break;
	}
	if (!made)
		return -1;
	free(k->text[slot]);
	if (slot == 0) {
		if (k->key[0] == NULL)
			k->key[0] = fleet_key_stage(PFX);
		k->text[0] = stagev_text(writer->stage, emergency, at,
		    fleet_values_json(writer));
	} else {
		if (k->key[slot] == NULL)
			k->key[slot] = fleet_key_flag(PFX, writer->flag[f].name);
		k->text[slot] = flagv_text(writer->flag[f].name, reset, at);
	}
	k->rev[slot] = rev;
	return slot;
}
/* The keys now, for a resync: the range etcd would answer. */
static size_t
values_kvs(const struct values_keys *k, struct fleet_kv *kvs)
{
	size_t	i, n = 0;

	for (i = 0; i < VALUES_KEYS; i++)
		if (k->text[i] != NULL)
			kvs[n++] = kvv_of(k->key[i], k->text[i], k->rev[i]);
	return n;
}

/*
 * A change from the watch: applied, or nothing to do; rejected too when
 * the writer has flags this host lacks (lax).
 */
static void
watch_any(struct flags *on, const struct fleet_kv *kv, bool lax)
{
	struct fleet_plan	p;

	memset(&p, 0, sizeof(p));
	if (fleet_plan_change(on, PFX, kv, NOW, &p) == FLEET_REJECT)
		ck_assert_msg(lax, "%s", p.reject[0].why);
	ck_assert(lax || p.nrejects == 0);
	steps_take(on, &p);
	fleet_plan_free(&p);
}

static void
values_keys_free(struct values_keys *k)
{
	size_t	i;

	for (i = 0; i < VALUES_KEYS; i++) {
		free(k->key[i]);
		free(k->text[i]);
	}
	memset(k, 0, sizeof(*k));
}

/*
 * Random fleet writes (stages with their values, flags set, flags reset
 * by their record) by one writer: a host that watched each change, one
 * that resyncs from the keys left, and one that watched half of them and
 * then resyncs all end with the writer's values. A reset must be a record
 * for this: a flag's key deleted leaves the stage key's older value of it
 * for a resync to take, where the watching host reset it.
 */
/*
 * The rounds of random writes by a writer on wconf, watched and resynced by
 * hosts on conf: the number of resets written.
 */
static int
values_rounds(const struct config *wconf, uint64_t seed)
{
	struct values_keys	 k;
	struct fleet_kv		 kv, kvs[VALUES_KEYS];
	struct flags		*watched, *resynced, *half;
	int64_t			 rev;
	int			 round, slot, resets = 0;
	size_t			 n;
	bool			 lax = wconf != conf;

	fleettest_seed(seed);
	for (round = 0; round < 80; round++) {
		memset(&k, 0, sizeof(k));
		flags_free(writer);
		writer = flags_new(wconf);
		watched = flags_new(conf);
		half = flags_new(conf);
		for (rev = 2; rev < 2 + 16; rev++) {
			if ((slot = values_random_change(&k, rev)) < 0)
				continue;
			kv = kvv_of(k.key[slot], k.text[slot], rev);
			resets += strstr(k.text[slot], "\"reset\"") != NULL;
			watch_any(watched, &kv, lax);
			if (rev < 2 + 8)
				watch_any(half, &kv, lax);
		}
		ck_assert_msg(values_equal(watched, writer), "round %d", round);
		n = values_kvs(&k, kvs);
		resynced = flags_new(conf);
		resync_take(resynced, kvs, n);
		ck_assert_msg(values_equal(resynced, writer), "round %d", round);
		resync_take(half, kvs, n);
		ck_assert_msg(values_equal(half, writer), "round %d", round);
		flags_free(watched);
		flags_free(resynced);
		flags_free(half);
		values_keys_free(&k);
	}
	return resets;
}

START_TEST(test_values_resets_converge)
{
	ck_assert_int_gt(values_rounds(conf, 0x9e3779b97f4a7c15ULL), 20);
}
END_TEST

/*
 * The same with a writer that has a flag, in stage 1, these hosts lack:
 * its key and its place in each stage's values are rejected, and the
 * hosts still end with the writer's values of every flag they have.
 */
START_TEST(test_values_writer_ahead_converge)
{
	struct config	*wconf = parse_conf(legacy_text);

	ck_assert_int_gt(values_rounds(wconf, 0x2545f4914f6cdd1dULL), 20);
	flags_free(writer);
	writer = flags_new(conf);
	config_free(wconf);
}
END_TEST

static Suite *
fleet_values_suite(void)
{
	Suite	*s = suite_create("fleet_values");
	TCase	*tc = tcase_create("fleet_values");

	/* The random rounds are slow under sanitizers on a busy machine. */
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, values_setup, values_teardown);
	tcase_add_test(tc, test_values_converge);
	tcase_add_test(tc, test_values_steps);
	tcase_add_test(tc, test_values_unknown_flag);
	tcase_add_test(tc, test_values_stage_lacking);
	tcase_add_test(tc, test_values_absent);
	tcase_add_test(tc, test_values_after_held);
	tcase_add_test(tc, test_values_resets_converge);
	tcase_add_test(tc, test_values_writer_ahead_converge);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(fleet_values_suite)
