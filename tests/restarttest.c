/*
 * restarttest.c: what the restart-decision suites share (restarttest.h).
 */
#include <check.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "restart.h"
#include "restarttest.h"

static const char *const action_names[] = {
	[RESTART_STAY_DOWN] = "stay_down",
	[RESTART_SCOPE] = "scope",
	[RESTART_ESCALATE] = "escalate",
};

/*
 * Configurations are built by hand, as config.c would leave them, so that
 * each test shows exactly the settings the decision depends on.
 */
struct child_conf
sup_conf(enum strategy strategy, int max_restarts, int max_seconds,
    size_t nchildren)
{
	struct child_conf	c;

	memset(&c, 0, sizeof(c));
	c.is_sup = true;
	c.restart = RESTART_PERMANENT;
	c.strategy = strategy;
	c.max_restarts = max_restarts;
	c.max_seconds = max_seconds;
	c.nchildren = nchildren;
	return c;
}

struct child_conf
worker_conf(enum restart_type restart, uint32_t initial_ms, uint32_t max_ms,
    double factor, double jitter)
{
	struct child_conf	c;

	memset(&c, 0, sizeof(c));
	c.is_sup = false;
	c.restart = restart;
	c.stop_signal = SIGTERM;
	c.shutdown_ms = 5000;
	c.backoff.initial_ms = initial_ms;
	c.backoff.max_ms = max_ms;
	c.backoff.factor = factor;
	c.backoff.jitter = jitter;
	c.backoff.reset_after_ms = 10000;
	return c;
}

void
check_decision(const struct restart_decision *d, enum restart_action action,
    bool failed, size_t lo, size_t hi, uint32_t delay_ms, const char *what)
{
	ck_assert_msg(d->action == action, "%s: action %s, expected %s", what,
	    action_names[d->action], action_names[action]);
	ck_assert_msg(d->failed == failed, "%s: failed %d, expected %d", what,
	    (int)d->failed, (int)failed);
	ck_assert_msg(d->lo == lo && d->hi == hi,
	    "%s: scope [%zu, %zu], expected [%zu, %zu]", what, d->lo, d->hi,
	    lo, hi);
	ck_assert_msg(d->delay_ms == delay_ms, "%s: delay %u, expected %u",
	    what, (unsigned)d->delay_ms, (unsigned)delay_ms);
}
