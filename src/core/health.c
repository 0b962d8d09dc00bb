/*
 * health.c: a liveness probe's schedule and verdicts, and the parsers of
 * its targets and of an HTTP status line (see health.h).
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "murmur3.h"
#include "util.h"

uint32_t
health_offset(const char *name, int interval_ms)
{
	uint32_t	span = (uint32_t)interval_ms / 10 + 1;

	return murmur3_x86_32(name, strlen(name), 0x6865616c) % span;
}

void
health_begin(struct health_state *st, const struct health_conf *hc,
    uint32_t offset, uint64_t started_at)
{
	memset(st, 0, sizeof(*st));
	st->started_at = started_at;
	st->next_at = started_at + (uint64_t)hc->interval_ms - offset;
	st->verdict = HEALTH_STARTING;
}

/* The next round after one due at due: an interval on, not in the past. */
static uint64_t
health_next(uint64_t due, const struct health_conf *hc, uint64_t now)
{
	uint64_t	next = due + (uint64_t)hc->interval_ms;

	if (next <= now)
		next = now + (uint64_t)hc->interval_ms;
	return next;
}

enum health_outcome
health_result(struct health_state *st, const struct health_conf *hc, bool ok,
    uint64_t began, uint64_t now)
{
	st->next_at = health_next(st->next_at, hc, now);
	st->last_at = now;
	if (ok) {
		st->consecutive = 0;
		st->early_over = true;
		st->verdict = HEALTH_HEALTHY;
		return HEALTH_OK;
	}
	if (!st->early_over &&
	    began < st->started_at + (uint64_t)hc->start_period_ms)
		return HEALTH_FAILED_EARLY;
	if (st->verdict == HEALTH_UNHEALTHY)
		return HEALTH_FAILED;	/* said once; its stop is under way */
	if (++st->consecutive < (uint32_t)hc->failures)
		return HEALTH_FAILED;
	st->verdict = HEALTH_UNHEALTHY;
	return HEALTH_NOW_UNHEALTHY;
}

void
health_reschedule(struct health_state *st, const struct health_conf *hc,
    uint64_t now)
{
	uint64_t	latest = now + (uint64_t)hc->interval_ms;

	if (st->next_at > latest)
		st->next_at = latest;
	if (st->consecutive >= (uint32_t)hc->failures &&
	    st->verdict != HEALTH_UNHEALTHY)
		st->consecutive = (uint32_t)hc->failures - 1;
}

const char *
health_verdict_name(enum health_verdict v)
{
	switch (v) {
	case HEALTH_STARTING:
		return "starting";
	case HEALTH_HEALTHY:
		return "healthy";
	case HEALTH_UNHEALTHY:
		return "unhealthy";
	}
	return "unknown";
}

int
health_verdict_parse(const char *s)
{
	int	v;

	for (v = HEALTH_STARTING; v <= HEALTH_UNHEALTHY; v++)
		if (strcmp(s, health_verdict_name((enum health_verdict)v)) == 0)
			return v;
	return -1;
}

const char *
health_check_name(enum health_check c)
{
	switch (c) {
	case HEALTH_EXEC:
		return "exec";
	case HEALTH_TCP:
		return "tcp";
	case HEALTH_HTTP:
		return "http";
	}
	return "unknown";
}

/* --- targets ------------------------------------------------------------------- */

/* "1".."65535", digits only. */
static int
health_port(const char *s, size_t len, int *port)
{
	size_t	i;
	long	v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* HOST of len bytes: a numeric address, [IPv6] or localhost, into host. */
static int
health_host(const char *s, size_t len, char host[HEALTH_HOST_MAX],
    const char **why)
{
	unsigned char	addr[16];
	bool		v6 = len >= 2 && s[0] == '[' && s[len - 1] == ']';

	if (v6) {
		s++;
		len -= 2;
	}
	*why = "the host must be a numeric IPv4 address, [IPv6] or "
	    "localhost: names are not looked up, so that no probe waits on DNS";
	if (len == 0 || len >= HEALTH_HOST_MAX)
		return -1;
	if (!v6 && len == 9 && strncmp(s, "localhost", 9) == 0) {
		memcpy(host, "127.0.0.1", sizeof("127.0.0.1"));
		return 0;
	}
	memcpy(host, s, len);
	host[len] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, addr) != 1)
		return -1;
	return 0;
}

