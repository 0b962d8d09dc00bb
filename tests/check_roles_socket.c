/*
 * check_roles_socket.c: the boundaries of warden's names, with the real
 * daemon: the control socket (its mode, a live or a stale socket of
 * another warden, a file in its place) and the shared table's names taken
 * by someone else (the table's own, a symlink, the temporary name a new
 * table is built under). Peers of other uids are rolestest.h's.
 *
 * The tests run as root (they need chown and setuid); as another user the
 * suite says so and passes nothing but that.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>

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
#include "murmur3.h"
#include "rolestest.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

/*
 * Names in /dev/shm the socket tests make, from the runner's pid so that
 * the case's teardown (in the runner) can remove what a failed test left.
 */
static pid_t	runner;

static void
shm_name(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "/warden-%s-%ld", what, (long)runner);
}

/* The temporary name warden builds a table under (table.c). */
static void
shm_tmp_name(char *buf, size_t len, const char *table)
{
	snprintf(buf, len, "/.warden-%08x.new",
	    murmur3_x86_32(table, strlen(table), 0));
}

/* --- 7. the socket's mode ----------------------------------------------------- */

static void
check_socket_mode(const char *mode, mode_t want, bool nobody_connects)
{
	struct harness	 h;
	struct stat	 st;
	json_t		*msgs, *report;
	char		*text;

	text = cfg("{ 'socket_mode': '%s', 'supervisor': { 'children': [] } }",
	    mode);
	start_open(&h, text);
	free(text);
	ck_assert_int_eq(lstat(h.sock, &st), 0);
	ck_assert_msg(S_ISSOCK(st.st_mode), "%s is not a socket", h.sock);
	ck_assert_msg((st.st_mode & 07777) == want, "socket_mode %s: the "
	    "socket has mode %04o", mode, (unsigned)(st.st_mode & 07777));
	ck_assert_int_eq(st.st_uid, 0);

	msgs = json_array();
	json_array_append_new(msgs, rpc_request(1, "ping", NULL));
	report = as_peer(&h, &id_nobody, msgs);
	if (nobody_connects) {
		ck_assert_msg(json_array_size(json_object_get(report, "answers"))
		    == 1, "nobody: %s", dump(report));
		check_ok(json_array_get(json_object_get(report, "answers"), 0), 1,
		    "ping", UID_NOBODY);
	} else {
		ck_assert_msg(json_object_get(report, "answers") == NULL &&
		    strcmp(json_string_value(json_object_get(report, "step")),
		    "connect") == 0 && json_integer_value(json_object_get(report,
		    "errno")) == EACCES, "socket_mode %s: nobody connected: %s",
		    mode, dump(report));
	}
	json_decref(report);
	/* Root still can, whatever the mode. */
	json_decref(root_result(&h, "ping", NULL));
	stop(&h);
}

START_TEST(test_socket_mode)
{
	if (!is_root())
		return;
	check_socket_mode("0666", 0666, true);
	check_socket_mode("0606", 0606, true);
	check_socket_mode("0640", 0640, false);
	check_socket_mode("0600", 0600, false);
}
END_TEST

/* --- 8. another warden's socket ---------------------------------------------- */

START_TEST(test_second_warden)
{
	struct harness	 h1, h2;
	struct stat	 st1, st;
	json_t		*before;
	ino_t		 ino;
	char		*text, *log;

	if (!is_root())
		return;
	start_roles(&h1);
	ck_assert_int_eq(lstat(h1.sock, &st1), 0);
	ino = table_ino(&h1);
	ck_assert_msg(ino != 0, "no table");
	before = snapshot(&h1);

	/* The same socket and the same table: it must touch neither. */
	text = cfg("{ 'socket': '%s', 'table': '%s', "
	    "'supervisor': { 'children': [] } }", h1.sock, h1.table);
	ck_assert_int_eq(harness_start_expect_fail(&h2, text, T_WAIT), 1);
	free(text);
	log = harness_log(&h2);
	ck_assert_msg(log != NULL && strstr(log, h1.sock) != NULL &&
	    strstr(log, "another warden is answering there") != NULL,
	    "the second warden's log: %s", log != NULL ? log : "(none)");
	free(log);

	/* The first one: same socket, same table, same state, serving. */
	ck_assert(harness_pid_alive(h1.pid));
	ck_assert_int_eq(lstat(h1.sock, &st), 0);
	ck_assert_msg(st.st_ino == st1.st_ino, "the socket was replaced");
	ck_assert_msg(table_ino(&h1) == ino, "the table was replaced");
	check_unchanged(&h1, before, "a second warden");
	stop(&h1);
	/* Only now: h2's clean-up unlinks its table name, h1's. */
	harness_cleanup(&h2);
}
END_TEST

