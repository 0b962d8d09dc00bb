/*
 * check_jsonrpc.c: the JSON-RPC core (src/core/jsonrpc.c, jsonrpc-params.c)
 * on its own, no daemon: framing a line and its limits (depth, batch
 * size, parse errors), request envelopes and ids, params made an object
 * and their keys, the readers of each method's params (wait's conditions
 * and timeout, service.kill, subscribe, config.reload, reexec, flag.get),
 * error and result objects byte for byte (kinds, data, messages cut and
 * cleaned to UTF-8), and batches answered whole, in order.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonrpc.h"
#include "suite.h"

static const struct jsonrpc_limits	limits = { 64, 1024 };

/* v's compact text must be want; v is the test's (freed here). */
static void
text_is(json_t *v, const char *want)
{
	char	*got;

	ck_assert_ptr_nonnull(v);
	got = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, want) == 0, "got  %s\nwant %s", got, want);
	free(got);
	json_decref(v);
}

static json_t *
parse(const char *text)
{
	json_t	*v = json_loads(text, JSON_DECODE_ANY, NULL);

	ck_assert_msg(v != NULL, "bad JSON in the test: %s", text);
	return v;
}

/* The answer to the error e under id (null when NULL). */
static void
error_is(json_t *id, struct jsonrpc_error *e, const char *want)
{
	text_is(jsonrpc_error_answer(id, e), want);
}

#define ERR(code, kind, msg)						\
	"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":" #code	\
	",\"message\":\"" msg "\",\"data\":{\"kind\":\"" kind "\"}}}"

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

/* --- wait ---------------------------------------------------------------------------- */

static const struct {
	const char	*cond;
	const char	*why;		/* NULL: a condition */
} conds[] = {
	{ "5", "'condition' must be an object" },
	{ "{}", "a condition is {\"service\":NAME,\"state\":STATE}, "
	    "{\"recovered\":true}, {\"flag\":NAME,\"value\":V} or {\"stage\":N}" },
	{ "{\"recovered\":true}", NULL },
	{ "{\"recovered\":1}", "'recovered' must be true" },
	{ "{\"recovered\":true,\"x\":1}", "'recovered' takes no other keys" },
	{ "{\"service\":\"a\",\"state\":\"running\"}", NULL },
	{ "{\"service\":\"a\",\"state\":\"failed\",\"min_restarts\":3}", NULL },
	{ "{\"service\":1,\"state\":\"running\"}", "'service' must be a string" },
	{ "{\"service\":\"a\"}", "'state' must be one of stopped, starting, "
	    "running, stopping, backoff, failed" },
	{ "{\"service\":\"a\",\"state\":\"nap\"}", "'state' must be one of "
	    "stopped, starting, running, stopping, backoff, failed" },
	{ "{\"service\":\"a\",\"state\":\"running\",\"min_restarts\":-1}",
	    "'min_restarts' must be an integer >= 0" },
	{ "{\"service\":\"a\",\"state\":\"running\",\"min_restarts\":1.0}",
	    "'min_restarts' must be an integer >= 0" },
	{ "{\"service\":\"a\",\"state\":\"running\",\"x\":0}",
	    "unknown key in a service condition" },
	{ "{\"flag\":\"f\",\"value\":true}", NULL },
	{ "{\"flag\":\"f\",\"value\":50}", NULL },
	{ "{\"flag\":2,\"value\":true}", "'flag' must be a string" },
	{ "{\"flag\":\"f\",\"value\":101}",
	    "'value' must be true, false or an integer from 0 to 100" },
	{ "{\"flag\":\"f\"}",
	    "'value' must be true, false or an integer from 0 to 100" },
	{ "{\"flag\":\"f\",\"value\":false,\"x\":0}",
	    "unknown key in a flag condition" },
	{ "{\"stage\":0}", NULL },
	{ "{\"stage\":-1}", "'stage' must be an integer >= 0" },
	{ "{\"stage\":\"1\"}", "'stage' must be an integer >= 0" },
	{ "{\"stage\":1,\"y\":2}", "unknown key in a stage condition" },
	/* The first key that names a kind decides. */
	{ "{\"stage\":1,\"recovered\":true}", "'recovered' takes no other keys" },
};

