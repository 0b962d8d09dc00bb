/*
 * config-flags.c: the flags, stages and guard of warden.json: flag names
 * and defaults, stages that turn configured flags on in order, and the
 * guard that rolls a stage back when restarts pile up.
 */
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config-int.h"
#include "jsonerr.h"
#include "util.h"

static const char *const guard_actions[] = { "rollback" };
static const char *const flag_keys[] = { "default", "description", NULL };
static const char *const stage_keys[] = { "stage", "enable", NULL };
static const char *const guard_keys[] = { "max_restarts", "window_s",
	"action", "on_failure", "scope", NULL };
/* In the order of enum guard_scope. */
static const char *const guard_scopes[] = { "all", "readers" };

int
config_flags(struct parser *c, json_t *obj)
{
	struct config	*conf = c->conf;
	struct flag_conf *f;
	const char	*key, *problem;
	json_t		*v, *d;
	long long	 n;

	if (!json_is_object(obj))
		return jsonerr_value(&c->je, "expected an object");
	/* The shared table has room for so many. */
	if (json_object_size(obj) > CONFIG_FLAGS_MAX)
		return jsonerr_value(&c->je, "%zu flags: at most %d fit the "
		    "shared table", json_object_size(obj), CONFIG_FLAGS_MAX);
	conf->flags = xcalloc(json_object_size(obj), sizeof(*conf->flags));
	/* jansson keeps members in file order, and so do the flags. */
	json_object_foreach(obj, key, v) {
		jsonerr_push_key(&c->je, key);
		if ((problem = config_name_problem(key)) != NULL)
			return jsonerr_key(&c->je, "%s", problem);
		f = &conf->flags[conf->nflags++];
		f->name = xstrdup(key);
		f->description = xstrdup("");
		f->dflt = 0;
		f->dflt_is_bool = true;
		if (jsonerr_object(&c->je, v, flag_keys) == -1)
			return -1;
		if ((d = jsonerr_get(&c->je, v, "default")) != NULL) {
			if (json_is_boolean(d))
				f->dflt = json_is_true(d) ? 100 : 0;
			else if (config_whole(d, &n) == 0 && n >= 0 &&
			    n <= 100) {
				f->dflt = (int)n;
				f->dflt_is_bool = false;
			} else
				return jsonerr_value(&c->je, "expected true, "
				    "false or an integer from 0 to 100");
			jsonerr_pop(&c->je);
		}
		if ((d = jsonerr_get(&c->je, v, "description")) != NULL) {
			if (!json_is_string(d))
				return jsonerr_value(&c->je, "expected a "
				    "string");
			free(f->description);
			f->description = xstrdup(json_string_value(d));
			jsonerr_pop(&c->je);
		}
		jsonerr_pop(&c->je);
	}
	return 0;
}

static int
config_flag_exists(const struct config *conf, const char *name)
{
	size_t	i;

	for (i = 0; i < conf->nflags; i++)
		if (strcmp(conf->flags[i].name, name) == 0)
			return 1;
	return 0;
}

int
config_stages(struct parser *c, json_t *arr)
{
	struct config		*conf = c->conf;
	struct stage_conf	*st;
	json_t			*obj, *v, *e;
	const char		*s;
	size_t			 i, j, k;
	long long		 n;

	if (!json_is_array(arr))
		return jsonerr_value(&c->je, "expected an array");
	conf->stages = xcalloc(json_array_size(arr), sizeof(*conf->stages));
	json_array_foreach(arr, i, obj) {
		jsonerr_push_index(&c->je, i);
		st = &conf->stages[conf->nstages++];
		if (jsonerr_object(&c->je, obj, stage_keys) == -1)
			return -1;
		if ((v = jsonerr_get(&c->je, obj, "stage")) == NULL)
			return jsonerr_missing(&c->je, "stage");
		if (config_whole(v, &n) == -1)
			return jsonerr_value(&c->je, "expected an integer");
		if (n != (long long)i + 1)
			return jsonerr_value(&c->je, "expected %zu (stages are "
			    "numbered 1, 2, 3... in order)", i + 1);
		st->stage = (int)n;
		jsonerr_pop(&c->je);
		if ((v = jsonerr_get(&c->je, obj, "enable")) == NULL)
			return jsonerr_missing(&c->je, "enable");
		if (!json_is_array(v))
			return jsonerr_value(&c->je, "expected an array");
		st->enable = xcalloc(json_array_size(v), sizeof(*st->enable));
		json_array_foreach(v, j, e) {
			jsonerr_push_index(&c->je, j);
			if (config_str(c, e, &s) == -1)
				return -1;
			if (!config_flag_exists(conf, s))
				return jsonerr_value(&c->je, "unknown flag "
				    "'%s'", s);
			for (k = 0; k < st->nenable; k++)
				if (strcmp(st->enable[k], s) == 0)
					return jsonerr_value(&c->je, "flag "
					    "'%s' is listed twice", s);
			st->enable[st->nenable++] = xstrdup(s);
			jsonerr_pop(&c->je);
		}
		jsonerr_pop(&c->je);
		jsonerr_pop(&c->je);
	}
	return 0;
}

int
config_guard(struct parser *c, json_t *obj)
{
	struct guard_conf	*g = &c->conf->guard;
	int			 action = 0;

	g->enabled = true;
	if (jsonerr_object(&c->je, obj, guard_keys) == -1 ||
	    config_opt_int(c, obj, "max_restarts", 1, INT_MAX,
	    &g->max_restarts) == -1 ||
	    config_opt_int(c, obj, "window_s", 1, INT_MAX,
	    &g->window_s) == -1 ||
	    config_opt_enum(c, obj, "action", guard_actions,
	    nitems(guard_actions), &action) == -1 ||
	    config_opt_enum(c, obj, "scope", guard_scopes,
	    nitems(guard_scopes), &g->scope) == -1 ||
	    config_opt_hook(c, obj, &g->on_failure) == -1)
		return -1;
	return 0;
}
