/*
 * check_config.c: warden.json loading and validation (src/core/config*.c),
 * and the walk it shares with drill files (jsonerr.c, jsonpos.c).
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "jsonerr.h"
#include "jsonpos.h"
#include "util.h"
#include "suite.h"

static struct config *
parse_ok(const char *file, const char *text)
{
	struct config	*conf = NULL;
	char		 err[1024];

	err[0] = '\0';
	ck_assert_msg(config_parse(text, strlen(text), file, &conf, err,
	    sizeof(err)) == 0, "unexpected error: %s", err);
	ck_assert_ptr_nonnull(conf);
	return conf;
}

static struct child_conf *
find(struct child_conf *n, const char *name)
{
	struct child_conf	*c;
	size_t			 i;

	if (strcmp(n->name, name) == 0)
		return n;
	for (i = 0; i < n->nchildren; i++)
		if ((c = find(n->children[i], name)) != NULL)
			return c;
	return NULL;
}

static struct child_conf *
must_find(struct config *conf, const char *name)
{
	struct child_conf	*c = find(conf->root, name);

	ck_assert_msg(c != NULL, "no service %s", name);
	return c;
}

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
	"    \"max_restarts\": 4, \"window_s\": 30, \"action\": \"rollback\"\n"
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
	conf = parse_ok("/etc/w/warden.json", full_config);

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

	ck_assert(conf->guard.enabled);
	ck_assert_int_eq(conf->guard.max_restarts, 4);
	ck_assert_int_eq(conf->guard.window_s, 30);
	ck_assert_int_eq(conf->limits.max_pending, 8);
	ck_assert_int_eq(conf->limits.idle_ms, 2500);
	ck_assert_int_eq(conf->limits.max_batch, 1024);

	ck_assert_str_eq(conf->root->name, "main");
	ck_assert(conf->root->is_sup);
	ck_assert_int_eq(conf->root->strategy, STRATEGY_ONE_FOR_ALL);
	ck_assert_int_eq(conf->root->restart, RESTART_PERMANENT);
	ck_assert_int_eq(conf->root->max_restarts, 7);
	ck_assert_int_eq(conf->root->max_seconds, 9);
	ck_assert_uint_eq(conf->root->nchildren, 2);

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
	ck_assert_uint_eq(full->backoff.initial_ms, 10);
	ck_assert_uint_eq(full->backoff.max_ms, 900);
	ck_assert_double_eq(full->backoff.factor, 1.5);
	ck_assert_double_eq(full->backoff.jitter, 0.0);
	ck_assert_uint_eq(full->backoff.reset_after_ms, 0);
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
	ck_assert_str_eq(inner->name, "inner");
	ck_assert(inner->is_sup);
	ck_assert_int_eq(inner->strategy, STRATEGY_REST_FOR_ONE);
	ck_assert_int_eq(inner->restart, RESTART_TEMPORARY);
	ck_assert_int_eq(inner->max_restarts, 0);
	ck_assert_int_eq(inner->max_seconds, 1);
	ck_assert_uint_eq(inner->nchildren, 3);

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
	char			 cwd[PATH_MAX], *dir;

	conf = parse_ok("sub/w.json",
	    "{\"supervisor\": {\"children\": [{\"name\": \"w\", "
	    "\"command\": [\"/bin/w\"]}]}}");
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	xasprintf(&dir, "%s/sub", strcmp(cwd, "/") == 0 ? "" : cwd);
	ck_assert_str_eq(conf->dir, dir);
	ck_assert_str_eq(conf->socket, "/run/warden/warden.sock");
	ck_assert_uint_eq(conf->socket_mode, 0660);
	ck_assert_str_eq(conf->state_dir, "/var/lib/warden");
	ck_assert_str_eq(conf->table, "/warden");
	ck_assert_uint_eq(conf->operate.nuids + conf->operate.ngroups, 0);
	ck_assert_uint_eq(conf->admin.nuids + conf->admin.ngroups, 0);
	ck_assert_uint_eq(conf->nflags, 0);
	ck_assert_uint_eq(conf->nstages, 0);
	ck_assert(!conf->guard.enabled);
	ck_assert_int_eq(conf->guard.max_restarts, 10);
	ck_assert_int_eq(conf->guard.window_s, 60);
	ck_assert_int_eq(conf->limits.max_pending, 64);
	ck_assert_int_eq(conf->limits.idle_ms, 10000);

	ck_assert_str_eq(conf->root->name, "root");
	ck_assert(conf->root->is_sup);
	ck_assert_int_eq(conf->root->strategy, STRATEGY_ONE_FOR_ONE);
	ck_assert_int_eq(conf->root->restart, RESTART_PERMANENT);
	ck_assert_int_eq(conf->root->max_restarts, 3);
	ck_assert_int_eq(conf->root->max_seconds, 5);
	ck_assert_uint_eq(conf->root->nchildren, 1);

	w = conf->root->children[0];
	ck_assert(!w->is_sup);
	ck_assert_int_eq(w->restart, RESTART_PERMANENT);
	ck_assert_int_eq(w->shutdown_ms, 5000);
	ck_assert_int_eq(w->stop_signal, SIGTERM);
	ck_assert_int_eq(w->ready, READY_NONE);
	ck_assert_int_eq(w->ready_timeout_ms, 5000);
	ck_assert_uint_eq(w->backoff.initial_ms, 0);
	ck_assert_uint_eq(w->backoff.max_ms, 30000);
	ck_assert_double_eq(w->backoff.factor, 2.0);
	ck_assert_double_eq(w->backoff.jitter, 0.2);
	ck_assert_uint_eq(w->backoff.reset_after_ms, 10000);
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

	conf = parse_ok("w.json",
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
	char			 cwd[PATH_MAX], *want;

	conf = parse_ok("/srv/app/conf/w.json",
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
	c = must_find(conf, "a");
	ck_assert_str_eq(c->argv[0], "/srv/app/conf/bin/a");
	/* Only the program is a path; arguments are the program's business. */
	ck_assert_str_eq(c->argv[1], "rel/arg");
	ck_assert_str_eq(c->cwd, "/srv/app/conf/work");
	c = must_find(conf, "b");
	ck_assert_str_eq(c->argv[0], "/srv/app/conf/b");
	ck_assert_str_eq(c->cwd, "/");
	c = must_find(conf, "c");
	ck_assert_str_eq(c->argv[0], "/opt/c");
	ck_assert_str_eq(c->cwd, "/abs/x");
	c = must_find(conf, "d");
	ck_assert_str_eq(c->argv[0], "d");
	ck_assert_str_eq(c->cwd, "/srv/app/conf");
	config_free(conf);

	/* A relative file name is taken from the current folder. */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	conf = parse_ok("./etc/../conf/w.json",
	    "{\"socket\": \"s.sock\", \"supervisor\": {\"children\": []}}");
	xasprintf(&want, "%s/conf/w.json", strcmp(cwd, "/") == 0 ? "" : cwd);
	ck_assert_str_eq(conf->path, want);
	free(want);
	xasprintf(&want, "%s/conf/s.sock", strcmp(cwd, "/") == 0 ? "" : cwd);
	ck_assert_str_eq(conf->socket, want);
	free(want);
	config_free(conf);
}
END_TEST

