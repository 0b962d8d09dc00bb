/*
 * check_flags_records.c: change records, snapshots and reloads
 * (src/core/flags-record.c, flags.c): the journal replayed onto a fresh
 * state, names no longer configured, a malformed record that stops the
 * replay and changes nothing when applied, values out of range clamped,
 * a snapshot restored and bad ones refused, and a reload that keeps the
 * values. Every change goes through try_op() (flagcoretest.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "flagcoretest.h"
#include "flags.h"
#include "suite.h"
#include "util.h"

/* --- records --------------------------------------------------------------------- */

START_TEST(test_replay)
{
	struct flags	*fresh = flags_new(conf);
	json_t		*live, *replayed, *copy, *rec;
	char		*text;
	size_t		 i, bad;

	busy_day();
	/* Through text, as the journal holds them. */
	copy = json_array();
	json_array_foreach(journal, i, rec) {
		text = json_dumps(rec, JSON_COMPACT);
		json_array_append_new(copy, parse_json(text));
		free(text);
	}
	ck_assert_int_eq(flags_replay(fresh, copy, &bad), 0);
	live = flags_snapshot_json(fs);
	replayed = flags_snapshot_json(fresh);
	ck_assert_msg(json_equal(live, replayed), "replay differs");
	ck_assert_int_eq(fresh->stage, 3);
	ck_assert_int_eq(fresh->flag[flags_find(fresh, "checkout_rollout")].value,
	    77);
	json_decref(live);
	json_decref(replayed);
	json_decref(copy);
	flags_free(fresh);
}
END_TEST

START_TEST(test_replay_unknown_names)
{
	struct config	*legacy = parse_conf(legacy_text);
	struct flags	*old = fs, *now;
	size_t		 i, bad;
	int		 k;

	/* Records made while legacy_flag was configured... */
	fs = flags_new(legacy);
	stage_set(2);
	set_flag("legacy_flag", "30");
	set_flag("checkout_rollout", "45");
	stage_set(3);
	rollback(2);
	ck_assert_int_eq(val_of("legacy_flag"), 30);
	rollback(1);
	ck_assert_int_eq(val_of("legacy_flag"), 100);
	flags_free(old);

	/* ...replayed after it was removed. */
	now = flags_new(conf);
	ck_assert_int_eq(flags_replay(now, journal, &bad), 0);
	ck_assert_int_eq(now->stage, 1);
	ck_assert_int_eq(flags_find(now, "legacy_flag"), -1);
	for (i = 0; i < now->nflags; i++)
		ck_assert_int_eq(now->flag[i].value,
		    fs->flag[flags_find(fs, now->flag[i].name)].value);
	for (k = 0; k < now->stage; k++)
		for (i = 0; i < now->nflags; i++)
			ck_assert_int_eq(now->saved[k][i],
			    fs->saved[k][flags_find(fs, now->flag[i].name)]);
	flags_free(fs);
	fs = now;
	config_free(legacy);
	/* And the replayed state goes on working. */
	rollback(0);
	expect_stage_values(0, 25, 100);
}
END_TEST

