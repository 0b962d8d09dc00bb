/*
 * wardenctltest.h: what the suites of wardenctl as a whole process
 * (check_wardenctl, check_wardenctl_events, check_wardenctl_fake) share:
 * its exit statuses, a run of it whose output is kept for the messages of
 * failed checks, and readers of what it prints.
 */
#ifndef WARDEN_TESTS_WARDENCTLTEST_H
#define WARDEN_TESTS_WARDENCTLTEST_H

#include <stddef.h>

#include <jansson.h>

#include "harness.h"

#define CALL_MS		HARNESS_CALL_TIMEOUT

#define EXIT_OK		0
#define EXIT_ERROR	1
#define EXIT_USAGE	2
#define EXIT_CONNECT	3
#define EXIT_TIMEOUT	4

/* a and b, one_for_one, with a budget no test reaches. */
extern const char	conf_ab[];

/* The output of the last run, kept for the messages of failed checks. */
extern char		*ctl_out, *ctl_err;

/* Free the output of the last run. */
void		 forget(void);

/* wardenctl -S SOCK args...; its exit status. */
#define CTL(h, ...) \
	(forget(), harness_ctl((h), &ctl_out, &ctl_err, __VA_ARGS__, \
	    (char *)NULL))

#define CHECK_RC(rc, want, what) \
	ck_assert_msg((rc) == (want), "%s: exit %d, expected %d\n" \
	    "stdout: %s\nstderr: %s", (what), (rc), (want), \
	    ctl_out != NULL ? ctl_out : "", ctl_err != NULL ? ctl_err : "")

/* Run argv as it is (no -S added); WARDEN_SOCKET points at h. */
int		 ctl_run(struct harness *h, const char *const *argv);
/* text holds needle, or what is named. */
void		 has(const char *text, const char *needle, const char *what);
/* text, which must be JSON (any value), from what; new reference. */
json_t		*parse_output(const char *text, const char *what);
/*
 * The row of a table whose first column is name, split into columns
 * (two or more spaces apart, as wardenctl aligns them, so a cell with
 * one space stays whole). Returns the number of columns.
 */
size_t		 table_row(const char *text, const char *name,
		    char cols[][64], size_t max);

#endif
