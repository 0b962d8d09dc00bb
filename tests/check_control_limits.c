/*
 * check_control_limits.c: the limits of control.c against the real
 * daemon: the length of a line, built in and configured, idle clients and
 * the deadline of a request line, the number of clients, a flood of
 * garbage, requests pipelined and split, backpressure on a client that
 * does not read, and a client that shuts its side down.
 */
#include <sys/socket.h>

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "util.h"
#include "version.h"
#include "controltest.h"
#include "controllines.h"
#include "suite.h"

/* --- line length ---------------------------------------------------------- */

/* The next line on c must be the pong answering id. */
static void
limits_next_pong(struct harness_conn *c, long long id)
{
	json_t	*resp = ct_next_line(c);

	ct_check_pong(resp, id);
	json_decref(resp);
}

/*
 * The next line on c must be the error of a request refused before it is
 * read (invalid_request, id null); its message says says, if not NULL.
 */
static void
limits_next_refusal(struct harness_conn *c, const char *says)
{
	json_t	*resp = ct_next_line(c);

	ct_check_error(resp, -32600, "invalid_request", ID_NULL);
	ck_assert_msg(says == NULL || strstr(ct_error_message(resp), says) !=
	    NULL, "message: %s", ct_error_message(resp));
	json_decref(resp);
}

/* A refusal, then warden closes c: the client is shown the door. */
static void
limits_shown_out(struct harness_conn *c, const char *says)
{
	limits_next_refusal(c, says);
	ck_assert_int_eq(harness_conn_wait_closed(c, CALL_MS), 0);
}

START_TEST(test_line_limit)
{
	static const char	 req[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
	struct harness		 h;
	struct harness_conn	*other, *c;
	char			*buf;

	start(&h, ct_conf_abc);
	other = ct_conn_open(&h);
	ct_check_quiet(other);
	buf = xmalloc(MAX_LINE + 2);

	/* Exactly the limit, with its newline: an ordinary request. */
	c = ct_conn_open(&h);
	memcpy(buf, req, sizeof(req) - 1);
	memset(buf + sizeof(req) - 1, ' ', MAX_LINE - (sizeof(req) - 1));
	buf[MAX_LINE] = '\n';
	ck_assert_int_eq(harness_conn_send_raw(c, buf, MAX_LINE + 1), 0);
	limits_next_pong(c, 1);
	ct_check_quiet(c);
	harness_conn_close(c);

	/* One byte over and no newline yet: an error, then the door. */
	c = ct_conn_open(&h);
	memset(buf, 'x', MAX_LINE + 1);
	ck_assert_int_eq(harness_conn_send_raw(c, buf, MAX_LINE + 1), 0);
	limits_shown_out(c, NULL);
	harness_conn_close(c);
	ct_check_quiet(other);

	/* One byte over, newline and all. */
	c = ct_conn_open(&h);
	memset(buf, ' ', MAX_LINE + 1);
	buf[MAX_LINE + 1] = '\n';
	ck_assert_int_eq(harness_conn_send_raw(c, buf, MAX_LINE + 2), 0);
	limits_shown_out(c, NULL);
	harness_conn_close(c);

	free(buf);
	ct_check_quiet(other);
	harness_conn_close(other);
	ct_ping_ok(&h);
	stop(&h);
}
END_TEST

/* The limits come from warden.json: small ones, each hit. */
START_TEST(test_configured_limits)
{
	struct harness		 h;
	struct harness_conn	*c, *cs[3], *extra;
	json_t			*resp;
	char			 line[256];
	size_t			 i;

	start(&h, "{ \"limits\": { \"max_line_bytes\": 200, \"max_clients\": 3,\n"
	    "  \"idle_ms\": 300, \"max_json_depth\": 4, \"max_batch\": 2 },\n"
	    "  \"supervisor\": { \"children\": [] } }\n");

	/* Nesting: 4 levels pass (an error about params, not depth), 5 do not. */
	c = ct_conn_open(&h);
	ct_send_line(c, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
	    "\"params\":{\"a\":[[1]]}}");
	resp = ct_next_line(c);
	ct_check_error(resp, -32602, "invalid_params", 1);
	json_decref(resp);
	ct_send_line(c, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\","
	    "\"params\":{\"a\":[[[1]]]}}");
	limits_next_refusal(c, "deeper than 4");
	/* Brackets inside strings are not nesting. */
	ct_send_line(c, "{\"jsonrpc\":\"2.0\",\"id\":\"[[[[[[\",\"method\":\"ping\"}");
	resp = ct_next_line(c);
	ck_assert_str_eq(json_string_value(json_object_get(resp, "result")), "pong");
	json_decref(resp);

	/* Batches: 2 are served, 3 are refused whole. */
	ct_send_line(c, "[{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"ping\"}]");
	resp = ct_next_line(c);
	ck_assert_msg(json_is_array(resp) && json_array_size(resp) == 2,
	    "batch of 2 not answered as 2");
	json_decref(resp);
	ct_send_line(c, "[{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"},"
	    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}]");
	limits_next_refusal(c, "over 2");
	harness_conn_close(c);

	/* Line length: 201 bytes of a line is over. */
	c = ct_conn_open(&h);
	memset(line, ' ', sizeof(line));
	ck_assert_int_eq(harness_conn_send_raw(c, line, 201), 0);
	limits_shown_out(c, "over 200 bytes");
	harness_conn_close(c);

	/* Clients: 3 are served, the 4th refused. */
	for (i = 0; i < 3; i++) {
		cs[i] = ct_conn_open(&h);
		ct_check_quiet(cs[i]);
	}
	extra = ct_conn_open(&h);
	limits_shown_out(extra, "limit 3");
	harness_conn_close(extra);

	/* Idle mid-line: closed after 300 ms, not 10 s. */
	ck_assert_int_eq(harness_conn_send_raw(cs[0], "{\"jsonrpc\"", 11), 0);
	limits_shown_out(cs[0], "300 ms");
	for (i = 0; i < 3; i++)
		harness_conn_close(cs[i]);
	ct_ping_ok(&h);
	stop(&h);
}
END_TEST

