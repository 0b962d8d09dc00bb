/*
 * jsonrpc-params.c: the readers of each method's params (see jsonrpc.h).
 *
 * They check types and shapes only: whether a service or a flag named
 * exists is the daemon's to say, once the params are known to be right.
 * The order of the checks is the order of the answers clients see.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "flags.h"
#include "health.h"
#include "jsonrpc.h"
#include "util.h"

int
jsonrpc_string_param(const json_t *params, const char *key, const char **out,
    struct jsonrpc_error *e)
{
	json_t	*v = json_object_get(params, key);

	*out = NULL;
	if (v == NULL)
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "missing parameter '%s'", key);
	if (!json_is_string(v))
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "'%s' must be a string", key);
	*out = json_string_value(v);
	return 0;
}

/* --- wait conditions ----------------------------------------------------------------- */

static const char *const jsonrpc_states[JSONRPC_NSTATES] = {
	"stopped", "starting", "running", "stopping", "backoff", "failed",
};

const char *
jsonrpc_state_name(int s)
{
	return s >= 0 && s < JSONRPC_NSTATES ? jsonrpc_states[s] : NULL;
}

int
jsonrpc_state_parse(const char *s)
{
	int	i;

	for (i = 0; i < JSONRPC_NSTATES; i++)
		if (strcmp(s, jsonrpc_states[i]) == 0)
			return i;
	return -1;
}

/* Does cond have a key that is none of keys? */
static bool
jsonrpc_cond_extra(const json_t *cond, const char *const *keys)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	json_object_foreach((json_t *)cond, key, v) {
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (keys[i] == NULL)
			return true;
	}
	return false;
}

static const char *
jsonrpc_cond_service(const json_t *cond, struct jsonrpc_cond *out)
{
	static const char *const keys[] = { "service", "state", "health",
		"min_restarts", NULL };
	json_t	*v = json_object_get(cond, "service");
	json_t	*h = json_object_get(cond, "health");

	if (!json_is_string(v))
		return "'service' must be a string";
	out->kind = JSONRPC_COND_SERVICE;
	out->name = json_string_value(v);
	out->state = out->health = -1;
	if (h != NULL && (!json_is_string(h) ||
	    (out->health = health_verdict_parse(json_string_value(h))) == -1))
		return "'health' must be one of starting, healthy, unhealthy";
	v = json_object_get(cond, "state");
	if ((v != NULL || h == NULL) && (!json_is_string(v) ||
	    (out->state = jsonrpc_state_parse(json_string_value(v))) == -1))
		return "'state' must be one of stopped, starting, running, stopping, backoff, failed";
	v = json_object_get(cond, "min_restarts");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0))
		return "'min_restarts' must be an integer >= 0";
	if (v != NULL)
		out->min_restarts = json_integer_value(v) > UINT_MAX ? UINT_MAX :
		    (unsigned)json_integer_value(v);
	if (jsonrpc_cond_extra(cond, keys))
		return "unknown key in a service condition";
	return NULL;
}

static const char *
jsonrpc_cond_flag(const json_t *cond, struct jsonrpc_cond *out)
{
	static const char *const keys[] = { "flag", "value", NULL };
	json_t	*v = json_object_get(cond, "flag");

	if (!json_is_string(v))
		return "'flag' must be a string";
	out->kind = JSONRPC_COND_FLAG;
	out->name = json_string_value(v);
	if (flags_value_parse(json_object_get(cond, "value"), &out->value) == -1)
		return "'value' must be true, false or an integer from 0 to 100";
	if (jsonrpc_cond_extra(cond, keys))
		return "unknown key in a flag condition";
	return NULL;
}

