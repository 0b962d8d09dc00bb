/*
 * metrics-daemon.h: warden's metrics, collected at each scrape from the
 * tree, the flag service, the table, the guard, the control socket and
 * /proc/self (metrics.c), and written in the Prometheus text format
 * (src/core/metrics.c); served by RPC "metrics" and over HTTP
 * (metrics-http.c). warden(8), METRICS, lists every family.
 *
 * What no other part keeps is counted here as it happens: a worker's
 * restarts by the cause of its going down, and its recovery times.
 */
#ifndef WARDEN_METRICS_DAEMON_H
#define WARDEN_METRICS_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct node;
struct event_base;
struct config;

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* A worker went down unexpectedly: its recovery is timed from now. */
void	 metrics_node_down(struct node *);
/* Its process was made (a start after the first counts its cause). */
void	 metrics_node_spawned(struct node *);
/* Its new process runs its command / is ready again. */
void	 metrics_node_started(struct node *);
void	 metrics_node_ready(struct node *);

/* The whole exposition, malloc'd, NUL-terminated. */
char	*metrics_text(size_t *len);

/* metrics-http.c: the "metrics" key's endpoint. */
int	 metrics_http_start(struct event_base *, const struct config *,
	    char *err, size_t errlen);
/* A reload: bind a new address first (-1 with err: nothing changed). */
int	 metrics_http_reconfigure(const struct config *, char *err,
	    size_t errlen);
void	 metrics_http_stop(void);
/* "127.0.0.1:9464", "[::1]:9464" as bound, malloc'd; NULL when off. */
char	*metrics_http_address(void);
/*
 * A reexec: the listening socket goes to the next image (null when off),
 * which serves on it; with none handed over, or another address
 * configured, it binds anew.
 */
json_t	*metrics_http_handover(void);
int	 metrics_http_adopt(struct event_base *, const struct config *,
	    const json_t *, char *err, size_t errlen);

#endif
