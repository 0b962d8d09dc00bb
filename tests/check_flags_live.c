/*
 * check_flags_live.c: feature flags and migration stages with the real
 * daemon (tests/harness.h): values set over the socket as readers see them
 * (libwarden in this process, `wardenctl flag read` in another),
 * cumulative stages and exact rollback, their events and waits, the table
 * as workers are handed it, status and recovery. check_flags_faults.c has
 * the table broken and repaired and the guard, check_flags_durable.c every
 * acknowledged change kept across SIGKILL, a torn journal and a full disk;
 * tests/flagstest.h is what the three share.
 *
 * Configurations are written with ' for " (dq()); no test needs a real '.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include "table.h"
#include "util.h"
#include "warden.h"
#include "suite.h"

#define T_WAIT		5000	/* failure bound of one wait, ms */
#define T_CASE		30	/* failure bound of one test, s */

/* A budget small enough to read back exactly in recovery. */
static const char conf_budget[] =
    "{ \"supervisor\": { \"strategy\": \"one_for_one\",\n"
    "  \"max_restarts\": 5, \"max_seconds\": 60, \"children\": [\n"
    "    { \"name\": \"a\", \"command\": [\"@WORKER@\"] },\n"
    "    { \"name\": \"b\", \"command\": [\"@WORKER@\"] } ] } }\n";

/* --- helpers ------------------------------------------------------------ */

/* by is {"uid": this process's uid, "pid": this process}. */
static void
expect_by_me(const json_t *by, const char *what)
{
	ck_assert_msg(json_is_object(by), "%s: by is %s", what, dump(by));
	ck_assert_msg(num(by, "uid") == (long long)getuid() &&
	    num(by, "pid") == (long long)getpid(),
	    "%s: by %s, want uid %ld pid %ld", what, dump(by), (long)getuid(),
	    (long)getpid());
}

/* The stage.changed at the end of list is from -> to, of this kind. */
static void
expect_stage_event(const json_t *list, int from, int to, const char *kind)
{
	json_t	*ev = json_array_get(list, json_array_size(list) - 1);

	ck_assert_msg(num(ev, "from") == from && num(ev, "to") == to &&
	    str(ev, "kind") != NULL && strcmp(str(ev, "kind"), kind) == 0,
	    "stage.changed %s, want %d -> %d (%s)", dump(ev), from, to, kind);
}

/*
 * Send a wait for cond on a connection of its own and prove warden holds
 * it: a ping sent after it on the same connection is answered first.
 */
static struct harness_conn *
wait_held(struct harness *h, json_t *cond, long long *idp)
{
	struct harness_conn	*c;
	json_t			*msg, *jid;
	long long		 ping;

	c = harness_conn_open(h);
	ck_assert_msg(c != NULL, "cannot connect");
	*idp = harness_conn_request(c, "wait", json_pack("{s:o, s:i}",
	    "condition", cond, "timeout_ms", T_WAIT));
	ck_assert(*idp != -1);
	ping = harness_conn_request(c, "ping", NULL);
	ck_assert(ping != -1);
	msg = harness_read_line(c, T_WAIT);
	ck_assert_msg(msg != NULL, "no answer to ping");
	jid = json_object_get(msg, "id");
	ck_assert_msg(json_is_integer(jid) && json_integer_value(jid) == ping,
	    "the wait was answered before the change: %s", dump(msg));
	json_decref(msg);
	return c;
}

/* The answer of the wait held on c: its result. */
static json_t *
wait_answer(struct harness_conn *c, long long id)
{
	json_t	*msg, *r;

	msg = harness_read_response(c, id, T_WAIT);
	ck_assert_msg(msg != NULL, "the wait was not answered");
	r = json_object_get(msg, "result");
	ck_assert_msg(r != NULL, "the wait failed: %s", dump(msg));
	json_incref(r);
	json_decref(msg);
	harness_conn_close(c);
	return r;
}

/* --- 1. flags as readers see them ---------------------------------------- */

