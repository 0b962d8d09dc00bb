/*
 * harness-private.h: what the harness's files share (harness.c: the test's
 * folder and configuration; harness-keeper.c: warden's life;
 * harness-rpc.c: the control socket; harness-run.c: programs, files and
 * logs). Tests include harness.h.
 */
#ifndef WARDEN_TESTS_HARNESS_PRIVATE_H
#define WARDEN_TESTS_HARNESS_PRIVATE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "harness.h"

/* "harness: ..." on stderr; harness_warn() adds strerror(errno). */
void		 harness_warnx(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
void		 harness_warn(const char *, ...)
		    __attribute__((format(printf, 1, 2)));
/* With $WARDEN_TEST_VERBOSE, each message sent or read, on stderr. */
void		 harness_trace(const char *dir, const json_t *msg);
/* A deadline timeout_ms from now, and what is left of one for poll(2). */
uint64_t	 harness_deadline(int timeout_ms);
int		 harness_left(uint64_t deadline);
/* waitpid(2) status as a shell would show it: code, or 128 + signal. */
int		 harness_status(int st);
/* Close every fd from lowfd up, except keep (-1: none). */
void		 harness_closefrom(int lowfd, int keep);
/* rm -r dir. */
void		 harness_rmtree(const char *dir);
/* h's harness_setenv() variable number k ("NAME=VALUE"), or NULL. */
const char	*harness_env_of(const struct harness *h, size_t k);
/* /proc/PID/stat: state and parent. 0, or -1 when pid is gone. */
int		 harness_proc_stat(pid_t pid, char *state, pid_t *ppid);

#endif
