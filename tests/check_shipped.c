/*
 * check_shipped.c: the configurations conf/ ships, as warden reads them.
 * The other suites never read them: they write their own fixtures, so
 * that editing conf/warden.json as the README's tour suggests breaks none
 * of them. This one checks what is shipped:
 *
 * - conf/warden.json, the demo, is accepted by `warden -n`, and is what
 *   tests/drills-demo.json (the copy check_drills_live.c runs the shipped
 *   drills on) says it is. Only while the file is as committed: once it
 *   was edited (git says so, or there is no git to ask and it differs from
 *   the copy), it is no longer what was shipped, and the test says so and
 *   checks nothing. A demo changed in git fails here until the copy
 *   follows it.
 * - conf/warden.system.json, the configuration `make install` installs,
 *   with its placeholders filled in as install fills them, is accepted by
 *   `warden -n` (check_install checks it installed, too).
 *
 * The suite runs from the top of the source tree, as make check runs it.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "testlib.h"
#include "util.h"
#include "suite.h"

#define T_CASE		30	/* failure bound of one test, s */
#define T_RUN		10000	/* failure bound of git, warden -n, ms */
#define DEMO_CONF	"conf/warden.json"
#define DEMO_COPY	"tests/drills-demo.json"
#define SYSTEM_CONF	"conf/warden.system.json"
/* The folder of the demo's programs, relative to conf/, and in the copy. */
#define DEMO_BIN	"../bin/"
#define COPY_BIN	"@BIN@/"

/* A folder of nothing, to run programs from. */
static const char conf_none[] = "{ 'supervisor': { 'children': [] } }";

/* A whole file of the source tree, malloc'd. */
static char *
source_file(const char *path)
{
	char	*text = harness_read_file(path);

	ck_assert_msg(text != NULL, "%s: %s (run from the top of the source "
	    "tree)", path, strerror(errno));
	return text;
}

/* `warden -n -c DIR/name`, which must accept it. */
static void
expect_valid(struct harness *h, const char *name, const char *what)
{
	const char	*argv[] = { "warden", "-n", "-c", NULL, NULL };
	char		*path, *out = NULL, *err = NULL;
	int		 rc;

	argv[3] = path = harness_path(h, name);
	rc = harness_run(h, argv, &out, &err, T_RUN);
	ck_assert_msg(rc == 0 && strstr(out, ": ok") != NULL,
	    "warden -n refuses %s: exit %d\n%s%s", what, rc, out, err);
	free(path);
	free(out);
	free(err);
}

/* DIR/name, a link to target. */
static void
link_in(struct harness *h, const char *name, const char *target)
{
	char	*path = harness_path(h, name);

	ck_assert_msg(symlink(target, path) == 0, "symlink %s: %s", path,
	    strerror(errno));
	free(path);
}

/* --- the demo ------------------------------------------------------------- */

/* A demo program in argv (demo-worker, demo-flagwatch): the built one. */
static void
demo_argv_as_copy(json_t *argv)
{
	const char	*cmd = json_string_value(json_array_get(argv, 0));
	char		*copy;

	if (cmd == NULL || strncmp(cmd, DEMO_BIN, strlen(DEMO_BIN)) != 0)
		return;
	xasprintf(&copy, "%s%s", COPY_BIN, cmd + strlen(DEMO_BIN));
	ck_assert_int_eq(json_array_set_new(argv, 0, json_string(copy)), 0);
	free(copy);
}

/*
 * The demo as the copy has it: no socket, state_dir or table, and the
 * built demo programs in the commands (and exec probes) of sup's tree.
 */
static void
demo_as_copy(json_t *root, json_t *sup)
{
	json_t	*child, *cmd;
	size_t	 i;

	if (root != NULL) {
		(void)json_object_del(root, "socket");
		(void)json_object_del(root, "state_dir");
		(void)json_object_del(root, "table");
		sup = json_object_get(root, "supervisor");
	}
	json_array_foreach(json_object_get(sup, "children"), i, child) {
		cmd = json_object_get(child, "command");
		if (cmd == NULL) {
			demo_as_copy(NULL, child);
			continue;
		}
		demo_argv_as_copy(cmd);
		demo_argv_as_copy(json_object_get(json_object_get(child,
		    "health"), "exec"));
	}
}

/*
 * Has conf/warden.json changed since it was committed? 0: no, 1: yes,
 * -1: git cannot tell (no git, no checkout, another user's checkout, a
 * file git does not track).
 */
