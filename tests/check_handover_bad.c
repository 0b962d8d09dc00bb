/*
 * check_handover_bad.c: descriptions a new image must refuse
 * (handovertest.h). Each wrong one, in every way we can think of, is an
 * error naming what is wrong, leaves nothing behind and closes nothing:
 * the good one is adopted after them all, and its clients go on.
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

/* --- descriptions that are wrong ------------------------------------------ */

/*
 * One change to a good description each: a member removed (value NULL),
 * or set to a JSON text or to one of these fds: $pipe (not a socket),
 * $dgram (a datagram socket), $conn (a connected socket), $listen (the
 * listening one), $closed (no fd at all); $uid1 is a uid not the peer's,
 * $dup a second client on the first one's fd. Path "" is the whole.
 */
#define C0	"clients.0."		/* paths in the first client */
#define CALL0	C0 "rpc.calls.0."	/* ... in its first call */
#define E0	"clients[0]."		/* the same, in messages */
#define EC0	E0 "rpc.calls[0]."

static const struct bad {
	const char	*path;
	const char	*value;
	const char	*expect;
} bad[] = {
	{ "", "[]", "control: must be an object" },
	{ "listen_fd", NULL, "control.listen_fd: missing" },
	{ "listen_fd", "\"5\"", "control.listen_fd: must be an integer" },
	{ "listen_fd", "-1", "control.listen_fd: must be an integer from 0" },
	{ "listen_fd", "$pipe", "is not a socket" },
	{ "listen_fd", "$dgram", "is not a local stream socket" },
	{ "listen_fd", "$conn", "is not listening" },
	{ "listen_fd", "$closed", "Bad file descriptor" },
	{ "path", "\"/elsewhere/w.sock\"", "is bound to" },
	{ "path", "7", "control.path: must be a non-empty string" },
	{ "next_id", "0", "control.next_id: must be" },
	{ "clients", "{}", "control.clients: must be an array" },
	{ "clients.0", "3", "clients[0]: must be an object" },
	{ C0 "fd", NULL, E0 "fd: missing" },
	{ C0 "fd", "-1", E0 "fd: must be an integer" },
	{ C0 "fd", "true", E0 "fd: must be an integer" },
	{ C0 "fd", "$pipe", "is not a socket" },
	{ C0 "fd", "$dgram", "is not a local stream socket" },
	{ C0 "fd", "$listen", "is the listening socket" },
	{ C0 "fd", "$closed", "Bad file descriptor" },
	{ "clients.1", "$dup", "clients[1].fd: fd" },
	{ C0 "id", "0", E0 "id: must be" },
	{ C0 "uid", "$uid1", "has a peer of uid" },
	{ C0 "uid", "\"root\"", E0 "uid: must be" },
	{ C0 "gid", NULL, E0 "gid: missing" },
	{ C0 "pid", "-2", E0 "pid: must be" },
	{ C0 "role", "\"root\"", E0 "role: must be read, operate" },
	{ C0 "role", "2", E0 "role: must be a non-empty string" },
	{ C0 "subscribed", "\"yes\"", E0 "subscribed: must be true" },
	{ C0 "topics", "\"all\"", E0 "topics: must be null or" },
	{ C0 "topics", "[1]", E0 "topics: must be null or" },
	{ C0 "topics", NULL, E0 "topics: missing" },
	{ C0 "dropped", "-1", E0 "dropped: must be" },
	{ C0 "eof", "null", E0 "eof: must be true" },
	{ C0 "reading", NULL, E0 "reading: missing" },
	{ C0 "closing", "true", E0 "close_deadline_ms" },
	{ C0 "close_deadline_ms", "{}", E0 "close_deadline_ms: must" },
	{ C0 "line_deadline_ms", "\"soon\"", E0 "line_deadline_ms" },
	{ C0 "input", "\"@@@@\"", E0 "input: must be a base64" },
	{ C0 "input", "\"abc\"", E0 "input: must be a base64" },
	{ C0 "input", "\"a===\"", E0 "input: must be a base64" },
	{ C0 "output", "5", E0 "output: must be a base64" },
	{ C0 "output", NULL, E0 "output: missing" },
	{ C0 "rpc", NULL, E0 "rpc: missing" },
	{ C0 "rpc", "[]", E0 "rpc: must be an object" },
	{ C0 "rpc.calls", "{}", E0 "rpc.calls: must be an array" },
	{ C0 "rpc.calls", "[]", E0 "rpc.batches[0]: no call" },
	{ C0 "rpc.batches", NULL, E0 "rpc.batches: missing" },
	{ C0 "rpc.batches.0", "\"x\"", E0 "rpc.batches[0]: must" },
	{ C0 "rpc.batches", "[[null]]", E0 "rpc.batches[0]: must" },
	{ C0 "rpc.calls.0", "\"wait\"", E0 "rpc.calls[0]: must be an object" },
	{ CALL0 "id", "{}", EC0 "id: must be" },
	{ CALL0 "kind", NULL, EC0 "kind: missing" },
	{ CALL0 "kind", "\"nap\"", EC0 "kind: must be" },
	{ CALL0 "kind", "\"settle\"", EC0 "service: missing" },
	{ CALL0 "kind", "\"observe\"", E0 "rpc.calls[0]: want {generation, "
	    "started_ms, deadline_ms, result}" },
	{ C0 "rpc.calls.0", "{\"kind\":\"settle\",\"services\":[]}",
	  EC0 "services: must not be empty" },
	{ C0 "rpc.calls.0", "{\"kind\":\"settle\",\"services\":[\"a\",2]}",
	  EC0 "services[1]: must be a string" },
	{ C0 "rpc.calls.0", "{\"kind\":\"settle\",\"services\":\"a\"}",
	  EC0 "services: must be" },
	{ CALL0 "condition", "[]", EC0 "condition: must be an object" },
	{ CALL0 "condition", "{\"flag\":3}", EC0 "condition: 'flag' must be" },
	{ CALL0 "condition", "{\"no\":1}", EC0 "condition: a condition is" },
	{ CALL0 "timeout_ms", "-5", EC0 "timeout_ms: must" },
	{ CALL0 "timeout_ms", NULL, EC0 "timeout_ms: missing" },
	{ CALL0 "deadline_ms", "\"soon\"", EC0 "deadline_ms" },
	{ CALL0 "batch", "7", EC0 "batch: must be" },
	{ CALL0 "batch", NULL, EC0 "batch: missing" },
	{ CALL0 "slot", "0", EC0 "slot: already answered" },
	{ CALL0 "slot", "2", EC0 "slot: must be" },
	{ CALL0 "slot", "\"1\"", EC0 "slot: must be" },
};

