/*
 * check_wardenctl.c: wardenctl as a whole process against a real warden:
 * what it prints, and its exit statuses (0 ok, 1 warden answered an error,
 * 2 usage, 3 cannot connect, 4 timeout): status, kill and wait, warden's
 * errors, usage errors, no warden, call, help and version.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"
#include "version.h"
#include "wardenctltest.h"

/* --- 1. status ------------------------------------------------------------ */

START_TEST(test_status)
{
	struct harness	 h;
	json_t		*v, *svcs;
	char		 cols[8][64], pid[32];
	int		 rc;

	start(&h, conf_ab);
	rc = CTL(&h, "status");
	CHECK_RC(rc, EXIT_OK, "status");
	has(ctl_out, "health ok", "status");
	has(ctl_out, "SERVICE", "status");
	ck_assert_uint_eq(table_row(ctl_out, "a", cols, 8), 8);
	ck_assert_str_eq(cols[1], "/a");
	ck_assert_str_eq(cols[2], "running");
	snprintf(pid, sizeof(pid), "%ld", (long)pid_of(&h, "a"));
	ck_assert_str_eq(cols[3], pid);
	ck_assert_str_eq(cols[4], "yes");
	ck_assert_str_eq(cols[6], "0");
	ck_assert_str_eq(cols[7], "-");
	ck_assert_uint_eq(table_row(ctl_out, "b", cols, 8), 8);
	ck_assert_str_eq(cols[2], "running");
	/* The supervisors' table. */
	has(ctl_out, "SUPERVISOR", "status");
	has(ctl_out, "0/20 in 60s", "status");

	/* One service: its row and no other. */
	rc = CTL(&h, "status", "b");
	CHECK_RC(rc, EXIT_OK, "status b");
	ck_assert_uint_eq(table_row(ctl_out, "b", cols, 8), 8);
	ck_assert_msg(strstr(ctl_out, "\na ") == NULL, "status b lists a:\n%s",
	    ctl_out);

	rc = CTL(&h, "-j", "status");
	CHECK_RC(rc, EXIT_OK, "-j status");
	v = parse_output(ctl_out, "-j status");
	ck_assert_msg(json_is_object(v), "-j status: not an object");
	svcs = json_object_get(v, "services");
	ck_assert_msg(json_is_array(svcs), "-j status: no services");
	ck_assert_uint_eq(json_array_size(svcs), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(svcs,
	    0), "name")), "a");
	ck_assert_str_eq(json_string_value(json_object_get(v, "health")), "ok");
	json_decref(v);

	rc = CTL(&h, "--json", "status", "a");
	CHECK_RC(rc, EXIT_OK, "--json status a");
	v = parse_output(ctl_out, "--json status a");
	ck_assert_uint_eq(json_array_size(json_object_get(v, "services")), 1);
	json_decref(v);
	forget();
	stop(&h);
}
END_TEST

/* --- 2. kill and wait ----------------------------------------------------- */

START_TEST(test_kill_wait)
{
	struct harness	 h;
	json_t		*v, *k;
	char		 line[128];
	pid_t		 pid;
	int		 rc;

	start(&h, conf_ab);
	pid = pid_of(&h, "a");
	rc = CTL(&h, "kill", "a");
	CHECK_RC(rc, EXIT_OK, "kill a");
	snprintf(line, sizeof(line), "killed a (pid %ld) with KILL\n",
	    (long)pid);
	ck_assert_str_eq(ctl_out, line);
	/* Running again, and as a new process: it restarted once. */
	rc = CTL(&h, "wait", "a", "running", "--min-restarts", "1", "-t",
	    "10000");
	CHECK_RC(rc, EXIT_OK, "wait a running");
	has(ctl_out, "a: running", "wait");
	ck_assert_int_ne(pid_of(&h, "a"), pid);
	ck_assert_int_eq(field_of(&h, "a", "restarts"), 1);
	ck_assert_int_eq(harness_wait_pid_gone(pid, CALL_MS), 0);

	/* The same in one command. */
	pid = pid_of(&h, "a");
	rc = CTL(&h, "kill", "a", "--wait-recovered");
	CHECK_RC(rc, EXIT_OK, "kill a --wait-recovered");
	snprintf(line, sizeof(line), "killed a (pid %ld) with KILL\n",
	    (long)pid);
	has(ctl_out, line, "kill --wait-recovered");
	has(ctl_out, "recovered in ", "kill --wait-recovered");
	ck_assert_int_eq(field_of(&h, "a", "restarts"), 2);
	ck_assert_int_ne(pid_of(&h, "a"), pid);

	/* Several at once, by another signal, as JSON. */
	pid = pid_of(&h, "b");
	rc = CTL(&h, "-j", "kill", "a", "b", "-s", "TERM",
	    "--wait-recovered", "10000");
	CHECK_RC(rc, EXIT_OK, "-j kill a b -s TERM --wait-recovered");
	v = parse_output(ctl_out, "-j kill");
	ck_assert_str_eq(json_string_value(json_object_get(v, "signal")),
	    "TERM");
	ck_assert_uint_eq(json_array_size(json_object_get(v, "killed")), 2);
	k = json_array_get(json_object_get(v, "killed"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(k, "service")), "b");
	ck_assert_int_eq(json_integer_value(json_object_get(k, "pid")), pid);
	ck_assert_msg(json_is_number(json_object_get(v, "recovered_ms")),
	    "no recovered_ms");
	ck_assert_msg(json_is_object(json_object_get(v, "wait")), "no wait");
	json_decref(v);
	ck_assert_int_eq(field_of(&h, "a", "restarts"), 3);
	ck_assert_int_eq(field_of(&h, "b", "restarts"), 1);
	forget();
	stop(&h);
}
END_TEST

