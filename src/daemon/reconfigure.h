/*
 * reconfigure.h: the one way warden takes its configuration file again, for
 * SIGHUP and for the config.reload method alike.
 */
#ifndef WARDEN_RECONFIGURE_H
#define WARDEN_RECONFIGURE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

enum reconfigure_err {
	RECONFIGURE_OK = 0,
	RECONFIGURE_INVALID,		/* the file does not read or check: err says why */
	RECONFIGURE_STOPPING,	/* warden is shutting down */
};

/*
 * Read the file warden was started with, check it and apply the
 * difference (tree_reload(); with dry_run only compute it): *result is
 * {added, removed, changed, unchanged}. by names who asked in the log
 * ("SIGHUP"), NULL for a request, whose client gets the result. A reload
 * that is not a dry run says RELOADING=1 to the service manager, and
 * READY=1 when it is over, taken or refused.
 */
enum reconfigure_err	 reconfigure_run(const char *by, bool dry_run, json_t **result,
		    char *err, size_t errlen);

#endif
