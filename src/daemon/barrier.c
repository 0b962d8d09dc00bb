/*
 * barrier.c: the propagation barrier (see barrier.h). A barrier is a
 * pending call (rpc-private.h, PENDING_OBSERVE) with its generation, when
 * it began and the change's result. It is tested when it is asked, then
 * again after reports that reached a pending generation and after a
 * worker ended (once per turn of the loop, however many reports came in
 * it), and it is answered at its deadline with the laggards of then.
 */
#include <sys/queue.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "barrier.h"
#include "config.h"
#include "control.h"
#include "flagsvc.h"
#include "log.h"
#include "observe.h"
#include "readers.h"
#include "rpc-private.h"
#include "tree.h"
#include "util.h"

struct barrier {
	struct pending		*p;
	uint64_t		 gen;
	uint64_t		 started_ms;	/* monotonic */
	json_t			*result;
	TAILQ_ENTRY(barrier)	 entry;
};

static TAILQ_HEAD(, barrier)	barriers = TAILQ_HEAD_INITIALIZER(barriers);
static struct event		*barrier_ev;	/* the test at the next turn */

/* The one watch of barrier_notify(): gen 0 when none. */
static struct {
	uint64_t		 gen;
	barrier_notify_fn	*fn;
	void			*arg;
} barrier_watch;

/*
 * What the workers have observed of gen, now. A test that is not the
 * answer stops at the first laggard (a change leaves most readers behind
 * for a while, and it is tested after each turn of reports); only the
 * answer lists them.
 */
struct barrier_scan {
	uint64_t	 gen;
	json_int_t	 readers;
	json_t		*laggards;	/* NULL: stop at the first */
	bool		 lags;
};

static int
barrier_scan_one(struct node *n, void *arg)
{
	struct barrier_scan	*s = arg;
	struct observe_record	*rec = readers_record(n);
	uint64_t		 seen;
	pid_t			 pid;
	bool			 ok;

	if (rec == NULL || !observe_record_is_reader(rec))
		return 0;
	ok = observe_record_observed(rec, s->gen, readers_alive, n, &pid,
	    &seen);
	/* Its only readers were forks that are gone: no reader now. */
	if (!observe_record_is_reader(rec))
		return 0;
	s->readers++;
	if (ok)
		return 0;
	s->lags = true;
	if (s->laggards == NULL)
		return 1;
	json_array_append_new(s->laggards, json_pack("{s:s,s:i,s:I}",
	    "service", n->name, "pid", (int)(pid > 0 ? pid : n->pid),
	    "generation", (json_int_t)seen));
	return 0;
}

static void
barrier_scan(struct barrier_scan *s)
{
	if (tree_root() != NULL)
		(void)tree_each_worker(tree_root(), barrier_scan_one, s);
}

/* Answer with what is observed now, if complete or final. */
static bool
barrier_try(struct call *call, json_t **result, uint64_t gen,
    uint64_t started_ms, bool final)
{
	struct barrier_scan	 s = { gen, 0, NULL, false };
	uint64_t		 now;

	if (!final) {
		barrier_scan(&s);
		if (s.lags)
			return false;
		s.readers = 0;
	}
	s.laggards = json_array();
	barrier_scan(&s);
	now = util_now_ms();
	json_object_set_new(*result, "observed", json_pack("{s:I,s:I,s:I,s:b,"
	    "s:o}", "generation", (json_int_t)gen, "readers", s.readers,
	    "waited_ms", (json_int_t)(now > started_ms ? now - started_ms : 0),
	    "complete", !s.lags, "laggards", s.laggards));
	rpc_result(call, *result);
	*result = NULL;
	return true;
}

static void
barrier_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending	*p = arg;
	struct barrier	*b = p->barrier;

	(void)fd;
	(void)what;
	(void)barrier_try(&p->call, &b->result, b->gen, b->started_ms, true);
	rpc_wait_free(p);
}

bool
barrier_observed(uint64_t gen)
{
	struct barrier_scan	s = { gen, 0, NULL, false };

	barrier_scan(&s);
	return !s.lags;
}

void
barrier_notify(uint64_t gen, barrier_notify_fn *fn, void *arg)
{
	barrier_watch.gen = fn != NULL ? gen : 0;
	barrier_watch.fn = fn;
	barrier_watch.arg = arg;
}

static void
barrier_test_cb(evutil_socket_t fd, short what, void *arg)
{
	struct barrier		*b, *next;
	barrier_notify_fn	*fn = barrier_watch.fn;
	void			*fnarg = barrier_watch.arg;

	(void)fd;
	(void)what;
	(void)arg;
	for (b = TAILQ_FIRST(&barriers); b != NULL; b = next) {
		next = TAILQ_NEXT(b, entry);
		if (barrier_try(&b->p->call, &b->result, b->gen, b->started_ms,
		    false))
			rpc_wait_free(b->p);
	}
	if (fn != NULL) {
		barrier_notify(0, NULL, NULL);	/* fn may watch again */
		fn(fnarg);
	}
}

