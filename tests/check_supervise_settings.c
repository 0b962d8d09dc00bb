/*
 * check_supervise_settings.c: a worker's autostart, env_file, umask and
 * rlimits with the real daemon: each reaches the process (what the test
 * worker writes about itself, /proc/PID/limits), autostart false keeps a
 * service down through a group's restart, a reload and a reexec until it
 * is started, an edited env file restarts its service alone at a reload
 * and a broken one changes nothing, a limit the worker may not have is
 * the service's start fault.
 *
 * Configurations are written with ' for " (dq()); no test needs a real '.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <check.h>
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
#include "supervisetest.h"
#include "wardenctltest.h"
#include "util.h"
#include "suite.h"

/* --- helpers -------------------------------------------------------------- */

static json_t *
set_svc(const char *name)
{
	return json_pack("{s:s}", "service", name);
}

/* service.start/stop, answered once settled: the service's entry. */
static json_t *
set_op(struct harness *h, const char *method, const char *name)
{
	return result(h, method, set_svc(name));
}

static void
set_expect_health(struct harness *h, const char *want)
{
	char	*got = health(h);

	ck_assert_msg(strcmp(got, want) == 0, "health %s, not %s", got, want);
	free(got);
}

/* A stopped service with autostart false, as status shows it. */
static void
set_expect_down_by_config(struct harness *h, const char *name)
{
	json_t	*s = service_of(h, name);

	ck_assert_msg(strcmp(str(s, "state"), "stopped") == 0 &&
	    json_is_null(json_object_get(s, "pid")) &&
	    json_is_false(json_object_get(s, "autostart")), "%s", dump(s));
	json_decref(s);
}

/* Remove DIR/name, so that read_env() waits for the next instance's. */
static void
set_unlink(struct harness *h, const char *name)
{
	char	*path = harness_path(h, name);

	ck_assert_int_eq(unlink(path), 0);
	free(path);
}

/* VAR's value in an --env-out file, which must be there. */
static void
set_expect_var(const char *env, const char *var, const char *want)
{
	char		 buf[256];
	const char	*v = env_value(env, var, buf, sizeof(buf));

	ck_assert_msg(v != NULL && strcmp(v, want) == 0, "%s=%s, not %s", var,
	    v != NULL ? v : "(unset)", want);
}

/* --- autostart ------------------------------------------------------------ */

static const char set_group[] =
	"{ 'supervisor': { 'strategy': 'one_for_all', 'max_restarts': 10,"
	" 'children': ["
	" { 'name': 'a', 'command': ['@WORKER@'] },"
	" { 'name': 'lazy', 'command': ['@WORKER@', '--env-out',"
	"   '@DIR@/lazy.env'], 'autostart': false },"
	" { 'name': 'b', 'command': ['@WORKER@'] } ] } }";

/* a's death restarts the group; the list holds its events up to b's ready. */
static json_t *
set_group_restart(struct harness *h)
{
	struct harness_conn	*c = subscribe(h, NULL);
	json_t			*list;

	kill_one(h, "a", NULL);
	list = events_until(c, "service.ready", "b", NULL);
	harness_conn_close(c);
	return list;
}

/*
 * Declared, down until started, and health ok meanwhile; a group restart
 * leaves it down until the operator starts it, takes it along after, and
 * after a stop leaves it down again.
 */
