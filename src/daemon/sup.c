/*
 * sup.c: supervisors at run time. A supervisor applies the restart
 * decision (restart.c) when a child goes down unasked, and its strategy
 * through a restart operation: the affected children stop in reverse
 * order, the backoff is waited out, and they start again in order, each
 * after the previous one is ready. Its own life is one function,
 * sup_step(), run from the kicks (tree.c); a worker child's changes go
 * through the lifecycle table (worker_apply()), a supervisor child's are
 * made here.
 */
#include <stdlib.h>

#include <event2/event.h>

#include "events.h"
#include "flagsvc.h"
#include "hooks.h"
#include "log.h"
#include "metrics-daemon.h"
#include "strays.h"
#include "tree-private.h"
#include "util.h"

void
sup_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node	*s = arg;

	(void)fd;
	(void)what;
	if (s->op_active && s->op_phase == OP_WAIT) {
		s->op_phase = OP_START;
		sup_step(s);
	}
}

static void
sup_reset_streaks(struct node *n)
{
	size_t	i;

	n->streak = 0;
	for (i = 0; i < n->nkids; i++)
		sup_reset_streaks(n->kids[i]);
}

void
sup_start(struct node *n)
{
	node_timer_clear(n);
	n->starts++;
	n->state = SVC_STARTING;
	n->ready = false;
	n->stop_reason = STOP_NONE;
	/* A supervisor starts afresh: its budget whole, its children's backoff reset. */
	intensity_reset(&n->intensity);
	sup_reset_streaks(n);
	n->op_active = true;
	n->op_gen++;
	n->op_initial = true;
	n->op_lo = 0;
	n->op_phase = OP_START;
	n->op_delay = 0;
	tree_kick(n);
}

void
sup_stop(struct node *n, enum stop_reason why)
{
	if (n->state == SVC_STOPPING) {
		if (n->stop_reason != STOP_RELOAD &&
		    (why == STOP_SHUTDOWN || why == STOP_RELOAD))
			n->stop_reason = why;
		return;
	}
	node_timer_clear(n);
	if (node_is_down(n)) {
		if (n->state == SVC_BACKOFF)
			n->state = SVC_STOPPED;
		n->stop_reason = why;
		node_down(n);
		return;
	}
	n->state = SVC_STOPPING;
	n->stop_reason = why;
	n->op_active = false;
	tree_kick(n);
}

/* Put a supervisor on the path to giving up. */
static void
sup_fail(struct node *s)
{
	node_stop(s, STOP_FAILING);
}

/* A supervisor that gave up is down: its parent decides about it in turn. */
void
sup_gave_up(struct node *n)
{
	n->state = SVC_FAILED;
	log_warnx("%s: supervisor gave up: more than %d restarts in %d s",
	    n->name, n->conf->max_restarts, n->conf->max_seconds);
	events_emit("supervisor.failed", json_pack("{s:s,s:i,s:i}",
	    "service", n->name, "max_restarts", n->conf->max_restarts,
	    "max_seconds", n->conf->max_seconds));
	hooks_supervisor_failed(n);
	if (n == tree.root) {
		log_warnx("the root supervisor failed: warden exits 3");
		tree.exit_status = 3;
		tree.shutting_down = true;
		strays_shutdown();
		tree_maybe_exit();
		return;
	}
	sup_child_failed(n, true);
}

/*
 * The decision about a child that is a supervisor, as the lifecycle table
 * makes it for a worker (a supervisor's restart has no delay: restart.c).
 */
