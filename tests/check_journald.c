/*
 * check_journald.c: under journald, each worker line is a journal entry
 * of its own (SYSLOG_IDENTIFIER and WARDEN_SERVICE the service, PRIORITY
 * from a "<N>" prefix), read back with journalctl from a real
 * systemd-journald that the test starts in a namespace of its own; a
 * journald that stops reading costs lines, counted, never warden's loop.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

#define JD_BIN		"/lib/systemd/systemd-journald"
#define JD_WAIT		20000	/* failure bound of a wait on journald, ms */

struct jd {
	char	 ns[64];
	char	 socket[128];
	pid_t	 pid;
	pid_t	 reader;	/* journalctl -f */
	int	 out;		/* its output */
	char	*buf;
	size_t	 len;
};

/* What is missing to run a journald of our own, or NULL. */
static const char *
jd_missing(void)
{
	if (geteuid() != 0)
		return "root (systemd-journald binds its socket under /run)";
	if (access(JD_BIN, X_OK) == -1)
		return JD_BIN " (apt-get install systemd)";
	if (access("/usr/bin/journalctl", X_OK) == -1)
		return "journalctl (apt-get install systemd)";
	return NULL;
}

/* Wait for READY=1 from journald on our notify socket. */
static void
jd_wait_ready(int fd)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	uint64_t	 end = util_now_ms() + JD_WAIT;
	char		 buf[4096];
	ssize_t		 r;

	for (;;) {
		ck_assert_msg(util_now_ms() < end, "systemd-journald: no READY=1");
		if (poll(&pfd, 1, (int)(end - util_now_ms())) <= 0)
			continue;
		if ((r = recv(fd, buf, sizeof(buf) - 1, 0)) <= 0)
			continue;
		buf[r] = '\0';
		if (strstr(buf, "READY=1") != NULL)
			return;
	}
}

