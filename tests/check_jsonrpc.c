/*
 * check_jsonrpc.c: the JSON-RPC core (src/core/jsonrpc.c, jsonrpc-params.c)
 * on its own, no daemon: framing a line and its limits (depth, batch
 * size, parse errors), request envelopes and ids, params made an object
 * and their keys (the readers of each method's params are
 * check_jsonrpc_params'), error and result objects byte for byte (kinds, data, messages cut and
 * cleaned to UTF-8), and batches answered whole, in order.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonrpc.h"
#include "jsonrpctest.h"
#include "suite.h"
#include "util.h"

static const struct jsonrpc_limits	limits = { 64, 1024 };

/* --- framing --------------------------------------------------------------- */

/* The one answer a line gets, or NULL when it holds requests. */
static json_t *
line_answer(const char *s, const struct jsonrpc_limits *lim)
{
	struct jsonrpc_line	 l;
	json_t			*a;

	jsonrpc_line(s, strlen(s), lim, &l);
	a = json_incref(l.answer);
	if (a == NULL)
		ck_assert_ptr_nonnull(l.requests);
	jsonrpc_line_free(&l);
	return a;
}

START_TEST(test_depth)
{
	ck_assert_uint_eq(jsonrpc_depth("", 0), 0);
	ck_assert_uint_eq(jsonrpc_depth("[[{}]]", 6), 3);
	ck_assert_uint_eq(jsonrpc_depth("[][][]", 6), 1);
	/* Brackets in strings, escaped quotes included, do not count. */
	ck_assert_uint_eq(jsonrpc_depth("\"[[[[\"", 6), 0);
	ck_assert_uint_eq(jsonrpc_depth("[\"\\\"[[\"]", 8), 1);
	/* Closing more than was opened is no negative depth. */
	ck_assert_uint_eq(jsonrpc_depth("]]]]{", 5), 1);
	/* Only len bytes are read. */
	ck_assert_uint_eq(jsonrpc_depth("[[[[", 2), 2);
}
END_TEST

START_TEST(test_line_limits)
{
	struct jsonrpc_limits	small = { 2, 2 };

	text_is(line_answer("[[[1]]]", &small), ERR(-32600, "invalid_request",
	    "a request nested deeper than 2 levels"));
	/* Checked before parsing: even text that is no JSON. */
	text_is(line_answer("[[[", &small), ERR(-32600, "invalid_request",
	    "a request nested deeper than 2 levels"));
	ck_assert_ptr_null(line_answer("[[1]]", &small));
	text_is(line_answer("[1,2,3]", &small), ERR(-32600, "invalid_request",
	    "a batch over 2 requests"));
	ck_assert_ptr_null(line_answer("[1,2]", &small));
	text_is(line_answer("[]", &limits), ERR(-32600, "invalid_request",
	    "an empty batch"));
}
END_TEST

START_TEST(test_line_parse_errors)
{
	json_t		*a;
	const char	*msg;

	a = line_answer("{\"jsonrpc\":\"2.0\",", &limits);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(a,
	    "error"), "code")), RPC_PARSE_ERROR);
	msg = json_string_value(json_object_get(json_object_get(a, "error"),
	    "message"));
	ck_assert_msg(strncmp(msg, "parse error at column ", 22) == 0, "%s", msg);
	ck_assert(json_is_null(json_object_get(a, "id")));
	json_decref(a);
	/* A key twice is refused, not one of them taken. */
	a = line_answer("{\"id\":1,\"id\":2}", &limits);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(a,
	    "error"), "code")), RPC_PARSE_ERROR);
	json_decref(a);
	/* Bytes that are not UTF-8: a parse error whose message is UTF-8. */
	a = line_answer("\"\xff\xfe\"", &limits);
	ck_assert_ptr_nonnull(a);
	msg = json_dumps(a, JSON_COMPACT);
	ck_assert_ptr_nonnull(msg);
	free((char *)msg);
	json_decref(a);
}
END_TEST

