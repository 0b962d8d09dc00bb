/*
 * testlib.c: the helpers the integration suites share (testlib.h).
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "util.h"

/* --- text and JSON --------------------------------------------------------- */

char *
dq(const char *text)
{
	char	*s, *p;

	s = xstrdup(text);
	for (p = s; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return s;
}

char *
cfg(const char *fmt, ...)
{
	va_list	 ap;
	char	*s, *t;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		ck_abort_msg("vasprintf: %s", strerror(errno));
	va_end(ap);
	t = dq(s);
	free(s);
	return t;
}

json_t *
js(const char *text)
{
	json_error_t	 jerr;
	char		*s;
	json_t		*j;

	if (text == NULL)
		return NULL;
	s = dq(text);
	j = json_loads(s, JSON_DECODE_ANY, &jerr);
	ck_assert_msg(j != NULL, "bad JSON in test: %s (%s)", s, jerr.text);
	free(s);
	return j;
}

char *
dump(const json_t *j)
{
	char	*s;

	if (j == NULL)
		return xstrdup("(null)");
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	return s != NULL ? s : xstrdup("?");
}

const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

long long
num(const json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "%s is not an integer in %s", key,
	    dump(o));
	return json_integer_value(v);
}

/* --- warden ---------------------------------------------------------------- */

void
start(struct harness *h, const char *conf)
{
	char	*text = dq(conf);

	ck_assert_msg(harness_start(h, text) == 0, "warden did not start");
	free(text);
}

void
prepare(struct harness *h, const char *conf)
{
	char	*text = dq(conf);

	ck_assert_msg(harness_prepare(h, text) == 0, "cannot prepare");
	free(text);
}

void
reexec_by_signal(struct harness *h)
{
	harness_log_mark(h);
	ck_assert_int_eq(harness_signal(h, SIGUSR2), 0);
	ck_assert_msg(harness_wait_notify(h, "RELOADING=1", TESTLIB_WAIT) == 0,
	    "no RELOADING=1");
	ck_assert_msg(harness_wait_log(h, "reexec: warden ", TESTLIB_WAIT) == 0,
	    "the next image never said it took over");
	ck_assert_msg(harness_wait_notify(h, "READY=1", TESTLIB_WAIT) == 0,
	    "no READY=1 after the reexec");
}

void
finish(struct harness *h, int status)
{
	int	st = harness_stop(h);

	ck_assert_msg(st == status, "warden exited %d, want %d", st, status);
	ck_assert_msg(h->leftovers == 0, "warden left %d process(es) running",
	    h->leftovers);
}

void
stop(struct harness *h)
{
	finish(h, 0);
}

void
kill_warden(struct harness *h)
{
	ck_assert_int_eq(harness_signal(h, SIGKILL), 0);
	ck_assert_int_eq(harness_wait_exit(h, TESTLIB_WAIT), 128 + SIGKILL);
}

void
restart(struct harness *h)
{
	ck_assert_msg(harness_restart(h) == 0, "warden did not start again");
}

/* --- requests -------------------------------------------------------------- */

json_t *
result(struct harness *h, const char *method, json_t *params)
{
	json_t	*r = harness_result(h, method, params);

	ck_assert_msg(r != NULL, "%s failed", method);
	return r;
}

json_t *
expect_error_object(struct harness *h, const char *method, json_t *params,
    int code, const char *kind)
{
	json_t		*resp, *err;
	const char	*k;

	resp = harness_call(h, method, params);
	ck_assert_msg(resp != NULL, "%s: no answer", method);
	ck_assert_msg(harness_error_code(resp) == code,
	    "%s: want error %d, got %s", method, code, dump(resp));
	k = harness_error_kind(resp);
	ck_assert_msg(k != NULL && strcmp(k, kind) == 0,
	    "%s: want kind %s, got %s", method, kind, dump(resp));
	err = json_incref(json_object_get(resp, "error"));
	json_decref(resp);
	return err;
}

void
expect_error(struct harness *h, const char *method, json_t *params, int code,
    const char *kind)
{
	json_decref(expect_error_object(h, method, params, code, kind));
}

/* --- services -------------------------------------------------------------- */

json_t *
service_of(struct harness *h, const char *service)
{
	json_t	*s = harness_service(h, service);

	ck_assert_msg(s != NULL, "no status for %s", service);
	return s;
}

