/*
 * logfile.c: services' log files, written by one thread (see logfile.h).
 *
 * The loop appends a line to the file's queue under the lock (a memcpy)
 * and signals; the writer takes a file's whole queue at once under the
 * lock, and opens, writes and rotates outside it. Each queue is bounded
 * (LOGFILE_QUEUE_MAX, room for a burst of tens of thousands of lines): a
 * writer behind costs lines, counted, not memory or time. Failures are
 * said once each, with what happens to the lines, and again when the
 * file works again.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "logfile.h"
#include "util.h"

#define LOGFILE_QUEUE_MAX	(4 * 1024 * 1024)	/* bytes queued per file */
#define LOGFILE_RETRY_MS	1000		/* a file that failed is tried again */

struct logfile {
	char		*service;
	char		*path;
	int		 max_bytes;
	int		 keep;
	/* The loop's side, under logfile_lock. */
	char		*queue;
	size_t		 queued, cap;
	uint64_t	 lost;		/* lines the writer could not write */
	bool		 closing;
	/* The writer's side. */
	int		 fd;
	off_t		 size;
	bool		 regular;	/* rotated by size; a device or FIFO is not */
	bool		 failing;	/* said; quiet until it works again */
	uint64_t	 retry_at;
	struct logfile	*next;
};

static pthread_mutex_t	 logfile_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 logfile_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t	 logfile_idle = PTHREAD_COND_INITIALIZER;
static struct logfile	*logfile_all;
static pthread_t	 logfile_thread;
static bool		 logfile_running, logfile_busy, logfile_stopping;

static void	*logfile_main(void *);

/* The writer, started with the first file, every signal blocked. */
static void
logfile_start(void)
{
	sigset_t	all, old;
	int		e;

	if (logfile_running)
		return;
	sigfillset(&all);
	if ((e = pthread_sigmask(SIG_BLOCK, &all, &old)) != 0)
		fatalx("pthread_sigmask: %s", strerror(e));
	if ((e = pthread_create(&logfile_thread, NULL, logfile_main, NULL)) != 0)
		fatalx("cannot start the log file writer: %s", strerror(e));
	if ((e = pthread_sigmask(SIG_SETMASK, &old, NULL)) != 0)
		fatalx("pthread_sigmask: %s", strerror(e));
	logfile_running = true;
}

struct logfile *
logfile_new(const char *service, const char *path, int max_bytes, int keep)
{
	struct logfile	*f = xcalloc(1, sizeof(*f));

	f->service = xstrdup(service);
	f->path = xstrdup(path);
	f->max_bytes = max_bytes;
	f->keep = keep;
	f->fd = -1;
	logfile_start();
	pthread_mutex_lock(&logfile_lock);
	f->next = logfile_all;
	logfile_all = f;
	pthread_mutex_unlock(&logfile_lock);
	return f;
}

int
logfile_is(const struct logfile *f, const char *path, int max_bytes, int keep)
{
	return strcmp(f->path, path) == 0 && f->max_bytes == max_bytes &&
	    f->keep == keep;
}

int
logfile_write(struct logfile *f, const char *line, size_t len)
{
	int	rc = -1;

	pthread_mutex_lock(&logfile_lock);
	if (f->queued + len + 1 <= LOGFILE_QUEUE_MAX) {
		if (f->cap < f->queued + len + 1) {
			f->cap = f->queued + len + 1 < 65536 ? 65536 :
			    LOGFILE_QUEUE_MAX;
			f->queue = xreallocarray(f->queue, f->cap, 1);
		}
		memcpy(f->queue + f->queued, line, len);
		f->queue[f->queued + len] = '\n';
		/*
		 * Woken only for a queue that was empty: one that was not is
		 * the writer's already (it takes a queue whole, and looks
		 * again under the lock before it sleeps). A futex a line
		 * would double the cost of a line.
		 */
		if (f->queued == 0)
			pthread_cond_signal(&logfile_cond);
		f->queued += len + 1;
		rc = 0;
	}
	pthread_mutex_unlock(&logfile_lock);
	return rc;
}

