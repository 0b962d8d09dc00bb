/*
 * check_supervise.c: supervision as seen from outside, with the real daemon
 * and real workers (tests/harness.h, tests/workers/test-worker.c): restarts
 * after a kill, the three strategies, restart types, backoff and intensity
 * escalating up the tree, process groups, shutdown grace, readiness, the
 * environment handed to workers, output capture, shutdown on signals,
 * reload, operator actions and the "wait" method.
 *
 * Configurations are written with single quotes for readability; cfg()
 * turns them into JSON.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "procinfo.h"
#include "util.h"

#define T_WAIT		5000	/* failure bound of one wait, ms */
#define T_CASE		30	/* failure bound of one test, s */

/* --- configuration text -------------------------------------------------- */

static char *cfg_v(const char *, va_list) __attribute__((format(printf, 1, 0)));
static char *cfg(const char *, ...) __attribute__((format(printf, 1, 2)));
static void start(struct harness *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void prepare(struct harness *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static char *
cfg_v(const char *fmt, va_list ap)
{
	char	*s, *p;

	if (vasprintf(&s, fmt, ap) == -1)
		ck_abort_msg("vasprintf: %s", strerror(errno));
	for (p = s; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return s;
}

static char *
cfg(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = cfg_v(fmt, ap);
	va_end(ap);
	return s;
}

static void
start(struct harness *h, const char *fmt, ...)
{
	va_list	 ap;
	char	*text;

	va_start(ap, fmt);
	text = cfg_v(fmt, ap);
	va_end(ap);
	ck_assert_msg(harness_start(h, text) == 0, "warden did not start");
	free(text);
}

static void
prepare(struct harness *h, const char *fmt, ...)
{
	va_list	 ap;
	char	*text;

	va_start(ap, fmt);
	text = cfg_v(fmt, ap);
	va_end(ap);
	ck_assert_msg(harness_prepare(h, text) == 0, "cannot prepare");
	free(text);
}

/*
 * Start warden without waiting for READY=1 (some worker must be helped to
 * get ready first), and return once its control socket listens.
 */
static void
spawn_early(struct harness *h)
{
	ck_assert_msg(harness_spawn(h) == 0, "cannot start warden");
	ck_assert_msg(harness_wait_log(h, "listening on", T_WAIT) == 0,
	    "warden does not listen");
}

/* Stop warden; it must exit with this status and leave nothing behind. */
static void
finish(struct harness *h, int status)
{
	int	st = harness_stop(h);

	ck_assert_msg(st == status, "warden exited %d, want %d", st, status);
	ck_assert_msg(h->leftovers == 0, "warden left %d process(es) running",
	    h->leftovers);
}

/* --- JSON ---------------------------------------------------------------- */

static char *
dump(const json_t *j)
{
	char	*s;

	if (j == NULL)
		return xstrdup("(null)");
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	return s != NULL ? s : xstrdup("?");
}

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long long
num(const json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "%s is not an integer in %s", key,
	    dump(o));
	return json_integer_value(v);
}

static void
expect_json(const json_t *got, const char *want, const char *what)
{
	json_error_t	 jerr;
	json_t		*w;

	w = json_loads(want, JSON_DECODE_ANY, &jerr);
	ck_assert_msg(w != NULL, "bad JSON in test: %s", want);
	ck_assert_msg(json_equal(got, w), "%s: got %s, want %s", what,
	    dump(got), want);
	json_decref(w);
}

/* --- calls --------------------------------------------------------------- */

static json_t *
result_of(struct harness *h, const char *method, json_t *params)
{
	json_t	*r = harness_result(h, method, params);

	ck_assert_msg(r != NULL, "%s failed", method);
	return r;
}

/* A call that must fail with code and kind; the error object is returned. */
static json_t *
expect_error(struct harness *h, const char *method, json_t *params, int code,
    const char *kind)
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

static json_t *
svc(struct harness *h, const char *name)
{
	json_t	*e = harness_service(h, name);

	ck_assert_msg(e != NULL, "no status for %s", name);
	return e;
}

/* A supervisor's entry of "status". */
static json_t *
sup(struct harness *h, const char *name)
{
	json_t	*r, *e;

	r = result_of(h, "status", json_pack("{s:s}", "service", name));
	e = json_array_get(json_object_get(r, "supervisors"), 0);
	ck_assert_msg(e != NULL && str(e, "name") != NULL &&
	    strcmp(str(e, "name"), name) == 0, "no supervisor %s in %s", name,
	    dump(r));
	json_incref(e);
	json_decref(r);
	return e;
}

static char *
health(struct harness *h)
{
	json_t	*r = result_of(h, "status", NULL);
	char	*s;

	ck_assert_ptr_nonnull(str(r, "health"));
	s = xstrdup(str(r, "health"));
	json_decref(r);
	return s;
}

/* A running service's pid. */
static pid_t
pid_of(struct harness *h, const char *name)
{
	pid_t	pid = harness_pid_of(h, name);

	ck_assert_msg(pid > 0, "%s has no pid (%ld)", name, (long)pid);
	return pid;
}

/* Check a service's state, pid (-1: null, 0: any live one) and restarts. */
static void
expect_svc(struct harness *h, const char *name, const char *state, pid_t pid,
    int restarts)
{
	json_t	*e = svc(h, name), *p;

	ck_assert_msg(str(e, "state") != NULL &&
	    strcmp(str(e, "state"), state) == 0, "%s: want state %s: %s", name,
	    state, dump(e));
	p = json_object_get(e, "pid");
	if (pid == -1)
		ck_assert_msg(json_is_null(p), "%s: want pid null: %s", name,
		    dump(e));
	else if (pid == 0)
		ck_assert_msg(json_is_integer(p) && json_integer_value(p) > 0,
		    "%s: want a pid: %s", name, dump(e));
	else
		ck_assert_msg(json_is_integer(p) && json_integer_value(p) ==
		    pid, "%s: want pid %ld: %s", name, (long)pid, dump(e));
	ck_assert_msg(num(e, "restarts") == restarts,
	    "%s: want %d restarts: %s", name, restarts, dump(e));
	json_decref(e);
}

static void
expect_last_exit(struct harness *h, const char *name, const char *want)
{
	json_t	*e = svc(h, name);

	expect_json(json_object_get(e, "last_exit"), want, name);
	json_decref(e);
}

static void
wait_state(struct harness *h, const char *name, const char *state)
{
	ck_assert_msg(harness_wait_state(h, name, state, T_WAIT) == 0,
	    "%s never %s", name, state);
}

static void
wait_restarts(struct harness *h, const char *name, const char *state, int n)
{
	ck_assert_msg(harness_wait(h, json_pack("{s:s,s:s,s:i}", "service",
	    name, "state", state, "min_restarts", n), T_WAIT) == 0,
	    "%s never %s after %d restarts", name, state, n);
}

/* service.kill; service is stolen, sig may be NULL (KILL). */
static json_t *
kill_svc(struct harness *h, json_t *service, const char *sig)
{
	json_t	*params = json_pack("{s:o}", "service", service);

	if (sig != NULL)
		json_object_set_new(params, "signal", json_string(sig));
	return result_of(h, "service.kill", params);
}

/* Kill one worker; the answer must name it and its pid. Returns the pid. */
static pid_t
kill_one(struct harness *h, const char *name, const char *sig)
{
	json_t	*r, *k, *e;
	pid_t	 pid;

	r = kill_svc(h, json_string(name), sig);
	ck_assert_str_eq(str(r, "signal"), sig != NULL ? sig : "KILL");
	k = json_object_get(r, "killed");
	ck_assert_msg(json_array_size(k) == 1, "killed: %s", dump(r));
	e = json_array_get(k, 0);
	ck_assert_str_eq(str(e, "service"), name);
	pid = (pid_t)num(e, "pid");
	ck_assert_int_gt(pid, 0);
	json_decref(r);
	return pid;
}

/*
 * Send SIGUSR2 ("get ready") to a test-worker started with --ready signal
 * and --grandchild NAME, once that pid file is there (its signal handlers
 * are set up before it forks), and is not prev. Returns the pid file's pid.
 */
static pid_t
usr2_when_set_up(struct harness *h, const char *service, const char *name,
    pid_t prev)
{
	char	*path = harness_path(h, name);
	pid_t	 g;

	g = harness_wait_pidfile(path, prev, T_WAIT);
	ck_assert_msg(g > 0, "%s: no %s", service, name);
	free(path);
	ck_assert_int_eq(kill(pid_of(h, service), SIGUSR2), 0);
	return g;
}

/*
 * Stop a worker whose --grandchild served as a marker, and see its process
 * group gone, so that the test ends on what it is about.
 */
static void
stop_marked(struct harness *h, const char *service, const char *name)
{
	char	*path = harness_path(h, name), *s;
	json_t	*r;
	pid_t	 g;

	s = harness_read_file(path);
	ck_assert_msg(s != NULL, "%s: no %s", service, name);
	g = (pid_t)atol(s);
	free(s);
	free(path);
	r = result_of(h, "service.stop", json_pack("{s:s}", "service",
	    service));
	ck_assert_str_eq(str(r, "state"), "stopped");
	json_decref(r);
	ck_assert_int_eq(harness_wait_pid_gone(g, T_WAIT), 0);
}

static struct harness_conn *
subscribe(struct harness *h)
{
	struct harness_conn	*c = harness_subscribe(h, NULL);

	ck_assert_msg(c != NULL, "cannot subscribe");
	return c;
}

/* --- events -------------------------------------------------------------- */

static bool
ev_is(const json_t *ev, const char *type, const char *service)
{
	const char	*t = str(ev, "type"), *s = str(ev, "service");

	return t != NULL && strcmp(t, type) == 0 && (service == NULL ||
	    (s != NULL && strcmp(s, service) == 0));
}

/* "type(service) ..." for failure messages. */
static char *
ev_summary(const json_t *list)
{
	json_t	*ev;
	char	*out = xstrdup(""), *t;
	size_t	 i;

	json_array_foreach(list, i, ev) {
		xasprintf(&t, "%s%s%s(%s)", out, *out != '\0' ? " " : "",
		    str(ev, "type") != NULL ? str(ev, "type") : "?",
		    str(ev, "service") != NULL ? str(ev, "service") : "");
		free(out);
		out = t;
	}
	return out;
}

/*
 * Read events into list (NULL: a new one) up to and including the first of
 * this type (and service, unless NULL).
 */
static json_t *
events_until(struct harness_conn *c, const char *type, const char *service,
    json_t *list)
{
	json_t	*ev;

	if (list == NULL)
		list = json_array();
	for (;;) {
		ev = harness_next_event(c, T_WAIT);
		if (ev == NULL)
			ck_abort_msg("no %s event for %s; seen: %s", type,
			    service != NULL ? service : "any",
			    ev_summary(list));
		json_array_append_new(list, ev);
		if (ev_is(ev, type, service))
			return list;
	}
}

/* Index of the first such event at or after from, or -1. */
static int
ev_find(const json_t *list, const char *type, const char *service, size_t from)
{
	size_t	i;

	for (i = from; i < json_array_size(list); i++)
		if (ev_is(json_array_get(list, i), type, service))
			return (int)i;
	return -1;
}

static int
ev_count(const json_t *list, const char *type, const char *service)
{
	json_t	*ev;
	size_t	 i;
	int	 n = 0;

	json_array_foreach(list, i, ev)
		if (ev_is(ev, type, service))
			n++;
	return n;
}

/* The services of the events of this type, in order: "c,b,a". */
static char *
ev_seq(const json_t *list, const char *type)
{
	json_t	*ev;
	char	*out = xstrdup(""), *t;
	size_t	 i;

	json_array_foreach(list, i, ev) {
		if (!ev_is(ev, type, NULL))
			continue;
		xasprintf(&t, "%s%s%s", out, *out != '\0' ? "," : "",
		    str(ev, "service") != NULL ? str(ev, "service") : "?");
		free(out);
		out = t;
	}
	return out;
}

/* The types of one service's events, in order: "service.exited,...". */
static char *
ev_types_of(const json_t *list, const char *service)
{
	json_t	*ev;
	char	*out = xstrdup(""), *t;
	size_t	 i;

	json_array_foreach(list, i, ev) {
		if (str(ev, "service") == NULL ||
		    strcmp(str(ev, "service"), service) != 0)
			continue;
		xasprintf(&t, "%s%s%s", out, *out != '\0' ? "," : "",
		    str(ev, "type"));
		free(out);
		out = t;
	}
	return out;
}

/* A service.exited event: its pid (0: any), code or signal, expected. */
static void
expect_exited(const json_t *ev, pid_t pid, int code, const char *sig,
    bool expected)
{
	ck_assert_msg(ev_is(ev, "service.exited", NULL), "not an exit: %s",
	    dump(ev));
	if (pid != 0)
		ck_assert_msg(num(ev, "pid") == pid, "want pid %ld: %s",
		    (long)pid, dump(ev));
	if (sig != NULL) {
		ck_assert_msg(str(ev, "signal") != NULL &&
		    strcmp(str(ev, "signal"), sig) == 0 &&
		    json_is_null(json_object_get(ev, "code")),
		    "want signal %s: %s", sig, dump(ev));
	} else {
		ck_assert_msg(json_is_null(json_object_get(ev, "signal")) &&
		    num(ev, "code") == code, "want code %d: %s", code,
		    dump(ev));
	}
	ck_assert_msg(json_is_boolean(json_object_get(ev, "expected")) &&
	    json_is_true(json_object_get(ev, "expected")) == expected,
	    "want expected %s: %s", expected ? "true" : "false", dump(ev));
}

/*
 * How early a timer of warden's may fire, as measured by a precise clock:
 * libevent times on Linux with CLOCK_MONOTONIC_COARSE, one tick coarse.
 */
static double
timer_slack_ms(void)
{
	struct timespec	res;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == -1)
		return 10.0;
	return (double)res.tv_sec * 1000.0 + (double)res.tv_nsec / 1e6 + 1.0;
}

static double
ev_ts(const json_t *ev)
{
	json_t	*v = json_object_get(ev, "ts");

	ck_assert_msg(json_is_number(v), "no ts: %s", dump(ev));
	return json_number_value(v);
}

/* --- logs, files and processes ------------------------------------------- */

static int
count_of(const char *hay, const char *needle)
{
	const char	*p;
	int		 n = 0;

	for (p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

static char *
log_text(struct harness *h)
{
	char	*s = harness_log(h);

	ck_assert_msg(s != NULL, "cannot read warden.log");
	return s;
}

/* Does text hold exactly this line? */
static bool
has_line(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

/* The value of VAR in an --env-out file, or NULL. */
static const char *
env_value(const char *text, const char *var, char *buf, size_t len)
{
	const char	*p = text, *nl;
	size_t		 n = strlen(var);

	for (p = text; p != NULL && *p != '\0';
	    p = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (strncmp(p, var, n) == 0 && p[n] == '=') {
			snprintf(buf, len, "%.*s", (int)((nl != NULL ? nl :
			    p + strlen(p)) - (p + n + 1)), p + n + 1);
			return buf;
		}
	}
	return NULL;
}

/* The rest of the line after "key " in an --env-out file, or NULL. */
static const char *
env_field(const char *text, const char *key, char *buf, size_t len)
{
	char	want[64];
	const char *p = text, *nl;
	size_t	n;

	n = (size_t)snprintf(want, sizeof(want), "%s ", key);
	for (p = text; p != NULL && *p != '\0';
	    p = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (strncmp(p, want, n) == 0) {
			snprintf(buf, len, "%.*s", (int)((nl != NULL ? nl :
			    p + strlen(p)) - (p + n)), p + n);
			return buf;
		}
	}
	return NULL;
}

/* The fds an --env-out file lists, as "0,1,2". */
static char *
env_fds(const char *text)
{
	const char	*p, *nl;
	char		*out = xstrdup(""), *t;
	bool		 fds[1024];
	int		 fd;

	memset(fds, 0, sizeof(fds));
	for (p = text; p != NULL && *p != '\0';
	    p = nl != NULL ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (strncmp(p, "fd ", 3) == 0) {
			fd = atoi(p + 3);
			ck_assert_msg(fd >= 0 && fd < 1024, "fd %d", fd);
			fds[fd] = true;
		}
	}
	for (fd = 0; fd < 1024; fd++) {
		if (!fds[fd])
			continue;
		xasprintf(&t, "%s%s%d", out, *out != '\0' ? "," : "", fd);
		free(out);
		out = t;
	}
	return out;
}

/* /proc/PID/stat: state and parent. -1 when there is no such process. */
static int
proc_stat(pid_t pid, char *state, pid_t *ppid)
{
	struct proc_info	pi;

	if (proc_info(pid, &pi) == -1)
		return -1;
	*state = pi.state;
	*ppid = pi.ppid;
	return 0;
}

/* How many children parent has, and how many of them are zombies. */
static void
children_of(pid_t parent, int *alive, int *zombies)
{
	DIR		*d;
	struct dirent	*de;
	pid_t		 ppid;
	char		 state;

	*alive = *zombies = 0;
	d = opendir("/proc");
	ck_assert_msg(d != NULL, "opendir /proc: %s", strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (proc_stat((pid_t)atol(de->d_name), &state, &ppid) == -1 ||
		    ppid != parent)
			continue;
		if (state == 'Z')
			(*zombies)++;
		else
			(*alive)++;
	}
	closedir(d);
}

static bool
is_zombie(pid_t pid)
{
	pid_t	ppid;
	char	state;

	return proc_stat(pid, &state, &ppid) == 0 && state == 'Z';
}

/* --- 1-4: a killed worker comes back, in its strategy's scope ------------ */

START_TEST(test_kill_restarts)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list, *ev;
	pid_t		 pid0, pid1;
	int		 i;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@'] } ] } }");
	pid0 = pid_of(&h, "w");
	c = subscribe(&h);
	ck_assert_int_eq(kill_one(&h, "w", NULL), pid0);
	list = events_until(c, "service.ready", "w", NULL);
	ck_assert_str_eq(ev_types_of(list, "w"),
	    "service.exited,service.started,service.ready");
	i = ev_find(list, "service.exited", "w", 0);
	expect_exited(json_array_get(list, i), pid0, 0, "KILL", false);
	ev = json_array_get(list, ev_find(list, "service.started", "w", 0));
	pid1 = (pid_t)num(ev, "pid");
	ck_assert_int_ne(pid1, pid0);
	ck_assert_int_eq(num(ev, "restarts"), 1);
	ev = json_array_get(list, ev_find(list, "service.ready", "w", 0));
	ck_assert_int_eq(num(ev, "pid"), pid1);

	expect_svc(&h, "w", "running", pid1, 1);
	expect_last_exit(&h, "w", "{\"signal\":\"KILL\"}");
	ck_assert_int_eq(harness_wait_pid_gone(pid0, T_WAIT), 0);
	ck_assert(!is_zombie(pid0));
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

START_TEST(test_one_for_one)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 a, b, cc;

	start(&h, "{ 'supervisor': { 'strategy': 'one_for_one', 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'] },"
	    " { 'name': 'b', 'command': ['@WORKER@'] },"
	    " { 'name': 'c', 'command': ['@WORKER@'] } ] } }");
	a = pid_of(&h, "a");
	b = pid_of(&h, "b");
	cc = pid_of(&h, "c");
	c = subscribe(&h);
	kill_one(&h, "b", NULL);
	list = events_until(c, "service.ready", "b", NULL);
	ck_assert_str_eq(ev_types_of(list, "a"), "");
	ck_assert_str_eq(ev_types_of(list, "c"), "");
	expect_svc(&h, "a", "running", a, 0);
	expect_svc(&h, "c", "running", cc, 0);
	expect_svc(&h, "b", "running", 0, 1);
	ck_assert_int_ne(pid_of(&h, "b"), b);
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

START_TEST(test_one_for_all)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 a, b, cc;
	int		 last_exit, first_start;

	start(&h, "{ 'supervisor': { 'strategy': 'one_for_all', "
	    "'max_restarts': 10, 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'] },"
	    " { 'name': 'b', 'command': ['@WORKER@'] },"
	    " { 'name': 'c', 'command': ['@WORKER@'] } ] } }");
	a = pid_of(&h, "a");
	b = pid_of(&h, "b");
	cc = pid_of(&h, "c");
	c = subscribe(&h);
	kill_one(&h, "b", NULL);
	list = events_until(c, "service.ready", "c", NULL);

	/* The killed one, the rest from the last down, then all up in order. */
	ck_assert_str_eq(ev_seq(list, "service.exited"), "b,c,a");
	ck_assert_str_eq(ev_seq(list, "service.started"), "a,b,c");
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "b",
	    0)), b, 0, "KILL", false);
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "c",
	    0)), cc, 0, "TERM", true);
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "a",
	    0)), a, 0, "TERM", true);
	last_exit = ev_find(list, "service.exited", "a", 0);
	first_start = ev_find(list, "service.started", "a", 0);
	ck_assert_msg(last_exit < first_start,
	    "a start before all were down: %s", ev_summary(list));

	expect_svc(&h, "a", "running", 0, 1);
	expect_svc(&h, "b", "running", 0, 1);
	expect_svc(&h, "c", "running", 0, 1);
	ck_assert_int_ne(pid_of(&h, "a"), a);
	ck_assert_int_ne(pid_of(&h, "b"), b);
	ck_assert_int_ne(pid_of(&h, "c"), cc);
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

