/*
 * log.c: one small logger for warden and its tools (see log.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

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
	char		 stamp[32];
	struct timespec	 ts;
	struct tm	 tm;

	if (level > log_verbosity)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", level, msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s: %s\n", stamp, ts.tv_nsec / 1000000L,
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
