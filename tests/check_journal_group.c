/*
 * check_journal_group.c: group commit in the journal (src/core/journal-write.c):
 * records written without a sync share one fdatasync; a write or a sync
 * that fails cuts the whole group back off, with its seqs and its count
 * towards the next snapshot; nothing else may write while a group is open.
 * And flags_copy(), the pending state a group is validated against. See
 * check_state_disk.c.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "flags.h"
#include "journal.h"
#include "util.h"
#include "statetest.h"
#include "suite.h"

static int	group_syncs;

static int
group_counting_sync(int fd)
{
	group_syncs++;
	return real_io.fdatasync(fd);
}

/* Write records first..first+n-1 without a sync; their seqs follow seq0. */
static void
group_write(struct journal *st, int first, int n, uint64_t seq0)
{
	json_t	*rec;
	int	 i;

	for (i = 0; i < n; i++) {
		rec = rec_n(first + i);
		ck_assert_msg(journal_write(st, rec) == 0, "write: %s",
		    strerror(errno));
		ck_assert_int_eq(json_integer_value(json_object_get(rec, "seq")),
		    (json_int_t)(seq0 + (uint64_t)i + 1));
		json_decref(rec);
	}
	ck_assert_uint_eq(journal_unsynced(st), (size_t)n);
	ck_assert_uint_gt(journal_unsynced_bytes(st), 0);
}

/* Reopened, the journal holds records 1..count. */
static void
group_reopen(struct journal *st, size_t count)
{
	json_t	*recs;

	journal_close(st);
	st = open_ok(sdir, NULL, &recs);
	check_recs(recs, count, 1);
	json_decref(recs);
	journal_close(st);
}

START_TEST(test_group_one_sync)
{
	struct journal	*st;

	st = open_ok(sdir, NULL, NULL);
	journal_io.fdatasync = group_counting_sync;
	group_write(st, 1, 10, 0);
	ck_assert_int_eq(group_syncs, 0);
	ck_assert_int_eq(journal_sync(st), 0);
	ck_assert_int_eq(group_syncs, 1);
	ck_assert_uint_eq(journal_syncs(st), 1);
	ck_assert_uint_eq(journal_unsynced(st), 0);
	ck_assert_uint_eq(journal_unsynced_bytes(st), 0);
	ck_assert_uint_eq(journal_seq(st), 10);
	/* Nothing written: no sync. */
	ck_assert_int_eq(journal_sync(st), 0);
	ck_assert_int_eq(group_syncs, 1);
	/* A lone append is a group of one. */
	append_ok(st, 11, 11);
	ck_assert_int_eq(group_syncs, 2);
	ck_assert_uint_eq(journal_syncs(st), 2);
	group_reopen(st, 11);
}
END_TEST

/* The sync fails: the group is gone, seq and all; the next one follows on. */
START_TEST(test_group_sync_fails)
{
	struct journal	*st;
	off_t		 before;

	st = open_ok(sdir, NULL, NULL);
	append_ok(st, 1, 1);
	append_ok(st, 2, 2);
	before = size_of(sdir, "journal");
	group_write(st, 3, 5, 2);
	ck_assert_int_gt(size_of(sdir, "journal"), before);
	journal_io.fdatasync = failing_sync;
	ck_assert_int_eq(journal_sync(st), -1);
	ck_assert_int_eq(errno, EIO);
	ck_assert_int_eq(size_of(sdir, "journal"), before);
	ck_assert_uint_eq(journal_seq(st), 2);
	ck_assert_uint_eq(journal_unsynced(st), 0);
	ck_assert_uint_eq(journal_syncs(st), 2);
	journal_io.fdatasync = real_io.fdatasync;
	group_write(st, 3, 2, 2);
	ck_assert_int_eq(journal_sync(st), 0);
	group_reopen(st, 4);
}
END_TEST