struct fps {
	char	*name[16];
	char	*fp[16];
	size_t	 n;
};

static int
collect(struct child_conf *c, int depth, void *arg)
{
	struct fps	*f = arg;

	(void)depth;
	ck_assert_uint_lt(f->n, nitems(f->fp));
	ck_assert_ptr_nonnull(c->fingerprint);
	f->name[f->n] = xstrdup(c->name);
	f->fp[f->n] = xstrdup(c->fingerprint);
	f->n++;
	return 0;
}

static void
fingerprints(const char *file, const char *text, struct fps *f)
{
	struct config	*conf = parse_ok(file, text);

	memset(f, 0, sizeof(*f));
	config_walk(conf->root, collect, f);
	config_free(conf);
}

static void
fps_free(struct fps *f)
{
	size_t	i;

	for (i = 0; i < f->n; i++) {
		free(f->name[i]);
		free(f->fp[i]);
	}
}

static const char fp_base[] =
	"{\"supervisor\": {\"children\": ["
	" {\"name\": \"w\", \"command\": [\"bin/w\", \"-x\"],"
	"  \"env\": {\"A\": \"1\", \"B\": \"2\"}},"
	" {\"name\": \"s\", \"strategy\": \"rest_for_one\", \"children\": ["
	"   {\"name\": \"v\", \"command\": [\"/bin/v\"]}]}]}}";

/* The same meaning, written differently. */
static const char fp_same[] =
	"{\n"
	"  \"supervisor\": {\n"
	"    \"strategy\": \"one_for_one\",\n"
	"    \"max_restarts\": 3, \"max_seconds\": 5.0,\n"
	"    \"name\": \"root\",\n"
	"    \"children\": [\n"
	"      { \"command\": [\"./bin/../bin/w\", \"-x\"], \"name\": \"w\",\n"
	"        \"env\": {\"B\": \"2\", \"A\": \"1\"},\n"
	"        \"restart\": \"permanent\",\n"
	"        \"shutdown_ms\": 5000, \"stop_signal\": \"sigterm\",\n"
	"        \"ready\": \"none\", \"ready_timeout_ms\": 5000,\n"
	"        \"cwd\": \".\",\n"
	"        \"backoff\": {\"initial_ms\": 0, \"max_ms\": 30000,\n"
	"                    \"factor\": 2, \"jitter\": 0.2,\n"
	"                    \"reset_after_ms\": 10000} },\n"
	"      { \"name\": \"s\", \"strategy\": \"rest_for_one\",\n"
	"        \"max_restarts\": 3,\n"
	"        \"children\": [ {\"name\": \"v\", \"command\": [\"/bin/v\"],\n"
	"                       \"stop_signal\": 15} ] }\n"
	"    ]\n"
	"  }\n"
	"}\n";

