/*
 * wardenctl-drill.c: "wardenctl drill run FILE...": failure drills against
 * a live warden (warden-drill(5)). Every file is read and checked before
 * the first drill runs (wardenctl-drill-run.c); each report is printed as
 * it ends, and all of them written as JSON with -j or --report.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drill.h"
#include "log.h"
#include "util.h"
#include "wardenctl.h"
#include "wardenctl-drill.h"

#define DRILL_FILE_MAX		(4 * 1024 * 1024)
#define DRILL_EXIT_INVALID	1	/* a drill file is invalid */
#define DRILL_EXIT_FAILED	5

/* Read a drill file and parse it; on error, print it and return NULL. */
static struct drill *
drill_load(const char *file)
{
	struct drill	*d = NULL;
	struct stat	 st;
	char		*buf = NULL, err[1024];
	size_t		 len;
	int		 fd;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		ctl_errx(DRILL_EXIT_INVALID, "%s: %s", file, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ctl_errx(DRILL_EXIT_INVALID, "%s: %s", file, strerror(EISDIR));
		goto out;
	}
	if (util_read_fd(fd, DRILL_FILE_MAX, &buf, &len) == -1) {
		if (errno == EFBIG)
			ctl_errx(DRILL_EXIT_INVALID, "%s: larger than %d MiB",
			    file, DRILL_FILE_MAX >> 20);
		else
			ctl_errx(DRILL_EXIT_INVALID, "%s: %s", file,
			    strerror(errno));
		goto out;
	}
	if (drill_parse(buf, len, file, &d, err, sizeof(err)) == -1)
		ctl_errx(DRILL_EXIT_INVALID, "%s", err);
out:
	if (fd != -1)
		(void)close(fd);
	free(buf);
	return d;
}

static int
drill_write_report(FILE *fp, const char *path, json_t *all)
{
	ctl_json_write(fp, all, true);
	fputc('\n', fp);
	if (fp == stdout)
		return CTL_EXIT_OK;
	if (ferror(fp) || fclose(fp) == EOF)
		return ctl_errx(CTL_EXIT_ERROR, "%s: %s", path,
		    strerror(errno));
	return CTL_EXIT_OK;
}

int
cmd_drill(struct ctl *c, struct ctl_args *a)
{
	struct drill		**drills;
	struct drill_report	  rep;
	const char		 *path = ctl_opt_value(a, "report");
	json_t			 *all;
	FILE			 *fp = NULL;
	char			 *text;
	int			  i, n = a->argc - 1, rc = CTL_EXIT_OK, bad = 0;

	if (strcmp(a->argv[0], "run") != 0)
		return ctl_usage_error(a, "unknown subcommand %s", a->argv[0]);
	if (n < 1)
		return ctl_usage_error(a, "run: no drill file");
	/* Every file is checked before the first drill touches anything. */
	drills = xcalloc((size_t)n, sizeof(*drills));
	for (i = 0; i < n; i++)
		if ((drills[i] = drill_load(a->argv[i + 1])) == NULL)
			bad++;
	if (bad == 0 && path != NULL && (fp = fopen(path, "w")) == NULL) {
		ctl_errx(CTL_EXIT_ERROR, "%s: %s", path, strerror(errno));
		bad++;
	}
	if (bad > 0) {
		for (i = 0; i < n; i++)
			drill_free(drills[i]);
		free(drills);
		return DRILL_EXIT_INVALID;
	}
	if ((all = json_array()) == NULL)
		fatalx("out of memory");
	drill_signals();
	for (i = 0; i < n && drill_signal == 0; i++) {
		if (!drill_run(c->socket, drills[i], &rep))
			rc = ctl_errx(CTL_EXIT_CONNECT, "%s: %s (is warden "
			    "running? set WARDEN_SOCKET or use -S SOCKET)",
			    drills[i]->file, rep.error);
		else if (rep.verdict != DRILL_PASS && rc == CTL_EXIT_OK)
			rc = DRILL_EXIT_FAILED;
		/* A drill that never reached warden has nothing to show. */
		if (!c->json && rc != CTL_EXIT_CONNECT) {
			text = drill_report_text(&rep);
			printf("%s%s", i > 0 ? "\n" : "", text);
			free(text);
			fflush(stdout);
		}
		if (json_array_append_new(all, drill_report_json(&rep)) == -1)
			fatalx("out of memory");
		drill_report_free(&rep);
		if (rc == CTL_EXIT_CONNECT)
			break;
	}
	if (drill_signal != 0 && rc == CTL_EXIT_OK)
		rc = DRILL_EXIT_FAILED;
	if (c->json)
		(void)drill_write_report(stdout, "stdout", all);
	if (fp != NULL && drill_write_report(fp, path, all) != CTL_EXIT_OK &&
	    rc == CTL_EXIT_OK)
		rc = CTL_EXIT_ERROR;
	json_decref(all);
	for (i = 0; i < n; i++)
		drill_free(drills[i]);
	free(drills);
	return rc;
}
