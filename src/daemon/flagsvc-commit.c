/*
 * flagsvc-commit.c: flag and stage changes, made durable in groups (see
 * flagsvc.h).
 *
 * One fdatasync per change was the ceiling of every writer together: the
 * disk's flush, not the work, set the pace. So the changes that arrive in
 * one turn of the loop (all the clients whose requests are readable now)
 * are a group:
 *
 *	validate each against the pending state (a copy of the state in force
 *	with the group's records applied, so that stage.set 2 then 3, or a
 *	flag.set then its flag.reset, see each other), write its record with
 *	write() alone, remember the call;
 *	at the end of the turn, one fdatasync; then apply every record to the
 *	state in force in order, publish the table once, emit each change's
 *	events in order, answer each call in order.
 *
 * Nothing is applied, published or told before the sync that covers it,
 * and a change is answered only after it. If a write or the sync fails,
 * journal.c has cut the group back off (length, seq, the count towards the
 * next snapshot) and every call of the group is answered "unavailable":
 * nothing changed anywhere.
 *
 * The end of the turn: the group's event is made active when its first
 * change arrives. warden's loop has one priority, and libevent runs an
 * event made active after those already active in this turn, so the group
 * commits once every client read of the turn has been served, with no
 * timer and no wait. A group is bounded (GROUP_MAX_RECORDS,
 * GROUP_MAX_BYTES): a change that finds it full commits it first.
 */
#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "events.h"
#include "flags.h"
#include "flagsvc.h"
#include "flagsvc-private.h"
#include "journal.h"
#include "log.h"
#include "util.h"

#define GROUP_MAX_RECORDS	256
#define GROUP_MAX_BYTES		(1024 * 1024)

/* One change asked, until its group is committed (or failed). */
struct flagsvc_call {
	TAILQ_ENTRY(flagsvc_call) entry;
	enum flags_op		 op;
	uid_t			 uid;
	pid_t			 pid;
	bool			 inside;	/* warden's own (it logs it) */
	json_t			*rec;		/* written to the journal; NULL: refused */
	enum flagsvc_err	 e;		/* refused: why, in err */
	char			*err;
	json_t			*result;	/* once applied */
	json_t			*events;	/* once applied */
	flagsvc_done_fn		*done;		/* NULL: forgotten */
	void			*arg;
};

TAILQ_HEAD(flagsvc_calls, flagsvc_call);

static struct {
	struct event		*ev;
	struct flagsvc_calls	 calls;
	struct flags		*pending;	/* the state with the group applied */
	bool			 failed;	/* a write failed: why */
	char			 why[512];
} grp = { .calls = TAILQ_HEAD_INITIALIZER(grp.calls) };

enum flagsvc_err
flagsvc_err_of(enum flags_err e)
{
	switch (e) {
	case FLAGS_OK:
		return FLAGSVC_OK;
	case FLAGS_INVALID_PARAMS:
		return FLAGSVC_INVALID;
	case FLAGS_NOT_FOUND:
		return FLAGSVC_NOT_FOUND;
	case FLAGS_CONFLICT:
		return FLAGSVC_CONFLICT;
	}
	return FLAGSVC_INVALID;
}

/* The group cannot be made durable: every call of it is told why. */
/* What every call of a group the disk refused is told. */
static void
flagsvc_why(char *buf, size_t len, int err)
{
	snprintf(buf, len, "the change could not be made durable in %s: %s",
	    flagsvc_config()->state_dir, strerror(err));
}

static void
flagsvc_group_fail(int err)
{
	flagsvc_why(grp.why, sizeof(grp.why), err);
	grp.failed = true;
	flags_free(grp.pending);
	grp.pending = NULL;
}

static void
flagsvc_refuse(struct flagsvc_call *c, enum flagsvc_err e, const char *err)
{
	c->e = e;
	c->err = xstrdup(err);
}

/*
 * Take a validated record into the group: the pin first when one is due
 * (it snapshots the state in force, so only before the group's first
 * record), then the journal, then the pending state.
 */
