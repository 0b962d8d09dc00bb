/*
 * table.h: the shared flag table: its layout, which the daemon (writer) and
 * libwarden (reader, include/warden.h) share, and the writer's API.
 *
 * The table is a POSIX shared-memory object of fixed size and fixed layout,
 * with no pointers in it, so that any process can map it anywhere:
 *
 *	struct table_header	magic, layout version, sizes, capacity, the
 *				writer's uid (and pid and start time), the
 *				object's name, a "retired" word and the latch
 *				sequence counter
 *	struct table_copy [2]	two copies of the payload: generation, stage,
 *				nflags, a hash index, the flag records
 *
 * Writer and readers follow the Linux kernel's "latch" sequence count
 * (raw_write_seqcount_latch): the writer makes the sequence odd, which
 * sends readers to copy 1, rewrites copy 0, makes the sequence even, which
 * sends them back to copy 0, then rewrites copy 1. A reader reads the copy
 * the sequence names and keeps what it read only if the sequence did not
 * move meanwhile. So a reader never waits for the writer, and a writer
 * killed between the two halves leaves the sequence odd and readers on a
 * complete copy: a change is seen whole or not at all.
 *
 * The daemon's own state is the truth: the table is only ever written from
 * it, never read back as the truth. table_check() compares the object with
 * that state so that a deleted or damaged table is noticed and published
 * afresh (table_republish()).
 */
#ifndef WARDEN_TABLE_H
#define WARDEN_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "murmur3.h"

/* "WARDENT1", read as a little-endian word. */
#define TABLE_MAGIC		0x31544e4544524157ULL
#define TABLE_VERSION		1u

/* How many flags a table holds: config validation refuses more. */
#define TABLE_CAPACITY		256
/* A flag name's field, NUL included: names have 1..TABLE_NAME_MAX bytes. */
#define TABLE_NAME_SIZE		64
#define TABLE_NAME_MAX		(TABLE_NAME_SIZE - 1)
/* The object's name, "/..." as given to shm_open(3), NUL included. */
#define TABLE_SHM_NAME_SIZE	256
/* Open-addressing index: twice the capacity keeps probe runs short. */
#define TABLE_INDEX_SLOTS	(2 * TABLE_CAPACITY)
/* The largest value: 0 is off, 100 on, 1..99 a rollout percentage. */
#define TABLE_VALUE_MAX		100u
/* Seed of the check words, so that a zeroed record does not check. */
#define TABLE_CHECK_SEED	0x77617264u
/* The mode the daemon creates the object with: nobody else may write. */
#define TABLE_MODE		0644

/*
 * One flag. check is murmur3 over name (all 64 bytes), value and the copy's
 * generation: a reader that finds a record whose check does not match has
 * found damage, and answers as if it had no value. hash is murmur3 of the
 * name alone (seed 0): the index stores slot numbers, and comparing hash
 * first spares most name comparisons.
 */
struct table_record {
	char		name[TABLE_NAME_SIZE];	/* NUL-padded */
	uint32_t	value;			/* 0..100 */
	uint32_t	hash;
	uint32_t	check;
	uint32_t	reserved;
};

/*
 * One copy of the payload. check covers generation, stage, nflags and the
 * index, so a reader that verified it may trust the index to find records
 * (each record still carries its own check). index[i] is 0 when empty, else
 * the record's slot + 1; a name's probe starts at its hash modulo
 * TABLE_INDEX_SLOTS and goes up by one.
 */
struct table_copy {
	uint64_t		generation;	/* one more for every publish */
	int32_t			stage;		/* -1 before the first publish */
	uint32_t		nflags;
	uint32_t		check;
	uint32_t		reserved[11];
	uint16_t		index[TABLE_INDEX_SLOTS];
	struct table_record	rec[TABLE_CAPACITY];
};

/*
 * The header. The fields up to and including seq are in the first cache
 * line: a read looks at retired and seq and nothing else of the header.
 * retired is set to 1 (never back) by a writer that has put a fresh object
 * under the name: readers of this one then reattach by name.
 */
struct table_header {
	uint64_t		magic;
	uint32_t		version;
	uint32_t		header_size;	/* sizeof(struct table_header) */
	uint32_t		record_size;	/* sizeof(struct table_record) */
	uint32_t		copy_size;	/* sizeof(struct table_copy) */
	uint32_t		capacity;	/* TABLE_CAPACITY */
	uint32_t		writer_uid;	/* must own the object */
	_Atomic uint32_t	retired;
	uint32_t		writer_pid;	/* the daemon, for "in use" */
	_Atomic uint64_t	seq;		/* the latch sequence */
	uint64_t		size;		/* sizeof(struct table_layout) */
	uint64_t		writer_start;	/* its start time, in ticks */
	char			name[TABLE_SHM_NAME_SIZE];
	uint8_t			reserved[192];
};

