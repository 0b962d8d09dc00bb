/*
 * harness.c: run the real warden binary from integration tests (harness.h).
 */
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "procinfo.h"
#include "util.h"

#define HARNESS_KILL_GRACE	5000	/* keeper: SIGTERM, then SIGKILL */
#define HARNESS_LINE_MAX	(256u << 20)

extern char	**environ;

/* Test <-> keeper messages, one per SOCK_SEQPACKET record. */
enum keeper_type {
	KEEPER_START = 1,	/* test: start warden */
	KEEPER_BYE,		/* test: stop warden, clean up, exit */
	KEEPER_PID,		/* keeper: warden runs as a */
	KEEPER_ERROR,		/* keeper: could not start it, errno a */
	KEEPER_EXIT,		/* keeper: warden exited, status a, b left behind */
	KEEPER_DONE,		/* keeper: all clean, b left behind */
};

struct keeper_msg {
	int	type;
	int	a;
	int	b;
};

static void harness_warnx(const char *, ...)
    __attribute__((format(printf, 1, 2)));
static void harness_warn(const char *, ...)
    __attribute__((format(printf, 1, 2)));

static void
harness_warnx(const char *fmt, ...)
{
	va_list	ap;

	fputs("harness: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
harness_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	fputs("harness: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(saved));
	errno = saved;
}

static bool
harness_verbose(void)
{
	return getenv("WARDEN_TEST_VERBOSE") != NULL;
}

static void
harness_trace(const char *dir, const json_t *msg)
{
	char	*s;

	if (!harness_verbose())
		return;
	if ((s = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
		return;
	fprintf(stderr, "harness: %s %s\n", dir, s);
	free(s);
}

/* Milliseconds left before deadline, for poll(2). */
static int
harness_left(uint64_t deadline)
{
	uint64_t	now = util_now_ms();

	if (now >= deadline)
		return 0;
	return deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now);
}

static uint64_t
harness_deadline(int timeout_ms)
{
	return util_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
}

/* waitpid(2) status as a shell would show it: code, or 128 + signal. */
static int
harness_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/* Close every fd from lowfd up, except keep (-1: none). */
static void
harness_closefrom(int lowfd, int keep)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd, dfd, fds[1024];
	size_t		 n, i;

#ifdef SYS_close_range
	if (keep < lowfd) {
		if (syscall(SYS_close_range, lowfd, ~0U, 0) == 0)
			return;
	} else {
		if ((keep == lowfd || syscall(SYS_close_range, lowfd,
		    keep - 1, 0) == 0) &&
		    syscall(SYS_close_range, keep + 1, ~0U, 0) == 0)
			return;
	}
#endif
	/* No close_range(2): close what /proc lists, a batch at a time. */
	do {
		if ((d = opendir("/proc/self/fd")) == NULL)
			return;
		dfd = dirfd(d);
		n = 0;
		while ((de = readdir(d)) != NULL && n < nitems(fds)) {
			fd = atoi(de->d_name);
			if (de->d_name[0] != '.' && fd >= lowfd && fd != dfd &&
			    fd != keep)
				fds[n++] = fd;
		}
		closedir(d);
		for (i = 0; i < n; i++)
			close(fds[i]);
	} while (n == nitems(fds));
}

static int
harness_rmtree_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) == -1 && errno != ENOENT)
		harness_warn("remove %s", path);
	return 0;
}

static void
harness_rmtree(const char *dir)
{
	if (nftw(dir, harness_rmtree_one, 16, FTW_DEPTH | FTW_PHYS) == -1 &&
	    errno != ENOENT)
		harness_warn("nftw %s", dir);
}

