/*
 * worker.c: a worker at run time. Each event of its life goes through
 * worker_apply(): the cell of the lifecycle table (src/core/lifecycle.c)
 * for its state and the event gives the next state and the actions, which
 * are performed here, in order. This file also forks it (spawn.c does the
 * work), takes its exit, and keeps service.kill's mark.
 *
 * Any exit of a worker's leader also SIGKILLs what is left of its process
 * group, before the leader is reaped (batch.c): while the zombie exists
 * its pid (and so its group id) cannot be reused, so no stranger is ever
 * signalled.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "events.h"
#include "flagsvc.h"
#include "health-run.h"
#include "hooks.h"
#include "ledger.h"
#include "log.h"
#include "metrics-daemon.h"
#include "readers.h"
#include "readysock.h"
#include "spawn.h"
#include "strays.h"
#include "tree-private.h"
#include "util.h"
#include "watchdog.h"

#define WORKER_KILL_GRACE_MS 5000	/* a killed instance without shutdown_ms */

/* --- the table applied ------------------------------------------------------ */

static void	worker_perform(struct node *, const struct worker_step *,
		    const struct worker_facts *);

/* What the table needs to know of the worker and of what is around it. */
static void
worker_facts(const struct node *n, struct worker_facts *f)
{
	const struct node	*p = n->parent;

	f->has_pid = n->pid > 0;
	f->stopping = n->stop_reason;
	f->fault = n->fault;
	f->fault_tries = n->fault_tries;
	f->ready_at_once = n->conf != NULL && n->conf->ready == READY_NONE;
	f->ready_timeout_ms = n->conf != NULL ?
	    (uint32_t)n->conf->ready_timeout_ms : 0;
	f->shutdown_ms = n->shutdown_ms;
	f->temporary = n->conf != NULL && n->conf->restart == RESTART_TEMPORARY;
	f->permanent = n->conf != NULL && n->conf->restart == RESTART_PERMANENT;
	f->killed = n->killed_pid > 0 && n->killed_pid == n->pid;
	f->going_down = tree.shutting_down ||
	    (p != NULL && p->state == SVC_STOPPING);
	f->may_retry = !tree.shutting_down && n->want && n->conf != NULL &&
	    p != NULL && !node_is_down(p) && p->state != SVC_STOPPING;
	f->parent_busy = p != NULL && p->op_active;
}

void
worker_apply(struct node *n, enum worker_event ev,
    const struct worker_facts *ev_facts)
{
	struct worker_facts	f;
	struct worker_step	s;

	if (ev_facts != NULL)
		f = *ev_facts;
	else
		memset(&f, 0, sizeof(f));
	worker_facts(n, &f);
	s = lifecycle_next(n->state, ev, &f);
	if (s.ignored)
		return;
	n->state = s.next;
	n->stop_reason = s.stop_reason;
	worker_perform(n, &s, &f);
}

void
worker_unhealthy(struct node *n, const char *check, const char *why)
{
	if (n->is_sup || n->pid <= 0)
		return;
	free(n->unhealthy_why);
	n->unhealthy_why = xstrdup(why);
	n->unhealthy_check = check;
	worker_apply(n, strcmp(check, "watchdog") == 0 ? WEV_HUNG :
	    WEV_UNHEALTHY, NULL);
}

/* Not a change of state: the one the last image had, before a reexec. */
void
worker_restore(struct node *n, enum svc_state state, enum stop_reason why)
{
	n->state = state;
	n->stop_reason = why;
}

/* --- what is said ------------------------------------------------------------ */

static void
worker_say_started(struct node *n)
{
	json_t	*f;

	n->fault = FAULT_NONE;
	n->fault_tries = 0;
	free(n->reason);
	n->reason = NULL;
	metrics_node_started(n);
	f = node_ev_fields(n);
	json_object_set_new(f, "pid", json_integer(n->pid));
	json_object_set_new(f, "restarts", json_integer(n->starts - 1));
	events_emit("service.started", f);
}

static void
worker_say_ready(struct node *n)
{
	uint64_t	now = util_now_ms();
	json_t		*f;

	n->ready = true;
	n->ready_at = now;
	f = node_ev_fields(n);
	json_object_set_new(f, "pid", json_integer(n->pid));
	json_object_set_new(f, "start_ms", json_integer((json_int_t)(now - n->started_at)));
	if (n->recovering) {
		metrics_node_ready(n);
		n->recovering = false;
		n->last_recovery_ms = (int64_t)(now - n->down_since);
		n->down_since = 0;
		json_object_set_new(f, "recovery_ms", json_integer(n->last_recovery_ms));
	}
	events_emit("service.ready", f);
	watchdog_arm(n);
}

