/*
 * check_roles.c: who may do what on the control socket (SPEC 5 "Roles"),
 * with the real daemon: every method of rpc.c's table is called by a peer
 * of each role (rolestest.h); a refusal must be -32002 "forbidden", logged
 * with the peer's uid and pid, and change nothing at all. Roles follow the
 * access lists after a reload, and belong to the peer as it was when it
 * connected (not to whoever has its pid later).
 *
 * The tests run as root (they need setuid); as another user the suite
 * says so and passes nothing but that. JSON in the tests is written with
 * ' for "; dq() turns it into JSON.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "pidtake.h"
#include "rolestest.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

/* --- 1. read: anyone who can connect --------------------------------------- */

START_TEST(test_read_peer)
{
	struct harness	 h;
	json_t		*answers, *r;
	const char	*name;
	size_t		 i;

	if (!is_root())
		return;
	start_roles(&h);

	/* Every read method works for a peer listed nowhere. */
	answers = peer_calls(&h, &id_nobody, read_calls, nitems(read_calls),
	    NULL);
	for (i = 0; i < nitems(read_calls); i++)
		check_ok(json_array_get(answers, i), (long long)i + 1,
		    read_calls[i].method, UID_NOBODY);
	/* And answers what it should: these are real answers. */
	r = json_object_get(json_array_get(answers, 0), "result");
	ck_assert_str_eq(json_string_value(r), "pong");
	r = json_object_get(json_array_get(answers, 2), "result");
	ck_assert_msg(json_array_size(json_object_get(r, "services")) == 1,
	    "status of a: %s", dump(r));
	r = json_object_get(json_array_get(answers, 6), "result");
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "f1");
	r = json_object_get(json_array_get(answers, 8), "result");
	name = json_string_value(json_object_get(r, "name"));
	ck_assert_msg(name != NULL && strcmp(name, h.table) == 0,
	    "table.info: %s", dump(r));
	json_decref(answers);

	/* Every operate and admin method is refused and changes nothing. */
	setup_changeable(&h);
	check_all_forbidden(&h, &id_nobody, operate_calls,
	    nitems(operate_calls));
	check_all_forbidden(&h, &id_nobody, admin_calls, nitems(admin_calls));
	/* The refused reload did not happen: c is unknown. */
	ck_assert_ptr_null(harness_service(&h, "c"));
	stop(&h);
}
END_TEST

/* The role is checked before anything else: bad params, batches. */
START_TEST(test_read_peer_refused_first)
{
	static const struct call logged[] = { { "flag.set", NULL },
	    { "service.kill", NULL }, { "shutdown", NULL },
	    { "table.delete", NULL } };
	struct harness	 h;
	json_t		*msgs, *report, *answers, *batch, *before;
	const json_t	*a;
	pid_t		 peer;
	char		*s;

	if (!is_root())
		return;
	start_roles(&h);
	ck_assert_int_eq(harness_wait_recovered(&h, T_WAIT), 0);
	before = snapshot(&h);
	harness_log_mark(&h);

	msgs = json_array();
	/* Params that would be invalid: still "forbidden", not a hint. */
	json_array_append_new(msgs, rpc_request(1, "flag.set", "{'bogus': 1}"));
	json_array_append_new(msgs, rpc_request(2, "service.kill",
	    "{'service': 'nosuch'}"));
	/* A batch: the read member is served, the others refused, in order. */
	batch = json_array();
	json_array_append_new(batch, rpc_request(3, "ping", NULL));
	json_array_append_new(batch, rpc_request(4, "shutdown", NULL));
	json_array_append_new(batch, rpc_request(5, "flag.set",
	    "{'name': 'f1', 'value': true}"));
	json_array_append_new(batch, rpc_request(6, "table.delete", NULL));
	json_array_append_new(msgs, batch);
	report = as_peer(&h, &id_nobody, msgs);
	peer = (pid_t)json_integer_value(json_object_get(report, "pid"));
	answers = json_object_get(report, "answers");
	s = dump(report);
	ck_assert_msg(json_array_size(answers) == 3, "%s", s);
	free(s);
	check_forbidden(json_array_get(answers, 0), 1, "flag.set", UID_NOBODY);
	check_forbidden(json_array_get(answers, 1), 2, "service.kill",
	    UID_NOBODY);
	a = json_array_get(answers, 2);
	s = dump(a);
	ck_assert_msg(json_array_size(a) == 4, "batch: %s", s);
	free(s);
	check_ok(json_array_get(a, 0), 3, "ping", UID_NOBODY);
	check_forbidden(json_array_get(a, 1), 4, "shutdown", UID_NOBODY);
	check_forbidden(json_array_get(a, 2), 5, "flag.set", UID_NOBODY);
	check_forbidden(json_array_get(a, 3), 6, "table.delete", UID_NOBODY);
	json_decref(report);
	ck_assert(harness_pid_alive(h.pid));
	check_unchanged(&h, before, "a refused batch");
	check_refusals_logged(&h, logged, nitems(logged), UID_NOBODY, peer);
	stop(&h);
}
END_TEST

