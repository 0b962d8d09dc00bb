/*
 * tree.c: the supervision tree at run time (see tree.h).
 *
 * The life of a worker, state x event (anything not listed cannot happen):
 *
 *   state      event              next       what warden does
 *   stopped    start              starting   fork+exec; ready=none: running at once
 *   starting   ready              running    service.ready; the parent goes on
 *   starting   ready timeout      stopping   SIGKILL the group; the exit is a failure
 *   starting/  exit (unasked)     backoff/   service.exited; restart decision
 *   running                       stopped/   (restart.c), intensity, strategy
 *                                 failed
 *   starting/  stop               stopping   stop_signal to the group, grace timer
 *   running
 *   stopping   grace over         stopping   SIGKILL to the group
 *   stopping   exit               stopped    per stop_reason: stay down, start
 *                                            again, or let the parent go on
 *   backoff    delay over         starting   fork+exec
 *   backoff    stop               stopped
 *   starting   exit, exec failed  failed     service.failed with the reason;
 *                                            retried slowly (restart.h), not
 *                                            charged to the supervisor
 *   failed     retry delay over   starting   fork+exec (if its parent is up)
 *   stopped    fork/pipe failed   backoff    warden's own fault: retried with
 *              (warden's fds...)             backoff, not charged either
 *
 * Any exit of a worker's leader also SIGKILLs what is left of its process
 * group, before the leader is reaped: while the zombie exists its pid (and
 * so its group id) cannot be reused, so no stranger is ever signalled.
 *
 * Parents are told of their children's changes through tree_kick(), which
 * runs sup_step() from the event loop rather than from deep in a call
 * chain, so that no step ever re-enters another.
 *
 * Work is bounded per turn of the loop, whatever the storm: one pass reaps
 * at most TREE_REAP_BATCH children, and a batch of the loop's work
 * (a reap, a round of supervision steps) forks at most TREE_SPAWN_BATCH
 * workers, and no more once TREE_SPAWN_SLICE_US have gone on forking (on a
 * busy machine a fork waits for the child's exec, a millisecond or more).
 * The starts beyond it wait in a queue, in order, in state
 * starting without a pid, and the reaping left over waits too; both are
 * taken up by ev_defer, a timer of no delay, which fires only after the
 * loop has polled again: the control socket, signals and the watchdog are
 * served between batches. A lone crash is restarted in the turn that
 * reaps it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "events.h"
#include "pidmap.h"
#include "flagsvc.h"
#include "ledger.h"
#include "log.h"
#include "readysock.h"
#include "spawn.h"
#include "strays.h"
#include "tree.h"
#include "util.h"

#define TREE_LINE_MAX	4096	/* longer output lines are logged in pieces */
#define TREE_READ_MAX	65536	/* output bytes read per wake-up */
#define TREE_REAP_BATCH	256	/* children reaped per pass of the loop */
#define TREE_SPAWN_BATCH 32	/* workers forked per batch of the loop's work */
#define TREE_SPAWN_SLICE_US 2000 /* ... and how long it may go on forking */
#define TREE_KILL_GRACE_MS 5000	/* a killed instance without shutdown_ms */

static struct event_base *base;
static struct config	*config;
static struct node	*root;
static struct pidmap	 live_pids;	/* pid -> worker node, while it runs */
static struct node	**retired;	/* replaced or removed by a reload, still stopping */
static size_t		 nretired;
static struct event	*ev_kick;
static struct node	**kickq;
static size_t		 nkickq, kickq_cap;
static struct event	*ev_defer;	/* the deferred starts and reaping */
/* Deferred starts, oldest at head: [0] first starts, [1] restarts. */
static struct spawnq {
	struct node	**v;
	size_t		  head, n, cap;
} spawnq[2];
static unsigned		 spawn_budget;	/* forks left in this batch */
static uint64_t		 spawn_until;	/* us: this batch forks no more after */
static bool		 reap_more;	/* a pass stopped at TREE_REAP_BATCH */
static void		(*exit_cb)(int);
static void		(*started_cb)(void);
static void		(*change_cb)(void);
static bool		 shutting_down;
static bool		 exited;
static int		 exit_status;
static bool		 started;
static uint64_t		 generation;	/* reloads applied: names may mean other nodes */

static void	sup_step(struct node *);
static void	node_start(struct node *);
static void	node_stop(struct node *, enum stop_reason);
static void	node_down(struct node *);
static void	child_failed(struct node *, bool abnormal);
static void	worker_exited(struct node *, int code, int sig);
static void	worker_spawn(struct node *);
static void	tree_reap_batch(void);
static void	retire_done(struct node *);
static void	tree_maybe_exit(void);

static const char *const state_names[] = {
	[SVC_STOPPED] = "stopped", [SVC_STARTING] = "starting",
	[SVC_RUNNING] = "running", [SVC_STOPPING] = "stopping",
	[SVC_BACKOFF] = "backoff", [SVC_FAILED] = "failed",
};

const char *
tree_state_name(enum svc_state s)
{
	return state_names[s];
}

int
tree_state_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < nitems(state_names); i++)
		if (strcmp(s, state_names[i]) == 0)
			return (int)i;
	return -1;
}

/* --- small helpers ------------------------------------------------------ */

static bool
node_is_down(const struct node *n)
{
	return n->state == SVC_STOPPED || n->state == SVC_FAILED ||
	    n->state == SVC_BACKOFF;
}

static bool
node_is_up(const struct node *n)
{
	return n->state == SVC_RUNNING;
}

static void
timer_clear(struct node *n)
{
	if (n->timer != NULL)
		evtimer_del(n->timer);
	n->timer_at = 0;
}

static void
timer_arm(struct node *n, uint64_t ms)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	/*
	 * libevent counts from the time it cached at the start of this turn
	 * of the loop; a turn that forked a few workers on a loaded machine
	 * would cut a worker's ready_timeout_ms or backoff short by that much.
	 */
	if (event_base_update_cache_time(base) == -1)
		log_warnx("%s: cannot read the clock for a timer", n->name);
	if (evtimer_add(n->timer, &tv) == -1)
		fatalx("%s: cannot arm timer", n->name);
	n->timer_at = util_now_ms() + ms;
}

static json_t *
ev_fields(const struct node *n)
{
	return json_pack("{s:s}", "service", n->name);
}

static void
tree_kick(struct node *sup)
{
	if (sup == NULL || sup->kicked)
		return;
	sup->kicked = true;
	if (nkickq == kickq_cap) {
		kickq_cap = kickq_cap ? kickq_cap * 2 : 64;
		kickq = xreallocarray(kickq, kickq_cap, sizeof(*kickq));
	}
	kickq[nkickq++] = sup;
	event_active(ev_kick, EV_TIMEOUT, 0);
}

static uint64_t
now_us(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		fatal("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* A new batch of the loop's work: its forks are counted afresh. */
static void
spawn_batch(void)
{
	spawn_budget = TREE_SPAWN_BATCH;
	spawn_until = 0;	/* set by the first fork */
}

/* May this batch fork once more? The first fork of a batch always may. */
static bool
spawn_take(void)
{
	uint64_t	now;

	if (spawn_budget == 0)
		return false;
	now = now_us();
	if (spawn_until == 0)
		spawn_until = now + TREE_SPAWN_SLICE_US;
	else if (now >= spawn_until)
		return false;
	spawn_budget--;
	return true;
}

static void
tree_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	size_t		 i;
	struct node	*s;

	(void)fd;
	(void)what;
	(void)arg;
	spawn_batch();
	/* Steps may kick more supervisors; take them as they come. */
	for (i = 0; i < nkickq; i++) {
		s = kickq[i];
		s->kicked = false;
		sup_step(s);
	}
	nkickq = 0;
	if (change_cb != NULL)
		change_cb();
}

static void
tree_defer(void)
{
	struct timeval	tv = { 0, 0 };

	if (evtimer_pending(ev_defer, NULL))
		return;
	if (evtimer_add(ev_defer, &tv) == -1)
		fatalx("cannot arm the deferred work");
}

/*
 * Fork now, or later: false when the start waits in a queue. Once anything
 * waits, later starts of its kind wait behind it, so that they come in the
 * order they were decided. A restart after a failure also waits behind the
 * first starts (the initial start, an operator's, a reload's): those are
 * taken first, so that a storm of restarts never holds them.
 */
static bool
spawn_now(struct node *n)
{
	struct spawnq	*q = &spawnq[n->recovering ? 1 : 0];

	if (q->head == q->n && (!n->recovering ||
	    spawnq[0].head == spawnq[0].n) && spawn_take())
		return true;
	n->state = SVC_STARTING;
	n->ready = false;
	if (n->spawn_queued)
		return false;	/* still queued from before a stop */
	n->spawn_queued = true;
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 64;
		q->v = xreallocarray(q->v, q->cap, sizeof(*q->v));
	}
	q->v[q->n++] = n;
	tree_defer();
	return false;
}

