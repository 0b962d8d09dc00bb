/*
 * supervisetest.h: what the supervision suites share (check_supervise_*:
 * restarts, processes, worker, reload, operate, containment): the checks
 * of a service's status and of the events warden sends about it, the
 * kills they provoke, and what a worker wrote about itself (test-worker
 * --env-out). Like testlib.h, the helpers keep the names the suite gave
 * them.
 */
#ifndef WARDEN_TESTS_SUPERVISETEST_H
#define WARDEN_TESTS_SUPERVISETEST_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "harness.h"

#define T_WAIT		5000	/* failure bound of one wait, ms */
#define T_CASE		30	/* failure bound of one test, s */

/*
 * A sentinel child "s" that barrier() kills: proof that nothing more is
 * coming for a service that stays down.
 */
#define SENTINEL " { 'name': 's', 'command': ['@WORKER@'] }"

/*
 * A worker is sent SIGUSR1 (or SIGTERM it must ignore) only once its
 * signal set-up is done: test-worker announces readiness after it.
 */
#define SET_UP		" 'ready': 'notify'"
#define READY_ARGS	", '--ready', 'notify'"

/* --- warden and its services -------------------------------------------- */

/*
 * Start warden on conf (' for ") without waiting for READY=1 (some worker
 * must be helped to get ready first), and return once its control socket
 * listens and service, unless NULL, is starting.
 */
void		 start_early(struct harness *h, const char *conf,
		    const char *service);
/* text (' for ") as h's configuration file. */
void		 write_config(struct harness *h, const char *text);
/* All of warden.log, malloc'd. */
char		*log_text(struct harness *h);
/* A supervisor's entry of "status" (new reference). */
json_t		*sup(struct harness *h, const char *name);
/* status's health, malloc'd. */
char		*health(struct harness *h);
/* A service's state, pid (-1: null, 0: any live one) and restarts. */
void		 expect_svc(struct harness *h, const char *name,
		    const char *state, pid_t pid, int restarts);
/* A service's last_exit is the JSON want. */
void		 expect_last_exit(struct harness *h, const char *name,
		    const char *want);
/* got is the JSON want; what names it in a failure. */
void		 expect_json(const json_t *got, const char *want,
		    const char *what);
/* r[key] holds the names of the JSON array want, in whatever order. */
void		 expect_names(const json_t *r, const char *key,
		    const char *want);
/* Whether pid is a zombie now. */
bool		 is_zombie(pid_t pid);

/* --- kills -------------------------------------------------------------- */

/* service.kill's answer; service is stolen, sig may be NULL (KILL). */
json_t		*kill_svc(struct harness *h, json_t *service,
		    const char *sig);
/* Kill one worker; the answer must name it and its pid. Returns the pid. */
pid_t		 kill_one(struct harness *h, const char *name,
		    const char *sig);
/*
 * Stop a worker whose --grandchild served as a marker, and see its process
 * group gone, so that the test ends on what it is about.
 */
void		 stop_marked(struct harness *h, const char *service,
		    const char *name);
/* Stop a service: it is stopped, and the process pid (of its) is gone. */
void		 stop_takes(struct harness *h, const char *service,
		    pid_t pid);
/* The end of a test that watched events: list and c go, warden exits 0. */
void		 finish_watching(struct harness *h, struct harness_conn *c,
		    json_t *list);
/* Kill the SENTINEL and read events into list until it is ready again. */
json_t		*barrier(struct harness *h, struct harness_conn *c,
		    json_t *list);

/* --- events ------------------------------------------------------------- */

/* Whether ev is of this type and service (NULL: any). */
bool		 ev_is(const json_t *ev, const char *type,
		    const char *service);
/* Index of the first such event at or after from, or -1. */
int		 ev_find(const json_t *list, const char *type,
		    const char *service, size_t from);
/* How many such events list holds. */
int		 ev_count(const json_t *list, const char *type,
		    const char *service);
/* The services of the events of this type, in order: "c,b,a"; malloc'd. */
char		*ev_seq(const json_t *list, const char *type);
/* The types of one service's events, in order; malloc'd. */
char		*ev_types_of(const json_t *list, const char *service);
/* A service.exited event: its pid (0: any), code or signal, expected. */
void		 expect_exited(const json_t *ev, pid_t pid, int code,
		    const char *sig, bool expected);
/* An event's ts, ms. */
double		 ev_ts(const json_t *ev);
/*
 * How early a timer of warden's may fire, as measured by a precise clock:
 * libevent times on Linux with CLOCK_MONOTONIC_COARSE, one tick coarse.
 */
double		 timer_slack_ms(void);

/* --- what a worker wrote about itself (--env-out) ------------------------ */

/* The file DIR/name, once written; malloc'd. */
char		*read_env(struct harness *h, const char *name);
/* The value of VAR in an --env-out file into buf, or NULL. */
const char	*env_value(const char *text, const char *var, char *buf,
		    size_t len);
/* The rest of the line after "key " into buf, or NULL. */
const char	*env_field(const char *text, const char *key, char *buf,
		    size_t len);
/*
 * What every worker gets, whatever its readiness: its name, exactly the
 * fds (and the table's), stdin from /dev/null, one pipe for stdout and
 * stderr, cwd, clean signals and a process group of its own.
 */
void		 check_env_common(struct harness *h, const char *env,
		    const char *name, const char *fds, const char *cwd);

#endif
