/*
 * etcd-parse.c: the gateway's answers read (etcd.h says how strictly).
 * Each reader fills a local copy and hands it over only when every field
 * it read was right, so a failure leaves nothing to free.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "util.h"

static int
etcd_fail(char err[ETCD_ERR_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
etcd_fail(char err[ETCD_ERR_MAX], const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, ETCD_ERR_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

/* --- errors ------------------------------------------------------------------- */

/*
 * Unary calls answer {"error": "msg", "code": N, "message": "msg"}; the
 * streams {"error": {"grpc_code": N, "http_code": H, "message": "msg",
 * "http_status": "..."}}.
 */
int
etcd_error_parse(const json_t *j, struct etcd_error *e)
{
	const json_t	*err = json_object_get(j, "error");
	const json_t	*code, *msg;

	if (err == NULL)
		return 0;
	if (json_is_object(err)) {
		code = json_object_get(err, "grpc_code");
		msg = json_object_get(err, "message");
	} else {
		code = json_object_get(j, "code");
		msg = json_object_get(j, "message");
		if (!json_is_string(msg))
			msg = err;
	}
	e->code = json_is_integer(code) && json_integer_value(code) >= 0 &&
	    json_integer_value(code) < 1000 ? (int)json_integer_value(code) : -1;
	snprintf(e->message, sizeof(e->message), "%s",
	    json_is_string(msg) ? json_string_value(msg) : "(no message)");
	return 1;
}

/* Fails with "etcd error N: message" when j is a gateway error. */
static int
etcd_check_answer(const json_t *j, const char *what, char err[ETCD_ERR_MAX])
{
	struct etcd_error	e;

	if (!json_is_object(j))
		return etcd_fail(err, "%s: not a JSON object", what);
	if (etcd_error_parse(j, &e))
		return etcd_fail(err, "etcd error %d: %.200s", e.code, e.message);
	return 0;
}

/* --- fields ------------------------------------------------------------------- */

/* An int64 member, absent = 0. */
static int
etcd_get_int64(const json_t *o, const char *where, const char *name,
    int64_t *out, char err[ETCD_ERR_MAX])
{
	const json_t	*v = json_object_get(o, name);

	*out = 0;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || etcd_int64_parse(json_string_value(v), out) == -1)
		return etcd_fail(err, "%s%s: not an int64 string of digits",
		    where, name);
	return 0;
}

/*
 * A revision: an int64 below the last, so that "the one after it" (a
 * watch's start, a compare's bound) is one too, whatever etcd says.
 */
static int
etcd_get_rev(const json_t *o, const char *where, const char *name,
    int64_t *out, char err[ETCD_ERR_MAX])
{
	if (etcd_get_int64(o, where, name, out, err) == -1)
		return -1;
	if (*out == INT64_MAX)
		return etcd_fail(err, "%s%s: %" PRId64 " leaves no revision after "
		    "it", where, name, *out);
	return 0;
}

static int
etcd_get_bool(const json_t *o, const char *where, const char *name, bool *out,
    char err[ETCD_ERR_MAX])
{
	const json_t	*v = json_object_get(o, name);

	*out = false;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return etcd_fail(err, "%s%s: not a boolean", where, name);
	*out = json_is_true(v);
	return 0;
}

/* A base64 member, absent = empty. */
static int
etcd_get_bytes(const json_t *o, const char *where, const char *name,
    struct etcd_buf *out, char err[ETCD_ERR_MAX])
{
	const json_t	*v = json_object_get(o, name);

	if (v == NULL)
		return etcd_b64_decode("", 0, out);
	if (!json_is_string(v) ||
	    etcd_b64_decode(json_string_value(v), json_string_length(v), out) == -1)
		return etcd_fail(err, "%s%s: not base64", where, name);
	return 0;
}

