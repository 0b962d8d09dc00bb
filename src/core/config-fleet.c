/*
 * config-fleet.c: the "fleet" object, the etcd cluster that holds a
 * fleet's flags and stage (SPEC 16; the keys and values are in fleet.h):
 *
 *	"fleet": { "etcd": ["http://127.0.0.1:2379", ...],
 *		   "prefix": "/warden/", "host": "web-1",
 *		   "lease_s": 10, "timeout_ms": 2000 }
 *
 * etcd lists 1 to 16 endpoints, each "http://HOST:PORT" and nothing more
 * (no path, user or query: warden adds the gateway's paths itself), HOST
 * numeric, [IPv6] or localhost so that no request waits on DNS. prefix
 * starts and ends with '/', has no empty segment, and is printable ASCII
 * without spaces. host is optional here: when it is absent the daemon
 * takes gethostname() and checks it with fleet_host_problem(), the same
 * rule as a host written in the file. Every error names the key path.
 */
#include <stdlib.h>
#include <string.h>

#include "config-int.h"
#include "fleet.h"
#include "health.h"
#include "util.h"

static const char *const fleet_keys[] = { "etcd", "prefix", "host",
	"lease_s", "timeout_ms", NULL };

void
config_fleet_free(struct fleet_conf *fc)
{
	free(fc->etcd);
	free(fc->prefix);
	free(fc->host);
	memset(fc, 0, sizeof(*fc));
}

/* One endpoint: "http://HOST:PORT", with "/" alone allowed after it. */
static int
config_fleet_endpoint(struct parser *c, json_t *v, struct fleet_endpoint *ep)
{
	const char	*s, *why;
	char		*path = NULL;
	int		 bad;

	if (config_str(c, v, &s) == -1)
		return -1;
	if (strchr(s, '?') != NULL || strchr(s, '#') != NULL)
		return jsonerr_value(&c->je, "expected http://HOST:PORT "
		    "without a query");
	if (health_parse_url(s, ep->host, &ep->port, &path, &why) == -1)
		return jsonerr_value(&c->je, "%s", why);
	bad = strcmp(path, "/") != 0;
	free(path);
	if (bad)
		return jsonerr_value(&c->je, "expected http://HOST:PORT "
		    "without a path (warden adds the gateway's /v3/ paths)");
	return 0;
}

static int
config_fleet_etcd(struct parser *c, json_t *obj, struct fleet_conf *fc)
{
	json_t	*v, *e;
	size_t	 i;

	if ((v = jsonerr_get(&c->je, obj, "etcd")) == NULL)
		return jsonerr_missing(&c->je, "etcd");
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > FLEET_ENDPOINTS_MAX)
		return jsonerr_value(&c->je, "expected an array of 1 to %d "
		    "endpoints like \"http://127.0.0.1:2379\"",
		    FLEET_ENDPOINTS_MAX);
	fc->etcd = xcalloc(json_array_size(v), sizeof(*fc->etcd));
	json_array_foreach(v, i, e) {
		jsonerr_push_index(&c->je, i);
		if (config_fleet_endpoint(c, e, &fc->etcd[i]) == -1)
			return -1;
		fc->netcd++;
		jsonerr_pop(&c->je);
	}
	jsonerr_pop(&c->je);
	return 0;
}

/* A string member checked by problem(); absent leaves *out as it is. */
static int
config_fleet_str(struct parser *c, json_t *obj, const char *key,
    const char *(*problem)(const char *), char **out)
{
	const char	*s, *why;
	json_t		*v;

	if ((v = jsonerr_get(&c->je, obj, key)) == NULL)
		return 0;
	if (!json_is_string(v))
		return jsonerr_value(&c->je, "expected a string");
	/* jsonerr_load() refuses \u0000: s is the whole string. */
	s = json_string_value(v);
	if ((why = problem(s)) != NULL)
		return jsonerr_value(&c->je, "%s", why);
	free(*out);
	*out = xstrdup(s);
	jsonerr_pop(&c->je);
	return 0;
}

int
config_fleet(struct parser *c, json_t *obj, struct fleet_conf *fc)
{
	config_fleet_free(fc);
	fc->prefix = xstrdup(FLEET_PREFIX_DEFAULT);
	fc->lease_s = FLEET_LEASE_DEFAULT;
	fc->timeout_ms = FLEET_TIMEOUT_DEFAULT;
	if (jsonerr_object(&c->je, obj, fleet_keys) == -1 ||
	    config_fleet_etcd(c, obj, fc) == -1 ||
	    config_fleet_str(c, obj, "prefix", fleet_prefix_problem,
	    &fc->prefix) == -1 ||
	    config_fleet_str(c, obj, "host", fleet_host_problem,
	    &fc->host) == -1 ||
	    config_opt_int(c, obj, "lease_s", FLEET_LEASE_MIN,
	    FLEET_LEASE_MAX, &fc->lease_s) == -1 ||
	    config_opt_int(c, obj, "timeout_ms", FLEET_TIMEOUT_MIN,
	    FLEET_TIMEOUT_MAX, &fc->timeout_ms) == -1)
		return -1;
	fc->enabled = true;
	return 0;
}
