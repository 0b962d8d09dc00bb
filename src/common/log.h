/*
 * log.h: one small logger for warden and its tools, after OpenBSD's log.c.
 *
 * log_warn appends strerror(errno); log_warnx does not. fatal/fatalx are for
 * broken invariants only: they log and exit 1. Lines go to stderr with a
 * timestamp, or with a "<N>" priority prefix when JOURNAL_STREAM is set
 * (sd-daemon(3)), so journald keeps the level.
 */
#ifndef WARDEN_LOG_H
#define WARDEN_LOG_H

#include <stdarg.h>

enum log_level { LOG_LEVEL_ERR = 3, LOG_LEVEL_WARNING = 4, LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6, LOG_LEVEL_DEBUG = 7 };

/* name: the program's name in timestamped lines; verbosity: highest level shown. */
void	log_init(const char *name, int verbosity);
void	log_setverbose(int verbosity);
int	log_getverbose(void);

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_at(int level, const char *, ...) __attribute__((format(printf, 2, 3)));
void	log_vat(int level, const char *, va_list);
void	fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
