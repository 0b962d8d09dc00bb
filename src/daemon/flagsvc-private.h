/*
 * flagsvc-private.h: what flagsvc.c (the state, the table and its repair,
 * the guard, reexec and life) and flagsvc-commit.c (changes, made durable
 * in groups) share; the rest of warden has flagsvc.h.
 */
#ifndef WARDEN_FLAGSVC_PRIVATE_H
#define WARDEN_FLAGSVC_PRIVATE_H

#include <stdint.h>
#include <jansson.h>

#include "flags.h"
#include "flagsvc.h"

struct config;
struct event_base;
struct journal;

/* The state in force (only records made durable are applied to it). */
struct flags	*flagsvc_state(void);
struct journal	*flagsvc_journal(void);
const struct config *flagsvc_config(void);
int64_t		 flagsvc_realtime_ms(void);

/* Write the state in force into the table, as one change. */
void		 flagsvc_publish(void);
/* A record applied changed the stage: the guard arms or disarms. */
void		 flagsvc_guard_follow(const json_t *rec);
/*
 * A pin that failed is tried again before a change is taken: 0, or -1
 * with errno (then the change is refused).
 */
int		 flagsvc_pin_if_due(void);
/* Enough records since the last snapshot: take one (a failure is logged). */
void		 flagsvc_snapshot_if_due(void);

/*
 * A record warden makes itself (the guard's rollback), validated against
 * the state in force after flagsvc_flush(): committed at once, as a group
 * of its own. Takes rec. FLAGSVC_OK, or FLAGSVC_UNAVAILABLE with err.
 */
enum flagsvc_err flagsvc_commit_record(json_t *rec, char *err, size_t errlen);

/* The group's event, on the daemon's loop; gone at shutdown. */
void		 flagsvc_commit_init(struct event_base *);
void		 flagsvc_commit_fini(void);

#endif
