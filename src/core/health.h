/*
 * health.h: a worker's liveness probe, as pure logic: when the next probe
 * is due, what a probe's outcome makes of the worker's health, and the
 * parsers of what a probe talks to ("HOST:PORT", "http://HOST:PORT/PATH")
 * and of what an HTTP server answers. Time is passed in (ms, monotonic);
 * the daemon runs the probes (daemon/health*.c).
 *
 * The schedule: probes begin once an instance runs. The first is due one
 * interval after its start, less a stable offset of up to a tenth of the
 * interval drawn from the service's name, so that services started
 * together do not probe in step; each next one is due an interval after
 * the last was due (never in the past: a late round is not caught up).
 * A failure inside start_period_ms of the start does not count; a
 * success ends the start period early. After "failures" counted failures
 * in a row the worker is unhealthy; a success resets the count. Each new
 * instance begins again, starting.
 */
#ifndef WARDEN_HEALTH_H
#define WARDEN_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum health_verdict {
	HEALTH_STARTING,	/* no success yet, and not judged unhealthy */
	HEALTH_HEALTHY,
	HEALTH_UNHEALTHY,
};

/* What a probe's outcome did. */
enum health_outcome {
	HEALTH_OK,		/* it passed */
	HEALTH_FAILED_EARLY,	/* failed inside the start period: not counted */
	HEALTH_FAILED,		/* failed, counted, not yet "failures" in a row */
	HEALTH_NOW_UNHEALTHY,	/* failed "failures" times in a row: just now */
};

struct health_state {
	uint64_t		 started_at;	/* the instance's start */
	uint64_t		 next_at;	/* the next probe is due */
	uint64_t		 last_at;	/* the last probe's end; 0: none yet */
	uint32_t		 consecutive;	/* counted failures in a row */
	bool			 early_over;	/* the start period ended (a success) */
	enum health_verdict	 verdict;
};

/* The stable offset of a service's probes: 0 .. interval_ms / 10. */
uint32_t	 health_offset(const char *name, int interval_ms);

/* A new instance, started at started_at: its first probe is scheduled. */
void		 health_begin(struct health_state *, const struct health_conf *,
		    uint32_t offset, uint64_t started_at);

/*
 * A probe begun at began ended at now: counted, and the next one due. The
 * verdict after it is in st->verdict.
 */
enum health_outcome health_result(struct health_state *,
		    const struct health_conf *, bool ok, uint64_t began,
		    uint64_t now);

/*
 * A reload changed the probe's settings: the next probe is due no later
 * than one new interval from now.
 */
void		 health_reschedule(struct health_state *,
		    const struct health_conf *, uint64_t now);

const char	*health_verdict_name(enum health_verdict);
/* A verdict by its name: -1 when s names none. */
int		 health_verdict_parse(const char *s);
const char	*health_check_name(enum health_check);

/*
 * "HOST:PORT": HOST a numeric IPv4 address, "[IPv6]" or "localhost" (taken
 * as 127.0.0.1: no name is looked up), PORT 1..65535. 0, or -1 with why.
 */
int		 health_parse_hostport(const char *, char host[HEALTH_HOST_MAX],
		    int *port, const char **why);
/*
 * "http://HOST:PORT/PATH", PATH "/" when absent: *path malloc'd. PATH is
 * printable ASCII without spaces, up to HEALTH_PATH_MAX. 0, or -1 with why.
 */
int		 health_parse_url(const char *, char host[HEALTH_HOST_MAX],
		    int *port, char **path, const char **why);

/* An HTTP answer's status line is looked for in its first bytes only. */
#define HEALTH_HTTP_HEAD_MAX	1024
/*
 * The first bytes of an answer: 1 with *code when the status line is
 * there ("HTTP/1.x NNN ..."), 0 when more must come, -1 when it is not
 * an HTTP answer (or no status line in HEALTH_HTTP_HEAD_MAX bytes).
 */
int		 health_http_status(const char *, size_t, int *code);

#endif
