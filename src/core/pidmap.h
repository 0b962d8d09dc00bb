/*
 * pidmap.h: process id -> pointer, for finding the worker a reaped pid
 * belonged to without scanning every worker (reaping a thousand workers
 * at once was a thousand scans of a thousand).
 *
 * Open addressing with linear probing; deletion shifts entries back, so
 * there are no tombstones and a lookup never probes further than the run
 * it hashes into. Grows when over half full.
 */
#ifndef WARDEN_PIDMAP_H
#define WARDEN_PIDMAP_H

#include <stddef.h>
#include <sys/types.h>

struct pidmap_slot {
	pid_t	 pid;		/* 0: empty */
	void	*ptr;
};

struct pidmap {
	struct pidmap_slot	*slots;
	size_t			 cap;	/* a power of two (2^(32 - shift)), or 0 */
	size_t			 len;
	unsigned		 shift;
};

/* Map pid (> 0) to ptr, replacing what it mapped to. */
void	 pidmap_put(struct pidmap *, pid_t, void *);
/* What pid maps to, or NULL. */
void	*pidmap_get(const struct pidmap *, pid_t);
/* Forget pid; nothing happens if it is not there. */
void	 pidmap_del(struct pidmap *, pid_t);
void	 pidmap_free(struct pidmap *);

#endif
