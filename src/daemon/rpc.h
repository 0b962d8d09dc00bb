/*
 * rpc.h: JSON-RPC 2.0 over the control socket: the dispatcher control.c
 * hands each line to, the calls whose answer comes later (wait, and the
 * service operations that answer once the service has settled), and
 * their handover to the next image of a reexec. The requests themselves
 * are read by the JSON-RPC core (jsonrpc.h); the methods are the rows of
 * one table (methods.h).
 */
#ifndef WARDEN_RPC_H
#define WARDEN_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "protocol.h"

struct client;
struct event_base;

/* Become control.c's dispatcher and listen to events; rpc_free() undoes it. */
void	rpc_init(struct event_base *);
void	rpc_free(void);
/* Something changed: answer the waits it satisfies. */
void	rpc_recheck(void);
/* The same, from the loop once the current change is complete. */
void	rpc_recheck_soon(void);

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
