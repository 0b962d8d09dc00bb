/*
 * repair.c: warden --repair-state (see repair.h).
 *
 * The rules are those warden applies at start: journal.c reads and judges
 * the lines (journal_inspect, journal_check), flags.c judges whether the
 * snapshot restores and each record applies. Here they are only put
 * together, the prefix that passes is kept (journal_salvage), and every
 * dropped line is described from what can still be read of it.
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "flags.h"
#include "repair.h"
#include "journal.h"
#include "util.h"

static int	repair_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
repair_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* "record 4, flag.set checkout" from whatever of a record can be read. */
static void
repair_describe(const json_t *rec, char *buf, size_t len)
{
	const json_t	*v, *c;
	const char	*op, *name;
	size_t		 i, n = 0, used;
	int		 from, to;

	used = 0;
	buf[0] = '\0';
#define ADD(...)	do {						\
	if (used < len)							\
		used += (size_t)snprintf(buf + used, len - used, __VA_ARGS__); \
} while (0)
	if (json_is_integer(v = json_object_get(rec, "seq")))
		ADD("record %" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		ADD("a record without a seq");
	if ((op = json_string_value(json_object_get(rec, "op"))) != NULL)
		ADD(", %s", op);
	if (flags_record_stage(rec, &from, &to))
		ADD(" %d -> %d", from, to);
	json_array_foreach(json_object_get(rec, "changes"), i, c) {
		if ((name = json_string_value(json_object_get(c,
		    "name"))) == NULL)
			continue;
		if (n++ == 3) {
			ADD(" ...");
			break;
		}
		if (json_is_integer(v = json_object_get(c, "new")))
			ADD(" %s=%" JSON_INTEGER_FORMAT, name,
			    json_integer_value(v));
		else
			ADD(" %s", name);
	}
	if (json_is_integer(v = json_object_get(rec, "v")) &&
	    json_integer_value(v) != FLAGS_RECORD_VERSION)
		ADD(" (version %" JSON_INTEGER_FORMAT ")",
		    json_integer_value(v));
#undef ADD
}

/* What a dropped line was, or why it cannot be read. */
static void
repair_line(FILE *out, const char *path, const struct journal_line *l,
    uint64_t base)
{
	json_t	*guess;
	char	 what[256];
	size_t	 len = l->len;

	if (len > 0 && l->text[len - 1] == '\n')
		len--;
	if (l->rec != NULL) {
		repair_describe(l->rec, what, sizeof(what));
		fprintf(out, "%s: line %zu (byte %zu): dropped %s%s%s%s\n",
		    path, l->lineno, l->off, what, l->why != NULL ? ": " : "",
		    l->why != NULL ? l->why : "", l->seq <= base ?
		    " (state.json has it)" : "");
		return;
	}
	/* Unverified, yet often readable: say what it looks like. */
	guess = len > 9 ? json_loadb(l->text + 9, len - 9, 0, NULL) : NULL;
	if (json_is_object(guess)) {
		repair_describe(guess, what, sizeof(what));
		fprintf(out, "%s: line %zu (byte %zu): dropped, %zu bytes: %s; "
		    "reads as %s (unverified)\n", path, l->lineno, l->off,
		    l->len, l->why, what);
	} else
		fprintf(out, "%s: line %zu (byte %zu): dropped, %zu bytes: %s; "
		    "unreadable\n", path, l->lineno, l->off, l->len, l->why);
	json_decref(guess);
}

/* Judge the snapshot as warden would; *base is its seq when it is kept. */
static const char *
repair_snapshot(struct journal *st, struct flags *fs, uint64_t *base,
    char *buf, size_t len)
{
	char	why[512];

	*base = 0;
	if (journal_snapshot_error(st) != NULL)
		return journal_snapshot_error(st);
	if (journal_snapshot_state(st) == NULL)
		return NULL;
	if (flags_restore(fs, journal_snapshot_state(st), why,
	    sizeof(why)) == -1) {
		snprintf(buf, len, "%s: %s", journal_snapshot_path(st), why);
		return buf;
	}
	*base = journal_snapshot_seq(st);
	return NULL;
}

/* The first line not kept, with why in buf. */
static size_t
repair_keep(struct journal *st, struct flags *fs, uint64_t base, char *buf,
    size_t len)
{
	const struct journal_line	*lines;
	size_t			 n, keep, i;

	lines = journal_lines(st, &n);
	keep = journal_check(st, base, buf, len);
	for (i = 0; i < keep; i++) {
		if (lines[i].seq <= base)
			continue;
		if (flags_apply(fs, lines[i].rec) == -1) {
			snprintf(buf, len, "%s: line %zu, record %" PRIu64
			    " (byte %zu): not a change this warden can apply",
			    journal_path(st), lines[i].lineno,
			    lines[i].seq, lines[i].off);
			return i;
		}
	}
	return keep;
}

