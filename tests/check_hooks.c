/*
 * check_hooks.c: failure hooks ("on_failure") with the real warden: what a
 * service's, a supervisor's and the guard's hook gets (environment,
 * stdin), when none runs (stop, reload, shutdown), and the bounds: a hook
 * that hangs is killed at its timeout while warden answers, what it
 * leaves behind goes, a missing command is logged and the service goes
 * on, a crash loop runs the hook at most HOOKS_RATE_RUNS times a minute,
 * a hook that never reads its stdin never stalls warden.
 *
 * Hooks are shell scripts written in the test's folder; they write what
 * they got to files, NAME.tmp renamed to NAME, which the test waits for.
 */
#include <sys/stat.h>

#include <check.h>
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

#define W	TESTLIB_WAIT

/* $1: a name; writes DIR/$1.env (the WARDEN_ variables) and DIR/$1.in. */
static const char capture_sh[] =
    "#!/bin/sh\n"
    "env | grep -E '^WARDEN_(SERVICE|EVENT|REASON|EXIT_CODE|EXIT_SIGNAL|"
    "RESTARTS|HOOK|STAGE_FROM|STAGE_TO)=' | sort > @DIR@/$1.env.tmp\n"
    "cat > @DIR@/$1.in.tmp\n"
    "mv @DIR@/$1.in.tmp @DIR@/$1.in\n"
    "mv @DIR@/$1.env.tmp @DIR@/$1.env\n";

/*
 * Crashes once (exit 3) after two lines, then runs until stopped; waits
 * (DIR/$1.waits) before that while there is no DIR/go: see open_gate().
 */
static const char once_sh[] =
    "#!/bin/sh\n"
    "[ -e @DIR@/$1.crashed ] && exec sleep 1000\n"
    "[ -e @DIR@/go ] || { : > @DIR@/$1.waits; exec sleep 1000; }\n"
    ": > @DIR@/$1.crashed\n"
    "echo boom\n"
    "echo 'second line'\n"
    "exit 3\n";

/* Hangs after starting a daemon of its own: both pids in DIR/$1.pids. */
static const char hang_sh[] =
    "#!/bin/sh\n"
    "setsid sleep 1000 &\n"
    "echo $$ $! > @DIR@/$1.pids.tmp\n"
    "mv @DIR@/$1.pids.tmp @DIR@/$1.pids\n"
    "exec sleep 1000\n";

/* Ends at once, leaving a daemon outside its group. */
static const char leave_sh[] =
    "#!/bin/sh\n"
    "setsid sleep 1000 &\n"
    "echo $! > @DIR@/$1.pid.tmp\n"
    "mv @DIR@/$1.pid.tmp @DIR@/$1.pid\n"
    "echo said on stdout\n"
    "echo said on stderr >&2\n"
    "exit 4\n";

/* Crashes (after a line) from the moment DIR/go exists; says it waits. */
static const char loop_sh[] =
    "#!/bin/sh\n"
    "[ -e @DIR@/go ] || { : > @DIR@/waits; exec sleep 1000; }\n"
    "echo crashing\n"
    "exit 1\n";

/* Counts its runs: a line each in DIR/runs. */
static const char count_sh[] =
    "#!/bin/sh\n"
    "echo run >> @DIR@/runs\n";

/* 1,000 lines of 2,000 bytes, then exit 1; once, gated as once is. */
static const char spew_sh[] =
    "#!/bin/sh\n"
    "[ -e @DIR@/spewed ] && exec sleep 1000\n"
    "[ -e @DIR@/go ] || { : > @DIR@/w.waits; exec sleep 1000; }\n"
    ": > @DIR@/spewed\n"
    "i=0\n"
    "while [ $i -lt 1000 ]; do printf 'line %d %02000d\\n' $i 0;"
    " i=$((i+1)); done\n"
    "exit 1\n";