/* --- 3. wait timeout ------------------------------------------------------ */

START_TEST(test_wait_timeout)
{
	struct harness	 h;
	int		 rc;

	start(&h, conf_ab);
	rc = CTL(&h, "wait", "a", "stopped", "-t", "100");
	CHECK_RC(rc, EXIT_TIMEOUT, "wait a stopped -t 100");
	ck_assert_msg(ctl_err != NULL && strncmp(ctl_err, "wardenctl: ", 11) == 0,
	    "no message on stderr: %s", ctl_err != NULL ? ctl_err : "");
	ck_assert_str_eq(ctl_out, "");
	rc = CTL(&h, "wait", "a", "running", "-t", "100");
	CHECK_RC(rc, EXIT_OK, "wait a running -t 100");
	rc = CTL(&h, "wait", "recovered", "-t", "5000");
	CHECK_RC(rc, EXIT_OK, "wait recovered");
	has(ctl_out, "recovered", "wait recovered");
	/* Nothing was touched. */
	ck_assert_int_eq(field_of(&h, "a", "restarts"), 0);
	forget();
	stop(&h);
}
END_TEST

/* --- 4. warden's errors --------------------------------------------------- */

START_TEST(test_unknown_service)
{
	struct harness	 h;
	pid_t		 pid_a, pid_b;
	int		 rc;

	start(&h, conf_ab);
	pid_a = pid_of(&h, "a");
	pid_b = pid_of(&h, "b");
	rc = CTL(&h, "status", "nope");
	CHECK_RC(rc, EXIT_ERROR, "status nope");
	has(ctl_err, "wardenctl: ", "status nope");
	has(ctl_err, "nope", "status nope");
	ck_assert_str_eq(ctl_out, "");
	rc = CTL(&h, "kill", "a", "nope");
	CHECK_RC(rc, EXIT_ERROR, "kill a nope");
	has(ctl_err, "nope", "kill a nope");
	rc = CTL(&h, "stop", "nope");
	CHECK_RC(rc, EXIT_ERROR, "stop nope");
	rc = CTL(&h, "wait", "nope", "running", "-t", "100");
	CHECK_RC(rc, EXIT_ERROR, "wait nope running");
	/*
	 * kill a nope killed nothing: a later kill of b, all the way round
	 * to recovery, shows it.
	 */
	rc = CTL(&h, "kill", "b", "--wait-recovered");
	CHECK_RC(rc, EXIT_OK, "kill b --wait-recovered");
	ck_assert_int_ne(pid_of(&h, "b"), pid_b);
	ck_assert_int_eq(pid_of(&h, "a"), pid_a);
	ck_assert_int_eq(field_of(&h, "a", "restarts"), 0);
	forget();
	stop(&h);
}
END_TEST

/* --- 5. usage errors ------------------------------------------------------ */