uint64_t
logfile_lost(struct logfile *f)
{
	uint64_t	n;

	pthread_mutex_lock(&logfile_lock);
	n = f->lost;
	pthread_mutex_unlock(&logfile_lock);
	return n;
}

void
logfile_close(struct logfile *f)
{
	pthread_mutex_lock(&logfile_lock);
	f->closing = true;
	pthread_cond_signal(&logfile_cond);
	pthread_mutex_unlock(&logfile_lock);
}

/* --- the writer ------------------------------------------------------------ */

static size_t
logfile_count_lines(const char *buf, size_t len)
{
	size_t	n = 0;

	while (len > 0) {
		const char *nl = memchr(buf, '\n', len);

		if (nl == NULL)
			break;
		n++;
		len -= (size_t)(nl + 1 - buf);
		buf = nl + 1;
	}
	return n;
}

static void
logfile_fail(struct logfile *f, const char *what, int e)
{
	f->retry_at = util_now_ms() + LOGFILE_RETRY_MS;
	if (f->failing)
		return;
	f->failing = true;
	log_warnx("%s: log file %s: %s: %s; its lines are lost until it works "
	    "again", f->service, f->path, what, strerror(e));
}

static int
logfile_open(struct logfile *f, int extra)
{
	struct stat	st;
	int		e;

	f->fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | extra,
	    0640);
	if (f->fd == -1) {
		logfile_fail(f, "open", errno);
		return -1;
	}
	if (fstat(f->fd, &st) == -1) {
		e = errno;
		close(f->fd);
		f->fd = -1;
		logfile_fail(f, "fstat", e);
		return -1;
	}
	f->regular = S_ISREG(st.st_mode);
	f->size = f->regular ? st.st_size : 0;
	return 0;
}

/* The file is deleted (its folder too, perhaps): open it again. */
static void
logfile_check(struct logfile *f)
{
	struct stat	st;

	if (f->fd != -1 && f->regular && fstat(f->fd, &st) == 0 &&
	    st.st_nlink == 0) {
		close(f->fd);
		f->fd = -1;
	}
}

/* FILE.keep-1 .. FILE.1 move up one, FILE becomes FILE.1, a new FILE. */
static int
logfile_rotate(struct logfile *f)
{
	char	from[4096], to[4096];
	int	i;

	close(f->fd);
	f->fd = -1;
	if (f->keep == 0)
		return logfile_open(f, O_TRUNC);
	for (i = f->keep - 1; i >= 1; i--) {
		snprintf(from, sizeof(from), "%s.%d", f->path, i);
		snprintf(to, sizeof(to), "%s.%d", f->path, i + 1);
		if (rename(from, to) == -1 && errno != ENOENT)
			log_warn("%s: log file %s: rename to %s", f->service,
			    from, to);
	}
	snprintf(to, sizeof(to), "%s.1", f->path);
	if (rename(f->path, to) == -1 && errno != ENOENT)
		log_warn("%s: log file %s: rename to %s", f->service, f->path,
		    to);
	return logfile_open(f, O_TRUNC);
}

/* How much of buf to write before the file must rotate: whole lines. */
static size_t
logfile_fit(const struct logfile *f, const char *buf, size_t len)
{
	size_t	room, take;

	if (!f->regular || f->size + (off_t)len <= f->max_bytes)
		return len;
	room = f->size < f->max_bytes ? (size_t)(f->max_bytes - f->size) : 0;
	for (take = room; take > 0 && buf[take - 1] != '\n'; take--)
		;
	/* Not one whole line fits: a fresh file takes the first one. */
	if (take == 0 && f->size == 0) {
		const char *nl = memchr(buf, '\n', len);

		take = nl != NULL ? (size_t)(nl + 1 - buf) : len;
	}
	return take;
}

