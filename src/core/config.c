/*
 * config.c: warden.json, parsed and validated up front (see config.h).
 *
 * jansson parses the text; every semantic check below walks the resulting
 * tree while keeping the key path it is at, so that an error can name the
 * path and, through jsonpos, the line and column of the offending value.
 * The first error stops the load and the partial config is freed: callers
 * either get a complete config or one error line.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
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
#include "jsonpos.h"
#include "log.h"
#include "util.h"

#define CONFIG_TABLE_MAX	255	/* NAME_MAX of /dev/shm */

/* A service name already taken, and where its value is. */
struct config_taken {
	struct jsonpos_seg	*path;
	size_t			 npath;
};

/* The state of one parse: where we are in the tree and what is taken. */
struct parser {
	const char		*text;
	size_t			 len;
	const char		*file;
	char			*err;
	size_t			 errlen;
	struct config		*conf;

	struct jsonpos_path	 kp;	/* where the walk is */

	json_t			*names;	/* service name -> index in named */
	struct config_taken		*named;
	size_t			 nnamed;

	int			 check_commands; /* look at the files (config_load) */
};

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
static const char *const guard_actions[] = { "rollback" };

static const char *const top_keys[] = { "socket", "socket_mode", "state_dir",
	"table", "access", "flags", "stages", "guard", "limits", "supervisor", NULL };
static const char *const limits_keys[] = { "max_line_bytes", "max_clients",
	"idle_ms", "max_output_bytes", "subscriber_queue_bytes", "max_json_depth",
	"max_batch", "max_pending", NULL };
static const char *const access_keys[] = { "operate", "admin", NULL };
static const char *const access_list_keys[] = { "uids", "groups", NULL };
static const char *const flag_keys[] = { "default", "description", NULL };
static const char *const stage_keys[] = { "stage", "enable", NULL };
static const char *const guard_keys[] = { "max_restarts", "window_s",
	"action", NULL };
static const char *const root_keys[] = { "name", "strategy", "max_restarts",
	"max_seconds", "children", NULL };
static const char *const sup_keys[] = { "name", "strategy", "max_restarts",
	"max_seconds", "children", "restart", NULL };
static const char *const worker_keys[] = { "name", "command", "restart",
	"shutdown_ms", "stop_signal", "ready", "ready_timeout_ms", "backoff",
	"env", "cwd", "user", "group", NULL };
static const char *const backoff_keys[] = { "initial_ms", "max_ms", "factor",
	"jitter", "reset_after_ms", NULL };

/*
 * Errors. Each writes "FILE:LINE:COL: path: message" to c->err and returns
 * -1, so that checks can say "return config_err(...)".
 */

static int
config_verr(struct parser *c, int want_key, const char *extra, const char *fmt,
    va_list ap)
{
	jsonpos_verror(c->text, c->len, c->file, &c->kp, want_key, extra,
	    c->err, c->errlen, fmt, ap);
	return -1;
}

static int __attribute__((format(printf, 4, 5)))
config_errx(struct parser *c, int want_key, const char *extra,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	config_verr(c, want_key, extra, fmt, ap);
	va_end(ap);
	return -1;
}

/* The value at the current path is wrong. */
#define config_err(c, ...)		config_errx((c), 0, NULL, __VA_ARGS__)
/* The key of the current path's last member is wrong. */
#define config_err_key(c, ...)	config_errx((c), 1, NULL, __VA_ARGS__)
/* The object at the current path lacks key. */
#define config_err_missing(c, key)	\
	config_errx((c), 0, (key), "required key is missing")

/* The key path, kept as the walk goes down and up the tree. */

#define config_push_key(c, key)	jsonpos_push(&(c)->kp, (key), 0)
#define config_push_index(c, i)	jsonpos_push(&(c)->kp, NULL, (i))
#define config_pop(c)		jsonpos_pop(&(c)->kp)

/* Look key up in obj; when it is there, step into it. */
static json_t *
config_get(struct parser *c, json_t *obj, const char *key)
{
	json_t	*v;

	if ((v = json_object_get(obj, key)) != NULL)
		config_push_key(c, key);
	return v;
}

static int
config_known(const char *const *list, const char *key)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, key) == 0)
			return 1;
	return 0;
}

/* Every key of obj is in known or also; the first that is not is the error. */
static int
config_keys(struct parser *c, json_t *obj, const char *const *known,
    const char *const *also)
{
	const char	*key;
	json_t		*v;

	json_object_foreach(obj, key, v) {
		if (config_known(known, key) || config_known(also, key))
			continue;
		config_push_key(c, key);
		return config_err_key(c, "unknown key");
	}
	return 0;
}

static int
config_object(struct parser *c, json_t *v, const char *const *known)
{
	if (!json_is_object(v))
		return config_err(c, "expected an object");
	return config_keys(c, v, known, NULL);
}

/*
 * An integer, or a real without a fraction (1e3 is 1000): 0. Anything else,
 * 1.5 included: -1. Huge reals are clamped; the range checks reject them.
 */
