/*
 * flagread.c: what a flag read costs (SPEC section 9: under 20 ns, no
 * system call).
 *
 *   bench-flagread [-n READS] [-r RUNS] [-w] [-t THREADS | -p PROCS]
 *
 * Makes its own table with the writer API (/warden-bench-PID, the seven
 * demo flags and a 50% rollout), reads it through libwarden and prints the
 * median nanoseconds per read over RUNS runs of READS reads each:
 * warden_enabled, warden_enabled_for (a new id each time, so the bucket is
 * hashed every read), warden_stage, and warden_enabled of a flag the table
 * does not have.
 *
 * With -w, a writer process flips every flag 1000 times a second (stage 1
 * all on, stage 2 all off) while 1 or more reader threads sharing one
 * handle (-t), or reader processes each with its own (-p), read; each
 * reader reports its median and that no read gave anything but one of
 * the two states. Run it under `strace -c -f` to see that the reads make
 * no system call: the count does not grow with -n.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench-clock.h"
#include "table.h"
#include "warden.h"

#define MAXREADERS	16

static const char *const flags[] = {
	"use_ets_agent_registry", "enable_migration_monitoring",
	"use_logger_error_context", "use_genserver_telemetry",
	"use_genserver_span_management", "use_ets_sampled_events",
	"enforce_no_process_dict", "rollout_half",
};
#define NFLAGS	(sizeof(flags) / sizeof(flags[0]))

static char		 tname[64];
static int		 own_table = 1;	/* 0: -T, someone else's; never unlinked */
static long		 nreads = 2000000;
static int		 nruns = 21;
static volatile unsigned sink;

struct reader_res {
	double	median;
	double	min;
	double	max;
	long	bad;		/* reads that matched neither state */
};

