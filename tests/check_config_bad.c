/*
 * check_config_bad.c: the warden.json texts config_parse() refuses, each
 * with its one line of error (file:line:col: key path: what is wrong),
 * and how that line is written: within the buffer, from len bytes only.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"
#include "suite.h"

/*
 * Bad configs: each gives exactly this one line, naming the file as given,
 * the line and column where the offending value (or unknown key, or the
 * object lacking a key) starts, the key path and what is wrong.
 */
static const struct {
	const char	*what;
	const char	*text;
	const char	*err;
} bad[] = {
	{ "syntax",
	    "{\n"
	    "  \"socket\": \"x\",\n"
	    "  \"table\" \"/w\"\n"
	    "}",
	    "conf/bad.json:3:14: ':' expected near '\"/w\"'" },
	{ "syntax_duplicate_key",
	    "{\"socket\": \"a\", \"socket\": \"b\"}",
	    "conf/bad.json:1:24: duplicate object key near '\"socket\"'" },
	{ "syntax_empty",
	    "",
	    "conf/bad.json:1:1: '[' or '{' expected near end of file" },
	{ "not_object",
	    "  [1]",
	    "conf/bad.json:1:3: expected an object" },
	{ "unknown_top_key",
	    "{\n"
	    "  \"socket\": \"/s\",\n"
	    "  \"sockets\": \"x\",\n"
	    "  \"supervisor\": {\"children\": []}\n"
	    "}",
	    "conf/bad.json:3:3: sockets: unknown key" },
	{ "missing_supervisor",
	    "\n"
	    " {\"socket\": \"/s\"}",
	    "conf/bad.json:2:2: supervisor: required key is missing" },
	{ "missing_children",
	    "{\"supervisor\": {\"name\": \"top\"}}",
	    "conf/bad.json:1:16: supervisor.children: required key "
	    "is missing" },
	{ "socket_type",
	    "{\"socket\": 5, \"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:12: socket: expected a string" },
	{ "socket_mode_digits",
	    "{\"socket_mode\": \"0668\", \"supervisor\": {\"children\": "
	    "[]}}",
	    "conf/bad.json:1:17: socket_mode: expected an octal "
	    "mode like \"0660\"" },
	{ "socket_mode_number",
	    "{\"socket_mode\": 660, \"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:17: socket_mode: expected an octal "
	    "mode like \"0660\"" },
	{ "socket_mode_large",
	    "{\"socket_mode\": \"1777\", \"supervisor\": {\"children\": "
	    "[]}}",
	    "conf/bad.json:1:17: socket_mode: mode must be at most 0777" },
	{ "table_slash",
	    "{\"table\": \"warden\", \"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:11: table: must start with '/', like "
	    "\"/warden\"" },
	{ "table_inner_slash",
	    "{\"table\": \"/a/b\", \"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:11: table: must not contain '/' after "
	    "the first character" },
	{ "table_short",
	    "{\"table\": \"/\", \"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:11: table: must be 2 to 255 characters long" },
	{ "access_unknown",
	    "{\"access\": {\"operate\": {}, \"operators\": {}}, "
	    "\"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:28: access.operators: unknown key" },
	{ "access_uid",
	    "{\"access\": {\"admin\": {\"uids\": [0, -1]}}, "
	    "\"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:35: access.admin.uids[1]: expected an "
	    "integer >= 0" },
	{ "access_group",
	    "{\"access\": {\"admin\": {\"groups\": [\"wheel\", 7]}}, "
	    "\"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:43: access.admin.groups[1]: expected a string" },
	{ "flag_name",
	    "{\"flags\": {\"ok\": {}, \"bad flag\": {}}, \"supervisor\": "
	    "{\"children\": []}}",
	    "conf/bad.json:1:22: flags.bad flag: invalid name: "
	    "only letters, digits, '_', '.' and '-' are allowed" },
	{ "flag_default_101",
	    "{\n"
	    "  \"flags\": {\n"
	    "    \"a\": { \"description\": \"café ✓\", \"default\": 101 }\n"
	    "  },\n"
	    "  \"supervisor\": {\"children\": []}\n"
	    "}",
	    "conf/bad.json:3:48: flags.a.default: expected true, "
	    "false or an integer from 0 to 100" },
	{ "flag_unknown_key",
	    "{\"flags\": {\"a\": {\"default\": true, \"rollout\": 5}}, "
	    "\"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:35: flags.a.rollout: unknown key" },
	{ "stage_gap",
	    "{\"flags\": {\"a\": {}, \"b\": {}},\n"
	    " \"stages\": [{\"stage\": 1, \"enable\": [\"a\"]},\n"
	    "            {\"stage\": 3, \"enable\": [\"b\"]}],\n"
	    " \"supervisor\": {\"children\": []}}",
	    "conf/bad.json:3:23: stages[1].stage: expected 2 "
	    "(stages are numbered 1, 2, 3... in order)" },
	{ "stage_unknown_flag",
	    "{\"flags\": {\"a\": {}}, \"stages\": [{\"stage\": 1, "
	    "\"enable\": [\"a\", \"nope\"]}], \"supervisor\": {\"children\": "
	    "[]}}",
	    "conf/bad.json:1:62: stages[0].enable[1]: unknown flag 'nope'" },
	{ "stage_missing_number",
	    "{\"stages\": [{\"enable\": []}], \"supervisor\": "
	    "{\"children\": []}}",
	    "conf/bad.json:1:13: stages[0].stage: required key is missing" },
	{ "metrics_no_listen",
	    "{\"metrics\": {}, \"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:13: metrics.listen: required key is missing" },
	{ "metrics_unknown_key",
	    "{\"metrics\": {\"listen\": \":1\", \"port\": 1}, "
	    "\"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:30: metrics.port: unknown key" },
	{ "metrics_listen_name",
	    "{\"metrics\": {\"listen\": \"localhost:9464\"}, "
	    "\"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:24: metrics.listen: not a numeric IPv4 address (names are not resolved)" },
	{ "metrics_listen_port",
	    "{\"metrics\": {\"listen\": \"127.0.0.1:65536\"}, "
	    "\"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:24: metrics.listen: the port must be a number from 0 to 65535" },
	{ "metrics_listen_no_port",
	    "{\"metrics\": {\"listen\": \"127.0.0.1:\"}, "
	    "\"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:24: metrics.listen: the port must be a number from 0 to 65535" },
	{ "metrics_listen_v6_bare",
	    "{\"metrics\": {\"listen\": \"::1:9464\"}, "
	    "\"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:24: metrics.listen: write an IPv6 address as \"[ADDRESS]:PORT\"" },
	{ "metrics_listen_v6_bad",
	    "{\"metrics\": {\"listen\": \"[::g]:1\"}, "
	    "\"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:24: metrics.listen: not a numeric IPv6 address" },
	{ "metrics_listen_type",
	    "{\"metrics\": {\"listen\": 9464}, "
	    "\"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:24: metrics.listen: expected a string" },
	{ "metrics_connections_zero",
	    "{\"metrics\": {\"listen\": \":1\", \"max_connections\": 0}, "
	    "\"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:49: metrics.max_connections: expected an integer from 1 to 65536" },
	{ "metrics_timeout_zero",
	    "{\"metrics\": {\"listen\": \":1\", \"timeout_ms\": 0}, "
	    "\"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:44: metrics.timeout_ms: expected an integer from 1 to 3600000" },
	{ "limits_unknown_key",
	    "{\"limits\": {\"max_lines\": 10}, \"supervisor\": "
	    "{\"children\": []}}",
	    "conf/bad.json:1:13: limits.max_lines: unknown key" },
	{ "limits_clients_zero",
	    "{\"limits\": {\"max_clients\": 0}, \"supervisor\": "
	    "{\"children\": []}}",
	    "conf/bad.json:1:28: limits.max_clients: expected an integer from 1 to 65536" },
	{ "limits_pending_zero",
	    "{\"limits\": {\"max_pending\": 0}, \"supervisor\": "
	    "{\"children\": []}}",
	    "conf/bad.json:1:28: limits.max_pending: expected an integer from 1 to 65536" },
	{ "limits_pending_big",
	    "{\"limits\": {\"max_pending\": 65537}, \"supervisor\": "
	    "{\"children\": []}}",
	    "conf/bad.json:1:28: limits.max_pending: expected an integer from 1 to 65536" },
	{ "limits_line_small",
	    "{\"limits\": {\"max_line_bytes\": 10}, \"supervisor\": "
	    "{\"children\": []}}",
	    "conf/bad.json:1:31: limits.max_line_bytes: expected an integer from 64 to 67108864" },
	{ "guard_unknown_key",
	    "{\"guard\": {\"max_restarts\": 10, \"actions\": "
	    "\"rollback\"}, \"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:32: guard.actions: unknown key" },
	{ "guard_action",
	    "{\"guard\": {\"action\": \"panic\"}, \"supervisor\": "
	    "{\"children\": []}}",
	    "conf/bad.json:1:22: guard.action: expected rollback" },
	{ "guard_scope",
	    "{\"guard\": {\"scope\": \"mine\"}, \"supervisor\": "
	    "{\"children\": []}}",
	    "conf/bad.json:1:21: guard.scope: expected one of all, readers" },
	{ "guard_max_restarts",
	    "{\"guard\": {\"max_restarts\": 0}, \"supervisor\": "
	    "{\"children\": []}}",
	    "conf/bad.json:1:28: guard.max_restarts: expected an "
	    "integer >= 1" },
	{ "root_restart",
	    "{\"supervisor\": {\"restart\": \"permanent\", \"children\": "
	    "[]}}",
	    "conf/bad.json:1:17: supervisor.restart: unknown key" },
	{ "worker_unknown_key",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"stop_sig\": \"TERM\"}]}}",
	    "conf/bad.json:1:67: supervisor.children[0].stop_sig: "
	    "unknown key" },
	{ "supervisor_worker_key",
	    "{\"supervisor\": {\"children\": [{\"name\": \"s\", \"ready\": "
	    "\"fd\", \"children\": []}]}}",
	    "conf/bad.json:1:44: supervisor.children[0].ready: unknown key" },
	{ "children_type",
	    "{\"supervisor\": {\"children\": {}}}",
	    "conf/bad.json:1:29: supervisor.children: expected an array" },
	{ "child_type",
	    "{\"supervisor\": {\"children\": [\"w\"]}}",
	    "conf/bad.json:1:30: supervisor.children[0]: expected an object" },
	{ "name_type",
	    "{\"supervisor\": {\"children\": [{\"name\": 5, \"command\": "
	    "[\"/bin/w\"]}]}}",
	    "conf/bad.json:1:39: supervisor.children[0].name: "
	    "expected a string" },
	{ "max_restarts_type",
	    "{\"supervisor\": {\"max_restarts\": \"3\", \"children\": []}}",
	    "conf/bad.json:1:33: supervisor.max_restarts: expected "
	    "an integer" },
	{ "strategy",
	    "{\"supervisor\": {\"strategy\": \"one_for_some\", "
	    "\"children\": []}}",
	    "conf/bad.json:1:29: supervisor.strategy: expected one "
	    "of one_for_one, one_for_all, rest_for_one" },
	{ "restart",
	    "{\n"
	    "  \"supervisor\": {\n"
	    "    \"children\": [\n"
	    "      {\"name\": \"a\", \"command\": [\"/bin/a\"]},\n"
	    "      {\"name\": \"b\", \"command\": [\"/bin/b\"]},\n"
	    "      {\"name\": \"c\", \"command\": [\"/bin/c\"], \"restart\": "
	    "\"always\"}\n"
	    "    ]\n"
	    "  }\n"
	    "}",
	    "conf/bad.json:6:55: supervisor.children[2].restart: "
	    "expected one of permanent, transient, temporary" },
	{ "ready",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"ready\": \"systemd\"}]}}",
	    "conf/bad.json:1:76: supervisor.children[0].ready: "
	    "expected one of none, notify, fd" },
	{ "max_restarts_negative",
	    "{\"supervisor\": {\"max_restarts\": -1, \"children\": []}}",
	    "conf/bad.json:1:33: supervisor.max_restarts: expected "
	    "an integer from 0 to 1000000" },
	{ "max_restarts_huge",
	    "{\"supervisor\": {\"max_restarts\": 2147483647, \"children\": []}}",
	    "conf/bad.json:1:33: supervisor.max_restarts: expected "
	    "an integer from 0 to 1000000" },
	{ "max_seconds_zero",
	    "{\"supervisor\": {\"children\": [{\"name\": \"s\", "
	    "\"max_seconds\": 0, \"children\": []}]}}",
	    "conf/bad.json:1:59: "
	    "supervisor.children[0].max_seconds: expected an integer >= 1" },
	{ "max_seconds_huge",
	    "{\"supervisor\": {\"max_seconds\": 3000000000, "
	    "\"children\": []}}",
	    "conf/bad.json:1:32: supervisor.max_seconds: expected "
	    "an integer from 1 to 2147483647" },
	{ "integer_fraction",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"ready_timeout_ms\": 1.5}]}}",
	    "conf/bad.json:1:87: "
	    "supervisor.children[0].ready_timeout_ms: expected an integer" },
	{ "shutdown_string",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"shutdown_ms\": \"forever\"}]}}",
	    "conf/bad.json:1:82: "
	    "supervisor.children[0].shutdown_ms: expected an "
	    "integer >= 0, \"brutal_kill\" or \"infinity\"" },
	{ "shutdown_negative",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"shutdown_ms\": -5}]}}",
	    "conf/bad.json:1:82: "
	    "supervisor.children[0].shutdown_ms: expected an "
	    "integer >= 0, \"brutal_kill\" or \"infinity\"" },
	{ "signal_name",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"stop_signal\": \"TERMINATE\"}]}}",
	    "conf/bad.json:1:82: "
	    "supervisor.children[0].stop_signal: expected a signal "
	    "name like \"TERM\" or a number" },
	{ "signal_number",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"stop_signal\": 0}]}}",
	    "conf/bad.json:1:82: "
	    "supervisor.children[0].stop_signal: expected a signal "
	    "name like \"TERM\" or a number" },
	{ "duplicate_nested",
	    "{\n"
	    "  \"supervisor\": {\n"
	    "    \"children\": [\n"
	    "      {\"name\": \"a\", \"command\": [\"/bin/a\"]},\n"
	    "      {\"name\": \"t\", \"children\": [\n"
	    "        {\"name\": \"a\", \"command\": [\"/bin/a\"]}\n"
	    "      ]}\n"
	    "    ]\n"
	    "  }\n"
	    "}",
	    "conf/bad.json:6:18: "
	    "supervisor.children[1].children[0].name: duplicate "
	    "service name 'a' (first at 4:16)" },
	{ "duplicate_root",
	    "{\"supervisor\":\n"
	    "  {\"children\": [{\"name\": \"root\", \"command\": "
	    "[\"/bin/r\"]}]}}",
	    "conf/bad.json:2:26: supervisor.children[0].name: "
	    "duplicate service name 'root' (first at 2:3)" },
	{ "both_command_children",
	    "{\"supervisor\": {\"children\": [{\"name\": \"x\", \"command\": "
	    "[\"/bin/x\"], \"children\": []}]}}",
	    "conf/bad.json:1:30: supervisor.children[0]: both "
	    "command and children: a worker has a command, a "
	    "supervisor has children" },
	{ "neither_command_children",
	    "{\"supervisor\": {\"children\": [{\"name\": \"x\", \"restart\": "
	    "\"permanent\"}]}}",
	    "conf/bad.json:1:30: supervisor.children[0]: expected "
	    "command (a worker) or children (a supervisor)" },
	{ "neither_misspelt",
	    "{\"supervisor\": {\"children\": [{\"name\": \"x\", \"comand\": "
	    "[\"/bin/x\"]}]}}",
	    "conf/bad.json:1:44: supervisor.children[0].comand: unknown key" },
	{ "command_empty",
	    "{\"supervisor\": {\"children\": [{\"name\": \"x\", \"command\": "
	    "[]}]}}",
	    "conf/bad.json:1:55: supervisor.children[0].command: "
	    "expected a non-empty array of strings" },
	{ "command_string",
	    "{\"supervisor\": {\"children\": [{\"name\": \"x\", \"command\": "
	    "\"/bin/x\"}]}}",
	    "conf/bad.json:1:55: supervisor.children[0].command: "
	    "expected a non-empty array of strings" },
	{ "command_argument_type",
	    "{\"supervisor\": {\"children\": [{\"name\": \"x\", \"command\": "
	    "[\"/bin/x\", 5]}]}}",
	    "conf/bad.json:1:66: "
	    "supervisor.children[0].command[1]: expected a string" },
	{ "command_argument_empty",
	    "{\"supervisor\": {\"children\": [{\"name\": \"x\", \"command\": "
	    "[\"/bin/x\", \"\"]}]}}",
	    "conf/bad.json:1:66: "
	    "supervisor.children[0].command[1]: must not be empty" },
	{ "name_missing",
	    "{\"supervisor\": {\"children\": [{\"command\": "
	    "[\"/bin/x\"]}]}}",
	    "conf/bad.json:1:30: supervisor.children[0].name: "
	    "required key is missing" },
	{ "name_characters",
	    "{\"supervisor\": {\"children\": [{\"name\": \"my service\", "
	    "\"command\": [\"/bin/x\"]}]}}",
	    "conf/bad.json:1:39: supervisor.children[0].name: "
	    "invalid name: only letters, digits, '_', '.' and '-' "
	    "are allowed" },
	{ "name_too_long",
	    "{\"supervisor\": {\"children\": [{\"name\": "
	    "\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	    "nnnnnnnnnn\", \"command\": [\"/bin/x\"]}]}}",
	    "conf/bad.json:1:39: supervisor.children[0].name: "
	    "invalid name: longer than 63 characters" },
	{ "name_empty",
	    "{\"supervisor\": {\"name\": \"\", \"children\": []}}",
	    "conf/bad.json:1:25: supervisor.name: invalid name: empty" },
	{ "backoff_factor",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"backoff\": {\"factor\": 0.5}}]}}",
	    "conf/bad.json:1:89: "
	    "supervisor.children[0].backoff.factor: expected a number >= 1" },
	{ "backoff_jitter",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"backoff\": {\"jitter\": 1.5}}]}}",
	    "conf/bad.json:1:89: "
	    "supervisor.children[0].backoff.jitter: expected a "
	    "number from 0 to 1" },
	{ "backoff_max_below_initial",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"backoff\": {\"initial_ms\": 500, \"max_ms\": "
	    "100}}]}}",
	    "conf/bad.json:1:108: "
	    "supervisor.children[0].backoff.max_ms: must be >= "
	    "initial_ms (500)" },
	{ "backoff_initial_above_default_max",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"backoff\": {\"initial_ms\": 40000}}]}}",
	    "conf/bad.json:1:93: "
	    "supervisor.children[0].backoff.initial_ms: must be <= "
	    "max_ms (30000)" },
	{ "backoff_unknown_key",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"backoff\": {\"initial\": 5}}]}}",
	    "conf/bad.json:1:79: "
	    "supervisor.children[0].backoff.initial: unknown key" },
	{ "unknown_user",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"user\": \"no-such-user-warden\"}]}}",
	    "conf/bad.json:1:75: supervisor.children[0].user: "
	    "unknown user 'no-such-user-warden'" },
	{ "unknown_group",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"group\": \"no-such-group-warden\"}]}}",
	    "conf/bad.json:1:76: supervisor.children[0].group: "
	    "unknown group 'no-such-group-warden'" },
	{ "env_type",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"env\": [\"A=1\"]}]}}",
	    "conf/bad.json:1:74: supervisor.children[0].env: "
	    "expected an object" },
	{ "env_value",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"env\": {\"A\\u0042\": \"x\", \"DEBUG\": 1}}]}}",
	    "conf/bad.json:1:100: "
	    "supervisor.children[0].env.DEBUG: expected a string" },
	{ "env_key_escaped",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"env\": {\"A\": \"1\", \"B\\u003dX\": "
	    "\"2\"}}]}}",
	    "conf/bad.json:1:85: supervisor.children[0].env.B=X: "
	    "invalid variable name: must be non-empty and without '='" },
	{ "env_key_newline",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"env\": {\"A\\nB\": 1}}]}}",
	    "conf/bad.json:1:83: supervisor.children[0].env.A?B: "
	    "expected a string" },
	{ "cwd_empty",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", \"command\": "
	    "[\"/bin/w\"], \"cwd\": \"\"}]}}",
	    "conf/bad.json:1:74: supervisor.children[0].cwd: must "
	    "not be empty" },
	{ "socket_too_long",
	    "{\"socket\": "
	    "\"/sssssssssssssssssssssssssssssssssssssssssssssssssssss"
	    "sssssssssssssssssssssssssssssssssssssssssssssssssssssss"
	    "\", \"supervisor\": {\"children\": []}}",
	    "conf/bad.json:1:12: socket: path too long for a "
	    "socket (107 bytes at most)" },
};

