/*
 * fleetd-write.c: a change of the fleet's stage or flags, written to etcd
 * by a member (fleetd.h, fleetd_write()).
 *
 * The member reads P"desired/", checks that it has applied the
 * fleet's newest change (else its own state, on which the change is
 * computed, is not the fleet's), makes the change on a copy of its state
 * as the local op would (so that it is refused for the same reasons: a
 * stage not above the current one, a flag this configuration lacks), and
 * writes the key in a transaction that compares what the value was made
 * from with what was read: changed meanwhile, the compare fails and the
 * write is answered as a conflict with the key's value now.
 *
 * What a value is made from depends on the op. A stage's value carries
 * every flag's value after the change (fleet.h), so a stage set, rollback
 * or emergency compares the stage key and every flag's key: a flag
 * written after the read would otherwise be put back, on every host, to
 * what this writer read, and that acknowledged write lost. A flag's set
 * or reset depends on nothing but the flag, so it compares its own key
 * alone, and writes of different flags never conflict. A reset is a put
 * of a reset record, not a delete: a compare over a range sees the keys
 * in it, not one deleted from it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "flagsvc.h"
#include "fleetd.h"
#include "fleetd-private.h"
#include "log.h"
#include "util.h"

struct fleetd_write {
	struct fleetd_write	*next;
	enum flags_op		 op;
	json_t			*params;
	uid_t			 uid;
	pid_t			 pid;
	struct etcdc_req	*req;
	char			*key;
	char			*flags;		/* the flags' prefix a stage compares */
	int64_t			 read_rev;	/* the range's */
	int64_t			 wait_ms;	/* -1: answered once written */
	int64_t			 observe_rev;	/* written: the revision to observe */
	struct event		*timer;		/* wait_ms's bound */
	json_t			*result;	/* written, kept while it waits */
	fleetd_write_fn		*done;
	void			*arg;
};

static struct fleetd_write	*fleetd_writes;

static void	fleetd_write_wait(struct fleetd_write *, int64_t revision);

static void
fleetd_write_free(struct fleetd_write *w)
{
	struct fleetd_write	**pp;

	for (pp = &fleetd_writes; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	if (w->observe_rev > 0)		/* it waited on the hosts' reports */
		fleetd_hosts_release();
	json_decref(w->params);
	json_decref(w->result);
	if (w->timer != NULL)
		event_free(w->timer);
	free(w->key);
	free(w->flags);
	free(w);
}

/* Answer w (done, unless forgotten) and free it. */
static void
fleetd_write_end(struct fleetd_write *w, enum flagsvc_err e, json_t *result,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
fleetd_write_end(struct fleetd_write *w, enum flagsvc_err e, json_t *result,
    const char *fmt, ...)
{
	char	err[FLEET_ERR_MAX * 2] = "";
	va_list	ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(err, sizeof(err), fmt, ap);
		va_end(ap);
	}
	if (w->done != NULL)
		w->done(w->arg, e, result, err);
	else
		json_decref(result);
	fleetd_write_free(w);
}

/* The key's mod_revision in the range (0: absent). */
static int64_t
fleetd_write_modrev(const struct etcd_range *r, const char *key)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		if (r->kvs[i].key.len == strlen(key) &&
		    memcmp(r->kvs[i].key.p, key, r->kvs[i].key.len) == 0)
			return r->kvs[i].mod_revision;
	return 0;
}

/* The newest change of a stage or flag key in the range. */
static int64_t
fleetd_write_change_rev(const struct etcd_range *r)
{
	char	name[FLEET_NAME_BUF];
	int64_t	rev = 0;
	size_t	i;

	for (i = 0; i < r->n; i++)
		if (fleet_key_parse(fleetd->prefix, r->kvs[i].key.p,
		    r->kvs[i].key.len, name) != FLEET_KEY_HOST &&
		    r->kvs[i].mod_revision > rev)
			rev = r->kvs[i].mod_revision;
	return rev;
}

static void
fleetd_write_audit(struct fleet_audit *a, const struct fleetd_write *w,
    const char *reason, int64_t now)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->host, sizeof(a->host), "%s", fleetd->host);
	a->uid = w->uid;
	a->pid = w->pid;
	a->at = now;
	a->reason = reason != NULL ? xstrdup(reason) : NULL;
}

