/*
 * hooks-private.h: what hooks.c (the runs) and hooks-io.c (their stdin
 * and output) share.
 */
#ifndef WARDEN_HOOKS_PRIVATE_H
#define WARDEN_HOOKS_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

#define HOOKS_LINE_MAX	1024	/* a longer output line is logged in pieces */

struct event;
struct event_base;
struct hook;

/* One of a hook's output streams, read a line at a time. */
struct hook_out {
	struct hook	*hook;
	const char	*name;		/* "stdout", "stderr" */
	int		 fd;		/* -1: closed */
	struct event	*ev;
	char		 line[HOOKS_LINE_MAX];
	size_t		 len;
};

struct hook {
	const char		*kind;		/* "service", "supervisor", "guard" */
	char			*owner;		/* WARDEN_SERVICE */
	const char		*event;		/* WARDEN_EVENT */
	char			**argv;
	size_t			 argc;
	int			 timeout_ms;
	struct env_pair		*env;		/* the WARDEN_ variables but WARDEN_SERVICE */
	size_t			 nenv;

	char			*input;		/* for its stdin */
	size_t			 inlen, inoff;

	pid_t			 pid;		/* -1: not started */
	uint64_t		 started_ms;
	int			 exec_errno;
	bool			 timed_out;
	bool			 stopped;	/* killed because warden stops */
	struct event		*ev_timer;
	int			 in_fd;		/* the write end of its stdin, -1 */
	struct event		*ev_in;
	struct hook_out		 out[2];
	size_t			 logged;	/* bytes of its output logged */
	bool			 dropped;	/* ... and the rest dropped */
};

extern struct event_base	*hooks_base;

void	hooks_hook_free(struct hook *);

/* hooks-io.c: in_fd (or -1), out_fd and err_fd are taken. */
void	hooks_io_start(struct hook *, int in_fd, int out_fd, int err_fd);
/* It has exited: what is left to read now, and the unread input dropped. */
void	hooks_io_final(struct hook *);
void	hooks_io_close(struct hook *);

#endif