START_TEST(test_line_requests)
{
	struct jsonrpc_line	l;

	jsonrpc_line("{\"a\":1}", 7, &limits, &l);
	ck_assert(!l.batch);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_ptr_eq(jsonrpc_line_request(&l, 0), l.requests);
	jsonrpc_line_free(&l);
	jsonrpc_line("[{\"a\":1},2]", 11, &limits, &l);
	ck_assert(l.batch);
	ck_assert_uint_eq(l.n, 2);
	text_is(json_incref(jsonrpc_line_request(&l, 1)), "2");
	jsonrpc_line_free(&l);
	/* Any JSON text is a request to check, not a parse error. */
	jsonrpc_line("42", 2, &limits, &l);
	ck_assert_ptr_null(l.answer);
	ck_assert(json_is_integer(l.requests));
	jsonrpc_line_free(&l);
}
END_TEST

/* --- envelopes and ids ---------------------------------------------------------- */

/* The error the request text gets, answered under the id it gives. */
static void
request_error(const char *text, const char *want)
{
	struct jsonrpc_request	 req;
	struct jsonrpc_error	 e;
	json_t			*v = parse(text);

	ck_assert_int_eq(jsonrpc_request(v, &req, &e), -1);
	ck_assert_ptr_nonnull(req.id);
	error_is(req.id, &e, want);
	json_decref(v);
}

START_TEST(test_envelope_errors)
{
	request_error("[1]", ERR(-32600, "invalid_request",
	    "a request must be an object"));
	request_error("\"ping\"", ERR(-32600, "invalid_request",
	    "a request must be an object"));
	request_error("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}",
	    ERR(-32600, "invalid_request",
	    "'id' must be a string, a number or null"));
	request_error("{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
	    ERR(-32600, "invalid_request",
	    "'id' must be a string, a number or null"));
	/* Without an id, still answered: with null. */
	request_error("{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"x\":1}",
	    ERR(-32600, "invalid_request", "unknown member 'x'"));
	/* With one, under it. */
	request_error("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"ping\","
	    "\"x\":1}", "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"error\":{\"code\":"
	    "-32600,\"message\":\"unknown member 'x'\",\"data\":{\"kind\":"
	    "\"invalid_request\"}}}");
	request_error("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32600,"
	    "\"message\":\"a request needs \\\"jsonrpc\\\": \\\"2.0\\\" and a "
	    "string \\\"method\\\"\",\"data\":{\"kind\":\"invalid_request\"}}}");
	request_error("{\"jsonrpc\":\"2.0\",\"method\":3}", ERR(-32600,
	    "invalid_request", "a request needs \\\"jsonrpc\\\": \\\"2.0\\\" "
	    "and a string \\\"method\\\""));
	request_error("{\"id\":1,\"method\":\"ping\"}", "{\"jsonrpc\":\"2.0\","
	    "\"id\":1,\"error\":{\"code\":-32600,\"message\":\"a request needs "
	    "\\\"jsonrpc\\\": \\\"2.0\\\" and a string \\\"method\\\"\","
	    "\"data\":{\"kind\":\"invalid_request\"}}}");
}
END_TEST

START_TEST(test_envelope_ids)
{
	static const char *const ids[] = { "7", "-1.5", "\"x\"", "null" };
	struct jsonrpc_request	 req;
	struct jsonrpc_error	 e;
	char			 text[128];
	json_t			*v;
	size_t			 i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(text, sizeof(text), "{\"jsonrpc\":\"2.0\",\"id\":%s,"
		    "\"method\":\"m\",\"params\":{\"a\":1}}", ids[i]);
		v = parse(text);
		ck_assert_int_eq(jsonrpc_request(v, &req, &e), 0);
		ck_assert_ptr_eq(req.id, json_object_get(v, "id"));
		ck_assert_str_eq(req.method, "m");
		ck_assert_ptr_eq(req.params, json_object_get(v, "params"));
		json_decref(v);
	}
	/* No id: a notification. */
	v = parse("{\"jsonrpc\":\"2.0\",\"method\":\"m\"}");
	ck_assert_int_eq(jsonrpc_request(v, &req, &e), 0);
	ck_assert_ptr_null(req.id);
	ck_assert_ptr_null(req.params);
	json_decref(v);
	ck_assert(jsonrpc_id_valid(json_null()));
	ck_assert(!jsonrpc_id_valid(NULL));
	ck_assert(!jsonrpc_id_valid(json_false()));
}
END_TEST

