/*
 * fuzz_state.c: the journal and snapshot loader (src/core/journal.c) and the
 * replay behind it (flags_restore, flags_replay), as warden runs them at
 * start, and the repair (src/daemon/repair.c) when they refuse.
 *
 * The input is state.json's bytes, a NUL, and the journal's bytes (no NUL:
 * all journal, no state.json; nothing before the NUL: no state.json). A
 * journal line whose checksum is "********" gets its right checksum, so
 * that mutations of the JSON get past it. Both files go into a scratch
 * state folder, then:
 *
 *   - a refusal (journal_open, flags_restore or flags_replay failing) must
 *     be one line naming the state folder, and leave both files byte for
 *     byte; `warden --repair-state` must then leave a folder that warden
 *     opens and replays;
 *   - an acceptance must be consistent: the records come in sequence after
 *     the snapshot, each of the known version; journal_begin() leaves the
 *     journal a prefix of what it was (the torn last line cut) or empty
 *     (all in the snapshot); a second open accepts, with no torn tail, and
 *     replays to the same state; an append after it is read back.
 *
 * Syncs are no-ops here: what they order is checked by check_state.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "flags.h"
#include "fuzz-util.h"
#include "log.h"
#include "repair.h"
#include "journal.h"
#include "util.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char		*sdir;		/* the state folder */
static struct config	*conf;
static FILE		*devnull;
static bool		 verbose;	/* FUZZ_VERBOSE: say what became of each input */

#define fuzz_state_fail(...)	fuzz_fail("fuzz_state", __VA_ARGS__)

static int
fuzz_state_nosync(int fd)
{
	(void)fd;
	return 0;
}

static char *
fuzz_state_path(const char *name)
{
	char	*p;

	xasprintf(&p, "%s/%s", sdir, name);
	return p;
}

/* A whole file, or NULL when it does not exist. */
static char *
fuzz_state_read(const char *name, size_t *len)
{
	char	*p = fuzz_state_path(name), *buf = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	int	 fd;

	*len = 0;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	free(p);
	if (fd == -1) {
		if (errno != ENOENT)
			fuzz_state_fail("open %s: %s", name, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - *len < 4096) {
			cap = cap == 0 ? 8192 : cap * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = read(fd, buf + *len, cap - *len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			fuzz_state_fail("read %s: %s", name, strerror(errno));
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	return buf;
}

static bool
fuzz_state_is(const char *name, const char *want, size_t wlen, bool there)
{
	size_t	 len;
	char	*buf = fuzz_state_read(name, &len);
	bool	 same;

	same = (buf != NULL) == there &&
	    (!there || (len == wlen && (wlen == 0 || memcmp(buf, want, len) == 0)));
	free(buf);
	return same;
}

/* Empty the state folder: every file of the last input goes. */
static void
fuzz_state_clear(void)
{
	struct dirent	*e;
	DIR		*d;

	if ((d = opendir(sdir)) == NULL)
		fuzz_state_fail("%s: %s", sdir, strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' &&
		    unlinkat(dirfd(d), e->d_name, 0) == -1)
			fuzz_state_fail("unlink %s: %s", e->d_name,
			    strerror(errno));
	closedir(d);
}

/* The journal with "********" checksums made right. */
static char *
fuzz_state_fixup(const char *in, size_t len)
{
	char	*out = xmalloc(len + 1), *line, *nl, crc[9];

	memcpy(out, in, len);
	out[len] = '\0';
	for (line = out; line < out + len; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(out + len - line))) ==
		    NULL)
			nl = out + len;
		if (nl - line >= 9 && memcmp(line, "********", 8) == 0 &&
		    line[8] == ' ') {
			snprintf(crc, sizeof(crc), "%08x", journal_crc32c(line +
			    9, (size_t)(nl - line - 9)));
			memcpy(line, crc, 8);
		}
	}
	return out;
}

