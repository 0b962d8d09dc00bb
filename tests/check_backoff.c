/*
 * check_backoff.c: the pure decisions of supervision about time
 * (src/core/restart.c): backoff delays and their jitter, the safe and
 * explicit regimes, and which failed starts are the service's fault and
 * which warden's. See check_restart.c.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "restart.h"
#include "util.h"
#include "restarttest.h"
#include "suite.h"

/* The largest r below 1 the tests use: the top of the jitter range. */
#define R_TOP	0.999999

/* --- backoff -------------------------------------------------------------- */

START_TEST(test_backoff_sequence)
{
	static const uint32_t	 want[] = { 100, 200, 400, 800, 1000, 1000 };
	struct backoff_conf	 b = { 100, 1000, 2.0, 0.0, 10000 };
	unsigned		 n;

	for (n = 1; n <= nitems(want); n++)
		ck_assert_msg(backoff_delay_ms(&b, n, 0.5) == want[n - 1],
		    "n=%u: %u, expected %u", n,
		    (unsigned)backoff_delay_ms(&b, n, 0.5), (unsigned)want[n - 1]);
	/* Without jitter r does not matter. */
	for (n = 1; n <= nitems(want); n++) {
		ck_assert_uint_eq(backoff_delay_ms(&b, n, 0.0), want[n - 1]);
		ck_assert_uint_eq(backoff_delay_ms(&b, n, R_TOP), want[n - 1]);
	}
	/* n = 0 is taken as the first restart. */
	ck_assert_uint_eq(backoff_delay_ms(&b, 0, 0.5), 100);
	/* Far past max_ms, with the power finite or not. */
	ck_assert_uint_eq(backoff_delay_ms(&b, 100, 0.5), 1000);
	ck_assert_uint_eq(backoff_delay_ms(&b, 1000, 0.5), 1000);
	ck_assert_uint_eq(backoff_delay_ms(&b, 5000, 0.5), 1000);
	ck_assert_uint_eq(backoff_delay_ms(&b, UINT_MAX, 0.5), 1000);
}
END_TEST

START_TEST(test_backoff_initial_zero)
{
	struct backoff_conf	b = { 0, 30000, 2.0, 0.2, 10000 };
	unsigned		n;

	for (n = 0; n <= 100; n++) {
		ck_assert_uint_eq(backoff_delay_ms(&b, n, 0.0), 0);
		ck_assert_uint_eq(backoff_delay_ms(&b, n, 0.5), 0);
		ck_assert_uint_eq(backoff_delay_ms(&b, n, R_TOP), 0);
	}
	ck_assert_uint_eq(backoff_delay_ms(&b, 1000, R_TOP), 0);
	/* Past where factor^(n-1) overflows a double: still 0, not max_ms. */
	ck_assert_uint_eq(backoff_delay_ms(&b, 1025, 0.5), 0);
	ck_assert_uint_eq(backoff_delay_ms(&b, 5000, 0.5), 0);
	b.factor = 1e200;
	ck_assert_uint_eq(backoff_delay_ms(&b, 3, 0.5), 0);
}
END_TEST

