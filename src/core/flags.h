/*
 * flags.h: feature flags and migration stages, as pure state.
 *
 * Nothing here does I/O or reads a clock: the caller passes the time. Every
 * change goes through two steps so that it can be made durable in between:
 *
 *	1. flags_op_*() validates a request against the state and returns a
 *	   change record (a JSON object) describing exactly what would change,
 *	   without touching the state;
 *	2. flags_apply() applies a record.
 *
 * The daemon writes the record to the journal (journal.c) between the two,
 * and at start applies the journal's records to the snapshot's state with
 * the same flags_apply(), so a replay reproduces the live state.
 *
 * Values: an int 0..100 per flag; 0 is false, 100 is true, 1..99 a rollout
 * percentage. In protocol JSON a value is true/false when the flag's
 * configured default was written as a boolean and the value is 0 or 100,
 * and the integer percentage otherwise. Times in protocol JSON are
 * ISO-8601 UTC strings with milliseconds ("2024-05-01T12:00:00.000Z"), or
 * null for never; records and snapshots keep realtime milliseconds.
 *
 * A change record (version 1):
 *
 *	{ "v": 1, "seq": N,		seq: added by journal_append()
 *	  "op": "flag.set" | "flag.reset" | "stage.set" | "stage.rollback" |
 *	        "stage.emergency",
 *	  "kind": "set" | "rollback" | "emergency" | "guard",  stage ops only
 *	  "at": MS, "by": {"uid": U, "pid": P} | null, "reason": S | null,
 *	  "name": S,			flag.set, and flag.reset of one flag
 *	  "changes": [{"name": S, "old": V, "new": V}, ...],
 *	  "stage": {"from": M, "to": N},	stage ops only
 *	  "push": [{"stage": K, "values": {NAME: V, ...}}, ...],  stage.set
 *	  "drop": D }			saved sets dropped (rollback, emergency)
 *
 * "changes" lists the flags whose value changes; a flag.set, or a
 * flag.reset of a named flag, lists its flag even when the value stays, so
 * that who and why are kept. Applying a record sets each listed flag to
 * "new" (clamped to 0..100) and stamps it with at/by/reason, pushes the
 * saved sets (a name missing from one takes the flag's value in force), sets
 * the stage to "to" (clamped to the configured stages) and drops the saved
 * sets above it. Names no longer configured are skipped.
 */
#ifndef WARDEN_FLAGS_H
#define WARDEN_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "config.h"

#define FLAGS_RECORD_VERSION	1
#define FLAGS_HISTORY_MAX	200	/* stage history entries kept, newest last */
#define FLAGS_REASON_MAX	1024	/* bytes */
#define FLAGS_STAGE_DEFAULT	(-1)	/* stage.rollback: one below the current */

enum flags_err {
	FLAGS_OK = 0,
	FLAGS_INVALID_PARAMS,	/* JSON-RPC -32602 */
	FLAGS_NOT_FOUND,	/* -32001: no such flag or stage */
	FLAGS_CONFLICT,		/* -32004: not possible from the current stage */
};

/*
 * Who asked: the peer's credentials from SO_PEERCRED, and for a change a
 * fleet's writer made on another warden, that host's name ("": this one).
 * Records carry "host" only when it is not this one, so older records,
 * which never have it, read as this host's.
 */
#define FLAGS_HOST_BUF	65	/* a host's name, [A-Za-z0-9._-], with its NUL */

struct flags_actor {
	uid_t	uid;
	pid_t	pid;
	char	host[FLAGS_HOST_BUF];
};

/* Everything an operation stamps on the change besides its arguments. */
struct flags_ctx {
	int64_t				 now_ms;	/* CLOCK_REALTIME, ms since the epoch */
	const struct flags_actor	*by;		/* NULL: warden itself */
	const char			*reason;	/* NULL: none */
};

struct flag_state {
	char			*name;
	char			*description;
	int			 dflt;		/* from the config */
	bool			 dflt_is_bool;
	int			 value;		/* 0..100 */
	int64_t			 changed_at;	/* realtime ms; 0: never changed */
	bool			 has_by;
	struct flags_actor	 by;
	char			*reason;	/* NULL: none */
};

