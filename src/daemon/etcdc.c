/*
 * etcdc.c: etcd's v3 JSON gateway over libevent's evhttp (etcdc.h says
 * what it promises).
 *
 * A request has a connection of its own, so that a slow answer holds up
 * no other, and a timer of its own bounding the whole of it (evhttp's
 * timeouts are per read, which a server trickling bytes never trips).
 * libevent must not see its connection freed from inside one of its
 * callbacks, so a request that ends there is marked done, its owner is
 * called, and the connection goes on the next turn of the loop (reap).
 * A request ended from outside (its timer, etcdc_cancel(), etcdc_free())
 * frees its connection at once; evhttp_connection_free() calls back no
 * request it drops.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "etcdc.h"
#include "util.h"

#define ETCDC_FEED_SLICE	(64 * 1024)	/* bytes fed to the splitter at once */
#define ETCDC_SNIPPET		120		/* bytes of a bad body quoted */
#define ETCDC_MSG_MAX		(ETCD_ERR_MAX + 128)	/* "etcd at URL: what" */

struct etcdc_endpoint {
	char	*url;
	char	 host[ETCD_HOST_MAX];
	int	 port;
};

struct etcdc_req {
	struct etcdc		*c;
	struct etcdc_req	*prev, *next;
	struct evhttp_connection *conn;
	struct evhttp_request	*req;		/* NULL once libevent is done with it */
	struct event		*timer;		/* the bound, or a failure to report */
	struct event		*reap;		/* frees a done request next turn */
	size_t			 ep;		/* the endpoint it went to */
	bool			 watch, done, in_cb, dead, created;
	enum evhttp_request_error error;
	bool			 has_error;
	char			*fail_now;	/* failed before it was sent */
	etcdc_call_cb		*cb;
	etcdc_event_cb		*event_cb;
	etcdc_end_cb		*end_cb;
	void			*arg;
	struct etcd_split	 split;
};

struct etcdc {
	struct event_base	*base;
	struct etcdc_endpoint	*ep;
	size_t			 n, cur;
	int			 timeout_ms;
	size_t			 body_max;
	int64_t			 unreachable_since;
	char			 last_error[ETCDC_MSG_MAX];
	struct etcdc_req	*reqs;
};

/* --- the client ---------------------------------------------------------------- */

struct etcdc *
etcdc_new(struct event_base *base, const char *const *endpoints, size_t n,
    int timeout_ms, char err[ETCD_ERR_MAX])
{
	struct etcdc	*c;
	size_t		 i;

	if (n == 0 || timeout_ms <= 0) {
		snprintf(err, ETCD_ERR_MAX, "etcd: %s", n == 0 ?
		    "no endpoint" : "the timeout must be positive");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->timeout_ms = timeout_ms;
	c->body_max = ETCDC_BODY_MAX_DEFAULT;
	c->ep = xcalloc(n, sizeof(*c->ep));
	for (c->n = 0; c->n < n; c->n++) {
		i = c->n;
		if (etcd_endpoint_parse(endpoints[i], c->ep[i].host,
		    &c->ep[i].port, err) == -1) {
			etcdc_free(c);
			return NULL;
		}
		c->ep[i].url = xstrdup(endpoints[i]);
	}
	return c;
}

static void	etcdc_req_free(struct etcdc_req *);

void
etcdc_free(struct etcdc *c)
{
	size_t	i;

	if (c == NULL)
		return;
	while (c->reqs != NULL)
		etcdc_req_free(c->reqs);
	for (i = 0; i < c->n; i++)
		free(c->ep[i].url);
	free(c->ep);
	free(c);
}

void
etcdc_set_body_max(struct etcdc *c, size_t bytes)
{
	c->body_max = bytes;
}

const char *
etcdc_endpoint(const struct etcdc *c)
{
	return c->ep[c->cur].url;
}

int64_t
etcdc_unreachable_since(const struct etcdc *c)
{
	return c->unreachable_since;
}

const char *
etcdc_last_error(const struct etcdc *c)
{
	return c->last_error;
}

/* An endpoint failed: the next request goes to the next one. */
static void
etcdc_unreachable(struct etcdc *c, size_t ep)
{
	if (c->unreachable_since == 0)
		c->unreachable_since = util_wall_ms();
	if (c->cur == ep)
		c->cur = (ep + 1) % c->n;
}

/* --- a request's life ------------------------------------------------------------ */

static void
etcdc_req_free(struct etcdc_req *r)
{
	struct etcdc	*c = r->c;

	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		c->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	if (r->timer != NULL)
		event_free(r->timer);
	if (r->reap != NULL)
		event_free(r->reap);
	if (r->conn != NULL)
		evhttp_connection_free(r->conn);
	etcd_split_free(&r->split);
	free(r->fail_now);
	free(r);
}

static void
etcdc_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	etcdc_req_free(arg);
}

