/*
 * jsonrpc-logs.c: the params of service.logs, checked (see jsonrpc.h).
 */
#include <string.h>

#include "config.h"
#include "jsonrpc.h"
#include "protocol.h"

/* "service": a name, a list of names, "*" or absent (every service). */
static int
jsonrpc_logs_services(const json_t *v, json_t **names, struct jsonrpc_error *e)
{
	json_t	*n;
	size_t	 i;

	*names = json_array();
	if (v == NULL || (json_is_string(v) &&
	    strcmp(json_string_value(v), "*") == 0))
		return 0;
	if (json_is_string(v)) {
		json_array_append(*names, (json_t *)v);
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) == 0)
		goto bad;
	json_array_foreach(v, i, n) {
		if (!json_is_string(n))
			goto bad;
		json_array_append(*names, n);
	}
	return 0;
bad:
	json_decref(*names);
	*names = NULL;
	return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
	    "'service' must be a name, a list of names or \"*\"");
}

int
jsonrpc_logs_params(const json_t *params, struct jsonrpc_logs *l,
    struct jsonrpc_error *e)
{
	json_t	*lines = json_object_get(params, "lines");
	json_t	*follow = json_object_get(params, "follow");

	memset(l, 0, sizeof(*l));
	l->lines = -1;
	if (lines != NULL && (!json_is_integer(lines) ||
	    json_integer_value(lines) < 0 ||
	    json_integer_value(lines) > LOG_LINES_MAX))
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "'lines' must be an integer from 0 to %d", LOG_LINES_MAX);
	if (lines != NULL)
		l->lines = (int)json_integer_value(lines);
	if (follow != NULL && !json_is_boolean(follow))
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "'follow' must be true or false");
	l->follow = json_is_true(follow);
	return jsonrpc_logs_services(json_object_get(params, "service"),
	    &l->names, e);
}
