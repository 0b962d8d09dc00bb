/*
 * watchdog.h: a worker's watchdog, fed by WATCHDOG=1 (see watchdog.c).
 */
#ifndef WARDEN_WATCHDOG_H
#define WARDEN_WATCHDOG_H

#include <sys/types.h>

struct node;

/* (Re)start its period from now: at readiness, and at each WATCHDOG=1. */
void	watchdog_arm(struct node *);
/* A reexec: armed as the last image left it, at (ms, monotonic). */
void	watchdog_resume(struct node *, uint64_t at, uint64_t now);
/* Its instance is told to stop or has exited: no watchdog until the next. */
void	watchdog_stop(struct node *);
void	watchdog_free(struct node *);
/* A notify datagram of n's (from: the sender): WATCHDOG=1, =trigger, _USEC=. */
void	watchdog_notify(struct node *, pid_t from, const char *msg);

#endif
