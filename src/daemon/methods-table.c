/*
 * methods-table.c: the methods of the shared table (see methods.h): its
 * health, and the drills that break it as a fault from outside would.
 */
#include <errno.h>
#include <string.h>

#include "control.h"
#include "flagsvc.h"
#include "log.h"
#include "methods.h"
#include "rpc-private.h"

void
methods_table_info(struct call *call, json_t *params)
{
	(void)params;
	rpc_result(call, flagsvc_table_info());
}

/* A drill on the table: what (delete, corrupt) it does, done as fault() does it. */
static void
methods_table_drill(struct call *call, const char *what, const char *key,
    int (*fault)(void))
{
	if (!flagsvc_table_available()) {
		rpc_error(call, RPC_UNAVAILABLE, "no table to %s: the table is "
		    "unavailable (%s)", what, flagsvc_table_error());
		return;
	}
	if (fault() == -1) {
		rpc_error(call, RPC_INTERNAL_ERROR, "cannot %s the table: %s", what,
		    strerror(errno));
		return;
	}
	log_info("table.%s by %s", what, control_author(call->client));
	rpc_result(call, json_pack("{s:b}", key, 1));
}

void
methods_table_delete(struct call *call, json_t *params)
{
	(void)params;
	methods_table_drill(call, "delete", "deleted", flagsvc_table_delete);
}

void
methods_table_corrupt(struct call *call, json_t *params)
{
	(void)params;
	methods_table_drill(call, "corrupt", "corrupted", flagsvc_table_corrupt);
}
