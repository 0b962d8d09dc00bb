/*
 * check_roles.c: warden's security boundaries, with the real daemon. Who
 * may do what on the control socket (SPEC 5 "Roles"): every method of
 * rpc.c's table is called by a peer of each role, the peer being a child
 * of the test that has dropped to another uid and set of groups before it
 * connects; a refusal must be -32002 "forbidden", logged with the peer's
 * uid and pid, and change nothing at all. Roles follow the access lists
 * after a reload, and belong to the peer as it was when it connected (not
 * to whoever has its pid later). Then the socket itself (its mode, a live
 * or a stale socket of another warden, a file in its place) and the shared
 * table's names taken by someone else (the table's own, a symlink, the
 * temporary name a new table is built under).
 *
 * The tests run as root (they need setuid); as another user the suite
 * says so and passes nothing but that.
 *
 * JSON in the tests is written with ' for "; dq() turns it into JSON.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
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
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "murmur3.h"
#include "util.h"

#define T_WAIT		5000	/* failure bound of one wait, ms */
#define T_CASE		30	/* failure bound of one test, s */

/* Peers. None of these uids is warden's (root), none needs a passwd entry. */
#define UID_NOBODY	65534
#define GID_NOGROUP	65534
#define UID_OPERATE	40001	/* in access.operate.uids */
#define UID_ADMIN	40002	/* in access.admin.uids */
#define UID_GROUPED	40003	/* listed nowhere; its groups decide */

#define GROUP_OPERATE	"users"	/* in access.operate.groups */
#define GROUP_ADMIN	"staff"	/* in access.admin.groups */

/*
 * Names in /dev/shm the socket tests make, from the runner's pid so that
 * the case's teardown (in the runner) can remove what a failed test left.
 */
static pid_t	runner;

static void
shm_name(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "/warden-%s-%ld", what, (long)runner);
}

/* The temporary name warden builds a table under (table.c). */
static void
shm_tmp_name(char *buf, size_t len, const char *table)
{
	snprintf(buf, len, "/.warden-%08x.new",
	    murmur3_x86_32(table, strlen(table), 0));
}

/* A peer: the credentials the child takes before it connects. */
struct ident {
	uid_t	uid;
	gid_t	gid;
	gid_t	groups[4];	/* supplementary */
	int	ngroups;
};

static const struct ident id_nobody = { UID_NOBODY, GID_NOGROUP, { 0 }, 0 };
static const struct ident id_operate = { UID_OPERATE, GID_NOGROUP, { 0 }, 0 };
static const struct ident id_admin = { UID_ADMIN, GID_NOGROUP, { 0 }, 0 };

/* One call: a method of rpc.c's table and params for it (' for "). */
struct call {
	const char	*method;
	const char	*params;	/* NULL: none */
};

/*
 * The method table of rpc.c, by role. Params are valid ones that would
 * change something if the call went through (the tests set the state up so
 * that each of them would): a refusal that changes nothing proves that the
 * role was checked, not that the call happened to be a no-op.
 */
