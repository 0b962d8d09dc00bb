/*
 * tabletest.c: what the table suites share (tabletest.h).
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libwarden-test.h"
#include "table.h"
#include "tabletest.h"
#include "warden.h"

#define SHM_PREFIX	"warden-tcheck-"

static pid_t	tabletest_pid;

void
shm_name(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "/" SHM_PREFIX "%ld-%s", (long)tabletest_pid, tag);
}

/* Remove every object this run of the suite made. */
static void
tabletest_cleanup(void)
{
	char		 prefix[64], name[300];
	struct dirent	*de;
	DIR		*d;

	snprintf(prefix, sizeof(prefix), SHM_PREFIX "%ld-", (long)tabletest_pid);
	if ((d = opendir("/dev/shm")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(name, sizeof(name), "/%s", de->d_name);
		shm_unlink(name);
	}
	closedir(d);
}

void
tabletest_setup(void)
{
	if (tabletest_pid == 0)
		tabletest_pid = getpid();
}

void
tabletest_teardown(void)
{
	tabletest_cleanup();
}

struct table *
mk(const char *tag, char *name, size_t len)
{
	struct table	*t;
	char		 err[512];

	shm_name(name, len, tag);
	shm_unlink(name);
	err[0] = '\0';
	t = table_create(name, 0, err, sizeof(err));
	ck_assert_msg(t != NULL, "table_create %s: %s", name, err);
	return t;
}

void
publish(struct table *t, int stage, size_t n, const char *const *names,
    const uint32_t *values)
{
	struct table_flag	f[TABLE_CAPACITY];
	size_t			i;

	ck_assert_uint_le(n, TABLE_CAPACITY);
	for (i = 0; i < n; i++) {
		f[i].name = names[i];
		f[i].value = values[i];
	}
	ck_assert_msg(table_publish(t, stage, f, n) == 0, "publish: %s",
	    strerror(errno));
}

/* The same value for every flag. */
void
publish_all(struct table *t, int stage, size_t n, const char *const *names,
    uint32_t value)
{
	uint32_t	v[TABLE_CAPACITY];
	size_t		i;

	for (i = 0; i < n; i++)
		v[i] = value;
	publish(t, stage, n, names, v);
}

warden_table *
reader(const char *name, uint64_t retry_ns)
{
	warden_table	*r = warden_open(name);

	ck_assert_ptr_nonnull(r);
	warden_test_set_retry(r, retry_ns);
	return r;
}

/* Both defaults: the handle had no value for the flag. */
void
assert_default(warden_table *r, const char *flag)
{
	ck_assert_msg(!warden_enabled(r, flag, false), "%s: not default", flag);
	ck_assert_msg(warden_enabled(r, flag, true), "%s: not default", flag);
	ck_assert_msg(!warden_enabled_for(r, flag, "id", false), "%s", flag);
	ck_assert_msg(warden_enabled_for(r, flag, "id", true), "%s", flag);
}

/* On (100) whatever the default. */
void
assert_on(warden_table *r, const char *flag)
{
	ck_assert_msg(warden_enabled(r, flag, false), "%s: not on", flag);
	ck_assert_msg(warden_enabled(r, flag, true), "%s: not on", flag);
}

void
assert_off(warden_table *r, const char *flag)
{
	ck_assert_msg(!warden_enabled(r, flag, false), "%s: not off", flag);
	ck_assert_msg(!warden_enabled(r, flag, true), "%s: not off", flag);
}

/* Wait for one byte (or a word) from a pipe, bounded by a deadline. */
void
pipe_wait(int fd, void *buf, size_t len)
{
	struct pollfd	pfd = { .fd = fd, .events = POLLIN };
	ssize_t		n;

	ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
	do {
		n = read(fd, buf, len);
	} while (n == -1 && errno == EINTR);
	ck_assert_int_eq(n, (ssize_t)len);
}

void
kill_wait(pid_t pid)
{
	int	status;

	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

