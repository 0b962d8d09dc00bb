/*
 * supervisetest.c: what the supervision suites share (supervisetest.h).
 */
#include <check.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "procinfo.h"
#include "testlib.h"
#include "supervisetest.h"
#include "util.h"

/* --- warden and its services ---------------------------------------------- */

void
start_early(struct harness *h, const char *conf, const char *service)
{
	prepare(h, conf);
	ck_assert_msg(harness_spawn(h) == 0, "cannot start warden");
	ck_assert_msg(harness_wait_log(h, "listening on", T_WAIT) == 0,
	    "warden does not listen");
	if (service != NULL)
		wait_state(h, service, "starting");
}

void
write_config(struct harness *h, const char *text)
{
	char	*s = dq(text);

	ck_assert_int_eq(harness_write_config(h, s), 0);
	free(s);
}

char *
log_text(struct harness *h)
{
	char	*s = harness_log(h);

	ck_assert_msg(s != NULL, "cannot read warden.log");
	return s;
}

/* A supervisor's entry of "status". */
json_t *
sup(struct harness *h, const char *name)
{
	json_t	*r, *e;

	r = result(h, "status", json_pack("{s:s}", "service", name));
	e = json_array_get(json_object_get(r, "supervisors"), 0);
	ck_assert_msg(e != NULL && str(e, "name") != NULL &&
	    strcmp(str(e, "name"), name) == 0, "no supervisor %s in %s", name,
	    dump(r));
	json_incref(e);
	json_decref(r);
	return e;
}

char *
health(struct harness *h)
{
	json_t	*r = result(h, "status", NULL);
	char	*s;

	ck_assert_ptr_nonnull(str(r, "health"));
	s = xstrdup(str(r, "health"));
	json_decref(r);
	return s;
}

void
expect_svc(struct harness *h, const char *name, const char *state, pid_t pid,
    int restarts)
{
	json_t	*e = service_of(h, name), *p;

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

void
expect_last_exit(struct harness *h, const char *name, const char *want)
{
	json_t	*e = service_of(h, name);

	expect_json(json_object_get(e, "last_exit"), want, name);
	json_decref(e);
}

void
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

void
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

bool
is_zombie(pid_t pid)
{
	struct proc_info	pi;

	return proc_info(pid, &pi) == 0 && pi.state == 'Z';
}

/* --- kills ---------------------------------------------------------------- */

/* service.kill; service is stolen, sig may be NULL (KILL). */
json_t *
kill_svc(struct harness *h, json_t *service, const char *sig)
{
	json_t	*params = json_pack("{s:o}", "service", service);

	if (sig != NULL)
		json_object_set_new(params, "signal", json_string(sig));
	return result(h, "service.kill", params);
}

/* Kill one worker; the answer must name it and its pid. Returns the pid. */
pid_t
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
 * Stop a worker whose --grandchild served as a marker, and see its process
 * group gone, so that the test ends on what it is about.
 */
void
stop_marked(struct harness *h, const char *service, const char *name)
{
	char	*path = harness_path(h, name), *s;
	pid_t	 g;

	s = harness_read_file(path);
	ck_assert_msg(s != NULL, "%s: no %s", service, name);
	g = (pid_t)atol(s);
	free(s);
	free(path);
	stop_takes(h, service, g);
}

/* Stop a service: it is stopped, and the process pid (of its) is gone. */
void
stop_takes(struct harness *h, const char *service, pid_t pid)
{
	json_t	*r;

	r = result(h, "service.stop", json_pack("{s:s}", "service", service));

	ck_assert_str_eq(str(r, "state"), "stopped");
	json_decref(r);
	ck_assert_msg(harness_wait_pid_gone(pid, T_WAIT) == 0,
	    "%s stopped, yet %ld outlived it", service, (long)pid);
}

/* The end of a test that watched events: list and c go, warden exits 0. */
void
finish_watching(struct harness *h, struct harness_conn *c, json_t *list)
{
	json_decref(list);
	harness_conn_close(c);
	finish(h, 0);
}

/*
 * Proof that nothing more is coming for a service that stays down: kill
 * the sentinel "s" and read events until it is ready again. A restart the
 * daemon had decided on would have begun before that.
 */
json_t *
barrier(struct harness *h, struct harness_conn *c, json_t *list)
{
	kill_one(h, "s", NULL);
	return events_until(c, "service.ready", "s", list);
}

/* --- events --------------------------------------------------------------- */

bool
ev_is(const json_t *ev, const char *type, const char *service)
{
	const char	*t = str(ev, "type"), *s = str(ev, "service");

	return (type == NULL || (t != NULL && strcmp(t, type) == 0)) &&
	    (service == NULL || (s != NULL && strcmp(s, service) == 0));
}

/* Index of the first such event at or after from, or -1. */
int
ev_find(const json_t *list, const char *type, const char *service, size_t from)
{
	size_t	i;

	for (i = from; i < json_array_size(list); i++)
		if (ev_is(json_array_get(list, i), type, service))
			return (int)i;
	return -1;
}

int
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

/*
 * The field of the events of this type and service (NULL: any), in order
 * and joined by commas ("?" for an event without it); malloc'd.
 */
static char *
ev_join(const json_t *list, const char *type, const char *service,
    const char *field)
{
	json_t	*ev;
	char	*out = xstrdup(""), *t;
	size_t	 i;

	json_array_foreach(list, i, ev) {
		if (!ev_is(ev, type, service))
			continue;
		xasprintf(&t, "%s%s%s", out, *out != '\0' ? "," : "",
		    str(ev, field) != NULL ? str(ev, field) : "?");
		free(out);
		out = t;
	}
	return out;
}

/* The services of the events of this type, in order: "c,b,a". */
char *
ev_seq(const json_t *list, const char *type)
{
	return ev_join(list, type, NULL, "service");
}

/* The types of one service's events, in order: "service.exited,...". */
char *
ev_types_of(const json_t *list, const char *service)
{
	return ev_join(list, NULL, service, "type");
}

/* A service.exited event: its pid (0: any), code or signal, expected. */
void
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
double
timer_slack_ms(void)
{
	struct timespec	res;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == -1)
		return 10.0;
	return (double)res.tv_sec * 1000.0 + (double)res.tv_nsec / 1e6 + 1.0;
}

double
ev_ts(const json_t *ev)
{
	json_t	*v = json_object_get(ev, "ts");

	ck_assert_msg(json_is_number(v), "no ts: %s", dump(ev));
	return json_number_value(v);
}

/* --- what a worker wrote about itself (--env-out) ------------------------- */

char *
read_env(struct harness *h, const char *name)
{
	char	*path, *s;

	path = harness_path(h, name);
	s = harness_wait_file(path, NULL, T_WAIT);
	ck_assert_msg(s != NULL, "%s never written", path);
	free(path);
	return s;
}

/* The value of VAR in an --env-out file, or NULL. */
const char *
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
const char *
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

/* What every worker gets, whatever its readiness. */
void
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
	/* A pipe each: warden tells the two streams apart. */
	ck_assert_msg(d1 != NULL && d2 != NULL && strncmp(d1, "pipe:", 5) == 0 &&
	    strncmp(d2, "pipe:", 5) == 0 && strcmp(d1, d2) != 0,
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
