/*
 * config.c: warden.json, parsed and validated up front (see config.h):
 * the entry points, the top level of the file (socket, table, access,
 * limits), and freeing and walking a config.
 *
 * jansson parses the text; every semantic check walks the resulting
 * tree while keeping the key path it is at (jsonerr.h), so that an error
 * can name the path and, through jsonpos, the line and column of the
 * offending value. The first error stops the load and the partial config
 * is freed: callers either get a complete config or one error line. The
 * rest of the walk is in config-tree.c (the supervision tree),
 * config-flags.c (flags, stages, the guard) and config-value.c (values).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config-int.h"
#include "jsonerr.h"
#include "log.h"
#include "util.h"

#define CONFIG_TABLE_MAX	255	/* NAME_MAX of /dev/shm */

static const char *const top_keys[] = { "socket", "socket_mode", "state_dir",
	"table", "access", "flags", "stages", "guard", "limits", "metrics",
	"fleet", "supervisor", NULL };
static const char *const limits_keys[] = { "max_line_bytes", "max_clients",
	"idle_ms", "max_output_bytes", "subscriber_queue_bytes", "max_json_depth",
	"max_batch", "max_pending", NULL };
static const char *const access_keys[] = { "operate", "admin", NULL };
static const char *const access_list_keys[] = { "uids", "groups", NULL };

static int
config_access_list(struct parser *c, json_t *obj, struct access_list *al)
{
	json_t		*v, *e;
	const char	*s;
	size_t		 i;
	int		 uid;

	if (jsonerr_object(&c->je, obj, access_list_keys) == -1)
		return -1;
	if ((v = jsonerr_get(&c->je, obj, "uids")) != NULL) {
		if (!json_is_array(v))
			return jsonerr_value(&c->je, "expected an array");
		al->uids = xcalloc(json_array_size(v), sizeof(*al->uids));
		json_array_foreach(v, i, e) {
			jsonerr_push_index(&c->je, i);
			if (config_int(c, e, 0, INT_MAX, &uid) == -1)
				return -1;
			al->uids[al->nuids++] = (uid_t)uid;
			jsonerr_pop(&c->je);
		}
		jsonerr_pop(&c->je);
	}
	if ((v = jsonerr_get(&c->je, obj, "groups")) != NULL) {
		if (!json_is_array(v))
			return jsonerr_value(&c->je, "expected an array");
		al->groups = xcalloc(json_array_size(v), sizeof(*al->groups));
		json_array_foreach(v, i, e) {
			jsonerr_push_index(&c->je, i);
			if (config_str(c, e, &s) == -1)
				return -1;
			al->groups[al->ngroups++] = xstrdup(s);
			jsonerr_pop(&c->je);
		}
		jsonerr_pop(&c->je);
	}
	return 0;
}