START_TEST(test_autostart_group)
{
	struct harness	 h;
	json_t		*list, *s;
	char		*e, cols[8][64];
	pid_t		 lazy;
	int		 rc;

	start(&h, set_group);
	set_expect_down_by_config(&h, "lazy");
	set_expect_health(&h, "ok");

	list = set_group_restart(&h);
	ck_assert_msg(ev_count(list, "service.started", "lazy") == 0,
	    "lazy started with its group: %s", dump(list));
	json_decref(list);
	set_expect_down_by_config(&h, "lazy");
	set_expect_health(&h, "ok");
	/* wardenctl says why it is down, and starts it. */
	rc = CTL(&h, "status");
	CHECK_RC(rc, EXIT_OK, "status");
	has(ctl_out, "health ok", "status");
	ck_assert_uint_eq(table_row(ctl_out, "lazy", cols, 8), 8);
	ck_assert_str_eq(cols[2], "stopped");
	ck_assert_str_eq(cols[7], "autostart off");
	rc = CTL(&h, "start", "lazy");
	CHECK_RC(rc, EXIT_OK, "start lazy");
	forget();
	expect_svc(&h, "lazy", "running", 0, 0);
	e = read_env(&h, "lazy.env");
	set_expect_var(e, "WARDEN_SERVICE", "lazy");
	free(e);
	lazy = pid_of(&h, "lazy");
	set_expect_health(&h, "ok");

	/* Started, it is one of the group. */
	list = set_group_restart(&h);
	ck_assert_int_eq(ev_count(list, "service.started", "lazy"), 1);
	json_decref(list);
	ck_assert_int_ne(pid_of(&h, "lazy"), lazy);
	ck_assert_int_eq(harness_wait_pid_gone(lazy, T_WAIT), 0);

	s = set_op(&h, "service.stop", "lazy");
	ck_assert_str_eq(str(s, "state"), "stopped");
	json_decref(s);
	set_expect_down_by_config(&h, "lazy");
	set_expect_health(&h, "ok");
	list = set_group_restart(&h);
	ck_assert_int_eq(ev_count(list, "service.started", "lazy"), 0);
	json_decref(list);
	finish(&h, 0);
}
END_TEST

/* A reexec hands over whether it was started: down stays down, up stays up. */
START_TEST(test_autostart_reexec)
{
	struct harness	 h;
	json_t		*s;
	pid_t		 lazy;

	start(&h, set_group);
	reexec_by_signal(&h);
	set_expect_down_by_config(&h, "lazy");
	set_expect_health(&h, "ok");

	s = set_op(&h, "service.start", "lazy");
	json_decref(s);
	lazy = pid_of(&h, "lazy");
	reexec_by_signal(&h);
	expect_svc(&h, "lazy", "running", lazy, 0);
	set_expect_health(&h, "ok");
	s = set_op(&h, "service.stop", "lazy");
	json_decref(s);
	finish(&h, 0);
}
END_TEST

/*
 * Reloads: a service added with autostart false is not started; turning
 * autostart off on a running one leaves it running; turning it on for one
 * down starts it.
 */
START_TEST(test_autostart_reload)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*r, *list;
	pid_t			 pa;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'] }," SENTINEL " ] } }");
	pa = pid_of(&h, "a");
	c = subscribe(&h, NULL);

	write_config(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'], 'autostart': false },"
	    SENTINEL ","
	    " { 'name': 'lazy', 'command': ['@WORKER@'], 'autostart': false }"
	    " ] } }");
	r = result(&h, "config.reload", NULL);
	expect_names(r, "added", "[\"lazy\"]");
	expect_names(r, "changed", "[]");
	expect_names(r, "unchanged", "[\"root\", \"a\", \"s\"]");
	json_decref(r);
	/* Whatever the reload set going has happened by the sentinel's return. */
	list = barrier(&h, c, NULL);
	ck_assert_msg(ev_count(list, "service.started", "lazy") == 0 &&
	    ev_count(list, "service.stopping", "a") == 0, "%s", dump(list));
	json_decref(list);
	set_expect_down_by_config(&h, "lazy");
	expect_svc(&h, "a", "running", pa, 0);
	set_expect_health(&h, "ok");

	write_config(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'], 'autostart': false },"
	    SENTINEL ","
	    " { 'name': 'lazy', 'command': ['@WORKER@'] } ] } }");
	r = result(&h, "config.reload", NULL);
	expect_names(r, "unchanged", "[\"root\", \"a\", \"s\", \"lazy\"]");
	json_decref(r);
	wait_state(&h, "lazy", "running");
	expect_svc(&h, "a", "running", pa, 0);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/*
 * A changed service with autostart false is a new instance wanted up
 * exactly when the old one was: the one an operator started comes back
 * with the new settings, the one never started stays down.
 */
