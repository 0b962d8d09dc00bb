/*
 * libwarden.c: the reader library (include/warden.h), libwarden(3).
 *
 * A read has three layers:
 *
 * 1. The fast path. The handle keeps a small cache, 4-way set-associative
 *    by the flag string's pointer, whose entries hold the answer for a
 *    stamp: the attachment epoch and the table's latch sequence at which
 *    it was read. A read loads the table's sequence and retired word (one
 *    cache line), reads CLOCK_MONOTONIC_COARSE (the vDSO: no system call)
 *    to see whether the name is due a look, finds the entry, checks
 *    pointer, stamp and name (the pointer may be a buffer reused for
 *    another name), and answers. No lock, no allocation, no system call,
 *    no store at all: threads reading the same flags do not contend.
 *
 * 2. The fill. On a miss (first read of a flag, or the writer published
 *    since), one latch read of the table: load the sequence, read the copy
 *    it names, re-check the sequence; at most WT_TRIES times, then give
 *    up. What was read is verified (the copy's check word covering
 *    generation, stage, nflags and index; the record's check word covering
 *    name, value and generation) and stored in the entry. Still no system
 *    call.
 *
 * 3. The slow path, for a handle with no table, a retired table (the writer
 *    put a fresh one under the name), a damaged one, or one whose name is
 *    due a look: at most every WT_RETRY_NS (100 ms, measured with
 *    clock_gettime(CLOCK_MONOTONIC_COARSE), which the vDSO always answers
 *    without a system call), one thread opens the name and, if it leads
 *    to another object than the one mapped (a warden that started after
 *    the old table was removed never retired it), maps that one if it is
 *    a table the handle trusts. The read itself goes on with the table it
 *    has: the last consistent one.
 *
 * Trust. A handle maps only a table owned by a user it trusts: root, and
 * the owner of the object WARDEN_TABLE_FD refers to for a handle opened
 * from warden's descriptor; root, the caller's effective uid and the
 * user named by WARDEN_TABLE_OWNER for one opened by name. Anyone may
 * create an object under a free name: one of another user is never
 * mapped (warden_state() says WARDEN_UNTRUSTED).
 *
 * Whatever goes wrong, a read answers: the value of a consistent read, else
 * the last consistent value the handle saw for that flag, else the
 * caller's default. Everything a read trusts from the shared memory is
 * bounds-checked before use, so damage can change an answer into the
 * default, never crash the reader.
 *
 * Threads. The cache entries are small seqlocks of their own: a reader
 * loads the fields with relaxed atomics between an acquire load of the
 * entry's version and a re-check; a filler claims an entry with a CAS on
 * the version (odd while written) and skips the update when another thread
 * holds it. The one field read without atomics is the entry's copy of the
 * flag name, compared with strncmp(3) for speed: a read that overlaps a
 * fill rewriting it is thrown away by the version re-check (see
 * wt_entry_get). A table is (re)mapped with MAP_FIXED over the same
 * address range, reserved at open, so another thread in the middle of a
 * read never finds the range unmapped; it reads the old or the new object,
 * and the epoch in the stamps keeps cached answers of one object from
 * being taken for the other's. warden_close() must not race with reads.
 *
 * Known limit: a process running as the table's owner could truncate the
 * object; a read touching a page past the new end would then fault
 * (SIGBUS). Nobody else can (mode 0644), warden never does, and warden
 * replaces a truncated table (marking the old one retired, which the
 * first page still carries) within its repair interval.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "murmur3.h"
#include "libwarden-test.h"
#include "table_layout.h"
#include "warden.h"

#define WARDEN_EXPORT	__attribute__((visibility("default")))

/* Latch reads before giving up and answering from the cache. */
#define WT_TRIES	32
/* How often the slow path may try to (re)attach, or look at the name. */
#define WT_RETRY_NS	(100ull * 1000 * 1000)
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
	_Atomic uint64_t	 next_try;	/* CLOCK_MONOTONIC_COARSE ns */
	_Atomic uint64_t	 retry_ns;
	_Atomic int		 name_state;	/* enum wt_name */
	dev_t			 dev;		/* the mapped object */
	ino_t			 ino;
	uid_t			 trust[WT_TRUST_MAX];	/* set at open */
	int			 ntrust;
	struct wt_copycache	 cc;
	struct wt_entry		 cache[WT_ENTRIES];
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

