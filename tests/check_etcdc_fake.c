/*
 * check_etcdc_fake.c: the gateway client (src/daemon/etcdc.c) against
 * what etcd never answers, from a fake server in the test (evhttp on the
 * test's loop, etcdloop.h): HTTP 500 with a page of HTML, garbage, JSON
 * that is not an object, a body over the bound, a body cut short, the
 * gateway's error object, no answer at all; and watch streams that fail,
 * carry garbage or the gateway's stream error, or grow past the bound.
 * Each ends in the callback with a message naming the endpoint and what
 * was wrong, within the timeout; endpoints that are not ones are refused.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "etcdloop.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

START_TEST(test_bad_endpoints)
{
	const char	*https = "https://127.0.0.1:2379", *name = "http://etcd:2379";
	char		 err[ETCD_ERR_MAX];

	etcdloop_setup();
	ck_assert_ptr_null(etcdc_new(etcdloop_base, &https, 1, 1000, err));
	ck_assert_msg(strstr(err, "https is not supported") != NULL, "%s", err);
	ck_assert_ptr_null(etcdc_new(etcdloop_base, &name, 1, 1000, err));
	ck_assert_msg(strstr(err, "etcd endpoint \"http://etcd:2379\"") != NULL,
	    "%s", err);
	ck_assert_ptr_null(etcdc_new(etcdloop_base, &https, 0, 1000, err));
	ck_assert_str_eq(err, "etcd: no endpoint");
}
END_TEST

/* --- a fake server ------------------------------------------------------------- */

enum fake_mode {
	FAKE_500,		/* HTTP 500 with an HTML page */
	FAKE_GARBAGE,		/* 200, not JSON */
	FAKE_ARRAY,		/* 200, JSON but not an object */
	FAKE_BIG,		/* 200, a body over the bound */
	FAKE_TRUNCATED,		/* Content-Length longer than what comes */
	FAKE_NEVER,		/* no answer at all */
	FAKE_GATEWAY_ERROR,	/* 400 with the gateway's error object */
	FAKE_STREAM_GARBAGE,	/* a watch stream: one object, then garbage */
	FAKE_STREAM_ERROR,	/* a watch stream: the gateway's stream error */
	FAKE_STREAM_BIG,	/* a watch stream past the bound */
	FAKE_OK,		/* 200, an empty range */
};

static const struct {
	enum fake_mode	 mode;
	const char	*want;		/* in the error */
	int		 status;
} fakes[] = {
	{ FAKE_500, "HTTP 500: \"<html><body>Internal", 500 },
	{ FAKE_GARBAGE, "the answer is not a JSON object", 200 },
	{ FAKE_ARRAY, "the answer is not a JSON object (another JSON value)", 200 },
	{ FAKE_BIG, "an answer over the size bound", 0 },
	{ FAKE_TRUNCATED, "the connection closed before a whole answer", 0 },
	{ FAKE_NEVER, "no answer within 2000 ms", 0 },
	{ FAKE_GATEWAY_ERROR, "HTTP 400, etcd error 3: unexpected EOF", 400 },
};

/* Each server's mode, by the address its callback is given. */
static enum fake_mode		 fake_modes[2];
static struct evhttp_request	*fake_held;

static void
fake_drop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	evhttp_connection_free(evhttp_request_get_connection(fake_held));
	fake_held = NULL;
}

/* Not from inside evhttp's callback: on the next turn. */
static void
fake_sent_cb(struct evhttp_connection *conn, void *arg)
{
	static const struct timeval	zero = { 0, 0 };

	(void)conn;
	(void)arg;
	ck_assert_int_eq(event_base_once(etcdloop_base, -1, EV_TIMEOUT, fake_drop_cb, NULL,
	    &zero), 0);
}

