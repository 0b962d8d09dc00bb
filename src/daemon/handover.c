/*
 * handover.c: the tree handed to the next image at a reexec (reexec.c).
 * tree_handover() describes every node (pids, pipes, timers as deadlines,
 * counts, a supervisor's restart operation and intensity) and the queues;
 * tree_adopt() puts that description onto the tree the same configuration
 * builds in the next image. A running warden of an earlier build hands
 * over in this format: its node fields and their order stay as they are.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "health-run.h"
#include "hooks.h"
#include "log.h"
#include "logs.h"
#include "readers.h"
#include "strays.h"
#include "tree-private.h"
#include "watchdog.h"
#include "util.h"

static int
handover_count_worker(struct node *n, void *arg)
{
	if (n->pid > 0)
		(*(size_t *)arg)++;
	return 0;
}

size_t
tree_worker_count(void)
{
	size_t	n = 0;

	if (tree.root != NULL)
		(void)tree_each_worker(tree.root, handover_count_worker, &n);
	return n;
}

const char *
tree_handover_blocked(void)
{
	if (tree.root == NULL || tree.shutting_down)
		return "warden is stopping";
	if (!tree.started)
		return "the initial start is not complete";
	if (tree.nretired > 0)
		return "a reload's old instances are still stopping";
	if (hooks_pending() > 0)
		return "failure hooks are running";
	return NULL;
}

/* A timer's deadline (ms, monotonic), or 0 when it is not armed. */
static json_int_t
handover_deadline(struct event *ev, uint64_t at)
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
 * A node in a handover: [name, "fields", partial stdout line (hex), reason
 * or null, [intensity stamps], partial stderr line (hex), status text,
 * its report socket and reads (readers.c) or null], the fields
 * integers separated by spaces in the order of this table, which also
 * bounds each: a compact form, as a thousand workers are written and read
 * while nothing else runs. Fields are only ever added at the end: an
 * image takes a description with fewer (an older image's), the missing
 * ones at their defaults, and a node of five elements (no stderr line).
 */
enum hf {
	HF_SUP, HF_STATE, HF_STOP_REASON, HF_WANT, HF_READY, HF_RECOVERING,
	HF_PENDING_START, HF_STARTS, HF_STARTED_AT, HF_READY_AT, HF_DOWN_SINCE,
	HF_LAST_RECOVERY, HF_HAS_EXIT, HF_EXIT_CODE, HF_EXIT_SIGNAL, HF_STREAK,
	HF_TIMER_AT, HF_OP_STARTED, HF_OP_PASSED,
	HF_PID, HF_OUT_FD, HF_READY_FD, HF_FAULT, HF_FAULT_TRIES, HF_KILLED_PID,
	HF_KILL_RECOVERING, HF_KILL_AT, HF_STOP_SIGNAL, HF_SHUTDOWN_MS,
	HF_OP_ACTIVE, HF_OP_INITIAL, HF_OP_GEN, HF_OP_LO, HF_OP_PHASE,
	HF_OP_DELAY, HF_ERR_FD, HF_LOG_DROPPED, HF_WD_AT, HF_WD_USEC,
	/* the metrics' restarts by cause, in the order of enum down_cause */
	HF_DOWN_CAUSE, HF_DOWN_SINCE_US, HF_RESTARTS_CRASH, HF_RESTARTS_EXIT,
	HF_RESTARTS_READY_TIMEOUT, HF_RESTARTS_UNHEALTHY, HF_RESTARTS_WATCHDOG,
	HF_RESTARTS_OPERATOR, HF_RESTARTS_SUPERVISOR, HF_RESTARTS_START_FAILED,
	HF_N
};

#define HF_U32	((json_int_t)UINT32_MAX)
#define HF_I64	((json_int_t)INT64_MAX)

static const struct {
	const char	*name;
	json_int_t	 lo, hi;
	json_int_t	 dflt;		/* when an older image did not hand it over */
} hf_fields[HF_N] = {
	[HF_SUP] =		{ "sup", 0, 1, 0 },
	[HF_STATE] =		{ "state", SVC_STOPPED, SVC_FAILED, 0 },
	[HF_STOP_REASON] =	{ "stop_reason", STOP_NONE, STOP_WATCHDOG, 0 },
	[HF_WANT] =		{ "want", 0, 1, 0 },
	[HF_READY] =		{ "ready", 0, 1, 0 },
	[HF_RECOVERING] =	{ "recovering", 0, 1, 0 },
	[HF_PENDING_START] =	{ "pending_start", 0, 1, 0 },
	[HF_STARTS] =		{ "starts", 0, HF_U32, 0 },
	[HF_STARTED_AT] =	{ "started_at", 0, HF_I64, 0 },
	[HF_READY_AT] =		{ "ready_at", 0, HF_I64, 0 },
	[HF_DOWN_SINCE] =	{ "down_since", 0, HF_I64, 0 },
	[HF_LAST_RECOVERY] =	{ "last_recovery_ms", -1, HF_I64, 0 },
	[HF_HAS_EXIT] =		{ "has_exit", 0, 1, 0 },
	[HF_EXIT_CODE] =	{ "exit_code", INT32_MIN, INT32_MAX, 0 },
	[HF_EXIT_SIGNAL] =	{ "exit_signal", 0, NSIG - 1, 0 },
	[HF_STREAK] =		{ "streak", 0, HF_U32, 0 },
	[HF_TIMER_AT] =		{ "timer_at", 0, HF_I64, 0 },
	[HF_OP_STARTED] =	{ "op_started", 0, HF_U32, 0 },
	[HF_OP_PASSED] =	{ "op_passed", 0, HF_U32, 0 },
	[HF_PID] =		{ "pid", -1, INT32_MAX, 0 },
	[HF_OUT_FD] =		{ "out_fd", -1, INT32_MAX, 0 },
	[HF_READY_FD] =		{ "ready_fd", -1, INT32_MAX, 0 },
	[HF_FAULT] =		{ "fault", FAULT_NONE, FAULT_RESOURCE, 0 },
	[HF_FAULT_TRIES] =	{ "fault_tries", 0, HF_U32, 0 },
	[HF_KILLED_PID] =	{ "killed_pid", -1, INT32_MAX, 0 },
	[HF_KILL_RECOVERING] =	{ "kill_recovering", 0, 1, 0 },
	[HF_KILL_AT] =		{ "kill_at", 0, HF_I64, 0 },
	[HF_STOP_SIGNAL] =	{ "stop_signal", 0, NSIG - 1, 0 },
	[HF_SHUTDOWN_MS] =	{ "shutdown_ms", INT32_MIN, INT32_MAX, 0 },
	[HF_OP_ACTIVE] =	{ "op_active", 0, 1, 0 },
	[HF_OP_INITIAL] =	{ "op_initial", 0, 1, 0 },
	[HF_OP_GEN] =		{ "op_gen", 0, HF_U32, 0 },
	[HF_OP_LO] =		{ "op_lo", 0, HF_U32, 0 },
	[HF_OP_PHASE] =		{ "op_phase", OP_STOP, OP_START, 0 },
	[HF_OP_DELAY] =		{ "op_delay", 0, HF_U32, 0 },
	[HF_ERR_FD] =		{ "err_fd", -1, INT32_MAX, -1 },
	[HF_LOG_DROPPED] =	{ "log_dropped", 0, HF_I64, 0 },
	[HF_WD_AT] =		{ "watchdog_at", 0, HF_I64, 0 },
	[HF_WD_USEC] =		{ "watchdog_usec", 0, HF_I64, 0 },
	[HF_DOWN_CAUSE] =	{ "down_cause", CAUSE_NONE, CAUSE_N - 1, 0 },
	[HF_DOWN_SINCE_US] =	{ "down_since_us", 0, HF_I64, 0 },
	[HF_RESTARTS_CRASH] =	{ "restarts_crash", 0, HF_I64, 0 },
	[HF_RESTARTS_EXIT] =	{ "restarts_exit", 0, HF_I64, 0 },
	[HF_RESTARTS_READY_TIMEOUT] = { "restarts_ready_timeout", 0, HF_I64, 0 },
	[HF_RESTARTS_UNHEALTHY] = { "restarts_unhealthy", 0, HF_I64, 0 },
	[HF_RESTARTS_WATCHDOG] = { "restarts_watchdog", 0, HF_I64, 0 },
	[HF_RESTARTS_OPERATOR] = { "restarts_operator", 0, HF_I64, 0 },
	[HF_RESTARTS_SUPERVISOR] = { "restarts_supervisor", 0, HF_I64, 0 },
	[HF_RESTARTS_START_FAILED] = { "restarts_start_failed", 0, HF_I64, 0 },
};

_Static_assert(HF_RESTARTS_START_FAILED - HF_RESTARTS_CRASH ==
    CAUSE_START_FAILED - CAUSE_CRASH, "a restart field for each cause");

static json_t *
handover_fields(void)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < HF_N; i++)
		json_array_append_new(a, json_string(hf_fields[i].name));
	return a;
}