/* Its probe or its watchdog says it is not alive: why, said once. */
static void
worker_say_unhealthy(struct node *n)
{
	const char	*check = n->unhealthy_check != NULL ? n->unhealthy_check : "?";
	const char	*why = n->unhealthy_why != NULL ? n->unhealthy_why : "";
	json_t		*f;

	log_warnx("%s: pid %ld unhealthy (%s): %s; %s", n->name, (long)n->pid,
	    check, why, n->stop_reason == STOP_WATCHDOG ? "aborting it" :
	    "stopping it");
	f = node_ev_fields(n);
	json_object_set_new(f, "pid", json_integer(n->pid));
	json_object_set_new(f, "check", json_string(check));
	json_object_set_new(f, "reason", json_string(why));
	events_emit("service.unhealthy", f);
}

/* The command cannot be run: tried again after delay_ms, or (temporary) not. */
static void
worker_say_start_failed(struct node *n, const struct worker_step *s)
{
	if ((s->actions & WA_ARM_TIMER) == 0) {
		log_warnx("%s: failed: %s; temporary, so not tried again",
		    n->name, n->reason);
		events_emit("service.failed", json_pack("{s:s,s:s,s:n,s:i}",
		    "service", n->name, "reason", n->reason,
		    "retry_ms", "attempt", (int)n->fault_tries));
		return;
	}
	log_warnx("%s: failed: %s; next try in %u ms", n->name, n->reason,
	    s->timer_ms);
	events_emit("service.failed", json_pack("{s:s,s:s,s:i,s:i}",
	    "service", n->name, "reason", n->reason,
	    "retry_ms", (int)s->timer_ms, "attempt", (int)n->fault_tries));
}

static void
worker_say_start_backoff(struct node *n, const struct worker_step *s)
{
	log_info("%s: next start in %u ms (attempt %u)", n->name, s->timer_ms,
	    n->fault_tries);
	events_emit("service.backoff", json_pack("{s:s,s:i,s:i,s:s}",
	    "service", n->name, "delay_ms", (int)s->timer_ms,
	    "attempt", (int)n->fault_tries, "reason", n->reason));
}

static void
worker_say_exit_failed(struct node *n)
{
	log_warnx("%s: failed; %s, so not restarted", n->name,
	    config_restart_name(n->conf->restart));
	events_emit("service.failed", json_pack("{s:s,s:s}",
	    "service", n->name, "reason", "exited abnormally"));
}

static void
worker_say_backoff(struct node *n, uint32_t delay_ms)
{
	log_info("%s: restart in %u ms (failure %u in a row)", n->name,
	    delay_ms, n->streak);
	events_emit("service.backoff", json_pack("{s:s,s:i,s:i}",
	    "service", n->name, "delay_ms", (int)delay_ms, "attempt", (int)n->streak));
}

/* --- signals ------------------------------------------------------------------- */

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
worker_signal_stop(struct node *n)
{
	watchdog_stop(n);
	worker_signal(n, n->stop_signal);
	if (n->stop_signal != SIGCONT && n->stop_signal != SIGKILL)
		worker_signal(n, SIGCONT);
}

/* What left the group goes too: same signal, same grace. */
static void
worker_stop_strays(struct node *n)
{
	strays_stop(n->name, n->pid, n->stop_signal,
	    n->shutdown_ms == SHUTDOWN_INFINITY ? -1 : n->shutdown_ms);
}

static void
worker_signal_kill(struct node *n)
{
	watchdog_stop(n);
	worker_signal(n, SIGKILL);
	strays_stop(n->name, n->pid, SIGKILL, -1);
}

/* A hung worker: SIGABRT, for its core; SIGCONT, should it be stopped. */
static void
worker_signal_abort(struct node *n)
{
	watchdog_stop(n);
	worker_signal(n, SIGABRT);
	worker_signal(n, SIGCONT);
}

static void
worker_grace_kill(struct node *n)
{
	bool	aborted = n->stop_reason == STOP_WATCHDOG;

	log_warnx("%s: still running %ld ms after SIG%s, killing it", n->name,
	    aborted ? (long)lifecycle_abort_grace_ms(n->shutdown_ms) :
	    (long)n->shutdown_ms,
	    util_signal_name(aborted ? SIGABRT : n->stop_signal));
	worker_signal(n, SIGKILL);
}

