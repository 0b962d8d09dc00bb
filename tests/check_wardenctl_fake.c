/*
 * check_wardenctl_fake.c: wardenctl against a fake warden, which answers
 * as the new image of a reexec would, or not as a warden should at all,
 * and reports what it got: what reexec sends and makes of each answer,
 * and what the one connection module makes of answers that are not
 * answers.
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
 * How the fake answers the next request: reply's members with the
 * request's id, after delay_ms, then the lines after (if not NULL) and
 * the connection closed; or, with raw, that text as it is (whatever it
 * holds) and the connection closed.
 */
struct fake_answer {
	json_t		*reply;
	int		 delay_ms;
	const char	*after;
	const char	*raw;
};

/* The child's answer, a JSON-RPC one; 0 once sent, or the step failed. */
static int
fake_child_reply(int fd, const char *request, const struct fake_answer *a)
{
	json_t	*req, *ans;
	char	*text;

	if ((req = json_loads(request, 0, NULL)) == NULL ||
	    (ans = json_deep_copy(a->reply)) == NULL ||
	    json_object_set_new(ans, "jsonrpc", json_string("2.0")) == -1 ||
	    json_object_set(ans, "id", json_object_get(req, "id")) == -1 ||
	    (text = json_dumps(ans, JSON_COMPACT)) == NULL)
		return 13;
	if (a->delay_ms > 0)
		(void)poll(NULL, 0, a->delay_ms);
	if (util_write_all(fd, text, strlen(text)) == -1 ||
	    util_write_all(fd, "\n", 1) == -1)
		return 14;
	return 0;
}

/*
 * The child: takes one connection, reports the request line it reads and
 * answers it as a says. 0 once it has answered and wardenctl has gone,
 * or, with after or raw, once it has sent those and closed the
 * connection; otherwise the step that failed.
 */
static int
fake_child(int lfd, int report, const struct fake_answer *a)
{
	struct pollfd	 pfd = { .fd = lfd, .events = POLLIN };
	char		 buf[65536];
	size_t		 len;
	int		 fd, rc;

	if (poll(&pfd, 1, CALL_MS) != 1 ||
	    (fd = accept(lfd, NULL, NULL)) == -1)
		return 10;
	if (!fake_read_line(fd, buf, sizeof(buf), &len))
		return 11;
	if (util_write_all(report, buf, len) == -1)
		return 12;
	close(report);
	if (a->raw != NULL)
		return util_write_all(fd, a->raw, strlen(a->raw)) == -1 ?
		    13 : 0;
	if ((rc = fake_child_reply(fd, buf, a)) != 0)
		return rc;
	if (a->after != NULL)
		return util_write_all(fd, a->after, strlen(a->after)) == -1 ?
		    15 : 0;
	/* wardenctl closes the connection once it has its answer. */
	(void)fake_read_line(fd, buf, sizeof(buf), &len);
	return 0;
}

/* Serve the next request in a child, as a says. */
static void
fake_start(struct fake *f, const struct fake_answer *a)
{
	int	p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	f->pid = fork();
	ck_assert_int_ne(f->pid, -1);
	if (f->pid == 0) {
		close(p[0]);
		_exit(fake_child(f->lfd, p[1], a));
	}
	close(p[1]);
	f->rfd = p[0];
}

/*
 * Serve the next request: reply's members, with the request's id, after
 * delay_ms; then the lines after, if not NULL, and the connection closed.
 */
static void
fake_serve(struct fake *f, json_t *reply, int delay_ms, const char *after)
{
	fake_start(f, &(struct fake_answer){ .reply = reply,
	    .delay_ms = delay_ms, .after = after });
	json_decref(reply);
}

