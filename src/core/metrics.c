/*
 * metrics.c: the Prometheus text exposition format (see metrics.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "util.h"

#define METRICS_BUF_FIRST	65536

void
metrics_buf_init(struct metrics_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
metrics_buf_free(struct metrics_buf *b)
{
	free(b->s);
	metrics_buf_init(b);
}

char *
metrics_buf_take(struct metrics_buf *b, size_t *len)
{
	char	*s = b->s;

	if (s == NULL)
		s = xstrdup("");
	if (len != NULL)
		*len = b->len;
	metrics_buf_init(b);
	return s;
}

static char *
metrics_grow(struct metrics_buf *b, size_t n)
{
	size_t	cap = b->cap != 0 ? b->cap : METRICS_BUF_FIRST;

	while (b->len + n + 1 > cap)
		cap *= 2;
	b->s = xreallocarray(b->s, cap, 1);
	b->cap = cap;
	return b->s + b->len;
}

/*
 * Room for n more bytes and the NUL, doubling: appends stay amortized
 * O(1), and the usual case is one comparison (a scrape makes a million).
 */
static inline char *
metrics_room(struct metrics_buf *b, size_t n)
{
	if (b->len + n + 1 <= b->cap)
		return b->s + b->len;
	return metrics_grow(b, n);
}

void
metrics_buf_reserve(struct metrics_buf *b, size_t n)
{
	if (n > b->cap)
		(void)metrics_grow(b, n - b->len);
}