/* The instance of n has ended: what it left outside its group goes now. */
void
worker_strays_ended(struct node *n, pid_t pgid)
{
	if (n->shutdown_ms == SHUTDOWN_BRUTAL_KILL)
		strays_ended(n->name, pgid, SIGKILL, -1);
	else
		strays_ended(n->name, pgid, n->stop_signal,
		    n->shutdown_ms == SHUTDOWN_INFINITY ? -1 : n->shutdown_ms);
}

/* --- service.kill's mark ------------------------------------------------------ */

void
worker_kill_clear(struct node *n)
{
	n->killed_pid = 0;
	n->kill_recovering = false;
	if (n->kill_timer != NULL)
		evtimer_del(n->kill_timer);
}

/* The killed instance outlived its grace: it caught the signal and lives on. */
void
worker_kill_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	worker_apply(arg, WEV_KILL_SURVIVED, NULL);
}

static void
worker_kill_unmark(struct node *n)
{
	log_info("%s: pid %ld is still running after service.kill",
	    n->name, (long)n->pid);
	if (n->kill_recovering) {
		n->recovering = false;
		n->down_since = 0;
	}
	worker_kill_clear(n);
	tree_changed();
}

/*
 * From the moment the signal is sent, the instance is on its way down: it
 * shows as stopping and its service as recovering, so that no answer or
 * wait evaluated after service.kill's own sees it running. SIGKILL cannot
 * be caught; an instance that catches another signal and is still there
 * after its shutdown_ms (WORKER_KILL_GRACE_MS without one) shows its own
 * state again.
 */
static void
worker_kill_mark(struct node *n, int sig)
{
	struct timeval	tv;
	int		ms;

	n->killed_pid = n->pid;
	if (!n->recovering) {
		n->recovering = true;
		metrics_node_down(n);
		n->kill_recovering = true;
	}
	if (sig == SIGKILL) {
		n->kill_recovering = false;	/* for good: it cannot survive */
		if (n->kill_timer != NULL)
			evtimer_del(n->kill_timer);
		return;
	}
	if (n->kill_timer == NULL && (n->kill_timer = evtimer_new(tree.base,
	    worker_kill_timer_cb, n)) == NULL)
		fatalx("%s: cannot create the kill timer", n->name);
	if (evtimer_pending(n->kill_timer, NULL))
		return;		/* the first signal's grace runs on */
	ms = n->shutdown_ms > 0 ? n->shutdown_ms : WORKER_KILL_GRACE_MS;
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (event_base_update_cache_time(tree.base) == -1)
		log_warnx("%s: cannot read the clock for a timer", n->name);
	if (evtimer_add(n->kill_timer, &tv) == -1)
		fatalx("%s: cannot arm the kill timer", n->name);
	n->kill_at = util_now_ms() + (uint64_t)ms;
}

/* --- service.signal's mark ---------------------------------------------------- */

/*
 * The operator's signal: to the group, as a stop signal is, and remembered
 * with the instance, so that the exit it may cause is taken as asked.
 */
static void
worker_signal_operator(struct node *n, int sig)
{
	n->signal_pid = n->pid;
	n->signal_sig = sig;
	n->signal_at = util_now_ms();
	worker_signal(n, sig);
	events_emit("service.signaled", json_pack("{s:s,s:i,s:s}",
	    "service", n->name, "pid", (int)n->pid,
	    "signal", util_signal_name(sig)));
}

/* --- the actions ------------------------------------------------------------- */

/* Recovering since now, unless it already is (down_since is 0 when not). */
static void
worker_recovering(struct node *n)
{
	if (n->recovering)
		return;
	n->recovering = true;
	metrics_node_down(n);
}

static void
worker_fork(struct node *n)
{
	n->pending_start = false;
	if (batch_spawn_now(n))
		worker_spawn(n);
}

