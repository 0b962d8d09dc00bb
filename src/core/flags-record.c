/*
 * flags-record.c: the state changed by records, and kept as snapshots
 * (see flags.h). flags_apply() is the one place that changes the state,
 * and it reads nothing but the record and the configuration, so that a
 * replay of the journal reproduces the live state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "flags-private.h"
#include "util.h"

static const char *const kind_names[] = { "set", "rollback", "emergency", "guard" };

static bool
flags_name_in(const char *s, const char *const *names, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

/* --- applying records ------------------------------------------------------------- */

/* A record, checked whole before anything is applied. */
struct flags_rec {
	const char		*op;
	const char		*kind;		/* stage ops */
	json_int_t		 at;
	bool			 has_by;
	struct flags_actor	 by;
	const char		*reason;
	const json_t		*changes;
	bool			 has_stage;
	json_int_t		 from, to;
	const json_t		*push;		/* NULL: none */
	bool			 has_seq;
	json_int_t		 seq;
};

static bool
flags_is_int(const json_t *o, const char *key, json_int_t *out)
{
	json_t	*v = json_object_get(o, key);

	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

static int
flags_parse_actor(const json_t *v, bool *has, struct flags_actor *by)
{
	json_int_t	 uid, pid;
	const json_t	*h;

	*has = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v) || !flags_is_int(v, "uid", &uid) ||
	    !flags_is_int(v, "pid", &pid))
		return -1;
	h = json_object_get(v, "host");
	if (h != NULL && (!json_is_string(h) ||
	    json_string_length(h) >= sizeof(by->host) ||
	    strlen(json_string_value(h)) != json_string_length(h)))
		return -1;
	*has = true;
	by->uid = (uid_t)uid;
	by->pid = (pid_t)pid;
	snprintf(by->host, sizeof(by->host), "%s", h != NULL ?
	    json_string_value(h) : "");
	return 0;
}

static int
flags_parse_opt_str(const json_t *v, const char **out)
{
	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = json_string_value(v);
	return 0;
}

/* An object whose members are all integers. */
static bool
flags_is_values(const json_t *o)
{
	const char	*key;
	json_t		*v;

	if (!json_is_object(o))
		return false;
	json_object_foreach((json_t *)o, key, v)
		if (!json_is_integer(v))
			return false;
	return true;
}

static int
flags_parse_record(const json_t *rec, struct flags_rec *r)
{
	enum flags_op	 op;
	json_int_t	 ver, n;
	json_t		*v, *c;
	size_t		 i;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(rec) || !flags_is_int(rec, "v", &ver) ||
	    ver != FLAGS_RECORD_VERSION)
		return -1;
	if ((r->op = json_string_value(json_object_get(rec, "op"))) == NULL ||
	    flags_op_parse(r->op, &op) == -1)
		return -1;
	if (!flags_is_int(rec, "at", &r->at))
		return -1;
	if (flags_parse_actor(json_object_get(rec, "by"), &r->has_by,
	    &r->by) == -1)
		return -1;
	if (flags_parse_opt_str(json_object_get(rec, "reason"),
	    &r->reason) == -1)
		return -1;
	if ((v = json_object_get(rec, "seq")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return -1;
		r->has_seq = true;
		r->seq = json_integer_value(v);
	}
	r->changes = json_object_get(rec, "changes");
	if (!json_is_array(r->changes))
		return -1;
	json_array_foreach(r->changes, i, c)
		if (!json_is_object(c) ||
		    !json_is_string(json_object_get(c, "name")) ||
		    !flags_is_int(c, "new", &n))
			return -1;
	if (strncmp(r->op, "stage.", 6) != 0)
		return 0;

	if ((r->kind = json_string_value(json_object_get(rec, "kind"))) ==
	    NULL || !flags_name_in(r->kind, kind_names, nitems(kind_names)))
		return -1;
	v = json_object_get(rec, "stage");
	if (!json_is_object(v) || !flags_is_int(v, "from", &r->from) ||
	    !flags_is_int(v, "to", &r->to))
		return -1;
	r->has_stage = true;
	if ((r->push = json_object_get(rec, "push")) != NULL) {
		if (!json_is_array(r->push))
			return -1;
		json_array_foreach(r->push, i, c)
			if (!json_is_object(c) ||
			    !flags_is_values(json_object_get(c, "values")))
				return -1;
	}
	return 0;
}

