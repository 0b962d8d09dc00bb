/*
 * journal-write.c: the flag state on disk, written: each change appended
 * and synced, snapshots, and what opening left to do (see journal.h).
 *
 * Every change is on disk before it is acknowledged. The records of a
 * group (journal_write(), the changes of one turn of the daemon's loop)
 * share one fdatasync (journal_sync()): appends cost a write each and the
 * disk's flush once. A write or a sync that fails cuts the whole group back
 * off, and the cut is synced, so that the journal never keeps half a line
 * behind a good one and an unacknowledged line cannot come back after a
 * power cut. journal_append() is a group of one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "journal-private.h"
#include "util.h"


int
journal_write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = journal_io.write(fd, p, len);
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

/*
 * Cut the journal back to the good records, after a failed append or over
 * a torn last line, and sync the cut: until it is on disk the bytes past
 * jlen could come back after a power cut.
 */
static int
journal_cut(struct journal *st)
{
	int	rc;

	do
		rc = journal_io.ftruncate(st->jfd, st->jlen);
	while (rc == -1 && errno == EINTR);
	if (rc == -1)
		return -1;
	if (journal_io.fdatasync(st->jfd) == -1)
		return -1;
	st->torn = false;
	return 0;
}

/*
 * A fresh, empty journal in place of the old one, atomically: the new fd,
 * or -1 with errno.
 */
