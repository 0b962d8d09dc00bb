/*
 * observe.c: reports of workers' reads, read strictly, and what warden
 * keeps of them per worker instance (see observe.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "observe.h"
#include "util.h"

/* A decimal of at most 20 digits, no sign, no leading zero. */
static int
observe_decimal(const char *p, size_t n, uint64_t *v)
{
	uint64_t	x = 0;
	size_t		i;

	if (n == 0 || n > 20 || (p[0] == '0' && n > 1))
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9' ||
		    x > (UINT64_MAX - (uint64_t)(p[i] - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(p[i] - '0');
	}
	*v = x;
	return 0;
}

/* One line (without its newline), at offset off. */
static int
observe_line(const char *p, size_t n, size_t off, uint64_t cur,
    const struct flags *fs, struct observe_report *r, char *why,
    size_t whylen)
{
	char		 name[TABLE_NAME_SIZE];
	ssize_t		 i;

	if (n >= 2 && p[0] == 'G' && p[1] == '=') {
		if (r->has_gen) {
			snprintf(why, whylen, "byte %zu: a second G= line", off);
			return -1;
		}
		if (observe_decimal(p + 2, n - 2, &r->gen) == -1) {
			snprintf(why, whylen, "byte %zu: G= wants a decimal",
			    off);
			return -1;
		}
		if (r->gen > cur) {
			snprintf(why, whylen, "byte %zu: generation %llu is "
			    "ahead of the table's (%llu)", off,
			    (unsigned long long)r->gen, (unsigned long long)cur);
			return -1;
		}
		r->has_gen = true;
		return 0;
	}
	if (n >= 2 && p[0] == 'R' && p[1] == '=') {
		if (n - 2 == 0 || n - 2 > TABLE_NAME_MAX) {
			snprintf(why, whylen, "byte %zu: R= wants a flag name "
			    "of 1..%d bytes", off, TABLE_NAME_MAX);
			return -1;
		}
		memcpy(name, p + 2, n - 2);
		name[n - 2] = '\0';
		if (fs == NULL || (i = flags_find(fs, name)) < 0) {
			snprintf(why, whylen, "byte %zu: no flag named '%s'",
			    off, name);
			return -1;
		}
		r->flag[r->nflags++] = (uint32_t)i;
		return 0;
	}
	snprintf(why, whylen, "byte %zu: a line that is neither G= nor R=", off);
	return -1;
}

int
observe_parse(const char *msg, size_t len, uint64_t cur,
    const struct flags *fs, struct observe_report *r, char *why,
    size_t whylen)
{
	const char	*nl;
	size_t		 off = 0;

	r->has_gen = false;
	r->gen = 0;
	r->nflags = 0;
	if (len == 0 || len > OBSERVE_REPORT_MAX) {
		snprintf(why, whylen, "%zu bytes: a report has 1..%d", len,
		    OBSERVE_REPORT_MAX);
		return -1;
	}
	if (memchr(msg, '\0', len) != NULL) {
		snprintf(why, whylen, "a NUL byte: not text");
		return -1;
	}
	while (off < len) {
		if ((nl = memchr(msg + off, '\n', len - off)) == NULL) {
			snprintf(why, whylen, "byte %zu: a line without its "
			    "newline", off);
			return -1;
		}
		if (observe_line(msg + off, (size_t)(nl - (msg + off)), off,
		    cur, fs, r, why, whylen) == -1)
			return -1;
		off = (size_t)(nl - msg) + 1;
	}
	return 0;
}

bool
observe_names_has(const struct observe_names *ns, const char *name)
{
	size_t	i;

	for (i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i], name) == 0)
			return true;
	return false;
}

bool
observe_names_add(struct observe_names *ns, const char *name)
{
	if (observe_names_has(ns, name))
		return false;
	if (ns->n == ns->cap) {
		ns->cap = ns->cap == 0 ? 4 : ns->cap * 2;
		ns->v = xreallocarray(ns->v, ns->cap, sizeof(*ns->v));
	}
	ns->v[ns->n++] = xstrdup(name);
	return true;
}

static void
observe_names_clear(struct observe_names *ns)
{
	size_t	i;

	for (i = 0; i < ns->n; i++)
		free(ns->v[i]);
	ns->n = 0;
}

void
observe_names_free(struct observe_names *ns)
{
	observe_names_clear(ns);
	free(ns->v);
	ns->v = NULL;
	ns->cap = 0;
}

