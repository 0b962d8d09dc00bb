/*
 * flagsvc.c: flags, stages and the shared table inside the daemon (see
 * flagsvc.h).
 *
 * A change goes: validate (flags_op_*) -> journal -> one fdatasync for the
 * changes of a turn of the loop -> apply -> publish the table -> events ->
 * answer (flagsvc-commit.c). If the disk refuses, the clients get
 * "unavailable" and nothing changed anywhere.
 *
 * The table is watched two ways: inotify on its folder (/dev/shm) sees an
 * unlink at once, and a check every TABLE_CHECK_MS compares the object with
 * what was published (damage has no inotify event). Either publishes a
 * fresh table from the daemon's own state; the shared table is never read
 * back as the truth.
 *
 * When the table cannot be made (/dev/shm full, the name held by another
 * user we may not displace) it is "unavailable": warden runs on, keeps the
 * state, says why (status, recovery, table.info, the log once per change
 * of reason, a table.unavailable event) and tries again at each check,
 * publishing as soon as it can (a repair: table.repaired).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "events.h"
#include "flags.h"
#include "hooks.h"
#include "flagsvc.h"
#include "fleetd.h"
#include "flagsvc-private.h"
#include "log.h"
#include "readers.h"
#include "journal.h"
#include "table.h"
#include "util.h"

_Static_assert(CONFIG_FLAGS_MAX == TABLE_CAPACITY,
    "the config must refuse what the table cannot hold");
_Static_assert(FLAGS_RECORD_VERSION == JOURNAL_RECORD_VERSION,
    "the journal must take the records flags.c makes");

#define TABLE_CHECK_MS	100	/* damage is noticed within this (and a repair's time) */
#define SHM_FOLDER	"/dev/shm"

static struct event_base	*base;
static const struct config	*conf;
static struct flags		*fs;
static struct journal		*st;
static struct table		*table;
static struct flags_guard	 guard;
static struct event		*ev_check, *ev_inotify;
static int			 inotify_fd = -1;
static bool			 healthy = true;
static bool			 unavailable;	/* the name leads to no table of ours */
static char			 unavailable_why[256];
static uint64_t			 last_try;	/* the last attempt while unavailable (us) */
static unsigned			 repairs;
static uint64_t			 guard_rollbacks;
static double			 last_repair_ms = -1;
static uint64_t			 fault_at;	/* when a drill broke the table (us), 0: none */
static uint64_t			 broken_at;	/* when we saw it broken (us), 0: not seen */
static bool			 pin_due;	/* the last pin failed: retry before a change */

int64_t
flagsvc_realtime_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		fatal("clock_gettime");
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
flagsvc_publish(void)
{
	struct table_flag	*tf;
	size_t			 i;

	if (table == NULL)
		return;
	tf = xcalloc(fs->nflags, sizeof(*tf));
	for (i = 0; i < fs->nflags; i++) {
		tf[i].name = fs->flag[i].name;
		tf[i].value = (uint32_t)fs->flag[i].value;
	}
	if (table_publish(table, fs->stage, tf, fs->nflags) == -1)
		log_warn("table %s: publish", table_name(table));
	free(tf);
}

/* --- repair ------------------------------------------------------------------ */

/* The table is whole again (republished, or rewritten by a publish). */
static void
flagsvc_repaired(void)
{
	uint64_t	now = util_now_us(), since;

	since = fault_at != 0 ? fault_at : broken_at != 0 ? broken_at : now;
	fault_at = broken_at = 0;
	healthy = true;
	repairs++;
	last_repair_ms = (double)(now - since) / 1000.0;
	log_info("table %s: repaired (generation %llu, %.3f ms)", table_name(table),
	    (unsigned long long)table_generation(table), last_repair_ms);
	events_emit("table.repaired", json_pack("{s:s,s:I,s:f,s:i}", "name",
	    table_name(table), "generation", (json_int_t)table_generation(table),
	    "repair_ms", last_repair_ms, "repairs", (int)repairs));
}

/*
 * The table could not be made: say so when it starts, and again only when
 * the reason changes; the check retries.
 */
static void
flagsvc_unavailable(const char *why)
{
	healthy = false;
	if (broken_at == 0)
		broken_at = util_now_us();
	if (unavailable && strcmp(why, unavailable_why) == 0)
		return;
	unavailable = true;
	snprintf(unavailable_why, sizeof(unavailable_why), "%s", why);
	log_warnx("table %s: unavailable: %s; trying again every %d ms",
	    table_name(table), unavailable_why, TABLE_CHECK_MS);
	events_emit("table.unavailable", json_pack("{s:s,s:s}", "name",
	    table_name(table), "error", unavailable_why));
}

