/*
 * flags.c: feature flags and migration stages, as pure state (see flags.h):
 * the state itself and its protocol JSON. The operations that describe a
 * change are in flags-ops.c, applying records and snapshots in
 * flags-record.c.
 *
 * The rule that keeps replay honest: an operation only reads the state and
 * describes the change; flags_apply() is the one place that changes it, and
 * it reads nothing but the record and the configuration.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flags.h"
#include "flags-private.h"
#include "log.h"
#include "util.h"

enum flags_err
flags_fail(char *err, size_t errlen, enum flags_err e, const char *fmt, ...)
{
	va_list	ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return e;
}

int
flags_clamp(json_int_t v)
{
	if (v < 0)
		return 0;
	if (v > 100)
		return 100;
	return (int)v;
}

int
flags_clamp_stage(const struct flags *fs, json_int_t v)
{
	if (v < 0)
		return 0;
	if (v > fs->nstages)
		return fs->nstages;
	return (int)v;
}

/* --- the state ------------------------------------------------------------------- */

struct flags *
flags_new(const struct config *conf)
{
	struct flags	*fs = xcalloc(1, sizeof(*fs));
	struct flag_state *f;
	ssize_t		 idx;
	size_t		 i, j;

	fs->nflags = conf->nflags;
	fs->flag = xcalloc(fs->nflags, sizeof(*fs->flag));
	for (i = 0; i < fs->nflags; i++) {
		f = &fs->flag[i];
		f->name = xstrdup(conf->flags[i].name);
		f->description = xstrdup(conf->flags[i].description != NULL ?
		    conf->flags[i].description : "");
		f->dflt = flags_clamp(conf->flags[i].dflt);
		f->dflt_is_bool = conf->flags[i].dflt_is_bool;
		f->value = f->dflt;
	}
	fs->nstages = (int)conf->nstages;
	fs->stage_flags = xcalloc(conf->nstages, sizeof(*fs->stage_flags));
	fs->stage_nflags = xcalloc(conf->nstages, sizeof(*fs->stage_nflags));
	fs->saved = xcalloc(conf->nstages, sizeof(*fs->saved));
	for (i = 0; i < conf->nstages; i++) {
		fs->stage_flags[i] = xcalloc(conf->stages[i].nenable,
		    sizeof(**fs->stage_flags));
		for (j = 0; j < conf->stages[i].nenable; j++) {
			/* config.c lets stages name configured flags only. */
			if ((idx = flags_find(fs, conf->stages[i].enable[j])) < 0)
				continue;
			fs->stage_flags[i][fs->stage_nflags[i]++] = (size_t)idx;
		}
	}
	fs->history = json_array();
	return fs;
}

static void
flags_clear(struct flags *fs)
{
	size_t	i;
	int	k;

	for (i = 0; i < fs->nflags; i++) {
		free(fs->flag[i].name);
		free(fs->flag[i].description);
		free(fs->flag[i].reason);
	}
	free(fs->flag);
	for (k = 0; k < fs->nstages; k++) {
		free(fs->stage_flags[k]);
		free(fs->saved[k]);
	}
	free(fs->stage_flags);
	free(fs->stage_nflags);
	free(fs->saved);
	json_decref(fs->history);
	memset(fs, 0, sizeof(*fs));
}

void
flags_free(struct flags *fs)
{
	if (fs == NULL)
		return;
	flags_clear(fs);
	free(fs);
}

/*
 * A state of its own with the same content: the daemon validates the
 * changes of a group commit against a copy with the group's records
 * applied, while the state in force waits for their sync.
 */
struct flags *
flags_copy(const struct flags *src)
{
	struct flags	*fs = xcalloc(1, sizeof(*fs));
	size_t		 i, n = src->nflags;
	int		 k;

	*fs = *src;
	fs->flag = xcalloc(n, sizeof(*fs->flag));
	for (i = 0; i < n; i++) {
		fs->flag[i] = src->flag[i];
		fs->flag[i].name = xstrdup(src->flag[i].name);
		fs->flag[i].description = xstrdup(src->flag[i].description);
		fs->flag[i].reason = src->flag[i].reason != NULL ?
		    xstrdup(src->flag[i].reason) : NULL;
	}
	fs->stage_flags = xcalloc((size_t)src->nstages, sizeof(*fs->stage_flags));
	fs->stage_nflags = xcalloc((size_t)src->nstages, sizeof(*fs->stage_nflags));
	fs->saved = xcalloc((size_t)src->nstages, sizeof(*fs->saved));
	for (k = 0; k < src->nstages; k++) {
		fs->stage_nflags[k] = src->stage_nflags[k];
		fs->stage_flags[k] = xcalloc(src->stage_nflags[k],
		    sizeof(**fs->stage_flags));
		memcpy(fs->stage_flags[k], src->stage_flags[k],
		    src->stage_nflags[k] * sizeof(**fs->stage_flags));
		if (src->saved[k] != NULL) {
			fs->saved[k] = xcalloc(n, sizeof(int));
			memcpy(fs->saved[k], src->saved[k], n * sizeof(int));
		}
	}
	fs->history = json_deep_copy(src->history);
	return fs;
}

