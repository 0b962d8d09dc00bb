/*
 * table.c: the writer side of the shared flag table (see table.h): the
 * state and its publishing.
 *
 * Only the daemon writes the table, from its own state: every publish
 * builds the new copy in private memory first (the state), then writes it
 * into the object twice under the latch sequence. Nothing is ever read
 * back from the object as the truth; table_check() only compares it with
 * the state, and table_republish() makes a fresh object from the state
 * (table-object.c makes the objects; table-private.h is what both share).
 *
 * Known limit: the object's owner could truncate it (ftruncate(2)) behind
 * our back; touching the missing pages would then raise SIGBUS. Every
 * write and comparison checks the size first (fstat), which leaves only a
 * same-uid process racing us on purpose.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "table-private.h"
#include "util.h"

void
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
bool
table_live_ok(int fd, size_t need)
{
	struct stat	st;

	if (fd == -1 || fstat(fd, &st) == -1)
		return false;
	return st.st_size >= 0 && (size_t)st.st_size >= need;
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