/* --- 2. operate by uid ----------------------------------------------------- */

static const json_t *
flag_in(const json_t *flags, const char *name)
{
	const json_t	*f;
	size_t		 i;

	json_array_foreach(flags, i, f)
		if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0)
			return f;
	return NULL;
}

/*
 * Every operate method as who, each checked for its effect; who is an
 * operator by uid or by group.
 */
static void
check_operate_works(struct harness *h, const struct ident *who)
{
	static const struct call calls[] = {
		{ "service.stop", "{'service': 'b'}" },
		{ "service.start", "{'service': 'b'}" },
		{ "service.restart", "{'service': 'a'}" },
		{ "service.kill", "{'service': 'b', 'signal': 'TERM'}" },
		{ "flag.set", "{'name': 'f2', 'value': 30, 'reason': 'op'}" },
		{ "flag.reset", "{'name': 'f2'}" },
		{ "stage.set", "{'stage': 2}" },
		{ "stage.rollback", "{'stage': 1}" },
		{ "stage.emergency", "{'reason': 'op'}" },
	};
	json_t		*answers, *r;
	const json_t	*k, *f;
	pid_t		 a0, b0, b1, peer;
	size_t		 i;
	char		*s;

	ck_assert_int_eq(harness_wait_recovered(h, T_WAIT), 0);
	r = harness_service(h, "b");
	ck_assert_ptr_nonnull(r);
	if (strcmp(json_string_value(json_object_get(r, "state")), "running")
	    != 0)
		json_decref(root_result(h, "service.start", "{'service': 'b'}"));
	json_decref(r);
	a0 = pid_of(h, "a");
	b0 = pid_of(h, "b");
	answers = peer_calls(h, who, calls, nitems(calls), &peer);
	s = dump(answers);
	for (i = 0; i < nitems(calls); i++)
		check_ok(json_array_get(answers, i), (long long)i + 1,
		    calls[i].method, who->uid);

#define RES(i)	json_object_get(json_array_get(answers, (i)), "result")
	r = RES(0);
	ck_assert_msg(strcmp(json_string_value(json_object_get(r, "state")),
	    "stopped") == 0, "service.stop: %s", s);
	r = RES(1);
	ck_assert_msg(strcmp(json_string_value(json_object_get(r, "state")),
	    "running") == 0, "service.start: %s", s);
	b1 = (pid_t)json_integer_value(json_object_get(r, "pid"));
	ck_assert_msg(b1 > 0 && b1 != b0, "service.start: %s", s);
	r = RES(2);
	ck_assert_msg((pid_t)json_integer_value(json_object_get(r, "pid")) !=
	    a0 && json_integer_value(json_object_get(r, "pid")) > 0,
	    "service.restart: %s", s);
	r = RES(3);
	k = json_object_get(r, "killed");
	ck_assert_msg(json_array_size(k) == 1 && strcmp(json_string_value(
	    json_object_get(json_array_get(k, 0), "service")), "b") == 0 &&
	    json_integer_value(json_object_get(json_array_get(k, 0), "pid")) ==
	    b1, "service.kill: %s", s);
	r = RES(4);
	ck_assert_msg(json_integer_value(json_object_get(r, "value")) == 30,
	    "flag.set: %s", s);
	r = RES(5);
	f = flag_in(json_object_get(r, "flags"), "f2");
	ck_assert_msg(f != NULL && json_is_false(json_object_get(f, "value")),
	    "flag.reset: %s", s);
	ck_assert_msg(json_integer_value(json_object_get(RES(6), "stage")) == 2,
	    "stage.set: %s", s);
	ck_assert_msg(json_integer_value(json_object_get(RES(7), "stage")) == 1,
	    "stage.rollback: %s", s);
	ck_assert_msg(json_integer_value(json_object_get(RES(8), "stage")) == 0,
	    "stage.emergency: %s", s);
#undef RES
	free(s);
	json_decref(answers);

	/* Who did it is on record: the peer, not warden or root. */
	r = root_result(h, "flag.get", "{'name': 'f1'}");
	s = dump(r);
	k = json_object_get(r, "changed_by");
	ck_assert_msg(json_integer_value(json_object_get(k, "uid")) ==
	    (json_int_t)who->uid && json_integer_value(json_object_get(k,
	    "pid")) == peer, "changed_by: %s (peer pid %ld)", s, (long)peer);
	free(s);
	json_decref(r);
	ck_assert_int_eq(harness_wait_recovered(h, T_WAIT), 0);
}