/* A saved set from {name: value}: names missing take the value in force. */
static int *
flags_values_from(const struct flags *fs, const json_t *o)
{
	int	*v = flags_values(fs);
	json_t	*x;
	size_t	 i;

	for (i = 0; i < fs->nflags; i++)
		if ((x = json_object_get(o, fs->flag[i].name)) != NULL &&
		    json_is_integer(x))
			v[i] = flags_clamp(json_integer_value(x));
	return v;
}

/* Make the saved stack exactly `stage` deep, padding with `pad`. */
static void
flags_set_depth(struct flags *fs, int depth, int stage, const int *pad)
{
	int	k;

	for (k = stage; k < depth; k++) {
		free(fs->saved[k]);
		fs->saved[k] = NULL;
	}
	for (k = depth; k < stage; k++) {
		fs->saved[k] = xcalloc(fs->nflags, sizeof(int));
		if (fs->nflags > 0)
			memcpy(fs->saved[k], pad, fs->nflags * sizeof(int));
	}
	fs->stage = stage;
}

static void
flags_history_add(struct flags *fs, const struct flags_rec *r)
{
	json_array_append_new(fs->history, json_pack("{s:I, s:I, s:I, s:o, s:o, s:s}",
	    "from", r->from, "to", r->to, "at", r->at,
	    "by", r->has_by ? flags_actor_json(&r->by) : json_null(),
	    "reason", flags_str_or_null(r->reason), "kind", r->kind));
	while (json_array_size(fs->history) > FLAGS_HISTORY_MAX)
		json_array_remove(fs->history, 0);
}

int
flags_apply(struct flags *fs, const json_t *rec)
{
	struct flags_rec	 r;
	struct flag_state	*f;
	json_t			*c;
	int			*before;
	size_t			 i;
	ssize_t			 idx;
	int			 depth;

	if (flags_parse_record(rec, &r) == -1)
		return -1;
	before = flags_values(fs);
	depth = fs->stage;

	/* The saved sets first: they hold the values before this change. */
	if (r.push != NULL)
		json_array_foreach(r.push, i, c) {
			if (depth >= fs->nstages)
				break;
			fs->saved[depth++] = flags_values_from(fs,
			    json_object_get(c, "values"));
		}
	json_array_foreach(r.changes, i, c) {
		if ((idx = flags_find(fs,
		    json_string_value(json_object_get(c, "name")))) < 0)
			continue;
		f = &fs->flag[idx];
		f->value = flags_clamp(json_integer_value(json_object_get(c,
		    "new")));
		f->changed_at = (int64_t)r.at;
		f->has_by = r.has_by;
		f->by = r.by;
		free(f->reason);
		f->reason = r.reason != NULL ? xstrdup(r.reason) : NULL;
	}
	if (r.has_stage) {
		flags_set_depth(fs, depth, flags_clamp_stage(fs, r.to), before);
		flags_history_add(fs, &r);
	} else
		flags_set_depth(fs, depth, depth, before);
	if (r.has_seq)
		fs->seq = (uint64_t)r.seq;
	free(before);
	return 0;
}

int
flags_replay(struct flags *fs, const json_t *records, size_t *bad)
{
	json_t	*rec;
	size_t	 i;

	json_array_foreach(records, i, rec)
		if (flags_apply(fs, rec) == -1) {
			*bad = i;
			return -1;
		}
	return 0;
}

bool
flags_record_stage(const json_t *rec, int *from, int *to)
{
	json_t	*st = json_object_get(rec, "stage");
	json_t	*f = json_object_get(st, "from"), *t = json_object_get(st, "to");

	if (!json_is_integer(f) || !json_is_integer(t))
		return false;
	*from = (int)json_integer_value(f);
	*to = (int)json_integer_value(t);
	return true;
}

