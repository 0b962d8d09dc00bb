/*
 * check_config_log.c: a service's "log" object (src/core/config-log.c):
 * defaults, values taken, and each bad value refused with where and what.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "suite.h"

/* A tree of one worker whose "log" is text. */
static char *
cl_conf(const char *log)
{
	char	*s;

	if (asprintf(&s, "{\"supervisor\": {\"children\": [{\"name\": \"w\", "
	    "\"command\": [\"/bin/sh\"]%s%s}]}}", log != NULL ? ", \"log\": " : "",
	    log != NULL ? log : "") == -1)
		ck_abort_msg("asprintf");
	return s;
}

static struct config *
cl_parse(const char *log, char *err, size_t errlen)
{
	struct config	*conf;
	char		*text = cl_conf(log);
	int		 rc;

	rc = config_parse(text, strlen(text), "/etc/warden/w.json", &conf, err,
	    errlen);
	free(text);
	return rc == 0 ? conf : NULL;
}

START_TEST(test_defaults)
{
	struct config	*c;
	char		 err[512];

	c = cl_parse(NULL, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_eq(c->root->children[0]->log.lines, LOG_LINES_DEFAULT);
	ck_assert_int_eq(c->root->children[0]->log.memory_bytes, LOG_MEMORY_DEFAULT);
	ck_assert_ptr_null(c->root->children[0]->log.file);
	config_free(c);
}
END_TEST

START_TEST(test_values)
{
	struct config		*c;
	const struct log_conf	*l;
	char			 err[512];

	c = cl_parse("{\"lines\": 0, \"memory_bytes\": 1024, \"file\": "
	    "\"logs/w.log\", \"max_bytes\": 4096, \"keep\": 0}", err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	l = &c->root->children[0]->log;
	ck_assert_int_eq(l->lines, 0);
	ck_assert_int_eq(l->memory_bytes, 1024);
	/* Relative to the file's folder. */
	ck_assert_str_eq(l->file, "/etc/warden/logs/w.log");
	ck_assert_int_eq(l->max_bytes, 4096);
	ck_assert_int_eq(l->keep, 0);
	config_free(c);
}
END_TEST

static const struct {
	const char	*log;
	const char	*err;
} bad[] = {
	{ "[]", "expected an object" },
	{ "{\"line\": 3}", "supervisor.children[0].log.line: unknown key" },
	{ "{\"lines\": -1}", "supervisor.children[0].log.lines: expected an "
	    "integer from 0 to 1000000" },
	{ "{\"lines\": \"10\"}", "supervisor.children[0].log.lines: expected "
	    "an integer" },
	{ "{\"memory_bytes\": 67108865}", "supervisor.children[0].log."
	    "memory_bytes: expected an integer from 0 to 67108864" },
	{ "{\"file\": 5}", "supervisor.children[0].log.file: expected a "
	    "string" },
	{ "{\"max_bytes\": 100000}", "supervisor.children[0].log.max_bytes: "
	    "has no effect without \"file\"" },
	{ "{\"keep\": 2}", "supervisor.children[0].log.keep: has no effect "
	    "without \"file\"" },
	{ "{\"file\": \"w.log\", \"max_bytes\": 4095}", "supervisor.children[0]."
	    "log.max_bytes: expected an integer >= 4096" },
	{ "{\"file\": \"w.log\", \"keep\": 1001}", "supervisor.children[0].log."
	    "keep: expected an integer from 0 to 1000" },
};

START_TEST(test_bad)
{
	char	err[512];

	ck_assert_msg(cl_parse(bad[_i].log, err, sizeof(err)) == NULL,
	    "%s: accepted", bad[_i].log);
	ck_assert_msg(strstr(err, bad[_i].err) != NULL &&
	    strncmp(err, "/etc/warden/w.json:1:", 21) == 0,
	    "%s:\n  got  \"%s\"\n  want \"%s\"", bad[_i].log, err, bad[_i].err);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("config_log");
	TCase	*tc = tcase_create("log");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_values);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(make_suite)
