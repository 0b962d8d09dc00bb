/*
 * check_state_flags.c: the flag state on disk with flags.c, as the daemon
 * uses them (src/core/journal*.c, flags.c): changes journaled and
 * replayed to the same state, records of an invalid shape refused, a
 * begin that cuts a torn tail, and the repair's salvage.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "flags.h"
#include "journal.h"
#include "util.h"
#include "statetest.h"
#include "statereplay.h"
#include "statereadtest.h"
#include "suite.h"

/* --- with flags.c: what the daemon does --------------------------------------------- */

static const char flags_conf[] =
	"{ \"flags\": { \"a\": {}, \"b\": {}, \"c\": {\"default\": 10},"
	" \"d\": {\"default\": true} },\n"
	"  \"stages\": [ {\"stage\": 1, \"enable\": [\"a\"]},"
	" {\"stage\": 2, \"enable\": [\"b\", \"c\"]} ],\n"
	"  \"supervisor\": { \"children\": [ { \"name\": \"w\","
	" \"command\": [\"/bin/true\"] } ] } }";

/* One change as the daemon makes it: record, journal, then apply. */
static int
change(struct journal *st, struct flags *fs, const char *method,
    const char *params_text)
{
	struct flags_actor by = { 0, 1, "" };
	json_t		*params = json_loads(params_text, 0, NULL), *rec = NULL;
	struct flags_change ch;
	char		 err[256];
	enum flags_err	 e;
	enum flags_op	 op;
	int		 rc = 0;

	ck_assert_ptr_nonnull(params);
	ck_assert_int_eq(flags_op_parse(method, &op), 0);
	if ((e = flags_change_read(op, params, &ch, err, sizeof(err))) ==
	    FLAGS_OK)
		e = flags_op_change(fs, &ch, &by, 1714564800000LL, &rec, err,
		    sizeof(err));
	ck_assert_msg(e == FLAGS_OK, "%s: %s", method, err);
	if (journal_append(st, rec) == 0) {
		ck_assert_int_eq(flags_apply(fs, rec), 0);
		if (journal_snapshot_due(st)) {
			json_t	*snap = flags_snapshot_json(fs);

			ck_assert_int_eq(journal_snapshot(st, snap), 0);
			json_decref(snap);
		}
	} else
		rc = -1;
	json_decref(rec);
	json_decref(params);
	return rc;
}

static struct flags *
load(struct config *conf, struct journal **st)
{
	struct flags	*fs = flags_new(conf);
	json_t		*snap, *recs;
	char		 err[256];
	size_t		 bad;

	*st = open_ok(sdir, &snap, &recs);
	if (snap != NULL)
		ck_assert_msg(flags_restore(fs, snap, err, sizeof(err)) == 0,
		    "%s: %s", journal_snapshot_path(*st), err);
	ck_assert_int_eq(flags_replay(fs, recs, &bad), 0);
	json_decref(snap);
	json_decref(recs);
	return fs;
}

static void
same_state(struct flags *a, struct flags *b)
{
	json_t	*ja = flags_snapshot_json(a), *jb = flags_snapshot_json(b);

	ck_assert_msg(json_equal(ja, jb), "states differ");
	json_decref(ja);
	json_decref(jb);
}

