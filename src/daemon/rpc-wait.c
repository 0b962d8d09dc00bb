/*
 * rpc-wait.c: the calls whose answer comes later (see rpc-private.h): waits,
 * and the service operations that answer once their service has settled.
 *
 * Such a call is registered before its condition is first tested, and
 * tested again after every change (events and supervision steps) that
 * can satisfy it, so a change between the test and the block can never
 * be missed. A client may have limits.max_pending such calls at once.
 */
#include <sys/queue.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "barrier.h"
#include "config.h"
#include "control.h"
#include "flags.h"
#include "flagsvc.h"
#include "fleetd.h"
#include "health-run.h"
#include "log.h"
#include "murmur3.h"
#include "rpc.h"
#include "rpc-private.h"
#include "tree.h"
#include "util.h"

/*
 * A call whose answer comes later is linked twice: into its client's list,
 * so that the client's count is known and its leaving frees its calls
 * without a search, and into the list of what it waits for, so that a
 * change looks only at the calls it can satisfy. Both links are
 * intrusive: an answer, a timeout or the client's close unlinks a call in
 * O(1).
 *
 * What a call waits for is a watch: one per service, flag or stage that
 * some call waits on, found by name in a hash table. A service's watch
 * keeps its waits by the state they want, the service operations
 * (which wait for the service to settle) in a list of their own, and the
 * waits for a liveness verdict (whatever state they also want) in another. After
 * each change (rpc_recheck) the watches of services and flags are looked
 * at: one whose subject looks as it did at the last look, and that got no
 * new call since, is left alone; otherwise only the waits for the state
 * the service is in now are tested. A stage's waits are tested only when
 * the stage is theirs, and the waits for "recovered" only when warden is
 * recovered: then all of them are answered.
 */

#define WATCH_SETTLE	(SVC_FAILED + 1)	/* lists[]: the service operations */
#define WATCH_HEALTH	(SVC_FAILED + 2)	/* ... the waits for a probe's verdict */
#define WATCH_LISTS	(SVC_FAILED + 3)

struct watch {
	enum jsonrpc_cond_kind	 kind;		/* a service, a flag or a stage */
	char			*name;		/* service or flag; NULL for a stage */
	int			 stage;
	uint32_t		 hash;
	struct watch		*hnext;		/* in its bucket */
	LIST_ENTRY(watch)	 entry;		/* services and flags: looked at after changes */
	size_t			 count;		/* calls on its lists */
	bool			 dirty;		/* a call came since the last look */
	bool			 pinned;	/* being looked at: kept even when empty */
	struct pending_list	 lists[WATCH_LISTS];
	struct node		*node;		/* service: tree_find(name) ... */
	uint64_t		 node_gen;	/* ... while the tree's generation is this */
	/* What the subject looked like at the last look. */
	uint64_t		 seen_gen;
	int			 seen_state;
	unsigned		 seen_starts;
	bool			 seen_settled;
	int			 seen_health;	/* health_verdict_of() */
	int			 seen_value;	/* flag: -1 when it is gone */
};

static struct watch		**watch_table;
static size_t			  watch_buckets;	/* a power of two, or 0 */
static size_t			  nwatches;
static LIST_HEAD(, watch)	  watched = LIST_HEAD_INITIALIZER(watched);
static struct pending_list	  recovered_waits = TAILQ_HEAD_INITIALIZER(recovered_waits);
/* The service operations on several services: tested after every change. */
static struct pending_list	  settle_many = TAILQ_HEAD_INITIALIZER(settle_many);
static struct event		 *ev_recheck;
static bool			  rechecking;
/* The reexec calls, answered together; the one in reexec_request() now. */
static struct pending_list	  reexec_calls = TAILQ_HEAD_INITIALIZER(reexec_calls);
static struct pending		 *reexec_asking;