static bool
wt_trusts(const struct warden_table *t, uid_t uid)
{
	int	i;

	for (i = 0; i < t->ntrust; i++)
		if (t->trust[i] == uid)
			return true;
	return false;
}

static void
wt_trust(struct warden_table *t, uid_t uid)
{
	if (!wt_trusts(t, uid) && t->ntrust < WT_TRUST_MAX)
		t->trust[t->ntrust++] = uid;
}

/*
 * Map the object behind FD over the region, if it is a table we may trust:
 * owned by a user the handle trusts, a regular file of exactly our size,
 * nobody but its owner may write it, its header matches this library's
 * layout, and the owner is the writer the header names. The result is a
 * WT_NAME_* word. System calls are fine here: the slow path and open.
 */
static enum wt_name
wt_map_fd(struct warden_table *t, int fd)
{
	struct table_header	h;
	struct stat		st;
	ssize_t			n;
	void			*p;

	if (fstat(fd, &st) == -1)
		return WT_NAME_NONE;
	if (!wt_trusts(t, st.st_uid))
		return WT_NAME_UNTRUSTED;
	if (!S_ISREG(st.st_mode) || st.st_size != (off_t)TABLE_SIZE ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return WT_NAME_INVALID;
	/* Already ours: keep the mapping and what the cache knows. */
	if (atomic_load_explicit(&t->attached, memory_order_relaxed) &&
	    st.st_dev == t->dev && st.st_ino == t->ino)
		return WT_NAME_OK;
	do {
		n = pread(fd, &h, sizeof(h), 0);
	} while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(h))
		return WT_NAME_INVALID;
	if (h.magic != TABLE_MAGIC || h.version != TABLE_VERSION ||
	    h.header_size != sizeof(struct table_header) ||
	    h.record_size != sizeof(struct table_record) ||
	    h.copy_size != sizeof(struct table_copy) ||
	    h.capacity != TABLE_CAPACITY || h.size != TABLE_SIZE ||
	    h.writer_uid != (uint32_t)st.st_uid ||
	    atomic_load_explicit(&h.retired, memory_order_relaxed) != 0)
		return WT_NAME_INVALID;
	/*
	 * Read-only, shared, over the reserved range: the old mapping is
	 * replaced in one step, never left as a hole for another thread.
	 */
	p = mmap(t->region, TABLE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED)
		return WT_NAME_INVALID;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	/* A handle opened from a descriptor reattaches by the table's name. */
	if (t->name[0] == '\0' && h.name[0] == '/' &&
	    memchr(h.name, '\0', sizeof(h.name)) != NULL)
		memcpy(t->name, h.name, sizeof(t->name));
	/* The new mapping is in place before the new epoch is seen. */
	atomic_fetch_add_explicit(&t->epoch, 1, memory_order_release);
	atomic_store_explicit(&t->attached, 1, memory_order_release);
	return WT_NAME_OK;
}

/*
 * Look at the name: map what it leads to if that is another table we
 * trust; keep what we have otherwise. Three system calls when nothing
 * changed (and wt_slow's getpid).
 */
static void
wt_attach_name(struct warden_table *t)
{
	enum wt_name	r;
	int		fd;

	if (t->name[0] == '\0')
		return;
	if ((fd = shm_open(t->name, O_RDONLY | O_NOFOLLOW, 0)) == -1) {
		atomic_store_explicit(&t->name_state, WT_NAME_NONE,
		    memory_order_relaxed);
		return;
	}
	r = wt_map_fd(t, fd);
	close(fd);
	atomic_store_explicit(&t->name_state, r, memory_order_relaxed);
}

/*
 * The slow path: at most every retry_ns, and by one thread at a time,
 * look for a (fresh) table. Never waits: a thread that finds another one
 * attaching goes on with what it has. The lock holds the holder's pid: a
 * child forked while a thread of its parent held it takes it over, as
 * that thread does not exist in the child.
 */
