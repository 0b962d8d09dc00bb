/*
 * check_sdnotify.c: what warden tells its own service manager, by the
 * sd_notify(3) protocol: READY=1 with a STATUS= line kept current,
 * WATCHDOG=1 from the event loop, RELOADING=1 then READY=1 around a
 * reload, STOPPING=1 as the shutdown begins; and its log lines under
 * journald (JOURNAL_STREAM). The "unit" case drives sdnotify.c in this
 * process; the others run the real warden with the harness, which reads
 * the NOTIFY_SOCKET it hands warden.
 *
 * Nothing waits by sleeping: a message is waited for with poll(2) on the
 * socket; that a message did not come is shown by what came after it, or
 * by warden's own "wait" timing out while the watchdog would have fired
 * several times over.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "log.h"
#include "sdnotify.h"
#include "util.h"
#include "suite.h"

#define CALL_MS		HARNESS_CALL_TIMEOUT
#define NOTIFY_MS	5000	/* bound for a message that must come */

/* A flag, a stage, and "a", which prints a line and records its environment. */
#define CONF_A_THEN \
    "{ \"flags\": { \"x\": { \"default\": false } },\n" \
    "  \"stages\": [ { \"stage\": 1, \"enable\": [\"x\"] } ],\n" \
    "  \"supervisor\": { \"max_restarts\": 20, \"max_seconds\": 60,\n" \
    "  \"children\": [\n" \
    "    { \"name\": \"a\", \"command\": [\"@WORKER@\", \"--print\",\n" \
    "      \"hello from a\", \"--env-out\", \"@DIR@/a.env\"] },\n"

/*
 * "b" stays in backoff for a minute once killed, so the STATUS= line
 * shows it recovering meanwhile.
 */
static const char conf_ab[] = CONF_A_THEN
    "    { \"name\": \"b\", \"command\": [\"@WORKER@\"],\n"
    "      \"backoff\": { \"initial_ms\": 60000, \"max_ms\": 60000,\n"
    "        \"factor\": 1.0, \"jitter\": 0.0 } } ] } }\n";

/* The same with "b" changed: a reload restarts it. */
static const char conf_ab2[] = CONF_A_THEN
    "    { \"name\": \"b\", \"command\": [\"@WORKER@\", \"--print\", \"b2\"] }\n"
    "  ] } }\n";

/* "a" ignores SIGTERM: a shutdown waits for it as long as the test wants. */
static const char conf_stubborn[] =
    "{ \"supervisor\": { \"children\": [\n"
    "    { \"name\": \"a\", \"command\": [\"@WORKER@\", \"--ignore-term\",\n"
    "      \"--ready\", \"notify\"], \"ready\": \"notify\",\n"
    "      \"shutdown_ms\": \"infinity\" } ] } }\n";

/* --- helpers -------------------------------------------------------------- */

/* The next datagram on fd, malloc'd, or NULL when none came in timeout_ms. */
static char *
dgram_next(int fd, int timeout_ms)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	uint64_t	 deadline = util_now_ms() + (uint64_t)timeout_ms;
	uint64_t	 now;
	char		 buf[8192];
	ssize_t		 n;
	int		 r;

	for (;;) {
		n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n >= 0) {
			buf[n] = '\0';
			return xstrdup(buf);
		}
		if (errno == EINTR)
			continue;
		ck_assert_msg(errno == EAGAIN, "recv: %s", strerror(errno));
		now = util_now_ms();
		if (now >= deadline)
			return NULL;
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r == -1 && errno != EINTR)
			ck_abort_msg("poll: %s", strerror(errno));
	}
}

/* The value of "NAME=" in the message, malloc'd, or NULL. */
static char *
value_of(const char *msg, const char *name)
{
	size_t		 n = strlen(name);
	const char	*p;

	for (p = msg; p != NULL; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			return strndup(p + n + 1, strcspn(p + n + 1, "\n"));
	}
	return NULL;
}

