/*
 * check_config.c: what config_parse() makes of a good warden.json
 * (src/core/config*.c): every key, the defaults, numbers, paths, the
 * regime left implicit, the walk and the names; and the demo as its
 * drills run it. Fingerprints are check_config_fp's, refusals
 * check_config_bad's, files on disk check_config_load's.
 */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "util.h"
#include "configtest.h"
#include "testlib.h"
#include "suite.h"

static const char full_config[] =
	"{\n"
	"  \"socket\": \"/run/w/ctl.sock\",\n"
	"  \"socket_mode\": \"0600\",\n"
	"  \"state_dir\": \"/var/lib/w\",\n"
	"  \"table\": \"/w-test\",\n"
	"  \"access\": {\n"
	"    \"operate\": { \"uids\": [1000, 1001],\n"
	"                 \"groups\": [\"staff\"] },\n"
	"    \"admin\": { \"uids\": [0], \"groups\": [] }\n"
	"  },\n"
	"  \"flags\": {\n"
	"    \"zeta\": { \"default\": true, \"description\": \"last\" },\n"
	"    \"alpha\": { \"default\": false },\n"
	"    \"rollout.x-1\": { \"default\": 30 },\n"
	"    \"plain\": {}\n"
	"  },\n"
	"  \"stages\": [\n"
	"    { \"stage\": 1, \"enable\": [\"alpha\", \"zeta\"] },\n"
	"    { \"stage\": 2, \"enable\": [] },\n"
	"    { \"stage\": 3, \"enable\": [\"rollout.x-1\"] }\n"
	"  ],\n"
	"  \"guard\": {\n"
	"    \"max_restarts\": 4, \"window_s\": 30, \"action\": \"rollback\",\n"
	"    \"scope\": \"readers\"\n"
	"  },\n"
	"  \"limits\": { \"max_pending\": 8, \"idle_ms\": 2500 },\n"
	"  \"supervisor\": {\n"
	"    \"name\": \"main\", \"strategy\": \"one_for_all\",\n"
	"    \"max_restarts\": 7, \"max_seconds\": 9,\n"
	"    \"children\": [\n"
	"      { \"name\": \"full\",\n"
	"        \"command\": [\"/usr/bin/full\", \"-v\", \"a b\"],\n"
	"        \"restart\": \"transient\",\n"
	"        \"shutdown_ms\": \"brutal_kill\",\n"
	"        \"stop_signal\": \"SIGUSR1\",\n"
	"        \"ready\": \"fd\", \"ready_timeout_ms\": 250,\n"
	"        \"backoff\": { \"initial_ms\": 10, \"max_ms\": 900,\n"
	"                     \"factor\": 1.5, \"jitter\": 0,\n"
	"                     \"reset_after_ms\": 0 },\n"
	"        \"env\": { \"B\": \"2\", \"A\": \"x=y\", \"EMPTY\": \"\" },\n"
	"        \"cwd\": \"/srv\",\n"
	"        \"user\": \"nobody\", \"group\": \"nogroup\" },\n"
	"      { \"name\": \"inner\", \"strategy\": \"rest_for_one\",\n"
	"        \"restart\": \"temporary\",\n"
	"        \"max_restarts\": 0, \"max_seconds\": 1,\n"
	"        \"children\": [\n"
	"          { \"name\": \"forever\",\n"
	"            \"command\": [\"sleep\", \"1000\"],\n"
	"            \"shutdown_ms\": \"infinity\", \"stop_signal\": 9,\n"
	"            \"ready\": \"notify\", \"user\": \"nobody\" },\n"
	"          { \"name\": \"zero\", \"command\": [\"true\"],\n"
	"            \"shutdown_ms\": 0, \"stop_signal\": \"hup\" },\n"
	"          { \"name\": \"empty\", \"children\": [] }\n"
	"        ] }\n"
	"    ]\n"
	"  }\n"
	"}\n";

