/*
 * strays.h: what a worker forked that left its process group.
 *
 * A worker's stop signal goes to its process group; a descendant that
 * called setsid() or setpgid() (a daemon, a helper) is not in it. warden
 * is the child subreaper of its tree, so such a process becomes warden's
 * child once its parent dies. Here warden finds these strays, tells whose
 * they are, and stops them with their service: the service's stop signal,
 * then SIGKILL after its shutdown_ms. A process is signalled only while
 * its start time (/proc/PID/stat) is the one warden saw, through a pidfd
 * where the kernel has them, so a reused pid is never hit.
 */
#ifndef WARDEN_STRAYS_H
#define WARDEN_STRAYS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;

/*
 * is_worker: whether a child of warden is a worker's leader. on_empty:
 * called when the last stray is gone.
 */
void	strays_init(struct event_base *, bool (*is_worker)(pid_t),
	    void (*on_empty)(void));
void	strays_free(void);

/*
 * A service's instance is being stopped with sig (grace_ms: SIGKILL after,
 * -1: never): its descendants outside the group of its leader (alive), the
 * strays it had, and any new stray of warden that is its.
 */
void	strays_stop(const char *service, pid_t leader, int sig, int grace_ms);
/*
 * Its leader has exited; its group (pgid) was sent SIGKILL. The same as
 * strays_stop, less the walk from the leader.
 */
void	strays_ended(const char *service, pid_t pgid, int sig, int grace_ms);
/* A child of warden that is no worker was reaped. */
void	strays_reaped(pid_t);
/* warden is stopping: every stray found from now on is stopped. */
void	strays_shutdown(void);
/* Strays warden still waits for. */
size_t	strays_pending(void);
/*
 * A reexec: the strays the last image knew are found again among warden's
 * children, held with a running instance they belong to or stopped (with
 * their grace from now).
 */
void	strays_look(void);
/* At the very end: SIGKILL every child warden still has. */
void	strays_kill_children(void);

#endif
