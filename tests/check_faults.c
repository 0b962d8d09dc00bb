/*
 * check_faults.c: warden under resource faults, with the real daemon (SPEC
 * 9: "warden never crashes"): fork failing (a pids cgroup) and running
 * out of file descriptors (a lowered RLIMIT_NOFILE). Output floods and a
 * long run of requests are check_faults_flood's; shutdown and pid reuse
 * check_faults_procs'.
 *
 * Faults that need root (cgroups, prlimit on another process) are
 * skipped with a message when they cannot be arranged.
 *
 * JSON in the tests is written with ' for "; dq() turns it into JSON.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "util.h"
#include "faultstest.h"
#include "suite.h"

/* --- 1. fork fails ------------------------------------------------------------ */

/* A pids cgroup of our own (v2, else v1), and where warden came from. */
struct pidcg {
	char	*dir;		/* the new cgroup, NULL when none */
	char	*back;		/* cgroup.procs of warden's own one */
};

/* warden's cgroup in this hierarchy: the path after key in /proc/PID/cgroup. */
static char *
pidcg_current(pid_t pid, const char *key)
{
	char	 path[64], *s, *p, *e, *found = NULL;

	snprintf(path, sizeof(path), "/proc/%ld/cgroup", (long)pid);
	if ((s = harness_read_file(path)) == NULL)
		return NULL;
	for (p = s; found == NULL && p != NULL && *p != '\0'; p = e) {
		if ((e = strchr(p, '\n')) != NULL)
			*e++ = '\0';
		if ((p = strstr(p, key)) != NULL)
			found = xstrdup(p + strlen(key));
	}
	free(s);
	return found;
}

/* Write text to the file name of cg. */
static int
pidcg_write(struct pidcg *cg, const char *name, const char *text)
{
	char	*path;
	int	 rv;

	xasprintf(&path, "%s/%s", cg->dir, name);
	rv = write_text(path, text);
	free(path);
	return rv;
}

/*
 * Make a cgroup where warden can fork nothing more and move warden into
 * it. false (with a message) when this system does not let us.
 */
static bool
pidcg_enter(struct pidcg *cg, pid_t pid)
{
	const char	*base;
	char		 num[32], *s, *cur, *path;
	bool		 v2;

	cg->dir = cg->back = NULL;
	s = harness_read_file("/sys/fs/cgroup/cgroup.controllers");
	v2 = s != NULL && strstr(s, "pids") != NULL;
	free(s);
	if (v2) {
		base = "/sys/fs/cgroup";
		(void)write_text("/sys/fs/cgroup/cgroup.subtree_control", "+pids");
	} else if (access("/sys/fs/cgroup/pids/cgroup.procs", W_OK) == 0)
		base = "/sys/fs/cgroup/pids";
	else {
		fprintf(stderr, "check_faults: no pids cgroup controller; "
		    "fork failure not tested\n");
		return false;
	}
	if ((cur = pidcg_current(pid, v2 ? "0::" : ":pids:")) == NULL) {
		fprintf(stderr, "check_faults: warden's pids cgroup unknown; "
		    "fork failure not tested\n");
		return false;
	}
	xasprintf(&cg->back, "%s%s/cgroup.procs", base,
	    strcmp(cur, "/") == 0 ? "" : cur);
	free(cur);
	xasprintf(&cg->dir, "%s/warden-faults-%ld", base, (long)getpid());
	(void)rmdir(cg->dir);
	if (mkdir(cg->dir, 0755) == -1) {
		fprintf(stderr, "check_faults: mkdir %s: %s; fork failure not "
		    "tested\n", cg->dir, strerror(errno));
		goto fail;
	}
	snprintf(num, sizeof(num), "%ld", (long)pid);
	if (pidcg_write(cg, "cgroup.procs", num) == -1) {
		fprintf(stderr, "check_faults: cannot move warden to %s: %s; "
		    "fork failure not tested\n", cg->dir, strerror(errno));
		(void)rmdir(cg->dir);
		goto fail;
	}
	/* warden alone is in it: no room for one more process. */
	xasprintf(&path, "%s/pids.current", cg->dir);
	s = harness_read_file(path);
	ck_assert_msg(s != NULL && atoi(s) == 1, "%s: %s", path,
	    s != NULL ? s : strerror(errno));
	free(s);
	free(path);
	ck_assert_msg(pidcg_write(cg, "pids.max", "1") == 0, "pids.max: %s",
	    strerror(errno));
	return true;
fail:
	free(cg->dir);
	free(cg->back);
	cg->dir = cg->back = NULL;
	return false;
}

static void
pidcg_set_max(struct pidcg *cg, const char *max)
{
	ck_assert_msg(pidcg_write(cg, "pids.max", max) == 0, "pids.max: %s",
	    strerror(errno));
}

