/*
 * rpc-handover.c: the calls awaiting their answer, handed over by a
 * reexec (see rpc.h).
 *
 * A reexec hands every call awaiting its answer over to the next image,
 * which makes it again: its id, what it waits for, the rest of a wait's
 * time (its deadline is CLOCK_MONOTONIC, which an exec does not reset)
 * and its place in a batch. The answers a batch has collected go with it,
 * so that the new image still answers the batch whole.
 */
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "desc.h"
#include "barrier.h"
#include "jsonrpc.h"
#include "rpc.h"
#include "rpc-private.h"
#include "util.h"

static const char *const pending_kind_names[] = {
	[PENDING_WAIT] = "wait",
	[PENDING_SETTLE] = "settle",
	[PENDING_REEXEC] = "reexec",
	[PENDING_COMMIT] = "commit",
	[PENDING_OBSERVE] = "observe",
	[PENDING_FLEET] = "fleet",
};

static json_t *
rpc_describe_call(const struct pending *p)
{
	json_t	*o = json_object();

	if (p->call.id != NULL)
		json_object_set(o, "id", p->call.id);
	json_object_set_new(o, "kind", json_string(pending_kind_names[p->kind]));
	switch (p->kind) {
	case PENDING_WAIT:
		json_object_set_new(o, "condition", json_deep_copy(p->condition));
		json_object_set_new(o, "timeout_ms", json_integer(p->timeout_ms));
		json_object_set_new(o, "deadline_ms",
		    json_integer((json_int_t)p->deadline));
		break;
	case PENDING_SETTLE:
		if (p->targets != NULL)
			json_object_set(o, "services", p->targets);
		else
			json_object_set_new(o, "service",
			    json_string(rpc_wait_subject(p)));
		json_object_set_new(o, "want_up", json_boolean(p->want_up));
		break;
	case PENDING_REEXEC:
	case PENDING_COMMIT:
	case PENDING_FLEET:
		break;
	case PENDING_OBSERVE:
		barrier_describe(p, o);
		break;
	}
	return o;
}

/* How many calls of the client await their answer. */
static size_t
rpc_count_calls(const struct rpc_session *s)
{
	const struct pending	*p;
	size_t			 n = 0;

	if (s != NULL)
		TAILQ_FOREACH(p, &s->pending, by_client)
			n++;
	return n;
}

json_t *
rpc_handover_client(const struct client *c)
{
	const struct rpc_session	 *s = c->session;
	const struct pending		 *p;
	const struct jsonrpc_batch	**seen;
	json_t				 *calls = json_array(), *batches = json_array();
	json_t				 *o;
	size_t				  nseen = 0, i;

	seen = xcalloc(rpc_count_calls(s) + 1, sizeof(*seen));
	for (p = s != NULL ? TAILQ_FIRST(&s->pending) : NULL; p != NULL;
	    p = TAILQ_NEXT(p, by_client)) {
		o = rpc_describe_call(p);
		if (p->call.batch != NULL) {
			for (i = 0; i < nseen && seen[i] != p->call.batch; i++)
				continue;
			if (i == nseen) {
				seen[nseen++] = p->call.batch;
				json_array_append_new(batches,
				    json_deep_copy(p->call.batch->slots));
			}
			json_object_set_new(o, "batch", json_integer((json_int_t)i));
			json_object_set_new(o, "slot",
			    json_integer((json_int_t)p->call.slot));
		}
		json_array_append_new(calls, o);
	}
	free(seen);
	o = json_object();
	json_object_set_new(o, "batches", batches);
	json_object_set_new(o, "calls", calls);
	return o;
}

/* A client being adopted: its batches, until its calls take them over. */
struct adopt {
	struct client		 *client;
	struct jsonrpc_batch	**batches;
	size_t			  nbatches;
};

/*
 * A call's place in a batch, if it has one: a member's slot (the last
 * one is the batch's own) still empty, and not another call's.
 */
static int
rpc_adopt_slot(struct adopt *a, const json_t *o, const char *where,
    struct call *call, char *err, size_t errlen)
{
	struct pending		*p;
	struct jsonrpc_batch	*b;
	json_int_t		 i, slot;

