/*
 * wardenctl-drill.c: "wardenctl drill run FILE...": failure drills against
 * a live warden (warden-drill(5)). drill.c parses, matches and reports;
 * this file reads the files and talks to warden.
 *
 * A drill keeps two connections: one for its calls, and one subscribed to
 * every event before the first step and read whenever the other waits, so
 * that warden never finds it a slow subscriber and the measurements see
 * every restart. It speaks JSON-RPC itself rather than through ctl_call
 * because it sends batches, keeps error answers as step failures instead
 * of printing them, and polls both connections at once. SIGINT and SIGTERM
 * are blocked except inside that poll, so a signal aborts the step in
 * progress at a known point; the rollback then runs with them held.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drill.h"
#include "log.h"
#include "protocol.h"
#include "util.h"
#include "wardenctl.h"

#define DRILL_FILE_MAX		(4 * 1024 * 1024)
#define DRILL_READ_CHUNK	65536
/* Far above any real answer; only there so garbage cannot eat memory. */
#define DRILL_LINE_MAX		((size_t)1 << 30)
/* For the last events to arrive, and for a look at a wait's condition. */
#define DRILL_SYNC_MS		2000
#define DRILL_EXIT_INVALID	1	/* a drill file is invalid */
#define DRILL_EXIT_FAILED	5

enum run_rc { RUN_OK, RUN_TIMEOUT, RUN_LOST, RUN_INTR };

/* What runner_pump waits for. */
enum pump_until { UNTIL_ANSWER, UNTIL_EXITED, UNTIL_SYNC };

struct dconn {
	int	 fd;		/* -1: closed */
	char	*buf;
	size_t	 off, len, cap;
	size_t	 scan;		/* next '\n' search */
};

/* A baseline: the result of a step's call at the start of the steps. */
struct baseline {
	json_t	*result;
	char	*error;		/* why there is none */
};

struct runner {
	const char		*socket;
	struct dconn		 calls;
	struct dconn		 events;
	json_int_t		 next_id;
	json_int_t		 sync_id;	/* awaited on events */
	bool			 synced;
	struct drill_report	*rep;
	json_t			*unexited;	/* [{service, pid}] */
	bool			 interruptible;
	char			 lost[256];	/* why calls broke */
};

static volatile sig_atomic_t	drill_signal;
static sigset_t			drill_pollmask;	/* signals let through */

static void
drill_on_signal(int sig)
{
	drill_signal = sig;
}

static double
drill_now(void)
{
	return (double)util_now_us() / 1000.0;
}

/* --- connections ---------------------------------------------------------- */

static void
dconn_init(struct dconn *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void
dconn_close(struct dconn *c)
{
	if (c->fd != -1)
		(void)close(c->fd);	/* nothing is left to flush */
	free(c->buf);
	dconn_init(c);
}

/* 0, or an errno. */
static int
dconn_open(struct dconn *c, const char *path)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv;
	size_t			 len = strlen(path);
	int			 fd, saved;

	dconn_close(c);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (len >= sizeof(sun.sun_path))
		return ENAMETOOLONG;
	memcpy(sun.sun_path, path, len + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return errno;
	/* A listener with a full backlog blocks connect(2) this long. */
	tv.tv_sec = CTL_DEADLINE_QUICK_MS / 1000;
	tv.tv_usec = 0;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		goto fail;
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EISCONN)
			break;
		goto fail;
	}
	if (util_set_nonblock(fd, true) == -1)
		goto fail;
	c->fd = fd;
	return 0;
fail:
	saved = errno;
	(void)close(fd);
	return saved;
}

/* Read what is there: >0 bytes, 0 at EOF, -1 on error, -2 for nothing. */
static ssize_t
dconn_fill(struct dconn *c)
{
	ssize_t	n;

	if (c->off > 0) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->scan -= c->off;
		c->off = 0;
	}
	if (c->len >= DRILL_LINE_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (c->cap - c->len < DRILL_READ_CHUNK) {
		c->cap = c->cap == 0 ? DRILL_READ_CHUNK * 2 : c->cap * 2;
		c->buf = xreallocarray(c->buf, c->cap, 1);
	}
	for (;;) {
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -1;
	}
	c->len += (size_t)n;
	return n;
}

