/*
 * childtest.h: a test whose body runs in a child of its own (a private
 * mount namespace, another user, a filled /dev/shm: nothing of it may
 * reach the runner), and how the child ended judged in the test.
 */
#ifndef WARDEN_TESTS_CHILDTEST_H
#define WARDEN_TESTS_CHILDTEST_H

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

#endif