/*
 * A supervisor as want says: its name, strategy, restart, intensity and
 * number of children (want's other fields are not looked at).
 */
static void
config_check_sup(const struct child_conf *c, struct child_conf want)
{
	ck_assert_str_eq(c->name, want.name);
	ck_assert(c->is_sup);
	ck_assert_int_eq(c->strategy, want.strategy);
	ck_assert_int_eq(c->restart, want.restart);
	ck_assert_int_eq(c->max_restarts, want.max_restarts);
	ck_assert_int_eq(c->max_seconds, want.max_seconds);
	ck_assert_uint_eq(c->nchildren, want.nchildren);
}

static void
config_check_backoff(const struct backoff_conf *b, struct backoff_conf want)
{
	ck_assert_uint_eq(b->initial_ms, want.initial_ms);
	ck_assert_uint_eq(b->max_ms, want.max_ms);
	ck_assert_double_eq(b->factor, want.factor);
	ck_assert_double_eq(b->jitter, want.jitter);
	ck_assert_uint_eq(b->reset_after_ms, want.reset_after_ms);
}

static void
config_check_guard(const struct guard_conf *g, struct guard_conf want)
{
	ck_assert(g->enabled == want.enabled);
	ck_assert_int_eq(g->max_restarts, want.max_restarts);
	ck_assert_int_eq(g->window_s, want.window_s);
	ck_assert_int_eq(g->scope, want.scope);
}

/* The current folder's path joined with rel, malloc'd. */
static char *
config_in_cwd(const char *rel)
{
	char	 cwd[PATH_MAX], *path;

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	xasprintf(&path, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, rel);
	return path;
}

