/*
 * check_wardenctl.c: wardenctl as a whole process against a real warden:
 * what it prints, and its exit statuses (0 ok, 1 warden answered an error,
 * 2 usage, 3 cannot connect, 4 timeout). reexec is tested against a fake
 * warden that answers as the new image would, and reports what it got.
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
#include "util.h"
#include "version.h"
#include "suite.h"

#define CALL_MS		HARNESS_CALL_TIMEOUT

#define EXIT_OK		0
#define EXIT_ERROR	1
#define EXIT_USAGE	2
#define EXIT_CONNECT	3
#define EXIT_TIMEOUT	4

static const char conf_ab[] =
    "{ \"supervisor\": { \"strategy\": \"one_for_one\",\n"
    "  \"max_restarts\": 20, \"max_seconds\": 60, \"children\": [\n"
    "    { \"name\": \"a\", \"command\": [\"@WORKER@\"] },\n"
    "    { \"name\": \"b\", \"command\": [\"@WORKER@\"] } ] } }\n";

/*
 * For `events`: "tick" fails and comes back every 10 ms, so events keep
 * coming; the first line wardenctl prints proves it has subscribed, and
 * only then is "a" killed. Its supervisor's budget is far out of reach.
 */
static const char conf_tick[] =
    "{ \"supervisor\": { \"strategy\": \"one_for_one\",\n"
    "  \"max_restarts\": 100000, \"max_seconds\": 1, \"children\": [\n"
    "    { \"name\": \"a\", \"command\": [\"@WORKER@\"] },\n"
    "    { \"name\": \"tick\",\n"
    "      \"command\": [\"@WORKER@\", \"--crash\", \"1\"],\n"
    "      \"backoff\": { \"initial_ms\": 10, \"max_ms\": 10,\n"
    "        \"factor\": 1.0, \"jitter\": 0.0 } } ] } }\n";

/* --- helpers -------------------------------------------------------------- */

static void
start(struct harness *h, const char *conf)
{
	ck_assert_msg(harness_start(h, conf) == 0, "warden did not start");
}

static void
stop(struct harness *h)
{
	ck_assert_int_eq(harness_stop(h), 0);
	ck_assert_int_eq(h->leftovers, 0);
}

/* The output of the last run, kept for the messages of failed checks. */
static char	*out, *err;

static void
forget(void)
{
	free(out);
	free(err);
	out = err = NULL;
}

/* wardenctl -S SOCK args...; its exit status. */
#define CTL(h, ...) \
	(forget(), harness_ctl((h), &out, &err, __VA_ARGS__, (char *)NULL))

#define CHECK_RC(rc, want, what) \
	ck_assert_msg((rc) == (want), "%s: exit %d, expected %d\n" \
	    "stdout: %s\nstderr: %s", (what), (rc), (want), \
	    out != NULL ? out : "", err != NULL ? err : "")

/* Run argv as it is (no -S added); WARDEN_SOCKET points at h. */
static int
run(struct harness *h, const char *const *argv)
{
	forget();
	return harness_run(h, argv, &out, &err, 60000);
}

static void
has(const char *text, const char *needle, const char *what)
{
	ck_assert_msg(text != NULL && strstr(text, needle) != NULL,
	    "%s: no \"%s\" in:\n%s", what, needle, text != NULL ? text : "");
}

static pid_t
pid_of(struct harness *h, const char *service)
{
	pid_t	pid = harness_pid_of(h, service);

	ck_assert_msg(pid > 0, "%s has no pid", service);
	return pid;
}

static json_t *
service_of(struct harness *h, const char *service)
{
	json_t	*s = harness_service(h, service);

	ck_assert_msg(s != NULL, "no status for %s", service);
	return s;
}

static json_int_t
restarts_of(struct harness *h, const char *service)
{
	json_t		*s = service_of(h, service);
	json_int_t	 n;

	n = json_integer_value(json_object_get(s, "restarts"));
	json_decref(s);
	return n;
}

static json_t *
parse_json(const char *text, const char *what)
{
	json_error_t	 jerr;
	json_t		*v;

	v = json_loads(text, JSON_DECODE_ANY, &jerr);
	ck_assert_msg(v != NULL, "%s: not JSON (%s): %s", what, jerr.text,
	    text);
	return v;
}

/*
 * The row of a table whose first column is name, split into columns
 * (two or more spaces apart, as wardenctl aligns them, so a cell with
 * one space stays whole). Returns the number of columns.
 */