	if (json_object_get(o, "batch") == NULL &&
	    json_object_get(o, "slot") == NULL)
		return 0;
	if (desc_int(o, where, "batch", 0, (json_int_t)a->nbatches - 1, &i, err,
	    errlen) == -1)
		return -1;
	b = a->batches[i];
	if (desc_int(o, where, "slot", 0, (json_int_t)json_array_size(b->slots) - 2,
	    &slot, err, errlen) == -1)
		return -1;
	if (!json_is_null(json_array_get(b->slots, (size_t)slot))) {
		snprintf(err, errlen, "%s.slot: already answered", where);
		return -1;
	}
	TAILQ_FOREACH(p, &rpc_session(a->client)->pending, by_client)
		if (p->call.batch == b && p->call.slot == (size_t)slot) {
			snprintf(err, errlen, "%s.slot: another call's", where);
			return -1;
		}
	call->batch = b;
	call->slot = (size_t)slot;
	return 0;
}

/* What a call of this kind waits for; every member checked before any is used. */
struct adopt_call {
	enum pending_kind	 kind;
	json_t			*condition;
	struct jsonrpc_cond	 cond;
	json_int_t		 timeout_ms, deadline;
	const char		*service;
	json_t			*services;	/* an operation on several */
	bool			 want_up;
	struct barrier_desc	 observe;	/* a barrier's */
};

/* A settle's service, or services: a list of names, not empty. */
static int
rpc_adopt_settle(const json_t *o, const char *where, struct adopt_call *ac,
    char *err, size_t errlen)
{
	json_t	*v;
	size_t	 i;

	if (json_object_get(o, "services") == NULL)
		return desc_string(o, where, "service", &ac->service, err,
		    errlen);
	if (desc_array(o, where, "services", &ac->services, err, errlen) == -1)
		return -1;
	if (json_array_size(ac->services) == 0) {
		snprintf(err, errlen, "%s.services: must not be empty", where);
		return -1;
	}
	json_array_foreach(ac->services, i, v)
		if (!json_is_string(v)) {
			snprintf(err, errlen, "%s.services[%zu]: must be a "
			    "string", where, i);
			return -1;
		}
	return 0;
}

static int
rpc_adopt_kind(const json_t *o, const char *where, struct adopt_call *ac,
    char *err, size_t errlen)
{
	const char	*kind, *bad;

	if (desc_string(o, where, "kind", &kind, err, errlen) == -1)
		return -1;
	if (strcmp(kind, "wait") == 0) {
		ac->kind = PENDING_WAIT;
		if (desc_object(o, where, "condition", &ac->condition, err,
		    errlen) == -1 ||
		    desc_int(o, where, "timeout_ms", 0, JSONRPC_WAIT_MAX_MS,
		    &ac->timeout_ms, err, errlen) == -1 ||
		    desc_int(o, where, "deadline_ms", 0, INT64_MAX, &ac->deadline,
		    err, errlen) == -1)
			return -1;
		if (jsonrpc_cond_parse(ac->condition, &ac->cond, &bad) == -1) {
			snprintf(err, errlen, "%s.condition: %s", where, bad);
			return -1;
		}
	} else if (strcmp(kind, "settle") == 0) {
		ac->kind = PENDING_SETTLE;
		if (rpc_adopt_settle(o, where, ac, err, errlen) == -1 ||
		    desc_bool(o, where, "want_up", &ac->want_up, err, errlen) == -1)
			return -1;
	} else if (strcmp(kind, "reexec") == 0)
		ac->kind = PENDING_REEXEC;
	else if (strcmp(kind, "observe") == 0) {
		ac->kind = PENDING_OBSERVE;
		if (barrier_read(o, where, &ac->observe, err, errlen) == -1)
			return -1;
	} else {
		snprintf(err, errlen, "%s.kind: must be wait, settle, reexec or "
		    "observe", where);
		return -1;
	}
	return 0;
}