START_TEST(test_rest_for_one)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 a, b, cc;
	int		 c_exit, b_start, c_start;

	start(&h, "{ 'supervisor': { 'strategy': 'rest_for_one', "
	    "'max_restarts': 10, 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'] },"
	    " { 'name': 'b', 'command': ['@WORKER@'] },"
	    " { 'name': 'c', 'command': ['@WORKER@'] } ] } }");
	a = pid_of(&h, "a");
	b = pid_of(&h, "b");
	cc = pid_of(&h, "c");
	c = subscribe(&h);
	kill_one(&h, "b", NULL);
	list = events_until(c, "service.ready", "c", NULL);

	ck_assert_str_eq(ev_types_of(list, "a"), "");
	ck_assert_str_eq(ev_seq(list, "service.exited"), "b,c");
	ck_assert_str_eq(ev_seq(list, "service.started"), "b,c");
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "b",
	    0)), b, 0, "KILL", false);
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "c",
	    0)), cc, 0, "TERM", true);
	c_exit = ev_find(list, "service.exited", "c", 0);
	b_start = ev_find(list, "service.started", "b", 0);
	c_start = ev_find(list, "service.started", "c", 0);
	ck_assert_msg(c_exit < b_start && b_start < c_start, "order: %s",
	    ev_summary(list));

	expect_svc(&h, "a", "running", a, 0);
	expect_svc(&h, "b", "running", 0, 1);
	expect_svc(&h, "c", "running", 0, 1);
	ck_assert_int_ne(pid_of(&h, "b"), b);
	ck_assert_int_ne(pid_of(&h, "c"), cc);
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/* --- 5: restart types ---------------------------------------------------- */

/*
 * Proof that nothing more is coming for a service that stays down: kill
 * the sentinel "s" and read events until it is ready again. A restart the
 * daemon had decided on would have begun before that.
 */
static json_t *
barrier(struct harness *h, struct harness_conn *c, json_t *list)
{
	kill_one(h, "s", NULL);
	return events_until(c, "service.ready", "s", list);
}

#define SENTINEL " { 'name': 's', 'command': ['@WORKER@'] }"

/*
 * A worker is sent SIGUSR1 (or SIGTERM it must ignore) only once its
 * signal set-up is done: test-worker announces readiness after it.
 */
#define SET_UP		" 'ready': 'notify'"
#define READY_ARGS	", '--ready', 'notify'"

START_TEST(test_transient_exit0)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 pid;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 't', 'restart': 'transient'," SET_UP ","
	    "   'command': ['@WORKER@', '--exit-on-usr1', '0'" READY_ARGS
	    "] },"
	    SENTINEL
	    " ] } }");
	pid = pid_of(&h, "t");
	c = subscribe(&h);
	ck_assert_int_eq(kill_one(&h, "t", "USR1"), pid);
	list = events_until(c, "service.exited", "t", NULL);
	expect_exited(json_array_get(list, json_array_size(list) - 1), pid, 0,
	    NULL, false);
	list = barrier(&h, c, list);
	ck_assert_str_eq(ev_types_of(list, "t"), "service.exited");
	expect_svc(&h, "t", "stopped", -1, 0);
	expect_last_exit(&h, "t", "{\"code\":0}");
	ck_assert_str_eq(health(&h), "degraded");
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

START_TEST(test_transient_exit3)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 pid;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 't', 'restart': 'transient'," SET_UP ","
	    "   'command': ['@WORKER@', '--exit-on-usr1', '3'" READY_ARGS
	    "] }"
	    " ] } }");
	pid = pid_of(&h, "t");
	c = subscribe(&h);
	kill_one(&h, "t", "USR1");
	list = events_until(c, "service.ready", "t", NULL);
	ck_assert_str_eq(ev_types_of(list, "t"),
	    "service.exited,service.started,service.ready");
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "t",
	    0)), pid, 3, NULL, false);
	expect_svc(&h, "t", "running", 0, 1);
	ck_assert_int_ne(pid_of(&h, "t"), pid);
	expect_last_exit(&h, "t", "{\"code\":3}");
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

START_TEST(test_temporary_exit3)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 pid;
	int		 i;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 't', 'restart': 'temporary'," SET_UP ","
	    "   'command': ['@WORKER@', '--exit-on-usr1', '3'" READY_ARGS
	    "] },"
	    SENTINEL
	    " ] } }");
	pid = pid_of(&h, "t");
	c = subscribe(&h);
	kill_one(&h, "t", "USR1");
	list = events_until(c, "service.failed", "t", NULL);
	i = ev_find(list, "service.exited", "t", 0);
	ck_assert_msg(i >= 0, "no exit before service.failed: %s",
	    ev_summary(list));
	expect_exited(json_array_get(list, i), pid, 3, NULL, false);
	list = barrier(&h, c, list);
	ck_assert_str_eq(ev_types_of(list, "t"),
	    "service.exited,service.failed");
	expect_svc(&h, "t", "failed", -1, 0);
	expect_last_exit(&h, "t", "{\"code\":3}");
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

START_TEST(test_permanent_exit0)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 pid;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 't', 'restart': 'permanent'," SET_UP ","
	    "   'command': ['@WORKER@', '--exit-on-usr1', '0'" READY_ARGS
	    "] }"
	    " ] } }");
	pid = pid_of(&h, "t");
	c = subscribe(&h);
	kill_one(&h, "t", "USR1");
	list = events_until(c, "service.ready", "t", NULL);
	ck_assert_str_eq(ev_types_of(list, "t"),
	    "service.exited,service.started,service.ready");
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "t",
	    0)), pid, 0, NULL, false);
	expect_svc(&h, "t", "running", 0, 1);
	ck_assert_int_ne(pid_of(&h, "t"), pid);
	expect_last_exit(&h, "t", "{\"code\":0}");
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/*
 * Death by the service's own stop signal is a normal exit; any other signal
 * is not. "u" stops with USR1, so for it TERM is the abnormal one.
 */
START_TEST(test_stop_signal_normal)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list;
	pid_t		 t, u;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 't', 'restart': 'transient', 'command': ['@WORKER@'] },"
	    " { 'name': 'u', 'restart': 'transient', 'stop_signal': 'USR1',"
	    "   'command': ['@WORKER@'] }," SENTINEL " ] } }");
	t = pid_of(&h, "t");
	u = pid_of(&h, "u");
	c = subscribe(&h);

	kill_one(&h, "t", "TERM");
	list = events_until(c, "service.exited", "t", NULL);
	expect_exited(json_array_get(list, json_array_size(list) - 1), t, 0,
	    "TERM", false);
	list = barrier(&h, c, list);
	ck_assert_str_eq(ev_types_of(list, "t"), "service.exited");
	expect_svc(&h, "t", "stopped", -1, 0);
	expect_last_exit(&h, "t", "{\"signal\":\"TERM\"}");

	kill_one(&h, "u", "TERM");
	list = events_until(c, "service.ready", "u", list);
	ck_assert_str_eq(ev_types_of(list, "u"),
	    "service.exited,service.started,service.ready");
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "u",
	    0)), u, 0, "TERM", false);
	expect_svc(&h, "u", "running", 0, 1);
	u = pid_of(&h, "u");

	kill_one(&h, "u", "USR1");
	list = events_until(c, "service.exited", "u", list);
	expect_exited(json_array_get(list, json_array_size(list) - 1), u, 0,
	    "USR1", false);
	list = barrier(&h, c, list);
	ck_assert_str_eq(ev_types_of(list, "u"), "service.exited,"
	    "service.started,service.ready,service.exited");
	expect_svc(&h, "u", "stopped", -1, 1);
	expect_last_exit(&h, "u", "{\"signal\":\"USR1\"}");
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/* --- 6-7: backoff, intensity, escalation --------------------------------- */

/*
 * "gate" holds the rest of the tree back until the test has subscribed, so
 * that no event of the crash loop is missed.
 */
