/*
 * bench-clock.h: the one clock the bench programs time with, included
 * by each of them (they are built one file each).
 */
#ifndef WARDEN_BENCH_CLOCK_H
#define WARDEN_BENCH_CLOCK_H

#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds. */
static inline long long
bench_clock_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#endif