static size_t
table_row(const char *text, const char *name, char cols[][64], size_t max)
{
	const char	*line, *end, *p, *q;
	size_t		 n, len;

	for (line = text; line != NULL && *line != '\0'; line = end) {
		end = strchr(line, '\n');
		len = end != NULL ? (size_t)(end - line) : strlen(line);
		if (end != NULL)
			end++;
		if (strncmp(line, name, strlen(name)) != 0 ||
		    (line[strlen(name)] != ' ' && line[strlen(name)] != '\n'))
			continue;
		n = 0;
		for (p = line; p < line + len && n < max; ) {
			q = strstr(p, "  ");
			if (q == NULL || q > line + len)
				q = line + len;
			snprintf(cols[n++], 64, "%.*s", (int)(q - p), p);
			p = q;
			while (p < line + len && *p == ' ')
				p++;
		}
		return n;
	}
	ck_abort_msg("no row for %s in:\n%s", name, text != NULL ? text : "");
	return 0;
}

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
	has(out, "health ok", "status");
	has(out, "SERVICE", "status");
	ck_assert_uint_eq(table_row(out, "a", cols, 8), 8);
	ck_assert_str_eq(cols[1], "/a");
	ck_assert_str_eq(cols[2], "running");
	snprintf(pid, sizeof(pid), "%ld", (long)pid_of(&h, "a"));
	ck_assert_str_eq(cols[3], pid);
	ck_assert_str_eq(cols[4], "yes");
	ck_assert_str_eq(cols[6], "0");
	ck_assert_str_eq(cols[7], "-");
	ck_assert_uint_eq(table_row(out, "b", cols, 8), 8);
	ck_assert_str_eq(cols[2], "running");
	/* The supervisors' table. */
	has(out, "SUPERVISOR", "status");
	has(out, "0/20 in 60s", "status");

	/* One service: its row and no other. */
	rc = CTL(&h, "status", "b");
	CHECK_RC(rc, EXIT_OK, "status b");
	ck_assert_uint_eq(table_row(out, "b", cols, 8), 8);
	ck_assert_msg(strstr(out, "\na ") == NULL, "status b lists a:\n%s",
	    out);

	rc = CTL(&h, "-j", "status");
	CHECK_RC(rc, EXIT_OK, "-j status");
	v = parse_json(out, "-j status");
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
	v = parse_json(out, "--json status a");
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
	ck_assert_str_eq(out, line);
	/* Running again, and as a new process: it restarted once. */
	rc = CTL(&h, "wait", "a", "running", "--min-restarts", "1", "-t",
	    "10000");
	CHECK_RC(rc, EXIT_OK, "wait a running");
	has(out, "a: running", "wait");
	ck_assert_int_ne(pid_of(&h, "a"), pid);
	ck_assert_int_eq(restarts_of(&h, "a"), 1);
	ck_assert_int_eq(harness_wait_pid_gone(pid, CALL_MS), 0);

	/* The same in one command. */
	pid = pid_of(&h, "a");
	rc = CTL(&h, "kill", "a", "--wait-recovered");
	CHECK_RC(rc, EXIT_OK, "kill a --wait-recovered");
	snprintf(line, sizeof(line), "killed a (pid %ld) with KILL\n",
	    (long)pid);
	has(out, line, "kill --wait-recovered");
	has(out, "recovered in ", "kill --wait-recovered");
	ck_assert_int_eq(restarts_of(&h, "a"), 2);
	ck_assert_int_ne(pid_of(&h, "a"), pid);

	/* Several at once, by another signal, as JSON. */
	pid = pid_of(&h, "b");
	rc = CTL(&h, "-j", "kill", "a", "b", "-s", "TERM",
	    "--wait-recovered", "10000");
	CHECK_RC(rc, EXIT_OK, "-j kill a b -s TERM --wait-recovered");
	v = parse_json(out, "-j kill");
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
	ck_assert_int_eq(restarts_of(&h, "a"), 3);
	ck_assert_int_eq(restarts_of(&h, "b"), 1);
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
	ck_assert_msg(err != NULL && strncmp(err, "wardenctl: ", 11) == 0,
	    "no message on stderr: %s", err != NULL ? err : "");
	ck_assert_str_eq(out, "");
	rc = CTL(&h, "wait", "a", "running", "-t", "100");
	CHECK_RC(rc, EXIT_OK, "wait a running -t 100");
	rc = CTL(&h, "wait", "recovered", "-t", "5000");
	CHECK_RC(rc, EXIT_OK, "wait recovered");
	has(out, "recovered", "wait recovered");
	/* Nothing was touched. */
	ck_assert_int_eq(restarts_of(&h, "a"), 0);
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
	has(err, "wardenctl: ", "status nope");
	has(err, "nope", "status nope");
	ck_assert_str_eq(out, "");
	rc = CTL(&h, "kill", "a", "nope");
	CHECK_RC(rc, EXIT_ERROR, "kill a nope");
	has(err, "nope", "kill a nope");
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
	ck_assert_int_eq(restarts_of(&h, "a"), 0);
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
		{ "status", "a", "b", NULL },
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
		rc = run(&h, argv);
		ck_assert_msg(rc == EXIT_USAGE, "usage case %zu (%s %s): "
		    "exit %d, expected 2\nstderr: %s", i, argvs[i][0] != NULL ?
		    argvs[i][0] : "(none)", argvs[i][0] != NULL &&
		    argvs[i][1] != NULL ? argvs[i][1] : "", rc, err);
		has(err, "usage:", "usage error");
		ck_assert_msg(strncmp(err, "wardenctl: ", 11) == 0,
		    "case %zu: stderr does not start with the message: %s",
		    i, err);
		ck_assert_str_eq(out, "");
	}
	/* Unknown global option, global option without its value. */
	argv[0] = "wardenctl";
	argv[1] = "--frob";
	argv[2] = "status";
	argv[3] = NULL;
	rc = run(&h, argv);
	CHECK_RC(rc, EXIT_USAGE, "--frob status");
	argv[1] = "-S";
	argv[2] = NULL;
	rc = run(&h, argv);
	CHECK_RC(rc, EXIT_USAGE, "-S without a value");
	/* None of it reached a: same process, never restarted. */
	ck_assert_int_eq(pid_of(&h, "a"), pid);
	ck_assert_int_eq(restarts_of(&h, "a"), 0);
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
	rc = run(&h, argv_missing);
	CHECK_RC(rc, EXIT_CONNECT, "-S /nonexistent/sock status");
	has(err, "/nonexistent/sock", "cannot connect");
	ck_assert_str_eq(out, "");

	/* A path that exists and is no socket of a warden. */
	path = harness_path(&h, "warden.json");
	argv[0] = "wardenctl";
	argv[1] = "-S";
	argv[2] = path;
	argv[3] = "ping";
	argv[4] = NULL;
	rc = run(&h, argv);
	CHECK_RC(rc, EXIT_CONNECT, "-S warden.json ping");
	has(err, path, "cannot connect");
	free(path);

	/* No -S: WARDEN_SOCKET, which harness_run sets to warden's. */
	rc = run(&h, argv_env);
	CHECK_RC(rc, EXIT_OK, "ping with WARDEN_SOCKET");
	ck_assert_str_eq(out, "pong\n");
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
	v = parse_json(out, "call ping");
	ck_assert_msg(json_is_string(v), "call ping: not a JSON string");
	ck_assert_str_eq(json_string_value(v), "pong");
	json_decref(v);

	rc = CTL(&h, "call", "status", "{\"service\":\"a\"}");
	CHECK_RC(rc, EXIT_OK, "call status {service: a}");
	v = parse_json(out, "call status");
	svcs = json_object_get(v, "services");
	ck_assert_uint_eq(json_array_size(svcs), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(svcs,
	    0), "name")), "a");
	json_decref(v);

	rc = CTL(&h, "call", "nosuch");
	CHECK_RC(rc, EXIT_ERROR, "call nosuch");
	has(err, "nosuch", "call nosuch");
	ck_assert_str_eq(out, "");
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
	rc = run(&h, argv_help);
	CHECK_RC(rc, EXIT_OK, "--help");
	has(out, "usage: wardenctl", "--help");
	has(out, "status", "--help");
	has(out, "kill", "--help");
	ck_assert_str_eq(err, "");
	rc = run(&h, argv_h);
	CHECK_RC(rc, EXIT_OK, "-h");
	has(out, "usage: wardenctl", "-h");

	rc = CTL(&h, "kill", "--help");
	CHECK_RC(rc, EXIT_OK, "kill --help");
	has(out, "usage: wardenctl kill", "kill --help");
	has(out, "--wait-recovered", "kill --help");
	rc = CTL(&h, "wait", "-h");
	CHECK_RC(rc, EXIT_OK, "wait -h");
	has(out, "usage: wardenctl wait", "wait -h");
	rc = CTL(&h, "help", "status");
	CHECK_RC(rc, EXIT_OK, "help status");
	has(out, "usage: wardenctl status", "help status");
	/* --help wins over what is wrong with the rest: nothing is done. */
	rc = CTL(&h, "kill", "a", "--help");
	CHECK_RC(rc, EXIT_OK, "kill a --help");
	ck_assert_int_eq(restarts_of(&h, "a"), 0);

	snprintf(line, sizeof(line), "wardenctl %s\n", WARDEN_VERSION);
	rc = run(&h, argv_v);
	CHECK_RC(rc, EXIT_OK, "-V");
	ck_assert_str_eq(out, line);
	rc = run(&h, argv_version);
	CHECK_RC(rc, EXIT_OK, "--version");
	ck_assert_str_eq(out, line);

	rc = CTL(&h, "version");
	CHECK_RC(rc, EXIT_OK, "version");
	has(out, line, "version");
	snprintf(line, sizeof(line), "warden %s (protocol 1)\n",
	    WARDEN_VERSION);
	has(out, line, "version");
	rc = CTL(&h, "-j", "version");
	CHECK_RC(rc, EXIT_OK, "-j version");
	v = parse_json(out, "-j version");
	ck_assert_str_eq(json_string_value(json_object_get(v, "version")),
	    WARDEN_VERSION);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "protocol")), 1);
	json_decref(v);
	rc = CTL(&h, "ping");
	CHECK_RC(rc, EXIT_OK, "ping");
	ck_assert_str_eq(out, "pong\n");
	forget();
	stop(&h);
}
END_TEST

