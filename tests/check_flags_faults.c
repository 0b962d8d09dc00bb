/*
 * check_flags_faults.c: the shared table deleted, unlinked or damaged and
 * repaired under live readers, and the guard rolling a stage back when
 * workers crash, with the real daemon. See check_flags_live.c.
 *
 * Configurations are written with ' for " (dq()); no test needs a real '.
 */
#include <sys/mount.h>
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
#include "libwarden-test.h"
#include "table.h"
#include "util.h"
#include "warden.h"
#include "suite.h"

#define T_WAIT		5000	/* failure bound of one wait, ms */
#define T_CASE		30	/* failure bound of one test, s */
#define REPAIR_MS_MAX	250	/* SPEC 4: repaired within, ms */

/* --- helpers ------------------------------------------------------------ */

static json_t *
recovery_table(struct harness *h)
{
	json_t	*r = result(h, "recovery", NULL), *t;

	t = json_incref(json_object_get(r, "table"));
	ck_assert_msg(json_is_object(t), "recovery has no table: %s", dump(r));
	json_decref(r);
	return t;
}

/*
 * While the table is broken a reader answers from its last consistent
 * view or with the default; asked with the right value as the default,
 * either way it must give the right value (and never fail or crash).
 */
static void
expect_reader_safe(warden_table *t, const int want[NFLAGS])
{
	char	id[32];
	bool	w;
	int	i, j;

	for (i = 0; i < NFLAGS; i++) {
		ck_assert_msg(warden_enabled(t, fname[i], want[i] == 100) ==
		    (want[i] == 100), "reader on a broken table: %s wrong",
		    fname[i]);
		for (j = 0; j < 50; j++) {
			id_of(id, sizeof(id), j);
			w = in_rollout(fname[i], id, want[i]);
			ck_assert_msg(warden_enabled_for(t, fname[i], id,
			    w) == w, "reader on a broken table: %s for %s "
			    "wrong", fname[i], id);
		}
	}
	(void)warden_stage(t);
}

/* The generation a reader's table is at (one consistent read). */
static uint64_t
reader_generation(warden_table *t)
{
	uint64_t	gen = 0;
	int		stage;

	ck_assert_msg(warden_test_snapshot(t, &stage, &gen, NULL, 0) >= 0,
	    "reader: no consistent read of the table");
	return gen;
}

/* --- 3, 4. the table broken and repaired --------------------------------- */

enum fault { FAULT_DELETE, FAULT_UNLINK, FAULT_CORRUPT };

/* A call of warden's own faults (table.delete...), whose result says key. */
static void
fault_call(struct harness *h, const char *method, const char *key)
{
	json_t	*r = result(h, method, NULL);

	ck_assert_msg(json_is_true(json_object_get(r, key)), "%s answered %s",
	    method, dump(r));
	json_decref(r);
}

/*
 * Break the table with flags on (stage 3, one rollout) while a reader
 * holds it, and see warden repair it: the events, the count, readers old
 * and new.
 */
