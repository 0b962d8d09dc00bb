/*
 * check_health_core.c: the pure part of liveness probes (src/core/
 * health.c): the schedule (first round, steady rounds, late rounds not
 * caught up, the spread), the verdicts (failures in a row, a success
 * resetting them, the start period and its early end, a new instance
 * starting afresh, a reload's reschedule), and the parsers of targets
 * and of HTTP status lines, fed garbage.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "health.h"
#include "util.h"
#include "suite.h"

static struct health_conf
conf_of(int interval, int failures, int start_period)
{
	struct health_conf	hc;

	memset(&hc, 0, sizeof(hc));
	hc.check = HEALTH_TCP;
	hc.interval_ms = interval;
	hc.timeout_ms = interval / 2;
	hc.failures = failures;
	hc.start_period_ms = start_period;
	return hc;
}

START_TEST(test_schedule)
{
	struct health_conf	hc = conf_of(1000, 3, 0);
	struct health_state	st;

	health_begin(&st, &hc, 40, 5000);
	ck_assert_uint_eq(st.next_at, 5000 + 1000 - 40);
	ck_assert_int_eq(st.verdict, HEALTH_STARTING);
	ck_assert_uint_eq(st.last_at, 0);
	/* Each round an interval after the last was due, whatever it took. */
	ck_assert_int_eq(health_result(&st, &hc, true, 5960, 6300), HEALTH_OK);
	ck_assert_uint_eq(st.next_at, 6960);
	ck_assert_uint_eq(st.last_at, 6300);
	ck_assert_int_eq(health_result(&st, &hc, true, 6961, 6962), HEALTH_OK);
	ck_assert_uint_eq(st.next_at, 7960);
	/* A round run late (a stalled machine) is not caught up in a burst. */
	ck_assert_int_eq(health_result(&st, &hc, true, 20000, 20001),
	    HEALTH_OK);
	ck_assert_uint_eq(st.next_at, 21001);
}
END_TEST

START_TEST(test_offset)
{
	char		name[32];
	uint32_t	o, seen_low = 0, seen_high = 0;
	int		i;

	/* Stable, and within a tenth of the interval. */
	ck_assert_uint_eq(health_offset("web", 10000),
	    health_offset("web", 10000));
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "w%d", i);
		o = health_offset(name, 10000);
		ck_assert_uint_le(o, 1000);
		if (o < 500)
			seen_low++;
		else
			seen_high++;
	}
	/* Spread: a thousand services are not all due at once. */
	ck_assert_uint_gt(seen_low, 300);
	ck_assert_uint_gt(seen_high, 300);
	ck_assert_uint_le(health_offset("x", 100), 10);
}
END_TEST

/* A probe begun at began, ended at now: its outcome, the verdict after. */
struct round {
	bool			 ok;
	uint64_t		 began, now;
	enum health_outcome	 want;
	enum health_verdict	 verdict;
};

#define ROUNDS(st, hc, r)	play((st), (hc), (r), nitems(r))

static void
play(struct health_state *st, const struct health_conf *hc,
    const struct round *r, size_t n)
{
	enum health_outcome	o;
	size_t			i;

	for (i = 0; i < n; i++) {
		o = health_result(st, hc, r[i].ok, r[i].began, r[i].now);
		ck_assert_msg(o == r[i].want && st->verdict == r[i].verdict,
		    "round %zu: outcome %d (want %d), verdict %d (want %d)", i,
		    o, r[i].want, st->verdict, r[i].verdict);
	}
}

START_TEST(test_failures_in_a_row)
{
	static const struct round	 rounds[] = {
		{ false, 1000, 1001, HEALTH_FAILED, HEALTH_STARTING },
		{ false, 2000, 2001, HEALTH_FAILED, HEALTH_STARTING },
		/* A success resets the count. */
		{ true, 3000, 3001, HEALTH_OK, HEALTH_HEALTHY },
		/* Healthy until judged otherwise. */
		{ false, 4000, 4001, HEALTH_FAILED, HEALTH_HEALTHY },
		{ false, 5000, 5001, HEALTH_FAILED, HEALTH_HEALTHY },
		{ false, 6000, 6001, HEALTH_NOW_UNHEALTHY, HEALTH_UNHEALTHY },
		/* Said once: what follows while it stops is no new verdict. */
		{ false, 7000, 7001, HEALTH_FAILED, HEALTH_UNHEALTHY },
	};
	struct health_conf		 hc = conf_of(1000, 3, 0);
	struct health_state		 st;

	health_begin(&st, &hc, 0, 0);
	ROUNDS(&st, &hc, rounds);
	ck_assert_uint_eq(st.consecutive, 3);
	/* A new instance starts afresh. */
	health_begin(&st, &hc, 0, 8000);
	ck_assert_int_eq(st.verdict, HEALTH_STARTING);
	ck_assert_uint_eq(st.consecutive, 0);
}
END_TEST