/* Serve the next request with text, then close the connection. */
static void
fake_serve_raw(struct fake *f, const char *text)
{
	fake_start(f, &(struct fake_answer){ .raw = text });
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
	return parse_output(buf, "the request");
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

/*
 * Every test has a harness's folder (no warden) and a fake warden
 * listening in it.
 */
static struct harness	fake_h;
static struct fake	fake_f;

static void
fake_setup(void)
{
	ck_assert_int_eq(harness_prepare(&fake_h, conf_ab), 0);
	fake_listen(&fake_f, &fake_h);
}

static void
fake_teardown(void)
{
	forget();
	fake_close(&fake_f);
	harness_cleanup(&fake_h);
}

/* wardenctl -S FAKE args... (NULL-ended), from the folder cwd. */
static int
reexec_from(const char *cwd, ...)
{
	const char	*argv[12], *arg;
	va_list		 ap;
	size_t		 n = 0;
	int		 here, rc;

	argv[n++] = "wardenctl";
	argv[n++] = "-S";
	argv[n++] = fake_f.path;
	va_start(ap, cwd);
	while ((arg = va_arg(ap, const char *)) != NULL &&
	    n < nitems(argv) - 1)
		argv[n++] = arg;
	va_end(ap);
	argv[n] = NULL;
	here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ne(here, -1);
	ck_assert_int_eq(chdir(cwd), 0);
	rc = ctl_run(&fake_h, argv);
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
	char		*dir, *file;
	size_t		 i;
	int		 rc;

	dir = harness_path(&fake_h, "x");
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	free(make_file(&fake_h, "x/plain", 0644));
	file = harness_path(&fake_h, "x/fifo");
	ck_assert_int_eq(mkfifo(file, 0755), 0);
	free(file);

	for (i = 0; i < nitems(cases); i++) {
		rc = reexec_from(fake_h.dir, "reexec", cases[i][0], NULL);
		CHECK_RC(rc, EXIT_USAGE, cases[i][0]);
		has(ctl_err, "wardenctl: reexec: ", cases[i][0]);
		has(ctl_err, cases[i][1], cases[i][0]);
		has(ctl_err, "usage: wardenctl reexec [BINARY]", cases[i][0]);
		ck_assert_str_eq(ctl_out, "");
	}
	rc = reexec_from(fake_h.dir, "reexec", "x/plain", "x/plain", NULL);
	CHECK_RC(rc, EXIT_USAGE, "reexec with two operands");
	has(ctl_err, "too many arguments", "reexec with two operands");
	ck_assert_msg(fake_untouched(&fake_f),
	    "a refused reexec reached warden");

	/* Help: in the list of commands, and its own. */
	rc = reexec_from(fake_h.dir, "help", NULL);
	CHECK_RC(rc, EXIT_OK, "help");
	has(ctl_out, "\n  reexec ", "help");
	rc = reexec_from(fake_h.dir, "reexec", "-h", NULL);
	CHECK_RC(rc, EXIT_OK, "reexec -h");
	has(ctl_out, "usage: wardenctl reexec [BINARY]", "reexec -h");
	has(ctl_out, "same pid", "reexec -h");
	rc = reexec_from(fake_h.dir, "help", "reexec", NULL);
	CHECK_RC(rc, EXIT_OK, "help reexec");
	has(ctl_out, "usage: wardenctl reexec [BINARY]", "help reexec");
	ck_assert_msg(fake_untouched(&fake_f), "help reached warden");
	free(dir);
}
END_TEST

/*
 * reexec arg, run from the folder cwd, is answered and sends warden the
 * binary want.
 */
static void
reexec_sends(const char *cwd, const char *arg, const char *want)
{
	json_t	*req;
	int	 rc;

	fake_serve(&fake_f, reexec_result(), 0, NULL);
	rc = reexec_from(cwd, "reexec", arg, NULL);
	CHECK_RC(rc, EXIT_OK, arg);
	req = fake_request(&fake_f);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(req,
	    "params"), "binary")), want);
	json_decref(req);
}

/*
 * A relative BINARY goes to warden absolute, from wardenctl's folder: its
 * folder resolved, its name kept (a symbolic link stays the link); none
 * goes as no params. The answer is printed as a line, or as it is with -j.
 */
START_TEST(test_reexec_sent)
{
	json_t		*req, *params, *v;
	char		*dir, *real, *want, *link;
	int		 rc;

	dir = harness_path(&fake_h, "x");
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	free(make_file(&fake_h, "x/warden-new", 0755));
	link = harness_path(&fake_h, "x/warden");
	ck_assert_int_eq(symlink("warden-new", link), 0);
	real = realpath(fake_h.dir, NULL);
	ck_assert_ptr_nonnull(real);

	xasprintf(&want, "%s/x/warden-new", real);
	reexec_sends(fake_h.dir, "x/warden-new", want);
	ck_assert_str_eq(ctl_out, "warden reexecuted: pid 1234, 0.2.0 -> 0.2.1, "
	    "1000 workers, 3 clients, 12.4ms\n");
	/* From below, through "..": the same file. */
	reexec_sends(dir, "../x/./warden-new", want);
	free(want);

	/* A link keeps its name: warden executes what it points to then. */
	xasprintf(&want, "%s/x/warden", real);
	reexec_sends(dir, "warden", want);
	free(want);

	/* An absolute one goes as it is. */
	reexec_sends("/", link, link);

	/* None: warden's own binary, no params; -j prints the result. */
	fake_serve(&fake_f, reexec_result(), 0, NULL);
	rc = reexec_from(fake_h.dir, "-j", "reexec", NULL);
	CHECK_RC(rc, EXIT_OK, "-j reexec");
	req = fake_request(&fake_f);
	params = json_object_get(req, "params");
	ck_assert_msg(params == NULL || (json_is_object(params) &&
	    json_object_get(params, "binary") == NULL),
	    "reexec without BINARY sent a binary");
	json_decref(req);
	v = parse_output(ctl_out, "-j reexec");
	ck_assert_int_eq(json_integer_value(json_object_get(v, "pid")), 1234);
	ck_assert_str_eq(json_string_value(json_object_get(v, "version")),
	    "0.2.1");
	ck_assert(json_real_value(json_object_get(v, "took_ms")) == 12.4);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "workers")),
	    1000);
	json_decref(v);

	/* One worker, one client: no plural. */
	fake_serve(&fake_f, json_pack("{s:{s:i,s:s,s:s,s:s,s:f,s:i,s:i}}",
	    "result", "pid", 7, "binary", "/w", "version_before", "1",
	    "version", "1", "took_ms", 0.5, "workers", 1, "clients", 1), 0,
	    NULL);
	rc = reexec_from(fake_h.dir, "reexec", NULL);
	CHECK_RC(rc, EXIT_OK, "reexec");
	json_decref(fake_request(&fake_f));
	ck_assert_str_eq(ctl_out, "warden reexecuted: pid 7, 1 -> 1, 1 worker, "
	    "1 client, 0.50ms\n");

	free(link);
	free(real);
	free(dir);
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
	json_t		*data;
	size_t		 i;
	int		 rc;

	for (i = 0; i < nitems(cases); i++) {
		data = json_pack("{s:s}", "kind", cases[i].kind);
		if (cases[i].reason != NULL)
			ck_assert_int_eq(json_object_set_new(data, "reason",
			    json_string(cases[i].reason)), 0);
		fake_serve(&fake_f, json_pack("{s:{s:i,s:s,s:o}}", "error",
		    "code", cases[i].code, "message", cases[i].message,
		    "data", data), 0, NULL);
		rc = reexec_from(fake_h.dir, "reexec", NULL);
		CHECK_RC(rc, EXIT_ERROR, cases[i].message);
		json_decref(fake_request(&fake_f));
		ck_assert_str_eq(ctl_err, cases[i].want);
		ck_assert_str_eq(ctl_out, "");
	}
}
END_TEST

