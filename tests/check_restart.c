/*
 * check_restart.c: the pure decisions of supervision (src/core/restart.c):
 * abnormal exits, restart types, strategies, the intensity window and
 * escalation up the tree. Backoff and failed starts are check_backoff.c's;
 * tests/restarttest.h is what the two share.
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

/* --- restart_exit_abnormal ------------------------------------------------ */

static const struct {
	int	code, sig, stop_signal;
	bool	abnormal;
} exits[] = {
	{ 0, 0, SIGTERM, false },		/* exit 0 */
	{ 1, 0, SIGTERM, true },		/* exit 1 */
	{ 255, 0, SIGTERM, true },
	{ 128 + SIGTERM, 0, SIGTERM, true },	/* a code, whatever it looks like */
	{ 0, SIGTERM, SIGTERM, false },		/* its own stop signal */
	{ 0, SIGKILL, SIGTERM, true },
	{ 0, SIGSEGV, SIGTERM, true },
	{ 0, SIGINT, SIGTERM, true },
	{ 0, SIGHUP, SIGTERM, true },
	{ 0, 0, SIGINT, false },		/* stop signal INT */
	{ 3, 0, SIGINT, true },
	{ 0, SIGINT, SIGINT, false },
	{ 0, SIGTERM, SIGINT, true },		/* TERM is now just another signal */
	{ 0, SIGKILL, SIGINT, true },
	{ 0, SIGKILL, SIGKILL, false },		/* stop signal KILL */
	{ 0, SIGTERM, SIGKILL, true },
};

START_TEST(test_exit_abnormal)
{
	ck_assert_msg(restart_exit_abnormal(exits[_i].code, exits[_i].sig,
	    exits[_i].stop_signal) == exits[_i].abnormal,
	    "code %d sig %d stop_signal %d: expected %s", exits[_i].code,
	    exits[_i].sig, exits[_i].stop_signal,
	    exits[_i].abnormal ? "abnormal" : "normal");
}
END_TEST

/* --- restart_wanted ------------------------------------------------------- */

START_TEST(test_wanted)
{
	ck_assert(restart_wanted(RESTART_PERMANENT, false));
	ck_assert(restart_wanted(RESTART_PERMANENT, true));
	ck_assert(!restart_wanted(RESTART_TRANSIENT, false));
	ck_assert(restart_wanted(RESTART_TRANSIENT, true));
	ck_assert(!restart_wanted(RESTART_TEMPORARY, false));
	ck_assert(!restart_wanted(RESTART_TEMPORARY, true));
}
END_TEST

/* --- restart_scope -------------------------------------------------------- */

static const struct {
	enum strategy	strategy;
	size_t		n, failed, lo, hi;
} scopes[] = {
	{ STRATEGY_ONE_FOR_ONE, 5, 0, 0, 0 },
	{ STRATEGY_ONE_FOR_ONE, 5, 2, 2, 2 },
	{ STRATEGY_ONE_FOR_ONE, 5, 4, 4, 4 },
	{ STRATEGY_ONE_FOR_ONE, 1, 0, 0, 0 },
	{ STRATEGY_REST_FOR_ONE, 5, 0, 0, 4 },
	{ STRATEGY_REST_FOR_ONE, 5, 2, 2, 4 },
	{ STRATEGY_REST_FOR_ONE, 5, 4, 4, 4 },
	{ STRATEGY_REST_FOR_ONE, 1, 0, 0, 0 },
	{ STRATEGY_ONE_FOR_ALL, 5, 0, 0, 4 },
	{ STRATEGY_ONE_FOR_ALL, 5, 2, 0, 4 },
	{ STRATEGY_ONE_FOR_ALL, 5, 4, 0, 4 },
	{ STRATEGY_ONE_FOR_ALL, 1, 0, 0, 0 },
};