/* --- 9. stop, start, restart ---------------------------------------------- */

START_TEST(test_stop_start_restart)
{
	struct harness	 h;
	json_t		*s, *v;
	char		 line[64];
	pid_t		 pid, pid2;
	int		 rc;

	start(&h, conf_ab);
	pid = pid_of(&h, "a");
	rc = CTL(&h, "stop", "a");
	CHECK_RC(rc, EXIT_OK, "stop a");
	ck_assert_str_eq(out, "a: stopped\n");
	/* Answered once there: the process is gone and stays gone. */
	ck_assert_int_eq(harness_wait_pid_gone(pid, CALL_MS), 0);
	s = service_of(&h, "a");
	ck_assert_str_eq(json_string_value(json_object_get(s, "state")),
	    "stopped");
	ck_assert(json_is_null(json_object_get(s, "pid")));
	json_decref(s);
	rc = CTL(&h, "status", "a");
	CHECK_RC(rc, EXIT_OK, "status a");
	has(out, "stopped", "status a after stop");

	rc = CTL(&h, "start", "a");
	CHECK_RC(rc, EXIT_OK, "start a");
	pid = pid_of(&h, "a");
	snprintf(line, sizeof(line), "a: running, pid %ld\n", (long)pid);
	ck_assert_str_eq(out, line);

	rc = CTL(&h, "restart", "a");
	CHECK_RC(rc, EXIT_OK, "restart a");
	pid2 = pid_of(&h, "a");
	ck_assert_int_ne(pid2, pid);
	snprintf(line, sizeof(line), "a: running, pid %ld\n", (long)pid2);
	ck_assert_str_eq(out, line);
	ck_assert_int_eq(harness_wait_pid_gone(pid, CALL_MS), 0);

	rc = CTL(&h, "-j", "stop", "b");
	CHECK_RC(rc, EXIT_OK, "-j stop b");
	v = parse_json(out, "-j stop b");
	ck_assert_str_eq(json_string_value(json_object_get(v, "name")), "b");
	ck_assert_str_eq(json_string_value(json_object_get(v, "state")),
	    "stopped");
	json_decref(v);
	/* Stopping what is stopped is no failure; it stays stopped. */
	rc = CTL(&h, "stop", "b");
	CHECK_RC(rc, EXIT_OK, "stop b twice");
	ck_assert_str_eq(out, "b: stopped\n");
	s = service_of(&h, "b");
	ck_assert_str_eq(json_string_value(json_object_get(s, "state")),
	    "stopped");
	json_decref(s);
	forget();
	stop(&h);
}
END_TEST

/* --- 10. events ----------------------------------------------------------- */

struct bg {
	pid_t	 pid;
	int	 fd;		/* its stdout */
	char	 buf[65536];
	size_t	 len;
};

