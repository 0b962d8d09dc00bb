/*
 * restart.c: the pure decisions of supervision (see restart.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "restart.h"
#include "util.h"

bool
restart_exit_abnormal(int code, int sig, int stop_signal)
{
	if (sig != 0)
		return sig != stop_signal;
	return code != 0;
}

bool
restart_wanted(enum restart_type type, bool abnormal)
{
	switch (type) {
	case RESTART_PERMANENT:
		return true;
	case RESTART_TRANSIENT:
		return abnormal;
	case RESTART_TEMPORARY:
		return false;
	}
	return false;
}

void
restart_scope(enum strategy strategy, size_t n, size_t failed, size_t *lo, size_t *hi)
{
	*lo = failed;
	*hi = failed;
	switch (strategy) {
	case STRATEGY_ONE_FOR_ONE:
		break;
	case STRATEGY_REST_FOR_ONE:
		*hi = n - 1;
		break;
	case STRATEGY_ONE_FOR_ALL:
		*lo = 0;
		*hi = n - 1;
		break;
	}
}

void
intensity_init(struct intensity *in, int max_restarts)
{
	in->max = (size_t)(max_restarts < 0 ? 0 : max_restarts) + 1;
	in->cap = in->max < 8 ? in->max : 8;
	in->stamps = xcalloc(in->cap, sizeof(*in->stamps));
	in->len = 0;
	in->head = 0;
}

void
intensity_free(struct intensity *in)
{
	free(in->stamps);
	in->stamps = NULL;
	in->cap = in->max = in->len = in->head = 0;
}

void
intensity_reset(struct intensity *in)
{
	in->len = 0;
	in->head = 0;
}

static bool
intensity_in_window(uint64_t stamp, int max_seconds, uint64_t now_ms)
{
	return now_ms < stamp || now_ms - stamp < (uint64_t)max_seconds * 1000u;
}

/* Double the room, the oldest first again. */
static void
intensity_grow(struct intensity *in)
{
	size_t		 cap = in->cap * 2 > in->max ? in->max : in->cap * 2, i;
	uint64_t	*s = xcalloc(cap, sizeof(*s));

	for (i = 0; i < in->len; i++)
		s[i] = in->stamps[(in->head + i) % in->cap];
	free(in->stamps);
	in->stamps = s;
	in->cap = cap;
	in->head = 0;
}

void
intensity_push(struct intensity *in, uint64_t stamp_ms)
{
	if (in->len == in->cap && in->cap < in->max)
		intensity_grow(in);
	if (in->len < in->cap)
		in->stamps[(in->head + in->len++) % in->cap] = stamp_ms;
	else {
		in->stamps[in->head] = stamp_ms;
		in->head = (in->head + 1) % in->cap;
	}
}

bool
intensity_add(struct intensity *in, int max_seconds, uint64_t now_ms)
{
	/* What left the window no longer counts, nor takes room. */
	while (in->len > 0 &&
	    !intensity_in_window(in->stamps[in->head], max_seconds, now_ms)) {
		in->head = (in->head + 1) % in->cap;
		in->len--;
	}
	if (in->len == in->cap && in->cap < in->max)
		intensity_grow(in);
	if (in->len < in->cap)
		in->stamps[(in->head + in->len++) % in->cap] = now_ms;
	else {
		/* Full: the newest replaces the oldest. */
		in->stamps[in->head] = now_ms;
		in->head = (in->head + 1) % in->cap;
	}
	return in->len == in->max &&
	    intensity_in_window(in->stamps[in->head], max_seconds, now_ms);
}

size_t
intensity_count(const struct intensity *in, int max_seconds, uint64_t now_ms)
{
	size_t	i;

	/* Oldest first: once one is in the window, all later ones are. */
	for (i = 0; i < in->len; i++)
		if (intensity_in_window(in->stamps[(in->head + i) % in->cap],
		    max_seconds, now_ms))
			return in->len - i;
	return 0;
}

uint32_t
backoff_delay_ms(const struct backoff_conf *b, unsigned n, double r)
{
	double	d;

	/* Zero stays zero, however far the power runs (0 * inf is nan). */
	if (b->initial_ms == 0)
		return 0;
	if (n == 0)
		n = 1;
	d = (double)b->initial_ms * pow(b->factor, (double)(n - 1));
	if (!(d <= (double)b->max_ms))	/* also catches inf and nan */
		d = b->max_ms;
	d *= 1.0 + b->jitter * (2.0 * r - 1.0);
	if (d < 0)
		d = 0;
	if (d > (double)b->max_ms)
		d = b->max_ms;
	return (uint32_t)llround(d);
}

