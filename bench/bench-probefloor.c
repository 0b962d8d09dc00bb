/*
 * bench-probefloor.c: the floor of the probes figure of bench/compare: the
 * least a process can do to check that a loopback port accepts, N times a
 * second for S seconds: a socket, a blocking connect, a close by reset,
 * as warden's tcp probe ends. It prints the CPU it used (user and system,
 * ns) and the connections it made, so warden's tcp probes can be read as
 * a ratio of it.
 *
 *   bench-probefloor PORT RATE SECONDS
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long
ns_of(struct timeval tv)
{
	return (long long)tv.tv_sec * 1000000000LL + tv.tv_usec * 1000LL;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	sin;
	struct linger		l = { 1, 0 };
	struct rusage		ru;
	struct timespec		gap;
	long			rate, n, i, made = 0;
	int			s;

	if (argc != 4 || (rate = atol(argv[2])) <= 0)
		return 2;
	n = rate * atol(argv[3]);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	gap.tv_sec = 0;
	gap.tv_nsec = 1000000000L / rate;
	for (i = 0; i < n; i++) {
		if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			return 1;
		if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			made++;
		(void)setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(s);
		while (nanosleep(&gap, NULL) == -1 && errno == EINTR)
			;
	}
	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return 1;
	printf("%lld %ld\n", ns_of(ru.ru_utime) + ns_of(ru.ru_stime), made);
	return 0;
}
