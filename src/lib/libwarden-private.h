/*
 * libwarden-private.h: what the reader library's two files share
 * (libwarden.c: attaching and trust; libwarden-read.c: the reads), not
 * part of include/warden.h. The read path inlines wt_ready() from here.
 */
#ifndef WARDEN_LIBWARDEN_PRIVATE_H
#define WARDEN_LIBWARDEN_PRIVATE_H

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "table_layout.h"
#include "warden.h"

#define WARDEN_EXPORT	__attribute__((visibility("default")))
/* Shared by the two files, never exported (libwarden.map too). */
#define WT_HIDDEN	__attribute__((visibility("hidden")))

/* Latch reads before giving up and answering from the cache. */
#define WT_TRIES	32
/* How often the slow path may try to (re)attach, or look at the name. */
#define WT_RETRY_NS	(100ull * 1000 * 1000)
/* Reports to warden (libwarden-report.c): one datagram at most so often... */
#define WT_REPORT_GAP_NS	(10ull * 1000 * 1000)
/* ...or this long after one warden could not take (no such address). */
#define WT_REPORT_BACKOFF_NS	(1000ull * 1000 * 1000)
/* A report's size: more names wait for the next one. */
#define WT_REPORT_MAX		2048
/* Owners a handle trusts: root, and up to two more. */
#define WT_TRUST_MAX	3

/* What the last look at the name found. */
enum wt_name {
	WT_NAME_NONE,		/* nothing (yet), or nothing we may open */
	WT_NAME_OK,		/* the table mapped */
	WT_NAME_INVALID,	/* an object that is not a table we read */
	WT_NAME_UNTRUSTED	/* an object of a user we do not trust */
};
/*
 * The cache: 128 sets of 4 entries, twice the table's capacity, so that
 * flags whose pointers hash alike do not evict each other.
 */
#define WT_SET_BITS	7
#define WT_WAYS		4
#define WT_ENTRIES	((1u << WT_SET_BITS) * WT_WAYS)

/* Answers of one latch read. */
enum wt_read {
	WT_FOUND,	/* consistent, verified: *value is the flag's value */
	WT_ABSENT,	/* consistent, verified: the table has no such flag */
	WT_DAMAGED,	/* consistent, but a check word or a bound is wrong */
	WT_BUSY		/* the writer kept moving for every try */
};

struct wt_entry {
	_Atomic uint32_t	ver;		/* odd while being written */
	_Atomic uint32_t	len;
	_Atomic uintptr_t	key;		/* the caller's flag pointer */
	_Atomic uint64_t	epoch;		/* stamp: attachment... */
	_Atomic uint64_t	seq;		/* ...and latch sequence */
	_Atomic int32_t		value;		/* answer at the stamp, -1: dflt */
	_Atomic int32_t		last;		/* last consistent value, -1 */
	_Atomic uint32_t	ph;		/* murmur3 state after "<name>:" */
	_Atomic uint32_t	pcarry;
	char			name[TABLE_NAME_SIZE];	/* [63] stays NUL */
};

/* What a read found out about a flag. */
struct wt_answer {
	int		value;		/* 0..100, or -1: the caller's default */
	uint32_t	len;		/* strlen(flag) */
	uint32_t	ph;		/* murmur3 of "<flag>:" so far, for */
	uint32_t	pcarry;		/* warden_enabled_for */
};

/* What one verified read of a copy said, for warden_stage and fills. */
struct wt_copycache {
	_Atomic uint32_t	ver;
	_Atomic uint64_t	epoch;
	_Atomic uint64_t	seq;
	_Atomic int32_t		ok;		/* the copy's check word held */
	_Atomic int32_t		stage;		/* answer at the stamp */
	_Atomic int32_t		last;		/* last consistent stage, -1 */
	_Atomic uint64_t	gen;		/* generation at the stamp... */
	_Atomic uint64_t	lastgen;	/* ...and last consistent one, 0 */
};

/* A name's slot in a handle's set of flags read (struct wt_report). */
enum wt_slot {
	WT_SLOT_EMPTY,
	WT_SLOT_WRITING,	/* claimed, its name being copied */
	WT_SLOT_NEW,		/* read, not yet reported */
	WT_SLOT_SENT		/* reported */
};

/*
 * What a handle of a worker tells warden (libwarden-report.c): made at
 * open when WARDEN_REPORT names warden's address, NULL otherwise, so a
 * handle that does not report carries nothing more.
 */
struct wt_report {
	int			 fd;		/* AF_UNIX datagram socket */
	dev_t			 dev;		/* ...this one (fstat at open) */
	ino_t			 ino;
	_Atomic int		 lost;		/* fd is no longer it: silent */
	struct sockaddr_un	 addr;
	socklen_t		 addrlen;
	_Atomic uint64_t	 seen_gen;	/* last one a consistent read saw */
	_Atomic uint64_t	 sent_gen;	/* last one warden was told */
	_Atomic int		 nnew;		/* names WT_SLOT_NEW */
	_Atomic int		 full;		/* the set is full: no more names */
	_Atomic uint64_t	 due;		/* a send may go from then (ns) */
	_Atomic int		 sending;	/* the sender's lock: holder pid */
	_Atomic uint64_t	 sends;		/* datagrams sent (for tests) */
	_Atomic uint8_t		 slot[TABLE_CAPACITY];	/* enum wt_slot */
	char			 names[TABLE_CAPACITY][TABLE_NAME_SIZE];
	char			 buf[WT_REPORT_MAX];	/* the holder's */
};

