/*
 * check_reexec.c: warden executing itself again in place (SPEC 11: upgrade
 * without restarting services), with the real daemon and real workers:
 * SIGUSR2 and the reexec method keep every worker (pid, pipes, readiness
 * pending, restart counts, backoff timers, a supervisor's intensity), the
 * table and the state; a binary that cannot take over leaves the old
 * warden running and says why; a reexec asked during a reload waits for
 * it, one asked among stage changes loses none of them; clients carry on.
 *
 * JSON in the tests is written with ' for "; dq() turns it into JSON.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

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
#include "util.h"
#include "suite.h"

#define T_WAIT		10000	/* failure bound of one wait, ms */
#define T_CASE		60	/* failure bound of one test, s */

/* --- small helpers -------------------------------------------------------- */

/* The process warden started as now runs the image a reexec executed. */
static bool
runs_handover(struct harness *h)
{
	char	 path[64], *cmd;
	size_t	 len, off;
	bool	 yes = false;
	int	 fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)h->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	if (util_read_fd(fd, 65536, &cmd, &len) == -1) {
		close(fd);
		return false;
	}
	close(fd);
	/* Words end with a NUL each. */
	for (off = 0; off < len; off += strlen(cmd + off) + 1)
		if (strcmp(cmd + off, "--handover") == 0)
			yes = true;
	free(cmd);
	return yes;
}

/* --- SIGUSR2: the workers and their state --------------------------------- */

/*
 * Workers of every readiness mode, one of them still starting, keep their
 * pids and counts; the started one's readiness comes through the adopted
 * fd and notify socket; an exit after the reexec is reaped, its last
 * output read from the same pipe, and the worker restarted.
 */
START_TEST(test_sigusr2_keeps_workers)
{
	struct harness	 h;
	char		*text;
	pid_t		 a, b, c, d, e, gb, gc;

	text = dq("{ 'supervisor': { 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@', '--exit-on-usr1', '7'] },"
	    " { 'name': 'b', 'command': ['@WORKER@', '--ready', 'signal',"
	    "   '--grandchild', 'b.pid'], 'ready': 'fd', 'ready_timeout_ms': 60000 },"
	    " { 'name': 'c', 'command': ['@WORKER@', '--ready', 'signal',"
	    "   '--grandchild', 'c.pid'], 'ready': 'notify',"
	    "   'ready_timeout_ms': 60000 },"
	    " { 'name': 'inner', 'strategy': 'one_for_all', 'children': ["
	    "   { 'name': 'd', 'command': ['@WORKER@'] },"
	    "   { 'name': 'e', 'command': ['@WORKER@'] } ] } ] } }");
	ck_assert_int_eq(harness_prepare(&h, text), 0);
	free(text);
	ck_assert_int_eq(harness_spawn(&h), 0);
	ck_assert_int_eq(harness_wait_log(&h, "listening on", T_WAIT), 0);
	/* b and c are ready when told: for the first start, now. */
	gb = usr2_when_set_up(&h, "b", "b.pid", 0);
	gc = usr2_when_set_up(&h, "c", "c.pid", 0);
	ck_assert_int_eq(harness_wait_ready(&h, T_WAIT), 0);
	/* Their next instances wait for readiness across the reexec. */
	ck_assert_int_eq(kill(pid_of(&h, "b"), SIGKILL), 0);
	ck_assert_int_eq(kill(pid_of(&h, "c"), SIGKILL), 0);
	wait_restarts(&h, "b", "starting", 1);
	wait_restarts(&h, "c", "starting", 1);
	gb = harness_wait_pidfile(harness_path(&h, "b.pid"), gb, T_WAIT);
	gc = harness_wait_pidfile(harness_path(&h, "c.pid"), gc, T_WAIT);
	ck_assert(gb > 0 && gc > 0);
	a = pid_of(&h, "a");
	b = pid_of(&h, "b");
	c = pid_of(&h, "c");
	d = pid_of(&h, "d");
	e = pid_of(&h, "e");
	ck_assert(!runs_handover(&h));

	reexec_by_signal(&h);
	ck_assert_msg(runs_handover(&h), "pid %ld is not the next image",
	    (long)h.pid);
	ck_assert_int_eq(pid_of(&h, "a"), a);
	ck_assert_int_eq(pid_of(&h, "b"), b);
	ck_assert_int_eq(pid_of(&h, "c"), c);
	ck_assert_int_eq(pid_of(&h, "d"), d);
	ck_assert_int_eq(pid_of(&h, "e"), e);
	ck_assert_int_eq(field_of(&h, "a", "restarts"), 0);
	ck_assert_int_eq(field_of(&h, "b", "restarts"), 1);
	ck_assert_int_eq(field_of(&h, "d", "restarts"), 0);
	ck_assert_str_eq(state_of(&h, "b"), "starting");
	ck_assert_str_eq(state_of(&h, "c"), "starting");

	/* Readiness by the fd and by the notify socket the workers were given. */
	ck_assert_int_eq(kill(b, SIGUSR2), 0);
	ck_assert_int_eq(kill(c, SIGUSR2), 0);
	wait_restarts(&h, "b", "running", 1);
	wait_restarts(&h, "c", "running", 1);
	ck_assert_int_eq(pid_of(&h, "b"), b);
	ck_assert_int_eq(pid_of(&h, "c"), c);

	/* An exit: reaped by the new image, its words read, a restart. */
	harness_log_mark(&h);
	ck_assert_int_eq(kill(a, SIGUSR1), 0);
	wait_restarts(&h, "a", "running", 1);
	ck_assert_int_ne(pid_of(&h, "a"), a);
	ck_assert_msg(harness_wait_log(&h, "exit 7 on SIGUSR1", T_WAIT) == 0,
	    "the worker's last line was not read from its pipe");
	ck_assert_int_eq(harness_wait_pid_gone(a, T_WAIT), 0);
	stop(&h);
}
END_TEST

