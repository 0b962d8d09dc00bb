/*
 * check_observe.c: who reads what, without the daemon: reports read
 * strictly and kept per worker instance (src/core/observe.c), and what a
 * handle of libwarden sends (src/lib/libwarden-report.c): one datagram
 * per generation change, none while nothing changes, a fork's with its
 * own pid. check_observe_live.c has the daemon, its workers and the
 * barrier.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flags.h"
#include "libwarden-test.h"
#include "observe.h"
#include "tabletest.h"
#include "util.h"
#include "warden.h"
#include "suite.h"

#define T_WAIT_MS	5000	/* failure bound of one wait */

static struct flag_state obs_fl[] = {
	{ .name = (char *)"alpha" }, { .name = (char *)"beta" },
};
static const struct flags obs_fs = { .flag = obs_fl, .nflags = 2 };

/* --- reports read ---------------------------------------------------------- */

START_TEST(test_parse_good)
{
	struct observe_report	r;
	char			why[160];
	const char		msg[] = "G=7\nR=beta\nR=alpha\n";

	ck_assert_int_eq(observe_parse(msg, strlen(msg), 7, &obs_fs, &r, why,
	    sizeof(why)), 0);
	ck_assert(r.has_gen);
	ck_assert_uint_eq(r.gen, 7);
	ck_assert_uint_eq(r.nflags, 2);
	ck_assert_uint_eq(r.flag[0], 1);
	ck_assert_uint_eq(r.flag[1], 0);
	/* Names alone, and a generation behind the table's. */
	ck_assert_int_eq(observe_parse("R=alpha\n", 8, 7, &obs_fs, &r, why,
	    sizeof(why)), 0);
	ck_assert(!r.has_gen);
	ck_assert_int_eq(observe_parse("G=1\n", 4, 7, &obs_fs, &r, why,
	    sizeof(why)), 0);
}
END_TEST

/* Each is garbage, and why names it. */
static const struct {
	const char	*msg;
	size_t		 len;		/* 0: strlen */
	const char	*why;
} garbage[] = {
	{ "", 0, "0 bytes" },
	{ "G=8\n", 0, "ahead of the table's" },
	{ "G=7", 0, "without its newline" },
	{ "G=07\n", 0, "G= wants a decimal" },
	{ "G=-1\n", 0, "G= wants a decimal" },
	{ "G=\n", 0, "G= wants a decimal" },
	{ "G=99999999999999999999999\n", 0, "G= wants a decimal" },
	{ "G=1\nG=2\n", 0, "a second G=" },
	{ "R=gamma\n", 0, "no flag named 'gamma'" },
	{ "R=\n", 0, "R= wants a flag name" },
	{ "X=1\n", 0, "neither G= nor R=" },
	{ "\n", 0, "neither G= nor R=" },
	{ "G=1\0\n", 5, "a NUL byte" },
	{ "\xff\xfe\n", 0, "neither G= nor R=" },
};

START_TEST(test_parse_garbage)
{
	struct observe_report	r;
	char			why[160], big[OBSERVE_REPORT_MAX + 2];
	size_t			len;

	len = garbage[_i].len != 0 ? garbage[_i].len : strlen(garbage[_i].msg);
	ck_assert_msg(observe_parse(garbage[_i].msg, len, 7, &obs_fs, &r, why,
	    sizeof(why)) == -1, "'%s' accepted", garbage[_i].msg);
	ck_assert_msg(strstr(why, garbage[_i].why) != NULL, "'%s': %s, want "
	    "%s", garbage[_i].msg, why, garbage[_i].why);
	/* Over the size. */
	memset(big, 'R', sizeof(big));
	ck_assert_int_eq(observe_parse(big, sizeof(big), 7, &obs_fs, &r, why,
	    sizeof(why)), -1);
}
END_TEST

/* --- the record --------------------------------------------------------------- */

static pid_t obs_dead = 0;