/* The op made on a copy of this host's state: the key and its new value. */
static enum flagsvc_err
fleetd_write_value(struct fleetd_write *w, char **value, char *err,
    size_t errlen)
{
	struct flags_actor	 by = { w->uid, w->pid, "" };
	struct flags_change	 ch;
	struct flags		*s;
	struct fleet_stage	 st;
	struct fleet_flag	 fl;
	enum flags_err		 e;
	json_t			*rec;
	int64_t			 now = fleetd_now_ms();
	ssize_t			 i;

	*value = NULL;
	if ((e = flags_change_read(w->op, w->params, &ch, err, errlen)) !=
	    FLAGS_OK)
		return flagsvc_err_of(e);
	if (w->op == FLAGS_OP_RESET && ch.name == NULL) {
		snprintf(err, errlen, "a fleet's flag is reset one at a time: "
		    "name required (every flag to its default, and stage 0: "
		    "fleet.stage.emergency)");
		return FLAGSVC_INVALID;
	}
	s = flags_copy(flagsvc_flags());
	if ((e = flags_op_change(s, &ch, &by, now, &rec, err, errlen)) !=
	    FLAGS_OK) {
		flags_free(s);
		return flagsvc_err_of(e);
	}
	flags_apply(s, rec);
	json_decref(rec);
	if (w->op == FLAGS_OP_SET || w->op == FLAGS_OP_RESET) {
		w->key = fleet_key_flag(fleetd->prefix, ch.name);
		i = flags_find(s, ch.name);
		memset(&fl, 0, sizeof(fl));
		fl.reset = w->op == FLAGS_OP_RESET;
		fl.value = s->flag[i].value;
		fl.is_bool = json_is_boolean(ch.value);
		fleetd_write_audit(&fl.by, w, ch.reason, now);
		*value = fleet_value_text(fleet_flag_json(&fl));
		fleet_audit_clear(&fl.by);
	} else {
		w->key = fleet_key_stage(fleetd->prefix);
		memset(&st, 0, sizeof(st));
		st.stage = s->stage;
		st.emergency = w->op == FLAGS_OP_STAGE_EMERGENCY;
		st.values = fleet_values_json(s);
		fleetd_write_audit(&st.by, w, ch.reason, now);
		*value = fleet_value_text(fleet_stage_json(&st));
		fleet_stage_clear(&st);
	}
	flags_free(s);
	return FLAGSVC_OK;
}

static void
fleetd_write_txn_cb(void *arg, int status, json_t *answer, const char *error)
{
	struct fleetd_write	*w = arg;
	struct etcd_txn		 t;
	char			 err[ETCD_ERR_MAX];
	const struct etcd_range	*now;

	(void)status;
	w->req = NULL;
	if (error != NULL || etcd_parse_txn(answer, &t, err) == -1) {
		fleetd_write_end(w, FLAGSVC_UNAVAILABLE, NULL, "%s: etcd did not "
		    "answer the write (it may or may not be made): %s", w->key,
		    error != NULL ? error : err);
		return;
	}
	if (!t.succeeded) {
		now = t.n > 0 && t.resp[0].kind == ETCD_OP_RANGE ?
		    &t.resp[0].range : NULL;
		fleetd_write_end(w, FLAGSVC_CONFLICT, NULL, "%s%s%s changed "
		    "since revision %lld was read (%s now: %.*s)", w->key,
		    w->flags != NULL ? " or a flag under " : "",
		    w->flags != NULL ? w->flags : "", (long long)w->read_rev,
		    w->key, now != NULL && now->n > 0 ?
		    (int)now->kvs[0].value.len : 6, now != NULL && now->n > 0 ?
		    now->kvs[0].value.p : "absent");
	} else if (w->wait_ms < 0)
		fleetd_write_end(w, FLAGSVC_OK, json_pack("{s:s, s:I}", "key",
		    w->key, "revision", (json_int_t)t.revision), NULL);
	else
		fleetd_write_wait(w, t.revision);
	etcd_txn_free(&t);
}

/*
 * Answer w with who has applied its revision, and whose readers have seen
 * it; observed: all of them, both. Until the hosts' reports are read,
 * nobody is known to have: only the deadline answers, with why they could
 * not be read if they were not.
 */
static void
fleetd_write_observed(struct fleetd_write *w, bool deadline)
{
	json_t	*lag, *res;
	bool	 all;

	if (fleetd->hosts == NULL && !deadline)
		return;
	lag = fleetd_lag_of(w->observe_rev);
	all = json_array_size(json_object_get(lag, "lagging")) == 0 &&
	    json_array_size(json_object_get(lag, "unseen")) == 0;
	if (!all && !deadline) {
		json_decref(lag);
		return;
	}
	res = w->result;
	w->result = NULL;
	json_object_set_new(res, "observed", json_boolean(all));
	json_object_update(res, lag);
	json_decref(lag);
	if (fleetd->hosts_error != NULL)
		json_object_set_new(res, "reports_error", json_string(
		    fleetd->hosts_error));
	fleetd_write_end(w, FLAGSVC_OK, res, NULL);
}

static void
fleetd_write_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fleetd_write_observed(arg, true);
}

/*
 * Written at revision: wait until every live host has applied it, on the
 * hosts' reports that fleetd-hosts.c reads and watches while one waits.
 */
static void
fleetd_write_wait(struct fleetd_write *w, int64_t revision)
{
	struct timeval	tv;

	w->observe_rev = revision;
	fleetd_hosts_hold();
	w->result = json_pack("{s:s, s:I}", "key", w->key, "revision",
	    (json_int_t)revision);
	if ((w->timer = evtimer_new(fleetd->base, fleetd_write_deadline, w)) ==
	    NULL)
		fatalx("cannot create a fleet write's timer");
	tv.tv_sec = w->wait_ms / 1000;
	tv.tv_usec = (w->wait_ms % 1000) * 1000;
	evtimer_add(w->timer, &tv);
	fleetd_write_observed(w, false);
}

