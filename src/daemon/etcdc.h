/*
 * etcdc.h: an asynchronous client of etcd's v3 JSON gateway on warden's
 * loop (libevent's evhttp): the transport the fleet logic calls. The
 * request bodies and the answers are built and read by core/etcd.h; this
 * file moves them.
 *
 * The fleet logic's calls:
 *	etcdc_new(base, endpoints, n, timeout_ms, err)	a client
 *	etcdc_call(c, "/v3/kv/range", body, cb, arg)	one request
 *	etcdc_watch(c, body, event_cb, end_cb, arg)	a watch stream
 *	etcdc_cancel(r)					no callback after it
 *	etcdc_endpoint(c), etcdc_unreachable_since(c)	for status
 *	etcdc_free(c)
 *
 * Endpoints are "http://HOST:PORT" with a numeric HOST or localhost:
 * nothing is looked up from the loop, and https is refused. Each request
 * goes on a connection of its own to the endpoint in use; when one fails
 * to connect, times out or answers HTTP 5xx, the next request goes to the
 * next endpoint (no request is retried here: the caller decides). Since
 * when no endpoint has answered is kept: set by the first such failure,
 * cleared by the next HTTP answer below 500.
 *
 * Nothing blocks and no answer can crash it: a body over the bound, a
 * truncated or non-JSON body, HTML, a server that never answers (the
 * timeout covers the whole request, however slowly bytes trickle) all end
 * in the callback with a message naming the endpoint and what was wrong.
 * Callbacks are never called from inside etcdc_call() or etcdc_watch().
 */
#ifndef WARDEN_ETCDC_H
#define WARDEN_ETCDC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "etcd.h"

struct event_base;
struct etcdc;
struct etcdc_req;

/*
 * A call's answer, and all of a watch's stream, are bounded by default at
 * this (etcdc_set_body_max): a watch past it ends with an error, and its
 * owner starts another from the last revision it saw.
 */
#define ETCDC_BODY_MAX_DEFAULT	(64u * 1024 * 1024)
#define ETCDC_HEADERS_MAX	16384

/*
 * A call's end. error NULL: answer is the JSON object etcd answered with
 * HTTP 200. Otherwise error says what failed; status is the HTTP status
 * (0 when there was none) and answer, when not NULL, the JSON etcd sent
 * with it (a gateway error, say). answer is borrowed: json_incref() it to
 * keep it.
 */
typedef void	etcdc_call_cb(void *arg, int status, json_t *answer,
		    const char *error);

/* One object of a watch's stream ({"result": {...}}), borrowed. */
typedef void	etcdc_event_cb(void *arg, json_t *object);

enum etcdc_end {
	ETCDC_END_CLOSED,	/* the stream ended without an error */
	ETCDC_END_ERROR,	/* failed: error says how */
	ETCDC_END_CANCELED,	/* etcd canceled it (the object came first) */
};
/* A watch is over; the owner starts another (with backoff) if it wants. */
typedef void	etcdc_end_cb(void *arg, enum etcdc_end, const char *error);

/*
 * A client of endpoints (n of them, copied). timeout_ms bounds each call
 * and a watch's creation (the answer saying it was created). NULL with
 * err when an endpoint is not one (etcd_endpoint_parse()'s message).
 */
struct etcdc	*etcdc_new(struct event_base *, const char *const *endpoints,
		    size_t n, int timeout_ms, char err[ETCD_ERR_MAX]);
/* Cancels every request without calling back. Not from a callback. */
void		 etcdc_free(struct etcdc *);
void		 etcdc_set_body_max(struct etcdc *, size_t bytes);

/*
 * POST body (borrowed) to path. The handle is valid until cb has
 * returned; NULL only when memory ran out.
 */
struct etcdc_req *etcdc_call(struct etcdc *, const char *path, const json_t *body,
		    etcdc_call_cb *cb, void *arg);
/*
 * POST body (a create_request, etcd_req_watch()) to /v3/watch and
 * deliver each object of the stream, then the end. The handle is valid
 * until end_cb has returned.
 */
struct etcdc_req *etcdc_watch(struct etcdc *, const json_t *body,
		    etcdc_event_cb *event_cb, etcdc_end_cb *end_cb, void *arg);
/* No callback of r comes after this; may be called from r's callbacks. */
void		 etcdc_cancel(struct etcdc_req *r);

/* The endpoint the next request goes to, as configured. */
const char	*etcdc_endpoint(const struct etcdc *);
/* Wall-clock ms since when no endpoint answers, 0 when one does. */
int64_t		 etcdc_unreachable_since(const struct etcdc *);
/* The last failure's message, "" when none yet. */
const char	*etcdc_last_error(const struct etcdc *);

#endif
