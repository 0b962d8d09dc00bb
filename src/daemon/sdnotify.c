/*
 * sdnotify.c: warden's own sd_notify(3) messages (see sdnotify.h).
 *
 * The protocol: one datagram per message to the AF_UNIX socket named by
 * NOTIFY_SOCKET, a path or, with a leading '@', an abstract address;
 * newline-separated VARIABLE=value assignments. The manager learns the
 * sender from the socket's credentials, so one unbound socket of our own
 * is all it takes.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "sdnotify.h"
#include "util.h"

#define SDNOTIFY_MSG_MAX	4096	/* what managers read in one datagram */
#define SDNOTIFY_STATUS_MAX	512
#define SDNOTIFY_NOTE_MAX	256

static struct sockaddr_un	 sdnotify_addr;
static socklen_t		 sdnotify_len;
static int			 sdnotify_fd = -1;
static uint64_t			 sdnotify_wd_usec;

static struct event		*sdnotify_ev_watchdog;
static struct event		*sdnotify_ev_status;
static void			(*sdnotify_status_fn)(char *, size_t);
static char			 sdnotify_status_last[SDNOTIFY_STATUS_MAX];
static uint64_t			 sdnotify_status_at;	/* ms of the last look */
static uint64_t			 sdnotify_status_due;	/* ms the timer is set for, 0: none */
static char			 sdnotify_note[SDNOTIFY_NOTE_MAX];
static bool			 sdnotify_stopped;

/* A decimal number that fills s and is > 0; 0 when it is not one. */
static uint64_t
sdnotify_number(const char *s)
{
	unsigned long long	 v;
	char			*end;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	return (uint64_t)v;
}

static void
sdnotify_init_watchdog(void)
{
	const char	*usec = getenv("WATCHDOG_USEC");
	const char	*pid = getenv("WATCHDOG_PID");
	uint64_t	 p;

	sdnotify_wd_usec = 0;
	if (usec == NULL)
		return;
	if ((sdnotify_wd_usec = sdnotify_number(usec)) == 0) {
		log_warnx("WATCHDOG_USEC=%s: not a number of microseconds, "
		    "ignored", usec);
		return;
	}
	/* The watchdog is meant for another process (we were exec'd by it). */
	if (pid != NULL && ((p = sdnotify_number(pid)) == 0 ||
	    p != (uint64_t)getpid())) {
		log_debug("WATCHDOG_PID=%s is not warden's pid: no watchdog",
		    pid);
		sdnotify_wd_usec = 0;
	}
}

/* What the manager gave us, kept for the next image of a reexec. */
static const char *const sdnotify_vars[] = {
	"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"
};
static json_t	*sdnotify_env;

json_t *
sdnotify_handover(void)
{
	return json_incref(sdnotify_env != NULL ? sdnotify_env : json_object());
}

void
sdnotify_adopt(const json_t *env)
{
	const char	*k;
	json_t		*v;

	json_object_foreach((json_t *)env, k, v) {
		if (json_is_string(v) && (strcmp(k, "NOTIFY_SOCKET") == 0 ||
		    strcmp(k, "WATCHDOG_USEC") == 0 || strcmp(k, "WATCHDOG_PID") == 0))
			(void)setenv(k, json_string_value(v), 1);
	}
}

