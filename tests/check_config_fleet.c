/*
 * check_config_fleet.c: the "fleet" object (src/core/config-fleet.c):
 * its defaults, every bound met and passed by one, and each bad value
 * refused with file, line, column and key path.
 *
 * The object is parsed by config_fleet() itself from a text whose only
 * key is "fleet"; test_top_level shows warden.json's top level taking it
 * and its errors keeping their key path there.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config-int.h"
#include "fleet.h"
#include "jsonerr.h"
#include "suite.h"
#include "util.h"

#define FILE_NAME	"/etc/warden/w.json"

/* config_fleet() of {"fleet": FLEET}: 0, or -1 with the error line. */
static int
fleet_parse(const char *fleet, struct fleet_conf *fc, char *err,
    size_t errlen)
{
	struct parser	 p;
	json_t		*root, *v;
	char		*text;
	int		 rv = -1;

	memset(&p, 0, sizeof(p));
	memset(fc, 0, sizeof(*fc));
	xasprintf(&text, "{\"fleet\": %s}", fleet);
	root = jsonerr_load(&p.je, text, strlen(text), FILE_NAME, err, errlen);
	if (root != NULL) {
		v = jsonerr_get(&p.je, root, "fleet");
		rv = config_fleet(&p, v, fc);
	}
	json_decref(root);
	jsonerr_free(&p.je);
	free(text);
	return rv;
}

static void
fleet_ok(const char *fleet, struct fleet_conf *fc)
{
	char	err[1024] = "";

	ck_assert_msg(fleet_parse(fleet, fc, err, sizeof(err)) == 0,
	    "%s: %s", fleet, err);
}

START_TEST(test_defaults)
{
	struct fleet_conf	fc;

	fleet_ok("{\"etcd\": [\"http://127.0.0.1:2379\"]}", &fc);
	ck_assert(fc.enabled);
	ck_assert_uint_eq(fc.netcd, 1);
	ck_assert_str_eq(fc.etcd[0].host, "127.0.0.1");
	ck_assert_int_eq(fc.etcd[0].port, 2379);
	ck_assert_str_eq(fc.prefix, FLEET_PREFIX_DEFAULT);
	/* No host: the daemon takes gethostname(). */
	ck_assert_ptr_null(fc.host);
	ck_assert_int_eq(fc.lease_s, FLEET_LEASE_DEFAULT);
	ck_assert_int_eq(fc.timeout_ms, FLEET_TIMEOUT_DEFAULT);
	config_fleet_free(&fc);
	ck_assert_ptr_null(fc.etcd);
	ck_assert(!fc.enabled);
}
END_TEST

START_TEST(test_everything)
{
	struct fleet_conf	fc;

	fleet_ok("{\"etcd\": [\"http://10.0.0.1:2379\", \"http://localhost:1\","
	    " \"http://[::1]:65535/\"], \"prefix\": \"/prod/warden-1/\","
	    " \"host\": \"web-1.eu_west\", \"lease_s\": 2, \"timeout_ms\": 60000}",
	    &fc);
	ck_assert_uint_eq(fc.netcd, 3);
	ck_assert_str_eq(fc.etcd[0].host, "10.0.0.1");
	ck_assert_str_eq(fc.etcd[1].host, "127.0.0.1");
	ck_assert_int_eq(fc.etcd[1].port, 1);
	ck_assert_str_eq(fc.etcd[2].host, "::1");
	ck_assert_int_eq(fc.etcd[2].port, 65535);
	ck_assert_str_eq(fc.prefix, "/prod/warden-1/");
	ck_assert_str_eq(fc.host, "web-1.eu_west");
	ck_assert_int_eq(fc.lease_s, 2);
	ck_assert_int_eq(fc.timeout_ms, 60000);
	config_fleet_free(&fc);
	fleet_ok("{\"etcd\": [\"http://127.0.0.1:2379\"], \"lease_s\": 3600, "
	    "\"timeout_ms\": 100}", &fc);
	ck_assert_int_eq(fc.lease_s, 3600);
	ck_assert_int_eq(fc.timeout_ms, 100);
	config_fleet_free(&fc);
}
END_TEST

