/*
 * fleetd-hosts.c: the hosts' reports, P"hosts/", as a write waiting on
 * them sees them (fleetd-private.h).
 *
 * A member does not watch the reports: every host reporting each change
 * to every other would make N * N events for N hosts. Only while at least
 * one write waits (wait_observed) does this member keep a view of them:
 * a range of P"hosts/" (who is live, at which revision), then ONE watch
 * from the range's revision + 1, however many writes wait. Each change of
 * the view is handed to the waiting writes (fleetd_write_observe()). When
 * the last write stops waiting, the watch is canceled and the view is
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

/* The watch is over (it failed, or etcd canceled it): read them again. */
static void
fleetd_hosts_drop(const char *why)
{
	if (fleetd->hosts_watch != NULL)
		etcdc_cancel(fleetd->hosts_watch);
	fleetd->hosts_watch = NULL;
	fleetd_hosts_failed(why);
}

static void
fleetd_hosts_event(void *arg, json_t *object)
{
	struct etcd_watch	w;
	char			err[ETCD_ERR_MAX];
	size_t			i;

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
	if (w.created)
		fleetd->hosts_backoff_ms = 0;
	fleetd->events += w.n;
	for (i = 0; i < w.n; i++)
		fleetd_hosts_kv(fleetd->hosts, &w.events[i].kv,
		    w.events[i].type == ETCD_EVENT_DELETE);
	etcd_watch_free(&w);
	/* Last: a write answered may be the last, and end the watch. */
	if (i > 0)
		fleetd_write_observe();
}

static void
fleetd_hosts_end(void *arg, enum etcdc_end end, const char *error)
{
	(void)arg;
	(void)end;
	fleetd->hosts_watch = NULL;
	fleetd_hosts_failed(error != NULL ? error : "the watch was closed by "
	    "etcd");
}

static void
fleetd_hosts_watch(int64_t from)
{
	struct etcd_buf	 end;
	json_t		*req;
	char		*hosts = fleet_key_hosts(fleetd->prefix);

	etcd_prefix_end(hosts, &end);
	req = etcd_req_watch(hosts, &end, from);
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
	char			 err[ETCD_ERR_MAX];
	json_t			*view;
	size_t			 i;

	(void)arg;
	(void)status;
	fleetd->hosts_call = NULL;
	if (error != NULL || etcd_parse_range(answer, &r, err) == -1) {
		fleetd_hosts_failed(error != NULL ? error : err);
		return;
	}
	view = json_object();
	for (i = 0; i < r.n; i++)
		fleetd_hosts_kv(view, &r.kvs[i], false);
	json_decref(fleetd->hosts);
	fleetd->hosts = view;
	free(fleetd->hosts_error);
	fleetd->hosts_error = NULL;
	fleetd_hosts_watch(r.revision + 1);
	etcd_range_free(&r);
	/* Last: a write answered may be the last, and end the watch. */
	fleetd_write_observe();
}

static void
fleetd_hosts_range(void)
{
	struct etcd_buf	 end;
	json_t		*req;
	char		*hosts = fleet_key_hosts(fleetd->prefix);

	etcd_prefix_end(hosts, &end);
	req = etcd_req_range(hosts, &end, 0, 0);
	etcd_buf_free(&end);
	free(hosts);
	fleetd->hosts_call = etcdc_call(fleetd->cli, "/v3/kv/range", req,
	    fleetd_hosts_range_cb, NULL);
	json_decref(req);
}

static void
fleetd_hosts_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (fleetd != NULL && fleetd->hosts_holds > 0 &&
	    fleetd->hosts_call == NULL && fleetd->hosts_watch == NULL)
		fleetd_hosts_range();
}

void
fleetd_hosts_hold(void)
{
	if (fleetd->hosts_holds++ > 0)
		return;
	if (fleetd->hosts_retry_ev == NULL && (fleetd->hosts_retry_ev =
	    evtimer_new(fleetd->base, fleetd_hosts_retry_cb, NULL)) == NULL)
		fatalx("cannot create the fleet's hosts timer");
	fleetd_hosts_range();
}

/* No more view: the watch and the range canceled, the view dropped. */
static void
fleetd_hosts_clear(void)
{
	if (fleetd->hosts_call != NULL)
		etcdc_cancel(fleetd->hosts_call);
	if (fleetd->hosts_watch != NULL)
		etcdc_cancel(fleetd->hosts_watch);
	fleetd->hosts_call = fleetd->hosts_watch = NULL;
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
}