START_TEST(test_operate_uid)
{
	struct harness	 h;

	if (!is_root())
		return;
	start_roles(&h);
	check_all_ok(&h, &id_operate, read_calls, nitems(read_calls));
	check_operate_works(&h, &id_operate);
	setup_changeable(&h);
	check_all_forbidden(&h, &id_operate, admin_calls, nitems(admin_calls));
	ck_assert_ptr_null(harness_service(&h, "c"));
	stop(&h);
}
END_TEST

/* --- 3. admin by uid -------------------------------------------------------- */

/* A call as who whose result says key: true; the peer's pid in *pidp. */
static void
roles_peer_true(struct harness *h, const struct ident *who,
    const char *method, const char *key, pid_t *pidp)
{
	json_t	*r = peer_result(h, who, method, NULL, pidp);

	ck_assert_msg(json_is_true(json_object_get(r, key)), "%s: %s",
	    method, dump(r));
	json_decref(r);
}

/* table.corrupt as who: warden repairs it, its repairs counted so far. */
static void
roles_corrupt_repaired(struct harness *h, const struct ident *who,
    int repairs)
{
	json_t	*r;

	roles_peer_true(h, who, "table.corrupt", "corrupted", NULL);
	ck_assert_int_eq(harness_wait_recovered(h, T_WAIT), 0);
	r = root_result(h, "table.info", NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "repairs")),
	    repairs);
	json_decref(r);
}

/* config.reload as who, of a file that adds c: c runs. */
static void
roles_reload_adds_c(struct harness *h, const struct ident *who)
{
	json_t	*r = peer_result(h, who, "config.reload", NULL, NULL);
	json_t	*added = json_object_get(r, "added");

	ck_assert_msg(json_array_size(added) == 1 &&
	    json_string_value(json_array_get(added, 0)) != NULL &&
	    strcmp(json_string_value(json_array_get(added, 0)), "c") == 0,
	    "reload: %s", dump(r));
	json_decref(r);
	wait_state(h, "c", "running");
}

/* shutdown as who: warden stops everything and exits 0. */
static void
roles_shutdown_by(struct harness *h, const struct ident *who, pid_t *pidp)
{
	roles_peer_true(h, who, "shutdown", "stopping", pidp);
	ck_assert_int_eq(harness_wait_exit(h, HARNESS_STOP_TIMEOUT), 0);
}

START_TEST(test_admin_uid)
{
	struct harness	 h;
	json_t		*r;
	ino_t		 ino;
	pid_t		 peer;

	if (!is_root())
		return;
	start_roles(&h);
	check_all_ok(&h, &id_admin, read_calls, nitems(read_calls));
	check_operate_works(&h, &id_admin);

	/* table.delete: the object goes, warden puts a new one in place. */
	ino = table_ino(&h);
	ck_assert_msg(ino != 0, "no table %s", h.table);
	roles_peer_true(&h, &id_admin, "table.delete", "deleted", &peer);
	ck_assert_int_eq(harness_wait_log(&h, "table.delete by uid 40002",
	    T_WAIT), 0);
	ck_assert_int_eq(harness_wait_recovered(&h, T_WAIT), 0);
	r = root_result(&h, "table.info", NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "repairs")), 1);
	json_decref(r);
	ck_assert_msg(table_ino(&h) != 0 && table_ino(&h) != ino,
	    "the table was not replaced");

	roles_corrupt_repaired(&h, &id_admin, 2);

	/* config.reload: the file now has c. */
	{
		char	*text = cfg(conf_roles, conf_c);

		ck_assert_int_eq(harness_write_config(&h, text), 0);
		free(text);
	}
	roles_reload_adds_c(&h, &id_admin);

	roles_shutdown_by(&h, &id_admin, &peer);
	{
		char	text[128];

		snprintf(text, sizeof(text), "shutdown by uid %d pid %ld (",
		    UID_ADMIN, (long)peer);
		ck_assert_int_eq(harness_wait_log(&h, text, T_WAIT), 0);
	}
	stop(&h);
}
END_TEST

