/*
 * check_lifecycle.c: a worker's life as a table (src/core/lifecycle.c),
 * driven directly. Every (state, event) cell is checked against the grid
 * below, written out here on its own: its next state, its stop reason,
 * its actions and its timer, or that it is ignored. Then the cells whose
 * outcome depends on the facts are checked for each fact that matters,
 * and a sweep over many facts checks what must hold of every step (an
 * ignored event changes nothing; nothing comes after an action that may
 * apply another event; a timer only with WA_ARM_TIMER...).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "lifecycle.h"
#include "restart.h"
#include "suite.h"
#include "util.h"

#define GRACE_MS	3000
#define READY_MS	5000
#define DELAY_MS	250

/*
 * The facts of a worker as it usually is in each state: a process in
 * starting, running and stopping (stopping as the operator asked); a
 * failed worker waiting to retry a command that could not be executed.
 */
static struct worker_facts
base_facts(enum svc_state st)
{
	struct worker_facts	f;

	memset(&f, 0, sizeof(f));
	f.has_pid = st == SVC_STARTING || st == SVC_RUNNING || st == SVC_STOPPING;
	f.stopping = st == SVC_STOPPING ? STOP_OPERATOR : STOP_NONE;
	f.fault = st == SVC_FAILED ? FAULT_EXEC : FAULT_NONE;
	f.fault_tries = st == SVC_FAILED ? 1 : 0;
	f.ready_timeout_ms = READY_MS;
	f.shutdown_ms = GRACE_MS;
	f.killed = f.has_pid;
	f.may_retry = true;
	f.why = STOP_OPERATOR;
	f.abnormal = true;
	f.delay_ms = DELAY_MS;
	f.sig = SIGTERM;
	return f;
}

#define IGN	{ true, 0, 0, 0, 0 }
#define TO(next, reason, actions, timer) { false, next, reason, actions, timer }

struct expect {
	bool		 ignored;
	enum svc_state	 next;
	enum stop_reason reason;
	uint32_t	 actions;
	uint32_t	 timer_ms;
};

#define START_DO	(WA_CLEAR_TIMER | WA_FORK)
#define STOP_DO		(WA_CLEAR_TIMER | WA_SIGNAL_STOP | WA_ARM_TIMER | WA_STOP_STRAYS)
#define DOWN_DO		(WA_CLEAR_TIMER | WA_REPORT_DOWN)
#define UNHEALTHY_DO	(STOP_DO | WA_SAY_UNHEALTHY)
#define HUNG_DO		(WA_CLEAR_TIMER | WA_SIGNAL_ABORT | WA_SAY_UNHEALTHY | \
			 WA_ARM_TIMER)
#define NOT_ALIVE_IGN	[WEV_UNHEALTHY] = IGN, [WEV_HUNG] = IGN
#define EXEC_RETRY_MS	RESTART_EXEC_INITIAL_MS

