/*
 * fleetd-hosts.c: the hosts' reports, P"hosts/", as a write waiting on
 * them sees them (fleetd-private.h).
 *
 * A member does not watch the reports: every host reporting each change
 * to every other would make N * N events for N hosts. Only while at least
 * one write waits (wait_observed) does this member keep a view of them,
 * ONE for however many writes wait: a watch of P"hosts/" from now, then,
 * once etcd says at which revision C it was created, a range of P"hosts/"
 * at C (who is live, at which revision); what the watch brings meanwhile
 * waits for the range, then each change of the view is handed to the
 * waiting writes (fleetd_write_observe()). The watch comes first because
 * etcd serves a watch that starts in the past (a range, then a watch from
 * its revision + 1, with reports put in between) from its unsynced group,
 * which it catches up only every 100 ms: each write would wait that long.
 * When the last write stops waiting, the watch is canceled and the view
 * dropped.
 *
 * etcd failing meanwhile: the view is kept as last seen (a host that
 * seems behind is named as lagging, never as having applied), read again
 * after the backoff, and why it could not be is kept for the answers; a
 * write's deadline answers whatever etcd does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "fleetd-private.h"
#include "log.h"
#include "util.h"

void
fleetd_hosts_kv(json_t *view, const struct etcd_kv *kv, bool deleted)
{
	char	name[FLEET_NAME_BUF];

	/* A key under P"hosts/" that names no host is no host's report. */
	if (fleet_key_parse(fleetd->prefix, kv->key.p, kv->key.len, name) !=
	    FLEET_KEY_HOST)
		return;
	if (deleted)
		(void)json_object_del(view, name);
	else	/* bytes that are not UTF-8 are no report: "" says so */
		json_object_set_new(view, name, json_stringn(kv->value.p,
		    kv->value.len) ?: json_string(""));
}

/* Reading them failed: why, kept for the answers; again after the backoff. */
static void
fleetd_hosts_failed(const char *why)
{
	free(fleetd->hosts_error);
	xasprintf(&fleetd->hosts_error, "the hosts' reports under %s"
	    FLEET_HOSTS " could not be read: %s", fleetd->prefix, why);
	log_debug("fleet: %s", fleetd->hosts_error);
	fleetd_backoff(fleetd->hosts_retry_ev, &fleetd->hosts_backoff_ms);
}

/* The watch and the range canceled, what the watch brought dropped. */
static void
fleetd_hosts_cancel(void)
{
	if (fleetd->hosts_watch != NULL)
		etcdc_cancel(fleetd->hosts_watch);
	if (fleetd->hosts_call != NULL)
		etcdc_cancel(fleetd->hosts_call);
	fleetd->hosts_watch = fleetd->hosts_call = NULL;
	json_array_clear(fleetd->hosts_queue);
}

/* The watch and the range are over (one failed): both again, later. */
static void
fleetd_hosts_drop(const char *why)
{
	fleetd_hosts_cancel();
	fleetd_hosts_failed(why);
}

/* A watch answer's events in the view: whether there were any. */
static bool
fleetd_hosts_apply(const struct etcd_watch *w)
{
	size_t	i;

	for (i = 0; i < w->n; i++)
		fleetd_hosts_kv(fleetd->hosts, &w->events[i].kv,
		    w->events[i].type == ETCD_EVENT_DELETE);
	return w->n > 0;
}

static void	fleetd_hosts_range(int64_t revision);

static void
fleetd_hosts_event(void *arg, json_t *object)
{
	struct etcd_watch	w;
	char			err[ETCD_ERR_MAX];
	bool			changed = false;

	(void)arg;
	if (etcd_parse_watch(object, &w, err) == -1) {
		fleetd_hosts_drop(err);
		return;
	}
	if (w.canceled) {
		fleetd_hosts_drop(w.compact_revision > 0 ? "compacted while "
		    "watched" : "etcd canceled the watch");
		etcd_watch_free(&w);
		return;
	}
	if (w.created && w.revision <= 0) {
		fleetd_hosts_drop("etcd created the watch without saying at "
		    "which revision");
		etcd_watch_free(&w);
		return;
	}
	fleetd->events += w.n;
	if (w.created) {
		fleetd->hosts_backoff_ms = 0;
		fleetd_hosts_range(w.revision);
	} else if (fleetd->hosts_call != NULL || fleetd->hosts == NULL)
		json_array_append(fleetd->hosts_queue, object);	/* after it */
	else
		changed = fleetd_hosts_apply(&w);
	etcd_watch_free(&w);
	/* Last: a write answered may be the last, and end the watch. */
	if (changed)
		fleetd_write_observe();
}

