/*
 * fleetd-private.h: what fleetd.c (joining, the lease, the report, the
 * watch's life) and fleetd-apply.c (etcd's keys made local changes through
 * the flag service) share.
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

struct fleetd {
	struct event_base	*base;
	struct etcdc		*cli;
	char			*prefix;
	char			 host[FLEET_NAME_BUF];
	char			*fp;		/* the fleet's settings: a reload compares */
	int			 lease_s;
	uint64_t		 gen;		/* of this membership: stale callbacks see another */
	int64_t			 lease;		/* 0: none (to grant) */
	int64_t			 revision;	/* the etcd revision applied */
	int64_t			 applied_at;	/* realtime ms */
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
	/* The fleet as this member sees it, for fleet.status. */
	json_t			*hosts;		/* {HOST: its report's text} */
	int64_t			 change_rev;	/* the newest change of a stage or flag key */
};

extern struct fleetd	*fleetd;

int64_t		 fleetd_now_ms(void);
/* Keep a rejection for the report and log it. */
void		 fleetd_reject(const char *key, int64_t revision, const char *why);
/* Put the report (again, once the one in flight is answered). */
void		 fleetd_report(void);
/* Go on with what is due: a lease, a resync, the watch. */
void		 fleetd_next(void);
/* Something failed: fleetd_next() again after the backoff. */
void		 fleetd_retry(void);

/* fleetd-status.c: the live hosts that have applied revision, and not. */
void		 fleetd_lag_of(int64_t revision, json_t **applied,
		    json_t **lagging);
/* fleetd-write.c: a host's report changed; writes waiting on it see. */
void		 fleetd_write_observe(void);

/* fleetd-apply.c */
/* A key seen (a range's, or a watch event's): the view of the hosts. */
void		 fleetd_view_kv(const struct etcd_kv *, bool deleted);
/* A range's answer: the plan of the whole prefix, handed over as a batch. */
void		 fleetd_apply_range(const struct etcd_range *);
/* One object of the watch's stream (queued while a batch is in flight). */
void		 fleetd_apply_watch(json_t *object);
/* The batch is done: the revision it brought, then what was queued. */
void		 fleetd_apply_settled(void);

#endif