START_TEST(test_full)
{
	struct config		*conf;
	struct child_conf	*full, *inner, *forever, *zero, *empty;
	struct passwd		*pw;
	struct group		*gr;
	uid_t			 nobody_uid;
	gid_t			 nobody_gid, nogroup_gid;

	ck_assert_ptr_nonnull(pw = getpwnam("nobody"));
	nobody_uid = pw->pw_uid;
	nobody_gid = pw->pw_gid;
	ck_assert_ptr_nonnull(gr = getgrnam("nogroup"));
	nogroup_gid = gr->gr_gid;
	conf = configtest_parse("/etc/w/warden.json", full_config);

	ck_assert_str_eq(conf->path, "/etc/w/warden.json");
	ck_assert_str_eq(conf->dir, "/etc/w");
	ck_assert_str_eq(conf->socket, "/run/w/ctl.sock");
	ck_assert_uint_eq(conf->socket_mode, 0600);
	ck_assert_str_eq(conf->state_dir, "/var/lib/w");
	ck_assert_str_eq(conf->table, "/w-test");

	ck_assert_uint_eq(conf->operate.nuids, 2);
	ck_assert_uint_eq(conf->operate.uids[0], 1000);
	ck_assert_uint_eq(conf->operate.uids[1], 1001);
	ck_assert_uint_eq(conf->operate.ngroups, 1);
	ck_assert_str_eq(conf->operate.groups[0], "staff");
	ck_assert_uint_eq(conf->admin.nuids, 1);
	ck_assert_uint_eq(conf->admin.uids[0], 0);
	ck_assert_uint_eq(conf->admin.ngroups, 0);

	/* Flags keep the file's order. */
	ck_assert_uint_eq(conf->nflags, 4);
	ck_assert_str_eq(conf->flags[0].name, "zeta");
	ck_assert_int_eq(conf->flags[0].dflt, 100);
	ck_assert(conf->flags[0].dflt_is_bool);
	ck_assert_str_eq(conf->flags[0].description, "last");
	ck_assert_str_eq(conf->flags[1].name, "alpha");
	ck_assert_int_eq(conf->flags[1].dflt, 0);
	ck_assert(conf->flags[1].dflt_is_bool);
	ck_assert_str_eq(conf->flags[1].description, "");
	ck_assert_str_eq(conf->flags[2].name, "rollout.x-1");
	ck_assert_int_eq(conf->flags[2].dflt, 30);
	ck_assert(!conf->flags[2].dflt_is_bool);
	ck_assert_str_eq(conf->flags[3].name, "plain");
	ck_assert_int_eq(conf->flags[3].dflt, 0);
	ck_assert(conf->flags[3].dflt_is_bool);

	ck_assert_uint_eq(conf->nstages, 3);
	ck_assert_int_eq(conf->stages[0].stage, 1);
	ck_assert_uint_eq(conf->stages[0].nenable, 2);
	ck_assert_str_eq(conf->stages[0].enable[0], "alpha");
	ck_assert_str_eq(conf->stages[0].enable[1], "zeta");
	ck_assert_int_eq(conf->stages[1].stage, 2);
	ck_assert_uint_eq(conf->stages[1].nenable, 0);
	ck_assert_int_eq(conf->stages[2].stage, 3);
	ck_assert_uint_eq(conf->stages[2].nenable, 1);
	ck_assert_str_eq(conf->stages[2].enable[0], "rollout.x-1");

	config_check_guard(&conf->guard, (struct guard_conf){ .enabled = true,
	    .max_restarts = 4, .window_s = 30, .scope = GUARD_SCOPE_READERS });
	ck_assert_int_eq(conf->limits.max_pending, 8);
	ck_assert_int_eq(conf->limits.idle_ms, 2500);
	ck_assert_int_eq(conf->limits.max_batch, 1024);

	config_check_sup(conf->root, (struct child_conf){ .name = "main",
	    .strategy = STRATEGY_ONE_FOR_ALL, .restart = RESTART_PERMANENT,
	    .max_restarts = 7, .max_seconds = 9, .nchildren = 2 });

	full = conf->root->children[0];
	ck_assert_str_eq(full->name, "full");
	ck_assert(!full->is_sup);
	ck_assert_uint_eq(full->argc, 3);
	ck_assert_str_eq(full->argv[0], "/usr/bin/full");
	ck_assert_str_eq(full->argv[1], "-v");
	ck_assert_str_eq(full->argv[2], "a b");
	ck_assert_ptr_null(full->argv[3]);
	ck_assert_int_eq(full->restart, RESTART_TRANSIENT);
	ck_assert_int_eq(full->shutdown_ms, SHUTDOWN_BRUTAL_KILL);
	ck_assert_int_eq(full->stop_signal, SIGUSR1);
	ck_assert_int_eq(full->ready, READY_FD);
	ck_assert_int_eq(full->ready_timeout_ms, 250);
	config_check_backoff(&full->backoff, (struct backoff_conf){
	    .initial_ms = 10, .max_ms = 900, .factor = 1.5, .jitter = 0.0,
	    .reset_after_ms = 0 });
	ck_assert_uint_eq(full->nenv, 3);
	ck_assert_str_eq(full->env[0].key, "B");
	ck_assert_str_eq(full->env[0].value, "2");
	ck_assert_str_eq(full->env[1].key, "A");
	ck_assert_str_eq(full->env[1].value, "x=y");
	ck_assert_str_eq(full->env[2].key, "EMPTY");
	ck_assert_str_eq(full->env[2].value, "");
	ck_assert_str_eq(full->cwd, "/srv");
	ck_assert_str_eq(full->user, "nobody");
	ck_assert_str_eq(full->group, "nogroup");
	ck_assert(full->has_uid && full->has_gid);
	ck_assert_uint_eq(full->uid, nobody_uid);
	ck_assert_uint_eq(full->gid, nogroup_gid);
	ck_assert_ptr_nonnull(full->fingerprint);

	inner = conf->root->children[1];
	config_check_sup(inner, (struct child_conf){ .name = "inner",
	    .strategy = STRATEGY_REST_FOR_ONE, .restart = RESTART_TEMPORARY,
	    .max_restarts = 0, .max_seconds = 1, .nchildren = 3 });

	forever = inner->children[0];
	ck_assert_str_eq(forever->name, "forever");
	/* Without a '/', the command is looked up in PATH at spawn. */
	ck_assert_str_eq(forever->argv[0], "sleep");
	ck_assert_int_eq(forever->shutdown_ms, SHUTDOWN_INFINITY);
	ck_assert_int_eq(forever->stop_signal, SIGKILL);
	ck_assert_int_eq(forever->ready, READY_NOTIFY);
	ck_assert_int_eq(forever->restart, RESTART_PERMANENT);
	/* A user alone brings its primary group. */
	ck_assert_str_eq(forever->user, "nobody");
	ck_assert_ptr_null(forever->group);
	ck_assert(forever->has_uid && forever->has_gid);
	ck_assert_uint_eq(forever->uid, nobody_uid);
	ck_assert_uint_eq(forever->gid, nobody_gid);

	zero = inner->children[1];
	ck_assert_int_eq(zero->shutdown_ms, 0);
	ck_assert_int_eq(zero->stop_signal, SIGHUP);
	ck_assert(!zero->has_uid && !zero->has_gid);
	ck_assert_ptr_null(zero->user);

	empty = inner->children[2];
	ck_assert(empty->is_sup);
	ck_assert_uint_eq(empty->nchildren, 0);
	ck_assert_int_eq(empty->strategy, STRATEGY_ONE_FOR_ONE);
	config_free(conf);
}
END_TEST

