/*
 * check_metrics_http.c: the metrics endpoint against bad and greedy
 * clients: a request line of 1 MiB, other methods and paths, garbage, a
 * client that never sends and one that never reads, 500 at once. None
 * crashes warden or holds its loop: ping is answered meanwhile, every
 * client is answered or closed, and warden's fds come back.
 */
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpclient.h"
#include "metricstest.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

#define SCRAPERS	500

static char *
conf_with(int max_connections, int timeout_ms, int nservices)
{
	char	*kids = xstrdup(""), *t, *c;
	int	 i;

	for (i = 0; i < nservices; i++) {
		xasprintf(&t, "%s%s { 'name': 'w%d', 'command': ['@WORKER@'] }",
		    kids, i > 0 ? "," : "", i);
		free(kids);
		kids = t;
	}
	c = cfg("{ 'metrics': { 'listen': '127.0.0.1:0', 'max_connections': %d,"
	    " 'timeout_ms': %d }, 'supervisor': { 'children': [ %s ] } }",
	    max_connections, timeout_ms, kids);
	free(kids);
	return c;
}

static void
start_with(struct harness *h, int max_connections, int timeout_ms,
    int nservices)
{
	char	*c = conf_with(max_connections, timeout_ms, nservices);

	ck_assert_msg(harness_start(h, c) == 0, "warden did not start");
	free(c);
}

/* warden answers ping within ms: its loop is not held. */
static void
ping_within(struct harness *h, int ms)
{
	uint64_t	 t0 = util_now_ms();
	json_t		*r = harness_call_timeout(h, "ping", NULL, ms);

	ck_assert_msg(r != NULL && harness_error_code(r) == 0,
	    "no pong within %d ms", ms);
	ck_assert_msg(util_now_ms() - t0 <= (uint64_t)ms, "pong after %llu ms",
	    (unsigned long long)(util_now_ms() - t0));
	json_decref(r);
}

/* Send raw bytes (the peer may close early) and read what comes back. */
static struct http_reply
raw_exchange(const char *listen, const char *req, size_t len)
{
	struct http_reply	 r;
	char			*raw;
	size_t			 n;
	int			 fd = http_connect(listen, false);

	ck_assert_int_ne(fd, -1);
	(void)http_send(fd, req, len, TESTLIB_WAIT);
	(void)shutdown(fd, SHUT_WR);
	ck_assert_msg(http_read_all(fd, TESTLIB_WAIT, &raw, &n) == 0,
	    "no answer and no close");
	http_parse(raw, n, &r);
	free(raw);
	close(fd);
	return r;
}

/* A request line of 1 MiB: refused at the bound, not read to its end. */
START_TEST(test_long_request_line)
{
	struct harness		 h;
	struct http_reply	 r;
	size_t			 len = 1024 * 1024 + 64;
	char			*req = xmalloc(len + 1), *listen, *t;

	start_with(&h, 16, 10000, 1);
	listen = mt_listen(&h);
	memcpy(req, "GET /", 5);
	memset(req + 5, 'a', len - 5);
	memcpy(req + len - 13, " HTTP/1.0\r\n\r\n", 13);
	r = raw_exchange(listen, req, len);
	/* An error status, or closed with nothing: never a 200. */
	ck_assert_msg(r.status == 0 || r.status == 400 || r.status == 413 ||
	    r.status == 414, "status %d", r.status);
	http_reply_free(&r);
	ping_within(&h, 1000);
	t = mt_http_text(listen);
	free(t);
	free(req);
	free(listen);
	stop(&h);
}
END_TEST

static const struct {
	const char	*method;
	const char	*path;
	int		 status;
} requests[] = {
	{ "POST", "/metrics", 405 }, { "PUT", "/metrics", 405 },
	{ "DELETE", "/metrics", 405 }, { "GET", "/other", 404 },
	{ "GET", "/", 404 }, { "GET", "/metricsx", 404 },
	{ "GET", "/metrics/", 404 }, { "GET", "/metrics?x=1", 200 },
	{ "HEAD", "/metrics", 200 },
};

