/*
 * healthtest.c: see healthtest.h.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "healthtest.h"
#include "testlib.h"
#include "util.h"

char *
ht_conf(const char *const *children, size_t n)
{
	char	*text, *next;
	size_t	 i;

	text = xstrdup("{ 'supervisor': { 'max_restarts': 100, "
	    "'max_seconds': 60, 'children': [\n");
	for (i = 0; i < n; i++) {
		xasprintf(&next, "%s%s%s\n", text, i > 0 ? ", " : "",
		    children[i]);
		free(text);
		text = next;
	}
	xasprintf(&next, "%s] } }", text);
	free(text);
	return next;
}

void
ht_start(struct harness *h, ...)
{
	const char	*kids[16];
	size_t		 n = 0;
	va_list		 ap;
	char		*conf;

	va_start(ap, h);
	while (n < nitems(kids) && (kids[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	conf = ht_conf(kids, n);
	start(h, conf);
	free(conf);
}

void
ht_prepare_probe(struct harness *h, const char *child, const char *name,
    const char *text)
{
	char	*conf, *path;

	conf = ht_conf(&child, 1);
	prepare(h, conf);
	free(conf);
	ck_assert_int_eq(harness_write_file(h, name, text), 0);
	path = harness_path(h, name);
	ck_assert_int_eq(chmod(path, 0755), 0);
	free(path);
}

void
ht_wait_health(struct harness *h, const char *service, const char *status)
{
	json_t	*cond = json_pack("{s:s,s:s}", "service", service, "health",
	    status);

	ck_assert_msg(harness_wait(h, cond, TESTLIB_WAIT) == 0,
	    "%s: never %s", service, status);
}

json_t *
ht_unhealthy(struct harness_conn *sub, const char *service, const char *check,
    const char *reason)
{
	json_t	*e = wait_event(sub, "service.unhealthy", service);

	if (check != NULL)
		ck_assert_str_eq(str(e, "check"), check);
	ck_assert_str_eq(str(e, "reason"), reason);
	return e;
}

pid_t
ht_start_rounds(struct harness *h, char **path)
{
	char	*w;

	w = dq("{ 'name': 'w', 'command': ['@WORKER@'], 'health': { 'exec': "
	    "['/bin/sh', '-c', 'echo x >> @DIR@/rounds'], 'interval_ms': 100, "
	    "'failures': 1 } }");
	ht_start(h, w, NULL);
	free(w);
	ht_wait_health(h, "w", "healthy");
	*path = harness_path(h, "rounds");
	return pid_of(h, "w");
}

void
ht_wait_lines(const char *path, int n)
{
	char	*text = NULL, *next;

	for (;;) {
		next = harness_wait_file(path, text, TESTLIB_WAIT);
		ck_assert_msg(next != NULL, "%s: fewer than %d lines (%s)",
		    path, n, text != NULL ? text : "none");
		free(text);
		text = next;
		if (count_of(text, "\n") >= n)
			break;
	}
	free(text);
}
