/*
 * check_flags_live.c: feature flags, migration stages and the shared table
 * with the real daemon (tests/harness.h): values set over the socket as
 * readers see them (libwarden in this process, `wardenctl flag read` in
 * another), cumulative stages and exact rollback, their events and waits,
 * the table deleted, unlinked or damaged and repaired under live readers,
 * every acknowledged change surviving SIGKILL and a torn journal, a full
 * disk, the guard, and the table as workers are handed it.
 *
 * Configurations are written with ' for " (dq()); no test needs a real '.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "murmur3.h"
#include "libwarden-test.h"
#include "table.h"
#include "util.h"
#include "warden.h"
#include "suite.h"

#define T_WAIT		5000	/* failure bound of one wait, ms */
#define T_CASE		30	/* failure bound of one test, s */
#define NIDS		1000	/* ids a rollout is checked over */
#define REPAIR_MS_MAX	250	/* SPEC 4: repaired within, ms */

/* The demo's seven flags, in stage order, and its four stages. */
enum { REG, MON, LOG, TEL, SPAN, SAMP, ENF, NFLAGS };

static const char *const fname[NFLAGS] = {
	"use_ets_agent_registry",
	"enable_migration_monitoring",
	"use_logger_error_context",
	"use_genserver_telemetry",
	"use_genserver_span_management",
	"use_ets_sampled_events",
	"enforce_no_process_dict",
};

#define DEMO_FLAGS							\
	"'flags': {"							\
	" 'use_ets_agent_registry': { 'default': false,"		\
	"   'description': 'registry in a shared table' },"		\
	" 'enable_migration_monitoring': { 'default': false },"	\
	" 'use_logger_error_context': { 'default': false },"		\
	" 'use_genserver_telemetry': { 'default': false },"		\
	" 'use_genserver_span_management': { 'default': false },"	\
	" 'use_ets_sampled_events': { 'default': false },"		\
	" 'enforce_no_process_dict': { 'default': false } },"		\
	" 'stages': ["							\
	"  { 'stage': 1, 'enable': ['use_ets_agent_registry',"	\
	"    'enable_migration_monitoring'] },"				\
	"  { 'stage': 2, 'enable': ['use_logger_error_context'] },"	\
	"  { 'stage': 3, 'enable': ['use_genserver_telemetry',"	\
	"    'use_genserver_span_management', 'use_ets_sampled_events'] },"\
	"  { 'stage': 4, 'enable': ['enforce_no_process_dict'] } ]"

/* Flags and stages, and no worker: nothing to wait for at start or stop. */
static const char conf_demo[] =
    "{ " DEMO_FLAGS ", 'supervisor': { 'children': [] } }";

/* A budget small enough to read back exactly in recovery. */
static const char conf_budget[] =
    "{ \"supervisor\": { \"strategy\": \"one_for_one\",\n"
    "  \"max_restarts\": 5, \"max_seconds\": 60, \"children\": [\n"
    "    { \"name\": \"a\", \"command\": [\"@WORKER@\"] },\n"
    "    { \"name\": \"b\", \"command\": [\"@WORKER@\"] } ] } }\n";

/* Flag values (0..100, fname order) at each stage from the defaults. */
static const int at_stage[5][NFLAGS] = {
	{ 0, 0, 0, 0, 0, 0, 0 },
	{ 100, 100, 0, 0, 0, 0, 0 },
	{ 100, 100, 100, 0, 0, 0, 0 },
	{ 100, 100, 100, 100, 100, 100, 0 },
	{ 100, 100, 100, 100, 100, 100, 100 },
};

/* --- text, JSON ---------------------------------------------------------- */

/* A protocol value (true, false, 0..100) as 0..100. */
static int
value_int(const json_t *v)
{
	if (json_is_true(v))
		return 100;
	if (json_is_false(v))
		return 0;
	ck_assert_msg(json_is_integer(v), "not a flag value: %s", dump(v));
	return (int)json_integer_value(v);
}

/* The value as the protocol writes it for a flag with a boolean default. */
static json_t *
value_json(int v)
{
	if (v == 0 || v == 100)
		return json_boolean(v == 100);
	return json_integer(v);
}

/* The member of an array of objects whose "name" is name, or NULL. */
static json_t *
by_name(const json_t *list, const char *name)
{
	json_t		*e;
	const char	*n;
	size_t		 i;

	json_array_foreach(list, i, e) {
		n = str(e, "name");
		if (n != NULL && strcmp(n, name) == 0)
			return e;
	}
	return NULL;
}

/* by is {"uid": this process's uid, "pid": this process}. */
static void
expect_by_me(const json_t *by, const char *what)
{
	ck_assert_msg(json_is_object(by), "%s: by is %s", what, dump(by));
	ck_assert_msg(num(by, "uid") == (long long)getuid() &&
	    num(by, "pid") == (long long)getpid(),
	    "%s: by %s, want uid %ld pid %ld", what, dump(by), (long)getuid(),
	    (long)getpid());
}

/* --- warden -------------------------------------------------------------- */

/* flag.set; the answer is the flag, with the new value. */
static json_t *
flag_set(struct harness *h, const char *name, int value, const char *reason)
{
	json_t	*params, *r;

	params = json_pack("{s:s, s:o}", "name", name, "value",
	    value_json(value));
	if (reason != NULL)
		json_object_set_new(params, "reason", json_string(reason));
	r = result(h, "flag.set", params);
	ck_assert_msg(str(r, "name") != NULL && strcmp(str(r, "name"),
	    name) == 0, "flag.set %s answered %s", name, dump(r));
	ck_assert_msg(value_int(json_object_get(r, "value")) == value,
	    "flag.set %s %d answered %s", name, value, dump(r));
	return r;
}

static void
flag_set_ok(struct harness *h, const char *name, int value)
{
	json_decref(flag_set(h, name, value, NULL));
}

/* stage.set or stage.rollback (stage < 0: the default); the new stage. */
static json_t *
stage_call(struct harness *h, const char *method, int stage)
{
	json_t	*r;

	r = result(h, method, stage >= 0 ? json_pack("{s:i}", "stage",
	    stage) : NULL);
	ck_assert_msg(json_is_array(json_object_get(r, "flags")),
	    "%s: no flags in %s", method, dump(r));
	return r;
}

static void
stage_ok(struct harness *h, const char *method, int stage, int want)
{
	json_t	*r = stage_call(h, method, stage);

	ck_assert_msg(num(r, "stage") == want, "%s %d: stage %lld, want %d",
	    method, stage, num(r, "stage"), want);
	json_decref(r);
}

static int
stage_now(struct harness *h)
{
	json_t	*r = result(h, "stage.get", NULL);
	int	 s = (int)num(r, "stage");

	json_decref(r);
	return s;
}

static json_t *
recovery_table(struct harness *h)
{
	json_t	*r = result(h, "recovery", NULL), *t;

	t = json_incref(json_object_get(r, "table"));
	ck_assert_msg(json_is_object(t), "recovery has no table: %s", dump(r));
	json_decref(r);
	return t;
}

/* --- readers ------------------------------------------------------------- */

/* Is id in flag's rollout at v percent (SPEC 4)? */
static bool
in_rollout(const char *flag, const char *id, int v)
{
	char	key[256];
	int	n;

	if (v >= 100)
		return true;
	if (v <= 0)
		return false;
	n = snprintf(key, sizeof(key), "%s:%s", flag, id);
	ck_assert(n > 0 && (size_t)n < sizeof(key));
	return murmur3_x86_32(key, (size_t)n, 0) % 10000 < (uint32_t)v * 100;
}

static void
id_of(char *buf, size_t len, int i)
{
	snprintf(buf, len, "user-%d", i);
}

/*
 * A reader of the table sees flag at value v. It is asked with the
 * opposite of each expected answer as its default, so that an answer
 * that came from the default rather than the table shows.
 */
static void
expect_reader_value(warden_table *t, const char *flag, int v)
{
	char	id[32];
	bool	want;
	int	i;

	want = v == 100;
	ck_assert_msg(warden_enabled(t, flag, !want) == want,
	    "reader: %s enabled %d, value %d", flag, !want, v);
	for (i = 0; i < NIDS; i++) {
		id_of(id, sizeof(id), i);
		want = in_rollout(flag, id, v);
		ck_assert_msg(warden_enabled_for(t, flag, id, !want) == want,
		    "reader: %s for %s is %d at %d%%", flag, id, !want, v);
	}
}

