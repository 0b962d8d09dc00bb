/*
 * wardenctl-service.c: the commands that act on services and wait for
 * the outcome: start, stop, restart, signal, kill (--wait-recovered makes
 * it three calls) and wait.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "log.h"
#include "util.h"
#include "wardenctl.h"

#define KILL_WAIT_MS	10000	/* kill --wait-recovered's default */
#define WAIT_MS		30000	/* wait's default -t */

static const char *const wait_states[] = {
	"starting", "running", "stopping", "stopped", "backoff", "failed"
};

/* "registry: running, pid 1234" */
static void
print_service(json_t *svc)
{
	json_t	*pid = json_object_get(svc, "pid");
	char	*name = ctl_cell(json_object_get(svc, "name"));
	char	*state = ctl_cell(json_object_get(svc, "state"));

	if (json_is_integer(pid))
		printf("%s: %s, pid %" JSON_INTEGER_FORMAT "\n", name, state,
		    json_integer_value(pid));
	else
		printf("%s: %s\n", name, state);
	free(name);
	free(state);
}

/* Several: {"services": [...]}, a line each. */
static void
print_services(json_t *res)
{
	json_t	*svc;
	size_t	 i;

	json_array_foreach(json_object_get(res, "services"), i, svc)
		print_service(svc);
}

/* "service": one name as a string, as warden always took it; more as a list. */
static json_t *
service_target(int argc, char **argv)
{
	json_t	*target;
	int	 i;

	if (argc == 1)
		return ctl_str(argv[0]);
	if ((target = json_array()) == NULL)
		fatalx("out of memory");
	for (i = 0; i < argc; i++)
		if (json_array_append_new(target, ctl_str(argv[i])) == -1)
			fatalx("out of memory");
	return target;
}

/* start, stop and restart: service.<command>. */
int
cmd_service(struct ctl *c, struct ctl_args *a)
{
	char	*method;
	int	 rc;
	bool	 one = a->argc == 1 && strcmp(a->argv[0], "*") != 0;

	xasprintf(&method, "service.%s", a->cmd->name);
	rc = ctl_call_print(c, method, ctl_params("service",
	    service_target(a->argc, a->argv)), CTL_DEADLINE_LONG_MS,
	    one ? print_service : print_services);
	free(method);
	return rc;
}

static void
print_signaled(json_t *res)
{
	json_t	*done = json_object_get(res, "signaled"), *k;
	char	*signal = ctl_cell(json_object_get(res, "signal"));
	char	*name, *pid;
	size_t	 i;

	json_array_foreach(done, i, k) {
		name = ctl_cell(json_object_get(k, "service"));
		pid = ctl_cell(json_object_get(k, "pid"));
		printf("sent %s to %s (pid %s)\n", signal, name, pid);
		free(name);
		free(pid);
	}
	free(signal);
}

/* signal SERVICE... SIG: the last operand is the signal. */
int
cmd_signal(struct ctl *c, struct ctl_args *a)
{
	const char	*sig = a->argv[a->argc - 1], *name;
	json_t		*params;
	int		 signo;

	if ((signo = util_signal_parse(sig)) <= 0)
		return ctl_usage_error(a, "%s is not a signal", sig);
	params = ctl_params("service", service_target(a->argc - 1, a->argv));
	/* The name without SIG; a signal without one by number. */
	name = util_signal_name(signo);
	ctl_set(params, "signal", strncmp(name, "SIG", 3) == 0 ?
	    json_integer(signo) : json_string(name));
	return ctl_call_print(c, "service.signal", params,
	    CTL_DEADLINE_QUICK_MS, print_signaled);
}

/* wait with a client deadline a margin past warden's own. */
static int
wait_call(struct ctl *c, json_t *condition, int timeout_ms, json_t **res)
{
	json_t	*params = ctl_params("condition", condition);

	ctl_set(params, "timeout_ms", json_integer(timeout_ms));
	return ctl_call(c, "wait", params, timeout_ms + CTL_WAIT_MARGIN_MS,
	    res);
}

static void
print_killed(json_t *res)
{
	json_t	*killed = json_object_get(res, "killed"), *k;
	char	*signal = ctl_cell(json_object_get(res, "signal"));
	char	*name, *pid;
	size_t	 i;

	if (json_array_size(killed) == 0)
		printf("nothing to kill\n");
	json_array_foreach(killed, i, k) {
		name = ctl_cell(json_object_get(k, "service"));
		pid = ctl_cell(json_object_get(k, "pid"));
		printf("killed %s (pid %s) with %s\n", name, pid, signal);
		free(name);
		free(pid);
	}
	free(signal);
}

/*
 * Wait until warden has reaped every killed process. Only then does a wait
 * for recovery mean something: until warden sees a process exit, nothing
 * is recovering and "recovered" holds at once.
 */
