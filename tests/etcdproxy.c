/*
 * etcdproxy.c: a proxy in front of etcd that can hold a transaction
 * (etcdproxy.h). One thread polls the listening socket, a wake pipe and
 * both ends of every connection; each direction has a buffer of bytes
 * read and not yet written, written as the other end takes them.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "etcdproxy.h"
#include "util.h"

#define ETCDPROXY_TXN		"POST /v3/kv/txn"
#define ETCDPROXY_CONNS		64
#define ETCDPROXY_READ		16384
#define ETCDPROXY_BUF_MAX	(4u * 1024 * 1024)	/* read no more until written */

/* Bytes read from one end, to be written to the other. */
struct etcdproxy_buf {
	char	*p;
	size_t	 len, cap;
};

/* A client's connection and etcd's: [0] the client, [1] etcd. */
struct etcdproxy_conn {
	int			 fd[2];
	struct etcdproxy_buf	 out[2];	/* out[d]: to be written to fd[d] */
	bool			 eof[2];	/* fd[d] has said all it will */
	bool			 held;		/* out[1] from hold_at waits */
	size_t			 hold_at;
};

struct etcdproxy {
	int			 listen_fd, wake[2], port;
	char			 url[64];
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cond;
	/* Under mu: */
	bool			 armed, holding, release, stop;
	int			 held_count;
	/* The thread's own: */
	struct etcdproxy_conn	*conn[ETCDPROXY_CONNS];
};

static void
etcdproxy_wake(struct etcdproxy *p)
{
	ssize_t	n;

	do
		n = write(p->wake[1], "x", 1);
	while (n == -1 && errno == EINTR);
	/* EAGAIN: a wake is already pending, which is enough. */
	ck_assert_msg(n == 1 || errno == EAGAIN, "wake: %s", strerror(errno));
}

static void
etcdproxy_conn_close(struct etcdproxy *p, size_t i)
{
	struct etcdproxy_conn	*c = p->conn[i];
	int			 d;

	for (d = 0; d < 2; d++) {
		close(c->fd[d]);
		free(c->out[d].p);
	}
	pthread_mutex_lock(&p->mu);
	if (c->held)
		p->holding = false;
	pthread_mutex_unlock(&p->mu);
	free(c);
	p->conn[i] = NULL;
}

