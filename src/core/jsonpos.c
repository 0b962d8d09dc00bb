/*
 * jsonpos.c: where a value sits in JSON text, by key path (see jsonpos.h).
 *
 * The text has already been accepted by jansson, so this scanner does not
 * validate: it only has to skip values and compare keys correctly, and it
 * stays inside the buffer whatever it is given.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"
#include "util.h"

struct scan {
	const char	*p;
	const char	*end;
	int		 line;
	int		 col;	/* column of *p */
};

static void
jsonpos_advance(struct scan *s)
{
	unsigned char	c;

	if (s->p >= s->end)
		return;
	c = (unsigned char)*s->p++;
	if (c == '\n') {
		s->line++;
		s->col = 1;
	} else if ((c & 0xc0) != 0x80) {
		/* UTF-8 continuation bytes do not start a character. */
		s->col++;
	}
}

static int
jsonpos_peek(const struct scan *s)
{
	return s->p < s->end ? (unsigned char)*s->p : -1;
}

static void
jsonpos_skip_ws(struct scan *s)
{
	int	c;

	while ((c = jsonpos_peek(s)) == ' ' || c == '\t' || c == '\n' ||
	    c == '\r')
		jsonpos_advance(s);
}

/* At the opening quote: move past the closing one. */
static void
jsonpos_skip_string(struct scan *s)
{
	int	c;

	jsonpos_advance(s);
	while ((c = jsonpos_peek(s)) != -1) {
		jsonpos_advance(s);
		if (c == '"')
			return;
		/* An escaped character may be a quote; \uXXXX needs no care. */
		if (c == '\\')
			jsonpos_advance(s);
	}
}

static void
jsonpos_skip_value(struct scan *s)
{
	int	c, depth;

	c = jsonpos_peek(s);
	if (c == '"') {
		jsonpos_skip_string(s);
		return;
	}
	if (c == '{' || c == '[') {
		depth = 0;
		while ((c = jsonpos_peek(s)) != -1) {
			if (c == '"') {
				jsonpos_skip_string(s);
				continue;
			}
			jsonpos_advance(s);
			if (c == '{' || c == '[')
				depth++;
			else if ((c == '}' || c == ']') && --depth == 0)
				return;
		}
		return;
	}
	/* A number or a literal: up to the next delimiter. */
	while ((c = jsonpos_peek(s)) != -1 && c != ',' && c != '}' &&
	    c != ']' && c != ' ' && c != '\t' && c != '\n' && c != '\r')
		jsonpos_advance(s);
}

