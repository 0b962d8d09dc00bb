/*
 * check_flags_group.c: the group commit of flag and stage changes, in warden
 * set up in this process (handovertest.h): the changes read in one turn of
 * the loop share one fdatasync and are answered in order after it; each is
 * judged against those before it; a bad one among good ones is refused
 * alone; a write or a sync that fails answers the whole group unavailable
 * and changes nothing (state, table, events, journal); a client that
 * leaves before its answer still has its change; a full group commits at
 * once; a reload, a handover and the guard commit the group first; and
 * warden killed at a group's sync has answered none of it.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "control.h"
#include "control-private.h"
#include "flagsvc.h"
#include "journal.h"
#include "protocol.h"
#include "util.h"
#include "harness.h"
#include "handovertest.h"
#include "handoversuite.h"
#include "statetest.h"
#include "suite.h"

#define NCLIENTS	16

/* A request line: method with params (JSON text, NULL: none). */
static char *
gc_line(int id, const char *method, const char *params)
{
	char	*s;

	if (params != NULL)
		xasprintf(&s, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\","
		    "\"params\":%s}\n", id, method, params);
	else
		xasprintf(&s, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\"}\n",
		    id, method);
	return s;
}

static void
gc_send(struct tc *t, int id, const char *method, const char *params)
{
	char	*s = gc_line(id, method, params);

	tc_send(t, s);
	free(s);
}

/* The next answer must be id's result; returned (the whole answer). */
static json_t *
gc_ok(struct tc *t, json_int_t id)
{
	json_t	*r = tc_line(t);

	ck_assert_msg(json_object_get(r, "result") != NULL, "id %lld: %s",
	    (long long)id, json_dumps(r, JSON_COMPACT));
	ck_assert_int_eq(ho_id_of(r), id);
	return r;
}

static void
gc_error(struct tc *t, json_int_t id, int code)
{
	json_t	*r = tc_line(t);

	ck_assert_msg(ho_code_of(r) == code, "id %lld: want %d, got %s",
	    (long long)id, code, json_dumps(r, JSON_COMPACT));
	ck_assert_int_eq(ho_id_of(r), id);
	json_decref(r);
}

/* A flag's value in force (0 or 100), asked as a client does. */
static int
gc_flag(struct tc *t, const char *name)
{
	char	 params[64];
	json_t	*r, *v;
	int	 value;

	snprintf(params, sizeof(params), "{\"name\":\"%s\"}", name);
	gc_send(t, 900, "flag.get", params);
	r = gc_ok(t, 900);
	v = json_object_get(json_object_get(r, "result"), "value");
	value = json_is_true(v) ? 100 : json_is_false(v) ? 0 :
	    (int)json_integer_value(v);
	json_decref(r);
	return value;
}

static int
gc_stage(struct tc *t)
{
	json_t	*r;
	int	 stage;

	gc_send(t, 901, "stage.get", NULL);
	r = gc_ok(t, 901);
	stage = (int)json_integer_value(json_object_get(json_object_get(r,
	    "result"), "stage"));
	json_decref(r);
	return stage;
}

static off_t
gc_journal_size(void)
{
	char		path[512];
	struct stat	sb;

	snprintf(path, sizeof(path), "%s/journal", ho_conf->state_dir);
	ck_assert_msg(stat(path, &sb) == 0, "%s: %s", path, strerror(errno));
	return sb.st_size;
}