static int
config_whole(json_t *v, long long *out)
{
	double	d;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_real(v))
		return -1;
	d = json_real_value(v);
	if (d != floor(d))
		return -1;
	if (d >= 9.2e18)
		*out = LLONG_MAX;
	else if (d <= -9.2e18)
		*out = LLONG_MIN;
	else
		*out = (long long)d;
	return 0;
}

static int
config_int(struct parser *c, json_t *v, int min, int max, int *out)
{
	long long	n;

	if (config_whole(v, &n) == -1)
		return config_err(c, "expected an integer");
	if (n < min && max == INT_MAX)
		return config_err(c, "expected an integer >= %d", min);
	if (n < min || n > max)
		return config_err(c, "expected an integer from %d to %d", min,
		    max);
	*out = (int)n;
	return 0;
}

static int
config_opt_int(struct parser *c, json_t *obj, const char *key, int min, int max,
    int *out)
{
	json_t	*v;

	if ((v = config_get(c, obj, key)) == NULL)
		return 0;
	if (config_int(c, v, min, max, out) == -1)
		return -1;
	config_pop(c);
	return 0;
}

/* A number in [min, max]; max may be HUGE_VAL. */
static int
config_opt_num(struct parser *c, json_t *obj, const char *key, double min,
    double max, double *out)
{
	json_t	*v;
	double	 d;

	if ((v = config_get(c, obj, key)) == NULL)
		return 0;
	if (!json_is_number(v))
		return config_err(c, "expected a number");
	d = json_number_value(v);
	if (d < min && isinf(max))
		return config_err(c, "expected a number >= %g", min);
	if (d < min || d > max)
		return config_err(c, "expected a number from %g to %g", min,
		    max);
	*out = d;
	config_pop(c);
	return 0;
}

/* A non-empty string. */
static int
config_str(struct parser *c, json_t *v, const char **out)
{
	if (!json_is_string(v))
		return config_err(c, "expected a string");
	if (json_string_length(v) == 0)
		return config_err(c, "must not be empty");
	*out = json_string_value(v);
	return 0;
}

static int
config_opt_enum(struct parser *c, json_t *obj, const char *key,
    const char *const *names, size_t n, int *out)
{
	char	 list[256];
	json_t	*v;
	size_t	 i, off = 0;

	if ((v = config_get(c, obj, key)) == NULL)
		return 0;
	for (i = 0; json_is_string(v) && i < n; i++)
		if (strcmp(json_string_value(v), names[i]) == 0) {
			*out = (int)i;
			config_pop(c);
			return 0;
		}
	list[0] = '\0';
	for (i = 0; i < n && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
		    i > 0 ? ", " : "", names[i]);
	if (n == 1)
		return config_err(c, "expected %s", list);
	return config_err(c, "expected one of %s", list);
}

/* Service and flag names: [A-Za-z0-9_.-]{1,63}. NULL when fine. */
static const char *
config_name_problem(const char *s)
{
	size_t	len = strlen(s);

	if (len == 0)
		return "invalid name: empty";
	if (len > CONFIG_NAME_MAX)
		return "invalid name: longer than 63 characters";
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") != len)
		return "invalid name: only letters, digits, '_', '.' and '-' "
		    "are allowed";
	return NULL;
}

/*
 * Drop ".", ".." and repeated slashes from an absolute path, in place. This
 * is lexical, like filepath.Clean: "conf/../run" names the run folder next
 * to conf, which is what the person writing it means.
 */
static void
config_clean(char *path)
{
	char	*r = path, *w = path, *seg;
	size_t	 n;

	while (*r != '\0') {
		while (*r == '/')
			r++;
		if (*r == '\0')
			break;
		seg = r;
		while (*r != '\0' && *r != '/')
			r++;
		n = (size_t)(r - seg);
		if (n == 1 && seg[0] == '.')
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			while (w > path && *--w != '/')
				;
			continue;
		}
		*w++ = '/';
		memmove(w, seg, n);
		w += n;
	}
	if (w == path)
		*w++ = '/';
	*w = '\0';
}

static char *
config_abspath(struct parser *c, const char *p)
{
	char	*abs;

	if (p[0] == '/')
		abs = xstrdup(p);
	else
		xasprintf(&abs, "%s/%s", c->conf->dir, p);
	config_clean(abs);
	return abs;
}

/* A path, made absolute. maxlen 0: no limit on its length. */
static int
config_opt_path(struct parser *c, json_t *obj, const char *key, size_t maxlen,
    char **out)
{
	json_t		*v;
	const char	*s;
	char		*abs;

	if ((v = config_get(c, obj, key)) == NULL)
		return 0;
	if (config_str(c, v, &s) == -1)
		return -1;
	abs = config_abspath(c, s);
	if (maxlen != 0 && strlen(abs) > maxlen) {
		free(abs);
		return config_err(c, "path too long for a socket (%zu bytes "
		    "at most)", maxlen);
	}
	free(*out);
	*out = abs;
	config_pop(c);
	return 0;
}

