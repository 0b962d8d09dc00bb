/*
 * pidtake.h: a process of the test's own at exactly the pid a test
 * chooses, by writing the last pid the kernel gave out
 * (/proc/sys/kernel/ns_last_pid, root only) and forking. The suites that
 * see a pid reused (check_faults_procs, check_roles) share it.
 */
#ifndef WARDEN_TESTS_PIDTAKE_H
#define WARDEN_TESTS_PIDTAKE_H

#include <sys/types.h>

/*
 * In the child: make it what the test needs (its own process group, other
 * credentials...); 0, or -1 when it cannot.
 */
typedef int	 pidtake_become_fn(const void *arg);

/*
 * A child with exactly pid want, once become(arg) has succeeded, waiting
 * in pause() until killed (or its parent dies); -1, with a message, when
 * the pid cannot be chosen here.
 */
pid_t		 pidtake_fork_at(pid_t want, pidtake_become_fn *become,
		    const void *arg);
/* End such a child: SIGKILL, and reap it. 0, or -1 when it was gone. */
int		 pidtake_end(pid_t pid);

#endif
