/*
 * lifecycle.c: a worker's life, state x event (see lifecycle.h).
 *
 * The table at the bottom says which cell handles each event in each
 * state; a cell is a small function of the facts. "nop" marks what means
 * nothing in that state or cannot happen there (a readiness line from an
 * instance already told to stop, a second start of a running worker):
 * nothing changes and nothing is done. In short ("up" is starting,
 * running or stopping: wherever a process runs):
 *
 *   state     event            next       what warden does
 *   stopped,  start            starting   fork+exec, or queue it
 *   backoff,
 *   failed
 *   backoff   timeout          starting   the delay is over: fork+exec
 *   failed    timeout          starting   retry (exec fault), when nothing
 *                                         else decides; else wait again
 *   starting  spawned          starting   service.started, ready timer
 *                              running    ready=none: service.ready at once
 *   starting  exec failed      starting   nothing yet: the exit (127) is it
 *   starting  fork failed      backoff    warden's own fault: retried after
 *                                         a delay, never charged
 *   starting  ready            running    service.ready; the parent goes on
 *   starting  timeout          stopping   not ready in time: SIGKILL
 *   starting, stop             stopping   stop signal, grace timer
 *   running                               (brutal_kill: SIGKILL)
 *   stopping  timeout          stopping   grace over: SIGKILL
 *   stopping  stop             stopping   the more final reason wins
 *   stopping  start            stopping   the operator's: up again once down
 *   up        exited, asked    stopped    report down as asked: stay down,
 *                                         start again, or the parent goes on
 *   up        exited, its      failed,    the start's fault (as fork failed,
 *             start's fault    backoff    or failed: retried slowly)
 *   up        exited, unasked  stopped    report to the supervisor; its
 *                                         decision comes back as one of:
 *   stopped   restart          starting,  recovering; after the delay, if
 *                              backoff    any
 *   stopped   restart scope    stopped,   recovering; the supervisor's
 *                              backoff    operation starts it again
 *   stopped   stay down        stopped,   not recovering; failed: said so
 *                              failed
 *   stopped   escalate         stopped    recovering; the supervisor gives up
 *   backoff   cancel           stopped    the supervisor's operation's now
 *   stopped,  stop             stopped    report down as asked (failed
 *   backoff,                   (failed)   stays failed); so is a start
 *   failed                                still queued, with no process
 *   up        killed,          (same)     service.kill's mark, and its end
 *             kill survived
 *   starting, signaled         (same)     service.signal: sent to the group
 *   running                               and marked as asked
 *   starting, unhealthy        stopping   its probe failed: service.unhealthy,
 *   running                               the stop signal, a failure once down
 *   starting, hung             stopping   its watchdog ran out: SIGABRT, then
 *   running                               SIGKILL after the grace; a failure
 *   up        exited, of the   stopped    a requested exit: never a failure;
 *             operator's                  permanent: started again at once,
 *             signal                      else down as after a clean exit
 */
#include <stddef.h>
#include <string.h>

#include "config.h"
#include "lifecycle.h"
#include "util.h"

typedef struct worker_step cell_fn(enum svc_state, const struct worker_facts *);

/* A step to next that leaves the worker's stop reason why. */
static struct worker_step
cell_why(enum svc_state next, enum stop_reason why, uint32_t actions)
{
	struct worker_step	s;

	memset(&s, 0, sizeof(s));
	s.next = next;
	s.stop_reason = why;
	s.actions = actions;
	return s;
}

/* A step to next that keeps the stop under way, if any. */
static struct worker_step
cell_step(enum svc_state next, const struct worker_facts *f, uint32_t actions)
{
	return cell_why(next, f->stopping, actions);
}

/* s, and a timer of ms armed. */
static struct worker_step
cell_timed(struct worker_step s, uint32_t ms)
{
	s.actions |= WA_ARM_TIMER;
	s.timer_ms = ms;
	return s;
}

static struct worker_step
cell_nop(enum svc_state st, const struct worker_facts *f)
{
	struct worker_step	s = cell_step(st, f, 0);

	s.ignored = true;
	return s;
}

