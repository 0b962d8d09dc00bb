/*
 * harness-keeper.c: warden's life under the harness (harness.h): the keeper
 * process that is its parent, start, stop and signals.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "harness-private.h"
#include "procinfo.h"
#include "util.h"

#define HARNESS_KILL_GRACE	5000	/* keeper: SIGTERM, then SIGKILL */

extern char	**environ;

/* Test <-> keeper messages, one per SOCK_SEQPACKET record. */
enum keeper_type {
	KEEPER_START = 1,	/* test: start warden */
	KEEPER_BYE,		/* test: stop warden, clean up, exit */
	KEEPER_PID,		/* keeper: warden runs as a */
	KEEPER_ERROR,		/* keeper: could not start it, errno a */
	KEEPER_EXIT,		/* keeper: warden exited, status a, b left behind */
	KEEPER_DONE,		/* keeper: all clean, b left behind */
};

struct keeper_msg {
	int	type;
	int	a;
	int	b;
};


/*
 * The keeper: warden's parent, in its own session, and the subreaper of
 * everything warden forks. It outlives a test that dies without cleaning
 * up and does the cleaning then.
 */

static bool
harness_keep_tmp(void)
{
	const char	*s = getenv("WARDEN_KEEP_TMP");

	return s != NULL && *s != '\0' && strcmp(s, "0") != 0;
}