/* The grid, with base_facts() of each state. */
static const struct expect grid[SVC_NSTATES][WEV_N] = {
	[SVC_STOPPED] = {
		[WEV_START] = TO(SVC_STARTING, STOP_NONE, START_DO, 0),
		[WEV_SPAWNED] = IGN, [WEV_EXEC_FAILED] = IGN,
		[WEV_FORK_FAILED] = IGN, [WEV_READY] = IGN, [WEV_TIMEOUT] = IGN,
		[WEV_STOP] = TO(SVC_STOPPED, STOP_OPERATOR, DOWN_DO, 0),
		[WEV_EXITED] = IGN,
		[WEV_RESTART] = TO(SVC_BACKOFF, STOP_NONE, WA_RECOVERING |
		    WA_SAY_BACKOFF | WA_ARM_TIMER, DELAY_MS),
		[WEV_RESTART_SCOPE] = TO(SVC_BACKOFF, STOP_NONE, WA_RECOVERING |
		    WA_SAY_BACKOFF, 0),
		[WEV_STAY_DOWN] = TO(SVC_STOPPED, STOP_NONE, WA_RECOVERED |
		    WA_TELL_PARENT, 0),
		[WEV_ESCALATE] = TO(SVC_STOPPED, STOP_NONE, WA_RECOVERING, 0),
		[WEV_CANCEL] = IGN, [WEV_KILLED] = IGN, [WEV_KILL_SURVIVED] = IGN,
		[WEV_SIGNALED] = IGN, NOT_ALIVE_IGN,
	},
	[SVC_STARTING] = {
		[WEV_START] = IGN,
		[WEV_SPAWNED] = TO(SVC_STARTING, STOP_NONE, WA_SAY_STARTED |
		    WA_ARM_TIMER, READY_MS),
		[WEV_EXEC_FAILED] = TO(SVC_STARTING, STOP_NONE, 0, 0),
		[WEV_FORK_FAILED] = TO(SVC_BACKOFF, STOP_NONE, WA_COUNT_FAULT |
		    WA_RECOVERING | WA_SAY_START_BACKOFF | WA_ARM_TIMER |
		    WA_TELL_PARENT, RESTART_RESOURCE_INITIAL_MS),
		[WEV_READY] = TO(SVC_RUNNING, STOP_NONE, WA_CLEAR_TIMER |
		    WA_SAY_READY | WA_TELL_PARENT, 0),
		[WEV_TIMEOUT] = TO(SVC_STOPPING, STOP_READY_TIMEOUT,
		    WA_CLEAR_TIMER | WA_SAY_NOT_READY | WA_SIGNAL_KILL, 0),
		[WEV_STOP] = TO(SVC_STOPPING, STOP_OPERATOR, STOP_DO, GRACE_MS),
		[WEV_EXITED] = TO(SVC_STOPPED, STOP_NONE, WA_COUNT_STREAK |
		    WA_REPORT_CRASH, 0),
		[WEV_RESTART] = IGN, [WEV_RESTART_SCOPE] = IGN,
		[WEV_STAY_DOWN] = IGN, [WEV_ESCALATE] = IGN, [WEV_CANCEL] = IGN,
		[WEV_KILLED] = TO(SVC_STARTING, STOP_NONE, WA_MARK_KILLED, 0),
		[WEV_KILL_SURVIVED] = TO(SVC_STARTING, STOP_NONE, WA_UNMARK_KILLED, 0),
		[WEV_SIGNALED] = TO(SVC_STARTING, STOP_NONE, WA_SIGNAL_OPERATOR, 0),
		[WEV_UNHEALTHY] = TO(SVC_STOPPING, STOP_UNHEALTHY, UNHEALTHY_DO,
		    GRACE_MS),
		[WEV_HUNG] = TO(SVC_STOPPING, STOP_WATCHDOG, HUNG_DO, GRACE_MS),
	},
	[SVC_RUNNING] = {
		[WEV_START] = IGN, [WEV_SPAWNED] = IGN, [WEV_EXEC_FAILED] = IGN,
		[WEV_FORK_FAILED] = IGN, [WEV_READY] = IGN, [WEV_TIMEOUT] = IGN,
		[WEV_STOP] = TO(SVC_STOPPING, STOP_OPERATOR, STOP_DO, GRACE_MS),
		[WEV_EXITED] = TO(SVC_STOPPED, STOP_NONE, WA_COUNT_STREAK |
		    WA_REPORT_CRASH, 0),
		[WEV_RESTART] = IGN, [WEV_RESTART_SCOPE] = IGN,
		[WEV_STAY_DOWN] = IGN, [WEV_ESCALATE] = IGN, [WEV_CANCEL] = IGN,
		[WEV_KILLED] = TO(SVC_RUNNING, STOP_NONE, WA_MARK_KILLED, 0),
		[WEV_KILL_SURVIVED] = TO(SVC_RUNNING, STOP_NONE, WA_UNMARK_KILLED, 0),
		[WEV_SIGNALED] = TO(SVC_RUNNING, STOP_NONE, WA_SIGNAL_OPERATOR, 0),
		[WEV_UNHEALTHY] = TO(SVC_STOPPING, STOP_UNHEALTHY, UNHEALTHY_DO,
		    GRACE_MS),
		[WEV_HUNG] = TO(SVC_STOPPING, STOP_WATCHDOG, HUNG_DO, GRACE_MS),
	},
	[SVC_STOPPING] = {
		[WEV_START] = TO(SVC_STOPPING, STOP_RESTART, 0, 0),
		[WEV_SPAWNED] = IGN, [WEV_EXEC_FAILED] = IGN,
		[WEV_FORK_FAILED] = IGN,
		/* Told to stop: readiness from it now is no reason to run on. */
		[WEV_READY] = IGN,
		[WEV_TIMEOUT] = TO(SVC_STOPPING, STOP_OPERATOR, WA_GRACE_KILL, 0),
		[WEV_STOP] = TO(SVC_STOPPING, STOP_OPERATOR, 0, 0),
		[WEV_EXITED] = TO(SVC_STOPPED, STOP_OPERATOR, WA_REPORT_DOWN, 0),
		[WEV_RESTART] = IGN, [WEV_RESTART_SCOPE] = IGN,
		[WEV_STAY_DOWN] = IGN, [WEV_ESCALATE] = IGN, [WEV_CANCEL] = IGN,
		[WEV_KILLED] = TO(SVC_STOPPING, STOP_OPERATOR, WA_MARK_KILLED, 0),
		[WEV_KILL_SURVIVED] = TO(SVC_STOPPING, STOP_OPERATOR,
		    WA_UNMARK_KILLED, 0),
		/* On its way down: the operator's signal is refused before. */
		[WEV_SIGNALED] = IGN,
		/* Already on its way down: its probe or watchdog adds nothing. */
		NOT_ALIVE_IGN,
	},
	[SVC_BACKOFF] = {
		[WEV_START] = TO(SVC_STARTING, STOP_NONE, START_DO, 0),
		[WEV_SPAWNED] = IGN, [WEV_EXEC_FAILED] = IGN,
		[WEV_FORK_FAILED] = IGN, [WEV_READY] = IGN,
		[WEV_TIMEOUT] = TO(SVC_STARTING, STOP_NONE, START_DO, 0),
		[WEV_STOP] = TO(SVC_STOPPED, STOP_OPERATOR, DOWN_DO, 0),
		[WEV_EXITED] = IGN, [WEV_RESTART] = IGN, [WEV_RESTART_SCOPE] = IGN,
		[WEV_STAY_DOWN] = IGN, [WEV_ESCALATE] = IGN,
		[WEV_CANCEL] = TO(SVC_STOPPED, STOP_NONE, WA_CLEAR_TIMER, 0),
		[WEV_KILLED] = IGN, [WEV_KILL_SURVIVED] = IGN, [WEV_SIGNALED] = IGN,
		NOT_ALIVE_IGN,
	},
	[SVC_FAILED] = {
		[WEV_START] = TO(SVC_STARTING, STOP_NONE, START_DO, 0),
		[WEV_SPAWNED] = IGN, [WEV_EXEC_FAILED] = IGN,
		[WEV_FORK_FAILED] = IGN, [WEV_READY] = IGN,
		[WEV_TIMEOUT] = TO(SVC_STARTING, STOP_NONE, START_DO, 0),
		[WEV_STOP] = TO(SVC_FAILED, STOP_OPERATOR, DOWN_DO, 0),
		[WEV_EXITED] = IGN, [WEV_RESTART] = IGN, [WEV_RESTART_SCOPE] = IGN,
		[WEV_STAY_DOWN] = IGN, [WEV_ESCALATE] = IGN, [WEV_CANCEL] = IGN,
		[WEV_KILLED] = IGN, [WEV_KILL_SURVIVED] = IGN, [WEV_SIGNALED] = IGN,
		NOT_ALIVE_IGN,
	},
};

