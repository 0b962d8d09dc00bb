/*
 * rpc.c: JSON-RPC 2.0 on the control socket (see rpc.h).
 *
 * A call is answered at once, or later: `wait` and the service operations
 * register a pending call whose condition is tested right away and again
 * after every change (events and supervision steps), so a change between
 * the test and the block can never be missed. A batch is answered as one
 * array, in order, when its last member is.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "control.h"
#include "events.h"
#include "flags.h"
#include "flagsvc.h"
#include "log.h"
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

enum pending_kind { PENDING_WAIT, PENDING_SETTLE };

struct pending {
	struct call	 call;
	enum pending_kind kind;
	json_t		*cond;		/* wait: the condition */
	struct node	*node;		/* settle: the service */
	bool		 want_up;
	json_int_t	 timeout_ms;
	struct event	*timer;
	struct pending	*next;
};

static struct event_base	*base;
static struct pending		*pendings;
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

bool
rpc_client_busy(const struct client *c)
{
	const struct pending	*p;

	for (p = pendings; p != NULL; p = p->next)
		if (p->call.client == c)
			return true;
	return false;
}

static void
pending_free(struct pending *p)
{
	struct client	*c = p->call.client;
	struct pending	**pp;

	for (pp = &pendings; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	if (p->timer != NULL)
		event_free(p->timer);
	json_decref(p->cond);
	json_decref(p->call.id);
	free(p);
	/* A client that said all it had to say leaves with its last answer. */
	if (c->eof && !rpc_client_busy(c))
		control_close(c);
}

static json_t	*rpc_cond_test(json_t *cond, int *err);

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

static struct pending *
pending_new(struct call *call, enum pending_kind kind)
{
	struct pending	*p = xcalloc(1, sizeof(*p));

	p->call = *call;
	p->kind = kind;
	/* The call is the pending's now. */
	call->id = NULL;
	call->batch = NULL;
	p->next = pendings;
	pendings = p;
	return p;
}

/* Is a service operation done: the node has arrived where it was sent, or given up? */
static bool
settle_done(const struct pending *p)
{
	const struct node	*n = p->node;

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

/* Test one pending; answer and free it when done. true: it was answered. */
static bool
pending_test(struct pending *p)
{
	json_t	*state;
	int	 err = 0;

	if (p->kind == PENDING_SETTLE) {
		if (!settle_done(p))
			return false;
		rpc_result(&p->call, node_json(p->node));
		pending_free(p);
		return true;
	}
	state = rpc_cond_test(p->cond, &err);
	if (err != 0) {
		rpc_error(&p->call, err, "the service of this wait is gone");
		pending_free(p);
		return true;
	}
	if (state == NULL)
		return false;
	rpc_result(&p->call, state);
	pending_free(p);
	return true;
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
	struct pending	*p, *next;

	if (rechecking)
		return;
	rechecking = true;
	for (p = pendings; p != NULL; p = next) {
		next = p->next;
		(void)pending_test(p);
	}
	rechecking = false;
}

void
rpc_client_gone(struct client *c)
{
	struct pending	*p, *next;

	c->eof = false;		/* it is going now: nothing to close later */

	for (p = pendings; p != NULL; p = next) {
		next = p->next;
		if (p->call.client != c)
			continue;
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

/* NULL: not met yet. Otherwise the state that meets it. *err: a condition gone bad. */
static json_t *
rpc_cond_test(json_t *cond, int *err)
{
	struct node	*n;
	json_t		*v;
	unsigned	 min = 0;

	if (json_object_get(cond, "recovered") != NULL)
		return tree_recovered() ? tree_recovery_json() : NULL;
	if (json_object_get(cond, "flag") != NULL) {
		const struct flags	*f = flagsvc_flags();
		ssize_t			 i;

		i = flags_find(f, json_string_value(json_object_get(cond, "flag")));
		if (i < 0) {
			*err = RPC_NOT_FOUND;
			return NULL;
		}
		return flags_value_equal(f, (size_t)i, json_object_get(cond, "value")) ?
		    flags_flag_json(f, (size_t)i) : NULL;
	}
	if (json_object_get(cond, "stage") != NULL)
		return flagsvc_stage() == json_integer_value(json_object_get(cond, "stage")) ?
		    json_pack("{s:i}", "stage", flagsvc_stage()) : NULL;
	n = tree_find(json_string_value(json_object_get(cond, "service")));
	if (n == NULL) {
		*err = RPC_NOT_FOUND;
		return NULL;
	}
	if ((v = json_object_get(cond, "min_restarts")) != NULL)
		min = (unsigned)json_integer_value(v);
	if ((int)n->state != tree_state_parse(json_string_value(json_object_get(cond, "state"))))
		return NULL;
	if ((n->starts > 0 ? n->starts - 1 : 0) < min)
		return NULL;
	return node_json(n);
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
	if (op(n, &why) == -1) {
		rpc_error(call, RPC_CONFLICT, "%s: %s", n->name, why);
		return;
	}
	log_info("%s: %s by uid %ld pid %ld", n->name, want_up ? "start" : "stop",
	    (long)call->client->uid, (long)call->client->pid);
	/* Answer once it has got there (or given up on the way). */
	p = pending_new(call, PENDING_SETTLE);
	p->node = n;
	p->want_up = want_up;
	(void)pending_test(p);
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
	struct timeval	 tv;
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
	/* Registered before the first test: nothing between test and block is missed. */
	p = pending_new(call, PENDING_WAIT);
	p->cond = json_deep_copy(cond);
	p->timeout_ms = ms;
	p->timer = evtimer_new(base, pending_timeout_cb, p);
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	if (p->timer == NULL || evtimer_add(p->timer, &tv) == -1)
		fatalx("cannot arm a wait timer");
	(void)pending_test(p);
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

/* flag.set, flag.reset, stage.set, stage.rollback, stage.emergency */
static void
m_flag_write(struct call *call, const char *method, json_t *params)
{
	json_t	*result;
	char	 err[512];
	int	 code;

	code = flagsvc_write(method, params, call->client->uid, call->client->pid,
	    &result, err, sizeof(err));
	if (code != 0) {
		rpc_error(call, code, "%s", err);
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
	while (pendings != NULL)
		pending_free(pendings);
	events_unlisten(rpc_event_cb, NULL);
	if (ev_recheck != NULL)
		event_free(ev_recheck);
	ev_recheck = NULL;
}