static void
bg_start(struct bg *b, struct harness *h, const char *const *args)
{
	char		 path[PATH_MAX];
	const char	*argv[16];
	int		 p[2], null;
	size_t		 n = 0;

	ck_assert((size_t)snprintf(path, sizeof(path), "%s/wardenctl",
	    h->bindir) < sizeof(path));
	argv[n++] = path;
	argv[n++] = "-S";
	argv[n++] = h->sock;
	while (*args != NULL && n < nitems(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	b->pid = fork();
	ck_assert_int_ne(b->pid, -1);
	if (b->pid == 0) {
		null = open("/dev/null", O_RDONLY);
		if (null == -1 || dup2(null, 0) == -1 || dup2(p[1], 1) == -1)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	b->fd = p[0];
	b->len = 0;
	ck_assert_int_eq(util_set_nonblock(b->fd, true), 0);
}

/* Its next line (without the newline) into line; false at end or timeout. */
static bool
bg_line(struct bg *b, char *line, size_t size, int timeout_ms)
{
	struct pollfd	 pfd;
	uint64_t	 deadline = util_now_ms() + (uint64_t)timeout_ms, now;
	char		*nl;
	size_t		 n;
	ssize_t		 r;

	for (;;) {
		if ((nl = memchr(b->buf, '\n', b->len)) != NULL) {
			n = (size_t)(nl - b->buf);
			snprintf(line, size, "%.*s", (int)n, b->buf);
			memmove(b->buf, nl + 1, b->len - n - 1);
			b->len -= n + 1;
			return true;
		}
		ck_assert_msg(b->len < sizeof(b->buf), "a line over %zu bytes",
		    sizeof(b->buf));
		r = read(b->fd, b->buf + b->len, sizeof(b->buf) - b->len);
		if (r > 0) {
			b->len += (size_t)r;
			continue;
		}
		if (r == 0)
			return false;
		if (errno == EINTR)
			continue;
		ck_assert_msg(errno == EAGAIN, "read: %s", strerror(errno));
		now = util_now_ms();
		if (now >= deadline)
			return false;
		pfd.fd = b->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(deadline - now)) == -1 &&
		    errno != EINTR)
			ck_abort_msg("poll: %s", strerror(errno));
	}
}

/* Still running, then terminated: its wait status. */
static int
bg_end(struct bg *b)
{
	int	st;

	ck_assert_int_eq(waitpid(b->pid, &st, WNOHANG), 0);
	ck_assert_int_eq(kill(b->pid, SIGTERM), 0);
	while (waitpid(b->pid, &st, 0) == -1)
		ck_assert_int_eq(errno, EINTR);
	close(b->fd);
	return st;
}

START_TEST(test_events)
{
	static const char *const args[] = { "events", NULL };
	static const char *const args_j[] = {
		"-j", "events", "service.", NULL
	};
	struct harness	 h;
	struct bg	 b, bj;
	json_t		*r, *ev;
	char		 line[4096], want[64], *p;
	long long	 seq, prev;
	pid_t		 pid;
	int		 st;
	bool		 found = false;

	start(&h, conf_tick);
	bg_start(&b, &h, args);
	bg_start(&bj, &h, args_j);
	/* A first line from each: they are subscribed. */
	ck_assert_msg(bg_line(&b, line, sizeof(line), CALL_MS),
	    "events printed nothing");
	prev = strtoll(line, &p, 10);
	ck_assert_msg(p != line && *p == ' ', "no seq: %s", line);
	ck_assert_msg(bg_line(&bj, line, sizeof(line), CALL_MS),
	    "-j events printed nothing");

	pid = pid_of(&h, "a");
	r = harness_result(&h, "service.kill", json_pack("{s:s}", "service",
	    "a"));
	ck_assert_ptr_nonnull(r);
	json_decref(r);

	/* "seq ts type service key=value...", seqs rising one by one. */
	snprintf(want, sizeof(want), " pid=%ld", (long)pid);
	while (!found) {
		ck_assert_msg(bg_line(&b, line, sizeof(line), CALL_MS),
		    "no service.exited line for a");
		seq = strtoll(line, &p, 10);
		ck_assert_msg(p != line && *p == ' ', "no seq: %s", line);
		ck_assert_msg(seq == prev + 1, "seq %lld after %lld", seq,
		    prev);
		prev = seq;
		ck_assert_msg(strtod(p + 1, &p) > 0 && *p == ' ', "no ts: %s",
		    line);
		if (strncmp(p, " service.exited a ", 18) == 0) {
			has(line, want, "service.exited line");
			has(line, " signal=KILL", "service.exited line");
			found = true;
		}
	}
	/* The JSON one: one object per line, only service.* events. */
	found = false;
	while (!found) {
		ck_assert_msg(bg_line(&bj, line, sizeof(line), CALL_MS),
		    "no service.exited JSON line for a");
		ev = parse_json(line, "-j events line");
		ck_assert_msg(strncmp(json_string_value(json_object_get(ev,
		    "type")), "service.", 8) == 0, "not a service event: %s",
		    line);
		if (strcmp(json_string_value(json_object_get(ev, "type")),
		    "service.exited") == 0 &&
		    strcmp(json_string_value(json_object_get(ev, "service")),
		    "a") == 0) {
			ck_assert_int_eq(json_integer_value(json_object_get(ev,
			    "pid")), pid);
			found = true;
		}
		json_decref(ev);
	}
	st = bg_end(&b);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	st = bg_end(&bj);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	stop(&h);
}
END_TEST

/* When warden goes away, events ends by itself, with status 0. */
START_TEST(test_events_end)
{
	static const char *const args[] = { "events", "service.exited", NULL };
	struct harness	 h;
	struct bg	 b;
	char		 line[4096];
	int		 st;

	start(&h, conf_tick);
	bg_start(&b, &h, args);
	ck_assert_msg(bg_line(&b, line, sizeof(line), CALL_MS),
	    "events printed nothing");
	has(line, " service.exited tick ", "events service.exited");
	ck_assert_int_eq(harness_stop(&h), 0);
	while (bg_line(&b, line, sizeof(line), CALL_MS))
		has(line, " service.exited ", "events service.exited");
	while (waitpid(b.pid, &st, 0) == -1)
		ck_assert_int_eq(errno, EINTR);
	close(b.fd);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "events after warden left: status %#x", st);
}
END_TEST

/* --- 11. reload, recovery, shutdown --------------------------------------- */

START_TEST(test_reload_recovery_shutdown)
{
	static const char conf_abc[] =
	    "{ \"supervisor\": { \"strategy\": \"one_for_one\",\n"
	    "  \"max_restarts\": 20, \"max_seconds\": 60, \"children\": [\n"
	    "    { \"name\": \"a\", \"command\": [\"@WORKER@\"] },\n"
	    "    { \"name\": \"b\", \"command\": [\"@WORKER@\"] },\n"
	    "    { \"name\": \"c\", \"command\": [\"@WORKER@\"] } ] } }\n";
	struct harness	 h;
	json_t		*v;
	char		 cols[8][64];
	pid_t		 pid_a;
	int		 rc;

	start(&h, conf_ab);
	pid_a = pid_of(&h, "a");
	rc = CTL(&h, "reload", "--dry-run");
	CHECK_RC(rc, EXIT_OK, "reload --dry-run");
	has(out, "dry run", "reload --dry-run");

	/* One more service in the file: named by the dry run, not started. */
	ck_assert_int_eq(harness_write_config(&h, conf_abc), 0);
	rc = CTL(&h, "-j", "reload", "-n");
	CHECK_RC(rc, EXIT_OK, "-j reload -n");
	v = parse_json(out, "-j reload -n");
	ck_assert_uint_eq(json_array_size(json_object_get(v, "added")), 1);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(v,
	    "added"), 0)), "c");
	ck_assert_uint_eq(json_array_size(json_object_get(v, "removed")), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(v, "changed")), 0);
	json_decref(v);
	rc = CTL(&h, "reload", "--dry-run");
	CHECK_RC(rc, EXIT_OK, "reload --dry-run");
	ck_assert_uint_ge(table_row(out, "added", cols, 8), 2);
	ck_assert_str_eq(cols[1], "c");
	rc = CTL(&h, "status", "c");
	CHECK_RC(rc, EXIT_ERROR, "status c after a dry run");
	ck_assert_int_eq(pid_of(&h, "a"), pid_a);

	rc = CTL(&h, "recovery");
	CHECK_RC(rc, EXIT_OK, "recovery");
	has(out, "recovering no", "recovery");
	ck_assert_uint_eq(table_row(out, "a", cols, 8), 7);
	ck_assert_str_eq(cols[1], "running");
	ck_assert_str_eq(cols[4], "20");
	rc = CTL(&h, "-j", "recovery");
	CHECK_RC(rc, EXIT_OK, "-j recovery");
	v = parse_json(out, "-j recovery");
	ck_assert(json_is_false(json_object_get(v, "recovering")));
	ck_assert_uint_eq(json_array_size(json_object_get(v, "services")), 2);
	json_decref(v);

	rc = CTL(&h, "shutdown");
	CHECK_RC(rc, EXIT_OK, "shutdown");
	has(out, "stopping", "shutdown");
	ck_assert_int_eq(harness_wait_exit(&h, HARNESS_STOP_TIMEOUT), 0);
	ck_assert_int_eq(harness_wait_pid_gone(pid_a, CALL_MS), 0);
	rc = CTL(&h, "ping");
	CHECK_RC(rc, EXIT_CONNECT, "ping after shutdown");
	forget();
	stop(&h);
}
END_TEST

