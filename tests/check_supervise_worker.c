/*
 * check_supervise_worker.c: a worker's start, with the real daemon: its
 * readiness (notify, fd, a timeout, and one that comes while it stops)
 * gating the next sibling, the environment, descriptors, signals, user
 * and process group it is given whatever warden was given, kept across
 * restarts and renewed by a reload, and its output in warden's log.
 *
 * Configurations are written with ' for " (dq()); no test needs a real '.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
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
#include "util.h"
#include "suite.h"

/* --- 10-12: readiness ---------------------------------------------------- */

static const char *const ready_modes[] = { "notify", "fd" };

START_TEST(test_ready_gates_start)
{
	struct harness	 h;
	json_t		*b;
	char		*conf;
	pid_t		 a;

	conf = cfg("{ 'supervisor': { 'strategy': 'one_for_one', 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@', '--ready', 'signal',"
	    "   '--grandchild', '@DIR@/a.pid'], 'ready': '%s' },"
	    " { 'name': 'b', 'command': ['@WORKER@'], 'ready': 'none' } ] } }",
	    ready_modes[_i]);
	start_early(&h, conf, "a");
	free(conf);
	b = service_of(&h, "b");
	ck_assert_msg(strcmp(str(b, "state"), "stopped") == 0 &&
	    json_is_null(json_object_get(b, "pid")),
	    "b started before a was ready: %s", dump(b));
	json_decref(b);
	/* Nor has warden told its own manager it is ready. */
	ck_assert_int_eq(harness_wait_notify(&h, "READY=1", 0), -1);
	a = pid_of(&h, "a");
	usr2_when_set_up(&h, "a", "a.pid", 0);
	wait_state(&h, "b", "running");
	ck_assert_int_eq(harness_wait_ready(&h, T_WAIT), 0);
	expect_svc(&h, "a", "running", a, 0);
	expect_svc(&h, "b", "running", 0, 0);
	stop_marked(&h, "a", "a.pid");
	finish(&h, 0);
}
END_TEST

START_TEST(test_ready_systemd_notify)
{
	struct harness	 h;

	if (access("/bin/systemd-notify", X_OK) != 0) {
		fprintf(stderr, "test_ready_systemd_notify: skipped: no "
		    "/bin/systemd-notify\n");
		return;
	}
	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'n1', 'ready': 'notify', 'ready_timeout_ms': 3000,"
	    "   'command': ['/bin/sh', '-c',"
	    "   'systemd-notify --ready && exec sleep 1000'] },"
	    " { 'name': 'n2', 'ready': 'notify', 'ready_timeout_ms': 3000,"
	    "   'command': ['/bin/sh', '-c', 'systemd-notify --ready;"
	    "   echo notify-exit=$?; exec sleep 1000'] } ] } }");
	expect_svc(&h, "n1", "running", 0, 0);
	expect_svc(&h, "n2", "running", 0, 0);
	ck_assert_int_eq(harness_wait_log(&h, "n2: notify-exit=0", T_WAIT), 0);
	finish(&h, 0);
}
END_TEST

START_TEST(test_ready_timeout)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list, *ev;
	int		 i, s, e;

	start_early(&h, "{ 'supervisor': { 'max_restarts': 100,"
	    " 'max_seconds': 10, 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--never-ready'],"
	    "   'ready': 'notify', 'ready_timeout_ms': 100 } ] } }", NULL);
	c = subscribe(&h, NULL);
	list = events_until(c, "service.exited", "w", NULL);
	expect_exited(json_array_get(list, json_array_size(list) - 1), 0, 0,
	    "KILL", false);
	i = (int)json_array_size(list);
	list = events_until(c, "service.started", "w", list);
	ev = json_array_get(list, json_array_size(list) - 1);
	ck_assert_int_ge(num(ev, "restarts"), 1);
	/* The next run is given its 100 ms too, and no more. */
	list = events_until(c, "service.exited", "w", list);
	s = ev_find(list, "service.started", "w", (size_t)i);
	e = ev_find(list, "service.exited", "w", (size_t)s);
	expect_exited(json_array_get(list, e), num(json_array_get(list, s),
	    "pid"), 0, "KILL", false);
	ck_assert_msg(ev_ts(json_array_get(list, e)) -
	    ev_ts(json_array_get(list, s)) >= 100 - timer_slack_ms(),
	    "killed %.1f ms after start",
	    ev_ts(json_array_get(list, e)) - ev_ts(json_array_get(list, s)));
	ck_assert_int_eq(ev_count(list, "service.ready", "w"), 0);
	wait_restarts(&h, "w", "starting", 2);
	ck_assert_int_eq(harness_wait_log(&h, "w: not ready in time", T_WAIT),
	    0);
	finish_watching(&h, c, list);
}
END_TEST

