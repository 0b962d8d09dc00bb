/*
 * check_handover.c: the control socket handed over by a reexec, in
 * process and without an exec (handovertest.h): real clients connect and
 * leave waits half done, control_handover() describes it all, the objects
 * are freed with every fd left open (as the exec would), rpc.c starts
 * again as in a new image, and control_adopt() takes the description back
 * from its text. Each client must go on as if nothing had happened. Then
 * the same with the handover undone. The bytes a client leaves behind are
 * check_handover_bytes's, reexec calls and the method
 * check_handover_reexec's, wrong descriptions check_handover_bad's.
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

/* Clients of the round trip, for edit() and between(). */
static struct tc	*t_timeout, *t_past;
static uint64_t		 edited_at;

/* One wait is left 300 ms of its minute, one none at all. */
static void
edit_deadlines(json_t *desc)
{
	edited_at = util_now_ms();
	json_object_set_new(ho_call_of(desc, t_timeout), "deadline_ms",
	    json_integer((json_int_t)edited_at + 300));
	json_object_set_new(ho_call_of(desc, t_past), "deadline_ms",
	    json_integer(1));
}

static void
set_k(void)
{
	ho_set_flag("k", true);
}

/*
 * Waits: one that holds once a client sets f, one whose flag was set
 * while no image ran, one with 300 ms left, one already past, one from a
 * client that has closed its side, and a batch with a member waiting.
 */
START_TEST(test_round_trip_waits)
{
	struct tc	*wf, *wk, *weof, *batch, *z;
	json_t		*desc, *r;
	uint64_t	 t0, took;
	char		*line;

	wf = tc_waiting(1, "f");
	wk = tc_waiting(2, "k");
	t_timeout = tc_waiting(3, "h");
	t_past = tc_waiting(4, "h");
	weof = tc_waiting(5, "f");
	ck_assert_int_eq(shutdown(weof->fd, SHUT_WR), 0);
	ho_wait_for(ho_is_eof, weof, "at its end");
	batch = tc_open();
	line = ho_wait_line(11, "f", "[" PING(10) ",", "]\n");
	tc_send(batch, line);
	free(line);
	ho_wait_for(ho_has_pending, batch, "waiting in a batch");

	desc = ho_handover(set_k, edit_deadlines);
	ck_assert_int_eq(json_array_size(json_object_get(desc, "clients")), 6);
	/* A peer that connects meanwhile waits in the backlog. */
	z = xcalloc(1, sizeof(*z));
	z->fd = ho_connect_sock();
	tc_send(z, PING(1) "\n");
	t0 = util_now_ms();
	ho_adopt(desc);
	json_decref(desc);

	/* Already past: the usual timeout, at once. */
	r = tc_line(t_past);
	ho_check_error(r, 4, RPC_TIMEOUT, "timeout");
	ck_assert_msg(strstr(ho_message_of(r), "60000 ms") != NULL, "%s",
	    ho_message_of(r));
	ck_assert_msg(util_now_ms() - t0 < 250, "a past deadline took %llu ms",
	    (unsigned long long)(util_now_ms() - t0));
	json_decref(r);
	/* k was set while no image ran: tested against the state of now. */
	r = tc_line(wk);
	ck_assert_int_eq(ho_id_of(r), 2);
	ho_check_flag(json_object_get(r, "result"), "k", true);
	json_decref(r);
	/* The peer of the backlog is served, with an id after every other. */
	ho_check_pong(tc_line(z), 1);
	z->sfd = control_clients()->fd;		/* the newest */
	ck_assert_uint_gt(ho_server(z)->id, ho_server(batch)->id);
	ck_assert_uint_gt(ho_server(z)->id, ho_server(wf)->id);

	/* What was left of the minute, not a new one. */
	r = tc_line(t_timeout);
	took = util_now_ms() - edited_at;
	ho_check_error(r, 3, RPC_TIMEOUT, "timeout");
	ck_assert_msg(took >= 290 && took < 5000, "300 ms left took %llu ms",
	    (unsigned long long)took);
	json_decref(r);

	/* f set by a client: the wait, the batch (whole) and the closed one. */
	r = tc_call(z, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"flag.set\","
	    "\"params\":{\"name\":\"f\",\"value\":true}}\n");
	ck_assert_int_eq(ho_id_of(r), 2);
	json_decref(r);
	r = tc_line(wf);
	ck_assert_int_eq(ho_id_of(r), 1);
	ho_check_flag(json_object_get(r, "result"), "f", true);
	json_decref(r);
	r = tc_line(batch);
	ck_assert_msg(json_is_array(r) && json_array_size(r) == 2,
	    "the batch is not answered whole");
	ho_check_pong(json_incref(json_array_get(r, 0)), 10);
	ck_assert_int_eq(ho_id_of(json_array_get(r, 1)), 11);
	ho_check_flag(json_object_get(json_array_get(r, 1), "result"), "f",
	    true);
	json_decref(r);
	r = tc_line(weof);
	ck_assert_int_eq(ho_id_of(r), 5);
	json_decref(r);
	/* Its last answer given, the client that had said all goes. */
	ck_assert_ptr_null(tc_line_within(weof, T_STEP));
	ck_assert(weof->eof);

	tc_free(wf);
	tc_free(wk);
	tc_free(t_timeout);
	tc_free(t_past);
	tc_free(weof);
	tc_free(batch);
	tc_free(z);
}
END_TEST

