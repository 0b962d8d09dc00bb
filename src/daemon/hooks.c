/*
 * hooks.c: failure hooks (see hooks.h): which occasion makes which hook,
 * the bounds (running, queued, per owner and minute), starting one
 * through spawn.c, its timeout, and its end. hooks-io.c feeds its stdin
 * and logs its output.
 *
 * A hook is reaped by batch.c as a child of warden's own whose group
 * goes with it (tree_own_group): what it left in its group is SIGKILLed
 * before it is reaped. What left its group (a daemon it started with
 * setsid) comes back to warden, the subreaper: WARDEN_HOOK in its
 * environment makes it a stray of no service, which strays.c stops at
 * once, and a look for such strays follows each hook's end.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "events.h"
#include "hooks.h"
#include "hooks-private.h"
#include "log.h"
#include "spawn.h"
#include "strays.h"
#include "tree.h"
#include "util.h"

/* How often one owner's hook ran lately: its last HOOKS_RATE_RUNS runs. */
struct hook_owner {
	char		*key;		/* "kind:name" */
	uint64_t	 at[HOOKS_RATE_RUNS];	/* ms, monotonic; a ring */
	size_t		 n, next;
	unsigned long	 skipped;	/* runs refused by the rate, ever */
};

struct event_base	*hooks_base;
static void		(*on_idle_cb)(void);
static struct hook	*running[HOOKS_RUNNING];
static size_t		 nrunning;
static struct hook	*queue[HOOKS_QUEUED];
static size_t		 nqueued;
static struct hook_owner *owners;
static size_t		 nowners;
static bool		 closing;	/* warden is stopping: nothing new runs */

static void	hooks_start(struct hook *);

void
hooks_init(struct event_base *b, void (*on_idle)(void))
{
	hooks_base = b;
	on_idle_cb = on_idle;
	closing = false;
}

static void
hooks_env_put(struct hook *h, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
hooks_env_put(struct hook *h, const char *key, const char *fmt, ...)
{
	va_list	ap;
	char	*v;

	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) == -1)
		fatalx("out of memory");
	va_end(ap);
	h->env = xreallocarray(h->env, h->nenv + 1, sizeof(*h->env));
	h->env[h->nenv].key = xstrdup(key);
	h->env[h->nenv].value = v;
	h->nenv++;
}

/* A hook for conf's command, before its occasion's variables. */
static struct hook *
hooks_new(const struct hook_conf *conf, const char *kind, const char *owner,
    const char *event)
{
	struct hook	*h = xcalloc(1, sizeof(*h));
	size_t		 i;

	h->kind = kind;
	h->owner = xstrdup(owner);
	h->event = event;
	h->argv = xcalloc(conf->argc + 1, sizeof(*h->argv));
	for (i = 0; i < conf->argc; i++)
		h->argv[i] = xstrdup(conf->argv[i]);
	h->argc = conf->argc;
	h->timeout_ms = conf->timeout_ms;
	h->pid = -1;
	h->in_fd = -1;
	h->out[0].fd = h->out[1].fd = -1;
	hooks_env_put(h, "WARDEN_HOOK", "%s", kind);
	hooks_env_put(h, "WARDEN_EVENT", "%s", event);
	return h;
}

void
hooks_hook_free(struct hook *h)
{
	size_t	i;

	if (h == NULL)
		return;
	hooks_io_close(h);
	if (h->ev_timer != NULL)
		event_free(h->ev_timer);
	for (i = 0; i < h->argc; i++)
		free(h->argv[i]);
	free(h->argv);
	for (i = 0; i < h->nenv; i++) {
		free(h->env[i].key);
		free(h->env[i].value);
	}
	free(h->env);
	free(h->input);
	free(h->owner);
	free(h);
}

static struct hook_owner *
hooks_owner(const struct hook *h)
{
	char	*key;
	size_t	 i;

	xasprintf(&key, "%s:%s", h->kind, h->owner);
	for (i = 0; i < nowners; i++)
		if (strcmp(owners[i].key, key) == 0) {
			free(key);
			return &owners[i];
		}
	owners = xreallocarray(owners, nowners + 1, sizeof(*owners));
	memset(&owners[nowners], 0, sizeof(*owners));
	owners[nowners].key = key;
	return &owners[nowners++];
}

