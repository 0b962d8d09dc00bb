/*
 * health-run.h: liveness probes at run time, health.c and health-probe.c
 * (warden.json(5) "health"; the schedule and verdicts are core/health.c's,
 * whose header is health.h). Every running instance of
 * a worker with a probe is probed from the loop, never blocking it: one
 * probe of a worker at a time, a bounded number begun per turn and in
 * flight, each with its deadline. After "failures" counted failures in a
 * row the worker is stopped as unhealthy (worker_unhealthy()), which its
 * supervisor takes as a crash.
 *
 * A probe ends with the instance it probes: when it exits or is stopped,
 * on a reload and at shutdown its probe is abandoned (an exec probe's
 * process group killed, a socket closed). At a reexec probes in flight
 * are dropped and nothing is handed over: the next image begins each
 * running worker's rounds again from the instance's start, its count of
 * failures at 0.
 */
#ifndef WARDEN_HEALTH_RUN_H
#define WARDEN_HEALTH_RUN_H

#include <stdbool.h>

#include <jansson.h>

struct event_base;
struct node;

/* Probes in flight at once, and exec probes among them (children of warden). */
#define HEALTH_INFLIGHT_MAX	128
#define HEALTH_EXEC_MAX		64
/* Probes begun per turn of the loop; the rest wait for the next turn. */
#define HEALTH_PER_TURN		32

void		 health_init(struct event_base *);
/* At exit: every run and probe freed (exec probes killed, not reaped). */
void		 health_free(void);

/*
 * After any change of n (its state, its pid, its settings): a new running
 * instance begins its rounds, one no longer running has its probe
 * abandoned and its rounds ended.
 */
void		 health_sync(struct node *);
/* n is freed. */
void		 health_forget(struct node *);
/* A reload applied: probes in flight dropped, each worker synced anew. */
void		 health_reload(void);
/*
 * Every probe in flight or waiting dropped: for_good at shutdown (no
 * round begins again), else before a reexec (due again at once, should
 * this image go on).
 */
void		 health_drop_all(bool for_good);

/*
 * Status: {check, status, failures, last_error, last_probe}, or null when
 * n has no probe; status is null while no instance runs.
 */
json_t		*health_json(const struct node *);
/* A wait's view: enum health_verdict, or -1 when n is not being probed. */
int		 health_verdict_of(const struct node *);

#endif
