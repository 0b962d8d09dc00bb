/*
 * wardenctl-flag.c: the flag, stage and table commands, and how flag
 * values, their authors and free text read in wardenctl's output.
 *
 * Each command takes a subcommand ("flag set", "stage rollback"); a table
 * of them per command says how many operands each takes and which of the
 * command's options apply, so that a misplaced -m is a usage error rather
 * than silently ignored.
 *
 * Everything goes through the socket but "flag read", which reads the
 * shared table with libwarden exactly as a worker does: it shows what
 * readers see, which is the question when the socket and the table might
 * disagree (a table being repaired, a reader left on an old one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <warden.h>

#include "log.h"
#include "protocol.h"
#include "util.h"
#include "wardenctl.h"

#define FLAG_PERCENT_MAX	100

/* A subcommand: its operands after its name, and the options it takes. */

/*
 * The value of a flag as the command line writes it: on, off, true, false
 * (any case), or a percentage 0..100 with or without a trailing '%'. NULL
 * when it is none of these.
 */
json_t *
ctl_flag_value_arg(const char *s)
{
	const char	*p;
	json_t		*v;
	long		 n = 0;

	if (strcasecmp(s, "on") == 0 || strcasecmp(s, "true") == 0)
		return json_true();
	if (strcasecmp(s, "off") == 0 || strcasecmp(s, "false") == 0)
		return json_false();
	if (*s < '0' || *s > '9')
		return NULL;
	/* Digits by hand: strtol would take " 5", "+5" and "0x5". */
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0');
		if (n > FLAG_PERCENT_MAX)
			return NULL;
	}
	if (*p == '%')
		p++;
	if (*p != '\0')
		return NULL;
	if ((v = json_integer(n)) == NULL)
		fatalx("out of memory");
	return v;
}

/* "on", "off", "50%"; anything else as a cell. */
char *
ctl_flag_value_cell(json_t *v)
{
	char	*s;

	if (json_is_true(v))
		return xstrdup("on");
	if (json_is_false(v))
		return xstrdup("off");
	if (json_is_integer(v)) {
		xasprintf(&s, "%" JSON_INTEGER_FORMAT "%%",
		    json_integer_value(v));
		return s;
	}
	return ctl_cell(v);
}

/*
 * Who made a change: "uid 1000 pid 42". A null author reads as none says
 * (the caller knows whether that means warden itself or nobody yet); a
 * missing one as "-".
 */
char *
ctl_by_cell(json_t *by, const char *none)
{
	json_t	*uid, *pid;
	char	*s;

	if (by == NULL || json_is_null(by))
		return xstrdup(by == NULL ? "-" : none);
	uid = json_object_get(by, "uid");
	pid = json_object_get(by, "pid");
	if (!json_is_integer(uid))
		return ctl_cell(by);
	if (json_is_integer(pid))
		xasprintf(&s, "uid %" JSON_INTEGER_FORMAT " pid %"
		    JSON_INTEGER_FORMAT, json_integer_value(uid),
		    json_integer_value(pid));
	else
		xasprintf(&s, "uid %" JSON_INTEGER_FORMAT,
		    json_integer_value(uid));
	return s;
}

/*
 * Free text (a reason, a description) as a cell: as it is, unless a
 * control character or a NUL would break the line or the columns; then
 * quoted and escaped as JSON.
 */
char *
ctl_text_cell(json_t *v)
{
	const unsigned char	*p;
	size_t			 len;

	if (!json_is_string(v))
		return ctl_cell(v);
	len = json_string_length(v);
	p = (const unsigned char *)json_string_value(v);
	if (len == 0)
		return ctl_json_text(v, false);
	for (; len > 0; p++, len--)
		if (*p < 0x20 || *p == 0x7f)
			return ctl_json_text(v, false);
	return xstrdup(json_string_value(v));
}




/* A change, with --wait-observed if given (wardenctl-observe.c). */
static int
sub_change(struct ctl *c, struct ctl_args *a, const char *method,
    json_t *params, void (*human)(json_t *))
{
	int	rc, ms;

	if ((rc = ctl_observe_params(a, &params, &ms)) != CTL_EXIT_OK) {
		json_decref(params);
		return rc;
	}
	return ctl_observe_call(c, method, params, ms, human);
}

/* ---- flag ---------------------------------------------------------------- */