/* Fork what waits in q while the batch allows. true: q is empty. */
static bool
spawnq_run(struct spawnq *q)
{
	struct node	*n;

	while (q->head < q->n) {
		n = q->v[q->head];
		if (n != NULL && n->state == SVC_STARTING && n->pid <= 0 &&
		    n->conf != NULL && !spawn_take())
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
tree_defer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	spawn_batch();
	if (reap_more)
		tree_reap_batch();
	if (!spawnq_run(&spawnq[0]) || !spawnq_run(&spawnq[1]))
		tree_defer();
	if (change_cb != NULL)
		change_cb();
}

/* --- building ----------------------------------------------------------- */

static void	worker_timer_cb(evutil_socket_t, short, void *);
static void	sup_timer_cb(evutil_socket_t, short, void *);

static struct node *
node_new(struct child_conf *c, struct node *parent)
{
	struct node	*n = xcalloc(1, sizeof(*n));
	size_t		 i;

	n->name = xstrdup(c->name);
	n->conf = c;
	n->is_sup = c->is_sup;
	n->parent = parent;
	if (parent == NULL)
		n->path = xstrdup("/");
	else if (parent->parent == NULL)
		xasprintf(&n->path, "/%s", c->name);
	else
		xasprintf(&n->path, "%s/%s", parent->path, c->name);
	n->state = SVC_STOPPED;
	n->want = true;
	n->pid = -1;
	n->out_fd = -1;
	n->ready_fd = -1;
	n->last_recovery_ms = -1;
	if (c->is_sup) {
		intensity_init(&n->intensity, c->max_restarts);
		n->timer = evtimer_new(base, sup_timer_cb, n);
		n->kids = xcalloc(c->nchildren, sizeof(*n->kids));
		n->nkids = c->nchildren;
		for (i = 0; i < c->nchildren; i++) {
			n->kids[i] = node_new(c->children[i], n);
			n->kids[i]->index = i;
		}
	} else {
		n->timer = evtimer_new(base, worker_timer_cb, n);
		n->stop_signal = c->stop_signal;
		n->shutdown_ms = c->shutdown_ms;
	}
	if (n->timer == NULL)
		fatalx("cannot create timer");
	return n;
}

static void
worker_env_forget(struct node *n)
{
	spawn_env_free(n->env);
	n->env = NULL;
	free(n->env_table);
	n->env_table = NULL;
	free(n->env_notify);
	n->env_notify = NULL;
}

static void
node_free(struct node *n)
{
	struct spawnq	*q;
	size_t		 i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	if (n->is_sup)
		intensity_free(&n->intensity);
	else if (n->pid > 0)
		pidmap_del(&live_pids, n->pid);
	if (n->timer != NULL)
		event_free(n->timer);
	if (n->ev_out != NULL)
		event_free(n->ev_out);
	if (n->ev_ready != NULL)
		event_free(n->ev_ready);
	if (n->out_fd != -1)
		close(n->out_fd);
	if (n->ready_fd != -1)
		close(n->ready_fd);
	for (i = 0; i < nkickq; i++)
		if (kickq[i] == n)
			kickq[i] = root;	/* harmless: a spare step of the root */
	if (n->spawn_queued)
		for (q = spawnq; q < spawnq + nitems(spawnq); q++)
			for (i = q->head; i < q->n; i++)
				if (q->v[i] == n)
					q->v[i] = NULL;
	if (n->kill_timer != NULL)
		event_free(n->kill_timer);
	worker_env_forget(n);
	free(n->line);
	free(n->reason);
	free(n->name);
	free(n->path);
	free(n);
}

void
tree_on_exit(void (*cb)(int))
{
	exit_cb = cb;
}

void
tree_on_started(void (*cb)(void))
{
	started_cb = cb;
}

void
tree_on_change(void (*cb)(void))
{
	change_cb = cb;
}

static void	tree_notify(pid_t, const char *, size_t, void *);

/* Children of warden that are not workers: reaped for their owner. */
static struct owned {
	pid_t	  pid;
	void	(*done)(pid_t, int, void *);
	void	 *arg;
}			 owned[4];

void
tree_own_child(pid_t pid, void (*done)(pid_t, int, void *), void *arg)
{
	size_t	i;

	for (i = 0; i < nitems(owned); i++)
		if (owned[i].pid <= 0) {
			owned[i].pid = pid;
			owned[i].done = done;
			owned[i].arg = arg;
			return;
		}
	fatalx("too many children of warden's own");
}

static struct owned *
owned_find(pid_t pid)
{
	size_t	i;

	for (i = 0; i < nitems(owned); i++)
		if (owned[i].pid == pid)
			return &owned[i];
	return NULL;
}

static bool
tree_is_worker(pid_t pid)
{
	return pidmap_get(&live_pids, pid) != NULL || owned_find(pid) != NULL;
}

static void
tree_strays_gone(void)
{
	tree_maybe_exit();
}

void
tree_init(struct event_base *b, struct config *conf)
{
	base = b;
	config = conf;
	ev_kick = event_new(base, -1, 0, tree_kick_cb, NULL);
	if (ev_kick == NULL)
		fatalx("cannot create kick event");
	ev_defer = evtimer_new(base, tree_defer_cb, NULL);
	if (ev_defer == NULL)
		fatalx("cannot create the deferred work's event");
	spawn_batch();
	/* Orphans of our workers come back to us, to be reaped here. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("prctl(PR_SET_CHILD_SUBREAPER)");
	if (readysock_open(base, tree_notify, NULL) == -1)
		fatal("cannot open the workers' notify socket");
	strays_init(base, tree_is_worker, tree_strays_gone);
	root = node_new(conf->root, NULL);
}

void
tree_free(void)
{
	size_t	i;

	node_free(root);
	root = NULL;
	for (i = 0; i < nretired; i++)
		node_free(retired[i]);
	free(retired);
	retired = NULL;
	nretired = 0;
	pidmap_free(&live_pids);
	free(kickq);
	kickq = NULL;
	nkickq = kickq_cap = 0;
	if (ev_kick != NULL)
		event_free(ev_kick);
	ev_kick = NULL;
	strays_free();
	for (i = 0; i < nitems(spawnq); i++) {
		free(spawnq[i].v);
		memset(&spawnq[i], 0, sizeof(spawnq[i]));
	}
	if (ev_defer != NULL)
		event_free(ev_defer);
	ev_defer = NULL;
	readysock_close();
}

struct node *
tree_root(void)
{
	return root;
}

struct config *
tree_config(void)
{
	return config;
}

bool
tree_started(void)
{
	return started;
}

static struct node *
node_find(struct node *n, const char *name)
{
	struct node	*f;
	size_t		 i;

	if (strcmp(n->name, name) == 0)
		return n;
	for (i = 0; i < n->nkids; i++)
		if ((f = node_find(n->kids[i], name)) != NULL)
			return f;
	return NULL;
}

struct node *
tree_find(const char *name)
{
	return root != NULL ? node_find(root, name) : NULL;
}

static struct node *
worker_by_pid(pid_t pid)
{
	return pidmap_get(&live_pids, pid);
}

/* --- worker output and readiness --------------------------------------- */

static void
worker_log_line(struct node *n, const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == '\r'))
		len--;
	log_info("%s: %.*s", n->name, (int)len, s);
}

static void
worker_take_output(struct node *n, const char *buf, size_t len)
{
	const char	*nl;
	size_t		 take;

	if (n->line == NULL)
		n->line = xmalloc(TREE_LINE_MAX);
	while (len > 0) {
		nl = memchr(buf, '\n', len);
		take = nl != NULL ? (size_t)(nl - buf) : len;
		if (n->linelen + take > TREE_LINE_MAX)
			take = TREE_LINE_MAX - n->linelen;
		memcpy(n->line + n->linelen, buf, take);
		n->linelen += take;
		buf += take;
		len -= take;
		if (len > 0 && *buf == '\n') {
			buf++;
			len--;
			worker_log_line(n, n->line, n->linelen);
			n->linelen = 0;
		} else if (n->linelen == TREE_LINE_MAX) {
			worker_log_line(n, n->line, n->linelen);
			n->linelen = 0;
		}
	}
}

static void
worker_close_output(struct node *n)
{
	/* The last line of an instance that ended without its newline. */
	if (n->linelen > 0)
		worker_log_line(n, n->line, n->linelen);
	n->linelen = 0;
	if (n->ev_out != NULL)
		event_free(n->ev_out);
	n->ev_out = NULL;
	if (n->out_fd != -1)
		close(n->out_fd);
	n->out_fd = -1;
}

/*
 * Read what is there, at most TREE_READ_MAX, so a flood cannot hold the
 * loop. final: the instance has exited, what it wrote is all in the pipe;
 * its last partial line is logged now and the pipe closed (each instance
 * has its own).
 */
static void
worker_read_output(struct node *n, bool final)
{
	char	buf[8192];
	size_t	total = 0;
	ssize_t	r;

	while (n->out_fd != -1 && total < TREE_READ_MAX) {
		r = read(n->out_fd, buf, sizeof(buf));
		if (r > 0) {
			worker_take_output(n, buf, (size_t)r);
			total += (size_t)r;
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0 || (r == -1 && errno != EAGAIN))
			worker_close_output(n);
		break;
	}
	if (final)
		worker_close_output(n);
}

static void
worker_output_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	worker_read_output(arg, false);
}

static void	worker_ready(struct node *);

static void
worker_close_ready(struct node *n)
{
	if (n->ev_ready != NULL)
		event_free(n->ev_ready);
	n->ev_ready = NULL;
	if (n->ready_fd != -1)
		close(n->ready_fd);
	n->ready_fd = -1;
}

static void
worker_ready_fd_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node	*n = arg;
	char		 buf[256];
	ssize_t		 r;

	(void)what;
	r = read(fd, buf, sizeof(buf));
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0 && memchr(buf, '\n', (size_t)r) != NULL) {
		worker_close_ready(n);
		worker_ready(n);
		return;
	}
	if (r <= 0)	/* closed without a newline: readiness cannot come this way */
		worker_close_ready(n);
}

/* A notify datagram: from the worker itself or from its process group. */
static void
tree_notify(pid_t pid, const char *msg, size_t len, void *arg)
{
	struct node	*n;
	pid_t		 pgid;

	(void)len;
	(void)arg;
	if ((n = worker_by_pid(pid)) == NULL) {
		pgid = getpgid(pid);
		if (pgid <= 0 || (n = worker_by_pid(pgid)) == NULL) {
			log_debug("notify from pid %ld: not a worker's, ignored", (long)pid);
			return;
		}
	}
	if (readysock_has(msg, "READY=1") && n->state == SVC_STARTING &&
	    n->conf != NULL && n->conf->ready == READY_NOTIFY)
		worker_ready(n);
}

/* --- the worker's life ---------------------------------------------------- */

static void
worker_ready(struct node *n)
{
	uint64_t	now = util_now_ms();
	json_t		*f;

	timer_clear(n);
	n->state = SVC_RUNNING;
	n->ready = true;
	n->ready_at = now;
	f = ev_fields(n);
	json_object_set_new(f, "pid", json_integer(n->pid));
	json_object_set_new(f, "start_ms", json_integer((json_int_t)(now - n->started_at)));
	if (n->recovering) {
		n->recovering = false;
		n->last_recovery_ms = (int64_t)(now - n->down_since);
		n->down_since = 0;
		json_object_set_new(f, "recovery_ms", json_integer(n->last_recovery_ms));
	}
	events_emit("service.ready", f);
	tree_kick(n->parent);
}

static bool
same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * The worker's environment, built at its first start and kept: rebuilding
 * it (warden's environment copied and scrubbed, the worker's variables
 * added) was a tenth of warden's time in starting a thousand workers.
 * warden's part is shared by every worker (spawn.c). Forgotten when the
 * worker's configuration changes.
 */
static struct spawn_env *
worker_env(struct node *n, const struct spawn_args *a)
{
	if (n->env != NULL && same_str(n->env_table, a->table_name) &&
	    n->env_table_fd == (a->table_fd != -1) &&
	    same_str(n->env_notify, a->notify_socket))
		return n->env;
	worker_env_forget(n);
	n->env = spawn_env(a);
	n->env_table = a->table_name != NULL ? xstrdup(a->table_name) : NULL;
	n->env_table_fd = a->table_fd != -1;
	n->env_notify = a->notify_socket != NULL ? xstrdup(a->notify_socket) : NULL;
	return n->env;
}

/* The reason status, recovery and the events give for a failed start. */
static void
worker_set_reason(struct node *n, enum start_fault fault, const char *stage,
    int err)
{
	free(n->reason);
	if (fault == FAULT_RESOURCE)
		xasprintf(&n->reason, "warden: cannot start: %s", strerror(err));
	else
		xasprintf(&n->reason, "%s: %s", restart_fault_stage(stage),
		    strerror(err));
}

/*
 * A start that made no worker. The service's own fault (its command
 * cannot be executed as configured) leaves it failed; warden's (out of
 * descriptors, processes, memory) leaves it in backoff. Either is tried
 * again after a growing delay and is never charged to the supervisor's
 * intensity, nor does it stop a sibling: one typo in one service, or a
 * moment of want in warden, takes nothing else down. stage NULL: warden
 * could not fork (err says why); else the reason is already set.
 */
