/*
 * controlops.h: services operated through the control socket, for the
 * control suites that then look at what the operation brought about
 * (waits answered, restarts counted, nobody answered).
 */
#ifndef WARDEN_TESTS_CONTROLOPS_H
#define WARDEN_TESTS_CONTROLOPS_H

#include <sys/types.h>

#include "harness.h"

/*
 * service.kill of service, and its service.exited seen on sub (which must
 * carry the pid it had); that pid.
 */
pid_t	controlops_kill_seen(struct harness *h, struct harness_conn *sub,
	    const char *service);
/* method (service.stop, .start...) of service: its state is then state. */
void	controlops_service(struct harness *h, const char *method,
	    const char *service, const char *state);

#endif
