/*
 * check_state_disk.c: the flag state on disk (src/core/journal*.c) as it
 * reaches the disk: every cut and new folder synced, snapshots and their
 * atomicity, and a disk that fails (injected, an RLIMIT_FSIZE limit, and a
 * full tmpfs when root may mount one). See check_state.c.
 */
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "util.h"
#include "statetest.h"
#include "statereplay.h"
#include "suite.h"

/* --- the order of calls that reach the disk ---------------------------------------- */

static char	calls[64][PATH_MAX + 32];
static size_t	ncalls;
static int	sync_fail_once;

static void
call_note(const char *what, int fd)
{
	char	link[64], path[PATH_MAX];
	ssize_t	n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) == -1)
		n = 0;
	path[n] = '\0';
	if (ncalls < nitems(calls))
		snprintf(calls[ncalls++], sizeof(calls[0]), "%.15s %s", what,
		    path);
}

static ssize_t
noting_write(int fd, const void *buf, size_t len)
{
	call_note("write", fd);
	return failing_write(fd, buf, len);
}

static int
noting_fdatasync(int fd)
{
	call_note("fdatasync", fd);
	if (sync_fail_once) {
		sync_fail_once = 0;
		errno = EIO;
		return -1;
	}
	return fdatasync(fd);
}

static int
noting_fsync(int fd)
{
	call_note("fsync", fd);
	return fsync(fd);
}

static int
noting_ftruncate(int fd, off_t len)
{
	call_note("ftruncate", fd);
	return ftruncate(fd, len);
}

/*
 * Record n is refused with err, and the journal is left as it was: the
 * part of it that reached the file is cut off again.
 */
static void
append_refused(struct journal *st, int n, int err)
{
	json_t	*rec = rec_n(n);
	off_t	 before = size_of(sdir, "journal");

	errno = 0;
	ck_assert_int_eq(journal_append(st, rec), -1);
	ck_assert_int_eq(errno, err);
	ck_assert_ptr_null(json_object_get(rec, "seq"));
	ck_assert_int_eq(size_of(sdir, "journal"), before);
	json_decref(rec);
}

/*
 * The disk works again: record n goes in after the n - 1 before it, and
 * all n replay with no byte dropped.
 */
static void
disk_back(struct journal *st, int n)
{
	journal_io = real_io;
	append_ok(st, n, (uint64_t)n);
	journal_close(st);
	st = statereplay_open(sdir, (size_t)n, 1);
	ck_assert_uint_eq(journal_dropped_bytes(st), 0);
	journal_close(st);
}

/*
 * A failed append is cut off, and the cut is synced before journal_append()
 * returns: otherwise a power cut could bring the unacknowledged line back.
 */
START_TEST(test_cut_synced)
{
	struct journal	*st;
	size_t		 i, cut;

	st = open_ok(sdir, NULL, NULL);
	append_ok(st, 1, 1);
	journal_io.write = noting_write;
	journal_io.fdatasync = noting_fdatasync;
	journal_io.ftruncate = noting_ftruncate;
	journal_io.fsync = noting_fsync;

	/* _i == 0: the write fails half way; 1: the fdatasync fails. */
	write_allow = _i == 0 ? 20 : 100000;
	write_err = ENOSPC;
	sync_fail_once = _i == 1;
	ncalls = 0;
	append_refused(st, 2, _i == 0 ? ENOSPC : EIO);
	for (cut = 0; cut < ncalls; cut++)
		if (strncmp(calls[cut], "ftruncate ", 10) == 0)
			break;
	ck_assert_msg(cut < ncalls, "the journal was not cut");
	for (i = cut + 1; i < ncalls; i++)
		if (strstr(calls[i], "sync ") != NULL &&
		    strstr(calls[i], "/journal") != NULL)
			break;
	ck_assert_msg(i < ncalls, "the cut (call %zu of %zu: %s) is not "
	    "synced before journal_append() returns", cut + 1, ncalls,
	    calls[cut]);
	journal_io = real_io;
	append_ok(st, 2, 2);
	journal_close(st);
}
END_TEST

