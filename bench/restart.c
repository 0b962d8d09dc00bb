/*
 * restart.c: SIGKILL -> replacement running, warden against the floor.
 *
 *   bench-restart [-n KILLS] [-b BINDIR]
 *
 * Both supervise bench-worker, which writes its own start time to a FIFO
 * as its first act. The runs alternate in rounds (floor, warden, floor,
 * warden...) so that drift of a shared machine falls on both alike. Prints
 * median, p99 and max latency, the ratio to the floor, and warden's CPU
 * time per restart.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-clock.h"

#define ROUNDS	10

struct side {
	const char	*name;
	pid_t		 super;		/* the supervisor process */
	pid_t		 worker;
	int		 fifo;
	char		 buf[4096];
	size_t		 len;
	long long	*lat;		/* ns */
	size_t		 n;
	double		 cpu_s;		/* supervisor CPU spent during the kills */
};

static char	dir[PATH_MAX];
static char	bindir[PATH_MAX];
/* What to take down if the bench stops half-way: nothing is left running. */
static pid_t	supers[2];
static size_t	nsupers;

/* Kill the supervisors (and the workers in their groups), remove dir. */
static void
cleanup(void)
{
	char	cmd[PATH_MAX + 16];
	size_t	i;

	for (i = 0; i < nsupers; i++) {
		if (supers[i] <= 0)
			continue;
		(void)kill(-supers[i], SIGKILL);
		(void)kill(supers[i], SIGKILL);
		(void)waitpid(supers[i], NULL, 0);
	}
	nsupers = 0;
	/* warden leaves its table for readers that outlive it; this one has none. */
	snprintf(cmd, sizeof(cmd), "/warden-bench-%d", (int)getpid());
	(void)shm_unlink(cmd);
	if (dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "bench-restart: could not remove %s\n", dir);
		dir[0] = '\0';
	}
}

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "bench-restart: %s: %s\n", what, strerror(errno));
	cleanup();
	exit(1);
}

/* Next "PID NS" line from the FIFO, with a 5 s bound. */
static void
side_read(struct side *s, pid_t *pid, long long *ns)
{
	struct pollfd	 pfd = { s->fifo, POLLIN, 0 };
	char		*nl;
	ssize_t		 r;

	while ((nl = memchr(s->buf, '\n', s->len)) == NULL) {
		if (poll(&pfd, 1, 5000) != 1) {
			fprintf(stderr, "bench-restart: %s: no worker start within 5 s\n", s->name);
			cleanup();
			exit(1);
		}
		r = read(s->fifo, s->buf + s->len, sizeof(s->buf) - s->len);
		if (r <= 0 && errno != EINTR)
			die("read fifo");
		if (r > 0)
			s->len += (size_t)r;
	}
	*nl = '\0';
	if (sscanf(s->buf, "%d %lld", pid, ns) != 2) {
		fprintf(stderr, "bench-restart: bad line '%s'\n", s->buf);
		exit(1);
	}
	s->len -= (size_t)(nl + 1 - s->buf);
	memmove(s->buf, nl + 1, s->len);
}

static double
cpu_of(pid_t pid)
{
	char		 path[64];
	unsigned long long ns;
	FILE		*f;

	/* schedstat's first field: ns on the CPU, not stat's 10 ms ticks. */
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	if ((f = fopen(path, "r")) == NULL || fscanf(f, "%llu", &ns) != 1)
		die(path);
	fclose(f);
	return (double)ns / 1e9;
}

