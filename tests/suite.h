/*
 * suite.h: what every Check suite shares: its main(), one line.
 *
 *	SUITE_MAIN(config_suite)
 *
 * runs the suite in fork mode (CK_FORK=no for a debugger) and exits 0
 * when every test passed.
 */
#ifndef WARDEN_TESTS_SUITE_H
#define WARDEN_TESTS_SUITE_H

#include <check.h>

int	suite_run(Suite *);

#define SUITE_MAIN(make)			\
	int main(void);				\
	int main(void) { return suite_run(make()); }

#endif
