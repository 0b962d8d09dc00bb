/*
 * config-proc.c: a worker's settings for its process and its start:
 * "autostart", "env_file" (read here, when the configuration is read, so
 * that a bad file is a config error and a reload with one changes
 * nothing; a reexec hands over what was read instead), "umask" and
 * "rlimits", with the one table of limit names.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config-int.h"
#include "jsonerr.h"
#include "log.h"
#include "util.h"

/* Every limit Linux has, by the name setrlimit(2) gives it less RLIMIT_. */
static const struct {
	const char	*name;
	int		 resource;
} proc_limits[] = {
	{ "as",		RLIMIT_AS },
	{ "core",	RLIMIT_CORE },
	{ "cpu",	RLIMIT_CPU },
	{ "data",	RLIMIT_DATA },
	{ "fsize",	RLIMIT_FSIZE },
	{ "locks",	RLIMIT_LOCKS },
	{ "memlock",	RLIMIT_MEMLOCK },
	{ "msgqueue",	RLIMIT_MSGQUEUE },
	{ "nice",	RLIMIT_NICE },
	{ "nofile",	RLIMIT_NOFILE },
	{ "nproc",	RLIMIT_NPROC },
	{ "rss",	RLIMIT_RSS },
	{ "rtprio",	RLIMIT_RTPRIO },
	{ "rttime",	RLIMIT_RTTIME },
	{ "sigpending",	RLIMIT_SIGPENDING },
	{ "stack",	RLIMIT_STACK },
};

/* A bad line of an env file: "PATH:LINE: what", at the env_file value. */
static int __attribute__((format(printf, 4, 5)))
config_proc_file_err(struct parser *c, const char *path, size_t line,
    const char *fmt, ...)
{
	char	what[256];
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return jsonerr_value(&c->je, "%s:%zu: %s", path, line, what);
}

