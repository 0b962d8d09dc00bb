/*
 * fleetd.c: warden as a member of a fleet (fleetd.h): joining, the lease
 * and its keepalive, the host's report, the watch and its restarts. The
 * keys become local changes in fleetd-apply.c.
 *
 * One thing at a time goes on the way in (fleetd_next()): a lease when
 * there is none, the whole prefix read when a resync is due, then the
 * watch and the report. Anything that fails comes back to fleetd_next()
 * after the backoff, from where it stood: the revision applied is kept,
 * so a watch restarts after it and misses nothing etcd still has.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "barrier.h"
#include "config.h"
#include "flagsvc.h"
#include "fleetd.h"
#include "fleetd-private.h"
#include "log.h"
#include "util.h"

#define FLEETD_BACKOFF_MIN	100	/* ms: the first retry */
#define FLEETD_BACKOFF_MAX	5000
#define FLEETD_GRPC_NOT_FOUND	5	/* a lease etcd no longer has */

struct fleetd		*fleetd;
static uint64_t		 fleetd_gens;
static struct event_base *fleetd_evbase;	/* for a fleet a reload adds */

int64_t
fleetd_now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("clock_gettime");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the host and the settings ---------------------------------------------------- */

int
fleetd_host(const struct config *conf, char *out, size_t len, char *err,
    size_t errlen)
{
	char		 name[256];
	const char	*why;

	if (conf->fleet.host != NULL) {
		snprintf(out, len, "%s", conf->fleet.host);
		return 0;
	}
	if (gethostname(name, sizeof(name)) == -1) {
		snprintf(err, errlen, "fleet.host is not given and "
		    "gethostname() failed: %s", strerror(errno));
		return -1;
	}
	name[sizeof(name) - 1] = '\0';
	if ((why = fleet_host_problem(name)) != NULL) {
		snprintf(err, errlen, "fleet.host is not given and this "
		    "host's name \"%.64s\" cannot be one: %s (set fleet.host)",
		    name, why);
		return -1;
	}
	snprintf(out, len, "%s", name);
	return 0;
}

int
fleetd_check(const struct config *conf, char *err, size_t errlen)
{
	char	host[FLEET_NAME_BUF];

	if (!conf->fleet.enabled)
		return 0;
	return fleetd_host(conf, host, sizeof(host), err, errlen);
}

/* The endpoint's URL, as etcdc takes it. */
static char *
fleetd_url(const struct fleet_endpoint *ep)
{
	char	*url;

	xasprintf(&url, strchr(ep->host, ':') != NULL ? "http://[%s]:%d" :
	    "http://%s:%d", ep->host, ep->port);
	return url;
}

/* The settings as one string: a reload that changes it restarts the client. */
static char *
fleetd_settings(const struct config *conf, const char *host)
{
	const struct fleet_conf	*fc = &conf->fleet;
	char			*s, *t, *url;
	size_t			 i;

	xasprintf(&s, "%s %s %d %d", fc->prefix, host, fc->lease_s,
	    fc->timeout_ms);
	for (i = 0; i < fc->netcd; i++) {
		url = fleetd_url(&fc->etcd[i]);
		xasprintf(&t, "%s %s", s, url);
		free(url);
		free(s);
		s = t;
	}
	return s;
}

/* --- rejections and the report ------------------------------------------------------ */

void
fleetd_reject(const char *key, int64_t revision, const char *why)
{
	log_warnx("fleet: rejected: %s", why);
	fleet_report_reject(fleetd->rejected, key, revision, why);
}

static void fleetd_report_cb(void *, int, json_t *, const char *);

static void
fleetd_observe_cb(void *arg)
{
	(void)arg;
	if (fleetd != NULL && fleetd_observe())
		fleetd_report();
}