/* An object member, absent = NULL (0), present but not an object = -1. */
static int
etcd_get_object(const json_t *o, const char *where, const char *name,
    const json_t **out, char err[ETCD_ERR_MAX])
{
	*out = json_object_get(o, name);
	if (*out != NULL && !json_is_object(*out))
		return etcd_fail(err, "%s%s: not an object", where, name);
	return 0;
}

/* An array member, absent = empty. */
static int
etcd_get_array(const json_t *o, const char *where, const char *name,
    const json_t **out, char err[ETCD_ERR_MAX])
{
	*out = json_object_get(o, name);
	if (*out != NULL && !json_is_array(*out))
		return etcd_fail(err, "%s%s: not an array", where, name);
	return 0;
}

/* The header's revision: 0 when there is no header or no revision. */
static int
etcd_get_revision(const json_t *o, const char *where, int64_t *rev,
    char err[ETCD_ERR_MAX])
{
	const json_t	*h;
	char		 w[64];

	if (etcd_get_object(o, where, "header", &h, err) == -1)
		return -1;
	snprintf(w, sizeof(w), "%sheader.", where);
	return etcd_get_rev(h, w, "revision", rev, err);
}

static void
etcd_kv_free(struct etcd_kv *kv)
{
	etcd_buf_free(&kv->key);
	etcd_buf_free(&kv->value);
}

static int
etcd_parse_kv(const json_t *o, const char *where, struct etcd_kv *kv,
    char err[ETCD_ERR_MAX])
{
	size_t	n = strlen(where);

	memset(kv, 0, sizeof(*kv));
	/* where names its fields ("kvs[3]."): the kv itself without the dot. */
	if (!json_is_object(o))
		return etcd_fail(err, "%.*s: not an object", (int)(n > 0 &&
		    where[n - 1] == '.' ? n - 1 : n), where);
	if (etcd_get_rev(o, where, "create_revision", &kv->create_revision,
	    err) == -1 ||
	    etcd_get_rev(o, where, "mod_revision", &kv->mod_revision, err) == -1 ||
	    etcd_get_int64(o, where, "version", &kv->version, err) == -1 ||
	    etcd_get_int64(o, where, "lease", &kv->lease, err) == -1)
		return -1;
	if (json_object_get(o, "key") == NULL)
		return etcd_fail(err, "%skey: missing", where);
	if (etcd_get_bytes(o, where, "key", &kv->key, err) == -1)
		return -1;
	if (etcd_get_bytes(o, where, "value", &kv->value, err) == -1) {
		etcd_kv_free(kv);
		return -1;
	}
	return 0;
}

/* --- range -------------------------------------------------------------------- */

void
etcd_range_free(struct etcd_range *r)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		etcd_kv_free(&r->kvs[i]);
	free(r->kvs);
	memset(r, 0, sizeof(*r));
}

/* A range's body, at where ("" or "responses[2].response_range."). */
static int
etcd_range_body(const json_t *j, const char *where, struct etcd_range *out,
    char err[ETCD_ERR_MAX])
{
	struct etcd_range	 r;
	const json_t		*kvs;
	char			 w[96];
	size_t			 i;

	memset(&r, 0, sizeof(r));
	if (etcd_get_revision(j, where, &r.revision, err) == -1 ||
	    etcd_get_int64(j, where, "count", &r.count, err) == -1 ||
	    etcd_get_bool(j, where, "more", &r.more, err) == -1 ||
	    etcd_get_array(j, where, "kvs", &kvs, err) == -1)
		return -1;
	r.kvs = xcalloc(json_array_size(kvs) + 1, sizeof(*r.kvs));
	for (i = 0; i < json_array_size(kvs); i++, r.n++) {
		snprintf(w, sizeof(w), "%skvs[%zu].", where, i);
		if (etcd_parse_kv(json_array_get(kvs, i), w, &r.kvs[i], err) == -1) {
			etcd_range_free(&r);
			return -1;
		}
	}
	*out = r;
	return 0;
}

int
etcd_parse_range(const json_t *j, struct etcd_range *out, char err[ETCD_ERR_MAX])
{
	if (etcd_check_answer(j, "range", err) == -1)
		return -1;
	return etcd_range_body(j, "", out, err);
}

