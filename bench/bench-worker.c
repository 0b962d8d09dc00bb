/*
 * bench-worker.c: the worker of warden's benchmarks. Its first act is to
 * take a CLOCK_MONOTONIC timestamp and write "PID NS\n" to the FIFO named
 * by argv[1], so a restart is timed from the kill to the replacement's
 * first instruction, not to a poll. Then it waits for a signal.
 *
 *   bench-worker [FIFO [EXIT_AFTER_MS]]
 *
 * Without arguments the FIFO is "fifo" in the current directory, so that
 * s6, runit and daemontools can run it directly as ./run (a symlink) with
 * no shell in between. With EXIT_AFTER_MS it exits with status 1 after
 * that long: a worker that keeps crashing, for the churn figure.
 *
 * With BENCH_NOTIFY_FD in its environment it then writes a newline to that
 * fd: s6's readiness notification (notification-fd), without which
 * s6-supervise pauses a second before every restart.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec	ts;
	const char	*fifo = argc > 1 ? argv[1] : "fifo", *nfd;
	char		line[64];
	long		ms;
	int		fd, n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "%ld %lld\n", (long)getpid(),
	    (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	if ((fd = open(fifo, O_WRONLY | O_CLOEXEC)) == -1)
		return 1;
	if (write(fd, line, (size_t)n) != n)
		return 1;
	close(fd);
	if ((nfd = getenv("BENCH_NOTIFY_FD")) != NULL) {
		fd = atoi(nfd);
		if (write(fd, "\n", 1) != 1)
			return 1;
		close(fd);
	}
	if (argc > 2) {
		ms = strtol(argv[2], NULL, 10);
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) == -1)
			;
		return 1;
	}
	for (;;)
		pause();
}