/* A fresh table is under the name. */
static void
flagsvc_made(void)
{
	long	uid;

	if ((uid = table_replaced_uid(table)) != -1)
		log_warnx("table %s: replaced an object of uid %ld that held "
		    "its name", table_name(table), uid);
	if (unavailable)
		log_info("table %s: available again", table_name(table));
	unavailable = false;
	unavailable_why[0] = '\0';
}

/* Put a fresh table under the name. false: unavailable, and why. */
static bool
flagsvc_make(void)
{
	char	err[256];

	last_try = util_now_us();
	if (table_republish(table, err, sizeof(err)) == -1) {
		flagsvc_unavailable(err);
		return false;
	}
	flagsvc_made();
	return true;
}

static void
flagsvc_repair(int what)
{
	/* Published from the state in force: with no group half taken. */
	flagsvc_flush();
	healthy = false;
	if (broken_at == 0)
		broken_at = util_now_us();
	if ((what & TABLE_DELETED) != 0) {
		log_warnx("table %s: deleted; publishing it again", table_name(table));
		events_emit("table.deleted", json_pack("{s:s}", "name", table_name(table)));
	} else
		log_warnx("table %s: damaged; publishing it again", table_name(table));
	if (!flagsvc_make())
		return;
	/* Published from our state, so the content is what we hold. */
	flagsvc_publish();
	flagsvc_repaired();
}

static void
flagsvc_check(void)
{
	int	what;

	if (table == NULL)
		return;
	if (unavailable) {
		/* At most twice a check period, however often inotify calls. */
		if (util_now_us() - last_try < TABLE_CHECK_MS * 1000 / 2)
			return;
		if (flagsvc_make()) {
			flagsvc_publish();
			flagsvc_repaired();
		}
		return;
	}
	if ((what = table_check(table)) != TABLE_OK)
		flagsvc_repair(what);
	else if (!healthy)
		flagsvc_repaired();
}

static void
flagsvc_check_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	flagsvc_check();
}

static void
flagsvc_inotify_cb(evutil_socket_t fd, short ev, void *arg)
{
	char			 buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ie;
	const char		*mine = table != NULL ? table_name(table) + 1 : "";
	ssize_t			 n;
	bool			 ours = false;
	char			*p;

	(void)ev;
	(void)arg;
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("inotify");
			break;
		}
		for (p = buf; p < buf + n; p += sizeof(*ie) + ie->len) {
			ie = (const struct inotify_event *)(void *)p;
			if ((ie->mask & IN_Q_OVERFLOW) != 0 ||
			    (ie->len > 0 && strcmp(ie->name, mine) == 0))
				ours = true;
		}
	}
	if (ours)
		flagsvc_check();
}

static void
flagsvc_watch(void)
{
	struct timeval	tv = { 0, TABLE_CHECK_MS * 1000 };

	ev_check = event_new(base, -1, EV_PERSIST, flagsvc_check_cb, NULL);
	if (ev_check == NULL || event_add(ev_check, &tv) == -1)
		fatalx("cannot arm the table check");
	inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (inotify_fd == -1 || inotify_add_watch(inotify_fd, SHM_FOLDER,
	    IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE) == -1) {
		/* The periodic check still notices, within TABLE_CHECK_MS. */
		log_warn("inotify on %s", SHM_FOLDER);
		if (inotify_fd != -1)
			close(inotify_fd);
		inotify_fd = -1;
		return;
	}
	ev_inotify = event_new(base, inotify_fd, EV_READ | EV_PERSIST,
	    flagsvc_inotify_cb, NULL);
	if (ev_inotify == NULL || event_add(ev_inotify, NULL) == -1)
		fatalx("cannot watch %s", SHM_FOLDER);
}

/* --- changes ------------------------------------------------------------------- */

void
flagsvc_guard_follow(const json_t *rec)
{
	int	from, to;

	if (!flags_record_stage(rec, &from, &to))
		return;
	if (to > from) {
		flags_guard_arm(&guard, to, util_now_ms());
		guard.from = from;
	}
	else
		flags_guard_disarm(&guard);
}

/*
 * Pin the state as this configuration made it: a snapshot of every flag's
 * value, the stage and the saved sets, taken each time warden takes a
 * configuration (at start and at each reload). Replay starts from the
 * latest snapshot, so it never has to guess a value from the config file
 * of the day: a flag nobody changed keeps the value it had when the
 * history was written, whether warden last stopped cleanly, was killed, or
 * reloaded first, and also when its default was edited meanwhile.
 * 0, or -1 with errno (then pin_due, and no change is taken before a pin
 * succeeds).
 */
