/*
 * rpc.c: JSON-RPC 2.0 on the control socket (see rpc.h).
 *
 * A call is answered at once, or later: `wait` and the service operations
 * register a pending call whose condition is tested right away and again
 * after every change (events and supervision steps) that can satisfy it,
 * so a change between the test and the block can never be missed. A
 * client may have limits.max_pending such calls at once. A batch is
 * answered as one array, in order, when its last member is. A reexec
 * call is answered by whichever image comes out of it, so calls awaiting
 * their answer can be described and made again (rpc_handover_client).
 */
#include <sys/queue.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "control.h"
#include "desc.h"
#include "events.h"
#include "flags.h"
#include "flagsvc.h"
#include "log.h"
#include "murmur3.h"
#include "reexec.h"
#include "rpc.h"
#include "sdnotify.h"
#include "tree.h"
#include "util.h"
#include "version.h"

#define RPC_WAIT_DEFAULT_MS	30000
#define RPC_WAIT_MAX_MS		(24 * 3600 * 1000)

struct batch {
	json_t	*slots;		/* one response (or null for a notification) per member */
	size_t	 outstanding;
};

struct call {
	struct client	*client;
	json_t		*id;		/* NULL for a notification */
	struct batch	*batch;
	size_t		 slot;
};

enum pending_kind { PENDING_WAIT, PENDING_SETTLE, PENDING_REEXEC };

/* What a wait waits for (a service operation: its service to settle). */
enum cond_kind { COND_SERVICE, COND_RECOVERED, COND_FLAG, COND_STAGE };

struct watch;

struct pending {
	struct call		 call;
	enum pending_kind	 kind;
	enum cond_kind		 ckind;
	json_t			*cond;		/* wait: the condition, for its timeout */
	int			 state;		/* service wait: the state wanted */
	unsigned		 min_restarts;
	int			 target;	/* flag: the value wanted; stage: the stage */
	bool			 want_up;	/* settle: up (start, restart) or down (stop) */
	json_int_t		 timeout_ms;
	uint64_t		 deadline;	/* wait: its timeout, monotonic ms */
	struct event		*timer;		/* wait: its timeout */
	struct watch		*watch;		/* what it waits on; NULL: recovered */
	struct pending_list	*list;		/* the list of its condition */
	TAILQ_ENTRY(pending)	 by_client;
	TAILQ_ENTRY(pending)	 by_cond;
};

static struct event_base	*base;
static bool			 rechecking;

/* --- responses ----------------------------------------------------------------- */

static const struct {
	int		 code;
	const char	*kind;
} error_kinds[] = {
	{ RPC_PARSE_ERROR, "parse_error" },
	{ RPC_INVALID_REQUEST, "invalid_request" },
	{ RPC_METHOD_NOT_FOUND, "method_not_found" },
	{ RPC_INVALID_PARAMS, "invalid_params" },
	{ RPC_INTERNAL_ERROR, "internal_error" },
	{ RPC_NOT_FOUND, "not_found" },
	{ RPC_FORBIDDEN, "forbidden" },
	{ RPC_TIMEOUT, "timeout" },
	{ RPC_CONFLICT, "conflict" },
	{ RPC_UNAVAILABLE, "unavailable" },
	{ RPC_REEXEC_FAILED, "reexec_failed" },
};

const char *
rpc_error_kind(int code)
{
	size_t	i;

	for (i = 0; i < nitems(error_kinds); i++)
		if (error_kinds[i].code == code)
			return error_kinds[i].kind;
	return "internal_error";
}

/*
 * Messages quote what clients sent, and vsnprintf may cut a character in
 * two: replace every byte that is not part of valid UTF-8 with '?', or
 * jansson would refuse the message and the client get no answer at all.
 */
