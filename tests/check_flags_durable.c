/*
 * check_flags_durable.c: every acknowledged flag change and stage kept,
 * with the real daemon: across SIGKILL, a torn journal, a full disk, and
 * the values in force whatever way warden stopped. See
 * check_flags_live.c.
 *
 * Configurations are written with ' for " (dq()); no test needs a real '.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "flagstest.h"
#include "flagload.h"
#include "util.h"
#include "warden.h"
#include "suite.h"

#define T_WAIT		5000	/* failure bound of one wait, ms */
#define T_CASE		30	/* failure bound of one test, s */

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

/* --- 7. the values in force after any stop --------------------------------- */

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

/* --- 8. a crash among groups ------------------------------------------------ */

/*
 * SIGKILL while 64 clients write, one group after another: after the
 * restart each client's flag holds at least the last value answered OK
 * (no answered change is lost) and at most the last one sent.
 */
START_TEST(test_sigkill_among_groups)
{
	struct harness	 h;
	struct flagload	 fl;
	char		*conf = flagload_config();
	int		 i, v;

	start(&h, conf);
	flagload_open(&fl, &h);
	flagload_start(&fl, 100, 640);
	kill_warden(&h);
	flagload_join(&fl);
	restart(&h);
	for (i = 0; i < FLAGLOAD_CLIENTS; i++) {
		v = flagload_value(&h, i);
		ck_assert_msg(!fl.failed[i], "client %d: a change refused", i);
		ck_assert_msg(v >= fl.acked[i] && v <= fl.sent[i], "client %d: "
		    "c%d is %d after the restart; answered %d, sent %d", i, i, v,
		    fl.acked[i], fl.sent[i]);
	}
	flagload_close(&fl);
	free(conf);
	stop(&h);
}
END_TEST

static Suite *
flags_durable_suite(void)
{
	Suite	*s = suite_create("flags_durable");
	TCase	*tc = tcase_create("flags_durable");

	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_durable_sigkill);
	tcase_add_test(tc, test_torn_journal);
	tcase_add_test(tc, test_full_disk);
	/* 0: one file all along; 1: "added" comes with a reload. */
	tcase_add_loop_test(tc, test_replay_same_values, 0, 2);
	tcase_add_test(tc, test_pin_refused);
	tcase_add_test(tc, test_sigkill_among_groups);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(flags_durable_suite)
