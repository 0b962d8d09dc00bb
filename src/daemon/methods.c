/*
 * methods.c: the one table of the control protocol's methods (see
 * methods.h), and the two that need nothing of warden's state.
 */
#include <stdint.h>
#include <string.h>

#include "methods.h"
#include "rpc-private.h"
#include "util.h"
#include "version.h"

#define NO_PARAMS	((const char *const []){ NULL })
#define PARAMS(...)	((const char *const []){ __VA_ARGS__, NULL })

/*
 * name, role, waits, [] for no params, the params it takes (NULL: the
 * handler reads them: the flag and stage writes, whose params are
 * flags.c's to read), handler. The flag and stage writes wait: each is
 * answered once the group of changes of its turn is durable.
 */
static const struct method methods[] = {
	{ "ping", ROLE_READ, false, true, NO_PARAMS, methods_ping },
	{ "version", ROLE_READ, false, true, NO_PARAMS, methods_version },
	{ "status", ROLE_READ, false, false, PARAMS("service"),
	    methods_service_status },
	{ "service.start", ROLE_OPERATE, true, false, PARAMS("service"),
	    methods_service_start },
	{ "service.stop", ROLE_OPERATE, true, false, PARAMS("service"),
	    methods_service_stop },
	{ "service.restart", ROLE_OPERATE, true, false, PARAMS("service"),
	    methods_service_restart },
	{ "service.kill", ROLE_OPERATE, false, false, PARAMS("service", "signal"),
	    methods_service_kill },
	{ "service.logs", ROLE_READ, false, false,
	    PARAMS("service", "lines", "follow"), methods_logs },
	{ "service.signal", ROLE_OPERATE, false, false,
	    PARAMS("service", "signal"), methods_service_signal },
	{ "recovery", ROLE_READ, false, true, NO_PARAMS,
	    methods_service_recovery },
	{ "wait", ROLE_READ, true, false, PARAMS("condition", "timeout_ms"),
	    methods_wait },
	{ "subscribe", ROLE_READ, false, false, PARAMS("topics"),
	    methods_wait_subscribe },
	{ "flag.list", ROLE_READ, false, true, PARAMS("readers"),
	    methods_flags_list },
	{ "flag.get", ROLE_READ, false, false, PARAMS("name"), methods_flags_get },
	{ "flag.set", ROLE_OPERATE, true, false, NULL, methods_flags_set },
	{ "flag.reset", ROLE_OPERATE, true, true, NULL, methods_flags_reset },
	{ "stage.get", ROLE_READ, false, true, PARAMS("limit"),
	    methods_flags_stage_get },
	{ "stage.set", ROLE_OPERATE, true, false, NULL,
	    methods_flags_stage_set },
	{ "stage.rollback", ROLE_OPERATE, true, true, NULL,
	    methods_flags_stage_rollback },
	{ "stage.emergency", ROLE_OPERATE, true, true, NULL,
	    methods_flags_stage_emergency },
	{ "fleet.status", ROLE_READ, true, true, NO_PARAMS,
	    methods_fleet_status },
	{ "fleet.flag.set", ROLE_ADMIN, true, false, NULL,
	    methods_fleet_flag_set },
	{ "fleet.flag.reset", ROLE_ADMIN, true, false, NULL,
	    methods_fleet_flag_reset },
	{ "fleet.stage.set", ROLE_ADMIN, true, false, NULL,
	    methods_fleet_stage_set },
	{ "fleet.stage.rollback", ROLE_ADMIN, true, true, NULL,
	    methods_fleet_stage_rollback },
	{ "fleet.stage.emergency", ROLE_ADMIN, true, true, NULL,
	    methods_fleet_stage_emergency },
	{ "table.info", ROLE_READ, false, true, NO_PARAMS, methods_table_info },
	{ "table.delete", ROLE_ADMIN, false, true, NO_PARAMS,
	    methods_table_delete },
	{ "table.corrupt", ROLE_ADMIN, false, true, NO_PARAMS,
	    methods_table_corrupt },
	{ "config.reload", ROLE_ADMIN, false, false, PARAMS("dry_run"),
	    methods_admin_reload },
	{ "shutdown", ROLE_ADMIN, false, true, NO_PARAMS, methods_admin_shutdown },
	{ "reexec", ROLE_ADMIN, true, false, PARAMS("binary"),
	    methods_admin_reexec },
	{ "metrics", ROLE_READ, false, true, NO_PARAMS, methods_metrics },
};

/* Requests by row, and the rest (metrics: a bounded set of labels). */
static uint64_t	methods_counts[nitems(methods)];
static uint64_t	methods_others;

void
methods_note(const struct method *m)
{
	if (m != NULL && m >= methods && m < methods + nitems(methods))
		methods_counts[m - methods]++;
	else
		methods_others++;
}

const struct method *
methods_row(size_t i, uint64_t *count)
{
	if (i >= nitems(methods))
		return NULL;
	*count = methods_counts[i];
	return &methods[i];
}

uint64_t
methods_other(void)
{
	return methods_others;
}

const struct method *
methods_find(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(methods); i++)
		if (strcmp(methods[i].name, name) == 0)
			return &methods[i];
	return NULL;
}

void
methods_ping(struct call *call, json_t *params)
{
	(void)params;
	rpc_result(call, json_string("pong"));
}

void
methods_version(struct call *call, json_t *params)
{
	(void)params;
	rpc_result(call, json_pack("{s:s,s:i}", "version", WARDEN_VERSION,
	    "protocol", RPC_PROTOCOL_VERSION));
}