START_TEST(test_flag_set_readers)
{
	struct harness	 h;
	warden_table	*t;
	json_t		*r;
	char		 id[32], in_id[32] = "", out_id[32] = "";
	const char	*x = fname[SAMP];
	int		 i, on = 0;

	start(&h, conf_demo);
	t = reader_open(&h);
	expect_reader_value(t, x, 0);
	expect_ctl_read(&h, x, NULL, false, 0);

	/* On: the answer is the flag, stamped with who and why. */
	r = flag_set(&h, x, 100, "canary");
	expect_by_me(json_object_get(r, "changed_by"), "flag.set");
	ck_assert_str_eq(str(r, "reason"), "canary");
	ck_assert_msg(json_is_string(json_object_get(r, "changed_at")),
	    "changed_at: %s", dump(r));
	json_decref(r);
	expect_ctl_read(&h, x, NULL, true, 0);
	expect_ctl_read(&h, x, "user-1", true, 0);
	expect_reader_value(t, x, 100);

	/* 30%: exactly the ids whose bucket is under 3000. */
	flag_set_ok(&h, x, 30);
	expect_reader_value(t, x, 30);
	for (i = 0; i < NIDS; i++) {
		id_of(id, sizeof(id), i);
		if (in_rollout(x, id, 30)) {
			on++;
			if (in_id[0] == '\0')
				snprintf(in_id, sizeof(in_id), "%s", id);
		} else if (out_id[0] == '\0')
			snprintf(out_id, sizeof(out_id), "%s", id);
	}
	ck_assert_msg(on > 250 && on < 350, "%d of %d ids at 30%%", on, NIDS);
	ck_assert_msg(!warden_enabled(t, x, true),
	    "a 30%% rollout is not \"enabled\"");
	expect_ctl_read(&h, x, NULL, false, 0);
	expect_ctl_read(&h, x, in_id, true, 0);
	expect_ctl_read(&h, x, out_id, false, 0);

	/* Raising the percentage only adds ids. */
	flag_set_ok(&h, x, 50);
	for (i = 0; i < NIDS; i++) {
		id_of(id, sizeof(id), i);
		if (in_rollout(x, id, 30))
			ck_assert_msg(warden_enabled_for(t, x, id, false),
			    "%s left the rollout going from 30%% to 50%%", id);
	}
	expect_reader_value(t, x, 50);

	/* Off. */
	flag_set_ok(&h, x, 0);
	expect_reader_value(t, x, 0);
	expect_ctl_read(&h, x, NULL, false, 0);
	expect_ctl_read(&h, x, in_id, false, 0);
	expect_flags(&h, t, 0, at_stage[0]);
	warden_close(t);
	stop(&h);
}
END_TEST

START_TEST(test_flag_set_errors)
{
	struct harness	 h;
	warden_table	*t;
	json_t		*r;
	uint64_t	 gen;

	start(&h, conf_demo);
	t = reader_open(&h);
	r = result(&h, "table.info", NULL);
	gen = (uint64_t)num(r, "generation");
	json_decref(r);

	expect_error(&h, "flag.set", json_pack("{s:s, s:b}", "name",
	    "no_such_flag", "value", 1), -32001, "not_found");
	expect_error(&h, "flag.get", json_pack("{s:s}", "name",
	    "no_such_flag"), -32001, "not_found");
	expect_error(&h, "flag.set", json_pack("{s:s, s:i}", "name",
	    fname[REG], "value", 101), -32602, "invalid_params");
	expect_error(&h, "flag.set", json_pack("{s:s, s:i}", "name",
	    fname[REG], "value", -1), -32602, "invalid_params");
	expect_error(&h, "flag.set", json_pack("{s:s, s:s}", "name",
	    fname[REG], "value", "on"), -32602, "invalid_params");
	expect_error(&h, "flag.set", json_pack("{s:s, s:f}", "name",
	    fname[REG], "value", 0.5), -32602, "invalid_params");
	expect_error(&h, "flag.set", json_pack("{s:s}", "name", fname[REG]),
	    -32602, "invalid_params");
	expect_error(&h, "flag.set", json_pack("{s:s, s:b, s:i}", "name",
	    fname[REG], "value", 1, "colour", 3), -32602, "invalid_params");

	/* Nothing changed, nothing was published. */
	expect_flags(&h, t, 0, at_stage[0]);
	r = result(&h, "table.info", NULL);
	ck_assert_msg((uint64_t)num(r, "generation") == gen,
	    "refused changes published the table: %s", dump(r));
	json_decref(r);
	warden_close(t);
	stop(&h);
}
END_TEST

