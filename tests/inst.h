/*
 * inst.h: `make install` and `make uninstall` into a DESTDIR in a test's
 * folder, and checks of what they installed (inst.c). make runs from the
 * top of the checkout (the folder tests run in, or the one above the
 * binaries), on the binaries the tests run with: O= is passed when they
 * are not in bin/ (make sanitize).
 */
#ifndef WARDEN_TESTS_INST_H
#define WARDEN_TESTS_INST_H

#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "harness.h"

#define RUN_MS		120000	/* bound for make, cc, systemd-analyze */

/* One test's folders and the make command line for them. */
struct inst {
	struct harness	 h;
	char		 top[PATH_MAX];		/* the checkout */
	char		 o[PATH_MAX];		/* "O=..." or "" */
	char		 dest[PATH_MAX];	/* DESTDIR, in the harness's folder */
	char		*out, *err;		/* of the last run */
};

/* A file to find installed, and its mode. */
struct inst_file {
	const char	*path;
	mode_t		 mode;
};

#define RUN_OK(in, rc, what) \
	ck_assert_msg((rc) == 0, "%s: exit %d\nstdout: %s\nstderr: %s", (what), \
	    (rc), (in)->out != NULL ? (in)->out : "", \
	    (in)->err != NULL ? (in)->err : "")

void	 inst_init(struct inst *, const char *conf);
void	 inst_done(struct inst *);
int	 inst_run(struct inst *, const char *const *argv);
int	 inst_shell(struct inst *, const char *shell, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	 inst_make(struct inst *, const char *target, const char *prefix,
	    const char *extra);
void	 inst_install(struct inst *, const char *prefix, const char *extra);
void	 inst_uninstall_all(struct inst *, const char *prefix, const char *extra);
/* path under DESTDIR, in one of four rotating buffers. */
char	*inst_dpath(struct inst *, const char *path);
void	 inst_has_file(struct inst *, const char *path, mode_t mode);
void	 inst_has_files(struct inst *, const struct inst_file *, size_t n);
void	 inst_has_text(const char *text, const char *needle, const char *what);
void	 inst_hasnt_text(const char *text, const char *needle, const char *what);
char	*inst_dread(struct inst *, const char *path);
void	 inst_dfile_says(struct inst *, const char *path,
	    const char *const *has, const char *const *hasnt);
char	*inst_leftovers(struct inst *);
bool	 inst_have(struct inst *, const char *program);

#endif
