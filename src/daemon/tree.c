/*
 * tree.c: the supervision tree at run time (see tree.h): its structure,
 * nodes of either kind, the kicks that step supervisors, warden's start
 * and shutdown, and the operator's actions. tree-private.h lists the
 * other files of the tree and what each holds.
 *
 * Parents are told of their children's changes through tree_kick(), which
 * runs sup_step() from the event loop rather than from deep in a call
 * chain, so that no step ever re-enters another.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "health-run.h"
#include "hooks.h"
#include "log.h"
#include "readers.h"
#include "readysock.h"
#include "strays.h"
#include "tree-private.h"
#include "watchdog.h"
#include "util.h"

struct tree_state	 tree;

const char *
tree_state_name(enum svc_state s)
{
	return lifecycle_state_name(s);
}

int
tree_state_parse(const char *s)
{
	return lifecycle_state_parse(s);
}

/* --- small helpers ------------------------------------------------------ */

bool
node_is_down(const struct node *n)
{
	return n->state == SVC_STOPPED || n->state == SVC_FAILED ||
	    n->state == SVC_BACKOFF;
}

bool
node_is_up(const struct node *n)
{
	return n->state == SVC_RUNNING;
}

void
node_timer_clear(struct node *n)
{
	if (n->timer != NULL)
		evtimer_del(n->timer);
	n->timer_at = 0;
}

void
node_timer_arm(struct node *n, uint64_t ms)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	/*
	 * libevent counts from the time it cached at the start of this turn
	 * of the loop; a turn that forked a few workers on a loaded machine
	 * would cut a worker's ready_timeout_ms or backoff short by that much.
	 */
	if (event_base_update_cache_time(tree.base) == -1)
		log_warnx("%s: cannot read the clock for a timer", n->name);
	if (evtimer_add(n->timer, &tv) == -1)
		fatalx("%s: cannot arm timer", n->name);
	n->timer_at = util_now_ms() + ms;
}

json_t *
node_ev_fields(const struct node *n)
{
	return json_pack("{s:s}", "service", n->name);
}

/* --- kicks -------------------------------------------------------------- */

void
tree_kick(struct node *sup)
{
	if (sup == NULL || sup->kicked)
		return;
	sup->kicked = true;
	if (tree.nkickq == tree.kickq_cap) {
		tree.kickq_cap = tree.kickq_cap ? tree.kickq_cap * 2 : 64;
		tree.kickq = xreallocarray(tree.kickq, tree.kickq_cap,
		    sizeof(*tree.kickq));
	}
	tree.kickq[tree.nkickq++] = sup;
	event_active(tree.ev_kick, EV_TIMEOUT, 0);
}

void
tree_changed(void)
{
	if (tree.change_cb != NULL)
		tree.change_cb();
}

static void
tree_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	size_t		 i;
	struct node	*s;

	(void)fd;
	(void)what;
	(void)arg;
	batch_begin();
	/* Steps may kick more supervisors; take them as they come. */
	for (i = 0; i < tree.nkickq; i++) {
		s = tree.kickq[i];
		s->kicked = false;
		sup_step(s);
	}
	tree.nkickq = 0;
	tree_changed();
}

/* --- building ----------------------------------------------------------- */

/* "/" for the root, "/name" under it, "PARENT/name" deeper. */
char *
node_path(const struct node *parent, const char *name)
{
	char	*path;

	if (parent == NULL)
		return xstrdup("/");
	if (parent->parent == NULL)
		xasprintf(&path, "/%s", name);
	else
		xasprintf(&path, "%s/%s", parent->path, name);
	return path;
}

struct node *
node_new(struct child_conf *c, struct node *parent)
{
	struct node	*n = xcalloc(1, sizeof(*n));
	size_t		 i;

	n->name = xstrdup(c->name);
	n->conf = c;
	n->is_sup = c->is_sup;
	n->parent = parent;
	n->path = node_path(parent, c->name);
	n->state = SVC_STOPPED;
	/* "autostart": false: declared, down until an operator starts it. */
	n->want = c->autostart;
	n->pid = -1;
	pipes_init(n);
	n->ready_fd = -1;
	n->last_recovery_ms = -1;
	if (c->is_sup) {
		intensity_init(&n->intensity, c->max_restarts);
		n->timer = evtimer_new(tree.base, sup_timer_cb, n);
		n->kids = xcalloc(c->nchildren, sizeof(*n->kids));
		n->nkids = c->nchildren;
		for (i = 0; i < c->nchildren; i++) {
			n->kids[i] = node_new(c->children[i], n);
			n->kids[i]->index = i;
		}
	} else {
		n->timer = evtimer_new(tree.base, worker_timer_cb, n);
		n->stop_signal = c->stop_signal;
		n->shutdown_ms = c->shutdown_ms;
	}
	if (n->timer == NULL)
		fatalx("cannot create timer");
	return n;
}