/* Open and replay as flagsvc_init() does. 0 with *out, or -1 with err. */
static int
fuzz_state_load(struct journal **st, struct flags **out, json_t **records,
    char *err, size_t errlen)
{
	struct flags	*fs = flags_new(conf);
	json_t		*snap, *recs;
	char		 why[512];
	size_t		 bad;

	*out = NULL;
	if (journal_open(sdir, st, &snap, &recs, err, errlen) == -1) {
		if (*st != NULL || snap != NULL || recs != NULL)
			fuzz_state_fail("an error, and state: %s", err);
		flags_free(fs);
		return -1;
	}
	if (snap != NULL && flags_restore(fs, snap, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", journal_snapshot_path(*st), why);
		goto fail;
	}
	if (flags_replay(fs, recs, &bad) == -1) {
		if (bad >= json_array_size(recs))
			fuzz_state_fail("replay: bad record %zu of %zu", bad,
			    json_array_size(recs));
		journal_record_error(*st, bad, "does not apply", err, errlen);
		goto fail;
	}
	json_decref(snap);
	*records = recs;
	*out = fs;
	return 0;
fail:
	json_decref(snap);
	json_decref(recs);
	journal_close(*st);
	*st = NULL;
	flags_free(fs);
	return -1;
}

static void
fuzz_state_check_err(const char *err)
{
	if (memchr(err, '\0', 1024) == NULL)
		fuzz_state_fail("the error is not NUL-terminated");
	if (strncmp(err, sdir, strlen(sdir)) != 0)
		fuzz_state_fail("the error does not name the folder: %s", err);
	if (strchr(err, '\n') != NULL)
		fuzz_state_fail("the error is not one line: %s", err);
}

/* Records in sequence after the snapshot, each of the known version. */
static void
fuzz_state_check_records(struct journal *st, const json_t *recs)
{
	json_t		*rec;
	uint64_t	 seq, prev = 0;
	size_t		 i;

	json_array_foreach(recs, i, rec) {
		seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
		if (json_integer_value(json_object_get(rec, "v")) !=
		    JOURNAL_RECORD_VERSION)
			fuzz_state_fail("record %zu of another version", i);
		if (i == 0 && seq != journal_snapshot_seq(st) + 1)
			fuzz_state_fail("first record %llu after snapshot %llu",
			    (unsigned long long)seq,
			    (unsigned long long)journal_snapshot_seq(st));
		if (i > 0 && seq != prev + 1)
			fuzz_state_fail("record %llu after %llu",
			    (unsigned long long)seq, (unsigned long long)prev);
		prev = seq;
	}
	if (prev != 0 && journal_seq(st) != prev)
		fuzz_state_fail("journal_seq %llu, last record %llu",
		    (unsigned long long)journal_seq(st), (unsigned long long)prev);
}

static void
fuzz_state_accepted(struct journal *st, struct flags *fs, json_t *recs,
    const char *journal, size_t jlen)
{
	struct journal	*again;
	struct flags	*fs2;
	json_t		*a, *b, *recs2, *rec;
	char		 err[1024], *now;
	size_t		 len, dropped = journal_dropped_bytes(st);
	uint64_t	 seq = journal_seq(st);

	fuzz_state_check_records(st, recs);
	if (dropped > jlen)
		fuzz_state_fail("dropped %zu of %zu bytes", dropped, jlen);
	if (journal_begin(st, err, sizeof(err)) == -1)
		fuzz_state_fail("journal_begin: %s", err);
	now = fuzz_state_read("journal", &len);
	if (len != 0 && (len != jlen - dropped || memcmp(now, journal,
	    len) != 0))
		fuzz_state_fail("the journal is not what it was, less its torn "
		    "tail (%zu bytes, %zu - %zu before)", len, jlen, dropped);
	if (len != 0 && len < jlen &&
	    memchr(journal + len, '\n', jlen - len - 1) != NULL)
		fuzz_state_fail("more than the last line was cut");
	free(now);
	a = flags_snapshot_json(fs);
	journal_close(st);

	if (fuzz_state_load(&again, &fs2, &recs2, err, sizeof(err)) == -1)
		fuzz_state_fail("refused on the second open: %s", err);
	if (journal_dropped_bytes(again) != 0)
		fuzz_state_fail("a torn tail again");
	if (journal_seq(again) != seq)
		fuzz_state_fail("seq %llu, then %llu", (unsigned long long)seq,
		    (unsigned long long)journal_seq(again));
	b = flags_snapshot_json(fs2);
	if (!json_equal(a, b))
		fuzz_state_fail("a second open replays to another state");
	if (journal_begin(again, err, sizeof(err)) == -1)
		fuzz_state_fail("journal_begin: %s", err);
	/* One more change goes after the rest and comes back. */
	rec = json_pack("{s:i, s:s, s:I, s:n, s:n, s:[]}", "v",
	    FLAGS_RECORD_VERSION, "op", "flag.reset", "at", (json_int_t)1, "by",
	    "reason", "changes");
	if (journal_append(again, rec) == -1)
		fuzz_state_fail("append: %s", strerror(errno));
	json_decref(rec);
	journal_close(again);
	json_decref(recs2);
	flags_free(fs2);
	if (fuzz_state_load(&again, &fs2, &recs2, err, sizeof(err)) == -1)
		fuzz_state_fail("refused after an append: %s", err);
	if (journal_seq(again) != seq + 1)
		fuzz_state_fail("the append is not read back");
	journal_close(again);
	json_decref(recs2);
	flags_free(fs2);
	json_decref(a);
	json_decref(b);
}

static void
fuzz_state_refused(const char *err, const char *snap, size_t slen,
    bool has_snap, const char *journal, size_t jlen)
{
	struct journal	*st;
	struct flags	*fs;
	json_t		*recs;
	char		 rerr[1024];

	fuzz_state_check_err(err);
	if (!fuzz_state_is("state.json", snap, slen, has_snap))
		fuzz_state_fail("state.json changed on a refusal: %s", err);
	if (!fuzz_state_is("journal", journal, jlen, true))
		fuzz_state_fail("the journal changed on a refusal: %s", err);
	if (repair_state(conf, false, devnull, rerr, sizeof(rerr)) == -1)
		fuzz_state_fail("the repair failed: %s (refused: %s)", rerr,
		    err);
	if (fuzz_state_load(&st, &fs, &recs, rerr, sizeof(rerr)) == -1)
		fuzz_state_fail("refused after the repair: %s", rerr);
	journal_close(st);
	json_decref(recs);
	flags_free(fs);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	*text, err[1024];

	(void)argc;
	(void)argv;
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	log_init("fuzz_state", verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_ERR);
	journal_io.fsync = fuzz_state_nosync;
	journal_io.fdatasync = fuzz_state_nosync;
	xasprintf(&sdir, "%s/state", fuzz_scratch_dir("state"));
	xasprintf(&text, "{ \"state_dir\": \"%s\", \"socket\": \"/nonexistent"
	    "/s\", \"flags\": { \"a\": {}, \"b\": {}, \"c\": {\"default\": "
	    "10}, \"d\": {\"default\": true} }, \"stages\": [ {\"stage\": 1, "
	    "\"enable\": [\"a\"]}, {\"stage\": 2, \"enable\": [\"b\", \"c\"]} "
	    "], \"supervisor\": { \"children\": [] } }", sdir);
	if (config_parse(text, strlen(text), "/fuzz.json", &conf, err,
	    sizeof(err)) == -1)
		fuzz_state_fail("config: %s", err);
	free(text);
	if ((devnull = fopen("/dev/null", "w")) == NULL)
		fuzz_state_fail("/dev/null: %s", strerror(errno));
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal	*st;
	struct flags	*fs;
	json_t		*recs;
	const char	*in = (const char *)data, *nul;
	char		 err[1024], *journal, *p;
	size_t		 slen = 0, jlen;
	bool		 has_snap = false;

	if ((nul = memchr(in, '\0', size)) != NULL) {
		slen = (size_t)(nul - in);
		has_snap = slen > 0;
		journal = fuzz_state_fixup(nul + 1, size - slen - 1);
		jlen = size - slen - 1;
	} else {
		journal = fuzz_state_fixup(in, size);
		jlen = size;
	}
	if (mkdir(sdir, 0750) == -1 && errno != EEXIST)
		fuzz_state_fail("%s: %s", sdir, strerror(errno));
	fuzz_state_clear();
	if (has_snap) {
		p = fuzz_state_path("state.json");
		if (fuzz_write_file(p, in, slen) == -1)
			fuzz_state_fail("write state.json: %s", strerror(errno));
		free(p);
	}
	p = fuzz_state_path("journal");
	if (fuzz_write_file(p, journal, jlen) == -1)
		fuzz_state_fail("write journal: %s", strerror(errno));
	free(p);

	memset(err, 'x', sizeof(err));
	if (fuzz_state_load(&st, &fs, &recs, err, sizeof(err)) == 0) {
		if (verbose)
			fprintf(stderr, "fuzz_state: accepted: %zu record(s), "
			    "%zu byte(s) torn\n", json_array_size(recs),
			    journal_dropped_bytes(st));
		fuzz_state_accepted(st, fs, recs, journal, jlen);
		json_decref(recs);
		flags_free(fs);
	} else {
		if (verbose)
			fprintf(stderr, "fuzz_state: refused: %s\n", err);
		fuzz_state_refused(err, in, slen, has_snap, journal, jlen);
	}
	free(journal);
	return 0;
}
