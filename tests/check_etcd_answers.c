/*
 * check_etcd_answers.c: etcd's gateway answers read (src/core/
 * etcd-parse.c), as etcd 3.4 writes them: ranges, puts, deletes, txns
 * that passed and failed, watch results (created, events PUT and DELETE,
 * canceled for a compacted revision), leases, and the gateway's errors in
 * both forms; each field broken in each way, with the error naming it.
 * Then thousands of random buffers, and random mutations of real answers,
 * through the splitter and every parser: an error, never a crash (the
 * sanitizer build runs this suite too).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

/* --- answers, as etcd 3.4 writes them ------------------------------------------ */

#define HDR	"'header': {'cluster_id': '15118495548433857066', " \
		"'member_id': '13668033151171901709', 'revision': '%s', " \
		"'raft_term': '2'}"

static json_t *
codec_fmt(const char *fmt, const char *a)
{
	char	*t;
	json_t	*j;

	xasprintf(&t, fmt, a);
	j = js(t);
	free(t);
	return j;
}

START_TEST(test_parse_range)
{
	json_t			*j = codec_fmt("{" HDR ", 'kvs': [{'key': 'Zm9v', "
				    "'create_revision': '2', 'mod_revision': '5', "
				    "'version': '3', 'value': 'YmFy', 'lease': '99'}, "
				    "{'key': 'Zm9w', 'create_revision': '6', "
				    "'mod_revision': '6', 'version': '1'}], "
				    "'count': '2', 'more': true}", "6");
	struct etcd_range	 r;
	char			 err[ETCD_ERR_MAX];

	ck_assert_int_eq(etcd_parse_range(j, &r, err), 0);
	ck_assert_int_eq(r.revision, 6);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_int_eq(r.count, 2);
	ck_assert(r.more);
	ck_assert_str_eq(r.kvs[0].key.p, "foo");
	ck_assert_str_eq(r.kvs[0].value.p, "bar");
	ck_assert_int_eq(r.kvs[0].create_revision, 2);
	ck_assert_int_eq(r.kvs[0].mod_revision, 5);
	ck_assert_int_eq(r.kvs[0].version, 3);
	ck_assert_int_eq(r.kvs[0].lease, 99);
	/* An empty value is left out. */
	ck_assert_str_eq(r.kvs[1].key.p, "fop");
	ck_assert_uint_eq(r.kvs[1].value.len, 0);
	ck_assert_int_eq(r.kvs[1].lease, 0);
	etcd_range_free(&r);
	json_decref(j);
	/* Nothing found: no kvs, no count. */
	j = codec_fmt("{" HDR "}", "2");
	ck_assert_int_eq(etcd_parse_range(j, &r, err), 0);
	ck_assert_int_eq(r.revision, 2);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_int_eq(r.count, 0);
	ck_assert(!r.more);
	etcd_range_free(&r);
	json_decref(j);
}
END_TEST

/* Each answer broken in one place, and the error naming it. */
static const struct { const char *json, *err; } range_bad[] = {
	{ "[]", "range: not a JSON object" },
	{ "{'header': []}", "header: not an object" },
	{ "{'header': {'revision': 6}}", "header.revision: not an int64" },
	{ "{'header': {'revision': '-6'}}", "header.revision: not an int64" },
	{ "{'header': {'revision': '99999999999999999999'}}",
	  "header.revision: not an int64" },
	{ "{'header': {'revision': '9223372036854775807'}}",
	  "header.revision: 9223372036854775807 leaves no revision after it" },
	{ "{'kvs': [{'key': 'Zg==', 'mod_revision': '9223372036854775807'}]}",
	  "kvs[0].mod_revision: 9223372036854775807 leaves no revision" },
	{ "{'kvs': {}}", "kvs: not an array" },
	{ "{'kvs': [1]}", "kvs[0]: not an object" },
	{ "{'kvs': [{}]}", "kvs[0].key: missing" },
	{ "{'kvs': [{'key': 'Zg=='}, {'key': 'Zg'}]}", "kvs[1].key: not base64" },
	{ "{'kvs': [{'key': 'Zg==', 'value': 3}]}", "kvs[0].value: not base64" },
	{ "{'kvs': [{'key': 'Zg==', 'mod_revision': '1x'}]}",
	  "kvs[0].mod_revision: not an int64" },
	{ "{'kvs': [{'key': 'Zg==', 'version': null}]}",
	  "kvs[0].version: not an int64" },
	{ "{'kvs': [{'key': 'Zg==', 'lease': '01'}]}",
	  "kvs[0].lease: not an int64" },
	{ "{'count': 1}", "count: not an int64" },
	{ "{'more': 'true'}", "more: not a boolean" },
	{ "{'error': 'etcdserver: mvcc: required revision has been compacted', "
	  "'code': 11, 'message': 'etcdserver: mvcc: required revision has been "
	  "compacted'}", "etcd error 11: etcdserver: mvcc: required revision" },
	{ "{'error': {'grpc_code': 14, 'http_code': 503, 'message': 'down', "
	  "'http_status': 'Service Unavailable'}}", "etcd error 14: down" },
	{ "{'error': 3}", "etcd error -1: (no message)" },
};

