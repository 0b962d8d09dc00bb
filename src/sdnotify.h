/*
 * sdnotify.h: warden telling its own service manager how it is, in the
 * documented sd_notify(3) datagram protocol (no libsystemd). Does nothing
 * when warden was not started with NOTIFY_SOCKET.
 */
#ifndef WARDEN_SDNOTIFY_H
#define WARDEN_SDNOTIFY_H

/* Take NOTIFY_SOCKET from the environment (and remove it from there). */
void	sdnotify_init(void);
/* Send one message, e.g. "READY=1" or "STATUS=...". 0, or -1 with errno. */
int	sdnotify_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
