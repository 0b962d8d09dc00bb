/*
 * check_etcd_codec.c: etcd's v3 JSON gateway as data (src/core/etcd*.c):
 * base64 both ways and its non-canonical spellings refused, int64
 * strings, a prefix's range_end, endpoints, every request body, every
 * answer read (as etcd 3.4 writes them) and garbage of every kind in
 * each field, and the watch stream cut at every byte. Then thousands of
 * random buffers, and random mutations of real answers, through every
 * parser and the splitter: an error, never a crash (the sanitizer build
 * runs this suite too).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "suite.h"
#include "util.h"

/* JSON written with ' for ", decoded; the test fails on bad JSON. */
static json_t *
codec_js(const char *text)
{
	char		*t = xstrdup(text), *p;
	json_error_t	 jerr;
	json_t		*j;

	for (p = t; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	j = json_loads(t, 0, &jerr);
	ck_assert_msg(j != NULL, "bad JSON in the test: %s: %s", jerr.text, t);
	free(t);
	return j;
}

/* j is equal to the JSON text. */
static void
codec_expect(json_t *j, const char *text)
{
	json_t	*want = codec_js(text);
	char	*got = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);

	ck_assert_msg(json_equal(j, want), "got %s", got);
	free(got);
	json_decref(want);
	json_decref(j);
}

/* --- base64 ------------------------------------------------------------------- */

static const struct { const char *plain, *b64; } b64_cases[] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" }, { "/warden/stage", "L3dhcmRlbi9zdGFnZQ==" },
	{ "\xff\xfe?>", "//4/Pg==" },
};

START_TEST(test_b64_roundtrip)
{
	struct etcd_buf	 b;
	char		*enc = etcd_b64_encode(b64_cases[_i].plain,
			    strlen(b64_cases[_i].plain));

	ck_assert_str_eq(enc, b64_cases[_i].b64);
	ck_assert_int_eq(etcd_b64_decode(enc, strlen(enc), &b), 0);
	ck_assert_uint_eq(b.len, strlen(b64_cases[_i].plain));
	ck_assert_mem_eq(b.p, b64_cases[_i].plain, b.len);
	ck_assert_int_eq(b.p[b.len], '\0');
	etcd_buf_free(&b);
	free(enc);
}
END_TEST

/* Every byte value, and the NUL among them kept by length. */
START_TEST(test_b64_bytes)
{
	unsigned char	 all[256];
	struct etcd_buf	 b;
	char		*enc;
	int		 i;

	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	enc = etcd_b64_encode(all, sizeof(all));
	ck_assert_int_eq(etcd_b64_decode(enc, strlen(enc), &b), 0);
	ck_assert_uint_eq(b.len, 256);
	ck_assert_mem_eq(b.p, all, 256);
	etcd_buf_free(&b);
	free(enc);
}
END_TEST

static const char *const b64_bad[] = {
	"Z", "Zg", "Zg=", "Zm9", "Zg===", "====", "Z===", "Zh==", "Zm9=",
	"Zm8=Zm8=", "Zm 9v", "Zm9v\n", "Zm-v", "Zm_v", "Zm9v=", "=Zm9",
	"Zg=a", "Zm9\xc3\xa9",
};

START_TEST(test_b64_bad)
{
	struct etcd_buf	b = { NULL, 0 };

	ck_assert_msg(etcd_b64_decode(b64_bad[_i], strlen(b64_bad[_i]), &b) == -1,
	    "\"%s\" was taken", b64_bad[_i]);
	ck_assert_ptr_null(b.p);
}
END_TEST

/* --- numbers and names -------------------------------------------------------- */

