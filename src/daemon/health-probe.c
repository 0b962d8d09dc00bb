/*
 * health-probe.c: one liveness probe, from the loop, never blocking it.
 *
 * exec: the command as a child of warden, as the worker runs (its user,
 * cwd, environment, limits, with WARDEN_PID the instance probed), in a
 * process group of its own, reaped by batch.c (tree_own_group: its group
 * goes with it). It passes when it exits 0 within timeout_ms; at the
 * deadline its group is SIGKILLed. Its output is read as it comes and
 * dropped but for the start of its first line, the failure's reason, so
 * a probe that floods its pipes neither blocks nor grows warden.
 *
 * tcp and http: a non-blocking connect through a bufferevent; tcp passes
 * once connected. http then sends "GET PATH HTTP/1.0" (Host, Connection:
 * close) and passes on a 2xx or 3xx status line; it reads the answer's
 * first HEALTH_HTTP_HEAD_MAX bytes at most.
 *
 * Either way the deadline is a timer of the probe's own, and an abandoned
 * probe (its instance gone) ends at once: its socket closed, its process
 * group killed (the probe's memory kept until batch.c reaps it).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "health.h"
#include "health-private.h"
#include "log.h"
#include "spawn.h"
#include "tree-private.h"
#include "util.h"

#define PROBE_READ_CHUNK	4096	/* an exec probe's output read per turn */

struct probe {
	struct health_run	*run;		/* NULL: abandoned */
	enum health_check	 check;
	int			 timeout_ms;
	struct event		*timer;
	bool			 timed_out;
	/* exec */
	pid_t			 pid;		/* > 0 until reaped */
	int			 exec_errno;
	char			 exec_stage[24];
	char			*argv0;
	int			 fd[2];		/* stdout, stderr; -1: closed */
	struct event		*ev[2];
	char			 line[HEALTH_WHY_MAX + 1];	/* its first line */
	size_t			 linelen;
	bool			 line_done;
	/* tcp, http */
	struct bufferevent	*bev;
	char			 head[HEALTH_HTTP_HEAD_MAX];
	size_t			 headlen;
};

/* Exec probes not reaped yet, abandoned ones too: batch.c holds their slots. */
static struct probe	*execs[HEALTH_EXEC_MAX];
static unsigned		 nexecs;
static unsigned		 nnet;		/* tcp and http probes in flight */

unsigned
probe_exec_running(void)
{
	return nexecs;
}

unsigned
probe_running(void)
{
	return nnet + nexecs;
}

