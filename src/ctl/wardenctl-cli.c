/*
 * wardenctl-cli.c: what every wardenctl command shares on the command
 * line: its operands and options parsed from its entry in the table,
 * usage errors and other messages with the exit status they call for,
 * counts given as arguments, the params of a request, and a call whose
 * result is printed as it is or for people.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "wardenctl.h"

int
ctl_errx(int status, const char *fmt, ...)
{
	va_list	ap;

	fputs("wardenctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

/* "usage: wardenctl CMD ..." for each alternative form of the command. */
void
ctl_print_usage(FILE *fp, const struct ctl_cmd *cmd)
{
	const char	*p = cmd->usage, *lead = "usage:";
	int		 n;

	for (;;) {
		n = (int)strcspn(p, "\n");
		fprintf(fp, "%-6s wardenctl %s%s%.*s\n", lead, cmd->name,
		    n > 0 ? " " : "", n, p);
		if (p[n] == '\0')
			break;
		lead = "";
		p += n + 1;
	}
}

int
ctl_usage_error(const struct ctl_args *a, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "wardenctl: %s: ", a->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	ctl_print_usage(stderr, a->cmd);
	return CTL_EXIT_USAGE;
}

static int
ctl_opt_index(const struct ctl_cmd *cmd, const char *long_name)
{
	int	i;

	for (i = 0; i < CTL_MAXOPTS; i++)
		if (cmd->opts[i].long_name != NULL &&
		    strcmp(cmd->opts[i].long_name, long_name) == 0)
			return i;
	fatalx("%s: no option --%s", cmd->name, long_name);
}

bool
ctl_opt_isset(const struct ctl_args *a, const char *long_name)
{
	return a->set[ctl_opt_index(a->cmd, long_name)];
}

const char *
ctl_opt_value(const struct ctl_args *a, const char *long_name)
{
	return a->val[ctl_opt_index(a->cmd, long_name)];
}

