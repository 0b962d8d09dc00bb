/*
 * config.h: warden.json, parsed and validated up front (see warden.json(5)).
 *
 * config_load() either returns a complete, valid configuration or an error
 * naming file, line, column and key path; it never returns half a config.
 * Nothing here does I/O beyond reading the file and looking up users and
 * groups, so the checks can be driven from unit tests with config_parse().
 * config_load() also looks at each worker's command: it must resolve to a
 * regular file the worker's user may execute (see warden.json(5)).
 */
#ifndef WARDEN_CONFIG_H
#define WARDEN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

enum strategy { STRATEGY_ONE_FOR_ONE, STRATEGY_ONE_FOR_ALL, STRATEGY_REST_FOR_ONE };
enum restart_type { RESTART_PERMANENT, RESTART_TRANSIENT, RESTART_TEMPORARY };
enum ready_mode { READY_NONE, READY_NOTIFY, READY_FD };

/* shutdown_ms special values */
#define SHUTDOWN_BRUTAL_KILL (-1)
#define SHUTDOWN_INFINITY (-2)

#define CONFIG_NAME_MAX 63	/* service and flag names: [A-Za-z0-9_.-], 1..63 */
#define CONFIG_FLAGS_MAX 256	/* what the shared table holds (TABLE_CAPACITY) */
#define CONFIG_MAX_RESTARTS 1000000	/* a supervisor keeps that many restart times */

struct backoff_conf {
	uint32_t	initial_ms;	/* default 0: first restart immediate */
	uint32_t	max_ms;		/* default 30000 */
	double		factor;		/* default 2.0, >= 1.0 */
	double		jitter;		/* default 0.2, 0.0 .. 1.0 */
	uint32_t	reset_after_ms;	/* default 10000 */
};

/* A service's "log": its last lines in memory, and a file (config-log.c). */
#define LOG_LINES_DEFAULT	200
#define LOG_LINES_MAX		1000000
#define LOG_MEMORY_DEFAULT	65536
#define LOG_MEMORY_MAX		(64 * 1024 * 1024)
#define LOG_FILE_MAX_DEFAULT	(10 * 1024 * 1024)
#define LOG_FILE_MAX_MIN	4096
#define LOG_KEEP_DEFAULT	5
#define LOG_KEEP_MAX		1000

struct log_conf {
	int	 lines;		/* last lines kept in memory; 0: none */
	int	 memory_bytes;	/* ... and their text at most */
	char	*file;		/* absolute; NULL: no file */
	int	 max_bytes;	/* the file is rotated when it would pass this */
	int	 keep;		/* rotated files kept: FILE.1 .. FILE.keep */
};

/* "on_failure": a command run when a service fails (config-hooks.c). */
#define HOOK_TIMEOUT_DEFAULT	10000
#define HOOK_TIMEOUT_MAX	600000

struct hook_conf {
	char	**argv;		/* NULL-terminated; argv[0] with a '/' is made absolute */
	size_t	  argc;
	int	  timeout_ms;	/* 1 .. HOOK_TIMEOUT_MAX */
};

/* "health": a worker's liveness probe (config-health.c, health.h). */
#define HEALTH_INTERVAL_DEFAULT	10000
#define HEALTH_INTERVAL_MIN	100
#define HEALTH_INTERVAL_MAX	86400000
#define HEALTH_TIMEOUT_DEFAULT	1000
#define HEALTH_FAILURES_DEFAULT	3
#define HEALTH_FAILURES_MAX	1000
#define HEALTH_HOST_MAX		46	/* an IPv6 address as text, and its NUL */
#define HEALTH_PATH_MAX		1024

enum health_check { HEALTH_EXEC, HEALTH_TCP, HEALTH_HTTP };

struct health_conf {
	enum health_check check;
	char		**argv;		/* exec: NULL-terminated, argv[0] as a worker's */
	size_t		  argc;
	char		  host[HEALTH_HOST_MAX];	/* tcp, http: a numeric address */
	int		  port;
	char		 *path;		/* http: from '/'; NULL for the others */
	int		  interval_ms;	/* HEALTH_INTERVAL_MIN .. _MAX */
	int		  timeout_ms;	/* 1 .. interval_ms */
	int		  failures;	/* 1 .. HEALTH_FAILURES_MAX */
	int		  start_period_ms; /* 0 .. HEALTH_INTERVAL_MAX */
};

struct env_pair {
	char	*key;
	char	*value;
};

/* One of a worker's "rlimits" (config-proc.c has the names). */
struct rlimit_conf {
	int		 resource;	/* RLIMIT_* */
	const char	*name;		/* "nofile": static, from the table */
	rlim_t		 soft, hard;	/* RLIM_INFINITY for "infinity" */
};