START_TEST(test_scope)
{
	/* Start from garbage: both bounds must be written. */
	size_t	lo = 77, hi = 99;

	restart_scope(scopes[_i].strategy, scopes[_i].n, scopes[_i].failed,
	    &lo, &hi);
	ck_assert_msg(lo == scopes[_i].lo && hi == scopes[_i].hi,
	    "%s n=%zu failed=%zu: [%zu, %zu], expected [%zu, %zu]",
	    config_strategy_name(scopes[_i].strategy), scopes[_i].n,
	    scopes[_i].failed, lo, hi, scopes[_i].lo, scopes[_i].hi);
}
END_TEST

/* --- restart_decide: every strategy x restart type x exit kind ------------ */

static const struct {
	const char	*name;
	int		 code, sig;
	bool		 abnormal;
} kinds[] = {
	{ "exit 0", 0, 0, false },
	{ "exit 1", 1, 0, true },
	{ "killed by TERM (stop signal)", 0, SIGTERM, false },
	{ "killed by KILL", 0, SIGKILL, true },
};

/* What each restart type does after each exit kind above. */
static const struct {
	enum restart_type	type;
	struct {
		bool	restart;
		bool	failed;		/* when not restarted */
	} after[4];
} types[] = {
	{ RESTART_PERMANENT,
	    { { true, false }, { true, false }, { true, false }, { true, false } } },
	{ RESTART_TRANSIENT,
	    { { false, false }, { true, false }, { false, false }, { true, false } } },
	{ RESTART_TEMPORARY,
	    { { false, false }, { false, true }, { false, false }, { false, true } } },
};

/* The scope when child 1 of 3 fails, by strategy. */
static const struct {
	enum strategy	strategy;
	size_t		lo, hi;
} decide_scopes[] = {
	{ STRATEGY_ONE_FOR_ONE, 1, 1 },
	{ STRATEGY_ONE_FOR_ALL, 0, 2 },
	{ STRATEGY_REST_FOR_ONE, 1, 2 },
};

#define NKINDS		nitems(kinds)
#define NTYPES		nitems(types)
#define NSTRATEGIES	nitems(decide_scopes)

/*
 * _i picks strategy, restart type, exit kind and whether the supervisor
 * still has room in its intensity (3 in 5, empty) or none (0 in 5).
 */
START_TEST(test_decide_matrix)
{
	size_t			 k = (size_t)_i % NKINDS;
	size_t			 t = (size_t)_i / NKINDS % NTYPES;
	size_t			 s = (size_t)_i / (NKINDS * NTYPES) % NSTRATEGIES;
	bool			 room = (size_t)_i / (NKINDS * NTYPES * NSTRATEGIES) == 0;
	struct child_conf	 sup, child;
	struct intensity	 in;
	struct restart_decision	 d;
	char			 what[256];
	bool			 abnormal;
	const uint64_t		 now = 1000000;

	sup = sup_conf(decide_scopes[s].strategy, room ? 3 : 0, 5, 3);
	child = worker_conf(types[t].type, 100, 1000, 2.0, 0.0);
	intensity_init(&in, sup.max_restarts);
	snprintf(what, sizeof(what), "%s, %s, %s, %s",
	    config_strategy_name(decide_scopes[s].strategy),
	    config_restart_name(types[t].type), kinds[k].name,
	    room ? "room in the intensity" : "max_restarts 0");

	abnormal = restart_exit_abnormal(kinds[k].code, kinds[k].sig,
	    child.stop_signal);
	ck_assert_msg(abnormal == kinds[k].abnormal, "%s: abnormal %d", what,
	    (int)abnormal);

	/* Streak 3: delay initial_ms * factor^2 = 400. */
	d = restart_decide(&sup, &child, 1, abnormal, &in, 3, now, 0.5);
	if (!types[t].after[k].restart) {
		check_decision(&d, RESTART_STAY_DOWN, types[t].after[k].failed,
		    0, 0, 0, what);
		/* Not a restart: the intensity does not count it. */
		ck_assert_msg(in.len == 0, "%s: recorded", what);
		ck_assert_uint_eq(intensity_count(&in, 5, now), 0);
	} else if (room) {
		check_decision(&d, RESTART_SCOPE, false, decide_scopes[s].lo,
		    decide_scopes[s].hi, 400, what);
		ck_assert_uint_eq(intensity_count(&in, 5, now), 1);
	} else {
		check_decision(&d, RESTART_ESCALATE, false, 0, 0, 0, what);
		ck_assert_uint_eq(intensity_count(&in, 5, now), 1);
	}
	intensity_free(&in);
}
END_TEST

