/*
 * etcdtest.c: a real etcd for the suites (etcdtest.h).
 */
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "etcdtest.h"
#include "harness-private.h"
#include "httpclient.h"
#include "procinfo.h"
#include "testlib.h"
#include "util.h"

#define ETCDTEST_READY	"ready to serve client requests"

static void
etcdtest_exec(struct etcdtest *e)
{
	char	name[32], data[PATH_MAX + 16], curl[96], purl[96], cluster[128];
	int	fd;

	snprintf(name, sizeof(name), "--name=t%d", e->client_port);
	snprintf(data, sizeof(data), "--data-dir=%s/data", e->dir);
	snprintf(curl, sizeof(curl), "http://127.0.0.1:%d", e->client_port);
	snprintf(purl, sizeof(purl), "http://127.0.0.1:%d", e->peer_port);
	snprintf(cluster, sizeof(cluster), "t%d=%s", e->client_port, purl);
	fd = open(e->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	CHILD_CHECK(fd != -1, "%s: %s", e->log, strerror(errno));
	CHILD_CHECK(dup2(fd, 1) != -1 && dup2(fd, 2) != -1, "dup2");
	/* etcd's own environment variables must not change these. */
	CHILD_CHECK(clearenv() == 0, "clearenv");
	execl(ETCDTEST_BIN, "etcd", name, data,
	    "--listen-client-urls", curl, "--advertise-client-urls", curl,
	    "--listen-peer-urls", purl, "--initial-advertise-peer-urls", purl,
	    "--initial-cluster", cluster, "--initial-cluster-state", "new",
	    "--log-outputs=stderr", (char *)NULL);
	CHILD_CHECK(0, "exec %s: %s", ETCDTEST_BIN, strerror(errno));
}

/* The log from offset on holds text: read what is new, by inotify. */
static bool
etcdtest_log_has(const char *path, off_t from, const char *text)
{
	char	*all = harness_read_file(path);
	bool	 found;

	found = all != NULL && (off_t)strlen(all) > from &&
	    strstr(all + from, text) != NULL;
	free(all);
	return found;
}

/* Print the end of etcd's log when a start fails. */
static void
etcdtest_log_tail(const struct etcdtest *e)
{
	char	*all = harness_read_file(e->log);
	size_t	 len = all != NULL ? strlen(all) : 0;

	fprintf(stderr, "etcdtest: the end of %s:\n%s\n", e->log,
	    all == NULL ? "(none)" : all + (len > 3000 ? len - 3000 : 0));
	free(all);
}

/* Until etcd logs it serves clients, or exits, or the bound passes. */
static void
etcdtest_wait_ready(struct etcdtest *e, off_t from)
{
	uint64_t	 deadline = harness_deadline(ETCDTEST_WAIT);
	struct pollfd	 pfd[2];
	char		 buf[4096];
	int		 ifd, pidfd, st;
	bool		 ready;

	ck_assert_int_ne(ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK), -1);
	ck_assert_int_ne(inotify_add_watch(ifd, e->log, IN_MODIFY), -1);
	pidfd = proc_pidfd_open(e->pid);
	while (!(ready = etcdtest_log_has(e->log, from, ETCDTEST_READY))) {
		if (waitpid(e->pid, &st, WNOHANG) == e->pid) {
			e->pid = -1;
			break;
		}
		pfd[0].fd = ifd;
		pfd[0].events = POLLIN;
		pfd[1].fd = pidfd;
		pfd[1].events = POLLIN;
		if (harness_left(deadline) == 0 ||
		    (poll(pfd, pidfd != -1 ? 2 : 1, harness_left(deadline)) ==
		    -1 && errno != EINTR))
			break;
		while (read(ifd, buf, sizeof(buf)) > 0)
			;
	}
	close(ifd);
	if (pidfd != -1)
		close(pidfd);
	if (!ready)
		etcdtest_log_tail(e);
	ck_assert_msg(ready, "etcd did not get ready within %d ms (%s)",
	    ETCDTEST_WAIT, e->pid == -1 ? "it exited" : "still running");
}

/*
 * The keeper: it learns etcd's pid (0: none) from the test, and once the
 * test is gone (the pipe's end), kills etcd and removes the folder.
 */
static void
etcdtest_keeper(int rfd, const char *dir)
{
	pid_t	etcd = 0, p;
	ssize_t	n;

	(void)setsid();
	harness_closefrom(3, rfd);
	for (;;) {
		n = read(rfd, &p, sizeof(p));
		if (n == (ssize_t)sizeof(p))
			etcd = p;
		else if (n != -1 || errno != EINTR)
			break;
	}
	if (etcd > 0 && kill(etcd, SIGKILL) == 0)
		(void)harness_wait_pid_gone(etcd, 10000);
	harness_rmtree(dir);
	_exit(0);
}