/* "watchdog_ms" bounds: 10 ms .. 24 h. */
#define CONFIG_WATCHDOG_MIN	10
#define CONFIG_WATCHDOG_MAX	86400000
/* The largest env_file read. */
#define CONFIG_ENV_FILE_MAX	(1024 * 1024)

/* One node of the supervision tree: a worker (command) or a supervisor (children). */
struct child_conf {
	char			*name;
	bool			 is_sup;
	enum restart_type	 restart;	/* default permanent (also for supervisors) */

	/* supervisor */
	enum strategy		 strategy;	/* default one_for_one */
	int			 max_restarts;	/* default 3, >= 0 */
	int			 max_seconds;	/* default 5, >= 1 */
	bool			 implicit_intensity; /* neither max_restarts nor max_seconds given */
	struct child_conf	**children;
	size_t			 nchildren;

	/* worker */
	char			**argv;		/* NULL-terminated; argv[0] with a '/' is made absolute */
	size_t			 argc;
	int			 shutdown_ms;	/* default 5000, or SHUTDOWN_BRUTAL_KILL / SHUTDOWN_INFINITY */
	int			 stop_signal;	/* default SIGTERM */
	enum ready_mode		 ready;		/* default none */
	int			 ready_timeout_ms; /* default 5000, >= 1 */
	struct backoff_conf	 backoff;
	bool			 implicit_backoff; /* no backoff given */
	struct env_pair		*env;
	size_t			 nenv;
	char			*cwd;		/* absolute; default: the config file's folder */
	char			*user;		/* NULL: not set */
	char			*group;		/* NULL: not set */
	uid_t			 uid;		/* resolved from user when set */
	gid_t			 gid;		/* resolved from group, else user's primary group */
	bool			 has_uid, has_gid;
	/* The process's settings (config-proc.c). */
	bool			 autostart;	/* default true; false: down until started */
	char			*env_file;	/* absolute; NULL: none */
	struct env_pair		*file_env;	/* its variables, each once, the last kept */
	size_t			 nfile_env;
	char			*env_text;	/* the file as read, for a reexec's handover */
	size_t			 env_textlen;
	int			 umask;		/* -1: warden's own */
	struct rlimit_conf	*rlimits;	/* in the order of the names' table */
	size_t			 nrlimits;
	int			 watchdog_ms;	/* 0: none; WATCHDOG=1 at least this often */

	/*
	 * Canonical text of this node's own settings (for a supervisor: without
	 * its children), used by reload to tell changed from unchanged.
	 */
	struct log_conf		 log;
	char			*fingerprint;
	/* Not part of the fingerprint: a new hook restarts nothing. */
	struct hook_conf	*on_failure;	/* NULL: none */
	/* Nor this: a new probe applies from its next round. */
	struct health_conf	*health;	/* NULL: none */
};

struct access_list {
	uid_t	*uids;
	size_t	 nuids;
	char	**groups;	/* names, resolved when a peer is checked */
	size_t	 ngroups;
};

struct flag_conf {
	char	*name;
	int	 dflt;		/* 0 = false, 100 = true; 1..99 a rollout percentage */
	bool	 dflt_is_bool;	/* the default was written as true/false */
	char	*description;	/* "" when absent */
};

struct stage_conf {
	int	  stage;	/* stages are numbered 1..nstages, in order */
	char	**enable;	/* names of configured flags */
	size_t	  nenable;
};

/* Whose restarts the guard counts. */
enum guard_scope {
	GUARD_SCOPE_ALL,	/* every service's (the default) */
	GUARD_SCOPE_READERS	/* of services that read a flag the stage enabled */
};

struct guard_conf {
	bool	enabled;	/* the key was present */
	int	max_restarts;	/* default 10 */
	int	window_s;	/* default 60 */
	struct hook_conf *on_failure;	/* NULL: none */
	/* action: only "rollback" exists */
	int	scope;		/* enum guard_scope, default all */
};

/* What one client may do to the control socket (SPEC 5 defaults). */
struct limits_conf {
	int	max_line_bytes;		/* 1048576: a longer request line is refused */
	int	max_clients;		/* 256 */
	int	idle_ms;		/* 10000: a client idle mid-line is closed */
	int	max_output_bytes;	/* 8388608: answers queued before reading pauses */
	int	subscriber_queue_bytes;	/* 4194304: events queued before a subscriber is dropped */
	int	max_json_depth;		/* 64: nesting of a request */
	int	max_batch;		/* 1024: requests in one batch */
	int	max_pending;		/* 64: calls of one client awaiting their answer */
};

