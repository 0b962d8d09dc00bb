/*
 * check_config_fp.c: each node's fingerprint (config-tree.c), what a
 * reload compares: the same meaning written differently is the same
 * fingerprint, any setting changed changes the node's own and no other's.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"
#include "configtest.h"
#include "suite.h"

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
	struct config	*conf = configtest_parse(file, text);

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

static Suite *
config_fp_suite(void)
{
	Suite	*s = suite_create("config_fp");
	TCase	*tc = tcase_create("config_fp");

	tcase_add_test(tc, test_fingerprint_equal);
	tcase_add_loop_test(tc, test_fingerprint_change, 0,
	    (int)nitems(fp_changes));
	tcase_add_test(tc, test_fingerprint_moved);
	suite_add_tcase(s, tc);
	return s;
}

SUITE_MAIN(config_fp_suite)
