/*
 * tablewait.c: a reader read until it sees what a test waits for
 * (tablewait.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "warden.h"
#include "tablewait.h"

/* What a read must answer: flag's value, or with no flag the stage. */
struct tablewait_want {
	const char	*flag;
	bool		 value;
	int		 stage;
};

static bool
tablewait_seen(warden_table *r, const struct tablewait_want *w)
{
	if (w->flag != NULL)
		return warden_enabled(r, w->flag, !w->value) == w->value;
	return warden_stage(r) == w->stage;
}

static long
tablewait_spin(warden_table *r, const struct tablewait_want *w,
    unsigned deadline_ms)
{
	uint64_t	t0 = util_now_ms(), t;

	do {
		t = util_now_ms();
		if (tablewait_seen(r, w))
			return (long)(t - t0);
	} while (t - t0 <= deadline_ms);
	return -1;
}

long
tablewait_value(warden_table *r, const char *flag, bool want,
    unsigned deadline_ms)
{
	return tablewait_spin(r, &(struct tablewait_want){ .flag = flag,
	    .value = want }, deadline_ms);
}

long
tablewait_stage(warden_table *r, int want, unsigned deadline_ms)
{
	return tablewait_spin(r, &(struct tablewait_want){ .stage = want },
	    deadline_ms);
}
