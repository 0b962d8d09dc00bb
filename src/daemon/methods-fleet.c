/*
 * methods-fleet.c: the methods of the fleet a warden is a member of (see
 * methods.h, and fleetd.h for the membership itself).
 */
#include "fleetd.h"
#include "methods.h"
#include "rpc-private.h"

void
methods_fleet_status(struct call *call, json_t *params)
{
	json_t	*res;

	(void)params;
	if ((res = fleetd_fleet_json()) == NULL) {
		rpc_error(call, RPC_CONFLICT, "this warden is not a fleet "
		    "member (no \"fleet\" in its configuration)");
		return;
	}
	rpc_result(call, res);
}
