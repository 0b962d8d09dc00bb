/*
 * reexec.c: warden executing a binary again in place (see reexec.h).
 *
 * The life of a reexec: IDLE -> CHECKING (the new binary runs with
 * --handover-check, the config's text on its stdin) -> WAITING (the tree
 * cannot be handed over yet: a reload's instances are stopping) -> the
 * exec. A failure anywhere before the exec is the old image's: it goes
 * on, says why in the log, to systemd and to every reexec call waiting.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/close_range.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "control.h"
#include "events.h"
#include "flagsvc.h"
#include "fleetd.h"
#include "health-run.h"
#include "ledger.h"
#include "log.h"
#include "logfile.h"
#include "metrics-daemon.h"
#include "readysock.h"
#include "reexec.h"
#include "rpc.h"
#include "sdnotify.h"
#include "tree.h"
#include "util.h"
#include "version.h"

#define REEXEC_WAIT_MS		30000	/* for a reload's instances to stop */
#define REEXEC_OUTPUT_MAX	4096	/* of the check's output, kept */
#define REEXEC_LOGFILE_MS	1000	/* for the log files' queued lines */

enum reexec_state { REEXEC_IDLE, REEXEC_CHECKING, REEXEC_WAITING };

static struct event_base	*base;
static char			*self;		/* the file warden was started from */
static enum reexec_state	 state;
static char			*binary;	/* the one under way */
static uint64_t			 asked_at;	/* ms, monotonic */
static pid_t			 check_pid = -1;
static int			 check_status = -1;	/* -1: running */
static int			 check_fd = -1;
static struct event		*ev_check_out, *ev_timer, *ev_go;
static char			 check_out[REEXEC_OUTPUT_MAX];

static void	reexec_go_cb(evutil_socket_t, short, void *);
static void	reexec_try(void);
static size_t			 check_len;
static bool			 check_eof;

void
reexec_init(struct event_base *b)
{
	char	buf[PATH_MAX];
	ssize_t	n;

	base = b;
	if ((ev_go = event_new(base, -1, 0, reexec_go_cb, NULL)) == NULL)
		fatalx("reexec: cannot create an event");
	/* Now, while the file is the one running: an upgrade replaces it. */
	if ((n = readlink("/proc/self/exe", buf, sizeof(buf) - 1)) == -1) {
		log_warn("readlink /proc/self/exe: reexec will need a binary");
		return;
	}
	buf[n] = '\0';
	free(self);
	self = xstrdup(buf);
}

void
reexec_free(void)
{
	if (ev_check_out != NULL)
		event_free(ev_check_out);
	if (ev_timer != NULL)
		event_free(ev_timer);
	if (ev_go != NULL)
		event_free(ev_go);
	ev_check_out = ev_timer = ev_go = NULL;
	if (check_fd != -1)
		close(check_fd);
	check_fd = -1;
	free(binary);
	binary = NULL;
	free(self);
	self = NULL;
}

int
reexec_pending(void)
{
	return state != REEXEC_IDLE;
}

/* --- the end of an attempt ------------------------------------------------------- */

static void
reexec_reset(void)
{
	if (ev_check_out != NULL)
		event_free(ev_check_out);
	ev_check_out = NULL;
	if (ev_timer != NULL)
		evtimer_del(ev_timer);
	if (check_fd != -1)
		close(check_fd);
	check_fd = -1;
	if (check_pid > 0)
		(void)kill(check_pid, SIGKILL);	/* reaped by the tree as it dies */
	free(binary);
	binary = NULL;
	state = REEXEC_IDLE;
}

