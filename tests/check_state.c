/*
 * check_state.c: the flag state on disk (src/core/journal*.c), read and
 * judged: journal appends and replay, torn and corrupt tails, records of
 * another version or out of sequence, a newer snapshot; the whole path
 * with flags.c; and the repair's salvage. check_state_disk.c has the
 * order of the calls that reach the disk, snapshots and a disk that
 * fails; tests/statetest.h is what the two share.
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
#include "suite.h"

/* --- tests ------------------------------------------------------------------------ */

static char *
line_for(const char *json)
{
	char	*line;

	xasprintf(&line, "%08x %s\n", journal_crc32c(json, strlen(json)), json);
	return line;
}

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
	json_t		*recs, *rec;
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

	st = open_ok(sdir, NULL, &recs);
	check_recs(recs, 5, 1);
	ck_assert_uint_eq(journal_seq(st), 5);
	append_ok(st, 6, 6);
	json_decref(recs);
	journal_close(st);
	st = open_ok(sdir, NULL, &recs);
	check_recs(recs, 6, 1);
	json_decref(recs);
	journal_close(st);
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
	json_t		*recs;

	st = open_ok(sdir, NULL, NULL);
	journal_io.write = eintr_write;
	append_ok(st, 1, 1);
	append_ok(st, 2, 2);
	journal_io = real_io;
	journal_close(st);
	st = open_ok(sdir, NULL, &recs);
	check_recs(recs, 2, 1);
	json_decref(recs);
	journal_close(st);
}
END_TEST

/* Cut the last record at every byte: replay stops cleanly before it. */
START_TEST(test_torn_tail)
{
	struct journal	*st;
	json_t		*recs;
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
		st = open_ok(sub, NULL, &recs);
		check_recs(recs, 2, 1);
		ck_assert_uint_eq(journal_dropped_bytes(st), cut - good);
		ck_assert_int_eq(size_of(sub, "journal"), (off_t)good);
		ck_assert_uint_eq(journal_seq(st), 2);
		/* The next record takes the place of the lost one. */
		append_ok(st, 3, 3);
		json_decref(recs);
		journal_close(st);
		st = open_ok(sub, NULL, &recs);
		check_recs(recs, 3, 1);
		ck_assert_uint_eq(journal_dropped_bytes(st), 0);
		json_decref(recs);
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
	json_t		*recs;
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

	st = open_ok(sdir, NULL, &recs);
	check_recs(recs, 2, 1);
	ck_assert_uint_eq(journal_dropped_bytes(st), strlen(tail));
	ck_assert_int_eq(size_of(sdir, "journal"), (off_t)good);
	json_decref(recs);
	journal_close(st);
	free(tail);
	free(buf);
}
END_TEST

/* The journal and the snapshot, byte for byte, to compare after a refusal. */
struct files {
	char	*journal, *snap;
	size_t	 jlen, slen;
};

static void
files_take(struct files *f)
{
	f->journal = slurp(sdir, "journal", &f->jlen);
	f->snap = exists(sdir, "state.json") ?
	    slurp(sdir, "state.json", &f->slen) : NULL;
}

static void
files_same(const struct files *f)
{
	struct files	now;

	files_take(&now);
	ck_assert_msg(now.jlen == f->jlen &&
	    memcmp(now.journal, f->journal, f->jlen) == 0,
	    "the journal changed (%zu bytes, %zu before)", now.jlen, f->jlen);
	ck_assert_msg((now.snap == NULL) == (f->snap == NULL),
	    "state.json appeared or vanished");
	if (f->snap != NULL)
		ck_assert_msg(now.slen == f->slen &&
		    memcmp(now.snap, f->snap, f->slen) == 0,
		    "state.json changed");
	ck_assert(!exists(sdir, "journal.tmp"));
	ck_assert(!exists(sdir, "state.json.tmp"));
	free(now.journal);
	free(now.snap);
}

static void
files_free(struct files *f)
{
	free(f->journal);
	free(f->snap);
}

/*
 * Open must fail, twice (the lock is let go), with a message holding each
 * of the words, and leave both files as they were.
 */
static void
refused(const char *const *words, size_t n)
{
	struct files	 f;
	const char	*msg;
	size_t		 i, k;

	files_take(&f);
	for (k = 0; k < 2; k++) {
		msg = open_fails(sdir);
		for (i = 0; i < n; i++)
			ck_assert_msg(strstr(msg, words[i]) != NULL,
			    "\"%s\" not in: %s", words[i], msg);
		ck_assert_msg(strstr(msg, "in use") == NULL, "%s", msg);
		files_same(&f);
	}
	files_free(&f);
}

/* Five records; *off[i] is where line i + 1 starts. */
static char *
five(size_t *len, size_t off[6])
{
	struct journal	*st;
	char		*buf, *nl;
	int		 i;

	st = open_ok(sdir, NULL, NULL);
	for (i = 1; i <= 5; i++)
		append_ok(st, i, (uint64_t)i);
	journal_close(st);
	buf = slurp(sdir, "journal", len);
	off[0] = 0;
	for (i = 1; i <= 5; i++) {
		nl = memchr(buf + off[i - 1], '\n', *len - off[i - 1]);
		ck_assert_ptr_nonnull(nl);
		off[i] = (size_t)(nl - buf) + 1;
	}
	return buf;
}

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
	struct flags_actor by = { 0, 1 };
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
	st = open_ok(sdir, NULL, &recs);
	check_recs(recs, 2, 1);
	ck_assert_int_gt(size_of(sdir, "journal"), good);
	json_decref(recs);
	journal_close(st);
}
END_TEST

/* The repair's part here: read, judge from a base, keep a prefix. */
START_TEST(test_salvage)
{
	const struct journal_line	*lines;
	struct journal		*st;
	json_t			*recs;
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
	st = open_ok(sdir, NULL, &recs);
	check_recs(recs, 2, 1);
	json_decref(recs);
	journal_close(st);

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
	st = open_ok(sdir, NULL, &recs);
	check_recs(recs, 2, 1);
	json_decref(recs);
	journal_close(st);

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
	tcase_add_test(tc, test_with_flags);
	tcase_add_test(tc, test_shape_invalid);
	tcase_add_test(tc, test_begin_cuts);
	tcase_add_test(tc, test_salvage);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(state_suite)

