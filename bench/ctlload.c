/*
 * ctlload.c: load on warden's control socket.
 *
 *   bench-ctlload -S SOCKET -m METHOD [-p PARAMS] [-c CLIENTS] [-d SECONDS]
 *       [-n REQUESTS] [-i INTERVAL_US] [-f WAITS [-F CONDITION] [-t TIMEOUT_MS]]
 *
 * CLIENTS processes each open their own connection and send METHOD (with
 * the JSON object PARAMS) one request at a time, waiting for each answer,
 * for SECONDS, or with -n until REQUESTS have been sent among them (SECONDS
 * then only bounds the run). Latencies go into a histogram of 1 us buckets shared by all
 * clients, so the percentiles are over every request of the run. Prints
 * one line:
 *   method=M clients=C requests=N errors=E rps=R p50_us=.. p99_us=.. max_us=..
 *
 * With -i each client sends a request every INTERVAL_US instead of as
 * fast as it can, and a latency is counted from the time the request was
 * due, not sent: a stall of warden's is then counted for every request it
 * held up, not for one.
 *
 * With -f one more connection floods warden while the clients measure: it
 * sends WAITS waits on CONDITION (default a stage no configuration has),
 * each with TIMEOUT_MS (default 1000), and after every eighth a line of
 * garbage and a call of an unknown method; once the waits are sent, it
 * goes on with garbage and pings until the run ends. It reads and drops
 * every answer as it comes, counting them; the line gets
 *   flood_waits=.. flood_answers=.. flood_timeouts=.. flood_refused=..
 * where flood_waits counts the waits written to warden's socket and a
 * refusal is warden's max_pending error.
 *
 * Nothing is asserted; the numbers are for bench/compare to tabulate.
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench-clock.h"

#define NBUCKETS	200001		/* 0..200 ms in 1 us steps, then overflow */
#define MAXCLIENTS	256
#define FLOOD_CHUNK	256		/* lines the flooder builds at a time */

struct shared {
	uint64_t	requests;
	uint64_t	errors;
	uint64_t	max_ns;
	uint64_t	flood_waits;
	uint64_t	flood_answers;
	uint64_t	flood_timeouts;
	uint64_t	flood_refused;
	uint64_t	bucket[NBUCKETS];
};

struct flood {
	long		 waits;
	const char	*cond;
	int		 timeout_ms;
};

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "bench-ctlload: %s: %s\n", what, strerror(errno));
	exit(1);
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
	char	*nl, *res, *e;
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
	/*
	 * An error answer has "error" where a result has "result", right
	 * after the id: an "error" key inside a result (status's table has
	 * one) is no error.
	 */
	res = strstr(buf, "\"result\"");
	e = strstr(buf, "\"error\"");
	err = e != NULL && (res == NULL || e < res);
	*have -= (size_t)(nl + 1 - buf);
	memmove(buf, nl + 1, *have);
	return err;
}

static void
ctlload_record(struct shared *sh, long long dt)
{
	uint64_t	max;

	if (dt < 0)
		dt = 0;
	__atomic_fetch_add(&sh->requests, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sh->bucket[dt / 1000 < NBUCKETS - 1 ?
	    dt / 1000 : NBUCKETS - 1], 1, __ATOMIC_RELAXED);
	max = __atomic_load_n(&sh->max_ns, __ATOMIC_RELAXED);
	while ((uint64_t)dt > max && !__atomic_compare_exchange_n(
	    &sh->max_ns, &max, (uint64_t)dt, 0, __ATOMIC_RELAXED,
	    __ATOMIC_RELAXED))
		;
}

static void __attribute__((noreturn))
ctlload_client(struct shared *sh, const char *path, const char *req,
    long long start, long long deadline, long interval_us, long count)
{
	static char	buf[1 << 20];
	size_t		have = 0, len = strlen(req);
	long long	due = start, t0;
	int		fd;

	fd = ctlload_connect(path);
	for (;;) {
		t0 = bench_clock_ns();
		if (interval_us > 0) {
			/* Paced: wait for the next slot; late, go at once. */
			if (due >= deadline)
				break;
			while (t0 < due) {
				struct timespec	ts = { (due - t0) / 1000000000LL,
						    (due - t0) % 1000000000LL };

				nanosleep(&ts, NULL);
				t0 = bench_clock_ns();
			}
		} else if (t0 >= deadline)
			break;
		if (count == 0)
			break;
		count--;		/* negative: no count, only the deadline */
		ctlload_write(fd, req, len);
		if (ctlload_answer(fd, buf, sizeof(buf), &have))
			__atomic_fetch_add(&sh->errors, 1, __ATOMIC_RELAXED);
		ctlload_record(sh, bench_clock_ns() - (interval_us > 0 ? due : t0));
		due += interval_us * 1000LL;
	}
	close(fd);
	_exit(0);
}

/* The flooder's next lines: waits while there are some to send, then pings. */
static size_t
ctlload_flood_lines(char *out, size_t size, const struct flood *fl,
    long *sent, long long *id)
{
	size_t	used = 0;
	int	i, n;

	for (i = 0; i < FLOOD_CHUNK; i++) {
		if (*sent < fl->waits) {
			n = snprintf(out + used, size - used,
			    "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"wait\","
			    "\"params\":{\"condition\":%s,\"timeout_ms\":%d}}\n",
			    (*id)++, fl->cond, fl->timeout_ms);
			(*sent)++;
		} else
			n = snprintf(out + used, size - used,
			    "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"ping\"}\n",
			    (*id)++);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
		if (i % 8 == 7) {
			n = snprintf(out + used, size - used,
			    "}{ not json ]\n{\"jsonrpc\":\"2.0\",\"id\":%lld,"
			    "\"method\":\"no.such\"}\n", (*id)++);
			if (n < 0 || (size_t)n >= size - used)
				break;
			used += (size_t)n;
		}
	}
	return used;
}

