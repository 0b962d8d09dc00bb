/*
 * metrics-http.c: the "metrics" key's HTTP endpoint, libevent's evhttp on
 * warden's loop. Only GET (and HEAD) /metrics is served; any other path
 * is 404 and any other method 405. A request's line and headers are
 * bounded, its body must be empty, and a client that sends nothing or
 * reads nothing for timeout_ms is closed.
 *
 * At most max_connections are open: evhttp counts none, so each is
 * counted here, from the bufferevent evhttp asks for as it accepts one
 * (evhttp_set_bevcb) to its connection's close callback. At the limit
 * the listener stops accepting, and further clients wait in the kernel's
 * backlog until one closes; those accepted in the same burst past the
 * limit are closed at once. A scrape is built in one go: the text of a
 * thousand services (3.5 MiB) costs about 2 ms of warden's CPU, sent.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "config.h"
#include "log.h"
#include "metrics-daemon.h"
#include "util.h"

#define MHTTP_HEADERS_MAX	8192	/* the request line and headers */
#define MHTTP_BACKLOG		128
/*
 * A bufferevent writes 16 KiB a turn by default: a thousand services'
 * 4 MiB would take 250 turns of the loop, each with its syscalls. As much
 * as the socket takes, at once.
 */
#define MHTTP_WRITE_MAX		(8 * 1024 * 1024)

struct mhttp;

/* One accepted connection, from evhttp's bufferevent to its close. */
struct mconn {
	struct mhttp		*h;
	struct bufferevent	*bev;
	bool			 refuse;	/* accepted past the limit: closed at once */
	struct mconn		*next;		/* pending: its close callback not set yet */
};

struct mhttp {
	struct event_base		*base;
	struct evhttp			*http;
	struct evhttp_bound_socket	*bound;
	int				 fd;
	char				*host;
	int				 port;		/* as configured (0: any) */
	int				 bound_port;
	int				 max;
	int				 live;
	bool				 paused;
	bool				 freeing;	/* evhttp_free(): its listener is gone */
	struct mconn			*pending;
	struct event			*ev_pending;
};

static struct mhttp	*mhttp;
static struct event_base *mhttp_base;	/* a reload binds on it */

static void
mhttp_listening(struct mhttp *h, bool on)
{
	struct evconnlistener	*lev = evhttp_bound_socket_get_listener(h->bound);

	if (h->paused == !on)
		return;
	if ((on ? evconnlistener_enable(lev) : evconnlistener_disable(lev)) == -1)
		log_warnx("metrics: cannot %s accepting", on ? "resume" : "pause");
	else
		h->paused = !on;
}

static void
mhttp_closed(struct evhttp_connection *evcon, void *arg)
{
	struct mconn	*c = arg;
	struct mhttp	*h = c->h;

	(void)evcon;
	h->live--;
	free(c);
	if (h->live < h->max && !h->freeing)
		mhttp_listening(h, true);
}

/*
 * The connections accepted since the last turn: evhttp made each one's
 * evhttp_connection after it asked for the bufferevent, and no I/O of
 * theirs has run yet. The connection is the bufferevent's callback arg;
 * a bufferevent evhttp freed meanwhile (it could not make the connection)
 * is still ours to look at, by the reference taken with it, and has no
 * callbacks left.
 */
static void
mhttp_pending_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mhttp			*h = arg;
	struct mconn			*c;
	struct evhttp_connection	*evcon;
	void				*cbarg;

	(void)fd;
	(void)what;
	while ((c = h->pending) != NULL) {
		h->pending = c->next;
		cbarg = NULL;
		bufferevent_getcb(c->bev, NULL, NULL, NULL, &cbarg);
		(void)bufferevent_decref(c->bev);	/* evhttp's, if any, remains */
		if ((evcon = cbarg) == NULL) {
			h->live--;	/* evhttp has no connection for it */
			free(c);
			continue;
		}
		evhttp_connection_set_closecb(evcon, mhttp_closed, c);
		if (c->refuse)
			evhttp_connection_free(evcon);
	}
}

