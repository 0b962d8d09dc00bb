/*
 * fleetd-status.c: the fleet as this member sees it (fleet.status): every
 * live host's report (its key is there: its lease holds), and which of
 * them have applied the newest change of the fleet's stage and flags.
 *
 * A member does not watch the reports (fleetd-hosts.c says why): they are
 * read from etcd when asked, one range of P"hosts/", and the answer comes
 * when etcd's does, within the fleet's timeout_ms. The newest change is
 * the one this member's watch of P"desired/" has seen. When the reports
 * cannot be read, the answer still comes, with this host's own report
 * alone and "reports_error" saying why: an operator sees at once that the
 * fleet's view is missing, and what this host has.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flagsvc.h"
#include "fleetd.h"
#include "fleetd-private.h"
#include "util.h"

struct fleetd_read {
	struct fleetd_read	*next;
	struct etcdc_req	*req;
	fleetd_read_fn		*done;		/* NULL: forgotten */
	void			*arg;
};

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

/*
 * The reports of view decoded; one that does not decode is listed with
 * why, and its host has no report (it is not known to have applied).
 */
static size_t
fleetd_decode_hosts(json_t *view, struct fleet_host *hosts,
    struct fleet_report *reps, json_t *list)
{
	const char	*name;
	json_t		*v, *o;
	char		 err[FLEET_ERR_MAX];
	size_t		 n = 0;

	json_object_foreach(view, name, v) {
		hosts[n].name = name;
		if (fleet_report_decode(name, json_string_value(v),
		    json_string_length(v), &reps[n], err, sizeof(err)) == -1) {
			json_array_append_new(list, json_pack("{s:s, s:s}",
			    "host", name, "error", err));
			hosts[n++].report = NULL;
			continue;
		}
		o = fleet_report_json(&reps[n]);
		json_object_set_new(o, "host", json_string(name));
		json_array_append_new(list, o);
		hosts[n].report = &reps[n];
		n++;
	}
	return n;
}

/*
 * {applied, lagging, unseen}: the hosts of view (NULL: none) that have
 * applied revision, that have not, and of the first those whose readers
 * have not all seen it, as name arrays; the reports in *list when list is
 * not NULL.
 */
static json_t *
fleetd_lag_view(json_t *view, int64_t revision, json_t **list)
{
	size_t			 nh = json_object_size(view), i;
	struct fleet_host	*hosts = xcalloc(nh + 1, sizeof(*hosts));
	struct fleet_report	*reps = xcalloc(nh + 1, sizeof(*reps));
	struct fleet_lag	 lag;
	json_t			*l = json_array(), *res;

	nh = view != NULL ? fleetd_decode_hosts(view, hosts, reps, l) : 0;
	fleet_lag(hosts, nh, revision, &lag);
	res = json_pack("{s:o, s:o, s:o}",
	    "applied", fleetd_names(lag.applied, lag.napplied),
	    "lagging", fleetd_names(lag.lagging, lag.nlagging),
	    "unseen", fleetd_names(lag.unseen, lag.nunseen));
	fleet_lag_free(&lag);
	for (i = 0; i < nh; i++)
		fleet_report_clear(&reps[i]);
	free(reps);
	free(hosts);
	if (list != NULL)
		*list = l;
	else
		json_decref(l);
	return res;
}

json_t *
fleetd_lag_of(int64_t revision)
{
	return fleetd_lag_view(fleetd->hosts, revision, NULL);
}

/* fleet.status's answer from the reports of view, and why they are not all. */
static json_t *
fleetd_fleet_answer(json_t *view, const char *error)
{
	json_t	*list, *res;
	int64_t	 since = etcdc_unreachable_since(fleetd->cli);

	res = fleetd_lag_view(view, fleetd->change_rev, &list);
	json_object_update_missing_new(res, json_pack("{s:s, s:s, s:I, s:I, "
	    "s:o, s:o, s:o}", "prefix", fleetd->prefix, "host", fleetd->host,
	    "revision", (json_int_t)fleetd->change_rev,
	    "as_of", (json_int_t)fleetd->revision,
	    "unreachable_since", since != 0 ? json_integer(since) : json_null(),
	    "hosts", list,
	    "reports_error", error != NULL ? json_string(error) : json_null()));
	return res;
}

/* The answer when the reports could not be read: this host's own alone. */
static json_t *
fleetd_fleet_own(const char *why)
{
	json_t	*view = json_object(), *res;
	char	*text = fleetd_report_text(), *error;

	json_object_set_new(view, fleetd->host, json_string(text));
	xasprintf(&error, "the hosts' reports under %s" FLEET_HOSTS " could "
	    "not be read (only this host's own is shown): %s", fleetd->prefix,
	    why);
	res = fleetd_fleet_answer(view, error);
	free(error);
	free(text);
	json_decref(view);
	return res;
}

/* Answer r (unless forgotten) with res, and free it. */
static void
fleetd_read_end(struct fleetd_read *r, json_t *res)
{
	struct fleetd_read	**pp;

	for (pp = &fleetd->reads; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	if (r->done != NULL)
		r->done(r->arg, res);
	else
		json_decref(res);
	free(r);
}

static void
fleetd_read_cb(void *arg, int status, json_t *answer, const char *error)
{
	struct fleetd_read	*r = arg;
	struct etcd_range	 range;
	char			 err[ETCD_ERR_MAX];
	json_t			*view;
	size_t			 i;

	(void)status;
	r->req = NULL;
	if (error != NULL || etcd_parse_range(answer, &range, err) == -1) {
		fleetd_read_end(r, fleetd_fleet_own(error != NULL ? error :
		    err));
		return;
	}
	view = json_object();
	for (i = 0; i < range.n; i++)
		fleetd_hosts_kv(view, &range.kvs[i], false);
	etcd_range_free(&range);
	fleetd_read_end(r, fleetd_fleet_answer(view, NULL));
	json_decref(view);
}

enum flagsvc_err
fleetd_fleet_read(fleetd_read_fn *done, void *arg, struct fleetd_read **out,
    char *err, size_t errlen)
{
	struct fleetd_read	*r;
	char			*hosts;

	*out = NULL;
	if (fleetd == NULL) {
		snprintf(err, errlen, "this warden is not a fleet member (no "
		    "\"fleet\" in its configuration)");
		return FLAGSVC_CONFLICT;
	}
	r = xcalloc(1, sizeof(*r));
	r->done = done;
	r->arg = arg;
	r->next = fleetd->reads;
	fleetd->reads = r;
	hosts = fleet_key_hosts(fleetd->prefix);
	r->req = fleetd_range_of(hosts, 0, fleetd_read_cb, r);
	free(hosts);
	*out = r;
	return FLAGSVC_OK;
}

void
fleetd_read_forget(struct fleetd_read *r)
{
	r->done = NULL;
}

void
fleetd_read_abort_all(const char *why)
{
	struct fleetd_read	*r;

	if (fleetd == NULL)
		return;
	while ((r = fleetd->reads) != NULL) {
		if (r->req != NULL)
			etcdc_cancel(r->req);
		fleetd_read_end(r, fleetd_fleet_own(why));
	}
}