START_TEST(test_int64)
{
	static const char *const bad[] = { "", "-1", "+1", "01", "1.0", "1e3",
		" 1", "1 ", "9223372036854775808", "99999999999999999999",
		"0x10", "١" };
	int64_t		v;
	size_t		i;

	ck_assert_int_eq(etcd_int64_parse("0", &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(etcd_int64_parse("4111120499456005897", &v), 0);
	ck_assert_int_eq(v, 4111120499456005897LL);
	ck_assert_int_eq(etcd_int64_parse("9223372036854775807", &v), 0);
	ck_assert_int_eq(v, INT64_MAX);
	for (i = 0; i < nitems(bad); i++)
		ck_assert_msg(etcd_int64_parse(bad[i], &v) == -1, "\"%s\"", bad[i]);
}
END_TEST

START_TEST(test_prefix_end)
{
	struct etcd_buf	b;

	etcd_prefix_end("/warden/", &b);
	ck_assert_uint_eq(b.len, 8);
	ck_assert_str_eq(b.p, "/warden0");
	etcd_buf_free(&b);
	etcd_prefix_end("a\xff\xff", &b);
	ck_assert_uint_eq(b.len, 1);
	ck_assert_str_eq(b.p, "b");
	etcd_buf_free(&b);
	/* Nothing above: every key from the start on, "\0". */
	etcd_prefix_end("\xff", &b);
	ck_assert_uint_eq(b.len, 1);
	ck_assert_int_eq(b.p[0], '\0');
	etcd_buf_free(&b);
	etcd_prefix_end("", &b);
	ck_assert_uint_eq(b.len, 1);
	ck_assert_int_eq(b.p[0], '\0');
	etcd_buf_free(&b);
}
END_TEST

START_TEST(test_endpoints)
{
	static const char *const bad[] = { "127.0.0.1:2379", "http://", 
		"http://127.0.0.1", "http://127.0.0.1:0", "http://127.0.0.1:65536",
		"http://etcd.example:2379", "http://127.0.0.1:2379/v3",
		"ftp://127.0.0.1:2379", "http://::1:2379", "" };
	char	host[ETCD_HOST_MAX], err[ETCD_ERR_MAX];
	int	port;
	size_t	i;

	ck_assert_int_eq(etcd_endpoint_parse("http://127.0.0.1:2379", host,
	    &port, err), 0);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_int_eq(port, 2379);
	ck_assert_int_eq(etcd_endpoint_parse("http://localhost:23/", host,
	    &port, err), 0);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_int_eq(etcd_endpoint_parse("http://[::1]:2379", host, &port,
	    err), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(etcd_endpoint_parse("https://127.0.0.1:2379", host,
	    &port, err), -1);
	ck_assert_msg(strstr(err, "https is not supported") != NULL, "%s", err);
	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		ck_assert_msg(etcd_endpoint_parse(bad[i], host, &port, err) == -1,
		    "\"%s\" was taken", bad[i]);
		ck_assert_msg(strncmp(err, "etcd endpoint \"", 15) == 0, "%s", err);
	}
}
END_TEST

/* --- requests ----------------------------------------------------------------- */

START_TEST(test_req_kv)
{
	struct etcd_buf	end;

	etcd_prefix_end("/w/", &end);
	codec_expect(etcd_req_range("/w/", &end, 0, 0),
	    "{'key': 'L3cv', 'range_end': 'L3cw'}");
	codec_expect(etcd_req_range("/w/", &end, 42, 7),
	    "{'key': 'L3cv', 'range_end': 'L3cw', 'revision': '42', 'limit': '7'}");
	codec_expect(etcd_req_range("k", NULL, 0, 0), "{'key': 'aw=='}");
	codec_expect(etcd_req_put("k", "v\0w", 3, 0),
	    "{'key': 'aw==', 'value': 'dgB3'}");
	codec_expect(etcd_req_put("k", "", 0, 9223372036854775807LL),
	    "{'key': 'aw==', 'value': '', 'lease': '9223372036854775807'}");
	codec_expect(etcd_req_delete("/w/", &end),
	    "{'key': 'L3cv', 'range_end': 'L3cw'}");
	codec_expect(etcd_req_compact(12), "{'revision': '12'}");
	codec_expect(etcd_req_watch("/w/", &end, 5),
	    "{'create_request': {'key': 'L3cv', 'range_end': 'L3cw', "
	    "'start_revision': '5', 'prev_kv': false}}");
	codec_expect(etcd_req_watch("k", NULL, 0),
	    "{'create_request': {'key': 'aw==', 'prev_kv': false}}");
	ck_assert_ptr_null(etcd_req_range("k", NULL, -1, 0));
	ck_assert_ptr_null(etcd_req_range("k", NULL, 0, -1));
	ck_assert_ptr_null(etcd_req_put("k", "", 0, -1));
	ck_assert_ptr_null(etcd_req_compact(0));
	ck_assert_ptr_null(etcd_req_watch("k", NULL, -2));
	etcd_buf_free(&end);
}
END_TEST

START_TEST(test_req_txn)
{
	json_t	*t = etcd_req_txn();

	ck_assert_int_eq(etcd_txn_compare(t, "k", ETCD_TARGET_MOD,
	    ETCD_CMP_EQUAL, 7), 0);
	ck_assert_int_eq(etcd_txn_compare(t, "k", ETCD_TARGET_VERSION,
	    ETCD_CMP_GREATER, 0), 0);
	ck_assert_int_eq(etcd_txn_compare(t, "k", ETCD_TARGET_CREATE,
	    ETCD_CMP_NOT_EQUAL, 3), 0);
	ck_assert_int_eq(etcd_txn_compare(t, "k", ETCD_TARGET_MOD,
	    ETCD_CMP_LESS, 1), 0);
	ck_assert_int_eq(etcd_txn_compare(t, "k", ETCD_TARGET_MOD,
	    ETCD_CMP_LESS, -1), -1);
	ck_assert_int_eq(etcd_txn_op(t, true, ETCD_OP_PUT,
	    etcd_req_put("k", "v", 1, 0)), 0);
	ck_assert_int_eq(etcd_txn_op(t, true, ETCD_OP_DELETE,
	    etcd_req_delete("j", NULL)), 0);
	ck_assert_int_eq(etcd_txn_op(t, false, ETCD_OP_RANGE,
	    etcd_req_range("k", NULL, 0, 0)), 0);
	/* A builder's NULL (a bad value) is refused, not added. */
	ck_assert_int_eq(etcd_txn_op(t, false, ETCD_OP_RANGE,
	    etcd_req_range("k", NULL, -1, 0)), -1);
	codec_expect(t, "{'compare': ["
	    "{'key': 'aw==', 'target': 'MOD', 'result': 'EQUAL', 'mod_revision': '7'},"
	    "{'key': 'aw==', 'target': 'VERSION', 'result': 'GREATER', 'version': '0'},"
	    "{'key': 'aw==', 'target': 'CREATE', 'result': 'NOT_EQUAL', "
	    "'create_revision': '3'},"
	    "{'key': 'aw==', 'target': 'MOD', 'result': 'LESS', 'mod_revision': '1'}],"
	    "'success': [{'request_put': {'key': 'aw==', 'value': 'dg=='}},"
	    "{'request_delete_range': {'key': 'ag=='}}],"
	    "'failure': [{'request_range': {'key': 'aw=='}}]}");
}
END_TEST

START_TEST(test_req_lease)
{
	codec_expect(etcd_req_lease_grant(10, 0), "{'TTL': '10'}");
	codec_expect(etcd_req_lease_grant(10, 77), "{'TTL': '10', 'ID': '77'}");
	codec_expect(etcd_req_lease_keepalive(77), "{'ID': '77'}");
	codec_expect(etcd_req_lease_revoke(77), "{'ID': '77'}");
	ck_assert_ptr_null(etcd_req_lease_grant(0, 0));
	ck_assert_ptr_null(etcd_req_lease_keepalive(0));
}
END_TEST

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
	j = codec_js(t);
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
	{ "{'kvs': {}}", "kvs: not an array" },
	{ "{'kvs': [1]}", "kvs[0].: not an object" },
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
	json_t			*j = codec_js(range_bad[_i].json);
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
	json_t		*j = codec_js(txn_bad[_i].json);
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
	j = codec_js("{'header': {'revision': '3'}, 'deleted': 'one'}");
	ck_assert_int_eq(etcd_parse_delete(j, &rev, &deleted, err), -1);
	ck_assert_str_eq(err, "deleted: not an int64 string of digits");
	json_decref(j);
	j = codec_js("{'header': 'h'}");
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
	j = codec_js("{'result': {'header': {'cluster_id': '1', 'raft_term': '2'}, "
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
}
END_TEST

static const struct { const char *json, *err; } watch_bad[] = {
	{ "{}", "result: missing" },
	{ "{'result': 1}", "result: not an object" },
	{ "{'result': {'created': 'yes'}}", "result.created: not a boolean" },
	{ "{'result': {'canceled': 0}}", "result.canceled: not a boolean" },
	{ "{'result': {'compact_revision': 3}}", "result.compact_revision: not" },
	{ "{'result': {'watch_id': '-1'}}", "result.watch_id: not" },
	{ "{'result': {'cancel_reason': 5}}", "result.cancel_reason: not a" },
	{ "{'result': {'events': {}}}", "result.events: not an array" },
	{ "{'result': {'events': [3]}}", "result.events[0]: not an object" },
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
	{ "{'error': {'grpc_code': 14, 'http_code': 503, 'message': "
	  "'transport is closing'}}", "etcd error 14: transport is closing" },
	{ "{'result': {'error': 'lost', 'code': 2}}", "etcd error 2: lost" },
};

START_TEST(test_parse_watch_bad)
{
	json_t			*j = codec_js(watch_bad[_i].json);
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
	j = codec_js("{'TTL': '5'}");
	ck_assert_int_eq(etcd_parse_lease(j, &l, err), -1);
	ck_assert_str_eq(err, "ID: missing");
	json_decref(j);
	j = codec_js("{'result': {'ID': '1', 'TTL': 5}}");
	ck_assert_int_eq(etcd_parse_lease(j, &l, err), -1);
	ck_assert_str_eq(err, "result.TTL: not an int64 string of digits");
	json_decref(j);
	j = codec_js("{'ID': '0', 'TTL': '5', 'error': 'etcdserver: too many "
	    "leases'}");
	ck_assert_int_eq(etcd_parse_lease(j, &l, err), -1);
	ck_assert_str_eq(err, "etcd error -1: etcdserver: too many leases");
	json_decref(j);
}
END_TEST

/* --- the watch stream ---------------------------------------------------------- */

static const char split_stream[] =
    "{\"result\":{\"created\":true}}\n"
    "{\"result\":{\"events\":[{\"kv\":{\"key\":\"e30=\",\"value\":\"In0i\"}}],"
    "\"note\":\"} { \\\" \\\\\"}}\n"
    "  {\"result\":{\"a\":[[{}],{\"b\":[]}]}}\r\n";

/* The whole stream, fed in pieces of size: the same three objects. */
static void
split_pieces(size_t size)
{
	struct etcd_split	 s;
	size_t			 off, len = strlen(split_stream), got = 0;
	json_t			*o;
	int			 rv;

	etcd_split_init(&s, ETCD_SPLIT_MAX_DEFAULT);
	for (off = 0; off < len; off += size) {
		ck_assert_int_eq(etcd_split_feed(&s, split_stream + off,
		    len - off < size ? len - off : size), 0);
		while ((rv = etcd_split_next(&s, &o)) == 1) {
			ck_assert(json_is_object(json_object_get(o, "result")));
			if (got == 1)
				ck_assert_str_eq(json_string_value(json_object_get(
				    json_object_get(o, "result"), "note")),
				    "} { \" \\");
			got++;
			json_decref(o);
		}
		ck_assert_int_eq(rv, 0);
	}
	ck_assert_uint_eq(got, 3);
	etcd_split_free(&s);
}

START_TEST(test_split_every_size)
{
	size_t	size;

	for (size = 1; size <= strlen(split_stream); size++)
		split_pieces(size);
}
END_TEST

START_TEST(test_split_bound)
{
	struct etcd_split	 s;
	char			 big[1000];
	json_t			*o;

	etcd_split_init(&s, 2048);
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[1] = '"';
	ck_assert_int_eq(etcd_split_feed(&s, big, sizeof(big)), 0);
	ck_assert_int_eq(etcd_split_next(&s, &o), 0);
	ck_assert_int_eq(etcd_split_feed(&s, big, sizeof(big)), 0);
	ck_assert_int_eq(etcd_split_feed(&s, big, sizeof(big)), -1);
	ck_assert_str_eq(s.err, "watch stream: an object over the size bound");
	/* Failed stays failed, until reset. */
	ck_assert_int_eq(etcd_split_next(&s, &o), -1);
	ck_assert_int_eq(etcd_split_feed(&s, "{}", 2), -1);
	etcd_split_reset(&s);
	ck_assert_int_eq(etcd_split_feed(&s, "{}", 2), 0);
	ck_assert_int_eq(etcd_split_next(&s, &o), 1);
	json_decref(o);
	etcd_split_free(&s);
}
END_TEST

/* Objects taken free their room: a long stream within a small bound. */
START_TEST(test_split_long_stream)
{
	struct etcd_split	 s;
	const char		 obj[] = "{\"result\":{\"x\":\"0123456789\"}}\n";
	json_t			*o;
	int			 i, got = 0;

	etcd_split_init(&s, 4 * sizeof(obj));
	for (i = 0; i < 10000; i++) {
		ck_assert_int_eq(etcd_split_feed(&s, obj, sizeof(obj) - 1), 0);
		while (etcd_split_next(&s, &o) == 1) {
			got++;
			json_decref(o);
		}
	}
	ck_assert_int_eq(got, 10000);
	etcd_split_free(&s);
}
END_TEST

static const struct { const char *text, *err; } split_bad[] = {
	{ "[1]", "watch stream: expected a JSON object" },
	{ "x", "watch stream: expected a JSON object" },
	{ "{}\n{} ]", "watch stream: expected a JSON object" },
	{ "{\"a\": tru}", "watch stream: bad JSON" },
	{ "{\"a\": [}]", "watch stream: bad JSON" },
	{ "{\"a\": 1, \"a\": 2}", "watch stream: bad JSON" },
	{ "{\"a\": \"\xff\"}", "watch stream: bad JSON" },
};

START_TEST(test_split_bad)
{
	struct etcd_split	 s;
	json_t			*o;
	int			 rv;

	etcd_split_init(&s, 1024);
	ck_assert_int_eq(etcd_split_feed(&s, split_bad[_i].text,
	    strlen(split_bad[_i].text)), 0);
	while ((rv = etcd_split_next(&s, &o)) == 1)
		json_decref(o);
	ck_assert_int_eq(rv, -1);
	ck_assert_msg(strncmp(s.err, split_bad[_i].err,
	    strlen(split_bad[_i].err)) == 0, "%s", s.err);
	etcd_split_free(&s);
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
		seedj = codec_js(fuzz_seeds[k]);
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
	Suite	*s = suite_create("etcd_codec");
	TCase	*tc = tcase_create("codec");

	tcase_add_loop_test(tc, test_b64_roundtrip, 0, nitems(b64_cases));
	tcase_add_test(tc, test_b64_bytes);
	tcase_add_loop_test(tc, test_b64_bad, 0, nitems(b64_bad));
	tcase_add_test(tc, test_int64);
	tcase_add_test(tc, test_prefix_end);
	tcase_add_test(tc, test_endpoints);
	tcase_add_test(tc, test_req_kv);
	tcase_add_test(tc, test_req_txn);
	tcase_add_test(tc, test_req_lease);
	tcase_add_test(tc, test_parse_range);
	tcase_add_loop_test(tc, test_parse_range_bad, 0, nitems(range_bad));
	tcase_add_test(tc, test_parse_txn);
	tcase_add_loop_test(tc, test_parse_txn_bad, 0, nitems(txn_bad));
	tcase_add_test(tc, test_parse_header_delete);
	tcase_add_test(tc, test_parse_watch);
	tcase_add_loop_test(tc, test_parse_watch_bad, 0, nitems(watch_bad));
	tcase_add_test(tc, test_parse_lease);
	tcase_add_test(tc, test_split_every_size);
	tcase_add_test(tc, test_split_bound);
	tcase_add_test(tc, test_split_long_stream);
	tcase_add_loop_test(tc, test_split_bad, 0, nitems(split_bad));
	tcase_add_test(tc, test_fuzz_random);
	tcase_add_test(tc, test_fuzz_mutations);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