static __attribute__((noinline)) void
wt_slow(struct warden_table *t, uint64_t now)
{
	int		me, cur = 0;

	if (now < atomic_load_explicit(&t->next_try, memory_order_relaxed))
		return;
	me = (int)getpid();
	if (!atomic_compare_exchange_strong_explicit(&t->attaching, &cur, me,
	    memory_order_acquire, memory_order_relaxed) &&
	    (cur == me || !atomic_compare_exchange_strong_explicit(
	    &t->attaching, &cur, me, memory_order_acquire,
	    memory_order_relaxed)))
		return;
	if (now >= atomic_load_explicit(&t->next_try, memory_order_relaxed)) {
		atomic_store_explicit(&t->next_try, now +
		    atomic_load_explicit(&t->retry_ns, memory_order_relaxed),
		    memory_order_relaxed);
		wt_attach_name(t);
	}
	atomic_store_explicit(&t->attaching, 0, memory_order_release);
}

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

/* Damage seen in the table of EPOCH: the slow path looks for another. */
static void
wt_suspect(struct warden_table *t, uint64_t epoch)
{
	atomic_store_explicit(&t->suspect, epoch, memory_order_relaxed);
}

/* The cache set of a flag pointer (Fibonacci hashing). */
static inline struct wt_entry *
wt_set_of(struct warden_table *t, const char *flag)
{
	uint64_t	k = (uint64_t)(uintptr_t)flag;

	return &t->cache[((k * 0x9e3779b97f4a7c15ull) >> (64 - WT_SET_BITS)) *
	    WT_WAYS];
}

/*
 * An entry's answer at the stamp. The entry is a seqlock: the acquire
 * load of ver orders the field loads after it, the acquire fence orders
 * them before the re-check of ver; a version that moved means a
 * concurrent fill, and the read counts as a miss.
 *
 * The name is the one field read without atomics: strncmp(3) is several
 * times faster than any loop over atomic words (it needs no strlen first
 * and does not mispredict on the length). A fill replacing the entry with
 * another flag may rewrite the name meanwhile; the version re-check then
 * discards what was read, and the comparison cannot leave the field:
 * it stops after len + 1 <= 64 bytes, and name[63] is never written.
 */
static inline __attribute__((always_inline)) bool
wt_entry_get(const struct wt_entry *e, const char *flag, uint64_t epoch,
    uint64_t seq, struct wt_answer *a, bool prefix)
{
	uint32_t	v, len, ph = 0, pcarry = 0;
	int		val;

	v = atomic_load_explicit(&e->ver, memory_order_acquire);
	if ((v & 1) != 0 ||
	    atomic_load_explicit(&e->key, memory_order_relaxed) !=
	    (uintptr_t)flag ||
	    atomic_load_explicit(&e->seq, memory_order_relaxed) != seq ||
	    atomic_load_explicit(&e->epoch, memory_order_relaxed) != epoch)
		return false;
	len = atomic_load_explicit(&e->len, memory_order_relaxed);
	val = atomic_load_explicit(&e->value, memory_order_relaxed);
	if (prefix) {
		ph = atomic_load_explicit(&e->ph, memory_order_relaxed);
		pcarry = atomic_load_explicit(&e->pcarry, memory_order_relaxed);
	}
	if (len > TABLE_NAME_MAX || strncmp(flag, e->name, len + 1) != 0)
		return false;
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&e->ver, memory_order_relaxed) != v)
		return false;
	a->value = val;
	a->len = len;
	a->ph = ph;
	a->pcarry = pcarry;
	return true;
}

/* The hit path: the ways of the set whose key is this pointer. */
static inline __attribute__((always_inline)) bool
wt_lookup(const struct wt_entry *set, const char *flag, uint64_t epoch,
    uint64_t seq, struct wt_answer *a, bool prefix)
{
	int	w;

	for (w = 0; w < WT_WAYS; w++)
		if (atomic_load_explicit(&set[w].key, memory_order_relaxed) ==
		    (uintptr_t)flag &&
		    wt_entry_get(&set[w], flag, epoch, seq, a, prefix))
			return true;
	return false;
}