static void
rpc_utf8_clean(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 n, i;

	while (*p != '\0') {
		if (*p < 0x80) {
			p++;
			continue;
		}
		n = (*p & 0xe0) == 0xc0 && *p >= 0xc2 ? 2 :
		    (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 && *p <= 0xf4 ? 4 : 0;
		for (i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				break;
		if (n == 0 || i < n ||
		    (n == 3 && *p == 0xe0 && p[1] < 0xa0) ||		/* overlong */
		    (n == 3 && *p == 0xed && p[1] >= 0xa0) ||		/* surrogate */
		    (n == 4 && *p == 0xf0 && p[1] < 0x90) ||		/* overlong */
		    (n == 4 && *p == 0xf4 && p[1] >= 0x90)) {		/* > U+10FFFF */
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

static json_t *
rpc_verror_response(json_t *id, int code, json_t *data, const char *fmt, va_list ap)
{
	char	 msg[1024];
	json_t	*r;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	rpc_utf8_clean(msg);
	if (data == NULL)
		data = json_object();
	json_object_set_new(data, "kind", json_string(rpc_error_kind(code)));
	r = json_pack("{s:s,s:O,s:{s:i,s:s,s:o}}", "jsonrpc", "2.0",
	    "id", id != NULL ? id : json_null(),
	    "error", "code", code, "message", msg, "data", data);
	if (r == NULL)	/* never expected: still, an answer rather than none */
		r = json_pack("{s:s,s:n,s:{s:i,s:s}}", "jsonrpc", "2.0", "id",
		    "error", "code", RPC_INTERNAL_ERROR, "message", "error");
	return r;
}

json_t *
rpc_error_response(json_t *id, int code, const char *fmt, ...)
{
	va_list	 ap;
	json_t	*r;

	va_start(ap, fmt);
	r = rpc_verror_response(id, code, NULL, fmt, ap);
	va_end(ap);
	return r;
}

static void
rpc_deliver(struct call *call, json_t *response)
{
	struct batch	*b = call->batch;

	if (b == NULL) {
		if (call->id != NULL)
			control_send(call->client, response);
		json_decref(response);
	} else {
		json_array_set_new(b->slots, call->slot,
		    call->id != NULL ? response : json_null());
		if (call->id == NULL)
			json_decref(response);
		if (--b->outstanding == 0) {
			size_t	 i, n = 0;
			json_t	*out = json_array(), *v;

			json_array_foreach(b->slots, i, v)
				if (!json_is_null(v)) {
					json_array_append(out, v);
					n++;
				}
			if (n > 0)
				control_send(call->client, out);
			json_decref(out);
			json_decref(b->slots);
			free(b);
		}
	}
	json_decref(call->id);
	call->id = NULL;
	call->batch = NULL;
}

static void
rpc_result(struct call *call, json_t *result)
{
	json_t	*r = json_object();

	/* Every answer goes through here: no json_pack format to parse. */
	json_object_set_new_nocheck(r, "jsonrpc", json_string_nocheck("2.0"));
	json_object_set_nocheck(r, "id", call->id != NULL ? call->id : json_null());
	json_object_set_new_nocheck(r, "result", result);
	rpc_deliver(call, r);
}

static void __attribute__((format(printf, 4, 5)))
rpc_error_data(struct call *call, int code, json_t *data, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	rpc_deliver(call, rpc_verror_response(call->id, code, data, fmt, ap));
	va_end(ap);
}

#define rpc_error(call, code, ...) rpc_error_data(call, code, NULL, __VA_ARGS__)

/* --- params ------------------------------------------------------------------------ */

/* Unknown params are errors, as unknown config keys are. */
static int
rpc_check_params(struct call *call, json_t *params, const char *const *allowed)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	json_object_foreach(params, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			rpc_error(call, RPC_INVALID_PARAMS, "unknown parameter '%s'", key);
			return -1;
		}
	}
	return 0;
}

static struct node *
rpc_service_param(struct call *call, json_t *params)
{
	json_t		*v = json_object_get(params, "service");
	struct node	*n;

	if (v == NULL) {
		rpc_error(call, RPC_INVALID_PARAMS, "missing parameter 'service'");
		return NULL;
	}
	if (!json_is_string(v)) {
		rpc_error(call, RPC_INVALID_PARAMS, "'service' must be a string");
		return NULL;
	}
	if ((n = tree_find(json_string_value(v))) == NULL) {
		rpc_error(call, RPC_NOT_FOUND, "no service named '%s'", json_string_value(v));
		return NULL;
	}
	return n;
}

/* --- pending calls ---------------------------------------------------------------------- */

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
 * keeps its waits by the state they want, and the service operations
 * (which wait for the service to settle) in a list of their own. After
 * each change (rpc_recheck) the watches of services and flags are looked
 * at: one whose subject looks as it did at the last look, and that got no
 * new call since, is left alone; otherwise only the waits for the state
 * the service is in now are tested. A stage's waits are tested only when
 * the stage is theirs, and the waits for "recovered" only when warden is
 * recovered: then all of them are answered.
 */

#define WATCH_SETTLE	(SVC_FAILED + 1)	/* lists[]: the service operations */
#define WATCH_LISTS	(SVC_FAILED + 2)

struct watch {
	enum cond_kind		 kind;		/* COND_SERVICE, COND_FLAG or COND_STAGE */
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
	int			 seen_value;	/* flag: -1 when it is gone */
};

static struct watch		**watch_table;
static size_t			  watch_buckets;	/* a power of two, or 0 */
static size_t			  nwatches;
static LIST_HEAD(, watch)	  watched = LIST_HEAD_INITIALIZER(watched);
static struct pending_list	  recovered_waits = TAILQ_HEAD_INITIALIZER(recovered_waits);
/* The reexec calls, answered together; the one in reexec_request() now. */
static struct pending_list	  reexec_calls = TAILQ_HEAD_INITIALIZER(reexec_calls);
static struct pending		 *reexec_asking;

static uint32_t
watch_hash(enum cond_kind kind, const char *name, int stage)
{
	if (name != NULL)
		return murmur3_x86_32(name, strlen(name), (uint32_t)kind);
	return murmur3_x86_32(&stage, sizeof(stage), (uint32_t)kind);
}

static bool
watch_is(const struct watch *w, enum cond_kind kind, const char *name, int stage,
    uint32_t hash)
{
	if (w->hash != hash || w->kind != kind)
		return false;
	return name != NULL ? strcmp(w->name, name) == 0 : w->stage == stage;
}

static struct watch *
watch_find(enum cond_kind kind, const char *name, int stage)
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
watch_get(enum cond_kind kind, const char *name, int stage)
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
	if (kind != COND_STAGE)
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
	if (w->kind != COND_STAGE)
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

bool
rpc_client_busy(const struct client *c)
{
	return c->npending > 0;
}

static void
pending_free(struct pending *p)
{
	struct client	*c = p->call.client;
	struct watch	*w = p->watch;

	TAILQ_REMOVE(&c->pending, p, by_client);
	c->npending--;
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
	json_decref(p->cond);
	json_decref(p->call.id);
	free(p);
	/* A client that said all it had to say leaves with its last answer. */
	if (c->eof && c->npending == 0)
		control_close(c);
}

static void
pending_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pending	*p = arg;

	(void)fd;
	(void)what;
	rpc_error_data(&p->call, RPC_TIMEOUT, json_pack("{s:O}", "condition", p->cond),
	    "condition not met within %lld ms", (long long)p->timeout_ms);
	pending_free(p);
}

/*
 * May the client have one more call waiting? Past limits.max_pending the
 * call gets an error at once, and nothing is done.
 */
static bool
pending_room(struct call *call)
{
	int	max = tree_config()->limits.max_pending;

	if (call->client->npending < (unsigned)max)
		return true;
	rpc_error_data(call, RPC_INVALID_REQUEST, json_pack("{s:s,s:i}",
	    "limit", "max_pending", "max_pending", max),
	    "too many calls awaiting their answer on this connection "
	    "(max_pending %d)", max);
	return false;
}

/* Take the call over; it is on its client's list, not yet on a condition's. */
static struct pending *
pending_new(struct call *call, enum pending_kind kind)
{
	struct pending	*p = xcalloc(1, sizeof(*p));
	struct client	*c = call->client;

	p->call = *call;
	p->kind = kind;
	/* The call is the pending's now. */
	call->id = NULL;
	call->batch = NULL;
	TAILQ_INSERT_TAIL(&c->pending, p, by_client);
	c->npending++;
	return p;
}

/* Put p on the list of what it waits for. */
static void
pending_watch(struct pending *p, enum cond_kind kind, const char *name, int stage,
    size_t list)
{
	struct watch	*w;

	if (kind == COND_RECOVERED) {
		p->list = &recovered_waits;
		TAILQ_INSERT_TAIL(p->list, p, by_cond);
		return;
	}
	w = watch_get(kind, name, stage);
	p->watch = w;
	p->list = &w->lists[list];
	TAILQ_INSERT_TAIL(p->list, p, by_cond);
	w->count++;
	/* Tested against the state of now, not the state of the last look. */
	w->dirty = true;
}

/* Is a service operation done: the node has arrived where it was sent, or given up? */
static bool
settle_done(const struct pending *p, const struct node *n)
{
	if (!tree_settled(n))
		return false;
	if (p->want_up)
		return n->state == SVC_RUNNING || n->state == SVC_FAILED ||
		    n->state == SVC_BACKOFF;
	return n->state == SVC_STOPPED || n->state == SVC_FAILED;
}

static json_t *
node_json(const struct node *n)
{
	return n->is_sup ? tree_supervisor_json(n) : tree_service_json(n);
}

/*
 * Test one call; answer and free it when it holds (or what it waits on is
 * gone). true: it was answered. The calls of one list all have the same
 * answer when they hold: *shared, when not NULL, keeps the one made for
 * the first, for the others.
 */
static bool
pending_test(struct pending *p, json_t **shared)
{
	const struct flags	*f;
	struct node		*n = NULL;
	json_t			*result;
	ssize_t			 i = -1;
	bool			 holds = false;

	switch (p->ckind) {
	case COND_SERVICE:
		if ((n = watch_node(p->watch)) == NULL) {
			rpc_error(&p->call, RPC_NOT_FOUND, "no service named '%s' any more",
			    p->watch->name);
			pending_free(p);
			return true;
		}
		if (p->kind == PENDING_SETTLE)
			holds = settle_done(p, n);
		else
			holds = (int)tree_service_state(n) == p->state &&
			    (n->starts > 0 ? n->starts - 1 : 0) >= p->min_restarts;
		break;
	case COND_FLAG:
		f = flagsvc_flags();
		if ((i = flags_find(f, p->watch->name)) < 0) {
			rpc_error(&p->call, RPC_NOT_FOUND, "no flag named '%s' any more",
			    p->watch->name);
			pending_free(p);
			return true;
		}
		holds = f->flag[i].value == p->target;
		break;
	case COND_STAGE:
		holds = flagsvc_stage() == p->target;
		break;
	case COND_RECOVERED:
		holds = tree_recovered();
		break;
	}
	if (!holds)
		return false;
	if (shared != NULL && *shared != NULL)
		result = json_incref(*shared);
	else {
		switch (p->ckind) {
		case COND_SERVICE:
			result = node_json(n);
			break;
		case COND_FLAG:
			result = flags_flag_json(flagsvc_flags(), (size_t)i);
			break;
		case COND_STAGE:
			result = json_pack("{s:i}", "stage", flagsvc_stage());
			break;
		default:
			result = tree_recovery_json();
			break;
		}
		if (shared != NULL)
			*shared = json_incref(result);
	}
	rpc_result(&p->call, result);
	pending_free(p);
	return true;
}

/* Test every call of a list, as far as it goes. */
static void
pending_test_list(struct pending_list *list)
{
	struct pending	*p, *next;
	json_t		*shared = NULL;

	for (p = TAILQ_FIRST(list); p != NULL; p = next) {
		next = TAILQ_NEXT(p, by_cond);
		(void)pending_test(p, &shared);
	}
	json_decref(shared);
}

/*
 * Look at a service's or a flag's watch after a change: test its calls if
 * the subject changed since the last look or a call came meanwhile.
 */
static void
watch_look(struct watch *w)
{
	const struct flags	*f;
	struct node		*n;
	enum svc_state		 state;
	ssize_t			 i;
	size_t			 l;
	int			 value;
	bool			 settled;

	w->pinned = true;
	if (w->kind == COND_FLAG) {
		f = flagsvc_flags();
		i = flags_find(f, w->name);
		value = i < 0 ? -1 : f->flag[i].value;
		if (w->dirty || value != w->seen_value) {
			w->seen_value = value;
			w->dirty = false;
			pending_test_list(&w->lists[0]);
		}
	} else if ((n = watch_node(w)) == NULL) {
		/* Gone with a reload: every call on it is answered so. */
		for (l = 0; l < nitems(w->lists); l++)
			pending_test_list(&w->lists[l]);
	} else {
		/* A killed instance shows as stopping until it exits. */
		state = tree_service_state(n);
		settled = tree_settled(n);
		if (w->dirty || w->seen_gen != w->node_gen ||
		    (int)state != w->seen_state || n->starts != w->seen_starts ||
		    settled != w->seen_settled) {
			w->seen_gen = w->node_gen;
			w->seen_state = (int)state;
			w->seen_starts = n->starts;
			w->seen_settled = settled;
			w->dirty = false;
			pending_test_list(&w->lists[state]);
			pending_test_list(&w->lists[WATCH_SETTLE]);
		}
	}
	w->pinned = false;
	watch_release(w);
}

static struct event	*ev_recheck;

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
		pending_test_list(&recovered_waits);
	if ((w = watch_find(COND_STAGE, NULL, flagsvc_stage())) != NULL) {
		w->pinned = true;
		pending_test_list(&w->lists[0]);
		w->pinned = false;
		watch_release(w);
	}
	for (w = LIST_FIRST(&watched); w != NULL; w = next) {
		next = LIST_NEXT(w, entry);
		watch_look(w);
	}
	rechecking = false;
}

void
rpc_client_gone(struct client *c)
{
	struct pending	*p;

	c->eof = false;		/* it is going now: nothing to close later */
	while ((p = TAILQ_FIRST(&c->pending)) != NULL) {
		if (p->call.batch != NULL && --p->call.batch->outstanding == 0) {
			json_decref(p->call.batch->slots);
			free(p->call.batch);
		}
		p->call.batch = NULL;
		pending_free(p);
	}
}

static void
rpc_event_cb(json_t *ev, void *arg)
{
	struct client	*c;
	const char	*type = json_string_value(json_object_get(ev, "type"));
	json_t		*t;
	size_t		 i;

	(void)arg;
	for (c = control_clients(); c != NULL; c = c->next) {
		if (!c->subscribed || c->closing)
			continue;
		if (c->topics != NULL) {
			json_array_foreach(c->topics, i, t)
				if (events_topic_match(json_string_value(t), type))
					break;
			if (i == json_array_size(c->topics))
				continue;
		}
		control_send_event(c, ev);
	}
	/*
	 * Not now: an event is emitted in the middle of a change (the exit is
	 * told before the restart decision is made), so waits are tested once
	 * the loop is back, with the change complete.
	 */
	rpc_recheck_soon();
}

/* --- wait conditions ------------------------------------------------------------------- */

/*
 * Validate a condition. Returns NULL when it is fine, or a message.
 */
static const char *
rpc_cond_check(json_t *cond)
{
	json_t		*v;
	const char	*key;

	if (!json_is_object(cond))
		return "'condition' must be an object";
	if ((v = json_object_get(cond, "recovered")) != NULL) {
		if (!json_is_true(v))
			return "'recovered' must be true";
		json_object_foreach(cond, key, v)
			if (strcmp(key, "recovered") != 0)
				return "'recovered' takes no other keys";
		return NULL;
	}
	if ((v = json_object_get(cond, "service")) != NULL) {
		if (!json_is_string(v))
			return "'service' must be a string";
		v = json_object_get(cond, "state");
		if (!json_is_string(v) || tree_state_parse(json_string_value(v)) == -1)
			return "'state' must be one of stopped, starting, running, stopping, backoff, failed";
		v = json_object_get(cond, "min_restarts");
		if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0))
			return "'min_restarts' must be an integer >= 0";
		json_object_foreach(cond, key, v)
			if (strcmp(key, "service") != 0 && strcmp(key, "state") != 0 &&
			    strcmp(key, "min_restarts") != 0)
				return "unknown key in a service condition";
		return NULL;
	}
	if ((v = json_object_get(cond, "flag")) != NULL) {
		int	val;

		if (!json_is_string(v))
			return "'flag' must be a string";
		if (flags_value_parse(json_object_get(cond, "value"), &val) == -1)
			return "'value' must be true, false or an integer from 0 to 100";
		json_object_foreach(cond, key, v)
			if (strcmp(key, "flag") != 0 && strcmp(key, "value") != 0)
				return "unknown key in a flag condition";
		return NULL;
	}
	if ((v = json_object_get(cond, "stage")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return "'stage' must be an integer >= 0";
		json_object_foreach(cond, key, v)
			if (strcmp(key, "stage") != 0)
				return "unknown key in a stage condition";
		return NULL;
	}
	return "a condition is {\"service\":NAME,\"state\":STATE}, {\"recovered\":true}, "
	    "{\"flag\":NAME,\"value\":V} or {\"stage\":N}";
}

