/*
 * strays.c: what a worker forked that left its process group (see strays.h).
 *
 * Strays are found two ways. While a worker lives, its descendants are
 * walked from it through /proc/PID/task/TID/children when it is stopped.
 * Once their parent is gone they are warden's children: after a worker's
 * exit or stop, one look at warden's own children list finds those that
 * are not workers. Whose such a stray is comes from the WARDEN_SERVICE its
 * environment inherited; one with none, or whose service is not running
 * or has started again since the stray was born, is stopped at once. One
 * that belongs to the running instance (a daemon the worker double-forked)
 * is kept, and stopped when that instance stops or ends.
 *
 * Each stray held is watched through a pidfd (readable once it exits), so
 * warden knows when it is gone also when another process reaps it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "procinfo.h"
#include "strays.h"
#include "tree.h"
#include "util.h"

#define STRAYS_GROUPS	64	/* groups just SIGKILLed, remembered for one look */
#define STRAYS_WALK_MAX	4096	/* processes looked at in one walk */
#define STRAYS_ENV_MAX	65536	/* bytes of an environment read */
#define STRAYS_GRACE	5000	/* ms, for a stray whose service is unknown */

struct stray {
	pid_t			 pid;
	unsigned long long	 start;		/* /proc/PID/stat field 22 */
	char			*service;	/* NULL: whose it is is unknown */
	int			 pidfd;		/* -1: none (an old kernel) */
	struct event		*ev;		/* pidfd readable: it exited */
	bool			 stopping;
	bool			 killed;
	int			 sig;
	uint64_t		 kill_at;	/* 0: no SIGKILL planned */
};

static struct event_base	*base;
static bool			(*is_worker_cb)(pid_t);
static void			(*on_empty_cb)(void);
static struct stray		**strays;
static size_t			 nstrays, strays_cap;
static struct event		*ev_timer;	/* the next SIGKILL due */
static struct event		*ev_look;	/* a look at warden's children */
static pid_t			 groups[STRAYS_GROUPS];
static size_t			 ngroups;
static char			**ended;	/* services whose instance ended since the last look */
static size_t			 nended, ended_cap;
static bool			 shutting_down;
static size_t			 walked;
static int			 children_fd = -1;	/* warden's own children list */

static void	strays_look_cb(evutil_socket_t, short, void *);
static void	strays_timer_cb(evutil_socket_t, short, void *);