START_TEST(test_parse_range_bad)
{
	json_t			*j = js(range_bad[_i].json);
	struct etcd_range	 r;
	char			 err[ETCD_ERR_MAX] = "";

	memset(&r, 0x5a, sizeof(r));
	ck_assert_int_eq(etcd_parse_range(j, &r, err), -1);
	ck_assert_msg(strstr(err, range_bad[_i].err) != NULL, "%s: got \"%s\"",
	    range_bad[_i].json, err);
	json_decref(j);
}
END_TEST

START_TEST(test_parse_txn)
{
	json_t		*j = codec_fmt("{" HDR ", 'succeeded': true, 'responses': ["
			    "{'response_put': {'header': {'revision': '8'}}},"
			    "{'response_delete_range': {'header': {'revision': '8'}, "
			    "'deleted': '2'}},"
			    "{'response_range': {'header': {'revision': '8'}, 'kvs': "
			    "[{'key': 'aw==', 'mod_revision': '8', 'value': 'dg=='}], "
			    "'count': '1'}}]}", "8");
	struct etcd_txn	 t;
	char		 err[ETCD_ERR_MAX];

	ck_assert_int_eq(etcd_parse_txn(j, &t, err), 0);
	ck_assert(t.succeeded);
	ck_assert_int_eq(t.revision, 8);
	ck_assert_uint_eq(t.n, 3);
	ck_assert_int_eq(t.resp[0].kind, ETCD_OP_PUT);
	ck_assert_int_eq(t.resp[0].revision, 8);
	ck_assert_int_eq(t.resp[1].kind, ETCD_OP_DELETE);
	ck_assert_int_eq(t.resp[1].deleted, 2);
	ck_assert_int_eq(t.resp[2].kind, ETCD_OP_RANGE);
	ck_assert_uint_eq(t.resp[2].range.n, 1);
	ck_assert_str_eq(t.resp[2].range.kvs[0].value.p, "v");
	etcd_txn_free(&t);
	json_decref(j);
	/* A compare that failed: no "succeeded". */
	j = codec_fmt("{" HDR ", 'responses': [{'response_range': "
	    "{'header': {'revision': '2'}}}]}", "2");
	ck_assert_int_eq(etcd_parse_txn(j, &t, err), 0);
	ck_assert(!t.succeeded);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_uint_eq(t.resp[0].range.n, 0);
	etcd_txn_free(&t);
	json_decref(j);
}
END_TEST

static const struct { const char *json, *err; } txn_bad[] = {
	{ "{'succeeded': 1}", "succeeded: not a boolean" },
	{ "{'responses': 1}", "responses: not an array" },
	{ "{'responses': [[]]}", "responses[0]: not an object" },
	{ "{'responses': [{}]}", "responses[0]: expected one object" },
	{ "{'responses': [{'response_put': {}, 'response_range': {}}]}",
	  "responses[0]: expected one object" },
	{ "{'responses': [{'response_put': 1}]}", "responses[0]: expected one" },
	{ "{'responses': [{'response_put': {}}, {'response_delete_range': "
	  "{'deleted': 2}}]}", "responses[1].response_delete_range.deleted: not" },
	{ "{'responses': [{'response_range': {'kvs': [{'key': '%'}]}}]}",
	  "responses[0].response_range.kvs[0].key: not base64" },
};

START_TEST(test_parse_txn_bad)
{
	json_t		*j = js(txn_bad[_i].json);
	struct etcd_txn	 t;
	char		 err[ETCD_ERR_MAX] = "";

	ck_assert_int_eq(etcd_parse_txn(j, &t, err), -1);
	ck_assert_msg(strstr(err, txn_bad[_i].err) != NULL, "%s: got \"%s\"",
	    txn_bad[_i].json, err);
	json_decref(j);
}
END_TEST