static void
table_fault(enum fault how)
{
	struct harness		 h;
	struct harness_conn	*c;
	warden_table		*old, *fresh;
	json_t			*r, *list, *ev;
	char			 path[PATH_MAX];
	struct stat		 st;
	uint64_t		 gen;
	int			 want[NFLAGS];

	start(&h, conf_demo);
	stage_ok(&h, "stage.set", 3, 3);
	flag_set_ok(&h, fname[ENF], 30);
	memcpy(want, at_stage[3], sizeof(want));
	want[ENF] = 30;
	old = reader_open(&h);
	expect_flags(&h, old, 3, want);
	r = recovery_table(&h);
	ck_assert_int_eq(num(r, "repairs"), 0);
	json_decref(r);

	c = subscribe(&h, "table", NULL);
	switch (how) {
	case FAULT_DELETE:
		fault_call(&h, "table.delete", "deleted");
		break;
	case FAULT_UNLINK:
		shm_path(&h, path, sizeof(path));
		ck_assert_msg(unlink(path) == 0, "unlink %s: %s", path,
		    strerror(errno));
		break;
	case FAULT_CORRUPT:
		fault_call(&h, "table.corrupt", "corrupted");
		break;
	}
	/* Meanwhile the reader answers, and never wrongly. */
	expect_reader_safe(old, want);

	list = events_until(c, "table.repaired", NULL, NULL);
	if (how != FAULT_CORRUPT)
		ck_assert_msg(count_type(list, "table.deleted") == 1 &&
		    strcmp(str(json_array_get(list, 0), "type"),
		    "table.deleted") == 0, "events %s", dump(list));
	ev = json_array_get(list, json_array_size(list) - 1);
	ck_assert_msg(str(ev, "name") != NULL && strcmp(str(ev, "name"),
	    h.table) == 0, "table.repaired %s", dump(ev));
	ck_assert_msg(json_is_number(json_object_get(ev, "repair_ms")) &&
	    json_number_value(json_object_get(ev, "repair_ms")) <=
	    REPAIR_MS_MAX, "repaired too late: %s", dump(ev));
	json_decref(list);

	/* Counted; healthy again. */
	r = recovery_table(&h);
	ck_assert_msg(json_is_true(json_object_get(r, "healthy")) &&
	    num(r, "repairs") == 1 &&
	    json_is_number(json_object_get(r, "last_repair_ms")) &&
	    json_number_value(json_object_get(r, "last_repair_ms")) >= 0,
	    "recovery.table %s", dump(r));
	json_decref(r);
	r = result(&h, "table.info", NULL);
	ck_assert_msg(strcmp(str(r, "name"), h.table) == 0 &&
	    num(r, "repairs") == 1 && json_is_true(json_object_get(r,
	    "healthy")), "table.info %s", dump(r));
	gen = (uint64_t)num(r, "generation");
	json_decref(r);
	shm_path(&h, path, sizeof(path));
	ck_assert_msg(stat(path, &st) == 0, "%s not there again: %s", path,
	    strerror(errno));
	ck_assert_msg((st.st_mode & 07777) == 0644, "%s has mode %o", path,
	    (unsigned)(st.st_mode & 07777));

	/* Flags intact for a fresh reader, here and in another process. */
	fresh = reader_open(&h);
	expect_flags(&h, fresh, 3, want);
	expect_ctl_read(&h, fname[TEL], NULL, true, 3);
	expect_ctl_read(&h, fname[ENF], NULL, false, 3);

	/* The old handle reads the values, from the fresh table. */
	expect_reader(old, 3, want);
	ck_assert_msg(reader_generation(old) == gen,
	    "old reader at generation %llu, table at %llu",
	    (unsigned long long)reader_generation(old),
	    (unsigned long long)gen);
	/* A change now is only in the fresh table: both readers see it. */
	flag_set_ok(&h, fname[ENF], 100);
	want[ENF] = 100;
	expect_reader(old, 3, want);
	expect_reader(fresh, 3, want);
	warden_close(old);
	warden_close(fresh);
	harness_conn_close(c);
	stop(&h);
}

START_TEST(test_table_delete)
{
	table_fault(FAULT_DELETE);
}
END_TEST

START_TEST(test_table_unlink_outside)
{
	table_fault(FAULT_UNLINK);
}
END_TEST

START_TEST(test_table_corrupt)
{
	table_fault(FAULT_CORRUPT);
}
END_TEST

/* {"recovered": true} holds only once the deleted table is back. */
START_TEST(test_wait_recovered_table)
{
	struct harness	 h;
	json_t		*r, *p, *t;
	int		 i;

	start(&h, conf_demo);
	stage_ok(&h, "stage.set", 2, 2);
	for (i = 1; i <= 3; i++) {
		r = result(&h, i == 2 ? "table.corrupt" : "table.delete",
		    NULL);
		json_decref(r);
		p = json_pack("{s:{s:b}, s:i}", "condition", "recovered", 1,
		    "timeout_ms", T_WAIT);
		r = result(&h, "wait", p);
		t = json_object_get(r, "table");
		ck_assert_msg(json_is_object(t) &&
		    json_is_true(json_object_get(t, "healthy")) &&
		    num(t, "repairs") == i, "wait recovered answered %s",
		    dump(r));
		json_decref(r);
	}
	t = recovery_table(&h);
	ck_assert_msg(json_is_true(json_object_get(t, "healthy")) &&
	    num(t, "repairs") == 3, "recovery.table %s", dump(t));
	json_decref(t);
	stop(&h);
}
END_TEST

/* --- 7. the guard -------------------------------------------------------- */

