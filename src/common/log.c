/*
 * log.c: one small logger for warden and its tools (see log.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

static const char	*log_name = "warden";
static int		 log_verbosity = LOG_LEVEL_INFO;
static int		 log_journal;

void
log_init(const char *name, int verbosity)
{
	log_name = name;
	log_verbosity = verbosity;
	/* JOURNAL_STREAM says stderr is connected to journald. */
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void
log_setverbose(int verbosity)
{
	log_verbosity = verbosity;
}

int
log_getverbose(void)
{
	return log_verbosity;
}

void
log_vat(int level, const char *fmt, va_list ap)
{
	char		 msg[8192];
	char		 stamp[UTIL_ISO_LEN];
	unsigned char	*p;

	if (level > log_verbosity)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/*
	 * One line, and no terminal's escapes: a message may quote what a
	 * client, etcd or a file said, which must not forge a line or drive
	 * the terminal of whoever reads the log.
	 */
	for (p = (unsigned char *)msg; *p != '\0'; p++)
		if ((*p < ' ' && *p != '\t') || *p == 0x7f)
			*p = '?';
	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", level, msg);
		return;
	}
	/* The one time format of warden's: as events and flag history say it. */
	fprintf(stderr, "%s %s: %s\n", util_iso_ms(util_wall_ms(), stamp),
	    log_name, msg);
}

void
log_at(int level, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vat(level, fmt, ap);
	va_end(ap);
}

static void
log_verr(int level, const char *fmt, va_list ap)
{
	char	buf[8192];
	int	saved = errno;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	log_at(level, "%s: %s", buf, strerror(saved));
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_verr(LOG_LEVEL_WARNING, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vat(LOG_LEVEL_WARNING, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vat(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vat(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_verr(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vat(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