static void
sup_verdict_sup(struct node *n, enum worker_event ev,
    const struct worker_facts *f)
{
	uint64_t	now = util_now_ms();

	switch (ev) {
	case WEV_STAY_DOWN:
		n->state = f->failed ? SVC_FAILED : SVC_STOPPED;
		n->recovering = false;
		n->down_since = 0;
		if (f->failed) {
			log_warnx("%s: failed; %s, so not restarted", n->name,
			    config_restart_name(n->conf->restart));
			events_emit("service.failed", json_pack("{s:s,s:s}",
			    "service", n->name, "reason", "exited abnormally"));
		}
		tree_kick(n->parent);
		return;
	case WEV_ESCALATE:
		n->state = SVC_FAILED;
		break;
	case WEV_RESTART:
		if (f->delay_ms == 0) {
			n->recovering = true;
			if (n->down_since == 0)
				n->down_since = now;
			node_start(n);
			return;
		}
		n->state = SVC_BACKOFF;
		node_timer_arm(n, f->delay_ms);
		break;
	case WEV_RESTART_SCOPE:
		if (f->delay_ms > 0)
			n->state = SVC_BACKOFF;
		break;
	default:
		return;
	}
	n->recovering = true;
	if (n->down_since == 0)
		n->down_since = now;
}

static void
sup_verdict(struct node *n, enum worker_event ev, bool failed,
    uint32_t delay_ms)
{
	struct worker_facts	f = { .failed = failed, .delay_ms = delay_ms };

	if (!n->is_sup) {
		worker_apply(n, ev, &f);
		return;
	}
	if (delay_ms > 0 && (ev == WEV_RESTART || ev == WEV_RESTART_SCOPE))
		events_emit("service.backoff", json_pack("{s:s,s:i,s:i}",
		    "service", n->name, "delay_ms", (int)delay_ms, "attempt",
		    (int)n->streak));
	sup_verdict_sup(n, ev, &f);
}

/*
 * The scope [lo, hi] of the parent p goes down in reverse order, then up
 * again in order, after the longest delay any of its failures asked.
 */
static void
sup_begin_operation(struct node *p, size_t lo, size_t hi, uint32_t delay_ms)
{
	size_t		i;

	if (p->op_active && p->op_lo < lo)
		lo = p->op_lo;
	for (i = lo; i <= hi && i < p->nkids; i++) {
		if (!node_is_down(p->kids[i]) && !p->kids[i]->recovering) {
			p->kids[i]->recovering = true;
			metrics_node_down(p->kids[i]);
		}
	}
	if (!p->op_active || p->op_delay < delay_ms)
		p->op_delay = delay_ms;
	p->op_active = true;
	p->op_gen++;
	p->op_initial = false;
	p->op_lo = lo;
	p->op_phase = OP_STOP;
	node_timer_clear(p);
	tree_kick(p);
}

/*
 * A child went down without being asked (or a supervisor gave up): apply
 * the restart type, the parent's intensity and the parent's strategy.
 */
void
sup_child_failed(struct node *n, bool abnormal)
{
	struct node		*p = n->parent;
	struct restart_decision	 d;

	if (p == NULL)
		return;
	if (p->state == SVC_STOPPING || tree.shutting_down) {
		tree_kick(p);
		return;
	}
	d = restart_decide(p->conf, n->conf, n->index, abnormal, &p->intensity,
	    n->streak, util_now_ms(), (double)random() / ((double)RAND_MAX + 1.0));
	switch (d.action) {
	case RESTART_STAY_DOWN:
		sup_verdict(n, WEV_STAY_DOWN, d.failed, 0);
		return;
	case RESTART_ESCALATE:
		sup_verdict(n, WEV_ESCALATE, false, 0);
		sup_fail(p);
		return;
	case RESTART_SCOPE:
		flagsvc_note_restart(n);
		break;
	}
	if (d.lo == d.hi && p->conf->strategy == STRATEGY_ONE_FOR_ONE) {
		/* one_for_one: this child alone, after its backoff. */
		sup_verdict(n, WEV_RESTART, false, d.delay_ms);
		return;
	}
	sup_verdict(n, WEV_RESTART_SCOPE, false, d.delay_ms);
	sup_begin_operation(p, d.lo, d.hi, d.delay_ms);
}

/* Stop children from the last down to lo, one at a time. true: all down. */
static bool
sup_stop_from(struct node *s, size_t lo, enum stop_reason why)
{
	struct node	*c;
	size_t		 i;

	for (i = s->nkids; i-- > lo;) {
		c = s->kids[i];
		if (c->state == SVC_BACKOFF) {
			/* Its delay is the operation's now. */
			if (c->is_sup) {
				node_timer_clear(c);
				c->state = SVC_STOPPED;
			} else {
				worker_apply(c, WEV_CANCEL, NULL);
			}
		}
		if (node_is_down(c))
			continue;
		if (c->state != SVC_STOPPING)
			node_stop(c, why);
		if (!node_is_down(c))
			return false;
	}
	return true;
}