static const struct call read_calls[] = {
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

static const struct call operate_calls[] = {
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

static const struct call admin_calls[] = {
	{ "table.delete", NULL },
	{ "table.corrupt", NULL },
	{ "config.reload", NULL },			/* the file adds c */
	{ "reexec", NULL },				/* warden's own binary */
	{ "shutdown", NULL },
};

/*
 * a and b under the root, flags and stages to change. The operate and
 * admin lists name the peers above; GROUPS is replaced by the group lists.
 */
static const char conf_roles[] =
    "{ 'socket_mode': '0666',\n"
    "  'access': { 'operate': { 'uids': [40001], 'groups': ['users'] },\n"
    "              'admin': { 'uids': [40002], 'groups': ['staff'] } },\n"
    "  'flags': { 'f1': { 'default': false }, 'f2': { 'default': false },\n"
    "             'sentinel': { 'default': false } },\n"
    "  'stages': [ { 'stage': 1, 'enable': ['f1'] },\n"
    "              { 'stage': 2, 'enable': ['f2'] } ],\n"
    "  'supervisor': { 'max_restarts': 50, 'max_seconds': 60, 'children': [\n"
    "    { 'name': 'a', 'command': ['@WORKER@'] },\n"
    "    { 'name': 'b', 'command': ['@WORKER@'] }%s ] } }\n";

static const char conf_c[] =
    ",\n    { 'name': 'c', 'command': ['@WORKER@'] }";

/* --- small helpers -------------------------------------------------------- */

static char *
dq(const char *text)
{
	char	*s, *p;

	s = xstrdup(text);
	for (p = s; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return s;
}

static char *cfg(const char *, ...) __attribute__((format(printf, 1, 2)));

static char *
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

static json_t *
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

static char *
dump(const json_t *j)
{
	char	*s;

	if (j == NULL)
		return xstrdup("(null)");
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	return s != NULL ? s : xstrdup("?");
}

static bool
is_root(void)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "check_roles: not root: the role tests need setuid; "
	    "skipped\n");
	return false;
}

/* A group's gid, or -1 (with a message) when the system has no such group. */
static gid_t
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
static void
start(struct harness *h, const char *text)
{
	char	*s = dq(text);

	ck_assert_msg(harness_prepare(h, s) == 0, "cannot prepare");
	free(s);
	/* mkdtemp made DIR 0700: the peers must get to the socket in it. */
	ck_assert_int_eq(chmod(h->dir, 0755), 0);
	ck_assert_msg(harness_launch(h) == 0, "warden did not start");
}

static void
start_roles(struct harness *h)
{
	char	*text;

	xasprintf(&text, conf_roles, "");
	start(h, text);
	free(text);
}

/* Stop warden: a clean exit that leaves nothing behind. */
static void
stop(struct harness *h)
{
	ck_assert_int_eq(harness_stop(h), 0);
	ck_assert_int_eq(h->leftovers, 0);
}

static json_t *
root_result(struct harness *h, const char *method, const char *params)
{
	json_t	*r = harness_result(h, method, js(params));

	ck_assert_msg(r != NULL, "%s as root failed", method);
	return r;
}

static pid_t
pid_of(struct harness *h, const char *service)
{
	pid_t	pid = harness_pid_of(h, service);

	ck_assert_msg(pid > 0, "%s has no pid", service);
	return pid;
}

static void
wait_state(struct harness *h, const char *service, const char *state)
{
	ck_assert_msg(harness_wait_state(h, service, state, T_WAIT) == 0,
	    "%s never %s", service, state);
}

/* The inode under /dev/shm of the table, 0 when there is none. */
static ino_t
table_ino(struct harness *h)
{
	char		path[PATH_MAX];
	struct stat	st;

	snprintf(path, sizeof(path), "/dev/shm%s", h->table);
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

/* --- peers ------------------------------------------------------------------ */

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

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
static json_t *
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
		if (s == NULL || write_all(p[1], s, strlen(s)) == -1)
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

static json_t *
request(long long id, const char *method, const char *params)
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
static json_t *
peer_calls(struct harness *h, const struct ident *who, const struct call *calls,
    size_t n, pid_t *pidp)
{
	json_t	*msgs = json_array(), *report, *answers;
	size_t	 i;
	char	*s;

	for (i = 0; i < n; i++)
		json_array_append_new(msgs, request((long long)i + 1,
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
static json_t *
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
static void
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
static void
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
static void
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
static json_t *
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

static void
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
static void
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
static void
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
static void
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

/* --- 1. read: anyone who can connect --------------------------------------- */

START_TEST(test_read_peer)
{
	struct harness	 h;
	json_t		*answers, *r;
	const char	*name;
	size_t		 i;

	if (!is_root())
		return;
	start_roles(&h);

	/* Every read method works for a peer listed nowhere. */
	answers = peer_calls(&h, &id_nobody, read_calls, nitems(read_calls),
	    NULL);
	for (i = 0; i < nitems(read_calls); i++)
		check_ok(json_array_get(answers, i), (long long)i + 1,
		    read_calls[i].method, UID_NOBODY);
	/* And answers what it should: these are real answers. */
	r = json_object_get(json_array_get(answers, 0), "result");
	ck_assert_str_eq(json_string_value(r), "pong");
	r = json_object_get(json_array_get(answers, 2), "result");
	ck_assert_msg(json_array_size(json_object_get(r, "services")) == 1,
	    "status of a: %s", dump(r));
	r = json_object_get(json_array_get(answers, 6), "result");
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "f1");
	r = json_object_get(json_array_get(answers, 8), "result");
	name = json_string_value(json_object_get(r, "name"));
	ck_assert_msg(name != NULL && strcmp(name, h.table) == 0,
	    "table.info: %s", dump(r));
	json_decref(answers);

	/* Every operate and admin method is refused and changes nothing. */
	setup_changeable(&h);
	check_all_forbidden(&h, &id_nobody, operate_calls,
	    nitems(operate_calls));
	check_all_forbidden(&h, &id_nobody, admin_calls, nitems(admin_calls));
	/* The refused reload did not happen: c is unknown. */
	ck_assert_ptr_null(harness_service(&h, "c"));
	stop(&h);
}
END_TEST

/* The role is checked before anything else: bad params, batches. */
START_TEST(test_read_peer_refused_first)
{
	static const struct call logged[] = { { "flag.set", NULL },
	    { "service.kill", NULL }, { "shutdown", NULL },
	    { "table.delete", NULL } };
	struct harness	 h;
	json_t		*msgs, *report, *answers, *batch, *before;
	const json_t	*a;
	pid_t		 peer;
	char		*s;

	if (!is_root())
		return;
	start_roles(&h);
	ck_assert_int_eq(harness_wait_recovered(&h, T_WAIT), 0);
	before = snapshot(&h);
	harness_log_mark(&h);

	msgs = json_array();
	/* Params that would be invalid: still "forbidden", not a hint. */
	json_array_append_new(msgs, request(1, "flag.set", "{'bogus': 1}"));
	json_array_append_new(msgs, request(2, "service.kill",
	    "{'service': 'nosuch'}"));
	/* A batch: the read member is served, the others refused, in order. */
	batch = json_array();
	json_array_append_new(batch, request(3, "ping", NULL));
	json_array_append_new(batch, request(4, "shutdown", NULL));
	json_array_append_new(batch, request(5, "flag.set",
	    "{'name': 'f1', 'value': true}"));
	json_array_append_new(batch, request(6, "table.delete", NULL));
	json_array_append_new(msgs, batch);
	report = as_peer(&h, &id_nobody, msgs);
	peer = (pid_t)json_integer_value(json_object_get(report, "pid"));
	answers = json_object_get(report, "answers");
	s = dump(report);
	ck_assert_msg(json_array_size(answers) == 3, "%s", s);
	free(s);
	check_forbidden(json_array_get(answers, 0), 1, "flag.set", UID_NOBODY);
	check_forbidden(json_array_get(answers, 1), 2, "service.kill",
	    UID_NOBODY);
	a = json_array_get(answers, 2);
	s = dump(a);
	ck_assert_msg(json_array_size(a) == 4, "batch: %s", s);
	free(s);
	check_ok(json_array_get(a, 0), 3, "ping", UID_NOBODY);
	check_forbidden(json_array_get(a, 1), 4, "shutdown", UID_NOBODY);
	check_forbidden(json_array_get(a, 2), 5, "flag.set", UID_NOBODY);
	check_forbidden(json_array_get(a, 3), 6, "table.delete", UID_NOBODY);
	json_decref(report);
	ck_assert(harness_pid_alive(h.pid));
	check_unchanged(&h, before, "a refused batch");
	check_refusals_logged(&h, logged, nitems(logged), UID_NOBODY, peer);
	stop(&h);
}
END_TEST

/* --- 2. operate by uid ----------------------------------------------------- */

static const json_t *
flag_in(const json_t *flags, const char *name)
{
	const json_t	*f;
	size_t		 i;

	json_array_foreach(flags, i, f)
		if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0)
			return f;
	return NULL;
}

/*
 * Every operate method as who, each checked for its effect; who is an
 * operator by uid or by group.
 */
static void
check_operate_works(struct harness *h, const struct ident *who)
{
	static const struct call calls[] = {
		{ "service.stop", "{'service': 'b'}" },
		{ "service.start", "{'service': 'b'}" },
		{ "service.restart", "{'service': 'a'}" },
		{ "service.kill", "{'service': 'b', 'signal': 'TERM'}" },
		{ "flag.set", "{'name': 'f2', 'value': 30, 'reason': 'op'}" },
		{ "flag.reset", "{'name': 'f2'}" },
		{ "stage.set", "{'stage': 2}" },
		{ "stage.rollback", "{'stage': 1}" },
		{ "stage.emergency", "{'reason': 'op'}" },
	};
	json_t		*answers, *r;
	const json_t	*k, *f;
	pid_t		 a0, b0, b1, peer;
	size_t		 i;
	char		*s;

	ck_assert_int_eq(harness_wait_recovered(h, T_WAIT), 0);
	r = harness_service(h, "b");
	ck_assert_ptr_nonnull(r);
	if (strcmp(json_string_value(json_object_get(r, "state")), "running")
	    != 0)
		json_decref(root_result(h, "service.start", "{'service': 'b'}"));
	json_decref(r);
	a0 = pid_of(h, "a");
	b0 = pid_of(h, "b");
	answers = peer_calls(h, who, calls, nitems(calls), &peer);
	s = dump(answers);
	for (i = 0; i < nitems(calls); i++)
		check_ok(json_array_get(answers, i), (long long)i + 1,
		    calls[i].method, who->uid);

#define RES(i)	json_object_get(json_array_get(answers, (i)), "result")
	r = RES(0);
	ck_assert_msg(strcmp(json_string_value(json_object_get(r, "state")),
	    "stopped") == 0, "service.stop: %s", s);
	r = RES(1);
	ck_assert_msg(strcmp(json_string_value(json_object_get(r, "state")),
	    "running") == 0, "service.start: %s", s);
	b1 = (pid_t)json_integer_value(json_object_get(r, "pid"));
	ck_assert_msg(b1 > 0 && b1 != b0, "service.start: %s", s);
	r = RES(2);
	ck_assert_msg((pid_t)json_integer_value(json_object_get(r, "pid")) !=
	    a0 && json_integer_value(json_object_get(r, "pid")) > 0,
	    "service.restart: %s", s);
	r = RES(3);
	k = json_object_get(r, "killed");
	ck_assert_msg(json_array_size(k) == 1 && strcmp(json_string_value(
	    json_object_get(json_array_get(k, 0), "service")), "b") == 0 &&
	    json_integer_value(json_object_get(json_array_get(k, 0), "pid")) ==
	    b1, "service.kill: %s", s);
	r = RES(4);
	ck_assert_msg(json_integer_value(json_object_get(r, "value")) == 30,
	    "flag.set: %s", s);
	r = RES(5);
	f = flag_in(json_object_get(r, "flags"), "f2");
	ck_assert_msg(f != NULL && json_is_false(json_object_get(f, "value")),
	    "flag.reset: %s", s);
	ck_assert_msg(json_integer_value(json_object_get(RES(6), "stage")) == 2,
	    "stage.set: %s", s);
	ck_assert_msg(json_integer_value(json_object_get(RES(7), "stage")) == 1,
	    "stage.rollback: %s", s);
	ck_assert_msg(json_integer_value(json_object_get(RES(8), "stage")) == 0,
	    "stage.emergency: %s", s);
#undef RES
	free(s);
	json_decref(answers);

	/* Who did it is on record: the peer, not warden or root. */
	r = root_result(h, "flag.get", "{'name': 'f1'}");
	s = dump(r);
	k = json_object_get(r, "changed_by");
	ck_assert_msg(json_integer_value(json_object_get(k, "uid")) ==
	    (json_int_t)who->uid && json_integer_value(json_object_get(k,
	    "pid")) == peer, "changed_by: %s (peer pid %ld)", s, (long)peer);
	free(s);
	json_decref(r);
	ck_assert_int_eq(harness_wait_recovered(h, T_WAIT), 0);
}

START_TEST(test_operate_uid)
{
	struct harness	 h;

	if (!is_root())
		return;
	start_roles(&h);
	check_all_ok(&h, &id_operate, read_calls, nitems(read_calls));
	check_operate_works(&h, &id_operate);
	setup_changeable(&h);
	check_all_forbidden(&h, &id_operate, admin_calls, nitems(admin_calls));
	ck_assert_ptr_null(harness_service(&h, "c"));
	stop(&h);
}
END_TEST

/* --- 3. admin by uid -------------------------------------------------------- */

START_TEST(test_admin_uid)
{
	struct harness	 h;
	json_t		*r;
	ino_t		 ino;
	pid_t		 peer;

	if (!is_root())
		return;
	start_roles(&h);
	check_all_ok(&h, &id_admin, read_calls, nitems(read_calls));
	check_operate_works(&h, &id_admin);

	/* table.delete: the object goes, warden puts a new one in place. */
	ino = table_ino(&h);
	ck_assert_msg(ino != 0, "no table %s", h.table);
	r = peer_result(&h, &id_admin, "table.delete", NULL, &peer);
	ck_assert(json_is_true(json_object_get(r, "deleted")));
	json_decref(r);
	ck_assert_int_eq(harness_wait_log(&h, "table deleted by uid 40002",
	    T_WAIT), 0);
	ck_assert_int_eq(harness_wait_recovered(&h, T_WAIT), 0);
	r = root_result(&h, "table.info", NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "repairs")), 1);
	json_decref(r);
	ck_assert_msg(table_ino(&h) != 0 && table_ino(&h) != ino,
	    "the table was not replaced");

	r = peer_result(&h, &id_admin, "table.corrupt", NULL, NULL);
	ck_assert(json_is_true(json_object_get(r, "corrupted")));
	json_decref(r);
	ck_assert_int_eq(harness_wait_recovered(&h, T_WAIT), 0);
	r = root_result(&h, "table.info", NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "repairs")), 2);
	json_decref(r);

	/* config.reload: the file now has c. */
	{
		char	*text = cfg(conf_roles, conf_c);

		ck_assert_int_eq(harness_write_config(&h, text), 0);
		free(text);
	}
	r = peer_result(&h, &id_admin, "config.reload", NULL, NULL);
	ck_assert_msg(json_array_size(json_object_get(r, "added")) == 1 &&
	    strcmp(json_string_value(json_array_get(json_object_get(r, "added"),
	    0)), "c") == 0, "reload: %s", dump(r));
	json_decref(r);
	wait_state(&h, "c", "running");

	/* shutdown: warden stops everything and exits 0. */
	r = peer_result(&h, &id_admin, "shutdown", NULL, &peer);
	ck_assert(json_is_true(json_object_get(r, "stopping")));
	json_decref(r);
	ck_assert_int_eq(harness_wait_exit(&h, HARNESS_STOP_TIMEOUT), 0);
	{
		char	text[128];

		snprintf(text, sizeof(text), "shutdown asked by uid %d pid %ld",
		    UID_ADMIN, (long)peer);
		ck_assert_int_eq(harness_wait_log(&h, text, T_WAIT), 0);
	}
	stop(&h);
}
END_TEST

