/*
 * check_table_writer.c: the shared flag table as its writer makes it
 * (src/daemon/table.c) and readers (src/lib/) see it meanwhile: creation,
 * the latch under a writer killed mid-publish or racing readers in other
 * processes and threads. See check_table.c.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tabletest.h"
#include "murmur3.h"
#include "libwarden-test.h"
#include "table.h"
#include "util.h"
#include "warden.h"
#include "suite.h"

/* ---- creation ---- */

START_TEST(test_create_refuses)
{
	static const char *const bad[] = { "noslash", "/", "/a/b", "" };
	char		 err[512], name[128], longname[300], path[160];
	struct table	*t;
	struct stat	 st;
	size_t		 i;
	pid_t		 pid;
	int		 fd, status;

	for (i = 0; i < nitems(bad); i++) {
		err[0] = '\0';
		ck_assert_ptr_null(table_create(bad[i], 0, err, sizeof(err)));
		ck_assert_msg(strstr(err, "name") != NULL, "%s", err);
	}
	ck_assert_ptr_null(table_create(NULL, 0, err, sizeof(err)));
	memset(longname, 'x', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_ptr_null(table_create(longname, 0, err, sizeof(err)));

	shm_name(name, sizeof(name), "refuse");
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	ck_assert_ptr_null(table_create(name, 0666, err, sizeof(err)));
	ck_assert_msg(strstr(err, "write") != NULL, "%s", err);
	ck_assert_ptr_null(table_create(name, 0620, err, sizeof(err)));
	ck_assert_ptr_null(table_create(name, 0444, err, sizeof(err)));
	/* A narrower mode is fine. */
	t = table_create(name, 0600, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	table_close(t);
	shm_unlink(name);

	/*
	 * Another uid's object under the name, no warden behind it (a
	 * squatter's): root replaces it and says whose it was.
	 */
	if (geteuid() != 0)
		return;		/* only root can make one */
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchown(fd, 65534, 65534), 0);
	close(fd);
	t = table_create(name, 0, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	ck_assert_int_eq(table_replaced_uid(t), 65534);
	ck_assert_int_eq(table_replaced_uid(t), -1);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_uid, 0);
	ck_assert_int_eq(table_check(t), TABLE_OK);
	table_close(t);

	/* A user who may not replace root's object is refused; it stays. */
	ck_assert_int_eq(shm_unlink(name), 0);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(stat(path, &st), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct stat	sn;

		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(2);
		err[0] = '\0';
		if (table_create(name, 0, err, sizeof(err)) != NULL)
			_exit(3);
		if (strstr(err, "belongs to uid 0, not 65534, and cannot be "
		    "replaced") == NULL) {
			fprintf(stderr, "check_table: %s\n", err);
			_exit(4);
		}
		if (stat(path, &sn) == -1 || sn.st_ino != st.st_ino)
			_exit(5);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "unprivileged table_create: status %d", status);
	shm_unlink(name);
}
END_TEST

/* A stale table of an earlier warden is retired and replaced. */
START_TEST(test_create_replaces_stale)
{
	static const char *const names[] = { "x" };
	struct table	*old, *t;
	warden_table	*r;
	char		 name[128], tmp[64], err[512];
	int		 fd;

	old = mk("stale", name, sizeof(name));
	publish_all(old, 1, 1, names, 100);
	r = reader(name, 0);
	assert_on(r, "x");
	/* A killed warden's half-made object under the temporary name too. */
	snprintf(tmp, sizeof(tmp), "/.warden-%08x-%016llx.new",
	    murmur3_x86_32(name, strlen(name), 0), 0x1234ULL);
	fd = shm_open(tmp, O_RDWR | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);

	t = table_create(name, 0, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	ck_assert_uint_eq(atomic_load(&table_test_layout(old)->hdr.retired), 1);
	ck_assert_int_eq(shm_open(tmp, O_RDONLY, 0), -1);
	publish_all(t, 2, 1, names, 0);
	assert_off(r, "x");
	ck_assert_int_eq(warden_stage(r), 2);
	ck_assert_int_eq(table_check(old), TABLE_DELETED | TABLE_DAMAGED);
	ck_assert_int_eq(table_check(t), TABLE_OK);
	/* Closing the old writer leaves the new table alone. */
	table_close(old);
	ck_assert_int_eq(table_check(t), TABLE_OK);
	assert_off(r, "x");
	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/* Closing leaves the table for readers; the next warden replaces it. */
START_TEST(test_close_keeps_table)
{
	static const char *const names[] = { "kept" };
	struct table	*t;
	warden_table	*r, *late;
	char		 name[128], err[512];

	t = mk("keep", name, sizeof(name));
	publish_all(t, 4, 1, names, 100);
	r = reader(name, 0);
	assert_on(r, "kept");
	table_close(t);
	assert_on(r, "kept");
	late = reader(name, 0);
	assert_on(late, "kept");
	ck_assert_int_eq(warden_stage(late), 4);

	t = table_create(name, 0, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	publish_all(t, 5, 1, names, 0);
	assert_off(r, "kept");
	assert_off(late, "kept");
	warden_close(late);
	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/* ---- a writer killed mid-publish ---- */

static const char *const killnames[] = { "k0", "k1", "k2", "k3", "k4",
    "k5", "k6", "k7", "k8", "k9" };
#define NKILL	nitems(killnames)

/* Readers see the complete old state: stage 1, everything on. */
static void
assert_old_state(warden_table *r)
{
	uint32_t	values[NKILL];
	uint64_t	gen;
	size_t		i;
	int		stage;

	ck_assert_int_eq(warden_stage(r), 1);
	ck_assert_uint_eq(warden_generation(r), 1);
	for (i = 0; i < NKILL; i++)
		assert_on(r, killnames[i]);
	ck_assert_int_eq(warden_test_snapshot(r, &stage, &gen, values, NKILL),
	    (int)NKILL);
	ck_assert_int_eq(stage, 1);
	ck_assert_uint_eq(gen, 1);
	for (i = 0; i < NKILL; i++)
		ck_assert_uint_eq(values[i], 100);
}

static const size_t cuts[] = { 0, 1, 16, 64 + 100,
    sizeof(struct table_copy) / 2, sizeof(struct table_copy) - 1 };

START_TEST(test_killed_writer)
{
	struct table_flag	 f[NKILL];
	struct table_layout	*m;
	struct table		*t;
	warden_table		*cached, *fresh;
	char			 name[128], tag[32], err[512];
	int			 pfd[2];
	size_t			 i;
	pid_t			 pid;
	char			 c;

	snprintf(tag, sizeof(tag), "killed%d", _i);
	t = mk(tag, name, sizeof(name));
	publish_all(t, 1, NKILL, killnames, 100);
	cached = reader(name, 0);
	assert_old_state(cached);
	m = table_test_layout(t);

	/* The writer process stops in the middle of a publish; SIGKILL. */
	for (i = 0; i < NKILL; i++) {
		f[i].name = killnames[i];
		f[i].value = 0;
	}
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		if (table_test_publish_partial(t, 2, f, NKILL, cuts[_i]) == -1)
			_exit(1);
		c = 'k';
		if (write(pfd[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	pipe_wait(pfd[0], &c, 1);
	kill_wait(pid);
	close(pfd[0]);

	/* Left odd: readers are on copy 1, which is whole. */
	ck_assert_uint_eq(atomic_load(&m->hdr.seq) & 1, 1);
	assert_old_state(cached);
	fresh = reader(name, 0);
	assert_old_state(fresh);
	ck_assert_int_ne(table_check(t) & TABLE_DAMAGED, 0);

	/* The next warden replaces the table; readers follow. */
	table_close(t);
	t = table_create(name, 0, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	publish_all(t, 2, NKILL, killnames, 0);
	for (i = 0; i < NKILL; i++) {
		assert_off(cached, killnames[i]);
		assert_off(fresh, killnames[i]);
	}
	ck_assert_int_eq(warden_stage(cached), 2);
	warden_close(fresh);
	warden_close(cached);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/*
 * A writer publishing two states as fast as it can, where every flag's
 * value equals the state's stage (3 or 7): a consistent read always has
 * value == stage. It reports every EVERY publishes on FD.
 */
static const char *const racenames[] = { "r00", "r01", "r02", "r03", "r04",
    "r05", "r06", "r07", "r08", "r09", "r10", "r11", "r12", "r13", "r14",
    "r15" };
#define NRACE	nitems(racenames)

static pid_t
spawn_alternator(struct table *t, int fd, unsigned every)
{
	struct table_flag	f[NRACE];
	unsigned		k, i;
	pid_t			pid;
	int			stage;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid != 0)
		return pid;
	for (k = 0;; k++) {
		stage = k % 2 == 0 ? 3 : 7;
		for (i = 0; i < NRACE; i++) {
			f[i].name = racenames[i];
			f[i].value = (uint32_t)stage;
		}
		if (table_publish(t, stage, f, NRACE) == -1)
			_exit(1);
		if (k % every == 0 && util_write_all(fd, &k, sizeof(k)) == -1)
			_exit(1);
	}
}

START_TEST(test_concurrent_snapshots)
{
	struct table	*t;
	warden_table	*r;
	uint32_t	 values[NRACE];
	uint64_t	 gen, lastgen = 0, changes = 0;
	unsigned	 k;
	char		 name[128];
	size_t		 i, n, busy = 0;
	int		 pfd[2], stage;
	pid_t		 pid;

	t = mk("snapshots", name, sizeof(name));
	r = reader(name, HOUR_NS);
	ck_assert_int_eq(pipe(pfd), 0);
	pid = spawn_alternator(t, pfd[1], 1u << 30);
	close(pfd[1]);
	pipe_wait(pfd[0], &k, sizeof(k));	/* the first publish is out */

	for (n = 0; n < 200000; n++) {
		if (warden_test_snapshot(r, &stage, &gen, values, NRACE) !=
		    (int)NRACE) {
			busy++;
			continue;
		}
		ck_assert_msg(stage == 3 || stage == 7, "stage %d", stage);
		for (i = 0; i < NRACE; i++)
			ck_assert_msg(values[i] == (uint32_t)stage,
			    "read %zu: stage %d but %s = %u", n, stage,
			    racenames[i], values[i]);
		ck_assert_uint_ge(gen, lastgen);
		changes += gen != lastgen;
		lastgen = gen;
		/* The public calls see only the two states too. */
		stage = warden_stage(r);
		ck_assert(stage == 3 || stage == 7);
		ck_assert(!warden_enabled(r, racenames[n % NRACE], true));
	}
	kill_wait(pid);
	close(pfd[0]);
	/* Giving up is allowed, but must be the exception. */
	ck_assert_msg(busy < 20000, "%zu of 200000 reads gave up", busy);
	ck_assert_msg(changes > 100, "the writer hardly moved: %ju",
	    (uintmax_t)changes);
	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/* SIGKILL the racing writer at arbitrary points: the table stays whole. */
START_TEST(test_concurrent_kill)
{
	struct table	*t;
	warden_table	*r;
	uint32_t	 values[NRACE];
	uint64_t	 gen;
	unsigned	 k;
	char		 name[128];
	size_t		 i;
	int		 pfd[2], stage, round, got;
	pid_t		 pid;

	t = mk("racekill", name, sizeof(name));
	r = reader(name, HOUR_NS);
	for (round = 0; round < 20; round++) {
		ck_assert_int_eq(pipe(pfd), 0);
		pid = spawn_alternator(t, pfd[1], 100 + 37 * (unsigned)round);
		close(pfd[1]);
		pipe_wait(pfd[0], &k, sizeof(k));
		pipe_wait(pfd[0], &k, sizeof(k));
		kill_wait(pid);
		close(pfd[0]);
		got = warden_test_snapshot(r, &stage, &gen, values, NRACE);
		ck_assert_int_eq(got, (int)NRACE);
		ck_assert(stage == 3 || stage == 7);
		for (i = 0; i < NRACE; i++)
			ck_assert_uint_eq(values[i], (uint32_t)stage);
		stage = warden_stage(r);
		ck_assert(stage == 3 || stage == 7);
	}
	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/*
 * Threads sharing one handle while the writer races: flags that never
 * change must always read right, whatever the cache is doing; names come
 * both as literals and through reused buffers, to churn the entries.
 */
struct thread_arg {
	warden_table	*r;
	size_t		 errors;
	size_t		 reads;
};

static const char *const constnames[] = { "c0", "c1", "c2", "c3",
    "c4_longer_than_eight", "c5_longer_than_sixteen_bytes" };
#define NCONST	nitems(constnames)

static void *
thread_reader(void *p)
{
	struct thread_arg	*a = p;
	char			 buf[64];
	size_t			 n, i;
	int			 stage;
	bool			 want;

	for (n = 0; n < 25000; n++) {
		i = n % NCONST;
		want = i % 2 == 0;
		if (warden_enabled(a->r, constnames[i], !want) != want)
			a->errors++;
		snprintf(buf, sizeof(buf), "%s", constnames[(n / 3) % NCONST]);
		want = (n / 3) % NCONST % 2 == 0;
		if (warden_enabled_for(a->r, buf, "id", !want) != want)
			a->errors++;
		/* 3 and 7 are percentages: never "enabled". */
		if (warden_enabled(a->r, racenames[n % NRACE], true))
			a->errors++;
		stage = warden_stage(a->r);
		if (stage != 3 && stage != 7)
			a->errors++;
		a->reads += 4;
	}
	return NULL;
}

START_TEST(test_threads)
{
	struct table_flag	 f[NRACE + NCONST];
	struct thread_arg	 args[3];
	pthread_t		 th[3];
	struct table		*t;
	warden_table		*r;
	unsigned		 k;
	char			 name[128];
	size_t			 i;
	int			 pfd[2], stage;
	pid_t			 pid;

	t = mk("threads", name, sizeof(name));
	r = reader(name, HOUR_NS);
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* The racing flags plus constants that never change. */
		for (k = 0;; k++) {
			stage = k % 2 == 0 ? 3 : 7;
			for (i = 0; i < NRACE; i++) {
				f[i].name = racenames[i];
				f[i].value = (uint32_t)stage;
			}
			for (i = 0; i < NCONST; i++) {
				f[NRACE + i].name = constnames[i];
				f[NRACE + i].value = i % 2 == 0 ? 100 : 0;
			}
			if (table_publish(t, stage, f, NRACE + NCONST) == -1)
				_exit(1);
			if (k == 0 && util_write_all(pfd[1], &k, sizeof(k)) == -1)
				_exit(1);
		}
	}
	close(pfd[1]);
	pipe_wait(pfd[0], &k, sizeof(k));
	for (i = 0; i < nitems(th); i++) {
		args[i].r = r;
		args[i].errors = args[i].reads = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, thread_reader,
		    &args[i]), 0);
	}
	for (i = 0; i < nitems(th); i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_msg(args[i].errors == 0, "thread %zu: %zu wrong of %zu",
		    i, args[i].errors, args[i].reads);
	}
	kill_wait(pid);
	close(pfd[0]);
	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

static Suite *
table_writer_suite(void)
{
	Suite	*s = suite_create("table_writer");
	TCase	*tc = tcase_create("table_writer");
	TCase	*race = tcase_create("race");

	tcase_add_unchecked_fixture(tc, tabletest_setup, tabletest_teardown);
	tcase_add_test(tc, test_create_refuses);
	tcase_add_test(tc, test_create_replaces_stale);
	tcase_add_test(tc, test_close_keeps_table);
	tcase_add_loop_test(tc, test_killed_writer, 0, (int)nitems(cuts));
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tcase_add_unchecked_fixture(race, tabletest_setup, tabletest_teardown);
	tcase_add_test(race, test_concurrent_snapshots);
	tcase_add_test(race, test_concurrent_kill);
	tcase_add_test(race, test_threads);
	tcase_set_timeout(race, 120);
	suite_add_tcase(s, race);
	return s;
}

SUITE_MAIN(table_writer_suite)