/* Remember a service name and where it is; a second use is an error. */
static int
config_register(struct parser *c, const char *name)
{
	struct config_taken	*first;
	json_t		*idx;
	int		 line = 0, col = 0;

	if ((idx = json_object_get(c->names, name)) != NULL) {
		first = &c->named[json_integer_value(idx)];
		if (jsonpos_find(c->text, c->len, first->path, first->npath, 0,
		    &line, &col) == -1)
			line = col = 0;
		return config_err(c, "duplicate service name '%s' (first at "
		    "%d:%d)", name, line, col);
	}
	/* Doubling: a thousand services are not a thousand copies. */
	if ((c->nnamed & (c->nnamed - 1)) == 0)
		c->named = xreallocarray(c->named, c->nnamed ? 2 * c->nnamed : 1,
		    sizeof(*c->named));
	first = &c->named[c->nnamed];
	first->path = xreallocarray(NULL, c->kp.n, sizeof(*first->path));
	memcpy(first->path, c->kp.seg, c->kp.n * sizeof(*first->path));
	first->npath = c->kp.n;
	if (json_object_set_new(c->names, name,
	    json_integer((json_int_t)c->nnamed)) == -1)
		fatalx("config: cannot record service name");
	c->nnamed++;
	return 0;
}

/*
 * The canonical text of a node's own settings, from the parsed values: two
 * files that mean the same thing ("SIGTERM" and 15, 2 and 2.0, "./bin/x" and
 * "bin/x", a default written out or left implicit) give the same text.
 */
/*
 * A node's settings as one string, equal exactly when the settings mean
 * the same (a reload compares them): every value as parsed, strings with
 * their length before them, env sorted by name, numbers exactly (%a for
 * the doubles). Made for every node of every config read, so it is built
 * by hand rather than through JSON.
 */
struct fp {
	char	*buf;
	size_t	 len, cap;
};

static void
fp_add(struct fp *f, const void *p, size_t n)
{
	if (f->len + n + 1 > f->cap) {
		f->cap = (f->len + n + 1) * 2;
		f->buf = xreallocarray(f->buf, f->cap, 1);
	}
	memcpy(f->buf + f->len, p, n);
	f->len += n;
	f->buf[f->len] = '\0';
}

