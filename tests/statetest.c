/*
 * statetest.c: what the flag-state suites share (statetest.h).
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "journal.h"
#include "statetest.h"
#include "util.h"

const struct journal_io real_io = { write, fdatasync, fsync, ftruncate };

char	*top;		/* a fresh folder per test */
char	*sdir;		/* top/state: created by journal_open */

void
statetest_setup(void)
{
	umask(022);
	journal_io = real_io;
	top = xstrdup("/tmp/check-state-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(top));
	xasprintf(&sdir, "%s/state", top);
	/* The cut-tail warnings are expected; keep the output readable. */
	log_init("check_state", LOG_LEVEL_ERR);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
rmtree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void
statetest_teardown(void)
{
	journal_io = real_io;
	rmtree(top);
	free(top);
	free(sdir);
}

char *
path_in(const char *dir, const char *name)
{
	char	*p;

	xasprintf(&p, "%s/%s", dir, name);
	return p;
}

off_t
size_of(const char *dir, const char *name)
{
	struct stat	 sb;
	char		*p = path_in(dir, name);

	ck_assert_msg(stat(p, &sb) == 0, "%s: %s", p, strerror(errno));
	free(p);
	return sb.st_size;
}

bool
exists(const char *dir, const char *name)
{
	struct stat	 sb;
	char		*p = path_in(dir, name);
	int		 rc = stat(p, &sb);

	free(p);
	return rc == 0;
}

char *
slurp(const char *dir, const char *name, size_t *len)
{
	char	*p = path_in(dir, name), *buf;
	FILE	*f = fopen(p, "rb");
	long	 n;

	ck_assert_msg(f != NULL, "%s: %s", p, strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	free(p);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

void
spit(const char *dir, const char *name, const char *buf, size_t len)
{
	char	*p = path_in(dir, name);
	FILE	*f = fopen(p, "wb");

	ck_assert_msg(f != NULL, "%s: %s", p, strerror(errno));
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	free(p);
}

/* journal_open() and, unless `begin` is false, journal_begin(). */
struct journal *
open_begin(const char *dir, json_t **snap, json_t **recs, bool begin)
{
	struct journal	*st = NULL;
	json_t		*s = NULL, *r = NULL;
	char		 err[1024];

	err[0] = '\0';
	ck_assert_msg(journal_open(dir, &st, &s, &r, err, sizeof(err)) == 0,
	    "journal_open: %s", err);
	ck_assert_ptr_nonnull(st);
	if (begin)
		ck_assert_msg(journal_begin(st, err, sizeof(err)) == 0,
		    "journal_begin: %s", err);
	ck_assert(json_is_array(r));
	if (snap != NULL)
		*snap = s;
	else
		json_decref(s);
	if (recs != NULL)
		*recs = r;
	else
		json_decref(r);
	return st;
}

struct journal *
open_ok(const char *dir, json_t **snap, json_t **recs)
{
	return open_begin(dir, snap, recs, true);
}

/* journal_open must fail; returns the message. */
char *
open_fails(const char *dir)
{
	static char	 err[1024];
	struct journal	*st = (struct journal *)1;
	json_t		*s = (json_t *)1, *r = (json_t *)1;

	err[0] = '\0';
	ck_assert_int_eq(journal_open(dir, &st, &s, &r, err, sizeof(err)), -1);
	ck_assert_ptr_null(st);
	ck_assert_ptr_null(s);
	ck_assert_ptr_null(r);
	ck_assert_msg(err[0] != '\0', "no message");
	return err;
}

json_t *
rec_n(int n)
{
	return json_pack("{s:i, s:s, s:i, s:s}", "v", 1, "op", "test", "n", n,
	    "pad", "some text to make the line longer");
}

void
append_ok(struct journal *st, int n, uint64_t want_seq)
{
	json_t	*rec = rec_n(n);

	ck_assert_msg(journal_append(st, rec) == 0, "append: %s",
	    strerror(errno));
	ck_assert_int_eq(json_integer_value(json_object_get(rec, "seq")),
	    (json_int_t)want_seq);
	ck_assert_uint_eq(journal_seq(st), want_seq);
	json_decref(rec);
}

/* recs holds records n = first.., seq = first.. */
void
check_recs(const json_t *recs, size_t count, int first)
{
	size_t	i;

	ck_assert_uint_eq(json_array_size(recs), count);
	for (i = 0; i < count; i++) {
		const json_t *r = json_array_get(recs, i);

		ck_assert_int_eq(json_integer_value(json_object_get(r, "n")),
		    first + (int)i);
		ck_assert_int_eq(json_integer_value(json_object_get(r, "seq")),
		    first + (json_int_t)i);
	}
}

/* --- injected failures ------------------------------------------------------------ */

size_t	write_allow;	/* bytes written before the failure */
int	write_err;
int	fsync_calls, fsync_fail_at;

ssize_t
failing_write(int fd, const void *buf, size_t len)
{
	ssize_t	n;

	if (write_allow == 0) {
		errno = write_err;
		return -1;
	}
	if (len > write_allow)
		len = write_allow;
	if ((n = write(fd, buf, len)) > 0)
		write_allow -= (size_t)n;
	return n;
}

/* A write that is interrupted before doing anything, every other call. */
ssize_t
eintr_write(int fd, const void *buf, size_t len)
{
	static int	calls;

	if (calls++ % 2 == 0) {
		errno = EINTR;
		return -1;
	}
	/* And short: one byte at a time. */
	return write(fd, buf, len > 0 ? 1 : 0);
}

int
failing_sync(int fd)
{
	(void)fd;
	errno = EIO;
	return -1;
}

int
counting_fsync(int fd)
{
	if (++fsync_calls == fsync_fail_at) {
		errno = EIO;
		return -1;
	}
	return fsync(fd);
}

int
failing_ftruncate(int fd, off_t len)
{
	(void)fd;
	(void)len;
	errno = EIO;
	return -1;
}
