/*
 * handoversuite.h: how the handover suites (check_handover*) are made:
 * one case of tests, each with handovertest.h's fixture (a daemon's
 * control socket in this process) and up to 60 s.
 */
#ifndef WARDEN_TESTS_HANDOVERSUITE_H
#define WARDEN_TESTS_HANDOVERSUITE_H

#include <check.h>

/* The suite name, its one case in *tcp, for the suite to add its tests. */
Suite		*handoversuite_new(const char *name, TCase **tcp);

#endif
