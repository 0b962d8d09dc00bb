/*
 * check_wardenctl_events.c: wardenctl's commands that change what warden
 * runs, against a real warden: stop, start and restart; events, a
 * wardenctl that keeps running and prints them as they come; reload,
 * recovery and shutdown.
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
	ck_assert_str_eq(ctl_out, "a: stopped\n");
	/* Answered once there: the process is gone and stays gone. */
	ck_assert_int_eq(harness_wait_pid_gone(pid, CALL_MS), 0);
	s = service_of(&h, "a");
	ck_assert_str_eq(json_string_value(json_object_get(s, "state")),
	    "stopped");
	ck_assert(json_is_null(json_object_get(s, "pid")));
	json_decref(s);
	/* Printed as ever; a stopped service is not running and ready: 6. */
	rc = CTL(&h, "status", "a");
	CHECK_RC(rc, 6, "status a");
	has(ctl_out, "stopped", "status a after stop");

	rc = CTL(&h, "start", "a");
	CHECK_RC(rc, EXIT_OK, "start a");
	pid = pid_of(&h, "a");
	snprintf(line, sizeof(line), "a: running, pid %ld\n", (long)pid);
	ck_assert_str_eq(ctl_out, line);

	rc = CTL(&h, "restart", "a");
	CHECK_RC(rc, EXIT_OK, "restart a");
	pid2 = pid_of(&h, "a");
	ck_assert_int_ne(pid2, pid);
	snprintf(line, sizeof(line), "a: running, pid %ld\n", (long)pid2);
	ck_assert_str_eq(ctl_out, line);
	ck_assert_int_eq(harness_wait_pid_gone(pid, CALL_MS), 0);

	rc = CTL(&h, "-j", "stop", "b");
	CHECK_RC(rc, EXIT_OK, "-j stop b");
	v = parse_output(ctl_out, "-j stop b");
	ck_assert_str_eq(json_string_value(json_object_get(v, "name")), "b");
	ck_assert_str_eq(json_string_value(json_object_get(v, "state")),
	    "stopped");
	json_decref(v);
	/* Stopping what is stopped is no failure; it stays stopped. */
	rc = CTL(&h, "stop", "b");
	CHECK_RC(rc, EXIT_OK, "stop b twice");
	ck_assert_str_eq(ctl_out, "b: stopped\n");
	s = service_of(&h, "b");
	ck_assert_str_eq(json_string_value(json_object_get(s, "state")),
	    "stopped");
	json_decref(s);
	forget();
	stop(&h);
}
END_TEST

/* --- 10. events ----------------------------------------------------------- */

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
		/* The time, as warden says times: 2026-12-07T04:15:14.370Z */
		ck_assert_msg(strlen(p) > 25 && p[5] == '-' && p[11] == 'T' &&
		    p[24] == 'Z' && p[25] == ' ', "no time: %s", line);
		p += 25;
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
		ev = parse_output(line, "-j events line");
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
	has(ctl_out, "dry run", "reload --dry-run");

	/* One more service in the file: named by the dry run, not started. */
	ck_assert_int_eq(harness_write_config(&h, conf_abc), 0);
	rc = CTL(&h, "-j", "reload", "-n");
	CHECK_RC(rc, EXIT_OK, "-j reload -n");
	v = parse_output(ctl_out, "-j reload -n");
	ck_assert_uint_eq(json_array_size(json_object_get(v, "added")), 1);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(v,
	    "added"), 0)), "c");
	ck_assert_uint_eq(json_array_size(json_object_get(v, "removed")), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(v, "changed")), 0);
	json_decref(v);
	rc = CTL(&h, "reload", "--dry-run");
	CHECK_RC(rc, EXIT_OK, "reload --dry-run");
	ck_assert_uint_ge(table_row(ctl_out, "added", cols, 8), 2);
	ck_assert_str_eq(cols[1], "c");
	rc = CTL(&h, "status", "c");
	CHECK_RC(rc, EXIT_ERROR, "status c after a dry run");
	ck_assert_int_eq(pid_of(&h, "a"), pid_a);

	rc = CTL(&h, "recovery");
	CHECK_RC(rc, EXIT_OK, "recovery");
	has(ctl_out, "recovering no", "recovery");
	ck_assert_uint_eq(table_row(ctl_out, "a", cols, 8), 8);
	ck_assert_str_eq(cols[1], "running");
	ck_assert_str_eq(cols[4], "20");
	rc = CTL(&h, "-j", "recovery");
	CHECK_RC(rc, EXIT_OK, "-j recovery");
	v = parse_output(ctl_out, "-j recovery");
	ck_assert(json_is_false(json_object_get(v, "recovering")));
	ck_assert_uint_eq(json_array_size(json_object_get(v, "services")), 2);
	json_decref(v);

	rc = CTL(&h, "shutdown");
	CHECK_RC(rc, EXIT_OK, "shutdown");
	has(ctl_out, "stopping", "shutdown");
	ck_assert_int_eq(harness_wait_exit(&h, HARNESS_STOP_TIMEOUT), 0);
	ck_assert_int_eq(harness_wait_pid_gone(pid_a, CALL_MS), 0);
	rc = CTL(&h, "ping");
	CHECK_RC(rc, EXIT_CONNECT, "ping after shutdown");
	forget();
	stop(&h);
}
END_TEST

static Suite *
wardenctl_events_suite(void)
{
	Suite	*s = suite_create("wardenctl_events");
	TCase	*tc = tcase_create("wardenctl_events");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_stop_start_restart);
	tcase_add_test(tc, test_events);
	tcase_add_test(tc, test_events_end);
	tcase_add_test(tc, test_reload_recovery_shutdown);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(wardenctl_events_suite)