/* A reason people and JSON can read: printable ASCII, the rest as '?'. */
static void
probe_why(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
probe_why(char *why, size_t len, const char *fmt, ...)
{
	va_list	ap;
	char	*p;

	va_start(ap, fmt);
	(void)vsnprintf(why, len, fmt, ap);
	va_end(ap);
	for (p = why; *p != '\0'; p++)
		if (*p < ' ' || *p >= 0x7f)
			*p = '?';
}

/*
 * A probe's connection ends with a reset, as load balancers' checks do:
 * no FIN exchanged, no TIME_WAIT left behind for each probe (a thousand
 * a second would hold tens of thousands of them, and ports with them),
 * about half of what a connection costs the kernel.
 */
static void
probe_abort_close(evutil_socket_t fd)
{
	struct linger	l = { 1, 0 };

	if (fd >= 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

/* The fds, events and timer of p gone; p itself not freed. */
static void
probe_close(struct probe *p)
{
	int	i;

	for (i = 0; i < 2; i++)
		pipes_unwatch(&p->ev[i], &p->fd[i]);
	if (p->bev != NULL) {
		probe_abort_close(bufferevent_getfd(p->bev));
		bufferevent_free(p->bev);
	}
	p->bev = NULL;
	if (p->timer != NULL)
		event_free(p->timer);
	p->timer = NULL;
}

static void
probe_free(struct probe *p)
{
	probe_close(p);
	free(p->argv0);
	free(p);
}

/* p ended: its run told, after p is gone (the run may stop its worker). */
static void
probe_end(struct probe *p, bool ok, const char *why)
{
	struct health_run	*r = p->run;

	if (r != NULL)
		r->probe = NULL;
	if (p->check != HEALTH_EXEC)
		nnet--;
	probe_free(p);
	if (r != NULL)
		health_probe_done(r, ok, why);
}

static void
probe_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe	*p = arg;
	char		 why[64];

	(void)fd;
	(void)what;
	p->timed_out = true;
	if (p->check == HEALTH_EXEC) {
		/* Its end is when it is reaped: the zombie keeps the group ours. */
		if (kill(-p->pid, SIGKILL) == -1 && errno != ESRCH)
			log_warn("probe of %s: kill", p->run != NULL ?
			    p->run->node->name : "?");
		return;
	}
	probe_why(why, sizeof(why), "timed out after %d ms", p->timeout_ms);
	probe_end(p, false, why);
}

static int
probe_arm(struct probe *p)
{
	struct timeval	tv;

	tv.tv_sec = p->timeout_ms / 1000;
	tv.tv_usec = (p->timeout_ms % 1000) * 1000;
	/* From now, not from the loop's cached time: never early. */
	(void)event_base_update_cache_time(health_base);
	if ((p->timer = evtimer_new(health_base, probe_timeout_cb, p)) == NULL ||
	    evtimer_add(p->timer, &tv) == -1)
		return -1;
	return 0;
}

/* --- exec ------------------------------------------------------------------------ */

/* Keep the start of the first line; the rest is read and dropped. */
static void
probe_out_bytes(struct probe *p, const char *buf, size_t n)
{
	size_t	i;

	for (i = 0; i < n && !p->line_done; i++) {
		if (buf[i] == '\n' || p->linelen == HEALTH_WHY_MAX) {
			p->line_done = p->linelen > 0 || buf[i] != '\n';
			continue;
		}
		p->line[p->linelen++] = buf[i];
	}
}

/* One chunk of stream i. false: at its end (or an error), closed. */
static bool
probe_out_read(struct probe *p, int i)
{
	char	buf[PROBE_READ_CHUNK];
	ssize_t	n;

	do
		n = read(p->fd[i], buf, sizeof(buf));
	while (n == -1 && errno == EINTR);
	if (n > 0) {
		probe_out_bytes(p, buf, (size_t)n);
		return true;
	}
	if (n == -1 && errno == EAGAIN)
		return false;
	pipes_unwatch(&p->ev[i], &p->fd[i]);
	return false;
}

static void
probe_out_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe	*p = arg;
	int		 i = p->fd[0] == fd ? 0 : 1;

	(void)what;
	(void)probe_out_read(p, i);
}

/* The outcome of an exec probe from its wait status. */
static bool
probe_exec_outcome(const struct probe *p, int status, char *why, size_t len)
{
	const char	*sep = p->linelen > 0 ? ": " : "";

	if (p->exec_errno != 0)
		probe_why(why, len, "cannot run %s: %s%s%s", p->argv0,
		    strcmp(p->exec_stage, "exec") != 0 ? p->exec_stage : "",
		    strcmp(p->exec_stage, "exec") != 0 ? ": " : "",
		    strerror(p->exec_errno));
	else if (p->timed_out)
		probe_why(why, len, "timed out after %d ms", p->timeout_ms);
	else if (WIFSIGNALED(status))
		probe_why(why, len, "killed by SIG%s%s%.*s",
		    util_signal_name(WTERMSIG(status)), sep, (int)p->linelen,
		    p->line);
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		probe_why(why, len, "exit %d%s%.*s", WEXITSTATUS(status), sep,
		    (int)p->linelen, p->line);
	else
		return true;
	return false;
}

static void
probe_reaped(pid_t pid, int status, void *arg)
{
	struct probe	*p = arg;
	char		 why[HEALTH_WHY_MAX + 64];
	unsigned	 i, k;
	bool		 ok;

	(void)pid;
	p->pid = -1;
	for (i = 0; i < nexecs; i++)
		if (execs[i] == p)
			execs[i] = execs[--nexecs];
	if (p->run == NULL) {
		probe_free(p);
		health_kick();
		return;
	}
	/* What it wrote before it ended, for its reason: a bounded look. */
	for (i = 0; i < 2; i++)
		for (k = 0; k < 4 && p->fd[i] != -1 && !p->line_done; k++)
			if (!probe_out_read(p, (int)i))
				break;
	ok = probe_exec_outcome(p, status, why, sizeof(why));
	probe_end(p, ok, why);
}

/* The worker's settings with the probe's command and WARDEN_PID. */
static int
probe_exec_spawn(const struct node *n,
    const struct health_conf *hc, struct spawn_result *res)
{
	struct child_conf	 cc = *n->conf;
	struct spawn_args	 a;
	struct env_pair		*env;
	char			 pid[24];
	int			 rv;

	env = xcalloc(cc.nenv + 1, sizeof(*env));
	if (cc.nenv > 0)
		memcpy(env, cc.env, cc.nenv * sizeof(*env));
	snprintf(pid, sizeof(pid), "%ld", (long)n->pid);
	env[cc.nenv].key = (char *)"WARDEN_PID";
	env[cc.nenv].value = pid;
	cc.env = env;
	cc.nenv++;
	cc.argv = hc->argv;
	cc.argc = hc->argc;
	cc.ready = READY_NONE;
	memset(&a, 0, sizeof(a));
	a.conf = &cc;
	a.table_fd = -1;
	rv = spawn_worker(&a, res);
	free(env);
	return rv;
}

static int
probe_exec(struct probe *p, const struct node *n, const struct health_conf *hc,
    char *why, size_t len)
{
	struct spawn_result	res;
	int			i;

	if (nexecs == HEALTH_EXEC_MAX) {
		probe_why(why, len, "not run: %d exec probes already running",
		    HEALTH_EXEC_MAX);
		return -1;
	}
	if (probe_exec_spawn(n, hc, &res) == -1) {
		probe_why(why, len, "cannot run %s: %s", hc->argv[0],
		    strerror(errno));
		return -1;
	}
	p->pid = res.pid;
	p->exec_errno = res.exec_errno;
	memcpy(p->exec_stage, res.exec_stage, sizeof(p->exec_stage));
	p->argv0 = xstrdup(hc->argv[0]);
	p->fd[0] = res.out_fd;
	p->fd[1] = res.err_fd;
	if (res.ready_fd != -1)
		close(res.ready_fd);
	execs[nexecs++] = p;
	tree_own_group(p->pid, probe_reaped, p);
	for (i = 0; i < 2; i++) {
		p->ev[i] = event_new(health_base, p->fd[i], EV_READ | EV_PERSIST,
		    probe_out_cb, p);
		if (p->ev[i] == NULL || event_add(p->ev[i], NULL) == -1)
			fatalx("cannot watch a probe's output");
	}
	return 0;
}

/* --- tcp and http ------------------------------------------------------------------- */

static void
probe_head_cb(struct bufferevent *bev, void *arg)
{
	struct probe	*p = arg;
	char		 why[64];
	int		 code, rv;

	p->headlen += bufferevent_read(bev, p->head + p->headlen,
	    sizeof(p->head) - p->headlen);
	if ((rv = health_http_status(p->head, p->headlen, &code)) == 0)
		return;
	if (rv == -1) {
		probe_end(p, false, "not an HTTP answer");
		return;
	}
	probe_why(why, sizeof(why), "HTTP %d", code);
	probe_end(p, code >= 200 && code < 400, why);
}

static void
probe_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct probe	*p = arg;
	char		 why[128];
	int		 err = EVUTIL_SOCKET_ERROR();

	(void)bev;
	if ((what & BEV_EVENT_CONNECTED) && p->check == HEALTH_TCP) {
		probe_end(p, true, "connected");
		return;
	}
	/* http: its request, queued before, goes now. */
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_EOF)
		probe_end(p, false, p->headlen > 0 ? "not an HTTP answer" :
		    "closed without an answer");
	else {
		probe_why(why, sizeof(why), "%s: %s", p->headlen > 0 ||
		    p->check == HEALTH_HTTP ? "connection" : "connect",
		    strerror(err));
		probe_end(p, false, why);
	}
}

