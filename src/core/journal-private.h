/*
 * journal-private.h: what the journal's files share (journal.c reads and
 * judges, journal-write.c appends and snapshots, journal-salvage.c
 * repairs); not for the rest of warden, which has journal.h.
 */
#ifndef WARDEN_JOURNAL_PRIVATE_H
#define WARDEN_JOURNAL_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "journal.h"

#define JOURNAL_FILE		"journal"
#define JOURNAL_FILE_TMP	"journal.tmp"
#define JOURNAL_SNAPSHOT		"state.json"
#define JOURNAL_SNAPSHOT_TMP	"state.json.tmp"
#define JOURNAL_REPAIR_HINT	"; see warden --repair-state"


struct journal {
	char		*dir;
	char		*journal_path;
	char		*snapshot_path;
	int		 dirfd;		/* holds the lock */
	int		 jfd;		/* O_APPEND */
	off_t		 jlen;		/* length of the good records */
	bool		 torn;		/* bytes past jlen may be on disk */
	bool		 stale;		/* the snapshot covers the whole journal */
	uint64_t	 seq;
	unsigned	 since;		/* records since the last snapshot */
	unsigned	 every;
	size_t		 dropped;
	/* Group commit: where the batch began, to cut back to if it fails. */
	size_t		 unsynced;	/* records written since the last sync */
	off_t		 synced_len;
	uint64_t	 synced_seq;
	unsigned	 synced_since;
	uint64_t	 syncs;		/* fdatasyncs that made records durable */
	const char	*tail_why;	/* the torn last line, until it is cut */

	/* What opening read; let go by journal_begin(). */
	char			*jbuf;
	size_t			 jbuflen;
	struct journal_line	*lines;
	size_t			 nlines;
	size_t			 first;		/* lines[first] is records[0] */
	json_t			*snap;		/* the snapshot's "state" */
	uint64_t		 snap_seq;
	char			*snap_err;	/* why it cannot be used */
	bool			 snap_file;	/* state.json exists */
};

/* -1, with the message in err (when there is room). */
int	journal_err(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
/* write(2) all of buf through journal_io; -1 with errno. */
int	journal_write_all(int fd, const void *buf, size_t len);
/* Do what opening left for later: cut the torn tail, start afresh. */
int	journal_settle(struct journal *);

#endif
