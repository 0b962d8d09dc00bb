/*
 * httpclient.h: a small HTTP/1.0 client on plain sockets, for the suites
 * that scrape warden's metrics endpoint or ask a Prometheus server. Every
 * wait is poll(2) with a deadline that only bounds a failure.
 */
#ifndef WARDEN_TESTS_HTTPCLIENT_H
#define WARDEN_TESTS_HTTPCLIENT_H

#include <stdbool.h>
#include <stddef.h>

struct http_reply {
	int	 status;	/* 0: no status line came (closed, refused) */
	char	*head;		/* the status line and headers */
	char	*body;		/* NUL-terminated */
	size_t	 body_len;
};

/* A connected TCP socket to "HOST:PORT" or "[ADDR]:PORT"; -1 on failure. */
int	 http_connect(const char *hostport, bool nonblock);
/* All of buf, within timeout_ms: 0 or -1. */
int	 http_send(int fd, const void *buf, size_t len, int timeout_ms);
/* Read until the peer closes; the bytes malloc'd (NUL-terminated), -1 on timeout. */
int	 http_read_all(int fd, int timeout_ms, char **out, size_t *len);
/* Split a whole answer into status, head and body (r is then the caller's). */
void	 http_parse(const char *raw, size_t len, struct http_reply *r);
/*
 * One request (method and path, "Connection: close"), and its answer.
 * 0, or -1 when it could not connect, send or read within timeout_ms.
 */
int	 http_request(const char *hostport, const char *method,
	    const char *path, int timeout_ms, struct http_reply *r);
void	 http_reply_free(struct http_reply *);

#endif