/* A backoff under way at the reexec ends when it was due, not at once, not never. */
START_TEST(test_backoff_resumes)
{
	struct harness	 h;
	uint64_t	 t0, took;
	pid_t		 f;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'f', 'command': ['@WORKER@'],"
	    "   'backoff': { 'initial_ms': 1500, 'max_ms': 1500, 'factor': 1,"
	    "     'jitter': 0 } } ] } }");
	f = pid_of(&h, "f");
	t0 = util_now_ms();
	ck_assert_int_eq(kill(f, SIGKILL), 0);
	wait_restarts(&h, "f", "backoff", 0);
	reexec_by_signal(&h);
	ck_assert_str_eq(state_of(&h, "f"), "backoff");
	wait_restarts(&h, "f", "running", 1);
	took = util_now_ms() - t0;
	ck_assert_msg(took >= 1400, "restarted after %llu ms, before its backoff",
	    (unsigned long long)took);
	ck_assert_int_eq(field_of(&h, "f", "restarts"), 1);
	stop(&h);
}
END_TEST

/*
 * A supervisor's intensity counts the restarts from before the reexec:
 * one allowed in a minute, one before and one after, and it gives up.
 */
START_TEST(test_intensity_kept)
{
	struct harness	 h;
	json_t		*s;

	start(&h, "{ 'supervisor': { 'max_restarts': 10, 'children': ["
	    " { 'name': 'sup', 'max_restarts': 1, 'max_seconds': 60,"
	    "   'children': [ { 'name': 'g', 'command': ['@WORKER@'] } ] } ] } }");
	ck_assert_int_eq(kill(pid_of(&h, "g"), SIGKILL), 0);
	wait_restarts(&h, "g", "running", 1);
	reexec_by_signal(&h);
	ck_assert_int_eq(kill(pid_of(&h, "g"), SIGKILL), 0);
	/* Over its intensity: sup gives up, root restarts it with a fresh g. */
	s = json_pack("{s:s,s:s,s:i}", "service", "sup", "state", "running",
	    "min_restarts", 1);
	ck_assert_msg(harness_wait(&h, s, T_WAIT) == 0,
	    "sup did not give up: its intensity was lost in the reexec");
	stop(&h);
}
END_TEST

