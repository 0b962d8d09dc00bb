/*
 * table.h: the daemon's side of the shared flag table, its only writer.
 * The layout it writes, shared with libwarden's readers, and the latch
 * protocol that keeps readers from waiting are in proto/table_layout.h.
 *
 * The daemon's own state is the truth: the table is only ever written from
 * it, never read back as the truth. table_check() compares the object with
 * that state so that a deleted or damaged table is noticed and published
 * afresh (table_republish()).
 */
#ifndef WARDEN_TABLE_H
#define WARDEN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "table_layout.h"

/* ---- the writer (the daemon) ---- */

struct table;

/* A flag as the daemon publishes it. */
struct table_flag {
	const char	*name;		/* 1..TABLE_NAME_MAX bytes, unique */
	uint32_t	 value;		/* 0..TABLE_VALUE_MAX */
};

/* table_check() results: 0 (TABLE_OK) or a mask of these. */
#define TABLE_OK	0
#define TABLE_DELETED	0x1	/* the name no longer leads to our object */
#define TABLE_DAMAGED	0x2	/* the object differs from what we published */

/*
 * A table named NAME ("/warden-demo") with MODE (0: TABLE_MODE; a mode
 * with group or other write is refused), owned by the caller's effective
 * uid, holding no flags and stage -1 until the first table_publish(), and
 * no object yet: table_republish() makes it. NULL (bad name or mode) with
 * a message in err.
 */
struct table	*table_new(const char *name, mode_t mode, char *err,
		    size_t errlen);

/*
 * table_new() and table_republish(): NULL if the object cannot be made,
 * err says why. Whatever is under the name is replaced, with two
 * exceptions: the table of another warden that is still running (EBUSY,
 * of any uid), and another uid's object where we may not replace it
 * (/dev/shm is sticky: only root may). One of ours whose writer is gone is
 * a stale table from an earlier warden: it is marked retired (its readers
 * move to the new one) as it is replaced.
 */
struct table	*table_create(const char *name, mode_t mode, char *err,
		    size_t errlen);

/*
 * A reexec: the object the last image of this process wrote (its fds,
 * handed over) becomes t's, so readers see no change but a new generation
 * at the next publish. -1 when it is not one this build writes.
 */
int		 table_adopt(struct table *, int fd, int rofd);
/* The object's fds, for a reexec. -1 when unavailable. */
int		 table_handover_fds(const struct table *, int *fd, int *rofd);

/*
 * Whether the table has an object. Without one (it could not be made:
 * /dev/shm full, the name taken) it is "unavailable": publishes still
 * update the state, table_check() says TABLE_DELETED, table_fd_readonly()
 * -1, table_delete() and table_corrupt() fail with ENOENT, and
 * table_republish() makes the object from the state.
 */
bool		 table_available(const struct table *);

/*
 * The uid of another user's object that the last table_create() or
 * table_republish() replaced (a squatted name), once; -1 if none.
 */
long		 table_replaced_uid(struct table *);

/*
 * Make STAGE and the N flags the table's content, as one atomic change.
 * 0, or -1 with errno: EINVAL (a name empty, too long or repeated, a value
 * over 100, a negative stage), ENOSPC (more than TABLE_CAPACITY flags);
 * then nothing changed. The writer's own state is updated even when the
 * object cannot be written (it was truncated): table_check() reports
 * that, and table_republish() makes a fresh object from the state.
 */
int		 table_publish(struct table *, int stage,
		    const struct table_flag *flags, size_t n);

/*
 * An O_RDONLY descriptor of the current object, FD_CLOEXEC set, for workers
 * (WARDEN_TABLE_FD: warden dup2()s it in the child). It belongs to the
 * table: valid until the next table_republish() or table_close(); do not
 * close it, and ask again after a republish. -1 if none could be opened.
 */
int		 table_fd_readonly(struct table *);

/*
 * Is the object still what we published? TABLE_OK, or a mask of
 * TABLE_DELETED (the name is gone or leads to another object) and
 * TABLE_DAMAGED (size, mode, owner, header or either copy differ from the
 * writer's own state). A few system calls, no change to anything.
 */
int		 table_check(struct table *);

/*
 * Repair, or make the first object: put a fresh object under the name,
 * made from the writer's own state, every page of it allocated before it
 * is written (ENOSPC when /dev/shm is full, never SIGBUS), then mark the
 * old one, if any, retired (its readers notice and reattach by name) and
 * let it go. Whatever is under the name is replaced as table_create()
 * says. 0, or -1 with errno and err set (the old object stays in use).
 */
int		 table_republish(struct table *, char *err, size_t errlen);

/*
 * Failure drills: damage the live object's bytes as a stray writer would
 * (both copies), without touching the writer's own state; and unlink the
 * name as `rm /dev/shm/NAME` would. 0 or -1 with errno.
 */
int		 table_corrupt(struct table *);
int		 table_delete(struct table *);

uint64_t	 table_generation(const struct table *);
int		 table_stage(const struct table *);
const char	*table_name(const struct table *);

/*
 * Unmap and forget. The object is NOT unlinked: workers keep reading it
 * while warden is down (restarting, upgraded, killed), and the next warden
 * marks it retired and replaces it at table_create().
 */
void		 table_close(struct table *);

/* ---- test hooks (tests/check_table.c, bench/flagread.c) ---- */
/* libwarden's own are in lib/libwarden-test.h. */

/*
 * Start a publish and stop where a SIGKILL could: make the sequence odd
 * and write only the first NBYTES of the new copy 0. The writer's state is
 * left as it was, like that of a killed writer.
 */
int		 table_test_publish_partial(struct table *, int stage,
		    const struct table_flag *flags, size_t n, size_t nbytes);
/* The live object's mapping (read-write), for tests that damage it. */
struct table_layout *table_test_layout(struct table *);


#endif