json_t *
flags_result_json(const struct flags *fs, const json_t *rec)
{
	const char	*op = json_string_value(json_object_get(rec, "op"));
	const char	*name = json_string_value(json_object_get(rec, "name"));
	ssize_t		 i;

	if (op == NULL)
		return json_null();
	if (strcmp(op, "flag.set") == 0) {
		if ((i = flags_find(fs, name)) < 0)
			return json_null();
		return flags_flag_json(fs, (size_t)i);
	}
	if (strcmp(op, "flag.reset") == 0) {
		if (name == NULL)
			return json_pack("{s:o}", "flags", flags_all_json(fs));
		if ((i = flags_find(fs, name)) < 0)
			return json_pack("{s:[]}", "flags");
		return json_pack("{s:[o]}", "flags",
		    flags_flag_json(fs, (size_t)i));
	}
	return json_pack("{s:i, s:o}", "stage", fs->stage,
	    "flags", flags_all_json(fs));
}

json_t *
flags_events_json(const struct flags *fs, const json_t *rec)
{
	json_t		*evs = json_array(), *c, *by, *reason;
	const char	*kind;
	json_int_t	 old, new;
	ssize_t		 idx;
	size_t		 i;
	int		 from, to;

	by = json_object_get(rec, "by");
	reason = json_object_get(rec, "reason");
	json_array_foreach(json_object_get(rec, "changes"), i, c) {
		idx = flags_find(fs, json_string_value(json_object_get(c,
		    "name")));
		if (idx < 0 || !flags_is_int(c, "old", &old) ||
		    !flags_is_int(c, "new", &new) || old == new)
			continue;
		json_array_append_new(evs, json_pack("{s:s, s:{s:s, s:o, s:o, "
		    "s:O, s:O}}", "type", "flag.changed", "fields",
		    "name", fs->flag[idx].name,
		    "old", flags_value_json(fs, (size_t)idx, flags_clamp(old)),
		    "new", flags_value_json(fs, (size_t)idx, flags_clamp(new)),
		    "by", by != NULL ? by : json_null(),
		    "reason", reason != NULL ? reason : json_null()));
	}
	if (!flags_record_stage(rec, &from, &to))
		return evs;
	if ((kind = json_string_value(json_object_get(rec, "kind"))) == NULL)
		kind = "set";
	json_array_append_new(evs, json_pack("{s:s, s:{s:i, s:i, s:s, s:O, "
	    "s:O}}", "type", "stage.changed", "fields", "from", from, "to", to,
	    "kind", kind, "by", by != NULL ? by : json_null(),
	    "reason", reason != NULL ? reason : json_null()));
	if (strcmp(kind, "guard") == 0)
		json_array_append_new(evs, json_pack("{s:s, s:{s:i, s:i, s:O}}",
		    "type", "guard.rollback", "fields", "from", from, "to", to,
		    "reason", reason != NULL ? reason : json_null()));
	return evs;
}

/* --- snapshots -------------------------------------------------------------------- */

json_t *
flags_snapshot_json(const struct flags *fs)
{
	const struct flag_state	*f;
	json_t			*flags = json_object(), *saved = json_array();
	size_t			 i;
	int			 k;

	for (i = 0; i < fs->nflags; i++) {
		f = &fs->flag[i];
		json_object_set_new(flags, f->name, json_pack("{s:i, s:I, s:o, "
		    "s:o}", "value", f->value, "changed_at",
		    (json_int_t)f->changed_at,
		    "by", f->has_by ? flags_actor_json(&f->by) : json_null(),
		    "reason", flags_str_or_null(f->reason)));
	}
	for (k = 0; k < fs->stage; k++)
		json_array_append_new(saved, flags_values_json(fs, fs->saved[k]));
	return json_pack("{s:i, s:I, s:o, s:o, s:O}", "stage", fs->stage,
	    "seq", (json_int_t)fs->seq, "flags", flags, "saved", saved,
	    "history", fs->history);
}

