/*
 * spawn.c: fork and exec one worker (see spawn.h).
 *
 * The child is made with vfork(): it borrows warden's memory until it
 * execs, so no page tables are copied and warden's pages are not faulted
 * copy-on-write, and warden resumes only once exec has succeeded or the
 * child has written why it failed into the shared spawn_result. So the
 * outcome is known when spawn_worker returns, and "ready: none" workers
 * are ready then. Until exec the child calls only system call wrappers
 * and touches no heap: everything it needs is prepared before.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "spawn.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

static struct rlimit	spawn_nofile;	/* the limit warden started with */
static bool		spawn_have_nofile;
static pid_t		spawn_parent;	/* warden, whose death ends its workers */

/* The signals warden catches or ignores. */
static const int spawn_handled[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGPIPE };

/* Variables that speak to warden itself, never passed on to workers. */
static const char *const spawn_scrubbed[] = {
	"NOTIFY_SOCKET", "WATCHDOG_PID", "WATCHDOG_USEC", "LISTEN_FDS",
	"LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM", "WARDEN_SERVICE",
	"WARDEN_READY_FD", "WARDEN_TABLE", "WARDEN_TABLE_FD", "WARDEN_REPORT",
	/* a failure hook's (hooks.c): WARDEN_HOOK marks what it leaves */
	"WARDEN_HOOK", "WARDEN_EVENT", "WARDEN_REASON", "WARDEN_EXIT_CODE",
	"WARDEN_EXIT_SIGNAL", "WARDEN_RESTARTS", "WARDEN_STAGE_FROM",
	"WARDEN_STAGE_TO",
	/* an exec probe's (health-probe.c): the instance it probes */
	"WARDEN_PID",
};

void
spawn_init(void)
{
	spawn_have_nofile = getrlimit(RLIMIT_NOFILE, &spawn_nofile) == 0;
	spawn_parent = getpid();
}

static bool
spawn_env_key_is(const char *entry, const char *key)
{
	size_t	n = strlen(key);

	return strncmp(entry, key, n) == 0 && entry[n] == '=';
}

static bool
spawn_env_scrubbed(const char *entry)
{
	size_t	i;

	for (i = 0; i < nitems(spawn_scrubbed); i++)
		if (spawn_env_key_is(entry, spawn_scrubbed[i]))
			return true;
	return false;
}

/*
 * warden's own environment less what speaks to warden: the same for every
 * worker, so built once and shared by every worker's environment.
 */
static char	**spawn_base;
static size_t	  spawn_nbase;

static void
spawn_base_build(void)
{
	size_t	i, n = 0;

	if (spawn_base != NULL)
		return;
	for (i = 0; environ[i] != NULL; i++)
		n++;
	spawn_base = xcalloc(n + 1, sizeof(*spawn_base));
	for (i = 0; environ[i] != NULL; i++)
		if (!spawn_env_scrubbed(environ[i]))
			spawn_base[spawn_nbase++] = xstrdup(environ[i]);
}

void
spawn_free(void)
{
	size_t	i;

	for (i = 0; i < spawn_nbase; i++)
		free(spawn_base[i]);
	free(spawn_base);
	spawn_base = NULL;
	spawn_nbase = 0;
}

/* Does a KEY=value entry have the key of KEY=...? */
static bool
spawn_same_key(const char *entry, const char *other)
{
	size_t	klen = strcspn(other, "=");

	return strncmp(entry, other, klen) == 0 && entry[klen] == '=';
}

/* Set KEY=value among the worker's own (a later one replaces an earlier). */
static void
spawn_own_put(struct spawn_env *e, char *entry)
{
	size_t	i;

	for (i = 0; i < e->nown; i++) {
		if (spawn_same_key(e->own[i], entry)) {
			free(e->own[i]);
			e->own[i] = entry;
			return;
		}
	}
	e->own[e->nown++] = entry;
}

/* Room for the longest pid, written by the child (spawn_child_pid). */
#define SPAWN_PID_DIGITS	10

