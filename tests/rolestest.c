/*
 * rolestest.c: peers, roles and "nothing changed" for the suites of
 * warden's security boundaries (rolestest.h).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "rolestest.h"
#include "testlib.h"
#include "util.h"

const struct ident id_nobody = { UID_NOBODY, GID_NOGROUP, { 0 }, 0 };
const struct ident id_operate = { UID_OPERATE, GID_NOGROUP, { 0 }, 0 };
const struct ident id_admin = { UID_ADMIN, GID_NOGROUP, { 0 }, 0 };

const struct call read_calls[10] = {
	{ "ping", NULL },
	{ "version", NULL },
	{ "status", "{'service': 'a'}" },
	{ "recovery", NULL },
	{ "wait", "{'condition': {'service': 'a', 'state': 'running'}, "
	    "'timeout_ms': 5000}" },
	{ "flag.list", NULL },
	{ "flag.get", "{'name': 'f1'}" },
	{ "stage.get", NULL },
	{ "table.info", NULL },
	/* Last: events may follow it; the peer skips them. */
	{ "subscribe", "{'topics': ['service']}" },
};

const struct call operate_calls[9] = {
	{ "service.start", "{'service': 'b'}" },	/* b is stopped */
	{ "service.stop", "{'service': 'a'}" },
	{ "service.restart", "{'service': 'a'}" },
	{ "service.kill", "{'service': '*', 'signal': 'KILL'}" },
	{ "flag.set", "{'name': 'f1', 'value': false, 'reason': 'r'}" },
	{ "flag.reset", NULL },				/* f2 is at 50 */
	{ "stage.set", "{'stage': 2}" },		/* stage is 1 */
	{ "stage.rollback", "{'stage': 0}" },
	{ "stage.emergency", "{'reason': 'r'}" },
};

const struct call admin_calls[5] = {
	{ "table.delete", NULL },
	{ "table.corrupt", NULL },
	{ "config.reload", NULL },			/* the file adds c */
	{ "reexec", NULL },				/* warden's own binary */
	{ "shutdown", NULL },
};

/*
 * a and b under the root, flags and stages to change, with these access
 * lists; the %s takes more children.
 */
#define ROLES_CONF(access)						\
    "{ 'socket_mode': '0666',\n"					\
    "  'access': " access ",\n"						\
    "  'flags': { 'f1': { 'default': false }, 'f2': { 'default': false },\n" \
    "             'sentinel': { 'default': false } },\n"		\
    "  'stages': [ { 'stage': 1, 'enable': ['f1'] },\n"		\
    "              { 'stage': 2, 'enable': ['f2'] } ],\n"		\
    "  'supervisor': { 'max_restarts': 50, 'max_seconds': 60, 'children': [\n" \
    "    { 'name': 'a', 'command': ['@WORKER@'] },\n"			\
    "    { 'name': 'b', 'command': ['@WORKER@'] }%s ] } }\n"

/* The operate and admin lists name the peers above. */
const char conf_roles[] = ROLES_CONF(
    "{ 'operate': { 'uids': [40001], 'groups': ['users'] },\n"
    "              'admin': { 'uids': [40002], 'groups': ['staff'] } }");

const char conf_roles_swapped[] = ROLES_CONF(
    "{ 'operate': { 'uids': [65534] } }");

const char conf_c[] =
    ",\n    { 'name': 'c', 'command': ['@WORKER@'] }";

bool
is_root(void)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "check_roles: not root: the role tests need setuid; "
	    "skipped\n");
	return false;
}

/* A group's gid, or -1 (with a message) when the system has no such group. */
gid_t
group_gid(const char *name)
{
	struct group	*gr = getgrnam(name);

	if (gr == NULL) {
		fprintf(stderr, "check_roles: no group \"%s\" here; skipped\n",
		    name);
		return (gid_t)-1;
	}
	return gr->gr_gid;
}

/* Start warden on text (' for ") with a socket others can reach. */
void
start_open(struct harness *h, const char *text)
{
	char	*s = dq(text);

	ck_assert_msg(harness_prepare(h, s) == 0, "cannot prepare");
	free(s);
	/* mkdtemp made DIR 0700: the peers must get to the socket in it. */
	ck_assert_int_eq(chmod(h->dir, 0755), 0);
	ck_assert_msg(harness_launch(h) == 0, "warden did not start");
}