START_TEST(test_bad)
{
	struct config	*conf = (struct config *)&conf;
	char		 err[1024];

	memset(err, 'x', sizeof(err));
	ck_assert_msg(config_parse(bad[_i].text, strlen(bad[_i].text),
	    "conf/bad.json", &conf, err, sizeof(err)) == -1,
	    "%s: accepted", bad[_i].what);
	ck_assert_ptr_null(conf);
	ck_assert_msg(strcmp(err, bad[_i].err) == 0,
	    "%s:\n  got  \"%s\"\n  want \"%s\"", bad[_i].what, err,
	    bad[_i].err);
}
END_TEST

/* The error never spills past the buffer, and no buffer is fine too. */
START_TEST(test_error_buffer)
{
	static const char	 text[] = "{\"sockets\": 1}";
	struct config		*conf;
	char			 err[12];

	memset(err, 'x', sizeof(err));
	ck_assert_int_eq(config_parse(text, strlen(text), "conf/bad.json",
	    &conf, err, 8), -1);
	ck_assert_str_eq(err, "conf/ba");
	ck_assert_int_eq(err[8], 'x');
	ck_assert_int_eq(config_parse(text, strlen(text), "conf/bad.json",
	    &conf, NULL, 0), -1);
	ck_assert_ptr_null(conf);
}
END_TEST