static void __attribute__((format(printf, 2, 3)))
fp_fmt(struct fp *f, const char *fmt, ...)
{
	char	tmp[128];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		fp_add(f, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A string or none, with its length: no value can run into the next. */
static void
fp_str(struct fp *f, const char *key, const char *v)
{
	if (v == NULL) {
		fp_fmt(f, "%s=-;", key);
		return;
	}
	fp_fmt(f, "%s=%zu:", key, strlen(v));
	fp_add(f, v, strlen(v));
	fp_add(f, ";", 1);
}

static int
fp_env_cmp(const void *a, const void *b)
{
	const struct env_pair	*x = *(const struct env_pair *const *)a;
	const struct env_pair	*y = *(const struct env_pair *const *)b;

	return strcmp(x->key, y->key);
}

static int
config_fingerprint(struct parser *c, struct child_conf *n)
{
	struct env_pair	**env;
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
	/* The same variables in another order are the same environment. */
	env = xcalloc(n->nenv + 1, sizeof(*env));
	for (i = 0; i < n->nenv; i++)
		env[i] = &n->env[i];
	qsort(env, n->nenv, sizeof(*env), fp_env_cmp);
	fp_fmt(&f, "nenv=%zu;", n->nenv);
	for (i = 0; i < n->nenv; i++) {
		fp_str(&f, "key", env[i]->key);
		fp_str(&f, "value", env[i]->value);
	}
	free(env);
	fp_str(&f, "cwd", n->cwd);
	fp_str(&f, "user", n->user);
	fp_str(&f, "group", n->group);
	if (n->has_uid)
		fp_fmt(&f, "uid=%ld;", (long)n->uid);
	if (n->has_gid)
		fp_fmt(&f, "gid=%ld;", (long)n->gid);
	n->fingerprint = f.buf;
	return 0;
}

static int
config_access_list(struct parser *c, json_t *obj, struct access_list *al)
{
	json_t		*v, *e;
	const char	*s;
	size_t		 i;
	int		 uid;

	if (config_object(c, obj, access_list_keys) == -1)
		return -1;
	if ((v = config_get(c, obj, "uids")) != NULL) {
		if (!json_is_array(v))
			return config_err(c, "expected an array");
		al->uids = xcalloc(json_array_size(v), sizeof(*al->uids));
		json_array_foreach(v, i, e) {
			config_push_index(c, i);
			if (config_int(c, e, 0, INT_MAX, &uid) == -1)
				return -1;
			al->uids[al->nuids++] = (uid_t)uid;
			config_pop(c);
		}
		config_pop(c);
	}
	if ((v = config_get(c, obj, "groups")) != NULL) {
		if (!json_is_array(v))
			return config_err(c, "expected an array");
		al->groups = xcalloc(json_array_size(v), sizeof(*al->groups));
		json_array_foreach(v, i, e) {
			config_push_index(c, i);
			if (config_str(c, e, &s) == -1)
				return -1;
			al->groups[al->ngroups++] = xstrdup(s);
			config_pop(c);
		}
		config_pop(c);
	}
	return 0;
}

static int
config_access(struct parser *c, json_t *obj)
{
	json_t	*v;

	if (config_object(c, obj, access_keys) == -1)
		return -1;
	if ((v = config_get(c, obj, "operate")) != NULL) {
		if (config_access_list(c, v, &c->conf->operate) == -1)
			return -1;
		config_pop(c);
	}
	if ((v = config_get(c, obj, "admin")) != NULL) {
		if (config_access_list(c, v, &c->conf->admin) == -1)
			return -1;
		config_pop(c);
	}
	return 0;
}

static int
config_flags(struct parser *c, json_t *obj)
{
	struct config	*conf = c->conf;
	struct flag_conf *f;
	const char	*key, *problem;
	json_t		*v, *d;
	long long	 n;

	if (!json_is_object(obj))
		return config_err(c, "expected an object");
	/* The shared table has room for so many. */
	if (json_object_size(obj) > CONFIG_FLAGS_MAX)
		return config_err(c, "%zu flags: at most %d fit the shared table",
		    json_object_size(obj), CONFIG_FLAGS_MAX);
	conf->flags = xcalloc(json_object_size(obj), sizeof(*conf->flags));
	/* jansson keeps members in file order, and so do the flags. */
	json_object_foreach(obj, key, v) {
		config_push_key(c, key);
		if ((problem = config_name_problem(key)) != NULL)
			return config_err_key(c, "%s", problem);
		f = &conf->flags[conf->nflags++];
		f->name = xstrdup(key);
		f->description = xstrdup("");
		f->dflt = 0;
		f->dflt_is_bool = true;
		if (config_object(c, v, flag_keys) == -1)
			return -1;
		if ((d = config_get(c, v, "default")) != NULL) {
			if (json_is_boolean(d))
				f->dflt = json_is_true(d) ? 100 : 0;
			else if (config_whole(d, &n) == 0 && n >= 0 &&
			    n <= 100) {
				f->dflt = (int)n;
				f->dflt_is_bool = false;
			} else
				return config_err(c, "expected true, false or "
				    "an integer from 0 to 100");
			config_pop(c);
		}
		if ((d = config_get(c, v, "description")) != NULL) {
			if (!json_is_string(d))
				return config_err(c, "expected a string");
			free(f->description);
			f->description = xstrdup(json_string_value(d));
			config_pop(c);
		}
		config_pop(c);
	}
	return 0;
}

static int
config_flag_exists(const struct config *conf, const char *name)
{
	size_t	i;

	for (i = 0; i < conf->nflags; i++)
		if (strcmp(conf->flags[i].name, name) == 0)
			return 1;
	return 0;
}

static int
config_stages(struct parser *c, json_t *arr)
{
	struct config		*conf = c->conf;
	struct stage_conf	*st;
	json_t			*obj, *v, *e;
	const char		*s;
	size_t			 i, j, k;
	long long		 n;

	if (!json_is_array(arr))
		return config_err(c, "expected an array");
	conf->stages = xcalloc(json_array_size(arr), sizeof(*conf->stages));
	json_array_foreach(arr, i, obj) {
		config_push_index(c, i);
		st = &conf->stages[conf->nstages++];
		if (config_object(c, obj, stage_keys) == -1)
			return -1;
		if ((v = config_get(c, obj, "stage")) == NULL)
			return config_err_missing(c, "stage");
		if (config_whole(v, &n) == -1)
			return config_err(c, "expected an integer");
		if (n != (long long)i + 1)
			return config_err(c, "expected %zu (stages are "
			    "numbered 1, 2, 3... in order)", i + 1);
		st->stage = (int)n;
		config_pop(c);
		if ((v = config_get(c, obj, "enable")) == NULL)
			return config_err_missing(c, "enable");
		if (!json_is_array(v))
			return config_err(c, "expected an array");
		st->enable = xcalloc(json_array_size(v), sizeof(*st->enable));
		json_array_foreach(v, j, e) {
			config_push_index(c, j);
			if (config_str(c, e, &s) == -1)
				return -1;
			if (!config_flag_exists(conf, s))
				return config_err(c, "unknown flag '%s'", s);
			for (k = 0; k < st->nenable; k++)
				if (strcmp(st->enable[k], s) == 0)
					return config_err(c, "flag '%s' is "
					    "listed twice", s);
			st->enable[st->nenable++] = xstrdup(s);
			config_pop(c);
		}
		config_pop(c);
		config_pop(c);
	}
	return 0;
}

static int
config_guard(struct parser *c, json_t *obj)
{
	struct guard_conf	*g = &c->conf->guard;
	int			 action = 0;

	g->enabled = true;
	if (config_object(c, obj, guard_keys) == -1 ||
	    config_opt_int(c, obj, "max_restarts", 1, INT_MAX,
	    &g->max_restarts) == -1 ||
	    config_opt_int(c, obj, "window_s", 1, INT_MAX,
	    &g->window_s) == -1 ||
	    config_opt_enum(c, obj, "action", guard_actions,
	    nitems(guard_actions), &action) == -1)
		return -1;
	return 0;
}

static int
config_limits(struct parser *c, json_t *obj)
{
	struct limits_conf	*l = &c->conf->limits;

	if (config_object(c, obj, limits_keys) == -1 ||
	    config_opt_int(c, obj, "max_line_bytes", 64, 64 * 1024 * 1024,
	    &l->max_line_bytes) == -1 ||
	    config_opt_int(c, obj, "max_clients", 1, 65536, &l->max_clients) == -1 ||
	    config_opt_int(c, obj, "idle_ms", 1, 3600 * 1000, &l->idle_ms) == -1 ||
	    config_opt_int(c, obj, "max_output_bytes", 4096, INT_MAX,
	    &l->max_output_bytes) == -1 ||
	    config_opt_int(c, obj, "subscriber_queue_bytes", 4096, INT_MAX,
	    &l->subscriber_queue_bytes) == -1 ||
	    config_opt_int(c, obj, "max_json_depth", 2, 2048, &l->max_json_depth) == -1 ||
	    config_opt_int(c, obj, "max_batch", 1, 65536, &l->max_batch) == -1 ||
	    config_opt_int(c, obj, "max_pending", 1, 65536, &l->max_pending) == -1)
		return -1;
	return 0;
}

static int
config_backoff(struct parser *c, json_t *obj, struct backoff_conf *b)
{
	int	initial = (int)b->initial_ms, max = (int)b->max_ms;
	int	reset = (int)b->reset_after_ms;

	if (config_object(c, obj, backoff_keys) == -1 ||
	    config_opt_int(c, obj, "initial_ms", 0, INT_MAX, &initial) == -1 ||
	    config_opt_int(c, obj, "max_ms", 0, INT_MAX, &max) == -1 ||
	    config_opt_num(c, obj, "factor", 1.0, HUGE_VAL, &b->factor) == -1 ||
	    config_opt_num(c, obj, "jitter", 0.0, 1.0, &b->jitter) == -1 ||
	    config_opt_int(c, obj, "reset_after_ms", 0, INT_MAX, &reset) == -1)
		return -1;
	if (max < initial) {
		/* Point at whichever of the two was written. */
		if (json_object_get(obj, "max_ms") != NULL) {
			config_push_key(c, "max_ms");
			return config_err(c, "must be >= initial_ms (%d)",
			    initial);
		}
		config_push_key(c, "initial_ms");
		return config_err(c, "must be <= max_ms (%d)", max);
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
		return config_err(c, "expected an object");
	n->env = xcalloc(json_object_size(obj), sizeof(*n->env));
	json_object_foreach(obj, key, v) {
		config_push_key(c, key);
		if (key[0] == '\0' || strchr(key, '=') != NULL)
			return config_err_key(c, "invalid variable name: "
			    "must be non-empty and without '='");
		if (!json_is_string(v))
			return config_err(c, "expected a string");
		n->env[n->nenv].key = xstrdup(key);
		n->env[n->nenv].value = xstrdup(json_string_value(v));
		n->nenv++;
		config_pop(c);
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

	if ((v = config_get(c, obj, "user")) != NULL) {
		if (config_str(c, v, &s) == -1)
			return -1;
		/* errno after a miss varies by NSS module: a miss is a miss. */
		if ((pw = getpwnam(s)) == NULL)
			return config_err(c, "unknown user '%s'", s);
		n->user = xstrdup(s);
		n->uid = pw->pw_uid;
		n->gid = pw->pw_gid;
		n->has_uid = n->has_gid = true;
		config_pop(c);
	}
	if ((v = config_get(c, obj, "group")) != NULL) {
		if (config_str(c, v, &s) == -1)
			return -1;
		if ((gr = getgrnam(s)) == NULL)
			return config_err(c, "unknown group '%s'", s);
		n->group = xstrdup(s);
		n->gid = gr->gr_gid;
		n->has_gid = true;
		config_pop(c);
	}
	return 0;
}

/*
 * Could the worker's user execute the file st describes, as execve(2)
 * decides it? With a user set the worker keeps only its gid (spawn drops
 * the supplementary groups); without, it has warden's ids and groups.
 * For root one execute bit is enough.
 */
static int
config_may_exec(const struct stat *st, const struct child_conf *n)
{
	gid_t	groups[NGROUPS_MAX];
	uid_t	uid = n->has_uid ? n->uid : geteuid();
	gid_t	gid = n->has_gid ? n->gid : getegid();
	int	i, ng;

	if (uid == 0)
		return (st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
	if (st->st_uid == uid)
		return (st->st_mode & S_IXUSR) != 0;
	if (st->st_gid == gid)
		return (st->st_mode & S_IXGRP) != 0;
	if (!n->has_uid && (ng = getgroups(NGROUPS_MAX, groups)) > 0) {
		for (i = 0; i < ng; i++)
			if (groups[i] == st->st_gid)
				return (st->st_mode & S_IXGRP) != 0;
	}
	return (st->st_mode & S_IXOTH) != 0;
}

/*
 * Why path cannot be executed by the worker's user, in why; 0 when it
 * can. ENOENT and the like as stat(2) says; a folder or device by name.
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
	if (S_ISDIR(st.st_mode)) {
		snprintf(why, len, "is a directory");
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, len, "not a regular file");
		return -1;
	}
	if (!config_may_exec(&st, n)) {
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
 * file. Only config_load() looks; config_parse() reads text alone.
 */
static int
config_command_check(struct parser *c, struct child_conf *n)
{
	const char	*path, *p, *end;
	char		 why[128], cand[PATH_MAX];
	int		 found = 0, rv = 0;
	size_t		 dlen;

	if (!c->check_commands)
		return 0;
	config_push_key(c, "command");
	config_push_index(c, 0);
	if (strchr(n->argv[0], '/') != NULL) {
		if (config_exec_problem(n->argv[0], n, why, sizeof(why)) == -1)
			rv = config_err(c, "%s: %s", n->argv[0], why);
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
		rv = config_err(c, "%s: not found in PATH", n->argv[0]);
out:
	if (rv == 0) {
		config_pop(c);
		config_pop(c);
	}
	return rv;
}

static int
config_worker(struct parser *c, json_t *obj, struct child_conf *n)
{
	json_t		*v, *e;
	const char	*s;
	size_t		 i;
	long long	 ll;
	int		 x;

	v = config_get(c, obj, "command");
	if (!json_is_array(v) || json_array_size(v) == 0)
		return config_err(c, "expected a non-empty array of strings");
	n->argv = xcalloc(json_array_size(v) + 1, sizeof(*n->argv));
	n->argc = json_array_size(v);
	json_array_foreach(v, i, e) {
		config_push_index(c, i);
		if (config_str(c, e, &s) == -1)
			return -1;
		/* A bare name is looked up in PATH when it is spawned. */
		if (i == 0 && strchr(s, '/') != NULL)
			n->argv[i] = config_abspath(c, s);
		else
			n->argv[i] = xstrdup(s);
		config_pop(c);
	}
	config_pop(c);

	if ((v = config_get(c, obj, "shutdown_ms")) != NULL) {
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), "brutal_kill") == 0)
			n->shutdown_ms = SHUTDOWN_BRUTAL_KILL;
		else if (json_is_string(v) &&
		    strcmp(json_string_value(v), "infinity") == 0)
			n->shutdown_ms = SHUTDOWN_INFINITY;
		else if (config_whole(v, &ll) == 0 && ll >= 0 && ll <= INT_MAX)
			n->shutdown_ms = (int)ll;
		else
			return config_err(c, "expected an integer >= 0, "
			    "\"brutal_kill\" or \"infinity\"");
		config_pop(c);
	}
	if ((v = config_get(c, obj, "stop_signal")) != NULL) {
		x = -1;
		if (json_is_string(v))
			x = util_signal_parse(json_string_value(v));
		else if (config_whole(v, &ll) == 0 && ll >= 1 && ll < NSIG)
			x = (int)ll;
		if (x == -1)
			return config_err(c, "expected a signal name like "
			    "\"TERM\" or a number");
		n->stop_signal = x;
		config_pop(c);
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
	if ((v = config_get(c, obj, "backoff")) != NULL) {
		if (config_backoff(c, v, &n->backoff) == -1)
			return -1;
		config_pop(c);
	}
	if ((v = config_get(c, obj, "env")) != NULL) {
		if (config_env(c, v, n) == -1)
			return -1;
		config_pop(c);
	}
	n->cwd = xstrdup(c->conf->dir);
	if (config_opt_path(c, obj, "cwd", 0, &n->cwd) == -1 ||
	    config_identity(c, obj, n) == -1 ||
	    config_command_check(c, n) == -1)
		return -1;
	return config_fingerprint(c, n);
}

static int	config_child(struct parser *, json_t *, int,
		    struct child_conf **);

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
	    config_fingerprint(c, n) == -1)
		return -1;
	if ((v = config_get(c, obj, "children")) == NULL)
		return config_err_missing(c, "children");
	if (!json_is_array(v))
		return config_err(c, "expected an array");
	n->children = xcalloc(json_array_size(v), sizeof(*n->children));
	n->nchildren = json_array_size(v);
	json_array_foreach(v, i, e) {
		config_push_index(c, i);
		if (config_child(c, e, 0, &n->children[i]) == -1)
			return -1;
		config_pop(c);
	}
	config_pop(c);
	return 0;
}

/*
 * One node of the tree. *out is set first, so that the caller frees a
 * half-built node along with the rest on error.
 */
static int
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

	if (!json_is_object(obj))
		return config_err(c, "expected an object");
	has_cmd = json_object_get(obj, "command") != NULL;
	has_children = json_object_get(obj, "children") != NULL;
	if (is_root) {
		n->is_sup = true;
		if (config_keys(c, obj, root_keys, NULL) == -1)
			return -1;
	} else if (has_cmd && has_children)
		return config_err(c, "both command and children: a worker has "
		    "a command, a supervisor has children");
	else if (!has_cmd && !has_children) {
		/* A misspelt key says more than "neither". */
		if (config_keys(c, obj, worker_keys, sup_keys) == -1)
			return -1;
		return config_err(c, "expected command (a worker) or children "
		    "(a supervisor)");
	} else {
		n->is_sup = has_children;
		if (config_keys(c, obj, has_children ? sup_keys : worker_keys,
		    NULL) == -1)
			return -1;
	}

	if ((v = config_get(c, obj, "name")) != NULL) {
		if (!json_is_string(v))
			return config_err(c, "expected a string");
		problem = config_name_problem(json_string_value(v));
		if (problem != NULL)
			return config_err(c, "%s", problem);
		n->name = xstrdup(json_string_value(v));
		if (config_register(c, n->name) == -1)
			return -1;
		config_pop(c);
	} else if (is_root) {
		/* Registered at the supervisor object, for "first at". */
		n->name = xstrdup("root");
		if (config_register(c, n->name) == -1)
			return -1;
	} else
		return config_err_missing(c, "name");

	x = (int)n->restart;
	if (config_opt_enum(c, obj, "restart", restart_names,
	    nitems(restart_names), &x) == -1)
		return -1;
	n->restart = (enum restart_type)x;
	if (n->is_sup)
		return config_supervisor(c, obj, n);
	return config_worker(c, obj, n);
}

static int
config_socket_mode(struct parser *c, json_t *v)
{
	const char	*s;
	unsigned int	 mode = 0;

	if (!json_is_string(v) || *(s = json_string_value(v)) == '\0')
		return config_err(c, "expected an octal mode like \"0660\"");
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '7')
			return config_err(c, "expected an octal mode like "
			    "\"0660\"");
		/* Stop growing once it is too large anyway. */
		if (mode <= 0777)
			mode = mode * 8 + (unsigned int)(*s - '0');
	}
	if (mode > 0777)
		return config_err(c, "mode must be at most 0777");
	c->conf->socket_mode = (mode_t)mode;
	return 0;
}