/* --- 4. roles by supplementary group --------------------------------------- */

START_TEST(test_operate_group)
{
	struct harness	 h;
	struct ident	 grouped = { UID_GROUPED, GID_NOGROUP, { 0 }, 1 };
	struct ident	 plain = { UID_GROUPED, GID_NOGROUP, { 0 }, 0 };
	static const struct call flag_set[] = {
		{ "flag.set", "{'name': 'f1', 'value': true}" } };
	gid_t		 gid;

	if (!is_root() || (gid = group_gid(GROUP_OPERATE)) == (gid_t)-1)
		return;
	ck_assert_msg(gid != GID_NOGROUP, "the group must not be primary");
	grouped.groups[0] = gid;
	start_roles(&h);

	/* Without the group the same uid may only read. */
	check_all_ok(&h, &plain, read_calls, nitems(read_calls));
	setup_changeable(&h);
	check_all_forbidden(&h, &plain, flag_set, nitems(flag_set));

	/* With it as a supplementary group (not the primary one): operate. */
	check_all_ok(&h, &grouped, read_calls, nitems(read_calls));
	check_operate_works(&h, &grouped);
	/* But not admin. */
	setup_changeable(&h);
	check_all_forbidden(&h, &grouped, admin_calls, nitems(admin_calls));
	stop(&h);
}
END_TEST