static void __attribute__((format(printf, 1, 2)))
reexec_fail(const char *fmt, ...)
{
	char	why[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	log_warnx("reexec %s refused: %s; this warden goes on", binary, why);
	events_emit("warden.reexec_failed", json_pack("{s:s,s:s}", "binary",
	    binary, "reason", why));
	sdnotify_reloaded(why);
	rpc_reexec_failed(why);
	reexec_reset();
}

/* --- the handover ---------------------------------------------------------------- */

/* Keys naming one fd: "fd", "..._fd"; and "..._fds", an array of them. */
static bool
reexec_fd_key(const char *k)
{
	size_t	len = strlen(k);

	return strcmp(k, "fd") == 0 || (len > 3 && strcmp(k + len - 3, "_fd") == 0);
}

static void	reexec_collect(const json_t *, int **, size_t *);

/*
 * Every fd the description names, inheritable or not. FD_CLOEXEC is the
 * one fd flag there is: one call each, not two.
 */
static int
reexec_fds(const json_t *d, bool inherit)
{
	int	*fds = NULL, rc = 0;
	size_t	 n = 0, i;

	reexec_collect(d, &fds, &n);
	for (i = 0; i < n; i++)
		if (fcntl(fds[i], F_SETFD, inherit ? 0 : FD_CLOEXEC) == -1)
			rc = -1;
	free(fds);
	return rc;
}

static json_t *
reexec_describe(void)
{
	struct config	*conf = tree_config();

	return json_pack("{s:i,s:{s:s,s:i,s:s,s:I,s:i,s:I},s:{s:s,s:s%,s:o},s:o,s:o,"
	    "s:o,s:o,s:o,s:o,s:o,s:o}",
	    "version", REEXEC_HANDOVER_VERSION,
	    "warden", "version", WARDEN_VERSION, "pid", (int)getpid(),
	    "binary", binary, "asked_at", (json_int_t)asked_at,
	    "verbosity", log_getverbose(),
	    "event_seq", (json_int_t)events_last_seq(),
	    "config", "path", conf->path, "text", conf->text, conf->textlen,
	    "env_files", config_env_files(conf),
	    "sdnotify", sdnotify_handover(),
	    "flags", flagsvc_handover(),
	    "ledger", ledger_handover(),
	    "notify", readysock_handover(),
	    "tree", tree_handover(),
	    "control", control_handover(),
	    "metrics", metrics_http_handover(),
	    "fleet", fleetd_handover());
}

/* The description in a memfd, at offset 0, for the next image to read. */
static int
reexec_memfd(json_t *d)
{
	char	*text;
	int	 fd;

	if ((text = json_dumps(d, JSON_COMPACT)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	fd = (int)syscall(SYS_memfd_create, "warden-handover", 0U);
	if (fd == -1 || util_write_all(fd, text, strlen(text)) == -1 ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		free(text);
		if (fd != -1)
			close(fd);
		return -1;
	}
	free(text);
	return fd;
}

static void
reexec_go(void)
{
	char		 fdarg[16], verb[4] = "";
	char		*argv[8];
	json_t		*d;
	int		 fd, saved, i = 0;

	log_info("reexec: handing over to %s (%zu workers)", binary,
	    tree_worker_count());
	/*
	 * The changes of this turn are answered before the clients are
	 * described: a change awaiting its sync is never handed over.
	 */
	flagsvc_flush();
	/* A fleet write's answer from etcd would come to no one. */
	fleetd_write_abort_all("warden reexecuted before etcd answered");
	fleetd_read_abort_all("warden reexecuted before etcd answered");
	if ((d = reexec_describe()) == NULL) {
		control_handover_abort();
		reexec_fail("cannot describe the state");
		return;
	}
	log_debug("reexec: state described");
	if ((fd = reexec_memfd(d)) == -1) {
		saved = errno;
		json_decref(d);
		control_handover_abort();
		reexec_fail("memfd: %s", strerror(saved));
		return;
	}
	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	if (log_getverbose() > LOG_LEVEL_INFO)
		strcpy(verb, "-v");
	else if (log_getverbose() < LOG_LEVEL_INFO)
		strcpy(verb, "-q");
	argv[i++] = binary;
	argv[i++] = (char *)"--handover";
	argv[i++] = fdarg;
	argv[i++] = (char *)"-c";
	argv[i++] = tree_config()->path;
	if (verb[0] != '\0')
		argv[i++] = verb;
	argv[i] = NULL;
	log_debug("reexec: state written, executing");
	/* The new image opens the log files again; what is queued goes first. */
	logfile_flush(REEXEC_LOGFILE_MS);
	/* Probes are not handed over: the next image begins their rounds. */
	health_drop_all(false);
	if (reexec_fds(d, true) == 0)
		(void)execv(binary, argv);
	saved = errno;
	/* Still here: nothing was handed over, this image goes on. */
	(void)reexec_fds(d, false);
	json_decref(d);
	close(fd);
	control_handover_abort();
	reexec_fail("exec %s: %s", binary, strerror(saved));
}

static void
reexec_go_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (state != REEXEC_WAITING)
		return;
	if (tree_handover_blocked() != NULL) {
		reexec_try();
		return;
	}
	reexec_go();
}

/* The check has passed: hand over as soon as the tree may be. */
static void
reexec_try(void)
{
	const char	*why;

	if (state != REEXEC_WAITING)
		return;
	if ((why = tree_handover_blocked()) == NULL) {
		/* From the loop itself, between callbacks: nothing half done. */
		event_active(ev_go, EV_TIMEOUT, 0);
		return;
	}
	if (strcmp(why, "warden is stopping") == 0)
		reexec_fail("%s", why);
}

void
reexec_tree_changed(void)
{
	if (state == REEXEC_WAITING)
		reexec_try();
}

/* --- the check of the new binary -------------------------------------------------- */

/* The check's verdict, once it has exited and its output has ended. */
static void
reexec_checked(void)
{
	char	*line, *nl, *last = NULL;
	int	 version;

	if (check_status == -1 || !check_eof)
		return;
	check_out[check_len] = '\0';
	if (ev_check_out != NULL)
		event_free(ev_check_out);
	ev_check_out = NULL;
	close(check_fd);
	check_fd = -1;
	/* The last line it said is the one that tells (an error, say). */
	for (line = check_out; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if (*line != '\0')
			last = line;
		if (nl == NULL)
			break;
	}
	if (!WIFEXITED(check_status) || WEXITSTATUS(check_status) != 0) {
		if (WIFSIGNALED(check_status))
			reexec_fail("%s --handover-check: killed by SIG%s%s%s",
			    binary, util_signal_name(WTERMSIG(check_status)),
			    last != NULL ? ": " : "", last != NULL ? last : "");
		else
			reexec_fail("%s --handover-check: exit %d%s%s", binary,
			    WEXITSTATUS(check_status), last != NULL ? ": " : "",
			    last != NULL ? last : "");
		return;
	}
	if (last == NULL || sscanf(last, REEXEC_HANDOVER_MAGIC " %d",
	    &version) != 1) {
		reexec_fail("%s is not a warden that takes a handover (it said "
		    "\"%.80s\")", binary, last != NULL ? last : "");
		return;
	}
	if (version != REEXEC_HANDOVER_VERSION) {
		reexec_fail("%s takes handover version %d, this warden gives %d",
		    binary, version, REEXEC_HANDOVER_VERSION);
		return;
	}
	state = REEXEC_WAITING;
	if (tree_handover_blocked() != NULL) {
		struct timeval	tv = { REEXEC_WAIT_MS / 1000, 0 };

		log_info("reexec: waiting: %s", tree_handover_blocked());
		if (evtimer_add(ev_timer, &tv) == -1)
			fatalx("reexec: cannot arm a timer");
	}
	reexec_try();
}

static void
reexec_check_exited(pid_t pid, int status, void *arg)
{
	(void)arg;
	if (pid != check_pid)
		return;		/* an earlier attempt's, killed */
	check_pid = -1;
	check_status = status;
	if (state == REEXEC_CHECKING)
		reexec_checked();
}

static void
reexec_check_out_cb(evutil_socket_t fd, short what, void *arg)
{
	ssize_t	n;
	char	sink[512];

	(void)what;
	(void)arg;
	if (check_len < sizeof(check_out) - 1)
		n = read(fd, check_out + check_len, sizeof(check_out) - 1 -
		    check_len);
	else
		n = read(fd, sink, sizeof(sink));	/* the rest is not kept */
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0) {
		if (check_len < sizeof(check_out) - 1)
			check_len += (size_t)n;
		return;
	}
	check_eof = true;
	event_del(ev_check_out);
	reexec_checked();
}

static void
reexec_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	if (state == REEXEC_CHECKING)
		reexec_fail("%s --handover-check did not answer within %d ms",
		    binary, REEXEC_CHECK_MS);
	else if (state == REEXEC_WAITING)
		reexec_fail("%s after %d ms", tree_handover_blocked() != NULL ?
		    tree_handover_blocked() : "the tree was not ready",
		    REEXEC_WAIT_MS);
}

