/*
 * check_state.c: the flag state on disk (src/core/journal*.c), read and
 * judged: journal appends and replay, torn and corrupt tails, records of
 * another version or out of sequence, a newer snapshot. The whole path
 * with flags.c and the repair's salvage are check_state_flags'; the
 * order of the calls that reach the disk, snapshots and a disk that
 * fails check_state_disk's. tests/statetest.h is what they share,
 * statereadtest.h what the first two do.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "util.h"
#include "statetest.h"
#include "statereplay.h"
#include "statereadtest.h"
#include "suite.h"

/* --- tests ------------------------------------------------------------------------ */

START_TEST(test_crc32c)
{
	ck_assert_uint_eq(journal_crc32c("123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(journal_crc32c("", 0), 0);
	ck_assert_uint_ne(journal_crc32c("a", 1), journal_crc32c("b", 1));
}
END_TEST

START_TEST(test_open_creates)
{
	struct journal	*st;
	struct stat	 sb;
	json_t		*snap, *recs;
	char		*deep, *p;

	xasprintf(&deep, "%s/a/b/state", top);
	st = open_ok(deep, &snap, &recs);
	ck_assert_ptr_null(snap);
	ck_assert_uint_eq(json_array_size(recs), 0);
	ck_assert_uint_eq(journal_seq(st), 0);
	ck_assert_uint_eq(journal_dropped_bytes(st), 0);
	ck_assert_int_eq(size_of(deep, "journal"), 0);
	ck_assert(!journal_snapshot_due(st));
	p = path_in(deep, "journal");
	ck_assert_str_eq(journal_path(st), p);
	free(p);
	p = path_in(deep, "state.json");
	ck_assert_str_eq(journal_snapshot_path(st), p);
	free(p);
	ck_assert_int_eq(stat(deep, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0750);
	p = path_in(top, "a");
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0750);
	free(p);
	json_decref(recs);
	journal_close(st);

	/* A file in the way is an error naming it. */
	spit(top, "file", "x", 1);
	p = path_in(top, "file");
	ck_assert_ptr_nonnull(strstr(open_fails(p), p));
	free(p);
	free(deep);
}
END_TEST

START_TEST(test_append_reopen)
{
	struct journal	*st;
	json_t		*rec;
	char		*buf, *line, *nl;
	size_t		 len;
	unsigned	 crc;
	int		 i;

	st = open_ok(sdir, NULL, NULL);
	for (i = 1; i <= 5; i++)
		append_ok(st, i, (uint64_t)i);
	journal_close(st);

	/* "<crc32c hex> <compact json>\n" per record. */
	buf = slurp(sdir, "journal", &len);
	for (line = buf, i = 0; line < buf + len; line = nl + 1, i++) {
		nl = strchr(line, '\n');
		ck_assert_ptr_nonnull(nl);
		ck_assert_int_eq(sscanf(line, "%8x ", &crc), 1);
		ck_assert_int_eq(line[8], ' ');
		ck_assert_uint_eq(crc, journal_crc32c(line + 9,
		    (size_t)(nl - line - 9)));
		rec = json_loadb(line + 9, (size_t)(nl - line - 9), 0, NULL);
		ck_assert_ptr_nonnull(rec);
		ck_assert_int_eq(json_integer_value(json_object_get(rec, "seq")),
		    i + 1);
		json_decref(rec);
	}
	ck_assert_int_eq(i, 5);
	free(buf);

	st = statereplay_open(sdir, 5, 1);
	ck_assert_uint_eq(journal_seq(st), 5);
	append_ok(st, 6, 6);
	journal_close(st);
	statereplay_check(sdir, 6, 1);
}
END_TEST

START_TEST(test_lock)
{
	struct journal	*st, *st2;

	st = open_ok(sdir, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(open_fails(sdir), "in use"));
	journal_close(st);
	st2 = open_ok(sdir, NULL, NULL);
	journal_close(st2);
}
END_TEST

START_TEST(test_append_eintr_short)
{
	struct journal	*st;

	st = open_ok(sdir, NULL, NULL);
	journal_io.write = eintr_write;
	append_ok(st, 1, 1);
	append_ok(st, 2, 2);
	journal_io = real_io;
	journal_close(st);
	statereplay_check(sdir, 2, 1);
}
END_TEST

/* Cut the last record at every byte: replay stops cleanly before it. */
START_TEST(test_torn_tail)
{
	struct journal	*st;
	char		*buf, *sub;
	size_t		 len, good, cut;

	st = open_ok(sdir, NULL, NULL);
	append_ok(st, 1, 1);
	append_ok(st, 2, 2);
	good = (size_t)size_of(sdir, "journal");
	append_ok(st, 3, 3);
	journal_close(st);
	buf = slurp(sdir, "journal", &len);
	ck_assert_uint_gt(len, good + 10);

	for (cut = good; cut < len; cut++) {
		xasprintf(&sub, "%s/cut%zu", top, cut);
		ck_assert_int_eq(mkdir(sub, 0750), 0);
		spit(sub, "journal", buf, cut);
		st = statereplay_open(sub, 2, 1);
		ck_assert_uint_eq(journal_dropped_bytes(st), cut - good);
		ck_assert_int_eq(size_of(sub, "journal"), (off_t)good);
		ck_assert_uint_eq(journal_seq(st), 2);
		/* The next record takes the place of the lost one. */
		append_ok(st, 3, 3);
		journal_close(st);
		st = statereplay_open(sub, 3, 1);
		ck_assert_uint_eq(journal_dropped_bytes(st), 0);
		journal_close(st);
		rmtree(sub);
		free(sub);
	}
	free(buf);
}
END_TEST

/* Damaged tails of other kinds: each is cut off. */
static const char *const tails[] = {
	"zzzz",
	"\n",
	"00000000 {\"seq\": 3}\n",			/* bad checksum */
	"E3069283 123456789\n",			/* upper-case hex */
	"e3069283 123456789\n",			/* good checksum, no object */
	"@CRC@ {\"seq\": 3\n",			/* good checksum, bad JSON */
	"@CRC@ {\"n\": 3}\n",			/* no seq */
	"@CRC@ {\"seq\": 0}\n",			/* seq 0 */
	"@CRC@ [3]\n",				/* not an object */
	"@CRC@{\"seq\": 3}\n",			/* no space */
};

START_TEST(test_bad_tails)
{
	struct journal	*st;
	char		*buf, *tail;
	size_t		 len, good;

	st = open_ok(sdir, NULL, NULL);
	append_ok(st, 1, 1);
	append_ok(st, 2, 2);
	journal_close(st);
	buf = slurp(sdir, "journal", &good);

	if (strncmp(tails[_i], "@CRC@", 5) == 0) {
		/* The checksum of the JSON after it, made right. */
		const char	*rest = tails[_i] + 5;
		const char	*json = rest + (*rest == ' ');

		xasprintf(&tail, "%08x%s", journal_crc32c(json, strlen(json) - 1),
		    rest);
	} else
		tail = xstrdup(tails[_i]);
	len = good + strlen(tail);
	buf = xreallocarray(buf, len + 1, 1);
	memcpy(buf + good, tail, strlen(tail) + 1);
	spit(sdir, "journal", buf, len);

	st = statereplay_open(sdir, 2, 1);
	ck_assert_uint_eq(journal_dropped_bytes(st), strlen(tail));
	ck_assert_int_eq(size_of(sdir, "journal"), (off_t)good);
	journal_close(st);
	free(tail);
	free(buf);
}
END_TEST

/*
 * A damaged record before good ones is no torn write: only the last line
 * can be torn by a crash. warden refuses to start, naming the file, the
 * line, the record it should be and the byte, and touches nothing.
 */
enum { MID_CHECKSUM, MID_SUM, MID_NEWLINE, MID_BLANK, MID_GARBAGE_AFTER,
	MID_COUNT };

START_TEST(test_corrupt_middle)
{
	char		*buf, *p, *path, byte[32], line[32];
	const char	*words[4];
	size_t		 len, off[6];

	buf = five(&len, off);
	path = path_in(sdir, "journal");
	words[0] = path;
	words[1] = line;
	words[2] = byte;
	words[3] = "after it";
	snprintf(line, sizeof(line), "line 3");
	snprintf(byte, sizeof(byte), "byte %zu", off[2]);
	switch (_i) {
	case MID_CHECKSUM:
		/* Record 3's "n": 3 becomes 7: same length, wrong checksum. */
		p = strstr(buf + off[2], "\"n\":3");
		ck_assert_ptr_nonnull(p);
		p[4] = '7';
		break;
	case MID_SUM:
		/* One bit of the checksum itself. */
		buf[off[2]] ^= 0x01;
		break;
	case MID_NEWLINE:
		/* Lines 3 and 4 run together: one bad line, then line 5. */
		buf[off[3] - 1] = ' ';
		break;
	case MID_BLANK:
		/* An empty line between records 2 and 3. */
		buf = xreallocarray(buf, len + 2, 1);
		memmove(buf + off[2] + 1, buf + off[2], len - off[2] + 1);
		buf[off[2]] = '\n';
		len++;
		break;
	case MID_GARBAGE_AFTER:
		/* A bad last record with anything after it is not torn. */
		p = strstr(buf + off[4], "\"n\":5");
		ck_assert_ptr_nonnull(p);
		p[4] = '7';
		buf = xreallocarray(buf, len + 3, 1);
		memcpy(buf + len, "zz", 3);
		len += 2;
		snprintf(line, sizeof(line), "line 5");
		snprintf(byte, sizeof(byte), "byte %zu", off[4]);
		break;
	}
	spit(sdir, "journal", buf, len);
	refused(words, nitems(words));
	free(path);
	free(buf);
}
END_TEST

/* A record of a version this warden does not know, last or not. */
START_TEST(test_unknown_version)
{
	struct journal	*st;
	char		*l3, *l4, *buf, *all, *path, byte[32];
	const char	*words[5];
	size_t		 len, off[6];

	buf = five(&len, off);
	path = path_in(sdir, "journal");
	l3 = line_for("{\"v\":2,\"seq\":6,\"op\":\"flag.set\",\"new\":{}}");
	xasprintf(&all, "%s%s", buf, l3);
	spit(sdir, "journal", all, strlen(all));
	snprintf(byte, sizeof(byte), "byte %zu", len);
	words[0] = path;
	words[1] = "line 6";
	words[2] = "record 6";
	words[3] = byte;
	words[4] = "version 2";
	refused(words, nitems(words));
	free(all);

	/* With a good record after it. */
	l4 = line_for("{\"v\":1,\"seq\":7,\"n\":7}");
	xasprintf(&all, "%s%s%s", buf, l3, l4);
	spit(sdir, "journal", all, strlen(all));
	refused(words, nitems(words));
	free(all);
	free(l4);

	/* No version at all is no better. */
	l4 = line_for("{\"seq\":6,\"n\":6}");
	xasprintf(&all, "%s%s", buf, l4);
	spit(sdir, "journal", all, strlen(all));
	refused(words, 4);
	free(all);
	free(l4);

	/* And the journal is fine again without it. */
	spit(sdir, "journal", buf, len);
	st = open_ok(sdir, NULL, NULL);
	journal_close(st);
	free(l3);
	free(buf);
	free(path);
}
END_TEST

/* Good lines out of sequence are missing records, not a torn write. */
START_TEST(test_seq_gap)
{
	char		*l1, *l2, *l3, *all, *path, byte[32];
	const char	*words[5];

	l1 = line_for("{\"v\":1,\"seq\":1}");
	l2 = line_for("{\"v\":1,\"seq\":2}");
	l3 = line_for("{\"v\":1,\"seq\":3}");
	path = path_in(sdir, "journal");
	ck_assert_int_eq(mkdir(sdir, 0750), 0);
	words[0] = path;
	words[1] = "line 2";
	words[2] = "record 3";
	words[3] = byte;
	words[4] = "follows record 1";
	snprintf(byte, sizeof(byte), "byte %zu", strlen(l1));
	xasprintf(&all, "%s%s", l1, l3);
	spit(sdir, "journal", all, strlen(all));
	refused(words, nitems(words));
	free(all);

	/* A record twice. */
	words[1] = "line 3";
	words[2] = "record 2";
	words[4] = "follows record 2";
	snprintf(byte, sizeof(byte), "byte %zu", strlen(l1) + strlen(l2));
	xasprintf(&all, "%s%s%s", l1, l2, l2);
	spit(sdir, "journal", all, strlen(all));
	refused(words, nitems(words));
	free(all);

	/* Records 1.. missing with no snapshot to cover them. */
	spit(sdir, "journal", l3, strlen(l3));
	words[1] = "line 1";
	words[2] = "record 3";
	words[3] = "byte 0";
	words[4] = "starts at record 3";
	refused(words, nitems(words));
	free(l1);
	free(l2);
	free(l3);
	free(path);
}
END_TEST

/* A snapshot of a newer warden is refused, as a newer record is. */
START_TEST(test_snapshot_newer)
{
	static const char text[] =
	    "{\"version\": 2, \"seq\": 5, \"state\": {}, \"more\": 1}\n";
	struct journal	*st;
	char		*path;
	const char	*words[3];

	st = open_ok(sdir, NULL, NULL);
	append_ok(st, 1, 1);
	journal_close(st);
	spit(sdir, "state.json", text, strlen(text));
	path = path_in(sdir, "state.json");
	words[0] = path;
	words[1] = "version 2";
	words[2] = "newer";
	refused(words, nitems(words));
	free(path);
}
END_TEST

static Suite *
state_suite(void)
{
	Suite	*s = suite_create("state");
	TCase	*tc = tcase_create("state");

	tcase_add_checked_fixture(tc, statetest_setup, statetest_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_crc32c);
	tcase_add_test(tc, test_open_creates);
	tcase_add_test(tc, test_append_reopen);
	tcase_add_test(tc, test_lock);
	tcase_add_test(tc, test_append_eintr_short);
	tcase_add_test(tc, test_torn_tail);
	tcase_add_loop_test(tc, test_bad_tails, 0, (int)nitems(tails));
	tcase_add_loop_test(tc, test_corrupt_middle, 0, MID_COUNT);
	tcase_add_test(tc, test_unknown_version);
	tcase_add_test(tc, test_seq_gap);
	tcase_add_test(tc, test_snapshot_newer);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(state_suite)
