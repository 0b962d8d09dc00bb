/*
 * protocol.h: what warden and its clients agree on over the control
 * socket (JSON-RPC 2.0, one message per line; see warden(8), CONTROL
 * PROTOCOL): the protocol's version, the error codes and the types of
 * events. Both the daemon
 * and wardenctl include it; nothing else of the daemon is a client's.
 */
#ifndef WARDEN_PROTOCOL_H
#define WARDEN_PROTOCOL_H

#include <stddef.h>
#include <string.h>

#define RPC_PROTOCOL_VERSION	1

#define RPC_PARSE_ERROR		-32700
#define RPC_INVALID_REQUEST	-32600
#define RPC_METHOD_NOT_FOUND	-32601
#define RPC_INVALID_PARAMS	-32602
#define RPC_INTERNAL_ERROR	-32603
#define RPC_NOT_FOUND		-32001
#define RPC_FORBIDDEN		-32002
#define RPC_TIMEOUT		-32003
#define RPC_CONFLICT		-32004
#define RPC_UNAVAILABLE		-32005
#define RPC_REEXEC_FAILED	-32006

/* The most a "limit" param (stage.get's history) may ask for. */
#define RPC_LIMIT_MAX		1000000

/*
 * Every type of event warden sends (warden(8), EVENTS), each emitted
 * under this name in src/daemon. A topic of subscribe is one of them, or
 * a prefix of one that ends at a dot ("service", "service.").
 */
static const char *const rpc_event_types[] = {
	"service.started", "service.ready", "service.exited",
	"service.backoff", "service.failed", "service.signaled",
	"service.unhealthy",
	"supervisor.failed",
	"flag.changed", "stage.changed", "guard.rollback",
	"table.deleted", "table.repaired", "table.unavailable",
	"warden.reexecuted", "warden.reexec_failed",
	"events.dropped",
	"hook.finished",
};
#define RPC_NEVENT_TYPES (sizeof(rpc_event_types) / sizeof(rpc_event_types[0]))

/* Does topic select any event type (as events_topic_match() does)? */
static inline int
rpc_event_topic_known(const char *topic)
{
	const char	*type;
	size_t		 i, n = strlen(topic);

	for (i = 0; n > 0 && i < RPC_NEVENT_TYPES; i++) {
		type = rpc_event_types[i];
		if (strncmp(topic, type, n) == 0 && (type[n] == '\0' ||
		    type[n] == '.' || topic[n - 1] == '.'))
			return 1;
	}
	return 0;
}

#endif
