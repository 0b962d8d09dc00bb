/*
 * check_etcd_codec.c: etcd's v3 JSON gateway as data (src/core/etcd.c,
 * etcd-split.c): base64 both ways and its non-canonical spellings
 * refused, int64 strings, a prefix's range_end, endpoints, every request
 * body, and the watch stream cut at every byte, bounded, and fed garbage.
 * check_etcd_answers.c reads the answers.
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

/* j (taken) is equal to the JSON text (' for "). */
static void
codec_expect(json_t *j, const char *text)
{
	json_t	*want = js(text);
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

/*
 * A compare over a range carries its range_end: every key under a prefix
 * compared at once, and the single-key compare is the one without it.
 */
START_TEST(test_req_txn_range)
{
	struct etcd_buf	 end;
	json_t		*t = etcd_req_txn();

	etcd_prefix_end("/w/f/", &end);
	ck_assert_int_eq(etcd_txn_compare_range(t, "/w/f/", &end,
	    ETCD_TARGET_MOD, ETCD_CMP_LESS, 13), 0);
	ck_assert_int_eq(etcd_txn_compare_range(t, "/w/s", NULL,
	    ETCD_TARGET_MOD, ETCD_CMP_EQUAL, 0), 0);
	ck_assert_int_eq(etcd_txn_compare_range(t, "/w/f/", &end,
	    ETCD_TARGET_MOD, ETCD_CMP_LESS, -1), -1);
	ck_assert_int_eq(etcd_txn_compare_range(t, "/w/f/", &end,
	    (enum etcd_target)7, ETCD_CMP_LESS, 1), -1);
	codec_expect(t, "{'compare': ["
	    "{'key': 'L3cvZi8=', 'range_end': 'L3cvZjA=', 'target': 'MOD', "
	    "'result': 'LESS', 'mod_revision': '13'},"
	    "{'key': 'L3cvcw==', 'target': 'MOD', 'result': 'EQUAL', "
	    "'mod_revision': '0'}], 'success': [], 'failure': []}");
	etcd_buf_free(&end);
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

/* A NUL between two objects is not white space. */
START_TEST(test_split_nul)
{
	static const char	 text[] = "{\"a\": 1}\n\0{\"b\": 2}";
	struct etcd_split	 s;
	json_t			*o;

	etcd_split_init(&s, 1024);
	ck_assert_int_eq(etcd_split_feed(&s, text, sizeof(text) - 1), 0);
	ck_assert_int_eq(etcd_split_next(&s, &o), 1);
	json_decref(o);
	ck_assert_int_eq(etcd_split_next(&s, &o), -1);
	ck_assert_str_eq(s.err, "watch stream: expected a JSON object");
	etcd_split_free(&s);
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
	tcase_add_test(tc, test_split_nul);
	tcase_add_test(tc, test_endpoints);
	tcase_add_test(tc, test_req_kv);
	tcase_add_test(tc, test_req_txn);
	tcase_add_test(tc, test_req_txn_range);
	tcase_add_test(tc, test_req_lease);
	tcase_add_test(tc, test_split_every_size);
	tcase_add_test(tc, test_split_bound);
	tcase_add_test(tc, test_split_long_stream);
	tcase_add_loop_test(tc, test_split_bad, 0, nitems(split_bad));
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
