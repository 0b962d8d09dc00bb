/*
 * health.c: the rounds of each worker's liveness probe (see health-run.h):
 * a timer per worker for its next round, the rounds due waiting in one
 * queue, begun a bounded number per turn of the loop and in flight, each
 * outcome counted by core/health.c and, once the worker is judged
 * unhealthy, handed to worker_unhealthy(). health-probe.c runs the probes.
 *
 * Rounds are due on ticks of HEALTH_TICK_MS: the rounds of many workers
 * then wake warden once a tick, not once each, and take one turn of the
 * loop to begin, which is most of what a probe costs warden apart from
 * its connection (a thousand probed every second: a hundred wake-ups, not
 * a thousand times two).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "health.h"
#include "health-private.h"
#include "log.h"
#include "tree-private.h"
#include "util.h"

struct event_base	*health_base;
static struct event	*ev_turn;	/* the next turn's share of the queue */
static struct health_run **dueq;	/* the rounds due, oldest first */
static size_t		 due_head, due_n, due_cap;
static bool		 stopped;	/* shutdown or reexec: no new round */
static bool		 in_turn;	/* health_turn_cb() runs */

/* Rounds are due on multiples of this, in ms of the monotonic clock. */
#define HEALTH_TICK_MS	10

static void	health_turn_cb(evutil_socket_t, short, void *);
static void	health_due_cb(evutil_socket_t, short, void *);

void
health_init(struct event_base *b)
{
	health_base = b;
	stopped = false;
	if ((ev_turn = evtimer_new(b, health_turn_cb, NULL)) == NULL)
		fatalx("cannot create the probes' event");
}

static const struct health_conf *
health_conf_of(const struct node *n)
{
	return n->conf != NULL ? n->conf->health : NULL;
}

/* --- the queue of rounds due ----------------------------------------------------- */

/*
 * The rounds due begin in this turn of the loop, once the callbacks under
 * way are done: made active, with no timer (a timer would cost a wake-up
 * and two system calls). Not from the turn itself, which may begin no
 * more (health_turn_later()): a probe that fails as it begins calls here.
 */
void
health_kick(void)
{
	if (in_turn || evtimer_pending(ev_turn, NULL))
		return;
	event_active(ev_turn, EV_TIMEOUT, 1);
}

/* The rest at the next turn of the loop, after what else is waiting. */
static void
health_turn_later(void)
{
	struct timeval	tv = { 0, 0 };

	if (!evtimer_pending(ev_turn, NULL) && evtimer_add(ev_turn, &tv) == -1)
		fatalx("cannot arm the probes' turn");
}

static void
health_enqueue(struct health_run *r)
{
	if (r->queued)
		return;
	if (due_n == due_cap && due_head > 0) {
		/* Compact what was taken before growing. */
		memmove(dueq, dueq + due_head, (due_n - due_head) *
		    sizeof(*dueq));
		due_n -= due_head;
		due_head = 0;
	}
	if (due_n == due_cap) {
		due_cap = due_cap ? due_cap * 2 : 64;
		dueq = xreallocarray(dueq, due_cap, sizeof(*dueq));
	}
	dueq[due_n++] = r;
	r->queued = true;
	health_kick();
}

static void
health_dequeue(struct health_run *r)
{
	size_t	i;

	if (!r->queued)
		return;
	for (i = due_head; i < due_n; i++)
		if (dueq[i] == r)
			dueq[i] = NULL;
	r->queued = false;
}

/*
 * The next round of r, at r->st.next_at rounded up to a tick. Counted in
 * µs from libevent's clock, read now, so that rounds on the same tick end
 * on the same instant and fire together.
 */
static void
health_arm(struct health_run *r)
{
	uint64_t	at, now, us;
	struct timeval	tv;

	at = (r->st.next_at + HEALTH_TICK_MS - 1) / HEALTH_TICK_MS *
	    HEALTH_TICK_MS * 1000;
	(void)event_base_update_cache_time(health_base);
	now = util_now_us();
	us = at > now ? at - now : 0;
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	if (evtimer_add(r->timer, &tv) == -1)
		fatalx("cannot arm a probe's timer");
}

static void
health_due_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	health_enqueue(arg);
}