START_TEST(test_methods_and_paths)
{
	struct harness		 h;
	struct http_reply	 r;
	char			*listen;
	size_t			 i;

	start_with(&h, 16, 10000, 1);
	listen = mt_listen(&h);
	for (i = 0; i < nitems(requests); i++) {
		ck_assert_int_eq(http_request(listen, requests[i].method,
		    requests[i].path, TESTLIB_WAIT, &r), 0);
		ck_assert_msg(r.status == requests[i].status, "%s %s: %s",
		    requests[i].method, requests[i].path, r.head);
		if (r.status == 405)
			ck_assert_ptr_nonnull(strstr(r.head, "Allow: GET, HEAD"));
		if (strcmp(requests[i].method, "HEAD") == 0) {
			ck_assert_uint_eq(r.body_len, 0);
			ck_assert_ptr_nonnull(strstr(r.head, "Content-Length: "));
		}
		http_reply_free(&r);
	}
	free(listen);
	stop(&h);
}
END_TEST

static const char *const garbage[] = {
	"\x00\x01\x02\xff\xfe\r\n\r\n",
	"GET\r\n\r\n",
	"GET /metrics HTTP/9.9\r\n\r\n",
	"GET /metrics HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789",
	"GET /metrics HTTP/1.1\r\nHost: x\r\nBad header line\r\n\r\n",
	"\r\n\r\n\r\n",
};

START_TEST(test_garbage)
{
	struct harness		 h;
	struct http_reply	 r;
	char			*listen;
	size_t			 len = _i == 0 ? 9 : strlen(garbage[_i]);

	start_with(&h, 16, 2000, 1);
	listen = mt_listen(&h);
	r = raw_exchange(listen, garbage[_i], len);
	ck_assert_msg(r.status != 200, "garbage %d served: %s", _i, r.head);
	http_reply_free(&r);
	ping_within(&h, 1000);
	free(mt_http_text(listen));
	free(listen);
	stop(&h);
}
END_TEST

/*
 * With one connection allowed, a client that never sends holds it until
 * timeout_ms closes it; the next scrape is then answered.
 */
START_TEST(test_never_sends)
{
	struct harness	 h;
	char		*listen, *raw, *t;
	size_t		 n;
	int		 silent;

	start_with(&h, 1, 300, 1);
	listen = mt_listen(&h);
	ck_assert_int_ne(silent = http_connect(listen, false), -1);
	ping_within(&h, 1000);
	t = mt_http_text(listen);	/* waits in the backlog, then is served */
	free(t);
	ck_assert_int_eq(http_read_all(silent, TESTLIB_WAIT, &raw, &n), 0);
	ck_assert_uint_eq(n, 0);	/* closed by warden, nothing said */
	free(raw);
	close(silent);
	free(listen);
	stop(&h);
}
END_TEST

/*
 * A client that asks and never reads (a window of a few bytes) is closed
 * once its answer is stuck for timeout_ms; meanwhile the loop runs.
 */
START_TEST(test_never_reads)
{
	struct harness	 h;
	char		*listen, *t;
	const char	*req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	int		 stuck, small = 1024, before;

	start_with(&h, 1, 500, 300);
	listen = mt_listen(&h);
	free(mt_http_text(listen));
	before = mt_tcp_fds(h.pid);
	stuck = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(setsockopt(stuck, SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small)), 0);
	close(stuck);
	ck_assert_int_ne(stuck = http_connect(listen, false), -1);
	ck_assert_int_eq(http_send(stuck, req, strlen(req), TESTLIB_WAIT), 0);
	ping_within(&h, 1000);
	t = mt_http_text(listen);	/* after the stuck one is closed */
	ck_assert(mt_value(t, "warden_service_up{service=\"w299\"}") == 1);
	free(t);
	ping_within(&h, 1000);
	ck_assert_int_eq(mt_tcp_fds(h.pid), before);
	close(stuck);
	free(listen);
	stop(&h);
}
END_TEST