/* --- params ------------------------------------------------------------------------ */

/* params (text, NULL: absent) as a method gets them, or its error. */
static void
params_are(const char *text, bool array_ok, const char *want)
{
	struct jsonrpc_error	 e;
	json_t			*in = text != NULL ? parse(text) : NULL, *out;

	if (jsonrpc_params(in, array_ok, &out, &e) == -1) {
		ck_assert_ptr_null(out);
		error_is(NULL, &e, want);
	} else
		text_is(out, want);
	json_decref(in);
}

#define NOT_OBJECT ERR(-32602, "invalid_params", "'params' must be an object")

START_TEST(test_params)
{
	params_are(NULL, false, "{}");
	params_are("null", false, "{}");
	params_are("[]", true, "{}");
	params_are("[]", false, NOT_OBJECT);
	params_are("[1]", true, NOT_OBJECT);
	params_are("\"x\"", true, NOT_OBJECT);
	params_are("3", false, NOT_OBJECT);
	params_are("{\"a\":[1]}", false, "{\"a\":[1]}");
}
END_TEST

START_TEST(test_keys)
{
	static const char *const allowed[] = { "service", "signal", NULL };
	static const char *const none[] = { NULL };
	struct jsonrpc_error	 e;
	json_t			*p;

	p = parse("{\"signal\":1,\"service\":\"a\"}");
	ck_assert_int_eq(jsonrpc_keys(p, allowed, &e), 0);
	ck_assert_int_eq(jsonrpc_keys(p, none, &e), -1);
	error_is(NULL, &e, ERR(-32602, "invalid_params",
	    "unknown parameter 'signal'"));
	json_decref(p);
	p = parse("{\"service\":\"a\",\"bogus\":1}");
	ck_assert_int_eq(jsonrpc_keys(p, allowed, &e), -1);
	error_is(NULL, &e, ERR(-32602, "invalid_params",
	    "unknown parameter 'bogus'"));
	json_decref(p);
}
END_TEST

START_TEST(test_string_param)
{
	struct jsonrpc_error	 e;
	const char		*s;
	json_t			*p;

	p = parse("{\"service\":\"a\",\"n\":3}");
	ck_assert_int_eq(jsonrpc_string_param(p, "service", &s, &e), 0);
	ck_assert_str_eq(s, "a");
	ck_assert_int_eq(jsonrpc_string_param(p, "n", &s, &e), -1);
	error_is(NULL, &e, ERR(-32602, "invalid_params", "'n' must be a string"));
	ck_assert_int_eq(jsonrpc_string_param(p, "x", &s, &e), -1);
	error_is(NULL, &e, ERR(-32602, "invalid_params",
	    "missing parameter 'x'"));
	json_decref(p);
}
END_TEST

/* --- error and result objects --------------------------------------------------------------- */

