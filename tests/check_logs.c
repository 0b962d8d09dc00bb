/*
 * check_logs.c: each service's last lines (service.logs, wardenctl logs):
 * the two streams told apart, bounds, followers, and workers that write
 * what no log expects: a 10 MiB line, no newline ever, binary bytes, a
 * flood.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

/* A worker that runs a shell line, then waits. */
#define SH(name, script) \
	" { 'name': '" name "', 'command': ['/bin/sh', '-c', '" script "'] }"

/* A follower: service.logs with follow, its answer read. */
static struct harness_conn *
follow(struct harness *h, json_t *params, json_t **answer)
{
	struct harness_conn	*c = harness_conn_open(h);
	long long		 id;
	json_t			*r;

	ck_assert_ptr_nonnull(c);
	json_object_set_new(params, "follow", json_true());
	id = harness_conn_request(c, "service.logs", params);
	r = harness_read_response(c, id, TESTLIB_WAIT);
	ck_assert_msg(r != NULL && json_object_get(r, "result") != NULL,
	    "service.logs: %s", dump(r));
	if (answer != NULL)
		*answer = json_incref(json_object_get(r, "result"));
	json_decref(r);
	return c;
}

/* The next service.log line a follower gets; fails at the bound. */
static json_t *
next_line(struct harness_conn *c)
{
	json_t	*m, *p;

	for (;;) {
		m = harness_read_line(c, TESTLIB_WAIT);
		ck_assert_msg(m != NULL, "no log line within %d ms", TESTLIB_WAIT);
		ck_assert_msg(json_is_string(json_object_get(m, "method")),
		    "not a note: %.300s", dump(m));
		if (strcmp(str(m, "method"), "service.log") == 0) {
			p = json_incref(json_object_get(m, "params"));
			ck_assert_msg(json_object_get(p, "text") != NULL,
			    "dropped: %s", dump(p));
			json_decref(m);
			return p;
		}
		json_decref(m);
	}
}

/* A line of service with text among those held, or NULL. */
static json_t *
held_line(json_t *answer, const char *service, const char *text)
{
	json_t	*l;
	size_t	 i;

	json_array_foreach(json_object_get(answer, "lines"), i, l)
		if (strcmp(str(l, "service"), service) == 0 &&
		    strcmp(str(l, "text"), text) == 0)
			return json_incref(l);
	return NULL;
}

/* Follow until a line of service with text comes; returns it. */
static json_t *
line_with(struct harness_conn *c, const char *service, const char *text)
{
	json_t	*l;

	for (;;) {
		l = next_line(c);
		if (strcmp(str(l, "service"), service) == 0 &&
		    strcmp(str(l, "text"), text) == 0)
			return l;
		json_decref(l);
	}
}

/*
 * Wait for a line of service with text, held already or to come: the
 * answer and the following start in one turn of warden's loop, so no
 * line falls between them.
 */
static void
wait_line(struct harness *h, const char *service, const char *text)
{
	struct harness_conn	*c;
	json_t			*answer, *l;

	c = follow(h, json_pack("{s:s}", "service", service), &answer);
	if ((l = held_line(answer, service, text)) == NULL)
		l = line_with(c, service, text);
	json_decref(l);
	json_decref(answer);
	harness_conn_close(c);
}

/* How many lines service.logs answers with params (a JSON text). */
static size_t
held_count(struct harness *h, const char *params)
{
	json_t	*res = result(h, "service.logs", js(params));
	size_t	 n = json_array_size(json_object_get(res, "lines"));

	json_decref(res);
	return n;
}

/* The texts of service.logs' answer, "|"-joined, as "service:text". */
static char *
texts(json_t *res)
{
	char	*s = xstrdup(""), *t;
	json_t	*v;
	size_t	 i;

	json_array_foreach(json_object_get(res, "lines"), i, v) {
		if (asprintf(&t, "%s%s%s:%s", s, i > 0 ? "|" : "",
		    str(v, "service"), str(v, "text")) == -1)
			ck_abort_msg("asprintf");
		free(s);
		s = t;
	}
	return s;
}

