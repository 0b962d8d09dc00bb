/*
 * fleetd-status.c: the fleet as this member sees it (fleet.status): every
 * live host's report (its key is there: its lease holds), and which of
 * them have applied the newest change of the fleet's stage and flags.
 * The view is the one the member's watch keeps, as of the revision it has
 * applied; while etcd is unreachable it says since when.
 */
#include <stdlib.h>
#include <string.h>

#include "fleetd.h"
#include "fleetd-private.h"
#include "util.h"

/* Names as a JSON array. */
static json_t *
fleetd_names(const char **names, size_t n)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

/* The reports decoded; one that does not decode is listed with why. */
static size_t
fleetd_decode_hosts(struct fleet_host *hosts, struct fleet_report *reps,
    json_t *list)
{
	const char	*name;
	json_t		*v, *o;
	char		 err[FLEET_ERR_MAX];
	size_t		 n = 0;

	json_object_foreach(fleetd->hosts, name, v) {
		if (fleet_report_decode(name, json_string_value(v),
		    json_string_length(v), &reps[n], err, sizeof(err)) == -1) {
			json_array_append_new(list, json_pack("{s:s, s:s}",
			    "host", name, "error", err));
			continue;
		}
		o = fleet_report_json(&reps[n]);
		json_object_set_new(o, "host", json_string(name));
		json_array_append_new(list, o);
		hosts[n].name = name;
		hosts[n].report = &reps[n];
		n++;
	}
	return n;
}

void
fleetd_lag_of(int64_t revision, json_t **applied, json_t **lagging)
{
	size_t			 nh = json_object_size(fleetd->hosts), i;
	struct fleet_host	*hosts = xcalloc(nh + 1, sizeof(*hosts));
	struct fleet_report	*reps = xcalloc(nh + 1, sizeof(*reps));
	struct fleet_lag	 lag;
	json_t			*list = json_array();

	nh = fleetd_decode_hosts(hosts, reps, list);
	fleet_lag(hosts, nh, revision, &lag);
	*applied = fleetd_names(lag.applied, lag.napplied);
	*lagging = fleetd_names(lag.lagging, lag.nlagging);
	fleet_lag_free(&lag);
	for (i = 0; i < nh; i++)
		fleet_report_clear(&reps[i]);
	free(reps);
	free(hosts);
	json_decref(list);
}

json_t *
fleetd_fleet_json(void)
{
	size_t			 nh, i;
	struct fleet_host	*hosts;
	struct fleet_report	*reps;
	struct fleet_lag	 lag;
	json_t			*list = json_array(), *res;
	int64_t			 since;

	if (fleetd == NULL)
		return NULL;
	nh = json_object_size(fleetd->hosts);
	hosts = xcalloc(nh + 1, sizeof(*hosts));
	reps = xcalloc(nh + 1, sizeof(*reps));
	nh = fleetd_decode_hosts(hosts, reps, list);
	fleet_lag(hosts, nh, fleetd->change_rev, &lag);
	since = etcdc_unreachable_since(fleetd->cli);
	res = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o}",
	    "prefix", fleetd->prefix, "host", fleetd->host,
	    "revision", (json_int_t)fleetd->change_rev,
	    "as_of", (json_int_t)fleetd->revision,
	    "unreachable_since", since != 0 ? json_integer(since) : json_null(),
	    "hosts", list,
	    "applied", fleetd_names(lag.applied, lag.napplied),
	    "lagging", fleetd_names(lag.lagging, lag.nlagging));
	fleet_lag_free(&lag);
	for (i = 0; i < nh; i++)
		fleet_report_clear(&reps[i]);
	free(reps);
	free(hosts);
	return res;
}