/*
 * The new image answers after the check of the binary and the handover:
 * longer than a quick call may take, and wardenctl waits for it.
 */
START_TEST(test_reexec_slow)
{
	int		 rc;

	fake_serve(&fake_f, reexec_result(), 10500, NULL);
	rc = reexec_from(fake_h.dir, "reexec", NULL);
	CHECK_RC(rc, EXIT_OK, "reexec answered after 10.5 s");
	json_decref(fake_request(&fake_f));
	has(ctl_out, "warden reexecuted: pid 1234", "slow reexec");
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
	json_t		*req;
	int		 rc;

	fake_serve(&fake_f, json_pack("{s:{s:i}}", "result", "seq", 6), 0,
	    events);
	rc = reexec_from(fake_h.dir, "events", "warden.", NULL);
	CHECK_RC(rc, EXIT_OK, "events warden.");
	req = fake_served(&fake_f);
	ck_assert_str_eq(json_string_value(json_object_get(req, "method")),
	    "subscribe");
	json_decref(req);
	ck_assert_str_eq(ctl_out,
	    "7 1000.500 warden.reexec_failed /usr/bin/warden "
	    "reason=\"--handover-check: exit 1\"\n"
	    "8 2000.250 warden.reexecuted 0.1.0 -> 0.2.0 pid=812 "
	    "binary=/usr/bin/warden took_ms=12.4 workers=4 clients=2\n");
}
END_TEST

/* --- 13. the connection, against a fake warden --------------------------- */

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
		const char	*cmd, *text, *ctl_out, *ctl_err;
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
	json_t		*req;
	char		*want;
	size_t		 i;
	int		 rc;

	for (i = 0; i < nitems(cases); i++) {
		fake_serve_raw(&fake_f, cases[i].text);
		rc = reexec_from(fake_h.dir, cases[i].cmd, NULL);
		CHECK_RC(rc, cases[i].rc, cases[i].text);
		req = fake_served(&fake_f);
		ck_assert_int_eq(json_integer_value(json_object_get(req, "id")),
		    1);
		json_decref(req);
		ck_assert_msg(strcmp(ctl_out, cases[i].ctl_out) == 0,
		    "%s: stdout \"%s\", expected \"%s\"", cases[i].text, ctl_out,
		    cases[i].ctl_out);
		want = with_sock(cases[i].ctl_err, fake_f.path);
		ck_assert_msg(strcmp(ctl_err, want) == 0,
		    "%s: stderr \"%s\", expected \"%s\"", cases[i].text, ctl_err,
		    want);
		free(want);
	}
}
END_TEST

static Suite *
wardenctl_fake_suite(void)
{
	Suite	*s = suite_create("wardenctl_fake");
	TCase	*tc = tcase_create("wardenctl_fake");

	tcase_add_checked_fixture(tc, fake_setup, fake_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_reexec_refused);
	tcase_add_test(tc, test_reexec_sent);
	tcase_add_test(tc, test_reexec_errors);
	tcase_add_test(tc, test_reexec_slow);
	tcase_add_test(tc, test_reexec_events);
	tcase_add_test(tc, test_bad_answers);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(wardenctl_fake_suite)
