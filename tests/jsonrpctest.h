/*
 * jsonrpctest.h: what the suites of the JSON-RPC core (check_jsonrpc,
 * check_jsonrpc_params) share: JSON text in and out, and the answer an
 * error gets. static inline, so that each suite has its own copy under
 * the short names the suites gave them.
 */
#ifndef WARDEN_TESTS_JSONRPCTEST_H
#define WARDEN_TESTS_JSONRPCTEST_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonrpc.h"

/* v's compact text must be want; v is the test's (freed here). */
static inline void
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

/* text (any JSON value), which must be valid; new reference. */
static inline json_t *
parse(const char *text)
{
	json_t	*v = json_loads(text, JSON_DECODE_ANY, NULL);

	ck_assert_msg(v != NULL, "bad JSON in the test: %s", text);
	return v;
}

/* The answer to the error e under id (null when NULL). */
static inline void
error_is(json_t *id, struct jsonrpc_error *e, const char *want)
{
	text_is(jsonrpc_error_answer(id, e), want);
}

/* The answer to an error under a null id, as text. */
#define ERR(code, kind, msg)						\
	"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":" #code	\
	",\"message\":\"" msg "\",\"data\":{\"kind\":\"" kind "\"}}}"

#endif