void
node_free(struct node *n)
{
	size_t	i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	if (n->is_sup)
		intensity_free(&n->intensity);
	else if (n->pid > 0)
		pidmap_del(&tree.live_pids, n->pid);
	if (n->timer != NULL)
		event_free(n->timer);
	pipes_free(n);
	readers_free(n);
	if (n->ev_ready != NULL)
		event_free(n->ev_ready);
	if (n->ready_fd != -1)
		close(n->ready_fd);
	for (i = 0; i < tree.nkickq; i++)
		if (tree.kickq[i] == n)
			tree.kickq[i] = tree.root;	/* harmless: a spare step of the root */
	if (n->spawn_queued)
		batch_forget(n);
	if (n->kill_timer != NULL)
		event_free(n->kill_timer);
	worker_env_forget(n);
	health_forget(n);
	free(n->reason);
	free(n->unhealthy_why);
	free(n->status_text);
	watchdog_free(n);
	free(n->name);
	free(n->path);
	free(n);
}

void
tree_on_exit(void (*cb)(int))
{
	tree.exit_cb = cb;
}

void
tree_on_started(void (*cb)(void))
{
	tree.started_cb = cb;
}

void
tree_on_change(void (*cb)(void))
{
	tree.change_cb = cb;
}

static void
tree_strays_gone(void)
{
	tree_maybe_exit();
}

/* A failure hook ended: warden may exit, a reexec may go on. */
static void
tree_hook_ended(void)
{
	tree_maybe_exit();
	tree_changed();
}

void
tree_init(struct event_base *b, struct config *conf)
{
	tree.base = b;
	tree.config = conf;
	tree.ev_kick = event_new(tree.base, -1, 0, tree_kick_cb, NULL);
	if (tree.ev_kick == NULL)
		fatalx("cannot create kick event");
	batch_init();
	/* Orphans of our workers come back to us, to be reaped here. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("prctl(PR_SET_CHILD_SUBREAPER)");
	if (readysock_open(tree.base, pipes_notify, NULL) == -1)
		fatal("cannot open the workers' notify socket");
	strays_init(tree.base, batch_is_worker, tree_strays_gone);
	hooks_init(tree.base, tree_hook_ended);
	health_init(tree.base);
	tree.root = node_new(conf->root, NULL);
}

void
tree_free(void)
{
	size_t	i;

	node_free(tree.root);
	tree.root = NULL;
	for (i = 0; i < tree.nretired; i++)
		node_free(tree.retired[i]);
	free(tree.retired);
	tree.retired = NULL;
	tree.nretired = 0;
	pidmap_free(&tree.live_pids);
	free(tree.kickq);
	tree.kickq = NULL;
	tree.nkickq = tree.kickq_cap = 0;
	if (tree.ev_kick != NULL)
		event_free(tree.ev_kick);
	tree.ev_kick = NULL;
	hooks_free();
	health_free();
	strays_free();
	batch_free();
	readysock_close();
}

struct node *
tree_root(void)
{
	return tree.root;
}

struct config *
tree_config(void)
{
	return tree.config;
}

bool
tree_started(void)
{
	return tree.started;
}

uint64_t
tree_generation(void)
{
	return tree.generation;
}

struct node *
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
	return tree.root != NULL ? node_find(tree.root, name) : NULL;
}

/* --- nodes of either kind ------------------------------------------------- */

void
node_start(struct node *n)
{
	n->pending_start = false;
	if (n->is_sup)
		sup_start(n);
	else
		worker_apply(n, WEV_START, NULL);
}

void
node_stop(struct node *n, enum stop_reason why)
{
	struct worker_facts	f = { .why = why };

	if (n->is_sup)
		sup_stop(n, why);
	else
		worker_apply(n, WEV_STOP, &f);
}

/*
 * A node has come down because someone asked (its stop_reason says who).
 * Unasked exits go through sup_child_failed() instead.
 */
void
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
		sup_gave_up(n);
		return;
	case STOP_RELOAD:
		reload_retired_down(n);
		return;
	default:
		break;
	}
	if (n == tree.root && tree.shutting_down) {
		tree_maybe_exit();
		return;
	}
	tree_kick(n->parent);
}