/* Folders made for the state are synced into their parents. */
START_TEST(test_mkdirs_synced)
{
	struct journal	*st;
	char		*deep, *want[3], real[PATH_MAX];
	size_t		 i, k;

	ck_assert_ptr_nonnull(realpath(top, real));
	xasprintf(&deep, "%s/a/b/state", top);
	xasprintf(&want[0], "fsync %s", real);
	xasprintf(&want[1], "fsync %s/a", real);
	xasprintf(&want[2], "fsync %s/a/b", real);
	journal_io.fsync = noting_fsync;
	ncalls = 0;
	st = open_ok(deep, NULL, NULL);
	journal_io = real_io;
	for (k = 0; k < nitems(want); k++) {
		for (i = 0; i < ncalls; i++)
			if (strcmp(calls[i], want[k]) == 0)
				break;
		ck_assert_msg(i < ncalls, "no %s (after mkdir)", want[k]);
		free(want[k]);
	}
	journal_close(st);
	free(deep);
}
END_TEST

/* A journal in sdir with records 1 to 3, for a snapshot of them. */
static struct journal *
three_records(void)
{
	struct journal	*st = open_ok(sdir, NULL, NULL);
	int		 i;

	for (i = 1; i <= 3; i++)
		append_ok(st, i, (uint64_t)i);
	return st;
}

/* Records 4 and 5 after the snapshot snap of 1 to 3: all of it replays. */
static void
two_more_replay(struct journal *st, const json_t *snap)
{
	append_ok(st, 4, 4);
	append_ok(st, 5, 5);
	journal_close(st);
	journal_close(statereplay_open_snap(snap, 2, 4));
}

START_TEST(test_snapshot_and_journal)
{
	struct journal	*st;
	json_t		*doc, *want;
	char		*buf;

	st = three_records();
	want = json_pack("{s:i, s:s}", "x", 1, "y", "z");
	ck_assert_int_eq(journal_snapshot(st, want), 0);
	ck_assert_int_eq(size_of(sdir, "journal"), 0);
	ck_assert(!exists(sdir, "state.json.tmp"));
	ck_assert(!exists(sdir, "journal.tmp"));
	buf = slurp(sdir, "state.json", NULL);
	doc = json_loads(buf, 0, NULL);
	ck_assert_ptr_nonnull(doc);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "version")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(doc, "seq")), 3);
	ck_assert(json_equal(json_object_get(doc, "state"), want));
	json_decref(doc);
	free(buf);
	two_more_replay(st, want);
	json_decref(want);
}
END_TEST

START_TEST(test_snapshot_due)
{
	struct journal	*st;
	json_t		*s = json_object();

	st = open_ok(sdir, NULL, NULL);
	journal_set_snapshot_every(st, 3);
	append_ok(st, 1, 1);
	append_ok(st, 2, 2);
	ck_assert(!journal_snapshot_due(st));
	append_ok(st, 3, 3);
	ck_assert(journal_snapshot_due(st));
	ck_assert_int_eq(journal_snapshot(st, s), 0);
	ck_assert(!journal_snapshot_due(st));
	append_ok(st, 4, 4);
	append_ok(st, 5, 5);
	journal_close(st);

	/* Records replayed at open count towards the next snapshot. */
	st = open_ok(sdir, NULL, NULL);
	ck_assert(!journal_snapshot_due(st));
	journal_set_snapshot_every(st, 2);
	ck_assert(journal_snapshot_due(st));
	journal_set_snapshot_every(st, 0);
	ck_assert(!journal_snapshot_due(st));
	journal_close(st);
	json_decref(s);
}
END_TEST

/* A crash after the snapshot, before the journal was started afresh. */
START_TEST(test_snapshot_stale_journal)
{
	struct journal	*st;
	json_t		*snap, *recs, *s = json_pack("{s:i}", "x", 3);
	char		*old;
	size_t		 len;

	st = three_records();
	old = slurp(sdir, "journal", &len);
	ck_assert_int_eq(journal_snapshot(st, s), 0);
	journal_close(st);
	spit(sdir, "journal", old, len);

	st = open_ok(sdir, &snap, &recs);
	ck_assert(json_equal(snap, s));
	ck_assert_uint_eq(json_array_size(recs), 0);
	ck_assert_uint_eq(journal_seq(st), 3);
	ck_assert_int_eq(size_of(sdir, "journal"), 0);
	append_ok(st, 4, 4);
	json_decref(snap);
	json_decref(recs);
	journal_close(st);

	statereplay_check(sdir, 1, 4);
	free(old);
	json_decref(s);
}
END_TEST

