/*
 * repair.h: `warden --repair-state`: with warden stopped, keep what
 * verifies of the state folder, move the rest aside, and say exactly what
 * was dropped.
 *
 * What verifies: the snapshot when it reads and restores; the journal's
 * lines from the first, in sequence from the snapshot's record (from
 * record 1 without one), up to the first line that breaks the journal's
 * rules (journal.h) or does not apply (flags_apply()). Every line from
 * there on is dropped, good records too: each was made on top of the one
 * missing before it, and applying it without that one would set values
 * nobody set. Dropped files are moved aside as journal.damaged-<UTC time>
 * and state.json.damaged-<UTC time>; nothing is deleted.
 */
#ifndef WARDEN_REPAIR_H
#define WARDEN_REPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct config;

/*
 * Report to out. 0 when the folder was repaired or needed nothing (or,
 * with dry_run, after reporting alone); -1 with err when it could not be
 * read, is in use by a running warden, or could not be written.
 */
int	repair_state(const struct config *, bool dry_run, FILE *out,
	    char *err, size_t errlen);

#endif