/* FLAG VALUE DEFAULT CHANGED BY REASON, and READERS when asked (-v) */
static void
flag_print_table(json_t *flags, bool readers)
{
	struct ctl_table	 t;
	json_t			*f, *at;
	size_t			 i;

	if (json_array_size(flags) == 0) {
		printf("no flags\n");
		return;
	}
	if (readers)
		ctl_table_init(&t, 7, "FLAG", "VALUE", "DEFAULT", "CHANGED",
		    "BY", "REASON", "READERS");
	else
		ctl_table_init(&t, 6, "FLAG", "VALUE", "DEFAULT", "CHANGED",
		    "BY", "REASON");
	json_array_foreach(flags, i, f) {
		at = json_object_get(f, "changed_at");
		ctl_table_own(&t, ctl_text_cell(json_object_get(f, "name")));
		ctl_table_own(&t, ctl_flag_value_cell(json_object_get(f,
		    "value")));
		ctl_table_own(&t, ctl_flag_value_cell(json_object_get(f,
		    "default")));
		ctl_table_own(&t, ctl_cell(at));
		/* Changed, by nobody: by warden itself. */
		ctl_table_own(&t, ctl_by_cell(json_object_get(f,
		    "changed_by"), json_is_string(at) ? "warden" : "-"));
		ctl_table_own(&t, ctl_text_cell(json_object_get(f, "reason")));
		if (readers)
			ctl_table_own(&t, ctl_observe_readers_cell(f));
	}
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

static void
flag_print_head(json_t *res)
{
	char	*stage = ctl_cell(json_object_get(res, "stage"));
	char	*gen = ctl_cell(json_object_get(res, "generation"));

	printf("stage %s, generation %s\n", stage, gen);
	free(stage);
	free(gen);
}

static void
flag_print_list(json_t *res)
{
	flag_print_head(res);
	flag_print_table(json_object_get(res, "flags"), false);
}

static void
flag_print_list_readers(json_t *res)
{
	flag_print_head(res);
	flag_print_table(json_object_get(res, "flags"), true);
}

static int
flag_list(struct ctl *c, struct ctl_args *a, int argc, char **argv)
{
	bool	v = ctl_sub_opt_given(a, "verbose");

	(void)argc;
	(void)argv;
	return ctl_call_print(c, "flag.list", v ? ctl_params("readers",
	    json_true()) : NULL, CTL_DEADLINE_QUICK_MS, v ?
	    flag_print_list_readers : flag_print_list);
}

static void
flag_print_field(const char *what, char *cell)
{
	printf("%-12s %s\n", what, cell);
	free(cell);
}

/* One field a line. */
static void
flag_print_one(json_t *f)
{
	json_t	*at = json_object_get(f, "changed_at");

	flag_print_field("name", ctl_text_cell(json_object_get(f, "name")));
	flag_print_field("value", ctl_flag_value_cell(json_object_get(f,
	    "value")));
	flag_print_field("default", ctl_flag_value_cell(json_object_get(f,
	    "default")));
	flag_print_field("description", ctl_text_cell(json_object_get(f,
	    "description")));
	flag_print_field("changed", ctl_cell(at));
	flag_print_field("by", ctl_by_cell(json_object_get(f, "changed_by"),
	    json_is_string(at) ? "warden" : "-"));
	flag_print_field("reason", ctl_text_cell(json_object_get(f,
	    "reason")));
	flag_print_field("readers", ctl_observe_readers_cell(f));
}

static int
flag_get(struct ctl *c, struct ctl_args *a, int argc, char **argv)
{
	(void)a;
	(void)argc;
	return ctl_call_print(c, "flag.get", ctl_params("name",
	    ctl_str(argv[0])), CTL_DEADLINE_QUICK_MS, flag_print_one);
}

/* "use_x: on" */
static void
flag_print_value(json_t *f)
{
	char	*name = ctl_text_cell(json_object_get(f, "name"));
	char	*value = ctl_flag_value_cell(json_object_get(f, "value"));

	printf("%s: %s\n", name, value);
	free(name);
	free(value);
}

static int
flag_set(struct ctl *c, struct ctl_args *a, int argc, char **argv)
{
	json_t	*value, *params;

	(void)argc;
	if ((value = ctl_flag_value_arg(argv[1])) == NULL)
		return ctl_usage_error(a, "%s: not a flag value (on, off, "
		    "true, false or a percentage 0..100)", argv[1]);
	params = ctl_params("name", ctl_str(argv[0]));
	ctl_set(params, "value", value);
	return sub_change(c, a, "flag.set", ctl_sub_reason(a, params),
	    flag_print_value);
}

static void
flag_print_values(json_t *res)
{
	json_t	*flags = json_object_get(res, "flags"), *f;
	size_t	 i;

	if (json_array_size(flags) == 0)
		printf("no flags\n");
	json_array_foreach(flags, i, f)
		flag_print_value(f);
}

static int
flag_reset(struct ctl *c, struct ctl_args *a, int argc, char **argv)
{
	json_t	*params = NULL;

	if (argc > 0)
		params = ctl_params("name", ctl_str(argv[0]));
	return sub_change(c, a, "flag.reset", ctl_sub_reason(a, params),
	    flag_print_values);
}

/*
 * The table to read: --table, else $WARDEN_TABLE, else the one warden
 * publishes. *name is the caller's to free.
 */
static int
flag_table_name(struct ctl *c, struct ctl_args *a, char **name)
{
	const char	*s;
	json_t		*res;
	int		 rc;

	*name = NULL;
	if ((s = ctl_opt_value(a, "table")) != NULL ||
	    ((s = getenv("WARDEN_TABLE")) != NULL && *s != '\0')) {
		*name = xstrdup(s);
		return CTL_EXIT_OK;
	}
	rc = ctl_call(c, "table.info", NULL, CTL_DEADLINE_QUICK_MS, &res);
	if (rc != CTL_EXIT_OK)
		return rc;
	if ((s = ctl_json_str(res, "name")) == NULL || *s == '\0') {
		json_decref(res);
		return ctl_errx(CTL_EXIT_ERROR, "bad answer from warden: "
		    "table.info has no table name");
	}
	*name = xstrdup(s);
	json_decref(res);
	return CTL_EXIT_OK;
}

static int
flag_read(struct ctl *c, struct ctl_args *a, int argc, char **argv)
{
	warden_table	*t;
	json_t		*out;
	const char	*flag = argv[0], *id = argc > 1 ? argv[1] : NULL;
	char		*name;
	bool		 enabled;
	int		 stage, state, rc;

	if (*flag == '\0')
		return ctl_usage_error(a, "read: empty flag name");
	if (ctl_sub_opt_given(a, "table") && *ctl_opt_value(a, "table") == '\0')
		return ctl_usage_error(a, "read: empty table name");
	if ((rc = flag_table_name(c, a, &name)) != CTL_EXIT_OK)
		return rc;
	/* A NULL handle (no memory to make one) answers defaults too. */
	t = warden_open(name);
	if (id != NULL)
		enabled = warden_enabled_for(t, flag, id, false);
	else
		enabled = warden_enabled(t, flag, false);
	stage = warden_stage(t);
	state = warden_state(t);
	warden_close(t);

	if (state == WARDEN_UNTRUSTED)
		(void)ctl_errx(0, "%s: untrusted: the object under the name "
		    "belongs to a user this reader does not trust (see "
		    "WARDEN_TABLE_OWNER in libwarden(3)); default shown", name);
	else if (state == WARDEN_NO_TABLE)
		(void)ctl_errx(0, "%s: no table; default shown", name);
	else if (stage == -1)
		(void)ctl_errx(0, "%s: no table attached; default shown", name);
	free(name);
	if (c->json) {
		if ((out = json_object()) == NULL)
			fatalx("out of memory");
		ctl_set(out, "flag", ctl_str(flag));
		if (id != NULL)
			ctl_set(out, "id", ctl_str(id));
		ctl_set(out, "enabled", json_boolean(enabled));
		ctl_set(out, "stage", stage >= 0 ? json_integer(stage) :
		    json_null());
		ctl_set(out, "table", ctl_str(state == WARDEN_ATTACHED ?
		    "attached" : state == WARDEN_UNTRUSTED ? "untrusted" :
		    "none"));
		ctl_print_result(out);
		json_decref(out);
		return CTL_EXIT_OK;
	}
	if (id != NULL)
		printf("%s for %s: %s\n", flag, id, enabled ? "on" : "off");
	else
		printf("%s: %s\n", flag, enabled ? "on" : "off");
	if (stage >= 0)
		printf("stage %d\n", stage);
	else
		printf("stage unknown\n");
	return CTL_EXIT_OK;
}

static const struct ctl_sub flag_subs[] = {
	{ "list", 0, 0, { "verbose", NULL }, flag_list },
	{ "get", 1, 1, { NULL }, flag_get },
	{ "set", 2, 2, { "reason", "wait-observed" }, flag_set },
	{ "reset", 0, 1, { "reason", "wait-observed" }, flag_reset },
	{ "read", 1, 2, { "table", NULL }, flag_read },
};

int
cmd_flag(struct ctl *c, struct ctl_args *a)
{
	return ctl_sub_run(c, a, flag_subs, nitems(flag_subs));
}

/* ---- stage --------------------------------------------------------------- */

/* STAGE APPLIED ENABLES */
static void
stage_print_stages(json_t *stages, json_t *current)
{
	struct ctl_table	 t;
	json_t			*st, *k;
	size_t			 i;

	if (json_array_size(stages) == 0) {
		printf("no stages configured\n");
		return;
	}
	ctl_table_init(&t, 3, "STAGE", "APPLIED", "ENABLES");
	json_array_foreach(stages, i, st) {
		k = json_object_get(st, "stage");
		ctl_table_own(&t, ctl_cell(k));
		ctl_table_cell(&t, "%s", json_is_integer(k) &&
		    json_is_integer(current) && json_integer_value(k) <=
		    json_integer_value(current) ? "yes" : "no");
		ctl_table_own(&t, ctl_join_names(json_object_get(st, "enable"),
		    ","));
	}
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

/* FROM TO KIND AT BY REASON, oldest first. */
static void
stage_print_history(json_t *history)
{
	struct ctl_table	 t;
	json_t			*h;
	size_t			 i;

	if (json_array_size(history) == 0) {
		printf("no stage changes\n");
		return;
	}
	ctl_table_init(&t, 6, "FROM", "TO", "KIND", "AT", "BY", "REASON");
	json_array_foreach(history, i, h) {
		ctl_table_own(&t, ctl_cell(json_object_get(h, "from")));
		ctl_table_own(&t, ctl_cell(json_object_get(h, "to")));
		ctl_table_own(&t, ctl_cell(json_object_get(h, "kind")));
		ctl_table_own(&t, ctl_cell(json_object_get(h, "at")));
		ctl_table_own(&t, ctl_by_cell(json_object_get(h, "by"),
		    "warden"));
		ctl_table_own(&t, ctl_text_cell(json_object_get(h, "reason")));
	}
	ctl_table_print(&t, stdout);
	ctl_table_free(&t);
}

static void
stage_print_get(json_t *res)
{
	json_t	*stages = json_object_get(res, "stages");
	char	*stage = ctl_cell(json_object_get(res, "stage"));

	printf("stage %s of %zu\n", stage, json_array_size(stages));
	free(stage);
	putchar('\n');
	stage_print_stages(stages, json_object_get(res, "stage"));
	putchar('\n');
	stage_print_history(json_object_get(res, "history"));
}

static int
stage_get(struct ctl *c, struct ctl_args *a, int argc, char **argv)
{
	json_t	*params = NULL;
	int	 limit, rc;

	(void)argc;
	(void)argv;
	if (ctl_opt_isset(a, "limit")) {
		if ((rc = ctl_parse_count(a, "-n", ctl_opt_value(a, "limit"),
		    &limit)) != CTL_EXIT_OK)
			return rc;
		if (limit > RPC_LIMIT_MAX)
			return ctl_usage_error(a, "-n: %d is more than %d",
			    limit, RPC_LIMIT_MAX);
		params = ctl_params("limit", json_integer(limit));
	}
	return ctl_call_print(c, "stage.get", params, CTL_DEADLINE_QUICK_MS,
	    stage_print_get);
}

/* After a change: the stage, then every flag as it now is. */
static void
stage_print_change(json_t *res)
{
	char	*stage = ctl_cell(json_object_get(res, "stage"));

	printf("stage %s\n", stage);
	free(stage);
	flag_print_table(json_object_get(res, "flags"), false);
}

static int
stage_set(struct ctl *c, struct ctl_args *a, int argc, char **argv)
{
	int	stage, rc;

	(void)argc;
	if ((rc = ctl_parse_count(a, "set", argv[0], &stage)) != CTL_EXIT_OK)
		return rc;
	return sub_change(c, a, "stage.set", ctl_sub_reason(a, ctl_params("stage",
	    json_integer(stage))), stage_print_change);
}

static int
stage_rollback(struct ctl *c, struct ctl_args *a, int argc, char **argv)
{
	json_t	*params = NULL;
	int	 stage, rc;

	if (argc > 0) {
		if ((rc = ctl_parse_count(a, "rollback", argv[0], &stage)) !=
		    CTL_EXIT_OK)
			return rc;
		params = ctl_params("stage", json_integer(stage));
	}
	return sub_change(c, a, "stage.rollback", ctl_sub_reason(a, params),
	    stage_print_change);
}

static int
stage_emergency(struct ctl *c, struct ctl_args *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return sub_change(c, a, "stage.emergency", ctl_sub_reason(a, NULL),
	    stage_print_change);
}

static const struct ctl_sub stage_subs[] = {
	{ "get", 0, 0, { "limit", NULL }, stage_get },
	{ "set", 1, 1, { "reason", "wait-observed" }, stage_set },
	{ "rollback", 0, 1, { "reason", "wait-observed" }, stage_rollback },
	{ "emergency", 0, 0, { "reason", "wait-observed" }, stage_emergency },
};

int
cmd_stage(struct ctl *c, struct ctl_args *a)
{
	return ctl_sub_run(c, a, stage_subs, nitems(stage_subs));
}

/* ---- table --------------------------------------------------------------- */

static void
table_print_info(json_t *res)
{
	json_t	*healthy = json_object_get(res, "healthy");
	json_t	*ms = json_object_get(res, "last_repair_ms");
	char	 buf[32];

	flag_print_field("name", ctl_text_cell(json_object_get(res, "name")));
	flag_print_field("generation", ctl_cell(json_object_get(res,
	    "generation")));
	if (json_is_false(json_object_get(res, "available")))
		flag_print_field("health", xstrdup("unavailable"));
	else
		flag_print_field("health", xstrdup(!json_is_boolean(healthy) ?
		    "-" : json_is_true(healthy) ? "healthy" : "damaged"));
	if (json_is_string(json_object_get(res, "error")))
		flag_print_field("error", ctl_text_cell(json_object_get(res,
		    "error")));
	flag_print_field("repairs", ctl_cell(json_object_get(res, "repairs")));
	flag_print_field("last repair", xstrdup(json_is_number(ms) ?
	    ctl_fmt_duration(buf, sizeof(buf), json_number_value(ms)) : "-"));
	/* An older warden has no count: "-". */
	flag_print_field("syncs", ctl_cell(json_object_get(res,
	    "journal_syncs")));
}

static int
table_info(struct ctl *c, struct ctl_args *a, int argc, char **argv)
{
	(void)a;
	(void)argc;
	(void)argv;
	return ctl_call_print(c, "table.info", NULL, CTL_DEADLINE_QUICK_MS,
	    table_print_info);
}

static void
table_print_deleted(json_t *res)
{
	(void)res;
	printf("table deleted; warden repairs it\n");
}

static int
table_delete(struct ctl *c, struct ctl_args *a, int argc, char **argv)
{
	(void)a;
	(void)argc;
	(void)argv;
	return ctl_call_print(c, "table.delete", NULL, CTL_DEADLINE_QUICK_MS,
	    table_print_deleted);
}

static void
table_print_corrupted(json_t *res)
{
	(void)res;
	printf("table corrupted; warden repairs it\n");
}

static int
table_corrupt(struct ctl *c, struct ctl_args *a, int argc, char **argv)
{
	(void)a;
	(void)argc;
	(void)argv;
	return ctl_call_print(c, "table.corrupt", NULL, CTL_DEADLINE_QUICK_MS,
	    table_print_corrupted);
}

static const struct ctl_sub table_subs[] = {
	{ "info", 0, 0, { NULL }, table_info },
	{ "delete", 0, 0, { NULL }, table_delete },
	{ "corrupt", 0, 0, { NULL }, table_corrupt },
};

int
cmd_table(struct ctl *c, struct ctl_args *a)
{
	return ctl_sub_run(c, a, table_subs, nitems(table_subs));
}