/* --- 12. reexec, against a fake warden ---------------------------------- */

/*
 * warden's side of reexec is not needed to test wardenctl's: a fake warden
 * listens on a socket of the test's, serves one request in a child with a
 * canned answer and reports the request line it got, so the test sees what
 * wardenctl sent (an absolute BINARY) and what it makes of each answer.
 */
struct fake {
	char	*path;		/* its socket */
	int	 lfd;		/* listening */
	pid_t	 pid;		/* the child serving a request, -1 */
	int	 rfd;		/* its report: the request line */
};

static void
fake_listen(struct fake *f, struct harness *h)
{
	struct sockaddr_un	sun;

	f->path = harness_path(h, "fake.sock");
	f->pid = -1;
	f->rfd = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(f->path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, f->path, strlen(f->path) + 1);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(f->lfd, -1);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(listen(f->lfd, 8), 0);
}

/* Nobody has connected: what was refused never reached warden. */
static bool
fake_untouched(struct fake *f)
{
	struct pollfd	pfd = { .fd = f->lfd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 0;
}

/* Read into buf until a newline or the end; false on a timeout. */
static bool
fake_read_line(int fd, char *buf, size_t size, size_t *len)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	ssize_t		 n;

	*len = 0;
	while (memchr(buf, '\n', *len) == NULL) {
		if (*len == size - 1 || poll(&pfd, 1, CALL_MS) != 1)
			return false;
		if ((n = read(fd, buf + *len, size - 1 - *len)) == -1 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	buf[*len] = '\0';
	return true;
}

/*
 * The child: 0 once it has answered and wardenctl has gone, or, with
 * after, once it has sent those lines too and closed the connection.
 */
static int
fake_child(int lfd, int report, json_t *reply, int delay_ms,
    const char *after)
{
	struct pollfd	 pfd = { .fd = lfd, .events = POLLIN };
	json_t		*req, *ans;
	char		 buf[65536], *text;
	size_t		 len;
	int		 fd;

	if (poll(&pfd, 1, CALL_MS) != 1 ||
	    (fd = accept(lfd, NULL, NULL)) == -1)
		return 10;
	if (!fake_read_line(fd, buf, sizeof(buf), &len))
		return 11;
	if (util_write_all(report, buf, len) == -1)
		return 12;
	close(report);
	if ((req = json_loads(buf, 0, NULL)) == NULL ||
	    (ans = json_deep_copy(reply)) == NULL ||
	    json_object_set_new(ans, "jsonrpc", json_string("2.0")) == -1 ||
	    json_object_set(ans, "id", json_object_get(req, "id")) == -1 ||
	    (text = json_dumps(ans, JSON_COMPACT)) == NULL)
		return 13;
	if (delay_ms > 0)
		(void)poll(NULL, 0, delay_ms);
	if (util_write_all(fd, text, strlen(text)) == -1 ||
	    util_write_all(fd, "\n", 1) == -1)
		return 14;
	if (after != NULL)
		return util_write_all(fd, after, strlen(after)) == -1 ? 15 : 0;
	/* wardenctl closes the connection once it has its answer. */
	(void)fake_read_line(fd, buf, sizeof(buf), &len);
	return 0;
}

/*
 * Serve the next request: reply's members, with the request's id, after
 * delay_ms; then the lines after, if not NULL, and the connection closed.
 */
static void
fake_serve(struct fake *f, json_t *reply, int delay_ms, const char *after)
{
	int	p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	f->pid = fork();
	ck_assert_int_ne(f->pid, -1);
	if (f->pid == 0) {
		close(p[0]);
		_exit(fake_child(f->lfd, p[1], reply, delay_ms, after));
	}
	close(p[1]);
	f->rfd = p[0];
	json_decref(reply);
}

/* The request the child served. */
static json_t *
fake_served(struct fake *f)
{
	char	buf[65536];
	size_t	len;
	int	st;

	ck_assert_msg(fake_read_line(f->rfd, buf, sizeof(buf), &len),
	    "the fake warden got no request");
	close(f->rfd);
	while (waitpid(f->pid, &st, 0) == -1)
		ck_assert_int_eq(errno, EINTR);
	f->pid = -1;
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the fake warden failed: status %#x", st);
	return parse_json(buf, "the request");
}

/* The request the child served, which must be a reexec. */
static json_t *
fake_request(struct fake *f)
{
	json_t	*req = fake_served(f);

	ck_assert_str_eq(json_string_value(json_object_get(req, "method")),
	    "reexec");
	return req;
}

static void
fake_close(struct fake *f)
{
	close(f->lfd);
	free(f->path);
}

/* wardenctl -S FAKE reexec args... (NULL-ended), from the folder cwd. */
static int
reexec_from(struct harness *h, struct fake *f, const char *cwd, ...)
{
	const char	*argv[12], *arg;
	va_list		 ap;
	size_t		 n = 0;
	int		 here, rc;

	argv[n++] = "wardenctl";
	argv[n++] = "-S";
	argv[n++] = f->path;
	va_start(ap, cwd);
	while ((arg = va_arg(ap, const char *)) != NULL &&
	    n < nitems(argv) - 1)
		argv[n++] = arg;
	va_end(ap);
	argv[n] = NULL;
	here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ne(here, -1);
	ck_assert_int_eq(chdir(cwd), 0);
	rc = run(h, argv);
	ck_assert_int_eq(fchdir(here), 0);
	close(here);
	return rc;
}

static json_t *
reexec_result(void)
{
	return json_pack("{s:{s:i,s:s,s:s,s:s,s:f,s:i,s:i}}", "result",
	    "pid", 1234, "binary", "/usr/bin/warden", "version_before", "0.2.0",
	    "version", "0.2.1", "took_ms", 12.4, "workers", 1000, "clients", 3);
}

/* A file, an executable copy of nothing, at DIR/name. */
static char *
make_file(struct harness *h, const char *name, mode_t mode)
{
	char	*path = harness_path(h, name);
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	ck_assert_msg(fd != -1, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(util_write_all(fd, "#!/bin/sh\n", 10), 0);
	close(fd);
	ck_assert_int_eq(chmod(path, mode), 0);
	return path;
}

/*
 * What BINARY cannot be is refused by wardenctl itself, exit 2 with the
 * usage, and warden is not asked.
 */
START_TEST(test_reexec_refused)
{
	static const char *const cases[][3] = {
		/* BINARY, what the message says */
		{ "nope", "nope: No such file or directory" },
		{ "x", "x: Is a directory" },
		{ "x/plain", "x/plain: not executable" },
		{ "x/fifo", "x/fifo: not a regular file" },
		{ "x/nope/warden", "x/nope/warden: No such file or directory" },
		{ "", "BINARY is empty" },
	};
	struct harness	 h;
	struct fake	 f;
	char		*dir, *file;
	size_t		 i;
	int		 rc;

	ck_assert_int_eq(harness_prepare(&h, conf_ab), 0);
	fake_listen(&f, &h);
	dir = harness_path(&h, "x");
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	free(make_file(&h, "x/plain", 0644));
	file = harness_path(&h, "x/fifo");
	ck_assert_int_eq(mkfifo(file, 0755), 0);
	free(file);

	for (i = 0; i < nitems(cases); i++) {
		rc = reexec_from(&h, &f, h.dir, "reexec", cases[i][0], NULL);
		CHECK_RC(rc, EXIT_USAGE, cases[i][0]);
		has(err, "wardenctl: reexec: ", cases[i][0]);
		has(err, cases[i][1], cases[i][0]);
		has(err, "usage: wardenctl reexec [BINARY]", cases[i][0]);
		ck_assert_str_eq(out, "");
	}
	rc = reexec_from(&h, &f, h.dir, "reexec", "x/plain", "x/plain", NULL);
	CHECK_RC(rc, EXIT_USAGE, "reexec with two operands");
	has(err, "too many arguments", "reexec with two operands");
	ck_assert_msg(fake_untouched(&f), "a refused reexec reached warden");

	/* Help: in the list of commands, and its own. */
	rc = reexec_from(&h, &f, h.dir, "help", NULL);
	CHECK_RC(rc, EXIT_OK, "help");
	has(out, "\n  reexec ", "help");
	rc = reexec_from(&h, &f, h.dir, "reexec", "-h", NULL);
	CHECK_RC(rc, EXIT_OK, "reexec -h");
	has(out, "usage: wardenctl reexec [BINARY]", "reexec -h");
	has(out, "same pid", "reexec -h");
	rc = reexec_from(&h, &f, h.dir, "help", "reexec", NULL);
	CHECK_RC(rc, EXIT_OK, "help reexec");
	has(out, "usage: wardenctl reexec [BINARY]", "help reexec");
	ck_assert_msg(fake_untouched(&f), "help reached warden");
	forget();
	free(dir);
	fake_close(&f);
	harness_cleanup(&h);
}
END_TEST

/*
 * A relative BINARY goes to warden absolute, from wardenctl's folder: its
 * folder resolved, its name kept (a symbolic link stays the link); none
 * goes as no params. The answer is printed as a line, or as it is with -j.
 */
START_TEST(test_reexec_sent)
{
	struct harness	 h;
	struct fake	 f;
	json_t		*req, *params, *v;
	char		*dir, *real, *want, *link;
	int		 rc;

	ck_assert_int_eq(harness_prepare(&h, conf_ab), 0);
	fake_listen(&f, &h);
	dir = harness_path(&h, "x");
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	free(make_file(&h, "x/warden-new", 0755));
	link = harness_path(&h, "x/warden");
	ck_assert_int_eq(symlink("warden-new", link), 0);
	real = realpath(h.dir, NULL);
	ck_assert_ptr_nonnull(real);

	xasprintf(&want, "%s/x/warden-new", real);
	fake_serve(&f, reexec_result(), 0, NULL);
	rc = reexec_from(&h, &f, h.dir, "reexec", "x/warden-new", NULL);
	CHECK_RC(rc, EXIT_OK, "reexec x/warden-new");
	req = fake_request(&f);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(req,
	    "params"), "binary")), want);
	ck_assert_str_eq(out, "warden reexecuted: pid 1234, 0.2.0 -> 0.2.1, "
	    "1000 workers, 3 clients, 12.4ms\n");
	json_decref(req);

	/* From below, through "..": the same file. */
	fake_serve(&f, reexec_result(), 0, NULL);
	rc = reexec_from(&h, &f, dir, "reexec", "../x/./warden-new", NULL);
	CHECK_RC(rc, EXIT_OK, "reexec ../x/./warden-new");
	req = fake_request(&f);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(req,
	    "params"), "binary")), want);
	json_decref(req);
	free(want);

	/* A link keeps its name: warden executes what it points to then. */
	xasprintf(&want, "%s/x/warden", real);
	fake_serve(&f, reexec_result(), 0, NULL);
	rc = reexec_from(&h, &f, dir, "reexec", "warden", NULL);
	CHECK_RC(rc, EXIT_OK, "reexec warden (a link)");
	req = fake_request(&f);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(req,
	    "params"), "binary")), want);
	json_decref(req);
	free(want);

	/* An absolute one goes as it is. */
	fake_serve(&f, reexec_result(), 0, NULL);
	rc = reexec_from(&h, &f, "/", "reexec", link, NULL);
	CHECK_RC(rc, EXIT_OK, "reexec /abs/warden");
	req = fake_request(&f);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(req,
	    "params"), "binary")), link);
	json_decref(req);

	/* None: warden's own binary, no params; -j prints the result. */
	fake_serve(&f, reexec_result(), 0, NULL);
	rc = reexec_from(&h, &f, h.dir, "-j", "reexec", NULL);
	CHECK_RC(rc, EXIT_OK, "-j reexec");
	req = fake_request(&f);
	params = json_object_get(req, "params");
	ck_assert_msg(params == NULL || (json_is_object(params) &&
	    json_object_get(params, "binary") == NULL),
	    "reexec without BINARY sent a binary");
	json_decref(req);
	v = parse_json(out, "-j reexec");
	ck_assert_int_eq(json_integer_value(json_object_get(v, "pid")), 1234);
	ck_assert_str_eq(json_string_value(json_object_get(v, "version")),
	    "0.2.1");
	ck_assert(json_real_value(json_object_get(v, "took_ms")) == 12.4);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "workers")),
	    1000);
	json_decref(v);

	/* One worker, one client: no plural. */
	fake_serve(&f, json_pack("{s:{s:i,s:s,s:s,s:s,s:f,s:i,s:i}}",
	    "result", "pid", 7, "binary", "/w", "version_before", "1",
	    "version", "1", "took_ms", 0.5, "workers", 1, "clients", 1), 0,
	    NULL);
	rc = reexec_from(&h, &f, h.dir, "reexec", NULL);
	CHECK_RC(rc, EXIT_OK, "reexec");
	json_decref(fake_request(&f));
	ck_assert_str_eq(out, "warden reexecuted: pid 7, 1 -> 1, 1 worker, "
	    "1 client, 0.50ms\n");

	forget();
	free(link);
	free(real);
	free(dir);
	fake_close(&f);
	harness_cleanup(&h);
}
END_TEST

