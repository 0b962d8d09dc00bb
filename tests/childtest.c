/*
 * childtest.c: a test's body in a child of its own (childtest.h).
 */
#include <sys/wait.h>

#include <check.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "childtest.h"
#include "tabletest.h"

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

pid_t
childtest_lockstep_fork(struct childtest_lockstep *ls)
{
	pid_t	pid;

	ck_assert_int_eq(pipe(ls->go), 0);
	ck_assert_int_eq(pipe(ls->ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	close(pid == 0 ? ls->go[1] : ls->go[0]);
	close(pid == 0 ? ls->ready[0] : ls->ready[1]);
	return pid;
}

bool
childtest_lockstep_ready(struct childtest_lockstep *ls, char c)
{
	return write(ls->ready[1], &c, 1) == 1 && read(ls->go[0], &c, 1) == 1;
}

char
childtest_lockstep_await(struct childtest_lockstep *ls)
{
	char	c;

	pipe_wait(ls->ready[0], &c, 1);
	return c;
}

void
childtest_lockstep_go(struct childtest_lockstep *ls)
{
	ck_assert_int_eq(write(ls->go[1], "g", 1), 1);
}

void
childtest_lockstep_close(struct childtest_lockstep *ls)
{
	close(ls->go[1]);
	close(ls->ready[0]);
}