/* The journal could not be started afresh: it goes on, and still replays. */
START_TEST(test_snapshot_journal_kept)
{
	struct journal	*st;
	json_t		*s = json_pack("{s:i}", "x", 3);
	off_t		 before;

	st = three_records();
	before = size_of(sdir, "journal");
	/* The snapshot's file, the folder, then the new journal's file. */
	journal_io.fsync = counting_fsync;
	fsync_calls = 0;
	fsync_fail_at = 3;
	ck_assert_int_eq(journal_snapshot(st, s), 0);
	ck_assert_int_eq(fsync_calls, 3);
	journal_io = real_io;
	ck_assert_int_eq(size_of(sdir, "journal"), before);
	ck_assert(!exists(sdir, "journal.tmp"));
	two_more_replay(st, s);
	json_decref(s);
}
END_TEST

/* A snapshot that cannot be written leaves the previous one and the journal. */
START_TEST(test_snapshot_fails)
{
	struct journal	*st;
	json_t		*s1 = json_pack("{s:i}", "x", 1);
	json_t		*s2 = json_pack("{s:i}", "x", 2);

	st = open_ok(sdir, NULL, NULL);
	append_ok(st, 1, 1);
	journal_io.fsync = counting_fsync;
	fsync_calls = 0;
	fsync_fail_at = 1;
	errno = 0;
	ck_assert_int_eq(journal_snapshot(st, s1), -1);
	ck_assert_int_eq(errno, EIO);
	ck_assert(!exists(sdir, "state.json"));
	ck_assert(!exists(sdir, "state.json.tmp"));
	journal_io.write = failing_write;
	write_allow = 10;
	write_err = ENOSPC;
	ck_assert_int_eq(journal_snapshot(st, s1), -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert(!exists(sdir, "state.json.tmp"));
	journal_io = real_io;
	append_ok(st, 2, 2);
	journal_close(st);
	st = statereplay_open_snap(NULL, 2, 1);

	/* With a snapshot in place: it stays. */
	ck_assert_int_eq(journal_snapshot(st, s1), 0);
	append_ok(st, 3, 3);
	journal_io.write = failing_write;
	write_allow = 0;
	write_err = ENOSPC;
	ck_assert_int_eq(journal_snapshot(st, s2), -1);
	journal_io = real_io;
	journal_close(st);
	journal_close(statereplay_open_snap(s1, 1, 3));
	json_decref(s1);
	json_decref(s2);
}
END_TEST

START_TEST(test_leftover_tmp)
{
	struct journal	*st;
	json_t		*s = json_pack("{s:i}", "x", 1);

	st = open_ok(sdir, NULL, NULL);
	append_ok(st, 1, 1);
	ck_assert_int_eq(journal_snapshot(st, s), 0);
	append_ok(st, 2, 2);
	journal_close(st);
	/* A snapshot and a journal cut short before their rename. */
	spit(sdir, "state.json.tmp", "{\"version\": 1, \"se", 18);
	spit(sdir, "journal.tmp", "garbage", 7);
	st = statereplay_open_snap(s, 1, 2);
	ck_assert(!exists(sdir, "state.json.tmp"));
	ck_assert(!exists(sdir, "journal.tmp"));
	journal_close(st);
	json_decref(s);
}
END_TEST

static const char *const bad_snapshots[] = {
	"",
	"{",
	"[]",
	"{\"version\": 2, \"seq\": 0, \"state\": {}}",
	"{\"version\": 1, \"seq\": -1, \"state\": {}}",
	"{\"version\": 1, \"seq\": \"0\", \"state\": {}}",
	"{\"version\": 1, \"seq\": 0}",
	"{\"version\": 1, \"seq\": 0, \"state\": []}",
	"{\"version\": 1, \"seq\": 0, \"state\": {}} trailing",
};

/* A corrupt snapshot stops the start, naming the file; nothing is dropped. */
START_TEST(test_corrupt_snapshot)
{
	struct journal	*st;
	const char	*text = bad_snapshots[_i];
	char		*msg, *p, *after;
	size_t		 len;

	st = open_ok(sdir, NULL, NULL);
	append_ok(st, 1, 1);
	journal_close(st);
	spit(sdir, "state.json", text, strlen(text));
	p = path_in(sdir, "state.json");
	msg = open_fails(sdir);
	ck_assert_msg(strstr(msg, p) != NULL, "%s", msg);
	/* Again: the lock was let go, and the files are as they were. */
	msg = open_fails(sdir);
	ck_assert_msg(strstr(msg, "in use") == NULL, "%s", msg);
	after = slurp(sdir, "state.json", &len);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_int_eq(memcmp(after, text, len), 0);
	ck_assert_int_gt(size_of(sdir, "journal"), 0);
	free(after);
	free(p);
}
END_TEST

/* A full disk refuses the record and loses nothing. */
START_TEST(test_write_enospc)
{
	struct journal	*st;
	off_t		 before;
	size_t		 allow[] = { 0, 1, 7, 9, 30 };
	size_t		 i;

	st = open_ok(sdir, NULL, NULL);
	append_ok(st, 1, 1);
	append_ok(st, 2, 2);
	before = size_of(sdir, "journal");
	for (i = 0; i < nitems(allow); i++) {
		journal_io.write = failing_write;
		write_allow = allow[i];
		write_err = ENOSPC;
		append_refused(st, 3, ENOSPC);
		ck_assert_int_eq(size_of(sdir, "journal"), before);
		ck_assert_uint_eq(journal_seq(st), 2);
	}
	write_allow = 0;
	write_err = EDQUOT;
	append_refused(st, 3, EDQUOT);
	disk_back(st, 3);
}
END_TEST

START_TEST(test_fdatasync_fails)
{
	struct journal	*st;

	st = open_ok(sdir, NULL, NULL);
	append_ok(st, 1, 1);
	journal_io.fdatasync = failing_sync;
	append_refused(st, 2, EIO);
	disk_back(st, 2);
}
END_TEST

/* The partial line cannot be cut off at once: it is before the next append. */
START_TEST(test_truncate_fails)
{
	struct journal	*st;
	json_t		*rec;
	off_t		 before;

	st = open_ok(sdir, NULL, NULL);
	append_ok(st, 1, 1);
	before = size_of(sdir, "journal");
	journal_io.write = failing_write;
	journal_io.ftruncate = failing_ftruncate;
	write_allow = 12;
	write_err = ENOSPC;
	rec = rec_n(2);
	ck_assert_int_eq(journal_append(st, rec), -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_eq(size_of(sdir, "journal"), before + 12);
	/* Refused while the partial line is there. */
	journal_io.write = real_io.write;
	ck_assert_int_eq(journal_append(st, rec), -1);
	ck_assert_int_eq(errno, EIO);
	ck_assert_int_eq(size_of(sdir, "journal"), before + 12);
	ck_assert_uint_eq(journal_seq(st), 1);
	json_decref(rec);
	disk_back(st, 2);
}
END_TEST

/* A real write limit (RLIMIT_FSIZE): the kernel cuts the line short. */
START_TEST(test_rlimit_fsize)
{
	struct journal	*st;
	struct rlimit	 old, lim;
	off_t		 before;

	ck_assert(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
	st = open_ok(sdir, NULL, NULL);
	append_ok(st, 1, 1);
	before = size_of(sdir, "journal");
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)before + 20;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	append_refused(st, 2, EFBIG);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	disk_back(st, 2);
}
END_TEST

/*
 * A real full disk: a 32 KiB tmpfs in a private mount namespace, in a child
 * so that nothing leaks. Needs root and a kernel that lets us mount;
 * otherwise it says so and passes.
 */
#define TMPFS_SKIP	77

static off_t
file_size(const char *dir, const char *name)
{
	struct stat	 sb;
	char		*p = path_in(dir, name);
	int		 rc = stat(p, &sb);

	free(p);
	return rc == -1 ? -1 : sb.st_size;
}

static int
tmpfs_child(const char *mnt)
{
	struct journal	*st;
	json_t		*snap, *recs, *rec;
	char		 err[512], *filler, *big;
	off_t		 good;
	int		 fd, n, i;

	if (unshare(CLONE_NEWNS) == -1 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("tmpfs", mnt, "tmpfs", 0, "size=32k,mode=0700") == -1) {
		fprintf(stderr, "check_state: full tmpfs test skipped: %s\n",
		    strerror(errno));
		return TMPFS_SKIP;
	}
	/* Room to free later. */
	xasprintf(&filler, "%s/filler", mnt);
	big = xmalloc(8192);
	memset(big, 'f', 8192);
	if ((fd = open(filler, O_WRONLY | O_CREAT, 0600)) == -1 ||
	    util_write_all(fd, big, 8192) == -1 || close(fd) == -1)
		return 10;
	free(big);
	if (journal_open(mnt, &st, &snap, &recs, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 11;
	}
	json_decref(recs);
	big = xmalloc(700);
	memset(big, 'x', 699);
	big[699] = '\0';
	for (n = 0; n < 1000; n++) {
		rec = json_pack("{s:i, s:i, s:s}", "v", 1, "n", n + 1,
		    "pad", big);
		good = file_size(mnt, "journal");
		if (journal_append(st, rec) == -1) {
			json_decref(rec);
			break;
		}
		json_decref(rec);
	}
	if (n == 0 || n == 1000 || errno != ENOSPC)
		return 12;
	if (file_size(mnt, "journal") != good)
		return 13;
	/* Space again: appends work and nothing was lost. */
	if (unlink(filler) == -1)
		return 14;
	rec = json_pack("{s:i, s:i, s:s}", "v", 1, "n", n + 1, "pad",
	    "small");
	if (journal_append(st, rec) == -1)
		return 15;
	json_decref(rec);
	journal_close(st);
	if (journal_open(mnt, &st, &snap, &recs, err, sizeof(err)) == -1)
		return 16;
	if (json_array_size(recs) != (size_t)n + 1)
		return 17;
	for (i = 0; i <= n; i++)
		if (json_integer_value(json_object_get(json_array_get(recs,
		    (size_t)i), "n")) != i + 1)
			return 18;
	json_decref(recs);
	journal_close(st);
	umount(mnt);
	free(big);
	free(filler);
	return 0;
}

START_TEST(test_tmpfs_full)
{
	pid_t	pid;
	int	status;

	if (geteuid() != 0) {
		fprintf(stderr, "check_state: full tmpfs test skipped: not "
		    "root\n");
		return;
	}
	ck_assert_int_eq(mkdir(sdir, 0750), 0);
	fflush(stderr);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0)
		_exit(tmpfs_child(sdir));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) == 0 ||
	    WEXITSTATUS(status) == TMPFS_SKIP, "tmpfs child: step %d failed",
	    WEXITSTATUS(status));
}
END_TEST

static Suite *
state_disk_suite(void)
{
	Suite	*s = suite_create("state_disk");
	TCase	*tc = tcase_create("state_disk");

	tcase_add_checked_fixture(tc, statetest_setup, statetest_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_cut_synced, 0, 2);
	tcase_add_test(tc, test_mkdirs_synced);
	tcase_add_test(tc, test_snapshot_and_journal);
	tcase_add_test(tc, test_snapshot_due);
	tcase_add_test(tc, test_snapshot_stale_journal);
	tcase_add_test(tc, test_snapshot_journal_kept);
	tcase_add_test(tc, test_snapshot_fails);
	tcase_add_test(tc, test_leftover_tmp);
	tcase_add_loop_test(tc, test_corrupt_snapshot, 0,
	    (int)nitems(bad_snapshots));
	tcase_add_test(tc, test_write_enospc);
	tcase_add_test(tc, test_fdatasync_fails);
	tcase_add_test(tc, test_truncate_fails);
	tcase_add_test(tc, test_rlimit_fsize);
	tcase_add_test(tc, test_tmpfs_full);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(state_disk_suite)

