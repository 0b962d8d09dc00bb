/*
 * status.c: what clients are shown of the tree: each service's and
 * supervisor's status, the recovery view, and the health that sums it up
 * (ok, degraded, recovering, failed).
 */
#include <stdlib.h>

#include "flagsvc.h"
#include "fleetd.h"
#include "health-run.h"
#include "logs.h"
#include "readers.h"
#include "tree-private.h"
#include "util.h"

static bool
status_recovering(const struct node *n)
{
	size_t	i;

	if (n->recovering)
		return true;
	for (i = 0; i < n->nkids; i++)
		if (status_recovering(n->kids[i]))
			return true;
	return n->is_sup && n->op_active && !n->op_initial;
}

/*
 * Failed means a supervisor gave up. A temporary worker that crashed is
 * in state failed too, but it is down by design: that is degraded.
 */
static bool
status_failed(const struct node *n)
{
	size_t	i;

	if (n->is_sup && n->state == SVC_FAILED)
		return true;
	for (i = 0; i < n->nkids; i++)
		if (status_failed(n->kids[i]))
			return true;
	return false;
}

static void
status_failed_list(const struct node *n, json_t *list)
{
	size_t	i;

	if (n->is_sup && n->state == SVC_FAILED)
		json_array_append_new(list, json_string(n->name));
	for (i = 0; i < n->nkids; i++)
		status_failed_list(n->kids[i], list);
}

bool
tree_recovered(void)
{
	return tree.started && !status_recovering(tree.root) &&
	    !status_failed(tree.root) && flagsvc_table_healthy();
}

/*
 * A worker with "autostart": false that nobody wants up is down as
 * configured: that is fine, not degraded.
 */
static bool
status_down_by_config(const struct node *n)
{
	return !n->is_sup && !n->want && n->conf != NULL &&
	    !n->conf->autostart && node_is_down(n);
}

static bool
status_any_down(const struct node *n)
{
	size_t	i;

	if (!n->is_sup)
		return !node_is_up(n) && !status_down_by_config(n);
	for (i = 0; i < n->nkids; i++)
		if (status_any_down(n->kids[i]))
			return true;
	return false;
}

/*
 * The whole tree's health, summed up (status's "health"); each worker's
 * liveness probe is another thing, its own "health" (health_json()).
 */
const char *
tree_health(void)
{
	if (status_failed(tree.root))
		return "failed";
	if (status_recovering(tree.root) || !tree.started)
		return "recovering";
	if (status_any_down(tree.root) || !flagsvc_table_available())
		return "degraded";
	return "ok";
}

/*
 * status and recovery are the most asked-for answers: their objects are
 * built member by member, without json_pack's format parsing and UTF-8
 * checks (names and paths were checked when the config was loaded).
 */
static void
status_set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new_nocheck(o, key, json_string_nocheck(v));
}

static void
status_set_int(json_t *o, const char *key, json_int_t v)
{
	json_object_set_new_nocheck(o, key, json_integer(v));
}

static json_t *
status_exit_json(const struct node *n)
{
	json_t	*e;

	if (!n->has_exit)
		return json_null();
	e = json_object();
	if (n->exit_signal != 0)
		status_set_str(e, "signal", util_signal_name(n->exit_signal));
	else
		status_set_int(e, "code", n->exit_code);
	return e;
}

/* The watchdog's period and the time left before it fires (null: not armed). */
static json_t *
status_watchdog_json(const struct node *n, uint64_t now)
{
	json_t	*w = json_object();

	status_set_int(w, "ms", n->wd_usec != 0 ? (json_int_t)(n->wd_usec / 1000) :
	    n->conf->watchdog_ms);
	json_object_set_new_nocheck(w, "due_ms", n->wd_at != 0 ?
	    json_integer(n->wd_at > now ? (json_int_t)(n->wd_at - now) : 0) :
	    json_null());
	return w;
}

json_t *
tree_service_json(const struct node *n)
{
	uint64_t	 now = util_now_ms();
	json_t		*o = json_object(), *reads;
	enum svc_state	 state = tree_service_state(n);

	status_set_str(o, "name", n->name);
	status_set_str(o, "path", n->path);
	status_set_str(o, "state", tree_state_name(state));
	json_object_set_new_nocheck(o, "pid", n->pid > 0 ?
	    json_integer(n->pid) : json_null());
	json_object_set_new_nocheck(o, "ready", json_boolean(n->ready &&
	    state == n->state));
	status_set_int(o, "uptime_ms", (json_int_t)(n->pid > 0 ? now - n->started_at : 0));
	status_set_int(o, "restarts", n->starts > 0 ? n->starts - 1 : 0);
	json_object_set_new_nocheck(o, "last_exit", status_exit_json(n));
	json_object_set_new_nocheck(o, "reason", n->reason != NULL ?
	    json_string(n->reason) : json_null());
	status_set_int(o, "log_dropped", (json_int_t)logs_dropped_count(n));
	json_object_set_new_nocheck(o, "status_text", n->status_text != NULL ?
	    json_string_nocheck(n->status_text) : json_null());
	if (n->conf != NULL && n->conf->watchdog_ms > 0)
		json_object_set_new_nocheck(o, "watchdog", status_watchdog_json(n,
		    now));
	json_object_set_new_nocheck(o, "health", health_json(n));
	if ((reads = readers_status_json(n)) != NULL)
		json_object_set_new_nocheck(o, "reads", reads);
	/* Shown only when off: whether it is down as configured, say. */
	if (n->conf != NULL && !n->conf->autostart)
		json_object_set_new_nocheck(o, "autostart", json_false());
	return o;
}

