/*
 * metrics.c: warden's metrics (see metrics-daemon.h), collected at each
 * scrape and written family by family, every sample of a family together.
 * Services are labelled by name (names are unique in the tree), as status
 * and every method name them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "flagsvc.h"
#include "methods.h"
#include "metrics-daemon.h"
#include "procinfo.h"
#include "tree.h"
#include "util.h"
#include "version.h"

/* A supervisor restarts in about a millisecond: the buckets start below it. */
static const double metrics_recovery_bounds[] = { 0.0005, 0.001, 0.0025,
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };
static struct metrics_buckets	metrics_recovery;

static const struct metrics_buckets *
metrics_recovery_buckets(void)
{
	if (metrics_recovery.n == 0)
		metrics_buckets_init(&metrics_recovery, metrics_recovery_bounds,
		    nitems(metrics_recovery_bounds));
	return &metrics_recovery;
}

/* --- counted as it happens ------------------------------------------------------ */

void
metrics_node_down(struct node *n)
{
	uint64_t	now = util_now_us();

	n->down_since = now / 1000;
	n->down_since_us = now;
	n->rec_started = false;
}

/*
 * When the node went down, in us. A worker's down_since is only ever set
 * with it (metrics_node_down); an older image hands over none.
 */
static uint64_t
metrics_down_us(const struct node *n)
{
	return n->down_since_us != 0 ? n->down_since_us : n->down_since * 1000;
}

static void
metrics_node_observe(struct node *n, struct metrics_hist *h)
{
	uint64_t	now = util_now_us(), since = metrics_down_us(n);

	if (n->down_since == 0)
		return;
	metrics_hist_observe(h, metrics_recovery_buckets(),
	    (double)(now > since ? now - since : 0) / 1e6);
}

/* Every start after the first is a restart (status' count): under its cause. */
void
metrics_node_spawned(struct node *n)
{
	if (n->starts <= 1)
		return;
	n->restarts_by[n->down_cause != CAUSE_NONE ? n->down_cause :
	    CAUSE_OPERATOR]++;
}

void
metrics_node_started(struct node *n)
{
	if (!n->recovering || n->rec_started)
		return;
	n->rec_started = true;
	metrics_node_observe(n, &n->rec_started_h);
}

void
metrics_node_ready(struct node *n)
{
	metrics_node_observe(n, &n->rec_ready_h);
}

/* --- the families ------------------------------------------------------------------ */

struct scrape {
	struct metrics_buf	 b;
	uint64_t		 now_ms;
};

typedef void	(*metrics_node_fn)(struct scrape *, const struct node *);

/* fn for each worker (sups false) or each supervisor, parents first. */
static void
metrics_walk(struct scrape *s, const struct node *n, bool sups,
    metrics_node_fn fn)
{
	size_t	i;

	if (n->is_sup == sups)
		fn(s, n);
	for (i = 0; i < n->nkids; i++)
		metrics_walk(s, n->kids[i], sups, fn);
}

static void
metrics_family_walk(struct scrape *s, const char *name, enum metrics_type t,
    const char *help, bool sups, metrics_node_fn fn)
{
	metrics_family(&s->b, name, t, help);
	if (tree_root() != NULL)
		metrics_walk(s, tree_root(), sups, fn);
}

/* name{label="node's name"} */
static void
metrics_node_sample(struct scrape *s, const char *name, const char *label,
    const struct node *n)
{
	metrics_sample(&s->b, name, NULL);
	metrics_label(&s->b, label, n->name);
}

static void
metrics_svc_up(struct scrape *s, const struct node *n)
{
	enum svc_state	st = tree_service_state(n);

	metrics_node_sample(s, "warden_service_up", "service", n);
	metrics_value_u64(&s->b, st == SVC_RUNNING && n->state == st && n->ready);
}

static void
metrics_svc_state(struct scrape *s, const struct node *n)
{
	enum svc_state	st = tree_service_state(n);
	size_t		at = s->b.len, len;
	int		i;

	metrics_node_sample(s, "warden_service_state", "service", n);
	len = s->b.len - at;
	for (i = 0; i < SVC_NSTATES; i++) {
		if (i > 0)
			metrics_sample_again(&s->b, at, len);
		metrics_label(&s->b, "state", tree_state_name((enum svc_state)i));
		metrics_value_u64(&s->b, (int)st == i);
	}
}

static void
metrics_svc_restarts(struct scrape *s, const struct node *n)
{
	size_t	at = s->b.len, len;
	int	c;

	metrics_node_sample(s, "warden_service_restarts_total", "service", n);
	len = s->b.len - at;
	for (c = CAUSE_NONE + 1; c < CAUSE_N; c++) {
		if (c > CAUSE_NONE + 1)
			metrics_sample_again(&s->b, at, len);
		metrics_label(&s->b, "reason", downcause_name((enum down_cause)c));
		metrics_value_u64(&s->b, n->restarts_by[c]);
	}
}