START_TEST(test_fingerprint_equal)
{
	struct fps	a, b;
	size_t		i;

	fingerprints("/etc/w/w.json", fp_base, &a);
	fingerprints("/etc/w/w.json", fp_same, &b);
	ck_assert_uint_eq(a.n, 4);
	ck_assert_uint_eq(b.n, 4);
	for (i = 0; i < a.n; i++) {
		ck_assert_str_eq(a.name[i], b.name[i]);
		ck_assert_str_eq(a.fp[i], b.fp[i]);
	}
	/* Different nodes never share a fingerprint. */
	for (i = 1; i < a.n; i++)
		ck_assert_str_ne(a.fp[0], a.fp[i]);
	fps_free(&a);
	fps_free(&b);
}
END_TEST

/* Each text changes one setting of the node named first. */
static const struct {
	const char	*changed;
	const char	*text;
} fp_changes[] = {
	{ "w", "{\"supervisor\": {\"children\": ["
	    " {\"name\": \"w\", \"command\": [\"bin/w\", \"-y\"],"
	    "  \"env\": {\"A\": \"1\", \"B\": \"2\"}},"
	    " {\"name\": \"s\", \"strategy\": \"rest_for_one\", \"children\": ["
	    "   {\"name\": \"v\", \"command\": [\"/bin/v\"]}]}]}}" },
	{ "w", "{\"supervisor\": {\"children\": ["
	    " {\"name\": \"w\", \"command\": [\"bin/w\", \"-x\"],"
	    "  \"env\": {\"A\": \"1\", \"B\": \"3\"}},"
	    " {\"name\": \"s\", \"strategy\": \"rest_for_one\", \"children\": ["
	    "   {\"name\": \"v\", \"command\": [\"/bin/v\"]}]}]}}" },
	{ "w", "{\"supervisor\": {\"children\": ["
	    " {\"name\": \"w\", \"command\": [\"bin/w\", \"-x\"],"
	    "  \"env\": {\"A\": \"1\", \"B\": \"2\"}, \"shutdown_ms\": 4999},"
	    " {\"name\": \"s\", \"strategy\": \"rest_for_one\", \"children\": ["
	    "   {\"name\": \"v\", \"command\": [\"/bin/v\"]}]}]}}" },
	{ "w", "{\"supervisor\": {\"children\": ["
	    " {\"name\": \"w\", \"command\": [\"bin/w\", \"-x\"],"
	    "  \"env\": {\"A\": \"1\", \"B\": \"2\"}, \"cwd\": \"..\"},"
	    " {\"name\": \"s\", \"strategy\": \"rest_for_one\", \"children\": ["
	    "   {\"name\": \"v\", \"command\": [\"/bin/v\"]}]}]}}" },
	{ "w", "{\"supervisor\": {\"children\": ["
	    " {\"name\": \"w\", \"command\": [\"bin/w\", \"-x\"],"
	    "  \"env\": {\"A\": \"1\", \"B\": \"2\"},"
	    "  \"backoff\": {\"jitter\": 0.25}},"
	    " {\"name\": \"s\", \"strategy\": \"rest_for_one\", \"children\": ["
	    "   {\"name\": \"v\", \"command\": [\"/bin/v\"]}]}]}}" },
	{ "w", "{\"supervisor\": {\"children\": ["
	    " {\"name\": \"w\", \"command\": [\"bin/w\", \"-x\"],"
	    "  \"env\": {\"A\": \"1\", \"B\": \"2\"},"
	    "  \"stop_signal\": \"INT\"},"
	    " {\"name\": \"s\", \"strategy\": \"rest_for_one\", \"children\": ["
	    "   {\"name\": \"v\", \"command\": [\"/bin/v\"]}]}]}}" },
	{ "w", "{\"supervisor\": {\"children\": ["
	    " {\"name\": \"w\", \"command\": [\"bin/w\", \"-x\"],"
	    "  \"env\": {\"A\": \"1\", \"B\": \"2\"},"
	    "  \"restart\": \"temporary\"},"
	    " {\"name\": \"s\", \"strategy\": \"rest_for_one\", \"children\": ["
	    "   {\"name\": \"v\", \"command\": [\"/bin/v\"]}]}]}}" },
	{ "w", "{\"supervisor\": {\"children\": ["
	    " {\"name\": \"w\", \"command\": [\"bin/w\", \"-x\"],"
	    "  \"env\": {\"A\": \"1\", \"B\": \"2\"}, \"user\": \"nobody\"},"
	    " {\"name\": \"s\", \"strategy\": \"rest_for_one\", \"children\": ["
	    "   {\"name\": \"v\", \"command\": [\"/bin/v\"]}]}]}}" },
	{ "s", "{\"supervisor\": {\"children\": ["
	    " {\"name\": \"w\", \"command\": [\"bin/w\", \"-x\"],"
	    "  \"env\": {\"A\": \"1\", \"B\": \"2\"}},"
	    " {\"name\": \"s\", \"strategy\": \"one_for_all\", \"children\": ["
	    "   {\"name\": \"v\", \"command\": [\"/bin/v\"]}]}]}}" },
	{ "s", "{\"supervisor\": {\"children\": ["
	    " {\"name\": \"w\", \"command\": [\"bin/w\", \"-x\"],"
	    "  \"env\": {\"A\": \"1\", \"B\": \"2\"}},"
	    " {\"name\": \"s\", \"strategy\": \"rest_for_one\","
	    "  \"max_seconds\": 6,"
	    "  \"children\": ["
	    "   {\"name\": \"v\", \"command\": [\"/bin/v\"]}]}]}}" },
	/* A change below a supervisor is not a change of the supervisor. */
	{ "v", "{\"supervisor\": {\"children\": ["
	    " {\"name\": \"w\", \"command\": [\"bin/w\", \"-x\"],"
	    "  \"env\": {\"A\": \"1\", \"B\": \"2\"}},"
	    " {\"name\": \"s\", \"strategy\": \"rest_for_one\", \"children\": ["
	    "   {\"name\": \"v\", \"command\": [\"/bin/v\"],"
	    "    \"ready\": \"fd\"}]}]}}" },
	{ "root", "{\"supervisor\": {\"max_restarts\": 4, \"children\": ["
	    " {\"name\": \"w\", \"command\": [\"bin/w\", \"-x\"],"
	    "  \"env\": {\"A\": \"1\", \"B\": \"2\"}},"
	    " {\"name\": \"s\", \"strategy\": \"rest_for_one\", \"children\": ["
	    "   {\"name\": \"v\", \"command\": [\"/bin/v\"]}]}]}}" },
};