/* --- idle mid-line -------------------------------------------------------- */

START_TEST(test_idle_mid_line)
{
	static const char	 half[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"me";
	struct harness		 h;
	struct harness_conn	*idle, *other;
	struct pollfd		 pfd;
	json_t			*resp;
	uint64_t		 t0, elapsed;
	long long		 id;

	start(&h, ct_conf_abc);
	other = ct_conn_open(&h);
	idle = ct_conn_open(&h);
	t0 = util_now_ms();
	ck_assert_int_eq(harness_conn_send_raw(idle, half, sizeof(half) - 1),
	    0);
	/* Served meanwhile: a ping at once, and a 2 s wait that runs out. */
	ct_check_quiet(other);
	id = harness_conn_request(other, "wait",
	    json_pack("{s:{s:s,s:s},s:i}", "condition", "service", "a",
	    "state", "stopped", "timeout_ms", 2000));
	ck_assert_int_gt(id, 0);
	resp = ct_next_line(other);
	ct_check_error(resp, -32003, "timeout", id);
	json_decref(resp);
	/* Well inside the 10 s, the idle client has had nothing yet. */
	pfd.fd = idle->fd;
	pfd.events = POLLIN;
	ck_assert_int_eq(poll(&pfd, 1, 0), 0);
	ct_check_quiet(other);

	resp = harness_read_line(idle, 20000);
	elapsed = util_now_ms() - t0;
	ck_assert_msg(resp != NULL, "the idle client got no error");
	ct_check_error(resp, -32600, "invalid_request", ID_NULL);
	json_decref(resp);
	ck_assert_msg(elapsed >= 9500, "closed after %llu ms, before 10 s",
	    (unsigned long long)elapsed);
	ck_assert_int_eq(harness_conn_wait_closed(idle, CALL_MS), 0);
	harness_conn_close(idle);
	ct_check_quiet(other);
	harness_conn_close(other);
	stop(&h);
}
END_TEST

/* --- number of clients ---------------------------------------------------- */

START_TEST(test_max_clients)
{
	struct harness		 h;
	struct harness_conn	*cs[MAX_CLIENTS], *extra;
	size_t			 i;

	start(&h, ct_conf_abc);
	for (i = 0; i < MAX_CLIENTS; i++)
		cs[i] = ct_conn_open(&h);
	/* All of them served: so all of them accepted. */
	for (i = 0; i < MAX_CLIENTS; i++)
		ct_check_quiet(cs[i]);

	extra = ct_conn_open(&h);
	limits_shown_out(extra, "too many clients");
	harness_conn_close(extra);
	/* The refusal cost nobody their place. */
	ct_check_quiet(cs[0]);
	ct_check_quiet(cs[MAX_CLIENTS - 1]);

	/*
	 * One leaves. Half-closing and waiting for warden to close its end
	 * proves warden has let it go before the next one comes.
	 */
	ck_assert_int_eq(shutdown(cs[0]->fd, SHUT_WR), 0);
	ck_assert_int_eq(harness_conn_wait_closed(cs[0], CALL_MS), 0);
	harness_conn_close(cs[0]);
	cs[0] = ct_conn_open(&h);
	ct_check_quiet(cs[0]);

	for (i = 0; i < MAX_CLIENTS; i++)
		harness_conn_close(cs[i]);
	stop(&h);
}
END_TEST

/* --- garbage -------------------------------------------------------------- */

static uint64_t
prng_next(uint64_t *s)
{
	/* xorshift64*: the same bytes on every run. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/*
 * Lines of random bytes, and lines of random JSON-ish tokens that get
 * deeper into the parser and now and then make valid JSON that is no
 * request. The buffer ends with a newline.
 */
static void
garbage_make(char *buf, size_t len)
{
	static const char	*const tokens[] = {
		"{", "}", "[", "]", ":", ",", "\"", "\"jsonrpc\"", "\"2.0\"",
		"\"id\"", "\"method\"", "\"params\"", "\"ping\"", "1", "-0.5e3",
		"true", "null", " ", "\\u00e9", "\xc3\xa9", "\xff", "\t", "\r",
	};
	uint64_t	 s = 0x5eedc0ffee123457ULL, r;
	size_t		 i = 0, n;
	bool		 tokenish = false;
	const char	*t;

	while (i < len - 1) {
		r = prng_next(&s);
		if (r % 40 == 0) {
			buf[i++] = '\n';
			tokenish = (r >> 8) % 2 == 0;
		} else if (tokenish) {
			t = tokens[(r >> 16) % nitems(tokens)];
			n = strlen(t);
			if (n > len - 1 - i)
				n = len - 1 - i;
			memcpy(buf + i, t, n);
			i += n;
		} else
			buf[i++] = (char)(r >> 24);
	}
	buf[len - 1] = '\n';
}

/* The lines warden must answer: all but the empty ones ("\r" is empty). */
static size_t
garbage_lines(const char *buf, size_t len)
{
	const char	*p = buf, *nl;
	size_t		 n, lines = 0;

	while ((nl = memchr(p, '\n', len - (size_t)(p - buf))) != NULL) {
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0)
			lines++;
		p = nl + 1;
	}
	return lines;
}

/* The answer to a garbage line: an error, or a batch of errors. */
static void
check_garbage_answer(json_t *msg)
{
	json_t	*m;
	size_t	 i;
	int	 code;

	if (json_is_array(msg)) {
		ck_assert_uint_gt(json_array_size(msg), 0);
		json_array_foreach(msg, i, m)
			check_garbage_answer(m);
		return;
	}
	ck_assert_msg(json_is_object(msg), "an answer that is no object");
	ck_assert_msg(json_object_get(msg, "error") != NULL,
	    "garbage got a result");
	code = harness_error_code(msg);
	ck_assert_msg(code == -32700 || code == -32600 || code == -32601 ||
	    code == -32602, "garbage got error %d", code);
}

START_TEST(test_garbage_flood)
{
	enum { TOTAL = 300 * 1024, CHUNK = 16 * 1024 };
	struct harness		 h;
	struct harness_conn	*c, *other;
	json_t			*msg;
	char			*buf;
	size_t			 lines, got = 0, off;
	pid_t			 pid;

	start(&h, ct_conf_abc);
	pid = h.pid;
	buf = xmalloc(TOTAL);
	garbage_make(buf, TOTAL);
	lines = garbage_lines(buf, TOTAL);
	ck_assert_uint_gt(lines, 1000);
	other = ct_conn_open(&h);
	c = ct_conn_open(&h);
	for (off = 0; off < TOTAL; off += CHUNK) {
		ck_assert_int_eq(harness_conn_send_raw(c, buf + off,
		    TOTAL - off < CHUNK ? TOTAL - off : CHUNK), 0);
		/* Others are served all along. */
		if (off % (4 * CHUNK) == 0)
			ct_check_quiet(other);
	}
	free(buf);
	/* One answer per line, then the ping's: nothing more, nothing less. */
	ct_check_quiet(other);
	ct_send_line(c, "{'jsonrpc':'2.0','id':'end','method':'ping'}");
	for (;;) {
		msg = harness_read_line(c, CALL_MS);
		ck_assert_msg(msg != NULL, "answers stopped after %zu of %zu "
		    "lines (%s)", got, lines, c->eof ? "closed" :
		    strerror(errno));
		if (json_is_object(msg) && json_is_string(json_object_get(msg,
		    "id")) && strcmp(json_string_value(json_object_get(msg,
		    "id")), "end") == 0) {
			ck_assert_str_eq(json_string_value(json_object_get(msg,
			    "result")), "pong");
			json_decref(msg);
			break;
		}
		check_garbage_answer(msg);
		json_decref(msg);
		got++;
	}
	ck_assert_msg(got == lines, "%zu answers to %zu lines", got, lines);
	harness_conn_close(c);
	ct_check_quiet(other);
	harness_conn_close(other);
	ck_assert(harness_pid_alive(pid));
	ct_ping_ok(&h);
	stop(&h);
}
END_TEST

/* --- framing and backpressure --------------------------------------------- */

START_TEST(test_pipelined)
{
	static const char	 split[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":999,\"method\":\"ping\"}\r\n";
	struct harness		 h;
	struct harness_conn	*c, *other;
	char			*lines;
	int			 i;

	start(&h, ct_conf_abc);
	c = ct_conn_open(&h);
	other = ct_conn_open(&h);
	/* 500 requests in one write: 500 answers, in order. */
	lines = controllines_requests("ping", NULL, 1, 500, false);
	ck_assert_int_eq(harness_conn_send_raw(c, lines, strlen(lines)), 0);
	free(lines);
	for (i = 1; i <= 500; i++) {
		limits_next_pong(c, i);
	}
	/* One request in three writes, others served in between; CRLF too. */
	ck_assert_int_eq(harness_conn_send_raw(c, split, 10), 0);
	ct_check_quiet(other);
	ck_assert_int_eq(harness_conn_send_raw(c, split + 10, 20), 0);
	ct_check_quiet(other);
	ck_assert_int_eq(harness_conn_send_raw(c, split + 30,
	    sizeof(split) - 1 - 30), 0);
	limits_next_pong(c, 999);
	/* Half a line, then a whole one and the other half in one write. */
	ck_assert_int_eq(harness_conn_send_raw(c, "{\"jsonrpc\":\"2.0\",", 17), 0);
	ct_check_quiet(other);
	lines = dq("'id':7,'method':'ping'}\n{'jsonrpc':'2.0','id':8,"
	    "'method':'ping'}\n");
	ck_assert_int_eq(harness_conn_send_raw(c, lines, strlen(lines)), 0);
	free(lines);
	limits_next_pong(c, 7);
	limits_next_pong(c, 8);
	ct_check_quiet(c);
	harness_conn_close(c);
	harness_conn_close(other);
	stop(&h);
}
END_TEST

/*
 * A client that sends a thousand requests and reads nothing: warden
 * answers until the socket and max_output_bytes are full, then stops
 * reading that client (and serves others). Once it reads, the requests
 * that waited are served too, every one answered in order.
 */
START_TEST(test_backpressure)
{
	enum { N = 1000 };
	struct harness		 h;
	struct harness_conn	*c, *other;
	json_t			*resp, *res;
	char			*buf, *conf;
	size_t			 answered = 0;
	int			 i;

	/* conf_abc with the smallest output cap. */
	xasprintf(&conf, "{ \"limits\": { \"max_output_bytes\": 4096 },%s",
	    strchr(ct_conf_abc, '{') + 1);
	start(&h, conf);
	free(conf);
	c = ct_conn_open(&h);
	other = ct_conn_open(&h);
	/* Each answer is the whole tree's status, about 1 KiB: 1 MiB in all. */
	buf = controllines_requests("status", NULL, 1, N, false);
	ck_assert_int_eq(harness_conn_send_raw(c, buf, strlen(buf)), 0);
	free(buf);
	/* Served all along, though c's answers are piling up. */
	for (i = 0; i < 5; i++)
		ct_check_quiet(other);
	for (i = 1; i <= N; i++) {
		resp = ct_next_line(c);
		res = ct_check_result(resp, i);
		ck_assert_msg(json_array_size(json_object_get(res, "services"))
		    == 3, "answer %d is not the whole status", i);
		answered += json_dumpb(resp, NULL, 0, JSON_COMPACT);
		json_decref(resp);
	}
	ck_assert_uint_gt(answered, 512 * 1024);
	ct_check_quiet(c);
	ct_check_quiet(other);
	harness_conn_close(c);
	harness_conn_close(other);
	stop(&h);
}
END_TEST

/*
 * A client that sends its requests and shuts its side down still gets
 * every answer, a pending wait's included, and then warden closes.
 */
START_TEST(test_half_close)
{
	struct harness		 h;
	struct harness_conn	*c;
	json_t			*resp;
	char			*lines;

	start(&h, ct_conf_abc);
	/* Answered at once. */
	c = ct_conn_open(&h);
	lines = controllines_requests("ping", NULL, 1, 3, false);
	ck_assert_int_eq(harness_conn_send_raw(c, lines, strlen(lines)), 0);
	free(lines);
	ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
	for (int i = 1; i <= 3; i++) {
		limits_next_pong(c, i);
	}
	ck_assert_int_eq(harness_conn_wait_closed(c, CALL_MS), 0);
	harness_conn_close(c);

	/* A wait that times out later: its answer comes, then the close. */
	c = ct_conn_open(&h);
	ct_send_line(c, "{'jsonrpc':'2.0','id':1,'method':'ping'}\n"
	    "{'jsonrpc':'2.0','id':2,'method':'wait','params':{'condition':"
	    "{'service':'a','state':'stopped'},'timeout_ms':200}}");
	ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
	limits_next_pong(c, 1);
	resp = ct_next_line(c);
	ct_check_error(resp, -32003, "timeout", 2);
	json_decref(resp);
	ck_assert_int_eq(harness_conn_wait_closed(c, CALL_MS), 0);
	harness_conn_close(c);
	ct_ping_ok(&h);
	stop(&h);
}
END_TEST

/* --- the deadline of a line ---------------------------------------------- */

/*
 * limits.idle_ms bounds a whole request line from its first byte: a line
 * that comes in pieces is served as long as each line is whole within the
 * limit, however long the connection lasts; a client that trickles a byte
 * every 100 ms without ending its line is closed at the limit all the same.
 */
START_TEST(test_line_deadline)
{
	static const char	 ping[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n";
	struct harness		 h;
	struct harness_conn	*c, *other;
	struct pollfd		 pfd;
	json_t			*resp;
	uint64_t		 t0;
	size_t			 piece = (sizeof(ping) - 1) / 4, off;
	int			 i, n;

	start(&h, "{ \"limits\": { \"idle_ms\": 1000 },\n"
	    "  \"supervisor\": { \"children\": [] } }\n");
	c = ct_conn_open(&h);
	other = ct_conn_open(&h);
	pfd.fd = c->fd;
	pfd.events = POLLIN;

	/* Eight lines of four pieces 100 ms apart: 2.4 s in all, each line 0.3. */
	for (i = 0; i < 8; i++) {
		for (off = 0; off < sizeof(ping) - 1; off += n) {
			n = off + 2 * piece > sizeof(ping) - 1 ?
			    (int)(sizeof(ping) - 1 - off) : (int)piece;
			ck_assert_int_eq(harness_conn_send_raw(c, ping + off,
			    (size_t)n), 0);
			if (off + (size_t)n < sizeof(ping) - 1)
				ck_assert_msg(poll(&pfd, 1, 100) == 0,
				    "line %d: warden spoke before the line ended",
				    i);
		}
		limits_next_pong(c, 1);
	}

	/* A byte every 100 ms, no newline: the error comes at 1 s. */
	t0 = util_now_ms();
	for (i = 0; i < 100; i++) {
		ck_assert_int_eq(harness_conn_send_raw(c, i == 0 ? "{" : " ", 1),
		    0);
		if ((n = poll(&pfd, 1, 100)) != 0)
			break;
	}
	ck_assert_msg(i < 100, "a byte every 100 ms kept the line open for "
	    "10 s: the limit is 1 s");
	resp = ct_next_line(c);
	ck_assert_msg(util_now_ms() - t0 >= 1000, "closed before the limit");
	ct_check_error(resp, -32600, "invalid_request", ID_NULL);
	ck_assert_msg(strstr(ct_error_message(resp), "1000 ms") != NULL, "%s",
	    ct_error_message(resp));
	json_decref(resp);
	ck_assert_int_eq(harness_conn_wait_closed(c, CALL_MS), 0);
	harness_conn_close(c);
	ct_check_quiet(other);
	harness_conn_close(other);
	stop(&h);
}
END_TEST

static Suite *
control_limits_suite(void)
{
	Suite	*s = suite_create("control_limits");
	TCase	*tc = tcase_create("control_limits");
	TCase	*slow = tcase_create("idle");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_line_limit);
	tcase_add_test(tc, test_configured_limits);
	tcase_add_test(tc, test_max_clients);
	tcase_add_test(tc, test_garbage_flood);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_backpressure);
	tcase_add_test(tc, test_half_close);
	tcase_add_test(tc, test_line_deadline);
	suite_add_tcase(s, tc);

	/* Ten seconds of idling by design: its own case, its own bound. */
	tcase_set_timeout(slow, 30);
	tcase_add_test(slow, test_idle_mid_line);
	suite_add_tcase(s, slow);
	return s;
}

SUITE_MAIN(control_limits_suite)
