/*
 * jsonrpc.c: JSON-RPC 2.0 framing, envelopes, errors and batches (see
 * jsonrpc.h). The readers of each method's params are in jsonrpc-params.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "util.h"

/* --- errors and answers ---------------------------------------------------- */

static const struct {
	int		 code;
	const char	*kind;
} jsonrpc_kinds[] = {
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
};

const char *
jsonrpc_error_kind(int code)
{
	size_t	i;

	for (i = 0; i < nitems(jsonrpc_kinds); i++)
		if (jsonrpc_kinds[i].code == code)
			return jsonrpc_kinds[i].kind;
	return "internal_error";
}

/* The length of the UTF-8 sequence at p, or 0 when it is not one. */
static size_t
jsonrpc_utf8_len(const unsigned char *p)
{
	size_t	n, i;

	n = (*p & 0xe0) == 0xc0 && *p >= 0xc2 ? 2 :
	    (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 && *p <= 0xf4 ? 4 : 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && *p == 0xe0 && p[1] < 0xa0) ||		/* overlong */
	    (n == 3 && *p == 0xed && p[1] >= 0xa0) ||		/* surrogate */
	    (n == 4 && *p == 0xf0 && p[1] < 0x90) ||		/* overlong */
	    (n == 4 && *p == 0xf4 && p[1] >= 0x90))		/* > U+10FFFF */
		return 0;
	return n;
}

void
jsonrpc_utf8_clean(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 n;

	while (*p != '\0') {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((n = jsonrpc_utf8_len(p)) == 0)
			*p++ = '?';
		else
			p += n;
	}
}

int
jsonrpc_fail(struct jsonrpc_error *e, int code, json_t *data, const char *fmt, ...)
{
	va_list	ap;

	e->code = code;
	e->data = data;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

void
jsonrpc_error_clear(struct jsonrpc_error *e)
{
	json_decref(e->data);
	e->data = NULL;
}

json_t *
jsonrpc_error_vresponse(json_t *id, int code, json_t *data, const char *fmt,
    va_list ap)
{
	char	 msg[JSONRPC_MESSAGE_MAX];
	json_t	*r;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	jsonrpc_utf8_clean(msg);
	if (data == NULL)
		data = json_object();
	json_object_set_new(data, "kind", json_string(jsonrpc_error_kind(code)));
	r = json_pack("{s:s,s:O,s:{s:i,s:s,s:o}}", "jsonrpc", "2.0",
	    "id", id != NULL ? id : json_null(),
	    "error", "code", code, "message", msg, "data", data);
	if (r == NULL)	/* never expected: still, an answer rather than none */
		r = json_pack("{s:s,s:n,s:{s:i,s:s}}", "jsonrpc", "2.0", "id",
		    "error", "code", RPC_INTERNAL_ERROR, "message", "error");
	return r;
}

json_t *
jsonrpc_error_response(json_t *id, int code, json_t *data, const char *fmt, ...)
{
	va_list	 ap;
	json_t	*r;

	va_start(ap, fmt);
	r = jsonrpc_error_vresponse(id, code, data, fmt, ap);
	va_end(ap);
	return r;
}

json_t *
jsonrpc_error_answer(json_t *id, struct jsonrpc_error *e)
{
	json_t	*data = e->data;

	e->data = NULL;
	return jsonrpc_error_response(id, e->code, data, "%s", e->message);
}

json_t *
jsonrpc_result_response(json_t *id, json_t *result)
{
	json_t	*r = json_object();

	/* Every answer goes through here: no json_pack format to parse. */
	json_object_set_new_nocheck(r, "jsonrpc", json_string_nocheck("2.0"));
	json_object_set_nocheck(r, "id", id != NULL ? id : json_null());
	json_object_set_new_nocheck(r, "result", result);
	return r;
}

/* --- framing ------------------------------------------------------------------ */

size_t
jsonrpc_depth(const char *s, size_t len)
{
	size_t	i, depth = 0, max = 0;
	bool	in_string = false;

	for (i = 0; i < len; i++) {
		if (in_string) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_string = false;
			continue;
		}
		switch (s[i]) {
		case '"':
			in_string = true;
			break;
		case '[':
		case '{':
			if (++depth > max)
				max = depth;
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			break;
		}
	}
	return max;
}

void
jsonrpc_line(const char *s, size_t len, const struct jsonrpc_limits *lim,
    struct jsonrpc_line *out)
{
	json_error_t	 jerr;
	json_t		*v;
	size_t		 n;