/* Never reads its stdin: says it is up, and hangs until its timeout. */
static const char deaf_sh[] =
    "#!/bin/sh\n"
    ": > @DIR@/deaf.tmp\n"
    "mv @DIR@/deaf.tmp @DIR@/deaf\n"
    "exec sleep 1000\n";

static void
script(struct harness *h, const char *name, const char *text)
{
	char	*p;

	ck_assert_int_eq(harness_write_file(h, name, text), 0);
	p = harness_path(h, name);
	ck_assert_int_eq(chmod(p, 0755), 0);
	free(p);
}

/* prepare, the suite's scripts (each test uses some), launch; gated: no DIR/go yet. */
static void
launch(struct harness *h, const char *conf, bool gated)
{
	static const struct {
		const char	*name, *text;
	} scripts[] = {
		{ "capture", capture_sh }, { "once", once_sh },
		{ "hang", hang_sh }, { "leave", leave_sh },
		{ "loop", loop_sh }, { "count", count_sh },
		{ "spew", spew_sh }, { "deaf", deaf_sh },
	};
	size_t	i;

	prepare(h, conf);
	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++)
		script(h, scripts[i].name, scripts[i].text);
	if (!gated)
		ck_assert_int_eq(harness_write_file(h, "go", ""), 0);
	ck_assert_int_eq(harness_launch(h), 0);
}

/* DIR/name once it is there (and not prev), malloc'd. */
static char *
wait_file(struct harness *h, const char *name, const char *prev)
{
	char	*p = harness_path(h, name), *text;

	text = harness_wait_file(p, prev, W);
	ck_assert_msg(text != NULL, "no %s", name);
	free(p);
	return text;
}

static bool
exists(struct harness *h, const char *name)
{
	char	*p = harness_path(h, name);
	bool	 yes = access(p, F_OK) == 0;

	free(p);
	return yes;
}

/*
 * A gated worker (once, spew) waits while DIR/go is missing, so that a
 * test subscribes before its failure: once it waits, the gate opens and
 * the waiting instance ends by its stop signal (no failure, no hook); the
 * next one fails.
 */
static void
open_gate(struct harness *h, const char *service, const char *waits)
{
	free(wait_file(h, waits, NULL));
	ck_assert_int_eq(harness_write_file(h, "go", ""), 0);
	ck_assert_int_eq(kill(pid_of(h, service), SIGTERM), 0);
}

/* The next hook.finished, which must say outcome. */
static json_t *
wait_finished(struct harness_conn *c, const char *owner, const char *outcome)
{
	json_t	*ev = wait_event(c, "hook.finished", owner);

	ck_assert_msg(strcmp(str(ev, "outcome"), outcome) == 0,
	    "hook.finished %s, want outcome %s", dump(ev), outcome);
	return ev;
}

/* Gone and reaped: not even a zombie (warden reaps at its next turn). */
static void
wait_reaped(struct harness *h, pid_t pid)
{
	char	path[64];
	int	i;

	ck_assert_int_eq(harness_wait_pid_gone(pid, W), 0);
	snprintf(path, sizeof(path), "/proc/%ld", (long)pid);
	/* Each ping is a turn of warden's loop: bounded, no sleep. */
	for (i = 0; i < 1000 && access(path, F_OK) == 0; i++)
		json_decref(result(h, "ping", NULL));
	ck_assert_msg(access(path, F_OK) == -1, "pid %ld still there",
	    (long)pid);
}

/* --- what a hook gets ------------------------------------------------------- */