static void
expect_reader(warden_table *t, int stage, const int want[NFLAGS])
{
	int	i;

	ck_assert_msg(warden_stage(t) == stage, "reader: stage %d, want %d",
	    warden_stage(t), stage);
	for (i = 0; i < NFLAGS; i++)
		expect_reader_value(t, fname[i], want[i]);
}

/*
 * While the table is broken a reader answers from its last consistent
 * view or with the default; asked with the right value as the default,
 * either way it must give the right value (and never fail or crash).
 */
static void
expect_reader_safe(warden_table *t, const int want[NFLAGS])
{
	char	id[32];
	bool	w;
	int	i, j;

	for (i = 0; i < NFLAGS; i++) {
		ck_assert_msg(warden_enabled(t, fname[i], want[i] == 100) ==
		    (want[i] == 100), "reader on a broken table: %s wrong",
		    fname[i]);
		for (j = 0; j < 50; j++) {
			id_of(id, sizeof(id), j);
			w = in_rollout(fname[i], id, want[i]);
			ck_assert_msg(warden_enabled_for(t, fname[i], id,
			    w) == w, "reader on a broken table: %s for %s "
			    "wrong", fname[i], id);
		}
	}
	(void)warden_stage(t);
}

/*
 * A reader of h's table in this process. It tries to reattach on every
 * read that finds its table retired or damaged, not once per 100 ms, so
 * that a test can tell "reattached" from "not yet" without waiting.
 */
static warden_table *
reader_open(struct harness *h)
{
	warden_table	*t = warden_open(h->table);

	ck_assert_msg(t != NULL, "warden_open %s", h->table);
	ck_assert_msg(warden_test_attached(t), "reader not attached to %s",
	    h->table);
	warden_test_set_retry(t, 0);
	return t;
}

/* The generation a reader's table is at (one consistent read). */
static uint64_t
reader_generation(warden_table *t)
{
	uint64_t	gen = 0;
	int		stage;

	ck_assert_msg(warden_test_snapshot(t, &stage, &gen, NULL, 0) >= 0,
	    "reader: no consistent read of the table");
	return gen;
}

/* `wardenctl -j flag read FLAG [ID] --table NAME`: another process reading. */
static json_t *
ctl_read(struct harness *h, const char *flag, const char *id)
{
	json_error_t	 jerr;
	json_t		*j;
	char		*out = NULL, *err = NULL;
	int		 rc;

	if (id != NULL)
		rc = harness_ctl(h, &out, &err, "-j", "flag", "read", flag, id,
		    "--table", h->table, NULL);
	else
		rc = harness_ctl(h, &out, &err, "-j", "flag", "read", flag,
		    "--table", h->table, NULL);
	ck_assert_msg(rc == 0, "wardenctl flag read %s%s%s: exit %d: %s", flag,
	    id != NULL ? " " : "", id != NULL ? id : "", rc,
	    err != NULL ? err : "");
	j = json_loads(out, 0, &jerr);
	ck_assert_msg(j != NULL, "wardenctl flag read %s: not JSON: %s", flag,
	    out);
	free(out);
	free(err);
	return j;
}

static void
expect_ctl_read(struct harness *h, const char *flag, const char *id,
    bool enabled, int stage)
{
	json_t	*j = ctl_read(h, flag, id);

	ck_assert_msg(json_is_boolean(json_object_get(j, "enabled")) &&
	    json_is_true(json_object_get(j, "enabled")) == enabled,
	    "wardenctl flag read %s%s%s: %s, want enabled %d", flag,
	    id != NULL ? " " : "", id != NULL ? id : "", dump(j), enabled);
	ck_assert_msg(num(j, "stage") == stage,
	    "wardenctl flag read %s: %s, want stage %d", flag, dump(j), stage);
	json_decref(j);
}

/*
 * Values and stage as warden holds them (flag.list) and, when t is not
 * NULL, as a reader of the table sees them.
 */
static void
expect_flags(struct harness *h, warden_table *t, int stage,
    const int want[NFLAGS])
{
	json_t	*r, *f;
	int	 i, v;

	r = result(h, "flag.list", NULL);
	ck_assert_msg(num(r, "stage") == stage,
	    "flag.list: stage %lld, want %d", num(r, "stage"), stage);
	for (i = 0; i < NFLAGS; i++) {
		f = by_name(json_object_get(r, "flags"), fname[i]);
		ck_assert_msg(f != NULL, "flag.list has no %s", fname[i]);
		v = value_int(json_object_get(f, "value"));
		ck_assert_msg(v == want[i], "%s is %d, want %d (stage %d)",
		    fname[i], v, want[i], stage);
	}
	json_decref(r);
	if (t != NULL)
		expect_reader(t, stage, want);
}

/* --- events and waits ---------------------------------------------------- */

static size_t
count_type(const json_t *list, const char *type)
{
	json_t		*ev;
	const char	*t;
	size_t		 i, n = 0;

	json_array_foreach(list, i, ev)
		if ((t = str(ev, "type")) != NULL && strcmp(t, type) == 0)
			n++;
	return n;
}

/* The stage.changed at the end of list is from -> to, of this kind. */
static void
expect_stage_event(const json_t *list, int from, int to, const char *kind)
{
	json_t	*ev = json_array_get(list, json_array_size(list) - 1);

	ck_assert_msg(num(ev, "from") == from && num(ev, "to") == to &&
	    str(ev, "kind") != NULL && strcmp(str(ev, "kind"), kind) == 0,
	    "stage.changed %s, want %d -> %d (%s)", dump(ev), from, to, kind);
}

/*
 * Send a wait for cond on a connection of its own and prove warden holds
 * it: a ping sent after it on the same connection is answered first.
 */
static struct harness_conn *
wait_held(struct harness *h, json_t *cond, long long *idp)
{
	struct harness_conn	*c;
	json_t			*msg, *jid;
	long long		 ping;

	c = harness_conn_open(h);
	ck_assert_msg(c != NULL, "cannot connect");
	*idp = harness_conn_request(c, "wait", json_pack("{s:o, s:i}",
	    "condition", cond, "timeout_ms", T_WAIT));
	ck_assert(*idp != -1);
	ping = harness_conn_request(c, "ping", NULL);
	ck_assert(ping != -1);
	msg = harness_read_line(c, T_WAIT);
	ck_assert_msg(msg != NULL, "no answer to ping");
	jid = json_object_get(msg, "id");
	ck_assert_msg(json_is_integer(jid) && json_integer_value(jid) == ping,
	    "the wait was answered before the change: %s", dump(msg));
	json_decref(msg);
	return c;
}

/* The answer of the wait held on c: its result. */
static json_t *
wait_answer(struct harness_conn *c, long long id)
{
	json_t	*msg, *r;

	msg = harness_read_response(c, id, T_WAIT);
	ck_assert_msg(msg != NULL, "the wait was not answered");
	r = json_object_get(msg, "result");
	ck_assert_msg(r != NULL, "the wait failed: %s", dump(msg));
	json_incref(r);
	json_decref(msg);
	harness_conn_close(c);
	return r;
}

/* --- 1. flags as readers see them ---------------------------------------- */

