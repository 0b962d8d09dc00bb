/*
 * table.c: the writer side of the shared flag table (see table.h).
 *
 * Only the daemon writes the table, from its own state: every publish
 * builds the new copy in private memory first (the state), then writes it
 * into the object twice under the latch sequence. Nothing is ever read
 * back from the object as the truth; table_check() only compares it with
 * the state, and table_republish() makes a fresh object from the state.
 *
 * A new object is always built complete under a temporary name and then
 * renamed over the real one, so a reader opening the name finds either the
 * old object or the whole new one, never a half-made table. The old one is
 * then marked retired, which its readers check on every read: they move to
 * the new object by themselves. POSIX offers no rename for shared-memory
 * objects; on Linux they are the files of the tmpfs at /dev/shm, where
 * glibc's shm_open(3) puts them, and rename(2) is atomic there.
 *
 * Every page of a new object is allocated (fallocate(2)) before it is
 * touched: ftruncate(2) on tmpfs allocates nothing, and with /dev/shm full
 * the first page written would raise SIGBUS. A full /dev/shm, or a name
 * we may not replace, leaves the table without an object ("unavailable")
 * and the state intact: table_republish() makes it once it can.
 *
 * Known limit: the object's owner could truncate it (ftruncate(2)) behind
 * our back; touching the missing pages would then raise SIGBUS. Every
 * write and comparison checks the size first (fstat), which leaves only a
 * same-uid process racing us on purpose.
 */
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "murmur3.h"
#include "table.h"
#include "util.h"

#define TABLE_SHM_DIR	"/dev/shm"
/*
 * Enough of the object to set its retired word: even a truncated table
 * can still send its readers to the fresh one.
 */
#define TABLE_RETIRED_END \
	(offsetof(struct table_header, retired) + sizeof(uint32_t))

struct table {
	char			 name[TABLE_SHM_NAME_SIZE];	/* NUL-padded */
	char			 path[sizeof(TABLE_SHM_DIR) + TABLE_SHM_NAME_SIZE];
	mode_t			 mode;
	uid_t			 uid;
	uint64_t		 start;		/* our start time (ticks), or 0 */
	int			 fd;		/* O_RDWR, the live object, -1: none */
	int			 rofd;		/* O_RDONLY, for workers */
	struct table_layout	*map;		/* NULL: no object (unavailable) */
	long			 replaced_uid;	/* another uid's object replaced, -1 */
	dev_t			 dev;
	ino_t			 ino;
	uint64_t		 seq;		/* the last sequence written */
	struct table_copy	 image;		/* the state: both copies */
	struct table_copy	 next;		/* a publish is built here */
};

/* A freshly made object, not yet the table's. */
struct table_obj {
	int			 fd;
	int			 rofd;
	struct table_layout	*map;
	dev_t			 dev;
	ino_t			 ino;
};

static void	table_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
table_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * Build a copy: records in the order given, the index, the check words.
 * Nothing of the live table is touched: a refused publish changes nothing.
 */
static int
table_build(struct table_copy *c, uint64_t generation, int stage,
    const struct table_flag *flags, size_t n)
{
	struct table_record	*r, *o;
	size_t			 i, len;
	uint32_t		 pos;

	if (n > TABLE_CAPACITY) {
		errno = ENOSPC;
		return -1;
	}
	if (n > 0 && flags == NULL) {
		errno = EINVAL;
		return -1;
	}
	memset(c, 0, sizeof(*c));
	c->generation = generation;
	c->stage = stage;
	c->nflags = (uint32_t)n;
	for (i = 0; i < n; i++) {
		if (flags[i].name == NULL || flags[i].value > TABLE_VALUE_MAX)
			goto invalid;
		len = strnlen(flags[i].name, TABLE_NAME_SIZE);
		if (len == 0 || len > TABLE_NAME_MAX)
			goto invalid;
		r = &c->rec[i];
		/* The rest of the name stays zero: NUL-padded. */
		memcpy(r->name, flags[i].name, len);
		r->value = flags[i].value;
		r->hash = table_name_hash(r->name, len);
		/* Linear probing; the same name twice is an error. */
		pos = r->hash & (TABLE_INDEX_SLOTS - 1);
		while (c->index[pos] != 0) {
			o = &c->rec[c->index[pos] - 1];
			if (o->hash == r->hash && strcmp(o->name, r->name) == 0)
				goto invalid;
			pos = (pos + 1) & (TABLE_INDEX_SLOTS - 1);
		}
		c->index[pos] = (uint16_t)(i + 1);
		r->check = table_record_check(r, generation);
	}
	c->check = table_copy_check(c);
	return 0;

invalid:
	errno = EINVAL;
	return -1;
}