/*
 * An instance told to stop before it was ready, and that announces
 * readiness on its way down (it ignores SIGTERM): still stopping, never
 * said ready, and its grace ends in SIGKILL as for any other.
 */
START_TEST(test_ready_while_stopping)
{
	struct harness	 h;
	struct harness_conn *c, *sub;
	json_t		*resp, *r, *list;
	long long	 id;
	char		*path, *conf;
	pid_t		 w, g;

	conf = cfg("{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--ready', 'signal',"
	    "   '--ignore-term', '--grandchild', '@DIR@/w.pid'], 'ready': '%s',"
	    "   'ready_timeout_ms': 20000, 'shutdown_ms': 1000 } ] } }",
	    ready_modes[_i]);
	start_early(&h, conf, "w");
	free(conf);
	/* Its signals are set up once its grandchild is there. */
	path = harness_path(&h, "w.pid");
	g = harness_wait_pidfile(path, 0, T_WAIT);
	ck_assert_msg(g > 0, "w: no w.pid");
	free(path);
	w = pid_of(&h, "w");
	sub = subscribe(&h, NULL);
	c = harness_conn_open(&h);
	ck_assert_ptr_nonnull(c);
	id = harness_conn_request(c, "service.stop", json_pack("{s:s}",
	    "service", "w"));
	ck_assert_int_ge(id, 0);
	wait_state(&h, "w", "stopping");
	ck_assert_int_eq(kill(w, SIGUSR2), 0);
	resp = harness_read_response(c, id, T_WAIT);
	ck_assert_msg(resp != NULL, "service.stop never answered");
	r = json_object_get(resp, "result");
	ck_assert_msg(r != NULL && strcmp(str(r, "state"), "stopped") == 0,
	    "service.stop: %s", dump(resp));
	expect_json(json_object_get(r, "last_exit"), "{\"signal\":\"KILL\"}",
	    "w");
	json_decref(resp);
	harness_conn_close(c);
	ck_assert_int_eq(harness_wait_log(&h,
	    "w: still running 1000 ms after SIGTERM", T_WAIT), 0);
	list = events_until(sub, "service.exited", "w", NULL);
	ck_assert_int_eq(ev_count(list, "service.ready", "w"), 0);
	json_decref(list);
	harness_conn_close(sub);
	ck_assert_int_eq(harness_wait_pid_gone(g, T_WAIT), 0);
	expect_svc(&h, "w", "stopped", -1, 0);
	finish(&h, 0);
}
END_TEST

/* --- 13-14: what a worker gets, and its output --------------------------- */

START_TEST(test_worker_environment)
{
	struct harness	 h;
	char		*wd, *e, real_wd[PATH_MAX], real_dir[PATH_MAX];
	char		 buf[PATH_MAX];
	const char	*v;

	prepare(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'plain', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/plain.env'], 'cwd': 'wd',"
	    "   'env': { 'GREETING': 'hello world', 'EMPTY': '' } },"
	    " { 'name': 'fdw', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/fdw.env', '--ready', 'fd'], 'ready': 'fd' },"
	    " { 'name': 'notif', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/notif.env', '--ready', 'notify'], 'ready': 'notify' }"
	    " ] } }");
	wd = harness_path(&h, "wd");
	ck_assert_int_eq(mkdir(wd, 0755), 0);
	ck_assert_ptr_nonnull(realpath(wd, real_wd));
	ck_assert_ptr_nonnull(realpath(h.dir, real_dir));
	free(wd);
	ck_assert_int_eq(harness_launch(&h), 0);

	e = read_env(&h, "plain.env");
	check_env_common(&h, e, "plain", "0,1,2", real_wd);
	ck_assert(has_line(e, "GREETING=hello world"));
	ck_assert(has_line(e, "EMPTY="));
	ck_assert_msg(env_value(e, "NOTIFY_SOCKET", buf, sizeof(buf)) == NULL,
	    "plain: NOTIFY_SOCKET=%s", buf);
	ck_assert_ptr_null(env_value(e, "WARDEN_READY_FD", buf, sizeof(buf)));
	free(e);

	e = read_env(&h, "fdw.env");
	check_env_common(&h, e, "fdw", "0,1,2,3", real_dir);
	ck_assert_msg((v = env_value(e, "WARDEN_READY_FD", buf,
	    sizeof(buf))) != NULL && strcmp(v, "3") == 0,
	    "fdw: WARDEN_READY_FD=%s", v != NULL ? v : "(unset)");
	ck_assert_msg((v = env_field(e, "fdtarget 3", buf, sizeof(buf))) !=
	    NULL && strncmp(v, "pipe:", 5) == 0, "fdw: fd 3 is %s",
	    v != NULL ? v : "?");
	ck_assert_msg(env_value(e, "NOTIFY_SOCKET", buf, sizeof(buf)) == NULL,
	    "fdw: NOTIFY_SOCKET=%s", buf);
	ck_assert_ptr_null(env_value(e, "GREETING", buf, sizeof(buf)));
	free(e);

	e = read_env(&h, "notif.env");
	check_env_common(&h, e, "notif", "0,1,2", real_dir);
	ck_assert_msg((v = env_value(e, "NOTIFY_SOCKET", buf, sizeof(buf))) !=
	    NULL && v[0] == '@' && strlen(v) > 1, "notif: NOTIFY_SOCKET=%s",
	    v != NULL ? v : "(unset)");
	ck_assert_ptr_null(env_value(e, "WARDEN_READY_FD", buf, sizeof(buf)));
	free(e);
	finish(&h, 0);
}
END_TEST