START_TEST(test_flag_set_readers)
{
	struct harness	 h;
	warden_table	*t;
	json_t		*r;
	char		 id[32], in_id[32] = "", out_id[32] = "";
	const char	*x = fname[SAMP];
	int		 i, on = 0;

	start(&h, conf_demo);
	t = reader_open(&h);
	expect_reader_value(t, x, 0);
	expect_ctl_read(&h, x, NULL, false, 0);

	/* On: the answer is the flag, stamped with who and why. */
	r = flag_set(&h, x, 100, "canary");
	expect_by_me(json_object_get(r, "changed_by"), "flag.set");
	ck_assert_str_eq(str(r, "reason"), "canary");
	ck_assert_msg(json_is_string(json_object_get(r, "changed_at")),
	    "changed_at: %s", dump(r));
	json_decref(r);
	expect_ctl_read(&h, x, NULL, true, 0);
	expect_ctl_read(&h, x, "user-1", true, 0);
	expect_reader_value(t, x, 100);

	/* 30%: exactly the ids whose bucket is under 3000. */
	flag_set_ok(&h, x, 30);
	expect_reader_value(t, x, 30);
	for (i = 0; i < NIDS; i++) {
		id_of(id, sizeof(id), i);
		if (in_rollout(x, id, 30)) {
			on++;
			if (in_id[0] == '\0')
				snprintf(in_id, sizeof(in_id), "%s", id);
		} else if (out_id[0] == '\0')
			snprintf(out_id, sizeof(out_id), "%s", id);
	}
	ck_assert_msg(on > 250 && on < 350, "%d of %d ids at 30%%", on, NIDS);
	ck_assert_msg(!warden_enabled(t, x, true),
	    "a 30%% rollout is not \"enabled\"");
	expect_ctl_read(&h, x, NULL, false, 0);
	expect_ctl_read(&h, x, in_id, true, 0);
	expect_ctl_read(&h, x, out_id, false, 0);

	/* Raising the percentage only adds ids. */
	flag_set_ok(&h, x, 50);
	for (i = 0; i < NIDS; i++) {
		id_of(id, sizeof(id), i);
		if (in_rollout(x, id, 30))
			ck_assert_msg(warden_enabled_for(t, x, id, false),
			    "%s left the rollout going from 30%% to 50%%", id);
	}
	expect_reader_value(t, x, 50);

	/* Off. */
	flag_set_ok(&h, x, 0);
	expect_reader_value(t, x, 0);
	expect_ctl_read(&h, x, NULL, false, 0);
	expect_ctl_read(&h, x, in_id, false, 0);
	expect_flags(&h, t, 0, at_stage[0]);
	warden_close(t);
	stop(&h);
}
END_TEST

START_TEST(test_flag_set_errors)
{
	struct harness	 h;
	warden_table	*t;
	json_t		*r;
	uint64_t	 gen;

	start(&h, conf_demo);
	t = reader_open(&h);
	r = result(&h, "table.info", NULL);
	gen = (uint64_t)num(r, "generation");
	json_decref(r);

	expect_error(&h, "flag.set", json_pack("{s:s, s:b}", "name",
	    "no_such_flag", "value", 1), -32001, "not_found");
	expect_error(&h, "flag.get", json_pack("{s:s}", "name",
	    "no_such_flag"), -32001, "not_found");
	expect_error(&h, "flag.set", json_pack("{s:s, s:i}", "name",
	    fname[REG], "value", 101), -32602, "invalid_params");
	expect_error(&h, "flag.set", json_pack("{s:s, s:i}", "name",
	    fname[REG], "value", -1), -32602, "invalid_params");
	expect_error(&h, "flag.set", json_pack("{s:s, s:s}", "name",
	    fname[REG], "value", "on"), -32602, "invalid_params");
	expect_error(&h, "flag.set", json_pack("{s:s, s:f}", "name",
	    fname[REG], "value", 0.5), -32602, "invalid_params");
	expect_error(&h, "flag.set", json_pack("{s:s}", "name", fname[REG]),
	    -32602, "invalid_params");
	expect_error(&h, "flag.set", json_pack("{s:s, s:b, s:i}", "name",
	    fname[REG], "value", 1, "colour", 3), -32602, "invalid_params");

	/* Nothing changed, nothing was published. */
	expect_flags(&h, t, 0, at_stage[0]);
	r = result(&h, "table.info", NULL);
	ck_assert_msg((uint64_t)num(r, "generation") == gen,
	    "refused changes published the table: %s", dump(r));
	json_decref(r);
	warden_close(t);
	stop(&h);
}
END_TEST

/* --- 2. stages ----------------------------------------------------------- */

START_TEST(test_stage_cumulative)
{
	struct harness		 h;
	struct harness_conn	*c;
	warden_table		*t;
	json_t			*r, *list, *ev, *f;
	bool			 seen[NFLAGS] = { false };
	size_t			 i;
	int			 k;

	start(&h, conf_demo);
	t = reader_open(&h);
	expect_flags(&h, t, 0, at_stage[0]);
	c = subscribe(&h, "flag", "stage", NULL);

	/* 0 -> 4 applies stages 1..4: all seven on, as one change. */
	r = stage_call(&h, "stage.set", 4);
	ck_assert_int_eq(num(r, "stage"), 4);
	for (k = 0; k < NFLAGS; k++) {
		f = by_name(json_object_get(r, "flags"), fname[k]);
		ck_assert_msg(f != NULL && json_is_true(json_object_get(f,
		    "value")), "stage.set 4 answered %s", dump(r));
	}
	json_decref(r);
	expect_flags(&h, t, 4, at_stage[4]);
	expect_ctl_read(&h, fname[ENF], NULL, true, 4);
	expect_ctl_read(&h, fname[REG], NULL, true, 4);

	/* One flag.changed per flag, then the stage. */
	list = events_until(c, "stage.changed", NULL, NULL);
	ck_assert_msg(count_type(list, "flag.changed") == NFLAGS,
	    "events: %s", dump(list));
	json_array_foreach(list, i, ev) {
		if (strcmp(str(ev, "type"), "flag.changed") != 0)
			continue;
		for (k = 0; k < NFLAGS; k++)
			if (strcmp(str(ev, "name"), fname[k]) == 0)
				break;
		ck_assert_msg(k < NFLAGS && !seen[k], "event %s", dump(ev));
		seen[k] = true;
		ck_assert_msg(json_is_false(json_object_get(ev, "old")) &&
		    json_is_true(json_object_get(ev, "new")), "event %s",
		    dump(ev));
		expect_by_me(json_object_get(ev, "by"), "flag.changed");
	}
	expect_stage_event(list, 0, 4, "set");
	expect_by_me(json_object_get(json_array_get(list,
	    json_array_size(list) - 1), "by"), "stage.changed");
	json_decref(list);

	/* Going down is a rollback; a stage not configured is not found. */
	expect_error(&h, "stage.set", json_pack("{s:i}", "stage", 2), -32004,
	    "conflict");
	expect_error(&h, "stage.set", json_pack("{s:i}", "stage", 4), -32004,
	    "conflict");
	expect_error(&h, "stage.set", json_pack("{s:i}", "stage", 9), -32001,
	    "not_found");
	expect_error(&h, "stage.rollback", json_pack("{s:i}", "stage", 4),
	    -32004, "conflict");
	expect_error(&h, "stage.rollback", json_pack("{s:i}", "stage", 7),
	    -32001, "not_found");
	expect_flags(&h, t, 4, at_stage[4]);

	/* Emergency: defaults and stage 0 from anywhere. */
	stage_ok(&h, "stage.emergency", -1, 0);
	expect_flags(&h, t, 0, at_stage[0]);
	expect_ctl_read(&h, fname[ENF], NULL, false, 0);
	list = events_until(c, "stage.changed", NULL, NULL);
	ck_assert_msg(count_type(list, "flag.changed") == NFLAGS,
	    "events: %s", dump(list));
	expect_stage_event(list, 4, 0, "emergency");
	json_decref(list);

	/* One stage at a time, each cumulative. */
	for (k = 1; k <= 4; k++) {
		stage_ok(&h, "stage.set", k, k);
		expect_flags(&h, t, k, at_stage[k]);
	}
	harness_conn_close(c);
	warden_close(t);
	stop(&h);
}
END_TEST

/* The history entry i is from -> to of this kind, made by this process. */
static void
expect_history(const json_t *hist, size_t i, int from, int to,
    const char *kind)
{
	json_t	*e = json_array_get(hist, i);

	ck_assert_msg(e != NULL, "history has no entry %zu: %s", i,
	    dump(hist));
	ck_assert_msg(num(e, "from") == from && num(e, "to") == to &&
	    str(e, "kind") != NULL && strcmp(str(e, "kind"), kind) == 0,
	    "history[%zu] %s, want %d -> %d (%s)", i, dump(e), from, to, kind);
	ck_assert_msg(json_is_string(json_object_get(e, "at")),
	    "history[%zu] has no time: %s", i, dump(e));
}

