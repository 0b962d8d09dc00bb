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


/* Status of several: the named services and supervisors, in that order. */
static void
methods_service_status_many(struct call *call, json_t *params)
{
	struct jsonrpc_error	 e;
	struct node		*n;
	json_t			*names, *res, *v;
	size_t			 i;

	if (jsonrpc_services_param(params, &names, &e) == -1) {
		rpc_fail(call, &e);
		return;
	}
	if (names != NULL && !methods_service_known(call, names)) {
		json_decref(names);
		return;
	}
	res = tree_status_json(names == NULL ? NULL : tree_root());
	if (names != NULL) {
		json_array_clear(json_object_get(res, "services"));
		json_array_clear(json_object_get(res, "supervisors"));
		json_array_foreach(names, i, v) {
			n = tree_find(json_string_value(v));
			json_array_append_new(json_object_get(res, n->is_sup ?
			    "supervisors" : "services"), n->is_sup ?
			    tree_supervisor_json(n) : tree_service_json(n));
		}
	}
	json_decref(names);
	rpc_result(call, res);
}

void
methods_service_status(struct call *call, json_t *params)
{
	struct node	*n = NULL;
	json_t		*svc = json_object_get(params, "service");

	/* A list, or "*": as many as named, each once as it was asked. */
	if (svc != NULL && (!json_is_string(svc) ||
	    strcmp(json_string_value(svc), "*") == 0)) {
		methods_service_status_many(call, params);
		return;
	}
	if (svc != NULL && (n = methods_service_node(call, params)) == NULL)
		return;
	rpc_result(call, tree_status_json(n));
}

void
methods_service_recovery(struct call *call, json_t *params)
{
	(void)params;
	rpc_result(call, tree_recovery_json());
}

/*
 * The nodes names (NULL: "*", every service) stand for, in the tree's
 * order: a supervisor stands for its subtree, so what lies in a named
 * one is not named again; "*" is the root's children.
 */
static void
methods_service_pick(struct node *n, json_t *names, json_t *out)
{
	json_t	*v;
	size_t	 i;

	json_array_foreach(names, i, v)
		if (strcmp(json_string_value(v), n->name) == 0) {
			json_array_append_new(out, json_string(n->name));
			return;
		}
	for (i = 0; i < n->nkids; i++)
		methods_service_pick(n->kids[i], names, out);
}

static json_t *
methods_service_targets(json_t *names)
{
	struct node	*root = tree_root();
	json_t		*out = json_array();
	size_t		 i;

	if (names != NULL)
		methods_service_pick(root, names, out);
	else
		for (i = 0; i < root->nkids; i++)
			json_array_append_new(out, json_string(root->kids[i]->name));
	return out;
}

/* May each be started (up) or stopped? All or nothing, as with names. */
static bool
methods_service_allowed(struct call *call, json_t *targets, bool want_up)
{
	const char	*why = NULL;
	json_t		*v;
	size_t		 i;

	json_array_foreach(targets, i, v)
		if (tree_op_check(tree_find(json_string_value(v)), want_up,
		    &why) == -1) {
			rpc_error(call, RPC_CONFLICT, "%s: %s",
			    json_string_value(v), why);
			return false;
		}
	return true;
}

/*
 * Start, stop or restart several ("service": a list or "*"): every name
 * resolved and every one allowed before anything is done; then each is
 * asked at once, in the tree's order (a stop in the reverse order), and
 * the answer waits until every one has got there.
 */
static void
methods_service_many(struct call *call, json_t *params,
    int (*op)(struct node *, const char **), bool want_up, const char *verb)
{
	struct jsonrpc_error	 e;
	struct pending		*p;
	struct node		*n;
	json_t			*names, *targets;
	const char		*why = NULL;
	size_t			 i, count;

	if (jsonrpc_services_param(params, &names, &e) == -1) {
		rpc_fail(call, &e);
		return;
	}
	if (names != NULL && !methods_service_known(call, names)) {
		json_decref(names);
		return;
	}
	targets = methods_service_targets(names);
	json_decref(names);
	if (!methods_service_allowed(call, targets, want_up) ||
	    !rpc_wait_room(call)) {
		json_decref(targets);
		return;
	}
	count = json_array_size(targets);
	for (i = 0; i < count; i++) {
		n = tree_find(json_string_value(json_array_get(targets,
		    want_up ? i : count - 1 - i)));
		if (op(n, &why) == -1)
			log_warnx("%s: %s: %s", n->name, verb, why);
		else
			log_info("%s: %s by %s", n->name, verb,
			    control_author(call->client));
	}
	p = rpc_wait_take(call, PENDING_SETTLE);
	rpc_wait_settle_many(p, targets, want_up);
	(void)rpc_wait_test(p);
}