/*
 * How many of this table's fields a description has: they must be its
 * first ones, in order (an older image hands over fewer). 0: not these.
 */
static size_t
handover_fields_known(const json_t *names)
{
	size_t	i;

	if (!json_is_array(names) || json_array_size(names) == 0 ||
	    json_array_size(names) > HF_N)
		return 0;
	for (i = 0; i < json_array_size(names); i++)
		if (!json_is_string(json_array_get(names, i)) ||
		    strcmp(json_string_value(json_array_get(names, i)),
		    hf_fields[i].name) != 0)
			return 0;
	return i;
}

/* A stream's partial line, in hex. */
static json_t *
handover_line(const struct outpipe *o)
{
	char	*hex = util_hex_encode(o->line != NULL ? o->line : "", o->linelen);
	json_t	*j = json_string(hex);

	free(hex);
	return j;
}

static json_t *
handover_node(const struct node *n, json_t *fds)
{
	json_int_t	 f[HF_N];
	json_t		*d;
	char		 ints[HF_N * 21];
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
	f[HF_TIMER_AT] = handover_deadline(n->timer, n->timer_at);
	f[HF_OP_STARTED] = n->op_started;
	f[HF_OP_PASSED] = n->op_passed;
	f[HF_DOWN_CAUSE] = n->down_cause;
	f[HF_DOWN_SINCE_US] = (json_int_t)n->down_since_us;
	for (i = CAUSE_CRASH; i < CAUSE_N; i++)
		f[HF_RESTARTS_CRASH + i - CAUSE_CRASH] =
		    (json_int_t)n->restarts_by[i];
	if (n->is_sup) {
		f[HF_OP_ACTIVE] = n->op_active;
		f[HF_OP_INITIAL] = n->op_initial;
		f[HF_OP_GEN] = n->op_gen;
		f[HF_OP_LO] = (json_int_t)n->op_lo;
		f[HF_OP_PHASE] = n->op_phase;
		f[HF_OP_DELAY] = n->op_delay;
	} else {
		f[HF_PID] = n->pid;
		f[HF_OUT_FD] = n->out[LOGRING_STDOUT].fd;
		f[HF_ERR_FD] = n->out[LOGRING_STDERR].fd;
		f[HF_LOG_DROPPED] = (json_int_t)n->log_dropped;
		f[HF_READY_FD] = n->ev_ready != NULL ? n->ready_fd : -1;
		f[HF_FAULT] = n->fault;
		f[HF_FAULT_TRIES] = n->fault_tries;
		f[HF_KILLED_PID] = n->killed_pid;
		f[HF_KILL_RECOVERING] = n->kill_recovering;
		f[HF_KILL_AT] = handover_deadline(n->kill_timer, n->kill_at);
		f[HF_STOP_SIGNAL] = n->stop_signal;
		f[HF_SHUTDOWN_MS] = n->shutdown_ms;
		f[HF_WD_AT] = (json_int_t)n->wd_at;
		f[HF_WD_USEC] = (json_int_t)n->wd_usec;
		if (f[HF_OUT_FD] >= 0)
			json_array_append_new(fds, json_integer(f[HF_OUT_FD]));
		if (f[HF_ERR_FD] >= 0)
			json_array_append_new(fds, json_integer(f[HF_ERR_FD]));
		if (f[HF_READY_FD] >= 0)
			json_array_append_new(fds, json_integer(f[HF_READY_FD]));
	}
	for (i = 0, len = 0; i < HF_N && len < sizeof(ints); i++)
		len += (size_t)snprintf(ints + len, sizeof(ints) - len, "%s%lld",
		    i > 0 ? " " : "", (long long)f[i]);
	d = json_pack("[s,s,o,o,o,o,o,o]", n->name, ints,
	    handover_line(&n->out[LOGRING_STDOUT]),
	    n->reason != NULL ? json_string(n->reason) : json_null(),
	    n->is_sup ? handover_intensity(&n->intensity) : json_array(),
	    handover_line(&n->out[LOGRING_STDERR]),
	    n->status_text != NULL ? json_string(n->status_text) : json_null(),
	    n->is_sup ? json_null() : readers_handover(n, fds));
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

	handover_nodes(tree.root, nodes, fds);
	for (i = 0; i < tree.nkickq; i++)
		json_array_append_new(kicks, json_string(tree.kickq[i]->name));
	return json_pack("{s:o,s:o,s:o,s:[o,o],s:o,s:I,s:o}", "fields",
	    handover_fields(), "nodes", nodes, "worker_fds", fds, "spawnq",
	    handover_spawnq(&batch_spawnq[0]), handover_spawnq(&batch_spawnq[1]), "kicks",
	    kicks, "generation", (json_int_t)tree.generation, "logs",
	    logs_handover());
}

