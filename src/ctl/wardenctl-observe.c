/*
 * wardenctl-observe.c: --wait-observed[=MS] on the flag and stage changes
 * (wardenctl-flag.c): the change's "wait_observed" param, and the answer's
 * "observed" said in one line after the change's own, with the exit
 * status CTL_EXIT_NOT_OBSERVED when readers had not observed it in time.
 */
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "util.h"
#include "wardenctl.h"

#define OBSERVE_WAIT_MS		5000	/* --wait-observed's default */

int
ctl_observe_params(const struct ctl_args *a, json_t **params, int *ms)
{
	int	rc;

	*ms = -1;
	if (!ctl_opt_isset(a, "wait-observed"))
		return CTL_EXIT_OK;
	*ms = OBSERVE_WAIT_MS;
	if (ctl_opt_value(a, "wait-observed") != NULL &&
	    (rc = ctl_parse_count(a, "--wait-observed", ctl_opt_value(a,
	    "wait-observed"), ms)) != CTL_EXIT_OK)
		return rc;
	if (*params == NULL && (*params = json_object()) == NULL)
		fatalx("out of memory");
	ctl_set(*params, "wait_observed", json_integer(*ms));
	return CTL_EXIT_OK;
}

/* "observed by 3 readers in 12 ms", or the laggards, one a line. */
static void
ctl_observe_print(const json_t *o)
{
	json_t	*l;
	size_t	 i, n = json_array_size(json_object_get(o, "laggards"));
	char	*svc;

	if (json_is_true(json_object_get(o, "complete"))) {
		printf("observed by %" JSON_INTEGER_FORMAT " reader%s in %"
		    JSON_INTEGER_FORMAT " ms\n",
		    json_integer_value(json_object_get(o, "readers")),
		    json_integer_value(json_object_get(o, "readers")) == 1 ?
		    "" : "s", json_integer_value(json_object_get(o,
		    "waited_ms")));
		return;
	}
	printf("not observed by %zu of %" JSON_INTEGER_FORMAT " reader%s "
	    "after %" JSON_INTEGER_FORMAT " ms:\n", n,
	    json_integer_value(json_object_get(o, "readers")),
	    json_integer_value(json_object_get(o, "readers")) == 1 ? "" : "s",
	    json_integer_value(json_object_get(o, "waited_ms")));
	json_array_foreach(json_object_get(o, "laggards"), i, l) {
		svc = ctl_text_cell(json_object_get(l, "service"));
		printf("  %s: pid %" JSON_INTEGER_FORMAT ", generation %"
		    JSON_INTEGER_FORMAT " (want %" JSON_INTEGER_FORMAT ")\n",
		    svc, json_integer_value(json_object_get(l, "pid")),
		    json_integer_value(json_object_get(l, "generation")),
		    json_integer_value(json_object_get(o, "generation")));
		free(svc);
	}
}

int
ctl_observe_call(struct ctl *c, const char *method, json_t *params, int ms,
    void (*human)(json_t *))
{
	json_t	*res, *o;
	int	 rc;

	if (ms < 0)
		return ctl_call_print(c, method, params, CTL_DEADLINE_QUICK_MS,
		    human);
	rc = ctl_call(c, method, params, ms + CTL_DEADLINE_QUICK_MS, &res);
	if (rc != CTL_EXIT_OK)
		return rc;
	o = json_object_get(res, "observed");
	if (c->json)
		ctl_print_result(res);
	else {
		human(res);
		ctl_observe_print(o);
	}
	rc = json_is_true(json_object_get(o, "complete")) ? CTL_EXIT_OK :
	    CTL_EXIT_NOT_OBSERVED;
	json_decref(res);
	return rc;
}

char *
ctl_observe_readers_cell(json_t *flag)
{
	json_t	*readers = json_object_get(flag, "readers"), *r;
	char	*cell = NULL, *svc, *tmp;
	size_t	 i;

	if (json_is_integer(readers))
		return ctl_cell(readers);
	if (json_array_size(readers) == 0)
		return xstrdup("(unread)");
	json_array_foreach(readers, i, r) {
		svc = ctl_text_cell(json_object_get(r, "service"));
		xasprintf(&tmp, "%s%s%s", cell != NULL ? cell : "",
		    cell != NULL ? "," : "", svc);
		free(cell);
		free(svc);
		cell = tmp;
	}
	return cell;
}