START_TEST(test_admin_group)
{
	struct harness	 h;
	struct ident	 grouped = { UID_GROUPED, GID_NOGROUP, { 0 }, 1 };
	json_t		*r;
	gid_t		 gid;

	if (!is_root() || (gid = group_gid(GROUP_ADMIN)) == (gid_t)-1)
		return;
	grouped.groups[0] = gid;
	start_roles(&h);
	check_operate_works(&h, &grouped);
	r = peer_result(&h, &grouped, "table.corrupt", NULL, NULL);
	ck_assert(json_is_true(json_object_get(r, "corrupted")));
	json_decref(r);
	ck_assert_int_eq(harness_wait_recovered(&h, T_WAIT), 0);
	r = peer_result(&h, &grouped, "shutdown", NULL, NULL);
	ck_assert(json_is_true(json_object_get(r, "stopping")));
	json_decref(r);
	ck_assert_int_eq(harness_wait_exit(&h, HARNESS_STOP_TIMEOUT), 0);
	stop(&h);
}
END_TEST

/* --- 5. root ----------------------------------------------------------------- */

START_TEST(test_root_everything)
{
	struct harness	 h;
	const struct ident root = { 0, 0, { 0 }, 0 };
	json_t		*r;
	const char	*added;
	char		*text;

	if (!is_root())
		return;
	start_roles(&h);
	check_all_ok(&h, &root, read_calls, nitems(read_calls));
	setup_changeable(&h);
	/* The very calls others were refused, as they are, all served. */
	check_all_ok(&h, &root, operate_calls, nitems(operate_calls));
	ck_assert_int_eq(harness_wait_recovered(&h, T_WAIT), 0);

	r = peer_result(&h, &root, "table.delete", NULL, NULL);
	ck_assert(json_is_true(json_object_get(r, "deleted")));
	json_decref(r);
	ck_assert_int_eq(harness_wait_recovered(&h, T_WAIT), 0);
	r = peer_result(&h, &root, "table.corrupt", NULL, NULL);
	ck_assert(json_is_true(json_object_get(r, "corrupted")));
	json_decref(r);
	ck_assert_int_eq(harness_wait_recovered(&h, T_WAIT), 0);
	r = root_result(&h, "table.info", NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "repairs")), 2);
	json_decref(r);

	r = peer_result(&h, &root, "config.reload", NULL, NULL);
	text = dump(r);
	added = json_string_value(json_array_get(json_object_get(r, "added"),
	    0));
	ck_assert_msg(added != NULL && strcmp(added, "c") == 0, "reload: %s",
	    text);
	free(text);
	json_decref(r);
	wait_state(&h, "c", "running");

	r = peer_result(&h, &root, "shutdown", NULL, NULL);
	ck_assert(json_is_true(json_object_get(r, "stopping")));
	json_decref(r);
	ck_assert_int_eq(harness_wait_exit(&h, HARNESS_STOP_TIMEOUT), 0);
	stop(&h);
}
END_TEST