/* Fork now, or queue the start when a storm has used this turn's forks. */
static struct worker_step
cell_start(enum svc_state st, const struct worker_facts *f)
{
	(void)st;
	(void)f;
	return cell_why(SVC_STARTING, STOP_NONE, WA_CLEAR_TIMER | WA_FORK);
}

/* The operator starts what is on its way down: once down, it comes back. */
static struct worker_step
cell_start_after(enum svc_state st, const struct worker_facts *f)
{
	(void)f;
	return cell_why(st, STOP_RESTART, 0);
}

static struct worker_step
cell_spawned(enum svc_state st, const struct worker_facts *f)
{
	(void)st;
	if (f->ready_at_once)
		return cell_why(SVC_RUNNING, STOP_NONE, WA_SAY_STARTED |
		    WA_CLEAR_TIMER | WA_SAY_READY | WA_TELL_PARENT);
	return cell_timed(cell_why(SVC_STARTING, STOP_NONE, WA_SAY_STARTED),
	    f->ready_timeout_ms);
}

/* The child exits 127 at once; that exit, not this, is the failure. */
static struct worker_step
cell_exec_failed(enum svc_state st, const struct worker_facts *f)
{
	return cell_step(st, f, 0);
}

/*
 * A start that made no worker. The service's own fault (its command
 * cannot be executed as configured) leaves it failed; warden's (out of
 * descriptors, processes, memory) leaves it in backoff. Either is tried
 * again after a growing delay and is never charged to the supervisor's
 * intensity, nor does it stop a sibling. When everything is going down
 * there is nothing to try again.
 */
static struct worker_step
cell_start_fault(enum svc_state st, const struct worker_facts *f)
{
	bool			exec = f->fault == FAULT_EXEC;
	uint32_t		delay;
	struct worker_step	s;

	(void)st;
	delay = restart_fault_delay_ms(exec ? FAULT_EXEC : FAULT_RESOURCE,
	    f->fault_tries + 1);
	if (f->going_down)
		return cell_why(exec ? SVC_FAILED : SVC_STOPPED, STOP_NONE,
		    WA_COUNT_FAULT | WA_RECOVERED | WA_TELL_PARENT);
	if (!exec)
		return cell_timed(cell_why(SVC_BACKOFF, STOP_NONE,
		    WA_COUNT_FAULT | WA_RECOVERING | WA_SAY_START_BACKOFF |
		    WA_TELL_PARENT), delay);
	s = cell_why(SVC_FAILED, STOP_NONE, WA_COUNT_FAULT | WA_RECOVERED |
	    WA_SAY_START_FAILED | WA_TELL_PARENT);
	/* A temporary worker is never started again by itself. */
	return f->temporary ? s : cell_timed(s, delay);
}

static struct worker_step
cell_ready(enum svc_state st, const struct worker_facts *f)
{
	if (!f->has_pid)
		return cell_nop(st, f);
	return cell_step(SVC_RUNNING, f, WA_CLEAR_TIMER | WA_SAY_READY |
	    WA_TELL_PARENT);
}

/* Down already, or only queued: nothing to signal; down as asked. */
static struct worker_step
cell_down(enum svc_state st, const struct worker_facts *f)
{
	return cell_why(st == SVC_FAILED ? SVC_FAILED : SVC_STOPPED, f->why,
	    WA_CLEAR_TIMER | WA_REPORT_DOWN);
}

static struct worker_step
cell_stop_why(enum svc_state st, const struct worker_facts *f,
    enum stop_reason why)
{
	struct worker_step	s;

	if (!f->has_pid)
		return cell_down(st, f);
	if (why == STOP_READY_TIMEOUT || f->shutdown_ms == SHUTDOWN_BRUTAL_KILL)
		return cell_why(SVC_STOPPING, why, WA_CLEAR_TIMER |
		    WA_SIGNAL_KILL);
	s = cell_why(SVC_STOPPING, why, WA_CLEAR_TIMER | WA_SIGNAL_STOP |
	    WA_STOP_STRAYS);
	if (f->shutdown_ms == SHUTDOWN_INFINITY)
		return s;
	return cell_timed(s, (uint32_t)f->shutdown_ms);
}

static struct worker_step
cell_stop(enum svc_state st, const struct worker_facts *f)
{
	return cell_stop_why(st, f, f->why);
}