static void
jd_start(struct jd *j)
{
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	char			notify[128];
	int			fd;

	memset(j, 0, sizeof(*j));
	j->out = -1;
	snprintf(j->ns, sizeof(j->ns), "wardentest%ld", (long)getpid());
	snprintf(j->socket, sizeof(j->socket), "/run/systemd/journal.%s/socket",
	    j->ns);
	snprintf(notify, sizeof(notify), "/tmp/%s.notify", j->ns);
	(void)unlink(notify);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	memcpy(sun.sun_path, notify, strlen(notify));
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if ((j->pid = fork()) == 0) {
		setenv("NOTIFY_SOCKET", notify, 1);
		execl(JD_BIN, JD_BIN, j->ns, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_gt(j->pid, 0);
	jd_wait_ready(fd);
	close(fd);
	(void)unlink(notify);
}

/* journalctl -f over the namespace, every entry as one JSON line. */
static void
jd_follow(struct jd *j)
{
	int	p[2];
	char	ns[96];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	snprintf(ns, sizeof(ns), "--namespace=%s", j->ns);
	if ((j->reader = fork()) == 0) {
		dup2(p[1], 1);
		execl("/usr/bin/journalctl", "journalctl", ns, "-o", "json",
		    "-f", "-n", "all", "--no-pager", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	j->out = p[0];
}

/* The next entry journalctl prints; fails at the bound. */
static json_t *
jd_next(struct jd *j)
{
	struct pollfd	 pfd = { .fd = j->out, .events = POLLIN };
	uint64_t	 end = util_now_ms() + JD_WAIT;
	char		*nl;
	json_t		*e;
	ssize_t		 r;

	for (;;) {
		if (j->buf != NULL && (nl = memchr(j->buf, '\n', j->len)) != NULL) {
			*nl = '\0';
			e = json_loads(j->buf, 0, NULL);
			j->len -= (size_t)(nl + 1 - j->buf);
			memmove(j->buf, nl + 1, j->len);
			if (e != NULL)
				return e;
			continue;
		}
		ck_assert_msg(util_now_ms() < end, "journalctl: no entry in %d ms",
		    JD_WAIT);
		if (poll(&pfd, 1, (int)(end - util_now_ms())) <= 0)
			continue;
		j->buf = xreallocarray(j->buf, j->len + 65536, 1);
		r = read(j->out, j->buf + j->len, 65536);
		ck_assert_msg(r > 0, "journalctl ended");
		j->len += (size_t)r;
	}
}

/* The next entry of identifier with message. */
static json_t *
jd_entry(struct jd *j, const char *ident, const char *message)
{
	json_t	*e;

	for (;;) {
		e = jd_next(j);
		if (json_is_string(json_object_get(e, "SYSLOG_IDENTIFIER")) &&
		    strcmp(str(e, "SYSLOG_IDENTIFIER"), ident) == 0 &&
		    json_is_string(json_object_get(e, "MESSAGE")) &&
		    strcmp(str(e, "MESSAGE"), message) == 0)
			return e;
		json_decref(e);
	}
}

static void
jd_stop(struct jd *j)
{
	char	cmd[512];
	int	st;

	if (j->reader > 0) {
		kill(j->reader, SIGKILL);
		waitpid(j->reader, &st, 0);
	}
	if (j->out != -1)
		close(j->out);
	free(j->buf);
	if (j->pid > 0) {
		kill(j->pid, SIGCONT);
		kill(j->pid, SIGTERM);
		waitpid(j->pid, &st, 0);
	}
	/* Its socket folder and its journal files, wherever it kept them. */
	snprintf(cmd, sizeof(cmd), "rm -rf /run/systemd/journal.%s "
	    "/run/log/journal/*.%s /var/log/journal/*.%s", j->ns, j->ns, j->ns);
	(void)system(cmd);
}

/* warden as systemd would start it, with its journal socket ours. */
static void
jd_warden(struct harness *h, struct jd *j, const char *conf)
{
	prepare(h, conf);
	ck_assert_int_eq(harness_setenv(h, "JOURNAL_STREAM", "0:0"), 0);
	ck_assert_int_eq(harness_setenv(h, "WARDEN_JOURNAL_SOCKET", j->socket), 0);
	ck_assert_int_eq(harness_launch(h), 0);
}

START_TEST(test_entries)
{
	struct harness	 h;
	struct jd	 j;
	const char	*missing;
	json_t		*e;
	pid_t		 pid;

	if ((missing = jd_missing()) != NULL) {
		fprintf(stderr, "check_journald: not run: needs %s\n", missing);
		return;
	}
	jd_start(&j);
	jd_follow(&j);
	jd_warden(&h, &j, "{ 'supervisor': { 'children': ["
	    " { 'name': 'registry', 'command': ['/bin/sh', '-c', "
	    "'echo hello; echo \\\"<3>it failed\\\" >&2; exec sleep 1000'] } ] } }");
	pid = pid_of(&h, "registry");
	e = jd_entry(&j, "registry", "hello");
	ck_assert_str_eq(str(e, "WARDEN_SERVICE"), "registry");
	ck_assert_str_eq(str(e, "WARDEN_STREAM"), "stdout");
	ck_assert_str_eq(str(e, "PRIORITY"), "6");
	ck_assert_int_eq(atol(str(e, "SYSLOG_PID")), pid);
	/* Sent by warden: journald's own fields say so. */
	ck_assert_int_eq(atol(str(e, "_PID")), h.pid);
	json_decref(e);
	e = jd_entry(&j, "registry", "it failed");
	ck_assert_str_eq(str(e, "PRIORITY"), "3");
	ck_assert_str_eq(str(e, "WARDEN_STREAM"), "stderr");
	json_decref(e);
	/* Still kept for wardenctl logs. */
	e = result(&h, "service.logs", js("{'service': 'registry'}"));
	ck_assert_uint_eq(json_array_size(json_object_get(e, "lines")), 2);
	json_decref(e);
	finish(&h, 0);
	jd_stop(&j);
}
END_TEST

/*
 * A journald that stops reading (SIGSTOP): its socket fills, lines are
 * dropped and counted, warden answers throughout; once it reads again,
 * lines get through again.
 */
START_TEST(test_journald_stopped)
{
	struct harness		 h;
	struct jd		 j;
	const char		*missing;
	json_t			*s;
	int			 i;

	if ((missing = jd_missing()) != NULL) {
		fprintf(stderr, "check_journald: not run: needs %s\n", missing);
		return;
	}
	jd_start(&j);
	jd_follow(&j);
	ck_assert_int_eq(kill(j.pid, SIGSTOP), 0);
	jd_warden(&h, &j, "{ 'supervisor': { 'children': ["
	    " { 'name': 'yes', 'command': ['yes', 'spam'] } ] } }");
	for (i = 0; i < 200; i++)
		json_decref(result(&h, "ping", NULL));
	ck_assert_int_eq(harness_wait_log(&h, "lines lost: the journal did "
	    "not keep up", JD_WAIT), 0);
	s = service_of(&h, "yes");
	ck_assert_int_gt(num(s, "log_dropped"), 0);
	json_decref(s);
	json_decref(result(&h, "service.stop", js("{'service': 'yes'}")));
	ck_assert_int_eq(kill(j.pid, SIGCONT), 0);
	json_decref(jd_entry(&j, "yes", "spam"));
	finish(&h, 0);
	jd_stop(&j);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("journald");
	TCase	*tc = tcase_create("journald");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_entries);
	tcase_add_test(tc, test_journald_stopped);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
