/*
 * check_config_health.c: a worker's "health" in warden.json: each check
 * kept as written, the defaults and bounds of its timing, a reload that
 * changes only the probe (not in the fingerprint), every bad value
 * refused with its key path, and config_load() checking an exec probe's
 * command as the worker's own.
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

#define H_PRE	"{\"supervisor\": {\"children\": [\n" \
		"{\"name\": \"a\", \"command\": [\"/bin/true\"]},\n" \
		"{\"name\": \"w\", \"command\": [\"/bin/true\"], \"health\": "
#define H_POST	"}]}}"

static struct child_conf *
health_of(struct config **conf, const char *health)
{
	char	*text;

	xasprintf(&text, H_PRE "%s" H_POST, health);
	*conf = configtest_parse("/etc/warden/w.json", text);
	free(text);
	return configtest_service(*conf, "w");
}

START_TEST(test_health_exec)
{
	struct config		*conf;
	struct child_conf	*w = health_of(&conf,
	    "{\"exec\": [\"probes/check\", \"-q\"]}");
	struct health_conf	*hc = w->health;

	ck_assert_ptr_nonnull(hc);
	ck_assert_int_eq(hc->check, HEALTH_EXEC);
	ck_assert_uint_eq(hc->argc, 2);
	/* Made absolute against the config's folder, as a command is. */
	ck_assert_str_eq(hc->argv[0], "/etc/warden/probes/check");
	ck_assert_str_eq(hc->argv[1], "-q");
	ck_assert_ptr_null(hc->argv[2]);
	ck_assert_int_eq(hc->interval_ms, HEALTH_INTERVAL_DEFAULT);
	ck_assert_int_eq(hc->timeout_ms, HEALTH_TIMEOUT_DEFAULT);
	ck_assert_int_eq(hc->failures, HEALTH_FAILURES_DEFAULT);
	ck_assert_int_eq(hc->start_period_ms, 0);
	ck_assert_ptr_null(configtest_service(conf, "a")->health);
	config_free(conf);
}
END_TEST

START_TEST(test_health_tcp_http)
{
	struct config		*conf;
	struct child_conf	*w;

	w = health_of(&conf, "{\"tcp\": \"localhost:8080\", \"interval_ms\": "
	    "100, \"failures\": 1000, \"start_period_ms\": 86400000}");
	ck_assert_int_eq(w->health->check, HEALTH_TCP);
	ck_assert_str_eq(w->health->host, "127.0.0.1");
	ck_assert_int_eq(w->health->port, 8080);
	ck_assert_ptr_null(w->health->path);
	ck_assert_int_eq(w->health->interval_ms, 100);
	/* The default timeout is never over the interval. */
	ck_assert_int_eq(w->health->timeout_ms, 100);
	ck_assert_int_eq(w->health->failures, 1000);
	ck_assert_int_eq(w->health->start_period_ms, 86400000);
	config_free(conf);
	w = health_of(&conf, "{\"http\": \"http://[::1]:80\", \"timeout_ms\": "
	    "10000, \"interval_ms\": 10000}");
	ck_assert_int_eq(w->health->check, HEALTH_HTTP);
	ck_assert_str_eq(w->health->host, "::1");
	ck_assert_int_eq(w->health->port, 80);
	ck_assert_str_eq(w->health->path, "/");
	ck_assert_int_eq(w->health->timeout_ms, 10000);
	config_free(conf);
	w = health_of(&conf, "{\"http\": \"http://10.1.2.3:65535/healthz?"
	    "full=1\"}");
	ck_assert_str_eq(w->health->host, "10.1.2.3");
	ck_assert_int_eq(w->health->port, 65535);
	ck_assert_str_eq(w->health->path, "/healthz?full=1");
	config_free(conf);
}
END_TEST

/* A new or changed probe restarts nothing: it is not in the fingerprint. */
START_TEST(test_health_fingerprint)
{
	struct config	*a, *b, *c;

	a = configtest_parse("w.json", H_PRE "{\"tcp\": \"127.0.0.1:1\"}"
	    H_POST);
	b = configtest_parse("w.json", H_PRE "{\"exec\": [\"/bin/true\"], "
	    "\"interval_ms\": 5000}" H_POST);
	c = configtest_parse("w.json", "{\"supervisor\": {\"children\": [\n"
	    "{\"name\": \"a\", \"command\": [\"/bin/true\"]},\n"
	    "{\"name\": \"w\", \"command\": [\"/bin/true\"]}]}}");
	ck_assert_str_eq(a->root->children[1]->fingerprint,
	    b->root->children[1]->fingerprint);
	ck_assert_str_eq(a->root->children[1]->fingerprint,
	    c->root->children[1]->fingerprint);
	config_free(a);
	config_free(b);
	config_free(c);
}
END_TEST

