/*
 * drill.h: failure drills (warden-drill(5)) without any I/O: parsing and
 * validating a drill's JSON text, matching results against patterns, and
 * the report of a run with its measurements and renderings.
 *
 * wardenctl-drill.c reads the files, talks to warden and feeds what it
 * sees into a report; everything it decides is decided here, so that the
 * unit suite can drive it with made-up answers and events.
 */
#ifndef WARDEN_DRILL_H
#define WARDEN_DRILL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The longest wait a step may ask for: warden's own limit, 24 hours. */
#define DRILL_WITHIN_MAX_MS	(24 * 3600 * 1000)

enum drill_phase {
	DRILL_BEFORE,		/* steady_state, before the steps */
	DRILL_STEPS,
	DRILL_ROLLBACK,
	DRILL_AFTER		/* steady_state again, after the rollback */
};

enum drill_kind {
	DRILL_DO,		/* a call, or a batch of calls */
	DRILL_EXPECT,		/* a call whose result must match */
	DRILL_WAIT		/* warden's wait, with a deadline */
};

struct drill_call {
	char	*method;
	json_t	*params;	/* NULL: none */
};

struct drill_step {
	enum drill_kind	 kind;
	char		*name;		/* NULL: none given */
	struct drill_call *calls;	/* do: 1, or a batch; expect: 1 */
	size_t		 ncalls;
	bool		 batch;		/* "do": [...]: one JSON-RPC batch */
	json_t		*match;		/* expect */
	json_t		*condition;	/* wait */
	int		 within_ms;	/* wait */
	bool		 baseline;	/* uses $delta: needs the start's value */
};

struct drill_steps {
	struct drill_step	*step;
	size_t			 n;
};

struct drill {
	char			*file;
	char			*name;
	char			*description;	/* NULL: none */
	struct drill_steps	 steady_state;
	struct drill_steps	 steps;
	struct drill_steps	 rollback;
};

/*
 * Parse and validate a drill. On error, err holds one line:
 * "FILE:LINE:COL: path: message", the path naming the step and key
 * ("steps[2].within_ms"). Returns 0 or -1.
 */
int	 drill_parse(const char *text, size_t len, const char *file,
	    struct drill **, char *err, size_t errlen);
void	 drill_free(struct drill *);

/* The steps a phase runs (DRILL_AFTER runs steady_state again). */
const struct drill_steps *drill_phase_steps(const struct drill *,
	    enum drill_phase);
const char *drill_phase_name(enum drill_phase);
const char *drill_kind_name(enum drill_kind);

/*
 * What a step does, in one line: the method, the methods of a batch in
 * brackets, or the condition as compact JSON. The caller frees it.
 */
char	*drill_step_what(const struct drill_step *);

/* Is this method one that changes nothing (a baseline may be taken)? */
bool	 drill_method_reads(const char *);

/*
 * The call whose result at the start of the steps is the step's baseline
 * ($delta): an expect step's own call; for a wait on a service with
 * {"min_restarts": {"$delta": N}}, status of that service. Returns false
 * when the step needs none. *params is a new reference or NULL.
 */
bool	 drill_baseline_call(const struct drill_step *, const char **method,
	    json_t **params);

/*
 * A wait step's condition as sent to warden: {"$delta": N} in
 * min_restarts becomes the service's restarts in baseline (status's
 * result) plus N. NULL, with why, when the baseline lacks them.
 */
json_t	*drill_condition(const struct drill_step *, json_t *baseline,
	    char *why, size_t whylen);

/*
 * Does value contain pattern (warden-drill(5), MATCHING)? baseline is the
 * same call's result at the start, for $delta (NULL: none). On false, why
 * holds "path: expected ..., got ...".
 */
bool	 drill_match(json_t *pattern, json_t *value, json_t *baseline,
	    char *why, size_t whylen);

/* --- the report of one run ---------------------------------------------- */

enum drill_verdict { DRILL_PASS, DRILL_FAIL, DRILL_SKIP };

struct drill_result {
	enum drill_phase	 phase;
	size_t			 index;		/* in its array, from 0 */
	enum drill_kind		 kind;
	char			*what;		/* drill_step_what */
	char			*name;		/* NULL: none */
	enum drill_verdict	 verdict;
	double			 ms;		/* < 0: not run */
	char			*error;		/* NULL: none */
};

/* A process service.kill reported killed, and when (warden's clock). */
struct drill_kill {
	char		*service;
	json_int_t	 pid;
	double		 ts;
	/* Measured: ms from ts, < 0 when not seen. */
	double		 exited_ms;
	double		 started_ms;
	double		 ready_ms;
};

/* table.delete or table.corrupt, sent at `at`. */
struct drill_fault {
	char		*kind;		/* "delete", "corrupt" */
	double		 at;
	double		 repaired_ms;	/* to table.repaired's ts; < 0: not seen */
	double		 repair_ms;	/* warden's own figure; < 0: none */
};

/* A wait for {"recovered": true} that passed. */
struct drill_recovery {
	enum drill_phase phase;
	size_t		 index;
	double		 at;		/* when the answer came */
	double		 recovered_ms;	/* from the first fault before it; < 0: none */
};

struct drill_report {
	char			*name;
	char			*file;
	struct drill_result	*results;
	size_t			 nresults;
	struct drill_kill	*kills;
	size_t			 nkills;
	struct drill_fault	*faults;
	size_t			 nfaults;
	struct drill_recovery	*recoveries;
	size_t			 nrecoveries;
	json_t			*events;	/* every event seen, in order */
	bool			 events_lost;	/* the stream broke: figures may lack */
	bool			 interrupted;
	double			 started;	/* first step sent (monotonic ms) */
	double			 ended;
	int			 restarts;	/* service.started with restarts > 0 */
	enum drill_verdict	 verdict;
	char			*error;		/* the first failure, NULL: none */
};

void	 drill_report_init(struct drill_report *, const struct drill *);
void	 drill_report_free(struct drill_report *);
/* A step's outcome; error is copied (NULL: none). */
void	 drill_report_step(struct drill_report *, enum drill_phase, size_t,
	    const struct drill_step *, enum drill_verdict, double ms,
	    const char *error);
/* A failure outside any step (the connection, the event stream). */
void	 drill_report_fail(struct drill_report *, const char *error);
/* service.kill's result: {killed: [{service, pid}], ts}. */
void	 drill_report_kill(struct drill_report *, json_t *result);
void	 drill_report_fault(struct drill_report *, const char *kind,
	    double at);
void	 drill_report_recovered(struct drill_report *, enum drill_phase,
	    size_t, double at);
/* An event's params: {seq, ts, type, ...}. */
void	 drill_report_event(struct drill_report *, json_t *);
/*
 * Work out the measurements and the verdict from what was recorded; the
 * caller sets started, ended, interrupted and events_lost first.
 */
void	 drill_report_finish(struct drill_report *);

/* The report as JSON (warden-drill(5), REPORT), a new reference. */
json_t	*drill_report_json(const struct drill_report *);
/* The report as text, one line per step; the caller frees it. */
char	*drill_report_text(const struct drill_report *);

#endif
