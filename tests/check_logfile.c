/*
 * check_logfile.c: a service's "log" file: lines as wardenctl logs prints
 * them, rotation by size, and what no file should do to warden: a folder
 * that vanishes, a full disk (/dev/full), a writer stuck on a FIFO that
 * nobody reads. Lines that cannot be written are counted and said; the
 * loop answers throughout.
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "suite.h"
#include "testlib.h"
#include "util.h"

/* Wait until the file at path holds text (its folder watched); 0 or -1. */
static int
lf_wait_text(const char *path, const char *text)
{
	char		 dir[PATH_MAX], *content;
	uint64_t	 end = util_now_ms() + TESTLIB_WAIT;
	struct pollfd	 pfd;
	char		 ev[4096];
	int		 found;

	snprintf(dir, sizeof(dir), "%s", path);
	pfd.fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	pfd.events = POLLIN;
	ck_assert_int_ge(pfd.fd, 0);
	ck_assert_int_ge(inotify_add_watch(pfd.fd, dirname(dir), IN_MODIFY |
	    IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE), 0);
	for (;;) {
		content = harness_read_file(path);
		found = content != NULL && strstr(content, text) != NULL;
		free(content);
		if (found || util_now_ms() >= end)
			break;
		(void)poll(&pfd, 1, (int)(end - util_now_ms()));
		while (read(pfd.fd, ev, sizeof(ev)) > 0)
			;
	}
	close(pfd.fd);
	return found ? 0 : -1;
}

/* Worker a runs script with log as its "log"; written, and read by a reload. */
static void
lf_config(struct harness *h, const char *log, const char *script)
{
	char	*conf;

	conf = cfg("{ 'limits': { 'idle_ms': 60000 }, 'supervisor': { "
	    "'children': [ { 'name': 'a', 'log': %s, 'command': ['/bin/sh', "
	    "'-c', '%s'] } ] } }", log, script);
	ck_assert_int_eq(harness_write_config(h, conf), 0);
	free(conf);
}

/* The same, and warden started on it. */
static void
lf_launch(struct harness *h, const char *log, const char *script)
{
	lf_config(h, log, script);
	ck_assert_int_eq(harness_launch(h), 0);
}

#define LF_TICKS	"while :; do echo tick; sleep 0.02; done"

START_TEST(test_lines_and_rotation)
{
	struct harness	 h;
	char		*path, *p1, *p2, *p3, *all, *text;
	char		 want[64];
	int		 prev, n;

	ck_assert_int_eq(harness_prepare(&h, "{}"), 0);
	path = harness_path(&h, "logs/a.log");
	ck_assert_int_eq(mkdir(harness_path(&h, "logs"), 0755), 0);
	lf_launch(&h, "{ 'file': 'logs/a.log', 'max_bytes': 4096, 'keep': 2 }",
	    "i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo line $i; done; "
	    "echo oops >&2; exec sleep 1000");
	ck_assert_int_eq(lf_wait_text(path, "] stderr: oops\n"), 0);

	/* As wardenctl logs prints them. */
	text = harness_read_file(path);
	snprintf(want, sizeof(want), " a[%ld] stderr: oops\n",
	    (long)pid_of(&h, "a"));
	ck_assert_msg(strstr(text, want) != NULL, "%s", text);
	ck_assert_msg(text[4] == '-' && text[10] == 'T' && text[23] == 'Z', "%s",
	    text);
	free(text);
	/* Rotated at 4096 bytes, two kept: oldest first, in order, no gap. */
	p1 = harness_path(&h, "logs/a.log.1");
	p2 = harness_path(&h, "logs/a.log.2");
	p3 = harness_path(&h, "logs/a.log.3");
	ck_assert_int_eq(access(p3, F_OK), -1);
	ck_assert_int_le(file_size(p1), 4096);
	ck_assert_int_le(file_size(p2), 4096);
	ck_assert_int_le(file_size(path), 4096);
	if (asprintf(&all, "%s%s%s", harness_read_file(p2), harness_read_file(p1),
	    harness_read_file(path)) == -1)
		ck_abort_msg("asprintf");
	prev = 0;
	for (text = all; (text = strstr(text, "stdout: line ")) != NULL; text++) {
		n = atoi(text + 13);
		ck_assert_msg(prev == 0 || n == prev + 1, "line %d after %d",
		    n, prev);
		prev = n;
	}
	ck_assert_int_eq(prev, 400);
	free(all);
	free(path);
	free(p1);
	free(p2);
	free(p3);
	finish(&h, 0);
}
END_TEST

/*
 * The folder goes: lines are lost, counted and said once; it comes back:
 * the file is made again and written, said too.
 */