static int
jsonpos_hex4(const struct scan *s, size_t off, uint32_t *out)
{
	uint32_t	v = 0;
	size_t		i;
	int		c;

	if ((size_t)(s->end - s->p) < off + 4)
		return -1;
	for (i = 0; i < 4; i++) {
		c = (unsigned char)s->p[off + i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t
jsonpos_utf8(uint32_t cp, unsigned char *buf)
{
	if (cp < 0x80) {
		buf[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (unsigned char)(0xc0 | (cp >> 6));
		buf[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = (unsigned char)(0xe0 | (cp >> 12));
		buf[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		buf[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	buf[0] = (unsigned char)(0xf0 | (cp >> 18));
	buf[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	buf[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	buf[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * At the character c after a backslash: the escape's text into buf, and
 * its length (0: a \u without its four hex digits). s is left on the
 * escape's last character.
 */
static size_t
jsonpos_escape(struct scan *s, int c, unsigned char buf[4])
{
	static const char	 simple[] = "b\bf\fn\nr\rt\t";
	uint32_t		 cp, lo;
	size_t			 i;

	if (c != 'u') {
		/* '"', '\\', '/' stand for themselves */
		buf[0] = (unsigned char)c;
		for (i = 0; simple[i] != '\0'; i += 2)
			if (simple[i] == c)
				buf[0] = (unsigned char)simple[i + 1];
		return 1;
	}
	if (jsonpos_hex4(s, 1, &cp) == -1)
		return 0;
	/* A surrogate pair is one character: \uD83D\uDE00. */
	if (cp >= 0xd800 && cp <= 0xdbff && (size_t)(s->end - s->p) >= 11 &&
	    s->p[5] == '\\' && s->p[6] == 'u' && jsonpos_hex4(s, 7, &lo) == 0 &&
	    lo >= 0xdc00 && lo <= 0xdfff) {
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		for (i = 0; i < 6; i++)
			jsonpos_advance(s);
	}
	for (i = 0; i < 4; i++)
		jsonpos_advance(s);
	return jsonpos_utf8(cp, buf);
}

/*
 * At the opening quote of a string: move past it and say whether its
 * decoded text equals key. Escapes are decoded so that "caf\u00e9" matches
 * the key jansson gave as "café".
 */
static int
jsonpos_key_equal(struct scan *s, const char *key)
{
	const unsigned char	*k = (const unsigned char *)key;
	unsigned char		 buf[4];
	size_t			 n, i, klen = strlen(key), ki = 0;
	int			 c, equal = 1;

	jsonpos_advance(s);
	while ((c = jsonpos_peek(s)) != -1) {
		if (c == '"') {
			jsonpos_advance(s);
			return equal && ki == klen;
		}
		buf[0] = (unsigned char)c;
		n = 1;
		if (c == '\\') {
			jsonpos_advance(s);
			if ((c = jsonpos_peek(s)) == -1)
				break;
			if ((n = jsonpos_escape(s, c, buf)) == 0)
				equal = 0;
		}
		jsonpos_advance(s);
		for (i = 0; i < n; i++) {
			if (equal && (ki >= klen || k[ki] != buf[i]))
				equal = 0;
			ki++;
		}
	}
	return 0;
}

/* Past blanks, the character c and the blanks after it; -1 without c. */
static int
jsonpos_past(struct scan *s, int c)
{
	jsonpos_skip_ws(s);
	if (jsonpos_peek(s) != c)
		return -1;
	jsonpos_advance(s);
	jsonpos_skip_ws(s);
	return 0;
}

/* At an object's '{': move to the value (or key) of member key. */
static int
jsonpos_member(struct scan *s, const char *key, int want_key)
{
	struct scan	at;

	if (jsonpos_past(s, '{') == -1)
		return -1;
	for (;;) {
		if (jsonpos_peek(s) != '"')
			return -1;
		at = *s;
		if (jsonpos_key_equal(s, key)) {
			if (!want_key)
				return jsonpos_past(s, ':');
			*s = at;
			return 0;
		}
		if (jsonpos_past(s, ':') == -1)
			return -1;
		jsonpos_skip_value(s);
		if (jsonpos_past(s, ',') == -1)
			return -1;
	}
}

/* At an array's '[': move to element index. */
static int
jsonpos_element(struct scan *s, size_t index)
{
	size_t	i;

	if (jsonpos_past(s, '[') == -1)
		return -1;
	for (i = 0;; i++) {
		if (jsonpos_peek(s) == ']' || jsonpos_peek(s) == -1)
			return -1;
		if (i == index)
			return 0;
		jsonpos_skip_value(s);
		if (jsonpos_past(s, ',') == -1)
			return -1;
	}
}

int
jsonpos_find(const char *text, size_t len, const struct jsonpos_seg *path,
    size_t npath, int want_key, int *line, int *col)
{
	struct scan	s = { text, text + len, 1, 1 };
	size_t		i;
	int		last;

	jsonpos_skip_ws(&s);
	for (i = 0; i < npath; i++) {
		last = i + 1 == npath;
		if (path[i].key != NULL) {
			if (jsonpos_member(&s, path[i].key,
			    last && want_key) == -1)
				return -1;
		} else if (jsonpos_element(&s, path[i].index) == -1)
			return -1;
	}
	if (s.p >= s.end)
		return -1;
	*line = s.line;
	*col = s.col;
	return 0;
}

void
jsonpos_push(struct jsonpos_path *p, const char *key, size_t index)
{
	if (p->n == p->cap) {
		p->cap = p->cap == 0 ? 16 : p->cap * 2;
		p->seg = xreallocarray(p->seg, p->cap, sizeof(*p->seg));
	}
	p->seg[p->n].key = key;
	p->seg[p->n].index = index;
	p->n++;
}

void
jsonpos_pop(struct jsonpos_path *p)
{
	p->n--;
}

void
jsonpos_path_free(struct jsonpos_path *p)
{
	free(p->seg);
	p->seg = NULL;
	p->n = p->cap = 0;
}

/* "supervisor.children[2].restart", with extra (a missing key) appended. */
static void
jsonpos_path_text(const struct jsonpos_path *p, const char *extra, char *buf,
    size_t size)
{
	size_t	off = 0, i;
	int	n;

	buf[0] = '\0';
	for (i = 0; i <= p->n && off < size; i++) {
		if (i == p->n) {
			if (extra == NULL)
				break;
			n = snprintf(buf + off, size - off, "%s%s",
			    off > 0 ? "." : "", extra);
		} else if (p->seg[i].key != NULL)
			n = snprintf(buf + off, size - off, "%s%s",
			    off > 0 ? "." : "", p->seg[i].key);
		else
			n = snprintf(buf + off, size - off, "[%zu]",
			    p->seg[i].index);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

void
jsonpos_verror(const char *text, size_t len, const char *file,
    const struct jsonpos_path *p, int want_key, const char *extra,
    char *err, size_t errlen, const char *fmt, va_list ap)
{
	char	 where[32], pathbuf[1024], msg[1024];
	int	 line, col;

	if (err == NULL || errlen == 0)
		return;
	if (jsonpos_find(text, len, p->seg, p->n, want_key, &line, &col) == 0)
		snprintf(where, sizeof(where), ":%d:%d", line, col);
	else
		where[0] = '\0';	/* not with text jansson accepted */
	jsonpos_path_text(p, extra, pathbuf, sizeof(pathbuf));
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(err, errlen, "%s%s: %s%s%s", file, where, pathbuf,
	    pathbuf[0] != '\0' ? ": " : "", msg);
	/* Keys and values quoted in the message must not break the line. */
	if (strlen(err) > strlen(file))
		jsonpos_one_line(err + strlen(file));
}

void
jsonpos_one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}