/* --- 6. access lists at reload --------------------------------------------- */

START_TEST(test_reload_access)
{
	struct harness	 h;
	static const struct call flag_set[] = {
		{ "flag.set", "{'name': 'f1', 'value': true}" } };
	char		*text;

	if (!is_root())
		return;
	start_roles(&h);
	check_all_ok(&h, &id_operate, flag_set, nitems(flag_set));
	check_all_forbidden(&h, &id_nobody, flag_set, nitems(flag_set));

	/* The lists swap: 40001 loses operate, nobody gains it. */
	text = cfg("{ 'socket_mode': '0666',\n"
	    "  'access': { 'operate': { 'uids': [65534] } },\n"
	    "  'flags': { 'f1': { 'default': false }, 'f2': { 'default': false },\n"
	    "             'sentinel': { 'default': false } },\n"
	    "  'stages': [ { 'stage': 1, 'enable': ['f1'] },\n"
	    "              { 'stage': 2, 'enable': ['f2'] } ],\n"
	    "  'supervisor': { 'max_restarts': 50, 'max_seconds': 60, 'children': [\n"
	    "    { 'name': 'a', 'command': ['@WORKER@'] },\n"
	    "    { 'name': 'b', 'command': ['@WORKER@'] } ] } }\n");
	ck_assert_int_eq(harness_write_config(&h, text), 0);
	free(text);
	json_decref(root_result(&h, "config.reload", NULL));

	check_all_forbidden(&h, &id_operate, flag_set, nitems(flag_set));
	check_all_ok(&h, &id_nobody, flag_set, nitems(flag_set));
	stop(&h);
}
END_TEST

/* --- 6b. groups as they were at connect time --------------------------------- */

static int
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

/*
 * A process of ours with exactly this pid and who's credentials, waiting
 * in pause() until killed; -1 when the pid cannot be chosen here.
 */
static pid_t
fork_at(pid_t want, const struct ident *who)
{
	char	num[32], c;
	pid_t	pid;
	int	p[2], tries;

	for (tries = 0; tries < 50; tries++) {
		snprintf(num, sizeof(num), "%ld", (long)want - 1);
		if (write_text("/proc/sys/kernel/ns_last_pid", num) == -1) {
			fprintf(stderr, "check_roles: ns_last_pid: %s\n",
			    strerror(errno));
			return -1;
		}
		ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
		fflush(NULL);
		pid = fork();
		ck_assert_int_ne(pid, -1);
		if (pid == 0) {
			close(p[0]);
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
			    setgroups((size_t)who->ngroups, who->groups) == -1 ||
			    setgid(who->gid) == -1 || setuid(who->uid) == -1)
				_exit(1);
			(void)!write(p[1], "x", 1);
			close(p[1]);
			for (;;)
				pause();
		}
		close(p[1]);
		ck_assert_int_eq(read(p[0], &c, 1), 1);
		close(p[0]);
		if (pid == want)
			return pid;
		/* Someone else forked in between: again. */
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	fprintf(stderr, "check_roles: pid %ld could not be taken\n",
	    (long)want);
	return -1;
}

/*
 * The role belongs to the peer that connected (SO_PEERCRED), with the
 * groups it had then. A peer without the group connects while warden is
 * busy (stopped here, to make the moment last), hands the connection on
 * and exits; its pid goes to a process that is in the operate group. When
 * warden gets to the connection, the peer is still nobody without groups:
 * read, and nothing more.
 */
