/*
 * check_metrics_text.c: the Prometheus text writer (src/core/metrics.c)
 * and the causes restarts are counted under (src/core/downcause.c),
 * driven directly: families, labels and their escapes, numbers as the
 * format wants them, histograms, a buffer that grows.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "downcause.h"
#include "metrics.h"
#include "suite.h"
#include "util.h"

START_TEST(test_family_and_samples)
{
	struct metrics_buf	b;

	metrics_buf_init(&b);
	metrics_family(&b, "warden_x_total", METRICS_COUNTER, "Things.");
	metrics_sample(&b, "warden_x_total", NULL);
	metrics_value_u64(&b, 3);
	metrics_sample(&b, "warden_x_total", NULL);
	metrics_label(&b, "service", "web");
	metrics_label(&b, "reason", "crash");
	metrics_value_u64(&b, 18446744073709551615ULL);
	ck_assert_str_eq(b.s, "# HELP warden_x_total Things.\n"
	    "# TYPE warden_x_total counter\n"
	    "warden_x_total 3\n"
	    "warden_x_total{service=\"web\",reason=\"crash\"} 18446744073709551615\n");
	ck_assert_uint_eq(b.len, strlen(b.s));
	metrics_buf_free(&b);
}
END_TEST

/* A sample started as the one before: its name and first label copied. */
START_TEST(test_sample_again)
{
	struct metrics_buf	b;
	size_t			at, len;

	metrics_buf_init(&b);
	metrics_sample(&b, "s", NULL);
	metrics_value_u64(&b, 0);
	at = b.len;
	metrics_sample(&b, "warden_service_state", NULL);
	metrics_label(&b, "service", "a\"b");
	len = b.len - at;
	metrics_label(&b, "state", "running");
	metrics_value_u64(&b, 1);
	metrics_sample_again(&b, at, len);
	metrics_label(&b, "state", "failed");
	metrics_value_u64(&b, 0);
	ck_assert_str_eq(b.s, "s 0\n"
	    "warden_service_state{service=\"a\\\"b\",state=\"running\"} 1\n"
	    "warden_service_state{service=\"a\\\"b\",state=\"failed\"} 0\n");
	metrics_buf_free(&b);
}
END_TEST

/* Label values escape \, " and newline; HELP escapes \ and newline only. */
START_TEST(test_escapes)
{
	struct metrics_buf	b;

	metrics_buf_init(&b);
	metrics_family(&b, "g", METRICS_GAUGE, "a \\ \"b\"\nc");
	metrics_sample(&b, "g", NULL);
	metrics_label(&b, "l", "q\"b\\n\nx");
	metrics_value_i64(&b, -5);
	ck_assert_str_eq(b.s, "# HELP g a \\\\ \"b\"\\nc\n# TYPE g gauge\n"
	    "g{l=\"q\\\"b\\\\n\\nx\"} -5\n");
	metrics_buf_free(&b);
}
END_TEST

static const struct {
	double		 v;
	const char	*text;
} numbers[] = {
	{ 0, "0" }, { 1, "1" }, { -1, "-1" }, { 1e15, "1000000000000000" },
	{ 9007199254740992.0, "9007199254740992" }, { 1e300, "1e+300" },
	{ 0.5, "0.5" }, { 0.1, "0.1" }, { 0.0005, "0.0005" }, { 2.5, "2.5" },
	{ 1.0 / 3.0, "0.3333333333333333" }, { 0.1 + 0.2, "0.30000000000000004" },
	{ -0.25, "-0.25" },
};

START_TEST(test_numbers)
{
	char	buf[METRICS_NUM_MAX];

	ck_assert_str_eq(metrics_format(numbers[_i].v, buf), numbers[_i].text);
	/* Whatever is written reads back as the same double. */
	ck_assert(strtod(buf, NULL) == numbers[_i].v);
}
END_TEST