static void
worker_fault(struct node *n, enum start_fault fault, const char *stage, int err)
{
	uint64_t	now = util_now_ms();
	uint32_t	delay;

	if (stage == NULL && fault == FAULT_RESOURCE) {
		worker_set_reason(n, fault, NULL, err);
		if (n->fault_tries == 0)
			log_warnx("%s: cannot start: %s; retrying with backoff",
			    n->name, strerror(err));
	}
	n->fault = fault;
	n->fault_tries++;
	n->ready = false;
	if (shutting_down || (n->parent != NULL &&
	    n->parent->state == SVC_STOPPING)) {
		/* Everything is going down: nothing to try again. */
		n->state = fault == FAULT_EXEC ? SVC_FAILED : SVC_STOPPED;
		n->recovering = false;
		n->down_since = 0;
		tree_kick(n->parent);
		return;
	}
	delay = restart_fault_delay_ms(fault, n->fault_tries);
	if (fault == FAULT_EXEC) {
		n->state = SVC_FAILED;
		n->recovering = false;
		n->down_since = 0;
		if (n->conf->restart == RESTART_TEMPORARY) {
			/* Never restarted by itself, as after any failure. */
			log_warnx("%s: failed: %s; temporary, so not tried again",
			    n->name, n->reason);
			events_emit("service.failed", json_pack("{s:s,s:s,s:n,s:i}",
			    "service", n->name, "reason", n->reason,
			    "retry_ms", "attempt", (int)n->fault_tries));
			tree_kick(n->parent);
			return;
		}
		log_warnx("%s: failed: %s; next try in %u ms", n->name,
		    n->reason, delay);
		events_emit("service.failed", json_pack("{s:s,s:s,s:i,s:i}",
		    "service", n->name, "reason", n->reason,
		    "retry_ms", (int)delay, "attempt", (int)n->fault_tries));
	} else {
		n->state = SVC_BACKOFF;
		if (!n->recovering) {
			n->recovering = true;
			n->down_since = now;
		}
		events_emit("service.backoff", json_pack("{s:s,s:i,s:i,s:s}",
		    "service", n->name, "delay_ms", (int)delay,
		    "attempt", (int)n->fault_tries, "reason", n->reason));
	}
	timer_arm(n, delay);
	tree_kick(n->parent);
}

/*
 * The retry delay of a failed worker is over. Only when nothing else
 * decides about it now: its supervisor up and not in an operation, warden
 * not stopping, the operator still wanting it; else the supervisor's next
 * (re)start, the operator or a reload starts it.
 */
static void
worker_fault_retry(struct node *n)
{
	struct node	*p = n->parent;

	if (shutting_down || !n->want || n->conf == NULL || p == NULL ||
	    node_is_down(p) || p->state == SVC_STOPPING)
		return;
	if (p->op_active) {
		timer_arm(n, restart_fault_delay_ms(n->fault, n->fault_tries));
		return;
	}
	node_start(n);
}

static void
worker_spawn(struct node *n)
{
	struct spawn_args	a;
	struct spawn_result	r;
	json_t			*f;
	uint64_t		 since;

	memset(&a, 0, sizeof(a));
	a.conf = n->conf;
	a.table_name = flagsvc_table_name();
	a.table_fd = flagsvc_table_fd();
	if (n->conf->ready == READY_NOTIFY)
		a.notify_socket = readysock_socket_name();
	a.env = worker_env(n, &a);
	n->starts++;
	n->ready = false;
	n->stop_reason = STOP_NONE;
	n->stop_signal = n->conf->stop_signal;
	n->shutdown_ms = n->conf->shutdown_ms;
	since = ledger_clock();
	if (spawn_worker(&a, &r) == -1) {
		/* No process at all (fork or pipe failed): warden's own fault. */
		n->starts--;
		worker_fault(n, FAULT_RESOURCE, NULL, errno);
		return;
	}
	n->pid = r.pid;
	pidmap_put(&live_pids, n->pid, n);
	ledger_started(n->name, n->pid, since, n->stop_signal, n->shutdown_ms);
	n->started_at = util_now_ms();
	n->state = SVC_STARTING;
	n->out_fd = r.out_fd;
	n->ev_out = event_new(base, n->out_fd, EV_READ | EV_PERSIST, worker_output_cb, n);
	if (n->ev_out == NULL || event_add(n->ev_out, NULL) == -1)
		fatalx("%s: cannot watch output", n->name);
	if (r.exec_errno != 0) {
		/* The child exits 127; its exit is the failure, and this is why. */
		if (r.ready_fd != -1)
			close(r.ready_fd);
		n->fault = restart_start_fault(r.exec_stage, r.exec_errno);
		worker_set_reason(n, n->fault, r.exec_stage, r.exec_errno);
		if (n->fault == FAULT_EXEC)
			log_warnx("%s: %s %s: %s", n->name, r.exec_stage,
			    n->conf->argv[0], strerror(r.exec_errno));
		else if (n->fault_tries == 0)
			log_warnx("%s: cannot start: %s %s: %s; retrying with "
			    "backoff", n->name, r.exec_stage, n->conf->argv[0],
			    strerror(r.exec_errno));
		return;
	}
	n->fault = FAULT_NONE;
	n->fault_tries = 0;
	free(n->reason);
	n->reason = NULL;
	f = ev_fields(n);
	json_object_set_new(f, "pid", json_integer(n->pid));
	json_object_set_new(f, "restarts", json_integer(n->starts - 1));
	events_emit("service.started", f);
	switch (n->conf->ready) {
	case READY_NONE:
		worker_ready(n);
		return;
	case READY_FD:
		n->ready_fd = r.ready_fd;
		n->ev_ready = event_new(base, n->ready_fd, EV_READ | EV_PERSIST,
		    worker_ready_fd_cb, n);
		if (n->ev_ready == NULL || event_add(n->ev_ready, NULL) == -1)
			fatalx("%s: cannot watch readiness", n->name);
		break;
	case READY_NOTIFY:
		break;
	}
	timer_arm(n, (uint64_t)n->conf->ready_timeout_ms);
}

static void
worker_signal(struct node *n, int sig)
{
	if (n->pid <= 0)
		return;
	/* The group first, so nothing the worker forked is left behind. */
	if (kill(-n->pid, sig) == -1 && kill(n->pid, sig) == -1 && errno != ESRCH)
		log_warn("%s: kill %s", n->name, util_signal_name(sig));
}

static void
worker_stop(struct node *n, enum stop_reason why)
{
	if (n->state == SVC_STOPPING) {
		/*
		 * Already on its way down. A reload outranks the rest (the node
		 * is retired), then a shutdown (nothing comes back).
		 */
		if (n->stop_reason != STOP_RELOAD && (why == STOP_SHUTDOWN ||
		    why == STOP_RELOAD || n->stop_reason == STOP_NONE))
			n->stop_reason = why;
		return;
	}
	if (n->pid <= 0) {
		timer_clear(n);
		if (n->state != SVC_FAILED)
			n->state = SVC_STOPPED;
		n->stop_reason = why;
		node_down(n);
		return;
	}
	n->state = SVC_STOPPING;
	n->stop_reason = why;
	timer_clear(n);
	if (why == STOP_READY_TIMEOUT || n->shutdown_ms == SHUTDOWN_BRUTAL_KILL) {
		worker_signal(n, SIGKILL);
		strays_stop(n->name, n->pid, SIGKILL, -1);
		return;
	}
	worker_signal(n, n->stop_signal);
	if (n->stop_signal != SIGCONT && n->stop_signal != SIGKILL)
		worker_signal(n, SIGCONT);
	if (n->shutdown_ms != SHUTDOWN_INFINITY)
		timer_arm(n, (uint64_t)n->shutdown_ms);
	/* What left the group goes too: same signal, same grace. */
	strays_stop(n->name, n->pid, n->stop_signal,
	    n->shutdown_ms == SHUTDOWN_INFINITY ? -1 : n->shutdown_ms);
}

/* The instance of n has ended: what it left outside its group goes now. */
static void
worker_strays_ended(struct node *n, pid_t pgid)
{
	if (n->shutdown_ms == SHUTDOWN_BRUTAL_KILL)
		strays_ended(n->name, pgid, SIGKILL, -1);
	else
		strays_ended(n->name, pgid, n->stop_signal,
		    n->shutdown_ms == SHUTDOWN_INFINITY ? -1 : n->shutdown_ms);
}

static void
worker_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node	*n = arg;

	(void)fd;
	(void)what;
	switch (n->state) {
	case SVC_BACKOFF:
		node_start(n);
		break;
	case SVC_FAILED:
		if (n->fault == FAULT_EXEC)
			worker_fault_retry(n);
		break;
	case SVC_STARTING:
		log_warnx("%s: not ready in time", n->name);
		worker_stop(n, STOP_READY_TIMEOUT);
		break;
	case SVC_STOPPING:
		log_warnx("%s: still running %d ms after SIG%s, killing it",
		    n->name, n->shutdown_ms, util_signal_name(n->stop_signal));
		worker_signal(n, SIGKILL);
		break;
	default:
		break;
	}
}

static void
worker_exited(struct node *n, int code, int sig)
{
	enum stop_reason	why = n->stop_reason;
	json_t			*f;
	pid_t			 pid = n->pid;
	bool			 was_ready = n->ready;

	timer_clear(n);
	worker_close_ready(n);
	worker_read_output(n, true);
	pidmap_del(&live_pids, n->pid);
	n->pid = -1;
	n->ready = false;
	n->has_exit = true;
	n->exit_code = code;
	n->exit_signal = sig;
	n->stop_reason = STOP_NONE;
	f = ev_fields(n);
	json_object_set_new(f, "pid", pid > 0 ? json_integer(pid) : json_null());
	json_object_set_new(f, "code", sig == 0 ? json_integer(code) : json_null());
	json_object_set_new(f, "signal", sig != 0 ? json_string(util_signal_name(sig)) : json_null());
	json_object_set_new(f, "expected", json_boolean(why != STOP_NONE &&
	    why != STOP_READY_TIMEOUT));
	if (n->fault != FAULT_NONE && n->reason != NULL)
		json_object_set_new(f, "reason", json_string(n->reason));
	events_emit("service.exited", f);
	if (sig != 0)
		log_info("%s: pid %ld killed by SIG%s", n->name, (long)pid, util_signal_name(sig));
	else
		log_info("%s: pid %ld exited %d", n->name, (long)pid, code);

	if (why == STOP_NONE && n->fault != FAULT_NONE) {
		/* It never ran: why is the spawn's, not the worker's exit's. */
		n->state = SVC_STOPPED;
		worker_fault(n, n->fault, "", 0);
		return;
	}

	if (why == STOP_NONE || why == STOP_READY_TIMEOUT) {
		n->state = SVC_STOPPED;
		n->streak = backoff_next_streak(&n->conf->backoff, n->streak,
		    was_ready ? util_now_ms() - n->ready_at : 0);
		child_failed(n, why == STOP_READY_TIMEOUT ||
		    restart_exit_abnormal(code, sig, n->conf->stop_signal));
		return;
	}
	n->state = SVC_STOPPED;
	n->stop_reason = why;
	node_down(n);
}

