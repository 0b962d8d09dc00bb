/*
 * methods-flags.c: the methods of flags and stages (see methods.h). The
 * writes are the flag service's changes (flagsvc_change), each its own
 * row; what the service says is said here in the protocol's codes.
 */
#include <stdio.h>

#include "barrier.h"
#include "control.h"
#include "flags.h"
#include "flagsvc.h"
#include "methods.h"
#include "readers.h"
#include "rpc-private.h"

static int
methods_flags_code(enum flagsvc_err e)
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

/*
 * A change by the client; answered once it is durable and published, and
 * with "wait_observed", once its readers observed it (barrier.h): that
 * param is read here, the others are the change's.
 */
static void
methods_flags_write(struct call *call, enum flags_op op, json_t *params)
{
	struct jsonrpc_error	 je;
	enum flagsvc_err	 e;
	json_int_t		 wait_ms;
	json_t			*result, *own = NULL;
	char			 err[512];

	if (jsonrpc_wait_observed_param(params, &wait_ms, &je) == -1) {
		rpc_fail(call, &je);
		return;
	}
	if (wait_ms >= 0) {
		own = json_copy(params);
		(void)json_object_del(own, "wait_observed");
	}
	e = flagsvc_change(op, own != NULL ? own : params, call->client->uid,
	    call->client->pid, &result, err, sizeof(err));
	json_decref(own);
	if (e != FLAGSVC_OK) {
		rpc_error(call, methods_flags_code(e), "%s", err);
		return;
	}
	barrier_answer(call, result, wait_ms);
}

void
methods_flags_set(struct call *call, json_t *params)
{
	methods_flags_write(call, FLAGS_OP_SET, params);
}

void
methods_flags_reset(struct call *call, json_t *params)
{
	methods_flags_write(call, FLAGS_OP_RESET, params);
}

void
methods_flags_stage_set(struct call *call, json_t *params)
{
	methods_flags_write(call, FLAGS_OP_STAGE_SET, params);
}

void
methods_flags_stage_rollback(struct call *call, json_t *params)
{
	methods_flags_write(call, FLAGS_OP_STAGE_ROLLBACK, params);
}

void
methods_flags_stage_emergency(struct call *call, json_t *params)
{
	methods_flags_write(call, FLAGS_OP_STAGE_EMERGENCY, params);
}

void
methods_flags_list(struct call *call, json_t *params)
{
	json_t	*res, *v = json_object_get(params, "readers");

	if (v != NULL && !json_is_boolean(v)) {
		rpc_error(call, RPC_INVALID_PARAMS, "'readers' must be true or "
		    "false");
		return;
	}
	res = flags_list_json(flagsvc_flags(), flagsvc_generation());
	readers_add_to_flags(json_object_get(res, "flags"), json_is_true(v));
	rpc_result(call, res);
}

void
methods_flags_get(struct call *call, json_t *params)
{
	struct jsonrpc_error	 e;
	const char		*name;
	ssize_t			 i;
	json_t			*res;

	if (jsonrpc_flag_params(params, &name, &e) == -1) {
		rpc_fail(call, &e);
		return;
	}
	if ((i = flags_find(flagsvc_flags(), name)) < 0) {
		rpc_error(call, RPC_NOT_FOUND, "no flag named '%s'", name);
		return;
	}
	res = flags_flag_json(flagsvc_flags(), (size_t)i);
	readers_add_to_flag(res);
	rpc_result(call, res);
}

void
methods_flags_stage_get(struct call *call, json_t *params)
{
	struct jsonrpc_error	 e;
	json_int_t		 limit;
	json_t			*res, *hist;

	if (jsonrpc_limit_param(params, &limit, &e) == -1) {
		rpc_fail(call, &e);
		return;
	}
	res = flags_stage_json(flagsvc_flags());
	/* The last limit changes: the history is oldest first. */
	hist = json_object_get(res, "history");
	while (limit >= 0 && json_array_size(hist) > (size_t)limit)
		(void)json_array_remove(hist, 0);
	rpc_result(call, res);
}