static int
flagsvc_pin(void)
{
	json_t	*snap = flags_snapshot_json(fs);
	int	 rc, saved;

	rc = journal_snapshot(st, snap);
	saved = errno;
	json_decref(snap);
	pin_due = rc == -1;
	errno = saved;
	return rc;
}

int
flagsvc_pin_if_due(void)
{
	return pin_due ? flagsvc_pin() : 0;
}

void
flagsvc_snapshot_if_due(void)
{
	json_t	*snap;

	if (!journal_snapshot_due(st))
		return;
	snap = flags_snapshot_json(fs);
	if (journal_snapshot(st, snap) == -1)
		log_warn("state snapshot (the journal still holds every change)");
	json_decref(snap);
}

struct flags *
flagsvc_state(void)
{
	return fs;
}

struct journal *
flagsvc_journal(void)
{
	return st;
}

const struct config *
flagsvc_config(void)
{
	return conf;
}

void
flagsvc_note_restart(struct node *n)
{
	struct flags_ctx	 ctx;
	json_t			*rec = NULL;
	char			*reason, err[256];
	int			 from;

	if (fs == NULL || !conf->guard.enabled ||
	    (conf->guard.scope == GUARD_SCOPE_READERS && (!guard.armed ||
	    !readers_guarded(n, fs, guard.from, guard.stage))) ||
	    !flags_guard_note(&guard, &conf->guard, util_now_ms()))
		return;
	/* Judged against the state in force, with no group half taken. */
	flagsvc_flush();
	from = fs->stage;
	reason = flags_guard_reason(&guard, &conf->guard);
	ctx.now_ms = flagsvc_realtime_ms();
	ctx.by = NULL;
	ctx.reason = reason;
	if (flags_op_guard(fs, &ctx, &rec, err, sizeof(err)) != FLAGS_OK)
		log_warnx("guard: cannot roll back: %s", err);
	else if (flagsvc_commit_record(json_incref(rec), err, sizeof(err)) !=
	    FLAGSVC_OK)
		log_warnx("guard: %s, but the rollback could not be made "
		    "durable: %s", reason, err);
	else {
		guard_rollbacks++;
		log_warnx("%s: rolled back to stage %d", reason, fs->stage);
		fleetd_state_changed();	/* the fleet hears of it */
		hooks_guard_rollback(conf->guard.on_failure, from, fs->stage,
		    reason, guard.count);
	}
	json_decref(rec);
	free(reason);
}

/* --- reads ----------------------------------------------------------------------- */

const struct flags *
flagsvc_flags(void)
{
	return fs;
}

int
flagsvc_stage(void)
{
	return fs != NULL ? fs->stage : 0;
}

uint64_t
flagsvc_generation(void)
{
	return table != NULL ? table_generation(table) : 0;
}

unsigned
flagsvc_repairs(void)
{
	return repairs;
}

uint64_t
flagsvc_guard_rollbacks(void)
{
	return guard_rollbacks;
}

bool
flagsvc_table_healthy(void)
{
	return healthy;
}

bool
flagsvc_table_available(void)
{
	return table != NULL && !unavailable;
}

const char *
flagsvc_table_error(void)
{
	return unavailable ? unavailable_why : NULL;
}

json_t *
flagsvc_table_health(void)
{
	return json_pack("{s:b,s:i,s:o,s:b,s:o}", "healthy", healthy,
	    "repairs", (int)repairs, "last_repair_ms", last_repair_ms >= 0 ?
	    json_real(last_repair_ms) : json_null(), "available",
	    flagsvc_table_available(), "error", unavailable ?
	    json_string(unavailable_why) : json_null());
}

json_t *
flagsvc_table_info(void)
{
	json_t	*r = flagsvc_table_health();

	json_object_set_new(r, "name", json_string(table_name(table)));
	json_object_set_new(r, "generation", json_integer((json_int_t)table_generation(table)));
	json_object_set_new(r, "journal_syncs",
	    json_integer((json_int_t)flagsvc_journal_syncs()));
	return r;
}

int
flagsvc_table_delete(void)
{
	if (unavailable) {
		errno = ENOENT;
		return -1;
	}
	if (table_delete(table) == -1)
		return -1;
	fault_at = util_now_us();
	healthy = false;
	return 0;
}