/* The largest of each: 16 endpoints, a 128-byte prefix, a 64-byte host. */
START_TEST(test_largest)
{
	struct fleet_conf	 fc;
	char			 prefix[FLEET_PREFIX_MAX + 1], host[FLEET_HOST_MAX + 1];
	char			*text, *list = xstrdup(""), *t;
	int			 i;

	for (i = 0; i < FLEET_ENDPOINTS_MAX; i++) {
		xasprintf(&t, "%s%s\"http://127.0.0.%d:2379\"", list,
		    i > 0 ? ", " : "", i + 1);
		free(list);
		list = t;
	}
	memset(prefix, 'p', FLEET_PREFIX_MAX);
	prefix[0] = prefix[FLEET_PREFIX_MAX - 1] = '/';
	prefix[FLEET_PREFIX_MAX] = '\0';
	memset(host, 'h', FLEET_HOST_MAX);
	host[FLEET_HOST_MAX] = '\0';
	xasprintf(&text, "{\"etcd\": [%s], \"prefix\": \"%s\", \"host\": \"%s\"}",
	    list, prefix, host);
	fleet_ok(text, &fc);
	ck_assert_uint_eq(fc.netcd, FLEET_ENDPOINTS_MAX);
	ck_assert_str_eq(fc.etcd[15].host, "127.0.0.16");
	ck_assert_str_eq(fc.prefix, prefix);
	ck_assert_str_eq(fc.host, host);
	config_fleet_free(&fc);
	free(text);
	free(list);
}
END_TEST

#define EP	"\"etcd\": [\"http://127.0.0.1:2379\"]"
#define P129	"/ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp" \
		"pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp/"
#define H65	"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh"
#define E17	"\"http://1.1.1.1:1\", \"http://1.1.1.1:2\", \"http://1.1.1.1:3\", " \
		"\"http://1.1.1.1:4\", \"http://1.1.1.1:5\", \"http://1.1.1.1:6\", " \
		"\"http://1.1.1.1:7\", \"http://1.1.1.1:8\", \"http://1.1.1.1:9\", " \
		"\"http://1.1.1.1:10\", \"http://1.1.1.1:11\", \"http://1.1.1.1:12\", " \
		"\"http://1.1.1.1:13\", \"http://1.1.1.1:14\", \"http://1.1.1.1:15\", " \
		"\"http://1.1.1.1:16\", \"http://1.1.1.1:17\""

