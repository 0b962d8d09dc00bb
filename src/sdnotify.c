/*
 * sdnotify.c: warden's own sd_notify(3) messages (see sdnotify.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"
#include "util.h"

static struct sockaddr_un	sdnotify_addr;
static socklen_t		sdnotify_len;

void
sdnotify_init(void)
{
	const char	*s = getenv("NOTIFY_SOCKET");
	size_t		 n;

	sdnotify_len = 0;
	if (s == NULL || (*s != '/' && *s != '@'))
		goto out;
	n = strlen(s);
	if (n >= sizeof(sdnotify_addr.sun_path)) {
		log_warnx("NOTIFY_SOCKET too long, ignored");
		goto out;
	}
	memset(&sdnotify_addr, 0, sizeof(sdnotify_addr));
	sdnotify_addr.sun_family = AF_UNIX;
	memcpy(sdnotify_addr.sun_path, s, n);
	if (*s == '@')
		sdnotify_addr.sun_path[0] = '\0';
	sdnotify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
out:
	unsetenv("NOTIFY_SOCKET");
}

int
sdnotify_send(const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;
	int	 fd, n;
	ssize_t	 w;

	if (sdnotify_len == 0)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		errno = EMSGSIZE;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	do
		w = sendto(fd, buf, (size_t)n, MSG_NOSIGNAL,
		    (struct sockaddr *)&sdnotify_addr, sdnotify_len);
	while (w == -1 && errno == EINTR);
	n = errno;
	close(fd);
	errno = n;
	return w == -1 ? -1 : 0;
}
