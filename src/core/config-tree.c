/*
 * config-tree.c: the supervision tree of warden.json: supervisors and
 * their children, workers with their command, identity, environment and
 * backoff, service names taken once, and each node's fingerprint.
 */
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <signal.h>
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

static const char *const strategy_names[] = {
	[STRATEGY_ONE_FOR_ONE] = "one_for_one",
	[STRATEGY_ONE_FOR_ALL] = "one_for_all",
	[STRATEGY_REST_FOR_ONE] = "rest_for_one",
};
static const char *const restart_names[] = {
	[RESTART_PERMANENT] = "permanent",
	[RESTART_TRANSIENT] = "transient",
	[RESTART_TEMPORARY] = "temporary",
};
static const char *const ready_names[] = {
	[READY_NONE] = "none",
	[READY_NOTIFY] = "notify",
	[READY_FD] = "fd",
};
static const char *const root_keys[] = { "name", "strategy", "max_restarts",
	"max_seconds", "children", "on_failure", NULL };
static const char *const sup_keys[] = { "name", "strategy", "max_restarts",
	"max_seconds", "children", "restart", "on_failure", NULL };
static const char *const worker_keys[] = { "name", "command", "restart",
	"shutdown_ms", "stop_signal", "ready", "ready_timeout_ms", "backoff",
	"env", "cwd", "user", "group", "log", "autostart", "env_file", "umask",
	"rlimits", "on_failure", "watchdog_ms", "health", NULL };
static const char *const backoff_keys[] = { "initial_ms", "max_ms", "factor",
	"jitter", "reset_after_ms", NULL };

/* Remember a service name and where it is; a second use is an error. */
static int
config_register(struct parser *c, const char *name)
{
	struct jsonpos_path	*at = &c->je.path;
	struct config_taken	*first;
	json_t			*idx;
	int			 line = 0, col = 0;

	if ((idx = json_object_get(c->names, name)) != NULL) {
		first = &c->named[json_integer_value(idx)];
		if (jsonpos_find(c->je.text, c->je.len, first->path,
		    first->npath, 0, &line, &col) == -1)
			line = col = 0;
		return jsonerr_value(&c->je, "duplicate service name '%s' "
		    "(first at %d:%d)", name, line, col);
	}
	/* Doubling: a thousand services are not a thousand copies. */
	if ((c->nnamed & (c->nnamed - 1)) == 0)
		c->named = xreallocarray(c->named, c->nnamed ? 2 * c->nnamed : 1,
		    sizeof(*c->named));
	first = &c->named[c->nnamed];
	first->path = xreallocarray(NULL, at->n, sizeof(*first->path));
	memcpy(first->path, at->seg, at->n * sizeof(*first->path));
	first->npath = at->n;
	if (json_object_set_new(c->names, name,
	    json_integer((json_int_t)c->nnamed)) == -1)
		fatalx("config: cannot record service name");
	c->nnamed++;
	return 0;
}