static const char *const malformed[] = {
	"[]",
	"{}",
	"{\"v\": 2, \"op\": \"flag.set\", \"at\": 1, \"changes\": []}",
	"{\"v\": 1, \"op\": \"flag.nope\", \"at\": 1, \"changes\": []}",
	"{\"v\": 1, \"op\": \"flag.set\", \"changes\": []}",
	"{\"v\": 1, \"op\": \"flag.set\", \"at\": 1}",
	"{\"v\": 1, \"op\": \"flag.set\", \"at\": 1, \"changes\": [{\"name\": 1,"
	    " \"new\": 5}]}",
	"{\"v\": 1, \"op\": \"flag.set\", \"at\": 1, \"changes\": [{\"name\":"
	    " \"dark_mode\", \"new\": \"on\"}]}",
	"{\"v\": 1, \"op\": \"flag.set\", \"at\": 1, \"by\": 5, \"changes\": []}",
	"{\"v\": 1, \"op\": \"flag.set\", \"at\": 1, \"reason\": 5, \"changes\": []}",
	"{\"v\": 1, \"op\": \"flag.set\", \"at\": 1, \"seq\": -1, \"changes\": []}",
	"{\"v\": 1, \"op\": \"stage.set\", \"at\": 1, \"kind\": \"set\","
	    " \"changes\": []}",
	"{\"v\": 1, \"op\": \"stage.set\", \"at\": 1, \"kind\": \"sideways\","
	    " \"stage\": {\"from\": 0, \"to\": 1}, \"changes\": []}",
	"{\"v\": 1, \"op\": \"stage.set\", \"at\": 1, \"kind\": \"set\","
	    " \"stage\": {\"from\": 0, \"to\": 1}, \"changes\": [],"
	    " \"push\": [{\"stage\": 1, \"values\": {\"dark_mode\": true}}]}",
	/* A change first, then a bad part: nothing at all is applied. */
	"{\"v\": 1, \"op\": \"stage.set\", \"at\": 1, \"kind\": \"set\","
	    " \"stage\": {\"from\": 0, \"to\": \"1\"}, \"changes\":"
	    " [{\"name\": \"dark_mode\", \"old\": 100, \"new\": 0}]}",
};

/*
 * A record that does not apply stops the replay there: the records after
 * it were made on top of it, so skipping it would change them.
 */
START_TEST(test_replay_stops)
{
	struct flags	*fresh = flags_new(conf), *upto = flags_new(conf);
	json_t		*copy, *head, *a, *b;
	size_t		 bad = 99, i;

	busy_day();
	ck_assert_uint_gt(json_array_size(journal), 3);
	copy = json_deep_copy(journal);
	json_array_insert_new(copy, 2, parse_json(malformed[_i]));
	ck_assert_int_eq(flags_replay(fresh, copy, &bad), -1);
	ck_assert_uint_eq(bad, 2);
	head = json_array();
	for (i = 0; i < 2; i++)
		json_array_append(head, json_array_get(journal, i));
	ck_assert_int_eq(flags_replay(upto, head, &bad), 0);
	a = flags_snapshot_json(fresh);
	b = flags_snapshot_json(upto);
	ck_assert_msg(json_equal(a, b), "records after the bad one applied");
	json_decref(a);
	json_decref(b);
	json_decref(head);
	json_decref(copy);
	flags_free(fresh);
	flags_free(upto);
}
END_TEST

START_TEST(test_apply_malformed)
{
	json_t	*before, *after, *rec;

	stage_set(1);
	before = flags_snapshot_json(fs);
	rec = parse_json(malformed[_i]);
	ck_assert_int_eq(flags_apply(fs, rec), -1);
	after = flags_snapshot_json(fs);
	ck_assert_msg(json_equal(before, after), "%s changed the state",
	    malformed[_i]);
	json_decref(rec);
	json_decref(before);
	json_decref(after);
}
END_TEST

START_TEST(test_apply_clamps)
{
	json_t	*rec;

	rec = parse_json("{\"v\": 1, \"op\": \"flag.set\", \"at\": 5, \"by\": null,"
	    " \"reason\": null, \"changes\": ["
	    " {\"name\": \"checkout_rollout\", \"old\": 25, \"new\": 150},"
	    " {\"name\": \"dark_mode\", \"old\": 100, \"new\": -4},"
	    " {\"name\": \"gone\", \"old\": 0, \"new\": 100}]}");
	ck_assert_int_eq(flags_apply(fs, rec), 0);
	json_decref(rec);
	ck_assert_int_eq(val_of("checkout_rollout"), 100);
	ck_assert_int_eq(val_of("dark_mode"), 0);

	/* A stage beyond the configured ones, with too few saved sets. */
	rec = parse_json("{\"v\": 1, \"op\": \"stage.set\", \"at\": 6,"
	    " \"kind\": \"set\", \"stage\": {\"from\": 0, \"to\": 9},"
	    " \"push\": [{\"stage\": 1, \"values\": {\"checkout_rollout\": 5,"
	    " \"gone\": 7}}], \"changes\": [{\"name\":"
	    " \"enforce_no_process_dict\", \"old\": 0, \"new\": 100}],"
	    " \"seq\": 17}");
	ck_assert_int_eq(flags_apply(fs, rec), 0);
	json_decref(rec);
	ck_assert_int_eq(fs->stage, 4);
	ck_assert_uint_eq(fs->seq, 17);
	ck_assert_ptr_nonnull(fs->saved[3]);
	/* The pushed set; a name it lacks took the value then in force. */
	ck_assert_int_eq(fs->saved[0][flags_find(fs, "checkout_rollout")], 5);
	ck_assert_int_eq(fs->saved[0][flags_find(fs, "dark_mode")], 0);
	/* Padding: the values before the record. */
	ck_assert_int_eq(fs->saved[3][flags_find(fs, "checkout_rollout")], 100);
	ck_assert_int_eq(fs->saved[3][flags_find(fs, "enforce_no_process_dict")],
	    0);

	rollback(3);
	ck_assert_int_eq(val_of("enforce_no_process_dict"), 0);
	rollback(0);
	ck_assert_int_eq(val_of("checkout_rollout"), 5);
	ck_assert_int_eq(fs->stage, 0);
}
END_TEST