/*
 * Put a wait for a checked condition on the list of what it waits for,
 * and arm its timeout: timeout_ms in all (for the message), of which
 * left_ms remain (all of it, but for a wait handed over by a reexec).
 */
static void
pending_wait_arm(struct pending *p, json_t *cond, json_int_t timeout_ms,
    json_int_t left_ms)
{
	struct timeval	 tv;
	json_t		*v;

	p->cond = json_deep_copy(cond);
	p->timeout_ms = timeout_ms;
	p->deadline = util_now_ms() + (uint64_t)left_ms;
	if (json_object_get(cond, "recovered") != NULL) {
		p->ckind = COND_RECOVERED;
		pending_watch(p, COND_RECOVERED, NULL, 0, 0);
	} else if ((v = json_object_get(cond, "flag")) != NULL) {
		p->ckind = COND_FLAG;
		if (flags_value_parse(json_object_get(cond, "value"), &p->target) == -1)
			fatalx("a checked flag condition does not parse");
		pending_watch(p, COND_FLAG, json_string_value(v), 0, 0);
	} else if ((v = json_object_get(cond, "stage")) != NULL) {
		/* No configured stage comes near INT_MAX. */
		p->ckind = COND_STAGE;
		p->target = json_integer_value(v) > INT_MAX ? INT_MAX :
		    (int)json_integer_value(v);
		pending_watch(p, COND_STAGE, NULL, p->target, 0);
	} else {
		p->ckind = COND_SERVICE;
		p->state = tree_state_parse(json_string_value(json_object_get(cond,
		    "state")));
		if ((v = json_object_get(cond, "min_restarts")) != NULL)
			p->min_restarts = json_integer_value(v) > UINT_MAX ? UINT_MAX :
			    (unsigned)json_integer_value(v);
		pending_watch(p, COND_SERVICE, json_string_value(json_object_get(cond,
		    "service")), 0, (size_t)p->state);
	}
	p->timer = evtimer_new(base, pending_timeout_cb, p);
	tv.tv_sec = (time_t)(left_ms / 1000);
	tv.tv_usec = (suseconds_t)((left_ms % 1000) * 1000);
	if (p->timer == NULL || evtimer_add(p->timer, &tv) == -1)
		fatalx("cannot arm a wait timer");
}