START_TEST(test_stale_socket)
{
	struct harness	 h;
	struct stat	 st;
	char		*log;

	if (!is_root())
		return;
	start_open(&h, "{ 'supervisor': { 'children': [] } }");
	ck_assert_int_eq(harness_signal(&h, SIGKILL), 0);
	ck_assert_int_eq(harness_wait_exit(&h, T_WAIT), 128 + SIGKILL);
	/* Left behind, and nobody answers there. */
	ck_assert_int_eq(lstat(h.sock, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(harness_connect(&h), -1);

	harness_log_mark(&h);
	ck_assert_msg(harness_restart(&h) == 0, "warden did not start over a "
	    "stale socket");
	/* A socket that answers: not the stale one. */
	ck_assert_int_eq(lstat(h.sock, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	json_decref(root_result(&h, "ping", NULL));
	log = harness_log(&h);
	ck_assert_msg(strstr(log + h.log_mark, "another warden") == NULL,
	    "%s", log + h.log_mark);
	free(log);
	stop(&h);
}
END_TEST

/* A file that is not a socket where the socket goes: refused, untouched. */
START_TEST(test_socket_path_taken)
{
	struct harness	 h;
	struct stat	 st;
	char		*s, *log;

	if (!is_root())
		return;
	s = dq("{ 'supervisor': { 'children': [] } }");
	ck_assert_int_eq(harness_prepare(&h, s), 0);
	free(s);
	ck_assert_int_eq(harness_write_file(&h, "warden.sock", "precious\n"), 0);
	ck_assert_int_eq(harness_spawn(&h), 0);
	ck_assert_int_eq(harness_wait_exit(&h, T_WAIT), 1);
	log = harness_log(&h);
	ck_assert_msg(strstr(log, "exists and is not a socket") != NULL,
	    "log: %s", log);
	free(log);
	ck_assert_int_eq(lstat(h.sock, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	s = harness_read_file(h.sock);
	ck_assert_str_eq(s, "precious\n");
	free(s);
	harness_cleanup(&h);
}
END_TEST

/* --- 9. the table's name taken ------------------------------------------------ */

START_TEST(test_table_squatted)
{
	struct harness	 h;
	struct stat	 st0, st;
	char		 name[64], path[PATH_MAX], want[160];
	char		*text, *log;
	int		 fd;

	if (!is_root())
		return;
	shm_name(name, sizeof(name), "squat");
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	(void)shm_unlink(name);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0644);
	ck_assert_msg(fd != -1, "shm_open %s: %s", name, strerror(errno));
	ck_assert_int_eq(fchown(fd, UID_NOBODY, GID_NOGROUP), 0);
	ck_assert_int_eq(write(fd, "mine", 4), 4);
	close(fd);
	ck_assert_int_eq(lstat(path, &st0), 0);

	/*
	 * Nobody's object, no warden behind it: a squatter's. warden (root)
	 * replaces it with its table and names the owner in its log.
	 */
	text = cfg("{ 'table': '%s', 'supervisor': { 'children': [] } }", name);
	ck_assert_int_eq(harness_start(&h, text), 0);
	free(text);
	log = harness_log(&h);
	snprintf(want, sizeof(want), "table %s: replaced an object of uid %d",
	    name, UID_NOBODY);
	ck_assert_msg(strstr(log, want) != NULL, "want \"%s\" in: %s", want,
	    log);
	free(log);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(st.st_ino != st0.st_ino && st.st_uid == 0 &&
	    (st.st_mode & 07777) == 0644);
	ck_assert_int_eq(harness_stop(&h), 0);
	(void)shm_unlink(name);
}
END_TEST

START_TEST(test_table_symlink)
{
	struct harness	 h;
	struct stat	 st;
	char		 name[64], path[PATH_MAX], target[PATH_MAX];
	char		*text, *log, *s;
	json_t		*res;
	int		 fd;

	if (!is_root())
		return;
	shm_name(name, sizeof(name), "link");
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	snprintf(target, sizeof(target), "/tmp/warden-link-target-%ld",
	    (long)runner);
	fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, "precious\n", 9), 9);
	close(fd);
	(void)unlink(path);
	ck_assert_int_eq(symlink(target, path), 0);

	/* Not followed, not replaced: warden runs without a table, says why. */
	text = cfg("{ 'table': '%s', 'supervisor': { 'children': [] } }", name);
	ck_assert_int_eq(harness_start(&h, text), 0);
	free(text);
	log = harness_log(&h);
	ck_assert_msg(strstr(log, path) != NULL &&
	    strstr(log, "is not a shared-memory object") != NULL, "log: %s", log);
	free(log);
	res = harness_result(&h, "table.info", NULL);
	ck_assert_ptr_nonnull(res);
	ck_assert(json_is_false(json_object_get(res, "available")));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(res,
	    "error")), "is not a shared-memory object"));
	json_decref(res);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	s = harness_read_file(target);
	ck_assert_str_eq(s, "precious\n");
	free(s);
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_int_eq(st.st_size, 9);
	harness_cleanup(&h);
	(void)unlink(path);
	(void)unlink(target);
}
END_TEST