struct flags {
	struct flag_state	 *flag;
	size_t			  nflags;
	size_t			**stage_flags;	/* [k - 1]: flag indexes stage k enables */
	size_t			 *stage_nflags;
	int			  nstages;
	int			  stage;	/* 0..nstages */
	int			**saved;	/* [k - 1]: values in force before stage k, k <= stage */
	json_t			 *history;	/* [{from, to, at, by, reason, kind}], oldest first */
	uint64_t		  seq;		/* seq of the last record applied; 0: none */
};

/* A fresh state from the configuration: every flag at its default, stage 0. */
struct flags	*flags_new(const struct config *);
void		 flags_free(struct flags *);
/* A deep copy: changing one leaves the other as it was. */
struct flags	*flags_copy(const struct flags *);
/*
 * Take a reloaded configuration: values, their authors, the stage, the saved
 * sets and the history carry over by flag name; new flags start at their
 * default; the stage is clamped to the stages that still exist.
 */
void		 flags_reconfigure(struct flags *, const struct config *);
/* Index of the flag, or -1. */
ssize_t		 flags_find(const struct flags *, const char *name);

/*
 * Operations. Each validates and, on FLAGS_OK, returns a new record in *rec
 * (owned by the caller) without changing the state. On error *rec is NULL
 * and err holds a message for the JSON-RPC answer.
 *
 * flags_op_set: value is JSON true, false or an integer 0..100.
 * flags_op_reset: name NULL resets every flag.
 * flags_op_stage_set: applies stages M+1..stage; stage <= M is a conflict,
 *     a stage outside 1..nstages not found.
 * flags_op_stage_rollback: to stage (FLAGS_STAGE_DEFAULT: M - 1), which must
 *     lie in 0..M-1; the values become those saved before stage+1.
 * flags_op_emergency: every flag to its default, stage 0.
 * flags_op_guard: the guard's rollback to M - 1 (kind "guard"); ctx->reason
 *     should say why (flags_guard_reason()).
 */
enum flags_err	flags_op_set(const struct flags *, const char *name, const json_t *value,
		    const struct flags_ctx *, json_t **rec, char *err, size_t errlen);
enum flags_err	flags_op_reset(const struct flags *, const char *name,
		    const struct flags_ctx *, json_t **rec, char *err, size_t errlen);
enum flags_err	flags_op_stage_set(const struct flags *, int stage,
		    const struct flags_ctx *, json_t **rec, char *err, size_t errlen);
enum flags_err	flags_op_stage_rollback(const struct flags *, int stage,
		    const struct flags_ctx *, json_t **rec, char *err, size_t errlen);
enum flags_err	flags_op_emergency(const struct flags *,
		    const struct flags_ctx *, json_t **rec, char *err, size_t errlen);
enum flags_err	flags_op_guard(const struct flags *,
		    const struct flags_ctx *, json_t **rec, char *err, size_t errlen);

/*
 * The changes the protocol asks for (flag.set {name, value, reason?},
 * flag.reset {name?, reason?}, stage.set {stage, reason?},
 * stage.rollback {stage?, reason?}, stage.emergency {reason?}), each an
 * op; its name is the "op" of the records it makes. flags_change_read()
 * reads an op's params (NULL: none) into a change: unknown or mistyped
 * params are FLAGS_INVALID_PARAMS, a negative stage FLAGS_NOT_FOUND.
 * flags_op_change() is the op's flags_op_*() with the change's arguments.
 * The change borrows from params.
 */
enum flags_op {
	FLAGS_OP_SET,
	FLAGS_OP_RESET,
	FLAGS_OP_STAGE_SET,
	FLAGS_OP_STAGE_ROLLBACK,
	FLAGS_OP_STAGE_EMERGENCY,
};

struct flags_change {
	enum flags_op	 op;
	const char	*name;		/* flag.set; flag.reset: NULL for every flag */
	const json_t	*value;		/* flag.set */
	int		 stage;		/* stage.set; stage.rollback: or FLAGS_STAGE_DEFAULT */
	const char	*reason;	/* NULL: none */
};

const char	*flags_op_name(enum flags_op);
/* The op of a record's (or a method's) name; -1 when it is none. */
int		 flags_op_parse(const char *, enum flags_op *);
enum flags_err	 flags_change_read(enum flags_op, const json_t *params,
		    struct flags_change *, char *err, size_t errlen);