/* --- methods ------------------------------------------------------------------------------ */

static const char *const no_params[] = { NULL };

static void
m_ping(struct call *call, json_t *params)
{
	if (rpc_check_params(call, params, no_params) == 0)
		rpc_result(call, json_string("pong"));
}

static void
m_version(struct call *call, json_t *params)
{
	if (rpc_check_params(call, params, no_params) == 0)
		rpc_result(call, json_pack("{s:s,s:i}", "version", WARDEN_VERSION,
		    "protocol", RPC_PROTOCOL_VERSION));
}

static void
m_status(struct call *call, json_t *params)
{
	static const char *const allowed[] = { "service", NULL };
	struct node	*n = NULL;

	if (rpc_check_params(call, params, allowed) == -1)
		return;
	if (json_object_get(params, "service") != NULL &&
	    (n = rpc_service_param(call, params)) == NULL)
		return;
	rpc_result(call, tree_status_json(n));
}

static void
rpc_service_op(struct call *call, json_t *params,
    int (*op)(struct node *, const char **), bool want_up)
{
	static const char *const allowed[] = { "service", NULL };
	struct pending	*p;
	struct node	*n;
	const char	*why = NULL;

	if (rpc_check_params(call, params, allowed) == -1 ||
	    (n = rpc_service_param(call, params)) == NULL)
		return;
	/* Its answer waits for the service: refused before anything is done. */
	if (!pending_room(call))
		return;
	if (op(n, &why) == -1) {
		rpc_error(call, RPC_CONFLICT, "%s: %s", n->name, why);
		return;
	}
	log_info("%s: %s by uid %ld pid %ld", n->name, want_up ? "start" : "stop",
	    (long)call->client->uid, (long)call->client->pid);
	/* Answer once it has got there (or given up on the way). */
	p = pending_new(call, PENDING_SETTLE);
	p->ckind = COND_SERVICE;
	p->want_up = want_up;
	pending_watch(p, COND_SERVICE, n->name, 0, WATCH_SETTLE);
	(void)pending_test(p, NULL);
}

static void
m_service_start(struct call *call, json_t *params)
{
	rpc_service_op(call, params, tree_op_start, true);
}

static void
m_service_stop(struct call *call, json_t *params)
{
	rpc_service_op(call, params, tree_op_stop, false);
}

static void
m_service_restart(struct call *call, json_t *params)
{
	rpc_service_op(call, params, tree_op_restart, true);
}

static int
kill_collect(struct node *n, void *arg)
{
	json_t	*targets = arg;

	json_array_append_new(targets, json_string(n->name));
	return 0;
}