/* A node's settings as one string (config-fp.c); a reload compares them. */
static int
config_fingerprint(struct parser *c, struct child_conf *n)
{
	struct fp	  f = { NULL, 0, 0 };
	size_t		  i;

	(void)c;
	fp_str(&f, "name", n->name);
	fp_fmt(&f, "kind=%s;restart=%s;", n->is_sup ? "supervisor" : "worker",
	    restart_names[n->restart]);
	if (n->is_sup) {
		fp_fmt(&f, "strategy=%s;max_restarts=%d;max_seconds=%d;",
		    strategy_names[n->strategy], n->max_restarts, n->max_seconds);
		n->fingerprint = f.buf;
		return 0;
	}
	fp_fmt(&f, "argc=%zu;", n->argc);
	for (i = 0; i < n->argc; i++)
		fp_str(&f, "arg", n->argv[i]);
	fp_fmt(&f, "shutdown_ms=%d;stop_signal=%d;ready=%s;ready_timeout_ms=%d;"
	    "backoff=%llu,%llu,%a,%a,%llu;", n->shutdown_ms, n->stop_signal,
	    ready_names[n->ready], n->ready_timeout_ms,
	    (unsigned long long)n->backoff.initial_ms,
	    (unsigned long long)n->backoff.max_ms, n->backoff.factor,
	    n->backoff.jitter, (unsigned long long)n->backoff.reset_after_ms);
	fp_env(&f, "nenv", "key", "value", n->env, n->nenv);
	fp_str(&f, "cwd", n->cwd);
	fp_str(&f, "user", n->user);
	fp_str(&f, "group", n->group);
	if (n->has_uid)
		fp_fmt(&f, "uid=%ld;", (long)n->uid);
	if (n->has_gid)
		fp_fmt(&f, "gid=%ld;", (long)n->gid);
	config_proc_fingerprint(&f, n);
	n->fingerprint = f.buf;
	return 0;
}

static int
config_backoff(struct parser *c, json_t *obj, struct backoff_conf *b)
{
	int	initial = (int)b->initial_ms, max = (int)b->max_ms;
	int	reset = (int)b->reset_after_ms;

	if (jsonerr_object(&c->je, obj, backoff_keys) == -1 ||
	    config_opt_int(c, obj, "initial_ms", 0, INT_MAX, &initial) == -1 ||
	    config_opt_int(c, obj, "max_ms", 0, INT_MAX, &max) == -1 ||
	    config_opt_num(c, obj, "factor", 1.0, HUGE_VAL, &b->factor) == -1 ||
	    config_opt_num(c, obj, "jitter", 0.0, 1.0, &b->jitter) == -1 ||
	    config_opt_int(c, obj, "reset_after_ms", 0, INT_MAX, &reset) == -1)
		return -1;
	if (max < initial) {
		/* Point at whichever of the two was written. */
		if (json_object_get(obj, "max_ms") != NULL) {
			jsonerr_push_key(&c->je, "max_ms");
			return jsonerr_value(&c->je, "must be >= initial_ms "
			    "(%d)", initial);
		}
		jsonerr_push_key(&c->je, "initial_ms");
		return jsonerr_value(&c->je, "must be <= max_ms (%d)", max);
	}
	b->initial_ms = (uint32_t)initial;
	b->max_ms = (uint32_t)max;
	b->reset_after_ms = (uint32_t)reset;
	return 0;
}

static int
config_env(struct parser *c, json_t *obj, struct child_conf *n)
{
	const char	*key;
	json_t		*v;

	if (!json_is_object(obj))
		return jsonerr_value(&c->je, "expected an object");
	n->env = xcalloc(json_object_size(obj), sizeof(*n->env));
	json_object_foreach(obj, key, v) {
		jsonerr_push_key(&c->je, key);
		if (key[0] == '\0' || strchr(key, '=') != NULL)
			return jsonerr_key(&c->je, "invalid variable name: "
			    "must be non-empty and without '='");
		if (!json_is_string(v))
			return jsonerr_value(&c->je, "expected a string");
		n->env[n->nenv].key = xstrdup(key);
		n->env[n->nenv].value = xstrdup(json_string_value(v));
		n->nenv++;
		jsonerr_pop(&c->je);
	}
	return 0;
}

