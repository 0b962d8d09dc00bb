/*
 * childtest.c: a test's body in a child of its own (childtest.h).
 */
#include <sys/wait.h>

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "childtest.h"

void
childtest_run(const char *test, void (*child)(void), const char *needs)
{
	pid_t	pid;
	int	status;

	fflush(stderr);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		child();
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "%s: the child was killed by signal "
	    "%d (SIGBUS is %d)", test, WTERMSIG(status), SIGBUS);
	if (WEXITSTATUS(status) == CHILDTEST_SKIP) {
		/* As the other root-only tests: said, not failed. */
		fprintf(stderr, "%s: skipped: needs %s\n", test, needs);
		return;
	}
	ck_assert_msg(WEXITSTATUS(status) == 0, "%s: failed (see stderr)",
	    test);
}