static bool
sup_child_startable(const struct node *s, const struct node *c)
{
	if (!c->want)
		return false;
	if (c->pred != NULL)
		return false;
	/* Once per operation: a child that came down again by itself since is
	 * the restart decision's, not the operation's (a transient child that
	 * exited 0 must stay down). */
	if (c->op_started == s->op_gen)
		return false;
	/* A temporary child comes back only with its supervisor. */
	if (c->conf->restart == RESTART_TEMPORARY && c->starts > 0 && !s->op_initial)
		return false;
	return c->state == SVC_STOPPED || (c->state == SVC_FAILED && s->op_initial);
}

/* Start children from lo in order, each after the previous is ready. true: done. */
static bool
sup_start_from(struct node *s, size_t lo)
{
	struct node	*c;
	size_t		 i;

	for (i = lo; i < s->nkids; i++) {
		c = s->kids[i];
		/*
		 * Once this operation has seen a child up, in its order, it
		 * does not wait for it again: a restart of its own since (its
		 * fork deferred in a storm, say) is the restart decision's.
		 */
		if (c->op_passed == s->op_gen)
			continue;
		if (c->pred != NULL && c->want)
			return false;	/* the instance it replaces is still stopping */
		if (sup_child_startable(s, c)) {
			c->op_started = s->op_gen;
			node_start(c);
		}
		if (c->state == SVC_STARTING || c->state == SVC_STOPPING ||
		    c->state == SVC_BACKOFF)
			return false;
		c->op_passed = s->op_gen;
	}
	return true;
}

static void
sup_became_ready(struct node *s)
{
	uint64_t	now = util_now_ms();

	s->state = SVC_RUNNING;
	s->ready = true;
	s->ready_at = now;
	if (s->recovering) {
		s->recovering = false;
		s->last_recovery_ms = (int64_t)(now - s->down_since);
		s->down_since = 0;
	}
	if (s->parent == NULL && !tree.started) {
		tree.started = true;
		log_info("all services started");
		if (tree.started_cb != NULL)
			tree.started_cb();
	}
	if (s->parent != NULL)
		tree_kick(s->parent);
}

static void
sup_start_pending(struct node *s)
{
	struct node	*c;
	size_t		 i;

	for (i = 0; i < s->nkids; i++) {
		c = s->kids[i];
		if (!c->pending_start)
			continue;
		if (c->pred != NULL)
			return;
		if (!c->want || !node_is_down(c)) {
			c->pending_start = false;
			continue;
		}
		node_start(c);
		if (c->state == SVC_STARTING)
			return;
	}
}

void
sup_step(struct node *s)
{
	if (s->state == SVC_STOPPING) {
		if (sup_stop_from(s, 0, s->stop_reason == STOP_SHUTDOWN ?
		    STOP_SHUTDOWN : STOP_SUPERVISOR)) {
			s->state = SVC_STOPPED;
			s->op_active = false;
			node_down(s);
		}
		return;
	}
	if (node_is_down(s))
		return;
	if (s->op_active) {
		switch (s->op_phase) {
		case OP_STOP:
			if (!sup_stop_from(s, s->op_lo, STOP_SUPERVISOR))
				return;
			s->op_phase = OP_WAIT;
			if (s->op_delay > 0) {
				node_timer_arm(s, s->op_delay);
				return;
			}
			s->op_phase = OP_START;
			/* FALLTHROUGH */
		case OP_START:
			if (!sup_start_from(s, s->op_lo))
				return;
			s->op_active = false;
			s->op_delay = 0;
			break;
		case OP_WAIT:
			return;
		}
	}
	if (s->state == SVC_STARTING)
		sup_became_ready(s);
	else if (s->state == SVC_RUNNING && s->recovering)
		sup_became_ready(s);
	sup_start_pending(s);
}