static int
config_identity(struct parser *c, json_t *obj, struct child_conf *n)
{
	struct passwd	*pw;
	struct group	*gr;
	json_t		*v;
	const char	*s;

	if ((v = jsonerr_get(&c->je, obj, "user")) != NULL) {
		if (config_str(c, v, &s) == -1)
			return -1;
		/* errno after a miss varies by NSS module: a miss is a miss. */
		if ((pw = getpwnam(s)) == NULL)
			return jsonerr_value(&c->je, "unknown user '%s'", s);
		n->user = xstrdup(s);
		n->uid = pw->pw_uid;
		n->gid = pw->pw_gid;
		n->has_uid = n->has_gid = true;
		jsonerr_pop(&c->je);
	}
	if ((v = jsonerr_get(&c->je, obj, "group")) != NULL) {
		if (config_str(c, v, &s) == -1)
			return -1;
		if ((gr = getgrnam(s)) == NULL)
			return jsonerr_value(&c->je, "unknown group '%s'", s);
		n->group = xstrdup(s);
		n->gid = gr->gr_gid;
		n->has_gid = true;
		jsonerr_pop(&c->je);
	}
	return 0;
}

/*
 * Which of a file's permission classes the worker's user falls in, as the
 * kernel decides it: 'r' for root (who needs no bit on a folder and one
 * execute bit on a file), else 'u', 'g' or 'o'. With a user set the worker
 * keeps only its gid (spawn drops the supplementary groups); without, it
 * has warden's ids and groups.
 */
static int
config_perm_class(const struct stat *st, const struct child_conf *n)
{
	gid_t	groups[NGROUPS_MAX];
	uid_t	uid = n->has_uid ? n->uid : geteuid();
	gid_t	gid = n->has_gid ? n->gid : getegid();
	int	i, ng;

	if (uid == 0)
		return 'r';
	if (st->st_uid == uid)
		return 'u';
	if (st->st_gid == gid)
		return 'g';
	if (!n->has_uid && (ng = getgroups(NGROUPS_MAX, groups)) > 0) {
		for (i = 0; i < ng; i++)
			if (groups[i] == st->st_gid)
				return 'g';
	}
	return 'o';
}

/*
 * Whether the worker's user has the x bit of st: execute for a file,
 * search for a folder.
 */
static int
config_has_x(const struct stat *st, const struct child_conf *n)
{
	switch (config_perm_class(st, n)) {
	case 'r':
		return S_ISDIR(st->st_mode) ||
		    (st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
	case 'u':
		return (st->st_mode & S_IXUSR) != 0;
	case 'g':
		return (st->st_mode & S_IXGRP) != 0;
	default:
		return (st->st_mode & S_IXOTH) != 0;
	}
}

/*
 * The first folder of the absolute path (each prefix ending before a '/',
 * "/" first) that the worker's user may not search, in why; 0 when none.
 * stat(2) follows a link, so a link to a folder is judged by that folder.
 */
static int
config_folders_problem(const char *path, const struct child_conf *n,
    char *why, size_t len)
{
	struct stat	 st;
	char		 dir[PATH_MAX];
	const char	*p;
	size_t		 dlen;

	for (p = strchr(path, '/'); p != NULL; p = strchr(p + 1, '/')) {
		dlen = p == path ? 1 : (size_t)(p - path);
		if (dlen >= sizeof(dir))
			break;
		memcpy(dir, path, dlen);
		dir[dlen] = '\0';
		if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode))
			continue;	/* the file's own stat says why */
		if (config_has_x(&st, n))
			continue;
		if (n->user != NULL)
			snprintf(why, len, "the folder %s is not searchable by "
			    "user %s", dir, n->user);
		else
			snprintf(why, len, "the folder %s is not searchable",
			    dir);
		return -1;
	}
	return 0;
}

/*
 * The same for the folders of the path as written and, when a link
 * leads elsewhere, of the path it resolves to: exec walks both.
 */
static int
config_search_problem(const char *path, const struct child_conf *n,
    char *why, size_t len)
{
	char	real[PATH_MAX];

	if (config_folders_problem(path, n, why, len) == -1)
		return -1;
	if (realpath(path, real) == NULL || strcmp(real, path) == 0)
		return 0;
	return config_folders_problem(real, n, why, len);
}

/*
 * Why path cannot be executed by the worker's user, in why; 0 when it
 * can. ENOENT and the like as stat(2) says; a folder on the way the user
 * may not search, the file itself as a folder, a device, by name.
 */