static void
metrics_add(struct metrics_buf *b, const char *s, size_t n)
{
	memcpy(metrics_room(b, n), s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
metrics_adds(struct metrics_buf *b, const char *s)
{
	metrics_add(b, s, strlen(s));
}

/*
 * Text with the characters the format escapes: backslash and newline
 * always, the double quote in a label value (quote true).
 */
static void
metrics_escaped(struct metrics_buf *b, const char *s, bool quote)
{
	size_t	 len = strcspn(s, quote ? "\\\"\n" : "\\\n");
	char	*p;

	if (s[len] == '\0') {		/* the usual case: nothing to escape */
		metrics_add(b, s, len);
		return;
	}
	p = metrics_room(b, 2 * (len + strlen(s + len)));
	for (; *s != '\0'; s++) {
		if (*s == '\\' || (*s == '"' && quote)) {
			*p++ = '\\';
			*p++ = *s;
		} else if (*s == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else
			*p++ = *s;
	}
	*p = '\0';
	b->len = (size_t)(p - b->s);
}

const char *
metrics_type_name(enum metrics_type t)
{
	switch (t) {
	case METRICS_COUNTER:
		return "counter";
	case METRICS_GAUGE:
		return "gauge";
	case METRICS_HISTOGRAM:
		return "histogram";
	}
	return "untyped";
}

void
metrics_family(struct metrics_buf *b, const char *name, enum metrics_type t,
    const char *help)
{
	metrics_adds(b, "# HELP ");
	metrics_adds(b, name);
	metrics_add(b, " ", 1);
	metrics_escaped(b, help, false);
	metrics_adds(b, "\n# TYPE ");
	metrics_adds(b, name);
	metrics_add(b, " ", 1);
	metrics_adds(b, metrics_type_name(t));
	metrics_add(b, "\n", 1);
}

void
metrics_sample(struct metrics_buf *b, const char *name, const char *suffix)
{
	metrics_adds(b, name);
	if (suffix != NULL)
		metrics_adds(b, suffix);
	b->labels = false;
}

void
metrics_sample_again(struct metrics_buf *b, size_t at, size_t len)
{
	/* b->s may move as it grows: room first, then the copy. */
	(void)metrics_room(b, len);
	memcpy(b->s + b->len, b->s + at, len);
	b->len += len;
	b->s[b->len] = '\0';
	b->labels = true;
}

/* ,name="value" (or {name="value"), with room asked once. */
void
metrics_label(struct metrics_buf *b, const char *name, const char *value)
{
	size_t	nlen = strlen(name);
	char	*p = metrics_room(b, nlen + 2 * strlen(value) + 4);

	*p++ = b->labels ? ',' : '{';
	memcpy(p, name, nlen);
	p += nlen;
	*p++ = '=';
	*p++ = '"';
	b->len = (size_t)(p - b->s);
	b->labels = true;
	metrics_escaped(b, value, true);
	metrics_add(b, "\"", 1);
}

/* Decimal digits of v at the end of buf (METRICS_NUM_MAX); returns the first. */
static char *
metrics_u64_digits(uint64_t v, char *buf)
{
	char	*p = buf + METRICS_NUM_MAX - 1;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return p;
}

/* "} 42\n" or " 42\n": the end of a sample, with room asked once. */
static void
metrics_value_text(struct metrics_buf *b, const char *v, size_t len)
{
	char	*p = metrics_room(b, len + 3);

	if (b->labels)
		*p++ = '}';
	*p++ = ' ';
	memcpy(p, v, len);
	p[len] = '\n';
	p[len + 1] = '\0';
	b->len = (size_t)(p + len + 1 - b->s);
	b->labels = false;
}

void
metrics_value_u64(struct metrics_buf *b, uint64_t v)
{
	char	buf[METRICS_NUM_MAX], *p = metrics_u64_digits(v, buf);

	metrics_value_text(b, p, (size_t)(buf + METRICS_NUM_MAX - 1 - p));
}

void
metrics_value_i64(struct metrics_buf *b, int64_t v)
{
	char	buf[METRICS_NUM_MAX], *p;

	if (v >= 0) {
		metrics_value_u64(b, (uint64_t)v);
		return;
	}
	p = metrics_u64_digits((uint64_t)0 - (uint64_t)v, buf);
	*--p = '-';
	metrics_value_text(b, p, (size_t)(buf + METRICS_NUM_MAX - 1 - p));
}

/*
 * Whole numbers up to 2^53 (exact in a double) without an exponent; any
 * other the shortest of %.15g, %.16g, %.17g that reads back the same.
 */
char *
metrics_format(double v, char *buf)
{
	char	tmp[METRICS_NUM_MAX], *p;
	int	prec;

	if (isnan(v))
		return strcpy(buf, "NaN");
	if (isinf(v))
		return strcpy(buf, v > 0 ? "+Inf" : "-Inf");
	if (v == floor(v) && fabs(v) <= 9007199254740992.0) {
		p = metrics_u64_digits((uint64_t)fabs(v), tmp);
		if (v < 0)
			*--p = '-';
		return strcpy(buf, p);
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, METRICS_NUM_MAX, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return buf;
	}
	snprintf(buf, METRICS_NUM_MAX, "%.17g", v);
	return buf;
}

void
metrics_value(struct metrics_buf *b, double v)
{
	char	buf[METRICS_NUM_MAX];

	metrics_format(v, buf);
	metrics_value_text(b, buf, strlen(buf));
}

static void
metrics_labels(struct metrics_buf *b, const char *const *labels, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		metrics_label(b, labels[2 * i], labels[2 * i + 1]);
}

void
metrics_buckets_init(struct metrics_buckets *bk, const double *bounds,
    size_t n)
{
	size_t	i;

	bk->n = n < METRICS_HIST_MAX ? n : METRICS_HIST_MAX;
	for (i = 0; i < bk->n; i++) {
		bk->bound[i] = bounds[i];
		bk->le_len[i] = strlen(metrics_format(bounds[i], bk->le[i]));
	}
}

/*
 * The bucket lines differ only in le and the count: the first is written
 * in full, and the next ones copy its part up to le's value.
 */
void
metrics_histogram(struct metrics_buf *b, const char *name,
    const char *const *labels, size_t nlabels,
    const struct metrics_buckets *bk, const struct metrics_hist *h)
{
	uint64_t	cum = h->counts[0];
	size_t		i, start = b->len, plen, len;
	const char	*le;

	metrics_sample(b, name, "_bucket");
	metrics_labels(b, labels, nlabels);
	metrics_add(b, b->labels ? ",le=\"" : "{le=\"", 5);
	plen = b->len - start;
	for (i = 0; i <= bk->n; i++) {
		if (i > 0) {
			cum += h->counts[i];
			metrics_sample_again(b, start, plen);
			b->labels = false;
		}
		le = i < bk->n ? bk->le[i] : "+Inf";
		len = i < bk->n ? bk->le_len[i] : 4;
		memcpy(metrics_room(b, len + 2), le, len);
		memcpy(b->s + b->len + len, "\"}", 2);
		b->len += len + 2;
		b->labels = false;
		metrics_value_u64(b, cum);
	}
	metrics_sample(b, name, "_sum");
	metrics_labels(b, labels, nlabels);
	metrics_value(b, h->sum);
	metrics_sample(b, name, "_count");
	metrics_labels(b, labels, nlabels);
	metrics_value_u64(b, h->count);
}

void
metrics_hist_observe(struct metrics_hist *h, const struct metrics_buckets *bk,
    double v)
{
	size_t	i;

	for (i = 0; i < bk->n && v > bk->bound[i]; i++)
		;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}
