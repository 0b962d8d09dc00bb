/*
 * rpc-private.h: what the dispatcher (rpc.c), the calls awaiting their answer
 * (rpc-wait.c, rpc-handover.c) and the methods (methods*.c) share; rpc.h
 * is the interface.
 */
#ifndef WARDEN_RPC_PRIVATE_H
#define WARDEN_RPC_PRIVATE_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "jsonrpc.h"

struct client;
struct event;
struct event_base;
struct flagsvc_call;
struct fleetd_write;
struct fleetd_read;

/* One request being answered. */
struct call {
	struct client		*client;
	json_t			*id;		/* NULL: a notification */
	struct jsonrpc_batch	*batch;		/* NULL: not in a batch */
	size_t			 slot;
	bool			 done;		/* answered, or taken */
	bool			 taken;		/* to be answered later (rpc_wait_take) */
};

/* --- answers (rpc.c) -------------------------------------------------------- */

void	rpc_result(struct call *, json_t *result);
void	rpc_error_data(struct call *, int code, json_t *data, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
#define rpc_error(call, code, ...) rpc_error_data(call, code, NULL, __VA_ARGS__)
/* The answer to an error the JSON-RPC core found. */
void	rpc_fail(struct call *, struct jsonrpc_error *);

extern struct event_base	*rpc_base;

/* --- calls awaiting their answer (rpc-wait.c) ---------------------------------- */

/*
 * PENDING_COMMIT: a flag or stage change, until its group is durable; it
 * never outlives the turn, so it is never handed over. PENDING_OBSERVE:
 * a change made, until its readers observed it (barrier.c). PENDING_FLEET:
 * a fleet write or fleet.status, until etcd answers; a reexec answers it
 * first, so it is never handed over either.
 */
enum pending_kind { PENDING_WAIT, PENDING_SETTLE, PENDING_REEXEC,
	PENDING_COMMIT, PENDING_OBSERVE, PENDING_FLEET };

struct watch;
struct pending;
TAILQ_HEAD(pending_list, pending);

struct pending {
	struct call		 call;
	enum pending_kind	 kind;
	struct jsonrpc_cond	 cond;		/* what for; once armed, a service's
						   state is the tree's (tree_state_parse) */
	json_t			*condition;	/* wait: as asked, for its timeout */
	bool			 want_up;	/* settle: up (start, restart) or down (stop) */
	json_int_t		 timeout_ms;
	uint64_t		 deadline;	/* wait: its timeout, monotonic ms */
	struct event		*timer;		/* wait: its timeout */
	struct watch		*watch;		/* what it waits on; NULL: recovered,
						   or several services */
	/* A service operation on several: the nodes, in the order done. */
	json_t			*targets;	/* their names; NULL: one, by watch */
	struct node		**nodes;	/* found by name ... */
	uint64_t		 nodes_gen;	/* ... in this tree generation */
	size_t			 settled;	/* those before it have settled */
	struct pending_list	*list;		/* the list of its condition */
	struct flagsvc_call	*commit;	/* a change: until it is answered */
	json_int_t		 observe_ms;	/* commit: its wait_observed, -1 */
	struct barrier		*barrier;	/* observe: barrier.c's */
	struct fleetd_write	*fleet;		/* fleet: until etcd answers */
	struct fleetd_read	*fleet_read;	/* fleet.status: until answered */
	TAILQ_ENTRY(pending)	 by_client;
	TAILQ_ENTRY(pending)	 by_cond;
};

/* What the dispatcher keeps of a client: its calls awaiting an answer. */
struct rpc_session {
	struct pending_list	pending;
	unsigned		ncommit;	/* of them, PENDING_COMMIT */
};

struct rpc_session *rpc_session(struct client *);	/* made when there is none */
/* The client is going: what it was waiting for is dropped, unanswered. */
void		 rpc_session_free(struct client *);

/*
 * May the client have one more call waiting? Past limits.max_pending the
 * call gets an error at once, and nothing is done.
 */
bool		 rpc_wait_room(struct call *);
/*
 * The client's calls awaiting their answer that count toward max_pending:
 * not the changes awaiting their group's sync, which never outlive the
 * turn.
 */
unsigned	 rpc_wait_held(struct client *);
/* Take the call over; it is on its client's list, not yet on a condition's. */
struct pending	*rpc_wait_take(struct call *, enum pending_kind);
/* A service operation: answer once the service has settled. */
void		 rpc_wait_settle(struct pending *, const char *service, bool want_up);
/*
 * One on several (targets, their names, taken): answer once each has
 * settled, with {"services": [...]}, each worker in their subtrees.
 */
void		 rpc_wait_settle_many(struct pending *, json_t *targets,
		    bool want_up);
/*
 * A wait for a checked condition, with its timeout: timeout_ms in all
 * (for the message), of which left_ms remain (all of it, but for a wait
 * handed over by a reexec).
 */
void		 rpc_wait_arm(struct pending *, const json_t *condition,
		    const struct jsonrpc_cond *, json_int_t timeout_ms,
		    json_int_t left_ms);
/* The service or flag it waits on; NULL: none by name. */
const char	*rpc_wait_subject(const struct pending *);
/* Test it now: answered and freed when it holds (true). */
bool		 rpc_wait_test(struct pending *);
void		 rpc_wait_free(struct pending *);
/* The client is going: its calls are dropped, unanswered. */
void		 rpc_wait_drop_all(struct client *);
/*
 * A reexec call, answered by rpc_reexec_failed() or rpc_reexec_done():
 * the first of them, until there is none. The one asking (in
 * reexec_request() now) is known until rpc_wait_reexec_asked(), which
 * gives it back unless it was answered meanwhile.
 */
void		 rpc_wait_reexec(struct pending *, bool asking);
struct pending	*rpc_wait_reexec_asked(void);
struct pending	*rpc_wait_reexec_next(void);

bool		 rpc_wait_ready(void);		/* rpc_wait_init() was called */
void		 rpc_wait_init(struct event_base *);
void		 rpc_wait_fini(void);

#endif