int
jsonrpc_cond_parse(const json_t *cond, struct jsonrpc_cond *out,
    const char **why)
{
	static const char *const recovered[] = { "recovered", NULL };
	static const char *const stage[] = { "stage", NULL };
	json_t	*v;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	if (!json_is_object(cond))
		*why = "'condition' must be an object";
	else if ((v = json_object_get(cond, "recovered")) != NULL) {
		out->kind = JSONRPC_COND_RECOVERED;
		if (!json_is_true(v))
			*why = "'recovered' must be true";
		else if (jsonrpc_cond_extra(cond, recovered))
			*why = "'recovered' takes no other keys";
	} else if (json_object_get(cond, "service") != NULL)
		*why = jsonrpc_cond_service(cond, out);
	else if (json_object_get(cond, "flag") != NULL)
		*why = jsonrpc_cond_flag(cond, out);
	else if ((v = json_object_get(cond, "stage")) != NULL) {
		out->kind = JSONRPC_COND_STAGE;
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			*why = "'stage' must be an integer >= 0";
		else if (jsonrpc_cond_extra(cond, stage))
			*why = "unknown key in a stage condition";
		else	/* No configured stage comes near INT_MAX. */
			out->stage = json_integer_value(v) > INT_MAX ? INT_MAX :
			    (int)json_integer_value(v);
	} else
		*why = "a condition is {\"service\":NAME,\"state\":STATE}, "
		    "{\"service\":NAME,\"health\":HEALTH}, "
		    "{\"recovered\":true}, {\"flag\":NAME,\"value\":V} or "
		    "{\"stage\":N}";
	return *why != NULL ? -1 : 0;
}

const char *
jsonrpc_cond_check(const json_t *cond)
{
	struct jsonrpc_cond	 c;
	const char		*why;

	(void)jsonrpc_cond_parse(cond, &c, &why);
	return why;
}

int
jsonrpc_wait_params(const json_t *params, struct jsonrpc_wait *w,
    struct jsonrpc_error *e)
{
	json_t		*tmo = json_object_get(params, "timeout_ms");
	const char	*why;

	memset(w, 0, sizeof(*w));
	w->timeout_ms = JSONRPC_WAIT_DEFAULT_MS;
	if ((w->condition = json_object_get(params, "condition")) == NULL)
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "missing parameter 'condition'");
	if (jsonrpc_cond_parse(w->condition, &w->cond, &why) == -1)
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL, "%s", why);
	if (tmo == NULL)
		return 0;
	if (!json_is_integer(tmo) || json_integer_value(tmo) < 0 ||
	    json_integer_value(tmo) > JSONRPC_WAIT_MAX_MS)
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "'timeout_ms' must be an integer from 0 to %d",
		    JSONRPC_WAIT_MAX_MS);
	w->timeout_ms = json_integer_value(tmo);
	return 0;
}

/* --- the others ------------------------------------------------------------------------ */

/* A signal by name ("TERM", "SIGTERM") or number; -1 when it is none. */
static int
jsonrpc_signal(const json_t *v)
{
	char	num[32];

	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
		return util_signal_parse(num);
	}
	if (json_is_string(v))
		return util_signal_parse(json_string_value(v));
	return -1;
}

/* A list of names, not empty, every one a string. */
static bool
jsonrpc_names(const json_t *v)
{
	json_t	*n;
	size_t	 i;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return false;
	json_array_foreach(v, i, n)
		if (!json_is_string(n))
			return false;
	return true;
}

int
jsonrpc_services_param(const json_t *params, json_t **names,
    struct jsonrpc_error *e)
{
	json_t	*svc = json_object_get(params, "service");

	*names = NULL;
	if (json_is_string(svc) && strcmp(json_string_value(svc), "*") == 0)
		return 0;
	if (json_is_string(svc)) {
		*names = json_pack("[O]", svc);
		return 0;
	}
	if (!jsonrpc_names(svc))
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "'service' must be a name, a list of names or \"*\"");
	*names = json_copy((json_t *)svc);
	return 0;
}

int
jsonrpc_kill_params(const json_t *params, struct jsonrpc_kill *k,
    struct jsonrpc_error *e)
{
	json_t	*sigv = json_object_get(params, "signal");

