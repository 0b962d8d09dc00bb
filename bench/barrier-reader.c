/*
 * barrier-reader.c: the worker of bench/compare's barrier figure: it reads
 * one flag through libwarden every MS milliseconds (default 1), as a
 * worker that follows a flag does, and so reports to warden
 * (WARDEN_REPORT) each generation it observes. A pause of poll(2)'s
 * timeout is the pacing of a worker, not a wait for anything; each
 * begins at a random point of its period, as workers started together
 * drift apart, so that a thousand of them do not wake in one burst.
 *
 * With SEEN, a file of 16-byte slots made by the bench, it also writes in
 * the slot of its service (s0042: slot 42) the generation it observed and
 * when (CLOCK_MONOTONIC ns), at the read that saw it first: the read that
 * sent warden its report. The bench then knows when the last reader read
 * the change, and how long warden took to answer after it.
 *
 *   bench-barrier-reader FLAG [MS [SEEN]]
 */
#include <sys/mman.h>

#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "warden.h"

struct seen {
	_Atomic uint64_t	gen;
	_Atomic uint64_t	ns;
};

/* This worker's slot of SEEN, or NULL. */
static struct seen *
seen_slot(const char *path)
{
	const char	*svc = getenv("WARDEN_SERVICE");
	struct seen	*map;
	off_t		 size;
	long		 i;
	int		 fd;

	if (svc == NULL || svc[0] != 's' || (i = atol(svc + 1)) < 0 ||
	    (fd = open(path, O_RDWR | O_CLOEXEC)) == -1)
		return NULL;
	size = lseek(fd, 0, SEEK_END);
	if (size < (off_t)((i + 1) * (long)sizeof(struct seen))) {
		close(fd);
		return NULL;
	}
	map = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return map == MAP_FAILED ? NULL : &map[i];
}

static uint64_t
mono_ns(void)
{
	struct timespec	ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	warden_table		*t;
	struct seen		*slot = NULL;
	unsigned long long	 gen, last = 0;
	int			 ms = argc >= 3 ? atoi(argv[2]) : 1;

	if (argc < 2 || argc > 4 || ms < 0) {
		fprintf(stderr, "usage: bench-barrier-reader FLAG [MS [SEEN]]\n");
		return 2;
	}
	if (argc == 4 && (slot = seen_slot(argv[3])) == NULL) {
		fprintf(stderr, "bench-barrier-reader: %s: no slot for %s\n",
		    argv[3], getenv("WARDEN_SERVICE") ? getenv("WARDEN_SERVICE") :
		    "(no WARDEN_SERVICE)");
		return 2;
	}
	if ((t = warden_open(NULL)) == NULL)
		return 1;
	srand((unsigned)getpid());
	if (ms > 0)
		(void)poll(NULL, 0, rand() % ms);
	for (;;) {
		(void)warden_enabled(t, argv[1], false);
		if (slot != NULL && (gen = warden_generation(t)) != last) {
			last = gen;
			atomic_store_explicit(&slot->ns, mono_ns(),
			    memory_order_relaxed);
			atomic_store_explicit(&slot->gen, gen,
			    memory_order_release);
		}
		(void)poll(NULL, 0, ms);
	}
}