int
flagsvc_table_corrupt(void)
{
	if (unavailable) {
		errno = ENOENT;
		return -1;
	}
	if (table_corrupt(table) == -1)
		return -1;
	fault_at = util_now_us();
	healthy = false;
	return 0;
}

const char *
flagsvc_table_name(void)
{
	return table != NULL ? table_name(table) : NULL;
}

int
flagsvc_table_fd(void)
{
	/* None while unavailable: the worker attaches by name later. */
	return table != NULL && !unavailable ? table_fd_readonly(table) : -1;
}

/*
 * Say what taking a configuration did to the state before it (a snapshot):
 * flags dropped or added, and, when with_stage, a stage lowered. "when" is
 * "start" or "reload".
 */
static void
flagsvc_log_taken(const char *when, const json_t *before, bool with_stage)
{
	json_t		*flags = json_object_get(before, "flags"), *v;
	const char	*name;
	int		 stage;
	size_t		 i;

	json_object_foreach(flags, name, v)
		if (flags_find(fs, name) < 0)
			log_warnx("%s: flag %s is no longer configured: dropped",
			    when, name);
	for (i = 0; i < fs->nflags; i++)
		if (json_object_get(flags, fs->flag[i].name) == NULL)
			log_info("%s: flag %s added at its default", when,
			    fs->flag[i].name);
	stage = (int)json_integer_value(json_object_get(before, "stage"));
	if (with_stage && fs->stage != stage)
		log_warnx("%s: stage %d is no longer configured: the stage is "
		    "now %d", when, stage, fs->stage);
}

/* --- reexec ----------------------------------------------------------------------- */

static json_t	*adopted;	/* what the last image handed over, until init */
static int	 adopted_dir_fd = -1;

json_t *
flagsvc_handover(void)
{
	int	fd = -1, rofd = -1;

	/* The next image replays the journal: no group may be half taken. */
	flagsvc_flush();
	if (table == NULL || table_handover_fds(table, &fd, &rofd) == -1 ||
	    unavailable)
		fd = rofd = -1;
	return json_pack("{s:i,s:i,s:i,s:i,s:f,s:{s:b,s:i,s:I,s:I},s:I}",
	    "dir_fd", st != NULL ? journal_dir_fd(st) : -1,
	    "table_fd", fd, "table_ro_fd", rofd,
	    "repairs", (int)repairs, "last_repair_ms", last_repair_ms,
	    "guard", "armed", guard.armed, "stage", guard.stage,
	    "raised_ms", (json_int_t)guard.raised_ms,
	    "count", (json_int_t)guard.count,
	    "guard_rollbacks", (json_int_t)guard_rollbacks);
}

int
flagsvc_adopt(const json_t *d, char *err, size_t errlen)
{
	json_int_t	dir_fd, fd, rofd, repaired, raised, count, rollbacks = 0;
	double		last;
	int		armed, stage;

	/* guard_rollbacks: an older image had none to hand over. */
	if (json_unpack((json_t *)d, "{s:I,s:I,s:I,s:I,s:F,s:{s:b,s:i,s:I,s:I},s?I}",
	    "dir_fd", &dir_fd, "table_fd", &fd, "table_ro_fd", &rofd,
	    "repairs", &repaired, "last_repair_ms", &last, "guard", "armed",
	    &armed, "stage", &stage, "raised_ms", &raised, "count", &count,
	    "guard_rollbacks", &rollbacks) == -1 || rollbacks < 0 ||
	    dir_fd < 0 || dir_fd > INT_MAX || fd < -1 || fd > INT_MAX ||
	    rofd < -1 || rofd > INT_MAX || repaired < 0 || raised < 0 ||
	    count < 0) {
		snprintf(err, errlen, "flags: want {dir_fd, table_fd, "
		    "table_ro_fd, repairs, last_repair_ms, guard}");
		return -1;
	}
	adopted = json_incref((json_t *)d);
	adopted_dir_fd = (int)dir_fd;
	repairs = (unsigned)repaired;
	guard_rollbacks = (uint64_t)rollbacks;
	last_repair_ms = last;
	guard.armed = armed;
	guard.stage = stage;
	guard.raised_ms = (uint64_t)raised;
	guard.count = (size_t)count;
	return 0;
}

/*
 * The table the last image wrote stays the readers' table: published
 * again from the replayed state (the same values, the next generation).
 * false: it cannot be taken (none, another layout): the caller makes one.
 */