/* The config's text as the check's stdin: the new binary must take it. */
static int
reexec_config_fd(void)
{
	struct config	*conf = tree_config();
	int		 fd;

	fd = (int)syscall(SYS_memfd_create, "warden-config", 1U /* CLOEXEC */);
	if (fd == -1 || util_write_all(fd, conf->text, conf->textlen) == -1 ||
	    lseek(fd, 0, SEEK_SET) == -1) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * The check runs with the config's text on stdin, its stdout and stderr on
 * out, nothing else open, every signal at its default and none blocked.
 * vfork: no copy of a large warden's page tables; the child only makes
 * system calls before it executes.
 */
static int
reexec_check_spawn(int in, int out, pid_t *pid)
{
	struct sigaction	 dfl;
	sigset_t		 none;
	char			*argv[] = { binary, (char *)"--handover-check",
				    (char *)"-c", tree_config()->path, NULL };
	volatile int		 rc = 0;
	int			 sig;

	sigemptyset(&none);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	switch ((*pid = vfork())) {
	case -1:
		return errno;
	case 0:
		if (dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(out, 2) == -1)
			_exit(126);
		(void)syscall(SYS_close_range, 3U, ~0U, 0U);
		for (sig = 1; sig < NSIG; sig++)
			(void)sigaction(sig, &dfl, NULL);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		execv(binary, argv);
		rc = errno;
		_exit(127);
	}
	/* The child borrowed our memory: rc says if its exec failed. */
	if (rc != 0) {
		(void)waitpid(*pid, NULL, 0);
		*pid = -1;
	}
	return rc;
}

static int
reexec_check_start(char *err, size_t errlen)
{
	struct timeval	tv = { REEXEC_CHECK_MS / 1000, 0 };
	int		pfd[2], in, rc;

	if ((in = reexec_config_fd()) == -1)
		return snprintf(err, errlen, "memfd: %s", strerror(errno)), -1;
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		close(in);
		return snprintf(err, errlen, "pipe: %s", strerror(errno)), -1;
	}
	rc = reexec_check_spawn(in, pfd[1], &check_pid);
	close(in);
	close(pfd[1]);
	if (rc != 0) {
		/* It could not be executed at all (a bad interpreter, say). */
		close(pfd[0]);
		check_pid = -1;
		return snprintf(err, errlen, "%s: %s", binary, strerror(rc)), -2;
	}
	tree_own_child(check_pid, reexec_check_exited, NULL);
	check_fd = pfd[0];
	check_len = 0;
	check_eof = false;
	check_status = -1;
	if (util_set_nonblock(check_fd, true) == -1 ||
	    (ev_check_out = event_new(base, check_fd, EV_READ | EV_PERSIST,
	    reexec_check_out_cb, NULL)) == NULL ||
	    event_add(ev_check_out, NULL) == -1)
		fatalx("reexec: cannot watch the check's output");
	if (ev_timer == NULL &&
	    (ev_timer = evtimer_new(base, reexec_timer_cb, NULL)) == NULL)
		fatalx("reexec: cannot create a timer");
	if (evtimer_add(ev_timer, &tv) == -1)
		fatalx("reexec: cannot arm a timer");
	return 0;
}