START_TEST(test_backoff_jitter)
{
	static const uint32_t	 low[] = { 80, 160, 320, 640, 800, 800 };
	static const uint32_t	 high[] = { 120, 240, 480, 960, 1000, 1000 };
	struct backoff_conf	 b = { 100, 1000, 2.0, 0.2, 10000 };
	struct backoff_conf	 full = { 1000, 1000, 2.0, 1.0, 10000 };
	uint32_t		 d, base;
	unsigned		 n, k;
	double			 r;

	for (n = 1; n <= nitems(low); n++) {
		ck_assert_msg(backoff_delay_ms(&b, n, 0.0) == low[n - 1],
		    "n=%u r=0: %u, expected %u", n,
		    (unsigned)backoff_delay_ms(&b, n, 0.0), (unsigned)low[n - 1]);
		ck_assert_msg(backoff_delay_ms(&b, n, R_TOP) == high[n - 1],
		    "n=%u r=top: %u, expected %u", n,
		    (unsigned)backoff_delay_ms(&b, n, R_TOP),
		    (unsigned)high[n - 1]);
	}
	/* r = 0.5 is the middle: no spread. */
	ck_assert_uint_eq(backoff_delay_ms(&b, 3, 0.5), 400);
	ck_assert_uint_eq(backoff_delay_ms(&b, 0, 0.0), 80);

	/* Every r keeps within +-20% of the base and never above max_ms. */
	for (n = 1; n <= 20; n++) {
		base = n >= 5 ? 1000 : 100u << (n - 1);
		for (k = 0; k < 1000; k++) {
			r = k / 1000.0;
			d = backoff_delay_ms(&b, n, r);
			ck_assert_uint_le(d, b.max_ms);
			ck_assert_uint_ge(d, base * 8 / 10);
			ck_assert_uint_le(d, base * 12 / 10);
		}
	}

	/* Full jitter spans [0, max_ms] and never goes below 0. */
	ck_assert_uint_eq(backoff_delay_ms(&full, 1, 0.0), 0);
	ck_assert_uint_eq(backoff_delay_ms(&full, 1, 0.25), 500);
	ck_assert_uint_eq(backoff_delay_ms(&full, 1, R_TOP), 1000);
}
END_TEST

START_TEST(test_backoff_factor_one)
{
	struct backoff_conf	b = { 250, 1000, 1.0, 0.0, 10000 };
	unsigned		n;

	for (n = 0; n <= 50; n++)
		ck_assert_uint_eq(backoff_delay_ms(&b, n, 0.5), 250);
	ck_assert_uint_eq(backoff_delay_ms(&b, UINT_MAX, 0.5), 250);
}
END_TEST

START_TEST(test_backoff_streak)
{
	struct backoff_conf	b = { 100, 1000, 2.0, 0.0, 10000 };
	struct backoff_conf	never = { 100, 1000, 2.0, 0.0, 0 };

	/* A fresh child (streak 0) failing starts at 1. */
	ck_assert_uint_eq(backoff_next_streak(&b, 0, 0), 1);
	ck_assert_uint_eq(backoff_next_streak(&b, 1, 0), 2);
	ck_assert_uint_eq(backoff_next_streak(&b, 3, 9999), 4);
	/* reset_after_ms of healthy running ends the streak. */
	ck_assert_uint_eq(backoff_next_streak(&b, 3, 10000), 1);
	ck_assert_uint_eq(backoff_next_streak(&b, 7, 10001), 1);
	ck_assert_uint_eq(backoff_next_streak(&b, 7, UINT64_MAX), 1);
	/* reset_after_ms 0: every failure is the first. */
	ck_assert_uint_eq(backoff_next_streak(&never, 5, 0), 1);
}
END_TEST

/* restart_decide takes the delay from the child's backoff and the streak. */
START_TEST(test_decide_delay)
{
	static const uint32_t	 want[] = { 100, 200, 400, 800, 1000, 1000 };
	struct child_conf	 sup, w, s;
	struct intensity	 in;
	struct restart_decision	 d;
	unsigned		 streak = 0;
	uint64_t		 t;
	size_t			 i;

	/* A large intensity: only the delay is under test here. */
	sup = sup_conf(STRATEGY_ONE_FOR_ONE, 100, 5, 2);
	w = worker_conf(RESTART_PERMANENT, 100, 1000, 2.0, 0.0);
	intensity_init(&in, sup.max_restarts);
	for (i = 0, t = 0; i < nitems(want); i++, t += 10) {
		streak = backoff_next_streak(&w.backoff, streak, 5);
		d = restart_decide(&sup, &w, 0, true, &in, streak, t, 0.5);
		check_decision(&d, RESTART_SCOPE, false, 0, 0, want[i],
		    "crash streak");
	}
	/* Running long enough resets it to initial_ms. */
	streak = backoff_next_streak(&w.backoff, streak, 10000);
	ck_assert_uint_eq(streak, 1);
	d = restart_decide(&sup, &w, 0, true, &in, streak, t, 0.5);
	check_decision(&d, RESTART_SCOPE, false, 0, 0, 100, "after a reset");

	/* Jitter goes through r. */
	w.backoff.jitter = 0.2;
	d = restart_decide(&sup, &w, 0, true, &in, 2, t, 0.0);
	check_decision(&d, RESTART_SCOPE, false, 0, 0, 160, "jitter, r = 0");
	d = restart_decide(&sup, &w, 0, true, &in, 2, t, R_TOP);
	check_decision(&d, RESTART_SCOPE, false, 0, 0, 240, "jitter, r top");

	/* A normal exit of a permanent worker is delayed the same way. */
	d = restart_decide(&sup, &w, 1, false, &in, 3, t, 0.5);
	check_decision(&d, RESTART_SCOPE, false, 1, 1, 400, "normal exit");

	/* A supervisor child comes back at once, whatever its backoff says. */
	s = sup_conf(STRATEGY_ONE_FOR_ALL, 3, 5, 4);
	s.backoff = w.backoff;
	d = restart_decide(&sup, &s, 1, true, &in, 4, t, R_TOP);
	check_decision(&d, RESTART_SCOPE, false, 1, 1, 0, "supervisor child");
	d = restart_decide(&sup, &s, 1, true, &in, 0, t, 0.0);
	check_decision(&d, RESTART_SCOPE, false, 1, 1, 0, "supervisor child");
	intensity_free(&in);
}
END_TEST

