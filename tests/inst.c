/*
 * inst.c: `make install` into a DESTDIR of a test's own, and what it put
 * there (inst.h), for check_install and check_install_node.
 */
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "inst.h"
#include "util.h"

static bool
inst_is_top(const char *dir)
{
	char	p[PATH_MAX];

	if ((size_t)snprintf(p, sizeof(p), "%s/Makefile", dir) >= sizeof(p) ||
	    access(p, R_OK) != 0)
		return false;
	if ((size_t)snprintf(p, sizeof(p), "%s/src/daemon/warden.c", dir) >= sizeof(p))
		return false;
	return access(p, R_OK) == 0;
}

void
inst_init(struct inst *in, const char *conf)
{
	char	 buf[PATH_MAX], *d;
	size_t	 n;

	memset(in, 0, sizeof(*in));
	ck_assert_int_eq(harness_prepare(&in->h, conf), 0);
	ck_assert((size_t)snprintf(in->dest, sizeof(in->dest), "%s/dest",
	    in->h.dir) < sizeof(in->dest));

	/* The checkout: where tests run, else the binaries' parent. */
	if (getcwd(buf, sizeof(buf)) != NULL && inst_is_top(buf))
		snprintf(in->top, sizeof(in->top), "%s", buf);
	else {
		snprintf(buf, sizeof(buf), "%s", in->h.bindir);
		d = dirname(buf);
		ck_assert_msg(inst_is_top(d), "no checkout at %s nor in the current "
		    "folder: make install cannot run", d);
		snprintf(in->top, sizeof(in->top), "%s", d);
	}
	/* bin/ of the checkout is make's own; elsewhere, O= names it. */
	ck_assert((size_t)snprintf(buf, sizeof(buf), "%s/bin", in->top) <
	    sizeof(buf));
	if (strcmp(in->h.bindir, buf) == 0)
		in->o[0] = '\0';
	else {
		n = strlen(in->h.bindir);
		ck_assert_msg(n > 4 && strcmp(in->h.bindir + n - 4, "/bin") == 0,
		    "binaries in %s: not an O=DIR/bin of the Makefile",
		    in->h.bindir);
		n = strlen(in->top);
		if (strncmp(in->h.bindir, in->top, n) == 0 &&
		    in->h.bindir[n] == '/')
			snprintf(in->o, sizeof(in->o), "O=%.*s",
			    (int)(strlen(in->h.bindir) - n - 5),
			    in->h.bindir + n + 1);
		else
			snprintf(in->o, sizeof(in->o), "O=%.*s",
			    (int)(strlen(in->h.bindir) - 4), in->h.bindir);
	}
	/* Not the make flags of a make that runs the tests (jobserver fds). */
	unsetenv("MAKEFLAGS");
	unsetenv("MFLAGS");
	unsetenv("MAKELEVEL");
	unsetenv("MAKEOVERRIDES");
}

void
inst_done(struct inst *in)
{
	free(in->out);
	free(in->err);
	in->out = in->err = NULL;
	if (in->h.pid > 0)
		ck_assert_int_eq(harness_stop(&in->h), 0);
	harness_cleanup(&in->h);
}

/* Run argv; its exit status, output in in->out and in->err. */
int
inst_run(struct inst *in, const char *const *argv)
{
	free(in->out);
	free(in->err);
	in->out = in->err = NULL;
	return harness_run(&in->h, argv, &in->out, &in->err, RUN_MS);
}

/* SHELL -c "fmt...": sh for the commands, bash for the completion. */
int
inst_shell(struct inst *in, const char *shell, const char *fmt, ...)
{
	const char	*argv[] = { shell, "-c", NULL, NULL };
	char		*cmd;
	va_list		 ap;
	int		 rc;

	va_start(ap, fmt);
	rc = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (rc == -1)
		ck_abort_msg("vasprintf");
	argv[2] = cmd;
	rc = inst_run(in, argv);
	free(cmd);
	return rc;
}

