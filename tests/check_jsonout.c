/*
 * check_jsonout.c: the line writer of every answer and event
 * (src/core/jsonout.c) gives byte for byte what json_dumps(v, JSON_COMPACT)
 * gives: for hand-picked values (escapes, integers at their limits, reals
 * with and without exponents) and for many random trees.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonout.h"
#include "suite.h"

/* v through both writers; the test owns v. */
static void
same_as_jansson(json_t *v)
{
	struct jsonout	 o = { 0 };
	char		*want;

	ck_assert_ptr_nonnull(v);
	want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	ck_assert_ptr_nonnull(want);
	jsonout_append(&o, v);
	ck_assert_msg(o.len == strlen(want) && memcmp(o.buf, want, o.len) == 0,
	    "jsonout gave \"%.*s\", jansson \"%s\"", (int)o.len, o.buf, want);
	free(want);
	jsonout_free(&o);
	json_decref(v);
}

START_TEST(test_scalars)
{
	same_as_jansson(json_null());
	same_as_jansson(json_true());
	same_as_jansson(json_false());
	same_as_jansson(json_integer(0));
	same_as_jansson(json_integer(-1));
	same_as_jansson(json_integer(42));
	same_as_jansson(json_integer(INT64_MAX));
	same_as_jansson(json_integer(INT64_MIN));
	same_as_jansson(json_string(""));
	same_as_jansson(json_string("plain"));
}
END_TEST

START_TEST(test_reals)
{
	static const double	reals[] = {
		0.0, -0.0, 1.0, -1.5, 0.1, 1.0 / 3.0, 100.0, 1e15, 1e16, 1e17,
		1e20, 1e100, 1e-5, 1.5e-7, 1e-300, DBL_MAX, DBL_MIN, -DBL_MAX,
		123456789.125, 5e-324,
	};
	size_t	i;

	for (i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
		same_as_jansson(json_real(reals[i]));
}
END_TEST

START_TEST(test_escapes)
{
	char	all[128];
	int	i;

	same_as_jansson(json_string("quote \" backslash \\ slash /"));
	same_as_jansson(json_string("\b\f\n\r\t"));
	same_as_jansson(json_string("\x01\x1f\x7f"));
	same_as_jansson(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
	same_as_jansson(json_string("\xe2\x80\xa8 line separator"));
	/* Every ASCII byte, NUL included (json_stringn keeps it). */
	for (i = 0; i < 128; i++)
		all[i] = (char)i;
	same_as_jansson(json_stringn(all, sizeof(all)));
	same_as_jansson(json_pack("{s:s}", "key \"quoted\"\n", "v"));
}
END_TEST

START_TEST(test_containers)
{
	same_as_jansson(json_array());
	same_as_jansson(json_object());
	same_as_jansson(json_pack("[i,s,b,n,f]", 1, "two", 1, 2.5));
	same_as_jansson(json_pack("{s:i,s:[i,{s:{}}],s:{s:[]}}", "a", 1, "b", 2,
	    "c", "d", "e"));
	/* Members stay in the order they were set. */
	same_as_jansson(json_pack("{s:i,s:i,s:i,s:i}", "z", 1, "a", 2, "m", 3,
	    "b", 4));
}
END_TEST

/* A random value, depth at most d; strings from a small alphabet of traps. */
static json_t *
random_value(unsigned *seed, int d)
{
	static const char *const pieces[] = {
		"a", "\"", "\\", "\n", "\x01", "\xc3\xa9", "\xf0\x9f\x98\x80",
		"name", " ", "/", "\t", "\x7f",
	};
	char	 buf[64];
	json_t	*v;
	int	 kind = rand_r(seed) % (d > 0 ? 8 : 6), i, n;

	switch (kind) {
	case 0:
		return json_integer((json_int_t)rand_r(seed) - RAND_MAX / 2);
	case 1:
		return json_real((double)rand_r(seed) / (rand_r(seed) + 1) *
		    pow(10, rand_r(seed) % 40 - 20));
	case 2:
		return json_boolean(rand_r(seed) % 2);
	case 3:
		return json_null();
	case 4:
	case 5:
		buf[0] = '\0';
		n = rand_r(seed) % 6;
		for (i = 0; i < n; i++)
			strcat(buf, pieces[rand_r(seed) % (sizeof(pieces) /
			    sizeof(pieces[0]))]);
		return json_string(buf);
	case 6:
		v = json_array();
		n = rand_r(seed) % 5;
		for (i = 0; i < n; i++)
			json_array_append_new(v, random_value(seed, d - 1));
		return v;
	default:
		v = json_object();
		n = rand_r(seed) % 5;
		for (i = 0; i < n; i++) {
			snprintf(buf, sizeof(buf), "k%d%s", i,
			    pieces[rand_r(seed) % (sizeof(pieces) / sizeof(pieces[0]))]);
			json_object_set_new(v, buf, random_value(seed, d - 1));
		}
		return v;
	}
}

START_TEST(test_random_trees)
{
	unsigned	seed = 20261127;
	int		i;

	for (i = 0; i < 5000; i++)
		same_as_jansson(random_value(&seed, 4));
}
END_TEST

START_TEST(test_appends_and_reset)
{
	struct jsonout	 o = { 0 };
	json_t		*v = json_pack("{s:s}", "a", "b");
	size_t		 i;

	/* Lines after lines: the buffer grows and keeps what it has. */
	for (i = 0; i < 40000; i++) {
		jsonout_append(&o, v);
		jsonout_raw(&o, "\n", 1);
	}
	ck_assert_uint_eq(o.len, 40000 * strlen("{\"a\":\"b\"}\n"));
	ck_assert_int_eq(memcmp(o.buf + o.len - 10, "{\"a\":\"b\"}\n", 10), 0);
	/* A big buffer is given back at reset; a small one is kept. */
	jsonout_reset(&o);
	ck_assert_uint_eq(o.len, 0);
	ck_assert_ptr_null(o.buf);
	jsonout_append(&o, v);
	jsonout_reset(&o);
	ck_assert_uint_eq(o.len, 0);
	ck_assert_ptr_nonnull(o.buf);
	jsonout_free(&o);
	json_decref(v);
}
END_TEST

static Suite *
jsonout_suite(void)
{
	Suite	*s = suite_create("jsonout");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_scalars);
	tcase_add_test(tc, test_reals);
	tcase_add_test(tc, test_escapes);
	tcase_add_test(tc, test_containers);
	tcase_add_test(tc, test_random_trees);
	tcase_add_test(tc, test_appends_and_reset);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(jsonout_suite)
