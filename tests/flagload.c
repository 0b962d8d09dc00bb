/*
 * flagload.c: 64 clients writing flags at once (flagload.h).
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "util.h"
#include "flagload.h"

#define FLAGLOAD_WAIT_MS	20000	/* failure bound of one answer */

static pthread_t	flagload_th[FLAGLOAD_CLIENTS];

char *
flagload_config(void)
{
	char	*text, *flags = xstrdup(""), *next;
	int	 i;

	for (i = 0; i < FLAGLOAD_CLIENTS; i++) {
		xasprintf(&next, "%s%s 'c%d': { 'default': 0 }", flags,
		    i > 0 ? "," : "", i);
		free(flags);
		flags = next;
	}
	xasprintf(&text, "{ 'flags': {%s }, 'supervisor': { 'children': [] } }",
	    flags);
	free(flags);
	return text;
}

/*
 * One answer line on fd: its "result" is an object (OK) or it is an
 * error. 1: OK, 0: an error answer, -1: the connection ended.
 */
static int
flagload_answer(int fd)
{
	char		 line[8192];
	size_t		 len = 0;
	ssize_t		 n;
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	json_t		*r;
	int		 ok;

	for (;;) {
		if (len > 0 && memchr(line, '\n', len) != NULL)
			break;
		if (poll(&pfd, 1, FLAGLOAD_WAIT_MS) != 1)
			return -1;
		n = read(fd, line + len, sizeof(line) - 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		if (len >= sizeof(line) - 1)
			return 0;
	}
	/* One request at a time: the line is the whole of what came. */
	r = json_loadb(line, len, JSON_DISABLE_EOF_CHECK, NULL);
	ok = json_is_object(json_object_get(r, "result")) ? 1 : 0;
	json_decref(r);
	return ok;
}

static int
flagload_send(int fd, int i, int value)
{
	char	req[256];

	snprintf(req, sizeof(req), "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":"
	    "\"flag.set\",\"params\":{\"name\":\"c%d\",\"value\":%d}}\n", value,
	    i, value);
	return util_write_all(fd, req, strlen(req));
}

void
flagload_open(struct flagload *fl, struct harness *h)
{
	static const char	ping[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"ping\"}\n";
	int			i;

	memset(fl, 0, sizeof(*fl));
	fl->h = h;
	ck_assert_int_eq(pthread_mutex_init(&fl->mu, NULL), 0);
	ck_assert_int_eq(pthread_cond_init(&fl->cv, NULL), 0);
	for (i = 0; i < FLAGLOAD_CLIENTS; i++) {
		ck_assert_int_ge(fl->fd[i] = harness_connect(h), 0);
		ck_assert_int_eq(util_write_all(fl->fd[i], ping, strlen(ping)), 0);
	}
	for (i = 0; i < FLAGLOAD_CLIENTS; i++)
		ck_assert_msg(flagload_answer(fl->fd[i]) >= 0, "client %d: no "
		    "pong", i);
}

void
flagload_close(struct flagload *fl)
{
	int	i;

	for (i = 0; i < FLAGLOAD_CLIENTS; i++)
		close(fl->fd[i]);
	pthread_mutex_destroy(&fl->mu);
	pthread_cond_destroy(&fl->cv);
}

unsigned
flagload_syncs(struct harness *h)
{
	json_t		*r = harness_result(h, "table.info", NULL);
	unsigned	 n;

	ck_assert_msg(json_is_integer(json_object_get(r, "journal_syncs")),
	    "table.info has no journal_syncs");
	n = (unsigned)json_integer_value(json_object_get(r, "journal_syncs"));
	json_decref(r);
	return n;
}

int
flagload_value(struct harness *h, int i)
{
	char	 name[16];
	json_t	*r;
	int	 v;

	snprintf(name, sizeof(name), "c%d", i);
	r = harness_result(h, "flag.get", json_pack("{s:s}", "name", name));
	ck_assert_ptr_nonnull(r);
	v = (int)json_integer_value(json_object_get(r, "value"));
	json_decref(r);
	return v;
}

/* Until /proc says warden is stopped: the proof that it reads nothing. */
static void
flagload_wait_stopped(pid_t pid)
{
	char	path[64], *text, *p;
	long	tries;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	for (tries = 0; tries < 10000000; tries++) {
		ck_assert_ptr_nonnull(text = harness_read_file(path));
		p = strrchr(text, ')');
		if (p != NULL && p[1] == ' ' && p[2] == 'T') {
			free(text);
			return;
		}
		free(text);
		sched_yield();
	}
	ck_abort_msg("warden did not stop");
}

unsigned
flagload_round_stopped(struct flagload *fl)
{
	unsigned	before = flagload_syncs(fl->h);
	int		i;

	ck_assert_int_eq(harness_signal(fl->h, SIGSTOP), 0);
	flagload_wait_stopped(fl->h->pid);
	for (i = 0; i < FLAGLOAD_CLIENTS; i++) {
		fl->sent[i]++;
		ck_assert_int_eq(flagload_send(fl->fd[i], i, fl->sent[i]), 0);
	}
	ck_assert_int_eq(harness_signal(fl->h, SIGCONT), 0);
	for (i = 0; i < FLAGLOAD_CLIENTS; i++) {
		ck_assert_msg(flagload_answer(fl->fd[i]) == 1, "client %d: "
		    "value %d not answered OK", i, fl->sent[i]);
		fl->acked[i] = fl->sent[i];
	}
	return flagload_syncs(fl->h) - before;
}

struct flagload_arg {
	struct flagload	*fl;
	int		 i;
};

static struct flagload_arg	flagload_args[FLAGLOAD_CLIENTS];

/* Client i's next value and its answer; false: it stops there. */
static bool
flagload_step(struct flagload *fl, int i)
{
	int	rc;

	fl->sent[i]++;
	if (flagload_send(fl->fd[i], i, fl->sent[i]) == -1 ||
	    (rc = flagload_answer(fl->fd[i])) == -1) {
		pthread_mutex_lock(&fl->mu);
		fl->lost = true;
		pthread_mutex_unlock(&fl->mu);
		return false;
	}
	pthread_mutex_lock(&fl->mu);
	if (rc == 1)
		fl->acked[i] = fl->sent[i];
	else
		fl->failed[i] = true;
	if (++fl->total == fl->quit_at)
		pthread_cond_broadcast(&fl->cv);
	pthread_mutex_unlock(&fl->mu);
	return rc == 1;
}

static void *
flagload_thread(void *arg)
{
	struct flagload_arg	*a = arg;
	struct flagload		*fl = a->fl;
	int			 i = a->i;

	while (fl->sent[i] < fl->until && flagload_step(fl, i))
		continue;
	pthread_mutex_lock(&fl->mu);
	fl->ended++;
	pthread_cond_broadcast(&fl->cv);
	pthread_mutex_unlock(&fl->mu);
	return NULL;
}

void
flagload_start(struct flagload *fl, int until, int quit_at)
{
	int	i;

	fl->until = until;
	fl->quit_at = quit_at;
	for (i = 0; i < FLAGLOAD_CLIENTS; i++) {
		flagload_args[i].fl = fl;
		flagload_args[i].i = i;
		ck_assert_int_eq(pthread_create(&flagload_th[i], NULL,
		    flagload_thread, &flagload_args[i]), 0);
	}
	if (quit_at <= 0)
		return;
	pthread_mutex_lock(&fl->mu);
	while (fl->total < quit_at && fl->ended < FLAGLOAD_CLIENTS)
		pthread_cond_wait(&fl->cv, &fl->mu);
	pthread_mutex_unlock(&fl->mu);
}

void
flagload_join(struct flagload *fl)
{
	int	i;

	(void)fl;
	for (i = 0; i < FLAGLOAD_CLIENTS; i++)
		ck_assert_int_eq(pthread_join(flagload_th[i], NULL), 0);
}
