/*
 * check_config_load.c: config_load(), which reads a warden.json file and,
 * unlike config_parse(), looks at the files it names: a command must be
 * a file the worker's user may execute, through folders that user may
 * search.
 */
#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "util.h"
#include "suite.h"

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

/*
 * Load dir/w.json, whose worker w runs cmd (@: dir) with more keys: it
 * must be refused with err (@: dir) at command[0], or accepted when err
 * is NULL. From the text alone, config_parse() accepts it either way.
 */
static void
command_expect(const char *dir, const char *what, const char *cmd_at,
    const char *more, const char *err_at)
{
	struct config	*conf = NULL;
	char		*path, *text, *cmd, *want, *p;
	char		 err[PATH_MAX + 1024];
	int		 col;

	cmd = at_dir(cmd_at, dir);
	xasprintf(&text, "{\"supervisor\": {\"children\": [\n"
	    " {\"name\": \"fine\", \"command\": [\"sh\"]},\n"
	    " {\"name\": \"w\", \"command\": [\"%s\", \"-x\"]%s}]}}\n", cmd,
	    more);
	xasprintf(&path, "%s/w.json", dir);
	write_file(path, text);
	err[0] = '\0';
	if (err_at == NULL) {
		ck_assert_msg(config_load(path, &conf, err, sizeof(err)) == 0,
		    "%s: %s", what, err);
		config_free(conf);
	} else {
		ck_assert_msg(config_load(path, &conf, err, sizeof(err)) == -1,
		    "%s: accepted", what);
		ck_assert_ptr_null(conf);
		col = (int)strlen(" {\"name\": \"w\", \"command\": [") + 1;
		p = at_dir(err_at, dir);
		xasprintf(&want, "%s:3:%d: supervisor.children[1].command[0]: "
		    "%s", path, col, p);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0,
		    "%s:\n  got  \"%s\"\n  want \"%s\"", what, err, want);
		free(want);
		free(p);
	}
	ck_assert_msg(config_parse(text, strlen(text), path, &conf, err,
	    sizeof(err)) == 0, "%s: %s", what, err);
	config_free(conf);
	free(text);
	free(cmd);
	free(path);
}

/* rm -r dir, and free it. */
static void
remove_dir(char *dir)
{
	char	*cmd;

	xasprintf(&cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(dir);
}

START_TEST(test_command_check)
{
	char	*dir, *f;

	if (getpwnam("nobody") == NULL)
		return;		/* nothing to run as */
	/* mkdtemp's 0700 would keep nobody out of every file in it. */
	dir = make_dir();
	ck_assert_int_eq(chmod(dir, 0755), 0);
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
	command_expect(dir, commands[_i].what, commands[_i].cmd,
	    commands[_i].more, commands[_i].err);
	remove_dir(dir);
}
END_TEST

/*
 * exec needs search permission on every folder of the path, for the user
 * the worker runs as: a command in a folder only root may enter is
 * refused for user nobody, at the first such folder; root needs no bit.
 */
static const struct {
	const char	*what;
	mode_t		 mode;		/* of @/x */
	const char	*more;
	const char	*err;		/* after "command[0]: "; NULL: ok */
} folders[] = {
	{ "folder 0700, user nobody", 0700, ", \"user\": \"nobody\"",
	    "@/x/bin/wtest-cmd: the folder @/x is not searchable by user "
	    "nobody" },
	/* A link is followed: the folders of what it points to count. */
	{ "link into folder 0700, user nobody", 0700,
	    ", \"user\": \"nobody\"",
	    "@/link: the folder @/x is not searchable by user nobody" },
	{ "folder 0755, user nobody", 0755, ", \"user\": \"nobody\"", NULL },
	{ "folder 0700, warden's user (root)", 0700, "", NULL },
	{ "folder 0711, user nobody", 0711, ", \"user\": \"nobody\"", NULL },
	{ "folder 0700, in PATH, user nobody", 0700, ", \"user\": \"nobody\"",
	    "wtest-cmd: not found in PATH" },
};

START_TEST(test_command_folder)
{
	char	*dir, *f, *path, *old = NULL;
	int	 in_path = strstr(folders[_i].what, "PATH") != NULL;

	if (geteuid() != 0) {
		fprintf(stderr, "%s: not root: the folder of a command another "
		    "user runs; skipped\n", folders[_i].what);
		return;
	}
	if (getpwnam("nobody") == NULL) {
		fprintf(stderr, "%s: no user nobody; skipped\n",
		    folders[_i].what);
		return;
	}
	dir = make_dir();
	ck_assert_int_eq(chmod(dir, 0755), 0);
	xasprintf(&f, "%s/x", dir);
	ck_assert_int_eq(mkdir(f, 0755), 0);
	free(f);
	xasprintf(&f, "%s/x/bin", dir);
	ck_assert_int_eq(mkdir(f, 0755), 0);
	free(f);
	xasprintf(&f, "%s/x/bin/wtest-cmd", dir);
	write_exec(f, "#!/bin/sh\nexit 0\n", 0755);
	free(f);
	xasprintf(&f, "%s/link", dir);
	ck_assert_int_eq(symlink("x/bin/wtest-cmd", f), 0);
	free(f);
	xasprintf(&f, "%s/x", dir);
	ck_assert_int_eq(chmod(f, folders[_i].mode), 0);
	free(f);
	if (in_path) {
		/* execvp goes past an entry it may not search. */
		if (getenv("PATH") != NULL)
			old = xstrdup(getenv("PATH"));
		xasprintf(&path, "%s/x/bin:/bin:/usr/bin", dir);
		ck_assert_int_eq(setenv("PATH", path, 1), 0);
		free(path);
	}
	command_expect(dir, folders[_i].what,
	    in_path ? "wtest-cmd" : strstr(folders[_i].what, "link") != NULL ?
	    "@/link" : "@/x/bin/wtest-cmd",
	    folders[_i].more, folders[_i].err);
	if (in_path) {
		/* Put back for a run without fork (CK_FORK=no). */
		ck_assert_int_eq(old != NULL ? setenv("PATH", old, 1) :
		    unsetenv("PATH"), 0);
		free(old);
	}
	remove_dir(dir);
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

static Suite *
config_load_suite(void)
{
	Suite	*s = suite_create("config_load");
	TCase	*tc = tcase_create("config_load");

	tcase_add_test(tc, test_load_missing);
	tcase_add_test(tc, test_load_file);
	tcase_add_loop_test(tc, test_command_check, 0, (int)nitems(commands));
	tcase_add_loop_test(tc, test_command_folder, 0, (int)nitems(folders));
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(config_load_suite)