/* Each on one line: the error is "FILE:1:COL: PATH: WHAT". */
static const struct {
	const char	*fleet;
	const char	*path;		/* the key path named */
	const char	*what;		/* in the message */
} bad[] = {
	{ "[]", "fleet", "expected an object" },
	{ "{}", "fleet.etcd", "required key is missing" },
	{ "{" EP ", \"endpoints\": 1}", "fleet.endpoints", "unknown key" },
	{ "{\"etcd\": []}", "fleet.etcd", "1 to 16 endpoints" },
	{ "{\"etcd\": \"http://127.0.0.1:2379\"}", "fleet.etcd", "1 to 16" },
	{ "{\"etcd\": [" E17 "]}", "fleet.etcd", "1 to 16" },
	{ "{\"etcd\": [5]}", "fleet.etcd[0]", "expected a string" },
	{ "{\"etcd\": [\"\"]}", "fleet.etcd[0]", "must not be empty" },
	{ "{\"etcd\": [\"https://127.0.0.1:2379\"]}", "fleet.etcd[0]",
	    "only http:// is supported" },
	{ "{\"etcd\": [\"127.0.0.1:2379\"]}", "fleet.etcd[0]", "http://" },
	{ "{\"etcd\": [\"http://127.0.0.1:2379\", \"http://etcd.example:2379\"]}",
	    "fleet.etcd[1]", "names are not looked up" },
	{ "{\"etcd\": [\"http://127.0.0.1:0\"]}", "fleet.etcd[0]", "1 to 65535" },
	{ "{\"etcd\": [\"http://127.0.0.1:65536\"]}", "fleet.etcd[0]",
	    "1 to 65535" },
	{ "{\"etcd\": [\"http://127.0.0.1:-1\"]}", "fleet.etcd[0]", "1 to 65535" },
	{ "{\"etcd\": [\"http://127.0.0.1\"]}", "fleet.etcd[0]", "HOST:PORT" },
	{ "{\"etcd\": [\"http://[::1]\"]}", "fleet.etcd[0]", "HOST:PORT" },
	{ "{\"etcd\": [\"http://::1:2379\"]}", "fleet.etcd[0]", "HOST:PORT" },
	{ "{\"etcd\": [\"http://127.0.0.1:2379/v3\"]}", "fleet.etcd[0]",
	    "without a path" },
	{ "{\"etcd\": [\"http://127.0.0.1:2379?a=1\"]}", "fleet.etcd[0]",
	    "without a query" },
	{ "{\"etcd\": [\"http://127.0.0.1:2379/#x\"]}", "fleet.etcd[0]",
	    "without a query" },
	{ "{\"etcd\": [\"http://me@127.0.0.1:2379\"]}", "fleet.etcd[0]",
	    "a user in the URL" },
	{ "{" EP ", \"prefix\": 5}", "fleet.prefix", "expected a string" },
	{ "{" EP ", \"prefix\": \"warden/\"}", "fleet.prefix", "starts and ends" },
	{ "{" EP ", \"prefix\": \"/warden\"}", "fleet.prefix", "starts and ends" },
	{ "{" EP ", \"prefix\": \"/\"}", "fleet.prefix", "starts and ends" },
	{ "{" EP ", \"prefix\": \"//\"}", "fleet.prefix", "starts and ends" },
	{ "{" EP ", \"prefix\": \"/a//b/\"}", "fleet.prefix", "empty segment" },
	{ "{" EP ", \"prefix\": \"/war den/\"}", "fleet.prefix", "without spaces" },
	{ "{" EP ", \"prefix\": \"/w\\u00e4rden/\"}", "fleet.prefix",
	    "printable ASCII" },
	{ "{" EP ", \"prefix\": \"" P129 "\"}", "fleet.prefix", "at most 128" },
	{ "{" EP ", \"host\": 7}", "fleet.host", "expected a string" },
	{ "{" EP ", \"host\": \"\"}", "fleet.host", "must not be empty" },
	{ "{" EP ", \"host\": \"web 1\"}", "fleet.host", "only letters" },
	{ "{" EP ", \"host\": \"a/b\"}", "fleet.host", "only letters" },
	{ "{" EP ", \"host\": \"" H65 "\"}", "fleet.host", "at most 64" },
	{ "{" EP ", \"lease_s\": 1}", "fleet.lease_s", "from 2 to 3600" },
	{ "{" EP ", \"lease_s\": 3601}", "fleet.lease_s", "from 2 to 3600" },
	{ "{" EP ", \"lease_s\": \"10\"}", "fleet.lease_s", "expected an integer" },
	{ "{" EP ", \"lease_s\": 2.5}", "fleet.lease_s", "expected an integer" },
	{ "{" EP ", \"timeout_ms\": 99}", "fleet.timeout_ms", "100 to 60000" },
	{ "{" EP ", \"timeout_ms\": 60001}", "fleet.timeout_ms", "100 to 60000" },
	{ "{" EP ", \"timeout_ms\": -5}", "fleet.timeout_ms", "100 to 60000" },
};

