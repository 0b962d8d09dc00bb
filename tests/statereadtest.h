/*
 * statereadtest.h: what the suites that read the flag state and judge it
 * (check_state, check_state_flags) share, on top of statetest.h: a
 * journal line, both files kept to compare, a refusal that changes
 * nothing, and a journal of five records.
 */
#ifndef WARDEN_TESTS_STATEREADTEST_H
#define WARDEN_TESTS_STATEREADTEST_H

#include <stddef.h>

/* The journal and the snapshot, byte for byte, to compare after a refusal. */
struct files {
	char	*journal, *snap;
	size_t	 jlen, slen;
};

/* The journal line of json, its checksum first; malloc'd. */
char	*line_for(const char *json);
/* Keep sdir's journal and state.json; see them unchanged; let them go. */
void	 files_take(struct files *f);
void	 files_same(const struct files *f);
void	 files_free(struct files *f);
/*
 * Open must fail, twice (the lock is let go), with a message holding each
 * of the words, and leave both files as they were.
 */
void	 refused(const char *const *words, size_t n);
/* Five records; off[i] is where line i + 1 starts. The journal's bytes. */
char	*five(size_t *len, size_t off[6]);

#endif
