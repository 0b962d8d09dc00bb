/*
 * etcdloop.h: what the suites of the gateway client (check_etcdc*.c)
 * share: a libevent loop in the test with a heartbeat timer, waits that
 * turn it until the callback proving an event has come (ETCDLOOP_WAIT
 * only bounds a failure), calls that must succeed, and a watcher that
 * keeps every object of a watch and checks its revision order.
 */
#ifndef WARDEN_TESTS_ETCDLOOP_H
#define WARDEN_TESTS_ETCDLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "etcd.h"
#include "etcdc.h"
#include "etcdtest.h"

#define ETCDLOOP_WAIT		20000	/* failure bound of a wait, ms */
#define ETCDLOOP_TIMEOUT	2000	/* the client's request timeout, ms */
#define ETCDLOOP_PING_MS	10	/* the loop's heartbeat */

/* The loop, its heartbeats and the longest gap between two (ms). */
extern struct event_base	*etcdloop_base;
extern int			 etcdloop_pings;
extern uint64_t			 etcdloop_gap_max;

/* A new loop with its heartbeat. */
void	etcdloop_setup(void);
/* Turn the loop until *flag, failing the test past ETCDLOOP_WAIT. */
void	etcdloop_run_until(const bool *flag, const char *what);

/* A call's end, as etcdloop_answer_cb() keeps it. */
struct etcdloop_answer {
	bool	 done;
	int	 status;
	json_t	*j;
	char	*err;
};

void	etcdloop_answer_cb(void *arg, int status, json_t *j, const char *err);
void	etcdloop_answer_free(struct etcdloop_answer *);
/* One call to its end: the answer (free it). body stolen. */
struct etcdloop_answer etcdloop_call(struct etcdc *, const char *path,
	    json_t *body);
/* A call that must succeed: its answer object (new reference). */
json_t	*etcdloop_call_ok(struct etcdc *, const char *path, json_t *body);
/* A put that must succeed: its revision. */
int64_t	 etcdloop_put(struct etcdc *, const char *key, const char *value,
	    int64_t lease);
/* The range over key (end NULL: the key alone); free it. */
struct etcd_range etcdloop_range(struct etcdc *, const char *key,
	    const struct etcd_buf *end);
/* A client of urls, or of e, with ETCDLOOP_TIMEOUT. */
struct etcdc *etcdloop_client_of(const char *const *urls, size_t n);
struct etcdc *etcdloop_client(const struct etcdtest *e);

/* A watch's objects, kept in order; done once events reach want. */
struct etcdloop_watcher {
	struct etcdc_req	*r;
	json_t			*objects;	/* every object, in order */
	size_t			 events;	/* events seen in them */
	int64_t			 last_rev;	/* the last event's mod_revision */
	bool			 created, ended;
	size_t			 want;		/* set done when events reach it */
	bool			 done;
	enum etcdc_end		 end;
	char			*err;
};

void	etcdloop_watcher_event(void *arg, json_t *o);
void	etcdloop_watcher_end(void *arg, enum etcdc_end end, const char *err);
/* A watch of every key under prefix from revision from (0: now on). */
void	etcdloop_watch_start(struct etcdc *, struct etcdloop_watcher *,
	    const char *prefix, int64_t from);
void	etcdloop_watch_free(struct etcdloop_watcher *);

#endif
