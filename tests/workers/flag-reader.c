/*
 * flag-reader.c: a worker that reads one flag the way any worker would,
 * through libwarden and the table warden hands it (warden_open(NULL):
 * WARDEN_TABLE_FD, then WARDEN_TABLE). It prints "FLAG=on|off stage=N"
 * at start and whenever the answer changes, looking every 5 ms; the tests
 * wait for those lines in warden's log.
 *   flag-reader FLAG
 */
#include <poll.h>
#include <stdio.h>

#include "warden.h"

int
main(int argc, char **argv)
{
	warden_table	*t;
	int		 on, stage, last_on = -1, last_stage = -2;

	if (argc != 2) {
		fprintf(stderr, "usage: flag-reader FLAG\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	t = warden_open(NULL);
	for (;;) {
		on = warden_enabled(t, argv[1], false);
		stage = warden_stage(t);
		if (on != last_on || stage != last_stage) {
			printf("%s=%s stage=%d\n", argv[1], on ? "on" : "off", stage);
			last_on = on;
			last_stage = stage;
		}
		(void)poll(NULL, 0, 5);
	}
}