START_TEST(test_defaults)
{
	struct config		*conf;
	struct child_conf	*w;
	char			*dir;

	conf = configtest_parse("sub/w.json",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", "
	    "\"command\": [\"/bin/w\"]}]}}");
	dir = config_in_cwd("sub");
	ck_assert_str_eq(conf->dir, dir);
	ck_assert_str_eq(conf->socket, "/run/warden/warden.sock");
	ck_assert_uint_eq(conf->socket_mode, 0660);
	ck_assert_str_eq(conf->state_dir, "/var/lib/warden");
	ck_assert_str_eq(conf->table, "/warden");
	ck_assert_uint_eq(conf->operate.nuids + conf->operate.ngroups, 0);
	ck_assert_uint_eq(conf->admin.nuids + conf->admin.ngroups, 0);
	ck_assert_uint_eq(conf->nflags, 0);
	ck_assert_uint_eq(conf->nstages, 0);
	config_check_guard(&conf->guard, (struct guard_conf){ .enabled = false,
	    .max_restarts = 10, .window_s = 60 });
	ck_assert_int_eq(conf->limits.max_pending, 64);
	ck_assert_int_eq(conf->limits.idle_ms, 10000);

	config_check_sup(conf->root, (struct child_conf){ .name = "root",
	    .strategy = STRATEGY_ONE_FOR_ONE, .restart = RESTART_PERMANENT,
	    .max_restarts = 3, .max_seconds = 5, .nchildren = 1 });

	w = conf->root->children[0];
	ck_assert(!w->is_sup);
	ck_assert_int_eq(w->restart, RESTART_PERMANENT);
	ck_assert_int_eq(w->shutdown_ms, 5000);
	ck_assert_int_eq(w->stop_signal, SIGTERM);
	ck_assert_int_eq(w->ready, READY_NONE);
	ck_assert_int_eq(w->ready_timeout_ms, 5000);
	config_check_backoff(&w->backoff, (struct backoff_conf){
	    .initial_ms = 0, .max_ms = 30000, .factor = 2.0, .jitter = 0.2,
	    .reset_after_ms = 10000 });
	ck_assert_uint_eq(w->nenv, 0);
	ck_assert_str_eq(w->cwd, dir);
	ck_assert_ptr_null(w->user);
	ck_assert_ptr_null(w->group);
	ck_assert(!w->has_uid && !w->has_gid);
	free(dir);
	config_free(conf);
}
END_TEST