START_TEST(test_with_flags)
{
	struct config	*conf = NULL;
	struct journal	*st;
	struct flags	*live, *again;
	json_t		*before;
	char		 err[512];
	int		 every;

	ck_assert_msg(config_parse(flags_conf, strlen(flags_conf), "/w.json",
	    &conf, err, sizeof(err)) == 0, "%s", err);
	for (every = 0; every <= 3; every++) {
		live = load(conf, &st);
		journal_set_snapshot_every(st, (unsigned)every);
		ck_assert_int_eq(change(st, live, "flag.set",
		    "{\"name\": \"c\", \"value\": 40}"), 0);
		ck_assert_int_eq(change(st, live, "stage.set",
		    "{\"stage\": 2}"), 0);
		ck_assert_int_eq(change(st, live, "flag.set",
		    "{\"name\": \"d\", \"value\": false}"), 0);
		ck_assert_int_eq(change(st, live, "stage.rollback",
		    "{\"stage\": 1}"), 0);

		/* The disk fills: the change is refused and nothing moves. */
		before = flags_snapshot_json(live);
		journal_io.write = failing_write;
		write_allow = 5;
		write_err = ENOSPC;
		ck_assert_int_eq(change(st, live, "stage.emergency", "{}"), -1);
		journal_io = real_io;
		ck_assert_int_eq(live->stage, 1);
		json_decref(before);

		ck_assert_int_eq(change(st, live, "flag.reset",
		    "{\"name\": \"c\"}"), 0);
		journal_close(st);

		again = load(conf, &st);
		same_state(live, again);
		ck_assert_int_eq(again->stage, 1);
		ck_assert_int_eq(again->flag[flags_find(again, "c")].value, 10);
		ck_assert_int_eq(again->flag[flags_find(again, "d")].value, 100);
		/* A clean shutdown: snapshot, then the same state again. */
		before = flags_snapshot_json(again);
		ck_assert_int_eq(journal_snapshot(st, before), 0);
		json_decref(before);
		journal_close(st);
		flags_free(again);
		again = load(conf, &st);
		same_state(live, again);
		ck_assert_int_eq(size_of(sdir, "journal"), 0);
		journal_close(st);
		flags_free(again);
		flags_free(live);
		rmtree(sdir);
	}
	config_free(conf);
}
END_TEST

/*
 * A record that verifies but does not apply stops the start as damage
 * does, naming line, record and byte; nothing is written, not even the
 * torn tail after it cut, nor a journal the snapshot covers restarted.
 */
START_TEST(test_shape_invalid)
{
	struct config	*conf = NULL;
	struct journal	*st;
	struct flags	*fs;
	struct files	 f;
	json_t		*snap, *recs;
	char		 err[512], *buf, *bad, *all, byte[32];
	size_t		 len, at;
	int		 i;

	ck_assert_msg(config_parse(flags_conf, strlen(flags_conf), "/w.json",
	    &conf, err, sizeof(err)) == 0, "%s", err);
	fs = load(conf, &st);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(change(st, fs, "flag.set",
		    "{\"name\": \"c\", \"value\": 40}"), 0);
	journal_close(st);
	flags_free(fs);
	buf = slurp(sdir, "journal", &len);
	bad = line_for("{\"v\":1,\"seq\":4,\"op\":\"flag.nope\",\"at\":1,"
	    "\"changes\":[]}");
	xasprintf(&all, "%s%s%s", buf, bad, "0badf00d {\"v\":1,\"se");
	spit(sdir, "journal", all, strlen(all));
	files_take(&f);
	at = len;

	for (i = 0; i < 2; i++) {
		fs = flags_new(conf);
		st = open_begin(sdir, &snap, &recs, false);
		ck_assert_ptr_null(snap);
		ck_assert_uint_eq(json_array_size(recs), 4);
		ck_assert_int_eq(flags_replay(fs, recs, &at), -1);
		ck_assert_uint_eq(at, 3);
		ck_assert_int_eq(journal_record_error(st, at, "does not apply",
		    err, sizeof(err)), -1);
		snprintf(byte, sizeof(byte), "byte %zu", len);
		ck_assert_msg(strstr(err, "/journal: line 4, record 4") &&
		    strstr(err, byte) && strstr(err, "does not apply"), "%s",
		    err);
		json_decref(recs);
		journal_close(st);
		flags_free(fs);
		files_same(&f);
	}
	files_free(&f);
	free(all);
	free(bad);
	free(buf);
	config_free(conf);
}
END_TEST

/* journal_open() writes nothing: the torn tail goes at journal_begin(). */
START_TEST(test_begin_cuts)
{
	struct journal	*st;
	struct files	 f;
	json_t		*recs;
	char		*buf;
	size_t		 len;
	off_t		 good;

	st = open_ok(sdir, NULL, NULL);
	append_ok(st, 1, 1);
	journal_close(st);
	good = size_of(sdir, "journal");
	buf = slurp(sdir, "journal", &len);
	buf = xreallocarray(buf, len + 8, 1);
	memcpy(buf + len, "0123abcd", 8);
	spit(sdir, "journal", buf, len + 8);
	free(buf);
	files_take(&f);
	st = open_begin(sdir, NULL, &recs, false);
	check_recs(recs, 1, 1);
	ck_assert_uint_eq(journal_dropped_bytes(st), 8);
	json_decref(recs);
	journal_close(st);
	files_same(&f);
	files_free(&f);

	/* Appending without journal_begin() cuts it too. */
	st = open_begin(sdir, NULL, NULL, false);
	append_ok(st, 2, 2);
	journal_close(st);
	st = statereplay_open(sdir, 2, 1);
	ck_assert_int_gt(size_of(sdir, "journal"), good);
	journal_close(st);
}
END_TEST

