/*
 * check_install_node.c: what `make install` installs of the Node.js
 * OpenFeature provider (warden-node(3)): the package's files and modes,
 * the libwarden path it was given per LIBDIR, a read of a live warden's
 * table through the installed package and its own SDK, found as an
 * application finds it (NODE_PATH), and nothing left by `make uninstall`.
 * Without node, or a build without the addon, the suite says so and
 * checks nothing.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "inst.h"
#include "util.h"
#include "suite.h"

#ifndef __has_feature
#define __has_feature(x) 0
#endif
/*
 * A sanitized addon or libwarden cannot be loaded into node: AddressSanitizer
 * loaded late finds its shadow range taken by node's mappings and aborts.
 * Such a build checks the installed files, not a read.
 */
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define NODE_CAN_LOAD	false
#else
#define NODE_CAN_LOAD	true
#endif

#define PKG	"/usr/lib/node_modules/warden-openfeature"

static const char conf_flags[] =
    "{ \"flags\": { \"feat\": { \"default\": true },\n"
    "              \"later\": { \"default\": false } },\n"
    "  \"supervisor\": { \"children\": [\n"
    "    { \"name\": \"a\", \"command\": [\"@WORKER@\"] } ] } }\n";

/*
 * The installed package, required by name, with the SDK it brought: the
 * answers, and which files answered.
 */
static const char node_src[] =
    "const path = require('path');\n"
    "const w = require('warden-openfeature');\n"
    "const dir = path.dirname(require.resolve('warden-openfeature'));\n"
    "const { OpenFeature } = require(require.resolve('@openfeature/server-sdk',"
    " { paths: [dir] }));\n"
    "(async () => {\n"
    "  await OpenFeature.setProviderAndWait(new w.WardenProvider());\n"
    "  const c = OpenFeature.getClient();\n"
    "  const d = await c.getBooleanDetails('feat', false);\n"
    "  const l = await c.getBooleanValue('later', true);\n"
    "  const s = await c.getNumberValue('stage', -1);\n"
    "  const t = require(path.join(dir, 'lib', 'table.js'));\n"
    "  console.log(`feat=${d.value} ${d.reason} later=${l} stage=${s}`);\n"
    "  console.log(`addon=${t.addonPath} lib=${w.libraryPath}`);\n"
    "  await OpenFeature.close();\n"
    "})();\n";

/* Whether node and this build's addon are there; says why not. */
static bool
node_ready(struct inst *in)
{
	char	p[PATH_MAX];

	if (!inst_have(in, "node")) {
		fprintf(stderr, "check_install_node: no node: not checked\n");
		return false;
	}
	ck_assert((size_t)snprintf(p, sizeof(p), "%s/../build/node/warden.node",
	    in->h.bindir) < sizeof(p));
	if (access(p, R_OK) != 0) {
		fprintf(stderr, "check_install_node: no %s (node's headers "
		    "missing at build): not checked\n", p);
		return false;
	}
	return true;
}

START_TEST(test_node_package)
{
	static const struct inst_file files[] = {
		{ PKG "/package.json", 0644 },
		{ PKG "/index.js", 0644 },
		{ PKG "/warden.node", 0755 },
		{ PKG "/lib/provider.js", 0644 },
		{ PKG "/lib/table.js", 0644 },
		{ PKG "/lib/_paths.js", 0644 },
		{ PKG "/node_modules/@openfeature/server-sdk/package.json", 0644 },
		{ PKG "/node_modules/@openfeature/core/package.json", 0644 },
		{ "/usr/share/man/man3/warden-node.3", 0644 },
	};
	struct inst	 in;
	char		*want;
	int		 rc;

	inst_init(&in, conf_flags);
	if (!node_ready(&in)) {
		inst_done(&in);
		return;
	}
	inst_install(&in, "/usr", NULL);
	inst_has_files(&in, files, nitems(files));
	inst_dfile_says(&in, PKG "/lib/_paths.js", (const char *const[]){
	    "LIBRARY: \"/usr/lib/libwarden.so.0\"", NULL }, NULL);

	if (!NODE_CAN_LOAD) {
		fprintf(stderr, "check_install_node: a sanitized build: the "
		    "installed package not read from node\n");
		goto dirs;
	}
	/* A live warden's table, named as a worker would get it. */
	ck_assert_int_eq(harness_launch(&in.h), 0);
	ck_assert_int_eq(harness_write_file(&in.h, "app.js", node_src), 0);
	rc = inst_shell(&in, "sh", "cd '%s' && unset WARDEN_NODE_ADDON "
	    "WARDEN_TABLE_FD && WARDEN_TABLE='%s' NODE_PATH='%s' "
	    "WARDEN_LIBRARY='%s' exec node app.js", in.h.dir, in.h.table,
	    inst_dpath(&in, "/usr/lib/node_modules"),
	    inst_dpath(&in, "/usr/lib/libwarden.so.0"));
	RUN_OK(&in, rc, "node with the installed package");
	xasprintf(&want, "feat=true STATIC later=false stage=0\n"
	    "addon=%s lib=%s\n", inst_dpath(&in, PKG "/warden.node"),
	    inst_dpath(&in, "/usr/lib/libwarden.so.0"));
	ck_assert_str_eq(in.out, want);
	free(want);
dirs:
	inst_uninstall_all(&in, "/usr", NULL);

	/* The library where LIBDIR put it; the package where NODEDIR says. */
	inst_install(&in, "/opt/w", "LIBDIR=/opt/w/lib64 NODEDIR=/opt/w/node/wof");
	inst_has_file(&in, "/opt/w/node/wof/warden.node", 0755);
	inst_dfile_says(&in, "/opt/w/node/wof/lib/_paths.js",
	    (const char *const[]){ "LIBRARY: \"/opt/w/lib64/libwarden.so.0\"",
		NULL }, NULL);
	inst_uninstall_all(&in, "/opt/w",
	    "LIBDIR=/opt/w/lib64 NODEDIR=/opt/w/node/wof");
	inst_done(&in);
}
END_TEST

static Suite *
install_node_suite(void)
{
	Suite	*s = suite_create("install_node");
	TCase	*tc = tcase_create("install_node");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_node_package);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(install_node_suite)
