/*
 * healthtest.h: what the liveness probe suites (check_health,
 * check_health_exec, check_health_many) share, on top of testlib.h.
 */
#ifndef WARDEN_TESTS_HEALTHTEST_H
#define WARDEN_TESTS_HEALTHTEST_H

#include <jansson.h>

#include "harness.h"

#define HT_CASE		60	/* failure bound of one test, s */

/*
 * warden started on a root supervisor (100 restarts in 60 s) over the
 * children given (JSON objects, ' for "), the list ended by NULL.
 */
void	 ht_start(struct harness *h, ...) __attribute__((sentinel));
/*
 * prepare() on the root supervisor over child (' for "), with an
 * executable script name in DIR holding text; not launched.
 */
void	 ht_prepare_probe(struct harness *h, const char *child,
	    const char *name, const char *text);
/* The root supervisor's children text for the same, malloc'd. */
char	*ht_conf(const char *const *children, size_t n);
/* The wait method: service's probe says status ("healthy"...). */
void	 ht_wait_health(struct harness *h, const char *service,
	    const char *status);
/*
 * The next service.unhealthy of service on sub, which must say check
 * (unless NULL) and reason: the event, a new reference.
 */
json_t	*ht_unhealthy(struct harness_conn *sub, const char *service,
	    const char *check, const char *reason);
/*
 * warden with one worker "w" whose exec probe, every 100 ms, appends a
 * line to the file *path (malloc'd) and passes; once it is healthy: its
 * pid.
 */
pid_t	 ht_start_rounds(struct harness *h, char **path);
/* The file at path has at least n lines (a probe appends one a round). */
void	 ht_wait_lines(const char *path, int n);

#endif