unsigned
backoff_next_streak(const struct backoff_conf *b, unsigned streak, uint64_t ran_ms)
{
	if (ran_ms >= b->reset_after_ms)
		return 1;
	return streak + 1;
}

bool
restart_safe_regime(const struct child_conf *sup, const struct child_conf *child)
{
	return !child->is_sup && child->implicit_backoff && sup->implicit_intensity;
}

uint32_t
restart_safe_delay_ms(unsigned n, double r)
{
	static const struct backoff_conf safe = {
		.initial_ms = RESTART_SAFE_INITIAL_MS,
		.max_ms = RESTART_SAFE_MAX_MS,
		.factor = 2.0,
		.jitter = 0.2,
		.reset_after_ms = 10000,
	};

	if (n <= 1)
		return 0;
	return backoff_delay_ms(&safe, n - 1, r);
}

/* Errors that say warden itself is short of something, whatever the stage. */
static bool
restart_errno_resource(int err)
{
	return err == EMFILE || err == ENFILE || err == EAGAIN ||
	    err == ENOMEM;
}

enum start_fault
restart_start_fault(const char *stage, int err)
{
	static const char *const own[] = {
		"exec", "chdir", "setgroups", "setgid", "setuid",
	};
	size_t	i;

	if (stage == NULL)
		return FAULT_RESOURCE;	/* fork or pipe in warden */
	if (err == 0)
		return FAULT_NONE;
	if (restart_errno_resource(err))
		return FAULT_RESOURCE;
	/* What the service's settings decide; the rest is warden's plumbing. */
	for (i = 0; i < nitems(own); i++)
		if (strcmp(stage, own[i]) == 0)
			return FAULT_EXEC;
	/* A limit the service's rlimits ask for and may not have. */
	if (strncmp(stage, "rlimits.", 8) == 0)
		return FAULT_EXEC;
	return FAULT_RESOURCE;
}

const char *
restart_fault_stage(const char *stage)
{
	if (stage == NULL)
		return "warden";
	if (strcmp(stage, "chdir") == 0)
		return "cwd";
	if (strcmp(stage, "setgroups") == 0 || strcmp(stage, "setuid") == 0)
		return "user";
	if (strcmp(stage, "setgid") == 0)
		return "group";
	return stage;
}

uint32_t
restart_fault_delay_ms(enum start_fault f, unsigned n)
{
	uint64_t	d, max;

	switch (f) {
	case FAULT_EXEC:
		d = RESTART_EXEC_INITIAL_MS;
		max = RESTART_EXEC_MAX_MS;
		break;
	case FAULT_RESOURCE:
		d = RESTART_RESOURCE_INITIAL_MS;
		max = RESTART_RESOURCE_MAX_MS;
		break;
	default:
		return 0;
	}
	for (; n > 1 && d < max; n--)
		d *= 2;
	return (uint32_t)(d < max ? d : max);
}

struct restart_decision
restart_decide(const struct child_conf *sup, const struct child_conf *child,
    size_t index, bool abnormal, struct intensity *in, unsigned streak,
    uint64_t now_ms, double r)
{
	struct restart_decision	d;

	memset(&d, 0, sizeof(d));
	if (!restart_wanted(child->restart, abnormal)) {
		d.action = RESTART_STAY_DOWN;
		d.failed = abnormal;
		return d;
	}
	if (restart_safe_regime(sup, child)) {
		/* Spaced by its own delay, not counted against the supervisor. */
		d.action = RESTART_SCOPE;
		restart_scope(sup->strategy, sup->nchildren, index, &d.lo, &d.hi);
		d.delay_ms = restart_safe_delay_ms(streak, r);
		return d;
	}
	/* Backoff never exempts a restart from the intensity limit. */
	if (intensity_add(in, sup->max_seconds, now_ms)) {
		d.action = RESTART_ESCALATE;
		return d;
	}
	d.action = RESTART_SCOPE;
	restart_scope(sup->strategy, sup->nchildren, index, &d.lo, &d.hi);
	d.delay_ms = child->is_sup ? 0 : backoff_delay_ms(&child->backoff, streak, r);
	return d;
}
