/*
 * desc.c: reading and writing a handover description (see desc.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desc.h"
#include "util.h"

static const char	b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
desc_missing(const json_t *v, const char *where, const char *key, char *err,
    size_t errlen)
{
	if (v != NULL)
		return 0;
	snprintf(err, errlen, "%s.%s: missing", where, key);
	return -1;
}

/* "WHERE.KEY: must be WHAT" */
static int
desc_must(const char *where, const char *key, const char *what, char *err,
    size_t errlen)
{
	snprintf(err, errlen, "%s.%s: must be %s", where, key, what);
	return -1;
}

/* Where o itself is not an object, every member is missing: say so once. */
static json_t *
desc_get(const json_t *o, const char *where, const char *key, char *err,
    size_t errlen)
{
	json_t	*v;

	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s: must be an object", where);
		return NULL;
	}
	v = json_object_get(o, key);
	if (desc_missing(v, where, key, err, errlen) == -1)
		return NULL;
	return v;
}

int
desc_int(const json_t *o, const char *where, const char *key, json_int_t lo,
    json_int_t hi, json_int_t *out, char *err, size_t errlen)
{
	json_t	*v;
	char	 what[96];

	if ((v = desc_get(o, where, key, err, errlen)) == NULL)
		return -1;
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi) {
		snprintf(what, sizeof(what), "an integer from %lld to %lld",
		    (long long)lo, (long long)hi);
		return desc_must(where, key, what, err, errlen);
	}
	*out = json_integer_value(v);
	return 0;
}

int
desc_opt_int(const json_t *o, const char *where, const char *key,
    json_int_t lo, json_int_t hi, json_int_t *out, bool *present, char *err,
    size_t errlen)
{
	json_t	*v;

	if ((v = desc_get(o, where, key, err, errlen)) == NULL)
		return -1;
	*present = !json_is_null(v);
	if (!*present)
		return 0;
	return desc_int(o, where, key, lo, hi, out, err, errlen);
}

int
desc_bool(const json_t *o, const char *where, const char *key, bool *out,
    char *err, size_t errlen)
{
	json_t	*v;

	if ((v = desc_get(o, where, key, err, errlen)) == NULL)
		return -1;
	if (!json_is_boolean(v))
		return desc_must(where, key, "true or false", err, errlen);
	*out = json_is_true(v);
	return 0;
}

int
desc_string(const json_t *o, const char *where, const char *key,
    const char **out, char *err, size_t errlen)
{
	json_t	*v;

	if ((v = desc_get(o, where, key, err, errlen)) == NULL)
		return -1;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return desc_must(where, key, "a non-empty string", err, errlen);
	*out = json_string_value(v);
	return 0;
}

int
desc_object(const json_t *o, const char *where, const char *key, json_t **out,
    char *err, size_t errlen)
{
	json_t	*v;

	if ((v = desc_get(o, where, key, err, errlen)) == NULL)
		return -1;
	if (!json_is_object(v))
		return desc_must(where, key, "an object", err, errlen);
	*out = v;
	return 0;
}

int
desc_array(const json_t *o, const char *where, const char *key, json_t **out,
    char *err, size_t errlen)
{
	json_t	*v;

	if ((v = desc_get(o, where, key, err, errlen)) == NULL)
		return -1;
	if (!json_is_array(v))
		return desc_must(where, key, "an array", err, errlen);
	*out = v;
	return 0;
}

json_t *
desc_b64(const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	json_t			*j;
	char			*s, *q;
	uint32_t		 v;
	size_t			 i;

	q = s = xmalloc(4 * ((len + 2) / 3) + 1);
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*q++ = b64_alphabet[v >> 18];
		*q++ = b64_alphabet[(v >> 12) & 63];
		*q++ = b64_alphabet[(v >> 6) & 63];
		*q++ = b64_alphabet[v & 63];
	}
	if (i < len) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		*q++ = b64_alphabet[v >> 18];
		*q++ = b64_alphabet[(v >> 12) & 63];
		*q++ = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		*q++ = '=';
	}
	*q = '\0';
	j = json_stringn_nocheck(s, (size_t)(q - s));
	free(s);
	return j;
}

/* The value of a base64 digit, -1 for anything else ('=' included). */
static int
desc_b64_digit(char c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(b64_alphabet, c)) == NULL)
		return -1;
	return (int)(p - b64_alphabet);
}

/* Decode one group of four; the last may end in "=" or "==". */
static int
desc_b64_group(const char *s, bool last, unsigned char *out, size_t *n)
{
	int	d[4], i, pad = 0;

	if (last && s[3] == '=')
		pad = s[2] == '=' ? 2 : 1;
	for (i = 0; i < 4 - pad; i++)
		if ((d[i] = desc_b64_digit(s[i])) == -1)
			return -1;
	for (; i < 4; i++)
		d[i] = 0;
	out[0] = (unsigned char)(d[0] << 2 | d[1] >> 4);
	out[1] = (unsigned char)((d[1] & 15) << 4 | d[2] >> 2);
	out[2] = (unsigned char)((d[2] & 3) << 6 | d[3]);
	*n = 3 - (size_t)pad;
	return 0;
}

int
desc_bytes(const json_t *o, const char *where, const char *key, char **out,
    size_t *len, char *err, size_t errlen)
{
	json_t		*v;
	const char	*s;
	unsigned char	*buf;
	size_t		 slen, i, n, at = 0;

	if ((v = desc_get(o, where, key, err, errlen)) == NULL)
		return -1;
	if (!json_is_string(v))
		return desc_must(where, key, "a base64 string", err, errlen);
	s = json_string_value(v);
	slen = json_string_length(v);
	if (slen % 4 != 0)
		return desc_must(where, key, "a base64 string", err, errlen);
	buf = xmalloc(slen / 4 * 3 + 1);
	for (i = 0; i < slen; i += 4) {
		if (desc_b64_group(s + i, i + 4 == slen, buf + at, &n) == -1) {
			free(buf);
			return desc_must(where, key, "a base64 string", err,
			    errlen);
		}
		at += n;
	}
	buf[at] = '\0';
	*out = (char *)buf;
	*len = at;
	return 0;
}