/* Backoff never exempts a restart from the intensity limit. */
START_TEST(test_decide_backoff_counts)
{
	struct child_conf	 sup, w;
	struct intensity	 in;
	struct restart_decision	 d;
	unsigned		 streak;

	sup = sup_conf(STRATEGY_ONE_FOR_ONE, 3, 5, 1);
	w = worker_conf(RESTART_PERMANENT, 1000, 30000, 2.0, 0.0);
	intensity_init(&in, sup.max_restarts);
	/* Long delays, but the failures themselves come within 5 s. */
	for (streak = 1; streak <= 3; streak++) {
		d = restart_decide(&sup, &w, 0, true, &in, streak,
		    streak * 1000, 0.5);
		check_decision(&d, RESTART_SCOPE, false, 0, 0,
		    1000u << (streak - 1), "delayed restart");
	}
	d = restart_decide(&sup, &w, 0, true, &in, 4, 4000, 0.5);
	check_decision(&d, RESTART_ESCALATE, false, 0, 0, 0, "4th in 5 s");
	intensity_free(&in);
}
END_TEST

/*
 * The safe regime: no backoff on the worker, no intensity on the
 * supervisor. A worker exiting every 100 ms is restarted for ever, at
 * once the first time, then 100 ms doubling to 30 s, never escalating.
 */
START_TEST(test_decide_safe_regime)
{
	struct child_conf	 sup, w;
	struct intensity	 in;
	struct restart_decision	 d;
	unsigned		 streak = 0;
	uint32_t		 prev = 0;
	uint64_t		 t = 0;
	int			 i;

	sup = sup_conf(STRATEGY_ONE_FOR_ONE, 3, 5, 2);
	sup.implicit_intensity = true;
	w = worker_conf(RESTART_PERMANENT, 0, 30000, 2.0, 0.2);
	w.implicit_backoff = true;
	ck_assert(restart_safe_regime(&sup, &w));
	intensity_init(&in, sup.max_restarts);
	for (i = 0; i < 40; i++) {
		streak = backoff_next_streak(&w.backoff, streak, 100);
		d = restart_decide(&sup, &w, 1, true, &in, streak, t, 0.5);
		ck_assert_int_eq(d.action, RESTART_SCOPE);
		ck_assert_uint_eq(d.lo, 1);
		ck_assert_uint_eq(d.hi, 1);
		if (i == 0)
			ck_assert_uint_eq(d.delay_ms, 0);
		else if (d.delay_ms < RESTART_SAFE_MAX_MS)
			ck_assert_uint_gt(d.delay_ms, prev);
		else
			ck_assert_uint_eq(d.delay_ms, RESTART_SAFE_MAX_MS);
		prev = d.delay_ms;
		t += 100 + d.delay_ms;
	}
	ck_assert_uint_eq(prev, RESTART_SAFE_MAX_MS);
	/* Not charged: the supervisor's window stays empty. */
	ck_assert_uint_eq(intensity_count(&in, sup.max_seconds, t), 0);
	/* Healthy running resets the streak: the next restart is immediate. */
	streak = backoff_next_streak(&w.backoff, streak, 10000);
	d = restart_decide(&sup, &w, 1, true, &in, streak, t, 0.5);
	ck_assert_uint_eq(d.delay_ms, 0);
	intensity_free(&in);
}
END_TEST

