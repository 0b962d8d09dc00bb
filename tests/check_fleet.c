/*
 * check_fleet.c: the fleet's keys and values (src/core/fleet.c,
 * fleet-value.c): keys made and parsed strictly, each value made and read
 * back, every field refused with the key and field named, 10,000 random
 * texts through every reader, this host's report, and who lags.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flagcoretest.h"
#include "fleet.h"
#include "fleettest.h"
#include "suite.h"
#include "util.h"

#define PFX	"/warden/"

/* --- keys ----------------------------------------------------------------------------- */

START_TEST(test_keys_made)
{
	char	*k;

	k = fleet_key_stage(PFX);
	ck_assert_str_eq(k, "/warden/desired/stage");
	free(k);
	k = fleet_key_flag(PFX, "dark_mode");
	ck_assert_str_eq(k, "/warden/desired/flags/dark_mode");
	free(k);
	/* The ranges: the desired state, the flags of it, the reports. */
	k = fleet_key_desired(PFX);
	ck_assert_str_eq(k, "/warden/desired/");
	free(k);
	k = fleet_key_flag(PFX, "");
	ck_assert_str_eq(k, "/warden/desired/flags/");
	free(k);
	k = fleet_key_hosts("/a/b/");
	ck_assert_str_eq(k, "/a/b/hosts/");
	free(k);
	k = fleet_key_host("/a/b/", "web-1");
	ck_assert_str_eq(k, "/a/b/hosts/web-1");
	free(k);
	k = fleet_key_range_end(PFX);
	ck_assert_str_eq(k, "/warden0");
	free(k);
}
END_TEST