/* Wait for a datagram with this line; the datagram, malloc'd. */
static char *
wait_line(int fd, const char *line, int timeout_ms)
{
	uint64_t	 deadline = util_now_ms() + (uint64_t)timeout_ms;
	uint64_t	 now;
	char		*msg;

	for (;;) {
		now = util_now_ms();
		if (now >= deadline ||
		    (msg = dgram_next(fd, (int)(deadline - now))) == NULL)
			ck_abort_msg("no \"%s\" within %d ms", line, timeout_ms);
		if (has_line(msg, line))
			return msg;
		free(msg);
	}
}

/* Everything already queued on fd, joined by newlines, malloc'd. */
static char *
drain(int fd)
{
	char	*all = xstrdup(""), *msg, *s;

	while ((msg = dgram_next(fd, 0)) != NULL) {
		xasprintf(&s, "%s%s\n", all, msg);
		free(all);
		free(msg);
		all = s;
	}
	return all;
}

static void
call_ok(struct harness *h, const char *method, json_t *params)
{
	json_t	*r = harness_result(h, method, params);

	ck_assert_msg(r != NULL, "%s failed", method);
	json_decref(r);
}

/* An abstract datagram socket bound to "@warden-sdn-<pid>-<tag>". */
static int
bind_abstract(const char *tag, char *name, size_t len)
{
	struct sockaddr_un	sun;
	socklen_t		slen;
	int			fd;

	snprintf(name, len, "@warden-sdn-%ld-%s", (long)getpid(), tag);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, name, strlen(name));
	sun.sun_path[0] = '\0';
	slen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
	ck_assert_msg(bind(fd, (struct sockaddr *)&sun, slen) == 0, "bind %s: %s",
	    name, strerror(errno));
	return fd;
}

/* --- sdnotify.c on its own -------------------------------------------------- */

START_TEST(test_unit_abstract_and_path)
{
	struct sockaddr_un	 sun;
	char			 name[108], path[] = "/tmp/warden-sdn-XXXXXX";
	char			*msg, big[6000];
	int			 fd;

	log_setverbose(LOG_LEVEL_ERR);	/* the warnings are expected */
	/* Abstract: '@' stands for the leading NUL. */
	fd = bind_abstract("unit", name, sizeof(name));
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
	sdnotify_init();
	ck_assert_ptr_null(getenv("NOTIFY_SOCKET"));
	ck_assert(sdnotify_enabled());
	ck_assert_int_eq(sdnotify_send("READY=1\nSTATUS=%s", "up"), 0);
	msg = dgram_next(fd, NOTIFY_MS);
	ck_assert_ptr_nonnull(msg);
	ck_assert_str_eq(msg, "READY=1\nSTATUS=up");
	free(msg);
	/* Too long for one datagram: cut at the end, the start intact. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(sdnotify_send("STOPPING=1\nSTATUS=%s", big), 0);
	msg = dgram_next(fd, NOTIFY_MS);
	ck_assert_ptr_nonnull(msg);
	ck_assert(strncmp(msg, "STOPPING=1\nSTATUS=xxx", 21) == 0);
	ck_assert_uint_eq(strlen(msg), 4095);
	free(msg);
	close(fd);

	/* A path. */
	ck_assert_ptr_nonnull(mkdtemp(path));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/n.sock", path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", sun.sun_path, 1), 0);
	sdnotify_init();
	sdnotify_reloading();
	msg = dgram_next(fd, NOTIFY_MS);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(has_line(msg, "RELOADING=1"), "got %s", msg);
	ck_assert_msg(strstr(msg, "\nMONOTONIC_USEC=") != NULL, "got %s", msg);
	free(msg);
	close(fd);
	unlink(sun.sun_path);
	rmdir(path);

	/* None: nothing is sent, and that is no error. */
	unsetenv("NOTIFY_SOCKET");
	sdnotify_init();
	ck_assert(!sdnotify_enabled());
	ck_assert_int_eq(sdnotify_send("READY=1"), 0);
	/* Neither a path nor an abstract address: ignored. */
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", "vsock:2:999", 1), 0);
	sdnotify_init();
	ck_assert(!sdnotify_enabled());
}
END_TEST

