/*
 * check_logring.c: a service's last lines in memory (src/core/logring.c):
 * both bounds, sequence numbers, UTF-8 cleaning, new limits.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "logring.h"
#include "suite.h"

/* Lines numbered as warden numbers them: one count, from 1. */
static uint64_t	lr_seq;

static void
push_str(struct logring *r, const char *s)
{
	logring_push(r, ++lr_seq, 1000, 42, LOGRING_STDOUT, s, strlen(s));
}

/* The lines held, oldest first, joined by '|'. */
static const char *
held(const struct logring *r)
{
	static char	buf[4096];
	size_t		i;

	buf[0] = '\0';
	for (i = 0; i < logring_count(r); i++) {
		if (i > 0)
			strcat(buf, "|");
		strcat(buf, logring_at(r, i)->text);
	}
	return buf;
}

START_TEST(test_keeps_fields)
{
	struct logring		 r;
	const struct logline	*l;

	logring_init(&r, 10, 1000);
	l = logring_push(&r, 9, 123456, 77, LOGRING_STDERR, "hello\0x", 5);
	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(l->seq, 9);
	ck_assert_int_eq(l->wall_ms, 123456);
	ck_assert_int_eq(l->pid, 77);
	ck_assert_int_eq(l->stream, LOGRING_STDERR);
	ck_assert_uint_eq(l->len, 5);
	ck_assert_str_eq(l->text, "hello");
	ck_assert_uint_eq(logring_total(&r), 1);
	logring_free(&r);
}
END_TEST

static const struct {
	const char	*what;
	size_t		 max_lines, max_bytes;
	const char	*push[6];
	const char	*held;
	size_t		 bytes;
} bounds[] = {
	{ "under both bounds", 4, 100, { "a", "b", "c" }, "a|b|c", 3 },
	{ "lines bound: the oldest goes", 2, 100, { "a", "b", "c" }, "b|c", 2 },
	{ "grows past its first slots", 100, 100,
	    { "1", "2", "3", "4", "5", "6" }, "1|2|3|4|5|6", 6 },
	{ "bytes bound: the oldest go", 10, 6, { "aaa", "bbb", "cc" },
	    "bbb|cc", 5 },
	{ "a line longer than the bytes is cut", 10, 4, { "a", "abcdefgh" },
	    "abcd", 4 },
	{ "an empty line is a line", 3, 10, { "", "x" }, "|x", 1 },
	{ "zero lines: nothing kept", 0, 100, { "a", "b" }, "", 0 },
	{ "zero bytes: nothing kept", 10, 0, { "a", "b" }, "", 0 },
};

START_TEST(test_bounds)
{
	struct logring	r;
	size_t		i;

	logring_init(&r, bounds[_i].max_lines, bounds[_i].max_bytes);
	for (i = 0; i < 6 && bounds[_i].push[i] != NULL; i++)
		push_str(&r, bounds[_i].push[i]);
	ck_assert_msg(strcmp(held(&r), bounds[_i].held) == 0, "%s: held %s",
	    bounds[_i].what, held(&r));
	ck_assert_msg(r.bytes == bounds[_i].bytes, "%s: %zu bytes",
	    bounds[_i].what, r.bytes);
	/* Counted whether kept or not. */
	ck_assert_uint_eq(logring_total(&r), i);
	logring_free(&r);
}
END_TEST

START_TEST(test_seq_after_wrap)
{
	struct logring	r;
	char		s[16];
	int		i;

	logring_init(&r, 3, 1000);
	lr_seq = 0;
	for (i = 1; i <= 1000; i++) {
		snprintf(s, sizeof(s), "%d", i);
		push_str(&r, s);
	}
	ck_assert_str_eq(held(&r), "998|999|1000");
	ck_assert_uint_eq(logring_at(&r, 0)->seq, 998);
	ck_assert_uint_eq(logring_at(&r, 2)->seq, 1000);
	ck_assert_ptr_null(logring_at(&r, 3));
	logring_free(&r);
}
END_TEST

static const struct {
	const char	*what;
	const char	*in;
	size_t		 inlen;
	const char	*out;
} utf8[] = {
	{ "ascii", "abc", 3, "abc" },
	{ "two bytes", "\xc3\xa9", 2, "\xc3\xa9" },
	{ "three bytes", "\xe2\x82\xac", 3, "\xe2\x82\xac" },
	{ "four bytes", "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" },
	{ "a lone continuation", "a\x80z", 3, "a\xef\xbf\xbdz" },
	{ "a cut sequence", "a\xe2\x82", 3, "a\xef\xbf\xbd\xef\xbf\xbd" },
	{ "overlong slash", "\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd" },
	{ "overlong three", "\xe0\x80\xaf", 3,
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "a surrogate", "\xed\xa0\x80", 3,
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "beyond U+10FFFF", "\xf4\x90\x80\x80", 4,
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "0xff", "\xff", 1, "\xef\xbf\xbd" },
};

START_TEST(test_utf8_clean)
{
	char	out[64];
	size_t	n, want = strlen(utf8[_i].out);

	n = logring_utf8_clean(out, sizeof(out), utf8[_i].in, utf8[_i].inlen);
	ck_assert_msg(n == want && memcmp(out, utf8[_i].out, n) == 0,
	    "%s: %zu bytes", utf8[_i].what, n);
	ck_assert_uint_eq(logring_utf8_clean(NULL, sizeof(out), utf8[_i].in,
	    utf8[_i].inlen), n);
}
END_TEST

