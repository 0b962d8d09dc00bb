/*
 * controllines.h: many requests written out at once, for the control
 * suites that send them in one write (pipelined, or as one batch).
 */
#ifndef WARDEN_TESTS_CONTROLLINES_H
#define WARDEN_TESTS_CONTROLLINES_H

#include <stdbool.h>

/*
 * n requests of method with params (JSON text, NULL: none), ids first..:
 * one per line, or with batch one batch on one line; malloc'd.
 */
char	*controllines_requests(const char *method, const char *params,
	    long long first, int n, bool batch);
/* The same for wait, on cond (JSON text) for timeout_ms. */
char	*controllines_waits(const char *cond, int timeout_ms,
	    long long first, int n, bool batch);

#endif
