/*
 * wardenctl-fleet.c: the fleet a warden is a member of (wardenctl(1),
 * FLEET): its hosts, what each has applied, and which lag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wardenctl.h"

/* A time in ms since the epoch, or "-". */
static char *
fleet_time_cell(json_t *ms)
{
	return json_is_integer(ms) ? ctl_cell(ms) : xstrdup("-");
}

/* HOST STAGE REVISION APPLIED_AT LAG: one row per live host. */
static void
fleet_print_hosts(json_t *res)
{
	struct ctl_table	 t;
	json_t			*h, *lagging = json_object_get(res, "lagging");
	json_t			*lag;
	size_t			 i, j;
	bool			 lags;

	ctl_table_init(&t, 5, "HOST", "STAGE", "REVISION", "APPLIED_AT", "LAG");
	json_array_foreach(json_object_get(res, "hosts"), i, h) {
		ctl_table_own(&t, ctl_text_cell(json_object_get(h, "host")));
		if (json_is_string(json_object_get(h, "error"))) {
			ctl_table_cell(&t, "-");
			ctl_table_cell(&t, "-");
			ctl_table_cell(&t, "-");
			ctl_table_own(&t, ctl_text_cell(json_object_get(h,
			    "error")));
			continue;
		}
		lags = false;
		json_array_foreach(lagging, j, lag)
			lags |= json_equal(lag, json_object_get(h, "host"));
		ctl_table_own(&t, ctl_cell(json_object_get(h, "stage")));
		ctl_table_own(&t, ctl_cell(json_object_get(h, "revision")));
		ctl_table_own(&t, fleet_time_cell(json_object_get(h,
		    "applied_at")));
		ctl_table_cell(&t, "%s", lags ? "behind" : "-");
	}
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

static void
fleet_print_status(json_t *res)
{
	json_t	*u = json_object_get(res, "unreachable_since");
	char	*rev = ctl_cell(json_object_get(res, "revision"));
	char	*asof = ctl_cell(json_object_get(res, "as_of"));
	char	*pfx = ctl_text_cell(json_object_get(res, "prefix"));
	char	*host = ctl_text_cell(json_object_get(res, "host"));

	printf("fleet %s, newest change at revision %s; seen from %s, which "
	    "has applied %s\n", pfx, rev, host, asof);
	if (json_is_integer(u))
		printf("etcd unreachable since %lld (ms since the epoch): this "
		    "view may be old\n", (long long)json_integer_value(u));
	fleet_print_hosts(res);
	free(rev);
	free(asof);
	free(pfx);
	free(host);
}

int
cmd_fleet(struct ctl *c, struct ctl_args *a)
{
	json_t	*res;
	int	 rc;

	if (a->argc > 0 && strcmp(a->argv[0], "status") != 0)
		return ctl_usage_error(a, "%s: expected status", a->argv[0]);
	if (a->argc > 1)
		return ctl_usage_error(a, "status takes no operand");
	if ((rc = ctl_call(c, "fleet.status", NULL, CTL_DEADLINE_QUICK_MS,
	    &res)) != CTL_EXIT_OK)
		return rc;
	if (c->json)
		ctl_print_result(res);
	else
		fleet_print_status(res);
	rc = json_array_size(json_object_get(res, "lagging")) > 0 ?
	    CTL_EXIT_NOT_OK : CTL_EXIT_OK;
	json_decref(res);
	return rc;
}