START_TEST(test_conditions)
{
	const char	*why;
	json_t		*c;
	size_t		 i;

	for (i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
		c = parse(conds[i].cond);
		why = jsonrpc_cond_check(c);
		if (conds[i].why == NULL)
			ck_assert_msg(why == NULL, "%s: %s", conds[i].cond, why);
		else
			ck_assert_msg(why != NULL && strcmp(why,
			    conds[i].why) == 0, "%s: \"%s\", not \"%s\"",
			    conds[i].cond, why, conds[i].why);
		json_decref(c);
	}
}
END_TEST

START_TEST(test_condition_read)
{
	struct jsonrpc_cond	 c;
	const char		*why;
	json_t			*v;

	v = parse("{\"service\":\"a\",\"state\":\"backoff\","
	    "\"min_restarts\":99999999999}");
	ck_assert_int_eq(jsonrpc_cond_parse(v, &c, &why), 0);
	ck_assert_int_eq(c.kind, JSONRPC_COND_SERVICE);
	ck_assert_str_eq(c.name, "a");
	ck_assert_str_eq(jsonrpc_state_name(c.state), "backoff");
	ck_assert_uint_eq(c.min_restarts, 4294967295U);	/* clamped */
	json_decref(v);
	v = parse("{\"flag\":\"f\",\"value\":true}");
	ck_assert_int_eq(jsonrpc_cond_parse(v, &c, &why), 0);
	ck_assert_int_eq(c.kind, JSONRPC_COND_FLAG);
	ck_assert_int_eq(c.value, 100);
	json_decref(v);
	v = parse("{\"stage\":99999999999}");
	ck_assert_int_eq(jsonrpc_cond_parse(v, &c, &why), 0);
	ck_assert_int_eq(c.kind, JSONRPC_COND_STAGE);
	ck_assert_int_eq(c.stage, 2147483647);		/* clamped */
	json_decref(v);
	v = parse("{\"recovered\":true}");
	ck_assert_int_eq(jsonrpc_cond_parse(v, &c, &why), 0);
	ck_assert_int_eq(c.kind, JSONRPC_COND_RECOVERED);
	json_decref(v);
	/* The states, in the daemon's order. */
	ck_assert_int_eq(jsonrpc_state_parse("stopped"), 0);
	ck_assert_int_eq(jsonrpc_state_parse("failed"), JSONRPC_NSTATES - 1);
	ck_assert_int_eq(jsonrpc_state_parse("Running"), -1);
	ck_assert_ptr_null(jsonrpc_state_name(JSONRPC_NSTATES));
	ck_assert_ptr_null(jsonrpc_state_name(-1));
}
END_TEST

#define TIMEOUT_RANGE ERR(-32602, "invalid_params", \
	"'timeout_ms' must be an integer from 0 to 86400000")

START_TEST(test_wait_params)
{
	static const char *const bad[] = { "-1", "86400001", "\"1\"", "1.5",
		"null" };
	struct jsonrpc_error	 e;
	struct jsonrpc_wait	 w;
	char			 text[128];
	json_t			*p;
	size_t			 i;

	p = parse("{}");
	ck_assert_int_eq(jsonrpc_wait_params(p, &w, &e), -1);
	error_is(NULL, &e, ERR(-32602, "invalid_params",
	    "missing parameter 'condition'"));
	json_decref(p);
	p = parse("{\"condition\":{\"stage\":\"x\"},\"timeout_ms\":-1}");
	ck_assert_int_eq(jsonrpc_wait_params(p, &w, &e), -1);
	error_is(NULL, &e, ERR(-32602, "invalid_params",
	    "'stage' must be an integer >= 0"));
	json_decref(p);
	p = parse("{\"condition\":{\"stage\":2}}");
	ck_assert_int_eq(jsonrpc_wait_params(p, &w, &e), 0);
	ck_assert_int_eq(w.timeout_ms, JSONRPC_WAIT_DEFAULT_MS);
	ck_assert_ptr_eq(w.condition, json_object_get(p, "condition"));
	ck_assert_int_eq(w.cond.stage, 2);
	json_decref(p);
	p = parse("{\"condition\":{\"stage\":2},\"timeout_ms\":86400000}");
	ck_assert_int_eq(jsonrpc_wait_params(p, &w, &e), 0);
	ck_assert_int_eq(w.timeout_ms, JSONRPC_WAIT_MAX_MS);
	json_decref(p);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "{\"condition\":{\"stage\":2},"
		    "\"timeout_ms\":%s}", bad[i]);
		p = parse(text);
		ck_assert_int_eq(jsonrpc_wait_params(p, &w, &e), -1);
		error_is(NULL, &e, TIMEOUT_RANGE);
		json_decref(p);
	}
}
END_TEST

