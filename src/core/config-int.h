/*
 * config-int.h: what the files of the warden.json parser share (config.c,
 * config-tree.c, config-flags.c, config-value.c); not for other callers,
 * which have config.h.
 */
#ifndef WARDEN_CONFIG_INT_H
#define WARDEN_CONFIG_INT_H

#include <stddef.h>

#include <jansson.h>

#include "config.h"
#include "jsonerr.h"

/* A service name already taken, and where its value is. */
struct config_taken {
	struct jsonpos_seg	*path;
	size_t			 npath;
};

/* The state of one parse: where we are in the tree and what is taken. */
struct parser {
	struct jsonerr		 je;	/* the text, and where the walk is */
	struct config		*conf;

	json_t			*names;	/* service name -> index in named */
	struct config_taken	*named;
	size_t			 nnamed;

	int			 check_commands; /* look at the files (config_load) */
	int			 env_given;	/* env files from env_files, not read */
	const json_t		*env_files;	/* path -> hex; NULL: none read */
};

/*
 * config-value.c: each check returns 0, or -1 with the error written. An
 * opt_ check does nothing when obj lacks key.
 */
int	 config_whole(json_t *, long long *);
int	 config_int(struct parser *, json_t *, int min, int max, int *);
int	 config_opt_int(struct parser *, json_t *obj, const char *key,
	    int min, int max, int *);
int	 config_opt_num(struct parser *, json_t *obj, const char *key,
	    double min, double max, double *);
int	 config_str(struct parser *, json_t *, const char **);
int	 config_argv(struct parser *, json_t *, char ***argv, size_t *argc);
int	 config_opt_enum(struct parser *, json_t *obj, const char *key,
	    const char *const *names, size_t n, int *);
const char *config_name_problem(const char *);
void	 config_clean(char *);
char	*config_abspath(struct parser *, const char *);
int	 config_opt_path(struct parser *, json_t *obj, const char *key,
	    size_t maxlen, char **);

/* config-fp.c: a node's settings as one string (config_fingerprint). */
struct fp {
	char	*buf;
	size_t	 len, cap;
};
void	 fp_add(struct fp *, const void *, size_t);
void	 fp_fmt(struct fp *, const char *, ...) __attribute__((format(printf, 2, 3)));
/* "key=LEN:value;" or "key=-;": no value can run into the next. */
void	 fp_str(struct fp *, const char *key, const char *v);
/* "count=N;" then each pair sorted by name, as key and value. */
void	 fp_env(struct fp *, const char *count, const char *key,
	    const char *value, const struct env_pair *, size_t n);

/* config-log.c */
void	 config_log_defaults(struct log_conf *);
int	 config_log(struct parser *, json_t *, struct log_conf *);

/* config-hooks.c */
int	 config_hook(struct parser *, json_t *, struct hook_conf **);
int	 config_opt_hook(struct parser *, json_t *obj, struct hook_conf **);
void	 config_hook_free(struct hook_conf *);

/* config-health.c: the worker n's "health", checked as n runs it. */
int	 config_opt_health(struct parser *, json_t *obj,
	    const struct child_conf *n, struct health_conf **);
void	 config_health_free(struct health_conf *);

/* config-flags.c */
int	 config_flags(struct parser *, json_t *);
int	 config_stages(struct parser *, json_t *);
int	 config_guard(struct parser *, json_t *);

/* config-metrics.c: the "metrics" key. */
int	 config_metrics(struct parser *, json_t *);

/*
 * config-fleet.c: a "fleet" object (the walk at its value) into fc, its
 * defaults filled in; config_fleet_free() frees what it holds, either way.
 */
int	 config_fleet(struct parser *, json_t *, struct fleet_conf *);
void	 config_fleet_free(struct fleet_conf *);

/* config-proc.c: a worker's autostart, env_file, umask and rlimits. */
int	 config_proc(struct parser *, json_t *obj, struct child_conf *);
/* Their part of the fingerprint ("" when none is set), malloc'd. */
void	 config_proc_fingerprint(struct fp *, const struct child_conf *);
void	 config_proc_free(struct child_conf *);

/* config-tree.c */
int	 config_child(struct parser *, json_t *, int is_root,
	    struct child_conf **);
void	 config_child_free(struct child_conf *);
int	 config_command_check(struct parser *, struct child_conf *);
/* The same for an argv whose array the walk is at. */
int	 config_argv_check(struct parser *, struct child_conf *);

#endif