/* Done from inside a libevent callback: freed on the next turn. */
static void
etcdc_req_done(struct etcdc_req *r)
{
	static const struct timeval	zero = { 0, 0 };

	r->done = true;
	if (r->timer != NULL)
		event_del(r->timer);
	evtimer_add(r->reap, &zero);
}

void
etcdc_cancel(struct etcdc_req *r)
{
	if (r == NULL || r->dead)
		return;
	r->dead = true;
	if (r->in_cb || r->done)
		etcdc_req_done(r);
	else
		etcdc_req_free(r);
}

/* The request's end told its owner, once. */
static void
etcdc_finish(struct etcdc_req *r, int status, json_t *answer,
    enum etcdc_end end, const char *error)
{
	struct etcdc	*c = r->c;

	if (r->done || r->dead)
		return;
	if (error != NULL)
		snprintf(c->last_error, sizeof(c->last_error), "%s", error);
	r->done = true;
	r->in_cb = true;
	if (r->watch)
		r->end_cb(r->arg, end, error);
	else
		r->cb(r->arg, status, answer, error);
	r->in_cb = false;
}

static void	etcdc_failf(struct etcdc_req *, int status, json_t *answer,
		    bool unreachable, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));

/* A failure, "etcd at URL: what". */
static void
etcdc_failf(struct etcdc_req *r, int status, json_t *answer, bool unreachable,
    const char *fmt, ...)
{
	char	what[ETCD_ERR_MAX], msg[ETCDC_MSG_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "etcd at %.100s: %s", r->c->ep[r->ep].url,
	    what);
	if (unreachable)
		etcdc_unreachable(r->c, r->ep);
	etcdc_finish(r, status, answer, ETCDC_END_ERROR, msg);
}

static void
etcdc_reached(struct etcdc_req *r)
{
	r->c->unreachable_since = 0;
}

/* --- answers ------------------------------------------------------------------- */

static const char *
etcdc_error_name(enum evhttp_request_error e)
{
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		return "timed out";
	case EVREQ_HTTP_EOF:
		return "the connection closed before a whole answer";
	case EVREQ_HTTP_INVALID_HEADER:
		return "an invalid HTTP answer (status line or headers)";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "connection failed";
	case EVREQ_HTTP_REQUEST_CANCEL:
		return "canceled";
	case EVREQ_HTTP_DATA_TOO_LONG:
		return "an answer over the size bound";
	}
	return "failed";
}

/* The first bytes of a body, printable, for a message. */
static void
etcdc_snippet(const char *p, size_t len, char out[ETCDC_SNIPPET + 1])
{
	size_t	i, n = len < ETCDC_SNIPPET ? len : ETCDC_SNIPPET;

	for (i = 0; i < n; i++)
		out[i] = p[i] >= ' ' && p[i] < 0x7f ? p[i] : '.';
	out[n] = '\0';
}

/* A whole answer to a call, status and body. */
static void
etcdc_answer(struct etcdc_req *r, int status, const char *body, size_t len)
{
	struct etcd_error	 e;
	json_error_t		 jerr;
	json_t			*j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	char			 snip[ETCDC_SNIPPET + 1];

	if (status < 500)
		etcdc_reached(r);
	if (j != NULL && json_is_object(j) && etcd_error_parse(j, &e))
		etcdc_failf(r, status, j, status >= 500,
		    "HTTP %d, etcd error %d: %.150s", status, e.code, e.message);
	else if (status != 200) {
		etcdc_snippet(body, len, snip);
		etcdc_failf(r, status, j, status >= 500, "HTTP %d: \"%s\"",
		    status, snip);
	} else if (j == NULL || !json_is_object(j)) {
		etcdc_snippet(body, len, snip);
		etcdc_failf(r, status, NULL, false, "the answer is not a JSON "
		    "object (%.100s): \"%s\"", j == NULL ? jerr.text :
		    "another JSON value", snip);
	} else
		etcdc_finish(r, status, j, ETCDC_END_CLOSED, NULL);
	json_decref(j);
}

