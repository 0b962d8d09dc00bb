/*
 * methods-logs.c: service.logs, the last lines of services' output and,
 * with follow, every line from then on (see methods.h).
 */
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "logring.h"
#include "logs.h"
#include "methods.h"
#include "rpc-private.h"
#include "tree.h"
#include "util.h"

struct methods_logs_pick {
	struct node		**nodes;	/* the workers named, each once */
	size_t			  n;
};

/* A worker named twice (by name and by its supervisor's) is picked once. */
static void
methods_logs_add(struct node *n, struct methods_logs_pick *p)
{
	size_t	i;

	for (i = 0; i < p->n; i++)
		if (p->nodes[i] == n)
			return;
	p->nodes = xreallocarray(p->nodes, p->n + 1, sizeof(*p->nodes));
	p->nodes[p->n++] = n;
}

/* The workers of names (NULL: every one), each once; -1 when one is unknown. */
static int
methods_logs_resolve(struct call *call, json_t *names,
    struct methods_logs_pick *p)
{
	json_t	*workers, *v;
	size_t	 i;

	if (names != NULL && !methods_service_known(call, names))
		return -1;
	workers = methods_service_workers(names, NULL);
	json_array_foreach(workers, i, v)
		methods_logs_add(tree_find(json_string_value(v)), p);
	json_decref(workers);
	return 0;
}

struct methods_logs_line {
	const char		*service;
	const struct logline	*line;
};

static int
methods_logs_cmp(const void *a, const void *b)
{
	const struct methods_logs_line	*x = a, *y = b;

	return x->line->seq < y->line->seq ? -1 : x->line->seq > y->line->seq;
}

/* The last `lines` lines of the workers picked, in the order they came. */
static json_t *
methods_logs_lines(const struct methods_logs_pick *p, int lines)
{
	struct methods_logs_line	*all = NULL;
	json_t				*out = json_array();
	size_t				 n = 0, i, j, first;

	for (i = 0; i < p->n; i++) {
		const struct logring	*r = &p->nodes[i]->logs;

		all = xreallocarray(all, n + logring_count(r) + 1, sizeof(*all));
		for (j = 0; j < logring_count(r); j++) {
			all[n].service = p->nodes[i]->name;
			all[n++].line = logring_at(r, j);
		}
	}
	qsort(all, n, sizeof(*all), methods_logs_cmp);
	first = lines >= 0 && (size_t)lines < n ? n - (size_t)lines : 0;
	for (i = first; i < n; i++)
		json_array_append_new(out, logs_line_json(all[i].service,
		    all[i].line));
	free(all);
	return out;
}

/* The names a follower follows: the workers picked, or [] for all of them. */
static json_t *
methods_logs_follows(const struct methods_logs_pick *p, json_t *names)
{
	json_t	*out = json_array();
	size_t	 i;

	if (names == NULL)
		return out;
	for (i = 0; i < p->n; i++)
		json_array_append_new(out, json_string(p->nodes[i]->name));
	return out;
}

void
methods_logs(struct call *call, json_t *params)
{
	struct jsonrpc_error		 e;
	struct jsonrpc_logs		 l;
	struct methods_logs_pick	 p = { NULL, 0 };
	json_t				*lines;

	if (jsonrpc_logs_params(params, &l, &e) == -1) {
		rpc_fail(call, &e);
		return;
	}
	if (methods_logs_resolve(call, l.names, &p) == -1)
		goto done;
	lines = methods_logs_lines(&p, l.lines);
	if (l.follow)
		control_follow_logs(call->client, methods_logs_follows(&p, l.names));
	rpc_result(call, json_pack("{s:o,s:I,s:b}", "lines", lines, "seq",
	    (json_int_t)logs_last_seq(), "follow", l.follow));
done:
	free(p.nodes);
	json_decref(l.names);
}