static int
config_table(struct parser *c, json_t *v)
{
	const char	*s;
	size_t		 len;

	if (!json_is_string(v))
		return config_err(c, "expected a string");
	s = json_string_value(v);
	len = json_string_length(v);
	if (s[0] != '/')
		return config_err(c, "must start with '/', like \"/warden\"");
	if (strchr(s + 1, '/') != NULL)
		return config_err(c, "must not contain '/' after the first "
		    "character");
	if (len < 2 || len > CONFIG_TABLE_MAX)
		return config_err(c, "must be 2 to %d characters long",
		    CONFIG_TABLE_MAX);
	free(c->conf->table);
	c->conf->table = xstrdup(s);
	return 0;
}

static int
config_top(struct parser *c, json_t *root)
{
	struct config	*conf = c->conf;
	json_t		*v;

	conf->socket = xstrdup("/run/warden/warden.sock");
	conf->socket_mode = 0660;
	conf->state_dir = xstrdup("/var/lib/warden");
	conf->table = xstrdup("/warden");
	conf->guard.max_restarts = 10;
	conf->guard.window_s = 60;
	conf->limits.max_line_bytes = 1024 * 1024;
	conf->limits.max_clients = 256;
	conf->limits.idle_ms = 10000;
	conf->limits.max_output_bytes = 8 * 1024 * 1024;
	conf->limits.subscriber_queue_bytes = 4 * 1024 * 1024;
	conf->limits.max_json_depth = 64;
	conf->limits.max_batch = 1024;
	conf->limits.max_pending = 64;

	if (config_object(c, root, top_keys) == -1 ||
	    config_opt_path(c, root, "socket",
	    sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1,
	    &conf->socket) == -1)
		return -1;
	if ((v = config_get(c, root, "socket_mode")) != NULL) {
		if (config_socket_mode(c, v) == -1)
			return -1;
		config_pop(c);
	}
	if (config_opt_path(c, root, "state_dir", 0, &conf->state_dir) == -1)
		return -1;
	if ((v = config_get(c, root, "table")) != NULL) {
		if (config_table(c, v) == -1)
			return -1;
		config_pop(c);
	}
	if ((v = config_get(c, root, "access")) != NULL) {
		if (config_access(c, v) == -1)
			return -1;
		config_pop(c);
	}
	if ((v = config_get(c, root, "flags")) != NULL) {
		if (config_flags(c, v) == -1)
			return -1;
		config_pop(c);
	}
	if ((v = config_get(c, root, "stages")) != NULL) {
		if (config_stages(c, v) == -1)
			return -1;
		config_pop(c);
	}
	if ((v = config_get(c, root, "guard")) != NULL) {
		if (config_guard(c, v) == -1)
			return -1;
		config_pop(c);
	}
	if ((v = config_get(c, root, "limits")) != NULL) {
		if (config_limits(c, v) == -1)
			return -1;
		config_pop(c);
	}
	if ((v = config_get(c, root, "supervisor")) == NULL)
		return config_err_missing(c, "supervisor");
	if (config_child(c, v, 1, &conf->root) == -1)
		return -1;
	config_pop(c);
	return 0;
}