/* The copy cache, the same way. */
static bool
wt_cc_get(struct warden_table *t, uint64_t epoch, uint64_t seq, int *ok,
    int *stage)
{
	struct wt_copycache	*c = &t->cc;
	uint32_t		 v;

	v = atomic_load_explicit(&c->ver, memory_order_acquire);
	if ((v & 1) != 0 ||
	    atomic_load_explicit(&c->seq, memory_order_relaxed) != seq ||
	    atomic_load_explicit(&c->epoch, memory_order_relaxed) != epoch)
		return false;
	*ok = atomic_load_explicit(&c->ok, memory_order_relaxed);
	*stage = atomic_load_explicit(&c->stage, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&c->ver, memory_order_relaxed) == v;
}

/* The last consistent stage seen, -1 if none (or a fill in progress). */
static int
wt_cc_last(struct warden_table *t)
{
	struct wt_copycache	*c = &t->cc;
	uint32_t		 v;
	int			 last;

	v = atomic_load_explicit(&c->ver, memory_order_acquire);
	if ((v & 1) != 0)
		return -1;
	last = atomic_load_explicit(&c->last, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&c->ver, memory_order_relaxed) == v ?
	    last : -1;
}

/*
 * Record what a verified read of the copy at (epoch, seq) said, and
 * return the stage to answer at that stamp. A writer claims the entry
 * with a CAS (odd version); if another thread holds it, nothing is
 * stored: the next read verifies again.
 */
static int
wt_cc_put(struct warden_table *t, uint64_t epoch, uint64_t seq, bool ok,
    int stage)
{
	struct wt_copycache	*c = &t->cc;
	uint32_t		 v;
	int			 last, answer;

	v = atomic_load_explicit(&c->ver, memory_order_acquire);
	last = atomic_load_explicit(&c->last, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	if ((v & 1) != 0 || atomic_load_explicit(&c->ver,
	    memory_order_relaxed) != v)
		return ok ? stage : -1;
	answer = ok ? stage : last;
	if (!atomic_compare_exchange_strong_explicit(&c->ver, &v, v + 1,
	    memory_order_relaxed, memory_order_relaxed))
		return answer;
	/* The odd version is visible before any field changes. */
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&c->epoch, epoch, memory_order_relaxed);
	atomic_store_explicit(&c->seq, seq, memory_order_relaxed);
	atomic_store_explicit(&c->ok, ok, memory_order_relaxed);
	atomic_store_explicit(&c->stage, answer, memory_order_relaxed);
	atomic_store_explicit(&c->last, answer, memory_order_relaxed);
	/* The fields are complete before the even version is seen. */
	atomic_store_explicit(&c->ver, v + 2, memory_order_release);
	return answer;
}

/*
 * One latch read of the table for FLAG (NULL: the copy only). The copy and
 * record are read as plain memory, which the writer may be rewriting if
 * the sequence moves: everything is bounds-checked while reading, and
 * nothing is believed until the sequence proved the read consistent.
 *
 * The loads of the copy come after the acquire load of seq; the acquire
 * fence keeps them before its re-load. If the writer began rewriting this
 * copy, it made seq move first (release fence on its side), so the
 * re-load sees it and the read is retried on the other copy.
 */