/* The text need not end in a NUL: only len bytes are read. */
START_TEST(test_not_terminated)
{
	static const char	 text[] =
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", "
	    "\"command\": [\"w\"], \"ready\": 5}]}}GARBAGE";
	struct config		*conf;
	char			*copy, err[256];
	size_t			 len = strlen(text) - strlen("GARBAGE");

	copy = xmalloc(len);
	memcpy(copy, text, len);
	ck_assert_int_eq(config_parse(copy, len, "w.json", &conf, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "w.json:1:71: supervisor.children[0].ready: "
	    "expected one of none, notify, fd");
	free(copy);
}
END_TEST

START_TEST(test_too_many_flags)
{
	struct config	*conf = NULL;
	char		 err[512], *text, *p;
	size_t		 i, len = 0, cap = 300 * 64 + 256;

	text = xmalloc(cap);
	len += (size_t)snprintf(text + len, cap - len, "{\"flags\": {");
	for (i = 0; i < 257; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s\"f%zu\": {}",
		    i > 0 ? ", " : "", i);
	snprintf(text + len, cap - len,
	    "},\n\"supervisor\": {\"children\": []}}");
	ck_assert_int_eq(config_parse(text, strlen(text), "t.json", &conf, err,
	    sizeof(err)), -1);
	p = strstr(err, "flags: 257 flags: at most 256 fit the shared table");
	ck_assert_msg(p != NULL && strncmp(err, "t.json:1:11: ", 13) == 0, "%s", err);
	free(text);
}
END_TEST

static Suite *
config_bad_suite(void)
{
	Suite	*s = suite_create("config_bad");
	TCase	*tc = tcase_create("config_bad");

	tcase_add_loop_test(tc, test_bad, 0, (int)nitems(bad));
	tcase_add_test(tc, test_error_buffer);
	tcase_add_test(tc, test_not_terminated);
	tcase_add_test(tc, test_too_many_flags);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(config_bad_suite)
