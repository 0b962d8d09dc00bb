/*
 * drilltest.h: what the drill suites (check_drill, check_drill_match,
 * check_drill_report) share: a drill text parsed, which must be
 * accepted, and a drill with every kind of step.
 */
#ifndef WARDEN_TESTS_DRILLTEST_H
#define WARDEN_TESTS_DRILLTEST_H

#include "drill.h"

/*
 * Every kind of step: a do with params, a batch, an expect on a $delta,
 * a wait on recovery and one on a $delta of restarts; a steady state and
 * a rollback.
 */
extern const char	 drilltest_full[];

/* drill_parse() of text as "d.json", which must succeed. */
struct drill		*drilltest_parse(const char *text);

#endif
