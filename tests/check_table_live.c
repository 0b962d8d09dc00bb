/*
 * check_table_live.c: the shared table with the real daemon when the world
 * is against it: /dev/shm full at start and during a repair (a private
 * tmpfs in a mount namespace of the test's own: the machine's /dev/shm is
 * never filled), a table removed while warden was down, and a name held
 * by another user before warden's first start.
 *
 * The full /dev/shm and the squatted name need root (to unshare and
 * mount, to act as nobody); CI runs as root, and elsewhere, as the other
 * root-only tests, they say so on stderr and are skipped.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "childtest.h"
#include "tablewait.h"
#include "rpc.h"
#include "table.h"
#include "util.h"
#include "warden.h"
#include "suite.h"

#define T_WAIT		5000	/* failure bound of one wait, ms */
#define REPAIR_MS_MAX	250	/* SPEC 4: noticed and repaired within, ms */
#define SHM_KIB		512	/* the private /dev/shm */
#define FILLER		"/dev/shm/filler"
#define UID_NOBODY	65534

/* One flag, off by default, and a worker reading it as workers do. */
static const char conf_reader[] =
    "{ \"flags\": { \"x\": { \"default\": false } },\n"
    "  \"supervisor\": { \"children\": [ { \"name\": \"r\",\n"
    "    \"command\": [\"@BIN@/tests/flag-reader\", \"x\"] } ] } }";

static const char conf_flag[] =
    "{ \"flags\": { \"x\": { \"default\": false } },\n"
    "  \"supervisor\": { \"children\": [] } }";

static json_t *
flag_set(bool on)
{
	return json_pack("{s:s,s:b}", "name", "x", "value", on);
}

/* The "table" member of a method's result (new reference), or NULL. */
static json_t *
table_of(struct harness *h, const char *method)
{
	json_t	*r, *t;

	if ((r = harness_result(h, method, NULL)) == NULL)
		return NULL;
	t = strcmp(method, "table.info") == 0 ? r :
	    json_object_get(r, "table");
	json_incref(t);
	json_decref(r);
	return t;
}

/* Does METHOD say the table is unavailable, for a reason saying WHY? */
static bool
says_unavailable(struct harness *h, const char *method, const char *why)
{
	json_t		*t = table_of(h, method);
	const char	*e;
	bool		 ok;

	e = json_string_value(json_object_get(t, "error"));
	ok = t != NULL && json_is_false(json_object_get(t, "available")) &&
	    e != NULL && strstr(e, why) != NULL;
	if (!ok)
		fprintf(stderr, "check_table_live: %s: table %s\n", method,
		    t != NULL ? json_dumps(t, JSON_COMPACT) : "(none)");
	json_decref(t);
	return ok;
}

static bool
says_available(struct harness *h, const char *method)
{
	json_t	*t = table_of(h, method);
	bool	 ok;

	ok = t != NULL && json_is_true(json_object_get(t, "available")) &&
	    json_is_null(json_object_get(t, "error"));
	json_decref(t);
	return ok;
}

/* A drill method refused with "unavailable" while there is no table. */
static bool
drill_refused(struct harness *h, const char *method)
{
	json_t	*r = harness_call(h, method, NULL);
	json_t	*msg = json_object_get(json_object_get(r, "error"), "message");
	bool	 ok;

	ok = harness_error_code(r) == RPC_UNAVAILABLE &&
	    strstr(json_string_value(msg), "unavailable") != NULL;
	json_decref(r);
	return ok;
}

/* How many times TEXT is in warden's log. */
static int
log_count(struct harness *h, const char *text)
{
	char	*log = harness_log(h), *p;
	int	 n = 0;

	for (p = log; p != NULL && (p = strstr(p, text)) != NULL; p++)
		n++;
	free(log);
	return n;
}

/* Whether the worker's environment has NAME=. */
static bool
env_has(pid_t pid, const char *name)
{
	char	path[64], buf[65536], *p;
	ssize_t	n;
	int	fd;
	bool	found = false;

	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (p = buf; p < buf + n; p += strlen(p) + 1)
		if (strncmp(p, name, strlen(name)) == 0 &&
		    p[strlen(name)] == '=')
			found = true;
	return found;
}

/* ---- /dev/shm full ---- */