/* --- 4. roles by supplementary group --------------------------------------- */

START_TEST(test_operate_group)
{
	struct harness	 h;
	struct ident	 grouped = { UID_GROUPED, GID_NOGROUP, { 0 }, 1 };
	struct ident	 plain = { UID_GROUPED, GID_NOGROUP, { 0 }, 0 };
	static const struct call flag_set[] = {
		{ "flag.set", "{'name': 'f1', 'value': true}" } };
	gid_t		 gid;

	if (!is_root() || (gid = group_gid(GROUP_OPERATE)) == (gid_t)-1)
		return;
	ck_assert_msg(gid != GID_NOGROUP, "the group must not be primary");
	grouped.groups[0] = gid;
	start_roles(&h);

	/* Without the group the same uid may only read. */
	check_all_ok(&h, &plain, read_calls, nitems(read_calls));
	setup_changeable(&h);
	check_all_forbidden(&h, &plain, flag_set, nitems(flag_set));

	/* With it as a supplementary group (not the primary one): operate. */
	check_all_ok(&h, &grouped, read_calls, nitems(read_calls));
	check_operate_works(&h, &grouped);
	/* But not admin. */
	setup_changeable(&h);
	check_all_forbidden(&h, &grouped, admin_calls, nitems(admin_calls));
	stop(&h);
}
END_TEST

START_TEST(test_admin_group)
{
	struct harness	 h;
	struct ident	 grouped = { UID_GROUPED, GID_NOGROUP, { 0 }, 1 };
	gid_t		 gid;

	if (!is_root() || (gid = group_gid(GROUP_ADMIN)) == (gid_t)-1)
		return;
	grouped.groups[0] = gid;
	start_roles(&h);
	check_operate_works(&h, &grouped);
	roles_corrupt_repaired(&h, &grouped, 1);
	roles_shutdown_by(&h, &grouped, NULL);
	stop(&h);
}
END_TEST

/* --- 5. root ----------------------------------------------------------------- */

START_TEST(test_root_everything)
{
	struct harness	 h;
	const struct ident root = { 0, 0, { 0 }, 0 };

	if (!is_root())
		return;
	start_roles(&h);
	check_all_ok(&h, &root, read_calls, nitems(read_calls));
	setup_changeable(&h);
	/* The very calls others were refused, as they are, all served. */
	check_all_ok(&h, &root, operate_calls, nitems(operate_calls));
	ck_assert_int_eq(harness_wait_recovered(&h, T_WAIT), 0);

	roles_peer_true(&h, &root, "table.delete", "deleted", NULL);
	ck_assert_int_eq(harness_wait_recovered(&h, T_WAIT), 0);
	roles_corrupt_repaired(&h, &root, 2);
	roles_reload_adds_c(&h, &root);
	roles_shutdown_by(&h, &root, NULL);
	stop(&h);
}
END_TEST

/* --- 6. access lists at reload --------------------------------------------- */

START_TEST(test_reload_access)
{
	struct harness	 h;
	static const struct call flag_set[] = {
		{ "flag.set", "{'name': 'f1', 'value': true}" } };
	char		*text;

	if (!is_root())
		return;
	start_roles(&h);
	check_all_ok(&h, &id_operate, flag_set, nitems(flag_set));
	check_all_forbidden(&h, &id_nobody, flag_set, nitems(flag_set));

	/* The lists swap: 40001 loses operate, nobody gains it. */
	text = cfg(conf_roles_swapped, "");
	ck_assert_int_eq(harness_write_config(&h, text), 0);
	free(text);
	json_decref(root_result(&h, "config.reload", NULL));

	check_all_forbidden(&h, &id_operate, flag_set, nitems(flag_set));
	check_all_ok(&h, &id_nobody, flag_set, nitems(flag_set));
	stop(&h);
}
END_TEST