struct scraper {
	int	 fd;
	bool	 sent, done;
	char	*buf;
	size_t	 len;
};

static void
scraper_step(struct scraper *s, short revents)
{
	static const char	 req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	char			 chunk[65536];
	ssize_t			 n;

	if (!s->sent && (revents & POLLOUT)) {
		s->sent = true;
		if (send(s->fd, req, sizeof(req) - 1, MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(req) - 1)
			s->done = true;		/* refused or reset: closed */
		return;
	}
	if ((revents & (POLLIN | POLLHUP | POLLERR)) == 0)
		return;
	n = recv(s->fd, chunk, sizeof(chunk), MSG_DONTWAIT);
	if (n > 0) {
		if (s->len < 16) {
			s->buf = xreallocarray(s->buf, s->len + (size_t)n + 1, 1);
			memcpy(s->buf + s->len, chunk, (size_t)n);
		}
		s->len += (size_t)n;
		return;
	}
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		s->done = true;
}

/*
 * 500 scrapers at once, against 16 connections: each is answered or
 * closed; ping is answered meanwhile; warden's fds come back.
 */
START_TEST(test_500_scrapers)
{
	struct harness	 h;
	struct scraper	*s = xcalloc(SCRAPERS, sizeof(*s));
	struct pollfd	*pfd = xcalloc(SCRAPERS, sizeof(*pfd));
	char		*listen;
	uint64_t	 deadline;
	int		 i, left = SCRAPERS, answered = 0, closed = 0, before;
	bool		 pinged = false;

	start_with(&h, 16, 5000, 20);
	listen = mt_listen(&h);
	free(mt_http_text(listen));
	before = mt_tcp_fds(h.pid);
	for (i = 0; i < SCRAPERS; i++)
		ck_assert_int_ne(s[i].fd = http_connect(listen, true), -1);
	deadline = util_now_ms() + 60000;
	while (left > 0 && util_now_ms() < deadline) {
		for (i = 0; i < SCRAPERS; i++) {
			pfd[i].fd = s[i].done ? -1 : s[i].fd;
			pfd[i].events = s[i].sent ? POLLIN : POLLOUT;
		}
		ck_assert_int_ge(poll(pfd, SCRAPERS, 1000), 0);
		for (i = 0; i < SCRAPERS; i++)
			if (!s[i].done && pfd[i].revents != 0) {
				scraper_step(&s[i], pfd[i].revents);
				left -= s[i].done;
			}
		if (!pinged && left < SCRAPERS - 50) {
			ping_within(&h, 1000);	/* in the thick of it */
			pinged = true;
		}
	}
	ck_assert_msg(left == 0, "%d scrapers neither answered nor closed", left);
	for (i = 0; i < SCRAPERS; i++) {
		if (s[i].len >= 12 && strncmp(s[i].buf, "HTTP/1.", 7) == 0 &&
		    strncmp(s[i].buf + 8, " 200", 4) == 0)
			answered++;
		else if (s[i].len == 0)
			closed++;
		close(s[i].fd);
		free(s[i].buf);
	}
	ck_assert_msg(answered + closed == SCRAPERS, "%d answered, %d closed, "
	    "%d otherwise", answered, closed, SCRAPERS - answered - closed);
	ck_assert_int_ge(answered, 16);
	ping_within(&h, 1000);
	ck_assert_int_eq(mt_tcp_fds(h.pid), before);
	fprintf(stderr, "500 scrapers: %d answered, %d closed at once\n",
	    answered, closed);
	free(s);
	free(pfd);
	free(listen);
	stop(&h);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("metrics_http");
	TCase	*tc = tcase_create("bad");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_long_request_line);
	tcase_add_test(tc, test_methods_and_paths);
	tcase_add_loop_test(tc, test_garbage, 0, nitems(garbage));
	tcase_add_test(tc, test_never_sends);
	tcase_add_test(tc, test_never_reads);
	tcase_add_test(tc, test_500_scrapers);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
