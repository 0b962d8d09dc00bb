/*
 * httpclient.c: a small HTTP/1.0 client on plain sockets (httpclient.h).
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "httpclient.h"
#include "util.h"

static int
http_left(uint64_t deadline)
{
	uint64_t	now = util_now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

int
http_connect(const char *hostport, bool nonblock)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*in6 = (struct sockaddr_in6 *)&ss;
	char			 host[128];
	const char		*colon = strrchr(hostport, ':');
	socklen_t		 len;
	size_t			 hl;
	int			 fd;

	if (colon == NULL || (hl = (size_t)(colon - hostport)) >= sizeof(host))
		return -1;
	memcpy(host, hostport, hl);
	host[hl] = '\0';
	memset(&ss, 0, sizeof(ss));
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -1;
		len = sizeof(*in6);
	} else {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
			return -1;
		len = sizeof(*in4);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1 &&
	    !(nonblock && errno == EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

int
http_send(int fd, const void *buf, size_t len, int timeout_ms)
{
	uint64_t	 deadline = util_now_ms() + (uint64_t)timeout_ms;
	const char	*p = buf;
	struct pollfd	 pfd = { .fd = fd, .events = POLLOUT };
	ssize_t		 n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT)) > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (poll(&pfd, 1, http_left(deadline)) <= 0)
			return -1;
	}
	return 0;
}

int
http_read_all(int fd, int timeout_ms, char **out, size_t *outlen)
{
	uint64_t	 deadline = util_now_ms() + (uint64_t)timeout_ms;
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	size_t		 len = 0, cap = 65536;
	char		*buf = xmalloc(cap);
	ssize_t		 n;

	for (;;) {
		if (len + 1 >= cap)
			buf = xreallocarray(buf, cap *= 2, 1);
		n = recv(fd, buf + len, cap - len - 1, MSG_DONTWAIT);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		/* A reset after the answer counts as its end: the peer is gone. */
		if (n == 0 || (n == -1 && errno == ECONNRESET))
			break;
		if (errno != EAGAIN && errno != EINTR)
			goto fail;
		if (poll(&pfd, 1, http_left(deadline)) <= 0)
			goto fail;
	}
	buf[len] = '\0';
	*out = buf;
	if (outlen != NULL)
		*outlen = len;
	return 0;
fail:
	free(buf);
	return -1;
}

void
http_parse(const char *raw, size_t len, struct http_reply *r)
{
	const char	*end = strstr(raw, "\r\n\r\n");
	size_t		 hl = end != NULL ? (size_t)(end - raw) : len;

	memset(r, 0, sizeof(*r));
	if (strncmp(raw, "HTTP/1.", 7) == 0 && len > 12)
		r->status = atoi(raw + 9);
	r->head = xmalloc(hl + 1);
	memcpy(r->head, raw, hl);
	r->head[hl] = '\0';
	r->body_len = end != NULL ? len - hl - 4 : 0;
	r->body = xmalloc(r->body_len + 1);
	memcpy(r->body, end != NULL ? end + 4 : "", r->body_len);
	r->body[r->body_len] = '\0';
}

int
http_request(const char *hostport, const char *method, const char *path,
    int timeout_ms, struct http_reply *r)
{
	char	*req, *raw;
	size_t	 len;
	int	 fd, rc;

	memset(r, 0, sizeof(*r));
	if ((fd = http_connect(hostport, false)) == -1)
		return -1;
	xasprintf(&req, "%s %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n",
	    method, path, hostport);
	rc = http_send(fd, req, strlen(req), timeout_ms);
	free(req);
	if (rc == 0 && (rc = http_read_all(fd, timeout_ms, &raw, &len)) == 0) {
		http_parse(raw, len, r);
		free(raw);
	}
	close(fd);
	return rc;
}

void
http_reply_free(struct http_reply *r)
{
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof(*r));
}