START_TEST(test_crash_backoff)
{
	static const int delays[] = { 20, 40, 80 };
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list, *ev, *nest;
	int		 failed, i, b, s, nb = 0;

	prepare(&h, "{ 'supervisor': { 'max_restarts': 5, 'max_seconds': 10,"
	    " 'children': ["
	    " { 'name': 'gate', 'command': ['@WORKER@', '--ready', 'signal',"
	    "   '--grandchild', '@DIR@/gate.pid'], 'ready': 'notify' },"
	    " { 'name': 'nest', 'max_restarts': 3, 'max_seconds': 10,"
	    "   'children': ["
	    "   { 'name': 'crash', 'command': ['@WORKER@', '--crash', '1'],"
	    "     'backoff': { 'initial_ms': 20, 'factor': 2, 'max_ms': 200,"
	    "                  'jitter': 0 } } ] } ] } }");
	spawn_early(&h);
	wait_state(&h, "gate", "starting");
	c = subscribe(&h);
	usr2_when_set_up(&h, "gate", "gate.pid", 0);

	list = events_until(c, "supervisor.failed", "nest", NULL);
	failed = (int)json_array_size(list) - 1;
	ev = json_array_get(list, failed);
	ck_assert_int_eq(num(ev, "max_restarts"), 3);
	ck_assert_int_eq(num(ev, "max_seconds"), 10);
	/* Four runs, three restarts each after a longer delay, then give up. */
	ck_assert_str_eq(ev_types_of(list, "crash"),
	    "service.started,service.ready,service.exited,service.backoff,"
	    "service.started,service.ready,service.exited,service.backoff,"
	    "service.started,service.ready,service.exited,service.backoff,"
	    "service.started,service.ready,service.exited");
	for (i = 0; i < (int)json_array_size(list); i++) {
		ev = json_array_get(list, i);
		if (ev_is(ev, "service.exited", "crash"))
			expect_exited(ev, 0, 1, NULL, false);
		if (!ev_is(ev, "service.backoff", "crash"))
			continue;
		ck_assert_int_lt(nb, 3);
		ck_assert_msg(num(ev, "delay_ms") == delays[nb] &&
		    num(ev, "attempt") == nb + 1, "backoff %d: %s", nb + 1,
		    dump(ev));
		/* The next start waited at least that long. */
		b = i;
		s = ev_find(list, "service.started", "crash", (size_t)b);
		ck_assert_int_ge(s, 0);
		ck_assert_msg(ev_ts(json_array_get(list, s)) - ev_ts(ev) >=
		    delays[nb] - timer_slack_ms(), "restart %d came %.1f ms "
		    "after its backoff of %d ms", nb + 1,
		    ev_ts(json_array_get(list, s)) - ev_ts(ev), delays[nb]);
		nb++;
	}
	ck_assert_int_eq(nb, 3);

	/* The root restarts the supervisor, and it its worker. */
	list = events_until(c, "service.started", "crash", list);
	ev = json_array_get(list, json_array_size(list) - 1);
	ck_assert_int_eq(num(ev, "restarts"), 4);
	ck_assert_int_eq(ev_count(list, "supervisor.failed", "root"), 0);
	nest = sup(&h, "nest");
	ck_assert_int_eq(num(nest, "restarts"), 1);
	json_decref(nest);
	ck_assert_int_eq(harness_wait_ready(&h, T_WAIT), 0);
	stop_marked(&h, "gate", "gate.pid");
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/*
 * The nested supervisor keeps failing: the root restarts it 5 times, the
 * 6th failure is more than it allows, and warden exits 3. Short delays
 * keep the test fast; they still count against the limit.
 */
START_TEST(test_escalation_to_root)
{
	struct harness	 h;
	char		*text, *log;
	int		 status;

	text = cfg("{ 'supervisor': { 'max_restarts': 5, 'max_seconds': 10,"
	    " 'children': ["
	    " { 'name': 'nest', 'max_restarts': 3, 'max_seconds': 10,"
	    "   'children': ["
	    "   { 'name': 'crash', 'command': ['@WORKER@', '--crash', '1'],"
	    "     'backoff': { 'initial_ms': 1, 'factor': 2, 'max_ms': 4,"
	    "                  'jitter': 0 } } ] } ] } }");
	status = harness_start_expect_fail(&h, text, 20000);
	free(text);
	ck_assert_int_eq(status, 3);
	log = log_text(&h);
	ck_assert_msg(count_of(log, "nest: supervisor gave up") == 6,
	    "nest gave up %d times, want 6", count_of(log,
	    "nest: supervisor gave up"));
	ck_assert_int_eq(count_of(log, "root: supervisor gave up"), 1);
	ck_assert_ptr_nonnull(strstr(log,
	    "the root supervisor failed: warden exits 3"));
	/* 6 rounds of 4 runs: the 4th failure of each round is one too many. */
	ck_assert_msg(count_of(log, " exited 1\n") == 24,
	    "%d crashes, want 24", count_of(log, " exited 1\n"));
	free(log);
	finish(&h, 3);
}
END_TEST

START_TEST(test_root_fails)
{
	struct harness	 h;
	char		*text, *log;
	int		 status;

	text = cfg("{ 'supervisor': { 'max_restarts': 2, 'max_seconds': 10,"
	    " 'children': ["
	    " { 'name': 'crash', 'command': ['@WORKER@', '--crash', '1'] }"
	    " ] } }");
	status = harness_start_expect_fail(&h, text, 10000);
	free(text);
	ck_assert_int_eq(status, 3);
	log = log_text(&h);
	ck_assert_int_eq(count_of(log, "root: supervisor gave up"), 1);
	ck_assert_msg(count_of(log, " exited 1\n") == 3,
	    "%d crashes, want 3", count_of(log, " exited 1\n"));
	free(log);
	finish(&h, 3);
}
END_TEST

/* --- 8-9: process groups and shutdown grace ------------------------------ */

START_TEST(test_stop_kills_grandchild)
{
	struct harness	 h;
	json_t		*r;
	char		*path;
	pid_t		 w, g;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--grandchild',"
	    "   '@DIR@/gc.pid'] } ] } }");
	w = pid_of(&h, "w");
	path = harness_path(&h, "gc.pid");
	g = harness_wait_pidfile(path, 0, T_WAIT);
	ck_assert_int_gt(g, 0);
	ck_assert(harness_pid_alive(g));
	r = result_of(&h, "service.stop", json_pack("{s:s}", "service", "w"));
	ck_assert_str_eq(str(r, "state"), "stopped");
	json_decref(r);
	ck_assert_int_eq(harness_wait_pid_gone(w, T_WAIT), 0);
	ck_assert_int_eq(harness_wait_pid_gone(g, T_WAIT), 0);
	free(path);
	finish(&h, 0);
}
END_TEST

START_TEST(test_kill_leader_kills_grandchild)
{
	struct harness	 h;
	char		*path;
	pid_t		 g, g2;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--grandchild',"
	    "   '@DIR@/gc.pid'] } ] } }");
	path = harness_path(&h, "gc.pid");
	g = harness_wait_pidfile(path, 0, T_WAIT);
	ck_assert_int_gt(g, 0);
	/* SIGKILL to the leader alone: what it forked must go with it. */
	kill_one(&h, "w", "KILL");
	ck_assert_int_eq(harness_wait_pid_gone(g, T_WAIT), 0);
	wait_restarts(&h, "w", "running", 1);
	g2 = harness_wait_pidfile(path, g, T_WAIT);
	ck_assert_int_gt(g2, 0);
	ck_assert_int_ne(g2, g);
	ck_assert(harness_pid_alive(g2));
	free(path);
	finish(&h, 0);
}
END_TEST

/*
 * On its way out, warden (the subreaper of its workers' descendants) is
 * done only when what it killed is gone: 20 workers, each with a child in
 * its process group, and none of them may outlive warden.
 */
START_TEST(test_exit_reaps_groups)
{
	struct harness	 h;
	char		*text, *t, name[32], *path;
	pid_t		 g[20];
	int		 i;

	text = xstrdup("{ 'supervisor': { 'children': [");
	for (i = 0; i < 20; i++) {
		xasprintf(&t, "%s%s { 'name': 'w%02d', 'command': ['@WORKER@',"
		    " '--grandchild', '@DIR@/g%02d.pid'] }", text, i > 0 ?
		    "," : "", i, i);
		free(text);
		text = t;
	}
	start(&h, "%s ] } }", text);
	free(text);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "g%02d.pid", i);
		path = harness_path(&h, name);
		g[i] = harness_wait_pidfile(path, 0, T_WAIT);
		ck_assert_int_gt(g[i], 0);
		free(path);
	}
	finish(&h, 0);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(harness_wait_pid_gone(g[i], 0), 0);
}
END_TEST

/*
 * A worker's child that leaves the group (setsid, as a daemon does) is
 * still the service's: it goes when the service stops, restarts, fails
 * and at shutdown.
 */
static pid_t
setsid_child(struct harness *h, pid_t prev)
{
	char	*path = harness_path(h, "gc.pid");
	pid_t	 g;

	g = harness_wait_pidfile(path, prev, T_WAIT);
	free(path);
	ck_assert_msg(g > 0, "no new gc.pid");
	ck_assert(harness_pid_alive(g));
	ck_assert_int_eq(getpgid(g), g);
	return g;
}

START_TEST(test_stop_kills_setsid_child)
{
	struct harness	 h;
	json_t		*r;
	pid_t		 g;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--grandchild',"
	    "   '@DIR@/gc.pid', '--setsid'] } ] } }");
	g = setsid_child(&h, 0);
	r = result_of(&h, "service.stop", json_pack("{s:s}", "service", "w"));
	ck_assert_str_eq(str(r, "state"), "stopped");
	json_decref(r);
	ck_assert_msg(harness_wait_pid_gone(g, T_WAIT) == 0,
	    "stop: %ld outlived its service", (long)g);

	r = result_of(&h, "service.start", json_pack("{s:s}", "service", "w"));
	json_decref(r);
	g = setsid_child(&h, g);
	r = result_of(&h, "service.restart", json_pack("{s:s}", "service",
	    "w"));
	json_decref(r);
	ck_assert_msg(harness_wait_pid_gone(g, T_WAIT) == 0,
	    "restart: %ld outlived its instance", (long)g);

	/* The leader dies alone: the group and the escaped child go. */
	g = setsid_child(&h, g);
	kill_one(&h, "w", "KILL");
	ck_assert_msg(harness_wait_pid_gone(g, T_WAIT) == 0,
	    "failure: %ld outlived its instance", (long)g);

	/* And at shutdown, nothing is left for warden's parent to find. */
	g = setsid_child(&h, g);
	finish(&h, 0);
	ck_assert_msg(harness_wait_pid_gone(g, 0) == 0,
	    "shutdown: %ld outlived warden", (long)g);
}
END_TEST

START_TEST(test_setsid_child_ignoring_term)
{
	struct harness	 h;
	json_t		*r;
	pid_t		 g;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--grandchild',"
	    "   '@DIR@/gc.pid', '--setsid', '--ignore-term'],"
	    "   'shutdown_ms': 200 } ] } }");
	g = setsid_child(&h, 0);
	r = result_of(&h, "service.stop", json_pack("{s:s}", "service", "w"));
	ck_assert_str_eq(str(r, "state"), "stopped");
	json_decref(r);
	ck_assert_msg(harness_wait_pid_gone(g, T_WAIT) == 0,
	    "%ld ignored SIGTERM and outlived its service", (long)g);
	finish(&h, 0);
}
END_TEST

/*
 * warden dies without stopping its workers (SIGKILL, a crash): outside
 * systemd they must not run on unattended. The worker holds a lock a
 * second instance cannot take, as a server holds its port; the next
 * warden's copy must start.
 */
static const int warden_deaths[] = { SIGKILL, SIGSEGV, SIGABRT };

START_TEST(test_warden_death_ends_workers)
{
	struct harness	 h;
	struct rlimit	 nocore = { 0, 0 };
	char		*path;
	pid_t		 w, w2;
	int		 sig = warden_deaths[_i], st;

	/* A crash of warden leaves no core in the test's folder. */
	ck_assert_int_eq(setrlimit(RLIMIT_CORE, &nocore), 0);
	prepare(&h, "{ 'supervisor': { 'max_restarts': 1, 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--lock', '@DIR@/port',"
	    "   '--pidfile', '@DIR@/w.pid'] } ] } }");
	h.keep_orphans = true;
	ck_assert_int_eq(harness_launch(&h), 0);
	path = harness_path(&h, "w.pid");
	w = harness_wait_pidfile(path, 0, T_WAIT);
	ck_assert_int_gt(w, 0);
	ck_assert_int_eq(w, pid_of(&h, "w"));

	ck_assert_int_eq(harness_signal(&h, sig), 0);
	st = harness_wait_exit(&h, T_WAIT);
	/* Under AddressSanitizer a SIGSEGV is reported, then abort()s. */
	ck_assert_msg(st == 128 + sig || (sig == SIGSEGV && st == 128 +
	    SIGABRT && getenv("WARDEN_SANITIZED") != NULL),
	    "warden exited %d, want %d", st, 128 + sig);
	ck_assert_msg(harness_wait_pid_gone(w, T_WAIT) == 0,
	    "SIG%s to warden: worker %ld runs on", util_signal_name(sig),
	    (long)w);

	ck_assert_int_eq(harness_restart(&h), 0);
	w2 = harness_wait_pidfile(path, w, T_WAIT);
	ck_assert_int_gt(w2, 0);
	wait_state(&h, "w", "running");
	ck_assert_int_eq(pid_of(&h, "w"), w2);
	free(path);
	finish(&h, 0);
}
END_TEST

/*
 * Workers that do not end with warden (they cleared the parent-death
 * signal, as a set-user-ID program would) are stopped by the next warden
 * on the same state_dir, before it starts its tree: the stop signal to
 * the group, SIGKILL after shutdown_ms for one that ignores it.
 */
START_TEST(test_next_warden_stops_earlier_workers)
{
	struct harness	 h;
	char		*p1, *p2, *pg;
	pid_t		 a, b, g, a2, b2;
	int		 st;

	prepare(&h, "{ 'supervisor': { 'max_restarts': 1, 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@', '--no-pdeathsig',"
	    "   '--lock', '@DIR@/a.lock', '--pidfile', '@DIR@/a.pid',"
	    "   '--grandchild', '@DIR@/g.pid'] },"
	    " { 'name': 'b', 'command': ['@WORKER@', '--no-pdeathsig',"
	    "   '--ignore-term', '--lock', '@DIR@/b.lock', '--pidfile',"
	    "   '@DIR@/b.pid'], 'shutdown_ms': 300 } ] } }");
	h.keep_orphans = true;
	ck_assert_int_eq(harness_launch(&h), 0);
	p1 = harness_path(&h, "a.pid");
	p2 = harness_path(&h, "b.pid");
	pg = harness_path(&h, "g.pid");
	a = harness_wait_pidfile(p1, 0, T_WAIT);
	b = harness_wait_pidfile(p2, 0, T_WAIT);
	g = harness_wait_pidfile(pg, 0, T_WAIT);
	ck_assert(a > 0 && b > 0 && g > 0);

	ck_assert_int_eq(harness_signal(&h, SIGKILL), 0);
	st = harness_wait_exit(&h, T_WAIT);
	ck_assert_int_eq(st, 128 + SIGKILL);
	/* They outlive warden: only the next one can stop them. */
	ck_assert(harness_pid_alive(a));
	ck_assert(harness_pid_alive(b));
	ck_assert(harness_pid_alive(g));

	harness_log_mark(&h);
	ck_assert_int_eq(harness_restart(&h), 0);
	ck_assert_int_eq(harness_wait_pid_gone(a, T_WAIT), 0);
	ck_assert_int_eq(harness_wait_pid_gone(b, T_WAIT), 0);
	ck_assert_int_eq(harness_wait_pid_gone(g, T_WAIT), 0);
	ck_assert_int_eq(harness_wait_log(&h, "a: pid", T_WAIT), 0);
	ck_assert_int_eq(harness_wait_log(&h,
	    "left running by an earlier warden", T_WAIT), 0);
	a2 = harness_wait_pidfile(p1, a, T_WAIT);
	b2 = harness_wait_pidfile(p2, b, T_WAIT);
	ck_assert(a2 > 0 && b2 > 0);
	wait_state(&h, "a", "running");
	wait_state(&h, "b", "running");
	ck_assert_int_eq(pid_of(&h, "a"), a2);
	ck_assert_int_eq(pid_of(&h, "b"), b2);
	free(p1);
	free(p2);
	free(pg);
	finish(&h, 0);
}
END_TEST