/*
 * The latch write (the kernel's raw_write_seqcount_latch, twice). Readers
 * read copy[seq & 1] and keep it only if seq did not change meanwhile.
 *
 * The copies are plain memory written with memcpy while readers may be
 * reading the other copy; a reader that overlaps a write to its own copy
 * sees seq move and throws what it read away. The orders below are what
 * makes "seq did not move" imply "the copy was not being written".
 */
static void
table_latch(struct table_layout *m, uint64_t seq, const struct table_copy *img,
    size_t first)
{
	/*
	 * Release: copy 1, written last time, is complete before any reader
	 * is sent to it by the odd sequence.
	 */
	atomic_store_explicit(&m->hdr.seq, seq + 1, memory_order_release);
	/*
	 * Release fence: the odd sequence is visible before the first byte
	 * of copy 0 changes (store-store order; a reader that saw one of the
	 * new bytes also sees the sequence move at its re-check).
	 */
	atomic_thread_fence(memory_order_release);
	memcpy(&m->copy[0], img, first);
	if (first < sizeof(*img))
		return;		/* table_test_publish_partial: "killed" here */
	/* Release: copy 0 is complete before readers are sent back to it. */
	atomic_store_explicit(&m->hdr.seq, seq + 2, memory_order_release);
	/* And the even sequence is visible before copy 1 changes. */
	atomic_thread_fence(memory_order_release);
	memcpy(&m->copy[1], img, sizeof(*img));
}

/* Can the live mapping be touched without SIGBUS? */
static bool
table_live_ok(int fd, size_t need)
{
	struct stat	st;

	if (fd == -1 || fstat(fd, &st) == -1)
		return false;
	return st.st_size >= 0 && (size_t)st.st_size >= need;
}

/*
 * The start time of process PID (field 22 of /proc/PID/stat, clock ticks
 * after boot) if it is running: 0 when it is gone, a zombie, or unknown.
 * With the pid it names one process for the life of the system, where a
 * pid alone may have been reused.
 */
static uint64_t
table_proc_start(pid_t pid)
{
	char		 path[64], buf[1024], *p, *end;
	unsigned long long start;
	ssize_t		 n;
	int		 fd, field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	do {
		n = read(fd, buf, sizeof(buf) - 1);
	} while (n == -1 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The name (field 2) may hold anything: fields resume after its ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return 0;
	p += 2;
	if (*p == 'Z' || *p == 'X')
		return 0;
	for (field = 3; field < 22; field++) {
		if ((p = strchr(p, ' ')) == NULL)
			return 0;
		p++;
	}
	errno = 0;
	start = strtoull(p, &end, 10);
	if (errno != 0 || end == p)
		return 0;
	return start;
}

/*
 * Is the object under the name the table of another warden that still
 * runs, of any uid? Two daemons would replace each other's table for ever:
 * that one is refused (EBUSY). The header is read with pread(2), not
 * mapped, so that a short object cannot fault; an object we cannot read
 * cannot be shown to be in use.
 */
static int
table_in_use(struct table *t, char *err, size_t errlen)
{
	struct table_header	h;
	struct stat		st;
	ssize_t			n;
	pid_t			pid;
	int			fd;

	if ((fd = shm_open(t->name, O_RDONLY | O_NOFOLLOW, 0)) == -1)
		return 0;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (t->map != NULL && st.st_dev == t->dev && st.st_ino == t->ino)) {
		close(fd);
		return 0;
	}
	do {
		n = pread(fd, &h, sizeof(h), 0);
	} while (n == -1 && errno == EINTR);
	close(fd);
	if (n != (ssize_t)sizeof(h) || h.magic != TABLE_MAGIC)
		return 0;
	pid = (pid_t)h.writer_pid;
	if (pid > 0 && pid != getpid() && h.writer_start != 0 &&
	    table_proc_start(pid) == h.writer_start) {
		table_err(err, errlen, "table %s is in use by another warden "
		    "(pid %ld, uid %u): choose another name", t->name,
		    (long)pid, (unsigned)st.st_uid);
		errno = EBUSY;
		return -1;
	}
	return 0;
}