/* First and last child: the scope follows the failed child's index. */
START_TEST(test_decide_index)
{
	static const struct {
		enum strategy	strategy;
		size_t		index, lo, hi;
	} cases[] = {
		{ STRATEGY_ONE_FOR_ONE, 0, 0, 0 },
		{ STRATEGY_ONE_FOR_ONE, 3, 3, 3 },
		{ STRATEGY_REST_FOR_ONE, 0, 0, 3 },
		{ STRATEGY_REST_FOR_ONE, 3, 3, 3 },
		{ STRATEGY_ONE_FOR_ALL, 0, 0, 3 },
		{ STRATEGY_ONE_FOR_ALL, 3, 0, 3 },
	};
	struct child_conf	 sup, child;
	struct intensity	 in;
	struct restart_decision	 d;
	size_t			 i;

	child = worker_conf(RESTART_PERMANENT, 0, 30000, 2.0, 0.2);
	for (i = 0; i < nitems(cases); i++) {
		sup = sup_conf(cases[i].strategy, 3, 5, 4);
		intensity_init(&in, sup.max_restarts);
		d = restart_decide(&sup, &child, cases[i].index, true, &in, 1,
		    0, 0.5);
		check_decision(&d, RESTART_SCOPE, false, cases[i].lo,
		    cases[i].hi, 0, config_strategy_name(cases[i].strategy));
		intensity_free(&in);
	}

	/* A supervisor with a single child. */
	sup = sup_conf(STRATEGY_REST_FOR_ONE, 3, 5, 1);
	intensity_init(&in, sup.max_restarts);
	d = restart_decide(&sup, &child, 0, true, &in, 1, 0, 0.5);
	check_decision(&d, RESTART_SCOPE, false, 0, 0, 0, "n = 1");
	intensity_free(&in);
}
END_TEST

/* --- intensity ------------------------------------------------------------ */

/*
 * Restarts added to in (a window of period s) at the times of script, in
 * ms: "0 1000 2000 4999!". One marked '!' must be over the limit; the
 * others must not.
 */
static void
intensity_run(struct intensity *in, unsigned period, const char *script)
{
	const char		*p = script;
	char			*end;
	unsigned long long	 t;
	bool			 over;

	while (*p != '\0') {
		t = strtoull(p, &end, 10);
		ck_assert_msg(end != p, "bad script: %s", script);
		over = *end == '!';
		ck_assert_msg(intensity_add(in, period, t) == over,
		    "%s: at %llu ms, over the limit %d, want %d", script, t,
		    !over, over);
		p = end + strspn(end, "! ");
	}
}

/* A fresh intensity of max restarts in period s, through a script. */
static const struct {
	const char	*what;
	unsigned	 max, period;
	const char	*script;
} intensity_edges[] = {
	{ "a 4th restart while the 1st is still less than 5 s old", 3, 5,
	  "0 1000 2000 4999!" },
	{ "exactly 5 s later the 1st no longer counts; then 1000, 2000, "
	  "5000 and 5999 lie within 5 s", 3, 5, "0 1000 2000 5000 5999!" },
	/* The same with 1 in 60, as a root supervisor might have. */
	{ "1 in 60: a 2nd within 60 s", 1, 60, "0 59999!" },
	{ "1 in 60: a 2nd 60 s later, a 3rd just after", 1, 60,
	  "0 60000 60001!" },
};