START_TEST(test_shutdown_grace)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*r, *list;
	uint64_t	 t0, took;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'ig', 'command': ['@WORKER@', '--ignore-term'"
	    READY_ARGS "], 'shutdown_ms': 300," SET_UP " },"
	    " { 'name': 'brutal', 'command': ['@WORKER@'],"
	    "   'shutdown_ms': 'brutal_kill' },"
	    " { 'name': 'plain', 'command': ['@WORKER@'] } ] } }");
	c = subscribe(&h);

	t0 = util_now_ms();
	r = result_of(&h, "service.stop", json_pack("{s:s}", "service", "ig"));
	took = util_now_ms() - t0;
	ck_assert_str_eq(str(r, "state"), "stopped");
	expect_json(json_object_get(r, "last_exit"), "{\"signal\":\"KILL\"}",
	    "ig");
	ck_assert_msg((double)took >= 300 - timer_slack_ms(), "SIGKILL after "
	    "%llu ms, before the grace of 300 ms", (unsigned long long)took);
	json_decref(r);
	list = events_until(c, "service.exited", "ig", NULL);
	expect_exited(json_array_get(list, json_array_size(list) - 1), 0, 0,
	    "KILL", true);
	ck_assert_int_eq(harness_wait_log(&h,
	    "ig: still running 300 ms after SIGTERM", T_WAIT), 0);

	t0 = util_now_ms();
	r = result_of(&h, "service.stop", json_pack("{s:s}", "service",
	    "brutal"));
	took = util_now_ms() - t0;
	ck_assert_str_eq(str(r, "state"), "stopped");
	expect_json(json_object_get(r, "last_exit"), "{\"signal\":\"KILL\"}",
	    "brutal");
	ck_assert_msg(took < 250, "brutal_kill took %llu ms",
	    (unsigned long long)took);
	json_decref(r);
	list = events_until(c, "service.exited", "brutal", list);
	expect_exited(json_array_get(list, json_array_size(list) - 1), 0, 0,
	    "KILL", true);

	r = result_of(&h, "service.stop", json_pack("{s:s}", "service",
	    "plain"));
	ck_assert_str_eq(str(r, "state"), "stopped");
	expect_json(json_object_get(r, "last_exit"), "{\"signal\":\"TERM\"}",
	    "plain");
	json_decref(r);
	list = events_until(c, "service.exited", "plain", list);
	expect_exited(json_array_get(list, json_array_size(list) - 1), 0, 0,
	    "TERM", true);
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/* --- 10-12: readiness ---------------------------------------------------- */

static const char *const ready_modes[] = { "notify", "fd" };

START_TEST(test_ready_gates_start)
{
	struct harness	 h;
	json_t		*b;
	pid_t		 a;

	prepare(&h, "{ 'supervisor': { 'strategy': 'one_for_one', 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@', '--ready', 'signal',"
	    "   '--grandchild', '@DIR@/a.pid'], 'ready': '%s' },"
	    " { 'name': 'b', 'command': ['@WORKER@'], 'ready': 'none' } ] } }",
	    ready_modes[_i]);
	spawn_early(&h);
	wait_state(&h, "a", "starting");
	b = svc(&h, "b");
	ck_assert_msg(strcmp(str(b, "state"), "stopped") == 0 &&
	    json_is_null(json_object_get(b, "pid")),
	    "b started before a was ready: %s", dump(b));
	json_decref(b);
	/* Nor has warden told its own manager it is ready. */
	ck_assert_int_eq(harness_wait_notify(&h, "READY=1", 0), -1);
	a = pid_of(&h, "a");
	usr2_when_set_up(&h, "a", "a.pid", 0);
	wait_state(&h, "b", "running");
	ck_assert_int_eq(harness_wait_ready(&h, T_WAIT), 0);
	expect_svc(&h, "a", "running", a, 0);
	expect_svc(&h, "b", "running", 0, 0);
	stop_marked(&h, "a", "a.pid");
	finish(&h, 0);
}
END_TEST

START_TEST(test_ready_systemd_notify)
{
	struct harness	 h;

	if (access("/bin/systemd-notify", X_OK) != 0) {
		fprintf(stderr, "test_ready_systemd_notify: skipped: no "
		    "/bin/systemd-notify\n");
		return;
	}
	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'n1', 'ready': 'notify', 'ready_timeout_ms': 3000,"
	    "   'command': ['/bin/sh', '-c',"
	    "   'systemd-notify --ready && exec sleep 1000'] },"
	    " { 'name': 'n2', 'ready': 'notify', 'ready_timeout_ms': 3000,"
	    "   'command': ['/bin/sh', '-c', 'systemd-notify --ready;"
	    "   echo notify-exit=$?; exec sleep 1000'] } ] } }");
	expect_svc(&h, "n1", "running", 0, 0);
	expect_svc(&h, "n2", "running", 0, 0);
	ck_assert_int_eq(harness_wait_log(&h, "n2: notify-exit=0", T_WAIT), 0);
	finish(&h, 0);
}
END_TEST

START_TEST(test_ready_timeout)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list, *ev;
	int		 i, s, e;

	prepare(&h, "{ 'supervisor': { 'max_restarts': 100, 'max_seconds': 10,"
	    " 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--never-ready'],"
	    "   'ready': 'notify', 'ready_timeout_ms': 100 } ] } }");
	spawn_early(&h);
	c = subscribe(&h);
	list = events_until(c, "service.exited", "w", NULL);
	expect_exited(json_array_get(list, json_array_size(list) - 1), 0, 0,
	    "KILL", false);
	i = (int)json_array_size(list);
	list = events_until(c, "service.started", "w", list);
	ev = json_array_get(list, json_array_size(list) - 1);
	ck_assert_int_ge(num(ev, "restarts"), 1);
	/* The next run is given its 100 ms too, and no more. */
	list = events_until(c, "service.exited", "w", list);
	s = ev_find(list, "service.started", "w", (size_t)i);
	e = ev_find(list, "service.exited", "w", (size_t)s);
	expect_exited(json_array_get(list, e), num(json_array_get(list, s),
	    "pid"), 0, "KILL", false);
	ck_assert_msg(ev_ts(json_array_get(list, e)) -
	    ev_ts(json_array_get(list, s)) >= 100 - timer_slack_ms(),
	    "killed %.1f ms after start",
	    ev_ts(json_array_get(list, e)) - ev_ts(json_array_get(list, s)));
	ck_assert_int_eq(ev_count(list, "service.ready", "w"), 0);
	wait_restarts(&h, "w", "starting", 2);
	ck_assert_int_eq(harness_wait_log(&h, "w: not ready in time", T_WAIT),
	    0);
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/*
 * An instance told to stop before it was ready, and that announces
 * readiness on its way down (it ignores SIGTERM): still stopping, never
 * said ready, and its grace ends in SIGKILL as for any other.
 */
START_TEST(test_ready_while_stopping)
{
	struct harness	 h;
	struct harness_conn *c, *sub;
	json_t		*resp, *r, *list;
	long long	 id;
	char		*path;
	pid_t		 w, g;

	prepare(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@', '--ready', 'signal',"
	    "   '--ignore-term', '--grandchild', '@DIR@/w.pid'], 'ready': '%s',"
	    "   'ready_timeout_ms': 20000, 'shutdown_ms': 1000 } ] } }",
	    ready_modes[_i]);
	spawn_early(&h);
	wait_state(&h, "w", "starting");
	/* Its signals are set up once its grandchild is there. */
	path = harness_path(&h, "w.pid");
	g = harness_wait_pidfile(path, 0, T_WAIT);
	ck_assert_msg(g > 0, "w: no w.pid");
	free(path);
	w = pid_of(&h, "w");
	sub = subscribe(&h);
	c = harness_conn_open(&h);
	ck_assert_ptr_nonnull(c);
	id = harness_conn_request(c, "service.stop", json_pack("{s:s}",
	    "service", "w"));
	ck_assert_int_ge(id, 0);
	wait_state(&h, "w", "stopping");
	ck_assert_int_eq(kill(w, SIGUSR2), 0);
	resp = harness_read_response(c, id, T_WAIT);
	ck_assert_msg(resp != NULL, "service.stop never answered");
	r = json_object_get(resp, "result");
	ck_assert_msg(r != NULL && strcmp(str(r, "state"), "stopped") == 0,
	    "service.stop: %s", dump(resp));
	expect_json(json_object_get(r, "last_exit"), "{\"signal\":\"KILL\"}",
	    "w");
	json_decref(resp);
	harness_conn_close(c);
	ck_assert_int_eq(harness_wait_log(&h,
	    "w: still running 1000 ms after SIGTERM", T_WAIT), 0);
	list = events_until(sub, "service.exited", "w", NULL);
	ck_assert_int_eq(ev_count(list, "service.ready", "w"), 0);
	json_decref(list);
	harness_conn_close(sub);
	ck_assert_int_eq(harness_wait_pid_gone(g, T_WAIT), 0);
	expect_svc(&h, "w", "stopped", -1, 0);
	finish(&h, 0);
}
END_TEST

/* --- 13-14: what a worker gets, and its output --------------------------- */

static char *
read_env(struct harness *h, const char *name)
{
	char	*path, *s;

	path = harness_path(h, name);
	s = harness_wait_file(path, NULL, T_WAIT);
	ck_assert_msg(s != NULL, "%s never written", path);
	free(path);
	return s;
}

/* What every worker gets, whatever its readiness. */
static void
check_env_common(struct harness *h, const char *env, const char *name,
    const char *fds, const char *cwd)
{
	char		 buf[PATH_MAX], want[64], *got;
	const char	*v, *t, *d1, *d2;
	char		 b1[PATH_MAX], b2[PATH_MAX];
	long		 pid;

	ck_assert_msg((v = env_value(env, "WARDEN_SERVICE", buf,
	    sizeof(buf))) != NULL && strcmp(v, name) == 0,
	    "%s: WARDEN_SERVICE=%s", name, v != NULL ? v : "(unset)");
	/*
	 * The table fd, when warden hands one over, is the only other one,
	 * above the others (the list is in ascending order).
	 */
	got = env_fds(env);
	if ((t = env_value(env, "WARDEN_TABLE_FD", buf, sizeof(buf))) != NULL)
		snprintf(want, sizeof(want), "%s,%s", fds, t);
	else
		snprintf(want, sizeof(want), "%s", fds);
	ck_assert_msg(strcmp(got, want) == 0, "%s: open fds %s, want %s", name,
	    got, want);
	free(got);
	ck_assert_msg((v = env_field(env, "fdtarget 0", buf, sizeof(buf))) !=
	    NULL && strcmp(v, "/dev/null") == 0, "%s: stdin is %s", name,
	    v != NULL ? v : "?");
	d1 = env_field(env, "fdtarget 1", b1, sizeof(b1));
	d2 = env_field(env, "fdtarget 2", b2, sizeof(b2));
	ck_assert_msg(d1 != NULL && d2 != NULL &&
	    strncmp(d1, "pipe:", 5) == 0 && strcmp(d1, d2) == 0,
	    "%s: stdout %s, stderr %s", name,
	    d1 != NULL ? d1 : "?", d2 != NULL ? d2 : "?");
	ck_assert_msg((v = env_field(env, "cwd", buf, sizeof(buf))) != NULL &&
	    strcmp(v, cwd) == 0, "%s: cwd %s, want %s", name, v != NULL ? v :
	    "?", cwd);
	/* Nothing of warden's signal handling is left. */
	ck_assert_msg((v = env_field(env, "sigmask", buf, sizeof(buf))) !=
	    NULL && strcmp(v, "0") == 0, "%s: sigmask %s", name, v);
	ck_assert_msg((v = env_field(env, "sigignore", buf, sizeof(buf))) !=
	    NULL && strcmp(v, "0") == 0, "%s: ignored signals %s", name, v);
	/* Its own process group, so that a stop reaches all it forked. */
	ck_assert_ptr_nonnull(env_field(env, "pid", b1, sizeof(b1)));
	pid = atol(b1);
	ck_assert_ptr_nonnull(env_field(env, "pgid", b2, sizeof(b2)));
	ck_assert_msg(pid > 0 && atol(b2) == pid, "%s: pid %ld, pgid %s", name,
	    pid, b2);
	ck_assert_int_eq(pid, pid_of(h, name));
}

START_TEST(test_worker_environment)
{
	struct harness	 h;
	char		*wd, *e, real_wd[PATH_MAX], real_dir[PATH_MAX];
	char		 buf[PATH_MAX];
	const char	*v;

	prepare(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'plain', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/plain.env'], 'cwd': 'wd',"
	    "   'env': { 'GREETING': 'hello world', 'EMPTY': '' } },"
	    " { 'name': 'fdw', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/fdw.env', '--ready', 'fd'], 'ready': 'fd' },"
	    " { 'name': 'notif', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/notif.env', '--ready', 'notify'], 'ready': 'notify' }"
	    " ] } }");
	wd = harness_path(&h, "wd");
	ck_assert_int_eq(mkdir(wd, 0755), 0);
	ck_assert_ptr_nonnull(realpath(wd, real_wd));
	ck_assert_ptr_nonnull(realpath(h.dir, real_dir));
	free(wd);
	ck_assert_int_eq(harness_launch(&h), 0);

	e = read_env(&h, "plain.env");
	check_env_common(&h, e, "plain", "0,1,2", real_wd);
	ck_assert(has_line(e, "GREETING=hello world"));
	ck_assert(has_line(e, "EMPTY="));
	ck_assert_msg(env_value(e, "NOTIFY_SOCKET", buf, sizeof(buf)) == NULL,
	    "plain: NOTIFY_SOCKET=%s", buf);
	ck_assert_ptr_null(env_value(e, "WARDEN_READY_FD", buf, sizeof(buf)));
	free(e);

	e = read_env(&h, "fdw.env");
	check_env_common(&h, e, "fdw", "0,1,2,3", real_dir);
	ck_assert_msg((v = env_value(e, "WARDEN_READY_FD", buf,
	    sizeof(buf))) != NULL && strcmp(v, "3") == 0,
	    "fdw: WARDEN_READY_FD=%s", v != NULL ? v : "(unset)");
	ck_assert_msg((v = env_field(e, "fdtarget 3", buf, sizeof(buf))) !=
	    NULL && strncmp(v, "pipe:", 5) == 0, "fdw: fd 3 is %s",
	    v != NULL ? v : "?");
	ck_assert_msg(env_value(e, "NOTIFY_SOCKET", buf, sizeof(buf)) == NULL,
	    "fdw: NOTIFY_SOCKET=%s", buf);
	ck_assert_ptr_null(env_value(e, "GREETING", buf, sizeof(buf)));
	free(e);

	e = read_env(&h, "notif.env");
	check_env_common(&h, e, "notif", "0,1,2", real_dir);
	ck_assert_msg((v = env_value(e, "NOTIFY_SOCKET", buf, sizeof(buf))) !=
	    NULL && v[0] == '@' && strlen(v) > 1, "notif: NOTIFY_SOCKET=%s",
	    v != NULL ? v : "(unset)");
	ck_assert_ptr_null(env_value(e, "WARDEN_READY_FD", buf, sizeof(buf)));
	free(e);
	finish(&h, 0);
}
END_TEST