START_TEST(test_bad)
{
	struct fleet_conf	 fc;
	char			 err[1024] = "", want[256];

	ck_assert_msg(fleet_parse(bad[_i].fleet, &fc, err, sizeof(err)) == -1,
	    "accepted %s", bad[_i].fleet);
	snprintf(want, sizeof(want), "%s: ", bad[_i].path);
	ck_assert_msg(strncmp(err, FILE_NAME ":1:", strlen(FILE_NAME) + 3) == 0,
	    "%s: %s", bad[_i].fleet, err);
	ck_assert_msg(strstr(err, want) != NULL &&
	    strstr(err, bad[_i].what) != NULL, "%s: %s", bad[_i].fleet, err);
	config_fleet_free(&fc);
}
END_TEST

/* The line and column are those of the bad value. */
START_TEST(test_position)
{
	struct fleet_conf	fc;
	char			err[1024] = "";

	ck_assert_int_eq(fleet_parse("{\n  \"etcd\": [\n    \"http://1.2.3.4:1\","
	    "\n    \"http://1.2.3.4\"\n  ]\n}", &fc, err, sizeof(err)), -1);
	ck_assert_str_eq(err, FILE_NAME ":4:5: fleet.etcd[1]: expected "
	    "HOST:PORT (an IPv6 address in brackets)");
	config_fleet_free(&fc);
}
END_TEST

/* warden.json's top level takes it; without it a config's fleet is off. */
START_TEST(test_top_level)
{
	struct config	*conf = NULL;
	const char	 text[] = "{\"fleet\": {" EP ", \"host\": \"web-1\"}, "
			    "\"supervisor\": {\"children\": []}}";
	const char	 none[] = "{\"supervisor\": {\"children\": []}}";
	const char	 badtext[] = "{\"fleet\": {" EP ", \"lease_s\": 1},\n"
			    "\"supervisor\": {\"children\": []}}";
	char		 err[1024] = "";

	ck_assert_msg(config_parse(text, strlen(text), FILE_NAME, &conf, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert(conf->fleet.enabled);
	ck_assert_str_eq(conf->fleet.host, "web-1");
	ck_assert_str_eq(conf->fleet.prefix, "/warden/");
	config_free(conf);
	ck_assert_int_eq(config_parse(none, strlen(none), FILE_NAME, &conf, err,
	    sizeof(err)), 0);
	ck_assert(!conf->fleet.enabled);
	config_free(conf);
	conf = NULL;
	ck_assert_int_eq(config_parse(badtext, strlen(badtext), FILE_NAME, &conf, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "fleet.lease_s: ") != NULL, "%s", err);
	ck_assert_ptr_null(conf);
}
END_TEST

/* The names a daemon checks itself (gethostname()) follow the same rule. */
START_TEST(test_host_names)
{
	ck_assert_ptr_null(fleet_host_problem("a"));
	ck_assert_ptr_null(fleet_host_problem("Web-01.example_com"));
	ck_assert_ptr_nonnull(fleet_host_problem(""));
	ck_assert_ptr_nonnull(fleet_host_problem("web:1"));
	ck_assert_ptr_nonnull(fleet_host_problem("w\xc3\xa4"));
	ck_assert_ptr_nonnull(fleet_host_problem(H65));
	ck_assert_ptr_null(fleet_host_problem(&H65[1]));
	ck_assert_ptr_null(fleet_prefix_problem("/a/"));
	ck_assert_ptr_nonnull(fleet_prefix_problem("/a\t/"));
	ck_assert_ptr_nonnull(fleet_prefix_problem("/a\x7f/"));
}
END_TEST

static Suite *
config_fleet_suite(void)
{
	Suite	*s = suite_create("config_fleet");
	TCase	*tc = tcase_create("config_fleet");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_everything);
	tcase_add_test(tc, test_largest);
	tcase_add_loop_test(tc, test_bad, 0, (int)nitems(bad));
	tcase_add_test(tc, test_position);
	tcase_add_test(tc, test_top_level);
	tcase_add_test(tc, test_host_names);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(config_fleet_suite)