START_TEST(test_special_numbers)
{
	char			buf[METRICS_NUM_MAX];
	struct metrics_buf	b;

	ck_assert_str_eq(metrics_format(INFINITY, buf), "+Inf");
	ck_assert_str_eq(metrics_format(-INFINITY, buf), "-Inf");
	ck_assert_str_eq(metrics_format(NAN, buf), "NaN");
	ck_assert_str_eq(metrics_format(-0.0, buf), "0");
	metrics_buf_init(&b);
	metrics_sample(&b, "x", NULL);
	metrics_value(&b, 1.5);
	metrics_sample(&b, "y", NULL);
	metrics_value(&b, NAN);
	ck_assert_str_eq(b.s, "x 1.5\ny NaN\n");
	metrics_buf_free(&b);
}
END_TEST

START_TEST(test_histogram)
{
	static const double	 bounds[] = { 0.001, 0.01, 0.5 };
	static const char *const labels[] = { "service", "a\"b" };
	struct metrics_buckets	 bk;
	struct metrics_hist	 h;
	struct metrics_buf	 b;

	memset(&h, 0, sizeof(h));
	metrics_buckets_init(&bk, bounds, nitems(bounds));
	metrics_hist_observe(&h, &bk, 0.0005);
	metrics_hist_observe(&h, &bk, 0.001);	/* on a bound: that bucket */
	metrics_hist_observe(&h, &bk, 0.25);
	metrics_hist_observe(&h, &bk, 7);
	metrics_buf_init(&b);
	metrics_family(&b, "r_seconds", METRICS_HISTOGRAM, "Time.");
	metrics_histogram(&b, "r_seconds", labels, 1, &bk, &h);
	ck_assert_str_eq(b.s, "# HELP r_seconds Time.\n# TYPE r_seconds histogram\n"
	    "r_seconds_bucket{service=\"a\\\"b\",le=\"0.001\"} 2\n"
	    "r_seconds_bucket{service=\"a\\\"b\",le=\"0.01\"} 2\n"
	    "r_seconds_bucket{service=\"a\\\"b\",le=\"0.5\"} 3\n"
	    "r_seconds_bucket{service=\"a\\\"b\",le=\"+Inf\"} 4\n"
	    "r_seconds_sum{service=\"a\\\"b\"} 7.2515\n"
	    "r_seconds_count{service=\"a\\\"b\"} 4\n");
	metrics_buf_free(&b);
}
END_TEST

/* No labels at all, and bounds past the maximum left out. */
START_TEST(test_histogram_bare)
{
	double			bounds[METRICS_HIST_MAX + 4];
	struct metrics_buckets	bk;
	struct metrics_hist	h;
	struct metrics_buf	b;
	size_t			i, lines = 0;

	for (i = 0; i < nitems(bounds); i++)
		bounds[i] = (double)(i + 1);
	metrics_buckets_init(&bk, bounds, nitems(bounds));
	ck_assert_uint_eq(bk.n, METRICS_HIST_MAX);
	memset(&h, 0, sizeof(h));
	metrics_hist_observe(&h, &bk, 1000);
	metrics_buf_init(&b);
	metrics_histogram(&b, "h", NULL, 0, &bk, &h);
	for (i = 0; i < b.len; i++)
		lines += b.s[i] == '\n';
	ck_assert_uint_eq(lines, METRICS_HIST_MAX + 3);
	ck_assert_ptr_nonnull(strstr(b.s, "h_bucket{le=\"32\"} 0\n"
	    "h_bucket{le=\"+Inf\"} 1\nh_sum 1000\nh_count 1\n"));
	metrics_buf_free(&b);
}
END_TEST

/*
 * A histogram whose bucket lines make the buffer grow halfway: each line
 * is still whole (its first part is copied from where the buffer is now).
 */
