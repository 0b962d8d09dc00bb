/*
 * wardenctl-warden.c: the commands about warden itself: reload its
 * configuration, reexec it in place, shut it down, or call any method
 * of its protocol.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "wardenctl.h"

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

	return ctl_call_print(c, "config.reload", dry ?
	    ctl_params("dry_run", json_true()) : NULL, CTL_DEADLINE_LONG_MS,
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
		params = ctl_params("binary", ctl_str(binary));
		free(binary);
	}
	return ctl_call_print(c, "reexec", params, CTL_DEADLINE_REEXEC_MS,
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
	return ctl_call_print(c, "shutdown", NULL, CTL_DEADLINE_QUICK_MS,
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
	    json_integer_value(t) < CTL_MS_MAX &&
	    json_integer_value(t) + CTL_WAIT_MARGIN_MS > deadline_ms)
		deadline_ms = (int)json_integer_value(t) + CTL_WAIT_MARGIN_MS;
	return ctl_call_print(c, a->argv[0], params, deadline_ms, NULL);
}