/* The safe delays themselves, jitter at both ends. */
START_TEST(test_safe_delay)
{
	ck_assert_uint_eq(restart_safe_delay_ms(0, 0.5), 0);
	ck_assert_uint_eq(restart_safe_delay_ms(1, R_TOP), 0);
	ck_assert_uint_eq(restart_safe_delay_ms(2, 0.5), 100);
	ck_assert_uint_eq(restart_safe_delay_ms(3, 0.5), 200);
	ck_assert_uint_eq(restart_safe_delay_ms(2, 0.0), 80);
	ck_assert_uint_eq(restart_safe_delay_ms(2, R_TOP), 120);
	/* The lowest of one step is above the highest of the step before. */
	ck_assert_uint_gt(restart_safe_delay_ms(3, 0.0),
	    restart_safe_delay_ms(2, R_TOP));
	ck_assert_uint_eq(restart_safe_delay_ms(12, 0.5), 30000);
	ck_assert_uint_eq(restart_safe_delay_ms(1000, R_TOP), 30000);
	ck_assert_uint_le(restart_safe_delay_ms(UINT_MAX, 0.0), 30000);
}
END_TEST

/*
 * w under sup (3 restarts in 5 s) is not in the safe regime: three
 * failures 1 ms apart are restarted, the 4th escalates. what names the
 * case in a failure.
 */
static void
backoff_expect_otp(const struct child_conf *sup, const struct child_conf *w,
    const char *what)
{
	struct intensity	 in;
	struct restart_decision	 d;
	int			 i;

	ck_assert_msg(!restart_safe_regime(sup, w), "%s: safe", what);
	intensity_init(&in, sup->max_restarts);
	for (i = 1; i <= 3; i++) {
		d = restart_decide(sup, w, 0, true, &in, (unsigned)i,
		    (uint64_t)i, 0.5);
		check_decision(&d, RESTART_SCOPE, false, 0, 0, 0, what);
	}
	d = restart_decide(sup, w, 0, true, &in, 4, 4, 0.5);
	check_decision(&d, RESTART_ESCALATE, false, 0, 0, 0, what);
	intensity_free(&in);
}

/* Anything given explicitly keeps the OTP semantics. */
START_TEST(test_decide_explicit_regime)
{
	struct child_conf	 sup, w, s;

	/* Backoff given, intensity implicit: 3 in 5 holds. */
	sup = sup_conf(STRATEGY_ONE_FOR_ONE, 3, 5, 1);
	sup.implicit_intensity = true;
	w = worker_conf(RESTART_PERMANENT, 0, 30000, 2.0, 0.2);
	backoff_expect_otp(&sup, &w, "explicit backoff");

	/* Intensity given, backoff implicit: the same. */
	sup.implicit_intensity = false;
	w.implicit_backoff = true;
	backoff_expect_otp(&sup, &w, "explicit intensity");

	/* A supervisor child is never in the safe regime. */
	sup.implicit_intensity = true;
	s = sup_conf(STRATEGY_ONE_FOR_ONE, 3, 5, 1);
	s.implicit_intensity = true;
	s.implicit_backoff = true;
	ck_assert(!restart_safe_regime(&sup, &s));
}
END_TEST