START_TEST(test_service_hook)
{
	struct harness		 h;
	struct harness_conn	*c;
	char			*env, *in, *env2;
	json_t			*ev;
	pid_t			 pid;

	launch(&h, "{ 'supervisor': { 'children': [ { 'name': 'w',"
	    " 'command': ['@DIR@/once', 'w'],"
	    " 'on_failure': { 'command': ['@DIR@/capture', 'w'] } } ] } }",
	    true);
	c = subscribe(&h, "hook", NULL);
	open_gate(&h, "w", "w.waits");
	env = wait_file(&h, "w.env", NULL);
	in = wait_file(&h, "w.in", NULL);
	ck_assert_str_eq(env,
	    "WARDEN_EVENT=service.exited\n"
	    "WARDEN_EXIT_CODE=3\n"
	    "WARDEN_HOOK=service\n"
	    "WARDEN_REASON=exited with code 3\n"
	    "WARDEN_RESTARTS=1\n"
	    "WARDEN_SERVICE=w\n");
	ck_assert_str_eq(in, "boom\nsecond line\n");
	ev = wait_finished(c, "w", "ok");
	ck_assert_str_eq(str(ev, "event"), "service.exited");
	ck_assert_int_eq(num(ev, "code"), 0);
	json_decref(ev);
	/* Restarted as usual; killed now, it says the signal. */
	wait_restarts(&h, "w", "running", 2);
	pid = pid_of(&h, "w");
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	env2 = wait_file(&h, "w.env", env);
	ck_assert_str_eq(env2,
	    "WARDEN_EVENT=service.exited\n"
	    "WARDEN_EXIT_SIGNAL=KILL\n"
	    "WARDEN_HOOK=service\n"
	    "WARDEN_REASON=killed by SIGKILL\n"
	    "WARDEN_RESTARTS=2\n"
	    "WARDEN_SERVICE=w\n");
	json_decref(wait_finished(c, "w", "ok"));
	ck_assert_int_eq(harness_wait_log(&h, "hook for w (service.exited): "
	    "exit 0 after ", W), 0);
	free(env);
	free(env2);
	free(in);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* A planned stop, a reload's, warden's own shutdown: no failure, no hook. */
START_TEST(test_no_hook_when_asked)
{
	struct harness	 h;
	char		*log, *conf;

	launch(&h, "{ 'supervisor': { 'children': [ { 'name': 'w',"
	    " 'command': ['@WORKER@'],"
	    " 'on_failure': { 'command': ['@DIR@/capture', 'w'] } } ] } }",
	    false);
	ck_assert_int_eq(harness_ctl(&h, NULL, NULL, "stop", "w", NULL), 0);
	wait_state(&h, "w", "stopped");
	ck_assert_int_eq(harness_ctl(&h, NULL, NULL, "start", "w", NULL), 0);
	wait_state(&h, "w", "running");
	/* A change of its settings: the reload stops it and starts it anew. */
	conf = dq("{ 'supervisor': { 'children': [ { 'name': 'w',"
	    " 'command': ['@WORKER@'], 'env': { 'X': '1' }, 'on_failure':"
	    " { 'command': ['@DIR@/capture', 'w'] } } ] } }");
	ck_assert_int_eq(harness_write_config(&h, conf), 0);
	free(conf);
	json_decref(result(&h, "config.reload", NULL));
	ck_assert_int_eq(harness_wait(&h, json_pack("{s:s,s:s}", "service",
	    "w", "state", "running"), W), 0);
	json_decref(harness_call(&h, "shutdown", NULL));
	ck_assert_int_eq(harness_wait_exit(&h, HARNESS_STOP_TIMEOUT), 0);
	ck_assert(!exists(&h, "w.env"));
	log = harness_log(&h);
	ck_assert_msg(strstr(log, "hook for") == NULL &&
	    strstr(log, "hook w:") == NULL, "a hook in:\n%s", log);
	free(log);
	finish(&h, 0);
}
END_TEST

START_TEST(test_supervisor_hook)
{
	struct harness	 h;
	char		*env, *in;

	launch(&h, "{ 'supervisor': { 'max_restarts': 10, 'children': ["
	    " { 'name': 's', 'restart': 'temporary', 'max_restarts': 0,"
	    "   'on_failure': { 'command': ['@DIR@/capture', 's'] },"
	    "   'children': [ { 'name': 'w', 'command': ['@DIR@/once', 'w'] }"
	    " ] } ] } }", false);
	env = wait_file(&h, "s.env", NULL);
	in = wait_file(&h, "s.in", NULL);
	ck_assert_str_eq(env,
	    "WARDEN_EVENT=supervisor.failed\n"
	    "WARDEN_HOOK=supervisor\n"
	    "WARDEN_REASON=more than 0 restarts in 5 s\n"
	    "WARDEN_RESTARTS=1\n"
	    "WARDEN_SERVICE=s\n");
	ck_assert_str_eq(in, "");
	free(env);
	free(in);
	stop(&h);
}
END_TEST

/* The root's hook runs to its end before warden exits 3. */
START_TEST(test_root_hook_before_exit)
{
	struct harness	 h;
	char		*env, *p;

	prepare(&h, "{ 'supervisor': { 'max_restarts': 0,"
	    " 'on_failure': { 'command': ['@DIR@/capture', 'root'] },"
	    " 'children': [ { 'name': 'w', 'command': ['@DIR@/once', 'w'] }"
	    " ] } }");
	script(&h, "capture", capture_sh);
	script(&h, "once", once_sh);
	ck_assert_int_eq(harness_write_file(&h, "go", ""), 0);
	ck_assert_int_eq(harness_spawn(&h), 0);
	ck_assert_int_eq(harness_wait_exit(&h, W), 3);
	p = harness_path(&h, "root.env");
	env = harness_read_file(p);
	free(p);
	ck_assert_msg(env != NULL, "no root.env when warden exited");
	ck_assert(strstr(env, "WARDEN_EVENT=supervisor.failed\n") != NULL);
	ck_assert(strstr(env, "WARDEN_SERVICE=root\n") != NULL);
	free(env);
	finish(&h, 3);
}
END_TEST

START_TEST(test_guard_hook)
{
	struct harness	 h;
	char		*env;
	pid_t		 pid;
	int		 i;

	launch(&h, "{ 'flags': { 'f': { 'default': false } },"
	    " 'stages': [ { 'stage': 1, 'enable': ['f'] } ],"
	    " 'guard': { 'max_restarts': 1, 'window_s': 60,"
	    "   'on_failure': { 'command': ['@DIR@/capture', 'guard'] } },"
	    " 'supervisor': { 'max_restarts': 100, 'max_seconds': 60,"
	    "  'children': [ { 'name': 'crashy', 'command': ['@WORKER@',"
	    "   '--exit-on-usr1', '1'] } ] } }", false);
	json_decref(result(&h, "stage.set", json_pack("{s:i}", "stage", 1)));
	for (i = 1; i <= 2; i++) {
		pid = pid_of(&h, "crashy");
		ck_assert_int_eq(kill(pid, SIGUSR1), 0);
		wait_restarts(&h, "crashy", "running", i);
	}
	env = wait_file(&h, "guard.env", NULL);
	ck_assert_msg(strstr(env, "WARDEN_EVENT=guard.rollback\n") != NULL &&
	    strstr(env, "WARDEN_HOOK=guard\n") != NULL &&
	    strstr(env, "WARDEN_SERVICE=guard\n") != NULL &&
	    strstr(env, "WARDEN_STAGE_FROM=1\n") != NULL &&
	    strstr(env, "WARDEN_STAGE_TO=0\n") != NULL &&
	    strstr(env, "WARDEN_RESTARTS=2\n") != NULL &&
	    strstr(env, "WARDEN_REASON=") != NULL &&
	    strstr(env, "WARDEN_EXIT_") == NULL, "guard's hook got:\n%s", env);
	free(env);
	stop(&h);
}
END_TEST

/* --- bounds ---------------------------------------------------------------------- */

START_TEST(test_hook_timeout)
{
	struct harness		 h;
	struct harness_conn	*c;
	char			*pids;
	long			 hook, daemon;
	json_t			*ev;

	launch(&h, "{ 'supervisor': { 'children': [ { 'name': 'w',"
	    " 'command': ['@DIR@/once', 'w'],"
	    " 'on_failure': { 'command': ['@DIR@/hang', 'w'],"
	    "   'timeout_ms': 1000 } } ] } }", true);
	c = subscribe(&h, "hook", NULL);
	open_gate(&h, "w", "w.waits");
	pids = wait_file(&h, "w.pids", NULL);
	ck_assert_int_eq(sscanf(pids, "%ld %ld", &hook, &daemon), 2);
	/* warden answers while its hook hangs. */
	json_decref(result(&h, "ping", NULL));
	wait_restarts(&h, "w", "running", 2);
	ev = wait_finished(c, "w", "timeout");
	ck_assert(json_is_null(json_object_get(ev, "code")));
	ck_assert_str_eq(str(ev, "signal"), "KILL");
	ck_assert_int_ge(num(ev, "ms"), 1000);
	json_decref(ev);
	ck_assert_int_eq(harness_wait_log(&h, "hook for w (service.exited): "
	    "timed out after ", W), 0);
	wait_reaped(&h, (pid_t)hook);
	wait_reaped(&h, (pid_t)daemon);
	free(pids);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

START_TEST(test_hook_leaves_daemon)
{
	struct harness		 h;
	struct harness_conn	*c;
	char			*pid;
	json_t			*ev;

	launch(&h, "{ 'supervisor': { 'children': [ { 'name': 'w',"
	    " 'command': ['@DIR@/once', 'w'],"
	    " 'on_failure': { 'command': ['@DIR@/leave', 'w'] } } ] } }", true);
	c = subscribe(&h, "hook", NULL);
	open_gate(&h, "w", "w.waits");
	pid = wait_file(&h, "w.pid", NULL);
	ev = wait_finished(c, "w", "exit");
	ck_assert_int_eq(num(ev, "code"), 4);
	json_decref(ev);
	wait_reaped(&h, (pid_t)atol(pid));
	ck_assert_int_eq(harness_wait_log(&h, "hook w: said on stdout", W), 0);
	ck_assert_int_eq(harness_wait_log(&h, "hook w: said on stderr", W), 0);
	ck_assert_int_eq(harness_wait_log(&h, "hook for w (service.exited): "
	    "exit 4 after ", W), 0);
	free(pid);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* Gone since warden started: logged, and the service restarts as usual. */
START_TEST(test_hook_missing)
{
	struct harness		 h;
	struct harness_conn	*c;
	char			*p;
	json_t			*ev;

	launch(&h, "{ 'supervisor': { 'children': [ { 'name': 'w',"
	    " 'command': ['@WORKER@', '--exit-on-usr1', '1'],"
	    " 'on_failure': { 'command': ['@DIR@/capture', 'w'] } } ] } }",
	    false);
	p = harness_path(&h, "capture");
	ck_assert_int_eq(unlink(p), 0);
	free(p);
	c = subscribe(&h, "hook", NULL);
	ck_assert_int_eq(kill(pid_of(&h, "w"), SIGUSR1), 0);
	ev = wait_finished(c, "w", "exec_failed");
	json_decref(ev);
	ck_assert_int_eq(harness_wait_log(&h, "hook for w (service.exited): "
	    "cannot run ", W), 0);
	ck_assert_int_eq(harness_wait_log(&h, "No such file or directory", W),
	    0);
	wait_restarts(&h, "w", "running", 1);
	json_decref(result(&h, "ping", NULL));
	harness_conn_close(c);
	stop(&h);
}
END_TEST

START_TEST(test_hook_rate)
{
	struct harness		 h;
	struct harness_conn	*c;
	char			*p, *runs;
	int			 i;

	launch(&h, "{ 'supervisor': { 'max_restarts': 1000,"
	    " 'max_seconds': 60, 'children': [ { 'name': 'w',"
	    " 'command': ['@DIR@/loop'], 'backoff': { 'initial_ms': 1,"
	    "  'max_ms': 1, 'jitter': 0 },"
	    " 'on_failure': { 'command': ['@DIR@/count'] } } ] } }", true);
	c = subscribe(&h, "hook", NULL);
	free(wait_file(&h, "waits", NULL));
	ck_assert_int_eq(harness_write_file(&h, "go", ""), 0);
	ck_assert_int_eq(kill(pid_of(&h, "w"), SIGKILL), 0);
	ck_assert_int_eq(harness_wait_log(&h, "hook for w (service.exited): "
	    "skipped, it ran 5 times in the last 60 s (3 skipped so far)", W),
	    0);
	for (i = 0; i < 5; i++)
		json_decref(wait_finished(c, "w", "ok"));
	p = harness_path(&h, "runs");
	runs = harness_read_file(p);
	ck_assert_str_eq(runs, "run\nrun\nrun\nrun\nrun\n");
	json_decref(result(&h, "ping", NULL));
	free(runs);
	free(p);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

START_TEST(test_hook_never_reads)
{
	struct harness		 h;
	struct harness_conn	*c;
	char			*up;

	launch(&h, "{ 'supervisor': { 'children': [ { 'name': 'w',"
	    " 'command': ['@DIR@/spew'], 'log': { 'memory_bytes': 4194304 },"
	    " 'on_failure': { 'command': ['@DIR@/deaf'],"
	    "   'timeout_ms': 1000 } } ] } }", true);
	c = subscribe(&h, "hook", NULL);
	open_gate(&h, "w", "w.waits");
	up = wait_file(&h, "deaf", NULL);
	/* Its stdin pipe is full; warden goes on. */
	json_decref(result(&h, "ping", NULL));
	wait_restarts(&h, "w", "running", 2);
	json_decref(wait_finished(c, "w", "timeout"));
	ck_assert_int_eq(harness_wait_log(&h, "bytes of its stdin not read",
	    W), 0);
	free(up);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* warden's shutdown kills a running hook and leaves nothing behind. */
START_TEST(test_shutdown_kills_hook)
{
	struct harness	 h;
	char		*pids;
	long		 hook, daemon;

	launch(&h, "{ 'supervisor': { 'children': [ { 'name': 'w',"
	    " 'command': ['@DIR@/once', 'w'],"
	    " 'on_failure': { 'command': ['@DIR@/hang', 'w'],"
	    "   'timeout_ms': 600000 } } ] } }", false);
	pids = wait_file(&h, "w.pids", NULL);
	ck_assert_int_eq(sscanf(pids, "%ld %ld", &hook, &daemon), 2);
	json_decref(harness_call(&h, "shutdown", NULL));
	ck_assert_int_eq(harness_wait_exit(&h, HARNESS_STOP_TIMEOUT), 0);
	ck_assert_int_eq(harness_wait_pid_gone((pid_t)hook, W), 0);
	ck_assert_int_eq(harness_wait_pid_gone((pid_t)daemon, W), 0);
	ck_assert_int_eq(harness_wait_log(&h, "hook for w (service.exited): "
	    "killed after ", W), 0);
	free(pids);
	finish(&h, 0);
}
END_TEST

/* Six at once: four run, two wait for them, all six end. */
START_TEST(test_hooks_at_once)
{
	struct harness	 h;
	char		*log, *first_end, *p, want[128];
	int		 i, started = 0;

	launch(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w1', 'command': ['@DIR@/once', 'w1'], 'on_failure':"
	    "   { 'command': ['@DIR@/hang', 'w1'], 'timeout_ms': 1000 } },"
	    " { 'name': 'w2', 'command': ['@DIR@/once', 'w2'], 'on_failure':"
	    "   { 'command': ['@DIR@/hang', 'w2'], 'timeout_ms': 1000 } },"
	    " { 'name': 'w3', 'command': ['@DIR@/once', 'w3'], 'on_failure':"
	    "   { 'command': ['@DIR@/hang', 'w3'], 'timeout_ms': 1000 } },"
	    " { 'name': 'w4', 'command': ['@DIR@/once', 'w4'], 'on_failure':"
	    "   { 'command': ['@DIR@/hang', 'w4'], 'timeout_ms': 1000 } },"
	    " { 'name': 'w5', 'command': ['@DIR@/once', 'w5'], 'on_failure':"
	    "   { 'command': ['@DIR@/hang', 'w5'], 'timeout_ms': 1000 } },"
	    " { 'name': 'w6', 'command': ['@DIR@/once', 'w6'], 'on_failure':"
	    "   { 'command': ['@DIR@/hang', 'w6'], 'timeout_ms': 1000 } }"
	    " ] } }", false);
	for (i = 1; i <= 6; i++) {
		snprintf(want, sizeof(want), "hook for w%d (service.exited): "
		    "timed out after ", i);
		ck_assert_int_eq(harness_wait_log(&h, want, W), 0);
	}
	log = harness_log(&h);
	ck_assert_int_eq(count_of(log, "(service.exited): waits, 4 hooks "
	    "running"), 2);
	/* No more than four had started when the first one ended. */
	first_end = strstr(log, "timed out after ");
	for (p = log; (p = strstr(p, "hang started, pid ")) != NULL &&
	    p < first_end; p++)
		started++;
	ck_assert_int_eq(started, 4);
	ck_assert_int_eq(count_of(log, "hang started, pid "), 6);
	free(log);
	stop(&h);
}
END_TEST

/* A reexec waits for the hook that runs, then goes. */
START_TEST(test_reexec_waits_for_hook)
{
	struct harness	 h;
	char		*pids, *log, *ended, *handed;
	long		 hook, daemon;

	launch(&h, "{ 'supervisor': { 'children': [ { 'name': 'w',"
	    " 'command': ['@DIR@/once', 'w'],"
	    " 'on_failure': { 'command': ['@DIR@/hang', 'w'],"
	    "   'timeout_ms': 1500 } } ] } }", false);
	pids = wait_file(&h, "w.pids", NULL);
	ck_assert_int_eq(sscanf(pids, "%ld %ld", &hook, &daemon), 2);
	ck_assert_int_eq(harness_signal(&h, SIGUSR2), 0);
	ck_assert_int_eq(harness_wait_log(&h, "reexec: warden ", W), 0);
	ck_assert_int_eq(harness_wait_notify(&h, "READY=1", W), 0);
	log = harness_log(&h);
	ended = strstr(log, "hook for w (service.exited): timed out after ");
	handed = strstr(log, "reexec: handing over");
	ck_assert_msg(ended != NULL && handed != NULL && ended < handed,
	    "the hook did not end before the handover:\n%s", log);
	wait_reaped(&h, (pid_t)hook);
	wait_reaped(&h, (pid_t)daemon);
	ck_assert_str_eq(state_of(&h, "w"), "running");
	free(log);
	free(pids);
	stop(&h);
}
END_TEST

static Suite *
hooks_suite(void)
{
	Suite	*s = suite_create("hooks");
	TCase	*tc = tcase_create("hooks");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_service_hook);
	tcase_add_test(tc, test_no_hook_when_asked);
	tcase_add_test(tc, test_supervisor_hook);
	tcase_add_test(tc, test_root_hook_before_exit);
	tcase_add_test(tc, test_guard_hook);
	tcase_add_test(tc, test_hook_timeout);
	tcase_add_test(tc, test_hook_leaves_daemon);
	tcase_add_test(tc, test_hook_missing);
	tcase_add_test(tc, test_hook_rate);
	tcase_add_test(tc, test_hook_never_reads);
	tcase_add_test(tc, test_shutdown_kills_hook);
	tcase_add_test(tc, test_reexec_waits_for_hook);
	tcase_add_test(tc, test_hooks_at_once);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(hooks_suite)