static bool
obs_alive(pid_t pid, void *arg)
{
	(void)arg;
	return pid != obs_dead;
}

START_TEST(test_record)
{
	struct observe_record	rec;
	struct observe_report	r = { .has_gen = true, .gen = 3 };
	uint64_t		seen;
	pid_t			pid;
	int			i;

	observe_record_init(&rec);
	ck_assert(!observe_record_is_reader(&rec));
	ck_assert(!observe_record_observed(&rec, 1, obs_alive, NULL, &pid,
	    &seen));
	r.nflags = 1;
	r.flag[0] = 1;
	ck_assert_uint_eq(observe_record_note(&rec, 100, &r, &obs_fs, 1, 1), 0);
	ck_assert(observe_record_is_reader(&rec));
	ck_assert(observe_record_reads(&rec, "beta"));
	ck_assert(!observe_record_reads(&rec, "alpha"));
	ck_assert(observe_record_observed(&rec, 3, obs_alive, NULL, &pid,
	    &seen));
	ck_assert(!observe_record_observed(&rec, 4, obs_alive, NULL, &pid,
	    &seen));
	ck_assert_int_eq(pid, 100);
	ck_assert_uint_eq(seen, 3);
	/* A fork reports further: the worker observed it. */
	r.gen = 5;
	r.nflags = 0;
	ck_assert_uint_eq(observe_record_note(&rec, 101, &r, &obs_fs, 2, 2), 0);
	ck_assert(observe_record_observed(&rec, 5, obs_alive, NULL, &pid,
	    &seen));
	ck_assert_int_eq(pid, 101);
	/* ...until it is gone: then the main pid's is what counts. */
	obs_dead = 101;
	ck_assert(!observe_record_observed(&rec, 5, obs_alive, NULL, &pid,
	    &seen));
	ck_assert_int_eq(pid, 100);
	ck_assert_uint_eq(rec.nreaders, 1);
	/* A generation never goes back for a reader. */
	r.gen = 2;
	ck_assert_uint_eq(observe_record_note(&rec, 100, &r, &obs_fs, 3, 3), 3);
	ck_assert_uint_eq(rec.reader[0].gen, 3);
	/* Past OBSERVE_PIDS readers, the oldest gives way. */
	for (i = 0; i < OBSERVE_PIDS + 2; i++)
		(void)observe_record_note(&rec, 200 + i, &r, &obs_fs,
		    10 + (uint64_t)i, 10);
	ck_assert_uint_eq(rec.nreaders, OBSERVE_PIDS);
	ck_assert_uint_eq(rec.reports, 3 + OBSERVE_PIDS + 2);
	/* A new instance: nothing known of its reads. */
	observe_record_clear(&rec);
	ck_assert(!observe_record_is_reader(&rec));
	ck_assert(!observe_record_reads(&rec, "beta"));
	observe_record_free(&rec);
	obs_dead = 0;
}
END_TEST

/* The guard's scope: flags of the stages from + 1 .. to. */
START_TEST(test_reads_stages)
{
	static size_t		 s1[] = { 0 }, s2[] = { 1 };
	static size_t		*sf[] = { s1, s2 };
	static size_t		 sn[] = { 1, 1 };
	struct flags		 fs = obs_fs;
	struct observe_record	 rec;

	fs.stage_flags = sf;
	fs.stage_nflags = sn;
	fs.nstages = 2;
	observe_record_init(&rec);
	ck_assert(!observe_reads_stages(&rec.flags, &fs, 0, 2));
	(void)observe_record_add_flag(&rec, "beta");
	ck_assert(!observe_reads_stages(&rec.flags, &fs, 0, 1));
	ck_assert(observe_reads_stages(&rec.flags, &fs, 0, 2));
	ck_assert(observe_reads_stages(&rec.flags, &fs, 1, 2));
	ck_assert(!observe_reads_stages(&rec.flags, &fs, 2, 2));
	/* Out of range: nothing, and no read past the stages. */
	ck_assert(!observe_reads_stages(&rec.flags, &fs, 2, 9));
	observe_record_free(&rec);
}
END_TEST