/* --- asking ----------------------------------------------------------------------- */

int
reexec_request(const char *path, char *err, size_t errlen)
{
	const char	*why;
	struct stat	 st;
	int		 rc;

	if (path == NULL)
		path = self;
	if (path == NULL)
		return snprintf(err, errlen, "the binary warden was started "
		    "from is unknown: name one"), -1;
	if (state != REEXEC_IDLE) {
		if (strcmp(path, binary) == 0)
			return 0;
		return snprintf(err, errlen, "a reexec to %s is under way",
		    binary), -1;
	}
	if ((why = tree_handover_blocked()) != NULL &&
	    strcmp(why, "warden is stopping") == 0)
		return snprintf(err, errlen, "%s", why), -1;
	if (path[0] != '/')
		return snprintf(err, errlen, "%s: not an absolute path", path), -2;
	if (stat(path, &st) == -1)
		return snprintf(err, errlen, "%s: %s", path, strerror(errno)), -2;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) == -1)
		return snprintf(err, errlen, "%s: not an executable file", path), -2;
	binary = xstrdup(path);
	asked_at = util_now_ms();
	state = REEXEC_CHECKING;
	log_info("reexec: checking %s", binary);
	sdnotify_reloading();
	if ((rc = reexec_check_start(err, errlen)) < 0) {
		sdnotify_reloaded(err);
		reexec_reset();
		return rc;
	}
	return 0;
}

/* --- the next image ---------------------------------------------------------------- */

#define REEXEC_HANDOVER_MAX	(256 << 20)