static void
fake_cb(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*b = evbuffer_new();
	size_t		 i;

	enum fake_mode	 mode = *(enum fake_mode *)arg;

	switch (mode) {
	case FAKE_500:
		evbuffer_add_printf(b, "<html><body>Internal Server Error"
		    "</body></html>");
		evhttp_send_reply(req, 500, "Internal Server Error", b);
		break;
	case FAKE_GARBAGE:
		evbuffer_add_printf(b, "{\"header\": \x01\x02 garbage");
		evhttp_send_reply(req, 200, "OK", b);
		break;
	case FAKE_ARRAY:
		evbuffer_add_printf(b, "[1, 2]");
		evhttp_send_reply(req, 200, "OK", b);
		break;
	case FAKE_BIG:
		for (i = 0; i < 4096; i++)
			evbuffer_add_printf(b, "{\"pad\": \"%0240d\"}\n", 0);
		evhttp_send_reply(req, 200, "OK", b);
		break;
	case FAKE_TRUNCATED:
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Length", "1000");
		evhttp_send_reply_start(req, 200, "OK");
		evbuffer_add_printf(b, "{\"header\": {\"revision\": ");
		/* Once written, the connection is dropped, the answer unfinished. */
		evhttp_send_reply_chunk_with_cb(req, b, fake_sent_cb, NULL);
		fake_held = req;
		break;
	case FAKE_NEVER:
		fake_held = req;
		break;
	case FAKE_GATEWAY_ERROR:
		evbuffer_add_printf(b, "{\"error\":\"unexpected EOF\","
		    "\"message\":\"unexpected EOF\",\"code\":3}");
		evhttp_send_reply(req, 400, "Bad Request", b);
		break;
	case FAKE_OK:
		evbuffer_add_printf(b, "{\"header\":{\"revision\":\"1\"}}");
		evhttp_send_reply(req, 200, "OK", b);
		break;
	case FAKE_STREAM_BIG:
		evhttp_send_reply_start(req, 200, "OK");
		for (i = 0; i < 1024; i++)
			evbuffer_add_printf(b, "{\"result\": {\"pad\": "
			    "\"%0240d\"}}\n", 0);
		evhttp_send_reply_chunk(req, b);
		fake_held = req;
		break;
	case FAKE_STREAM_GARBAGE:
	case FAKE_STREAM_ERROR:
		evhttp_send_reply_start(req, 200, "OK");
		evbuffer_add_printf(b, "{\"result\":{\"header\":{\"revision\":"
		    "\"1\"},\"created\":true}}\n{\"result\":");
		evhttp_send_reply_chunk(req, b);
		if (mode == FAKE_STREAM_GARBAGE)
			evbuffer_add_printf(b, "{\"x\": nope}}\n");
		else
			evbuffer_add_printf(b, "{}}\n{\"error\":{\"grpc_code\":14,"
			    "\"http_code\":503,\"message\":\"transport is "
			    "closing\",\"http_status\":\"Service Unavailable\"}}\n");
		evhttp_send_reply_chunk(req, b);
		fake_held = req;
		break;
	}
	evbuffer_free(b);
}

/* The fake server on a free port: its URL in url. */
static struct evhttp *
fake_start(char url[64], enum fake_mode *mode)
{
	struct evhttp	*http = evhttp_new(etcdloop_base);
	int		 port = free_port();

	ck_assert_ptr_nonnull(http);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_POST);
	evhttp_set_gencb(http, fake_cb, mode);
	ck_assert_int_eq(evhttp_bind_socket(http, "127.0.0.1",
	    (unsigned short)port), 0);
	snprintf(url, 64, "http://127.0.0.1:%d", port);
	fake_held = NULL;
	return http;
}

START_TEST(test_fake_answers)
{
	struct evhttp	*http;
	struct etcdc	*c;
	struct etcdloop_answer	 a;
	char		 url[64];
	const char	*u = url;
	uint64_t	 t0;

	etcdloop_setup();
	fake_modes[0] = fakes[_i].mode;
	http = fake_start(url, &fake_modes[0]);
	c = etcdloop_client_of(&u, 1);
	etcdc_set_body_max(c, 64 * 1024);
	t0 = util_now_ms();
	a = etcdloop_call(c, "/v3/kv/range", etcd_req_range("/w/", NULL, 0, 0));
	ck_assert_msg(util_now_ms() - t0 < ETCDLOOP_TIMEOUT + 1000,
	    "the end came after %" PRIu64 " ms", util_now_ms() - t0);
	ck_assert_ptr_nonnull(a.err);
	ck_assert_msg(strncmp(a.err, "etcd at ", 8) == 0 &&
	    strstr(a.err, url) != NULL && strstr(a.err, fakes[_i].want) != NULL,
	    "got \"%s\", want \"%s\"", a.err, fakes[_i].want);
	ck_assert_int_eq(a.status, fakes[_i].status);
	if (fakes[_i].mode == FAKE_GATEWAY_ERROR)
		ck_assert_ptr_nonnull(json_object_get(a.j, "code"));
	etcdloop_answer_free(&a);
	/* 5xx and no answer make the fleet unreachable; etcd's 400 does not. */
	if (fakes[_i].status >= 500 || fakes[_i].status == 0)
		ck_assert_int_gt(etcdc_unreachable_since(c), 0);
	else
		ck_assert_int_eq(etcdc_unreachable_since(c), 0);
	etcdc_free(c);
	evhttp_free(http);
}
END_TEST

