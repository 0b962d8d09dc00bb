/*
 * journal.h: the flag state on disk, in state_dir.
 *
 * Two files:
 *	journal		change records appended one per line,
 *			"<crc32c of the JSON, 8 hex digits> <compact JSON>\n",
 *			each with "v" (JOURNAL_RECORD_VERSION) and a "seq" (1, 2,
 *			3...), fdatasync'd before journal_append() returns
 *			(a group's, once for all, by journal_sync());
 *	state.json	a snapshot {"version": 1, "seq": S, "state": {...}}: the
 *			flags state (flags_snapshot_json()) after record S.
 *
 * A snapshot is written to state.json.tmp, fsync'd, renamed over state.json
 * and the folder fsync'd; the journal is then started afresh the same way.
 * A crash between the two leaves journal records the snapshot already
 * covers, and opening skips them by seq.
 *
 * The journal's rules, checked at open. Appends are sequential and a group
 * of them is synced before the next group is written, so only the last
 * lines can be torn by a crash: a
 * last line with no newline, or that is not a record (bad checksum, not
 * JSON, no seq), is cut off. Anything else stops warden rather than lose
 * or change acknowledged state: a damaged line followed by any other line,
 * a record of another version, records out of sequence (a gap, or one
 * twice), a journal starting past what the snapshot covers, a damaged or
 * newer snapshot; and, found by the caller, a record that verifies but
 * does not apply (journal_record_error()). A refusal leaves both files as
 * they were: journal_open() writes nothing, and the torn tail is cut by
 * journal_begin() once the caller has accepted what was read.
 * `warden --repair-state` (repair.c) keeps what verifies and moves the
 * rest aside: journal_inspect(), journal_check(), journal_salvage().
 *
 * The folder is locked (flock) while open: one warden per state_dir.
 *
 * The daemon's use:
 *	journal_open(dir, &st, &snap, &records, err, len)	at start, then
 *	flags_restore(fs, snap) when snap, flags_replay(fs, records) (on a
 *	record that does not apply: journal_record_error() and journal_close()),
 *	then journal_begin(st) and journal_snapshot() (the state pinned as this
 *	configuration made it; again after each reload); for a change:
 *	journal_append(st, rec) and only on success flags_apply(fs, rec); then,
 *	when journal_snapshot_due(st), journal_snapshot(st,
 *	flags_snapshot_json(fs)); at clean shutdown journal_snapshot() and
 *	journal_close().
 */
#ifndef WARDEN_STATE_H
#define WARDEN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#define JOURNAL_SNAPSHOT_EVERY	1000	/* records between snapshots */
#define JOURNAL_VERSION		1	/* of state.json */
#define JOURNAL_RECORD_VERSION	1	/* of a journal record: its "v" */

/*
 * The calls that reach the disk when writing. Tests replace them to make a
 * disk that fails (ENOSPC, EIO) at a chosen moment.
 */
struct journal_io {
	ssize_t	(*write)(int, const void *, size_t);
	int	(*fdatasync)(int);
	int	(*fsync)(int);
	int	(*ftruncate)(int, off_t);
};
extern struct journal_io	journal_io;

struct journal;

/*
 * Open state_dir (created with mode 0750 when missing), lock it, read the
 * snapshot and the journal, and check the journal's rules. On success *snap
 * is the snapshot's "state" object or NULL when there is none, and *records
 * an array of the journal's records after it, in order (both new
 * references). On error returns -1 and err names the file, and for the
 * journal the line, record and byte, and what is wrong. Nothing is written.
 */
int		 journal_open(const char *dir, struct journal **, json_t **snap,
		    json_t **records, char *err, size_t errlen);
/*
 * For a record i of journal_open()'s *records that the caller cannot accept:
 * "<journal>: line L, record S (byte B): what" in err. Returns -1.
 */
int		 journal_record_error(const struct journal *, size_t i,
		    const char *what, char *err, size_t errlen);
/*
 * What journal_open() read is accepted: cut the torn tail off the journal
 * (with a warning) or start a journal that the snapshot covers afresh,
 * durably. 0, or -1 with err. journal_append() and journal_snapshot() do it
 * too when it was not done.
 */
int		 journal_begin(struct journal *, char *err, size_t errlen);
void		 journal_close(struct journal *);

/*
 * Give rec the next seq, append it and fdatasync. 0, or -1 with errno
 * (ENOSPC, EIO, EDQUOT...) when it could not be made durable: then the
 * journal is as it was, rec loses its seq, and the seq is not used up.
 * EBUSY while a group is written and not yet synced.
 */