static int
kill_await_exits(struct ctl *c, json_t *killed, uint64_t deadline, int wait_ms)
{
	json_t		*left, *ev, *k;
	const char	*type;
	uint64_t	 now;
	size_t		 i;
	int		 rc = CTL_EXIT_OK;

	if ((left = json_copy(killed)) == NULL)
		fatalx("out of memory");
	while (rc == CTL_EXIT_OK && json_array_size(left) > 0) {
		now = util_now_ms();
		rc = ctl_next_event(c, now < deadline ?
		    (int)(deadline - now) : 0, &ev);
		if (rc == CTL_EXIT_TIMEOUT) {
			k = json_array_get(left, 0);
			rc = ctl_errx(rc, "%s (pid %" JSON_INTEGER_FORMAT ") "
			    "has not exited within %d ms",
			    ctl_json_str(k, "service"),
			    json_integer_value(json_object_get(k, "pid")),
			    wait_ms);
			break;
		}
		if (rc != CTL_EXIT_OK)
			break;
		if (ev == NULL) {
			rc = ctl_errx(CTL_EXIT_CONNECT, "%s: warden closed the "
			    "connection", c->socket);
			break;
		}
		type = ctl_json_str(ev, "type");
		if (type != NULL && strcmp(type, "service.exited") == 0)
			json_array_foreach(left, i, k)
				if (json_equal(json_object_get(k, "pid"),
				    json_object_get(ev, "pid"))) {
					(void)json_array_remove(left, i);
					break;
				}
		json_decref(ev);
	}
	json_decref(left);
	return rc;
}

static json_t *
kill_params(struct ctl_args *a)
{
	return ctl_params("service", service_target(a->argc, a->argv));
}

int
cmd_kill(struct ctl *c, struct ctl_args *a)
{
	json_t		*params, *res, *wres, *ts;
	const char	*sig, *name;
	uint64_t	 start, deadline, now;
	double		 since;
	char		 buf[32];
	int		 signo = -1, wait_ms = KILL_WAIT_MS, rc;
	bool		 wait = ctl_opt_isset(a, "wait-recovered");

	if (wait && ctl_opt_value(a, "wait-recovered") != NULL &&
	    (rc = ctl_parse_count(a, "--wait-recovered",
	    ctl_opt_value(a, "wait-recovered"), &wait_ms)) != CTL_EXIT_OK)
		return rc;
	if ((sig = ctl_opt_value(a, "signal")) != NULL &&
	    (signo = util_signal_parse(sig)) == -1)
		return ctl_usage_error(a, "%s is not a signal", sig);
	params = kill_params(a);
	if (sig != NULL) {
		/* The name without SIG; a signal without one by number. */
		name = util_signal_name(signo);
		ctl_set(params, "signal", strncmp(name, "SIG", 3) == 0 ?
		    json_integer(signo) : json_string(name));
	}

	start = util_now_ms();
	since = (double)util_now_us() / 1000.0;
	/* Subscribed before the kill, so that no exit goes unseen. */
	if (wait) {
		rc = ctl_call(c, "subscribe", ctl_params("topics",
		    json_pack("[s]", "service.exited")), CTL_DEADLINE_QUICK_MS,
		    &res);
		if (rc != CTL_EXIT_OK) {
			json_decref(params);
			return rc;
		}
		json_decref(res);
	}
	rc = ctl_call(c, "service.kill", params, CTL_DEADLINE_QUICK_MS, &res);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (!c->json) {
		print_killed(res);
		fflush(stdout);
	}
	if (!wait) {
		if (c->json)
			ctl_print_result(res);
		json_decref(res);
		return CTL_EXIT_OK;
	}

	/* Recovery counts from the kill itself, on warden's clock. */
	if (json_is_number(ts = json_object_get(res, "ts")))
		since = json_number_value(ts);
	deadline = start + (uint64_t)wait_ms;
	rc = kill_await_exits(c, json_object_get(res, "killed"), deadline,
	    wait_ms);
	if (rc == CTL_EXIT_OK) {
		now = util_now_ms();
		rc = wait_call(c, ctl_params("recovered", json_true()),
		    now < deadline ? (int)(deadline - now) : 0, &wres);
	}
	if (rc == CTL_EXIT_OK) {
		if (c->json) {
			ctl_set(res, "wait", wres);
			/* Microseconds are all the clocks can tell. */
			ctl_set(res, "recovered_ms", json_real(
			    (double)(long long)(ctl_elapsed_ms(since) * 1000 +
			    0.5) / 1000));
		} else {
			printf("recovered in %s\n", ctl_fmt_duration(buf,
			    sizeof(buf), ctl_elapsed_ms(since)));
			json_decref(wres);
		}
	}
	if (c->json)
		ctl_print_result(res);
	json_decref(res);
	return rc;
}

static bool
wait_is_state(const char *s)
{
	size_t	i;

	for (i = 0; i < nitems(wait_states); i++)
		if (strcmp(s, wait_states[i]) == 0)
			return true;
	return false;
}