/* The whole file, at most CONFIG_ENV_FILE_MAX bytes; -1 with the error. */
static int
config_proc_read(struct parser *c, const char *path, char **out, size_t *len)
{
	struct stat	 st;
	char		*buf;
	size_t		 n = 0;
	ssize_t		 r;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1)
		return jsonerr_value(&c->je, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return jsonerr_value(&c->je, "%s: not a regular file", path);
	}
	/* One byte more than allowed tells a file that grew too big. */
	buf = xmalloc(CONFIG_ENV_FILE_MAX + 1);
	while (n <= CONFIG_ENV_FILE_MAX) {
		r = read(fd, buf + n, CONFIG_ENV_FILE_MAX + 1 - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			free(buf);
			(void)close(fd);
			return jsonerr_value(&c->je, "%s: %s", path,
			    strerror(errno));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	(void)close(fd);
	if (n > CONFIG_ENV_FILE_MAX) {
		free(buf);
		return jsonerr_value(&c->je, "%s: larger than 1 MiB (%d bytes)",
		    path, CONFIG_ENV_FILE_MAX);
	}
	*out = buf;
	*len = n;
	return 0;
}

/*
 * A reexec's: the content the last image read, in hex. A path missing is
 * an error: the running workers' variables are not to be guessed.
 */
static int
config_proc_given(struct parser *c, const char *path, char **out,
    size_t *len)
{
	json_t	*v = json_object_get(c->env_files, path);

	if (!json_is_string(v))
		return jsonerr_value(&c->je, "%s: not in the handover", path);
	if (util_hex_decode(json_string_value(v), CONFIG_ENV_FILE_MAX, out,
	    len) == -1)
		return jsonerr_value(&c->je, "%s: its content in the handover "
		    "is not hex of at most 1 MiB", path);
	return 0;
}

/* A shell-style name: letters, digits and '_', not starting with a digit. */
static int
config_proc_key_ok(const char *k, size_t n)
{
	size_t	i;

	if (n == 0 || (k[0] >= '0' && k[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
		    (k[i] >= 'A' && k[i] <= 'Z') ||
		    (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
			return 0;
	return 1;
}

/* KEY=VALUE: later lines replace earlier ones, at the earlier place. */
static void
config_proc_put(struct child_conf *n, json_t *seen, size_t *cap,
    const char *k, size_t klen, const char *v, size_t vlen)
{
	char	*key = xmalloc(klen + 1), *value = xmalloc(vlen + 1);
	json_t	*idx;

	memcpy(key, k, klen);
	key[klen] = '\0';
	memcpy(value, v, vlen);
	value[vlen] = '\0';
	if ((idx = json_object_get(seen, key)) != NULL) {
		free(key);
		free(n->file_env[json_integer_value(idx)].value);
		n->file_env[json_integer_value(idx)].value = value;
		return;
	}
	if (n->nfile_env == *cap) {
		*cap = *cap != 0 ? *cap * 2 : 16;
		n->file_env = xreallocarray(n->file_env, *cap,
		    sizeof(*n->file_env));
	}
	if (json_object_set_new(seen, key,
	    json_integer((json_int_t)n->nfile_env)) == -1)
		fatalx("config: cannot record a variable");
	n->file_env[n->nfile_env].key = key;
	n->file_env[n->nfile_env].value = value;
	n->nfile_env++;
}

/*
 * One line (no '\n'; a '\r' before it already gone): blank, a # comment,
 * or [export ]KEY=VALUE, VALUE in "" or '' taken as it is inside, else
 * without its trailing blanks.
 */
static int
config_proc_line(struct parser *c, struct child_conf *n, json_t *seen,
    size_t *cap, const char *p, size_t len, size_t lineno)
{
	const char	*eq, *v;
	char		 shown[65];
	size_t		 klen, vlen, i;

	if (memchr(p, '\0', len) != NULL)
		return config_proc_file_err(c, n->env_file, lineno,
		    "a NUL byte");
	while (len > 0 && (*p == ' ' || *p == '\t'))
		p++, len--;
	if (len == 0 || *p == '#')
		return 0;
	if (len > 7 && strncmp(p, "export", 6) == 0 &&
	    (p[6] == ' ' || p[6] == '\t')) {
		p += 7, len -= 7;
		while (len > 0 && (*p == ' ' || *p == '\t'))
			p++, len--;
	}
	if ((eq = memchr(p, '=', len)) == NULL)
		return config_proc_file_err(c, n->env_file, lineno,
		    "no '=' (expected KEY=VALUE)");
	klen = (size_t)(eq - p);
	if (!config_proc_key_ok(p, klen)) {
		/* The error is one line of text (and of JSON): bytes shown as '?'. */
		for (i = 0; i < klen && i < sizeof(shown) - 1; i++)
			shown[i] = p[i] >= ' ' && p[i] < 0x7f ? p[i] : '?';
		shown[i] = '\0';
		return config_proc_file_err(c, n->env_file, lineno,
		    "invalid variable name '%s': letters, digits and '_', "
		    "not starting with a digit", shown);
	}
	v = eq + 1;
	vlen = len - klen - 1;
	if (vlen > 0 && (*v == '"' || *v == '\'')) {
		if (vlen < 2 || v[vlen - 1] != *v ||
		    memchr(v + 1, *v, vlen - 2) != NULL)
			return config_proc_file_err(c, n->env_file, lineno,
			    "a value in %s quotes must be the rest of the line and "
			    "hold no other",
			    *v == '"' ? "double" : "single");
		v++;
		vlen -= 2;
	} else {
		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
	}
	config_proc_put(n, seen, cap, p, klen, v, vlen);
	return 0;
}

static int
config_proc_env_file(struct parser *c, json_t *obj, struct child_conf *n)
{
	json_t		*v, *seen;
	const char	*s, *p, *nl, *end;
	char		*text = NULL;
	size_t		 len = 0, lineno = 0, cap = 0, llen;
	int		 rv = 0;

	if ((v = jsonerr_get(&c->je, obj, "env_file")) == NULL)
		return 0;
	if (config_str(c, v, &s) == -1)
		return -1;
	n->env_file = config_abspath(c, s);
	if (c->env_given && c->env_files == NULL) {
		/* The text alone is checked. */
		jsonerr_pop(&c->je);
		return 0;
	}
	if ((c->env_given ? config_proc_given(c, n->env_file, &text, &len) :
	    config_proc_read(c, n->env_file, &text, &len)) == -1)
		return -1;
	seen = json_object();
	for (p = text, end = text + len; p < end && rv == 0; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		llen = (size_t)(nl - p);
		if (llen > 0 && p[llen - 1] == '\r')
			llen--;
		rv = config_proc_line(c, n, seen, &cap, p, llen, lineno);
	}
	json_decref(seen);
	/* Kept as read (not the buffer of 1 MiB) for a reexec. */
	n->env_text = xreallocarray(text, len + 1, 1);
	n->env_textlen = len;
	if (rv == 0)
		jsonerr_pop(&c->je);
	return rv;
}

static int
config_proc_umask(struct parser *c, json_t *obj, struct child_conf *n)
{
	json_t		*v;
	const char	*s;
	int		 m = 0;

	if ((v = jsonerr_get(&c->je, obj, "umask")) == NULL)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    strspn(json_string_value(v), "01234567") != json_string_length(v))
		return jsonerr_value(&c->je, "expected a string of octal "
		    "digits like \"0027\"");
	for (s = json_string_value(v); *s != '\0'; s++) {
		m = m * 8 + (*s - '0');
		if (m > 0777)
			return jsonerr_value(&c->je, "must be at most \"0777\"");
	}
	n->umask = m;
	jsonerr_pop(&c->je);
	return 0;
}

/* One value of a limit: an integer >= 0 or "infinity". */
static int
config_proc_rlim(struct parser *c, json_t *v, rlim_t *out)
{
	long long	ll;

	if (json_is_string(v) && strcmp(json_string_value(v), "infinity") == 0) {
		*out = RLIM_INFINITY;
		return 0;
	}
	if (config_whole(v, &ll) == -1 || ll < 0 || ll == LLONG_MAX)
		return jsonerr_value(&c->je, "expected an integer >= 0 or "
		    "\"infinity\"");
	*out = (rlim_t)ll;
	return 0;
}

/* A number or "infinity" (soft and hard alike), or [soft, hard]. */
static int
config_proc_limit(struct parser *c, json_t *v, struct rlimit_conf *l)
{
	json_t	*e;
	size_t	 i;
	rlim_t	 two[2];

	if (!json_is_array(v)) {
		if (config_proc_rlim(c, v, &l->soft) == -1)
			return -1;
		l->hard = l->soft;
		return 0;
	}
	if (json_array_size(v) != 2)
		return jsonerr_value(&c->je, "expected [soft, hard]");
	json_array_foreach(v, i, e) {
		jsonerr_push_index(&c->je, i);
		if (config_proc_rlim(c, e, &two[i]) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	/* RLIM_INFINITY is the largest rlim_t: infinity is above all. */
	if (two[0] > two[1])
		return jsonerr_value(&c->je, "the soft limit is above the hard "
		    "limit");
	l->soft = two[0];
	l->hard = two[1];
	return 0;
}

static int
config_proc_rlimits(struct parser *c, json_t *obj, struct child_conf *n)
{
	const char	*key;
	json_t		*v, *lim;
	size_t		 i;

	if ((v = jsonerr_get(&c->je, obj, "rlimits")) == NULL)
		return 0;
	if (!json_is_object(v))
		return jsonerr_value(&c->je, "expected an object");
	json_object_foreach(v, key, lim) {
		for (i = 0; i < nitems(proc_limits); i++)
			if (strcmp(key, proc_limits[i].name) == 0)
				break;
		if (i == nitems(proc_limits)) {
			jsonerr_push_key(&c->je, key);
			return jsonerr_key(&c->je, "unknown limit: one of as, "
			    "core, cpu, data, fsize, locks, memlock, msgqueue, "
			    "nice, nofile, nproc, rss, rtprio, rttime, "
			    "sigpending, stack");
		}
	}
	n->rlimits = xcalloc(json_object_size(v) + 1, sizeof(*n->rlimits));
	/* In the table's order, whatever the text's. */
	for (i = 0; i < nitems(proc_limits); i++) {
		if ((lim = jsonerr_get(&c->je, v, proc_limits[i].name)) == NULL)
			continue;
		n->rlimits[n->nrlimits].resource = proc_limits[i].resource;
		n->rlimits[n->nrlimits].name = proc_limits[i].name;
		if (config_proc_limit(c, lim, &n->rlimits[n->nrlimits]) == -1)
			return -1;
		n->nrlimits++;
		jsonerr_pop(&c->je);
	}
	jsonerr_pop(&c->je);
	return 0;
}

/*
 * "watchdog_ms": the worker says WATCHDOG=1 at least that often, over the
 * NOTIFY_SOCKET it has only with "ready": "notify" (read before this).
 */
static int
config_proc_watchdog(struct parser *c, json_t *obj, struct child_conf *n)
{
	if (config_opt_int(c, obj, "watchdog_ms", CONFIG_WATCHDOG_MIN,
	    CONFIG_WATCHDOG_MAX, &n->watchdog_ms) == -1)
		return -1;
	if (n->watchdog_ms != 0 && n->ready != READY_NOTIFY) {
		(void)jsonerr_get(&c->je, obj, "watchdog_ms");
		return jsonerr_value(&c->je, "needs \"ready\": \"notify\": "
		    "WATCHDOG=1 comes over the NOTIFY_SOCKET");
	}
	return 0;
}

int
config_proc(struct parser *c, json_t *obj, struct child_conf *n)
{
	json_t	*v;

	if ((v = jsonerr_get(&c->je, obj, "autostart")) != NULL) {
		if (!json_is_boolean(v))
			return jsonerr_value(&c->je, "expected true or false");
		n->autostart = json_is_true(v);
		jsonerr_pop(&c->je);
	}
	if (config_proc_env_file(c, obj, n) == -1 ||
	    config_proc_umask(c, obj, n) == -1 ||
	    config_proc_rlimits(c, obj, n) == -1 ||
	    config_proc_watchdog(c, obj, n) == -1)
		return -1;
	return 0;
}

static void
config_proc_env_texts(const struct child_conf *n, json_t *files)
{
	char	*hex;
	size_t	 i;

	if (n->env_file != NULL && n->env_text != NULL) {
		hex = util_hex_encode(n->env_text, n->env_textlen);
		if (json_object_set_new(files, n->env_file,
		    json_string(hex)) == -1)
			fatalx("config: cannot describe %s", n->env_file);
		free(hex);
	}
	for (i = 0; i < n->nchildren; i++)
		config_proc_env_texts(n->children[i], files);
}

json_t *
config_env_files(const struct config *conf)
{
	json_t	*files = json_object();

	if (files == NULL)
		fatalx("config: out of memory");
	if (conf->root != NULL)
		config_proc_env_texts(conf->root, files);
	return files;
}

/* --- the fingerprint ------------------------------------------------------ */

/*
 * What changes the process: the env file's variables (not its path: the
 * same variables from another file are the same environment), the umask,
 * the limits, the watchdog (WATCHDOG_USEC in its environment). autostart is not here: it says whether warden starts the
 * service, not what runs, so a reload that changes only it restarts
 * nothing.
 */
void
config_proc_fingerprint(struct fp *f, const struct child_conf *n)
{
	size_t	i;

	if (n->env_file != NULL)
		fp_env(f, "env_file", "fkey", "fvalue", n->file_env,
		    n->nfile_env);
	if (n->umask != -1)
		fp_fmt(f, "umask=%o;", (unsigned)n->umask);
	if (n->watchdog_ms != 0)
		fp_fmt(f, "watchdog_ms=%d;", n->watchdog_ms);
	for (i = 0; i < n->nrlimits; i++)
		fp_fmt(f, "rlimit=%s,%llu,%llu;", n->rlimits[i].name,
		    (unsigned long long)n->rlimits[i].soft,
		    (unsigned long long)n->rlimits[i].hard);
}

void
config_proc_free(struct child_conf *n)
{
	size_t	i;

	for (i = 0; i < n->nfile_env; i++) {
		free(n->file_env[i].key);
		free(n->file_env[i].value);
	}
	free(n->file_env);
	free(n->env_file);
	free(n->env_text);
	free(n->rlimits);
}