static void
metrics_svc_uptime(struct scrape *s, const struct node *n)
{
	metrics_node_sample(s, "warden_service_uptime_seconds", "service", n);
	metrics_value(&s->b, n->pid > 0 && s->now_ms > n->started_at ?
	    (double)(s->now_ms - n->started_at) / 1000.0 : 0);
}

/* As status' last_exit: a code, or a signal; neither before a first exit. */
static void
metrics_svc_exit_code(struct scrape *s, const struct node *n)
{
	if (!n->has_exit || n->exit_signal != 0)
		return;
	metrics_node_sample(s, "warden_service_last_exit_code", "service", n);
	metrics_value_i64(&s->b, n->exit_code);
}

static void
metrics_svc_exit_signal(struct scrape *s, const struct node *n)
{
	if (!n->has_exit || n->exit_signal == 0)
		return;
	metrics_node_sample(s, "warden_service_last_exit_signal", "service", n);
	metrics_label(&s->b, "signal", util_signal_name(n->exit_signal));
	metrics_value_u64(&s->b, (uint64_t)n->exit_signal);
}

static void
metrics_svc_probes(struct scrape *s, const struct node *n)
{
	metrics_node_sample(s, "warden_service_health_check_failures_total",
	    "service", n);
	metrics_value_u64(&s->b, n->probe_failures);
}

static void
metrics_svc_hist(struct scrape *s, const struct node *n, const char *name,
    const struct metrics_hist *h)
{
	const char	*labels[2] = { "service", n->name };

	metrics_histogram(&s->b, name, labels, 1, metrics_recovery_buckets(), h);
}

static void
metrics_svc_rec_started(struct scrape *s, const struct node *n)
{
	metrics_svc_hist(s, n, "warden_service_recovery_started_seconds",
	    &n->rec_started_h);
}

static void
metrics_svc_rec_ready(struct scrape *s, const struct node *n)
{
	metrics_svc_hist(s, n, "warden_service_recovery_ready_seconds",
	    &n->rec_ready_h);
}

static void
metrics_sup_window(struct scrape *s, const struct node *n)
{
	metrics_node_sample(s, "warden_supervisor_restarts_in_window",
	    "supervisor", n);
	metrics_value_u64(&s->b, intensity_count(&n->intensity,
	    n->conf->max_seconds, s->now_ms));
}

static void
metrics_sup_max(struct scrape *s, const struct node *n)
{
	metrics_node_sample(s, "warden_supervisor_max_restarts", "supervisor", n);
	metrics_value_u64(&s->b, (uint64_t)n->conf->max_restarts);
}

static void
metrics_sup_seconds(struct scrape *s, const struct node *n)
{
	metrics_node_sample(s, "warden_supervisor_max_seconds", "supervisor", n);
	metrics_value_u64(&s->b, (uint64_t)n->conf->max_seconds);
}

static const struct {
	const char		*name;
	enum metrics_type	 type;
	bool			 sups;
	metrics_node_fn		 fn;
	const char		*help;
} metrics_tree[] = {
	{ "warden_service_up", METRICS_GAUGE, false, metrics_svc_up,
	    "1 when the service is running and ready, else 0." },
	{ "warden_service_state", METRICS_GAUGE, false, metrics_svc_state,
	    "1 for the state the service is in, 0 for the five others." },
	{ "warden_service_restarts_total", METRICS_COUNTER, false,
	    metrics_svc_restarts, "Starts after the first, by why the service "
	    "went down before." },
	{ "warden_service_uptime_seconds", METRICS_GAUGE, false,
	    metrics_svc_uptime, "How long its current process has run; 0 when "
	    "none runs." },
	{ "warden_service_last_exit_code", METRICS_GAUGE, false,
	    metrics_svc_exit_code, "The exit code of its last process, when "
	    "that exited with a code." },
	{ "warden_service_last_exit_signal", METRICS_GAUGE, false,
	    metrics_svc_exit_signal, "The signal that ended its last process, "
	    "when one did." },
	{ "warden_service_health_check_failures_total", METRICS_COUNTER, false,
	    metrics_svc_probes, "Liveness probes of the service that failed." },
	{ "warden_service_recovery_started_seconds", METRICS_HISTOGRAM, false,
	    metrics_svc_rec_started, "From going down unexpectedly to its new "
	    "process started." },
	{ "warden_service_recovery_ready_seconds", METRICS_HISTOGRAM, false,
	    metrics_svc_rec_ready, "From going down unexpectedly to ready "
	    "again." },
	{ "warden_supervisor_restarts_in_window", METRICS_GAUGE, true,
	    metrics_sup_window, "Restarts caused by failures in the last "
	    "max_seconds: the intensity used." },
	{ "warden_supervisor_max_restarts", METRICS_GAUGE, true,
	    metrics_sup_max, "The restarts the supervisor allows in max_seconds." },
	{ "warden_supervisor_max_seconds", METRICS_GAUGE, true,
	    metrics_sup_seconds, "The window of the supervisor's intensity." },
};