/* --- undone --------------------------------------------------------------- */

/*
 * While handed over nothing is read or accepted; undone, everything goes
 * on: the partial line, the wait, the queued event, a new peer.
 */
START_TEST(test_abort)
{
	struct tc	*wf, *part, *sub, *z;
	struct client	*c;
	json_t		*desc, *r;
	size_t		 n;
	int		 queued;

	wf = tc_waiting(1, "f");
	part = tc_open();
	tc_send(part, "{\"jsonrpc\":\"2.0\",\"id\":5,");
	ho_wait_for(ho_is_mid_line, part, "mid-line");
	sub = tc_open();
	json_decref(tc_call(sub, "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"method\":\"subscribe\"}\n"));
	ho_set_flag("g", true);

	ck_assert_ptr_nonnull(desc = control_handover());
	ho_check_cloexec(desc, false);
	ck_assert_ptr_null(control_handover());	/* once */
	n = ho_nclients();
	z = xcalloc(1, sizeof(*z));
	z->fd = ho_connect_sock();
	tc_send(part, "\"method\":\"ping\"}\n");
	ho_pump_ready();
	/* Not accepted, not read: the bytes wait in the kernel. */
	ck_assert_uint_eq(ho_nclients(), n);
	ck_assert_int_eq(ioctl(part->sfd, FIONREAD, &queued), 0);
	ck_assert_int_gt(queued, 0);
	ck_assert(!ho_readable(sub));

	control_handover_abort();
	ho_check_cloexec(desc, true);
	json_decref(desc);
	ho_check_pong(tc_line(part), 5);
	r = tc_line(sub);
	ck_assert_str_eq(json_string_value(json_object_get(r, "method")),
	    "event");
	json_decref(r);
	ck_assert_msg(ho_pump_until(ho_more_clients, &n, T_STEP),
	    "not accepted");
	r = tc_call(z, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"flag.set\","
	    "\"params\":{\"name\":\"f\",\"value\":true}}\n");
	ck_assert_int_eq(ho_id_of(r), 2);
	json_decref(r);
	r = tc_line(wf);
	ho_check_flag(json_object_get(r, "result"), "f", true);
	json_decref(r);
	ck_assert_ptr_nonnull(c = ho_server(part));
	ck_assert(c->reading);

	tc_free(wf);
	tc_free(part);
	tc_free(sub);
	tc_free(z);
}
END_TEST

static Suite *
handover_suite(void)
{
	TCase	*tc;
	Suite	*s = handoversuite_new("handover", &tc);

	tcase_add_test(tc, test_round_trip_waits);
	tcase_add_test(tc, test_abort);
	return s;
}

SUITE_MAIN(handover_suite)
