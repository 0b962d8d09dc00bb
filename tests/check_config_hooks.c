/*
 * check_config_hooks.c: "on_failure" in warden.json, on a worker, a
 * supervisor and the guard: what is kept, the defaults, and every bad
 * value refused with file:line:column and the key path; config_load()
 * checks the command as it checks a worker's.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "configtest.h"
#include "util.h"
#include "suite.h"

START_TEST(test_hook_kept)
{
	struct config		*conf;
	struct child_conf	*w, *s;

	conf = configtest_parse("/etc/warden/w.json",
	    "{\"guard\": {\"on_failure\": {\"command\": [\"/bin/g\"]}},\n"
	    " \"supervisor\": {\"on_failure\": {\"command\": [\"r\", \"x\"],"
	    " \"timeout_ms\": 600000}, \"children\": [\n"
	    "  {\"name\": \"s\", \"children\": [\n"
	    "   {\"name\": \"w\", \"command\": [\"/bin/true\"],\n"
	    "    \"on_failure\": {\"command\": [\"hooks/tell\", \"-v\"],"
	    " \"timeout_ms\": 1}},\n"
	    "   {\"name\": \"plain\", \"command\": [\"/bin/true\"]}]}]}}");
	ck_assert_ptr_nonnull(conf->guard.on_failure);
	ck_assert_str_eq(conf->guard.on_failure->argv[0], "/bin/g");
	ck_assert_int_eq(conf->guard.on_failure->timeout_ms,
	    HOOK_TIMEOUT_DEFAULT);
	ck_assert_int_eq(conf->root->on_failure->argc, 2);
	/* A bare name stays bare: looked up in PATH when it runs. */
	ck_assert_str_eq(conf->root->on_failure->argv[0], "r");
	ck_assert_ptr_null(conf->root->on_failure->argv[2]);
	ck_assert_int_eq(conf->root->on_failure->timeout_ms, 600000);
	w = configtest_service(conf, "w");
	ck_assert_str_eq(w->on_failure->argv[0], "/etc/warden/hooks/tell");
	ck_assert_str_eq(w->on_failure->argv[1], "-v");
	ck_assert_int_eq(w->on_failure->timeout_ms, 1);
	s = configtest_service(conf, "s");
	ck_assert_ptr_null(s->on_failure);
	ck_assert_ptr_null(configtest_service(conf, "plain")->on_failure);
	config_free(conf);
}
END_TEST

/* A new hook restarts nothing: it is not part of the fingerprint. */
START_TEST(test_hook_fingerprint)
{
	struct config	*a, *b;

	a = configtest_parse("w.json", "{\"supervisor\": {\"children\": ["
	    "{\"name\": \"w\", \"command\": [\"/bin/true\"]}]}}");
	b = configtest_parse("w.json", "{\"supervisor\": {\"children\": ["
	    "{\"name\": \"w\", \"command\": [\"/bin/true\"], \"on_failure\": "
	    "{\"command\": [\"/bin/echo\"]}}]}}");
	ck_assert_str_eq(a->root->children[0]->fingerprint,
	    b->root->children[0]->fingerprint);
	config_free(a);
	config_free(b);
}
END_TEST

#define W_PRE	"{\"supervisor\": {\"children\": [\n{\"name\": \"w\", " \
		"\"command\": [\"/bin/true\"], \"on_failure\": "
#define W_POST	"}]}}"