/* The table stays the same object; the state, the same values. */
START_TEST(test_table_and_state_kept)
{
	struct harness	 h;
	struct stat	 st0, st1;
	char		 path[PATH_MAX];
	json_t		*r;

	start(&h, "{ 'flags': { 'x': { 'default': false } },"
	    " 'stages': [ { 'stage': 1, 'enable': [] } ],"
	    " 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@'] } ] } }");
	r = harness_result(&h, "flag.set", json_pack("{s:s,s:b}", "name", "x",
	    "value", 1));
	ck_assert_ptr_nonnull(r);
	json_decref(r);
	r = harness_result(&h, "stage.set", json_pack("{s:i}", "stage", 1));
	ck_assert_ptr_nonnull(r);
	json_decref(r);
	snprintf(path, sizeof(path), "/dev/shm%s", h.table);
	ck_assert_int_eq(stat(path, &st0), 0);

	reexec_by_signal(&h);
	ck_assert_int_eq(stat(path, &st1), 0);
	ck_assert_msg(st0.st_ino == st1.st_ino, "the table was made afresh");
	r = harness_result(&h, "flag.get", json_pack("{s:s}", "name", "x"));
	ck_assert_ptr_nonnull(r);
	ck_assert(json_is_true(json_object_get(r, "value")) ||
	    json_integer_value(json_object_get(r, "value")) == 100);
	json_decref(r);
	r = harness_result(&h, "stage.get", NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "stage")), 1);
	json_decref(r);
	r = harness_result(&h, "table.info", NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert(json_is_true(json_object_get(r, "healthy")));
	json_decref(r);
	stop(&h);
}
END_TEST

/* --- the reexec method: binaries that cannot take over ------------------------ */

/* A file in the test's folder, executable, with this text. */
static char *
script(struct harness *h, const char *name, const char *text)
{
	char	*path;

	ck_assert_int_eq(harness_write_file(h, name, text), 0);
	path = harness_path(h, name);
	ck_assert_int_eq(chmod(path, 0755), 0);
	return path;
}

/* reexec to binary: the whole answer. */
static json_t *
reexec_call(struct harness *h, const char *binary)
{
	json_t	*r;

	r = harness_call_timeout(h, "reexec", binary != NULL ?
	    json_pack("{s:s}", "binary", binary) : NULL, 30000);
	ck_assert_msg(r != NULL, "no answer to reexec %s",
	    binary != NULL ? binary : "(its own binary)");
	return r;
}

static const char *
error_message(const json_t *r)
{
	return json_string_value(json_object_get(json_object_get(r, "error"),
	    "message"));
}

/* The old warden goes on, its workers untouched. */
static void
still_the_same(struct harness *h, pid_t w)
{
	json_t	*r;

	ck_assert(!runs_handover(h));
	r = harness_result(h, "ping", NULL);
	ck_assert_ptr_nonnull(r);
	json_decref(r);
	ck_assert_int_eq(pid_of(h, "w"), w);
	ck_assert_int_eq(field_of(h, "w", "restarts"), 0);
}