START_TEST(test_streams_fields_and_order)
{
	struct harness		 h;
	json_t			*l, *res;
	char			*t;
	long long		 seq;
	size_t			 i;

	start(&h, "{ 'supervisor': { 'children': ["
	    SH("a", "echo one; echo two >&2; echo three; exec sleep 1000") ","
	    SH("b", "exec sleep 1000") " ] } }");
	wait_line(&h, "a", "three");

	res = result(&h, "service.logs", js("{'service': 'a'}"));
	t = texts(res);
	ck_assert_msg(count_of(t, "a:") == 3 && strstr(t, "a:one") != NULL &&
	    strstr(t, "a:two") != NULL && strstr(t, "a:three") != NULL,
	    "lines: %s", t);
	free(t);
	/* stdout's order within stdout; one count for all lines. */
	l = json_array_get(json_object_get(res, "lines"), 0);
	seq = num(l, "seq");
	ck_assert_int_ge(seq, 1);
	ck_assert_int_eq(num(res, "seq"), seq + 2);
	json_decref(res);

	res = result(&h, "service.logs", js("{'service': ['a'], 'lines': 1}"));
	ck_assert_uint_eq(json_array_size(json_object_get(res, "lines")), 1);
	l = json_array_get(json_object_get(res, "lines"), 0);
	ck_assert_int_eq(num(l, "seq"), seq + 2);
	ck_assert_int_eq(num(l, "pid"), pid_of(&h, "a"));
	/* UTC, ISO 8601, milliseconds. */
	ck_assert_msg(strlen(str(l, "time")) == 24 && str(l, "time")[10] == 'T' &&
	    str(l, "time")[19] == '.' && str(l, "time")[23] == 'Z', "time %s",
	    str(l, "time"));
	json_decref(res);

	res = result(&h, "service.logs", js("{'service': 'a', 'lines': 3}"));
	json_array_foreach(json_object_get(res, "lines"), i, l)
		ck_assert_str_eq(str(l, "stream"), strcmp(str(l, "text"),
		    "two") == 0 ? "stderr" : "stdout");
	json_decref(res);

	/* The root supervisor: the lines of every worker under it. */
	ck_assert_uint_eq(held_count(&h, "{'service': 'root', 'lines': 0}"), 0);
	ck_assert_uint_eq(held_count(&h, "{'service': 'root'}"), 3);
	ck_assert_uint_eq(held_count(&h, "{'service': 'b'}"), 0);
	finish(&h, 0);
}
END_TEST

static const struct {
	const char	*params;
	int		 code;
} bad_params[] = {
	{ "{'lines': -1}", -32602 },
	{ "{'lines': 'ten'}", -32602 },
	{ "{'lines': 1.5}", -32602 },
	{ "{'lines': 1000001}", -32602 },
	{ "{'follow': 'yes'}", -32602 },
	{ "{'service': 7}", -32602 },
	{ "{'service': []}", -32602 },
	{ "{'service': ['a', 3]}", -32602 },
	{ "{'service': 'nosuch'}", -32001 },
	{ "{'service': ['a', 'nosuch']}", -32001 },
	{ "{'colour': 'red'}", -32602 },
};

START_TEST(test_bad_params)
{
	struct harness	h;
	json_t		*r;
	size_t		i;

	start(&h, "{ 'supervisor': { 'children': ["
	    SH("a", "exec sleep 1000") " ] } }");
	for (i = 0; i < nitems(bad_params); i++) {
		r = harness_call(&h, "service.logs", js(bad_params[i].params));
		ck_assert_msg(harness_error_code(r) == bad_params[i].code,
		    "%s: %s", bad_params[i].params, dump(r));
		json_decref(r);
	}
	/* Nobody follows after a refused follow. */
	r = harness_call(&h, "service.logs", js("{'service': 'nosuch', "
	    "'follow': true}"));
	ck_assert_int_eq(harness_error_code(r), -32001);
	json_decref(r);
	finish(&h, 0);
}
END_TEST