static int
flags_check_snapshot(const json_t *snap, char *err, size_t errlen)
{
	const char	*key, *s;
	json_t		*v, *flags, *saved, *hist;
	json_int_t	 stage, n;
	size_t		 i;
	bool		 has;
	struct flags_actor by;

#define BAD(...)	do { flags_fail(err, errlen, FLAGS_INVALID_PARAMS, \
			    __VA_ARGS__); return -1; } while (0)
	if (!json_is_object(snap))
		BAD("state: expected an object");
	if (!flags_is_int(snap, "stage", &stage) || stage < 0)
		BAD("stage: expected an integer >= 0");
	if ((v = json_object_get(snap, "seq")) != NULL &&
	    (!json_is_integer(v) || json_integer_value(v) < 0))
		BAD("seq: expected an integer >= 0");
	if (!json_is_object(flags = json_object_get(snap, "flags")))
		BAD("flags: expected an object");
	json_object_foreach(flags, key, v) {
		if (!json_is_object(v) || !flags_is_int(v, "value", &n) ||
		    n < 0 || n > 100)
			BAD("flags.%s.value: expected an integer from 0 to 100",
			    key);
		if (!flags_is_int(v, "changed_at", &n))
			BAD("flags.%s.changed_at: expected an integer", key);
		if (flags_parse_actor(json_object_get(v, "by"), &has, &by) == -1)
			BAD("flags.%s.by: expected {uid, pid} or null", key);
		if (flags_parse_opt_str(json_object_get(v, "reason"), &s) == -1)
			BAD("flags.%s.reason: expected a string or null", key);
	}
	if (!json_is_array(saved = json_object_get(snap, "saved")) ||
	    json_array_size(saved) != (size_t)stage)
		BAD("saved: expected one set of values per stage applied "
		    "(%" JSON_INTEGER_FORMAT ")", stage);
	json_array_foreach(saved, i, v) {
		if (!flags_is_values(v))
			BAD("saved[%zu]: expected an object of integers", i);
	}
	if ((hist = json_object_get(snap, "history")) != NULL) {
		if (!json_is_array(hist))
			BAD("history: expected an array");
		json_array_foreach(hist, i, v)
			if (!json_is_object(v) || !flags_is_int(v, "from", &n) ||
			    !flags_is_int(v, "to", &n) ||
			    !flags_is_int(v, "at", &n) ||
			    !json_is_string(json_object_get(v, "kind")))
				BAD("history[%zu]: expected {from, to, at, by, "
				    "reason, kind}", i);
	}
#undef BAD
	return 0;
}

int
flags_restore(struct flags *fs, const json_t *snap, char *err, size_t errlen)
{
	struct flag_state	*f;
	json_t			*flags, *saved, *hist, *v, *x;
	const char		*reason;
	int			*before;
	size_t			 i;
	int			 stage, k;

	if (flags_check_snapshot(snap, err, errlen) == -1)
		return -1;
	flags = json_object_get(snap, "flags");
	saved = json_object_get(snap, "saved");
	hist = json_object_get(snap, "history");
	for (i = 0; i < fs->nflags; i++) {
		f = &fs->flag[i];
		if ((v = json_object_get(flags, f->name)) == NULL)
			continue;
		f->value = flags_clamp(json_integer_value(json_object_get(v,
		    "value")));
		f->changed_at = (int64_t)json_integer_value(json_object_get(v,
		    "changed_at"));
		flags_parse_actor(json_object_get(v, "by"), &f->has_by, &f->by);
		flags_parse_opt_str(json_object_get(v, "reason"), &reason);
		free(f->reason);
		f->reason = reason != NULL ? xstrdup(reason) : NULL;
	}

	/* Stages beyond those configured now are gone, with their saved sets. */
	stage = flags_clamp_stage(fs, json_integer_value(json_object_get(snap,
	    "stage")));
	before = flags_values(fs);
	flags_set_depth(fs, fs->stage, 0, before);
	for (k = 0; k < stage; k++)
		fs->saved[k] = flags_values_from(fs, json_array_get(saved,
		    (size_t)k));
	fs->stage = stage;
	free(before);

	json_array_clear(fs->history);
	if (hist != NULL) {
		i = json_array_size(hist) > FLAGS_HISTORY_MAX ?
		    json_array_size(hist) - FLAGS_HISTORY_MAX : 0;
		for (; i < json_array_size(hist); i++)
			json_array_append_new(fs->history,
			    json_deep_copy(json_array_get(hist, i)));
	}
	if ((x = json_object_get(snap, "seq")) != NULL)
		fs->seq = (uint64_t)json_integer_value(x);
	return 0;
}
