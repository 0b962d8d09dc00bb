/*
 * check_jsonerr.c: the walk warden.json and drill files are both checked
 * with: where a key path is in the text (jsonpos.c) and the errors that
 * name it (jsonerr.c).
 */
#include <check.h>
#include <string.h>

#include <jansson.h>

#include "jsonerr.h"
#include "jsonpos.h"
#include "suite.h"

static void
pos_is(const char *text, const struct jsonpos_seg *path, size_t npath,
    int want_key, int line, int col)
{
	int	l = 0, c = 0;

	ck_assert_int_eq(jsonpos_find(text, strlen(text), path, npath,
	    want_key, &l, &c), 0);
	ck_assert_int_eq(l, line);
	ck_assert_int_eq(c, col);
}

START_TEST(test_jsonpos)
{
	static const char text[] =
	    " {\"a\\\"}\": [1, [2, {\"x\": \"]}\"}], {\"k\": true}],\n"
	    "  \"caf\\u00e9\": {\"\\ud83d\\ude00\": null},\n"
	    "  \"\xc3\xa9t\xc3\xa9\": \"\xe2\x9c\x93\", \"n\": -1.5e3}";
	const struct jsonpos_seg a_2_k[] = { { "a\"}", 0 }, { NULL, 2 },
	    { "k", 0 } };
	const struct jsonpos_seg a_1_1_x[] = { { "a\"}", 0 }, { NULL, 1 },
	    { NULL, 1 }, { "x", 0 } };
	const struct jsonpos_seg cafe_smile[] = { { "caf\xc3\xa9", 0 },
	    { "\xf0\x9f\x98\x80", 0 } };
	const struct jsonpos_seg n[] = { { "n", 0 } };
	const struct jsonpos_seg ete[] = { { "\xc3\xa9t\xc3\xa9", 0 } };
	const struct jsonpos_seg missing[] = { { "a\"}", 0 }, { NULL, 3 } };
	const struct jsonpos_seg nokey[] = { { "caf", 0 } };
	const struct jsonpos_seg notarray[] = { { "n", 0 }, { NULL, 0 } };
	int	l, c;

	pos_is(text, NULL, 0, 0, 1, 2);
	pos_is(text, a_2_k, 3, 0, 1, 39);
	pos_is(text, a_2_k, 3, 1, 1, 34);
	pos_is(text, a_2_k, 2, 0, 1, 33);
	pos_is(text, a_1_1_x, 4, 0, 1, 25);
	pos_is(text, cafe_smile, 2, 1, 2, 17);
	pos_is(text, cafe_smile, 2, 0, 2, 33);
	pos_is(text, cafe_smile, 1, 1, 2, 3);
	/* Columns count characters: "été" is three, "✓" one. */
	pos_is(text, ete, 1, 0, 3, 10);
	pos_is(text, n, 1, 0, 3, 20);
	ck_assert_int_eq(jsonpos_find(text, strlen(text), missing, 2, 0, &l,
	    &c), -1);
	ck_assert_int_eq(jsonpos_find(text, strlen(text), nokey, 1, 0, &l,
	    &c), -1);
	ck_assert_int_eq(jsonpos_find(text, strlen(text), notarray, 2, 0, &l,
	    &c), -1);
	/* Cut short, it stays inside the buffer and finds nothing. */
	ck_assert_int_eq(jsonpos_find(text, 20, n, 1, 0, &l, &c), -1);
	ck_assert_int_eq(jsonpos_find("", 0, NULL, 0, 0, &l, &c), -1);
}
END_TEST

/*
 * The walk both warden.json and drill files are checked with (jsonerr.c):
 * a syntax error, then errors at a value, at a key and for a missing key,
 * each with the path it is at and where that path is in the text.
 */
START_TEST(test_jsonerr)
{
	static const char *const known[] = { "a", NULL };
	static const char *const also[] = { "b", NULL };
	static const char text[] =
	    "{\"a\": [1, {\"x\": 2}],\n \"b\": 3,\n \"c\\u0001\": 4}";
	struct jsonerr	 e;
	json_t		*root, *obj;
	char		 err[256];

	root = jsonerr_load(&e, "{\n  \"a\": 1,\n  \"a\": 2 }", 22, "f.json",
	    err, sizeof(err));
	ck_assert_ptr_null(root);
	ck_assert_str_eq(err, "f.json:3:5: duplicate object key near '\"a\"'");
	jsonerr_free(&e);
	/* No buffer: nothing is written, and nothing breaks. */
	ck_assert_ptr_null(jsonerr_load(&e, "[", 1, "f.json", NULL, 0));
	jsonerr_free(&e);

	root = jsonerr_load(&e, text, strlen(text), "f.json", err, sizeof(err));
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(jsonerr_value(&e, "top %d", 1), -1);
	ck_assert_str_eq(err, "f.json:1:1: top 1");
	obj = json_array_get(jsonerr_get(&e, root, "a"), 1);
	ck_assert_ptr_null(jsonerr_get(&e, root, "nope"));
	jsonerr_push_index(&e, 1);
	ck_assert_int_eq(jsonerr_missing(&e, "y"), -1);
	ck_assert_str_eq(err, "f.json:1:11: a[1].y: required key is missing");
	ck_assert_ptr_nonnull(jsonerr_get(&e, obj, "x"));
	ck_assert_int_eq(jsonerr_key(&e, "a key"), -1);
	ck_assert_str_eq(err, "f.json:1:12: a[1].x: a key");
	ck_assert_int_eq(jsonerr_value(&e, "a value"), -1);
	ck_assert_str_eq(err, "f.json:1:17: a[1].x: a value");
	jsonerr_pop(&e);
	jsonerr_pop(&e);
	jsonerr_pop(&e);
	/* Known keys, and the first unknown one, its control byte made '?'. */
	ck_assert_int_eq(jsonerr_keys(&e, root, known, also), -1);
	ck_assert_str_eq(err, "f.json:3:2: c?: unknown key");
	jsonerr_pop(&e);
	ck_assert_int_eq(jsonerr_object(&e, json_object_get(root, "b"),
	    known), -1);
	ck_assert_str_eq(err, "f.json:1:1: expected an object");
	ck_assert(jsonerr_listed(also, "b"));
	ck_assert(!jsonerr_listed(NULL, "b"));
	json_decref(root);
	jsonerr_free(&e);
}
END_TEST

static Suite *
jsonerr_suite(void)
{
	Suite	*s = suite_create("jsonerr");
	TCase	*tc = tcase_create("jsonerr");

	tcase_add_test(tc, test_jsonpos);
	tcase_add_test(tc, test_jsonerr);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(jsonerr_suite)
