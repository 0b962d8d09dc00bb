/*
 * wardenctl-drill-run.c: the drill runner: its connections to warden,
 * the signals that cut it short, and the phases of a drill.
 *
 * A drill keeps two connections (wardenctl-conn.c): one for its calls,
 * and one subscribed to every event before the first step and read
 * whenever the other waits, so that warden never finds it a slow
 * subscriber and the measurements see every restart. It makes its own
 * calls rather than through ctl_call because it sends batches, keeps
 * error answers as step failures instead of printing them, and polls
 * both connections at once. SIGINT and SIGTERM are blocked except inside
 * that poll, so a signal aborts the step in progress at a known point;
 * the rollback then runs with them held.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drill.h"
#include "log.h"
#include "util.h"
#include "wardenctl.h"
#include "wardenctl-conn.h"
#include "wardenctl-drill.h"

volatile sig_atomic_t	drill_signal;
static sigset_t		drill_pollmask;	/* signals let through */

static void
drill_on_signal(int sig)
{
	drill_signal = sig;
}

void
drill_signals(void)
{
	struct sigaction	sa;
	sigset_t		block, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = drill_on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the poll is to return EINTR. */
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		fatal("sigaction");
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, &old) == -1)
		fatal("sigprocmask");
	drill_pollmask = old;
	sigdelset(&drill_pollmask, SIGINT);
	sigdelset(&drill_pollmask, SIGTERM);
}

/* Now, in ms on the monotonic clock warden's events are stamped with. */
double
drill_now(void)
{
	return (double)util_now_us() / 1000.0;
}

/* A request of the next id; params is the caller's still (NULL: none). */
json_t *
runner_request(struct runner *r, const char *method, json_t *params)
{
	return conn_request(++r->next_id, method, json_incref(params));
}

static void
runner_events_lost(struct runner *r)
{
	conn_close(&r->events);
	r->rep->events_lost = true;
}

/* Has warden reported the exit of every process a step killed? */
static void
runner_saw_exit(struct runner *r, json_t *ev)
{
	json_t	*k;
	size_t	 i;

	json_array_foreach(r->unexited, i, k)
		if (json_equal(json_object_get(k, "pid"),
		    json_object_get(ev, "pid"))) {
			(void)json_array_remove(r->unexited, i);
			return;
		}
}

/* Take in the events that have arrived whole. */
static void
runner_take_events(struct runner *r)
{
	json_t		*msg, *ev, *id;
	const char	*type;
	enum conn_rc	 rc;

	while (r->events.fd != -1 &&
	    (rc = conn_next(&r->events, &msg, NULL)) != CONN_AGAIN) {
		if (rc != CONN_OK) {
			runner_events_lost(r);
			return;
		}
		id = json_object_get(msg, "id");
		if ((ev = conn_event_params(msg)) != NULL) {
			drill_report_event(r->rep, ev);
			type = json_string_value(json_object_get(ev, "type"));
			if (type != NULL && strcmp(type, "service.exited") == 0)
				runner_saw_exit(r, ev);
			/* warden disconnects a subscriber that fell behind. */
			if (type != NULL && strcmp(type, "events.dropped") == 0)
				r->rep->events_lost = true;
		} else if (json_is_integer(id) &&
		    json_integer_value(id) == r->sync_id) {
			r->synced = true;
			if (json_object_get(msg, "error") != NULL)
				r->rep->events_lost = true;
		}
		json_decref(msg);
	}
}

static enum run_rc
runner_lost(struct runner *r, const char *what, int error)
{
	snprintf(r->lost, sizeof(r->lost), "connection to warden lost: %s",
	    what != NULL ? what : strerror(error));
	conn_close(&r->calls);
	return RUN_LOST;
}

/*
 * Read both connections until `until` holds (UNTIL_ANSWER: a message on
 * calls, in *msg), the deadline (util_now_us) passes, or a signal comes.
 */
