/*
 * logs.c: what becomes of each line a worker writes (see logs.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "log.h"
#include "logring.h"
#include "logs.h"
#include "tree-private.h"
#include "util.h"

static uint64_t	logs_seq;

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
logs_limits(struct node *n)
{
	if (n->conf != NULL)
		logring_set_limits(&n->logs, (size_t)n->conf->log.lines,
		    (size_t)n->conf->log.memory_bytes);
}

void
logs_succeed(struct node *old, struct node *succ)
{
	struct logring	r = succ->logs;

	succ->logs = old->logs;
	old->logs = r;
	logs_limits(succ);
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
	logring_push(&logs_keeper(n)->logs, l.seq, l.wall_ms, pid, stream,
	    clean, l.len);
	log_info("%s: %s", n->name, clean);
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
