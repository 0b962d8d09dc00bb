/*
 * fuzz-util.c: scratch folders and shared memory names for the fuzz
 * targets (see fuzz-util.h).
 *
 * libFuzzer ends a run with exit(3), so atexit(3) cleans up after a
 * normal run; a crash leaves its folder and objects behind, and the next
 * run of the same target sweeps those whose process is gone.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-util.h"
#include "util.h"

#define FUZZ_PREFIX	"warden-fuzz-"
#define FUZZ_SHM_DIR	"/dev/shm"

static char	fuzz_dir[PATH_MAX];
static char	fuzz_shm[NAME_MAX];
static int	fuzz_cleanup_armed;

static int
fuzz_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

static void
fuzz_rm_tree(const char *path)
{
	(void)nftw(path, fuzz_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *
fuzz_tmp(void)
{
	const char	*t = getenv("TMPDIR");

	return t != NULL && *t == '/' ? t : "/tmp";
}

/* NAME is PREFIX<pid>[-...]: is that process gone? */
static int
fuzz_orphan(const char *name, const char *prefix)
{
	char	*end;
	long	 pid;

	if (strncmp(name, prefix, strlen(prefix)) != 0)
		return 0;
	errno = 0;
	pid = strtol(name + strlen(prefix), &end, 10);
	if (errno != 0 || pid <= 0 || (*end != '\0' && *end != '-'))
		return 0;
	return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

/* What runs of TAG that crashed left in FOLDER. */
static void
fuzz_sweep(const char *folder, const char *tag, int shm)
{
	char		 prefix[128], path[PATH_MAX];
	struct dirent	*de;
	DIR		*d;

	snprintf(prefix, sizeof(prefix), FUZZ_PREFIX "%s-", tag);
	if ((d = opendir(folder)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!fuzz_orphan(de->d_name, prefix))
			continue;
		if (shm) {
			snprintf(path, sizeof(path), "/%s", de->d_name);
			(void)shm_unlink(path);
		} else {
			snprintf(path, sizeof(path), "%s/%s", folder,
			    de->d_name);
			fuzz_rm_tree(path);
		}
	}
	closedir(d);
}

static void
fuzz_cleanup(void)
{
	if (fuzz_dir[0] != '\0')
		fuzz_rm_tree(fuzz_dir);
	if (fuzz_shm[0] != '\0')
		(void)shm_unlink(fuzz_shm);
}

static void
fuzz_arm_cleanup(void)
{
	if (fuzz_cleanup_armed)
		return;
	fuzz_cleanup_armed = 1;
	if (atexit(fuzz_cleanup) != 0) {
		fprintf(stderr, "fuzz: atexit failed\n");
		abort();
	}
}

const char *
fuzz_scratch_dir(const char *tag)
{
	if (fuzz_dir[0] != '\0')
		return fuzz_dir;
	fuzz_sweep(fuzz_tmp(), tag, 0);
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/" FUZZ_PREFIX "%s-%ld-XXXXXX",
	    fuzz_tmp(), tag, (long)getpid());
	if (mkdtemp(fuzz_dir) == NULL) {
		fprintf(stderr, "fuzz: mkdtemp %s: %s\n", fuzz_dir,
		    strerror(errno));
		abort();
	}
	fuzz_arm_cleanup();
	return fuzz_dir;
}

const char *
fuzz_shm_name(const char *tag)
{
	if (fuzz_shm[0] != '\0')
		return fuzz_shm;
	fuzz_sweep(FUZZ_SHM_DIR, tag, 1);
	snprintf(fuzz_shm, sizeof(fuzz_shm), "/" FUZZ_PREFIX "%s-%ld", tag,
	    (long)getpid());
	fuzz_arm_cleanup();
	return fuzz_shm;
}

int
fuzz_write_file(const char *path, const void *buf, size_t len)
{
	int	fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	r = util_write_all(fd, buf, len);
	if (close(fd) == -1)
		r = -1;
	return r;
}

/*
 * The sanitizers' defaults for every target: undefined behaviour stops
 * the run like any crash (UBSAN_OPTIONS adds to this or overrides it).
 */
const char	*__ubsan_default_options(void);

const char *
__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

void
fuzz_fail(const char *target, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", target);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}
