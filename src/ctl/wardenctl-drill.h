/*
 * wardenctl-drill.h: the parts of "wardenctl drill run": the command
 * (wardenctl-drill.c) reads the files and prints the reports, the runner
 * (wardenctl-drill-run.c) keeps the connections to warden and runs the
 * phases, and wardenctl-drill-step.c runs one step. What a drill means,
 * how results match and what the report says is drill.c's, in core.
 */
#ifndef WARDENCTL_DRILL_H
#define WARDENCTL_DRILL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "drill.h"
#include "wardenctl-conn.h"

/* For the last events to arrive, and for a look at a wait's condition. */
#define DRILL_SYNC_MS		2000

enum run_rc { RUN_OK, RUN_TIMEOUT, RUN_LOST, RUN_INTR };

/* What runner_pump waits for. */
enum pump_until { UNTIL_ANSWER, UNTIL_EXITED, UNTIL_SYNC };

/* A baseline: the result of a step's call at the start of the steps. */
struct baseline {
	json_t	*result;
	char	*error;		/* why there is none */
};

struct runner {
	const char		*socket;
	struct conn		 calls;
	struct conn		 events;
	json_int_t		 next_id;
	json_int_t		 sync_id;	/* awaited on events */
	bool			 synced;
	struct drill_report	*rep;
	json_t			*unexited;	/* [{service, pid}] */
	bool			 interruptible;
	char			 lost[256];	/* why calls broke */
};

/* SIGINT or SIGTERM, once one came (drill_signals). */
extern volatile sig_atomic_t	drill_signal;

/* wardenctl-drill-run.c */
void		 drill_signals(void);
double		 drill_now(void);
bool		 drill_run(const char *socket, const struct drill *,
		    struct drill_report *);
json_t		*runner_request(struct runner *, const char *method,
		    json_t *params);
enum run_rc	 runner_pump(struct runner *, enum pump_until,
		    uint64_t deadline, json_t **msg);
enum run_rc	 runner_call(struct runner *, json_t *req, json_int_t first,
		    size_t n, uint64_t deadline, json_t **answer);
enum run_rc	 runner_call1(struct runner *, const char *method,
		    json_t *params, int deadline_ms, json_t **result,
		    char *err, size_t errlen);

/* wardenctl-drill-step.c */
enum run_rc	 step_run(struct runner *, enum drill_phase, size_t index,
		    const struct drill_step *, const struct baseline *,
		    bool *failed);
const char	*step_run_error(struct runner *, enum run_rc, int ms);
struct baseline	*baselines_take(struct runner *, const struct drill_steps *);
void		 baselines_free(struct baseline *, size_t);

#endif
