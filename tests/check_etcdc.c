/*
 * check_etcdc.c: the gateway client (src/daemon/etcdc.c) against a real
 * etcd (etcdtest.h), driven by a libevent loop in the test: puts, ranges,
 * txns that pass and fail their compare, a lease kept alive and revoked,
 * watches that see every change in revision order (bursts of large
 * values, so that objects span chunks), a watch from a compacted
 * revision, etcd killed under a watch (the loop keeps turning) and
 * restarted, and endpoint fail-over. A fake server in the test (evhttp
 * on the same loop) answers HTTP 500, garbage, a body over the bound, a
 * truncated body, or nothing: each ends in the callback with a clear
 * message within the timeout.
 *
 * Every wait runs the loop until the callback that proves the event has
 * come; ETCDC_TEST_WAIT only bounds a failure.
 */
#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "etcd.h"
#include "etcdc.h"
#include "etcdtest.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

#define ETCDC_TEST_WAIT		20000	/* failure bound of a wait, ms */
#define ETCDC_TEST_TIMEOUT	2000	/* the client's request timeout, ms */
#define ETCDC_TEST_PING_MS	10	/* the loop's heartbeat in the test */

/* --- the loop ------------------------------------------------------------------ */

static struct event_base	*tb;
static uint64_t			 ping_last, ping_gap_max;
static int			 ping_count;

static void
ping_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t	now = util_now_ms();

	(void)fd;
	(void)what;
	(void)arg;
	if (ping_last != 0 && now - ping_last > ping_gap_max)
		ping_gap_max = now - ping_last;
	ping_last = now;
	ping_count++;
}

static void
bound_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

/* Turn the loop until *flag, failing the test past the bound. */
static void
run_until(const bool *flag, const char *what)
{
	struct timeval	 tv = { ETCDC_TEST_WAIT / 1000, 0 };
	bool		 late = false;
	struct event	*bound = evtimer_new(tb, bound_cb, &late);

	evtimer_add(bound, &tv);
	while (!*flag && !late)
		ck_assert_int_ne(event_base_loop(tb, EVLOOP_ONCE), -1);
	event_free(bound);
	ck_assert_msg(*flag, "no %s within %d ms", what, ETCDC_TEST_WAIT);
}

/* --- calls --------------------------------------------------------------------- */

struct answer {
	bool	 done;
	int	 status;
	json_t	*j;
	char	*err;
};

static void
answer_cb(void *arg, int status, json_t *j, const char *err)
{
	struct answer	*a = arg;

	ck_assert(!a->done);
	a->done = true;
	a->status = status;
	a->j = json_incref(j);
	a->err = err != NULL ? xstrdup(err) : NULL;
}

static void
answer_free(struct answer *a)
{
	json_decref(a->j);
	free(a->err);
	memset(a, 0, sizeof(*a));
}

/* One call to its end: the answer (free it). body stolen. */
static struct answer
call(struct etcdc *c, const char *path, json_t *body)
{
	struct answer	a;

	memset(&a, 0, sizeof(a));
	ck_assert_ptr_nonnull(body);
	ck_assert_ptr_nonnull(etcdc_call(c, path, body, answer_cb, &a));
	json_decref(body);
	ck_assert(!a.done);		/* never from inside etcdc_call() */
	run_until(&a.done, path);
	return a;
}

/* A call that must succeed: its answer object (new reference). */
static json_t *
call_ok(struct etcdc *c, const char *path, json_t *body)
{
	struct answer	a = call(c, path, body);
	json_t		*j;

	ck_assert_msg(a.err == NULL, "%s: %s", path, a.err);
	ck_assert_int_eq(a.status, 200);
	j = json_incref(a.j);
	answer_free(&a);
	return j;
}

static int64_t
put(struct etcdc *c, const char *key, const char *value, int64_t lease)
{
	json_t	*j = call_ok(c, "/v3/kv/put", etcd_req_put(key, value,
		    strlen(value), lease));
	int64_t	 rev;
	char	 err[ETCD_ERR_MAX];

	ck_assert_msg(etcd_parse_header(j, &rev, err) == 0, "%s", err);
	json_decref(j);
	return rev;
}

