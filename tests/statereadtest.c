/*
 * statereadtest.c: the state-reading suites' helpers (statereadtest.h).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "util.h"
#include "statetest.h"
#include "statereadtest.h"

char *
line_for(const char *json)
{
	char	*line;

	xasprintf(&line, "%08x %s\n", journal_crc32c(json, strlen(json)), json);
	return line;
}

void
files_take(struct files *f)
{
	f->journal = slurp(sdir, "journal", &f->jlen);
	f->snap = exists(sdir, "state.json") ?
	    slurp(sdir, "state.json", &f->slen) : NULL;
}

void
files_same(const struct files *f)
{
	struct files	now;

	files_take(&now);
	ck_assert_msg(now.jlen == f->jlen &&
	    memcmp(now.journal, f->journal, f->jlen) == 0,
	    "the journal changed (%zu bytes, %zu before)", now.jlen, f->jlen);
	ck_assert_msg((now.snap == NULL) == (f->snap == NULL),
	    "state.json appeared or vanished");
	if (f->snap != NULL)
		ck_assert_msg(now.slen == f->slen &&
		    memcmp(now.snap, f->snap, f->slen) == 0,
		    "state.json changed");
	ck_assert(!exists(sdir, "journal.tmp"));
	ck_assert(!exists(sdir, "state.json.tmp"));
	free(now.journal);
	free(now.snap);
}

void
files_free(struct files *f)
{
	free(f->journal);
	free(f->snap);
}

/*
 * Open must fail, twice (the lock is let go), with a message holding each
 * of the words, and leave both files as they were.
 */
void
refused(const char *const *words, size_t n)
{
	struct files	 f;
	const char	*msg;
	size_t		 i, k;

	files_take(&f);
	for (k = 0; k < 2; k++) {
		msg = open_fails(sdir);
		for (i = 0; i < n; i++)
			ck_assert_msg(strstr(msg, words[i]) != NULL,
			    "\"%s\" not in: %s", words[i], msg);
		ck_assert_msg(strstr(msg, "in use") == NULL, "%s", msg);
		files_same(&f);
	}
	files_free(&f);
}

/* Five records; *off[i] is where line i + 1 starts. */
char *
five(size_t *len, size_t off[6])
{
	struct journal	*st;
	char		*buf, *nl;
	int		 i;

	st = open_ok(sdir, NULL, NULL);
	for (i = 1; i <= 5; i++)
		append_ok(st, i, (uint64_t)i);
	journal_close(st);
	buf = slurp(sdir, "journal", len);
	off[0] = 0;
	for (i = 1; i <= 5; i++) {
		nl = memchr(buf + off[i - 1], '\n', *len - off[i - 1]);
		ck_assert_ptr_nonnull(nl);
		off[i] = (size_t)(nl - buf) + 1;
	}
	return buf;
}

