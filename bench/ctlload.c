/*
 * ctlload.c: load on warden's control socket.
 *
 *   bench-ctlload -S SOCKET -m METHOD [-p PARAMS] [-c CLIENTS] [-d SECONDS]
 *
 * CLIENTS processes each open their own connection and send METHOD (with
 * the JSON object PARAMS) one request at a time, waiting for each answer,
 * for SECONDS. Latencies go into a histogram of 1 us buckets shared by all
 * clients, so the percentiles are over every request of the run. Prints
 * one line:
 *   method=M clients=C requests=N errors=E rps=R p50_us=.. p99_us=.. max_us=..
 * Nothing is asserted; the numbers are for bench/compare to tabulate.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NBUCKETS	200001		/* 0..200 ms in 1 us steps, then overflow */
#define MAXCLIENTS	256

struct shared {
	uint64_t	requests;
	uint64_t	errors;
	uint64_t	max_ns;
	uint64_t	bucket[NBUCKETS];
};

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "bench-ctlload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long long
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
ctlload_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		die(path);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		die(path);
	return fd;
}

static void
ctlload_write(int fd, const char *buf, size_t len)
{
	ssize_t	w;

	while (len > 0) {
		if ((w = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		buf += w;
		len -= (size_t)w;
	}
}

/* Read one answer line; returns 1 if it carried an error. */
static int
ctlload_answer(int fd, char *buf, size_t size, size_t *have)
{
	char	*nl;
	ssize_t	 r;
	int	 err;

	while ((nl = memchr(buf, '\n', *have)) == NULL) {
		if (*have == size)
			*have = 0;	/* a huge answer: keep only its end */
		if ((r = read(fd, buf + *have, size - *have)) == -1) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (r == 0) {
			fprintf(stderr, "bench-ctlload: warden closed the "
			    "connection\n");
			exit(1);
		}
		*have += (size_t)r;
	}
	*nl = '\0';
	err = strstr(buf, "\"error\"") != NULL;
	*have -= (size_t)(nl + 1 - buf);
	memmove(buf, nl + 1, *have);
	return err;
}

static void __attribute__((noreturn))
ctlload_client(struct shared *sh, const char *path, const char *req,
    long long deadline)
{
	static char	buf[1 << 20];
	size_t		have = 0, len = strlen(req);
	long long	t0, dt;
	uint64_t	max;
	int		fd;

	fd = ctlload_connect(path);
	while ((t0 = now_ns()) < deadline) {
		ctlload_write(fd, req, len);
		if (ctlload_answer(fd, buf, sizeof(buf), &have))
			__atomic_fetch_add(&sh->errors, 1, __ATOMIC_RELAXED);
		dt = now_ns() - t0;
		__atomic_fetch_add(&sh->requests, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&sh->bucket[dt / 1000 < NBUCKETS - 1 ?
		    dt / 1000 : NBUCKETS - 1], 1, __ATOMIC_RELAXED);
		max = __atomic_load_n(&sh->max_ns, __ATOMIC_RELAXED);
		while ((uint64_t)dt > max && !__atomic_compare_exchange_n(
		    &sh->max_ns, &max, (uint64_t)dt, 0, __ATOMIC_RELAXED,
		    __ATOMIC_RELAXED))
			;
	}
	close(fd);
	_exit(0);
}

static long
ctlload_pct(const struct shared *sh, double p)
{
	uint64_t	want, seen = 0;
	long		i;

	want = (uint64_t)(p * (double)sh->requests);
	if (want < 1)
		want = 1;
	for (i = 0; i < NBUCKETS; i++) {
		seen += sh->bucket[i];
		if (seen >= want)
			return i;
	}
	return NBUCKETS - 1;
}

int
main(int argc, char *argv[])
{
	struct shared	*sh;
	const char	*path = NULL, *method = NULL, *params = NULL;
	char		*req;
	double		 secs = 2.0;
	long long	 t0, deadline;
	pid_t		 pids[MAXCLIENTS];
	int		 ch, clients = 1, i, n;

	while ((ch = getopt(argc, argv, "S:m:p:c:d:")) != -1) {
		switch (ch) {
		case 'S':
			path = optarg;
			break;
		case 'm':
			method = optarg;
			break;
		case 'p':
			params = optarg;
			break;
		case 'c':
			clients = atoi(optarg);
			break;
		case 'd':
			secs = atof(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (path == NULL || method == NULL || optind != argc ||
	    clients < 1 || clients > MAXCLIENTS || secs <= 0)
		goto usage;

	n = params != NULL ?
	    asprintf(&req, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\","
	    "\"params\":%s}\n", method, params) :
	    asprintf(&req, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\"}\n",
	    method);
	if (n == -1)
		die("asprintf");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");

	t0 = now_ns();
	deadline = t0 + (long long)(secs * 1e9);
	for (i = 0; i < clients; i++) {
		if ((pids[i] = fork()) == -1)
			die("fork");
		if (pids[i] == 0)
			ctlload_client(sh, path, req, deadline);
	}
	n = 0;
	for (i = 0; i < clients; i++) {
		int	status;

		while (waitpid(pids[i], &status, 0) == -1)
			if (errno != EINTR)
				die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			n++;
	}
	printf("method=%s clients=%d requests=%llu errors=%llu rps=%.0f "
	    "p50_us=%ld p99_us=%ld max_us=%.0f failed_clients=%d\n", method,
	    clients, (unsigned long long)sh->requests,
	    (unsigned long long)sh->errors,
	    (double)sh->requests / ((double)(now_ns() - t0) / 1e9),
	    ctlload_pct(sh, 0.50), ctlload_pct(sh, 0.99),
	    (double)sh->max_ns / 1000.0, n);
	free(req);
	return n != 0;

usage:
	fprintf(stderr, "usage: bench-ctlload -S SOCKET -m METHOD [-p PARAMS] "
	    "[-c CLIENTS] [-d SECONDS]\n");
	return 2;
}