/* The request, queued before the connect: sent once connected. */
static int
probe_request(struct probe *p, const struct health_conf *hc)
{
	bool	v6 = strchr(hc->host, ':') != NULL;

	if (evbuffer_add_printf(bufferevent_get_output(p->bev),
	    "GET %s HTTP/1.0\r\nHost: %s%s%s:%d\r\nConnection: close\r\n"
	    "User-Agent: warden\r\n\r\n", hc->path, v6 ? "[" : "", hc->host,
	    v6 ? "]" : "", hc->port) == -1 ||
	    bufferevent_enable(p->bev, EV_READ) == -1)
		return -1;
	return 0;
}

static int
probe_connect(struct probe *p, const struct health_conf *hc, char *why,
    size_t len)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t		 sslen;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, hc->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)hc->port);
		sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, hc->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)hc->port);
		sslen = sizeof(*sin6);
	} else
		fatalx("a probe's host is not an address: %s", hc->host);
	p->bev = bufferevent_socket_new(health_base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (p->bev == NULL) {
		probe_why(why, len, "cannot connect: %s", strerror(errno));
		return -1;
	}
	bufferevent_setcb(p->bev, p->check == HEALTH_HTTP ? probe_head_cb :
	    NULL, NULL, probe_event_cb, p);
	/* Never more than the status line's bytes held. */
	bufferevent_setwatermark(p->bev, EV_READ, 0, sizeof(p->head));
	if (p->check == HEALTH_HTTP && probe_request(p, hc) == -1) {
		probe_why(why, len, "cannot queue the request: out of memory");
		return -1;
	}
	if (bufferevent_socket_connect(p->bev, (struct sockaddr *)&ss,
	    (int)sslen) == -1) {
		probe_why(why, len, "connect: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* --- begin, abandon, end ----------------------------------------------------------- */

int
probe_start(struct health_run *r, const struct health_conf *hc, char *why,
    size_t len)
{
	struct probe	*p = xcalloc(1, sizeof(*p));
	int		 rv;

	p->check = hc->check;
	p->timeout_ms = hc->timeout_ms;
	p->pid = -1;
	p->fd[0] = p->fd[1] = -1;
	p->run = r;
	if (hc->check == HEALTH_EXEC)
		rv = probe_exec(p, r->node, hc, why, len);
	else
		rv = probe_connect(p, hc, why, len);
	if (rv == -1 || probe_arm(p) == -1) {
		if (rv != -1)
			fatalx("cannot arm a probe's timeout");
		probe_free(p);
		return -1;
	}
	r->probe = p;
	if (p->check != HEALTH_EXEC)
		nnet++;
	return 0;
}

void
probe_abandon(struct probe *p)
{
	p->run = NULL;
	if (p->check != HEALTH_EXEC) {
		nnet--;
		probe_free(p);
		return;
	}
	/* Its group killed now; it is freed once reaped. */
	probe_close(p);
	if (p->pid > 0 && kill(-p->pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("an abandoned probe: kill");
}

void
probe_free_all(void)
{
	while (nexecs > 0) {
		if (execs[0]->pid > 0)
			(void)kill(-execs[0]->pid, SIGKILL);
		probe_free(execs[0]);
		execs[0] = execs[--nexecs];
	}
}
