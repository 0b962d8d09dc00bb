/*
 * check_jsonrpc_params.c: the readers of each method's params
 * (src/core/jsonrpc-params.c) on their own, no daemon: wait's conditions
 * and timeout, service.kill, subscribe, config.reload, reexec, flag.get,
 * what each reads and the params each refuses, with the error it answers.
 */
#include <check.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonrpc.h"
#include "jsonrpctest.h"
#include "suite.h"
#include "util.h"

/* --- wait ---------------------------------------------------------------------------- */

static const struct {
	const char	*cond;
	const char	*why;		/* NULL: a condition */
} conds[] = {
	{ "5", "'condition' must be an object" },
	{ "{}", "a condition is {\"service\":NAME,\"state\":STATE}, "
	    "{\"service\":NAME,\"health\":HEALTH}, "
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
	/* A liveness verdict, with or without a state. */
	{ "{\"service\":\"a\",\"health\":\"healthy\"}", NULL },
	{ "{\"service\":\"a\",\"health\":\"unhealthy\",\"state\":"
	    "\"stopping\",\"min_restarts\":2}", NULL },
	{ "{\"service\":\"a\",\"health\":\"starting\"}", NULL },
	{ "{\"service\":\"a\",\"health\":\"ok\"}",
	    "'health' must be one of starting, healthy, unhealthy" },
	{ "{\"service\":\"a\",\"health\":true}",
	    "'health' must be one of starting, healthy, unhealthy" },
	{ "{\"service\":\"a\",\"health\":\"healthy\",\"state\":\"up\"}",
	    "'state' must be one of stopped, starting, running, stopping, "
	    "backoff, failed" },
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

START_TEST(test_wait_params)
{
	struct jsonrpc_error	 e;
	struct jsonrpc_wait	 w;
	json_t			*p;

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
}
END_TEST

/* subscribe's params text read: its topics, a copy, as want (NULL: all). */
static void
topics_are(const char *text, const char *want)
{
	struct jsonrpc_error	 e;
	json_t			*p = parse(text), *t;

	ck_assert_msg(jsonrpc_topics_params(p, &t, &e) == 0, "%s: refused",
	    text);
	if (want == NULL)
		ck_assert_ptr_null(t);
	else {
		ck_assert_ptr_ne(t, json_object_get(p, "topics"));
		text_is(t, want);
	}
	json_decref(p);
}

START_TEST(test_topics_params)
{
	topics_are("{}", NULL);
	topics_are("{\"topics\":null}", NULL);
	/* An empty list is every event, as none is. */
	topics_are("{\"topics\":[]}", NULL);
	topics_are("{\"topics\":[\"flag\",\"service.exited\",\"table.\"]}",
	    "[\"flag\",\"service.exited\",\"table.\"]");
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
	json_decref(p);
}
END_TEST

/* The readers of the methods' params the refusals below call. */
enum reader { READ_WAIT, READ_KILL, READ_TOPICS, READ_FLAG, READ_RELOAD,
    READ_REEXEC };

static int
read_params(enum reader r, json_t *p, struct jsonrpc_error *e)
{
	union {
		struct jsonrpc_wait	 w;
		struct jsonrpc_kill	 k;
		json_t			*t;
		const char		*s;
		bool			 dry;
	} out;
	int	rc = -2;

	switch (r) {
	case READ_WAIT:
		return jsonrpc_wait_params(p, &out.w, e);
	case READ_KILL:
		/* A refused kill leaves no names behind. */
		if ((rc = jsonrpc_kill_params(p, &out.k, e)) == -1)
			ck_assert_ptr_null(out.k.names);
		break;
	case READ_TOPICS:
		return jsonrpc_topics_params(p, &out.t, e);
	case READ_FLAG:
		return jsonrpc_flag_params(p, &out.s, e);
	case READ_RELOAD:
		return jsonrpc_reload_params(p, &out.dry, e);
	case READ_REEXEC:
		return jsonrpc_reexec_params(p, &out.s, e);
	}
	return rc;
}

#define INVALID(msg)	ERR(-32602, "invalid_params", msg)
#define TIMEOUT_RANGE	\
	INVALID("'timeout_ms' must be an integer from 0 to 86400000")
#define NOT_TOPICS	INVALID("'topics' must be a list of strings")

/* Params a method's reader refuses, and the error it answers. */
static const struct {
	const char	*what;
	enum reader	 read;
	const char	*params;
	const char	*want;
} refused[] = {
	{ "wait without a condition", READ_WAIT, "{}",
	  INVALID("missing parameter 'condition'") },
	{ "wait: the condition is read first", READ_WAIT,
	  "{\"condition\":{\"stage\":\"x\"},\"timeout_ms\":-1}",
	  INVALID("'stage' must be an integer >= 0") },
	{ "wait: a timeout below 0", READ_WAIT,
	  "{\"condition\":{\"stage\":2},\"timeout_ms\":-1}", TIMEOUT_RANGE },
	{ "wait: a timeout above a day", READ_WAIT,
	  "{\"condition\":{\"stage\":2},\"timeout_ms\":86400001}",
	  TIMEOUT_RANGE },
	{ "wait: a timeout as a string", READ_WAIT,
	  "{\"condition\":{\"stage\":2},\"timeout_ms\":\"1\"}", TIMEOUT_RANGE },
	{ "wait: a timeout not whole", READ_WAIT,
	  "{\"condition\":{\"stage\":2},\"timeout_ms\":1.5}", TIMEOUT_RANGE },
	{ "wait: a null timeout", READ_WAIT,
	  "{\"condition\":{\"stage\":2},\"timeout_ms\":null}", TIMEOUT_RANGE },
	{ "kill: an empty list", READ_KILL, "{\"service\":[]}", NOT_NAMES },
	{ "kill: a list with a number", READ_KILL, "{\"service\":[\"a\",1]}",
	  NOT_NAMES },
	{ "kill: an object", READ_KILL, "{\"service\":{}}", NOT_NAMES },
	{ "kill: no service", READ_KILL, "{}", NOT_NAMES },
	{ "kill: no such signal", READ_KILL,
	  "{\"service\":\"a\",\"signal\":\"NOPE\"}", NOT_SIGNAL },
	{ "kill: signal 0", READ_KILL, "{\"service\":\"a\",\"signal\":0}",
	  NOT_SIGNAL },
	{ "kill: a signal not whole", READ_KILL,
	  "{\"service\":\"a\",\"signal\":1.5}", NOT_SIGNAL },
	{ "kill: the signal is looked at first", READ_KILL,
	  "{\"service\":[],\"signal\":true}", NOT_SIGNAL },
	{ "subscribe: topics not a list", READ_TOPICS,
	  "{\"topics\":\"flag\"}", NOT_TOPICS },
	{ "subscribe: an empty topic", READ_TOPICS,
	  "{\"topics\":[\"flag\",\"\"]}", NOT_TOPICS },
	{ "subscribe: a topic nothing is sent under, by name", READ_TOPICS,
	  "{\"topics\":[\"flag\",\"service.exit\"]}",
	  INVALID("unknown topic 'service.exit': neither an event type nor a "
	  "prefix of one ending at a dot") },
	{ "subscribe: a prefix not ending at a dot", READ_TOPICS,
	  "{\"topics\":[\"servic\"]}",
	  INVALID("unknown topic 'servic': neither an event type nor a "
	  "prefix of one ending at a dot") },
	{ "subscribe: a type with a dot after it", READ_TOPICS,
	  "{\"topics\":[\"service.exited.\"]}",
	  INVALID("unknown topic 'service.exited.': neither an event type "
	  "nor a prefix of one ending at a dot") },
	{ "flag.get without a name", READ_FLAG, "{}",
	  INVALID("'name' must be a flag's name") },
	{ "config.reload: dry_run not a boolean", READ_RELOAD,
	  "{\"dry_run\":\"yes\",\"binary\":\"warden\"}",
	  INVALID("'dry_run' must be true or false") },
	{ "reexec: a binary not absolute", READ_REEXEC,
	  "{\"dry_run\":\"yes\",\"binary\":\"warden\"}",
	  INVALID("'binary' must be an absolute path") },
};

START_TEST(test_params_refused)
{
	struct jsonrpc_error	 e;
	json_t			*p = parse(refused[_i].params);

	ck_assert_msg(read_params(refused[_i].read, p, &e) == -1,
	    "%s: accepted", refused[_i].what);
	error_is(NULL, &e, refused[_i].want);
	json_decref(p);
}
END_TEST

static Suite *
jsonrpc_params_suite(void)
{
	Suite	*s = suite_create("jsonrpc_params");
	TCase	*tc = tcase_create("methods");

	tcase_add_test(tc, test_conditions);
	tcase_add_test(tc, test_condition_read);
	tcase_add_test(tc, test_wait_params);
	tcase_add_test(tc, test_kill_params);
	tcase_add_test(tc, test_topics_params);
	tcase_add_test(tc, test_admin_params);
	tcase_add_loop_test(tc, test_params_refused, 0, (int)nitems(refused));
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(jsonrpc_params_suite)
