/*
 * fuzz_config.c: warden.json parsing and validation (src/core/config*.c,
 * through jsonerr.c).
 *
 * Every input goes through config_parse(). Besides what the sanitizers
 * catch, the contract of config.h is checked: an error is one line that
 * names the file, and a success is a complete configuration, never half
 * of one (every name valid, every worker with a command, every stage
 * naming configured flags, paths absolute). Any breach aborts, so
 * libFuzzer keeps the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz-util.h"
#include "log.h"

#define FUZZ_FILE	"fuzz.json"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define fuzz_config_fail(...)	fuzz_fail("fuzz_config", __VA_ARGS__)

static void
fuzz_config_name(const char *what, const char *name)
{
	size_t	i, n;

	if (name == NULL)
		fuzz_config_fail("%s without a name", what);
	n = strlen(name);
	if (n == 0 || n > CONFIG_NAME_MAX)
		fuzz_config_fail("%s name '%s': %zu bytes", what, name, n);
	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789_.-", name[i]) == NULL)
			fuzz_config_fail("%s name '%s': bad character", what,
			    name);
}

static void
fuzz_config_path(const char *what, const char *path)
{
	if (path == NULL || path[0] != '/')
		fuzz_config_fail("%s '%s' is not absolute", what,
		    path != NULL ? path : "(null)");
}

static int
fuzz_config_node(struct child_conf *n, int depth, void *arg)
{
	size_t	i;

	(void)arg;
	fuzz_config_name(depth == 0 ? "root" : "child", n->name);
	if (n->fingerprint == NULL)
		fuzz_config_fail("%s: no fingerprint", n->name);
	if (n->is_sup) {
		if (n->nchildren > 0 && n->children == NULL)
			fuzz_config_fail("%s: children missing", n->name);
		if (n->max_restarts < 0 || n->max_seconds < 1)
			fuzz_config_fail("%s: intensity %d/%d", n->name,
			    n->max_restarts, n->max_seconds);
		(void)config_strategy_name(n->strategy);
	} else {
		if (n->argv == NULL || n->argc == 0 || n->argv[0] == NULL ||
		    n->argv[n->argc] != NULL)
			fuzz_config_fail("%s: command", n->name);
		for (i = 0; i < n->argc; i++)
			if (n->argv[i] == NULL)
				fuzz_config_fail("%s: argv[%zu]", n->name, i);
		fuzz_config_path("cwd", n->cwd);
		if (n->ready_timeout_ms < 1)
			fuzz_config_fail("%s: ready_timeout_ms %d", n->name,
			    n->ready_timeout_ms);
		if (n->backoff.factor < 1.0 || n->backoff.jitter < 0.0 ||
		    n->backoff.jitter > 1.0)
			fuzz_config_fail("%s: backoff", n->name);
		for (i = 0; i < n->nenv; i++)
			if (n->env[i].key == NULL || n->env[i].value == NULL)
				fuzz_config_fail("%s: env[%zu]", n->name, i);
		if (n->env_file != NULL)
			fuzz_config_path("env_file", n->env_file);
		for (i = 0; i < n->nfile_env; i++)
			if (n->file_env[i].key == NULL ||
			    n->file_env[i].value == NULL)
				fuzz_config_fail("%s: file_env[%zu]", n->name, i);
		if (n->umask < -1 || n->umask > 0777)
			fuzz_config_fail("%s: umask %d", n->name, n->umask);
		for (i = 0; i < n->nrlimits; i++)
			if (n->rlimits[i].name == NULL ||
			    n->rlimits[i].soft > n->rlimits[i].hard)
				fuzz_config_fail("%s: rlimits[%zu]", n->name, i);
		(void)config_ready_name(n->ready);
	}
	(void)config_restart_name(n->restart);
	return 0;
}

static void
fuzz_config_check(struct config *c)
{
	size_t	i, k, j;

	fuzz_config_path("path", c->path);
	fuzz_config_path("dir", c->dir);
	fuzz_config_path("socket", c->socket);
	fuzz_config_path("state_dir", c->state_dir);
	if (c->table == NULL || c->table[0] != '/' || c->table[1] == '\0')
		fuzz_config_fail("table name");
	if (c->root == NULL)
		fuzz_config_fail("no root supervisor");
	if (!c->root->is_sup)
		fuzz_config_fail("the root is not a supervisor");
	if (c->nflags > CONFIG_FLAGS_MAX)
		fuzz_config_fail("%zu flags", c->nflags);
	for (i = 0; i < c->nflags; i++) {
		fuzz_config_name("flag", c->flags[i].name);
		if (c->flags[i].dflt < 0 || c->flags[i].dflt > 100 ||
		    c->flags[i].description == NULL)
			fuzz_config_fail("flag %s", c->flags[i].name);
	}
	for (i = 0; i < c->nstages; i++) {
		if (c->stages[i].stage != (int)i + 1)
			fuzz_config_fail("stage %zu numbered %d", i + 1,
			    c->stages[i].stage);
		for (k = 0; k < c->stages[i].nenable; k++) {
			for (j = 0; j < c->nflags; j++)
				if (strcmp(c->flags[j].name,
				    c->stages[i].enable[k]) == 0)
					break;
			if (j == c->nflags)
				fuzz_config_fail("stage %zu enables '%s', not "
				    "a flag", i + 1, c->stages[i].enable[k]);
		}
	}
	if (c->limits.max_json_depth < 2 || c->limits.max_batch < 1 ||
	    c->limits.max_line_bytes < 64 || c->limits.max_clients < 1)
		fuzz_config_fail("limits");
	(void)config_walk(c->root, fuzz_config_node, NULL);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_config", getenv("FUZZ_VERBOSE") != NULL ?
	    LOG_LEVEL_DEBUG : LOG_LEVEL_ERR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*c = NULL;
	char		 err[1024];

	memset(err, 'x', sizeof(err));
	if (config_parse((const char *)data, size, FUZZ_FILE, &c, err,
	    sizeof(err)) == 0) {
		if (c == NULL)
			fuzz_config_fail("success without a config");
		fuzz_config_check(c);
		config_free(c);
		return 0;
	}
	if (c != NULL)
		fuzz_config_fail("an error, and a config");
	if (memchr(err, '\0', sizeof(err)) == NULL)
		fuzz_config_fail("the error is not NUL-terminated");
	if (strncmp(err, FUZZ_FILE ":", strlen(FUZZ_FILE ":")) != 0)
		fuzz_config_fail("the error does not name the file: %s", err);
	if (strchr(err, '\n') != NULL)
		fuzz_config_fail("the error is not one line: %s", err);
	return 0;
}
