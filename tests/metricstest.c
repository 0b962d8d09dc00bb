/*
 * metricstest.c: what the metrics suites share (metricstest.h).
 */
#include <check.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpclient.h"
#include "metricstest.h"
#include "testlib.h"
#include "util.h"

char *
mt_listen(struct harness *h)
{
	json_t	*r = result(h, "metrics", NULL);
	char	*s;

	ck_assert_msg(str(r, "listen") != NULL, "no endpoint: %s", dump(r));
	s = xstrdup(str(r, "listen"));
	json_decref(r);
	return s;
}

char *
mt_rpc_text(struct harness *h)
{
	json_t	*r = result(h, "metrics", NULL);
	char	*s;

	ck_assert_str_eq(str(r, "content_type"),
	    "text/plain; version=0.0.4; charset=utf-8");
	s = xstrdup(str(r, "text"));
	json_decref(r);
	return s;
}

char *
mt_http_text(const char *listen)
{
	struct http_reply	 r;
	char			*s;

	ck_assert_msg(http_request(listen, "GET", "/metrics", TESTLIB_WAIT,
	    &r) == 0, "GET http://%s/metrics: no answer", listen);
	ck_assert_msg(r.status == 200, "GET /metrics: %s", r.head);
	ck_assert_msg(strstr(r.head, "Content-Type: text/plain; version=0.0.4; "
	    "charset=utf-8") != NULL, "content type: %s", r.head);
	s = xstrdup(r.body);
	http_reply_free(&r);
	return s;
}

/* The line of the sample: "series value" at a line's start, or NULL. */
static const char *
mt_line(const char *text, const char *series)
{
	size_t		 len = strlen(series);
	const char	*p = text;

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p != NULL ? p + 1 : p)
		if (strncmp(p, series, len) == 0 && p[len] == ' ')
			return p + len + 1;
	return NULL;
}

bool
mt_has(const char *text, const char *series)
{
	return mt_line(text, series) != NULL;
}

double
mt_value(const char *text, const char *series)
{
	const char	*v = mt_line(text, series);

	ck_assert_msg(v != NULL, "no sample %s in:\n%.4000s", series, text);
	return strtod(v, NULL);
}

/* Whether inode is a TCP socket's, by pid's /proc/PID/net/tcp and tcp6. */
static bool
mt_is_tcp(pid_t pid, const char *inode)
{
	static const char *const tables[] = { "tcp", "tcp6" };
	char		 path[64], want[160], *text;
	size_t		 i;
	bool		 found = false;

	snprintf(want, sizeof(want), " %s ", inode);
	for (i = 0; i < nitems(tables) && !found; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/net/%s", (long)pid,
		    tables[i]);
		if ((text = harness_read_file(path)) == NULL)
			continue;
		found = strstr(text, want) != NULL;
		free(text);
	}
	return found;
}

int
mt_tcp_fds(pid_t pid)
{
	char		 path[64], link[384], target[128];
	DIR		*d;
	struct dirent	*de;
	ssize_t		 n;
	int		 count = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	ck_assert_ptr_nonnull(d = opendir(path));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, de->d_name);
		if ((n = readlink(link, target, sizeof(target) - 1)) <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, "socket:[", 8) == 0) {
			target[n - 1] = '\0';
			count += mt_is_tcp(pid, target + 8);
		}
	}
	closedir(d);
	return count;
}

void
mt_need(const char *path)
{
	ck_assert_msg(access(path, X_OK) == 0, "%s is not installed: install "
	    "Debian's package %s (apt-get install %s; scripts/deps does)", path,
	    MT_PACKAGE, MT_PACKAGE);
}

void
mt_promtool(struct harness *h, const char *stdin_file, ...)
{
	const char	*argv[16] = { "/bin/sh", "-c", NULL, "promtool" };
	char		*cmd, *out = NULL, *err = NULL;
	va_list		 ap;
	size_t		 n = 4;
	int		 rc;

	mt_need(MT_PROMTOOL);
	xasprintf(&cmd, "exec \"$0\" \"$@\" < %s", stdin_file != NULL ?
	    stdin_file : "/dev/null");
	argv[2] = cmd;
	argv[3] = MT_PROMTOOL;
	va_start(ap, stdin_file);
	while (n < nitems(argv) - 1 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	rc = harness_run(h, argv, &out, &err, TESTLIB_WAIT);
	ck_assert_msg(rc == 0, "promtool %s %s: exit %d\n%s%s", argv[4],
	    argv[5] != NULL ? argv[5] : "", rc, out != NULL ? out : "",
	    err != NULL ? err : "");
	free(out);
	free(err);
	free(cmd);
}