/* --- 2. stages ----------------------------------------------------------- */

START_TEST(test_stage_cumulative)
{
	struct harness		 h;
	struct harness_conn	*c;
	warden_table		*t;
	json_t			*r, *list, *ev, *f;
	bool			 seen[NFLAGS] = { false };
	size_t			 i;
	int			 k;

	start(&h, conf_demo);
	t = reader_open(&h);
	expect_flags(&h, t, 0, at_stage[0]);
	c = subscribe(&h, "flag", "stage", NULL);

	/* 0 -> 4 applies stages 1..4: all seven on, as one change. */
	r = stage_call(&h, "stage.set", 4);
	ck_assert_int_eq(num(r, "stage"), 4);
	for (k = 0; k < NFLAGS; k++) {
		f = by_name(json_object_get(r, "flags"), fname[k]);
		ck_assert_msg(f != NULL && json_is_true(json_object_get(f,
		    "value")), "stage.set 4 answered %s", dump(r));
	}
	json_decref(r);
	expect_flags(&h, t, 4, at_stage[4]);
	expect_ctl_read(&h, fname[ENF], NULL, true, 4);
	expect_ctl_read(&h, fname[REG], NULL, true, 4);

	/* One flag.changed per flag, then the stage. */
	list = events_until(c, "stage.changed", NULL, NULL);
	ck_assert_msg(count_type(list, "flag.changed") == NFLAGS,
	    "events: %s", dump(list));
	json_array_foreach(list, i, ev) {
		if (strcmp(str(ev, "type"), "flag.changed") != 0)
			continue;
		for (k = 0; k < NFLAGS; k++)
			if (strcmp(str(ev, "name"), fname[k]) == 0)
				break;
		ck_assert_msg(k < NFLAGS && !seen[k], "event %s", dump(ev));
		seen[k] = true;
		ck_assert_msg(json_is_false(json_object_get(ev, "old")) &&
		    json_is_true(json_object_get(ev, "new")), "event %s",
		    dump(ev));
		expect_by_me(json_object_get(ev, "by"), "flag.changed");
	}
	expect_stage_event(list, 0, 4, "set");
	expect_by_me(json_object_get(json_array_get(list,
	    json_array_size(list) - 1), "by"), "stage.changed");
	json_decref(list);

	/* Going down is a rollback; a stage not configured is not found. */
	expect_error(&h, "stage.set", json_pack("{s:i}", "stage", 2), -32004,
	    "conflict");
	expect_error(&h, "stage.set", json_pack("{s:i}", "stage", 4), -32004,
	    "conflict");
	expect_error(&h, "stage.set", json_pack("{s:i}", "stage", 9), -32001,
	    "not_found");
	expect_error(&h, "stage.rollback", json_pack("{s:i}", "stage", 4),
	    -32004, "conflict");
	expect_error(&h, "stage.rollback", json_pack("{s:i}", "stage", 7),
	    -32001, "not_found");
	expect_flags(&h, t, 4, at_stage[4]);

	/* Emergency: defaults and stage 0 from anywhere. */
	stage_ok(&h, "stage.emergency", -1, 0);
	expect_flags(&h, t, 0, at_stage[0]);
	expect_ctl_read(&h, fname[ENF], NULL, false, 0);
	list = events_until(c, "stage.changed", NULL, NULL);
	ck_assert_msg(count_type(list, "flag.changed") == NFLAGS,
	    "events: %s", dump(list));
	expect_stage_event(list, 4, 0, "emergency");
	json_decref(list);

	/* One stage at a time, each cumulative. */
	for (k = 1; k <= 4; k++) {
		stage_ok(&h, "stage.set", k, k);
		expect_flags(&h, t, k, at_stage[k]);
	}
	harness_conn_close(c);
	warden_close(t);
	stop(&h);
}
END_TEST