/* --- 6b. groups as they were at connect time --------------------------------- */

/* In the child: take who's credentials (a struct ident). */
static int
roles_become(const void *arg)
{
	const struct ident	*who = arg;

	if (setgroups((size_t)who->ngroups, who->groups) == -1 ||
	    setgid(who->gid) == -1 || setuid(who->uid) == -1)
		return -1;
	return 0;
}

/*
 * The role belongs to the peer that connected (SO_PEERCRED), with the
 * groups it had then. A peer without the group connects while warden is
 * busy (stopped here, to make the moment last), hands the connection on
 * and exits; its pid goes to a process that is in the operate group. When
 * warden gets to the connection, the peer is still nobody without groups:
 * read, and nothing more.
 */
START_TEST(test_groups_at_connect_time)
{
	struct harness		 h;
	struct sockaddr_un	 sun;
	struct harness_conn	*c;
	struct ident		 member = { UID_GROUPED, GID_NOGROUP, { 0 }, 1 };
	json_t			*resp;
	pid_t			 peer, heir;
	gid_t			 gid;
	char			*s, text[128];
	int			 fd, st;

	if (!is_root() || (gid = group_gid(GROUP_OPERATE)) == (gid_t)-1)
		return;
	member.groups[0] = gid;
	start_roles(&h);
	ck_assert_int_eq(harness_signal(&h, SIGSTOP), 0);

	/* The socket is ours; a child of nobody's makes the connection. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(h.sock), sizeof(sun.sun_path));
	memcpy(sun.sun_path, h.sock, strlen(h.sock));
	fflush(NULL);
	peer = fork();
	ck_assert_int_ne(peer, -1);
	if (peer == 0) {
		if (setgroups(0, NULL) == -1 || setgid(GID_NOGROUP) == -1 ||
		    setuid(UID_NOBODY) == -1)
			_exit(1);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			_exit(2);
		_exit(0);
	}
	while (waitpid(peer, &st, 0) == -1)
		ck_assert_int_eq(errno, EINTR);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the peer could not connect (%#x)", st);

	heir = pidtake_fork_at(peer, roles_become, &member);
	ck_assert_int_eq(harness_signal(&h, SIGCONT), 0);
	if (heir == -1) {
		fprintf(stderr, "check_roles: pid reuse not arranged; the "
		    "connect-time groups not tested\n");
		close(fd);
		stop(&h);
		return;
	}

	c = harness_conn_wrap(fd);
	ck_assert_ptr_nonnull(c);
	ck_assert(harness_conn_request(c, "flag.set",
	    js("{'name': 'f1', 'value': true}")) != -1);
	resp = harness_read_response(c, 1, HARNESS_CALL_TIMEOUT);
	s = dump(resp);
	ck_assert_msg(resp != NULL, "no answer");
	snprintf(text, sizeof(text), "uid %d pid %ld, role", UID_NOBODY,
	    (long)peer);
	ck_assert_int_eq(harness_wait_log(&h, text, T_WAIT), 0);
	pidtake_end(heir);
	ck_assert_msg(harness_error_code(resp) == -32002, "nobody (pid %ld, "
	    "exited) got the role of pid %ld's new owner (uid %d, group %s): "
	    "%s", (long)peer, (long)heir, UID_GROUPED, GROUP_OPERATE, s);
	free(s);
	json_decref(resp);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

static Suite *
roles_suite(void)
{
	Suite	*s = suite_create("roles");
	TCase	*tc = tcase_create("roles");

	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_read_peer);
	tcase_add_test(tc, test_read_peer_refused_first);
	tcase_add_test(tc, test_operate_uid);
	tcase_add_test(tc, test_admin_uid);
	tcase_add_test(tc, test_operate_group);
	tcase_add_test(tc, test_admin_group);
	tcase_add_test(tc, test_root_everything);
	tcase_add_test(tc, test_reload_access);
	tcase_add_test(tc, test_groups_at_connect_time);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(roles_suite)