/* --- nodes of either kind ------------------------------------------------- */

static void
node_reset_streaks(struct node *n)
{
	size_t	i;

	n->streak = 0;
	for (i = 0; i < n->nkids; i++)
		node_reset_streaks(n->kids[i]);
}

static void
node_start(struct node *n)
{
	timer_clear(n);
	n->pending_start = false;
	if (!n->is_sup) {
		if (spawn_now(n))
			worker_spawn(n);
		return;
	}
	n->starts++;
	n->state = SVC_STARTING;
	n->ready = false;
	n->stop_reason = STOP_NONE;
	/* A supervisor starts afresh: its budget whole, its children's backoff reset. */
	intensity_reset(&n->intensity);
	node_reset_streaks(n);
	n->op_active = true;
	n->op_gen++;
	n->op_initial = true;
	n->op_lo = 0;
	n->op_phase = OP_START;
	n->op_delay = 0;
	tree_kick(n);
}

static void
node_stop(struct node *n, enum stop_reason why)
{
	if (!n->is_sup) {
		worker_stop(n, why);
		return;
	}
	if (n->state == SVC_STOPPING) {
		if (n->stop_reason != STOP_RELOAD &&
		    (why == STOP_SHUTDOWN || why == STOP_RELOAD))
			n->stop_reason = why;
		return;
	}
	timer_clear(n);
	if (node_is_down(n)) {
		if (n->state == SVC_BACKOFF)
			n->state = SVC_STOPPED;
		n->stop_reason = why;
		node_down(n);
		return;
	}
	n->state = SVC_STOPPING;
	n->stop_reason = why;
	n->op_active = false;
	tree_kick(n);
}

/*
 * A node has come down because someone asked (its stop_reason says who).
 * Unasked exits go through child_failed instead.
 */
static void
node_down(struct node *n)
{
	enum stop_reason	why = n->stop_reason;

	n->stop_reason = STOP_NONE;
	n->ready = false;
	switch (why) {
	case STOP_OPERATOR:
		/* Down as asked: not recovering, whatever killed it on the way. */
		n->recovering = false;
		n->down_since = 0;
		break;
	case STOP_RESTART:
		if (n->parent == NULL || !node_is_down(n->parent)) {
			node_start(n);
			return;
		}
		break;
	case STOP_FAILING:
		n->state = SVC_FAILED;
		log_warnx("%s: supervisor gave up: more than %d restarts in %d s",
		    n->name, n->conf->max_restarts, n->conf->max_seconds);
		events_emit("supervisor.failed", json_pack("{s:s,s:i,s:i}",
		    "service", n->name, "max_restarts", n->conf->max_restarts,
		    "max_seconds", n->conf->max_seconds));
		if (n == root) {
			log_warnx("the root supervisor failed: warden exits 3");
			exit_status = 3;
			shutting_down = true;
			strays_shutdown();
			tree_maybe_exit();
			return;
		}
		child_failed(n, true);
		return;
	case STOP_RELOAD:
		retire_done(n);
		return;
	default:
		break;
	}
	if (n == root && shutting_down) {
		tree_maybe_exit();
		return;
	}
	tree_kick(n->parent);
}

/* Put a supervisor on the path to giving up. */
static void
sup_fail(struct node *s)
{
	node_stop(s, STOP_FAILING);
}

/*
 * A child went down without being asked (or a supervisor gave up): apply
 * the restart type, the parent's intensity and the parent's strategy.
 */
static void
child_failed(struct node *n, bool abnormal)
{
	struct node		*p = n->parent;
	struct restart_decision	 d;
	uint64_t		 now = util_now_ms();
	size_t			 lo, i;

	if (p == NULL)
		return;
	if (p->state == SVC_STOPPING || shutting_down) {
		tree_kick(p);
		return;
	}
	d = restart_decide(p->conf, n->conf, n->index, abnormal, &p->intensity,
	    n->streak, now, (double)random() / ((double)RAND_MAX + 1.0));
	switch (d.action) {
	case RESTART_STAY_DOWN:
		n->state = d.failed ? SVC_FAILED : SVC_STOPPED;
		n->recovering = false;
		n->down_since = 0;
		if (d.failed) {
			log_warnx("%s: failed; %s, so not restarted", n->name,
			    config_restart_name(n->conf->restart));
			events_emit("service.failed", json_pack("{s:s,s:s}",
			    "service", n->name, "reason", "exited abnormally"));
		}
		tree_kick(p);
		return;
	case RESTART_ESCALATE:
		n->state = n->is_sup ? SVC_FAILED : SVC_STOPPED;
		n->recovering = true;
		if (n->down_since == 0)
			n->down_since = now;
		sup_fail(p);
		return;
	case RESTART_SCOPE:
		flagsvc_note_restart();
		break;
	}
	if (!n->recovering) {
		n->recovering = true;
		n->down_since = now;
	}
	if (d.delay_ms > 0)
		events_emit("service.backoff", json_pack("{s:s,s:i,s:i}",
		    "service", n->name, "delay_ms", (int)d.delay_ms, "attempt", (int)n->streak));
	if (d.lo == d.hi && p->conf->strategy == STRATEGY_ONE_FOR_ONE) {
		/* one_for_one: this child alone, after its backoff. */
		if (d.delay_ms == 0) {
			node_start(n);
			return;
		}
		n->state = SVC_BACKOFF;
		timer_arm(n, d.delay_ms);
		return;
	}
	/* The scope goes down in reverse order, then up again in order. */
	if (d.delay_ms > 0)
		n->state = SVC_BACKOFF;
	lo = d.lo;
	if (p->op_active && p->op_lo < lo)
		lo = p->op_lo;
	for (i = lo; i <= d.hi && i < p->nkids; i++) {
		if (!node_is_down(p->kids[i]) && !p->kids[i]->recovering) {
			p->kids[i]->recovering = true;
			p->kids[i]->down_since = now;
		}
	}
	if (!p->op_active || p->op_delay < d.delay_ms)
		p->op_delay = d.delay_ms;
	p->op_active = true;
	p->op_gen++;
	p->op_initial = false;
	p->op_lo = lo;
	p->op_phase = OP_STOP;
	timer_clear(p);
	tree_kick(p);
}

/* --- supervisors ------------------------------------------------------------ */

static void
sup_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node	*s = arg;

	(void)fd;
	(void)what;
	if (s->op_active && s->op_phase == OP_WAIT) {
		s->op_phase = OP_START;
		sup_step(s);
	}
}

/* Stop children from the last down to lo, one at a time. true: all down. */
static bool
sup_stop_from(struct node *s, size_t lo, enum stop_reason why)
{
	struct node	*c;
	size_t		 i;

	for (i = s->nkids; i-- > lo;) {
		c = s->kids[i];
		if (c->state == SVC_BACKOFF) {
			timer_clear(c);
			c->state = SVC_STOPPED;
		}
		if (node_is_down(c))
			continue;
		if (c->state != SVC_STOPPING)
			node_stop(c, why);
		if (!node_is_down(c))
			return false;
	}
	return true;
}

static bool
sup_child_startable(const struct node *s, const struct node *c)
{
	if (!c->want)
		return false;
	if (c->pred != NULL)
		return false;
	/* Once per operation: a child that came down again by itself since is
	 * the restart decision's, not the operation's (a transient child that
	 * exited 0 must stay down). */
	if (c->op_started == s->op_gen)
		return false;
	/* A temporary child comes back only with its supervisor. */
	if (c->conf->restart == RESTART_TEMPORARY && c->starts > 0 && !s->op_initial)
		return false;
	return c->state == SVC_STOPPED || (c->state == SVC_FAILED && s->op_initial);
}

/* Start children from lo in order, each after the previous is ready. true: done. */
static bool
sup_start_from(struct node *s, size_t lo)
{
	struct node	*c;
	size_t		 i;

	for (i = lo; i < s->nkids; i++) {
		c = s->kids[i];
		/*
		 * Once this operation has seen a child up, in its order, it
		 * does not wait for it again: a restart of its own since (its
		 * fork deferred in a storm, say) is the restart decision's.
		 */
		if (c->op_passed == s->op_gen)
			continue;
		if (c->pred != NULL && c->want)
			return false;	/* the instance it replaces is still stopping */
		if (sup_child_startable(s, c)) {
			c->op_started = s->op_gen;
			node_start(c);
		}
		if (c->state == SVC_STARTING || c->state == SVC_STOPPING ||
		    c->state == SVC_BACKOFF)
			return false;
		c->op_passed = s->op_gen;
	}
	return true;
}

static void
sup_became_ready(struct node *s)
{
	uint64_t	now = util_now_ms();

	s->state = SVC_RUNNING;
	s->ready = true;
	s->ready_at = now;
	if (s->recovering) {
		s->recovering = false;
		s->last_recovery_ms = (int64_t)(now - s->down_since);
		s->down_since = 0;
	}
	if (s->parent == NULL && !started) {
		started = true;
		log_info("all services started");
		if (started_cb != NULL)
			started_cb();
	}
	if (s->parent != NULL)
		tree_kick(s->parent);
}

static void
sup_start_pending(struct node *s)
{
	struct node	*c;
	size_t		 i;

	for (i = 0; i < s->nkids; i++) {
		c = s->kids[i];
		if (!c->pending_start)
			continue;
		if (c->pred != NULL)
			return;
		if (!c->want || !node_is_down(c)) {
			c->pending_start = false;
			continue;
		}
		node_start(c);
		if (c->state == SVC_STARTING)
			return;
	}
}

static void
sup_step(struct node *s)
{
	if (s->state == SVC_STOPPING) {
		if (sup_stop_from(s, 0, s->stop_reason == STOP_SHUTDOWN ?
		    STOP_SHUTDOWN : STOP_SUPERVISOR)) {
			s->state = SVC_STOPPED;
			s->op_active = false;
			node_down(s);
		}
		return;
	}
	if (node_is_down(s))
		return;
	if (s->op_active) {
		switch (s->op_phase) {
		case OP_STOP:
			if (!sup_stop_from(s, s->op_lo, STOP_SUPERVISOR))
				return;
			s->op_phase = OP_WAIT;
			if (s->op_delay > 0) {
				timer_arm(s, s->op_delay);
				return;
			}
			s->op_phase = OP_START;
			/* FALLTHROUGH */
		case OP_START:
			if (!sup_start_from(s, s->op_lo))
				return;
			s->op_active = false;
			s->op_delay = 0;
			break;
		case OP_WAIT:
			return;
		}
	}
	if (s->state == SVC_STARTING)
		sup_became_ready(s);
	else if (s->state == SVC_RUNNING && s->recovering)
		sup_became_ready(s);
	sup_start_pending(s);
}

/* --- reaping ----------------------------------------------------------------- */

static void	kill_mark_clear(struct node *);

void
tree_reap(void)
{
	spawn_batch();
	tree_reap_batch();
}

/*
 * Reap what has exited, TREE_REAP_BATCH at most: a pass beyond that goes on
 * in the next turn (no new SIGCHLD comes for children already dead).
 */
