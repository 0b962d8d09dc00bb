/*
 * check_faults_flood.c: warden's memory and fds under load, with the real
 * daemon (SPEC 9): workers that flood their output with or without
 * newlines, and a long run of requests and short clients, must leave
 * warden's fds and memory where they were and warden responsive.
 *
 * JSON in the tests is written with ' for "; dq() turns it into JSON.
 */
#include <sys/inotify.h>
#include <sys/types.h>

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "util.h"
#include "faultstest.h"
#include "suite.h"

#define MB		(1024 * 1024)

/* Wait (inotify) until path is at least size bytes long. */
static void
wait_size(const char *path, off_t size, int timeout_ms)
{
	struct pollfd	pfd;
	uint64_t	deadline = util_now_ms() + (uint64_t)timeout_ms;
	char		buf[4096];
	int		ifd, r;

	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	ck_assert_int_ne(ifd, -1);
	ck_assert_int_ne(inotify_add_watch(ifd, path, IN_MODIFY), -1);
	while (file_size(path) < size) {
		uint64_t	now = util_now_ms();

		ck_assert_msg(now < deadline, "%s: not %lld bytes within %d ms "
		    "(%lld)", path, (long long)size, timeout_ms,
		    (long long)file_size(path));
		pfd.fd = ifd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, (int)(deadline - now));
		ck_assert_msg(r >= 0 || errno == EINTR, "poll: %s",
		    strerror(errno));
		while (read(ifd, buf, sizeof(buf)) > 0)
			;
	}
	close(ifd);
}

/* --- 3. output floods ---------------------------------------------------------- */

/*
 * f floods its stdout from the start. warden's memory must stay put while
 * the log grows by 16 MiB, and warden must stay responsive.
 */
static void
check_flood(const char *conf, const char *piece)
{
	struct harness	 h;
	json_t		*r;
	pid_t		 a0;
	off_t		 base;
	long		 rss1, rss2;
	uint64_t	 t0, took;

	start(&h, conf);
	a0 = pid_of(&h, "a");
	base = file_size(h.log);
	wait_size(h.log, base + 2 * MB, 10000);
	if (piece != NULL)
		ck_assert_msg(harness_wait_log(&h, piece, FT_WAIT) == 0,
		    "output not cut in pieces");
	rss1 = ft_rss_kb(h.pid);

	/* The loop is not held by the flood: a ping is answered meanwhile. */
	t0 = util_now_ms();
	r = harness_call_timeout(&h, "ping", NULL, 1000);
	took = util_now_ms() - t0;
	ck_assert_msg(r != NULL && strcmp(json_string_value(json_object_get(r,
	    "result")), "pong") == 0, "no pong within 1 s while flooded");
	json_decref(r);
	ck_assert_msg(took < 500, "ping took %llu ms while flooded",
	    (unsigned long long)took);

	wait_size(h.log, base + 18 * MB, 20000);
	rss2 = ft_rss_kb(h.pid);
	ck_assert_msg(rss2 - rss1 < 1024, "RSS grew from %ld to %ld kB while "
	    "the log grew by 16 MiB", rss1, rss2);
	ck_assert_msg(rss2 < 32 * 1024, "RSS %ld kB", rss2);

	/* And it can still be stopped, promptly. */
	t0 = util_now_ms();
	r = result(&h, "service.stop", js("{'service': 'f'}"));
	ck_assert_str_eq(json_string_value(json_object_get(r, "state")),
	    "stopped");
	json_decref(r);
	ck_assert_msg(util_now_ms() - t0 < 2000, "stopping f took %llu ms",
	    (unsigned long long)(util_now_ms() - t0));
	ck_assert_int_eq(pid_of(&h, "a"), a0);
	stop(&h);
}

START_TEST(test_flood_lines)
{
	check_flood("{ 'supervisor': { 'children': [\n"
	    "    { 'name': 'a', 'command': ['@WORKER@'] },\n"
	    "    { 'name': 'f', 'command': ['@WORKER@', '--flood'],\n"
	    "      'shutdown_ms': 1000 } ] } }", "warden: f: flood ");
}
END_TEST

