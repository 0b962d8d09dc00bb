/*
 * methods-metrics.c: RPC "metrics" (see methods.h): the Prometheus text,
 * the same as the HTTP endpoint serves, with its content type, and where
 * that endpoint listens.
 */
#include <stdlib.h>

#include "methods.h"
#include "metrics-daemon.h"
#include "rpc-private.h"

void
methods_metrics(struct call *call, json_t *params)
{
	char	*text, *addr = metrics_http_address();
	size_t	 len;
	json_t	*r;

	(void)params;
	text = metrics_text(&len);
	r = json_pack("{s:s,s:s%}", "content_type", METRICS_CONTENT_TYPE,
	    "text", text, len);
	/* Where the HTTP endpoint answers, when it is on (its port resolved). */
	if (addr != NULL)
		json_object_set_new(r, "listen", json_string(addr));
	free(addr);
	free(text);
	rpc_result(call, r);
}
