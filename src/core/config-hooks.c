/*
 * config-hooks.c: "on_failure", the command warden runs when a service,
 * a supervisor or the guard fails: its argv, checked as a worker's
 * command is (in the config's folder, as warden's own user, which is who
 * runs it), and how long it may take.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "config-int.h"
#include "jsonerr.h"
#include "util.h"

static const char *const hook_keys[] = { "command", "timeout_ms", NULL };

void
config_hook_free(struct hook_conf *h)
{
	size_t	i;

	if (h == NULL)
		return;
	for (i = 0; i < h->argc; i++)
		free(h->argv[i]);
	free(h->argv);
	free(h);
}

/* The command as a worker's: a non-empty array of strings. */
static int
config_hook_argv(struct parser *c, json_t *obj, struct hook_conf *h)
{
	json_t	*v;

	if ((v = jsonerr_get(&c->je, obj, "command")) == NULL)
		return jsonerr_missing(&c->je, "command");
	if (config_argv(c, v, &h->argv, &h->argc) == -1)
		return -1;
	jsonerr_pop(&c->je);
	return 0;
}

/* The command must run as a hook runs: warden's user, the config's folder. */
static int
config_hook_check(struct parser *c, struct hook_conf *h)
{
	struct child_conf	as = { .argv = h->argv, .argc = h->argc };

	as.cwd = c->conf->dir;
	return config_command_check(c, &as);
}

/* obj is the value of "on_failure", at the top of the error path. */
int
config_hook(struct parser *c, json_t *obj, struct hook_conf **out)
{
	struct hook_conf	*h;

	h = xcalloc(1, sizeof(*h));
	*out = h;
	h->timeout_ms = HOOK_TIMEOUT_DEFAULT;
	if (jsonerr_object(&c->je, obj, hook_keys) == -1 ||
	    config_hook_argv(c, obj, h) == -1 ||
	    config_opt_int(c, obj, "timeout_ms", 1, HOOK_TIMEOUT_MAX,
	    &h->timeout_ms) == -1 ||
	    config_hook_check(c, h) == -1)
		return -1;
	return 0;
}

int
config_opt_hook(struct parser *c, json_t *obj, struct hook_conf **out)
{
	json_t	*v;

	if ((v = jsonerr_get(&c->je, obj, "on_failure")) == NULL)
		return 0;
	if (config_hook(c, v, out) == -1)
		return -1;
	jsonerr_pop(&c->je);
	return 0;
}
