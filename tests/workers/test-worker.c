/*
 * test-worker.c: a worker whose behaviour the integration tests choose on the
 * command line. It links nothing from warden on purpose: it must behave like
 * any foreign program warden could be asked to run.
 *
 * --no-pdeathsig clears the parent-death signal warden set, as the options
 * are read. At start, in this order: --env-out records what warden handed
 * over (before the worker opens anything or changes a signal setting),
 * --lock, --pidfile, --print, --crash / --crash-signal, then signal
 * set-up, --grandchild (in a session of its own with --setsid), readiness,
 * and finally either --flood or a wait for signals. --linger-term MS makes
 * SIGTERM fatal only MS milliseconds after it came (an instance slow to
 * die, as a real service finishing its work). --on-hup FILE handles SIGHUP
 * as a reload: it lives on and writes "hup N" (the count so far) to FILE.
 * Files are written to NAME.tmp
 * and renamed, so a reader that sees NAME sees all of it.
 *
 * Exit status: CODE as asked, 2 for a usage error, 3 when readiness cannot
 * be announced (no NOTIFY_SOCKET / WARDEN_READY_FD, or the send failed), 1 for
 * any other failure.
 */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE	2
#define EXIT_READY	3

enum ready_mode { MODE_NONE, MODE_NOTIFY, MODE_FD, MODE_SIGNAL };

extern char	**environ;

static volatile sig_atomic_t	got_usr1;
static volatile sig_atomic_t	got_usr2;
static volatile sig_atomic_t	got_term;
static volatile sig_atomic_t	got_hup;

static void
tw_err(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void
tw_err(int code, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "test-worker[%ld]: ", (long)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stdout);
	exit(code);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: test-worker [--ready none|notify|fd|signal] [--never-ready]\n"
	    "\t[--exit-on-usr1 CODE] [--ignore-term] [--crash CODE]"
	    " [--crash-signal SIG]\n"
	    "\t[--grandchild PIDFILE] [--pidfile FILE] [--print TEXT]"
	    " [--env-out FILE]\n"
	    "\t[--flood] [--setsid] [--lock FILE] [--no-pdeathsig]"
	    " [--linger-term MS]\n"
	    "\t[--on-hup FILE]\n");
	exit(EXIT_USAGE);
}

static int
tw_parse_int(const char *s, int lo, int hi)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < lo || n > hi)
		tw_err(EXIT_USAGE, "bad number: %s", s);
	return (int)n;
}

static int
tw_parse_signal(const char *s)
{
	static const struct {
		const char	*name;
		int		 num;
	} names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "ABRT", SIGABRT }, { "KILL", SIGKILL }, { "SEGV", SIGSEGV },
		{ "TERM", SIGTERM }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
		{ "BUS", SIGBUS }, { "FPE", SIGFPE }, { "ILL", SIGILL },
		{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
	};
	size_t	 i;

	if (*s >= '0' && *s <= '9')
		return tw_parse_int(s, 1, NSIG - 1);
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].num;
	tw_err(EXIT_USAGE, "bad signal: %s", s);
}

static int
tw_write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Write buf to path atomically: path.tmp, then rename, so a test waiting on
 * the directory (IN_MOVED_TO) never reads half a file.
 */
static void
tw_write_file(const char *path, const char *buf, size_t len)
{
	char	tmp[PATH_MAX];
	int	fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		tw_err(1, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		tw_err(1, "open %s: %s", tmp, strerror(errno));
	if (tw_write_all(fd, buf, len) == -1)
		tw_err(1, "write %s: %s", tmp, strerror(errno));
	if (close(fd) == -1)
		tw_err(1, "close %s: %s", tmp, strerror(errno));
	if (rename(tmp, path) == -1)
		tw_err(1, "rename %s: %s", tmp, strerror(errno));
}

static void
tw_write_pid(const char *path, pid_t pid)
{
	char	buf[32];
	int	n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)pid);
	tw_write_file(path, buf, (size_t)n);
}

/* Signals 1..64 as a bit mask (bit sig-1), for --env-out. */
static unsigned long long
tw_sigset_bits(const sigset_t *set)
{
	unsigned long long	bits = 0;
	int			sig;

	for (sig = 1; sig < NSIG && sig <= 64; sig++)
		if (sigismember(set, sig) == 1)
			bits |= 1ULL << (sig - 1);
	return bits;
}