/* Does warden start on the repaired folder? */
static int
repair_verify(const struct config *conf, char *err, size_t errlen)
{
	struct journal	*st;
	struct flags	*fs = flags_new(conf);
	json_t		*snap, *recs;
	char		 why[512];
	size_t		 bad;
	int		 rc = 0;

	if (journal_open(conf->state_dir, &st, &snap, &recs, err, errlen) == -1) {
		flags_free(fs);
		return -1;
	}
	if (snap != NULL && flags_restore(fs, snap, why, sizeof(why)) == -1)
		rc = repair_err(err, errlen, "%s: %s",
		    journal_snapshot_path(st), why);
	else if (flags_replay(fs, recs, &bad) == -1)
		rc = journal_record_error(st, bad, "does not apply", err, errlen);
	json_decref(snap);
	json_decref(recs);
	journal_close(st);
	flags_free(fs);
	return rc;
}

int
repair_state(const struct config *conf, bool dry_run, FILE *out, char *err,
    size_t errlen)
{
	const struct journal_line	*lines;
	struct journal		*st;
	struct flags		*fs;
	struct stat		 sb;
	struct tm		 tm;
	const char		*snap_why, *jpath;
	char			 sbuf[640], why[1024], stamp[32];
	uint64_t		 base;
	size_t			 n, keep, i;
	time_t			 now;
	int			 rc = 0;

	if (stat(conf->state_dir, &sb) == -1 && errno == ENOENT) {
		fprintf(out, "%s: nothing to repair (no state yet)\n",
		    conf->state_dir);
		return 0;
	}
	if (journal_inspect(conf->state_dir, &st, err, errlen) == -1)
		return -1;
	fs = flags_new(conf);
	lines = journal_lines(st, &n);
	jpath = journal_path(st);
	snap_why = repair_snapshot(st, fs, &base, sbuf, sizeof(sbuf));
	keep = repair_keep(st, fs, base, why, sizeof(why));
	if (snap_why == NULL && keep == n) {
		fprintf(out, "%s: nothing to repair\n", conf->state_dir);
		goto done;
	}

	if (snap_why != NULL)
		fprintf(out, "%s\n%s: dropped: warden starts from the "
		    "defaults and the journal from record 1\n", snap_why,
		    journal_snapshot_path(st));
	else if (journal_snapshot_state(st) != NULL)
		fprintf(out, "%s: kept (records up to %" PRIu64 ")\n",
		    journal_snapshot_path(st), base);
	if (keep == 0)
		fprintf(out, "%s: no line kept\n", jpath);
	else
		fprintf(out, "%s: lines 1 to %zu kept (records %" PRIu64
		    " to %" PRIu64 ")\n", jpath, keep, lines[0].seq,
		    lines[keep - 1].seq);
	if (keep < n) {
		fprintf(out, "%s\n", why);
		for (i = keep; i < n; i++)
			repair_line(out, jpath, &lines[i], base);
	}

	now = time(NULL);
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0) {
		rc = repair_err(err, errlen, "cannot read the clock");
		goto done;
	}
	if (dry_run) {
		fprintf(out, "dry run: nothing changed; without --dry-run, "
		    "%zu line(s)%s would be moved aside with the suffix "
		    ".damaged-%s\n", n - keep, snap_why != NULL &&
		    journal_has_snapshot_file(st) ? " and state.json" : "",
		    stamp);
		goto done;
	}
	if (journal_salvage(st, keep, snap_why != NULL, stamp, err,
	    errlen) == -1) {
		rc = -1;
		goto done;
	}
	if (snap_why != NULL && journal_has_snapshot_file(st))
		fprintf(out, "%s: moved aside to %s.damaged-%s\n",
		    journal_snapshot_path(st), journal_snapshot_path(st), stamp);
	if (keep < n)
		fprintf(out, "%s: moved aside to %s.damaged-%s; %zu line(s) "
		    "kept in %s\n", jpath, jpath, stamp, keep, jpath);
	journal_close(st);
	st = NULL;
	if ((rc = repair_verify(conf, err, errlen)) == 0)
		fprintf(out, "repaired: %zu line(s) dropped%s; warden can "
		    "start\n", n - keep, snap_why != NULL ?
		    " and the snapshot" : "");
done:
	journal_close(st);
	flags_free(fs);
	return rc;
}