struct warden_table {
	/* Set at open. */
	struct table_layout	*region;	/* TABLE_SIZE bytes, fixed */
	char			 name[TABLE_SHM_NAME_SIZE];
	/* Attachment: changed by the thread holding attaching. */
	_Atomic int		 attached;	/* region holds a table */
	_Atomic uint64_t	 epoch;		/* one more per (re)attach */
	_Atomic uint64_t	 suspect;	/* epoch in which damage was seen */
	_Atomic int		 attaching;	/* slow path's lock: holder pid */
	/* CLOCK_MONOTONIC_COARSE ns: the earlier of look_at and a report due */
	_Atomic uint64_t	 next_try;
	_Atomic uint64_t	 retry_ns;
	_Atomic int		 name_state;	/* enum wt_name */
	dev_t			 dev;		/* the mapped object */
	ino_t			 ino;
	uid_t			 trust[WT_TRUST_MAX];	/* set at open */
	int			 ntrust;
	struct wt_copycache	 cc;
	struct wt_entry		 cache[WT_ENTRIES];
	/*
	 * Off the hit path, after what it reads, so that its layout stays
	 * as it was: the slow path's and the reports' (libwarden-report.c).
	 */
	_Atomic uint64_t	 look_at;	/* the name is due a look */
	struct wt_report	*rep;		/* NULL: no reports */
	_Atomic uint64_t	 slow;		/* turns of the slow path (tests) */
};

static inline uint64_t
wt_now(void)
{
	struct timespec	ts;

	/*
	 * The coarse clock (the last tick) is always served by the vDSO,
	 * whatever the clock source: no system call, a few nanoseconds.
	 */
	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == -1)
		return 0;	/* as if no look were ever due */
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The slow path (libwarden.c): a look for a (fresh) table, and a report
 * to warden, each when due.
 */
WT_HIDDEN void	wt_slow(struct warden_table *, uint64_t now);

/*
 * A lock held by a pid: a child forked while a thread of its parent held
 * it takes it over, as that thread does not exist in the child. Never
 * waits: false when another thread of this process holds it.
 */
static inline bool
wt_trylock(_Atomic int *lock, int me)
{
	int	cur = 0;

	if (atomic_compare_exchange_strong_explicit(lock, &cur, me,
	    memory_order_acquire, memory_order_relaxed))
		return true;
	return cur != me && atomic_compare_exchange_strong_explicit(lock,
	    &cur, me, memory_order_acquire, memory_order_relaxed);
}

static inline void
wt_unlock(_Atomic int *lock)
{
	atomic_store_explicit(lock, 0, memory_order_release);
}

/* Make *at no later than when (a CAS loop: other threads lower it too). */
static inline void
wt_lower(_Atomic uint64_t *at, uint64_t when)
{
	uint64_t	cur = atomic_load_explicit(at, memory_order_relaxed);

	while (when < cur && !atomic_compare_exchange_weak_explicit(at, &cur,
	    when, memory_order_relaxed, memory_order_relaxed))
		;
}

/*
 * Reports (libwarden-report.c). open: made for a handle of the worker's
 * own table, to ADDR (WARDEN_REPORT: "@name", abstract; NULL: none);
 * note: a consistent read saw generation gen and found flag (NULL: none);
 * due: the slow path's turn, a pending report sent if it may go. None of
 * them blocks or allocates.
 */
WT_HIDDEN void	wt_report_open(struct warden_table *, const char *addr);
WT_HIDDEN void	wt_report_close(struct warden_table *);
WT_HIDDEN void	wt_report_note(struct warden_table *, uint64_t gen,
		    const char *flag, size_t n);
WT_HIDDEN void	wt_report_due(struct warden_table *, uint64_t now);

/*
 * Is there a table to read? *epochp: the attachment the answer is for.
 * The slow path when there is none, or it is retired, or damage was seen
 * in it, or the name is due a look: the table, if any, still answers (the
 * last consistent one).
 */
static inline bool
wt_ready(struct warden_table *t, uint64_t *epochp)
{
	uint64_t	epoch, now;

	now = wt_now();
	/* attached first: the region is not to be touched before. */
	if (__builtin_expect(atomic_load_explicit(&t->attached,
	    memory_order_acquire), 1)) {
		/* Acquire: the mapping is in place before its epoch is seen. */
		epoch = atomic_load_explicit(&t->epoch, memory_order_acquire);
		if (__builtin_expect(atomic_load_explicit(
		    &t->region->hdr.retired, memory_order_relaxed) == 0 &&
		    atomic_load_explicit(&t->suspect,
		    memory_order_relaxed) != epoch &&
		    now < atomic_load_explicit(&t->next_try,
		    memory_order_relaxed), 1)) {
			*epochp = epoch;
			return true;
		}
	}
	wt_slow(t, now);
	if (!atomic_load_explicit(&t->attached, memory_order_acquire))
		return false;
	*epochp = atomic_load_explicit(&t->epoch, memory_order_acquire);
	return true;
}

#endif
