/*
 * rpc.c: the dispatcher of JSON-RPC 2.0 on the control socket (see rpc.h).
 *
 * control.c hands each line here (rpc_init() makes this its dispatcher).
 * The JSON-RPC core (jsonrpc.c) frames it and checks each request's
 * envelope and params; the request's row in the method table (methods.c)
 * says who may call it and what handles it. A call is answered at once,
 * or later: waits and service operations are taken over by rpc-wait.c. A
 * batch is answered as one array, in order, when its last member is. A
 * reexec call is answered by whichever image comes out of it, so calls
 * awaiting their answer can be described and made again (rpc-handover.c).
 */
#include <stdarg.h>
#include <stdlib.h>

#include <event2/event.h>

#include "config.h"
#include "control.h"
#include "events.h"
#include "jsonrpc.h"
#include "log.h"
#include "methods.h"
#include "rpc.h"
#include "rpc-private.h"
#include "tree.h"
#include "util.h"

struct event_base	*rpc_base;

struct rpc_session *
rpc_session(struct client *c)
{
	struct rpc_session	*s = c->session;

	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		TAILQ_INIT(&s->pending);
		c->session = s;
	}
	return s;
}

void
rpc_session_free(struct client *c)
{
	rpc_wait_drop_all(c);
	free(c->session);
	c->session = NULL;
}

/* --- answers ------------------------------------------------------------------ */

/* A batch's answer, once its last member has one. */
static void
rpc_batch_put(struct client *c, struct jsonrpc_batch *b, size_t slot,
    json_t *response)
{
	json_t	*out;

	if (!jsonrpc_batch_put(b, slot, response, &out))
		return;
	if (out != NULL)
		control_send(c, out);
	json_decref(out);
}

static void
rpc_deliver(struct call *call, json_t *response)
{
	if (call->batch == NULL) {
		if (call->id != NULL)
			control_send(call->client, response);
		json_decref(response);
	} else {
		/* A notification's answer is made, and dropped. */
		rpc_batch_put(call->client, call->batch, call->slot,
		    call->id != NULL ? response : NULL);
		if (call->id == NULL)
			json_decref(response);
	}
	json_decref(call->id);
	call->id = NULL;
	call->batch = NULL;
	call->done = true;
}

void
rpc_result(struct call *call, json_t *result)
{
	rpc_deliver(call, jsonrpc_result_response(call->id, result));
}

void
rpc_error_data(struct call *call, int code, json_t *data, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	rpc_deliver(call, jsonrpc_error_vresponse(call->id, code, data, fmt, ap));
	va_end(ap);
}

void
rpc_fail(struct call *call, struct jsonrpc_error *e)
{
	rpc_deliver(call, jsonrpc_error_answer(call->id, e));
}

/* --- dispatch ----------------------------------------------------------------- */

/* Does the client have the role the method needs? If not, it is told. */
static bool
rpc_allowed(struct call *call, const struct method *m)
{
	struct client	*c = call->client;

	if (c->role >= m->role)
		return true;
	log_warnx("%s refused to uid %ld pid %ld: needs role %s", m->name,
	    (long)c->uid, (long)c->pid, control_role_name(m->role));
	rpc_error(call, RPC_FORBIDDEN, "%s needs the %s role", m->name,
	    control_role_name(m->role));
	return false;
}

static void
rpc_call(struct call *call, const struct method *m, json_t *params)
{
	m->fn(call, params);
	if (call->taken && !m->waits)
		fatalx("%s kept its call, and its row says it answers at once",
		    m->name);
	if (call->done)
		return;
	/* Every handler answers or takes its call: a client must not hang. */
	log_warnx("%s: no answer", m->name);
	rpc_error(call, RPC_INTERNAL_ERROR, "%s gave no answer", m->name);
}

static void
rpc_dispatch(struct call *call, json_t *v)
{
	const struct method	*m;
	struct jsonrpc_request	 req;
	struct jsonrpc_error	 e;
	json_t			*params;

	if (jsonrpc_request(v, &req, &e) == -1) {
		methods_note(NULL);
		call->id = json_incref(req.id);
		rpc_fail(call, &e);
		return;
	}
	call->id = json_incref(req.id);
	m = methods_find(req.method);
	methods_note(m);
	if (m == NULL) {
		rpc_error(call, RPC_METHOD_NOT_FOUND, "no method '%s'", req.method);
		return;
	}
	if (!rpc_allowed(call, m))
		return;
	if (jsonrpc_params(req.params, m->params_array_ok, &params, &e) == -1) {
		rpc_fail(call, &e);
		return;
	}
	if (m->params != NULL && jsonrpc_keys(params, m->params, &e) == -1)
		rpc_fail(call, &e);
	else
		rpc_call(call, m, params);
	json_decref(params);
}

/* One line from a client: a request or a batch. */
static void
rpc_line(struct client *c, const char *line, size_t len)
{
	const struct limits_conf *lim = &tree_config()->limits;
	struct jsonrpc_limits	 limits = { lim->max_json_depth, lim->max_batch };
	struct jsonrpc_line	 l;
	struct jsonrpc_batch	*b;
	struct call		 call;
	size_t			 i;

	jsonrpc_line(line, len, &limits, &l);
	if (l.answer != NULL)
		control_send(c, l.answer);
	else if (!l.batch) {
		call = (struct call){ .client = c };
		rpc_dispatch(&call, l.requests);
		json_decref(call.id);
	} else {
		/* One more than the members: it cannot end while being read. */
		b = jsonrpc_batch_new(l.n);
		for (i = 0; i < l.n; i++) {
			call = (struct call){ .client = c, .batch = b, .slot = i };
			rpc_dispatch(&call, jsonrpc_line_request(&l, i));
			json_decref(call.id);
		}
		/* The batch's own count: answers it if nothing was deferred. */
		rpc_batch_put(c, b, l.n, NULL);
	}
	jsonrpc_line_free(&l);
}

static const struct control_dispatcher rpc_dispatcher = {
	rpc_line, rpc_session_free, rpc_handover_client, rpc_adopt_client,
};

/* --- life --------------------------------------------------------------------- */

static void
rpc_event_cb(json_t *ev, void *arg)
{
	(void)arg;
	control_publish(ev);
	/*
	 * Not now: an event is emitted in the middle of a change (the exit is
	 * told before the restart decision is made), so waits are tested once
	 * the loop is back, with the change complete.
	 */
	rpc_recheck_soon();
}

void
rpc_init(struct event_base *b)
{
	rpc_base = b;
	rpc_wait_init(b);
	events_listen(rpc_event_cb, NULL);
	control_set_dispatcher(&rpc_dispatcher);
}

void
rpc_free(void)
{
	struct client	*c;

	for (c = control_clients(); c != NULL; c = c->next)
		rpc_session_free(c);
	control_set_dispatcher(NULL);
	rpc_wait_fini();
	events_unlisten(rpc_event_cb, NULL);
	rpc_base = NULL;
}