/*
 * warden's refusals: the old warden goes on, wardenctl says why (the
 * message and data.reason) and exits 1; nothing on stdout.
 */
START_TEST(test_reexec_errors)
{
	static const struct {
		int		 code;
		const char	*kind, *message, *reason, *want;
	} cases[] = {
		{ -32006, "reexec_failed", "reexec failed",
		  "/usr/bin/warden --handover-check: exit 127",
		  "wardenctl: reexec failed: /usr/bin/warden --handover-check: "
		  "exit 127\n" },
		/* A reason the message already holds is not said twice. */
		{ -32006, "reexec_failed", "reexec failed: timed out",
		  "timed out", "wardenctl: reexec failed: timed out\n" },
		{ -32004, "conflict", "a reexec is already under way", NULL,
		  "wardenctl: a reexec is already under way\n" },
		{ -32601, "method_not_found", "no method 'reexec'", NULL,
		  "wardenctl: no method 'reexec'\n" },
		{ -32002, "forbidden", "reexec needs the admin role", NULL,
		  "wardenctl: reexec needs the admin role\n" },
	};
	struct harness	 h;
	struct fake	 f;
	json_t		*data;
	size_t		 i;
	int		 rc;

	ck_assert_int_eq(harness_prepare(&h, conf_ab), 0);
	fake_listen(&f, &h);
	for (i = 0; i < nitems(cases); i++) {
		data = json_pack("{s:s}", "kind", cases[i].kind);
		if (cases[i].reason != NULL)
			ck_assert_int_eq(json_object_set_new(data, "reason",
			    json_string(cases[i].reason)), 0);
		fake_serve(&f, json_pack("{s:{s:i,s:s,s:o}}", "error", "code",
		    cases[i].code, "message", cases[i].message, "data", data),
		    0, NULL);
		rc = reexec_from(&h, &f, h.dir, "reexec", NULL);
		CHECK_RC(rc, EXIT_ERROR, cases[i].message);
		json_decref(fake_request(&f));
		ck_assert_str_eq(err, cases[i].want);
		ck_assert_str_eq(out, "");
	}
	forget();
	fake_close(&f);
	harness_cleanup(&h);
}
END_TEST

