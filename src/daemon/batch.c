/*
 * batch.c: work bounded per turn of the loop, whatever the storm.
 *
 * One pass reaps at most BATCH_REAP children, and a batch of the loop's
 * work (a reap, a round of supervision steps) forks at most BATCH_SPAWN
 * workers, and no more once BATCH_SPAWN_SLICE_US have gone on forking (on
 * a busy machine a fork waits for the child's exec, a millisecond or
 * more). The starts beyond it wait in a queue, in order, in state
 * starting without a pid, and the reaping left over waits too; both are
 * taken up by ev_defer, a timer of no delay, which fires only after the
 * loop has polled again: the control socket, signals and the watchdog are
 * served between batches. A lone crash is restarted in the turn that
 * reaps it.
 *
 * Children of warden that are not workers (a reexec's check of a binary,
 * failure hooks, exec probes) are reaped here too, for their owner.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <event2/event.h>

#include "health-run.h"
#include "hooks.h"
#include "ledger.h"
#include "log.h"
#include "strays.h"
#include "tree-private.h"
#include "util.h"

#define BATCH_REAP	256	/* children reaped per pass of the loop */
#define BATCH_SPAWN	32	/* workers forked per batch of the loop's work */
#define BATCH_SPAWN_SLICE_US 2000 /* ... and how long it may go on forking */

struct spawnq		 batch_spawnq[2];
static struct event	*ev_defer;	/* the deferred starts and reaping */
static unsigned		 spawn_budget;	/* forks left in this batch */
static uint64_t		 spawn_until;	/* us: this batch forks no more after */
static bool		 reap_more;	/* a pass stopped at BATCH_REAP */

/* Children of warden that are not workers: reaped for their owner. */
static struct owned {
	pid_t	  pid;
	bool	  group;	/* its process group goes with it, as a worker's */
	void	(*done)(pid_t, int, void *);
	void	 *arg;
}			 owned[4 + HOOKS_RUNNING + HEALTH_EXEC_MAX];

static void	batch_defer_cb(evutil_socket_t, short, void *);
static void	batch_reap(void);

void
batch_init(void)
{
	ev_defer = evtimer_new(tree.base, batch_defer_cb, NULL);
	if (ev_defer == NULL)
		fatalx("cannot create the deferred work's event");
	batch_begin();
}

void
batch_free(void)
{
	size_t	i;

	for (i = 0; i < nitems(batch_spawnq); i++) {
		free(batch_spawnq[i].v);
		memset(&batch_spawnq[i], 0, sizeof(batch_spawnq[i]));
	}
	if (ev_defer != NULL)
		event_free(ev_defer);
	ev_defer = NULL;
}

static uint64_t
batch_now_us(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* A new batch of the loop's work: its forks are counted afresh. */
void
batch_begin(void)
{
	spawn_budget = BATCH_SPAWN;
	spawn_until = 0;	/* set by the first fork */
}

void
batch_hold(void)
{
	spawn_budget = 0;
}

/* May this batch fork once more? The first fork of a batch always may. */
static bool
batch_take(void)
{
	uint64_t	now;

	if (spawn_budget == 0)
		return false;
	now = batch_now_us();
	if (spawn_until == 0)
		spawn_until = now + BATCH_SPAWN_SLICE_US;
	else if (now >= spawn_until)
		return false;
	spawn_budget--;
	return true;
}

static void
batch_defer(void)
{
	struct timeval	tv = { 0, 0 };

	if (evtimer_pending(ev_defer, NULL))
		return;
	if (evtimer_add(ev_defer, &tv) == -1)
		fatalx("cannot arm the deferred work");
}

void
batch_reap_later(void)
{
	reap_more = true;
	batch_defer();
}

/*
 * Fork now, or later: false when the start waits in a queue. Once anything
 * waits, later starts of its kind wait behind it, so that they come in the
 * order they were decided. A restart after a failure also waits behind the
 * first starts (the initial start, an operator's, a reload's): those are
 * taken first, so that a storm of restarts never holds them.
 */
bool
batch_spawn_now(struct node *n)
{
	struct spawnq	*q = &batch_spawnq[n->recovering ? 1 : 0];

	if (q->head == q->n && (!n->recovering ||
	    batch_spawnq[0].head == batch_spawnq[0].n) && batch_take())
		return true;
	n->ready = false;
	if (n->spawn_queued)
		return false;	/* still queued from before a stop */
	n->spawn_queued = true;
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 64;
		q->v = xreallocarray(q->v, q->cap, sizeof(*q->v));
	}
	q->v[q->n++] = n;
	batch_defer();
	return false;
}

