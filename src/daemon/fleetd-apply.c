/*
 * fleetd-apply.c: etcd's keys made local changes (fleetd.h).
 *
 * A range (all of P"desired/") or the events of one watch answer are
 * planned against the state in force, each step then handed to the flag
 * service as one batch: they join one group, validated in order against
 * the state with the steps before them taken, and are made durable by one
 * fdatasync. Until every step of a batch is done, what the watch brings
 * waits in a queue: the next plan must see the state the batch made.
 * The revision applied moves only when the whole batch is durable; a
 * batch the disk refused leaves it, and the next start reads all of
 * P"desired/" again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flagsvc.h"
#include "fleetd-private.h"
#include "log.h"
#include "util.h"

/* A step handed over: the membership it was made for, its key. */
struct fleetd_step {
	uint64_t	 gen;
	char		*key;
	int64_t		 revision;
};

static void
fleetd_apply_done(void *arg, enum flagsvc_err e, json_t *result,
    const char *err)
{
	struct fleetd_step	*fs = arg;
	char			*why;

	json_decref(result);
	if (fleetd != NULL && fleetd->gen == fs->gen) {
		if (e == FLAGSVC_UNAVAILABLE) {
			log_warnx("fleet: %s: the change could not be made "
			    "durable: %s", fs->key, err);
			fleetd->batch_failed = true;
		} else if (e != FLAGSVC_OK) {
			xasprintf(&why, "%s: %s", fs->key, err);
			fleetd_reject(fs->key, fs->revision, why);
			free(why);
		}
		if (--fleetd->inflight == 0)
			fleetd_apply_settled();
	}
	free(fs->key);
	free(fs);
}

/* Hand a plan's steps and rejections over; batch_rev is what they bring. */
static void
fleetd_apply_plan(struct fleet_plan *p, int64_t revision, bool resync)
{
	struct flags_actor	 by;
	struct fleet_step	*st;
	struct fleetd_step	*fs;
	size_t			 i;

	for (i = 0; i < p->nrejects; i++)
		fleetd_reject(p->reject[i].key, p->reject[i].revision,
		    p->reject[i].why);
	fleetd->batch_rev = revision;
	fleetd->batch_resync = resync;
	fleetd->batch_failed = false;
	fleetd->inflight++;	/* held until every step is handed over */
	for (i = 0; i < p->nsteps; i++) {
		st = &p->step[i];
		memset(&by, 0, sizeof(by));
		by.uid = st->by.uid;
		by.pid = st->by.pid;
		snprintf(by.host, sizeof(by.host), "%s", st->by.host);
		log_info("fleet: %s %s (revision %lld)", flags_op_name(st->op),
		    st->key, (long long)st->revision);
		fs = xcalloc(1, sizeof(*fs));
		fs->gen = fleetd->gen;
		fs->key = xstrdup(st->key);
		fs->revision = st->revision;
		fleetd->inflight++;
		(void)flagsvc_change_as(st->op, st->params, st->has_by ? &by :
		    NULL, st->at, fleetd_apply_done, fs);
	}
	if (--fleetd->inflight == 0)
		fleetd_apply_settled();
}

/* etcd's kv as the plan reads it. */
static struct fleet_kv
fleetd_kv(const struct etcd_kv *kv, bool deleted)
{
	struct fleet_kv	f;

	f.key = kv->key.p;
	f.keylen = kv->key.len;
	f.value = deleted ? NULL : kv->value.p;
	f.valuelen = deleted ? 0 : kv->value.len;
	f.deleted = deleted;
	f.mod_revision = kv->mod_revision;
	return f;
}

/* A key of P"desired/" seen (a range's, or a watch event's). */
static void
fleetd_saw_change(const struct etcd_kv *kv)
{
	if (kv->mod_revision > fleetd->change_rev)
		fleetd->change_rev = kv->mod_revision;
}

void
fleetd_apply_range(const struct etcd_range *r)
{
	struct fleet_kv		*kvs = xcalloc(r->n + 1, sizeof(*kvs));
	struct fleet_plan	 p;
	size_t			 i;

	fleetd->change_rev = 0;
	for (i = 0; i < r->n; i++) {
		kvs[i] = fleetd_kv(&r->kvs[i], false);
		fleetd_saw_change(&r->kvs[i]);
	}
	fleet_plan_resync(flagsvc_flags(), fleetd->prefix, kvs, r->n,
	    fleetd_now_ms(), &p);
	free(kvs);
	log_info("fleet: resync at revision %lld: %zu keys, %zu changes, "
	    "%zu rejected", (long long)r->revision, r->n, p.nsteps,
	    p.nrejects);
	fleetd_apply_plan(&p, r->revision, true);
	fleet_plan_free(&p);
}