/* A write fails part way through the third line: the first two go too. */
START_TEST(test_group_write_fails)
{
	struct journal	*st;
	json_t		*rec;
	off_t		 before;

	st = open_ok(sdir, NULL, NULL);
	append_ok(st, 1, 1);
	before = size_of(sdir, "journal");
	group_write(st, 2, 2, 1);
	journal_io.write = failing_write;
	write_allow = 9;
	write_err = ENOSPC;
	rec = rec_n(4);
	ck_assert_int_eq(journal_write(st, rec), -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_ptr_null(json_object_get(rec, "seq"));
	json_decref(rec);
	ck_assert_int_eq(size_of(sdir, "journal"), before);
	ck_assert_uint_eq(journal_seq(st), 1);
	ck_assert_uint_eq(journal_unsynced(st), 0);
	/* Nothing left to sync, and the disk back: the next group is 2, 3. */
	ck_assert_int_eq(journal_sync(st), 0);
	journal_io.write = real_io.write;
	group_write(st, 2, 2, 1);
	ck_assert_int_eq(journal_sync(st), 0);
	group_reopen(st, 3);
}
END_TEST

/* A failed group does not count towards the next snapshot. */
START_TEST(test_group_snapshot_count)
{
	struct journal	*st;

	st = open_ok(sdir, NULL, NULL);
	journal_set_snapshot_every(st, 4);
	append_ok(st, 1, 1);
	append_ok(st, 2, 2);
	group_write(st, 3, 2, 2);
	journal_io.fdatasync = failing_sync;
	ck_assert_int_eq(journal_sync(st), -1);
	ck_assert(!journal_snapshot_due(st));
	journal_io.fdatasync = real_io.fdatasync;
	group_write(st, 3, 1, 2);
	ck_assert_int_eq(journal_sync(st), 0);
	ck_assert(!journal_snapshot_due(st));
	group_write(st, 4, 1, 3);
	ck_assert_int_eq(journal_sync(st), 0);
	ck_assert(journal_snapshot_due(st));
	group_reopen(st, 4);
}
END_TEST

/* While a group is open, no snapshot and no lone append may cut in. */
START_TEST(test_group_open_refuses)
{
	struct journal	*st;
	json_t		*snap = json_object(), *rec = rec_n(2);

	st = open_ok(sdir, NULL, NULL);
	group_write(st, 1, 1, 0);
	ck_assert_int_eq(journal_snapshot(st, snap), -1);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert(!exists(sdir, "state.json"));
	ck_assert_int_eq(journal_append(st, rec), -1);
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_uint_eq(journal_unsynced(st), 1);
	ck_assert_int_eq(journal_sync(st), 0);
	ck_assert_int_eq(journal_append(st, rec), 0);
	json_decref(rec);
	json_decref(snap);
	group_reopen(st, 2);
}
END_TEST

/* --- flags_copy -------------------------------------------------------------------- */

static const char group_conf[] =
    "{ \"flags\": { \"a\": {}, \"b\": { \"default\": 10 } },\n"
    "  \"stages\": [ { \"stage\": 1, \"enable\": [\"a\"] },\n"
    "              { \"stage\": 2, \"enable\": [\"b\"] } ],\n"
    "  \"supervisor\": { \"children\": [] } }";

/* A change on the copy leaves the original as it was, and the other way. */
START_TEST(test_flags_copy)
{
	struct flags_actor	 by = { 0, 1, "" };
	struct flags_ctx	 ctx = { 1000, &by, "why" };
	struct config		*conf;
	struct flags		*fs, *cp;
	json_t			*rec, *before, *snap;
	char			 err[512];

	ck_assert_msg(config_parse(group_conf, strlen(group_conf), "test",
	    &conf, err, sizeof(err)) == 0, "%s", err);
	fs = flags_new(conf);
	ck_assert_int_eq(flags_op_stage_set(fs, 1, &ctx, &rec, err,
	    sizeof(err)), FLAGS_OK);
	ck_assert_int_eq(flags_apply(fs, rec), 0);
	json_decref(rec);
	before = flags_snapshot_json(fs);
	cp = flags_copy(fs);
	snap = flags_snapshot_json(cp);
	ck_assert(json_equal(snap, before));
	json_decref(snap);

	ck_assert_int_eq(flags_op_stage_set(cp, 2, &ctx, &rec, err,
	    sizeof(err)), FLAGS_OK);
	ck_assert_int_eq(flags_apply(cp, rec), 0);
	json_decref(rec);
	ck_assert_int_eq(cp->stage, 2);
	snap = flags_snapshot_json(fs);
	ck_assert(json_equal(snap, before));
	json_decref(snap);
	/* Validated against the copy: stage 2 again is a conflict there only. */
	ck_assert_int_eq(flags_op_stage_set(cp, 2, &ctx, &rec, err,
	    sizeof(err)), FLAGS_CONFLICT);
	ck_assert_int_eq(flags_op_stage_set(fs, 2, &ctx, &rec, err,
	    sizeof(err)), FLAGS_OK);
	json_decref(rec);
	flags_free(fs);
	snap = flags_snapshot_json(cp);
	ck_assert_int_eq(json_integer_value(json_object_get(snap, "stage")), 2);
	json_decref(snap);
	flags_free(cp);
	json_decref(before);
	config_free(conf);
}
END_TEST

static Suite *
journal_group_suite(void)
{
	Suite	*s = suite_create("journal_group");
	TCase	*tc = tcase_create("journal_group");

	tcase_add_checked_fixture(tc, statetest_setup, statetest_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_group_one_sync);
	tcase_add_test(tc, test_group_sync_fails);
	tcase_add_test(tc, test_group_write_fails);
	tcase_add_test(tc, test_group_snapshot_count);
	tcase_add_test(tc, test_group_open_refuses);
	tcase_add_test(tc, test_flags_copy);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(journal_group_suite)
