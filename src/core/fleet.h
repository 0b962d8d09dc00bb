/*
 * fleet.h: a fleet of wardens sharing its flags and stage through etcd
 * (SPEC 16), as pure logic: the keys, their values, what a host does with
 * each change, and who has applied what. Nothing here talks to etcd or
 * reads a clock; the daemon passes what etcd answered and the time.
 *
 * Keys, under the configured prefix P ("/warden/"): what the fleet wants
 * under P "desired/", what each host has applied under P "hosts/", apart,
 * so that a member watches the first alone and never receives the other
 * hosts' reports (N hosts reporting each change to N watchers would be
 * N * N events):
 *
 *	P "desired/stage"
 *			{"stage": N, "by": BY, "at": MS, "reason": S|null,
 *			 "values": {FLAG: V, ...}}
 *			with "emergency": true (and stage 0) for an emergency:
 *			every flag to its default, stage 0. "values" is every
 *			flag's value on the writer once its change was made:
 *			a host applies the stage op, then sets each flag that
 *			differs, so that every host ends with the writer's
 *			values whatever path it took (a rollback restores what
 *			was saved before a stage, which a resyncing host never
 *			saved). A flag of values this host lacks is ignored and
 *			reported; a flag of this host's missing from values
 *			keeps its value.
 *	P "desired/flags/" NAME
 *			{"value": true|false|0..100, "by": BY, "at": MS,
 *			 "reason": S|null}, or {"reset": true, "by": BY,
 *			 "at": MS, "reason": S|null}: the flag reset to its
 *			 default. A fleet write resets with that record, not
 *			 by deleting the key: a deletion leaves nothing in the
 *			 range for a transaction's compare to see (fleetd-write.c),
 *			 and the record keeps who reset it and why. The key
 *			 deleted by hand still means the flag reset.
 *	P "hosts/" HOST	{"stage": N, "generation": G, "revision": R,
 *			 "observed": O, "applied_at": MS,
 *			 "unreachable_since": MS|null,
 *			 "guard": null|{"from", "to", "reason", "at"},
 *			 "rejected": [{"key", "revision", "reason"}, ...]}
 *			put on a lease by the host itself. O (at most R) is
 *			the newest revision it applied that every worker
 *			reading its table has seen (the flags barrier's
 *			readers); absent, it is R.
 *
 * BY is the writer's {"host": H, "uid": U, "pid": P}; MS realtime ms since
 * the epoch. These are warden's own values (plain JSON integers); etcd's
 * own int64 fields are the codec's business.
 *
 * Stage and flag values are refused whole when they carry a field this
 * version does not know: they change state, and a host that does not
 * understand all of a change must not apply part of it (it reports it
 * as rejected instead). Host reports tolerate unknown fields: they only
 * inform, and every version's `fleet status` must list every host.
 *
 * A host applies the changes in etcd revision order, each as the local
 * op it matches (fleet_plan_event()): a stage above the current one is a
 * stage.set, below a stage.rollback, equal nothing; an emergency is
 * stage.emergency; a flag's value flag.set, its reset record or its
 * deletion flag.reset. What
 * it cannot apply (garbage, an unknown flag, a stage its configuration
 * lacks) is rejected with a reason naming the key, never applied halfway.
 * At start or after a compaction it reads the whole of P "desired/" and
 * takes the state the keys make (fleet_plan_resync()).
 */
#ifndef WARDEN_FLEET_H
#define WARDEN_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "config.h"
#include "flags.h"

/* bytes of a fleet change's reason: what a local change takes, as written */
#define FLEET_REASON_MAX	FLAGS_REASON_MAX
#define FLEET_NAME_BUF		(FLEET_HOST_MAX + 1)	/* a flag's or host's name */
#define FLEET_REJECTED_MAX	16	/* rejections a host report keeps, newest */
#define FLEET_STAGE_MAX		1000000	/* a stage value's bound, before the config's */
#define FLEET_ERR_MAX		512	/* an error or reason of this file */

/* A host's name ([A-Za-z0-9._-], 1..64): NULL when fine, else why. */
const char	*fleet_host_problem(const char *);
/* A flag's name as a key's tail may hold it. */
bool		 fleet_flag_name_ok(const char *);
/* A key prefix ("/warden/"): NULL when fine, else why. */
const char	*fleet_prefix_problem(const char *);

/* --- keys ------------------------------------------------------------------------ */

enum fleet_key_kind {
	FLEET_KEY_UNKNOWN,	/* outside the prefix, or no key of ours */
	FLEET_KEY_STAGE,
	FLEET_KEY_FLAG,		/* name: the flag's */
	FLEET_KEY_HOST,		/* name: the host's */
};

