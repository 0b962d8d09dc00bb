/*
 * respawn.c: the floor. A bare respawner of a few lines (fork, exec, reap,
 * nothing else), so that warden's restart latency and CPU can be read as
 * a multiple of what the machine itself costs.
 *   respawn PROGRAM [ARG...]
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	pid_t	pid;

	if (argc < 2) {
		fprintf(stderr, "usage: respawn PROGRAM [ARG...]\n");
		return 2;
	}
	for (;;) {
		if ((pid = fork()) == -1)
			return 1;
		if (pid == 0) {
			execv(argv[1], argv + 1);
			_exit(127);
		}
		while (waitpid(pid, NULL, 0) == -1)
			;
	}
}
