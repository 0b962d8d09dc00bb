/*
 * demo-worker.c: the worker conf/warden.json runs, to show warden at work.
 *
 * It announces readiness the way warden asked (sd_notify on NOTIFY_SOCKET,
 * or a newline on WARDEN_READY_FD), prints a tick line every interval so its
 * captured output shows up in warden's log, and exits 0 on SIGTERM or SIGINT.
 * It waits in poll(2) on a signalfd with the time left to the next tick, so
 * it costs nothing between ticks and ticks do not drift.
 *
 * It also reads the feature flag that concerns its role through libwarden
 * (the shared table warden hands it, no socket, no syscall per read) and
 * says which path it takes whenever the flag changes, so a stage change is
 * seen taking effect live in warden's log.
 *
 * It answers liveness probes from its loop: "demo-worker --probe", run by
 * warden as an exec probe (warden.json(5) "health"), connects to the
 * abstract socket "warden-demo-worker.PID" of the instance WARDEN_PID
 * names and passes when "ok" comes back. A worker that hangs (stopped,
 * or stuck) leaves the connection unanswered, and the probe times out.
 */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "warden.h"
#include "util.h"

enum demo_ready { DEMO_READY_AUTO, DEMO_READY_NONE, DEMO_READY_NOTIFY,
	DEMO_READY_FD };

/* The flag each role of the demo follows, and its two paths. */
static const struct demo_flag {
	const char	*role;
	const char	*flag;
	const char	*on;
	const char	*off;
} demo_flags[] = {
	{ "registry", "use_ets_agent_registry",
	    "agents kept in the shared ETS-style table", "agents kept in process state" },
	{ "error_context", "use_logger_error_context",
	    "error context from logger metadata", "error context from the process dictionary" },
	{ "span_manager", "use_genserver_span_management",
	    "spans managed by this server", "spans kept by each caller" },
	{ "sampled_events", "use_ets_sampled_events",
	    "sampled events in the shared table", "sampled events in process state" },
};

#define DEMO_FLAG_POLL_MS	250	/* how often the flag is looked at */
#define DEMO_PROBE_NAME		"warden-demo-worker.%ld"	/* abstract */

static const struct demo_flag *
demo_flag_of(const char *role)
{
	size_t	i;

	for (i = 0; i < sizeof(demo_flags) / sizeof(demo_flags[0]); i++)
		if (strcmp(demo_flags[i].role, role) == 0)
			return &demo_flags[i];
	return NULL;
}

/* Say which path the flag picks, when it has changed (or at the first look). */
static void
demo_follow_flag(warden_table *t, const struct demo_flag *f, int *last)
{
	int	on;

	if (f == NULL)
		return;
	on = warden_enabled(t, f->flag, false);
	if (on == *last)
		return;
	*last = on;
	printf("%s %s (stage %d): %s\n", f->flag, on ? "on" : "off",
	    warden_stage(t), on ? f->on : f->off);
}

/* The abstract socket of the worker pid, in *sun: its length. */
static socklen_t
demo_probe_addr(struct sockaddr_un *sun, long pid)
{
	int	n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1,
	    DEMO_PROBE_NAME, pid);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    (size_t)n);
}

/* The worker's side: a socket its loop answers; -1 when it cannot be. */
static int
demo_probe_listen(void)
{
	struct sockaddr_un	sun;
	socklen_t		len = demo_probe_addr(&sun, (long)getpid());
	int			s;

	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1 || bind(s, (struct sockaddr *)&sun, len) == -1 ||
	    listen(s, 16) == -1) {
		log_warn("probe socket");
		if (s != -1)
			close(s);
		return -1;
	}
	return s;
}