/* May this owner's hook run once more now? Counted when it may. */
static bool
hooks_rate_take(struct hook_owner *o, uint64_t now)
{
	/* The oldest of the last HOOKS_RATE_RUNS is the next to go. */
	if (o->n == HOOKS_RATE_RUNS && now - o->at[o->next] <
	    HOOKS_RATE_WINDOW_MS)
		return false;
	o->at[o->next] = now;
	o->next = (o->next + 1) % HOOKS_RATE_RUNS;
	if (o->n < HOOKS_RATE_RUNS)
		o->n++;
	return true;
}

/* Run h now, queue it, or skip it (with a log line): the bounds. */
static void
hooks_submit(struct hook *h)
{
	struct hook_owner	*o;

	if (closing) {
		log_info("hook for %s (%s): not run, warden is stopping",
		    h->owner, h->event);
		hooks_hook_free(h);
		return;
	}
	o = hooks_owner(h);
	if (!hooks_rate_take(o, util_now_ms())) {
		o->skipped++;
		log_warnx("hook for %s (%s): skipped, it ran %d times in the "
		    "last %d s (%lu skipped so far)", h->owner, h->event,
		    HOOKS_RATE_RUNS, HOOKS_RATE_WINDOW_MS / 1000, o->skipped);
		hooks_hook_free(h);
		return;
	}
	if (nrunning < HOOKS_RUNNING) {
		hooks_start(h);
		return;
	}
	if (nqueued == HOOKS_QUEUED) {
		log_warnx("hook for %s (%s): skipped, %d hooks running and %d "
		    "waiting", h->owner, h->event, HOOKS_RUNNING, HOOKS_QUEUED);
		hooks_hook_free(h);
		return;
	}
	log_info("hook for %s (%s): waits, %d hooks running", h->owner,
	    h->event, HOOKS_RUNNING);
	queue[nqueued++] = h;
}

/* --- the occasions ------------------------------------------------------------ */

/* The last HOOKS_STDIN_LINES lines of n's output, one per line. */
static void
hooks_input_lines(struct hook *h, const struct node *n)
{
	const struct logline	*l;
	size_t			 count = logring_count(&n->logs), i, from, len = 0;

	from = count > HOOKS_STDIN_LINES ? count - HOOKS_STDIN_LINES : 0;
	for (i = from; i < count; i++)
		len += logring_at(&n->logs, i)->len + 1;
	if (len == 0)
		return;
	h->input = xmalloc(len);
	for (i = from; i < count; i++) {
		l = logring_at(&n->logs, i);
		memcpy(h->input + h->inlen, l->text, l->len);
		h->inlen += l->len;
		h->input[h->inlen++] = '\n';
	}
}

void
hooks_service_failed(struct node *n, enum stop_reason why)
{
	struct hook	*h;

	if (n->conf == NULL || n->conf->on_failure == NULL)
		return;
	h = hooks_new(n->conf->on_failure, "service", n->name,
	    "service.exited");
	if (why == STOP_READY_TIMEOUT)
		hooks_env_put(h, "WARDEN_REASON", "not ready within %d ms",
		    n->conf->ready_timeout_ms);
	else if (why == STOP_UNHEALTHY || why == STOP_WATCHDOG)
		hooks_env_put(h, "WARDEN_REASON", "unhealthy (%s): %s",
		    n->unhealthy_check != NULL ? n->unhealthy_check : "?",
		    n->unhealthy_why != NULL ? n->unhealthy_why : "");
	else if (n->exit_signal != 0)
		hooks_env_put(h, "WARDEN_REASON", "killed by SIG%s",
		    util_signal_name(n->exit_signal));
	else
		hooks_env_put(h, "WARDEN_REASON", "exited with code %d",
		    n->exit_code);
	if (n->has_exit && n->exit_signal != 0)
		hooks_env_put(h, "WARDEN_EXIT_SIGNAL", "%s",
		    util_signal_name(n->exit_signal));
	else if (n->has_exit)
		hooks_env_put(h, "WARDEN_EXIT_CODE", "%d", n->exit_code);
	hooks_env_put(h, "WARDEN_RESTARTS", "%u",
	    n->starts > 0 ? n->starts - 1 : 0);
	hooks_input_lines(h, n);
	hooks_submit(h);
}

