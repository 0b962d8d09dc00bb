/*
 * check_journal.c: the journal's rules with the real daemon
 * (tests/harness.h). Acknowledged changes, a SIGKILL, then damage as a disk
 * makes it: warden must refuse to start, name the file, line and byte,
 * and leave both files as they were; `warden --repair-state` must keep
 * what verifies, move the rest aside, say what it dropped, and let warden
 * start with the changes before the damage. Records that verify but are
 * of another version, or do not apply, stop the start too, and so does a
 * snapshot that does not restore.
 */
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "flagload.h"
#include "testlib.h"
#include "journal.h"
#include "util.h"
#include "suite.h"

#define T_WAIT		10000	/* failure bound of one wait, ms */
#define T_CASE		60	/* failure bound of one test, s */

static const char conf[] =
    "{ \"flags\": { \"a\": {}, \"b\": { \"default\": 10 },"
    " \"c\": { \"default\": 20 } },\n"
    "  \"supervisor\": { \"children\": [] } }";

/* flag.set, acknowledged. */
static void
flag_set(struct harness *h, const char *name, int value)
{
	json_t	*r;

	r = harness_result(h, "flag.set", json_pack("{s:s, s:i}", "name",
	    name, "value", value));
	ck_assert_msg(r != NULL, "flag.set %s %d", name, value);
	json_decref(r);
}

static int
flag_value(struct harness *h, const char *name)
{
	json_t	*r, *v;
	int	 value;

	r = harness_result(h, "flag.get", json_pack("{s:s}", "name", name));
	ck_assert_msg(r != NULL, "flag.get %s", name);
	v = json_object_get(r, "value");
	if (json_is_boolean(v))
		value = json_is_true(v) ? 100 : 0;
	else {
		ck_assert_msg(json_is_integer(v), "flag.get %s: no value", name);
		value = (int)json_integer_value(v);
	}
	json_decref(r);
	return value;
}

static char *
file_of(struct harness *h, const char *name, size_t *len)
{
	char	*path = harness_path(h, name), *buf;

	buf = harness_read_file(path);
	ck_assert_msg(buf != NULL, "%s: %s", path, strerror(errno));
	*len = strlen(buf);
	free(path);
	return buf;
}

static void
write_file(struct harness *h, const char *name, const char *buf)
{
	char	*path = harness_path(h, name);
	FILE	*f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fputs(buf, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	free(path);
}

/* The state files' bytes, to see them untouched. */
struct files {
	char	*journal, *snap;
	size_t	 jlen, slen;
};

static void
files_take(struct harness *h, struct files *f)
{
	f->journal = file_of(h, "state/journal", &f->jlen);
	f->snap = file_of(h, "state/state.json", &f->slen);
}

static void
files_same(struct harness *h, const struct files *f, const char *when)
{
	struct files	now;

	files_take(h, &now);
	ck_assert_msg(now.jlen == f->jlen &&
	    strcmp(now.journal, f->journal) == 0, "%s: the journal changed",
	    when);
	ck_assert_msg(now.slen == f->slen && strcmp(now.snap, f->snap) == 0,
	    "%s: state.json changed", when);
	free(now.journal);
	free(now.snap);
}

static void
files_free(struct files *f)
{
	free(f->journal);
	free(f->snap);
}

/* warden must exit 1 on this state, saying all of words. */
static void
refuses(struct harness *h, const char *const *words, size_t n)
{
	char	*log;
	size_t	 i;

	harness_log_mark(h);
	ck_assert_int_eq(harness_spawn(h), 0);
	ck_assert_int_eq(harness_wait_exit(h, T_WAIT), 1);
	log = harness_log(h);
	ck_assert_ptr_nonnull(log);
	for (i = 0; i < n; i++)
		ck_assert_msg(strstr(log + h->log_mark, words[i]) != NULL,
		    "\"%s\" not in warden's log:\n%s", words[i],
		    log + h->log_mark);
	free(log);
}

/* warden --repair-state [--dry-run] -c CONFIG: its output, and status. */
static int
repair(struct harness *h, bool dry_run, char **out)
{
	const char	*argv[6];
	char		*err = NULL;
	int		 status, n = 0;

	argv[n++] = "warden";
	argv[n++] = "--repair-state";
	if (dry_run)
		argv[n++] = "--dry-run";
	argv[n++] = "-c";
	argv[n++] = h->config;
	argv[n] = NULL;
	status = harness_run(h, argv, out, &err, T_WAIT);
	ck_assert_ptr_nonnull(*out);
	if (err != NULL && *err != '\0')
		fprintf(stderr, "warden --repair-state: %s", err);
	free(err);
	return status;
}

static void
has(const char *text, const char *word)
{
	ck_assert_msg(strstr(text, word) != NULL, "\"%s\" not in:\n%s", word,
	    text);
}

/*
 * warden --repair-state [--dry-run] passes, and says each of says (a list
 * ended by NULL).
 */
static void
repair_says(struct harness *h, bool dry_run, const char *const *says)
{
	char	*out;

	ck_assert_int_eq(repair(h, dry_run, &out), 0);
	for (; *says != NULL; says++)
		has(out, *says);
	free(out);
}

/* A flag and the value it must have. */
struct flag_want {
	const char	*name;
	int		 value;
};

/* warden starts again, with these values (a list ended by a NULL name). */
static void
restarts_with(struct harness *h, const struct flag_want *want)
{
	restart(h);
	for (; want->name != NULL; want++)
		ck_assert_int_eq(flag_value(h, want->name), want->value);
	stop(h);
}

/* The name of the one file of DIR/state starting with prefix, malloc'd. */
static char *
aside(struct harness *h, const char *prefix)
{
	struct dirent	*e;
	char		*dir = harness_path(h, "state"), *found = NULL;
	DIR		*d = opendir(dir);

	ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
			ck_assert_msg(found == NULL, "two %s files", prefix);
			xasprintf(&found, "state/%s", e->d_name);
		}
	closedir(d);
	free(dir);
	return found;
}