static void
tree_reap_batch(void)
{
	siginfo_t	 si;
	struct node	*n;
	struct owned	*o, done;
	int		 status, reaped = 0;
	pid_t		 pid;

	reap_more = false;
	for (;;) {
		if (reaped == TREE_REAP_BATCH) {
			reap_more = true;
			tree_defer();
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
		n = worker_by_pid(pid);
		if (n != NULL) {
			(void)kill(-pid, SIGKILL);	/* what it forked goes with it */
			worker_strays_ended(n, pid);
			ledger_ended(pid);
		}
		while (waitpid(pid, &status, 0) == -1) {
			if (errno != EINTR) {
				log_warn("waitpid %ld", (long)pid);
				return;
			}
		}
		reaped++;
		if (n == NULL && (o = owned_find(pid)) != NULL) {
			done = *o;
			o->pid = 0;
			done.done(pid, status, done.arg);
			continue;
		}
		if (n == NULL) {
			/* An orphan handed to us as subreaper (strays.c). */
			strays_reaped(pid);
			continue;
		}
		kill_mark_clear(n);
		if (WIFSIGNALED(status))
			worker_exited(n, 0, WTERMSIG(status));
		else
			worker_exited(n, WEXITSTATUS(status), 0);
	}
}

/* --- lifecycle of the whole tree --------------------------------------------- */

void
tree_start(void)
{
	node_start(root);
}

/* Leave once the root and every node a reload retired are down. */
static void
tree_maybe_exit(void)
{
	if (!shutting_down || exited || !node_is_down(root) || nretired > 0 ||
	    strays_pending() > 0)
		return;
	exited = true;
	if (exit_cb != NULL)
		exit_cb(exit_status);
}

void
tree_shutdown(void)
{
	if (shutting_down)
		return;
	shutting_down = true;
	log_info("stopping all services");
	strays_shutdown();
	/* Retired nodes are already on their way down; the root goes now. */
	if (node_is_down(root)) {
		tree_maybe_exit();
		return;
	}
	node_stop(root, STOP_SHUTDOWN);
}

/* --- operator actions -------------------------------------------------------- */

static bool
parent_is_up(const struct node *n)
{
	return n->parent == NULL || (!node_is_down(n->parent) &&
	    n->parent->state != SVC_STOPPING);
}

int
tree_op_start(struct node *n, const char **why)
{
	if (shutting_down) {
		*why = "warden is shutting down";
		return -1;
	}
	if (!parent_is_up(n)) {
		*why = "its supervisor is not running; start the supervisor";
		return -1;
	}
	n->want = true;
	/* The operator says try now: a failed start's delays begin afresh. */
	n->fault_tries = 0;
	if (n->state == SVC_STOPPING) {
		n->stop_reason = STOP_RESTART;
		return 0;
	}
	if (node_is_down(n)) {
		n->recovering = false;
		n->down_since = 0;
		node_start(n);
	}
	return 0;
}

int
tree_op_stop(struct node *n, const char **why)
{
	if (shutting_down) {
		*why = "warden is shutting down";
		return -1;
	}
	n->want = false;
	n->recovering = false;
	n->down_since = 0;
	if (n->is_sup && n->parent == NULL) {
		*why = "the root supervisor cannot be stopped; use shutdown";
		n->want = true;
		return -1;
	}
	node_stop(n, STOP_OPERATOR);
	return 0;
}

int
tree_op_restart(struct node *n, const char **why)
{
	if (shutting_down) {
		*why = "warden is shutting down";
		return -1;
	}
	if (!parent_is_up(n)) {
		*why = "its supervisor is not running; start the supervisor";
		return -1;
	}
	n->want = true;
	n->fault_tries = 0;
	if (node_is_down(n)) {
		node_start(n);
		return 0;
	}
	node_stop(n, STOP_RESTART);
	return 0;
}

int
tree_each_worker(struct node *n, int (*fn)(struct node *, void *), void *arg)
{
	size_t	i;
	int	r;

	if (!n->is_sup)
		return fn(n, arg);
	for (i = 0; i < n->nkids; i++)
		if ((r = tree_each_worker(n->kids[i], fn, arg)) != 0)
			return r;
	return 0;
}

/* Signals whose default action leaves the process alive. */
static bool
sig_spares(int sig)
{
	switch (sig) {
	case SIGCHLD:
	case SIGCONT:
	case SIGURG:
	case SIGWINCH:
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		return true;
	}
	return false;
}

static void
kill_mark_clear(struct node *n)
{
	n->killed_pid = 0;
	n->kill_recovering = false;
	if (n->kill_timer != NULL)
		evtimer_del(n->kill_timer);
}

/* The killed instance outlived its grace: it caught the signal and lives on. */
static void
kill_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node	*n = arg;

	(void)fd;
	(void)what;
	if (n->killed_pid <= 0 || n->killed_pid != n->pid)
		return;
	log_info("%s: pid %ld is still running after service.kill",
	    n->name, (long)n->pid);
	if (n->kill_recovering) {
		n->recovering = false;
		n->down_since = 0;
	}
	kill_mark_clear(n);
	if (change_cb != NULL)
		change_cb();
}

/*
 * From the moment the signal is sent, the instance is on its way down: it
 * shows as stopping and its service as recovering, so that no answer or
 * wait evaluated after service.kill's own sees it running. SIGKILL cannot
 * be caught; an instance that catches another signal and is still there
 * after its shutdown_ms (TREE_KILL_GRACE_MS without one) shows its own
 * state again.
 */
static void
kill_mark(struct node *n, int sig)
{
	struct timeval	tv;
	int		ms;

	n->killed_pid = n->pid;
	if (!n->recovering) {
		n->recovering = true;
		n->down_since = util_now_ms();
		n->kill_recovering = true;
	}
	if (sig == SIGKILL) {
		n->kill_recovering = false;	/* for good: it cannot survive */
		if (n->kill_timer != NULL)
			evtimer_del(n->kill_timer);
		return;
	}
	if (n->kill_timer == NULL &&
	    (n->kill_timer = evtimer_new(base, kill_timer_cb, n)) == NULL)
		fatalx("%s: cannot create the kill timer", n->name);
	if (evtimer_pending(n->kill_timer, NULL))
		return;		/* the first signal's grace runs on */
	ms = n->shutdown_ms > 0 ? n->shutdown_ms : TREE_KILL_GRACE_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (event_base_update_cache_time(base) == -1)
		log_warnx("%s: cannot read the clock for a timer", n->name);
	if (evtimer_add(n->kill_timer, &tv) == -1)
		fatalx("%s: cannot arm the kill timer", n->name);
	n->kill_at = util_now_ms() + (uint64_t)ms;
}

int
tree_kill(struct node *n, int sig, json_t *killed)
{
	if (n->is_sup || n->pid <= 0)
		return 0;
	if (kill(n->pid, sig) == -1) {
		if (errno == ESRCH)
			return 0;
		return -1;
	}
	if (!sig_spares(sig))
		kill_mark(n, sig);
	json_array_append_new(killed, json_pack("{s:s,s:i}", "service", n->name,
	    "pid", (int)n->pid));
	return 0;
}

/* --- state for clients ------------------------------------------------------- */

enum svc_state
tree_service_state(const struct node *n)
{
	if (n->killed_pid > 0 && n->killed_pid == n->pid &&
	    (n->state == SVC_STARTING || n->state == SVC_RUNNING))
		return SVC_STOPPING;
	return n->state;
}

uint64_t
tree_generation(void)
{
	return generation;
}

bool
tree_settled(const struct node *n)
{
	if (n->state == SVC_STARTING || n->state == SVC_STOPPING)
		return false;
	return !(n->is_sup && n->op_active);
}

static bool
node_recovering(const struct node *n)
{
	size_t	i;

	if (n->recovering)
		return true;
	for (i = 0; i < n->nkids; i++)
		if (node_recovering(n->kids[i]))
			return true;
	return n->is_sup && n->op_active && !n->op_initial;
}

/*
 * Failed means a supervisor gave up. A temporary worker that crashed is
 * in state failed too, but it is down by design: that is degraded.
 */
static bool
node_failed(const struct node *n)
{
	size_t	i;

	if (n->is_sup && n->state == SVC_FAILED)
		return true;
	for (i = 0; i < n->nkids; i++)
		if (node_failed(n->kids[i]))
			return true;
	return false;
}

static void
node_failed_list(const struct node *n, json_t *list)
{
	size_t	i;

	if (n->is_sup && n->state == SVC_FAILED)
		json_array_append_new(list, json_string(n->name));
	for (i = 0; i < n->nkids; i++)
		node_failed_list(n->kids[i], list);
}

bool
tree_recovered(void)
{
	return started && !node_recovering(root) && !node_failed(root) &&
	    flagsvc_table_healthy();
}

static bool
node_any_down(const struct node *n)
{
	size_t	i;

	if (!n->is_sup)
		return !node_is_up(n);
	for (i = 0; i < n->nkids; i++)
		if (node_any_down(n->kids[i]))
			return true;
	return false;
}

const char *
tree_health(void)
{
	if (node_failed(root))
		return "failed";
	if (node_recovering(root) || !started)
		return "recovering";
	if (node_any_down(root) || !flagsvc_table_available())
		return "degraded";
	return "ok";
}

/*
 * status and recovery are the most asked-for answers: their objects are
 * built member by member, without json_pack's format parsing and UTF-8
 * checks (names and paths were checked when the config was loaded).
 */
static void
json_set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new_nocheck(o, key, json_string_nocheck(v));
}

static void
json_set_int(json_t *o, const char *key, json_int_t v)
{
	json_object_set_new_nocheck(o, key, json_integer(v));
}

static json_t *
exit_json(const struct node *n)
{
	json_t	*e;

	if (!n->has_exit)
		return json_null();
	e = json_object();
	if (n->exit_signal != 0)
		json_set_str(e, "signal", util_signal_name(n->exit_signal));
	else
		json_set_int(e, "code", n->exit_code);
	return e;
}

json_t *
tree_service_json(const struct node *n)
{
	uint64_t	 now = util_now_ms();
	json_t		*o = json_object();
	enum svc_state	 state = tree_service_state(n);

	json_set_str(o, "name", n->name);
	json_set_str(o, "path", n->path);
	json_set_str(o, "state", tree_state_name(state));
	json_object_set_new_nocheck(o, "pid", n->pid > 0 ?
	    json_integer(n->pid) : json_null());
	json_object_set_new_nocheck(o, "ready", json_boolean(n->ready &&
	    state == n->state));
	json_set_int(o, "uptime_ms", (json_int_t)(n->pid > 0 ? now - n->started_at : 0));
	json_set_int(o, "restarts", n->starts > 0 ? n->starts - 1 : 0);
	json_object_set_new_nocheck(o, "last_exit", exit_json(n));
	json_object_set_new_nocheck(o, "reason", n->reason != NULL ?
	    json_string(n->reason) : json_null());
	return o;
}