bool
fleetd_observe(void)
{
	if (fleetd->observed_rev >= fleetd->revision)
		return false;
	if (!barrier_observed(fleetd->observe_gen)) {
		barrier_notify(fleetd->observe_gen, fleetd_observe_cb, NULL);
		return false;
	}
	fleetd->observed_rev = fleetd->revision;
	return true;
}

/* Of the revision applied, what every reader has seen: at most it. */
static int64_t
fleetd_observed(void)
{
	return fleetd->observed_rev < fleetd->revision ? fleetd->observed_rev :
	    fleetd->revision;
}

char *
fleetd_report_text(void)
{
	struct fleet_report	 r;
	char			*text;

	fleet_report_make(&r, flagsvc_flags(), flagsvc_generation(),
	    fleetd->revision, fleetd->applied_at,
	    etcdc_unreachable_since(fleetd->cli), fleetd->rejected);
	r.observed = fleetd_observed();
	text = fleet_value_text(fleet_report_json(&r));
	fleet_report_clear(&r);
	return text;
}

void
fleetd_report(void)
{
	json_t			*req;
	char			*key, *text;

	if (fleetd->lease == 0 || fleetd->need_resync)
		return;		/* put once the lease and the state are there */
	if (fleetd->put != NULL) {
		fleetd->put_again = true;
		return;
	}
	text = fleetd_report_text();
	key = fleet_key_host(fleetd->prefix, fleetd->host);
	req = etcd_req_put(key, text, strlen(text), fleetd->lease);
	fleetd->put_again = false;
	fleetd->put = etcdc_call(fleetd->cli, "/v3/kv/put", req,
	    fleetd_report_cb, fleetd);
	json_decref(req);
	free(key);
	free(text);
}

/* Whether an answer says the lease is gone. */
static bool
fleetd_lease_gone(json_t *answer)
{
	struct etcd_error	e;

	return answer != NULL && etcd_error_parse(answer, &e) == 1 &&
	    e.code == FLEETD_GRPC_NOT_FOUND;
}

/* etcd no longer has the lease (why: "is gone", "expired"): a new one. */
static void
fleetd_lease_lost(const char *why)
{
	log_warnx("fleet: lease %lld %s: a new one", (long long)fleetd->lease,
	    why);
	fleetd->lease = 0;
	fleetd_next();
}

static void
fleetd_report_cb(void *arg, int status, json_t *answer, const char *error)
{
	(void)arg;
	(void)status;
	fleetd->put = NULL;
	if (error != NULL) {
		log_debug("fleet: the report was not put: %s", error);
		if (fleetd_lease_gone(answer)) {
			fleetd_lease_lost("is gone");
			return;
		}
		/* Put again when etcd answers: the keepalive will tell. */
		fleetd->put_again = true;
		return;
	}
	if (fleetd->put_again)
		fleetd_report();
}

/* --- the lease ----------------------------------------------------------------------- */

static void
fleetd_grant_cb(void *arg, int status, json_t *answer, const char *error)
{
	struct etcd_lease	l;
	char			err[ETCD_ERR_MAX];

	(void)arg;
	(void)status;
	fleetd->call = NULL;
	if (error != NULL || etcd_parse_lease(answer, &l, err) == -1 ||
	    l.ttl <= 0) {
		log_warnx("fleet: no lease granted: %s", error != NULL ? error :
		    err);
		fleetd_retry();
		return;
	}
	fleetd->lease = l.id;
	log_info("fleet: lease %lld granted for %lld s", (long long)l.id,
	    (long long)l.ttl);
	fleetd_next();
}

static void
fleetd_grant(void)
{
	json_t	*req = etcd_req_lease_grant(fleetd->lease_s, 0);

	fleetd->call = etcdc_call(fleetd->cli, "/v3/lease/grant", req,
	    fleetd_grant_cb, fleetd);
	json_decref(req);
}