START_TEST(test_intensity_edges)
{
	struct intensity	in;

	intensity_init(&in, intensity_edges[_i].max);
	intensity_run(&in, intensity_edges[_i].period,
	    intensity_edges[_i].script);
	intensity_free(&in);
}
END_TEST

START_TEST(test_intensity_zero)
{
	struct intensity	in;

	intensity_init(&in, 0);
	/* However long it has been since. */
	intensity_run(&in, 5, "0! 3600000!");
	intensity_reset(&in);
	intensity_run(&in, 1, "7200000!");
	intensity_free(&in);
}
END_TEST

START_TEST(test_intensity_count)
{
	struct intensity	in;

	intensity_init(&in, 3);
	ck_assert_uint_eq(intensity_count(&in, 5, 0), 0);
	intensity_run(&in, 5, "0 1000 2000");
	ck_assert_uint_eq(intensity_count(&in, 5, 2000), 3);
	ck_assert_uint_eq(intensity_count(&in, 5, 4999), 3);
	ck_assert_uint_eq(intensity_count(&in, 5, 5000), 2);
	ck_assert_uint_eq(intensity_count(&in, 5, 5999), 2);
	ck_assert_uint_eq(intensity_count(&in, 5, 6000), 1);
	ck_assert_uint_eq(intensity_count(&in, 5, 6999), 1);
	ck_assert_uint_eq(intensity_count(&in, 5, 7000), 0);
	ck_assert_uint_eq(intensity_count(&in, 5, 1000000), 0);
	/* Counting does not consume anything. */
	ck_assert_uint_eq(intensity_count(&in, 5, 2000), 3);
	/* A wider window seen at the same time counts more. */
	ck_assert_uint_eq(intensity_count(&in, 10, 7000), 3);
	intensity_free(&in);
}
END_TEST

START_TEST(test_intensity_reset)
{
	struct intensity	in;

	intensity_init(&in, 3);
	intensity_run(&in, 5, "0 1 2");
	intensity_reset(&in);
	ck_assert_uint_eq(intensity_count(&in, 5, 2), 0);
	/* The three before the reset are forgotten, though still recent. */
	intensity_run(&in, 5, "3 4 5");
	ck_assert_uint_eq(intensity_count(&in, 5, 5), 3);
	intensity_run(&in, 5, "6! 7!");	/* the ring has wrapped */

	/* A reset of a full, wrapped ring works as well. */
	intensity_reset(&in);
	ck_assert_uint_eq(intensity_count(&in, 5, 7), 0);
	intensity_run(&in, 5, "8 9 10 11!");
	intensity_free(&in);
}
END_TEST

/*
 * A budget of a million in 1 s costs room only for the restarts in the
 * window: 100,000 restarts 1 ms apart keep about a thousand, and the
 * limit is still exact when a big budget is used up.
 */
START_TEST(test_intensity_room)
{
	struct intensity	in;
	uint64_t		t;
	int			i;

	intensity_init(&in, 1000000);
	ck_assert_uint_le(in.cap, 8);
	for (i = 0; i < 100000; i++) {
		t = (uint64_t)i;
		ck_assert(!intensity_add(&in, 1, t));
		ck_assert_uint_eq(intensity_count(&in, 1, t), i < 1000 ? i + 1 : 1000);
	}
	ck_assert_uint_le(in.cap, 2048);
	intensity_free(&in);

	/* 1000 in 10 s: the 1001st within 10 s of the first exceeds it. */
	intensity_init(&in, 1000);
	for (i = 0; i < 1000; i++)
		ck_assert(!intensity_add(&in, 10, 5000 + (uint64_t)i));
	ck_assert_uint_eq(intensity_count(&in, 10, 6000), 1000);
	ck_assert(intensity_add(&in, 10, 14999));
	ck_assert_uint_le(in.cap, 1001);
	intensity_free(&in);
}
END_TEST

