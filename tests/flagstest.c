/*
 * flagstest.c: what the flag suites share (flagstest.h).
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "flagstest.h"
#include "murmur3.h"
#include "libwarden-test.h"
#include "warden.h"

const char *const fname[NFLAGS] = {
	"use_ets_agent_registry",
	"enable_migration_monitoring",
	"use_logger_error_context",
	"use_genserver_telemetry",
	"use_genserver_span_management",
	"use_ets_sampled_events",
	"enforce_no_process_dict",
};

const char conf_demo[] =
    "{ " DEMO_FLAGS ", 'supervisor': { 'children': [] } }";

const int at_stage[5][NFLAGS] = {
	{ 0, 0, 0, 0, 0, 0, 0 },
	{ 100, 100, 0, 0, 0, 0, 0 },
	{ 100, 100, 100, 0, 0, 0, 0 },
	{ 100, 100, 100, 100, 100, 100, 0 },
	{ 100, 100, 100, 100, 100, 100, 100 },
};

/* A protocol value (true, false, 0..100) as 0..100. */
int
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
json_t *
value_json(int v)
{
	if (v == 0 || v == 100)
		return json_boolean(v == 100);
	return json_integer(v);
}

/* The member of an array of objects whose "name" is name, or NULL. */
json_t *
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

/* flag.set; the answer is the flag, with the new value. */
json_t *
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

void
flag_set_ok(struct harness *h, const char *name, int value)
{
	json_decref(flag_set(h, name, value, NULL));
}

/* stage.set or stage.rollback (stage < 0: the default); the new stage. */
json_t *
stage_call(struct harness *h, const char *method, int stage)
{
	json_t	*r;

	r = result(h, method, stage >= 0 ? json_pack("{s:i}", "stage",
	    stage) : NULL);
	ck_assert_msg(json_is_array(json_object_get(r, "flags")),
	    "%s: no flags in %s", method, dump(r));
	return r;
}

void
stage_ok(struct harness *h, const char *method, int stage, int want)
{
	json_t	*r = stage_call(h, method, stage);

	ck_assert_msg(num(r, "stage") == want, "%s %d: stage %lld, want %d",
	    method, stage, num(r, "stage"), want);
	json_decref(r);
}

int
stage_now(struct harness *h)
{
	json_t	*r = result(h, "stage.get", NULL);
	int	 s = (int)num(r, "stage");

	json_decref(r);
	return s;
}

/* Is id in flag's rollout at v percent (SPEC 4)? */
bool
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

void
id_of(char *buf, size_t len, int i)
{
	snprintf(buf, len, "user-%d", i);
}

/*
 * A reader of the table sees flag at value v. It is asked with the
 * opposite of each expected answer as its default, so that an answer
 * that came from the default rather than the table shows.
 */
void
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

void
expect_reader(warden_table *t, int stage, const int want[NFLAGS])
{
	int	i;

	ck_assert_msg(warden_stage(t) == stage, "reader: stage %d, want %d",
	    warden_stage(t), stage);
	for (i = 0; i < NFLAGS; i++)
		expect_reader_value(t, fname[i], want[i]);
}

/*
 * A reader of h's table in this process. It tries to reattach on every
 * read that finds its table retired or damaged, not once per 100 ms, so
 * that a test can tell "reattached" from "not yet" without waiting.
 */
warden_table *
reader_open(struct harness *h)
{
	warden_table	*t = warden_open(h->table);

	ck_assert_msg(t != NULL, "warden_open %s", h->table);
	ck_assert_msg(warden_test_attached(t), "reader not attached to %s",
	    h->table);
	warden_test_set_retry(t, 0);
	return t;
}

/* `wardenctl -j flag read FLAG [ID] --table NAME`: another process reading. */
json_t *
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

void
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
void
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

size_t
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

void
shm_path(struct harness *h, char *buf, size_t len)
{
	ck_assert((size_t)snprintf(buf, len, "/dev/shm%s", h->table) < len);
}