/* Each probe waiting: "ok", at once. */
static void
demo_probe_answer(int s)
{
	int	c;

	while ((c = accept4(s, NULL, NULL, SOCK_CLOEXEC)) != -1) {
		(void)send(c, "ok\n", 3, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(c);
	}
}

/* --probe: the instance WARDEN_PID names answers, or this fails. */
static int
demo_probe(void)
{
	struct sockaddr_un	 sun;
	const char		*pid = getenv("WARDEN_PID");
	char			 buf[8];
	ssize_t			 n;
	socklen_t		 len;
	int			 s;

	if (pid == NULL || atol(pid) <= 0) {
		printf("WARDEN_PID is not set: run me as warden's probe\n");
		return 2;
	}
	len = demo_probe_addr(&sun, atol(pid));
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(s, (struct sockaddr *)&sun, len) == -1) {
		printf("pid %s does not listen: %s\n", pid, strerror(errno));
		return 1;
	}
	/* A hung worker never answers: warden's timeout ends the wait. */
	do
		n = recv(s, buf, sizeof(buf), 0);
	while (n == -1 && errno == EINTR);
	if (n < 2 || memcmp(buf, "ok", 2) != 0) {
		printf("pid %s did not answer\n", pid);
		return 1;
	}
	return 0;
}

static void __attribute__((noreturn))
demo_usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: demo-worker --role NAME [--ready none|notify|fd]"
	    " [--interval-ms N]\n"
	    "       demo-worker --probe\n"
	    "\n"
	    "Prints \"NAME: tick N (pid P)\" every interval (default 5000 ms)\n"
	    "and exits 0 on SIGTERM or SIGINT. Readiness follows what warden\n"
	    "gave it: NOTIFY_SOCKET, else WARDEN_READY_FD; --ready forces one.\n"
	    "--role defaults to $WARDEN_SERVICE. It answers --probe, warden's\n"
	    "liveness probe of the instance WARDEN_PID names, from its loop.\n");
	exit(status);
}

/* sd_notify(3)'s protocol: one datagram; '@' names an abstract socket. */
static int
demo_notify(const char *path)
{
	static const char	 msg[] = "READY=1";
	struct sockaddr_un	 sun;
	socklen_t		 len;
	size_t			 plen = strlen(path);
	ssize_t			 n;
	int			 s;

	if (plen == 0 || plen >= sizeof(sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET: bad path \"%s\"", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	else
		len++;
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("socket");
		return -1;
	}
	do {
		n = sendto(s, msg, sizeof(msg) - 1, MSG_NOSIGNAL,
		    (struct sockaddr *)&sun, len);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		log_warn("NOTIFY_SOCKET %s", path);
		close(s);
		return -1;
	}
	close(s);
	return 0;
}

static int
demo_ready_fd(const char *s)
{
	char	*end;
	long	 fd;

	errno = 0;
	fd = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || fd < 0 || fd > INT_MAX) {
		log_warnx("WARDEN_READY_FD: not an fd: \"%s\"", s);
		return -1;
	}
	if (util_write_all((int)fd, "\n", 1) == -1) {
		log_warn("WARDEN_READY_FD %ld", fd);
		return -1;
	}
	if (close((int)fd) == -1) {
		log_warn("close WARDEN_READY_FD");
		return -1;
	}
	return 0;
}

