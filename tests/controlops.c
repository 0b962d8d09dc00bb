/*
 * controlops.c: services operated through the control socket
 * (controlops.h).
 */
#include <check.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "controltest.h"
#include "controlops.h"

pid_t
controlops_kill_seen(struct harness *h, struct harness_conn *sub,
    const char *service)
{
	pid_t	pid = pid_of(h, service);

	json_decref(result(h, "service.kill", json_pack("{s:s}", "service",
	    service)));
	ct_await_exit(sub, service, pid);
	return pid;
}

void
controlops_service(struct harness *h, const char *method,
    const char *service, const char *state)
{
	json_t	*r;

	r = result(h, method, json_pack("{s:s}", "service", service));
	ck_assert_str_eq(json_string_value(json_object_get(r, "state")),
	    state);
	json_decref(r);
}
