/*
 * tree.h: the supervision tree at run time.
 *
 * Each node is a worker (a process) or a supervisor (children). The life of
 * a worker is a state x event table (src/core/lifecycle.c, performed by
 * worker.c); supervisors apply their strategy through a restart operation
 * that stops the affected children in reverse order, waits out the
 * backoff, and starts them again in order, each after the previous one is
 * ready (sup.c). The decisions themselves (abnormal exit, restart or not,
 * scope, intensity, backoff) live in restart.c. tree-private.h says which
 * file holds what.
 */
#ifndef WARDEN_TREE_H
#define WARDEN_TREE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "config.h"
#include "downcause.h"
#include "lifecycle.h"
#include "logring.h"
#include "metrics.h"
#include "restart.h"

struct event_base;
struct event;
struct spawn_env;
struct logfile;
struct health_run;
struct readers;

enum op_phase { OP_STOP, OP_WAIT, OP_START };

/* One of a worker's output streams: a pipe read a line at a time (pipes.c). */
struct outpipe {
	struct node		*node;
	int			 stream;	/* enum logring_stream */
	int			 fd;		/* -1: closed */
	pid_t			 pid;		/* the instance writing to it */
	struct event		*ev;
	char			*line;		/* the partial line, TREE_LINE_MAX */
	size_t			 linelen;
	bool			 cut;		/* the last line was cut at TREE_LINE_MAX */
};

struct node {
	char			*name;
	char			*path;
	struct child_conf	*conf;		/* NULL once retired by a reload */
	bool			 is_sup;
	struct node		*parent;
	struct node		**kids;
	size_t			 nkids;
	size_t			 index;		/* in parent->kids */

	enum svc_state		 state;		/* a worker's changes only by worker_apply() */
	enum stop_reason	 stop_reason;
	bool			 want;		/* the operator wants it up */
	bool			 ready;
	bool			 recovering;	/* down unexpectedly, not yet ready again */
	bool			 pending_start;	/* added or changed by a reload */
	struct node		*pred;		/* the instance a reload replaces, until it is down */
	struct node		*succ;		/* retired: the instance waiting for this one */
	bool			 claimed;	/* reload: kept in the new tree */
	unsigned		 starts;
	uint64_t		 started_at;	/* ms, monotonic */
	uint64_t		 ready_at;
	uint64_t		 down_since;	/* 0: not down unexpectedly */
	int64_t			 last_recovery_ms; /* -1: none yet */
	bool			 has_exit;
	int			 exit_code;
	int			 exit_signal;

	/* worker */
	pid_t			 pid;
	struct outpipe		 out[2];	/* stdout, stderr (enum logring_stream) */
	struct logring		 logs;		/* its last lines (logs.c) */
	struct logfile		*logfile;	/* its "log" file, NULL: none */
	uint64_t		 log_dropped;	/* lines the journal or its file lost */
	uint64_t		 log_dropped_unsaid; /* ... not yet said in warden's log */
	struct spawn_env	*env;		/* kept from start to start; NULL: build */
	char			*env_table;	/* what env was built with */
	bool			 env_table_fd;
	char			*env_notify;
	char			*env_report;
	int			 ready_fd;
	struct event		*ev_ready;
	struct event		*timer;		/* backoff, ready timeout or kill grace */
	uint64_t		 timer_at;	/* ms, monotonic: when it fires, if armed */
	unsigned		 streak;	/* failures in a row, for backoff */
	enum start_fault	 fault;		/* why the last start made no worker */
	unsigned		 fault_tries;	/* such starts in a row */
	char			*reason;	/* the fault, said for people; NULL: none */
	bool			 spawn_queued;	/* on the queue of deferred starts */
	pid_t			 killed_pid;	/* service.kill signalled this instance */
	bool			 kill_recovering; /* ... and marked it recovering */
	struct event		*kill_timer;	/* ... and waits for it to die */
	uint64_t		 kill_at;	/* ms, monotonic: the end of its grace */
	pid_t			 signal_pid;	/* service.signal signalled this instance ... */
	int			 signal_sig;	/* ... with this ... */
	uint64_t		 signal_at;	/* ... then (ms, monotonic) */
	struct event		*wd_timer;	/* its watchdog (watchdog.c), NULL: none yet */
	uint64_t		 wd_at;		/* ms, monotonic: when it fires, 0: not armed */
	uint64_t		 wd_usec;	/* the instance's WATCHDOG_USEC=, 0: its config's */
	bool			 wd_foreign_said; /* a ping from another pid was logged */
	char			*status_text;	/* its last STATUS=, NULL: none */
	const char		*unhealthy_check; /* the last WEV_UNHEALTHY/HUNG's: static */
	char			*unhealthy_why;	/* ... and its reason; NULL: none */
	uint64_t		 probe_failures; /* liveness probes failed, all told */
	struct health_run	*health;	/* its probe's rounds (health.c); NULL: none */
	struct readers		*readers;	/* its reports (readers.c); NULL: none */
	int			 stop_signal;	/* copies kept for retired nodes */
	int			 shutdown_ms;
	/* what the metrics count (metrics.c): restarts by cause, recovery times */
	enum down_cause		 down_cause;	/* why it last went down: its next start counts it */
	uint64_t		 restarts_by[CAUSE_N];
	uint64_t		 down_since_us;	/* down_since, in us; 0: not taken */
	bool			 rec_started;	/* this recovery's new process was timed */
	struct metrics_hist	 rec_started_h;	/* down unexpectedly -> new process */
	struct metrics_hist	 rec_ready_h;	/* down unexpectedly -> ready again */

