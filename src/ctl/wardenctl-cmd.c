/*
 * wardenctl-cmd.c: one handler per wardenctl command.
 *
 * A handler turns its operands into a protocol call (kill
 * --wait-recovered makes three), then prints the result: exactly, as JSON,
 * with -j; otherwise as a line or a table. It returns the exit status.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "version.h"
#include "wardenctl.h"

#define CMD_KILL_WAIT_MS	10000
#define CMD_WAIT_MS		30000
/* So that MS + CTL_WAIT_MARGIN_MS still fits an int. */
#define CMD_MS_MAX		(INT_MAX - CTL_WAIT_MARGIN_MS)

static const char *const cmd_states[] = {
	"starting", "running", "stopping", "stopped", "backoff", "failed"
};

/*
 * A string operand for a request. warden judges names; bytes that are not
 * UTF-8 make the request unencodable, which ctl_call reports.
 */
json_t *
cmd_str(const char *s)
{
	json_t	*v;

	if ((v = json_string_nocheck(s)) == NULL)
		fatalx("out of memory");
	return v;
}

void
cmd_set(json_t *obj, const char *key, json_t *value)
{
	if (value == NULL || json_object_set_new(obj, key, value) == -1)
		fatalx("out of memory");
}

/* {key: value}, a request's params. */
json_t *
cmd_params(const char *key, json_t *value)
{
	json_t	*obj;

	if ((obj = json_object()) == NULL)
		fatalx("out of memory");
	cmd_set(obj, key, value);
	return obj;
}

/* A count of milliseconds (or of anything) from the command line. */
int
cmd_parse_count(const struct ctl_args *a, const char *what, const char *s,
    int *out)
{
	char	*end;
	long	 n;

	if (s == NULL || *s < '0' || *s > '9')
		return ctl_usage_error(a, "%s: %s is not a number", what,
		    s != NULL ? s : "(none)");
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || n > CMD_MS_MAX)
		return ctl_usage_error(a, "%s: %s is not a number from 0 to %d",
		    what, s, CMD_MS_MAX);
	*out = (int)n;
	return CTL_EXIT_OK;
}

static double
cmd_elapsed_ms(double since_ms)
{
	double	ms = (double)util_now_us() / 1000.0 - since_ms;

	return ms > 0 ? ms : 0;
}

/*
 * Call method and print its result: as JSON with -j, otherwise with
 * human (NULL: as JSON too).
 */
int
cmd_simple(struct ctl *c, const char *method, json_t *params, int deadline_ms,
    void (*human)(json_t *))
{
	json_t	*res;
	int	 rc;

	rc = ctl_call(c, method, params, deadline_ms, &res);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (c->json || human == NULL)
		ctl_print_result(res);
	else
		human(res);
	json_decref(res);
	return CTL_EXIT_OK;
}

/* A string result as a line; anything else as JSON. */
static void
print_line(json_t *res)
{
	if (json_is_string(res))
		printf("%s\n", json_string_value(res));
	else
		ctl_print_result(res);
}

int
cmd_ping(struct ctl *c, struct ctl_args *a)
{
	(void)a;
	return cmd_simple(c, "ping", NULL, CTL_DEADLINE_QUICK_MS, print_line);
}

static void
print_version(json_t *res)
{
	char	*version = ctl_cell(json_object_get(res, "version"));
	char	*protocol = ctl_cell(json_object_get(res, "protocol"));

	printf("warden %s (protocol %s)\n", version, protocol);
	free(version);
	free(protocol);
}

int
cmd_version(struct ctl *c, struct ctl_args *a)
{
	(void)a;
	/* Ours first: worth knowing even when warden cannot be reached. */
	if (!c->json) {
		printf("wardenctl %s\n", WARDEN_VERSION);
		fflush(stdout);
	}
	return cmd_simple(c, "version", NULL, CTL_DEADLINE_QUICK_MS,
	    print_version);
}

/* "exit 1", "signal KILL" or "-". */
static char *
fmt_exit(json_t *last)
{
	json_t	*v;
	char	*cell, *s;

	if ((v = json_object_get(last, "signal")) != NULL &&
	    !json_is_null(v)) {
		cell = ctl_cell(v);
		xasprintf(&s, "signal %s", cell);
	} else if ((v = json_object_get(last, "code")) != NULL &&
	    !json_is_null(v)) {
		cell = ctl_cell(v);
		xasprintf(&s, "exit %s", cell);
	} else
		return ctl_cell(json_is_object(last) ? NULL : last);
	free(cell);
	return s;
}

