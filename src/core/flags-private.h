/*
 * flags-private.h: what flags.c, flags-ops.c and flags-record.c share; not for
 * anybody else (flags.h is the interface).
 */
#ifndef WARDEN_FLAGS_PRIVATE_H
#define WARDEN_FLAGS_PRIVATE_H

#include "flags.h"

/* Format err (when not NULL) and return e. */
enum flags_err	 flags_fail(char *err, size_t errlen, enum flags_err e,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A value clamped to 0..100, a stage to 0..nstages. */
int		 flags_clamp(json_int_t);
int		 flags_clamp_stage(const struct flags *, json_int_t);
/* Every flag's value in force, a new array of nflags. */
int		*flags_values(const struct flags *);

json_t		*flags_actor_json(const struct flags_actor *);	/* NULL: null */
json_t		*flags_str_or_null(const char *);
json_t		*flags_all_json(const struct flags *);		/* [flag, ...] */
json_t		*flags_values_json(const struct flags *, const int *);	/* {name: v} */

#endif
