/*
 * check_health_many.c: a thousand workers whose probes come due together
 * (a tcp probe each, to one server's port): warden keeps answering pings
 * promptly while their rounds run, and every one comes out healthy.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "healthtest.h"
#include "testlib.h"
#include "faultstest.h"
#include "util.h"
#include "suite.h"

/*
 * Sanitized, a thousand workers do not start within the harness's bound
 * on a small machine: a fifth of them still come due at once.
 */
#define MANY_PLAIN	1000
#define MANY_SANITIZED	200
#define PING_BOUND_MS	250	/* the slowest ping allowed meanwhile */

static int
many_count(void)
{
	return getenv("WARDEN_SANITIZED") != NULL ? MANY_SANITIZED : MANY_PLAIN;
}

static char *
many_conf(int port, int many)
{
	const char	**kids = xcalloc((size_t)many + 1, sizeof(*kids));
	char		*conf, *text;
	size_t		 i;

	kids[0] = cfg("{ 'name': 'srv', 'command': "
	    "['@BIN@/tests/probe-server', '%d', 'drop'] }", port);
	for (i = 1; i <= (size_t)many; i++)
		kids[i] = cfg("{ 'name': 'w%zu', 'command': ['@WORKER@'], "
		    "'health': { 'tcp': '127.0.0.1:%d', 'interval_ms': 1000, "
		    "'timeout_ms': 1000, 'failures': 3 } }", i, port);
	conf = ht_conf(kids, (size_t)many + 1);
	for (i = 0; i <= (size_t)many; i++)
		free((char *)kids[i]);
	free(kids);
	text = dq(conf);
	free(conf);
	return text;
}

/* pid's CPU time so far (user and system), in ms. */
static uint64_t
cpu_ms(pid_t pid)
{
	char		 path[64], *text, *p;
	unsigned long	 ut, st;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	text = harness_read_file(path);
	ck_assert_ptr_nonnull(text);
	/* After the command's closing parenthesis: fields 3 on. */
	p = strrchr(text, ')');
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
	    "%*u %*u %lu %lu", &ut, &st), 2);
	free(text);
	return (uint64_t)(ut + st) * 1000 / (uint64_t)sysconf(_SC_CLK_TCK);
}

/* One ping's time on c, ms. */
static uint64_t
ping_ms(struct harness_conn *c)
{
	uint64_t	t0 = util_now_ms();

	ft_conn_ping(c);
	return util_now_ms() - t0;
}

START_TEST(test_thousand)
{
	struct harness		 h;
	struct harness_conn	*c;
	uint64_t		 worst = 0, t, t0, t1, healthy, cpu0, cpu1;
	json_t			*r;
	char			*conf, name[16];
	int			 i, pings = 0, many = many_count();

	conf = many_conf(free_port(), many);
	start(&h, conf);
	c = harness_conn_open(&h);
	ck_assert_ptr_nonnull(c);
	t0 = util_now_ms();
	/* Each verdict awaited in turn, a ping between: their rounds run meanwhile. */
	for (i = 1; i <= many; i++) {
		snprintf(name, sizeof(name), "w%d", i);
		ht_wait_health(&h, name, "healthy");
		if ((t = ping_ms(c)) > worst)
			worst = t;
		pings++;
	}
	healthy = util_now_ms() - t0;
	/* And through more rounds of all of them, pinging. */
	t1 = util_now_ms();
	while (util_now_ms() - t1 < 3000) {
		if ((t = ping_ms(c)) > worst)
			worst = t;
		pings++;
	}
	/*
	 * Three rounds more, unpinged (a wait that runs out): what the
	 * probes alone cost warden.
	 */
	cpu0 = cpu_ms(h.pid);
	r = harness_call_timeout(&h, "wait", js("{'condition': {'service': "
	    "'w1', 'health': 'unhealthy'}, 'timeout_ms': 3000}"), 10000);
	ck_assert_int_eq(harness_error_code(r), -32003);
	json_decref(r);
	cpu1 = cpu_ms(h.pid);
	fprintf(stderr, "check_health_many: %d workers healthy after %llu ms; "
	    "slowest of %d pings %llu ms; warden's CPU for 3 rounds of all "
	    "probes %llu ms\n", many,
	    (unsigned long long)healthy, pings, (unsigned long long)worst,
	    (unsigned long long)(cpu1 - cpu0));
	ck_assert_msg(worst < PING_BOUND_MS, "a ping took %llu ms",
	    (unsigned long long)worst);
	for (i = 1; i <= many; i += 111) {
		snprintf(name, sizeof(name), "w%d", i);
		ck_assert_int_eq(field_of(&h, name, "restarts"), 0);
	}
	harness_conn_close(c);
	free(conf);
	stop(&h);
}
END_TEST

static Suite *
health_many_suite(void)
{
	Suite	*s = suite_create("health_many");
	TCase	*tc = tcase_create("health_many");

	tcase_set_timeout(tc, HT_CASE);
	tcase_add_test(tc, test_thousand);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(health_many_suite)