/* Move warden and what it forked meanwhile back, and remove the cgroup. */
static void
pidcg_leave(struct pidcg *cg)
{
	char	*path, *procs, *p, *e;

	xasprintf(&path, "%s/cgroup.procs", cg->dir);
	procs = harness_read_file(path);
	ck_assert_msg(procs != NULL, "%s: %s", path, strerror(errno));
	for (p = procs; *p != '\0'; p = e) {
		if ((e = strchr(p, '\n')) != NULL)
			*e++ = '\0';
		else
			e = p + strlen(p);
		if (*p != '\0')
			ck_assert_msg(write_text(cg->back, p) == 0 ||
			    errno == ESRCH, "%s: %s", cg->back, strerror(errno));
	}
	free(procs);
	free(path);
	ck_assert_msg(rmdir(cg->dir) == 0, "rmdir %s: %s", cg->dir,
	    strerror(errno));
	free(cg->dir);
	free(cg->back);
	cg->dir = cg->back = NULL;
}

/*
 * w's restarts cannot fork. That is warden's own want, not w's failure:
 * each start is retried with backoff, with the reason, and never counted
 * by grp's intensity (2 in 60 s), so grp stays up through more failed
 * forks than it allows restarts. warden goes on (keep untouched), says it
 * once in the log, and w is back by itself once forking works.
 */
START_TEST(test_fork_fails)
{
	struct harness		 h;
	struct harness_conn	*sub;
	struct pidcg		 cg;
	json_t			*ev, *r;
	pid_t			 keep, w0, w1;
	int			 fds0, fds1, backoffs = 0;
	const char		*type, *reason;
	char			*log;

	start(&h, "{ 'supervisor': { 'max_restarts': 50, 'max_seconds': 60,\n"
	    "  'children': [\n"
	    "    { 'name': 'keep', 'command': ['@WORKER@'] },\n"
	    "    { 'name': 'grp', 'restart': 'temporary', 'max_restarts': 2,\n"
	    "      'max_seconds': 60, 'children': [\n"
	    "        { 'name': 'w', 'command': ['@WORKER@'], 'backoff':\n"
	    "          { 'initial_ms': 20, 'max_ms': 20, 'jitter': 0 } } ] } ] } }");
	keep = pid_of(&h, "keep");
	w0 = pid_of(&h, "w");
	sub = harness_subscribe(&h, NULL);
	ck_assert_ptr_nonnull(sub);
	ft_ping_synced(&h);
	fds0 = ft_fd_count(h.pid, NULL);
	if (!pidcg_enter(&cg, h.pid)) {
		harness_conn_close(sub);
		stop(&h);
		return;
	}
	harness_log_mark(&h);

	r = ft_conn_result(sub, "service.kill", "{'service': 'w'}");
	json_decref(r);
	/* More failed forks than grp allows restarts; none starts w. */
	while (backoffs < 4) {
		ev = harness_next_event(sub, FT_WAIT);
		ck_assert_msg(ev != NULL, "no more backoff after %d", backoffs);
		type = json_string_value(json_object_get(ev, "type"));
		ck_assert_msg(strcmp(type, "service.started") != 0 &&
		    strcmp(type, "service.ready") != 0, "started without fork: "
		    "%s", dump(ev));
		ck_assert_msg(strcmp(type, "supervisor.failed") != 0,
		    "charged to a supervisor: %s", dump(ev));
		reason = json_string_value(json_object_get(ev, "reason"));
		if (strcmp(type, "service.backoff") == 0 && reason != NULL) {
			ck_assert_msg(strncmp(reason, "warden: cannot start: ",
			    22) == 0, "%s", dump(ev));
			backoffs++;
		}
		json_decref(ev);
	}
	ck_assert_int_eq(harness_wait_log(&h, "w: cannot start", FT_WAIT), 0);
	log = harness_log(&h);
	/* Said once for the whole episode. */
	ck_assert_msg(count_of(log + h.log_mark, "w: cannot start") == 1,
	    "%d failed starts logged:\n%s", count_of(log + h.log_mark,
	    "w: cannot start"), log + h.log_mark);
	free(log);

	/* warden itself carries on, with nothing else disturbed. */
	ck_assert(harness_pid_alive(h.pid));
	ft_conn_ping(sub);
	r = ft_conn_result(sub, "status", "{'service': 'grp'}");
	ck_assert_msg(strcmp(json_string_value(json_object_get(json_array_get(
	    json_object_get(r, "supervisors"), 0), "state")), "running") == 0,
	    "grp: %s", dump(r));
	json_decref(r);
	r = ft_conn_result(sub, "status", "{'service': 'w'}");
	ck_assert_msg(strncmp(json_string_value(json_object_get(json_array_get(
	    json_object_get(r, "services"), 0), "reason")),
	    "warden: cannot start: ", 22) == 0, "w: %s", dump(r));
	json_decref(r);
	r = ft_conn_result(sub, "status", "{'service': 'keep'}");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(
	    json_object_get(r, "services"), 0), "pid")), keep);
	json_decref(r);

	/* Forks work again: w comes back by itself. */
	pidcg_set_max(&cg, "max");
	wait_state(&h, "w", "running");
	w1 = pid_of(&h, "w");
	ck_assert_int_ne(w1, w0);
	ck_assert_int_eq(harness_wait_recovered(&h, FT_WAIT), 0);
	ck_assert_int_eq(pid_of(&h, "keep"), keep);
	pidcg_leave(&cg);

	/* The failed forks left no fd behind (pipes made before fork). */
	ft_ping_synced(&h);
	fds1 = ft_fd_count(h.pid, NULL);
	ck_assert_msg(fds1 == fds0, "warden had %d fds, now %d", fds0, fds1);
	harness_conn_close(sub);
	stop(&h);
}
END_TEST