static pid_t
spawn(char *const argv[])
{
	pid_t	pid = fork();
	int	fd;

	if (pid == -1)
		die("fork");
	if (pid == 0) {
		/* Its own group: cleanup() kills it and all it started. */
		(void)setpgid(0, 0);
		if ((fd = open("/dev/null", O_WRONLY)) != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	supers[nsupers++] = pid;
	return pid;
}

static void
side_open(struct side *s, const char *fifo)
{
	if (mkfifo(fifo, 0600) == -1)
		die("mkfifo");
	/* O_RDWR: the FIFO never reports EOF between two workers. */
	if ((s->fifo = open(fifo, O_RDWR | O_CLOEXEC)) == -1)
		die("open fifo");
}

static void
start_floor(struct side *s)
{
	char	 fifo[PATH_MAX + 16], prog[PATH_MAX + 32], worker[PATH_MAX + 32];
	char	*argv[] = { prog, worker, fifo, NULL };
	long long ns;

	snprintf(fifo, sizeof(fifo), "%s/floor.fifo", dir);
	snprintf(prog, sizeof(prog), "%s/bench/respawn", bindir);
	snprintf(worker, sizeof(worker), "%s/bench/bench-worker", bindir);
	side_open(s, fifo);
	s->super = spawn(argv);
	side_read(s, &s->worker, &ns);
}

static void
start_warden(struct side *s)
{
	char	 fifo[PATH_MAX + 16], conf[PATH_MAX + 16], prog[PATH_MAX + 32];
	char	*argv[] = { prog, (char *)"-q", (char *)"-c", conf, NULL };
	long long ns;
	FILE	*f;

	snprintf(fifo, sizeof(fifo), "%s/warden.fifo", dir);
	snprintf(conf, sizeof(conf), "%s/warden.json", dir);
	snprintf(prog, sizeof(prog), "%s/warden", bindir);
	side_open(s, fifo);
	if ((f = fopen(conf, "w")) == NULL)
		die(conf);
	fprintf(f, "{ \"socket\": \"warden.sock\", \"state_dir\": \"state\",\n"
	    "  \"table\": \"/warden-bench-%d\",\n"
	    "  \"supervisor\": { \"max_restarts\": 100000, \"max_seconds\": 1,\n"
	    "    \"children\": [ { \"name\": \"w\", \"command\": [\"%s/bench/bench-worker\", \"%s\"],\n"
	    "      \"shutdown_ms\": \"brutal_kill\" } ] } }\n", (int)getpid(), bindir, fifo);
	if (fclose(f) == EOF)
		die(conf);
	s->super = spawn(argv);
	side_read(s, &s->worker, &ns);
}

static void
side_kills(struct side *s, size_t n)
{
	double		cpu0 = cpu_of(s->super);
	long long	t0, t1;
	pid_t		pid;
	size_t		i;

	for (i = 0; i < n; i++) {
		t0 = bench_clock_ns();
		if (kill(s->worker, SIGKILL) == -1)
			die("kill");
		side_read(s, &pid, &t1);
		s->lat[s->n++] = t1 - t0;
		s->worker = pid;
	}
	s->cpu_s += cpu_of(s->super) - cpu0;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long	x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static double
pct(struct side *s, double p)
{
	size_t	i = (size_t)(p * (double)(s->n - 1) + 0.5);

	return (double)s->lat[i] / 1000.0;
}

static void
stop(struct side *s)
{
	size_t	i;

	kill(s->super, SIGTERM);
	waitpid(s->super, NULL, 0);
	kill(s->worker, SIGKILL);
	/* Reaped: its pid may be anyone's now, cleanup() must not touch it. */
	for (i = 0; i < nsupers; i++)
		if (supers[i] == s->super)
			supers[i] = 0;
}

int
main(int argc, char **argv)
{
	struct side	floor_ = { .name = "floor" }, warden = { .name = "warden" };
	size_t		kills = 1000, per;
	const char	*b = NULL;
	char		self[PATH_MAX], *slash;
	int		ch, r;

	while ((ch = getopt(argc, argv, "n:b:")) != -1) {
		switch (ch) {
		case 'n':
			kills = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			b = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench-restart [-n KILLS] [-b BINDIR]\n");
			return 2;
		}
	}
	if (kills < ROUNDS)
		kills = ROUNDS;
	if (b == NULL) {
		/* bin/bench/bench-restart -> bin */
		if ((r = (int)readlink("/proc/self/exe", self, sizeof(self) - 1)) == -1)
			die("readlink");
		self[r] = '\0';
		if ((slash = strrchr(self, '/')) != NULL)
			*slash = '\0';
		if ((slash = strrchr(self, '/')) != NULL)
			*slash = '\0';
		b = self;
	}
	/* The supervisors run in another folder: the paths must be absolute. */
	if (realpath(b, bindir) == NULL)
		die(b);
	snprintf(dir, sizeof(dir), "%s/warden-bench.XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	per = kills / ROUNDS;
	floor_.lat = calloc(kills, sizeof(long long));
	warden.lat = calloc(kills, sizeof(long long));
	start_floor(&floor_);
	start_warden(&warden);
	for (r = 0; r < ROUNDS; r++) {
		side_kills(&floor_, per);
		side_kills(&warden, per);
	}
	stop(&floor_);
	stop(&warden);
	qsort(floor_.lat, floor_.n, sizeof(long long), cmp_ll);
	qsort(warden.lat, warden.n, sizeof(long long), cmp_ll);
	printf("SIGKILL -> replacement running, %zu kills each, alternating in %d rounds\n",
	    warden.n, ROUNDS);
	printf("%-8s %10s %10s %10s %14s\n", "", "median us", "p99 us", "max us", "CPU us/restart");
	printf("%-8s %10.1f %10.1f %10.1f %14.1f\n", "floor", pct(&floor_, 0.5),
	    pct(&floor_, 0.99), pct(&floor_, 1.0), floor_.cpu_s * 1e6 / (double)floor_.n);
	printf("%-8s %10.1f %10.1f %10.1f %14.1f\n", "warden", pct(&warden, 0.5),
	    pct(&warden, 0.99), pct(&warden, 1.0), warden.cpu_s * 1e6 / (double)warden.n);
	printf("%-8s %10.2f %10.2f %10.2f %14.2f\n", "ratio", pct(&warden, 0.5) / pct(&floor_, 0.5),
	    pct(&warden, 0.99) / pct(&floor_, 0.99), pct(&warden, 1.0) / pct(&floor_, 1.0),
	    floor_.cpu_s > 0 ? warden.cpu_s / floor_.cpu_s : 0.0);
	cleanup();
	return 0;
}
