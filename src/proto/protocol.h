/*
 * protocol.h: what warden and its clients agree on over the control
 * socket (JSON-RPC 2.0, one message per line; see warden(8), CONTROL
 * PROTOCOL): the protocol's version and the error codes. Both the daemon
 * and wardenctl include it; nothing else of the daemon is a client's.
 */
#ifndef WARDEN_PROTOCOL_H
#define WARDEN_PROTOCOL_H

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

#endif