#define FLEET_DESIRED	"desired/"	/* under P: the fleet's stage, flags */
#define FLEET_HOSTS	"hosts/"	/* the hosts' reports, under P */

/*
 * The keys, malloc'd. name must be a valid flag or host name, or "" for
 * the flags' own prefix (P "desired/flags/"). fleet_key_desired() and
 * fleet_key_hosts() are the prefixes a range or a watch takes.
 */
char		*fleet_key_desired(const char *prefix);
char		*fleet_key_hosts(const char *prefix);
char		*fleet_key_stage(const char *prefix);
char		*fleet_key_flag(const char *prefix, const char *name);
char		*fleet_key_host(const char *prefix, const char *host);
/* The prefix's range end for etcd: the prefix with its last byte + 1. */
char		*fleet_key_range_end(const char *prefix);
/*
 * What key (len bytes, as etcd gives them: maybe not NUL-terminated, maybe
 * holding NULs) is. Strict: "desired/flags/" and "hosts/" must be followed
 * by a valid name and nothing more; anything else under P is unknown.
 * name (FLEET_NAME_BUF) gets the flag's or host's name, "" for the others.
 */
enum fleet_key_kind fleet_key_parse(const char *prefix, const char *key,
		    size_t len, char name[FLEET_NAME_BUF]);
/* key as text for messages, malloc'd: bytes outside printable ASCII as \xHH. */
char		*fleet_key_text(const char *key, size_t len);

/* --- values (fleet-value.c) -------------------------------------------------------- */

/* Who wrote a change to the fleet, and when and why. */
struct fleet_audit {
	char	 host[FLEET_NAME_BUF];
	uid_t	 uid;
	pid_t	 pid;
	int64_t	 at;		/* realtime ms */
	char	*reason;	/* NULL: none */
};

struct fleet_stage {
	int			stage;		/* 0..FLEET_STAGE_MAX */
	bool			emergency;	/* then stage is 0 */
	struct fleet_audit	by;
	json_t			*values;	/* {FLAG: value}; NULL: none */
};

struct fleet_flag {
	int			value;		/* 0..100 */
	bool			is_bool;	/* written as true/false */
	struct fleet_audit	by;
	bool			reset;		/* the flag reset: no value */
};

/* The last guard rollback a host made (a local write it reports). */
struct fleet_guard {
	bool	 has;
	int	 from, to;
	char	*reason;	/* NULL: none */
	int64_t	 at;
};

struct fleet_report {
	int			stage;
	uint64_t		generation;	/* of the host's table */
	int64_t			revision;	/* the etcd revision applied */
	int64_t			observed;	/* of it, seen by every reader */
	int64_t			applied_at;	/* realtime ms */
	int64_t			unreachable_since; /* realtime ms; 0: reachable */
	struct fleet_guard	guard;
	json_t			*rejected;	/* [{key, revision, reason}], newest last */
};

void		 fleet_audit_clear(struct fleet_audit *);
void		 fleet_stage_clear(struct fleet_stage *);
/* Every flag's value in fs, for a stage key's "values" (new reference). */
json_t		*fleet_values_json(const struct flags *);
void		 fleet_report_clear(struct fleet_report *);

/* Values as JSON (new references) and as the text put in etcd (malloc'd). */
json_t		*fleet_stage_json(const struct fleet_stage *);
json_t		*fleet_flag_json(const struct fleet_flag *);
json_t		*fleet_report_json(const struct fleet_report *);
char		*fleet_value_text(json_t *);	/* steals its argument */

/*
 * Decode the value text (len bytes) of key: 0, or -1 with "KEY: FIELD:
 * what" in err and the output cleared. On success the output is the
 * caller's to clear (fleet_audit_clear(&out->by), fleet_report_clear()).
 */
int		 fleet_stage_decode(const char *key, const char *text, size_t len,
		    struct fleet_stage *, char *err, size_t errlen);
int		 fleet_flag_decode(const char *key, const char *text, size_t len,
		    struct fleet_flag *, char *err, size_t errlen);
int		 fleet_report_decode(const char *key, const char *text, size_t len,
		    struct fleet_report *, char *err, size_t errlen);

/*
 * This host's report from its state: the stage, the table's generation,
 * the revision it has applied and when, since when etcd has been
 * unreachable (0: it is not), the last guard rollback in the stage
 * history, and the rejections kept (borrowed; NULL: none). observed is
 * revision: the caller lowers it while readers have not seen it.
 */
void		 fleet_report_make(struct fleet_report *, const struct flags *,
		    uint64_t generation, int64_t revision, int64_t applied_at,
		    int64_t unreachable_since, const json_t *rejected);