static void __attribute__((noreturn))
die(const char *what)
{
	fprintf(stderr, "bench-flagread: %s: %s\n", what, strerror(errno));
	if (tname[0] != '\0' && own_table)
		shm_unlink(tname);
	exit(1);
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
summarize(double *ns, int n, struct reader_res *res)
{
	qsort(ns, (size_t)n, sizeof(ns[0]), cmp_double);
	res->median = ns[n / 2];
	res->min = ns[0];
	res->max = ns[n - 1];
}

static void
publish(struct table *t, int stage, uint32_t value)
{
	struct table_flag	f[NFLAGS];
	size_t			i;

	for (i = 0; i < NFLAGS; i++) {
		f[i].name = flags[i];
		f[i].value = i == NFLAGS - 1 ? 50 : value;
	}
	if (table_publish(t, stage, f, NFLAGS) == -1)
		die("table_publish");
}

enum what { W_ENABLED, W_ENABLED_FOR, W_STAGE, W_ABSENT };

/* -T: the flags and the two stages of the table being read. */
static const char	*attach_flag, *attach_rollout;
static int		 attach_stages[2] = { 1, 2 };

/* ns per read of one kind, one run. */
static double
run_once(warden_table *r, enum what what, long *bad)
{
	char		id[32];
	long long	t0, t1;
	unsigned	acc = 0;
	long		i;
	int		stage;

	t0 = bench_clock_ns();
	switch (what) {
	case W_ENABLED:
		if (attach_flag != NULL) {
			for (i = 0; i < nreads; i++)
				acc += warden_enabled(r, attach_flag, false);
			break;
		}
		for (i = 0; i < nreads; i++)
			acc += warden_enabled(r, flags[i & 7], false);
		break;
	case W_ENABLED_FOR:
		memcpy(id, "user-00000000", 14);
		for (i = 0; i < nreads; i++) {
			/* A new id every read: the bucket is hashed each time. */
			id[12] = (char)('0' + (i & 7));
			id[11] = (char)('0' + ((i >> 3) & 7));
			acc += warden_enabled_for(r, attach_rollout != NULL ?
			    attach_rollout : flags[NFLAGS - 1], id, false);
		}
		break;
	case W_STAGE:
		for (i = 0; i < nreads; i++) {
			stage = warden_stage(r);
			if (bad != NULL && stage != attach_stages[0] &&
			    stage != attach_stages[1])
				(*bad)++;
			acc += (unsigned)stage;
		}
		break;
	case W_ABSENT:
		for (i = 0; i < nreads; i++)
			acc += warden_enabled(r, "no_such_flag", true);
		break;
	}
	t1 = bench_clock_ns();
	sink += acc;
	return (double)(t1 - t0) / (double)nreads;
}

static void
measure(warden_table *r, enum what what, struct reader_res *res)
{
	double	*ns;
	int	 k;

	if ((ns = calloc((size_t)nruns, sizeof(*ns))) == NULL)
		die("calloc");
	res->bad = 0;
	for (k = 0; k < nruns; k++)
		ns[k] = run_once(r, what, &res->bad);
	summarize(ns, nruns, res);
	free(ns);
}

/* ---- -w: a writer flipping 1000 times a second ---- */

/*
 * Publish at 1 ms ticks until STOPFD is readable (closed), then write the
 * number of publishes to RESFD. ppoll is both the tick and the stop.
 */
static void __attribute__((noreturn))
writer(struct table *t, int stopfd, int resfd)
{
	struct pollfd	pfd = { .fd = stopfd, .events = POLLIN };
	struct timespec	ts;
	long long	next = bench_clock_ns(), left;
	long		count = 0;
	int		n;

	for (;;) {
		publish(t, count % 2 == 0 ? 2 : 1, count % 2 == 0 ? 0 : 100);
		count++;
		next += 1000000;
		left = next - bench_clock_ns();
		if (left < 0)
			left = 0;
		ts.tv_sec = (time_t)(left / 1000000000LL);
		ts.tv_nsec = (long)(left % 1000000000LL);
		n = ppoll(&pfd, 1, &ts, NULL);
		if (n == -1 && errno != EINTR)
			_exit(1);
		if (n > 0)
			break;
	}
	if (write(resfd, &count, sizeof(count)) != (ssize_t)sizeof(count))
		_exit(1);
	_exit(0);
}

struct thread_arg {
	warden_table		*r;
	struct reader_res	 res;
};

/* One reader under the flips: enabled reads timed, stage reads checked. */
static void
reader_run(warden_table *r, struct reader_res *res)
{
	struct reader_res	st;

	measure(r, W_ENABLED, res);
	/* Every stage read must be one of the two states. */
	measure(r, W_STAGE, &st);
	res->bad = st.bad;
}

static void *
reader_thread(void *p)
{
	struct thread_arg	*a = p;

	reader_run(a->r, &a->res);
	return NULL;
}

static int
bench_flips(struct table *t, int nthreads, int nprocs)
{
	struct thread_arg	 args[MAXREADERS];
	struct reader_res	 res[MAXREADERS];
	pthread_t		 th[MAXREADERS];
	pid_t			 wpid, pids[MAXREADERS];
	warden_table		*r;
	long			 count;
	int			 stop[2], out[2], rp[2], i, n, status;
	long long		 t0;
	int			 rc = 0;

	n = nprocs > 0 ? nprocs : nthreads;
	if (pipe(stop) == -1 || pipe(out) == -1 || pipe(rp) == -1)
		die("pipe");
	if ((wpid = fork()) == -1)
		die("fork");
	if (wpid == 0) {
		close(stop[1]);
		writer(t, stop[0], out[1]);
	}
	close(stop[0]);
	close(out[1]);
	t0 = bench_clock_ns();

	if (nprocs > 0) {
		for (i = 0; i < n; i++) {
			if ((pids[i] = fork()) == -1)
				die("fork");
			if (pids[i] == 0) {
				struct reader_res	one;

				r = warden_open(tname);
				reader_run(r, &one);
				warden_close(r);
				if (write(rp[1], &one, sizeof(one)) !=
				    (ssize_t)sizeof(one))
					_exit(1);
				_exit(0);
			}
		}
		for (i = 0; i < n; i++) {
			if (read(rp[0], &res[i], sizeof(res[i])) !=
			    (ssize_t)sizeof(res[i]))
				die("read reader result");
			waitpid(pids[i], &status, 0);
		}
	} else {
		r = warden_open(tname);
		for (i = 0; i < n; i++) {
			args[i].r = r;
			if (pthread_create(&th[i], NULL, reader_thread,
			    &args[i]) != 0)
				die("pthread_create");
		}
		for (i = 0; i < n; i++) {
			pthread_join(th[i], NULL);
			res[i] = args[i].res;
		}
		warden_close(r);
	}
	close(stop[1]);		/* the writer stops and reports */
	if (read(out[0], &count, sizeof(count)) != (ssize_t)sizeof(count))
		die("read writer result");
	waitpid(wpid, &status, 0);

	printf("with a writer flipping every flag: %ld publishes in %.2f s "
	    "(%.0f/s)\n", count, (double)(bench_clock_ns() - t0) / 1e9,
	    (double)count / ((double)(bench_clock_ns() - t0) / 1e9));
	for (i = 0; i < n; i++) {
		printf("  %s %d  warden_enabled %6.2f ns/read (median; min "
		    "%.2f, max %.2f), %ld inconsistent\n",
		    nprocs > 0 ? "process" : "thread ", i + 1, res[i].median,
		    res[i].min, res[i].max, res[i].bad);
		if (res[i].bad != 0)
			rc = 1;
	}
	return rc;
}

/* -T: readers of a table warden writes; one key=value line per reader. */
static int
bench_attached(int nprocs)
{
	struct reader_res	 en, enf, st;
	warden_table		*r;
	pid_t			 pid;
	int			 i, status, rc = 0;

	printf("bench-flagread: table %s, %d reader process%s, %d runs of "
	    "%ld reads\n", tname, nprocs, nprocs == 1 ? "" : "es", nruns, nreads);
	fflush(stdout);
	for (i = 0; i < nprocs; i++) {
		if ((pid = fork()) == -1)
			die("fork");
		if (pid > 0)
			continue;
		if ((r = warden_open(tname)) == NULL || warden_stage(r) == -1)
			die("warden_open");
		measure(r, W_ENABLED, &en);
		measure(r, W_ENABLED_FOR, &enf);
		measure(r, W_STAGE, &st);
		warden_close(r);
		printf("reader=%d enabled_ns=%.2f enabled_min_ns=%.2f "
		    "enabled_max_ns=%.2f enabled_for_ns=%.2f stage_reads=%ld "
		    "stage_bad=%ld\n", i + 1, en.median, en.min, en.max,
		    enf.median, nreads * (long)nruns, st.bad);
		fflush(stdout);
		_exit(st.bad != 0);
	}
	for (i = 0; i < nprocs; i++) {
		if (wait(&status) == -1)
			die("wait");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			rc = 1;
	}
	return rc;
}

int
main(int argc, char *argv[])
{
	static const char *const names[] = { "warden_enabled",
	    "warden_enabled_for", "warden_stage", "warden_enabled (absent)" };
	struct reader_res	 res;
	struct table		*t;
	warden_table		*r;
	char			 err[512];
	int			 ch, flips = 0, nthreads = 1, nprocs = 0, rc = 0;
	int			 w;

	while ((ch = getopt(argc, argv, "n:r:wt:p:T:f:R:s:")) != -1) {
		switch (ch) {
		case 'T':
			snprintf(tname, sizeof(tname), "%s", optarg);
			own_table = 0;
			break;
		case 'f':
			attach_flag = optarg;
			break;
		case 'R':
			attach_rollout = optarg;
			break;
		case 's':
			if (sscanf(optarg, "%d,%d", &attach_stages[0],
			    &attach_stages[1]) != 2)
				goto usage;
			break;
		case 'n':
			nreads = atol(optarg);
			break;
		case 'r':
			nruns = atoi(optarg);
			break;
		case 'w':
			flips = 1;
			break;
		case 't':
			nthreads = atoi(optarg);
			break;
		case 'p':
			nprocs = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc || nreads < 1 || nruns < 1 || nthreads < 1 ||
	    nthreads > MAXREADERS || nprocs < 0 || nprocs > MAXREADERS)
		goto usage;

	if (!own_table) {
		if (attach_flag == NULL || attach_rollout == NULL || flips)
			goto usage;
		return bench_attached(nprocs > 0 ? nprocs : 1);
	}
	snprintf(tname, sizeof(tname), "/warden-bench-%ld", (long)getpid());
	if ((t = table_create(tname, 0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "bench-flagread: %s\n", err);
		return 1;
	}
	publish(t, 1, 100);
	printf("bench-flagread: table %s, %zu flags, %d runs of %ld reads\n",
	    tname, NFLAGS, nruns, nreads);

	if (flips)
		rc = bench_flips(t, nthreads, nprocs);
	else {
		r = warden_open(tname);
		for (w = W_ENABLED; w <= W_ABSENT; w++) {
			measure(r, (enum what)w, &res);
			printf("  %-24s %6.2f ns/read (median; min %.2f, max "
			    "%.2f)\n", names[w], res.median, res.min, res.max);
		}
		warden_close(r);
	}
	table_close(t);
	shm_unlink(tname);
	return rc;

usage:
	fprintf(stderr, "usage: bench-flagread [-n READS] [-r RUNS] [-w] "
	    "[-t THREADS | -p PROCS]\n"
	    "       bench-flagread -T TABLE -f FLAG -R ROLLOUT_FLAG "
	    "[-s STAGE,STAGE] [-n READS] [-r RUNS] [-p PROCS]\n");
	return 2;
}