static void
fleetd_keepalive_cb(void *arg, int status, json_t *answer, const char *error)
{
	struct etcd_lease	l;
	char			err[ETCD_ERR_MAX];
	bool			gone;

	(void)arg;
	(void)status;
	fleetd->ka = NULL;
	if (error != NULL) {
		gone = fleetd_lease_gone(answer);
		log_debug("fleet: keepalive: %s", error);
	} else if (etcd_parse_lease(answer, &l, err) == -1) {
		log_warnx("fleet: keepalive: %s", err);
		return;
	} else
		gone = l.ttl == 0;
	if (gone)
		fleetd_lease_lost("expired");
	else if (error == NULL && fleetd->put_again)
		fleetd_report();	/* etcd answers again */
}

static void
fleetd_keepalive(evutil_socket_t fd, short what, void *arg)
{
	json_t	*req;

	(void)fd;
	(void)what;
	(void)arg;
	if (fleetd->lease == 0 || fleetd->ka != NULL)
		return;
	req = etcd_req_lease_keepalive(fleetd->lease);
	fleetd->ka = etcdc_call(fleetd->cli, "/v3/lease/keepalive", req,
	    fleetd_keepalive_cb, fleetd);
	json_decref(req);
}

/* --- the prefix and the watch ---------------------------------------------------------- */

static void
fleetd_range_cb(void *arg, int status, json_t *answer, const char *error)
{
	struct etcd_range	r;
	char			err[ETCD_ERR_MAX];

	(void)arg;
	(void)status;
	fleetd->call = NULL;
	if (error != NULL || etcd_parse_range(answer, &r, err) == -1) {
		log_warnx("fleet: cannot read %s: %s", fleetd->desired,
		    error != NULL ? error : err);
		fleetd_retry();
		return;
	}
	fleetd_apply_range(&r);
	etcd_range_free(&r);
}

struct etcdc_req *
fleetd_range_of(const char *prefix, int64_t revision, etcdc_call_cb *cb,
    void *arg)
{
	struct etcdc_req	*r;
	struct etcd_buf		 end;
	json_t			*req;

	etcd_prefix_end(prefix, &end);
	req = etcd_req_range(prefix, &end, revision, 0);
	etcd_buf_free(&end);
	r = etcdc_call(fleetd->cli, "/v3/kv/range", req, cb, arg);
	json_decref(req);
	return r;
}

static void
fleetd_range(void)
{
	fleetd->call = fleetd_range_of(fleetd->desired, 0, fleetd_range_cb,
	    fleetd);
}

static void
fleetd_watch_event(void *arg, json_t *object)
{
	(void)arg;
	fleetd_apply_watch(object);
}

static void
fleetd_watch_end(void *arg, enum etcdc_end end, const char *error)
{
	(void)arg;
	fleetd->watch = NULL;
	fleetd->watching = false;
	if (end != ETCDC_END_CANCELED)
		log_warnx("fleet: the watch ended: %s", error != NULL ? error :
		    "closed by etcd");
	/* A batch in flight starts it again once settled (its queue first). */
	if (fleetd->inflight == 0)
		fleetd_retry();
}

static void
fleetd_watch(void)
{
	struct etcd_buf	 end;
	json_t		*req;

	etcd_prefix_end(fleetd->desired, &end);
	req = etcd_req_watch(fleetd->desired, &end, fleetd->revision + 1);
	etcd_buf_free(&end);
	/* A quiet fleet's revision moves on too, by etcd's progress notes. */
	json_object_set_new(json_object_get(req, "create_request"),
	    "progress_notify", json_true());
	fleetd->watch = etcdc_watch(fleetd->cli, req, fleetd_watch_event,
	    fleetd_watch_end, fleetd);
	json_decref(req);
}

/* --- the way in ------------------------------------------------------------------------ */

void
fleetd_next(void)
{
	if (fleetd == NULL || fleetd->call != NULL || fleetd->inflight > 0 ||
	    evtimer_pending(fleetd->retry_ev, NULL))
		return;
	if (fleetd->lease == 0)
		fleetd_grant();
	else if (fleetd->watch == NULL && fleetd->need_resync)
		fleetd_range();
	else {
		if (fleetd->watch == NULL)
			fleetd_watch();
		fleetd_report();
	}
}