/*
 * "metrics": the HTTP endpoint of the Prometheus metrics (config-metrics.c).
 * listen "HOST:PORT", "[IPV6]:PORT", ":PORT" or "PORT" (loopback).
 */
#define METRICS_MAX_CONNECTIONS_DEFAULT	16
#define METRICS_TIMEOUT_DEFAULT		10000

struct metrics_conf {
	bool	 enabled;		/* the key was present */
	char	*host;			/* numeric: "127.0.0.1", "::1" */
	int	 port;			/* 0: any free port */
	int	 max_connections;	/* 16: more wait until one closes */
	int	 timeout_ms;		/* 10000: a request or answer stuck longer is closed */
};

/*
 * "fleet": the etcd cluster that holds the flags and the stage of a fleet
 * of wardens (config-fleet.c; the keys and values in fleet.h). Endpoints
 * are "http://HOST:PORT" with a numeric HOST, [IPv6] or localhost, as a
 * health probe's: warden never waits on DNS.
 */
#define FLEET_ENDPOINTS_MAX	16
#define FLEET_PREFIX_DEFAULT	"/warden/"
#define FLEET_PREFIX_MAX	128	/* bytes */
#define FLEET_HOST_MAX		64	/* a host's name: [A-Za-z0-9._-] */
#define FLEET_LEASE_DEFAULT	10	/* s; the report is renewed every third */
#define FLEET_LEASE_MIN		2
#define FLEET_LEASE_MAX		3600
#define FLEET_TIMEOUT_DEFAULT	2000	/* ms: a request to etcd */
#define FLEET_TIMEOUT_MIN	100
#define FLEET_TIMEOUT_MAX	60000

struct fleet_endpoint {
	char	 host[HEALTH_HOST_MAX];	/* numeric; localhost is 127.0.0.1 */
	int	 port;			/* 1..65535 */
};

struct fleet_conf {
	bool			 enabled;	/* the key was present */
	struct fleet_endpoint	*etcd;		/* in the order given */
	size_t			 netcd;		/* 1..FLEET_ENDPOINTS_MAX */
	char			*prefix;	/* "/.../": starts and ends with '/' */
	char			*host;		/* NULL: not given, the daemon's gethostname() */
	int			 lease_s;
	int			 timeout_ms;
};

/* The largest configuration file read. */
#define CONFIG_FILE_MAX		(16 * 1024 * 1024)

struct config {
	char			*path;		/* absolute path of the file */
	char			*dir;		/* its folder: relative paths resolve here */
	char			*socket;	/* absolute; default /run/warden/warden.sock */
	mode_t			 socket_mode;	/* default 0660 */
	char			*state_dir;	/* absolute; default /var/lib/warden */
	char			*table;		/* shm name, "/name"; default "/warden" */
	struct access_list	 operate;
	struct access_list	 admin;
	struct flag_conf	*flags;
	size_t			 nflags;
	struct stage_conf	*stages;
	size_t			 nstages;
	struct guard_conf	 guard;
	struct limits_conf	 limits;
	struct metrics_conf	 metrics;
	struct fleet_conf	 fleet;		/* enabled: a member of a fleet on etcd */
	struct child_conf	*root;		/* the "supervisor" key; named "root" unless it has a name */
	char			*text;		/* the text it was read from, NUL-terminated */
	size_t			 textlen;
};

/*
 * Read and validate FILE. On error returns -1 and writes one line to err:
 *   "FILE:LINE:COL: key.path[2].key: what is wrong"
 */
int	config_load(const char *file, struct config **out, char *err, size_t errlen);

/*
 * Same, from text in memory. FILE names the text in messages and its folder
 * is the base for relative paths.
 */
int	config_parse(const char *text, size_t len, const char *file,
	    struct config **out, char *err, size_t errlen);

/*
 * config_parse() for a reexec, which hands over the configuration in
 * force: each env_file is taken from env_files (absolute path -> its
 * content in hex, as config_env_files() makes it), not read, so that the
 * next image has the variables the workers were started with. With
 * env_files NULL none is read and they give no variables (warden
 * --handover-check, which checks the text alone).
 */
struct json_t;
int	config_parse_handover(const char *text, size_t len, const char *file,
	    const struct json_t *env_files, struct config **out, char *err,
	    size_t errlen);
/* What config_parse_handover() takes: every worker's env file. */
struct json_t	*config_env_files(const struct config *);

void	config_free(struct config *);

/* Depth-first, parents before children. Stops and returns non-zero when fn does. */
int	config_walk(struct child_conf *, int (*fn)(struct child_conf *, int depth, void *), void *arg);

const char	*config_strategy_name(enum strategy);
const char	*config_restart_name(enum restart_type);
const char	*config_ready_name(enum ready_mode);

#endif
