/*
 * check_fleet_fake.c: a real warden, member of a fleet whose etcd is a
 * fake in the test (evhttp on a loop of its own, in a thread), scripted
 * to answer what a real etcd answers only in a narrow window, so that
 * the window is hit every time.
 *
 * A watch's created answer (and each answer of a watch catching up)
 * carries etcd's current revision, not the revision of what the watch
 * has sent: a member that took it as applied and lost its watch before
 * the events came would start again after them, and never apply them.
 * A progress notification (asked for with progress_notify) is the one
 * answer whose revision says every change up to it has been sent.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "etcd.h"
#include "harness.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

#define FAKE_WAIT_MS	15000	/* failure bound of a wait */
#define FAKE_REV	5	/* the store's revision when warden reads it */
#define FAKE_HEADER_REV	100	/* what a created answer says is current */
#define FAKE_WATCHES	8	/* watch requests kept */

/* What the fake server saw, shared with the test under the lock. */
static struct {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	int		 nwatch;
	int64_t		 start[FAKE_WATCHES];	/* each watch's start_revision */
	bool		 progress[FAKE_WATCHES];	/* it asked for progress_notify */
} seen = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, { 0 },
    { false } };

static struct event_base	*fake_base;
static struct evhttp		*fake_http;
static struct evhttp_request	*fake_open;	/* a watch kept open */
static int			 fake_stop[2];
static pthread_t		 fake_thread;

static void
fake_reply(struct evhttp_request *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fake_reply(struct evhttp_request *req, const char *fmt, ...)
{
	struct evbuffer	*b = evbuffer_new();
	va_list		 ap;

	ck_assert_ptr_nonnull(b);
	va_start(ap, fmt);
	ck_assert_int_ge(evbuffer_add_vprintf(b, fmt, ap), 0);
	va_end(ap);
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/* The body's create_request: its start_revision (0: none), progress_notify. */
static void
fake_create_request(struct evhttp_request *req, int64_t *start, bool *progress)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	json_t		*j, *c, *s;

	j = json_loadb((const char *)evbuffer_pullup(in, -1),
	    evbuffer_get_length(in), 0, NULL);
	c = json_object_get(j, "create_request");
	s = json_object_get(c, "start_revision");
	*start = json_is_string(s) ? strtoll(json_string_value(s), NULL, 10) :
	    json_is_integer(s) ? json_integer_value(s) : 0;
	*progress = json_is_true(json_object_get(c, "progress_notify"));
	json_decref(j);
}

/*
 * The first watch: created, at etcd's current revision, then the stream
 * ends before any event. The second: created, a progress notification at
 * that revision, and the end. The next ones: created, and kept open.
 */
static void
fake_watch(struct evhttp_request *req)
{
	struct evbuffer	*b = evbuffer_new();
	int		 n;

	ck_assert_ptr_nonnull(b);
	pthread_mutex_lock(&seen.lock);
	n = seen.nwatch;
	if (seen.nwatch < FAKE_WATCHES) {
		fake_create_request(req, &seen.start[n], &seen.progress[n]);
		seen.nwatch++;
	}
	pthread_cond_broadcast(&seen.cond);
	pthread_mutex_unlock(&seen.lock);
	evhttp_send_reply_start(req, 200, "OK");
	evbuffer_add_printf(b, "{\"result\":{\"header\":{\"revision\":\"%d\"},"
	    "\"watch_id\":\"0\",\"created\":true}}\n", FAKE_HEADER_REV);
	if (n == 1)
		evbuffer_add_printf(b, "{\"result\":{\"header\":{\"revision\":"
		    "\"%d\"},\"watch_id\":\"0\"}}\n", FAKE_HEADER_REV);
	evhttp_send_reply_chunk(req, b);
	evbuffer_free(b);
	if (n <= 1)
		evhttp_send_reply_end(req);
	else if (fake_open == NULL)
		fake_open = req;
}

static void
fake_cb(struct evhttp_request *req, void *arg)
{
	const char	*path = evhttp_request_get_uri(req);

	(void)arg;
	if (strcmp(path, "/v3/watch") == 0)
		fake_watch(req);
	else if (strcmp(path, "/v3/lease/grant") == 0)
		fake_reply(req, "{\"header\":{\"revision\":\"%d\"},\"ID\":\"77\","
		    "\"TTL\":\"10\"}", FAKE_REV);
	else if (strcmp(path, "/v3/lease/keepalive") == 0)
		fake_reply(req, "{\"result\":{\"header\":{\"revision\":\"%d\"},"
		    "\"ID\":\"77\",\"TTL\":\"10\"}}", FAKE_REV);
	else if (strcmp(path, "/v3/kv/range") == 0)
		fake_reply(req, "{\"header\":{\"revision\":\"%d\"}}", FAKE_REV);
	else if (strcmp(path, "/v3/kv/put") == 0)
		fake_reply(req, "{\"header\":{\"revision\":\"%d\"}}", FAKE_REV);
	else
		evhttp_send_error(req, 404, "not faked");
}

static void
fake_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(fake_base);
}