/* user and group: only root can switch, so only a root run checks them. */
/*
 * warden started by a careless parent (fd 3 open without close-on-exec,
 * SIGINT, SIGQUIT and SIGHUP ignored, some signals blocked) passes none
 * of it on, whatever the worker's readiness.
 */
START_TEST(test_worker_clean_hands)
{
	struct harness	 h;
	char		*e, real_dir[PATH_MAX];

	prepare(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'plain', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/plain.env'] },"
	    " { 'name': 'fdw', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/fdw.env', '--ready', 'fd'], 'ready': 'fd' },"
	    " { 'name': 'notif', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/notif.env', '--ready', 'notify'], 'ready': 'notify' }"
	    " ] } }");
	ck_assert_ptr_nonnull(realpath(h.dir, real_dir));
	h.dirty_start = true;
	ck_assert_int_eq(harness_launch(&h), 0);

	e = read_env(&h, "plain.env");
	check_env_common(&h, e, "plain", "0,1,2", real_dir);
	free(e);
	e = read_env(&h, "fdw.env");
	check_env_common(&h, e, "fdw", "0,1,2,3", real_dir);
	ck_assert_msg(strstr(e, "/inherited") == NULL, "fdw: got warden's fd 3");
	free(e);
	e = read_env(&h, "notif.env");
	check_env_common(&h, e, "notif", "0,1,2", real_dir);
	free(e);
	finish(&h, 0);
}
END_TEST

START_TEST(test_worker_user)
{
	struct harness	 h;
	struct passwd	*pw;
	struct group	*gr;
	char		*out, *e, buf[64];
	const char	*v;

	if (geteuid() != 0) {
		fprintf(stderr, "test_worker_user: skipped: needs root\n");
		return;
	}
	pw = getpwnam("nobody");
	gr = getgrnam("nogroup");
	if (pw == NULL || gr == NULL) {
		fprintf(stderr, "test_worker_user: skipped: no nobody/nogroup\n");
		return;
	}
	prepare(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'nob', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/out/nob.env'], 'user': 'nobody', 'group': 'nogroup' },"
	    " { 'name': 'usr', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/out/usr.env'], 'user': 'nobody' } ] } }");
	out = harness_path(&h, "out");
	ck_assert_int_eq(mkdir(out, 0777), 0);
	ck_assert_int_eq(chmod(out, 01777), 0);
	ck_assert_int_eq(chmod(h.dir, 0755), 0);
	free(out);
	ck_assert_int_eq(harness_launch(&h), 0);

	e = read_env(&h, "out/nob.env");
	ck_assert_msg((v = env_field(e, "uid", buf, sizeof(buf))) != NULL &&
	    strtoul(v, NULL, 10) == pw->pw_uid, "nob: uid %s", v != NULL ? v : "?");
	ck_assert_msg((v = env_field(e, "gid", buf, sizeof(buf))) != NULL &&
	    strtoul(v, NULL, 10) == gr->gr_gid, "nob: gid %s", v != NULL ? v : "?");
	free(e);
	/* A user alone brings its primary group. */
	e = read_env(&h, "out/usr.env");
	ck_assert_msg((v = env_field(e, "uid", buf, sizeof(buf))) != NULL &&
	    strtoul(v, NULL, 10) == pw->pw_uid, "usr: uid %s", v != NULL ? v : "?");
	ck_assert_msg((v = env_field(e, "gid", buf, sizeof(buf))) != NULL &&
	    strtoul(v, NULL, 10) == pw->pw_gid, "usr: gid %s", v != NULL ? v : "?");
	free(e);
	finish(&h, 0);
}
END_TEST

START_TEST(test_output_capture)
{
	struct harness	 h;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'talker', 'command': ['@WORKER@', '--print',"
	    "   'hello from the worker'] } ] } }");
	ck_assert_int_eq(harness_wait_log(&h,
	    "talker: hello from the worker\n", T_WAIT), 0);
	finish(&h, 0);
}
END_TEST