/* The repair's part here: read, judge from a base, keep a prefix. */
START_TEST(test_salvage)
{
	const struct journal_line	*lines;
	struct journal		*st;
	char			*buf, *p, *aside, *kept, err[512], why[512];
	size_t			 len, off[6], n, keep;

	buf = five(&len, off);
	p = strstr(buf + off[2], "\"n\":3");
	ck_assert_ptr_nonnull(p);
	p[4] = '7';
	spit(sdir, "journal", buf, len);

	ck_assert_msg(journal_inspect(sdir, &st, err, sizeof(err)) == 0, "%s",
	    err);
	/* Locked as the daemon's open is. */
	ck_assert_ptr_nonnull(strstr(open_fails(sdir), "in use"));
	lines = journal_lines(st, &n);
	ck_assert_uint_eq(n, 5);
	ck_assert_ptr_null(lines[1].why);
	ck_assert_uint_eq(lines[1].seq, 2);
	ck_assert_str_eq(lines[2].why, "bad checksum");
	ck_assert(lines[2].torn);
	ck_assert_uint_eq(lines[2].off, off[2]);
	ck_assert_uint_eq(lines[3].seq, 4);
	keep = journal_check(st, 0, why, sizeof(why));
	ck_assert_uint_eq(keep, 2);
	ck_assert_msg(strstr(why, "line 3 (byte"), "%s", why);
	/* Records the base covers are checked all the same. */
	ck_assert_uint_eq(journal_check(st, 3, why, sizeof(why)), 2);
	ck_assert_ptr_null(journal_snapshot_error(st));
	ck_assert(!journal_has_snapshot_file(st));
	ck_assert_int_eq(journal_salvage(st, keep, false, "T1", err,
	    sizeof(err)), 0);
	/* The same name again is refused, never overwritten. */
	ck_assert_int_eq(journal_salvage(st, keep, false, "T1", err,
	    sizeof(err)), -1);
	journal_close(st);

	aside = slurp(sdir, "journal.damaged-T1", &n);
	ck_assert_uint_eq(n, len);
	ck_assert_int_eq(memcmp(aside, buf, len), 0);
	kept = slurp(sdir, "journal", &n);
	ck_assert_uint_eq(n, off[2]);
	ck_assert_int_eq(memcmp(kept, buf, n), 0);
	statereplay_check(sdir, 2, 1);

	/* An unusable snapshot is moved aside, not removed. */
	spit(sdir, "state.json", "{\"version\": 1", 13);
	ck_assert_int_eq(journal_inspect(sdir, &st, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(journal_snapshot_error(st));
	ck_assert(journal_has_snapshot_file(st));
	ck_assert_uint_eq(journal_check(st, 0, why, sizeof(why)), 2);
	ck_assert_int_eq(journal_salvage(st, 2, true, "T2", err, sizeof(err)),
	    0);
	journal_close(st);
	ck_assert(!exists(sdir, "state.json"));
	ck_assert(exists(sdir, "state.json.damaged-T2"));
	ck_assert(!exists(sdir, "journal.damaged-T2"));
	statereplay_check(sdir, 2, 1);

	/* Inspecting a folder with nothing in it creates nothing. */
	rmtree(sdir);
	ck_assert_int_eq(mkdir(sdir, 0750), 0);
	ck_assert_int_eq(journal_inspect(sdir, &st, err, sizeof(err)), 0);
	lines = journal_lines(st, &n);
	ck_assert_uint_eq(n, 0);
	journal_close(st);
	ck_assert(!exists(sdir, "journal"));
	free(kept);
	free(aside);
	free(buf);
}
END_TEST

static Suite *
state_flags_suite(void)
{
	Suite	*s = suite_create("state_flags");
	TCase	*tc = tcase_create("state_flags");

	tcase_add_checked_fixture(tc, statetest_setup, statetest_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_with_flags);
	tcase_add_test(tc, test_shape_invalid);
	tcase_add_test(tc, test_begin_cuts);
	tcase_add_test(tc, test_salvage);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(state_flags_suite)