#define P	"supervisor.children[1].health"
#define DNS	"the host must be a numeric IPv4 address, [IPv6] or " \
		"localhost: names are not looked up, so that no probe waits on DNS"

static const struct {
	const char	*what;
	const char	*health;
	const char	*err;		/* after "b.json:LINE:COL: " */
} bad[] = {
	{ "not an object", "[\"/bin/true\"]", P ": expected an object" },
	{ "unknown key", "{\"tcp\": \"127.0.0.1:1\", \"retries\": 3}",
	    P ".retries: unknown key" },
	{ "no check", "{\"interval_ms\": 1000}",
	    P ": expected exactly one of exec, tcp and http (none given)" },
	{ "two checks", "{\"tcp\": \"127.0.0.1:1\", \"http\": "
	    "\"http://127.0.0.1:1/\"}",
	    P ": expected exactly one of exec, tcp and http (more than one "
	    "given)" },
	{ "exec a string", "{\"exec\": \"/bin/true\"}",
	    P ".exec: expected a non-empty array of strings" },
	{ "exec empty", "{\"exec\": []}",
	    P ".exec: expected a non-empty array of strings" },
	{ "exec not strings", "{\"exec\": [\"/bin/true\", 1]}",
	    P ".exec[1]: expected a string" },
	{ "exec empty string", "{\"exec\": [\"\"]}",
	    P ".exec[0]: must not be empty" },
	{ "tcp a number", "{\"tcp\": 80}", P ".tcp: expected a string" },
	{ "tcp no port", "{\"tcp\": \"127.0.0.1\"}",
	    P ".tcp: expected HOST:PORT (an IPv6 address in brackets)" },
	{ "tcp bare IPv6", "{\"tcp\": \"::1:80\"}",
	    P ".tcp: expected HOST:PORT (an IPv6 address in brackets)" },
	{ "tcp a name", "{\"tcp\": \"db.example.com:5432\"}", P ".tcp: " DNS },
	{ "tcp empty host", "{\"tcp\": \":80\"}", P ".tcp: " DNS },
	{ "tcp bad IPv4", "{\"tcp\": \"1.2.3.256:80\"}", P ".tcp: " DNS },
	{ "tcp port 0", "{\"tcp\": \"127.0.0.1:0\"}",
	    P ".tcp: the port must be a number from 1 to 65535" },
	{ "tcp port over", "{\"tcp\": \"127.0.0.1:65536\"}",
	    P ".tcp: the port must be a number from 1 to 65535" },
	{ "tcp port signed", "{\"tcp\": \"127.0.0.1:+80\"}",
	    P ".tcp: the port must be a number from 1 to 65535" },
	{ "http https", "{\"http\": \"https://127.0.0.1:443/\"}",
	    P ".http: expected http://HOST:PORT/PATH (only http:// is "
	    "supported)" },
	{ "http no port", "{\"http\": \"http://127.0.0.1/x\"}",
	    P ".http: expected HOST:PORT (an IPv6 address in brackets)" },
	{ "http a name", "{\"http\": \"http://localhost.localdomain:80/\"}",
	    P ".http: " DNS },
	{ "http a user", "{\"http\": \"http://u@127.0.0.1:80/\"}",
	    P ".http: a user in the URL is not supported" },
	{ "http a space", "{\"http\": \"http://127.0.0.1:80/a b\"}",
	    P ".http: the path must be printable ASCII without spaces" },
	{ "http CRLF", "{\"http\": \"http://127.0.0.1:80/a\\r\\nX: y\"}",
	    P ".http: the path must be printable ASCII without spaces" },
	{ "interval under", "{\"tcp\": \"127.0.0.1:1\", \"interval_ms\": 99}",
	    P ".interval_ms: expected an integer from 100 to 86400000" },
	{ "interval over", "{\"tcp\": \"127.0.0.1:1\", \"interval_ms\": "
	    "86400001}",
	    P ".interval_ms: expected an integer from 100 to 86400000" },
	{ "interval fraction", "{\"tcp\": \"127.0.0.1:1\", \"interval_ms\": "
	    "1000.5}", P ".interval_ms: expected an integer" },
	{ "timeout zero", "{\"tcp\": \"127.0.0.1:1\", \"timeout_ms\": 0}",
	    P ".timeout_ms: expected an integer >= 1" },
	{ "timeout over interval", "{\"tcp\": \"127.0.0.1:1\", \"interval_ms\":"
	    " 500, \"timeout_ms\": 501}",
	    P ".timeout_ms: must not be over interval_ms (500)" },
	{ "timeout a string", "{\"tcp\": \"127.0.0.1:1\", \"timeout_ms\": "
	    "\"1s\"}", P ".timeout_ms: expected an integer" },
	{ "failures zero", "{\"tcp\": \"127.0.0.1:1\", \"failures\": 0}",
	    P ".failures: expected an integer from 1 to 1000" },
	{ "failures over", "{\"tcp\": \"127.0.0.1:1\", \"failures\": 1001}",
	    P ".failures: expected an integer from 1 to 1000" },
	{ "start period negative", "{\"tcp\": \"127.0.0.1:1\", "
	    "\"start_period_ms\": -1}",
	    P ".start_period_ms: expected an integer from 0 to 86400000" },
};