static struct worker_step
cell_stop_again(enum svc_state st, const struct worker_facts *f)
{
	return cell_why(st, lifecycle_stop_merge(f->stopping, f->why), 0);
}

static struct worker_step
cell_ready_timeout(enum svc_state st, const struct worker_facts *f)
{
	struct worker_step	s;

	if (!f->has_pid)
		return cell_nop(st, f);
	s = cell_stop_why(st, f, STOP_READY_TIMEOUT);
	s.actions |= WA_SAY_NOT_READY;
	return s;
}

/* Its liveness probe failed: stopped as asked, and its exit is a failure. */
static struct worker_step
cell_unhealthy(enum svc_state st, const struct worker_facts *f)
{
	struct worker_step	s;

	if (!f->has_pid)
		return cell_nop(st, f);
	s = cell_stop_why(st, f, STOP_UNHEALTHY);
	s.actions |= WA_SAY_UNHEALTHY;
	return s;
}

/*
 * Its watchdog ran out: SIGABRT for a core to look at, as systemd does,
 * then SIGKILL once its grace is over (shutdown_ms, or
 * LIFECYCLE_ABORT_GRACE_MS when that is none or forever).
 */
uint32_t
lifecycle_abort_grace_ms(int shutdown_ms)
{
	return shutdown_ms > 0 ? (uint32_t)shutdown_ms : LIFECYCLE_ABORT_GRACE_MS;
}

static struct worker_step
cell_hung(enum svc_state st, const struct worker_facts *f)
{
	if (!f->has_pid)
		return cell_nop(st, f);
	return cell_timed(cell_why(SVC_STOPPING, STOP_WATCHDOG, WA_CLEAR_TIMER |
	    WA_SIGNAL_ABORT | WA_SAY_UNHEALTHY),
	    lifecycle_abort_grace_ms(f->shutdown_ms));
}

static struct worker_step
cell_grace_over(enum svc_state st, const struct worker_facts *f)
{
	return cell_step(st, f, WA_GRACE_KILL);
}

/*
 * The retry delay of a failed worker is over. Only when nothing else
 * decides about it now; while its supervisor is in an operation, it waits
 * the same delay again.
 */
static struct worker_step
cell_retry(enum svc_state st, const struct worker_facts *f)
{
	if (f->fault != FAULT_EXEC)
		return cell_nop(st, f);
	if (!f->may_retry)
		return cell_step(st, f, 0);
	if (!f->parent_busy)
		return cell_start(st, f);
	return cell_timed(cell_step(st, f, 0),
	    restart_fault_delay_ms(f->fault, f->fault_tries));
}

/*
 * Did the operator's signal end it? Of that signal, or soon after it (a
 * worker that exits cleanly on TERM). service.kill's mark outranks it:
 * that one is a fault injected.
 */
bool
lifecycle_stop_failed(enum stop_reason why)
{
	return why == STOP_READY_TIMEOUT || why == STOP_UNHEALTHY ||
	    why == STOP_WATCHDOG;
}

bool
lifecycle_exit_requested(const struct worker_facts *f)
{
	uint64_t	grace = f->shutdown_ms > 0 ? (uint64_t)f->shutdown_ms :
	    LIFECYCLE_SIGNAL_GRACE_MS;

	if (!f->signaled || f->exit_killed)
		return false;
	return f->exit_sig == f->signal_sig || f->since_signal_ms <= grace;
}

/*
 * A requested exit: no failure, so no intensity, backoff or streak. A
 * permanent worker is started again at once (as after a restart); the
 * others stay down, as after a clean exit.
 */
static struct worker_step
cell_exit_asked(enum svc_state st, const struct worker_facts *f)
{
	struct worker_step	s;

	(void)st;
	if (f->permanent) {
		s = cell_step(SVC_STOPPED, f, WA_RECOVERED | WA_REPORT_DOWN);
		s.stop_reason = STOP_RESTART;
		return s;
	}
	s = cell_step(SVC_STOPPED, f, WA_RECOVERED | WA_TELL_PARENT);
	s.stop_reason = STOP_NONE;
	return s;
}

