/*
 * wardenctl-cmd.c: the table of wardenctl's commands, and the help made
 * from it. See wardenctl(1).
 *
 * Each command parses its own operands and options from its entry here
 * (wardenctl-cli.c), so adding a command is one entry and one handler.
 * The handlers are in a file per family: wardenctl-status.c (ping,
 * version, status, recovery, metrics), wardenctl-service.c (start, stop, restart,
 * signal, kill, wait), wardenctl-events.c, wardenctl-warden.c (reload, reexec,
 * shutdown, call), wardenctl-flag.c (flag, stage, table),
 * wardenctl-fleet.c (fleet) and wardenctl-drill.c.
 */
#include <stdio.h>
#include <string.h>

#include "util.h"
#include "wardenctl.h"

static int	cmd_help(struct ctl *, struct ctl_args *);

static const struct ctl_cmd ctl_commands[] = {
	{ .name = "ping", .usage = "",
	  .summary = "check that warden answers",
	  .help = "Print \"pong\" once warden answers.\n",
	  .min_args = 0, .max_args = 0, .handler = cmd_ping },
	{ .name = "version", .usage = "",
	  .summary = "print wardenctl's and warden's versions",
	  .help = "Print wardenctl's version, then warden's and its\n"
	    "protocol's. With -j, warden's answer: {version, protocol}.\n",
	  .min_args = 0, .max_args = 0, .handler = cmd_version },
	{ .name = "status", .usage = "[SERVICE...]",
	  .summary = "show the services and supervisors",
	  .help = "Print the health and stage, a table of services (or of\n"
	    "each SERVICE named) and a table of supervisors. Exit 0 when\n"
	    "the health is ok (no SERVICE) or every SERVICE is running\n"
	    "and ready (a supervisor: running), 6 otherwise.\n",
	  .min_args = 0, .max_args = -1, .handler = cmd_status },
	{ .name = "start", .usage = "SERVICE...",
	  .summary = "start stopped services",
	  .help = "Start each SERVICE and print its new state, once all\n"
	    "have got there. A SERVICE may be a supervisor (its subtree,\n"
	    "in its order) or \"*\" (every service). Every name is checked\n"
	    "first: one unknown and nothing is done.\n",
	  .min_args = 1, .max_args = -1, .handler = cmd_service },
	{ .name = "stop", .usage = "SERVICE...",
	  .summary = "stop services; they stay down until started",
	  .help = "Stop each SERVICE (its stop signal, then SIGKILL after\n"
	    "its shutdown grace), in reverse order, and print its new\n"
	    "state. It is not restarted. SERVICE as for start.\n",
	  .min_args = 1, .max_args = -1, .handler = cmd_service },
	{ .name = "restart", .usage = "SERVICE...",
	  .summary = "stop and start services",
	  .help = "Stop each SERVICE, start it again and print its new\n"
	    "state. SERVICE as for start.\n",
	  .min_args = 1, .max_args = -1, .handler = cmd_service },
	{ .name = "signal", .usage = "SERVICE... SIG",
	  .summary = "send a signal as the operator's request (a reload)",
	  .help = "Send SIG (HUP, SIGHUP, 1...) to the process group of\n"
	    "each SERVICE (a supervisor: its running workers; \"*\":\n"
	    "every running worker). An exit it causes is one asked for,\n"
	    "never a failure: a permanent service is started again at\n"
	    "once, a transient or temporary one stays down. A SERVICE\n"
	    "named that is not running is refused, and nothing is sent.\n",
	  .min_args = 2, .max_args = -1, .handler = cmd_signal },
	{ .name = "kill",
	  .usage = "SERVICE... [-s SIG] [--wait-recovered [MS]]",
	  .summary = "signal services, as a crash would",
	  .help = "Send a signal to the process group of each SERVICE\n"
	    "(\"*\": every worker at once). warden treats the exit as a\n"
	    "failure and recovers.\n"
	    "  -s, --signal SIG       KILL (default), TERM, SIGTERM, 15...\n"
	    "  --wait-recovered [MS]  then wait until warden has seen the\n"
	    "                         processes exit and nothing is\n"
	    "                         recovering or failed, at most MS ms\n"
	    "                         in all (default 10000)\n",
	  .min_args = 1, .max_args = -1,
	  .opts = { { 's', "signal", CTL_ARG_REQUIRED },
	    { 0, "wait-recovered", CTL_ARG_OPTIONAL_NUMBER } },
	  .handler = cmd_kill },
	{ .name = "wait",
	  .usage = "SERVICE STATE|HEALTH [-t MS] [--min-restarts N]\n"
	    "recovered [-t MS]\n"
	    "flag NAME VALUE [-t MS]\n"
	    "stage N [-t MS]",
	  .summary = "wait for a state, recovery, a flag value or a stage",
	  .help = "Wait until SERVICE is in STATE (starting, running,\n"
	    "stopping, stopped, backoff, failed), or its liveness probe\n"
	    "says HEALTH (healthy, unhealthy); until nothing is\n"
	    "recovering or failed and the table is healthy; until flag\n"
	    "NAME has VALUE (on, off, true, false or a percentage\n"
	    "0..100); or until the stage is N. Exit 4 when the time runs\n"
	    "out.\n"
	    "  -t, --timeout MS       give up after MS ms (default 30000)\n"
	    "  --min-restarts N       and SERVICE has restarted at least\n"
	    "                         N times\n",
	  .min_args = 1, .max_args = 3,
	  .opts = { { 't', "timeout", CTL_ARG_REQUIRED },
	    { 0, "min-restarts", CTL_ARG_REQUIRED } },
	  .handler = cmd_wait },
	{ .name = "flag",
	  .usage = "[list] [-v]\n"
	    "get NAME\n"
	    "set NAME on|off|PERCENT [-m REASON] [--wait-observed[=MS]]\n"
	    "reset [NAME] [-m REASON] [--wait-observed[=MS]]\n"
	    "read NAME [ID] [--table NAME]",
	  .summary = "list, show, set and reset feature flags",
	  .help = "Flags are on, off or a rollout percentage.\n"
	    "  list                   every flag: value, default, last\n"
	    "                         change; and the stage (the default)\n"
	    "  -v, --verbose          list: and the services that read\n"
	    "                         each flag; (unread) when none does\n"
	    "  get NAME               one flag's fields, and its readers\n"
	    "  set NAME VALUE         VALUE: on, off, true, false or a\n"
	    "                         percentage 0..100 (\"25\", \"25%\")\n"
	    "  reset [NAME]           NAME, or every flag, to its default\n"
	    "  read NAME [ID]         NAME as a worker reads it: through\n"
	    "                         the shared table with libwarden,\n"
	    "                         not the socket; with ID, whether\n"
	    "                         the rollout includes ID\n"
	    "  -m, --reason REASON    why (set, reset); warden records it\n"
	    "  --wait-observed[=MS]   set, reset: then wait until every\n"
	    "                         running worker that reads the table\n"
	    "                         has observed the change, at most MS\n"
	    "                         ms (default 5000); exit 7 naming\n"
	    "                         those that had not\n"
	    "  --table NAME           the table to read (default:\n"
	    "                         $WARDEN_TABLE, else warden's)\n",
	  /* Each subcommand counts its own operands. */
	  .min_args = 0, .max_args = -1,
	  .opts = { { 'm', "reason", CTL_ARG_REQUIRED },
	    { 0, "table", CTL_ARG_REQUIRED },
	    { 0, "wait-observed", CTL_ARG_OPTIONAL_NUMBER },
	    { 'v', "verbose", CTL_ARG_NONE } },
	  .handler = cmd_flag },
	{ .name = "stage",
	  .usage = "[get] [-n N]\n"
	    "set N [-m REASON] [--wait-observed[=MS]]\n"
	    "rollback [M] [-m REASON] [--wait-observed[=MS]]\n"
	    "emergency [-m REASON] [--wait-observed[=MS]]",
	  .summary = "show, raise or roll back the migration stage",
	  .help = "A stage is a numbered bundle of flags to turn on.\n"
	    "  get                    the stage, the configured stages and\n"
	    "                         the changes so far (the default)\n"
	    "  -n, --limit N          get: only the last N changes\n"
	    "  set N                  apply the stages above the current\n"
	    "                         one up to N, as one change\n"
	    "  rollback [M]           back to M (default: one below the\n"
	    "                         current), with the flag values saved\n"
	    "                         before stage M+1 was applied\n"
	    "  emergency              every flag to its default, stage 0\n"
	    "  -m, --reason REASON    why; warden records it\n"
	    "  --wait-observed[=MS]   set, rollback, emergency: then wait\n"
	    "                         until every running worker that\n"
	    "                         reads the table has observed the\n"
	    "                         change, at most MS ms (default\n"
	    "                         5000); exit 7 naming those that had\n"
	    "                         not\n",
	  .min_args = 0, .max_args = -1,
	  .opts = { { 'm', "reason", CTL_ARG_REQUIRED },
	    { 'n', "limit", CTL_ARG_REQUIRED },
	    { 0, "wait-observed", CTL_ARG_OPTIONAL_NUMBER } },
	  .handler = cmd_stage },
	{ .name = "table", .usage = "[info]\ndelete\ncorrupt",
	  .summary = "show the shared table, or damage it for a drill",
	  .help = "The shared-memory table that workers read flags from.\n"
	    "  info                   its name, generation, health and\n"
	    "                         repairs (the default)\n"
	    "  delete, corrupt        remove or damage it as a fault from\n"
	    "                         outside would; warden notices and\n"
	    "                         repairs it (drills; admin role)\n",
	  .min_args = 0, .max_args = -1, .handler = cmd_table },
	{ .name = "fleet", .usage = "[status]\n"
	    "stage set N|rollback [N]|emergency [-m R] [--wait-observed[=MS]]\n"
	    "flag set NAME VALUE|reset NAME [-m R] [--wait-observed[=MS]]",
	  .summary = "show or change the fleet this warden is a member of",
	  .help = "The fleet on etcd (warden.json's \"fleet\" key).\n"
	    "  status                 the fleet as this warden's watch sees\n"
	    "                         it: the newest change of its stage\n"
	    "                         and flags, and per live host its\n"
	    "                         stage, the revision it has applied\n"
	    "                         and whether it is behind; exit 6\n"
	    "                         when one is (the default)\n"
	    "  stage ..., flag ...    change the fleet's stage or a flag,\n"
	    "                         as the local stage and flag commands\n"
	    "                         do, in etcd: every member applies it\n"
	    "                         (admin role); refused as a conflict\n"
	    "                         when the key changed meanwhile or\n"
	    "                         this warden is behind\n"
	    "  -m, --reason REASON    why, kept with the change\n"
	    "  --wait-observed[=MS]   answer once every live host has\n"
	    "                         applied the change, at most MS ms\n"
	    "                         (default 5000); exit 7 naming those\n"
	    "                         that had not\n",
	  .min_args = 0, .max_args = 4,
	  .opts = { { 'm', "reason", CTL_ARG_REQUIRED },
	    { 0, "wait-observed", CTL_ARG_OPTIONAL_NUMBER } },
	  .handler = cmd_fleet },
	{ .name = "recovery", .usage = "",
	  .summary = "show what is recovering and how fast it did",
	  .help = "Print whether warden is recovering, the failed services,\n"
	    "and per service its restarts, budget left, time down and\n"
	    "last recovery time.\n",
	  .min_args = 0, .max_args = 0, .handler = cmd_recovery },
	{ .name = "metrics", .usage = "",
	  .summary = "print warden's metrics in the Prometheus text format",
	  .help = "Print the metrics the HTTP endpoint (warden.json's\n"
	    "\"metrics\" key) serves: per service its state, restarts by\n"
	    "reason and recovery times, per supervisor its intensity,\n"
	    "the flags and stage, control requests and warden's own\n"
	    "process. With -j, warden's answer: {content_type, text,\n"
	    "listen}.\n",
	  .min_args = 0, .max_args = 0, .handler = cmd_metrics },
	{ .name = "drill", .usage = "run FILE... [--report FILE]",
	  .summary = "run failure drills and measure recovery",
	  .help = "Run each drill FILE (warden-drill(5)) against warden:\n"
	    "its steady state, its steps, its rollback (always, once a\n"
	    "step has run, also after a failure or SIGINT/SIGTERM) and\n"
	    "the steady state again. Print one line per step, each\n"
	    "killed service's time to restart and to ready, the table's\n"
	    "time to repair, and the verdict. Every file is checked\n"
	    "before the first drill runs. Exit 5 when a drill failed,\n"
	    "1 when a file is invalid.\n"
	    "  --report FILE          also write the reports as a JSON\n"
	    "                         array, one object per drill\n",
	  .min_args = 1, .max_args = -1,
	  .opts = { { 0, "report", CTL_ARG_REQUIRED } },
	  .handler = cmd_drill },
	{ .name = "events", .usage = "[TOPIC...]",
	  .summary = "print events as they happen",
	  .help = "Print one line per event until warden closes the\n"
	    "connection or the command is interrupted. A TOPIC is an\n"
	    "event type (\"service.exited\") or a prefix of one that ends\n"
	    "at a dot (\"service\", \"service.\"); another is refused.\n"
	    "None: every event. With -j, each event's JSON on one line.\n",
	  .min_args = 0, .max_args = -1, .handler = cmd_events },
	{ .name = "logs", .usage = "[SERVICE...] [-n N] [-f]",
	  .summary = "print services' last output lines, or follow them",
	  .help = "Print the last lines each SERVICE wrote (a supervisor:\n"
	    "the services under it; none: every service), oldest first,\n"
	    "as \"TIME SERVICE[PID] STREAM: TEXT\", several services\n"
	    "interleaved in the order warden read them. warden keeps\n"
	    "each service's last lines in memory (its \"log\" setting\n"
	    "in warden.json(5)). With -j, each line's JSON.\n"
	    "  -n, --lines N          the last N lines of all named\n"
	    "                         (default 10; 0: none, then -f)\n"
	    "  -f, --follow           then print each new line as it\n"
	    "                         comes, until interrupted\n",
	  .min_args = 0, .max_args = -1,
	  .opts = { { 'n', "lines", CTL_ARG_REQUIRED },
	    { 'f', "follow", CTL_ARG_NONE } },
	  .handler = cmd_logs },
	{ .name = "reload", .usage = "[--dry-run]",
	  .summary = "re-read the configuration and apply the difference",
	  .help = "Re-read warden's configuration file: added services\n"
	    "start, removed ones stop, changed ones restart, the others\n"
	    "keep running.\n"
	    "  -n, --dry-run          only print what would change\n",
	  .min_args = 0, .max_args = 0,
	  .opts = { { 'n', "dry-run", CTL_ARG_NONE } },
	  .handler = cmd_reload },
	{ .name = "reexec", .usage = "[BINARY]",
	  .summary = "upgrade warden in place, restarting nothing",
	  .help = "Make warden execute BINARY (default: the file it was\n"
	    "started from) in place of itself, with the same pid: every\n"
	    "worker keeps running with its pid, output and restart count,\n"
	    "clients stay connected, flags and the table are untouched.\n"
	    "warden checks BINARY first; when it cannot take over, warden\n"
	    "goes on as it was and the reason is printed (exit 1). A\n"
	    "relative BINARY is taken from the current folder; one that\n"
	    "is not an executable file is refused before warden is asked.\n"
	    "With -j, warden's answer: {pid, binary, version_before,\n"
	    "version, took_ms, workers, clients}.\n",
	  .min_args = 0, .max_args = 1, .handler = cmd_reexec },
	{ .name = "shutdown", .usage = "",
	  .summary = "stop every service and warden",
	  .help = "Stop every service in reverse order; warden then exits.\n",
	  .min_args = 0, .max_args = 0, .handler = cmd_shutdown },
	{ .name = "call", .usage = "METHOD [PARAMS]",
	  .summary = "call a protocol method and print its JSON result",
	  .help = "Send METHOD with PARAMS (a JSON object or array) and\n"
	    "print the result as JSON.\n",
	  .min_args = 1, .max_args = 2, .handler = cmd_call },
	{ .name = "help", .usage = "[COMMAND]",
	  .summary = "describe wardenctl, or one command",
	  .help = "Print the list of commands, or COMMAND's usage and\n"
	    "options.\n",
	  .min_args = 0, .max_args = 1, .handler = cmd_help },
};

