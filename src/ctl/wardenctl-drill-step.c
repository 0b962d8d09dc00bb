/*
 * wardenctl-drill-step.c: one step of a drill against warden: a call or
 * a batch and what its answer leaves for the measurements, an expect's
 * match, a wait with a look at its subject when it runs out, and the
 * baselines $delta compares with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill.h"
#include "log.h"
#include "protocol.h"
#include "util.h"
#include "wardenctl.h"
#include "wardenctl-drill.h"

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

const char *
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
step_note_kill(struct runner *r, json_t *result)
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
		step_note_kill(r, result);
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
enum run_rc
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

/* Results at the start of the steps, for $delta. */
struct baseline *
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

void
baselines_free(struct baseline *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		json_decref(b[i].result);
		free(b[i].error);
	}
	free(b);
}