/* One endless line: logged in pieces of 4096 bytes, never gathered whole. */
START_TEST(test_flood_one_line)
{
	char	piece[4200];

	snprintf(piece, sizeof(piece), "warden: f: ");
	memset(piece + strlen(piece), 'x', 4096);
	piece[strlen("warden: f: ") + 4096] = '\n';
	piece[strlen("warden: f: ") + 4097] = '\0';
	check_flood("{ 'supervisor': { 'children': [\n"
	    "    { 'name': 'a', 'command': ['@WORKER@'] },\n"
	    "    { 'name': 'f', 'command': ['/bin/sh', '-c',\n"
	    "      'exec tr -c x x < /dev/zero'], 'shutdown_ms': 1000 } ] } }",
	    piece);
}
END_TEST

/* --- 6. many requests leave no trace ------------------------------------------------ */

/* n pings on c, sent 500 at a time before reading their answers. */
static void
pings(struct harness_conn *c, int n)
{
	static const char	 line[] = "{\"jsonrpc\":\"2.0\",\"id\":1,"
				    "\"method\":\"ping\"}\n";
	char			*buf;
	json_t			*msg;
	int			 done, k, i;

	buf = xmalloc(500 * (sizeof(line) - 1));
	for (done = 0; done < n; done += k) {
		k = n - done < 500 ? n - done : 500;
		for (i = 0; i < k; i++)
			memcpy(buf + (size_t)i * (sizeof(line) - 1), line,
			    sizeof(line) - 1);
		ck_assert_int_eq(harness_conn_send_raw(c, buf,
		    (size_t)k * (sizeof(line) - 1)), 0);
		for (i = 0; i < k; i++) {
			msg = harness_read_line(c, HARNESS_CALL_TIMEOUT);
			ck_assert_msg(msg != NULL, "ping %d: no answer",
			    done + i);
			ck_assert_msg(json_is_string(json_object_get(msg,
			    "result")), "ping %d: %s", done + i, dump(msg));
			json_decref(msg);
		}
	}
	free(buf);
}

/* n short clients: connect, ping, leave (and warden has let go). */
static void
short_clients(struct harness *h, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		ft_ping_synced(h);
}

START_TEST(test_requests_flat)
{
	struct harness		 h;
	struct harness_conn	*c;
	long			 rss0, rss1;
	int			 fds0, fds1;

	start(&h, "{ 'supervisor': { 'children': [\n"
	    "    { 'name': 'a', 'command': ['@WORKER@'] } ] } }");
	c = harness_conn_open(&h);
	ck_assert_ptr_nonnull(c);
	/* Warm up: buffers and the allocator reach their working size. */
	pings(c, 2000);
	short_clients(&h, 200);
	fds0 = ft_fd_count(h.pid, NULL);
	rss0 = ft_rss_kb(h.pid);

	pings(c, 20000);
	short_clients(&h, 2000);

	fds1 = ft_fd_count(h.pid, NULL);
	rss1 = ft_rss_kb(h.pid);
	ck_assert_msg(fds1 == fds0, "fds: %d before, %d after", fds0, fds1);
	/*
	 * Under AddressSanitizer freed memory sits in a quarantine and RSS
	 * grows by design: only the plain build says anything about leaks
	 * through RSS (ASan's own leak check covers the other).
	 */
	if (getenv("WARDEN_SANITIZED") == NULL)
		ck_assert_msg(rss1 - rss0 < 1024, "RSS: %ld kB before, %ld kB after",
		    rss0, rss1);
	ft_conn_ping(c);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

static Suite *
faults_flood_suite(void)
{
	Suite	*s = suite_create("faults_flood");
	TCase	*tc = tcase_create("faults_flood");

	tcase_set_timeout(tc, FT_CASE);
	tcase_add_test(tc, test_flood_lines);
	tcase_add_test(tc, test_flood_one_line);
	tcase_add_test(tc, test_requests_flat);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(faults_flood_suite)
