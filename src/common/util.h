/*
 * util.h: small helpers shared by warden, wardenctl and the tests.
 */
#ifndef WARDEN_UTIL_H
#define WARDEN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

/* CLOCK_MONOTONIC in milliseconds / microseconds. */
uint64_t	 util_now_ms(void);
uint64_t	 util_now_us(void);
/* CLOCK_REALTIME in milliseconds since the epoch. */
int64_t		 util_wall_ms(void);

/*
 * The one way warden writes a time for people: UTC, ISO 8601, with
 * milliseconds ("2026-12-07T03:58:01.123Z"). buf has UTIL_ISO_LEN bytes;
 * returns buf.
 */
#define UTIL_ISO_LEN	80
char		*util_iso_ms(int64_t wall_ms, char *buf);

/*
 * Signal by name ("TERM", "SIGTERM", any case) or number ("15").
 * Returns the signal number, or -1 when it is not a signal.
 */
int		 util_signal_parse(const char *);
/* "TERM" for SIGTERM; a static "SIG<n>" string for others. */
const char	*util_signal_name(int);

/* write(2) all of buf, retrying EINTR and short writes. 0 or -1 (errno). */
int		 util_write_all(int fd, const void *buf, size_t len);

/*
 * Read fd to its end, max bytes at most (EFBIG beyond), into a malloc'd
 * NUL-terminated buffer. 0 or -1 (errno).
 */
int		 util_read_fd(int fd, size_t max, char **out, size_t *outlen);

/* Set or clear O_NONBLOCK / FD_CLOEXEC. 0 or -1. */
int		 util_set_nonblock(int fd, bool on);
int		 util_set_cloexec(int fd, bool on);

/* Bytes as lowercase hex, and back (-1: not hex, or more than max bytes). */
char		*util_hex_encode(const void *, size_t);
int		 util_hex_decode(const char *hex, size_t max, char **out,
		    size_t *outlen);

/* malloc and friends that abort with a message on failure (fatal). */
void		*xmalloc(size_t);
void		*xcalloc(size_t, size_t);
void		*xreallocarray(void *, size_t, size_t);
char		*xstrdup(const char *);
int		 xasprintf(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

#endif