START_TEST(test_parse_header_delete)
{
	json_t	*j = codec_fmt("{" HDR ", 'deleted': '1'}", "3");
	int64_t	 rev, deleted;
	char	 err[ETCD_ERR_MAX];

	ck_assert_int_eq(etcd_parse_header(j, &rev, err), 0);
	ck_assert_int_eq(rev, 3);
	ck_assert_int_eq(etcd_parse_delete(j, &rev, &deleted, err), 0);
	ck_assert_int_eq(deleted, 1);
	json_decref(j);
	j = js("{'header': {'revision': '3'}, 'deleted': 'one'}");
	ck_assert_int_eq(etcd_parse_delete(j, &rev, &deleted, err), -1);
	ck_assert_str_eq(err, "deleted: not an int64 string of digits");
	json_decref(j);
	j = js("{'header': 'h'}");
	ck_assert_int_eq(etcd_parse_header(j, &rev, err), -1);
	ck_assert_str_eq(err, "header: not an object");
	json_decref(j);
}
END_TEST

START_TEST(test_parse_watch)
{
	json_t			*j = codec_fmt("{'result': {" HDR ", 'created': true}}",
				    "3");
	struct etcd_watch	 w;
	char			 err[ETCD_ERR_MAX];

	ck_assert_int_eq(etcd_parse_watch(j, &w, err), 0);
	ck_assert(w.created);
	ck_assert(!w.canceled);
	ck_assert_int_eq(w.revision, 3);
	ck_assert_uint_eq(w.n, 0);
	etcd_watch_free(&w);
	json_decref(j);
	j = codec_fmt("{'result': {" HDR ", 'watch_id': '1', 'events': ["
	    "{'kv': {'key': 'Zm9v', 'create_revision': '2', 'mod_revision': '2', "
	    "'version': '1', 'value': 'YmFy'}},"
	    "{'type': 'DELETE', 'kv': {'key': 'Zm9v', 'mod_revision': '3'}}]}}",
	    "3");
	ck_assert_int_eq(etcd_parse_watch(j, &w, err), 0);
	ck_assert_int_eq(w.watch_id, 1);
	ck_assert_uint_eq(w.n, 2);
	ck_assert_int_eq(w.events[0].type, ETCD_EVENT_PUT);
	ck_assert_str_eq(w.events[0].kv.value.p, "bar");
	ck_assert_int_eq(w.events[1].type, ETCD_EVENT_DELETE);
	ck_assert_int_eq(w.events[1].kv.mod_revision, 3);
	ck_assert_str_eq(w.events[1].kv.key.p, "foo");
	etcd_watch_free(&w);
	json_decref(j);
	/* A start revision compacted: no revision in the header. */
	j = js("{'result': {'header': {'cluster_id': '1', 'raft_term': '2'}, "
	    "'canceled': true, 'compact_revision': '3', "
	    "'cancel_reason': 'mvcc: required revision has been compacted'}}");
	ck_assert_int_eq(etcd_parse_watch(j, &w, err), 0);
	ck_assert(w.canceled);
	ck_assert_int_eq(w.revision, 0);
	ck_assert_int_eq(w.compact_revision, 3);
	ck_assert_str_eq(w.cancel_reason,
	    "mvcc: required revision has been compacted");
	etcd_watch_free(&w);
	json_decref(j);
	/* A watch etcd would not create: watch_id -1, and the reason why. */
	j = codec_fmt("{'result': {" HDR ", 'watch_id': '-1', 'created': true, "
	    "'canceled': true, 'cancel_reason': 'etcdserver: permission "
	    "denied'}}", "4");
	ck_assert_msg(etcd_parse_watch(j, &w, err) == 0, "%s", err);
	ck_assert(w.canceled);
	ck_assert_int_eq(w.watch_id, -1);
	ck_assert_str_eq(w.cancel_reason, "etcdserver: permission denied");
	etcd_watch_free(&w);
	json_decref(j);
}
END_TEST