START_TEST(test_autostart_reload_changed)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*r, *list, *s;
	pid_t			 plazy;

	start(&h, "{ 'supervisor': { 'children': [" SENTINEL ","
	    " { 'name': 'lazy', 'command': ['@WORKER@'], 'autostart': false },"
	    " { 'name': 'idle', 'command': ['@WORKER@'], 'autostart': false }"
	    " ] } }");
	s = set_op(&h, "service.start", "lazy");
	json_decref(s);
	plazy = pid_of(&h, "lazy");
	c = subscribe(&h, NULL);

	write_config(&h, "{ 'supervisor': { 'children': [" SENTINEL ","
	    " { 'name': 'lazy', 'command': ['@WORKER@', '--print', 'v2'],"
	    "   'autostart': false },"
	    " { 'name': 'idle', 'command': ['@WORKER@', '--print', 'v2'],"
	    "   'autostart': false } ] } }");
	r = result(&h, "config.reload", NULL);
	expect_names(r, "changed", "[\"lazy\", \"idle\"]");
	json_decref(r);
	list = events_until(c, "service.ready", "lazy", NULL);
	list = barrier(&h, c, list);
	ck_assert_msg(ev_count(list, "service.started", "idle") == 0, "%s",
	    dump(list));
	json_decref(list);
	ck_assert_int_eq(harness_wait_pid_gone(plazy, T_WAIT), 0);
	expect_svc(&h, "lazy", "running", 0, 0);
	ck_assert_int_eq(harness_wait_log(&h, "lazy: v2", T_WAIT), 0);
	set_expect_down_by_config(&h, "idle");
	set_expect_health(&h, "ok");
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/* --- env_file ------------------------------------------------------------- */

static const char set_env_conf[] =
	"{ 'supervisor': { 'children': ["
	" { 'name': 'e', 'command': ['@WORKER@', '--env-out', '@DIR@/e.env'],"
	"   'env_file': 'app.env', 'env': { 'BOTH': 'from env' } },"
	" { 'name': 'other', 'command': ['@WORKER@', '--env-out',"
	"   '@DIR@/other.env'] } ] } }";

/*
 * The file's variables, env over them, warden's over both; editing the
 * file restarts its service at the next reload, and no other; a broken
 * file is refused where it is broken and changes nothing.
 */
START_TEST(test_env_file)
{
	struct harness	 h;
	json_t		*r, *err;
	const char	*msg;
	char		*e, buf[64];
	pid_t		 pe, po;

	prepare(&h, set_env_conf);
	ck_assert_int_eq(harness_write_file(&h, "app.env",
	    "# settings\nexport FROM_FILE=file\nBOTH=from file\n"
	    "WARDEN_SERVICE=pretend\nQUOTED=\"two  spaces\"\n"), 0);
	ck_assert_int_eq(harness_launch(&h), 0);
	e = read_env(&h, "e.env");
	set_expect_var(e, "FROM_FILE", "file");
	set_expect_var(e, "BOTH", "from env");
	set_expect_var(e, "WARDEN_SERVICE", "e");
	set_expect_var(e, "QUOTED", "two  spaces");
	free(e);
	e = read_env(&h, "other.env");
	ck_assert_ptr_null(env_value(e, "FROM_FILE", buf, sizeof(buf)));
	free(e);
	pe = pid_of(&h, "e");
	po = pid_of(&h, "other");

	/* Edited: e is a changed service, other is not. */
	ck_assert_int_eq(harness_write_file(&h, "app.env",
	    "FROM_FILE=edited\n"), 0);
	set_unlink(&h, "e.env");
	r = result(&h, "config.reload", NULL);
	expect_names(r, "changed", "[\"e\"]");
	expect_names(r, "unchanged", "[\"root\", \"other\"]");
	json_decref(r);
	e = read_env(&h, "e.env");
	set_expect_var(e, "FROM_FILE", "edited");
	ck_assert_ptr_null(env_value(e, "QUOTED", buf, sizeof(buf)));
	free(e);
	ck_assert_int_eq(harness_wait_pid_gone(pe, T_WAIT), 0);
	pe = pid_of(&h, "e");
	expect_svc(&h, "other", "running", po, 0);

	/* Broken: refused, naming the file and line; both run on. */
	ck_assert_int_eq(harness_write_file(&h, "app.env",
	    "FROM_FILE=again\nno equals sign\n"), 0);
	err = expect_error_object(&h, "config.reload", NULL, -32602,
	    "invalid_params");
	msg = str(err, "message");
	ck_assert_msg(msg != NULL && strstr(msg, "supervisor.children[0]."
	    "env_file: ") != NULL && strstr(msg, "/app.env:2: no '=' "
	    "(expected KEY=VALUE)") != NULL, "%s", msg);
	json_decref(err);
	expect_svc(&h, "e", "running", pe, 0);
	expect_svc(&h, "other", "running", po, 0);
	finish(&h, 0);
}
END_TEST

