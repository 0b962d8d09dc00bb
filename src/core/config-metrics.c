/*
 * config-metrics.c: the "metrics" key, the HTTP endpoint of warden's
 * Prometheus metrics: where it listens and its bounds.
 *
 *	"metrics": { "listen": "127.0.0.1:9464", "max_connections": 16,
 *		     "timeout_ms": 10000 }
 *
 * listen is a numeric address and a port: "HOST:PORT" (IPv4),
 * "[ADDR]:PORT" (IPv6), or ":PORT" or "PORT" alone for the loopback.
 * Names are not resolved: what warden binds is what the file says.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "config-int.h"
#include "util.h"

#define METRICS_LISTEN_MAX	64

static const char *const metrics_keys[] = { "listen", "max_connections",
	"timeout_ms", NULL };

/* A port: digits only, 0..65535 (0: any free one, as the tests use). */
static int
config_metrics_port(const char *s, int *port)
{
	long	v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* Split "HOST:PORT", "[ADDR]:PORT", ":PORT" or "PORT" into a host and port. */
static const char *
config_metrics_split(char *s, char **host, int *port)
{
	char		*colon, *end;
	unsigned char	 addr[sizeof(struct in6_addr)];

	*host = NULL;
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return "expected \"[ADDRESS]:PORT\" for IPv6";
		*end = '\0';
		if (inet_pton(AF_INET6, s + 1, addr) != 1)
			return "not a numeric IPv6 address";
		*host = s + 1;
		return config_metrics_port(end + 2, port) == -1 ?
		    "the port must be a number from 0 to 65535" : NULL;
	}
	if ((colon = strrchr(s, ':')) == NULL)
		colon = s - 1;			/* "PORT" alone */
	else if (strchr(s, ':') != colon)
		return "write an IPv6 address as \"[ADDRESS]:PORT\"";
	if (config_metrics_port(colon + 1, port) == -1)
		return "the port must be a number from 0 to 65535";
	if (colon <= s)
		return NULL;			/* no host: the loopback */
	*colon = '\0';
	if (inet_pton(AF_INET, s, addr) != 1)
		return "not a numeric IPv4 address (names are not resolved)";
	*host = s;
	return NULL;
}

static int
config_metrics_listen(struct parser *c, json_t *obj)
{
	struct metrics_conf	*m = &c->conf->metrics;
	const char		*s, *why;
	char			 buf[METRICS_LISTEN_MAX + 1], *host;
	json_t			*v;

	if ((v = jsonerr_get(&c->je, obj, "listen")) == NULL)
		return jsonerr_missing(&c->je, "listen");
	if (config_str(c, v, &s) == -1)
		return -1;
	if (strlen(s) > METRICS_LISTEN_MAX)
		return jsonerr_value(&c->je, "at most %d characters",
		    METRICS_LISTEN_MAX);
	memcpy(buf, s, strlen(s) + 1);
	if ((why = config_metrics_split(buf, &host, &m->port)) != NULL)
		return jsonerr_value(&c->je, "%s", why);
	m->host = xstrdup(host != NULL ? host : "127.0.0.1");
	jsonerr_pop(&c->je);
	return 0;
}

int
config_metrics(struct parser *c, json_t *obj)
{
	struct metrics_conf	*m = &c->conf->metrics;

	if (jsonerr_object(&c->je, obj, metrics_keys) == -1 ||
	    config_metrics_listen(c, obj) == -1 ||
	    config_opt_int(c, obj, "max_connections", 1, 65536,
	    &m->max_connections) == -1 ||
	    config_opt_int(c, obj, "timeout_ms", 1, 3600 * 1000,
	    &m->timeout_ms) == -1)
		return -1;
	m->enabled = true;
	return 0;
}