START_TEST(test_unit_watchdog_env)
{
	char	name[108], pid[32];
	int	fd;

	log_setverbose(LOG_LEVEL_ERR);
	fd = bind_abstract("wd", name, sizeof(name));
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());

	ck_assert_int_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
	ck_assert_int_eq(setenv("WATCHDOG_USEC", "200000", 1), 0);
	unsetenv("WATCHDOG_PID");
	sdnotify_init();
	ck_assert_uint_eq(sdnotify_watchdog_usec(), 200000);
	ck_assert_ptr_null(getenv("WATCHDOG_USEC"));
	ck_assert_ptr_null(getenv("WATCHDOG_PID"));

	/* For us by pid. */
	setenv("NOTIFY_SOCKET", name, 1);
	setenv("WATCHDOG_USEC", "200000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	sdnotify_init();
	ck_assert_uint_eq(sdnotify_watchdog_usec(), 200000);
	ck_assert_ptr_null(getenv("WATCHDOG_PID"));

	/* For another process: not ours to feed. */
	setenv("NOTIFY_SOCKET", name, 1);
	setenv("WATCHDOG_USEC", "200000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	sdnotify_init();
	ck_assert_uint_eq(sdnotify_watchdog_usec(), 0);

	/* Not a number. */
	setenv("NOTIFY_SOCKET", name, 1);
	setenv("WATCHDOG_USEC", "10s", 1);
	unsetenv("WATCHDOG_PID");
	sdnotify_init();
	ck_assert_uint_eq(sdnotify_watchdog_usec(), 0);

	/* No socket to feed it through. */
	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "200000", 1);
	sdnotify_init();
	ck_assert_uint_eq(sdnotify_watchdog_usec(), 0);
	close(fd);
}
END_TEST

/* --- the real warden -------------------------------------------------------- */

START_TEST(test_ready_status_on_kill)
{
	struct harness	 h;
	char		*msg, *status;

	ck_assert_int_eq(harness_prepare(&h, conf_ab), 0);
	ck_assert_int_eq(harness_spawn(&h), 0);
	/* READY=1 comes with the line systemctl status shows. */
	msg = wait_line(h.notify_fd, "READY=1", HARNESS_START_TIMEOUT);
	status = value_of(msg, "STATUS");
	ck_assert_msg(status != NULL, "READY=1 without STATUS=: %s", msg);
	ck_assert_str_eq(status, "2 of 2 services running, 0 recovering, stage 0");
	free(status);
	free(msg);

	/* b is killed and waits out a minute of backoff: the line says so. */
	call_ok(&h, "service.kill", json_pack("{s:s}", "service", "b"));
	free(wait_line(h.notify_fd,
	    "STATUS=1 of 2 services running, 1 recovering, stage 0", NOTIFY_MS));
	/* The stage has no change callback of the tree: the periodic look sees it. */
	call_ok(&h, "stage.set", json_pack("{s:i}", "stage", 1));
	free(wait_line(h.notify_fd,
	    "STATUS=1 of 2 services running, 1 recovering, stage 1", NOTIFY_MS));
	call_ok(&h, "service.start", json_pack("{s:s}", "service", "b"));
	free(wait_line(h.notify_fd,
	    "STATUS=2 of 2 services running, 0 recovering, stage 1", NOTIFY_MS));
	stop(&h);
}
END_TEST

START_TEST(test_watchdog)
{
	struct harness	 h;
	uint64_t	 t0, ms;
	char		*env, *path;
	int		 i;

	ck_assert_int_eq(harness_prepare(&h, conf_ab), 0);
	ck_assert_int_eq(harness_setenv(&h, "WATCHDOG_USEC", "200000"), 0);
	ck_assert_int_eq(harness_launch(&h), 0);
	/* One every 100 ms: four take at least three intervals. */
	t0 = util_now_ms();
	for (i = 0; i < 4; i++)
		ck_assert_msg(harness_wait_notify(&h, "WATCHDOG=1", NOTIFY_MS) == 0,
		    "WATCHDOG=1 number %d did not come", i + 1);
	ms = util_now_ms() - t0;
	ck_assert_msg(ms >= 250, "4 WATCHDOG=1 in %" PRIu64 " ms: more often "
	    "than every half of WATCHDOG_USEC", ms);

	/* Nothing of it reaches a worker. */
	path = harness_path(&h, "a.env");
	env = harness_wait_file(path, NULL, NOTIFY_MS);
	free(path);
	ck_assert_ptr_nonnull(env);
	ck_assert_msg(strstr(env, "WATCHDOG_") == NULL, "worker env:\n%s", env);
	ck_assert_msg(strstr(env, "\nNOTIFY_SOCKET=") == NULL &&
	    strncmp(env, "NOTIFY_SOCKET=", 14) != 0, "a is not in the notify "
	    "mode, yet has NOTIFY_SOCKET:\n%s", env);
	free(env);
	stop(&h);
}
END_TEST