/* The range over key (end NULL: the key alone). */
static struct etcd_range
range(struct etcdc *c, const char *key, const struct etcd_buf *end)
{
	json_t			*j = call_ok(c, "/v3/kv/range",
				    etcd_req_range(key, end, 0, 0));
	struct etcd_range	 r;
	char			 err[ETCD_ERR_MAX];

	ck_assert_msg(etcd_parse_range(j, &r, err) == 0, "%s", err);
	json_decref(j);
	return r;
}

static struct etcdc *
client_of(const char *const *urls, size_t n)
{
	char		 err[ETCD_ERR_MAX];
	struct etcdc	*c = etcdc_new(tb, urls, n, ETCDC_TEST_TIMEOUT, err);

	ck_assert_msg(c != NULL, "%s", err);
	return c;
}

static struct etcdc *
client(const struct etcdtest *e)
{
	const char	*url = e->url;

	return client_of(&url, 1);
}

static void
setup(void)
{
	struct timeval	 tv = { 0, ETCDC_TEST_PING_MS * 1000 };
	struct event	*ping;

	ck_assert_ptr_nonnull(tb = event_base_new());
	ck_assert_ptr_nonnull(ping = event_new(tb, -1, EV_PERSIST, ping_cb, NULL));
	ck_assert_int_eq(event_add(ping, &tv), 0);
	ping_last = ping_gap_max = 0;
	ping_count = 0;
}

/* --- watches ------------------------------------------------------------------- */

struct watcher {
	struct etcdc_req	*r;
	json_t			*objects;	/* every object, in order */
	size_t			 events;	/* events seen in them */
	int64_t			 last_rev;	/* the last event's mod_revision */
	bool			 created, ended;
	size_t			 want;		/* set done when events reach it */
	bool			 done;
	enum etcdc_end		 end;
	char			*err;
};

static void
watcher_event(void *arg, json_t *o)
{
	struct watcher		*w = arg;
	struct etcd_watch	 pw;
	char			 err[ETCD_ERR_MAX];
	size_t			 i;

	ck_assert(!w->ended);
	ck_assert_msg(etcd_parse_watch(o, &pw, err) == 0, "%s", err);
	json_array_append(w->objects, o);
	w->created = w->created || pw.created;
	for (i = 0; i < pw.n; i++) {
		/* In revision order (a txn's puts share its revision). */
		ck_assert_int_ge(pw.events[i].kv.mod_revision, w->last_rev);
		w->last_rev = pw.events[i].kv.mod_revision;
		w->events++;
	}
	if (w->want > 0 && w->events >= w->want)
		w->done = true;
	etcd_watch_free(&pw);
}

static void
watcher_end(void *arg, enum etcdc_end end, const char *err)
{
	struct watcher	*w = arg;

	ck_assert(!w->ended);
	w->ended = true;
	w->end = end;
	w->err = err != NULL ? xstrdup(err) : NULL;
	w->r = NULL;
}

static void
watch_start(struct etcdc *c, struct watcher *w, const char *prefix,
    int64_t from)
{
	struct etcd_buf	 end;
	json_t		*body;

	memset(w, 0, sizeof(*w));
	w->objects = json_array();
	etcd_prefix_end(prefix, &end);
	body = etcd_req_watch(prefix, &end, from);
	w->r = etcdc_watch(c, body, watcher_event, watcher_end, w);
	ck_assert_ptr_nonnull(w->r);
	json_decref(body);
	etcd_buf_free(&end);
}

static void
watch_free(struct watcher *w)
{
	if (w->r != NULL)
		etcdc_cancel(w->r);
	json_decref(w->objects);
	free(w->err);
}

/* --- against etcd -------------------------------------------------------------- */

START_TEST(test_put_range)
{
	struct etcdtest		 e;
	struct etcdc		*c;
	struct etcd_range	 r;
	struct etcd_buf		 end;
	int64_t			 rev1, rev2;

	etcdtest_start(&e);
	setup();
	c = client(&e);
	rev1 = put(c, "/w/flags/a", "{\"value\": true}", 0);
	rev2 = put(c, "/w/flags/b", "", 0);
	ck_assert_int_eq(rev2, rev1 + 1);
	r = range(c, "/w/flags/a", NULL);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.kvs[0].key.p, "/w/flags/a");
	ck_assert_str_eq(r.kvs[0].value.p, "{\"value\": true}");
	ck_assert_int_eq(r.kvs[0].mod_revision, rev1);
	ck_assert_int_eq(r.revision, rev2);
	etcd_range_free(&r);
	etcd_prefix_end("/w/", &end);
	r = range(c, "/w/", &end);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_str_eq(r.kvs[1].key.p, "/w/flags/b");
	ck_assert_uint_eq(r.kvs[1].value.len, 0);
	etcd_range_free(&r);
	etcd_buf_free(&end);
	r = range(c, "/w/none", NULL);
	ck_assert_uint_eq(r.n, 0);
	etcd_range_free(&r);
	ck_assert_int_eq(etcdc_unreachable_since(c), 0);
	ck_assert_str_eq(etcdc_endpoint(c), e.url);
	etcdc_free(c);
	etcdtest_cleanup(&e);
}
END_TEST