static enum wt_read
wt_read(struct warden_table *t, uint64_t epoch, const char *flag, size_t n,
    uint32_t *valuep, uint64_t *seqp, int *stagep)
{
	const struct table_layout	*m = t->region;
	const struct table_copy		*c;
	struct table_record		 rec;
	uint64_t			 s, gen;
	uint32_t			 fhash = 0, nflags, ccheck, sum = 0;
	uint32_t			 pos, probe, idx;
	int				 tries, known, ok = 0, stage, ccstage;
	bool				 found, badprobe;

	if (flag != NULL)
		fhash = table_name_hash(flag, n);
	for (tries = 0; tries < WT_TRIES; tries++) {
		s = atomic_load_explicit(&m->hdr.seq, memory_order_acquire);
		c = &m->copy[s & 1];
		gen = c->generation;
		stage = c->stage;
		nflags = c->nflags;
		ccheck = c->check;
		/* The copy's check word costs ~1 KiB of hashing: once a stamp. */
		known = wt_cc_get(t, epoch, s, &ok, &ccstage);
		if (!known)
			sum = table_copy_check(c);
		found = false;
		badprobe = false;
		if (flag != NULL && (!known || ok)) {
			/*
			 * Every record on the probe path is checked, not only
			 * the one whose name matches: a record whose name was
			 * damaged may have been this flag's, and "damaged"
			 * (answer the last value) is not "absent" (answer
			 * the default).
			 */
			pos = fhash & (TABLE_INDEX_SLOTS - 1);
			for (probe = 0; probe < TABLE_INDEX_SLOTS; probe++) {
				idx = c->index[pos];
				if (idx == 0)
					break;
				idx--;
				if (idx >= nflags || idx >= TABLE_CAPACITY) {
					badprobe = true;
					break;
				}
				memcpy(&rec, &c->rec[idx], sizeof(rec));
				if (rec.hash == fhash &&
				    memcmp(rec.name, flag, n) == 0 &&
				    rec.name[n] == '\0') {
					found = true;
					break;
				}
				if (rec.check != table_record_check(&rec, gen))
					badprobe = true;
				pos = (pos + 1) & (TABLE_INDEX_SLOTS - 1);
			}
		}
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&m->hdr.seq, memory_order_relaxed) != s)
			continue;
		/* Consistent: no write to this copy overlapped the read. */
		*seqp = s;
		if (!known) {
			ok = sum == ccheck && nflags <= TABLE_CAPACITY &&
			    stage >= -1;
			ccstage = wt_cc_put(t, epoch, s, ok, stage);
		}
		if (stagep != NULL)
			*stagep = ccstage;
		if (!ok)
			return WT_DAMAGED;
		if (flag == NULL)
			return WT_FOUND;
		if (!found)
			return badprobe ? WT_DAMAGED : WT_ABSENT;
		if (rec.value > TABLE_VALUE_MAX ||
		    rec.check != table_record_check(&rec, gen))
			return WT_DAMAGED;
		*valuep = rec.value;
		return WT_FOUND;
	}
	return WT_BUSY;
}

/*
 * The entry a fill stores into: the one already holding this flag (its
 * last value is kept), else an empty one, else the one filled longest ago.
 * Only a choice, made from loads that may race with another fill (the
 * name too): the fill re-checks under the entry's seqlock.
 */
static struct wt_entry *
wt_victim(struct wt_entry *set, const char *flag, size_t n)
{
	struct wt_entry	*e, *empty = NULL, *old = &set[0];
	uint64_t	 ep, sq, oep = UINT64_MAX, osq = UINT64_MAX;
	int		 w;

	for (w = 0; w < WT_WAYS; w++) {
		e = &set[w];
		if (atomic_load_explicit(&e->key, memory_order_relaxed) == 0) {
			if (empty == NULL)
				empty = e;
			continue;
		}
		if (atomic_load_explicit(&e->key, memory_order_relaxed) ==
		    (uintptr_t)flag &&
		    atomic_load_explicit(&e->len, memory_order_relaxed) == n &&
		    strncmp(flag, e->name, n + 1) == 0)
			return e;
		ep = atomic_load_explicit(&e->epoch, memory_order_relaxed);
		sq = atomic_load_explicit(&e->seq, memory_order_relaxed);
		if (ep < oep || (ep == oep && sq < osq)) {
			old = e;
			oep = ep;
			osq = sq;
		}
	}
	return empty != NULL ? empty : old;
}

/*
 * A miss: read the table, answer, and remember the answer in an entry
 * (unless another thread is writing it). The last consistent value
 * survives damage as long as the entry keeps the same flag.
 */
