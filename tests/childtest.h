/*
 * childtest.h: a test whose body runs in a child of its own (a private
 * mount namespace, another user, a filled /dev/shm: nothing of it may
 * reach the runner), and how the child ended judged in the test; and a
 * child that runs in step with the test.
 */
#ifndef WARDEN_TESTS_CHILDTEST_H
#define WARDEN_TESTS_CHILDTEST_H

#include <sys/types.h>

#include <stdbool.h>

/* The exit status of a child that cannot run here (it says why). */
#define CHILDTEST_SKIP	2

/*
 * Run child, which never returns: it _exits 0 when it passed,
 * CHILDTEST_SKIP when it cannot run here, anything else when it failed,
 * and says why on stderr. A child that cannot run is reported as
 * "test: skipped: needs NEEDS" and passes.
 */
void	childtest_run(const char *test, void (*child)(void),
	    const char *needs);

/*
 * A child that runs in step with the test: it sends a byte when it is
 * ready and waits for the test's byte to go on.
 */
struct childtest_lockstep {
	int	go[2], ready[2];
};

/* fork(2), each side keeping its ends of the pipes: 0 in the child. */
pid_t	childtest_lockstep_fork(struct childtest_lockstep *ls);
/* In the child: say c, and wait for the test's go; false if it failed. */
bool	childtest_lockstep_ready(struct childtest_lockstep *ls, char c);
/* In the test: the child's byte, which must come within 10 s. */
char	childtest_lockstep_await(struct childtest_lockstep *ls);
/* In the test: let the child go on. */
void	childtest_lockstep_go(struct childtest_lockstep *ls);
/* In the test: its ends of the pipes closed. */
void	childtest_lockstep_close(struct childtest_lockstep *ls);

#endif