/* A txn that checks the revision it read: the first passes, a stale one fails. */
START_TEST(test_txn)
{
	struct etcdtest	 e;
	struct etcdc	*c;
	struct etcd_txn	 t;
	json_t		*txn, *j;
	char		 err[ETCD_ERR_MAX];
	int64_t		 rev;
	int		 k;

	etcdtest_start(&e);
	setup();
	c = client(&e);
	rev = put(c, "/w/stage", "1", 0);
	for (k = 0; k < 2; k++) {
		txn = etcd_req_txn();
		ck_assert_int_eq(etcd_txn_compare(txn, "/w/stage", ETCD_TARGET_MOD,
		    ETCD_CMP_EQUAL, rev), 0);
		ck_assert_int_eq(etcd_txn_op(txn, true, ETCD_OP_PUT,
		    etcd_req_put("/w/stage", "2", 1, 0)), 0);
		ck_assert_int_eq(etcd_txn_op(txn, false, ETCD_OP_RANGE,
		    etcd_req_range("/w/stage", NULL, 0, 0)), 0);
		j = call_ok(c, "/v3/kv/txn", txn);
		ck_assert_msg(etcd_parse_txn(j, &t, err) == 0, "%s", err);
		ck_assert_uint_eq(t.n, 1);
		if (k == 0) {
			ck_assert(t.succeeded);
			ck_assert_int_eq(t.resp[0].kind, ETCD_OP_PUT);
			ck_assert_int_eq(t.revision, rev + 1);
		} else {
			/* The conflict, with the value now there. */
			ck_assert(!t.succeeded);
			ck_assert_int_eq(t.resp[0].kind, ETCD_OP_RANGE);
			ck_assert_str_eq(t.resp[0].range.kvs[0].value.p, "2");
			ck_assert_int_eq(t.resp[0].range.kvs[0].mod_revision,
			    rev + 1);
		}
		etcd_txn_free(&t);
		json_decref(j);
	}
	/* A key that must not exist yet: version 0. */
	txn = etcd_req_txn();
	ck_assert_int_eq(etcd_txn_compare(txn, "/w/new", ETCD_TARGET_VERSION,
	    ETCD_CMP_EQUAL, 0), 0);
	ck_assert_int_eq(etcd_txn_op(txn, true, ETCD_OP_PUT,
	    etcd_req_put("/w/new", "x", 1, 0)), 0);
	j = call_ok(c, "/v3/kv/txn", txn);
	ck_assert_int_eq(etcd_parse_txn(j, &t, err), 0);
	ck_assert(t.succeeded);
	etcd_txn_free(&t);
	json_decref(j);
	etcdc_free(c);
	etcdtest_cleanup(&e);
}
END_TEST

