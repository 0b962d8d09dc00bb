/*
 * etcd.c: the gateway's encodings (base64, int64 strings, a prefix's
 * range_end, endpoints) and the bodies of its requests. The answers are
 * read in etcd-parse.c, the watch stream cut in etcd-split.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "health.h"
#include "util.h"

void
etcd_buf_free(struct etcd_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
}

/* --- base64 ------------------------------------------------------------------- */

static const char etcd_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
etcd_b64_encode(const void *data, size_t len)
{
	const unsigned char	*in = data;
	char			*out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t			 i;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		*o++ = etcd_b64[v >> 18];
		*o++ = etcd_b64[(v >> 12) & 63];
		*o++ = etcd_b64[(v >> 6) & 63];
		*o++ = etcd_b64[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16 |
		    (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
		*o++ = etcd_b64[v >> 18];
		*o++ = etcd_b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? etcd_b64[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int
etcd_b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
etcd_b64_decode(const char *text, size_t len, struct etcd_buf *out)
{
	size_t		 i, pad = 0, n = 0;
	unsigned char	*o;

	if (len % 4 != 0)
		return -1;
	if (len > 0 && text[len - 1] == '=')
		pad = len > 1 && text[len - 2] == '=' ? 2 : 1;
	o = xmalloc(len / 4 * 3 + 1);
	for (i = 0; i < len; i += 4) {
		uint32_t	v = 0;
		int		k, d;
		int		real = i + 4 == len ? 4 - (int)pad : 4;

		for (k = 0; k < 4; k++) {
			d = k < real ? etcd_b64_value(text[i + k]) : 0;
			if (d < 0 || (k >= real && text[i + k] != '='))
				goto bad;
			v = v << 6 | (uint32_t)d;
		}
		/* The bits padding leaves unused must be zero: one spelling. */
		if ((real == 3 && (v & 0xff) != 0) ||
		    (real == 2 && (v & 0xffff) != 0))
			goto bad;
		o[n++] = (unsigned char)(v >> 16);
		if (real > 2)
			o[n++] = (unsigned char)(v >> 8);
		if (real > 3)
			o[n++] = (unsigned char)v;
	}
	o[n] = '\0';
	out->p = (char *)o;
	out->len = n;
	return 0;
bad:
	free(o);
	return -1;
}

/* --- numbers and names -------------------------------------------------------- */

int
etcd_int64_parse(const char *s, int64_t *out)
{
	int64_t	v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

void
etcd_prefix_end(const char *prefix, struct etcd_buf *out)
{
	size_t	n = strlen(prefix);

	out->p = xmalloc(n + 1);
	memcpy(out->p, prefix, n + 1);
	while (n > 0 && (unsigned char)out->p[n - 1] == 0xff)
		n--;
	if (n == 0) {
		out->p[0] = '\0';
		out->len = 1;
		return;
	}
	out->p[n - 1]++;
	out->p[n] = '\0';
	out->len = n;
}

int
etcd_endpoint_parse(const char *url, char host[ETCD_HOST_MAX], int *port,
    char err[ETCD_ERR_MAX])
{
	char		 h[HEALTH_HOST_MAX];
	char		*path = NULL;
	const char	*why;

	if (strncmp(url, "https://", 8) == 0) {
		snprintf(err, ETCD_ERR_MAX, "etcd endpoint \"%.100s\": https is "
		    "not supported (use http:// on a trusted network)", url);
		return -1;
	}
	if (health_parse_url(url, h, port, &path, &why) == -1 ||
	    strcmp(path, "/") != 0 || strlen(h) >= ETCD_HOST_MAX) {
		snprintf(err, ETCD_ERR_MAX, "etcd endpoint \"%.100s\": %s", url,
		    path == NULL ? why : "expected http://HOST:PORT, no path");
		free(path);
		return -1;
	}
	free(path);
	memcpy(host, h, strlen(h) + 1);
	return 0;
}

/* --- requests ----------------------------------------------------------------- */

/* int64s go as strings, as the gateway writes them. */
static json_t *
etcd_int64_json(int64_t v)
{
	char	buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return json_string(buf);
}

static void
etcd_set_bytes(json_t *o, const char *name, const void *p, size_t len)
{
	char	*b = etcd_b64_encode(p, len);

	json_object_set_new(o, name, json_string(b));
	free(b);
}

/* {"key": KEY, "range_end": END}, the start of most requests. */
static json_t *
etcd_keyed(const char *key, const struct etcd_buf *end)
{
	json_t	*o = json_object();

	etcd_set_bytes(o, "key", key, strlen(key));
	if (end != NULL)
		etcd_set_bytes(o, "range_end", end->p, end->len);
	return o;
}

json_t *
etcd_req_range(const char *key, const struct etcd_buf *end, int64_t revision,
    int64_t limit)
{
	json_t	*o;

	if (revision < 0 || limit < 0)
		return NULL;
	o = etcd_keyed(key, end);
	if (revision > 0)
		json_object_set_new(o, "revision", etcd_int64_json(revision));
	if (limit > 0)
		json_object_set_new(o, "limit", etcd_int64_json(limit));
	return o;
}

json_t *
etcd_req_put(const char *key, const void *value, size_t len, int64_t lease)
{
	json_t	*o;

	if (lease < 0)
		return NULL;
	o = etcd_keyed(key, NULL);
	etcd_set_bytes(o, "value", value, len);
	if (lease > 0)
		json_object_set_new(o, "lease", etcd_int64_json(lease));
	return o;
}

json_t *
etcd_req_delete(const char *key, const struct etcd_buf *end)
{
	return etcd_keyed(key, end);
}

json_t *
etcd_req_compact(int64_t revision)
{
	if (revision <= 0)
		return NULL;
	return json_pack("{s:o}", "revision", etcd_int64_json(revision));
}

json_t *
etcd_req_txn(void)
{
	return json_pack("{s:[],s:[],s:[]}", "compare", "success", "failure");
}

int
etcd_txn_compare(json_t *txn, const char *key, enum etcd_target target,
    enum etcd_cmp cmp, int64_t value)
{
	return etcd_txn_compare_range(txn, key, NULL, target, cmp, value);
}

int
etcd_txn_compare_range(json_t *txn, const char *key,
    const struct etcd_buf *end, enum etcd_target target, enum etcd_cmp cmp,
    int64_t value)
{
	static const char *const targets[] = { "MOD", "VERSION", "CREATE" };
	static const char *const fields[] = { "mod_revision", "version",
					      "create_revision" };
	static const char *const results[] = { "EQUAL", "NOT_EQUAL", "LESS",
					       "GREATER" };
	json_t	*c;

	if (value < 0 || (unsigned)target > ETCD_TARGET_CREATE ||
	    (unsigned)cmp > ETCD_CMP_GREATER)
		return -1;
	c = etcd_keyed(key, end);
	json_object_set_new(c, "target", json_string(targets[target]));
	json_object_set_new(c, "result", json_string(results[cmp]));
	json_object_set_new(c, fields[target], etcd_int64_json(value));
	return json_array_append_new(json_object_get(txn, "compare"), c);
}

int
etcd_txn_op(json_t *txn, bool on_success, enum etcd_op kind, json_t *req)
{
	static const char *const names[] = { "request_range", "request_put",
					     "request_delete_range" };
	json_t	*list = json_object_get(txn, on_success ? "success" : "failure");

	if (req == NULL || (unsigned)kind > ETCD_OP_DELETE || list == NULL) {
		json_decref(req);
		return -1;
	}
	return json_array_append_new(list, json_pack("{s:o}", names[kind], req));
}

json_t *
etcd_req_watch(const char *key, const struct etcd_buf *end,
    int64_t start_revision)
{
	json_t	*o;

	if (start_revision < 0)
		return NULL;
	o = etcd_keyed(key, end);
	if (start_revision > 0)
		json_object_set_new(o, "start_revision",
		    etcd_int64_json(start_revision));
	json_object_set_new(o, "prev_kv", json_false());
	return json_pack("{s:o}", "create_request", o);
}

json_t *
etcd_req_lease_grant(int64_t ttl_s, int64_t id)
{
	json_t	*o;

	if (ttl_s <= 0 || id < 0)
		return NULL;
	o = json_pack("{s:o}", "TTL", etcd_int64_json(ttl_s));
	if (id > 0)
		json_object_set_new(o, "ID", etcd_int64_json(id));
	return o;
}

json_t *
etcd_req_lease_keepalive(int64_t id)
{
	if (id <= 0)
		return NULL;
	return json_pack("{s:o}", "ID", etcd_int64_json(id));
}

json_t *
etcd_req_lease_revoke(int64_t id)
{
	return etcd_req_lease_keepalive(id);
}
