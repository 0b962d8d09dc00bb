/*
 * bench-httpd.c: a worker that answers HTTP, for the liveness figures of
 * bench/compare. Like bench-worker, its first act is to write "PID NS\n"
 * (CLOCK_MONOTONIC) to the FIFO, so that a replacement is timed to its
 * first instruction. Then it answers every connection on 127.0.0.1:PORT
 * with "HTTP/1.0 200 OK", one at a time, from one thread: stopped
 * (SIGSTOP), it answers nothing, as a hung server would.
 *
 *   bench-httpd FIFO PORT
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char answer[] =
    "HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";

static int
stamp(const char *fifo)
{
	struct timespec	ts;
	char		line[64];
	int		fd, n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "%ld %lld\n", (long)getpid(),
	    (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	if ((fd = open(fifo, O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	if (write(fd, line, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int
listen_on(int port)
{
	struct sockaddr_in	sin;
	int			s, one = 1;

	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 128) == -1) {
		close(s);
		return -1;
	}
	return s;
}

int
main(int argc, char **argv)
{
	char	buf[1024];
	int	s, c;

	if (argc != 3)
		return 2;
	if (stamp(argv[1]) == -1 || (s = listen_on(atoi(argv[2]))) == -1)
		return 1;
	for (;;) {
		if ((c = accept(s, NULL, NULL)) == -1)
			continue;
		/* The request, or what came of it: one read is enough here. */
		(void)read(c, buf, sizeof(buf));
		(void)write(c, answer, sizeof(answer) - 1);
		close(c);
	}
}