/*
 * History: a = 100 in state.json (a clean stop), then b = 30, c = 70,
 * b = 45 in the journal, acknowledged, and a SIGKILL.
 */
static void
history(struct harness *h)
{
	json_t	*r;

	start(h, conf);
	flag_set(h, "a", 100);
	/* A clean stop writes the snapshot; harness_stop() would clean up. */
	r = harness_result(h, "shutdown", NULL);
	ck_assert_ptr_nonnull(r);
	json_decref(r);
	ck_assert_int_eq(harness_wait_exit(h, T_WAIT), 0);
	restart(h);
	flag_set(h, "b", 30);
	flag_set(h, "c", 70);
	flag_set(h, "b", 45);
	kill_warden(h);
}

START_TEST(test_damage_refused_then_repaired)
{
	struct harness	 h;
	struct files	 f;
	char		*journal, *path, *p, *moved, at[32];
	const char	*words[4];
	size_t		 len, second;

	history(&h);
	/* One byte of the first record flips, as a bad sector would. */
	journal = file_of(&h, "state/journal", &len);
	p = strstr(journal, "\"at\":");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(strchr(journal, '\n'));
	ck_assert(p < strchr(journal, '\n'));
	p[6] = p[6] == '1' ? '2' : '1';
	write_file(&h, "state/journal", journal);
	second = (size_t)(strchr(journal, '\n') - journal) + 1;
	files_take(&h, &f);

	path = harness_path(&h, "state/journal");
	words[0] = path;
	words[1] = "line 1 (byte 0)";
	words[2] = "bad checksum";
	words[3] = "2 more line(s)";
	refuses(&h, words, 4);
	files_same(&h, &f, "after the refusal");
	/* Again: nothing was cut the first time. */
	refuses(&h, words, 4);
	files_same(&h, &f, "after the second refusal");

	/* A dry run says what it would drop and changes nothing. */
	repair_says(&h, true, (const char *const[]){ "dry run",
	    "line 1 (byte 0)", NULL });
	files_same(&h, &f, "after a dry run");

	snprintf(at, sizeof(at), "line 2 (byte %zu)", second);
	repair_says(&h, false, (const char *const[]){
	    "state.json: kept (records up to 1)", "line 1 (byte 0): dropped",
	    "bad checksum; reads as record 2, flag.set b=30 (unverified)", at,
	    "record 3, flag.set c=70", "record 4, flag.set b=45",
	    "moved aside", "repaired: 3 line(s) dropped", NULL });
	moved = aside(&h, "journal.damaged-");
	ck_assert_ptr_nonnull(moved);
	free(journal);
	journal = file_of(&h, moved, &len);
	ck_assert_msg(len == f.jlen && strcmp(journal, f.journal) == 0,
	    "%s is not the journal as it was", moved);
	free(journal);
	journal = file_of(&h, "state/journal", &len);
	ck_assert_uint_eq(len, 0);
	free(journal);
	free(moved);

	repair_says(&h, false, (const char *const[]){ "nothing to repair",
	    NULL });

	/* What came before the damage, and none of what came after. */
	restarts_with(&h, (const struct flag_want[]){ { "a", 100 },
	    { "b", 10 }, { "c", 20 }, { NULL, 0 } });
	files_free(&f);
	free(path);
}
END_TEST

