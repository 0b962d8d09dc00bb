/*
 * lifecycle.h: a worker's life as a table, state x event -> next state and
 * the actions for the daemon to perform, after s6-supervise's
 * actions[state][event]. Pure: what the decision depends on is passed in
 * as facts, and nothing here signals, forks or arms a timer; the daemon
 * (src/daemon/worker.c) performs the actions, in the order of their bits.
 * Every change of a worker's state goes through lifecycle_next().
 *
 * A worker has one timer; what it means depends on the state it was armed
 * in: the ready timeout (starting), the kill grace (stopping), the restart
 * delay (backoff), the retry delay of a start that failed (failed).
 */
#ifndef WARDEN_LIFECYCLE_H
#define WARDEN_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include "restart.h"

enum svc_state {
	SVC_STOPPED,	/* not running, and not about to be */
	SVC_STARTING,	/* process exists, readiness pending (supervisor: starting children);
			   a worker's start may also wait in a queue, with no process yet */
	SVC_RUNNING,	/* process exists and is ready (supervisor: all children started) */
	SVC_STOPPING,	/* stop signal sent, waiting for the exit */
	SVC_BACKOFF,	/* waiting out the delay before a restart */
	SVC_FAILED,	/* gave up: a supervisor over its intensity, a temporary child that
			   crashed, a worker whose command cannot be executed (retried slowly) */
};
#define SVC_NSTATES	(SVC_FAILED + 1)

/* Why a node is being stopped: decides what happens once it is down. */
enum stop_reason {
	STOP_NONE,		/* an exit nobody asked for: a failure */
	STOP_OPERATOR,		/* service.stop: stay down */
	STOP_RESTART,		/* service.restart: start again at once */
	STOP_SUPERVISOR,	/* the parent's restart operation or its own stop */
	STOP_FAILING,		/* this supervisor gave up */
	STOP_READY_TIMEOUT,	/* no readiness in time: counts as a failure */
	STOP_RELOAD,		/* removed or changed by a reload */
	STOP_SHUTDOWN,		/* warden is stopping */
	STOP_UNHEALTHY,		/* its liveness probe failed: counts as a failure */
	STOP_WATCHDOG,		/* no WATCHDOG=1 in time: aborted, a failure */
};

enum worker_event {
	WEV_START,		/* start asked: its supervisor, the operator, a reload */
	WEV_SPAWNED,		/* forked, and the child runs its command */
	WEV_EXEC_FAILED,	/* forked, but the child cannot run its command: it exits 127 */
	WEV_FORK_FAILED,	/* no process at all: fork or a pipe failed in warden */
	WEV_READY,		/* readiness came: a line on its fd, or READY=1 */
	WEV_TIMEOUT,		/* its timer fired (see above for what it means) */
	WEV_STOP,		/* stop asked, facts.why says by whom */
	WEV_EXITED,		/* its process was reaped */
	/* What its supervisor decided after an exit nobody asked for: */
	WEV_RESTART,		/* restart it alone, after facts.delay_ms */
	WEV_RESTART_SCOPE,	/* restart it with siblings: the supervisor's operation */
	WEV_STAY_DOWN,		/* keep it down; facts.failed: it failed for good */
	WEV_ESCALATE,		/* the supervisor gives up in turn */
	WEV_CANCEL,		/* the supervisor's operation takes it down from backoff */
	/* service.kill, the operator's fault injection: */
	WEV_KILLED,		/* a signal that ends it by default was sent to it */
	WEV_KILL_SURVIVED,	/* ... and it is still there after the grace */
	/* service.signal, the operator's request (a reload by HUP): */
	WEV_SIGNALED,		/* facts.sig is to be sent to it */
	/* Its liveness, judged by warden: */
	WEV_UNHEALTHY,		/* its probe failed "failures" times in a row */
	WEV_HUNG,		/* its watchdog ran out: no WATCHDOG=1 in time */
};
#define WEV_N	(WEV_HUNG + 1)

/*
 * The actions, performed in the order of their bits: recovery bookkeeping
 * first (a start at once must see the worker recovering), then the timer
 * and the process, then what is said, then the timer armed, and last the
 * report to the supervisor, which may apply another event to the worker.
 */
enum worker_action {
	WA_RECOVERING        = 1u << 0,	/* down unexpectedly: recovering since now, if not yet */
	WA_RECOVERED         = 1u << 1,	/* down as asked or for good: not recovering */
	WA_COUNT_FAULT       = 1u << 2,	/* a start made no worker: one more in a row */
	WA_COUNT_STREAK      = 1u << 3,	/* a failure: the backoff streak goes on (or anew) */
	WA_CLEAR_TIMER       = 1u << 4,
	WA_FORK              = 1u << 5,	/* fork+exec now, or queue the start in a storm */
	WA_SAY_NOT_READY     = 1u << 6,	/* log: not ready in time */
	WA_SIGNAL_STOP       = 1u << 7,	/* stop signal (and SIGCONT) to the group */
	WA_SIGNAL_KILL       = 1u << 8,	/* SIGKILL to the group and its strays, no grace */
	WA_SIGNAL_ABORT      = 1u << 9,	/* SIGABRT to the group (a hung worker's core) */
	WA_GRACE_KILL        = 1u << 10,	/* log: still running; SIGKILL to the group */
	WA_SAY_STARTED       = 1u << 11,	/* service.started; the last start's fault forgotten */
	WA_SAY_READY         = 1u << 12,	/* ready: service.ready, the recovery time */
	WA_SAY_START_FAILED  = 1u << 13,	/* log, service.failed with the fault's reason */
	WA_SAY_START_BACKOFF = 1u << 14, /* service.backoff with the fault's reason */
	WA_SAY_EXIT_FAILED   = 1u << 15,	/* log, service.failed: exited abnormally */
	WA_SAY_UNHEALTHY     = 1u << 16,	/* log, service.unhealthy with the probe's reason */
	WA_SAY_BACKOFF       = 1u << 17,	/* service.backoff before a restart */
	WA_ARM_TIMER         = 1u << 18,	/* the timer, step.timer_ms from now */
	WA_STOP_STRAYS       = 1u << 19,	/* what left the group: the stop signal, the grace */
	WA_MARK_KILLED       = 1u << 20,	/* shown stopping, recovering; the kill's grace */
	WA_UNMARK_KILLED     = 1u << 21,	/* log: it lives on; shown as it is again */
	WA_SIGNAL_OPERATOR   = 1u << 22,	/* facts.sig to the group, marked as asked;
					   service.signaled */
	WA_TELL_PARENT       = 1u << 23,	/* its supervisor takes another step */
	WA_REPORT_CRASH      = 1u << 24,	/* to the supervisor: down unasked, abnormally */
	WA_REPORT_EXIT       = 1u << 25,	/* to the supervisor: down unasked, normally */
	WA_REPORT_DOWN       = 1u << 26,	/* to the supervisor: down as asked (stop_reason) */
};
#define WA_N	27
/*
 * These may apply another event to the worker (a fork's outcome, the
 * supervisor's decision) or free it (a reload's retired node): no action
 * of the same step comes after them.
 */