/* Integers written as whole reals, flag percentages at the bounds. */
START_TEST(test_number_forms)
{
	struct config	*conf;

	conf = configtest_parse("w.json",
	    "{\"flags\": {\"a\": {\"default\": 0}, \"b\": {\"default\": 100},"
	    " \"c\": {\"default\": 5.0}},"
	    " \"supervisor\": {\"max_restarts\": 1e1, \"max_seconds\": 2.0,"
	    " \"children\": [{\"name\": \"w\", \"command\": [\"w\"],"
	    " \"stop_signal\": \"15\", \"backoff\": {\"factor\": 1,"
	    " \"jitter\": 1, \"max_ms\": 0}}]}}");
	ck_assert_int_eq(conf->flags[0].dflt, 0);
	ck_assert(!conf->flags[0].dflt_is_bool);
	ck_assert_int_eq(conf->flags[1].dflt, 100);
	ck_assert(!conf->flags[1].dflt_is_bool);
	ck_assert_int_eq(conf->flags[2].dflt, 5);
	ck_assert_int_eq(conf->root->max_restarts, 10);
	ck_assert_int_eq(conf->root->max_seconds, 2);
	ck_assert_int_eq(conf->root->children[0]->stop_signal, SIGTERM);
	ck_assert_double_eq(conf->root->children[0]->backoff.factor, 1.0);
	ck_assert_double_eq(conf->root->children[0]->backoff.jitter, 1.0);
	ck_assert_uint_eq(conf->root->children[0]->backoff.max_ms, 0);
	config_free(conf);
}
END_TEST

START_TEST(test_relative_paths)
{
	struct config		*conf;
	struct child_conf	*c;
	char			*want;

	conf = configtest_parse("/srv/app/conf/w.json",
	    "{\"socket\": \"../run/w.sock\", \"state_dir\": \"./state/\","
	    " \"supervisor\": {\"children\": ["
	    " {\"name\": \"a\", \"command\": [\"bin/a\", \"rel/arg\"],"
	    "  \"cwd\": \"work\"},"
	    " {\"name\": \"b\", \"command\": [\"./b\"], \"cwd\": \"../../..\"},"
	    " {\"name\": \"c\", \"command\": [\"/opt//c/../c\"],"
	    "  \"cwd\": \"/abs/./x/\"},"
	    " {\"name\": \"d\", \"command\": [\"d\"]}]}}");
	ck_assert_str_eq(conf->path, "/srv/app/conf/w.json");
	ck_assert_str_eq(conf->dir, "/srv/app/conf");
	ck_assert_str_eq(conf->socket, "/srv/app/run/w.sock");
	ck_assert_str_eq(conf->state_dir, "/srv/app/conf/state");
	c = configtest_service(conf, "a");
	ck_assert_str_eq(c->argv[0], "/srv/app/conf/bin/a");
	/* Only the program is a path; arguments are the program's business. */
	ck_assert_str_eq(c->argv[1], "rel/arg");
	ck_assert_str_eq(c->cwd, "/srv/app/conf/work");
	c = configtest_service(conf, "b");
	ck_assert_str_eq(c->argv[0], "/srv/app/conf/b");
	ck_assert_str_eq(c->cwd, "/");
	c = configtest_service(conf, "c");
	ck_assert_str_eq(c->argv[0], "/opt/c");
	ck_assert_str_eq(c->cwd, "/abs/x");
	c = configtest_service(conf, "d");
	ck_assert_str_eq(c->argv[0], "d");
	ck_assert_str_eq(c->cwd, "/srv/app/conf");
	config_free(conf);

	/* A relative file name is taken from the current folder. */
	conf = configtest_parse("./etc/../conf/w.json",
	    "{\"socket\": \"s.sock\", \"supervisor\": {\"children\": []}}");
	want = config_in_cwd("conf/w.json");
	ck_assert_str_eq(conf->path, want);
	free(want);
	want = config_in_cwd("conf/s.sock");
	ck_assert_str_eq(conf->socket, want);
	free(want);
	config_free(conf);
}
END_TEST

