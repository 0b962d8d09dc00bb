/*
 * handoversuite.c: the handover suites' case (handoversuite.h).
 */
#include <check.h>

#include "handovertest.h"
#include "handoversuite.h"

#define HANDOVERSUITE_TIMEOUT	60	/* bound of one test, s */

Suite *
handoversuite_new(const char *name, TCase **tcp)
{
	Suite	*s = suite_create(name);
	TCase	*tc = tcase_create(name);

	tcase_set_timeout(tc, HANDOVERSUITE_TIMEOUT);
	tcase_add_checked_fixture(tc, ho_setup, ho_teardown);
	suite_add_tcase(s, tc);
	*tcp = tc;
	return s;
}