START_TEST(test_stage_rollback)
{
	struct harness		 h;
	struct harness_conn	*c;
	warden_table		*t;
	json_t			*r, *hist, *list, *ev;
	size_t			 i;
	/* Stage 0 with one manual change. */
	const int		 v0[NFLAGS] = { 0, 0, 10, 0, 0, 0, 0 };
	/* Stage 2 with two manual changes on top. */
	const int		 v2m[NFLAGS] = { 100, 0, 100, 0, 0, 25, 0 };
	/* Stage 3 applied over that. */
	const int		 v3m[NFLAGS] = { 100, 0, 100, 100, 100, 100,
				    0 };
	const int		 v4m[NFLAGS] = { 100, 0, 100, 100, 100, 100,
				    100 };

	start(&h, conf_demo);
	t = reader_open(&h);
	flag_set_ok(&h, fname[LOG], 10);
	stage_ok(&h, "stage.set", 2, 2);
	expect_flags(&h, t, 2, at_stage[2]);
	flag_set_ok(&h, fname[SAMP], 25);
	flag_set_ok(&h, fname[MON], 0);
	expect_flags(&h, t, 2, v2m);
	stage_ok(&h, "stage.set", 4, 4);
	expect_flags(&h, t, 4, v4m);

	c = subscribe(&h, "flag", "stage", NULL);
	/* To 3: the values saved before stage 4. */
	stage_ok(&h, "stage.rollback", 3, 3);
	expect_flags(&h, t, 3, v3m);
	list = events_until(c, "stage.changed", NULL, NULL);
	ck_assert_msg(count_type(list, "flag.changed") == 1, "events: %s",
	    dump(list));
	ev = json_array_get(list, 0);
	ck_assert_msg(strcmp(str(ev, "name"), fname[ENF]) == 0 &&
	    json_is_true(json_object_get(ev, "old")) &&
	    json_is_false(json_object_get(ev, "new")), "event %s", dump(ev));
	expect_stage_event(list, 4, 3, "rollback");
	json_decref(list);

	/* One below by default: to 2, the manual 25% and "off" come back. */
	stage_ok(&h, "stage.rollback", -1, 2);
	expect_flags(&h, t, 2, v2m);
	expect_ctl_read(&h, fname[MON], NULL, false, 2);
	list = events_until(c, "stage.changed", NULL, NULL);
	ck_assert_msg(count_type(list, "flag.changed") == 3, "events: %s",
	    dump(list));
	json_array_foreach(list, i, ev)
		if (strcmp(str(ev, "type"), "flag.changed") == 0 &&
		    strcmp(str(ev, "name"), fname[SAMP]) == 0)
			ck_assert_msg(json_is_true(json_object_get(ev,
			    "old")) && json_integer_value(json_object_get(ev,
			    "new")) == 25, "event %s", dump(ev));
	expect_stage_event(list, 3, 2, "rollback");
	json_decref(list);
	expect_error(&h, "stage.rollback", json_pack("{s:i}", "stage", 2),
	    -32004, "conflict");

	/* To 0: the values before stage 1, manual change included. */
	stage_ok(&h, "stage.rollback", 0, 0);
	expect_flags(&h, t, 0, v0);
	list = events_until(c, "stage.changed", NULL, NULL);
	expect_stage_event(list, 2, 0, "rollback");
	json_decref(list);
	expect_error(&h, "stage.rollback", NULL, -32004, "conflict");

	/* Up again, then the emergency: defaults, not the values before. */
	stage_ok(&h, "stage.set", 3, 3);
	expect_flags(&h, t, 3, at_stage[3]);
	list = events_until(c, "stage.changed", NULL, NULL);
	expect_stage_event(list, 0, 3, "set");
	json_decref(list);
	r = result(&h, "stage.emergency", json_pack("{s:s}", "reason",
	    "drill"));
	ck_assert_int_eq(num(r, "stage"), 0);
	json_decref(r);
	expect_flags(&h, t, 0, at_stage[0]);
	list = events_until(c, "stage.changed", NULL, NULL);
	expect_stage_event(list, 3, 0, "emergency");
	ev = json_array_get(list, json_array_size(list) - 1);
	ck_assert_msg(str(ev, "reason") != NULL &&
	    strcmp(str(ev, "reason"), "drill") == 0, "event %s", dump(ev));
	json_decref(list);

	/* Every stage change on record, oldest first. */
	r = result(&h, "stage.get", NULL);
	ck_assert_int_eq(num(r, "stage"), 0);
	ck_assert_int_eq(json_array_size(json_object_get(r, "stages")), 4);
	hist = json_object_get(r, "history");
	ck_assert_msg(json_array_size(hist) == 7, "history %s", dump(hist));
	expect_history(hist, 0, 0, 2, "set");
	expect_history(hist, 1, 2, 4, "set");
	expect_history(hist, 2, 4, 3, "rollback");
	expect_history(hist, 3, 3, 2, "rollback");
	expect_history(hist, 4, 2, 0, "rollback");
	expect_history(hist, 5, 0, 3, "set");
	expect_history(hist, 6, 3, 0, "emergency");
	json_array_foreach(hist, i, ev)
		expect_by_me(json_object_get(ev, "by"), "history");
	ck_assert_str_eq(str(json_array_get(hist, 6), "reason"), "drill");
	json_decref(r);
	harness_conn_close(c);
	warden_close(t);
	stop(&h);
}
END_TEST

START_TEST(test_wait_stage_and_flag)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*r;
	long long		 id;

	start(&h, conf_demo);

	c = wait_held(&h, json_pack("{s:i}", "stage", 2), &id);
	stage_ok(&h, "stage.set", 2, 2);
	r = wait_answer(c, id);
	ck_assert_msg(num(r, "stage") == 2, "wait answered %s", dump(r));
	json_decref(r);

	c = wait_held(&h, json_pack("{s:s, s:i}", "flag", fname[SAMP],
	    "value", 40), &id);
	flag_set_ok(&h, fname[SAMP], 39);
	flag_set_ok(&h, fname[SAMP], 40);
	r = wait_answer(c, id);
	ck_assert_msg(strcmp(str(r, "name"), fname[SAMP]) == 0 &&
	    value_int(json_object_get(r, "value")) == 40, "wait answered %s",
	    dump(r));
	json_decref(r);

	/* A flag turned on by a stage. */
	c = wait_held(&h, json_pack("{s:s, s:b}", "flag", fname[TEL],
	    "value", 1), &id);
	stage_ok(&h, "stage.set", 3, 3);
	r = wait_answer(c, id);
	ck_assert_msg(json_is_true(json_object_get(r, "value")),
	    "wait answered %s", dump(r));
	json_decref(r);

	/* A stage reached going down. */
	c = wait_held(&h, json_pack("{s:i}", "stage", 0), &id);
	stage_ok(&h, "stage.emergency", -1, 0);
	r = wait_answer(c, id);
	ck_assert_msg(num(r, "stage") == 0, "wait answered %s", dump(r));
	json_decref(r);

	expect_error(&h, "wait", json_pack("{s:{s:s, s:b}}", "condition",
	    "flag", "no_such_flag", "value", 1), -32001, "not_found");
	stop(&h);
}
END_TEST

/* --- 3, 4. the table broken and repaired --------------------------------- */

enum fault { FAULT_DELETE, FAULT_UNLINK, FAULT_CORRUPT };

static void
shm_path(struct harness *h, char *buf, size_t len)
{
	ck_assert((size_t)snprintf(buf, len, "/dev/shm%s", h->table) < len);
}

/*
 * Break the table with flags on (stage 3, one rollout) while a reader
 * holds it, and see warden repair it: the events, the count, readers old
 * and new.
 */
