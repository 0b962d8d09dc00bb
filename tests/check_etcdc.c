/*
 * check_etcdc.c: the gateway client (src/daemon/etcdc.c) against a real
 * etcd (etcdtest.h), driven by a libevent loop in the test (etcdloop.h):
 * puts, ranges, txns that pass and fail their compare, a lease kept alive
 * and revoked, watches that see every change in revision order (a burst
 * of a thousand large values in a few txns), a watch from a compacted
 * revision, etcd stopped (a call times out) and killed under a watch
 * while the loop keeps turning, then restarted, endpoint fail-over, and
 * requests canceled. check_etcdc_fake.c has the answers etcd never gives.
 *
 * Every wait runs the loop until the callback that proves the event has
 * come; ETCDLOOP_WAIT only bounds a failure.
 */
#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcdloop.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

START_TEST(test_put_range)
{
	struct etcdtest		 e;
	struct etcdc		*c;
	struct etcd_range	 r;
	struct etcd_buf		 end;
	int64_t			 rev1, rev2;

	etcdtest_start(&e);
	etcdloop_setup();
	c = etcdloop_client(&e);
	rev1 = etcdloop_put(c, "/w/flags/a", "{\"value\": true}", 0);
	rev2 = etcdloop_put(c, "/w/flags/b", "", 0);
	ck_assert_int_eq(rev2, rev1 + 1);
	r = etcdloop_range(c, "/w/flags/a", NULL);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.kvs[0].key.p, "/w/flags/a");
	ck_assert_str_eq(r.kvs[0].value.p, "{\"value\": true}");
	ck_assert_int_eq(r.kvs[0].mod_revision, rev1);
	ck_assert_int_eq(r.revision, rev2);
	etcd_range_free(&r);
	etcd_prefix_end("/w/", &end);
	r = etcdloop_range(c, "/w/", &end);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_str_eq(r.kvs[1].key.p, "/w/flags/b");
	ck_assert_uint_eq(r.kvs[1].value.len, 0);
	etcd_range_free(&r);
	etcd_buf_free(&end);
	r = etcdloop_range(c, "/w/none", NULL);
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
	etcdloop_setup();
	c = etcdloop_client(&e);
	rev = etcdloop_put(c, "/w/stage", "1", 0);
	for (k = 0; k < 2; k++) {
		txn = etcd_req_txn();
		ck_assert_int_eq(etcd_txn_compare(txn, "/w/stage", ETCD_TARGET_MOD,
		    ETCD_CMP_EQUAL, rev), 0);
		ck_assert_int_eq(etcd_txn_op(txn, true, ETCD_OP_PUT,
		    etcd_req_put("/w/stage", "2", 1, 0)), 0);
		ck_assert_int_eq(etcd_txn_op(txn, false, ETCD_OP_RANGE,
		    etcd_req_range("/w/stage", NULL, 0, 0)), 0);
		j = etcdloop_call_ok(c, "/v3/kv/txn", txn);
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
	j = etcdloop_call_ok(c, "/v3/kv/txn", txn);
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
	struct etcdloop_watcher		 w;
	json_t			*j;
	char			 err[ETCD_ERR_MAX];

	etcdtest_start(&e);
	etcdloop_setup();
	c = etcdloop_client(&e);
	j = etcdloop_call_ok(c, "/v3/lease/grant", etcd_req_lease_grant(10, 0));
	ck_assert_msg(etcd_parse_lease(j, &l, err) == 0, "%s", err);
	ck_assert_int_eq(l.ttl, 10);
	json_decref(j);
	etcdloop_put(c, "/w/hosts/a", "{}", l.id);
	j = etcdloop_call_ok(c, "/v3/lease/keepalive", etcd_req_lease_keepalive(l.id));
	ck_assert_msg(etcd_parse_lease(j, &k, err) == 0, "%s", err);
	ck_assert_int_eq(k.id, l.id);
	ck_assert_int_eq(k.ttl, 10);
	json_decref(j);
	r = etcdloop_range(c, "/w/hosts/a", NULL);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_int_eq(r.kvs[0].lease, l.id);
	etcd_range_free(&r);
	/* Revoked: the key goes with it, as a DELETE the watch sees. */
	etcdloop_watch_start(c, &w, "/w/hosts/", 0);
	w.want = 1;
	etcdloop_run_until(&w.created, "the watch created");
	j = etcdloop_call_ok(c, "/v3/lease/revoke", etcd_req_lease_revoke(l.id));
	json_decref(j);
	etcdloop_run_until(&w.done, "the lease's key deleted");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_object_get(json_array_get(w.objects,
	    json_array_size(w.objects) - 1), "result"), "events"), 0), "type")),
	    "DELETE");
	r = etcdloop_range(c, "/w/hosts/a", NULL);
	ck_assert_uint_eq(r.n, 0);
	etcd_range_free(&r);
	/* A keepalive of a lease gone: no TTL. */
	j = etcdloop_call_ok(c, "/v3/lease/keepalive", etcd_req_lease_keepalive(l.id));
	ck_assert_int_eq(etcd_parse_lease(j, &k, err), 0);
	ck_assert_int_eq(k.ttl, 0);
	json_decref(j);
	etcdloop_watch_free(&w);
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
	struct etcdloop_watcher		 w;
	struct etcdloop_answer		 a[BURST_TXNS];
	struct etcd_watch	 pw;
	json_t			*txn;
	char			*value, key[64], err[ETCD_ERR_MAX];
	size_t			 i, k, n;

	etcdtest_start(&e);
	etcdloop_setup();
	c = etcdloop_client(&e);
	etcdloop_watch_start(c, &w, "/w/", 0);
	etcdloop_run_until(&w.created, "the watch created");
	w.want = 3;
	etcdloop_put(c, "/w/a", "1", 0);
	etcdloop_put(c, "/w/b", "2", 0);
	etcdloop_put(c, "/x/outside", "3", 0);
	json_decref(etcdloop_call_ok(c, "/v3/kv/deleterange", etcd_req_delete("/w/a",
	    NULL)));
	etcdloop_run_until(&w.done, "three events");
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
		    etcdloop_answer_cb, &a[k]));
		json_decref(txn);
	}
	etcdloop_run_until(&w.done, "a thousand events");
	ck_assert_uint_eq(w.events, 3 + BURST_TXNS * BURST_OPS);
	for (k = 0; k < BURST_TXNS; k++) {
		etcdloop_run_until(&a[k].done, "a txn's answer");
		ck_assert_msg(a[k].err == NULL, "%s", a[k].err);
		etcdloop_answer_free(&a[k]);
	}
	free(value);
	etcdloop_watch_free(&w);
	etcdc_free(c);
	etcdtest_cleanup(&e);
}
END_TEST