/*
 * A fleet's writer on another host: its name rides in "by" through the
 * record, the flag's author, the snapshot; records without it (every
 * older journal) are this host's.
 */
START_TEST(test_apply_writer_host)
{
	struct flags	*fresh = flags_new(conf);
	json_t		*rec, *snap, *again;
	char		 err[256];
	ssize_t		 i = flags_find(fs, "dark_mode");

	rec = parse_json("{\"v\": 1, \"op\": \"flag.set\", \"at\": 5, \"by\":"
	    " {\"uid\": 7, \"pid\": 8, \"host\": \"ctl-1\"}, \"reason\": null,"
	    " \"changes\": [{\"name\": \"dark_mode\", \"old\": 100, \"new\": 0}]}");
	ck_assert_int_eq(flags_apply(fs, rec), 0);
	json_decref(rec);
	ck_assert(fs->flag[i].has_by);
	ck_assert_str_eq(fs->flag[i].by.host, "ctl-1");
	snap = flags_snapshot_json(fs);
	ck_assert_int_eq(flags_restore(fresh, snap, err, sizeof(err)), 0);
	ck_assert_str_eq(fresh->flag[i].by.host, "ctl-1");
	again = flags_snapshot_json(fresh);
	ck_assert(json_equal(snap, again));
	json_decref(snap);
	json_decref(again);
	/* Without one: this host's, and written without it. */
	set_flag("dark_mode", "true");
	ck_assert_str_eq(fs->flag[i].by.host, "");
	/* A host that is not a string or too long: not a record. */
	rec = parse_json("{\"v\": 1, \"op\": \"flag.set\", \"at\": 5, \"by\":"
	    " {\"uid\": 7, \"pid\": 8, \"host\": 3}, \"reason\": null,"
	    " \"changes\": [{\"name\": \"dark_mode\", \"old\": 100, \"new\": 0}]}");
	ck_assert_int_eq(flags_apply(fs, rec), -1);
	json_decref(rec);
	rec = parse_json("{\"v\": 1, \"op\": \"flag.set\", \"at\": 5, \"by\":"
	    " {\"uid\": 7, \"pid\": 8, \"host\": \"0123456789012345678901234567"
	    "8901234567890123456789012345678901234\"}, \"reason\": null,"
	    " \"changes\": [{\"name\": \"dark_mode\", \"old\": 100, \"new\": 0}]}");
	ck_assert_int_eq(flags_apply(fs, rec), -1);
	json_decref(rec);
	ck_assert_int_eq(val_of("dark_mode"), 100);
	flags_free(fresh);
}
END_TEST

/* --- snapshots and reloads ---------------------------------------------------------- */

START_TEST(test_snapshot_roundtrip)
{
	struct flags	*fresh = flags_new(conf);
	json_t		*snap, *again;
	char		 err[256];

	busy_day();
	snap = flags_snapshot_json(fs);
	ck_assert_int_eq(flags_restore(fresh, snap, err, sizeof(err)), 0);
	again = flags_snapshot_json(fresh);
	ck_assert(json_equal(snap, again));
	json_decref(again);
	/* The restored state goes on like the live one. */
	flags_free(fs);
	fs = fresh;
	rollback(1);
	ck_assert_int_eq(val_of("checkout_rollout"), 25);
	ck_assert_int_eq(val_of("use_ets_agent_registry"), 100);
	json_decref(snap);
}
END_TEST