/* A new client: its connection to etcd made, both ends non-blocking. */
static void
etcdproxy_accept(struct etcdproxy *p)
{
	struct sockaddr_in	 sin;
	struct etcdproxy_conn	*c;
	int			 fd, up;
	size_t			 i;

	if ((fd = accept(p->listen_fd, NULL, NULL)) == -1)
		return;		/* EAGAIN, or a client already gone */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)p->port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	up = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	for (i = 0; i < ETCDPROXY_CONNS && p->conn[i] != NULL; i++)
		;
	/* etcd down or too many: the client sees its connection closed. */
	if (up == -1 || i == ETCDPROXY_CONNS ||
	    connect(up, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		if (up != -1)
			close(up);
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd[0] = fd;
	c->fd[1] = up;
	ck_assert_msg(util_set_nonblock(fd, true) == 0 &&
	    util_set_nonblock(up, true) == 0, "proxy: %s", strerror(errno));
	p->conn[i] = c;
}

/* The bytes of out[d] that may be written now: not those held. */
static size_t
etcdproxy_writable(const struct etcdproxy_conn *c, int d)
{
	return d == 1 && c->held ? c->hold_at : c->out[d].len;
}

/* Armed: hold the first txn request in the bytes just added to out[1]. */
static void
etcdproxy_scan(struct etcdproxy *p, struct etcdproxy_conn *c, size_t from)
{
	const char	*hit;
	size_t		 n = strlen(ETCDPROXY_TXN);

	from = from >= n - 1 ? from - (n - 1) : 0;
	pthread_mutex_lock(&p->mu);
	if (p->armed && !c->held &&
	    (hit = memmem(c->out[1].p + from, c->out[1].len - from,
	    ETCDPROXY_TXN, n)) != NULL) {
		c->held = true;
		c->hold_at = (size_t)(hit - c->out[1].p);
		p->armed = false;
		p->holding = true;
		p->held_count++;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->mu);
}

/* Read what fd[d] has into out[1 - d]: -1 when the connection is over. */
static int
etcdproxy_read(struct etcdproxy *p, struct etcdproxy_conn *c, int d)
{
	struct etcdproxy_buf	*b = &c->out[1 - d];
	ssize_t			 n;
	size_t			 was = b->len;

	if (b->cap - b->len < ETCDPROXY_READ) {
		b->cap = b->len + ETCDPROXY_READ;
		b->p = xreallocarray(b->p, b->cap, 1);
	}
	do
		n = read(c->fd[d], b->p + b->len, b->cap - b->len);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN ? 0 : -1;
	if (n == 0) {
		c->eof[d] = true;
		return 0;
	}
	b->len += (size_t)n;
	if (d == 0)
		etcdproxy_scan(p, c, was);
	return 0;
}

/* Write what out[d] may send to fd[d]: -1 when the connection is over. */
static int
etcdproxy_write(struct etcdproxy_conn *c, int d)
{
	struct etcdproxy_buf	*b = &c->out[d];
	ssize_t			 n;

	do
		n = send(c->fd[d], b->p, etcdproxy_writable(c, d),
		    MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN ? 0 : -1;
	memmove(b->p, b->p + n, b->len - (size_t)n);
	b->len -= (size_t)n;
	if (d == 1 && c->held)
		c->hold_at -= (size_t)n;
	return 0;
}

/*
 * One end closed and the other has all it may have: the connection is
 * over. HTTP clients and etcd do not half-close, and keeping a closed end
 * would have poll report its hangup on every turn. A request held when its
 * client gave up is dropped with it.
 */
static bool
etcdproxy_over(const struct etcdproxy_conn *c)
{
	int	d;

	for (d = 0; d < 2; d++)
		if (c->eof[1 - d] && etcdproxy_writable(c, d) == 0)
			return true;
	return false;
}

static short
etcdproxy_events(const struct etcdproxy_conn *c, int d)
{
	short	ev = 0;

	if (!c->eof[d] && c->out[1 - d].len < ETCDPROXY_BUF_MAX)
		ev |= POLLIN;
	if (etcdproxy_writable(c, d) > 0)
		ev |= POLLOUT;
	return ev;
}

/* Take the test's orders: a release, a stop. false: stop. */
static bool
etcdproxy_orders(struct etcdproxy *p)
{
	char	buf[64];
	size_t	i;
	bool	go;

	while (read(p->wake[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&p->mu);
	if (p->release) {
		for (i = 0; i < ETCDPROXY_CONNS; i++)
			if (p->conn[i] != NULL)
				p->conn[i]->held = false;
		p->holding = false;
		p->release = false;
	}
	go = !p->stop;
	pthread_mutex_unlock(&p->mu);
	return go;
}

/* Move the bytes of connection i as poll said: false when it is over. */
static bool
etcdproxy_turn(struct etcdproxy *p, size_t i, const struct pollfd *pf)
{
	struct etcdproxy_conn	*c = p->conn[i];
	int			 d;

	for (d = 0; d < 2; d++) {
		if ((pf[d].revents & (POLLIN | POLLHUP | POLLERR)) != 0 &&
		    !c->eof[d] && etcdproxy_read(p, c, d) == -1)
			return false;
		if ((pf[d].revents & POLLOUT) != 0 &&
		    etcdproxy_write(c, d) == -1)
			return false;
	}
	return !etcdproxy_over(c);
}

static void *
etcdproxy_main(void *arg)
{
	struct etcdproxy	*p = arg;
	struct pollfd		 pf[2 + 2 * ETCDPROXY_CONNS];
	size_t			 i;
	int			 d;

	for (;;) {
		pf[0] = (struct pollfd){ p->wake[0], POLLIN, 0 };
		pf[1] = (struct pollfd){ p->listen_fd, POLLIN, 0 };
		for (i = 0; i < ETCDPROXY_CONNS; i++)
			for (d = 0; d < 2; d++)
				pf[2 + 2 * i + d] = p->conn[i] == NULL ?
				    (struct pollfd){ -1, 0, 0 } :
				    (struct pollfd){ p->conn[i]->fd[d],
				    etcdproxy_events(p->conn[i], d), 0 };
		if (poll(pf, nitems(pf), -1) == -1) {
			ck_assert_msg(errno == EINTR, "poll: %s",
			    strerror(errno));
			continue;
		}
		if (pf[0].revents != 0 && !etcdproxy_orders(p))
			return NULL;
		if (pf[1].revents != 0)
			etcdproxy_accept(p);
		for (i = 0; i < ETCDPROXY_CONNS; i++)
			if (p->conn[i] != NULL && pf[2 + 2 * i].fd ==
			    p->conn[i]->fd[0] && !etcdproxy_turn(p, i,
			    &pf[2 + 2 * i]))
				etcdproxy_conn_close(p, i);
	}
}

struct etcdproxy *
etcdproxy_start(int port)
{
	struct etcdproxy	*p = xcalloc(1, sizeof(*p));
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	pthread_condattr_t	 ca;

	p->port = port;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_msg(p->listen_fd != -1 && bind(p->listen_fd,
	    (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    listen(p->listen_fd, 64) == 0 && getsockname(p->listen_fd,
	    (struct sockaddr *)&sin, &len) == 0, "proxy socket: %s",
	    strerror(errno));
	ck_assert_msg(util_set_nonblock(p->listen_fd, true) == 0, "proxy: %s",
	    strerror(errno));
	snprintf(p->url, sizeof(p->url), "http://127.0.0.1:%d",
	    ntohs(sin.sin_port));
	ck_assert_msg(pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) == 0, "pipe: %s",
	    strerror(errno));
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	ck_assert_int_eq(pthread_create(&p->thread, NULL, etcdproxy_main, p),
	    0);
	return p;
}

const char *
etcdproxy_url(const struct etcdproxy *p)
{
	return p->url;
}

void
etcdproxy_arm(struct etcdproxy *p)
{
	pthread_mutex_lock(&p->mu);
	p->armed = true;
	pthread_mutex_unlock(&p->mu);
}

void
etcdproxy_wait_held(struct etcdproxy *p, int timeout_ms)
{
	struct timespec	ts;
	int		rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&p->mu);
	while (!p->holding && rc == 0)
		rc = pthread_cond_timedwait(&p->cond, &p->mu, &ts);
	pthread_mutex_unlock(&p->mu);
	ck_assert_msg(rc == 0, "no transaction came through the proxy in %d ms",
	    timeout_ms);
}

void
etcdproxy_release(struct etcdproxy *p)
{
	pthread_mutex_lock(&p->mu);
	ck_assert_msg(p->holding, "the proxy holds no transaction");
	p->release = true;
	pthread_mutex_unlock(&p->mu);
	etcdproxy_wake(p);
}

int
etcdproxy_held_count(struct etcdproxy *p)
{
	int	n;

	pthread_mutex_lock(&p->mu);
	n = p->held_count;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void
etcdproxy_stop(struct etcdproxy *p)
{
	size_t	i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_mutex_unlock(&p->mu);
	etcdproxy_wake(p);
	ck_assert_int_eq(pthread_join(p->thread, NULL), 0);
	for (i = 0; i < ETCDPROXY_CONNS; i++)
		if (p->conn[i] != NULL)
			etcdproxy_conn_close(p, i);
	close(p->listen_fd);
	close(p->wake[0]);
	close(p->wake[1]);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cond);
	free(p);
}