/* The action bits of a set, by name, for failure messages. */
static const char *
actions_str(uint32_t a, char *buf, size_t len)
{
	size_t	off = 0;
	int	i;

	buf[0] = '\0';
	for (i = 0; i < WA_N; i++)
		if (a & (1u << i))
			off += (size_t)snprintf(buf + off, off < len ? len - off : 0,
			    "%s%s", off > 0 ? "|" : "", lifecycle_action_name(1u << i));
	return buf;
}

static void
check_step(enum svc_state st, enum worker_event ev, const struct worker_facts *f,
    const struct expect *e)
{
	struct worker_step	s = lifecycle_next(st, ev, f);
	char			got[512], want[512];
	const char		*sn = lifecycle_state_name(st), *en = lifecycle_event_name(ev);

	ck_assert_msg(s.ignored == e->ignored, "(%s, %s): ignored %d, want %d",
	    sn, en, s.ignored, e->ignored);
	if (e->ignored) {
		ck_assert_msg(s.next == st && s.actions == 0 &&
		    s.stop_reason == f->stopping, "(%s, %s): ignored, yet "
		    "changes something", sn, en);
		return;
	}
	ck_assert_msg(s.next == e->next, "(%s, %s): next %s, want %s", sn, en,
	    lifecycle_state_name(s.next), lifecycle_state_name(e->next));
	ck_assert_msg(s.actions == e->actions, "(%s, %s): actions %s, want %s",
	    sn, en, actions_str(s.actions, got, sizeof(got)),
	    actions_str(e->actions, want, sizeof(want)));
	ck_assert_msg(s.stop_reason == e->reason, "(%s, %s): stop reason %d, "
	    "want %d", sn, en, s.stop_reason, e->reason);
	ck_assert_msg(s.timer_ms == e->timer_ms, "(%s, %s): timer %u, want %u",
	    sn, en, s.timer_ms, e->timer_ms);
}

static struct expect
to(enum svc_state next, enum stop_reason reason, uint32_t actions,
    uint32_t timer_ms)
{
	struct expect	e = { false, next, reason, actions, timer_ms };

	return e;
}

static const struct expect ignored = IGN;

/* --- every cell ----------------------------------------------------------- */

/* _i runs over the cells: state (_i / WEV_N), event (_i % WEV_N). */
START_TEST(test_cell)
{
	enum svc_state		st = (enum svc_state)(_i / WEV_N);
	enum worker_event	ev = (enum worker_event)(_i % WEV_N);
	struct worker_facts	f = base_facts(st);

	check_step(st, ev, &f, &grid[st][ev]);
}
END_TEST

START_TEST(test_out_of_range)
{
	struct worker_facts	f = base_facts(SVC_RUNNING);
	struct worker_step	s;

	s = lifecycle_next(SVC_RUNNING, (enum worker_event)WEV_N, &f);
	ck_assert(s.ignored && s.next == SVC_RUNNING && s.actions == 0);
	s = lifecycle_next((enum svc_state)SVC_NSTATES, WEV_START, &f);
	ck_assert(s.ignored && s.actions == 0);
}
END_TEST

/* --- cells whose outcome depends on the facts ----------------------------- */

START_TEST(test_spawned_ready_at_once)
{
	struct worker_facts	f = base_facts(SVC_STARTING);
	struct expect		e = to(SVC_RUNNING, STOP_NONE, WA_SAY_STARTED |
	    WA_CLEAR_TIMER | WA_SAY_READY | WA_TELL_PARENT, 0);

	f.ready_at_once = true;
	check_step(SVC_STARTING, WEV_SPAWNED, &f, &e);
}
END_TEST

/* Not started at all: there is nothing to signal, to wait for or to mark. */
START_TEST(test_starting_queued)
{
	struct worker_facts	f = base_facts(SVC_STARTING);
	struct expect		down = to(SVC_STOPPED, STOP_OPERATOR, DOWN_DO, 0);

	f.has_pid = false;
	f.killed = false;
	check_step(SVC_STARTING, WEV_STOP, &f, &down);
	check_step(SVC_STARTING, WEV_READY, &f, &ignored);
	check_step(SVC_STARTING, WEV_TIMEOUT, &f, &ignored);
	check_step(SVC_STARTING, WEV_KILLED, &f, &ignored);
	check_step(SVC_STARTING, WEV_KILL_SURVIVED, &f, &ignored);
	check_step(SVC_STARTING, WEV_SIGNALED, &f, &ignored);
}
END_TEST

