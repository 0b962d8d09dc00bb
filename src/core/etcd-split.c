/*
 * etcd-split.c: the watch stream cut into whole JSON objects. An object
 * ends where its braces balance outside strings, so the scan keeps its
 * depth, whether it is in a string and whether the last byte was a
 * backslash across feeds; each byte is scanned once. What lies between
 * objects may only be white space.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etcd.h"
#include "util.h"

void
etcd_split_init(struct etcd_split *s, size_t max)
{
	memset(s, 0, sizeof(*s));
	s->max = max;
}

void
etcd_split_reset(struct etcd_split *s)
{
	size_t	max = s->max;

	etcd_split_free(s);
	etcd_split_init(s, max);
}

void
etcd_split_free(struct etcd_split *s)
{
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = s->start = s->scan = 0;
}

static int
etcd_split_fail(struct etcd_split *s, const char *why)
{
	if (!s->failed)
		snprintf(s->err, sizeof(s->err), "watch stream: %.200s", why);
	s->failed = true;
	return -1;
}

int
etcd_split_feed(struct etcd_split *s, const void *data, size_t len)
{
	if (s->failed)
		return -1;
	/* What the objects already taken left is dropped first. */
	if (s->start > 0) {
		memmove(s->buf, s->buf + s->start, s->len - s->start);
		s->len -= s->start;
		s->start = 0;
	}
	if (len > s->max || s->len > s->max - len)
		return etcd_split_fail(s, "an object over the size bound");
	if (s->len + len + 1 > s->cap) {
		size_t	cap = s->cap > 0 ? s->cap : 4096;

		while (cap < s->len + len + 1)
			cap *= 2;
		s->buf = xreallocarray(s->buf, cap, 1);
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

/* One byte scanned: true when it closed the object. */
static bool
etcd_split_byte(struct etcd_split *s, char c)
{
	if (s->in_string) {
		if (s->escaped)
			s->escaped = false;
		else if (c == '\\')
			s->escaped = true;
		else if (c == '"')
			s->in_string = false;
		return false;
	}
	if (c == '"')
		s->in_string = true;
	else if (c == '{' || c == '[')
		s->depth++;
	else if (c == '}' || c == ']')
		return --s->depth == 0;
	return false;
}

int
etcd_split_next(struct etcd_split *s, json_t **obj)
{
	json_error_t	 jerr;
	size_t		 end;

	if (s->failed)
		return -1;
	/* White space before an object; then it must open with '{'. */
	if (s->scan == 0) {
		while (s->start < s->len && s->buf[s->start] != '\0' &&
		    strchr(" \t\r\n", s->buf[s->start]) != NULL)
			s->start++;
		if (s->start == s->len)
			return 0;
		if (s->buf[s->start] != '{')
			return etcd_split_fail(s, "expected a JSON object");
	}
	for (end = s->start + s->scan; end < s->len; end++)
		if (etcd_split_byte(s, s->buf[end]))
			break;
	if (end == s->len) {
		s->scan = end - s->start;
		return 0;
	}
	*obj = json_loadb(s->buf + s->start, end + 1 - s->start,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (*obj == NULL) {
		char	why[192];

		snprintf(why, sizeof(why), "bad JSON: %.150s", jerr.text);
		return etcd_split_fail(s, why);
	}
	s->start = end + 1;
	s->scan = 0;
	s->depth = 0;
	return 1;
}
