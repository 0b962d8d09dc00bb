/*
 * etcdtest.h: a real etcd for the suites that talk to one. /usr/bin/etcd
 * (Debian's etcd-server) runs as a single member on two free loopback
 * ports (client and peer), its data in a temp folder of its own and its
 * output in DIR/etcd.log. A start waits until etcd logs that it serves
 * clients (inotify on the log, a pidfd for an early exit) and /health
 * answers true; the wait's bound only bounds a failure. etcd stays in the
 * test's process group, which Check kills when a test fails; a keeper
 * process in a session of its own then kills it if it still runs and
 * removes the folder, which a failed test leaves no code of its own to do.
 *
 * Every function asserts (ck_assert) instead of returning an error. A
 * missing etcd fails the test saying which packages to install.
 */
#ifndef WARDEN_TESTS_ETCDTEST_H
#define WARDEN_TESTS_ETCDTEST_H

#include <sys/types.h>

#include <limits.h>

#define ETCDTEST_BIN	"/usr/bin/etcd"
#define ETCDTEST_WAIT	30000	/* failure bound of a start, ms */

struct etcdtest {
	char	dir[PATH_MAX];		/* the temp folder */
	char	log[PATH_MAX];		/* DIR/etcd.log, appended by each start */
	char	url[64];		/* "http://127.0.0.1:PORT" */
	char	hostport[64];		/* "127.0.0.1:PORT" */
	int	client_port, peer_port;
	pid_t	pid;			/* -1 when not running */
	int	starts;
	pid_t	keeper;			/* cleans up after a failed test */
	int	keeper_fd;		/* etcd's pid to it; closed: the test is over */
};

/* A new folder and ports, and etcd started on them. */
void	etcdtest_start(struct etcdtest *);
/* etcd again on the same data and ports (after a stop or a kill). */
void	etcdtest_restart(struct etcdtest *);
/* SIGTERM, then SIGKILL past a bound; reaped. */
void	etcdtest_stop(struct etcdtest *);
/* SIGKILL and reaped: etcd dies as in a crash. */
void	etcdtest_kill(struct etcdtest *);
/* Stopped if running, and its folder removed. */
void	etcdtest_cleanup(struct etcdtest *);

#endif