START_TEST(test_usage)
{
	static const char *const argvs[][6] = {
		{ NULL },
		{ "frobnicate", NULL },
		{ "kill", NULL },
		{ "kill", "a", "-s", "BOGUS", NULL },
		{ "kill", "a", "--signal=NOPE", NULL },
		{ "kill", "a", "--wait-recovered=soon", NULL },
		{ "signal", "a", NULL },
		{ "signal", "a", "NOPE", NULL },
		{ "signal", "a", "0", NULL },
		{ "events", "service.exit", NULL },
		{ "events", "service", "bogus", NULL },
		{ "stage", "-n", "-1", NULL },
		{ "stage", "get", "-n", "abc", NULL },
		{ "stage", "--limit", "99999999999", NULL },
		{ "stage", "-n", "1000001", NULL },
		{ "stage", "set", "1", "-n", "2", NULL },
		{ "status", "-j", NULL },
		{ "wait", "a", NULL },
		{ "wait", "a", "sleeping", NULL },
		{ "wait", "a", "running", "-t", "abc", NULL },
		{ "wait", "a", "running", "-t", NULL },
		{ "stop", NULL },
		{ "call", NULL },
		{ "call", "status", "{bad", NULL },
		{ "events", "--bogus", NULL },
		{ "reload", "extra", NULL },
		{ "reexec", "/nonexistent/warden", NULL },
		{ "reexec", "/", NULL },
		{ "reexec", "a", "b", NULL },
		{ "help", "frobnicate", NULL },
	};
	struct harness	 h;
	const char	*argv[12];
	size_t		 i, j, n;
	pid_t		 pid;
	int		 rc;

	start(&h, conf_ab);
	pid = pid_of(&h, "a");
	for (i = 0; i < nitems(argvs); i++) {
		n = 0;
		argv[n++] = "wardenctl";
		argv[n++] = "-S";
		argv[n++] = h.sock;
		for (j = 0; argvs[i][j] != NULL; j++)
			argv[n++] = argvs[i][j];
		argv[n] = NULL;
		rc = ctl_run(&h, argv);
		ck_assert_msg(rc == EXIT_USAGE, "usage case %zu (%s %s): "
		    "exit %d, expected 2\nstderr: %s", i, argvs[i][0] != NULL ?
		    argvs[i][0] : "(none)", argvs[i][0] != NULL &&
		    argvs[i][1] != NULL ? argvs[i][1] : "", rc, ctl_err);
		has(ctl_err, "usage:", "usage error");
		ck_assert_msg(strncmp(ctl_err, "wardenctl: ", 11) == 0,
		    "case %zu: stderr does not start with the message: %s",
		    i, ctl_err);
		ck_assert_str_eq(ctl_out, "");
	}
	/* Unknown global option, global option without its value. */
	argv[0] = "wardenctl";
	argv[1] = "--frob";
	argv[2] = "status";
	argv[3] = NULL;
	rc = ctl_run(&h, argv);
	CHECK_RC(rc, EXIT_USAGE, "--frob status");
	argv[1] = "-S";
	argv[2] = NULL;
	rc = ctl_run(&h, argv);
	CHECK_RC(rc, EXIT_USAGE, "-S without a value");
	/* None of it reached a: same process, never restarted. */
	ck_assert_int_eq(pid_of(&h, "a"), pid);
	ck_assert_int_eq(field_of(&h, "a", "restarts"), 0);
	forget();
	stop(&h);
}
END_TEST

/* --- 6. no warden --------------------------------------------------------- */

START_TEST(test_no_connect)
{
	static const char *const argv_missing[] = {
		"wardenctl", "-S", "/nonexistent/sock", "status", NULL
	};
	static const char *const argv_env[] = { "wardenctl", "ping", NULL };
	struct harness	 h;
	char		*path;
	const char	*argv[5];
	int		 rc;

	start(&h, conf_ab);
	rc = ctl_run(&h, argv_missing);
	CHECK_RC(rc, EXIT_CONNECT, "-S /nonexistent/sock status");
	has(ctl_err, "/nonexistent/sock", "cannot connect");
	ck_assert_str_eq(ctl_out, "");

	/* A path that exists and is no socket of a warden. */
	path = harness_path(&h, "warden.json");
	argv[0] = "wardenctl";
	argv[1] = "-S";
	argv[2] = path;
	argv[3] = "ping";
	argv[4] = NULL;
	rc = ctl_run(&h, argv);
	CHECK_RC(rc, EXIT_CONNECT, "-S warden.json ping");
	has(ctl_err, path, "cannot connect");
	free(path);

	/* No -S: WARDEN_SOCKET, which harness_run sets to warden's. */
	rc = ctl_run(&h, argv_env);
	CHECK_RC(rc, EXIT_OK, "ping with WARDEN_SOCKET");
	ck_assert_str_eq(ctl_out, "pong\n");
	forget();
	stop(&h);
}
END_TEST

/* --- 7. call -------------------------------------------------------------- */