START_TEST(test_groups_at_connect_time)
{
	struct harness		 h;
	struct sockaddr_un	 sun;
	struct harness_conn	*c;
	struct ident		 member = { UID_GROUPED, GID_NOGROUP, { 0 }, 1 };
	json_t			*resp;
	pid_t			 peer, heir;
	gid_t			 gid;
	char			*s, text[128];
	int			 fd, st;

	if (!is_root() || (gid = group_gid(GROUP_OPERATE)) == (gid_t)-1)
		return;
	member.groups[0] = gid;
	start_roles(&h);
	ck_assert_int_eq(harness_signal(&h, SIGSTOP), 0);

	/* The socket is ours; a child of nobody's makes the connection. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(h.sock), sizeof(sun.sun_path));
	memcpy(sun.sun_path, h.sock, strlen(h.sock));
	fflush(NULL);
	peer = fork();
	ck_assert_int_ne(peer, -1);
	if (peer == 0) {
		if (setgroups(0, NULL) == -1 || setgid(GID_NOGROUP) == -1 ||
		    setuid(UID_NOBODY) == -1)
			_exit(1);
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
			_exit(2);
		_exit(0);
	}
	while (waitpid(peer, &st, 0) == -1)
		ck_assert_int_eq(errno, EINTR);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the peer could not connect (%#x)", st);

	heir = fork_at(peer, &member);
	ck_assert_int_eq(harness_signal(&h, SIGCONT), 0);
	if (heir == -1) {
		fprintf(stderr, "check_roles: pid reuse not arranged; the "
		    "connect-time groups not tested\n");
		close(fd);
		stop(&h);
		return;
	}

	c = harness_conn_wrap(fd);
	ck_assert_ptr_nonnull(c);
	ck_assert(harness_conn_request(c, "flag.set",
	    js("{'name': 'f1', 'value': true}")) != -1);
	resp = harness_read_response(c, 1, HARNESS_CALL_TIMEOUT);
	s = dump(resp);
	ck_assert_msg(resp != NULL, "no answer");
	snprintf(text, sizeof(text), "uid %d pid %ld, role", UID_NOBODY,
	    (long)peer);
	ck_assert_int_eq(harness_wait_log(&h, text, T_WAIT), 0);
	kill(heir, SIGKILL);
	while (waitpid(heir, NULL, 0) == -1 && errno == EINTR)
		;
	ck_assert_msg(harness_error_code(resp) == -32002, "nobody (pid %ld, "
	    "exited) got the role of pid %ld's new owner (uid %d, group %s): "
	    "%s", (long)peer, (long)heir, UID_GROUPED, GROUP_OPERATE, s);
	free(s);
	json_decref(resp);
	harness_conn_close(c);
	stop(&h);
}
END_TEST

/* --- 7. the socket's mode ----------------------------------------------------- */

static void
check_socket_mode(const char *mode, mode_t want, bool nobody_connects)
{
	struct harness	 h;
	struct stat	 st;
	json_t		*msgs, *report;
	char		*text;

	text = cfg("{ 'socket_mode': '%s', 'supervisor': { 'children': [] } }",
	    mode);
	start(&h, text);
	free(text);
	ck_assert_int_eq(lstat(h.sock, &st), 0);
	ck_assert_msg(S_ISSOCK(st.st_mode), "%s is not a socket", h.sock);
	ck_assert_msg((st.st_mode & 07777) == want, "socket_mode %s: the "
	    "socket has mode %04o", mode, (unsigned)(st.st_mode & 07777));
	ck_assert_int_eq(st.st_uid, 0);

	msgs = json_array();
	json_array_append_new(msgs, request(1, "ping", NULL));
	report = as_peer(&h, &id_nobody, msgs);
	if (nobody_connects) {
		ck_assert_msg(json_array_size(json_object_get(report, "answers"))
		    == 1, "nobody: %s", dump(report));
		check_ok(json_array_get(json_object_get(report, "answers"), 0), 1,
		    "ping", UID_NOBODY);
	} else {
		ck_assert_msg(json_object_get(report, "answers") == NULL &&
		    strcmp(json_string_value(json_object_get(report, "step")),
		    "connect") == 0 && json_integer_value(json_object_get(report,
		    "errno")) == EACCES, "socket_mode %s: nobody connected: %s",
		    mode, dump(report));
	}
	json_decref(report);
	/* Root still can, whatever the mode. */
	json_decref(root_result(&h, "ping", NULL));
	stop(&h);
}

START_TEST(test_socket_mode)
{
	if (!is_root())
		return;
	check_socket_mode("0666", 0666, true);
	check_socket_mode("0606", 0606, true);
	check_socket_mode("0640", 0640, false);
	check_socket_mode("0600", 0600, false);
}
END_TEST

/* --- 8. another warden's socket ---------------------------------------------- */

START_TEST(test_second_warden)
{
	struct harness	 h1, h2;
	struct stat	 st1, st;
	json_t		*before;
	ino_t		 ino;
	char		*text, *log;

	if (!is_root())
		return;
	start_roles(&h1);
	ck_assert_int_eq(lstat(h1.sock, &st1), 0);
	ino = table_ino(&h1);
	ck_assert_msg(ino != 0, "no table");
	before = snapshot(&h1);

	/* The same socket and the same table: it must touch neither. */
	text = cfg("{ 'socket': '%s', 'table': '%s', "
	    "'supervisor': { 'children': [] } }", h1.sock, h1.table);
	ck_assert_int_eq(harness_start_expect_fail(&h2, text, T_WAIT), 1);
	free(text);
	log = harness_log(&h2);
	ck_assert_msg(log != NULL && strstr(log, h1.sock) != NULL &&
	    strstr(log, "another warden is answering there") != NULL,
	    "the second warden's log: %s", log != NULL ? log : "(none)");
	free(log);

	/* The first one: same socket, same table, same state, serving. */
	ck_assert(harness_pid_alive(h1.pid));
	ck_assert_int_eq(lstat(h1.sock, &st), 0);
	ck_assert_msg(st.st_ino == st1.st_ino, "the socket was replaced");
	ck_assert_msg(table_ino(&h1) == ino, "the table was replaced");
	check_unchanged(&h1, before, "a second warden");
	stop(&h1);
	/* Only now: h2's clean-up unlinks its table name, h1's. */
	harness_cleanup(&h2);
}
END_TEST

START_TEST(test_stale_socket)
{
	struct harness	 h;
	struct stat	 st;
	char		*log;

	if (!is_root())
		return;
	start(&h, "{ 'supervisor': { 'children': [] } }");
	ck_assert_int_eq(harness_signal(&h, SIGKILL), 0);
	ck_assert_int_eq(harness_wait_exit(&h, T_WAIT), 128 + SIGKILL);
	/* Left behind, and nobody answers there. */
	ck_assert_int_eq(lstat(h.sock, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(harness_connect(&h), -1);

	harness_log_mark(&h);
	ck_assert_msg(harness_restart(&h) == 0, "warden did not start over a "
	    "stale socket");
	/* A socket that answers: not the stale one. */
	ck_assert_int_eq(lstat(h.sock, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	json_decref(root_result(&h, "ping", NULL));
	log = harness_log(&h);
	ck_assert_msg(strstr(log + h.log_mark, "another warden") == NULL,
	    "%s", log + h.log_mark);
	free(log);
	stop(&h);
}
END_TEST

/* A file that is not a socket where the socket goes: refused, untouched. */
START_TEST(test_socket_path_taken)
{
	struct harness	 h;
	struct stat	 st;
	char		*s, *log;

	if (!is_root())
		return;
	s = dq("{ 'supervisor': { 'children': [] } }");
	ck_assert_int_eq(harness_prepare(&h, s), 0);
	free(s);
	ck_assert_int_eq(harness_write_file(&h, "warden.sock", "precious\n"), 0);
	ck_assert_int_eq(harness_spawn(&h), 0);
	ck_assert_int_eq(harness_wait_exit(&h, T_WAIT), 1);
	log = harness_log(&h);
	ck_assert_msg(strstr(log, "exists and is not a socket") != NULL,
	    "log: %s", log);
	free(log);
	ck_assert_int_eq(lstat(h.sock, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	s = harness_read_file(h.sock);
	ck_assert_str_eq(s, "precious\n");
	free(s);
	harness_cleanup(&h);
}
END_TEST

/* --- 9. the table's name taken ------------------------------------------------ */

START_TEST(test_table_squatted)
{
	struct harness	 h;
	struct stat	 st0, st;
	char		 name[64], path[PATH_MAX], want[160];
	char		*text, *log;
	int		 fd;

	if (!is_root())
		return;
	shm_name(name, sizeof(name), "squat");
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	(void)shm_unlink(name);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0644);
	ck_assert_msg(fd != -1, "shm_open %s: %s", name, strerror(errno));
	ck_assert_int_eq(fchown(fd, UID_NOBODY, GID_NOGROUP), 0);
	ck_assert_int_eq(write(fd, "mine", 4), 4);
	close(fd);
	ck_assert_int_eq(lstat(path, &st0), 0);

	/*
	 * Nobody's object, no warden behind it: a squatter's. warden (root)
	 * replaces it with its table and names the owner in its log.
	 */
	text = cfg("{ 'table': '%s', 'supervisor': { 'children': [] } }", name);
	ck_assert_int_eq(harness_start(&h, text), 0);
	free(text);
	log = harness_log(&h);
	snprintf(want, sizeof(want), "table %s: replaced an object of uid %d",
	    name, UID_NOBODY);
	ck_assert_msg(strstr(log, want) != NULL, "want \"%s\" in: %s", want,
	    log);
	free(log);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(st.st_ino != st0.st_ino && st.st_uid == 0 &&
	    (st.st_mode & 07777) == 0644);
	ck_assert_int_eq(harness_stop(&h), 0);
	(void)shm_unlink(name);
}
END_TEST

START_TEST(test_table_symlink)
{
	struct harness	 h;
	struct stat	 st;
	char		 name[64], path[PATH_MAX], target[PATH_MAX];
	char		*text, *log, *s;
	json_t		*res;
	int		 fd;

	if (!is_root())
		return;
	shm_name(name, sizeof(name), "link");
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	snprintf(target, sizeof(target), "/tmp/warden-link-target-%ld",
	    (long)runner);
	fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, "precious\n", 9), 9);
	close(fd);
	(void)unlink(path);
	ck_assert_int_eq(symlink(target, path), 0);

	/* Not followed, not replaced: warden runs without a table, says why. */
	text = cfg("{ 'table': '%s', 'supervisor': { 'children': [] } }", name);
	ck_assert_int_eq(harness_start(&h, text), 0);
	free(text);
	log = harness_log(&h);
	ck_assert_msg(strstr(log, path) != NULL &&
	    strstr(log, "is not a shared-memory object") != NULL, "log: %s", log);
	free(log);
	res = harness_result(&h, "table.info", NULL);
	ck_assert_ptr_nonnull(res);
	ck_assert(json_is_false(json_object_get(res, "available")));
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(res,
	    "error")), "is not a shared-memory object"));
	json_decref(res);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	s = harness_read_file(target);
	ck_assert_str_eq(s, "precious\n");
	free(s);
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_int_eq(st.st_size, 9);
	harness_cleanup(&h);
	(void)unlink(path);
	(void)unlink(target);
}
END_TEST

/*
 * warden makes a table under a temporary name next to the real one, then
 * renames it. That name is its own business: an object another uid put
 * there (anyone may create files in /dev/shm) must keep warden neither
 * from starting nor from repairing its table, and stays untouched.
 */
static void
squat_tmp(const char *table, char *path, size_t len, struct stat *st)
{
	char	tmp[64];
	int	fd;

	shm_tmp_name(tmp, sizeof(tmp), table);
	snprintf(path, len, "/dev/shm%s", tmp);
	(void)shm_unlink(tmp);
	fd = shm_open(tmp, O_RDWR | O_CREAT | O_EXCL, 0644);
	ck_assert_msg(fd != -1, "shm_open %s: %s", tmp, strerror(errno));
	ck_assert_int_eq(fchown(fd, UID_NOBODY, GID_NOGROUP), 0);
	close(fd);
	ck_assert_int_eq(lstat(path, st), 0);
}

static void
check_squat_untouched(const char *path, const struct stat *st0)
{
	struct stat	st;

	ck_assert_msg(lstat(path, &st) == 0, "%s is gone", path);
	ck_assert_msg(st.st_ino == st0->st_ino && st.st_uid == UID_NOBODY &&
	    st.st_size == 0, "%s was changed", path);
	ck_assert_int_eq(unlink(path), 0);
}

START_TEST(test_table_tmp_squatted_start)
{
	struct harness	 h;
	struct stat	 st0;
	char		 name[64], path[PATH_MAX], *text;

	if (!is_root())
		return;
	shm_name(name, sizeof(name), "tmpsq1");
	squat_tmp(name, path, sizeof(path), &st0);
	text = cfg("{ 'table': '%s', 'supervisor': { 'children': [] } }", name);
	ck_assert_int_eq(harness_prepare(&h, text), 0);
	free(text);
	ck_assert_msg(harness_launch(&h) == 0, "warden did not start: another "
	    "uid's %s is in the way", path);
	json_decref(root_result(&h, "ping", NULL));
	ck_assert_msg(table_ino(&h) != 0, "no table");
	stop(&h);
	check_squat_untouched(path, &st0);
}
END_TEST

START_TEST(test_table_tmp_squatted_repair)
{
	struct harness	 h;
	struct stat	 st0;
	json_t		*r;
	char		 name[64], path[PATH_MAX], *text;

	if (!is_root())
		return;
	shm_name(name, sizeof(name), "tmpsq2");
	text = cfg("{ 'table': '%s', 'supervisor': { 'children': [] } }", name);
	start(&h, text);
	free(text);
	squat_tmp(name, path, sizeof(path), &st0);
	r = root_result(&h, "table.delete", NULL);
	json_decref(r);
	ck_assert_msg(harness_wait_recovered(&h, T_WAIT) == 0, "the table was "
	    "not repaired: another uid's %s is in the way", path);
	r = root_result(&h, "table.info", NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "repairs")), 1);
	json_decref(r);
	ck_assert_msg(table_ino(&h) != 0, "no table");
	stop(&h);
	check_squat_untouched(path, &st0);
}
END_TEST

