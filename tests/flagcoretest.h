/*
 * flagcoretest.h: what the unit suites of the pure flag core (check_flags,
 * check_flags_ops, check_flags_records; src/core/flags*.c) share: the demo
 * configuration of seven stage flags, a rollout and a default-on flag, a
 * fresh state per test, and try_op(), through which every change goes.
 *
 * try_op() checks on the way that building a record never touches the
 * state and that applying it changes exactly what the record says; each
 * applied record is kept in the journal, for replay.
 */
#ifndef WARDEN_TESTS_FLAGCORETEST_H
#define WARDEN_TESTS_FLAGCORETEST_H

#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "flags.h"

#define T0	1714564800000LL		/* 2024-05-01T12:00:00.000Z */
#define NDEMO	9			/* flags of demo_text */

/* The demo's flags and four stages, and a guard of 10 restarts in 60 s. */
extern const char	demo_text[];
/* The demo with one more flag in stage 1. */
extern const char	legacy_text[];
/* A reload: use_ets_sampled_events gone, new_flag added, two stages left. */
extern const char	reload_text[];
/* One flag and no stages. */
extern const char	nostages_text[];

extern struct config	*conf;		/* demo_text's, or what a test put */
extern struct flags	*fs;		/* the state under test */
extern json_t		*journal;	/* every record applied, in order */
extern char		 last_err[512];	/* the message of the last try_op() */
extern int64_t		 clock_ms;	/* now: try_op() adds a second */
extern struct flags_actor alice;	/* who makes every change */

/* The fixture: the demo's state at T0, and an empty journal. */
void		 flagcoretest_setup(void);
void		 flagcoretest_teardown(void);

/* text parsed as a configuration, which must be valid. */
struct config	*parse_conf(const char *text);
/* JSON text (any value), which must be valid; new reference. */
json_t		*parse_json(const char *text);
/* The value (0..100) of the flag name, which must exist. */
int		 val_of(const char *name);
/* The flags named in want have its values: "checkout_rollout=60 b=0". */
void		 expect_values(const char *want);

/*
 * One protocol request (params_text NULL: none): the answer must be want;
 * on success the record is applied, checked and kept in the journal
 * (returned, borrowed).
 */
const json_t	*try_op(enum flags_err want, const char *method,
		    const char *params_text);
/* stage.set, flag.set (value as JSON text), stage.rollback: must succeed. */
void		 stage_set(int n);
void		 set_flag(const char *name, const char *value);
void		 rollback(int n);
/* At stage n: its flags and those before on, the other stage flags off. */
void		 expect_stage_values(int n, int rollout, int dark);
/* got (stolen) equals the JSON want_text. */
void		 check_json(json_t *got, const char *want_text);
/* A sequence with every kind of record, the guard's included. */
void		 busy_day(void);

#endif