enum run_rc
runner_pump(struct runner *r, enum pump_until until, uint64_t deadline,
    json_t **msg)
{
	struct pollfd	 pfd[2];
	struct timespec	 ts;
	uint64_t	 now;
	nfds_t		 n;
	enum conn_rc	 rc;
	int		 ci, ei;

	for (;;) {
		runner_take_events(r);
		if (until == UNTIL_ANSWER) {
			if (r->calls.fd == -1)
				return RUN_LOST;
			if ((rc = conn_next(&r->calls, msg, NULL)) == CONN_OK)
				return RUN_OK;
			if (rc == CONN_BAD)
				return runner_lost(r, "an answer that is not "
				    "JSON", 0);
		} else if (r->events.fd == -1 || (until == UNTIL_EXITED ?
		    json_array_size(r->unexited) == 0 : r->synced))
			return RUN_OK;
		if (r->interruptible && drill_signal != 0)
			return RUN_INTR;
		if ((now = util_now_us()) >= deadline)
			return RUN_TIMEOUT;
		n = 0;
		ci = ei = -1;
		if (until == UNTIL_ANSWER) {
			pfd[n].fd = r->calls.fd;
			pfd[n].events = POLLIN;
			ci = (int)n++;
		}
		if (r->events.fd != -1) {
			pfd[n].fd = r->events.fd;
			pfd[n].events = POLLIN;
			ei = (int)n++;
		}
		ts.tv_sec = (time_t)((deadline - now) / 1000000);
		ts.tv_nsec = (long)((deadline - now) % 1000000) * 1000;
		/* Only here may SIGINT and SIGTERM come through. */
		if (ppoll(pfd, n, &ts, r->interruptible ? &drill_pollmask :
		    NULL) == -1) {
			if (errno == EINTR)
				continue;
			fatal("ppoll");
		}
		if (ci != -1 && pfd[ci].revents != 0) {
			rc = conn_fill(&r->calls);
			if (rc == CONN_EOF)
				return runner_lost(r, "warden closed it", 0);
			if (rc == CONN_TOO_LONG)
				return runner_lost(r, NULL, EMSGSIZE);
			if (rc == CONN_ERROR)
				return runner_lost(r, NULL, r->calls.error);
		}
		if (ei != -1 && pfd[ei].revents != 0 &&
		    (rc = conn_fill(&r->events)) != CONN_OK && rc != CONN_AGAIN)
			runner_events_lost(r);
	}
}

/*
 * Send req (a request, or an array of n for a batch, first of ids first)
 * and wait for its answer until deadline. Answers to calls a signal cut
 * short arrive late; they are not this one's and are skipped.
 */
enum run_rc
runner_call(struct runner *r, json_t *req, json_int_t first, size_t n,
    uint64_t deadline, json_t **answer)
{
	enum run_rc	 rc;
	json_t		*msg;

	*answer = NULL;
	if (r->calls.fd == -1)
		return RUN_LOST;
	switch (conn_send(&r->calls, req, deadline)) {
	case CONN_OK:
		break;
	case CONN_TIMEOUT:
		return RUN_TIMEOUT;
	case CONN_INVALID:	/* only for strings not in UTF-8 */
		return runner_lost(r, NULL, EINVAL);
	default:
		return runner_lost(r, NULL, r->calls.error);
	}
	for (;;) {
		if ((rc = runner_pump(r, UNTIL_ANSWER, deadline, &msg)) !=
		    RUN_OK)
			return rc;
		if (conn_is_answer(msg, first, n, json_is_array(req))) {
			*answer = msg;
			return RUN_OK;
		}
		json_decref(msg);
	}
}

/* One call, its result or its error as text. */
enum run_rc
runner_call1(struct runner *r, const char *method, json_t *params,
    int deadline_ms, json_t **result, char *err, size_t errlen)
{
	enum run_rc	 rc;
	json_t		*req, *answer, *e;
	json_int_t	 id;

	*result = NULL;
	req = runner_request(r, method, params);
	id = r->next_id;
	rc = runner_call(r, req, id, 1, util_now_us() +
	    (uint64_t)deadline_ms * 1000, &answer);
	json_decref(req);
	if (rc != RUN_OK)
		return rc;
	if ((e = json_object_get(answer, "error")) != NULL)
		snprintf(err, errlen, "%s", json_string_value(
		    json_object_get(e, "message")) != NULL ?
		    json_string_value(json_object_get(e, "message")) :
		    "error");
	else
		*result = json_incref(json_object_get(answer, "result"));
	json_decref(answer);
	return RUN_OK;
}

static void
steps_skip(struct runner *r, const struct drill *d, enum drill_phase phase,
    size_t from)
{
	const struct drill_steps	*l = drill_phase_steps(d, phase);
	size_t				 i;

	for (i = from; i < l->n; i++)
		drill_report_step(r->rep, phase, i, &l->step[i], DRILL_SKIP,
		    -1, NULL);
}

/*
 * Run a phase. With stop_on_failure, the first failure skips the rest.
 * Returns false when a step failed.
 */
static bool
phase_run(struct runner *r, const struct drill *d, enum drill_phase phase,
    const struct baseline *bases, bool stop_on_failure)
{
	const struct drill_steps	*l = drill_phase_steps(d, phase);
	enum run_rc			 rc;
	size_t				 i;
	bool				 failed, ok = true;

	for (i = 0; i < l->n; i++) {
		if (r->interruptible && drill_signal != 0) {
			steps_skip(r, d, phase, i);
			return false;
		}
		rc = step_run(r, phase, i, &l->step[i], bases != NULL ?
		    &bases[i] : NULL, &failed);
		if (failed)
			ok = false;
		if ((failed && stop_on_failure) || rc == RUN_INTR) {
			steps_skip(r, d, phase, i + 1);
			return false;
		}
	}
	return ok;
}