void
observe_record_init(struct observe_record *rec)
{
	memset(rec, 0, sizeof(*rec));
}

void
observe_record_clear(struct observe_record *rec)
{
	observe_names_clear(&rec->flags);
	rec->nreaders = 0;
	rec->gen = 0;
	rec->at_wall_ms = 0;
}

void
observe_record_free(struct observe_record *rec)
{
	observe_record_clear(rec);
	observe_names_free(&rec->flags);
}

bool
observe_record_reads(const struct observe_record *rec, const char *flag)
{
	return observe_names_has(&rec->flags, flag);
}

bool
observe_reads_stages(const struct observe_names *ns, const struct flags *fs,
    int from, int to)
{
	size_t	j;
	int	k;

	for (k = from + 1; k <= to && k <= fs->nstages; k++) {
		if (k < 1)
			continue;
		for (j = 0; j < fs->stage_nflags[k - 1]; j++)
			if (observe_names_has(ns,
			    fs->flag[fs->stage_flags[k - 1][j]].name))
				return true;
	}
	return false;
}

bool
observe_record_add_flag(struct observe_record *rec, const char *flag)
{
	return observe_names_add(&rec->flags, flag);
}

/* The reader of pid: its slot, else a free one, else the oldest. */
static struct observe_reader *
observe_reader_slot(struct observe_record *rec, pid_t pid)
{
	struct observe_reader	*old = NULL;
	size_t			 i;

	for (i = 0; i < rec->nreaders; i++)
		if (rec->reader[i].pid == pid)
			return &rec->reader[i];
	if (rec->nreaders < OBSERVE_PIDS) {
		old = &rec->reader[rec->nreaders++];
		memset(old, 0, sizeof(*old));
		old->pid = pid;
		return old;
	}
	for (i = 0; i < rec->nreaders; i++)
		if (old == NULL || rec->reader[i].at_ms < old->at_ms)
			old = &rec->reader[i];
	memset(old, 0, sizeof(*old));
	old->pid = pid;
	return old;
}

void
observe_record_add_reader(struct observe_record *rec, pid_t pid, uint64_t gen,
    uint64_t at_ms)
{
	struct observe_reader	*rd = observe_reader_slot(rec, pid);

	rd->gen = gen;
	rd->at_ms = at_ms;
	if (gen > rec->gen)
		rec->gen = gen;
}

uint64_t
observe_record_note(struct observe_record *rec, pid_t pid,
    const struct observe_report *r, const struct flags *fs, uint64_t now_ms,
    int64_t wall_ms)
{
	struct observe_reader	*rd = observe_reader_slot(rec, pid);
	uint64_t		 before = rd->gen;
	size_t			 i;

	rec->reports++;
	rec->at_wall_ms = wall_ms;
	rd->at_ms = now_ms;
	if (r->has_gen && r->gen > rd->gen)
		rd->gen = r->gen;
	if (rd->gen > rec->gen)
		rec->gen = rd->gen;
	for (i = 0; i < r->nflags; i++)
		if (fs != NULL && r->flag[i] < fs->nflags)
			(void)observe_record_add_flag(rec,
			    fs->flag[r->flag[i]].name);
	return before;
}

bool
observe_record_is_reader(const struct observe_record *rec)
{
	return rec->nreaders > 0;
}

bool
observe_record_observed(struct observe_record *rec, uint64_t gen,
    bool (*alive)(pid_t, void *), void *arg, pid_t *pid, uint64_t *seen)
{
	size_t	i = 0;

	*pid = 0;
	*seen = 0;
	while (i < rec->nreaders) {
		if (!alive(rec->reader[i].pid, arg)) {
			rec->reader[i] = rec->reader[--rec->nreaders];
			continue;
		}
		if (*pid == 0 || rec->reader[i].gen > *seen) {
			*pid = rec->reader[i].pid;
			*seen = rec->reader[i].gen;
		}
		i++;
	}
	return *pid != 0 && *seen >= gen;
}

bool
observe_gate_over(struct observe_gate *g, unsigned max, uint64_t win_ms,
    uint64_t now_ms)
{
	if (now_ms - g->start_ms >= win_ms || now_ms < g->start_ms) {
		g->start_ms = now_ms;
		g->count = 0;
	}
	return ++g->count > max;
}