/* A node freed (by a reload) while its start waits. */
void
batch_forget(struct node *n)
{
	struct spawnq	*q;
	size_t		 i;

	for (q = batch_spawnq; q < batch_spawnq + nitems(batch_spawnq); q++)
		for (i = q->head; i < q->n; i++)
			if (q->v[i] == n)
				q->v[i] = NULL;
}

/* Fork what waits in q while the batch allows. true: q is empty. */
static bool
batch_run_queue(struct spawnq *q)
{
	struct node	*n;

	while (q->head < q->n) {
		n = q->v[q->head];
		if (n != NULL && n->state == SVC_STARTING && n->pid <= 0 &&
		    n->conf != NULL && !batch_take())
			return false;
		q->head++;
		if (n == NULL)
			continue;	/* freed by a reload */
		n->spawn_queued = false;
		/* Stopped while it waited: nothing to start. */
		if (n->state != SVC_STARTING || n->pid > 0 || n->conf == NULL)
			continue;
		worker_spawn(n);
	}
	q->head = q->n = 0;
	return true;
}

/* The next turn's batch: the reaping left over, then the queued starts. */
static void
batch_defer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	batch_begin();
	if (reap_more)
		batch_reap();
	if (!batch_run_queue(&batch_spawnq[0]) ||
	    !batch_run_queue(&batch_spawnq[1]))
		batch_defer();
	tree_changed();
}

/* --- reaping ----------------------------------------------------------------- */

static void
batch_own(pid_t pid, bool group, void (*done)(pid_t, int, void *), void *arg)
{
	size_t	i;

	for (i = 0; i < nitems(owned); i++)
		if (owned[i].pid <= 0) {
			owned[i].pid = pid;
			owned[i].group = group;
			owned[i].done = done;
			owned[i].arg = arg;
			return;
		}
	fatalx("too many children of warden's own");
}

void
tree_own_child(pid_t pid, void (*done)(pid_t, int, void *), void *arg)
{
	batch_own(pid, false, done, arg);
}

void
tree_own_group(pid_t pid, void (*done)(pid_t, int, void *), void *arg)
{
	batch_own(pid, true, done, arg);
}

static struct owned *
batch_owned_find(pid_t pid)
{
	size_t	i;

	for (i = 0; i < nitems(owned); i++)
		if (owned[i].pid == pid)
			return &owned[i];
	return NULL;
}

bool
batch_is_worker(pid_t pid)
{
	return pidmap_get(&tree.live_pids, pid) != NULL ||
	    batch_owned_find(pid) != NULL;
}

void
tree_reap(void)
{
	batch_begin();
	batch_reap();
}

/* A child that is not a worker has exited: its owner's, or a stray. */
static void
batch_reaped_other(pid_t pid, int status)
{
	struct owned	*o, done;

	if ((o = batch_owned_find(pid)) != NULL) {
		done = *o;
		o->pid = 0;
		done.done(pid, status, done.arg);
		return;
	}
	/* An orphan handed to us as subreaper (strays.c). */
	strays_reaped(pid);
}

/*
 * Reap what has exited, BATCH_REAP at most: a pass beyond that goes on in
 * the next turn (no new SIGCHLD comes for children already dead).
 */
static void
batch_reap(void)
{
	siginfo_t	 si;
	struct node	*n;
	struct owned	*o;
	int		 status, reaped = 0;
	pid_t		 pid;

	reap_more = false;
	for (;;) {
		if (reaped == BATCH_REAP) {
			batch_reap_later();
			return;
		}
		memset(&si, 0, sizeof(si));
		/* Look without reaping: the zombie keeps its pid and group id ours. */
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != ECHILD)
				log_warn("waitid");
			return;
		}
		pid = si.si_pid;
		if (pid == 0)
			return;
		n = pidmap_get(&tree.live_pids, pid);
		if (n != NULL) {
			(void)kill(-pid, SIGKILL);	/* what it forked goes with it */
			worker_strays_ended(n, pid);
			ledger_ended(pid);
		} else if ((o = batch_owned_find(pid)) != NULL && o->group)
			(void)kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1) {
			if (errno != EINTR) {
				log_warn("waitpid %ld", (long)pid);
				return;
			}
		}
		reaped++;
		if (n == NULL) {
			batch_reaped_other(pid, status);
			continue;
		}
		worker_kill_clear(n);
		if (WIFSIGNALED(status))
			worker_exited(n, 0, WTERMSIG(status));
		else
			worker_exited(n, WEXITSTATUS(status), 0);
	}
}