static void
fleetd_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	fleetd_next();
}

void
fleetd_backoff(struct event *ev, int *ms)
{
	struct timeval	tv;

	*ms = *ms == 0 ? FLEETD_BACKOFF_MIN : *ms * 2;
	if (*ms > FLEETD_BACKOFF_MAX)
		*ms = FLEETD_BACKOFF_MAX;
	tv.tv_sec = *ms / 1000;
	tv.tv_usec = (*ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

void
fleetd_retry(void)
{
	fleetd_backoff(fleetd->retry_ev, &fleetd->backoff_ms);
}

/* --- life --------------------------------------------------------------------------------- */

static int
fleetd_new(struct event_base *base, const struct config *conf,
    const char *host, char *err, size_t errlen)
{
	const struct fleet_conf	 *fc = &conf->fleet;
	char			**urls = xcalloc(fc->netcd + 1, sizeof(*urls));
	char			  e[ETCD_ERR_MAX];
	struct timeval		  tv;
	struct etcdc		 *cli;
	size_t			  i;
	int			  ka_ms;

	for (i = 0; i < fc->netcd; i++)
		urls[i] = fleetd_url(&fc->etcd[i]);
	cli = etcdc_new(base, (const char *const *)urls, fc->netcd,
	    fc->timeout_ms, e);
	for (i = 0; i < fc->netcd; i++)
		free(urls[i]);
	free(urls);
	if (cli == NULL) {
		snprintf(err, errlen, "fleet.etcd: %s", e);
		return -1;
	}
	fleetd = xcalloc(1, sizeof(*fleetd));
	fleetd->base = base;
	fleetd->cli = cli;
	fleetd->gen = ++fleetd_gens;
	fleetd->prefix = xstrdup(fc->prefix);
	fleetd->desired = fleet_key_desired(fc->prefix);
	snprintf(fleetd->host, sizeof(fleetd->host), "%s", host);
	fleetd->fp = fleetd_settings(conf, host);
	fleetd->lease_s = fc->lease_s;
	fleetd->need_resync = true;
	fleetd->rejected = json_array();
	fleetd->queue = json_array();
	if ((fleetd->retry_ev = evtimer_new(base, fleetd_retry_cb, NULL)) ==
	    NULL || (fleetd->ka_ev = event_new(base, -1, EV_PERSIST,
	    fleetd_keepalive, NULL)) == NULL)
		fatalx("cannot create the fleet's timers");
	ka_ms = fc->lease_s * 1000 / 3;
	tv.tv_sec = ka_ms / 1000;
	tv.tv_usec = (ka_ms % 1000) * 1000;
	evtimer_add(fleetd->ka_ev, &tv);
	return 0;
}

/* What the last image had: where it was, its lease, its rejections. */
static void
fleetd_take(const json_t *h)
{
	json_t	*rev = json_object_get(h, "revision");
	json_t	*lease = json_object_get(h, "lease");
	json_t	*rej = json_object_get(h, "rejected");

	if (json_is_integer(lease) && json_integer_value(lease) > 0)
		fleetd->lease = json_integer_value(lease);
	/*
	 * P"desired/" is still read whole (need_resync): the newest change's
	 * revision is not handed over, and the state, already there, takes
	 * no step.
	 */
	if (json_is_integer(rev) && json_integer_value(rev) > 0 &&
	    json_integer_value(rev) < INT64_MAX) {
		fleetd->revision = json_integer_value(rev);
		fleetd->applied_at = json_integer_value(json_object_get(h,
		    "applied_at"));
	}
	if (json_is_array(rej) && json_array_size(rej) <= FLEET_REJECTED_MAX) {
		json_decref(fleetd->rejected);
		fleetd->rejected = json_deep_copy(rej);
	}
}

int
fleetd_start(struct event_base *base, const struct config *conf,
    const json_t *handover, char *err, size_t errlen)
{
	char	host[FLEET_NAME_BUF];

	fleetd_evbase = base;
	if (!conf->fleet.enabled)
		return 0;
	if (fleetd_host(conf, host, sizeof(host), err, errlen) == -1 ||
	    fleetd_new(base, conf, host, err, errlen) == -1)
		return -1;
	if (handover != NULL && json_is_object(handover))
		fleetd_take(handover);
	log_info("fleet: %s, host %s, etcd at %s", fleetd->prefix,
	    fleetd->host, etcdc_endpoint(fleetd->cli));
	fleetd_next();
	return 0;
}

void
fleetd_stop(void)
{
	if (fleetd == NULL)
		return;
	fleetd_write_abort_all("the fleet's client stopped");
	fleetd_read_abort_all("the fleet's client stopped");
	fleetd_hosts_stop();
	barrier_notify(0, NULL, NULL);
	/* etcdc_free() cancels every request without calling back. */
	etcdc_free(fleetd->cli);
	event_free(fleetd->retry_ev);
	event_free(fleetd->ka_ev);
	json_decref(fleetd->rejected);
	json_decref(fleetd->queue);
	free(fleetd->desired);
	free(fleetd->prefix);
	free(fleetd->fp);
	free(fleetd);
	fleetd = NULL;
}

void
fleetd_reconfigure(const struct config *conf)
{
	char	 host[FLEET_NAME_BUF], err[512], *fp = NULL;
	bool	 same;

	if (conf->fleet.enabled && fleetd_host(conf, host, sizeof(host), err,
	    sizeof(err)) == 0)
		fp = fleetd_settings(conf, host);
	same = (fp == NULL && fleetd == NULL) || (fp != NULL &&
	    fleetd != NULL && strcmp(fp, fleetd->fp) == 0);
	free(fp);
	if (same)
		return;
	log_info("fleet: the settings changed: the client starts again");
	fleetd_stop();
	if (fleetd_start(fleetd_evbase, conf, NULL, err,
	    sizeof(err)) == -1)
		log_warnx("fleet: %s", err);
}

json_t *
fleetd_handover(void)
{
	if (fleetd == NULL)
		return json_null();
	return json_pack("{s:I, s:I, s:I, s:O}", "revision",
	    (json_int_t)fleetd->revision, "applied_at",
	    (json_int_t)fleetd->applied_at, "lease", (json_int_t)fleetd->lease,
	    "rejected", fleetd->rejected);
}

bool
fleetd_member(void)
{
	return fleetd != NULL;
}

const char *
fleetd_prefix(void)
{
	return fleetd != NULL ? fleetd->prefix : "";
}

void
fleetd_state_changed(void)
{
	if (fleetd != NULL)
		fleetd_report();
}

static json_t *
fleetd_ms_or_null(int64_t ms)
{
	return ms != 0 ? json_integer(ms) : json_null();
}

json_t *
fleetd_status_json(void)
{
	if (fleetd == NULL)
		return json_null();
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:b, s:O, "
	    "s:I}", "prefix", fleetd->prefix, "host", fleetd->host,
	    "endpoint", etcdc_endpoint(fleetd->cli),
	    "revision", (json_int_t)fleetd->revision,
	    "observed", (json_int_t)fleetd_observed(),
	    "applied_at", fleetd_ms_or_null(fleetd->applied_at),
	    "unreachable_since", fleetd_ms_or_null(
	    etcdc_unreachable_since(fleetd->cli)),
	    "lease", fleetd->lease != 0 ? json_integer(fleetd->lease) :
	    json_null(), "watching", fleetd->watching,
	    "rejected", fleetd->rejected,
	    "events", (json_int_t)fleetd->events);
}