void
start_roles(struct harness *h)
{
	char	*text;

	xasprintf(&text, conf_roles, "");
	start_open(h, text);
	free(text);
}

json_t *
root_result(struct harness *h, const char *method, const char *params)
{
	return result(h, method, js(params));
}

ino_t
table_ino(struct harness *h)
{
	char		path[PATH_MAX];
	struct stat	st;

	snprintf(path, sizeof(path), "/dev/shm%s", h->table);
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* --- peers ------------------------------------------------------------------ */

static bool
is_event(const json_t *msg)
{
	const char	*m = json_string_value(json_object_get(msg, "method"));

	return json_is_object(msg) && m != NULL && strcmp(m, "event") == 0;
}

/*
 * The child's side: become who, connect, send each message and read its
 * answer (events skipped). Returns {"answers": [...]}, or {"errno": N,
 * "step": "..."} when it could not get that far. Never asserts: it is not
 * the test process.
 */
static json_t *
peer_child(struct harness *h, const struct ident *who, json_t *msgs)
{
	struct sockaddr_un	 sun;
	struct harness_conn	*c;
	json_t			*answers, *m, *line;
	size_t			 i;
	int			 fd;

	if (setgroups((size_t)who->ngroups, who->groups) == -1)
		return json_pack("{s:s,s:i}", "step", "setgroups", "errno", errno);
	if (setgid(who->gid) == -1)
		return json_pack("{s:s,s:i}", "step", "setgid", "errno", errno);
	if (setuid(who->uid) == -1)
		return json_pack("{s:s,s:i}", "step", "setuid", "errno", errno);
	if (getuid() != who->uid || geteuid() != who->uid ||
	    getegid() != who->gid)
		return json_pack("{s:s,s:i}", "step", "ids", "errno", EPERM);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return json_pack("{s:s,s:i}", "step", "socket", "errno", errno);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(h->sock) >= sizeof(sun.sun_path)) {
		close(fd);
		return json_pack("{s:s,s:i}", "step", "path", "errno",
		    ENAMETOOLONG);
	}
	memcpy(sun.sun_path, h->sock, strlen(h->sock));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(fd);
		return json_pack("{s:s,s:i}", "step", "connect", "errno", errno);
	}
	if ((c = harness_conn_wrap(fd)) == NULL)
		return json_pack("{s:s,s:i}", "step", "wrap", "errno", errno);
	answers = json_array();
	json_array_foreach(msgs, i, m) {
		if (harness_conn_send(c, json_incref(m)) == -1) {
			json_array_append_new(answers, json_null());
			continue;
		}
		for (;;) {
			line = harness_read_line(c, HARNESS_CALL_TIMEOUT);
			if (line == NULL || !is_event(line))
				break;
			json_decref(line);
		}
		json_array_append_new(answers, line != NULL ? line : json_null());
	}
	harness_conn_close(c);
	return json_pack("{s:o}", "answers", answers);
}

/*
 * Send msgs (JSON-RPC requests or batches, one line each; stolen) to warden
 * as who, from a child that takes who's credentials first. Returns the
 * child's report (see peer_child()) with "pid" added: the peer's pid, which
 * warden sees through SO_PEERCRED.
 */
json_t *
as_peer(struct harness *h, const struct ident *who, json_t *msgs)
{
	json_error_t	 jerr;
	struct pollfd	 pfd;
	char		*buf = NULL, *s;
	size_t		 len = 0, cap = 0;
	ssize_t		 n;
	json_t		*report;
	pid_t		 pid;
	int		 p[2], st, r;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	fflush(NULL);
	pid = fork();
	ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		report = peer_child(h, who, msgs);
		s = json_dumps(report, JSON_COMPACT);
		if (s == NULL || util_write_all(p[1], s, strlen(s)) == -1)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	json_decref(msgs);
	/* Until the child closes its end; the bound is a failure only. */
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		r = poll(&pfd, 1, 4 * HARNESS_CALL_TIMEOUT);
		if (r == -1 && errno == EINTR)
			continue;
		ck_assert_msg(r == 1, "peer %ld: no report", (long)pid);
		if (cap - len < 4096) {
			cap = cap * 2 + 65536;
			buf = realloc(buf, cap + 1);
			ck_assert_ptr_nonnull(buf);
		}
		n = read(p[0], buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		ck_assert_msg(n >= 0, "read: %s", strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) == -1)
		ck_assert_int_eq(errno, EINTR);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "peer %ld failed (status %#x)", (long)pid, st);
	report = json_loadb(buf != NULL ? buf : "", len, 0, &jerr);
	ck_assert_msg(report != NULL, "peer report: %s", jerr.text);
	free(buf);
	json_object_set_new(report, "pid", json_integer(pid));
	return report;
}

