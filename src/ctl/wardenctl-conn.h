/*
 * wardenctl-conn.h: a connection to warden's control socket, the one
 * every wardenctl command (wardenctl-rpc.c) and the drill runner
 * (wardenctl-drill-run.c) talk through.
 *
 * One JSON text per line each way. The socket stays blocking, but every
 * send and receive is MSG_DONTWAIT: a caller either reads what has
 * arrived (conn_fill, conn_next: the drill runner polls two connections
 * at once) or waits for the next message until a deadline (conn_read).
 * Sends wait until their deadline at most, so a warden that stops
 * reading costs a timeout, never a hang. Lines may be of any length up
 * to CONN_LINE_MAX (status with a thousand services is large). Deadlines
 * are on util_now_us()'s clock.
 */
#ifndef WARDENCTL_CONN_H
#define WARDENCTL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Far above any real answer; only there so garbage cannot eat memory. */
#define CONN_LINE_MAX		((size_t)1 << 30)
#define CONN_NO_DEADLINE	UINT64_MAX

enum conn_rc {
	CONN_OK,
	CONN_EOF,		/* warden closed the connection */
	CONN_AGAIN,		/* nothing (whole) to read yet */
	CONN_TIMEOUT,		/* the deadline passed */
	CONN_TOO_LONG,		/* a line longer than CONN_LINE_MAX */
	CONN_BAD,		/* a line that is not JSON */
	CONN_INVALID,		/* a message that cannot be sent: not UTF-8 */
	CONN_ERROR		/* the socket failed: error says how */
};

struct conn {
	const char	*socket;	/* warden's, for messages */
	int		 fd;		/* -1: closed */
	int		 error;		/* errno of the last CONN_ERROR */
	/* Bytes read: consumed up to off, filled up to len, cap allocated. */
	char		*buf;
	size_t		 off, len, cap;
	size_t		 scan;		/* next '\n' search */
	json_t		*kept;		/* notifications kept for later */
};

void	 conn_init(struct conn *, const char *socket);
void	 conn_close(struct conn *);
/*
 * Connect (a connection already open is closed first); a listener whose
 * backlog is full may keep connect(2) waiting connect_ms, then EAGAIN.
 * Returns 0, or an errno (ENAMETOOLONG for a path sun_path cannot hold).
 */
int	 conn_open(struct conn *, int connect_ms);

/* Send msg, a request or a batch, as one line. */
enum conn_rc conn_send(struct conn *, json_t *msg, uint64_t deadline);

/*
 * Read what has arrived: CONN_OK (some bytes), CONN_AGAIN (none),
 * CONN_EOF, CONN_TOO_LONG or CONN_ERROR.
 */
enum conn_rc conn_fill(struct conn *);
/*
 * The next message among the lines read whole, blank lines skipped:
 * CONN_OK with *msg (the caller's), CONN_AGAIN when no whole line is in,
 * or CONN_BAD when it is not JSON (why, when not NULL, says how).
 */
enum conn_rc conn_next(struct conn *, json_t **msg, json_error_t *why);
/*
 * The next message, reading until deadline (CONN_NO_DEADLINE: as long
 * as it takes): conn_next's answers but CONN_AGAIN, or conn_fill's
 * failures, or CONN_TIMEOUT. At CONN_EOF a partial last line is dropped.
 */
enum conn_rc conn_read(struct conn *, uint64_t deadline, json_t **msg,
	    json_error_t *why);

/* A request {jsonrpc, id, method, params}; params (taken) may be NULL. */
json_t	*conn_request(json_int_t id, const char *method, json_t *params);
/*
 * Is msg the answer to the request of id first (batch: to a batch of n,
 * ids first to first + n - 1)? A request warden could not read at all
 * is answered by one error with a null id.
 */
bool	 conn_is_answer(json_t *msg, json_int_t first, size_t n, bool batch);
/* The params of an event notification (borrowed), or NULL. */
json_t	*conn_event_params(json_t *msg);
/* The params of a notification of method name, or NULL. */
json_t	*conn_note_params(json_t *msg, const char *name);

/* Keep an event's params for later, in order; the next kept, or NULL. */
void	 conn_keep(struct conn *, json_t *params);
json_t	*conn_kept(struct conn *);

#endif
