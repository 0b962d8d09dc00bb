/*
 * wardenctl-sub.c: what the commands with subcommands share (flag, stage,
 * table, fleet): finding the subcommand, checking its operands and the
 * options it takes, and the -m reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "wardenctl.h"

/* Does the command have this option, and was it given? */
bool
ctl_sub_opt_given(const struct ctl_args *a, const char *long_name)
{
	int	i;

	for (i = 0; i < CTL_MAXOPTS; i++)
		if (a->cmd->opts[i].long_name != NULL &&
		    strcmp(a->cmd->opts[i].long_name, long_name) == 0)
			return a->set[i];
	return false;
}

/*
 * Find the subcommand the first operand names (none: the first entry)
 * and run it with the operands after its name.
 */
int
ctl_sub_run(struct ctl *c, struct ctl_args *a, const struct ctl_sub *subs,
    size_t n)
{
	const struct ctl_sub	*s = NULL;
	const struct ctl_opt	*o;
	char			**argv = a->argv;
	char			*names = NULL, *tmp;
	size_t			 i, j;
	int			 argc = a->argc, k;

	if (argc == 0)
		s = &subs[0];
	else {
		for (i = 0; i < n; i++)
			if (strcmp(argv[0], subs[i].name) == 0)
				s = &subs[i];
		argc--;
		argv++;
	}
	if (s == NULL) {
		for (i = 0; i < n; i++) {
			xasprintf(&tmp, "%s%s%s", names != NULL ? names : "",
			    names != NULL ? ", " : "", subs[i].name);
			free(names);
			names = tmp;
		}
		k = ctl_usage_error(a, "%s: expected %s", a->argv[0], names);
		free(names);
		return k;
	}
	if (argc < s->min_args)
		return ctl_usage_error(a, "%s: too few arguments", s->name);
	if (s->max_args >= 0 && argc > s->max_args)
		return ctl_usage_error(a, "%s: too many arguments", s->name);
	for (k = 0; k < CTL_MAXOPTS; k++) {
		o = &a->cmd->opts[k];
		if (o->long_name == NULL || !a->set[k])
			continue;
		for (j = 0; j < nitems(s->opts) && s->opts[j] != NULL; j++)
			if (strcmp(s->opts[j], o->long_name) == 0)
				break;
		if (j < nitems(s->opts) && s->opts[j] != NULL)
			continue;
		if (o->short_name != 0)
			return ctl_usage_error(a, "%s takes no -%c, --%s",
			    s->name, o->short_name, o->long_name);
		return ctl_usage_error(a, "%s takes no --%s", s->name,
		    o->long_name);
	}
	return s->run(c, a, argc, argv);
}

/* params with "reason" from -m when it was given. */
json_t *
ctl_sub_reason(const struct ctl_args *a, json_t *params)
{
	const char	*reason;

	if (!ctl_sub_opt_given(a, "reason"))
		return params;
	reason = ctl_opt_value(a, "reason");
	if (params == NULL && (params = json_object()) == NULL)
		fatalx("out of memory");
	ctl_set(params, "reason", ctl_str(reason));
	return params;
}
