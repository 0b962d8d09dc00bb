/*
 * spawn.h: fork and exec one worker, as its own process group leader, with
 * stdin on /dev/null, stdout and stderr on one pipe that warden reads, the
 * readiness fd where asked, the environment warden gives, and no other fd.
 */
#ifndef WARDEN_SPAWN_H
#define WARDEN_SPAWN_H

#include <sys/types.h>

#include "config.h"

/* Fixed fd numbers in the worker. */
#define SPAWN_READY_FD	3
#define SPAWN_TABLE_FD	4

struct spawn_env;

struct spawn_args {
	const struct child_conf	*conf;
	const char		*notify_socket;	/* NOTIFY_SOCKET for ready=notify, else NULL */
	const struct spawn_env	*env;		/* from spawn_env(), or NULL: built for this start */
	const char		*table_name;	/* WARDEN_TABLE, or NULL */
	const char		*report_addr;	/* WARDEN_REPORT, or NULL */
	int			 table_fd;	/* read-only fd of the table, -1: none */
	int			 stdin_fd;	/* > 0: the child's stdin (a failure hook's); 0: /dev/null */
};

struct spawn_result {
	pid_t	pid;
	int	out_fd;		/* read end of the worker's stdout, non-blocking */
	int	err_fd;		/* read end of its stderr, non-blocking */
	int	ready_fd;	/* read end of the readiness pipe (ready=fd), else -1 */
	int	exec_errno;	/* 0: exec succeeded; else why the child could not exec */
	char	exec_stage[24];	/* which step failed ("exec", "chdir", "setuid",
				   "rlimits.nofile", ...) */
};

/* Once at start-up: remember the fd limit workers get back. */
void	spawn_init(void);

/*
 * The environment a worker gets (warden's own, less what speaks to warden,
 * plus the worker's env and warden's variables), for spawn_args.env: it
 * depends only on the args other than env, so a caller may keep it from
 * start to start. warden's part is shared by all, built once; only the
 * worker's own strings and the pointer array are its own.
 */
struct spawn_env {
	char	**envp;		/* for execve, NULL-terminated */
	char	**own;		/* the strings that are this worker's */
	size_t	  nown;
	/*
	 * "watchdog_ms": the digits of WATCHDOG_PID=, written by the child
	 * with its own pid before exec (a pid is known only once forked);
	 * NULL: no watchdog.
	 */
	char	 *watchdog_pid;
};

struct spawn_env *spawn_env(const struct spawn_args *);
void		  spawn_env_free(struct spawn_env *);
/* At exit: free warden's part of the environment. */
void		  spawn_free(void);

/*
 * Start the worker. Returns -1 with errno when nothing was started (fork or
 * pipe failed). Otherwise 0: the child exists; when exec_errno is set it has
 * already exited 127 and its exit will be reaped like any other.
 */
int	spawn_worker(const struct spawn_args *, struct spawn_result *);

#endif