int
etcd_parse_header(const json_t *j, int64_t *revision, char err[ETCD_ERR_MAX])
{
	if (etcd_check_answer(j, "answer", err) == -1)
		return -1;
	return etcd_get_revision(j, "", revision, err);
}

int
etcd_parse_delete(const json_t *j, int64_t *revision, int64_t *deleted,
    char err[ETCD_ERR_MAX])
{
	if (etcd_check_answer(j, "deleterange", err) == -1 ||
	    etcd_get_revision(j, "", revision, err) == -1)
		return -1;
	return etcd_get_int64(j, "", "deleted", deleted, err);
}

/* --- txn ---------------------------------------------------------------------- */

void
etcd_txn_free(struct etcd_txn *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		etcd_range_free(&t->resp[i].range);
	free(t->resp);
	memset(t, 0, sizeof(*t));
}

/* One of a txn's responses: exactly one of the three members. */
static int
etcd_txn_resp(const json_t *o, size_t i, struct etcd_txn_resp *r,
    char err[ETCD_ERR_MAX])
{
	static const char *const names[] = { "response_range", "response_put",
					     "response_delete_range" };
	const json_t	*body = NULL;
	char		 w[96];
	int		 k, found = 0;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o))
		return etcd_fail(err, "responses[%zu]: not an object", i);
	for (k = 0; k < 3; k++) {
		const json_t	*b = json_object_get(o, names[k]);

		if (b != NULL) {
			found++;
			body = b;
			r->kind = (enum etcd_op)k;
		}
	}
	if (found != 1 || !json_is_object(body))
		return etcd_fail(err, "responses[%zu]: expected one object of "
		    "response_range, response_put or response_delete_range", i);
	snprintf(w, sizeof(w), "responses[%zu].%s.", i, names[r->kind]);
	if (r->kind == ETCD_OP_RANGE) {
		if (etcd_range_body(body, w, &r->range, err) == -1)
			return -1;
		r->revision = r->range.revision;
		return 0;
	}
	if (etcd_get_revision(body, w, &r->revision, err) == -1)
		return -1;
	return r->kind == ETCD_OP_DELETE ?
	    etcd_get_int64(body, w, "deleted", &r->deleted, err) : 0;
}

int
etcd_parse_txn(const json_t *j, struct etcd_txn *out, char err[ETCD_ERR_MAX])
{
	struct etcd_txn	 t;
	const json_t	*resp;
	size_t		 i;

	memset(&t, 0, sizeof(t));
	if (etcd_check_answer(j, "txn", err) == -1 ||
	    etcd_get_revision(j, "", &t.revision, err) == -1 ||
	    etcd_get_bool(j, "", "succeeded", &t.succeeded, err) == -1 ||
	    etcd_get_array(j, "", "responses", &resp, err) == -1)
		return -1;
	t.resp = xcalloc(json_array_size(resp) + 1, sizeof(*t.resp));
	for (i = 0; i < json_array_size(resp); i++, t.n++)
		if (etcd_txn_resp(json_array_get(resp, i), i, &t.resp[i],
		    err) == -1) {
			etcd_txn_free(&t);
			return -1;
		}
	*out = t;
	return 0;
}

/* --- watch -------------------------------------------------------------------- */

void
etcd_watch_free(struct etcd_watch *w)
{
	size_t	i;

	for (i = 0; i < w->n; i++)
		etcd_kv_free(&w->events[i].kv);
	free(w->events);
	free(w->cancel_reason);
	memset(w, 0, sizeof(*w));
}