static int
harness_mkdirs(const char *path)
{
	char	buf[PATH_MAX], *p;

	if (strlen(path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(buf, path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

char *
harness_read_file(const char *path)
{
	char	*buf;
	size_t	 len = 0, cap = 4096;
	ssize_t	 n;
	int	 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	buf = xmalloc(cap);
	for (;;) {
		if (cap - len < 2)
			buf = xreallocarray(buf, cap *= 2, 1);
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			free(buf);
			errno = saved;
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* Write path atomically (path.tmp, rename), so warden never reads half. */
static int
harness_write_atomic(const char *path, const char *text)
{
	char	*tmp;
	int	 fd, rv = -1;

	xasprintf(&tmp, "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		harness_warn("open %s", tmp);
		goto out;
	}
	if (util_write_all(fd, text, strlen(text)) == -1) {
		harness_warn("write %s", tmp);
		close(fd);
		goto out;
	}
	if (close(fd) == -1) {
		harness_warn("close %s", tmp);
		goto out;
	}
	if (rename(tmp, path) == -1) {
		harness_warn("rename %s", tmp);
		goto out;
	}
	rv = 0;
out:
	free(tmp);
	return rv;
}

/*
 * The binaries: $WARDEN_BIN_DIR, else two levels above this program
 * (BIN/tests/check_x).
 */
static int
harness_find_bindir(char *out, size_t len)
{
	const char	*env = getenv("WARDEN_BIN_DIR");
	char		 exe[PATH_MAX], *d;
	ssize_t		 n;

	if (env != NULL && *env != '\0') {
		if (realpath(env, exe) == NULL) {
			harness_warn("WARDEN_BIN_DIR %s", env);
			return -1;
		}
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n == -1) {
			harness_warn("readlink /proc/self/exe");
			return -1;
		}
		exe[n] = '\0';
		d = dirname(exe);		/* BIN/tests */
		memmove(exe, d, strlen(d) + 1);
		d = dirname(exe);		/* BIN */
		memmove(exe, d, strlen(d) + 1);
	}
	if ((size_t)snprintf(out, len, "%s", exe) >= len) {
		harness_warnx("binaries folder path too long");
		return -1;
	}
	return 0;
}

/*
 * Whether every user may run path: each folder above it searchable by
 * others and the file executable by them. A checkout in a 0700 home is not.
 */
static bool
harness_open_to_all(const char *path)
{
	char		 buf[PATH_MAX], *p;
	struct stat	 st;

	if (realpath(path, buf) == NULL)
		return false;
	for (p = strchr(buf + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (stat(buf, &st) == -1 || (st.st_mode & S_IXOTH) == 0)
			return false;
		*p = '/';
	}
	return stat(buf, &st) == 0 && (st.st_mode & S_IXOTH) != 0;
}

/* Copy the file from to a new file to, mode 0755. */
static int
harness_copy_exec(const char *from, const char *to)
{
	char	 buf[65536];
	ssize_t	 n;
	int	 in, out, rv = -1;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) == -1) {
		harness_warn("open %s", from);
		return -1;
	}
	if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0755)) == -1) {
		harness_warn("create %s", to);
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0 || (n == -1 &&
	    errno == EINTR))
		if (n > 0 && util_write_all(out, buf, (size_t)n) == -1)
			break;
	if (n != 0)
		harness_warn("copy %s to %s", from, to);
	else if (fchmod(out, 0755) == -1)	/* whatever the umask */
		harness_warn("chmod %s", to);
	else
		rv = 0;
	if (close(out) == -1 && rv == 0) {
		harness_warn("close %s", to);
		rv = -1;
	}
	close(in);
	return rv;
}

/*
 * @WORKER@: the built test-worker, or a copy of it in DIR when another
 * user could not run the built one (see harness.h).
 */
static int
harness_find_worker(struct harness *h)
{
	char	built[PATH_MAX];

	if ((size_t)snprintf(built, sizeof(built), "%s/tests/test-worker",
	    h->bindir) >= sizeof(built) ||
	    (size_t)snprintf(h->worker, sizeof(h->worker), "%s/test-worker",
	    h->dir) >= sizeof(h->worker)) {
		harness_warnx("test-worker path too long");
		return -1;
	}
	if (harness_open_to_all(built)) {
		memcpy(h->worker, built, sizeof(built));
		return 0;
	}
	return harness_copy_exec(built, h->worker);
}

/* text with every "from" replaced by "to"; malloc'd. */
static char *
harness_replace(const char *text, const char *from, const char *to)
{
	const char	*p, *q;
	char		*out;
	size_t		 flen = strlen(from), tlen = strlen(to), n = 0, len;

	for (p = text; (q = strstr(p, from)) != NULL; p = q + flen)
		n++;
	len = strlen(text) + n * tlen + 1;
	out = xmalloc(len);
	out[0] = '\0';
	len = 0;
	for (p = text; (q = strstr(p, from)) != NULL; p = q + flen) {
		memcpy(out + len, p, (size_t)(q - p));
		len += (size_t)(q - p);
		memcpy(out + len, to, tlen);
		len += tlen;
	}
	strcpy(out + len, p);
	return out;
}

static char *
harness_substitute(struct harness *h, const char *text)
{
	char	*a, *b;

	a = harness_replace(text, "@WORKER@", h->worker);
	b = harness_replace(a, "@BIN@", h->bindir);
	free(a);
	a = harness_replace(b, "@DIR@", h->dir);
	free(b);
	return a;
}

/* name relative to DIR unless absolute, into out. */
static int
harness_resolve(struct harness *h, const char *name, char *out, size_t len)
{
	int	n;

	if (name[0] == '/')
		n = snprintf(out, len, "%s", name);
	else
		n = snprintf(out, len, "%s/%s", h->dir, name);
	if (n < 0 || (size_t)n >= len) {
		harness_warnx("path too long: %s", name);
		return -1;
	}
	return 0;
}

int
harness_write_config(struct harness *h, const char *config_json)
{
	json_t		*root;
	json_error_t	 jerr;
	const char	*s, *brace;
	char		*text, *add = NULL, *t, *full, sock[PATH_MAX];
	char		 state[PATH_MAX], path[PATH_MAX];
	int		 rv = -1;

	text = harness_substitute(h, config_json);
	root = json_loads(text, 0, &jerr);
	h->table[0] = '\0';
	/* Defaults where the test left a key out; resolved like warden does. */
	snprintf(sock, sizeof(sock), "warden.sock");
	snprintf(state, sizeof(state), "state");
	if (json_is_object(root)) {
		add = xstrdup("");
		if ((s = json_string_value(json_object_get(root, "socket")))
		    != NULL)
			snprintf(sock, sizeof(sock), "%s", s);
		else if (!json_object_get(root, "socket")) {
			xasprintf(&t, "%s\"socket\": \"warden.sock\", ", add);
			free(add);
			add = t;
		}
		if ((s = json_string_value(json_object_get(root, "state_dir")))
		    != NULL)
			snprintf(state, sizeof(state), "%s", s);
		else if (!json_object_get(root, "state_dir")) {
			xasprintf(&t, "%s\"state_dir\": \"state\", ", add);
			free(add);
			add = t;
		}
		if ((s = json_string_value(json_object_get(root, "table")))
		    != NULL)
			snprintf(h->table, sizeof(h->table), "%s", s);
		else if (!json_object_get(root, "table")) {
			xasprintf(&t, "%s\"table\": \"%s\", ", add,
			    h->injected_table);
			free(add);
			add = t;
			snprintf(h->table, sizeof(h->table), "%s",
			    h->injected_table);
		}
		if (*add != '\0' && (brace = strchr(text, '{')) != NULL) {
			/* An empty object takes no trailing comma. */
			if (json_object_size(root) == 0)
				add[strlen(add) - 2] = '\0';
			xasprintf(&full, "%.*s%s%s", (int)(brace - text + 1),
			    text, add, brace + 1);
			free(text);
			text = full;
		}
	}
	if (harness_resolve(h, sock, h->sock, sizeof(h->sock)) == -1)
		goto out;
	if (strlen(h->sock) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		harness_warnx("socket path too long for AF_UNIX: %s", h->sock);
	/* warden creates neither its socket's folder nor its state folder. */
	if (strncmp(h->sock, h->dir, strlen(h->dir)) == 0) {
		full = xstrdup(h->sock);
		if (harness_mkdirs(dirname(full)) == -1)
			harness_warn("mkdir for %s", h->sock);
		free(full);
	}
	if (json_is_object(root) && (json_string_value(json_object_get(root,
	    "state_dir")) != NULL || !json_object_get(root, "state_dir")) &&
	    harness_resolve(h, state, path, sizeof(path)) == 0 &&
	    strncmp(path, h->dir, strlen(h->dir)) == 0 &&
	    harness_mkdirs(path) == -1)
		harness_warn("mkdir %s", path);
	rv = harness_write_atomic(h->config, text);
out:
	json_decref(root);
	free(add);
	free(text);
	return rv;
}

int
harness_write_file(struct harness *h, const char *name, const char *text)
{
	char	path[PATH_MAX], *s;
	int	rv;

	if (harness_resolve(h, name, path, sizeof(path)) == -1)
		return -1;
	s = harness_substitute(h, text);
	rv = harness_write_atomic(path, s);
	free(s);
	return rv;
}

char *
harness_path(struct harness *h, const char *name)
{
	char	*p;

	xasprintf(&p, "%s/%s", h->dir, name);
	return p;
}

/*
 * harness_setenv()'s variables, kept here rather than in struct harness so
 * that its layout stays the same for every test compiled against it.
 */
static struct harness_env {
	const struct harness	*owner;		/* NULL: free */
	char			 entry[256];	/* NAME=VALUE */
} harness_envs[HARNESS_ENV_MAX];

/* Forget the variables of h (a fresh harness_prepare() of the same h). */
static void
harness_env_forget(const struct harness *h)
{
	size_t	k;

	for (k = 0; k < HARNESS_ENV_MAX; k++)
		if (harness_envs[k].owner == h)
			harness_envs[k].owner = NULL;
}

/* h's variable number k, or NULL. */
static const char *
harness_env_of(const struct harness *h, size_t k)
{
	return harness_envs[k].owner == h ? harness_envs[k].entry : NULL;
}

int
harness_prepare(struct harness *h, const char *config_json)
{
	static unsigned		 serial;
	struct sockaddr_un	 sun;
	const char		*base = getenv("TMPDIR");
	char			 tmpl[PATH_MAX];
	int			 fd;

	memset(h, 0, sizeof(*h));
	harness_env_forget(h);
	h->pid = -1;
	h->keeper_pid = -1;
	h->keeper_fd = -1;
	h->notify_fd = -1;
	h->status = -1;
	h->next_id = 1;
	/* A control socket path must fit in sun_path: keep the folder short. */
	if (base == NULL || *base == '\0' || strlen(base) > 60)
		base = "/tmp";
	snprintf(tmpl, sizeof(tmpl), "%s/warden-test.XXXXXX", base);
	if (mkdtemp(tmpl) == NULL) {
		harness_warn("mkdtemp %s", tmpl);
		return -1;
	}
	snprintf(h->dir, sizeof(h->dir), "%s", tmpl);
	if (harness_resolve(h, "warden.json", h->config,
	    sizeof(h->config)) == -1 ||
	    harness_resolve(h, "warden.log", h->log, sizeof(h->log)) == -1 ||
	    harness_resolve(h, "notify.sock", h->notify_path,
	    sizeof(h->notify_path)) == -1)
		goto fail;
	snprintf(h->injected_table, sizeof(h->injected_table),
	    "/warden-test-%ld-%u", (long)getpid(), serial++);

	/* A peer that goes away must fail a write, not kill the test. */
	signal(SIGPIPE, SIG_IGN);

	if (harness_find_bindir(h->bindir, sizeof(h->bindir)) == -1)
		goto fail;
	if (harness_find_worker(h) == -1)
		goto fail;
	if ((fd = open(h->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		harness_warn("create %s", h->log);
		goto fail;
	}
	close(fd);

	h->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (h->notify_fd == -1) {
		harness_warn("socket");
		goto fail;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(h->notify_path) >= sizeof(sun.sun_path)) {
		harness_warnx("%s: path too long", h->notify_path);
		goto fail;
	}
	strcpy(sun.sun_path, h->notify_path);
	if (bind(h->notify_fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		harness_warn("bind %s", h->notify_path);
		goto fail;
	}
	if (harness_write_config(h, config_json) == -1)
		goto fail;
	return 0;
fail:
	harness_cleanup(h);
	return -1;
}

/*
 * The keeper: warden's parent, in its own session, and the subreaper of
 * everything warden forks. It outlives a test that dies without cleaning
 * up and does the cleaning then.
 */

static bool
harness_keep_tmp(void)
{
	const char	*s = getenv("WARDEN_KEEP_TMP");

	return s != NULL && *s != '\0' && strcmp(s, "0") != 0;
}

static int
keeper_send(int fd, int type, int a, int b)
{
	struct keeper_msg	m = { type, a, b };
	ssize_t			n;

	if (fd == -1)
		return -1;
	do {
		n = send(fd, &m, sizeof(m), MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	return n == (ssize_t)sizeof(m) ? 0 : -1;
}

/* /proc/PID/stat: state and parent, parsed after the last ')'. */
static int
harness_proc_stat(pid_t pid, char *state, pid_t *ppid)
{
	char	path[64], buf[1024], *p;
	ssize_t	n;
	long	pp;
	int	fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %c %ld", state, &pp) != 2)
		return -1;
	*ppid = (pid_t)pp;
	return 0;
}

static void
keeper_describe(pid_t pid)
{
	char	path[64], buf[512];
	ssize_t	n, i;
	int	fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	buf[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n < 0)
			n = 0;
		buf[n] = '\0';
		for (i = 0; i + 1 < n; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
	}
	harness_warnx("warden left pid %ld behind: %s", (long)pid, buf);
}

/*
 * Kill and reap whatever got reparented to us (warden's leftovers, once
 * warden is gone). Returns how many were still alive.
 */
static int
keeper_orphans(bool report)
{
	DIR		*d;
	struct dirent	*de;
	pid_t		 me = getpid(), pid, ppid, found[256];
	size_t		 n, i;
	char		 state;
	int		 alive = 0, round;

	for (round = 0; round < 100; round++) {
		if ((d = opendir("/proc")) == NULL)
			return alive;
		n = 0;
		while ((de = readdir(d)) != NULL && n < nitems(found)) {
			if (de->d_name[0] < '0' || de->d_name[0] > '9')
				continue;
			pid = (pid_t)atol(de->d_name);
			if (harness_proc_stat(pid, &state, &ppid) == -1 ||
			    ppid != me)
				continue;
			if (state != 'Z') {
				if (report)
					keeper_describe(pid);
				kill(pid, SIGKILL);
				alive++;
			}
			found[n++] = pid;
		}
		closedir(d);
		if (n == 0)
			break;
		for (i = 0; i < n; i++)
			while (waitpid(found[i], NULL, 0) == -1 &&
			    errno == EINTR)
				;
	}
	return alive;
}

static char **
keeper_env(struct harness *h)
{
	static const char *const drop[] = { "NOTIFY_SOCKET=", "LISTEN_PID=",
	    "LISTEN_FDS=", "LISTEN_FDNAMES=", "WATCHDOG_USEC=", "WATCHDOG_PID=",
	    "JOURNAL_STREAM=", "WARDEN_READY_FD=", "WARDEN_TABLE_FD=",
	    "WARDEN_TABLE=", "WARDEN_SERVICE=", "WARDEN_SOCKET=" };
	char		**env, **e;
	const char	 *v;
	size_t		  n = 0, i, k;
	bool		  own_notify = false;

	for (e = environ; *e != NULL; e++)
		n++;
	env = xcalloc(n + 2 + HARNESS_ENV_MAX, sizeof(*env));
	n = 0;
	for (e = environ; *e != NULL; e++) {
		for (i = 0; i < nitems(drop); i++)
			if (strncmp(*e, drop[i], strlen(drop[i])) == 0)
				break;
		/* Variables of harness_setenv() replace inherited ones. */
		for (k = 0; i == nitems(drop) && k < HARNESS_ENV_MAX; k++)
			if ((v = harness_env_of(h, k)) != NULL &&
			    strncmp(*e, v, strcspn(v, "=") + 1) == 0)
				break;
		if (i == nitems(drop) && k == HARNESS_ENV_MAX)
			env[n++] = *e;
	}
	for (k = 0; k < HARNESS_ENV_MAX; k++) {
		if ((v = harness_env_of(h, k)) == NULL)
			continue;
		env[n++] = (char *)v;
		/* The test's own NOTIFY_SOCKET (an abstract one, say). */
		if (strncmp(v, "NOTIFY_SOCKET=", 14) == 0)
			own_notify = true;
	}
	if (!own_notify)
		xasprintf(&env[n++], "NOTIFY_SOCKET=%s", h->notify_path);
	return env;
}

int
harness_setenv(struct harness *h, const char *name, const char *value)
{
	size_t	k, free_k = HARNESS_ENV_MAX, n = strlen(name);

	if (h->dir[0] == '\0' || h->keeper_fd != -1) {
		harness_warnx("harness_setenv %s: only between prepare and "
		    "the first start", name);
		return -1;
	}
	if (*name == '\0' || strchr(name, '=') != NULL) {
		harness_warnx("harness_setenv: bad name \"%s\"", name);
		return -1;
	}
	for (k = 0; k < HARNESS_ENV_MAX; k++) {
		if (harness_envs[k].owner == NULL && free_k == HARNESS_ENV_MAX)
			free_k = k;
		if (harness_envs[k].owner == h &&
		    strncmp(harness_envs[k].entry, name, n) == 0 &&
		    harness_envs[k].entry[n] == '=')
			break;
	}
	if (k == HARNESS_ENV_MAX)
		k = free_k;
	if (k == HARNESS_ENV_MAX || (size_t)snprintf(harness_envs[k].entry,
	    sizeof(harness_envs[k].entry), "%s=%s", name, value) >=
	    sizeof(harness_envs[k].entry)) {
		if (k < HARNESS_ENV_MAX)
			harness_envs[k].owner = NULL;
		harness_warnx("harness_setenv %s: no room", name);
		return -1;
	}
	harness_envs[k].owner = h;
	return 0;
}

/* In the child about to exec warden: leave it what a careless parent would. */
static int
keeper_dirty(struct harness *h)
{
	static const int ignored[] = { SIGINT, SIGQUIT, SIGHUP };
	static const int blocked[] = { SIGUSR1, SIGUSR2, SIGWINCH };
	char		 path[PATH_MAX];
	sigset_t	 set;
	size_t		 i;
	int		 fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/inherited", h->dir) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT, 0644)) == -1)
		return -1;
	if (fd != 3) {
		if (dup2(fd, 3) == -1)
			return -1;
		close(fd);
	}
	for (i = 0; i < nitems(ignored); i++)
		if (signal(ignored[i], SIG_IGN) == SIG_ERR)
			return -1;
	sigemptyset(&set);
	for (i = 0; i < nitems(blocked); i++)
		sigaddset(&set, blocked[i]);
	return sigprocmask(SIG_BLOCK, &set, NULL);
}

/* fork+exec warden; its pid, or -errno when it could not be started. */
static pid_t
keeper_spawn(struct harness *h, char **env)
{
	struct sigaction sa;
	sigset_t	 none;
	char		 warden[PATH_MAX];
	char		*argv[] = { warden, (char *)"-c", h->config, (char *)"-v",
			    NULL };
	pid_t		 pid, keeper = getpid();
	ssize_t		 n;
	int		 ep[2], err, fd, sig;

	if ((size_t)snprintf(warden, sizeof(warden), "%s/warden", h->bindir) >=
	    sizeof(warden))
		return -ENAMETOOLONG;
	if (pipe2(ep, O_CLOEXEC) == -1)
		return -errno;
	if ((pid = fork()) == -1) {
		err = errno;
		close(ep[0]);
		close(ep[1]);
		return -err;
	}
	if (pid == 0) {
		close(ep[0]);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		for (sig = 1; sig < NSIG; sig++)
			(void)sigaction(sig, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Should the keeper die anyway, warden stops its tree. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() != keeper)
			goto fail;
		if (chdir(h->dir) == -1)
			goto fail;
		if ((fd = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(fd, 0) == -1)
			goto fail;
		if ((fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND, 0644)) ==
		    -1 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
			goto fail;
		harness_closefrom(3, ep[1]);
		if (h->dirty_start && keeper_dirty(h) == -1)
			goto fail;
		if (getenv("WARDEN_VALGRIND") != NULL) {
			/*
			 * make valgrind: warden under memcheck; any error or
			 * leak makes it exit 99, which fails the test's
			 * check of its exit status.
			 */
			char	*vargv[] = { (char *)"valgrind", (char *)"--quiet",
			    (char *)"--error-exitcode=99", (char *)"--leak-check=full",
			    (char *)"--show-leak-kinds=definite,indirect,possible",
			    (char *)"--errors-for-leak-kinds=definite,indirect,possible",
			    warden, (char *)"-c", h->config, (char *)"-v", NULL };

			execvpe("valgrind", vargv, env);
			goto fail;
		}
		execve(warden, argv, env);
fail:
		err = errno;
		(void)!write(ep[1], &err, sizeof(err));
		_exit(127);
	}
	close(ep[1]);
	do {
		n = read(ep[0], &err, sizeof(err));
	} while (n == -1 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof(err)) {
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		return -err;
	}
	return pid;
}

static void __attribute__((noreturn))
keeper_main(struct harness *h, int sock)
{
	struct signalfd_siginfo	 si;
	struct keeper_msg	 m;
	struct pollfd		 pfd[2];
	sigset_t		 chld;
	uint64_t		 kill_at = 0;
	char			**env;
	pid_t			 warden = -1, pid;
	ssize_t			 n;
	bool			 stopping = false, killed = false;
	int			 sfd, st, left, timeout;

	(void)setsid();
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	(void)prctl(PR_SET_NAME, "warden-keeper");
	if (sock != 3) {
		if (dup3(sock, 3, O_CLOEXEC) == -1)
			_exit(1);
		sock = 3;
	}
	harness_closefrom(4, -1);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) == -1 ||
	    (sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK)) == -1)
		_exit(1);
	env = keeper_env(h);

	for (;;) {
		if (stopping && warden == -1)
			break;
		timeout = -1;
		if (stopping && !killed)
			timeout = harness_left(kill_at);
		if (timeout == 0) {
			kill(warden, SIGKILL);
			killed = true;
			timeout = -1;
		}
		pfd[0].fd = sfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = sock;
		pfd[1].events = POLLIN;
		if (poll(pfd, sock == -1 ? 1 : 2, timeout) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (pfd[0].revents & POLLIN) {
			while (read(sfd, &si, sizeof(si)) > 0)
				;
			while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
				if (pid != warden)
					continue;
				warden = -1;
				/* A clean exit should have stopped everything. */
				if (h->keep_orphans && WIFSIGNALED(st))
					left = 0;
				else
					left = keeper_orphans(WIFEXITED(st));
				keeper_send(sock, KEEPER_EXIT, harness_status(st),
				    left);
			}
		}
		if (sock == -1 || (pfd[1].revents & (POLLIN | POLLHUP |
		    POLLERR)) == 0)
			continue;
		n = recv(sock, &m, sizeof(m), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(m)) {
			/* The test is gone without cleaning up. */
			close(sock);
			sock = -1;
			harness_warnx("test ended without harness_stop");
			harness_log_tail(h, 40);
			m.type = KEEPER_BYE;
		}
		switch (m.type) {
		case KEEPER_START:
			if (warden != -1) {
				keeper_send(sock, KEEPER_ERROR, EBUSY, 0);
				break;
			}
			pid = keeper_spawn(h, env);
			if (pid < 0)
				keeper_send(sock, KEEPER_ERROR, -pid, 0);
			else {
				warden = pid;
				keeper_send(sock, KEEPER_PID, pid, 0);
			}
			break;
		case KEEPER_BYE:
			if (!stopping && warden != -1) {
				kill(warden, SIGTERM);
				kill_at = util_now_ms() + HARNESS_KILL_GRACE;
			}
			stopping = true;
			break;
		}
	}
	left = keeper_orphans(true);
	if (h->table[0] != '\0')
		(void)shm_unlink(h->table);
	if (harness_keep_tmp())
		harness_warnx("kept %s", h->dir);
	else
		harness_rmtree(h->dir);
	keeper_send(sock, KEEPER_DONE, 0, left);
	_exit(0);
}

/* Act on what the keeper says; 1 when m was read, 0 on timeout, -1 else. */
static int
harness_keeper_recv(struct harness *h, struct keeper_msg *m, int timeout_ms)
{
	struct pollfd	pfd;
	ssize_t		n;
	int		r;

	if (h->keeper_fd == -1)
		return -1;
	pfd.fd = h->keeper_fd;
	pfd.events = POLLIN;
	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r == -1 && errno == EINTR);
	if (r == -1)
		return -1;
	if (r == 0)
		return 0;
	do {
		n = recv(h->keeper_fd, m, sizeof(*m), 0);
	} while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(*m))
		return -1;
	if (m->type == KEEPER_EXIT) {
		h->pid = -1;
		h->status = m->a;
		h->leftovers += m->b;
	} else if (m->type == KEEPER_DONE)
		h->leftovers += m->b;
	return 1;
}

/* Take in what the keeper said so far (warden may have exited). */
static void
harness_keeper_drain(struct harness *h)
{
	struct keeper_msg	m;

	while (harness_keeper_recv(h, &m, 0) == 1)
		;
}

static void
harness_notify_drain(struct harness *h)
{
	char	buf[4096];

	while (recv(h->notify_fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0 ||
	    errno == EINTR)
		;
}

/* Start the keeper if needed, and warden through it. */
int
harness_spawn(struct harness *h)
{
	struct keeper_msg	m;
	uint64_t		deadline;
	int			sp[2], r;

	if (h->dir[0] == '\0') {
		harness_warnx("harness not prepared");
		return -1;
	}
	if (h->pid > 0) {
		harness_warnx("warden is already running (pid %ld)",
		    (long)h->pid);
		return -1;
	}
	if (h->keeper_fd == -1) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) ==
		    -1) {
			harness_warn("socketpair");
			return -1;
		}
		fflush(NULL);
		if ((h->keeper_pid = fork()) == -1) {
			harness_warn("fork");
			close(sp[0]);
			close(sp[1]);
			return -1;
		}
		if (h->keeper_pid == 0) {
			close(sp[0]);
			keeper_main(h, sp[1]);
		}
		close(sp[1]);
		h->keeper_fd = sp[0];
	}
	harness_notify_drain(h);
	if (keeper_send(h->keeper_fd, KEEPER_START, 0, 0) == -1) {
		harness_warn("keeper");
		return -1;
	}
	deadline = harness_deadline(HARNESS_START_TIMEOUT);
	for (;;) {
		r = harness_keeper_recv(h, &m, harness_left(deadline));
		if (r != 1) {
			harness_warnx("keeper: no answer");
			return -1;
		}
		if (m.type == KEEPER_PID) {
			h->pid = m.a;
			h->status = -1;
			return 0;
		}
		if (m.type == KEEPER_ERROR) {
			errno = m.a;
			harness_warn("cannot start %s/warden", h->bindir);
			return -1;
		}
	}
}

int
harness_wait_ready(struct harness *h, int timeout_ms)
{
	if (harness_wait_notify(h, "READY=1", timeout_ms) == 0)
		return 0;
	if (h->pid == -1)
		harness_warnx("warden exited with status %d before READY=1",
		    h->status);
	else
		harness_warnx("no READY=1 from warden within %d ms", timeout_ms);
	harness_log_tail(h, 40);
	return -1;
}

int
harness_launch(struct harness *h)
{
	if (harness_spawn(h) == -1)
		return -1;
	return harness_wait_ready(h, HARNESS_START_TIMEOUT);
}

int
harness_start(struct harness *h, const char *config_json)
{
	if (harness_prepare(h, config_json) == -1)
		return -1;
	if (harness_launch(h) == -1) {
		harness_cleanup(h);
		return -1;
	}
	return 0;
}

int
harness_start_expect_fail(struct harness *h, const char *config_json,
    int timeout_ms)
{
	int	status;

	if (harness_prepare(h, config_json) == -1)
		return -1;
	if (harness_spawn(h) == -1)
		return -1;
	if ((status = harness_wait_exit(h, timeout_ms)) != -1)
		return status;
	harness_warnx("warden still runs %d ms after start", timeout_ms);
	harness_log_tail(h, 40);
	harness_signal(h, SIGKILL);
	(void)harness_wait_exit(h, HARNESS_KILL_GRACE);
	return -1;
}

int
harness_restart(struct harness *h)
{
	harness_keeper_drain(h);
	if (harness_spawn(h) == -1)
		return -1;
	return harness_wait_ready(h, HARNESS_START_TIMEOUT);
}

int
harness_wait_exit(struct harness *h, int timeout_ms)
{
	struct keeper_msg	m;
	uint64_t		deadline = harness_deadline(timeout_ms);

	while (h->pid > 0) {
		if (harness_keeper_recv(h, &m, harness_left(deadline)) != 1)
			return -1;
	}
	return h->status;
}

int
harness_signal(struct harness *h, int sig)
{
	harness_keeper_drain(h);
	if (h->pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	return kill(h->pid, sig);
}

int
harness_wait_notify(struct harness *h, const char *line, int timeout_ms)
{
	struct keeper_msg	 m;
	struct pollfd		 pfd[2];
	uint64_t		 deadline = harness_deadline(timeout_ms);
	char			 buf[4097], *p, *nl;
	size_t			 llen = strlen(line);
	ssize_t			 n;
	int			 r;

	for (;;) {
		n = recv(h->notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n >= 0) {
			buf[n] = '\0';
			for (p = buf; p != NULL && *p != '\0'; p = nl) {
				if ((nl = strchr(p, '\n')) != NULL)
					*nl++ = '\0';
				if (strlen(p) == llen && memcmp(p, line,
				    llen) == 0)
					return 0;
			}
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			harness_warn("recv %s", h->notify_path);
			return -1;
		}
		if (h->pid <= 0)
			return -1;
		pfd[0].fd = h->notify_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = h->keeper_fd;
		pfd[1].events = POLLIN;
		r = poll(pfd, h->keeper_fd == -1 ? 1 : 2,
		    harness_left(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (h->keeper_fd != -1 && (pfd[1].revents & (POLLIN | POLLHUP)))
			if (harness_keeper_recv(h, &m, 0) == -1)
				return -1;
	}
}

void
harness_cleanup(struct harness *h)
{
	struct keeper_msg	m;
	uint64_t		deadline;
	int			r;

	if (h->dir[0] == '\0')
		return;
	if (h->keeper_fd != -1) {
		if (keeper_send(h->keeper_fd, KEEPER_BYE, 0, 0) == 0) {
			deadline = harness_deadline(HARNESS_KILL_GRACE + 10000);
			do {
				r = harness_keeper_recv(h, &m,
				    harness_left(deadline));
			} while (r == 1 && m.type != KEEPER_DONE);
			if (r == 0) {
				harness_warnx("keeper did not finish; killed");
				kill(h->keeper_pid, SIGKILL);
			}
		}
		close(h->keeper_fd);
		h->keeper_fd = -1;
		while (waitpid(h->keeper_pid, NULL, 0) == -1 && errno == EINTR)
			;
		h->keeper_pid = -1;
		h->pid = -1;
		/* A keeper that died early left the folder. */
		if (!harness_keep_tmp() && access(h->dir, F_OK) == 0)
			harness_rmtree(h->dir);
	} else if (harness_keep_tmp())
		harness_warnx("kept %s", h->dir);
	else
		harness_rmtree(h->dir);
	if (h->notify_fd != -1) {
		close(h->notify_fd);
		h->notify_fd = -1;
	}
	h->dir[0] = '\0';
}

int
harness_stop(struct harness *h)
{
	json_t	*resp;
	int	 status;

	if (h->dir[0] == '\0')
		return -1;
	harness_keeper_drain(h);
	if (h->pid > 0) {
		resp = harness_call_timeout(h, "shutdown", NULL,
		    HARNESS_CALL_TIMEOUT);
		json_decref(resp);
		if (harness_wait_exit(h, HARNESS_STOP_TIMEOUT) == -1) {
			harness_warnx("warden still runs %d ms after shutdown;"
			    " SIGKILL", HARNESS_STOP_TIMEOUT);
			harness_log_tail(h, 40);
			harness_signal(h, SIGKILL);
			(void)harness_wait_exit(h, HARNESS_KILL_GRACE);
		}
	}
	status = h->status;
	harness_cleanup(h);
	return status;
}

/*
 * Connections.
 */

int
harness_connect(struct harness *h)
{
	struct sockaddr_un	sun;
	int			fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(h->sock) >= sizeof(sun.sun_path)) {
		harness_warnx("%s: path too long", h->sock);
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, h->sock);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		harness_warn("socket");
		return -1;
	}
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (r == -1 && errno == EINTR) {
		/* The connection goes on; wait until it is made or failed. */
		struct pollfd	pfd = { fd, POLLOUT, 0 };
		socklen_t	len = sizeof(r);
		int		soerr = 0;

		while (poll(&pfd, 1, HARNESS_CALL_TIMEOUT) == -1 &&
		    errno == EINTR)
			;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 &&
		    soerr == 0)
			r = 0;
		else
			errno = soerr;
	}
	if (r == -1) {
		harness_warn("connect %s", h->sock);
		close(fd);
		return -1;
	}
	return fd;
}

struct harness_conn *
harness_conn_wrap(int fd)
{
	struct harness_conn	*c;

	if (fd == -1)
		return NULL;
	if (util_set_nonblock(fd, true) == -1) {
		harness_warn("O_NONBLOCK");
		close(fd);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->cap = 65536;
	c->buf = xmalloc(c->cap);
	c->queue = json_array();
	c->next_id = 1;
	c->seq = -1;
	return c;
}

struct harness_conn *
harness_conn_open(struct harness *h)
{
	return harness_conn_wrap(harness_connect(h));
}

void
harness_conn_close(struct harness_conn *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	json_decref(c->queue);
	free(c->buf);
	free(c);
}

int
harness_conn_send_raw(struct harness_conn *c, const void *buf, size_t len)
{
	struct pollfd	 pfd;
	const char	*p = buf;
	uint64_t	 deadline = harness_deadline(HARNESS_CALL_TIMEOUT);
	ssize_t		 n;
	int		 r;

	while (len > 0) {
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		pfd.fd = c->fd;
		pfd.events = POLLOUT;
		r = poll(&pfd, 1, harness_left(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

int
harness_conn_send(struct harness_conn *c, json_t *msg)
{
	char	*s;
	size_t	 len;
	int	 rv;

	if (msg == NULL)
		return -1;
	harness_trace("->", msg);
	s = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(msg);
	if (s == NULL)
		return -1;
	len = strlen(s);
	s = xreallocarray(s, len + 2, 1);
	s[len] = '\n';
	s[len + 1] = '\0';
	rv = harness_conn_send_raw(c, s, len + 1);
	free(s);
	return rv;
}

long long
harness_conn_request(struct harness_conn *c, const char *method,
    json_t *params)
{
	json_t		*req;
	long long	 id = c->next_id++;

	req = json_pack("{s:s, s:I, s:s}", "jsonrpc", "2.0", "id",
	    (json_int_t)id, "method", method);
	if (req == NULL) {
		json_decref(params);
		return -1;
	}
	if (params != NULL)
		json_object_set_new(req, "params", params);
	if (harness_conn_send(c, req) == -1) {
		harness_warn("send %s", method);
		return -1;
	}
	return id;
}

json_t *
harness_read_line(struct harness_conn *c, int timeout_ms)
{
	struct pollfd	 pfd;
	json_error_t	 jerr;
	json_t		*msg;
	uint64_t	 deadline = harness_deadline(timeout_ms);
	char		*nl;
	size_t		 scanned = 0, linelen;
	ssize_t		 n;
	int		 r;

	for (;;) {
		nl = memchr(c->buf + scanned, '\n', c->len - scanned);
		if (nl != NULL) {
			linelen = (size_t)(nl - c->buf);
			msg = json_loadb(c->buf, linelen, JSON_DECODE_ANY,
			    &jerr);
			if (msg == NULL)
				harness_warnx("not JSON (%s): %.*s", jerr.text,
				    (int)(linelen > 200 ? 200 : linelen),
				    c->buf);
			memmove(c->buf, nl + 1, c->len - linelen - 1);
			c->len -= linelen + 1;
			if (msg == NULL) {
				errno = EBADMSG;
				return NULL;
			}
			harness_trace("<-", msg);
			return msg;
		}
		scanned = c->len;
		if (c->eof) {
			if (c->len > 0)
				harness_warnx("connection closed mid-line "
				    "(%zu bytes)", c->len);
			errno = 0;
			return NULL;
		}
		if (c->len == c->cap) {
			if (c->cap >= HARNESS_LINE_MAX) {
				harness_warnx("line over %u bytes",
				    HARNESS_LINE_MAX);
				errno = EMSGSIZE;
				return NULL;
			}
			c->buf = xreallocarray(c->buf, c->cap *= 2, 1);
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->eof = true;
			continue;
		}
		if (errno == EINTR)
			continue;
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, harness_left(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0) {
			errno = ETIMEDOUT;
			return NULL;
		}
		if (r == -1)
			return NULL;
	}
}

static bool
harness_is_event(const json_t *msg)
{
	const char	*m = json_string_value(json_object_get(msg, "method"));

	return m != NULL && strcmp(m, "event") == 0;
}

json_t *
harness_read_response(struct harness_conn *c, long long id, int timeout_ms)
{
	json_t		*msg, *jid;
	uint64_t	 deadline = harness_deadline(timeout_ms);

	for (;;) {
		if ((msg = harness_read_line(c, harness_left(deadline))) ==
		    NULL)
			return NULL;
		jid = json_object_get(msg, "id");
		if (json_is_integer(jid) && json_integer_value(jid) == id)
			return msg;
		if (harness_is_event(msg))
			json_array_append(c->queue, json_object_get(msg,
			    "params"));
		else if (json_is_array(msg))
			/* A batch answer is the caller's to take apart. */
			return msg;
		else
			harness_trace("skipped", msg);
		json_decref(msg);
	}
}

int
harness_conn_wait_closed(struct harness_conn *c, int timeout_ms)
{
	json_t		*msg;
	uint64_t	 deadline = harness_deadline(timeout_ms);

	for (;;) {
		msg = harness_read_line(c, harness_left(deadline));
		if (msg != NULL) {
			json_decref(msg);
			continue;
		}
		if (c->eof)
			return 0;
		if (errno == ETIMEDOUT)
			return -1;
		/* A line that was not JSON: keep reading. */
		if (errno != EBADMSG)
			return -1;
	}
}

json_t *
harness_call_timeout(struct harness *h, const char *method, json_t *params,
    int timeout_ms)
{
	struct harness_conn	*c;
	json_t			*resp;
	long long		 id;

	if ((c = harness_conn_open(h)) == NULL) {
		json_decref(params);
		return NULL;
	}
	c->next_id = h->next_id++;
	if ((id = harness_conn_request(c, method, params)) == -1) {
		harness_conn_close(c);
		return NULL;
	}
	resp = harness_read_response(c, id, timeout_ms);
	if (resp == NULL) {
		if (c->eof)
			harness_warnx("%s: connection closed without an answer",
			    method);
		else
			harness_warn("%s: no answer", method);
	}
	harness_conn_close(c);
	return resp;
}

json_t *
harness_call(struct harness *h, const char *method, json_t *params)
{
	return harness_call_timeout(h, method, params, HARNESS_CALL_TIMEOUT);
}

int
harness_error_code(const json_t *response)
{
	json_t	*err = json_object_get(response, "error");

	if (!json_is_object(err))
		return 0;
	return (int)json_integer_value(json_object_get(err, "code"));
}

const char *
harness_error_kind(const json_t *response)
{
	json_t	*err = json_object_get(response, "error");

	return json_string_value(json_object_get(json_object_get(err, "data"),
	    "kind"));
}

static void
harness_print_error(const char *method, const json_t *resp)
{
	json_t		*err = json_object_get(resp, "error");
	const char	*msg = json_string_value(json_object_get(err, "message"));
	const char	*kind = harness_error_kind(resp);

	harness_warnx("%s failed: %d %s (%s)", method, harness_error_code(resp),
	    msg != NULL ? msg : "?", kind != NULL ? kind : "?");
}

json_t *
harness_result(struct harness *h, const char *method, json_t *params)
{
	json_t	*resp, *result;

	if ((resp = harness_call(h, method, params)) == NULL)
		return NULL;
	result = json_object_get(resp, "result");
	if (result == NULL) {
		harness_print_error(method, resp);
		json_decref(resp);
		return NULL;
	}
	json_incref(result);
	json_decref(resp);
	return result;
}

/*
 * Events.
 */

struct harness_conn *
harness_subscribe(struct harness *h, json_t *topics)
{
	struct harness_conn	*c;
	json_t			*resp, *params = NULL, *result;
	long long		 id;

	if (topics != NULL)
		params = json_pack("{s:o}", "topics", topics);
	if ((c = harness_conn_open(h)) == NULL) {
		json_decref(params);
		return NULL;
	}
	if ((id = harness_conn_request(c, "subscribe", params)) == -1)
		goto fail;
	if ((resp = harness_read_response(c, id, HARNESS_CALL_TIMEOUT)) ==
	    NULL) {
		harness_warnx("subscribe: no answer");
		goto fail;
	}
	if ((result = json_object_get(resp, "result")) == NULL) {
		harness_print_error("subscribe", resp);
		json_decref(resp);
		goto fail;
	}
	c->seq = json_integer_value(json_object_get(result, "seq"));
	json_decref(resp);
	return c;
fail:
	harness_conn_close(c);
	return NULL;
}

json_t *
harness_next_event(struct harness_conn *c, int timeout_ms)
{
	json_t		*msg, *params;
	uint64_t	 deadline = harness_deadline(timeout_ms);

	if (json_array_size(c->queue) > 0) {
		params = json_incref(json_array_get(c->queue, 0));
		json_array_remove(c->queue, 0);
		return params;
	}
	for (;;) {
		if ((msg = harness_read_line(c, harness_left(deadline))) ==
		    NULL) {
			if (errno == EBADMSG)
				continue;
			return NULL;
		}
		if (harness_is_event(msg)) {
			params = json_incref(json_object_get(msg, "params"));
			json_decref(msg);
			return params;
		}
		harness_trace("skipped", msg);
		json_decref(msg);
	}
}

json_t *
harness_wait_event(struct harness_conn *c, const char *type,
    const char *service, int timeout_ms)
{
	json_t		*ev;
	const char	*t, *s;
	uint64_t	 deadline = harness_deadline(timeout_ms);

	for (;;) {
		if ((ev = harness_next_event(c, harness_left(deadline))) ==
		    NULL) {
			harness_warnx("no %s event%s%s within %d ms%s", type,
			    service != NULL ? " for " : "",
			    service != NULL ? service : "", timeout_ms,
			    c->eof ? " (connection closed)" : "");
			return NULL;
		}
		t = json_string_value(json_object_get(ev, "type"));
		s = json_string_value(json_object_get(ev, "service"));
		if (t != NULL && strcmp(t, type) == 0 && (service == NULL ||
		    (s != NULL && strcmp(s, service) == 0)))
			return ev;
		json_decref(ev);
	}
}

int
harness_wait(struct harness *h, json_t *condition, int timeout_ms)
{
	json_t	*resp, *params, *status;
	char	*cond, *st;

	cond = json_dumps(condition, JSON_COMPACT | JSON_ENCODE_ANY);
	params = json_pack("{s:o, s:i}", "condition", condition, "timeout_ms",
	    timeout_ms);
	/* The socket deadline leaves warden time to say "timeout" itself. */
	resp = harness_call_timeout(h, "wait", params, timeout_ms + 5000);
	if (resp != NULL && json_object_get(resp, "result") != NULL) {
		json_decref(resp);
		free(cond);
		return 0;
	}
	harness_warnx("wait %s: not met within %d ms", cond != NULL ? cond :
	    "?", timeout_ms);
	if (resp != NULL)
		harness_print_error("wait", resp);
	json_decref(resp);
	free(cond);
	if ((status = harness_result(h, "status", NULL)) != NULL) {
		st = json_dumps(status, JSON_INDENT(1));
		harness_warnx("status: %s", st != NULL ? st : "?");
		free(st);
		json_decref(status);
	}
	return -1;
}

int
harness_wait_state(struct harness *h, const char *service, const char *state,
    int timeout_ms)
{
	return harness_wait(h, json_pack("{s:s, s:s}", "service", service,
	    "state", state), timeout_ms);
}

int
harness_wait_recovered(struct harness *h, int timeout_ms)
{
	return harness_wait(h, json_pack("{s:b}", "recovered", 1), timeout_ms);
}

json_t *
harness_service(struct harness *h, const char *service)
{
	json_t		*result, *list, *entry, *found = NULL;
	const char	*name;
	size_t		 i;

	result = harness_result(h, "status", json_pack("{s:s}", "service",
	    service));
	if (result == NULL)
		return NULL;
	list = json_object_get(result, "services");
	if (json_is_array(list)) {
		json_array_foreach(list, i, entry) {
			name = json_string_value(json_object_get(entry, "name"));
			if (name != NULL && strcmp(name, service) == 0) {
				found = json_incref(entry);
				break;
			}
		}
	} else if ((name = json_string_value(json_object_get(result, "name")))
	    != NULL && strcmp(name, service) == 0)
		found = json_incref(result);
	if (found == NULL)
		harness_warnx("status: no service %s", service);
	json_decref(result);
	return found;
}

pid_t
harness_pid_of(struct harness *h, const char *service)
{
	json_t	*entry, *pid;
	pid_t	 rv = 0;

	if ((entry = harness_service(h, service)) == NULL)
		return -1;
	pid = json_object_get(entry, "pid");
	if (json_is_integer(pid) && json_integer_value(pid) > 0)
		rv = (pid_t)json_integer_value(pid);
	json_decref(entry);
	return rv;
}

/*
 * Running programs.
 */

struct harness_buf {
	char	*data;
	size_t	 len, cap;
};

/* Read what is there; 0 at end of stream, 1 for more, -1 on error. */
static int
harness_buf_fill(struct harness_buf *b, int fd)
{
	ssize_t	n;

	if (b->cap - b->len < 4096) {
		b->cap = b->cap == 0 ? 8192 : b->cap * 2;
		b->data = xreallocarray(b->data, b->cap, 1);
	}
	n = read(fd, b->data + b->len, b->cap - b->len - 1);
	if (n == -1)
		return errno == EINTR || errno == EAGAIN ? 1 : -1;
	if (n == 0)
		return 0;
	b->len += (size_t)n;
	return 1;
}

static char *
harness_buf_take(struct harness_buf *b)
{
	if (b->data == NULL)
		return xstrdup("");
	b->data[b->len] = '\0';
	return b->data;
}

/* The environment, WARDEN_SOCKET pointing at h; *owned is to be freed. */
static char **
harness_run_env(struct harness *h, char **owned)
{
	char	**env, **e;
	size_t	  n = 0;

	for (e = environ; *e != NULL; e++)
		n++;
	env = xcalloc(n + 2, sizeof(*env));
	n = 0;
	for (e = environ; *e != NULL; e++)
		if (strncmp(*e, "WARDEN_SOCKET=", 14) != 0 &&
		    strncmp(*e, "NOTIFY_SOCKET=", 14) != 0)
			env[n++] = *e;
	*owned = NULL;
	if (h != NULL && h->sock[0] != '\0') {
		xasprintf(owned, "WARDEN_SOCKET=%s", h->sock);
		env[n] = *owned;
	}
	return env;
}

int
harness_run(struct harness *h, const char *const argv[], char **out,
    char **err, int timeout_ms)
{
	struct harness_buf	 bo = { NULL, 0, 0 }, be = { NULL, 0, 0 };
	struct pollfd		 pfd[3];
	uint64_t		 deadline = harness_deadline(timeout_ms);
	sigset_t		 none;
	char			 path[PATH_MAX], **env = NULL, *owned = NULL;
	const char		*file = argv[0];
	pid_t			 pid;
	int			 po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	int			 pidfd, st = 0, r, fd, status = -1;
	size_t			 i, nfd;
	bool			 open_o = true, open_e = true, exited = false;
	bool			 killed = false;

	if (strchr(file, '/') == NULL && h != NULL && h->bindir[0] != '\0') {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", h->bindir,
		    file) < sizeof(path) && access(path, X_OK) == 0)
			file = path;
	}
	if (pipe2(po, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    pipe2(pe, O_CLOEXEC | O_NONBLOCK) == -1) {
		harness_warn("pipe");
		goto out;
	}
	env = harness_run_env(h, &owned);
	fflush(NULL);
	if ((pid = fork()) == -1) {
		harness_warn("fork");
		goto out;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if ((fd = open("/dev/null", O_RDONLY)) == -1 ||
		    dup2(fd, 0) == -1 || dup2(po[1], 1) == -1 ||
		    dup2(pe[1], 2) == -1)
			_exit(127);
		harness_closefrom(3, -1);
		/* The pipes were O_NONBLOCK for us; the program expects blocking. */
		util_set_nonblock(1, false);
		util_set_nonblock(2, false);
		execvpe(file, (char *const *)argv, env);
		dprintf(2, "harness: exec %s: %s\n", file, strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	pidfd = proc_pidfd_open(pid);

	while (open_o || open_e || !exited) {
		nfd = 0;
		if (open_o) {
			pfd[nfd].fd = po[0];
			pfd[nfd++].events = POLLIN;
		}
		if (open_e) {
			pfd[nfd].fd = pe[0];
			pfd[nfd++].events = POLLIN;
		}
		if (!exited && pidfd != -1) {
			pfd[nfd].fd = pidfd;
			pfd[nfd++].events = POLLIN;
		}
		if (nfd == 0) {
			/* No pidfd: the pipes are closed, so it is exiting. */
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
				;
			exited = true;
			break;
		}
		r = poll(pfd, nfd, harness_left(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			harness_warnx("%s did not finish within %d ms; killed",
			    argv[0], timeout_ms);
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
				;
			killed = true;
			exited = true;
			break;
		}
		for (i = 0; i < nfd; i++) {
			if (pfd[i].revents == 0)
				continue;
			if (pfd[i].fd == po[0])
				open_o = harness_buf_fill(&bo, po[0]) == 1;
			else if (pfd[i].fd == pe[0])
				open_e = harness_buf_fill(&be, pe[0]) == 1;
			else {
				while (waitpid(pid, &st, 0) == -1 &&
				    errno == EINTR)
					;
				exited = true;
			}
		}
	}
	if (pidfd != -1)
		close(pidfd);
	if (!killed)
		status = harness_status(st);
out:
	free(owned);
	free(env);
	if (out != NULL)
		*out = harness_buf_take(&bo);
	else
		free(bo.data);
	if (err != NULL)
		*err = harness_buf_take(&be);
	else
		free(be.data);
	for (i = 0; i < 2; i++) {
		if (po[i] != -1)
			close(po[i]);
		if (pe[i] != -1)
			close(pe[i]);
	}
	return status;
}

int
harness_ctl(struct harness *h, char **out, char **err, ...)
{
	const char	*argv[64];
	va_list		 ap;
	size_t		 n = 0;
	const char	*a;

	argv[n++] = "wardenctl";
	argv[n++] = "-S";
	argv[n++] = h->sock;
	va_start(ap, err);
	while ((a = va_arg(ap, const char *)) != NULL) {
		if (n == nitems(argv) - 1) {
			va_end(ap);
			harness_warnx("harness_ctl: too many arguments");
			return -1;
		}
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	return harness_run(h, argv, out, err, 60000);
}

/*
 * Files, pids and the log.
 */

/* An inotify fd watching path for mask, or -1 (the caller then polls). */
static int
harness_watch(const char *path, uint32_t mask)
{
	int	fd;

	if ((fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) == -1)
		return -1;
	if (inotify_add_watch(fd, path, mask) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Wait for the next inotify event, or (without inotify) a short while:
 * 0 to look again, -1 when the deadline has passed.
 */
static int
harness_watch_wait(int ifd, uint64_t deadline)
{
	struct pollfd	pfd;
	char		buf[4096];
	int		left = harness_left(deadline), r;

	if (left == 0)
		return -1;
	if (ifd == -1) {
		/* No inotify on this system: fall back to a short poll. */
		(void)poll(NULL, 0, left < 10 ? left : 10);
		return 0;
	}
	pfd.fd = ifd;
	pfd.events = POLLIN;
	r = poll(&pfd, 1, left);
	if (r == -1 && errno != EINTR)
		return -1;
	while (read(ifd, buf, sizeof(buf)) > 0)
		;
	return 0;
}

char *
harness_wait_file(const char *path, const char *prev, int timeout_ms)
{
	uint64_t	 deadline = harness_deadline(timeout_ms);
	char		*copy, *s;
	int		 ifd;

	copy = xstrdup(path);
	ifd = harness_watch(dirname(copy), IN_MOVED_TO | IN_CLOSE_WRITE |
	    IN_CREATE);
	free(copy);
	/* Watch first, then look: a rename in between is not missed. */
	for (;;) {
		s = harness_read_file(path);
		if (s != NULL && (prev == NULL || strcmp(s, prev) != 0))
			break;
		free(s);
		s = NULL;
		if (harness_watch_wait(ifd, deadline) == -1) {
			harness_warnx("%s: %s within %d ms", path, prev == NULL ?
			    "not written" : "not changed", timeout_ms);
			errno = ETIMEDOUT;
			break;
		}
	}
	if (ifd != -1)
		close(ifd);
	return s;
}

pid_t
harness_wait_pidfile(const char *path, pid_t prev, int timeout_ms)
{
	uint64_t	 deadline = harness_deadline(timeout_ms);
	char		*last = NULL, *s;
	long		 pid;

	for (;;) {
		s = harness_wait_file(path, last, harness_left(deadline));
		free(last);
		if (s == NULL)
			return -1;
		pid = strtol(s, NULL, 10);
		if (pid > 0 && pid != (long)prev) {
			free(s);
			return (pid_t)pid;
		}
		last = s;
	}
}

bool
harness_pid_alive(pid_t pid)
{
	char	state;
	pid_t	ppid;

	if (pid <= 0 || harness_proc_stat(pid, &state, &ppid) == -1)
		return false;
	return state != 'Z' && state != 'X';
}

int
harness_wait_pid_gone(pid_t pid, int timeout_ms)
{
	struct pollfd	pfd;
	uint64_t	deadline = harness_deadline(timeout_ms);
	int		fd, r;

	if ((fd = proc_pidfd_open(pid)) == -1) {
		if (errno == ESRCH)
			return 0;
		/* No pidfd: look at /proc until the deadline. */
		while (harness_pid_alive(pid))
			if (harness_watch_wait(-1, deadline) == -1)
				return -1;
		return 0;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	do {
		r = poll(&pfd, 1, harness_left(deadline));
	} while (r == -1 && errno == EINTR);
	close(fd);
	if (r != 1) {
		harness_warnx("pid %ld still alive after %d ms", (long)pid,
		    timeout_ms);
		return -1;
	}
	return 0;
}

char *
harness_log(struct harness *h)
{
	return harness_read_file(h->log);
}

void
harness_log_mark(struct harness *h)
{
	struct stat	st;

	if (stat(h->log, &st) == 0)
		h->log_mark = st.st_size;
}

int
harness_wait_log(struct harness *h, const char *text, int timeout_ms)
{
	uint64_t	 deadline = harness_deadline(timeout_ms);
	size_t		 tlen = strlen(text), keep = 0, cap;
	char		*buf;
	ssize_t		 n;
	int		 fd, ifd, rv = -1;

	if ((fd = open(h->log, O_RDONLY | O_CLOEXEC)) == -1) {
		harness_warn("open %s", h->log);
		return -1;
	}
	if (lseek(fd, h->log_mark, SEEK_SET) == -1) {
		harness_warn("lseek %s", h->log);
		close(fd);
		return -1;
	}
	ifd = harness_watch(h->log, IN_MODIFY | IN_CLOSE_WRITE);
	/* keep: the end of what was read, where a match may yet start. */
	cap = tlen + 65536;
	buf = xmalloc(cap + 1);
	for (;;) {
		n = read(fd, buf + keep, cap - keep);
		if (n == -1 && errno == EINTR)
			continue;
		if (n > 0) {
			keep += (size_t)n;
			buf[keep] = '\0';
			if (memmem(buf, keep, text, tlen) != NULL) {
				rv = 0;
				break;
			}
			if (keep >= tlen) {
				memmove(buf, buf + keep - (tlen - 1), tlen - 1);
				keep = tlen - 1;
			}
			continue;
		}
		if (harness_watch_wait(ifd, deadline) == -1) {
			harness_warnx("\"%s\" not in warden.log within %d ms",
			    text, timeout_ms);
			harness_log_tail(h, 20);
			break;
		}
	}
	free(buf);
	if (ifd != -1)
		close(ifd);
	close(fd);
	return rv;
}

void
harness_log_tail(struct harness *h, int lines)
{
	struct stat	 st;
	char		*buf, *p, *line;
	off_t		 from;
	ssize_t		 n;
	int		 fd, count = 0;

	if ((fd = open(h->log, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	if (fstat(fd, &st) == -1) {
		close(fd);
		return;
	}
	/* Only the end of a log that may be huge (a flood test). */
	from = st.st_size > 65536 ? st.st_size - 65536 : 0;
	buf = xmalloc(65537);
	n = pread(fd, buf, 65536, from);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	p = buf + n;
	if (p > buf && p[-1] == '\n')
		*--p = '\0';
	while (p > buf && count < lines) {
		p--;
		if (*p == '\n')
			count++;
	}
	line = p == buf ? p : p + 1;
	fprintf(stderr, "harness: end of %s:\n", h->log);
	for (p = line; p != NULL && *p != '\0'; ) {
		char	*nl = strchr(p, '\n');

		if (nl != NULL)
			*nl = '\0';
		fprintf(stderr, "  | %s\n", p);
		p = nl != NULL ? nl + 1 : NULL;
	}
	free(buf);
}

/*
 * A private /dev/shm (harness.h): a mount namespace of this process's own,
 * every mount in it private, and a small tmpfs over /dev/shm.
 */
int
harness_private_shm(unsigned size_kib, char *why, size_t len)
{
	char	opts[64];

	if (geteuid() != 0) {
		snprintf(why, len, "a private full /dev/shm needs root "
		    "(CAP_SYS_ADMIN, to unshare(CLONE_NEWNS) and mount a "
		    "tmpfs); running as uid %ld", (long)geteuid());
		return -1;
	}
	if (unshare(CLONE_NEWNS) == -1) {
		snprintf(why, len, "unshare(CLONE_NEWNS): %s: a private full "
		    "/dev/shm needs a mount namespace of its own",
		    strerror(errno));
		return -1;
	}
	/* Nothing mounted here may reach the machine's own /dev/shm. */
	if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
		snprintf(why, len, "making / private (mount MS_REC|"
		    "MS_PRIVATE): %s", strerror(errno));
		return -1;
	}
	snprintf(opts, sizeof(opts), "size=%uk,mode=1777", size_kib);
	if (mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV,
	    opts) == -1) {
		snprintf(why, len, "mount tmpfs (%s) on /dev/shm: %s", opts,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
harness_fill(const char *path)
{
	static const char	buf[4096] = { 'f' };
	ssize_t			n;
	int			fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) == -1) {
		/* Not even an inode left: full already. */
		if (errno == ENOSPC)
			return 0;
		harness_warn("open %s", path);
		return -1;
	}
	for (;;) {
		n = write(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
	}
	if (errno != ENOSPC) {
		harness_warn("write %s", path);
		close(fd);
		return -1;
	}
	return close(fd);
}

/*
 * Under `make sanitize`, LeakSanitizer watches warden (whose exit status a
 * leak would change, failing the test) and the unit suites. The processes
 * of the integration suites themselves hold their JSON and strings until
 * the forked test exits; their leaks are not warden's, so they are not
 * reported. Only a binary built with ASan calls this.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}