/* user and group: only root can switch, so only a root run checks them. */
/*
 * warden started by a careless parent (fd 3 open without close-on-exec,
 * SIGINT, SIGQUIT and SIGHUP ignored, some signals blocked) passes none
 * of it on, whatever the worker's readiness.
 */
START_TEST(test_worker_clean_hands)
{
	struct harness	 h;
	char		*e, real_dir[PATH_MAX];

	prepare(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'plain', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/plain.env'] },"
	    " { 'name': 'fdw', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/fdw.env', '--ready', 'fd'], 'ready': 'fd' },"
	    " { 'name': 'notif', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/notif.env', '--ready', 'notify'], 'ready': 'notify' }"
	    " ] } }");
	ck_assert_ptr_nonnull(realpath(h.dir, real_dir));
	h.dirty_start = true;
	ck_assert_int_eq(harness_launch(&h), 0);

	e = read_env(&h, "plain.env");
	check_env_common(&h, e, "plain", "0,1,2", real_dir);
	free(e);
	e = read_env(&h, "fdw.env");
	check_env_common(&h, e, "fdw", "0,1,2,3", real_dir);
	ck_assert_msg(strstr(e, "/inherited") == NULL, "fdw: got warden's fd 3");
	free(e);
	e = read_env(&h, "notif.env");
	check_env_common(&h, e, "notif", "0,1,2", real_dir);
	free(e);
	finish(&h, 0);
}
END_TEST

START_TEST(test_worker_user)
{
	struct harness	 h;
	struct passwd	*pw;
	struct group	*gr;
	char		*out, *e, buf[64];
	const char	*v;

	if (geteuid() != 0) {
		fprintf(stderr, "test_worker_user: skipped: needs root\n");
		return;
	}
	pw = getpwnam("nobody");
	gr = getgrnam("nogroup");
	if (pw == NULL || gr == NULL) {
		fprintf(stderr, "test_worker_user: skipped: no nobody/nogroup\n");
		return;
	}
	prepare(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'nob', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/out/nob.env'], 'user': 'nobody', 'group': 'nogroup' },"
	    " { 'name': 'usr', 'command': ['@WORKER@', '--env-out',"
	    "   '@DIR@/out/usr.env'], 'user': 'nobody' } ] } }");
	out = harness_path(&h, "out");
	ck_assert_int_eq(mkdir(out, 0777), 0);
	ck_assert_int_eq(chmod(out, 01777), 0);
	ck_assert_int_eq(chmod(h.dir, 0755), 0);
	free(out);
	ck_assert_int_eq(harness_launch(&h), 0);

	e = read_env(&h, "out/nob.env");
	ck_assert_msg((v = env_field(e, "uid", buf, sizeof(buf))) != NULL &&
	    strtoul(v, NULL, 10) == pw->pw_uid, "nob: uid %s", v != NULL ? v : "?");
	ck_assert_msg((v = env_field(e, "gid", buf, sizeof(buf))) != NULL &&
	    strtoul(v, NULL, 10) == gr->gr_gid, "nob: gid %s", v != NULL ? v : "?");
	free(e);
	/* A user alone brings its primary group. */
	e = read_env(&h, "out/usr.env");
	ck_assert_msg((v = env_field(e, "uid", buf, sizeof(buf))) != NULL &&
	    strtoul(v, NULL, 10) == pw->pw_uid, "usr: uid %s", v != NULL ? v : "?");
	ck_assert_msg((v = env_field(e, "gid", buf, sizeof(buf))) != NULL &&
	    strtoul(v, NULL, 10) == pw->pw_gid, "usr: gid %s", v != NULL ? v : "?");
	free(e);
	finish(&h, 0);
}
END_TEST

START_TEST(test_output_capture)
{
	struct harness	 h;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'talker', 'command': ['@WORKER@', '--print',"
	    "   'hello from the worker'] } ] } }");
	ck_assert_int_eq(harness_wait_log(&h,
	    "talker: hello from the worker\n", T_WAIT), 0);
	finish(&h, 0);
}
END_TEST

/*
 * The output pipe outlives each instance: a line an instance left without
 * its newline is logged when it exits, not glued to the next one's output.
 */
START_TEST(test_output_across_restarts)
{
	struct harness	 h;
	char		*log;

	/* One write: a whole line, then one without its newline. */
	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'talker', 'command': ['/bin/sh', '-c',"
	    "   'printf \\'up\\\\nno newline\\'; exec sleep 1000'] } ] } }");
	ck_assert_int_eq(harness_wait_log(&h, "talker: up\n", T_WAIT), 0);
	harness_log_mark(&h);
	json_decref(kill_svc(&h, json_string("talker"), NULL));
	wait_restarts(&h, "talker", "running", 1);
	ck_assert_int_eq(harness_wait_log(&h, "talker: up\n", T_WAIT), 0);
	json_decref(kill_svc(&h, json_string("talker"), NULL));
	wait_restarts(&h, "talker", "running", 2);
	/* Two instances ended: each one's last text on a line of its own. */
	log = log_text(&h);
	ck_assert_msg(count_of(log, "talker: no newline\n") == 2,
	    "log:\n%s", log);
	ck_assert_ptr_null(strstr(log, "no newlineup"));
	ck_assert_ptr_null(strstr(log, "no newlineno newline"));
	free(log);
	finish(&h, 0);
}
END_TEST


/* --- 15: warden's own shutdown ------------------------------------------- */

static const int stop_signals[] = { SIGTERM, SIGINT };

START_TEST(test_signal_shutdown)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list, *ev;
	pid_t		 pids[3];
	const char	*names[] = { "a", "b", "c" };
	size_t		 i;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'] },"
	    " { 'name': 'b', 'command': ['@WORKER@'] },"
	    " { 'name': 'c', 'command': ['@WORKER@'] } ] } }");
	for (i = 0; i < 3; i++)
		pids[i] = pid_of(&h, names[i]);
	c = subscribe(&h);
	ck_assert_int_eq(harness_signal(&h, stop_signals[_i]), 0);
	list = events_until(c, "service.exited", "a", NULL);
	ck_assert_str_eq(ev_seq(list, "service.exited"), "c,b,a");
	ck_assert_int_eq(ev_count(list, "service.started", NULL), 0);
	json_array_foreach(list, i, ev)
		if (ev_is(ev, "service.exited", NULL))
			expect_exited(ev, 0, 0, "TERM", true);
	ck_assert_int_eq(harness_conn_wait_closed(c, T_WAIT), 0);
	ck_assert_int_eq(harness_wait_exit(&h, T_WAIT), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(harness_wait_pid_gone(pids[i], T_WAIT), 0);
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/* --- 16: reload ---------------------------------------------------------- */

static const char reload_v1[] =
	"{ 'supervisor': { 'max_restarts': 10, 'children': ["
	" { 'name': 'keep', 'command': ['@WORKER@'] },"
	" { 'name': 'change', 'command': ['@WORKER@'] },"
	" { 'name': 'gone', 'command': ['@WORKER@'] } ] } }";

static const char reload_v2[] =
	"{ 'supervisor': { 'max_restarts': 10, 'children': ["
	" { 'name': 'keep', 'command': ['@WORKER@'] },"
	" { 'name': 'change', 'command': ['@WORKER@', '--print',"
	"   'change-v2'] },"
	" { 'name': 'new', 'command': ['@WORKER@'] } ] } }";

static void
write_config(struct harness *h, const char *text)
{
	char	*s = cfg("%s", text);

	ck_assert_int_eq(harness_write_config(h, s), 0);
	free(s);
}

static void
expect_names(const json_t *r, const char *key, const char *want)
{
	json_t	*list = json_object_get(r, key), *w, *v;
	size_t	 i, j;

	w = json_loads(want, 0, NULL);
	ck_assert_ptr_nonnull(w);
	ck_assert_msg(json_is_array(list) && json_array_size(list) ==
	    json_array_size(w), "%s: got %s, want %s", key, dump(list), want);
	/* The same names, in whatever order. */
	json_array_foreach(w, i, v) {
		for (j = 0; j < json_array_size(list); j++)
			if (json_equal(json_array_get(list, j), v))
				break;
		ck_assert_msg(j < json_array_size(list), "%s: got %s, want %s",
		    key, dump(list), want);
	}
	json_decref(w);
}

static void
expect_v2_diff(const json_t *r)
{
	expect_names(r, "added", "[\"new\"]");
	expect_names(r, "removed", "[\"gone\"]");
	expect_names(r, "changed", "[\"change\"]");
	expect_names(r, "unchanged", "[\"root\", \"keep\"]");
}

/* After v2 is in force: what stayed, what went, what came. */
static void
expect_v2_applied(struct harness *h, pid_t keep, pid_t change, pid_t gone)
{
	json_t	*err;

	wait_state(h, "new", "running");
	wait_state(h, "change", "running");
	expect_svc(h, "keep", "running", keep, 0);
	ck_assert_int_ne(pid_of(h, "change"), change);
	ck_assert_int_eq(harness_wait_pid_gone(change, T_WAIT), 0);
	ck_assert_int_eq(harness_wait_pid_gone(gone, T_WAIT), 0);
	err = expect_error(h, "status", json_pack("{s:s}", "service", "gone"),
	    -32001, "not_found");
	json_decref(err);
	ck_assert_int_eq(harness_wait_log(h, "change: change-v2", T_WAIT), 0);
}

START_TEST(test_reload)
{
	struct harness	 h;
	json_t		*r, *err;
	pid_t		 keep, change, gone;

	start(&h, "%s", reload_v1);
	keep = pid_of(&h, "keep");
	change = pid_of(&h, "change");
	gone = pid_of(&h, "gone");
	write_config(&h, reload_v2);

	r = result_of(&h, "config.reload", json_pack("{s:b}", "dry_run", 1));
	expect_v2_diff(r);
	json_decref(r);
	/* A dry run changes nothing. */
	expect_svc(&h, "keep", "running", keep, 0);
	expect_svc(&h, "change", "running", change, 0);
	expect_svc(&h, "gone", "running", gone, 0);
	err = expect_error(&h, "status", json_pack("{s:s}", "service", "new"),
	    -32001, "not_found");
	json_decref(err);

	r = result_of(&h, "config.reload", NULL);
	expect_v2_diff(r);
	json_decref(r);
	expect_v2_applied(&h, keep, change, gone);
	finish(&h, 0);
}
END_TEST

START_TEST(test_reload_sighup)
{
	struct harness	 h;
	pid_t		 keep, change, gone;

	start(&h, "%s", reload_v1);
	keep = pid_of(&h, "keep");
	change = pid_of(&h, "change");
	gone = pid_of(&h, "gone");
	write_config(&h, reload_v2);
	harness_log_mark(&h);
	ck_assert_int_eq(harness_signal(&h, SIGHUP), 0);
	ck_assert_int_eq(harness_wait_log(&h, "SIGHUP: reloaded", T_WAIT), 0);
	expect_v2_applied(&h, keep, change, gone);
	finish(&h, 0);
}
END_TEST

/* systemd's ExecReload= via SIGHUP: RELOADING=1, then READY=1 when done. */
START_TEST(test_reload_sighup_notify)
{
	struct harness	 h;
	pid_t		 keep, change, gone;

	start(&h, "%s", reload_v1);
	keep = pid_of(&h, "keep");
	change = pid_of(&h, "change");
	gone = pid_of(&h, "gone");
	write_config(&h, reload_v2);
	ck_assert_int_eq(harness_signal(&h, SIGHUP), 0);
	ck_assert_msg(harness_wait_notify(&h, "RELOADING=1", T_WAIT) == 0,
	    "no RELOADING=1 on SIGHUP");
	ck_assert_msg(harness_wait_notify(&h, "READY=1", T_WAIT) == 0,
	    "no READY=1 after the reload");
	expect_v2_applied(&h, keep, change, gone);
	finish(&h, 0);
}
END_TEST

/*
 * A shutdown while services removed by a reload are still stopping waits
 * for them and for the whole tree, whichever is down first: "gone" ignores
 * SIGTERM and takes its 200 ms of grace, "keep" its 600 ms.
 */
START_TEST(test_reload_then_shutdown)
{
	struct harness	 h;
	json_t		*r;
	pid_t		 keep, gone;

	start(&h, "{ 'supervisor': { 'max_restarts': 10, 'children': ["
	    " { 'name': 'keep', 'command': ['@WORKER@', '--ignore-term'"
	    READY_ARGS "], 'shutdown_ms': 600, " SET_UP " },"
	    " { 'name': 'gone', 'command': ['@WORKER@', '--ignore-term'"
	    READY_ARGS "], 'shutdown_ms': 200, " SET_UP " } ] } }");
	keep = pid_of(&h, "keep");
	gone = pid_of(&h, "gone");
	write_config(&h, "{ 'supervisor': { 'max_restarts': 10, 'children': ["
	    " { 'name': 'keep', 'command': ['@WORKER@', '--ignore-term'"
	    READY_ARGS "], 'shutdown_ms': 600, " SET_UP " } ] } }");
	r = result_of(&h, "config.reload", NULL);
	expect_names(r, "removed", "[\"gone\"]");
	json_decref(r);
	ck_assert(harness_pid_alive(gone));
	finish(&h, 0);
	ck_assert_int_eq(harness_wait_pid_gone(keep, 0), 0);
	ck_assert_int_eq(harness_wait_pid_gone(gone, 0), 0);
}
END_TEST

START_TEST(test_reload_bad_file)
{
	struct harness	 h;
	json_t		*err, *r;
	const char	*msg;
	char		*want, *bad;
	pid_t		 keep, change, gone;

	start(&h, "%s", reload_v1);
	keep = pid_of(&h, "keep");
	change = pid_of(&h, "change");
	gone = pid_of(&h, "gone");
	/* A stray '@' on line 4, column 7. */
	bad = cfg("{ 'supervisor': {\n"
	    "    'children': [\n"
	    "      { 'name': 'keep', 'command': ['@WORKER@'] }\n"
	    "      @\n"
	    "  ] } }\n");
	ck_assert_int_eq(harness_write_config(&h, bad), 0);
	free(bad);

	err = expect_error(&h, "config.reload", NULL, -32602, "invalid_params");
	msg = str(err, "message");
	xasprintf(&want, "%s:4:7:", h.config);
	ck_assert_msg(msg != NULL && strstr(msg, want) != NULL,
	    "error %s does not name %s", msg, want);
	free(want);
	json_decref(err);
	err = expect_error(&h, "config.reload", json_pack("{s:b}", "dry_run",
	    1), -32602, "invalid_params");
	json_decref(err);

	/* Nor does SIGHUP take it. */
	harness_log_mark(&h);
	ck_assert_int_eq(harness_signal(&h, SIGHUP), 0);
	ck_assert_int_eq(harness_wait_log(&h, "reload refused", T_WAIT), 0);

	expect_svc(&h, "keep", "running", keep, 0);
	expect_svc(&h, "change", "running", change, 0);
	expect_svc(&h, "gone", "running", gone, 0);
	r = result_of(&h, "status", NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r, "services")), 3);
	ck_assert_str_eq(str(r, "health"), "ok");
	json_decref(r);
	finish(&h, 0);
}
END_TEST