/* A running warden's folder is not repaired under it. */
START_TEST(test_repair_refused_while_running)
{
	struct harness	 h;
	char		*out;

	start(&h, conf);
	flag_set(&h, "b", 30);
	ck_assert_int_eq(repair(&h, false, &out), 1);
	free(out);
	ck_assert_int_eq(flag_value(&h, "b"), 30);
	stop(&h);
}
END_TEST

/*
 * Records that verify but are of another version, or do not apply, with a
 * good record after them: warden stops rather than skip one and apply the
 * next on top.
 */
static const char *const odd[] = {
	"{\"v\":2,\"op\":\"flag.set\",\"at\":1,\"changes\":[{\"name\":\"c\","
	    "\"old\":70,\"new\":5}],\"seq\":5}",
	"{\"v\":1,\"op\":\"flag.toggle\",\"at\":1,\"changes\":[],\"seq\":5}",
};

START_TEST(test_odd_record_refused)
{
	struct harness	 h;
	struct files	 f;
	char		*journal, *all, *path, *good, at[32];
	const char	*words[4];
	size_t		 len;

	history(&h);
	journal = file_of(&h, "state/journal", &len);
	xasprintf(&good, "{\"v\":1,\"op\":\"flag.set\",\"at\":1,\"changes\":"
	    "[{\"name\":\"b\",\"old\":45,\"new\":99}],\"seq\":6}");
	xasprintf(&all, "%s%08x %s\n%08x %s\n", journal,
	    journal_crc32c(odd[_i], strlen(odd[_i])), odd[_i],
	    journal_crc32c(good, strlen(good)), good);
	write_file(&h, "state/journal", all);
	files_take(&h, &f);
	path = harness_path(&h, "state/journal");
	snprintf(at, sizeof(at), "byte %zu", len);
	words[0] = path;
	words[1] = "line 4, record 5";
	words[2] = at;
	words[3] = _i == 0 ? "record version 2" : "not a change this warden";
	refuses(&h, words, 4);
	files_same(&h, &f, "after the refusal");

	repair_says(&h, false, (const char *const[]){ "line 4 (byte",
	    "record 5", "line 5 (byte", "record 6, flag.set b=99", NULL });
	restarts_with(&h, (const struct flag_want[]){ { "b", 45 },
	    { "c", 70 }, { NULL, 0 } });
	files_free(&f);
	free(path);
	free(good);
	free(all);
	free(journal);
}
END_TEST

/*
 * A snapshot that reads but does not restore: the start stops, and the
 * way out must not write a snapshot of the defaults over it on its way.
 */
START_TEST(test_bad_snapshot_untouched)
{
	struct harness	 h;
	struct files	 f;
	char		*path, *moved;
	const char	*words[3];

	history(&h);
	write_file(&h, "state/state.json",
	    "{\"version\": 1, \"seq\": 1, \"state\": {\"stage\": -1}}\n");
	files_take(&h, &f);
	path = harness_path(&h, "state/state.json");
	words[0] = path;
	words[1] = "stage: expected an integer >= 0";
	words[2] = "warden --repair-state";
	refuses(&h, words, 3);
	files_same(&h, &f, "after the refusal");

	/* Without it, the journal (records 2 to 4) has nothing to follow. */
	repair_says(&h, false, (const char *const[]){
	    "stage: expected an integer >= 0", "no line kept",
	    "record 2, flag.set b=30", "state.json: moved aside", NULL });
	moved = aside(&h, "state.json.damaged-");
	ck_assert_ptr_nonnull(moved);
	free(moved);
	restarts_with(&h, (const struct flag_want[]){ { "a", 0 }, { "b", 10 },
	    { NULL, 0 } });
	files_free(&f);
	free(path);
}
END_TEST