START_TEST(test_watchdog_other_pid)
{
	struct harness	 h;
	json_t		*r;
	char		*all;

	ck_assert_int_eq(harness_prepare(&h, conf_ab), 0);
	ck_assert_int_eq(harness_setenv(&h, "WATCHDOG_USEC", "200000"), 0);
	ck_assert_int_eq(harness_setenv(&h, "WATCHDOG_PID", "1"), 0);
	ck_assert_int_eq(harness_launch(&h), 0);
	/*
	 * warden's own clock runs 600 ms, six watchdog intervals; every
	 * datagram it sent before answering is queued by then.
	 */
	r = harness_call(&h, "wait", json_pack("{s:{s:s,s:s},s:i}", "condition",
	    "service", "a", "state", "failed", "timeout_ms", 600));
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(harness_error_code(r), -32003);
	json_decref(r);
	all = drain(h.notify_fd);
	ck_assert_msg(!has_line(all, "WATCHDOG=1"), "WATCHDOG=1 with WATCHDOG_PID "
	    "of another process:\n%s", all);
	free(all);
	stop(&h);
}
END_TEST

START_TEST(test_reload)
{
	struct harness	 h;
	json_t		*r;
	char		*msg, *v, *all;
	uint64_t	 usec, now;

	ck_assert_int_eq(harness_prepare(&h, conf_ab), 0);
	ck_assert_int_eq(harness_launch(&h), 0);

	/* config.reload: RELOADING=1 with the time, then READY=1. */
	ck_assert_int_eq(harness_write_config(&h, conf_ab2), 0);
	call_ok(&h, "config.reload", NULL);
	msg = wait_line(h.notify_fd, "RELOADING=1", NOTIFY_MS);
	v = value_of(msg, "MONOTONIC_USEC");
	ck_assert_msg(v != NULL, "RELOADING=1 without MONOTONIC_USEC: %s", msg);
	usec = strtoull(v, NULL, 10);
	now = util_now_us();
	ck_assert_msg(usec > 0 && usec <= now && now - usec < 60000000ULL,
	    "MONOTONIC_USEC=%s, now %" PRIu64, v, now);
	free(v);
	free(msg);
	free(wait_line(h.notify_fd, "READY=1", NOTIFY_MS));

	/* A dry run reloads nothing and says nothing. */
	call_ok(&h, "config.reload", json_pack("{s:b}", "dry_run", 1));
	all = drain(h.notify_fd);
	ck_assert_msg(!has_line(all, "RELOADING=1"), "dry run: %s", all);
	free(all);

	/* SIGHUP: the same. */
	ck_assert_int_eq(harness_signal(&h, SIGHUP), 0);
	free(wait_line(h.notify_fd, "RELOADING=1", NOTIFY_MS));
	free(wait_line(h.notify_fd, "READY=1", NOTIFY_MS));

	/* A bad file: READY=1 all the same, and the line says why. */
	ck_assert_int_eq(harness_write_config(&h, "{ \"supervisor\": 1 }\n"), 0);
	r = harness_call(&h, "config.reload", NULL);
	ck_assert_int_eq(harness_error_code(r), -32602);
	json_decref(r);
	free(wait_line(h.notify_fd, "RELOADING=1", NOTIFY_MS));
	msg = wait_line(h.notify_fd, "READY=1", NOTIFY_MS);
	v = value_of(msg, "STATUS");
	ck_assert_msg(v != NULL && strstr(v, "; last reload refused: ") != NULL,
	    "got %s", msg);
	free(v);
	free(msg);
	stop(&h);
}
END_TEST

