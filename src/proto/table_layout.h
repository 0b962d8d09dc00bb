/*
 * table_layout.h: the shared flag table's layout, which the daemon (writer,
 * daemon/table.h) and libwarden (reader, include/warden.h) share.
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
 */
#ifndef WARDEN_TABLE_LAYOUT_H
#define WARDEN_TABLE_LAYOUT_H

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

#endif