static void
table_fault(enum fault how)
{
	struct harness		 h;
	struct harness_conn	*c;
	warden_table		*old, *fresh;
	json_t			*r, *list, *ev;
	char			 path[PATH_MAX];
	struct stat		 st;
	uint64_t		 gen;
	int			 want[NFLAGS];

	start(&h, conf_demo);
	stage_ok(&h, "stage.set", 3, 3);
	flag_set_ok(&h, fname[ENF], 30);
	memcpy(want, at_stage[3], sizeof(want));
	want[ENF] = 30;
	old = reader_open(&h);
	expect_flags(&h, old, 3, want);
	r = recovery_table(&h);
	ck_assert_int_eq(num(r, "repairs"), 0);
	json_decref(r);

	c = subscribe(&h, "table", NULL);
	switch (how) {
	case FAULT_DELETE:
		r = result(&h, "table.delete", NULL);
		ck_assert_msg(json_is_true(json_object_get(r, "deleted")),
		    "table.delete answered %s", dump(r));
		json_decref(r);
		break;
	case FAULT_UNLINK:
		shm_path(&h, path, sizeof(path));
		ck_assert_msg(unlink(path) == 0, "unlink %s: %s", path,
		    strerror(errno));
		break;
	case FAULT_CORRUPT:
		r = result(&h, "table.corrupt", NULL);
		ck_assert_msg(json_is_true(json_object_get(r, "corrupted")),
		    "table.corrupt answered %s", dump(r));
		json_decref(r);
		break;
	}
	/* Meanwhile the reader answers, and never wrongly. */
	expect_reader_safe(old, want);

	list = events_until(c, "table.repaired", NULL, NULL);
	if (how != FAULT_CORRUPT)
		ck_assert_msg(count_type(list, "table.deleted") == 1 &&
		    strcmp(str(json_array_get(list, 0), "type"),
		    "table.deleted") == 0, "events %s", dump(list));
	ev = json_array_get(list, json_array_size(list) - 1);
	ck_assert_msg(str(ev, "name") != NULL && strcmp(str(ev, "name"),
	    h.table) == 0, "table.repaired %s", dump(ev));
	ck_assert_msg(json_is_number(json_object_get(ev, "repair_ms")) &&
	    json_number_value(json_object_get(ev, "repair_ms")) <=
	    REPAIR_MS_MAX, "repaired too late: %s", dump(ev));
	json_decref(list);

	/* Counted; healthy again. */
	r = recovery_table(&h);
	ck_assert_msg(json_is_true(json_object_get(r, "healthy")) &&
	    num(r, "repairs") == 1 &&
	    json_is_number(json_object_get(r, "last_repair_ms")) &&
	    json_number_value(json_object_get(r, "last_repair_ms")) >= 0,
	    "recovery.table %s", dump(r));
	json_decref(r);
	r = result(&h, "table.info", NULL);
	ck_assert_msg(strcmp(str(r, "name"), h.table) == 0 &&
	    num(r, "repairs") == 1 && json_is_true(json_object_get(r,
	    "healthy")), "table.info %s", dump(r));
	gen = (uint64_t)num(r, "generation");
	json_decref(r);
	shm_path(&h, path, sizeof(path));
	ck_assert_msg(stat(path, &st) == 0, "%s not there again: %s", path,
	    strerror(errno));
	ck_assert_msg((st.st_mode & 07777) == 0644, "%s has mode %o", path,
	    (unsigned)(st.st_mode & 07777));

	/* Flags intact for a fresh reader, here and in another process. */
	fresh = reader_open(&h);
	expect_flags(&h, fresh, 3, want);
	expect_ctl_read(&h, fname[TEL], NULL, true, 3);
	expect_ctl_read(&h, fname[ENF], NULL, false, 3);

	/* The old handle reads the values, from the fresh table. */
	expect_reader(old, 3, want);
	ck_assert_msg(reader_generation(old) == gen,
	    "old reader at generation %llu, table at %llu",
	    (unsigned long long)reader_generation(old),
	    (unsigned long long)gen);
	/* A change now is only in the fresh table: both readers see it. */
	flag_set_ok(&h, fname[ENF], 100);
	want[ENF] = 100;
	expect_reader(old, 3, want);
	expect_reader(fresh, 3, want);
	warden_close(old);
	warden_close(fresh);
	harness_conn_close(c);
	stop(&h);
}

START_TEST(test_table_delete)
{
	table_fault(FAULT_DELETE);
}
END_TEST

START_TEST(test_table_unlink_outside)
{
	table_fault(FAULT_UNLINK);
}
END_TEST

START_TEST(test_table_corrupt)
{
	table_fault(FAULT_CORRUPT);
}
END_TEST

/* {"recovered": true} holds only once the deleted table is back. */
START_TEST(test_wait_recovered_table)
{
	struct harness	 h;
	json_t		*r, *p, *t;
	int		 i;

	start(&h, conf_demo);
	stage_ok(&h, "stage.set", 2, 2);
	for (i = 1; i <= 3; i++) {
		r = result(&h, i == 2 ? "table.corrupt" : "table.delete",
		    NULL);
		json_decref(r);
		p = json_pack("{s:{s:b}, s:i}", "condition", "recovered", 1,
		    "timeout_ms", T_WAIT);
		r = result(&h, "wait", p);
		t = json_object_get(r, "table");
		ck_assert_msg(json_is_object(t) &&
		    json_is_true(json_object_get(t, "healthy")) &&
		    num(t, "repairs") == i, "wait recovered answered %s",
		    dump(r));
		json_decref(r);
	}
	t = recovery_table(&h);
	ck_assert_msg(json_is_true(json_object_get(t, "healthy")) &&
	    num(t, "repairs") == 3, "recovery.table %s", dump(t));
	json_decref(t);
	stop(&h);
}
END_TEST

/* --- 5. durability ------------------------------------------------------- */

/* flag.list's flags and stage.get: the state to compare across a restart. */
static json_t *
flags_state_of(struct harness *h)
{
	json_t	*fl, *st, *s;

	fl = result(h, "flag.list", NULL);
	st = result(h, "stage.get", NULL);
	s = json_pack("{s:O, s:o}", "flags", json_object_get(fl, "flags"),
	    "stage", st);
	json_decref(fl);
	return s;
}

static void
expect_same_state(struct harness *h, const json_t *before, const char *when)
{
	json_t	*now = flags_state_of(h);

	ck_assert_msg(json_equal(now, before), "%s:\n  before %s\n  now    %s",
	    when, dump(before), dump(now));
	json_decref(now);
}

/* A few changes of every kind, ending at stage 3 with extras. */
static void
make_history(struct harness *h, int want[NFLAGS])
{
	json_decref(flag_set(h, fname[LOG], 30, "half of them"));
	stage_ok(h, "stage.set", 1, 1);
	stage_ok(h, "stage.set", 3, 3);
	stage_ok(h, "stage.rollback", 2, 2);
	stage_ok(h, "stage.set", 3, 3);
	json_decref(flag_set(h, fname[ENF], 100, "early"));
	memcpy(want, at_stage[3], NFLAGS * sizeof(*want));
	want[ENF] = 100;
}

START_TEST(test_durable_sigkill)
{
	struct harness	 h;
	warden_table	*old, *fresh;
	json_t		*before, *r;
	int		 want[NFLAGS];

	start(&h, conf_demo);
	make_history(&h, want);
	before = flags_state_of(&h);
	old = reader_open(&h);
	expect_reader(old, 3, want);

	kill_warden(&h);
	/* The table outlives warden: readers go on reading it. */
	expect_reader(old, 3, want);
	restart(&h);
	expect_same_state(&h, before, "after SIGKILL");
	r = result(&h, "stage.get", NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r, "history")), 4);
	json_decref(r);

	fresh = reader_open(&h);
	expect_flags(&h, fresh, 3, want);
	/* The old handle moves to the new warden's table. */
	flag_set_ok(&h, fname[SAMP], 20);
	want[SAMP] = 20;
	expect_reader(old, 3, want);
	expect_reader(fresh, 3, want);
	json_decref(before);
	before = flags_state_of(&h);

	/* Twice, and once after a clean stop: the same state every time. */
	kill_warden(&h);
	restart(&h);
	expect_same_state(&h, before, "after a second SIGKILL");
	r = result(&h, "shutdown", NULL);
	json_decref(r);
	ck_assert_int_eq(harness_wait_exit(&h, T_WAIT), 0);
	restart(&h);
	expect_same_state(&h, before, "after a clean stop");
	expect_flags(&h, old, 3, want);
	json_decref(before);
	warden_close(old);
	warden_close(fresh);
	stop(&h);
}
END_TEST