START_TEST(test_stopping)
{
	struct harness	 h;
	pid_t		 a;
	char		*msg, *v;

	ck_assert_int_eq(harness_prepare(&h, conf_stubborn), 0);
	ck_assert_int_eq(harness_launch(&h), 0);
	a = harness_pid_of(&h, "a");
	ck_assert_int_gt(a, 0);
	call_ok(&h, "shutdown", NULL);
	/* STOPPING=1 as the shutdown begins, while "a" still holds it up. */
	msg = wait_line(h.notify_fd, "STOPPING=1", NOTIFY_MS);
	ck_assert(harness_pid_alive(a));
	ck_assert(harness_pid_alive(h.pid));
	v = value_of(msg, "STATUS");
	ck_assert_msg(v != NULL && strncmp(v, "stopping: ", 10) == 0, "got %s",
	    msg);
	free(v);
	free(msg);
	ck_assert_int_eq(kill(a, SIGKILL), 0);
	ck_assert_int_eq(harness_wait_exit(&h, HARNESS_STOP_TIMEOUT), 0);
	stop(&h);
}
END_TEST

START_TEST(test_stopping_sigterm_abstract)
{
	struct harness	 h;
	char		 name[108];
	int		 fd;

	/* warden's own NOTIFY_SOCKET may be abstract, as systemd's often is. */
	ck_assert_int_eq(harness_prepare(&h, conf_ab), 0);
	fd = bind_abstract("warden", name, sizeof(name));
	ck_assert_int_eq(harness_setenv(&h, "NOTIFY_SOCKET", name), 0);
	ck_assert_int_eq(harness_spawn(&h), 0);
	free(wait_line(fd, "READY=1", HARNESS_START_TIMEOUT));
	ck_assert_int_eq(harness_signal(&h, SIGTERM), 0);
	free(wait_line(fd, "STOPPING=1", NOTIFY_MS));
	ck_assert_int_eq(harness_wait_exit(&h, HARNESS_STOP_TIMEOUT), 0);
	close(fd);
	stop(&h);
}
END_TEST

START_TEST(test_journal_stream)
{
	struct harness	 h;
	char		*env, *log, *path;

	ck_assert_int_eq(harness_prepare(&h, conf_ab), 0);
	ck_assert_int_eq(harness_setenv(&h, "JOURNAL_STREAM", "1:2"), 0);
	ck_assert_int_eq(harness_launch(&h), 0);
	/* Workers' lines keep their service's name, at priority 6. */
	ck_assert_int_eq(harness_wait_log(&h, "\n<6>a: hello from a\n", NOTIFY_MS),
	    0);
	log = harness_log(&h);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(strncmp(log, "<", 1) == 0 && strstr(log, " warden: ") == NULL,
	    "lines with a time under journald:\n%s", log);
	free(log);
	path = harness_path(&h, "a.env");
	env = harness_wait_file(path, NULL, NOTIFY_MS);
	free(path);
	ck_assert_ptr_nonnull(env);
	ck_assert_msg(strstr(env, "JOURNAL_STREAM") == NULL, "worker env:\n%s",
	    env);
	free(env);
	stop(&h);
}
END_TEST

static Suite *
sdnotify_suite(void)
{
	Suite	*s = suite_create("sdnotify");
	TCase	*tu = tcase_create("unit");
	TCase	*tc = tcase_create("warden");

	tcase_add_test(tu, test_unit_abstract_and_path);
	tcase_add_test(tu, test_unit_watchdog_env);
	suite_add_tcase(s, tu);

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ready_status_on_kill);
	tcase_add_test(tc, test_watchdog);
	tcase_add_test(tc, test_watchdog_other_pid);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_stopping);
	tcase_add_test(tc, test_stopping_sigterm_abstract);
	tcase_add_test(tc, test_journal_stream);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(sdnotify_suite)