/* WATCHDOG_USEC and WATCHDOG_PID, as systemd passes them. */
static void
spawn_env_watchdog(struct spawn_env *e, int watchdog_ms)
{
	char	*s;

	xasprintf(&s, "WATCHDOG_USEC=%llu",
	    (unsigned long long)watchdog_ms * 1000);
	spawn_own_put(e, s);
	xasprintf(&s, "WATCHDOG_PID=%0*d", SPAWN_PID_DIGITS, 0);
	spawn_own_put(e, s);
	e->watchdog_pid = s + strlen("WATCHDOG_PID=");
}

struct spawn_env *
spawn_env(const struct spawn_args *a)
{
	const struct child_conf	*c = a->conf;
	struct spawn_env	*e = xcalloc(1, sizeof(*e));
	char			*s;
	bool			*used;
	size_t			 i, j, n = 0;

	spawn_base_build();
	e->own = xcalloc(c->nfile_env + c->nenv + 8, sizeof(*e->own));
	/* The env file's, then env over them, then warden's own over all. */
	for (i = 0; i < c->nfile_env; i++) {
		xasprintf(&s, "%s=%s", c->file_env[i].key, c->file_env[i].value);
		spawn_own_put(e, s);
	}
	for (i = 0; i < c->nenv; i++) {
		xasprintf(&s, "%s=%s", c->env[i].key, c->env[i].value);
		spawn_own_put(e, s);
	}
	xasprintf(&s, "WARDEN_SERVICE=%s", c->name);
	spawn_own_put(e, s);
	if (a->notify_socket != NULL) {
		xasprintf(&s, "NOTIFY_SOCKET=%s", a->notify_socket);
		spawn_own_put(e, s);
	}
	if (c->ready == READY_FD) {
		xasprintf(&s, "WARDEN_READY_FD=%d", SPAWN_READY_FD);
		spawn_own_put(e, s);
	}
	if (a->table_name != NULL) {
		xasprintf(&s, "WARDEN_TABLE=%s", a->table_name);
		spawn_own_put(e, s);
	}
	if (a->table_fd != -1) {
		xasprintf(&s, "WARDEN_TABLE_FD=%d", SPAWN_TABLE_FD);
		spawn_own_put(e, s);
	}
	if (a->report_addr != NULL) {
		xasprintf(&s, "WARDEN_REPORT=%s", a->report_addr);
		spawn_own_put(e, s);
	}
	if (c->watchdog_ms > 0)
		spawn_env_watchdog(e, c->watchdog_ms);
	/*
	 * The inherited ones in their order, each replaced by the worker's
	 * own of the same name; then the rest of its own.
	 */
	e->envp = xcalloc(spawn_nbase + e->nown + 1, sizeof(*e->envp));
	used = xcalloc(e->nown + 1, sizeof(*used));
	for (i = 0; i < spawn_nbase; i++) {
		for (j = 0; j < e->nown; j++)
			if (!used[j] && spawn_same_key(spawn_base[i], e->own[j]))
				break;
		if (j < e->nown) {
			used[j] = true;
			e->envp[n++] = e->own[j];
		} else
			e->envp[n++] = spawn_base[i];
	}
	for (j = 0; j < e->nown; j++)
		if (!used[j])
			e->envp[n++] = e->own[j];
	e->envp[n] = NULL;
	free(used);
	return e;
}

void
spawn_env_free(struct spawn_env *e)
{
	size_t	i;

	if (e == NULL)
		return;
	for (i = 0; i < e->nown; i++)
		free(e->own[i]);
	free(e->own);
	free(e->envp);
	free(e);
}

/* In the child: report why we could not exec (shared memory), and leave. */
static void __attribute__((noreturn))
spawn_child_fail(struct spawn_result *r, const char *stage)
{
	r->exec_errno = errno != 0 ? errno : EINVAL;
	strncpy(r->exec_stage, stage, sizeof(r->exec_stage) - 1);
	_exit(127);
}

