/*
 * journal-salvage.c: what `warden --repair-state` keeps of a damaged
 * journal (see journal.h, journal_salvage()): nothing is deleted, what is
 * not kept is moved aside, and every step is synced.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal-private.h"
#include "util.h"

/* Link name to new (never over an existing file) and sync the folder. */
static int
journal_link_aside(struct journal *st, const char *name, const char *new)
{
	if (linkat(st->dirfd, name, st->dirfd, new, 0) == -1)
		return -1;
	return journal_io.fsync(st->dirfd);
}

/* A new journal of the first len bytes of the old, owned as the old. */
static int
journal_write_file(struct journal *st, size_t len)
{
	struct stat	sb;
	int		fd, saved;

	if (fstatat(st->dirfd, JOURNAL_FILE, &sb, 0) == -1)
		return -1;
	fd = openat(st->dirfd, JOURNAL_FILE_TMP,
	    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	/* warden may run as another user than the one repairing. */
	if (fchown(fd, sb.st_uid, sb.st_gid) == -1 ||
	    fchmod(fd, sb.st_mode & 07777) == -1 ||
	    journal_write_all(fd, st->jbuf, len) == -1 ||
	    journal_io.fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlinkat(st->dirfd, JOURNAL_FILE_TMP, 0);
		errno = saved;
		return -1;
	}
	if (close(fd) == -1 || renameat(st->dirfd, JOURNAL_FILE_TMP,
	    st->dirfd, JOURNAL_FILE) == -1) {
		saved = errno;
		unlinkat(st->dirfd, JOURNAL_FILE_TMP, 0);
		errno = saved;
		return -1;
	}
	return journal_io.fsync(st->dirfd);
}

int
journal_salvage(struct journal *st, size_t keep, bool drop_snapshot,
    const char *suffix, char *err, size_t errlen)
{
	char	*aside;
	int	 rc = 0;

	/*
	 * The snapshot first: a stop half way leaves a state that warden
	 * still refuses (records missing, or the same damage), never one
	 * that it takes with records silently gone.
	 */
	if (drop_snapshot && st->snap_file) {
		xasprintf(&aside, "%s.damaged-%s", JOURNAL_SNAPSHOT, suffix);
		if (journal_link_aside(st, JOURNAL_SNAPSHOT, aside) == -1 ||
		    unlinkat(st->dirfd, JOURNAL_SNAPSHOT, 0) == -1 ||
		    journal_io.fsync(st->dirfd) == -1)
			rc = journal_err(err, errlen, "%s: move to %s/%s: %s",
			    st->snapshot_path, st->dir, aside,
			    strerror(errno));
		free(aside);
		if (rc == -1)
			return -1;
	}
	if (keep < st->nlines) {
		xasprintf(&aside, "%s.damaged-%s", JOURNAL_FILE, suffix);
		if (journal_link_aside(st, JOURNAL_FILE, aside) == -1)
			rc = journal_err(err, errlen, "%s: link to %s/%s: %s",
			    st->journal_path, st->dir, aside,
			    strerror(errno));
		else if (journal_write_file(st, st->lines[keep].off) == -1)
			rc = journal_err(err, errlen, "%s: rewrite: %s",
			    st->journal_path, strerror(errno));
		free(aside);
	}
	return rc;
}