static __attribute__((noinline)) void
wt_miss(struct warden_table *t, struct wt_entry *set, const char *flag,
    uint64_t epoch, struct wt_answer *a)
{
	struct murmur3_state	 st;
	struct wt_entry		*e;
	enum wt_read		 r;
	uint64_t		 seq = 0;
	uint32_t		 v, value = 0;
	size_t			 n = strlen(flag);
	int			 last = -1;
	bool			 same, store;

	a->value = -1;
	if (n == 0 || n > TABLE_NAME_MAX)
		return;
	a->len = (uint32_t)n;
	/* Where warden_enabled_for resumes hashing "<flag>:<id>". */
	murmur3_init(&st, 0);
	murmur3_update(&st, flag, n);
	murmur3_update(&st, ":", 1);
	a->ph = st.h;
	a->pcarry = st.carry;

	r = wt_read(t, epoch, flag, n, &value, &seq, NULL);

	/* The entry's last value, if it is this flag's (a seqlock read). */
	e = wt_victim(set, flag, n);
	v = atomic_load_explicit(&e->ver, memory_order_acquire);
	same = (v & 1) == 0 &&
	    atomic_load_explicit(&e->key, memory_order_relaxed) ==
	    (uintptr_t)flag &&
	    atomic_load_explicit(&e->len, memory_order_relaxed) == n &&
	    strncmp(flag, e->name, n + 1) == 0;
	if (same)
		last = atomic_load_explicit(&e->last, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	store = (v & 1) == 0 &&
	    atomic_load_explicit(&e->ver, memory_order_relaxed) == v;
	if (!store)
		last = -1;

	switch (r) {
	case WT_FOUND:
		a->value = last = (int)value;
		break;
	case WT_ABSENT:
		a->value = last = -1;
		break;
	case WT_DAMAGED:
		wt_suspect(t, epoch);
		a->value = last;
		break;
	case WT_BUSY:
	default:
		/* No stamp to store the answer under. */
		a->value = last;
		return;
	}
	if (!store || !atomic_compare_exchange_strong_explicit(&e->ver, &v,
	    v + 1, memory_order_relaxed, memory_order_relaxed))
		return;
	/* The odd version is visible before any field changes. */
	atomic_thread_fence(memory_order_release);
	if (!same) {
		atomic_store_explicit(&e->key, (uintptr_t)flag,
		    memory_order_relaxed);
		atomic_store_explicit(&e->len, (uint32_t)n,
		    memory_order_relaxed);
		atomic_store_explicit(&e->ph, a->ph, memory_order_relaxed);
		atomic_store_explicit(&e->pcarry, a->pcarry,
		    memory_order_relaxed);
		/* NUL-padded; name[63] is left as it is: NUL. */
		memcpy(e->name, flag, n);
		memset(e->name + n, 0, TABLE_NAME_MAX - n);
	}
	atomic_store_explicit(&e->epoch, epoch, memory_order_relaxed);
	atomic_store_explicit(&e->seq, seq, memory_order_relaxed);
	atomic_store_explicit(&e->value, a->value, memory_order_relaxed);
	atomic_store_explicit(&e->last, last, memory_order_relaxed);
	/* The fields are complete before the even version is seen. */
	atomic_store_explicit(&e->ver, v + 2, memory_order_release);
}

/*
 * FLAG's answer: a->value is 0..100, or -1 for the caller's default;
 * with PREFIX, also what warden_enabled_for needs to hash the id.
 */
static inline __attribute__((always_inline)) void
wt_value(struct warden_table *t, const char *flag, struct wt_answer *a,
    bool prefix)
{
	struct wt_entry	*set;
	uint64_t	 epoch, seq;

	if (t == NULL || flag == NULL || !wt_ready(t, &epoch)) {
		a->value = -1;
		return;
	}
	/* Only compared with stamps: no table data is read on a hit. */
	seq = atomic_load_explicit(&t->region->hdr.seq, memory_order_relaxed);
	set = wt_set_of(t, flag);
	if (__builtin_expect(wt_lookup(set, flag, epoch, seq, a, prefix), 1))
		return;
	wt_miss(t, set, flag, epoch, a);
}

WARDEN_EXPORT bool
warden_enabled(warden_table *t, const char *flag, bool dflt)
{
	struct wt_answer	a;

	wt_value(t, flag, &a, false);
	if (a.value < 0)
		return dflt;
	return a.value == (int)TABLE_VALUE_MAX;
}

/*
 * The rollout rule: murmur3_x86_32("<flag>:<id>", seed 0) % 10000 <
 * percent * 100. The hash of "<flag>:" was taken once, when the entry was
 * filled; only the id is hashed here, streaming on from that state, so no
 * key is built and nothing is allocated, however long the id.
 */
WARDEN_EXPORT bool
warden_enabled_for(warden_table *t, const char *flag, const char *id,
    bool dflt)
{
	struct murmur3_state	st;
	struct wt_answer	a;

	wt_value(t, flag, &a, true);
	if (a.value < 0)
		return dflt;
	if (a.value == 0)
		return false;
	if (a.value >= (int)TABLE_VALUE_MAX)
		return true;
	/* A percentage with nobody to bucket: the caller decides. */
	if (id == NULL)
		return dflt;
	st.h = a.ph;
	st.carry = a.pcarry;
	st.ncarry = (a.len + 1) & 3;
	st.total = a.len + 1;
	murmur3_update(&st, id, strlen(id));
	return murmur3_final(&st) % 10000 < (uint32_t)a.value * 100;
}

WARDEN_EXPORT int
warden_stage(warden_table *t)
{
	uint64_t	epoch, seq;
	uint32_t	unused;
	int		ok, stage;

	if (t == NULL || !wt_ready(t, &epoch))
		return -1;
	seq = atomic_load_explicit(&t->region->hdr.seq, memory_order_relaxed);
	if (wt_cc_get(t, epoch, seq, &ok, &stage))
		return stage;
	switch (wt_read(t, epoch, NULL, 0, &unused, &seq, &stage)) {
	case WT_FOUND:
		return stage;
	case WT_DAMAGED:
		wt_suspect(t, epoch);
		return stage;
	default:
		return wt_cc_last(t);
	}
}

/* A descriptor number from the environment, -1 if none or not a number. */
static int
wt_env_fd(const char *s)
{
	char	*end;
	long	 n;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0 || n > INT_MAX)
		return -1;
	return (int)n;
}

