/*
 * wardenctl-logs.c: "wardenctl logs": the last lines of services' output,
 * one per line as "TIME SERVICE[PID] STREAM: TEXT", and with -f every
 * line from then on, several services interleaved in the order warden
 * read them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "wardenctl.h"

#define LOGS_DEFAULT_LINES	"10"

static int
logs_flush(void)
{
	/* A reader at the other end of a pipe sees each line at once. */
	if (fflush(stdout) == EOF)
		return ctl_errx(CTL_EXIT_ERROR, "standard output: %s",
		    strerror(errno));
	return CTL_EXIT_OK;
}

static void
logs_print(const struct ctl *c, json_t *line)
{
	const char	*text = ctl_json_str(line, "text");
	json_t		*pid = json_object_get(line, "pid");

	if (c->json) {
		ctl_json_write(stdout, line, false);
		putchar('\n');
		return;
	}
	printf("%s %s[%lld] %s: ", ctl_json_str(line, "time") != NULL ?
	    ctl_json_str(line, "time") : "-", ctl_json_str(line, "service") !=
	    NULL ? ctl_json_str(line, "service") : "-",
	    json_is_integer(pid) ? (long long)json_integer_value(pid) : -1LL,
	    ctl_json_str(line, "stream") != NULL ?
	    ctl_json_str(line, "stream") : "-");
	/* The text may hold a NUL: all of it, as warden sent it. */
	if (text != NULL)
		fwrite(text, 1, json_string_length(json_object_get(line, "text")),
		    stdout);
	putchar('\n');
}

static json_t *
logs_params(struct ctl_args *a, int lines, bool follow)
{
	json_t	*names = json_array(), *params;
	int	 i;

	for (i = 0; i < a->argc; i++)
		json_array_append_new(names, ctl_str(a->argv[i]));
	params = json_pack("{s:i,s:b}", "lines", lines, "follow", follow);
	if (params == NULL)
		fatalx("out of memory");
	if (a->argc > 0)
		ctl_set(params, "service", names);
	else
		json_decref(names);
	return params;
}

/* -f: the lines as they come, until warden closes or drops this reader. */
static int
logs_follow(struct ctl *c)
{
	json_t		*line;
	const char	*type;
	int		 rc;

	for (;;) {
		if ((rc = ctl_next_note(c, "service.log", -1, &line)) != CTL_EXIT_OK)
			return rc;
		if (line == NULL)
			return ctl_errx(CTL_EXIT_ERROR, "warden closed the "
			    "connection");
		type = ctl_json_str(line, "type");
		if (type != NULL && strcmp(type, "logs.dropped") == 0) {
			json_decref(line);
			return ctl_errx(CTL_EXIT_ERROR, "lines were dropped: "
			    "this reader fell behind and warden closed the "
			    "connection");
		}
		logs_print(c, line);
		json_decref(line);
		if ((rc = logs_flush()) != CTL_EXIT_OK)
			return rc;
	}
}

int
cmd_logs(struct ctl *c, struct ctl_args *a)
{
	const char	*n = ctl_opt_value(a, "lines");
	bool		 follow = ctl_opt_isset(a, "follow");
	json_t		*res, *v;
	size_t		 i;
	int		 lines, rc;

	if ((rc = ctl_parse_count(a, "-n", n != NULL ? n : LOGS_DEFAULT_LINES,
	    &lines)) != CTL_EXIT_OK)
		return rc;
	rc = ctl_call(c, "service.logs", logs_params(a, lines, follow),
	    CTL_DEADLINE_QUICK_MS, &res);
	if (rc != CTL_EXIT_OK)
		return rc;
	json_array_foreach(json_object_get(res, "lines"), i, v)
		logs_print(c, v);
	json_decref(res);
	if ((rc = logs_flush()) != CTL_EXIT_OK || !follow)
		return rc;
	return logs_follow(c);
}
