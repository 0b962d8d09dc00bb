/*
 * fleetd-private.h: what fleetd.c (joining, the lease, the report, the
 * watch's life), fleetd-apply.c (etcd's keys made local changes through
 * the flag service), fleetd-hosts.c (the hosts' reports, watched while a
 * write waits on them), fleetd-status.c and fleetd-write.c share.
 */
#ifndef WARDEN_FLEETD_PRIVATE_H
#define WARDEN_FLEETD_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "etcd.h"
#include "etcdc.h"
#include "fleet.h"

struct event;
struct fleetd_read;

struct fleetd {
	struct event_base	*base;
	struct etcdc		*cli;
	char			*prefix;
	char			*desired;	/* P"desired/": what is watched */
	char			 host[FLEET_NAME_BUF];
	char			*fp;		/* the fleet's settings: a reload compares */
	int			 lease_s;
	uint64_t		 gen;		/* of this membership: stale callbacks see another */
	int64_t			 lease;		/* 0: none (to grant) */
	int64_t			 revision;	/* the etcd revision applied */
	int64_t			 applied_at;	/* realtime ms */
	int64_t			 observed_rev;	/* of it, seen by every reader */
	uint64_t		 observe_gen;	/* the generation it made */
	bool			 need_resync;	/* the whole prefix is read next */
	json_t			*rejected;	/* [{key, revision, reason}], newest last */
	struct etcdc_req	*call;		/* a grant or the range, in flight */
	struct etcdc_req	*watch;
	bool			 watching;	/* created, events flowing */
	struct etcdc_req	*ka;		/* a keepalive in flight */
	struct etcdc_req	*put;		/* the report in flight */
	bool			 put_again;	/* the state changed while it flew */
	struct event		*ka_ev, *retry_ev;
	int			 backoff_ms;
	/* A batch of steps handed to the flag service, until each is done. */
	size_t			 inflight;
	int64_t			 batch_rev;	/* the revision they bring */
	bool			 batch_resync;	/* from a range: then the watch */
	bool			 batch_failed;	/* one could not be made durable */
	json_t			*queue;		/* watch objects waiting for it */
	int64_t			 change_rev;	/* the newest change of a stage or flag key */
	uint64_t		 events;	/* watch events received (both) */
	/*
	 * The hosts' reports, read and watched only while a write waits on
	 * them (fleetd-hosts.c): a member does not receive each report.
	 */
	json_t			*hosts;		/* {HOST: report's text}; NULL: none */
	unsigned		 hosts_holds;	/* writes waiting on them */
	struct etcdc_req	*hosts_call;	/* the range, in flight */
	struct etcdc_req	*hosts_watch;
	json_t			*hosts_queue;	/* watch answers awaiting the range */
	struct event		*hosts_retry_ev;
	int			 hosts_backoff_ms;
	char			*hosts_error;	/* why unread; NULL: read */
	/* fleet.status reads in flight (fleetd-status.c). */
	struct fleetd_read	*reads;
};

extern struct fleetd	*fleetd;

int64_t		 fleetd_now_ms(void);
/* Keep a rejection for the report and log it. */
void		 fleetd_reject(const char *key, int64_t revision, const char *why);
/* This host's report, as put in etcd (malloc'd). */
char		*fleetd_report_text(void);
/* Put the report (again, once the one in flight is answered). */
void		 fleetd_report(void);
/*
 * What was applied is now the table's (observe_gen set): whether every
 * worker reading the table has seen it (observed_rev moves); if not, the
 * report is put again once they have.
 */
bool		 fleetd_observe(void);
/* A range of every key under prefix, at revision (0: the newest). */
struct etcdc_req *fleetd_range_of(const char *prefix, int64_t revision,
		    etcdc_call_cb *cb, void *arg);
/* Go on with what is due: a lease, a resync, the watch. */
void		 fleetd_next(void);
/* Something failed: fleetd_next() again after the backoff. */
void		 fleetd_retry(void);
/* Arm ev after the backoff *ms: 100 ms, then doubling to 5 s. */
void		 fleetd_backoff(struct event *ev, int *ms);

/*
 * fleetd-status.c: {applied, lagging, unseen}, the live hosts of the view
 * fleetd->hosts that have applied revision, that have not, and those that
 * have but whose readers have not all seen it (none while it is NULL).
 */
json_t		*fleetd_lag_of(int64_t revision);

/*
 * fleetd-hosts.c: a write starts waiting on the hosts' reports (the first
 * one watches P"hosts/" and reads it at the watch's start; each change
 * calls fleetd_write_observe()), or stops (the last one cancels the watch
 * and drops the view).
 */
void		 fleetd_hosts_hold(void);
void		 fleetd_hosts_release(void);
/* Cancel it all: the membership ends. */
void		 fleetd_hosts_stop(void);
/* A host's report (etcd's kv) in the view (object), or deleted from it. */
void		 fleetd_hosts_kv(json_t *view, const struct etcd_kv *,
		    bool deleted);
/* fleetd-write.c: a host's report changed; writes waiting on it see. */
void		 fleetd_write_observe(void);

/* fleetd-apply.c */
/* A range's answer: the plan of the whole prefix, handed over as a batch. */
void		 fleetd_apply_range(const struct etcd_range *);
/* One object of the watch's stream (queued while a batch is in flight). */
void		 fleetd_apply_watch(json_t *object);
/* The batch is done: the revision it brought, then what was queued. */
void		 fleetd_apply_settled(void);

#endif
