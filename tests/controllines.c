/*
 * controllines.c: many requests written out at once (controllines.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "controllines.h"

char *
controllines_requests(const char *method, const char *params,
    long long first, int n, bool batch)
{
	const char	*ps = params != NULL ? ",\"params\":" : "";
	const char	*pv = params != NULL ? params : "";
	char		*buf, *p;
	size_t		 cap;
	int		 i;

	cap = (size_t)n * (64 + strlen(method) + strlen(pv)) + 4;
	buf = p = xmalloc(cap);
	if (batch)
		*p++ = '[';
	for (i = 0; i < n; i++)
		p += snprintf(p, cap - (size_t)(p - buf),
		    "%s{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"%s\"%s%s}%s",
		    batch && i > 0 ? "," : "", first + i, method, ps, pv,
		    batch ? "" : "\n");
	snprintf(p, cap - (size_t)(p - buf), "%s", batch ? "]\n" : "");
	return buf;
}

char *
controllines_waits(const char *cond, int timeout_ms, long long first, int n,
    bool batch)
{
	char	*params, *lines;

	xasprintf(&params, "{\"condition\":%s,\"timeout_ms\":%d}", cond,
	    timeout_ms);
	lines = controllines_requests("wait", params, first, n, batch);
	free(params);
	return lines;
}