/*
 * Make sure every event warden sent before now has been read: a ping on
 * the events connection is answered after them.
 */
static void
runner_sync(struct runner *r)
{
	json_t	*req;

	if (r->events.fd == -1)
		return;
	req = runner_request(r, "ping", NULL);
	r->sync_id = r->next_id;
	r->synced = false;
	if (conn_send(&r->events, req, util_now_us() +
	    DRILL_SYNC_MS * 1000) != CONN_OK)
		runner_events_lost(r);
	else if (runner_pump(r, UNTIL_SYNC, util_now_us() +
	    DRILL_SYNC_MS * 1000, NULL) != RUN_OK)
		r->rep->events_lost = true;
	json_decref(req);
}

static bool
runner_connect(struct runner *r)
{
	char	*msg;
	int	 error;

	if (r->calls.fd != -1)
		return true;
	if ((error = conn_open(&r->calls, CTL_DEADLINE_QUICK_MS)) == 0)
		return true;
	xasprintf(&msg, "cannot connect to %s: %s", r->socket,
	    strerror(error));
	snprintf(r->lost, sizeof(r->lost), "%s", msg);
	drill_report_fail(r->rep, msg);
	free(msg);
	return false;
}

/* Subscribe the events connection to everything, before the first step. */
static void
runner_subscribe(struct runner *r)
{
	json_t	*req;

	if (conn_open(&r->events, CTL_DEADLINE_QUICK_MS) != 0) {
		r->rep->events_lost = true;
		return;
	}
	req = runner_request(r, "subscribe", NULL);
	r->sync_id = r->next_id;
	r->synced = false;
	if (conn_send(&r->events, req, util_now_us() +
	    CTL_DEADLINE_QUICK_MS * 1000) != CONN_OK)
		runner_events_lost(r);
	else if (runner_pump(r, UNTIL_SYNC, util_now_us() +
	    CTL_DEADLINE_QUICK_MS * 1000, NULL) != RUN_OK || !r->synced)
		runner_events_lost(r);
	json_decref(req);
}

/*
 * One drill: the steady state, the steps, the rollback whenever a step
 * was run, the steady state again. Returns false when warden could not be
 * reached at all.
 */
bool
drill_run(const char *socket, const struct drill *d, struct drill_report *rep)
{
	struct runner	 r;
	struct baseline	*bsteps = NULL, *broll = NULL;
	bool		 reached = true;

	memset(&r, 0, sizeof(r));
	r.socket = socket;
	r.rep = rep;
	conn_init(&r.calls, socket);
	conn_init(&r.events, socket);
	if ((r.unexited = json_array()) == NULL)
		fatalx("out of memory");
	drill_report_init(rep, d);
	if (!runner_connect(&r)) {
		reached = false;
		goto done;
	}
	runner_subscribe(&r);
	r.interruptible = true;

	/* A steady state that does not hold: nothing is touched. */
	if (!phase_run(&r, d, DRILL_BEFORE, NULL, true)) {
		steps_skip(&r, d, DRILL_STEPS, 0);
		steps_skip(&r, d, DRILL_ROLLBACK, 0);
		steps_skip(&r, d, DRILL_AFTER, 0);
		goto done;
	}
	bsteps = baselines_take(&r, &d->steps);
	broll = baselines_take(&r, &d->rollback);
	if (drill_signal != 0) {
		/* Still nothing touched. */
		steps_skip(&r, d, DRILL_STEPS, 0);
		steps_skip(&r, d, DRILL_ROLLBACK, 0);
		steps_skip(&r, d, DRILL_AFTER, 0);
		goto done;
	}
	rep->started = drill_now();
	(void)phase_run(&r, d, DRILL_STEPS, bsteps, true);

	/* The rollback always runs to its end, signals or not. */
	r.interruptible = false;
	if (drill_signal != 0)
		fprintf(stderr, "wardenctl: %s: interrupted; rolling back\n",
		    d->file);
	if (!runner_connect(&r))
		steps_skip(&r, d, DRILL_ROLLBACK, 0);
	else
		(void)phase_run(&r, d, DRILL_ROLLBACK, broll, false);
	if (drill_signal != 0 || r.calls.fd == -1)
		steps_skip(&r, d, DRILL_AFTER, 0);
	else
		(void)phase_run(&r, d, DRILL_AFTER, NULL, false);
done:
	runner_sync(&r);
	rep->ended = drill_now();
	if (rep->started < 0)
		rep->started = rep->ended;
	rep->interrupted = drill_signal != 0;
	drill_report_finish(rep);
	if (bsteps != NULL)
		baselines_free(bsteps, d->steps.n);
	if (broll != NULL)
		baselines_free(broll, d->rollback.n);
	json_decref(r.unexited);
	conn_close(&r.calls);
	conn_close(&r.events);
	return reached;
}