/* Which starts are the service's fault and which warden's. */
static const struct {
	const char	*stage;
	int		 err;
	enum start_fault fault;
	const char	*label;
} faults[] = {
	{ "exec", ENOENT, FAULT_EXEC, "exec" },
	{ "exec", EACCES, FAULT_EXEC, "exec" },
	{ "exec", ENOEXEC, FAULT_EXEC, "exec" },
	{ "exec", ENOTDIR, FAULT_EXEC, "exec" },
	{ "exec", E2BIG, FAULT_EXEC, "exec" },
	{ "exec", ENOMEM, FAULT_RESOURCE, "exec" },
	{ "exec", EAGAIN, FAULT_RESOURCE, "exec" },
	{ "exec", EMFILE, FAULT_RESOURCE, "exec" },
	{ "chdir", ENOENT, FAULT_EXEC, "cwd" },
	{ "chdir", EACCES, FAULT_EXEC, "cwd" },
	{ "setuid", EPERM, FAULT_EXEC, "user" },
	{ "setuid", EAGAIN, FAULT_RESOURCE, "user" },
	{ "setgroups", EPERM, FAULT_EXEC, "user" },
	{ "setgid", EPERM, FAULT_EXEC, "group" },
	{ "rlimits.nofile", EPERM, FAULT_EXEC, "rlimits.nofile" },
	{ "rlimits.sigpending", EPERM, FAULT_EXEC, "rlimits.sigpending" },
	{ "rlimits.nproc", ENOMEM, FAULT_RESOURCE, "rlimits.nproc" },
	{ "rlimits", EPERM, FAULT_RESOURCE, "rlimits" },
	{ "/dev/null", EMFILE, FAULT_RESOURCE, "/dev/null" },
	{ "/dev/null", ENOENT, FAULT_RESOURCE, "/dev/null" },
	{ "fcntl", EMFILE, FAULT_RESOURCE, "fcntl" },
	{ "dup2", EBADF, FAULT_RESOURCE, "dup2" },
	{ "setpgid", EPERM, FAULT_RESOURCE, "setpgid" },
	{ NULL, EMFILE, FAULT_RESOURCE, "warden" },
	{ NULL, EAGAIN, FAULT_RESOURCE, "warden" },
	{ NULL, ENOMEM, FAULT_RESOURCE, "warden" },
	{ "exec", 0, FAULT_NONE, "exec" },
};

START_TEST(test_start_fault)
{
	ck_assert_msg(restart_start_fault(faults[_i].stage, faults[_i].err) ==
	    faults[_i].fault, "%s: %s", faults[_i].stage ? faults[_i].stage :
	    "(fork)", strerror(faults[_i].err));
	ck_assert_str_eq(restart_fault_stage(faults[_i].stage), faults[_i].label);
}
END_TEST

/* Retries of a failed start: slow for the service's, quicker for warden's. */
START_TEST(test_fault_delay)
{
	static const uint32_t exec_want[] = { 1000, 2000, 4000, 8000, 16000,
	    32000, 60000, 60000 };
	static const uint32_t res_want[] = { 100, 200, 400, 800, 1600, 3200,
	    5000, 5000 };
	unsigned	 n;

	for (n = 1; n <= nitems(exec_want); n++) {
		ck_assert_uint_eq(restart_fault_delay_ms(FAULT_EXEC, n),
		    exec_want[n - 1]);
		ck_assert_uint_eq(restart_fault_delay_ms(FAULT_RESOURCE, n),
		    res_want[n - 1]);
	}
	ck_assert_uint_eq(restart_fault_delay_ms(FAULT_EXEC, 0), 1000);
	ck_assert_uint_eq(restart_fault_delay_ms(FAULT_EXEC, UINT_MAX), 60000);
	ck_assert_uint_eq(restart_fault_delay_ms(FAULT_RESOURCE, UINT_MAX), 5000);
	ck_assert_uint_eq(restart_fault_delay_ms(FAULT_NONE, 3), 0);
}
END_TEST

static Suite *
backoff_suite(void)
{
	Suite	*s = suite_create("backoff");
	TCase	*tc = tcase_create("backoff");

	tcase_add_test(tc, test_backoff_sequence);
	tcase_add_test(tc, test_backoff_initial_zero);
	tcase_add_test(tc, test_backoff_jitter);
	tcase_add_test(tc, test_backoff_factor_one);
	tcase_add_test(tc, test_backoff_streak);
	tcase_add_test(tc, test_decide_delay);
	tcase_add_test(tc, test_decide_backoff_counts);
	tcase_add_test(tc, test_decide_safe_regime);
	tcase_add_test(tc, test_safe_delay);
	tcase_add_test(tc, test_decide_explicit_regime);
	tcase_add_loop_test(tc, test_start_fault, 0, (int)nitems(faults));
	tcase_add_test(tc, test_fault_delay);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(backoff_suite)