static struct worker_step
cell_exited(enum svc_state st, const struct worker_facts *f)
{
	enum stop_reason	asked = f->stopping;
	bool			crash;

	if (asked != STOP_NONE && !lifecycle_stop_failed(asked))
		return cell_step(SVC_STOPPED, f, WA_REPORT_DOWN);
	/* It never ran: why is the spawn's, not the exit's. */
	if (asked == STOP_NONE && f->fault != FAULT_NONE)
		return cell_start_fault(st, f);
	if (asked == STOP_NONE && lifecycle_exit_requested(f))
		return cell_exit_asked(st, f);
	/* Not ready in time, unhealthy or hung is a failure, however it then died. */
	crash = asked != STOP_NONE || f->abnormal;
	return cell_why(SVC_STOPPED, STOP_NONE, WA_COUNT_STREAK |
	    (crash ? WA_REPORT_CRASH : WA_REPORT_EXIT));
}

/* one_for_one: this child alone, after its backoff. */
static struct worker_step
cell_restart(enum svc_state st, const struct worker_facts *f)
{
	struct worker_step	s;

	if (f->delay_ms == 0) {
		s = cell_start(st, f);
		s.actions |= WA_RECOVERING;
		return s;
	}
	return cell_timed(cell_step(SVC_BACKOFF, f, WA_RECOVERING |
	    WA_SAY_BACKOFF), f->delay_ms);
}

/* With its siblings: the supervisor's operation waits out the delay. */
static struct worker_step
cell_scope(enum svc_state st, const struct worker_facts *f)
{
	if (f->delay_ms == 0)
		return cell_step(st, f, WA_RECOVERING);
	return cell_step(SVC_BACKOFF, f, WA_RECOVERING | WA_SAY_BACKOFF);
}

static struct worker_step
cell_stay_down(enum svc_state st, const struct worker_facts *f)
{
	(void)st;
	if (f->failed)
		return cell_step(SVC_FAILED, f, WA_RECOVERED | WA_SAY_EXIT_FAILED |
		    WA_TELL_PARENT);
	return cell_step(SVC_STOPPED, f, WA_RECOVERED | WA_TELL_PARENT);
}

static struct worker_step
cell_escalate(enum svc_state st, const struct worker_facts *f)
{
	return cell_step(st, f, WA_RECOVERING);
}

static struct worker_step
cell_cancel(enum svc_state st, const struct worker_facts *f)
{
	(void)st;
	return cell_step(SVC_STOPPED, f, WA_CLEAR_TIMER);
}

static struct worker_step
cell_killed(enum svc_state st, const struct worker_facts *f)
{
	if (!f->has_pid)
		return cell_nop(st, f);
	return cell_step(st, f, WA_MARK_KILLED);
}

static struct worker_step
cell_survived(enum svc_state st, const struct worker_facts *f)
{
	if (!f->has_pid || !f->killed)
		return cell_nop(st, f);
	return cell_step(st, f, WA_UNMARK_KILLED);
}

/* The operator's signal: to a process that runs, and not on its way down. */
static struct worker_step
cell_signaled(enum svc_state st, const struct worker_facts *f)
{
	if (!f->has_pid)
		return cell_nop(st, f);
	return cell_step(st, f, WA_SIGNAL_OPERATOR);
}

#define nop	cell_nop

