/*
 * rpc.h: JSON-RPC 2.0 over the control socket: framing of requests and
 * batches, the error codes, the command table (one entry per method, with
 * the role it needs), and requests whose answer comes later (wait, and
 * service operations that answer once the service has settled).
 */
#ifndef WARDEN_RPC_H
#define WARDEN_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "protocol.h"

struct client;
struct event_base;

void	rpc_init(struct event_base *);
void	rpc_free(void);
/* One line from a client: a request or a batch. */
void	rpc_handle(struct client *, const char *line, size_t len);
/* The client is going away: drop what it was waiting for. */
void	rpc_client_gone(struct client *);
/* Does the client wait for an answer still to come? */
bool	rpc_client_busy(const struct client *);
/* Something changed: answer the waits it satisfies. */
void	rpc_recheck(void);
/* The same, from the loop once the current change is complete. */
void	rpc_recheck_soon(void);
/* An error response with no id (for framing errors found by control.c). */
json_t	*rpc_error_response(json_t *id, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
const char *rpc_error_kind(int code);
/* Nesting depth of a JSON text (strings skipped), checked before parsing. */
size_t	rpc_json_depth(const char *, size_t);

/*
 * reexec (reexec.h). The calls waiting for it are answered here: with
 * error RPC_REEXEC_FAILED when the old image stays (why is the message and
 * data.reason), or with result (shared: the caller keeps its reference)
 * by the new image once it has adopted everything.
 */
void	rpc_reexec_failed(const char *why);
void	rpc_reexec_done(json_t *result);
/*
 * A client's calls awaiting their answer, described for the next image:
 * {"batches": [SLOTS, ...], "calls": [CALL, ...]}, each call with its id
 * (absent: a notification), its kind ("wait", "settle", "reexec"), what
 * it waits for, a wait's deadline (CLOCK_MONOTONIC ms) and, in a batch,
 * "batch" (an index into batches) and "slot". rpc_adopt_client() makes
 * them again (after rpc_init()); -1 with err naming what is wrong, and
 * then the client has none.
 */
json_t	*rpc_handover_client(const struct client *);
int	 rpc_adopt_client(struct client *, const json_t *, char *err,
	    size_t errlen);

#endif