static int	fd_pipe = -1, fd_dgram = -1, fd_conn = -1, fd_closed = -1;

static json_t *
bad_value(const struct bad *b, json_t *desc)
{
	json_error_t	 jerr;
	json_t		*v;
	const char	*s = b->value;

	if (strcmp(s, "$pipe") == 0)
		return json_integer(fd_pipe);
	if (strcmp(s, "$dgram") == 0)
		return json_integer(fd_dgram);
	if (strcmp(s, "$conn") == 0)
		return json_integer(fd_conn);
	if (strcmp(s, "$closed") == 0)
		return json_integer(fd_closed);
	if (strcmp(s, "$listen") == 0)
		return json_incref(json_object_get(desc, "listen_fd"));
	if (strcmp(s, "$uid1") == 0)
		return json_integer((json_int_t)getuid() + 1);
	if (strcmp(s, "$dup") == 0)
		return json_deep_copy(json_array_get(json_object_get(desc,
		    "clients"), 0));
	v = json_loads(s, JSON_DECODE_ANY, &jerr);
	ck_assert_msg(v != NULL, "bad JSON in the test: %s", s);
	return v;
}

/* desc with one change; a new reference. */
static json_t *
bad_desc(const struct bad *b, json_t *desc)
{
	json_t	*d = json_deep_copy(desc), *cur = d, *v;
	char	*path, *key, *dot;

	if (b->path[0] == '\0') {
		json_decref(d);
		return bad_value(b, desc);
	}
	path = xstrdup(b->path);
	for (key = path; (dot = strchr(key, '.')) != NULL; key = dot + 1) {
		*dot = '\0';
		cur = json_is_array(cur) ? json_array_get(cur,
		    strtoul(key, NULL, 10)) : json_object_get(cur, key);
		ck_assert_msg(cur != NULL, "%s: not in the description",
		    b->path);
	}
	v = b->value != NULL ? bad_value(b, desc) : NULL;
	if (json_is_array(cur) && v != NULL &&
	    strtoul(key, NULL, 10) == json_array_size(cur))
		ck_assert_int_eq(json_array_append_new(cur, v), 0);
	else if (json_is_array(cur))
		ck_assert_int_eq(json_array_set_new(cur, strtoul(key, NULL, 10),
		    v), 0);
	else if (v != NULL)
		ck_assert_int_eq(json_object_set_new(cur, key, v), 0);
	else
		ck_assert_int_eq(json_object_del(cur, key), 0);
	free(path);
	return d;
}