static void
full_shm_child(void)
{
	struct harness		 h;
	struct harness_conn	*c;
	warden_table		*r;
	json_t			*ev;
	char			 why[512];
	const char		*nospc = strerror(ENOSPC);
	uint64_t		 t0;
	long			 ms;
	pid_t			 pid;

	if (harness_private_shm(SHM_KIB, why, sizeof(why)) == -1) {
		fprintf(stderr, "check_table_live: cannot run: %s\n", why);
		_exit(CHILDTEST_SKIP);
	}
	CHILD_CHECK(harness_fill(FILLER) == 0, "cannot fill /dev/shm");

	/* warden starts, runs its worker, and says the table is missing. */
	CHILD_CHECK(harness_start(&h, conf_reader) == 0,
	    "warden did not start with /dev/shm full (status %d)", h.status);
	CHILD_CHECK(harness_result(&h, "ping", NULL) != NULL, "ping");
	CHILD_CHECK(says_unavailable(&h, "status", nospc), "status");
	CHILD_CHECK(says_unavailable(&h, "recovery", nospc), "recovery");
	CHILD_CHECK(says_unavailable(&h, "table.info", nospc), "table.info");
	CHILD_CHECK(drill_refused(&h, "table.delete"), "table.delete");
	CHILD_CHECK(drill_refused(&h, "table.corrupt"), "table.corrupt");
	CHILD_CHECK(harness_wait_log(&h, "r: x=off stage=-1\n", T_WAIT) == 0,
	    "the worker did not start reading");
	pid = harness_pid_of(&h, "r");
	CHILD_CHECK(pid > 0, "worker r has no pid");
	CHILD_CHECK(env_has(pid, "WARDEN_TABLE") &&
	    !env_has(pid, "WARDEN_TABLE_FD"), "worker environment: "
	    "WARDEN_TABLE without WARDEN_TABLE_FD expected");
	r = warden_open(h.table);
	CHILD_CHECK(r != NULL && warden_state(r) == WARDEN_NO_TABLE &&
	    warden_stage(r) == -1, "a reader found a table");
	/* Changes are still made durable, and published once there is room. */
	CHILD_CHECK(harness_result(&h, "flag.set", flag_set(true)) != NULL,
	    "flag.set while unavailable");
	CHILD_CHECK(!warden_enabled(r, "x", false), "x read without a table");
	/* Not recovered while unavailable: three check periods pass. */
	CHILD_CHECK(harness_wait(&h, json_pack("{s:b}", "recovered", 1),
	    300) == -1, "recovered without a table");
	CHILD_CHECK(log_count(&h, "unavailable: ") == 1, "logged %d times, "
	    "not once", log_count(&h, "unavailable: "));

	/* Room again: published within the check period. */
	c = harness_subscribe(&h, json_pack("[s]", "table"));
	CHILD_CHECK(c != NULL, "subscribe");
	t0 = util_now_ms();
	CHILD_CHECK(unlink(FILLER) == 0, "unlink %s", FILLER);
	ev = harness_wait_event(c, "table.repaired", NULL, T_WAIT);
	ms = (long)(util_now_ms() - t0);
	CHILD_CHECK(ev != NULL, "no table.repaired once there was room");
	CHILD_CHECK(ms <= REPAIR_MS_MAX, "published %ld ms after there was "
	    "room", ms);
	json_decref(ev);
	CHILD_CHECK(says_available(&h, "status"), "status still unavailable");
	CHILD_CHECK(harness_wait_recovered(&h, T_WAIT) == 0, "not recovered");
	ms = tablewait_value(r, "x", true, REPAIR_MS_MAX);
	CHILD_CHECK(ms >= 0, "the reader did not attach within %d ms",
	    REPAIR_MS_MAX);
	CHILD_CHECK(warden_state(r) == WARDEN_ATTACHED, "reader state");
	CHILD_CHECK(harness_wait_log(&h, "r: x=on stage=0\n", T_WAIT) == 0,
	    "the worker did not attach");

	/* Deleted while full: unavailable; readers go on with what they have. */
	CHILD_CHECK(harness_fill(FILLER) == 0, "cannot fill /dev/shm again");
	harness_log_mark(&h);
	CHILD_CHECK(harness_result(&h, "table.delete", NULL) != NULL,
	    "table.delete");
	ev = harness_wait_event(c, "table.unavailable", NULL, T_WAIT);
	CHILD_CHECK(ev != NULL, "no table.unavailable after a failed repair");
	json_decref(ev);
	CHILD_CHECK(says_unavailable(&h, "status", nospc), "status");
	CHILD_CHECK(says_unavailable(&h, "recovery", nospc), "recovery");
	CHILD_CHECK(drill_refused(&h, "table.delete"), "table.delete again");
	CHILD_CHECK(warden_enabled(r, "x", false), "the reader lost x");
	CHILD_CHECK(harness_result(&h, "flag.set", flag_set(false)) != NULL,
	    "flag.set while unavailable");
	/* warden still writes the table its readers have. */
	CHILD_CHECK(tablewait_value(r, "x", false, REPAIR_MS_MAX) >= 0,
	    "the reader did not see x turned off");
	t0 = util_now_ms();
	CHILD_CHECK(unlink(FILLER) == 0, "unlink %s", FILLER);
	ev = harness_wait_event(c, "table.repaired", NULL, T_WAIT);
	ms = (long)(util_now_ms() - t0);
	CHILD_CHECK(ev != NULL && ms <= REPAIR_MS_MAX, "repaired after %ld ms",
	    ev != NULL ? ms : -1);
	json_decref(ev);
	CHILD_CHECK(harness_result(&h, "flag.set", flag_set(true)) != NULL,
	    "flag.set");
	CHILD_CHECK(tablewait_value(r, "x", true, REPAIR_MS_MAX) >= 0,
	    "the reader did not move to the repaired table");
	CHILD_CHECK(says_available(&h, "table.info"), "table.info");

	warden_close(r);
	harness_conn_close(c);
	CHILD_CHECK(harness_stop(&h) == 0, "warden exit status %d", h.status);
	_exit(0);
}