/* The next whole line as JSON: 1, 0 when there is none yet, -1 if bad. */
static int
dconn_next(struct dconn *c, json_t **msg)
{
	char	*nl, *line;
	size_t	 len;

	*msg = NULL;
	for (;;) {
		nl = c->scan < c->len ?
		    memchr(c->buf + c->scan, '\n', c->len - c->scan) : NULL;
		if (nl == NULL) {
			c->scan = c->len;
			return 0;
		}
		line = c->buf + c->off;
		len = (size_t)(nl - line);
		c->off = c->scan = (size_t)(nl - c->buf) + 1;
		if (len > 0 && line[strspn(line, " \t\r")] != '\n')
			break;
	}
	if ((*msg = json_loadb(line, len, 0, NULL)) == NULL)
		return -1;
	return 1;
}

static int
dconn_send(struct dconn *c, json_t *msg, uint64_t deadline)
{
	struct pollfd	 pfd;
	uint64_t	 now;
	char		*text, *p;
	size_t		 len;
	ssize_t		 n;
	int		 rv = -1;

	if ((text = json_dumps(msg, JSON_COMPACT)) == NULL) {
		errno = EINVAL;		/* only for strings not in UTF-8 */
		return -1;
	}
	len = strlen(text);
	text = xreallocarray(text, len + 2, 1);
	text[len++] = '\n';
	for (p = text; len > 0;) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			goto out;
		if ((now = util_now_us()) >= deadline) {
			errno = ETIMEDOUT;
			goto out;
		}
		pfd.fd = c->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, (int)((deadline - now) / 1000) + 1) == -1 &&
		    errno != EINTR)
			goto out;
	}
	rv = 0;
out:
	free(text);
	return rv;
}

/* --- the runner ------------------------------------------------------------- */

static json_t *
runner_request(struct runner *r, const char *method, json_t *params)
{
	json_t	*req;

	req = json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id",
	    (json_int_t)++r->next_id, "method", method);
	if (req == NULL)
		fatalx("out of memory");
	if (params != NULL)
		cmd_set(req, "params", json_incref(params));
	return req;
}