/* --- 2. out of file descriptors --------------------------------------------- */

START_TEST(test_fd_exhaustion)
{
	struct harness		 h;
	struct harness_conn	*sub, **cs;
	struct rlimit		 rl, old;
	json_t			*r;
	pid_t			 a0;
	int			 n, maxfd, room, total, i;
	char			*s;

	start(&h, "{ 'supervisor': { 'max_restarts': 100, 'max_seconds': 60,\n"
	    "  'children': [\n"
	    "    { 'name': 'a', 'command': ['@WORKER@'], 'backoff':\n"
	    "      { 'initial_ms': 10, 'max_ms': 50, 'jitter': 0 } } ] } }");
	a0 = pid_of(&h, "a");
	sub = harness_subscribe(&h, NULL);
	ck_assert_ptr_nonnull(sub);
	ft_ping_synced(&h);
	n = ft_fd_count(h.pid, &maxfd);
	/*
	 * Room for a few more: free numbers below the limit, enough for a
	 * start once the clients are gone (two pipes, then the child's own
	 * copies of what it keeps: nine in all).
	 */
	rl.rlim_cur = rl.rlim_max = (rlim_t)maxfd + 1 + 10;
	room = (int)rl.rlim_cur - n;
	if (prlimit(h.pid, RLIMIT_NOFILE, &rl, &old) == -1) {
		fprintf(stderr, "check_faults: prlimit: %s; fd exhaustion not "
		    "tested\n", strerror(errno));
		harness_conn_close(sub);
		stop(&h);
		return;
	}
	harness_log_mark(&h);

	/* room clients fit, three more wait in the backlog. */
	total = room + 3;
	cs = xcalloc((size_t)total, sizeof(*cs));
	for (i = 0; i < total; i++) {
		cs[i] = harness_conn_open(&h);
		ck_assert_msg(cs[i] != NULL, "connect %d", i);
	}
	ck_assert_int_eq(harness_wait_log(&h, "accept: Too many open files; "
	    "pausing new clients", FT_WAIT), 0);

	/* Paused, not stuck: the clients it has are served. */
	ck_assert(harness_pid_alive(h.pid));
	ft_conn_ping(sub);
	ft_conn_ping(cs[0]);
	/*
	 * A restart needs fds too: a's exit frees two (its output pipes),
	 * new pipes take four. The start fails, is retried after its
	 * backoff, and warden stays up.
	 */
	r = ft_conn_result(sub, "service.kill", "{'service': 'a'}");
	s = dump(r);
	ck_assert_msg(json_array_size(json_object_get(r, "killed")) == 1,
	    "kill: %s", s);
	free(s);
	json_decref(r);
	json_decref(wait_event(sub, "service.exited", "a"));
	ck_assert_int_eq(harness_wait_log(&h, "a: cannot start: Too many open "
	    "files", FT_WAIT), 0);
	json_decref(wait_event(sub, "service.backoff", "a"));
	ft_conn_ping(sub);
	ck_assert(harness_pid_alive(h.pid));

	/* The clients leave: the waiting ones are taken in and served. */
	for (i = 0; i < total - 3; i++)
		ft_close_synced(cs[i]);
	for (i = total - 3; i < total; i++) {
		ft_conn_ping(cs[i]);
		ft_close_synced(cs[i]);
	}
	free(cs);
	wait_state(&h, "a", "running");
	ck_assert_int_ne(pid_of(&h, "a"), a0);
	ck_assert_int_eq(harness_wait_recovered(&h, FT_WAIT), 0);
	ck_assert(harness_pid_alive(h.pid));
	/* Back where it was: every client's fd and the failed starts' freed. */
	ft_ping_synced(&h);
	ck_assert_int_eq(ft_fd_count(h.pid, NULL), n);
	harness_conn_close(sub);
	(void)prlimit(h.pid, RLIMIT_NOFILE, &old, NULL);
	stop(&h);
}
END_TEST

static Suite *
faults_suite(void)
{
	Suite	*s = suite_create("faults");
	TCase	*tc = tcase_create("faults");

	tcase_set_timeout(tc, FT_CASE);
	tcase_add_test(tc, test_fork_fails);
	tcase_add_test(tc, test_fd_exhaustion);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(faults_suite)
