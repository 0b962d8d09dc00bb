/*
 * harness.c: run the real warden binary from integration tests (harness.h):
 * the test's folder, its configuration and warden's environment. warden's
 * life is harness-keeper.c's, the control socket harness-rpc.c's, programs,
 * files and logs harness-run.c's; harness-private.h is what they share.
 */
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
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "harness-private.h"
#include "procinfo.h"
#include "util.h"

void
harness_warnx(const char *fmt, ...)
{
	va_list	ap;

	fputs("harness: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
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

void
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
int
harness_left(uint64_t deadline)
{
	uint64_t	now = util_now_ms();

	if (now >= deadline)
		return 0;
	return deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now);
}

uint64_t
harness_deadline(int timeout_ms)
{
	return util_now_ms() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms);
}

/* waitpid(2) status as a shell would show it: code, or 128 + signal. */
int
harness_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

/* Close every fd from lowfd up, except keep (-1: none). */
void
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

void
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

/*
 * The string at key of the test's configuration into out. A key the test
 * left out is given dflt, into out and onto *add (the keys to add, as
 * JSON members); one of another type is left for warden to refuse, and
 * out as it was.
 */
static void
harness_config_key(const json_t *root, const char *key, const char *dflt,
    char **add, char *out, size_t len)
{
	const char	*s = json_string_value(json_object_get(root, key));
	char		*t;

	if (s != NULL) {
		snprintf(out, len, "%s", s);
		return;
	}
	if (json_object_get(root, key) != NULL)
		return;
	xasprintf(&t, "%s\"%s\": \"%s\", ", *add, key, dflt);
	free(*add);
	*add = t;
	snprintf(out, len, "%s", dflt);
}

int
harness_write_config(struct harness *h, const char *config_json)
{
	json_t		*root;
	json_error_t	 jerr;
	const char	*brace;
	char		*text, *add = NULL, *full, sock[PATH_MAX];
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
		harness_config_key(root, "socket", "warden.sock", &add, sock,
		    sizeof(sock));
		harness_config_key(root, "state_dir", "state", &add, state,
		    sizeof(state));
		harness_config_key(root, "table", h->injected_table, &add,
		    h->table, sizeof(h->table));
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
const char *
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