/* Warden's own fault: backoff, the delay doubling, never charged. */
START_TEST(test_fork_failed)
{
	struct worker_facts	f = base_facts(SVC_STARTING);
	uint32_t		a = WA_COUNT_FAULT | WA_RECOVERING |
	    WA_SAY_START_BACKOFF | WA_ARM_TIMER | WA_TELL_PARENT;
	struct expect		e;

	f.has_pid = false;
	f.fault = FAULT_RESOURCE;
	e = to(SVC_BACKOFF, STOP_NONE, a, RESTART_RESOURCE_INITIAL_MS);
	check_step(SVC_STARTING, WEV_FORK_FAILED, &f, &e);
	f.fault_tries = 2;	/* this one is the third */
	e.timer_ms = 4 * RESTART_RESOURCE_INITIAL_MS;
	check_step(SVC_STARTING, WEV_FORK_FAILED, &f, &e);
	f.fault_tries = 1000;
	e.timer_ms = RESTART_RESOURCE_MAX_MS;
	check_step(SVC_STARTING, WEV_FORK_FAILED, &f, &e);
	/* Everything going down: nothing to try again. */
	f.going_down = true;
	e = to(SVC_STOPPED, STOP_NONE, WA_COUNT_FAULT | WA_RECOVERED |
	    WA_TELL_PARENT, 0);
	check_step(SVC_STARTING, WEV_FORK_FAILED, &f, &e);
}
END_TEST

/*
 * The exit of a child that could not run its command: the spawn's fault.
 * _i is the state it exits from (check_step() names it in a failure).
 */
START_TEST(test_exited_exec_fault)
{
	enum svc_state		st = (enum svc_state)_i;
	struct worker_facts	f = base_facts(st);
	struct expect		e;

	f.has_pid = false;	/* reaped */
	f.fault = FAULT_EXEC;
	e = to(SVC_FAILED, STOP_NONE, WA_COUNT_FAULT | WA_RECOVERED |
	    WA_SAY_START_FAILED | WA_ARM_TIMER | WA_TELL_PARENT, EXEC_RETRY_MS);
	check_step(st, WEV_EXITED, &f, &e);
	f.fault_tries = 2;
	e.timer_ms = 4 * EXEC_RETRY_MS;
	check_step(st, WEV_EXITED, &f, &e);
	/* Temporary: said, never tried again. */
	f.temporary = true;
	e.actions &= ~WA_ARM_TIMER;
	e.timer_ms = 0;
	check_step(st, WEV_EXITED, &f, &e);
	f.going_down = true;
	e = to(SVC_FAILED, STOP_NONE, WA_COUNT_FAULT | WA_RECOVERED |
	    WA_TELL_PARENT, 0);
	check_step(st, WEV_EXITED, &f, &e);
}
END_TEST

START_TEST(test_exited_resource_fault)
{
	struct worker_facts	f = base_facts(SVC_STARTING);
	struct expect		e = to(SVC_BACKOFF, STOP_NONE, WA_COUNT_FAULT |
	    WA_RECOVERING | WA_SAY_START_BACKOFF | WA_ARM_TIMER | WA_TELL_PARENT,
	    RESTART_RESOURCE_INITIAL_MS);

	f.fault = FAULT_RESOURCE;
	check_step(SVC_STARTING, WEV_EXITED, &f, &e);
	/* A temporary worker short of resources is warden's fault: retried. */
	f.temporary = true;
	check_step(SVC_STARTING, WEV_EXITED, &f, &e);
}
END_TEST

/*
 * Down unasked: the supervisor hears of a crash or of a normal exit. _i is
 * the state it exits from.
 */
START_TEST(test_exited_unasked)
{
	enum svc_state		st = (enum svc_state)_i;
	struct worker_facts	f = base_facts(st);
	struct expect		crash = to(SVC_STOPPED, STOP_NONE,
	    WA_COUNT_STREAK | WA_REPORT_CRASH, 0);
	struct expect		normal = to(SVC_STOPPED, STOP_NONE,
	    WA_COUNT_STREAK | WA_REPORT_EXIT, 0);

	f.stopping = STOP_NONE;
	check_step(st, WEV_EXITED, &f, &crash);
	f.abnormal = false;
	check_step(st, WEV_EXITED, &f, &normal);
}
END_TEST

/* The stops that are the worker's own failure. */
static const enum stop_reason failed_whys[] = { STOP_READY_TIMEOUT,
    STOP_UNHEALTHY, STOP_WATCHDOG };

/*
 * Not ready in time, unhealthy or hung (failed_whys[_i]) is a failure,
 * however the process then ended.
 */
START_TEST(test_exited_after_failed_stop)
{
	struct worker_facts	f = base_facts(SVC_STOPPING);
	struct expect		crash = to(SVC_STOPPED, STOP_NONE,
	    WA_COUNT_STREAK | WA_REPORT_CRASH, 0);

	ck_assert(lifecycle_stop_failed(failed_whys[_i]));
	f.stopping = failed_whys[_i];
	f.abnormal = false;
	check_step(SVC_STOPPING, WEV_EXITED, &f, &crash);
	/* Its spawn's fault is not what ended it: the timeout is. */
	f.fault = FAULT_EXEC;
	check_step(SVC_STOPPING, WEV_EXITED, &f, &crash);
}
END_TEST

/*
 * The reasons of a stop asked (not a failure, as STOP_NONE and
 * failed_whys are: test_exited_after_failed_stop).
 */
static const enum stop_reason exit_whys[] = { STOP_OPERATOR, STOP_RESTART,
    STOP_SUPERVISOR, STOP_FAILING, STOP_RELOAD, STOP_SHUTDOWN };