START_TEST(test_intensity_wrap)
{
	struct intensity	in;
	uint64_t		t;
	int			i;

	/* 1000 restarts 2 s apart never make 4 within 5 s. */
	intensity_init(&in, 3);
	for (i = 0; i < 1000; i++) {
		t = (uint64_t)i * 2000;
		ck_assert_msg(!intensity_add(&in, 5, t),
		    "restart %d at %llu exceeded 3 in 5", i,
		    (unsigned long long)t);
		ck_assert_uint_eq(intensity_count(&in, 5, t), i == 0 ? 1 :
		    i == 1 ? 2 : 3);
	}
	ck_assert_uint_le(in.len, in.cap);
	ck_assert_uint_lt(in.head, in.cap);
	/*
	 * After all that wrapping the edge is still exact: the ring holds
	 * 1994000, 1996000 and 1998000; 1999000 is 5 s after the oldest,
	 * 1999001 makes four within 5 s.
	 */
	ck_assert(!intensity_add(&in, 5, 1999000));
	ck_assert(intensity_add(&in, 5, 1999001));
	intensity_free(&in);

	/* And 1000 restarts 1 s apart under 5 in 5 never exceed either. */
	intensity_init(&in, 5);
	for (i = 0; i < 1000; i++)
		ck_assert(!intensity_add(&in, 5, (uint64_t)i * 1000));
	intensity_free(&in);
}
END_TEST

/* --- escalation through two levels ---------------------------------------- */

/*
 * Root R (1 in 60, rest_for_one over 3 children) has supervisor A as its
 * child 1; A (3 in 5, one_for_one over 2 children) has worker W as its
 * child 0. Each supervisor keeps its own intensity, and a supervisor
 * (re)starting begins with an empty one, as the daemon does.
 */
START_TEST(test_escalation)
{
	struct child_conf	 r, a, w;
	struct intensity	 r_in, a_in;
	struct restart_decision	 d;
	unsigned		 streak = 0;
	uint64_t		 t = 1000;
	int			 round, crash;
	char			 what[64];

	r = sup_conf(STRATEGY_REST_FOR_ONE, 1, 60, 3);
	a = sup_conf(STRATEGY_ONE_FOR_ONE, 3, 5, 2);
	a.restart = RESTART_PERMANENT;
	/* A supervisor restarts at once whatever backoff it carries. */
	a.backoff.initial_ms = 500;
	a.backoff.max_ms = 5000;
	a.backoff.factor = 2.0;
	w = worker_conf(RESTART_PERMANENT, 0, 30000, 2.0, 0.2);
	intensity_init(&r_in, r.max_restarts);
	intensity_init(&a_in, a.max_restarts);

	for (round = 0; round < 2; round++) {
		/* W crashes 4 times quickly: A restarts it 3 times, then gives up. */
		for (crash = 0; crash < 4; crash++, t += 100) {
			streak = backoff_next_streak(&w.backoff, streak, 50);
			ck_assert_uint_eq(streak, (unsigned)(round * 4 + crash + 1));
			d = restart_decide(&a, &w, 0,
			    restart_exit_abnormal(1, 0, w.stop_signal), &a_in,
			    streak, t, 0.5);
			snprintf(what, sizeof(what), "round %d, W crash %d",
			    round, crash + 1);
			if (crash < 3)
				check_decision(&d, RESTART_SCOPE, false, 0, 0, 0,
				    what);
			else
				check_decision(&d, RESTART_ESCALATE, false, 0, 0,
				    0, what);
		}
		/* A failed: R decides about A as about any failed child. */
		d = restart_decide(&r, &a, 1, true, &r_in, 1, t, 0.5);
		snprintf(what, sizeof(what), "round %d, A failed", round);
		if (round == 0) {
			check_decision(&d, RESTART_SCOPE, false, 1, 2, 0, what);
			/* R restarts A, which starts with a clean slate. */
			intensity_reset(&a_in);
		} else
			check_decision(&d, RESTART_ESCALATE, false, 0, 0, 0,
			    what);
	}
	ck_assert_uint_eq(intensity_count(&r_in, 60, t), 2);
	intensity_free(&a_in);
	intensity_free(&r_in);
}
END_TEST