/*
 * Everything the test may want to check about how warden started us:
 * environment, open fds (and what they are), cwd, ids, signal mask and
 * ignored signals. Lines other than VAR=value carry no '='.
 */
static void
tw_env_out(const char *path)
{
	char		*buf = NULL, target[PATH_MAX], cwd[PATH_MAX];
	size_t		 size = 0;
	FILE		*f;
	DIR		*d;
	struct dirent	*de;
	struct sigaction sa;
	sigset_t	 mask, ign;
	char		**e;
	ssize_t		 n;
	mode_t		 old;
	int		 dfd, fd, sig;

	/* Read the inherited state before opening the memstream. */
	if (sigprocmask(SIG_BLOCK, NULL, &mask) == -1)
		tw_err(1, "sigprocmask: %s", strerror(errno));
	sigemptyset(&ign);
	for (sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			sigaddset(&ign, sig);
	if ((d = opendir("/proc/self/fd")) == NULL)
		tw_err(1, "opendir /proc/self/fd: %s", strerror(errno));
	dfd = dirfd(d);

	if ((f = open_memstream(&buf, &size)) == NULL)
		tw_err(1, "open_memstream: %s", strerror(errno));
	for (e = environ; *e != NULL; e++)
		fprintf(f, "%s\n", *e);
	/* The memstream holds no fd, so the listing shows only inherited ones. */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		fd = atoi(de->d_name);
		if (fd == dfd)
			continue;
		fprintf(f, "fd %d\n", fd);
		n = readlinkat(dfd, de->d_name, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = '\0';
			fprintf(f, "fdtarget %d %s\n", fd, target);
		}
	}
	closedir(d);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		tw_err(1, "getcwd: %s", strerror(errno));
	fprintf(f, "cwd %s\n", cwd);
	fprintf(f, "pid %ld\nppid %ld\npgid %ld\nsid %ld\n", (long)getpid(),
	    (long)getppid(), (long)getpgrp(), (long)getsid(0));
	fprintf(f, "uid %lu\ngid %lu\n", (unsigned long)getuid(),
	    (unsigned long)getgid());
	fprintf(f, "sigmask %llx\nsigignore %llx\n", tw_sigset_bits(&mask),
	    tw_sigset_bits(&ign));
	/* umask(2) only reads by setting: put it back at once. */
	old = umask(0);
	(void)umask(old);
	fprintf(f, "umask %04o\n", (unsigned)old);
	if (fclose(f) != 0)
		tw_err(1, "memstream: %s", strerror(errno));
	tw_write_file(path, buf, size);
	free(buf);
}

/*
 * Readiness. The target is worked out before any signal handler exists, so
 * that announcing from the main loop needs no getenv.
 */
struct ready_target {
	struct sockaddr_un	 sun;
	socklen_t		 sunlen;	/* 0: no NOTIFY_SOCKET */
	int			 fd;		/* -1: no WARDEN_READY_FD */
	int			 done;
};

static void
tw_ready_init(struct ready_target *rt)
{
	const char	*s;
	size_t		 len;

	memset(rt, 0, sizeof(*rt));
	rt->fd = -1;
	if ((s = getenv("NOTIFY_SOCKET")) != NULL && *s != '\0') {
		len = strlen(s);
		if (len >= sizeof(rt->sun.sun_path))
			tw_err(EXIT_READY, "NOTIFY_SOCKET too long: %s", s);
		rt->sun.sun_family = AF_UNIX;
		memcpy(rt->sun.sun_path, s, len);
		/* '@' names a socket in the abstract namespace. */
		if (s[0] == '@')
			rt->sun.sun_path[0] = '\0';
		rt->sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    len + (s[0] == '@' ? 0 : 1));
	}
	if ((s = getenv("WARDEN_READY_FD")) != NULL && *s != '\0')
		rt->fd = tw_parse_int(s, 0, INT_MAX);
}