/* The history entry i is from -> to of this kind, made by this process. */
static void
expect_history(const json_t *hist, size_t i, int from, int to,
    const char *kind)
{
	json_t	*e = json_array_get(hist, i);

	ck_assert_msg(e != NULL, "history has no entry %zu: %s", i,
	    dump(hist));
	ck_assert_msg(num(e, "from") == from && num(e, "to") == to &&
	    str(e, "kind") != NULL && strcmp(str(e, "kind"), kind) == 0,
	    "history[%zu] %s, want %d -> %d (%s)", i, dump(e), from, to, kind);
	ck_assert_msg(json_is_string(json_object_get(e, "at")),
	    "history[%zu] has no time: %s", i, dump(e));
}

START_TEST(test_stage_rollback)
{
	struct harness		 h;
	struct harness_conn	*c;
	warden_table		*t;
	json_t			*r, *hist, *list, *ev;
	size_t			 i;
	/* Stage 0 with one manual change. */
	const int		 v0[NFLAGS] = { 0, 0, 10, 0, 0, 0, 0 };
	/* Stage 2 with two manual changes on top. */
	const int		 v2m[NFLAGS] = { 100, 0, 100, 0, 0, 25, 0 };
	/* Stage 3 applied over that. */
	const int		 v3m[NFLAGS] = { 100, 0, 100, 100, 100, 100,
				    0 };
	const int		 v4m[NFLAGS] = { 100, 0, 100, 100, 100, 100,
				    100 };

	start(&h, conf_demo);
	t = reader_open(&h);
	flag_set_ok(&h, fname[LOG], 10);
	stage_ok(&h, "stage.set", 2, 2);
	expect_flags(&h, t, 2, at_stage[2]);
	flag_set_ok(&h, fname[SAMP], 25);
	flag_set_ok(&h, fname[MON], 0);
	expect_flags(&h, t, 2, v2m);
	stage_ok(&h, "stage.set", 4, 4);
	expect_flags(&h, t, 4, v4m);

	c = subscribe(&h, "flag", "stage", NULL);
	/* To 3: the values saved before stage 4. */
	stage_ok(&h, "stage.rollback", 3, 3);
	expect_flags(&h, t, 3, v3m);
	list = events_until(c, "stage.changed", NULL, NULL);
	ck_assert_msg(count_type(list, "flag.changed") == 1, "events: %s",
	    dump(list));
	ev = json_array_get(list, 0);
	ck_assert_msg(strcmp(str(ev, "name"), fname[ENF]) == 0 &&
	    json_is_true(json_object_get(ev, "old")) &&
	    json_is_false(json_object_get(ev, "new")), "event %s", dump(ev));
	expect_stage_event(list, 4, 3, "rollback");
	json_decref(list);

	/* One below by default: to 2, the manual 25% and "off" come back. */
	stage_ok(&h, "stage.rollback", -1, 2);
	expect_flags(&h, t, 2, v2m);
	expect_ctl_read(&h, fname[MON], NULL, false, 2);
	list = events_until(c, "stage.changed", NULL, NULL);
	ck_assert_msg(count_type(list, "flag.changed") == 3, "events: %s",
	    dump(list));
	json_array_foreach(list, i, ev)
		if (strcmp(str(ev, "type"), "flag.changed") == 0 &&
		    strcmp(str(ev, "name"), fname[SAMP]) == 0)
			ck_assert_msg(json_is_true(json_object_get(ev,
			    "old")) && json_integer_value(json_object_get(ev,
			    "new")) == 25, "event %s", dump(ev));
	expect_stage_event(list, 3, 2, "rollback");
	json_decref(list);
	expect_error(&h, "stage.rollback", json_pack("{s:i}", "stage", 2),
	    -32004, "conflict");

	/* To 0: the values before stage 1, manual change included. */
	stage_ok(&h, "stage.rollback", 0, 0);
	expect_flags(&h, t, 0, v0);
	list = events_until(c, "stage.changed", NULL, NULL);
	expect_stage_event(list, 2, 0, "rollback");
	json_decref(list);
	expect_error(&h, "stage.rollback", NULL, -32004, "conflict");

	/* Up again, then the emergency: defaults, not the values before. */
	stage_ok(&h, "stage.set", 3, 3);
	expect_flags(&h, t, 3, at_stage[3]);
	list = events_until(c, "stage.changed", NULL, NULL);
	expect_stage_event(list, 0, 3, "set");
	json_decref(list);
	r = result(&h, "stage.emergency", json_pack("{s:s}", "reason",
	    "drill"));
	ck_assert_int_eq(num(r, "stage"), 0);
	json_decref(r);
	expect_flags(&h, t, 0, at_stage[0]);
	list = events_until(c, "stage.changed", NULL, NULL);
	expect_stage_event(list, 3, 0, "emergency");
	ev = json_array_get(list, json_array_size(list) - 1);
	ck_assert_msg(str(ev, "reason") != NULL &&
	    strcmp(str(ev, "reason"), "drill") == 0, "event %s", dump(ev));
	json_decref(list);

	/* Every stage change on record, oldest first. */
	r = result(&h, "stage.get", NULL);
	ck_assert_int_eq(num(r, "stage"), 0);
	ck_assert_int_eq(json_array_size(json_object_get(r, "stages")), 4);
	hist = json_object_get(r, "history");
	ck_assert_msg(json_array_size(hist) == 7, "history %s", dump(hist));
	expect_history(hist, 0, 0, 2, "set");
	expect_history(hist, 1, 2, 4, "set");
	expect_history(hist, 2, 4, 3, "rollback");
	expect_history(hist, 3, 3, 2, "rollback");
	expect_history(hist, 4, 2, 0, "rollback");
	expect_history(hist, 5, 0, 3, "set");
	expect_history(hist, 6, 3, 0, "emergency");
	json_array_foreach(hist, i, ev)
		expect_by_me(json_object_get(ev, "by"), "history");
	ck_assert_str_eq(str(json_array_get(hist, 6), "reason"), "drill");
	json_decref(r);
	harness_conn_close(c);
	warden_close(t);
	stop(&h);
}
END_TEST