/* A's failures a minute apart stay within R's 1 in 60. */
START_TEST(test_escalation_spaced)
{
	struct child_conf	 r, a;
	struct intensity	 r_in;
	struct restart_decision	 d;

	r = sup_conf(STRATEGY_ONE_FOR_ALL, 1, 60, 2);
	a = sup_conf(STRATEGY_ONE_FOR_ONE, 3, 5, 1);
	intensity_init(&r_in, r.max_restarts);
	d = restart_decide(&r, &a, 0, true, &r_in, 1, 0, 0.5);
	check_decision(&d, RESTART_SCOPE, false, 0, 1, 0, "A fails at 0 s");
	d = restart_decide(&r, &a, 0, true, &r_in, 1, 60000, 0.5);
	check_decision(&d, RESTART_SCOPE, false, 0, 1, 0, "A fails at 60 s");
	d = restart_decide(&r, &a, 0, true, &r_in, 1, 119999, 0.5);
	check_decision(&d, RESTART_ESCALATE, false, 0, 0, 0,
	    "A fails at 119.999 s");
	intensity_free(&r_in);
}
END_TEST

/*
 * A supervisor that gave up has exited abnormally: a transient one comes
 * back, a temporary one stays down, failed, and is not counted.
 */
START_TEST(test_escalation_not_permanent)
{
	struct child_conf	 r, a;
	struct intensity	 r_in;
	struct restart_decision	 d;

	r = sup_conf(STRATEGY_ONE_FOR_ONE, 1, 60, 2);
	a = sup_conf(STRATEGY_ONE_FOR_ONE, 3, 5, 1);
	intensity_init(&r_in, r.max_restarts);

	a.restart = RESTART_TRANSIENT;
	d = restart_decide(&r, &a, 1, true, &r_in, 1, 0, 0.5);
	check_decision(&d, RESTART_SCOPE, false, 1, 1, 0, "transient A");

	a.restart = RESTART_TEMPORARY;
	d = restart_decide(&r, &a, 1, true, &r_in, 1, 0, 0.5);
	check_decision(&d, RESTART_STAY_DOWN, true, 0, 0, 0, "temporary A");
	ck_assert_uint_eq(intensity_count(&r_in, 60, 0), 1);
	intensity_free(&r_in);
}
END_TEST

static Suite *
restart_suite(void)
{
	Suite	*s = suite_create("restart");
	TCase	*tc = tcase_create("restart");

	tcase_add_loop_test(tc, test_exit_abnormal, 0, (int)nitems(exits));
	tcase_add_test(tc, test_wanted);
	tcase_add_loop_test(tc, test_scope, 0, (int)nitems(scopes));
	tcase_add_loop_test(tc, test_decide_matrix, 0,
	    (int)(NKINDS * NTYPES * NSTRATEGIES * 2));
	tcase_add_test(tc, test_decide_index);
	tcase_add_loop_test(tc, test_intensity_edges, 0,
	    (int)nitems(intensity_edges));
	tcase_add_test(tc, test_intensity_zero);
	tcase_add_test(tc, test_intensity_count);
	tcase_add_test(tc, test_intensity_reset);
	tcase_add_test(tc, test_intensity_wrap);
	tcase_add_test(tc, test_intensity_room);
	tcase_add_test(tc, test_escalation);
	tcase_add_test(tc, test_escalation_spaced);
	tcase_add_test(tc, test_escalation_not_permanent);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(restart_suite)

