/*
 * check_install.c: `make install` and `make uninstall` into a DESTDIR, and
 * what they install: every file with its mode, the shared library's soname
 * and symlink, warden.pc that pkg-config reads, a program built from it
 * and the Python module, each reading a flag from a live warden's table,
 * the module installed where python3 looks under each prefix, the unit that
 * `systemd-analyze verify` accepts, the sysusers.d file, the example
 * configuration that `warden -n` accepts, and the bash completion.
 *
 * make runs from the top of the checkout (the folder tests run in, or the
 * one above the binaries), on the binaries these tests run with: O= is
 * passed when they are not in bin/ (make sanitize). The tree is built by
 * then, and `make install` must not build anything again.
 */
#include <sys/stat.h>

#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "inst.h"
#include "protocol.h"
#include "util.h"
#include "suite.h"

/* A program built against the installed library: the same sanitizers as we. */
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define PROG_CFLAGS	"-fsanitize=address,undefined"
/* python3 is not: the runtime comes in with libwarden, and must accept that. */
#define PY_ASAN		"ASAN_OPTIONS=\"$ASAN_OPTIONS:verify_asan_link_order=0\" "
#else
#define PROG_CFLAGS	""
#define PY_ASAN		""
#endif

static const char conf_flags[] =
    "{ \"flags\": { \"feat\": { \"default\": true },\n"
    "              \"later\": { \"default\": false } },\n"
    "  \"stages\": [ { \"stage\": 1, \"enable\": [\"later\"] } ],\n"
    "  \"supervisor\": { \"children\": [\n"
    "    { \"name\": \"a\", \"command\": [\"@WORKER@\"] } ] } }\n";

/* Reads two flags and the stage, and says which libwarden it runs with. */
static const char prog_src[] =
    "#include <stdio.h>\n"
    "#include <string.h>\n"
    "#include <warden.h>\n"
    "int\n"
    "main(void)\n"
    "{\n"
    "	warden_table	*t = warden_open(NULL);\n"
    "	char		 line[4096], lib[4096] = \"none\", *p;\n"
    "	FILE		*f = fopen(\"/proc/self/maps\", \"r\");\n"
    "\n"
    "	while (f != NULL && fgets(line, sizeof(line), f) != NULL)\n"
    "		if ((p = strstr(line, \"/libwarden.so\")) != NULL &&\n"
    "		    (p = strchr(line, '/')) != NULL) {\n"
    "			p[strcspn(p, \"\\n\")] = '\\0';\n"
    "			snprintf(lib, sizeof(lib), \"%s\", p);\n"
    "		}\n"
    "	if (f != NULL)\n"
    "		fclose(f);\n"
    "	printf(\"feat=%d later=%d stage=%d lib=%s\\n\",\n"
    "	    warden_enabled(t, \"feat\", false),\n"
    "	    warden_enabled(t, \"later\", true), warden_stage(t), lib);\n"
    "	warden_close(t);\n"
    "	return 0;\n"
    "}\n";

/* The python3 the Makefile installs for: /usr/bin/python3 if present. */
#define PYTHON	"\"$(command -v /usr/bin/python3 || echo python3)\""

/*
 * Where make install puts the Python module's file under prefix (not
 * /usr): python3.X/dist-packages, X that of the Makefile's python3.
 */
static const char *
py_module(struct inst *in, const char *prefix, const char *file)
{
	static char	path[PATH_MAX];
	int		rc;

	rc = inst_shell(in, "sh", "exec %s -c 'import sys; "
	    "print(\"%%d.%%d\" %% sys.version_info[:2], end=\"\")'", PYTHON);
	RUN_OK(in, rc, "python3 version");
	ck_assert((size_t)snprintf(path, sizeof(path), "%s/lib/python%s/"
	    "dist-packages/warden/%s", prefix, in->out, file) < sizeof(path));
	return path;
}

/* --- tests ---------------------------------------------------------------- */

