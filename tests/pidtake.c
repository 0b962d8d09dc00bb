/*
 * pidtake.c: a child at a chosen pid (pidtake.h).
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "pidtake.h"

/* The child: become, tell the parent it is there, and wait to be killed. */
static void
pidtake_child(int fd, pidtake_become_fn *become, const void *arg)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || become(arg) == -1)
		_exit(1);
	(void)!write(fd, "x", 1);
	close(fd);
	for (;;)
		pause();
}

int
pidtake_end(pid_t pid)
{
	int	rc = kill(pid, SIGKILL);

	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
	return rc;
}

pid_t
pidtake_fork_at(pid_t want, pidtake_become_fn *become, const void *arg)
{
	char	num[32], c;
	pid_t	pid;
	int	p[2], tries;

	for (tries = 0; tries < 50; tries++) {
		snprintf(num, sizeof(num), "%ld", (long)want - 1);
		if (write_text("/proc/sys/kernel/ns_last_pid", num) == -1) {
			fprintf(stderr, "%s: ns_last_pid: %s\n",
			    program_invocation_short_name, strerror(errno));
			return -1;
		}
		ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
		fflush(NULL);
		pid = fork();
		ck_assert_int_ne(pid, -1);
		if (pid == 0) {
			close(p[0]);
			pidtake_child(p[1], become, arg);
		}
		close(p[1]);
		ck_assert_int_eq(read(p[0], &c, 1), 1);
		close(p[0]);
		if (pid == want)
			return pid;
		/* Someone else forked in between: again. */
		pidtake_end(pid);
	}
	fprintf(stderr, "%s: pid %ld could not be taken\n",
	    program_invocation_short_name, (long)want);
	return -1;
}
