/*
 * procinfo.c: what /proc says of a process (see procinfo.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "procinfo.h"

/*
 * A /proc/.../stat file read into buf: its fields after the name, from
 * field 3 (state) on, or NULL. The name may hold spaces and parentheses:
 * the fields follow the last ')'.
 */
static const char *
proc_stat_fields(const char *path, char *buf, size_t len)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strrchr(buf, ')');
}

int
proc_info(pid_t pid, struct proc_info *pi)
{
	char		 path[64], buf[1024];
	const char	*p;
	int		 ppid, pgrp;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((p = proc_stat_fields(path, buf, sizeof(buf))) == NULL || sscanf(p + 1,
	    " %c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d"
	    " %*d %*d %llu", &pi->state, &ppid, &pgrp, &pi->start) != 4)
		return -1;
	pi->ppid = ppid;
	pi->pgrp = pgrp;
	return 0;
}

int
proc_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

int
proc_pidfd_signal(int pidfd, int sig)
{
#ifdef SYS_pidfd_send_signal
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
#else
	(void)pidfd;
	(void)sig;
	errno = ENOSYS;
	return -1;
#endif
}

uint64_t
proc_ticks_now(void)
{
	static long	hz;
	struct timespec	ts;

	if (hz <= 0 && (hz = sysconf(_SC_CLK_TCK)) <= 0)
		hz = 100;
	if (clock_gettime(CLOCK_BOOTTIME, &ts) == -1)
		fatal("clock_gettime(CLOCK_BOOTTIME)");
	return (uint64_t)ts.tv_sec * (uint64_t)hz +
	    (uint64_t)ts.tv_nsec / (1000000000UL / (unsigned long)hz);
}

/*
 * Open descriptors. Linux 6.2 and later say how many as the size of
 * /proc/self/fd, at once; else its entries are counted, less the one
 * reading it (a thousand workers' pipes: a millisecond).
 */
static uint64_t
proc_self_fds(void)
{
	struct dirent	*e;
	struct stat	 st;
	DIR		*d;
	uint64_t	 n = 0;

	if (stat("/proc/self/fd", &st) == 0 && st.st_size > 0)
		return (uint64_t)st.st_size;
	if ((d = opendir("/proc/self/fd")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0;
}

int
proc_self(struct proc_self *ps)
{
	char			 buf[2048];
	const char		*p;
	unsigned long		 utime, stime, vsize;
	unsigned long long	 start;
	long			 rss, hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	struct rlimit		 rl;
	struct timespec		 boot, real;

	/* Fields 14, 15 (utime, stime), 22 (starttime), 23 (vsize), 24 (rss). */
	if ((p = proc_stat_fields("/proc/self/stat", buf, sizeof(buf))) == NULL ||
	    sscanf(p + 1,
	    " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d"
	    " %*d %*d %*d %llu %lu %ld", &utime, &stime, &start, &vsize,
	    &rss) != 5)
		return -1;
	if (hz <= 0)
		hz = 100;
	if (page <= 0)
		page = 4096;
	if (clock_gettime(CLOCK_BOOTTIME, &boot) == -1 ||
	    clock_gettime(CLOCK_REALTIME, &real) == -1)
		return -1;
	ps->cpu_seconds = (double)(utime + stime) / (double)hz;
	/* Started this long ago, on the boot clock; then on the wall clock. */
	ps->start_time = (double)real.tv_sec + real.tv_nsec / 1e9 -
	    ((double)boot.tv_sec + boot.tv_nsec / 1e9 - (double)start / (double)hz);
	/* Whole ticks, as /proc counts them: the same at every scrape. */
	ps->start_time = floor(ps->start_time * (double)hz + 0.5) / (double)hz;
	ps->virtual_bytes = vsize;
	ps->resident_bytes = rss > 0 ? (uint64_t)rss * (uint64_t)page : 0;
	ps->open_fds = proc_self_fds();
	ps->max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY ? (uint64_t)rl.rlim_cur : 0;
	return 0;
}