/* WARDEN_TABLE_OWNER: a uid, or a user name. false if neither. */
static bool
wt_env_owner(const char *s, uid_t *uid)
{
	struct passwd	 pw, *res = NULL;
	char		 buf[1024], *end;
	unsigned long	 n;

	if (s == NULL || *s == '\0')
		return false;
	if (*s >= '0' && *s <= '9') {
		errno = 0;
		n = strtoul(s, &end, 10);
		if (errno != 0 || *end != '\0' || n >= (unsigned long)(uid_t)-1)
			return false;
		*uid = (uid_t)n;
		return true;
	}
	if (getpwnam_r(s, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
		return false;
	*uid = pw.pw_uid;
	return true;
}

/* A handle opened by name trusts root, its caller and WARDEN_TABLE_OWNER. */
static void
wt_trust_by_name(struct warden_table *t)
{
	uid_t	uid;

	t->ntrust = 0;
	wt_trust(t, 0);
	wt_trust(t, geteuid());
	if (wt_env_owner(secure_getenv("WARDEN_TABLE_OWNER"), &uid))
		wt_trust(t, uid);
}

WARDEN_EXPORT warden_table *
warden_open(const char *name)
{
	struct warden_table	*t;
	struct stat		 st;
	void			*p;
	size_t			 len;
	int			 fd;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	/*
	 * Reserve the range every table of this handle will be mapped at;
	 * PROT_NONE until then (the attached flag keeps reads out of it).
	 */
	p = mmap(NULL, TABLE_SIZE, PROT_NONE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		free(t);
		return NULL;
	}
	t->region = p;
	atomic_store_explicit(&t->retry_ns, WT_RETRY_NS, memory_order_relaxed);
	atomic_store_explicit(&t->cc.last, -1, memory_order_relaxed);
	wt_trust_by_name(t);
	/*
	 * From the environment warden gives its workers; secure_getenv, so
	 * that a set-uid program is not pointed at a table of the caller's.
	 * The table on warden's descriptor names warden's user: the handle
	 * trusts that owner (and root), here and when it reattaches by name.
	 */
	if (name == NULL) {
		name = secure_getenv("WARDEN_TABLE");
		fd = wt_env_fd(secure_getenv("WARDEN_TABLE_FD"));
		if (fd != -1 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
			t->ntrust = 0;
			wt_trust(t, 0);
			wt_trust(t, st.st_uid);
			/* The fd stays open: it is warden's. */
			if (wt_map_fd(t, fd) == WT_NAME_OK)
				atomic_store_explicit(&t->name_state,
				    WT_NAME_OK, memory_order_relaxed);
			else
				wt_trust_by_name(t);	/* not a table */
		}
	}
	/* A name too long for shm_open(3) is no name: defaults for ever. */
	if (name != NULL && (len = strlen(name)) < sizeof(t->name)) {
		/* WARDEN_TABLE wins over the name in the fd's header. */
		memset(t->name, 0, sizeof(t->name));
		memcpy(t->name, name, len);
	}
	if (!atomic_load_explicit(&t->attached, memory_order_relaxed))
		wt_attach_name(t);
	atomic_store_explicit(&t->next_try, wt_now() + WT_RETRY_NS,
	    memory_order_relaxed);
	return t;
}

WARDEN_EXPORT int
warden_state(warden_table *t)
{
	uint64_t	epoch;

	if (t == NULL)
		return WARDEN_NO_TABLE;
	/* A look at the name, if one is due, as a read would make. */
	(void)wt_ready(t, &epoch);
	if (atomic_load_explicit(&t->name_state, memory_order_relaxed) ==
	    WT_NAME_UNTRUSTED)
		return WARDEN_UNTRUSTED;
	return atomic_load_explicit(&t->attached, memory_order_acquire) ?
	    WARDEN_ATTACHED : WARDEN_NO_TABLE;
}

WARDEN_EXPORT void
warden_close(warden_table *t)
{
	if (t == NULL)
		return;
	munmap(t->region, TABLE_SIZE);
	free(t);
}

/* ---- test hooks (table.h) ---- */

void
warden_test_set_retry(struct warden_table *t, uint64_t ns)
{
	atomic_store_explicit(&t->retry_ns, ns, memory_order_relaxed);
	/* As if an attempt had just been made: 0 makes the next one due. */
	atomic_store_explicit(&t->next_try, wt_now() + ns, memory_order_relaxed);
}

bool
warden_test_attached(struct warden_table *t)
{
	return t != NULL &&
	    atomic_load_explicit(&t->attached, memory_order_acquire);
}

int
warden_test_snapshot(struct warden_table *t, int *stagep, uint64_t *genp,
    uint32_t *values, size_t n)
{
	const struct table_layout	*m;
	const struct table_copy		*c;
	struct table_record		 rec;
	uint64_t			 s, gen;
	uint32_t			 nflags, ccheck, sum;
	size_t				 i, k;
	int				 tries, stage;
	bool				 bad;

	if (t == NULL || !wt_ready(t, &s))
		return -1;
	m = t->region;
	for (tries = 0; tries < WT_TRIES; tries++) {
		s = atomic_load_explicit(&m->hdr.seq, memory_order_acquire);
		c = &m->copy[s & 1];
		gen = c->generation;
		stage = c->stage;
		nflags = c->nflags;
		ccheck = c->check;
		sum = table_copy_check(c);
		k = nflags < TABLE_CAPACITY ? nflags : TABLE_CAPACITY;
		bad = false;
		for (i = 0; i < k; i++) {
			memcpy(&rec, &c->rec[i], sizeof(rec));
			if (rec.check != table_record_check(&rec, gen))
				bad = true;
			if (i < n)
				values[i] = rec.value;
		}
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&m->hdr.seq, memory_order_relaxed) != s)
			continue;
		if (bad || sum != ccheck || nflags > TABLE_CAPACITY)
			return -1;
		*stagep = stage;
		*genp = gen;
		return (int)nflags;
	}
	return -1;
}
