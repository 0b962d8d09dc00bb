/*
 * statereplay.h: the last step of the flag-state suites (check_state*):
 * the state folder opened again, and what it replays checked against
 * what the test wrote before.
 */
#ifndef WARDEN_TESTS_STATEREPLAY_H
#define WARDEN_TESTS_STATEREPLAY_H

#include <stddef.h>

#include <jansson.h>

#include "journal.h"

/*
 * dir opens and replays exactly count records, numbered and sequenced
 * first..; the journal is returned open for what the test checks more.
 */
struct journal	*statereplay_open(const char *dir, size_t count, int first);
/* The same, closed again at once. */
void		 statereplay_check(const char *dir, size_t count, int first);
/*
 * sdir opens as with statereplay_open, and the snapshot read is snap
 * (NULL: there is none); the journal's seq is the last record's.
 */
struct journal	*statereplay_open_snap(const json_t *snap, size_t count,
		    int first);

#endif