static uint32_t
watch_hash(enum jsonrpc_cond_kind kind, const char *name, int stage)
{
	if (name != NULL)
		return murmur3_x86_32(name, strlen(name), (uint32_t)kind);
	return murmur3_x86_32(&stage, sizeof(stage), (uint32_t)kind);
}

static bool
watch_is(const struct watch *w, enum jsonrpc_cond_kind kind, const char *name,
    int stage, uint32_t hash)
{
	if (w->hash != hash || w->kind != kind)
		return false;
	return name != NULL ? strcmp(w->name, name) == 0 : w->stage == stage;
}

static struct watch *
watch_find(enum jsonrpc_cond_kind kind, const char *name, int stage)
{
	struct watch	*w;
	uint32_t	 h;

	if (watch_buckets == 0)
		return NULL;
	h = watch_hash(kind, name, stage);
	for (w = watch_table[h & (watch_buckets - 1)]; w != NULL; w = w->hnext)
		if (watch_is(w, kind, name, stage, h))
			return w;
	return NULL;
}

static void
watch_grow(void)
{
	struct watch	**old = watch_table, *w, *next;
	size_t		  nold = watch_buckets, i, b;

	watch_buckets = nold == 0 ? 64 : nold * 2;
	watch_table = xcalloc(watch_buckets, sizeof(*watch_table));
	for (i = 0; i < nold; i++) {
		for (w = old[i]; w != NULL; w = next) {
			next = w->hnext;
			b = w->hash & (watch_buckets - 1);
			w->hnext = watch_table[b];
			watch_table[b] = w;
		}
	}
	free(old);
}

/* The watch of a service, a flag (by name) or a stage; made when there is none. */
static struct watch *
watch_get(enum jsonrpc_cond_kind kind, const char *name, int stage)
{
	struct watch	*w;
	size_t		 i, b;

	if ((w = watch_find(kind, name, stage)) != NULL)
		return w;
	if (nwatches >= watch_buckets)
		watch_grow();
	w = xcalloc(1, sizeof(*w));
	w->kind = kind;
	w->name = name != NULL ? xstrdup(name) : NULL;
	w->stage = stage;
	w->hash = watch_hash(kind, name, stage);
	for (i = 0; i < nitems(w->lists); i++)
		TAILQ_INIT(&w->lists[i]);
	w->node_gen = w->seen_gen = UINT64_MAX;		/* not looked at yet */
	b = w->hash & (watch_buckets - 1);
	w->hnext = watch_table[b];
	watch_table[b] = w;
	nwatches++;
	if (kind != JSONRPC_COND_STAGE)
		LIST_INSERT_HEAD(&watched, w, entry);
	return w;
}

