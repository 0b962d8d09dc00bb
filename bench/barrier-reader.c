/*
 * barrier-reader.c: the worker of bench/compare's barrier figure: it reads
 * one flag through libwarden every MS milliseconds (default 1), as a
 * worker that follows a flag does, and so reports to warden
 * (WARDEN_REPORT) each generation it observes. A pause of poll(2)'s
 * timeout is the pacing of a worker, not a wait for anything; each
 * begins at a random point of its period, as workers started together
 * drift apart, so that a thousand of them do not wake in one burst.
 *
 *   bench-barrier-reader FLAG [MS]
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "warden.h"

int
main(int argc, char **argv)
{
	warden_table	*t;
	int		 ms = argc == 3 ? atoi(argv[2]) : 1;

	if (argc < 2 || argc > 3 || ms < 0) {
		fprintf(stderr, "usage: bench-barrier-reader FLAG [MS]\n");
		return 2;
	}
	if ((t = warden_open(NULL)) == NULL)
		return 1;
	srand((unsigned)getpid());
	if (ms > 0)
		(void)poll(NULL, 0, rand() % ms);
	for (;;) {
		(void)warden_enabled(t, argv[1], false);
		(void)poll(NULL, 0, ms);
	}
}