static void
append_file(const char *path, const char *text)
{
	int	fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	ck_assert_msg(fd != -1, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(util_write_all(fd, text, strlen(text)), 0);
	ck_assert_int_eq(close(fd), 0);
}

START_TEST(test_torn_journal)
{
	struct harness	 h;
	json_t		*before;
	char		*journal, *log, *text;
	off_t		 len;
	int		 want[NFLAGS];

	start(&h, conf_demo);
	make_history(&h, want);
	before = flags_state_of(&h);
	kill_warden(&h);

	/* A record cut short by the crash: no newline. */
	journal = harness_path(&h, "state/journal");
	len = file_size(journal);
	ck_assert_msg(len > 0, "the journal is empty after SIGKILL");
	append_file(journal, "1f2e3d4c {\"v\":1,\"seq\":99,\"op\":\"flag.se");
	restart(&h);
	expect_same_state(&h, before, "after a torn journal tail");
	log = harness_log(&h);
	ck_assert_msg(log != NULL && strstr(log, "dropped") != NULL,
	    "warden did not say it cut the journal's tail");
	free(log);
	/*
	 * The good records are in the state warden pinned at start (a
	 * snapshot, the journal afresh); nothing of the torn one is left.
	 */
	text = harness_read_file(journal);
	ck_assert_msg(text != NULL, "read %s", journal);
	ck_assert_msg(strstr(text, "\"seq\":99") == NULL,
	    "the torn record is still in the journal: %s", text);
	free(text);

	/* Changes after the cut go after the good records and stay. */
	flag_set_ok(&h, fname[SAMP], 20);
	want[SAMP] = 20;
	json_decref(before);
	before = flags_state_of(&h);
	kill_warden(&h);
	restart(&h);
	expect_same_state(&h, before, "after a change following the cut");
	expect_flags(&h, NULL, 3, want);
	json_decref(before);
	free(journal);
	stop(&h);
}
END_TEST

/* --- 6. a full disk ------------------------------------------------------ */

/*
 * state_dir on a 32 KiB tmpfs in a mount namespace of this test's own: the
 * mount goes away with the test's processes however the test ends.
 */
static bool
mount_tiny(const char *dir)
{
	if (geteuid() != 0) {
		fprintf(stderr, "full disk: not root; skipped\n");
		return false;
	}
	if (unshare(CLONE_NEWNS) == -1) {
		fprintf(stderr, "full disk: unshare: %s; skipped\n",
		    strerror(errno));
		return false;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=32k,mode=0750") == -1) {
		fprintf(stderr, "full disk: mount tmpfs on %s: %s; skipped\n",
		    dir, strerror(errno));
		return false;
	}
	return true;
}

/*
 * A failed assertion leaves the test with _exit(), before it unmounts, and
 * the harness cannot remove a folder holding a mount point. A janitor in a
 * session of its own (Check kills the test's process group) waits for the
 * test to be gone, detaches the file system and removes the mount point,
 * so the harness or the janitor itself can remove DIR.
 */
static void
janitor(const char *fs, const char *dir)
{
	char	c;
	pid_t	pid;
	int	p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		(void)setsid();
		close(p[1]);
		/* Only this test holds the other end: EOF when it is gone. */
		while (read(p[0], &c, 1) == -1 && errno == EINTR)
			;
		(void)umount2(fs, MNT_DETACH);
		(void)rmdir(fs);
		(void)rmdir(dir);
		_exit(0);
	}
	close(p[0]);
}

/* Write path until the file system is full; ENOSPC must be why it stops. */
static void
fill(const char *path)
{
	char	buf[4096];
	ssize_t	n;
	int	fd;

	memset(buf, 'x', sizeof(buf));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_msg(fd != -1, "open %s: %s", path, strerror(errno));
	for (;;) {
		n = write(fd, buf, sizeof(buf));
		if (n > 0)
			continue;
		ck_assert_msg(n == -1, "write %s returned 0", path);
		if (errno == EINTR)
			continue;
		ck_assert_msg(errno == ENOSPC, "write %s: %s", path,
		    strerror(errno));
		break;
	}
	ck_assert_int_eq(close(fd), 0);
}

/*
 * A reload whose pin cannot be written: it says so, and no change is
 * taken until the pin is; the flags stay as want (stage 0).
 */
static void
reload_unpinned(struct harness *h, warden_table *t, const int want[NFLAGS])
{
	harness_log_mark(h);
	json_decref(result(h, "config.reload", NULL));
	ck_assert_int_eq(harness_wait_log(h, "cannot pin the state after "
	    "the reload", T_WAIT), 0);
	expect_error(h, "flag.set", json_pack("{s:s, s:b}", "name",
	    fname[LOG], "value", 1), -32005, "unavailable");
	expect_flags(h, t, 0, want);
}

START_TEST(test_full_disk)
{
	struct harness	 h;
	warden_table	*t;
	json_t		*r;
	char		*fs, *filler, *journal;
	uint64_t	 gen;
	int		 want[NFLAGS];

	prepare(&h, "{ 'state_dir': 'statefs', " DEMO_FLAGS ","
	    " 'supervisor': { 'children': [] } }");
	fs = harness_path(&h, "statefs");
	if (!mount_tiny(fs)) {
		free(fs);
		harness_cleanup(&h);
		return;
	}
	janitor(fs, h.dir);
	filler = harness_path(&h, "statefs/filler");
	journal = harness_path(&h, "statefs/journal");
	ck_assert_msg(harness_launch(&h) == 0, "warden did not start");
	json_decref(flag_set(&h, fname[LOG], 30, "before the disk filled"));
	/* A clean stop leaves the change in the snapshot, the journal empty. */
	json_decref(result(&h, "shutdown", NULL));
	ck_assert_int_eq(harness_wait_exit(&h, T_WAIT), 0);
	restart(&h);
	/* So the next record needs a block of its own. */
	ck_assert_int_eq(file_size(journal), 0);

	memcpy(want, at_stage[0], sizeof(want));
	want[LOG] = 30;
	t = reader_open(&h);
	expect_flags(&h, t, 0, want);
	r = result(&h, "table.info", NULL);
	gen = (uint64_t)num(r, "generation");
	json_decref(r);

	fill(filler);
	expect_error(&h, "flag.set", json_pack("{s:s, s:b}", "name",
	    fname[LOG], "value", 1), -32005, "unavailable");
	expect_error(&h, "stage.set", json_pack("{s:i}", "stage", 2), -32005,
	    "unavailable");
	expect_error(&h, "stage.emergency", NULL, -32005, "unavailable");
	/* Refused means unchanged: in warden, in the table, on disk. */
	expect_flags(&h, t, 0, want);
	expect_ctl_read(&h, fname[LOG], NULL, false, 0);
	r = result(&h, "table.info", NULL);
	ck_assert_msg((uint64_t)num(r, "generation") == gen,
	    "a refused change was published: %s", dump(r));
	json_decref(r);
	ck_assert_int_eq(file_size(journal), 0);

	/*
	 * A reload pins the state it makes; it cannot now, and no change
	 * is taken until it has.
	 */
	reload_unpinned(&h, t, want);

	ck_assert_int_eq(unlink(filler), 0);
	flag_set_ok(&h, fname[LOG], 100);
	want[LOG] = 100;
	expect_flags(&h, t, 0, want);
	expect_ctl_read(&h, fname[LOG], NULL, true, 0);
	ck_assert_msg(file_size(journal) > 0,
	    "the change is not in the journal");

	json_decref(result(&h, "shutdown", NULL));
	ck_assert_int_eq(harness_wait_exit(&h, T_WAIT), 0);
	ck_assert_msg(umount2(fs, 0) == 0, "umount %s: %s", fs,
	    strerror(errno));
	warden_close(t);
	free(fs);
	free(filler);
	free(journal);
	stop(&h);
}
END_TEST

/* --- 7. the guard -------------------------------------------------------- */

/*
 * Replay gives the same values whatever way warden stopped. Three flags:
 * "kept" nobody changes, "touched" an operator sets, "added" comes with a
 * reload in one history. While warden is down the file changes the
 * defaults of "kept" and "added"; a value in force is kept until it is
 * reset (warden(8)), so every way of stopping must give the values the
 * history had, never the new defaults.
 */
#define PIN_FLAGS(kept, added)						\
	"'flags': { 'kept': { 'default': " kept " },"			\
	" 'touched': { 'default': false }" added " },"			\
	" 'stages': [ { 'stage': 1, 'enable': ['touched'] } ]"
#define PIN_CONF(kept, added)						\
	"{ " PIN_FLAGS(kept, added) ", 'supervisor': { 'children': [] } }"