	memset(out, 0, sizeof(*out));
	/* Before parsing: a request nested past the limit costs one pass. */
	if (jsonrpc_depth(s, len) > (size_t)lim->max_json_depth) {
		out->answer = jsonrpc_error_response(NULL, RPC_INVALID_REQUEST,
		    NULL, "a request nested deeper than %d levels",
		    lim->max_json_depth);
		return;
	}
	v = json_loadb(s, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (v == NULL) {
		out->answer = jsonrpc_error_response(NULL, RPC_PARSE_ERROR, NULL,
		    "parse error at column %d: %s", jerr.column, jerr.text);
		return;
	}
	if (!json_is_array(v)) {
		out->requests = v;
		out->n = 1;
		return;
	}
	n = json_array_size(v);
	if (n == 0 || n > (size_t)lim->max_batch) {
		out->answer = jsonrpc_error_response(NULL, RPC_INVALID_REQUEST,
		    NULL, n == 0 ? "an empty batch" : "a batch over %d requests",
		    lim->max_batch);
		json_decref(v);
		return;
	}
	out->requests = v;
	out->batch = true;
	out->n = n;
}

json_t *
jsonrpc_line_request(const struct jsonrpc_line *l, size_t i)
{
	return l->batch ? json_array_get(l->requests, i) : l->requests;
}

void
jsonrpc_line_free(struct jsonrpc_line *l)
{
	json_decref(l->answer);
	json_decref(l->requests);
	memset(l, 0, sizeof(*l));
}

/* --- requests ------------------------------------------------------------------ */

bool
jsonrpc_id_valid(const json_t *id)
{
	return json_is_string(id) || json_is_integer(id) || json_is_real(id) ||
	    json_is_null(id);
}

static const char *
jsonrpc_unknown_member(json_t *v)
{
	const char	*key;
	json_t		*m;

	json_object_foreach(v, key, m)
		if (strcmp(key, "jsonrpc") != 0 && strcmp(key, "id") != 0 &&
		    strcmp(key, "method") != 0 && strcmp(key, "params") != 0)
			return key;
	return NULL;
}

int
jsonrpc_request(json_t *v, struct jsonrpc_request *req, struct jsonrpc_error *e)
{
	json_t		*id, *ver, *method;
	const char	*unknown;

	memset(req, 0, sizeof(*req));
	if (!json_is_object(v)) {
		req->id = json_null();
		return jsonrpc_fail(e, RPC_INVALID_REQUEST, NULL,
		    "a request must be an object");
	}
	id = json_object_get(v, "id");
	if (id != NULL && !jsonrpc_id_valid(id)) {
		req->id = json_null();
		return jsonrpc_fail(e, RPC_INVALID_REQUEST, NULL,
		    "'id' must be a string, a number or null");
	}
	/* From here on an error is answered, with its id or with null. */
	req->id = id != NULL ? id : json_null();
	if ((unknown = jsonrpc_unknown_member(v)) != NULL)
		return jsonrpc_fail(e, RPC_INVALID_REQUEST, NULL,
		    "unknown member '%s'", unknown);
	ver = json_object_get(v, "jsonrpc");
	method = json_object_get(v, "method");
	if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0 ||
	    !json_is_string(method))
		return jsonrpc_fail(e, RPC_INVALID_REQUEST, NULL,
		    "a request needs \"jsonrpc\": \"2.0\" and a string \"method\"");
	req->id = id;
	req->method = json_string_value(method);
	req->params = json_object_get(v, "params");
	return 0;
}

int
jsonrpc_params(json_t *params, bool array_ok, json_t **out,
    struct jsonrpc_error *e)
{
	*out = NULL;
	if (params == NULL || json_is_null(params) ||
	    (json_is_array(params) && json_array_size(params) == 0 && array_ok)) {
		*out = json_object();
		return 0;
	}
	if (!json_is_object(params))
		return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
		    "'params' must be an object");
	*out = json_incref(params);
	return 0;
}

int
jsonrpc_keys(const json_t *params, const char *const *allowed,
    struct jsonrpc_error *e)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	json_object_foreach((json_t *)params, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return jsonrpc_fail(e, RPC_INVALID_PARAMS, NULL,
			    "unknown parameter '%s'", key);
	}
	return 0;
}

/* --- batches ---------------------------------------------------------------------- */

struct jsonrpc_batch *
jsonrpc_batch_new(size_t n)
{
	struct jsonrpc_batch	*b = xcalloc(1, sizeof(*b));
	size_t			 i;

	b->slots = json_array();
	for (i = 0; i <= n; i++)
		json_array_append_new(b->slots, json_null());
	b->outstanding = n + 1;
	return b;
}

/* The answers collected, in order; NULL when there is none. */
static json_t *
jsonrpc_batch_answers(const struct jsonrpc_batch *b)
{
	json_t	*out = json_array(), *v;
	size_t	 i;

	json_array_foreach(b->slots, i, v)
		if (!json_is_null(v))
			json_array_append(out, v);
	if (json_array_size(out) == 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

bool
jsonrpc_batch_put(struct jsonrpc_batch *b, size_t slot, json_t *response,
    json_t **out)
{
	*out = NULL;
	if (response != NULL)
		json_array_set_new(b->slots, slot, response);
	if (--b->outstanding > 0)
		return false;
	*out = jsonrpc_batch_answers(b);
	jsonrpc_batch_free(b);
	return true;
}

bool
jsonrpc_batch_drop(struct jsonrpc_batch *b)
{
	if (--b->outstanding > 0)
		return false;
	jsonrpc_batch_free(b);
	return true;
}

struct jsonrpc_batch *
jsonrpc_batch_adopt(const json_t *slots)
{
	struct jsonrpc_batch	*b = xcalloc(1, sizeof(*b));

	b->slots = json_deep_copy(slots);
	return b;
}

void
jsonrpc_batch_free(struct jsonrpc_batch *b)
{
	if (b == NULL)
		return;
	json_decref(b->slots);
	free(b);
}