START_TEST(test_call)
{
	struct harness	 h;
	json_t		*v, *svcs;
	int		 rc;

	start(&h, conf_ab);
	rc = CTL(&h, "call", "ping");
	CHECK_RC(rc, EXIT_OK, "call ping");
	v = parse_output(ctl_out, "call ping");
	ck_assert_msg(json_is_string(v), "call ping: not a JSON string");
	ck_assert_str_eq(json_string_value(v), "pong");
	json_decref(v);

	rc = CTL(&h, "call", "status", "{\"service\":\"a\"}");
	CHECK_RC(rc, EXIT_OK, "call status {service: a}");
	v = parse_output(ctl_out, "call status");
	svcs = json_object_get(v, "services");
	ck_assert_uint_eq(json_array_size(svcs), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(svcs,
	    0), "name")), "a");
	json_decref(v);

	rc = CTL(&h, "call", "nosuch");
	CHECK_RC(rc, EXIT_ERROR, "call nosuch");
	has(ctl_err, "nosuch", "call nosuch");
	ck_assert_str_eq(ctl_out, "");
	rc = CTL(&h, "call", "status", "{\"service\":\"nope\"}");
	CHECK_RC(rc, EXIT_ERROR, "call status {service: nope}");
	rc = CTL(&h, "call", "wait", "{\"condition\":{\"service\":\"a\","
	    "\"state\":\"stopped\"},\"timeout_ms\":100}");
	CHECK_RC(rc, EXIT_TIMEOUT, "call wait (timeout)");
	forget();
	stop(&h);
}
END_TEST

/* --- 8. help and version -------------------------------------------------- */

START_TEST(test_help_version)
{
	static const char *const argv_help[] = { "wardenctl", "--help", NULL };
	static const char *const argv_h[] = { "wardenctl", "-h", NULL };
	static const char *const argv_v[] = { "wardenctl", "-V", NULL };
	static const char *const argv_version[] = {
		"wardenctl", "--version", NULL
	};
	struct harness	 h;
	json_t		*v;
	char		 line[64];
	int		 rc;

	start(&h, conf_ab);
	rc = ctl_run(&h, argv_help);
	CHECK_RC(rc, EXIT_OK, "--help");
	has(ctl_out, "usage: wardenctl", "--help");
	has(ctl_out, "status", "--help");
	has(ctl_out, "kill", "--help");
	ck_assert_str_eq(ctl_err, "");
	rc = ctl_run(&h, argv_h);
	CHECK_RC(rc, EXIT_OK, "-h");
	has(ctl_out, "usage: wardenctl", "-h");

	rc = CTL(&h, "kill", "--help");
	CHECK_RC(rc, EXIT_OK, "kill --help");
	has(ctl_out, "usage: wardenctl kill", "kill --help");
	has(ctl_out, "--wait-recovered", "kill --help");
	rc = CTL(&h, "wait", "-h");
	CHECK_RC(rc, EXIT_OK, "wait -h");
	has(ctl_out, "usage: wardenctl wait", "wait -h");
	rc = CTL(&h, "help", "status");
	CHECK_RC(rc, EXIT_OK, "help status");
	has(ctl_out, "usage: wardenctl status", "help status");
	/* --help wins over what is wrong with the rest: nothing is done. */
	rc = CTL(&h, "kill", "a", "--help");
	CHECK_RC(rc, EXIT_OK, "kill a --help");
	ck_assert_int_eq(field_of(&h, "a", "restarts"), 0);

	snprintf(line, sizeof(line), "wardenctl %s\n", WARDEN_VERSION);
	rc = ctl_run(&h, argv_v);
	CHECK_RC(rc, EXIT_OK, "-V");
	ck_assert_str_eq(ctl_out, line);
	rc = ctl_run(&h, argv_version);
	CHECK_RC(rc, EXIT_OK, "--version");
	ck_assert_str_eq(ctl_out, line);

	rc = CTL(&h, "version");
	CHECK_RC(rc, EXIT_OK, "version");
	has(ctl_out, line, "version");
	snprintf(line, sizeof(line), "warden %s (protocol 1)\n",
	    WARDEN_VERSION);
	has(ctl_out, line, "version");
	rc = CTL(&h, "-j", "version");
	CHECK_RC(rc, EXIT_OK, "-j version");
	v = parse_output(ctl_out, "-j version");
	ck_assert_str_eq(json_string_value(json_object_get(v, "version")),
	    WARDEN_VERSION);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "protocol")), 1);
	json_decref(v);
	rc = CTL(&h, "ping");
	CHECK_RC(rc, EXIT_OK, "ping");
	ck_assert_str_eq(ctl_out, "pong\n");
	forget();
	stop(&h);
}
END_TEST

static Suite *
wardenctl_suite(void)
{
	Suite	*s = suite_create("wardenctl");
	TCase	*tc = tcase_create("wardenctl");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_kill_wait);
	tcase_add_test(tc, test_wait_timeout);
	tcase_add_test(tc, test_unknown_service);
	tcase_add_test(tc, test_usage);
	tcase_add_test(tc, test_no_connect);
	tcase_add_test(tc, test_call);
	tcase_add_test(tc, test_help_version);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(wardenctl_suite)
