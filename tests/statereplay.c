/*
 * statereplay.c: the state folder opened again and checked
 * (statereplay.h).
 */
#include <check.h>

#include <jansson.h>

#include "journal.h"
#include "statetest.h"
#include "statereplay.h"

struct journal *
statereplay_open(const char *dir, size_t count, int first)
{
	struct journal	*st;
	json_t		*recs;

	st = open_ok(dir, NULL, &recs);
	check_recs(recs, count, first);
	json_decref(recs);
	return st;
}

void
statereplay_check(const char *dir, size_t count, int first)
{
	journal_close(statereplay_open(dir, count, first));
}

struct journal *
statereplay_open_snap(const json_t *snap, size_t count, int first)
{
	struct journal	*st;
	json_t		*got, *recs;

	st = open_ok(sdir, &got, &recs);
	if (snap == NULL)
		ck_assert_ptr_null(got);
	else
		ck_assert_msg(json_equal(got, snap), "not the snapshot taken");
	check_recs(recs, count, first);
	if (count > 0)
		ck_assert_uint_eq(journal_seq(st), (uint64_t)first + count - 1);
	json_decref(got);
	json_decref(recs);
	return st;
}
