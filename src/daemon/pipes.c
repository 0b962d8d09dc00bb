/*
 * pipes.c: a worker's output and readiness. Its stdout and stderr come
 * through a pipe each, cut into lines that logs.c keeps and passes on
 * (a line longer than TREE_LINE_MAX comes in pieces); readiness
 * comes as a line on its ready fd (ready: fd) or as READY=1 on the notify
 * socket (ready: notify, readysock.c). Each instance has pipes of its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "logs.h"
#include "readysock.h"
#include "tree-private.h"
#include "util.h"
#include "watchdog.h"

#define PIPES_READ_MAX	65536	/* output bytes read per wake-up, per stream */
#define PIPES_STATUS_MAX 256	/* the STATUS= text kept, in bytes */

void
pipes_unwatch(struct event **ev, int *fd)
{
	if (*ev != NULL)
		event_free(*ev);
	*ev = NULL;
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

void
pipes_init(struct node *n)
{
	int	i;

	for (i = 0; i < 2; i++) {
		n->out[i].node = n;
		n->out[i].stream = i;
		n->out[i].fd = -1;
		n->out[i].pid = -1;
	}
	logs_init(n);
}

void
pipes_free(struct node *n)
{
	int	i;

	for (i = 0; i < 2; i++) {
		pipes_unwatch(&n->out[i].ev, &n->out[i].fd);
		free(n->out[i].line);
	}
	logs_free(n);
}

static void
pipes_line(struct outpipe *o, const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == '\r'))
		len--;
	logs_line(o->node, o->stream, o->pid, s, len);
}

static void
pipes_take_output(struct outpipe *o, const char *buf, size_t len)
{
	const char	*nl;
	size_t		 take;

	if (o->line == NULL)
		o->line = xmalloc(TREE_LINE_MAX);
	while (len > 0) {
		/*
		 * The newline that ends a line just cut at TREE_LINE_MAX ends
		 * it: no empty line after it, wherever the reads fell.
		 */
		if (o->cut && o->linelen == 0 && *buf == '\n') {
			o->cut = false;
			buf++;
			len--;
			continue;
		}
		o->cut = false;
		nl = memchr(buf, '\n', len);
		take = nl != NULL ? (size_t)(nl - buf) : len;
		if (o->linelen + take > TREE_LINE_MAX)
			take = TREE_LINE_MAX - o->linelen;
		memcpy(o->line + o->linelen, buf, take);
		o->linelen += take;
		buf += take;
		len -= take;
		if (len > 0 && *buf == '\n') {
			buf++;
			len--;
			pipes_line(o, o->line, o->linelen);
			o->linelen = 0;
		} else if (o->linelen == TREE_LINE_MAX) {
			pipes_line(o, o->line, o->linelen);
			o->linelen = 0;
			o->cut = true;
		}
	}
}

static void
pipes_close_stream(struct outpipe *o)
{
	/* The last line of an instance that ended without its newline. */
	if (o->linelen > 0)
		pipes_line(o, o->line, o->linelen);
	o->linelen = 0;
	pipes_unwatch(&o->ev, &o->fd);
}

/* What is there on one stream, at most PIPES_READ_MAX: a flood cannot hold the loop. */
static void
pipes_read_stream(struct outpipe *o)
{
	char	buf[8192];
	size_t	total = 0;
	ssize_t	r;

	while (o->fd != -1 && total < PIPES_READ_MAX) {
		r = read(o->fd, buf, sizeof(buf));
		if (r > 0) {
			pipes_take_output(o, buf, (size_t)r);
			total += (size_t)r;
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0 || (r == -1 && errno != EAGAIN))
			pipes_close_stream(o);
		break;
	}
}

/*
 * final: the instance has exited; what it wrote is read now, as far as
 * the bound goes, its last partial lines are logged and the pipes closed.
 */
void
pipes_read_output(struct node *n, bool final)
{
	int	i;

	for (i = 0; i < 2; i++) {
		pipes_read_stream(&n->out[i]);
		if (final)
			pipes_close_stream(&n->out[i]);
	}
}

void
pipes_output_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pipes_read_stream(arg);
}

void
pipes_close_ready(struct node *n)
{
	pipes_unwatch(&n->ev_ready, &n->ready_fd);
}

void
pipes_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node	*n = arg;
	char		 buf[256];
	ssize_t		 r;

	(void)what;
	r = read(fd, buf, sizeof(buf));
	if (r == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0 && memchr(buf, '\n', (size_t)r) != NULL) {
		pipes_close_ready(n);
		worker_apply(n, WEV_READY, NULL);
		return;
	}
	if (r <= 0)	/* closed without a newline: readiness cannot come this way */
		pipes_close_ready(n);
}

void
pipes_watch_output(struct node *n, int stream, int fd, pid_t pid)
{
	struct outpipe	*o = &n->out[stream];

	o->fd = fd;
	o->pid = pid;
	o->ev = event_new(tree.base, fd, EV_READ | EV_PERSIST, pipes_output_cb, o);
	if (o->ev == NULL || event_add(o->ev, NULL) == -1)
		fatalx("%s: cannot watch output", n->name);
}

void
pipes_watch_ready(struct node *n, int fd)
{
	n->ready_fd = fd;
	n->ev_ready = event_new(tree.base, n->ready_fd, EV_READ | EV_PERSIST,
	    pipes_ready_cb, n);
	if (n->ev_ready == NULL || event_add(n->ev_ready, NULL) == -1)
		fatalx("%s: cannot watch readiness", n->name);
}

/* A notify datagram: from the worker itself or from its process group. */
/*
 * STATUS=: what the worker says of itself, shown in status until its
 * next, or its exit. Kept printable and bounded: it is for people, on
 * terminals.
 */
static void
pipes_status(struct node *n, const char *msg)
{
	const char	*v;
	char		 raw[PIPES_STATUS_MAX];
	size_t		 len, i, clean;

	if ((v = readysock_value(msg, "STATUS", &len)) == NULL)
		return;
	if (len > sizeof(raw))
		len = sizeof(raw);
	for (i = 0; i < len; i++)
		raw[i] = (unsigned char)v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
	/* Nor C1 controls (U+0080..U+009F): a terminal takes them as commands. */
	for (i = 0; i + 1 < len; i++)
		if ((unsigned char)raw[i] == 0xc2 &&
		    (unsigned char)raw[i + 1] >= 0x80 &&
		    (unsigned char)raw[i + 1] <= 0x9f)
			raw[i] = raw[i + 1] = '?';
	/* Valid UTF-8, as every string in an answer must be; still bounded. */
	free(n->status_text);
	n->status_text = xmalloc(PIPES_STATUS_MAX + 1);
	clean = logring_utf8_clean(n->status_text, PIPES_STATUS_MAX, raw, len);
	n->status_text[clean] = '\0';
}

void
pipes_notify(pid_t pid, const char *msg, size_t len, void *arg)
{
	struct node	*n;
	pid_t		 pgid;

	(void)len;
	(void)arg;
	if ((n = pidmap_get(&tree.live_pids, pid)) == NULL) {
		pgid = getpgid(pid);
		if (pgid <= 0 || (n = pidmap_get(&tree.live_pids, pgid)) == NULL) {
			log_debug("notify from pid %ld: not a worker's, ignored", (long)pid);
			return;
		}
	}
	pipes_status(n, msg);
	/* READY=1 is readiness only for a worker that said it would send it. */
	if (readysock_has(msg, "READY=1") && n->conf != NULL &&
	    n->conf->ready == READY_NOTIFY)
		worker_apply(n, WEV_READY, NULL);
	watchdog_notify(n, pid, msg);
}