static const char conf_pin_before[] = PIN_CONF("false", "");
static const char conf_pin[] =
    PIN_CONF("false", ", 'added': { 'default': false }");
/* The file as edited while warden is down. */
static const char conf_pin_edited[] =
    PIN_CONF("true", ", 'added': { 'default': true }");

enum pin_stop { PIN_SIGKILL, PIN_SHUTDOWN, PIN_RELOAD_SIGKILL };
static const char *const pin_stop_name[] = { "SIGKILL", "a clean stop",
	"a reload then SIGKILL" };

static void
reload(struct harness *h, const char *conf)
{
	char	*text = dq(conf);

	ck_assert_int_eq(harness_write_config(h, text), 0);
	free(text);
	json_decref(result(h, "config.reload", NULL));
}

static int
flag_value(struct harness *h, const char *name)
{
	json_t	*r = result(h, "flag.get", json_pack("{s:s}", "name", name));
	int	 v = value_int(json_object_get(r, "value"));

	json_decref(r);
	return v;
}

/*
 * One history, stopped one way, the file edited, warden started again:
 * the values of kept, touched and added then. With added_by_reload the
 * history starts without "added" and a reload brings it.
 */
static void
pin_history(enum pin_stop how, bool added_by_reload, int out[3])
{
	struct harness	h;
	json_t		*r;

	start(&h, added_by_reload ? conf_pin_before : conf_pin);
	flag_set_ok(&h, "touched", 40);
	if (added_by_reload) {
		harness_log_mark(&h);
		reload(&h, conf_pin);
		ck_assert_int_eq(harness_wait_log(&h, "reload: flag added added "
		    "at its default", T_WAIT), 0);
	}
	switch (how) {
	case PIN_SIGKILL:
		kill_warden(&h);
		break;
	case PIN_SHUTDOWN:
		r = result(&h, "shutdown", NULL);
		json_decref(r);
		ck_assert_int_eq(harness_wait_exit(&h, T_WAIT), 0);
		break;
	case PIN_RELOAD_SIGKILL:
		reload(&h, conf_pin);
		kill_warden(&h);
		break;
	}
	{
		char	*text = dq(conf_pin_edited);

		ck_assert_int_eq(harness_write_config(&h, text), 0);
		free(text);
	}
	restart(&h);
	out[0] = flag_value(&h, "kept");
	out[1] = flag_value(&h, "touched");
	out[2] = flag_value(&h, "added");
	stop(&h);
}

START_TEST(test_replay_same_values)
{
	static const int	want[3] = { 0, 40, 0 };	/* kept, touched, added */
	bool			by_reload = _i == 1;
	int			got[3], how;

	for (how = PIN_SIGKILL; how <= PIN_RELOAD_SIGKILL; how++) {
		pin_history((enum pin_stop)how, by_reload, got);
		ck_assert_msg(memcmp(got, want, sizeof(want)) == 0,
		    "after %s%s, defaults edited: kept %d touched %d "
		    "added %d; want 0 40 0 whatever the way of stopping",
		    pin_stop_name[how], by_reload ?
		    " (\"added\" came with a reload)" : "",
		    got[0], got[1], got[2]);
	}
}
END_TEST

/*
 * A pin that cannot be written holds every change back: a snapshot that
 * fails (a folder in the way of its temporary file) while the journal
 * could still take the record.
 */
START_TEST(test_pin_refused)
{
	struct harness	 h;
	char		*blocker;
	int		 want[NFLAGS];

	start(&h, conf_demo);
	memcpy(want, at_stage[0], sizeof(want));
	blocker = harness_path(&h, "state/state.json.tmp");
	ck_assert_msg(mkdir(blocker, 0700) == 0, "mkdir %s: %s", blocker,
	    strerror(errno));
	reload_unpinned(&h, NULL, want);

	ck_assert_int_eq(rmdir(blocker), 0);
	flag_set_ok(&h, fname[LOG], 100);
	want[LOG] = 100;
	kill_warden(&h);
	restart(&h);
	expect_flags(&h, NULL, 0, want);
	free(blocker);
	stop(&h);
}
END_TEST

static const char conf_guard[] =
    "{ " DEMO_FLAGS ","
    " 'guard': { 'max_restarts': 3, 'window_s': 60, 'action': 'rollback' },"
    " 'supervisor': { 'max_restarts': 100, 'max_seconds': 60,"
    "  'children': [ { 'name': 'crashy', 'command': ['@WORKER@',"
    "   '--ready', 'notify', '--exit-on-usr1', '1'], 'ready': 'notify' } ] } }";

/* Make crashy exit 1 and wait for its restart number n. */
static void
crash(struct harness *h, int n)
{
	pid_t	pid = harness_pid_of(h, "crashy"), now;

	ck_assert_msg(pid > 0, "crashy has no pid");
	ck_assert_int_eq(kill(pid, SIGUSR1), 0);
	ck_assert_msg(harness_wait(h, json_pack("{s:s, s:s, s:i}", "service",
	    "crashy", "state", "running", "min_restarts", n), T_WAIT) == 0,
	    "crashy not running again after crash %d", n);
	now = harness_pid_of(h, "crashy");
	ck_assert_msg(now > 0 && now != pid, "crashy pid %ld, was %ld",
	    (long)now, (long)pid);
}

START_TEST(test_guard_rollback)
{
	struct harness		 h;
	struct harness_conn	*c;
	warden_table		*t;
	json_t			*r, *list, *ev, *last;
	const char		*reason;
	int			 i;

	start(&h, conf_guard);
	t = reader_open(&h);
	c = subscribe(&h, "stage", "guard", NULL);

	/* Restarts before a stage change count for nothing. */
	for (i = 1; i <= 4; i++)
		crash(&h, i);
	ck_assert_int_eq(stage_now(&h), 0);

	stage_ok(&h, "stage.set", 2, 2);
	for (i = 5; i <= 7; i++) {
		crash(&h, i);
		/* The guard decides before the restart: no rollback yet. */
		ck_assert_msg(stage_now(&h) == 2, "stage %d after %d restarts "
		    "since stage 2 (limit 3)", stage_now(&h), i - 4);
	}
	crash(&h, 8);

	/* Exactly: the raise, the guard's rollback, its own event. */
	list = events_until(c, "guard.rollback", NULL, NULL);
	ck_assert_msg(json_array_size(list) == 3, "events %s", dump(list));
	ev = json_array_get(list, 0);
	ck_assert_msg(strcmp(str(ev, "type"), "stage.changed") == 0 &&
	    num(ev, "from") == 0 && num(ev, "to") == 2, "events %s",
	    dump(list));
	ev = json_array_get(list, 1);
	ck_assert_msg(strcmp(str(ev, "type"), "stage.changed") == 0 &&
	    num(ev, "from") == 2 && num(ev, "to") == 1 &&
	    strcmp(str(ev, "kind"), "guard") == 0 &&
	    json_is_null(json_object_get(ev, "by")), "events %s", dump(list));
	ev = json_array_get(list, 2);
	ck_assert_msg(num(ev, "from") == 2 && num(ev, "to") == 1 &&
	    (reason = str(ev, "reason")) != NULL &&
	    strstr(reason, "limit 3") != NULL, "guard.rollback %s", dump(ev));
	json_decref(list);
	ck_assert_int_eq(stage_now(&h), 1);
	expect_flags(&h, t, 1, at_stage[1]);

	r = result(&h, "stage.get", NULL);
	last = json_array_get(json_object_get(r, "history"),
	    json_array_size(json_object_get(r, "history")) - 1);
	ck_assert_msg(last != NULL && strcmp(str(last, "kind"), "guard") == 0 &&
	    num(last, "from") == 2 && num(last, "to") == 1 &&
	    (reason = str(last, "reason")) != NULL &&
	    strstr(reason, "limit 3") != NULL &&
	    strstr(reason, "4 restarts") != NULL,
	    "last history entry %s", dump(last));
	json_decref(r);

	/* Disarmed until the next raise: more crashes change nothing. */
	crash(&h, 9);
	ck_assert_int_eq(stage_now(&h), 1);
	harness_conn_close(c);
	warden_close(t);
	stop(&h);
}
END_TEST

/* --- 8. what workers get ------------------------------------------------- */