START_TEST(test_histogram_grows)
{
	static const double	 bounds[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const char *const labels[] = { "service", "a-rather-long-name" };
	struct metrics_buckets	 bk;
	struct metrics_hist	 h;
	struct metrics_buf	 b, one;
	size_t			 fill;
	char			*pad;

	memset(&h, 0, sizeof(h));
	metrics_buckets_init(&bk, bounds, nitems(bounds));
	metrics_buf_init(&one);
	metrics_histogram(&one, "x", labels, 1, &bk, &h);
	for (fill = 65536 - 400; fill < 65536; fill += 7) {
		metrics_buf_init(&b);
		pad = xmalloc(fill + 1);
		memset(pad, '#', fill - 1);
		pad[fill - 1] = '\n';
		pad[fill] = '\0';
		metrics_family(&b, "p", METRICS_GAUGE, pad);
		metrics_histogram(&b, "x", labels, 1, &bk, &h);
		ck_assert_str_eq(b.s + b.len - one.len, one.s);
		metrics_buf_free(&b);
		free(pad);
	}
	metrics_buf_free(&one);
}
END_TEST

/* The buffer grows past its first size, and hands its text over whole. */
START_TEST(test_growth)
{
	struct metrics_buf	 b;
	char			*s;
	size_t			 len, i;

	metrics_buf_init(&b);
	for (i = 0; i < 20000; i++) {
		metrics_sample(&b, "warden_service_up", NULL);
		metrics_label(&b, "service", "worker-with-a-longish-name");
		metrics_value_u64(&b, i);
	}
	s = metrics_buf_take(&b, &len);
	ck_assert_uint_eq(len, strlen(s));
	ck_assert_ptr_null(b.s);
	ck_assert_ptr_nonnull(strstr(s, "\"} 19999\n"));
	free(s);
	s = metrics_buf_take(&b, &len);
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(len, 0);
	free(s);
}
END_TEST

START_TEST(test_type_names)
{
	ck_assert_str_eq(metrics_type_name(METRICS_COUNTER), "counter");
	ck_assert_str_eq(metrics_type_name(METRICS_GAUGE), "gauge");
	ck_assert_str_eq(metrics_type_name(METRICS_HISTOGRAM), "histogram");
}
END_TEST

static const struct {
	enum stop_reason why;
	bool		 abnormal, requested, start_failed;
	enum down_cause	 cause;
} causes[] = {
	{ STOP_NONE, true, false, false, CAUSE_CRASH },
	{ STOP_NONE, false, false, false, CAUSE_EXIT },
	{ STOP_NONE, true, true, false, CAUSE_OPERATOR },
	{ STOP_NONE, true, false, true, CAUSE_START_FAILED },
	{ STOP_READY_TIMEOUT, true, false, false, CAUSE_READY_TIMEOUT },
	{ STOP_UNHEALTHY, true, false, false, CAUSE_UNHEALTHY },
	{ STOP_UNHEALTHY, false, false, false, CAUSE_UNHEALTHY },
	{ STOP_WATCHDOG, true, false, false, CAUSE_WATCHDOG },
	{ STOP_OPERATOR, false, false, false, CAUSE_OPERATOR },
	{ STOP_RESTART, true, false, false, CAUSE_OPERATOR },
	{ STOP_RELOAD, false, false, false, CAUSE_OPERATOR },
	{ STOP_SHUTDOWN, false, false, false, CAUSE_OPERATOR },
	{ STOP_SUPERVISOR, false, false, false, CAUSE_SUPERVISOR },
	{ STOP_FAILING, true, false, false, CAUSE_SUPERVISOR },
};

START_TEST(test_causes)
{
	ck_assert_int_eq(downcause_of(causes[_i].why, causes[_i].abnormal,
	    causes[_i].requested, causes[_i].start_failed), causes[_i].cause);
}
END_TEST

START_TEST(test_cause_names)
{
	static const char *const want[CAUSE_N] = { "none", "crash", "exit",
	    "ready_timeout", "unhealthy", "watchdog", "operator", "supervisor",
	    "start_failed" };
	int	c;

	for (c = 0; c < CAUSE_N; c++)
		ck_assert_str_eq(downcause_name((enum down_cause)c), want[c]);
	ck_assert_str_eq(downcause_name((enum down_cause)CAUSE_N), "none");
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("metrics_text");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_family_and_samples);
	tcase_add_test(tc, test_escapes);
	tcase_add_test(tc, test_sample_again);
	tcase_add_loop_test(tc, test_numbers, 0, nitems(numbers));
	tcase_add_test(tc, test_special_numbers);
	tcase_add_test(tc, test_histogram);
	tcase_add_test(tc, test_histogram_bare);
	tcase_add_test(tc, test_growth);
	tcase_add_test(tc, test_histogram_grows);
	tcase_add_test(tc, test_type_names);
	tcase_add_loop_test(tc, test_causes, 0, nitems(causes));
	tcase_add_test(tc, test_cause_names);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