#define WA_REENTERS	(WA_FORK | WA_REPORT_CRASH | WA_REPORT_EXIT | WA_REPORT_DOWN)

/*
 * What a decision depends on. The daemon fills in the worker's facts for
 * every event and the event's own for its event; the rest is ignored.
 */
struct worker_facts {
	/* the worker */
	bool		 has_pid;	/* a process exists (not: none yet, or queued) */
	enum stop_reason stopping;	/* the stop under way; STOP_NONE: none */
	enum start_fault fault;		/* why its last start made no worker */
	unsigned	 fault_tries;	/* such starts in a row so far */
	bool		 ready_at_once;	/* ready: none */
	uint32_t	 ready_timeout_ms;
	int		 shutdown_ms;	/* ms, SHUTDOWN_BRUTAL_KILL or SHUTDOWN_INFINITY */
	bool		 temporary;	/* restart: temporary */
	bool		 permanent;	/* restart: permanent */
	bool		 killed;	/* service.kill marked the process that runs */
	/* around it */
	bool		 going_down;	/* warden or its supervisor is stopping */
	bool		 may_retry;	/* failed: nothing else decides its next start
					   (its supervisor up, the operator wanting it) */
	bool		 parent_busy;	/* its supervisor is in a restart operation */
	/* the event's */
	enum stop_reason why;		/* WEV_STOP: who asks */
	bool		 abnormal;	/* WEV_EXITED: by its code or signal */
	bool		 failed;	/* WEV_STAY_DOWN: after an abnormal exit */
	uint32_t	 delay_ms;	/* WEV_RESTART, WEV_RESTART_SCOPE */
	/*
	 * WEV_EXITED: the instance got the operator's signal (service.signal):
	 * which, how long before its exit, and the signal it died of (0: it
	 * exited with a code). Its exit is a requested one when it died of
	 * that signal, or exited within its shutdown_ms after it
	 * (LIFECYCLE_SIGNAL_GRACE_MS without one), and service.kill had not
	 * signalled it too (exit_killed): a fault injected outranks it.
	 */
	bool		 signaled;
	int		 signal_sig;
	uint64_t	 since_signal_ms;
	int		 exit_sig;
	bool		 exit_killed;
	/* carried to the actions, not read by the table */
	uint64_t	 ran_ms;	/* WEV_EXITED: how long it ran ready */
	int		 sig;		/* WEV_KILLED, WEV_SIGNALED: the signal */
};

#define LIFECYCLE_SIGNAL_GRACE_MS	5000
/* A hung worker's time to dump core after SIGABRT, when shutdown_ms gives none. */
#define LIFECYCLE_ABORT_GRACE_MS	5000
/* That time for a worker of this shutdown_ms: its own, or the above. */
uint32_t	 lifecycle_abort_grace_ms(int shutdown_ms);

struct worker_step {
	bool		 ignored;	/* the event means nothing in this state */
	enum svc_state	 next;
	enum stop_reason stop_reason;	/* the worker's stop_reason from now on */
	uint32_t	 actions;	/* WA_* */
	uint32_t	 timer_ms;	/* WA_ARM_TIMER */
};

/* The cell (state, event) of the table, applied to the facts. */
struct worker_step	lifecycle_next(enum svc_state, enum worker_event,
			    const struct worker_facts *);

/*
 * A stop that is a failure of the worker's own (not ready in time,
 * unhealthy, hung): its exit is reported as a crash, however it ended.
 */
bool		 lifecycle_stop_failed(enum stop_reason);

/* WEV_EXITED: was the exit one the operator's signal asked for? */
bool		 lifecycle_exit_requested(const struct worker_facts *);

const char	*lifecycle_state_name(enum svc_state);
int		 lifecycle_state_parse(const char *);	/* -1 when not a state */
const char	*lifecycle_event_name(enum worker_event);
/* The name of one action bit, NULL when it is none. */
const char	*lifecycle_action_name(uint32_t);
/*
 * A stop asked while one is under way: a reload outranks the rest (the
 * node is retired), then a shutdown (nothing comes back); an exit nobody
 * asked for takes any reason.
 */
enum stop_reason lifecycle_stop_merge(enum stop_reason under_way,
		    enum stop_reason why);

#endif
