/*
 * check_pidmap.c: the pid -> worker map (src/core/pidmap.c) against a plain
 * array, under random puts, gets and deletes, with pids that collide on
 * purpose, and through its growth.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pidmap.h"
#include "suite.h"

#define NPIDS	4096

/* The reference: ref[pid] is what pid maps to, or NULL. */
static void	*ref[NPIDS];

static void *
val(pid_t pid, unsigned gen)
{
	return (void *)(uintptr_t)(((uintptr_t)pid << 8) | (gen & 0xff) | 1);
}

static void
check_all(const struct pidmap *m)
{
	size_t	n = 0;
	pid_t	pid;

	for (pid = 1; pid < NPIDS; pid++) {
		ck_assert_ptr_eq(pidmap_get(m, pid), ref[pid]);
		if (ref[pid] != NULL)
			n++;
	}
	ck_assert_uint_eq(m->len, n);
}

START_TEST(test_empty)
{
	struct pidmap	m = { 0 };

	ck_assert_ptr_null(pidmap_get(&m, 1));
	pidmap_del(&m, 1);
	ck_assert_uint_eq(m.len, 0);
	pidmap_free(&m);
}
END_TEST

START_TEST(test_put_get_del)
{
	struct pidmap	m = { 0 };
	int		x, y;

	pidmap_put(&m, 42, &x);
	ck_assert_ptr_eq(pidmap_get(&m, 42), &x);
	ck_assert_ptr_null(pidmap_get(&m, 43));
	pidmap_put(&m, 42, &y);		/* replaced, not added */
	ck_assert_ptr_eq(pidmap_get(&m, 42), &y);
	ck_assert_uint_eq(m.len, 1);
	pidmap_del(&m, 42);
	ck_assert_ptr_null(pidmap_get(&m, 42));
	ck_assert_uint_eq(m.len, 0);
	pidmap_del(&m, 42);		/* twice: nothing */
	ck_assert_uint_eq(m.len, 0);
	pidmap_free(&m);
}
END_TEST

/* Random operations on pids from a small range: long runs, many shifts. */
START_TEST(test_random_against_array)
{
	struct pidmap	m = { 0 };
	unsigned	seed = 1127, gen = 0;
	pid_t		pid;
	int		i, op;

	memset(ref, 0, sizeof(ref));
	for (i = 0; i < 200000; i++) {
		pid = 1 + rand_r(&seed) % (NPIDS - 1);
		op = rand_r(&seed) % 3;
		if (op == 0 || op == 1) {
			ref[pid] = val(pid, ++gen);
			pidmap_put(&m, pid, ref[pid]);
		} else {
			ref[pid] = NULL;
			pidmap_del(&m, pid);
		}
		ck_assert_ptr_eq(pidmap_get(&m, pid), ref[pid]);
		if (i % 20000 == 0)
			check_all(&m);
	}
	check_all(&m);
	pidmap_free(&m);
}
END_TEST

/* Workers restarted in turn: each pid goes, a higher one comes. */
START_TEST(test_churn_of_rising_pids)
{
	struct pidmap	m = { 0 };
	pid_t		live[1000], next = 300;
	size_t		i, k;

	for (i = 0; i < 1000; i++) {
		live[i] = next++;
		pidmap_put(&m, live[i], &live[i]);
	}
	for (k = 0; k < 100000; k++) {
		i = k % 1000;
		pidmap_del(&m, live[i]);
		live[i] = next++;
		pidmap_put(&m, live[i], &live[i]);
		ck_assert_ptr_eq(pidmap_get(&m, live[i]), &live[i]);
	}
	ck_assert_uint_eq(m.len, 1000);
	for (i = 0; i < 1000; i++)
		ck_assert_ptr_eq(pidmap_get(&m, live[i]), &live[i]);
	/* Bounded: it did not grow with the churn. */
	ck_assert_uint_le(m.cap, 4096);
	pidmap_free(&m);
}
END_TEST

static Suite *
pidmap_suite(void)
{
	Suite	*s = suite_create("pidmap");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_put_get_del);
	tcase_add_test(tc, test_random_against_array);
	tcase_add_test(tc, test_churn_of_rising_pids);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(pidmap_suite)
