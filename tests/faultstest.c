/*
 * faultstest.c: the resource-fault suites' helpers (faultstest.h).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "faultstest.h"

/* A request on an open connection and its answer's result. */
json_t *
ft_conn_result(struct harness_conn *c, const char *method, const char *params)
{
	json_t		*resp, *r;
	long long	 id;
	char		*s;

	id = harness_conn_request(c, method, js(params));
	ck_assert_msg(id != -1, "%s: cannot send", method);
	resp = harness_read_response(c, id, HARNESS_CALL_TIMEOUT);
	ck_assert_msg(resp != NULL, "%s: no answer", method);
	s = dump(resp);
	r = json_object_get(resp, "result");
	ck_assert_msg(r != NULL, "%s: %s", method, s);
	free(s);
	json_incref(r);
	json_decref(resp);
	return r;
}

void
ft_conn_ping(struct harness_conn *c)
{
	json_t	*r = ft_conn_result(c, "ping", NULL);

	ck_assert_str_eq(json_string_value(r), "pong");
	json_decref(r);
}

/*
 * Half-close c and wait until warden closes its end: warden has let the
 * client go (and closed its fd) when this returns.
 */
void
ft_close_synced(struct harness_conn *c)
{
	ck_assert_int_eq(shutdown(c->fd, SHUT_WR), 0);
	ck_assert_msg(harness_conn_wait_closed(c, FT_WAIT) == 0,
	    "warden did not let a client go");
	harness_conn_close(c);
}

/* A ping on a connection of its own, gone on warden's side on return. */
void
ft_ping_synced(struct harness *h)
{
	struct harness_conn	*c = harness_conn_open(h);

	ck_assert_ptr_nonnull(c);
	ft_conn_ping(c);
	ft_close_synced(c);
}

/* --- /proc ------------------------------------------------------------------ */

/* VmRSS of pid, in kB. */
long
ft_rss_kb(pid_t pid)
{
	char	 path[64], *s, *p;
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	s = harness_read_file(path);
	ck_assert_msg(s != NULL, "%s: %s", path, strerror(errno));
	if ((p = strstr(s, "\nVmRSS:")) != NULL)
		kb = strtol(p + 7, NULL, 10);
	free(s);
	ck_assert_msg(kb > 0, "no VmRSS for %ld", (long)pid);
	return kb;
}

/* How many fds pid has open; the highest in *maxfd when not NULL. */
int
ft_fd_count(pid_t pid, int *maxfd)
{
	char		 path[64];
	DIR		*d;
	struct dirent	*de;
	int		 n = 0, fd;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	d = opendir(path);
	ck_assert_msg(d != NULL, "%s: %s", path, strerror(errno));
	if (maxfd != NULL)
		*maxfd = -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		fd = atoi(de->d_name);
		if (maxfd != NULL && fd > *maxfd)
			*maxfd = fd;
	}
	closedir(d);
	return n;
}
