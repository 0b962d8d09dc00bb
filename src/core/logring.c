/*
 * logring.c: the last lines of one service's output (see logring.h).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "logring.h"
#include "util.h"

void
logring_init(struct logring *r, size_t max_lines, size_t max_bytes)
{
	memset(r, 0, sizeof(*r));
	r->max_lines = max_lines;
	r->max_bytes = max_bytes;
}

void
logring_free(struct logring *r)
{
	size_t	i;

	for (i = 0; i < r->nslots; i++)
		free(r->slots[i].text);
	free(r->slots);
	free(r->spare);
	r->spare = NULL;
	r->slots = NULL;
	r->nslots = r->head = r->len = r->bytes = 0;
}

static struct logline *
logring_slot(const struct logring *r, size_t i)
{
	return &r->slots[(r->head + i) % r->nslots];
}

static void
logring_drop_oldest(struct logring *r)
{
	struct logline	*l = logring_slot(r, 0);

	r->bytes -= l->len;
	/*
	 * Kept for the next line: a flood of long lines dropped for the
	 * bytes bound would otherwise free and allocate a buffer a line.
	 */
	free(r->spare);
	r->spare = l->text;
	r->spare_cap = l->cap;
	l->text = NULL;
	l->cap = 0;
	l->len = 0;
	r->head = (r->head + 1) % r->nslots;
	r->len--;
}

/*
 * The slots are a circle of nslots; growing it unrolls the circle so the
 * oldest line is at 0 again. It grows by doubling up to max_lines, so a
 * quiet service costs nothing and a busy one a few reallocations.
 */
static void
logring_grow(struct logring *r)
{
	struct logline	*slots;
	size_t		 n, i;

	n = r->nslots == 0 ? 8 : r->nslots * 2;
	if (n > r->max_lines)
		n = r->max_lines;
	slots = xcalloc(n, sizeof(*slots));
	for (i = 0; i < r->nslots; i++)
		slots[i] = *logring_slot(r, i);
	free(r->slots);
	r->slots = slots;
	r->nslots = n;
	r->head = 0;
}

void
logring_set_limits(struct logring *r, size_t max_lines, size_t max_bytes)
{
	struct logline	*keep;
	size_t		 i;

	while (r->len > 0 && (r->len > max_lines || r->bytes > max_bytes))
		logring_drop_oldest(r);
	r->max_bytes = max_bytes;
	if (max_lines >= r->nslots) {
		r->max_lines = max_lines;
		return;
	}
	/* Fewer slots than now: keep the newest, free the rest. */
	keep = xcalloc(max_lines > 0 ? max_lines : 1, sizeof(*keep));
	for (i = 0; i < r->len; i++)
		keep[i] = *logring_slot(r, i);
	for (; i < r->nslots; i++)
		free(logring_slot(r, i)->text);
	free(r->slots);
	r->slots = keep;
	r->nslots = max_lines;
	r->max_lines = max_lines;
	r->head = 0;
}

/* Bytes of the valid sequence that starts at s (of len), or 0. */
static size_t
logring_utf8_seq(const unsigned char *s, size_t len)
{
	size_t		n, i;
	uint32_t	cp;

	/* A NUL is no text: it would end a C string, and many JSON readers refuse it. */
	if (s[0] == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

size_t
logring_utf8_clean(char *dst, size_t room, const char *src, size_t len)
{
	const unsigned char	*s = (const unsigned char *)src;
	const char		*put;
	size_t			 i = 0, o = 0, n, take;

	while (i < len) {
		if ((n = logring_utf8_seq(s + i, len - i)) == 0) {
			put = "\xef\xbf\xbd";
			take = 3;
			n = 1;
		} else {
			put = src + i;
			take = n;
		}
		if (o + take > room)
			break;
		if (dst != NULL)
			memcpy(dst + o, put, take);
		o += take;
		i += n;
	}
	return o;
}

/*
 * The slot for a new line: a new one while the ring may grow, else the
 * oldest line's, whose buffer a line of about its size reuses.
 */
static struct logline *
logring_take_slot(struct logring *r)
{
	struct logline	*oldest;

	if (r->len == r->nslots && r->nslots < r->max_lines)
		logring_grow(r);
	if (r->len == r->nslots) {
		oldest = logring_slot(r, 0);
		r->bytes -= oldest->len;
		oldest->len = 0;
		r->head = (r->head + 1) % r->nslots;
		r->len--;
	}
	return logring_slot(r, r->len);
}

/*
 * Room for need bytes and a NUL: the buffer there if it is big enough
 * and at most twice that (the memory held stays within twice the text
 * counted), else a new one.
 */
static bool
logring_fits(size_t cap, size_t need)
{
	return cap >= need + 1 && cap <= 2 * (need + 1);
}

static void
logring_room(struct logring *r, struct logline *l, size_t need)
{
	if (l->text != NULL && logring_fits(l->cap, need))
		return;
	free(l->text);
	if (r->spare != NULL && logring_fits(r->spare_cap, need)) {
		l->text = r->spare;
		l->cap = r->spare_cap;
		r->spare = NULL;
		return;
	}
	l->text = xmalloc(need + 1);
	l->cap = need + 1;
}

/* The longest prefix of clean text of at most max bytes, whole sequences. */
static size_t
logring_cut(const char *text, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)text[max] & 0xc0) == 0x80)
		max--;
	return max;
}

static const struct logline *
logring_keep(struct logring *r, uint64_t seq, int64_t wall_ms, pid_t pid,
    int stream, const char *text, size_t len, bool clean)
{
	struct logline	*l;
	size_t		 need;

	r->total++;
	if (r->max_lines == 0 || r->max_bytes == 0)
		return NULL;
	l = logring_take_slot(r);
	need = clean ? logring_cut(text, len, r->max_bytes) :
	    logring_utf8_clean(NULL, r->max_bytes, text, len);
	logring_room(r, l, need);
	if (clean)
		memcpy(l->text, text, need);
	else
		(void)logring_utf8_clean(l->text, need, text, len);
	l->len = need;
	l->text[l->len] = '\0';
	l->seq = seq;
	l->wall_ms = wall_ms;
	l->pid = pid;
	l->stream = stream;
	r->len++;
	r->bytes += l->len;
	while (r->bytes > r->max_bytes && r->len > 1)
		logring_drop_oldest(r);
	return l;
}

const struct logline *
logring_push(struct logring *r, uint64_t seq, int64_t wall_ms, pid_t pid,
    int stream, const char *text, size_t len)
{
	return logring_keep(r, seq, wall_ms, pid, stream, text, len, false);
}

const struct logline *
logring_push_clean(struct logring *r, uint64_t seq, int64_t wall_ms,
    pid_t pid, int stream, const char *text, size_t len)
{
	return logring_keep(r, seq, wall_ms, pid, stream, text, len, true);
}

size_t
logring_count(const struct logring *r)
{
	return r->len;
}

const struct logline *
logring_at(const struct logring *r, size_t i)
{
	return i < r->len ? logring_slot(r, i) : NULL;
}

uint64_t
logring_total(const struct logring *r)
{
	return r->total;
}