/* A liveness probe's verdict (health.h), for SERVICE HEALTH. */
static bool
wait_is_health(const char *s)
{
	return health_verdict_parse(s) != -1;
}

enum wait_kind {
	WAIT_SERVICE,		/* SERVICE STATE, or SERVICE HEALTH */
	WAIT_RECOVERED,		/* recovered */
	WAIT_FLAG,		/* flag NAME VALUE */
	WAIT_STAGE		/* stage N */
};

/*
 * The condition the operands of wait name, and what to print once it
 * holds. "stage" and "flag" are also possible service names: "wait stage
 * running" still waits for a service.
 */
static int
wait_condition(const struct ctl_args *a, int restarts, json_t **cond,
    char **what)
{
	enum wait_kind	 kind;
	json_t		*value;
	char		*cell;
	int		 stage, rc;

	*cond = NULL;
	*what = NULL;
	if (a->argc == 3 && strcmp(a->argv[0], "flag") == 0)
		kind = WAIT_FLAG;
	else if (a->argc == 3)
		return ctl_usage_error(a, "too many arguments");
	else if (a->argc == 2 && (wait_is_state(a->argv[1]) ||
	    wait_is_health(a->argv[1])))
		kind = WAIT_SERVICE;
	else if (a->argc == 2 && strcmp(a->argv[0], "stage") == 0)
		kind = WAIT_STAGE;
	else if (a->argc == 2 && strcmp(a->argv[0], "flag") == 0)
		return ctl_usage_error(a, "expected flag NAME VALUE");
	else if (a->argc == 2)
		return ctl_usage_error(a, "%s: not a state (starting, running, "
		    "stopping, stopped, backoff, failed) nor a health (healthy, "
		    "unhealthy)", a->argv[1]);
	else if (strcmp(a->argv[0], "recovered") == 0)
		kind = WAIT_RECOVERED;
	else
		return ctl_usage_error(a, "expected SERVICE STATE, recovered, "
		    "flag NAME VALUE or stage N");
	if (restarts != -1 && kind != WAIT_SERVICE)
		return ctl_usage_error(a, "--min-restarts needs SERVICE STATE");

	switch (kind) {
	case WAIT_SERVICE:
		*cond = ctl_params("service", ctl_str(a->argv[0]));
		/* "starting" is a state: a verdict is waited for by its name. */
		ctl_set(*cond, wait_is_state(a->argv[1]) ? "state" : "health",
		    ctl_str(a->argv[1]));
		if (restarts != -1)
			ctl_set(*cond, "min_restarts", json_integer(restarts));
		xasprintf(what, "%s: %s", a->argv[0], a->argv[1]);
		break;
	case WAIT_RECOVERED:
		*cond = ctl_params("recovered", json_true());
		*what = xstrdup("recovered");
		break;
	case WAIT_FLAG:
		if ((value = ctl_flag_value_arg(a->argv[2])) == NULL)
			return ctl_usage_error(a, "%s: not a flag value (on, "
			    "off, true, false or a percentage 0..100)",
			    a->argv[2]);
		cell = ctl_flag_value_cell(value);
		xasprintf(what, "%s: %s", a->argv[1], cell);
		free(cell);
		*cond = ctl_params("flag", ctl_str(a->argv[1]));
		ctl_set(*cond, "value", value);
		break;
	case WAIT_STAGE:
		if ((rc = ctl_parse_count(a, "stage", a->argv[1], &stage)) !=
		    CTL_EXIT_OK)
			return rc;
		*cond = ctl_params("stage", json_integer(stage));
		xasprintf(what, "stage %d", stage);
		break;
	}
	return CTL_EXIT_OK;
}

int
cmd_wait(struct ctl *c, struct ctl_args *a)
{
	json_t		*cond, *res;
	double		 since;
	char		*what, buf[32];
	int		 timeout_ms = WAIT_MS, restarts = -1, rc;

	if (ctl_opt_isset(a, "timeout") && (rc = ctl_parse_count(a, "-t",
	    ctl_opt_value(a, "timeout"), &timeout_ms)) != CTL_EXIT_OK)
		return rc;
	if (ctl_opt_isset(a, "min-restarts") && (rc = ctl_parse_count(a,
	    "--min-restarts", ctl_opt_value(a, "min-restarts"), &restarts)) !=
	    CTL_EXIT_OK)
		return rc;
	if ((rc = wait_condition(a, restarts, &cond, &what)) != CTL_EXIT_OK)
		return rc;

	since = (double)util_now_us() / 1000.0;
	if ((rc = wait_call(c, cond, timeout_ms, &res)) != CTL_EXIT_OK) {
		free(what);
		return rc;
	}
	if (c->json)
		ctl_print_result(res);
	else
		printf("%s (waited %s)\n", what, ctl_fmt_duration(buf,
		    sizeof(buf), ctl_elapsed_ms(since)));
	free(what);
	json_decref(res);
	return CTL_EXIT_OK;
}