void
fleetd_write_observe(void)
{
	struct fleetd_write	*w, *next;

	for (w = fleetd_writes; w != NULL; w = next) {
		next = w->next;
		if (w->observe_rev > 0)
			fleetd_write_observed(w, false);
	}
}

/*
 * The txn: the key as read and, for a stage's value, which carries every
 * flag's, no flag's key changed since the read (each one's mod_revision
 * at most the revision read; none there holds too); then the new value.
 * A flag's value is made from that flag alone: its own key is enough, and
 * comparing the others would make writes of different flags conflict.
 */
static void
fleetd_write_txn(struct fleetd_write *w, int64_t modrev, const char *value)
{
	json_t		*txn = etcd_req_txn();
	struct etcd_buf	 end;

	etcd_txn_compare(txn, w->key, ETCD_TARGET_MOD, ETCD_CMP_EQUAL, modrev);
	if (w->op != FLAGS_OP_SET && w->op != FLAGS_OP_RESET) {
		w->flags = fleet_key_flag(fleetd->prefix, "");
		etcd_prefix_end(w->flags, &end);
		etcd_txn_compare_range(txn, w->flags, &end, ETCD_TARGET_MOD,
		    ETCD_CMP_LESS, w->read_rev + 1);
		etcd_buf_free(&end);
	}
	etcd_txn_op(txn, true, ETCD_OP_PUT, etcd_req_put(w->key, value,
	    strlen(value), 0));
	etcd_txn_op(txn, false, ETCD_OP_RANGE, etcd_req_range(w->key, NULL, 0,
	    0));
	w->req = etcdc_call(fleetd->cli, "/v3/kv/txn", txn, fleetd_write_txn_cb,
	    w);
	json_decref(txn);
}

static void
fleetd_write_range_cb(void *arg, int status, json_t *answer, const char *error)
{
	struct fleetd_write	*w = arg;
	struct etcd_range	 r;
	char			 err[FLEET_ERR_MAX], *value;
	enum flagsvc_err	 e;
	int64_t			 change;

	(void)status;
	w->req = NULL;
	if (error != NULL || etcd_parse_range(answer, &r, err) == -1) {
		fleetd_write_end(w, FLAGSVC_UNAVAILABLE, NULL, "cannot read "
		    "%s: %s", fleetd->desired, error != NULL ? error : err);
		return;
	}
	change = fleetd_write_change_rev(&r);
	w->read_rev = r.revision;
	if (fleetd->revision < change)
		fleetd_write_end(w, FLAGSVC_CONFLICT, NULL, "this host has not "
		    "applied revision %lld yet (it has %lld): try again once it "
		    "has", (long long)change, (long long)fleetd->revision);
	else if ((e = fleetd_write_value(w, &value, err, sizeof(err))) !=
	    FLAGSVC_OK)
		fleetd_write_end(w, e, NULL, "%s", err);
	else {
		fleetd_write_txn(w, fleetd_write_modrev(&r, w->key), value);
		free(value);
	}
	etcd_range_free(&r);
}

enum flagsvc_err
fleetd_write(enum flags_op op, const json_t *params, uid_t uid, pid_t pid,
    int64_t wait_ms, fleetd_write_fn *done, void *arg,
    struct fleetd_write **out, char *err, size_t errlen)
{
	struct fleetd_write	*w;

	*out = NULL;
	if (fleetd == NULL) {
		snprintf(err, errlen, "this warden is not a fleet member (no "
		    "\"fleet\" in its configuration)");
		return FLAGSVC_CONFLICT;
	}
	w = xcalloc(1, sizeof(*w));
	w->op = op;
	w->params = params != NULL ? json_deep_copy(params) : json_object();
	w->uid = uid;
	w->pid = pid;
	w->wait_ms = wait_ms;
	w->done = done;
	w->arg = arg;
	w->next = fleetd_writes;
	fleetd_writes = w;
	w->req = fleetd_range_of(fleetd->desired, 0, fleetd_write_range_cb, w);
	*out = w;
	return FLAGSVC_OK;
}

void
fleetd_write_forget(struct fleetd_write *w)
{
	w->done = NULL;
}

void
fleetd_write_abort_all(const char *why)
{
	struct fleetd_write	*w;

	while ((w = fleetd_writes) != NULL) {
		if (w->req != NULL)
			etcdc_cancel(w->req);
		fleetd_write_end(w, FLAGSVC_UNAVAILABLE, NULL, "%s: %s (the "
		    "write may or may not be made: see fleet.status)",
		    w->key != NULL ? w->key : fleetd != NULL ? fleetd->prefix :
		    "fleet", why);
	}
}