static void
fleetd_hosts_end(void *arg, enum etcdc_end end, const char *error)
{
	(void)arg;
	(void)end;
	fleetd->hosts_watch = NULL;
	fleetd_hosts_drop(error != NULL ? error : "the watch was closed by "
	    "etcd");
}

/* From now on: etcd says at which revision once it is created. */
static void
fleetd_hosts_watch(void)
{
	struct etcd_buf	 end;
	json_t		*req;
	char		*hosts = fleet_key_hosts(fleetd->prefix);

	etcd_prefix_end(hosts, &end);
	req = etcd_req_watch(hosts, &end, 0);
	etcd_buf_free(&end);
	free(hosts);
	fleetd->hosts_watch = etcdc_watch(fleetd->cli, req, fleetd_hosts_event,
	    fleetd_hosts_end, NULL);
	json_decref(req);
}

static void
fleetd_hosts_range_cb(void *arg, int status, json_t *answer, const char *error)
{
	struct etcd_range	 r;
	struct etcd_watch	 w;
	char			 err[ETCD_ERR_MAX];
	json_t			*view, *o;
	size_t			 i;

	(void)arg;
	(void)status;
	fleetd->hosts_call = NULL;
	if (error != NULL || etcd_parse_range(answer, &r, err) == -1) {
		fleetd_hosts_drop(error != NULL ? error : err);
		return;
	}
	view = json_object();
	for (i = 0; i < r.n; i++)
		fleetd_hosts_kv(view, &r.kvs[i], false);
	etcd_range_free(&r);
	json_decref(fleetd->hosts);
	fleetd->hosts = view;
	free(fleetd->hosts_error);
	fleetd->hosts_error = NULL;
	/* What the watch brought meanwhile, after the range's revision. */
	json_array_foreach(fleetd->hosts_queue, i, o)
		if (etcd_parse_watch(o, &w, err) == 0) {
			(void)fleetd_hosts_apply(&w);
			etcd_watch_free(&w);
		}
	json_array_clear(fleetd->hosts_queue);
	/* Last: a write answered may be the last, and end the watch. */
	fleetd_write_observe();
}

/* The reports as they were at revision, the watch's. */
static void
fleetd_hosts_range(int64_t revision)
{
	char	*hosts = fleet_key_hosts(fleetd->prefix);

	fleetd->hosts_call = fleetd_range_of(hosts, revision,
	    fleetd_hosts_range_cb, NULL);
	free(hosts);
}

static void
fleetd_hosts_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (fleetd != NULL && fleetd->hosts_holds > 0 &&
	    fleetd->hosts_call == NULL && fleetd->hosts_watch == NULL)
		fleetd_hosts_watch();
}

void
fleetd_hosts_hold(void)
{
	if (fleetd->hosts_holds++ > 0)
		return;
	if (fleetd->hosts_retry_ev == NULL && (fleetd->hosts_retry_ev =
	    evtimer_new(fleetd->base, fleetd_hosts_retry_cb, NULL)) == NULL)
		fatalx("cannot create the fleet's hosts timer");
	if (fleetd->hosts_queue == NULL)
		fleetd->hosts_queue = json_array();
	fleetd_hosts_watch();
}

/* No more view: the watch and the range canceled, the view dropped. */
static void
fleetd_hosts_clear(void)
{
	fleetd_hosts_cancel();
	if (fleetd->hosts_retry_ev != NULL)
		evtimer_del(fleetd->hosts_retry_ev);
	json_decref(fleetd->hosts);
	fleetd->hosts = NULL;
	free(fleetd->hosts_error);
	fleetd->hosts_error = NULL;
	fleetd->hosts_backoff_ms = 0;
}

void
fleetd_hosts_release(void)
{
	if (fleetd == NULL || fleetd->hosts_holds == 0 ||
	    --fleetd->hosts_holds > 0)
		return;
	fleetd_hosts_clear();
}

void
fleetd_hosts_stop(void)
{
	fleetd->hosts_holds = 0;
	fleetd_hosts_clear();
	if (fleetd->hosts_retry_ev != NULL)
		event_free(fleetd->hosts_retry_ev);
	fleetd->hosts_retry_ev = NULL;
	json_decref(fleetd->hosts_queue);
	fleetd->hosts_queue = NULL;
}