/*
 * The new image answers after the check of the binary and the handover:
 * longer than a quick call may take, and wardenctl waits for it.
 */
START_TEST(test_reexec_slow)
{
	struct harness	 h;
	struct fake	 f;
	int		 rc;

	ck_assert_int_eq(harness_prepare(&h, conf_ab), 0);
	fake_listen(&f, &h);
	fake_serve(&f, reexec_result(), 10500, NULL);
	rc = reexec_from(&h, &f, h.dir, "reexec", NULL);
	CHECK_RC(rc, EXIT_OK, "reexec answered after 10.5 s");
	json_decref(fake_request(&f));
	has(out, "warden reexecuted: pid 1234", "slow reexec");
	forget();
	fake_close(&f);
	harness_cleanup(&h);
}
END_TEST

/* What `events` makes of a reexec's events, either way it goes. */
START_TEST(test_reexec_events)
{
	static const char events[] =
	    "{\"jsonrpc\":\"2.0\",\"method\":\"event\",\"params\":"
	    "{\"seq\":7,\"ts\":1000.5,\"type\":\"warden.reexec_failed\","
	    "\"binary\":\"/usr/bin/warden\",\"reason\":"
	    "\"--handover-check: exit 1\"}}\n"
	    "{\"jsonrpc\":\"2.0\",\"method\":\"event\",\"params\":"
	    "{\"seq\":8,\"ts\":2000.25,\"type\":\"warden.reexecuted\","
	    "\"pid\":812,\"binary\":\"/usr/bin/warden\","
	    "\"version_before\":\"0.1.0\",\"version\":\"0.2.0\","
	    "\"took_ms\":12.4,\"workers\":4,\"clients\":2}}\n";
	struct harness	 h;
	struct fake	 f;
	json_t		*req;
	int		 rc;

	ck_assert_int_eq(harness_prepare(&h, conf_ab), 0);
	fake_listen(&f, &h);
	fake_serve(&f, json_pack("{s:{s:i}}", "result", "seq", 6), 0, events);
	rc = reexec_from(&h, &f, h.dir, "events", "warden.", NULL);
	CHECK_RC(rc, EXIT_OK, "events warden.");
	req = fake_served(&f);
	ck_assert_str_eq(json_string_value(json_object_get(req, "method")),
	    "subscribe");
	json_decref(req);
	ck_assert_str_eq(out,
	    "7 1000.500 warden.reexec_failed /usr/bin/warden "
	    "reason=\"--handover-check: exit 1\"\n"
	    "8 2000.250 warden.reexecuted 0.1.0 -> 0.2.0 pid=812 "
	    "binary=/usr/bin/warden took_ms=12.4 workers=4 clients=2\n");
	forget();
	fake_close(&f);
	harness_cleanup(&h);
}
END_TEST