static bool
flagsvc_take_table(void)
{
	json_int_t	fd = json_integer_value(json_object_get(adopted, "table_fd"));
	json_int_t	rofd = json_integer_value(json_object_get(adopted,
			    "table_ro_fd"));

	json_decref(adopted);
	adopted = NULL;
	if (fd < 0 || table_adopt(table, (int)fd, (int)rofd) == -1) {
		if (fd >= 0)
			log_info("table %s: the table handed over is not one this "
			    "warden writes: making a fresh one", table_name(table));
		if (fd >= 0)
			(void)close((int)fd);
		if (rofd >= 0)
			(void)close((int)rofd);
		return false;
	}
	flagsvc_publish();
	if (table_check(table) != TABLE_OK) {
		log_warnx("table %s: damaged when handed over: making a fresh "
		    "one", table_name(table));
		return false;
	}
	return true;
}

/* --- life ------------------------------------------------------------------------- */

int
flagsvc_init(struct event_base *b, const struct config *c, char *err, size_t errlen)
{
	json_t	*snap = NULL, *recs = NULL;
	char	 why[512];
	size_t	 bad;

	base = b;
	conf = c;
	fs = flags_new(c);
	flagsvc_commit_init(b);
	if (adopted != NULL)
		journal_adopt_lock(adopted_dir_fd);
	if (journal_open(c->state_dir, &st, &snap, &recs, err, errlen) == -1)
		return -1;
	if (snap != NULL && flags_restore(fs, snap, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s; see warden --repair-state",
		    journal_snapshot_path(st), why);
		goto fail;
	}
	/* The journal's records come after: only the names tell here. */
	if (snap != NULL)
		flagsvc_log_taken("start", snap, json_array_size(recs) == 0);
	/* Nothing acknowledged is skipped: warden stops instead. */
	if (flags_replay(fs, recs, &bad) == -1) {
		journal_record_error(st, bad, "not a change this warden can "
		    "apply", err, errlen);
		goto fail;
	}
	if (journal_begin(st, err, errlen) == -1)
		goto fail;
	json_decref(snap);
	json_decref(recs);
	if (fs->stage > 0 || fs->seq > 0)
		log_info("state: stage %d, %llu change(s) on record", fs->stage,
		    (unsigned long long)fs->seq);
	/* A reexec takes the configuration the state was pinned with. */
	if (adopted == NULL && flagsvc_pin() == -1)
		log_warn("%s: cannot pin the state at start (changes are refused "
		    "until it can be written)", journal_snapshot_path(st));
	if ((table = table_new(c->table, 0, err, errlen)) == NULL)
		return -1;
	if (adopted != NULL && flagsvc_take_table()) {
		flagsvc_watch();
		return 0;
	}
	flagsvc_publish();
	/*
	 * Another running warden's table is a conflict: refuse to start. Any
	 * other reason (a full /dev/shm) leaves warden up without a table.
	 */
	if (table_republish(table, err, errlen) == -1) {
		if (errno == EBUSY) {
			table_close(table);
			table = NULL;
			return -1;
		}
		flagsvc_unavailable(err);
	} else
		flagsvc_made();
	flagsvc_watch();
	return 0;
fail:
	/* Closed here: flagsvc_shutdown() must not snapshot over them. */
	json_decref(snap);
	json_decref(recs);
	journal_close(st);
	st = NULL;
	return -1;
}

void
flagsvc_reconfigure(const struct config *c)
{
	json_t	*before;

	/* The group was judged and journaled under the old configuration. */
	flagsvc_flush();
	before = flags_snapshot_json(fs);
	conf = c;
	flags_reconfigure(fs, c);
	flagsvc_log_taken("reload", before, true);
	json_decref(before);
	if (flagsvc_pin() == -1)
		log_warn("%s: cannot pin the state after the reload (changes are "
		    "refused until it can be written)", journal_snapshot_path(st));
	flagsvc_publish();
}

void
flagsvc_shutdown(void)
{
	json_t	*snap;

	/* What was asked in the last turn commits before the snapshot. */
	flagsvc_commit_fini();
	if (ev_check != NULL)
		event_free(ev_check);
	if (ev_inotify != NULL)
		event_free(ev_inotify);
	ev_check = ev_inotify = NULL;
	if (inotify_fd != -1)
		close(inotify_fd);
	inotify_fd = -1;
	if (st != NULL) {
		snap = flags_snapshot_json(fs);
		if (journal_snapshot(st, snap) == -1)
			log_warn("state snapshot at exit (the journal still holds every change)");
		json_decref(snap);
		journal_close(st);
		st = NULL;
	}
	if (table != NULL)
		table_close(table);
	table = NULL;
	flags_free(fs);
	fs = NULL;
}
