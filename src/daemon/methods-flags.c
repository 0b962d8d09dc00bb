/*
 * methods-flags.c: the methods of flags and stages (see methods.h). The
 * writes are the flag service's changes (flagsvc_change), each its own
 * row, answered when their group has been made durable; what the service
 * says is said here in the protocol's codes.
 */
#include <stdio.h>

#include "barrier.h"
#include "control.h"
#include "flags.h"
#include "flagsvc.h"
#include "fleetd.h"
#include "methods.h"
#include "readers.h"
#include "rpc-private.h"

int
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
 * The one place a change's answer is made: once the change is durable,
 * applied and published (flagsvc_change() calls back at the end of the
 * turn), or refused; with "wait_observed", once its readers observed it
 * too (barrier.h), whose call, if it waits, is taken from this one.
 */
static void
methods_flags_done(void *arg, enum flagsvc_err e, json_t *result,
    const char *err)
{
	struct pending	*p = arg;

	p->commit = NULL;
	if (e != FLAGSVC_OK)
		rpc_error(&p->call, methods_flags_code(e), "%s", err);
	else
		barrier_answer(&p->call, result, p->observe_ms);
	rpc_wait_free(p);
}

/*
 * A change by the client: the call is taken, as a wait's is, and answered
 * with the rest of its group. Not bounded by max_pending: a group commits
 * within the turn (or at once when full), so these never pile up.
 * "wait_observed" is read here; the other params are the change's.
 */
static void
methods_flags_write(struct call *call, enum flags_op op, json_t *params)
{
	struct jsonrpc_error	 je;
	struct pending		*p;
	json_int_t		 wait_ms;
	json_t			*own;

	if (fleetd_member()) {
		rpc_error(call, RPC_CONFLICT, "this warden is a fleet member: "
		    "its flags and stage are the fleet's, changed in etcd "
		    "under %s (use wardenctl fleet ...)", fleetd_prefix());
		return;
	}
	if (jsonrpc_wait_observed_param(params, &wait_ms, &je) == -1) {
		rpc_fail(call, &je);
		return;
	}
	own = jsonrpc_change_params(params);
	p = rpc_wait_take(call, PENDING_COMMIT);
	p->observe_ms = wait_ms;
	p->commit = flagsvc_change(op, own,
	    p->call.client->uid, p->call.client->pid, methods_flags_done, p);
	json_decref(own);
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
