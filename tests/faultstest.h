/*
 * faultstest.h: what the resource-fault suites (check_faults,
 * check_faults_flood, check_faults_procs) share, on top of testlib.h:
 * requests on a connection of their own, a client's leave that warden
 * has seen, and warden's fds and memory as /proc has them.
 */
#ifndef WARDEN_TESTS_FAULTSTEST_H
#define WARDEN_TESTS_FAULTSTEST_H

#include <sys/types.h>

#include <jansson.h>

#include "harness.h"

#define FT_WAIT		5000	/* failure bound of one wait, ms */
#define FT_CASE		30	/* failure bound of one test, s */

/* A request on an open connection (params: ' for ") and its result. */
json_t	*ft_conn_result(struct harness_conn *c, const char *method,
	    const char *params);
/* A ping on c, answered "pong". */
void	 ft_conn_ping(struct harness_conn *c);
/*
 * Half-close c and wait until warden closes its end: warden has let the
 * client go (and closed its fd) when this returns.
 */
void	 ft_close_synced(struct harness_conn *c);
/* A ping on a connection of its own, gone on warden's side on return. */
void	 ft_ping_synced(struct harness *h);
/* VmRSS of pid, in kB. */
long	 ft_rss_kb(pid_t pid);
/* How many fds pid has open; the highest in *maxfd when not NULL. */
int	 ft_fd_count(pid_t pid, int *maxfd);

#endif
