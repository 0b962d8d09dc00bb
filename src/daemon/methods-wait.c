/*
 * methods-wait.c: wait and subscribe (see methods.h): the methods whose
 * answers follow what happens.
 */
#include "control.h"
#include "events.h"
#include "flags.h"
#include "flagsvc.h"
#include "methods.h"
#include "rpc-private.h"
#include "tree.h"

/* Does what the condition names exist? If not, the call is answered so. */
static bool
methods_wait_subject(struct call *call, const struct jsonrpc_cond *c)
{
	if (c->kind == JSONRPC_COND_SERVICE && tree_find(c->name) == NULL) {
		rpc_error(call, RPC_NOT_FOUND, "no service named '%s'", c->name);
		return false;
	}
	if (c->kind == JSONRPC_COND_FLAG && flags_find(flagsvc_flags(), c->name) < 0) {
		rpc_error(call, RPC_NOT_FOUND, "no flag named '%s'", c->name);
		return false;
	}
	return true;
}

void
methods_wait(struct call *call, json_t *params)
{
	struct jsonrpc_error	 e;
	struct jsonrpc_wait	 w;
	struct pending		*p;

	if (jsonrpc_wait_params(params, &w, &e) == -1) {
		rpc_fail(call, &e);
		return;
	}
	if (!methods_wait_subject(call, &w.cond) || !rpc_wait_room(call))
		return;
	/* Registered before the first test: nothing between test and block is missed. */
	p = rpc_wait_take(call, PENDING_WAIT);
	rpc_wait_arm(p, w.condition, &w.cond, w.timeout_ms, w.timeout_ms);
	(void)rpc_wait_test(p);
}

void
methods_wait_subscribe(struct call *call, json_t *params)
{
	struct jsonrpc_error	 e;
	json_t			*topics;

	if (jsonrpc_topics_params(params, &topics, &e) == -1) {
		rpc_fail(call, &e);
		return;
	}
	control_subscribe(call->client, topics);
	rpc_result(call, json_pack("{s:I}", "seq", (json_int_t)events_last_seq()));
}