START_TEST(test_one_failure)
{
	static const struct round	 rounds[] = {
		{ false, 100, 150, HEALTH_NOW_UNHEALTHY, HEALTH_UNHEALTHY },
	};
	struct health_conf		 hc = conf_of(100, 1, 0);
	struct health_state		 st;

	health_begin(&st, &hc, 0, 0);
	ROUNDS(&st, &hc, rounds);
}
END_TEST

START_TEST(test_start_period)
{
	static const struct round	 rounds[] = {
		/* Failures begun inside the start period do not count ... */
		{ false, 11000, 11001, HEALTH_FAILED_EARLY, HEALTH_STARTING },
		{ false, 12000, 12001, HEALTH_FAILED_EARLY, HEALTH_STARTING },
		{ false, 13499, 13999, HEALTH_FAILED_EARLY, HEALTH_STARTING },
		/* ... those after it do. */
		{ false, 13500, 13501, HEALTH_FAILED, HEALTH_STARTING },
		{ false, 14500, 14501, HEALTH_NOW_UNHEALTHY, HEALTH_UNHEALTHY },
	};
	struct health_conf		 hc = conf_of(1000, 2, 3500);
	struct health_state		 st;

	health_begin(&st, &hc, 0, 10000);
	ROUNDS(&st, &hc, rounds);
}
END_TEST

START_TEST(test_start_period_ended_early)
{
	static const struct round	 rounds[] = {
		{ true, 1000, 1001, HEALTH_OK, HEALTH_HEALTHY },
		/* A success ended the start period: the next failure counts. */
		{ false, 2000, 2001, HEALTH_NOW_UNHEALTHY, HEALTH_UNHEALTHY },
	};
	struct health_conf		 hc = conf_of(1000, 1, 60000);
	struct health_state		 st;

	health_begin(&st, &hc, 0, 0);
	ROUNDS(&st, &hc, rounds);
}
END_TEST

START_TEST(test_reschedule)
{
	static const struct round	 before[] = {
		{ false, 60000, 60001, HEALTH_FAILED, HEALTH_STARTING },
		{ false, 120000, 120001, HEALTH_FAILED, HEALTH_STARTING },
		{ false, 180000, 180001, HEALTH_FAILED, HEALTH_STARTING },
	}, after[] = {
		{ false, 201000, 201001, HEALTH_NOW_UNHEALTHY, HEALTH_UNHEALTHY },
	};
	struct health_conf		 hc = conf_of(60000, 5, 0), shorter;
	struct health_state		 st;

	health_begin(&st, &hc, 0, 0);
	ROUNDS(&st, &hc, before);
	/* A reload: a shorter interval is taken up at once, ... */
	shorter = conf_of(1000, 2, 0);
	health_reschedule(&st, &shorter, 200000);
	ck_assert_uint_eq(st.next_at, 201000);
	/* ... and fewer failures allowed leave one more to go. */
	ck_assert_uint_eq(st.consecutive, 1);
	ROUNDS(&st, &shorter, after);
	/* A longer interval waits for the round already due. */
	health_begin(&st, &shorter, 0, 0);
	health_reschedule(&st, &hc, 10);
	ck_assert_uint_eq(st.next_at, 1000);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(health_verdict_name(HEALTH_STARTING), "starting");
	ck_assert_str_eq(health_verdict_name(HEALTH_HEALTHY), "healthy");
	ck_assert_str_eq(health_verdict_name(HEALTH_UNHEALTHY), "unhealthy");
	ck_assert_int_eq(health_verdict_parse("healthy"), HEALTH_HEALTHY);
	ck_assert_int_eq(health_verdict_parse("starting"), HEALTH_STARTING);
	ck_assert_int_eq(health_verdict_parse("unhealthy"), HEALTH_UNHEALTHY);
	ck_assert_int_eq(health_verdict_parse("Healthy"), -1);
	ck_assert_int_eq(health_verdict_parse(""), -1);
	ck_assert_str_eq(health_check_name(HEALTH_EXEC), "exec");
	ck_assert_str_eq(health_check_name(HEALTH_TCP), "tcp");
	ck_assert_str_eq(health_check_name(HEALTH_HTTP), "http");
}
END_TEST

/* --- targets ----------------------------------------------------------------- */

