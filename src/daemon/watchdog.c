/*
 * watchdog.c: a worker's watchdog ("watchdog_ms", with "ready": "notify"),
 * as systemd's WatchdogSec=. The worker gets WATCHDOG_USEC and WATCHDOG_PID
 * (spawn.c) and sends WATCHDOG=1 over its NOTIFY_SOCKET at least that
 * often; when it does not, it is judged hung (worker_unhealthy(), WEV_HUNG:
 * SIGABRT, then SIGKILL after its grace) and restarted as after a crash.
 *
 * The watchdog runs from the worker's readiness, or from its first
 * WATCHDOG=1 if that comes first, until its instance is told to stop or
 * exits. Only its main process (WATCHDOG_PID) feeds it: a child that goes
 * on pinging while the main process is stuck must not keep it alive.
 * WATCHDOG=trigger fires it at once; WATCHDOG_USEC=N sets another period
 * for the instance, as sd_notify(3) says.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "readysock.h"
#include "tree-private.h"
#include "util.h"
#include "watchdog.h"

/* The period in force: the instance's own (WATCHDOG_USEC=), or its config's. */
static uint64_t
watchdog_period_us(const struct node *n)
{
	if (n->wd_usec != 0)
		return n->wd_usec;
	if (n->conf == NULL)
		return 0;
	return (uint64_t)n->conf->watchdog_ms * 1000;
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node	*n = arg;
	char		 why[96];

	(void)fd;
	(void)what;
	n->wd_at = 0;
	(void)snprintf(why, sizeof(why), "no WATCHDOG=1 within %" PRIu64 " ms",
	    watchdog_period_us(n) / 1000);
	worker_unhealthy(n, "watchdog", why);
}

/* Fire us microseconds from now. */
static void
watchdog_in(struct node *n, uint64_t us)
{
	struct timeval	tv;

	if (n->wd_timer == NULL &&
	    (n->wd_timer = evtimer_new(tree.base, watchdog_cb, n)) == NULL)
		fatalx("%s: cannot make the watchdog's timer", n->name);
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	/* From now, not from the start of this turn of the loop. */
	(void)event_base_update_cache_time(tree.base);
	if (evtimer_add(n->wd_timer, &tv) == -1)
		fatalx("%s: cannot arm the watchdog", n->name);
}

void
watchdog_arm(struct node *n)
{
	uint64_t	us = watchdog_period_us(n);

	if (us == 0 || n->pid <= 0)
		return;
	watchdog_in(n, us);
	n->wd_at = util_now_ms() + us / 1000;
}

void
watchdog_resume(struct node *n, uint64_t at, uint64_t now)
{
	if (n->pid <= 0 || n->conf == NULL || n->conf->watchdog_ms == 0)
		return;
	watchdog_in(n, at > now ? (at - now) * 1000 : 0);
	n->wd_at = at;
}

void
watchdog_stop(struct node *n)
{
	if (n->wd_timer != NULL)
		evtimer_del(n->wd_timer);
	n->wd_at = 0;
	n->wd_usec = 0;
	n->wd_foreign_said = false;
}

void
watchdog_free(struct node *n)
{
	if (n->wd_timer != NULL)
		event_free(n->wd_timer);
	n->wd_timer = NULL;
}

/* Alive: only while it is starting or running, not on its way down. */
static bool
watchdog_live(const struct node *n)
{
	return n->pid > 0 && (n->state == SVC_STARTING ||
	    n->state == SVC_RUNNING);
}

/* WATCHDOG_USEC=N: the instance's new period, within the config's bounds. */
static void
watchdog_set_period(struct node *n, const char *v, size_t len)
{
	char		 buf[24];
	char		*end;
	unsigned long long us;

	if (len == 0 || len >= sizeof(buf) || strspn(v, "0123456789") < len) {
		log_warnx("%s: WATCHDOG_USEC=%.*s: not a number of "
		    "microseconds, ignored", n->name, (int)(len > 32 ? 32 : len), v);
		return;
	}
	memcpy(buf, v, len);
	buf[len] = '\0';
	us = strtoull(buf, &end, 10);
	if (us < (unsigned long long)CONFIG_WATCHDOG_MIN * 1000 ||
	    us > (unsigned long long)CONFIG_WATCHDOG_MAX * 1000) {
		log_warnx("%s: WATCHDOG_USEC=%s: out of %d ms .. %d ms, ignored",
		    n->name, buf, CONFIG_WATCHDOG_MIN, CONFIG_WATCHDOG_MAX);
		return;
	}
	n->wd_usec = us;
}

void
watchdog_notify(struct node *n, pid_t from, const char *msg)
{
	const char	*v;
	size_t		 len;
	bool		 ping = readysock_has(msg, "WATCHDOG=1");
	bool		 trigger = readysock_has(msg, "WATCHDOG=trigger");

	v = readysock_value(msg, "WATCHDOG_USEC", &len);
	if ((!ping && !trigger && v == NULL) || n->conf == NULL ||
	    n->conf->watchdog_ms == 0 || !watchdog_live(n))
		return;
	if (from != n->pid) {
		/* Said once an instance: a stray pinger would flood the log. */
		if (!n->wd_foreign_said)
			log_warnx("%s: watchdog message from pid %ld, not its "
			    "main process %ld: ignored", n->name, (long)from,
			    (long)n->pid);
		n->wd_foreign_said = true;
		return;
	}
	if (v != NULL)
		watchdog_set_period(n, v, len);
	if (trigger) {
		watchdog_stop(n);
		worker_unhealthy(n, "watchdog", "it asked (WATCHDOG=trigger)");
		return;
	}
	watchdog_arm(n);
}
