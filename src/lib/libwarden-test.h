/*
 * libwarden-test.h: hooks of libwarden for its tests (tests/check_table.c,
 * tests/fuzz/fuzz_table.c, bench/flagread.c), not part of include/warden.h.
 */
#ifndef WARDEN_LIBWARDEN_TEST_H
#define WARDEN_LIBWARDEN_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct warden_table;
/*
 * How often the slow path tries to (re)attach, counted from now; 0: on
 * every slow read.
 */
void		 warden_test_set_retry(struct warden_table *, uint64_t ns);
/* How many reads took the slow path past its first check. */
uint64_t	 warden_test_slow(struct warden_table *);
/* Whether the handle has a table mapped. */
bool		 warden_test_attached(struct warden_table *);
/*
 * One consistent read of stage, generation and the first N values (in
 * slot order) of the table. nflags, or -1 (no table, damaged, or the
 * writer kept moving for every try).
 */
int		 warden_test_snapshot(struct warden_table *, int *stage,
		    uint64_t *generation, uint32_t *values, size_t n);

/* Reports the handle sent to warden (WARDEN_REPORT); 0 if it sends none. */
uint64_t	 warden_test_reports(struct warden_table *);
/* The descriptor the handle reports on; -1 if none. */
int		 warden_test_report_fd(struct warden_table *);

#endif