static void *
fake_main(void *arg)
{
	(void)arg;
	(void)event_base_dispatch(fake_base);
	return NULL;
}

/* The fake etcd on a free port, in its thread: its URL in url. */
static void
fake_start(char url[64])
{
	int	port = free_port();

	ck_assert_ptr_nonnull(fake_base = event_base_new());
	ck_assert_ptr_nonnull(fake_http = evhttp_new(fake_base));
	evhttp_set_allowed_methods(fake_http, EVHTTP_REQ_POST);
	evhttp_set_gencb(fake_http, fake_cb, NULL);
	ck_assert_int_eq(evhttp_bind_socket(fake_http, "127.0.0.1",
	    (unsigned short)port), 0);
	ck_assert_int_eq(pipe(fake_stop), 0);
	ck_assert_int_eq(event_base_once(fake_base, fake_stop[0], EV_READ,
	    fake_stop_cb, NULL, NULL), 0);
	snprintf(url, 64, "http://127.0.0.1:%d", port);
	ck_assert_int_eq(pthread_create(&fake_thread, NULL, fake_main, NULL),
	    0);
}

static void
fake_finish(void)
{
	ck_assert_int_eq(write(fake_stop[1], "x", 1), 1);
	ck_assert_int_eq(pthread_join(fake_thread, NULL), 0);
	evhttp_free(fake_http);
	event_base_free(fake_base);
	close(fake_stop[0]);
	close(fake_stop[1]);
	fake_open = NULL;
}

/* Wait until the fake has seen n watch requests. */
static void
fake_wait_watches(int n)
{
	struct timespec	deadline;
	int		rc = 0;

	ck_assert_int_eq(clock_gettime(CLOCK_REALTIME, &deadline), 0);
	deadline.tv_sec += FAKE_WAIT_MS / 1000;
	pthread_mutex_lock(&seen.lock);
	while (seen.nwatch < n && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&seen.cond, &seen.lock, &deadline);
	pthread_mutex_unlock(&seen.lock);
	ck_assert_msg(rc != ETIMEDOUT, "no watch request %d within %d ms", n,
	    FAKE_WAIT_MS);
}

START_TEST(test_created_revision_is_not_applied)
{
	struct harness	 h;
	char		 url[64], *conf;
	json_t		*st;
	int64_t		 start[3];
	bool		 progress;
	int		 i;

	fake_start(url);
	conf = cfg("{ 'fleet': { 'etcd': ['%s'], 'host': 'w1', 'lease_s': 3,"
	    "    'timeout_ms': 1000 },"
	    "  'flags': { 'dark_mode': {} },"
	    "  'supervisor': { 'children': [] } }", url);
	ck_assert_msg(harness_start(&h, conf) == 0, "warden did not start");
	free(conf);
	fake_wait_watches(3);
	pthread_mutex_lock(&seen.lock);
	progress = seen.progress[0] && seen.progress[1] && seen.progress[2];
	for (i = 0; i < 3; i++)
		start[i] = seen.start[i];
	pthread_mutex_unlock(&seen.lock);
	ck_assert_msg(progress, "a watch did not ask for progress_notify");
	ck_assert_msg(start[0] == FAKE_REV + 1, "the first watch starts at "
	    "%lld", (long long)start[0]);
	ck_assert_msg(start[1] == FAKE_REV + 1, "the watch that ended before "
	    "its events starts again at %lld, not after the revision applied "
	    "(%d): the created answer's revision was taken as applied",
	    (long long)start[1], FAKE_REV);
	ck_assert_msg(start[2] == FAKE_HEADER_REV + 1, "after a progress "
	    "notification at %d the watch starts again at %lld",
	    FAKE_HEADER_REV, (long long)start[2]);
	st = harness_result(&h, "status", NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    st, "fleet"), "revision")), FAKE_HEADER_REV);
	json_decref(st);
	ck_assert_int_eq(harness_stop(&h), 0);
	harness_cleanup(&h);
	fake_finish();
}
END_TEST

static Suite *
fleet_fake_suite(void)
{
	Suite	*s = suite_create("fleet_fake");
	TCase	*tc = tcase_create("watch");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_created_revision_is_not_applied);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(fleet_fake_suite)
