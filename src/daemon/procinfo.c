/*
 * procinfo.c: what /proc says of a process (see procinfo.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "procinfo.h"

int
proc_info(pid_t pid, struct proc_info *pi)
{
	char	path[64], buf[1024], *p;
	ssize_t	n;
	int	fd, ppid, pgrp;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The name may hold spaces and parentheses: fields follow the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1,
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