static void
tw_ready_notify(struct ready_target *rt)
{
	static const char	msg[] = "READY=1";
	ssize_t			n;
	int			s;

	if (rt->sunlen == 0)
		tw_err(EXIT_READY, "readiness by notify, but NOTIFY_SOCKET is unset");
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		tw_err(EXIT_READY, "socket: %s", strerror(errno));
	do {
		n = sendto(s, msg, sizeof(msg) - 1, MSG_NOSIGNAL,
		    (struct sockaddr *)&rt->sun, rt->sunlen);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		tw_err(EXIT_READY, "send READY=1: %s", strerror(errno));
	close(s);
	rt->done = 1;
}

static void
tw_ready_fd(struct ready_target *rt)
{
	if (rt->fd == -1)
		tw_err(EXIT_READY, "readiness by fd, but WARDEN_READY_FD is unset");
	if (tw_write_all(rt->fd, "\n", 1) == -1)
		tw_err(EXIT_READY, "write WARDEN_READY_FD %d: %s", rt->fd,
		    strerror(errno));
	if (close(rt->fd) == -1)
		tw_err(EXIT_READY, "close WARDEN_READY_FD: %s", strerror(errno));
	rt->fd = -1;
	rt->done = 1;
}

/* --ready signal: whichever channel warden offered, notify first. */
static void
tw_ready_any(struct ready_target *rt)
{
	if (rt->done)
		return;
	if (rt->sunlen != 0)
		tw_ready_notify(rt);
	else if (rt->fd != -1)
		tw_ready_fd(rt);
	else
		tw_err(EXIT_READY, "SIGUSR2: neither NOTIFY_SOCKET nor "
		    "WARDEN_READY_FD is set");
}

static void
tw_on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else if (sig == SIGUSR2)
		got_usr2 = 1;
	else if (sig == SIGTERM)
		got_term = 1;
	else if (sig == SIGHUP)
		got_hup = 1;
}

static void
tw_handle(int sig)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = tw_on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked --flood write must return to the loop. */
	sa.sa_flags = 0;
	if (sigaction(sig, &sa, NULL) == -1)
		tw_err(1, "sigaction: %s", strerror(errno));
}

static void
tw_default(int sig, void (*handler)(int))
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) == -1)
		tw_err(1, "sigaction: %s", strerror(errno));
}

/*
 * A child that stays in our process group and sleeps: warden must signal
 * the whole group, or this one outlives the service. With --setsid it
 * leaves the group (and the session), as a daemon does, before the pid
 * file is written: only warden's tracking of descendants can stop it.
 */