json_t *
reexec_read(int fd, char *err, size_t errlen)
{
	json_int_t	 seq;
	json_error_t	 je;
	json_t		*d;
	char		*buf;
	size_t		 len;
	json_int_t	 v;

	if (util_read_fd(fd, REEXEC_HANDOVER_MAX, &buf, &len) == -1) {
		snprintf(err, errlen, "handover: fd %d: %s", fd, strerror(errno));
		close(fd);
		return NULL;
	}
	close(fd);
	d = json_loadb(buf, len, 0, &je);
	free(buf);
	if (d == NULL) {
		snprintf(err, errlen, "handover: byte %d: %s", je.position, je.text);
		return NULL;
	}
	if (json_unpack(d, "{s:I}", "version", &v) == -1 ||
	    v != REEXEC_HANDOVER_VERSION) {
		snprintf(err, errlen, "handover: not version %d",
		    REEXEC_HANDOVER_VERSION);
		json_decref(d);
		return NULL;
	}
	/* Before anything can emit one: subscribers see no gap, no repeat. */
	if (json_unpack(d, "{s:{s:I}}", "warden", "event_seq", &seq) == 0 &&
	    seq > 0)
		events_set_last_seq((uint64_t)seq);
	return d;
}

static int
fd_cmp(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

static void
reexec_collect_one(const json_t *v, int **fds, size_t *n)
{
	if (!json_is_integer(v) || json_integer_value(v) <= 2 ||
	    json_integer_value(v) > INT_MAX)
		return;
	if (*n % 256 == 0)
		*fds = xreallocarray(*fds, *n + 256, sizeof(**fds));
	(*fds)[(*n)++] = (int)json_integer_value(v);
}

/* The fds above 2 the description names ("fd", "..._fd", "..._fds"). */
static void
reexec_collect(const json_t *d, int **fds, size_t *n)
{
	const char	*k;
	json_t		*v, *e;
	size_t		 i, len;

	if (json_is_array(d)) {
		json_array_foreach(d, i, v)
			reexec_collect(v, fds, n);
		return;
	}
	json_object_foreach((json_t *)d, k, v) {
		len = strlen(k);
		if (json_is_integer(v) && reexec_fd_key(k))
			reexec_collect_one(v, fds, n);
		else if (json_is_array(v) && len > 4 &&
		    strcmp(k + len - 4, "_fds") == 0) {
			json_array_foreach(v, i, e)
				reexec_collect_one(e, fds, n);
		} else if (json_is_object(v) || json_is_array(v))
			reexec_collect(v, fds, n);
	}
}

void
reexec_cloexec_all(const json_t *d)
{
	/* One call for them all (Linux 5.11), else one per fd handed over. */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	(void)reexec_fds(d, false);
}

void
reexec_close_others(const json_t *d)
{
	int	*fds = NULL, lo = 3;
	size_t	 n = 0, i;

	reexec_collect(d, &fds, &n);
	qsort(fds, n, sizeof(*fds), fd_cmp);
	for (i = 0; i < n; i++) {
		if (fds[i] > lo)
			(void)syscall(SYS_close_range, (unsigned)lo,
			    (unsigned)fds[i] - 1, 0U);
		if (fds[i] + 1 > lo)
			lo = fds[i] + 1;
	}
	(void)syscall(SYS_close_range, (unsigned)lo, ~0U, 0U);
	free(fds);
}

void
reexec_done(const json_t *d)
{
	const char	*before = "?", *bin = "?";
	json_int_t	 at = 0;
	json_t		*result;
	struct client	*c;
	size_t		 nclients = 0, workers = tree_worker_count();
	double		 took;

	(void)json_unpack((json_t *)d, "{s:{s?s,s?s,s?I}}", "warden", "version",
	    &before, "binary", &bin, "asked_at", &at);
	for (c = control_clients(); c != NULL; c = c->next)
		nclients++;
	took = (double)(util_now_us() - (uint64_t)at * 1000) / 1000.0;
	result = json_pack("{s:i,s:s,s:s,s:s,s:f,s:I,s:I}", "pid", (int)getpid(),
	    "binary", bin, "version_before", before, "version", WARDEN_VERSION,
	    "took_ms", took, "workers", (json_int_t)workers,
	    "clients", (json_int_t)nclients);
	log_info("reexec: warden %s -> %s (%s), pid %ld, %zu workers, %zu "
	    "clients, %.1f ms", before, WARDEN_VERSION, bin, (long)getpid(),
	    workers, nclients, took);
	events_emit("warden.reexecuted", json_deep_copy(result));
	rpc_reexec_done(result);
	json_decref(result);
	sdnotify_reloaded(NULL);
}