/* What a failed socket test may have left in /dev/shm and /tmp. */
static void
socket_teardown(void)
{
	static const char *const whats[] = { "squat", "link", "tmpsq1",
	    "tmpsq2" };
	char	name[64], tmp[64], path[PATH_MAX];
	size_t	i;

	for (i = 0; i < nitems(whats); i++) {
		shm_name(name, sizeof(name), whats[i]);
		shm_tmp_name(tmp, sizeof(tmp), name);
		(void)shm_unlink(tmp);
		(void)shm_unlink(name);
	}
	snprintf(path, sizeof(path), "/tmp/warden-link-target-%ld",
	    (long)runner);
	(void)unlink(path);
}

static Suite *
roles_suite(void)
{
	Suite	*s = suite_create("roles");
	TCase	*tc = tcase_create("roles");
	TCase	*sock = tcase_create("socket");

	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_read_peer);
	tcase_add_test(tc, test_read_peer_refused_first);
	tcase_add_test(tc, test_operate_uid);
	tcase_add_test(tc, test_admin_uid);
	tcase_add_test(tc, test_operate_group);
	tcase_add_test(tc, test_admin_group);
	tcase_add_test(tc, test_root_everything);
	tcase_add_test(tc, test_reload_access);
	tcase_add_test(tc, test_groups_at_connect_time);
	suite_add_tcase(s, tc);

	tcase_set_timeout(sock, T_CASE);
	tcase_add_test(sock, test_socket_mode);
	tcase_add_test(sock, test_second_warden);
	tcase_add_test(sock, test_stale_socket);
	tcase_add_test(sock, test_socket_path_taken);
	tcase_add_test(sock, test_table_squatted);
	tcase_add_test(sock, test_table_symlink);
	tcase_add_test(sock, test_table_tmp_squatted_start);
	tcase_add_test(sock, test_table_tmp_squatted_repair);
	tcase_add_unchecked_fixture(sock, NULL, socket_teardown);
	suite_add_tcase(s, sock);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	runner = getpid();
	sr = srunner_create(roles_suite());

	srunner_set_fork_status(sr, CK_FORK_GETENV);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