	/* supervisor */
	struct intensity	 intensity;
	bool			 op_active;
	bool			 op_initial;	/* a (re)start of the supervisor itself */
	unsigned		 op_gen;	/* counts the operations begun */
	unsigned		 op_started;	/* child: the parent's op_gen that last started it */
	unsigned		 op_passed;	/* child: the parent's op_gen that saw it up, in order */
	size_t			 op_lo;
	enum op_phase		 op_phase;
	uint32_t		 op_delay;
	bool			 kicked;
};

/* Build the run-time tree for conf (which must outlive it until a reload). */
void		 tree_init(struct event_base *, struct config *);
void		 tree_start(void);
/* Stop everything in reverse order; done(status) runs once all is down. */
void		 tree_shutdown(void);
/* Called with 0 after a shutdown, 3 when the root supervisor gave up. */
void		 tree_on_exit(void (*)(int status));
/* Called once, when the initial start has completed. */
void		 tree_on_started(void (*)(void));
/* Called after each round of supervision steps. */
void		 tree_on_change(void (*)(void));
void		 tree_free(void);

/*
 * SIGCHLD: reap the children that have exited. Restarts beyond a few per
 * turn of the loop, and reaping beyond a batch, are deferred to the next
 * turn, so that a storm of crashes never holds the loop.
 */
void		 tree_reap(void);

struct node	*tree_find(const char *name);
/*
 * Changes whenever a reload may have replaced or removed nodes: a node
 * found by name may be kept while it stays the same.
 */
uint64_t	 tree_generation(void);
struct node	*tree_root(void);
bool		 tree_started(void);	/* the initial start has completed */
const char	*tree_state_name(enum svc_state);
/*
 * The state a service shows: stopping for an instance that service.kill
 * has signalled and that has not exited yet, else its state.
 */
enum svc_state	 tree_service_state(const struct node *);
int		 tree_state_parse(const char *);	/* -1 when not a state */

/* Operator actions. 0, or -1 with *why set to a static message (conflict). */
int		 tree_op_start(struct node *, const char **why);
int		 tree_op_stop(struct node *, const char **why);
int		 tree_op_restart(struct node *, const char **why);
/* Send sig to one worker (to the group's leader, as a fault from outside). */
int		 tree_kill(struct node *, int sig, json_t *killed);
/*
 * The operator's signal to a running worker (its group): a requested
 * exit if it ends it. 0, or -1 with *why (not running) and nothing done.
 */
int		 tree_signal(struct node *, int sig, const char **why);
/* May the operator start (up) or stop it now? As tree_op_*, doing nothing. */
int		 tree_op_check(const struct node *, bool up, const char **why);
/* Every worker in the subtree; fn returns non-zero to stop. */
int		 tree_each_worker(struct node *, int (*fn)(struct node *, void *), void *);

/* Settled: not starting, stopping or in a restart operation. */
bool		 tree_settled(const struct node *);
bool		 tree_recovered(void);
const char	*tree_health(void);

json_t		*tree_service_json(const struct node *);
json_t		*tree_supervisor_json(const struct node *);
json_t		*tree_status_json(const struct node *only);
json_t		*tree_recovery_json(void);

/*
 * Apply a new configuration. With dry_run only the difference is computed.
 * On success conf is taken over (the old one freed) and *result is
 * {added, removed, changed, unchanged}.
 */
int		 tree_reload(struct config *conf, bool dry_run, json_t **result);
struct config	*tree_config(void);

/*
 * A reexec. tree_handover_blocked() says why the tree cannot be handed over
 * now (a shutdown, a reload's instances still stopping, the initial start
 * not done), or NULL. tree_handover() describes every node (pids, pipes,
 * timers as deadlines, counts, a supervisor's restart operation and
 * intensity) and the queues, the fds left open; tree_adopt() puts that
 * description onto the tree tree_init() built from the same configuration
 * in the next image, in place of tree_start(). Workers run on untouched.
 */
const char	*tree_handover_blocked(void);
json_t		*tree_handover(void);
int		 tree_adopt(const json_t *, char *err, size_t errlen);
/* Workers (processes) the tree has running. */
size_t		 tree_worker_count(void);

/*
 * A child of warden that is not a worker (a reexec's check of a binary):
 * never taken for a stray, and reaped here, done(pid, wait status, arg)
 * being called once it has exited.
 */
void		 tree_own_child(pid_t, void (*done)(pid_t, int, void *), void *);
/*
 * The same for a child that leads a process group of its own (a failure
 * hook): what is left in its group is SIGKILLed before it is reaped.
 */
void		 tree_own_group(pid_t, void (*done)(pid_t, int, void *), void *);

#endif