START_TEST(test_full_shm)
{
	childtest_run("test_full_shm", full_shm_child,
	    "root and a private mount namespace");
}
END_TEST

/* ---- a table removed while warden was down ---- */

/*
 * A reader on warden's table; warden stops (_i 0) or is killed (_i 1);
 * the object is removed meanwhile, so nobody can retire it; the next
 * warden's table is found by the reader by itself, within the bound.
 */
START_TEST(test_removed_while_down)
{
	struct harness	 h;
	warden_table	*r;
	long		 ms;

	start(&h, conf_flag);
	r = warden_open(h.table);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(harness_result(&h, "flag.set", flag_set(true)));
	ck_assert_int_ge(tablewait_value(r, "x", true, REPAIR_MS_MAX), 0);
	if (_i == 0) {
		ck_assert_ptr_nonnull(harness_result(&h, "shutdown", NULL));
		ck_assert_int_eq(harness_wait_exit(&h, T_WAIT), 0);
	} else {
		kill_warden(&h);
	}
	ck_assert_int_eq(shm_unlink(h.table), 0);
	/* The orphan still answers. */
	ck_assert(warden_enabled(r, "x", false));
	restart(&h);
	ck_assert_ptr_nonnull(harness_result(&h, "flag.set", flag_set(false)));
	ms = tablewait_value(r, "x", false, REPAIR_MS_MAX);
	ck_assert_msg(ms >= 0, "the reader stayed on the removed table for "
	    "over %d ms", REPAIR_MS_MAX);
	ck_assert_int_eq(warden_state(r), WARDEN_ATTACHED);
	warden_close(r);
	stop(&h);
}
END_TEST

/* ---- a name taken before the first start ---- */

/*
 * nobody publishes a table of its own under warden's name before warden
 * ever ran: a reader running as root ignores it and says so; warden (root)
 * replaces it, and the reader moves to warden's table.
 */
START_TEST(test_squatted_name)
{
	struct harness	 h;
	struct table	*t;
	struct stat	 st;
	warden_table	*r;
	char		 path[300], want[300], *out = NULL, *err = NULL;
	pid_t		 pid;
	int		 status;

	if (geteuid() != 0) {
		fprintf(stderr, "test_squatted_name: skipped: needs root, to act "
		    "as nobody and to read as root; running as uid %ld\n",
		    (long)geteuid());
		return;
	}
	prepare(&h, conf_flag);
	snprintf(path, sizeof(path), "/dev/shm%s", h.table);
	(void)shm_unlink(h.table);
	fflush(stderr);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct table_flag	f = { "x", 100 };

		if (setgid(UID_NOBODY) == -1 || setuid(UID_NOBODY) == -1)
			_exit(2);
		if ((t = table_create(h.table, 0, NULL, 0)) == NULL ||
		    table_publish(t, 1, &f, 1) == -1)
			_exit(3);
		table_close(t);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "the squatter: status %d", status);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_uid, UID_NOBODY);

	r = warden_open(h.table);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(warden_state(r), WARDEN_UNTRUSTED);
	ck_assert_int_eq(warden_stage(r), -1);
	ck_assert(!warden_enabled(r, "x", false));
	ck_assert_int_eq(harness_ctl(&h, &out, &err, "flag", "read", "x",
	    "--table", h.table, NULL), 0);
	ck_assert_msg(strstr(err, "untrusted") != NULL && strstr(out,
	    "x: off") != NULL, "wardenctl flag read: %s%s", out, err);
	free(out);
	free(err);

	ck_assert_int_eq(harness_launch(&h), 0);
	snprintf(want, sizeof(want), "table %s: replaced an object of uid %d",
	    h.table, UID_NOBODY);
	ck_assert_int_eq(harness_wait_log(&h, want, T_WAIT), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_uid, 0);
	ck_assert_msg(tablewait_stage(r, 0, REPAIR_MS_MAX) >= 0, "the reader did "
	    "not attach to warden's table within %d ms", REPAIR_MS_MAX);
	ck_assert_int_eq(warden_state(r), WARDEN_ATTACHED);
	ck_assert_ptr_nonnull(harness_result(&h, "flag.set", flag_set(true)));
	ck_assert_int_ge(tablewait_value(r, "x", true, REPAIR_MS_MAX), 0);
	warden_close(r);
	stop(&h);
}
END_TEST

static Suite *
table_live_suite(void)
{
	Suite	*s = suite_create("table_live");
	TCase	*tc = tcase_create("table_live");

	tcase_add_test(tc, test_full_shm);
	tcase_add_loop_test(tc, test_removed_while_down, 0, 2);
	tcase_add_test(tc, test_squatted_name);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(table_live_suite)