/*
 * A watch answer's events, planned in order against a copy of the state
 * that takes each plan's steps, so that the plans chain as the flag
 * service will validate them.
 */
static void
fleetd_apply_events(const struct etcd_watch *w)
{
	struct fleet_plan	 p;
	struct fleet_kv		 kv;
	struct flags		*s = flags_copy(flagsvc_flags());
	int64_t			 rev = fleetd->revision, now = fleetd_now_ms();
	size_t			 i, first;
	json_t			*rec;

	memset(&p, 0, sizeof(p));
	for (i = 0; i < w->n; i++) {
		kv = fleetd_kv(&w->events[i].kv, w->events[i].type ==
		    ETCD_EVENT_DELETE);
		if (kv.mod_revision > rev)
			rev = kv.mod_revision;
		fleetd_saw_change(&w->events[i].kv);
		first = p.nsteps;
		(void)fleet_plan_change(s, fleetd->prefix, &kv, now, &p);
		for (; first < p.nsteps; first++)
			if (fleet_step_record(s, &p.step[first], &rec, NULL,
			    0) == FLAGS_OK) {
				flags_apply(s, rec);
				json_decref(rec);
			}
	}
	flags_free(s);
	/*
	 * A header holds etcd's revision when the answer was sent, not what
	 * the watch has sent: a created answer comes before the events the
	 * watch catches up on, and an answer catching up holds some of them.
	 * Only a progress notification (no event, not created) says every
	 * change up to its revision has been sent.
	 */
	if (w->n == 0 && !w->created && w->revision > rev)
		rev = w->revision;
	if (w->n == 0) {	/* created, or progress: nothing to tell */
		/* No change came: what the readers had seen, they still have. */
		if (fleetd->observed_rev >= fleetd->revision)
			fleetd->observed_rev = rev;
		fleetd->revision = rev;
		fleet_plan_free(&p);
		return;
	}
	fleetd_apply_plan(&p, rev, false);
	fleet_plan_free(&p);
}

/* The watch is over (if it still runs), and started again after the backoff. */
static void
fleetd_apply_drop(void)
{
	if (fleetd->watch != NULL)
		etcdc_cancel(fleetd->watch);
	fleetd->watch = NULL;
	fleetd->watching = false;
	fleetd_retry();
}

/* One object of the stream, its batch in the flag service if it makes one. */
static void
fleetd_apply_object(json_t *object)
{
	struct etcd_watch	w;
	char			err[ETCD_ERR_MAX];

	if (etcd_parse_watch(object, &w, err) == -1) {
		log_warnx("fleet: the watch answered what is not a watch "
		    "answer: %s", err);
		fleetd_apply_drop();
		return;
	}
	if (w.canceled) {
		if (w.compact_revision > 0) {
			log_warnx("fleet: revision %lld was compacted (etcd "
			    "keeps from %lld): reading all of %s again",
			    (long long)fleetd->revision + 1,
			    (long long)w.compact_revision, fleetd->desired);
			fleetd->need_resync = true;
		} else
			log_warnx("fleet: etcd canceled the watch: %s",
			    w.cancel_reason != NULL ? w.cancel_reason : "no "
			    "reason given");
		fleetd_apply_drop();
	} else {
		if (w.created) {
			fleetd->watching = true;
			fleetd->backoff_ms = 0;
		}
		fleetd->events += w.n;
		fleetd_apply_events(&w);
	}
	etcd_watch_free(&w);
}

void
fleetd_apply_watch(json_t *object)
{
	if (fleetd->inflight > 0) {
		json_array_append(fleetd->queue, object);
		return;
	}
	fleetd_apply_object(object);
}

void
fleetd_apply_settled(void)
{
	json_t	*o;

	if (fleetd->batch_failed) {
		/* The state may hold part of the batch: read it all again. */
		fleetd->need_resync = true;
		json_array_clear(fleetd->queue);
		fleetd_apply_drop();
		return;
	}
	fleetd->revision = fleetd->batch_rev;
	fleetd->applied_at = fleetd_now_ms();
	fleetd->observe_gen = flagsvc_generation();
	(void)fleetd_observe();		/* the report below says it */
	if (fleetd->batch_resync) {
		fleetd->need_resync = false;
		fleetd_next();
		return;
	}
	fleetd_report();
	/* What the watch brought meanwhile, even if it has ended since. */
	while (fleetd->inflight == 0 && json_array_size(fleetd->queue) > 0) {
		o = json_incref(json_array_get(fleetd->queue, 0));
		json_array_remove(fleetd->queue, 0);
		fleetd_apply_object(o);
		json_decref(o);
	}
	if (fleetd->inflight == 0 && fleetd->watch == NULL)
		fleetd_next();	/* it ended while the batch was made */
}
