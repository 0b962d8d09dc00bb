/*
 * harness-run.c: programs, files, warden.log and /dev/shm for the
 * tests (harness.h).
 */
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
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

extern char	**environ;

/*
 * Running programs.
 */

struct harness_buf {
	char	*data;
	size_t	 len, cap;
};

/* Read what is there; 0 at end of stream, 1 for more, -1 on error. */
static int
harness_buf_fill(struct harness_buf *b, int fd)
{
	ssize_t	n;

	if (b->cap - b->len < 4096) {
		b->cap = b->cap == 0 ? 8192 : b->cap * 2;
		b->data = xreallocarray(b->data, b->cap, 1);
	}
	n = read(fd, b->data + b->len, b->cap - b->len - 1);
	if (n == -1)
		return errno == EINTR || errno == EAGAIN ? 1 : -1;
	if (n == 0)
		return 0;
	b->len += (size_t)n;
	return 1;
}

static char *
harness_buf_take(struct harness_buf *b)
{
	if (b->data == NULL)
		return xstrdup("");
	b->data[b->len] = '\0';
	return b->data;
}

/* The environment, WARDEN_SOCKET pointing at h; *owned is to be freed. */
static char **
harness_run_env(struct harness *h, char **owned)
{
	char	**env, **e;
	size_t	  n = 0;

	for (e = environ; *e != NULL; e++)
		n++;
	env = xcalloc(n + 2, sizeof(*env));
	n = 0;
	for (e = environ; *e != NULL; e++)
		if (strncmp(*e, "WARDEN_SOCKET=", 14) != 0 &&
		    strncmp(*e, "NOTIFY_SOCKET=", 14) != 0)
			env[n++] = *e;
	*owned = NULL;
	if (h != NULL && h->sock[0] != '\0') {
		xasprintf(owned, "WARDEN_SOCKET=%s", h->sock);
		env[n] = *owned;
	}
	return env;
}

