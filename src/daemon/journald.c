/*
 * journald.c: workers' lines as journal entries (see journald.h).
 *
 * The native protocol (systemd's "Native Journal Protocol"): one datagram
 * per entry, FIELD=value lines, on a SOCK_DGRAM Unix socket. Lines come
 * here as clean text without newlines (logs.c), so every field fits the
 * simple form. The socket is non-blocking: when journald does not keep
 * up, a line is dropped and counted by the caller, never waited for.
 */
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journald.h"
#include "log.h"
#include "logring.h"
#include "util.h"

#define JOURNALD_SOCKET	"/run/systemd/journal/socket"
#define JOURNALD_RETRY_MS 1000	/* a socket gone is tried again this often */

static int		 journald_fd = -1;
static bool		 journald_wanted;
static struct sockaddr_un journald_addr;
static uint64_t		 journald_retry_at;

static const char *const journald_streams[] = {
	[LOGRING_STDOUT] = "stdout",
	[LOGRING_STDERR] = "stderr",
};

static int
journald_connect(void)
{
	int	fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&journald_addr,
	    sizeof(journald_addr)) == -1) {
		close(fd);
		return -1;
	}
	journald_fd = fd;
	return 0;
}

bool
journald_open(void)
{
	const char	*path = getenv("WARDEN_JOURNAL_SOCKET");

	if (getenv("JOURNAL_STREAM") == NULL)
		return false;
	if (path == NULL || *path == '\0')
		path = JOURNALD_SOCKET;
	memset(&journald_addr, 0, sizeof(journald_addr));
	journald_addr.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(journald_addr.sun_path)) {
		log_warnx("journal socket %s: path too long; workers' lines "
		    "go to warden's log", path);
		return false;
	}
	memcpy(journald_addr.sun_path, path, strlen(path));
	journald_wanted = true;
	if (journald_connect() == -1) {
		log_warn("journal socket %s; workers' lines go to warden's log "
		    "until it answers", path);
		journald_retry_at = util_now_ms() + JOURNALD_RETRY_MS;
	}
	return true;
}

bool
journald_active(void)
{
	return journald_wanted;
}

/* "<N>" at the start of a line: its syslog priority, 0 to 7. */
static int
journald_priority(const char **text, size_t *len)
{
	int	p;

	if (*len < 3 || (*text)[0] != '<' || (*text)[1] < '0' ||
	    (*text)[1] > '7' || (*text)[2] != '>')
		return 6;
	p = (*text)[1] - '0';
	*text += 3;
	*len -= 3;
	return p;
}

#define JOURNALD_IOV(s, l)	do {					\
	iov[n].iov_base = (void *)(uintptr_t)(s);			\
	iov[n++].iov_len = (l);						\
} while (0)

enum journald_rc
journald_send(const char *service, pid_t pid, int stream, const char *text,
    size_t len)
{
	struct iovec	iov[8];
	struct msghdr	mh;
	char		head[64], tail[512];
	size_t		n = 0;
	int		pri, hl, tl;

	if (journald_fd == -1) {
		if (util_now_ms() < journald_retry_at || journald_connect() == -1) {
			journald_retry_at = util_now_ms() + JOURNALD_RETRY_MS;
			return JOURNALD_GONE;
		}
	}
	pri = journald_priority(&text, &len);
	hl = snprintf(head, sizeof(head), "PRIORITY=%d\nSYSLOG_FACILITY=3\n"
	    "MESSAGE=", pri);
	tl = snprintf(tail, sizeof(tail), "\nSYSLOG_IDENTIFIER=%s\n"
	    "WARDEN_SERVICE=%s\nWARDEN_STREAM=%s\nSYSLOG_PID=%ld\n", service,
	    service, journald_streams[stream], (long)pid);
	if (tl < 0 || (size_t)tl >= sizeof(tail))
		return JOURNALD_GONE;
	JOURNALD_IOV(head, (size_t)hl);
	JOURNALD_IOV(text, len);
	JOURNALD_IOV(tail, (size_t)tl);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = n;
	for (;;) {
		if (sendmsg(journald_fd, &mh, MSG_NOSIGNAL) != -1)
			return JOURNALD_SENT;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == ENOBUFS)
			return JOURNALD_BUSY;
		/* journald went away (restarted?): connect again, later. */
		close(journald_fd);
		journald_fd = -1;
		journald_retry_at = util_now_ms() + JOURNALD_RETRY_MS;
		return JOURNALD_GONE;
	}
}

void
journald_close(void)
{
	if (journald_fd != -1)
		close(journald_fd);
	journald_fd = -1;
	journald_wanted = false;
}
