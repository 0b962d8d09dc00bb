/*
 * procinfo.h: what /proc says of a process, and pidfds where the kernel
 * has them, for signalling processes that are not warden's children
 * without ever hitting a reused pid.
 */
#ifndef WARDEN_PROCINFO_H
#define WARDEN_PROCINFO_H

#include <stdint.h>
#include <sys/types.h>

struct proc_info {
	char			 state;		/* 'Z': a zombie */
	pid_t			 ppid;
	pid_t			 pgrp;
	unsigned long long	 start;		/* field 22: clock ticks since boot */
};

/* /proc/PID/stat. -1 when there is no such process. */
int		proc_info(pid_t, struct proc_info *);
/* A pidfd of pid, or -1 (errno ENOSYS on a kernel without them). */
int		proc_pidfd_open(pid_t);
/* Signal the process of a pidfd. */
int		proc_pidfd_signal(int pidfd, int sig);
/* warden's own, as Prometheus' client libraries give process_* metrics. */
struct proc_self {
	double		 cpu_seconds;		/* user and system */
	double		 start_time;		/* seconds since the epoch */
	uint64_t	 virtual_bytes;
	uint64_t	 resident_bytes;
	uint64_t	 open_fds;
	uint64_t	 max_fds;		/* the soft RLIMIT_NOFILE */
};
/* -1 when /proc/self cannot be read. */
int		proc_self(struct proc_self *);

/* Now, as a start time of /proc/PID/stat: clock ticks since boot. */
uint64_t	proc_ticks_now(void);

#endif