json_t *
tree_supervisor_json(const struct node *n)
{
	uint64_t	 now = util_now_ms();
	json_t		*o = json_object(), *kids = json_array();
	size_t		 i;

	for (i = 0; i < n->nkids; i++)
		json_array_append_new(kids, json_string_nocheck(n->kids[i]->name));
	json_set_str(o, "name", n->name);
	json_set_str(o, "path", n->path);
	json_set_str(o, "state", tree_state_name(n->state));
	json_set_str(o, "strategy", config_strategy_name(n->conf->strategy));
	json_set_int(o, "restarts", n->starts > 0 ? n->starts - 1 : 0);
	json_set_int(o, "restarts_in_window", (json_int_t)intensity_count(&n->intensity,
	    n->conf->max_seconds, now));
	json_set_int(o, "max_restarts", n->conf->max_restarts);
	json_set_int(o, "max_seconds", n->conf->max_seconds);
	json_object_set_new_nocheck(o, "children", kids);
	return o;
}

static void
status_collect(const struct node *n, json_t *services, json_t *sups)
{
	size_t	i;

	if (!n->is_sup) {
		json_array_append_new(services, tree_service_json(n));
		return;
	}
	json_array_append_new(sups, tree_supervisor_json(n));
	for (i = 0; i < n->nkids; i++)
		status_collect(n->kids[i], services, sups);
}

json_t *
tree_status_json(const struct node *only)
{
	json_t	*services = json_array(), *sups = json_array();

	if (only == NULL)
		status_collect(root, services, sups);
	else if (only->is_sup)
		json_array_append_new(sups, tree_supervisor_json(only));
	else
		json_array_append_new(services, tree_service_json(only));
	return json_pack("{s:s,s:i,s:o,s:o,s:o}", "health", tree_health(),
	    "stage", flagsvc_stage(), "services", services, "supervisors", sups,
	    "table", flagsvc_table_health());
}

static void
recovery_collect(const struct node *n, json_t *list, uint64_t now)
{
	const struct node	*p = n->parent;
	size_t			 used, i;
	int			 budget;

	if (p != NULL) {
		used = intensity_count(&p->intensity, p->conf->max_seconds, now);
		budget = p->conf->max_restarts - (int)used;
		json_array_append_new(list, json_pack("{s:s,s:s,s:o,s:i,s:i,s:i,s:o,s:o}",
		    "name", n->name, "state", tree_state_name(tree_service_state(n)),
		    "reason", n->reason != NULL ? json_string(n->reason) :
		    json_null(),
		    "restarts", (int)(n->starts > 0 ? n->starts - 1 : 0),
		    "restarts_in_window", (int)used,
		    "budget_left", budget < 0 ? 0 : budget,
		    "down_since", n->down_since != 0 ?
		    json_integer((json_int_t)n->down_since) : json_null(),
		    "last_recovery_ms", n->last_recovery_ms >= 0 ?
		    json_integer(n->last_recovery_ms) : json_null()));
	}
	for (i = 0; i < n->nkids; i++)
		recovery_collect(n->kids[i], list, now);
}

json_t *
tree_recovery_json(void)
{
	json_t	*failed = json_array(), *list = json_array();

	node_failed_list(root, failed);
	recovery_collect(root, list, util_now_ms());
	return json_pack("{s:b,s:o,s:o,s:o}", "recovering", node_recovering(root) ||
	    !flagsvc_table_healthy(), "failed", failed, "services", list,
	    "table", flagsvc_table_health());
}

/* --- reload -------------------------------------------------------------------------- */

/*
 * The old tree by name, taken before the new one is built: the old tree
 * is taken apart while the new one is put together.
 */
static struct node	**reload_old;
static size_t		  reload_nold;

static void
reload_snapshot(struct node *n)
{
	size_t	i;

	reload_old = xreallocarray(reload_old, reload_nold + 1, sizeof(*reload_old));
	reload_old[reload_nold++] = n;
	for (i = 0; i < n->nkids; i++)
		reload_snapshot(n->kids[i]);
}

static struct node *
reload_old_find(const char *name)
{
	size_t	i;

	for (i = 0; i < reload_nold; i++)
		if (strcmp(reload_old[i]->name, name) == 0)
			return reload_old[i];
	return NULL;
}

/* The node of the old tree that a new config node continues, or NULL. */
static struct node *
reload_match(const struct child_conf *c, const struct child_conf *cparent)
{
	struct node	*old = reload_old_find(c->name);

	if (old == NULL || old->is_sup != c->is_sup)
		return NULL;
	if ((old->parent == NULL) != (cparent == NULL))
		return NULL;
	if (cparent != NULL && strcmp(old->parent->name, cparent->name) != 0)
		return NULL;
	/* A worker whose settings changed is a new instance; a supervisor takes them in place. */
	if (!c->is_sup && strcmp(old->conf->fingerprint, c->fingerprint) != 0)
		return NULL;
	return old;
}

static void
reload_diff(const struct child_conf *c, const struct child_conf *cparent, json_t *r)
{
	struct node	*old = reload_old_find(c->name);
	const char	*what;
	size_t		 i;

	if (old == NULL)
		what = "added";
	else if (reload_match(c, cparent) == NULL ||
	    strcmp(old->conf->fingerprint, c->fingerprint) != 0)
		what = "changed";
	else
		what = "unchanged";
	json_array_append_new(json_object_get(r, what), json_string(c->name));
	for (i = 0; i < c->nchildren; i++)
		reload_diff(c->children[i], c, r);
}

static bool
reload_conf_has(const struct child_conf *c, const char *name)
{
	size_t	i;

	if (strcmp(c->name, name) == 0)
		return true;
	for (i = 0; i < c->nchildren; i++)
		if (reload_conf_has(c->children[i], name))
			return true;
	return false;
}

static void
reload_removed(const struct node *n, const struct child_conf *newroot, json_t *list)
{
	size_t	i;

	if (!reload_conf_has(newroot, n->name))
		json_array_append_new(list, json_string(n->name));
	for (i = 0; i < n->nkids; i++)
		reload_removed(n->kids[i], newroot, list);
}

/* Build the new tree, reusing the nodes that continue. */
static struct node *
reload_build(struct child_conf *c, struct node *parent, struct node *oldroot)
{
	struct node	*n, *old;
	size_t		 i;

	old = parent == NULL ? oldroot : reload_match(c, parent->conf);
	if (old == NULL || old->claimed) {
		n = node_new(c, parent);
		/* node_new built the children too; mark them all new. */
		n->pending_start = true;
		return n;
	}
	n = old;
	n->claimed = true;
	if (n->is_sup && n->conf->max_restarts != c->max_restarts) {
		intensity_free(&n->intensity);
		intensity_init(&n->intensity, c->max_restarts);
	}
	n->conf = c;
	worker_env_forget(n);
	n->parent = parent;
	if (strcmp(n->name, c->name) != 0) {	/* only the root can be renamed */
		free(n->name);
		n->name = xstrdup(c->name);
	}
	free(n->path);
	if (parent == NULL)
		n->path = xstrdup("/");
	else if (parent->parent == NULL)
		xasprintf(&n->path, "/%s", c->name);
	else
		xasprintf(&n->path, "%s/%s", parent->path, c->name);
	if (n->is_sup) {
		/* The old kids list is walked for retirement afterwards. */
		struct node	**oldkids = n->kids;
		size_t		  noldkids = n->nkids;

		n->kids = xcalloc(c->nchildren, sizeof(*n->kids));
		n->nkids = c->nchildren;
		for (i = 0; i < c->nchildren; i++) {
			n->kids[i] = reload_build(c->children[i], n, oldroot);
			n->kids[i]->index = i;
		}
		/* Keep the unclaimed old kids reachable for reload_retire. */
		for (i = 0; i < noldkids; i++)
			if (!oldkids[i]->claimed) {
				retired = xreallocarray(retired, nretired + 1, sizeof(*retired));
				retired[nretired++] = oldkids[i];
				oldkids[i]->parent = NULL;
			}
		free(oldkids);
	}
	return n;
}

/* Mark the new nodes whose old instance must be down before they start. */
static void
reload_link(struct node *n, struct node *old_instance_root)
{
	struct node	*old;
	size_t		 i;

	(void)old_instance_root;
	if (!n->claimed) {
		for (i = 0; i < nretired; i++) {
			old = nretired > 0 ? node_find(retired[i], n->name) : NULL;
			if (old != NULL && old->succ == NULL) {
				old->succ = n;
				n->pred = old;
				break;
			}
		}
	}
	for (i = 0; i < n->nkids; i++)
		reload_link(n->kids[i], old_instance_root);
}

static void
reload_unclaim(struct node *n)
{
	size_t	i;

	n->claimed = false;
	for (i = 0; i < n->nkids; i++)
		reload_unclaim(n->kids[i]);
}

static void
retire_forget_conf(struct node *n)
{
	size_t	i;

	n->conf = NULL;
	worker_env_forget(n);
	for (i = 0; i < n->nkids; i++)
		retire_forget_conf(n->kids[i]);
}

static void
retire_done(struct node *n)
{
	size_t	i;

	if (n->succ != NULL) {
		n->succ->pred = NULL;
		tree_kick(n->succ->parent != NULL ? n->succ->parent : root);
	}
	for (i = 0; i < nretired; i++) {
		if (retired[i] == n) {
			retired[i] = retired[--nretired];
			break;
		}
	}
	/* Descendants with successors: those may start too. */
	for (i = 0; i < n->nkids; i++)
		if (n->kids[i]->succ != NULL) {
			n->kids[i]->succ->pred = NULL;
			tree_kick(n->kids[i]->succ->parent);
		}
	node_free(n);
	tree_maybe_exit();
}

static void
reload_kick_all(struct node *n)
{
	size_t	i;

	if (!n->is_sup)
		return;
	tree_kick(n);
	for (i = 0; i < n->nkids; i++)
		reload_kick_all(n->kids[i]);
}

int
tree_reload(struct config *nc, bool dry_run, json_t **result)
{
	struct config	*old = config;
	struct node	**stopping;
	size_t		 first_retired, nstopping, i;
	json_t		*r;

	if (shutting_down)
		return -1;
	r = json_pack("{s:[],s:[],s:[],s:[]}", "added", "removed", "changed", "unchanged");
	reload_nold = 0;
	reload_snapshot(root);
	reload_diff(nc->root, NULL, r);
	reload_removed(root, nc->root, json_object_get(r, "removed"));
	*result = r;
	if (dry_run) {
		free(reload_old);
		reload_old = NULL;
		return 0;
	}

	if (strcmp(old->socket, nc->socket) != 0 || strcmp(old->table, nc->table) != 0 ||
	    strcmp(old->state_dir, nc->state_dir) != 0 || old->socket_mode != nc->socket_mode)
		log_warnx("reload: socket, socket_mode, table and state_dir "
		    "take effect at the next start of warden");
	first_retired = nretired;
	generation++;
	root = reload_build(nc->root, NULL, root);
	root->pending_start = false;
	reload_link(root, NULL);
	reload_unclaim(root);
	free(reload_old);
	reload_old = NULL;
	reload_nold = 0;
	config = nc;
	/* Retired subtrees stop now; each successor starts once its predecessor is down. */
	for (i = first_retired; i < nretired; i++)
		retire_forget_conf(retired[i]);
	/* Stopping may free a node at once and reorder the list: walk a copy. */
	stopping = xcalloc(nretired - first_retired, sizeof(*stopping));
	nstopping = nretired - first_retired;
	if (nstopping > 0)
		memcpy(stopping, retired + first_retired, nstopping * sizeof(*stopping));
	for (i = 0; i < nstopping; i++)
		node_stop(stopping[i], STOP_RELOAD);
	free(stopping);
	config_free(old);
	reload_kick_all(root);
	return 0;
}

