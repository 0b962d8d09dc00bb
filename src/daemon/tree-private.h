/*
 * tree-private.h: what the files of the supervision tree share (tree.h is
 * the public face). One concept per file:
 *
 *	tree.c		the tree's structure, nodes of either kind, the kicks
 *			that step supervisors, warden's start and shutdown,
 *			operator actions
 *	sup.c		supervisors: restart decisions applied, strategy
 *			operations, intensity
 *	worker.c	a worker at run time: the lifecycle table applied
 *			(src/core/lifecycle.c) and its actions performed
 *	pipes.c		a worker's output and readiness pipes, notify datagrams
 *	batch.c		work bounded per turn of the loop: reaping, the queues
 *			of deferred starts, children of warden's own
 *	status.c	what clients are shown: status, recovery, health
 *	reload.c	a new configuration applied: the diff, retired nodes
 *	handover.c	the tree handed to the next image at a reexec
 */
#ifndef WARDEN_TREE_PRIVATE_H
#define WARDEN_TREE_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "lifecycle.h"
#include "pidmap.h"
#include "tree.h"

#define TREE_LINE_MAX	4096	/* longer output lines are logged in pieces */

/* The tree at run time: one per warden. */
struct tree_state {
	struct event_base	*base;
	struct config		*config;
	struct node		*root;
	struct pidmap		 live_pids;	/* pid -> worker node, while it runs */
	struct node		**retired;	/* replaced or removed by a reload, still stopping */
	size_t			 nretired;
	struct event		*ev_kick;
	struct node		**kickq;	/* supervisors to step, in order */
	size_t			 nkickq, kickq_cap;
	void			(*exit_cb)(int);
	void			(*started_cb)(void);
	void			(*change_cb)(void);
	bool			 shutting_down;
	bool			 exited;
	int			 exit_status;
	bool			 started;
	uint64_t		 generation;	/* reloads applied: names may mean other nodes */
};

extern struct tree_state tree;

/* tree.c */
struct node	*node_new(struct child_conf *, struct node *parent);
char		*node_path(const struct node *parent, const char *name);
void		 node_free(struct node *);
struct node	*node_find(struct node *, const char *name);
bool		 node_is_down(const struct node *);
bool		 node_is_up(const struct node *);
void		 node_start(struct node *);
void		 node_stop(struct node *, enum stop_reason);
void		 node_down(struct node *);
void		 node_timer_clear(struct node *);
void		 node_timer_arm(struct node *, uint64_t ms);
json_t		*node_ev_fields(const struct node *);
void		 tree_kick(struct node *sup);
void		 tree_changed(void);
void		 tree_maybe_exit(void);

/* sup.c */
void		 sup_timer_cb(evutil_socket_t, short, void *);
void		 sup_step(struct node *);
void		 sup_start(struct node *);
void		 sup_stop(struct node *, enum stop_reason);
void		 sup_gave_up(struct node *);
void		 sup_child_failed(struct node *, bool abnormal);

/* worker.c */
void		 worker_timer_cb(evutil_socket_t, short, void *);
void		 worker_kill_timer_cb(evutil_socket_t, short, void *);
/*
 * The one way a worker's state changes: the cell of the lifecycle table
 * for its state and ev, its actions performed. ev_facts: the event's own
 * facts (struct worker_facts, "the event's"), or NULL.
 */
void		 worker_apply(struct node *, enum worker_event,
		    const struct worker_facts *ev_facts);
/*
 * Its liveness failed: check is "exec", "tcp", "http" (its probe, after
 * "failures" in a row: WEV_UNHEALTHY) or "watchdog" (WEV_HUNG); why is
 * said in service.unhealthy and the log. Nothing when it has no process.
 */
void		 worker_unhealthy(struct node *, const char *check,
		    const char *why);
/* A reexec: the state the last image left, put back as it was. */
void		 worker_restore(struct node *, enum svc_state,
		    enum stop_reason);
void		 worker_spawn(struct node *);
void		 worker_exited(struct node *, int code, int sig);
void		 worker_strays_ended(struct node *, pid_t pgid);
void		 worker_kill_clear(struct node *);
void		 worker_env_forget(struct node *);

/* pipes.c */
/* An fd and the event that watches it, both gone (each if there). */
void		 pipes_unwatch(struct event **, int *fd);
void		 pipes_init(struct node *);
void		 pipes_free(struct node *);
void		 pipes_output_cb(evutil_socket_t, short, void *);
void		 pipes_ready_cb(evutil_socket_t, short, void *);
void		 pipes_watch_output(struct node *, int stream, int fd, pid_t);
void		 pipes_watch_ready(struct node *, int fd);
/* final: the instance has exited; its last partial line is logged. */
void		 pipes_read_output(struct node *, bool final);
void		 pipes_close_ready(struct node *);
void		 pipes_notify(pid_t, const char *, size_t, void *);

/* batch.c: deferred starts, oldest at head: [0] first starts, [1] restarts. */
struct spawnq {
	struct node	**v;
	size_t		  head, n, cap;
};
extern struct spawnq	 batch_spawnq[2];

void		 batch_init(void);
void		 batch_free(void);
void		 batch_begin(void);
/* Fork now (true), or later: false when the start waits in a queue. */
bool		 batch_spawn_now(struct node *);
/* Nothing forks in this batch (a reexec's queues come back in order). */
void		 batch_hold(void);
/* Reap at the loop's next turn (children may have exited meanwhile). */
void		 batch_reap_later(void);
void		 batch_forget(struct node *);
bool		 batch_is_worker(pid_t);

/* reload.c */
void		 reload_retired_down(struct node *);

#endif
