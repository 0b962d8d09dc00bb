/*
 * journal.c: the flag state on disk, opened, read and judged (see
 * journal.h). Appends and snapshots are in journal-write.c, the repair's
 * salvage in journal-salvage.c; what the three share, journal-private.h.
 *
 * Opening reads both files whole and splits the journal into lines
 * (struct journal_line) before judging anything, so that the daemon
 * (journal_open) and the repair (journal_inspect) apply the same rules
 * (journal_check) to the same reading.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "journal-private.h"
#include "util.h"

struct journal_io journal_io = { write, fdatasync, fsync, ftruncate };

int
journal_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* --- CRC-32C ---------------------------------------------------------------------- */

uint32_t
journal_crc32c(const void *buf, size_t len)
{
	static uint32_t		 table[256];
	static bool		 ready;
	const unsigned char	*p = buf;
	uint32_t		 crc, c;
	unsigned		 i, k;

	if (!ready) {
		for (i = 0; i < 256; i++) {
			c = i;
			for (k = 0; k < 8; k++)
				c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
			table[i] = c;
		}
		ready = true;
	}
	crc = 0xffffffffu;
	while (len-- > 0)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc ^ 0xffffffffu;
}

/* --- low-level I/O ---------------------------------------------------------------- */


/* fsync the folder that holds path (path is put back as it was). */
static int
journal_sync_parent(char *path)
{
	char	*slash = strrchr(path, '/');
	int	 fd, rc, saved;

	if (slash == NULL)
		fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else if (slash == path)
		fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else {
		*slash = '\0';
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		*slash = '/';
	}
	if (fd == -1)
		return -1;
	rc = journal_io.fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/*
 * mkdir -p with mode 0750 for every folder it makes. Each new folder is
 * synced into its parent: a power cut must not take away the folder that
 * holds an acknowledged journal.
 */
static int
journal_mkdirs(const char *dir)
{
	char	*p, *s, c;
	int	 rc = 0;

	if (*dir == '\0') {
		errno = ENOENT;
		return -1;
	}
	p = xstrdup(dir);
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		if (s[-1] != '/') {
			c = *s;
			*s = '\0';
			if (mkdir(p, 0750) == 0) {
				if (journal_sync_parent(p) == -1) {
					rc = -1;
					break;
				}
			} else if (errno != EEXIST) {
				rc = -1;
				break;
			}
			*s = c;
		}
		if (*s == '\0')
			break;
	}
	free(p);
	return rc;
}

/* --- opening ---------------------------------------------------------------------- */

/*
 * Read state.json. A snapshot that cannot be used is no I/O error: it is
 * kept as st->snap_err, for journal_open() to refuse and the repair to report.
 */