/* The value of VAR, or the rest of a "key " line, in an --env-out file. */
static bool
env_line(const char *text, const char *prefix, char *buf, size_t len)
{
	const char	*p, *nl;
	size_t		 n = strlen(prefix);

	for (p = text; p != NULL && *p != '\0';
	    p = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (strncmp(p, prefix, n) == 0) {
			snprintf(buf, len, "%.*s", (int)((nl != NULL ? nl :
			    p + strlen(p)) - (p + n)), p + n);
			return true;
		}
	}
	return false;
}

/* The flags of fd in pid, from /proc/PID/fdinfo/FD. */
static int
fd_flags(pid_t pid, int fd)
{
	char	path[64], *s, *p;
	long	flags;

	snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%d", (long)pid, fd);
	s = harness_read_file(path);
	ck_assert_msg(s != NULL, "%s: %s", path, strerror(errno));
	p = strstr(s, "flags:");
	ck_assert_msg(p != NULL, "%s has no flags: %s", path, s);
	flags = strtol(p + 6, NULL, 8);
	free(s);
	return (int)flags;
}

/* The worker's env file says fd 4 is this table, read-only. */
static pid_t
expect_worker_table(struct harness *h, const char *env)
{
	char		 buf[PATH_MAX], want[PATH_MAX];
	struct stat	 a, b;
	pid_t		 pid;

	ck_assert_msg(env_line(env, "WARDEN_TABLE=", buf, sizeof(buf)) &&
	    strcmp(buf, h->table) == 0, "WARDEN_TABLE=%s, want %s", buf,
	    h->table);
	ck_assert_msg(env_line(env, "WARDEN_TABLE_FD=", buf, sizeof(buf)) &&
	    strcmp(buf, "4") == 0, "WARDEN_TABLE_FD=%s", buf);
	shm_path(h, want, sizeof(want));
	ck_assert_msg(env_line(env, "fdtarget 4 ", buf, sizeof(buf)) &&
	    strcmp(buf, want) == 0, "fd 4 is %s, want %s", buf, want);
	ck_assert_msg(env_line(env, "pid ", buf, sizeof(buf)),
	    "no pid in the env file");
	pid = (pid_t)atol(buf);
	ck_assert_int_eq(pid, harness_pid_of(h, "w"));
	ck_assert_msg((fd_flags(pid, 4) & O_ACCMODE) == O_RDONLY,
	    "fd 4 is not read-only (flags %o)", fd_flags(pid, 4));
	/* The very object under the name now. */
	snprintf(buf, sizeof(buf), "/proc/%ld/fd/4", (long)pid);
	ck_assert_msg(stat(buf, &a) == 0 && stat(want, &b) == 0 &&
	    a.st_ino == b.st_ino && a.st_dev == b.st_dev,
	    "fd 4 of the worker is not %s", want);
	return pid;
}

START_TEST(test_worker_table_env)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*r;
	char			*path, *env, *env2;
	pid_t			 pid;

	start(&h, "{ " DEMO_FLAGS ", 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/w.env'] } ] } }");
	path = harness_path(&h, "w.env");
	env = harness_wait_file(path, NULL, T_WAIT);
	ck_assert_msg(env != NULL, "w.env never written");
	pid = expect_worker_table(&h, env);

	/* After a repair, a worker started anew gets the fresh table. */
	c = subscribe(&h, "table", NULL);
	json_decref(result(&h, "table.delete", NULL));
	json_decref(harness_wait_event(c, "table.repaired", NULL, T_WAIT));
	r = result(&h, "service.restart", json_pack("{s:s}", "service", "w"));
	json_decref(r);
	env2 = harness_wait_file(path, env, T_WAIT);
	ck_assert_msg(env2 != NULL, "w.env not written again");
	ck_assert_msg(expect_worker_table(&h, env2) != pid,
	    "the worker was not restarted");
	free(env);
	free(env2);
	free(path);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/*
 * A worker reading as workers do: warden_open(NULL) takes WARDEN_TABLE_FD,
 * and after the table is deleted and published again it reattaches by the
 * name in WARDEN_TABLE on its own. Its lines in warden's log prove each step.
 */
START_TEST(test_worker_reader)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, "{ " DEMO_FLAGS ", 'supervisor': { 'children': ["
	    " { 'name': 'r', 'command': ['@BIN@/tests/flag-reader',"
	    "   'use_ets_agent_registry'] } ] } }");
	ck_assert_int_eq(harness_wait_log(&h,
	    "r: use_ets_agent_registry=off stage=0\n", T_WAIT), 0);
	stage_ok(&h, "stage.set", 1, 1);
	ck_assert_int_eq(harness_wait_log(&h,
	    "r: use_ets_agent_registry=on stage=1\n", T_WAIT), 0);
	c = subscribe(&h, "table", NULL);
	json_decref(result(&h, "table.delete", NULL));
	json_decref(harness_wait_event(c, "table.repaired", NULL, T_WAIT));
	stage_ok(&h, "stage.set", 2, 2);
	ck_assert_int_eq(harness_wait_log(&h,
	    "r: use_ets_agent_registry=on stage=2\n", T_WAIT), 0);
	stage_ok(&h, "stage.emergency", -1, 0);
	ck_assert_int_eq(harness_wait_log(&h,
	    "r: use_ets_agent_registry=off stage=0\n", T_WAIT), 0);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* --- 9. status and recovery ---------------------------------------------- */

START_TEST(test_status_stage)
{
	struct harness	 h;
	json_t		*r;
	int		 k;

	start(&h, conf_demo);
	for (k = 1; k <= 4; k++) {
		stage_ok(&h, "stage.set", k, k);
		r = result(&h, "status", NULL);
		ck_assert_msg(num(r, "stage") == k, "status %s at stage %d",
		    dump(r), k);
		json_decref(r);
	}
	stage_ok(&h, "stage.rollback", 1, 1);
	r = result(&h, "status", NULL);
	ck_assert_int_eq(num(r, "stage"), 1);
	json_decref(r);
	r = result(&h, "flag.list", NULL);
	ck_assert_int_eq(num(r, "stage"), 1);
	ck_assert_msg(num(r, "generation") > 0, "flag.list %s", dump(r));
	json_decref(r);
	stop(&h);
}
END_TEST

/* SPEC 5: recovery also reports the shared table's health. */
START_TEST(test_recovery_table)
{
	struct harness	 h;
	json_t		*r, *t;

	start(&h, conf_budget);
	r = result(&h, "recovery", NULL);
	t = json_object_get(r, "table");
	ck_assert_msg(json_is_object(t), "recovery has no \"table\" member");
	ck_assert_msg(json_is_true(json_object_get(t, "healthy")),
	    "table.healthy is not true");
	ck_assert_msg(json_is_integer(json_object_get(t, "repairs")),
	    "table.repairs is not an integer");
	ck_assert_int_eq(json_integer_value(json_object_get(t, "repairs")), 0);
	ck_assert_msg(json_object_get(t, "last_repair_ms") != NULL,
	    "table.last_repair_ms is missing");
	json_decref(r);
	stop(&h);
}
END_TEST

static Suite *
flags_live_suite(void)
{
	Suite	*s = suite_create("flags_live");
	TCase	*tc = tcase_create("flags_live");

	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_flag_set_readers);
	tcase_add_test(tc, test_flag_set_errors);
	tcase_add_test(tc, test_stage_cumulative);
	tcase_add_test(tc, test_stage_rollback);
	tcase_add_test(tc, test_wait_stage_and_flag);
	tcase_add_test(tc, test_table_delete);
	tcase_add_test(tc, test_table_unlink_outside);
	tcase_add_test(tc, test_table_corrupt);
	tcase_add_test(tc, test_wait_recovered_table);
	tcase_add_test(tc, test_durable_sigkill);
	tcase_add_test(tc, test_torn_journal);
	tcase_add_test(tc, test_full_disk);
	/* 0: one file all along; 1: "added" comes with a reload. */
	tcase_add_loop_test(tc, test_replay_same_values, 0, 2);
	tcase_add_test(tc, test_pin_refused);
	tcase_add_test(tc, test_guard_rollback);
	tcase_add_test(tc, test_worker_table_env);
	tcase_add_test(tc, test_worker_reader);
	tcase_add_test(tc, test_status_stage);
	tcase_add_test(tc, test_recovery_table);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(flags_live_suite)