/* libevent's end of a request: answered, or failed (req NULL then). */
static void
etcdc_done_cb(struct evhttp_request *req, void *arg)
{
	struct etcdc_req	*r = arg;
	struct evbuffer		*in;
	int			 status = req != NULL ?
				    evhttp_request_get_response_code(req) : 0;

	r->req = NULL;
	if (r->done || r->dead)
		return;
	if (status == 0)
		etcdc_failf(r, 0, NULL, true, "%s", r->has_error ?
		    etcdc_error_name(r->error) : "could not connect");
	else if (r->watch && status != 200)
		etcdc_failf(r, status, NULL, status >= 500, "watch: HTTP %d",
		    status);
	else if (r->watch)
		etcdc_finish(r, status, NULL, ETCDC_END_CLOSED, NULL);
	else {
		in = evhttp_request_get_input_buffer(req);
		etcdc_answer(r, status, (const char *)evbuffer_pullup(in, -1),
		    evbuffer_get_length(in));
	}
	etcdc_req_done(r);
}

static void
etcdc_error_cb(enum evhttp_request_error e, void *arg)
{
	struct etcdc_req	*r = arg;

	r->error = e;
	r->has_error = true;
}

/* The request's timer: its bound passed, or it failed before it was sent. */
static void
etcdc_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct etcdc_req	*r = arg;

	(void)fd;
	(void)what;
	if (r->fail_now != NULL)
		etcdc_failf(r, 0, NULL, true, "%s", r->fail_now);
	else
		etcdc_failf(r, 0, NULL, true, "no answer within %d ms%s",
		    r->c->timeout_ms, r->watch ? " (watch not created)" : "");
	/* From outside libevent's callbacks: the connection can go now. */
	etcdc_req_free(r);
}

/* --- the watch stream ---------------------------------------------------------- */

/* One object of the stream to its owner: false when the watch is over. */
static bool
etcdc_watch_object(struct etcdc_req *r, json_t *o)
{
	struct etcd_error	 e;
	const json_t		*res = json_object_get(o, "result");

	if (etcd_error_parse(o, &e)) {
		etcdc_failf(r, 200, NULL, false, "watch: etcd error %d: %.150s",
		    e.code, e.message);
		return false;
	}
	if (!r->created) {
		r->created = true;
		event_del(r->timer);
		etcdc_reached(r);
	}
	r->in_cb = true;
	r->event_cb(r->arg, o);
	r->in_cb = false;
	if (r->dead)
		return false;
	if (json_is_true(json_object_get(res, "canceled"))) {
		etcdc_finish(r, 200, NULL, ETCDC_END_CANCELED, NULL);
		return false;
	}
	return true;
}

/* Whole objects out of the splitter: false when the watch is over. */
static bool
etcdc_watch_drain(struct etcdc_req *r)
{
	json_t	*o;
	int	 rv;
	bool	 go = true;

	while (go && (rv = etcd_split_next(&r->split, &o)) == 1) {
		go = etcdc_watch_object(r, o);
		json_decref(o);
	}
	return go && rv != -1;
}

static void
etcdc_chunk_cb(struct evhttp_request *req, void *arg)
{
	struct etcdc_req	*r = arg;
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	int			 status = evhttp_request_get_response_code(req);
	char			 buf[ETCDC_FEED_SLICE], snip[ETCDC_SNIPPET + 1];
	int			 n;

	if (r->done || r->dead) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (status != 200) {
		n = evbuffer_remove(in, buf, sizeof(buf));
		etcdc_snippet(buf, n > 0 ? (size_t)n : 0, snip);
		etcdc_failf(r, status, NULL, status >= 500, "watch: HTTP %d: "
		    "\"%s\"", status, snip);
		etcdc_req_done(r);
		return;
	}
	while ((n = evbuffer_remove(in, buf, sizeof(buf))) > 0)
		if (etcd_split_feed(&r->split, buf, (size_t)n) == -1 ||
		    !etcdc_watch_drain(r)) {
			if (r->split.failed)
				etcdc_failf(r, 200, NULL, false, "%s",
				    r->split.err);
			evbuffer_drain(in, evbuffer_get_length(in));
			etcdc_req_done(r);
			return;
		}
}

