/*
 * wardenctl-fleet.c: the fleet a warden is a member of (wardenctl(1),
 * FLEET): its hosts, what each has applied, and which lag.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "wardenctl.h"

/*
 * fleet status: warden reads the hosts' reports from etcd when asked,
 * within fleet.timeout_ms, which is at most 60 s.
 */
#define FLEET_STATUS_DEADLINE_MS	(CTL_DEADLINE_QUICK_MS + 60000)

/* A time in ms since the epoch, or "-". */
static char *
fleet_time_cell(json_t *ms)
{
	return json_is_integer(ms) ? ctl_cell(ms) : xstrdup("-");
}

/* Whether the name h's "host" is in the array names. */
static bool
fleet_listed(json_t *names, json_t *h)
{
	json_t	*n;
	size_t	 i;

	json_array_foreach(names, i, n)
		if (json_equal(n, json_object_get(h, "host")))
			return true;
	return false;
}

/*
 * HOST STAGE REVISION APPLIED_AT LAG: one row per live host; LAG "behind"
 * when it has not applied the newest change, "unread" when it has but not
 * every worker reading its table has seen it yet.
 */
static void
fleet_print_hosts(json_t *res)
{
	struct ctl_table	 t;
	json_t			*h;
	size_t			 i;

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
		ctl_table_own(&t, ctl_cell(json_object_get(h, "stage")));
		ctl_table_own(&t, ctl_cell(json_object_get(h, "revision")));
		ctl_table_own(&t, fleet_time_cell(json_object_get(h,
		    "applied_at")));
		ctl_table_cell(&t, "%s", fleet_listed(json_object_get(res,
		    "lagging"), h) ? "behind" : fleet_listed(json_object_get(res,
		    "unseen"), h) ? "unread" : "-");
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
	if (json_is_string(json_object_get(res, "reports_error")))
		printf("%s\n", json_string_value(json_object_get(res,
		    "reports_error")));
	fleet_print_hosts(res);
	free(rev);
	free(asof);
	free(pfx);
	free(host);
}

static int
fleet_status(struct ctl *c, struct ctl_args *a, int argc, char **argv)
{
	json_t	*res;
	int	 rc;

	(void)a;
	(void)argc;
	(void)argv;
	if ((rc = ctl_call(c, "fleet.status", NULL, FLEET_STATUS_DEADLINE_MS,
	    &res)) != CTL_EXIT_OK)
		return rc;
	if (c->json)
		ctl_print_result(res);
	else
		fleet_print_status(res);
	/* Hosts behind, or their reports unread: the fleet is not known ok. */
	rc = json_array_size(json_object_get(res, "lagging")) > 0 ||
	    json_is_string(json_object_get(res, "reports_error")) ?
	    CTL_EXIT_NOT_OK : CTL_EXIT_OK;
	json_decref(res);
	return rc;
}

/*
 * "written KEY at revision R", then, when asked, who has applied it and
 * whose readers have seen it.
 */
static int
fleet_print_write(json_t *res)
{
	json_t	*l;
	char	*key = ctl_text_cell(json_object_get(res, "key"));
	char	*rev = ctl_cell(json_object_get(res, "revision"));
	size_t	 i;

	printf("written %s at revision %s\n", key, rev);
	free(key);
	free(rev);
	if (json_is_string(json_object_get(res, "reports_error")))
		printf("%s\n", json_string_value(json_object_get(res,
		    "reports_error")));
	if (json_is_true(json_object_get(res, "observed")))
		printf("applied by every live host (%zu), and seen by the "
		    "workers that read its flags\n",
		    json_array_size(json_object_get(res, "applied")));
	else if (json_is_false(json_object_get(res, "observed"))) {
		json_array_foreach(json_object_get(res, "lagging"), i, l)
			printf("not applied by %s\n", json_string_value(l));
		json_array_foreach(json_object_get(res, "unseen"), i, l)
			printf("applied by %s, not yet seen by all its readers\n",
			    json_string_value(l));
		return CTL_EXIT_NOT_OBSERVED;
	}
	return CTL_EXIT_OK;
}

/* A fleet write: -m's reason, --wait-observed's bound, the answer. */
static int
fleet_write(struct ctl *c, struct ctl_args *a, const char *method,
    json_t *params)
{
	json_t	*res;
	int	 rc, ms;

	params = ctl_sub_reason(a, params);
	if ((rc = ctl_observe_params(a, &params, &ms)) != CTL_EXIT_OK) {
		json_decref(params);
		return rc;
	}
	if ((rc = ctl_call(c, method, params, CTL_DEADLINE_QUICK_MS +
	    (ms > 0 ? ms : 0), &res)) != CTL_EXIT_OK)
		return rc;
	if (c->json) {
		ctl_print_result(res);
		rc = json_is_false(json_object_get(res, "observed")) ?
		    CTL_EXIT_NOT_OBSERVED : CTL_EXIT_OK;
	} else
		rc = fleet_print_write(res);
	json_decref(res);
	return rc;
}

/* fleet stage set N | rollback [N] | emergency */
static int
fleet_stage(struct ctl *c, struct ctl_args *a, int argc, char **argv)
{
	json_t	*params = NULL;
	int	 stage, rc;

	if (strcmp(argv[0], "set") == 0 && argc == 2) {
		if ((rc = ctl_parse_count(a, "set", argv[1], &stage)) !=
		    CTL_EXIT_OK)
			return rc;
		return fleet_write(c, a, "fleet.stage.set", ctl_params("stage",
		    json_integer(stage)));
	}
	if (strcmp(argv[0], "rollback") == 0 && argc <= 2) {
		if (argc == 2) {
			if ((rc = ctl_parse_count(a, "rollback", argv[1],
			    &stage)) != CTL_EXIT_OK)
				return rc;
			params = ctl_params("stage", json_integer(stage));
		}
		return fleet_write(c, a, "fleet.stage.rollback", params);
	}
	if (strcmp(argv[0], "emergency") == 0 && argc == 1)
		return fleet_write(c, a, "fleet.stage.emergency", NULL);
	return ctl_usage_error(a, "stage: expected set N, rollback [N] or "
	    "emergency");
}

/* fleet flag set NAME VALUE | reset NAME */
static int
fleet_flag(struct ctl *c, struct ctl_args *a, int argc, char **argv)
{
	json_t	*v;

	if (strcmp(argv[0], "set") == 0 && argc == 3) {
		if ((v = ctl_flag_value_arg(argv[2])) == NULL)
			return ctl_usage_error(a, "%s: not a value (on, off, "
			    "or a percentage from 0 to 100)", argv[2]);
		return fleet_write(c, a, "fleet.flag.set", json_pack("{s:s, "
		    "s:o}", "name", argv[1], "value", v));
	}
	if (strcmp(argv[0], "reset") == 0 && argc == 2)
		return fleet_write(c, a, "fleet.flag.reset", ctl_params("name",
		    ctl_str(argv[1])));
	return ctl_usage_error(a, "flag: expected set NAME VALUE or reset "
	    "NAME");
}

static const struct ctl_sub fleet_subs[] = {
	{ "status", 0, 0, { NULL }, fleet_status },
	{ "stage", 1, 2, { "reason", "wait-observed" }, fleet_stage },
	{ "flag", 2, 3, { "reason", "wait-observed" }, fleet_flag },
};

int
cmd_fleet(struct ctl *c, struct ctl_args *a)
{
	return ctl_sub_run(c, a, fleet_subs, nitems(fleet_subs));
}