START_TEST(test_wait_stage_and_flag)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*r;
	long long		 id;

	start(&h, conf_demo);

	c = wait_held(&h, json_pack("{s:i}", "stage", 2), &id);
	stage_ok(&h, "stage.set", 2, 2);
	r = wait_answer(c, id);
	ck_assert_msg(num(r, "stage") == 2, "wait answered %s", dump(r));
	json_decref(r);

	c = wait_held(&h, json_pack("{s:s, s:i}", "flag", fname[SAMP],
	    "value", 40), &id);
	flag_set_ok(&h, fname[SAMP], 39);
	flag_set_ok(&h, fname[SAMP], 40);
	r = wait_answer(c, id);
	ck_assert_msg(strcmp(str(r, "name"), fname[SAMP]) == 0 &&
	    value_int(json_object_get(r, "value")) == 40, "wait answered %s",
	    dump(r));
	json_decref(r);

	/* A flag turned on by a stage. */
	c = wait_held(&h, json_pack("{s:s, s:b}", "flag", fname[TEL],
	    "value", 1), &id);
	stage_ok(&h, "stage.set", 3, 3);
	r = wait_answer(c, id);
	ck_assert_msg(json_is_true(json_object_get(r, "value")),
	    "wait answered %s", dump(r));
	json_decref(r);

	/* A stage reached going down. */
	c = wait_held(&h, json_pack("{s:i}", "stage", 0), &id);
	stage_ok(&h, "stage.emergency", -1, 0);
	r = wait_answer(c, id);
	ck_assert_msg(num(r, "stage") == 0, "wait answered %s", dump(r));
	json_decref(r);

	expect_error(&h, "wait", json_pack("{s:{s:s, s:b}}", "condition",
	    "flag", "no_such_flag", "value", 1), -32001, "not_found");
	stop(&h);
}
END_TEST