void
hooks_supervisor_failed(struct node *n)
{
	struct hook	*h;

	if (n->conf == NULL || n->conf->on_failure == NULL)
		return;
	h = hooks_new(n->conf->on_failure, "supervisor", n->name,
	    "supervisor.failed");
	hooks_env_put(h, "WARDEN_REASON", "more than %d restarts in %d s",
	    n->conf->max_restarts, n->conf->max_seconds);
	hooks_env_put(h, "WARDEN_RESTARTS", "%zu",
	    intensity_count(&n->intensity, n->conf->max_seconds,
	    util_now_ms()));
	hooks_submit(h);
}

void
hooks_guard_rollback(const struct hook_conf *conf, int from, int to,
    const char *reason, size_t restarts)
{
	struct hook	*h;

	if (conf == NULL)
		return;
	h = hooks_new(conf, "guard", "guard", "guard.rollback");
	hooks_env_put(h, "WARDEN_REASON", "%s", reason);
	hooks_env_put(h, "WARDEN_RESTARTS", "%zu", restarts);
	hooks_env_put(h, "WARDEN_STAGE_FROM", "%d", from);
	hooks_env_put(h, "WARDEN_STAGE_TO", "%d", to);
	hooks_submit(h);
}

/* --- a hook's run ---------------------------------------------------------------- */