/* In the child: mark every fd from `from` up close-on-exec. */
static void
spawn_child_cloexec_from(int from)
{
	int	fd, max = 65536;

	if (syscall(SYS_close_range, (unsigned)from, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	if (spawn_have_nofile && spawn_nofile.rlim_max != RLIM_INFINITY &&
	    spawn_nofile.rlim_max < (rlim_t)max)
		max = (int)spawn_nofile.rlim_max;
	for (fd = from; fd < max; fd++)
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/*
 * In the child: the service's rlimits, before the change of user (root
 * may raise a hard limit, the user may not). A limit refused fails the
 * start like a missing command: stage "rlimits.NAME".
 */
static void
spawn_child_limits(const struct child_conf *c, struct spawn_result *r)
{
	struct rlimit	rl;
	size_t		i;

	for (i = 0; i < c->nrlimits; i++) {
		rl.rlim_cur = c->rlimits[i].soft;
		rl.rlim_max = c->rlimits[i].hard;
		if (setrlimit(c->rlimits[i].resource, &rl) == -1) {
			/* The stage is "rlimits." and a name, copied, not formatted. */
			r->exec_errno = errno != 0 ? errno : EINVAL;
			memcpy(r->exec_stage, "rlimits.", 8);
			strncpy(r->exec_stage + 8, c->rlimits[i].name,
			    sizeof(r->exec_stage) - 9);
			_exit(127);
		}
	}
}

/* In the child: its pid in decimal over digits, async-signal-safe. */
static void
spawn_child_pid(char *digits)
{
	unsigned long	pid = (unsigned long)getpid();
	char		tmp[SPAWN_PID_DIGITS];
	size_t		n = 0;

	do
		tmp[n++] = (char)('0' + pid % 10);
	while ((pid /= 10) != 0 && n < sizeof(tmp));
	for (size_t i = 0; i < n; i++)
		digits[i] = tmp[n - 1 - i];
	digits[n] = '\0';
}

static void __attribute__((noreturn))
spawn_child(const struct spawn_args *a, const struct spawn_env *e,
    struct spawn_result *r, int out_w, int err_w, int ready_w)
{
	char			**env = e->envp;
	const struct child_conf	*c = a->conf;
	sigset_t		 none;
	int			 devnull, table_fd = a->table_fd;

	/*
	 * Leave warden's signal handling and mask behind. Every signal is
	 * blocked until here, so none of warden's handlers can run in the
	 * child; the ones warden catches go back to their defaults before
	 * the mask opens (exec would reset them, but only at exec), and
	 * SIGPIPE, which warden ignores, would stay ignored across exec.
	 * warden reset every other disposition it inherited at its start
	 * (warden.c), so the worker gets all of them at their defaults and
	 * an empty mask.
	 */
	for (size_t i = 0; i < nitems(spawn_handled); i++)
		(void)signal(spawn_handled[i], SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (setpgid(0, 0) == -1)
		spawn_child_fail(r, "setpgid");

	/* Move the fds we keep out of the way of 0..4 before placing them. */
	if (a->stdin_fd > 0)
		devnull = a->stdin_fd;	/* dup'd to 0 below as /dev/null would be */
	else if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		spawn_child_fail(r, "/dev/null");
	if ((devnull = fcntl(devnull, F_DUPFD_CLOEXEC, 10)) == -1 ||
	    (out_w = fcntl(out_w, F_DUPFD_CLOEXEC, 10)) == -1 ||
	    (err_w = fcntl(err_w, F_DUPFD_CLOEXEC, 10)) == -1 ||
	    (ready_w != -1 && (ready_w = fcntl(ready_w, F_DUPFD_CLOEXEC, 10)) == -1) ||
	    (table_fd != -1 && (table_fd = fcntl(table_fd, F_DUPFD_CLOEXEC, 10)) == -1))
		spawn_child_fail(r, "fcntl");
	if (dup2(devnull, 0) == -1 || dup2(out_w, 1) == -1 || dup2(err_w, 2) == -1)
		spawn_child_fail(r, "dup2");
	/*
	 * Nothing else of warden's crosses exec: every fd from 3 up is marked
	 * close-on-exec before the readiness and table fds are placed (dup2
	 * leaves the copies open across exec), so a 3 or 4 the worker does not
	 * get is never whatever warden happened to hold there.
	 */
	spawn_child_cloexec_from(3);
	if (ready_w != -1 && dup2(ready_w, SPAWN_READY_FD) == -1)
		spawn_child_fail(r, "dup2");
	if (table_fd != -1 && dup2(table_fd, SPAWN_TABLE_FD) == -1)
		spawn_child_fail(r, "dup2");

	if (spawn_have_nofile)
		(void)setrlimit(RLIMIT_NOFILE, &spawn_nofile);
	spawn_child_limits(c, r);
	if (c->umask != -1)
		(void)umask((mode_t)c->umask);
	if (c->cwd != NULL && chdir(c->cwd) == -1)
		spawn_child_fail(r, "chdir");
	if (c->has_gid || c->has_uid) {
		if (c->has_uid && setgroups(0, NULL) == -1 && geteuid() == 0)
			spawn_child_fail(r, "setgroups");
		if (c->has_gid && setgid(c->gid) == -1)
			spawn_child_fail(r, "setgid");
		if (c->has_uid && setuid(c->uid) == -1)
			spawn_child_fail(r, "setuid");
	}
	/*
	 * The worker ends with warden (SIGKILL when warden's thread dies, as
	 * by SIGKILL or a crash). Set after the change of user, which clears
	 * it; and if warden died before this point, the child was already
	 * handed to another parent: it must not run unattended.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1)
		spawn_child_fail(r, "prctl");
	if (spawn_parent != 0 && getppid() != spawn_parent) {
		errno = ESRCH;
		spawn_child_fail(r, "getppid");
	}
	if (e->watchdog_pid != NULL)
		spawn_child_pid(e->watchdog_pid);
	if (strchr(c->argv[0], '/') != NULL)
		execve(c->argv[0], c->argv, env);
	else
		execvpe(c->argv[0], c->argv, env);
	spawn_child_fail(r, "exec");
}

int
spawn_worker(const struct spawn_args *a, struct spawn_result *r)
{
	int	 out[2] = { -1, -1 }, err[2] = { -1, -1 }, ready[2] = { -1, -1 };
	/* Built here when the caller keeps none; volatile: it lives across vfork. */
	struct spawn_env *volatile built = NULL;
	sigset_t all, old;
	pid_t	 pid;
	int	 saved;

	memset(r, 0, sizeof(*r));
	r->pid = -1;
	r->out_fd = r->err_fd = r->ready_fd = -1;
	if (pipe2(out, O_CLOEXEC) == -1 || pipe2(err, O_CLOEXEC) == -1 ||
	    (a->conf->ready == READY_FD && pipe2(ready, O_CLOEXEC) == -1))
		goto fail;
	if (a->env == NULL)
		built = spawn_env(a);
	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, &old) == -1)
		fatal("sigprocmask");
	pid = vfork();
	if (pid == 0)
		spawn_child(a, built != NULL ? built : a->env, r, out[1],
		    err[1], ready[1]);
	saved = errno;
	if (sigprocmask(SIG_SETMASK, &old, NULL) == -1)
		fatal("sigprocmask");
	spawn_env_free(built);
	if (pid == -1) {
		errno = saved;
		goto fail;
	}
	close(out[1]);
	close(err[1]);
	if (ready[1] != -1)
		close(ready[1]);
	(void)util_set_nonblock(out[0], true);
	(void)util_set_nonblock(err[0], true);
	if (ready[0] != -1)
		(void)util_set_nonblock(ready[0], true);
	r->pid = pid;
	r->out_fd = out[0];
	r->err_fd = err[0];
	r->ready_fd = ready[0];
	return 0;

fail:
	saved = errno;
	for (int i = 0; i < 2; i++) {
		if (out[i] != -1)
			close(out[i]);
		if (err[i] != -1)
			close(err[i]);
		if (ready[i] != -1)
			close(ready[i]);
	}
	errno = saved;
	return -1;
}