static struct bufferevent *
mhttp_bev_cb(struct event_base *base, void *arg)
{
	struct mhttp	*h = arg;
	struct mconn	*c = xcalloc(1, sizeof(*c));

	c->h = h;
	if ((c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("metrics: cannot make a connection's buffer");
	bufferevent_incref(c->bev);	/* until mhttp_pending_cb() has looked */
	if (bufferevent_set_max_single_write(c->bev, MHTTP_WRITE_MAX) == -1)
		log_warnx("metrics: cannot raise a connection's writes");
	c->refuse = ++h->live > h->max;
	if (h->live >= h->max)
		mhttp_listening(h, false);
	c->next = h->pending;
	h->pending = c;
	event_active(h->ev_pending, 0, 0);
	return c->bev;
}

/* The path of a request's URI, without its query. */
static bool
mhttp_is_metrics(const char *uri)
{
	size_t	len = strcspn(uri, "?#");

	return len == 8 && strncmp(uri, "/metrics", 8) == 0;
}

static void
mhttp_free_text(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

static void
mhttp_request_cb(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	struct evbuffer		*body;
	char			*text, len_s[32];
	size_t			 len;

	(void)arg;
	if (!mhttp_is_metrics(evhttp_request_get_uri(req))) {
		evhttp_send_error(req, HTTP_NOTFOUND, "only /metrics is here");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		/* Not evhttp_send_error(): it drops the headers, Allow too. */
		evhttp_add_header(out, "Allow", "GET, HEAD");
		evhttp_add_header(out, "Connection", "close");
		evhttp_send_reply(req, 405, "Method Not Allowed", NULL);
		return;
	}
	text = metrics_text(&len);
	evhttp_add_header(out, "Content-Type", METRICS_CONTENT_TYPE);
	if (cmd == EVHTTP_REQ_HEAD) {
		snprintf(len_s, sizeof(len_s), "%zu", len);
		evhttp_add_header(out, "Content-Length", len_s);
		free(text);
		evhttp_send_reply(req, HTTP_OK, "OK", NULL);
		return;
	}
	/* The text is sent from where it was built, not copied. */
	if ((body = evbuffer_new()) == NULL ||
	    evbuffer_add_reference(body, text, len, mhttp_free_text, NULL) == -1) {
		free(text);
		if (body != NULL)
			evbuffer_free(body);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evhttp_send_reply(req, HTTP_OK, "OK", body);
	evbuffer_free(body);
}

/* A listening socket on host:port, or -1 with err. */
static int
mhttp_bind(const char *host, int port, int *bound_port, char *err,
    size_t errlen)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 len;
	int			 fd, on = 1;
	bool			 v6 = strchr(host, ':') != NULL;

	memset(&ss, 0, sizeof(ss));
	if (v6) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		len = sizeof(*in6);
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			goto bad;
	} else {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		len = sizeof(*in4);
		if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
			goto bad;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "metrics: listen %s%s%s:%d: socket: %s",
		    v6 ? "[" : "", host, v6 ? "]" : "", port, strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, MHTTP_BACKLOG) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		snprintf(err, errlen, "metrics: listen %s%s%s:%d: %s",
		    v6 ? "[" : "", host, v6 ? "]" : "", port, strerror(errno));
		close(fd);
		return -1;
	}
	*bound_port = ntohs(v6 ? in6->sin6_port : in4->sin_port);
	return fd;
bad:
	snprintf(err, errlen, "metrics: %s: not a numeric address", host);
	return -1;
}

static void
mhttp_free(struct mhttp *h)
{
	struct mconn	*c;

	if (h == NULL)
		return;
	h->freeing = true;
	if (h->http != NULL)
		evhttp_free(h->http);	/* closes each connection: mhttp_closed() */
	/* Those whose close callback is not set yet went unannounced. */
	while ((c = h->pending) != NULL) {
		h->pending = c->next;
		(void)bufferevent_decref(c->bev);
		free(c);
	}
	if (h->ev_pending != NULL)
		event_free(h->ev_pending);
	free(h->host);
	free(h);
}

static void
mhttp_settings(struct mhttp *h, const struct metrics_conf *mc)
{
	struct timeval	tv;

	h->max = mc->max_connections;
	tv.tv_sec = mc->timeout_ms / 1000;
	tv.tv_usec = (mc->timeout_ms % 1000) * 1000;
	evhttp_set_timeout_tv(h->http, &tv);
	if (h->bound != NULL)
		mhttp_listening(h, h->live < h->max);
}

/* An endpoint on fd (bound and listening), or NULL with err. */
static struct mhttp *
mhttp_new(struct event_base *base, const struct metrics_conf *mc, int fd,
    int bound_port, char *err, size_t errlen)
{
	struct mhttp	*h = xcalloc(1, sizeof(*h));

	h->base = base;
	h->fd = fd;
	h->host = xstrdup(mc->host);
	h->port = mc->port;
	h->bound_port = bound_port;
	if ((h->http = evhttp_new(base)) == NULL ||
	    (h->ev_pending = event_new(base, -1, 0, mhttp_pending_cb, h)) == NULL)
		fatalx("metrics: cannot make the HTTP server");
	evhttp_set_max_headers_size(h->http, MHTTP_HEADERS_MAX);
	evhttp_set_max_body_size(h->http, 0);
	evhttp_set_bevcb(h->http, mhttp_bev_cb, h);
	evhttp_set_gencb(h->http, mhttp_request_cb, h);
	mhttp_settings(h, mc);
	if ((h->bound = evhttp_accept_socket_with_handle(h->http, fd)) == NULL) {
		snprintf(err, errlen, "metrics: cannot serve on fd %d", fd);
		close(fd);
		mhttp_free(h);
		return NULL;
	}
	log_info("metrics: serving http://%s%s%s:%d/metrics",
	    strchr(h->host, ':') != NULL ? "[" : "", h->host,
	    strchr(h->host, ':') != NULL ? "]" : "", bound_port);
	return h;
}

static struct mhttp *
mhttp_start(struct event_base *base, const struct metrics_conf *mc, char *err,
    size_t errlen)
{
	int	fd, port;

	if ((fd = mhttp_bind(mc->host, mc->port, &port, err, errlen)) == -1)
		return NULL;
	return mhttp_new(base, mc, fd, port, err, errlen);
}

int
metrics_http_start(struct event_base *base, const struct config *conf,
    char *err, size_t errlen)
{
	mhttp_base = base;
	if (!conf->metrics.enabled)
		return 0;
	return (mhttp = mhttp_start(base, &conf->metrics, err, errlen)) != NULL ?
	    0 : -1;
}

/*
 * A reload keeps the socket while the address stays; a new one is bound
 * before the old one closes, so a failed bind changes nothing.
 */
int
metrics_http_reconfigure(const struct config *conf, char *err, size_t errlen)
{
	const struct metrics_conf	*mc = &conf->metrics;
	struct mhttp			*h;

	if (!mc->enabled) {
		metrics_http_stop();
		return 0;
	}
	if (mhttp != NULL && strcmp(mhttp->host, mc->host) == 0 &&
	    mhttp->port == mc->port) {
		mhttp_settings(mhttp, mc);
		return 0;
	}
	if ((h = mhttp_start(mhttp_base, mc, err, errlen)) == NULL)
		return -1;
	metrics_http_stop();
	mhttp = h;
	return 0;
}

void
metrics_http_stop(void)
{
	mhttp_free(mhttp);
	mhttp = NULL;
}

/* "127.0.0.1:9464", "[::1]:9464": where it answers; NULL when off. */
char *
metrics_http_address(void)
{
	char	*s;

	if (mhttp == NULL)
		return NULL;
	xasprintf(&s, "%s%s%s:%d", strchr(mhttp->host, ':') != NULL ? "[" : "",
	    mhttp->host, strchr(mhttp->host, ':') != NULL ? "]" : "",
	    mhttp->bound_port);
	return s;
}

/* The listening socket and where it is bound; open connections are not kept. */
json_t *
metrics_http_handover(void)
{
	if (mhttp == NULL)
		return json_null();
	return json_pack("{s:i,s:s,s:i,s:i}", "listen_fd", mhttp->fd, "host",
	    mhttp->host, "port", mhttp->port, "bound_port", mhttp->bound_port);
}

int
metrics_http_adopt(struct event_base *base, const struct config *conf,
    const json_t *d, char *err, size_t errlen)
{
	const char	*host;
	int		 fd, port, bound;

	mhttp_base = base;
	/* None handed over (an older image, or none was on): bind anew. */
	if (d == NULL || json_is_null(d))
		return metrics_http_start(base, conf, err, errlen);
	if (json_unpack((json_t *)d, "{s:i,s:s,s:i,s:i}", "listen_fd", &fd,
	    "host", &host, "port", &port, "bound_port", &bound) == -1 ||
	    fd < 3) {
		snprintf(err, errlen, "metrics: want {listen_fd, host, port, "
		    "bound_port}");
		return -1;
	}
	if (!conf->metrics.enabled || strcmp(host, conf->metrics.host) != 0 ||
	    port != conf->metrics.port) {
		close(fd);
		return metrics_http_start(base, conf, err, errlen);
	}
	return (mhttp = mhttp_new(base, &conf->metrics, fd, bound, err,
	    errlen)) != NULL ? 0 : -1;
}