static int
keeper_send(int fd, int type, int a, int b)
{
	struct keeper_msg	m = { type, a, b };
	ssize_t			n;

	if (fd == -1)
		return -1;
	do {
		n = send(fd, &m, sizeof(m), MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof(m) ? 0 : -1;
}

/* /proc/PID/stat: state and parent, read as warden reads them. */
int
harness_proc_stat(pid_t pid, char *state, pid_t *ppid)
{
	struct proc_info	pi;

	if (proc_info(pid, &pi) == -1)
		return -1;
	*state = pi.state;
	*ppid = pi.ppid;
	return 0;
}

static void
keeper_describe(pid_t pid)
{
	char	path[64], buf[512];
	ssize_t	n, i;
	int	fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n < 0)
			n = 0;
		buf[n] = '\0';
		for (i = 0; i + 1 < n; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
	}
	harness_warnx("warden left pid %ld behind: %s", (long)pid, buf);
}

/*
 * Kill and reap whatever got reparented to us (warden's leftovers, once
 * warden is gone). Returns how many were still alive.
 */
static int
keeper_orphans(bool report)
{
	DIR		*d;
	struct dirent	*de;
	pid_t		 me = getpid(), pid, ppid, found[256];
	size_t		 n, i;
	char		 state;
	int		 alive = 0, round;

	for (round = 0; round < 100; round++) {
		if ((d = opendir("/proc")) == NULL)
			return alive;
		n = 0;
		while ((de = readdir(d)) != NULL && n < nitems(found)) {
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			pid = (pid_t)atol(de->d_name);
			if (harness_proc_stat(pid, &state, &ppid) == -1 ||
			    ppid != me)
				continue;
			if (state != 'Z') {
				if (report)
					keeper_describe(pid);
				kill(pid, SIGKILL);
				alive++;
			}
			found[n++] = pid;
		}
		closedir(d);
		if (n == 0)
			break;
		for (i = 0; i < n; i++)
			while (waitpid(found[i], NULL, 0) == -1 &&
			    errno == EINTR)
				;
	}
	return alive;
}

static char **
keeper_env(struct harness *h)
{
	static const char *const drop[] = { "NOTIFY_SOCKET=", "LISTEN_PID=",
	    "LISTEN_FDS=", "LISTEN_FDNAMES=", "WATCHDOG_USEC=", "WATCHDOG_PID=",
	    "JOURNAL_STREAM=", "WARDEN_READY_FD=", "WARDEN_TABLE_FD=",
	    "WARDEN_TABLE=", "WARDEN_SERVICE=", "WARDEN_SOCKET=" };
	char		**env, **e;
	const char	 *v;
	size_t		  n = 0, i, k;
	bool		  own_notify = false;

	for (e = environ; *e != NULL; e++)
		n++;
	env = xcalloc(n + 2 + HARNESS_ENV_MAX, sizeof(*env));
	n = 0;
	for (e = environ; *e != NULL; e++) {
		for (i = 0; i < nitems(drop); i++)
			if (strncmp(*e, drop[i], strlen(drop[i])) == 0)
				break;
		/* Variables of harness_setenv() replace inherited ones. */
		for (k = 0; i == nitems(drop) && k < HARNESS_ENV_MAX; k++)
			if ((v = harness_env_of(h, k)) != NULL &&
			    strncmp(*e, v, strcspn(v, "=") + 1) == 0)
				break;
		if (i == nitems(drop) && k == HARNESS_ENV_MAX)
			env[n++] = *e;
	}
	for (k = 0; k < HARNESS_ENV_MAX; k++) {
		if ((v = harness_env_of(h, k)) == NULL)
			continue;
		env[n++] = (char *)v;
		/* The test's own NOTIFY_SOCKET (an abstract one, say). */
		if (strncmp(v, "NOTIFY_SOCKET=", 14) == 0)
			own_notify = true;
	}
	if (!own_notify)
		xasprintf(&env[n++], "NOTIFY_SOCKET=%s", h->notify_path);
	return env;
}

/* In the child about to exec warden: leave it what a careless parent would. */
static int
keeper_dirty(struct harness *h)
{
	static const int ignored[] = { SIGINT, SIGQUIT, SIGHUP };
	static const int blocked[] = { SIGUSR1, SIGUSR2, SIGWINCH };
	char		 path[PATH_MAX];
	sigset_t	 set;
	size_t		 i;
	int		 fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/inherited", h->dir) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT, 0644)) == -1)
		return -1;
	if (fd != 3) {
		if (dup2(fd, 3) == -1)
			return -1;
		close(fd);
	}
	for (i = 0; i < nitems(ignored); i++)
		if (signal(ignored[i], SIG_IGN) == SIG_ERR)
			return -1;
	sigemptyset(&set);
	for (i = 0; i < nitems(blocked); i++)
		sigaddset(&set, blocked[i]);
	return sigprocmask(SIG_BLOCK, &set, NULL);
}

/* fork+exec warden; its pid, or -errno when it could not be started. */
static pid_t
keeper_spawn(struct harness *h, char **env)
{
	struct sigaction sa;
	sigset_t	 none;
	char		 warden[PATH_MAX];
	char		*argv[] = { warden, (char *)"-c", h->config, (char *)"-v",
			    NULL };
	pid_t		 pid, keeper = getpid();
	ssize_t		 n;
	int		 ep[2], err, fd, sig;

	if ((size_t)snprintf(warden, sizeof(warden), "%s/warden", h->bindir) >=
	    sizeof(warden))
		return -ENAMETOOLONG;
	if (pipe2(ep, O_CLOEXEC) == -1)
		return -errno;
	if ((pid = fork()) == -1) {
		err = errno;
		close(ep[0]);
		close(ep[1]);
		return -err;
	}
	if (pid == 0) {
		close(ep[0]);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		for (sig = 1; sig < NSIG; sig++)
			(void)sigaction(sig, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Should the keeper die anyway, warden stops its tree. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() != keeper)
			goto fail;
		if (chdir(h->dir) == -1)
			goto fail;
		if ((fd = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(fd, 0) == -1)
			goto fail;
		if ((fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND, 0644)) ==
		    -1 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
			goto fail;
		harness_closefrom(3, ep[1]);
		if (h->dirty_start && keeper_dirty(h) == -1)
			goto fail;
		if (getenv("WARDEN_VALGRIND") != NULL) {
			/*
			 * make valgrind: warden under memcheck; any error or
			 * leak makes it exit 99, which fails the test's
			 * check of its exit status.
			 */
			char	*vargv[] = { (char *)"valgrind", (char *)"--quiet",
			    (char *)"--error-exitcode=99", (char *)"--leak-check=full",
			    (char *)"--show-leak-kinds=definite,indirect,possible",
			    (char *)"--errors-for-leak-kinds=definite,indirect,possible",
			    warden, (char *)"-c", h->config, (char *)"-v", NULL };

			execvpe("valgrind", vargv, env);
			goto fail;
		}
		execve(warden, argv, env);
fail:
		err = errno;
		(void)!write(ep[1], &err, sizeof(err));
		_exit(127);
	}
	close(ep[1]);
	do {
		n = read(ep[0], &err, sizeof(err));
	} while (n == -1 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof(err)) {
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		return -err;
	}
	return pid;
}

static void __attribute__((noreturn))
keeper_main(struct harness *h, int sock)
{
	struct signalfd_siginfo	 si;
	struct keeper_msg	 m;
	struct pollfd		 pfd[2];
	sigset_t		 chld;
	uint64_t		 kill_at = 0;
	char			**env;
	pid_t			 warden = -1, pid;
	ssize_t			 n;
	bool			 stopping = false, killed = false;
	int			 sfd, st, left, timeout;

	(void)setsid();
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	(void)prctl(PR_SET_NAME, "warden-keeper");
	if (sock != 3) {
		if (dup3(sock, 3, O_CLOEXEC) == -1)
			_exit(1);
		sock = 3;
	}
	harness_closefrom(4, -1);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) == -1 ||
	    (sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		_exit(1);
	env = keeper_env(h);

	for (;;) {
		if (stopping && warden == -1)
			break;
		timeout = -1;
		if (stopping && !killed)
			timeout = harness_left(kill_at);
		if (timeout == 0) {
			kill(warden, SIGKILL);
			killed = true;
			timeout = -1;
		}
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sock;
		pfd[1].events = POLLIN;
		if (poll(pfd, sock == -1 ? 1 : 2, timeout) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (pfd[0].revents & POLLIN) {
			while (read(sfd, &si, sizeof(si)) > 0)
				;
			while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
				if (pid != warden)
					continue;
				warden = -1;
				/* A clean exit should have stopped everything. */
				if (h->keep_orphans && WIFSIGNALED(st))
					left = 0;
				else
					left = keeper_orphans(WIFEXITED(st));
				keeper_send(sock, KEEPER_EXIT, harness_status(st),
				    left);
			}
		}
		if (sock == -1 || (pfd[1].revents & (POLLIN | POLLHUP |
		    POLLERR)) == 0)
			continue;
		n = recv(sock, &m, sizeof(m), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(m)) {
			/* The test is gone without cleaning up. */
			close(sock);
			sock = -1;
			harness_warnx("test ended without harness_stop");
			harness_log_tail(h, 40);
			m.type = KEEPER_BYE;
		}
		switch (m.type) {
		case KEEPER_START:
			if (warden != -1) {
				keeper_send(sock, KEEPER_ERROR, EBUSY, 0);
				break;
			}
			pid = keeper_spawn(h, env);
			if (pid < 0)
				keeper_send(sock, KEEPER_ERROR, -pid, 0);
			else {
				warden = pid;
				keeper_send(sock, KEEPER_PID, pid, 0);
			}
			break;
		case KEEPER_BYE:
			if (!stopping && warden != -1) {
				kill(warden, SIGTERM);
				kill_at = util_now_ms() + HARNESS_KILL_GRACE;
			}
			stopping = true;
			break;
		}
	}
	left = keeper_orphans(true);
	if (h->table[0] != '\0')
		(void)shm_unlink(h->table);
	if (harness_keep_tmp())
		harness_warnx("kept %s", h->dir);
	else
		harness_rmtree(h->dir);
	keeper_send(sock, KEEPER_DONE, 0, left);
	_exit(0);
}

/* Act on what the keeper says; 1 when m was read, 0 on timeout, -1 else. */
static int
harness_keeper_recv(struct harness *h, struct keeper_msg *m, int timeout_ms)
{
	struct pollfd	pfd;
	ssize_t		n;
	int		r;

	if (h->keeper_fd == -1)
		return -1;
	pfd.fd = h->keeper_fd;
	pfd.events = POLLIN;
	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	if (r == 0)
		return 0;
	do {
		n = recv(h->keeper_fd, m, sizeof(*m), 0);
	} while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(*m))
		return -1;
	if (m->type == KEEPER_EXIT) {
		h->pid = -1;
		h->status = m->a;
		h->leftovers += m->b;
	} else if (m->type == KEEPER_DONE)
		h->leftovers += m->b;
	return 1;
}

/* Take in what the keeper said so far (warden may have exited). */
static void
harness_keeper_drain(struct harness *h)
{
	struct keeper_msg	m;

	while (harness_keeper_recv(h, &m, 0) == 1)
		;
}

static void
harness_notify_drain(struct harness *h)
{
	char	buf[4096];

	while (recv(h->notify_fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0 ||
	    errno == EINTR)
		;
}

/* Start the keeper if needed, and warden through it. */
int
harness_spawn(struct harness *h)
{
	struct keeper_msg	m;
	uint64_t		deadline;
	int			sp[2], r;

	if (h->dir[0] == '\0') {
		harness_warnx("harness not prepared");
		return -1;
	}
	if (h->pid > 0) {
		harness_warnx("warden is already running (pid %ld)",
		    (long)h->pid);
		return -1;
	}
	if (h->keeper_fd == -1) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) ==
		    -1) {
			harness_warn("socketpair");
			return -1;
		}
		fflush(NULL);
		if ((h->keeper_pid = fork()) == -1) {
			harness_warn("fork");
			close(sp[0]);
			close(sp[1]);
			return -1;
		}
		if (h->keeper_pid == 0) {
			close(sp[0]);
			keeper_main(h, sp[1]);
		}
		close(sp[1]);
		h->keeper_fd = sp[0];
	}
	harness_notify_drain(h);
	if (keeper_send(h->keeper_fd, KEEPER_START, 0, 0) == -1) {
		harness_warn("keeper");
		return -1;
	}
	deadline = harness_deadline(HARNESS_START_TIMEOUT);
	for (;;) {
		r = harness_keeper_recv(h, &m, harness_left(deadline));
		if (r != 1) {
			harness_warnx("keeper: no answer");
			return -1;
		}
		if (m.type == KEEPER_PID) {
			h->pid = m.a;
			h->status = -1;
			return 0;
		}
		if (m.type == KEEPER_ERROR) {
			errno = m.a;
			harness_warn("cannot start %s/warden", h->bindir);
			return -1;
		}
	}
}

