/*
 * libwarden.c: the reader library (include/warden.h), libwarden(3):
 * opening a handle, attaching a table and whom to trust. The reads
 * themselves (layers 1 and 2 below) are libwarden-read.c's; what the two
 * files share, libwarden-private.h.
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libwarden-private.h"
#include "libwarden-test.h"

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
 * look for a (fresh) table; and a report to warden, when one is pending
 * and may go (libwarden-report.c). Never waits: a thread that finds
 * another one attaching goes on with what it has. Then the fast path is
 * the reads' again until the next look, or the next report due before it
 * (next_try): a report sent leaves no read on the slow path.
 */
WT_HIDDEN __attribute__((noinline)) void
wt_slow(struct warden_table *t, uint64_t now)
{
	if (now < atomic_load_explicit(&t->next_try, memory_order_relaxed))
		return;
	atomic_fetch_add_explicit(&t->slow, 1, memory_order_relaxed);
	if (now >= atomic_load_explicit(&t->look_at, memory_order_relaxed) &&
	    wt_trylock(&t->attaching, (int)getpid())) {
		if (now >= atomic_load_explicit(&t->look_at,
		    memory_order_relaxed)) {
			atomic_store_explicit(&t->look_at, now +
			    atomic_load_explicit(&t->retry_ns,
			    memory_order_relaxed), memory_order_relaxed);
			wt_attach_name(t);
		}
		wt_unlock(&t->attaching);
	}
	/*
	 * A report made pending meanwhile by another thread lowered next_try
	 * before this store, or sees it after: wt_report_due lowers it again.
	 */
	atomic_store_explicit(&t->next_try, atomic_load_explicit(&t->look_at,
	    memory_order_relaxed), memory_order_seq_cst);
	if (t->rep != NULL)
		wt_report_due(t, now);
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
	const char		*env;
	size_t			 len;
	int			 fd;
	bool			 own;

	/* The worker's own table: the one it reports on (WARDEN_REPORT). */
	env = secure_getenv("WARDEN_TABLE");
	own = name == NULL || (env != NULL && strcmp(name, env) == 0);
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
	atomic_store_explicit(&t->look_at, wt_now() + WT_RETRY_NS,
	    memory_order_relaxed);
	atomic_store_explicit(&t->next_try, atomic_load_explicit(&t->look_at,
	    memory_order_relaxed), memory_order_relaxed);
	if (own)
		wt_report_open(t, secure_getenv("WARDEN_REPORT"));
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
	wt_report_close(t);
	munmap(t->region, TABLE_SIZE);
	free(t);
}

/* ---- test hooks (libwarden-test.h) ---- */

void
warden_test_set_retry(struct warden_table *t, uint64_t ns)
{
	atomic_store_explicit(&t->retry_ns, ns, memory_order_relaxed);
	/* As if an attempt had just been made: 0 makes the next one due. */
	atomic_store_explicit(&t->look_at, wt_now() + ns, memory_order_relaxed);
	atomic_store_explicit(&t->next_try, wt_now() + ns, memory_order_relaxed);
}

uint64_t
warden_test_slow(struct warden_table *t)
{
	return atomic_load_explicit(&t->slow, memory_order_relaxed);
}

bool
warden_test_attached(struct warden_table *t)
{
	return t != NULL &&
	    atomic_load_explicit(&t->attached, memory_order_acquire);
}