static void
m_service_kill(struct call *call, json_t *params)
{
	static const char *const allowed[] = { "service", "signal", NULL };
	json_t		*svc = json_object_get(params, "service");
	json_t		*sigv = json_object_get(params, "signal");
	json_t		*names, *killed, *v;
	struct node	*n;
	char		 num[16];
	int		 sig = SIGKILL;
	size_t		 i;

	if (rpc_check_params(call, params, allowed) == -1)
		return;
	if (sigv != NULL) {
		if (json_is_integer(sigv)) {
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(sigv));
			sig = util_signal_parse(num);
		} else if (json_is_string(sigv))
			sig = util_signal_parse(json_string_value(sigv));
		else
			sig = -1;
		if (sig <= 0) {
			rpc_error(call, RPC_INVALID_PARAMS, "'signal' is not a signal");
			return;
		}
	}
	/* Resolve every name first: all or nothing. */
	names = json_array();
	if (json_is_string(svc) && strcmp(json_string_value(svc), "*") == 0)
		tree_each_worker(tree_root(), kill_collect, names);
	else if (json_is_string(svc))
		json_array_append(names, svc);
	else if (json_is_array(svc) && json_array_size(svc) > 0) {
		json_array_foreach(svc, i, v) {
			if (!json_is_string(v)) {
				json_decref(names);
				rpc_error(call, RPC_INVALID_PARAMS,
				    "'service' must be a name, a list of names or \"*\"");
				return;
			}
		}
		json_array_extend(names, svc);
	} else {
		json_decref(names);
		rpc_error(call, RPC_INVALID_PARAMS,
		    "'service' must be a name, a list of names or \"*\"");
		return;
	}
	json_array_foreach(names, i, v) {
		if (tree_find(json_string_value(v)) == NULL) {
			rpc_error(call, RPC_NOT_FOUND, "no service named '%s'",
			    json_string_value(v));
			json_decref(names);
			return;
		}
	}
	/* Then signal them all in one go: one moment, not a sequence of calls. */
	killed = json_array();
	json_array_foreach(names, i, v) {
		n = tree_find(json_string_value(v));
		if (n->is_sup)
			tree_each_worker(n, kill_collect, names);
		else if (tree_kill(n, sig, killed) == -1)
			log_warn("%s: kill", n->name);
	}
	json_decref(names);
	log_info("SIG%s sent to %zu service(s) by uid %ld pid %ld", util_signal_name(sig),
	    json_array_size(killed), (long)call->client->uid, (long)call->client->pid);
	rpc_result(call, json_pack("{s:o,s:s,s:o}", "killed", killed,
	    "signal", util_signal_name(sig), "ts", events_ts_now()));
}

static void
m_recovery(struct call *call, json_t *params)
{
	if (rpc_check_params(call, params, no_params) == 0)
		rpc_result(call, tree_recovery_json());
}

static void
m_wait(struct call *call, json_t *params)
{
	static const char *const allowed[] = { "condition", "timeout_ms", NULL };
	json_t		*cond = json_object_get(params, "condition");
	json_t		*tmo = json_object_get(params, "timeout_ms");
	json_int_t	 ms = RPC_WAIT_DEFAULT_MS;
	struct pending	*p;
	const char	*bad;

	if (rpc_check_params(call, params, allowed) == -1)
		return;
	if (cond == NULL) {
		rpc_error(call, RPC_INVALID_PARAMS, "missing parameter 'condition'");
		return;
	}
	if ((bad = rpc_cond_check(cond)) != NULL) {
		rpc_error(call, RPC_INVALID_PARAMS, "%s", bad);
		return;
	}
	if (tmo != NULL) {
		if (!json_is_integer(tmo) || json_integer_value(tmo) < 0 ||
		    json_integer_value(tmo) > RPC_WAIT_MAX_MS) {
			rpc_error(call, RPC_INVALID_PARAMS,
			    "'timeout_ms' must be an integer from 0 to %d", RPC_WAIT_MAX_MS);
			return;
		}
		ms = json_integer_value(tmo);
	}
	if (json_object_get(cond, "service") != NULL &&
	    tree_find(json_string_value(json_object_get(cond, "service"))) == NULL) {
		rpc_error(call, RPC_NOT_FOUND, "no service named '%s'",
		    json_string_value(json_object_get(cond, "service")));
		return;
	}
	if (json_object_get(cond, "flag") != NULL &&
	    flags_find(flagsvc_flags(), json_string_value(json_object_get(cond, "flag"))) < 0) {
		rpc_error(call, RPC_NOT_FOUND, "no flag named '%s'",
		    json_string_value(json_object_get(cond, "flag")));
		return;
	}
	if (!pending_room(call))
		return;
	/* Registered before the first test: nothing between test and block is missed. */
	p = pending_new(call, PENDING_WAIT);
	pending_wait_arm(p, cond, ms, ms);
	(void)pending_test(p, NULL);
}

static void
m_subscribe(struct call *call, json_t *params)
{
	static const char *const allowed[] = { "topics", NULL };
	json_t	*topics = json_object_get(params, "topics");
	json_t	*t;
	size_t	 i;

	if (rpc_check_params(call, params, allowed) == -1)
		return;
	if (topics != NULL && !json_is_null(topics)) {
		if (!json_is_array(topics)) {
			rpc_error(call, RPC_INVALID_PARAMS, "'topics' must be a list of strings");
			return;
		}
		json_array_foreach(topics, i, t)
			if (!json_is_string(t) || json_string_length(t) == 0) {
				rpc_error(call, RPC_INVALID_PARAMS,
				    "'topics' must be a list of strings");
				return;
			}
	}
	json_decref(call->client->topics);
	call->client->topics = topics != NULL && json_array_size(topics) > 0 ?
	    json_deep_copy(topics) : NULL;
	call->client->subscribed = true;
	rpc_result(call, json_pack("{s:I}", "seq", (json_int_t)events_last_seq()));
}

static void
m_config_reload(struct call *call, json_t *params)
{
	static const char *const allowed[] = { "dry_run", NULL };
	json_t		*dry = json_object_get(params, "dry_run");
	struct config	*nc;
	json_t		*result;
	char		 err[1024];

	if (rpc_check_params(call, params, allowed) == -1)
		return;
	if (dry != NULL && !json_is_boolean(dry)) {
		rpc_error(call, RPC_INVALID_PARAMS, "'dry_run' must be true or false");
		return;
	}
	/* systemd's reload protocol, as for SIGHUP: RELOADING=1, then READY=1. */
	if (!json_is_true(dry))
		sdnotify_reloading();
	if (config_load(tree_config()->path, &nc, err, sizeof(err)) == -1) {
		log_warnx("reload refused: %s", err);
		if (!json_is_true(dry))
			sdnotify_reloaded(err);
		rpc_error(call, RPC_INVALID_PARAMS, "%s", err);
		return;
	}
	if (tree_reload(nc, json_is_true(dry), &result) == -1) {
		config_free(nc);
		rpc_error(call, RPC_CONFLICT, "warden is shutting down");
		return;
	}
	if (json_is_true(dry))
		config_free(nc);
	else {
		control_set_config(nc);
		flagsvc_reconfigure(nc);
		sdnotify_reloaded(NULL);
	}
	rpc_result(call, result);
}