/* Write buf (whole lines) to f; returns the lines lost. */
static uint64_t
logfile_put(struct logfile *f, const char *buf, size_t len)
{
	size_t	take;
	ssize_t	w;

	while (len > 0) {
		if (f->fd == -1 && (util_now_ms() < f->retry_at ||
		    logfile_open(f, 0) == -1))
			return logfile_count_lines(buf, len);
		if ((take = logfile_fit(f, buf, len)) == 0) {
			if (logfile_rotate(f) == -1)
				return logfile_count_lines(buf, len);
			continue;
		}
		w = write(f->fd, buf, take);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			logfile_fail(f, "write", errno);
			return logfile_count_lines(buf, len);
		}
		if (f->failing) {
			f->failing = false;
			log_info("%s: log file %s: writing again", f->service,
			    f->path);
		}
		f->size += w;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* A file with something to do, its queue taken; NULL: none. */
static struct logfile *
logfile_take(char **buf, size_t *len)
{
	struct logfile	*f;

	for (f = logfile_all; f != NULL; f = f->next) {
		if (f->queued > 0) {
			*buf = f->queue;
			*len = f->queued;
			f->queue = NULL;
			f->queued = f->cap = 0;
			return f;
		}
		if (f->closing)
			break;
	}
	if (f != NULL) {
		*buf = NULL;
		*len = 0;
	}
	return f;
}

static void
logfile_free(struct logfile *f)
{
	struct logfile	**pp;

	for (pp = &logfile_all; *pp != NULL; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	if (f->fd != -1)
		close(f->fd);
	free(f->queue);
	free(f->service);
	free(f->path);
	free(f);
}

static void *
logfile_main(void *arg)
{
	struct logfile	*f;
	char		*buf;
	size_t		 len;
	uint64_t	 lost;

	(void)arg;
	pthread_mutex_lock(&logfile_lock);
	for (;;) {
		if ((f = logfile_take(&buf, &len)) == NULL) {
			logfile_busy = false;
			pthread_cond_broadcast(&logfile_idle);
			if (logfile_stopping)
				break;
			pthread_cond_wait(&logfile_cond, &logfile_lock);
			continue;
		}
		logfile_busy = true;
		if (buf == NULL) {		/* closing, all written */
			logfile_free(f);
			continue;
		}
		pthread_mutex_unlock(&logfile_lock);
		logfile_check(f);
		lost = logfile_put(f, buf, len);
		free(buf);
		pthread_mutex_lock(&logfile_lock);
		f->lost += lost;
	}
	pthread_mutex_unlock(&logfile_lock);
	return NULL;
}

static bool
logfile_pending(void)
{
	struct logfile	*f;

	if (logfile_busy)
		return true;
	for (f = logfile_all; f != NULL; f = f->next)
		if (f->queued > 0 || f->closing)
			return true;
	return false;
}

static void
logfile_deadline(struct timespec *until, int ms)
{
	clock_gettime(CLOCK_REALTIME, until);
	until->tv_sec += ms / 1000;
	until->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until->tv_nsec >= 1000000000L) {
		until->tv_sec++;
		until->tv_nsec -= 1000000000L;
	}
}

/*
 * Wait, ms at most, until the writer has written what is queued (and,
 * stopping, ended). -1 when it has not: stuck in the kernel (a FIFO
 * nobody reads, a dead disk), which is said.
 */
static int
logfile_wait(int ms, bool stop)
{
	struct timespec	until;
	int		e = 0;

	logfile_deadline(&until, ms);
	pthread_mutex_lock(&logfile_lock);
	logfile_stopping = stop;
	pthread_cond_signal(&logfile_cond);
	while (logfile_pending() && e != ETIMEDOUT)
		e = pthread_cond_timedwait(&logfile_idle, &logfile_lock, &until);
	pthread_mutex_unlock(&logfile_lock);
	if (e != ETIMEDOUT)
		return 0;
	log_warnx("log files: not all written in %d ms; lines still queued "
	    "are lost", ms);
	return -1;
}

void
logfile_flush(int ms)
{
	if (logfile_running)
		(void)logfile_wait(ms, false);
}

void
logfile_shutdown(int ms)
{
	int	e;

	/* One stuck in the kernel is left to end with the process. */
	if (!logfile_running || logfile_wait(ms, true) == -1)
		return;
	if ((e = pthread_join(logfile_thread, NULL)) != 0)
		log_warnx("log files: join: %s", strerror(e));
	logfile_running = false;
}