static const struct { const char *json, *err; } watch_bad[] = {
	{ "{}", "result: missing" },
	{ "{'result': 1}", "result: not an object" },
	{ "{'result': {'created': 'yes'}}", "result.created: not a boolean" },
	{ "{'result': {'canceled': 0}}", "result.canceled: not a boolean" },
	{ "{'result': {'compact_revision': 3}}", "result.compact_revision: not" },
	{ "{'result': {'watch_id': '-2'}}", "result.watch_id: not" },
	{ "{'result': {'watch_id': '-01'}}", "result.watch_id: not" },
	{ "{'result': {'cancel_reason': 5}}", "result.cancel_reason: not a" },
	{ "{'result': {'events': {}}}", "result.events: not an array" },
	{ "{'result': {'events': [3]}}", "result.events[0]: not an object" },
	{ "{'result': {'events': [{'kv': 3}]}}",
	  "result.events[0].kv: not an object" },
	{ "{'result': {'events': [{'type': 'PATCH', 'kv': {'key': ''}}]}}",
	  "result.events[0].type: expected PUT or DELETE" },
	{ "{'result': {'events': [{'type': 1, 'kv': {'key': ''}}]}}",
	  "result.events[0].type: expected PUT or DELETE" },
	{ "{'result': {'events': [{'type': 'DELETE'}]}}",
	  "result.events[0].kv: missing" },
	{ "{'result': {'events': [{'kv': {'key': '', 'value': '***'}}]}}",
	  "result.events[0].kv.value: not base64" },
	{ "{'result': {'header': {'revision': ''}}}",
	  "result.header.revision: not" },
	{ "{'result': {'header': {'revision': '9223372036854775807'}}}",
	  "result.header.revision: 9223372036854775807 leaves no revision" },
	{ "{'result': {'events': [{'kv': {'key': '', 'mod_revision': "
	  "'9223372036854775807'}}]}}",
	  "result.events[0].kv.mod_revision: 9223372036854775807 leaves" },
	{ "{'error': {'grpc_code': 14, 'http_code': 503, 'message': "
	  "'transport is closing'}}", "etcd error 14: transport is closing" },
	{ "{'result': {'error': 'lost', 'code': 2}}", "etcd error 2: lost" },
};

START_TEST(test_parse_watch_bad)
{
	json_t			*j = js(watch_bad[_i].json);
	struct etcd_watch	 w;
	char			 err[ETCD_ERR_MAX] = "";

	ck_assert_int_eq(etcd_parse_watch(j, &w, err), -1);
	ck_assert_msg(strstr(err, watch_bad[_i].err) != NULL, "%s: got \"%s\"",
	    watch_bad[_i].json, err);
	json_decref(j);
}
END_TEST

START_TEST(test_parse_lease)
{
	json_t			*j = codec_fmt("{" HDR ", 'ID': '4111120499456005897', "
				    "'TTL': '5'}", "2");
	struct etcd_lease	 l;
	char			 err[ETCD_ERR_MAX];

	ck_assert_int_eq(etcd_parse_lease(j, &l, err), 0);
	ck_assert_int_eq(l.id, 4111120499456005897LL);
	ck_assert_int_eq(l.ttl, 5);
	json_decref(j);
	/* keepalive's answer, under "result"; no TTL: the lease is gone. */
	j = codec_fmt("{'result': {" HDR ", 'ID': '1'}}", "3");
	ck_assert_int_eq(etcd_parse_lease(j, &l, err), 0);
	ck_assert_int_eq(l.id, 1);
	ck_assert_int_eq(l.ttl, 0);
	ck_assert_int_eq(l.revision, 3);
	json_decref(j);
	j = js("{'TTL': '5'}");
	ck_assert_int_eq(etcd_parse_lease(j, &l, err), -1);
	ck_assert_str_eq(err, "ID: missing");
	json_decref(j);
	j = js("{'result': {'ID': '1', 'TTL': 5}}");
	ck_assert_int_eq(etcd_parse_lease(j, &l, err), -1);
	ck_assert_str_eq(err, "result.TTL: not an int64 string of digits");
	json_decref(j);
	j = js("{'ID': '0', 'TTL': '5', 'error': 'etcdserver: too many "
	    "leases'}");
	ck_assert_int_eq(etcd_parse_lease(j, &l, err), -1);
	ck_assert_str_eq(err, "etcd error -1: etcdserver: too many leases");
	json_decref(j);
}
END_TEST

/* --- random input -------------------------------------------------------------- */

/* Every parser over j: each either fills (freed here) or fails with a message. */
static void
codec_parse_all(const json_t *j)
{
	struct etcd_range	r;
	struct etcd_txn		t;
	struct etcd_watch	w;
	struct etcd_lease	l;
	struct etcd_error	e;
	int64_t			a, b;
	char			err[ETCD_ERR_MAX];

	err[0] = '\0';
	if (etcd_parse_range(j, &r, err) == 0)
		etcd_range_free(&r);
	else
		ck_assert(err[0] != '\0');
	if (etcd_parse_txn(j, &t, err) == 0)
		etcd_txn_free(&t);
	if (etcd_parse_watch(j, &w, err) == 0)
		etcd_watch_free(&w);
	(void)etcd_parse_lease(j, &l, err);
	(void)etcd_parse_header(j, &a, err);
	(void)etcd_parse_delete(j, &a, &b, err);
	(void)etcd_error_parse(j, &e);
}

