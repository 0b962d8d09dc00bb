/*
 * sdnotify.h: warden telling its own service manager how it is, in the
 * documented sd_notify(3) datagram protocol (no libsystemd).
 *
 * What warden sends, when NOTIFY_SOCKET names a path or an abstract
 * ("@...") socket:
 *	READY=1		once the initial tree has started, and after a reload
 *	STATUS=...	one line, "4 of 4 services running, 0 recovering,
 *			stage 2", kept current from the event loop
 *	WATCHDOG=1	every half of WATCHDOG_USEC, from a timer of the event
 *			loop, so a loop that is stuck stops feeding it
 *	RELOADING=1	with MONOTONIC_USEC, when a reload begins
 *	STOPPING=1	once, when the shutdown begins
 * Without NOTIFY_SOCKET every call here does nothing and costs nothing.
 * Messages are sent without blocking: a manager that does not read its
 * socket loses messages instead of stalling warden.
 */
#ifndef WARDEN_SDNOTIFY_H
#define WARDEN_SDNOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct event_base;

#define SDNOTIFY_STATUS_MIN_MS		250	/* STATUS= at most this often */
#define SDNOTIFY_STATUS_EVERY_MS	1000	/* and looked at this often */

/*
 * Take NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from the environment
 * and remove them from there, so that nothing warden starts sees them.
 */
void		 sdnotify_init(void);
/*
 * A reexec: those variables as warden found them ({name: value}), and, in
 * the next image before sdnotify_init(), put back into its environment.
 */
json_t		*sdnotify_handover(void);
void		 sdnotify_adopt(const json_t *);
bool		 sdnotify_enabled(void);
/* The watchdog interval in µs that applies to this process, 0 if none. */
uint64_t	 sdnotify_watchdog_usec(void);

/*
 * Send one message, e.g. "READY=1" or "STATUS=...", lines separated by
 * "\n". A message longer than the protocol's datagram is cut at the end,
 * so a STATUS= line goes last. 0, or -1 with errno.
 */
int		 sdnotify_send(const char *fmt, ...)
		    __attribute__((format(printf, 1, 2)));

/*
 * Start the timers on base: the watchdog, when WATCHDOG_USEC applies, and
 * the STATUS= line, which status() writes into buf (a NUL-terminated line
 * of at most len - 1 bytes). 0, or -1 when a timer cannot be made.
 */
int		 sdnotify_start(struct event_base *base,
		    void (*status)(char *buf, size_t len));
/* Something the STATUS= line shows may have changed: cheap, rate-limited. */
void		 sdnotify_status_changed(void);

/* READY=1 with the current STATUS=. */
void		 sdnotify_ready(void);
/* RELOADING=1 and MONOTONIC_USEC: a reload begins. */
void		 sdnotify_reloading(void);
/*
 * The reload is over: READY=1. refused, when not NULL, says why nothing
 * changed; the STATUS= line shows it until a reload succeeds.
 */
void		 sdnotify_reloaded(const char *refused);
/* STOPPING=1, once; the STATUS= line says "stopping" from then on. */
void		 sdnotify_stopping(void);
bool		 sdnotify_is_stopping(void);
/* Stop the timers (the socket stays for a last message). */
void		 sdnotify_stop(void);

#endif