/* A watch from a compacted revision: canceled, with compact_revision. */
START_TEST(test_watch_compacted)
{
	struct etcdtest		 e;
	struct etcdc		*c;
	struct etcdloop_watcher		 w;
	struct etcd_watch	 pw;
	json_t			*last;
	char			 err[ETCD_ERR_MAX];
	int64_t			 rev;

	etcdtest_start(&e);
	etcdloop_setup();
	c = etcdloop_client(&e);
	etcdloop_put(c, "/w/a", "1", 0);
	etcdloop_put(c, "/w/a", "2", 0);
	rev = etcdloop_put(c, "/w/a", "3", 0);
	json_decref(etcdloop_call_ok(c, "/v3/kv/compaction", etcd_req_compact(rev)));
	etcdloop_watch_start(c, &w, "/w/", rev - 1);
	etcdloop_run_until(&w.ended, "the watch's end");
	ck_assert_int_eq(w.end, ETCDC_END_CANCELED);
	ck_assert_ptr_null(w.err);
	last = json_array_get(w.objects, json_array_size(w.objects) - 1);
	ck_assert_int_eq(etcd_parse_watch(last, &pw, err), 0);
	ck_assert(pw.canceled);
	ck_assert_int_eq(pw.compact_revision, rev);
	etcd_watch_free(&pw);
	/* From the compaction on, it works. */
	etcdloop_watch_free(&w);
	etcdloop_watch_start(c, &w, "/w/", rev);
	w.want = 1;
	etcdloop_run_until(&w.done, "the event at the compacted revision");
	ck_assert_int_eq(w.last_rev, rev);
	etcdloop_watch_free(&w);
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
	struct etcdloop_watcher	 w;
	struct etcdloop_answer	 a;
	int		 pings;
	uint64_t	 t0;

	etcdtest_start(&e);
	etcdloop_setup();
	c = etcdloop_client(&e);
	etcdloop_watch_start(c, &w, "/w/", 0);
	etcdloop_run_until(&w.created, "the watch created");
	ck_assert_int_eq(kill(e.pid, SIGSTOP), 0);
	pings = etcdloop_pings;
	etcdloop_gap_max = 0;
	t0 = util_now_ms();
	a = etcdloop_call(c, "/v3/kv/range", etcd_req_range("/w/", NULL, 0, 0));
	ck_assert_msg(a.err != NULL && strstr(a.err, "no answer within 2000 ms")
	    != NULL, "%s", a.err);
	ck_assert_uint_lt(util_now_ms() - t0, ETCDLOOP_TIMEOUT + 1000);
	etcdloop_answer_free(&a);
	/* The loop turned all along: its heartbeat every 10 ms. */
	ck_assert_int_gt(etcdloop_pings - pings, ETCDLOOP_TIMEOUT / 4 /
	    ETCDLOOP_PING_MS);
	ck_assert_msg(etcdloop_gap_max < 500, "the loop stalled %" PRIu64 " ms",
	    etcdloop_gap_max);
	ck_assert_int_gt(etcdc_unreachable_since(c), 0);
	ck_assert_int_le(etcdc_unreachable_since(c), util_wall_ms());
	ck_assert_int_eq(kill(e.pid, SIGCONT), 0);
	etcdtest_kill(&e);
	etcdloop_run_until(&w.ended, "the watch's end");
	ck_assert_int_eq(w.end, ETCDC_END_ERROR);
	ck_assert_msg(strstr(w.err, e.url) != NULL, "%s", w.err);
	/* A call while etcd is down fails at once, naming the endpoint. */
	a = etcdloop_call(c, "/v3/kv/range", etcd_req_range("/w/", NULL, 0, 0));
	ck_assert_ptr_nonnull(a.err);
	ck_assert_msg(strncmp(a.err, "etcd at http://127.0.0.1:", 25) == 0 &&
	    strstr(a.err, "could not connect") != NULL, "%s", a.err);
	ck_assert_int_eq(a.status, 0);
	etcdloop_answer_free(&a);
	etcdloop_watch_free(&w);
	etcdtest_restart(&e);
	etcdloop_put(c, "/w/back", "1", 0);
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
	struct etcdloop_answer	 a;
	char		 closed[64];
	const char	*urls[2];

	etcdtest_start(&e);
	etcdloop_setup();
	snprintf(closed, sizeof(closed), "http://127.0.0.1:%d", free_port());
	urls[0] = closed;
	urls[1] = e.url;
	c = etcdloop_client_of(urls, 2);
	ck_assert_str_eq(etcdc_endpoint(c), closed);
	a = etcdloop_call(c, "/v3/kv/range", etcd_req_range("/w/", NULL, 0, 0));
	ck_assert_ptr_nonnull(a.err);
	ck_assert_msg(strstr(a.err, closed) != NULL, "%s", a.err);
	ck_assert_str_eq(etcdc_last_error(c), a.err);
	etcdloop_answer_free(&a);
	ck_assert_int_gt(etcdc_unreachable_since(c), 0);
	ck_assert_str_eq(etcdc_endpoint(c), e.url);
	etcdloop_put(c, "/w/a", "1", 0);
	ck_assert_int_eq(etcdc_unreachable_since(c), 0);
	ck_assert_str_eq(etcdc_endpoint(c), e.url);
	etcdc_free(c);
	etcdtest_cleanup(&e);
}
END_TEST
static void
cancel_in_event(void *arg, json_t *o)
{
	struct etcdloop_watcher	*w = arg;

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
	struct etcdloop_answer	 a;
	struct etcdloop_watcher	 w, seen;
	struct etcd_buf	 end;
	struct etcdc_req *r;
	json_t		*body;

	etcdtest_start(&e);
	etcdloop_setup();
	c = etcdloop_client(&e);
	memset(&a, 0, sizeof(a));
	body = etcd_req_range("/w/", NULL, 0, 0);
	r = etcdc_call(c, "/v3/kv/range", body, etcdloop_answer_cb, &a);
	etcdc_cancel(r);
	memset(&w, 0, sizeof(w));
	etcd_prefix_end("/w/", &end);
	json_decref(body);
	body = etcd_req_watch("/w/", &end, 0);
	w.r = etcdc_watch(c, body, cancel_in_event, etcdloop_watcher_end, &w);
	json_decref(body);
	etcd_buf_free(&end);
	etcdloop_run_until(&w.created, "the watch's first object");
	/*
	 * A put after, seen by another watch, and a call after that: no
	 * event and no end came to the canceled ones.
	 */
	etcdloop_watch_start(c, &seen, "/w/", 0);
	seen.want = 1;
	etcdloop_run_until(&seen.created, "the other watch created");
	etcdloop_put(c, "/w/a", "1", 0);
	etcdloop_run_until(&seen.done, "the put seen");
	etcdloop_put(c, "/w/b", "1", 0);
	ck_assert(!a.done);
	ck_assert(!w.ended);
	etcdloop_watch_free(&seen);
	etcdc_free(c);
	etcdtest_cleanup(&e);
}
END_TEST
static Suite *
make_suite(void)
{
	Suite	*s = suite_create("etcdc");
	TCase	*tc = tcase_create("etcd");

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
	return s;
}

SUITE_MAIN(make_suite)