/* --- 8. what workers get ------------------------------------------------- */

/* The value of VAR, or the rest of a "key " line, in an --env-out file. */
static bool
env_line(const char *text, const char *prefix, char *buf, size_t len)
{
	const char	*p, *nl;
	size_t		 n = strlen(prefix);

	for (p = text; p != NULL && *p != '\0';
	    p = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (strncmp(p, prefix, n) == 0) {
			snprintf(buf, len, "%.*s", (int)((nl != NULL ? nl :
			    p + strlen(p)) - (p + n)), p + n);
			return true;
		}
	}
	return false;
}

/* The flags of fd in pid, from /proc/PID/fdinfo/FD. */
static int
fd_flags(pid_t pid, int fd)
{
	char	path[64], *s, *p;
	long	flags;

	snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%d", (long)pid, fd);
	s = harness_read_file(path);
	ck_assert_msg(s != NULL, "%s: %s", path, strerror(errno));
	p = strstr(s, "flags:");
	ck_assert_msg(p != NULL, "%s has no flags: %s", path, s);
	flags = strtol(p + 6, NULL, 8);
	free(s);
	return (int)flags;
}

/* The worker's env file says fd 4 is this table, read-only. */
static pid_t
expect_worker_table(struct harness *h, const char *env)
{
	char		 buf[PATH_MAX], want[PATH_MAX];
	struct stat	 a, b;
	pid_t		 pid;

	ck_assert_msg(env_line(env, "WARDEN_TABLE=", buf, sizeof(buf)) &&
	    strcmp(buf, h->table) == 0, "WARDEN_TABLE=%s, want %s", buf,
	    h->table);
	ck_assert_msg(env_line(env, "WARDEN_TABLE_FD=", buf, sizeof(buf)) &&
	    strcmp(buf, "4") == 0, "WARDEN_TABLE_FD=%s", buf);
	shm_path(h, want, sizeof(want));
	ck_assert_msg(env_line(env, "fdtarget 4 ", buf, sizeof(buf)) &&
	    strcmp(buf, want) == 0, "fd 4 is %s, want %s", buf, want);
	ck_assert_msg(env_line(env, "pid ", buf, sizeof(buf)),
	    "no pid in the env file");
	pid = (pid_t)atol(buf);
	ck_assert_int_eq(pid, harness_pid_of(h, "w"));
	ck_assert_msg((fd_flags(pid, 4) & O_ACCMODE) == O_RDONLY,
	    "fd 4 is not read-only (flags %o)", fd_flags(pid, 4));
	/* The very object under the name now. */
	snprintf(buf, sizeof(buf), "/proc/%ld/fd/4", (long)pid);
	ck_assert_msg(stat(buf, &a) == 0 && stat(want, &b) == 0 &&
	    a.st_ino == b.st_ino && a.st_dev == b.st_dev,
	    "fd 4 of the worker is not %s", want);
	return pid;
}

START_TEST(test_worker_table_env)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*r;
	char			*path, *env, *env2;
	pid_t			 pid;

	start(&h, "{ " DEMO_FLAGS ", 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/w.env'] } ] } }");
	path = harness_path(&h, "w.env");
	env = harness_wait_file(path, NULL, T_WAIT);
	ck_assert_msg(env != NULL, "w.env never written");
	pid = expect_worker_table(&h, env);

	/* After a repair, a worker started anew gets the fresh table. */
	c = subscribe(&h, "table", NULL);
	json_decref(result(&h, "table.delete", NULL));
	json_decref(harness_wait_event(c, "table.repaired", NULL, T_WAIT));
	r = result(&h, "service.restart", json_pack("{s:s}", "service", "w"));
	json_decref(r);
	env2 = harness_wait_file(path, env, T_WAIT);
	ck_assert_msg(env2 != NULL, "w.env not written again");
	ck_assert_msg(expect_worker_table(&h, env2) != pid,
	    "the worker was not restarted");
	free(env);
	free(env2);
	free(path);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/*
 * A worker reading as workers do: warden_open(NULL) takes WARDEN_TABLE_FD,
 * and after the table is deleted and published again it reattaches by the
 * name in WARDEN_TABLE on its own. Its lines in warden's log prove each step.
 */
