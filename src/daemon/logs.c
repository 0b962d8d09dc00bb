/*
 * logs.c: what becomes of each line a worker writes (see logs.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "journald.h"
#include "logfile.h"
#include "log.h"
#include "logring.h"
#include "logs.h"
#include "tree-private.h"
#include "util.h"

#define LOGS_SAY_DROPPED_MS	10000
#define LOGS_HEAD_MAX		256	/* "TIME SERVICE[PID] STREAM: " */

static uint64_t	logs_seq;
static uint64_t	logs_dropped_said_at;

static void	logs_dropped(struct node *, const char *where);

static const char *const logs_streams[] = {
	[LOGRING_STDOUT] = "stdout",
	[LOGRING_STDERR] = "stderr",
};

json_t *
logs_line_json(const char *service, const struct logline *l)
{
	char	iso[UTIL_ISO_LEN];

	return json_pack("{s:s,s:I,s:s,s:s,s:I,s:s%}", "service", service,
	    "seq", (json_int_t)l->seq, "time", util_iso_ms(l->wall_ms, iso),
	    "stream", logs_streams[l->stream], "pid", (json_int_t)l->pid,
	    "text", l->text, l->len);
}

/* The node that keeps a service's lines: the last that a reload made. */
static struct node *
logs_keeper(struct node *n)
{
	while (n->succ != NULL)
		n = n->succ;
	return n;
}

void
logs_init(struct node *n)
{
	logring_init(&n->logs, 0, 0);
	logs_limits(n);
}

/* n's file closed; what its writer lost is counted in keeper's lines lost. */
static void
logs_close_file(struct node *n, struct node *keeper)
{
	keeper->log_dropped += logfile_lost(n->logfile);
	logfile_close(n->logfile);
	n->logfile = NULL;
}

void
logs_free(struct node *n)
{
	logring_free(&n->logs);
	if (n->logfile != NULL)
		logfile_close(n->logfile);
	n->logfile = NULL;
}

void
logs_limits(struct node *n)
{
	const struct log_conf	*c;

	if (n->conf == NULL)
		return;
	c = &n->conf->log;
	logring_set_limits(&n->logs, (size_t)c->lines, (size_t)c->memory_bytes);
	if (n->logfile != NULL && (c->file == NULL ||
	    !logfile_is(n->logfile, c->file, c->max_bytes, c->keep)))
		logs_close_file(n, n);
	if (n->logfile == NULL && !n->is_sup && c->file != NULL)
		n->logfile = logfile_new(n->name, c->file, c->max_bytes, c->keep);
}

void
logs_succeed(struct node *old, struct node *succ)
{
	struct logring	r = succ->logs;

	succ->logs = old->logs;
	old->logs = r;
	logs_limits(succ);
	/* Its last lines go to the successor's file: one writer per file. */
	if (old->logfile != NULL)
		logs_close_file(old, succ);
}

uint64_t
logs_dropped_count(const struct node *n)
{
	return n->log_dropped + (n->logfile != NULL ?
	    logfile_lost(n->logfile) : 0);
}

/*
 * A line's time as text: the date and second are formatted once a
 * second, the milliseconds every time (a flood of lines is a flood of
 * calls here).
 */
static const char *
logs_time(int64_t wall_ms)
{
	static char	iso[UTIL_ISO_LEN];
	static int64_t	sec = -1;
	int64_t		ms = wall_ms % 1000;

	if (wall_ms < 0 || wall_ms / 1000 != sec) {
		sec = wall_ms < 0 ? -1 : wall_ms / 1000;
		return util_iso_ms(wall_ms, iso);
	}
	/* "2026-12-07T03:58:01.123Z": the milliseconds are at 20..22. */
	iso[20] = (char)('0' + ms / 100);
	iso[21] = (char)('0' + ms / 10 % 10);
	iso[22] = (char)('0' + ms % 10);
	return iso;
}

/* "TIME SERVICE[PID] STREAM: TEXT", as wardenctl logs prints it. */
static void
logs_to_file(struct node *n, const struct logline *l)
{
	static char	line[LOGS_HEAD_MAX + TREE_LINE_MAX * 3];
	int		hl;

	hl = snprintf(line, LOGS_HEAD_MAX, "%s %s[%ld] %s: ",
	    logs_time(l->wall_ms), n->name, (long)l->pid,
	    logs_streams[l->stream]);
	if (hl < 0 || hl >= LOGS_HEAD_MAX)
		return;
	memcpy(line + hl, l->text, l->len);
	if (logfile_write(n->logfile, line, (size_t)hl + l->len) == -1)
		logs_dropped(n, "its log file");
}

/*
 * Lines lost on the way out (journald busy, a file's writer behind) are
 * counted per service and said in warden's log, at most every
 * LOGS_SAY_DROPPED_MS, so that a flood of losses is not a flood of lines.
 */