int
harness_run(struct harness *h, const char *const argv[], char **out,
    char **err, int timeout_ms)
{
	struct harness_buf	 bo = { NULL, 0, 0 }, be = { NULL, 0, 0 };
	struct pollfd		 pfd[3];
	uint64_t		 deadline = harness_deadline(timeout_ms);
	sigset_t		 none;
	char			 path[PATH_MAX], **env = NULL, *owned = NULL;
	const char		*file = argv[0];
	pid_t			 pid;
	int			 po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	int			 pidfd, st = 0, r, fd, status = -1;
	size_t			 i, nfd;
	bool			 open_o = true, open_e = true, exited = false;
	bool			 killed = false;

	if (strchr(file, '/') == NULL && h != NULL && h->bindir[0] != '\0') {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", h->bindir,
		    file) < sizeof(path) && access(path, X_OK) == 0)
			file = path;
	}
	if (pipe2(po, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    pipe2(pe, O_CLOEXEC | O_NONBLOCK) == -1) {
		harness_warn("pipe");
		goto out;
	}
	env = harness_run_env(h, &owned);
	fflush(NULL);
	if ((pid = fork()) == -1) {
		harness_warn("fork");
		goto out;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if ((fd = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(fd, 0) == -1 || dup2(po[1], 1) == -1 ||
		    dup2(pe[1], 2) == -1)
			_exit(127);
		harness_closefrom(3, -1);
		/* The pipes were O_NONBLOCK for us; the program expects blocking. */
		util_set_nonblock(1, false);
		util_set_nonblock(2, false);
		execvpe(file, (char *const *)argv, env);
		dprintf(2, "harness: exec %s: %s\n", file, strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	pidfd = proc_pidfd_open(pid);

	while (open_o || open_e || !exited) {
		nfd = 0;
		if (open_o) {
			pfd[nfd].fd = po[0];
			pfd[nfd++].events = POLLIN;
		}
		if (open_e) {
			pfd[nfd].fd = pe[0];
			pfd[nfd++].events = POLLIN;
		}
		if (!exited && pidfd != -1) {
			pfd[nfd].fd = pidfd;
			pfd[nfd++].events = POLLIN;
		}
		if (nfd == 0) {
			/* No pidfd: the pipes are closed, so it is exiting. */
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
				;
			exited = true;
			break;
		}
		r = poll(pfd, nfd, harness_left(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			harness_warnx("%s did not finish within %d ms; killed",
			    argv[0], timeout_ms);
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
				;
			killed = true;
			exited = true;
			break;
		}
		for (i = 0; i < nfd; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == po[0])
				open_o = harness_buf_fill(&bo, po[0]) == 1;
			else if (pfd[i].fd == pe[0])
				open_e = harness_buf_fill(&be, pe[0]) == 1;
			else {
				while (waitpid(pid, &st, 0) == -1 &&
				    errno == EINTR)
					;
				exited = true;
			}
		}
	}
	if (pidfd != -1)
		close(pidfd);
	if (!killed)
		status = harness_status(st);
out:
	free(owned);
	free(env);
	if (out != NULL)
		*out = harness_buf_take(&bo);
	else
		free(bo.data);
	if (err != NULL)
		*err = harness_buf_take(&be);
	else
		free(be.data);
	for (i = 0; i < 2; i++) {
		if (po[i] != -1)
			close(po[i]);
		if (pe[i] != -1)
			close(pe[i]);
	}
	return status;
}

int
harness_ctl(struct harness *h, char **out, char **err, ...)
{
	const char	*argv[64];
	va_list		 ap;
	size_t		 n = 0;
	const char	*a;

	argv[n++] = "wardenctl";
	argv[n++] = "-S";
	argv[n++] = h->sock;
	va_start(ap, err);
	while ((a = va_arg(ap, const char *)) != NULL) {
		if (n == nitems(argv) - 1) {
			va_end(ap);
			harness_warnx("harness_ctl: too many arguments");
			return -1;
		}
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	return harness_run(h, argv, out, err, 60000);
}

/*
 * Files, pids and the log.
 */

/* An inotify fd watching path for mask, or -1 (the caller then polls). */
static int
harness_watch(const char *path, uint32_t mask)
{
	int	fd;

	if ((fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) == -1)
		return -1;
	if (inotify_add_watch(fd, path, mask) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Wait for the next inotify event, or (without inotify) a short while:
 * 0 to look again, -1 when the deadline has passed.
 */
static int
harness_watch_wait(int ifd, uint64_t deadline)
{
	struct pollfd	pfd;
	char		buf[4096];
	int		left = harness_left(deadline), r;

	if (left == 0)
		return -1;
	if (ifd == -1) {
		/* No inotify on this system: fall back to a short poll. */
		(void)poll(NULL, 0, left < 10 ? left : 10);
		return 0;
	}
	pfd.fd = ifd;
	pfd.events = POLLIN;
	r = poll(&pfd, 1, left);
	if (r == -1 && errno != EINTR)
		return -1;
	while (read(ifd, buf, sizeof(buf)) > 0)
		;
	return 0;
}

char *
harness_wait_file(const char *path, const char *prev, int timeout_ms)
{
	uint64_t	 deadline = harness_deadline(timeout_ms);
	char		*copy, *s;
	int		 ifd;

	copy = xstrdup(path);
	ifd = harness_watch(dirname(copy), IN_MOVED_TO | IN_CLOSE_WRITE |
	    IN_CREATE);
	free(copy);
	/* Watch first, then look: a rename in between is not missed. */
	for (;;) {
		s = harness_read_file(path);
		if (s != NULL && (prev == NULL || strcmp(s, prev) != 0))
			break;
		free(s);
		s = NULL;
		if (harness_watch_wait(ifd, deadline) == -1) {
			harness_warnx("%s: %s within %d ms", path, prev == NULL ?
			    "not written" : "not changed", timeout_ms);
			errno = ETIMEDOUT;
			break;
		}
	}
	if (ifd != -1)
		close(ifd);
	return s;
}

pid_t
harness_wait_pidfile(const char *path, pid_t prev, int timeout_ms)
{
	uint64_t	 deadline = harness_deadline(timeout_ms);
	char		*last = NULL, *s;
	long		 pid;

	for (;;) {
		s = harness_wait_file(path, last, harness_left(deadline));
		free(last);
		if (s == NULL)
			return -1;
		pid = strtol(s, NULL, 10);
		if (pid > 0 && pid != (long)prev) {
			free(s);
			return (pid_t)pid;
		}
		last = s;
	}
}

bool
harness_pid_alive(pid_t pid)
{
	char	state;
	pid_t	ppid;

	if (pid <= 0 || harness_proc_stat(pid, &state, &ppid) == -1)
		return false;
	return state != 'Z' && state != 'X';
}

int
harness_wait_pid_gone(pid_t pid, int timeout_ms)
{
	struct pollfd	pfd;
	uint64_t	deadline = harness_deadline(timeout_ms);
	int		fd, r;

	if ((fd = proc_pidfd_open(pid)) == -1) {
		if (errno == ESRCH)
			return 0;
		/* No pidfd: look at /proc until the deadline. */
		while (harness_pid_alive(pid))
			if (harness_watch_wait(-1, deadline) == -1)
				return -1;
		return 0;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	do {
		r = poll(&pfd, 1, harness_left(deadline));
	} while (r == -1 && errno == EINTR);
	close(fd);
	if (r != 1) {
		harness_warnx("pid %ld still alive after %d ms", (long)pid,
		    timeout_ms);
		return -1;
	}
	return 0;
}

char *
harness_log(struct harness *h)
{
	return harness_read_file(h->log);
}

void
harness_log_mark(struct harness *h)
{
	struct stat	st;

	if (stat(h->log, &st) == 0)
		h->log_mark = st.st_size;
}

int
harness_wait_log(struct harness *h, const char *text, int timeout_ms)
{
	uint64_t	 deadline = harness_deadline(timeout_ms);
	size_t		 tlen = strlen(text), keep = 0, cap;
	char		*buf;
	ssize_t		 n;
	int		 fd, ifd, rv = -1;

	if ((fd = open(h->log, O_RDONLY | O_CLOEXEC)) == -1) {
		harness_warn("open %s", h->log);
		return -1;
	}
	if (lseek(fd, h->log_mark, SEEK_SET) == -1) {
		harness_warn("lseek %s", h->log);
		close(fd);
		return -1;
	}
	ifd = harness_watch(h->log, IN_MODIFY | IN_CLOSE_WRITE);
	/* keep: the end of what was read, where a match may yet start. */
	cap = tlen + 65536;
	buf = xmalloc(cap + 1);
	for (;;) {
		n = read(fd, buf + keep, cap - keep);
		if (n == -1 && errno == EINTR)
			continue;
		if (n > 0) {
			keep += (size_t)n;
			buf[keep] = '\0';
			if (memmem(buf, keep, text, tlen) != NULL) {
				rv = 0;
				break;
			}
			if (keep >= tlen) {
				memmove(buf, buf + keep - (tlen - 1), tlen - 1);
				keep = tlen - 1;
			}
			continue;
		}
		if (harness_watch_wait(ifd, deadline) == -1) {
			harness_warnx("\"%s\" not in warden.log within %d ms",
			    text, timeout_ms);
			harness_log_tail(h, 20);
			break;
		}
	}
	free(buf);
	if (ifd != -1)
		close(ifd);
	close(fd);
	return rv;
}

void
harness_log_tail(struct harness *h, int lines)
{
	struct stat	 st;
	char		*buf, *p, *line;
	off_t		 from;
	ssize_t		 n;
	int		 fd, count = 0;

	if ((fd = open(h->log, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return;
	}
	/* Only the end of a log that may be huge (a flood test). */
	from = st.st_size > 65536 ? st.st_size - 65536 : 0;
	buf = xmalloc(65537);
	n = pread(fd, buf, 65536, from);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	p = buf + n;
	if (p > buf && p[-1] == '\n')
		*--p = '\0';
	while (p > buf && count < lines) {
		p--;
		if (*p == '\n')
			count++;
	}
	line = p == buf ? p : p + 1;
	fprintf(stderr, "harness: end of %s:\n", h->log);
	for (p = line; p != NULL && *p != '\0'; ) {
		char	*nl = strchr(p, '\n');

		if (nl != NULL)
			*nl = '\0';
		fprintf(stderr, "  | %s\n", p);
		p = nl != NULL ? nl + 1 : NULL;
	}
	free(buf);
}

/*
 * A private /dev/shm (harness.h): a mount namespace of this process's own,
 * every mount in it private, and a small tmpfs over /dev/shm.
 */
int
harness_private_shm(unsigned size_kib, char *why, size_t len)
{
	char	opts[64];

	if (geteuid() != 0) {
		snprintf(why, len, "a private full /dev/shm needs root "
		    "(CAP_SYS_ADMIN, to unshare(CLONE_NEWNS) and mount a "
		    "tmpfs); running as uid %ld", (long)geteuid());
		return -1;
	}
	if (unshare(CLONE_NEWNS) == -1) {
		snprintf(why, len, "unshare(CLONE_NEWNS): %s: a private full "
		    "/dev/shm needs a mount namespace of its own",
		    strerror(errno));
		return -1;
	}
	/* Nothing mounted here may reach the machine's own /dev/shm. */
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
		snprintf(why, len, "making / private (mount MS_REC|"
		    "MS_PRIVATE): %s", strerror(errno));
		return -1;
	}
	snprintf(opts, sizeof(opts), "size=%uk,mode=1777", size_kib);
	if (mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
	    opts) == -1) {
		snprintf(why, len, "mount tmpfs (%s) on /dev/shm: %s", opts,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
harness_fill(const char *path)
{
	static const char	buf[4096] = { 'f' };
	ssize_t			n;
	int			fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1) {
		/* Not even an inode left: full already. */
		if (errno == ENOSPC)
			return 0;
		harness_warn("open %s", path);
		return -1;
	}
	for (;;) {
		n = write(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
	}
	if (errno != ENOSPC) {
		harness_warn("write %s", path);
		close(fd);
		return -1;
	}
	return close(fd);
}

/*
 * Under `make sanitize`, LeakSanitizer watches warden (whose exit status a
 * leak would change, failing the test) and the unit suites. The processes
 * of the integration suites themselves hold their JSON and strings until
 * the forked test exits; their leaks are not warden's, so they are not
 * reported. Only a binary built with ASan calls this.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}