static int
demo_edited(struct harness *h)
{
	static const char *const argv[] = { "git", "--no-optional-locks",
	    "status", "--porcelain", "--", DEMO_CONF, NULL };
	char	*out = NULL, *err = NULL;
	int	 rc, edited = -1;

	rc = harness_run(h, argv, &out, &err, T_RUN);
	if (rc == 0 && out != NULL) {
		if (*out == '\0')
			edited = 0;
		else if (strncmp(out, "??", 2) != 0 &&
		    strncmp(out, "!!", 2) != 0)
			edited = 1;
	}
	free(out);
	free(err);
	return edited;
}

/*
 * The demo as shipped, in DIR/conf/warden.json with DIR/bin the build's
 * binaries: its "../bin/demo-worker" is the one built.
 */
static void
demo_valid(struct harness *h)
{
	char	*text = source_file(DEMO_CONF), *conf;

	conf = harness_path(h, "conf");
	ck_assert_int_eq(mkdir(conf, 0755), 0);
	free(conf);
	link_in(h, "bin", h->bindir);
	ck_assert_int_eq(harness_write_file(h, "conf/warden.json", text), 0);
	expect_valid(h, "conf/warden.json", DEMO_CONF);
	free(text);
}

START_TEST(test_demo_as_shipped)
{
	struct harness	 h;
	json_error_t	 jerr;
	json_t		*shipped, *copy;
	char		*text;
	int		 edited;

	prepare(&h, conf_none);
	text = source_file(DEMO_COPY);
	copy = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(copy != NULL, "%s:%d:%d: %s", DEMO_COPY, jerr.line,
	    jerr.column, jerr.text);
	free(text);
	shipped = json_load_file(DEMO_CONF, JSON_REJECT_DUPLICATES, &jerr);
	if (shipped != NULL)
		demo_as_copy(shipped, NULL);
	if (shipped != NULL && json_equal(shipped, copy))
		demo_valid(&h);
	else {
		edited = demo_edited(&h);
		ck_assert_msg(edited != 0, "%s as committed is not %s, the copy "
		    "the shipped drills run on (check_drills_live): make the "
		    "copy follow it, and the drills if they must", DEMO_CONF,
		    DEMO_COPY);
		printf("%s %s: not checked\n", DEMO_CONF, edited == 1 ?
		    "was edited since it was committed" : "differs from "
		    DEMO_COPY " and git cannot tell whether it was edited");
		fflush(stdout);
	}
	json_decref(shipped);
	json_decref(copy);
	harness_cleanup(&h);
}
END_TEST

/* --- the system configuration --------------------------------------------- */

/*
 * As `make install PREFIX=/usr` writes it (the Makefile's INST_SED), with
 * the libexec folder in DIR, where warden/demo-worker is the one built.
 */
START_TEST(test_system_valid)
{
	struct harness	 h;
	const char	*from[] = { "@BINDIR@", "@SYSCONFDIR@", "@LIBEXECDIR@" };
	const char	*to[] = { "/usr/bin", "/etc", NULL };
	char		*text, *t, *p, *libexec, *worker;
	size_t		 i;

	prepare(&h, conf_none);
	to[2] = libexec = harness_path(&h, "libexec");
	text = source_file(SYSTEM_CONF);
	for (i = 0; i < nitems(from); i++)
		while ((p = strstr(text, from[i])) != NULL) {
			xasprintf(&t, "%.*s%s%s", (int)(p - text), text, to[i],
			    p + strlen(from[i]));
			free(text);
			text = t;
		}
	ck_assert_msg(strchr(text, '@') == NULL, "%s: a placeholder that "
	    "make install does not fill", SYSTEM_CONF);
	ck_assert_int_eq(mkdir(libexec, 0755), 0);
	p = harness_path(&h, "libexec/warden");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	xasprintf(&worker, "%s/demo-worker", h.bindir);
	link_in(&h, "libexec/warden/demo-worker", worker);
	free(worker);
	ck_assert_int_eq(harness_write_file(&h, "warden.system.json", text), 0);
	expect_valid(&h, "warden.system.json", SYSTEM_CONF);
	free(libexec);
	free(text);
	harness_cleanup(&h);
}
END_TEST

static Suite *
shipped_suite(void)
{
	Suite	*s = suite_create("shipped");
	TCase	*tc = tcase_create("shipped");

	tcase_set_timeout(tc, T_CASE);
	tcase_add_test(tc, test_demo_as_shipped);
	tcase_add_test(tc, test_system_valid);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(shipped_suite)
