/*
 * readysock.h: the NOTIFY_SOCKET warden gives its "ready: notify" workers, in
 * the sd_notify(3) datagram protocol. Messages are attributed by the
 * sender's credentials, so `systemd-notify --ready` from a worker's shell
 * (another pid in the worker's process group) counts for that worker.
 * File descriptors sent along (BARRIER=1) are closed at once, which is
 * what releases the sender's barrier.
 */
#ifndef WARDEN_READYSOCK_H
#define WARDEN_READYSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

struct event_base;

/* pid: the sender's; msg: the datagram, NUL-terminated, newline-separated. */
typedef void (*readysock_fn)(pid_t pid, const char *msg, size_t len, void *arg);

int		 readysock_open(struct event_base *, readysock_fn, void *arg);
/* The address to hand out: "@warden-notify.<pid>.<n>" (abstract). */
const char	*readysock_socket_name(void);
void		 readysock_close(void);
/*
 * A reexec: the socket described ({fd, name}, or null when none is open),
 * its fd left open; readysock_adopt() in the next image makes readysock_open()
 * take that socket, so workers keep the address they were given.
 */
json_t		*readysock_handover(void);
int		 readysock_adopt(const json_t *, char *err, size_t errlen);

/*
 * Shared with readers.c's report sockets: one datagram of fd, without
 * waiting: its length (buf NUL-ended; size counts the NUL), the sender's
 * pid from its credentials (0: none), and whether it was cut to fit; -1
 * with errno. Descriptors sent along are closed. And a datagram unix
 * socket handed over by a reexec, checked and made close-on-exec and
 * non-blocking (-1 with err naming what).
 */
ssize_t		 readysock_recv(int fd, char *buf, size_t size, pid_t *pid,
		    bool *cut);
int		 readysock_take_fd(int fd, const char *what, char *err,
		    size_t errlen);

/* Does a notify message hold the line "KEY=value" (value exactly)? */
int		 readysock_has(const char *msg, const char *line);
/*
 * The value of the last line "KEY=..." of a notify message, *len its
 * length (up to the newline); NULL when there is none.
 */
const char	*readysock_value(const char *msg, const char *key, size_t *len);

#endif
