/*
 * wardenctl-status.c: the commands that look at warden: ping, version,
 * status and recovery. With -j each prints warden's result as it is;
 * otherwise as a line and tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "version.h"
#include "wardenctl.h"

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
	return ctl_call_print(c, "ping", NULL, CTL_DEADLINE_QUICK_MS,
	    print_line);
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
	return ctl_call_print(c, "version", NULL, CTL_DEADLINE_QUICK_MS,
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

/* Never run since it was declared with autostart false: say why it is down. */
static bool
status_down_by_config(json_t *svc)
{
	json_t	*last = json_object_get(svc, "last_exit");

	return json_is_false(json_object_get(svc, "autostart")) &&
	    json_is_null(json_object_get(svc, "pid")) &&
	    (last == NULL || json_is_null(last));
}

/* Its probe's verdict, "-" with no probe or no instance to probe. */
static void
table_health(struct ctl_table *t, json_t *svc)
{
	const char	*v = ctl_json_str(json_object_get(svc, "health"),
	    "status");

	ctl_table_cell(t, "%s", v != NULL ? v : "-");
}

/* Under the table: each probe whose last round failed, and why. */
static void
print_probe_errors(json_t *services)
{
	json_t		*svc, *hl;
	const char	*err;
	size_t		 i;

	json_array_foreach(services, i, svc) {
		hl = json_object_get(svc, "health");
		if ((err = ctl_json_str(hl, "last_error")) == NULL)
			continue;
		printf("%s: %s probe failed (%lld in a row): %s\n",
		    ctl_json_str(svc, "name"), ctl_json_str(hl, "check"),
		    json_integer_value(json_object_get(hl, "failures")), err);
	}
}

static void
print_services(json_t *services)
{
	struct ctl_table	 t;
	json_t			*svc, *pid;
	size_t			 i;

	ctl_table_init(&t, 9, "SERVICE", "PATH", "STATE", "PID", "READY",
	    "UPTIME", "RESTARTS", "LAST-EXIT", "HEALTH");
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
		else if (status_down_by_config(svc))
			ctl_table_cell(&t, "autostart off");
		else
			ctl_table_own(&t, fmt_exit(json_object_get(svc,
			    "last_exit")));
		table_health(&t, svc);
	}
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
	print_probe_errors(services);
}

/* What workers say of themselves (STATUS=), for those that say something. */
static void
print_status_texts(json_t *services)
{
	struct ctl_table	 t;
	json_t			*svc;
	size_t			 i, n = 0;

	ctl_table_init(&t, 2, "SERVICE", "STATUS-TEXT");
	json_array_foreach(services, i, svc) {
		if (!json_is_string(json_object_get(svc, "status_text")))
			continue;
		table_cell_of(&t, svc, "name");
		table_cell_of(&t, svc, "status_text");
		n++;
	}
	if (n > 0) {
		putchar('\n');
		ctl_table_print(&t, stdout);
	}
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
	if (json_array_size(services) > 0) {
		print_services(services);
		print_status_texts(services);
	} else
		printf("no services\n");
	if (json_array_size(sups) > 0) {
		putchar('\n');
		print_supervisors(sups);
	}
}

/*
 * What scripts ask of status: without names, is the health ok; with,
 * is every service named running and ready (a supervisor: running)?
 */
static bool
status_ok(json_t *res, bool named)
{
	json_t		*v;
	const char	*state;
	size_t		 i;

	if (!named) {
		state = ctl_json_str(res, "health");
		return state != NULL && strcmp(state, "ok") == 0;
	}
	json_array_foreach(json_object_get(res, "services"), i, v) {
		state = ctl_json_str(v, "state");
		if (state == NULL || strcmp(state, "running") != 0 ||
		    !json_is_true(json_object_get(v, "ready")))
			return false;
	}
	json_array_foreach(json_object_get(res, "supervisors"), i, v) {
		state = ctl_json_str(v, "state");
		if (state == NULL || strcmp(state, "running") != 0)
			return false;
	}
	return true;
}

int
cmd_status(struct ctl *c, struct ctl_args *a)
{
	json_t	*params = NULL, *res, *list;
	int	 i, rc;
	bool	 ok;

	if (a->argc == 1)
		params = ctl_params("service", ctl_str(a->argv[0]));
	else if (a->argc > 1) {
		if ((list = json_array()) == NULL)
			fatalx("out of memory");
		for (i = 0; i < a->argc; i++)
			if (json_array_append_new(list, ctl_str(a->argv[i])) ==
			    -1)
				fatalx("out of memory");
		params = ctl_params("service", list);
	}
	rc = ctl_call(c, "status", params, CTL_DEADLINE_QUICK_MS, &res);
	if (rc != CTL_EXIT_OK)
		return rc;
	if (c->json)
		ctl_print_result(res);
	else
		print_status(res);
	ok = status_ok(res, a->argc > 0 && strcmp(a->argv[0], "*") != 0);
	json_decref(res);
	return ok ? CTL_EXIT_OK : CTL_EXIT_NOT_OK;
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
	ctl_table_init(&t, 8, "SERVICE", "STATE", "RESTARTS", "IN-WINDOW",
	    "BUDGET", "DOWN-FOR", "LAST-RECOVERY", "HEALTH");
	json_array_foreach(json_object_get(res, "services"), i, svc) {
		table_cell_of(&t, svc, "name");
		table_cell_of(&t, svc, "state");
		table_cell_of(&t, svc, "restarts");
		table_cell_of(&t, svc, "restarts_in_window");
		table_cell_of(&t, svc, "budget_left");
		/* down_since is on CLOCK_MONOTONIC, shared with warden. */
		if (json_is_number(since = json_object_get(svc, "down_since")))
			ctl_table_cell(&t, "%s", ctl_fmt_duration(buf,
			    sizeof(buf), ctl_elapsed_ms(
			    json_number_value(since))));
		else
			ctl_table_cell(&t, "-");
		table_duration(&t, json_object_get(svc, "last_recovery_ms"));
		table_health(&t, svc);
	}
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

int
cmd_recovery(struct ctl *c, struct ctl_args *a)
{
	(void)a;
	return ctl_call_print(c, "recovery", NULL, CTL_DEADLINE_QUICK_MS,
	    print_recovery);
}

/* The Prometheus text as it is, as a scraper would get it over HTTP. */
static void
print_metrics(json_t *res)
{
	const char	*text = json_string_value(json_object_get(res, "text"));

	if (text != NULL)
		fputs(text, stdout);
}

int
cmd_metrics(struct ctl *c, struct ctl_args *a)
{
	(void)a;
	return ctl_call_print(c, "metrics", NULL, CTL_DEADLINE_QUICK_MS,
	    print_metrics);
}