START_TEST(test_bad_binaries)
{
	static const struct {
		const char	*name;	/* a script in the folder, or NULL */
		const char	*text;	/* its text, or the path itself */
		int		 code;
		const char	*says;
	} cases[] = {
		{ NULL, "/nonexistent/warden", -32602, "No such file" },
		{ NULL, "/tmp", -32602, "not an executable file" },
		{ NULL, "relative/warden", -32602, "absolute" },
		/* Not warden: it ignores the check and says nothing. */
		{ NULL, "/bin/true", -32006, "not a warden" },
		/* Exits at once, with an error. */
		{ NULL, "/bin/false", -32006, "exit 1" },
		{ "bad-interp", "#!/nonexistent/sh\n", -32602,
		    "No such file or directory" },
		{ "no-format", "just text\n", -32602, "Exec format error" },
		{ "dies", "#!/bin/sh\necho dying >&2; kill -9 $$\n", -32006,
		    "killed by SIGKILL: dying" },
		{ "newer", "#!/bin/sh\ncat >/dev/null; echo 'warden-handover 2 "
		    "(warden 9.0)'\n", -32006, "takes handover version 2" },
		{ "picky", "#!/bin/sh\necho 'cannot take the configuration in "
		    "force: x'; exit 1\n", -32006, "cannot take the configuration" },
	};
	struct harness	 h;
	json_t		*r;
	char		*path;
	size_t		 i;
	pid_t		 w;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@'] } ] } }");
	w = pid_of(&h, "w");
	for (i = 0; i < nitems(cases); i++) {
		path = cases[i].name != NULL ? script(&h, cases[i].name,
		    cases[i].text) : xstrdup(cases[i].text);
		r = reexec_call(&h, path);
		ck_assert_msg(harness_error_code(r) == cases[i].code,
		    "%s: code %d, not %d", path, harness_error_code(r),
		    cases[i].code);
		ck_assert_msg(error_message(r) != NULL &&
		    strstr(error_message(r), cases[i].says) != NULL,
		    "%s: said \"%s\"", path, error_message(r));
		json_decref(r);
		/* A check that ran is a reload for systemd, ended as refused. */
		if (cases[i].code == -32006) {
			ck_assert_int_eq(harness_wait_notify(&h, "RELOADING=1",
			    T_WAIT), 0);
			ck_assert_int_eq(harness_wait_notify(&h, "READY=1",
			    T_WAIT), 0);
		}
		still_the_same(&h, w);
		free(path);
	}
	stop(&h);
}
END_TEST

/* A binary that never answers its check: refused after 5 s, the old one goes on. */
START_TEST(test_binary_that_hangs)
{
	struct harness	 h;
	json_t		*r;
	char		*path;
	pid_t		 w;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@'] } ] } }");
	w = pid_of(&h, "w");
	path = script(&h, "hangs", "#!/bin/sh\nexec sleep 600\n");
	r = reexec_call(&h, path);
	ck_assert_int_eq(harness_error_code(r), -32006);
	ck_assert_ptr_nonnull(strstr(error_message(r), "did not answer"));
	json_decref(r);
	still_the_same(&h, w);
	/* The check is not left behind, and not taken for a stray. */
	r = harness_result(&h, "status", NULL);
	ck_assert_ptr_nonnull(r);
	json_decref(r);
	free(path);
	stop(&h);
}
END_TEST

/* A copy of warden elsewhere: taken, and the answer comes from it. */
START_TEST(test_reexec_to_a_copy)
{
	struct harness	 h;
	json_t		*r, *res;
	char		*copy, src[PATH_MAX + 16], cmd[3 * PATH_MAX];
	pid_t		 w;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@'] } ] } }");
	w = pid_of(&h, "w");
	copy = harness_path(&h, "warden-new");
	snprintf(src, sizeof(src), "%s/warden", h.bindir);
	snprintf(cmd, sizeof(cmd), "cp %s %s", src, copy);
	ck_assert_int_eq(system(cmd), 0);
	r = reexec_call(&h, copy);
	res = json_object_get(r, "result");
	ck_assert_msg(res != NULL, "reexec failed: %s", error_message(r));
	ck_assert_int_eq(json_integer_value(json_object_get(res, "pid")), h.pid);
	ck_assert_str_eq(json_string_value(json_object_get(res, "binary")), copy);
	ck_assert_int_eq(json_integer_value(json_object_get(res, "workers")), 1);
	ck_assert(json_real_value(json_object_get(res, "took_ms")) > 0);
	json_decref(r);
	ck_assert(runs_handover(&h));
	ck_assert_int_eq(pid_of(&h, "w"), w);
	ck_assert_int_eq(field_of(&h, "w", "restarts"), 0);
	/* And again, to the first binary, from the copy. */
	r = reexec_call(&h, src);
	ck_assert_ptr_nonnull(json_object_get(r, "result"));
	json_decref(r);
	ck_assert_int_eq(pid_of(&h, "w"), w);
	free(copy);
	stop(&h);
}
END_TEST