enum flags_err	 flags_op_change(const struct flags *, const struct flags_change *,
		    const struct flags_actor *by, int64_t now_ms, json_t **rec,
		    char *err, size_t errlen);

/*
 * Apply a record. 0, or -1 when it is not a record of a known version and
 * shape (then nothing changed).
 */
int		flags_apply(struct flags *, const json_t *rec);
/*
 * Apply records in order. 0, or -1 at the first that does not apply (not a
 * record of a known version and shape): *bad is its index, and the records
 * before it are applied. Skipping it would apply the later ones to a state
 * they were not made for.
 */
int		flags_replay(struct flags *, const json_t *records, size_t *bad);
/* When rec changes the stage: its from and to (as recorded). */
bool		flags_record_stage(const json_t *rec, int *from, int *to);

/*
 * A value as the protocol writes it (true, false, an integer 0..100) to
 * 0..100; -1 when it is none. flags_value_equal() is for the wait
 * condition {"flag": NAME, "value": V}: does flag i have value v?
 */
int		flags_value_parse(const json_t *v, int *out);
bool		flags_value_equal(const struct flags *, size_t i, const json_t *v);

/* Protocol JSON (new references). */
json_t		*flags_value_json(const struct flags *, size_t i, int value);
json_t		*flags_flag_json(const struct flags *, size_t i);
json_t		*flags_list_json(const struct flags *, uint64_t generation);	/* flag.list */
json_t		*flags_stage_json(const struct flags *);			/* stage.get */
/* The result of the method that made rec, once rec is applied. */
json_t		*flags_result_json(const struct flags *, const json_t *rec);
/*
 * The events rec makes, once applied: [{"type": T, "fields": {...}}, ...]
 * with flag.changed {name, old, new, by, reason} for each value that
 * changed, stage.changed {from, to, kind, by, reason}, and guard.rollback
 * {from, to, reason} for a guard's rollback.
 */
json_t		*flags_events_json(const struct flags *, const json_t *rec);
/* "2024-05-01T12:00:00.000Z" for realtime ms; NULL when ms is 0. */
json_t		*flags_time_json(int64_t ms);

/*
 * Snapshots: the whole state as JSON, and back. flags_restore() takes names
 * and stages as flags_reconfigure() does; a snapshot of the wrong shape or
 * with values out of range is -1 with a message, and changes nothing.
 */
json_t		*flags_snapshot_json(const struct flags *);
int		 flags_restore(struct flags *, const json_t *snap, char *err, size_t errlen);

/*
 * The guard: after a stage is raised, more than max_restarts failure
 * restarts within window_s rolls it back one stage. Times here are
 * monotonic ms (util_now_ms()), apart from the records' realtime.
 *
 * flags_guard_count: how many of the restart stamps (any order) count
 * against the stage raised at raised_ms: those in [raised_ms, raised_ms +
 * window_s * 1000). flags_guard_exceeded: whether that is more than
 * max_restarts (never when the guard is not configured). A ring given here
 * must keep at least max_restarts + 1 stamps.
 */
size_t		flags_guard_count(const struct guard_conf *, uint64_t raised_ms,
		    const uint64_t *stamps, size_t n);
bool		flags_guard_exceeded(const struct guard_conf *, uint64_t raised_ms,
		    const uint64_t *stamps, size_t n, size_t *count);

/*
 * The same decision kept as it goes: arm on every stage raise, disarm on any
 * lowering; note each failure restart. flags_guard_note() returns true once,
 * when the restart exceeds the limit, and disarms: the guard arms again only
 * on the next raise. It is not kept across a restart of warden.
 */
struct flags_guard {
	bool		armed;
	int		stage;		/* the stage raised to... */
	int		from;		/* ...from this one */
	uint64_t	raised_ms;
	size_t		count;		/* restarts within the window so far */
};

void		flags_guard_arm(struct flags_guard *, int stage, uint64_t now_ms);
void		flags_guard_disarm(struct flags_guard *);
bool		flags_guard_note(struct flags_guard *, const struct guard_conf *, uint64_t now_ms);
/* "guard: 11 restarts within 60 s after stage 4 (limit 10)"; free() it. */
char		*flags_guard_reason(const struct flags_guard *, const struct guard_conf *);

#endif