int
harness_wait_ready(struct harness *h, int timeout_ms)
{
	if (harness_wait_notify(h, "READY=1", timeout_ms) == 0)
		return 0;
	if (h->pid == -1)
		harness_warnx("warden exited with status %d before READY=1",
		    h->status);
	else
		harness_warnx("no READY=1 from warden within %d ms", timeout_ms);
	harness_log_tail(h, 40);
	return -1;
}

int
harness_launch(struct harness *h)
{
	if (harness_spawn(h) == -1)
		return -1;
	return harness_wait_ready(h, HARNESS_START_TIMEOUT);
}

int
harness_start(struct harness *h, const char *config_json)
{
	if (harness_prepare(h, config_json) == -1)
		return -1;
	if (harness_launch(h) == -1) {
		harness_cleanup(h);
		return -1;
	}
	return 0;
}

int
harness_start_expect_fail(struct harness *h, const char *config_json,
    int timeout_ms)
{
	int	status;

	if (harness_prepare(h, config_json) == -1)
		return -1;
	if (harness_spawn(h) == -1)
		return -1;
	if ((status = harness_wait_exit(h, timeout_ms)) != -1)
		return status;
	harness_warnx("warden still runs %d ms after start", timeout_ms);
	harness_log_tail(h, 40);
	harness_signal(h, SIGKILL);
	(void)harness_wait_exit(h, HARNESS_KILL_GRACE);
	return -1;
}