struct table_layout {
	struct table_header	hdr;
	struct table_copy	copy[2];
};

#define TABLE_SIZE	sizeof(struct table_layout)

/*
 * The layout is an ABI between a daemon and readers built at different
 * times: pin every size and offset a reader relies on.
 */
_Static_assert(sizeof(_Atomic uint32_t) == 4, "atomic uint32_t size");
_Static_assert(sizeof(_Atomic uint64_t) == 8, "atomic uint64_t size");
/* A lock-based 64-bit atomic would write to the read-only mapping. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");
_Static_assert(sizeof(struct table_record) == 80, "record size");
_Static_assert(offsetof(struct table_record, value) == 64, "record value");
_Static_assert(offsetof(struct table_record, check) == 72, "record check");
_Static_assert(offsetof(struct table_copy, index) == 64, "copy index");
_Static_assert(offsetof(struct table_copy, rec) == 64 + 2 * TABLE_INDEX_SLOTS,
    "copy records");
_Static_assert(sizeof(struct table_copy) == 64 + 2 * TABLE_INDEX_SLOTS +
    80 * TABLE_CAPACITY, "copy size");
_Static_assert(sizeof(struct table_copy) % 64 == 0, "copies are line-aligned");
_Static_assert(offsetof(struct table_header, retired) == 32, "header retired");
_Static_assert(offsetof(struct table_header, seq) == 40, "header seq");
_Static_assert(offsetof(struct table_header, seq) + 8 <= 64,
    "retired and seq share the first cache line");
_Static_assert(offsetof(struct table_header, name) == 64, "header name");
_Static_assert(sizeof(struct table_header) == 512, "header size");
_Static_assert(offsetof(struct table_layout, copy) == 512, "first copy");
_Static_assert(TABLE_CAPACITY < UINT16_MAX, "index entries are uint16_t");
_Static_assert((TABLE_INDEX_SLOTS & (TABLE_INDEX_SLOTS - 1)) == 0,
    "index size is a power of two");

/*
 * The check words, shared by writer and reader. The bytes are hashed as
 * laid out in memory: a table is only read on the machine that wrote it.
 */
static inline uint32_t
table_record_check(const struct table_record *r, uint64_t generation)
{
	unsigned char	buf[TABLE_NAME_SIZE + sizeof(uint32_t) + sizeof(uint64_t)];

	memcpy(buf, r->name, TABLE_NAME_SIZE);
	memcpy(buf + TABLE_NAME_SIZE, &r->value, sizeof(r->value));
	memcpy(buf + TABLE_NAME_SIZE + sizeof(r->value), &generation,
	    sizeof(generation));
	return murmur3_x86_32(buf, sizeof(buf), TABLE_CHECK_SEED);
}

static inline uint32_t
table_copy_check(const struct table_copy *c)
{
	struct murmur3_state	st;

	murmur3_init(&st, TABLE_CHECK_SEED);
	murmur3_update(&st, &c->generation, sizeof(c->generation));
	murmur3_update(&st, &c->stage, sizeof(c->stage));
	murmur3_update(&st, &c->nflags, sizeof(c->nflags));
	murmur3_update(&st, c->index, sizeof(c->index));
	return murmur3_final(&st);
}

/* The hash a name is indexed by (and its record's hash field). */
static inline uint32_t
table_name_hash(const char *name, size_t len)
{
	return murmur3_x86_32(name, len, 0);
}

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

/*
 * Start a publish and stop where a SIGKILL could: make the sequence odd
 * and write only the first NBYTES of the new copy 0. The writer's state is
 * left as it was, like that of a killed writer.
 */
int		 table_test_publish_partial(struct table *, int stage,
		    const struct table_flag *flags, size_t n, size_t nbytes);
/* The live object's mapping (read-write), for tests that damage it. */
struct table_layout *table_test_layout(struct table *);

struct warden_table;
/*
 * How often the slow path tries to (re)attach, counted from now; 0: on
 * every slow read.
 */
void		 warden_test_set_retry(struct warden_table *, uint64_t ns);
/* Whether the handle has a table mapped. */
bool		 warden_test_attached(struct warden_table *);
/*
 * One consistent read of stage, generation and the first N values (in
 * slot order) of the table. nflags, or -1 (no table, damaged, or the
 * writer kept moving for every try).
 */
int		 warden_test_snapshot(struct warden_table *, int *stage,
		    uint64_t *generation, uint32_t *values, size_t n);

#endif