static int
config_exec_problem(const char *path, const struct child_conf *n,
    char *why, size_t len)
{
	struct stat	st;

	if (stat(path, &st) == -1) {
		snprintf(why, len, "%s", strerror(errno));
		return -1;
	}
	if (config_search_problem(path, n, why, len) == -1)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		snprintf(why, len, "is a directory");
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "not a regular file");
		return -1;
	}
	if (!config_has_x(&st, n)) {
		if (n->user != NULL)
			snprintf(why, len, "not executable by user %s", n->user);
		else
			snprintf(why, len, "not executable");
		return -1;
	}
	return 0;
}

/*
 * The command must name a file the worker's user can execute: a path
 * (made absolute against the config's folder already) as it is, a bare
 * name the way execvp(3) looks it up: in warden's PATH (the worker's env
 * does not take part), "/bin:/usr/bin" without one, each relative entry
 * against the worker's cwd, the first entry that holds an executable
 * file. Only config_load() looks; config_parse() reads text alone. The
 * walk is at the array (a health probe's "exec" is checked the same way).
 */
int
config_argv_check(struct parser *c, struct child_conf *n)
{
	const char	*path, *p, *end;
	char		 why[PATH_MAX + 128], cand[PATH_MAX];
	int		 found = 0, rv = 0;
	size_t		 dlen;

	if (!c->check_commands)
		return 0;
	jsonerr_push_index(&c->je, 0);
	if (strchr(n->argv[0], '/') != NULL) {
		if (config_exec_problem(n->argv[0], n, why, sizeof(why)) == -1)
			rv = jsonerr_value(&c->je, "%s: %s", n->argv[0], why);
		goto out;
	}
	if ((path = getenv("PATH")) == NULL)
		path = "/bin:/usr/bin";
	why[0] = '\0';
	for (p = path; !found; p = end + 1) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		dlen = (size_t)(end - p);
		if (dlen == 0)
			snprintf(cand, sizeof(cand), "%s/%s", n->cwd, n->argv[0]);
		else if (*p != '/')
			snprintf(cand, sizeof(cand), "%s/%.*s/%s", n->cwd,
			    (int)dlen, p, n->argv[0]);
		else
			snprintf(cand, sizeof(cand), "%.*s/%s", (int)dlen, p,
			    n->argv[0]);
		if (config_exec_problem(cand, n, why, sizeof(why)) == 0)
			found = 1;
		if (*end == '\0')
			break;
	}
	if (!found)
		rv = jsonerr_value(&c->je, "%s: not found in PATH", n->argv[0]);
out:
	if (rv == 0)
		jsonerr_pop(&c->je);
	return rv;
}

int
config_command_check(struct parser *c, struct child_conf *n)
{
	if (!c->check_commands)
		return 0;
	jsonerr_push_key(&c->je, "command");
	if (config_argv_check(c, n) == -1)
		return -1;
	jsonerr_pop(&c->je);
	return 0;
}

