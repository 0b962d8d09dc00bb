/*
 * statetest.h: what the flag-state suites (check_state, check_state_disk)
 * share: a fresh folder per test, its files, journals opened, appended
 * and checked, and a disk that fails on demand (journal_io). Like
 * testlib.h, the helpers keep the names the suite gave them.
 */
#ifndef WARDEN_TESTS_STATETEST_H
#define WARDEN_TESTS_STATETEST_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "journal.h"

/* The calls that really reach the disk, put back after each test. */
extern const struct journal_io	real_io;

extern char	*top;		/* a fresh folder per test */
extern char	*sdir;		/* top/state: created by journal_open */

/* The checked fixture: top made, journal_io real, quiet logs; removed. */
void		 statetest_setup(void);
void		 statetest_teardown(void);

/* rm -r path. */
void		 rmtree(const char *path);
/* "dir/name", malloc'd. */
char		*path_in(const char *dir, const char *name);
/* The size of dir/name, which must exist; whether it exists. */
off_t		 size_of(const char *dir, const char *name);
bool		 exists(const char *dir, const char *name);
/* dir/name's bytes, malloc'd and NUL-terminated (*len: without the NUL). */
char		*slurp(const char *dir, const char *name, size_t *len);
/* Write dir/name. */
void		 spit(const char *dir, const char *name, const char *buf,
		    size_t len);

/* journal_open() and, unless begin is false, journal_begin(): must work. */
struct journal	*open_begin(const char *dir, json_t **snap, json_t **recs,
		    bool begin);
struct journal	*open_ok(const char *dir, json_t **snap, json_t **recs);
/* journal_open() must fail; its message (a buffer the next call reuses). */
char		*open_fails(const char *dir);
/* A record numbered n; append it, which must get seq want_seq. */
json_t		*rec_n(int n);
void		 append_ok(struct journal *st, int n, uint64_t want_seq);
/* recs holds count records numbered first.., seq first.. */
void		 check_recs(const json_t *recs, size_t count, int first);

/*
 * A disk that fails, for journal_io: failing_write() writes write_allow
 * bytes, then fails with write_err; eintr_write() is interrupted every
 * other call and writes a byte at a time; failing_sync() and
 * failing_ftruncate() fail with EIO; counting_fsync() fails the
 * fsync_fail_at'th call (fsync_calls counts them).
 */
extern size_t	write_allow;
extern int	write_err;
extern int	fsync_calls, fsync_fail_at;

ssize_t		 failing_write(int fd, const void *buf, size_t len);
ssize_t		 eintr_write(int fd, const void *buf, size_t len);
int		 failing_sync(int fd);
int		 counting_fsync(int fd);
int		 failing_ftruncate(int fd, off_t len);

#endif