	memset(k, 0, sizeof(*k));
	k->sig = SIGKILL;
	if (sigv != NULL && (k->sig = jsonrpc_signal(sigv)) <= 0)
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "'signal' is not a signal");
	if (jsonrpc_services_param(params, &k->names, e) == -1)
		return -1;
	k->all = k->names == NULL;
	return 0;
}

int
jsonrpc_signal_params(const json_t *params, struct jsonrpc_kill *k,
    struct jsonrpc_error *e)
{
	json_t	*sigv = json_object_get(params, "signal");

	memset(k, 0, sizeof(*k));
	if (sigv == NULL)
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "missing parameter 'signal'");
	/* 0 is no signal: a test of existence, not an operator's request. */
	if ((k->sig = jsonrpc_signal(sigv)) <= 0)
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "'signal' is not a signal (a name such as HUP or SIGHUP, "
		    "or a number)");
	if (jsonrpc_services_param(params, &k->names, e) == -1)
		return -1;
	k->all = k->names == NULL;
	return 0;
}

int
jsonrpc_limit_param(const json_t *params, json_int_t *limit,
    struct jsonrpc_error *e)
{
	json_t	*v = json_object_get(params, "limit");

	*limit = -1;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > JSONRPC_LIMIT_MAX)
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "'limit' must be an integer from 0 to %d",
		    JSONRPC_LIMIT_MAX);
	*limit = json_integer_value(v);
	return 0;
}

int
jsonrpc_wait_observed_param(const json_t *params, json_int_t *ms,
    struct jsonrpc_error *e)
{
	json_t	*v = json_object_get(params, "wait_observed");

	*ms = -1;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > JSONRPC_WAIT_OBSERVED_MAX)
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, json_pack("{s:s}",
		    "param", "wait_observed"), "'wait_observed' must be an "
		    "integer from 0 to %d (ms)", JSONRPC_WAIT_OBSERVED_MAX);
	*ms = json_integer_value(v);
	return 0;
}

int
jsonrpc_topics_params(const json_t *params, json_t **topics,
    struct jsonrpc_error *e)
{
	json_t	*v = json_object_get(params, "topics"), *t;
	size_t	 i;

	*topics = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "'topics' must be a list of strings");
	json_array_foreach(v, i, t) {
		if (!json_is_string(t) || json_string_length(t) == 0)
			return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
			    "'topics' must be a list of strings");
		if (!rpc_event_topic_known(json_string_value(t)))
			return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
			    "unknown topic '%s': neither an event type nor "
			    "a prefix of one ending at a dot",
			    json_string_value(t));
	}
	/* An empty list is every event, as none is. */
	if (json_array_size(v) > 0)
		*topics = json_deep_copy(v);
	return 0;
}

int
jsonrpc_reload_params(const json_t *params, bool *dry_run,
    struct jsonrpc_error *e)
{
	json_t	*v = json_object_get(params, "dry_run");

	*dry_run = false;
	if (v != NULL && !json_is_boolean(v))
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "'dry_run' must be true or false");
	*dry_run = json_is_true(v);
	return 0;
}

int
jsonrpc_reexec_params(const json_t *params, const char **binary,
    struct jsonrpc_error *e)
{
	json_t	*v = json_object_get(params, "binary");

	*binary = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || json_string_value(v)[0] != '/')
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "'binary' must be an absolute path");
	*binary = json_string_value(v);
	return 0;
}

int
jsonrpc_flag_params(const json_t *params, const char **name,
    struct jsonrpc_error *e)
{
	json_t	*v = json_object_get(params, "name");

	*name = NULL;
	if (!json_is_string(v))
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "'name' must be a flag's name");
	*name = json_string_value(v);
	return 0;
}

json_t *
jsonrpc_change_params(json_t *params)
{
	json_t	*own;

	if (!json_is_object(params))
		return json_incref(params);
	own = json_copy(params);
	if (own != NULL)
		(void)json_object_del(own, "wait_observed");
	return own;
}