static void
tw_grandchild(const char *pidfile, struct ready_target *rt, int ignore_term,
    int new_session)
{
	int		p[2];
	char		c;
	ssize_t		n;

	sigset_t	none;
	pid_t		pid;

	fflush(NULL);
	if (pipe2(p, O_CLOEXEC) == -1)
		tw_err(1, "pipe2: %s", strerror(errno));
	if ((pid = fork()) == -1)
		tw_err(1, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		if (new_session && setsid() == -1)
			tw_err(1, "setsid: %s", strerror(errno));
		close(p[1]);
		/* Readiness is the parent's to announce. */
		if (rt->fd != -1)
			close(rt->fd);
		tw_default(SIGUSR1, SIG_DFL);
		tw_default(SIGUSR2, SIG_DFL);
		tw_default(SIGTERM, ignore_term ? SIG_IGN : SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		(void)prctl(PR_SET_NAME, "tw-grandchild", 0, 0, 0);
		for (;;)
			pause();
	}
	close(p[1]);
	do {
		n = read(p[0], &c, 1);
	} while (n == -1 && errno == EINTR);
	close(p[0]);
	tw_write_pid(pidfile, pid);
}

/*
 * Hold an exclusive lock on path for life, as a server holds its port:
 * a second instance while the first runs fails at once.
 */
static void
tw_lock(const char *path)
{
	int	fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1)
		tw_err(1, "open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == -1)
		tw_err(1, "lock %s: %s", path, strerror(errno));
}

/* Lines as fast as the pipe takes them, until a handled signal arrives. */
static void
tw_flood(void)
{
	static char	buf[65536];
	static unsigned long long n;
	size_t		len, off;
	ssize_t		w;
	int		k;

	for (;;) {
		len = 0;
		while (len < sizeof(buf) - 64) {
			k = snprintf(buf + len, sizeof(buf) - len,
			    "flood %llu\n", n++);
			len += (size_t)k;
		}
		off = 0;
		while (off < len) {
			if (got_usr1 || got_usr2)
				return;
			w = write(STDOUT_FILENO, buf + off, len - off);
			if (w == -1) {
				if (errno == EINTR)
					continue;
				tw_err(1, "flood: write: %s", strerror(errno));
			}
			off += (size_t)w;
		}
	}
}

int
main(int argc, char *argv[])
{
	enum { OPT_READY = 256, OPT_NEVER_READY, OPT_EXIT_USR1, OPT_IGNORE_TERM,
	    OPT_CRASH, OPT_CRASH_SIGNAL, OPT_GRANDCHILD, OPT_PIDFILE, OPT_PRINT,
	    OPT_ENV_OUT, OPT_FLOOD, OPT_SETSID, OPT_LOCK, OPT_NO_PDEATHSIG,
	    OPT_LINGER_TERM, OPT_ON_HUP, OPT_HELP };
	static const struct option longopts[] = {
		{ "ready",		required_argument,	NULL, OPT_READY },
		{ "never-ready",	no_argument,		NULL, OPT_NEVER_READY },
		{ "exit-on-usr1",	required_argument,	NULL, OPT_EXIT_USR1 },
		{ "ignore-term",	no_argument,		NULL, OPT_IGNORE_TERM },
		{ "crash",		required_argument,	NULL, OPT_CRASH },
		{ "crash-signal",	required_argument,	NULL, OPT_CRASH_SIGNAL },
		{ "grandchild",		required_argument,	NULL, OPT_GRANDCHILD },
		{ "pidfile",		required_argument,	NULL, OPT_PIDFILE },
		{ "print",		required_argument,	NULL, OPT_PRINT },
		{ "env-out",		required_argument,	NULL, OPT_ENV_OUT },
		{ "flood",		no_argument,		NULL, OPT_FLOOD },
		{ "setsid",		no_argument,		NULL, OPT_SETSID },
		{ "lock",		required_argument,	NULL, OPT_LOCK },
		{ "no-pdeathsig",	no_argument,		NULL, OPT_NO_PDEATHSIG },
		{ "linger-term",	required_argument,	NULL, OPT_LINGER_TERM },
		{ "on-hup",		required_argument,	NULL, OPT_ON_HUP },
		{ "help",		no_argument,		NULL, OPT_HELP },
		{ NULL,			0,			NULL, 0 }
	};
	struct ready_target	 rt;
	enum ready_mode		 mode = MODE_NONE;
	const char		*grandchild = NULL, *pidfile = NULL;
	const char		*print = NULL, *envout = NULL, *lock = NULL;
	const char		*on_hup = NULL;
	char			 hupbuf[32];
	int			 hups = 0;
	sigset_t		 block, waitmask;
	int			 ch, exit_usr1 = -1, ignore_term = 0;
	int			 crash = -1, crash_sig = 0, flood = 0, linger = -1;
	int			 new_session = 0;
	struct timespec		 ts;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_READY:
			if (strcmp(optarg, "none") == 0)
				mode = MODE_NONE;
			else if (strcmp(optarg, "notify") == 0)
				mode = MODE_NOTIFY;
			else if (strcmp(optarg, "fd") == 0)
				mode = MODE_FD;
			else if (strcmp(optarg, "signal") == 0)
				mode = MODE_SIGNAL;
			else
				usage();
			break;
		case OPT_NEVER_READY:
			mode = MODE_NONE;
			break;
		case OPT_EXIT_USR1:
			exit_usr1 = tw_parse_int(optarg, 0, 255);
			break;
		case OPT_IGNORE_TERM:
			ignore_term = 1;
			break;
		case OPT_CRASH:
			crash = tw_parse_int(optarg, 0, 255);
			break;
		case OPT_CRASH_SIGNAL:
			crash_sig = tw_parse_signal(optarg);
			break;
		case OPT_GRANDCHILD:
			grandchild = optarg;
			break;
		case OPT_PIDFILE:
			pidfile = optarg;
			break;
		case OPT_PRINT:
			print = optarg;
			break;
		case OPT_ENV_OUT:
			envout = optarg;
			break;
		case OPT_FLOOD:
			flood = 1;
			break;
		case OPT_SETSID:
			new_session = 1;
			break;
		case OPT_LOCK:
			lock = optarg;
			break;
		case OPT_NO_PDEATHSIG:
			/* As a set-user-ID program, or one that clears it, would. */
			if (prctl(PR_SET_PDEATHSIG, 0) == -1)
				tw_err(1, "prctl: %s", strerror(errno));
			break;
		case OPT_LINGER_TERM:
			linger = tw_parse_int(optarg, 0, 60000);
			break;
		case OPT_ON_HUP:
			on_hup = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if (envout != NULL)
		tw_env_out(envout);
	if (lock != NULL)
		tw_lock(lock);
	if (pidfile != NULL)
		tw_write_pid(pidfile, getpid());
	if (print != NULL) {
		printf("%s\n", print);
		fflush(stdout);
		fprintf(stderr, "%s\n", print);
	}
	if (crash >= 0) {
		fflush(NULL);
		exit(crash);
	}
	if (crash_sig != 0) {
		fflush(NULL);
		tw_default(crash_sig, SIG_DFL);
		sigemptyset(&block);
		sigaddset(&block, crash_sig);
		sigprocmask(SIG_UNBLOCK, &block, NULL);
		raise(crash_sig);
		_exit(125);
	}

	tw_ready_init(&rt);

	/*
	 * Whatever warden left us, SIGTERM kills (or is ignored when asked)
	 * and the only blocked signals are the two handled here, which
	 * sigsuspend() lets through; --env-out has recorded the original.
	 */
	tw_default(SIGTERM, ignore_term ? SIG_IGN : SIG_DFL);
	sigemptyset(&block);
	if (linger >= 0) {
		sigaddset(&block, SIGTERM);
		tw_handle(SIGTERM);
	}
	if (exit_usr1 >= 0) {
		sigaddset(&block, SIGUSR1);
		tw_handle(SIGUSR1);
	}
	if (mode == MODE_SIGNAL) {
		sigaddset(&block, SIGUSR2);
		tw_handle(SIGUSR2);
	}
	if (on_hup != NULL) {
		sigaddset(&block, SIGHUP);
		tw_handle(SIGHUP);
	}
	sigemptyset(&waitmask);
	if (sigprocmask(SIG_SETMASK, &block, NULL) == -1)
		tw_err(1, "sigprocmask: %s", strerror(errno));

	if (grandchild != NULL)
		tw_grandchild(grandchild, &rt, ignore_term, new_session);

	if (mode == MODE_NOTIFY)
		tw_ready_notify(&rt);
	else if (mode == MODE_FD)
		tw_ready_fd(&rt);

	if (flood) {
		if (sigprocmask(SIG_SETMASK, &waitmask, NULL) == -1)
			tw_err(1, "sigprocmask: %s", strerror(errno));
		for (;;) {
			/* Returns only when a handled signal is pending. */
			tw_flood();
			if (got_usr1) {
				fflush(NULL);
				exit(exit_usr1);
			}
			got_usr2 = 0;
			tw_ready_any(&rt);
		}
	}

	for (;;) {
		while (!got_usr1 && !got_usr2 && !got_term && !got_hup)
			sigsuspend(&waitmask);
		if (got_hup) {
			got_hup = 0;
			snprintf(hupbuf, sizeof(hupbuf), "hup %d\n", ++hups);
			tw_write_file(on_hup, hupbuf, strlen(hupbuf));
		}
		if (got_term) {
			/* Dies of the signal, only later. */
			ts.tv_sec = linger / 1000;
			ts.tv_nsec = (long)(linger % 1000) * 1000000;
			while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
				;
			fflush(NULL);
			tw_default(SIGTERM, SIG_DFL);
			sigemptyset(&block);
			sigaddset(&block, SIGTERM);
			sigprocmask(SIG_UNBLOCK, &block, NULL);
			raise(SIGTERM);
			_exit(125);
		}
		if (got_usr1) {
			/* Said on the way out: the pipe warden reads is still the same. */
			printf("exit %d on SIGUSR1 (pid %ld)\n", exit_usr1,
			    (long)getpid());
			fflush(NULL);
			exit(exit_usr1);
		}
		if (got_usr2) {
			got_usr2 = 0;
			tw_ready_any(&rt);
		}
	}
}