/* --- 17-18: many at once ------------------------------------------------- */

/*
 * n workers named w000.., under a root allowing max_restarts; more is the
 * rest of each worker's object after "@WORKER@" (it closes the command).
 */
static char *
many_config(int n, const char *more, int max_restarts)
{
	char	*s, *t;
	int	 i;

	xasprintf(&s, "{ \"supervisor\": { \"max_restarts\": %d, "
	    "\"max_seconds\": 10, \"children\": [", max_restarts);
	for (i = 0; i < n; i++) {
		xasprintf(&t, "%s%s\n { \"name\": \"w%03d\", \"command\": "
		    "[\"@WORKER@\"%s }", s, i > 0 ? "," : "", i, more);
		free(s);
		s = t;
	}
	xasprintf(&t, "%s ] } }\n", s);
	free(s);
	return t;
}

START_TEST(test_kill_10_of_20)
{
	struct harness	 h;
	json_t		*names, *r, *e;
	pid_t		 pids[20];
	char		*text, name[16];
	bool		 seen[20];
	int		 i, k;
	size_t		 j;

	text = many_config(20, "]", 100);
	ck_assert_int_eq(harness_start(&h, text), 0);
	free(text);
	names = json_array();
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "w%03d", i);
		pids[i] = pid_of(&h, name);
		if (i % 2 == 0)
			json_array_append_new(names, json_string(name));
	}
	r = kill_svc(&h, names, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r, "killed")), 10);
	memset(seen, 0, sizeof(seen));
	json_array_foreach(json_object_get(r, "killed"), j, e) {
		ck_assert_msg(sscanf(str(e, "service"), "w%d", &k) == 1 &&
		    k >= 0 && k < 20 && k % 2 == 0 && !seen[k],
		    "killed: %s", dump(r));
		seen[k] = true;
		ck_assert_int_eq(num(e, "pid"), pids[k]);
	}
	json_decref(r);
	for (i = 0; i < 20; i += 2) {
		snprintf(name, sizeof(name), "w%03d", i);
		wait_restarts(&h, name, "running", 1);
	}
	ck_assert_int_eq(harness_wait_recovered(&h, T_WAIT), 0);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "w%03d", i);
		if (i % 2 == 0) {
			expect_svc(&h, name, "running", 0, 1);
			ck_assert_int_ne(pid_of(&h, name), pids[i]);
		} else
			expect_svc(&h, name, "running", pids[i], 0);
	}
	finish(&h, 0);
}
END_TEST

START_TEST(test_100_workers_exit)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*r, *e, *ev;
	pid_t		 pids[100];
	char		*text, name[16];
	bool		 ready[100];
	int		 i, k, nready = 0, alive, zombies;
	size_t		 j;

	text = many_config(100, ", \"--exit-on-usr1\", \"1\", \"--ready\", "
	    "\"notify\"], \"ready\": \"notify\"", 1000);
	ck_assert_int_eq(harness_start(&h, text), 0);
	free(text);
	c = subscribe(&h);
	r = kill_svc(&h, json_string("*"), "USR1");
	ck_assert_str_eq(str(r, "signal"), "USR1");
	ck_assert_int_eq(json_array_size(json_object_get(r, "killed")), 100);
	memset(pids, 0, sizeof(pids));
	json_array_foreach(json_object_get(r, "killed"), j, e) {
		ck_assert_msg(sscanf(str(e, "service"), "w%d", &k) == 1 &&
		    k >= 0 && k < 100 && pids[k] == 0, "killed: %s", dump(e));
		pids[k] = (pid_t)num(e, "pid");
	}
	json_decref(r);

	/* Every one of them exits 1 and is up again. */
	memset(ready, 0, sizeof(ready));
	while (nready < 100) {
		ev = harness_next_event(c, T_WAIT);
		ck_assert_msg(ev != NULL, "only %d of 100 back", nready);
		if (ev_is(ev, "service.exited", NULL))
			expect_exited(ev, 0, 1, NULL, false);
		if (ev_is(ev, "service.ready", NULL) &&
		    sscanf(str(ev, "service"), "w%d", &k) == 1 && k >= 0 &&
		    k < 100 && !ready[k]) {
			ready[k] = true;
			nready++;
			ck_assert_int_ne(num(ev, "pid"), pids[k]);
		}
		json_decref(ev);
	}
	ck_assert_int_eq(harness_wait_recovered(&h, T_WAIT), 0);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "w%03d", i);
		expect_svc(&h, name, "running", 0, 1);
		ck_assert_int_eq(harness_wait_pid_gone(pids[i], T_WAIT), 0);
		ck_assert_msg(!is_zombie(pids[i]), "pid %ld left a zombie",
		    (long)pids[i]);
	}
	/* warden's children: the 100 new workers, no zombie among them. */
	children_of(h.pid, &alive, &zombies);
	ck_assert_int_eq(zombies, 0);
	ck_assert_int_eq(alive, 100);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/* --- a storm of crashes, and kill then wait ------------------------------ */

/* A process seen as a zombie: its pid and start time (pids are reused). */
struct zombie {
	pid_t			pid;
	unsigned long long	start;
};

/* The zombies among parent's children, at most max. */
static int
zombies_of(pid_t parent, struct zombie *z, int max)
{
	DIR			*d;
	struct dirent		*de;
	struct proc_info	 pi;
	pid_t			 pid;
	int			 count = 0;

	d = opendir("/proc");
	ck_assert_msg(d != NULL, "opendir /proc: %s", strerror(errno));
	while ((de = readdir(d)) != NULL && count < max) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		pid = (pid_t)atol(de->d_name);
		if (proc_info(pid, &pi) == -1 || pi.ppid != parent ||
		    pi.state != 'Z')
			continue;
		z[count].pid = pid;
		z[count].start = pi.start;
		count++;
	}
	closedir(d);
	return count;
}

/* Restarts of every service, from status. */
static long long
total_restarts(struct harness *h)
{
	json_t		*r, *e;
	long long	 sum = 0;
	size_t		 i;

	r = result_of(h, "status", NULL);
	json_array_foreach(json_object_get(r, "services"), i, e)
		sum += num(e, "restarts");
	json_decref(r);
	return sum;
}

/*
 * 100 workers that exit as soon as they are started, no backoff, an
 * intensity they never reach: they crash as fast as warden can fork.
 */
static char *
storm_config(void)
{
	return many_config(100, ", \"--crash\", \"0\"], "
	    "\"backoff\": { \"initial_ms\": 0 }", 1000000);
}

/*
 * While the storm runs, warden answers: every ping within the bound, and
 * no zombie outlives two pings (the turn of the loop that answers the
 * first one has its SIGCHLD to read, and reaps all that is dead).
 */
START_TEST(test_storm_served)
{
	struct harness	 h;
	struct zombie	 z1[128], z2[128];
	json_t		*r;
	char		*text;
	long long	 restarts;
	int		 round, n1, n2, i, j;

	text = storm_config();
	ck_assert_int_eq(harness_start(&h, text), 0);
	free(text);
	ck_assert_msg(harness_wait_log(&h, "w099: pid", T_WAIT) == 0,
	    "the last worker never exited");
	restarts = total_restarts(&h);
	for (round = 0; round < 20; round++) {
		n1 = zombies_of(h.pid, z1, (int)nitems(z1));
		for (i = 0; i < 2; i++) {
			r = harness_call_timeout(&h, "ping", NULL, T_WAIT);
			ck_assert_msg(r != NULL, "round %d: no answer to ping "
			    "within %d ms", round, T_WAIT);
			ck_assert_msg(json_is_string(json_object_get(r, "result")) &&
			    strcmp(json_string_value(json_object_get(r,
			    "result")), "pong") == 0, "ping: %s", dump(r));
			json_decref(r);
		}
		n2 = zombies_of(h.pid, z2, (int)nitems(z2));
		for (i = 0; i < n1; i++)
			for (j = 0; j < n2; j++)
				ck_assert_msg(z1[i].pid != z2[j].pid ||
				    z1[i].start != z2[j].start,
				    "round %d: pid %ld still a zombie after two "
				    "pings (%d zombies before, %d after)", round,
				    (long)z1[i].pid, n1, n2);
	}
	/* And the storm went on meanwhile. */
	ck_assert_msg(total_restarts(&h) > restarts, "no restart in 20 rounds");
	finish(&h, 0);
}
END_TEST

/* SIGTERM in the middle of the storm: warden stops everything and exits. */
START_TEST(test_storm_sigterm)
{
	struct harness	 h;
	char		*text;

	text = storm_config();
	ck_assert_int_eq(harness_start(&h, text), 0);
	free(text);
	ck_assert_msg(harness_wait_log(&h, "w099: pid", T_WAIT) == 0,
	    "the last worker never exited");
	ck_assert_int_eq(harness_signal(&h, SIGTERM), 0);
	ck_assert_msg(harness_wait_exit(&h, 2 * T_WAIT) == 0,
	    "warden did not exit on SIGTERM");
	finish(&h, 0);
}
END_TEST

/* The wait that follows service.kill; returns the instance's pid. */
static pid_t
wait_running_pid(struct harness *h, const char *name)
{
	json_t	*r;
	pid_t	 pid;

	r = result_of(h, "wait", json_pack("{s:{s:s,s:s},s:i}", "condition",
	    "service", name, "state", "running", "timeout_ms", T_WAIT));
	ck_assert_str_eq(str(r, "state"), "running");
	pid = (pid_t)num(r, "pid");
	json_decref(r);
	return pid;
}

/*
 * After service.kill has answered, nothing shows the killed instance
 * running: status shows it stopping until it exits, and "wait running"
 * waits for the next instance. The worker takes 200 ms to die of SIGTERM,
 * so the old instance is still there when status and wait are asked.
 */
START_TEST(test_kill_then_wait)
{
	struct harness	 h;
	json_t		*e;
	pid_t		 killed, pid;
	int		 i;

	start(&h, "{ 'supervisor': { 'max_restarts': 1000, 'children': ["
	    " { 'name': 'k', 'command': ['@WORKER@', '--linger-term', '200'],"
	    "   'backoff': { 'initial_ms': 0 } } ] } }");
	for (i = 0; i < 8; i++) {
		killed = kill_one(&h, "k", "TERM");
		e = harness_service(&h, "k");
		ck_assert_msg(e != NULL, "no status");
		ck_assert_msg(num(e, "pid") != killed ||
		    strcmp(str(e, "state"), "stopping") == 0,
		    "round %d: after the kill: %s", i, dump(e));
		ck_assert_msg(num(e, "pid") != killed ||
		    !json_is_true(json_object_get(e, "ready")),
		    "round %d: the killed instance is ready: %s", i, dump(e));
		json_decref(e);
		pid = wait_running_pid(&h, "k");
		ck_assert_msg(pid != killed, "round %d: wait running answered "
		    "with the killed pid %ld", i, (long)killed);
	}
	/* SIGKILL, many times: the race is narrower, the answer the same. */
	for (i = 0; i < 50; i++) {
		killed = kill_one(&h, "k", NULL);
		pid = wait_running_pid(&h, "k");
		ck_assert_msg(pid != killed, "round %d: wait running answered "
		    "with the SIGKILLed pid %ld", i, (long)killed);
	}
	finish(&h, 0);
}
END_TEST

/* The same through wardenctl, as in the README's tour. */
START_TEST(test_kill_then_wait_ctl)
{
	struct harness	 h;
	json_t		*r;
	json_error_t	 jerr;
	char		*out, *err;
	pid_t		 killed;
	int		 i, st;

	start(&h, "{ 'supervisor': { 'max_restarts': 1000, 'children': ["
	    " { 'name': 'k', 'command': ['@WORKER@', '--linger-term', '200'],"
	    "   'backoff': { 'initial_ms': 0 } } ] } }");
	for (i = 0; i < 4; i++) {
		killed = pid_of(&h, "k");
		st = harness_ctl(&h, &out, &err, "kill", "k", "-s", "TERM", NULL);
		ck_assert_msg(st == 0, "wardenctl kill: %d: %s", st, err);
		free(out);
		free(err);
		st = harness_ctl(&h, &out, &err, "-j", "wait", "k", "running",
		    "-t", "5000", NULL);
		ck_assert_msg(st == 0, "wardenctl wait: %d: %s", st, err);
		r = json_loads(out, 0, &jerr);
		ck_assert_msg(r != NULL, "wardenctl -j wait: %s", out);
		ck_assert_msg(num(r, "pid") != killed, "round %d: wardenctl "
		    "wait k running returned the killed pid %ld", i, (long)killed);
		json_decref(r);
		free(out);
		free(err);
	}
	finish(&h, 0);
}
END_TEST

/* --- 19-20: operator actions and "wait" ---------------------------------- */