START_TEST(test_lease)
{
	struct etcdtest		 e;
	struct etcdc		*c;
	struct etcd_lease	 l, k;
	struct etcd_range	 r;
	struct watcher		 w;
	json_t			*j;
	char			 err[ETCD_ERR_MAX];

	etcdtest_start(&e);
	setup();
	c = client(&e);
	j = call_ok(c, "/v3/lease/grant", etcd_req_lease_grant(10, 0));
	ck_assert_msg(etcd_parse_lease(j, &l, err) == 0, "%s", err);
	ck_assert_int_eq(l.ttl, 10);
	json_decref(j);
	put(c, "/w/hosts/a", "{}", l.id);
	j = call_ok(c, "/v3/lease/keepalive", etcd_req_lease_keepalive(l.id));
	ck_assert_msg(etcd_parse_lease(j, &k, err) == 0, "%s", err);
	ck_assert_int_eq(k.id, l.id);
	ck_assert_int_eq(k.ttl, 10);
	json_decref(j);
	r = range(c, "/w/hosts/a", NULL);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_int_eq(r.kvs[0].lease, l.id);
	etcd_range_free(&r);
	/* Revoked: the key goes with it, as a DELETE the watch sees. */
	watch_start(c, &w, "/w/hosts/", 0);
	w.want = 1;
	run_until(&w.created, "the watch created");
	j = call_ok(c, "/v3/lease/revoke", etcd_req_lease_revoke(l.id));
	json_decref(j);
	run_until(&w.done, "the lease's key deleted");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_object_get(json_array_get(w.objects,
	    json_array_size(w.objects) - 1), "result"), "events"), 0), "type")),
	    "DELETE");
	r = range(c, "/w/hosts/a", NULL);
	ck_assert_uint_eq(r.n, 0);
	etcd_range_free(&r);
	/* A keepalive of a lease gone: no TTL. */
	j = call_ok(c, "/v3/lease/keepalive", etcd_req_lease_keepalive(l.id));
	ck_assert_int_eq(etcd_parse_lease(j, &k, err), 0);
	ck_assert_int_eq(k.ttl, 0);
	json_decref(j);
	watch_free(&w);
	etcdc_free(c);
	etcdtest_cleanup(&e);
}
END_TEST

#define BURST_TXNS	8
#define BURST_OPS	125	/* etcd's default --max-txn-ops is 128 */
#define BURST_VALUE	1500

/* Puts and a delete, then a thousand large puts in a few txns at once. */
START_TEST(test_watch_order)
{
	struct etcdtest		 e;
	struct etcdc		*c;
	struct watcher		 w;
	struct answer		 a[BURST_TXNS];
	struct etcd_watch	 pw;
	json_t			*txn;
	char			*value, key[64], err[ETCD_ERR_MAX];
	size_t			 i, k, n;

	etcdtest_start(&e);
	setup();
	c = client(&e);
	watch_start(c, &w, "/w/", 0);
	run_until(&w.created, "the watch created");
	w.want = 3;
	put(c, "/w/a", "1", 0);
	put(c, "/w/b", "2", 0);
	put(c, "/x/outside", "3", 0);
	json_decref(call_ok(c, "/v3/kv/deleterange", etcd_req_delete("/w/a",
	    NULL)));
	run_until(&w.done, "three events");
	ck_assert_uint_eq(w.events, 3);
	n = json_array_size(w.objects);
	ck_assert_int_eq(etcd_parse_watch(json_array_get(w.objects, n - 1), &pw,
	    err), 0);
	ck_assert_int_eq(pw.events[pw.n - 1].type, ETCD_EVENT_DELETE);
	ck_assert_str_eq(pw.events[pw.n - 1].kv.key.p, "/w/a");
	etcd_watch_free(&pw);

	value = xmalloc(BURST_VALUE + 1);
	memset(value, 'v', BURST_VALUE);
	value[BURST_VALUE] = '\0';
	memset(a, 0, sizeof(a));
	w.done = false;
	w.want = 3 + BURST_TXNS * BURST_OPS;
	for (k = 0; k < BURST_TXNS; k++) {
		txn = etcd_req_txn();
		for (i = 0; i < BURST_OPS; i++) {
			snprintf(key, sizeof(key), "/w/burst/%04zu",
			    k * BURST_OPS + i);
			ck_assert_int_eq(etcd_txn_op(txn, true, ETCD_OP_PUT,
			    etcd_req_put(key, value, BURST_VALUE, 0)), 0);
		}
		ck_assert_ptr_nonnull(etcdc_call(c, "/v3/kv/txn", txn,
		    answer_cb, &a[k]));
		json_decref(txn);
	}
	run_until(&w.done, "a thousand events");
	ck_assert_uint_eq(w.events, 3 + BURST_TXNS * BURST_OPS);
	for (k = 0; k < BURST_TXNS; k++) {
		run_until(&a[k].done, "a txn's answer");
		ck_assert_msg(a[k].err == NULL, "%s", a[k].err);
		answer_free(&a[k]);
	}
	free(value);
	watch_free(&w);
	etcdc_free(c);
	etcdtest_cleanup(&e);
}
END_TEST

