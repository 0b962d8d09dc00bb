/*
 * fuzz_rpc.c: the control protocol's requests, as the JSON-RPC core reads
 * and answers them (src/core/jsonrpc.c, jsonrpc-params.c), and the flag
 * and stage changes they ask for (src/core/flags-ops.c, flags-record.c).
 * Nothing of the daemon runs: no socket, no loop, no table, no tree.
 *
 * Each input is read as a client's line, as the dispatcher reads one:
 *
 *	1. the whole input is one line (JSON may span lines);
 *	2. if it has newlines, each line again, as control.c frames them
 *	   (CR stripped, empty lines skipped), each in a buffer of its exact
 *	   length so that a read past it is caught.
 *
 * A line is framed (jsonrpc_line, under the default limits of
 * warden.json); each request's envelope is checked, and its params go
 * through every reader there is, as any method could have them: params
 * made an object (with and without [] taken for none), the keys of each
 * method's list, wait's condition and timeout, service.kill's names and
 * signal, subscribe's topics, config.reload's dry_run, reexec's binary,
 * flag.get's name, and the params of each flag and stage change, which
 * are then made against a state of the demo's flags and stages and
 * applied (the state persists from input to input, as in a running
 * warden). The first error a reader finds is the request's answer, as the
 * daemon would answer it; a request with none gets a result. A batch
 * collects its members' answers (struct jsonrpc_batch) and is answered
 * whole.
 *
 * Every answer must be one JSON text that reads back the same: an object
 * for a request ({jsonrpc, id, result} or {jsonrpc, id, error: {code,
 * message, data: {kind}}}, the id a string, a number or null, the kind
 * the code's), and for a batch an array of one per member that is not a
 * notification, or nothing. An answer that could not be built (NULL)
 * would leave the client waiting for ever: a failure too. While that is
 * known and reported, FUZZ_KNOWN holding "null-answer" lets it pass (make
 * fuzz sets it from known.checks; make fuzz-regress does not).
 *
 * A first line "#read", "#operate" or "#admin" (roles, in the inputs of
 * the daemon-level target this one replaced) is skipped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "flags.h"
#include "fuzz-util.h"
#include "jsonrpc.h"
#include "log.h"
#include "util.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The demo's flags and stages (conf/warden.json), and a percentage. */
static const char fuzz_rpc_conf[] =
"{\n"
"  \"flags\": {\n"
"    \"use_ets_agent_registry\": { \"default\": false },\n"
"    \"enable_migration_monitoring\": { \"default\": false },\n"
"    \"use_logger_error_context\": { \"default\": false },\n"
"    \"use_genserver_telemetry\": { \"default\": true },\n"
"    \"use_genserver_span_management\": { \"default\": false },\n"
"    \"use_ets_sampled_events\": { \"default\": false },\n"
"    \"enforce_no_process_dict\": { \"default\": false },\n"
"    \"rollout\": { \"default\": 25, \"description\": \"a percentage\" }\n"
"  },\n"
"  \"stages\": [\n"
"    { \"stage\": 1, \"enable\": [\"use_ets_agent_registry\",\n"
"                              \"enable_migration_monitoring\"] },\n"
"    { \"stage\": 2, \"enable\": [\"use_logger_error_context\"] },\n"
"    { \"stage\": 3, \"enable\": [\"use_genserver_span_management\",\n"
"                              \"use_ets_sampled_events\"] },\n"
"    { \"stage\": 4, \"enable\": [\"enforce_no_process_dict\"] }\n"
"  ],\n"
"  \"supervisor\": { \"children\": [\n"
"    { \"name\": \"registry\", \"command\": [\"/bin/true\"] } ] }\n"
"}\n";

/* Each method's list of params, as the method table has them. */
static const char *const *const fuzz_rpc_keys[] = {
	(const char *const []){ NULL },
	(const char *const []){ "service", NULL },
	(const char *const []){ "service", "signal", NULL },
	(const char *const []){ "condition", "timeout_ms", NULL },
	(const char *const []){ "topics", NULL },
	(const char *const []){ "name", NULL },
	(const char *const []){ "dry_run", NULL },
	(const char *const []){ "binary", NULL },
};

static struct config		*conf;
static struct flags		*fs;
static struct jsonrpc_limits	 limits;
static int64_t			 clock_ms = 1714564800000LL;
static int			 verbose;		/* FUZZ_VERBOSE: every answer */
static int			 known_null_answer;	/* FUZZ_KNOWN has null-answer */

#define fuzz_rpc_fail(...)	fuzz_fail("fuzz_rpc", __VA_ARGS__)

/* An answer that could not be built: the client would get nothing. */
static bool
fuzz_rpc_null(const json_t *answer, const char *what)
{
	if (answer != NULL)
		return false;
	if (!known_null_answer)
		fuzz_rpc_fail("%s is NULL: the client gets nothing", what);
	return true;
}