START_TEST(test_operator_actions)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*r, *list, *err;
	pid_t		 w, x, y, w2;
	char		*hl;

	start(&h, "{ 'supervisor': { 'max_restarts': 10, 'children': ["
	    " { 'name': 'w', 'command': ['@WORKER@'] },"
	    " { 'name': 'nest', 'children': ["
	    "   { 'name': 'x', 'command': ['@WORKER@'] },"
	    "   { 'name': 'y', 'command': ['@WORKER@'] } ] }," SENTINEL
	    " ] } }");
	w = pid_of(&h, "w");
	x = pid_of(&h, "x");
	y = pid_of(&h, "y");
	c = subscribe(&h);

	r = result_of(&h, "service.stop", json_pack("{s:s}", "service", "w"));
	ck_assert_str_eq(str(r, "state"), "stopped");
	ck_assert(json_is_null(json_object_get(r, "pid")));
	json_decref(r);
	ck_assert_int_eq(harness_wait_pid_gone(w, T_WAIT), 0);
	list = barrier(&h, c, NULL);
	ck_assert_str_eq(ev_types_of(list, "w"), "service.exited");
	expect_exited(json_array_get(list, ev_find(list, "service.exited", "w",
	    0)), w, 0, "TERM", true);
	expect_svc(&h, "w", "stopped", -1, 0);
	ck_assert_str_eq((hl = health(&h)), "degraded");
	free(hl);

	r = result_of(&h, "service.start", json_pack("{s:s}", "service", "w"));
	ck_assert_str_eq(str(r, "state"), "running");
	w2 = (pid_t)num(r, "pid");
	ck_assert_int_ne(w2, w);
	ck_assert_int_eq(num(r, "restarts"), 1);
	json_decref(r);
	json_decref(list);
	list = events_until(c, "service.ready", "w", NULL);
	ck_assert_str_eq(ev_types_of(list, "w"),
	    "service.started,service.ready");
	ck_assert_str_eq((hl = health(&h)), "ok");
	free(hl);

	r = result_of(&h, "service.restart", json_pack("{s:s}", "service",
	    "w"));
	ck_assert_str_eq(str(r, "state"), "running");
	ck_assert_int_ne(num(r, "pid"), w2);
	ck_assert_int_ne(num(r, "pid"), w);
	ck_assert_int_eq(num(r, "restarts"), 2);
	json_decref(r);
	ck_assert_int_eq(harness_wait_pid_gone(w2, T_WAIT), 0);
	json_decref(list);
	list = events_until(c, "service.ready", "w", NULL);
	ck_assert_str_eq(ev_types_of(list, "w"),
	    "service.exited,service.started,service.ready");
	expect_exited(json_array_get(list, 0), w2, 0, "TERM", true);

	/* Stopping a supervisor stops its children, last first. */
	json_decref(list);
	list = json_array();
	r = result_of(&h, "service.stop", json_pack("{s:s}", "service",
	    "nest"));
	ck_assert_str_eq(str(r, "state"), "stopped");
	json_decref(r);
	list = events_until(c, "service.exited", "x", list);
	ck_assert_str_eq(ev_seq(list, "service.exited"), "y,x");
	expect_svc(&h, "x", "stopped", -1, 0);
	expect_svc(&h, "y", "stopped", -1, 0);
	ck_assert_int_eq(harness_wait_pid_gone(x, T_WAIT), 0);
	ck_assert_int_eq(harness_wait_pid_gone(y, T_WAIT), 0);

	err = expect_error(&h, "service.start", json_pack("{s:s}", "service",
	    "x"), -32004, "conflict");
	json_decref(err);
	expect_svc(&h, "x", "stopped", -1, 0);

	r = result_of(&h, "service.start", json_pack("{s:s}", "service",
	    "nest"));
	ck_assert_str_eq(str(r, "state"), "running");
	json_decref(r);
	expect_svc(&h, "x", "running", 0, 1);
	expect_svc(&h, "y", "running", 0, 1);
	ck_assert_str_eq((hl = health(&h)), "ok");
	free(hl);
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

START_TEST(test_wait_min_restarts)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*resp, *res, *err;
	long long	 id;
	pid_t		 pid, g;

	/* Each run waits for SIGUSR2 to be ready and exits 1 on SIGUSR1. */
	prepare(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'w', 'ready': 'notify', 'command': ['@WORKER@',"
	    "   '--ready', 'signal', '--exit-on-usr1', '1',"
	    "   '--grandchild', '@DIR@/w.pid'] } ] } }");
	spawn_early(&h);
	wait_state(&h, "w", "starting");
	g = usr2_when_set_up(&h, "w", "w.pid", 0);
	ck_assert_int_eq(harness_wait_ready(&h, T_WAIT), 0);

	c = harness_conn_open(&h);
	ck_assert_ptr_nonnull(c);
	id = harness_conn_request(c, "wait", json_pack("{s:{s:s,s:s,s:i},s:i}",
	    "condition", "service", "w", "state", "running", "min_restarts", 2,
	    "timeout_ms", 20000));
	ck_assert_int_gt(id, 0);

	/* Restart 1, running: not yet. */
	kill_one(&h, "w", "USR1");
	wait_restarts(&h, "w", "starting", 1);
	g = usr2_when_set_up(&h, "w", "w.pid", g);
	wait_restarts(&h, "w", "running", 1);
	resp = harness_read_response(c, id, 0);
	ck_assert_msg(resp == NULL, "answered after 1 restart: %s", dump(resp));

	/* Restart 2, starting: not yet either. */
	kill_one(&h, "w", "USR1");
	wait_restarts(&h, "w", "starting", 2);
	resp = harness_read_response(c, id, 0);
	ck_assert_msg(resp == NULL, "answered while starting: %s", dump(resp));

	pid = pid_of(&h, "w");
	usr2_when_set_up(&h, "w", "w.pid", g);
	resp = harness_read_response(c, id, T_WAIT);
	ck_assert_msg(resp != NULL, "no answer after the 2nd restart");
	res = json_object_get(resp, "result");
	ck_assert_msg(res != NULL, "wait failed: %s", dump(resp));
	ck_assert_str_eq(str(res, "name"), "w");
	ck_assert_str_eq(str(res, "state"), "running");
	ck_assert_int_eq(num(res, "restarts"), 2);
	ck_assert_int_eq(num(res, "pid"), pid);
	json_decref(resp);
	harness_conn_close(c);

	/* Already true: answered at once. */
	ck_assert_int_eq(harness_wait(&h, json_pack("{s:s,s:s,s:i}", "service",
	    "w", "state", "running", "min_restarts", 1), 0), 0);
	err = expect_error(&h, "wait", json_pack("{s:{s:s,s:s,s:i}}",
	    "condition", "service", "w", "state", "running", "min_restarts",
	    -1), -32602, "invalid_params");
	json_decref(err);
	stop_marked(&h, "w", "w.pid");
	finish(&h, 0);
}
END_TEST

/*
 * warden builds a worker's environment once and keeps it: a restart gets
 * the same, a reload that changes env gets the new one.
 */
static const char env_v1[] =
	"{ 'supervisor': { 'children': ["
	" { 'name': 'e', 'command': ['@WORKER@', '--env-out', '@DIR@/e.env'],"
	"   'env': { 'V': 'one' } } ] } }";
static const char env_v2[] =
	"{ 'supervisor': { 'children': ["
	" { 'name': 'e', 'command': ['@WORKER@', '--env-out', '@DIR@/e.env'],"
	"   'env': { 'V': 'two', 'W': 'new' } } ] } }";

START_TEST(test_env_kept_and_reloaded)
{
	struct harness	 h;
	char		*path, *e1, *e2, *e3, buf[64];
	const char	*v;
	json_t		*r;

	start(&h, env_v1);
	path = harness_path(&h, "e.env");
	e1 = read_env(&h, "e.env");
	check_env_common(&h, e1, "e", "0,1,2", h.dir);
	ck_assert_str_eq(env_value(e1, "V", buf, sizeof(buf)), "one");

	json_decref(kill_svc(&h, json_string("e"), NULL));
	e2 = harness_wait_file(path, e1, T_WAIT);
	ck_assert_msg(e2 != NULL, "the restarted e wrote nothing");
	wait_restarts(&h, "e", "running", 1);
	check_env_common(&h, e2, "e", "0,1,2", h.dir);
	ck_assert_str_eq(env_value(e2, "V", buf, sizeof(buf)), "one");

	write_config(&h, env_v2);
	r = result_of(&h, "config.reload", NULL);
	expect_names(r, "changed", "[\"e\"]");
	json_decref(r);
	e3 = harness_wait_file(path, e2, T_WAIT);
	ck_assert_msg(e3 != NULL, "e did not start again after the reload");
	wait_state(&h, "e", "running");
	check_env_common(&h, e3, "e", "0,1,2", h.dir);
	ck_assert_str_eq(env_value(e3, "V", buf, sizeof(buf)), "two");
	v = env_value(e3, "W", buf, sizeof(buf));
	ck_assert_msg(v != NULL && strcmp(v, "new") == 0, "W=%s", v);
	free(e1);
	free(e2);
	free(e3);
	free(path);
	finish(&h, 0);
}
END_TEST

/* --- containment: one bad service takes nothing else down --------------- */

/*
 * A service whose command cannot be executed, between two healthy ones,
 * under a root with an explicit intensity of 3 in 5 s: warden stays up,
 * the siblings keep their pids, the bad one is failed with the reason and
 * retried every 1, 2, 4... s without touching the root's intensity.
 * "at start" cases are bad from the first start; the others break a
 * working service's command, then kill it.
 */
enum break_how { AT_START, UNLINK, MKDIR, CHMOD };

static const struct {
	const char	*what;
	const char	*tool;		/* DIR/tool's text, mode 0755 */
	const char	*more;		/* more keys of "bad" */
	enum break_how	 how;
	const char	*reason;
} bad_execs[] = {
	{ "script whose interpreter is missing", "#!/nonexistent/sh\n", "",
	    AT_START, "exec: No such file or directory" },
	{ "cwd that does not exist", "#!/bin/sh\nexec @WORKER@\n",
	    ", 'cwd': '@DIR@/nowhere'", AT_START,
	    "cwd: No such file or directory" },
	{ "binary removed", "#!/bin/sh\nexec @WORKER@\n", "", UNLINK,
	    "exec: No such file or directory" },
	{ "binary replaced by a folder", "#!/bin/sh\nexec @WORKER@\n", "",
	    MKDIR, "exec: Permission denied" },
	{ "execute bit removed", "#!/bin/sh\nexec @WORKER@\n", "", CHMOD,
	    "exec: Permission denied" },
};

static void
tool_write(struct harness *h, const char *text)
{
	char	*path = harness_path(h, "tool");

	ck_assert_int_eq(harness_write_file(h, "tool", text), 0);
	ck_assert_int_eq(chmod(path, 0755), 0);
	free(path);
}

/* The next service.failed of bad: its attempt, retry and time. */
static json_t *
next_failed(struct harness_conn *c, json_t *list, const char *reason)
{
	json_t	*ev;
	long long attempt;

	list = events_until(c, "service.failed", "bad", list);
	ev = json_array_get(list, json_array_size(list) - 1);
	ck_assert_msg(str(ev, "reason") != NULL &&
	    strcmp(str(ev, "reason"), reason) == 0, "reason: %s", dump(ev));
	attempt = num(ev, "attempt");
	ck_assert_int_ge(attempt, 1);
	ck_assert_msg(num(ev, "retry_ms") == (attempt >= 7 ? 60000 :
	    1000LL << (attempt - 1)), "retry: %s", dump(ev));
	return list;
}

START_TEST(test_exec_failure_contained)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list = NULL, *ev, *prev, *e, *r;
	const char	*reason = bad_execs[_i].reason;
	char		*out, *path;
	pid_t		 pa, pb;
	int		 i, from;

	prepare(&h, "{ 'supervisor': { 'max_restarts': 3, 'max_seconds': 5,"
	    " 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'] },"
	    " { 'name': 'bad', 'command': ['@DIR@/tool', 'x']%s },"
	    " { 'name': 'b', 'command': ['@WORKER@'] } ] } }",
	    bad_execs[_i].more);
	tool_write(&h, bad_execs[_i].tool);
	ck_assert_msg(harness_launch(&h) == 0, "warden did not start");
	c = subscribe(&h);
	pa = pid_of(&h, "a");
	pb = pid_of(&h, "b");
	path = harness_path(&h, "tool");
	switch (bad_execs[_i].how) {
	case AT_START:
		break;
	case UNLINK:
		ck_assert_int_eq(unlink(path), 0);
		break;
	case MKDIR:
		ck_assert_int_eq(unlink(path), 0);
		ck_assert_int_eq(mkdir(path, 0755), 0);
		break;
	case CHMOD:
		ck_assert_int_eq(chmod(path, 0644), 0);
		break;
	}
	if (bad_execs[_i].how != AT_START)
		kill_one(&h, "bad", NULL);

	/* Two failures in a row: the second waited out the first's retry. */
	list = next_failed(c, list, reason);
	from = (int)json_array_size(list);
	list = next_failed(c, list, reason);
	ev = json_array_get(list, json_array_size(list) - 1);
	prev = json_array_get(list, (size_t)ev_find(list, "service.failed",
	    "bad", 0));
	for (i = ev_find(list, "service.failed", "bad", 0) + 1;
	    i < (int)json_array_size(list) - 1; i++)
		if (ev_is(json_array_get(list, i), "service.failed", "bad"))
			prev = json_array_get(list, (size_t)i);
	ck_assert_int_eq(num(ev, "attempt"), num(prev, "attempt") + 1);
	ck_assert_msg(ev_ts(ev) - ev_ts(prev) >= (double)num(prev, "retry_ms") -
	    timer_slack_ms(), "retried %.1f ms after a failure that said %lld",
	    ev_ts(ev) - ev_ts(prev), num(prev, "retry_ms"));
	/* One exit per try, each with the reason; it never started. */
	ck_assert_int_eq(ev_count(list, "service.started", "bad"), 0);
	for (i = from; i < (int)json_array_size(list); i++) {
		e = json_array_get(list, (size_t)i);
		if (ev_is(e, "service.exited", "bad"))
			ck_assert_msg(str(e, "reason") != NULL &&
			    strcmp(str(e, "reason"), reason) == 0,
			    "exited: %s", dump(e));
	}
	ck_assert_int_eq(ev_count(list, "supervisor.failed", NULL), 0);

	/* The siblings never noticed; the root's budget is untouched. */
	expect_svc(&h, "a", "running", pa, 0);
	expect_svc(&h, "b", "running", pb, 0);
	e = svc(&h, "bad");
	ck_assert_str_eq(str(e, "state"), "failed");
	ck_assert_msg(json_is_null(json_object_get(e, "pid")), "%s", dump(e));
	ck_assert_msg(str(e, "reason") != NULL &&
	    strcmp(str(e, "reason"), reason) == 0, "%s", dump(e));
	json_decref(e);
	e = sup(&h, "root");
	ck_assert_int_le(num(e, "restarts_in_window"),
	    bad_execs[_i].how == AT_START ? 0 : 1);
	ck_assert_str_eq(str(e, "state"), "running");
	json_decref(e);
	r = result_of(&h, "recovery", NULL);
	ck_assert_msg(strstr(dump(r), reason) != NULL, "recovery: %s", dump(r));
	json_decref(r);
	ck_assert_str_eq(health(&h), "degraded");
	ck_assert_int_eq(harness_ctl(&h, &out, NULL, "status", NULL), 0);
	ck_assert_msg(strstr(out, reason) != NULL, "wardenctl status:\n%s", out);
	free(out);
	ck_assert_int_ne(harness_wait_log(&h, reason, T_WAIT), -1);

	/* A reload that changes it runs the new one at once. */
	if (bad_execs[_i].how == AT_START) {
		write_config(&h, "{ 'supervisor': { 'max_restarts': 3,"
		    " 'max_seconds': 5, 'children': ["
		    " { 'name': 'a', 'command': ['@WORKER@'] },"
		    " { 'name': 'bad', 'command': ['@WORKER@'] },"
		    " { 'name': 'b', 'command': ['@WORKER@'] } ] } }");
		r = result_of(&h, "config.reload", NULL);
		expect_json(json_object_get(r, "changed"), "[\"bad\"]",
		    "reload");
		json_decref(r);
		wait_state(&h, "bad", "running");
		e = svc(&h, "bad");
		ck_assert_msg(json_is_null(json_object_get(e, "reason")),
		    "%s", dump(e));
		json_decref(e);
		expect_svc(&h, "a", "running", pa, 0);
		expect_svc(&h, "b", "running", pb, 0);
	}
	/* Mended, an operator's start runs it at once. */
	if (bad_execs[_i].how != AT_START) {
		if (bad_execs[_i].how == MKDIR)
			ck_assert_int_eq(rmdir(path), 0);
		tool_write(&h, bad_execs[_i].tool);
		json_decref(result_of(&h, "service.start",
		    json_pack("{s:s}", "service", "bad")));
		wait_state(&h, "bad", "running");
		e = svc(&h, "bad");
		ck_assert_msg(json_is_null(json_object_get(e, "reason")),
		    "%s", dump(e));
		json_decref(e);
	}
	free(path);
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/* warden -n names the key path of what cannot be run, and exits 1. */
static const struct {
	const char	*what;
	const char	*worker;	/* the second child's keys */
	const char	*err;		/* after "supervisor.children[1]." */
} bad_checks[] = {
	{ "misspelt path", "'command': ['/usr/bin/pyhton3']",
	    "command[0]: /usr/bin/pyhton3: No such file or directory" },
	{ "folder", "'command': ['@DIR@']",
	    "command[0]: @DIR@: is a directory" },
	{ "not executable", "'command': ['@DIR@/warden.json']",
	    "command[0]: @DIR@/warden.json: not executable" },
	{ "not in PATH", "'command': ['pyhton3']",
	    "command[0]: pyhton3: not found in PATH" },
	{ "unknown user", "'command': ['@WORKER@'], 'user': 'no-such-user-w'",
	    "user: unknown user 'no-such-user-w'" },
	{ "unknown group", "'command': ['@WORKER@'], 'group': 'no-such-group-w'",
	    "group: unknown group 'no-such-group-w'" },
};