json_t *
tree_supervisor_json(const struct node *n)
{
	uint64_t	 now = util_now_ms();
	json_t		*o = json_object(), *kids = json_array();
	size_t		 i;

	for (i = 0; i < n->nkids; i++)
		json_array_append_new(kids, json_string_nocheck(n->kids[i]->name));
	status_set_str(o, "name", n->name);
	status_set_str(o, "path", n->path);
	status_set_str(o, "state", tree_state_name(n->state));
	status_set_str(o, "strategy", config_strategy_name(n->conf->strategy));
	status_set_int(o, "restarts", n->starts > 0 ? n->starts - 1 : 0);
	status_set_int(o, "restarts_in_window", (json_int_t)intensity_count(&n->intensity,
	    n->conf->max_seconds, now));
	status_set_int(o, "max_restarts", n->conf->max_restarts);
	status_set_int(o, "max_seconds", n->conf->max_seconds);
	json_object_set_new_nocheck(o, "children", kids);
	return o;
}

static void
status_collect(const struct node *n, json_t *services, json_t *sups)
{
	size_t	i;

	if (!n->is_sup) {
		json_array_append_new(services, tree_service_json(n));
		return;
	}
	json_array_append_new(sups, tree_supervisor_json(n));
	for (i = 0; i < n->nkids; i++)
		status_collect(n->kids[i], services, sups);
}

/* A fleet member's status and recovery say where it stands in the fleet. */
static json_t *
status_fleet(json_t *o)
{
	if (fleetd_member())
		json_object_set_new(o, "fleet", fleetd_status_json());
	return o;
}

json_t *
tree_status_json(const struct node *only)
{
	json_t	*services = json_array(), *sups = json_array();

	if (only == NULL)
		status_collect(tree.root, services, sups);
	else if (only->is_sup)
		json_array_append_new(sups, tree_supervisor_json(only));
	else
		json_array_append_new(services, tree_service_json(only));
	return status_fleet(json_pack("{s:s,s:i,s:o,s:o,s:o}", "health",
	    tree_health(), "stage", flagsvc_stage(), "services", services,
	    "supervisors", sups, "table", flagsvc_table_health()));
}

static void
status_recovery_collect(const struct node *n, json_t *list, uint64_t now)
{
	const struct node	*p = n->parent;
	size_t			 used, i;
	int			 budget;
	json_t			*o;

	if (p != NULL) {
		used = intensity_count(&p->intensity, p->conf->max_seconds, now);
		budget = p->conf->max_restarts - (int)used;
		o = json_pack("{s:s,s:s,s:o,s:i,s:i,s:i,s:o,s:o}",
		    "name", n->name, "state", tree_state_name(tree_service_state(n)),
		    "reason", n->reason != NULL ? json_string(n->reason) :
		    json_null(),
		    "restarts", (int)(n->starts > 0 ? n->starts - 1 : 0),
		    "restarts_in_window", (int)used,
		    "budget_left", budget < 0 ? 0 : budget,
		    "down_since", n->down_since != 0 ?
		    json_integer((json_int_t)n->down_since) : json_null(),
		    "last_recovery_ms", n->last_recovery_ms >= 0 ?
		    json_integer(n->last_recovery_ms) : json_null());
		if (!n->is_sup)
			json_object_set_new_nocheck(o, "health", health_json(n));
		json_array_append_new(list, o);
	}
	for (i = 0; i < n->nkids; i++)
		status_recovery_collect(n->kids[i], list, now);
}

json_t *
tree_recovery_json(void)
{
	json_t	*failed = json_array(), *list = json_array();

	status_failed_list(tree.root, failed);
	status_recovery_collect(tree.root, list, util_now_ms());
	return status_fleet(json_pack("{s:b,s:o,s:o,s:o}", "recovering",
	    status_recovering(tree.root) || !flagsvc_table_healthy(),
	    "failed", failed, "services", list,
	    "table", flagsvc_table_health()));
}