/* What was left out decides the regime (restart.h): kept as given or not. */
START_TEST(test_implicit)
{
	struct config	*conf;

	conf = configtest_parse("/etc/w/w.json",
	    "{\"supervisor\": {\"children\": ["
	    " {\"name\": \"a\", \"command\": [\"a\"]},"
	    " {\"name\": \"b\", \"command\": [\"b\"], \"backoff\": {}},"
	    " {\"name\": \"s\", \"max_seconds\": 5, \"children\": ["
	    "   {\"name\": \"c\", \"command\": [\"c\"]}]},"
	    " {\"name\": \"t\", \"max_restarts\": 3, \"children\": []}]}}");
	ck_assert(conf->root->implicit_intensity);
	ck_assert(configtest_service(conf, "a")->implicit_backoff);
	ck_assert(!configtest_service(conf, "b")->implicit_backoff);
	ck_assert(!configtest_service(conf, "s")->implicit_intensity);
	ck_assert(!configtest_service(conf, "t")->implicit_intensity);
	ck_assert(configtest_service(conf, "c")->implicit_backoff);
	/* The values are the documented defaults either way. */
	ck_assert_int_eq(conf->root->max_restarts, 3);
	ck_assert_int_eq(conf->root->max_seconds, 5);
	ck_assert_uint_eq(configtest_service(conf, "a")->backoff.initial_ms, 0);
	config_free(conf);
}
END_TEST

struct walk {
	char	seen[256];
	int	stop_at;
	int	calls;
};

static int
walk_fn(struct child_conf *c, int depth, void *arg)
{
	struct walk	*w = arg;
	size_t		 len = strlen(w->seen);

	snprintf(w->seen + len, sizeof(w->seen) - len, "%s%s:%d",
	    len > 0 ? " " : "", c->name, depth);
	return ++w->calls == w->stop_at ? 42 : 0;
}

/* "metrics": each form of listen, the defaults of its bounds. */
static const struct {
	const char	*listen;
	const char	*host;
	int		 port;
} metrics_forms[] = {
	{ "127.0.0.1:9464", "127.0.0.1", 9464 },
	{ "0.0.0.0:80", "0.0.0.0", 80 },
	{ ":9464", "127.0.0.1", 9464 },
	{ "9100", "127.0.0.1", 9100 },
	{ "[::1]:9464", "::1", 9464 },
	{ "[::]:0", "::", 0 },
};

START_TEST(test_metrics)
{
	struct config	*conf;
	char		*text;

	xasprintf(&text, "{\"metrics\": {\"listen\": \"%s\"}, "
	    "\"supervisor\": {\"children\": []}}", metrics_forms[_i].listen);
	conf = configtest_parse("/w.json", text);
	ck_assert(conf->metrics.enabled);
	ck_assert_str_eq(conf->metrics.host, metrics_forms[_i].host);
	ck_assert_int_eq(conf->metrics.port, metrics_forms[_i].port);
	ck_assert_int_eq(conf->metrics.max_connections, 16);
	ck_assert_int_eq(conf->metrics.timeout_ms, 10000);
	config_free(conf);
	free(text);
}
END_TEST

START_TEST(test_metrics_bounds)
{
	struct config	*conf;

	conf = configtest_parse("/w.json", "{\"metrics\": {\"listen\": "
	    "\":1\", \"max_connections\": 2, \"timeout_ms\": 500}, "
	    "\"supervisor\": {\"children\": []}}");
	ck_assert_int_eq(conf->metrics.max_connections, 2);
	ck_assert_int_eq(conf->metrics.timeout_ms, 500);
	config_free(conf);
	conf = configtest_parse("/w.json", "{\"supervisor\": {\"children\": []}}");
	ck_assert(!conf->metrics.enabled);
	ck_assert_ptr_null(conf->metrics.host);
	config_free(conf);
}
END_TEST

