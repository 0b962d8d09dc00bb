/*
 * hooks-io.c: a failure hook's stdin and output, from the loop, never
 * blocking it. Its stdin (the service's last lines) is written as the
 * pipe takes it; a hook that does not read gets what fits, and the rest
 * is dropped when it ends. Its stdout and stderr are read as they come,
 * a bounded piece per turn, and logged a line at a time as "hook NAME:
 * line", up to HOOKS_OUTPUT_MAX bytes; beyond that they are read and
 * dropped, so a chatty hook never stalls on a full pipe.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "hooks.h"
#include "hooks-private.h"
#include "log.h"
#include "tree-private.h"
#include "util.h"

#define HOOKS_READ_CHUNK	4096	/* read per turn of the loop */
#define HOOKS_FINAL_READS	16	/* chunks read once it has exited */

/* --- stdin ------------------------------------------------------------------- */

/* Done with its stdin; what was not taken is said and dropped. */
static void
hooks_in_close(struct hook *h)
{
	if (h->in_fd != -1 && h->inoff < h->inlen)
		log_info("hook for %s: %zu of %zu bytes of its stdin not read",
		    h->owner, h->inlen - h->inoff, h->inlen);
	pipes_unwatch(&h->ev_in, &h->in_fd);
}

/* Write what the pipe takes. true: nothing more to write. */
static bool
hooks_in_write(struct hook *h)
{
	ssize_t	n;

	while (h->inoff < h->inlen) {
		n = write(h->in_fd, h->input + h->inoff, h->inlen - h->inoff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return false;
		if (n == -1) {
			/* EPIPE: it closed its stdin; the rest is not wanted. */
			if (errno != EPIPE)
				log_warn("hook for %s: stdin", h->owner);
			return true;
		}
		h->inoff += (size_t)n;
	}
	return true;
}

static void
hooks_in_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hook	*h = arg;

	(void)fd;
	(void)what;
	if (hooks_in_write(h))
		hooks_in_close(h);
}

/* --- stdout and stderr -------------------------------------------------------- */

static void
hooks_out_line(struct hook_out *o)
{
	struct hook	*h = o->hook;

	if (h->logged >= HOOKS_OUTPUT_MAX) {
		if (!h->dropped)
			log_warnx("hook %s: more than %d bytes of output, the "
			    "rest dropped", h->owner, HOOKS_OUTPUT_MAX);
		h->dropped = true;
	} else {
		log_info("hook %s: %.*s", h->owner, (int)o->len, o->line);
		h->logged += o->len;
	}
	o->len = 0;
}

static void
hooks_out_bytes(struct hook_out *o, const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			hooks_out_line(o);
			continue;
		}
		o->line[o->len++] = p[i];
		if (o->len == sizeof(o->line))
			hooks_out_line(o);
	}
}

static void
hooks_out_close(struct hook_out *o)
{
	if (o->len > 0)
		hooks_out_line(o);
	pipes_unwatch(&o->ev, &o->fd);
}

/* One chunk. true: more may come (not at its end, no error). */
static bool
hooks_out_read(struct hook_out *o)
{
	char	buf[HOOKS_READ_CHUNK];
	ssize_t	n;

	do
		n = read(o->fd, buf, sizeof(buf));
	while (n == -1 && errno == EINTR);
	if (n > 0) {
		hooks_out_bytes(o, buf, (size_t)n);
		return true;
	}
	if (n == -1 && errno == EAGAIN)
		return false;
	if (n == -1)
		log_warn("hook for %s: %s", o->hook->owner, o->name);
	hooks_out_close(o);
	return false;
}

static void
hooks_out_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)hooks_out_read(arg);
}

/* --- the whole ------------------------------------------------------------------- */

void
hooks_io_start(struct hook *h, int in_fd, int out_fd, int err_fd)
{
	int	fds[2] = { out_fd, err_fd }, i;

	for (i = 0; i < 2; i++) {
		h->out[i].hook = h;
		h->out[i].name = i == 0 ? "stdout" : "stderr";
		h->out[i].fd = fds[i];
		h->out[i].ev = event_new(hooks_base, fds[i],
		    EV_READ | EV_PERSIST, hooks_out_cb, &h->out[i]);
		if (h->out[i].ev == NULL || event_add(h->out[i].ev, NULL) == -1)
			fatalx("cannot watch a hook's output");
	}
	if (in_fd == -1)
		return;
	h->in_fd = in_fd;
	if (util_set_nonblock(in_fd, true) == -1) {
		log_warn("hook for %s: stdin", h->owner);
		hooks_in_close(h);
		return;
	}
	if (hooks_in_write(h)) {
		hooks_in_close(h);
		return;
	}
	h->ev_in = event_new(hooks_base, in_fd, EV_WRITE | EV_PERSIST,
	    hooks_in_cb, h);
	if (h->ev_in == NULL || event_add(h->ev_in, NULL) == -1)
		fatalx("cannot watch a hook's stdin");
}

void
hooks_io_final(struct hook *h)
{
	int	i, k;

	hooks_in_close(h);
	/* Bounded: what it left running may still hold the pipe open. */
	for (i = 0; i < 2; i++) {
		for (k = 0; k < HOOKS_FINAL_READS && h->out[i].fd != -1 &&
		    hooks_out_read(&h->out[i]); k++)
			;
		hooks_out_close(&h->out[i]);
	}
}

void
hooks_io_close(struct hook *h)
{
	hooks_in_close(h);
	hooks_out_close(&h->out[0]);
	hooks_out_close(&h->out[1]);
}