/* Down as asked, whoever asked (exit_whys[_i]): reported, the reason kept. */
START_TEST(test_exited_asked)
{
	struct worker_facts	f = base_facts(SVC_STOPPING);
	struct expect		e;

	f.stopping = exit_whys[_i];
	ck_assert(!lifecycle_stop_failed(f.stopping));
	e = to(SVC_STOPPED, f.stopping, WA_REPORT_DOWN, 0);
	check_step(SVC_STOPPING, WEV_EXITED, &f, &e);
	/* A stop asked outranks the spawn's fault and the exit's code. */
	f.fault = FAULT_EXEC;
	f.abnormal = false;
	check_step(SVC_STOPPING, WEV_EXITED, &f, &e);
}
END_TEST

/* How a process is stopped; _i is its state, starting or running. */
START_TEST(test_stop_how)
{
	enum svc_state		st = (enum svc_state)_i;
	struct worker_facts	f = base_facts(st);
	struct expect		e;

	f.why = STOP_SHUTDOWN;
	f.shutdown_ms = SHUTDOWN_BRUTAL_KILL;
	e = to(SVC_STOPPING, STOP_SHUTDOWN, WA_CLEAR_TIMER | WA_SIGNAL_KILL, 0);
	check_step(st, WEV_STOP, &f, &e);
	/* Waited for as long as it takes: no grace timer. */
	f.shutdown_ms = SHUTDOWN_INFINITY;
	e.actions = WA_CLEAR_TIMER | WA_SIGNAL_STOP | WA_STOP_STRAYS;
	check_step(st, WEV_STOP, &f, &e);
	f.shutdown_ms = 0;
	e.actions = STOP_DO;
	check_step(st, WEV_STOP, &f, &e);
	/* A stop for not being ready is a SIGKILL, whatever the grace. */
	f.shutdown_ms = GRACE_MS;
	f.why = STOP_READY_TIMEOUT;
	e = to(SVC_STOPPING, STOP_READY_TIMEOUT, WA_CLEAR_TIMER |
	    WA_SIGNAL_KILL, 0);
	check_step(st, WEV_STOP, &f, &e);
}
END_TEST

/*
 * How a worker judged not alive is stopped; _i is its state, starting or
 * running. Unhealthy: as any stop, by its grace. Hung: SIGABRT, then
 * SIGKILL after its grace, or LIFECYCLE_ABORT_GRACE_MS when it has none.
 */
START_TEST(test_not_alive_how)
{
	static const int	graces[] = { SHUTDOWN_BRUTAL_KILL,
	    SHUTDOWN_INFINITY, 0 };
	enum svc_state		st = (enum svc_state)_i;
	struct worker_facts	f = base_facts(st);
	struct expect		e;
	size_t			i;

	f.shutdown_ms = SHUTDOWN_BRUTAL_KILL;
	e = to(SVC_STOPPING, STOP_UNHEALTHY, WA_CLEAR_TIMER | WA_SIGNAL_KILL |
	    WA_SAY_UNHEALTHY, 0);
	check_step(st, WEV_UNHEALTHY, &f, &e);
	for (i = 0; i < nitems(graces); i++) {
		f.shutdown_ms = graces[i];
		e = to(SVC_STOPPING, STOP_WATCHDOG, HUNG_DO,
		    LIFECYCLE_ABORT_GRACE_MS);
		check_step(st, WEV_HUNG, &f, &e);
	}
	/* No process yet (a start still queued): nothing to judge. */
	f.has_pid = false;
	check_step(st, WEV_UNHEALTHY, &f, &ignored);
	check_step(st, WEV_HUNG, &f, &ignored);
}
END_TEST

/* Who may stop a worker that is down already. */
static const enum stop_reason down_whys[] = { STOP_OPERATOR, STOP_RESTART,
    STOP_SUPERVISOR, STOP_RELOAD, STOP_SHUTDOWN };

/* Down already: reported down as asked (down_whys[_i]); failed stays failed. */
START_TEST(test_stop_when_down)
{
	struct worker_facts	f = base_facts(SVC_BACKOFF);
	struct expect		e;

	f.why = down_whys[_i];
	e = to(SVC_STOPPED, f.why, DOWN_DO, 0);
	check_step(SVC_BACKOFF, WEV_STOP, &f, &e);
	check_step(SVC_STOPPED, WEV_STOP, &f, &e);
	e.next = SVC_FAILED;
	check_step(SVC_FAILED, WEV_STOP, &f, &e);
}
END_TEST

/* A stop asked while one is under way: which reason holds. */
START_TEST(test_stop_merge)
{
	enum stop_reason	u, w, want;
	struct worker_facts	f = base_facts(SVC_STOPPING);
	struct expect		e;
	int			i, j;

	for (i = STOP_NONE; i <= STOP_SHUTDOWN; i++) {
		for (j = STOP_NONE; j <= STOP_SHUTDOWN; j++) {
			u = (enum stop_reason)i;
			w = (enum stop_reason)j;
			if (u == STOP_RELOAD)
				want = STOP_RELOAD;	/* retired: nothing outranks it */
			else if (w == STOP_RELOAD || w == STOP_SHUTDOWN)
				want = w;
			else if (u == STOP_NONE)
				want = w;
			else
				want = u;
			ck_assert_int_eq(lifecycle_stop_merge(u, w), want);
			f.stopping = u;
			f.why = w;
			e = to(SVC_STOPPING, want, 0, 0);
			check_step(SVC_STOPPING, WEV_STOP, &f, &e);
		}
	}
	ck_assert_int_eq(lifecycle_stop_merge(STOP_SHUTDOWN, STOP_OPERATOR),
	    STOP_SHUTDOWN);
	ck_assert_int_eq(lifecycle_stop_merge(STOP_OPERATOR, STOP_RESTART),
	    STOP_OPERATOR);
}
END_TEST