static int
rpc_flagsvc_code(enum flagsvc_err e)
{
	switch (e) {
	case FLAGSVC_OK:
		break;
	case FLAGSVC_INVALID:
		return RPC_INVALID_PARAMS;
	case FLAGSVC_NOT_FOUND:
		return RPC_NOT_FOUND;
	case FLAGSVC_CONFLICT:
		return RPC_CONFLICT;
	case FLAGSVC_UNAVAILABLE:
		return RPC_UNAVAILABLE;
	}
	return RPC_INTERNAL_ERROR;
}

/* flag.set, flag.reset, stage.set, stage.rollback, stage.emergency */
static void
m_flag_write(struct call *call, const char *method, json_t *params)
{
	enum flagsvc_err	 e;
	json_t			*result;
	char			 err[512];

	e = flagsvc_write(method, params, call->client->uid, call->client->pid,
	    &result, err, sizeof(err));
	if (e != FLAGSVC_OK) {
		rpc_error(call, rpc_flagsvc_code(e), "%s", err);
		return;
	}
	rpc_result(call, result);
}

static void
m_flag_set(struct call *call, json_t *params)
{
	m_flag_write(call, "flag.set", params);
}

static void
m_flag_reset(struct call *call, json_t *params)
{
	m_flag_write(call, "flag.reset", params);
}

static void
m_stage_set(struct call *call, json_t *params)
{
	m_flag_write(call, "stage.set", params);
}

static void
m_stage_rollback(struct call *call, json_t *params)
{
	m_flag_write(call, "stage.rollback", params);
}

static void
m_stage_emergency(struct call *call, json_t *params)
{
	m_flag_write(call, "stage.emergency", params);
}

static void
m_flag_list(struct call *call, json_t *params)
{
	if (rpc_check_params(call, params, no_params) == 0)
		rpc_result(call, flags_list_json(flagsvc_flags(), flagsvc_generation()));
}

static void
m_flag_get(struct call *call, json_t *params)
{
	static const char *const allowed[] = { "name", NULL };
	json_t	*name = json_object_get(params, "name");
	ssize_t	 i;

	if (rpc_check_params(call, params, allowed) == -1)
		return;
	if (!json_is_string(name)) {
		rpc_error(call, RPC_INVALID_PARAMS, "'name' must be a flag's name");
		return;
	}
	if ((i = flags_find(flagsvc_flags(), json_string_value(name))) < 0) {
		rpc_error(call, RPC_NOT_FOUND, "no flag named '%s'", json_string_value(name));
		return;
	}
	rpc_result(call, flags_flag_json(flagsvc_flags(), (size_t)i));
}

static void
m_stage_get(struct call *call, json_t *params)
{
	if (rpc_check_params(call, params, no_params) == 0)
		rpc_result(call, flags_stage_json(flagsvc_flags()));
}

static void
m_table_info(struct call *call, json_t *params)
{
	if (rpc_check_params(call, params, no_params) == 0)
		rpc_result(call, flagsvc_table_info());
}

static void
m_table_delete(struct call *call, json_t *params)
{
	if (rpc_check_params(call, params, no_params) == -1)
		return;
	if (!flagsvc_table_available()) {
		rpc_error(call, RPC_UNAVAILABLE, "no table to delete: the table is unavailable (%s)",
		    flagsvc_table_error());
		return;
	}
	if (flagsvc_table_delete() == -1) {
		rpc_error(call, RPC_INTERNAL_ERROR, "cannot delete the table: %s", strerror(errno));
		return;
	}
	log_info("table deleted by uid %ld pid %ld (a drill)", (long)call->client->uid,
	    (long)call->client->pid);
	rpc_result(call, json_pack("{s:b}", "deleted", 1));
}

static void
m_table_corrupt(struct call *call, json_t *params)
{
	if (rpc_check_params(call, params, no_params) == -1)
		return;
	if (!flagsvc_table_available()) {
		rpc_error(call, RPC_UNAVAILABLE, "no table to corrupt: the table is unavailable (%s)",
		    flagsvc_table_error());
		return;
	}
	if (flagsvc_table_corrupt() == -1) {
		rpc_error(call, RPC_INTERNAL_ERROR, "cannot corrupt the table: %s", strerror(errno));
		return;
	}
	log_info("table corrupted by uid %ld pid %ld (a drill)", (long)call->client->uid,
	    (long)call->client->pid);
	rpc_result(call, json_pack("{s:b}", "corrupted", 1));
}

static void
m_shutdown(struct call *call, json_t *params)
{
	if (rpc_check_params(call, params, no_params) == -1)
		return;
	log_info("shutdown asked by uid %ld pid %ld", (long)call->client->uid,
	    (long)call->client->pid);
	rpc_result(call, json_pack("{s:b}", "stopping", 1));
	tree_shutdown();
}

/*
 * Answered by the image that comes out of it: the call waits, on its
 * client's connection, through the exec (rpc_reexec_done) or until the
 * old image gives up (rpc_reexec_failed).
 */
static void
m_reexec(struct call *call, json_t *params)
{
	static const char *const allowed[] = { "binary", NULL };
	json_t		*bin = json_object_get(params, "binary");
	const char	*path = NULL;
	struct pending	*p;
	char		 err[1024];
	int		 rc;

	if (rpc_check_params(call, params, allowed) == -1)
		return;
	if (bin != NULL) {
		if (!json_is_string(bin) || json_string_value(bin)[0] != '/') {
			rpc_error(call, RPC_INVALID_PARAMS,
			    "'binary' must be an absolute path");
			return;
		}
		path = json_string_value(bin);
	}
	if (!pending_room(call))
		return;
	log_info("reexec of %s asked by uid %ld pid %ld",
	    path != NULL ? path : "warden's own binary", (long)call->client->uid,
	    (long)call->client->pid);
	/* Waiting before the request: an outcome told at once reaches it. */
	p = pending_new(call, PENDING_REEXEC);
	p->list = &reexec_calls;
	TAILQ_INSERT_TAIL(p->list, p, by_cond);
	reexec_asking = p;
	if ((rc = reexec_request(path, err, sizeof(err))) < 0 &&
	    reexec_asking == p) {
		log_warnx("reexec refused: %s", err);
		/* -2: the file named is no binary to run; -1: not now. */
		rpc_error(&p->call, rc == -2 ? RPC_INVALID_PARAMS : RPC_CONFLICT,
		    "%s", err);
		pending_free(p);
	}
	reexec_asking = NULL;
}

void
rpc_reexec_failed(const char *why)
{
	struct pending	*p;
	char		 msg[1024];

	/* Both the message and data.reason: clean it once for both. */
	snprintf(msg, sizeof(msg), "%s", why != NULL ? why : "reexec failed");
	rpc_utf8_clean(msg);
	while ((p = TAILQ_FIRST(&reexec_calls)) != NULL) {
		rpc_error_data(&p->call, RPC_REEXEC_FAILED,
		    json_pack("{s:s}", "reason", msg), "%s", msg);
		pending_free(p);
	}
}