/* Start, stop or restart: answered once the service has got there. */
static void
methods_service_op(struct call *call, json_t *params,
    int (*op)(struct node *, const char **), bool want_up, const char *verb)
{
	struct pending	*p;
	struct node	*n;
	const char	*why = NULL;
	json_t		*svc = json_object_get(params, "service");

	/* One by name is answered as it always was; more, with a list. */
	if (svc != NULL && (!json_is_string(svc) ||
	    strcmp(json_string_value(svc), "*") == 0)) {
		methods_service_many(call, params, op, want_up, verb);
		return;
	}
	if ((n = methods_service_node(call, params)) == NULL)
		return;
	/* Its answer waits for the service: refused before anything is done. */
	if (!rpc_wait_room(call))
		return;
	if (op(n, &why) == -1) {
		rpc_error(call, RPC_CONFLICT, "%s: %s", n->name, why);
		return;
	}
	log_info("%s: %s by %s", n->name, verb, control_author(call->client));
	/* Answer once it has got there (or given up on the way). */
	p = rpc_wait_take(call, PENDING_SETTLE);
	rpc_wait_settle(p, n->name, want_up);
	(void)rpc_wait_test(p);
}

void
methods_service_start(struct call *call, json_t *params)
{
	methods_service_op(call, params, tree_op_start, true, "start");
}

void
methods_service_stop(struct call *call, json_t *params)
{
	methods_service_op(call, params, tree_op_stop, false, "stop");
}

void
methods_service_restart(struct call *call, json_t *params)
{
	methods_service_op(call, params, tree_op_restart, true, "restart");
}

static int
methods_service_collect(struct node *n, void *arg)
{
	json_t	*targets = arg;

	json_array_append_new(targets, json_string(n->name));
	return 0;
}

/* Every name is a service: all or nothing. */
bool
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
	log_info("kill: SIG%s sent to %zu service(s) by %s",
	    util_signal_name(k.sig), json_array_size(killed),
	    control_author(call->client));
	rpc_result(call, json_pack("{s:o,s:s,s:o}", "killed", killed,
	    "signal", util_signal_name(k.sig), "ts", events_ts_now()));
}

/*
 * The workers names stand for (NULL: every one): each named one, every one
 * of a supervisor; named (or NULL) gets the workers named themselves.
 */
json_t *
methods_service_workers(json_t *names, json_t *named)
{
	json_t		*workers = json_array(), *v;
	struct node	*n;
	size_t		 i;

	if (names == NULL) {
		tree_each_worker(tree_root(), methods_service_collect, workers);
		return workers;
	}
	json_array_foreach(names, i, v) {
		n = tree_find(json_string_value(v));
		if (!n->is_sup && named != NULL)
			json_object_set_new(named, n->name, json_true());
		tree_each_worker(n, methods_service_collect, workers);
	}
	return workers;
}

/*
 * The operator's signal (a reload by HUP): every name resolved first. A
 * worker named that is not running is refused, and nothing is sent; one
 * of "*" or of a supervisor is passed over, unless none of them runs.
 */
static json_t *
methods_service_runnable(struct call *call, json_t *workers, json_t *named)
{
	json_t		*run = json_array(), *v;
	const char	*name;
	struct node	*n;
	size_t		 i;

	json_array_foreach(workers, i, v) {
		name = json_string_value(v);
		n = tree_find(name);
		if (n->pid > 0 && (n->state == SVC_STARTING ||
		    n->state == SVC_RUNNING) && tree_service_state(n) == n->state)
			json_array_append(run, v);
		else if (json_object_get(named, name) != NULL) {
			rpc_error(call, RPC_CONFLICT, "%s: not running (%s)",
			    name, tree_state_name(tree_service_state(n)));
			json_decref(run);
			return NULL;
		}
	}
	if (json_array_size(run) == 0) {
		rpc_error(call, RPC_CONFLICT, "no service to signal is running");
		json_decref(run);
		return NULL;
	}
	return run;
}

void
methods_service_signal(struct call *call, json_t *params)
{
	struct jsonrpc_error	 e;
	struct jsonrpc_kill	 k;
	json_t			*named, *workers, *run, *done, *v;
	const char		*why;
	struct node		*n;
	size_t			 i;

	if (jsonrpc_signal_params(params, &k, &e) == -1) {
		rpc_fail(call, &e);
		return;
	}
	if (k.names != NULL && !methods_service_known(call, k.names)) {
		json_decref(k.names);
		return;
	}
	named = json_object();
	workers = methods_service_workers(k.names, named);
	json_decref(k.names);
	run = methods_service_runnable(call, workers, named);
	json_decref(workers);
	json_decref(named);
	if (run == NULL)
		return;
	done = json_array();
	json_array_foreach(run, i, v) {
		n = tree_find(json_string_value(v));
		if (tree_signal(n, k.sig, &why) == -1)
			continue;
		log_info("signal %s to %s (pid %ld) by %s",
		    util_signal_name(k.sig), n->name, (long)n->pid,
		    control_author(call->client));
		json_array_append_new(done, json_pack("{s:s,s:i}",
		    "service", n->name, "pid", (int)n->pid));
	}
	json_decref(run);
	rpc_result(call, json_pack("{s:o,s:s,s:o}", "signaled", done,
	    "signal", util_signal_name(k.sig), "ts", events_ts_now()));
}
