/*
 * config-log.c: a service's "log" object: how many of its last lines
 * warden keeps in memory, and the file its lines are written to.
 */
#include <limits.h>
#include <stdlib.h>

#include <jansson.h>

#include "config-int.h"
#include "jsonerr.h"

static const char *const log_keys[] = { "lines", "memory_bytes", "file",
	"max_bytes", "keep", NULL };

void
config_log_defaults(struct log_conf *l)
{
	l->lines = LOG_LINES_DEFAULT;
	l->memory_bytes = LOG_MEMORY_DEFAULT;
	l->file = NULL;
	l->max_bytes = LOG_FILE_MAX_DEFAULT;
	l->keep = LOG_KEEP_DEFAULT;
}

/* A key that means something only with "file". */
static int
config_log_needs_file(struct parser *c, json_t *obj, const char *key)
{
	if (json_object_get(obj, key) == NULL)
		return 0;
	jsonerr_push_key(&c->je, key);
	return jsonerr_key(&c->je, "has no effect without \"file\"");
}

int
config_log(struct parser *c, json_t *obj, struct log_conf *l)
{
	if (jsonerr_object(&c->je, obj, log_keys) == -1 ||
	    config_opt_int(c, obj, "lines", 0, LOG_LINES_MAX, &l->lines) == -1 ||
	    config_opt_int(c, obj, "memory_bytes", 0, LOG_MEMORY_MAX,
	    &l->memory_bytes) == -1 ||
	    config_opt_path(c, obj, "file", 0, &l->file) == -1 ||
	    config_opt_int(c, obj, "max_bytes", LOG_FILE_MAX_MIN, INT_MAX,
	    &l->max_bytes) == -1 ||
	    config_opt_int(c, obj, "keep", 0, LOG_KEEP_MAX, &l->keep) == -1)
		return -1;
	if (l->file == NULL && (config_log_needs_file(c, obj, "max_bytes") == -1 ||
	    config_log_needs_file(c, obj, "keep") == -1))
		return -1;
	return 0;
}