/* Lines of the journal: its records. */
static size_t
gc_journal_records(void)
{
	char	 path[512], *text, *p;
	size_t	 n = 0;

	snprintf(path, sizeof(path), "%s/journal", ho_conf->state_dir);
	ck_assert_ptr_nonnull(text = harness_read_file(path));
	for (p = text; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	free(text);
	return n;
}

/* Sixteen clients' changes read in one turn: one sync, each answered. */
START_TEST(test_group_one_sync)
{
	struct tc	*t[NCLIENTS];
	uint64_t	 syncs = flagsvc_journal_syncs();
	size_t		 recs = gc_journal_records();
	json_t		*r;
	int		 i;

	for (i = 0; i < NCLIENTS; i++)
		t[i] = tc_open();
	/* All of it is in the sockets before warden's loop turns. */
	for (i = 0; i < NCLIENTS; i++)
		gc_send(t[i], i + 1, "flag.set", i % 2 == 0 ?
		    "{\"name\":\"f\",\"value\":true}" :
		    "{\"name\":\"k\",\"value\":true}");
	for (i = 0; i < NCLIENTS; i++) {
		r = gc_ok(t[i], i + 1);
		ho_check_flag(json_object_get(r, "result"), i % 2 == 0 ? "f" :
		    "k", true);
		json_decref(r);
	}
	ck_assert_uint_eq(flagsvc_journal_syncs() - syncs, 1);
	ck_assert_uint_eq(gc_journal_records() - recs, NCLIENTS);
	ck_assert_int_eq(gc_flag(t[0], "f"), 100);
	ck_assert_int_eq(gc_flag(t[0], "k"), 100);
	for (i = 0; i < NCLIENTS; i++)
		tc_free(t[i]);
}
END_TEST

/*
 * One client's lines in one read: each change is judged against those
 * before it in the group, and the answers come in order.
 */
START_TEST(test_group_sees_earlier)
{
	struct tc	*t = tc_open();
	uint64_t	 syncs = flagsvc_journal_syncs();
	char		*a = gc_line(1, "stage.set", "{\"stage\":1}");
	char		*b = gc_line(2, "stage.set", "{\"stage\":1}");
	char		*c = gc_line(3, "flag.set", "{\"name\":\"f\",\"value\":true}");
	char		*d = gc_line(4, "flag.reset", "{\"name\":\"f\"}");
	char		*e = gc_line(5, "stage.set", "{\"stage\":2}");
	char		*all;
	json_t		*r;

	xasprintf(&all, "%s%s%s%s%s", a, b, c, d, e);
	tc_send(t, all);
	json_decref(gc_ok(t, 1));
	gc_error(t, 2, RPC_CONFLICT);
	r = gc_ok(t, 3);
	ho_check_flag(json_object_get(r, "result"), "f", true);
	json_decref(r);
	r = gc_ok(t, 4);
	ck_assert_msg(strstr(json_dumps(r, JSON_COMPACT), "\"value\":false") !=
	    NULL, "flag.reset: %s", json_dumps(r, JSON_COMPACT));
	json_decref(r);
	json_decref(gc_ok(t, 5));
	ck_assert_uint_eq(flagsvc_journal_syncs() - syncs, 1);
	ck_assert_int_eq(gc_flag(t, "f"), 0);
	ck_assert_int_eq(gc_flag(t, "s"), 100);
	ck_assert_int_eq(gc_stage(t), 2);
	free(all);
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
	tc_free(t);
}
END_TEST

/* A JSON-RPC batch of good and bad changes: the bad ones alone are refused. */
START_TEST(test_group_bad_and_good)
{
	struct tc	*t = tc_open();
	uint64_t	 syncs = flagsvc_journal_syncs();
	json_t		*r, *m;
	size_t		 i;
	static const int want[] = { 0, RPC_NOT_FOUND, RPC_INVALID_PARAMS,
		RPC_NOT_FOUND, 0 };

	tc_send(t, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"flag.set\","
	    "\"params\":{\"name\":\"f\",\"value\":true}},"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"flag.set\","
	    "\"params\":{\"name\":\"nosuch\",\"value\":true}},"
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"flag.set\","
	    "\"params\":{\"name\":\"g\",\"value\":\"yes\"}},"
	    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"stage.set\","
	    "\"params\":{\"stage\":9}},"
	    "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"flag.set\","
	    "\"params\":{\"name\":\"k\",\"value\":true}}]\n");
	r = tc_line(t);
	ck_assert_msg(json_array_size(r) == nitems(want), "%s",
	    json_dumps(r, JSON_COMPACT));
	json_array_foreach(r, i, m) {
		ck_assert_int_eq(ho_id_of(m), (json_int_t)i + 1);
		if (want[i] == 0)
			ck_assert_msg(json_object_get(m, "result") != NULL,
			    "%s", json_dumps(m, JSON_COMPACT));
		else
			ck_assert_int_eq(ho_code_of(m), want[i]);
	}
	json_decref(r);
	ck_assert_uint_eq(flagsvc_journal_syncs() - syncs, 1);
	ck_assert_int_eq(gc_flag(t, "f"), 100);
	ck_assert_int_eq(gc_flag(t, "g"), 0);
	ck_assert_int_eq(gc_flag(t, "k"), 100);
	ck_assert_int_eq(gc_stage(t), 0);
	tc_free(t);
}
END_TEST

/*
 * The disk refuses the group (0: the sync fails, 1: a write does): every
 * call of it is answered unavailable, and nothing changed anywhere: the
 * state, the table's generation, the journal, the subscriber's events.
 */
START_TEST(test_group_fails)
{
	struct tc	*t[3], *sub = tc_open();
	uint64_t	 gen = flagsvc_generation(), syncs;
	off_t		 size;
	json_t		*r;
	int		 i;

	json_decref(tc_call(sub, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"subscribe\"}\n"));
	for (i = 0; i < 3; i++)
		t[i] = tc_open();
	size = gc_journal_size();
	syncs = flagsvc_journal_syncs();
	if (_i == 0)
		journal_io.fdatasync = failing_sync;
	else {
		journal_io.write = failing_write;
		write_allow = 30;
		write_err = ENOSPC;
	}
	gc_send(t[0], 1, "flag.set", "{\"name\":\"f\",\"value\":true}");
	gc_send(t[1], 2, "stage.set", "{\"stage\":1}");
	gc_send(t[2], 3, "flag.set", "{\"name\":\"g\",\"value\":true}");
	for (i = 0; i < 3; i++) {
		r = tc_line(t[i]);
		ck_assert_msg(ho_code_of(r) == RPC_UNAVAILABLE, "%s",
		    json_dumps(r, JSON_COMPACT));
		ck_assert_msg(strstr(ho_message_of(r), "could not be made "
		    "durable") != NULL, "%s", ho_message_of(r));
		json_decref(r);
	}
	journal_io = real_io;
	ck_assert_int_eq(gc_journal_size(), size);
	ck_assert_uint_eq(flagsvc_journal_syncs(), syncs);
	ck_assert_uint_eq(flagsvc_generation(), gen);
	ck_assert_int_eq(gc_flag(t[0], "f"), 0);
	ck_assert_int_eq(gc_flag(t[0], "g"), 0);
	ck_assert_int_eq(gc_stage(t[0]), 0);
	ck_assert(!ho_readable(sub));

	/* The disk is back: the next change is the subscriber's first event. */
	gc_send(t[0], 4, "flag.set", "{\"name\":\"k\",\"value\":true}");
	json_decref(gc_ok(t[0], 4));
	r = tc_line(sub);
	ck_assert_msg(strstr(json_dumps(r, JSON_COMPACT), "\"name\":\"k\"") !=
	    NULL, "first event: %s", json_dumps(r, JSON_COMPACT));
	json_decref(r);
	ck_assert_uint_eq(flagsvc_journal_syncs() - syncs, 1);
	for (i = 0; i < 3; i++)
		tc_free(t[i]);
	tc_free(sub);
}
END_TEST

/* A client that is gone before its answer: the change commits all the same. */
START_TEST(test_group_client_gone)
{
	struct tc	*t = tc_open(), *other = tc_open();
	struct client	*c = ho_server(t);
	char		*line = gc_line(1, "flag.set", "{\"name\":\"f\",\"value\":true}");
	uint64_t	 syncs = flagsvc_journal_syncs();

	/* Served as a read would serve it, then the client is freed. */
	control_serve(c, line, strlen(line));
	ck_assert_uint_eq(c->npending, 1);
	control_free(c);
	ho_pump_ready();
	ck_assert_uint_eq(flagsvc_journal_syncs() - syncs, 1);
	ck_assert_int_eq(gc_flag(other, "f"), 100);
	free(line);
	tc_free(t);
	tc_free(other);
}
END_TEST

/* --- the service's own calls ------------------------------------------------------ */

static size_t	gc_done, gc_done_ok;

static void
gc_count_done(void *arg, enum flagsvc_err e, json_t *result, const char *err)
{
	(void)arg;
	(void)err;
	gc_done++;
	if (e == FLAGSVC_OK)
		gc_done_ok++;
	json_decref(result);
}

static void
gc_change(int value)
{
	json_t	*params = json_pack("{s:s,s:i}", "name", "f", "value", value);

	(void)flagsvc_change(FLAGS_OP_SET, params, 0, getpid(), gc_count_done,
	    NULL);
	json_decref(params);
}

static int
gc_value_of_f(void)
{
	ssize_t	i = flags_find(flagsvc_flags(), "f");

	ck_assert_int_ge(i, 0);
	return flagsvc_flags()->flag[i].value;
}

/* A full group (256 records) commits as the next change arrives. */
START_TEST(test_group_bounded)
{
	uint64_t	syncs = flagsvc_journal_syncs();
	int		i;

	gc_done = gc_done_ok = 0;
	for (i = 0; i < 256; i++)
		gc_change(i % 100);
	ck_assert_uint_eq(gc_done, 0);
	ck_assert_uint_eq(flagsvc_journal_syncs(), syncs);
	gc_change(1);
	ck_assert_uint_eq(gc_done, 256);
	ck_assert_uint_eq(flagsvc_journal_syncs() - syncs, 1);
	ho_pump_ready();
	ck_assert_uint_eq(gc_done_ok, 257);
	ck_assert_uint_eq(flagsvc_journal_syncs() - syncs, 2);
	ck_assert_int_eq(gc_value_of_f(), 1);
}
END_TEST

/*
 * A snapshot falls due within a group (every 1,000 records): it is taken
 * once the group is durable and applied, covering the whole group, and
 * the journal starts afresh after it.
 */
START_TEST(test_group_snapshot)
{
	char	 path[512];
	json_t	*snap;
	int	 i;

	gc_done = gc_done_ok = 0;
	for (i = 0; i < 1100; i++)
		gc_change(i % 101);
	flagsvc_flush();
	ck_assert_uint_eq(gc_done_ok, 1100);
	snprintf(path, sizeof(path), "%s/state.json", ho_conf->state_dir);
	ck_assert_ptr_nonnull(snap = json_load_file(path, 0, NULL));
	/* Groups of 256: the fourth ends past 1,000. */
	ck_assert_int_eq(json_integer_value(json_object_get(snap, "seq")), 1024);
	json_decref(snap);
	ck_assert_uint_eq(gc_journal_records(), 1100 - 1024);
	ck_assert_int_eq(gc_value_of_f(), 1099 % 101);
}
END_TEST

/*
 * What reads the state whole commits the group first (0: a reload, 1: a
 * reexec's handover, 2: shutdown's flush), so the change is in what they
 * read.
 */
START_TEST(test_group_committed_before)
{
	json_t	*h;

	gc_done = gc_done_ok = 0;
	gc_change(100);
	ck_assert_uint_eq(gc_done, 0);
	switch (_i) {
	case 0:
		flagsvc_reconfigure(ho_conf);
		break;
	case 1:
		h = flagsvc_handover();
		json_decref(h);
		break;
	default:
		flagsvc_flush();
		break;
	}
	ck_assert_uint_eq(gc_done_ok, 1);
	ck_assert_int_eq(gc_value_of_f(), 100);
}
END_TEST

/*
 * The guard rolls back with a group open: the group commits first (the
 * change is answered), then the rollback is judged and made.
 */
START_TEST(test_group_before_guard)
{
	json_t	*params = json_pack("{s:i}", "stage", 1), *res = NULL;
	char	 err[512];

	ck_assert_msg(flagsvc_write("stage.set", params, 0, getpid(), &res, err,
	    sizeof(err)) == FLAGSVC_OK, "stage.set: %s", err);
	json_decref(params);
	json_decref(res);
	gc_done = gc_done_ok = 0;
	gc_change(100);
	flagsvc_note_restart(NULL);
	ck_assert_uint_eq(gc_done, 0);
	flagsvc_note_restart(NULL);
	ck_assert_uint_eq(gc_done_ok, 1);
	ck_assert_uint_eq(flagsvc_guard_rollbacks(), 1);
	ck_assert_int_eq(flagsvc_stage(), 0);
}
END_TEST

/* --- killed at the sync ------------------------------------------------------------ */

static int	gc_answers_fd = -1;

static void
gc_tell_done(void *arg, enum flagsvc_err e, json_t *result, const char *err)
{
	(void)arg;
	(void)e;
	(void)err;
	json_decref(result);
	(void)util_write_all(gc_answers_fd, "a", 1);
}

static int
gc_die_sync(int fd)
{
	(void)fd;
	(void)raise(SIGKILL);
	return -1;
}

/*
 * warden killed at the very point of a group's sync, its records written:
 * none of them was answered, the change answered before is on disk, and
 * the journal's lines are whole records in sequence (a restart replays
 * them: they were never acknowledged, so keeping them is allowed).
 */
START_TEST(test_group_killed_at_sync)
{
	json_t	*params;
	char	 path[512], *text, *p, c;
	int	 pipefd[2], status, i, lines = 0;
	pid_t	 pid;

	ho_set_flag("f", true);
	ck_assert_int_eq(pipe(pipefd), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		close(pipefd[0]);
		gc_answers_fd = pipefd[1];
		for (i = 0; i < 3; i++) {
			params = json_pack("{s:s,s:b}", "name", "k", "value",
			    i % 2 == 0);
			(void)flagsvc_change(FLAGS_OP_SET, params, 0, getpid(),
			    gc_tell_done, NULL);
			json_decref(params);
		}
		journal_io.fdatasync = gc_die_sync;
		flagsvc_flush();
		_exit(0);
	}
	close(pipefd[1]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "the child was not killed at the sync");
	ck_assert_int_eq(read(pipefd[0], &c, 1), 0);	/* no answer at all */
	close(pipefd[0]);

	snprintf(path, sizeof(path), "%s/journal", ho_conf->state_dir);
	ck_assert_ptr_nonnull(text = harness_read_file(path));
	for (p = text; *p != '\0'; p = strchr(p, '\n') + 1) {
		json_t	*rec = json_loads(p + 9, JSON_DISABLE_EOF_CHECK, NULL);

		ck_assert_msg(strchr(p, '\n') != NULL, "a torn line: %s", p);
		ck_assert_msg(rec != NULL, "not a record: %s", p);
		ck_assert_int_eq(json_integer_value(json_object_get(rec, "seq")),
		    ++lines);
		ck_assert_str_eq(json_string_value(json_object_get(rec, "name")),
		    lines == 1 ? "f" : "k");
		json_decref(rec);
	}
	ck_assert_int_eq(lines, 4);
	free(text);
}
END_TEST

static void
gc_teardown(void)
{
	journal_io = real_io;
}

static Suite *
flags_group_suite(void)
{
	TCase	*tc;
	Suite	*s = handoversuite_new("flags_group", &tc);

	tcase_add_checked_fixture(tc, NULL, gc_teardown);
	tcase_add_test(tc, test_group_one_sync);
	tcase_add_test(tc, test_group_sees_earlier);
	tcase_add_test(tc, test_group_bad_and_good);
	tcase_add_loop_test(tc, test_group_fails, 0, 2);
	tcase_add_test(tc, test_group_client_gone);
	tcase_add_test(tc, test_group_bounded);
	tcase_add_test(tc, test_group_snapshot);
	tcase_add_loop_test(tc, test_group_committed_before, 0, 3);
	tcase_add_test(tc, test_group_before_guard);
	tcase_add_test(tc, test_group_killed_at_sync);
	return s;
}

SUITE_MAIN(flags_group_suite)
