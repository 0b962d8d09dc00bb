/*
 * check_table_repair.c: the shared flag table when it goes wrong: the
 * objects a reader refuses to attach, damage, deletion and repair, a
 * reader reattaching by name and whom it trusts, a full /dev/shm. See
 * check_table.c.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "testlib.h"
#include "childtest.h"
#include "tablewait.h"
#include "tabletest.h"
#include "libwarden-test.h"
#include "table.h"
#include "util.h"
#include "warden.h"
#include "suite.h"

/* ---- attach validation ---- */

enum bad_kind {
	BAD_MAGIC, BAD_VERSION, BAD_HEADER_SIZE, BAD_RECORD_SIZE, BAD_COPY_SIZE,
	BAD_CAPACITY, BAD_SIZE_FIELD, BAD_WRITER_UID, BAD_RETIRED, BAD_FILE_SIZE,
	BAD_MODE_GROUP, BAD_MODE_OTHER, BAD_OWNER, NBAD
};

static const char *const bad_names[] = {
	"magic", "version", "header_size", "record_size", "copy_size",
	"capacity", "size field", "writer_uid", "retired", "file size",
	"group-writable", "other-writable", "owner",
};

START_TEST(test_attach_validation)
{
	static const char *const names[] = { "x" };
	struct table_header	*h;
	struct table		*t;
	warden_table		*r;
	char			 name[128], tag[32];
	int			 fd;

	if (_i == BAD_OWNER && geteuid() != 0)
		return;		/* only root can give the object away */
	snprintf(tag, sizeof(tag), "valid%d", _i);
	t = mk(tag, name, sizeof(name));
	publish_all(t, 3, 1, names, 100);
	h = &table_test_layout(t)->hdr;
	fd = shm_open(name, O_RDWR, 0);
	ck_assert_int_ge(fd, 0);
	switch (_i) {
	case BAD_MAGIC:		h->magic ^= 1; break;
	case BAD_VERSION:	h->version++; break;
	case BAD_HEADER_SIZE:	h->header_size--; break;
	case BAD_RECORD_SIZE:	h->record_size += 8; break;
	case BAD_COPY_SIZE:	h->copy_size++; break;
	case BAD_CAPACITY:	h->capacity = 1u << 30; break;
	case BAD_SIZE_FIELD:	h->size++; break;
	case BAD_WRITER_UID:	h->writer_uid++; break;
	case BAD_RETIRED:	atomic_store(&h->retired, 1); break;
	case BAD_FILE_SIZE:
		ck_assert_int_eq(ftruncate(fd, TABLE_SIZE + 4096), 0);
		break;
	case BAD_MODE_GROUP:	ck_assert_int_eq(fchmod(fd, 0664), 0); break;
	case BAD_MODE_OTHER:	ck_assert_int_eq(fchmod(fd, 0646), 0); break;
	case BAD_OWNER:
		ck_assert_int_eq(fchown(fd, 65534, 65534), 0);
		break;
	}
	close(fd);
	r = reader(name, 0);
	ck_assert_msg(!warden_test_attached(r), "attached despite %s",
	    bad_names[_i]);
	assert_default(r, "x");
	ck_assert_int_eq(warden_stage(r), -1);
	ck_assert_msg(table_check(t) != TABLE_OK, "check missed %s",
	    bad_names[_i]);

	/*
	 * The repair is attached to at the next try. Another uid's object
	 * (a squatter's) is replaced too, as root may, and named.
	 */
	ck_assert_int_eq(table_republish(t, NULL, 0), 0);
	ck_assert_int_eq(table_replaced_uid(t), _i == BAD_OWNER ? 65534 : -1);
	ck_assert_int_eq(table_replaced_uid(t), -1);
	assert_on(r, "x");
	ck_assert_int_eq(warden_stage(r), 3);
	ck_assert_int_eq(table_check(t), TABLE_OK);
	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/* ---- damage ---- */

enum damage_kind {
	DMG_RECORD_CHECK, DMG_NFLAGS, DMG_UNTERMINATED, DMG_INDEX, DMG_STAGE,
	DMG_CORRUPT, DMG_ZEROED, NDMG
};

static const char *const dmg_names[] = {
	"record check", "huge nflags", "unterminated name", "index",
	"stage", "table_corrupt", "zeroed copies",
};

static const char *const dnames[] = { "a_on", "b_off", "c_on" };
static const uint32_t dvalues[] = { 100, 0, 100 };

static void
damage(struct table *t, int kind)
{
	struct table_layout	*m = table_test_layout(t);
	struct table_copy	*c;
	int			 i;

	if (kind == DMG_CORRUPT) {
		ck_assert_int_eq(table_corrupt(t), 0);
		return;
	}
	for (i = 0; i < 2; i++) {
		c = &m->copy[i];
		switch (kind) {
		case DMG_RECORD_CHECK:
			/* a_on turned off behind the check word's back */
			c->rec[0].value = 0;
			break;
		case DMG_NFLAGS:
			c->nflags = 0xffffffffu;
			break;
		case DMG_UNTERMINATED:
			memset(c->rec[0].name, 'a', TABLE_NAME_SIZE);
			break;
		case DMG_INDEX:
			memset(c->index, 0xff, sizeof(c->index));
			break;
		case DMG_STAGE:
			c->stage = 9;
			break;
		case DMG_ZEROED:
			memset(c, 0, sizeof(*c));
			break;
		}
	}
}

START_TEST(test_damaged)
{
	struct table		*t;
	struct table_layout	*m;
	warden_table		*cached, *fresh;
	char			 name[128], tag[32];
	uint64_t		 gen;

	snprintf(tag, sizeof(tag), "damage%d", _i);
	t = mk(tag, name, sizeof(name));
	publish(t, 2, nitems(dnames), dnames, dvalues);
	gen = table_generation(t);
	cached = reader(name, HOUR_NS);
	assert_on(cached, dnames[0]);
	assert_off(cached, dnames[1]);
	assert_on(cached, dnames[2]);
	ck_assert_int_eq(warden_stage(cached), 2);
	fresh = reader(name, HOUR_NS);
	ck_assert(warden_test_attached(fresh));

	damage(t, _i);
	/*
	 * As if a publish had written the damage: the sequence moves, so
	 * cached answers must be re-read (and found damaged).
	 */
	m = table_test_layout(t);
	atomic_fetch_add(&m->hdr.seq, 2);

	/* The handle that saw the table answers its last consistent values. */
	assert_on(cached, dnames[0]);
	assert_off(cached, dnames[1]);
	assert_on(cached, dnames[2]);
	ck_assert_int_eq(warden_stage(cached), 2);
	/* A handle that never saw a value: defaults where damaged. */
	switch (_i) {
	case DMG_RECORD_CHECK:
	case DMG_UNTERMINATED:
		assert_default(fresh, dnames[0]);
		assert_off(fresh, dnames[1]);
		assert_on(fresh, dnames[2]);
		ck_assert_int_eq(warden_stage(fresh), 2);
		break;
	default:
		assert_default(fresh, dnames[0]);
		assert_default(fresh, dnames[1]);
		assert_default(fresh, dnames[2]);
		ck_assert_int_eq(warden_stage(fresh), -1);
		break;
	}
	ck_assert_int_eq(warden_test_snapshot(fresh, &(int){ 0 },
	    &(uint64_t){ 0 }, NULL, 0), -1);

	/* The writer's state is untouched; the check finds the damage. */
	ck_assert_uint_eq(table_generation(t), gen);
	ck_assert_int_eq(table_stage(t), 2);
	ck_assert_msg(table_check(t) == TABLE_DAMAGED, "%s: check %d",
	    dmg_names[_i], table_check(t));

	/* Repair: both handles move to the fresh table. */
	ck_assert_int_eq(table_republish(t, NULL, 0), 0);
	ck_assert_int_eq(table_check(t), TABLE_OK);
	warden_test_set_retry(cached, 0);
	warden_test_set_retry(fresh, 0);
	assert_on(fresh, dnames[0]);
	assert_off(fresh, dnames[1]);
	assert_on(fresh, dnames[2]);
	ck_assert_int_eq(warden_stage(fresh), 2);
	assert_on(cached, dnames[0]);
	/* And follow later publishes there. */
	publish_all(t, 3, nitems(dnames), dnames, 0);
	assert_off(cached, dnames[0]);
	assert_off(fresh, dnames[2]);
	ck_assert_int_eq(warden_stage(cached), 3);
	warden_close(fresh);
	warden_close(cached);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/* table_corrupt without a publish: cached answers stay, repair follows. */
START_TEST(test_corrupt_drill)
{
	struct table	*t;
	warden_table	*r;
	char		 name[128];

	t = mk("drill", name, sizeof(name));
	publish(t, 2, nitems(dnames), dnames, dvalues);
	r = reader(name, 0);
	assert_on(r, dnames[0]);
	ck_assert_int_eq(table_corrupt(t), 0);
	ck_assert_int_eq(table_check(t), TABLE_DAMAGED);
	/* Read before: the answer stands. Never read: the default. */
	assert_on(r, dnames[0]);
	assert_default(r, dnames[2]);
	ck_assert_int_eq(table_republish(t, NULL, 0), 0);
	assert_on(r, dnames[2]);
	assert_off(r, dnames[1]);
	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/* ---- deletion and repair ---- */

START_TEST(test_delete_republish)
{
	static const char *const names[] = { "x", "y" };
	static const uint32_t on[] = { 100, 100 }, off[] = { 0, 0 };
	struct table	*t;
	warden_table	*quick, *slow;
	char		 name[128], path[160];
	int		 fd;

	t = mk("delete", name, sizeof(name));
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	publish(t, 1, 2, names, on);
	quick = reader(name, 0);
	slow = reader(name, HOUR_NS);
	assert_on(quick, "x");
	assert_on(slow, "x");

	/* Deleted: noticed by the writer; readers keep their table. */
	ck_assert_int_eq(table_delete(t), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(table_check(t), TABLE_DELETED);
	assert_on(quick, "x");
	assert_on(slow, "y");
	ck_assert_int_eq(warden_stage(quick), 1);
	/* A publish while deleted still reaches the readers it has. */
	publish(t, 2, 2, names, off);
	assert_off(quick, "x");
	assert_off(slow, "x");

	/* Repaired: the fresh object holds the writer's state. */
	ck_assert_int_eq(table_republish(t, NULL, 0), 0);
	ck_assert_int_eq(table_check(t), TABLE_OK);
	ck_assert_int_eq(access(path, F_OK), 0);
	publish(t, 3, 2, names, on);
	assert_on(quick, "x");
	ck_assert_int_eq(warden_stage(quick), 3);
	/* Not yet time to look again: the old (retired) table answers. */
	assert_off(slow, "x");
	ck_assert_int_eq(warden_stage(slow), 2);
	warden_test_set_retry(slow, 0);
	assert_on(slow, "x");
	ck_assert_int_eq(warden_stage(slow), 3);

	/* Deleted and replaced by a stranger of ours: not our object. */
	ck_assert_int_eq(table_delete(t), 0);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(table_check(t), TABLE_DELETED);
	ck_assert_int_eq(table_republish(t, NULL, 0), 0);
	ck_assert_int_eq(table_check(t), TABLE_OK);
	assert_on(quick, "y");

	/* The mode changed under us: damaged (readers would refuse it). */
	fd = shm_open(name, O_RDWR, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, 0666), 0);
	ck_assert_int_eq(table_check(t), TABLE_DAMAGED);
	ck_assert_int_eq(fchmod(fd, 0644), 0);
	ck_assert_int_eq(table_check(t), TABLE_OK);
	/* Truncated: damaged, and nothing touches the missing pages. */
	ck_assert_int_eq(ftruncate(fd, 100), 0);
	ck_assert_int_eq(table_check(t), TABLE_DAMAGED);
	publish(t, 4, 2, names, off);
	ck_assert_int_eq(table_corrupt(t), -1);
	ck_assert_int_eq(table_republish(t, NULL, 0), 0);
	close(fd);
	assert_off(quick, "x");
	ck_assert_int_eq(warden_stage(quick), 4);

	warden_close(slow);
	warden_close(quick);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/* A handle crosses fork(2): the child reads, and follows a repair. */
START_TEST(test_fork_child)
{
	static const char *const names[] = { "forked" };
	struct table	*t;
	warden_table	*r;
	struct childtest_lockstep	 ls;
	char		 name[128];
	int		 status;
	pid_t		 pid;

	t = mk("fork", name, sizeof(name));
	publish_all(t, 1, 1, names, 100);
	r = reader(name, 0);
	assert_on(r, "forked");
	pid = childtest_lockstep_fork(&ls);
	if (pid == 0) {
		if (!childtest_lockstep_ready(&ls,
		    warden_enabled(r, "forked", false) ? 'y' : 'n'))
			_exit(2);
		/* The parent deleted, repaired and turned the flag off. */
		if (warden_enabled(r, "forked", true) || warden_stage(r) != 2)
			_exit(3);
		warden_close(r);
		_exit(0);
	}
	ck_assert_msg(childtest_lockstep_await(&ls) == 'y',
	    "the child did not read the flag on");
	ck_assert_int_eq(table_delete(t), 0);
	ck_assert_int_eq(table_republish(t, NULL, 0), 0);
	publish_all(t, 2, 1, names, 0);
	childtest_lockstep_go(&ls);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child: status %d", status);
	childtest_lockstep_close(&ls);
	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/* Another running warden's table is refused, not taken over. */
START_TEST(test_in_use)
{
	static const char *const names[] = { "x" };
	struct table	*t, *mine;
	struct childtest_lockstep	 ls;
	char		 name[128], err[512];
	int		 status;
	pid_t		 pid;

	shm_name(name, sizeof(name), "inuse");
	shm_unlink(name);
	pid = childtest_lockstep_fork(&ls);
	if (pid == 0) {
		/* The other warden: makes the table and keeps running. */
		if ((t = table_create(name, 0, NULL, 0)) == NULL)
			_exit(1);
		if (!childtest_lockstep_ready(&ls, 'r'))
			_exit(2);
		table_close(t);
		_exit(0);
	}
	(void)childtest_lockstep_await(&ls);
	err[0] = '\0';
	ck_assert_ptr_null(table_create(name, 0, err, sizeof(err)));
	ck_assert_msg(strstr(err, "in use by another warden") != NULL, "%s",
	    err);
	/* Once it is gone (a zombie not yet reaped is gone), it is stale. */
	childtest_lockstep_go(&ls);
	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &(siginfo_t){ 0 },
	    WEXITED | WNOWAIT), 0);
	mine = table_create(name, 0, err, sizeof(err));
	ck_assert_msg(mine != NULL, "%s", err);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	publish_all(mine, 1, 1, names, 100);
	ck_assert_int_eq(table_check(mine), TABLE_OK);
	childtest_lockstep_close(&ls);
	table_close(mine);
	shm_unlink(name);
}
END_TEST

/*
 * Open descriptors, or mappings of shared-memory objects (the allocator,
 * a sanitizer's above all, may map memory of its own at any time).
 */
static size_t
count_proc(const char *what)
{
	struct dirent	*de;
	DIR		*d;
	FILE		*f;
	char		 line[1024];
	size_t		 n = 0;

	if (strcmp(what, "fd") == 0) {
		ck_assert_ptr_nonnull(d = opendir("/proc/self/fd"));
		while ((de = readdir(d)) != NULL)
			n++;
		closedir(d);
		return n;
	}
	ck_assert_ptr_nonnull(f = fopen("/proc/self/maps", "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, "/dev/shm/") != NULL;
	fclose(f);
	return n;
}

/* Many deletions and repairs: readers follow each; no growth. */
START_TEST(test_repeated_repairs)
{
	static const char *const names[] = { "x" };
	struct table	*t;
	warden_table	*r;
	char		 name[128];
	uint32_t	 v;
	size_t		 fds = 0, maps = 0;
	int		 i;

	t = mk("repairs", name, sizeof(name));
	r = reader(name, 0);
	for (i = 0; i < 200; i++) {
		if (i == 10) {
			fds = count_proc("fd");
			maps = count_proc("maps");
		}
		if (i % 2 == 0)
			ck_assert_int_eq(table_delete(t), 0);
		else
			ck_assert_int_eq(table_corrupt(t), 0);
		ck_assert_int_ne(table_check(t), TABLE_OK);
		ck_assert_int_eq(table_republish(t, NULL, 0), 0);
		v = i % 2 == 0 ? 100 : 0;
		publish(t, i, 1, names, &v);
		ck_assert(warden_enabled(r, "x", v == 0) == (v == 100));
		ck_assert_int_eq(warden_stage(r), i);
	}
	ck_assert_uint_eq(count_proc("fd"), fds);
	ck_assert_uint_eq(count_proc("maps"), maps);
	/* The writer's mapping and the reader's, of the live object. */
	ck_assert_uint_eq(maps, 2);
	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/* ---- reattaching by name, and whom a reader trusts ---- */

/*
 * The table is removed while no writer runs, so nobody retires it; the
 * next writer's table is found by the reader itself, within the repair
 * bound (SPEC 4: 250 ms), with the library's own look interval.
 */
START_TEST(test_reattach_unretired)
{
	static const char *const names[] = { "x" };
	struct table	*t;
	warden_table	*r;
	char		 name[128];
	long		 ms;

	t = mk("unretired", name, sizeof(name));
	publish_all(t, 1, 1, names, 100);
	r = warden_open(name);
	ck_assert_ptr_nonnull(r);
	assert_on(r, "x");
	table_close(t);
	ck_assert_int_eq(shm_unlink(name), 0);
	assert_on(r, "x");
	ck_assert_int_eq(warden_state(r), WARDEN_ATTACHED);
	t = mk("unretired", name, sizeof(name));
	publish_all(t, 2, 1, names, 0);
	ms = tablewait_stage(r, 2, 250);
	ck_assert_msg(ms >= 0, "the reader stayed on the removed table");
	assert_off(r, "x");
	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/* As nobody: a table of its own under NAME at STAGE, x on. */
static void
publish_as_nobody(const char *name, int stage)
{
	struct table_flag	 f = { "x", 100 };
	struct table		*t;
	pid_t			 pid;
	int			 status;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(2);
		if ((t = table_create(name, 0, NULL, 0)) == NULL ||
		    table_publish(t, stage, &f, 1) == -1)
			_exit(3);
		table_close(t);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "nobody's table: status %d", status);
}

/*
 * A handle opened by name trusts root, its caller and WARDEN_TABLE_OWNER;
 * one opened from WARDEN_TABLE_FD trusts that object's owner (and root),
 * also when it reattaches by name. Anyone else's table is never mapped.
 */
START_TEST(test_trust)
{
	static const char *const names[] = { "x" };
	struct table	*t;
	warden_table	*r, *owner, *num, *byfd;
	char		 name[128], fdnum[16];
	int		 fd;

	if (geteuid() != 0) {
		fprintf(stderr, "test_trust: skipped: needs root, to act as "
		    "nobody; running as uid %ld\n", (long)geteuid());
		return;
	}
	shm_name(name, sizeof(name), "trust");
	shm_unlink(name);
	ck_assert_int_eq(unsetenv("WARDEN_TABLE_OWNER"), 0);
	publish_as_nobody(name, 5);

	r = reader(name, 0);
	ck_assert(!warden_test_attached(r));
	ck_assert_int_eq(warden_state(r), WARDEN_UNTRUSTED);
	ck_assert_int_eq(warden_stage(r), -1);
	assert_default(r, "x");

	ck_assert_int_eq(setenv("WARDEN_TABLE_OWNER", "nobody", 1), 0);
	owner = reader(name, 0);
	ck_assert_int_eq(setenv("WARDEN_TABLE_OWNER", "65534", 1), 0);
	num = reader(name, 0);
	ck_assert_int_eq(unsetenv("WARDEN_TABLE_OWNER"), 0);
	ck_assert_int_eq(warden_state(owner), WARDEN_ATTACHED);
	ck_assert_int_eq(warden_stage(owner), 5);
	ck_assert_int_eq(warden_stage(num), 5);

	/* warden's descriptor: its owner is trusted, by name later too. */
	fd = shm_open(name, O_RDONLY, 0);
	ck_assert_int_ge(fd, 0);
	snprintf(fdnum, sizeof(fdnum), "%d", fd);
	ck_assert_int_eq(setenv("WARDEN_TABLE_FD", fdnum, 1), 0);
	ck_assert_int_eq(unsetenv("WARDEN_TABLE"), 0);
	byfd = reader(NULL, 0);
	ck_assert_int_eq(unsetenv("WARDEN_TABLE_FD"), 0);
	close(fd);
	ck_assert_int_eq(warden_state(byfd), WARDEN_ATTACHED);
	assert_on(byfd, "x");
	publish_as_nobody(name, 6);
	ck_assert_int_eq(warden_stage(byfd), 6);
	ck_assert_int_eq(warden_stage(r), -1);
	ck_assert_int_eq(warden_state(r), WARDEN_UNTRUSTED);

	/* Root replaces it: every handle moves to root's table. */
	t = table_create(name, 0, NULL, 0);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(table_replaced_uid(t), 65534);
	publish_all(t, 7, 1, names, 0);
	ck_assert_int_eq(warden_stage(r), 7);
	ck_assert_int_eq(warden_state(r), WARDEN_ATTACHED);
	ck_assert_int_eq(warden_stage(byfd), 7);
	ck_assert_int_eq(warden_stage(owner), 7);
	assert_off(r, "x");

	/* Removed, and nobody's again: r keeps root's last values. */
	table_close(t);
	ck_assert_int_eq(shm_unlink(name), 0);
	publish_as_nobody(name, 8);
	ck_assert_int_eq(warden_stage(r), 7);
	assert_off(r, "x");
	ck_assert_int_eq(warden_state(r), WARDEN_UNTRUSTED);
	ck_assert_int_eq(warden_stage(owner), 8);

	warden_close(byfd);
	warden_close(num);
	warden_close(owner);
	warden_close(r);
	shm_unlink(name);
}
END_TEST

/* ---- a full /dev/shm ---- */

/* Only the filler in /dev/shm: nothing half-made was left behind. */
static size_t
shm_count(void)
{
	struct dirent	*de;
	DIR		*d;
	size_t		 n = 0;

	if ((d = opendir("/dev/shm")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.' || strncmp(de->d_name, ".warden-",
		    8) == 0;
	closedir(d);
	return n;
}

static void
full_shm_child(void)
{
	static const char *const names[] = { "x" };
	struct table_flag	 f = { "x", 100 };
	struct table		*t;
	warden_table		*r;
	char			 why[512], err[512];
	const char		*name = "/warden-tcheck-full";

	if (harness_private_shm(256, why, sizeof(why)) == -1) {
		fprintf(stderr, "check_table: test_full_shm: %s\n", why);
		_exit(CHILDTEST_SKIP);
	}
	CHILD_CHECK(harness_fill("/dev/shm/filler") == 0, "fill /dev/shm");
	CHILD_CHECK(shm_count() == 1, "/dev/shm holds more than the filler");

	/* Refused with ENOSPC, where the first page touched was SIGBUS. */
	err[0] = '\0';
	errno = 0;
	CHILD_CHECK(table_create(name, 0, err, sizeof(err)) == NULL,
	    "created a table in a full /dev/shm");
	CHILD_CHECK(errno == ENOSPC, "errno %s, not ENOSPC", strerror(errno));
	CHILD_CHECK(strstr(err, strerror(ENOSPC)) != NULL, "err: %s", err);
	CHILD_CHECK(shm_count() == 1, "a temporary object was left behind");

	/* Unavailable: the state is kept and published once there is room. */
	t = table_new(name, 0, err, sizeof(err));
	CHILD_CHECK(t != NULL, "table_new: %s", err);
	CHILD_CHECK(!table_available(t), "available without an object");
	CHILD_CHECK(table_republish(t, err, sizeof(err)) == -1 &&
	    errno == ENOSPC, "republish in a full /dev/shm: %s", err);
	CHILD_CHECK(table_publish(t, 2, &f, 1) == 0, "publish: %s",
	    strerror(errno));
	CHILD_CHECK(table_check(t) == TABLE_DELETED, "check");
	CHILD_CHECK(table_fd_readonly(t) == -1, "a descriptor of nothing");
	CHILD_CHECK(table_delete(t) == -1 && errno == ENOENT, "delete");
	CHILD_CHECK(table_corrupt(t) == -1 && errno == ENOENT, "corrupt");
	r = warden_open(name);
	CHILD_CHECK(r != NULL, "warden_open");
	warden_test_set_retry(r, 0);
	CHILD_CHECK(!warden_enabled(r, "x", false) && warden_stage(r) == -1,
	    "a reader found a table");

	CHILD_CHECK(unlink("/dev/shm/filler") == 0, "unlink the filler");
	CHILD_CHECK(table_republish(t, err, sizeof(err)) == 0,
	    "republish with room: %s", err);
	CHILD_CHECK(table_available(t) && table_check(t) == TABLE_OK, "check");
	CHILD_CHECK(table_fd_readonly(t) != -1, "no descriptor");
	CHILD_CHECK(warden_enabled(r, names[0], false) && warden_stage(r) == 2,
	    "the reader did not attach to the published state");
	warden_close(r);
	table_close(t);
	_exit(0);
}

/*
 * With /dev/shm full, creating the table fails with ENOSPC instead of
 * SIGBUS at its first page, and it is published once there is room. In a
 * child with a private tmpfs over /dev/shm: the machine's is never filled.
 */
START_TEST(test_full_shm)
{
	childtest_run("test_full_shm", full_shm_child,
	    "root and a mount namespace");
}
END_TEST

static Suite *
table_repair_suite(void)
{
	Suite	*s = suite_create("table_repair");
	TCase	*tc = tcase_create("table_repair");

	tcase_add_unchecked_fixture(tc, tabletest_setup, tabletest_teardown);
	tcase_add_loop_test(tc, test_attach_validation, 0, NBAD);
	tcase_add_loop_test(tc, test_damaged, 0, NDMG);
	tcase_add_test(tc, test_corrupt_drill);
	tcase_add_test(tc, test_delete_republish);
	tcase_add_test(tc, test_repeated_repairs);
	tcase_add_test(tc, test_fork_child);
	tcase_add_test(tc, test_in_use);
	tcase_add_test(tc, test_full_shm);
	tcase_add_test(tc, test_reattach_unretired);
	tcase_add_test(tc, test_trust);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(table_repair_suite)
