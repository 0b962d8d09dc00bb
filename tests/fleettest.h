/*
 * fleettest.h: what the fleet's suites (check_fleet, check_fleet_plan)
 * share: random JSON texts, the same on every run for a seed, most of them
 * close to a value of the fleet (the right fields, some wrong), some with
 * their bytes damaged or cut.
 */
#ifndef WARDEN_TESTS_FLEETTEST_H
#define WARDEN_TESTS_FLEETTEST_H

#include <stddef.h>
#include <stdint.h>

void		 fleettest_seed(uint64_t);
uint32_t	 fleettest_random(void);
/* A text of *len bytes (malloc'd, NUL-terminated past them). */
char		*fleettest_text(size_t *len);

#endif