static void
runner_events_lost(struct runner *r)
{
	dconn_close(&r->events);
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
	const char	*method, *type;
	int		 k;

	while (r->events.fd != -1 && (k = dconn_next(&r->events, &msg)) != 0) {
		if (k == -1) {
			runner_events_lost(r);
			return;
		}
		method = json_string_value(json_object_get(msg, "method"));
		ev = json_object_get(msg, "params");
		id = json_object_get(msg, "id");
		if (method != NULL && strcmp(method, "event") == 0 &&
		    json_is_object(ev)) {
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
	dconn_close(&r->calls);
	return RUN_LOST;
}

/*
 * Read both connections until `until` holds (UNTIL_ANSWER: a message on
 * calls, in *msg), the deadline (util_now_us) passes, or a signal comes.
 */
static enum run_rc
runner_pump(struct runner *r, enum pump_until until, uint64_t deadline,
    json_t **msg)
{
	struct pollfd	 pfd[2];
	struct timespec	 ts;
	uint64_t	 now;
	nfds_t		 n;
	ssize_t		 got;
	int		 ci, ei, k;

	for (;;) {
		runner_take_events(r);
		if (until == UNTIL_ANSWER) {
			if (r->calls.fd == -1)
				return RUN_LOST;
			if ((k = dconn_next(&r->calls, msg)) == 1)
				return RUN_OK;
			if (k == -1)
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
			got = dconn_fill(&r->calls);
			if (got == 0)
				return runner_lost(r, "warden closed it", 0);
			if (got == -1)
				return runner_lost(r, NULL, errno);
		}
		if (ei != -1 && pfd[ei].revents != 0) {
			got = dconn_fill(&r->events);
			if (got == 0 || got == -1)
				runner_events_lost(r);
		}
	}
}

/* Is msg the answer to a request of ids [first, first + n)? */
static bool
runner_is_answer(json_t *msg, json_int_t first, size_t n, bool batch)
{
	json_t	*id;

	if (batch) {
		if (!json_is_array(msg)) {
			/* A batch warden refused whole: one error, null id. */
			return json_is_object(msg) &&
			    json_is_null(json_object_get(msg, "id")) &&
			    json_object_get(msg, "error") != NULL;
		}
		id = json_object_get(json_array_get(msg, 0), "id");
		return json_is_integer(id) && json_integer_value(id) >= first &&
		    json_integer_value(id) < first + (json_int_t)n;
	}
	id = json_object_get(msg, "id");
	if (json_is_integer(id))
		return json_integer_value(id) == first;
	return json_is_null(id) && json_object_get(msg, "error") != NULL;
}

/*
 * Send req (a request, or an array of n for a batch, first of ids first)
 * and wait for its answer until deadline. Answers to calls a signal cut
 * short arrive late; they are not this one's and are skipped.
 */
static enum run_rc
runner_call(struct runner *r, json_t *req, json_int_t first, size_t n,
    uint64_t deadline, json_t **answer)
{
	enum run_rc	 rc;
	json_t		*msg;

	*answer = NULL;
	if (r->calls.fd == -1)
		return RUN_LOST;
	if (dconn_send(&r->calls, req, deadline) == -1)
		return errno == ETIMEDOUT ? RUN_TIMEOUT :
		    runner_lost(r, NULL, errno);
	for (;;) {
		if ((rc = runner_pump(r, UNTIL_ANSWER, deadline, &msg)) !=
		    RUN_OK)
			return rc;
		if (runner_is_answer(msg, first, n, json_is_array(req))) {
			*answer = msg;
			return RUN_OK;
		}
		json_decref(msg);
	}
}

/* One call, its result or its error as text. */
static enum run_rc
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

/* --- steps ------------------------------------------------------------------ */

/* How long a call may take: as wardenctl's own commands allow. */
static int
step_deadline_ms(const struct drill_call *call)
{
	static const char *const slow[] = { "service.start", "service.stop",
		"service.restart", "config.reload", "shutdown" };
	json_t	*t;
	size_t	 i;

	if (strcmp(call->method, "reexec") == 0)
		return CTL_DEADLINE_REEXEC_MS;
	if (strcmp(call->method, "wait") == 0) {
		t = json_object_get(call->params, "timeout_ms");
		return (json_is_integer(t) && json_integer_value(t) >= 0 &&
		    json_integer_value(t) <= DRILL_WITHIN_MAX_MS ?
		    (int)json_integer_value(t) : 30000) + CTL_WAIT_MARGIN_MS;
	}
	for (i = 0; i < nitems(slow); i++)
		if (strcmp(call->method, slow[i]) == 0)
			return CTL_DEADLINE_LONG_MS;
	return CTL_DEADLINE_QUICK_MS;
}

static const char *
step_run_error(struct runner *r, enum run_rc rc, int ms)
{
	static char	buf[64];

	switch (rc) {
	case RUN_TIMEOUT:
		snprintf(buf, sizeof(buf), "no answer from warden within %d ms",
		    ms);
		return buf;
	case RUN_LOST:
		return r->lost[0] != '\0' ? r->lost :
		    "no connection to warden";
	case RUN_INTR:
		return "interrupted";
	case RUN_OK:
		break;
	}
	return NULL;
}

/*
 * "error -32001 (not_found): no service named 'x'", and data's reason
 * when the message does not say it already (a reexec that failed).
 */
static char *
step_error_text(json_t *error)
{
	json_t		*code = json_object_get(error, "code");
	const char	*msg = json_string_value(json_object_get(error,
			    "message"));
	const char	*kind = json_string_value(json_object_get(
			    json_object_get(error, "data"), "kind"));
	const char	*reason = json_string_value(json_object_get(
			    json_object_get(error, "data"), "reason"));
	char		*s;

	if (msg == NULL)
		msg = "(no message)";
	if (reason != NULL && (*reason == '\0' || strstr(msg, reason) != NULL))
		reason = NULL;
	xasprintf(&s, "error %" JSON_INTEGER_FORMAT "%s%s%s: %s%s%s",
	    json_integer_value(code), kind != NULL ? " (" : "",
	    kind != NULL ? kind : "", kind != NULL ? ")" : "", msg,
	    reason != NULL ? ": " : "", reason != NULL ? reason : "");
	return s;
}

/* Note the processes a kill took down, to see them exit before a wait. */
static void
runner_note_kill(struct runner *r, json_t *result)
{
	json_t		*killed = json_object_get(result, "killed"), *k, *ev;
	const char	*type;
	size_t		 i, j;
	bool		 seen;

	drill_report_kill(r->rep, result);
	json_array_foreach(killed, i, k) {
		/* Its exit may have come in before the answer did. */
		seen = false;
		json_array_foreach(r->rep->events, j, ev) {
			type = json_string_value(json_object_get(ev, "type"));
			if (type != NULL && strcmp(type, "service.exited") == 0 &&
			    json_equal(json_object_get(ev, "pid"),
			    json_object_get(k, "pid")))
				seen = true;
		}
		if (!seen && json_array_append(r->unexited, k) == -1)
			fatalx("out of memory");
	}
}

/* What a call's success leaves for the measurements. */
static void
step_took(struct runner *r, const char *method, json_t *result, double sent)
{
	if (strcmp(method, "service.kill") == 0)
		runner_note_kill(r, result);
	else if (strcmp(method, "table.delete") == 0)
		drill_report_fault(r->rep, "delete", sent);
	else if (strcmp(method, "table.corrupt") == 0)
		drill_report_fault(r->rep, "corrupt", sent);
}

/* do and expect: a call, or a batch of them as one JSON-RPC batch. */
static enum run_rc
step_call(struct runner *r, const struct drill_step *s,
    const struct baseline *base, char **error)
{
	enum run_rc	 rc;
	json_t		*req, *answer, *resp, *e;
	json_int_t	 first = r->next_id + 1;
	double		 sent = drill_now();
	char		*text, *tmp, why[512];
	size_t		 i, j;
	int		 ms = 0;

	if (s->batch) {
		if ((req = json_array()) == NULL)
			fatalx("out of memory");
		for (i = 0; i < s->ncalls; i++)
			if (json_array_append_new(req, runner_request(r,
			    s->calls[i].method, s->calls[i].params)) == -1)
				fatalx("out of memory");
	} else
		req = runner_request(r, s->calls[0].method, s->calls[0].params);
	for (i = 0; i < s->ncalls; i++)
		if (step_deadline_ms(&s->calls[i]) > ms)
			ms = step_deadline_ms(&s->calls[i]);
	rc = runner_call(r, req, first, s->ncalls, util_now_us() +
	    (uint64_t)ms * 1000, &answer);
	json_decref(req);
	if (rc != RUN_OK) {
		*error = xstrdup(step_run_error(r, rc, ms));
		return rc;
	}
	/* A batch refused whole: one error for all. */
	if (s->batch && !json_is_array(answer)) {
		*error = step_error_text(json_object_get(answer, "error"));
		json_decref(answer);
		return RUN_OK;
	}
	for (i = 0; i < s->ncalls; i++) {
		resp = NULL;
		if (!s->batch)
			resp = answer;
		else
			json_array_foreach(answer, j, e)
				if (json_integer_value(json_object_get(e,
				    "id")) == first + (json_int_t)i)
					resp = e;
		if (resp == NULL)
			text = xstrdup("no answer in the batch");
		else if ((e = json_object_get(resp, "error")) != NULL)
			text = step_error_text(e);
		else {
			step_took(r, s->calls[i].method,
			    json_object_get(resp, "result"), sent);
			continue;
		}
		if (s->batch) {
			xasprintf(&tmp, "%s: %s", s->calls[i].method, text);
			free(text);
			text = tmp;
		}
		if (*error == NULL)
			*error = text;
		else {
			xasprintf(&tmp, "%s; %s", *error, text);
			free(*error);
			free(text);
			*error = tmp;
		}
	}
	if (*error == NULL && s->kind == DRILL_EXPECT) {
		if (s->baseline && base->result == NULL)
			xasprintf(error, "no baseline: %s", base->error != NULL ?
			    base->error : "none taken");
		else if (!drill_match(s->match, json_object_get(answer,
		    "result"), base->result, why, sizeof(why)))
			*error = xstrdup(why);
	}
	json_decref(answer);
	return RUN_OK;
}

/* After a wait ran out: what the condition's subject looks like now. */
static char *
step_explain(struct runner *r, json_t *cond)
{
	json_t		*res = NULL, *v, *e;
	const char	*service;
	char		*s = NULL, *list = NULL, *tmp, err[256];
	size_t		 i;

	err[0] = '\0';
	if ((service = json_string_value(json_object_get(cond, "service"))) !=
	    NULL) {
		v = json_pack("{s:s}", "service", service);
		if (runner_call1(r, "status", v, DRILL_SYNC_MS, &res, err,
		    sizeof(err)) == RUN_OK && res != NULL) {
			e = json_array_get(json_object_get(res, "services"), 0);
			if (e == NULL)
				e = json_array_get(json_object_get(res,
				    "supervisors"), 0);
			xasprintf(&s, "%s is %s after %" JSON_INTEGER_FORMAT
			    " restarts", service, json_string_value(
			    json_object_get(e, "state")) != NULL ?
			    json_string_value(json_object_get(e, "state")) :
			    "?", json_integer_value(json_object_get(e,
			    "restarts")));
		}
		json_decref(v);
	} else if (json_object_get(cond, "recovered") != NULL) {
		if (runner_call1(r, "recovery", NULL, DRILL_SYNC_MS, &res, err,
		    sizeof(err)) == RUN_OK && res != NULL) {
			json_array_foreach(json_object_get(res, "services"), i,
			    e) {
				if (json_is_null(json_object_get(e,
				    "down_since")))
					continue;
				xasprintf(&tmp, "%s%s%s (%s)", list != NULL ?
				    list : "", list != NULL ? ", " : "",
				    json_string_value(json_object_get(e,
				    "name")), json_string_value(
				    json_object_get(e, "state")));
				free(list);
				list = tmp;
			}
			xasprintf(&s, "still down: %s; table %s", list != NULL ?
			    list : "none", json_is_true(json_object_get(
			    json_object_get(res, "table"), "healthy")) ?
			    "healthy" : "not repaired");
			free(list);
		}
	} else if (json_object_get(cond, "stage") != NULL) {
		if (runner_call1(r, "stage.get", NULL, DRILL_SYNC_MS, &res,
		    err, sizeof(err)) == RUN_OK && res != NULL)
			xasprintf(&s, "the stage is %" JSON_INTEGER_FORMAT,
			    json_integer_value(json_object_get(res, "stage")));
	} else if ((service = json_string_value(json_object_get(cond,
	    "flag"))) != NULL) {
		v = json_pack("{s:s}", "name", service);
		if (runner_call1(r, "flag.get", v, DRILL_SYNC_MS, &res, err,
		    sizeof(err)) == RUN_OK && res != NULL) {
			tmp = json_dumps(json_object_get(res, "value"),
			    JSON_ENCODE_ANY);
			xasprintf(&s, "%s is %s", service, tmp != NULL ? tmp :
			    "?");
			free(tmp);
		}
		json_decref(v);
	}
	json_decref(res);
	return s;
}

static enum run_rc
step_wait(struct runner *r, enum drill_phase phase, size_t index,
    const struct drill_step *s, const struct baseline *base, char **error)
{
	enum run_rc	 rc;
	json_t		*cond, *params, *req, *answer, *e, *k;
	uint64_t	 start = util_now_us(), deadline, now;
	char		*what, *now_is, why[512];
	int		 left;

	deadline = start + (uint64_t)s->within_ms * 1000;
	if (s->baseline && base->result == NULL) {
		xasprintf(error, "no baseline: %s", base->error != NULL ?
		    base->error : "none taken");
		return RUN_OK;
	}
	if ((cond = drill_condition(s, base->result, why, sizeof(why))) ==
	    NULL) {
		*error = xstrdup(why);
		return RUN_OK;
	}
	/*
	 * Until warden has seen a killed process exit, nothing is recovering
	 * and "recovered" would hold at once: wait for the exits first.
	 */
	rc = runner_pump(r, UNTIL_EXITED, deadline, NULL);
	if (rc == RUN_TIMEOUT) {
		k = json_array_get(r->unexited, 0);
		xasprintf(error, "%s (pid %" JSON_INTEGER_FORMAT ") has not "
		    "exited within %d ms", json_string_value(json_object_get(k,
		    "service")), json_integer_value(json_object_get(k, "pid")),
		    s->within_ms);
		json_decref(cond);
		return RUN_OK;
	}
	if (rc != RUN_OK) {
		*error = xstrdup(step_run_error(r, rc, 0));
		json_decref(cond);
		return rc;
	}
	now = util_now_us();
	left = now < deadline ? (int)((deadline - now) / 1000) : 0;
	params = json_pack("{s:O,s:i}", "condition", cond, "timeout_ms", left);
	req = runner_request(r, "wait", params);
	json_decref(params);
	rc = runner_call(r, req, r->next_id, 1, deadline +
	    CTL_WAIT_MARGIN_MS * 1000, &answer);
	json_decref(req);
	if (rc != RUN_OK) {
		*error = xstrdup(step_run_error(r, rc, s->within_ms +
		    CTL_WAIT_MARGIN_MS));
		json_decref(cond);
		return rc;
	}
	if ((e = json_object_get(answer, "error")) != NULL) {
		if (json_integer_value(json_object_get(e, "code")) ==
		    RPC_TIMEOUT) {
			what = drill_step_what(s);
			now_is = step_explain(r, cond);
			xasprintf(error, "not met within %d ms: %s%s%s",
			    s->within_ms, what, now_is != NULL ? "; " : "",
			    now_is != NULL ? now_is : "");
			free(what);
			free(now_is);
		} else
			*error = step_error_text(e);
	} else if (json_is_true(json_object_get(cond, "recovered")))
		drill_report_recovered(r->rep, phase, index, drill_now());
	json_decref(answer);
	json_decref(cond);
	return RUN_OK;
}

/* Run one step and record it. */
static enum run_rc
step_run(struct runner *r, enum drill_phase phase, size_t index,
    const struct drill_step *s, const struct baseline *base, bool *failed)
{
	static const struct baseline	 none = { NULL, NULL };
	enum run_rc			 rc;
	char				*error = NULL;
	double				 start = drill_now();

	if (base == NULL)
		base = &none;
	if (s->kind == DRILL_WAIT)
		rc = step_wait(r, phase, index, s, base, &error);
	else
		rc = step_call(r, s, base, &error);
	drill_report_step(r->rep, phase, index, s, error != NULL ? DRILL_FAIL :
	    DRILL_PASS, drill_now() - start, error);
	*failed = error != NULL;
	free(error);
	return rc;
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

/* Results at the start of the steps, for $delta. */
static struct baseline *
baselines_take(struct runner *r, const struct drill_steps *l)
{
	struct baseline	*b = xcalloc(l->n + 1, sizeof(*b));
	const char	*method;
	json_t		*params;
	enum run_rc	 rc;
	char		 err[512];
	size_t		 i;

	for (i = 0; i < l->n; i++) {
		if (!drill_baseline_call(&l->step[i], &method, &params))
			continue;
		err[0] = '\0';
		rc = runner_call1(r, method, params, CTL_DEADLINE_QUICK_MS,
		    &b[i].result, err, sizeof(err));
		json_decref(params);
		if (rc != RUN_OK)
			b[i].error = xstrdup(step_run_error(r, rc,
			    CTL_DEADLINE_QUICK_MS));
		else if (b[i].result == NULL)
			xasprintf(&b[i].error, "%s at the start: %s", method,
			    err);
	}
	return b;
}

static void
baselines_free(struct baseline *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		json_decref(b[i].result);
		free(b[i].error);
	}
	free(b);
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
	if (dconn_send(&r->events, req, util_now_us() +
	    DRILL_SYNC_MS * 1000) == -1)
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
	if ((error = dconn_open(&r->calls, r->socket)) == 0)
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

	if (dconn_open(&r->events, r->socket) != 0) {
		r->rep->events_lost = true;
		return;
	}
	req = runner_request(r, "subscribe", NULL);
	r->sync_id = r->next_id;
	r->synced = false;
	if (dconn_send(&r->events, req, util_now_us() +
	    CTL_DEADLINE_QUICK_MS * 1000) == -1)
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
static bool
drill_run(const char *socket, const struct drill *d, struct drill_report *rep)
{
	struct runner	 r;
	struct baseline	*bsteps = NULL, *broll = NULL;
	bool		 reached = true;

	memset(&r, 0, sizeof(r));
	r.socket = socket;
	r.rep = rep;
	dconn_init(&r.calls);
	dconn_init(&r.events);
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
	dconn_close(&r.calls);
	dconn_close(&r.events);
	return reached;
}

/* --- the command ------------------------------------------------------------ */

/* Read a drill file and parse it; on error, print it and return NULL. */
static struct drill *
drill_load(const char *file)
{
	struct drill	*d = NULL;
	struct stat	 st;
	char		*buf = NULL, err[1024];
	size_t		 len = 0, cap = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		ctl_errx(DRILL_EXIT_INVALID, "%s: %s", file, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ctl_errx(DRILL_EXIT_INVALID, "%s: %s", file, strerror(EISDIR));
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= DRILL_FILE_MAX) {
				ctl_errx(DRILL_EXIT_INVALID, "%s: larger than "
				    "%d MiB", file, DRILL_FILE_MAX >> 20);
				goto out;
			}
			cap = cap == 0 ? 8192 : cap * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		if ((n = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			ctl_errx(DRILL_EXIT_INVALID, "%s: %s", file,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (drill_parse(buf, len, file, &d, err, sizeof(err)) == -1)
		ctl_errx(DRILL_EXIT_INVALID, "%s", err);
out:
	if (fd != -1)
		(void)close(fd);
	free(buf);
	return d;
}

static void
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

static int
drill_write_report(FILE *fp, const char *path, json_t *all)
{
	ctl_json_write(fp, all, true);
	fputc('\n', fp);
	if (fp == stdout)
		return CTL_EXIT_OK;
	if (ferror(fp) || fclose(fp) == EOF)
		return ctl_errx(CTL_EXIT_ERROR, "%s: %s", path,
		    strerror(errno));
	return CTL_EXIT_OK;
}

int
cmd_drill(struct ctl *c, struct ctl_args *a)
{
	struct drill		**drills;
	struct drill_report	  rep;
	const char		 *path = ctl_opt_value(a, "report");
	json_t			 *all;
	FILE			 *fp = NULL;
	char			 *text;
	int			  i, n = a->argc - 1, rc = CTL_EXIT_OK, bad = 0;

	if (strcmp(a->argv[0], "run") != 0)
		return ctl_usage_error(a, "unknown subcommand %s", a->argv[0]);
	if (n < 1)
		return ctl_usage_error(a, "run: no drill file");
	/* Every file is checked before the first drill touches anything. */
	drills = xcalloc((size_t)n, sizeof(*drills));
	for (i = 0; i < n; i++)
		if ((drills[i] = drill_load(a->argv[i + 1])) == NULL)
			bad++;
	if (bad == 0 && path != NULL && (fp = fopen(path, "w")) == NULL) {
		ctl_errx(CTL_EXIT_ERROR, "%s: %s", path, strerror(errno));
		bad++;
	}
	if (bad > 0) {
		for (i = 0; i < n; i++)
			drill_free(drills[i]);
		free(drills);
		return DRILL_EXIT_INVALID;
	}
	if ((all = json_array()) == NULL)
		fatalx("out of memory");
	drill_signals();
	for (i = 0; i < n && drill_signal == 0; i++) {
		if (!drill_run(c->socket, drills[i], &rep))
			rc = ctl_errx(CTL_EXIT_CONNECT, "%s: %s (is warden "
			    "running? set WARDEN_SOCKET or use -S SOCKET)",
			    drills[i]->file, rep.error);
		else if (rep.verdict != DRILL_PASS && rc == CTL_EXIT_OK)
			rc = DRILL_EXIT_FAILED;
		/* A drill that never reached warden has nothing to show. */
		if (!c->json && rc != CTL_EXIT_CONNECT) {
			text = drill_report_text(&rep);
			printf("%s%s", i > 0 ? "\n" : "", text);
			free(text);
			fflush(stdout);
		}
		if (json_array_append_new(all, drill_report_json(&rep)) == -1)
			fatalx("out of memory");
		drill_report_free(&rep);
		if (rc == CTL_EXIT_CONNECT)
			break;
	}
	if (drill_signal != 0 && rc == CTL_EXIT_OK)
		rc = DRILL_EXIT_FAILED;
	if (c->json)
		(void)drill_write_report(stdout, "stdout", all);
	if (fp != NULL && drill_write_report(fp, path, all) != CTL_EXIT_OK &&
	    rc == CTL_EXIT_OK)
		rc = CTL_EXIT_ERROR;
	json_decref(all);
	for (i = 0; i < n; i++)
		drill_free(drills[i]);
	free(drills);
	return rc;
}