START_TEST(test_walk)
{
	struct config	*conf;
	struct walk	 w;

	conf = configtest_parse("/w.json", "{\"supervisor\": {\"children\": ["
	    " {\"name\": \"a\", \"children\": ["
	    "   {\"name\": \"b\", \"command\": [\"b\"]},"
	    "   {\"name\": \"c\", \"children\": ["
	    "     {\"name\": \"d\", \"command\": [\"d\"]}]}]},"
	    " {\"name\": \"e\", \"command\": [\"e\"]}]}}");
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(config_walk(conf->root, walk_fn, &w), 0);
	ck_assert_str_eq(w.seen, "root:0 a:1 b:2 c:2 d:3 e:1");
	memset(&w, 0, sizeof(w));
	w.stop_at = 3;
	ck_assert_int_eq(config_walk(conf->root, walk_fn, &w), 42);
	ck_assert_str_eq(w.seen, "root:0 a:1 b:2");
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(config_walk(conf->root->children[0], walk_fn, &w), 0);
	ck_assert_str_eq(w.seen, "a:0 b:1 c:1 d:2");
	ck_assert_int_eq(config_walk(NULL, walk_fn, &w), 0);
	config_free(conf);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(config_strategy_name(STRATEGY_ONE_FOR_ONE),
	    "one_for_one");
	ck_assert_str_eq(config_strategy_name(STRATEGY_ONE_FOR_ALL),
	    "one_for_all");
	ck_assert_str_eq(config_strategy_name(STRATEGY_REST_FOR_ONE),
	    "rest_for_one");
	ck_assert_str_eq(config_restart_name(RESTART_PERMANENT), "permanent");
	ck_assert_str_eq(config_restart_name(RESTART_TRANSIENT), "transient");
	ck_assert_str_eq(config_restart_name(RESTART_TEMPORARY), "temporary");
	ck_assert_str_eq(config_ready_name(READY_NONE), "none");
	ck_assert_str_eq(config_ready_name(READY_NOTIFY), "notify");
	ck_assert_str_eq(config_ready_name(READY_FD), "fd");
	config_free(NULL);
}
END_TEST

/*
 * The demo as its drills run it: tests/drills-demo.json, the copy of
 * conf/warden.json check_shipped holds equal to it while the demo is as
 * committed, so that editing the demo (as the README's tour does) breaks
 * no suite but that one's note. The copy leaves out the socket, state_dir
 * and table, and names the built demo-worker @BIN@/demo-worker: here
 * /w/bin/demo-worker, as the text alone is read (make check runs from the
 * top of the tree).
 */
#define DEMO_COPY	"tests/drills-demo.json"
#define DEMO_BIN	"/w/bin"

/* text with each "@BIN@" made DEMO_BIN, malloc'd. */
static char *
demo_bin(const char *text)
{
	const char	*p, *at;
	char		*out;
	size_t		 n = 0;

	out = xmalloc(strlen(text) + 1 + (size_t)count_of(text, "@BIN@") *
	    strlen(DEMO_BIN));
	for (p = text; (at = strstr(p, "@BIN@")) != NULL; p = at + 5) {
		memcpy(out + n, p, (size_t)(at - p));
		n += (size_t)(at - p);
		memcpy(out + n, DEMO_BIN, strlen(DEMO_BIN));
		n += strlen(DEMO_BIN);
	}
	memcpy(out + n, p, strlen(p) + 1);
	return out;
}