/* A watch from a compacted revision: canceled, with compact_revision. */
START_TEST(test_watch_compacted)
{
	struct etcdtest		 e;
	struct etcdc		*c;
	struct watcher		 w;
	struct etcd_watch	 pw;
	json_t			*last;
	char			 err[ETCD_ERR_MAX];
	int64_t			 rev;

	etcdtest_start(&e);
	setup();
	c = client(&e);
	put(c, "/w/a", "1", 0);
	put(c, "/w/a", "2", 0);
	rev = put(c, "/w/a", "3", 0);
	json_decref(call_ok(c, "/v3/kv/compaction", etcd_req_compact(rev)));
	watch_start(c, &w, "/w/", rev - 1);
	run_until(&w.ended, "the watch's end");
	ck_assert_int_eq(w.end, ETCDC_END_CANCELED);
	ck_assert_ptr_null(w.err);
	last = json_array_get(w.objects, json_array_size(w.objects) - 1);
	ck_assert_int_eq(etcd_parse_watch(last, &pw, err), 0);
	ck_assert(pw.canceled);
	ck_assert_int_eq(pw.compact_revision, rev);
	etcd_watch_free(&pw);
	/* From the compaction on, it works. */
	watch_free(&w);
	watch_start(c, &w, "/w/", rev);
	w.want = 1;
	run_until(&w.done, "the event at the compacted revision");
	ck_assert_int_eq(w.last_rev, rev);
	watch_free(&w);
	etcdc_free(c);
	etcdtest_cleanup(&e);
}
END_TEST

/*
 * etcd stopped (it never answers), then killed under a watch: a call
 * times out and the watch ends, while the loop keeps turning; once etcd
 * is back, a new call succeeds.
 */
START_TEST(test_etcd_killed)
{
	struct etcdtest	 e;
	struct etcdc	*c;
	struct watcher	 w;
	struct answer	 a;
	int		 pings;
	uint64_t	 t0;

	etcdtest_start(&e);
	setup();
	c = client(&e);
	watch_start(c, &w, "/w/", 0);
	run_until(&w.created, "the watch created");
	ck_assert_int_eq(kill(e.pid, SIGSTOP), 0);
	pings = ping_count;
	ping_gap_max = 0;
	t0 = util_now_ms();
	a = call(c, "/v3/kv/range", etcd_req_range("/w/", NULL, 0, 0));
	ck_assert_msg(a.err != NULL && strstr(a.err, "no answer within 2000 ms")
	    != NULL, "%s", a.err);
	ck_assert_uint_lt(util_now_ms() - t0, ETCDC_TEST_TIMEOUT + 1000);
	answer_free(&a);
	/* The loop turned all along: its heartbeat every 10 ms. */
	ck_assert_int_gt(ping_count - pings, ETCDC_TEST_TIMEOUT / 4 /
	    ETCDC_TEST_PING_MS);
	ck_assert_msg(ping_gap_max < 500, "the loop stalled %" PRIu64 " ms",
	    ping_gap_max);
	ck_assert_int_gt(etcdc_unreachable_since(c), 0);
	ck_assert_int_le(etcdc_unreachable_since(c), util_wall_ms());
	ck_assert_int_eq(kill(e.pid, SIGCONT), 0);
	etcdtest_kill(&e);
	run_until(&w.ended, "the watch's end");
	ck_assert_int_eq(w.end, ETCDC_END_ERROR);
	ck_assert_msg(strstr(w.err, e.url) != NULL, "%s", w.err);
	/* A call while etcd is down fails at once, naming the endpoint. */
	a = call(c, "/v3/kv/range", etcd_req_range("/w/", NULL, 0, 0));
	ck_assert_ptr_nonnull(a.err);
	ck_assert_msg(strncmp(a.err, "etcd at http://127.0.0.1:", 25) == 0 &&
	    strstr(a.err, "could not connect") != NULL, "%s", a.err);
	ck_assert_int_eq(a.status, 0);
	answer_free(&a);
	watch_free(&w);
	etcdtest_restart(&e);
	put(c, "/w/back", "1", 0);
	ck_assert_int_eq(etcdc_unreachable_since(c), 0);
	etcdc_free(c);
	etcdtest_cleanup(&e);
}
END_TEST