static void
flagsvc_group_take(struct flagsvc_call *c, json_t *rec)
{
	if (grp.pending == NULL) {
		if (flagsvc_pin_if_due() == -1) {
			flagsvc_group_fail(errno);
			json_decref(rec);
			return;
		}
		grp.pending = flags_copy(flagsvc_state());
	}
	if (journal_write(flagsvc_journal(), rec) == -1) {
		flagsvc_group_fail(errno);
		json_decref(rec);
		return;
	}
	if (flags_apply(grp.pending, rec) == -1)
		fatalx("a validated change record did not apply");
	c->rec = rec;
}

static bool
flagsvc_group_full(void)
{
	struct journal	*st = flagsvc_journal();

	return grp.failed || journal_unsynced(st) >= GROUP_MAX_RECORDS ||
	    journal_unsynced_bytes(st) >= GROUP_MAX_BYTES;
}

struct flagsvc_call *
flagsvc_change(enum flags_op op, const json_t *params, uid_t uid, pid_t pid,
    flagsvc_done_fn *done, void *arg)
{
	struct flags_actor	by = { uid, pid, "" };

	return flagsvc_change_as(op, params, &by, flagsvc_realtime_ms(), done,
	    arg);
}

struct flagsvc_call *
flagsvc_change_as(enum flags_op op, const json_t *params,
    const struct flags_actor *by, int64_t at_ms, flagsvc_done_fn *done,
    void *arg)
{
	struct flags_change	 ch;
	struct flagsvc_call	*c;
	enum flags_err		 e;
	json_t			*rec = NULL;
	char			 err[512];

	/* Before this call joins: done is never called from in here. */
	if (flagsvc_group_full())
		flagsvc_flush();
	c = xcalloc(1, sizeof(*c));
	c->op = op;
	c->uid = by != NULL ? by->uid : 0;
	c->pid = by != NULL ? by->pid : 0;
	c->done = done;
	c->arg = arg;
	TAILQ_INSERT_TAIL(&grp.calls, c, entry);
	if (grp.ev != NULL)
		event_active(grp.ev, EV_TIMEOUT, 0);
	if ((e = flags_change_read(op, params, &ch, err, sizeof(err))) != FLAGS_OK ||
	    (e = flags_op_change(grp.pending != NULL ? grp.pending :
	    flagsvc_state(), &ch, by, at_ms, &rec, err, sizeof(err))) !=
	    FLAGS_OK)
		flagsvc_refuse(c, flagsvc_err_of(e), err);
	else
		flagsvc_group_take(c, rec);
	return c;
}

void
flagsvc_forget(struct flagsvc_call *c)
{
	c->done = NULL;
}

/* Durable: apply in order, publish once, tell in order. */
static void
flagsvc_group_apply(struct flagsvc_calls *calls)
{
	struct flagsvc_call	*c;
	json_t			*e;
	size_t			 i;
	bool			 any = false;

	TAILQ_FOREACH(c, calls, entry) {
		if (c->rec == NULL)
			continue;
		if (flags_apply(flagsvc_state(), c->rec) == -1)
			fatalx("a validated change record did not apply");
		flagsvc_guard_follow(c->rec);
		/* Each as it made its change, before the next one's. */
		c->result = flags_result_json(flagsvc_state(), c->rec);
		c->events = flags_events_json(flagsvc_state(), c->rec);
		any = true;
	}
	if (any)
		flagsvc_publish();
	TAILQ_FOREACH(c, calls, entry)
		json_array_foreach(c->events, i, e)
			events_emit(json_string_value(json_object_get(e, "type")),
			    json_incref(json_object_get(e, "fields")));
}

static void
flagsvc_answer(struct flagsvc_call *c, bool failed, const char *why)
{
	if (failed) {
		log_warnx("%s by uid %ld refused: %s", flags_op_name(c->op),
		    (long)c->uid, why);
		if (c->done != NULL)
			c->done(c->arg, FLAGSVC_UNAVAILABLE, NULL, why);
	} else if (c->rec == NULL) {
		if (c->done != NULL)
			c->done(c->arg, c->e, NULL, c->err);
	} else {
		if (!c->inside)
			log_info("%s by uid %ld pid %ld: stage %d",
			    flags_op_name(c->op), (long)c->uid, (long)c->pid,
			    flagsvc_state()->stage);
		if (c->done != NULL)
			c->done(c->arg, FLAGSVC_OK, json_incref(c->result), NULL);
	}
	json_decref(c->rec);
	json_decref(c->result);
	json_decref(c->events);
	free(c->err);
	free(c);
}

