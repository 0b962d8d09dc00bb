/*
 * check_handover_bytes.c: the bytes a reexec hands over (handovertest.h):
 * events queued for a subscriber, a partial line and its deadline, output
 * the socket did not take and a line held back behind it, and input
 * received but not served yet. Each is there, in order, in the new image.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "control.h"
#include "desc.h"
#include "rpc.h"
#include "util.h"
#include "handovertest.h"
#include "handoversuite.h"
#include "suite.h"

#define BATCH_PINGS	300	/* answers a small socket cannot hold */

static struct tc	*t_sub;
static uint64_t		 line_deadline_before;

static void
set_g(void)
{
	ho_set_flag("g", false);
}

/*
 * Bytes: events queued for a subscriber, a partial line, output the
 * socket did not take and a line held back behind it.
 */
START_TEST(test_round_trip_bytes)
{
	struct tc	*sub, *part, *big;
	struct client	*c;
	json_t		*desc, *r, *ev;
	json_int_t	 seq;
	size_t		 i, len;
	char		*text;
	int		 one = 1;

	sub = tc_open();
	r = tc_call(sub, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"subscribe\",\"params\":{\"topics\":[\"flag\"]}}\n");
	seq = json_integer_value(json_object_get(json_object_get(r, "result"),
	    "seq"));
	json_decref(r);

	part = tc_open();
	tc_send(part, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"pi");
	ho_wait_for(ho_is_mid_line, part, "mid-line");

	/* A socket that takes little: the batch's answer cannot all go. */
	big = tc_open();
	ck_assert_int_eq(setsockopt(big->sfd, SOL_SOCKET, SO_SNDBUF, &one,
	    sizeof(one)), 0);
	len = 0;
	text = xmalloc(BATCH_PINGS * 64 + 128);
	text[len++] = '[';
	for (i = 0; i < BATCH_PINGS; i++)
		len += (size_t)sprintf(text + len, "%s{\"jsonrpc\":\"2.0\","
		    "\"id\":%zu,\"method\":\"ping\"}", i > 0 ? "," : "", i + 1);
	len += (size_t)sprintf(text + len, "]\n" PING(9999) "\n");
	tc_send(big, text);
	free(text);
	ho_wait_for(ho_is_held_back, big, "held back");

	/* Queued for the subscriber, not written: no turn of the loop. */
	ho_set_flag("g", true);
	ck_assert_uint_gt(evbuffer_get_length(ho_server(sub)->out), 0);
	line_deadline_before = ho_server(part)->line_deadline;

	t_sub = sub;
	desc = ho_handover(NULL, NULL);
	ck_assert(json_is_true(json_object_get(ho_desc_of(desc, sub),
	    "subscribed")));
	ck_assert(json_is_false(json_object_get(ho_desc_of(desc, big),
	    "reading")));
	ho_adopt(desc);
	json_decref(desc);

	/* The deadline of the partial line is the one it had. */
	ck_assert_ptr_nonnull(c = ho_server(part));
	ck_assert(c->mid_line);
	ck_assert_uint_eq(c->line_deadline, line_deadline_before);

	/* The event that was queued, then the next one. */
	ev = tc_line(sub);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ev,
	    "params"), "type")), "flag.changed");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(ev,
	    "params"), "seq")), seq + 1);
	json_decref(ev);
	set_g();
	ev = tc_line(sub);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(ev,
	    "params"), "seq")), seq + 2);
	json_decref(ev);

	/* The line completed is served. */
	ho_check_pong(tc_call(part, "ng\"}\n"), 5);

	/* The batch's answer whole, then the line that waited behind it. */
	r = tc_line(big);
	ck_assert_msg(json_is_array(r), "the batch's answer is not an array");
	ck_assert_uint_eq(json_array_size(r), BATCH_PINGS);
	for (i = 0; i < BATCH_PINGS; i++)
		ho_check_pong(json_incref(json_array_get(r, i)),
		    (json_int_t)i + 1);
	json_decref(r);
	ho_check_pong(tc_line(big), 9999);

	tc_free(sub);
	tc_free(part);
	tc_free(big);
}
END_TEST

static struct tc	*t_input;

/* Lines received and not served yet, and a partial one after them. */
static void
edit_input(json_t *desc)
{
	static const char	in[] = PING(7) "\r\n\n" PING(8) "\n"
	    "{\"jsonrpc\":\"2.0\",\"i";
	json_t			*d = ho_desc_of(desc, t_input);

	json_object_set_new(d, "input", desc_b64(in, sizeof(in) - 1));
	json_object_set_new(d, "line_deadline_ms",
	    json_integer((json_int_t)util_now_ms() + 60000));
}

/* Input handed over is served as if just read, once the loop runs. */
START_TEST(test_adopt_serves_input)
{
	json_t	*desc;

	t_input = tc_open();
	desc = ho_handover(NULL, edit_input);
	ho_adopt(desc);
	json_decref(desc);
	ck_assert(!ho_readable(t_input));
	ho_check_pong(tc_line(t_input), 7);
	ho_check_pong(tc_line(t_input), 8);
	ho_check_pong(tc_call(t_input, "d\":9,\"method\":\"ping\"}\n"), 9);
	tc_free(t_input);
}
END_TEST

static Suite *
handover_bytes_suite(void)
{
	TCase	*tc;
	Suite	*s = handoversuite_new("handover_bytes", &tc);

	tcase_add_test(tc, test_round_trip_bytes);
	tcase_add_test(tc, test_adopt_serves_input);
	return s;
}

SUITE_MAIN(handover_bytes_suite)