/* --- clients and changes under way -------------------------------------------- */

/*
 * A wait, a subscriber and a service operation awaiting its settle, all
 * on connections made before: each is carried over and answered.
 */
START_TEST(test_clients_carried_over)
{
	struct harness		 h;
	struct harness_conn	*sub, *waiter;
	json_t			*r, *ev;
	long long		 wid;
	pid_t			 w;
	uint64_t		 seq0;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@'] } ] } }");
	w = pid_of(&h, "w");
	sub = harness_subscribe(&h, NULL);
	ck_assert_ptr_nonnull(sub);
	seq0 = (uint64_t)sub->seq;
	waiter = harness_conn_open(&h);
	ck_assert_ptr_nonnull(waiter);
	wid = harness_conn_request(waiter, "wait", json_pack("{s:{s:s,s:s,s:i},"
	    "s:i}", "condition", "service", "w", "state", "running",
	    "min_restarts", 1, "timeout_ms", 20000));
	ck_assert_int_gt(wid, 0);

	r = reexec_call(&h, NULL);
	ck_assert_msg(json_object_get(r, "result") != NULL, "reexec: %s",
	    error_message(r));
	json_decref(r);
	ev = harness_wait_event(sub, "warden.reexecuted", NULL, T_WAIT);
	ck_assert_msg(ev != NULL, "the subscriber lost its subscription");
	ck_assert_int_eq(json_integer_value(json_object_get(ev, "seq")),
	    (json_int_t)seq0 + 1);
	json_decref(ev);

	ck_assert_int_eq(kill(w, SIGKILL), 0);
	r = harness_read_response(waiter, wid, T_WAIT);
	ck_assert_msg(r != NULL && json_object_get(r, "result") != NULL,
	    "the wait was lost in the reexec");
	json_decref(r);
	ev = harness_wait_event(sub, "service.exited", "w", T_WAIT);
	ck_assert_ptr_nonnull(ev);
	json_decref(ev);
	harness_conn_close(waiter);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/*
 * Stage changes sent back to back on one connection, a reexec asked on
 * another among them: every change is answered, and the stage is the one
 * the last answer gave.
 */
START_TEST(test_during_stage_changes)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*r;
	long long		 ids[40];
	char			 conf[4096], *p;
	int			 i;

	/* Forty stages, each raised in turn: one answer lost would show. */
	p = conf + snprintf(conf, sizeof(conf), "{ 'flags': { 'x': "
	    "{ 'default': false } }, 'stages': [");
	for (i = 1; i <= 40; i++)
		p += snprintf(p, sizeof(conf) - (size_t)(p - conf),
		    "%s{ 'stage': %d, 'enable': [%s] }", i > 1 ? "," : "", i,
		    i == 1 ? "'x'" : "");
	snprintf(p, sizeof(conf) - (size_t)(p - conf), "], 'supervisor': "
	    "{ 'children': [ { 'name': 'w', 'command': ['@WORKER@'] } ] } }");
	start(&h, conf);
	c = harness_conn_open(&h);
	ck_assert_ptr_nonnull(c);
	for (i = 0; i < 20; i++)
		ids[i] = harness_conn_request(c, "stage.set",
		    json_pack("{s:i}", "stage", i + 1));
	r = reexec_call(&h, NULL);
	ck_assert_msg(json_object_get(r, "result") != NULL, "reexec: %s",
	    error_message(r));
	json_decref(r);
	for (; i < 40; i++)
		ids[i] = harness_conn_request(c, "stage.set",
		    json_pack("{s:i}", "stage", i + 1));
	for (i = 0; i < 40; i++) {
		r = harness_read_response(c, ids[i], T_WAIT);
		ck_assert_msg(r != NULL, "stage.set %d never answered", i + 1);
		ck_assert_msg(json_object_get(r, "result") != NULL,
		    "stage.set %d: %s", i + 1, error_message(r));
		json_decref(r);
	}
	r = harness_result(&h, "stage.get", NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "stage")), 40);
	ck_assert_int_eq(json_array_size(json_object_get(r, "history")), 40);
	json_decref(r);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/*
 * A reload replaces a worker whose old instance takes a while to stop; a
 * reexec asked meanwhile waits for it, then goes: the new instance runs,
 * the old one is gone, nothing else restarted.
 */