pid_t
pid_of(struct harness *h, const char *service)
{
	pid_t	pid = harness_pid_of(h, service);

	ck_assert_msg(pid > 0, "%s has no pid (%ld)", service, (long)pid);
	return pid;
}

const char *
state_of(struct harness *h, const char *service)
{
	static char	 buf[32];
	json_t		*s = service_of(h, service);

	ck_assert_msg(str(s, "state") != NULL, "%s has no state", service);
	snprintf(buf, sizeof(buf), "%s", str(s, "state"));
	json_decref(s);
	return buf;
}

long long
field_of(struct harness *h, const char *service, const char *key)
{
	json_t		*s = service_of(h, service);
	long long	 v;

	v = num(s, key);
	json_decref(s);
	return v;
}

void
wait_state(struct harness *h, const char *service, const char *state)
{
	ck_assert_msg(harness_wait_state(h, service, state, TESTLIB_WAIT) == 0,
	    "%s never %s", service, state);
}

void
wait_restarts(struct harness *h, const char *service, const char *state,
    int n)
{
	ck_assert_msg(harness_wait(h, json_pack("{s:s,s:s,s:i}", "service",
	    service, "state", state, "min_restarts", n), TESTLIB_WAIT) == 0,
	    "%s never %s after %d restarts", service, state, n);
}

pid_t
usr2_when_set_up(struct harness *h, const char *service, const char *name,
    pid_t prev)
{
	char	*path = harness_path(h, name);
	pid_t	 g;

	g = harness_wait_pidfile(path, prev, TESTLIB_WAIT);
	ck_assert_msg(g > 0, "%s: no %s", service, name);
	free(path);
	ck_assert_int_eq(kill(pid_of(h, service), SIGUSR2), 0);
	return g;
}

/* --- events ---------------------------------------------------------------- */

struct harness_conn *
subscribe(struct harness *h, ...)
{
	struct harness_conn	*c;
	json_t			*topics = NULL;
	va_list			 ap;
	const char		*t;

	va_start(ap, h);
	while ((t = va_arg(ap, const char *)) != NULL) {
		if (topics == NULL)
			topics = json_array();
		ck_assert_int_eq(json_array_append_new(topics,
		    json_string(t)), 0);
	}
	va_end(ap);
	c = harness_subscribe(h, topics);
	ck_assert_msg(c != NULL, "cannot subscribe");
	ck_assert_int_ge(c->seq, 0);
	return c;
}

json_t *
wait_event(struct harness_conn *c, const char *type, const char *service)
{
	json_t	*ev = harness_wait_event(c, type, service, TESTLIB_WAIT);

	ck_assert_msg(ev != NULL, "no %s event for %s", type,
	    service != NULL ? service : "anything");
	return ev;
}

/* Whether ev is of this type (and service, unless NULL). */
static bool
testlib_event_is(const json_t *ev, const char *type, const char *service)
{
	const char	*t = str(ev, "type"), *s = str(ev, "service");

	return t != NULL && strcmp(t, type) == 0 && (service == NULL ||
	    (s != NULL && strcmp(s, service) == 0));
}

json_t *
events_until(struct harness_conn *c, const char *type, const char *service,
    json_t *list)
{
	json_t	*ev;

	if (list == NULL)
		list = json_array();
	for (;;) {
		ev = harness_next_event(c, TESTLIB_WAIT);
		ck_assert_msg(ev != NULL, "no %s event for %s; seen: %s", type,
		    service != NULL ? service : "any", dump(list));
		ck_assert_int_eq(json_array_append_new(list, ev), 0);
		if (testlib_event_is(ev, type, service))
			return list;
	}
}

/* --- files and text ------------------------------------------------------- */

off_t
file_size(const char *path)
{
	struct stat	st;

	ck_assert_msg(stat(path, &st) == 0, "stat %s: %s", path,
	    strerror(errno));
	return st.st_size;
}

int
write_text(const char *path, const char *text)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	do {
		n = write(fd, text, strlen(text));
	} while (n == -1 && errno == EINTR);
	if (close(fd) == -1 || n != (ssize_t)strlen(text))
		return -1;
	return 0;
}

bool
has_line(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\0'))
			return true;
		p++;
	}
	return false;
}

int
count_of(const char *hay, const char *needle)
{
	const char	*p;
	int		 n = 0;

	for (p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

int
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	close(fd);
	return ntohs(sin.sin_port);
}