/* The operator's start of what is stopping keeps it stopping, to come back. */
START_TEST(test_start_while_stopping)
{
	struct worker_facts	f = base_facts(SVC_STOPPING);
	struct expect		e = to(SVC_STOPPING, STOP_RESTART, 0, 0);
	int			i;

	for (i = STOP_NONE; i <= STOP_SHUTDOWN; i++) {
		f.stopping = (enum stop_reason)i;
		check_step(SVC_STOPPING, WEV_START, &f, &e);
	}
}
END_TEST

/* The retry delay of a failed worker is over. */
START_TEST(test_failed_retry)
{
	struct worker_facts	f = base_facts(SVC_FAILED);
	struct expect		e = to(SVC_STARTING, STOP_NONE, START_DO, 0);

	check_step(SVC_FAILED, WEV_TIMEOUT, &f, &e);
	/* Its supervisor is in an operation: the same delay again. */
	f.parent_busy = true;
	f.fault_tries = 3;
	e = to(SVC_FAILED, STOP_NONE, WA_ARM_TIMER, 4 * EXEC_RETRY_MS);
	check_step(SVC_FAILED, WEV_TIMEOUT, &f, &e);
	/* Something else decides its next start: nothing now, not ignored. */
	f.may_retry = false;
	e = to(SVC_FAILED, STOP_NONE, 0, 0);
	check_step(SVC_FAILED, WEV_TIMEOUT, &f, &e);
	/* Failed for good (a crashed temporary): no timer means nothing. */
	f = base_facts(SVC_FAILED);
	f.fault = FAULT_NONE;
	check_step(SVC_FAILED, WEV_TIMEOUT, &f, &ignored);
	f.fault = FAULT_RESOURCE;
	check_step(SVC_FAILED, WEV_TIMEOUT, &f, &ignored);
}
END_TEST

/* The supervisor's decisions, after the exit left it stopped. */
START_TEST(test_decisions)
{
	struct worker_facts	f = base_facts(SVC_STOPPED);
	struct expect		e;

	f.delay_ms = 0;
	e = to(SVC_STARTING, STOP_NONE, WA_RECOVERING | START_DO, 0);
	check_step(SVC_STOPPED, WEV_RESTART, &f, &e);
	e = to(SVC_STOPPED, STOP_NONE, WA_RECOVERING, 0);
	check_step(SVC_STOPPED, WEV_RESTART_SCOPE, &f, &e);
	f.failed = true;
	e = to(SVC_FAILED, STOP_NONE, WA_RECOVERED | WA_SAY_EXIT_FAILED |
	    WA_TELL_PARENT, 0);
	check_step(SVC_STOPPED, WEV_STAY_DOWN, &f, &e);
}
END_TEST

/* service.kill's mark on a process; _i is its state. */
START_TEST(test_kill_marks)
{
	enum svc_state		st = (enum svc_state)_i;
	struct worker_facts	f = base_facts(st);
	struct expect		e;

	f.sig = SIGKILL;
	e = to(st, f.stopping, WA_MARK_KILLED, 0);
	check_step(st, WEV_KILLED, &f, &e);
	/* The mark is another instance's: that one is gone. */
	f.killed = false;
	check_step(st, WEV_KILL_SURVIVED, &f, &ignored);
}
END_TEST

/* An exit after the operator's signal, as worker.c tells it. */
static struct worker_facts
signaled_facts(enum svc_state st, int sig, int exit_sig, uint64_t since_ms)
{
	struct worker_facts	f = base_facts(st);

	f.has_pid = false;	/* reaped */
	f.killed = false;
	f.stopping = STOP_NONE;
	f.signaled = true;
	f.signal_sig = sig;
	f.exit_sig = exit_sig;
	f.since_signal_ms = since_ms;
	f.permanent = true;
	return f;
}

/* When the exit is one the operator's signal asked for. */
START_TEST(test_exit_requested)
{
	struct worker_facts	f;

	/* Of that signal, however late. */
	f = signaled_facts(SVC_RUNNING, SIGTERM, SIGTERM, 3600000);
	ck_assert(lifecycle_exit_requested(&f));
	/* Any exit within its grace after it (TERM caught, exit 0). */
	f = signaled_facts(SVC_RUNNING, SIGTERM, 0, GRACE_MS);
	ck_assert(lifecycle_exit_requested(&f));
	f = signaled_facts(SVC_RUNNING, SIGHUP, SIGSEGV, GRACE_MS - 1);
	ck_assert(lifecycle_exit_requested(&f));
	/* Past it: its own exit, a failure or not. */
	f = signaled_facts(SVC_RUNNING, SIGHUP, 0, GRACE_MS + 1);
	ck_assert(!lifecycle_exit_requested(&f));
	f = signaled_facts(SVC_RUNNING, SIGHUP, SIGSEGV, GRACE_MS + 1);
	ck_assert(!lifecycle_exit_requested(&f));
	/* No shutdown_ms of its own: the default grace. */
	f = signaled_facts(SVC_RUNNING, SIGHUP, 0, LIFECYCLE_SIGNAL_GRACE_MS);
	f.shutdown_ms = SHUTDOWN_BRUTAL_KILL;
	ck_assert(lifecycle_exit_requested(&f));
	f.shutdown_ms = SHUTDOWN_INFINITY;
	ck_assert(lifecycle_exit_requested(&f));
	f.since_signal_ms = LIFECYCLE_SIGNAL_GRACE_MS + 1;
	ck_assert(!lifecycle_exit_requested(&f));
	/* No signal of the operator's, or service.kill's fault as well. */
	f = signaled_facts(SVC_RUNNING, SIGTERM, SIGTERM, 0);
	f.signaled = false;
	ck_assert(!lifecycle_exit_requested(&f));
	f = signaled_facts(SVC_RUNNING, SIGTERM, SIGTERM, 0);
	f.exit_killed = true;
	ck_assert(!lifecycle_exit_requested(&f));
}
END_TEST