static bool
ctl_is_number(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/*
 * Find the option that word (which starts with '-') names. *value is set
 * to a value written in the same word ("--timeout=5", "-t5"), else NULL.
 */
static int
ctl_match_opt(const struct ctl_cmd *cmd, const char *word, const char **value)
{
	const struct ctl_opt	*o;
	const char		*name, *eq;
	size_t			 len;
	int			 i;

	*value = NULL;
	if (word[1] == '-') {
		name = word + 2;
		eq = strchr(name, '=');
		len = eq != NULL ? (size_t)(eq - name) : strlen(name);
		for (i = 0; i < CTL_MAXOPTS; i++) {
			o = &cmd->opts[i];
			if (o->long_name != NULL &&
			    strncmp(o->long_name, name, len) == 0 &&
			    o->long_name[len] == '\0') {
				*value = eq != NULL ? eq + 1 : NULL;
				return i;
			}
		}
		return -1;
	}
	for (i = 0; i < CTL_MAXOPTS; i++) {
		o = &cmd->opts[i];
		if (o->short_name != 0 && o->short_name == word[1]) {
			*value = word[2] != '\0' ? word + 2 : NULL;
			return i;
		}
	}
	return -1;
}

static bool
ctl_is_global_opt(const char *word)
{
	static const char *const globals[] = {
		"-j", "--json", "-S", "--socket", "-V", "--version"
	};
	size_t	i, len;

	for (i = 0; i < nitems(globals); i++) {
		len = strlen(globals[i]);
		if (strncmp(word, globals[i], len) == 0 &&
		    (word[len] == '\0' || word[len] == '=' ||
		    (globals[i][1] == 'S' && word[len] != '\0')))
			return true;
	}
	return false;
}

/*
 * Split a command's words into operands and options; options may come
 * before, between or after the operands, and "--" ends them. Sets *help
 * for -h/--help. Returns an exit status (CTL_EXIT_OK to go on).
 */
int
ctl_parse_args(const struct ctl_cmd *cmd, int argc, char **argv,
    struct ctl_args *a, bool *help)
{
	const struct ctl_opt	*o;
	const char		*word, *value;
	bool			 operands_only = false;
	int			 i, k;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	a->argv = xcalloc((size_t)argc + 1, sizeof(*a->argv));
	*help = false;
	for (i = 1; i < argc; i++) {
		word = argv[i];
		if (operands_only || word[0] != '-' || word[1] == '\0') {
			a->argv[a->argc++] = argv[i];
			continue;
		}
		if (strcmp(word, "--") == 0) {
			operands_only = true;
			continue;
		}
		if (strcmp(word, "-h") == 0 || strcmp(word, "--help") == 0) {
			*help = true;
			return CTL_EXIT_OK;
		}
		if ((k = ctl_match_opt(cmd, word, &value)) == -1) {
			if (ctl_is_global_opt(word))
				return ctl_usage_error(a, "%s: global options "
				    "go before the command", word);
			return ctl_usage_error(a, "unknown option %s", word);
		}
		o = &cmd->opts[k];
		switch (o->arg) {
		case CTL_ARG_NONE:
			if (value != NULL)
				return ctl_usage_error(a, "%s takes no value",
				    word);
			break;
		case CTL_ARG_REQUIRED:
			if (value == NULL) {
				if (i + 1 >= argc)
					return ctl_usage_error(a,
					    "%s needs a value", word);
				value = argv[++i];
			}
			break;
		case CTL_ARG_OPTIONAL_NUMBER:
			if (value == NULL && i + 1 < argc &&
			    ctl_is_number(argv[i + 1]))
				value = argv[++i];
			break;
		}
		a->set[k] = true;
		a->val[k] = value;
	}
	if (a->argc < cmd->min_args)
		return ctl_usage_error(a, "too few arguments");
	if (cmd->max_args >= 0 && a->argc > cmd->max_args)
		return ctl_usage_error(a, "too many arguments");
	return CTL_EXIT_OK;
}

/*
 * A string operand for a request. warden judges names; bytes that are not
 * UTF-8 make the request unencodable, which ctl_call reports.
 */
json_t *
ctl_str(const char *s)
{
	json_t	*v;

	if ((v = json_string_nocheck(s)) == NULL)
		fatalx("out of memory");
	return v;
}

void
ctl_set(json_t *obj, const char *key, json_t *value)
{
	if (value == NULL || json_object_set_new(obj, key, value) == -1)
		fatalx("out of memory");
}

/* {key: value}, a request's params. */
json_t *
ctl_params(const char *key, json_t *value)
{
	json_t	*obj;

	if ((obj = json_object()) == NULL)
		fatalx("out of memory");
	ctl_set(obj, key, value);
	return obj;
}

/* A count of milliseconds (or of anything) from the command line. */
int
ctl_parse_count(const struct ctl_args *a, const char *what, const char *s,
    int *out)
{
	char	*end;
	long	 n;

	if (s == NULL || *s < '0' || *s > '9')
		return ctl_usage_error(a, "%s: %s is not a number", what,
		    s != NULL ? s : "(none)");
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || n > CTL_MS_MAX)
		return ctl_usage_error(a, "%s: %s is not a number from 0 to %d",
		    what, s, CTL_MS_MAX);
	*out = (int)n;
	return CTL_EXIT_OK;
}

/* Milliseconds since since_ms, on util_now_us()'s clock; never below 0. */
double
ctl_elapsed_ms(double since_ms)
{
	double	ms = (double)util_now_us() / 1000.0 - since_ms;

	return ms > 0 ? ms : 0;
}

/*
 * Call method and print its result: as JSON with -j, otherwise with
 * human (NULL: as JSON too).
 */
int
ctl_call_print(struct ctl *c, const char *method, json_t *params,
    int deadline_ms, void (*human)(json_t *))
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