static void
worker_perform(struct node *n, const struct worker_step *s,
    const struct worker_facts *f)
{
	uint32_t	a = s->actions;

	if (a & WA_RECOVERING)
		worker_recovering(n);
	if (a & WA_RECOVERED) {
		n->recovering = false;
		n->down_since = 0;
	}
	if (a & WA_COUNT_FAULT) {
		n->fault_tries++;
		n->ready = false;
	}
	if (a & WA_COUNT_STREAK)
		n->streak = backoff_next_streak(&n->conf->backoff, n->streak,
		    f->ran_ms);
	if (a & WA_CLEAR_TIMER)
		node_timer_clear(n);
	if (a & WA_FORK)
		worker_fork(n);
	if (a & WA_SAY_NOT_READY)
		log_warnx("%s: not ready in time", n->name);
	if (a & WA_SIGNAL_STOP)
		worker_signal_stop(n);
	if (a & WA_SIGNAL_KILL)
		worker_signal_kill(n);
	if (a & WA_SIGNAL_ABORT)
		worker_signal_abort(n);
	if (a & WA_GRACE_KILL)
		worker_grace_kill(n);
	if (a & WA_SAY_STARTED)
		worker_say_started(n);
	if (a & WA_SAY_READY)
		worker_say_ready(n);
	if (a & WA_SAY_START_FAILED)
		worker_say_start_failed(n, s);
	if (a & WA_SAY_START_BACKOFF)
		worker_say_start_backoff(n, s);
	if (a & WA_SAY_EXIT_FAILED)
		worker_say_exit_failed(n);
	if (a & WA_SAY_UNHEALTHY)
		worker_say_unhealthy(n);
	if (a & WA_SAY_BACKOFF)
		worker_say_backoff(n, f->delay_ms);
	if (a & WA_ARM_TIMER)
		node_timer_arm(n, s->timer_ms);
	if (a & WA_STOP_STRAYS)
		worker_stop_strays(n);
	if (a & WA_MARK_KILLED)
		worker_kill_mark(n, f->sig);
	if (a & WA_UNMARK_KILLED)
		worker_kill_unmark(n);
	if (a & WA_SIGNAL_OPERATOR)
		worker_signal_operator(n, f->sig);
	if (a & WA_TELL_PARENT)
		tree_kick(n->parent);
	/* Its probe follows the instance: begun, or abandoned. */
	health_sync(n);
	/* Last: these may apply another event to n, or free it. */
	if (a & WA_REPORT_CRASH) {
		hooks_service_failed(n, f->stopping);
		sup_child_failed(n, true);
	}
	else if (a & WA_REPORT_EXIT)
		sup_child_failed(n, false);
	else if (a & WA_REPORT_DOWN)
		node_down(n);
}

void
worker_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	worker_apply(arg, WEV_TIMEOUT, NULL);
}

/* --- start and exit ------------------------------------------------------------ */

static bool
worker_same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