/*
 * A requested exit is no failure: no streak, no report of a crash. A
 * permanent worker comes back at once (down as for a restart); the
 * others stay down, as after a clean exit.
 */
START_TEST(test_exited_signaled)
{
	enum svc_state		from[] = { SVC_STARTING, SVC_RUNNING };
	struct expect		again = to(SVC_STOPPED, STOP_RESTART,
	    WA_RECOVERED | WA_REPORT_DOWN, 0);
	struct expect		down = to(SVC_STOPPED, STOP_NONE,
	    WA_RECOVERED | WA_TELL_PARENT, 0);
	struct expect		crash = to(SVC_STOPPED, STOP_NONE,
	    WA_COUNT_STREAK | WA_REPORT_CRASH, 0);
	struct expect		asked = to(SVC_STOPPED, STOP_OPERATOR,
	    WA_REPORT_DOWN, 0);
	struct worker_facts	f;
	size_t			i;

	for (i = 0; i < nitems(from); i++) {
		f = signaled_facts(from[i], SIGTERM, SIGTERM, 10);
		check_step(from[i], WEV_EXITED, &f, &again);
		f.permanent = false;
		check_step(from[i], WEV_EXITED, &f, &down);
		f.temporary = true;
		check_step(from[i], WEV_EXITED, &f, &down);
		/* service.kill's too: the fault wins. */
		f = signaled_facts(from[i], SIGTERM, SIGTERM, 10);
		f.exit_killed = true;
		check_step(from[i], WEV_EXITED, &f, &crash);
		/* Long after a HUP it handled: its own crash. */
		f = signaled_facts(from[i], SIGHUP, SIGSEGV, GRACE_MS + 1);
		check_step(from[i], WEV_EXITED, &f, &crash);
	}
	/* A stop asked meanwhile outranks it; so does not being ready. */
	f = signaled_facts(SVC_STOPPING, SIGTERM, SIGTERM, 10);
	f.stopping = STOP_OPERATOR;
	check_step(SVC_STOPPING, WEV_EXITED, &f, &asked);
	f.stopping = STOP_READY_TIMEOUT;
	check_step(SVC_STOPPING, WEV_EXITED, &f, &crash);
}
END_TEST

/* --- what holds of every step ---------------------------------------------- */

/* The highest action bit of a set, or -1. */
static int
top_bit(uint32_t a)
{
	int	i;

	for (i = WA_N - 1; i >= 0; i--)
		if (a & (1u << i))
			return i;
	return -1;
}

/*
 * What is wrong with one step, or NULL. Plain tests, not ck_assert: Check
 * records each assertion's place, and this runs a few hundred thousand
 * times.
 */
static const char *
step_wrong(enum svc_state st, const struct worker_facts *f,
    const struct worker_step *s)
{
	uint32_t	a = s->actions;
	uint32_t	reports = a & (WA_REPORT_CRASH | WA_REPORT_EXIT |
			    WA_REPORT_DOWN);

	if (s->next >= SVC_NSTATES || a >> WA_N != 0)
		return "no such state or action";
	if (s->ignored)
		return s->next != st || a != 0 || s->timer_ms != 0 ||
		    s->stop_reason != f->stopping ? "ignored, yet changes" : NULL;
	/* Nothing after what may apply another event to the worker or free it. */
	if ((a & WA_REENTERS) && (a & WA_REENTERS) != 1u << top_bit(a))
		return "an action after one that reenters";
	if (reports & (reports - 1))
		return "reported twice";
	if (s->timer_ms != 0 && !(a & WA_ARM_TIMER))
		return "a timer not armed";
	if ((a & WA_RECOVERING) && (a & WA_RECOVERED))
		return "recovering and not";
	if ((a & WA_FORK) && (s->next != SVC_STARTING || s->stop_reason != STOP_NONE))
		return "a fork, not starting";
	if ((a & (WA_SIGNAL_STOP | WA_SIGNAL_KILL | WA_SIGNAL_ABORT)) &&
	    (s->next != SVC_STOPPING || !f->has_pid))
		return "a signal, not stopping";
	if ((a & WA_SAY_READY) != 0 && s->next != SVC_RUNNING)
		return "ready, not running";
	if (s->next == SVC_RUNNING && st != SVC_RUNNING && !(a & WA_SAY_READY))
		return "running, unannounced";
	if (s->next == SVC_BACKOFF && st != SVC_BACKOFF && !(a & WA_RECOVERING))
		return "backoff, not recovering";
	if ((a & WA_REPORT_DOWN) && s->stop_reason == STOP_NONE)
		return "down as asked by nobody";
	/* Only a process is told to stop. */
	if (s->next == SVC_STOPPING && st != SVC_STOPPING && !f->has_pid)
		return "stopping without a process";
	return NULL;
}

