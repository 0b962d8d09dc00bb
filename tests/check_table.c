/*
 * check_table.c: the shared flag table (src/daemon/table.c, the writer) and
 * the reader library (src/lib/, include/warden.h): layout, murmur3, publish
 * and read, rollout buckets, descriptors and attaching later.
 * check_table_writer.c has the writer killed or racing its readers,
 * check_table_repair.c attach validation, damage, deletion and repair;
 * tests/tabletest.h is what the three share.
 *
 * Every object is named /warden-tcheck-<pid of the runner>-<tag>; the
 * fixture removes what a failed test left behind.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
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

/* ---- layout and murmur3 ---- */

/*
 * The shared table's layout, as readers of other builds rely on it: each
 * row names a size or an offset, what this build makes it, and what it
 * must be.
 */
static const struct {
	const char	*what;
	size_t		 got, want;
} layout[] = {
	{ "TABLE_CAPACITY", TABLE_CAPACITY, 256 },
	{ "TABLE_NAME_SIZE", TABLE_NAME_SIZE, 64 },
	{ "sizeof table_record", sizeof(struct table_record), 80 },
	{ "table_record.name", offsetof(struct table_record, name), 0 },
	{ "table_record.value", offsetof(struct table_record, value), 64 },
	{ "table_record.hash", offsetof(struct table_record, hash), 68 },
	{ "table_record.check", offsetof(struct table_record, check), 72 },
	{ "table_copy.generation", offsetof(struct table_copy, generation), 0 },
	{ "table_copy.stage", offsetof(struct table_copy, stage), 8 },
	{ "table_copy.nflags", offsetof(struct table_copy, nflags), 12 },
	{ "table_copy.check", offsetof(struct table_copy, check), 16 },
	{ "table_copy.index", offsetof(struct table_copy, index), 64 },
	{ "table_copy.rec", offsetof(struct table_copy, rec), 64 + 1024 },
	{ "sizeof table_copy", sizeof(struct table_copy),
	    64 + 1024 + 80 * 256 },
	{ "table_header.magic", offsetof(struct table_header, magic), 0 },
	{ "table_header.version", offsetof(struct table_header, version), 8 },
	{ "table_header.writer_uid", offsetof(struct table_header, writer_uid),
	    28 },
	{ "table_header.retired", offsetof(struct table_header, retired), 32 },
	{ "table_header.writer_pid", offsetof(struct table_header, writer_pid),
	    36 },
	{ "table_header.seq", offsetof(struct table_header, seq), 40 },
	{ "table_header.size", offsetof(struct table_header, size), 48 },
	{ "table_header.writer_start",
	    offsetof(struct table_header, writer_start), 56 },
	{ "table_header.name", offsetof(struct table_header, name), 64 },
	{ "sizeof table_header", sizeof(struct table_header), 512 },
	{ "table_layout.copy[1]", offsetof(struct table_layout, copy[1]),
	    512 + sizeof(struct table_copy) },
	{ "TABLE_SIZE", TABLE_SIZE, 512 + 2 * sizeof(struct table_copy) },
};

START_TEST(test_layout)
{
	struct table	*t;
	struct stat	 st;
	char		 name[128], path[160];
	mode_t		 old;

	for (size_t i = 0; i < nitems(layout); i++)
		ck_assert_msg(layout[i].got == layout[i].want,
		    "%s: %zu, want %zu", layout[i].what, layout[i].got,
		    layout[i].want);

	/* The object: our size, our uid, 0644 whatever the umask. */
	old = umask(077);
	t = mk("layout", name, sizeof(name));
	umask(old);
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, (off_t)TABLE_SIZE);
	ck_assert_uint_eq(st.st_uid, geteuid());
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_uint_eq(table_test_layout(t)->hdr.magic, TABLE_MAGIC);
	ck_assert_str_eq(table_test_layout(t)->hdr.name, name);
	ck_assert_uint_eq(table_test_layout(t)->hdr.writer_pid, getpid());
	ck_assert_uint_eq(table_test_layout(t)->hdr.writer_uid, geteuid());
	ck_assert_uint_eq(table_test_layout(t)->hdr.size, TABLE_SIZE);
	ck_assert_uint_eq(table_generation(t), 0);
	ck_assert_int_eq(table_stage(t), -1);
	ck_assert_str_eq(table_name(t), name);
	table_close(t);
	shm_unlink(name);
}
END_TEST

