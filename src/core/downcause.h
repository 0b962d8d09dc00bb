/*
 * downcause.h: why a worker went down, as the restart that follows is
 * counted (warden_service_restarts_total{reason}). Pure: the daemon
 * records the cause when the worker's process ends and counts it when
 * the worker is started again.
 */
#ifndef WARDEN_DOWNCAUSE_H
#define WARDEN_DOWNCAUSE_H

#include <stdbool.h>

#include "lifecycle.h"

enum down_cause {
	CAUSE_NONE,		/* never down yet */
	CAUSE_CRASH,		/* exited abnormally, nobody asked (service.kill too) */
	CAUSE_EXIT,		/* exited normally, nobody asked */
	CAUSE_READY_TIMEOUT,	/* not ready in time */
	CAUSE_UNHEALTHY,	/* its liveness probe failed */
	CAUSE_WATCHDOG,		/* it stopped feeding its watchdog */
	CAUSE_OPERATOR,		/* stop, restart, signal, reload */
	CAUSE_SUPERVISOR,	/* its supervisor's restart operation or stop */
	CAUSE_START_FAILED,	/* its command could not be executed */
};
#define CAUSE_N		(CAUSE_START_FAILED + 1)

/*
 * The exit of a worker that was being stopped for why (STOP_NONE: nobody
 * asked), abnormal by its code or signal, requested by the operator's
 * signal (service.signal), or start_failed: its command never ran.
 */
enum down_cause	 downcause_of(enum stop_reason why, bool abnormal,
		    bool requested, bool start_failed);
/* "crash", "exit"...: the reason label; "none" for CAUSE_NONE. */
const char	*downcause_name(enum down_cause);

#endif