static void
logs_dropped(struct node *n, const char *where)
{
	uint64_t	now = util_now_ms();

	n->log_dropped++;
	n->log_dropped_unsaid++;
	if (now < logs_dropped_said_at + LOGS_SAY_DROPPED_MS)
		return;
	logs_dropped_said_at = now;
	log_warnx("%s: %llu lines lost: %s did not keep up (%llu in all)",
	    n->name, (unsigned long long)n->log_dropped_unsaid, where,
	    (unsigned long long)n->log_dropped);
	n->log_dropped_unsaid = 0;
}

/*
 * In the journal as an entry of the service's own, else in warden's log,
 * unless the service has a file of its own: the line is there already.
 */
static void
logs_say(struct node *n, const struct logline *l)
{
	if (journald_active()) {
		switch (journald_send(n->name, l->pid, l->stream, l->text,
		    l->len)) {
		case JOURNALD_SENT:
			return;
		case JOURNALD_BUSY:
			logs_dropped(n, "the journal");
			return;
		case JOURNALD_GONE:
			break;
		}
	}
	if (n->logfile == NULL)
		log_info("%s: %s", n->name, l->text);
}

/*
 * The line is made clean text once (pipes.c cuts lines at TREE_LINE_MAX
 * bytes, each of which may become three), then kept, said and sent.
 */
void
logs_line(struct node *n, int stream, pid_t pid, const char *s, size_t len)
{
	static char	 clean[TREE_LINE_MAX * 3 + 1];
	struct logline	 l;
	json_t		*j;

	if (len > TREE_LINE_MAX)
		len = TREE_LINE_MAX;
	l.seq = ++logs_seq;
	l.wall_ms = util_wall_ms();
	l.pid = pid;
	l.stream = stream;
	l.len = logring_utf8_clean(clean, sizeof(clean) - 1, s, len);
	clean[l.len] = '\0';
	l.text = clean;
	n = logs_keeper(n);
	logring_push_clean(&n->logs, l.seq, l.wall_ms, pid, stream, clean, l.len);
	if (n->logfile != NULL)
		logs_to_file(n, &l);
	logs_say(n, &l);
	if (control_log_followers() > 0) {
		j = logs_line_json(n->name, &l);
		control_publish_log(n->name, j);
		json_decref(j);
	}
}

uint64_t
logs_last_seq(void)
{
	return logs_seq;
}

static int
logs_describe(struct node *n, void *arg)
{
	const struct logline	*l;
	json_t			*lines = json_array();
	size_t			 i;

	for (i = 0; i < logring_count(&n->logs); i++) {
		l = logring_at(&n->logs, i);
		json_array_append_new(lines, json_pack("[I,I,I,i,s%]",
		    (json_int_t)l->seq, (json_int_t)l->wall_ms,
		    (json_int_t)l->pid, l->stream, l->text, l->len));
	}
	if (json_array_size(lines) > 0)
		json_object_set_new(arg, n->name, lines);
	else
		json_decref(lines);
	return 0;
}

json_t *
logs_handover(void)
{
	json_t	*services = json_object();

	tree_each_worker(tree_root(), logs_describe, services);
	return json_pack("{s:I,s:o}", "seq", (json_int_t)logs_seq, "services",
	    services);
}

static int
logs_take(struct node *n, const json_t *lines, char *err, size_t errlen)
{
	json_int_t	 seq, wall, pid;
	const char	*text;
	size_t		 i, len;
	json_t		*v;
	int		 stream;

	json_array_foreach(lines, i, v) {
		if (json_unpack((json_t *)v, "[I,I,I,i,s%]", &seq, &wall, &pid,
		    &stream, &text, &len) == -1 || seq < 0 || pid < -1 ||
		    pid > INT32_MAX || (stream != LOGRING_STDOUT &&
		    stream != LOGRING_STDERR)) {
			snprintf(err, errlen, "logs: %s: line %zu: want [seq, "
			    "time, pid, stream, text]", n->name, i);
			return -1;
		}
		logring_push(&n->logs, (uint64_t)seq, (int64_t)wall, (pid_t)pid,
		    stream, text, len);
	}
	return 0;
}

int
logs_adopt(const json_t *d, char *err, size_t errlen)
{
	json_t		*services = json_object_get(d, "services"), *lines;
	json_int_t	 seq;
	const char	*name;
	struct node	*n;

	if (d == NULL)		/* an image that kept no lines */
		return 0;
	if (json_unpack((json_t *)d, "{s:I}", "seq", &seq) == -1 || seq < 0 ||
	    !json_is_object(services)) {
		snprintf(err, errlen, "logs: want {seq, services}");
		return -1;
	}
	json_object_foreach(services, name, lines) {
		if ((n = tree_find(name)) == NULL || n->is_sup ||
		    !json_is_array(lines)) {
			snprintf(err, errlen, "logs: %s: not a service of this "
			    "tree, or no list of lines", name);
			return -1;
		}
		if (logs_take(n, lines, err, errlen) == -1)
			return -1;
	}
	logs_seq = (uint64_t)seq;
	return 0;
}