static const struct {
	const char	*s;
	uint32_t	 seed;
	uint32_t	 h;
} vectors[] = {
	/* Published vectors, each also recomputed by an independent implementation. */
	{ "", 0, 0x00000000 },
	{ "", 1, 0x514E28B7 },
	{ "", 0xffffffff, 0x81F16F39 },
	{ "hello", 0, 0x248BFA47 },
	{ "test", 0, 0xBA6BD213 },
	{ "abc", 0, 0xB3DD93FA },
	{ "a", 0x9747b28c, 0x7FA09EA6 },
	{ "aaaa", 0x9747b28c, 0x5A97808A },
	{ "Hello, world!", 0, 0xC0363E43 },
	{ "Hello, world!", 1234, 0xFAF6CDB3 },
	{ "Hello, world!", 0x9747b28c, 0x24884CBA },
	{ "The quick brown fox jumps over the lazy dog", 0, 0x2E4FF723 },
	{ "The quick brown fox jumps over the lazy dog", 0x9747b28c,
	    0x2FA826CD },
};

START_TEST(test_murmur3_vectors)
{
	size_t	i;

	for (i = 0; i < nitems(vectors); i++)
		ck_assert_msg(murmur3_x86_32(vectors[i].s, strlen(vectors[i].s),
		    vectors[i].seed) == vectors[i].h, "\"%s\" seed %u",
		    vectors[i].s, vectors[i].seed);
	/* Four zero bytes: a full block of zeros is not "nothing". */
	ck_assert_uint_eq(murmur3_x86_32("\0\0\0\0", 4, 0), 0x2362F9DE);
}
END_TEST

/* The streaming form equals the one-shot form, however the key is cut. */
START_TEST(test_murmur3_streaming)
{
	struct murmur3_state	st;
	unsigned char		buf[41];
	size_t			len, a, b, i;
	uint32_t		want;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 37 + 11);
	for (len = 0; len <= sizeof(buf); len++) {
		want = murmur3_x86_32(buf, len, 0x1234);
		for (a = 0; a <= len; a++)
			for (b = a; b <= len; b++) {
				murmur3_init(&st, 0x1234);
				murmur3_update(&st, buf, a);
				murmur3_update(&st, buf + a, b - a);
				murmur3_update(&st, buf + b, len - b);
				ck_assert_uint_eq(murmur3_final(&st), want);
			}
	}
}
END_TEST

/* ---- publish and read ---- */