START_TEST(test_gate)
{
	struct observe_gate	g = { 0, 0 };
	int			i;

	for (i = 0; i < 200; i++)
		ck_assert(!observe_gate_over(&g, 200, 1000, 5000));
	ck_assert(observe_gate_over(&g, 200, 1000, 5999));
	/* A new window. */
	ck_assert(!observe_gate_over(&g, 200, 1000, 6000));
}
END_TEST

/* --- what a handle sends ------------------------------------------------------------ */

/* An abstract datagram socket with SO_PASSCRED, as warden's; its address. */
static int
obs_sock(char *addr, size_t len)
{
	struct sockaddr_un	sun;
	int			fd, one = 1;

	snprintf(addr, len, "@warden-report-test.%ld", (long)getpid());
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, addr + 1, strlen(addr) - 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(addr))),
	    0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one,
	    sizeof(one)), 0);
	return fd;
}

/* One datagram if there is one now: its length (buf NUL-ended), else -1. */
static ssize_t
obs_recv(int fd, char *buf, size_t len, pid_t *pid)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct cmsghdr	*cm;
	struct ucred	 uc;
	struct iovec	 iov = { buf, len - 1 };
	struct msghdr	 mh;
	ssize_t		 n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	if ((n = recvmsg(fd, &mh, MSG_DONTWAIT)) == -1)
		return -1;
	buf[n] = '\0';
	*pid = 0;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
			*pid = uc.pid;
		}
	return n;
}

/*
 * Read flag through r until a datagram comes (the handle may hold it back
 * WT_REPORT_GAP_NS): poll(2) on the socket between reads, which is the
 * wait; T_WAIT_MS bounds a failure.
 */
static ssize_t
obs_read_until(warden_table *r, const char *flag, int fd, char *buf,
    size_t len, pid_t *pid)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	uint64_t	end = util_now_ms() + T_WAIT_MS;
	ssize_t		n;

	while (util_now_ms() < end) {
		(void)warden_enabled(r, flag, false);
		if ((n = obs_recv(fd, buf, len, pid)) >= 0)
			return n;
		(void)poll(&pfd, 1, 1);
	}
	return -1;
}

static const char *const obs_names[] = { "alpha", "beta" };

/* A table, a socket and a reader of the table reporting to it. */
static struct table *
obs_setup(const char *tag, int *fd, warden_table **r)
{
	struct table	*t;
	char		 name[128], addr[108];

	t = mk(tag, name, sizeof(name));
	publish_all(t, 0, 2, obs_names, 100);
	*fd = obs_sock(addr, sizeof(addr));
	ck_assert_int_eq(setenv("WARDEN_TABLE", name, 1), 0);
	ck_assert_int_eq(setenv("WARDEN_REPORT", addr, 1), 0);
	*r = warden_open(name);
	ck_assert_ptr_nonnull(*r);
	return t;
}