/*
 * Keep a rejection in a report's list, last: the newest FLEET_REJECTED_MAX,
 * a key at a revision for one reason once (a resync reads it again).
 */
void		 fleet_report_reject(json_t *rejected, const char *key,
		    int64_t revision, const char *why);

/* --- applying changes (fleet-plan.c) ----------------------------------------------- */

/* One key as etcd has it (a watch event, or a kv of a range). */
struct fleet_kv {
	const char	*key;
	size_t		 keylen;
	const char	*value;		/* NULL with deleted */
	size_t		 valuelen;
	bool		 deleted;	/* a DELETE event */
	int64_t		 mod_revision;
};

/*
 * One local change to make: op with params as flags_change_read() takes
 * them (the reason included), by the writer (has_by) at its time, else by
 * warden itself at the time the plan was made (a deleted key, a resync's
 * repair). The daemon hands it to flagsvc; fleet_step_record() makes the
 * record it comes to.
 */
struct fleet_step {
	enum flags_op		 op;
	json_t			*params;	/* owned */
	bool			 has_by;
	struct fleet_audit	 by;		/* has_by: the writer's */
	int64_t			 at;		/* realtime ms: by.at, or now */
	int64_t			 revision;	/* of the key it comes from; 0: none */
	char			*key;		/* that key, printable */
};

struct fleet_reject {
	char	*key;		/* printable: bytes outside ASCII escaped */
	int64_t	 revision;
	char	*why;		/* names the key and what is wrong */
};

enum fleet_verdict {
	FLEET_APPLY,		/* *step holds the change */
	FLEET_NOTHING,		/* nothing to change (a host's key, a stage in force) */
	FLEET_REJECT,		/* why holds the reason */
};

/*
 * What one change of the fleet (kv, from a watch) means for the state fs:
 * the stage key deleted is stage 0 (no stage key is the fleet's start),
 * a flag's key deleted its reset; a host's key is nothing to apply.
 * on FLEET_APPLY *step is set (fleet_step_clear() it); on FLEET_REJECT why
 * names the key and what is wrong. Nothing is changed.
 */
enum fleet_verdict fleet_plan_event(const struct flags *fs, const char *prefix,
		    const struct fleet_kv *kv, int64_t now_ms,
		    struct fleet_step *step, char *why, size_t whylen);
void		 fleet_step_clear(struct fleet_step *);
/* The record the step comes to on fs (flags_op_change()), at the writer's time. */
enum flags_err	 fleet_step_record(const struct flags *fs,
		    const struct fleet_step *, json_t **rec, char *err,
		    size_t errlen);

/*
 * The whole prefix at a revision (kvs, any order): the steps, in order,
 * that bring fs to the state those keys make when applied in mod_revision
 * order to every flag at its default and stage 0, and the keys rejected.
 * Only what differs is changed: a host already there gets no step.
 */
struct fleet_plan {
	struct fleet_step	*step;
	size_t			 nsteps;
	struct fleet_reject	*reject;
	size_t			 nrejects;
};

/*
 * Every step one change (kv, from a watch) makes on fs, appended to p in
 * order, its rejections too: fleet_plan_event()'s step, then for a stage
 * key each flag its "values" set (a flag this host lacks is rejected
 * alone, the rest applied). A key any of whose steps fails is rejected
 * whole, with no step. FLEET_APPLY when steps were added.
 */
enum fleet_verdict fleet_plan_change(const struct flags *fs, const char *prefix,
		    const struct fleet_kv *kv, int64_t now_ms, struct fleet_plan *);
void		 fleet_plan_resync(const struct flags *fs, const char *prefix,
		    const struct fleet_kv *kvs, size_t n, int64_t now_ms,
		    struct fleet_plan *);
void		 fleet_plan_free(struct fleet_plan *);

/* --- who lags ---------------------------------------------------------------------- */

/* A live host (its key is there) and its report (NULL: unreadable). */
struct fleet_host {
	const char			*name;
	const struct fleet_report	*report;
};

/* Names, borrowed from the hosts given, sorted. */
struct fleet_lag {
	const char	**applied;
	size_t		  napplied;
	const char	**lagging;
	size_t		  nlagging;
	const char	**unseen;	/* applied, not yet seen by every reader */
	size_t		  nunseen;
};

/*
 * Which hosts have applied revision (report.revision >= it) and which not
 * (a report that cannot be read says nothing applied: not); of those that
 * have, which have readers that have not seen it yet (report.observed <
 * it).
 */
void		 fleet_lag(const struct fleet_host *, size_t n, int64_t revision,
		    struct fleet_lag *);
void		 fleet_lag_free(struct fleet_lag *);

#endif
