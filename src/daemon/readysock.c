/*
 * readysock.c: the NOTIFY_SOCKET warden gives its workers (see readysock.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "readysock.h"
#include "util.h"

#define READYSOCK_MAX_FDS		16
#define READYSOCK_BATCH		64	/* datagrams per wake-up, so others get a turn */

static int		 readysock_fd = -1;
static struct event	*readysock_ev;
static char		 readysock_name[108];
static readysock_fn	 readysock_cb;
static void		*readysock_arg;
static int		 readysock_adopted = -1;	/* a reexec's socket, for readysock_open */

static void
readysock_close_fds(struct msghdr *mh)
{
	struct cmsghdr	*cm;
	int		*fds;
	size_t		 i, n;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		fds = (int *)(void *)CMSG_DATA(cm);
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++)
			close(fds[i]);
	}
}

static pid_t
readysock_sender(struct msghdr *mh)
{
	struct cmsghdr	*cm;
	struct ucred	 uc;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_CREDENTIALS &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(uc))) {
			memcpy(&uc, CMSG_DATA(cm), sizeof(uc));
			return uc.pid;
		}
	}
	return 0;
}

ssize_t
readysock_recv(int fd, char *buf, size_t size, pid_t *pid, bool *cut)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(struct ucred)) +
		    CMSG_SPACE(sizeof(int) * READYSOCK_MAX_FDS)];
	} ctl;
	struct iovec	 iov;
	struct msghdr	 mh;
	ssize_t		 n;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = size - 1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n == -1)
		return -1;
	/* Descriptors sent along are closed whatever the message says. */
	readysock_close_fds(&mh);
	buf[n] = '\0';
	*pid = readysock_sender(&mh);
	*cut = (mh.msg_flags & MSG_TRUNC) != 0;
	return n;
}

static void
readysock_read(evutil_socket_t fd, short what, void *arg)
{
	char		 buf[4096 + 1];
	ssize_t		 n;
	pid_t		 pid;
	bool		 cut;
	int		 i;

	(void)what;
	(void)arg;
	for (i = 0; i < READYSOCK_BATCH; i++) {
		n = readysock_recv(fd, buf, sizeof(buf), &pid, &cut);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("notify socket: recvmsg");
			return;
		}
		if (cut) {
			log_warnx("notify socket: message over %zu bytes ignored",
			    sizeof(buf) - 1);
			continue;
		}
		if (pid <= 0) {
			log_debug("notify socket: message without credentials ignored");
			continue;
		}
		readysock_cb(pid, buf, (size_t)n, readysock_arg);
	}
}

int
readysock_open(struct event_base *base, readysock_fn cb, void *arg)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	int			one = 1;
	static unsigned		generation;

	readysock_cb = cb;
	readysock_arg = arg;
	if (readysock_adopted != -1) {
		/* Workers were told this address: the same socket serves them. */
		readysock_fd = readysock_adopted;
		readysock_adopted = -1;
		goto watch;
	}
	readysock_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (readysock_fd == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(readysock_name, sizeof(readysock_name), "@warden-notify.%ld.%u",
	    (long)getpid(), generation++);
	/* Abstract address: no file to clean up, no permissions to grant. */
	memcpy(sun.sun_path + 1, readysock_name + 1, strlen(readysock_name) - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(readysock_name));
	if (bind(readysock_fd, (struct sockaddr *)&sun, len) == -1 ||
	    setsockopt(readysock_fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1) {
		close(readysock_fd);
		readysock_fd = -1;
		return -1;
	}
watch:
	readysock_ev = event_new(base, readysock_fd, EV_READ | EV_PERSIST, readysock_read, NULL);
	if (readysock_ev == NULL || event_add(readysock_ev, NULL) == -1)
		fatalx("notify socket: cannot add event");
	return 0;
}

json_t *
readysock_handover(void)
{
	if (readysock_fd == -1)
		return json_null();
	return json_pack("{s:i,s:s}", "fd", readysock_fd, "name", readysock_name);
}

int
readysock_take_fd(int fd, const char *what, char *err, size_t errlen)
{
	int		 type, domain;
	socklen_t	 len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 ||
	    (len = sizeof(domain), getsockopt(fd, SOL_SOCKET, SO_DOMAIN,
	    &domain, &len)) == -1 || type != SOCK_DGRAM || domain != AF_UNIX) {
		snprintf(err, errlen, "%s: fd %d is not a datagram unix "
		    "socket", what, fd);
		return -1;
	}
	if (util_set_cloexec(fd, true) == -1 ||
	    util_set_nonblock(fd, true) == -1) {
		snprintf(err, errlen, "%s: fd %d: %s", what, fd, strerror(errno));
		return -1;
	}
	return 0;
}

int
readysock_adopt(const json_t *d, char *err, size_t errlen)
{
	const char	*name;
	json_int_t	 fd;

	if (json_is_null(d))
		return 0;
	if (json_unpack((json_t *)d, "{s:I,s:s}", "fd", &fd, "name", &name) == -1 ||
	    fd < 0 || fd > INT_MAX || name[0] != '@' ||
	    strlen(name) >= sizeof(readysock_name)) {
		snprintf(err, errlen, "notify: want {fd, name \"@...\"}");
		return -1;
	}
	if (readysock_take_fd((int)fd, "notify", err, errlen) == -1)
		return -1;
	snprintf(readysock_name, sizeof(readysock_name), "%s", name);
	readysock_adopted = (int)fd;
	return 0;
}

const char *
readysock_socket_name(void)
{
	return readysock_name;
}

void
readysock_close(void)
{
	if (readysock_ev != NULL)
		event_free(readysock_ev);
	readysock_ev = NULL;
	if (readysock_fd != -1)
		close(readysock_fd);
	readysock_fd = -1;
}

int
readysock_has(const char *msg, const char *line)
{
	size_t		 n = strlen(line);
	const char	*p = msg;

	while (*p != '\0') {
		if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return 1;
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	return 0;
}

const char *
readysock_value(const char *msg, const char *key, size_t *len)
{
	size_t		 n = strlen(key);
	const char	*p = msg, *found = NULL;

	while (*p != '\0') {
		if (strncmp(p, key, n) == 0 && p[n] == '=')
			found = p + n + 1;
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	if (found != NULL)
		*len = strcspn(found, "\n");
	return found;
}