/* The file's absolute path and folder, from the cwd when it is relative. */
static int
config_locate(struct parser *c)
{
	char	 cwd[PATH_MAX];
	char	*slash;

	if (c->file[0] == '/')
		c->conf->path = xstrdup(c->file);
	else {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			snprintf(c->err, c->errlen, "%s: cannot get the "
			    "current folder: %s", c->file, strerror(errno));
			return -1;
		}
		xasprintf(&c->conf->path, "%s/%s", cwd, c->file);
	}
	config_clean(c->conf->path);
	slash = strrchr(c->conf->path, '/');
	if (slash == c->conf->path)
		c->conf->dir = xstrdup("/");
	else {
		c->conf->dir = xstrdup(c->conf->path);
		c->conf->dir[slash - c->conf->path] = '\0';
	}
	return 0;
}

static int
config_parse_text(const char *text, size_t len, const char *file,
    int check_commands, struct config **out, char *err, size_t errlen)
{
	struct parser	 c;
	json_error_t	 je;
	json_t		*root;
	size_t		 i;
	int		 rv = -1;

	*out = NULL;
	if (err == NULL)
		errlen = 0;
	if (errlen > 0)
		err[0] = '\0';
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		/* jansson says column 0 at the very start of a line. */
		if (je.line >= 1)
			snprintf(err, errlen, "%s:%d:%d: %s", file, je.line,
			    je.column < 1 ? 1 : je.column, je.text);
		else
			snprintf(err, errlen, "%s: %s", file, je.text);
		if (err != NULL && strlen(err) > strlen(file))
			jsonpos_one_line(err + strlen(file));
		return -1;
	}

	memset(&c, 0, sizeof(c));
	c.text = text;
	c.len = len;
	c.file = file;
	c.err = err;
	c.errlen = errlen;
	c.check_commands = check_commands;
	c.conf = xcalloc(1, sizeof(*c.conf));
	if ((c.names = json_object()) == NULL)
		fatalx("config: out of memory");
	if (config_locate(&c) == 0 && config_top(&c, root) == 0) {
		/* Kept: a reexec hands the very text over, whatever the file says now. */
		c.conf->text = xmalloc(len + 1);
		memcpy(c.conf->text, text, len);
		c.conf->text[len] = '\0';
		c.conf->textlen = len;
		*out = c.conf;
		c.conf = NULL;
		rv = 0;
	}
	config_free(c.conf);
	for (i = 0; i < c.nnamed; i++)
		free(c.named[i].path);
	free(c.named);
	jsonpos_path_free(&c.kp);
	json_decref(c.names);
	json_decref(root);
	return rv;
}