START_TEST(test_utf8_clean_nul)
{
	char	out[8];

	ck_assert_uint_eq(logring_utf8_clean(out, sizeof(out), "a\0b", 3), 5);
	ck_assert_mem_eq(out, "a\xef\xbf\xbd" "b", 5);
}
END_TEST

START_TEST(test_utf8_clean_whole_sequences)
{
	char	out[8];

	/* "é€": 2 + 3 bytes; room for 4 keeps the é alone. */
	ck_assert_uint_eq(logring_utf8_clean(out, 4, "\xc3\xa9\xe2\x82\xac", 5), 2);
	ck_assert_uint_eq(logring_utf8_clean(out, 1, "\xff", 1), 0);
}
END_TEST

START_TEST(test_cut_at_a_sequence)
{
	struct logring	r;

	logring_init(&r, 10, 4);
	push_str(&r, "ab\xe2\x82\xac");	/* 5 bytes: the euro does not fit */
	ck_assert_str_eq(held(&r), "ab");
	logring_free(&r);
}
END_TEST

START_TEST(test_new_limits)
{
	struct logring	r;

	logring_init(&r, 10, 100);
	push_str(&r, "a");
	push_str(&r, "bb");
	push_str(&r, "ccc");
	push_str(&r, "dddd");
	logring_set_limits(&r, 3, 100);
	ck_assert_str_eq(held(&r), "bb|ccc|dddd");
	logring_set_limits(&r, 3, 7);
	ck_assert_str_eq(held(&r), "ccc|dddd");
	push_str(&r, "e");
	ck_assert_str_eq(held(&r), "dddd|e");
	logring_set_limits(&r, 50, 100);
	push_str(&r, "f");
	push_str(&r, "g");
	ck_assert_str_eq(held(&r), "dddd|e|f|g");
	logring_set_limits(&r, 0, 100);
	ck_assert_str_eq(held(&r), "");
	ck_assert_ptr_null(logring_push(&r, 100, 0, 1, LOGRING_STDOUT, "h", 1));
	ck_assert_uint_eq(logring_total(&r), 8);
	logring_free(&r);
}
END_TEST

/* Buffers are reused from line to line, never holding over twice the text. */
START_TEST(test_buffers_bounded)
{
	struct logring		 r;
	const struct logline	*l;
	char			 s[512];
	size_t			 i, j, n;

	logring_init(&r, 4, 100000);
	for (i = 0; i < 200; i++) {
		n = (i * 37) % 500;
		memset(s, 'x', n);
		l = logring_push(&r, i + 1, 0, 1, LOGRING_STDOUT, s, n);
		ck_assert_uint_eq(l->len, n);
		for (j = 0; j < logring_count(&r); j++) {
			l = logring_at(&r, j);
			ck_assert_msg(l->cap >= l->len + 1 &&
			    l->cap <= 2 * (l->len + 1), "line of %zu in %zu",
			    l->len, l->cap);
		}
	}
	logring_free(&r);
}
END_TEST

/*
 * Long lines dropped for the bytes bound hand their buffers on: a flood
 * allocates nothing once it runs (the last dropped buffer is the next).
 */
START_TEST(test_flood_reuses)
{
	struct logring		 r;
	const struct logline	*l;
	char			 s[100];
	const char		*seen[4] = { NULL };
	size_t			 i, j;
	bool			 found;

	memset(s, 'y', sizeof(s));
	logring_init(&r, 200, 250);
	for (i = 0; i < 50; i++) {
		l = logring_push(&r, i + 1, 0, 1, LOGRING_STDOUT, s, sizeof(s));
		ck_assert_uint_le(logring_count(&r), 2);
		if (i >= 4) {
			for (found = false, j = 0; j < 4; j++)
				found |= seen[j] == l->text;
			ck_assert_msg(found, "line %zu: a new buffer", i);
		}
		seen[i % 4] = l->text;
	}
	logring_free(&r);
}
END_TEST

/* Clean text is kept as it is, cut at a whole sequence. */
START_TEST(test_push_clean)
{
	struct logring		 r;
	const struct logline	*l;

	logring_init(&r, 4, 4);
	l = logring_push_clean(&r, 1, 0, 1, LOGRING_STDERR, "ab\xe2\x82\xac", 5);
	ck_assert_str_eq(l->text, "ab");
	l = logring_push_clean(&r, 2, 0, 1, LOGRING_STDERR, "\xc3\xa9", 2);
	ck_assert_str_eq(l->text, "\xc3\xa9");
	ck_assert_str_eq(held(&r), "ab|\xc3\xa9");
	logring_free(&r);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("logring");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_keeps_fields);
	tcase_add_loop_test(tc, test_bounds, 0, sizeof(bounds) / sizeof(bounds[0]));
	tcase_add_test(tc, test_seq_after_wrap);
	tcase_add_loop_test(tc, test_utf8_clean, 0, sizeof(utf8) / sizeof(utf8[0]));
	tcase_add_test(tc, test_utf8_clean_nul);
	tcase_add_test(tc, test_utf8_clean_whole_sequences);
	tcase_add_test(tc, test_cut_at_a_sequence);
	tcase_add_test(tc, test_new_limits);
	tcase_add_test(tc, test_buffers_bounded);
	tcase_add_test(tc, test_push_clean);
	tcase_add_test(tc, test_flood_reuses);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
