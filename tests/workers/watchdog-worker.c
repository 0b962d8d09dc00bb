/*
 * watchdog-worker.c: a "ready": "notify" worker that feeds the watchdog
 * warden gives it, as a systemd service with WatchdogSec= would: it reads
 * WATCHDOG_USEC and WATCHDOG_PID, says READY=1 (with STATUS= when asked),
 * then WATCHDOG=1 every --every MS. Like test-worker, it links nothing of
 * warden's.
 *
 *	--every MS	the pings' period (default: WATCHDOG_USEC / 4)
 *	--pings N	exit 0 after N pings (0: never)
 *	--status TEXT	STATUS=TEXT along with READY=1 (escapes: \n \x01 \xff)
 *	--usec N	WATCHDOG_USEC=N once, after READY=1
 *	--trigger	on SIGUSR1, WATCHDOG=trigger before the hang
 *	--env-out FILE	"usec pid getpid" written to FILE at start
 *	--ignore-abrt	SIGABRT ignored: only SIGKILL ends it
 *	--child-pings	on SIGUSR1, stop pinging, but a child goes on pinging
 *			from its own pid (not the main one)
 *
 * SIGUSR1 stops the pings (a hang, but the process lives on and answers
 * SIGTERM). Exit status: 0 after --pings, 2 usage, 3 no NOTIFY_SOCKET.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t	hung;
static struct sockaddr_un	sun;
static socklen_t		sunlen;
static int			sock = -1;

static void
die(int code, const char *what)
{
	fprintf(stderr, "watchdog-worker[%ld]: %s\n", (long)getpid(), what);
	exit(code);
}

static void
on_usr1(int sig)
{
	(void)sig;
	hung = 1;
}

static void
notify_open(void)
{
	const char	*s = getenv("NOTIFY_SOCKET");
	size_t		 len;

	if (s == NULL || *s == '\0' || (len = strlen(s)) >= sizeof(sun.sun_path))
		die(3, "no usable NOTIFY_SOCKET");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, s, len);
	if (s[0] == '@')
		sun.sun_path[0] = '\0';
	sunlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if ((sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		die(1, "socket");
}

static void
say(const char *msg, size_t len)
{
	if (sendto(sock, msg, len, 0, (struct sockaddr *)&sun, sunlen) == -1)
		die(1, "sendto");
}

static void
says(const char *msg)
{
	say(msg, strlen(msg));
}

/* --status TEXT with \n, \xHH escapes, so tests can send any byte. */
static size_t
unescape(const char *in, char *out, size_t room)
{
	size_t	n = 0;
	unsigned v;

	while (*in != '\0' && n < room) {
		if (in[0] == '\\' && in[1] == 'n') {
			out[n++] = '\n';
			in += 2;
		} else if (in[0] == '\\' && in[1] == 'x' &&
		    sscanf(in + 2, "%2x", &v) == 1) {
			out[n++] = (char)v;
			in += 4;
		} else
			out[n++] = *in++;
	}
	return n;
}

static void
nap_ms(long ms)
{
	struct timespec	ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		if (hung)
			return;
}

static void
env_out(const char *file)
{
	const char	*usec = getenv("WATCHDOG_USEC");
	const char	*pid = getenv("WATCHDOG_PID");
	char		 tmp[4096];
	FILE		*f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	if ((f = fopen(tmp, "w")) == NULL)
		die(1, "env-out");
	fprintf(f, "%s %s %ld\n", usec != NULL ? usec : "-",
	    pid != NULL ? pid : "-", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, file) == -1)
		die(1, "env-out");
}

/* The child of --child-pings: pings from its own pid until killed. */
static void
child_pings(long every)
{
	pid_t	pid = fork();

	if (pid == -1)
		die(1, "fork");
	if (pid > 0)
		return;
	for (;;) {
		says("WATCHDOG=1");
		nap_ms(every);
	}
}

int
main(int argc, char **argv)
{
	const char	*status = NULL, *usec = NULL, *envf = NULL;
	long		 every = 0, pings = 0, n;
	int		 trigger = 0, ignore_abrt = 0, child = 0, i;
	char		 buf[8192], text[4096];
	size_t		 len;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--every") == 0 && i + 1 < argc)
			every = atol(argv[++i]);
		else if (strcmp(argv[i], "--pings") == 0 && i + 1 < argc)
			pings = atol(argv[++i]);
		else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc)
			status = argv[++i];
		else if (strcmp(argv[i], "--usec") == 0 && i + 1 < argc)
			usec = argv[++i];
		else if (strcmp(argv[i], "--env-out") == 0 && i + 1 < argc)
			envf = argv[++i];
		else if (strcmp(argv[i], "--trigger") == 0)
			trigger = 1;
		else if (strcmp(argv[i], "--ignore-abrt") == 0)
			ignore_abrt = 1;
		else if (strcmp(argv[i], "--child-pings") == 0)
			child = 1;
		else
			die(2, "usage: watchdog-worker [--every MS] [--pings N] "
			    "[--status TEXT] [--usec N] [--trigger] "
			    "[--env-out FILE] [--ignore-abrt] [--child-pings]");
	}
	if (envf != NULL)
		env_out(envf);
	if (every <= 0 && getenv("WATCHDOG_USEC") != NULL)
		every = atol(getenv("WATCHDOG_USEC")) / 4000;
	if (every <= 0)
		every = 100;
	if (ignore_abrt)
		signal(SIGABRT, SIG_IGN);
	signal(SIGUSR1, on_usr1);
	notify_open();
	len = (size_t)snprintf(buf, sizeof(buf), "READY=1");
	if (status != NULL) {
		memcpy(buf + len, "\nSTATUS=", 8);
		len += 8;
		len += unescape(status, buf + len, sizeof(buf) - len);
	}
	say(buf, len);
	if (usec != NULL) {
		snprintf(text, sizeof(text), "WATCHDOG_USEC=%s", usec);
		says(text);
	}
	for (n = 0; pings == 0 || n < pings; n++) {
		if (hung) {
			if (trigger)
				says("WATCHDOG=trigger");
			if (child)
				child_pings(every);
			for (;;)
				pause();
		}
		says("WATCHDOG=1");
		nap_ms(every);
	}
	return 0;
}
