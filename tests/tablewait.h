/*
 * tablewait.h: a reader of the shared table read until it sees what a
 * test waits for, for the suites that repair or replace the table under
 * it.
 */
#ifndef WARDEN_TESTS_TABLEWAIT_H
#define WARDEN_TESTS_TABLEWAIT_H

#include <stdbool.h>

#include "warden.h"

/*
 * Read flag until it answers want (its default says the opposite) or
 * deadline_ms pass: the time it took, or -1. Reads do not wait, so this
 * spins: it is the reader's own reads that notice a new table.
 */
long	tablewait_value(warden_table *r, const char *flag, bool want,
	    unsigned deadline_ms);
/* The same until the stage read is want. */
long	tablewait_stage(warden_table *r, int want, unsigned deadline_ms);

#endif
