/*
 * notify-wait.c: the service manager's end of sd_notify(3) for tests in
 * languages that cannot bind a datagram socket themselves (Node.js).
 * It binds PATH, prints "bound" once it listens, and exits 0 at the first
 * datagram that holds "READY=1"; 1 when none came within MS milliseconds,
 * 2 for a usage error or a failed call. The caller starts warden with
 * NOTIFY_SOCKET=PATH after it has read "bound": no wait is a sleep.
 *   notify-wait PATH MS
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long
notify_wait_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
main(int argc, char **argv)
{
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	char			 buf[4096];
	long long		 end;
	ssize_t			 n;
	int			 fd, left;

	if (argc != 3 || strlen(argv[1]) >= sizeof sun.sun_path) {
		fprintf(stderr, "usage: notify-wait PATH MS\n");
		return 2;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, argv[1], strlen(argv[1]));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		fprintf(stderr, "notify-wait: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	if (printf("bound\n") < 0 || fflush(stdout) != 0)
		return 2;
	end = notify_wait_now_ms() + atoll(argv[2]);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while ((left = (int)(end - notify_wait_now_ms())) > 0) {
		if (poll(&pfd, 1, left) == -1) {
			if (errno == EINTR)
				continue;
			return 2;
		}
		if ((n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT)) < 0)
			continue;	/* EAGAIN after a timeout, EINTR */
		buf[n] = '\0';
		if (strstr(buf, "READY=1") != NULL)
			return 0;
	}
	fprintf(stderr, "notify-wait: no READY=1 within %s ms\n", argv[2]);
	return 1;
}