static const struct {
	const char		*key;
	size_t			 len;	/* 0: strlen */
	enum fleet_key_kind	 kind;
	const char		*name;
} keys[] = {
	{ "/warden/desired/stage", 0, FLEET_KEY_STAGE, "" },
	{ "/warden/desired/flags/dark_mode", 0, FLEET_KEY_FLAG, "dark_mode" },
	{ "/warden/desired/flags/a.b-c_9", 0, FLEET_KEY_FLAG, "a.b-c_9" },
	{ "/warden/hosts/web-1", 0, FLEET_KEY_HOST, "web-1" },
	{ "/warden/desired/flags/" "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	    "f", 0, FLEET_KEY_FLAG, NULL },	/* 63: a flag's longest */
	{ "/warden/desired/flags/" "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
	    "ff", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/hosts/" "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
	    "hh", 0, FLEET_KEY_HOST, NULL },	/* 64: a host's longest */
	{ "/warden/hosts/" "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
	    "hhh", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/desired/stage/", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/desired/stages", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/desired/Stage", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/desired/stag", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden", 0, FLEET_KEY_UNKNOWN, "" },
	{ "", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/desired/flags/", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/desired/flags", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/desired/flags/a/b", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/desired/flags/bad name", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/desired/flags/caf\xc3\xa9", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/hosts/", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/hosts/a:b", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/other", 0, FLEET_KEY_UNKNOWN, "" },
	/* The layout before desired/: keys of no meaning now. */
	{ "/warden/stage", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/flags/dark_mode", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/desired/", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/desired", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/desired/hosts/web-1", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/hosts/stage", 0, FLEET_KEY_HOST, "stage" },
	{ "/warden/desiredstage", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/other/stage", 0, FLEET_KEY_UNKNOWN, "" },
	{ "/warden//stage", 0, FLEET_KEY_UNKNOWN, "" },
	/* A NUL inside: etcd keys are bytes. */
	{ "/warden/desired/flags/a\0b", 25, FLEET_KEY_UNKNOWN, "" },
	{ "/warden/desired/stage\0", 22, FLEET_KEY_UNKNOWN, "" },
	/* Only len bytes count: what follows is not the key's. */
	{ "/warden/desired/stagexyz", 21, FLEET_KEY_STAGE, "" },
	{ "/warden/desired/flags/abc", 23, FLEET_KEY_FLAG, "a" },
};

START_TEST(test_keys_parsed)
{
	char			name[FLEET_NAME_BUF];
	size_t			len = keys[_i].len != 0 ? keys[_i].len :
				    strlen(keys[_i].key);
	enum fleet_key_kind	kind;

	memset(name, 'x', sizeof(name));
	kind = fleet_key_parse(PFX, keys[_i].key, len, name);
	ck_assert_msg(kind == keys[_i].kind, "%s: %d", keys[_i].key, kind);
	if (keys[_i].name != NULL)
		ck_assert_str_eq(name, keys[_i].name);
	else
		ck_assert_str_eq(name, strrchr(keys[_i].key, '/') + 1);
}
END_TEST

START_TEST(test_key_text)
{
	char	*t = fleet_key_text("/w/\0\n\\\xff" "a", 8);

	ck_assert_str_eq(t, "/w/\\x00\\x0a\\x5c\\xffa");
	free(t);
}
END_TEST

/* --- values --------------------------------------------------------------------------- */

static char *
text_of(json_t *v)
{
	return fleet_value_text(v);
}

START_TEST(test_stage_roundtrip)
{
	struct fleet_stage	s = { 3, false, { "ctl-1", 1000, 4242, T0, NULL }, NULL },
				back;
	char			err[FLEET_ERR_MAX], *t;

	s.by.reason = xstrdup("canary looks fine");
	t = text_of(fleet_stage_json(&s));
	ck_assert_str_eq(t, "{\"stage\":3,\"by\":{\"host\":\"ctl-1\",\"uid\":1000,"
	    "\"pid\":4242},\"at\":1714564800000,\"reason\":\"canary looks fine\"}");
	ck_assert_int_eq(fleet_stage_decode("/warden/desired/stage", t, strlen(t), &back,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(back.stage, 3);
	ck_assert(!back.emergency);
	ck_assert_str_eq(back.by.host, "ctl-1");
	ck_assert_uint_eq(back.by.uid, 1000);
	ck_assert_int_eq(back.by.pid, 4242);
	ck_assert_int_eq(back.by.at, T0);
	ck_assert_str_eq(back.by.reason, "canary looks fine");
	fleet_audit_clear(&back.by);
	free(t);
	/* An emergency, without a reason. */
	free(s.by.reason);
	s.by.reason = NULL;
	s.emergency = true;
	t = text_of(fleet_stage_json(&s));
	ck_assert_str_eq(t, "{\"stage\":0,\"emergency\":true,\"by\":{\"host\":"
	    "\"ctl-1\",\"uid\":1000,\"pid\":4242},\"at\":1714564800000,"
	    "\"reason\":null}");
	ck_assert_int_eq(fleet_stage_decode("k", t, strlen(t), &back, err,
	    sizeof(err)), 0);
	ck_assert(back.emergency);
	ck_assert_int_eq(back.stage, 0);
	ck_assert_ptr_null(back.by.reason);
	ck_assert_ptr_null(back.values);
	free(t);
	/* With the writer's values, kept as they were written. */
	s.values = json_pack("{s:b, s:i}", "dark_mode", 0, "checkout_rollout",
	    40);
	t = text_of(fleet_stage_json(&s));
	ck_assert_str_eq(t, "{\"stage\":0,\"emergency\":true,\"values\":"
	    "{\"dark_mode\":false,\"checkout_rollout\":40},\"by\":{\"host\":"
	    "\"ctl-1\",\"uid\":1000,\"pid\":4242},\"at\":1714564800000,"
	    "\"reason\":null}");
	ck_assert_int_eq(fleet_stage_decode("k", t, strlen(t), &back, err,
	    sizeof(err)), 0);
	ck_assert(json_equal(back.values, s.values));
	fleet_stage_clear(&back);
	json_decref(s.values);
	free(t);
}
END_TEST

/*
 * A reason as long as a local change takes (flag.set's, checked by the
 * flags core), which a fleet writer puts in etcd as given: every host
 * reads it back, or none of them applies the change.
 */
START_TEST(test_long_reason_roundtrip)
{
	struct flags_ctx	 ctx = { T0, &alice, NULL };
	struct fleet_flag	 f = { 40, false, { "h", 0, 1, 0, NULL }, false },
				 back;
	char			 err[FLEET_ERR_MAX], *t, *reason;
	json_t			*v = json_integer(40), *rec;

	reason = xmalloc(FLAGS_REASON_MAX + 1);
	memset(reason, 'r', FLAGS_REASON_MAX);
	reason[FLAGS_REASON_MAX] = '\0';
	ctx.reason = reason;
	ck_assert_int_eq(flags_op_set(fs, "checkout_rollout", v, &ctx, &rec,
	    err, sizeof(err)), FLAGS_OK);
	json_decref(rec);
	json_decref(v);
	f.by.reason = reason;
	t = text_of(fleet_flag_json(&f));
	ck_assert_msg(fleet_flag_decode("k", t, strlen(t), &back, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(back.by.reason, reason);
	fleet_audit_clear(&back.by);
	free(t);
	free(reason);
}
END_TEST

START_TEST(test_flag_roundtrip)
{
	struct fleet_flag	f = { 0, true, { "h", 0, 1, 0, NULL }, false }, back;
	char			err[FLEET_ERR_MAX], *t;

	t = text_of(fleet_flag_json(&f));
	ck_assert_str_eq(t, "{\"value\":false,\"by\":{\"host\":\"h\",\"uid\":0,"
	    "\"pid\":1},\"at\":0,\"reason\":null}");
	ck_assert_int_eq(fleet_flag_decode("k", t, strlen(t), &back, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(back.value, 0);
	ck_assert(back.is_bool);
	free(t);
	f.value = 40;
	f.is_bool = false;
	t = text_of(fleet_flag_json(&f));
	ck_assert_int_eq(fleet_flag_decode("k", t, strlen(t), &back, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(back.value, 40);
	ck_assert(!back.is_bool);
	free(t);
	/* A percentage is written as such even for a boolean flag. */
	f.is_bool = true;
	t = text_of(fleet_flag_json(&f));
	ck_assert(strstr(t, "\"value\":40") != NULL);
	free(t);
	/* A reset: no value, who and why kept. */
	f.reset = true;
	f.by.reason = (char *)"back";
	t = text_of(fleet_flag_json(&f));
	ck_assert_str_eq(t, "{\"reset\":true,\"by\":{\"host\":\"h\",\"uid\":0,"
	    "\"pid\":1},\"at\":0,\"reason\":\"back\"}");
	ck_assert_int_eq(fleet_flag_decode("k", t, strlen(t), &back, err,
	    sizeof(err)), 0);
	ck_assert(back.reset);
	ck_assert_str_eq(back.by.reason, "back");
	fleet_audit_clear(&back.by);
	free(t);
	/* A value is not a reset. */
	t = xstrdup("{\"value\": 3, \"by\": {\"host\": \"h\", \"uid\": 0, "
	    "\"pid\": 1}, \"at\": 0}");
	ck_assert_int_eq(fleet_flag_decode("k", t, strlen(t), &back, err,
	    sizeof(err)), 0);
	ck_assert(!back.reset);
	free(t);
}
END_TEST

#define BY	"\"by\": {\"host\": \"h\", \"uid\": 1, \"pid\": 2}, \"at\": 5"
#define R64	"0123456789012345678901234567890123456789012345678901234567890123"
#define R256	R64 R64 R64 R64
#define R1024	R256 R256 R256 R256	/* a reason at the bound */

static const struct {
	int		 which;		/* 0 stage, 1 flag, 2 report */
	const char	*text;
	const char	*err;		/* after "KEY: " */
} bad_values[] = {
	{ 0, "", "not JSON" },
	{ 0, "{", "not JSON" },
	{ 0, "{\"stage\": 1, " BY "} x", "not JSON" },
	{ 0, "[1]", "expected a JSON object" },
	{ 0, "\"stage\"", "not JSON" },
	{ 0, "{}", "stage: missing" },
	{ 0, "{\"stage\": 1, \"stage\": 2, " BY "}", "not JSON: duplicate" },
	{ 0, "{" BY "}", "stage: missing" },
	{ 0, "{\"stage\": -1, " BY "}", "stage: expected an integer from 0 to 1000000" },
	{ 0, "{\"stage\": 1000001, " BY "}", "stage: expected an integer from 0" },
	{ 0, "{\"stage\": 9223372036854775807, " BY "}", "stage: expected an integer from" },
	{ 0, "{\"stage\": 99999999999999999999, " BY "}", "not JSON: too big" },
	{ 0, "{\"stage\": 2.0, " BY "}", "stage: expected an integer" },
	{ 0, "{\"stage\": \"2\", " BY "}", "stage: expected an integer" },
	{ 0, "{\"stage\": null, " BY "}", "stage: expected an integer" },
	{ 0, "{\"stage\": 2, \"emergency\": true, " BY "}", "stage: an emergency is stage 0" },
	{ 0, "{\"stage\": 0, \"emergency\": 1, " BY "}", "emergency: expected true or false" },
	{ 0, "{\"stage\": 1, \"extra\": 1, " BY "}", "unknown field \"extra\"" },
	{ 0, "{\"stage\": 1, \"at\": 5}", "by: missing" },
	{ 0, "{\"stage\": 1, \"by\": null, \"at\": 5}", "by: expected" },
	{ 0, "{\"stage\": 1, \"by\": {\"host\": \"h\", \"uid\": 1}, \"at\": 5}", "by.pid: missing" },
	{ 0, "{\"stage\": 1, \"by\": {\"uid\": 1, \"pid\": 2}, \"at\": 5}", "by.host: expected" },
	{ 0, "{\"stage\": 1, \"by\": {\"host\": \"a b\", \"uid\": 1, \"pid\": 2}, \"at\": 5}", "by.host: a host's name has only" },
	{ 0, "{\"stage\": 1, \"by\": {\"host\": \"\", \"uid\": 1, \"pid\": 2}, \"at\": 5}", "by.host: a host's name must not be empty" },
	{ 0, "{\"stage\": 1, \"by\": {\"host\": \"h\", \"uid\": -1, \"pid\": 2}, \"at\": 5}", "by.uid: expected an integer from 0 to 4294967294" },
	{ 0, "{\"stage\": 1, \"by\": {\"host\": \"h\", \"uid\": 4294967295, \"pid\": 2}, \"at\": 5}", "by.uid: expected an integer from" },
	{ 0, "{\"stage\": 1, \"by\": {\"host\": \"h\", \"uid\": 1, \"pid\": 2147483648}, \"at\": 5}", "by.pid: expected an integer from 0 to 2147483647" },
	{ 0, "{\"stage\": 1, \"by\": {\"host\": \"h\", \"uid\": 1, \"pid\": 2, \"x\": 0}, \"at\": 5}", "by: unknown field \"x\"" },
	{ 0, "{\"stage\": 1, \"by\": {\"host\": \"h\", \"uid\": 1, \"pid\": 2}}", "at: missing" },
	{ 0, "{\"stage\": 1, \"by\": {\"host\": \"h\", \"uid\": 1, \"pid\": 2}, \"at\": -1}", "at: expected an integer from 0" },
	{ 0, "{\"stage\": 1, \"by\": {\"host\": \"h\", \"uid\": 1, \"pid\": 2}, \"at\": \"2024\"}", "at: expected an integer" },
	{ 0, "{\"stage\": 1, " BY ", \"reason\": 5}", "reason: expected a string or null" },
	{ 0, "{\"stage\": 1, " BY ", \"reason\": \"" R1024 "x\"}",
	    "reason: at most 1024 bytes" },
	{ 0, "{\"stage\": 1, \"values\": [], " BY "}", "values: expected an object of at most 256 flags" },
	{ 0, "{\"stage\": 1, \"values\": {\"a b\": true}, " BY "}", "values.a b: not a flag's name" },
	{ 0, "{\"stage\": 1, \"values\": {\"\": true}, " BY "}", "values.: not a flag's name" },
	{ 0, "{\"stage\": 1, \"values\": {\"f\": 101}, " BY "}", "values.f: expected true, false or an integer from 0 to 100" },
	{ 0, "{\"stage\": 1, \"values\": {\"f\": \"on\"}, " BY "}", "values.f: expected true" },
	{ 0, "{\"stage\": 1, \"values\": {\"f\": null}, " BY "}", "values.f: expected true" },
	{ 1, "{" BY "}", "value: missing" },
	{ 1, "{\"value\": 101, " BY "}", "value: expected true, false or an integer from 0 to 100" },
	{ 1, "{\"value\": -1, " BY "}", "value: expected true" },
	{ 1, "{\"value\": \"true\", " BY "}", "value: expected true" },
	{ 1, "{\"value\": null, " BY "}", "value: expected true" },
	{ 1, "{\"value\": 50.0, " BY "}", "value: expected true" },
	{ 1, "{\"value\": true, \"stage\": 1, " BY "}", "unknown field \"stage\"" },
	{ 1, "{\"value\": true, \"at\": 5}", "by: missing" },
	{ 1, "{\"reset\": false, " BY "}", "reset: expected true (a value is written without \"reset\")" },
	{ 1, "{\"reset\": 1, " BY "}", "reset: expected true" },
	{ 1, "{\"reset\": null, " BY "}", "reset: expected true" },
	{ 1, "{\"reset\": \"true\", " BY "}", "reset: expected true" },
	{ 1, "{\"reset\": false, \"value\": 3, " BY "}", "reset: expected true" },
	{ 1, "{\"reset\": true, \"value\": 25, " BY "}", "value: not beside \"reset\"" },
	{ 1, "{\"reset\": true, \"value\": null, " BY "}", "value: not beside \"reset\"" },
	{ 1, "{\"reset\": true, \"at\": 5}", "by: missing" },
	{ 1, "{\"reset\": true, \"stage\": 1, " BY "}", "unknown field \"stage\"" },
	{ 1, "{\"reset\": true, " BY ", \"reason\": 1}", "reason: expected a string or null" },
	{ 2, "[]", "expected a JSON object" },
	{ 2, "{\"generation\": 1, \"revision\": 1, \"applied_at\": 1}", "stage: missing" },
	{ 2, "{\"stage\": 1, \"revision\": 1, \"applied_at\": 1}", "generation: missing" },
	{ 2, "{\"stage\": 1, \"generation\": -1, \"revision\": 1, \"applied_at\": 1}", "generation: expected an integer from 0" },
	{ 2, "{\"stage\": 1, \"generation\": 1, \"applied_at\": 1}", "revision: missing" },
	{ 2, "{\"stage\": 1, \"generation\": 1, \"revision\": \"7\", \"applied_at\": 1}", "revision: expected an integer" },
	{ 2, "{\"stage\": 1, \"generation\": 1, \"revision\": 1}", "applied_at: missing" },
	{ 2, "{\"stage\": 1, \"generation\": 1, \"revision\": 1, \"applied_at\": 1, \"unreachable_since\": 0}", "unreachable_since: expected an integer from 1" },
	{ 2, "{\"stage\": 1, \"generation\": 1, \"revision\": 7, \"observed\": 8, \"applied_at\": 1}", "observed: expected an integer from 0 to 7" },
	{ 2, "{\"stage\": 1, \"generation\": 1, \"revision\": 7, \"observed\": -1, \"applied_at\": 1}", "observed: expected an integer from 0 to 7" },
	{ 2, "{\"stage\": 1, \"generation\": 1, \"revision\": 7, \"observed\": null, \"applied_at\": 1}", "observed: expected an integer" },
	{ 2, "{\"stage\": 1, \"generation\": 1, \"revision\": 1, \"applied_at\": 1, \"unreachable_since\": true}", "unreachable_since: expected an integer" },
	{ 2, "{\"stage\": 1, \"generation\": 1, \"revision\": 1, \"applied_at\": 1, \"guard\": 1}", "guard: expected null or" },
	{ 2, "{\"stage\": 1, \"generation\": 1, \"revision\": 1, \"applied_at\": 1, \"guard\": {\"to\": 1, \"at\": 1}}", "guard.from: missing" },
	{ 2, "{\"stage\": 1, \"generation\": 1, \"revision\": 1, \"applied_at\": 1, \"guard\": {\"from\": 2, \"to\": 2, \"at\": 1}}", "guard.to: a rollback goes down" },
	{ 2, "{\"stage\": 1, \"generation\": 1, \"revision\": 1, \"applied_at\": 1, \"guard\": {\"from\": 2, \"to\": 1, \"at\": 1, \"reason\": []}}", "guard.reason: expected a string" },
	{ 2, "{\"stage\": 1, \"generation\": 1, \"revision\": 1, \"applied_at\": 1, \"rejected\": {}}", "rejected: expected an array" },
	{ 2, "{\"stage\": 1, \"generation\": 1, \"revision\": 1, \"applied_at\": 1, \"rejected\": [{\"key\": \"k\"}]}", "rejected: entry 0: expected" },
	{ 2, "{\"stage\": 1, \"generation\": 1, \"revision\": 1, \"applied_at\": 1, \"rejected\": [{\"key\": \"k\", \"revision\": -2, \"reason\": \"r\"}]}", "rejected: entry 0" },
};

static int
decode_any(int which, const char *key, const char *text, size_t len,
    char *err, size_t errlen)
{
	struct fleet_stage	s;
	struct fleet_flag	f;
	struct fleet_report	r;
	int			rv;

	switch (which) {
	case 0:
		rv = fleet_stage_decode(key, text, len, &s, err, errlen);
		if (rv == 0) {
			ck_assert(s.stage >= 0 && s.stage <= FLEET_STAGE_MAX);
			ck_assert(!s.emergency || s.stage == 0);
			ck_assert(s.by.reason == NULL ||
			    strlen(s.by.reason) <= FLEET_REASON_MAX);
		}
		fleet_stage_clear(&s);
		return rv;
	case 1:
		rv = fleet_flag_decode(key, text, len, &f, err, errlen);
		if (rv == 0)
			ck_assert(f.value >= 0 && f.value <= 100);
		fleet_audit_clear(&f.by);
		return rv;
	default:
		rv = fleet_report_decode(key, text, len, &r, err, errlen);
		if (rv == 0)
			ck_assert(json_array_size(r.rejected) <=
			    FLEET_REJECTED_MAX);
		fleet_report_clear(&r);
		return rv;
	}
}

START_TEST(test_bad_values)
{
	char	err[FLEET_ERR_MAX] = "", want[FLEET_ERR_MAX];

	ck_assert_msg(decode_any(bad_values[_i].which, "/warden/k",
	    bad_values[_i].text, strlen(bad_values[_i].text), err,
	    sizeof(err)) == -1, "accepted %s", bad_values[_i].text);
	snprintf(want, sizeof(want), "/warden/k: %s", bad_values[_i].err);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s: got %s",
	    bad_values[_i].text, err);
}
END_TEST

/* Bytes that are not UTF-8, a NUL inside, and no value at all. */
START_TEST(test_bad_bytes)
{
	char	err[FLEET_ERR_MAX];
	int	which;

	for (which = 0; which < 3; which++) {
		ck_assert_int_eq(decode_any(which, "k", "{\"stage\": 1, \"x\": "
		    "\"\xff\"}", 22, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, "k: not JSON") == err, "%s", err);
		ck_assert_int_eq(decode_any(which, "k", "{\"stage\": 1}\0{}", 15,
		    err, sizeof(err)), -1);
		ck_assert_int_eq(decode_any(which, "k", NULL, 0, err,
		    sizeof(err)), -1);
		ck_assert_str_eq(err, "k: no value");
	}
}
END_TEST

/* Reports tolerate what a newer host adds; changes do not. */
START_TEST(test_report_extra_fields)
{
	struct fleet_report	r;
	char			err[FLEET_ERR_MAX];
	const char		t[] = "{\"stage\": 2, \"generation\": 9, "
				    "\"revision\": 41, \"applied_at\": 7, "
				    "\"unreachable_since\": null, \"guard\": null, "
				    "\"load\": [1, 2], \"version\": \"9.9\"}";

	ck_assert_int_eq(fleet_report_decode("k", t, strlen(t), &r, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(r.stage, 2);
	ck_assert_uint_eq(r.generation, 9);
	ck_assert_int_eq(r.revision, 41);
	ck_assert_int_eq(r.applied_at, 7);
	ck_assert_int_eq(r.unreachable_since, 0);
	ck_assert(!r.guard.has);
	ck_assert_uint_eq(json_array_size(r.rejected), 0);
	fleet_report_clear(&r);
}
END_TEST

/* --- random texts -------------------------------------------------------------------- */

START_TEST(test_random_texts)
{
	char	 err[FLEET_ERR_MAX], *t;
	size_t	 len;
	int	 i, which, ok[3] = { 0, 0, 0 };

	fleettest_seed(0x9e3779b97f4a7c15ULL);
	for (i = 0; i < 10000; i++) {
		t = fleettest_text(&len);
		for (which = 0; which < 3; which++) {
			err[0] = '\0';
			if (decode_any(which, "/warden/k", t, len, err,
			    sizeof(err)) == 0)
				ok[which]++;
			else
				ck_assert_msg(strncmp(err, "/warden/k: ", 11) == 0,
				    "%s", err);
		}
		free(t);
	}
	/* Not everything refused: the texts reach the checks past parsing. */
	ck_assert_msg(ok[0] > 0 && ok[1] > 0 && ok[2] > 0, "%d %d %d", ok[0],
	    ok[1], ok[2]);
}
END_TEST

/* --- this host's report --------------------------------------------------------------- */

START_TEST(test_report_made)
{
	struct fleet_report	 r, back;
	json_t			*rej = json_array();
	char			 err[FLEET_ERR_MAX], *t;
	int			 i;

	fleet_report_make(&r, fs, 3, 17, T0, 0, NULL);
	ck_assert(!r.guard.has);
	ck_assert_int_eq(r.observed, 17);
	/* Lowered while readers have not seen it, and read back so. */
	r.observed = 15;
	t = fleet_value_text(fleet_report_json(&r));
	ck_assert_int_eq(fleet_report_decode("/warden/hosts/a", t, strlen(t),
	    &back, err, sizeof(err)), 0);
	ck_assert_int_eq(back.revision, 17);
	ck_assert_int_eq(back.observed, 15);
	fleet_report_clear(&back);
	free(t);
	/* A report that does not say is taken as observed what it applied. */
	t = "{\"stage\": 0, \"generation\": 3, \"revision\": 17, "
	    "\"applied_at\": 1}";
	ck_assert_int_eq(fleet_report_decode("/warden/hosts/a", t, strlen(t),
	    &back, err, sizeof(err)), 0);
	ck_assert_int_eq(back.observed, 17);
	fleet_report_clear(&back);
	fleet_report_clear(&r);
	stage_set(3);
	try_op(FLAGS_OK, "stage.rollback", "{\"stage\": 1}");
	stage_set(2);
	/* The guard's rollback is the one reported, the last of them. */
	{
		struct flags_ctx	 ctx = { T0 + 9000, NULL, "guard: 11 restarts" };
		json_t			*rec;

		ck_assert_int_eq(flags_op_guard(fs, &ctx, &rec, NULL, 0), FLAGS_OK);
		ck_assert_int_eq(flags_apply(fs, rec), 0);
		json_decref(rec);
	}
	for (i = 0; i < FLEET_REJECTED_MAX + 3; i++)
		fleet_report_reject(rej, "/warden/desired/flags/nope", 100 + i, "unknown");
	ck_assert_uint_eq(json_array_size(rej), FLEET_REJECTED_MAX);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(rej,
	    0), "revision")), 103);
	fleet_report_make(&r, fs, 12, 140, T0 + 10000, T0 + 5000, rej);
	ck_assert_int_eq(r.stage, 1);
	ck_assert(r.guard.has);
	ck_assert_int_eq(r.guard.from, 2);
	ck_assert_int_eq(r.guard.to, 1);
	ck_assert_int_eq(r.guard.at, T0 + 9000);
	ck_assert_str_eq(r.guard.reason, "guard: 11 restarts");
	t = fleet_value_text(fleet_report_json(&r));
	ck_assert_int_eq(fleet_report_decode("/warden/hosts/a", t, strlen(t),
	    &back, err, sizeof(err)), 0);
	ck_assert_int_eq(back.stage, 1);
	ck_assert_uint_eq(back.generation, 12);
	ck_assert_int_eq(back.revision, 140);
	ck_assert_int_eq(back.applied_at, T0 + 10000);
	ck_assert_int_eq(back.unreachable_since, T0 + 5000);
	ck_assert(back.guard.has && back.guard.from == 2 && back.guard.to == 1);
	ck_assert_str_eq(back.guard.reason, "guard: 11 restarts");
	ck_assert(json_equal(back.rejected, rej));
	fleet_report_clear(&back);
	fleet_report_clear(&r);
	free(t);
	json_decref(rej);
}
END_TEST

/* --- who lags ------------------------------------------------------------------------ */

/* A key rejected again at the same revision (a resync) is kept once, last. */
START_TEST(test_reject_once)
{
	json_t	*rej = json_array();

	fleet_report_reject(rej, "k1", 10, "unknown flag");
	fleet_report_reject(rej, "k2", 11, "garbage");
	fleet_report_reject(rej, "k1", 10, "unknown flag");
	ck_assert_uint_eq(json_array_size(rej), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rej,
	    0), "key")), "k2");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(rej,
	    1), "key")), "k1");
	/* The same key written again is a new rejection. */
	fleet_report_reject(rej, "k1", 12, "unknown flag");
	ck_assert_uint_eq(json_array_size(rej), 3);
	/*
	 * One key, one revision, two things wrong (a stage key's values
	 * naming two flags this host lacks): both kept.
	 */
	fleet_report_reject(rej, "k3", 13, "k3: values.a: flag a is not in "
	    "this host's configuration (ignored)");
	fleet_report_reject(rej, "k3", 13, "k3: values.b: flag b is not in "
	    "this host's configuration (ignored)");
	ck_assert_uint_eq(json_array_size(rej), 5);
	ck_assert(strstr(json_string_value(json_object_get(json_array_get(rej,
	    3), "reason")), "values.a") != NULL);
	json_decref(rej);
}
END_TEST

/*
 * A value with an unknown field of 250 two-byte characters: its reason,
 * cut to its bound inside a character, is still kept in the report.
 */
START_TEST(test_reject_cut_reason)
{
	json_t		*rej = json_array(), *v = json_object();
	char		 field[501], err[FLEET_ERR_MAX], *t;
	struct fleet_flag f;
	int		 i;

	for (i = 0; i < 250; i++)
		memcpy(field + 2 * i, "\xc3\xa9", 2);
	field[500] = '\0';
	json_object_set_new(v, field, json_true());
	t = text_of(v);
	ck_assert_int_eq(fleet_flag_decode("/warden/desired/flags/dark_mode", t,
	    strlen(t), &f, err, sizeof(err)), -1);
	ck_assert(strstr(err, "unknown field") != NULL);
	fleet_report_reject(rej, "/warden/desired/flags/dark_mode", 7, err);
	ck_assert_uint_eq(json_array_size(rej), 1);
	/* Read again (a resync): still once. */
	fleet_report_reject(rej, "/warden/desired/flags/dark_mode", 7, err);
	ck_assert_uint_eq(json_array_size(rej), 1);
	ck_assert(strncmp(json_string_value(json_object_get(json_array_get(rej,
	    0), "reason")), "/warden/desired/flags/dark_mode: unknown field",
	    46) == 0);
	json_decref(rej);
	free(t);
}
END_TEST

START_TEST(test_lag)
{
	struct fleet_report	rep[4];
	struct fleet_host	h[4] = { { "web-2", &rep[0] }, { "db-1", &rep[1] },
				    { "web-1", &rep[2] }, { "api", &rep[3] } };
	struct fleet_lag	lag;

	memset(rep, 0, sizeof(rep));
	rep[0].revision = rep[0].observed = 50;
	rep[1].revision = rep[1].observed = 49;
	rep[2].revision = rep[2].observed = 51;
	rep[3].revision = 0;
	fleet_lag(h, 4, 50, &lag);
	ck_assert_uint_eq(lag.napplied, 2);
	ck_assert_str_eq(lag.applied[0], "web-1");
	ck_assert_str_eq(lag.applied[1], "web-2");
	ck_assert_uint_eq(lag.nlagging, 2);
	ck_assert_str_eq(lag.lagging[0], "api");
	ck_assert_str_eq(lag.lagging[1], "db-1");
	ck_assert_uint_eq(lag.nunseen, 0);
	fleet_lag_free(&lag);
	/* Applied, its readers not there yet: applied, and unseen too. */
	rep[0].observed = 49;
	rep[2].observed = 51;
	fleet_lag(h, 4, 50, &lag);
	ck_assert_uint_eq(lag.napplied, 2);
	ck_assert_uint_eq(lag.nunseen, 1);
	ck_assert_str_eq(lag.unseen[0], "web-2");
	fleet_lag_free(&lag);
	fleet_lag(h, 4, 0, &lag);
	ck_assert_uint_eq(lag.napplied, 4);
	ck_assert_uint_eq(lag.nlagging, 0);
	ck_assert_uint_eq(lag.nunseen, 0);
	fleet_lag_free(&lag);
	fleet_lag(h, 0, 50, &lag);
	ck_assert_uint_eq(lag.napplied + lag.nlagging, 0);
	fleet_lag_free(&lag);
	/* A report that cannot be read is not known to have applied. */
	h[1].report = NULL;
	fleet_lag(h, 4, 0, &lag);
	ck_assert_uint_eq(lag.napplied, 3);
	ck_assert_uint_eq(lag.nlagging, 1);
	ck_assert_str_eq(lag.lagging[0], "db-1");
	fleet_lag_free(&lag);
}
END_TEST

static Suite *
fleet_suite(void)
{
	Suite	*s = suite_create("fleet");
	TCase	*tc = tcase_create("fleet");

	tcase_add_checked_fixture(tc, flagcoretest_setup, flagcoretest_teardown);
	tcase_add_test(tc, test_keys_made);
	tcase_add_loop_test(tc, test_keys_parsed, 0, (int)nitems(keys));
	tcase_add_test(tc, test_key_text);
	tcase_add_test(tc, test_stage_roundtrip);
	tcase_add_test(tc, test_flag_roundtrip);
	tcase_add_test(tc, test_long_reason_roundtrip);
	tcase_add_loop_test(tc, test_bad_values, 0, (int)nitems(bad_values));
	tcase_add_test(tc, test_bad_bytes);
	tcase_add_test(tc, test_report_extra_fields);
	tcase_add_test(tc, test_random_texts);
	tcase_add_test(tc, test_report_made);
	tcase_add_test(tc, test_reject_once);
	tcase_add_test(tc, test_reject_cut_reason);
	tcase_add_test(tc, test_lag);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(fleet_suite)
