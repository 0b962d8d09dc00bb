/*
 * tabletest.h: what the table suites (check_table, check_table_writer,
 * check_table_repair) share: shared-memory objects named for this run of
 * a suite, made, published and read, and the fixture that removes them.
 * Like testlib.h, the helpers keep the names the suite gave them.
 */
#ifndef WARDEN_TESTS_TABLETEST_H
#define WARDEN_TESTS_TABLETEST_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "table.h"
#include "warden.h"

#define HOUR_NS		(3600ull * 1000 * 1000 * 1000)

/*
 * The unchecked fixture of every table suite: objects are named for the
 * runner's pid, and whatever a failed test left behind is removed at the
 * end.
 */
void		 tabletest_setup(void);
void		 tabletest_teardown(void);

/* "/warden-tcheck-<pid of the runner>-<tag>" into buf. */
void		 shm_name(char *buf, size_t len, const char *tag);
/* A fresh table named for tag (its name in name). */
struct table	*mk(const char *tag, char *name, size_t len);
/* Publish n flags with these values; the same value for all. */
void		 publish(struct table *t, int stage, size_t n,
		    const char *const *names, const uint32_t *values);
void		 publish_all(struct table *t, int stage, size_t n,
		    const char *const *names, uint32_t value);
/* A reader of name that looks again every retry_ns. */
warden_table	*reader(const char *name, uint64_t retry_ns);
/* The flag reads as both defaults (the handle has no value), on, off. */
void		 assert_default(warden_table *r, const char *flag);
void		 assert_on(warden_table *r, const char *flag);
void		 assert_off(warden_table *r, const char *flag);
/* len bytes from a pipe, which must come within 10 s. */
void		 pipe_wait(int fd, void *buf, size_t len);
/* SIGKILL a child and reap it. */
void		 kill_wait(pid_t pid);

#endif
