/*
 * check_handover_reexec.c: the reexec method around a handover
 * (handovertest.h): the call a new image answers on the same connection,
 * done or failed, and the method's parameters and role.
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

/* --- reexec calls --------------------------------------------------------- */

static struct tc	*t_reexec;

/* Give the client a reexec call, as m_reexec would have made it. */
static void
add_reexec_call(json_t *desc)
{
	json_t	*rpc = json_object_get(ho_desc_of(desc, t_reexec), "rpc");
	json_t	*calls = json_object_get(rpc, "calls");

	json_array_append_new(calls, json_pack("{s:i,s:s}", "id", 77, "kind",
	    "reexec"));
}

/* The new image answers the reexec call on the same connection. */
START_TEST(test_reexec_done)
{
	json_t	*desc, *result, *r;

	t_reexec = tc_open();
	desc = ho_handover(NULL, add_reexec_call);
	ho_adopt(desc);
	json_decref(desc);
	ck_assert_uint_eq(ho_server(t_reexec)->npending, 1);
	/* It counts as a call awaiting its answer, and it still is. */
	ho_check_pong(tc_call(t_reexec, PING(1) "\n"), 1);
	result = json_pack("{s:i,s:s,s:s,s:s,s:f,s:i,s:i}", "pid",
	    (int)getpid(), "binary", "/usr/bin/warden", "version_before", "0.9",
	    "version", "1.0", "took_ms", 12.5, "workers", 0, "clients", 1);
	rpc_reexec_done(result);
	r = tc_line(t_reexec);
	ck_assert_int_eq(ho_id_of(r), 77);
	ck_assert_msg(json_equal(json_object_get(r, "result"), result),
	    "the result is not the one given");
	json_decref(r);
	json_decref(result);
	ck_assert_uint_eq(ho_server(t_reexec)->npending, 0);
	tc_free(t_reexec);
}
END_TEST

/* A reexec that fails: every waiting call gets the reason. */
START_TEST(test_reexec_failed)
{
	json_t	*desc, *r;

	t_reexec = tc_open();
	desc = ho_handover(NULL, add_reexec_call);
	ho_adopt(desc);
	json_decref(desc);
	rpc_reexec_failed("/usr/bin/warden: not a warden (\xff)");
	r = tc_line(t_reexec);
	ho_check_error(r, 77, RPC_REEXEC_FAILED, "reexec_failed");
	ck_assert_str_eq(ho_message_of(r), "/usr/bin/warden: not a warden (?)");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(
	    json_object_get(r, "error"), "data"), "reason")),
	    "/usr/bin/warden: not a warden (?)");
	json_decref(r);
	ck_assert_uint_eq(ho_server(t_reexec)->npending, 0);
	tc_free(t_reexec);
}
END_TEST

/* --- the reexec method ---------------------------------------------------- */

static struct tc	*t_read, *t_operate;

static void
edit_roles(json_t *desc)
{
	json_object_set_new(ho_desc_of(desc, t_read), "role",
	    json_string("read"));
	json_object_set_new(ho_desc_of(desc, t_operate), "role",
	    json_string("operate"));
}

#define REEXEC(params) "{\"jsonrpc\":\"2.0\",\"id\":1," \
	"\"method\":\"reexec\",\"params\":" params "}\n"

/*
 * Its parameters, and its role: an admin's call is taken (and refused
 * here, where no reexec can be under way); a reader's and an operator's
 * are forbidden, before anything else.
 */
START_TEST(test_reexec_method)
{
	static const struct {
		const char	*line;
		const char	*word;	/* the message names it */
	} invalid[] = {
		{ REEXEC("{\"binary\":5}"), "'binary'" },
		{ REEXEC("{\"binary\":null}"), "'binary'" },
		{ REEXEC("{\"binary\":\"\"}"), "'binary'" },
		{ REEXEC("{\"binary\":\"bin/warden\"}"), "'binary'" },
		{ REEXEC("{\"binary\":\"/w\",\"now\":true}"), "'now'" },
		{ REEXEC("[]"), "'params'" },
	};
	struct tc	*admin;
	json_t		*desc, *r;
	size_t		 i;

	admin = tc_open();
	for (i = 0; i < nitems(invalid); i++) {
		r = tc_call(admin, invalid[i].line);
		ho_check_error(r, 1, RPC_INVALID_PARAMS, "invalid_params");
		ck_assert_msg(strstr(ho_message_of(r), invalid[i].word) != NULL,
		    "%s: %s", invalid[i].line, ho_message_of(r));
		json_decref(r);
	}
	/* Refused at once: the file is no binary to run. */
	r = tc_call(admin, REEXEC("{\"binary\":\"/nonexistent/warden\"}"));
	ck_assert_msg(ho_code_of(r) == RPC_INVALID_PARAMS &&
	    strstr(ho_message_of(r), "No such file") != NULL,
	    "reexec of a missing binary: %s", json_dumps(r, JSON_COMPACT));
	ck_assert_int_eq(ho_id_of(r), 1);
	json_decref(r);
	ck_assert_uint_eq(ho_server(admin)->npending, 0);

	t_read = tc_open();
	t_operate = tc_open();
	desc = ho_handover(NULL, edit_roles);
	ho_adopt(desc);
	json_decref(desc);
	r = tc_call(t_read, REEXEC("{\"binary\":\"/nonexistent/warden\"}"));
	ho_check_error(r, 1, RPC_FORBIDDEN, "forbidden");
	ck_assert_str_eq(ho_message_of(r), "reexec needs the admin role");
	json_decref(r);
	/* Forbidden first: invalid params do not give it away. */
	r = tc_call(t_operate, REEXEC("{\"binary\":5}"));
	ho_check_error(r, 1, RPC_FORBIDDEN, "forbidden");
	json_decref(r);
	/* The role went over: ping still works for the reader. */
	ho_check_pong(tc_call(t_read, PING(2) "\n"), 2);
	tc_free(admin);
	tc_free(t_read);
	tc_free(t_operate);
}
END_TEST

static Suite *
handover_reexec_suite(void)
{
	TCase	*tc;
	Suite	*s = handoversuite_new("handover_reexec", &tc);

	tcase_add_test(tc, test_reexec_done);
	tcase_add_test(tc, test_reexec_failed);
	tcase_add_test(tc, test_reexec_method);
	return s;
}

SUITE_MAIN(handover_reexec_suite)