static const char *const fuzz_seeds[] = {
	"{'header': {'revision': '6'}, 'kvs': [{'key': 'Zm9v', 'mod_revision': "
	"'5', 'value': 'YmFy'}], 'count': '1', 'more': false}",
	"{'header': {'revision': '8'}, 'succeeded': true, 'responses': "
	"[{'response_put': {'header': {'revision': '8'}}}, {'response_range': "
	"{'kvs': [{'key': 'aw==', 'value': 'dg=='}]}}]}",
	"{'result': {'header': {'revision': '3'}, 'events': [{'kv': {'key': "
	"'Zm9v', 'value': 'YmFy'}}, {'type': 'DELETE', 'kv': {'key': 'Zm9v'}}]}}",
	"{'result': {'canceled': true, 'compact_revision': '3'}}",
	"{'ID': '77', 'TTL': '5', 'header': {'revision': '1'}}",
	"{'error': {'grpc_code': 14, 'message': 'x'}}",
};

/* Random bytes: through the splitter, and as JSON through every parser. */
START_TEST(test_fuzz_random)
{
	static const char	 alphabet[] = "{}[]\":,\\ \n0123456789-tfnrue"
				    "abcdAZ=+/\xff";
	struct etcd_split	 s;
	char			 buf[512];
	json_t			*o;
	size_t			 i, len;
	unsigned		 seed = 12345;
	int			 n;

	for (n = 0; n < 5000; n++) {
		len = (size_t)rand_r(&seed) % sizeof(buf);
		for (i = 0; i < len; i++)
			buf[i] = (n & 1) != 0 ? (char)rand_r(&seed) :
			    alphabet[(size_t)rand_r(&seed) % (sizeof(alphabet) - 1)];
		etcd_split_init(&s, 256);
		for (i = 0; i < len; i += 7) {
			if (etcd_split_feed(&s, buf + i, len - i < 7 ? len - i :
			    7) == -1)
				break;
			while (etcd_split_next(&s, &o) == 1) {
				codec_parse_all(o);
				json_decref(o);
			}
		}
		etcd_split_free(&s);
		if ((o = json_loadb(buf, len, 0, NULL)) != NULL) {
			codec_parse_all(o);
			json_decref(o);
		}
	}
}
END_TEST

/* Real answers with one byte changed, or cut, many times over. */
START_TEST(test_fuzz_mutations)
{
	static const char	 swap[] = "\"{}[]:,0aZ=-\\ ";
	unsigned		 seed = 777;
	size_t			 k, at, len;
	json_t			*seedj, *o;
	char			*text;
	int			 n;

	for (k = 0; k < nitems(fuzz_seeds); k++) {
		seedj = js(fuzz_seeds[k]);
		codec_parse_all(seedj);
		text = json_dumps(seedj, JSON_COMPACT);
		len = strlen(text);
		for (n = 0; n < 1000; n++) {
			char	*m = xstrdup(text);

			at = (size_t)rand_r(&seed) % len;
			m[at] = swap[(size_t)rand_r(&seed) % (sizeof(swap) - 1)];
			if ((o = json_loadb(m, (n % 5) == 0 ? at : len, 0,
			    NULL)) != NULL) {
				codec_parse_all(o);
				json_decref(o);
			}
			free(m);
		}
		free(text);
		json_decref(seedj);
	}
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("etcd_answers");
	TCase	*tc = tcase_create("answers");

	tcase_add_test(tc, test_parse_range);
	tcase_add_loop_test(tc, test_parse_range_bad, 0, nitems(range_bad));
	tcase_add_test(tc, test_parse_txn);
	tcase_add_loop_test(tc, test_parse_txn_bad, 0, nitems(txn_bad));
	tcase_add_test(tc, test_parse_header_delete);
	tcase_add_test(tc, test_parse_watch);
	tcase_add_loop_test(tc, test_parse_watch_bad, 0, nitems(watch_bad));
	tcase_add_test(tc, test_parse_lease);
	tcase_add_test(tc, test_fuzz_random);
	tcase_add_test(tc, test_fuzz_mutations);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
