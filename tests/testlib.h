/*
 * testlib.h: the small helpers the integration suites share, on top of
 * harness.h. Each one asserts (Check's ck_assert) instead of returning an
 * error, so a test reads as the steps it takes.
 *
 * Their names are the ones the suites gave their own copies (dq, js,
 * start, pid_of...), unprefixed on purpose: a suite drops its copies and
 * includes this file. Like harness.c, testlib.c is linked into every suite
 * (every file in tests/ that is not a suite is).
 *
 * JSON and configurations in tests are written with ' for " (dq()), so
 * that no test needs a real '. Every wait here is bounded by TESTLIB_WAIT,
 * a failure bound only: nothing waits longer than the event that proves
 * what it waits for.
 */
#ifndef WARDEN_TESTS_TESTLIB_H
#define WARDEN_TESTS_TESTLIB_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"

#define TESTLIB_WAIT	10000	/* failure bound of one wait, ms */

/* --- text and JSON --------------------------------------------------------- */

/* text with a " for each ', malloc'd. */
char		*dq(const char *text);
/* printf, then dq(); malloc'd. */
char		*cfg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* dq(text) decoded (any JSON value); NULL for NULL. Bad JSON fails the test. */
json_t		*js(const char *text);
/* Compact JSON of j for a message, malloc'd; "(null)" for NULL. */
char		*dump(const json_t *j);
/* o's member key as a string, or NULL. */
const char	*str(const json_t *o, const char *key);
/* o's member key, which must be an integer. */
long long	 num(const json_t *o, const char *key);

/* --- warden ---------------------------------------------------------------- */

/* harness_start() on conf (' for "), which must succeed. */
void		 start(struct harness *h, const char *conf);
/* harness_prepare() on conf (' for "), which must succeed. */
void		 prepare(struct harness *h, const char *conf);
/* harness_stop(): warden exits with status and leaves no process behind. */
void		 finish(struct harness *h, int status);
/* finish(h, 0): a clean exit. */
void		 stop(struct harness *h);
/* SIGKILL warden and see it gone. */
void		 kill_warden(struct harness *h);
/* harness_restart(), which must succeed. */
void		 restart(struct harness *h);
/* SIGUSR2, then the proof the next image took over: its log line and READY=1. */
void		 reexec_by_signal(struct harness *h);

/* --- requests -------------------------------------------------------------- */

/* A call that must succeed: its result (new reference). params stolen. */
json_t		*result(struct harness *h, const char *method, json_t *params);
/* A call that must fail with code and data.kind. params stolen. */
void		 expect_error(struct harness *h, const char *method,
		    json_t *params, int code, const char *kind);
/* The same, for a test that looks further: the error object (new reference). */
json_t		*expect_error_object(struct harness *h, const char *method,
		    json_t *params, int code, const char *kind);

/* --- services -------------------------------------------------------------- */

/* The service's entry of status (new reference), which must be there. */
json_t		*service_of(struct harness *h, const char *service);
/* A running service's pid. */
pid_t		 pid_of(struct harness *h, const char *service);
/* Its state now (a buffer the next call reuses). */
const char	*state_of(struct harness *h, const char *service);
/* An integer field of its status entry ("restarts", say). */
long long	 field_of(struct harness *h, const char *service,
		    const char *key);
/* The wait method: the service reaches state. */
void		 wait_state(struct harness *h, const char *service,
		    const char *state);
/* The same, once it has been restarted at least n times. */
void		 wait_restarts(struct harness *h, const char *service,
		    const char *state, int n);
/*
 * SIGUSR2 ("get ready") to a test-worker started with --ready signal and
 * --grandchild NAME, once the pid file DIR/NAME is there (its handlers
 * are set up before it forks) and names another pid than prev. Returns
 * the pid in the file.
 */
pid_t		 usr2_when_set_up(struct harness *h, const char *service,
		    const char *name, pid_t prev);

/* --- events ---------------------------------------------------------------- */

/*
 * A subscription to the topics that follow h, answered. The list ends with
 * NULL; subscribe(h, NULL) is to every topic.
 */
struct harness_conn *subscribe(struct harness *h, ...)
		    __attribute__((sentinel));
/* The next event of this type (and service, unless NULL); new reference. */
json_t		*wait_event(struct harness_conn *c, const char *type,
		    const char *service);
/*
 * Read events into list (NULL: a new array), up to and including the first
 * of this type (and service, unless NULL). Returns the list.
 */
json_t		*events_until(struct harness_conn *c, const char *type,
		    const char *service, json_t *list);

/* A loopback TCP port nothing listened on a moment ago. */
int		 free_port(void);

/* --- files and text ------------------------------------------------------- */

/* The size of the file at path, which must exist. */
off_t		 file_size(const char *path);
/* Write text to the existing file at path (a /proc or cgroup file): 0 or -1. */
int		 write_text(const char *path, const char *text);
/* Whether text holds exactly this line. */
bool		 has_line(const char *text, const char *line);
/* How many times needle occurs in hay, not overlapping. */
int		 count_of(const char *hay, const char *needle);

/*
 * In a child a test forked (which must not return into Check): say where
 * and what failed, and leave with 1.
 */
#define CHILD_CHECK(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);		\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		_exit(1);						\
	}								\
} while (0)

#endif