ssize_t
flags_find(const struct flags *fs, const char *name)
{
	size_t	i;

	if (name == NULL)
		return -1;
	for (i = 0; i < fs->nflags; i++)
		if (strcmp(fs->flag[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

void
flags_reconfigure(struct flags *fs, const struct config *conf)
{
	struct flags	*nf = flags_new(conf);
	json_t		*snap = flags_snapshot_json(fs);
	char		 err[256];

	/* Our own snapshot always has the right shape. */
	if (flags_restore(nf, snap, err, sizeof(err)) == -1)
		fatalx("flags_reconfigure: %s", err);
	json_decref(snap);
	flags_clear(fs);
	*fs = *nf;
	free(nf);
}

int *
flags_values(const struct flags *fs)
{
	int	*v = xcalloc(fs->nflags, sizeof(*v));
	size_t	 i;

	for (i = 0; i < fs->nflags; i++)
		v[i] = fs->flag[i].value;
	return v;
}

/* --- protocol JSON ---------------------------------------------------------------- */

json_t *
flags_time_json(int64_t ms)
{
	char	buf[UTIL_ISO_LEN];

	if (ms == 0)
		return json_null();
	return json_string(util_iso_ms(ms, buf));
}

json_t *
flags_actor_json(const struct flags_actor *by)
{
	if (by == NULL)
		return json_null();
	if (by->host[0] != '\0')
		return json_pack("{s:I, s:I, s:s}", "uid", (json_int_t)by->uid,
		    "pid", (json_int_t)by->pid, "host", by->host);
	return json_pack("{s:I, s:I}", "uid", (json_int_t)by->uid,
	    "pid", (json_int_t)by->pid);
}

json_t *
flags_str_or_null(const char *s)
{
	json_t	*v;

	if (s == NULL || (v = json_string(s)) == NULL)
		return json_null();
	return v;
}

json_t *
flags_value_json(const struct flags *fs, size_t i, int value)
{
	if (i < fs->nflags && fs->flag[i].dflt_is_bool &&
	    (value == 0 || value == 100))
		return json_boolean(value == 100);
	return json_integer(value);
}

json_t *
flags_flag_json(const struct flags *fs, size_t i)
{
	const struct flag_state	*f = &fs->flag[i];

	return json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:o}",
	    "name", f->name,
	    "value", flags_value_json(fs, i, f->value),
	    "default", flags_value_json(fs, i, f->dflt),
	    "description", f->description,
	    "changed_at", flags_time_json(f->changed_at),
	    "changed_by", f->has_by ? flags_actor_json(&f->by) : json_null(),
	    "reason", flags_str_or_null(f->reason));
}

json_t *
flags_all_json(const struct flags *fs)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; i < fs->nflags; i++)
		json_array_append_new(a, flags_flag_json(fs, i));
	return a;
}

json_t *
flags_list_json(const struct flags *fs, uint64_t generation)
{
	return json_pack("{s:o, s:i, s:I}", "flags", flags_all_json(fs),
	    "stage", fs->stage, "generation", (json_int_t)generation);
}

/* A history entry as the protocol shows it: "at" as a time string. */
static json_t *
flags_history_entry_json(const json_t *e)
{
	json_t	*o = json_deep_copy(e);
	json_t	*at = json_object_get(e, "at");

	if (o != NULL && json_is_integer(at))
		json_object_set_new(o, "at",
		    flags_time_json((int64_t)json_integer_value(at)));
	return o;
}

json_t *
flags_stage_json(const struct flags *fs)
{
	json_t	*stages = json_array(), *hist = json_array(), *en, *e;
	size_t	 i, j;
	int	 k;

	for (k = 0; k < fs->nstages; k++) {
		en = json_array();
		for (j = 0; j < fs->stage_nflags[k]; j++)
			json_array_append_new(en,
			    json_string(fs->flag[fs->stage_flags[k][j]].name));
		json_array_append_new(stages, json_pack("{s:i, s:o}",
		    "stage", k + 1, "enable", en));
	}
	json_array_foreach(fs->history, i, e)
		json_array_append_new(hist, flags_history_entry_json(e));
	return json_pack("{s:i, s:o, s:o}", "stage", fs->stage,
	    "stages", stages, "history", hist);
}

json_t *
flags_values_json(const struct flags *fs, const int *v)
{
	json_t	*o = json_object();
	size_t	 i;

	for (i = 0; i < fs->nflags; i++)
		json_object_set_new(o, fs->flag[i].name, json_integer(v[i]));
	return o;
}