int
config_parse(const char *text, size_t len, const char *file,
    struct config **out, char *err, size_t errlen)
{
	return config_parse_text(text, len, file, 0, out, err, errlen);
}

int
config_load(const char *file, struct config **out, char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0, cap = 0;
	ssize_t		 n;
	int		 fd, rv, saved;

	*out = NULL;
	if (err == NULL)
		errlen = 0;
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		goto fail;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail;
	}
	/* Read to EOF rather than trusting st_size: it may be a pipe. */
	for (;;) {
		if (len == cap) {
			if (cap > CONFIG_FILE_MAX) {
				close(fd);
				free(buf);
				snprintf(err, errlen, "%s: file larger than "
				    "%d MiB", file, CONFIG_FILE_MAX >> 20);
				return -1;
			}
			cap = cap == 0 ? 8192 : cap * 2;
			if (cap > CONFIG_FILE_MAX)
				cap = CONFIG_FILE_MAX + 1;
			buf = xreallocarray(buf, cap, 1);
		}
		if ((n = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	rv = config_parse_text(buf, len, file, 1, out, err, errlen);
	free(buf);
	return rv;

fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	free(buf);
	snprintf(err, errlen, "%s: %s", file, strerror(saved));
	return -1;
}

static void
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
	free(n->name);
	free(n->cwd);
	free(n->user);
	free(n->group);
	free(n->fingerprint);
	free(n);
}

static void
config_access_free(struct access_list *al)
{
	size_t	i;

	free(al->uids);
	for (i = 0; i < al->ngroups; i++)
		free(al->groups[i]);
	free(al->groups);
}

void
config_free(struct config *conf)
{
	size_t	i, j;

	if (conf == NULL)
		return;
	free(conf->text);
	free(conf->path);
	free(conf->dir);
	free(conf->socket);
	free(conf->state_dir);
	free(conf->table);
	config_access_free(&conf->operate);
	config_access_free(&conf->admin);
	for (i = 0; i < conf->nflags; i++) {
		free(conf->flags[i].name);
		free(conf->flags[i].description);
	}
	free(conf->flags);
	for (i = 0; i < conf->nstages; i++) {
		for (j = 0; j < conf->stages[i].nenable; j++)
			free(conf->stages[i].enable[j]);
		free(conf->stages[i].enable);
	}
	free(conf->stages);
	config_child_free(conf->root);
	free(conf);
}

static int
config_walk_depth(struct child_conf *n, int depth,
    int (*fn)(struct child_conf *, int, void *), void *arg)
{
	size_t	i;
	int	rv;

	if ((rv = fn(n, depth, arg)) != 0)
		return rv;
	for (i = 0; i < n->nchildren; i++)
		if ((rv = config_walk_depth(n->children[i], depth + 1, fn,
		    arg)) != 0)
			return rv;
	return 0;
}

int
config_walk(struct child_conf *n, int (*fn)(struct child_conf *, int, void *),
    void *arg)
{
	if (n == NULL)
		return 0;
	return config_walk_depth(n, 0, fn, arg);
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
