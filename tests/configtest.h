/*
 * configtest.h: what the warden.json suites (check_config,
 * check_config_fp) share: a text parsed, which must be accepted, and a
 * service found in it by name.
 */
#ifndef WARDEN_TESTS_CONFIGTEST_H
#define WARDEN_TESTS_CONFIGTEST_H

#include "config.h"

/* config_parse() of text as file, which must succeed. */
struct config		*configtest_parse(const char *file,
			    const char *text);
/* The service named name anywhere in conf's tree, which must be there. */
struct child_conf	*configtest_service(struct config *conf,
			    const char *name);

/*
 * config_load() of text written to a temp file: accepted when err is
 * NULL, else refused with "FILE" followed by err exactly.
 */
void			 configtest_load(const char *text, const char *err);

#endif