static const struct {
	const char	*what;
	const char	*text;
	const char	*err;
} bad[] = {
	{ "not an object", W_PRE "[\"/bin/x\"]" W_POST,
	    "b.json:2:55: supervisor.children[0].on_failure: expected an "
	    "object" },
	{ "unknown key", W_PRE "{\"command\": [\"/x\"], \"timeout\": 5}" W_POST,
	    "b.json:2:75: supervisor.children[0].on_failure.timeout: unknown "
	    "key" },
	{ "no command", W_PRE "{\"timeout_ms\": 5}" W_POST,
	    "b.json:2:55: supervisor.children[0].on_failure.command: required "
	    "key is missing" },
	{ "command a string", W_PRE "{\"command\": \"/bin/x\"}" W_POST,
	    "b.json:2:67: supervisor.children[0].on_failure.command: expected "
	    "a non-empty array of strings" },
	{ "command empty", W_PRE "{\"command\": []}" W_POST,
	    "b.json:2:67: supervisor.children[0].on_failure.command: expected "
	    "a non-empty array of strings" },
	{ "command not strings", W_PRE "{\"command\": [\"/x\", 1]}" W_POST,
	    "b.json:2:74: supervisor.children[0].on_failure.command[1]: "
	    "expected a string" },
	{ "timeout zero", W_PRE "{\"command\": [\"/x\"], \"timeout_ms\": 0}"
	    W_POST, "b.json:2:89: supervisor.children[0].on_failure."
	    "timeout_ms: expected an integer from 1 to 600000" },
	{ "timeout over", W_PRE "{\"command\": [\"/x\"], \"timeout_ms\": "
	    "600001}" W_POST, "b.json:2:89: supervisor.children[0]."
	    "on_failure.timeout_ms: expected an integer from 1 to 600000" },
	{ "timeout a string", W_PRE "{\"command\": [\"/x\"], \"timeout_ms\": "
	    "\"5s\"}" W_POST, "b.json:2:89: supervisor.children[0]."
	    "on_failure.timeout_ms: expected an integer" },
	{ "timeout fraction", W_PRE "{\"command\": [\"/x\"], \"timeout_ms\": "
	    "1.5}" W_POST, "b.json:2:89: supervisor.children[0]."
	    "on_failure.timeout_ms: expected an integer" },
	{ "supervisor's", "{\"supervisor\": {\"on_failure\": {\"command\": "
	    "[]}, \"children\": []}}", "b.json:1:43: supervisor.on_failure."
	    "command: expected a non-empty array of strings" },
	{ "nested supervisor's", "{\"supervisor\": {\"children\": [{\"name\":"
	    " \"s\", \"children\": [], \"on_failure\": 1}]}}",
	    "b.json:1:74: supervisor.children[0].on_failure: expected an "
	    "object" },
	{ "guard's", "{\"guard\": {\"on_failure\": {\"comand\": [\"/x\"]}}, "
	    "\"supervisor\": {\"children\": []}}",
	    "b.json:1:27: guard.on_failure.comand: unknown key" },
};

START_TEST(test_hook_bad)
{
	struct config	*conf = (struct config *)&conf;
	char		 err[512];

	ck_assert_msg(config_parse(bad[_i].text, strlen(bad[_i].text),
	    "b.json", &conf, err, sizeof(err)) == -1, "%s: accepted",
	    bad[_i].what);
	ck_assert_ptr_null(conf);
	ck_assert_msg(strcmp(err, bad[_i].err) == 0,
	    "%s:\n  got  \"%s\"\n  want \"%s\"", bad[_i].what, err,
	    bad[_i].err);
}
END_TEST

/* config_load() looks at the hook's command as at a worker's. */
static const struct {
	const char	*hook;
	const char	*err;		/* after the path; NULL: accepted */
} commands[] = {
	{ "\"/nonexistent/hook\"", ":3:72: supervisor.children[0].on_failure."
	    "command[0]: /nonexistent/hook: No such file or directory" },
	{ "\"no-such-hook-anywhere\"", ":3:72: supervisor.children[0]."
	    "on_failure.command[0]: no-such-hook-anywhere: not found in PATH" },
	{ "\"/dev/null\"", ":3:72: supervisor.children[0].on_failure."
	    "command[0]: /dev/null: not a regular file" },
	{ "\"/\"", ":3:72: supervisor.children[0].on_failure.command[0]: /: "
	    "is a directory" },
	{ "\"sh\"", NULL },
	{ "\"/bin/sh\"", NULL },
};

START_TEST(test_hook_command_check)
{
	char	*text;

	xasprintf(&text, "{\n  \"supervisor\": {\"children\": [\n"
	    "    {\"name\": \"w\", \"command\": [\"/bin/true\"], "
	    "\"on_failure\": {\"command\": [%s]}}]}}\n", commands[_i].hook);
	configtest_load(text, commands[_i].err);
	free(text);
}
END_TEST

static Suite *
config_hooks_suite(void)
{
	Suite	*s = suite_create("config_hooks");
	TCase	*tc = tcase_create("config_hooks");

	tcase_add_test(tc, test_hook_kept);
	tcase_add_test(tc, test_hook_fingerprint);
	tcase_add_loop_test(tc, test_hook_bad, 0, (int)nitems(bad));
	tcase_add_loop_test(tc, test_hook_command_check, 0,
	    (int)nitems(commands));
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(config_hooks_suite)