/* The first endpoint refuses: the next request goes to the second. */
START_TEST(test_failover)
{
	struct etcdtest	 e;
	struct etcdc	*c;
	struct answer	 a;
	char		 closed[64];
	const char	*urls[2];

	etcdtest_start(&e);
	setup();
	snprintf(closed, sizeof(closed), "http://127.0.0.1:%d", free_port());
	urls[0] = closed;
	urls[1] = e.url;
	c = client_of(urls, 2);
	ck_assert_str_eq(etcdc_endpoint(c), closed);
	a = call(c, "/v3/kv/range", etcd_req_range("/w/", NULL, 0, 0));
	ck_assert_ptr_nonnull(a.err);
	ck_assert_msg(strstr(a.err, closed) != NULL, "%s", a.err);
	ck_assert_str_eq(etcdc_last_error(c), a.err);
	answer_free(&a);
	ck_assert_int_gt(etcdc_unreachable_since(c), 0);
	ck_assert_str_eq(etcdc_endpoint(c), e.url);
	put(c, "/w/a", "1", 0);
	ck_assert_int_eq(etcdc_unreachable_since(c), 0);
	ck_assert_str_eq(etcdc_endpoint(c), e.url);
	etcdc_free(c);
	etcdtest_cleanup(&e);
}
END_TEST

START_TEST(test_bad_endpoints)
{
	const char	*https = "https://127.0.0.1:2379", *name = "http://etcd:2379";
	char		 err[ETCD_ERR_MAX];

	setup();
	ck_assert_ptr_null(etcdc_new(tb, &https, 1, 1000, err));
	ck_assert_msg(strstr(err, "https is not supported") != NULL, "%s", err);
	ck_assert_ptr_null(etcdc_new(tb, &name, 1, 1000, err));
	ck_assert_msg(strstr(err, "etcd endpoint \"http://etcd:2379\"") != NULL,
	    "%s", err);
	ck_assert_ptr_null(etcdc_new(tb, &https, 0, 1000, err));
	ck_assert_str_eq(err, "etcd: no endpoint");
}
END_TEST

/* --- a fake server ------------------------------------------------------------- */

enum fake_mode {
	FAKE_500,		/* HTTP 500 with an HTML page */
	FAKE_GARBAGE,		/* 200, not JSON */
	FAKE_ARRAY,		/* 200, JSON but not an object */
	FAKE_BIG,		/* 200, a body over the bound */
	FAKE_TRUNCATED,		/* Content-Length longer than what comes */
	FAKE_NEVER,		/* no answer at all */
	FAKE_GATEWAY_ERROR,	/* 400 with the gateway's error object */
	FAKE_STREAM_GARBAGE,	/* a watch stream: one object, then garbage */
	FAKE_STREAM_ERROR,	/* a watch stream: the gateway's stream error */
	FAKE_STREAM_BIG,	/* a watch stream past the bound */
};

static const struct {
	enum fake_mode	 mode;
	const char	*want;		/* in the error */
	int		 status;
} fakes[] = {
	{ FAKE_500, "HTTP 500: \"<html><body>Internal", 500 },
	{ FAKE_GARBAGE, "the answer is not a JSON object", 200 },
	{ FAKE_ARRAY, "the answer is not a JSON object (another JSON value)", 200 },
	{ FAKE_BIG, "an answer over the size bound", 0 },
	{ FAKE_TRUNCATED, "the connection closed before a whole answer", 0 },
	{ FAKE_NEVER, "no answer within 2000 ms", 0 },
	{ FAKE_GATEWAY_ERROR, "HTTP 400, etcd error 3: unexpected EOF", 400 },
};

static enum fake_mode		 fake_mode;
static struct evhttp_request	*fake_held;

static void
fake_drop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	evhttp_connection_free(evhttp_request_get_connection(fake_held));
	fake_held = NULL;
}

/* Not from inside evhttp's callback: on the next turn. */
static void
fake_sent_cb(struct evhttp_connection *conn, void *arg)
{
	static const struct timeval	zero = { 0, 0 };

	(void)conn;
	(void)arg;
	ck_assert_int_eq(event_base_once(tb, -1, EV_TIMEOUT, fake_drop_cb, NULL,
	    &zero), 0);
}