void
sdnotify_init(void)
{
	const char	*s = getenv("NOTIFY_SOCKET");
	size_t		 n, i;

	json_decref(sdnotify_env);
	sdnotify_env = json_object();
	for (i = 0; i < nitems(sdnotify_vars); i++)
		if (getenv(sdnotify_vars[i]) != NULL)
			json_object_set_new(sdnotify_env, sdnotify_vars[i],
			    json_string(getenv(sdnotify_vars[i])));

	sdnotify_len = 0;
	if (sdnotify_fd != -1) {
		close(sdnotify_fd);
		sdnotify_fd = -1;
	}
	sdnotify_init_watchdog();
	if (s == NULL)
		goto out;
	if (*s != '/' && *s != '@') {
		log_warnx("NOTIFY_SOCKET=%s: not a path or an abstract "
		    "address, ignored", s);
		goto out;
	}
	n = strlen(s);
	if (n < 2 || n > sizeof(sdnotify_addr.sun_path)) {
		log_warnx("NOTIFY_SOCKET=%s: bad length, ignored", s);
		goto out;
	}
	memset(&sdnotify_addr, 0, sizeof(sdnotify_addr));
	sdnotify_addr.sun_family = AF_UNIX;
	memcpy(sdnotify_addr.sun_path, s, n);
	if (*s == '@')
		sdnotify_addr.sun_path[0] = '\0';
	/* An abstract address is exactly its bytes; a path may fill sun_path. */
	sdnotify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	sdnotify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (sdnotify_fd == -1) {
		log_warn("NOTIFY_SOCKET: socket");
		sdnotify_len = 0;
	}
out:
	if (sdnotify_len == 0)
		sdnotify_wd_usec = 0;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

bool
sdnotify_enabled(void)
{
	return sdnotify_len != 0;
}

uint64_t
sdnotify_watchdog_usec(void)
{
	return sdnotify_wd_usec;
}

int
sdnotify_send(const char *fmt, ...)
{
	char	 buf[SDNOTIFY_MSG_MAX];
	va_list	 ap;
	size_t	 len;
	ssize_t	 w;
	int	 n;

	if (sdnotify_len == 0)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0) {
		errno = EINVAL;
		return -1;
	}
	len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	do
		w = sendto(sdnotify_fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT,
		    (struct sockaddr *)&sdnotify_addr, sdnotify_len);
	while (w == -1 && errno == EINTR);
	return w == -1 ? -1 : 0;
}

/* --- the watchdog ----------------------------------------------------------------- */

static void
sdnotify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	/* A full socket loses this one; the next comes in half an interval. */
	if (sdnotify_send("WATCHDOG=1") == -1 && errno != EAGAIN)
		log_warn("sd_notify WATCHDOG=1");
}

/* --- the STATUS= line ------------------------------------------------------------- */

static void
sdnotify_compose(char *buf, size_t len)
{
	char	 line[SDNOTIFY_STATUS_MAX];

	line[0] = '\0';
	if (sdnotify_status_fn != NULL)
		sdnotify_status_fn(line, sizeof(line));
	snprintf(buf, len, "%s%s%s%s", sdnotify_stopped ? "stopping: " : "",
	    line, sdnotify_note[0] != '\0' ? "; " : "", sdnotify_note);
}

/* Set the timer for at (ms), unless it is already set for earlier. */
static void
sdnotify_status_schedule(uint64_t at)
{
	struct timeval	 tv;
	uint64_t	 now = util_now_ms(), delay;

	if (sdnotify_ev_status == NULL ||
	    (sdnotify_status_due != 0 && sdnotify_status_due <= at))
		return;
	delay = at > now ? at - now : 0;
	tv.tv_sec = (time_t)(delay / 1000);
	tv.tv_usec = (suseconds_t)(delay % 1000 * 1000);
	if (evtimer_add(sdnotify_ev_status, &tv) == -1) {
		log_warnx("sd_notify: cannot set the status timer");
		return;
	}
	sdnotify_status_due = at;
}

/* Send STATUS= if the line differs from the last one sent. */
static void
sdnotify_status_flush(void)
{
	char	 line[SDNOTIFY_STATUS_MAX];

	sdnotify_compose(line, sizeof(line));
	sdnotify_status_at = util_now_ms();
	if (strcmp(line, sdnotify_status_last) == 0)
		return;
	if (sdnotify_send("STATUS=%s", line) == -1) {
		if (errno != EAGAIN)
			log_warn("sd_notify STATUS=");
		return;		/* tried again at the next look */
	}
	memcpy(sdnotify_status_last, line, sizeof(line));
}