/*
 * A reexec hands over the variables read, not the file of now: an edit
 * made before it is still a change at the next reload, and a file gone
 * does not stop the reexec.
 */
START_TEST(test_env_file_reexec)
{
	struct harness	 h;
	json_t		*r, *err;
	char		*e, *path;
	pid_t		 pe, po;

	prepare(&h, set_env_conf);
	ck_assert_int_eq(harness_write_file(&h, "app.env", "FROM_FILE=one\n"),
	    0);
	ck_assert_int_eq(harness_launch(&h), 0);
	pe = pid_of(&h, "e");
	po = pid_of(&h, "other");

	ck_assert_int_eq(harness_write_file(&h, "app.env", "FROM_FILE=two\n"),
	    0);
	reexec_by_signal(&h);
	expect_svc(&h, "e", "running", pe, 0);
	set_unlink(&h, "e.env");
	r = result(&h, "config.reload", NULL);
	expect_names(r, "changed", "[\"e\"]");
	expect_names(r, "unchanged", "[\"root\", \"other\"]");
	json_decref(r);
	e = read_env(&h, "e.env");
	set_expect_var(e, "FROM_FILE", "two");
	free(e);
	ck_assert_int_eq(harness_wait_pid_gone(pe, T_WAIT), 0);
	pe = pid_of(&h, "e");

	path = harness_path(&h, "app.env");
	ck_assert_int_eq(unlink(path), 0);
	free(path);
	reexec_by_signal(&h);
	expect_svc(&h, "e", "running", pe, 0);
	expect_svc(&h, "other", "running", po, 0);
	err = expect_error_object(&h, "config.reload", NULL, -32602,
	    "invalid_params");
	ck_assert_msg(str(err, "message") != NULL && strstr(str(err,
	    "message"), "/app.env: No such file or directory") != NULL, "%s",
	    dump(err));
	json_decref(err);
	expect_svc(&h, "e", "running", pe, 0);
	finish(&h, 0);
}
END_TEST

/* warden does not start on a missing env file, and says which. */
START_TEST(test_env_file_missing)
{
	struct harness	 h;
	char		*log, *text = dq(set_env_conf);

	ck_assert_int_eq(harness_start_expect_fail(&h, text, T_WAIT), 1);
	free(text);
	log = log_text(&h);
	ck_assert_msg(strstr(log, "env_file: ") != NULL &&
	    strstr(log, "/app.env: No such file or directory") != NULL, "%s",
	    log);
	free(log);
	harness_cleanup(&h);
}
END_TEST

/* --- umask and rlimits ---------------------------------------------------- */

/* The soft and hard values of one line of /proc/PID/limits. */
static void
set_limits_of(pid_t pid, const char *label, char *soft, char *hard)
{
	char	 path[64], *text, *p;
	size_t	 len;
	int	 fd;

	snprintf(path, sizeof(path), "/proc/%ld/limits", (long)pid);
	ck_assert_int_ne(fd = open(path, O_RDONLY | O_CLOEXEC), -1);
	ck_assert_int_eq(util_read_fd(fd, 65536, &text, &len), 0);
	ck_assert_int_eq(close(fd), 0);
	ck_assert_msg((p = strstr(text, label)) != NULL, "%s: no %s", path,
	    label);
	ck_assert_int_eq(sscanf(p + strlen(label), "%31s %31s", soft, hard), 2);
	free(text);
}

/* The umask the worker has, and a file it creates: 0644 less 027. */
START_TEST(test_umask)
{
	struct harness	 h;
	struct stat	 st;
	char		*e, *path, want[16];
	mode_t		 ours = umask(0);

	(void)umask(ours);
	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'u', 'command': ['@WORKER@', '--env-out', '@DIR@/u.env'],"
	    "   'umask': '027' },"
	    " { 'name': 'plain', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/plain.env'] } ] } }");
	e = read_env(&h, "u.env");
	ck_assert(has_line(e, "umask 0027"));
	free(e);
	path = harness_path(&h, "u.env");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_msg((st.st_mode & 0777) == 0640, "u.env has mode %04o",
	    (unsigned)(st.st_mode & 0777));
	free(path);
	/* Without the key, warden's own: the one this test gave it. */
	e = read_env(&h, "plain.env");
	snprintf(want, sizeof(want), "umask %04o", (unsigned)ours);
	ck_assert_msg(has_line(e, want), "plain: no \"%s\"", want);
	free(e);
	finish(&h, 0);
}
END_TEST

