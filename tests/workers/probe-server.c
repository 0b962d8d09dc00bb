/*
 * probe-server.c: a TCP server for the liveness probe tests, whose answer
 * the command line chooses:
 *
 *	probe-server PORT MODE [DELAY_MS]
 *
 * It listens on 127.0.0.1:PORT (SO_REUSEADDR) and, for each connection,
 * by MODE:
 *	200	 reads the request's first bytes, answers "HTTP/1.0 200 OK"
 *	500	 the same with "HTTP/1.0 500 Internal Server Error"
 *	garbage	 answers a line that is not HTTP
 *	silent	 accepts and never answers (nor closes)
 *	slow	 answers 200 DELAY_MS after the connection came
 *	close	 reads the request's first bytes, closes answering nothing
 *	drop	 closes at once (for tcp probes, which send nothing)
 * It runs until a signal ends it. Links nothing from warden on purpose.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PS_CLIENTS	256

static const char ok200[] = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
static const char err500[] = "HTTP/1.0 500 Internal Server Error\r\n"
    "Content-Length: 0\r\n\r\n";
static const char junk[] = "SSH-2.0-not-http\r\n";

struct client {
	int		fd;
	long long	due;	/* slow: when to answer (ms) */
};

static long long
ps_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
ps_listen(int port)
{
	struct sockaddr_in	sin;
	int			fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 1024) == -1)
		return -1;
	return fd;
}

/* The answer of mode, or NULL for none. */
static const char *
ps_answer(const char *mode)
{
	if (strcmp(mode, "200") == 0 || strcmp(mode, "slow") == 0)
		return ok200;
	if (strcmp(mode, "500") == 0)
		return err500;
	if (strcmp(mode, "garbage") == 0)
		return junk;
	return NULL;
}

static void
ps_reply(struct client *c, const char *answer, int wait_request)
{
	struct pollfd	pfd = { c->fd, POLLIN, 0 };
	char		buf[1024];

	/*
	 * The request read first (a second at most): closing with it unread
	 * would reset the connection, and the answer with it.
	 */
	if (wait_request && poll(&pfd, 1, 1000) == 1)
		(void)recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (answer != NULL)
		(void)send(c->fd, answer, strlen(answer), MSG_NOSIGNAL);
	close(c->fd);
	c->fd = -1;
}

int
main(int argc, char **argv)
{
	struct client	 cl[PS_CLIENTS];
	struct pollfd	 pfd;
	const char	*mode, *answer;
	long long	 delay = 0, now, wait;
	int		 lfd, fd, i;

	if (argc < 3) {
		fprintf(stderr, "usage: probe-server PORT MODE [DELAY_MS]\n");
		return 2;
	}
	mode = argv[2];
	answer = ps_answer(mode);
	if (argc > 3)
		delay = atoll(argv[3]);
	if ((lfd = ps_listen(atoi(argv[1]))) == -1) {
		perror("probe-server: listen");
		return 1;
	}
	for (i = 0; i < PS_CLIENTS; i++)
		cl[i].fd = -1;
	for (;;) {
		now = ps_now_ms();
		wait = -1;
		for (i = 0; i < PS_CLIENTS; i++) {
			if (cl[i].fd == -1 || cl[i].due == 0)
				continue;
			if (cl[i].due <= now)
				ps_reply(&cl[i], answer, 1);
			else if (wait == -1 || cl[i].due - now < wait)
				wait = cl[i].due - now;
		}
		pfd.fd = lfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)wait) == -1 && errno != EINTR)
			return 1;
		if (!(pfd.revents & POLLIN))
			continue;
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		for (i = 0; i < PS_CLIENTS && cl[i].fd != -1; i++)
			;
		if (i == PS_CLIENTS) {
			close(fd);	/* silent: the oldest are held already */
			continue;
		}
		cl[i].fd = fd;
		cl[i].due = 0;
		if (strcmp(mode, "slow") == 0)
			cl[i].due = ps_now_ms() + delay;
		else if (strcmp(mode, "silent") != 0)
			ps_reply(&cl[i], answer, strcmp(mode, "drop") != 0);
	}
}
