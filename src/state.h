/*
 * state.h: the flag state on disk, in state_dir.
 *
 * Two files:
 *	journal		change records appended one per line,
 *			"<crc32c of the JSON, 8 hex digits> <compact JSON>\n",
 *			each with a "seq" (1, 2, 3...) and fdatasync'd before
 *			state_append() returns;
 *	state.json	a snapshot {"version": 1, "seq": S, "state": {...}}: the
 *			flags state (flags_snapshot_json()) after record S.
 *
 * A snapshot is written to state.json.tmp, fsync'd, renamed over state.json
 * and the folder fsync'd; the journal is then started afresh the same way.
 * A crash between the two leaves journal records the snapshot already
 * covers, and opening skips them by seq. At open, a torn or corrupt tail of
 * the journal (no newline, bad checksum, bad JSON) is cut off with a
 * warning; a corrupt snapshot, or records missing between the snapshot and
 * the journal, is an error: warden refuses to start rather than lose state.
 *
 * The folder is locked (flock) while open: one warden per state_dir.
 *
 * The daemon's use:
 *	state_open(dir, &st, &snap, &records, err, len)	at start, then
 *	flags_restore(fs, snap) when snap, flags_replay(fs, records);
 *	for a change: state_append(st, rec) and only on success
 *	flags_apply(fs, rec); then, when state_snapshot_due(st),
 *	state_snapshot(st, flags_snapshot_json(fs)); at clean shutdown
 *	state_snapshot() and state_close().
 */
#ifndef WARDEN_STATE_H
#define WARDEN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#define STATE_SNAPSHOT_EVERY	1000	/* records between snapshots */
#define STATE_VERSION		1

/*
 * The calls that reach the disk when writing. Tests replace them to make a
 * disk that fails (ENOSPC, EIO) at a chosen moment.
 */
struct state_io {
	ssize_t	(*write)(int, const void *, size_t);
	int	(*fdatasync)(int);
	int	(*fsync)(int);
	int	(*ftruncate)(int, off_t);
};
extern struct state_io	state_io;

struct state;

/*
 * Open state_dir (created with mode 0750 when missing), lock it, read the
 * snapshot and the journal. On success *snap is the snapshot's "state"
 * object or NULL when there is none, and *records an array of the journal's
 * records after it, in order (both new references). On error returns -1
 * and err names the file and what is wrong.
 */
int		 state_open(const char *dir, struct state **, json_t **snap,
		    json_t **records, char *err, size_t errlen);
void		 state_close(struct state *);

/*
 * Give rec the next seq, append it and fdatasync. 0, or -1 with errno
 * (ENOSPC, EIO, EDQUOT...) when it could not be made durable: then the
 * journal is as it was, rec loses its seq, and the seq is not used up.
 */
int		 state_append(struct state *, json_t *rec);

/* Have enough records been appended since the last snapshot? */
bool		 state_snapshot_due(const struct state *);
/*
 * Write a snapshot of the flags state, which must reflect every record
 * appended so far, and start the journal afresh. 0, or -1 with errno when
 * the snapshot could not be written (the previous one and the journal
 * still hold everything).
 */
int		 state_snapshot(struct state *, const json_t *flags_state);

uint64_t	 state_seq(const struct state *);		/* last seq written */
const char	*state_journal_path(const struct state *);
const char	*state_snapshot_path(const struct state *);
/* Bytes of a torn or corrupt journal tail cut off by state_open(). */
size_t		 state_dropped_bytes(const struct state *);
/* Snapshot after every n records (0: never on its own). */
void		 state_set_snapshot_every(struct state *, unsigned n);

/* CRC-32C (Castagnoli), as the journal lines carry it. */
uint32_t	 state_crc32c(const void *, size_t);

#endif