/* --- reexec: the tree handed over ------------------------------------------------ */

static int
count_worker(struct node *n, void *arg)
{
	if (n->pid > 0)
		(*(size_t *)arg)++;
	return 0;
}

size_t
tree_worker_count(void)
{
	size_t	n = 0;

	if (root != NULL)
		(void)tree_each_worker(root, count_worker, &n);
	return n;
}

const char *
tree_handover_blocked(void)
{
	if (root == NULL || shutting_down)
		return "warden is stopping";
	if (!started)
		return "the initial start is not complete";
	if (nretired > 0)
		return "a reload's old instances are still stopping";
	return NULL;
}

/* A timer's deadline (ms, monotonic), or 0 when it is not armed. */
static json_int_t
deadline(struct event *ev, uint64_t at)
{
	return ev != NULL && evtimer_pending(ev, NULL) ? (json_int_t)at : 0;
}

static json_t *
handover_intensity(const struct intensity *in)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < in->len; i++)
		json_array_append_new(a, json_integer((json_int_t)
		    in->stamps[(in->head + i) % in->cap]));
	return a;
}

/*
 * A node in a handover: [name, "fields", partial output line (hex), reason
 * or null, [intensity stamps]], the fields integers separated by spaces in
 * the order of this table, which also bounds each: a compact form, as a
 * thousand workers are written and read while nothing else runs.
 */
enum hf {
	HF_SUP, HF_STATE, HF_STOP_REASON, HF_WANT, HF_READY, HF_RECOVERING,
	HF_PENDING_START, HF_STARTS, HF_STARTED_AT, HF_READY_AT, HF_DOWN_SINCE,
	HF_LAST_RECOVERY, HF_HAS_EXIT, HF_EXIT_CODE, HF_EXIT_SIGNAL, HF_STREAK,
	HF_TIMER_AT, HF_OP_STARTED, HF_OP_PASSED,
	HF_PID, HF_OUT_FD, HF_READY_FD, HF_FAULT, HF_FAULT_TRIES, HF_KILLED_PID,
	HF_KILL_RECOVERING, HF_KILL_AT, HF_STOP_SIGNAL, HF_SHUTDOWN_MS,
	HF_OP_ACTIVE, HF_OP_INITIAL, HF_OP_GEN, HF_OP_LO, HF_OP_PHASE,
	HF_OP_DELAY,
	HF_N
};

#define HF_U32	((json_int_t)UINT32_MAX)
#define HF_I64	((json_int_t)INT64_MAX)

static const struct {
	const char	*name;
	json_int_t	 lo, hi;
} hf_fields[HF_N] = {
	[HF_SUP] =		{ "sup", 0, 1 },
	[HF_STATE] =		{ "state", SVC_STOPPED, SVC_FAILED },
	[HF_STOP_REASON] =	{ "stop_reason", STOP_NONE, STOP_SHUTDOWN },
	[HF_WANT] =		{ "want", 0, 1 },
	[HF_READY] =		{ "ready", 0, 1 },
	[HF_RECOVERING] =	{ "recovering", 0, 1 },
	[HF_PENDING_START] =	{ "pending_start", 0, 1 },
	[HF_STARTS] =		{ "starts", 0, HF_U32 },
	[HF_STARTED_AT] =	{ "started_at", 0, HF_I64 },
	[HF_READY_AT] =		{ "ready_at", 0, HF_I64 },
	[HF_DOWN_SINCE] =	{ "down_since", 0, HF_I64 },
	[HF_LAST_RECOVERY] =	{ "last_recovery_ms", -1, HF_I64 },
	[HF_HAS_EXIT] =		{ "has_exit", 0, 1 },
	[HF_EXIT_CODE] =	{ "exit_code", INT32_MIN, INT32_MAX },
	[HF_EXIT_SIGNAL] =	{ "exit_signal", 0, NSIG - 1 },
	[HF_STREAK] =		{ "streak", 0, HF_U32 },
	[HF_TIMER_AT] =		{ "timer_at", 0, HF_I64 },
	[HF_OP_STARTED] =	{ "op_started", 0, HF_U32 },
	[HF_OP_PASSED] =	{ "op_passed", 0, HF_U32 },
	[HF_PID] =		{ "pid", -1, INT32_MAX },
	[HF_OUT_FD] =		{ "out_fd", -1, INT32_MAX },
	[HF_READY_FD] =		{ "ready_fd", -1, INT32_MAX },
	[HF_FAULT] =		{ "fault", FAULT_NONE, FAULT_RESOURCE },
	[HF_FAULT_TRIES] =	{ "fault_tries", 0, HF_U32 },
	[HF_KILLED_PID] =	{ "killed_pid", -1, INT32_MAX },
	[HF_KILL_RECOVERING] =	{ "kill_recovering", 0, 1 },
	[HF_KILL_AT] =		{ "kill_at", 0, HF_I64 },
	[HF_STOP_SIGNAL] =	{ "stop_signal", 0, NSIG - 1 },
	[HF_SHUTDOWN_MS] =	{ "shutdown_ms", INT32_MIN, INT32_MAX },
	[HF_OP_ACTIVE] =	{ "op_active", 0, 1 },
	[HF_OP_INITIAL] =	{ "op_initial", 0, 1 },
	[HF_OP_GEN] =		{ "op_gen", 0, HF_U32 },
	[HF_OP_LO] =		{ "op_lo", 0, HF_U32 },
	[HF_OP_PHASE] =		{ "op_phase", OP_STOP, OP_START },
	[HF_OP_DELAY] =		{ "op_delay", 0, HF_U32 },
};

static json_t *
handover_fields(void)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < HF_N; i++)
		json_array_append_new(a, json_string(hf_fields[i].name));
	return a;
}

static json_t *
handover_node(const struct node *n, json_t *fds)
{
	json_int_t	 f[HF_N];
	json_t		*d;
	char		*line, ints[HF_N * 21];
	size_t		 i, len;

	memset(f, 0, sizeof(f));
	f[HF_SUP] = n->is_sup;
	f[HF_STATE] = n->state;
	f[HF_STOP_REASON] = n->stop_reason;
	f[HF_WANT] = n->want;
	f[HF_READY] = n->ready;
	f[HF_RECOVERING] = n->recovering;
	f[HF_PENDING_START] = n->pending_start;
	f[HF_STARTS] = n->starts;
	f[HF_STARTED_AT] = (json_int_t)n->started_at;
	f[HF_READY_AT] = (json_int_t)n->ready_at;
	f[HF_DOWN_SINCE] = (json_int_t)n->down_since;
	f[HF_LAST_RECOVERY] = n->last_recovery_ms;
	f[HF_HAS_EXIT] = n->has_exit;
	f[HF_EXIT_CODE] = n->exit_code;
	f[HF_EXIT_SIGNAL] = n->exit_signal;
	f[HF_STREAK] = n->streak;
	f[HF_TIMER_AT] = deadline(n->timer, n->timer_at);
	f[HF_OP_STARTED] = n->op_started;
	f[HF_OP_PASSED] = n->op_passed;
	if (n->is_sup) {
		f[HF_OP_ACTIVE] = n->op_active;
		f[HF_OP_INITIAL] = n->op_initial;
		f[HF_OP_GEN] = n->op_gen;
		f[HF_OP_LO] = (json_int_t)n->op_lo;
		f[HF_OP_PHASE] = n->op_phase;
		f[HF_OP_DELAY] = n->op_delay;
	} else {
		f[HF_PID] = n->pid;
		f[HF_OUT_FD] = n->out_fd;
		f[HF_READY_FD] = n->ev_ready != NULL ? n->ready_fd : -1;
		f[HF_FAULT] = n->fault;
		f[HF_FAULT_TRIES] = n->fault_tries;
		f[HF_KILLED_PID] = n->killed_pid;
		f[HF_KILL_RECOVERING] = n->kill_recovering;
		f[HF_KILL_AT] = deadline(n->kill_timer, n->kill_at);
		f[HF_STOP_SIGNAL] = n->stop_signal;
		f[HF_SHUTDOWN_MS] = n->shutdown_ms;
		if (f[HF_OUT_FD] >= 0)
			json_array_append_new(fds, json_integer(f[HF_OUT_FD]));
		if (f[HF_READY_FD] >= 0)
			json_array_append_new(fds, json_integer(f[HF_READY_FD]));
	}
	for (i = 0, len = 0; i < HF_N && len < sizeof(ints); i++)
		len += (size_t)snprintf(ints + len, sizeof(ints) - len, "%s%lld",
		    i > 0 ? " " : "", (long long)f[i]);
	line = util_hex_encode(n->line != NULL ? n->line : "", n->linelen);
	d = json_pack("[s,s,s,o,o]", n->name, ints, line,
	    n->reason != NULL ? json_string(n->reason) : json_null(),
	    n->is_sup ? handover_intensity(&n->intensity) : json_array());
	free(line);
	return d;
}

static void
handover_nodes(const struct node *n, json_t *all, json_t *fds)
{
	size_t	i;

	json_array_append_new(all, handover_node(n, fds));
	for (i = 0; i < n->nkids; i++)
		handover_nodes(n->kids[i], all, fds);
}

static json_t *
handover_spawnq(const struct spawnq *q)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = q->head; i < q->n; i++)
		if (q->v[i] != NULL && q->v[i]->spawn_queued)
			json_array_append_new(a, json_string(q->v[i]->name));
	return a;
}

json_t *
tree_handover(void)
{
	json_t	*nodes = json_array(), *kicks = json_array(), *fds = json_array();
	size_t	 i;

	handover_nodes(root, nodes, fds);
	for (i = 0; i < nkickq; i++)
		json_array_append_new(kicks, json_string(kickq[i]->name));
	return json_pack("{s:o,s:o,s:o,s:[o,o],s:o,s:I}", "fields",
	    handover_fields(), "nodes", nodes, "worker_fds", fds, "spawnq",
	    handover_spawnq(&spawnq[0]), handover_spawnq(&spawnq[1]), "kicks",
	    kicks, "generation", (json_int_t)generation);
}

static void
adopt_arm(struct event *ev, uint64_t at, uint64_t now)
{
	struct timeval	tv;
	uint64_t	ms = at > now ? at - now : 0;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	if (evtimer_add(ev, &tv) == -1)
		fatalx("cannot arm a timer handed over");
}

/*
 * A pipe handed over, watched with cb. Its close-on-exec comes back with
 * every other fd's at once, when all is taken (reexec_cloexec_all()).
 */