START_TEST(test_fingerprint_change)
{
	struct fps	a, b;
	size_t		i;

	fingerprints("/etc/w/w.json", fp_base, &a);
	fingerprints("/etc/w/w.json", fp_changes[_i].text, &b);
	ck_assert_uint_eq(a.n, b.n);
	for (i = 0; i < a.n; i++) {
		ck_assert_str_eq(a.name[i], b.name[i]);
		if (strcmp(a.name[i], fp_changes[_i].changed) == 0)
			ck_assert_str_ne(a.fp[i], b.fp[i]);
		else
			ck_assert_str_eq(a.fp[i], b.fp[i]);
	}
	fps_free(&a);
	fps_free(&b);
}
END_TEST

/* A relative path in a config moved elsewhere is a different path. */
START_TEST(test_fingerprint_moved)
{
	struct fps	a, b;

	fingerprints("/etc/w/w.json", fp_base, &a);
	fingerprints("/etc/x/w.json", fp_base, &b);
	ck_assert_str_eq(a.fp[0], b.fp[0]);		/* root */
	ck_assert_str_ne(a.fp[1], b.fp[1]);		/* w: bin/w, cwd */
	ck_assert_str_eq(a.fp[2], b.fp[2]);		/* s */
	ck_assert_str_ne(a.fp[3], b.fp[3]);		/* v: cwd */
	fps_free(&a);
	fps_free(&b);
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

START_TEST(test_walk)
{
	struct config	*conf;
	struct walk	 w;

	conf = parse_ok("/w.json", "{\"supervisor\": {\"children\": ["
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

START_TEST(test_load_missing)
{
	struct config	*conf = (struct config *)&conf;
	char		 err[256];

	ck_assert_int_eq(config_load("/nonexistent/warden/w.json", &conf, err,
	    sizeof(err)), -1);
	ck_assert_ptr_null(conf);
	ck_assert_str_eq(err, "/nonexistent/warden/w.json: No such file or "
	    "directory");
	ck_assert_int_eq(config_load("/", &conf, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/: Is a directory");
}
END_TEST

static char *
write_temp(const char *text)
{
	char	*path;
	int	 fd;

	path = xstrdup("/tmp/check_config.XXXXXX");
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_eq(util_write_all(fd, text, strlen(text)), 0);
	ck_assert_int_eq(close(fd), 0);
	return path;
}

static char *
make_dir(void)
{
	char	*dir = xstrdup("/tmp/check_config.XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static void
write_file(const char *path, const char *text)
{
	int	fd;

	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0644), -1);
	ck_assert_int_eq(util_write_all(fd, text, strlen(text)), 0);
	ck_assert_int_eq(close(fd), 0);
}

static void
write_exec(const char *path, const char *text, mode_t mode)
{
	write_file(path, text);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* s with each '@' replaced by dir, malloc'd. */
static char *
at_dir(const char *s, const char *dir)
{
	char	*out, *o;
	size_t	 n = 1;
	const char *p;

	for (p = s; *p != '\0'; p++)
		n += *p == '@' ? strlen(dir) : 1;
	o = out = xmalloc(n);
	for (p = s; *p != '\0'; p++) {
		if (*p == '@') {
			memcpy(o, dir, strlen(dir));
			o += strlen(dir);
		} else
			*o++ = *p;
	}
	*o = '\0';
	return out;
}

/*
 * config_load refuses a command the worker's user cannot execute, at the
 * key path of command[0]; config_parse (text alone) does not look.
 */
static const struct {
	const char	*what;
	const char	*cmd;		/* @ is the temp folder */
	const char	*more;		/* more keys of the worker */
	const char	*err;		/* after "command[0]: "; NULL: accepted */
} commands[] = {
	{ "missing", "/usr/bin/pyhton3", "",
	    "/usr/bin/pyhton3: No such file or directory" },
	{ "missing relative", "bin/pyhton3", "",
	    "@/bin/pyhton3: No such file or directory" },
	{ "folder", "@", "", "@: is a directory" },
	{ "folder relative", "./", "", "@: is a directory" },
	{ "device", "/dev/null", "", "/dev/null: not a regular file" },
	{ "no execute bit", "./noexec", "", "@/noexec: not executable" },
	{ "owner only, other user", "./rootonly", ", \"user\": \"nobody\"",
	    "@/rootonly: not executable by user nobody" },
	{ "through a missing folder", "@/none/x", "",
	    "@/none/x: No such file or directory" },
	{ "through a file", "./ok/x", "", "@/ok/x: Not a directory" },
	{ "bare name not in PATH", "pyhton3", "",
	    "pyhton3: not found in PATH" },
	{ "bare name in the folder only", "ok", "",
	    "ok: not found in PATH" },
	{ "executable", "./ok", "", NULL },
	{ "executable by nobody", "./ok", ", \"user\": \"nobody\"", NULL },
	{ "group execute, user's group", "./groupx",
	    ", \"user\": \"nobody\", \"group\": \"root\"", NULL },
	{ "bare name in PATH", "sh", "", NULL },
	/* Its interpreter is missing: only exec can tell; warden contains it. */
	{ "script, missing interpreter", "./nointerp", "", NULL },
};

START_TEST(test_command_check)
{
	struct config	*conf = NULL;
	char		*dir, *path, *text, *cmd, *more, *want, *p, *f;
	char		 err[1024];
	int		 col;

	if (getpwnam("nobody") == NULL)
		return;		/* nothing to run as */
	dir = make_dir();
	xasprintf(&f, "%s/ok", dir);
	write_exec(f, "#!/bin/sh\nexit 0\n", 0755);
	free(f);
	xasprintf(&f, "%s/noexec", dir);
	write_exec(f, "#!/bin/sh\nexit 0\n", 0644);
	free(f);
	xasprintf(&f, "%s/rootonly", dir);
	write_exec(f, "#!/bin/sh\nexit 0\n", 0700);
	free(f);
	xasprintf(&f, "%s/groupx", dir);
	write_exec(f, "#!/bin/sh\nexit 0\n", 0710);
	ck_assert_int_eq(chown(f, 0, 0), 0);
	free(f);
	xasprintf(&f, "%s/nointerp", dir);
	write_exec(f, "#!/nonexistent/interpreter\n", 0755);
	free(f);

	cmd = at_dir(commands[_i].cmd, dir);
	more = xstrdup(commands[_i].more);
	xasprintf(&text, "{\"supervisor\": {\"children\": [\n"
	    " {\"name\": \"fine\", \"command\": [\"sh\"]},\n"
	    " {\"name\": \"w\", \"command\": [\"%s\", \"-x\"]%s}]}}\n", cmd,
	    more);
	xasprintf(&path, "%s/w.json", dir);
	write_file(path, text);
	err[0] = '\0';
	if (commands[_i].err == NULL) {
		ck_assert_msg(config_load(path, &conf, err, sizeof(err)) == 0,
		    "%s: %s", commands[_i].what, err);
		config_free(conf);
	} else {
		ck_assert_msg(config_load(path, &conf, err, sizeof(err)) == -1,
		    "%s: accepted", commands[_i].what);
		ck_assert_ptr_null(conf);
		col = (int)strlen(" {\"name\": \"w\", \"command\": [") + 1;
		p = at_dir(commands[_i].err, dir);
		xasprintf(&want, "%s:3:%d: supervisor.children[1].command[0]: "
		    "%s", path, col, p);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		    "%s:\n  got  \"%s\"\n  want \"%s\"", commands[_i].what, err,
		    want);
		free(want);
		free(p);
	}
	/* From text alone nothing is looked at. */
	ck_assert_msg(config_parse(text, strlen(text), path, &conf, err,
	    sizeof(err)) == 0, "%s: %s", commands[_i].what, err);
	config_free(conf);
	free(text);
	free(cmd);
	free(more);
	free(path);
	xasprintf(&f, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(f), 0);
	free(f);
	free(dir);
}
END_TEST

/* What was left out decides the regime (restart.h): kept as given or not. */
START_TEST(test_implicit)
{
	struct config	*conf;

	conf = parse_ok("/etc/w/w.json", "{\"supervisor\": {\"children\": ["
	    " {\"name\": \"a\", \"command\": [\"a\"]},"
	    " {\"name\": \"b\", \"command\": [\"b\"], \"backoff\": {}},"
	    " {\"name\": \"s\", \"max_seconds\": 5, \"children\": ["
	    "   {\"name\": \"c\", \"command\": [\"c\"]}]},"
	    " {\"name\": \"t\", \"max_restarts\": 3, \"children\": []}]}}");
	ck_assert(conf->root->implicit_intensity);
	ck_assert(must_find(conf, "a")->implicit_backoff);
	ck_assert(!must_find(conf, "b")->implicit_backoff);
	ck_assert(!must_find(conf, "s")->implicit_intensity);
	ck_assert(!must_find(conf, "t")->implicit_intensity);
	ck_assert(must_find(conf, "c")->implicit_backoff);
	/* The values are the documented defaults either way. */
	ck_assert_int_eq(conf->root->max_restarts, 3);
	ck_assert_int_eq(conf->root->max_seconds, 5);
	ck_assert_uint_eq(must_find(conf, "a")->backoff.initial_ms, 0);
	config_free(conf);
}
END_TEST

START_TEST(test_load_file)
{
	struct config	*conf;
	char		*path, err[512], *want, *dir, *w;

	/* config_load looks at the command: ./w must be there. */
	dir = make_dir();
	xasprintf(&w, "%s/w", dir);
	write_exec(w, "#!/bin/sh\n", 0755);
	xasprintf(&path, "%s/w.json", dir);
	write_file(path, "{\"state_dir\": \"st\",\n \"supervisor\": "
	    "{\"children\": [{\"name\": \"w\", \"command\": [\"./w\"]}]}}\n");
	ck_assert_msg(config_load(path, &conf, err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_str_eq(conf->path, path);
	ck_assert_str_eq(conf->dir, dir);
	xasprintf(&want, "%s/st", dir);
	ck_assert_str_eq(conf->state_dir, want);
	free(want);
	ck_assert_str_eq(conf->root->children[0]->argv[0], w);
	config_free(conf);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(unlink(w), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	free(path);
	free(w);
	free(dir);

	path = write_temp("{\n  \"supervisor\": {\"children\": [\n"
	    "    {\"name\": \"w\", \"command\": [\"w\"], \"max_ms\": 1}]}}\n");
	ck_assert_int_eq(config_load(path, &conf, err, sizeof(err)), -1);
	xasprintf(&want, "%s:3:37: supervisor.children[0].max_ms: unknown key",
	    path);
	ck_assert_str_eq(err, want);
	free(want);
	ck_assert_int_eq(unlink(path), 0);
	free(path);
}
END_TEST

/* The demo config (make check runs from the top of the tree). */
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

START_TEST(test_demo_config)
{
	struct config		*conf;
	struct child_conf	*c;
	char			 err[512], *top, *want;

	ck_assert_msg(config_load("conf/warden.json", &conf, err,
	    sizeof(err)) == 0, "%s", err);
	top = xstrdup(conf->dir);
	*strrchr(top, '/') = '\0';
	xasprintf(&want, "%s/run/warden.sock", top);
	ck_assert_str_eq(conf->socket, want);
	free(want);
	xasprintf(&want, "%s/state", top);
	ck_assert_str_eq(conf->state_dir, want);
	free(want);
	ck_assert_uint_eq(conf->socket_mode, 0660);
	ck_assert_str_eq(conf->table, "/warden-demo");
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
	ck_assert(conf->guard.enabled);
	ck_assert_int_eq(conf->guard.max_restarts, 10);
	ck_assert_int_eq(conf->guard.window_s, 60);
	ck_assert_int_eq(conf->root->strategy, STRATEGY_ONE_FOR_ONE);
	ck_assert_int_eq(conf->root->max_restarts, 20);
	ck_assert_int_eq(conf->root->max_seconds, 10);
	ck_assert_uint_eq(conf->root->nchildren, 3);

	xasprintf(&want, "%s/bin/demo-worker", top);
	c = must_find(conf, "registry");
	ck_assert_str_eq(c->argv[0], want);
	ck_assert_str_eq(c->argv[2], "registry");
	ck_assert_int_eq(c->ready, READY_NOTIFY);
	ck_assert_int_eq(c->restart, RESTART_PERMANENT);
	ck_assert_int_eq(c->shutdown_ms, 2000);
	c = must_find(conf, "error_context");
	ck_assert_int_eq(c->ready, READY_FD);
	ck_assert_int_eq(c->shutdown_ms, 2000);
	c = must_find(conf, "telemetry");
	ck_assert(c->is_sup);
	ck_assert_int_eq(c->strategy, STRATEGY_REST_FOR_ONE);
	ck_assert_int_eq(c->max_restarts, 5);
	ck_assert_int_eq(c->max_seconds, 10);
	ck_assert_uint_eq(c->nchildren, 2);
	ck_assert_str_eq(c->children[0]->name, "span_manager");
	ck_assert_int_eq(c->children[0]->ready, READY_NONE);
	ck_assert_int_eq(c->children[0]->shutdown_ms, 2000);
	c = must_find(conf, "sampled_events");
	ck_assert_str_eq(c->argv[0], want);
	ck_assert_uint_eq(c->argc, 5);
	ck_assert_str_eq(c->argv[4], "3000");
	ck_assert_int_eq(c->shutdown_ms, 2000);
	ck_assert_uint_eq(c->backoff.initial_ms, 100);
	ck_assert_uint_eq(c->backoff.max_ms, 5000);
	ck_assert_double_eq(c->backoff.factor, 2.0);
	ck_assert_double_eq(c->backoff.jitter, 0.2);
	ck_assert_uint_eq(c->backoff.reset_after_ms, 10000);
	free(want);
	free(top);
	config_free(conf);
}
END_TEST

static void
pos_is(const char *text, const struct jsonpos_seg *path, size_t npath,
    int want_key, int line, int col)
{
	int	l = 0, c = 0;

	ck_assert_int_eq(jsonpos_find(text, strlen(text), path, npath,
	    want_key, &l, &c), 0);
	ck_assert_int_eq(l, line);
	ck_assert_int_eq(c, col);
}

START_TEST(test_jsonpos)
{
	static const char text[] =
	    " {\"a\\\"}\": [1, [2, {\"x\": \"]}\"}], {\"k\": true}],\n"
	    "  \"caf\\u00e9\": {\"\\ud83d\\ude00\": null},\n"
	    "  \"\xc3\xa9t\xc3\xa9\": \"\xe2\x9c\x93\", \"n\": -1.5e3}";
	const struct jsonpos_seg a_2_k[] = { { "a\"}", 0 }, { NULL, 2 },
	    { "k", 0 } };
	const struct jsonpos_seg a_1_1_x[] = { { "a\"}", 0 }, { NULL, 1 },
	    { NULL, 1 }, { "x", 0 } };
	const struct jsonpos_seg cafe_smile[] = { { "caf\xc3\xa9", 0 },
	    { "\xf0\x9f\x98\x80", 0 } };
	const struct jsonpos_seg n[] = { { "n", 0 } };
	const struct jsonpos_seg ete[] = { { "\xc3\xa9t\xc3\xa9", 0 } };
	const struct jsonpos_seg missing[] = { { "a\"}", 0 }, { NULL, 3 } };
	const struct jsonpos_seg nokey[] = { { "caf", 0 } };
	const struct jsonpos_seg notarray[] = { { "n", 0 }, { NULL, 0 } };
	int	l, c;

	pos_is(text, NULL, 0, 0, 1, 2);
	pos_is(text, a_2_k, 3, 0, 1, 39);
	pos_is(text, a_2_k, 3, 1, 1, 34);
	pos_is(text, a_2_k, 2, 0, 1, 33);
	pos_is(text, a_1_1_x, 4, 0, 1, 25);
	pos_is(text, cafe_smile, 2, 1, 2, 17);
	pos_is(text, cafe_smile, 2, 0, 2, 33);
	pos_is(text, cafe_smile, 1, 1, 2, 3);
	/* Columns count characters: "été" is three, "✓" one. */
	pos_is(text, ete, 1, 0, 3, 10);
	pos_is(text, n, 1, 0, 3, 20);
	ck_assert_int_eq(jsonpos_find(text, strlen(text), missing, 2, 0, &l,
	    &c), -1);
	ck_assert_int_eq(jsonpos_find(text, strlen(text), nokey, 1, 0, &l,
	    &c), -1);
	ck_assert_int_eq(jsonpos_find(text, strlen(text), notarray, 2, 0, &l,
	    &c), -1);
	/* Cut short, it stays inside the buffer and finds nothing. */
	ck_assert_int_eq(jsonpos_find(text, 20, n, 1, 0, &l, &c), -1);
	ck_assert_int_eq(jsonpos_find("", 0, NULL, 0, 0, &l, &c), -1);
}
END_TEST

/*
 * The walk both warden.json and drill files are checked with (jsonerr.c):
 * a syntax error, then errors at a value, at a key and for a missing key,
 * each with the path it is at and where that path is in the text.
 */
START_TEST(test_jsonerr)
{
	static const char *const known[] = { "a", NULL };
	static const char *const also[] = { "b", NULL };
	static const char text[] =
	    "{\"a\": [1, {\"x\": 2}],\n \"b\": 3,\n \"c\\u0001\": 4}";
	struct jsonerr	 e;
	json_t		*root, *obj;
	char		 err[256];

	root = jsonerr_load(&e, "{\n  \"a\": 1,\n  \"a\": 2 }", 22, "f.json",
	    err, sizeof(err));
	ck_assert_ptr_null(root);
	ck_assert_str_eq(err, "f.json:3:5: duplicate object key near '\"a\"'");
	jsonerr_free(&e);
	/* No buffer: nothing is written, and nothing breaks. */
	ck_assert_ptr_null(jsonerr_load(&e, "[", 1, "f.json", NULL, 0));
	jsonerr_free(&e);

	root = jsonerr_load(&e, text, strlen(text), "f.json", err, sizeof(err));
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(jsonerr_value(&e, "top %d", 1), -1);
	ck_assert_str_eq(err, "f.json:1:1: top 1");
	obj = json_array_get(jsonerr_get(&e, root, "a"), 1);
	ck_assert_ptr_null(jsonerr_get(&e, root, "nope"));
	jsonerr_push_index(&e, 1);
	ck_assert_int_eq(jsonerr_missing(&e, "y"), -1);
	ck_assert_str_eq(err, "f.json:1:11: a[1].y: required key is missing");
	ck_assert_ptr_nonnull(jsonerr_get(&e, obj, "x"));
	ck_assert_int_eq(jsonerr_key(&e, "a key"), -1);
	ck_assert_str_eq(err, "f.json:1:12: a[1].x: a key");
	ck_assert_int_eq(jsonerr_value(&e, "a value"), -1);
	ck_assert_str_eq(err, "f.json:1:17: a[1].x: a value");
	jsonerr_pop(&e);
	jsonerr_pop(&e);
	jsonerr_pop(&e);
	/* Known keys, and the first unknown one, its control byte made '?'. */
	ck_assert_int_eq(jsonerr_keys(&e, root, known, also), -1);
	ck_assert_str_eq(err, "f.json:3:2: c?: unknown key");
	jsonerr_pop(&e);
	ck_assert_int_eq(jsonerr_object(&e, json_object_get(root, "b"),
	    known), -1);
	ck_assert_str_eq(err, "f.json:1:1: expected an object");
	ck_assert(jsonerr_listed(also, "b"));
	ck_assert(!jsonerr_listed(NULL, "b"));
	json_decref(root);
	jsonerr_free(&e);
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
	tcase_add_test(tc, test_fingerprint_equal);
	tcase_add_loop_test(tc, test_fingerprint_change, 0,
	    (int)nitems(fp_changes));
	tcase_add_test(tc, test_fingerprint_moved);
	tcase_add_test(tc, test_walk);
	tcase_add_test(tc, test_names);
	tcase_add_loop_test(tc, test_bad, 0, (int)nitems(bad));
	tcase_add_test(tc, test_error_buffer);
	tcase_add_test(tc, test_not_terminated);
	tcase_add_test(tc, test_load_missing);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_implicit);
	tcase_add_loop_test(tc, test_command_check, 0, (int)nitems(commands));
	tcase_add_test(tc, test_demo_config);
	tcase_add_test(tc, test_too_many_flags);
	tcase_add_test(tc, test_jsonpos);
	tcase_add_test(tc, test_jsonerr);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(config_suite)