START_TEST(test_demo_copy)
{
	struct config		*conf;
	struct child_conf	*c;
	char			*text, *copy;
	const char		*want = DEMO_BIN "/demo-worker";

	copy = harness_read_file(DEMO_COPY);
	ck_assert_msg(copy != NULL, "%s: %s (run from the top of the source "
	    "tree)", DEMO_COPY, strerror(errno));
	text = demo_bin(copy);
	free(copy);
	conf = configtest_parse(DEMO_COPY, text);
	free(text);
	ck_assert_uint_eq(conf->socket_mode, 0660);
	/* The original system's seven flags, all off, in four stages. */
	ck_assert_uint_eq(conf->nflags, 7);
	ck_assert_str_eq(conf->flags[0].name, "use_ets_agent_registry");
	ck_assert_str_eq(conf->flags[6].name, "enforce_no_process_dict");
	for (size_t i = 0; i < conf->nflags; i++) {
		ck_assert_int_eq(conf->flags[i].dflt, 0);
		ck_assert(conf->flags[i].dflt_is_bool);
	}
	ck_assert_uint_eq(conf->nstages, 4);
	ck_assert_uint_eq(conf->stages[0].nenable, 2);
	ck_assert_str_eq(conf->stages[0].enable[0], "use_ets_agent_registry");
	ck_assert_str_eq(conf->stages[0].enable[1], "enable_migration_monitoring");
	ck_assert_uint_eq(conf->stages[1].nenable, 1);
	ck_assert_str_eq(conf->stages[1].enable[0], "use_logger_error_context");
	ck_assert_uint_eq(conf->stages[2].nenable, 3);
	ck_assert_uint_eq(conf->stages[3].nenable, 1);
	ck_assert_str_eq(conf->stages[3].enable[0], "enforce_no_process_dict");
	config_check_guard(&conf->guard, (struct guard_conf){ .enabled = true,
	    .max_restarts = 10, .window_s = 60 });
	config_check_sup(conf->root, (struct child_conf){ .name = "root",
	    .strategy = STRATEGY_ONE_FOR_ONE, .restart = RESTART_PERMANENT,
	    .max_restarts = 20, .max_seconds = 10, .nchildren = 4 });

	c = configtest_service(conf, "registry");
	ck_assert_str_eq(c->argv[0], want);
	ck_assert_str_eq(c->argv[2], "registry");
	ck_assert_int_eq(c->ready, READY_NOTIFY);
	ck_assert_int_eq(c->restart, RESTART_PERMANENT);
	ck_assert_int_eq(c->shutdown_ms, 2000);
	c = configtest_service(conf, "error_context");
	ck_assert_int_eq(c->ready, READY_FD);
	ck_assert_int_eq(c->shutdown_ms, 2000);
	c = configtest_service(conf, "telemetry");
	config_check_sup(c, (struct child_conf){ .name = "telemetry",
	    .strategy = STRATEGY_REST_FOR_ONE, .restart = RESTART_PERMANENT,
	    .max_restarts = 5, .max_seconds = 10, .nchildren = 2 });
	ck_assert_str_eq(c->children[0]->name, "span_manager");
	ck_assert_int_eq(c->children[0]->ready, READY_NONE);
	ck_assert_int_eq(c->children[0]->shutdown_ms, 2000);
	c = configtest_service(conf, "sampled_events");
	ck_assert_str_eq(c->argv[0], want);
	ck_assert_uint_eq(c->argc, 5);
	ck_assert_str_eq(c->argv[4], "3000");
	ck_assert_int_eq(c->shutdown_ms, 2000);
	config_check_backoff(&c->backoff, (struct backoff_conf){
	    .initial_ms = 100, .max_ms = 5000, .factor = 2.0, .jitter = 0.2,
	    .reset_after_ms = 10000 });
	/* The Python worker, following a flag of the first stage. */
	c = configtest_service(conf, "migration_monitor");
	ck_assert_str_eq(c->argv[0], DEMO_BIN "/demo-flagwatch");
	ck_assert_str_eq(c->argv[2], "enable_migration_monitoring");
	ck_assert_int_eq(c->ready, READY_NONE);
	config_free(conf);
}
END_TEST
static Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc = tcase_create("config");

	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_number_forms);
	tcase_add_test(tc, test_relative_paths);
	tcase_add_test(tc, test_implicit);
	tcase_add_test(tc, test_walk);
	tcase_add_loop_test(tc, test_metrics, 0, nitems(metrics_forms));
	tcase_add_test(tc, test_metrics_bounds);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_demo_copy);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(config_suite)