/* --- 13. the connection, against a fake warden --------------------------- */

/*
 * The child of fake_serve_raw: reads a request, reports it, sends text as
 * it is (whatever it holds) and closes the connection.
 */
static int
fake_child_raw(int lfd, int report, const char *text)
{
	struct pollfd	 pfd = { .fd = lfd, .events = POLLIN };
	char		 buf[65536];
	size_t		 len;
	int		 fd;

	if (poll(&pfd, 1, CALL_MS) != 1 ||
	    (fd = accept(lfd, NULL, NULL)) == -1)
		return 10;
	if (!fake_read_line(fd, buf, sizeof(buf), &len))
		return 11;
	if (util_write_all(report, buf, len) == -1)
		return 12;
	close(report);
	if (util_write_all(fd, text, strlen(text)) == -1)
		return 13;
	close(fd);
	return 0;
}

/* Serve the next request with text, then close the connection. */
static void
fake_serve_raw(struct fake *f, const char *text)
{
	int	p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	f->pid = fork();
	ck_assert_int_ne(f->pid, -1);
	if (f->pid == 0) {
		close(p[0]);
		_exit(fake_child_raw(f->lfd, p[1], text));
	}
	close(p[1]);
	f->rfd = p[0];
}

/* text with its first "@SOCK@" (if any) replaced by sock. */
static char *
with_sock(const char *text, const char *sock)
{
	const char	*at = strstr(text, "@SOCK@");
	char		*s;

	if (at == NULL)
		return xstrdup(text);
	xasprintf(&s, "%.*s%s%s", (int)(at - text), text, sock, at + 6);
	return s;
}

/*
 * What wardenctl makes of answers that are not answers, and of a warden
 * that goes away: its one connection module reads them for every command,
 * and each case has its message and exit status. Notifications that come
 * before the answer are kept and printed by events after it.
 */
START_TEST(test_bad_answers)
{
	static const struct {
		const char	*cmd, *text, *out, *err;
		int		 rc;
	} cases[] = {
		{ "ping", "not json\n", "",
		  "wardenctl: bad answer from warden: '[' or '{' expected near "
		  "'not'\n", EXIT_ERROR },
		{ "ping", "[1]\n", "",
		  "wardenctl: bad answer from warden: not a JSON object\n",
		  EXIT_ERROR },
		{ "ping",
		  "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":\"pong\"}\n",
		  "", "wardenctl: bad answer from warden: an answer to another "
		  "request\n", EXIT_ERROR },
		{ "ping", "{\"jsonrpc\":\"2.0\",\"id\":1}\n", "",
		  "wardenctl: bad answer from warden: neither result nor "
		  "error\n", EXIT_ERROR },
		/* A request warden could not read: an error with a null id. */
		{ "ping", "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
		  "{\"code\":-32700,\"message\":\"parse error\"}}\n", "",
		  "wardenctl: parse error\n", EXIT_ERROR },
		/* Blank lines and notifications before the answer: skipped. */
		{ "ping", "\n \r\n{\"jsonrpc\":\"2.0\",\"method\":\"other\"}\n"
		  "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"pong\"}\n",
		  "pong\n", "", EXIT_OK },
		/* Closed, with a partial line or none. */
		{ "ping", "{\"jsonrpc\":", "",
		  "wardenctl: @SOCK@: warden closed the connection without "
		  "answering\n", EXIT_CONNECT },
		{ "ping", "", "",
		  "wardenctl: @SOCK@: warden closed the connection without "
		  "answering\n", EXIT_CONNECT },
		/* Events before the answer are printed, in order, after it. */
		{ "events",
		  "{\"jsonrpc\":\"2.0\",\"method\":\"event\",\"params\":"
		  "{\"seq\":2,\"ts\":1.5,\"type\":\"service.started\","
		  "\"service\":\"a\",\"pid\":9}}\n"
		  "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"seq\":2}}\n"
		  "{\"jsonrpc\":\"2.0\",\"method\":\"event\",\"params\":"
		  "{\"seq\":3,\"ts\":2.5,\"type\":\"service.exited\","
		  "\"service\":\"a\",\"pid\":9,\"code\":0}}\n",
		  "2 1.500 service.started a pid=9\n"
		  "3 2.500 service.exited a pid=9 code=0\n", "", EXIT_OK },
	};
	struct harness	 h;
	struct fake	 f;
	json_t		*req;
	char		*want;
	size_t		 i;
	int		 rc;

	ck_assert_int_eq(harness_prepare(&h, conf_ab), 0);
	fake_listen(&f, &h);
	for (i = 0; i < nitems(cases); i++) {
		fake_serve_raw(&f, cases[i].text);
		rc = reexec_from(&h, &f, h.dir, cases[i].cmd, NULL);
		CHECK_RC(rc, cases[i].rc, cases[i].text);
		req = fake_served(&f);
		ck_assert_int_eq(json_integer_value(json_object_get(req, "id")),
		    1);
		json_decref(req);
		ck_assert_msg(strcmp(out, cases[i].out) == 0,
		    "%s: stdout \"%s\", expected \"%s\"", cases[i].text, out,
		    cases[i].out);
		want = with_sock(cases[i].err, f.path);
		ck_assert_msg(strcmp(err, want) == 0,
		    "%s: stderr \"%s\", expected \"%s\"", cases[i].text, err,
		    want);
		free(want);
	}
	forget();
	fake_close(&f);
	harness_cleanup(&h);
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
	tcase_add_test(tc, test_stop_start_restart);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_events_end);
	tcase_add_test(tc, test_reload_recovery_shutdown);
	tcase_add_test(tc, test_reexec_refused);
	tcase_add_test(tc, test_reexec_sent);
	tcase_add_test(tc, test_reexec_errors);
	tcase_add_test(tc, test_reexec_slow);
	tcase_add_test(tc, test_reexec_events);
	tcase_add_test(tc, test_bad_answers);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(wardenctl_suite)
