/*
 * config-health.c: a worker's "health", its liveness probe: exactly one
 * of exec (a command, checked as the worker's own: its user, its cwd),
 * tcp ("HOST:PORT") or http ("http://HOST:PORT/PATH"), and its timing.
 * Hosts are numeric (or localhost): a probe never waits on DNS.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "config-int.h"
#include "health.h"
#include "jsonerr.h"
#include "util.h"

static const char *const health_keys[] = { "exec", "tcp", "http",
	"interval_ms", "timeout_ms", "failures", "start_period_ms", NULL };

void
config_health_free(struct health_conf *hc)
{
	size_t	i;

	if (hc == NULL)
		return;
	for (i = 0; i < hc->argc; i++)
		free(hc->argv[i]);
	free(hc->argv);
	free(hc->path);
	free(hc);
}

/* "exec": a command as the worker's, run as the worker is. */
static int
config_health_exec(struct parser *c, json_t *v, const struct child_conf *n,
    struct health_conf *hc)
{
	struct child_conf	as = *n;

	if (config_argv(c, v, &hc->argv, &hc->argc) == -1)
		return -1;
	as.argv = hc->argv;
	as.argc = hc->argc;
	return config_argv_check(c, &as);
}

/* The one check: exec, tcp or http. */
static int
config_health_check(struct parser *c, json_t *obj, const struct child_conf *n,
    struct health_conf *hc)
{
	const char	*s, *why, *given[3] = { "exec", "tcp", "http" };
	json_t		*v = NULL;
	int		 found = 0, i, rv;

	for (i = 0; i < 3; i++)
		if (json_object_get(obj, given[i]) != NULL) {
			found++;
			hc->check = (enum health_check)i;
		}
	if (found != 1)
		return jsonerr_value(&c->je, "expected exactly one of exec, "
		    "tcp and http (%s)", found == 0 ? "none given" :
		    "more than one given");
	v = jsonerr_get(&c->je, obj, given[hc->check]);
	if (hc->check == HEALTH_EXEC)
		rv = config_health_exec(c, v, n, hc);
	else if (config_str(c, v, &s) == -1)
		return -1;
	else if (hc->check == HEALTH_TCP)
		rv = health_parse_hostport(s, hc->host, &hc->port, &why) == -1 ?
		    jsonerr_value(&c->je, "%s", why) : 0;
	else
		rv = health_parse_url(s, hc->host, &hc->port, &hc->path,
		    &why) == -1 ? jsonerr_value(&c->je, "%s", why) : 0;
	if (rv == -1)
		return -1;
	jsonerr_pop(&c->je);
	return 0;
}

static int
config_health_timing(struct parser *c, json_t *obj, struct health_conf *hc)
{
	if (config_opt_int(c, obj, "interval_ms", HEALTH_INTERVAL_MIN,
	    HEALTH_INTERVAL_MAX, &hc->interval_ms) == -1 ||
	    config_opt_int(c, obj, "failures", 1, HEALTH_FAILURES_MAX,
	    &hc->failures) == -1 ||
	    config_opt_int(c, obj, "start_period_ms", 0, HEALTH_INTERVAL_MAX,
	    &hc->start_period_ms) == -1)
		return -1;
	/* Not given: the default, or the interval when shorter. */
	if (hc->timeout_ms > hc->interval_ms)
		hc->timeout_ms = hc->interval_ms;
	if (config_opt_int(c, obj, "timeout_ms", 1, INT_MAX,
	    &hc->timeout_ms) == -1)
		return -1;
	/* One probe at a time: it ends before the next is due. */
	if (hc->timeout_ms > hc->interval_ms) {
		jsonerr_push_key(&c->je, "timeout_ms");
		return jsonerr_value(&c->je, "must not be over interval_ms "
		    "(%d)", hc->interval_ms);
	}
	return 0;
}

/* The worker's "health", when it has one. */
int
config_opt_health(struct parser *c, json_t *obj, const struct child_conf *n,
    struct health_conf **out)
{
	struct health_conf	*hc;
	json_t			*v;

	if ((v = jsonerr_get(&c->je, obj, "health")) == NULL)
		return 0;
	hc = xcalloc(1, sizeof(*hc));
	*out = hc;
	hc->interval_ms = HEALTH_INTERVAL_DEFAULT;
	hc->timeout_ms = HEALTH_TIMEOUT_DEFAULT;
	hc->failures = HEALTH_FAILURES_DEFAULT;
	if (jsonerr_object(&c->je, v, health_keys) == -1 ||
	    config_health_check(c, v, n, hc) == -1 ||
	    config_health_timing(c, v, hc) == -1)
		return -1;
	jsonerr_pop(&c->je);
	return 0;
}