/*
 * A stale table of ours (an earlier warden's) is about to be replaced: an
 * O_RDWR descriptor of it, if it is still the object DEV/INO, to mark it
 * retired once the fresh one is in its place. -1 if there is none.
 */
static int
table_open_stale(struct table *t, dev_t dev, ino_t ino)
{
	struct stat	st;
	int		fd;

	if ((fd = shm_open(t->name, O_RDWR | O_NOFOLLOW | O_CLOEXEC, 0)) == -1)
		return -1;	/* gone, or not writable: nothing to retire */
	if (fstat(fd, &st) == -1 || st.st_uid != t->uid ||
	    st.st_dev != dev || st.st_ino != ino ||
	    !S_ISREG(st.st_mode) || (size_t)st.st_size < TABLE_RETIRED_END) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Mark the stale table retired: its readers move to the fresh one. */
static void
table_retire_stale(int fd)
{
	struct table_header	*h;
	struct stat		 st;
	void			*p;

	if (fstat(fd, &st) == -1 || (size_t)st.st_size < TABLE_RETIRED_END)
		return;
	p = mmap(NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return;
	h = p;
	if (h->magic == TABLE_MAGIC)
		atomic_store_explicit(&h->retired, 1, memory_order_release);
	munmap(p, sizeof(*h));
}

/* Mark a mapping we own retired, then let it go. */
static void
table_obj_release(struct table_obj *o, bool retire)
{
	if (o->map != NULL) {
		if (retire && table_live_ok(o->fd, TABLE_RETIRED_END))
			atomic_store_explicit(&o->map->hdr.retired, 1,
			    memory_order_release);
		munmap(o->map, TABLE_SIZE);
	}
	if (o->fd != -1)
		close(o->fd);
	if (o->rofd != -1)
		close(o->rofd);
	o->map = NULL;
	o->fd = o->rofd = -1;
}

/*
 * A read-only descriptor of the object: reopening /proc/self/fd gives a
 * new open file description, O_RDONLY, even for an unlinked object; the
 * name is the fallback where /proc is not mounted.
 */
static int
table_open_readonly(int fd, const char *name, dev_t dev, ino_t ino)
{
	struct stat	st;
	char		path[64];
	int		rofd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((rofd = open(path, O_RDONLY | O_CLOEXEC)) != -1)
		return rofd;
	if ((rofd = shm_open(name, O_RDONLY, 0)) == -1)
		return -1;
	if (fstat(rofd, &st) == -1 || st.st_dev != dev || st.st_ino != ino) {
		close(rofd);
		return -1;
	}
	return rofd;
}

/* Write a complete table into a fresh mapping: header, copies, magic last. */
static void
table_fill(struct table *t, struct table_layout *m)
{
	struct table_header	*h = &m->hdr;

	memset(h, 0, sizeof(*h));
	h->version = TABLE_VERSION;
	h->header_size = sizeof(struct table_header);
	h->record_size = sizeof(struct table_record);
	h->copy_size = sizeof(struct table_copy);
	h->capacity = TABLE_CAPACITY;
	h->writer_uid = (uint32_t)t->uid;
	h->writer_pid = (uint32_t)getpid();
	h->writer_start = t->start;
	h->size = TABLE_SIZE;
	memcpy(h->name, t->name, sizeof(h->name));
	atomic_store_explicit(&h->retired, 0, memory_order_relaxed);
	/* The state's sequence is even: readers take copy 0. */
	atomic_store_explicit(&h->seq, t->seq, memory_order_relaxed);
	memcpy(&m->copy[0], &t->image, sizeof(t->image));
	memcpy(&m->copy[1], &t->image, sizeof(t->image));
	/* Everything above is in place before the magic says "a table". */
	atomic_thread_fence(memory_order_release);
	h->magic = TABLE_MAGIC;
}

/* Unlink our own temporary objects for this table, left by a killed warden. */
static void
table_clear_temps(const struct table *t)
{
	char		 prefix[32], path[TABLE_SHM_NAME_SIZE + 16];
	struct dirent	*de;
	struct stat	 st;
	DIR		*d;

	snprintf(prefix, sizeof(prefix), ".warden-%08x-",
	    murmur3_x86_32(t->name, strlen(t->name), 0));
	if ((d = opendir(TABLE_SHM_DIR)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", TABLE_SHM_DIR,
		    de->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_uid == t->uid)
			(void)unlink(path);
	}
	closedir(d);
}

/*
 * Give the object SIZE bytes of real memory. ftruncate(2) would only set
 * the size: on tmpfs the pages are allocated when first touched, and a
 * full /dev/shm then raises SIGBUS instead of returning ENOSPC. Where the
 * filesystem has no fallocate(2), writing zeros allocates as well.
 */
static int
table_allocate(int fd, off_t size)
{
	static const char	 zero[4096];
	off_t			 off;
	ssize_t			 n;
	size_t			 len;
	int			 rc;

	do {
		rc = posix_fallocate(fd, 0, size);
	} while (rc == EINTR);
	if (rc == 0)
		return 0;
	if (rc != EOPNOTSUPP && rc != ENOSYS && rc != EINVAL) {
		errno = rc;
		return -1;
	}
	for (off = 0; off < size; off += n) {
		len = (size_t)(size - off) < sizeof(zero) ?
		    (size_t)(size - off) : sizeof(zero);
		n = pwrite(fd, zero, len, off);
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return -1;
		}
	}
	return 0;
}

/*
 * Make a complete object from the state and rename it over the name.
 * Whatever is under the name is replaced unless it is the table of
 * another running warden. One of ours that is not our live object is a
 * stale table of an earlier warden: it is marked retired as it is
 * replaced. Another uid's object is replaced where we may (root; /dev/shm
 * is sticky), noted in replaced_uid; else the name is refused.
 */
static int
table_make(struct table *t, struct table_obj *o, char *err, size_t errlen)
{
	char		tmp[48], tmppath[sizeof(TABLE_SHM_DIR) + sizeof(tmp)];
	struct stat	st, old;
	uint64_t	rnd;
	void		*p;
	bool		exists = false;
	int		fd = -1, stale = -1, tries, saved;

	o->fd = o->rofd = -1;
	o->map = NULL;
	if (lstat(t->path, &old) == 0) {
		if (!S_ISREG(old.st_mode)) {
			table_err(err, errlen, "%s exists and is not a "
			    "shared-memory object", t->path);
			errno = EEXIST;
			return -1;
		}
		if (table_in_use(t, err, errlen) == -1)
			return -1;
		exists = true;
	} else if (errno != ENOENT) {
		saved = errno;
		table_err(err, errlen, "%s: %s", t->path, strerror(saved));
		errno = saved;
		return -1;
	}

	/*
	 * A temporary name nobody can guess: a predictable one could be
	 * pre-created by another user to keep warden from ever publishing.
	 * Our own leftovers (a warden killed mid-create) are cleared first.
	 */
	table_clear_temps(t);
	for (tries = 0; tries < 8; tries++) {
		if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			rnd = ((uint64_t)getpid() << 32) ^
			    (uint64_t)time(NULL) ^ (uint64_t)tries;
		snprintf(tmp, sizeof(tmp), "/.warden-%08x-%016llx.new",
		    murmur3_x86_32(t->name, strlen(t->name), 0),
		    (unsigned long long)rnd);
		snprintf(tmppath, sizeof(tmppath), "%s%s", TABLE_SHM_DIR, tmp);
		fd = shm_open(tmp, O_RDWR | O_CREAT | O_EXCL, t->mode);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	if (fd == -1) {
		saved = errno;
		table_err(err, errlen, "cannot create table %s in %s: %s",
		    t->name, TABLE_SHM_DIR, strerror(saved));
		errno = saved;
		return -1;
	}
	/* The umask must not decide who may read the flags. */
	if (fchmod(fd, t->mode) == -1 || table_allocate(fd, TABLE_SIZE) == -1 ||
	    fstat(fd, &st) == -1) {
		saved = errno;
		/* No temporary name: the message is the same at every try. */
		table_err(err, errlen, "cannot allocate table %s (%zu bytes) "
		    "in %s: %s", t->name, TABLE_SIZE, TABLE_SHM_DIR,
		    strerror(saved));
		goto fail;
	}
	if (st.st_size != (off_t)TABLE_SIZE) {
		saved = EIO;
		table_err(err, errlen, "table %s: size %lld after allocation",
		    t->name, (long long)st.st_size);
		goto fail;
	}
	p = mmap(NULL, TABLE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		saved = errno;
		table_err(err, errlen, "cannot map table %s: %s", t->name,
		    strerror(saved));
		goto fail;
	}
	o->map = p;
	o->fd = fd;
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	table_fill(t, o->map);
	if (exists && old.st_uid == t->uid &&
	    (t->map == NULL || old.st_dev != t->dev || old.st_ino != t->ino))
		stale = table_open_stale(t, old.st_dev, old.st_ino);
	if (rename(tmppath, t->path) == -1) {
		saved = errno;
		if (stale != -1)
			close(stale);
		if (exists && old.st_uid != t->uid)
			table_err(err, errlen, "table %s exists and belongs to "
			    "uid %u, not %u, and cannot be replaced (%s): "
			    "remove it or choose another name", t->name,
			    (unsigned)old.st_uid, (unsigned)t->uid,
			    strerror(saved));
		else
			table_err(err, errlen, "rename %s to %s: %s", tmppath,
			    t->path, strerror(saved));
		munmap(o->map, TABLE_SIZE);
		o->map = NULL;
		o->fd = -1;
		goto fail;
	}
	if (stale != -1) {
		table_retire_stale(stale);
		close(stale);
	}
	t->replaced_uid = exists && old.st_uid != t->uid ?
	    (long)old.st_uid : -1;
	o->rofd = table_open_readonly(fd, t->name, o->dev, o->ino);
	return 0;

fail:
	close(fd);
	shm_unlink(tmp);
	errno = saved;
	return -1;
}

static void
table_install(struct table *t, const struct table_obj *o)
{
	t->fd = o->fd;
	t->rofd = o->rofd;
	t->map = o->map;
	t->dev = o->dev;
	t->ino = o->ino;
}

struct table *
table_new(const char *name, mode_t mode, char *err, size_t errlen)
{
	struct table		*t;
	size_t			 len;

	if (mode == 0)
		mode = TABLE_MODE;
	len = name == NULL ? 0 : strnlen(name, TABLE_SHM_NAME_SIZE);
	if (len < 2 || len >= TABLE_SHM_NAME_SIZE || name[0] != '/' ||
	    strchr(name + 1, '/') != NULL) {
		table_err(err, errlen, "table name must be \"/NAME\", 1 to %d "
		    "bytes without another '/'", TABLE_SHM_NAME_SIZE - 2);
		errno = EINVAL;
		return NULL;
	}
	if ((mode & ~(mode_t)0777) != 0 || (mode & (S_IWGRP | S_IWOTH)) != 0 ||
	    (mode & S_IRUSR) == 0 || (mode & S_IWUSR) == 0) {
		table_err(err, errlen, "table mode %04o: the owner must read and "
		    "write, nobody else may write", (unsigned)mode);
		errno = EINVAL;
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	memcpy(t->name, name, len);
	snprintf(t->path, sizeof(t->path), "%s%s", TABLE_SHM_DIR, name);
	t->mode = mode;
	t->uid = geteuid();
	t->start = table_proc_start(getpid());
	t->fd = t->rofd = -1;
	t->replaced_uid = -1;
	/* Until the first publish: no flags, stage unknown. */
	if (table_build(&t->image, 0, -1, NULL, 0) == -1) {
		free(t);
		return NULL;
	}
	return t;
}

/*
 * A reexec: the object the last image wrote (this process, by pid and start
 * time) becomes this table's, readers and all. -1 when it is not one this
 * build can write (another layout, say): the caller makes a fresh one.
 */
int
table_adopt(struct table *t, int fd, int rofd)
{
	struct table_layout	*m;
	struct stat		 st;
	uint64_t		 seq;

	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size != (off_t)TABLE_SIZE || st.st_uid != t->uid)
		return -1;
	m = mmap(NULL, TABLE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return -1;
	seq = atomic_load_explicit(&m->hdr.seq, memory_order_acquire);
	if (m->hdr.magic != TABLE_MAGIC || m->hdr.version != TABLE_VERSION ||
	    m->hdr.header_size != sizeof(struct table_header) ||
	    m->hdr.copy_size != sizeof(struct table_copy) ||
	    m->hdr.size != TABLE_SIZE || m->hdr.writer_uid != (uint32_t)t->uid ||
	    m->hdr.writer_pid != (uint32_t)getpid() ||
	    memcmp(m->hdr.name, t->name, sizeof(t->name)) != 0 ||
	    atomic_load_explicit(&m->hdr.retired, memory_order_relaxed) != 0) {
		(void)munmap(m, TABLE_SIZE);
		return -1;
	}
	if (util_set_cloexec(fd, true) == -1 ||
	    (rofd != -1 && util_set_cloexec(rofd, true) == -1)) {
		(void)munmap(m, TABLE_SIZE);
		return -1;
	}
	t->fd = fd;
	t->rofd = rofd;
	t->map = m;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	/* Even: a writer cut short (odd) is counted past, as a republish would. */
	t->seq = (seq + 1) & ~(uint64_t)1;
	/* Generations go on from the object's, as readers have seen them. */
	t->image.generation = m->copy[0].generation;
	return 0;
}

int
table_handover_fds(const struct table *t, int *fd, int *rofd)
{
	*fd = t->fd;
	*rofd = t->rofd;
	return t->map != NULL ? 0 : -1;
}

struct table *
table_create(const char *name, mode_t mode, char *err, size_t errlen)
{
	struct table	*t;
	int		 saved;

	if ((t = table_new(name, mode, err, errlen)) == NULL)
		return NULL;
	if (table_republish(t, err, errlen) == -1) {
		saved = errno;
		free(t);
		errno = saved;
		return NULL;
	}
	return t;
}

bool
table_available(const struct table *t)
{
	return t->map != NULL;
}

long
table_replaced_uid(struct table *t)
{
	long	uid = t->replaced_uid;

	t->replaced_uid = -1;
	return uid;
}

int
table_publish(struct table *t, int stage, const struct table_flag *flags,
    size_t n)
{
	if (stage < 0) {
		errno = EINVAL;
		return -1;
	}
	if (table_build(&t->next, t->image.generation + 1, stage, flags, n) == -1)
		return -1;
	/* The state changes first: it is the truth, the object a view of it. */
	memcpy(&t->image, &t->next, sizeof(t->image));
	if (table_live_ok(t->fd, TABLE_SIZE)) {
		table_latch(t->map, t->seq, &t->image, sizeof(t->image));
		t->seq += 2;
	}
	return 0;
}

int
table_test_publish_partial(struct table *t, int stage,
    const struct table_flag *flags, size_t n, size_t nbytes)
{
	if (table_build(&t->next, t->image.generation + 1, stage, flags, n) == -1)
		return -1;
	if (nbytes >= sizeof(t->next))
		nbytes = sizeof(t->next) - 1;
	table_latch(t->map, t->seq, &t->next, nbytes);
	return 0;
}

int
table_fd_readonly(struct table *t)
{
	return t->rofd;
}

int
table_check(struct table *t)
{
	const struct table_header	*h;
	struct stat			 st, sn;
	int				 r = TABLE_OK;

	if (t->map == NULL)
		return TABLE_DELETED;
	h = &t->map->hdr;
	if (fstat(t->fd, &st) == -1)
		return TABLE_DELETED | TABLE_DAMAGED;
	/* Unlinked, or the name now leads to another object. */
	if (st.st_nlink == 0)
		r |= TABLE_DELETED;
	else if (lstat(t->path, &sn) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			r |= TABLE_DELETED;
	} else if (sn.st_dev != st.st_dev || sn.st_ino != st.st_ino)
		r |= TABLE_DELETED;

	/* Readers would refuse it, or reading it would fault. */
	if (st.st_size != (off_t)TABLE_SIZE || st.st_uid != t->uid ||
	    (st.st_mode & 07777) != t->mode)
		return r | TABLE_DAMAGED;
	if (h->magic != TABLE_MAGIC || h->version != TABLE_VERSION ||
	    h->header_size != sizeof(struct table_header) ||
	    h->record_size != sizeof(struct table_record) ||
	    h->copy_size != sizeof(struct table_copy) ||
	    h->capacity != TABLE_CAPACITY || h->writer_uid != (uint32_t)t->uid ||
	    h->size != TABLE_SIZE ||
	    memcmp(h->name, t->name, sizeof(h->name)) != 0 ||
	    atomic_load_explicit(&h->retired, memory_order_relaxed) != 0 ||
	    atomic_load_explicit(&h->seq, memory_order_relaxed) != t->seq)
		return r | TABLE_DAMAGED;
	/* Both copies hold exactly the state, check words and all. */
	if (memcmp(&t->map->copy[0], &t->image, sizeof(t->image)) != 0 ||
	    memcmp(&t->map->copy[1], &t->image, sizeof(t->image)) != 0)
		r |= TABLE_DAMAGED;
	return r;
}

int
table_republish(struct table *t, char *err, size_t errlen)
{
	struct table_obj	o, old;

	if (table_make(t, &o, err, errlen) == -1)
		return -1;
	old.fd = t->fd;
	old.rofd = t->rofd;
	old.map = t->map;
	table_install(t, &o);
	/* The fresh object is under the name: send the old one's readers. */
	table_obj_release(&old, true);
	return 0;
}

int
table_corrupt(struct table *t)
{
	struct table_copy	*c;
	size_t			 i, j;

	if (t->map == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (!table_live_ok(t->fd, TABLE_SIZE)) {
		errno = EIO;
		return -1;
	}
	/*
	 * What a stray write would leave: garbage over generation, stage,
	 * nflags and check; values changed and names run past their field.
	 * The sequence is left alone, as a stray writer knows nothing of it.
	 */
	for (i = 0; i < 2; i++) {
		c = &t->map->copy[i];
		memset(c, 0xa5, offsetof(struct table_copy, index));
		for (j = 0; j < TABLE_CAPACITY; j++) {
			c->rec[j].value ^= 0x5a;
			c->rec[j].name[TABLE_NAME_SIZE - 1] = 'X';
		}
	}
	return 0;
}

int
table_delete(struct table *t)
{
	/* Without an object, whatever is under the name is not ours. */
	if (t->map == NULL) {
		errno = ENOENT;
		return -1;
	}
	return shm_unlink(t->name);
}

uint64_t
table_generation(const struct table *t)
{
	return t->image.generation;
}

int
table_stage(const struct table *t)
{
	return t->image.stage;
}

const char *
table_name(const struct table *t)
{
	return t->name;
}

struct table_layout *
table_test_layout(struct table *t)
{
	return t->map;
}

void
table_close(struct table *t)
{
	struct table_obj	o;

	if (t == NULL)
		return;
	o.fd = t->fd;
	o.rofd = t->rofd;
	o.map = t->map;
	/* Not retired, not unlinked: readers keep answering from it. */
	table_obj_release(&o, false);
	free(t);
}