START_TEST(test_bounds)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*res;
	char			*t;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'few', 'log': { 'lines': 3 }, 'command': ['/bin/sh', "
	    "'-c', 'for i in 1 2 3 4 5 6; do echo l$i; done; exec sleep 1000'] },"
	    " { 'name': 'small', 'log': { 'memory_bytes': 10 }, 'command': "
	    "['/bin/sh', '-c', 'echo aaaa; echo bbbb; echo cccc; echo 0123456789abc; "
	    "echo end; exec sleep 1000'] },"
	    " { 'name': 'none', 'log': { 'lines': 0 }, 'command': ['/bin/sh', "
	    "'-c', 'echo gone; exec sleep 1000'] } ] } }");
	wait_line(&h, "few", "l6");
	wait_line(&h, "small", "end");

	res = result(&h, "service.logs", js("{'service': 'few'}"));
	t = texts(res);
	ck_assert_str_eq(t, "few:l4|few:l5|few:l6");
	free(t);
	json_decref(res);
	/* 10 bytes: a longer line is cut to them, then "end" pushes it out. */
	res = result(&h, "service.logs", js("{'service': 'small'}"));
	t = texts(res);
	ck_assert_str_eq(t, "small:end");
	free(t);
	json_decref(res);
	ck_assert_uint_eq(held_count(&h, "{'service': 'none'}"), 0);
	/* Kept or not, a line goes to the followers: the next instance's. */
	c = follow(&h, js("{'service': 'none'}"), NULL);
	json_decref(result(&h, "service.kill", js("{'service': 'none'}")));
	json_decref(line_with(c, "none", "gone"));
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/*
 * A 10 MiB line comes in pieces of 4096 bytes; a line never ended is
 * said when its instance exits; bytes that are not UTF-8, and NULs, are
 * U+FFFD.
 */
START_TEST(test_hostile_output)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*l;
	pid_t			 pid;
	size_t			 pieces = 0;

	/* Room for the 10 MiB a follower may not have read yet. */
	start(&h, "{ 'limits': { 'subscriber_queue_bytes': 67108864 }, "
	    "'supervisor': { 'children': ["
	    SH("huge", "head -c 10485760 /dev/zero | tr \\\\\\\\0 x; echo; "
	    "echo after; exec sleep 1000") ","
	    SH("nonl", "printf no-newline; exec sleep 1000") ","
	    SH("bin", "printf \\\\\\\\377a\\\\\\\\000b\\\\\\\\n; exec sleep 1000")
	    " ] } }");
	/* Their next instances write it all while this follower reads. */
	wait_line(&h, "huge", "after");
	wait_line(&h, "bin", "\xef\xbf\xbd" "a\xef\xbf\xbd" "b");
	c = follow(&h, js("{'service': ['huge', 'bin'], 'lines': 0}"), NULL);
	json_decref(result(&h, "service.kill", js("{'service': ['huge', 'bin']}")));
	for (;;) {
		l = next_line(c);
		if (strcmp(str(l, "service"), "huge") == 0) {
			if (strcmp(str(l, "text"), "after") == 0) {
				json_decref(l);
				break;
			}
			ck_assert_uint_eq(json_string_length(json_object_get(l,
			    "text")), 4096);
			pieces++;
		} else {
			ck_assert_str_eq(str(l, "text"),
			    "\xef\xbf\xbd" "a\xef\xbf\xbd" "b");
		}
		json_decref(l);
	}
	/* 2560 pieces; the newline after the last ends it, no empty line. */
	ck_assert_uint_eq(pieces, 2560);
	harness_conn_close(c);
	/* The ring holds 64 KiB of them at most. */
	ck_assert_uint_le(held_count(&h, "{'service': 'huge'}"), 17);
	ck_assert_uint_eq(held_count(&h, "{'service': 'nonl'}"), 0);
	pid = pid_of(&h, "nonl");
	c = follow(&h, js("{'service': 'nonl'}"), NULL);
	json_decref(result(&h, "service.kill", js("{'service': 'nonl'}")));
	l = line_with(c, "nonl", "no-newline");
	ck_assert_int_eq(num(l, "pid"), pid);
	json_decref(l);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/*
 * A flood (yes(1): as fast as the pipe goes) neither starves the loop nor
 * grows warden: pings are answered throughout, and a follower that never
 * reads is told what it lost and closed.
 */