static void
table_cell_of(struct ctl_table *t, json_t *obj, const char *key)
{
	ctl_table_own(t, ctl_cell(json_object_get(obj, key)));
}

static void
table_duration(struct ctl_table *t, json_t *ms)
{
	char	buf[32];

	if (json_is_number(ms))
		ctl_table_cell(t, "%s", ctl_fmt_duration(buf, sizeof(buf),
		    json_number_value(ms)));
	else
		ctl_table_cell(t, "-");
}

static void
print_services(json_t *services)
{
	struct ctl_table	 t;
	json_t			*svc, *pid;
	size_t			 i;

	ctl_table_init(&t, 8, "SERVICE", "PATH", "STATE", "PID", "READY",
	    "UPTIME", "RESTARTS", "LAST-EXIT");
	json_array_foreach(services, i, svc) {
		pid = json_object_get(svc, "pid");
		table_cell_of(&t, svc, "name");
		table_cell_of(&t, svc, "path");
		table_cell_of(&t, svc, "state");
		ctl_table_own(&t, ctl_cell(pid));
		table_cell_of(&t, svc, "ready");
		/* Uptime means something only while there is a process. */
		table_duration(&t, json_is_integer(pid) ?
		    json_object_get(svc, "uptime_ms") : NULL);
		table_cell_of(&t, svc, "restarts");
		/* Why it could not start says more than its exit 127. */
		if (json_is_string(json_object_get(svc, "reason")))
			table_cell_of(&t, svc, "reason");
		else
			ctl_table_own(&t, fmt_exit(json_object_get(svc,
			    "last_exit")));
	}
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

static void
print_supervisors(json_t *sups)
{
	struct ctl_table	 t;
	json_t			*sup;
	char			*in, *max, *secs;
	size_t			 i;

	ctl_table_init(&t, 7, "SUPERVISOR", "PATH", "STRATEGY", "STATE",
	    "RESTARTS", "INTENSITY", "CHILDREN");
	json_array_foreach(sups, i, sup) {
		table_cell_of(&t, sup, "name");
		table_cell_of(&t, sup, "path");
		table_cell_of(&t, sup, "strategy");
		table_cell_of(&t, sup, "state");
		table_cell_of(&t, sup, "restarts");
		in = ctl_cell(json_object_get(sup, "restarts_in_window"));
		max = ctl_cell(json_object_get(sup, "max_restarts"));
		secs = ctl_cell(json_object_get(sup, "max_seconds"));
		ctl_table_cell(&t, "%s/%s in %ss", in, max, secs);
		free(in);
		free(max);
		free(secs);
		ctl_table_own(&t, ctl_join_names(json_object_get(sup,
		    "children"), ","));
	}
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

static void
print_status(json_t *res)
{
	json_t	*services = json_object_get(res, "services");
	json_t	*sups = json_object_get(res, "supervisors");
	char	*health = ctl_cell(json_object_get(res, "health"));
	char	*stage = ctl_cell(json_object_get(res, "stage"));

	printf("health %s, stage %s\n", health, stage);
	free(health);
	free(stage);
	if (json_array_size(services) > 0)
		print_services(services);
	else
		printf("no services\n");
	if (json_array_size(sups) > 0) {
		putchar('\n');
		print_supervisors(sups);
	}
}

int
cmd_status(struct ctl *c, struct ctl_args *a)
{
	json_t	*params = NULL;

	if (a->argc > 0)
		params = cmd_params("service", cmd_str(a->argv[0]));
	return cmd_simple(c, "status", params, CTL_DEADLINE_QUICK_MS,
	    print_status);
}

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

/* start, stop and restart: service.<command>. */
int
cmd_service(struct ctl *c, struct ctl_args *a)
{
	char	*method;
	int	 rc;

	xasprintf(&method, "service.%s", a->cmd->name);
	rc = cmd_simple(c, method, cmd_params("service", cmd_str(a->argv[0])),
	    CTL_DEADLINE_LONG_MS, print_service);
	free(method);
	return rc;
}

/* wait with a client deadline a margin past warden's own. */
static int
cmd_wait_call(struct ctl *c, json_t *condition, int timeout_ms, json_t **res)
{
	json_t	*params = cmd_params("condition", condition);

	cmd_set(params, "timeout_ms", json_integer(timeout_ms));
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
	json_t	*target;
	int	 i;

	if (a->argc == 1)
		return cmd_params("service", cmd_str(a->argv[0]));
	if ((target = json_array()) == NULL)
		fatalx("out of memory");
	for (i = 0; i < a->argc; i++)
		if (json_array_append_new(target, cmd_str(a->argv[i])) == -1)
			fatalx("out of memory");
	return cmd_params("service", target);
}

int
cmd_kill(struct ctl *c, struct ctl_args *a)
{
	json_t		*params, *res, *wres, *ts;
	const char	*sig, *name;
	uint64_t	 start, deadline, now;
	double		 since;
	char		 buf[32];
	int		 signo = -1, wait_ms = CMD_KILL_WAIT_MS, rc;
	bool		 wait = ctl_opt_isset(a, "wait-recovered");

	if (wait && ctl_opt_value(a, "wait-recovered") != NULL &&
	    (rc = cmd_parse_count(a, "--wait-recovered",
	    ctl_opt_value(a, "wait-recovered"), &wait_ms)) != CTL_EXIT_OK)
		return rc;
	if ((sig = ctl_opt_value(a, "signal")) != NULL &&
	    (signo = util_signal_parse(sig)) == -1)
		return ctl_usage_error(a, "%s is not a signal", sig);
	params = kill_params(a);
	if (sig != NULL) {
		/* The name without SIG; a signal without one by number. */
		name = util_signal_name(signo);
		cmd_set(params, "signal", strncmp(name, "SIG", 3) == 0 ?
		    json_integer(signo) : json_string(name));
	}

	start = util_now_ms();
	since = (double)util_now_us() / 1000.0;
	/* Subscribed before the kill, so that no exit goes unseen. */
	if (wait) {
		rc = ctl_call(c, "subscribe", cmd_params("topics",
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
		rc = cmd_wait_call(c, cmd_params("recovered", json_true()),
		    now < deadline ? (int)(deadline - now) : 0, &wres);
	}
	if (rc == CTL_EXIT_OK) {
		if (c->json) {
			cmd_set(res, "wait", wres);
			/* Microseconds are all the clocks can tell. */
			cmd_set(res, "recovered_ms", json_real(
			    (double)(long long)(cmd_elapsed_ms(since) * 1000 +
			    0.5) / 1000));
		} else {
			printf("recovered in %s\n", ctl_fmt_duration(buf,
			    sizeof(buf), cmd_elapsed_ms(since)));
			json_decref(wres);
		}
	}
	if (c->json)
		ctl_print_result(res);
	json_decref(res);
	return rc;
}

static bool
cmd_is_state(const char *s)
{
	size_t	i;

	for (i = 0; i < nitems(cmd_states); i++)
		if (strcmp(s, cmd_states[i]) == 0)
			return true;
	return false;
}

enum wait_kind {
	WAIT_SERVICE,		/* SERVICE STATE */
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
	else if (a->argc == 2 && cmd_is_state(a->argv[1]))
		kind = WAIT_SERVICE;
	else if (a->argc == 2 && strcmp(a->argv[0], "stage") == 0)
		kind = WAIT_STAGE;
	else if (a->argc == 2 && strcmp(a->argv[0], "flag") == 0)
		return ctl_usage_error(a, "expected flag NAME VALUE");
	else if (a->argc == 2)
		return ctl_usage_error(a, "%s: not a state (starting, running, "
		    "stopping, stopped, backoff, failed)", a->argv[1]);
	else if (strcmp(a->argv[0], "recovered") == 0)
		kind = WAIT_RECOVERED;
	else
		return ctl_usage_error(a, "expected SERVICE STATE, recovered, "
		    "flag NAME VALUE or stage N");
	if (restarts != -1 && kind != WAIT_SERVICE)
		return ctl_usage_error(a, "--min-restarts needs SERVICE STATE");

	switch (kind) {
	case WAIT_SERVICE:
		*cond = cmd_params("service", cmd_str(a->argv[0]));
		cmd_set(*cond, "state", cmd_str(a->argv[1]));
		if (restarts != -1)
			cmd_set(*cond, "min_restarts", json_integer(restarts));
		xasprintf(what, "%s: %s", a->argv[0], a->argv[1]);
		break;
	case WAIT_RECOVERED:
		*cond = cmd_params("recovered", json_true());
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
		*cond = cmd_params("flag", cmd_str(a->argv[1]));
		cmd_set(*cond, "value", value);
		break;
	case WAIT_STAGE:
		if ((rc = cmd_parse_count(a, "stage", a->argv[1], &stage)) !=
		    CTL_EXIT_OK)
			return rc;
		*cond = cmd_params("stage", json_integer(stage));
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
	int		 timeout_ms = CMD_WAIT_MS, restarts = -1, rc;

	if (ctl_opt_isset(a, "timeout") && (rc = cmd_parse_count(a, "-t",
	    ctl_opt_value(a, "timeout"), &timeout_ms)) != CTL_EXIT_OK)
		return rc;
	if (ctl_opt_isset(a, "min-restarts") && (rc = cmd_parse_count(a,
	    "--min-restarts", ctl_opt_value(a, "min-restarts"), &restarts)) !=
	    CTL_EXIT_OK)
		return rc;
	if ((rc = wait_condition(a, restarts, &cond, &what)) != CTL_EXIT_OK)
		return rc;

	since = (double)util_now_us() / 1000.0;
	if ((rc = cmd_wait_call(c, cond, timeout_ms, &res)) != CTL_EXIT_OK) {
		free(what);
		return rc;
	}
	if (c->json)
		ctl_print_result(res);
	else
		printf("%s (waited %s)\n", what, ctl_fmt_duration(buf,
		    sizeof(buf), cmd_elapsed_ms(since)));
	free(what);
	json_decref(res);
	return CTL_EXIT_OK;
}

static void
print_recovery(json_t *res)
{
	struct ctl_table	 t;
	json_t			*svc, *table, *since;
	char			*recovering, *failed, *cell, buf[32];
	size_t			 i;

	recovering = ctl_cell(json_object_get(res, "recovering"));
	failed = ctl_join_names(json_object_get(res, "failed"), ", ");
	printf("recovering %s, failed %s\n", recovering, failed);
	free(recovering);
	free(failed);
	if (json_is_object(table = json_object_get(res, "table"))) {
		cell = ctl_cell(json_object_get(table, "repairs"));
		printf("table %s, repairs %s", json_is_true(json_object_get(
		    table, "healthy")) ? "healthy" : "damaged", cell);
		free(cell);
		if (json_is_number(since = json_object_get(table,
		    "last_repair_ms")))
			printf(", last repair took %s", ctl_fmt_duration(buf,
			    sizeof(buf), json_number_value(since)));
		putchar('\n');
	}
	ctl_table_init(&t, 7, "SERVICE", "STATE", "RESTARTS", "IN-WINDOW",
	    "BUDGET", "DOWN-FOR", "LAST-RECOVERY");
	json_array_foreach(json_object_get(res, "services"), i, svc) {
		table_cell_of(&t, svc, "name");
		table_cell_of(&t, svc, "state");
		table_cell_of(&t, svc, "restarts");
		table_cell_of(&t, svc, "restarts_in_window");
		table_cell_of(&t, svc, "budget_left");
		/* down_since is on CLOCK_MONOTONIC, shared with warden. */
		if (json_is_number(since = json_object_get(svc, "down_since")))
			ctl_table_cell(&t, "%s", ctl_fmt_duration(buf,
			    sizeof(buf), cmd_elapsed_ms(
			    json_number_value(since))));
		else
			ctl_table_cell(&t, "-");
		table_duration(&t, json_object_get(svc, "last_recovery_ms"));
	}
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

int
cmd_recovery(struct ctl *c, struct ctl_args *a)
{
	(void)a;
	return cmd_simple(c, "recovery", NULL, CTL_DEADLINE_QUICK_MS,
	    print_recovery);
}

/* A value in an event line: bare when it reads unambiguously. */
static void
print_event_value(json_t *v)
{
	const char	*s;
	char		*text;

	if (json_is_string(v)) {
		s = json_string_value(v);
		if (*s != '\0' && strcspn(s, " \t\n\"=\\") == strlen(s) &&
		    strlen(s) == json_string_length(v)) {
			fputs(s, stdout);
			return;
		}
	}
	text = ctl_json_text(v, false);
	fputs(text, stdout);
	free(text);
}

/*
 * Events about flags, stages and the table have no service: their line
 * names what changed and how, and the keys that says are not repeated.
 */
struct event_form {
	const char	*type;
	const char	*keys[6];	/* what the line says; NULL-ended */
	void		(*print)(json_t *);
};

static void
event_from_to(json_t *ev)
{
	char	*from = ctl_cell(json_object_get(ev, "from"));
	char	*to = ctl_cell(json_object_get(ev, "to"));

	printf(" %s -> %s", from, to);
	free(from);
	free(to);
}

/* " by uid 1000 pid 42 reason=..." ("by warden": its guard). */
static void
event_by_reason(json_t *ev)
{
	json_t	*reason = json_object_get(ev, "reason");
	char	*by = ctl_by_cell(json_object_get(ev, "by"), "warden");

	if (json_object_get(ev, "by") != NULL)
		printf(" by %s", by);
	free(by);
	if (json_is_string(reason)) {
		fputs(" reason=", stdout);
		print_event_value(reason);
	}
}

/* flag.changed: "use_x off -> 50% by uid 1000 pid 42 reason=..." */
static void
event_flag_changed(json_t *ev)
{
	char	*name = ctl_text_cell(json_object_get(ev, "name"));
	char	*old = ctl_flag_value_cell(json_object_get(ev, "old"));
	char	*new = ctl_flag_value_cell(json_object_get(ev, "new"));

	printf(" %s %s -> %s", name, old, new);
	free(name);
	free(old);
	free(new);
	event_by_reason(ev);
}

/* stage.changed: "1 -> 3 (set) by uid 1000 pid 42 reason=..." */
static void
event_stage_changed(json_t *ev)
{
	char	*kind = ctl_cell(json_object_get(ev, "kind"));

	event_from_to(ev);
	printf(" (%s)", kind);
	free(kind);
	event_by_reason(ev);
}

/* guard.rollback: "3 -> 2 reason=..." */
static void
event_guard_rollback(json_t *ev)
{
	json_t	*reason = json_object_get(ev, "reason");

	event_from_to(ev);
	if (json_is_string(reason)) {
		fputs(" reason=", stdout);
		print_event_value(reason);
	}
}

/* table.deleted: "/warden-demo" */
static void
event_table(json_t *ev)
{
	char	*name = ctl_text_cell(json_object_get(ev, "name"));

	printf(" %s", name);
	free(name);
}

/* table.repaired: "/warden-demo in 1.20ms generation=12" */
static void
event_table_repaired(json_t *ev)
{
	json_t	*ms = json_object_get(ev, "repair_ms");
	char	 buf[32];

	event_table(ev);
	if (json_is_number(ms))
		printf(" in %s", ctl_fmt_duration(buf, sizeof(buf),
		    json_number_value(ms)));
}

/* warden.reexecuted: "0.1.0 -> 0.2.0", then pid, binary, took_ms... */
static void
event_reexecuted(json_t *ev)
{
	char	*before = ctl_text_cell(json_object_get(ev, "version_before"));
	char	*after = ctl_text_cell(json_object_get(ev, "version"));

	printf(" %s -> %s", before, after);
	free(before);
	free(after);
}

/* warden.reexec_failed: "/usr/bin/warden", then reason=... */
static void
event_reexec_failed(json_t *ev)
{
	char	*binary = ctl_text_cell(json_object_get(ev, "binary"));

	printf(" %s", binary);
	free(binary);
}

static const struct event_form event_forms[] = {
	{ "flag.changed", { "name", "old", "new", "by", "reason", NULL },
	  event_flag_changed },
	{ "stage.changed", { "from", "to", "kind", "by", "reason", NULL },
	  event_stage_changed },
	{ "guard.rollback", { "from", "to", "reason", NULL },
	  event_guard_rollback },
	{ "table.deleted", { "name", NULL }, event_table },
	{ "table.repaired", { "name", "repair_ms", NULL },
	  event_table_repaired },
	{ "warden.reexecuted", { "version_before", "version", NULL },
	  event_reexecuted },
	{ "warden.reexec_failed", { "binary", NULL }, event_reexec_failed },
};

static bool
event_form_says(const struct event_form *form, const char *key)
{
	size_t	i;

	if (strcmp(key, "seq") == 0 || strcmp(key, "ts") == 0 ||
	    strcmp(key, "type") == 0)
		return true;
	if (form == NULL)
		return strcmp(key, "service") == 0;
	for (i = 0; form->keys[i] != NULL; i++)
		if (strcmp(key, form->keys[i]) == 0)
			return true;
	return false;
}

/* "seq ts type service key=value...", or the type's own form. */
static void
print_event(json_t *ev)
{
	const struct event_form	*form = NULL;
	const char		*key, *typestr;
	json_t			*v;
	char			*seq, *type, *service;
	size_t			 i;

	seq = ctl_cell(json_object_get(ev, "seq"));
	type = ctl_cell(json_object_get(ev, "type"));
	if ((typestr = ctl_json_str(ev, "type")) != NULL)
		for (i = 0; i < nitems(event_forms); i++)
			if (strcmp(typestr, event_forms[i].type) == 0)
				form = &event_forms[i];
	printf("%s ", seq);
	if (json_is_number(v = json_object_get(ev, "ts")))
		printf("%.3f", json_number_value(v));
	else
		putchar('-');
	printf(" %s", type);
	if (form != NULL)
		form->print(ev);
	else {
		service = ctl_cell(json_object_get(ev, "service"));
		printf(" %s", service);
		free(service);
	}
	json_object_foreach(ev, key, v) {
		if (event_form_says(form, key))
			continue;
		printf(" %s=", key);
		print_event_value(v);
	}
	putchar('\n');
	free(seq);
	free(type);
}

int
cmd_events(struct ctl *c, struct ctl_args *a)
{
	json_t		*topics, *params = NULL, *res, *ev;
	const char	*type;
	bool		 dropped = false;
	int		 i, rc;

	if (a->argc > 0) {
		if ((topics = json_array()) == NULL)
			fatalx("out of memory");
		for (i = 0; i < a->argc; i++)
			if (json_array_append_new(topics,
			    cmd_str(a->argv[i])) == -1)
				fatalx("out of memory");
		params = cmd_params("topics", topics);
	}
	rc = ctl_call(c, "subscribe", params, CTL_DEADLINE_QUICK_MS, &res);
	if (rc != CTL_EXIT_OK)
		return rc;
	json_decref(res);
	for (;;) {
		if ((rc = ctl_next_event(c, -1, &ev)) != CTL_EXIT_OK)
			return rc;
		if (ev == NULL)
			break;
		if (c->json) {
			ctl_json_write(stdout, ev, false);
			putchar('\n');
		} else
			print_event(ev);
		type = ctl_json_str(ev, "type");
		dropped = type != NULL && strcmp(type, "events.dropped") == 0;
		json_decref(ev);
		/* A reader at the other end of a pipe sees each at once. */
		if (fflush(stdout) == EOF)
			return ctl_errx(CTL_EXIT_ERROR, "standard output: %s",
			    strerror(errno));
	}
	if (dropped)
		return ctl_errx(CTL_EXIT_ERROR, "events were dropped: this "
		    "reader fell behind and warden closed the connection");
	return CTL_EXIT_OK;
}

static void
print_reload_list(const char *what, json_t *names)
{
	char	*list = ctl_join_names(names, ", ");

	printf("%-10s %s\n", what, list);
	free(list);
}

static void
print_reload(json_t *res)
{
	print_reload_list("added", json_object_get(res, "added"));
	print_reload_list("removed", json_object_get(res, "removed"));
	print_reload_list("changed", json_object_get(res, "changed"));
	/* Unchanged services are most of them: their number says enough. */
	printf("%-10s %zu\n", "unchanged",
	    json_array_size(json_object_get(res, "unchanged")));
}

static void
print_reload_dry(json_t *res)
{
	printf("dry run: nothing applied\n");
	print_reload(res);
}

int
cmd_reload(struct ctl *c, struct ctl_args *a)
{
	bool	dry = ctl_opt_isset(a, "dry-run");

	return cmd_simple(c, "config.reload", dry ?
	    cmd_params("dry_run", json_true()) : NULL, CTL_DEADLINE_LONG_MS,
	    dry ? print_reload_dry : print_reload);
}

/*
 * BINARY as warden must be given it: absolute, since warden's folder is
 * not ours. A relative one is taken from our folder, with its folder
 * resolved and its own name kept, so that a symbolic link such as
 * bin/warden -> warden-0.2 stays the name warden executes. A file that
 * does not exist or cannot be executed is refused here: asking warden
 * would only get the same answer later.
 */
static int
reexec_binary(const struct ctl_args *a, const char *binary, char **abs)
{
	struct stat	 sb;
	const char	*slash, *base;
	char		*dir, *real;

	*abs = NULL;
	if (*binary == '\0')
		return ctl_usage_error(a, "BINARY is empty");
	if (stat(binary, &sb) == -1)
		return ctl_usage_error(a, "%s: %s", binary, strerror(errno));
	if (S_ISDIR(sb.st_mode))
		return ctl_usage_error(a, "%s: %s", binary, strerror(EISDIR));
	if (!S_ISREG(sb.st_mode))
		return ctl_usage_error(a, "%s: not a regular file", binary);
	if (access(binary, X_OK) == -1)
		return ctl_usage_error(a, "%s: not executable: %s", binary,
		    strerror(errno));
	if (*binary == '/') {
		*abs = xstrdup(binary);
		return CTL_EXIT_OK;
	}

	if ((slash = strrchr(binary, '/')) != NULL) {
		xasprintf(&dir, "%.*s", (int)(slash - binary), binary);
		base = slash + 1;
	} else {
		dir = xstrdup(".");
		base = binary;
	}
	real = realpath(dir, NULL);
	free(dir);
	if (real == NULL)
		return ctl_usage_error(a, "%s: cannot make it absolute: %s",
		    binary, strerror(errno));
	xasprintf(abs, "%s/%s", strcmp(real, "/") == 0 ? "" : real, base);
	free(real);
	return CTL_EXIT_OK;
}

/* "1000 workers", "1 client", "- workers" when warden did not say. */
static char *
reexec_count(json_t *n, const char *noun)
{
	char	*s;

	if (json_is_integer(n))
		xasprintf(&s, "%" JSON_INTEGER_FORMAT " %s%s",
		    json_integer_value(n), noun,
		    json_integer_value(n) == 1 ? "" : "s");
	else
		xasprintf(&s, "- %ss", noun);
	return s;
}

/*
 * "warden reexecuted: pid 1234, 0.2.0 -> 0.2.1, 1000 workers, 3 clients,
 * 12.4ms", on one line.
 */
static void
print_reexec(json_t *res)
{
	json_t	*took = json_object_get(res, "took_ms");
	char	*pid = ctl_cell(json_object_get(res, "pid"));
	char	*before = ctl_cell(json_object_get(res, "version_before"));
	char	*after = ctl_cell(json_object_get(res, "version"));
	char	*workers = reexec_count(json_object_get(res, "workers"),
		    "worker");
	char	*clients = reexec_count(json_object_get(res, "clients"),
		    "client");
	char	 buf[32];

	printf("warden reexecuted: pid %s, %s -> %s, %s, %s, %s\n", pid,
	    before, after, workers, clients, json_is_number(took) ?
	    ctl_fmt_duration(buf, sizeof(buf), json_number_value(took)) : "-");
	free(pid);
	free(before);
	free(after);
	free(workers);
	free(clients);
}

int
cmd_reexec(struct ctl *c, struct ctl_args *a)
{
	json_t	*params = NULL;
	char	*binary;
	int	 rc;

	if (a->argc > 0) {
		if ((rc = reexec_binary(a, a->argv[0], &binary)) !=
		    CTL_EXIT_OK)
			return rc;
		params = cmd_params("binary", cmd_str(binary));
		free(binary);
	}
	return cmd_simple(c, "reexec", params, CTL_DEADLINE_REEXEC_MS,
	    print_reexec);
}

static void
print_shutdown(json_t *res)
{
	(void)res;
	printf("warden is stopping\n");
}

int
cmd_shutdown(struct ctl *c, struct ctl_args *a)
{
	(void)a;
	return cmd_simple(c, "shutdown", NULL, CTL_DEADLINE_QUICK_MS,
	    print_shutdown);
}

int
cmd_call(struct ctl *c, struct ctl_args *a)
{
	json_error_t	 err;
	json_t		*params = NULL, *t;
	int		 deadline_ms = CTL_DEADLINE_LONG_MS;

	if (a->argc == 2 && (params = json_loads(a->argv[1], 0, &err)) ==
	    NULL)
		return ctl_usage_error(a, "PARAMS: %s (column %d)", err.text,
		    err.column);
	/* A raw wait must not hit our deadline before warden's own. */
	t = json_object_get(params, "timeout_ms");
	if (json_is_integer(t) && json_integer_value(t) >= 0 &&
	    json_integer_value(t) < CMD_MS_MAX &&
	    json_integer_value(t) + CTL_WAIT_MARGIN_MS > deadline_ms)
		deadline_ms = (int)json_integer_value(t) + CTL_WAIT_MARGIN_MS;
	return cmd_simple(c, a->argv[0], params, deadline_ms, NULL);
}
