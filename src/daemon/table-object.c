/*
 * table-object.c: the shared-memory objects behind the flag table (the
 * state they show is table.c's).
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
 */
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "murmur3.h"
#include "table-private.h"
#include "util.h"

/*
 * The start time of process PID (field 22 of /proc/PID/stat, clock ticks
 * after boot) if it is running: 0 when it is gone, a zombie, or unknown.
 * With the pid it names one process for the life of the system, where a
 * pid alone may have been reused.
 */
uint64_t
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
void
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
int
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