START_TEST(test_flood)
{
	struct harness		 h;
	struct harness_conn	*lazy;
	json_t			*res, *m;
	bool			 dropped = false;
	int			 i;

	/* idle_ms: the grace the last note has; this machine may be slow. */
	start(&h, "{ 'limits': { 'subscriber_queue_bytes': 65536, "
	    "'idle_ms': 60000 }, "
	    "'supervisor': { 'children': ["
	    " { 'name': 'yes', 'command': ['yes', 'spam'] } ] } }");
	lazy = follow(&h, js("{'lines': 0}"), NULL);
	for (i = 0; i < 100; i++)
		json_decref(result(&h, "ping", NULL));
	res = result(&h, "service.logs", js("{'service': 'yes', 'lines': 3}"));
	ck_assert_uint_eq(json_array_size(json_object_get(res, "lines")), 3);
	ck_assert_str_eq(str(json_array_get(json_object_get(res, "lines"), 0),
	    "text"), "spam");
	json_decref(res);
	/* Now read: what is queued, then the last note, then the door. */
	while ((m = harness_read_line(lazy, TESTLIB_WAIT)) != NULL) {
		if (json_object_get(json_object_get(m, "params"), "type") !=
		    NULL && strcmp(str(json_object_get(m, "params"), "type"),
		    "logs.dropped") == 0)
			dropped = true;
		json_decref(m);
	}
	ck_assert_msg(dropped, "the slow follower was not told");
	harness_conn_close(lazy);
	json_decref(result(&h, "service.stop", js("{'service': 'yes'}")));
	finish(&h, 0);
}
END_TEST

START_TEST(test_wardenctl_logs)
{
	struct harness		 h;
	char			*out, *err;
	int			 rc;

	start(&h, "{ 'supervisor': { 'children': ["
	    SH("a", "echo hello; echo oops >&2; exec sleep 1000") ","
	    SH("b", "echo bee; exec sleep 1000") " ] } }");
	wait_line(&h, "a", "oops");
	wait_line(&h, "b", "bee");

	rc = harness_ctl(&h, &out, &err, "logs", "a", NULL);
	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_msg(count_of(out, "\n") == 2 && strstr(out, " a[") != NULL &&
	    strstr(out, "] stdout: hello\n") != NULL &&
	    strstr(out, "] stderr: oops\n") != NULL, "out: %s", out);
	free(out);
	free(err);
	rc = harness_ctl(&h, &out, &err, "logs", "-n", "1", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(count_of(out, "\n") == 1, "out: %s", out);
	free(out);
	free(err);
	rc = harness_ctl(&h, &out, &err, "-j", "logs", "b", NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(strstr(out, "\"text\":\"bee\"") != NULL ||
	    strstr(out, "\"text\": \"bee\"") != NULL, "out: %s", out);
	free(out);
	free(err);
	rc = harness_ctl(&h, &out, &err, "logs", "nosuch", NULL);
	ck_assert_msg(rc != 0 && strstr(err, "no service named 'nosuch'") != NULL,
	    "rc %d: %s", rc, err);
	free(out);
	free(err);
	rc = harness_ctl(&h, &out, &err, "logs", "-n", "many", NULL);
	ck_assert_msg(rc == 2 && strstr(err, "not a number") != NULL,
	    "rc %d: %s", rc, err);
	free(out);
	free(err);
	finish(&h, 0);
}
END_TEST

/*
 * A reexec keeps every service's lines, their count and its followers:
 * the new image answers logs as the old one would, and a follower goes
 * on getting lines on the same connection.
 */
START_TEST(test_reexec)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*before, *after, *r, *l;
	char			*t1, *t2;

	start(&h, "{ 'supervisor': { 'children': ["
	    SH("a", "echo one; echo two >&2; printf part; exec sleep 1000") ","
	    SH("b", "echo bee; exec sleep 1000") " ] } }");
	wait_line(&h, "a", "two");
	wait_line(&h, "b", "bee");
	c = follow(&h, js("{'service': 'a', 'lines': 0}"), NULL);
	before = result(&h, "service.logs", NULL);
	r = harness_call_timeout(&h, "reexec", NULL, 30000);
	ck_assert_msg(json_object_get(r, "result") != NULL, "reexec: %s", dump(r));
	json_decref(r);
	after = result(&h, "service.logs", NULL);
	t1 = texts(before);
	t2 = texts(after);
	ck_assert_str_eq(t1, t2);
	ck_assert_int_eq(num(before, "seq"), num(after, "seq"));
	free(t1);
	free(t2);
	/* The partial line went across too: it ends with its instance. */
	json_decref(result(&h, "service.kill", js("{'service': 'a'}")));
	l = line_with(c, "a", "part");
	ck_assert_int_eq(num(l, "seq"), num(after, "seq") + 1);
	json_decref(l);
	json_decref(before);
	json_decref(after);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("logs");
	TCase	*tc = tcase_create("logs");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_streams_fields_and_order);
	tcase_add_test(tc, test_bad_params);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_hostile_output);
	tcase_add_test(tc, test_flood);
	tcase_add_test(tc, test_wardenctl_logs);
	tcase_add_test(tc, test_reexec);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
