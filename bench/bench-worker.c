/*
 * bench-worker.c: the worker of warden's benchmarks. Its first act is to
 * take a CLOCK_MONOTONIC timestamp and write "PID NS\n" to the FIFO named
 * by argv[1], so a restart is timed from the kill to the replacement's
 * first instruction, not to a poll. Then it waits for a signal.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec	ts;
	char		line[64];
	int		fd, n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (argc < 2)
		return 2;
	n = snprintf(line, sizeof(line), "%ld %lld\n", (long)getpid(),
	    (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	if ((fd = open(argv[1], O_WRONLY | O_CLOEXEC)) == -1)
		return 1;
	if (write(fd, line, (size_t)n) != n)
		return 1;
	close(fd);
	for (;;)
		pause();
}