static void
fake_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*b = evbuffer_new();
	size_t		 i;

	(void)arg;
	switch (fake_mode) {
	case FAKE_500:
		evbuffer_add_printf(b, "<html><body>Internal Server Error"
		    "</body></html>");
		evhttp_send_reply(req, 500, "Internal Server Error", b);
		break;
	case FAKE_GARBAGE:
		evbuffer_add_printf(b, "{\"header\": \x01\x02 garbage");
		evhttp_send_reply(req, 200, "OK", b);
		break;
	case FAKE_ARRAY:
		evbuffer_add_printf(b, "[1, 2]");
		evhttp_send_reply(req, 200, "OK", b);
		break;
	case FAKE_BIG:
		for (i = 0; i < 4096; i++)
			evbuffer_add_printf(b, "{\"pad\": \"%0240d\"}\n", 0);
		evhttp_send_reply(req, 200, "OK", b);
		break;
	case FAKE_TRUNCATED:
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Length", "1000");
		evhttp_send_reply_start(req, 200, "OK");
		evbuffer_add_printf(b, "{\"header\": {\"revision\": ");
		/* Once written, the connection is dropped, the answer unfinished. */
		evhttp_send_reply_chunk_with_cb(req, b, fake_sent_cb, NULL);
		fake_held = req;
		break;
	case FAKE_NEVER:
		fake_held = req;
		break;
	case FAKE_GATEWAY_ERROR:
		evbuffer_add_printf(b, "{\"error\":\"unexpected EOF\","
		    "\"message\":\"unexpected EOF\",\"code\":3}");
		evhttp_send_reply(req, 400, "Bad Request", b);
		break;
	case FAKE_STREAM_BIG:
		evhttp_send_reply_start(req, 200, "OK");
		for (i = 0; i < 1024; i++)
			evbuffer_add_printf(b, "{\"result\": {\"pad\": "
			    "\"%0240d\"}}\n", 0);
		evhttp_send_reply_chunk(req, b);
		fake_held = req;
		break;
	case FAKE_STREAM_GARBAGE:
	case FAKE_STREAM_ERROR:
		evhttp_send_reply_start(req, 200, "OK");
		evbuffer_add_printf(b, "{\"result\":{\"header\":{\"revision\":"
		    "\"1\"},\"created\":true}}\n{\"result\":");
		evhttp_send_reply_chunk(req, b);
		if (fake_mode == FAKE_STREAM_GARBAGE)
			evbuffer_add_printf(b, "{\"x\": nope}}\n");
		else
			evbuffer_add_printf(b, "{}}\n{\"error\":{\"grpc_code\":14,"
			    "\"http_code\":503,\"message\":\"transport is "
			    "closing\",\"http_status\":\"Service Unavailable\"}}\n");
		evhttp_send_reply_chunk(req, b);
		fake_held = req;
		break;
	}
	evbuffer_free(b);
}

/* The fake server on a free port: its URL in url. */
static struct evhttp *
fake_start(char url[64])
{
	struct evhttp	*http = evhttp_new(tb);
	int		 port = free_port();

	ck_assert_ptr_nonnull(http);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_POST);
	evhttp_set_gencb(http, fake_cb, NULL);
	ck_assert_int_eq(evhttp_bind_socket(http, "127.0.0.1",
	    (unsigned short)port), 0);
	snprintf(url, 64, "http://127.0.0.1:%d", port);
	fake_held = NULL;
	return http;
}

START_TEST(test_fake_answers)
{
	struct evhttp	*http;
	struct etcdc	*c;
	struct answer	 a;
	char		 url[64];
	const char	*u = url;
	uint64_t	 t0;

	setup();
	fake_mode = fakes[_i].mode;
	http = fake_start(url);
	c = client_of(&u, 1);
	etcdc_set_body_max(c, 64 * 1024);
	t0 = util_now_ms();
	a = call(c, "/v3/kv/range", etcd_req_range("/w/", NULL, 0, 0));
	ck_assert_msg(util_now_ms() - t0 < ETCDC_TEST_TIMEOUT + 1000,
	    "the end came after %" PRIu64 " ms", util_now_ms() - t0);
	ck_assert_ptr_nonnull(a.err);
	ck_assert_msg(strncmp(a.err, "etcd at ", 8) == 0 &&
	    strstr(a.err, url) != NULL && strstr(a.err, fakes[_i].want) != NULL,
	    "got \"%s\", want \"%s\"", a.err, fakes[_i].want);
	ck_assert_int_eq(a.status, fakes[_i].status);
	if (fakes[_i].mode == FAKE_GATEWAY_ERROR)
		ck_assert_ptr_nonnull(json_object_get(a.j, "code"));
	answer_free(&a);
	/* 5xx and no answer make the fleet unreachable; etcd's 400 does not. */
	if (fakes[_i].status >= 500 || fakes[_i].status == 0)
		ck_assert_int_gt(etcdc_unreachable_since(c), 0);
	else
		ck_assert_int_eq(etcdc_unreachable_since(c), 0);
	etcdc_free(c);
	evhttp_free(http);
}
END_TEST