/* Free a watch nobody waits on any more. */
static void
watch_release(struct watch *w)
{
	struct watch	**pp;

	if (w->count > 0 || w->pinned)
		return;
	for (pp = &watch_table[w->hash & (watch_buckets - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == w) {
			*pp = w->hnext;
			break;
		}
	if (w->kind != JSONRPC_COND_STAGE)
		LIST_REMOVE(w, entry);
	nwatches--;
	free(w->name);
	free(w);
}

/* A service watch's node; found again only after a reload. NULL: gone. */
static struct node *
watch_node(struct watch *w)
{
	if (w->node_gen != tree_generation()) {
		w->node = tree_find(w->name);
		w->node_gen = tree_generation();
	}
	return w->node;
}

/* --- the calls ------------------------------------------------------------------------ */

static void
rpc_wait_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending	*p = arg;

	(void)fd;
	(void)what;
	rpc_error_data(&p->call, RPC_TIMEOUT, json_pack("{s:O}", "condition",
	    p->condition), "condition not met within %lld ms",
	    (long long)p->timeout_ms);
	rpc_wait_free(p);
}

void
rpc_wait_free(struct pending *p)
{
	struct client		*c = p->call.client;
	struct rpc_session	*s = c->session;
	struct watch		*w = p->watch;

	TAILQ_REMOVE(&s->pending, p, by_client);
	if (p->kind == PENDING_COMMIT)
		s->ncommit--;
	/* The client went first: the change commits, unanswered. */
	if (p->commit != NULL)
		flagsvc_forget(p->commit);
	if (p->fleet != NULL)
		fleetd_write_forget(p->fleet);
	if (p->fleet_read != NULL)
		fleetd_read_forget(p->fleet_read);
	if (p->list != NULL)
		TAILQ_REMOVE(p->list, p, by_cond);
	if (w != NULL) {
		w->count--;
		watch_release(w);
	}
	if (p->timer != NULL)
		event_free(p->timer);
	if (p == reexec_asking)
		reexec_asking = NULL;
	barrier_free(p);
	json_decref(p->condition);
	json_decref(p->targets);
	free(p->nodes);
	json_decref(p->call.id);
	free(p);
	control_release(c);
}

void
rpc_wait_drop_all(struct client *c)
{
	struct rpc_session	*s = c->session;
	struct pending		*p;

	if (s == NULL)
		return;
	while ((p = TAILQ_FIRST(&s->pending)) != NULL) {
		if (p->call.batch != NULL)
			(void)jsonrpc_batch_drop(p->call.batch);
		p->call.batch = NULL;
		rpc_wait_free(p);
	}
}

bool
rpc_wait_room(struct call *call)
{
	int	max = tree_config()->limits.max_pending;

	if (rpc_wait_held(call->client) < (unsigned)max)
		return true;
	rpc_error_data(call, RPC_INVALID_REQUEST, json_pack("{s:s,s:i}",
	    "limit", "max_pending", "max_pending", max),
	    "too many calls awaiting their answer on this connection "
	    "(max_pending %d)", max);
	return false;
}

unsigned
rpc_wait_held(struct client *c)
{
	struct rpc_session	*s = c->session;
	unsigned		 n = c->npending;

	if (s != NULL && n >= s->ncommit)
		n -= s->ncommit;
	return n;
}

struct pending *
rpc_wait_take(struct call *call, enum pending_kind kind)
{
	struct pending	*p = xcalloc(1, sizeof(*p));
	struct client	*c = call->client;

	p->call = *call;
	p->kind = kind;
	/* The call is the pending's now. */
	call->id = NULL;
	call->batch = NULL;
	call->done = call->taken = true;
	TAILQ_INSERT_TAIL(&rpc_session(c)->pending, p, by_client);
	if (kind == PENDING_COMMIT)
		rpc_session(c)->ncommit++;
	control_hold(c);
	return p;
}

/* Put p on the list of what it waits for. */
static void
rpc_wait_watch(struct pending *p, const char *name, int stage, size_t list)
{
	struct watch	*w;

	if (p->cond.kind == JSONRPC_COND_RECOVERED) {
		p->list = &recovered_waits;
		TAILQ_INSERT_TAIL(p->list, p, by_cond);
		return;
	}
	w = watch_get(p->cond.kind, name, stage);
	p->watch = w;
	p->list = &w->lists[list];
	TAILQ_INSERT_TAIL(p->list, p, by_cond);
	w->count++;
	/* Tested against the state of now, not the state of the last look. */
	w->dirty = true;
}

void
rpc_wait_settle(struct pending *p, const char *service, bool want_up)
{
	p->cond.kind = JSONRPC_COND_SERVICE;
	p->want_up = want_up;
	rpc_wait_watch(p, service, 0, WATCH_SETTLE);
}

void
rpc_wait_settle_many(struct pending *p, json_t *targets, bool want_up)
{
	p->cond.kind = JSONRPC_COND_SERVICE;
	p->want_up = want_up;
	p->targets = targets;
	p->nodes = xcalloc(json_array_size(targets) + 1, sizeof(*p->nodes));
	p->nodes_gen = UINT64_MAX;		/* not found yet */
	p->list = &settle_many;
	TAILQ_INSERT_TAIL(p->list, p, by_cond);
}

void
rpc_wait_arm(struct pending *p, const json_t *condition,
    const struct jsonrpc_cond *cond, json_int_t timeout_ms, json_int_t left_ms)
{
	struct timeval	tv;
	int		state = -1;

	p->condition = json_deep_copy(condition);
	p->cond = *cond;
	p->cond.name = NULL;		/* borrowed: the watch keeps its own */
	p->timeout_ms = timeout_ms;
	p->deadline = util_now_ms() + (uint64_t)left_ms;
	switch (cond->kind) {
	case JSONRPC_COND_SERVICE:
		if (cond->state >= 0 && (state = tree_state_parse(
		    jsonrpc_state_name(cond->state))) < 0)
			fatalx("a checked condition names no state of the tree");
		p->cond.state = cond->state >= 0 ? state : -1;
		rpc_wait_watch(p, cond->name, 0, cond->health >= 0 ?
		    WATCH_HEALTH : (size_t)state);
		break;
	case JSONRPC_COND_FLAG:
		rpc_wait_watch(p, cond->name, 0, 0);
		break;
	case JSONRPC_COND_STAGE:
		rpc_wait_watch(p, NULL, cond->stage, 0);
		break;
	case JSONRPC_COND_RECOVERED:
		rpc_wait_watch(p, NULL, 0, 0);
		break;
	}
	p->timer = evtimer_new(rpc_base, rpc_wait_timeout_cb, p);
	tv.tv_sec = (time_t)(left_ms / 1000);
	tv.tv_usec = (suseconds_t)((left_ms % 1000) * 1000);
	if (p->timer == NULL || evtimer_add(p->timer, &tv) == -1)
		fatalx("cannot arm a wait timer");
}

/* Is a service operation done: the node has arrived where it was sent, or given up? */
static bool
rpc_wait_settled(const struct pending *p, const struct node *n)
{
	if (!tree_settled(n))
		return false;
	if (p->want_up)
		return n->state == SVC_RUNNING || n->state == SVC_FAILED ||
		    n->state == SVC_BACKOFF;
	return n->state == SVC_STOPPED || n->state == SVC_FAILED;
}

/* What a call that holds is answered: the subject as it is now. */
static json_t *
rpc_wait_result(const struct pending *p, const struct node *n, ssize_t i)
{
	switch (p->cond.kind) {
	case JSONRPC_COND_SERVICE:
		return n->is_sup ? tree_supervisor_json(n) : tree_service_json(n);
	case JSONRPC_COND_FLAG:
		return flags_flag_json(flagsvc_flags(), (size_t)i);
	case JSONRPC_COND_STAGE:
		return json_pack("{s:i}", "stage", flagsvc_stage());
	case JSONRPC_COND_RECOVERED:
		break;
	}
	return tree_recovery_json();
}

static int
rpc_wait_add_worker(struct node *n, void *arg)
{
	json_array_append_new(arg, tree_service_json(n));
	return 0;
}

/* The nodes of an operation on several, found again after a reload. */
static bool
rpc_wait_many_found(struct pending *p)
{
	json_t	*v;
	size_t	 i;

	if (p->nodes_gen == tree_generation())
		return true;
	json_array_foreach(p->targets, i, v)
		if ((p->nodes[i] = tree_find(json_string_value(v))) == NULL) {
			rpc_error(&p->call, RPC_NOT_FOUND,
			    "no service named '%s' any more",
			    json_string_value(v));
			rpc_wait_free(p);
			return false;
		}
	p->nodes_gen = tree_generation();
	return true;
}

/*
 * An operation on several: answered once each node has settled, in turn
 * (one that has is not looked at again), with every worker of theirs.
 */
static bool
rpc_wait_test_many(struct pending *p)
{
	json_t	*services;
	size_t	 i, n = json_array_size(p->targets);

	if (!rpc_wait_many_found(p))
		return true;
	while (p->settled < n && rpc_wait_settled(p, p->nodes[p->settled]))
		p->settled++;
	if (p->settled < n)
		return false;
	services = json_array();
	for (i = 0; i < n; i++)
		(void)tree_each_worker(p->nodes[i], rpc_wait_add_worker,
		    services);
	rpc_result(&p->call, json_pack("{s:o}", "services", services));
	rpc_wait_free(p);
	return true;
}

/* Does p's subject still exist? If not, p is answered so and freed. */
static bool
rpc_wait_gone(struct pending *p, struct node **n, ssize_t *i)
{
	if (p->cond.kind == JSONRPC_COND_SERVICE &&
	    (*n = watch_node(p->watch)) == NULL) {
		rpc_error(&p->call, RPC_NOT_FOUND, "no service named '%s' any more",
		    p->watch->name);
		rpc_wait_free(p);
		return true;
	}
	if (p->cond.kind == JSONRPC_COND_FLAG &&
	    (*i = flags_find(flagsvc_flags(), p->watch->name)) < 0) {
		rpc_error(&p->call, RPC_NOT_FOUND, "no flag named '%s' any more",
		    p->watch->name);
		rpc_wait_free(p);
		return true;
	}
	return false;
}

/*
 * Test one call; answer and free it when it holds (or what it waits on is
 * gone). true: it was answered. The calls of one list all have the same
 * answer when they hold: *shared, when not NULL, keeps the one made for
 * the first, for the others.
 */
static bool
rpc_wait_test_shared(struct pending *p, json_t **shared)
{
	struct node	*n = NULL;
	json_t		*result;
	ssize_t		 i = -1;
	bool		 holds = false;

	if (p->targets != NULL)
		return rpc_wait_test_many(p);
	if (rpc_wait_gone(p, &n, &i))
		return true;
	switch (p->cond.kind) {
	case JSONRPC_COND_SERVICE:
		if (p->kind == PENDING_SETTLE)
			holds = rpc_wait_settled(p, n);
		else
			holds = (p->cond.state < 0 ||
			    (int)tree_service_state(n) == p->cond.state) &&
			    (p->cond.health < 0 ||
			    health_verdict_of(n) == p->cond.health) &&
			    (n->starts > 0 ? n->starts - 1 : 0) >=
			    p->cond.min_restarts;
		break;
	case JSONRPC_COND_FLAG:
		holds = flagsvc_flags()->flag[i].value == p->cond.value;
		break;
	case JSONRPC_COND_STAGE:
		holds = flagsvc_stage() == p->cond.stage;
		break;
	case JSONRPC_COND_RECOVERED:
		holds = tree_recovered();
		break;
	}
	if (!holds)
		return false;
	if (shared != NULL && *shared != NULL)
		result = json_incref(*shared);
	else {
		result = rpc_wait_result(p, n, i);
		if (shared != NULL)
			*shared = json_incref(result);
	}
	rpc_result(&p->call, result);
	rpc_wait_free(p);
	return true;
}

const char *
rpc_wait_subject(const struct pending *p)
{
	return p->watch != NULL ? p->watch->name : NULL;
}

bool
rpc_wait_test(struct pending *p)
{
	return rpc_wait_test_shared(p, NULL);
}

/* Test every call of a list, as far as it goes. */
static void
rpc_wait_test_list(struct pending_list *list)
{
	struct pending	*p, *next;
	json_t		*shared = NULL;

	for (p = TAILQ_FIRST(list); p != NULL; p = next) {
		next = TAILQ_NEXT(p, by_cond);
		(void)rpc_wait_test_shared(p, &shared);
	}
	json_decref(shared);
}

/* A flag's watch: its calls are tested when its value changed, or a call came. */
static void
watch_look_flag(struct watch *w)
{
	const struct flags	*f = flagsvc_flags();
	ssize_t			 i = flags_find(f, w->name);
	int			 value = i < 0 ? -1 : f->flag[i].value;

	if (w->dirty || value != w->seen_value) {
		w->seen_value = value;
		w->dirty = false;
		rpc_wait_test_list(&w->lists[0]);
	}
}

/* A service's: when it looks otherwise, only the calls for its state now. */
static void
watch_look_service(struct watch *w, struct node *n)
{
	/* A killed instance shows as stopping until it exits. */
	enum svc_state	state = tree_service_state(n);
	bool		settled = tree_settled(n);
	int		health = health_verdict_of(n);

	if (w->dirty || w->seen_gen != w->node_gen ||
	    (int)state != w->seen_state || n->starts != w->seen_starts ||
	    settled != w->seen_settled || health != w->seen_health) {
		w->seen_gen = w->node_gen;
		w->seen_state = (int)state;
		w->seen_starts = n->starts;
		w->seen_settled = settled;
		w->seen_health = health;
		w->dirty = false;
		rpc_wait_test_list(&w->lists[state]);
		rpc_wait_test_list(&w->lists[WATCH_SETTLE]);
		rpc_wait_test_list(&w->lists[WATCH_HEALTH]);
	}
}

/*
 * Look at a service's or a flag's watch after a change: test its calls if
 * the subject changed since the last look or a call came meanwhile.
 */
static void
watch_look(struct watch *w)
{
	struct node	*n;
	size_t		 l;

	w->pinned = true;
	if (w->kind == JSONRPC_COND_FLAG)
		watch_look_flag(w);
	else if ((n = watch_node(w)) == NULL) {
		/* Gone with a reload: every call on it is answered so. */
		for (l = 0; l < nitems(w->lists); l++)
			rpc_wait_test_list(&w->lists[l]);
	} else
		watch_look_service(w, n);
	w->pinned = false;
	watch_release(w);
}

static void
rpc_recheck_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	rpc_recheck();
}

