/*
 * controltest.h: what the control suites (check_control and
 * check_control_*) share on top of testlib.h: lines sent and read raw on a
 * connection, answers checked whole (jsonrpc, id, error or result), and
 * services killed and seen recovered.
 *
 * Every suite links every helper file, so the names here carry ct_ to
 * stay clear of the other suites' helpers.
 */
#ifndef WARDEN_TESTS_CONTROLTEST_H
#define WARDEN_TESTS_CONTROLTEST_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>

#include <jansson.h>

#include "harness.h"

#define CALL_MS		HARNESS_CALL_TIMEOUT
/* For an answer whose id must be null. */
#define ID_NULL		LLONG_MIN
#define MAX_LINE	(1024 * 1024)	/* control.c's CONTROL_MAX_LINE */
#define MAX_CLIENTS	256		/* CONTROL_MAX_CLIENTS */

/*
 * Three workers: a and b under the root, c under a nested supervisor.
 * Budgets are wide so that the tests that kill many times never reach them.
 */
extern const char	 ct_conf_abc[];
/* A budget small enough to read back exactly in recovery. */
extern const char	 ct_conf_budget[];

/* --- lines and answers ---------------------------------------------------- */

/* A connection, which must open. */
struct harness_conn	*ct_conn_open(struct harness *h);
/* Send text (' for ", see dq()) and a newline. */
void		 ct_send_line(struct harness_conn *c, const char *text);
/* The very next line, which must come. */
json_t		*ct_next_line(struct harness_conn *c);
/* The answer's id is id (ID_NULL: null). */
void		 ct_check_id(const json_t *resp, long long id);
/* An error answer with this code, data.kind and id. */
void		 ct_check_error(const json_t *resp, int code, const char *kind,
		    long long id);
/* Its error message, or "". */
const char	*ct_error_message(const json_t *resp);
/* A result answer with this id; returns the result (borrowed). */
json_t		*ct_check_result(const json_t *resp, long long id);
/* A result answer "pong" with this id. */
void		 ct_check_pong(const json_t *resp, long long id);
/* One call on a fresh connection; the whole answer, which must come. */
json_t		*ct_call(struct harness *h, const char *method, json_t *params);
/* A ping on a fresh connection is answered. */
void		 ct_ping_ok(struct harness *h);
/*
 * Prove that nothing was answered: a ping with a fresh id goes out, and
 * the very next line must be its answer.
 */
void		 ct_check_quiet(struct harness_conn *c);
/* A line sent raw; the next line must be an error with code and id. */
void		 ct_expect_error_line(struct harness_conn *c, const char *text,
		    int code, const char *kind, long long id);

/* --- services killed ------------------------------------------------------ */

/* The service.exited event of service, which must carry pid. */
void		 ct_await_exit(struct harness_conn *sub, const char *service,
		    pid_t pid);
/* service.exited of each of n services, in whatever order they come. */
void		 ct_await_exits(struct harness_conn *sub, size_t n,
		    const char *const *names, const pid_t *pids);
/* Every service is running again. */
void		 ct_await_recovered(struct harness *h);
/*
 * Kill service and see warden notice and recover: a barrier. Whatever an
 * earlier request did to the processes has shown by the time a later kill
 * has gone all the way round, so a test can then tell what did not happen.
 */
void		 ct_kill_and_recover(struct harness *h,
		    struct harness_conn *sub, const char *service);
/* killed: [{service, pid}] has exactly these services, with these pids. */
void		 ct_check_killed(json_t *res, size_t n,
		    const char *const *names, const pid_t *pids);

#endif