/* --- sending ------------------------------------------------------------------- */

static struct etcdc_req *
etcdc_send(struct etcdc *c, const char *path, const json_t *body, bool watch)
{
	struct etcdc_req	*r = xcalloc(1, sizeof(*r));
	struct etcdc_endpoint	*ep = &c->ep[c->cur];
	struct timeval		 tv = { c->timeout_ms / 1000,
				    (c->timeout_ms % 1000) * 1000 };
	struct evkeyvalq	*h;
	char			*text = json_dumps(body, JSON_COMPACT);
	char			 host[ETCD_HOST_MAX + 16];

	r->c = c;
	r->ep = c->cur;
	r->watch = watch;
	etcd_split_init(&r->split, ETCD_SPLIT_MAX_DEFAULT);
	if ((r->next = c->reqs) != NULL)
		c->reqs->prev = r;
	c->reqs = r;
	r->timer = evtimer_new(c->base, etcdc_timer_cb, r);
	r->reap = evtimer_new(c->base, etcdc_reap_cb, r);
	r->conn = evhttp_connection_base_new(c->base, NULL, ep->host,
	    (unsigned short)ep->port);
	if (r->timer == NULL || r->reap == NULL || text == NULL) {
		free(text);
		etcdc_req_free(r);
		return NULL;
	}
	if (r->conn == NULL || (r->req = evhttp_request_new(etcdc_done_cb,
	    r)) == NULL) {
		r->fail_now = xstrdup("could not make a connection");
		tv.tv_sec = tv.tv_usec = 0;
	} else {
		evhttp_connection_set_max_headers_size(r->conn, ETCDC_HEADERS_MAX);
		/*
		 * evhttp keeps a whole HTTP chunk before it hands it over,
		 * and counts a stream's bytes together: the bound on a
		 * watch's stream is what bounds the memory one chunk takes.
		 */
		evhttp_connection_set_max_body_size(r->conn,
		    (ev_ssize_t)c->body_max);
		evhttp_request_set_error_cb(r->req, etcdc_error_cb);
		if (watch)
			evhttp_request_set_chunked_cb(r->req, etcdc_chunk_cb);
		h = evhttp_request_get_output_headers(r->req);
		snprintf(host, sizeof(host), strchr(ep->host, ':') != NULL ?
		    "[%s]:%d" : "%s:%d", ep->host, ep->port);
		evhttp_add_header(h, "Host", host);
		evhttp_add_header(h, "Content-Type", "application/json");
		evbuffer_add(evhttp_request_get_output_buffer(r->req), text,
		    strlen(text));
		if (evhttp_make_request(r->conn, r->req, EVHTTP_REQ_POST,
		    path) == -1) {
			/* Not queued: ours to free, and said on the next turn. */
			evhttp_request_free(r->req);
			r->req = NULL;
			r->fail_now = xstrdup("could not send the request");
			tv.tv_sec = tv.tv_usec = 0;
		}
	}
	free(text);
	evtimer_add(r->timer, &tv);
	return r;
}

struct etcdc_req *
etcdc_call(struct etcdc *c, const char *path, const json_t *body,
    etcdc_call_cb *cb, void *arg)
{
	struct etcdc_req	*r = etcdc_send(c, path, body, false);

	if (r != NULL) {
		r->cb = cb;
		r->arg = arg;
	}
	return r;
}

struct etcdc_req *
etcdc_watch(struct etcdc *c, const json_t *body, etcdc_event_cb *event_cb,
    etcdc_end_cb *end_cb, void *arg)
{
	struct etcdc_req	*r = etcdc_send(c, "/v3/watch", body, true);

	if (r != NULL) {
		r->event_cb = event_cb;
		r->end_cb = end_cb;
		r->arg = arg;
	}
	return r;
}