int
harness_restart(struct harness *h)
{
	harness_keeper_drain(h);
	if (harness_spawn(h) == -1)
		return -1;
	return harness_wait_ready(h, HARNESS_START_TIMEOUT);
}

int
harness_wait_exit(struct harness *h, int timeout_ms)
{
	struct keeper_msg	m;
	uint64_t		deadline = harness_deadline(timeout_ms);

	while (h->pid > 0) {
		if (harness_keeper_recv(h, &m, harness_left(deadline)) != 1)
			return -1;
	}
	return h->status;
}

int
harness_signal(struct harness *h, int sig)
{
	harness_keeper_drain(h);
	if (h->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	return kill(h->pid, sig);
}

int
harness_wait_notify(struct harness *h, const char *line, int timeout_ms)
{
	struct keeper_msg	 m;
	struct pollfd		 pfd[2];
	uint64_t		 deadline = harness_deadline(timeout_ms);
	char			 buf[4097], *p, *nl;
	size_t			 llen = strlen(line);
	ssize_t			 n;
	int			 r;

	for (;;) {
		n = recv(h->notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n >= 0) {
			buf[n] = '\0';
			for (p = buf; p != NULL && *p != '\0'; p = nl) {
				if ((nl = strchr(p, '\n')) != NULL)
					*nl++ = '\0';
				if (strlen(p) == llen && memcmp(p, line,
				    llen) == 0)
					return 0;
			}
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			harness_warn("recv %s", h->notify_path);
			return -1;
		}
		if (h->pid <= 0)
			return -1;
		pfd[0].fd = h->notify_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = h->keeper_fd;
		pfd[1].events = POLLIN;
		r = poll(pfd, h->keeper_fd == -1 ? 1 : 2,
		    harness_left(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (h->keeper_fd != -1 && (pfd[1].revents & (POLLIN | POLLHUP)))
			if (harness_keeper_recv(h, &m, 0) == -1)
				return -1;
	}
}

void
harness_cleanup(struct harness *h)
{
	struct keeper_msg	m;
	uint64_t		deadline;
	int			r;

	if (h->dir[0] == '\0')
		return;
	if (h->keeper_fd != -1) {
		if (keeper_send(h->keeper_fd, KEEPER_BYE, 0, 0) == 0) {
			deadline = harness_deadline(HARNESS_KILL_GRACE + 10000);
			do {
				r = harness_keeper_recv(h, &m,
				    harness_left(deadline));
			} while (r == 1 && m.type != KEEPER_DONE);
			if (r == 0) {
				harness_warnx("keeper did not finish; killed");
				kill(h->keeper_pid, SIGKILL);
			}
		}
		close(h->keeper_fd);
		h->keeper_fd = -1;
		while (waitpid(h->keeper_pid, NULL, 0) == -1 && errno == EINTR)
			;
		h->keeper_pid = -1;
		h->pid = -1;
		/* A keeper that died early left the folder. */
		if (!harness_keep_tmp() && access(h->dir, F_OK) == 0)
			harness_rmtree(h->dir);
	} else if (harness_keep_tmp())
		harness_warnx("kept %s", h->dir);
	else
		harness_rmtree(h->dir);
	if (h->notify_fd != -1) {
		close(h->notify_fd);
		h->notify_fd = -1;
	}
	h->dir[0] = '\0';
}

int
harness_stop(struct harness *h)
{
	json_t	*resp;
	int	 status;

	if (h->dir[0] == '\0')
		return -1;
	harness_keeper_drain(h);
	if (h->pid > 0) {
		resp = harness_call_timeout(h, "shutdown", NULL,
		    HARNESS_CALL_TIMEOUT);
		json_decref(resp);
		if (harness_wait_exit(h, HARNESS_STOP_TIMEOUT) == -1) {
			harness_warnx("warden still runs %d ms after shutdown;"
			    " SIGKILL", HARNESS_STOP_TIMEOUT);
			harness_log_tail(h, 40);
			harness_signal(h, SIGKILL);
			(void)harness_wait_exit(h, HARNESS_KILL_GRACE);
		}
	}
	status = h->status;
	harness_cleanup(h);
	return status;
}