void
rpc_reexec_done(json_t *result)
{
	struct pending	*p;

	while ((p = TAILQ_FIRST(&reexec_calls)) != NULL) {
		rpc_result(&p->call, result != NULL ? json_incref(result) :
		    json_object());
		pending_free(p);
	}
}

/* The command table: one entry per method, with the role it needs. */
static const struct method {
	const char	*name;
	enum role	 role;
	bool		 params_array_ok;
	void		(*fn)(struct call *, json_t *);
} methods[] = {
	{ "ping", ROLE_READ, true, m_ping },
	{ "version", ROLE_READ, true, m_version },
	{ "status", ROLE_READ, false, m_status },
	{ "service.start", ROLE_OPERATE, false, m_service_start },
	{ "service.stop", ROLE_OPERATE, false, m_service_stop },
	{ "service.restart", ROLE_OPERATE, false, m_service_restart },
	{ "service.kill", ROLE_OPERATE, false, m_service_kill },
	{ "recovery", ROLE_READ, true, m_recovery },
	{ "wait", ROLE_READ, false, m_wait },
	{ "subscribe", ROLE_READ, false, m_subscribe },
	{ "flag.list", ROLE_READ, true, m_flag_list },
	{ "flag.get", ROLE_READ, false, m_flag_get },
	{ "flag.set", ROLE_OPERATE, false, m_flag_set },
	{ "flag.reset", ROLE_OPERATE, true, m_flag_reset },
	{ "stage.get", ROLE_READ, true, m_stage_get },
	{ "stage.set", ROLE_OPERATE, false, m_stage_set },
	{ "stage.rollback", ROLE_OPERATE, true, m_stage_rollback },
	{ "stage.emergency", ROLE_OPERATE, true, m_stage_emergency },
	{ "table.info", ROLE_READ, true, m_table_info },
	{ "table.delete", ROLE_ADMIN, true, m_table_delete },
	{ "table.corrupt", ROLE_ADMIN, true, m_table_corrupt },
	{ "config.reload", ROLE_ADMIN, false, m_config_reload },
	{ "shutdown", ROLE_ADMIN, true, m_shutdown },
	{ "reexec", ROLE_ADMIN, false, m_reexec },
};

/* --- framing ------------------------------------------------------------------------------------ */

static bool
rpc_id_valid(json_t *id)
{
	return json_is_string(id) || json_is_integer(id) || json_is_real(id) ||
	    json_is_null(id);
}

static void
rpc_dispatch(struct call *call, json_t *req)
{
	const struct method	*m = NULL;
	json_t			*method, *params, *ver, *id;
	const char		*key;
	json_t			*v;
	size_t			 i;

	if (!json_is_object(req)) {
		call->id = json_null();
		rpc_error(call, RPC_INVALID_REQUEST, "a request must be an object");
		return;
	}
	id = json_object_get(req, "id");
	if (id != NULL && rpc_id_valid(id))
		call->id = json_incref(id);
	else if (id != NULL) {
		call->id = json_null();
		rpc_error(call, RPC_INVALID_REQUEST, "'id' must be a string, a number or null");
		return;
	}
	json_object_foreach(req, key, v)
		if (strcmp(key, "jsonrpc") != 0 && strcmp(key, "id") != 0 &&
		    strcmp(key, "method") != 0 && strcmp(key, "params") != 0) {
			if (call->id == NULL)
				call->id = json_null();
			rpc_error(call, RPC_INVALID_REQUEST, "unknown member '%s'", key);
			return;
		}
	ver = json_object_get(req, "jsonrpc");
	method = json_object_get(req, "method");
	params = json_object_get(req, "params");
	if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0 ||
	    !json_is_string(method)) {
		if (call->id == NULL)
			call->id = json_null();
		rpc_error(call, RPC_INVALID_REQUEST,
		    "a request needs \"jsonrpc\": \"2.0\" and a string \"method\"");
		return;
	}
	for (i = 0; i < nitems(methods); i++)
		if (strcmp(methods[i].name, json_string_value(method)) == 0)
			m = &methods[i];
	if (m == NULL) {
		rpc_error(call, RPC_METHOD_NOT_FOUND, "no method '%s'",
		    json_string_value(method));
		return;
	}
	if (call->client->role < m->role) {
		log_warnx("%s refused to uid %ld pid %ld: needs role %s",
		    m->name, (long)call->client->uid, (long)call->client->pid,
		    control_role_name(m->role));
		rpc_error(call, RPC_FORBIDDEN, "%s needs the %s role", m->name,
		    control_role_name(m->role));
		return;
	}
	if (params == NULL || json_is_null(params) ||
	    (json_is_array(params) && json_array_size(params) == 0 && m->params_array_ok)) {
		params = json_object();
		m->fn(call, params);
		json_decref(params);
		return;
	}
	if (!json_is_object(params)) {
		rpc_error(call, RPC_INVALID_PARAMS, "'params' must be an object");
		return;
	}
	m->fn(call, params);
}

/*
 * How deep arrays and objects nest in a JSON text, strings skipped. Run
 * before parsing, so a request nested past the limit costs one pass and
 * no allocation.
 */
size_t
rpc_json_depth(const char *s, size_t len)
{
	size_t	i, depth = 0, max = 0;
	bool	in_string = false;

	for (i = 0; i < len; i++) {
		if (in_string) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_string = false;
			continue;
		}
		switch (s[i]) {
		case '"':
			in_string = true;
			break;
		case '[':
		case '{':
			if (++depth > max)
				max = depth;
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			break;
		}
	}
	return max;
}