/* Count the whole answer lines in buf[0..*have) and keep the rest. */
static void
ctlload_flood_count(struct shared *sh, char *buf, size_t *have)
{
	char	*p = buf, *nl;

	while ((nl = memchr(p, '\n', *have - (size_t)(p - buf))) != NULL) {
		*nl = '\0';
		sh->flood_answers++;
		if (strstr(p, "\"code\":-32003") != NULL)
			sh->flood_timeouts++;
		else if (strstr(p, "\"limit\":\"max_pending\"") != NULL)
			sh->flood_refused++;
		p = nl + 1;
	}
	*have -= (size_t)(p - buf);
	memmove(buf, p, *have);
	if (*have == 8192)
		*have = 0;	/* no answer is that long: drop it */
}

static void __attribute__((noreturn))
ctlload_flooder(struct shared *sh, const char *path, const struct flood *fl,
    long long deadline)
{
	static char	out[FLOOD_CHUNK * 1024], in[8192];
	struct pollfd	pfd;
	size_t		olen = 0, ooff = 0, have = 0;
	ssize_t		r;
	long long	id = 1, left;
	long		sent = 0, chunk = 0, written = 0;
	int		fd, flags;

	fd = ctlload_connect(path);
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		die("fcntl");
	while ((left = deadline - bench_clock_ns()) > 0) {
		if (ooff == olen) {
			written += chunk;
			chunk = sent;
			olen = ctlload_flood_lines(out, sizeof(out), fl, &sent, &id);
			chunk = sent - chunk;
			ooff = 0;
		}
		pfd.fd = fd;
		pfd.events = POLLIN | POLLOUT;
		if (poll(&pfd, 1, (int)(left / 1000000) + 1) == -1) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			r = read(fd, in + have, sizeof(in) - have);
			if (r == 0)
				break;		/* warden closed the connection */
			if (r == -1 && errno != EINTR && errno != EAGAIN) {
				if (errno == ECONNRESET)
					break;
				die("read");
			}
			if (r > 0) {
				have += (size_t)r;
				ctlload_flood_count(sh, in, &have);
			}
		}
		if (pfd.revents & POLLOUT) {
			r = write(fd, out + ooff, olen - ooff);
			if (r == -1 && errno != EINTR && errno != EAGAIN) {
				if (errno == EPIPE || errno == ECONNRESET)
					break;
				die("write");
			}
			if (r > 0)
				ooff += (size_t)r;
		}
	}
	/* The waits warden has been sent, all of them. */
	sh->flood_waits = (uint64_t)(written + (ooff == olen ? chunk : 0));
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
	long		 interval_us = 0, total = -1;
	struct flood	 fl = { 0, "{\"stage\":999999}", 1000 };
	pid_t		 pids[MAXCLIENTS + 1];
	int		 ch, clients = 1, i, n, nprocs;

	while ((ch = getopt(argc, argv, "S:m:p:c:d:n:i:f:F:t:")) != -1) {
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
		case 'n':
			total = atol(optarg);
			break;
		case 'i':
			interval_us = atol(optarg);
			break;
		case 'f':
			fl.waits = atol(optarg);
			break;
		case 'F':
			fl.cond = optarg;
			break;
		case 't':
			fl.timeout_ms = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (path == NULL || method == NULL || optind != argc ||
	    clients < 1 || clients > MAXCLIENTS || secs <= 0 || interval_us < 0 ||
	    fl.waits < 0 || fl.timeout_ms < 0 || total == 0 || total < -1)
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

	t0 = bench_clock_ns();
	deadline = t0 + (long long)(secs * 1e9);
	nprocs = clients + (fl.waits > 0);
	for (i = 0; i < nprocs; i++) {
		if ((pids[i] = fork()) == -1)
			die("fork");
		if (pids[i] == 0 && i == clients)
			ctlload_flooder(sh, path, &fl, deadline);
		if (pids[i] == 0)
			ctlload_client(sh, path, req, t0, deadline, interval_us,
			    total < 0 ? -1 : total / clients + (i < total % clients));
	}
	n = 0;
	for (i = 0; i < nprocs; i++) {
		int	status;

		while (waitpid(pids[i], &status, 0) == -1)
			if (errno != EINTR)
				die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			n++;
	}
	printf("method=%s clients=%d requests=%llu errors=%llu rps=%.0f "
	    "p50_us=%ld p99_us=%ld max_us=%.0f failed_clients=%d", method,
	    clients, (unsigned long long)sh->requests,
	    (unsigned long long)sh->errors,
	    (double)sh->requests / ((double)(bench_clock_ns() - t0) / 1e9),
	    ctlload_pct(sh, 0.50), ctlload_pct(sh, 0.99),
	    (double)sh->max_ns / 1000.0, n);
	if (fl.waits > 0)
		printf(" flood_waits=%llu flood_answers=%llu flood_timeouts=%llu "
		    "flood_refused=%llu", (unsigned long long)sh->flood_waits,
		    (unsigned long long)sh->flood_answers,
		    (unsigned long long)sh->flood_timeouts,
		    (unsigned long long)sh->flood_refused);
	printf("\n");
	free(req);
	return n != 0;

usage:
	fprintf(stderr, "usage: bench-ctlload -S SOCKET -m METHOD [-p PARAMS] "
	    "[-c CLIENTS] [-d SECONDS] [-n REQUESTS]\n"
	    "           [-i INTERVAL_US] [-f WAITS [-F CONDITION] "
	    "[-t TIMEOUT_MS]]\n");
	return 2;
}