START_TEST(test_report_per_change)
{
	struct table	*t;
	warden_table	*r;
	char		 buf[4096];
	pid_t		 pid;
	uint64_t	 sends;
	int		 fd, i, change;

	t = obs_setup("rep", &fd, &r);
	ck_assert_int_ge(obs_read_until(r, "alpha", fd, buf, sizeof(buf), &pid),
	    0);
	ck_assert_msg(strcmp(buf, "G=1\nR=alpha\n") == 0, "first report: %s",
	    buf);
	ck_assert_int_eq(pid, getpid());
	/* A million reads, of a flag known and the stage: nothing more. */
	sends = warden_test_reports(r);
	for (i = 0; i < 1000000; i++) {
		(void)warden_enabled(r, "alpha", false);
		if (i % 1000 == 0)
			(void)warden_stage(r);
	}
	ck_assert_uint_eq(warden_test_reports(r), sends);
	ck_assert_int_eq(obs_recv(fd, buf, sizeof(buf), &pid), -1);
	/* Each change: one datagram, its generation, new names only. */
	for (change = 2; change <= 4; change++) {
		char	want[32];

		publish_all(t, 0, 2, obs_names, change % 2 ? 100 : 0);
		ck_assert_int_ge(obs_read_until(r, change == 3 ? "beta" :
		    "alpha", fd, buf, sizeof(buf), &pid), 0);
		snprintf(want, sizeof(want), "G=%d\n%s", change,
		    change == 3 ? "R=beta\n" : "");
		ck_assert_msg(strcmp(buf, want) == 0, "report %s, want %s",
		    buf, want);
		for (i = 0; i < 100000; i++) {
			(void)warden_enabled(r, "alpha", false);
			(void)warden_enabled(r, "beta", false);
		}
		ck_assert_uint_eq(warden_test_reports(r), sends +
		    (uint64_t)(change - 1));
		ck_assert_int_eq(obs_recv(fd, buf, sizeof(buf), &pid), -1);
	}
	warden_close(r);
	close(fd);
	table_close(t);
}
END_TEST

/*
 * A report held back (two changes within WT_REPORT_GAP_NS) goes from the
 * slow path when due; then reads are back on the fast path, not on the
 * slow one until the next look at the name.
 */
START_TEST(test_report_later)
{
	struct table	*t;
	warden_table	*r;
	char		 buf[4096];
	pid_t		 pid;
	uint64_t	 slow;
	int		 fd, i;

	t = obs_setup("later", &fd, &r);
	warden_test_set_retry(r, HOUR_NS);
	ck_assert_int_ge(obs_read_until(r, "alpha", fd, buf, sizeof(buf), &pid),
	    0);
	/* At once after the first: held back, sent at the next due read. */
	publish_all(t, 0, 2, obs_names, 0);
	(void)warden_enabled(r, "alpha", false);
	if (obs_recv(fd, buf, sizeof(buf), &pid) < 0)
		ck_assert_int_ge(obs_read_until(r, "alpha", fd, buf,
		    sizeof(buf), &pid), 0);
	ck_assert_msg(strcmp(buf, "G=2\n") == 0, "report: %s", buf);
	slow = warden_test_slow(r);
	for (i = 0; i < 1000000; i++)
		(void)warden_enabled(r, "alpha", false);
	ck_assert_msg(warden_test_slow(r) - slow <= 1, "%llu reads on the slow "
	    "path after the report went", (unsigned long long)
	    (warden_test_slow(r) - slow));
	warden_close(r);
	close(fd);
	table_close(t);
}
END_TEST

/* A fork that inherited the handle reports with its own pid. */
START_TEST(test_report_fork)
{
	struct table	*t;
	warden_table	*r;
	char		 buf[4096];
	pid_t		 pid, child;
	int		 fd, status, go[2];

	t = obs_setup("fork", &fd, &r);
	ck_assert_int_ge(obs_read_until(r, "alpha", fd, buf, sizeof(buf), &pid),
	    0);
	ck_assert_int_eq(pipe(go), 0);
	child = fork();
	ck_assert_int_ne(child, -1);
	if (child == 0) {
		char	c;

		/* After the change: read until the parent has the report. */
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		for (;;) {
			(void)warden_enabled(r, "alpha", false);
			(void)poll(NULL, 0, 1);
		}
	}
	publish_all(t, 0, 2, obs_names, 0);
	ck_assert_int_eq(write(go[1], "g", 1), 1);
	{
		struct pollfd	pfd = { fd, POLLIN, 0 };

		ck_assert_int_eq(poll(&pfd, 1, T_WAIT_MS), 1);
	}
	ck_assert_int_ge(obs_recv(fd, buf, sizeof(buf), &pid), 0);
	ck_assert_msg(strcmp(buf, "G=2\n") == 0, "report: %s", buf);
	ck_assert_int_eq(pid, child);
	kill(child, SIGKILL);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	warden_close(r);
	close(fd);
	table_close(t);
}
END_TEST