START_TEST(test_error_kinds)
{
	/* Every code of protocol.h, then one that is none. */
	static const int codes[] = { RPC_PARSE_ERROR, RPC_INVALID_REQUEST,
	    RPC_METHOD_NOT_FOUND, RPC_INVALID_PARAMS, RPC_INTERNAL_ERROR,
	    RPC_NOT_FOUND, RPC_FORBIDDEN, RPC_TIMEOUT, RPC_CONFLICT,
	    RPC_UNAVAILABLE, RPC_REEXEC_FAILED, 12345 };
	char	got[512] = "";
	size_t	i;

	for (i = 0; i < nitems(codes); i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
		    i > 0 ? " " : "", jsonrpc_error_kind(codes[i]));
	ck_assert_str_eq(got, "parse_error invalid_request method_not_found "
	    "invalid_params internal_error not_found forbidden timeout "
	    "conflict unavailable reexec_failed internal_error");
}
END_TEST

START_TEST(test_error_objects)
{
	json_t	*id = json_string("q");

	text_is(jsonrpc_error_response(id, RPC_NOT_FOUND, NULL,
	    "no service named '%s'", "x"), "{\"jsonrpc\":\"2.0\",\"id\":\"q\","
	    "\"error\":{\"code\":-32001,\"message\":\"no service named 'x'\","
	    "\"data\":{\"kind\":\"not_found\"}}}");
	/* data's own members first, then its kind. */
	text_is(jsonrpc_error_response(NULL, RPC_TIMEOUT,
	    json_pack("{s:{s:i}}", "condition", "stage", 3),
	    "condition not met within %d ms", 50), "{\"jsonrpc\":\"2.0\","
	    "\"id\":null,\"error\":{\"code\":-32003,\"message\":\"condition not "
	    "met within 50 ms\",\"data\":{\"condition\":{\"stage\":3},"
	    "\"kind\":\"timeout\"}}}");
	text_is(jsonrpc_result_response(id, json_string("pong")),
	    "{\"jsonrpc\":\"2.0\",\"id\":\"q\",\"result\":\"pong\"}");
	text_is(jsonrpc_result_response(NULL, json_pack("{s:b}", "stopping", 1)),
	    "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":{\"stopping\":true}}");
	/* The id is the caller's still. */
	ck_assert_int_eq(id->refcount, 1);
	json_decref(id);
}
END_TEST

/* The message an error response got for what. */
static char *
message_of(const char *what)
{
	json_t	*r = jsonrpc_error_response(NULL, RPC_NOT_FOUND, NULL,
		    "no service named '%s'", what);
	char	*m;

	ck_assert_ptr_nonnull(r);
	m = strdup(json_string_value(json_object_get(json_object_get(r, "error"),
	    "message")));
	json_decref(r);
	return m;
}

START_TEST(test_error_messages_utf8)
{
	char	 big[4096], *m;
	size_t	 i;

	m = message_of("caf\xc3\xa9");
	ck_assert_str_eq(m, "no service named 'caf\xc3\xa9'");
	free(m);
	/* A byte that is not UTF-8, overlong forms, surrogates, past U+10FFFF. */
	m = message_of("a\xff" "b\xc0\xaf" "c\xe0\x80\x80" "d\xed\xa0\x80"
	    "e\xf4\x90\x80\x80" "f\xc3");
	ck_assert_str_eq(m, "no service named 'a?b??c???d???e????f?'");
	free(m);
	/* Cut at the limit in the middle of a character: that one goes. */
	for (i = 0; i + 2 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[i] = '\0';
	m = message_of(big);
	ck_assert_uint_eq(strlen(m), JSONRPC_MESSAGE_MAX - 1);
	ck_assert_int_eq(m[strlen(m) - 1], '?');
	free(m);
	/* The same through jsonrpc_fail(): cut there too, cleaned on the answer. */
	{
		struct jsonrpc_error	 e;
		json_t			*r;

		jsonrpc_fail(&e, RPC_INVALID_PARAMS, NULL, "x%s", big);
		ck_assert_uint_eq(strlen(e.message), JSONRPC_MESSAGE_MAX - 1);
		r = jsonrpc_error_answer(NULL, &e);
		ck_assert_ptr_nonnull(r);
		ck_assert_uint_eq(strlen(json_string_value(json_object_get(
		    json_object_get(r, "error"), "message"))),
		    JSONRPC_MESSAGE_MAX - 1);
		json_decref(r);
	}
	jsonrpc_utf8_clean(big);
	ck_assert_int_eq(big[0], '\xc3');
}
END_TEST

/* --- batches ---------------------------------------------------------------------------------- */

static json_t *
answer(int id)
{
	return jsonrpc_result_response(json_integer(id), json_integer(id * 10));
}

START_TEST(test_batch_order)
{
	struct jsonrpc_batch	*b = jsonrpc_batch_new(3);
	json_t			*out = NULL;

	/* Answers come in any order, and go out in the members'. */
	ck_assert(!jsonrpc_batch_put(b, 2, answer(3), &out));
	ck_assert(!jsonrpc_batch_put(b, 1, NULL, &out));	/* a notification */
	ck_assert(!jsonrpc_batch_put(b, 0, answer(1), &out));
	ck_assert_ptr_null(out);
	/* The batch's own count last: now it is answered, and freed. */
	ck_assert(jsonrpc_batch_put(b, 3, NULL, &out));
	text_is(out, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":10},"
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":30}]");
}
END_TEST

START_TEST(test_batch_notifications)
{
	struct jsonrpc_batch	*b = jsonrpc_batch_new(2);
	json_t			*out = NULL;

	ck_assert(!jsonrpc_batch_put(b, 0, NULL, &out));
	ck_assert(!jsonrpc_batch_put(b, 1, NULL, &out));
	/* All notifications: nothing to send. */
	ck_assert(jsonrpc_batch_put(b, 2, NULL, &out));
	ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_batch_later_and_dropped)
{
	struct jsonrpc_batch	*b = jsonrpc_batch_new(2);
	json_t			*out = NULL;

	ck_assert(!jsonrpc_batch_put(b, 0, answer(1), &out));
	/* Its own count released, one member still waiting. */
	ck_assert(!jsonrpc_batch_put(b, 2, NULL, &out));
	text_is(json_incref(b->slots), "[{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"result\":10},null,null]");
	ck_assert_uint_eq(b->outstanding, 1);
	/* Its client goes: the last member is dropped, the batch with it. */
	ck_assert(jsonrpc_batch_drop(b));
}
END_TEST

START_TEST(test_batch_adopted)
{
	struct jsonrpc_batch	*b;
	json_t			*slots, *out = NULL;

	/* As a reexec hands it over: one answer in, one member waiting. */
	slots = parse("[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":10},null,null]");
	b = jsonrpc_batch_adopt(slots);
	json_decref(slots);
	ck_assert_uint_eq(b->outstanding, 0);
	b->outstanding++;		/* the call that takes slot 1 */
	ck_assert(jsonrpc_batch_put(b, 1, answer(2), &out));
	text_is(out, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":10},"
	    "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":20}]");
	jsonrpc_batch_free(NULL);
}
END_TEST

static Suite *
jsonrpc_suite(void)
{
	Suite	*s = suite_create("jsonrpc");
	TCase	*tc;

	tc = tcase_create("framing");
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_line_limits);
	tcase_add_test(tc, test_line_parse_errors);
	tcase_add_test(tc, test_line_requests);
	suite_add_tcase(s, tc);
	tc = tcase_create("requests");
	tcase_add_test(tc, test_envelope_errors);
	tcase_add_test(tc, test_envelope_ids);
	tcase_add_test(tc, test_params);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_string_param);
	suite_add_tcase(s, tc);
	tc = tcase_create("answers");
	tcase_add_test(tc, test_error_kinds);
	tcase_add_test(tc, test_error_objects);
	tcase_add_test(tc, test_error_messages_utf8);
	tcase_add_test(tc, test_batch_order);
	tcase_add_test(tc, test_batch_notifications);
	tcase_add_test(tc, test_batch_later_and_dropped);
	tcase_add_test(tc, test_batch_adopted);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(jsonrpc_suite)