json_t *
rpc_request(long long id, const char *method, const char *params)
{
	json_t	*r = json_pack("{s:s,s:I,s:s}", "jsonrpc", "2.0", "id",
	    (json_int_t)id, "method", method);

	if (params != NULL)
		json_object_set_new(r, "params", js(params));
	return r;
}

/*
 * Make the calls as who over one connection: the answers (one per call,
 * in order; new reference), the peer's pid in *pidp.
 */
json_t *
peer_calls(struct harness *h, const struct ident *who, const struct call *calls,
    size_t n, pid_t *pidp)
{
	json_t	*msgs = json_array(), *report, *answers;
	size_t	 i;
	char	*s;

	for (i = 0; i < n; i++)
		json_array_append_new(msgs, rpc_request((long long)i + 1,
		    calls[i].method, calls[i].params));
	report = as_peer(h, who, msgs);
	answers = json_object_get(report, "answers");
	s = dump(report);
	ck_assert_msg(json_array_size(answers) == n, "uid %ld: %s",
	    (long)who->uid, s);
	free(s);
	if (pidp != NULL)
		*pidp = (pid_t)json_integer_value(json_object_get(report, "pid"));
	json_incref(answers);
	json_decref(report);
	return answers;
}

/* The result of a call made as who, which must have succeeded. */
json_t *
peer_result(struct harness *h, const struct ident *who, const char *method,
    const char *params, pid_t *pidp)
{
	const struct call	 one = { method, params };
	json_t			*answers, *res;
	char			*s;

	answers = peer_calls(h, who, &one, 1, pidp);
	res = json_object_get(json_array_get(answers, 0), "result");
	s = dump(answers);
	ck_assert_msg(res != NULL, "%s as uid %ld: %s", method, (long)who->uid, s);
	free(s);
	json_incref(res);
	json_decref(answers);
	return res;
}

/* An answer must be a result for this id. */
void
check_ok(const json_t *ans, long long id, const char *method, uid_t uid)
{
	char	*s = dump(ans);

	ck_assert_msg(json_object_get(ans, "result") != NULL &&
	    json_object_get(ans, "error") == NULL,
	    "%s as uid %ld: want a result, got %s", method, (long)uid, s);
	ck_assert_msg(json_integer_value(json_object_get(ans, "id")) == id,
	    "%s: wrong id in %s", method, s);
	free(s);
}

/* An answer must be -32002 forbidden for this id. */
void
check_forbidden(const json_t *ans, long long id, const char *method, uid_t uid)
{
	char	*s = dump(ans);

	ck_assert_msg(harness_error_code(ans) == -32002,
	    "%s as uid %ld: want -32002, got %s", method, (long)uid, s);
	ck_assert_msg(harness_error_kind(ans) != NULL &&
	    strcmp(harness_error_kind(ans), "forbidden") == 0,
	    "%s as uid %ld: want kind forbidden, got %s", method, (long)uid, s);
	ck_assert_msg(json_object_get(ans, "result") == NULL, "%s: %s", method, s);
	ck_assert_msg(json_integer_value(json_object_get(ans, "id")) == id,
	    "%s: wrong id in %s", method, s);
	free(s);
}

/* Each refusal is in warden.log with the peer's uid and pid. */
void
check_refusals_logged(struct harness *h, const struct call *calls, size_t n,
    uid_t uid, pid_t pid)
{
	char	text[256];
	size_t	i;

	for (i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "%s refused to uid %ld pid %ld",
		    calls[i].method, (long)uid, (long)pid);
		ck_assert_msg(harness_wait_log(h, text, T_WAIT) == 0,
		    "not logged: %s", text);
	}
}

/* --- "nothing changed" ---------------------------------------------------- */

/*
 * Everything a call could change, minus what moves with the clock: each
 * service's state, pid, restarts and last exit, each supervisor, every
 * flag with who changed it, stage and history, the table's generation and
 * repairs and the object under its name.
 */
