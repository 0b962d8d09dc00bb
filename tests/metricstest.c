/*
 * metricstest.c: what the metrics suites share (metricstest.h).
 */
#include <check.h>
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