/* Whether a report of gen may complete a barrier or the watch. */
static bool
barrier_wanted(uint64_t gen)
{
	struct barrier	*b;

	if (gen == 0)
		return !TAILQ_EMPTY(&barriers) || barrier_watch.fn != NULL;
	if (barrier_watch.fn != NULL && gen >= barrier_watch.gen)
		return true;
	TAILQ_FOREACH(b, &barriers, entry)
		if (gen >= b->gen)
			return true;
	return false;
}

void
barrier_reported(struct node *n, uint64_t gen)
{
	struct timeval	 now = { 0, 0 };

	(void)n;
	if (!barrier_wanted(gen))
		return;
	if (barrier_ev == NULL &&
	    (barrier_ev = evtimer_new(rpc_base, barrier_test_cb, NULL)) == NULL)
		fatalx("barrier: cannot make a timer");
	/* A zero timeout runs at the next turn: after this turn's reports. */
	if (!evtimer_pending(barrier_ev, NULL) && evtimer_add(barrier_ev,
	    &now) == -1)
		fatalx("barrier: cannot arm a timer");
}

/* A pending barrier, its timer set for left_ms. */
static void
barrier_arm(struct pending *p, uint64_t gen, uint64_t started_ms,
    json_t *result, json_int_t left_ms)
{
	struct barrier	*b = xcalloc(1, sizeof(*b));
	struct timeval	 tv;

	b->p = p;
	b->gen = gen;
	b->started_ms = started_ms;
	b->result = result;
	p->barrier = b;
	p->timeout_ms = left_ms;
	p->deadline = util_now_ms() + (uint64_t)left_ms;
	TAILQ_INSERT_TAIL(&barriers, b, entry);
	if ((p->timer = evtimer_new(rpc_base, barrier_timeout_cb, p)) == NULL)
		fatalx("barrier: cannot make a timer");
	tv.tv_sec = (time_t)(left_ms / 1000);
	tv.tv_usec = (suseconds_t)((left_ms % 1000) * 1000);
	if (evtimer_add(p->timer, &tv) == -1)
		fatalx("barrier: cannot arm a timer");
}

void
barrier_answer(struct call *call, json_t *result, json_int_t wait_ms)
{
	struct pending	*p;
	uint64_t	 gen = flagsvc_generation(), now = util_now_ms();

	if (wait_ms < 0) {
		rpc_result(call, result);
		return;
	}
	/* Observed already, or no time to wait: the answer of now. */
	if (barrier_try(call, &result, gen, now, wait_ms == 0))
		return;
	/* No room for one more pending call: the answer of now, too. */
	if (rpc_wait_held(call->client) >=
	    (unsigned)tree_config()->limits.max_pending) {
		(void)barrier_try(call, &result, gen, now, true);
		return;
	}
	p = rpc_wait_take(call, PENDING_OBSERVE);
	barrier_arm(p, gen, now, result, wait_ms);
}

void
barrier_free(struct pending *p)
{
	struct barrier	*b = p->barrier;

	if (b == NULL)
		return;
	TAILQ_REMOVE(&barriers, b, entry);
	json_decref(b->result);
	free(b);
	p->barrier = NULL;
}

void
barrier_describe(const struct pending *p, json_t *o)
{
	const struct barrier	*b = p->barrier;

	json_object_set_new(o, "generation", json_integer((json_int_t)b->gen));
	json_object_set_new(o, "started_ms",
	    json_integer((json_int_t)b->started_ms));
	json_object_set_new(o, "deadline_ms",
	    json_integer((json_int_t)p->deadline));
	json_object_set(o, "result", b->result);
}

int
barrier_read(const json_t *o, const char *where, struct barrier_desc *d,
    char *err, size_t errlen)
{
	if (json_unpack((json_t *)o, "{s:I,s:I,s:I,s:o}", "generation",
	    &d->gen, "started_ms", &d->started_ms, "deadline_ms",
	    &d->deadline_ms, "result", &d->result) == -1 || d->gen < 0 ||
	    d->started_ms < 0 || d->deadline_ms < 0 ||
	    !json_is_object(d->result)) {
		snprintf(err, errlen, "%s: want {generation, started_ms, "
		    "deadline_ms, result} (integers from 0, an object)", where);
		return -1;
	}
	return 0;
}

void
barrier_adopt(struct pending *p, const struct barrier_desc *d)
{
	uint64_t	now = util_now_ms();

	barrier_arm(p, (uint64_t)d->gen, (uint64_t)d->started_ms,
	    json_incref(d->result), (uint64_t)d->deadline_ms > now ?
	    d->deadline_ms - (json_int_t)now : 0);
	/* The reports of the new image's first turn may complete it. */
	barrier_reported(NULL, 0);
}

void
barrier_fini(void)
{
	if (barrier_ev != NULL)
		event_free(barrier_ev);
	barrier_ev = NULL;
}
