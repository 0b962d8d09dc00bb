/*
 * check_jsonrpc_cli.c: the readers of the params of the operator's
 * daily commands (src/core/jsonrpc-params.c) and the event types of the
 * protocol (src/proto/protocol.h), on their own, no daemon: which topics
 * subscribe takes, service.signal's services and signal, stage.get's
 * limit. Each bad value is an error naming what is wrong.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonrpc.h"
#include "jsonrpctest.h"
#include "suite.h"
#include "util.h"

#define NOT_NAMES ERR(-32602, "invalid_params", \
	"'service' must be a name, a list of names or \\\"*\\\"")

/* Every event type is a topic; so is each prefix of one ending at a dot. */
START_TEST(test_event_topics)
{
	size_t	i;

	for (i = 0; i < RPC_NEVENT_TYPES; i++)
		ck_assert(rpc_event_topic_known(rpc_event_types[i]));
	ck_assert(rpc_event_topic_known("service"));
	ck_assert(rpc_event_topic_known("service."));
	ck_assert(rpc_event_topic_known("service.signaled"));
	ck_assert(rpc_event_topic_known("warden."));
	ck_assert(!rpc_event_topic_known(""));
	ck_assert(!rpc_event_topic_known("."));
	ck_assert(!rpc_event_topic_known("serv"));
	ck_assert(!rpc_event_topic_known("service.start"));
	ck_assert(!rpc_event_topic_known("bogus"));
	ck_assert(!rpc_event_topic_known("service.started.x"));
}
END_TEST

#define NOT_SIGNAL_NAMED ERR(-32602, "invalid_params", "'signal' is not a " \
	"signal (a name such as HUP or SIGHUP, or a number)")

/* service.signal: the services as kill's; the signal must be given. */
START_TEST(test_signal_params)
{
	struct jsonrpc_error	 e;
	struct jsonrpc_kill	 k;
	json_t			*p;

	p = parse("{\"service\":[\"a\",\"b\"],\"signal\":\"HUP\"}");
	ck_assert_int_eq(jsonrpc_signal_params(p, &k, &e), 0);
	ck_assert_int_eq(k.sig, SIGHUP);
	ck_assert(!k.all);
	text_is(k.names, "[\"a\",\"b\"]");
	json_decref(p);
	p = parse("{\"service\":\"*\",\"signal\":10}");
	ck_assert_int_eq(jsonrpc_signal_params(p, &k, &e), 0);
	ck_assert(k.all && k.sig == 10 && k.names == NULL);
	json_decref(p);
	p = parse("{\"service\":\"a\"}");
	ck_assert_int_eq(jsonrpc_signal_params(p, &k, &e), -1);
	error_is(NULL, &e, ERR(-32602, "invalid_params",
	    "missing parameter 'signal'"));
	json_decref(p);
	p = parse("{\"service\":\"a\",\"signal\":\"HUPP\"}");
	ck_assert_int_eq(jsonrpc_signal_params(p, &k, &e), -1);
	error_is(NULL, &e, NOT_SIGNAL_NAMED);
	json_decref(p);
	p = parse("{\"service\":\"a\",\"signal\":0}");
	ck_assert_int_eq(jsonrpc_signal_params(p, &k, &e), -1);
	error_is(NULL, &e, NOT_SIGNAL_NAMED);
	json_decref(p);
	p = parse("{\"service\":[],\"signal\":\"HUP\"}");
	ck_assert_int_eq(jsonrpc_signal_params(p, &k, &e), -1);
	ck_assert_ptr_null(k.names);
	error_is(NULL, &e, NOT_NAMES);
	json_decref(p);
}
END_TEST

/* stage.get's limit: absent, or 0 to RPC_LIMIT_MAX. */
START_TEST(test_limit_param)
{
	struct jsonrpc_error	 e;
	json_int_t		 n;
	json_t			*p;
	const char		*bad[] = { "{\"limit\":-1}", "{\"limit\":\"5\"}",
	    "{\"limit\":1.5}", "{\"limit\":1000001}",
	    "{\"limit\":9223372036854775807}", "{\"limit\":null}" };
	size_t			 i;

	p = parse("{}");
	ck_assert_int_eq(jsonrpc_limit_param(p, &n, &e), 0);
	ck_assert_int_eq(n, -1);
	json_decref(p);
	p = parse("{\"limit\":0}");
	ck_assert_int_eq(jsonrpc_limit_param(p, &n, &e), 0);
	ck_assert_int_eq(n, 0);
	json_decref(p);
	p = parse("{\"limit\":1000000}");
	ck_assert_int_eq(jsonrpc_limit_param(p, &n, &e), 0);
	ck_assert_int_eq(n, 1000000);
	json_decref(p);
	for (i = 0; i < nitems(bad); i++) {
		p = parse(bad[i]);
		ck_assert_int_eq(jsonrpc_limit_param(p, &n, &e), -1);
		error_is(NULL, &e, ERR(-32602, "invalid_params",
		    "'limit' must be an integer from 0 to 1000000"));
		json_decref(p);
	}
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("jsonrpc_cli");
	TCase	*tc = tcase_create("params");

	tcase_add_test(tc, test_event_topics);
	tcase_add_test(tc, test_signal_params);
	tcase_add_test(tc, test_limit_param);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
