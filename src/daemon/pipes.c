/*
 * pipes.c: a worker's output and readiness. Its stdout and stderr come
 * through one pipe, logged a line at a time under its name; readiness
 * comes as a line on its ready fd (ready: fd) or as READY=1 on the notify
 * socket (ready: notify, readysock.c). Each instance has pipes of its own.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "readysock.h"
#include "tree-private.h"
#include "util.h"

#define PIPES_READ_MAX	65536	/* output bytes read per wake-up */

static void
pipes_log_line(struct node *n, const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == '\r'))
		len--;
	log_info("%s: %.*s", n->name, (int)len, s);
}

static void
pipes_take_output(struct node *n, const char *buf, size_t len)
{
	const char	*nl;
	size_t		 take;

	if (n->line == NULL)
		n->line = xmalloc(TREE_LINE_MAX);
	while (len > 0) {
		nl = memchr(buf, '\n', len);
		take = nl != NULL ? (size_t)(nl - buf) : len;
		if (n->linelen + take > TREE_LINE_MAX)
			take = TREE_LINE_MAX - n->linelen;
		memcpy(n->line + n->linelen, buf, take);
		n->linelen += take;
		buf += take;
		len -= take;
		if (len > 0 && *buf == '\n') {
			buf++;
			len--;
			pipes_log_line(n, n->line, n->linelen);
			n->linelen = 0;
		} else if (n->linelen == TREE_LINE_MAX) {
			pipes_log_line(n, n->line, n->linelen);
			n->linelen = 0;
		}
	}
}

static void
pipes_close_output(struct node *n)
{
	/* The last line of an instance that ended without its newline. */
	if (n->linelen > 0)
		pipes_log_line(n, n->line, n->linelen);
	n->linelen = 0;
	if (n->ev_out != NULL)
		event_free(n->ev_out);
	n->ev_out = NULL;
	if (n->out_fd != -1)
		close(n->out_fd);
	n->out_fd = -1;
}

/*
 * Read what is there, at most PIPES_READ_MAX, so a flood cannot hold the
 * loop. final: the instance has exited, what it wrote is all in the pipe;
 * its last partial line is logged now and the pipe closed.
 */
void
pipes_read_output(struct node *n, bool final)
{
	char	buf[8192];
	size_t	total = 0;
	ssize_t	r;

	while (n->out_fd != -1 && total < PIPES_READ_MAX) {
		r = read(n->out_fd, buf, sizeof(buf));
		if (r > 0) {
			pipes_take_output(n, buf, (size_t)r);
			total += (size_t)r;
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0 || (r == -1 && errno != EAGAIN))
			pipes_close_output(n);
		break;
	}
	if (final)
		pipes_close_output(n);
}

void
pipes_output_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pipes_read_output(arg, false);
}

void
pipes_close_ready(struct node *n)
{
	if (n->ev_ready != NULL)
		event_free(n->ev_ready);
	n->ev_ready = NULL;
	if (n->ready_fd != -1)
		close(n->ready_fd);
	n->ready_fd = -1;
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
pipes_watch_output(struct node *n, int fd)
{
	n->out_fd = fd;
	n->ev_out = event_new(tree.base, n->out_fd, EV_READ | EV_PERSIST,
	    pipes_output_cb, n);
	if (n->ev_out == NULL || event_add(n->ev_out, NULL) == -1)
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
	/* READY=1 is readiness only for a worker that said it would send it. */
	if (readysock_has(msg, "READY=1") && n->conf != NULL &&
	    n->conf->ready == READY_NOTIFY)
		worker_apply(n, WEV_READY, NULL);
}
