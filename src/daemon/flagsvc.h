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

/*
 * What a change can come to, here or written to the fleet (fleetd.h); the
 * method table says it in protocol codes.
 */
enum flagsvc_err {
	FLAGSVC_OK = 0,
	FLAGSVC_INVALID,	/* params unknown, mistyped or out of range */
	FLAGSVC_NOT_FOUND,	/* no such flag or stage */
	FLAGSVC_CONFLICT,	/* not possible from the current stage; in a
				   fleet: not a member, behind, or the key
				   changed since it was read */
	FLAGSVC_UNAVAILABLE,	/* not made durable; in a fleet: etcd did not
				   answer */
};
/* The flag service's kind of a flags.h error. */
enum flagsvc_err flagsvc_err_of(enum flags_err);

/*
 * A change the protocol asks for: op's params (flags_change_read()) by uid
 * and pid. It is validated at once, against the state in force with the
 * changes taken before it in this turn of the loop applied (a group), and
 * its record written to the journal; at the end of the turn one fdatasync
 * makes the whole group durable, then every change is applied in order,
 * the table published once, the events told in order, and done called for
 * each in order: exactly once, never from within flagsvc_change(), with
 * FLAGSVC_OK and the method's result (a new reference, the callee's), or
 * why not with err. A group that cannot be made durable changes nothing
 * and every one of its changes gets FLAGSVC_UNAVAILABLE. The handle is
 * valid until done is called.
 */
typedef void	 flagsvc_done_fn(void *arg, enum flagsvc_err, json_t *result,
		    const char *err);
struct flagsvc_call;

struct flagsvc_call *flagsvc_change(enum flags_op, const json_t *params,
		    uid_t uid, pid_t pid, flagsvc_done_fn *done, void *arg);
/*
 * The same, by someone else than a client at another time: a fleet's
 * writer (by->host its host) at the time it wrote the change, or warden
 * itself (by NULL).
 */
struct flagsvc_call *flagsvc_change_as(enum flags_op, const json_t *params,
		    const struct flags_actor *by, int64_t at_ms,
		    flagsvc_done_fn *done, void *arg);
/* The one who asked is gone: the change still commits, done is not called. */
void		 flagsvc_forget(struct flagsvc_call *);
/*
 * Commit (or fail) the group now. Before anything that reads the state as
 * a whole or lets it go: a reload, the guard's rollback, a repair of the
 * table, a reexec's handover, shutdown.
 */
void		 flagsvc_flush(void);
/*
 * One change made at once (a group of its own), for callers outside a
 * client's turn: "flag.set" ... as its records name it. FLAGSVC_OK with
 * *result, or why not with err.
 */
enum flagsvc_err flagsvc_write(const char *op, const json_t *params, uid_t uid,
		    pid_t pid, json_t **result, char *err, size_t errlen);
/* fdatasyncs of the journal that made changes durable, one per group. */
uint64_t	 flagsvc_journal_syncs(void);

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