START_TEST(test_during_reload)
{
	struct harness	 h;
	json_t		*r;
	char		*text;
	pid_t		 old, k;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'k', 'command': ['@WORKER@'] },"
	    " { 'name': 'slow', 'command': ['@WORKER@', '--linger-term', '800'],"
	    "   'shutdown_ms': 5000 } ] } }");
	old = pid_of(&h, "slow");
	k = pid_of(&h, "k");
	text = dq("{ 'supervisor': { 'children': ["
	    " { 'name': 'k', 'command': ['@WORKER@'] },"
	    " { 'name': 'slow', 'command': ['@WORKER@', '--linger-term', '700'],"
	    "   'shutdown_ms': 5000 } ] } }");
	ck_assert_int_eq(harness_write_config(&h, text), 0);
	free(text);
	r = harness_result(&h, "config.reload", NULL);
	ck_assert_ptr_nonnull(r);
	json_decref(r);
	r = reexec_call(&h, NULL);
	ck_assert_msg(json_object_get(r, "result") != NULL, "reexec: %s",
	    error_message(r));
	json_decref(r);
	ck_assert(!harness_pid_alive(old));
	wait_restarts(&h, "slow", "running", 0);
	ck_assert_int_ne(pid_of(&h, "slow"), old);
	ck_assert_int_eq(pid_of(&h, "k"), k);
	stop(&h);
}
END_TEST

/*
 * Reexecs in a row under churn: 60 steady workers and 6 that crash as
 * fast as their 20 ms backoff lets them. Nothing is lost: the steady ones
 * keep their pids and counts, every event a subscriber gets follows the
 * one before (no gap, no repeat), the crashers go on being restarted, and
 * the final stop leaves nothing behind.
 */