static int
journal_new_file(struct journal *st)
{
	int	fd, saved;

	fd = openat(st->dirfd, JOURNAL_FILE_TMP,
	    O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	if (journal_io.fsync(fd) == -1 ||
	    renameat(st->dirfd, JOURNAL_FILE_TMP, st->dirfd,
	    JOURNAL_FILE) == -1) {
		saved = errno;
		close(fd);
		unlinkat(st->dirfd, JOURNAL_FILE_TMP, 0);
		errno = saved;
		return -1;
	}
	/* Renamed: the new journal is in place even if this fails. */
	if (journal_io.fsync(st->dirfd) == -1)
		log_warn("%s: fsync", st->dir);
	return fd;
}

/* Do what opening left for later: cut the torn tail, start afresh. */
int
journal_settle(struct journal *st)
{
	int	fd;

	if (st->torn) {
		if (st->tail_why != NULL) {
			log_warnx("%s: dropped %zu bytes of a torn last record "
			    "at byte %lld (%s)", st->journal_path, st->dropped,
			    (long long)st->jlen, st->tail_why);
			st->tail_why = NULL;
		}
		if (journal_cut(st) == -1)
			return -1;
	}
	if (st->stale) {
		if ((fd = journal_new_file(st)) == -1)
			return -1;
		close(st->jfd);
		st->jfd = fd;
		st->jlen = 0;
		st->stale = false;
	}
	return 0;
}
/* --- writing ---------------------------------------------------------------------- */

/*
 * A write or the sync failed: the group is not durable, so none of it may
 * stay. Back to where it began: the length, the seq and the count towards
 * the next snapshot; the bytes are cut now, or before the next write when
 * that fails too.
 */
static void
journal_unwind(struct journal *st)
{
	st->jlen = st->synced_len;
	st->seq = st->synced_seq;
	st->since = st->synced_since;
	st->unsynced = 0;
	st->torn = true;
	if (journal_cut(st) == -1)
		log_warn("%s: cut back to %lld bytes", st->journal_path,
		    (long long)st->jlen);
}

int
journal_write(struct journal *st, json_t *rec)
{
	char	*text, *line;
	size_t	 len;
	int	 saved, n;

	if (!json_is_object(rec)) {
		errno = EINVAL;
		return -1;
	}
	if (st->unsynced == 0) {
		if (journal_settle(st) == -1)
			return -1;
		st->synced_len = st->jlen;
		st->synced_seq = st->seq;
		st->synced_since = st->since;
	}
	json_object_set_new(rec, "seq", json_integer((json_int_t)(st->seq + 1)));
	/* Compact JSON has no raw newline: one record, one line. */
	if ((text = json_dumps(rec, JSON_COMPACT)) == NULL) {
		json_object_del(rec, "seq");
		errno = EINVAL;
		return -1;
	}
	n = xasprintf(&line, "%08x %s\n",
	    (unsigned)journal_crc32c(text, strlen(text)), text);
	free(text);
	len = (size_t)n;
	if (journal_write_all(st->jfd, line, len) == -1) {
		saved = errno;
		free(line);
		json_object_del(rec, "seq");
		journal_unwind(st);
		errno = saved;
		return -1;
	}
	free(line);
	st->jlen += (off_t)len;
	st->seq++;
	st->since++;
	st->unsynced++;
	return 0;
}

int
journal_sync(struct journal *st)
{
	int	saved;

	if (st->unsynced == 0)
		return 0;
	if (journal_io.fdatasync(st->jfd) == -1) {
		saved = errno;
		journal_unwind(st);
		errno = saved;
		return -1;
	}
	st->unsynced = 0;
	st->syncs++;
	return 0;
}

int
journal_append(struct journal *st, json_t *rec)
{
	int	saved;

	if (st->unsynced > 0) {
		/* One record alone: never part of a group begun elsewhere. */
		errno = EBUSY;
		return -1;
	}
	if (journal_write(st, rec) == -1)
		return -1;
	if (journal_sync(st) == -1) {
		saved = errno;
		json_object_del(rec, "seq");
		errno = saved;
		return -1;
	}
	return 0;
}

size_t
journal_unsynced(const struct journal *st)
{
	return st->unsynced;
}

size_t
journal_unsynced_bytes(const struct journal *st)
{
	return st->unsynced > 0 ? (size_t)(st->jlen - st->synced_len) : 0;
}

uint64_t
journal_syncs(const struct journal *st)
{
	return st->syncs;
}

bool
journal_snapshot_due(const struct journal *st)
{
	return st->every != 0 && st->since >= st->every;
}

int
journal_snapshot(struct journal *st, const json_t *flags_state)
{
	json_t	*doc;
	char	*text;
	int	 fd, saved;

	if (st->unsynced > 0) {
		/* It would cover records not yet durable. */
		errno = EBUSY;
		return -1;
	}
	doc = json_pack("{s:i, s:I, s:O}", "version", JOURNAL_VERSION,
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
	fd = openat(st->dirfd, JOURNAL_SNAPSHOT_TMP,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd == -1) {
		saved = errno;
		free(text);
		errno = saved;
		return -1;
	}
	if (journal_write_all(fd, text, strlen(text)) == -1 ||
	    journal_write_all(fd, "\n", 1) == -1 ||
	    journal_io.fsync(fd) == -1) {
		saved = errno;
		close(fd);
		goto fail;
	}
	free(text);
	text = NULL;
	if (close(fd) == -1 ||
	    renameat(st->dirfd, JOURNAL_SNAPSHOT_TMP, st->dirfd,
	    JOURNAL_SNAPSHOT) == -1) {
		saved = errno;
		goto fail;
	}
	/*
	 * The journal is started afresh only once the snapshot is surely
	 * there; until then the old journal still holds every record.
	 */
	if (journal_io.fsync(st->dirfd) == -1)
		return -1;
	st->since = 0;
	if ((fd = journal_new_file(st)) == -1) {
		/* Harmless: the snapshot's seq tells which records it covers. */
		log_warn("%s: cannot start afresh", st->journal_path);
		return 0;
	}
	if (st->torn && st->tail_why != NULL)
		log_warnx("%s: dropped %zu bytes of a torn last record at byte "
		    "%lld (%s)", st->journal_path, st->dropped,
		    (long long)st->jlen, st->tail_why);
	close(st->jfd);
	st->jfd = fd;
	st->jlen = 0;
	st->torn = st->stale = false;
	st->tail_why = NULL;
	return 0;
fail:
	free(text);
	unlinkat(st->dirfd, JOURNAL_SNAPSHOT_TMP, 0);
	errno = saved;
	return -1;
}