static const char conf_guard[] =
    "{ " DEMO_FLAGS ","
    " 'guard': { 'max_restarts': 3, 'window_s': 60, 'action': 'rollback' },"
    " 'supervisor': { 'max_restarts': 100, 'max_seconds': 60,"
    "  'children': [ { 'name': 'crashy', 'command': ['@WORKER@',"
    "   '--ready', 'notify', '--exit-on-usr1', '1'], 'ready': 'notify' } ] } }";

/* Make crashy exit 1 and wait for its restart number n. */
static void
crash(struct harness *h, int n)
{
	pid_t	pid = harness_pid_of(h, "crashy"), now;

	ck_assert_msg(pid > 0, "crashy has no pid");
	ck_assert_int_eq(kill(pid, SIGUSR1), 0);
	ck_assert_msg(harness_wait(h, json_pack("{s:s, s:s, s:i}", "service",
	    "crashy", "state", "running", "min_restarts", n), T_WAIT) == 0,
	    "crashy not running again after crash %d", n);
	now = harness_pid_of(h, "crashy");
	ck_assert_msg(now > 0 && now != pid, "crashy pid %ld, was %ld",
	    (long)now, (long)pid);
}

START_TEST(test_guard_rollback)
{
	struct harness		 h;
	struct harness_conn	*c;
	warden_table		*t;
	json_t			*r, *list, *ev, *last;
	const char		*reason;
	int			 i;

	start(&h, conf_guard);
	t = reader_open(&h);
	c = subscribe(&h, "stage", "guard", NULL);

	/* Restarts before a stage change count for nothing. */
	for (i = 1; i <= 4; i++)
		crash(&h, i);
	ck_assert_int_eq(stage_now(&h), 0);

	stage_ok(&h, "stage.set", 2, 2);
	for (i = 5; i <= 7; i++) {
		crash(&h, i);
		/* The guard decides before the restart: no rollback yet. */
		ck_assert_msg(stage_now(&h) == 2, "stage %d after %d restarts "
		    "since stage 2 (limit 3)", stage_now(&h), i - 4);
	}
	crash(&h, 8);

	/* Exactly: the raise, the guard's rollback, its own event. */
	list = events_until(c, "guard.rollback", NULL, NULL);
	ck_assert_msg(json_array_size(list) == 3, "events %s", dump(list));
	ev = json_array_get(list, 0);
	ck_assert_msg(strcmp(str(ev, "type"), "stage.changed") == 0 &&
	    num(ev, "from") == 0 && num(ev, "to") == 2, "events %s",
	    dump(list));
	ev = json_array_get(list, 1);
	ck_assert_msg(strcmp(str(ev, "type"), "stage.changed") == 0 &&
	    num(ev, "from") == 2 && num(ev, "to") == 1 &&
	    strcmp(str(ev, "kind"), "guard") == 0 &&
	    json_is_null(json_object_get(ev, "by")), "events %s", dump(list));
	ev = json_array_get(list, 2);
	ck_assert_msg(num(ev, "from") == 2 && num(ev, "to") == 1 &&
	    (reason = str(ev, "reason")) != NULL &&
	    strstr(reason, "limit 3") != NULL, "guard.rollback %s", dump(ev));
	json_decref(list);
	ck_assert_int_eq(stage_now(&h), 1);
	expect_flags(&h, t, 1, at_stage[1]);

	r = result(&h, "stage.get", NULL);
	last = json_array_get(json_object_get(r, "history"),
	    json_array_size(json_object_get(r, "history")) - 1);
	ck_assert_msg(last != NULL && strcmp(str(last, "kind"), "guard") == 0 &&
	    num(last, "from") == 2 && num(last, "to") == 1 &&
	    (reason = str(last, "reason")) != NULL &&
	    strstr(reason, "limit 3") != NULL &&
	    strstr(reason, "4 restarts") != NULL,
	    "last history entry %s", dump(last));
	json_decref(r);

	/* Disarmed until the next raise: more crashes change nothing. */
	crash(&h, 9);
	ck_assert_int_eq(stage_now(&h), 1);
	harness_conn_close(c);
	warden_close(t);
	stop(&h);
}
END_TEST

static Suite *
flags_faults_suite(void)
{
	Suite	*s = suite_create("flags_faults");
	TCase	*tc = tcase_create("flags_faults");

	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_table_delete);
	tcase_add_test(tc, test_table_unlink_outside);
	tcase_add_test(tc, test_table_corrupt);
	tcase_add_test(tc, test_wait_recovered_table);
	tcase_add_test(tc, test_guard_rollback);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(flags_faults_suite)
