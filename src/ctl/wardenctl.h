/*
 * wardenctl.h: the pieces of wardenctl, warden's command-line client.
 *
 * wardenctl.c reads the global options and runs the command its table
 * (wardenctl-cmd.c) names; wardenctl-cli.c holds what commands share on
 * the command line (options, usage errors, messages, request params);
 * wardenctl-rpc.c makes JSON-RPC calls through the one connection module,
 * wardenctl-conn.c, which the drill runner uses too; wardenctl-output.c
 * prints JSON, tables and durations. The handlers are in a file per
 * family of commands (see wardenctl-cmd.c). A handler returns the
 * process's exit status.
 */
#ifndef WARDENCTL_H
#define WARDENCTL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "wardenctl-conn.h"

#define CTL_DEFAULT_SOCKET	"/run/warden/warden.sock"

/* Exit statuses (wardenctl(1), EXIT STATUS). */
#define CTL_EXIT_OK		0
#define CTL_EXIT_ERROR		1	/* warden answered an error */
#define CTL_EXIT_USAGE		2
#define CTL_EXIT_CONNECT	3	/* cannot connect, or lost it */
#define CTL_EXIT_TIMEOUT	4	/* RPC_TIMEOUT, or no answer in time */
/* 5: a drill failed (wardenctl-drill.c) */
#define CTL_EXIT_NOT_OK		6	/* status: not ok, or not running and ready */
#define CTL_EXIT_NOT_OBSERVED	7	/* --wait-observed: readers lagged */

/*
 * Client deadlines. Quick calls get a short one; calls whose duration
 * depends on the services (a stop waits out shutdown_ms, a start waits
 * for readiness) get a long one; a wait gets its own timeout plus a
 * margin, so that the daemon's -32003 normally arrives first. A reexec
 * is answered by the new image, after the check of the new binary (5 s
 * at most) and the handover: seconds at worst, and far less than a
 * minute however many workers and clients there are.
 */
#define CTL_DEADLINE_QUICK_MS	10000
#define CTL_DEADLINE_LONG_MS	300000
#define CTL_DEADLINE_REEXEC_MS	60000
#define CTL_WAIT_MARGIN_MS	2000
/* A count from the command line: so that MS + CTL_WAIT_MARGIN_MS fits. */
#define CTL_MS_MAX		(INT_MAX - CTL_WAIT_MARGIN_MS)

struct ctl {
	const char	*socket;
	bool		 json;		/* -j: print JSON results */
	struct conn	 conn;		/* opened by the first call */
	json_int_t	 next_id;
};

/* How a command option takes its value. */
enum ctl_optarg {
	CTL_ARG_NONE,
	CTL_ARG_REQUIRED,
	/* "--opt MS": the next word is its value only if it is a number. */
	CTL_ARG_OPTIONAL_NUMBER
};

struct ctl_opt {
	char		 short_name;	/* 0: long form only */
	const char	*long_name;	/* no "--"; handlers ask by it */
	enum ctl_optarg	 arg;
};

#define CTL_MAXOPTS	4

struct ctl_cmd;

/* A command's operands and options, after parsing. */
struct ctl_args {
	const struct ctl_cmd	*cmd;
	int			 argc;
	char			**argv;
	bool			 set[CTL_MAXOPTS];
	const char		*val[CTL_MAXOPTS];	/* NULL: no value */
};

struct ctl_cmd {
	const char	*name;
	const char	*usage;		/* operands and options */
	const char	*summary;	/* one line for the command list */
	const char	*help;		/* the rest of COMMAND --help */
	int		 min_args;
	int		 max_args;	/* -1: no limit */
	struct ctl_opt	 opts[CTL_MAXOPTS];
	int		(*handler)(struct ctl *, struct ctl_args *);
};

/* wardenctl-cmd.c: the table of commands and the help. */
const struct ctl_cmd *ctl_find_command(const char *);
void	 ctl_print_synopsis(FILE *);
void	 ctl_print_help(FILE *);
void	 ctl_print_cmd_help(FILE *, const struct ctl_cmd *);

/* wardenctl-cli.c: what commands share on the command line. */
/*
 * Split a command's words into operands and options; options may come
 * before, between or after the operands, and "--" ends them. Sets *help
 * for -h/--help. Returns an exit status (CTL_EXIT_OK to go on).
 */
int	 ctl_parse_args(const struct ctl_cmd *, int argc, char **argv,
	    struct ctl_args *, bool *help);