void
flagsvc_flush(void)
{
	struct flagsvc_calls	 calls = TAILQ_HEAD_INITIALIZER(calls);
	struct flagsvc_call	*c;
	bool			 failed = grp.failed;
	char			 why[sizeof(grp.why)];

	if (TAILQ_EMPTY(&grp.calls))
		return;
	/*
	 * The group is taken off first: an answer may let a client's next
	 * lines be served, whose changes make the next group.
	 */
	TAILQ_CONCAT(&calls, &grp.calls, entry);
	snprintf(why, sizeof(why), "%s", grp.why);
	flags_free(grp.pending);
	grp.pending = NULL;
	grp.failed = false;
	if (!failed && journal_sync(flagsvc_journal()) == -1) {
		flagsvc_why(why, sizeof(why), errno);
		failed = true;
	}
	if (!failed) {
		flagsvc_group_apply(&calls);
		/* Now, while no next group has written a line. */
		flagsvc_snapshot_if_due();
	}
	while ((c = TAILQ_FIRST(&calls)) != NULL) {
		TAILQ_REMOVE(&calls, c, entry);
		flagsvc_answer(c, failed, why);
	}
}

static void
flagsvc_commit_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	flagsvc_flush();
}

/* --- one change at once ---------------------------------------------------------- */

struct flagsvc_outcome {
	enum flagsvc_err	 e;
	json_t			*result;
	char			*err;
	size_t			 errlen;
};

static void
flagsvc_write_done(void *arg, enum flagsvc_err e, json_t *result, const char *err)
{
	struct flagsvc_outcome	*o = arg;

	o->e = e;
	o->result = result;
	if (err != NULL)
		snprintf(o->err, o->errlen, "%s", err);
}

enum flagsvc_err
flagsvc_write(const char *name, const json_t *params, uid_t uid, pid_t pid,
    json_t **result, char *err, size_t errlen)
{
	struct flagsvc_outcome	o = { FLAGSVC_UNAVAILABLE, NULL, err, errlen };
	enum flags_op		op;

	*result = NULL;
	if (flags_op_parse(name, &op) == -1) {
		snprintf(err, errlen, "%s: not a flag or stage change",
		    name != NULL ? name : "(null)");
		return FLAGSVC_INVALID;
	}
	/* A group of its own: what came before it commits first. */
	flagsvc_flush();
	(void)flagsvc_change(op, params, uid, pid, flagsvc_write_done, &o);
	flagsvc_flush();
	*result = o.result;
	return o.e;
}

enum flagsvc_err
flagsvc_commit_record(json_t *rec, char *err, size_t errlen)
{
	struct flagsvc_outcome	 o = { FLAGSVC_UNAVAILABLE, NULL, err, errlen };
	struct flagsvc_call	*c = xcalloc(1, sizeof(*c));

	flagsvc_flush();
	if (flags_op_parse(json_string_value(json_object_get(rec, "op")),
	    &c->op) == -1)
		fatalx("a change record of no op");
	c->inside = true;
	c->done = flagsvc_write_done;
	c->arg = &o;
	TAILQ_INSERT_TAIL(&grp.calls, c, entry);
	flagsvc_group_take(c, rec);
	flagsvc_flush();
	json_decref(o.result);
	return o.e;
}

/* --- life ---------------------------------------------------------------------------- */

uint64_t
flagsvc_journal_syncs(void)
{
	struct journal	*st = flagsvc_journal();

	return st != NULL ? journal_syncs(st) : 0;
}

void
flagsvc_commit_init(struct event_base *b)
{
	if ((grp.ev = event_new(b, -1, 0, flagsvc_commit_cb, NULL)) == NULL)
		fatalx("cannot create the group commit's event");
}

void
flagsvc_commit_fini(void)
{
	flagsvc_flush();
	if (grp.ev != NULL)
		event_free(grp.ev);
	grp.ev = NULL;
}