static void
sdnotify_status_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	sdnotify_status_due = 0;
	sdnotify_status_flush();
	/* Not everything the line shows comes with a change callback (the stage). */
	sdnotify_status_schedule(sdnotify_status_at + SDNOTIFY_STATUS_EVERY_MS);
}

void
sdnotify_status_changed(void)
{
	if (sdnotify_ev_status == NULL)
		return;
	sdnotify_status_schedule(sdnotify_status_at + SDNOTIFY_STATUS_MIN_MS);
}

int
sdnotify_start(struct event_base *base, void (*status)(char *, size_t))
{
	struct timeval	tv;
	uint64_t	half;

	if (sdnotify_len == 0)
		return 0;
	sdnotify_status_fn = status;
	if (sdnotify_wd_usec != 0) {
		half = sdnotify_wd_usec / 2;
		if (half < 1000)
			half = 1000;
		tv.tv_sec = (time_t)(half / 1000000);
		tv.tv_usec = (suseconds_t)(half % 1000000);
		sdnotify_ev_watchdog = event_new(base, -1, EV_PERSIST,
		    sdnotify_watchdog_cb, NULL);
		if (sdnotify_ev_watchdog == NULL ||
		    event_add(sdnotify_ev_watchdog, &tv) == -1)
			return -1;
		log_debug("sd_notify: watchdog every %" PRIu64 " us", half);
		/* The manager's clock runs from our start: feed it now too. */
		sdnotify_watchdog_cb(-1, 0, NULL);
	}
	sdnotify_ev_status = evtimer_new(base, sdnotify_status_cb, NULL);
	if (sdnotify_ev_status == NULL)
		return -1;
	sdnotify_status_at = util_now_ms();
	sdnotify_status_schedule(sdnotify_status_at + SDNOTIFY_STATUS_EVERY_MS);
	return 0;
}

/* --- the life cycle --------------------------------------------------------------- */

void
sdnotify_ready(void)
{
	char	line[SDNOTIFY_STATUS_MAX];

	if (sdnotify_len == 0 || sdnotify_stopped)
		return;
	sdnotify_compose(line, sizeof(line));
	if (sdnotify_send("READY=1\nSTATUS=%s", line) == -1) {
		log_warn("sd_notify READY=1");
		return;
	}
	memcpy(sdnotify_status_last, line, sizeof(line));
	sdnotify_status_at = util_now_ms();
}

void
sdnotify_reloading(void)
{
	/* Once stopping, the manager waits for our exit, not for a reload. */
	if (sdnotify_stopped)
		return;
	/* systemd matches the time against its own to order the reload. */
	if (sdnotify_send("RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
	    util_now_us()) == -1)
		log_warn("sd_notify RELOADING=1");
}

void
sdnotify_reloaded(const char *refused)
{
	if (refused != NULL)
		snprintf(sdnotify_note, sizeof(sdnotify_note),
		    "last reload refused: %s", refused);
	else
		sdnotify_note[0] = '\0';
	sdnotify_ready();
}

void
sdnotify_stopping(void)
{
	char	line[SDNOTIFY_STATUS_MAX];

	if (sdnotify_stopped)
		return;
	sdnotify_stopped = true;
	if (sdnotify_len == 0)
		return;
	sdnotify_compose(line, sizeof(line));
	if (sdnotify_send("STOPPING=1\nSTATUS=%s", line) == -1) {
		log_warn("sd_notify STOPPING=1");
		return;
	}
	memcpy(sdnotify_status_last, line, sizeof(line));
	sdnotify_status_at = util_now_ms();
}

bool
sdnotify_is_stopping(void)
{
	return sdnotify_stopped;
}

void
sdnotify_stop(void)
{
	if (sdnotify_ev_watchdog != NULL)
		event_free(sdnotify_ev_watchdog);
	if (sdnotify_ev_status != NULL)
		event_free(sdnotify_ev_status);
	sdnotify_ev_watchdog = sdnotify_ev_status = NULL;
	sdnotify_status_due = 0;
}