int
health_parse_hostport(const char *s, char host[HEALTH_HOST_MAX], int *port,
    const char **why)
{
	const char	*colon = strrchr(s, ':');

	if (colon == NULL || (strchr(s, ':') != colon && s[0] != '[') ||
	    (s[0] == '[' && colon[-1] != ']')) {
		*why = "expected HOST:PORT (an IPv6 address in brackets)";
		return -1;
	}
	if (health_host(s, (size_t)(colon - s), host, why) == -1)
		return -1;
	if (health_port(colon + 1, strlen(colon + 1), port) == -1) {
		*why = "the port must be a number from 1 to 65535";
		return -1;
	}
	return 0;
}

/* A path a request line can carry as it is: printable, no space. */
static bool
health_path_ok(const char *p)
{
	for (; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return false;
	return true;
}

int
health_parse_url(const char *s, char host[HEALTH_HOST_MAX], int *port,
    char **path, const char **why)
{
	static const char	 scheme[] = "http://";
	const char		*hp, *slash;
	char			*hostport;
	int			 rv;

	if (strncmp(s, scheme, sizeof(scheme) - 1) != 0) {
		*why = "expected http://HOST:PORT/PATH (only http:// is "
		    "supported)";
		return -1;
	}
	hp = s + sizeof(scheme) - 1;
	if ((slash = strchr(hp, '/')) == NULL)
		slash = hp + strlen(hp);
	if (strlen(slash) > HEALTH_PATH_MAX) {
		*why = "the path is longer than 1024 bytes";
		return -1;
	}
	if (!health_path_ok(slash)) {
		*why = "the path must be printable ASCII without spaces";
		return -1;
	}
	if (memchr(hp, '@', (size_t)(slash - hp)) != NULL) {
		*why = "a user in the URL is not supported";
		return -1;
	}
	xasprintf(&hostport, "%.*s", (int)(slash - hp), hp);
	rv = health_parse_hostport(hostport, host, port, why);
	free(hostport);
	if (rv == -1)
		return -1;
	*path = xstrdup(*slash != '\0' ? slash : "/");
	return 0;
}

/* --- answers ------------------------------------------------------------------- */

int
health_http_status(const char *buf, size_t len, int *code)
{
	static const char	 proto[] = "HTTP/1.";
	const char		*eol = memchr(buf, '\n', len);
	size_t			 n = eol != NULL ? (size_t)(eol - buf) :
				    len;
	size_t			 p = sizeof(proto) - 1;

	/* What is there must be a prefix of a status line. */
	if (memcmp(buf, proto, n < p ? n : p) != 0)
		return -1;
	if (eol == NULL)
		return len >= HEALTH_HTTP_HEAD_MAX ? -1 : 0;
	if (n > HEALTH_HTTP_HEAD_MAX)
		return -1;
	/* "HTTP/1.x NNN" then a space, CR or the end of the line. */
	if (n < p + 5 || !isdigit((unsigned char)buf[p]) || buf[p + 1] != ' ' ||
	    !isdigit((unsigned char)buf[p + 2]) ||
	    !isdigit((unsigned char)buf[p + 3]) ||
	    !isdigit((unsigned char)buf[p + 4]) ||
	    (n > p + 5 && buf[p + 5] != ' ' && buf[p + 5] != '\r'))
		return -1;
	*code = (buf[p + 2] - '0') * 100 + (buf[p + 3] - '0') * 10 +
	    (buf[p + 4] - '0');
	if (*code < 100)
		return -1;
	return 1;
}