START_TEST(test_publish_read)
{
	static const char *const names[] = { "on", "off", "half", "one" };
	static const uint32_t values[] = { 100, 0, 50, 1 };
	struct table	*t;
	warden_table	*r;
	char		 name[128], longname[100];

	t = mk("pubread", name, sizeof(name));
	r = reader(name, HOUR_NS);
	ck_assert(warden_test_attached(r));
	/* Created, not yet published: no flags, stage unknown. */
	ck_assert_int_eq(warden_stage(r), -1);
	ck_assert_uint_eq(warden_generation(r), 0);
	assert_default(r, "on");

	publish(t, 3, nitems(names), names, values);
	ck_assert_uint_eq(table_generation(t), 1);
	ck_assert_int_eq(table_stage(t), 3);
	ck_assert_int_eq(warden_stage(r), 3);
	ck_assert_uint_eq(warden_generation(r), 1);
	assert_on(r, "on");
	assert_off(r, "off");
	/* A percentage is not "enabled"; enabled_for buckets it. */
	assert_off(r, "half");
	ck_assert(warden_enabled_for(r, "on", "anyone", false));
	ck_assert(!warden_enabled_for(r, "off", "anyone", true));
	/* Unknown, empty, too long or NULL: the caller's default. */
	assert_default(r, "nosuch");
	assert_default(r, "");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_default(r, longname);
	ck_assert(warden_enabled(r, NULL, true));
	ck_assert(!warden_enabled(r, NULL, false));
	ck_assert(warden_enabled_for(r, NULL, "id", true));
	/* A rollout with no id to bucket: the default. */
	ck_assert(warden_enabled_for(r, "half", NULL, true));
	ck_assert(!warden_enabled_for(r, "half", NULL, false));
	ck_assert(warden_enabled_for(r, "on", NULL, false));

	/* A later publish is seen by the same handle at once. */
	publish_all(t, 4, nitems(names), names, 0);
	ck_assert_uint_eq(table_generation(t), 2);
	ck_assert_int_eq(warden_stage(r), 4);
	assert_off(r, "on");
	ck_assert_uint_eq(warden_generation(r), table_generation(t));
	publish_all(t, 5, nitems(names), names, 100);
	ck_assert_uint_eq(warden_generation(r), table_generation(t));
	ck_assert_int_eq(warden_stage(r), 5);
	assert_on(r, "half");
	assert_on(r, "off");
	ck_assert_int_eq(table_check(t), TABLE_OK);

	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/* Full capacity, names chosen to collide in the index. */
START_TEST(test_capacity)
{
	static char	names[TABLE_CAPACITY][TABLE_NAME_SIZE];
	const char	*ptrs[TABLE_CAPACITY];
	uint32_t	 values[TABLE_CAPACITY];
	struct table	*t;
	warden_table	*r;
	char		 name[128], buf[TABLE_NAME_SIZE];
	size_t		 i;

	for (i = 0; i < TABLE_CAPACITY; i++) {
		snprintf(names[i], sizeof(names[i]), "flag_%03zu", i);
		ptrs[i] = names[i];
		values[i] = i % 2 == 0 ? 100 : 0;
	}
	/* The longest name there is. */
	memset(names[7], 'n', TABLE_NAME_MAX);
	names[7][TABLE_NAME_MAX] = '\0';
	t = mk("capacity", name, sizeof(name));
	publish(t, 1, TABLE_CAPACITY, ptrs, values);
	r = reader(name, HOUR_NS);
	for (i = 0; i < TABLE_CAPACITY; i++) {
		/* Through a copy: another pointer, the same name. */
		memcpy(buf, names[i], sizeof(buf));
		ck_assert_msg(warden_enabled(r, buf, i % 2 != 0) == (i % 2 == 0),
		    "%s", names[i]);
		ck_assert_msg(warden_enabled(r, names[i], i % 2 != 0) ==
		    (i % 2 == 0), "%s", names[i]);
	}
	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/* One buffer holding one name after another: the cache checks names. */
START_TEST(test_reused_buffer)
{
	static const char *const names[] = { "alpha", "beta", "gamma12345",
	    "delta_long_name_past_sixteen" };
	static const uint32_t values[] = { 100, 0, 100, 0 };
	struct table	*t;
	warden_table	*r;
	char		 name[128], buf[64];
	size_t		 i, k;

	t = mk("reuse", name, sizeof(name));
	publish(t, 1, nitems(names), names, values);
	r = reader(name, HOUR_NS);
	for (k = 0; k < 50; k++)
		for (i = 0; i < nitems(names); i++) {
			snprintf(buf, sizeof(buf), "%s", names[i]);
			ck_assert(warden_enabled(r, buf, false) == (values[i] == 100));
			ck_assert(warden_enabled(r, buf, true) == (values[i] == 100));
		}
	/* Same length, one byte apart. */
	snprintf(buf, sizeof(buf), "alpha");
	ck_assert(warden_enabled(r, buf, false));
	buf[4] = 'b';
	ck_assert(!warden_enabled(r, buf, false));
	ck_assert(warden_enabled(r, buf, true));
	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

START_TEST(test_publish_invalid)
{
	static const char *const good[] = { "a", "b" };
	static const uint32_t goodv[] = { 100, 0 };
	struct table_flag	 f[TABLE_CAPACITY + 1];
	static char		 names[TABLE_CAPACITY + 1][16];
	char			 name[128], toolong[TABLE_NAME_SIZE + 1];
	struct table		*t;
	warden_table		*r;
	size_t			 i;

	t = mk("invalid", name, sizeof(name));
	publish(t, 2, 2, good, goodv);
	r = reader(name, HOUR_NS);

	for (i = 0; i <= TABLE_CAPACITY; i++) {
		snprintf(names[i], sizeof(names[i]), "f%zu", i);
		f[i].name = names[i];
		f[i].value = 100;
	}
	errno = 0;
	ck_assert_int_eq(table_publish(t, 3, f, TABLE_CAPACITY + 1), -1);
	ck_assert_int_eq(errno, ENOSPC);

	memset(toolong, 'x', TABLE_NAME_SIZE);
	toolong[TABLE_NAME_SIZE] = '\0';
	f[1].name = toolong;
	ck_assert_int_eq(table_publish(t, 3, f, 2), -1);
	ck_assert_int_eq(errno, EINVAL);
	f[1].name = "";
	ck_assert_int_eq(table_publish(t, 3, f, 2), -1);
	f[1].name = NULL;
	ck_assert_int_eq(table_publish(t, 3, f, 2), -1);
	f[1].name = "f0";		/* the same name twice */
	ck_assert_int_eq(table_publish(t, 3, f, 2), -1);
	ck_assert_int_eq(errno, EINVAL);
	f[1].name = "f1";
	f[1].value = 101;
	ck_assert_int_eq(table_publish(t, 3, f, 2), -1);
	f[1].value = 0;
	ck_assert_int_eq(table_publish(t, -1, f, 2), -1);
	ck_assert_int_eq(errno, EINVAL);

	/* Nothing changed. */
	ck_assert_uint_eq(table_generation(t), 1);
	ck_assert_int_eq(table_stage(t), 2);
	ck_assert_int_eq(table_check(t), TABLE_OK);
	ck_assert_int_eq(warden_stage(r), 2);
	assert_on(r, "a");
	assert_default(r, "f0");

	/* Exactly the capacity is fine; so is nothing at all. */
	ck_assert_int_eq(table_publish(t, 3, f, TABLE_CAPACITY), 0);
	assert_on(r, "f0");
	assert_off(r, "f1");
	assert_on(r, names[TABLE_CAPACITY - 1]);
	ck_assert_int_eq(table_publish(t, 0, NULL, 0), 0);
	ck_assert_int_eq(warden_stage(r), 0);
	assert_default(r, "f0");

	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

START_TEST(test_null_handle)
{
	warden_close(NULL);
	ck_assert(warden_enabled(NULL, "x", true));
	ck_assert(!warden_enabled(NULL, "x", false));
	ck_assert(warden_enabled(NULL, NULL, true));
	ck_assert(warden_enabled_for(NULL, "x", "id", true));
	ck_assert(!warden_enabled_for(NULL, "x", "id", false));
	ck_assert(warden_enabled_for(NULL, NULL, NULL, true));
	ck_assert_int_eq(warden_stage(NULL), -1);
	ck_assert(!warden_test_attached(NULL));
}
END_TEST

/* ---- rollout ---- */

static uint32_t
bucket_of(const char *flag, const char *id)
{
	char		*key;
	uint32_t	 h;

	ck_assert_int_ge(xasprintf(&key, "%s:%s", flag, id), 0);
	h = murmur3_x86_32(key, strlen(key), 0) % 10000;
	free(key);
	return h;
}

START_TEST(test_rollout_formula)
{
	static const char *const names[] = { "rollout" };
	static const uint32_t values[] = { 37 };
	struct table	*t;
	warden_table	*r;
	char		 name[128], id[32], longid[700];
	size_t		 i, on = 0;

	t = mk("formula", name, sizeof(name));
	publish(t, 1, 1, names, values);
	r = reader(name, HOUR_NS);
	for (i = 0; i < 2000; i++) {
		snprintf(id, sizeof(id), "user-%zu", i);
		ck_assert(warden_enabled_for(r, "rollout", id, false) ==
		    (bucket_of("rollout", id) < 3700));
		on += warden_enabled_for(r, "rollout", id, true);
	}
	ck_assert_msg(on > 600 && on < 880, "37%% of 2000: %zu", on);
	/* Keys past the stack buffer are hashed piece by piece. */
	for (i = 200; i < sizeof(longid); i += 37) {
		memset(longid, 'a' + (int)(i % 26), i);
		longid[i] = '\0';
		ck_assert_msg(warden_enabled_for(r, "rollout", longid, false) ==
		    (bucket_of("rollout", longid) < 3700), "id of %zu", i);
	}
	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/* Raising the percentage only ever adds ids. */
START_TEST(test_rollout_monotonic)
{
	static const char *const names[] = { "ramp" };
	static uint8_t	 prev[10000], cur[10000];
	struct table	*t;
	warden_table	*r;
	char		 name[128], id[32];
	uint32_t	 p;
	size_t		 i, count;

	t = mk("ramp", name, sizeof(name));
	r = reader(name, HOUR_NS);
	for (p = 0; p <= 100; p++) {
		publish(t, 1, 1, names, &p);
		count = 0;
		for (i = 0; i < nitems(cur); i++) {
			snprintf(id, sizeof(id), "%zu", i);
			cur[i] = warden_enabled_for(r, "ramp", id, p % 2 == 0);
			count += cur[i];
			if (p > 0)
				ck_assert_msg(!prev[i] || cur[i],
				    "id %zu left at %u%%", i, p);
		}
		if (p == 0)
			ck_assert_uint_eq(count, 0);
		else if (p == 100)
			ck_assert_uint_eq(count, nitems(cur));
		else
			ck_assert_msg(count + 400 > p * 100 &&
			    count < p * 100 + 400, "%u%%: %zu of 10000", p, count);
		memcpy(prev, cur, sizeof(prev));
	}
	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/* ---- descriptors, environment, attaching later ---- */

START_TEST(test_env_fd)
{
	static const char *const names[] = { "x" };
	struct table	*t;
	warden_table	*r, *rn;
	struct stat	 st, sn;
	char		 name[128], path[160], num[16];
	int		 fd, fl;
	void		*p;
	char		 c = 0;

	t = mk("envfd", name, sizeof(name));
	publish_all(t, 1, 1, names, 100);
	fd = table_fd_readonly(t);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(table_fd_readonly(t), fd);
	fl = fcntl(fd, F_GETFL);
	ck_assert_int_eq(fl & O_ACCMODE, O_RDONLY);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	/* Read-only for real: no writes, no writable shared mapping. */
	ck_assert_int_eq(write(fd, &c, 1), -1);
	p = mmap(NULL, TABLE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert(p == MAP_FAILED);
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(stat(path, &sn), 0);
	ck_assert(st.st_ino == sn.st_ino && st.st_dev == sn.st_dev);

	/* From the descriptor alone: it learns the name from the header. */
	snprintf(num, sizeof(num), "%d", fd);
	ck_assert_int_eq(setenv("WARDEN_TABLE_FD", num, 1), 0);
	ck_assert_int_eq(unsetenv("WARDEN_TABLE"), 0);
	r = reader(NULL, 0);
	ck_assert(warden_test_attached(r));
	assert_on(r, "x");
	ck_assert_int_eq(warden_stage(r), 1);
	/* The descriptor is left open: it is warden's. */
	ck_assert_int_ne(fcntl(fd, F_GETFD), -1);

	/* From the name alone. */
	ck_assert_int_eq(unsetenv("WARDEN_TABLE_FD"), 0);
	ck_assert_int_eq(setenv("WARDEN_TABLE", name, 1), 0);
	rn = reader(NULL, 0);
	assert_on(rn, "x");

	/* Both follow a repair; the descriptor is a new one. */
	ck_assert_int_eq(table_delete(t), 0);
	ck_assert_int_eq(table_republish(t, NULL, 0), 0);
	publish_all(t, 2, 1, names, 0);
	assert_off(r, "x");
	assert_off(rn, "x");
	ck_assert_int_eq(warden_stage(r), 2);
	fd = table_fd_readonly(t);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(stat(path, &sn), 0);
	ck_assert(st.st_ino == sn.st_ino);

	/* Neither: no table, defaults. */
	ck_assert_int_eq(unsetenv("WARDEN_TABLE"), 0);
	warden_close(rn);
	rn = reader(NULL, 0);
	ck_assert(!warden_test_attached(rn));
	assert_default(rn, "x");
	/* A descriptor that is not a table. */
	ck_assert_int_eq(setenv("WARDEN_TABLE_FD", "0", 1), 0);
	warden_close(rn);
	rn = reader(NULL, 0);
	assert_default(rn, "x");
	ck_assert_int_eq(setenv("WARDEN_TABLE_FD", "junk", 1), 0);
	warden_close(rn);
	rn = reader(NULL, 0);
	assert_default(rn, "x");
	ck_assert_int_eq(unsetenv("WARDEN_TABLE_FD"), 0);

	warden_close(rn);
	warden_close(r);
	table_close(t);
	shm_unlink(name);
}
END_TEST

/* No table at open: defaults, then the table once it is there. */
START_TEST(test_attach_later)
{
	static const char *const names[] = { "later" };
	struct table	*t;
	warden_table	*r, *slow;
	char		 name[128];

	shm_name(name, sizeof(name), "later");
	shm_unlink(name);
	r = reader(name, 0);
	slow = reader(name, HOUR_NS);
	ck_assert(!warden_test_attached(r));
	assert_default(r, "later");
	ck_assert_int_eq(warden_stage(r), -1);
	ck_assert_int_eq(warden_stage(slow), -1);

	t = mk("later", name, sizeof(name));
	publish_all(t, 6, 1, names, 100);
	assert_on(r, "later");
	ck_assert_int_eq(warden_stage(r), 6);
	ck_assert(warden_test_attached(r));
	/* At most every retry interval: this one does not look again yet. */
	ck_assert(!warden_test_attached(slow));
	assert_default(slow, "later");
	warden_test_set_retry(slow, 0);
	assert_on(slow, "later");
	ck_assert(warden_test_attached(slow));

	warden_close(slow);
	warden_close(r);
	table_close(t);
	shm_unlink(name);

	/* Names a table can never have. */
	r = warden_open("");
	ck_assert_ptr_nonnull(r);
	assert_default(r, "x");
	warden_close(r);
	{
		char	longname[400];

		memset(longname, 'l', sizeof(longname) - 1);
		longname[0] = '/';
		longname[sizeof(longname) - 1] = '\0';
		r = warden_open(longname);
		ck_assert_ptr_nonnull(r);
		assert_default(r, "x");
		warden_close(r);
	}
}
END_TEST

static Suite *
table_suite(void)
{
	Suite	*s = suite_create("table");
	TCase	*tc = tcase_create("table");

	tcase_add_unchecked_fixture(tc, tabletest_setup, tabletest_teardown);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_murmur3_vectors);
	tcase_add_test(tc, test_murmur3_streaming);
	tcase_add_test(tc, test_publish_read);
	tcase_add_test(tc, test_capacity);
	tcase_add_test(tc, test_reused_buffer);
	tcase_add_test(tc, test_publish_invalid);
	tcase_add_test(tc, test_null_handle);
	tcase_add_test(tc, test_rollout_formula);
	tcase_add_test(tc, test_rollout_monotonic);
	tcase_add_test(tc, test_env_fd);
	tcase_add_test(tc, test_attach_later);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(table_suite)
