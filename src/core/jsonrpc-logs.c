/*
 * jsonrpc-logs.c: the params of service.logs, checked (see jsonrpc.h).
 */
#include <string.h>

#include "config.h"
#include "jsonrpc.h"
#include "protocol.h"

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
	/* No "service": every one, as "*". */
	if (json_object_get(params, "service") == NULL)
		return 0;
	return jsonrpc_services_param(params, &l->names, e);
}
