/*
 * metricstest.h: what the metrics suites share (check_metrics,
 * check_metrics_http, check_prometheus): warden's metrics by RPC and by
 * HTTP, a sample's value read from the text, and promtool. Each helper
 * asserts, as testlib.h's do.
 */
#ifndef WARDEN_TESTS_METRICSTEST_H
#define WARDEN_TESTS_METRICSTEST_H

#include <stdbool.h>
#include <sys/types.h>

#include "harness.h"

#define MT_PROMTOOL	"/usr/bin/promtool"
#define MT_PROMETHEUS	"/usr/bin/prometheus"
#define MT_PACKAGE	"prometheus"	/* Debian's package of both */

/* Where warden's endpoint answers ("127.0.0.1:PORT"), malloc'd. */
char	*mt_listen(struct harness *);
/* The text by RPC "metrics", malloc'd. */
char	*mt_rpc_text(struct harness *);
/* GET /metrics at listen: 200, the exposition's content type; the body. */
char	*mt_http_text(const char *listen);
/* Whether the text has the sample (name and labels as written), and its value. */
bool	 mt_has(const char *text, const char *series);
double	 mt_value(const char *text, const char *series);
/*
 * The TCP sockets pid has open: its HTTP connections and listener. (Its
 * control clients are Unix sockets, closed as warden gets to their end.)
 */
int	 mt_tcp_fds(pid_t);
/* The program, which must be installed: else fail naming the package. */
void	 mt_need(const char *path);
/* promtool ARGS... (NULL-terminated) must exit 0; its output in the message. */
void	 mt_promtool(struct harness *, const char *stdin_file, ...)
	    __attribute__((sentinel));

#endif