static int
rpc_adopt_call(struct adopt *a, const json_t *o, size_t idx, char *err,
    size_t errlen)
{
	struct adopt_call	 ac;
	struct call		 call;
	struct pending		*p;
	json_t			*id;
	json_int_t		 left;
	uint64_t		 now;
	char			 where[48];

	snprintf(where, sizeof(where), "rpc.calls[%zu]", idx);
	memset(&call, 0, sizeof(call));
	memset(&ac, 0, sizeof(ac));
	call.client = a->client;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s: must be an object", where);
		return -1;
	}
	if ((id = json_object_get(o, "id")) != NULL && !jsonrpc_id_valid(id)) {
		snprintf(err, errlen, "%s.id: must be a string, a number or null",
		    where);
		return -1;
	}
	if (rpc_adopt_kind(o, where, &ac, err, errlen) == -1 ||
	    rpc_adopt_slot(a, o, where, &call, err, errlen) == -1)
		return -1;
	call.id = id != NULL ? json_incref(id) : NULL;
	p = rpc_wait_take(&call, ac.kind);
	if (p->call.batch != NULL)
		p->call.batch->outstanding++;
	switch (ac.kind) {
	case PENDING_WAIT:
		/* What is left of it; past: it times out on the loop's first turn. */
		now = util_now_ms();
		left = (uint64_t)ac.deadline > now ?
		    ac.deadline - (json_int_t)now : 0;
		if (left > ac.timeout_ms)
			left = ac.timeout_ms;
		rpc_wait_arm(p, ac.condition, &ac.cond, ac.timeout_ms, left);
		break;
	case PENDING_SETTLE:
		if (ac.services != NULL)
			rpc_wait_settle_many(p, json_copy(ac.services),
			    ac.want_up);
		else
			rpc_wait_settle(p, ac.service, ac.want_up);
		break;
	case PENDING_REEXEC:
		rpc_wait_reexec(p, false);
		break;
	case PENDING_COMMIT:
		/* Never handed over: the group commits before (kind refused). */
		break;
	case PENDING_FLEET:
		/* Never handed over: answered before (fleetd_write_abort_all). */
		break;
	case PENDING_OBSERVE:
		barrier_adopt(p, &ac.observe);
		break;
	}
	return 0;
}

/* A batch's slots: one per member, and the batch's own last, null. */
static int
rpc_adopt_batches(struct adopt *a, const json_t *batches, char *err,
    size_t errlen)
{
	json_t	*v;
	size_t	 i, n;

	a->nbatches = json_array_size(batches);
	a->batches = xcalloc(a->nbatches + 1, sizeof(*a->batches));
	json_array_foreach(batches, i, v) {
		n = json_array_size(v);
		if (!json_is_array(v) || n < 2 || !json_is_null(json_array_get(v,
		    n - 1))) {
			snprintf(err, errlen, "rpc.batches[%zu]: must be an array of "
			    "the batch's answers, null last", i);
			return -1;
		}
		a->batches[i] = jsonrpc_batch_adopt(v);
	}
	return 0;
}

int
rpc_adopt_client(struct client *c, const json_t *d, char *err, size_t errlen)
{
	struct adopt	 a = { c, NULL, 0 };
	json_t		*batches, *calls, *v;
	size_t		 i;
	int		 rc = -1;

	if (!rpc_wait_ready()) {
		snprintf(err, errlen, "rpc: calls adopted before rpc_init()");
		return -1;
	}
	if (!json_is_object(d)) {
		snprintf(err, errlen, "rpc: must be an object");
		return -1;
	}
	if (desc_array(d, "rpc", "batches", &batches, err, errlen) == -1 ||
	    desc_array(d, "rpc", "calls", &calls, err, errlen) == -1)
		return -1;
	if (rpc_adopt_batches(&a, batches, err, errlen) == -1)
		goto done;
	json_array_foreach(calls, i, v)
		if (rpc_adopt_call(&a, v, i, err, errlen) == -1)
			goto done;
	for (i = 0; i < a.nbatches; i++)
		if (a.batches[i]->outstanding == 0) {
			snprintf(err, errlen, "rpc.batches[%zu]: no call of it "
			    "awaits its answer", i);
			goto done;
		}
	/* Tested against the state of now, once the loop runs. */
	rpc_recheck_soon();
	rc = 0;
done:
	if (rc == -1) {
		/* The batches no call took; the others go with their calls. */
		for (i = 0; i < a.nbatches; i++)
			if (a.batches[i] != NULL && a.batches[i]->outstanding == 0)
				jsonrpc_batch_free(a.batches[i]);
		rpc_session_free(c);
	}
	free(a.batches);
	return rc;
}