/* Every cell, under every combination of the facts a cell looks at. */
START_TEST(test_invariants)
{
	static const enum stop_reason	reasons[] = { STOP_NONE, STOP_OPERATOR,
	    STOP_READY_TIMEOUT, STOP_RELOAD, STOP_UNHEALTHY, STOP_WATCHDOG };
	/* Whoever asks a stop has a reason. */
	static const enum stop_reason	whys[] = { STOP_OPERATOR, STOP_RESTART,
	    STOP_SHUTDOWN, STOP_RELOAD, STOP_SUPERVISOR, STOP_FAILING };
	static const int		graces[] = { GRACE_MS, 0,
	    SHUTDOWN_BRUTAL_KILL, SHUTDOWN_INFINITY };
	struct worker_facts		f;
	struct worker_step		step;
	const char			*why;
	unsigned			bits, st, ev, r, g, fault;

	for (st = 0; st < SVC_NSTATES; st++)
	for (ev = 0; ev < WEV_N; ev++)
	for (bits = 0; bits < 1u << 10; bits++)
	for (r = 0; r < nitems(reasons); r++)
	for (g = 0; g < nitems(graces); g++)
	for (fault = FAULT_NONE; fault <= FAULT_RESOURCE; fault++) {
		f = base_facts((enum svc_state)st);
		f.has_pid = bits & 1;
		f.ready_at_once = bits & 2;
		f.temporary = bits & 4;
		f.killed = bits & 8;
		f.going_down = bits & 16;
		f.may_retry = bits & 32;
		f.parent_busy = bits & 64;
		f.abnormal = bits & 128;
		f.failed = bits & 256;
		/* An exit after the operator's signal, of it. */
		f.signaled = bits & 512;
		f.signal_sig = f.exit_sig = SIGTERM;
		f.permanent = !f.temporary && (bits & 2);
		f.delay_ms = (bits & 3) == 3 ? 0 : DELAY_MS;
		f.stopping = reasons[r];
		f.why = whys[r];
		f.shutdown_ms = graces[g];
		f.fault = (enum start_fault)fault;
		step = lifecycle_next((enum svc_state)st, (enum worker_event)ev, &f);
		if ((why = step_wrong((enum svc_state)st, &f, &step)) != NULL)
			ck_abort_msg("(%s, %s), facts %#x, stopping %d, why %d, "
			    "grace %d, fault %u: %s", lifecycle_state_name(st),
			    lifecycle_event_name(ev), bits, f.stopping, f.why,
			    f.shutdown_ms, fault, why);
	}
}
END_TEST

START_TEST(test_names)
{
	unsigned	i, j;

	for (i = 0; i < SVC_NSTATES; i++)
		ck_assert_int_eq(lifecycle_state_parse(lifecycle_state_name(i)),
		    (int)i);
	ck_assert_int_eq(lifecycle_state_parse("ready"), -1);
	for (i = 0; i < WEV_N; i++)
		for (j = 0; j < i; j++)
			ck_assert_str_ne(lifecycle_event_name(i),
			    lifecycle_event_name(j));
	for (i = 0; i < WA_N; i++) {
		ck_assert_ptr_nonnull(lifecycle_action_name(1u << i));
		for (j = 0; j < i; j++)
			ck_assert_str_ne(lifecycle_action_name(1u << i),
			    lifecycle_action_name(1u << j));
	}
	ck_assert_ptr_null(lifecycle_action_name(0));
	ck_assert_ptr_null(lifecycle_action_name(WA_FORK | WA_CLEAR_TIMER));
	ck_assert_ptr_null(lifecycle_action_name(1u << WA_N));
}
END_TEST

static Suite *
lifecycle_suite(void)
{
	Suite	*s = suite_create("lifecycle");
	TCase	*tc = tcase_create("table");

	tcase_add_loop_test(tc, test_cell, 0, SVC_NSTATES * WEV_N);
	tcase_add_test(tc, test_out_of_range);
	tcase_add_test(tc, test_spawned_ready_at_once);
	tcase_add_test(tc, test_starting_queued);
	tcase_add_test(tc, test_fork_failed);
	/* Starting or running: a process that is not stopping yet. */
	tcase_add_loop_test(tc, test_exited_exec_fault, SVC_STARTING,
	    SVC_RUNNING + 1);
	tcase_add_test(tc, test_exited_resource_fault);
	/* Starting, running or stopping: wherever a process runs. */
	tcase_add_loop_test(tc, test_exited_unasked, SVC_STARTING,
	    SVC_STOPPING + 1);
	tcase_add_loop_test(tc, test_exited_after_failed_stop, 0,
	    (int)nitems(failed_whys));
	tcase_add_loop_test(tc, test_not_alive_how, SVC_STARTING, SVC_RUNNING + 1);
	tcase_add_loop_test(tc, test_exited_asked, 0, (int)nitems(exit_whys));
	tcase_add_test(tc, test_exit_requested);
	tcase_add_test(tc, test_exited_signaled);
	tcase_add_loop_test(tc, test_stop_how, SVC_STARTING, SVC_RUNNING + 1);
	tcase_add_loop_test(tc, test_stop_when_down, 0, (int)nitems(down_whys));
	tcase_add_test(tc, test_stop_merge);
	tcase_add_test(tc, test_start_while_stopping);
	tcase_add_test(tc, test_failed_retry);
	tcase_add_test(tc, test_decisions);
	tcase_add_loop_test(tc, test_kill_marks, SVC_STARTING,
	    SVC_STOPPING + 1);
	tcase_add_test(tc, test_invariants);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(lifecycle_suite)