static const struct {
	const char	*s;
	const char	*host;		/* NULL: refused */
	int		 port;
} hostports[] = {
	{ "127.0.0.1:80", "127.0.0.1", 80 },
	{ "localhost:1", "127.0.0.1", 1 },
	{ "[::1]:65535", "::1", 65535 },
	{ "[fe80::1:2]:8080", "fe80::1:2", 8080 },
	{ "0.0.0.0:9", "0.0.0.0", 9 },
	{ "", NULL, 0 },
	{ ":", NULL, 0 },
	{ "127.0.0.1", NULL, 0 },
	{ "127.0.0.1:", NULL, 0 },
	{ "127.0.0.1:0", NULL, 0 },
	{ "127.0.0.1:65536", NULL, 0 },
	{ "127.0.0.1:123456", NULL, 0 },
	{ "127.0.0.1:-1", NULL, 0 },
	{ "127.0.0.1:8a", NULL, 0 },
	{ "127.0.0.1: 80", NULL, 0 },
	{ "127.1:80", NULL, 0 },
	{ "256.0.0.1:80", NULL, 0 },
	{ "example.com:80", NULL, 0 },
	{ "LOCALHOST:80", NULL, 0 },
	{ "::1:80", NULL, 0 },
	{ "[::1]", NULL, 0 },
	{ "[::1:80", NULL, 0 },
	{ "[]:80", NULL, 0 },
	{ "[localhost]:80", NULL, 0 },
	{ "[127.0.0.1]:80", NULL, 0 },
	{ "[::1]x:80", NULL, 0 },
	{ "[1111:2222:3333:4444:5555:6666:7777:8888:9999]:80", NULL, 0 },
	{ "\xff\xfe:80", NULL, 0 },
};

START_TEST(test_hostport)
{
	char		 host[HEALTH_HOST_MAX];
	const char	*why = NULL;
	int		 port = -1, rv;

	rv = health_parse_hostport(hostports[_i].s, host, &port, &why);
	if (hostports[_i].host == NULL) {
		ck_assert_msg(rv == -1, "'%s' accepted", hostports[_i].s);
		ck_assert_ptr_nonnull(why);
		return;
	}
	ck_assert_msg(rv == 0, "'%s': %s", hostports[_i].s, why);
	ck_assert_str_eq(host, hostports[_i].host);
	ck_assert_int_eq(port, hostports[_i].port);
}
END_TEST

static const struct {
	const char	*s;
	const char	*host;		/* NULL: refused */
	int		 port;
	const char	*path;
} urls[] = {
	{ "http://127.0.0.1:80", "127.0.0.1", 80, "/" },
	{ "http://127.0.0.1:80/", "127.0.0.1", 80, "/" },
	{ "http://localhost:8080/healthz", "127.0.0.1", 8080, "/healthz" },
	{ "http://[::1]:81/a/b?c=d&e", "::1", 81, "/a/b?c=d&e" },
	{ "https://127.0.0.1:443/", NULL, 0, NULL },
	{ "HTTP://127.0.0.1:80/", NULL, 0, NULL },
	{ "http:/127.0.0.1:80/", NULL, 0, NULL },
	{ "http://", NULL, 0, NULL },
	{ "http:///", NULL, 0, NULL },
	{ "http://127.0.0.1/", NULL, 0, NULL },
	{ "http://user:pw@127.0.0.1:80/", NULL, 0, NULL },
	{ "http://127.0.0.1:80/a b", NULL, 0, NULL },
	{ "http://127.0.0.1:80/a\r\nHost: x", NULL, 0, NULL },
	{ "http://127.0.0.1:80/\x7f", NULL, 0, NULL },
	{ "http://127.0.0.1:80/\xc3\xa9", NULL, 0, NULL },
	{ "127.0.0.1:80", NULL, 0, NULL },
	{ "", NULL, 0, NULL },
};

START_TEST(test_url)
{
	char		 host[HEALTH_HOST_MAX], *path = NULL;
	const char	*why = NULL;
	int		 port = -1, rv;

	rv = health_parse_url(urls[_i].s, host, &port, &path, &why);
	if (urls[_i].host == NULL) {
		ck_assert_msg(rv == -1, "'%s' accepted", urls[_i].s);
		ck_assert_ptr_nonnull(why);
		ck_assert_ptr_null(path);
		return;
	}
	ck_assert_msg(rv == 0, "'%s': %s", urls[_i].s, why);
	ck_assert_str_eq(host, urls[_i].host);
	ck_assert_int_eq(port, urls[_i].port);
	ck_assert_str_eq(path, urls[_i].path);
	free(path);
}
END_TEST