/* A round begins: its probe, or its failure to begin, counted at once. */
static void
health_begin_round(struct health_run *r)
{
	const struct health_conf	*hc = health_conf_of(r->node);
	char				 why[HEALTH_WHY_MAX + 64];

	if (hc == NULL || r->pid <= 0)
		return;
	r->began = util_now_ms();
	if (probe_start(r, hc, why, sizeof(why)) == 0)
		return;
	health_probe_done(r, false, why);
}

/*
 * This turn's share of the rounds due: HEALTH_PER_TURN at most, and none
 * beyond the probes allowed in flight; what is left waits for a turn.
 */
static void
health_turn_cb(evutil_socket_t fd, short what, void *arg)
{
	const struct health_conf	*hc;
	struct health_run		*r;
	unsigned			 begun = 0;

	(void)fd;
	(void)what;
	(void)arg;
	in_turn = true;
	while (due_head < due_n && !stopped) {
		if ((r = dueq[due_head]) == NULL) {
			due_head++;
			continue;
		}
		hc = health_conf_of(r->node);
		if (begun == HEALTH_PER_TURN ||
		    probe_running() >= HEALTH_INFLIGHT_MAX ||
		    (hc != NULL && hc->check == HEALTH_EXEC &&
		    probe_exec_running() >= HEALTH_EXEC_MAX))
			break;
		due_head++;
		r->queued = false;
		health_begin_round(r);
		begun++;
	}
	in_turn = false;
	if (due_head == due_n)
		due_head = due_n = 0;
	/* Full: a probe's end calls again; else the next turn goes on. */
	else if (begun == HEALTH_PER_TURN)
		health_turn_later();
}

/* --- a worker's rounds ------------------------------------------------------------ */

static struct health_run *
health_run_new(struct node *n)
{
	struct health_run	*r = xcalloc(1, sizeof(*r));

	r->node = n;
	if ((r->timer = evtimer_new(health_base, health_due_cb, r)) == NULL)
		fatalx("cannot create a probe's timer");
	return r;
}

/* No round in flight or waiting: the probe abandoned, the timer off. */
static void
health_run_idle(struct health_run *r)
{
	if (r->probe != NULL) {
		probe_abandon(r->probe);
		r->probe = NULL;
	}
	health_dequeue(r);
	(void)evtimer_del(r->timer);
}

void
health_sync(struct node *n)
{
	const struct health_conf	*hc = health_conf_of(n);
	struct health_run		*r = n->health;

	if (hc == NULL || stopped || n->is_sup || n->state != SVC_RUNNING ||
	    n->pid <= 0) {
		if (r != NULL) {
			health_run_idle(r);
			/* Its verdict stays while the instance does (stopping). */
			if (hc == NULL || n->pid != r->pid)
				r->pid = 0;
		}
		return;
	}
	if (r == NULL)
		r = n->health = health_run_new(n);
	if (r->pid == n->pid) {
		/* Running again (a kill it lived through): its rounds go on. */
		if (r->probe == NULL && !r->queued &&
		    !evtimer_pending(r->timer, NULL))
			health_arm(r);
		return;
	}
	/* A new instance: its rounds from its start. */
	health_run_idle(r);
	r->pid = n->pid;
	r->offset = health_offset(n->name, hc->interval_ms);
	health_begin(&r->st, hc, r->offset, n->started_at != 0 ?
	    n->started_at : util_now_ms());
	free(r->last_error);
	r->last_error = NULL;
	r->last_wall = 0;
	health_arm(r);
}

void
health_forget(struct node *n)
{
	struct health_run	*r = n->health;

	if (r == NULL)
		return;
	health_run_idle(r);
	event_free(r->timer);
	free(r->last_error);
	free(r);
	n->health = NULL;
}

/* The failure said in the log, and kept for status. */
static void
health_say_failed(struct health_run *r, const struct health_conf *hc,
    enum health_outcome o, const char *why)
{
	struct node	*n = r->node;

	n->probe_failures++;
	free(r->last_error);
	r->last_error = xstrdup(why);
	if (o == HEALTH_FAILED_EARLY)
		log_info("%s: %s probe failed in its start period: %s",
		    n->name, health_check_name(hc->check), why);
	else if (o == HEALTH_FAILED)
		log_warnx("%s: %s probe failed (%u of %d in a row): %s",
		    n->name, health_check_name(hc->check),
		    (unsigned)r->st.consecutive, hc->failures, why);
}