void
rpc_handle(struct client *c, const char *line, size_t len)
{
	const struct limits_conf *lim = &tree_config()->limits;
	json_error_t	 jerr;
	json_t		*req, *resp, *v;
	struct call	 call;
	struct batch	*b;
	size_t		 i, n;

	if (rpc_json_depth(line, len) > (size_t)lim->max_json_depth) {
		resp = rpc_error_response(NULL, RPC_INVALID_REQUEST,
		    "a request nested deeper than %d levels", lim->max_json_depth);
		control_send(c, resp);
		json_decref(resp);
		return;
	}
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (req == NULL) {
		resp = rpc_error_response(NULL, RPC_PARSE_ERROR, "parse error at column %d: %s",
		    jerr.column, jerr.text);
		control_send(c, resp);
		json_decref(resp);
		return;
	}
	memset(&call, 0, sizeof(call));
	call.client = c;
	if (!json_is_array(req)) {
		rpc_dispatch(&call, req);
		json_decref(call.id);
		json_decref(req);
		return;
	}
	n = json_array_size(req);
	if (n == 0 || n > (size_t)lim->max_batch) {
		resp = rpc_error_response(NULL, RPC_INVALID_REQUEST, n == 0 ?
		    "an empty batch" : "a batch over %d requests", lim->max_batch);
		control_send(c, resp);
		json_decref(resp);
		json_decref(req);
		return;
	}
	b = xcalloc(1, sizeof(*b));
	b->slots = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(b->slots, json_null());
	/* One more than the members, so the batch cannot finish while being filled. */
	b->outstanding = n + 1;
	json_array_foreach(req, i, v) {
		memset(&call, 0, sizeof(call));
		call.client = c;
		call.batch = b;
		call.slot = i;
		rpc_dispatch(&call, v);
		json_decref(call.id);
	}
	json_decref(req);
	/* Release the extra count: answers the batch if nothing was deferred. */
	memset(&call, 0, sizeof(call));
	call.client = c;
	call.batch = b;
	call.slot = n;
	json_array_append_new(b->slots, json_null());
	rpc_deliver(&call, json_null());
}

/* --- handover ------------------------------------------------------------------------------ */

/*
 * A reexec hands every call awaiting its answer over to the next image,
 * which makes it again: its id, what it waits for, the rest of a wait's
 * time (its deadline is CLOCK_MONOTONIC, which an exec does not reset)
 * and its place in a batch. The answers a batch has collected go with it,
 * so that the new image still answers the batch whole.
 */

static const char *const pending_kind_names[] = {
	[PENDING_WAIT] = "wait",
	[PENDING_SETTLE] = "settle",
	[PENDING_REEXEC] = "reexec",
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
		json_object_set_new(o, "condition", json_deep_copy(p->cond));
		json_object_set_new(o, "timeout_ms", json_integer(p->timeout_ms));
		json_object_set_new(o, "deadline_ms",
		    json_integer((json_int_t)p->deadline));
		break;
	case PENDING_SETTLE:
		json_object_set_new(o, "service", json_string(p->watch->name));
		json_object_set_new(o, "want_up", json_boolean(p->want_up));
		break;
	case PENDING_REEXEC:
		break;
	}
	return o;
}

json_t *
rpc_handover_client(const struct client *c)
{
	const struct pending	 *p;
	const struct batch	**seen;
	json_t			 *calls = json_array(), *batches = json_array();
	json_t			 *o;
	size_t			  nseen = 0, i;

	seen = xcalloc(c->npending + 1, sizeof(*seen));
	TAILQ_FOREACH(p, &c->pending, by_client) {
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
	struct client	 *client;
	struct batch	**batches;
	size_t		  nbatches;
};

/*
 * A call's place in a batch, if it has one: a member's slot (the last
 * one is the batch's own) still empty, and not another call's.
 */
static int
rpc_adopt_slot(struct adopt *a, const json_t *o, const char *where,
    struct call *call, char *err, size_t errlen)
{
	struct pending	*p;
	struct batch	*b;
	json_int_t	 i, slot;

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
	TAILQ_FOREACH(p, &a->client->pending, by_client)
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
	json_t			*cond;
	json_int_t		 timeout_ms, deadline;
	const char		*service;
	bool			 want_up;
};

static int
rpc_adopt_kind(const json_t *o, const char *where, struct adopt_call *ac,
    char *err, size_t errlen)
{
	const char	*kind, *bad;

	if (desc_string(o, where, "kind", &kind, err, errlen) == -1)
		return -1;
	if (strcmp(kind, "wait") == 0) {
		ac->kind = PENDING_WAIT;
		if (desc_object(o, where, "condition", &ac->cond, err, errlen) == -1 ||
		    desc_int(o, where, "timeout_ms", 0, RPC_WAIT_MAX_MS,
		    &ac->timeout_ms, err, errlen) == -1 ||
		    desc_int(o, where, "deadline_ms", 0, INT64_MAX, &ac->deadline,
		    err, errlen) == -1)
			return -1;
		if ((bad = rpc_cond_check(ac->cond)) != NULL) {
			snprintf(err, errlen, "%s.condition: %s", where, bad);
			return -1;
		}
	} else if (strcmp(kind, "settle") == 0) {
		ac->kind = PENDING_SETTLE;
		if (desc_string(o, where, "service", &ac->service, err, errlen) == -1 ||
		    desc_bool(o, where, "want_up", &ac->want_up, err, errlen) == -1)
			return -1;
	} else if (strcmp(kind, "reexec") == 0)
		ac->kind = PENDING_REEXEC;
	else {
		snprintf(err, errlen, "%s.kind: must be wait, settle or reexec", where);
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
	if ((id = json_object_get(o, "id")) != NULL && !rpc_id_valid(id)) {
		snprintf(err, errlen, "%s.id: must be a string, a number or null",
		    where);
		return -1;
	}
	if (rpc_adopt_kind(o, where, &ac, err, errlen) == -1 ||
	    rpc_adopt_slot(a, o, where, &call, err, errlen) == -1)
		return -1;
	call.id = id != NULL ? json_incref(id) : NULL;
	p = pending_new(&call, ac.kind);
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
		pending_wait_arm(p, ac.cond, ac.timeout_ms, left);
		break;
	case PENDING_SETTLE:
		p->ckind = COND_SERVICE;
		p->want_up = ac.want_up;
		pending_watch(p, COND_SERVICE, ac.service, 0, WATCH_SETTLE);
		break;
	case PENDING_REEXEC:
		p->list = &reexec_calls;
		TAILQ_INSERT_TAIL(p->list, p, by_cond);
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
		a->batches[i] = xcalloc(1, sizeof(*a->batches[i]));
		a->batches[i]->slots = json_deep_copy(v);
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

	if (ev_recheck == NULL) {
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
			if (a.batches[i] != NULL && a.batches[i]->outstanding == 0) {
				json_decref(a.batches[i]->slots);
				free(a.batches[i]);
			}
		rpc_client_gone(c);
	}
	free(a.batches);
	return rc;
}

void
rpc_init(struct event_base *b)
{
	base = b;
	ev_recheck = event_new(base, -1, 0, rpc_recheck_cb, NULL);
	if (ev_recheck == NULL)
		fatalx("cannot create the recheck event");
	events_listen(rpc_event_cb, NULL);
}

void
rpc_free(void)
{
	struct client	*c;

	/* Each watch goes with the last call on it. */
	for (c = control_clients(); c != NULL; c = c->next)
		rpc_client_gone(c);
	free(watch_table);
	watch_table = NULL;
	watch_buckets = nwatches = 0;
	events_unlisten(rpc_event_cb, NULL);
	if (ev_recheck != NULL)
		event_free(ev_recheck);
	ev_recheck = NULL;
}
