/*
 * barrier-reader.c: the worker of bench/compare's barrier figure: it reads
 * one flag through libwarden every millisecond, as a worker that follows
 * a flag does, and so reports to warden (WARDEN_REPORT) each generation
 * it observes. A pause of poll(2)'s timeout is the pacing of a worker,
 * not a wait for anything.
 *
 *   bench-barrier-reader FLAG
 */
#include <poll.h>
#include <stdio.h>

#include "warden.h"

int
main(int argc, char **argv)
{
	warden_table	*t;

	if (argc != 2) {
		fprintf(stderr, "usage: bench-barrier-reader FLAG\n");
		return 2;
	}
	if ((t = warden_open(NULL)) == NULL)
		return 1;
	for (;;) {
		(void)warden_enabled(t, argv[1], false);
		(void)poll(NULL, 0, 1);
	}
}