START_TEST(test_under_churn)
{
	struct harness		 h;
	struct harness_conn	*sub;
	json_t			*r, *ev;
	char			*conf, *p, name[16];
	pid_t			 steady[60];
	json_int_t		 seq, last, crashes;
	size_t			 len = 65536;
	int			 i;

	conf = xmalloc(len);
	p = conf + snprintf(conf, len, "{ 'limits': { 'subscriber_queue_bytes': "
	    "67108864 }, 'supervisor': { 'max_restarts': 1000000, "
	    "'max_seconds': 1, 'children': [");
	for (i = 0; i < 60; i++)
		p += snprintf(p, len - (size_t)(p - conf), "%s{ 'name': 's%d', "
		    "'command': ['@WORKER@'] }", i > 0 ? "," : "", i);
	for (i = 0; i < 6; i++)
		p += snprintf(p, len - (size_t)(p - conf), ",{ 'name': 'c%d', "
		    "'command': ['@WORKER@', '--crash', '1'], 'backoff': "
		    "{ 'initial_ms': 20, 'max_ms': 20, 'factor': 1, "
		    "'jitter': 0 } }", i);
	snprintf(p, len - (size_t)(p - conf), "] } }");
	start(&h, conf);
	free(conf);
	for (i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		steady[i] = pid_of(&h, name);
	}
	sub = harness_subscribe(&h, NULL);
	ck_assert_ptr_nonnull(sub);
	last = sub->seq;
	for (i = 0; i < 5; i++) {
		r = reexec_call(&h, NULL);
		ck_assert_msg(json_object_get(r, "result") != NULL,
		    "reexec %d: %s", i + 1, error_message(r));
		json_decref(r);
	}
	crashes = field_of(&h, "c0", "restarts");
	/* The crashers still churn, under the last image. */
	wait_restarts(&h, "c0", "backoff", (int)crashes + 2);
	/* Every event up to the fifth reexec's, each the one after the last. */
	for (i = 0; i < 5;) {
		ev = harness_next_event(sub, T_WAIT);
		ck_assert_msg(ev != NULL, "events stopped after seq %lld",
		    (long long)last);
		seq = json_integer_value(json_object_get(ev, "seq"));
		ck_assert_msg(seq == last + 1, "seq %lld after %lld", (long long)seq,
		    (long long)last);
		last = seq;
		if (strcmp(json_string_value(json_object_get(ev, "type")),
		    "warden.reexecuted") == 0)
			i++;
		json_decref(ev);
	}
	for (i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		ck_assert_int_eq(pid_of(&h, name), steady[i]);
		ck_assert_int_eq(field_of(&h, name, "restarts"), 0);
	}
	ck_assert(runs_handover(&h));
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* --- the handover as input -------------------------------------------------- */

/* warden --handover with what is not a handover: an error, exit 1, nothing else. */
START_TEST(test_handover_garbage)
{
	static const char *const texts[] = {
		"", "not json", "[]", "{\"version\": 2}",
		"{\"version\": 1}",
		("{\"version\": 1, \"config\": {\"path\": \"/x.json\", "
		    "\"text\": \"{}\"}}"),
	};
	char		 path[] = "/tmp/warden-handover.XXXXXX", bin[PATH_MAX];
	const char	*dir = getenv("WARDEN_BIN_DIR");
	size_t		 i;
	pid_t		 pid;
	int		 fd, status;

	snprintf(bin, sizeof(bin), "%s/warden", dir != NULL ? dir : "bin");
	for (i = 0; i < nitems(texts); i++) {
		ck_assert_int_ne(fd = mkstemp(path), -1);
		ck_assert_int_eq(unlink(path), 0);
		ck_assert_int_eq(util_write_all(fd, texts[i], strlen(texts[i])), 0);
		ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
		if (fd != 7) {
			ck_assert_int_eq(dup2(fd, 7), 7);
			close(fd);
		}
		switch ((pid = fork())) {
		case -1:
			ck_abort_msg("fork");
			break;
		case 0:
			execl(bin, bin, "--handover", "7", "-c", "/x.json",
			    (char *)NULL);
			_exit(126);
		}
		close(7);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1,
		    "handover \"%s\": status %#x", texts[i], status);
		memcpy(path + strlen(path) - 6, "XXXXXX", 6);
	}
}
END_TEST

static Suite *
reexec_suite(void)
{
	Suite	*s = suite_create("reexec");
	TCase	*tc = tcase_create("signal");

	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_sigusr2_keeps_workers);
	tcase_add_test(tc, test_backoff_resumes);
	tcase_add_test(tc, test_intensity_kept);
	tcase_add_test(tc, test_table_and_state_kept);
	tcase_add_test(tc, test_handover_garbage);
	suite_add_tcase(s, tc);
	tc = tcase_create("method");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_bad_binaries);
	tcase_add_test(tc, test_binary_that_hangs);
	tcase_add_test(tc, test_reexec_to_a_copy);
	tcase_add_test(tc, test_clients_carried_over);
	tcase_add_test(tc, test_during_stage_changes);
	tcase_add_test(tc, test_during_reload);
	tcase_add_test(tc, test_under_churn);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(reexec_suite)
