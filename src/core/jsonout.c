/*
 * jsonout.c: compact JSON text from a jansson value (see jsonout.h).
 *
 * Matches json_dumps(v, JSON_COMPACT): members in insertion order,
 * integers in decimal, reals as "%.17g" with ".0" added to a number that
 * would read back as an integer and the exponent's "+" and leading zeros
 * dropped, strings with '"', '\\' and control characters escaped (\b \f
 * \n \r \t, else \u00XX in upper case) and everything else as it is:
 * jansson only holds valid UTF-8.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"
#include "util.h"

/* A buffer bigger than this after a line is given back, not kept. */
#define JSONOUT_KEEP	(256 * 1024)

static void __attribute__((noinline))
jsonout_grow(struct jsonout *o, size_t more)
{
	size_t	cap = o->cap != 0 ? o->cap : 4096;

	while (cap - o->len < more)
		cap *= 2;
	if (cap != o->cap) {
		o->buf = xreallocarray(o->buf, 1, cap);
		o->cap = cap;
	}
}

static inline void
jsonout_put(struct jsonout *o, const char *s, size_t n)
{
	if (o->cap - o->len < n)
		jsonout_grow(o, n);
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

void
jsonout_raw(struct jsonout *o, const char *s, size_t n)
{
	jsonout_put(o, s, n);
}

static inline void
jsonout_char(struct jsonout *o, char c)
{
	if (o->cap == o->len)
		jsonout_grow(o, 1);
	o->buf[o->len++] = c;
}

static void
jsonout_integer(struct jsonout *o, json_int_t v)
{
	char			 tmp[24], *p = tmp + sizeof(tmp);
	unsigned long long	 u = v < 0 ? 0ULL - (unsigned long long)v :
				    (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	jsonout_put(o, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void
jsonout_real(struct jsonout *o, double v)
{
	char	 tmp[64], *e, *from, *to;
	int	 n;

	/* %.17g of a finite double is at most 24 characters. */
	n = snprintf(tmp, sizeof(tmp) - 2, "%.17g", v);
	if (n < 0 || (size_t)n >= sizeof(tmp) - 2)
		n = snprintf(tmp, sizeof(tmp), "0.0");
	if (strchr(tmp, '.') == NULL && strchr(tmp, 'e') == NULL) {
		memcpy(tmp + n, ".0", 3);
		n += 2;
	}
	if ((e = strchr(tmp, 'e')) != NULL) {
		to = e + 1;
		if (*to == '-')
			to++;
		from = to;
		if (*from == '+')
			from++;
		while (*from == '0' && from[1] != '\0')
			from++;
		if (from != to) {
			memmove(to, from, strlen(from) + 1);
			n = (int)strlen(tmp);
		}
	}
	jsonout_put(o, tmp, (size_t)n);
}

static void
jsonout_string(struct jsonout *o, const char *s, size_t n)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p = (const unsigned char *)s, *end = p + n;
	const unsigned char	*run;
	char			 esc[6];

	jsonout_char(o, '"');
	while (p < end) {
		run = p;
		while (p < end && *p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		if (p != run)
			jsonout_put(o, (const char *)run, (size_t)(p - run));
		if (p == end)
			break;
		esc[0] = '\\';
		switch (*p) {
		case '"':  esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0xf];
			jsonout_put(o, esc, 6);
			p++;
			continue;
		}
		jsonout_put(o, esc, 2);
		p++;
	}
	jsonout_char(o, '"');
}

void
jsonout_append(struct jsonout *o, const json_t *v)
{
	const char	*key;
	json_t		*m;
	size_t		 i, n;
	int		 first = 1;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		jsonout_char(o, '{');
		json_object_foreach((json_t *)v, key, m) {
			if (!first)
				jsonout_char(o, ',');
			first = 0;
			jsonout_string(o, key, strlen(key));
			jsonout_char(o, ':');
			jsonout_append(o, m);
		}
		jsonout_char(o, '}');
		break;
	case JSON_ARRAY:
		jsonout_char(o, '[');
		n = json_array_size(v);
		for (i = 0; i < n; i++) {
			if (i > 0)
				jsonout_char(o, ',');
			jsonout_append(o, json_array_get(v, i));
		}
		jsonout_char(o, ']');
		break;
	case JSON_STRING:
		jsonout_string(o, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		jsonout_integer(o, json_integer_value(v));
		break;
	case JSON_REAL:
		jsonout_real(o, json_real_value(v));
		break;
	case JSON_TRUE:
		jsonout_put(o, "true", 4);
		break;
	case JSON_FALSE:
		jsonout_put(o, "false", 5);
		break;
	case JSON_NULL:
		jsonout_put(o, "null", 4);
		break;
	}
}

void
jsonout_reset(struct jsonout *o)
{
	o->len = 0;
	if (o->cap > JSONOUT_KEEP)
		jsonout_free(o);
}

void
jsonout_free(struct jsonout *o)
{
	free(o->buf);
	o->buf = NULL;
	o->len = 0;
	o->cap = 0;
}
