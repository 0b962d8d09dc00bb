/*
 * journald.h: workers' lines as journal entries of their own, when warden
 * runs under journald: journald's native protocol, spoken directly.
 */
#ifndef WARDEN_JOURNALD_H
#define WARDEN_JOURNALD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * At start: under journald (JOURNAL_STREAM is set), connect to its native
 * socket ($WARDEN_JOURNAL_SOCKET, else /run/systemd/journal/socket).
 * Returns whether lines go there; false: they go to warden's log.
 */
bool	journald_open(void);
bool	journald_active(void);
enum journald_rc { JOURNALD_SENT, JOURNALD_BUSY, JOURNALD_GONE };
/*
 * One line of service's: SYSLOG_IDENTIFIER and WARDEN_SERVICE the
 * service, PRIORITY from a "<N>" prefix (taken off the message) or 6.
 * BUSY: journald did not take it now (dropped, never waited for); GONE:
 * the socket failed, the caller says the line elsewhere.
 */
enum journald_rc journald_send(const char *service, pid_t, int stream,
	    const char *text, size_t len);
void	journald_close(void);

#endif