START_TEST(test_folder_vanishes)
{
	struct harness	 h;
	char		*path, *dir, cmd[PATH_MAX + 16];
	json_t		*s;

	ck_assert_int_eq(harness_prepare(&h, "{}"), 0);
	dir = harness_path(&h, "logs");
	path = harness_path(&h, "logs/a.log");
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	lf_launch(&h, "{ 'file': 'logs/a.log' }",
	    LF_TICKS);
	ck_assert_int_eq(lf_wait_text(path, "stdout: tick"), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(harness_wait_log(&h, "a: log file", TESTLIB_WAIT), 0);
	ck_assert_int_eq(harness_wait_log(&h, ": open: No such file or "
	    "directory; its lines are lost until it works again",
	    TESTLIB_WAIT), 0);
	json_decref(result(&h, "ping", NULL));
	s = service_of(&h, "a");
	ck_assert_int_gt(num(s, "log_dropped"), 0);
	json_decref(s);
	harness_log_mark(&h);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(harness_wait_log(&h, "a: log file", TESTLIB_WAIT), 0);
	ck_assert_int_eq(harness_wait_log(&h, "writing again", TESTLIB_WAIT), 0);
	ck_assert_int_eq(lf_wait_text(path, "stdout: tick"), 0);
	free(dir);
	free(path);
	finish(&h, 0);
}
END_TEST

/* A full disk: every write fails; said once, counted, warden unmoved. */
START_TEST(test_dev_full)
{
	struct harness	 h;
	json_t		*s;
	int		 i;

	start(&h, "{ 'supervisor': { 'children': [ { 'name': 'a', 'log': { "
	    "'file': '/dev/full' }, 'command': ['yes', 'spam'] } ] } }");
	ck_assert_int_eq(harness_wait_log(&h, "a: log file /dev/full: write: No "
	    "space left on device; its lines are lost", TESTLIB_WAIT), 0);
	for (i = 0; i < 100; i++)
		json_decref(result(&h, "ping", NULL));
	s = service_of(&h, "a");
	ck_assert_int_gt(num(s, "log_dropped"), 0);
	ck_assert_str_eq(str(s, "state"), "running");
	json_decref(s);
	/* Said once, not once a line. */
	ck_assert_int_eq(count_of(harness_log(&h), "No space left on device"), 1);
	json_decref(result(&h, "service.stop", js("{'service': 'a'}")));
	finish(&h, 0);
}
END_TEST

/*
 * A FIFO that nobody reads: the writer blocks in open(2), as on a dead
 * disk. The loop queues, then loses lines (said), answers all the while,
 * and still stops: its wait for the writer is bounded.
 */
START_TEST(test_writer_stuck)
{
	struct harness	 h;
	char		*fifo, *log;
	json_t		*s;
	int		 i;

	ck_assert_int_eq(harness_prepare(&h, "{}"), 0);
	fifo = harness_path(&h, "stuck");
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	lf_launch(&h, "{ 'file': 'stuck' }", "exec yes spam");
	ck_assert_int_eq(harness_wait_log(&h, "a: ", TESTLIB_WAIT), 0);
	ck_assert_int_eq(harness_wait_log(&h, "lines lost: its log file did "
	    "not keep up", TESTLIB_WAIT), 0);
	for (i = 0; i < 100; i++)
		json_decref(result(&h, "ping", NULL));
	s = service_of(&h, "a");
	ck_assert_int_gt(num(s, "log_dropped"), 0);
	json_decref(s);
	free(fifo);
	/* It stops: its wait for the writer is bounded, and said. */
	json_decref(harness_call(&h, "shutdown", NULL));
	ck_assert_int_eq(harness_wait_exit(&h, HARNESS_STOP_TIMEOUT), 0);
	log = harness_log(&h);
	ck_assert_msg(strstr(log, "log files: not all written") != NULL, "%s",
	    log);
	free(log);
	finish(&h, 0);
}
END_TEST

/* A reload moves the service's lines to its new file, without a restart. */
START_TEST(test_reload_new_file)
{
	struct harness	 h;
	char		*path1, *path2;
	pid_t		 pid;

	ck_assert_int_eq(harness_prepare(&h, "{}"), 0);
	path1 = harness_path(&h, "one.log");
	path2 = harness_path(&h, "two.log");
	lf_launch(&h, "{ 'file': 'one.log' }",
	    LF_TICKS);
	ck_assert_int_eq(lf_wait_text(path1, "stdout: tick"), 0);
	pid = pid_of(&h, "a");
	lf_config(&h, "{ 'file': 'two.log' }", LF_TICKS);
	json_decref(result(&h, "config.reload", NULL));
	ck_assert_int_eq(lf_wait_text(path2, "stdout: tick"), 0);
	ck_assert_int_eq(pid_of(&h, "a"), pid);
	free(path1);
	free(path2);
	finish(&h, 0);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("logfile");
	TCase	*tc = tcase_create("logfile");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_lines_and_rotation);
	tcase_add_test(tc, test_folder_vanishes);
	tcase_add_test(tc, test_dev_full);
	tcase_add_test(tc, test_writer_stuck);
	tcase_add_test(tc, test_reload_new_file);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
