/*
 * state.c: the flag state on disk: journal and snapshot (see state.h).
 *
 * Every change is on disk before it is acknowledged, so the journal is
 * fdatasync'd on each append; a failed append is cut back off so that the
 * journal never keeps half a line behind a good one.
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
#include "state.h"
#include "util.h"

#define STATE_JOURNAL		"journal"
#define STATE_JOURNAL_TMP	"journal.tmp"
#define STATE_SNAPSHOT		"state.json"
#define STATE_SNAPSHOT_TMP	"state.json.tmp"

struct state_io state_io = { write, fdatasync, fsync, ftruncate };

struct state {
	char		*dir;
	char		*journal_path;
	char		*snapshot_path;
	int		 dirfd;		/* holds the lock */
	int		 jfd;		/* O_APPEND */
	off_t		 jlen;		/* length of the good records */
	bool		 torn;		/* bytes past jlen may be on disk */
	uint64_t	 seq;
	unsigned	 since;		/* records since the last snapshot */
	unsigned	 every;
	size_t		 dropped;
};

static int	state_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
state_err(char *err, size_t errlen, const char *fmt, ...)
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
state_crc32c(const void *buf, size_t len)
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

static int
state_write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = state_io.write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			/* No progress and no error: do not spin. */
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The whole file, NUL-terminated. -1 with errno (ENOENT when missing). */
static int
state_read_fd(int fd, char **out, size_t *outlen)
{
	char	*buf = NULL;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;

	for (;;) {
		if (cap - len < 4096) {
			cap = cap == 0 ? 65536 : cap * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = pread(fd, buf + len, cap - len - 1, (off_t)len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

/* mkdir -p with mode 0750 for every folder it makes. */
static int
state_mkdirs(const char *dir)
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
			if (mkdir(p, 0750) == -1 && errno != EEXIST) {
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

/* Cut the journal back to the good records after a failed append. */
static int
state_cut(struct state *st)
{
	int	rc;

	do
		rc = state_io.ftruncate(st->jfd, st->jlen);
	while (rc == -1 && errno == EINTR);
	if (rc == -1)
		return -1;
	st->torn = false;
	return 0;
}

/*
 * A fresh, empty journal in place of the old one, atomically: the new fd,
 * or -1 with errno.
 */
static int
state_new_journal(struct state *st)
{
	int	fd, saved;

	fd = openat(st->dirfd, STATE_JOURNAL_TMP,
	    O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	if (state_io.fsync(fd) == -1 ||
	    renameat(st->dirfd, STATE_JOURNAL_TMP, st->dirfd,
	    STATE_JOURNAL) == -1) {
		saved = errno;
		close(fd);
		unlinkat(st->dirfd, STATE_JOURNAL_TMP, 0);
		errno = saved;
		return -1;
	}
	/* Renamed: the new journal is in place even if this fails. */
	if (state_io.fsync(st->dirfd) == -1)
		log_warn("%s: fsync", st->dir);
	return fd;
}

/* --- opening ---------------------------------------------------------------------- */

static int
state_load_snapshot(struct state *st, json_t **snap, uint64_t *snap_seq,
    char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*doc, *v;
	char		*buf;
	size_t		 len;
	int		 fd;

	*snap = NULL;
	*snap_seq = 0;
	fd = openat(st->dirfd, STATE_SNAPSHOT, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		return state_err(err, errlen, "%s: %s", st->snapshot_path,
		    strerror(errno));
	}
	if (state_read_fd(fd, &buf, &len) == -1) {
		state_err(err, errlen, "%s: %s", st->snapshot_path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	doc = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (doc == NULL)
		return state_err(err, errlen, "%s:%d:%d: corrupt snapshot: %s",
		    st->snapshot_path, jerr.line, jerr.column, jerr.text);
	if (!json_is_object(doc) ||
	    !json_is_integer(v = json_object_get(doc, "version")) ||
	    json_integer_value(v) != STATE_VERSION) {
		json_decref(doc);
		return state_err(err, errlen, "%s: corrupt snapshot: expected "
		    "\"version\": %d", st->snapshot_path, STATE_VERSION);
	}
	if (!json_is_integer(v = json_object_get(doc, "seq")) ||
	    json_integer_value(v) < 0) {
		json_decref(doc);
		return state_err(err, errlen, "%s: corrupt snapshot: expected "
		    "\"seq\": an integer >= 0", st->snapshot_path);
	}
	*snap_seq = (uint64_t)json_integer_value(v);
	if (!json_is_object(v = json_object_get(doc, "state"))) {
		json_decref(doc);
		return state_err(err, errlen, "%s: corrupt snapshot: expected "
		    "\"state\": an object", st->snapshot_path);
	}
	*snap = json_incref(v);
	json_decref(doc);
	return 0;
}

/*
 * One journal line (without its newline): the record, or NULL with why
 * when it is damaged.
 */
static json_t *
state_parse_line(const char *line, size_t len, const char **why)
{
	json_t		*rec, *seq;
	uint32_t	 crc = 0;
	size_t		 i;
	char		 c;

	if (len < 10 || line[8] != ' ') {
		*why = "not a record";
		return NULL;
	}
	for (i = 0; i < 8; i++) {
		c = line[i];
		if (c >= '0' && c <= '9')
			crc = crc << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			crc = crc << 4 | (uint32_t)(c - 'a' + 10);
		else {
			*why = "not a record";
			return NULL;
		}
	}
	if (state_crc32c(line + 9, len - 9) != crc) {
		*why = "bad checksum";
		return NULL;
	}
	if ((rec = json_loadb(line + 9, len - 9, 0, NULL)) == NULL) {
		*why = "bad JSON";
		return NULL;
	}
	seq = json_object_get(rec, "seq");
	if (!json_is_object(rec) || !json_is_integer(seq) ||
	    json_integer_value(seq) < 1) {
		json_decref(rec);
		*why = "no seq";
		return NULL;
	}
	return rec;
}

/*
 * Read the journal: records after snap_seq into out; cut a damaged tail.
 * *last is the seq of the last good record (0: none).
 */
static int
state_load_journal(struct state *st, uint64_t snap_seq, json_t *out,
    uint64_t *last, char *err, size_t errlen)
{
	json_t		*rec;
	const char	*why = NULL;
	char		*buf, *nl;
	size_t		 len, off = 0;
	uint64_t	 seq;

	*last = 0;
	if (state_read_fd(st->jfd, &buf, &len) == -1)
		return state_err(err, errlen, "%s: %s", st->journal_path,
		    strerror(errno));
	while (off < len) {
		if ((nl = memchr(buf + off, '\n', len - off)) == NULL) {
			why = "no newline";
			break;
		}
		if ((rec = state_parse_line(buf + off, (size_t)(nl - (buf + off)),
		    &why)) == NULL)
			break;
		seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
		/*
		 * Good lines out of sequence are not a torn write: something
		 * is missing, and guessing would lose state.
		 */
		if (*last != 0 && seq != *last + 1) {
			json_decref(rec);
			free(buf);
			return state_err(err, errlen, "%s: byte %zu: record "
			    "%" PRIu64 " follows record %" PRIu64,
			    st->journal_path, off, seq, *last);
		}
		if (*last == 0 && seq > snap_seq + 1) {
			json_decref(rec);
			free(buf);
			return state_err(err, errlen, "%s: starts at record "
			    "%" PRIu64 " but %s covers records up to %" PRIu64
			    " only", st->journal_path, seq,
			    st->snapshot_path, snap_seq);
		}
		*last = seq;
		if (seq > snap_seq)
			json_array_append(out, rec);
		json_decref(rec);
		off = (size_t)(nl - buf) + 1;
	}
	free(buf);
	st->jlen = (off_t)off;
	if (off < len) {
		st->dropped = len - off;
		log_warnx("%s: dropped %zu bytes of a torn or corrupt record "
		    "at byte %zu (%s)", st->journal_path, st->dropped, off, why);
		if (state_cut(st) == -1 || state_io.fdatasync(st->jfd) == -1)
			return state_err(err, errlen, "%s: truncate to %zu "
			    "bytes: %s", st->journal_path, off, strerror(errno));
	}
	return 0;
}

int
state_open(const char *dir, struct state **out, json_t **snap,
    json_t **records, char *err, size_t errlen)
{
	struct state	*st;
	json_t		*recs = NULL;
	uint64_t	 snap_seq, last;
	int		 fd;

	*out = NULL;
	*snap = NULL;
	*records = NULL;
	if (state_mkdirs(dir) == -1)
		return state_err(err, errlen, "%s: %s", dir, strerror(errno));
	st = xcalloc(1, sizeof(*st));
	st->dir = xstrdup(dir);
	xasprintf(&st->journal_path, "%s/%s", dir, STATE_JOURNAL);
	xasprintf(&st->snapshot_path, "%s/%s", dir, STATE_SNAPSHOT);
	st->jfd = -1;
	st->dirfd = -1;
	st->every = STATE_SNAPSHOT_EVERY;
	if ((st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		state_err(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (flock(st->dirfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			state_err(err, errlen, "%s: in use by another warden",
			    dir);
		else
			state_err(err, errlen, "%s: lock: %s", dir,
			    strerror(errno));
		goto fail;
	}
	/* Leftovers of a snapshot cut short: the renamed files are whole. */
	if (unlinkat(st->dirfd, STATE_SNAPSHOT_TMP, 0) == -1 && errno != ENOENT)
		log_warn("%s/%s: unlink", dir, STATE_SNAPSHOT_TMP);
	if (unlinkat(st->dirfd, STATE_JOURNAL_TMP, 0) == -1 && errno != ENOENT)
		log_warn("%s/%s: unlink", dir, STATE_JOURNAL_TMP);

	if (state_load_snapshot(st, snap, &snap_seq, err, errlen) == -1)
		goto fail;
	st->jfd = openat(st->dirfd, STATE_JOURNAL,
	    O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (st->jfd == -1) {
		state_err(err, errlen, "%s: %s", st->journal_path,
		    strerror(errno));
		goto fail;
	}
	if (state_io.fsync(st->dirfd) == -1) {
		state_err(err, errlen, "%s: fsync: %s", dir, strerror(errno));
		goto fail;
	}
	recs = json_array();
	if (state_load_journal(st, snap_seq, recs, &last, err, errlen) == -1)
		goto fail;
	st->seq = last > snap_seq ? last : snap_seq;
	st->since = (unsigned)json_array_size(recs);
	if (last != 0 && last <= snap_seq) {
		/* The snapshot covers the whole journal: start it afresh. */
		if ((fd = state_new_journal(st)) == -1) {
			state_err(err, errlen, "%s: %s", st->journal_path,
			    strerror(errno));
			goto fail;
		}
		close(st->jfd);
		st->jfd = fd;
		st->jlen = 0;
	}
	*out = st;
	*records = recs;
	return 0;
fail:
	json_decref(recs);
	json_decref(*snap);
	*snap = NULL;
	state_close(st);
	return -1;
}

void
state_close(struct state *st)
{
	if (st == NULL)
		return;
	if (st->jfd != -1)
		close(st->jfd);
	if (st->dirfd != -1)
		close(st->dirfd);
	free(st->dir);
	free(st->journal_path);
	free(st->snapshot_path);
	free(st);
}

/* --- writing ---------------------------------------------------------------------- */

int
state_append(struct state *st, json_t *rec)
{
	char	*text, *line;
	size_t	 len;
	int	 saved, n;

	if (!json_is_object(rec)) {
		errno = EINVAL;
		return -1;
	}
	if (st->torn && state_cut(st) == -1)
		return -1;
	json_object_set_new(rec, "seq", json_integer((json_int_t)(st->seq + 1)));
	/* Compact JSON has no raw newline: one record, one line. */
	if ((text = json_dumps(rec, JSON_COMPACT)) == NULL) {
		json_object_del(rec, "seq");
		errno = EINVAL;
		return -1;
	}
	n = xasprintf(&line, "%08x %s\n",
	    (unsigned)state_crc32c(text, strlen(text)), text);
	free(text);
	len = (size_t)n;
	if (state_write_all(st->jfd, line, len) == -1 ||
	    state_io.fdatasync(st->jfd) == -1) {
		saved = errno;
		free(line);
		json_object_del(rec, "seq");
		/*
		 * Part of the line may be on disk: cut it off now, or before
		 * the next append when that fails too.
		 */
		st->torn = true;
		if (state_cut(st) == -1)
			log_warn("%s: truncate to %lld bytes", st->journal_path,
			    (long long)st->jlen);
		errno = saved;
		return -1;
	}
	free(line);
	st->jlen += (off_t)len;
	st->seq++;
	st->since++;
	return 0;
}

bool
state_snapshot_due(const struct state *st)
{
	return st->every != 0 && st->since >= st->every;
}

int
state_snapshot(struct state *st, const json_t *flags_state)
{
	json_t	*doc;
	char	*text;
	int	 fd, saved;

	doc = json_pack("{s:i, s:I, s:O}", "version", STATE_VERSION,
	    "seq", (json_int_t)st->seq, "state", (json_t *)flags_state);
	if (doc == NULL) {
		errno = EINVAL;
		return -1;
	}
	text = json_dumps(doc, JSON_INDENT(2));
	json_decref(doc);
	if (text == NULL) {
		errno = EINVAL;
		return -1;
	}
	fd = openat(st->dirfd, STATE_SNAPSHOT_TMP,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd == -1) {
		saved = errno;
		free(text);
		errno = saved;
		return -1;
	}
	if (state_write_all(fd, text, strlen(text)) == -1 ||
	    state_write_all(fd, "\n", 1) == -1 ||
	    state_io.fsync(fd) == -1) {
		saved = errno;
		close(fd);
		goto fail;
	}
	free(text);
	text = NULL;
	if (close(fd) == -1 ||
	    renameat(st->dirfd, STATE_SNAPSHOT_TMP, st->dirfd,
	    STATE_SNAPSHOT) == -1) {
		saved = errno;
		goto fail;
	}
	/*
	 * The journal is started afresh only once the snapshot is surely
	 * there; until then the old journal still holds every record.
	 */
	if (state_io.fsync(st->dirfd) == -1)
		return -1;
	st->since = 0;
	if ((fd = state_new_journal(st)) == -1) {
		/* Harmless: the snapshot's seq tells which records it covers. */
		log_warn("%s: cannot start afresh", st->journal_path);
		return 0;
	}
	close(st->jfd);
	st->jfd = fd;
	st->jlen = 0;
	st->torn = false;
	return 0;
fail:
	free(text);
	unlinkat(st->dirfd, STATE_SNAPSHOT_TMP, 0);
	errno = saved;
	return -1;
}

/* --- accessors -------------------------------------------------------------------- */

uint64_t
state_seq(const struct state *st)
{
	return st->seq;
}

const char *
state_journal_path(const struct state *st)
{
	return st->journal_path;
}

const char *
state_snapshot_path(const struct state *st)
{
	return st->snapshot_path;
}

size_t
state_dropped_bytes(const struct state *st)
{
	return st->dropped;
}

void
state_set_snapshot_every(struct state *st, unsigned n)
{
	st->every = n;
}
