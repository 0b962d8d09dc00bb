/*
 * libwarden-read.c: the reads of the reader library (warden_enabled,
 * warden_enabled_for, warden_stage): the fast path and the fill, layers
 * 1 and 2 of libwarden.c's account; a read that finds no table, or one
 * to look at again, takes the slow path there (wt_ready(), wt_slow()).
 */
#include <stdlib.h>
#include <string.h>

#include "murmur3.h"
#include "libwarden-private.h"
#include "libwarden-test.h"

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
    int *stage, uint64_t *gen)
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
	*gen = atomic_load_explicit(&c->gen, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit(&c->ver, memory_order_relaxed) == v;
}

/*
 * The last consistent stage and generation seen: -1 and 0 if none (or a
 * fill in progress).
 */
static int
wt_cc_last(struct warden_table *t, uint64_t *genp)
{
	struct wt_copycache	*c = &t->cc;
	uint64_t		 gen;
	uint32_t		 v;
	int			 last;

	*genp = 0;
	v = atomic_load_explicit(&c->ver, memory_order_acquire);
	if ((v & 1) != 0)
		return -1;
	last = atomic_load_explicit(&c->last, memory_order_relaxed);
	gen = atomic_load_explicit(&c->lastgen, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	if (atomic_load_explicit(&c->ver, memory_order_relaxed) != v)
		return -1;
	*genp = gen;
	return last;
}

/*
 * Record what a verified read of the copy at (epoch, seq) said, and
 * return the stage to answer at that stamp. A writer claims the entry
 * with a CAS (odd version); if another thread holds it, nothing is
 * stored: the next read verifies again.
 */
static int
wt_cc_put(struct warden_table *t, uint64_t epoch, uint64_t seq, bool ok,
    int stage, uint64_t *genp)
{
	struct wt_copycache	*c = &t->cc;
	uint64_t		 lastgen;
	uint32_t		 v;
	int			 last, answer;

	v = atomic_load_explicit(&c->ver, memory_order_acquire);
	last = atomic_load_explicit(&c->last, memory_order_relaxed);
	lastgen = atomic_load_explicit(&c->lastgen, memory_order_relaxed);
	atomic_thread_fence(memory_order_acquire);
	if ((v & 1) != 0 || atomic_load_explicit(&c->ver,
	    memory_order_relaxed) != v) {
		if (!ok)
			*genp = 0;
		return ok ? stage : -1;
	}
	answer = ok ? stage : last;
	if (!ok)
		*genp = lastgen;
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
	atomic_store_explicit(&c->gen, *genp, memory_order_relaxed);
	atomic_store_explicit(&c->lastgen, *genp, memory_order_relaxed);
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
    uint32_t *valuep, uint64_t *seqp, int *stagep, uint64_t *genp)
{
	const struct table_layout	*m = t->region;
	const struct table_copy		*c;
	struct table_record		 rec;
	uint64_t			 s, gen, ccgen = 0;
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
		known = wt_cc_get(t, epoch, s, &ok, &ccstage, &ccgen);
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
			ccgen = gen;
			ccstage = wt_cc_put(t, epoch, s, ok, stage, &ccgen);
		}
		if (stagep != NULL)
			*stagep = ccstage;
		if (genp != NULL)
			*genp = ccgen;
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
	uint64_t		 seq = 0, gen = 0;
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

	r = wt_read(t, epoch, flag, n, &value, &seq, NULL, &gen);
	/* What warden is told (libwarden-report.c): off the hit path. */
	if (t->rep != NULL && (r == WT_FOUND || r == WT_ABSENT))
		wt_report_note(t, gen, r == WT_FOUND ? flag : NULL, n);

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

/*
 * The copy's stage and generation: what the copy cache holds for the
 * current stamp, else a read of the copy; the last consistent ones when
 * the copy is damaged or kept moving. -1 and 0 when there is no table.
 */
static void
wt_copy(warden_table *t, int *stagep, uint64_t *genp)
{
	uint64_t	epoch, seq;
	uint32_t	unused;
	int		ok;

	*stagep = -1;
	*genp = 0;
	if (t == NULL || !wt_ready(t, &epoch))
		return;
	seq = atomic_load_explicit(&t->region->hdr.seq, memory_order_relaxed);
	if (wt_cc_get(t, epoch, seq, &ok, stagep, genp))
		return;
	switch (wt_read(t, epoch, NULL, 0, &unused, &seq, stagep, genp)) {
	case WT_FOUND:
		if (t->rep != NULL)
			wt_report_note(t, *genp, NULL, 0);
		return;
	case WT_DAMAGED:
		wt_suspect(t, epoch);
		return;
	default:
		*stagep = wt_cc_last(t, genp);
		return;
	}
}

WARDEN_EXPORT int
warden_stage(warden_table *t)
{
	uint64_t	gen;
	int		stage;

	wt_copy(t, &stage, &gen);
	return stage;
}

WARDEN_EXPORT unsigned long long
warden_generation(warden_table *t)
{
	uint64_t	gen;
	int		stage;

	wt_copy(t, &stage, &gen);
	return gen;
}

/* ---- test hooks (libwarden-test.h) ---- */

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