/*
 * warden makes a table under a temporary name next to the real one, then
 * renames it. That name is its own business: an object another uid put
 * there (anyone may create files in /dev/shm) must keep warden neither
 * from starting nor from repairing its table, and stays untouched.
 */
static void
squat_tmp(const char *table, char *path, size_t len, struct stat *st)
{
	char	tmp[64];
	int	fd;

	shm_tmp_name(tmp, sizeof(tmp), table);
	snprintf(path, len, "/dev/shm%s", tmp);
	(void)shm_unlink(tmp);
	fd = shm_open(tmp, O_RDWR | O_CREAT | O_EXCL, 0644);
	ck_assert_msg(fd != -1, "shm_open %s: %s", tmp, strerror(errno));
	ck_assert_int_eq(fchown(fd, UID_NOBODY, GID_NOGROUP), 0);
	close(fd);
	ck_assert_int_eq(lstat(path, st), 0);
}

static void
check_squat_untouched(const char *path, const struct stat *st0)
{
	struct stat	st;

	ck_assert_msg(lstat(path, &st) == 0, "%s is gone", path);
	ck_assert_msg(st.st_ino == st0->st_ino && st.st_uid == UID_NOBODY &&
	    st.st_size == 0, "%s was changed", path);
	ck_assert_int_eq(unlink(path), 0);
}

START_TEST(test_table_tmp_squatted_start)
{
	struct harness	 h;
	struct stat	 st0;
	char		 name[64], path[PATH_MAX], *text;

	if (!is_root())
		return;
	shm_name(name, sizeof(name), "tmpsq1");
	squat_tmp(name, path, sizeof(path), &st0);
	text = cfg("{ 'table': '%s', 'supervisor': { 'children': [] } }", name);
	ck_assert_int_eq(harness_prepare(&h, text), 0);
	free(text);
	ck_assert_msg(harness_launch(&h) == 0, "warden did not start: another "
	    "uid's %s is in the way", path);
	json_decref(root_result(&h, "ping", NULL));
	ck_assert_msg(table_ino(&h) != 0, "no table");
	stop(&h);
	check_squat_untouched(path, &st0);
}
END_TEST

START_TEST(test_table_tmp_squatted_repair)
{
	struct harness	 h;
	struct stat	 st0;
	json_t		*r;
	char		 name[64], path[PATH_MAX], *text;

	if (!is_root())
		return;
	shm_name(name, sizeof(name), "tmpsq2");
	text = cfg("{ 'table': '%s', 'supervisor': { 'children': [] } }", name);
	start_open(&h, text);
	free(text);
	squat_tmp(name, path, sizeof(path), &st0);
	r = root_result(&h, "table.delete", NULL);
	json_decref(r);
	ck_assert_msg(harness_wait_recovered(&h, T_WAIT) == 0, "the table was "
	    "not repaired: another uid's %s is in the way", path);
	r = root_result(&h, "table.info", NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "repairs")), 1);
	json_decref(r);
	ck_assert_msg(table_ino(&h) != 0, "no table");
	stop(&h);
	check_squat_untouched(path, &st0);
}
END_TEST

/* What a failed socket test may have left in /dev/shm and /tmp. */
static void
socket_teardown(void)
{
	static const char *const whats[] = { "squat", "link", "tmpsq1",
	    "tmpsq2" };
	char	name[64], tmp[64], path[PATH_MAX];
	size_t	i;

	for (i = 0; i < nitems(whats); i++) {
		shm_name(name, sizeof(name), whats[i]);
		shm_tmp_name(tmp, sizeof(tmp), name);
		(void)shm_unlink(tmp);
		(void)shm_unlink(name);
	}
	snprintf(path, sizeof(path), "/tmp/warden-link-target-%ld",
	    (long)runner);
	(void)unlink(path);
}

static Suite *
roles_socket_suite(void)
{
	Suite	*s = suite_create("roles_socket");
	TCase	*sock = tcase_create("socket");

	/* The names of a run: the teardown, in this process, removes them. */
	runner = getpid();
	tcase_set_timeout(sock, T_CASE);
	tcase_add_test(sock, test_socket_mode);
	tcase_add_test(sock, test_second_warden);
	tcase_add_test(sock, test_stale_socket);
	tcase_add_test(sock, test_socket_path_taken);
	tcase_add_test(sock, test_table_squatted);
	tcase_add_test(sock, test_table_symlink);
	tcase_add_test(sock, test_table_tmp_squatted_start);
	tcase_add_test(sock, test_table_tmp_squatted_repair);
	tcase_add_unchecked_fixture(sock, NULL, socket_teardown);
	suite_add_tcase(s, sock);
	return s;
}

SUITE_MAIN(roles_socket_suite)