START_TEST(test_install_tree)
{
	static const struct inst_file files[] = {
		{ "/usr/bin/warden", 0755 },
		{ "/usr/bin/wardenctl", 0755 },
		{ "/usr/libexec/warden/demo-worker", 0755 },
		{ "/usr/lib/libwarden.a", 0644 },
		{ "/usr/lib/libwarden.so.0", 0755 },
		{ "/usr/include/warden.h", 0644 },
		{ "/usr/lib/pkgconfig/warden.pc", 0644 },
		{ "/usr/lib/systemd/system/warden.service", 0644 },
		{ "/usr/lib/sysusers.d/warden.conf", 0644 },
		{ "/usr/share/bash-completion/completions/wardenctl", 0644 },
		{ "/etc/warden/warden.json", 0644 },
		{ "/usr/share/man/man1/wardenctl.1", 0644 },
		{ "/usr/share/man/man3/libwarden.3", 0644 },
		{ "/usr/share/man/man3/warden-python.3", 0644 },
		{ "/usr/share/man/man5/warden.json.5", 0644 },
		{ "/usr/share/man/man8/warden.8", 0644 },
		{ "/usr/share/warden/prometheus/prometheus.yml", 0644 },
		{ "/usr/share/warden/prometheus/warden-alerts.yml", 0644 },
		{ "/usr/lib/python3/dist-packages/warden/__init__.py", 0644 },
		{ "/usr/lib/python3/dist-packages/warden/_paths.py", 0644 },
	};
	struct inst	 in;
	struct stat	 st;
	char		 target[PATH_MAX], *s;
	void		*dl;
	ssize_t		 n;
	bool		 fresh;
	int		 rc;

	inst_init(&in, conf_flags);
	/* Up to date before: then installing builds nothing. */
	fresh = inst_shell(&in, "sh", "exec make --no-print-directory -q "
	    "-C '%s' %s all", in.top, in.o) == 0;
	inst_install(&in, "/usr", NULL);
	if (fresh) {
		inst_hasnt_text(in.out, "  CC ", "make install");
		inst_hasnt_text(in.out, "  LINK ", "make install");
		inst_hasnt_text(in.out, "  AR ", "make install");
	} else
		fprintf(stderr, "check_install: the build was not up to date: "
		    "not checking that make install builds nothing\n");
	/* As root into a DESTDIR: no user is made, and it says so. */
	inst_has_text(in.out, "systemd-sysusers", "make install");

	inst_has_files(&in, files, nitems(files));

	/* The development symlink, and the soname the linker records. */
	ck_assert_int_eq(lstat(inst_dpath(&in, "/usr/lib/libwarden.so"), &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	n = readlink(inst_dpath(&in, "/usr/lib/libwarden.so"), target,
	    sizeof(target) - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	ck_assert_str_eq(target, "libwarden.so.0");
	rc = inst_shell(&in, "sh", "readelf -d '%s'",
	    inst_dpath(&in, "/usr/lib/libwarden.so"));
	RUN_OK(&in, rc, "readelf");
	inst_has_text(in.out, "Library soname: [libwarden.so.0]", "readelf -d");
	dl = dlopen(inst_dpath(&in, "/usr/lib/libwarden.so"), RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(dl != NULL, "dlopen: %s", dlerror());
	ck_assert_ptr_nonnull(dlsym(dl, "warden_open"));
	ck_assert_ptr_nonnull(dlsym(dl, "warden_enabled_for"));
	dlclose(dl);

	/* Installed paths, no placeholder left. */
	inst_dfile_says(&in, "/usr/lib/systemd/system/warden.service",
	    (const char *const[]){
		"\nExecStart=/usr/bin/warden -c /etc/warden/warden.json\n",
		NULL },
	    (const char *const[]){ "@", NULL });
	inst_dfile_says(&in, "/usr/lib/pkgconfig/warden.pc",
	    (const char *const[]){ "prefix=/usr\n", NULL }, NULL);
	inst_dfile_says(&in, "/etc/warden/warden.json",
	    (const char *const[]){ "\"/run/warden/warden.sock\"",
		"\"/var/lib/warden\"", "\"/usr/libexec/warden/demo-worker\"",
		NULL },
	    (const char *const[]){ "@", NULL });
	/*
	 * The example configuration is valid as installed. warden -n looks
	 * for the commands too, and they are under DESTDIR until packaged:
	 * it checks a copy whose libexec paths point there.
	 */
	rc = inst_shell(&in, "sh", "sed 's|\"/usr/libexec/warden/|\"%s/|' "
	    "'%s' > '%s/staged.json' && exec '%s' -n -c '%s/staged.json'",
	    inst_dpath(&in, "/usr/libexec/warden"),
	    inst_dpath(&in, "/etc/warden/warden.json"), in.h.dir,
	    inst_dpath(&in, "/usr/bin/warden"), in.h.dir);
	RUN_OK(&in, rc, "warden -n on the installed configuration");
	rc = inst_shell(&in, "sh", "exec '%s' -V",
	    inst_dpath(&in, "/usr/bin/wardenctl"));
	RUN_OK(&in, rc, "wardenctl -V");

	/* A configuration changed since is kept by install and uninstall. */
	rc = inst_shell(&in, "sh", "printf '{}\\n' > '%s'",
	    inst_dpath(&in, "/etc/warden/warden.json"));
	RUN_OK(&in, rc, "edit the configuration");
	rc = inst_make(&in, "install", "/usr", NULL);
	RUN_OK(&in, rc, "make install again");
	inst_has_text(in.out, "kept", "make install again");
	s = inst_dread(&in, "/etc/warden/warden.json");
	ck_assert_str_eq(s, "{}\n");
	free(s);
	rc = inst_make(&in, "uninstall", "/usr", NULL);
	RUN_OK(&in, rc, "make uninstall");
	inst_has_text(in.out, "changed since", "make uninstall");
	s = inst_leftovers(&in);
	ck_assert_msg(strcmp(s, inst_dpath(&in, "/etc/warden/warden.json\n")) == 0,
	    "left after make uninstall:\n%s", s);
	free(s);

	/* An unchanged one goes with the rest: nothing is left. */
	ck_assert_int_eq(unlink(inst_dpath(&in, "/etc/warden/warden.json")), 0);
	inst_install(&in, "/usr", NULL);
	inst_uninstall_all(&in, "/usr", NULL);
	inst_done(&in);
}
END_TEST

START_TEST(test_install_dirs)
{
	static const char dirs[] = "BINDIR=/opt/w/sbin LIBDIR=/opt/w/lib64 "
	    "MANDIR=/opt/w/man SYSCONFDIR=/etc/opt/w "
	    "SYSTEMDUNITDIR=/etc/systemd/system";
	static const struct inst_file files[] = {
		{ "/opt/w/sbin/warden", 0755 },
		{ "/opt/w/lib64/libwarden.so.0", 0755 },
		{ "/opt/w/lib64/pkgconfig/warden.pc", 0644 },
		{ "/opt/w/include/warden.h", 0644 },
		{ "/opt/w/man/man8/warden.8", 0644 },
		{ "/opt/w/libexec/warden/demo-worker", 0755 },
		{ "/etc/opt/w/warden/warden.json", 0644 },
	};
	struct inst	 in;

	inst_init(&in, conf_flags);
	inst_install(&in, "/opt/w", dirs);
	inst_has_files(&in, files, nitems(files));
	inst_dfile_says(&in, "/etc/systemd/system/warden.service",
	    (const char *const[]){ "\nExecStart=/opt/w/sbin/warden -c "
		"/etc/opt/w/warden/warden.json\n", NULL }, NULL);
	inst_dfile_says(&in, "/opt/w/lib64/pkgconfig/warden.pc",
	    (const char *const[]){ "prefix=/opt/w\n",
		"libdir=${prefix}/lib64\n", "includedir=${prefix}/include\n",
		NULL }, NULL);
	inst_dfile_says(&in, "/etc/opt/w/warden/warden.json",
	    (const char *const[]){ "\"/opt/w/libexec/warden/demo-worker\"",
		NULL }, NULL);
	/* The Python module finds the library where LIBDIR put it. */
	inst_dfile_says(&in, py_module(&in, "/opt/w", "_paths.py"),
	    (const char *const[]){ "LIBRARY = \"/opt/w/lib64/libwarden.so.0\"\n",
		NULL }, NULL);
	inst_uninstall_all(&in, "/opt/w", dirs);

	/* Another prefix than /usr keeps its configuration in its own etc. */
	inst_install(&in, "/usr/local", NULL);
	inst_has_file(&in, "/usr/local/etc/warden/warden.json", 0644);
	inst_has_file(&in, py_module(&in, "/usr/local", "__init__.py"), 0644);
	inst_dfile_says(&in, "/usr/local/lib/systemd/system/warden.service",
	    (const char *const[]){ "\nExecStart=/usr/local/bin/warden -c "
		"/usr/local/etc/warden/warden.json\n", NULL }, NULL);
	inst_uninstall_all(&in, "/usr/local", NULL);
	inst_done(&in);
}
END_TEST

START_TEST(test_pkgconfig_program)
{
	struct inst	 in;
	char		*src, *prog, *flags, *want;
	int		 rc;

	inst_init(&in, conf_flags);
	inst_install(&in, "/usr", NULL);

	/* pkg-config as a cross build would use it: through the sysroot. */
	setenv("PKG_CONFIG_LIBDIR", inst_dpath(&in, "/usr/lib/pkgconfig"), 1);
	setenv("PKG_CONFIG_SYSROOT_DIR", in.dest, 1);
	setenv("PKG_CONFIG_ALLOW_SYSTEM_CFLAGS", "1", 1);
	setenv("PKG_CONFIG_ALLOW_SYSTEM_LIBS", "1", 1);
	unsetenv("PKG_CONFIG_PATH");
	rc = inst_shell(&in, "sh", "exec pkg-config --cflags --libs warden");
	RUN_OK(&in, rc, "pkg-config");
	flags = xstrdup(in.out);
	flags[strcspn(flags, "\n")] = '\0';
	inst_has_text(flags, inst_dpath(&in, "/usr/include"), "pkg-config --cflags");
	inst_has_text(flags, inst_dpath(&in, "/usr/lib"), "pkg-config --libs");
	inst_has_text(flags, "-lwarden", "pkg-config --libs");
	rc = inst_shell(&in, "sh", "exec pkg-config --modversion warden");
	RUN_OK(&in, rc, "pkg-config --modversion");

	src = harness_path(&in.h, "prog.c");
	prog = harness_path(&in.h, "prog");
	ck_assert_int_eq(harness_write_file(&in.h, "prog.c", prog_src), 0);
	rc = inst_shell(&in, "sh", "exec cc -std=gnu11 -Wall -Werror %s "
	    "-o '%s' '%s' %s -Wl,-rpath,'%s'", PROG_CFLAGS, prog, src, flags,
	    inst_dpath(&in, "/usr/lib"));
	RUN_OK(&in, rc, "cc with pkg-config's flags");

	/* A live warden's table, named as a worker would get it. */
	ck_assert_int_eq(harness_launch(&in.h), 0);
	setenv("WARDEN_TABLE", in.h.table, 1);
	unsetenv("WARDEN_TABLE_FD");
	xasprintf(&want, "feat=1 later=0 stage=0 lib=%s\n",
	    inst_dpath(&in, "/usr/lib/libwarden.so.0"));
	rc = inst_shell(&in, "sh", "exec '%s'", prog);
	RUN_OK(&in, rc, "the program");
	ck_assert_str_eq(in.out, want);
	free(want);
	json_decref(harness_result(&in.h, "stage.set",
	    json_pack("{s:i}", "stage", 1)));
	rc = inst_shell(&in, "sh", "exec '%s'", prog);
	RUN_OK(&in, rc, "the program");
	inst_has_text(in.out, "feat=1 later=1 stage=1 ", "the program after stage.set");

	/* The installed Python module, as /usr's python3 finds it. */
	rc = inst_shell(&in, "sh", PY_ASAN "PYTHONPATH='%s' WARDEN_LIBRARY='%s' "
	    "PYTHONDONTWRITEBYTECODE=1 exec %s -c 'import warden; "
	    "t = warden.open(); print(t.enabled(\"feat\"), "
	    "t.enabled(\"later\"), t.stage(), warden.__file__)'",
	    inst_dpath(&in, "/usr/lib/python3/dist-packages"),
	    inst_dpath(&in, "/usr/lib/libwarden.so.0"), PYTHON);
	RUN_OK(&in, rc, "python3 with the installed module");
	xasprintf(&want, "True True 1 %s\n",
	    inst_dpath(&in, "/usr/lib/python3/dist-packages/warden/__init__.py"));
	ck_assert_str_eq(in.out, want);
	free(want);
	free(src);
	free(prog);
	free(flags);
	inst_done(&in);
}
END_TEST

START_TEST(test_systemd_units)
{
	static const char *const unitdirs[] = { "/usr/lib/systemd/system",
	    "/lib/systemd/system" };
	struct inst	 in;
	char		*root;
	const char	*units = NULL;
	size_t		 i;
	int		 rc;

	inst_init(&in, conf_flags);
	inst_install(&in, "/usr", NULL);

	if (!inst_have(&in, "systemd-analyze")) {
		fprintf(stderr, "check_install: no systemd-analyze: "
		    "warden.service not verified\n");
		goto sysusers;
	}
	for (i = 0; i < nitems(unitdirs) && units == NULL; i++)
		if (access(unitdirs[i], R_OK) == 0)
			units = unitdirs[i];
	ck_assert_msg(units != NULL, "systemd-analyze without systemd's units");
	/*
	 * The installed tree under a root of its own, with the system's units
	 * its dependencies name (sysinit.target...): verify then checks the
	 * installed paths as they are.
	 */
	root = harness_path(&in.h, "root");
	rc = inst_shell(&in, "sh", "mkdir -p '%s/usr/lib/systemd/system' && "
	    "cp -a '%s/.' '%s/' && cp -an '%s/.' '%s/usr/lib/systemd/system/'",
	    root, in.dest, root, units, root);
	RUN_OK(&in, rc, "make the root");
	/* Documentation= names pages that are installed. */
	setenv("MANPATH", inst_dpath(&in, "/usr/share/man"), 1);
	rc = inst_shell(&in, "sh", "exec systemd-analyze verify %s --root='%s' "
	    "/usr/lib/systemd/system/warden.service",
	    inst_have(&in, "man") ? "" : "--man=no", root);
	RUN_OK(&in, rc, "systemd-analyze verify");
	ck_assert_msg(in.err == NULL || *in.err == '\0',
	    "systemd-analyze verify: %s", in.err);
	free(root);

	/* What the unit must and must not say (SPEC 8). */
	inst_dfile_says(&in, "/usr/lib/systemd/system/warden.service",
	    (const char *const[]){ "\nType=notify\n", "\nNotifyAccess=main\n",
		"\nExecReload=/usr/bin/wardenctl reload\n", "\nWatchdogSec=",
		"\nKillMode=mixed\n", "\nRuntimeDirectory=warden\n",
		"\nStateDirectory=warden\n", NULL },
	    (const char *const[]){ "\nDynamicUser=", "\nRemoveIPC=", NULL });

sysusers:
	if (!inst_have(&in, "systemd-sysusers")) {
		fprintf(stderr, "check_install: systemd-sysusers is not "
		    "installed: sysusers.d/warden.conf not tried\n");
		inst_done(&in);
		return;
	}
	root = harness_path(&in.h, "sysroot");
	rc = inst_shell(&in, "sh", "mkdir -p '%s/etc' && exec systemd-sysusers "
	    "--root='%s' '%s'", root, root,
	    inst_dpath(&in, "/usr/lib/sysusers.d/warden.conf"));
	RUN_OK(&in, rc, "systemd-sysusers");
	rc = inst_shell(&in, "sh", "cat '%s/etc/passwd' '%s/etc/group'", root,
	    root);
	RUN_OK(&in, rc, "cat");
	inst_has_text(in.out, ":warden supervisor:/var/lib/warden:", "passwd");
	inst_has_text(in.out, "\nwarden:x:", "group");
	free(root);
	inst_done(&in);
}
END_TEST

/*
 * `systemctl reload warden` runs the unit's ExecReload= and fails when it
 * does: run the installed unit's line against a live warden. A file with
 * an error fails it, with the error on stderr (the journal), and warden
 * goes on with what it had; a good file passes. systemd only reads the
 * exit status, so this holds on every version of it.
 */
START_TEST(test_unit_reload)
{
	struct inst	 in;
	char		*unit, *line, *bad, *good;
	json_t		*r;
	int		 rc;

	inst_init(&in, conf_flags);
	inst_install(&in, "/usr", NULL);
	unit = inst_dread(&in, "/usr/lib/systemd/system/warden.service");
	line = strstr(unit, "\nExecReload=");
	ck_assert_msg(line != NULL, "no ExecReload= in warden.service");
	line += strlen("\nExecReload=");
	line[strcspn(line, "\n")] = '\0';
	ck_assert_msg(line[0] == '/' && strchr(line, '$') == NULL,
	    "ExecReload=%s: want an absolute command and no variables", line);
	ck_assert_int_eq(harness_launch(&in.h), 0);

	/* The installed binary, from DESTDIR; the socket is the test's. */
	xasprintf(&bad, "{ \"bogus\": 1,\n%s", strchr(conf_flags, '{') + 1);
	ck_assert_int_eq(harness_write_config(&in.h, bad), 0);
	rc = inst_shell(&in, "sh", "exec %s%s", in.dest, line);
	ck_assert_msg(rc == 1, "ExecReload= with a bad file: exit %d, want 1\n"
	    "stderr: %s", rc, in.err != NULL ? in.err : "");
	inst_has_text(in.err, "warden.json:1:", "ExecReload='s stderr");
	inst_has_text(in.err, "bogus: unknown key", "ExecReload='s stderr");
	r = harness_result(&in.h, "status", NULL);
	ck_assert_msg(r != NULL, "warden did not go on after a refused reload");
	json_decref(r);

	xasprintf(&good, "%s", conf_flags);
	ck_assert_int_eq(harness_write_config(&in.h, good), 0);
	rc = inst_shell(&in, "sh", "exec %s%s", in.dest, line);
	RUN_OK(&in, rc, "ExecReload= with a good file");
	free(bad);
	free(good);
	free(unit);
	inst_done(&in);
}
END_TEST

START_TEST(test_completion)
{
	/* t LABEL WORDS...: complete the last word; "LABEL: the choices". */
	static const char script[] =
	    "source '%s' || exit 9\n"
	    "ctl='%s' sock='%s'\n"
	    "echo\n"
	    "t() { local l=$1; shift; COMP_WORDS=(\"$ctl\" -S \"$sock\" \"$@\");\n"
	    "  COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _wardenctl;\n"
	    "  echo \"$l: ${COMPREPLY[*]}\"; }\n"
	    "t commands ''\n"
	    "t start fl\n"
	    "t flag flag ''\n"
	    "t stage stage r\n"
	    "t fleet fleet ''\n"
	    "t fleetstage fleet stage ''\n"
	    "t signal kill a -s TE\n"
	    "t sigop signal a HU\n"
	    "t topics events ''\n"
	    "t topic events service.s\n"
	    "t limit stage -n 3 --li\n"
	    "t services status ''\n"
	    "t flags flag get ''\n"
	    "t binary reexec \"${ctl%%ctl}\"\n";
	struct inst	 in;
	char		*comp, *ctl, *nosock, *want;
	size_t		 i;
	int		 rc;

	inst_init(&in, conf_flags);
	if (!inst_have(&in, "bash")) {
		fprintf(stderr, "check_install: no bash: completion not tried\n");
		inst_done(&in);
		return;
	}
	inst_install(&in, "/usr", NULL);
	comp = xstrdup(inst_dpath(&in, "/usr/share/bash-completion/completions/wardenctl"));
	ctl = xstrdup(inst_dpath(&in, "/usr/bin/wardenctl"));

	/* No daemon: commands, subcommands and signals still complete. */
	nosock = harness_path(&in.h, "none.sock");
	rc = inst_shell(&in, "bash", script, comp, ctl, nosock);
	RUN_OK(&in, rc, "completion without warden");
	inst_has_text(in.out, "\ncommands: ping version status start stop restart "
	    "signal kill wait flag stage table fleet recovery metrics drill events logs "
	    "reload reexec shutdown call help\n", "commands");
	inst_has_text(in.out, "\nsigop: HUP\n", "signal's signal");
	inst_has_text(in.out, "\ntopic: service.started service.signaled\n",
	    "a topic");
	inst_has_text(in.out, "\nlimit: --limit\n", "stage's --limit");
	/* Every event type warden sends is offered. */
	for (i = 0; i < RPC_NEVENT_TYPES; i++) {
		xasprintf(&want, " %s", rpc_event_types[i]);
		ck_assert_msg(strstr(strstr(in.out, "\ntopics:"), want) != NULL &&
		    strstr(strstr(in.out, "\ntopics:"), want) <
		    strstr(strstr(in.out, "\ntopics:") + 1, "\n"),
		    "completion offers no topic %s:\n%s", rpc_event_types[i],
		    in.out);
		free(want);
	}
	inst_has_text(in.out, "\nstart: flag fleet\n", "a command's start");
	inst_has_text(in.out, "\nfleet: status stage flag\n",
	    "fleet's subcommands");
	inst_has_text(in.out, "\nfleetstage: set rollback emergency\n",
	    "fleet stage's subcommands");
	inst_has_text(in.out, "\nflag: list get set reset read\n", "flag's subcommands");
	inst_has_text(in.out, "\nstage: rollback\n", "stage's subcommands");
	inst_has_text(in.out, "\nsignal: TERM\n", "signals");
	inst_has_text(in.out, "\nservices: \n", "no services without warden");
	/* reexec's BINARY: files. */
	xasprintf(&want, "\nbinary: %.*s %s\n", (int)(strlen(ctl) - 3), ctl,
	    ctl);
	inst_has_text(in.out, want, "reexec's binary");
	free(want);

	/* With warden: its services and flags. */
	ck_assert_int_eq(harness_launch(&in.h), 0);
	rc = inst_shell(&in, "bash", script, comp, ctl, in.h.sock);
	RUN_OK(&in, rc, "completion with warden");
	inst_has_text(in.out, "\nservices: a root\n", "services");
	inst_has_text(in.out, "\nflags: feat later\n", "flags");
	free(comp);
	free(ctl);
	free(nosock);
	inst_done(&in);
}
END_TEST

static Suite *
install_suite(void)
{
	Suite	*s = suite_create("install");
	TCase	*tc = tcase_create("install");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_install_tree);
	tcase_add_test(tc, test_install_dirs);
	tcase_add_test(tc, test_pkgconfig_program);
	tcase_add_test(tc, test_systemd_units);
	tcase_add_test(tc, test_unit_reload);
	tcase_add_test(tc, test_completion);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(install_suite)