static int
config_access(struct parser *c, json_t *obj)
{
	json_t	*v;

	if (jsonerr_object(&c->je, obj, access_keys) == -1)
		return -1;
	if ((v = jsonerr_get(&c->je, obj, "operate")) != NULL) {
		if (config_access_list(c, v, &c->conf->operate) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	if ((v = jsonerr_get(&c->je, obj, "admin")) != NULL) {
		if (config_access_list(c, v, &c->conf->admin) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	return 0;
}

static int
config_limits(struct parser *c, json_t *obj)
{
	struct limits_conf	*l = &c->conf->limits;

	if (jsonerr_object(&c->je, obj, limits_keys) == -1 ||
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
config_socket_mode(struct parser *c, json_t *v)
{
	const char	*s;
	unsigned int	 mode = 0;

	if (!json_is_string(v) || *(s = json_string_value(v)) == '\0')
		return jsonerr_value(&c->je, "expected an octal mode like "
		    "\"0660\"");
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '7')
			return jsonerr_value(&c->je, "expected an octal mode "
			    "like \"0660\"");
		/* Stop growing once it is too large anyway. */
		if (mode <= 0777)
			mode = mode * 8 + (unsigned int)(*s - '0');
	}
	if (mode > 0777)
		return jsonerr_value(&c->je, "mode must be at most 0777");
	c->conf->socket_mode = (mode_t)mode;
	return 0;
}

static int
config_table(struct parser *c, json_t *v)
{
	const char	*s;
	size_t		 len;

	if (!json_is_string(v))
		return jsonerr_value(&c->je, "expected a string");
	s = json_string_value(v);
	len = json_string_length(v);
	if (s[0] != '/')
		return jsonerr_value(&c->je, "must start with '/', like "
		    "\"/warden\"");
	if (strchr(s + 1, '/') != NULL)
		return jsonerr_value(&c->je, "must not contain '/' after the "
		    "first character");
	if (len < 2 || len > CONFIG_TABLE_MAX)
		return jsonerr_value(&c->je, "must be 2 to %d characters long",
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
	conf->metrics.max_connections = METRICS_MAX_CONNECTIONS_DEFAULT;
	conf->metrics.timeout_ms = METRICS_TIMEOUT_DEFAULT;

	if (jsonerr_object(&c->je, root, top_keys) == -1 ||
	    config_opt_path(c, root, "socket",
	    sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1,
	    &conf->socket) == -1)
		return -1;
	if ((v = jsonerr_get(&c->je, root, "socket_mode")) != NULL) {
		if (config_socket_mode(c, v) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	if (config_opt_path(c, root, "state_dir", 0, &conf->state_dir) == -1)
		return -1;
	if ((v = jsonerr_get(&c->je, root, "table")) != NULL) {
		if (config_table(c, v) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	if ((v = jsonerr_get(&c->je, root, "access")) != NULL) {
		if (config_access(c, v) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	if ((v = jsonerr_get(&c->je, root, "flags")) != NULL) {
		if (config_flags(c, v) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	if ((v = jsonerr_get(&c->je, root, "stages")) != NULL) {
		if (config_stages(c, v) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	if ((v = jsonerr_get(&c->je, root, "guard")) != NULL) {
		if (config_guard(c, v) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	if ((v = jsonerr_get(&c->je, root, "limits")) != NULL) {
		if (config_limits(c, v) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	if ((v = jsonerr_get(&c->je, root, "metrics")) != NULL) {
		if (config_metrics(c, v) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	if ((v = jsonerr_get(&c->je, root, "fleet")) != NULL) {
		if (config_fleet(c, v, &conf->fleet) == -1)
			return -1;
		jsonerr_pop(&c->je);
	}
	if ((v = jsonerr_get(&c->je, root, "supervisor")) == NULL)
		return jsonerr_missing(&c->je, "supervisor");
	if (config_child(c, v, 1, &conf->root) == -1)
		return -1;
	jsonerr_pop(&c->je);
	return 0;
}

/* The file's absolute path and folder, from the cwd when it is relative. */
static int
config_locate(struct parser *c)
{
	const char	*file = c->je.file;
	char		 cwd[PATH_MAX];
	char		*slash;

	if (file[0] == '/')
		c->conf->path = xstrdup(file);
	else {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			snprintf(c->je.err, c->je.errlen, "%s: cannot get the "
			    "current folder: %s", file, strerror(errno));
			return -1;
		}
		xasprintf(&c->conf->path, "%s/%s", cwd, file);
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
    int check_commands, const json_t *const *env_files, struct config **out,
    char *err, size_t errlen)
{
	struct parser	 c;
	json_t		*root;
	size_t		 i;
	int		 rv = -1;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	if ((root = jsonerr_load(&c.je, text, len, file, err, errlen)) ==
	    NULL) {
		jsonerr_free(&c.je);
		return -1;
	}
	c.check_commands = check_commands;
	if (env_files != NULL) {
		c.env_given = 1;
		c.env_files = *env_files;
	}
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
	jsonerr_free(&c.je);
	json_decref(c.names);
	json_decref(root);
	return rv;
}

int
config_parse(const char *text, size_t len, const char *file,
    struct config **out, char *err, size_t errlen)
{
	return config_parse_text(text, len, file, 0, NULL, out, err, errlen);
}

int
config_parse_handover(const char *text, size_t len, const char *file,
    const json_t *env_files, struct config **out, char *err, size_t errlen)
{
	return config_parse_text(text, len, file, 0, &env_files, out, err,
	    errlen);
}

int
config_load(const char *file, struct config **out, char *err, size_t errlen)
{
	struct stat	 st;
	char		*buf;
	size_t		 len;
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
	if (util_read_fd(fd, CONFIG_FILE_MAX + 1, &buf, &len) == -1) {
		if (errno != EFBIG)
			goto fail;
		close(fd);
		snprintf(err, errlen, "%s: file larger than %d MiB", file,
		    CONFIG_FILE_MAX >> 20);
		return -1;
	}
	close(fd);
	rv = config_parse_text(buf, len, file, 1, NULL, out, err, errlen);
	free(buf);
	return rv;

fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	snprintf(err, errlen, "%s: %s", file, strerror(saved));
	return -1;
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
	config_hook_free(conf->guard.on_failure);
	free(conf->metrics.host);
	config_fleet_free(&conf->fleet);
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