static int
adopt_fd(struct node *n, int fd, struct event **ev,
    void (*cb)(evutil_socket_t, short, void *), char *err, size_t errlen)
{
	if ((*ev = event_new(base, fd, EV_READ | EV_PERSIST, cb, n)) == NULL)
		fatalx("%s: cannot watch a pipe handed over", n->name);
	/* A closed fd, or one that is no pipe, says so here. */
	if (event_add(*ev, NULL) == -1) {
		snprintf(err, errlen, "tree: %s: fd %d: %s", n->name, fd,
		    strerror(errno));
		event_free(*ev);
		*ev = NULL;
		return -1;
	}
	return 0;
}

static int
adopt_worker(struct node *n, const json_int_t *f, const char *line,
    const json_t *reason, uint64_t now, char *err, size_t errlen)
{
	char	*buf;
	size_t	 len;

	if (util_hex_decode(line, TREE_LINE_MAX, &buf, &len) == -1 ||
	    f[HF_STOP_SIGNAL] == 0 || (!json_is_null(reason) &&
	    !json_is_string(reason))) {
		snprintf(err, errlen, "tree: %s: bad worker fields", n->name);
		return -1;
	}
	/* Most have no partial line: no buffer until output comes. */
	if (len > 0) {
		if (n->line == NULL)
			n->line = xmalloc(TREE_LINE_MAX);
		memcpy(n->line, buf, len);
	}
	n->linelen = len;
	free(buf);
	free(n->reason);
	n->reason = json_is_string(reason) ?
	    xstrdup(json_string_value(reason)) : NULL;
	n->fault = (enum start_fault)f[HF_FAULT];
	n->fault_tries = (unsigned)f[HF_FAULT_TRIES];
	n->stop_signal = (int)f[HF_STOP_SIGNAL];
	n->shutdown_ms = (int)f[HF_SHUTDOWN_MS];
	n->pid = f[HF_PID] > 0 ? (pid_t)f[HF_PID] : -1;
	if (n->pid > 0)
		pidmap_put(&live_pids, n->pid, n);
	if (f[HF_OUT_FD] >= 0) {
		n->out_fd = (int)f[HF_OUT_FD];
		if (adopt_fd(n, n->out_fd, &n->ev_out, worker_output_cb, err,
		    errlen) == -1)
			return -1;
	}
	if (f[HF_READY_FD] >= 0) {
		n->ready_fd = (int)f[HF_READY_FD];
		if (adopt_fd(n, n->ready_fd, &n->ev_ready, worker_ready_fd_cb,
		    err, errlen) == -1)
			return -1;
	}
	n->killed_pid = (pid_t)f[HF_KILLED_PID];
	n->kill_recovering = f[HF_KILL_RECOVERING] != 0;
	if (f[HF_KILL_AT] > 0) {
		if ((n->kill_timer = evtimer_new(base, kill_timer_cb, n)) == NULL)
			fatalx("%s: cannot create the kill timer", n->name);
		n->kill_at = (uint64_t)f[HF_KILL_AT];
		adopt_arm(n->kill_timer, n->kill_at, now);
	}
	return 0;
}

static int
adopt_sup(struct node *n, const json_int_t *f, const json_t *stamps,
    char *err, size_t errlen)
{
	json_t	*v;
	size_t	 i;

	if ((size_t)f[HF_OP_LO] > n->nkids || !json_is_array(stamps)) {
		snprintf(err, errlen, "tree: %s: bad supervisor fields", n->name);
		return -1;
	}
	intensity_reset(&n->intensity);
	json_array_foreach(stamps, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			snprintf(err, errlen, "tree: %s: bad intensity", n->name);
			return -1;
		}
		intensity_push(&n->intensity, (uint64_t)json_integer_value(v));
	}
	n->op_active = f[HF_OP_ACTIVE] != 0;
	n->op_initial = f[HF_OP_INITIAL] != 0;
	n->op_gen = (unsigned)f[HF_OP_GEN];
	n->op_lo = (size_t)f[HF_OP_LO];
	n->op_phase = (enum op_phase)f[HF_OP_PHASE];
	n->op_delay = (uint32_t)f[HF_OP_DELAY];
	return 0;
}

/* The fields of a node's description, each an integer within its bounds. */
static int
adopt_fields(const char *name, const char *p, json_int_t *f, char *err,
    size_t errlen)
{
	char		*end;
	long long	 v;
	size_t		 i;

	for (i = 0; i < HF_N; i++) {
		errno = 0;
		v = strtoll(p, &end, 10);
		if (end == p || errno != 0 || v < hf_fields[i].lo ||
		    v > hf_fields[i].hi || (*end != ' ' && *end != '\0') ||
		    (*end == '\0') != (i == HF_N - 1)) {
			snprintf(err, errlen, "tree: %s: %s: want an integer in "
			    "%lld..%lld, then %s", name, hf_fields[i].name,
			    (long long)hf_fields[i].lo, (long long)hf_fields[i].hi,
			    i == HF_N - 1 ? "the end" : "a space");
			return -1;
		}
		f[i] = v;
		p = end + (*end == ' ');
	}
	return 0;
}

static int
adopt_node(struct node *n, const json_t *d, uint64_t now, char *err,
    size_t errlen)
{
	json_int_t	 f[HF_N];
	const char	*name = json_string_value(json_array_get(d, 0));
	const char	*ints = json_string_value(json_array_get(d, 1));
	const char	*line = json_string_value(json_array_get(d, 2));

	if (!json_is_array(d) || json_array_size(d) != 5 || name == NULL ||
	    ints == NULL || line == NULL) {
		snprintf(err, errlen, "tree: a node: want [name, fields, line, "
		    "reason, intensity]");
		return -1;
	}
	if (adopt_fields(name, ints, f, err, errlen) == -1)
		return -1;
	/* In the order the same configuration builds the tree: depth first. */
	if (strcmp(n->name, name) != 0 || n->is_sup != (f[HF_SUP] != 0)) {
		snprintf(err, errlen, "tree: %s: not the %s this tree has there "
		    "(%s)", name, f[HF_SUP] ? "supervisor" : "worker", n->name);
		return -1;
	}
	n->state = (enum svc_state)f[HF_STATE];
	n->stop_reason = (enum stop_reason)f[HF_STOP_REASON];
	n->want = f[HF_WANT] != 0;
	n->ready = f[HF_READY] != 0;
	n->recovering = f[HF_RECOVERING] != 0;
	n->pending_start = f[HF_PENDING_START] != 0;
	n->starts = (unsigned)f[HF_STARTS];
	n->started_at = (uint64_t)f[HF_STARTED_AT];
	n->ready_at = (uint64_t)f[HF_READY_AT];
	n->down_since = (uint64_t)f[HF_DOWN_SINCE];
	n->last_recovery_ms = f[HF_LAST_RECOVERY];
	n->has_exit = f[HF_HAS_EXIT] != 0;
	n->exit_code = (int)f[HF_EXIT_CODE];
	n->exit_signal = (int)f[HF_EXIT_SIGNAL];
	n->streak = (unsigned)f[HF_STREAK];
	n->op_started = (unsigned)f[HF_OP_STARTED];
	n->op_passed = (unsigned)f[HF_OP_PASSED];
	if (f[HF_TIMER_AT] > 0) {
		n->timer_at = (uint64_t)f[HF_TIMER_AT];
		adopt_arm(n->timer, n->timer_at, now);
	}
	return n->is_sup ? adopt_sup(n, f, json_array_get(d, 4), err, errlen) :
	    adopt_worker(n, f, line, json_array_get(d, 3), now, err, errlen);
}

static size_t
node_count(const struct node *n)
{
	size_t	c = 1, i;

	for (i = 0; i < n->nkids; i++)
		c += node_count(n->kids[i]);
	return c;
}

/* The nodes depth first, parents before children, as tree_handover() lists them. */
static void
node_order(struct node *n, struct node **order, size_t *k)
{
	size_t	i;

	order[(*k)++] = n;
	for (i = 0; i < n->nkids; i++)
		node_order(n->kids[i], order, k);
}

/* Names that must be this tree's nodes, of the kind wanted. */
static struct node *
adopt_find(const json_t *v, bool sup)
{
	struct node	*n;

	if (!json_is_string(v) || (n = tree_find(json_string_value(v))) == NULL ||
	    n->is_sup != sup)
		return NULL;
	return n;
}

static int
adopt_queues(const json_t *d, char *err, size_t errlen)
{
	json_t		*q, *kicks = json_object_get(d, "kicks"), *v;
	struct node	*n;
	size_t		 i, k;

	for (k = 0; k < nitems(spawnq); k++) {
		q = json_array_get(json_object_get(d, "spawnq"), k);
		if (!json_is_array(q))
			goto bad;
		json_array_foreach(q, i, v) {
			if ((n = adopt_find(v, false)) == NULL || n->spawn_queued)
				goto bad;
			n->spawn_queued = false;
			/* Queued again in the same order, behind nothing. */
			(void)spawn_now(n);
		}
	}
	if (!json_is_array(kicks))
		goto bad;
	json_array_foreach(kicks, i, v) {
		if ((n = adopt_find(v, true)) == NULL)
			goto bad;
		tree_kick(n);
	}
	return 0;
bad:
	snprintf(err, errlen, "tree: bad queues (spawnq, kicks)");
	return -1;
}

int
tree_adopt(const json_t *d, char *err, size_t errlen)
{
	json_t		*nodes = json_object_get(d, "nodes"), *v, *mine;
	struct node	**order;
	json_int_t	 gen;
	uint64_t	 now = util_now_ms();
	size_t		 i, k;
	bool		 same;

	if (!json_is_array(nodes) || json_unpack((json_t *)d, "{s:I}",
	    "generation", &gen) == -1 || gen < 0) {
		snprintf(err, errlen, "tree: want {fields, nodes, worker_fds, "
		    "spawnq, kicks, generation}");
		return -1;
	}
	mine = handover_fields();
	same = json_equal(mine, json_object_get(d, "fields"));
	json_decref(mine);
	if (!same) {
		snprintf(err, errlen, "tree: the fields of a node are not these");
		return -1;
	}
	if (json_array_size(nodes) != node_count(root)) {
		snprintf(err, errlen, "tree: %zu nodes handed over for a tree of %zu",
		    json_array_size(nodes), node_count(root));
		return -1;
	}
	order = xcalloc(json_array_size(nodes), sizeof(*order));
	k = 0;
	node_order(root, order, &k);
	json_array_foreach(nodes, i, v)
		if (adopt_node(order[i], v, now, err, errlen) == -1) {
			free(order);
			return -1;
		}
	free(order);
	generation = (uint64_t)gen + 1;
	started = true;
	/* The forks the last image deferred wait in this one's queues. */
	spawn_budget = 0;
	if (adopt_queues(d, err, errlen) == -1)
		return -1;
	spawn_batch();
	/*
	 * Children that exited while the binary was being replaced are
	 * reaped in the loop's first turn, once clients are back to hear of it.
	 */
	reap_more = true;
	tree_defer();
	strays_look();
	return 0;
}