static const struct {
	enum fake_mode	 mode;
	const char	*want;
	bool		 created;
} fake_watches[] = {
	{ FAKE_500, "watch: HTTP 500", false },
	{ FAKE_NEVER, "no answer within 2000 ms (watch not created)", false },
	{ FAKE_STREAM_GARBAGE, "watch stream: bad JSON", true },
	{ FAKE_STREAM_ERROR, "watch: etcd error 14: transport is closing", true },
	{ FAKE_STREAM_BIG, "an answer over the size bound", false },
};

START_TEST(test_fake_watch)
{
	struct evhttp	*http;
	struct etcdc	*c;
	struct watcher	 w;
	char		 url[64];
	const char	*u = url;

	setup();
	fake_mode = fake_watches[_i].mode;
	http = fake_start(url);
	c = client_of(&u, 1);
	etcdc_set_body_max(c, 64 * 1024);
	watch_start(c, &w, "/w/", 0);
	run_until(&w.ended, "the watch's end");
	ck_assert_int_eq(w.end, ETCDC_END_ERROR);
	ck_assert_msg(strstr(w.err, fake_watches[_i].want) != NULL,
	    "got \"%s\", want \"%s\"", w.err, fake_watches[_i].want);
	ck_assert_int_eq(w.created, fake_watches[_i].created);
	watch_free(&w);
	etcdc_free(c);
	evhttp_free(http);
}
END_TEST

/* A request canceled gets no callback, even from inside its own. */
static void
cancel_in_event(void *arg, json_t *o)
{
	struct watcher	*w = arg;

	(void)o;
	ck_assert(!w->created);
	w->created = true;
	etcdc_cancel(w->r);
	w->r = NULL;
}

START_TEST(test_cancel)
{
	struct etcdtest	 e;
	struct etcdc	*c;
	struct answer	 a;
	struct watcher	 w, seen;
	struct etcd_buf	 end;
	struct etcdc_req *r;
	json_t		*body;

	etcdtest_start(&e);
	setup();
	c = client(&e);
	memset(&a, 0, sizeof(a));
	body = etcd_req_range("/w/", NULL, 0, 0);
	r = etcdc_call(c, "/v3/kv/range", body, answer_cb, &a);
	etcdc_cancel(r);
	memset(&w, 0, sizeof(w));
	etcd_prefix_end("/w/", &end);
	json_decref(body);
	body = etcd_req_watch("/w/", &end, 0);
	w.r = etcdc_watch(c, body, cancel_in_event, watcher_end, &w);
	json_decref(body);
	etcd_buf_free(&end);
	run_until(&w.created, "the watch's first object");
	/*
	 * A put after, seen by another watch, and a call after that: no
	 * event and no end came to the canceled ones.
	 */
	watch_start(c, &seen, "/w/", 0);
	seen.want = 1;
	run_until(&seen.created, "the other watch created");
	put(c, "/w/a", "1", 0);
	run_until(&seen.done, "the put seen");
	put(c, "/w/b", "1", 0);
	ck_assert(!a.done);
	ck_assert(!w.ended);
	watch_free(&seen);
	etcdc_free(c);
	etcdtest_cleanup(&e);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("etcdc");
	TCase	*tc = tcase_create("etcd");
	TCase	*fake = tcase_create("fake");

	tcase_add_test(tc, test_put_range);
	tcase_add_test(tc, test_txn);
	tcase_add_test(tc, test_lease);
	tcase_add_test(tc, test_watch_order);
	tcase_add_test(tc, test_watch_compacted);
	tcase_add_test(tc, test_etcd_killed);
	tcase_add_test(tc, test_failover);
	tcase_add_test(tc, test_cancel);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	tcase_add_test(fake, test_bad_endpoints);
	tcase_add_loop_test(fake, test_fake_answers, 0, nitems(fakes));
	tcase_add_loop_test(fake, test_fake_watch, 0, nitems(fake_watches));
	tcase_set_timeout(fake, 30);
	suite_add_tcase(s, fake);
	return s;
}

SUITE_MAIN(make_suite)