static char *
at_dir(struct harness *h, const char *s)
{
	char	*out = xstrdup(""), *t;
	const char *p;

	for (p = s; *p != '\0'; p++) {
		if (strncmp(p, "@DIR@", 5) == 0) {
			xasprintf(&t, "%s%s", out, h->dir);
			p += 4;
		} else
			xasprintf(&t, "%s%c", out, *p);
		free(out);
		out = t;
	}
	return out;
}

START_TEST(test_check_refuses_command)
{
	struct harness	 h;
	char		*err, *want, *tail;
	int		 rc;

	prepare(&h, "{ 'supervisor': { 'children': [\n"
	    " { 'name': 'a', 'command': ['@WORKER@'] },\n"
	    " { 'name': 'bad', %s } ] } }\n", bad_checks[_i].worker);
	{
		const char *const argv[] = { "warden", "-n", "-c", h.config,
		    NULL };

		rc = harness_run(&h, argv, NULL, &err, T_WAIT);
	}
	ck_assert_msg(rc == 1, "%s: warden -n exited %d", bad_checks[_i].what,
	    rc);
	tail = at_dir(&h, bad_checks[_i].err);
	xasprintf(&want, "%s:3:", h.config);
	ck_assert_msg(strstr(err, want) != NULL, "%s: %s", bad_checks[_i].what,
	    err);
	free(want);
	xasprintf(&want, "supervisor.children[1].%s", tail);
	ck_assert_msg(strstr(err, want) != NULL, "%s:\n  got  %s  want %s",
	    bad_checks[_i].what, err, want);
	free(want);
	free(tail);
	free(err);
	harness_cleanup(&h);
}
END_TEST

/* A reload that adds a service that cannot run is refused whole. */
START_TEST(test_reload_refuses_command)
{
	struct harness	 h;
	json_t		*err, *r;
	const char	*msg;
	pid_t		 pa;

	start(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'a', 'command': ['@WORKER@'] } ] } }");
	pa = pid_of(&h, "a");
	write_config(&h, "{ 'supervisor': { 'children': [\n"
	    " { 'name': 'a', 'command': ['@WORKER@'] },\n"
	    " { 'name': 'py', 'command': ['/usr/bin/pyhton3', 'x.py'] } ] } }\n");
	err = expect_error(&h, "config.reload", NULL, -32602, "invalid_params");
	msg = str(err, "message");
	ck_assert_msg(msg != NULL && strstr(msg, "supervisor.children[1]."
	    "command[0]: /usr/bin/pyhton3: No such file or directory") != NULL,
	    "%s", msg);
	json_decref(err);
	expect_svc(&h, "a", "running", pa, 0);
	r = result_of(&h, "status", NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r, "services")), 1);
	json_decref(r);
	finish(&h, 0);
}
END_TEST

/* A temporary service that cannot be executed is not tried again. */
START_TEST(test_exec_failure_temporary)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list, *ev, *e;
	pid_t		 ps;

	prepare(&h, "{ 'supervisor': { 'children': ["
	    " { 'name': 'gate', 'command': ['@WORKER@', '--ready', 'signal',"
	    "   '--grandchild', '@DIR@/gate.pid'], 'ready': 'notify' },"
	    SENTINEL ","
	    " { 'name': 'bad', 'command': ['@WORKER@'], 'restart': 'temporary',"
	    "   'cwd': '@DIR@/nowhere' } ] } }");
	spawn_early(&h);
	wait_state(&h, "gate", "starting");
	c = subscribe(&h);
	usr2_when_set_up(&h, "gate", "gate.pid", 0);
	list = events_until(c, "service.failed", "bad", NULL);
	ev = json_array_get(list, json_array_size(list) - 1);
	ck_assert_str_eq(str(ev, "reason"), "cwd: No such file or directory");
	ck_assert_msg(json_is_null(json_object_get(ev, "retry_ms")), "%s",
	    dump(ev));
	ck_assert_int_eq(harness_wait_ready(&h, T_WAIT), 0);
	ps = pid_of(&h, "s");
	e = svc(&h, "bad");
	ck_assert_str_eq(str(e, "state"), "failed");
	ck_assert_str_eq(str(e, "reason"), "cwd: No such file or directory");
	json_decref(e);
	expect_svc(&h, "s", "running", ps, 0);
	stop_marked(&h, "gate", "gate.pid");
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

/*
 * The naive config: no backoff, no intensity. A worker that exits at once
 * every time is restarted with a growing delay and warden stays up; the
 * same worker under an explicit 3 in 5 s takes warden down as before.
 */
START_TEST(test_naive_flaky_worker)
{
	struct harness	 h;
	struct harness_conn *c;
	json_t		*list = NULL, *ev;
	long long	 prev = 0, d;
	pid_t		 ps;
	int		 n;

	start(&h, "{ 'supervisor': { 'children': ["
	    SENTINEL ","
	    " { 'name': 'flaky', 'command': ['@WORKER@', '--crash', '1'] } ] } }");
	c = subscribe(&h);
	ps = pid_of(&h, "s");
	/* Five restarts within about 3 s: past the 3 in 5 s the defaults name. */
	for (n = 1; n <= 5; n++) {
		list = events_until(c, "service.backoff", "flaky", list);
		ev = json_array_get(list, json_array_size(list) - 1);
		d = num(ev, "delay_ms");
		ck_assert_msg(d > prev, "delay %lld after %lld", d, prev);
		ck_assert_int_le(d, 30000);
		prev = d;
	}
	/* Each backoff follows an exit, and a start comes between them. */
	ck_assert_int_ge(ev_count(list, "service.exited", "flaky"), 5);
	ck_assert_int_ge(ev_count(list, "service.started", "flaky"), 4);
	ck_assert_int_eq(ev_count(list, "supervisor.failed", NULL), 0);
	expect_svc(&h, "s", "running", ps, 0);
	ev = sup(&h, "root");
	ck_assert_int_eq(num(ev, "restarts_in_window"), 0);
	json_decref(ev);
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

START_TEST(test_explicit_flaky_worker)
{
	struct harness	 h;
	char		*text, *log;
	int		 st;

	text = cfg("{ 'supervisor': { 'max_seconds': 5, 'children': ["
	    " { 'name': 'flaky', 'command': ['@WORKER@', '--crash', '1'] } ] } }");
	st = harness_start_expect_fail(&h, text, T_WAIT);
	free(text);
	ck_assert_int_eq(st, 3);
	log = log_text(&h);
	ck_assert_msg(strstr(log, "more than 3 restarts in 5 s") != NULL,
	    "%s", log);
	free(log);
	harness_cleanup(&h);
}
END_TEST

/*
 * warden out of descriptors: the worker's restart cannot even make its
 * pipe. That is warden's problem: retried with backoff, said once in the
 * log, never charged to the supervisor (which allows 1 restart here).
 */
START_TEST(test_emfile_at_start)
{
	struct harness	 h;
	struct harness_conn *c;
	struct rlimit	 low, old;
	json_t		*list = NULL, *ev;
	char		*log;
	pid_t		 pw, ps;
	int		 n;

	start(&h, "{ 'supervisor': { 'max_restarts': 1, 'max_seconds': 60,"
	    " 'children': [" SENTINEL ","
	    " { 'name': 'w', 'command': ['@WORKER@'] } ] } }");
	c = subscribe(&h);
	pw = pid_of(&h, "w");
	ps = pid_of(&h, "s");
	ck_assert_int_eq(prlimit(h.pid, RLIMIT_NOFILE, NULL, &old), 0);
	/* No new descriptor at all: 0, 1 and 2 are taken. */
	low = old;
	low.rlim_cur = 3;
	ck_assert_int_eq(prlimit(h.pid, RLIMIT_NOFILE, &low, NULL), 0);
	ck_assert_int_eq(kill(pw, SIGKILL), 0);
	for (n = 1; n <= 4; n++) {
		list = events_until(c, "service.backoff", "w", list);
		ev = json_array_get(list, json_array_size(list) - 1);
		ck_assert_msg(str(ev, "reason") != NULL && strcmp(str(ev,
		    "reason"), "warden: cannot start: Too many open files") == 0,
		    "%s", dump(ev));
		ck_assert_int_eq(num(ev, "attempt"), n);
	}
	ck_assert_int_eq(prlimit(h.pid, RLIMIT_NOFILE, &old, NULL), 0);
	list = events_until(c, "service.ready", "w", list);
	ck_assert_int_eq(ev_count(list, "supervisor.failed", NULL), 0);
	expect_svc(&h, "s", "running", ps, 0);
	ev = svc(&h, "w");
	ck_assert_str_eq(str(ev, "state"), "running");
	ck_assert_msg(json_is_null(json_object_get(ev, "reason")), "%s", dump(ev));
	json_decref(ev);
	log = log_text(&h);
	ck_assert_int_eq(count_of(log, "cannot start: Too many open files"), 1);
	free(log);
	json_decref(list);
	harness_conn_close(c);
	finish(&h, 0);
}
END_TEST

static Suite *
supervise_suite(void)
{
	Suite	*s = suite_create("supervise");
	TCase	*tc;

	tc = tcase_create("strategies");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_kill_restarts);
	tcase_add_test(tc, test_one_for_one);
	tcase_add_test(tc, test_one_for_all);
	tcase_add_test(tc, test_rest_for_one);
	suite_add_tcase(s, tc);

	tc = tcase_create("restarts");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_transient_exit0);
	tcase_add_test(tc, test_transient_exit3);
	tcase_add_test(tc, test_temporary_exit3);
	tcase_add_test(tc, test_permanent_exit0);
	tcase_add_test(tc, test_stop_signal_normal);
	tcase_add_test(tc, test_crash_backoff);
	tcase_add_test(tc, test_escalation_to_root);
	tcase_add_test(tc, test_root_fails);
	suite_add_tcase(s, tc);

	tc = tcase_create("processes");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_stop_kills_grandchild);
	tcase_add_test(tc, test_kill_leader_kills_grandchild);
	tcase_add_test(tc, test_exit_reaps_groups);
	tcase_add_test(tc, test_stop_kills_setsid_child);
	tcase_add_test(tc, test_setsid_child_ignoring_term);
	tcase_add_loop_test(tc, test_warden_death_ends_workers, 0,
	    nitems(warden_deaths));
	tcase_add_test(tc, test_next_warden_stops_earlier_workers);
	tcase_add_test(tc, test_shutdown_grace);
	tcase_add_test(tc, test_worker_environment);
	tcase_add_test(tc, test_worker_user);
	tcase_add_test(tc, test_worker_clean_hands);
	tcase_add_test(tc, test_output_capture);
	tcase_add_test(tc, test_output_across_restarts);
	tcase_add_test(tc, test_env_kept_and_reloaded);
	tcase_add_loop_test(tc, test_signal_shutdown, 0,
	    (int)nitems(stop_signals));
	suite_add_tcase(s, tc);

	tc = tcase_create("readiness");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_loop_test(tc, test_ready_gates_start, 0,
	    (int)nitems(ready_modes));
	tcase_add_test(tc, test_ready_systemd_notify);
	tcase_add_test(tc, test_ready_timeout);
	tcase_add_loop_test(tc, test_ready_while_stopping, 0,
	    (int)nitems(ready_modes));
	suite_add_tcase(s, tc);

	tc = tcase_create("reload");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_reload_sighup);
	tcase_add_test(tc, test_reload_sighup_notify);
	tcase_add_test(tc, test_reload_then_shutdown);
	tcase_add_test(tc, test_reload_bad_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("operate");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_operator_actions);
	tcase_add_test(tc, test_wait_min_restarts);
	tcase_add_test(tc, test_kill_10_of_20);
	tcase_add_test(tc, test_100_workers_exit);
	suite_add_tcase(s, tc);

	tc = tcase_create("containment");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_loop_test(tc, test_exec_failure_contained, 0,
	    (int)nitems(bad_execs));
	tcase_add_loop_test(tc, test_check_refuses_command, 0,
	    (int)nitems(bad_checks));
	tcase_add_test(tc, test_reload_refuses_command);
	tcase_add_test(tc, test_exec_failure_temporary);
	tcase_add_test(tc, test_naive_flaky_worker);
	tcase_add_test(tc, test_explicit_flaky_worker);
	tcase_add_test(tc, test_emfile_at_start);
	suite_add_tcase(s, tc);

	tc = tcase_create("storm");
	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_storm_served);
	tcase_add_test(tc, test_storm_sigterm);
	tcase_add_test(tc, test_kill_then_wait);
	tcase_add_test(tc, test_kill_then_wait_ctl);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(supervise_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