int		 journal_append(struct journal *, json_t *rec);
/*
 * Group commit: journal_write() gives rec the next seq and writes it
 * without a sync; journal_sync() makes every record written since the last
 * sync durable with one fdatasync (0 at once when there is none). Records
 * written and not synced are a group: none is durable, none may be
 * acknowledged or applied. When a write or the sync fails (-1 with errno),
 * the whole group is cut back off: the journal, the seq and the count
 * towards the next snapshot are as they were before its first record
 * (the failed record loses its seq; the others keep theirs, to be thrown
 * away). No snapshot is taken while a group is open (EBUSY).
 */
int		 journal_write(struct journal *, json_t *rec);
int		 journal_sync(struct journal *);
/* Records, and their bytes, written since the last sync. */
size_t		 journal_unsynced(const struct journal *);
size_t		 journal_unsynced_bytes(const struct journal *);
/* The fdatasyncs that made records durable, since open. */
uint64_t	 journal_syncs(const struct journal *);

/* Have enough records been appended since the last snapshot? */
bool		 journal_snapshot_due(const struct journal *);
/*
 * Write a snapshot of the flags state, which must reflect every record
 * appended so far, and start the journal afresh. 0, or -1 with errno when
 * the snapshot could not be written (the previous one and the journal
 * still hold everything).
 */
int		 journal_snapshot(struct journal *, const json_t *flags_state);

uint64_t	 journal_seq(const struct journal *);		/* last seq written */
const char	*journal_path(const struct journal *);
const char	*journal_snapshot_path(const struct journal *);
/* Bytes of the torn last line journal_open() found (cut by journal_begin()). */
size_t		 journal_dropped_bytes(const struct journal *);
/* Snapshot after every n records (0: never on its own). */
void		 journal_set_snapshot_every(struct journal *, unsigned n);

/*
 * Repair. journal_inspect() locks state_dir as journal_open() does and reads
 * both files without judging them (it creates nothing, and fails only when
 * the folder cannot be read or is locked); an unusable snapshot is kept as
 * journal_snapshot_error(). journal_check() applies the journal's rules over
 * its lines, counting from the snapshot's seq base (0 when the snapshot is
 * not used): the index of the first line that is not kept (the number of
 * lines when all are), with why in the buffer. journal_salvage() keeps the
 * journal's first `keep` lines: the journal is linked to
 * journal.damaged-<suffix> and a new one holding those lines renamed over
 * it; with drop_snapshot, state.json is moved to
 * state.json.damaged-<suffix>. Nothing is deleted, and every step is
 * synced. 0, or -1 with err.
 */
struct journal_line {
	size_t		 lineno;	/* 1, 2, ... */
	size_t		 off;		/* byte offset in the journal */
	size_t		 len;		/* bytes, with the newline when there is one */
	const char	*text;		/* the line's bytes (not NUL-terminated) */
	json_t		*rec;		/* the record, when it verifies */
	uint64_t	 seq;		/* its seq when rec != NULL */
	const char	*why;		/* NULL: a record; else why it is none */
	bool		 torn;		/* damaged as a torn write leaves it */
};

int		 journal_inspect(const char *dir, struct journal **, char *err,
		    size_t errlen);
const struct journal_line *journal_lines(const struct journal *, size_t *n);
/* The snapshot's "state" (borrowed), NULL when none or unusable. */
const json_t	*journal_snapshot_state(const struct journal *);
uint64_t	 journal_snapshot_seq(const struct journal *);
/* Why the snapshot cannot be used ("<path>: what"), NULL when it can. */
const char	*journal_snapshot_error(const struct journal *);
bool		 journal_has_snapshot_file(const struct journal *);
size_t		 journal_check(const struct journal *, uint64_t base, char *why,
		    size_t whylen);
int		 journal_salvage(struct journal *, size_t keep, bool drop_snapshot,
		    const char *suffix, char *err, size_t errlen);
const char	*journal_folder(const struct journal *);
/* The locked folder's fd: a reexec hands it over, lock and all. */
int		 journal_dir_fd(const struct journal *);
/* In the next image, before journal_open(): keep the lock this fd holds. */
void		 journal_adopt_lock(int dirfd);

/* CRC-32C (Castagnoli), as the journal lines carry it. */
uint32_t	 journal_crc32c(const void *, size_t);

#endif
