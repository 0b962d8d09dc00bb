/*
 * methods.h: the one table of the control protocol's methods (methods.c),
 * a row per method, and the handlers of its rows, one file per family.
 *
 * The dispatcher (rpc.c) finds a request's row by name, refuses a client
 * without the row's role, makes the params an object (jsonrpc_params(),
 * [] taken for none when params_array_ok) and checks their keys against
 * the row's list, then calls the handler. A handler answers the call
 * (rpc_result, rpc_error), or, in a row that waits, may take it over
 * (rpc_wait_take) to answer it later.
 */
#ifndef WARDEN_METHODS_H
#define WARDEN_METHODS_H

#include <stdbool.h>
#include <jansson.h>

#include "control.h"
#include "flagsvc.h"

struct call;

struct method {
	const char		*name;
	enum role		 role;		/* the least a client needs */
	bool			 waits;		/* its answer may come later */
	bool			 params_array_ok;
	const char *const	*params;	/* the keys it takes; NULL: read by fn */
	void			(*fn)(struct call *, json_t *params);
};

/* The row of a method, or NULL. */
const struct method *methods_find(const char *name);
/*
 * Requests counted by method for the metrics: a row of the table, or NULL
 * for any other (an unknown method, an invalid request), counted under
 * one label, never under the client's text.
 */
void	methods_note(const struct method *);
/* Row i (NULL past the last) and its count; NULL's count is "other". */
const struct method *methods_row(size_t i, uint64_t *count);
uint64_t methods_other(void);

/* methods-metrics.c */
void	methods_metrics(struct call *, json_t *);

/* methods.c */
void	methods_ping(struct call *, json_t *);
void	methods_version(struct call *, json_t *);

/* methods-service.c */
void	methods_service_status(struct call *, json_t *);
void	methods_service_start(struct call *, json_t *);
void	methods_service_stop(struct call *, json_t *);
void	methods_service_restart(struct call *, json_t *);
void	methods_service_kill(struct call *, json_t *);
void	methods_service_signal(struct call *, json_t *);
void	methods_service_recovery(struct call *, json_t *);
/* What the methods naming services share: names checked, then resolved. */
bool	methods_service_known(struct call *, json_t *names);
json_t	*methods_service_workers(json_t *names, json_t *named);

/* methods-logs.c */
void	methods_logs(struct call *, json_t *);

/* methods-wait.c */
void	methods_wait(struct call *, json_t *);
void	methods_wait_subscribe(struct call *, json_t *);

/* methods-flags.c */
/* A change's outcome (flagsvc.h), here or in the fleet, as a protocol code. */
int	methods_flags_code(enum flagsvc_err);
void	methods_flags_list(struct call *, json_t *);
void	methods_flags_get(struct call *, json_t *);
void	methods_flags_set(struct call *, json_t *);
void	methods_flags_reset(struct call *, json_t *);
void	methods_flags_stage_get(struct call *, json_t *);
void	methods_flags_stage_set(struct call *, json_t *);
void	methods_flags_stage_rollback(struct call *, json_t *);
void	methods_flags_stage_emergency(struct call *, json_t *);

/* methods-table.c */
void	methods_table_info(struct call *, json_t *);
void	methods_table_delete(struct call *, json_t *);
void	methods_table_corrupt(struct call *, json_t *);

/* methods-fleet.c */
void	methods_fleet_status(struct call *, json_t *);
void	methods_fleet_flag_set(struct call *, json_t *);
void	methods_fleet_flag_reset(struct call *, json_t *);
void	methods_fleet_stage_set(struct call *, json_t *);
void	methods_fleet_stage_rollback(struct call *, json_t *);
void	methods_fleet_stage_emergency(struct call *, json_t *);

/* methods-admin.c */
void	methods_admin_reload(struct call *, json_t *);
void	methods_admin_shutdown(struct call *, json_t *);
void	methods_admin_reexec(struct call *, json_t *);

#endif
