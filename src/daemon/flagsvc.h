/*
 * flagsvc.h: flags, stages and the shared table inside the daemon.
 *
 * It holds the truth (flags.c), makes every change durable before it is
 * applied (journal.c), publishes the result to the shared table (table.c),
 * tells subscribers (events.c), watches the table and repairs it when it is
 * deleted or damaged, and runs the guard that rolls a stage back when
 * restarts pile up after it was raised.
 */
#ifndef WARDEN_FLAGSVC_H
#define WARDEN_FLAGSVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "flags.h"

struct event_base;
struct config;

/* Load the state, publish the table, start watching it. -1 with err. */
int		 flagsvc_init(struct event_base *, const struct config *,
		    char *err, size_t errlen);
/* After a reload: flags and stages as the new config has them. */
void		 flagsvc_reconfigure(const struct config *);
/* Snapshot the state and let go; the table stays for its readers. */
void		 flagsvc_shutdown(void);
/*
 * A reexec: the state folder's locked fd, the table's fds and the repair
 * and guard counts, the fds left open. flagsvc_adopt() in the next image,
 * before flagsvc_init(): init then keeps that lock, replays the state
 * without pinning it again, and keeps publishing to that table.
 */
json_t		*flagsvc_handover(void);
int		 flagsvc_adopt(const json_t *, char *err, size_t errlen);

/* What a change can come to; the method table says it in protocol codes. */
enum flagsvc_err {
	FLAGSVC_OK = 0,
	FLAGSVC_INVALID,	/* params unknown, mistyped or out of range */
	FLAGSVC_NOT_FOUND,	/* no such flag or stage */
	FLAGSVC_CONFLICT,	/* not possible from the current stage */
	FLAGSVC_UNAVAILABLE,	/* the change could not be made durable */
};

/*
 * A change the protocol asks for: op's params (flags_change_read()) by
 * uid and pid. FLAGSVC_OK with *result (the method's result), or why not
 * with err: the change is in force only once it has been made durable.
 * flagsvc_write() names the op as its records do ("flag.set", ...).
 */
enum flagsvc_err flagsvc_change(enum flags_op, const json_t *params, uid_t uid,
		    pid_t pid, json_t **result, char *err, size_t errlen);
enum flagsvc_err flagsvc_write(const char *op, const json_t *params, uid_t uid,
		    pid_t pid, json_t **result, char *err, size_t errlen);

const struct flags *flagsvc_flags(void);
int		 flagsvc_stage(void);
uint64_t	 flagsvc_generation(void);	/* the table's */
json_t		*flagsvc_table_info(void);	/* health, name, generation */
/* {healthy, repairs, last_repair_ms, available, error (null when available)} */
json_t		*flagsvc_table_health(void);
bool		 flagsvc_table_healthy(void);
/* Whether the name leads to our table; if not, why (else NULL). */
bool		 flagsvc_table_available(void);
const char	*flagsvc_table_error(void);
/*
 * Drills: the fault as it would happen from outside; the repair follows.
 * -1 with ENOENT while the table is unavailable.
 */
int		 flagsvc_table_delete(void);
int		 flagsvc_table_corrupt(void);

/*
 * For workers: the table's name and a read-only fd of it (-1: none, as
 * while the table is unavailable).
 */
const char	*flagsvc_table_name(void);
int		 flagsvc_table_fd(void);

/* For the metrics: repairs of the table, and the guard's rollbacks. */
unsigned	 flagsvc_repairs(void);
uint64_t	 flagsvc_guard_rollbacks(void);

/*
 * A restart of n caused by a failure: the guard counts it (with the scope
 * "readers", only if n read a flag the stage guarded enabled).
 */
struct node;
void		 flagsvc_note_restart(struct node *);

#endif
