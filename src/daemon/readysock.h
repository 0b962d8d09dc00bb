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
 * Shared with readers.c's report sockets: the sender's pid of a datagram
 * received with SCM_CREDENTIALS (0: none); fds sent along, closed; a
 * datagram unix socket handed over by a reexec, checked and made
 * close-on-exec and non-blocking (-1 with err naming what).
 */
struct msghdr;
pid_t		 readysock_sender(struct msghdr *);
void		 readysock_close_fds(struct msghdr *);
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