/* --- group commit ------------------------------------------------------------- */

#define GROUP_ROUNDS	15	/* 64 x 15 = 960 records: under a snapshot's 1,000 */

/*
 * The journal's lines in order: seq 1, 2, 3 ..., every one a flag.set of
 * c<i> to the value after its last one. count: the records.
 */
static size_t
group_check_journal(struct harness *h)
{
	char		*path = harness_path(h, "state/journal"), *text, *p, *nl;
	int		 last[FLAGLOAD_CLIENTS] = { 0 }, i;
	json_t		*rec;
	const char	*name;
	size_t		 n = 0;

	ck_assert_ptr_nonnull(text = harness_read_file(path));
	for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		ck_assert_msg(strlen(p) > 9, "line %zu: %s", n + 1, p);
		rec = json_loads(p + 9, 0, NULL);
		ck_assert_msg(rec != NULL, "line %zu: not a record: %s", n + 1, p);
		n++;
		ck_assert_int_eq(json_integer_value(json_object_get(rec, "seq")),
		    (json_int_t)n);
		name = json_string_value(json_object_get(rec, "name"));
		ck_assert_msg(name != NULL && name[0] == 'c', "line %zu: %s", n, p);
		i = atoi(name + 1);
		ck_assert(i >= 0 && i < FLAGLOAD_CLIENTS);
		ck_assert_msg(json_integer_value(json_object_get(json_array_get(
		    json_object_get(rec, "changes"), 0), "new")) == last[i] + 1,
		    "line %zu: %s after %d", n, p, last[i]);
		last[i]++;
		json_decref(rec);
	}
	free(text);
	free(path);
	return n;
}

/*
 * 64 clients write at once: every change answered OK, the journal holds
 * them all in order, a restart replays them, and far fewer syncs than
 * writes were taken: 64 writes read in one go (warden stopped while they
 * are sent) take a handful.
 */
START_TEST(test_group_64_clients)
{
	struct harness	 h;
	struct flagload	 fl;
	char		*text = flagload_config(), *out = NULL, want[64];
	unsigned	 syncs, first;
	int		 i;

	start(&h, text);
	flagload_open(&fl, &h);
	first = flagload_round_stopped(&fl);
	ck_assert_msg(first >= 1 && first <= 4, "64 writes read at once took "
	    "%u syncs", first);
	flagload_start(&fl, GROUP_ROUNDS, 0);
	flagload_join(&fl);
	for (i = 0; i < FLAGLOAD_CLIENTS; i++) {
		ck_assert_msg(!fl.failed[i] && fl.acked[i] == GROUP_ROUNDS,
		    "client %d: %d of %d answered OK", i, fl.acked[i],
		    GROUP_ROUNDS);
		ck_assert_int_eq(flagload_value(&h, i), GROUP_ROUNDS);
	}
	ck_assert_uint_eq(group_check_journal(&h),
	    FLAGLOAD_CLIENTS * GROUP_ROUNDS);
	syncs = flagload_syncs(&h);
	ck_assert_msg(syncs <= FLAGLOAD_CLIENTS * GROUP_ROUNDS - 60,
	    "%u syncs for %d writes", syncs, FLAGLOAD_CLIENTS * GROUP_ROUNDS);
	/* wardenctl says the same count. */
	ck_assert_int_eq(harness_ctl(&h, &out, NULL, "table", "info", NULL), 0);
	snprintf(want, sizeof(want), "syncs        %u\n", syncs);
	ck_assert_msg(out != NULL && strstr(out, want) != NULL,
	    "wardenctl table info: %s", out);
	free(out);
	flagload_close(&fl);

	kill_warden(&h);
	restart(&h);
	for (i = 0; i < FLAGLOAD_CLIENTS; i++)
		ck_assert_int_eq(flagload_value(&h, i), GROUP_ROUNDS);
	free(text);
	stop(&h);
}
END_TEST

static Suite *
journal_suite(void)
{
	Suite	*s = suite_create("journal");
	TCase	*tc = tcase_create("journal");

	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_damage_refused_then_repaired);
	tcase_add_test(tc, test_repair_refused_while_running);
	tcase_add_loop_test(tc, test_odd_record_refused, 0, (int)nitems(odd));
	tcase_add_test(tc, test_bad_snapshot_untouched);
	tcase_add_test(tc, test_group_64_clients);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(journal_suite)
