/*
 * methods-service.c: the methods of services (see methods.h): status and
 * recovery, and the operator's start, stop, restart and kill.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "events.h"
#include "log.h"
#include "methods.h"
#include "rpc-private.h"
#include "tree.h"
#include "util.h"

/* The node of params' "service"; NULL when the call was answered with why not. */
static struct node *
methods_service_node(struct call *call, json_t *params)
{
	struct jsonrpc_error	 e;
	struct node		*n;
	const char		*name;

	if (jsonrpc_string_param(params, "service", &name, &e) == -1) {
		rpc_fail(call, &e);
		return NULL;
	}
	if ((n = tree_find(name)) == NULL)
		rpc_error(call, RPC_NOT_FOUND, "no service named '%s'", name);
	return n;
}

void
methods_service_status(struct call *call, json_t *params)
{
	struct node	*n = NULL;

	if (json_object_get(params, "service") != NULL &&
	    (n = methods_service_node(call, params)) == NULL)
		return;
	rpc_result(call, tree_status_json(n));
}

void
methods_service_recovery(struct call *call, json_t *params)
{
	(void)params;
	rpc_result(call, tree_recovery_json());
}

/* Start, stop or restart: answered once the service has got there. */
static void
methods_service_op(struct call *call, json_t *params,
    int (*op)(struct node *, const char **), bool want_up)
{
	struct pending	*p;
	struct node	*n;
	const char	*why = NULL;

	if ((n = methods_service_node(call, params)) == NULL)
		return;
	/* Its answer waits for the service: refused before anything is done. */
	if (!rpc_wait_room(call))
		return;
	if (op(n, &why) == -1) {
		rpc_error(call, RPC_CONFLICT, "%s: %s", n->name, why);
		return;
	}
	log_info("%s: %s by uid %ld pid %ld", n->name, want_up ? "start" : "stop",
	    (long)call->client->uid, (long)call->client->pid);
	/* Answer once it has got there (or given up on the way). */
	p = rpc_wait_take(call, PENDING_SETTLE);
	rpc_wait_settle(p, n->name, want_up);
	(void)rpc_wait_test(p);
}

void
methods_service_start(struct call *call, json_t *params)
{
	methods_service_op(call, params, tree_op_start, true);
}

void
methods_service_stop(struct call *call, json_t *params)
{
	methods_service_op(call, params, tree_op_stop, false);
}

void
methods_service_restart(struct call *call, json_t *params)
{
	methods_service_op(call, params, tree_op_restart, true);
}

static int
methods_service_collect(struct node *n, void *arg)
{
	json_t	*targets = arg;

	json_array_append_new(targets, json_string(n->name));
	return 0;
}

/* Every name is a service: all or nothing. */
static bool
methods_service_known(struct call *call, json_t *names)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(names, i, v)
		if (tree_find(json_string_value(v)) == NULL) {
			rpc_error(call, RPC_NOT_FOUND, "no service named '%s'",
			    json_string_value(v));
			return false;
		}
	return true;
}

void
methods_service_kill(struct call *call, json_t *params)
{
	struct jsonrpc_error	 e;
	struct jsonrpc_kill	 k;
	json_t			*names, *killed, *v;
	struct node		*n;
	size_t			 i;

	if (jsonrpc_kill_params(params, &k, &e) == -1) {
		rpc_fail(call, &e);
		return;
	}
	/* Resolve every name first. */
	if ((names = k.names) == NULL) {
		names = json_array();
		tree_each_worker(tree_root(), methods_service_collect, names);
	}
	if (!methods_service_known(call, names)) {
		json_decref(names);
		return;
	}
	/* Then signal them all in one go: one moment, not a sequence of calls. */
	killed = json_array();
	json_array_foreach(names, i, v) {
		n = tree_find(json_string_value(v));
		if (n->is_sup)
			tree_each_worker(n, methods_service_collect, names);
		else if (tree_kill(n, k.sig, killed) == -1)
			log_warn("%s: kill", n->name);
	}
	json_decref(names);
	log_info("SIG%s sent to %zu service(s) by uid %ld pid %ld",
	    util_signal_name(k.sig), json_array_size(killed),
	    (long)call->client->uid, (long)call->client->pid);
	rpc_result(call, json_pack("{s:o,s:s,s:o}", "killed", killed,
	    "signal", util_signal_name(k.sig), "ts", events_ts_now()));
}