static const char *const bad_snaps[] = {
	"[]",
	"{\"stage\": -1, \"flags\": {}, \"saved\": []}",
	"{\"stage\": 0, \"flags\": [], \"saved\": []}",
	"{\"stage\": 0, \"flags\": {\"dark_mode\": {\"value\": 101,"
	    " \"changed_at\": 0}}, \"saved\": []}",
	"{\"stage\": 0, \"flags\": {\"dark_mode\": {\"value\": true,"
	    " \"changed_at\": 0}}, \"saved\": []}",
	"{\"stage\": 0, \"flags\": {\"dark_mode\": {\"value\": 1}}, \"saved\": []}",
	"{\"stage\": 0, \"flags\": {\"dark_mode\": {\"value\": 1, \"changed_at\": 0,"
	    " \"by\": \"me\"}}, \"saved\": []}",
	"{\"stage\": 2, \"flags\": {}, \"saved\": [{}]}",
	"{\"stage\": 1, \"flags\": {}, \"saved\": [{\"dark_mode\": \"x\"}]}",
	"{\"stage\": 0, \"flags\": {}, \"saved\": [], \"history\": [1]}",
	"{\"stage\": 0, \"flags\": {}, \"saved\": [], \"seq\": \"3\"}",
};

START_TEST(test_snapshot_bad)
{
	json_t	*snap, *before, *after;
	char	 err[256];

	set_flag("checkout_rollout", "33");
	before = flags_snapshot_json(fs);
	snap = parse_json(bad_snaps[_i]);
	err[0] = '\0';
	ck_assert_int_eq(flags_restore(fs, snap, err, sizeof(err)), -1);
	ck_assert_msg(err[0] != '\0', "no message");
	after = flags_snapshot_json(fs);
	ck_assert(json_equal(before, after));
	json_decref(snap);
	json_decref(before);
	json_decref(after);
}
END_TEST

START_TEST(test_reconfigure)
{
	struct config	*re = parse_conf(reload_text);
	json_t		*j;

	set_flag("checkout_rollout", "60");
	stage_set(3);
	set_flag("dark_mode", "false");
	flags_reconfigure(fs, re);
	config_free(conf);
	conf = re;
	ck_assert_uint_eq(fs->nflags, 7);
	ck_assert_int_eq(fs->nstages, 2);
	ck_assert_int_eq(fs->stage, 2);
	ck_assert_int_eq(flags_find(fs, "use_ets_sampled_events"), -1);
	expect_values("new_flag=100 use_genserver_telemetry=100 dark_mode=0 "
	    "checkout_rollout=60");
	ck_assert_uint_eq(json_array_size(fs->history), 1);
	j = flags_stage_json(fs);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "stages")), 2);
	json_decref(j);
	rollback(1);
	expect_values("use_logger_error_context=0 use_genserver_telemetry=0 "
	    "new_flag=100 checkout_rollout=60 dark_mode=100");
	try_op(FLAGS_NOT_FOUND, "stage.set", "{\"stage\": 3}");
}
END_TEST

static Suite *
flags_records_suite(void)
{
	Suite	*s = suite_create("flags_records");
	TCase	*tc = tcase_create("flags_records");

	tcase_add_checked_fixture(tc, flagcoretest_setup,
	    flagcoretest_teardown);
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_replay_unknown_names);
	tcase_add_loop_test(tc, test_apply_malformed, 0, (int)nitems(malformed));
	tcase_add_loop_test(tc, test_replay_stops, 0, (int)nitems(malformed));
	tcase_add_test(tc, test_apply_clamps);
	tcase_add_test(tc, test_apply_writer_host);
	tcase_add_test(tc, test_snapshot_roundtrip);
	tcase_add_loop_test(tc, test_snapshot_bad, 0, (int)nitems(bad_snaps));
	tcase_add_test(tc, test_reconfigure);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(flags_records_suite)
