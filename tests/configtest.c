/*
 * configtest.c: the warden.json suites' helpers (configtest.h).
 */
#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "configtest.h"
#include "util.h"

void
configtest_load(const char *text, const char *err)
{
	struct config	*conf = NULL;
	char		 path[] = "/tmp/configtest.XXXXXX";
	char		*want, got[1024];
	int		 fd;

	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_eq(util_write_all(fd, text, strlen(text)), 0);
	ck_assert_int_eq(close(fd), 0);
	if (err == NULL) {
		ck_assert_msg(config_load(path, &conf, got, sizeof(got)) == 0,
		    "%s", got);
		config_free(conf);
	} else {
		ck_assert_int_eq(config_load(path, &conf, got, sizeof(got)),
		    -1);
		ck_assert_ptr_null(conf);
		xasprintf(&want, "%s%s", path, err);
		ck_assert_str_eq(got, want);
		free(want);
	}
	ck_assert_int_eq(unlink(path), 0);
}

struct config *
configtest_parse(const char *file, const char *text)
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
configtest_find(struct child_conf *n, const char *name)
{
	struct child_conf	*c;
	size_t			 i;

	if (strcmp(n->name, name) == 0)
		return n;
	for (i = 0; i < n->nchildren; i++)
		if ((c = configtest_find(n->children[i], name)) != NULL)
			return c;
	return NULL;
}

struct child_conf *
configtest_service(struct config *conf, const char *name)
{
	struct child_conf	*c = configtest_find(conf->root, name);

	ck_assert_msg(c != NULL, "no service %s", name);
	return c;
}