static int
config_worker(struct parser *c, json_t *obj, struct child_conf *n)
{
	json_t		*v;
	long long	 ll;
	int		 x;

	v = jsonerr_get(&c->je, obj, "command");
	if (config_argv(c, v, &n->argv, &n->argc) == -1)
		return -1;
	jsonerr_pop(&c->je);

	if ((v = jsonerr_get(&c->je, obj, "shutdown_ms")) != NULL) {
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), "brutal_kill") == 0)
			n->shutdown_ms = SHUTDOWN_BRUTAL_KILL;
		else if (json_is_string(v) &&
		    strcmp(json_string_value(v), "infinity") == 0)
			n->shutdown_ms = SHUTDOWN_INFINITY;
		else if (config_whole(v, &ll) == 0 && ll >= 0 && ll <= INT_MAX)
			n->shutdown_ms = (int)ll;
		else
			return jsonerr_value(&c->je, "expected an integer "
			    ">= 0, \"brutal_kill\" or \"infinity\"");
		jsonerr_pop(&c->je);
	}
	if ((v = jsonerr_get(&c->je, obj, "stop_signal")) != NULL) {
		x = -1;
		if (json_is_string(v))
			x = util_signal_parse(json_string_value(v));
		else if (config_whole(v, &ll) == 0 && ll >= 1 && ll < NSIG)
			x = (int)ll;
		if (x == -1)
			return jsonerr_value(&c->je, "expected a signal name "
			    "like \"TERM\" or a number");
		n->stop_signal = x;
		jsonerr_pop(&c->je);
	}
	x = (int)n->ready;
	if (config_opt_enum(c, obj, "ready", ready_names, nitems(ready_names),
	    &x) == -1)
		return -1;
	n->ready = (enum ready_mode)x;
	if (config_opt_int(c, obj, "ready_timeout_ms", 1, INT_MAX,
	    &n->ready_timeout_ms) == -1)
		return -1;
	n->implicit_backoff = json_object_get(obj, "backoff") == NULL;
	if ((v = jsonerr_get(&c->je, obj, "backoff")) != NULL) {
		if (config_backoff(c, v, &n->backoff) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	if ((v = jsonerr_get(&c->je, obj, "env")) != NULL) {
		if (config_env(c, v, n) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	if ((v = jsonerr_get(&c->je, obj, "log")) != NULL) {
		if (config_log(c, v, &n->log) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	n->cwd = xstrdup(c->conf->dir);
	if (config_opt_path(c, obj, "cwd", 0, &n->cwd) == -1 ||
	    config_identity(c, obj, n) == -1 ||
	    config_proc(c, obj, n) == -1 ||
	    config_command_check(c, n) == -1 ||
	    config_opt_hook(c, obj, &n->on_failure) == -1 ||
	    config_opt_health(c, obj, n, &n->health) == -1)
		return -1;
	return config_fingerprint(c, n);
}

static int
config_supervisor(struct parser *c, json_t *obj, struct child_conf *n)
{
	json_t	*v, *e;
	size_t	 i;
	int	 x;

	x = (int)n->strategy;
	if (config_opt_enum(c, obj, "strategy", strategy_names,
	    nitems(strategy_names), &x) == -1)
		return -1;
	n->strategy = (enum strategy)x;
	/* Nothing given: the safe regime for its workers (restart.h). */
	n->implicit_intensity = json_object_get(obj, "max_restarts") == NULL &&
	    json_object_get(obj, "max_seconds") == NULL;
	if (config_opt_int(c, obj, "max_restarts", 0, CONFIG_MAX_RESTARTS,
	    &n->max_restarts) == -1 ||
	    config_opt_int(c, obj, "max_seconds", 1, INT_MAX,
	    &n->max_seconds) == -1 ||
	    config_opt_hook(c, obj, &n->on_failure) == -1 ||
	    config_fingerprint(c, n) == -1)
		return -1;
	if ((v = jsonerr_get(&c->je, obj, "children")) == NULL)
		return jsonerr_missing(&c->je, "children");
	if (!json_is_array(v))
		return jsonerr_value(&c->je, "expected an array");
	n->children = xcalloc(json_array_size(v), sizeof(*n->children));
	n->nchildren = json_array_size(v);
	json_array_foreach(v, i, e) {
		jsonerr_push_index(&c->je, i);
		if (config_child(c, e, 0, &n->children[i]) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	jsonerr_pop(&c->je);
	return 0;
}

/*
 * One node of the tree. *out is set first, so that the caller frees a
 * half-built node along with the rest on error.
 */
int
config_child(struct parser *c, json_t *obj, int is_root,
    struct child_conf **out)
{
	struct child_conf	*n;
	const char		*problem;
	json_t			*v;
	int			 has_cmd, has_children, x;

	n = xcalloc(1, sizeof(*n));
	*out = n;
	n->restart = RESTART_PERMANENT;
	n->strategy = STRATEGY_ONE_FOR_ONE;
	n->max_restarts = 3;
	n->max_seconds = 5;
	n->shutdown_ms = 5000;
	n->stop_signal = SIGTERM;
	n->ready = READY_NONE;
	n->ready_timeout_ms = 5000;
	n->backoff.initial_ms = 0;
	n->backoff.max_ms = 30000;
	n->backoff.factor = 2.0;
	n->backoff.jitter = 0.2;
	n->backoff.reset_after_ms = 10000;
	config_log_defaults(&n->log);
	n->autostart = true;
	n->umask = -1;

	if (!json_is_object(obj))
		return jsonerr_value(&c->je, "expected an object");
	has_cmd = json_object_get(obj, "command") != NULL;
	has_children = json_object_get(obj, "children") != NULL;
	if (is_root) {
		n->is_sup = true;
		if (jsonerr_keys(&c->je, obj, root_keys, NULL) == -1)
			return -1;
	} else if (has_cmd && has_children)
		return jsonerr_value(&c->je, "both command and children: a "
		    "worker has a command, a supervisor has children");
	else if (!has_cmd && !has_children) {
		/* A misspelt key says more than "neither". */
		if (jsonerr_keys(&c->je, obj, worker_keys, sup_keys) == -1)
			return -1;
		return jsonerr_value(&c->je, "expected command (a worker) or "
		    "children (a supervisor)");
	} else {
		n->is_sup = has_children;
		if (jsonerr_keys(&c->je, obj, has_children ? sup_keys :
		    worker_keys, NULL) == -1)
			return -1;
	}

	if ((v = jsonerr_get(&c->je, obj, "name")) != NULL) {
		if (!json_is_string(v))
			return jsonerr_value(&c->je, "expected a string");
		problem = config_name_problem(json_string_value(v));
		if (problem != NULL)
			return jsonerr_value(&c->je, "%s", problem);
		n->name = xstrdup(json_string_value(v));
		if (config_register(c, n->name) == -1)
			return -1;
		jsonerr_pop(&c->je);
	} else if (is_root) {
		/* Registered at the supervisor object, for "first at". */
		n->name = xstrdup("root");
		if (config_register(c, n->name) == -1)
			return -1;
	} else
		return jsonerr_missing(&c->je, "name");

	x = (int)n->restart;
	if (config_opt_enum(c, obj, "restart", restart_names,
	    nitems(restart_names), &x) == -1)
		return -1;
	n->restart = (enum restart_type)x;
	if (n->is_sup)
		return config_supervisor(c, obj, n);
	return config_worker(c, obj, n);
}

void
config_child_free(struct child_conf *n)
{
	size_t	i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nchildren; i++)
		config_child_free(n->children[i]);
	free(n->children);
	for (i = 0; i < n->argc; i++)
		free(n->argv[i]);
	free(n->argv);
	for (i = 0; i < n->nenv; i++) {
		free(n->env[i].key);
		free(n->env[i].value);
	}
	free(n->env);
	config_proc_free(n);
	free(n->name);
	free(n->cwd);
	free(n->log.file);
	free(n->user);
	free(n->group);
	free(n->fingerprint);
	config_hook_free(n->on_failure);
	config_health_free(n->health);
	free(n);
}


const char *
config_strategy_name(enum strategy s)
{
	if ((size_t)s >= nitems(strategy_names))
		return "unknown";
	return strategy_names[s];
}

const char *
config_restart_name(enum restart_type r)
{
	if ((size_t)r >= nitems(restart_names))
		return "unknown";
	return restart_names[r];
}

const char *
config_ready_name(enum ready_mode r)
{
	if ((size_t)r >= nitems(ready_names))
		return "unknown";
	return ready_names[r];
}