static cell_fn *const lifecycle_table[SVC_NSTATES][WEV_N] = {
	/*		START		SPAWNED		EXEC_FAILED	FORK_FAILED	READY
			TIMEOUT		STOP		EXITED		RESTART		RESTART_SCOPE
			STAY_DOWN	ESCALATE	CANCEL		KILLED		KILL_SURVIVED
			SIGNALED	UNHEALTHY	HUNG */
	[SVC_STOPPED] = {
			cell_start,	nop,		nop,		nop,		nop,
			nop,		cell_down,	nop,		cell_restart,	cell_scope,
			cell_stay_down,	cell_escalate,	nop,		nop,		nop,
			nop,		nop,		nop },
	[SVC_STARTING] = {
			nop,		cell_spawned,	cell_exec_failed, cell_start_fault, cell_ready,
			cell_ready_timeout, cell_stop,	cell_exited,	nop,		nop,
			nop,		nop,		nop,		cell_killed,	cell_survived,
			cell_signaled,	cell_unhealthy,	cell_hung },
	[SVC_RUNNING] = {
			nop,		nop,		nop,		nop,		nop,
			nop,		cell_stop,	cell_exited,	nop,		nop,
			nop,		nop,		nop,		cell_killed,	cell_survived,
			cell_signaled,	cell_unhealthy,	cell_hung },
	[SVC_STOPPING] = {
			cell_start_after, nop,		nop,		nop,		nop,
			cell_grace_over, cell_stop_again, cell_exited,	nop,		nop,
			nop,		nop,		nop,		cell_killed,	cell_survived,
			nop,		nop,		nop },
	[SVC_BACKOFF] = {
			cell_start,	nop,		nop,		nop,		nop,
			cell_start,	cell_down,	nop,		nop,		nop,
			nop,		nop,		cell_cancel,	nop,		nop,
			nop,		nop,		nop },
	[SVC_FAILED] = {
			cell_start,	nop,		nop,		nop,		nop,
			cell_retry,	cell_down,	nop,		nop,		nop,
			nop,		nop,		nop,		nop,		nop,
			nop,		nop,		nop },
};

#undef nop

struct worker_step
lifecycle_next(enum svc_state st, enum worker_event ev,
    const struct worker_facts *f)
{
	if ((unsigned)st >= SVC_NSTATES || (unsigned)ev >= WEV_N)
		return cell_nop(st, f);
	return lifecycle_table[st][ev](st, f);
}

enum stop_reason
lifecycle_stop_merge(enum stop_reason under_way, enum stop_reason why)
{
	if (under_way != STOP_RELOAD && (why == STOP_SHUTDOWN ||
	    why == STOP_RELOAD || under_way == STOP_NONE))
		return why;
	return under_way;
}

static const char *const state_names[] = {
	[SVC_STOPPED] = "stopped", [SVC_STARTING] = "starting",
	[SVC_RUNNING] = "running", [SVC_STOPPING] = "stopping",
	[SVC_BACKOFF] = "backoff", [SVC_FAILED] = "failed",
};

const char *
lifecycle_state_name(enum svc_state s)
{
	return state_names[s];
}

int
lifecycle_state_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < nitems(state_names); i++)
		if (strcmp(s, state_names[i]) == 0)
			return (int)i;
	return -1;
}

static const char *const event_names[] = {
	[WEV_START] = "start", [WEV_SPAWNED] = "spawned",
	[WEV_EXEC_FAILED] = "exec_failed", [WEV_FORK_FAILED] = "fork_failed",
	[WEV_READY] = "ready", [WEV_TIMEOUT] = "timeout", [WEV_STOP] = "stop",
	[WEV_EXITED] = "exited", [WEV_RESTART] = "restart",
	[WEV_RESTART_SCOPE] = "restart_scope", [WEV_STAY_DOWN] = "stay_down",
	[WEV_ESCALATE] = "escalate", [WEV_CANCEL] = "cancel",
	[WEV_KILLED] = "killed", [WEV_KILL_SURVIVED] = "kill_survived",
	[WEV_SIGNALED] = "signaled", [WEV_UNHEALTHY] = "unhealthy",
	[WEV_HUNG] = "hung",
};

const char *
lifecycle_event_name(enum worker_event ev)
{
	return (unsigned)ev < nitems(event_names) ? event_names[ev] : "?";
}

static const char *const action_names[WA_N] = {
	"recovering", "recovered", "count_fault", "count_streak",
	"clear_timer", "fork", "say_not_ready", "signal_stop", "signal_kill",
	"signal_abort", "grace_kill", "say_started", "say_ready",
	"say_start_failed", "say_start_backoff", "say_exit_failed",
	"say_unhealthy", "say_backoff", "arm_timer",
	"stop_strays", "mark_killed", "unmark_killed", "signal_operator",
	"tell_parent", "report_crash",
	"report_exit", "report_down",
};

const char *
lifecycle_action_name(uint32_t a)
{
	unsigned	i;

	for (i = 0; i < WA_N; i++)
		if (a == 1u << i)
			return action_names[i];
	return NULL;
}