/* {jsonrpc, id, result} or {jsonrpc, id, error: {code, message, data: {kind}}}. */
static void
fuzz_rpc_check_response(const json_t *r)
{
	json_t	*err = json_object_get(r, "error"), *data;
	int	 code;

	if (!json_is_object(r) || !json_is_string(json_object_get(r, "jsonrpc")) ||
	    strcmp(json_string_value(json_object_get(r, "jsonrpc")), "2.0") != 0)
		fuzz_rpc_fail("an answer without \"jsonrpc\": \"2.0\"");
	if (!jsonrpc_id_valid(json_object_get(r, "id")))
		fuzz_rpc_fail("an answer whose id is none");
	if (err == NULL) {
		if (json_object_get(r, "result") == NULL)
			fuzz_rpc_fail("an answer with neither result nor error");
		return;
	}
	code = (int)json_integer_value(json_object_get(err, "code"));
	data = json_object_get(err, "data");
	if (!json_is_integer(json_object_get(err, "code")) ||
	    !json_is_string(json_object_get(err, "message")) ||
	    !json_is_object(data))
		fuzz_rpc_fail("an error without code, message or data");
	if (!json_is_string(json_object_get(data, "kind")) ||
	    strcmp(json_string_value(json_object_get(data, "kind")),
	    jsonrpc_error_kind(code)) != 0)
		fuzz_rpc_fail("error %d: data.kind is not %s", code,
		    jsonrpc_error_kind(code));
}