void
worker_env_forget(struct node *n)
{
	spawn_env_free(n->env);
	n->env = NULL;
	free(n->env_table);
	n->env_table = NULL;
	free(n->env_notify);
	n->env_notify = NULL;
	free(n->env_report);
	n->env_report = NULL;
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
	if (n->env != NULL && worker_same_str(n->env_table, a->table_name) &&
	    n->env_table_fd == (a->table_fd != -1) &&
	    worker_same_str(n->env_notify, a->notify_socket) &&
	    worker_same_str(n->env_report, a->report_addr))
		return n->env;
	worker_env_forget(n);
	n->env = spawn_env(a);
	n->env_table = a->table_name != NULL ? xstrdup(a->table_name) : NULL;
	n->env_table_fd = a->table_fd != -1;
	n->env_notify = a->notify_socket != NULL ? xstrdup(a->notify_socket) : NULL;
	n->env_report = a->report_addr != NULL ? xstrdup(a->report_addr) : NULL;
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

/* No process at all (fork or pipe failed): warden's own fault. */
static void
worker_fork_failed(struct node *n, int err)
{
	n->starts--;
	n->fault = restart_start_fault(NULL, err);
	worker_set_reason(n, n->fault, NULL, err);
	if (n->fault_tries == 0)
		log_warnx("%s: cannot start: %s; retrying with backoff",
		    n->name, strerror(err));
	worker_apply(n, WEV_FORK_FAILED, NULL);
}

/* The child exits 127; its exit is the failure, and this is why. */
static void
worker_exec_failed(struct node *n, const struct spawn_result *r)
{
	if (r->ready_fd != -1)
		close(r->ready_fd);
	n->fault = restart_start_fault(r->exec_stage, r->exec_errno);
	worker_set_reason(n, n->fault, r->exec_stage, r->exec_errno);
	if (n->fault == FAULT_EXEC)
		log_warnx("%s: %s %s: %s", n->name, r->exec_stage,
		    n->conf->argv[0], strerror(r->exec_errno));
	else if (n->fault_tries == 0)
		log_warnx("%s: cannot start: %s %s: %s; retrying with "
		    "backoff", n->name, r->exec_stage, n->conf->argv[0],
		    strerror(r->exec_errno));
	worker_apply(n, WEV_EXEC_FAILED, NULL);
}

/* Fork+exec a worker whose start the table decided (state starting). */
void
worker_spawn(struct node *n)
{
	struct spawn_args	a;
	struct spawn_result	r;
	uint64_t		since;

	memset(&a, 0, sizeof(a));
	a.conf = n->conf;
	a.table_name = flagsvc_table_name();
	a.table_fd = flagsvc_table_fd();
	a.report_addr = readers_addr(n);
	if (n->conf->ready == READY_NOTIFY)
		a.notify_socket = readysock_socket_name();
	a.env = worker_env(n, &a);
	n->starts++;
	n->ready = false;
	n->stop_signal = n->conf->stop_signal;
	n->shutdown_ms = n->conf->shutdown_ms;
	n->signal_pid = 0;
	since = ledger_clock();
	if (spawn_worker(&a, &r) == -1) {
		worker_fork_failed(n, errno);
		return;
	}
	n->pid = r.pid;
	readers_started(n);
	metrics_node_spawned(n);
	pidmap_put(&tree.live_pids, n->pid, n);
	ledger_started(n->name, n->pid, since, n->stop_signal, n->shutdown_ms);
	n->started_at = util_now_ms();
	pipes_watch_output(n, LOGRING_STDOUT, r.out_fd, r.pid);
	pipes_watch_output(n, LOGRING_STDERR, r.err_fd, r.pid);
	if (r.exec_errno != 0) {
		worker_exec_failed(n, &r);
		return;
	}
	if (n->conf->ready == READY_FD)
		pipes_watch_ready(n, r.ready_fd);
	log_info("%s: started, pid %ld", n->name, (long)n->pid);
	worker_apply(n, WEV_SPAWNED, NULL);
}

/* Its process was reaped: what every exit does, then the table's say. */
void
worker_exited(struct node *n, int code, int sig)
{
	struct worker_facts	 f = { .abnormal = false };
	enum stop_reason	 why = n->stop_reason;
	json_t			*e;
	pid_t			 pid = n->pid;
	bool			 was_ready = n->ready;

	node_timer_clear(n);
	watchdog_stop(n);
	free(n->status_text);
	n->status_text = NULL;
	pipes_close_ready(n);
	pipes_read_output(n, true);
	pidmap_del(&tree.live_pids, n->pid);
	n->pid = -1;
	readers_exited(n);
	n->ready = false;
	n->has_exit = true;
	n->exit_code = code;
	n->exit_signal = sig;
	/* The operator's signal, if this instance had one. */
	f.signaled = n->signal_pid > 0 && n->signal_pid == pid;
	f.signal_sig = n->signal_sig;
	f.since_signal_ms = f.signaled ? util_now_ms() - n->signal_at : 0;
	f.exit_sig = sig;
	f.exit_killed = n->killed_pid > 0 && n->killed_pid == pid;
	n->signal_pid = 0;
	e = node_ev_fields(n);
	json_object_set_new(e, "pid", pid > 0 ? json_integer(pid) : json_null());
	json_object_set_new(e, "code", sig == 0 ? json_integer(code) : json_null());
	json_object_set_new(e, "signal", sig != 0 ? json_string(util_signal_name(sig)) : json_null());
	json_object_set_new(e, "expected", json_boolean((why != STOP_NONE &&
	    !lifecycle_stop_failed(why)) ||
	    (why == STOP_NONE && lifecycle_exit_requested(&f))));
	if (n->fault != FAULT_NONE && n->reason != NULL)
		json_object_set_new(e, "reason", json_string(n->reason));
	events_emit("service.exited", e);
	if (sig != 0)
		log_info("%s: pid %ld killed by SIG%s", n->name, (long)pid, util_signal_name(sig));
	else
		log_info("%s: pid %ld exited %d", n->name, (long)pid, code);
	f.abnormal = n->conf != NULL &&
	    restart_exit_abnormal(code, sig, n->conf->stop_signal);
	n->down_cause = downcause_of(why, f.abnormal, why == STOP_NONE &&
	    lifecycle_exit_requested(&f), n->fault != FAULT_NONE);
	f.ran_ms = was_ready ? util_now_ms() - n->ready_at : 0;
	worker_apply(n, WEV_EXITED, &f);
}