static void
handover_arm(struct event *ev, uint64_t at, uint64_t now)
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
handover_watch(struct node *n, int fd, struct event **ev,
    void (*cb)(evutil_socket_t, short, void *), void *arg, char *err,
    size_t errlen)
{
	if ((*ev = event_new(tree.base, fd, EV_READ | EV_PERSIST, cb, arg)) == NULL)
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

/* A stream's partial line handed over (hex; NULL: none, an older image's). */
static int
handover_take_line(struct outpipe *o, const char *hex)
{
	char	*buf;
	size_t	 len;

	if (hex == NULL)
		return 0;
	if (util_hex_decode(hex, TREE_LINE_MAX, &buf, &len) == -1)
		return -1;
	/* Most have no partial line: no buffer until output comes. */
	if (len > 0) {
		if (o->line == NULL)
			o->line = xmalloc(TREE_LINE_MAX);
		memcpy(o->line, buf, len);
	}
	o->linelen = len;
	free(buf);
	return 0;
}

/* A stream's pipe handed over, read as the instance's. */
static int
handover_take_stream(struct node *n, int stream, json_int_t fd, char *err,
    size_t errlen)
{
	struct outpipe	*o = &n->out[stream];

	if (fd < 0)
		return 0;
	o->fd = (int)fd;
	o->pid = n->pid;
	return handover_watch(n, o->fd, &o->ev, pipes_output_cb, o, err, errlen);
}

static int
handover_take_worker(struct node *n, const json_int_t *f, const json_t *d,
    uint64_t now, char *err, size_t errlen)
{
	const json_t	*reason = json_array_get(d, 3);
	const json_t	*status = json_array_get(d, 6);

	if (handover_take_line(&n->out[LOGRING_STDOUT],
	    json_string_value(json_array_get(d, 2))) == -1 ||
	    handover_take_line(&n->out[LOGRING_STDERR],
	    json_string_value(json_array_get(d, 5))) == -1 ||
	    (json_array_size(d) > 5 && !json_is_string(json_array_get(d, 5))) ||
	    f[HF_STOP_SIGNAL] == 0 || (!json_is_null(reason) &&
	    !json_is_string(reason)) || (status != NULL &&
	    !json_is_null(status) && !json_is_string(status))) {
		snprintf(err, errlen, "tree: %s: bad worker fields", n->name);
		return -1;
	}
	n->log_dropped = (uint64_t)f[HF_LOG_DROPPED];
	free(n->reason);
	n->reason = json_is_string(reason) ?
	    xstrdup(json_string_value(reason)) : NULL;
	free(n->status_text);
	n->status_text = json_is_string(status) ?
	    xstrdup(json_string_value(status)) : NULL;
	n->fault = (enum start_fault)f[HF_FAULT];
	n->fault_tries = (unsigned)f[HF_FAULT_TRIES];
	n->stop_signal = (int)f[HF_STOP_SIGNAL];
	n->shutdown_ms = (int)f[HF_SHUTDOWN_MS];
	n->pid = f[HF_PID] > 0 ? (pid_t)f[HF_PID] : -1;
	if (n->pid > 0)
		pidmap_put(&tree.live_pids, n->pid, n);
	n->wd_usec = (uint64_t)f[HF_WD_USEC];
	if (f[HF_WD_AT] > 0)
		watchdog_resume(n, (uint64_t)f[HF_WD_AT], now);
	if (handover_take_stream(n, LOGRING_STDOUT, f[HF_OUT_FD], err,
	    errlen) == -1 || handover_take_stream(n, LOGRING_STDERR,
	    f[HF_ERR_FD], err, errlen) == -1)
		return -1;
	if (f[HF_READY_FD] >= 0) {
		n->ready_fd = (int)f[HF_READY_FD];
		if (handover_watch(n, n->ready_fd, &n->ev_ready, pipes_ready_cb,
		    n, err, errlen) == -1)
			return -1;
	}
	n->killed_pid = (pid_t)f[HF_KILLED_PID];
	n->kill_recovering = f[HF_KILL_RECOVERING] != 0;
	if (f[HF_KILL_AT] > 0) {
		if ((n->kill_timer = evtimer_new(tree.base, worker_kill_timer_cb, n)) == NULL)
			fatalx("%s: cannot create the kill timer", n->name);
		n->kill_at = (uint64_t)f[HF_KILL_AT];
		handover_arm(n->kill_timer, n->kill_at, now);
	}
	return 0;
}

static int
handover_take_sup(struct node *n, const json_int_t *f, const json_t *stamps,
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
handover_parse_fields(const char *name, const char *p, size_t nf, json_int_t *f,
    char *err, size_t errlen)
{
	char		*end;
	long long	 v;
	size_t		 i;

	for (i = 0; i < nf; i++) {
		errno = 0;
		v = strtoll(p, &end, 10);
		if (end == p || errno != 0 || v < hf_fields[i].lo ||
		    v > hf_fields[i].hi || (*end != ' ' && *end != '\0') ||
		    (*end == '\0') != (i == nf - 1)) {
			snprintf(err, errlen, "tree: %s: %s: want an integer in "
			    "%lld..%lld, then %s", name, hf_fields[i].name,
			    (long long)hf_fields[i].lo, (long long)hf_fields[i].hi,
			    i == nf - 1 ? "the end" : "a space");
			return -1;
		}
		f[i] = v;
		p = end + (*end == ' ');
	}
	for (; i < HF_N; i++)
		f[i] = hf_fields[i].dflt;
	return 0;
}

static int
handover_take_node(struct node *n, const json_t *d, size_t nf, uint64_t now,
    char *err, size_t errlen)
{
	json_int_t	 f[HF_N];
	size_t		 i;
	const char	*name = json_string_value(json_array_get(d, 0));
	const char	*ints = json_string_value(json_array_get(d, 1));
	const char	*line = json_string_value(json_array_get(d, 2));

	if (!json_is_array(d) || json_array_size(d) < 5 ||
	    json_array_size(d) > 8 || name == NULL || ints == NULL ||
	    line == NULL) {
		snprintf(err, errlen, "tree: a node: want [name, fields, line, "
		    "reason, intensity, stderr line, status text, reports]");
		return -1;
	}
	if (handover_parse_fields(name, ints, nf, f, err, errlen) == -1)
		return -1;
	/* In the order the same configuration builds the tree: depth first. */
	if (strcmp(n->name, name) != 0 || n->is_sup != (f[HF_SUP] != 0)) {
		snprintf(err, errlen, "tree: %s: not the %s this tree has there "
		    "(%s)", name, f[HF_SUP] ? "supervisor" : "worker", n->name);
		return -1;
	}
	if (n->is_sup) {
		n->state = (enum svc_state)f[HF_STATE];
		n->stop_reason = (enum stop_reason)f[HF_STOP_REASON];
	} else {
		worker_restore(n, (enum svc_state)f[HF_STATE],
		    (enum stop_reason)f[HF_STOP_REASON]);
	}
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
	n->down_cause = (enum down_cause)f[HF_DOWN_CAUSE];
	n->down_since_us = (uint64_t)f[HF_DOWN_SINCE_US];
	for (i = CAUSE_CRASH; i < CAUSE_N; i++)
		n->restarts_by[i] = (uint64_t)f[HF_RESTARTS_CRASH + i - CAUSE_CRASH];
	if (f[HF_TIMER_AT] > 0) {
		n->timer_at = (uint64_t)f[HF_TIMER_AT];
		handover_arm(n->timer, n->timer_at, now);
	}
	if (n->is_sup)
		return handover_take_sup(n, f, json_array_get(d, 4), err, errlen);
	if (handover_take_worker(n, f, d, now, err, errlen) == -1 ||
	    readers_adopt(n, json_array_get(d, 7), err, errlen) == -1)
		return -1;
	/* Its probe's rounds begin again from its start (health-run.h). */
	health_sync(n);
	return 0;
}

static size_t
handover_node_count(const struct node *n)
{
	size_t	c = 1, i;

	for (i = 0; i < n->nkids; i++)
		c += handover_node_count(n->kids[i]);
	return c;
}

/* The nodes depth first, parents before children, as tree_handover() lists them. */
static void
handover_node_order(struct node *n, struct node **order, size_t *k)
{
	size_t	i;

	order[(*k)++] = n;
	for (i = 0; i < n->nkids; i++)
		handover_node_order(n->kids[i], order, k);
}

/* Names that must be this tree's nodes, of the kind wanted. */
static struct node *
handover_find(const json_t *v, bool sup)
{
	struct node	*n;

	if (!json_is_string(v) || (n = tree_find(json_string_value(v))) == NULL ||
	    n->is_sup != sup)
		return NULL;
	return n;
}

static int
handover_take_queues(const json_t *d, char *err, size_t errlen)
{
	json_t		*q, *kicks = json_object_get(d, "kicks"), *v;
	struct node	*n;
	size_t		 i, k;

	for (k = 0; k < nitems(batch_spawnq); k++) {
		q = json_array_get(json_object_get(d, "spawnq"), k);
		if (!json_is_array(q))
			goto bad;
		json_array_foreach(q, i, v) {
			if ((n = handover_find(v, false)) == NULL || n->spawn_queued)
				goto bad;
			n->spawn_queued = false;
			/* Queued again in the same order, behind nothing. */
			(void)batch_spawn_now(n);
		}
	}
	if (!json_is_array(kicks))
		goto bad;
	json_array_foreach(kicks, i, v) {
		if ((n = handover_find(v, true)) == NULL)
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
	json_t		*nodes = json_object_get(d, "nodes"), *v;
	struct node	**order;
	json_int_t	 gen;
	uint64_t	 now = util_now_ms();
	size_t		 i, k, nf;

	if (!json_is_array(nodes) || json_unpack((json_t *)d, "{s:I}",
	    "generation", &gen) == -1 || gen < 0) {
		snprintf(err, errlen, "tree: want {fields, nodes, worker_fds, "
		    "spawnq, kicks, generation}");
		return -1;
	}
	if ((nf = handover_fields_known(json_object_get(d, "fields"))) == 0) {
		snprintf(err, errlen, "tree: the fields of a node are not these");
		return -1;
	}
	if (json_array_size(nodes) != handover_node_count(tree.root)) {
		snprintf(err, errlen, "tree: %zu nodes handed over for a tree of %zu",
		    json_array_size(nodes), handover_node_count(tree.root));
		return -1;
	}
	order = xcalloc(json_array_size(nodes), sizeof(*order));
	k = 0;
	handover_node_order(tree.root, order, &k);
	json_array_foreach(nodes, i, v)
		if (handover_take_node(order[i], v, nf, now, err, errlen) == -1) {
			free(order);
			return -1;
		}
	free(order);
	if (logs_adopt(json_object_get(d, "logs"), err, errlen) == -1)
		return -1;
	tree.generation = (uint64_t)gen + 1;
	tree.started = true;
	/* The forks the last image deferred wait in this one's queues. */
	batch_hold();
	if (handover_take_queues(d, err, errlen) == -1)
		return -1;
	batch_begin();
	/*
	 * Children that exited while the binary was being replaced are
	 * reaped in the loop's first turn, once clients are back to hear of it.
	 */
	batch_reap_later();
	strays_look();
	return 0;
}
