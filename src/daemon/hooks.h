/*
 * hooks.h: failure hooks, the "on_failure" commands of warden.json(5).
 *
 * A hook is a child of warden started from the loop, in a process group
 * of its own, with warden's environment plus WARDEN_SERVICE, WARDEN_EVENT,
 * WARDEN_REASON, WARDEN_EXIT_CODE or WARDEN_EXIT_SIGNAL, WARDEN_RESTARTS
 * and WARDEN_HOOK, and the service's last output lines on stdin, fed from
 * the loop through a non-blocking pipe (what does not fit is dropped once
 * the hook ends). Its stdout and stderr go to warden's log as "hook NAME:
 * line". Bounded: HOOKS_RUNNING at once, HOOKS_QUEUED waiting (more are
 * skipped), HOOKS_RATE_RUNS per owner in HOOKS_RATE_WINDOW_MS (more are
 * skipped and counted), each killed with its group at its timeout_ms.
 * Each end is one log line and a hook.finished event.
 */
#ifndef WARDEN_HOOKS_H
#define WARDEN_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "lifecycle.h"

#define HOOKS_RUNNING		4	/* hooks running at once */
#define HOOKS_QUEUED		16	/* waiting for one of those */
#define HOOKS_RATE_RUNS		5	/* runs of one owner's hook ... */
#define HOOKS_RATE_WINDOW_MS	60000	/* ... within this window */
#define HOOKS_STDIN_LINES	50	/* the service's last lines fed */
#define HOOKS_OUTPUT_MAX	65536	/* bytes of a hook's output logged */

struct event_base;
struct hook_conf;
struct node;

/* on_idle: called each time a hook has ended (the tree may exit, reexec). */
void	hooks_init(struct event_base *, void (*on_idle)(void));
void	hooks_free(void);

/*
 * The occasions. A worker failed: an abnormal exit, or a stop of warden's
 * (why: not ready in time, unhealthy), before its supervisor decides
 * (restart or give up). A supervisor gave up. The guard rolled stage
 * from back to to.
 */
void	hooks_service_failed(struct node *, enum stop_reason why);
void	hooks_supervisor_failed(struct node *);
void	hooks_guard_rollback(const struct hook_conf *, int from, int to,
	    const char *reason, size_t restarts);

/* warden is stopping: the queue dropped, running hooks killed. */
void	hooks_shutdown(void);
/* Hooks running or queued. */
size_t	hooks_pending(void);

#endif
