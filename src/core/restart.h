/*
 * restart.h: the pure decisions of supervision, apart from any I/O so that
 * unit tests can drive them directly: which exits are abnormal, whether a
 * child is restarted, which siblings a failure takes down, the restart
 * intensity window, and the backoff delay.
 */
#ifndef WARDEN_RESTART_H
#define WARDEN_RESTART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/*
 * An exit is normal when the code is 0 or the process died of its own stop
 * signal; anything else (non-zero code, another signal) is abnormal.
 * sig is 0 when the process exited with code.
 */
bool	restart_exit_abnormal(int code, int sig, int stop_signal);

/* Does a child of this restart type come back after this kind of exit? */
bool	restart_wanted(enum restart_type, bool abnormal);

/*
 * The children [*lo, *hi] that the failure of child `failed` (of n) stops
 * and starts again under the strategy: one_for_one the child alone,
 * rest_for_one it and every later sibling, one_for_all all of them.
 */
void	restart_scope(enum strategy, size_t n, size_t failed, size_t *lo, size_t *hi);

/*
 * Restart intensity: at most max_restarts restarts within max_seconds.
 * The window keeps the restart times that are still in it, the last
 * max_restarts + 1 at most; the limit is exceeded when it holds
 * max_restarts + 1, that is when the oldest of the last max_restarts + 1
 * is less than max_seconds old (a restart exactly max_seconds later no
 * longer counts). max_restarts 0 means any restart exceeds it. The ring
 * grows with the restarts in the window, not to max_restarts at once: a
 * budget of a million costs nothing until a million restarts come.
 */
struct intensity {
	uint64_t	*stamps;	/* ring of restart times, ms, oldest first */
	size_t		 cap;		/* room now */
	size_t		 max;		/* max_restarts + 1: room at most */
	size_t		 len;
	size_t		 head;		/* index of the oldest */
};

void	intensity_init(struct intensity *, int max_restarts);
void	intensity_free(struct intensity *);
void	intensity_reset(struct intensity *);
/* Record a restart at now_ms; true when that exceeds the limit. */
bool	intensity_add(struct intensity *, int max_seconds, uint64_t now_ms);
/* Put back a restart recorded earlier (a reexec's), oldest first. */
void	intensity_push(struct intensity *, uint64_t stamp_ms);
/* Restarts recorded within the window ending at now_ms. */
size_t	intensity_count(const struct intensity *, int max_seconds, uint64_t now_ms);

/*
 * Delay before restart number n (1 for the first after a failure streak
 * began): min(max_ms, initial_ms * factor^(n-1)), then spread by
 * +-jitter using r in [0, 1) and kept within [0, max_ms].
 */
uint32_t	backoff_delay_ms(const struct backoff_conf *, unsigned n, double r);

/*
 * The failure streak that sets n: it starts again after reset_after_ms of
 * healthy running. ran_ms is how long the child ran (ready to exit).
 */
unsigned	backoff_next_streak(const struct backoff_conf *, unsigned streak, uint64_t ran_ms);

/*
 * Two regimes. A worker that gives no backoff, under a supervisor that
 * gives neither max_restarts nor max_seconds, is in the safe regime: its
 * restarts are spaced by restart_safe_delay_ms() and are not charged to
 * the supervisor's intensity, so a flaky worker in a naive config cannot
 * bring warden down. Anything given explicitly keeps the OTP semantics.
 */
bool		restart_safe_regime(const struct child_conf *sup,
		    const struct child_conf *child);
/*
 * The safe regime's delay before restart n of a failure streak: the first
 * at once (a worker killed once is back as fast as ever), then 100 ms
 * doubling up to 30 s, +-20 % jitter by r in [0, 1).
 */
#define RESTART_SAFE_INITIAL_MS	100
#define RESTART_SAFE_MAX_MS	30000
uint32_t	restart_safe_delay_ms(unsigned n, double r);

/*
 * Why a start left no running worker, from what spawn reported: the stage
 * that failed in the child ("exec", "chdir", "setuid", "rlimits.nofile",
 * ...; NULL when
 * fork or pipe failed in warden) and its errno.
 */
enum start_fault {
	FAULT_NONE,
	FAULT_EXEC,	/* the command cannot be run as configured: the service's own */
	FAULT_RESOURCE,	/* warden is out of descriptors, processes or memory */
};

enum start_fault restart_start_fault(const char *stage, int err);
/*
 * The name a fault's stage goes by in a reason: "exec", "cwd", "user",
 * "group", or the limit refused ("rlimits.nofile") as it is.
 */
const char	*restart_fault_stage(const char *stage);
/*
 * The delay before retry n (1 for the first) of a start that failed that
 * way: an exec fault 1 s doubling to 60 s, a resource fault 100 ms
 * doubling to 5 s. Neither is charged to the supervisor's intensity.
 */
#define RESTART_EXEC_INITIAL_MS		1000
#define RESTART_EXEC_MAX_MS		60000
#define RESTART_RESOURCE_INITIAL_MS	100
#define RESTART_RESOURCE_MAX_MS		5000
uint32_t	restart_fault_delay_ms(enum start_fault, unsigned n);

/*
 * The whole decision when a child of supervisor sup went down without being
 * asked: stay down, restart the scope [lo, hi] after delay_ms, or give up
 * (the supervisor has exceeded its intensity and fails in turn; its parent
 * then decides about it in the same way). Records the restart in `in`,
 * except in the safe regime, where the delay is restart_safe_delay_ms().
 */
enum restart_action {
	RESTART_STAY_DOWN,	/* not restarted: stopped (normal exit) or failed */
	RESTART_SCOPE,		/* restart children lo..hi */
	RESTART_ESCALATE,	/* the supervisor gives up */
};

struct restart_decision {
	enum restart_action	action;
	bool			failed;		/* STAY_DOWN after an abnormal exit */
	size_t			lo, hi;
	uint32_t		delay_ms;
};

struct restart_decision	restart_decide(const struct child_conf *sup,
			    const struct child_conf *child, size_t index, bool abnormal,
			    struct intensity *in, unsigned streak, uint64_t now_ms, double r);

#endif