/* --- the other methods' params ---------------------------------------------------------- */

static void
kill_is(const char *text, int sig, bool all, const char *names)
{
	struct jsonrpc_error	 e;
	struct jsonrpc_kill	 k;
	json_t			*p = parse(text);

	ck_assert_msg(jsonrpc_kill_params(p, &k, &e) == 0, "%s: %s", text,
	    e.message);
	ck_assert_int_eq(k.sig, sig);
	ck_assert(k.all == all);
	if (names != NULL)
		text_is(k.names, names);
	else
		ck_assert_ptr_null(k.names);
	json_decref(p);
}

static void
kill_fails(const char *text, const char *want)
{
	struct jsonrpc_error	 e;
	struct jsonrpc_kill	 k;
	json_t			*p = parse(text);

	ck_assert_int_eq(jsonrpc_kill_params(p, &k, &e), -1);
	ck_assert_ptr_null(k.names);
	error_is(NULL, &e, want);
	json_decref(p);
}

#define NOT_NAMES ERR(-32602, "invalid_params", \
	"'service' must be a name, a list of names or \\\"*\\\"")
#define NOT_SIGNAL ERR(-32602, "invalid_params", "'signal' is not a signal")

START_TEST(test_kill_params)
{
	kill_is("{\"service\":\"*\"}", SIGKILL, true, NULL);
	kill_is("{\"service\":\"a\",\"signal\":\"TERM\"}", SIGTERM, false,
	    "[\"a\"]");
	kill_is("{\"service\":[\"a\",\"b\"],\"signal\":\"SIGHUP\"}", SIGHUP,
	    false, "[\"a\",\"b\"]");
	kill_is("{\"service\":\"a\",\"signal\":15}", 15, false, "[\"a\"]");
	kill_fails("{\"service\":[]}", NOT_NAMES);
	kill_fails("{\"service\":[\"a\",1]}", NOT_NAMES);
	kill_fails("{\"service\":{}}", NOT_NAMES);
	kill_fails("{}", NOT_NAMES);
	kill_fails("{\"service\":\"a\",\"signal\":\"NOPE\"}", NOT_SIGNAL);
	kill_fails("{\"service\":\"a\",\"signal\":0}", NOT_SIGNAL);
	kill_fails("{\"service\":\"a\",\"signal\":1.5}", NOT_SIGNAL);
	/* The signal is looked at first. */
	kill_fails("{\"service\":[],\"signal\":true}", NOT_SIGNAL);
}
END_TEST

START_TEST(test_topics_params)
{
	struct jsonrpc_error	 e;
	json_t			*p, *t;

	p = parse("{}");
	ck_assert_int_eq(jsonrpc_topics_params(p, &t, &e), 0);
	ck_assert_ptr_null(t);
	json_decref(p);
	p = parse("{\"topics\":null}");
	ck_assert_int_eq(jsonrpc_topics_params(p, &t, &e), 0);
	ck_assert_ptr_null(t);
	json_decref(p);
	/* An empty list is every event, as none is. */
	p = parse("{\"topics\":[]}");
	ck_assert_int_eq(jsonrpc_topics_params(p, &t, &e), 0);
	ck_assert_ptr_null(t);
	json_decref(p);
	p = parse("{\"topics\":[\"flag\",\"service.exited\",\"table.\"]}");
	ck_assert_int_eq(jsonrpc_topics_params(p, &t, &e), 0);
	ck_assert_ptr_ne(t, json_object_get(p, "topics"));	/* a copy */
	text_is(t, "[\"flag\",\"service.exited\",\"table.\"]");
	json_decref(p);
	/* A topic nothing is sent under is refused, by name. */
	p = parse("{\"topics\":[\"flag\",\"service.exit\"]}");
	ck_assert_int_eq(jsonrpc_topics_params(p, &t, &e), -1);
	ck_assert_ptr_null(t);
	error_is(NULL, &e, ERR(-32602, "invalid_params",
	    "unknown topic 'service.exit': neither an event type nor a "
	    "prefix of one ending at a dot"));
	json_decref(p);
	p = parse("{\"topics\":[\"servic\"]}");
	ck_assert_int_eq(jsonrpc_topics_params(p, &t, &e), -1);
	json_decref(p);
	p = parse("{\"topics\":[\"service.exited.\"]}");
	ck_assert_int_eq(jsonrpc_topics_params(p, &t, &e), -1);
	json_decref(p);
	p = parse("{\"topics\":\"flag\"}");
	ck_assert_int_eq(jsonrpc_topics_params(p, &t, &e), -1);
	error_is(NULL, &e, ERR(-32602, "invalid_params",
	    "'topics' must be a list of strings"));
	json_decref(p);
	p = parse("{\"topics\":[\"flag\",\"\"]}");
	ck_assert_int_eq(jsonrpc_topics_params(p, &t, &e), -1);
	error_is(NULL, &e, ERR(-32602, "invalid_params",
	    "'topics' must be a list of strings"));
	json_decref(p);
}
END_TEST