/*
 * Each wrong description is an error naming what is wrong, leaves nothing
 * behind and closes nothing: the good one is adopted after them all.
 */
START_TEST(test_adopt_bad)
{
	struct tc	*t;
	json_t		*desc, *d, *r;
	char		 err[1024], *line;
	int		 p[2], sp[2];
	size_t		 i;

	t = tc_open();
	line = ho_wait_line(11, "h", "[" PING(10) ",", "]\n");
	tc_send(t, line);
	free(line);
	ho_wait_for(ho_has_pending, t, "waiting in a batch");
	ck_assert_int_eq(pipe(p), 0);
	fd_pipe = p[0];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sp), 0);
	fd_dgram = sp[0];
	fd_conn = ho_connect_sock();
	ck_assert_int_ne(fd_closed = dup(0), -1);
	close(fd_closed);

	desc = ho_handover(NULL, NULL);
	for (i = 0; i < nitems(bad); i++) {
		d = bad_desc(&bad[i], desc);
		err[0] = '\0';
		ck_assert_msg(control_adopt(ho_base, ho_conf, d, err,
		    sizeof(err)) == -1, "%s = %s: adopted", bad[i].path,
		    bad[i].value);
		ck_assert_msg(strstr(err, bad[i].expect) != NULL,
		    "%s = %s: \"%s\", not \"%s\"", bad[i].path,
		    bad[i].value != NULL ? bad[i].value : "(none)", err,
		    bad[i].expect);
		ck_assert_ptr_null(control_clients());
		json_decref(d);
		/* As a new image would: rpc.c from scratch. */
		rpc_free();
		rpc_init(ho_base);
	}
	ho_adopt(desc);
	json_decref(desc);
	ho_set_flag("h", true);
	r = tc_line(t);
	ck_assert_msg(json_is_array(r) && json_array_size(r) == 2,
	    "the batch is not answered whole");
	ho_check_pong(json_incref(json_array_get(r, 0)), 10);
	ho_check_flag(json_object_get(json_array_get(r, 1), "result"), "h",
	    true);
	json_decref(r);
	ho_check_pong(tc_call(t, PING(12) "\n"), 12);
	close(p[0]);
	close(p[1]);
	close(sp[0]);
	close(sp[1]);
	tc_free(t);
}
END_TEST

static Suite *
handover_bad_suite(void)
{
	TCase	*tc;
	Suite	*s = handoversuite_new("handover_bad", &tc);

	tcase_add_test(tc, test_adopt_bad);
	return s;
}

SUITE_MAIN(handover_bad_suite)