void
health_probe_done(struct health_run *r, bool ok, const char *why)
{
	const struct health_conf	*hc = health_conf_of(r->node);
	enum health_verdict		 was = r->st.verdict;
	enum health_outcome		 o;

	if (hc == NULL)
		return;
	o = health_result(&r->st, hc, ok, r->began, util_now_ms());
	r->last_wall = util_wall_ms();
	if (ok) {
		free(r->last_error);
		r->last_error = NULL;
	} else
		health_say_failed(r, hc, o, why);
	if (!stopped)
		health_arm(r);
	/* A place in flight is free: the rounds waiting may go on. */
	if (due_head < due_n)
		health_kick();
	if (r->st.verdict != was)
		tree_changed();
	/* Last: it changes the worker's state, and so syncs r. */
	if (o == HEALTH_NOW_UNHEALTHY)
		worker_unhealthy(r->node, health_check_name(hc->check), why);
}

static int
health_reload_one(struct node *n, void *arg)
{
	const struct health_conf	*hc = health_conf_of(n);
	struct health_run		*r = n->health;

	(void)arg;
	if (r != NULL && r->pid > 0) {
		/* A round in flight ran by the old settings: begun again. */
		if (r->probe != NULL || r->queued) {
			health_run_idle(r);
			r->st.next_at = util_now_ms();
		}
		if (hc != NULL && n->pid == r->pid) {
			health_reschedule(&r->st, hc, util_now_ms());
			(void)evtimer_del(r->timer);
			health_arm(r);
		}
	}
	health_sync(n);
	return 0;
}

void
health_reload(void)
{
	size_t	i;

	(void)tree_each_worker(tree.root, health_reload_one, NULL);
	/* Retired workers have no settings left: no probe of theirs goes on. */
	for (i = 0; i < tree.nretired; i++)
		(void)tree_each_worker(tree.retired[i], health_reload_one, NULL);
}

/* Its round in flight or waiting dropped; due again at once unless for good. */
static int
health_drop_one(struct node *n, void *arg)
{
	struct health_run	*r = n->health;
	bool			 busy;

	if (r == NULL)
		return 0;
	busy = r->probe != NULL || r->queued;
	health_run_idle(r);
	if (busy && !stopped && r->pid > 0) {
		r->st.next_at = util_now_ms();
		health_arm(r);
	}
	(void)arg;
	return 0;
}

void
health_drop_all(bool for_good)
{
	size_t	i;

	if (for_good)
		stopped = true;
	if (tree.root != NULL)
		(void)tree_each_worker(tree.root, health_drop_one, NULL);
	for (i = 0; i < tree.nretired; i++)
		(void)tree_each_worker(tree.retired[i], health_drop_one, NULL);
}

void
health_free(void)
{
	health_drop_all(true);
	probe_free_all();
	free(dueq);
	dueq = NULL;
	due_head = due_n = due_cap = 0;
	if (ev_turn != NULL)
		event_free(ev_turn);
	ev_turn = NULL;
}

/* --- what clients see ------------------------------------------------------------- */

int
health_verdict_of(const struct node *n)
{
	if (n->health == NULL || n->health->pid <= 0 ||
	    health_conf_of(n) == NULL)
		return -1;
	return (int)n->health->st.verdict;
}

/*
 * Built member by member, as status.c builds the rest of a service: the
 * strings are ASCII (names, and reasons made printable by the probes).
 */
json_t *
health_json(const struct node *n)
{
	const struct health_conf	*hc = health_conf_of(n);
	const struct health_run		*r = n->health;
	int				 v = health_verdict_of(n);
	char				 iso[UTIL_ISO_LEN];
	json_t				*o;

	if (hc == NULL)
		return json_null();
	o = json_object();
	json_object_set_new_nocheck(o, "check",
	    json_string_nocheck(health_check_name(hc->check)));
	json_object_set_new_nocheck(o, "status", v < 0 ? json_null() :
	    json_string_nocheck(health_verdict_name((enum health_verdict)v)));
	json_object_set_new_nocheck(o, "failures", json_integer(v >= 0 ?
	    (json_int_t)r->st.consecutive : 0));
	json_object_set_new_nocheck(o, "last_error", v >= 0 &&
	    r->last_error != NULL ? json_string_nocheck(r->last_error) :
	    json_null());
	json_object_set_new_nocheck(o, "last_probe", v >= 0 &&
	    r->last_wall != 0 ? json_string_nocheck(util_iso_ms(r->last_wall,
	    iso)) : json_null());
	return o;
}
