/*
 * restarttest.h: what the suites of src/core/restart.c (check_restart,
 * check_backoff) share: configurations built by hand, as config.c would
 * leave them, so that each test shows exactly the settings a decision
 * depends on, and the check of a decision.
 */
#ifndef WARDEN_TESTS_RESTARTTEST_H
#define WARDEN_TESTS_RESTARTTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "restart.h"

struct child_conf	 sup_conf(enum strategy strategy, int max_restarts,
			    int max_seconds, size_t nchildren);
struct child_conf	 worker_conf(enum restart_type restart,
			    uint32_t initial_ms, uint32_t max_ms, double factor,
			    double jitter);
/* d is this action, failure, scope [lo, hi] and delay. */
void			 check_decision(const struct restart_decision *d,
			    enum restart_action action, bool failed, size_t lo,
			    size_t hi, uint32_t delay_ms, const char *what);

#endif