START_TEST(test_url_long_path)
{
	char		*s, *long_path, host[HEALTH_HOST_MAX], *path = NULL;
	const char	*why;
	int		 port;

	long_path = xcalloc(1, HEALTH_PATH_MAX + 2);
	memset(long_path, 'a', HEALTH_PATH_MAX);
	long_path[0] = '/';
	xasprintf(&s, "http://127.0.0.1:1%s", long_path);
	ck_assert_int_eq(health_parse_url(s, host, &port, &path, &why), 0);
	free(path);
	free(s);
	long_path[HEALTH_PATH_MAX] = 'a';
	xasprintf(&s, "http://127.0.0.1:1%s", long_path);
	ck_assert_int_eq(health_parse_url(s, host, &port, &path, &why), -1);
	free(s);
	free(long_path);
}
END_TEST

/* --- HTTP status lines --------------------------------------------------------- */

static const struct {
	const char	*s;
	int		 rv;
	int		 code;
} statuses[] = {
	{ "HTTP/1.0 200 OK\r\n", 1, 200 },
	{ "HTTP/1.1 204 No Content\r\n\r\n", 1, 204 },
	{ "HTTP/1.1 301\r\n", 1, 301 },
	{ "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n", 1, 500 },
	{ "HTTP/1.0 404 Not Found\n", 1, 404 },
	{ "HTTP/1.1 200\n", 1, 200 },
	{ "", 0, 0 },
	{ "H", 0, 0 },
	{ "HTTP/1.1 2", 0, 0 },
	{ "HTTP/1.1 200 OK", 0, 0 },
	{ "X", -1, 0 },
	{ "hello world\n", -1, 0 },
	{ "http/1.1 200 OK\r\n", -1, 0 },
	{ "HTTP/2 200\r\n", -1, 0 },
	{ "HTTP/1.1 20\r\n", -1, 0 },
	{ "HTTP/1.1 2000\r\n", -1, 0 },
	{ "HTTP/1.1 abc\r\n", -1, 0 },
	{ "HTTP/1.1  200\r\n", -1, 0 },
	{ "HTTP/1.1 099\r\n", -1, 0 },
	{ "HTTP/1.x 200\r\n", -1, 0 },
	{ "HTTP/1.1 200OK\r\n", -1, 0 },
	{ "\r\n", -1, 0 },
	{ "\0\0\0\0", -1, 0 },
	{ "SSH-2.0-OpenSSH_9.6\r\n", -1, 0 },
};

START_TEST(test_http_status)
{
	const char	*s = statuses[_i].s;
	size_t		 len = strlen(s);
	int		 code = -1, rv;

	if (s[0] == '\0' && _i > 6)
		len = 4;	/* the NULs of "\0\0\0\0" */
	rv = health_http_status(s, len, &code);
	ck_assert_msg(rv == statuses[_i].rv, "'%s': %d, expected %d", s, rv,
	    statuses[_i].rv);
	if (rv == 1)
		ck_assert_int_eq(code, statuses[_i].code);
}
END_TEST

/* No status line in the first KiB: garbage, however polite. */
START_TEST(test_http_status_bounded)
{
	char	buf[HEALTH_HTTP_HEAD_MAX + 16];
	int	code;

	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "HTTP/1.1 200 ", 13);
	ck_assert_int_eq(health_http_status(buf, HEALTH_HTTP_HEAD_MAX - 1,
	    &code), 0);
	ck_assert_int_eq(health_http_status(buf, HEALTH_HTTP_HEAD_MAX, &code),
	    -1);
	buf[HEALTH_HTTP_HEAD_MAX + 8] = '\n';
	ck_assert_int_eq(health_http_status(buf, sizeof(buf), &code), -1);
	/* Random bytes never crash it, and are never taken for an answer. */
	srand(7);
	for (int i = 0; i < 10000; i++) {
		size_t	j, n = (size_t)rand() % sizeof(buf);

		for (j = 0; j < n; j++)
			buf[j] = (char)(rand() & 0xff);
		ck_assert_int_ne(health_http_status(buf, n, &code), 1);
	}
}
END_TEST

static Suite *
health_core_suite(void)
{
	Suite	*s = suite_create("health_core");
	TCase	*tc = tcase_create("health_core");

	tcase_add_test(tc, test_schedule);
	tcase_add_test(tc, test_offset);
	tcase_add_test(tc, test_failures_in_a_row);
	tcase_add_test(tc, test_one_failure);
	tcase_add_test(tc, test_start_period);
	tcase_add_test(tc, test_start_period_ended_early);
	tcase_add_test(tc, test_reschedule);
	tcase_add_test(tc, test_names);
	tcase_add_loop_test(tc, test_hostport, 0, (int)nitems(hostports));
	tcase_add_loop_test(tc, test_url, 0, (int)nitems(urls));
	tcase_add_test(tc, test_url_long_path);
	tcase_add_loop_test(tc, test_http_status, 0, (int)nitems(statuses));
	tcase_add_test(tc, test_http_status_bounded);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(health_core_suite)