/* --- lifecycle of the whole tree --------------------------------------------- */

void
tree_start(void)
{
	node_start(tree.root);
}

/* Leave once the root and every node a reload retired are down. */
void
tree_maybe_exit(void)
{
	if (!tree.shutting_down || tree.exited || !node_is_down(tree.root) ||
	    tree.nretired > 0 || strays_pending() > 0 || hooks_pending() > 0)
		return;
	tree.exited = true;
	if (tree.exit_cb != NULL)
		tree.exit_cb(tree.exit_status);
}

void
tree_shutdown(void)
{
	if (tree.shutting_down) {
		/* The root failed: its hook may run, unless asked to stop. */
		hooks_shutdown();
		return;
	}
	tree.shutting_down = true;
	log_info("stopping all services");
	strays_shutdown();
	hooks_shutdown();
	health_drop_all(true);
	/* Retired nodes are already on their way down; the root goes now. */
	if (node_is_down(tree.root)) {
		tree_maybe_exit();
		return;
	}
	node_stop(tree.root, STOP_SHUTDOWN);
}

/* --- operator actions -------------------------------------------------------- */

static bool
tree_parent_is_up(const struct node *n)
{
	return n->parent == NULL || (!node_is_down(n->parent) &&
	    n->parent->state != SVC_STOPPING);
}

/* May an operator bring n up now? -1 with why when not. */
static int
tree_op_up_allowed(const struct node *n, const char **why)
{
	if (tree.shutting_down) {
		*why = "warden is shutting down";
		return -1;
	}
	if (!tree_parent_is_up(n)) {
		*why = "its supervisor is not running; start the supervisor";
		return -1;
	}
	return 0;
}

int
tree_op_start(struct node *n, const char **why)
{
	if (tree_op_up_allowed(n, why) == -1)
		return -1;
	n->want = true;
	/* The operator says try now: a failed start's delays begin afresh. */
	n->fault_tries = 0;
	if (n->state == SVC_STOPPING) {
		/* Once down, it starts again. */
		if (n->is_sup)
			n->stop_reason = STOP_RESTART;
		else
			worker_apply(n, WEV_START, NULL);
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
	if (tree.shutting_down) {
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
	if (tree_op_up_allowed(n, why) == -1)
		return -1;
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
tree_op_check(const struct node *n, bool up, const char **why)
{
	if (up)
		return tree_op_up_allowed(n, why);
	if (tree.shutting_down) {
		*why = "warden is shutting down";
		return -1;
	}
	if (n->is_sup && n->parent == NULL) {
		*why = "the root supervisor cannot be stopped; use shutdown";
		return -1;
	}
	return 0;
}

int
tree_signal(struct node *n, int sig, const char **why)
{
	struct worker_facts	f = { .sig = sig };

	if (n->is_sup || n->pid <= 0 || (n->state != SVC_STARTING &&
	    n->state != SVC_RUNNING) || tree_service_state(n) != n->state) {
		*why = "not running";
		return -1;
	}
	worker_apply(n, WEV_SIGNALED, &f);
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
tree_sig_spares(int sig)
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

int
tree_kill(struct node *n, int sig, json_t *killed)
{
	struct worker_facts	f = { .sig = sig };

	if (n->is_sup || n->pid <= 0)
		return 0;
	if (kill(n->pid, sig) == -1) {
		if (errno == ESRCH)
			return 0;
		return -1;
	}
	if (!tree_sig_spares(sig))
		worker_apply(n, WEV_KILLED, &f);
	json_array_append_new(killed, json_pack("{s:s,s:i}", "service", n->name,
	    "pid", (int)n->pid));
	return 0;
}

/*
 * The state a service shows: stopping for an instance that service.kill
 * has signalled and that has not exited yet.
 */
enum svc_state
tree_service_state(const struct node *n)
{
	if (n->killed_pid > 0 && n->killed_pid == n->pid &&
	    (n->state == SVC_STARTING || n->state == SVC_RUNNING))
		return SVC_STOPPING;
	return n->state;
}

bool
tree_settled(const struct node *n)
{
	if (n->state == SVC_STARTING || n->state == SVC_STOPPING)
		return false;
	return !(n->is_sup && n->op_active);
}
