/*
 * reconfigure.c: the one way warden takes its configuration file again (see
 * reconfigure.h). A file with any error changes nothing; one that checks is
 * applied everywhere that keeps a part of it: the tree, the control
 * socket's access lists and limits, the flags and stages.
 */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "control.h"
#include "flagsvc.h"
#include "fleetd.h"
#include "log.h"
#include "metrics-daemon.h"
#include "reconfigure.h"
#include "sdnotify.h"
#include "tree.h"

/* The log says who asked: "SIGHUP: reload refused: ...". */
static const char *
reconfigure_who(const char *by, char *buf, size_t len)
{
	if (by == NULL)
		return "";
	snprintf(buf, len, "%s: ", by);
	return buf;
}

/* The new configuration in force: everything that keeps a part of it takes it. */
static void
reconfigure_take(struct config *nc)
{
	control_set_config(nc);
	flagsvc_reconfigure(nc);
	fleetd_reconfigure(nc);
}

static void
reconfigure_log(const char *by, const json_t *result)
{
	char	*s;

	if (by == NULL)		/* a request's result goes to its client */
		return;
	s = json_dumps(result, JSON_COMPACT);
	log_info("%s: reloaded: %s", by, s != NULL ? s : "?");
	free(s);
}

enum reconfigure_err
reconfigure_run(const char *by, bool dry_run, json_t **result, char *err,
    size_t errlen)
{
	struct config	*nc;
	char		 who[32];

	*result = NULL;
	/* systemd's reload protocol: RELOADING=1 with the time, READY=1 after. */
	if (!dry_run)
		sdnotify_reloading();
	if (config_load(tree_config()->path, &nc, err, errlen) == -1) {
		log_warnx("%sreload refused: %s",
		    reconfigure_who(by, who, sizeof(who)), err);
		if (!dry_run)
			sdnotify_reloaded(err);
		return RECONFIGURE_INVALID;
	}
	/* A fleet whose host cannot be named is refused like a bad file. */
	if (fleetd_check(nc, err, errlen) == -1) {
		log_warnx("%sreload refused: %s",
		    reconfigure_who(by, who, sizeof(who)), err);
		config_free(nc);
		if (!dry_run)
			sdnotify_reloaded(err);
		return RECONFIGURE_INVALID;
	}
	/* A new metrics address is bound first: a failed bind changes nothing. */
	if (!dry_run && metrics_http_reconfigure(nc, err, errlen) == -1) {
		log_warnx("%sreload refused: %s",
		    reconfigure_who(by, who, sizeof(who)), err);
		config_free(nc);
		sdnotify_reloaded(err);
		return RECONFIGURE_INVALID;
	}
	if (tree_reload(nc, dry_run, result) == -1) {
		config_free(nc);
		if (!dry_run)
			sdnotify_reloaded(NULL);
		snprintf(err, errlen, "warden is shutting down");
		return RECONFIGURE_STOPPING;
	}
	if (dry_run)
		config_free(nc);
	else {
		reconfigure_take(nc);
		sdnotify_reloaded(NULL);
	}
	reconfigure_log(by, *result);
	return RECONFIGURE_OK;
}
