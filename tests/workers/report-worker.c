/*
 * report-worker.c: a worker that reads the table through libwarden, for
 * the tests of who reads what and the propagation barrier
 * (check_observe_live.c). It prints "MODE pid PID" once its first read
 * is done, then:
 *   read FLAG     reads FLAG every 2 ms
 *   fork FLAG     reads FLAG once, then a fork of it (which inherits the
 *                 handle) reads it every 2 ms; prints "child pid PID"
 *   garbage FLAG  reads FLAG every 2 ms; on SIGUSR1 sends to its
 *                 WARDEN_REPORT what no handle sends (binary, too big, a
 *                 generation from the future, an unknown flag, then 10000
 *                 messages as fast as it can), then prints "garbage sent"
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "warden.h"

static volatile sig_atomic_t	usr1;

static void
on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

static void
send_one(int fd, const struct sockaddr_un *sun, socklen_t len,
    const void *buf, size_t n)
{
	(void)sendto(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL,
	    (const struct sockaddr *)sun, len);
}

/* What no handle sends, to the address warden gave. */
static void
send_garbage(void)
{
	struct sockaddr_un	 sun;
	const char		*addr = getenv("WARDEN_REPORT");
	char			 big[4096], bin[16] = { 0, 1, 2, (char)0xff };
	socklen_t		 len;
	int			 fd, i;

	if (addr == NULL || addr[0] != '@' ||
	    strlen(addr) > sizeof(sun.sun_path))
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, addr + 1, strlen(addr) - 1);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(addr));
	memset(big, 'R', sizeof(big));
	send_one(fd, &sun, len, bin, sizeof(bin));
	send_one(fd, &sun, len, big, sizeof(big));
	send_one(fd, &sun, len, "G=999999999\n", 12);
	send_one(fd, &sun, len, "R=no_such_flag\n", 15);
	for (i = 0; i < 10000; i++)
		send_one(fd, &sun, len, "G=1\nX\n", 6);
	close(fd);
}

static void
read_loop(warden_table *t, const char *flag)
{
	for (;;) {
		(void)warden_enabled(t, flag, false);
		if (usr1) {
			usr1 = 0;
			send_garbage();
			printf("garbage sent\n");
		}
		(void)poll(NULL, 0, 2);
	}
}

int
main(int argc, char **argv)
{
	warden_table	*t;
	pid_t		 child;

	if (argc != 3) {
		fprintf(stderr, "usage: report-worker read|fork|garbage FLAG\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);
	t = warden_open(NULL);
	(void)warden_enabled(t, argv[2], false);
	printf("%s pid %ld\n", argv[1], (long)getpid());
	if (strcmp(argv[1], "fork") == 0) {
		if ((child = fork()) == -1)
			return 1;
		if (child == 0)
			read_loop(t, argv[2]);
		printf("child pid %ld\n", (long)child);
		for (;;)
			pause();
	}
	read_loop(t, argv[2]);
	return 0;
}