const struct ctl_cmd *
ctl_find_command(const char *name)
{
	size_t	i;

	for (i = 0; i < nitems(ctl_commands); i++)
		if (strcmp(ctl_commands[i].name, name) == 0)
			return &ctl_commands[i];
	return NULL;
}

void
ctl_print_synopsis(FILE *fp)
{
	fprintf(fp,
	    "usage: wardenctl [-j] [-S SOCKET] COMMAND [ARGS]\n"
	    "       wardenctl -h | -V\n");
}

void
ctl_print_help(FILE *fp)
{
	size_t	i;

	ctl_print_synopsis(fp);
	fprintf(fp, "\nCommands:\n");
	for (i = 0; i < nitems(ctl_commands); i++)
		fprintf(fp, "  %-10s %s\n", ctl_commands[i].name,
		    ctl_commands[i].summary);
	fprintf(fp, "\nOptions:\n"
	    "  -S, --socket SOCKET  warden's control socket (default:\n"
	    "                       $WARDEN_SOCKET, else %s)\n"
	    "  -j, --json           print results as JSON\n"
	    "  -h, --help           print this help\n"
	    "  -V, --version        print wardenctl's version\n"
	    "\n\"wardenctl help COMMAND\" describes a command.\n",
	    CTL_DEFAULT_SOCKET);
}

void
ctl_print_cmd_help(FILE *fp, const struct ctl_cmd *cmd)
{
	ctl_print_usage(fp, cmd);
	fprintf(fp, "\n%s", cmd->help);
}

static int
cmd_help(struct ctl *c, struct ctl_args *a)
{
	const struct ctl_cmd	*cmd;

	(void)c;
	if (a->argc == 0) {
		ctl_print_help(stdout);
		return CTL_EXIT_OK;
	}
	if ((cmd = ctl_find_command(a->argv[0])) == NULL)
		return ctl_usage_error(a, "unknown command: %s", a->argv[0]);
	ctl_print_cmd_help(stdout, cmd);
	return CTL_EXIT_OK;
}
