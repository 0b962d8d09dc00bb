/*
 * etcdloop.c: a libevent loop in the test and the gateway client on it,
 * for the suites of src/daemon/etcdc.c (etcdloop.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "etcdloop.h"
#include "util.h"

/* --- the loop ------------------------------------------------------------------ */

struct event_base	*etcdloop_base;
uint64_t		 etcdloop_gap_max;
int			 etcdloop_pings;
static uint64_t		 etcdloop_ping_last;

static void
etcdloop_ping_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t	now = util_now_ms();

	(void)fd;
	(void)what;
	(void)arg;
	if (etcdloop_ping_last != 0 && now - etcdloop_ping_last > etcdloop_gap_max)
		etcdloop_gap_max = now - etcdloop_ping_last;
	etcdloop_ping_last = now;
	etcdloop_pings++;
}

static void
etcdloop_bound_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

/* Turn the loop until *flag, failing the test past the bound. */
void
etcdloop_run_until(const bool *flag, const char *what)
{
	struct timeval	 tv = { ETCDLOOP_WAIT / 1000, 0 };
	bool		 late = false;
	struct event	*bound;

	bound = evtimer_new(etcdloop_base, etcdloop_bound_cb, &late);
	evtimer_add(bound, &tv);
	while (!*flag && !late)
		ck_assert_int_ne(event_base_loop(etcdloop_base, EVLOOP_ONCE), -1);
	event_free(bound);
	ck_assert_msg(*flag, "no %s within %d ms", what, ETCDLOOP_WAIT);
}

/* --- calls -------------------------------------------------------------------- */

void
etcdloop_answer_cb(void *arg, int status, json_t *j, const char *err)
{
	struct etcdloop_answer	*a = arg;

	ck_assert(!a->done);
	a->done = true;
	a->status = status;
	a->j = json_incref(j);
	a->err = err != NULL ? xstrdup(err) : NULL;
}

void
etcdloop_answer_free(struct etcdloop_answer *a)
{
	json_decref(a->j);
	free(a->err);
	memset(a, 0, sizeof(*a));
}

/* One call to its end: the answer (free it). body stolen. */
struct etcdloop_answer
etcdloop_call(struct etcdc *c, const char *path, json_t *body)
{
	struct etcdloop_answer	a;

	memset(&a, 0, sizeof(a));
	ck_assert_ptr_nonnull(body);
	ck_assert_ptr_nonnull(etcdc_call(c, path, body, etcdloop_answer_cb, &a));
	json_decref(body);
	ck_assert(!a.done);		/* never from inside etcdc_call() */
	etcdloop_run_until(&a.done, path);
	return a;
}

/* A call that must succeed: its answer object (new reference). */
json_t *
etcdloop_call_ok(struct etcdc *c, const char *path, json_t *body)
{
	struct etcdloop_answer	a = etcdloop_call(c, path, body);
	json_t		*j;

	ck_assert_msg(a.err == NULL, "%s: %s", path, a.err);
	ck_assert_int_eq(a.status, 200);
	j = json_incref(a.j);
	etcdloop_answer_free(&a);
	return j;
}

int64_t
etcdloop_put(struct etcdc *c, const char *key, const char *value, int64_t lease)
{
	json_t	*j = etcdloop_call_ok(c, "/v3/kv/put", etcd_req_put(key, value,
		    strlen(value), lease));
	int64_t	 rev;
	char	 err[ETCD_ERR_MAX];

	ck_assert_msg(etcd_parse_header(j, &rev, err) == 0, "%s", err);
	json_decref(j);
	return rev;
}

/* The range over key (end NULL: the key alone). */
struct etcd_range
etcdloop_range(struct etcdc *c, const char *key, const struct etcd_buf *end)
{
	json_t			*j = etcdloop_call_ok(c, "/v3/kv/range",
				    etcd_req_range(key, end, 0, 0));
	struct etcd_range	 r;
	char			 err[ETCD_ERR_MAX];

	ck_assert_msg(etcd_parse_range(j, &r, err) == 0, "%s", err);
	json_decref(j);
	return r;
}

struct etcdc *
etcdloop_client_of(const char *const *urls, size_t n)
{
	char		 err[ETCD_ERR_MAX];
	struct etcdc	*c;

	c = etcdc_new(etcdloop_base, urls, n, ETCDLOOP_TIMEOUT, err);
	ck_assert_msg(c != NULL, "%s", err);
	return c;
}

struct etcdc *
etcdloop_client(const struct etcdtest *e)
{
	const char	*url = e->url;

	return etcdloop_client_of(&url, 1);
}

void
etcdloop_setup(void)
{
	struct timeval	 tv = { 0, ETCDLOOP_PING_MS * 1000 };
	struct event	*ping;

	ck_assert_ptr_nonnull(etcdloop_base = event_base_new());
	ping = event_new(etcdloop_base, -1, EV_PERSIST, etcdloop_ping_cb, NULL);
	ck_assert_ptr_nonnull(ping);
	ck_assert_int_eq(event_add(ping, &tv), 0);
	etcdloop_ping_last = etcdloop_gap_max = 0;
	etcdloop_pings = 0;
}

/* --- watches ------------------------------------------------------------------ */

void
etcdloop_watcher_event(void *arg, json_t *o)
{
	struct etcdloop_watcher	*w = arg;
	struct etcd_watch	 pw;
	char			 err[ETCD_ERR_MAX];
	size_t			 i;

	ck_assert(!w->ended);
	ck_assert_msg(etcd_parse_watch(o, &pw, err) == 0, "%s", err);
	json_array_append(w->objects, o);
	w->created = w->created || pw.created;
	for (i = 0; i < pw.n; i++) {
		/* In revision order (a txn's puts share its revision). */
		ck_assert_int_ge(pw.events[i].kv.mod_revision, w->last_rev);
		w->last_rev = pw.events[i].kv.mod_revision;
		w->events++;
	}
	if (w->want > 0 && w->events >= w->want)
		w->done = true;
	etcd_watch_free(&pw);
}

void
etcdloop_watcher_end(void *arg, enum etcdc_end end, const char *err)
{
	struct etcdloop_watcher	*w = arg;

	ck_assert(!w->ended);
	w->ended = true;
	w->end = end;
	w->err = err != NULL ? xstrdup(err) : NULL;
	w->r = NULL;
}

void
etcdloop_watch_start(struct etcdc *c, struct etcdloop_watcher *w,
    const char *prefix, int64_t from)
{
	struct etcd_buf	 end;
	json_t		*body;

	memset(w, 0, sizeof(*w));
	w->objects = json_array();
	etcd_prefix_end(prefix, &end);
	body = etcd_req_watch(prefix, &end, from);
	w->r = etcdc_watch(c, body, etcdloop_watcher_event,
	    etcdloop_watcher_end, w);
	ck_assert_ptr_nonnull(w->r);
	json_decref(body);
	etcd_buf_free(&end);
}

void
etcdloop_watch_free(struct etcdloop_watcher *w)
{
	if (w->r != NULL)
		etcdc_cancel(w->r);
	json_decref(w->objects);
	free(w->err);
}