static int
demo_announce(enum demo_ready mode)
{
	const char	*nsock = getenv("NOTIFY_SOCKET");
	const char	*rfd = getenv("WARDEN_READY_FD");

	if (nsock != NULL && *nsock == '\0')
		nsock = NULL;
	if (rfd != NULL && *rfd == '\0')
		rfd = NULL;
	if (mode == DEMO_READY_AUTO)
		mode = nsock != NULL ? DEMO_READY_NOTIFY :
		    rfd != NULL ? DEMO_READY_FD : DEMO_READY_NONE;
	switch (mode) {
	case DEMO_READY_NOTIFY:
		if (nsock == NULL) {
			log_warnx("--ready notify, but NOTIFY_SOCKET is unset");
			return -1;
		}
		return demo_notify(nsock);
	case DEMO_READY_FD:
		if (rfd == NULL) {
			log_warnx("--ready fd, but WARDEN_READY_FD is unset");
			return -1;
		}
		return demo_ready_fd(rfd);
	default:
		return 0;
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "role",		required_argument,	NULL, 'r' },
		{ "ready",		required_argument,	NULL, 'R' },
		{ "interval-ms",	required_argument,	NULL, 'i' },
		{ "probe",		no_argument,		NULL, 'p' },
		{ "help",		no_argument,		NULL, 'h' },
		{ NULL,			0,			NULL, 0 }
	};
	struct signalfd_siginfo	 si;
	struct pollfd		 pfd[2];
	enum demo_ready		 ready = DEMO_READY_AUTO;
	const char		*role = getenv("WARDEN_SERVICE");
	uint64_t		 interval = 5000, next, now, tick = 0;
	sigset_t		 mask;
	char			*end;
	long long		 ms;
	ssize_t			 n;
	pid_t			 pid = getpid();
	int			 ch, sfd, timeout, last = -1;
	warden_table		*table;
	const struct demo_flag	*flag;

	log_init("demo-worker", LOG_LEVEL_INFO);
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			role = optarg;
			break;
		case 'R':
			if (strcmp(optarg, "none") == 0)
				ready = DEMO_READY_NONE;
			else if (strcmp(optarg, "notify") == 0)
				ready = DEMO_READY_NOTIFY;
			else if (strcmp(optarg, "fd") == 0)
				ready = DEMO_READY_FD;
			else
				demo_usage(2);
			break;
		case 'i':
			errno = 0;
			ms = strtoll(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    ms < 1 || ms > INT_MAX) {
				log_warnx("--interval-ms: expected 1..%d, got "
				    "\"%s\"", INT_MAX, optarg);
				demo_usage(2);
			}
			interval = (uint64_t)ms;
			break;
		case 'p':
			return demo_probe();
		case 'h':
			demo_usage(0);
		default:
			demo_usage(2);
		}
	}
	if (optind != argc || role == NULL || *role == '\0')
		demo_usage(2);

	/* warden reads our output through a pipe: one line at a time. */
	if (setvbuf(stdout, NULL, _IOLBF, 0) != 0)
		fatalx("setvbuf failed");

	/* Block before announcing, so a stop right after ready is not lost. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		fatal("signalfd");

	printf("started as %s (pid %ld)\n", role, (long)pid);
	if (demo_announce(ready) == -1)
		exit(1);

	table = warden_open(NULL);
	flag = demo_flag_of(role);
	pfd[0].fd = sfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = demo_probe_listen();
	pfd[1].events = POLLIN;
	next = util_now_ms() + interval;
	for (;;) {
		demo_follow_flag(table, flag, &last);
		now = util_now_ms();
		if (now >= next) {
			printf("tick %llu (pid %ld)\n",
			    (unsigned long long)++tick, (long)pid);
			/* After a stall, skip missed ticks instead of bursting. */
			next += interval;
			if (next <= now)
				next = now + interval;
			continue;
		}
		timeout = (int)(next - now);
		if (flag != NULL && timeout > DEMO_FLAG_POLL_MS)
			timeout = DEMO_FLAG_POLL_MS;
		if (poll(pfd, pfd[1].fd != -1 ? 2 : 1, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (pfd[1].fd != -1 && (pfd[1].revents & POLLIN))
			demo_probe_answer(pfd[1].fd);
		if ((pfd[0].revents & POLLIN) == 0)
			continue;
		n = read(sfd, &si, sizeof(si));
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fatal("read signalfd");
		}
		if (n != (ssize_t)sizeof(si))
			fatalx("signalfd: short read");
		break;
	}
	printf("stopping\n");
	warden_close(table);
	close(sfd);
	if (fflush(stdout) == EOF)
		return 1;
	return 0;
}