static void
etcdtest_keeper_start(struct etcdtest *e)
{
	int	fds[2];

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	ck_assert_int_ne(e->keeper = fork(), -1);
	if (e->keeper == 0)
		etcdtest_keeper(fds[0], e->dir);
	close(fds[0]);
	e->keeper_fd = fds[1];
}

/* etcd's pid to the keeper (0 once it is reaped). */
static void
etcdtest_tell(struct etcdtest *e, pid_t pid)
{
	ck_assert_int_eq(write(e->keeper_fd, &pid, sizeof(pid)),
	    (ssize_t)sizeof(pid));
}

static void
etcdtest_spawn(struct etcdtest *e)
{
	struct http_reply	r;
	struct stat		st;
	off_t			from;

	int			fd;

	/* There before etcd, for inotify to watch. */
	fd = open(e->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	ck_assert_msg(fd != -1, "%s: %s", e->log, strerror(errno));
	close(fd);
	from = stat(e->log, &st) == 0 ? st.st_size : 0;
	ck_assert_int_ne(e->pid = fork(), -1);
	if (e->pid == 0)
		etcdtest_exec(e);
	etcdtest_tell(e, e->pid);
	e->starts++;
	etcdtest_wait_ready(e, from);
	ck_assert_int_eq(http_request(e->hostport, "GET", "/health", 5000, &r), 0);
	ck_assert_msg(r.status == 200 && strstr(r.body, "\"true\"") != NULL,
	    "etcd's /health: %d %s", r.status, r.body);
	http_reply_free(&r);
}

void
etcdtest_start(struct etcdtest *e)
{
	const char	*base = getenv("TMPDIR");

	ck_assert_msg(access(ETCDTEST_BIN, X_OK) == 0, "%s: %s: install "
	    "etcd-server (apt-get install etcd-server etcd-client)",
	    ETCDTEST_BIN, strerror(errno));
	memset(e, 0, sizeof(*e));
	e->pid = -1;
	e->keeper = -1;
	e->keeper_fd = -1;
	if (base == NULL || *base == '\0' || strlen(base) > 200)
		base = "/tmp";
	snprintf(e->dir, sizeof(e->dir), "%s/warden-etcd.XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(e->dir));
	snprintf(e->log, sizeof(e->log), "%.*s/etcd.log", PATH_MAX - 16, e->dir);
	e->client_port = free_port();
	do
		e->peer_port = free_port();
	while (e->peer_port == e->client_port);
	snprintf(e->hostport, sizeof(e->hostport), "127.0.0.1:%d",
	    e->client_port);
	snprintf(e->url, sizeof(e->url), "http://127.0.0.1:%d", e->client_port);
	etcdtest_keeper_start(e);
	etcdtest_spawn(e);
}

void
etcdtest_restart(struct etcdtest *e)
{
	ck_assert_int_eq(e->pid, -1);
	etcdtest_spawn(e);
}

static void
etcdtest_reap(struct etcdtest *e)
{
	int	st;

	while (waitpid(e->pid, &st, 0) == -1)
		ck_assert_int_eq(errno, EINTR);
	e->pid = -1;
	etcdtest_tell(e, 0);
}

void
etcdtest_stop(struct etcdtest *e)
{
	if (e->pid == -1)
		return;
	ck_assert_int_eq(kill(e->pid, SIGTERM), 0);
	if (harness_wait_pid_gone(e->pid, 10000) == -1)
		(void)kill(e->pid, SIGKILL);
	etcdtest_reap(e);
}

void
etcdtest_kill(struct etcdtest *e)
{
	ck_assert_int_ne(e->pid, -1);
	ck_assert_int_eq(kill(e->pid, SIGKILL), 0);
	etcdtest_reap(e);
}

void
etcdtest_cleanup(struct etcdtest *e)
{
	etcdtest_stop(e);
	if (e->dir[0] != '\0')
		harness_rmtree(e->dir);
	e->dir[0] = '\0';
	if (e->keeper_fd != -1) {
		int	st;

		/* Nothing left to do: it exits at once. */
		close(e->keeper_fd);
		e->keeper_fd = -1;
		while (waitpid(e->keeper, &st, 0) == -1)
			ck_assert_int_eq(errno, EINTR);
	}
}