START_TEST(test_admin_params)
{
	struct jsonrpc_error	 e;
	const char		*s;
	json_t			*p;
	bool			 dry;

	p = parse("{\"dry_run\":true,\"binary\":\"/usr/bin/warden\","
	    "\"name\":\"f\"}");
	ck_assert_int_eq(jsonrpc_reload_params(p, &dry, &e), 0);
	ck_assert(dry);
	ck_assert_int_eq(jsonrpc_reexec_params(p, &s, &e), 0);
	ck_assert_str_eq(s, "/usr/bin/warden");
	ck_assert_int_eq(jsonrpc_flag_params(p, &s, &e), 0);
	ck_assert_str_eq(s, "f");
	json_decref(p);
	p = parse("{}");
	ck_assert_int_eq(jsonrpc_reload_params(p, &dry, &e), 0);
	ck_assert(!dry);
	ck_assert_int_eq(jsonrpc_reexec_params(p, &s, &e), 0);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(jsonrpc_flag_params(p, &s, &e), -1);
	error_is(NULL, &e, ERR(-32602, "invalid_params",
	    "'name' must be a flag's name"));
	json_decref(p);
	p = parse("{\"dry_run\":\"yes\",\"binary\":\"warden\"}");
	ck_assert_int_eq(jsonrpc_reload_params(p, &dry, &e), -1);
	error_is(NULL, &e, ERR(-32602, "invalid_params",
	    "'dry_run' must be true or false"));
	ck_assert_int_eq(jsonrpc_reexec_params(p, &s, &e), -1);
	error_is(NULL, &e, ERR(-32602, "invalid_params",
	    "'binary' must be an absolute path"));
	json_decref(p);
}
END_TEST

/* --- error and result objects --------------------------------------------------------------- */

START_TEST(test_error_kinds)
{
	static const struct {
		int		 code;
		const char	*kind;
	} kinds[] = {
		{ RPC_PARSE_ERROR, "parse_error" },
		{ RPC_INVALID_REQUEST, "invalid_request" },
		{ RPC_METHOD_NOT_FOUND, "method_not_found" },
		{ RPC_INVALID_PARAMS, "invalid_params" },
		{ RPC_INTERNAL_ERROR, "internal_error" },
		{ RPC_NOT_FOUND, "not_found" },
		{ RPC_FORBIDDEN, "forbidden" },
		{ RPC_TIMEOUT, "timeout" },
		{ RPC_CONFLICT, "conflict" },
		{ RPC_UNAVAILABLE, "unavailable" },
		{ RPC_REEXEC_FAILED, "reexec_failed" },
		{ 12345, "internal_error" },
	};
	size_t	i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		ck_assert_str_eq(jsonrpc_error_kind(kinds[i].code), kinds[i].kind);
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
	tc = tcase_create("methods");
	tcase_add_test(tc, test_conditions);
	tcase_add_test(tc, test_condition_read);
	tcase_add_test(tc, test_wait_params);
	tcase_add_test(tc, test_kill_params);
	tcase_add_test(tc, test_topics_params);
	tcase_add_test(tc, test_admin_params);
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