START_TEST(test_health_bad)
{
	struct config	*conf = (struct config *)&conf;
	char		*text, err[1024];
	size_t		 elen, wlen = strlen(bad[_i].err);

	xasprintf(&text, H_PRE "%s" H_POST, bad[_i].health);
	ck_assert_msg(config_parse(text, strlen(text), "b.json", &conf, err,
	    sizeof(err)) == -1, "%s: accepted", bad[_i].what);
	ck_assert_ptr_null(conf);
	elen = strlen(err);
	ck_assert_msg(strncmp(err, "b.json:3:", 9) == 0 && elen > wlen + 2 &&
	    strcmp(err + elen - wlen, bad[_i].err) == 0 &&
	    strncmp(err + elen - wlen - 2, ": ", 2) == 0,
	    "%s:\n  got  \"%s\"\n  want \"b.json:3:COL: %s\"", bad[_i].what,
	    err, bad[_i].err);
	free(text);
}
END_TEST

/* A supervisor has no probe: its children are probed. */
START_TEST(test_health_supervisor)
{
	static const char text[] = "{\"supervisor\": {\"children\": [\n"
	    "{\"name\": \"s\", \"children\": [], \"health\": {\"tcp\": "
	    "\"127.0.0.1:1\"}}]}}";
	struct config	*conf = NULL;
	char		 err[512];

	ck_assert_int_eq(config_parse(text, strlen(text), "b.json", &conf, err,
	    sizeof(err)), -1);
	ck_assert_str_eq(err, "b.json:2:31: supervisor.children[0].health: "
	    "unknown key");
}
END_TEST

/* config_load() looks at an exec probe's command as at the worker's. */
static const struct {
	const char	*exec;
	const char	*err;		/* after the path; NULL: accepted */
} commands[] = {
	{ "\"/nonexistent/probe\"", ":3:65: supervisor.children[0].health."
	    "exec[0]: /nonexistent/probe: No such file or directory" },
	{ "\"no-such-probe-anywhere\"", ":3:65: supervisor.children[0]."
	    "health.exec[0]: no-such-probe-anywhere: not found in PATH" },
	{ "\"/\"", ":3:65: supervisor.children[0].health.exec[0]: /: is a "
	    "directory" },
	{ "\"true\"", NULL },
	{ "\"/bin/sh\", \"-c\", \"exit 0\"", NULL },
};

START_TEST(test_health_command_check)
{
	char	*text;

	xasprintf(&text, "{\n  \"supervisor\": {\"children\": [\n"
	    "    {\"name\": \"w\", \"command\": [\"/bin/true\"], "
	    "\"health\": {\"exec\": [%s]}}]}}\n", commands[_i].exec);
	configtest_load(text, commands[_i].err);
	free(text);
}
END_TEST

static Suite *
config_health_suite(void)
{
	Suite	*s = suite_create("config_health");
	TCase	*tc = tcase_create("config_health");

	tcase_add_test(tc, test_health_exec);
	tcase_add_test(tc, test_health_tcp_http);
	tcase_add_test(tc, test_health_fingerprint);
	tcase_add_loop_test(tc, test_health_bad, 0, (int)nitems(bad));
	tcase_add_test(tc, test_health_supervisor);
	tcase_add_loop_test(tc, test_health_command_check, 0,
	    (int)nitems(commands));
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(config_health_suite)