static const struct {
	enum fake_mode	 mode;
	const char	*want;
	bool		 created;
} fake_watches[] = {
	{ FAKE_500, "watch: HTTP 500", false },
	{ FAKE_NEVER, "no answer within 2000 ms (watch not created)", false },
	{ FAKE_STREAM_GARBAGE, "watch stream: bad JSON", true },
	{ FAKE_STREAM_ERROR, "watch: etcd error 14: transport is closing", true },
	{ FAKE_STREAM_BIG, "an answer over the size bound", false },
};

START_TEST(test_fake_watch)
{
	struct evhttp	*http;
	struct etcdc	*c;
	struct etcdloop_watcher	 w;
	char		 url[64];
	const char	*u = url;

	etcdloop_setup();
	fake_modes[0] = fake_watches[_i].mode;
	http = fake_start(url, &fake_modes[0]);
	c = etcdloop_client_of(&u, 1);
	etcdc_set_body_max(c, 64 * 1024);
	etcdloop_watch_start(c, &w, "/w/", 0);
	etcdloop_run_until(&w.ended, "the watch's end");
	ck_assert_int_eq(w.end, ETCDC_END_ERROR);
	ck_assert_msg(strstr(w.err, fake_watches[_i].want) != NULL,
	    "got \"%s\", want \"%s\"", w.err, fake_watches[_i].want);
	ck_assert_int_eq(w.created, fake_watches[_i].created);
	etcdloop_watch_free(&w);
	etcdc_free(c);
	evhttp_free(http);
}
END_TEST

/* A request canceled gets no callback, even from inside its own. *//*
 * An endpoint that answers 5xx, or nothing: the next request goes to the
 * next endpoint, and one that answers ends "unreachable since".
 */
START_TEST(test_fake_failover)
{
	struct evhttp		*http[2];
	struct etcdc		*c;
	struct etcdloop_answer	 a;
	char			 url[2][64];
	const char		*urls[2] = { url[0], url[1] };
	int64_t			 since;

	etcdloop_setup();
	fake_modes[0] = _i == 0 ? FAKE_500 : FAKE_NEVER;
	fake_modes[1] = FAKE_OK;
	http[0] = fake_start(url[0], &fake_modes[0]);
	http[1] = fake_start(url[1], &fake_modes[1]);
	c = etcdloop_client_of(urls, 2);
	a = etcdloop_call(c, "/v3/kv/range", etcd_req_range("/w/", NULL, 0, 0));
	ck_assert_msg(a.err != NULL && strstr(a.err, url[0]) != NULL, "%s",
	    a.err);
	etcdloop_answer_free(&a);
	ck_assert_int_gt(since = etcdc_unreachable_since(c), 0);
	ck_assert_str_eq(etcdc_endpoint(c), url[1]);
	a = etcdloop_call(c, "/v3/kv/range", etcd_req_range("/w/", NULL, 0, 0));
	ck_assert_msg(a.err == NULL, "%s", a.err);
	ck_assert_int_eq(a.status, 200);
	etcdloop_answer_free(&a);
	ck_assert_int_eq(etcdc_unreachable_since(c), 0);
	/* It stays on the one that answers. */
	ck_assert_str_eq(etcdc_endpoint(c), url[1]);
	etcdc_free(c);
	evhttp_free(http[0]);
	evhttp_free(http[1]);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("etcdc_fake");
	TCase	*tc = tcase_create("fake");

	tcase_add_test(tc, test_bad_endpoints);
	tcase_add_loop_test(tc, test_fake_answers, 0, nitems(fakes));
	tcase_add_loop_test(tc, test_fake_watch, 0, nitems(fake_watches));
	tcase_add_loop_test(tc, test_fake_failover, 0, 2);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