START_TEST(test_worker_reader)
{
	struct harness		 h;
	struct harness_conn	*c;

	start(&h, "{ " DEMO_FLAGS ", 'supervisor': { 'children': ["
	    " { 'name': 'r', 'command': ['@BIN@/tests/flag-reader',"
	    "   'use_ets_agent_registry'] } ] } }");
	ck_assert_int_eq(harness_wait_log(&h,
	    "r: use_ets_agent_registry=off stage=0\n", T_WAIT), 0);
	stage_ok(&h, "stage.set", 1, 1);
	ck_assert_int_eq(harness_wait_log(&h,
	    "r: use_ets_agent_registry=on stage=1\n", T_WAIT), 0);
	c = subscribe(&h, "table", NULL);
	json_decref(result(&h, "table.delete", NULL));
	json_decref(harness_wait_event(c, "table.repaired", NULL, T_WAIT));
	stage_ok(&h, "stage.set", 2, 2);
	ck_assert_int_eq(harness_wait_log(&h,
	    "r: use_ets_agent_registry=on stage=2\n", T_WAIT), 0);
	stage_ok(&h, "stage.emergency", -1, 0);
	ck_assert_int_eq(harness_wait_log(&h,
	    "r: use_ets_agent_registry=off stage=0\n", T_WAIT), 0);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* --- 9. status and recovery ---------------------------------------------- */

START_TEST(test_status_stage)
{
	struct harness	 h;
	json_t		*r;
	int		 k;

	start(&h, conf_demo);
	for (k = 1; k <= 4; k++) {
		stage_ok(&h, "stage.set", k, k);
		r = result(&h, "status", NULL);
		ck_assert_msg(num(r, "stage") == k, "status %s at stage %d",
		    dump(r), k);
		json_decref(r);
	}
	stage_ok(&h, "stage.rollback", 1, 1);
	r = result(&h, "status", NULL);
	ck_assert_int_eq(num(r, "stage"), 1);
	json_decref(r);
	r = result(&h, "flag.list", NULL);
	ck_assert_int_eq(num(r, "stage"), 1);
	ck_assert_msg(num(r, "generation") > 0, "flag.list %s", dump(r));
	json_decref(r);
	stop(&h);
}
END_TEST

/* SPEC 5: recovery also reports the shared table's health. */
START_TEST(test_recovery_table)
{
	struct harness	 h;
	json_t		*r, *t;

	start(&h, conf_budget);
	r = result(&h, "recovery", NULL);
	t = json_object_get(r, "table");
	ck_assert_msg(json_is_object(t), "recovery has no \"table\" member");
	ck_assert_msg(json_is_true(json_object_get(t, "healthy")),
	    "table.healthy is not true");
	ck_assert_msg(json_is_integer(json_object_get(t, "repairs")),
	    "table.repairs is not an integer");
	ck_assert_int_eq(json_integer_value(json_object_get(t, "repairs")), 0);
	ck_assert_msg(json_object_get(t, "last_repair_ms") != NULL,
	    "table.last_repair_ms is missing");
	json_decref(r);
	stop(&h);
}
END_TEST

static Suite *
flags_live_suite(void)
{
	Suite	*s = suite_create("flags_live");
	TCase	*tc = tcase_create("flags_live");

	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_flag_set_readers);
	tcase_add_test(tc, test_flag_set_errors);
	tcase_add_test(tc, test_stage_cumulative);
	tcase_add_test(tc, test_stage_rollback);
	tcase_add_test(tc, test_wait_stage_and_flag);
	tcase_add_test(tc, test_worker_table_env);
	tcase_add_test(tc, test_worker_reader);
	tcase_add_test(tc, test_status_stage);
	tcase_add_test(tc, test_recovery_table);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(flags_live_suite)