/* One line's answer: one JSON text that reads back the same. */
static void
fuzz_rpc_send(json_t *answer, size_t members)
{
	json_error_t	 jerr;
	json_t		*back, *v;
	char		*text;
	size_t		 i;

	text = json_dumps(answer, JSON_COMPACT);
	if (text == NULL)
		fuzz_rpc_fail("an answer that cannot be written");
	if (verbose)
		fprintf(stderr, "<- %s\n", text);
	if ((back = json_loads(text, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		fuzz_rpc_fail("an answer is not JSON (%s): %s", jerr.text, text);
	if (!json_equal(back, answer))
		fuzz_rpc_fail("an answer reads back otherwise: %s", text);
	free(text);
	json_decref(back);
	if (!json_is_array(answer)) {
		fuzz_rpc_check_response(answer);
		return;
	}
	if (json_array_size(answer) != members)
		fuzz_rpc_fail("a batch answered with %zu answers, not %zu",
		    json_array_size(answer), members);
	json_array_foreach(answer, i, v)
		fuzz_rpc_check_response(v);
}

/* A change of flags or stage: made against the state, and applied. */
static int
fuzz_rpc_change(enum flags_op op, const json_t *params, json_t **result,
    struct jsonrpc_error *e)
{
	static const int	 codes[] = { [FLAGS_OK] = 0,
	    [FLAGS_INVALID_PARAMS] = RPC_INVALID_PARAMS,
	    [FLAGS_NOT_FOUND] = RPC_NOT_FOUND, [FLAGS_CONFLICT] = RPC_CONFLICT };
	struct flags_actor	 by = { 0, 1, "" };
	struct flags_change	 ch;
	enum flags_err		 fe;
	json_t			*rec = NULL;
	char			 err[512];

	clock_ms += 1000;
	if ((fe = flags_change_read(op, params, &ch, err, sizeof(err))) !=
	    FLAGS_OK ||
	    (fe = flags_op_change(fs, &ch, &by, clock_ms, &rec, err,
	    sizeof(err))) != FLAGS_OK)
		return jsonrpc_fail(e, codes[fe], NULL, "%s", err);
	if (flags_apply(fs, rec) == -1)
		fuzz_rpc_fail("a record %s made does not apply", flags_op_name(op));
	json_decref(*result);
	*result = flags_result_json(fs, rec);
	json_decref(rec);
	return 0;
}

/* The readers of the other methods' params: the first error is the answer. */
static int
fuzz_rpc_readers(json_t *params, struct jsonrpc_error *e)
{
	struct jsonrpc_wait	 w;
	struct jsonrpc_kill	 k;
	json_t			*topics;
	const char		*s;
	bool			 b;

	if (jsonrpc_string_param(params, "service", &s, e) == -1)
		return -1;
	if (jsonrpc_wait_params(params, &w, e) == -1)
		return -1;
	if (w.cond.kind == JSONRPC_COND_SERVICE &&
	    jsonrpc_state_parse(jsonrpc_state_name(w.cond.state)) !=
	    w.cond.state)
		fuzz_rpc_fail("a service condition with a state that is none");
	if (jsonrpc_kill_params(params, &k, e) == -1)
		return -1;
	json_decref(k.names);
	if (jsonrpc_topics_params(params, &topics, e) == -1)
		return -1;
	json_decref(topics);
	if (jsonrpc_reload_params(params, &b, e) == -1 ||
	    jsonrpc_reexec_params(params, &s, e) == -1)
		return -1;
	return jsonrpc_flag_params(params, &s, e);
}

/*
 * A request whose envelope is right. A flag or stage change is made; any
 * other method gets the first error of the readers, all of which run.
 */
static int
fuzz_rpc_params(const struct jsonrpc_request *req, json_t **result,
    struct jsonrpc_error *e)
{
	struct jsonrpc_error	 ignored = { .data = NULL };
	enum flags_op		 op;
	json_t			*params;
	size_t			 i;
	int			 rc;

	if (jsonrpc_params(req->params, true, &params, e) == -1)
		return -1;
	json_decref(params);
	if (jsonrpc_params(req->params, strcmp(req->method, "ping") == 0,
	    &params, e) == -1)
		return -1;
	for (i = 0; i < nitems(fuzz_rpc_keys); i++)
		if (jsonrpc_keys(params, fuzz_rpc_keys[i], &ignored) == -1)
			jsonrpc_error_clear(&ignored);
	rc = fuzz_rpc_readers(params, e);
	if (flags_op_parse(req->method, &op) == 0) {
		jsonrpc_error_clear(e);
		rc = fuzz_rpc_change(op, params, result, e);
	}
	json_decref(params);
	return rc;
}

/* One request's answer; NULL for a notification, which gets none. */
static json_t *
fuzz_rpc_request(json_t *v)
{
	struct jsonrpc_request	 req;
	struct jsonrpc_error	 e = { .data = NULL };
	json_t			*result = NULL, *answer;

	if (jsonrpc_request(v, &req, &e) == -1) {
		/* Answered, notification or not. */
		answer = jsonrpc_error_answer(req.id, &e);
		fuzz_rpc_null(answer, "an error answer");
		return answer;
	}
	if (fuzz_rpc_params(&req, &result, &e) == -1) {
		json_decref(result);
		answer = jsonrpc_error_answer(req.id, &e);
	} else
		answer = jsonrpc_result_response(req.id, result != NULL ?
		    result : json_string("pong"));
	fuzz_rpc_null(answer, "an answer");
	if (req.id == NULL) {
		json_decref(answer);
		return NULL;
	}
	return answer;
}

static void
fuzz_rpc_batch(const struct jsonrpc_line *l)
{
	struct jsonrpc_batch	*b = jsonrpc_batch_new(l->n);
	json_t			*answer, *out = NULL;
	size_t			 i, members = 0;

	for (i = 0; i < l->n; i++) {
		answer = fuzz_rpc_request(jsonrpc_line_request(l, i));
		if (answer != NULL)
			members++;
		if (jsonrpc_batch_put(b, i, answer, &out))
			fuzz_rpc_fail("a batch answered before its end");
	}
	if (!jsonrpc_batch_put(b, l->n, NULL, &out))
		fuzz_rpc_fail("a batch not answered at its end");
	if (out != NULL)
		fuzz_rpc_send(out, members);
	else if (members > 0)
		fuzz_rpc_fail("a batch of %zu answers answered with none",
		    members);
	json_decref(out);
}

static void
fuzz_rpc_line(const char *p, size_t n)
{
	struct jsonrpc_line	 l;
	json_t			*answer;

	jsonrpc_line(p, n, &limits, &l);
	if (l.answer != NULL)
		fuzz_rpc_send(l.answer, 0);
	else if (l.batch)
		fuzz_rpc_batch(&l);
	else if ((answer = fuzz_rpc_request(l.requests)) != NULL) {
		fuzz_rpc_send(answer, 0);
		json_decref(answer);
	}
	jsonrpc_line_free(&l);
}

/* Each line as control.c hands it over: no newline, CR stripped, not empty. */
static void
fuzz_rpc_lines(const char *p, size_t n)
{
	const char	*nl;
	char		*line;
	size_t		 len;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		len = nl != NULL ? (size_t)(nl - p) : n;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > 0) {
			/* Exactly len bytes: a read past the line is caught. */
			line = xmalloc(len);
			memcpy(line, p, len);
			fuzz_rpc_line(line, len);
			free(line);
		}
		if (nl == NULL)
			break;
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
}

/* A first line naming a role: skipped. */
static void
fuzz_rpc_role(const char **p, size_t *n)
{
	static const char *const roles[] = { "#read\n", "#operate\n", "#admin\n" };
	size_t	i, len;

	for (i = 0; i < nitems(roles); i++) {
		len = strlen(roles[i]);
		if (*n >= len && memcmp(*p, roles[i], len) == 0) {
			*p += len;
			*n -= len;
			return;
		}
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	err[1024];

	(void)argc;
	(void)argv;
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	known_null_answer = getenv("FUZZ_KNOWN") != NULL &&
	    strstr(getenv("FUZZ_KNOWN"), "null-answer") != NULL;
	log_init("fuzz_rpc", verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERR);
	if (config_parse(fuzz_rpc_conf, strlen(fuzz_rpc_conf), "warden.json",
	    &conf, err, sizeof(err)) == -1)
		fuzz_rpc_fail("%s", err);
	limits.max_json_depth = conf->limits.max_json_depth;
	limits.max_batch = conf->limits.max_batch;
	fs = flags_new(conf);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data;
	size_t		 n = size;

	fuzz_rpc_role(&p, &n);
	if (n == 0)
		return 0;	/* control.c never hands over an empty line */
	fuzz_rpc_line(p, n);
	if (memchr(p, '\n', n) != NULL)
		fuzz_rpc_lines(p, n);
	return 0;
}