void
rpc_recheck_soon(void)
{
	event_active(ev_recheck, EV_TIMEOUT, 0);
}

void
rpc_recheck(void)
{
	struct watch	*w, *next;

	if (rechecking)
		return;
	rechecking = true;
	if (!TAILQ_EMPTY(&recovered_waits) && tree_recovered())
		rpc_wait_test_list(&recovered_waits);
	rpc_wait_test_list(&settle_many);
	if ((w = watch_find(JSONRPC_COND_STAGE, NULL, flagsvc_stage())) != NULL) {
		w->pinned = true;
		rpc_wait_test_list(&w->lists[0]);
		w->pinned = false;
		watch_release(w);
	}
	for (w = LIST_FIRST(&watched); w != NULL; w = next) {
		next = LIST_NEXT(w, entry);
		watch_look(w);
	}
	rechecking = false;
}

/* --- reexec ------------------------------------------------------------------------------ */

void
rpc_wait_reexec(struct pending *p, bool asking)
{
	p->list = &reexec_calls;
	TAILQ_INSERT_TAIL(p->list, p, by_cond);
	if (asking)
		reexec_asking = p;
}

struct pending *
rpc_wait_reexec_asked(void)
{
	struct pending	*p = reexec_asking;

	reexec_asking = NULL;
	return p;
}

struct pending *
rpc_wait_reexec_next(void)
{
	return TAILQ_FIRST(&reexec_calls);
}

/* --- life ------------------------------------------------------------------------------- */

bool
rpc_wait_ready(void)
{
	return ev_recheck != NULL;
}

void
rpc_wait_init(struct event_base *b)
{
	ev_recheck = event_new(b, -1, 0, rpc_recheck_cb, NULL);
	if (ev_recheck == NULL)
		fatalx("cannot create the recheck event");
}

/* Once every call is gone: each watch went with the last call on it. */
void
rpc_wait_fini(void)
{
	free(watch_table);
	watch_table = NULL;
	watch_buckets = nwatches = 0;
	if (ev_recheck != NULL)
		event_free(ev_recheck);
	ev_recheck = NULL;
	barrier_fini();
}