static void
metrics_one(struct scrape *s, const char *name, enum metrics_type t,
    const char *help, double v)
{
	metrics_family(&s->b, name, t, help);
	metrics_sample(&s->b, name, NULL);
	metrics_value(&s->b, v);
}

static void
metrics_flags(struct scrape *s)
{
	const struct flags	*fs = flagsvc_flags();
	size_t			 i;

	metrics_family(&s->b, "warden_flag_value", METRICS_GAUGE,
	    "A flag's value: 0 off, 100 on, between a rollout percentage.");
	for (i = 0; fs != NULL && i < fs->nflags; i++) {
		metrics_sample(&s->b, "warden_flag_value", NULL);
		metrics_label(&s->b, "flag", fs->flag[i].name);
		metrics_value_i64(&s->b, fs->flag[i].value);
	}
	metrics_one(s, "warden_stage", METRICS_GAUGE, "The stage in force.",
	    flagsvc_stage());
	metrics_one(s, "warden_table_repairs_total", METRICS_COUNTER,
	    "Repairs of the shared table after it was deleted or damaged.",
	    flagsvc_repairs());
	metrics_one(s, "warden_guard_rollbacks_total", METRICS_COUNTER,
	    "Stages the guard rolled back as restarts piled up.",
	    (double)flagsvc_guard_rollbacks());
	metrics_one(s, "warden_journal_syncs_total", METRICS_COUNTER,
	    "fdatasyncs of the flag journal: one per group of changes.",
	    (double)flagsvc_journal_syncs());
}

static void
metrics_requests(struct scrape *s)
{
	const struct method	*m;
	uint64_t		 count;
	size_t			 i;

	metrics_family(&s->b, "warden_control_requests_total", METRICS_COUNTER,
	    "Control requests by method; \"other\": unknown or invalid ones.");
	for (i = 0; (m = methods_row(i, &count)) != NULL; i++) {
		metrics_sample(&s->b, "warden_control_requests_total", NULL);
		metrics_label(&s->b, "method", m->name);
		metrics_value_u64(&s->b, count);
	}
	metrics_sample(&s->b, "warden_control_requests_total", NULL);
	metrics_label(&s->b, "method", "other");
	metrics_value_u64(&s->b, methods_other());
}

static void
metrics_process(struct scrape *s)
{
	struct proc_self	ps;

	if (proc_self(&ps) == -1)
		return;
	metrics_one(s, "process_cpu_seconds_total", METRICS_COUNTER,
	    "Total user and system CPU time spent in seconds.", ps.cpu_seconds);
	metrics_one(s, "process_resident_memory_bytes", METRICS_GAUGE,
	    "Resident memory size in bytes.", (double)ps.resident_bytes);
	metrics_one(s, "process_virtual_memory_bytes", METRICS_GAUGE,
	    "Virtual memory size in bytes.", (double)ps.virtual_bytes);
	metrics_one(s, "process_open_fds", METRICS_GAUGE,
	    "Number of open file descriptors.", (double)ps.open_fds);
	if (ps.max_fds > 0)
		metrics_one(s, "process_max_fds", METRICS_GAUGE,
		    "Maximum number of open file descriptors.",
		    (double)ps.max_fds);
	metrics_one(s, "process_start_time_seconds", METRICS_GAUGE,
	    "Start time of the process since unix epoch in seconds.",
	    ps.start_time);
}

char *
metrics_text(size_t *len)
{
	static size_t	last;	/* the last text's size: the next one's buffer */
	struct scrape	s;
	size_t		i;
	char		*text;

	metrics_buf_init(&s.b);
	metrics_buf_reserve(&s.b, last + last / 8);
	s.now_ms = util_now_ms();
	metrics_family(&s.b, "warden_build_info", METRICS_GAUGE,
	    "Always 1: the version of warden that answers.");
	metrics_sample(&s.b, "warden_build_info", NULL);
	metrics_label(&s.b, "version", WARDEN_VERSION);
	metrics_value_u64(&s.b, 1);
	for (i = 0; i < nitems(metrics_tree); i++)
		metrics_family_walk(&s, metrics_tree[i].name,
		    metrics_tree[i].type, metrics_tree[i].help,
		    metrics_tree[i].sups, metrics_tree[i].fn);
	metrics_flags(&s);
	metrics_requests(&s);
	metrics_process(&s);
	text = metrics_buf_take(&s.b, &last);
	if (len != NULL)
		*len = last;
	return text;
}
