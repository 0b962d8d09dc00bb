/*
 * downcause.c: why a worker went down (see downcause.h).
 */
#include "downcause.h"
#include "util.h"

static const char *const downcause_names[CAUSE_N] = {
	[CAUSE_NONE] = "none",
	[CAUSE_CRASH] = "crash",
	[CAUSE_EXIT] = "exit",
	[CAUSE_READY_TIMEOUT] = "ready_timeout",
	[CAUSE_UNHEALTHY] = "unhealthy",
	[CAUSE_WATCHDOG] = "watchdog",
	[CAUSE_OPERATOR] = "operator",
	[CAUSE_SUPERVISOR] = "supervisor",
	[CAUSE_START_FAILED] = "start_failed",
};

const char *
downcause_name(enum down_cause c)
{
	return (unsigned)c < nitems(downcause_names) ? downcause_names[c] :
	    "none";
}

enum down_cause
downcause_of(enum stop_reason why, bool abnormal, bool requested,
    bool start_failed)
{
	if (start_failed)
		return CAUSE_START_FAILED;
	switch (why) {
	case STOP_NONE:
		if (requested)
			return CAUSE_OPERATOR;
		return abnormal ? CAUSE_CRASH : CAUSE_EXIT;
	case STOP_READY_TIMEOUT:
		return CAUSE_READY_TIMEOUT;
	case STOP_UNHEALTHY:
		return CAUSE_UNHEALTHY;
	case STOP_WATCHDOG:
		return CAUSE_WATCHDOG;
	case STOP_SUPERVISOR:
	case STOP_FAILING:
		return CAUSE_SUPERVISOR;
	case STOP_OPERATOR:
	case STOP_RESTART:
	case STOP_RELOAD:
	case STOP_SHUTDOWN:
		break;
	}
	return CAUSE_OPERATOR;
}