/*
 * The output pipe outlives each instance: a line an instance left without
 * its newline is logged when it exits, not glued to the next one's output.
 */
START_TEST(test_output_across_restarts)
{
	struct harness	 h;
	char		*log;

	/* One write: a whole line, then one without its newline. */
	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'talker', 'command': ['/bin/sh', '-c',"
	    "   'printf \\'up\\\\nno newline\\'; exec sleep 1000'] } ] } }");
	ck_assert_int_eq(harness_wait_log(&h, "talker: up\n", T_WAIT), 0);
	harness_log_mark(&h);
	json_decref(kill_svc(&h, json_string("talker"), NULL));
	wait_restarts(&h, "talker", "running", 1);
	ck_assert_int_eq(harness_wait_log(&h, "talker: up\n", T_WAIT), 0);
	json_decref(kill_svc(&h, json_string("talker"), NULL));
	wait_restarts(&h, "talker", "running", 2);
	/* Two instances ended: each one's last text on a line of its own. */
	log = log_text(&h);
	ck_assert_msg(count_of(log, "talker: no newline\n") == 2,
	    "log:\n%s", log);
	ck_assert_ptr_null(strstr(log, "no newlineup"));
	ck_assert_ptr_null(strstr(log, "no newlineno newline"));
	free(log);
	finish(&h, 0);
}
END_TEST

/*
 * warden builds a worker's environment once and keeps it: a restart gets
 * the same, a reload that changes env gets the new one.
 */
static const char env_v1[] =
	"{ 'supervisor': { 'children': ["
	" { 'name': 'e', 'command': ['@WORKER@', '--env-out', '@DIR@/e.env'],"
	"   'env': { 'V': 'one' } } ] } }";
static const char env_v2[] =
	"{ 'supervisor': { 'children': ["
	" { 'name': 'e', 'command': ['@WORKER@', '--env-out', '@DIR@/e.env'],"
	"   'env': { 'V': 'two', 'W': 'new' } } ] } }";

START_TEST(test_env_kept_and_reloaded)
{
	struct harness	 h;
	char		*path, *e1, *e2, *e3, buf[64];
	const char	*v;
	json_t		*r;

	start(&h, env_v1);
	path = harness_path(&h, "e.env");
	e1 = read_env(&h, "e.env");
	check_env_common(&h, e1, "e", "0,1,2", h.dir);
	ck_assert_str_eq(env_value(e1, "V", buf, sizeof(buf)), "one");

	json_decref(kill_svc(&h, json_string("e"), NULL));
	e2 = harness_wait_file(path, e1, T_WAIT);
	ck_assert_msg(e2 != NULL, "the restarted e wrote nothing");
	wait_restarts(&h, "e", "running", 1);
	check_env_common(&h, e2, "e", "0,1,2", h.dir);
	ck_assert_str_eq(env_value(e2, "V", buf, sizeof(buf)), "one");

	write_config(&h, env_v2);
	r = result(&h, "config.reload", NULL);
	expect_names(r, "changed", "[\"e\"]");
	json_decref(r);
	e3 = harness_wait_file(path, e2, T_WAIT);
	ck_assert_msg(e3 != NULL, "e did not start again after the reload");
	wait_state(&h, "e", "running");
	check_env_common(&h, e3, "e", "0,1,2", h.dir);
	ck_assert_str_eq(env_value(e3, "V", buf, sizeof(buf)), "two");
	v = env_value(e3, "W", buf, sizeof(buf));
	ck_assert_msg(v != NULL && strcmp(v, "new") == 0, "W=%s", v);
	free(e1);
	free(e2);
	free(e3);
	free(path);
	finish(&h, 0);
}
END_TEST

static Suite *
supervise_worker_suite(void)
{
	Suite	*s = suite_create("supervise_worker");
	TCase	*tc;

	tc = tcase_create("readiness");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_loop_test(tc, test_ready_gates_start, 0,
	    (int)nitems(ready_modes));
	tcase_add_test(tc, test_ready_systemd_notify);
	tcase_add_test(tc, test_ready_timeout);
	tcase_add_loop_test(tc, test_ready_while_stopping, 0,
	    (int)nitems(ready_modes));
	suite_add_tcase(s, tc);

	tc = tcase_create("worker");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_worker_environment);
	tcase_add_test(tc, test_worker_user);
	tcase_add_test(tc, test_worker_clean_hands);
	tcase_add_test(tc, test_output_capture);
	tcase_add_test(tc, test_output_across_restarts);
	tcase_add_test(tc, test_env_kept_and_reloaded);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(supervise_worker_suite)