static int
journal_load_snapshot(struct journal *st, char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*doc, *v;
	json_int_t	 ver;
	char		*buf;
	size_t		 len;
	int		 fd;

	fd = openat(st->dirfd, JOURNAL_SNAPSHOT, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		return journal_err(err, errlen, "%s: %s", st->snapshot_path,
		    strerror(errno));
	}
	st->snap_file = true;
	if (util_read_fd(fd, SIZE_MAX / 4, &buf, &len) == -1) {
		journal_err(err, errlen, "%s: %s", st->snapshot_path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	doc = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (doc == NULL) {
		xasprintf(&st->snap_err, "%s:%d:%d: corrupt snapshot: %s",
		    st->snapshot_path, jerr.line, jerr.column, jerr.text);
		return 0;
	}
	v = json_object_get(doc, "version");	/* NULL when no object */
	ver = json_is_integer(v) ? json_integer_value(v) : JOURNAL_VERSION;
	if (ver != JOURNAL_VERSION) {
		/* No damage: a newer warden wrote it and knows what it holds. */
		xasprintf(&st->snap_err, "%s: snapshot of version %"
		    JSON_INTEGER_FORMAT ", %s than this warden's (%d)",
		    st->snapshot_path, ver, ver > JOURNAL_VERSION ? "newer" :
		    "other", JOURNAL_VERSION);
	} else if (!json_is_object(doc) || !json_is_integer(v))
		xasprintf(&st->snap_err, "%s: corrupt snapshot: expected "
		    "\"version\": %d", st->snapshot_path, JOURNAL_VERSION);
	else if (!json_is_integer(v = json_object_get(doc, "seq")) ||
	    json_integer_value(v) < 0)
		xasprintf(&st->snap_err, "%s: corrupt snapshot: expected "
		    "\"seq\": an integer >= 0", st->snapshot_path);
	else if (!json_is_object(json_object_get(doc, "state")))
		xasprintf(&st->snap_err, "%s: corrupt snapshot: expected "
		    "\"state\": an object", st->snapshot_path);
	else {
		st->snap_seq = (uint64_t)json_integer_value(v);
		st->snap = json_incref(json_object_get(doc, "state"));
	}
	json_decref(doc);
	return 0;
}

/*
 * One journal line (without its newline) into l: the record when it
 * verifies, or why not. A line that does not verify is what a torn write
 * can leave; one that does but is of another version is not.
 */
static void
journal_parse_line(struct journal_line *l, const char *line, size_t len)
{
	json_t		*rec, *v;
	uint32_t	 crc = 0;
	size_t		 i;
	char		 c;

	l->torn = true;
	if (len < 10 || line[8] != ' ') {
		l->why = "not a record";
		return;
	}
	for (i = 0; i < 8; i++) {
		c = line[i];
		if (c >= '0' && c <= '9')
			crc = crc << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			crc = crc << 4 | (uint32_t)(c - 'a' + 10);
		else {
			l->why = "not a record";
			return;
		}
	}
	if (journal_crc32c(line + 9, len - 9) != crc) {
		l->why = "bad checksum";
		return;
	}
	if ((rec = json_loadb(line + 9, len - 9, 0, NULL)) == NULL) {
		l->why = "bad JSON";
		return;
	}
	v = json_object_get(rec, "seq");
	if (!json_is_object(rec) || !json_is_integer(v) ||
	    json_integer_value(v) < 1) {
		json_decref(rec);
		l->why = "no seq";
		return;
	}
	l->torn = false;
	l->rec = rec;
	l->seq = (uint64_t)json_integer_value(v);
	v = json_object_get(rec, "v");
	if (!json_is_integer(v) ||
	    json_integer_value(v) != JOURNAL_RECORD_VERSION)
		l->why = "a record of a version this warden does not know";
}

/* Split the journal's bytes into lines and read each. */
static void
journal_split(struct journal *st)
{
	struct journal_line	*l;
	const char		*buf = st->jbuf, *nl;
	size_t			 len = st->jbuflen, off = 0, cap = 0;

	while (off < len) {
		if (st->nlines == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			st->lines = xreallocarray(st->lines, cap,
			    sizeof(*st->lines));
		}
		l = &st->lines[st->nlines];
		memset(l, 0, sizeof(*l));
		l->lineno = ++st->nlines;
		l->off = off;
		l->text = buf + off;
		if ((nl = memchr(buf + off, '\n', len - off)) == NULL) {
			l->len = len - off;
			l->why = "no newline";
			l->torn = true;
		} else {
			l->len = (size_t)(nl - (buf + off)) + 1;
			journal_parse_line(l, buf + off, l->len - 1);
		}
		off += l->len;
	}
}

/* "line 3, record 3 (byte 215)", or without the record when unknown. */
static void
journal_where(const struct journal_line *l, char *buf, size_t len)
{
	if (l->rec != NULL)
		snprintf(buf, len, "line %zu, record %" PRIu64 " (byte %zu)",
		    l->lineno, l->seq, l->off);
	else
		snprintf(buf, len, "line %zu (byte %zu)", l->lineno, l->off);
}

static void
journal_version_why(const struct journal *st, const struct journal_line *l,
    const char *at, char *why, size_t whylen)
{
	json_t	*v = json_object_get(l->rec, "v");

	if (json_is_integer(v))
		snprintf(why, whylen, "%s: %s: record version %"
		    JSON_INTEGER_FORMAT ", which this warden does not know "
		    "(it knows %d)", st->journal_path, at,
		    json_integer_value(v), JOURNAL_RECORD_VERSION);
	else
		snprintf(why, whylen, "%s: %s: a record without a version "
		    "(\"v\")", st->journal_path, at);
}

size_t
journal_check(const struct journal *st, uint64_t base, char *why, size_t whylen)
{
	const struct journal_line	*l;
	uint64_t		 last = 0;
	size_t			 i;
	char			 at[96];

	for (i = 0; i < st->nlines; i++) {
		l = &st->lines[i];
		journal_where(l, at, sizeof(at));
		if (l->torn && i + 1 == st->nlines) {
			snprintf(why, whylen, "%s: %s: torn last line (%s)",
			    st->journal_path, at, l->why);
			return i;
		}
		if (l->torn) {
			snprintf(why, whylen, "%s: %s: %s, and %zu more "
			    "line(s) after it: the journal is damaged, not "
			    "torn", st->journal_path, at, l->why,
			    st->nlines - i - 1);
			return i;
		}
		if (l->why != NULL) {
			journal_version_why(st, l, at, why, whylen);
			return i;
		}
		if (last == 0 && l->seq > base + 1) {
			if (base == 0)
				snprintf(why, whylen, "%s: %s: the journal "
				    "starts at record %" PRIu64 " with no "
				    "snapshot before it: records missing",
				    st->journal_path, at, l->seq);
			else
				snprintf(why, whylen, "%s: %s: the journal "
				    "starts at record %" PRIu64 " but %s "
				    "covers records up to %" PRIu64 " only: "
				    "records missing", st->journal_path, at,
				    l->seq, st->snapshot_path, base);
			return i;
		}
		if (last != 0 && l->seq != last + 1) {
			snprintf(why, whylen, "%s: %s: follows record %" PRIu64
			    ": records out of sequence", st->journal_path, at,
			    last);
			return i;
		}
		last = l->seq;
	}
	return st->nlines;
}

/* A reexec's folder fd, whose lock the next journal_open() keeps. */
static int	journal_adopted_dirfd = -1;

void
journal_adopt_lock(int dirfd)
{
	journal_adopted_dirfd = dirfd;
}

/*
 * The lock is the open file's: the fd handed over by a reexec holds it,
 * and it is the same folder (or no lock is taken over: a warden that
 * locked another folder in the meantime is not ours to share).
 */
static int
journal_take_adopted(struct journal *st, char *err, size_t errlen)
{
	struct stat	a, b;
	int		fd = journal_adopted_dirfd;

	journal_adopted_dirfd = -1;
	if (fstat(fd, &a) == -1 || fstat(st->dirfd, &b) == -1 ||
	    !S_ISDIR(a.st_mode) || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		(void)close(fd);
		return journal_err(err, errlen, "%s: the folder handed over is "
		    "not this one", st->dir);
	}
	(void)close(st->dirfd);
	st->dirfd = fd;
	if (util_set_cloexec(fd, true) == -1)
		return journal_err(err, errlen, "%s: %s", st->dir, strerror(errno));
	return 0;
}

int
journal_dir_fd(const struct journal *st)
{
	return st->dirfd;
}

/*
 * Lock dir and read both files. create: make what is missing (the daemon);
 * otherwise write nothing (the repair).
 */
static int
journal_load(const char *dir, bool create, struct journal **out, char *err,
    size_t errlen)
{
	struct journal	*st;
	int		 flags = O_CLOEXEC;

	*out = NULL;
	if (create && journal_mkdirs(dir) == -1)
		return journal_err(err, errlen, "%s: %s", dir, strerror(errno));
	st = xcalloc(1, sizeof(*st));
	st->dir = xstrdup(dir);
	xasprintf(&st->journal_path, "%s/%s", dir, JOURNAL_FILE);
	xasprintf(&st->snapshot_path, "%s/%s", dir, JOURNAL_SNAPSHOT);
	st->jfd = -1;
	st->dirfd = -1;
	st->every = JOURNAL_SNAPSHOT_EVERY;
	if ((st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		journal_err(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (create && journal_adopted_dirfd != -1 &&
	    journal_take_adopted(st, err, errlen) == -1)
		goto fail;
	if (flock(st->dirfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			journal_err(err, errlen, "%s: in use by another warden",
			    dir);
		else
			journal_err(err, errlen, "%s: lock: %s", dir,
			    strerror(errno));
		goto fail;
	}
	if (create) {
		/* Leftovers of a snapshot cut short; renamed files are whole. */
		if (unlinkat(st->dirfd, JOURNAL_SNAPSHOT_TMP, 0) == -1 &&
		    errno != ENOENT)
			log_warn("%s/%s: unlink", dir, JOURNAL_SNAPSHOT_TMP);
		if (unlinkat(st->dirfd, JOURNAL_FILE_TMP, 0) == -1 &&
		    errno != ENOENT)
			log_warn("%s/%s: unlink", dir, JOURNAL_FILE_TMP);
	}
	if (journal_load_snapshot(st, err, errlen) == -1)
		goto fail;
	flags |= create ? O_RDWR | O_CREAT | O_APPEND : O_RDONLY;
	st->jfd = openat(st->dirfd, JOURNAL_FILE, flags, 0640);
	if (st->jfd == -1 && (create || errno != ENOENT)) {
		journal_err(err, errlen, "%s: %s", st->journal_path,
		    strerror(errno));
		goto fail;
	}
	if (create && journal_io.fsync(st->dirfd) == -1) {
		journal_err(err, errlen, "%s: fsync: %s", dir, strerror(errno));
		goto fail;
	}
	if (st->jfd != -1 &&
	    util_read_fd(st->jfd, SIZE_MAX / 4, &st->jbuf, &st->jbuflen) == -1) {
		journal_err(err, errlen, "%s: %s", st->journal_path,
		    strerror(errno));
		goto fail;
	}
	journal_split(st);
	*out = st;
	return 0;
fail:
	journal_close(st);
	return -1;
}

int
journal_open(const char *dir, struct journal **out, json_t **snap,
    json_t **records, char *err, size_t errlen)
{
	struct journal		*st;
	struct journal_line	*l;
	json_t			*recs;
	uint64_t		 last = 0;
	size_t			 bad, i;
	char			 why[1024];

	*out = NULL;
	*snap = NULL;
	*records = NULL;
	if (journal_load(dir, true, &st, err, errlen) == -1)
		return -1;
	if (st->snap_err != NULL) {
		journal_err(err, errlen, "%s%s", st->snap_err, JOURNAL_REPAIR_HINT);
		journal_close(st);
		return -1;
	}
	bad = journal_check(st, st->snap_seq, why, sizeof(why));
	if (bad < st->nlines &&
	    (bad + 1 < st->nlines || !st->lines[bad].torn)) {
		journal_err(err, errlen, "%s%s", why, JOURNAL_REPAIR_HINT);
		journal_close(st);
		return -1;
	}
	if (bad < st->nlines) {
		/* Cut by journal_begin(), once the caller took the rest. */
		l = &st->lines[bad];
		st->torn = true;
		st->dropped = l->len;
		st->tail_why = l->why;
	}
	st->jlen = (off_t)(bad < st->nlines ? st->lines[bad].off : st->jbuflen);
	recs = json_array();
	st->first = bad;
	for (i = 0; i < bad; i++) {
		l = &st->lines[i];
		last = l->seq;
		if (l->seq <= st->snap_seq)
			continue;
		if (json_array_size(recs) == 0)
			st->first = i;
		json_array_append(recs, l->rec);
	}
	st->seq = last > st->snap_seq ? last : st->snap_seq;
	st->since = (unsigned)json_array_size(recs);
	/* Records the snapshot has all: the journal starts afresh. */
	st->stale = last != 0 && last <= st->snap_seq;
	*out = st;
	*snap = json_incref(st->snap);
	*records = recs;
	return 0;
}

int
journal_record_error(const struct journal *st, size_t i, const char *what,
    char *err, size_t errlen)
{
	char	at[96];

	if (st->lines == NULL || st->first + i >= st->nlines)
		return journal_err(err, errlen, "%s: record %zu after %s: %s%s",
		    st->journal_path, i + 1, st->snapshot_path, what,
		    JOURNAL_REPAIR_HINT);
	journal_where(&st->lines[st->first + i], at, sizeof(at));
	return journal_err(err, errlen, "%s: %s: %s%s", st->journal_path, at,
	    what, JOURNAL_REPAIR_HINT);
}


/* Let go of what opening read. */
static void
journal_forget(struct journal *st)
{
	size_t	i;

	for (i = 0; i < st->nlines; i++)
		json_decref(st->lines[i].rec);
	free(st->lines);
	st->lines = NULL;
	st->nlines = st->first = 0;
	free(st->jbuf);
	st->jbuf = NULL;
	st->jbuflen = 0;
}

int
journal_begin(struct journal *st, char *err, size_t errlen)
{
	if (journal_settle(st) == -1)
		return journal_err(err, errlen, "%s: %s", st->journal_path,
		    strerror(errno));
	journal_forget(st);
	return 0;
}

int
journal_inspect(const char *dir, struct journal **out, char *err, size_t errlen)
{
	return journal_load(dir, false, out, err, errlen);
}

void
journal_close(struct journal *st)
{
	if (st == NULL)
		return;
	if (st->jfd != -1)
		close(st->jfd);
	if (st->dirfd != -1)
		close(st->dirfd);
	journal_forget(st);
	json_decref(st->snap);
	free(st->snap_err);
	free(st->dir);
	free(st->journal_path);
	free(st->snapshot_path);
	free(st);
}

/* --- accessors -------------------------------------------------------------------- */

uint64_t
journal_seq(const struct journal *st)
{
	return st->seq;
}

const char *
journal_path(const struct journal *st)
{
	return st->journal_path;
}

const char *
journal_snapshot_path(const struct journal *st)
{
	return st->snapshot_path;
}

size_t
journal_dropped_bytes(const struct journal *st)
{
	return st->dropped;
}

void
journal_set_snapshot_every(struct journal *st, unsigned n)
{
	st->every = n;
}

const char *
journal_folder(const struct journal *st)
{
	return st->dir;
}

const struct journal_line *
journal_lines(const struct journal *st, size_t *n)
{
	*n = st->nlines;
	return st->lines;
}

const json_t *
journal_snapshot_state(const struct journal *st)
{
	return st->snap;
}

uint64_t
journal_snapshot_seq(const struct journal *st)
{
	return st->snap_seq;
}

const char *
journal_snapshot_error(const struct journal *st)
{
	return st->snap_err;
}

bool
journal_has_snapshot_file(const struct journal *st)
{
	return st->snap_file;
}
