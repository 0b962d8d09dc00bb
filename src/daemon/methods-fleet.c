/*
 * methods-fleet.c: the methods of the fleet a warden is a member of (see
 * methods.h, and fleetd.h for the membership itself).
 */
#include "fleetd.h"
#include "methods.h"
#include "rpc-private.h"

static void
methods_fleet_done(void *arg, enum flagsvc_err e, json_t *result,
    const char *err)
{
	struct pending	*p = arg;

	p->fleet = NULL;
	if (e != FLAGSVC_OK)
		rpc_error(&p->call, methods_flags_code(e), "%s", err);
	else
		rpc_result(&p->call, result);
	rpc_wait_free(p);
}

/*
 * A change of the fleet, by the client: answered once etcd has taken it
 * (or why not), with {key, revision}, or with "wait_observed" once every
 * live host has applied it too. It counts toward max_pending: etcd may
 * take up to the fleet's timeout_ms twice, and the wait its bound.
 */
static void
methods_fleet_write(struct call *call, enum flags_op op, json_t *params)
{
	struct jsonrpc_error	 je;
	struct fleetd_write	*w;
	struct pending		*p;
	enum flagsvc_err	 e;
	json_int_t		 wait_ms;
	json_t			*own;
	char			 err[512];

	if (jsonrpc_wait_observed_param(params, &wait_ms, &je) == -1) {
		rpc_fail(call, &je);
		return;
	}
	if (!rpc_wait_room(call))
		return;
	own = jsonrpc_change_params(params);
	p = rpc_wait_take(call, PENDING_FLEET);
	e = fleetd_write(op, own, p->call.client->uid, p->call.client->pid,
	    wait_ms, methods_fleet_done, p, &w, err, sizeof(err));
	json_decref(own);
	if (e != FLAGSVC_OK) {
		rpc_error(&p->call, methods_flags_code(e), "%s", err);
		rpc_wait_free(p);
		return;
	}
	p->fleet = w;
}

void
methods_fleet_flag_set(struct call *call, json_t *params)
{
	methods_fleet_write(call, FLAGS_OP_SET, params);
}

void
methods_fleet_flag_reset(struct call *call, json_t *params)
{
	methods_fleet_write(call, FLAGS_OP_RESET, params);
}

void
methods_fleet_stage_set(struct call *call, json_t *params)
{
	methods_fleet_write(call, FLAGS_OP_STAGE_SET, params);
}

void
methods_fleet_stage_rollback(struct call *call, json_t *params)
{
	methods_fleet_write(call, FLAGS_OP_STAGE_ROLLBACK, params);
}

void
methods_fleet_stage_emergency(struct call *call, json_t *params)
{
	methods_fleet_write(call, FLAGS_OP_STAGE_EMERGENCY, params);
}

static void
methods_fleet_status_done(void *arg, json_t *result)
{
	struct pending	*p = arg;

	p->fleet_read = NULL;
	rpc_result(&p->call, result);
	rpc_wait_free(p);
}

/*
 * The fleet's hosts: their reports are read from etcd when asked, so the
 * answer comes when etcd's does (within the fleet's timeout_ms), and
 * counts toward max_pending meanwhile.
 */
void
methods_fleet_status(struct call *call, json_t *params)
{
	struct fleetd_read	*r;
	struct pending		*p;
	char			 err[512];

	(void)params;
	if (!fleetd_member()) {
		rpc_error(call, RPC_CONFLICT, "this warden is not a fleet "
		    "member (no \"fleet\" in its configuration)");
		return;
	}
	if (!rpc_wait_room(call))
		return;
	p = rpc_wait_take(call, PENDING_FLEET);
	if (fleetd_fleet_read(methods_fleet_status_done, p, &r, err,
	    sizeof(err)) != FLAGSVC_OK) {
		rpc_error(&p->call, RPC_CONFLICT, "%s", err);
		rpc_wait_free(p);
		return;
	}
	p->fleet_read = r;
}