START_TEST(test_rlimits)
{
	struct harness	 h;
	char		 soft[32], hard[32];
	pid_t		 pid;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'r', 'command': ['@WORKER@'],"
	    "   'rlimits': { 'nofile': [256, 512], 'core': 0,"
	    "     'stack': ['infinity', 'infinity'] } } ] } }");
	pid = pid_of(&h, "r");
	set_limits_of(pid, "Max open files", soft, hard);
	ck_assert_str_eq(soft, "256");
	ck_assert_str_eq(hard, "512");
	set_limits_of(pid, "Max core file size", soft, hard);
	ck_assert_str_eq(soft, "0");
	ck_assert_str_eq(hard, "0");
	finish(&h, 0);
}
END_TEST

/*
 * A limit the worker may not have: the service fails to start with the
 * reason, as an exec fault of its own, and warden and the others run on.
 */
static void
set_refused(const char *limits, const char *reason)
{
	struct harness	 h;
	json_t		*s;
	char		*conf;
	pid_t		 pa;

	conf = cfg("{ 'supervisor': { 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'] },"
	    " { 'name': 'greedy', 'command': ['@WORKER@'], 'restart': "
	    "   'temporary', 'autostart': false, 'rlimits': { %s } } ] } }",
	    limits);
	ck_assert_int_eq(harness_start(&h, conf), 0);
	free(conf);
	pa = pid_of(&h, "a");
	s = set_op(&h, "service.start", "greedy");
	ck_assert_msg(strcmp(str(s, "state"), "failed") == 0 &&
	    str(s, "reason") != NULL && strcmp(str(s, "reason"), reason) == 0,
	    "%s", dump(s));
	json_decref(s);
	expect_svc(&h, "a", "running", pa, 0);
	finish(&h, 0);
}

/* Above fs.nr_open: no one may, root included. */
START_TEST(test_rlimit_refused_nr_open)
{
	char		*text, limits[128];
	size_t		 len;
	long long	 nr_open;
	int		 fd;

	ck_assert_int_ne(fd = open("/proc/sys/fs/nr_open", O_RDONLY |
	    O_CLOEXEC), -1);
	ck_assert_int_eq(util_read_fd(fd, 64, &text, &len), 0);
	ck_assert_int_eq(close(fd), 0);
	nr_open = atoll(text);
	free(text);
	snprintf(limits, sizeof(limits), "'nofile': [64, %lld]", nr_open + 1);
	set_refused(limits, "rlimits.nofile: Operation not permitted");
}
END_TEST

/* A hard limit raised without the privilege to. */
START_TEST(test_rlimit_refused_hard)
{
	struct rlimit	rl;
	char		limits[128];

	ck_assert_int_eq(getrlimit(RLIMIT_RTPRIO, &rl), 0);
	if (geteuid() == 0 || rl.rlim_max == RLIM_INFINITY) {
		fprintf(stderr, "test_rlimit_refused_hard: skipped: %s\n",
		    geteuid() == 0 ? "root may raise a hard limit" :
		    "the rtprio hard limit is already infinity");
		return;
	}
	snprintf(limits, sizeof(limits), "'rtprio': %llu",
	    (unsigned long long)rl.rlim_max + 1);
	set_refused(limits, "rlimits.rtprio: Operation not permitted");
}
END_TEST

static Suite *
supervise_settings_suite(void)
{
	Suite	*s = suite_create("supervise_settings");
	TCase	*tc = tcase_create("supervise_settings");

	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_autostart_group);
	tcase_add_test(tc, test_autostart_reexec);
	tcase_add_test(tc, test_autostart_reload);
	tcase_add_test(tc, test_autostart_reload_changed);
	tcase_add_test(tc, test_env_file);
	tcase_add_test(tc, test_env_file_reexec);
	tcase_add_test(tc, test_env_file_missing);
	tcase_add_test(tc, test_umask);
	tcase_add_test(tc, test_rlimits);
	tcase_add_test(tc, test_rlimit_refused_nr_open);
	tcase_add_test(tc, test_rlimit_refused_hard);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(supervise_settings_suite)