void
strays_init(struct event_base *b, bool (*is_worker)(pid_t),
    void (*on_empty)(void))
{
	base = b;
	is_worker_cb = is_worker;
	on_empty_cb = on_empty;
	char	path[64];

	ev_timer = evtimer_new(base, strays_timer_cb, NULL);
	ev_look = event_new(base, -1, 0, strays_look_cb, NULL);
	if (ev_timer == NULL || ev_look == NULL)
		fatalx("cannot create the strays' events");
	/*
	 * Kept open and read again from 0 at each look: an open of a /proc
	 * path costs four times the read, on every worker's exit.
	 */
	snprintf(path, sizeof(path), "/proc/self/task/%ld/children",
	    (long)getpid());
	if ((children_fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		log_warn("%s: strays are found only from stopping workers",
		    path);
}

/*
 * The WARDEN_SERVICE in pid's environment (malloc'd), or NULL; NULL too
 * for what a failure hook left (WARDEN_HOOK): it is no service's, and
 * goes at once.
 */
static char *
proc_service(pid_t pid)
{
	static const char	 key[] = "WARDEN_SERVICE=";
	static const char	 hook[] = "WARDEN_HOOK=";
	bool			 is_hook = false;
	char			 path[64], *buf, *p, *end, *s = NULL;
	size_t			 len = 0;
	ssize_t			 n;
	int			 fd;

	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	buf = xmalloc(STRAYS_ENV_MAX + 1);
	while (len < STRAYS_ENV_MAX) {
		n = read(fd, buf + len, STRAYS_ENV_MAX - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	for (p = buf; p < buf + len; p = end + 1) {
		end = p + strlen(p);
		if (strncmp(p, key, sizeof(key) - 1) == 0 &&
		    p[sizeof(key) - 1] != '\0' && s == NULL)
			s = xstrdup(p + sizeof(key) - 1);
		if (strncmp(p, hook, sizeof(hook) - 1) == 0)
			is_hook = true;
	}
	free(buf);
	if (is_hook) {
		free(s);
		s = NULL;
	}
	return s;
}

/*
 * Signal s only if it is still the process warden saw: the same start
 * time, not a zombie. Through its pidfd, the check and the signal cannot
 * be split by a reuse of the pid.
 */
static int
stray_signal(struct stray *s, int sig)
{
	struct proc_info	pi;

	if (proc_info(s->pid, &pi) == -1 || pi.start != s->start ||
	    pi.state == 'Z') {
		errno = ESRCH;
		return -1;
	}
	if (s->pidfd != -1)
		return proc_pidfd_signal(s->pidfd, sig);
	return kill(s->pid, sig);
}

static struct stray *
stray_find(pid_t pid)
{
	size_t	i;

	for (i = 0; i < nstrays; i++)
		if (strays[i]->pid == pid)
			return strays[i];
	return NULL;
}

static void
stray_free(struct stray *s)
{
	if (s->ev != NULL)
		event_free(s->ev);
	if (s->pidfd != -1)
		close(s->pidfd);
	free(s->service);
	free(s);
}

static void
stray_remove(struct stray *s)
{
	size_t	i;

	for (i = 0; i < nstrays; i++) {
		if (strays[i] == s) {
			strays[i] = strays[--nstrays];
			break;
		}
	}
	stray_free(s);
	if (nstrays == 0 && on_empty_cb != NULL)
		on_empty_cb();
}

static void
stray_gone_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stray_remove(arg);
}

/*
 * Hold pid (whose start time is pi's) as a stray of service. Without a
 * pidfd only warden's own children are held (their reaping says they are
 * gone); NULL then for another's.
 */
static struct stray *
stray_add(pid_t pid, const struct proc_info *pi, const char *service,
    bool child)
{
	struct stray		*s;
	struct proc_info	 again;
	int			 fd;

	if ((fd = proc_pidfd_open(pid)) == -1 && !child)
		return NULL;
	/* The pidfd is of the process seen only if it has the same start. */
	if (fd != -1 && (proc_info(pid, &again) == -1 ||
	    again.start != pi->start)) {
		close(fd);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->pid = pid;
	s->start = pi->start;
	s->service = service != NULL ? xstrdup(service) : NULL;
	s->pidfd = fd;
	if (fd != -1) {
		s->ev = event_new(base, fd, EV_READ, stray_gone_cb, s);
		if (s->ev == NULL || event_add(s->ev, NULL) == -1)
			fatalx("cannot watch pid %ld", (long)pid);
	}
	if (nstrays == strays_cap) {
		strays_cap = strays_cap ? strays_cap * 2 : 16;
		strays = xreallocarray(strays, strays_cap, sizeof(*strays));
	}
	strays[nstrays++] = s;
	return s;
}

static void
strays_arm(void)
{
	struct timeval	tv;
	uint64_t	now = util_now_ms(), next = 0, ms;
	size_t		i;

	for (i = 0; i < nstrays; i++)
		if (strays[i]->kill_at != 0 && !strays[i]->killed &&
		    (next == 0 || strays[i]->kill_at < next))
			next = strays[i]->kill_at;
	evtimer_del(ev_timer);
	if (next == 0)
		return;
	ms = next > now ? next - now : 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	if (evtimer_add(ev_timer, &tv) == -1)
		fatalx("cannot arm the strays' timer");
}

static void
stray_stop(struct stray *s, int sig, int grace_ms)
{
	if (s->killed || (s->stopping && sig != SIGKILL))
		return;
	log_info("%s: stopping pid %ld, which left its process group, with "
	    "SIG%s", s->service != NULL ? s->service : "warden", (long)s->pid,
	    util_signal_name(sig));
	s->stopping = true;
	s->sig = sig;
	if (stray_signal(s, sig) == -1 && errno != ESRCH)
		log_warn("kill pid %ld", (long)s->pid);
	if (sig == SIGKILL) {
		s->killed = true;
		return;
	}
	if (sig != SIGCONT)
		(void)stray_signal(s, SIGCONT);
	if (grace_ms >= 0) {
		s->kill_at = util_now_ms() + (uint64_t)grace_ms;
		strays_arm();
	}
}

static void
strays_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t	 now = util_now_ms();
	struct stray	*s;
	size_t		 i;

	(void)fd;
	(void)what;
	(void)arg;
	for (i = 0; i < nstrays; i++) {
		s = strays[i];
		if (s->kill_at == 0 || s->killed || s->kill_at > now)
			continue;
		log_warnx("%s: pid %ld still running after SIG%s, killing it",
		    s->service != NULL ? s->service : "warden", (long)s->pid,
		    util_signal_name(s->sig));
		s->killed = true;
		(void)stray_signal(s, SIGKILL);
	}
	strays_arm();
}

/* How a service's instance is stopped: its signal, and the grace before SIGKILL. */
static void
service_stop_how(const struct node *n, int *sig, int *grace_ms)
{
	*sig = SIGTERM;
	*grace_ms = STRAYS_GRACE;
	if (n == NULL || n->is_sup)
		return;
	*sig = n->stop_signal;
	if (n->shutdown_ms == SHUTDOWN_BRUTAL_KILL)
		*sig = SIGKILL;
	*grace_ms = n->shutdown_ms == SHUTDOWN_INFINITY ? -1 :
	    n->shutdown_ms < 0 ? 0 : n->shutdown_ms;
}

static bool
service_ended(const char *service)
{
	size_t	i;

	for (i = 0; i < nended; i++)
		if (strcmp(ended[i], service) == 0)
			return true;
	return false;
}

static void
ended_clear(void)
{
	size_t	i;

	for (i = 0; i < nended; i++)
		free(ended[i]);
	nended = 0;
}

/*
 * A child of warden that is no worker: whose is it, and does it live on
 * with a running instance of its service or go now?
 */
static void
strays_adopt(pid_t pid, const struct proc_info *pi)
{
	struct proc_info	 wi;
	struct stray		*s;
	struct node		*n;
	char			*service;
	int			 sig, grace;

	service = proc_service(pid);
	n = service != NULL ? tree_find(service) : NULL;
	if (n != NULL && n->is_sup)
		n = NULL;
	if ((s = stray_add(pid, pi, service, true)) == NULL) {
		free(service);
		return;
	}
	/*
	 * A stray of a service whose instance just ended is that instance's,
	 * even when the next one started in the same clock tick; otherwise
	 * one born after the running instance started is kept with it.
	 */
	if (!shutting_down && n != NULL && n->pid > 0 && !service_ended(service) &&
	    (n->state == SVC_STARTING || n->state == SVC_RUNNING) &&
	    proc_info(n->pid, &wi) == 0 && wi.start <= pi->start) {
		log_debug("%s: pid %ld left its process group; it stops with "
		    "the service", service, (long)pid);
		free(service);
		return;
	}
	service_stop_how(n, &sig, &grace);
	stray_stop(s, sig, grace);
	free(service);
}

static bool
group_dying(pid_t pgrp)
{
	size_t	i;

	for (i = 0; i < ngroups; i++)
		if (groups[i] == pgrp)
			return true;
	return false;
}

/* One look at warden's children: the ones that are not workers are strays. */
static void
strays_look_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc_info	 pi;
	char			 buf[8192], *p, *end;
	size_t			 len = 0, keep;
	off_t			 off = 0;
	ssize_t			 n;
	long			 v;

	(void)fd;
	(void)what;
	(void)arg;
	/* Space-separated pids; read in pieces, a pid cut at the end carried over. */
	for (;;) {
		if (children_fd == -1)
			break;
		n = pread(children_fd, buf + len, sizeof(buf) - 1 - len, off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += n;
		len += (size_t)n;
		buf[len] = '\0';
		p = buf;
		for (;;) {
			while (*p == ' ' || *p == '\n')
				p++;
			if (*p == '\0')
				break;
			errno = 0;
			v = strtol(p, &end, 10);
			/* Each pid ends with a space: one without may be cut. */
			if (*end == '\0')
				break;
			p = end;
			if (errno != 0 || v <= 0 || is_worker_cb((pid_t)v) ||
			    stray_find((pid_t)v) != NULL ||
			    proc_info((pid_t)v, &pi) == -1 || pi.state == 'Z' ||
			    group_dying(pi.pgrp))
				continue;
			strays_adopt((pid_t)v, &pi);
		}
		keep = len - (size_t)(p - buf);
		memmove(buf, p, keep);
		len = keep;
	}
	ngroups = 0;
	ended_clear();
}

static void
strays_look_soon(void)
{
	event_active(ev_look, EV_TIMEOUT, 0);
}

void
strays_look(void)
{
	strays_look_soon();
}

/* The descendants of pid, the ones outside leader's group held and stopped. */
static void
strays_walk(const char *service, pid_t leader, pid_t pid, int sig,
    int grace_ms, int depth)
{
	struct proc_info	 pi;
	struct stray		*s;
	struct dirent		*de;
	DIR			*d;
	char			 path[96], buf[4096], *p, *end;
	ssize_t			 n;
	long			 v;
	int			 fd;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	if (depth > 64 || (d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
		    (long)pid, strtol(de->d_name, NULL, 10));
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		for (p = buf; walked < STRAYS_WALK_MAX; p = end) {
			errno = 0;
			v = strtol(p, &end, 10);
			if (end == p || errno != 0 || v <= 0)
				break;
			walked++;
			if (proc_info((pid_t)v, &pi) == -1 || pi.state == 'Z')
				continue;
			if (pi.pgrp != leader && (s = stray_find((pid_t)v)) ==
			    NULL && (s = stray_add((pid_t)v, &pi, service,
			    false)) != NULL)
				stray_stop(s, sig, grace_ms);
			strays_walk(service, leader, (pid_t)v, sig, grace_ms,
			    depth + 1);
		}
	}
	closedir(d);
}

/* The strays held for service go, as its instance does. */
static void
strays_stop_held(const char *service, int sig, int grace_ms)
{
	size_t	i;

	for (i = 0; i < nstrays; i++)
		if (strays[i]->service != NULL &&
		    strcmp(strays[i]->service, service) == 0)
			stray_stop(strays[i], sig, grace_ms);
}

void
strays_stop(const char *service, pid_t leader, int sig, int grace_ms)
{
	if (leader > 0) {
		walked = 0;
		strays_walk(service, leader, leader, sig, grace_ms, 0);
	}
	strays_stop_held(service, sig, grace_ms);
	strays_look_soon();
}

void
strays_ended(const char *service, pid_t pgid, int sig, int grace_ms)
{
	if (ngroups < nitems(groups))
		groups[ngroups++] = pgid;
	if (nended == ended_cap) {
		ended_cap = ended_cap ? ended_cap * 2 : 16;
		ended = xreallocarray(ended, ended_cap, sizeof(*ended));
	}
	ended[nended++] = xstrdup(service);
	strays_stop_held(service, sig, grace_ms);
	strays_look_soon();
}

void
strays_reaped(pid_t pid)
{
	struct stray	*s;

	if ((s = stray_find(pid)) != NULL)
		stray_remove(s);
}

void
strays_shutdown(void)
{
	size_t	i;

	shutting_down = true;
	/* Unknown strays were stopped when found; held ones go with their service. */
	for (i = 0; i < nstrays; i++)
		if (strays[i]->service == NULL)
			stray_stop(strays[i], SIGTERM, STRAYS_GRACE);
	strays_look_soon();
}

size_t
strays_pending(void)
{
	return nstrays;
}

void
strays_kill_children(void)
{
	char	path[64], buf[4096], *p, *end;
	ssize_t	n;
	long	v;
	int	fd;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/children",
	    (long)getpid());
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* warden's children: their pids cannot be reused before it reaps them. */
	for (p = buf;; p = end) {
		v = strtol(p, &end, 10);
		if (end == p || v <= 0)
			break;
		(void)kill((pid_t)v, SIGKILL);
	}
}

void
strays_free(void)
{
	size_t	i;

	for (i = 0; i < nstrays; i++)
		stray_free(strays[i]);
	free(strays);
	strays = NULL;
	nstrays = strays_cap = 0;
	ended_clear();
	free(ended);
	ended = NULL;
	ended_cap = 0;
	if (ev_timer != NULL)
		event_free(ev_timer);
	if (ev_look != NULL)
		event_free(ev_look);
	ev_timer = ev_look = NULL;
	on_empty_cb = NULL;
	if (children_fd != -1)
		close(children_fd);
	children_fd = -1;
}