static int
etcd_parse_event(const json_t *o, size_t i, struct etcd_event *ev,
    char err[ETCD_ERR_MAX])
{
	const json_t	*type, *kv;
	char		 w[64];

	snprintf(w, sizeof(w), "result.events[%zu].", i);
	if (!json_is_object(o))
		return etcd_fail(err, "result.events[%zu]: not an object", i);
	type = json_object_get(o, "type");
	if (type == NULL || (json_is_string(type) &&
	    strcmp(json_string_value(type), "PUT") == 0))
		ev->type = ETCD_EVENT_PUT;
	else if (json_is_string(type) &&
	    strcmp(json_string_value(type), "DELETE") == 0)
		ev->type = ETCD_EVENT_DELETE;
	else
		return etcd_fail(err, "%stype: expected PUT or DELETE", w);
	if ((kv = json_object_get(o, "kv")) == NULL)
		return etcd_fail(err, "%skv: missing", w);
	snprintf(w, sizeof(w), "result.events[%zu].kv.", i);
	return etcd_parse_kv(kv, w, &ev->kv, err);
}

/*
 * The watch's id: etcd answers a watch it would not create (permission
 * denied, an empty range) with -1 beside canceled and its reason, which
 * must come through.
 */
static int
etcd_get_watch_id(const json_t *res, int64_t *id, char err[ETCD_ERR_MAX])
{
	const json_t	*v = json_object_get(res, "watch_id");

	if (json_is_string(v) && strcmp(json_string_value(v), "-1") == 0) {
		*id = -1;
		return 0;
	}
	return etcd_get_int64(res, "result.", "watch_id", id, err);
}

int
etcd_parse_watch(const json_t *j, struct etcd_watch *out, char err[ETCD_ERR_MAX])
{
	struct etcd_watch	 w;
	const json_t		*res, *events, *reason;
	size_t			 i;

	memset(&w, 0, sizeof(w));
	if (etcd_check_answer(j, "watch", err) == -1 ||
	    etcd_get_object(j, "", "result", &res, err) == -1)
		return -1;
	if (res == NULL)
		return etcd_fail(err, "result: missing");
	if (etcd_check_answer(res, "result", err) == -1 ||
	    etcd_get_revision(res, "result.", &w.revision, err) == -1 ||
	    etcd_get_watch_id(res, &w.watch_id, err) == -1 ||
	    etcd_get_bool(res, "result.", "created", &w.created, err) == -1 ||
	    etcd_get_bool(res, "result.", "canceled", &w.canceled, err) == -1 ||
	    etcd_get_rev(res, "result.", "compact_revision",
	    &w.compact_revision, err) == -1 ||
	    etcd_get_array(res, "result.", "events", &events, err) == -1)
		return -1;
	reason = json_object_get(res, "cancel_reason");
	if (reason != NULL && !json_is_string(reason))
		return etcd_fail(err, "result.cancel_reason: not a string");
	w.events = xcalloc(json_array_size(events) + 1, sizeof(*w.events));
	for (i = 0; i < json_array_size(events); i++, w.n++)
		if (etcd_parse_event(json_array_get(events, i), i, &w.events[i],
		    err) == -1) {
			etcd_watch_free(&w);
			return -1;
		}
	if (reason != NULL)
		w.cancel_reason = xstrdup(json_string_value(reason));
	*out = w;
	return 0;
}

/* --- lease -------------------------------------------------------------------- */

int
etcd_parse_lease(const json_t *j, struct etcd_lease *out, char err[ETCD_ERR_MAX])
{
	struct etcd_lease	 l;
	const json_t		*res;
	const char		*where = "";

	if (etcd_check_answer(j, "lease", err) == -1 ||
	    etcd_get_object(j, "", "result", &res, err) == -1)
		return -1;
	if (res != NULL) {
		if (etcd_check_answer(res, "result", err) == -1)
			return -1;
		j = res;
		where = "result.";
	}
	if (etcd_get_revision(j, where, &l.revision, err) == -1 ||
	    etcd_get_int64(j, where, "ID", &l.id, err) == -1 ||
	    etcd_get_int64(j, where, "TTL", &l.ttl, err) == -1)
		return -1;
	if (l.id == 0)
		return etcd_fail(err, "%sID: missing", where);
	*out = l;
	return 0;
}