/* A handle of another table than the worker's own reports nothing. */
START_TEST(test_report_other_table)
{
	struct table	*t, *t2;
	warden_table	*r, *other;
	char		 buf[4096], name[128];
	pid_t		 pid;
	int		 fd, i;

	t = obs_setup("own", &fd, &r);
	t2 = mk("other", name, sizeof(name));
	publish_all(t2, 0, 2, obs_names, 100);
	other = warden_open(name);
	for (i = 0; i < 1000; i++)
		(void)warden_enabled(other, "alpha", false);
	ck_assert_uint_eq(warden_test_reports(other), 0);
	/* The socket got nothing: the own handle's first report is first. */
	ck_assert_int_ge(obs_read_until(r, "beta", fd, buf, sizeof(buf), &pid),
	    0);
	ck_assert_msg(strcmp(buf, "G=1\nR=beta\n") == 0, "report: %s", buf);
	warden_close(other);
	warden_close(r);
	close(fd);
	table_close(t2);
	table_close(t);
}
END_TEST

/*
 * A program that closed every descriptor and reused the handle's number
 * for a TCP connection: a datagram must never go into that stream (TCP's
 * sendto ignores the address). The handle falls silent instead.
 */
START_TEST(test_report_fd_reused)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	struct table		*t;
	warden_table		*r;
	char			 buf[4096];
	pid_t			 pid;
	uint64_t		 sends, end;
	int			 fd, lfd, cfd, afd, rfd;

	t = obs_setup("reuse", &fd, &r);
	ck_assert_int_ge(obs_read_until(r, "alpha", fd, buf, sizeof(buf), &pid),
	    0);
	rfd = warden_test_report_fd(r);
	ck_assert_int_ge(rfd, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(cfd, 0);
	ck_assert_int_eq(connect(cfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	afd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(afd, 0);
	/* The program's "close everything", then its connection there. */
	ck_assert_int_eq(dup2(cfd, rfd), rfd);
	close(cfd);
	sends = warden_test_reports(r);
	publish_all(t, 0, 2, obs_names, 0);
	/*
	 * Reads for three times the gap a handle leaves between reports:
	 * the stimulus under which the change's report would have gone.
	 */
	end = util_now_ms() + 30;
	while (util_now_ms() < end) {
		(void)warden_enabled(r, "alpha", false);
		(void)warden_enabled(r, "beta", false);
	}
	ck_assert_uint_eq(warden_test_reports(r), sends);
	ck_assert_int_eq(recv(afd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	/* Reads go on answering; closing leaves the program's socket alone. */
	assert_off(r, "alpha");
	warden_close(r);
	ck_assert_int_eq(send(rfd, "x", 1, MSG_NOSIGNAL), 1);
	ck_assert_int_eq(recv(afd, buf, sizeof(buf), 0), 1);
	close(rfd);
	close(afd);
	close(lfd);
	close(fd);
	table_close(t);
}
END_TEST

static Suite *
observe_suite(void)
{
	Suite	*s = suite_create("observe");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_parse_good);
	tcase_add_loop_test(tc, test_parse_garbage, 0,
	    (int)(sizeof(garbage) / sizeof(garbage[0])));
	tcase_add_test(tc, test_record);
	tcase_add_test(tc, test_reads_stages);
	tcase_add_test(tc, test_gate);
	suite_add_tcase(s, tc);
	tc = tcase_create("library");
	tcase_add_unchecked_fixture(tc, tabletest_setup, tabletest_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_report_per_change);
	tcase_add_test(tc, test_report_later);
	tcase_add_test(tc, test_report_fork);
	tcase_add_test(tc, test_report_other_table);
	tcase_add_test(tc, test_report_fd_reused);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(observe_suite)
