/*
 * health-private.h: what health.c (the rounds of each worker) and
 * health-probe.c (one probe: a command, a connect, an HTTP request)
 * share.
 */
#ifndef WARDEN_HEALTH_PRIVATE_H
#define WARDEN_HEALTH_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "health.h"
#include "health-run.h"

struct event;
struct event_base;
struct probe;

/* A worker's probing: one per worker with a probe, kept with its node. */
struct health_run {
	struct node		*node;
	pid_t			 pid;		/* the instance probed; 0: none */
	struct health_state	 st;
	uint32_t		 offset;	/* health_offset() of its name */
	struct event		*timer;		/* the next round */
	bool			 queued;	/* due, waiting for its turn */
	struct probe		*probe;		/* in flight, NULL: none */
	uint64_t		 began;		/* ... since (ms, monotonic) */
	char			*last_error;	/* NULL: the last probe passed */
	int64_t			 last_wall;	/* the last probe's end, wall ms */
};

extern struct event_base	*health_base;

/* The reason length kept from a probe's output or an answer. */
#define HEALTH_WHY_MAX		200

/* health-probe.c */
/*
 * Begin r's probe as hc says: 0 when begun (its end comes through
 * health_probe_done()), -1 when it could not begin, with why.
 */
int		 probe_start(struct health_run *, const struct health_conf *,
		    char *why, size_t whylen);
/* Its worker no longer wants it: it ends now, saying nothing. */
void		 probe_abandon(struct probe *);
/* Exec probes whose process is not reaped yet (abandoned ones too). */
unsigned	 probe_exec_running(void);
unsigned	 probe_running(void);
/* At exit: what is left freed, exec probes killed. */
void		 probe_free_all(void);

/* health.c: the rounds waiting go on at the next turn (a place is free). */
void		 health_kick(void);
/* r's probe ended (r->probe is already NULL). */
void		 health_probe_done(struct health_run *, bool ok, const char *why);

#endif
