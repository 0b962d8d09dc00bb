/*
 * logring.h: the last lines of one service's output, kept in memory for
 * `wardenctl logs` and the failure hooks. Pure: time and pid are passed
 * in. Bounded twice, in lines and in bytes of text (their buffers, reused
 * from line to line, hold at most twice that); the oldest lines go first. Each line carries the sequence number its caller gives it (one
 * count for all services, so lines of several interleave in order), and
 * the ring counts the lines it was given, kept or not.
 *
 * Text is kept as valid UTF-8 without NULs: invalid bytes and NULs become
 * U+FFFD, so every line can be put in a JSON answer as it is.
 */
#ifndef WARDEN_LOGRING_H
#define WARDEN_LOGRING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum logring_stream { LOGRING_STDOUT, LOGRING_STDERR };

struct logline {
	uint64_t	 seq;
	int64_t		 wall_ms;	/* CLOCK_REALTIME, milliseconds */
	pid_t		 pid;
	int		 stream;	/* enum logring_stream */
	size_t		 len;
	char		*text;		/* len bytes and a NUL */
	size_t		 cap;		/* its buffer, reused by the next line there */
};

struct logring {
	struct logline	*slots;		/* grown as lines come, up to max_lines */
	size_t		 nslots;
	size_t		 head;		/* the oldest line's slot */
	size_t		 len;		/* lines held */
	size_t		 bytes;		/* text held */
	size_t		 max_lines;	/* 0: nothing is kept */
	size_t		 max_bytes;
	uint64_t	 total;		/* lines given, kept or not */
	char		*spare;		/* the last dropped line's buffer, for the next */
	size_t		 spare_cap;
};

void	logring_init(struct logring *, size_t max_lines, size_t max_bytes);
void	logring_free(struct logring *);
/* New bounds (a reload): the oldest lines go until the ring fits. */
void	logring_set_limits(struct logring *, size_t max_lines, size_t max_bytes);
/*
 * Keep one line (without its newline). A line longer than max_bytes is
 * cut to it. Returns the line as kept, or NULL when nothing is kept.
 */
const struct logline *logring_push(struct logring *, uint64_t seq,
	    int64_t wall_ms, pid_t pid, int stream, const char *text, size_t len);
/* The same for text that is clean already (logring_utf8_clean's). */
const struct logline *logring_push_clean(struct logring *, uint64_t seq,
	    int64_t wall_ms, pid_t pid, int stream, const char *text, size_t len);
size_t	logring_count(const struct logring *);
/* The i-th line held, 0 the oldest. */
const struct logline *logring_at(const struct logring *, size_t i);
/* Lines given to it since it began, kept or not. */
uint64_t logring_total(const struct logring *);

/*
 * Copy src to dst as valid UTF-8: each byte that does not start a valid,
 * shortest-form sequence becomes U+FFFD, and so does a NUL. Whole sequences only, as many
 * as fit in room; returns the bytes written (dst NULL: the bytes that
 * would be).
 */
size_t	logring_utf8_clean(char *dst, size_t room, const char *src, size_t len);

#endif