/*
 * make -C TOP [O=...] TARGET DESTDIR=... PREFIX=... [more...]; extra is a
 * string of further assignments (paths without spaces).
 */
int
inst_make(struct inst *in, const char *target, const char *prefix,
    const char *extra)
{
	return inst_shell(in, "sh", "exec make --no-print-directory -C '%s' "
	    "%s %s DESTDIR='%s' PREFIX='%s' %s", in->top, in->o, target,
	    in->dest, prefix, extra != NULL ? extra : "");
}

/* make install, which must pass. */
void
inst_install(struct inst *in, const char *prefix, const char *extra)
{
	int	rc = inst_make(in, "install", prefix, extra);

	RUN_OK(in, rc, "make install");
}

char *
inst_dpath(struct inst *in, const char *path)
{
	static char	buf[4][PATH_MAX];
	static int	next;
	char		*b = buf[next++ % 4];

	if (snprintf(b, PATH_MAX, "%s%s", in->dest, path) >= PATH_MAX)
		ck_abort_msg("%s%s: too long", in->dest, path);
	return b;
}

/* path in DESTDIR is a regular file with this mode. */
void
inst_has_file(struct inst *in, const char *path, mode_t mode)
{
	struct stat	st;

	ck_assert_msg(lstat(inst_dpath(in, path), &st) == 0, "%s: %s", path,
	    strerror(errno));
	ck_assert_msg(S_ISREG(st.st_mode), "%s: not a regular file", path);
	ck_assert_msg((st.st_mode & 07777) == mode, "%s: mode %04o, expected "
	    "%04o", path, (unsigned)(st.st_mode & 07777), (unsigned)mode);
}

void
inst_has_files(struct inst *in, const struct inst_file *files, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		inst_has_file(in, files[i].path, files[i].mode);
}

void
inst_has_text(const char *text, const char *needle, const char *what)
{
	ck_assert_msg(text != NULL && strstr(text, needle) != NULL,
	    "%s: no \"%s\" in:\n%s", what, needle, text != NULL ? text : "");
}

void
inst_hasnt_text(const char *text, const char *needle, const char *what)
{
	ck_assert_msg(text == NULL || strstr(text, needle) == NULL,
	    "%s: \"%s\" in:\n%s", what, needle, text);
}

char *
inst_dread(struct inst *in, const char *path)
{
	char	*s = harness_read_file(inst_dpath(in, path));

	ck_assert_msg(s != NULL, "%s: %s", path, strerror(errno));
	return s;
}

/*
 * The file at path in DESTDIR has every text of has and none of hasnt
 * (lists ended by NULL); a failure names the file by its last component.
 */
void
inst_dfile_says(struct inst *in, const char *path, const char *const *has,
    const char *const *hasnt)
{
	const char	*what = strrchr(path, '/') + 1;
	char		*s = inst_dread(in, path);

	for (; *has != NULL; has++)
		inst_has_text(s, *has, what);
	for (; hasnt != NULL && *hasnt != NULL; hasnt++)
		inst_hasnt_text(s, *hasnt, what);
	free(s);
}

/* Every file (not folder) left under DESTDIR, one per line; "" when none. */
char *
inst_leftovers(struct inst *in)
{
	int	rc;

	rc = inst_shell(in, "sh", "find '%s' ! -type d", in->dest);
	RUN_OK(in, rc, "find");
	return xstrdup(in->out != NULL ? in->out : "");
}

/* make uninstall, which must pass and leave no file behind. */
void
inst_uninstall_all(struct inst *in, const char *prefix, const char *extra)
{
	char	*s;
	int	 rc;

	rc = inst_make(in, "uninstall", prefix, extra);
	RUN_OK(in, rc, "make uninstall");
	s = inst_leftovers(in);
	ck_assert_msg(*s == '\0', "left after make uninstall:\n%s", s);
	free(s);
}

bool
inst_have(struct inst *in, const char *program)
{
	return inst_shell(in, "sh", "command -v %s", program) == 0;
}