static void
hooks_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook	*h = arg;

	(void)fd;
	(void)what;
	h->timed_out = true;
	/* The zombie keeps its group id ours until batch.c reaps it. */
	if (kill(-h->pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("hook for %s: kill", h->owner);
}

static void	hooks_reaped(pid_t, int, void *);

static void
hooks_start(struct hook *h)
{
	struct child_conf	cc;
	struct spawn_args	a;
	struct spawn_result	r;
	struct timeval		tv;
	int			in[2] = { -1, -1 };

	memset(&cc, 0, sizeof(cc));
	cc.name = h->owner;
	cc.argv = h->argv;
	cc.argc = h->argc;
	cc.env = h->env;
	cc.nenv = h->nenv;
	cc.cwd = tree_config()->dir;
	memset(&a, 0, sizeof(a));
	a.conf = &cc;
	a.table_fd = -1;
	if (h->inlen > 0) {
		if (pipe2(in, O_CLOEXEC) == -1) {
			log_warn("hook for %s (%s): not run: pipe", h->owner,
			    h->event);
			hooks_hook_free(h);
			return;
		}
		a.stdin_fd = in[0];
	}
	if (spawn_worker(&a, &r) == -1) {
		log_warn("hook for %s (%s): not run: fork", h->owner, h->event);
		if (in[0] != -1) {
			close(in[0]);
			close(in[1]);
		}
		hooks_hook_free(h);
		return;
	}
	if (in[0] != -1)
		close(in[0]);
	h->pid = r.pid;
	h->started_ms = util_now_ms();
	h->exec_errno = r.exec_errno;
	running[nrunning++] = h;
	tree_own_group(h->pid, hooks_reaped, h);
	hooks_io_start(h, in[1], r.out_fd, r.err_fd);
	if (h->exec_errno != 0)
		return;		/* it has exited 127: said when reaped */
	log_info("hook for %s (%s): %s started, pid %ld", h->owner, h->event,
	    h->argv[0], (long)h->pid);
	/* From now, not from the loop's cached time: never early. */
	(void)event_base_update_cache_time(hooks_base);
	tv.tv_sec = h->timeout_ms / 1000;
	tv.tv_usec = (h->timeout_ms % 1000) * 1000;
	if ((h->ev_timer = evtimer_new(hooks_base, hooks_timeout_cb, h)) == NULL ||
	    evtimer_add(h->ev_timer, &tv) == -1)
		fatalx("cannot arm a hook's timeout");
}

/* One line for its end, and hook.finished. */
static void
hooks_say_end(struct hook *h, int status)
{
	uint64_t	 ms = util_now_ms() - h->started_ms;
	const char	*outcome;
	json_t		*f;

	f = json_pack("{s:s,s:s,s:I}", "service", h->owner, "event", h->event,
	    "ms", (json_int_t)ms);
	json_object_set_new(f, "code", WIFEXITED(status) && h->exec_errno == 0 ?
	    json_integer(WEXITSTATUS(status)) : json_null());
	json_object_set_new(f, "signal", WIFSIGNALED(status) ?
	    json_string(util_signal_name(WTERMSIG(status))) : json_null());
	if (h->exec_errno != 0) {
		outcome = "exec_failed";
		log_warnx("hook for %s (%s): cannot run %s: %s", h->owner,
		    h->event, h->argv[0], strerror(h->exec_errno));
	} else if (h->timed_out) {
		outcome = "timeout";
		log_warnx("hook for %s (%s): timed out after %llu ms, killed",
		    h->owner, h->event, (unsigned long long)ms);
	} else if (h->stopped) {
		outcome = "stopped";
		log_info("hook for %s (%s): killed after %llu ms, warden is "
		    "stopping", h->owner, h->event, (unsigned long long)ms);
	} else if (WIFSIGNALED(status)) {
		outcome = "signal";
		log_warnx("hook for %s (%s): killed by SIG%s after %llu ms",
		    h->owner, h->event, util_signal_name(WTERMSIG(status)),
		    (unsigned long long)ms);
	} else {
		outcome = WEXITSTATUS(status) == 0 ? "ok" : "exit";
		log_at(WEXITSTATUS(status) == 0 ? LOG_LEVEL_INFO :
		    LOG_LEVEL_WARNING, "hook for %s (%s): exit %d after %llu ms",
		    h->owner, h->event, WEXITSTATUS(status),
		    (unsigned long long)ms);
	}
	json_object_set_new(f, "outcome", json_string(outcome));
	events_emit("hook.finished", f);
}

static void
hooks_reaped(pid_t pid, int status, void *arg)
{
	struct hook	*h = arg;
	size_t		 i;

	(void)pid;
	hooks_io_final(h);
	hooks_say_end(h, status);
	for (i = 0; i < nrunning; i++)
		if (running[i] == h) {
			running[i] = running[--nrunning];
			break;
		}
	hooks_hook_free(h);
	/* A daemon it started outside its group is ours now: stop it. */
	strays_look();
	while (nrunning < HOOKS_RUNNING && nqueued > 0) {
		h = queue[0];
		memmove(queue, queue + 1, --nqueued * sizeof(*queue));
		hooks_start(h);
	}
	if (on_idle_cb != NULL)
		on_idle_cb();
}

/* --- warden's end -------------------------------------------------------------- */

void
hooks_shutdown(void)
{
	size_t	i;

	closing = true;
	for (i = 0; i < nqueued; i++) {
		log_info("hook for %s (%s): not run, warden is stopping",
		    queue[i]->owner, queue[i]->event);
		hooks_hook_free(queue[i]);
	}
	nqueued = 0;
	for (i = 0; i < nrunning; i++) {
		running[i]->stopped = true;
		if (kill(-running[i]->pid, SIGKILL) == -1 && errno != ESRCH)
			log_warn("hook for %s: kill", running[i]->owner);
	}
}

size_t
hooks_pending(void)
{
	return nrunning + nqueued;
}

void
hooks_free(void)
{
	size_t	i;

	hooks_shutdown();
	/* Not reaped: SIGKILLed above, and reaped by whoever is left. */
	for (i = 0; i < nrunning; i++)
		hooks_hook_free(running[i]);
	nrunning = 0;
	for (i = 0; i < nowners; i++)
		free(owners[i].key);
	free(owners);
	owners = NULL;
	nowners = 0;
	on_idle_cb = NULL;
}
