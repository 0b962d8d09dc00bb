/*
 * wardenctl-events.c: "wardenctl events": one line per event as warden
 * sends them, until it closes the connection. Most events read as
 * "seq time type service key=value..."; those about flags, stages, the
 * table and reexec have a form of their own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "protocol.h"
#include "util.h"
#include "wardenctl.h"

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
	    strcmp(key, "time") == 0 ||
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
	/* The time as warden says times; ts, the monotonic one, is for -j. */
	if (json_is_string(v = json_object_get(ev, "time")))
		fputs(json_string_value(v), stdout);
	else if (json_is_number(v = json_object_get(ev, "ts")))
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

	/* A topic nothing is sent under would wait for ever: said now. */
	for (i = 0; i < a->argc; i++)
		if (!rpc_event_topic_known(a->argv[i]))
			return ctl_usage_error(a, "%s: unknown topic (an event "
			    "type, or a prefix of one ending at a dot: "
			    "service, service.exited, flag., ...)", a->argv[i]);
	if (a->argc > 0) {
		if ((topics = json_array()) == NULL)
			fatalx("out of memory");
		for (i = 0; i < a->argc; i++)
			if (json_array_append_new(topics,
			    ctl_str(a->argv[i])) == -1)
				fatalx("out of memory");
		params = ctl_params("topics", topics);
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
