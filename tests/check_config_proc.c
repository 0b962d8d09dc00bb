/*
 * check_config_proc.c: a worker's autostart, env_file, umask and rlimits
 * (config-proc.c): what a good value becomes, the one line of error each
 * bad one gives (file:line:col, the key, what is wrong; for a bad env
 * file also its path and line), and which of them a fingerprint holds.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "util.h"
#include "configtest.h"
#include "suite.h"

/* A worker "w" with the given keys after its command, ' for ". */
static char *
cp_text(const char *keys)
{
	char	*t, *p;

	xasprintf(&t, "{'supervisor': {'children': [{'name': 'w', "
	    "'command': ['/bin/w']%s%s}]}}", keys[0] != '\0' ? ", " : "", keys);
	for (p = t; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

static char *
cp_dir(void)
{
	char	*dir = xstrdup("/tmp/check_config_proc.XXXXXX");

	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static void
cp_write(const char *dir, const char *name, const char *text, size_t len)
{
	char	*path;
	int	 fd;

	xasprintf(&path, "%s/%s", dir, name);
	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0644), -1);
	ck_assert_int_eq(util_write_all(fd, text, len), 0);
	ck_assert_int_eq(close(fd), 0);
	free(path);
}

static void
cp_rmdir(char *dir)
{
	char	*cmd;

	xasprintf(&cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(dir);
}

/* Parse keys for w in a config at dir/w.json: 0 or -1 with err. */
static int
cp_parse(const char *dir, const char *keys, struct config **conf, char *err,
    size_t errlen)
{
	char	*text = cp_text(keys), *file;
	int	 rv;

	xasprintf(&file, "%s/w.json", dir);
	rv = config_parse(text, strlen(text), file, conf, err, errlen);
	free(file);
	free(text);
	return rv;
}

START_TEST(test_proc_defaults)
{
	struct config		*conf;
	struct child_conf	*w;
	char			*text = cp_text("");

	conf = configtest_parse("/etc/w/w.json", text);
	w = configtest_service(conf, "w");
	ck_assert(w->autostart);
	ck_assert_ptr_null(w->env_file);
	ck_assert_uint_eq(w->nfile_env, 0);
	ck_assert_int_eq(w->umask, -1);
	ck_assert_uint_eq(w->nrlimits, 0);
	ck_assert_int_eq(w->watchdog_ms, 0);
	config_free(conf);
	free(text);
}
END_TEST

START_TEST(test_proc_good)
{
	struct config		*conf;
	struct child_conf	*w;
	char			*text;

	text = cp_text("'autostart': false, 'umask': '027', 'rlimits': "
	    "{'stack': [1024, 'infinity'], 'nofile': 4096, 'core': 0, "
	    "'nproc': [100, 200], 'as': 'infinity', 'cpu': 1e3}");
	conf = configtest_parse("/etc/w/w.json", text);
	w = configtest_service(conf, "w");
	ck_assert(!w->autostart);
	ck_assert_int_eq(w->umask, 027);
	/* In the table's order, not the text's. */
	ck_assert_uint_eq(w->nrlimits, 6);
	ck_assert_str_eq(w->rlimits[0].name, "as");
	ck_assert_int_eq(w->rlimits[0].resource, RLIMIT_AS);
	ck_assert(w->rlimits[0].soft == RLIM_INFINITY);
	ck_assert(w->rlimits[0].hard == RLIM_INFINITY);
	ck_assert_str_eq(w->rlimits[1].name, "core");
	ck_assert(w->rlimits[1].soft == 0 && w->rlimits[1].hard == 0);
	ck_assert_str_eq(w->rlimits[2].name, "cpu");
	ck_assert(w->rlimits[2].soft == 1000 && w->rlimits[2].hard == 1000);
	ck_assert_str_eq(w->rlimits[3].name, "nofile");
	ck_assert_int_eq(w->rlimits[3].resource, RLIMIT_NOFILE);
	ck_assert(w->rlimits[3].soft == 4096 && w->rlimits[3].hard == 4096);
	ck_assert_str_eq(w->rlimits[4].name, "nproc");
	ck_assert(w->rlimits[4].soft == 100 && w->rlimits[4].hard == 200);
	ck_assert_str_eq(w->rlimits[5].name, "stack");
	ck_assert(w->rlimits[5].soft == 1024);
	ck_assert(w->rlimits[5].hard == RLIM_INFINITY);
	config_free(conf);
	free(text);

	text = cp_text("'ready': 'notify', 'watchdog_ms': 10");
	conf = configtest_parse("/etc/w/w.json", text);
	ck_assert_int_eq(configtest_service(conf, "w")->watchdog_ms, 10);
	config_free(conf);
	free(text);

	text = cp_text("'umask': '0000', 'autostart': true, 'rlimits': {}");
	conf = configtest_parse("/etc/w/w.json", text);
	w = configtest_service(conf, "w");
	ck_assert(w->autostart);
	ck_assert_int_eq(w->umask, 0);
	ck_assert_uint_eq(w->nrlimits, 0);
	config_free(conf);
	free(text);
}
END_TEST

/* Bad values: the keys for w, and the error after "conf/bad.json:1:". */
static const struct {
	const char	*keys;
	const char	*err;
} cp_bad[] = {
	{ "'autostart': 'no'", "80: supervisor.children[0].autostart: "
	    "expected true or false" },
	{ "'autostart': 0", "80: supervisor.children[0].autostart: "
	    "expected true or false" },
	{ "'autostart': null", "80: supervisor.children[0].autostart: "
	    "expected true or false" },
	{ "'umask': '999'", "76: supervisor.children[0].umask: expected a "
	    "string of octal digits like \"0027\"" },
	{ "'umask': 'abc'", "76: supervisor.children[0].umask: expected a "
	    "string of octal digits like \"0027\"" },
	{ "'umask': ''", "76: supervisor.children[0].umask: expected a "
	    "string of octal digits like \"0027\"" },
	{ "'umask': 27", "76: supervisor.children[0].umask: expected a "
	    "string of octal digits like \"0027\"" },
	{ "'umask': '0o27'", "76: supervisor.children[0].umask: expected a "
	    "string of octal digits like \"0027\"" },
	{ "'umask': '1000'", "76: supervisor.children[0].umask: must be at "
	    "most \"0777\"" },
	{ "'umask': '00000000000000000000001777'", "76: "
	    "supervisor.children[0].umask: must be at most \"0777\"" },
	{ "'watchdog_ms': 1000", "82: supervisor.children[0].watchdog_ms: "
	    "needs \"ready\": \"notify\": WATCHDOG=1 comes over the "
	    "NOTIFY_SOCKET" },
	{ "'ready': 'fd', 'watchdog_ms': 1000", "97: "
	    "supervisor.children[0].watchdog_ms: needs \"ready\": \"notify\": "
	    "WATCHDOG=1 comes over the NOTIFY_SOCKET" },
	{ "'ready': 'notify', 'watchdog_ms': 9", "101: "
	    "supervisor.children[0].watchdog_ms: expected an integer from 10 to "
	    "86400000" },
	{ "'ready': 'notify', 'watchdog_ms': 86400001", "101: "
	    "supervisor.children[0].watchdog_ms: expected an integer from 10 to "
	    "86400000" },
	{ "'ready': 'notify', 'watchdog_ms': '1s'", "101: "
	    "supervisor.children[0].watchdog_ms: expected an integer" },
	{ "'rlimits': 5", "78: supervisor.children[0].rlimits: expected an "
	    "object" },
	{ "'rlimits': {'core': 0, 'files': 10}", "90: "
	    "supervisor.children[0].rlimits.files: unknown limit: one of as, "
	    "core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, "
	    "nproc, rss, rtprio, rttime, sigpending, stack" },
	{ "'rlimits': {'NOFILE': 10}", "79: "
	    "supervisor.children[0].rlimits.NOFILE: unknown limit: one of as, "
	    "core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, "
	    "nproc, rss, rtprio, rttime, sigpending, stack" },
	{ "'rlimits': {'nproc': [200, 100]}", "88: "
	    "supervisor.children[0].rlimits.nproc: the soft limit is above "
	    "the hard limit" },
	{ "'rlimits': {'nproc': ['infinity', 100]}", "88: "
	    "supervisor.children[0].rlimits.nproc: the soft limit is above "
	    "the hard limit" },
	{ "'rlimits': {'nofile': -1}", "89: "
	    "supervisor.children[0].rlimits.nofile: expected an integer >= 0 "
	    "or \"infinity\"" },
	{ "'rlimits': {'nofile': [1, -2]}", "93: "
	    "supervisor.children[0].rlimits.nofile[1]: expected an integer "
	    ">= 0 or \"infinity\"" },
	{ "'rlimits': {'nofile': 'many'}", "89: "
	    "supervisor.children[0].rlimits.nofile: expected an integer >= 0 "
	    "or \"infinity\"" },
	{ "'rlimits': {'nofile': '4096'}", "89: "
	    "supervisor.children[0].rlimits.nofile: expected an integer >= 0 "
	    "or \"infinity\"" },
	{ "'rlimits': {'nofile': 1.5}", "89: "
	    "supervisor.children[0].rlimits.nofile: expected an integer >= 0 "
	    "or \"infinity\"" },
	{ "'rlimits': {'nofile': true}", "89: "
	    "supervisor.children[0].rlimits.nofile: expected an integer >= 0 "
	    "or \"infinity\"" },
	{ "'rlimits': {'nofile': [1]}", "89: "
	    "supervisor.children[0].rlimits.nofile: expected [soft, hard]" },
	{ "'rlimits': {'nofile': [1, 2, 3]}", "89: "
	    "supervisor.children[0].rlimits.nofile: expected [soft, hard]" },
	{ "'env_file': ''", "79: supervisor.children[0].env_file: must not "
	    "be empty" },
	{ "'env_file': ['a.env']", "79: supervisor.children[0].env_file: "
	    "expected a string" },
};

START_TEST(test_proc_bad)
{
	struct config	*conf = (struct config *)&conf;
	char		*text = cp_text(cp_bad[_i].keys), err[1024], *want;

	xasprintf(&want, "conf/bad.json:1:%s", cp_bad[_i].err);
	ck_assert_int_eq(config_parse(text, strlen(text), "conf/bad.json",
	    &conf, err, sizeof(err)), -1);
	ck_assert_ptr_null(conf);
	ck_assert_msg(strcmp(err, want) == 0, "%s:\n  got  \"%s\"\n  want "
	    "\"%s\"", cp_bad[_i].keys, err, want);
	free(want);
	free(text);
}
END_TEST

/* A supervisor has no process: the keys are a worker's. */
START_TEST(test_proc_not_supervisor)
{
	static const char	 text[] = "{\"supervisor\": {\"children\": "
	    "[{\"name\": \"s\", \"autostart\": false, \"children\": []}]}}";
	struct config		*conf;
	char			 err[512];

	ck_assert_int_eq(config_parse(text, strlen(text), "conf/bad.json",
	    &conf, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "conf/bad.json:1:44: "
	    "supervisor.children[0].autostart: unknown key");
}
END_TEST

START_TEST(test_env_file_good)
{
	static const char	 file[] =
	    "# the app's settings\n"
	    "\n"
	    "PLAIN=one two  \n"
	    "  export EXPORTED=yes\n"
	    "export\tTABBED=1\n"
	    "DQ=\"  spaced  $HOME \\n\"\n"
	    "SQ='it \"quoted\"'\n"
	    "EMPTY=\n"
	    "EQUALS=a=b=c\r\n"
	    "PLAIN=two\n"
	    "export=not a keyword here\n"
	    "   # indented comment\n"
	    "LAST=no newline";
	struct config		*conf;
	struct child_conf	*w;
	char			*dir = cp_dir(), err[1024];
	size_t			 i;
	static const char *const want[][2] = {
		{ "PLAIN", "two" }, { "EXPORTED", "yes" }, { "TABBED", "1" },
		{ "DQ", "  spaced  $HOME \\n" }, { "SQ", "it \"quoted\"" },
		{ "EMPTY", "" }, { "EQUALS", "a=b=c" },
		{ "export", "not a keyword here" }, { "LAST", "no newline" },
	};

	cp_write(dir, "app.env", file, strlen(file));
	ck_assert_msg(cp_parse(dir, "'env_file': 'sub/../app.env'", &conf, err,
	    sizeof(err)) == 0, "%s", err);
	w = configtest_service(conf, "w");
	ck_assert_ptr_nonnull(w->env_file);
	ck_assert(strncmp(w->env_file, dir, strlen(dir)) == 0 &&
	    strcmp(w->env_file + strlen(dir), "/app.env") == 0);
	ck_assert_uint_eq(w->nfile_env, nitems(want));
	for (i = 0; i < nitems(want); i++) {
		ck_assert_str_eq(w->file_env[i].key, want[i][0]);
		ck_assert_str_eq(w->file_env[i].value, want[i][1]);
	}
	config_free(conf);

	/* An empty file is no variables. */
	cp_write(dir, "empty.env", "", 0);
	ck_assert_msg(cp_parse(dir, "'env_file': 'empty.env'", &conf, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(configtest_service(conf, "w")->nfile_env, 0);
	config_free(conf);
	cp_rmdir(dir);
}
END_TEST

/* Bad env files: the content, and the error after "PATH:". */
static const struct {
	const char	*text;
	size_t		 len;	/* 0: strlen */
	const char	*err;
} cp_bad_file[] = {
	{ "A=1\nno equals here\n", 0, "2: no '=' (expected KEY=VALUE)" },
	{ "A=1\n\n1X=2\n", 0, "3: invalid variable name '1X': letters, "
	    "digits and '_', not starting with a digit" },
	{ "A-B=2\n", 0, "1: invalid variable name 'A-B': letters, digits "
	    "and '_', not starting with a digit" },
	{ "A =2\n", 0, "1: invalid variable name 'A ': letters, digits "
	    "and '_', not starting with a digit" },
	{ "A\rB=1\n\xc3\xa9=2\n", 0, "1: invalid variable name 'A?B': "
	    "letters, digits and '_', not starting with a digit" },
	{ "A=1\n\xc3\xa9=2\n", 0, "2: invalid variable name '?" "?': "
	    "letters, digits and '_', not starting with a digit" },
	{ "=2\n", 0, "1: invalid variable name '': letters, digits and "
	    "'_', not starting with a digit" },
	{ "export =2\n", 0, "1: invalid variable name '': letters, digits "
	    "and '_', not starting with a digit" },
	{ "A=1\nB=x\0y\n", 10, "2: a NUL byte" },
	{ "A=\"open\n", 0, "1: a value in double quotes must be the rest of "
	    "the line and hold no other" },
	{ "A='a'b'\n", 0, "1: a value in single quotes must be the rest of "
	    "the line and hold no other" },
	{ "A=\"\n", 0, "1: a value in double quotes must be the rest of "
	    "the line and hold no other" },
};

START_TEST(test_env_file_bad)
{
	struct config	*conf = (struct config *)&conf;
	char		*dir = cp_dir(), err[1024], *want;
	size_t		 len = cp_bad_file[_i].len;

	cp_write(dir, "app.env", cp_bad_file[_i].text, len != 0 ? len :
	    strlen(cp_bad_file[_i].text));
	ck_assert_int_eq(cp_parse(dir, "'env_file': 'app.env'", &conf, err,
	    sizeof(err)), -1);
	ck_assert_ptr_null(conf);
	xasprintf(&want, "%s/w.json:1:79: supervisor.children[0].env_file: "
	    "%s/app.env:%s", dir, dir, cp_bad_file[_i].err);
	ck_assert_msg(strcmp(err, want) == 0, "\n  got  \"%s\"\n  want \"%s\"",
	    err, want);
	free(want);
	cp_rmdir(dir);
}
END_TEST

/* A file missing, a folder, a FIFO, one over 1 MiB: named, with what is wrong. */
START_TEST(test_env_file_unreadable)
{
	struct config	*conf = (struct config *)&conf;
	char		*dir = cp_dir(), err[1024], *want, *big, *sub;

	ck_assert_int_eq(cp_parse(dir, "'env_file': 'missing.env'", &conf, err,
	    sizeof(err)), -1);
	ck_assert_ptr_null(conf);
	xasprintf(&want, "%s/w.json:1:79: supervisor.children[0].env_file: "
	    "%s/missing.env: No such file or directory", dir, dir);
	ck_assert_str_eq(err, want);
	free(want);

	xasprintf(&sub, "%s/folder.env", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	free(sub);
	ck_assert_int_eq(cp_parse(dir, "'env_file': 'folder.env'", &conf, err,
	    sizeof(err)), -1);
	xasprintf(&want, "%s/w.json:1:79: supervisor.children[0].env_file: "
	    "%s/folder.env: not a regular file", dir, dir);
	ck_assert_str_eq(err, want);
	free(want);

	/* A FIFO with no writer would block the open: not waited for. */
	xasprintf(&sub, "%s/fifo.env", dir);
	ck_assert_int_eq(mkfifo(sub, 0644), 0);
	free(sub);
	ck_assert_int_eq(cp_parse(dir, "'env_file': 'fifo.env'", &conf, err,
	    sizeof(err)), -1);
	xasprintf(&want, "%s/w.json:1:79: supervisor.children[0].env_file: "
	    "%s/fifo.env: not a regular file", dir, dir);
	ck_assert_str_eq(err, want);
	free(want);

	/* 1 MiB exactly is read; one byte more is not. */
	big = xmalloc(CONFIG_ENV_FILE_MAX + 1);
	memset(big, '#', CONFIG_ENV_FILE_MAX + 1);
	cp_write(dir, "big.env", big, CONFIG_ENV_FILE_MAX);
	ck_assert_msg(cp_parse(dir, "'env_file': 'big.env'", &conf, err,
	    sizeof(err)) == 0, "%s", err);
	config_free(conf);
	cp_write(dir, "big.env", big, CONFIG_ENV_FILE_MAX + 1);
	ck_assert_int_eq(cp_parse(dir, "'env_file': 'big.env'", &conf, err,
	    sizeof(err)), -1);
	xasprintf(&want, "%s/w.json:1:79: supervisor.children[0].env_file: "
	    "%s/big.env: larger than 1 MiB (1048576 bytes)", dir, dir);
	ck_assert_str_eq(err, want);
	free(want);
	free(big);
	cp_rmdir(dir);
}
END_TEST

/*
 * A reexec's parse: the env files from what config_env_files() gave, not
 * from the disk; none at all for the check of the text alone.
 */
START_TEST(test_env_file_handover)
{
	struct config		*conf, *next;
	struct child_conf	*w;
	json_t			*files, *bad;
	char			*dir = cp_dir(), *text, *file, *path, err[1024];
	char			*want;

	cp_write(dir, "app.env", "A=\xff\n", 4);
	ck_assert_msg(cp_parse(dir, "'env_file': 'app.env'", &conf, err,
	    sizeof(err)) == 0, "%s", err);
	files = config_env_files(conf);
	cp_write(dir, "app.env", "A=changed\n", 10);
	xasprintf(&file, "%s/w.json", dir);
	text = cp_text("'env_file': 'app.env'");
	ck_assert_msg(config_parse_handover(text, strlen(text), file, files,
	    &next, err, sizeof(err)) == 0, "%s", err);
	w = configtest_service(next, "w");
	ck_assert_uint_eq(w->nfile_env, 1);
	ck_assert_str_eq(w->file_env[0].value, "\xff");
	ck_assert_str_eq(w->fingerprint, configtest_service(conf,
	    "w")->fingerprint);
	config_free(next);

	/* The check: the text alone, whatever the disk holds. */
	xasprintf(&path, "%s/app.env", dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_msg(config_parse_handover(text, strlen(text), file, NULL,
	    &next, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(configtest_service(next, "w")->nfile_env, 0);
	config_free(next);

	/* A file the handover lacks, or holds as no hex: an error. */
	bad = json_object();
	ck_assert_int_eq(config_parse_handover(text, strlen(text), file, bad,
	    &next, err, sizeof(err)), -1);
	xasprintf(&want, "%s:1:79: supervisor.children[0].env_file: %s: not "
	    "in the handover", file, path);
	ck_assert_str_eq(err, want);
	free(want);
	json_object_set_new(bad, path, json_string("41zz"));
	ck_assert_int_eq(config_parse_handover(text, strlen(text), file, bad,
	    &next, err, sizeof(err)), -1);
	xasprintf(&want, "%s:1:79: supervisor.children[0].env_file: %s: its "
	    "content in the handover is not hex of at most 1 MiB", file, path);
	ck_assert_str_eq(err, want);
	free(want);
	json_decref(bad);
	json_decref(files);
	config_free(conf);
	free(path);
	free(text);
	free(file);
	cp_rmdir(dir);
}
END_TEST

/* w's fingerprint for keys, config at dir/w.json; malloc'd. */
static char *
cp_fp(const char *dir, const char *keys)
{
	struct config	*conf;
	char		 err[1024], *fp;

	ck_assert_msg(cp_parse(dir, keys, &conf, err, sizeof(err)) == 0, "%s",
	    err);
	fp = xstrdup(configtest_service(conf, "w")->fingerprint);
	config_free(conf);
	return fp;
}

/*
 * What runs is in the fingerprint: the env file's variables (not its
 * name), the umask, each limit. autostart is not: it changes what warden
 * does, not the process.
 */
START_TEST(test_proc_fingerprint)
{
	char	*dir = cp_dir(), *base, *fp;

	cp_write(dir, "a.env", "A=1\nB=2\n", 8);
	cp_write(dir, "b.env", "# same\nB=2\nA=1\n", 15);
	base = cp_fp(dir, "'env_file': 'a.env', 'umask': '027', "
	    "'rlimits': {'nofile': 100}");
	fp = cp_fp(dir, "'env_file': 'b.env', 'umask': '0027', "
	    "'rlimits': {'nofile': [100, 100]}, 'autostart': false");
	ck_assert_str_eq(base, fp);
	free(fp);

	cp_write(dir, "b.env", "B=2\nA=one\n", 10);
	fp = cp_fp(dir, "'env_file': 'b.env', 'umask': '027', "
	    "'rlimits': {'nofile': 100}");
	ck_assert_str_ne(base, fp);
	free(fp);
	fp = cp_fp(dir, "'env_file': 'a.env', 'umask': '077', "
	    "'rlimits': {'nofile': 100}");
	ck_assert_str_ne(base, fp);
	free(fp);
	fp = cp_fp(dir, "'env_file': 'a.env', 'umask': '027', "
	    "'rlimits': {'nofile': [100, 101]}");
	ck_assert_str_ne(base, fp);
	free(fp);
	fp = cp_fp(dir, "'env_file': 'a.env', 'umask': '027', "
	    "'rlimits': {'nofile': 100, 'core': 0}");
	ck_assert_str_ne(base, fp);
	free(fp);
	/* The same variables in env instead are another setting. */
	fp = cp_fp(dir, "'env': {'A': '1', 'B': '2'}, 'umask': '027', "
	    "'rlimits': {'nofile': 100}");
	ck_assert_str_ne(base, fp);
	free(fp);
	free(base);

	/* The watchdog is in its environment (WATCHDOG_USEC). */
	base = cp_fp(dir, "'ready': 'notify'");
	fp = cp_fp(dir, "'ready': 'notify', 'watchdog_ms': 500");
	ck_assert_str_ne(base, fp);
	free(fp);
	free(base);

	/* None of the keys: the fingerprint of before they existed. */
	base = cp_fp(dir, "");
	ck_assert_ptr_null(strstr(base, "umask"));
	ck_assert_ptr_null(strstr(base, "rlimit"));
	ck_assert_ptr_null(strstr(base, "env_file"));
	ck_assert_ptr_null(strstr(base, "watchdog"));
	free(base);
	cp_rmdir(dir);
}
END_TEST

static Suite *
config_proc_suite(void)
{
	Suite	*s = suite_create("config_proc");
	TCase	*tc = tcase_create("config_proc");

	tcase_add_test(tc, test_proc_defaults);
	tcase_add_test(tc, test_proc_good);
	tcase_add_loop_test(tc, test_proc_bad, 0, (int)nitems(cp_bad));
	tcase_add_test(tc, test_proc_not_supervisor);
	tcase_add_test(tc, test_env_file_good);
	tcase_add_loop_test(tc, test_env_file_bad, 0, (int)nitems(cp_bad_file));
	tcase_add_test(tc, test_env_file_unreadable);
	tcase_add_test(tc, test_env_file_handover);
	tcase_add_test(tc, test_proc_fingerprint);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(config_proc_suite)
