/*
 * respawn.c: the floor. A bare respawner of a few lines (fork, exec, reap,
 * nothing else), so that warden's restart latency and CPU can be read as
 * a multiple of what the machine itself costs.
 *   respawn [-n COUNT] PROGRAM [ARG...]
 * With -n it keeps COUNT copies of PROGRAM running, each replaced as soon
 * as it is reaped: the floor for starting a thousand workers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t
respawn_start(char **argv)
{
	pid_t	pid;

	while ((pid = fork()) == -1)
		;
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

int
main(int argc, char **argv)
{
	long	count = 1, i;

	if (argc > 2 && strcmp(argv[1], "-n") == 0) {
		count = strtol(argv[2], NULL, 10);
		argc -= 2;
		argv += 2;
	}
	if (argc < 2 || count < 1) {
		fprintf(stderr, "usage: respawn [-n COUNT] PROGRAM [ARG...]\n");
		return 2;
	}
	for (i = 0; i < count; i++)
		respawn_start(argv + 1);
	for (;;) {
		/* Any child gone is replaced at once; which one does not matter. */
		if (wait(NULL) == -1)
			continue;
		respawn_start(argv + 1);
	}
}
