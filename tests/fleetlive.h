/*
 * fleetlive.h: what the suites of a fleet of real wardens on a real etcd
 * share (check_fleet_live.c, check_fleet_ctl.c): etcd and three wardens
 * that have joined, the test's own client of etcd on a loop of its own
 * (etcdloop.h), changes written as a fleet writer would, and waits on
 * the hosts' reports.
 */
#ifndef WARDEN_TESTS_FLEETLIVE_H
#define WARDEN_TESTS_FLEETLIVE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "etcdc.h"
#include "etcdtest.h"
#include "harness.h"

#define NHOSTS		3
#define PFX		"/warden/"
#define LIVE_WAIT	15000	/* ms: failure bound of one wait */

#define LIVE_CONF \
	"{ 'fleet': { 'etcd': ['%s'], 'host': 'w%d', 'lease_s': 2," \
	"    'timeout_ms': 1000 }," \
	"  'flags': { 'dark_mode': { 'default': true }," \
	"    'rollout': { 'default': 25 }, 'logctx': {}, 'telemetry': {} }," \
	"  'stages': [ { 'stage': 1, 'enable': ['logctx'] }," \
	"    { 'stage': 2, 'enable': ['telemetry'] } ]," \
	"  'guard': { 'max_restarts': 2, 'window_s': 60 }," \
	"  'supervisor': { 'max_restarts': 100, 'children': [" \
	"    { 'name': 'w', 'command': ['@WORKER@', '--exit-on-usr1', '1'] }" \
	"  ] } }"

/* --- hosts' reports ------------------------------------------------------------------ */

extern struct etcdtest	 etcd;
extern struct harness	 host[NHOSTS];
extern struct etcdc	*cli;
extern bool		 live_killed[NHOSTS];	/* a test killed it: no clean exit */

struct live_reports {
	int64_t	 want;		/* a report's revision at least this */
	bool	 seen[NHOSTS];
	bool	 gone[NHOSTS];	/* its key deleted (the lease expired) */
	bool	 done;
	bool	 want_gone;	/* done when host gone_of is gone */
	int	 gone_of;
	int	 only;		/* 1 + the one host waited for; 0: all */
	bool	 want_guard;	/* a report counts once it has a guard */
	bool	 want_observed;	/* ... once its readers have seen want */
};

/*
 * Host i's etcd endpoint when it is not etcd's own (a proxy's, say: set
 * before the host starts, NULL again after), its requests then bounded by
 * LIVE_VIA_TIMEOUT, so that a request the test holds is not given up.
 */
#define LIVE_VIA_TIMEOUT	30000
extern const char	*live_endpoint[NHOSTS];
/* Each host also runs "r", a worker reading flag logctx every 2 ms. */
extern bool		 live_readers;

/* Start host i (w1...) on etcd. */
void	 live_start_host(int i);
/* The fixture: etcd, and three wardens that have joined; and after. */
void	 live_setup(void);
void	 live_teardown(void);
/* The fixture in two: etcd and the test's client; then the wardens. */
void	 live_setup_etcd(void);
void	 live_setup_hosts(void);
/* A change's value by ctl-1, its fields as JSON text (malloc'd). */
char	*live_value(const char *fields);
/* A put without lease: its revision. */
int64_t	 live_put(const char *key, const char *value);
/* Every host waits until the condition (stolen) holds. */
void	 live_wait_all(json_t *cond);
/* Host i's status.fleet (a new reference). */
json_t	*live_fleet_status(int i);
/* Watch the hosts' reports from revision from until lr is done. */
void	 live_reports_wait(struct live_reports *lr, int64_t from);

#endif