bool	 ctl_opt_isset(const struct ctl_args *, const char *long_name);
const char *ctl_opt_value(const struct ctl_args *, const char *long_name);
void	 ctl_print_usage(FILE *, const struct ctl_cmd *);
/* "wardenctl: CMD: ..." and the command's usage; CTL_EXIT_USAGE. */
int	 ctl_usage_error(const struct ctl_args *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* "wardenctl: ..." on stderr; returns status. */
int	 ctl_errx(int status, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 ctl_parse_count(const struct ctl_args *, const char *what,
	    const char *, int *);
json_t	*ctl_str(const char *);
void	 ctl_set(json_t *, const char *key, json_t *value);
json_t	*ctl_params(const char *key, json_t *value);
double	 ctl_elapsed_ms(double since_ms);
int	 ctl_call_print(struct ctl *, const char *method, json_t *params,
	    int deadline_ms, void (*human)(json_t *));

/* wardenctl-rpc.c */
void	 ctl_init(struct ctl *, const char *socket, bool json);
void	 ctl_close(struct ctl *);
int	 ctl_call(struct ctl *, const char *method, json_t *params,
	    int deadline_ms, json_t **result);
int	 ctl_next_event(struct ctl *, int timeout_ms, json_t **params);
/* The next notification of method; *params NULL once warden has closed. */
int	 ctl_next_note(struct ctl *, const char *method, int timeout_ms,
	    json_t **params);

/* wardenctl-output.c */
void	 ctl_json_write(FILE *, json_t *, bool pretty);
char	*ctl_json_text(json_t *, bool pretty);
void	 ctl_print_result(json_t *);
char	*ctl_cell(json_t *);
const char *ctl_fmt_duration(char *, size_t, double ms);
const char *ctl_json_str(json_t *, const char *key);
char	*ctl_join_names(json_t *, const char *sep);

struct ctl_table {
	size_t	  ncols;
	size_t	  ncells;
	size_t	  cap;
	char	**cells;	/* row-major; the first row is the header */
};

void	 ctl_table_init(struct ctl_table *, size_t ncols, ...);
void	 ctl_table_cell(struct ctl_table *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 ctl_table_own(struct ctl_table *, char *);
void	 ctl_table_print(struct ctl_table *, FILE *);
void	 ctl_table_free(struct ctl_table *);

/* wardenctl-flag.c: flag values and authors as wardenctl writes them. */
json_t	*ctl_flag_value_arg(const char *);
char	*ctl_flag_value_cell(json_t *);
char	*ctl_by_cell(json_t *by, const char *none);
char	*ctl_text_cell(json_t *);

/* The handlers, one per command. wardenctl-status.c: */
int	 cmd_ping(struct ctl *, struct ctl_args *);
int	 cmd_version(struct ctl *, struct ctl_args *);
int	 cmd_status(struct ctl *, struct ctl_args *);
int	 cmd_recovery(struct ctl *, struct ctl_args *);
int	 cmd_metrics(struct ctl *, struct ctl_args *);

/* wardenctl-service.c */
int	 cmd_service(struct ctl *, struct ctl_args *);
int	 cmd_kill(struct ctl *, struct ctl_args *);
int	 cmd_signal(struct ctl *, struct ctl_args *);
int	 cmd_wait(struct ctl *, struct ctl_args *);

/* wardenctl-events.c */
int	 cmd_events(struct ctl *, struct ctl_args *);

/* wardenctl-logs.c */
int	 cmd_logs(struct ctl *, struct ctl_args *);

/* wardenctl-warden.c */
int	 cmd_reload(struct ctl *, struct ctl_args *);
int	 cmd_reexec(struct ctl *, struct ctl_args *);
int	 cmd_shutdown(struct ctl *, struct ctl_args *);
int	 cmd_call(struct ctl *, struct ctl_args *);

/* wardenctl-flag.c */
int	 cmd_flag(struct ctl *, struct ctl_args *);
/*
 * wardenctl-observe.c: --wait-observed[=MS] added to a change's params
 * (*ms: -1 when not given); the change called and said, with what was
 * observed: CTL_EXIT_NOT_OBSERVED when some reader had not in time.
 */
int	 ctl_observe_params(const struct ctl_args *, json_t **params, int *ms);
int	 ctl_observe_call(struct ctl *, const char *method, json_t *params,
	    int ms, void (*human)(json_t *));
/* A flag's readers: "svc1,svc2", "(unread)", or their count. */
char	*ctl_observe_readers_cell(json_t *flag);
int	 cmd_stage(struct ctl *, struct ctl_args *);
int	 cmd_table(struct ctl *, struct ctl_args *);

/* wardenctl-sub.c: a command's subcommands (flag get, stage set, ...). */
struct ctl_sub {
	const char	*name;
	int		 min_args;
	int		 max_args;
	const char	*opts[2];	/* long names; NULL-ended */
	int		(*run)(struct ctl *, struct ctl_args *, int, char **);
};
/* Does the command have this option, and was it given? */
bool	 ctl_sub_opt_given(const struct ctl_args *, const char *long_name);
/* Run the subcommand the first operand names (none: the first entry). */
int	 ctl_sub_run(struct ctl *, struct ctl_args *, const struct ctl_sub *,
	    size_t);
/* params with "reason" from -m when it was given. */
json_t	*ctl_sub_reason(const struct ctl_args *, json_t *params);

/* wardenctl-fleet.c */
int	 cmd_fleet(struct ctl *, struct ctl_args *);

/* wardenctl-drill.c */
int	 cmd_drill(struct ctl *, struct ctl_args *);

#endif