json_t *
snapshot(struct harness *h)
{
	json_t	*snap, *st, *v;
	size_t	 i;

	st = root_result(h, "status", NULL);
	json_array_foreach(json_object_get(st, "services"), i, v)
		json_object_del(v, "uptime_ms");
	json_array_foreach(json_object_get(st, "supervisors"), i, v)
		json_object_del(v, "restarts_in_window");
	snap = json_pack("{s:o,s:o,s:o,s:o,s:I}", "status", st,
	    "flags", root_result(h, "flag.list", NULL),
	    "stage", root_result(h, "stage.get", NULL),
	    "table", root_result(h, "table.info", NULL),
	    "ino", (json_int_t)table_ino(h));
	return snap;
}

void
check_unchanged(struct harness *h, json_t *before, const char *what)
{
	json_t	*after = snapshot(h);
	char	*a, *b;

	a = dump(before);
	b = dump(after);
	ck_assert_msg(json_equal(before, after), "%s changed the state:\n"
	    "before %s\nafter  %s", what, a, b);
	free(a);
	free(b);
	json_decref(after);
	json_decref(before);
}

/*
 * No event at all since sub subscribed: a change of the sentinel flag
 * (made now, as root: it flips) must be the very next event.
 */
static void
check_no_events(struct harness *h, struct harness_conn *sub, const char *what)
{
	json_t	*ev, *f;
	char	*s;
	bool	 now;

	f = root_result(h, "flag.get", "{'name': 'sentinel'}");
	now = json_is_true(json_object_get(f, "value"));
	json_decref(f);
	json_decref(root_result(h, "flag.set", now ?
	    "{'name': 'sentinel', 'value': false}" :
	    "{'name': 'sentinel', 'value': true}"));
	ev = harness_next_event(sub, T_WAIT);
	s = dump(ev);
	ck_assert_msg(ev != NULL, "%s: no event at all", what);
	ck_assert_msg(strcmp(json_string_value(json_object_get(ev, "type")),
	    "flag.changed") == 0 && strcmp(json_string_value(
	    json_object_get(ev, "name")), "sentinel") == 0,
	    "%s: an event before the sentinel's: %s", what, s);
	free(s);
	json_decref(ev);
}

/*
 * Set up what the forbidden calls would change: stage 1, f2 at 50, b
 * stopped, and a config file on disk that adds c.
 */
void
setup_changeable(struct harness *h)
{
	char	*text;

	json_decref(root_result(h, "stage.set", "{'stage': 1}"));
	json_decref(root_result(h, "flag.set", "{'name': 'f2', 'value': 50}"));
	json_decref(root_result(h, "service.stop", "{'service': 'b'}"));
	wait_state(h, "b", "stopped");
	text = cfg(conf_roles, conf_c);
	ck_assert_int_eq(harness_write_config(h, text), 0);
	free(text);
}

/*
 * Calls as who that must all be refused and change nothing: answers,
 * state, events, log.
 */
void
check_all_forbidden(struct harness *h, const struct ident *who,
    const struct call *calls, size_t n)
{
	struct harness_conn	*sub;
	json_t			*before, *answers;
	pid_t			 peer, wpid = h->pid;
	size_t			 i;

	ck_assert_int_eq(harness_wait_recovered(h, T_WAIT), 0);
	sub = harness_subscribe(h, NULL);
	ck_assert_ptr_nonnull(sub);
	before = snapshot(h);
	harness_log_mark(h);

	answers = peer_calls(h, who, calls, n, &peer);
	for (i = 0; i < n; i++)
		check_forbidden(json_array_get(answers, i), (long long)i + 1,
		    calls[i].method, who->uid);
	json_decref(answers);

	/* Still there, still the same process, still serving. */
	ck_assert_msg(harness_pid_alive(wpid), "warden is gone");
	ck_assert_int_eq(h->pid, wpid);
	json_decref(root_result(h, "ping", NULL));
	check_unchanged(h, before, "a refused call");
	check_no_events(h, sub, "refused calls");
	check_refusals_logged(h, calls, n, who->uid, peer);
	harness_conn_close(sub);
}

/* Calls as who that must all succeed (only their answers are checked). */
void
check_all_ok(struct harness *h, const struct ident *who,
    const struct call *calls, size_t n)
{
	json_t	*answers;
	size_t	 i;

	answers = peer_calls(h, who, calls, n, NULL);
	for (i = 0; i < n; i++)
		check_ok(json_array_get(answers, i), (long long)i + 1,
		    calls[i].method, who->uid);
	json_decref(answers);
}

