/*
 * ledger.c: the workers running, written down for the next warden (see
 * ledger.h).
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ledger.h"
#include "log.h"
#include "pidmap.h"
#include "procinfo.h"
#include "util.h"

#define LEDGER_FILE		"workers"
#define LEDGER_MAGIC		"WDNLDG1"
#define LEDGER_LIVE		0x4c495645U	/* an entry in use */
#define LEDGER_SLOTS0		64
#define LEDGER_SLOTS_MAX	(1U << 20)
#define LEDGER_INFINITY_MS	30000	/* shutdown_ms infinity, at start */
#define LEDGER_AFTER_KILL_MS	2000	/* how long SIGKILL may take */

struct ledger_head {
	char		magic[8];
	char		boot_id[40];
	uint32_t	slots;
	uint32_t	pad[3];
};

struct ledger_rec {
	uint32_t	live;
	int32_t		pid;
	uint64_t	start_lo;	/* its start time lies in [start_lo, start_hi] */
	uint64_t	start_hi;
	int32_t		stop_signal;
	int32_t		shutdown_ms;
	char		service[32];	/* cut to fit: for the log only */
};

struct victim {
	pid_t		pid;
	int		pidfd;
	int		sig;
	int		grace_ms;
	uint64_t	kill_at;
	bool		killed;
	bool		gone;
	char		service[sizeof(((struct ledger_rec *)0)->service) + 1];
};

static int			 ledger_fd = -1;
static struct ledger_head	*ledger_map;
static size_t			 ledger_len;
static uint32_t			 ledger_slots;
static uint32_t			 ledger_used;	/* slots ever handed out */
static uint32_t			*ledger_free;	/* slots given back */
static uint32_t			 ledger_nfree;
static struct pidmap		 ledger_pids;	/* pid -> slot + 1 */
static char			 ledger_boot[40];
static int			 ledger_adopted = -1;	/* a reexec's ledger */

static struct ledger_rec *
ledger_rec(uint32_t slot)
{
	return (struct ledger_rec *)(void *)(ledger_map + 1) + slot;
}

static void
ledger_boot_id(void)
{
	ssize_t	n;
	int	fd;

	memset(ledger_boot, 0, sizeof(ledger_boot));
	if ((fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY |
	    O_CLOEXEC)) == -1)
		return;
	n = read(fd, ledger_boot, sizeof(ledger_boot) - 1);
	close(fd);
	if (n <= 0)
		memset(ledger_boot, 0, sizeof(ledger_boot));
	else
		ledger_boot[strcspn(ledger_boot, "\n")] = '\0';
}

/* Is the worker of rec still running, the very process that was started? */
static bool
ledger_alive(const struct ledger_rec *r)
{
	struct proc_info	pi;

	return r->pid > 0 && proc_info(r->pid, &pi) == 0 &&
	    pi.state != 'Z' && pi.pgrp == r->pid &&
	    pi.start >= r->start_lo && pi.start <= r->start_hi;
}

static void
ledger_victim_add(struct victim *v, const struct ledger_rec *r)
{
	uint64_t	now = util_now_ms();

	memset(v, 0, sizeof(*v));
	v->pid = r->pid;
	memcpy(v->service, r->service, sizeof(r->service));
	v->pidfd = proc_pidfd_open(r->pid);
	/* The pidfd is of the process the ledger names only if it starts the same. */
	if (v->pidfd != -1 && !ledger_alive(r)) {
		close(v->pidfd);
		v->pidfd = -1;
		v->gone = true;
		return;
	}
	v->sig = r->shutdown_ms == SHUTDOWN_BRUTAL_KILL ? SIGKILL :
	    r->stop_signal > 0 && r->stop_signal < NSIG ? r->stop_signal : SIGTERM;
	v->grace_ms = r->shutdown_ms == SHUTDOWN_INFINITY ? LEDGER_INFINITY_MS :
	    r->shutdown_ms < 0 ? 0 : r->shutdown_ms;
	log_warnx("%s: pid %ld was left running by an earlier warden: stopping "
	    "its process group with SIG%s", v->service, (long)v->pid,
	    util_signal_name(v->sig));
	/* Checked alive just now, so its pid is its group's and nobody else's. */
	if (kill(-v->pid, v->sig) == -1 && errno != ESRCH)
		log_warn("%s: kill %ld", v->service, (long)v->pid);
	if (v->sig != SIGKILL && v->sig != SIGCONT)
		(void)kill(-v->pid, SIGCONT);
	v->killed = v->sig == SIGKILL;
	v->kill_at = now + (uint64_t)(v->killed ? LEDGER_AFTER_KILL_MS :
	    v->grace_ms);
}

/* The leader is gone: what is left of its group goes at once. */
static void
ledger_victim_gone(struct victim *v)
{
	v->gone = true;
	/* Its group lives on while it has members: the id is still theirs. */
	(void)kill(-v->pid, SIGKILL);
	if (v->pidfd != -1)
		close(v->pidfd);
	v->pidfd = -1;
}

/* Stop the workers an earlier warden left, and wait for them. */
static void
ledger_stop_previous(const struct ledger_rec *recs, uint32_t n)
{
	struct victim	*v;
	struct pollfd	*pfd;
	struct proc_info pi;
	uint64_t	 now, next;
	size_t		 nv = 0, np, i, left;
	int		 timeout, r;

	v = xcalloc(n + 1, sizeof(*v));
	pfd = xcalloc(n + 1, sizeof(*pfd));
	for (i = 0; i < n; i++) {
		if (recs[i].live != LEDGER_LIVE || !ledger_alive(&recs[i]))
			continue;
		ledger_victim_add(&v[nv], &recs[i]);
		if (!v[nv].gone)
			nv++;
	}
	for (;;) {
		now = util_now_ms();
		next = 0;
		np = left = 0;
		for (i = 0; i < nv; i++) {
			if (v[i].gone)
				continue;
			if (v[i].pidfd == -1 && (proc_info(v[i].pid, &pi) == -1 ||
			    pi.state == 'Z' || pi.pgrp != v[i].pid)) {
				ledger_victim_gone(&v[i]);
				continue;
			}
			if (v[i].kill_at <= now) {
				if (v[i].killed) {
					log_warnx("%s: pid %ld survives SIGKILL; "
					    "going on", v[i].service, (long)v[i].pid);
					v[i].gone = true;
					continue;
				}
				log_warnx("%s: pid %ld still running %d ms after "
				    "SIG%s, killing it", v[i].service,
				    (long)v[i].pid, v[i].grace_ms,
				    util_signal_name(v[i].sig));
				if (v[i].pidfd != -1)
					(void)proc_pidfd_signal(v[i].pidfd, SIGKILL);
				(void)kill(-v[i].pid, SIGKILL);
				v[i].killed = true;
				v[i].kill_at = now + LEDGER_AFTER_KILL_MS;
			}
			if (next == 0 || v[i].kill_at < next)
				next = v[i].kill_at;
			left++;
			if (v[i].pidfd != -1) {
				pfd[np].fd = v[i].pidfd;
				pfd[np].events = POLLIN;
				pfd[np].revents = 0;
				np++;
			}
		}
		if (left == 0)
			break;
		timeout = next > now ? (int)(next - now) : 0;
		/* Without pidfds, look again every 10 ms. */
		if (np < left && timeout > 10)
			timeout = 10;
		r = poll(pfd, np, timeout);
		if (r == -1 && errno != EINTR)
			fatal("poll");
		for (i = 0; r > 0 && i < nv; i++) {
			if (v[i].gone || v[i].pidfd == -1)
				continue;
			for (size_t k = 0; k < np; k++)
				if (pfd[k].fd == v[i].pidfd &&
				    (pfd[k].revents & (POLLIN | POLLHUP)) != 0)
					ledger_victim_gone(&v[i]);
		}
	}
	free(pfd);
	free(v);
}

/* The earlier ledger's entries (malloc'd), if it is of this boot. */
static struct ledger_rec *
ledger_read_previous(int fd, uint32_t *n)
{
	struct ledger_head	 h;
	struct ledger_rec	*recs;
	struct stat		 st;
	size_t			 len;
	ssize_t			 got;

	*n = 0;
	if (fstat(fd, &st) == -1 || (size_t)st.st_size < sizeof(h))
		return NULL;
	got = pread(fd, &h, sizeof(h), 0);
	if (got != (ssize_t)sizeof(h) || memcmp(h.magic, LEDGER_MAGIC,
	    sizeof(LEDGER_MAGIC)) != 0 || h.slots > LEDGER_SLOTS_MAX ||
	    ledger_boot[0] == '\0' || strncmp(h.boot_id, ledger_boot,
	    sizeof(h.boot_id)) != 0)
		return NULL;
	len = (size_t)h.slots * sizeof(*recs);
	if ((size_t)st.st_size < sizeof(h) + len || len == 0)
		return NULL;
	recs = xmalloc(len);
	got = pread(fd, recs, len, sizeof(h));
	if (got != (ssize_t)len) {
		free(recs);
		return NULL;
	}
	*n = h.slots;
	return recs;
}

static int
ledger_map_slots(uint32_t slots)
{
	size_t	 len = sizeof(struct ledger_head) +
	    (size_t)slots * sizeof(struct ledger_rec);
	void	*p;

	if (ftruncate(ledger_fd, (off_t)len) == -1)
		return -1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ledger_fd, 0);
	if (p == MAP_FAILED)
		return -1;
	if (ledger_map != NULL)
		(void)munmap(ledger_map, ledger_len);
	ledger_map = p;
	ledger_len = len;
	ledger_slots = slots;
	ledger_map->slots = slots;
	return 0;
}

/*
 * A reexec: the ledger the last image kept is this image's, entries and
 * all, so no worker goes unrecorded for a moment; only the index of pids
 * and free slots is built again.
 */
static int
ledger_take_over(int fd)
{
	struct ledger_head	 h;
	struct ledger_rec	*r;
	uint32_t		 slot;

	ledger_fd = fd;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, LEDGER_MAGIC, sizeof(LEDGER_MAGIC)) != 0 ||
	    h.slots == 0 || h.slots > LEDGER_SLOTS_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (ledger_map_slots(h.slots) == -1)
		return -1;
	for (slot = 0; slot < ledger_slots; slot++) {
		r = ledger_rec(slot);
		if (__atomic_load_n(&r->live, __ATOMIC_ACQUIRE) == LEDGER_LIVE) {
			pidmap_put(&ledger_pids, r->pid,
			    (void *)(uintptr_t)(slot + 1));
			ledger_used = slot + 1;
		}
	}
	for (slot = 0; slot < ledger_used; slot++) {
		if (ledger_rec(slot)->live == LEDGER_LIVE)
			continue;
		if (ledger_nfree % 64 == 0)
			ledger_free = xreallocarray(ledger_free,
			    ledger_nfree + 64, sizeof(*ledger_free));
		ledger_free[ledger_nfree++] = slot;
	}
	return 0;
}

json_t *
ledger_handover(void)
{
	if (ledger_fd == -1)
		return json_null();
	return json_pack("{s:i}", "fd", ledger_fd);
}

int
ledger_adopt(const json_t *d, char *err, size_t errlen)
{
	json_int_t	fd;
	struct stat	st;

	if (json_is_null(d))
		return 0;
	if (json_unpack((json_t *)d, "{s:I}", "fd", &fd) == -1 || fd < 0 ||
	    fd > INT32_MAX || fstat((int)fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    util_set_cloexec((int)fd, true) == -1) {
		snprintf(err, errlen, "ledger: want {fd} of a regular file");
		return -1;
	}
	ledger_adopted = (int)fd;
	return 0;
}

int
ledger_open(const char *state_dir, char *err, size_t errlen)
{
	struct ledger_rec	*prev;
	char			*path;
	uint32_t		 n;

	ledger_boot_id();
	if (ledger_adopted != -1) {
		n = (uint32_t)ledger_adopted;
		ledger_adopted = -1;
		if (ledger_take_over((int)n) == 0)
			return 0;
		snprintf(err, errlen, "%s/%s: the ledger handed over: %s",
		    state_dir, LEDGER_FILE, strerror(errno));
		ledger_close();
		return -1;
	}
	xasprintf(&path, "%s/%s", state_dir, LEDGER_FILE);
	ledger_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (ledger_fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if ((prev = ledger_read_previous(ledger_fd, &n)) != NULL) {
		ledger_stop_previous(prev, n);
		free(prev);
	}
	/* A fresh ledger: emptied, then sized (the new pages read as zeros). */
	if (ftruncate(ledger_fd, 0) == -1 || ledger_map_slots(LEDGER_SLOTS0) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		free(path);
		ledger_close();
		return -1;
	}
	memcpy(ledger_map->magic, LEDGER_MAGIC, sizeof(LEDGER_MAGIC));
	memcpy(ledger_map->boot_id, ledger_boot, sizeof(ledger_map->boot_id));
	free(path);
	return 0;
}

void
ledger_close(void)
{
	if (ledger_map != NULL)
		(void)munmap(ledger_map, ledger_len);
	ledger_map = NULL;
	if (ledger_fd != -1)
		close(ledger_fd);
	ledger_fd = -1;
	free(ledger_free);
	ledger_free = NULL;
	ledger_nfree = ledger_used = ledger_slots = 0;
	pidmap_free(&ledger_pids);
}

uint64_t
ledger_clock(void)
{
	return ledger_map != NULL ? proc_ticks_now() : 0;
}

void
ledger_started(const char *service, pid_t pid, uint64_t since,
    int stop_signal, int shutdown_ms)
{
	struct ledger_rec	*r;
	uint32_t		 slot;

	if (ledger_map == NULL)
		return;
	if (ledger_nfree > 0)
		slot = ledger_free[--ledger_nfree];
	else {
		if (ledger_used == ledger_slots && (ledger_slots >=
		    LEDGER_SLOTS_MAX || ledger_map_slots(ledger_slots * 2) ==
		    -1)) {
			log_warn("cannot grow the ledger of workers");
			return;
		}
		slot = ledger_used++;
	}
	r = ledger_rec(slot);
	r->pid = pid;
	r->start_lo = since;
	r->start_hi = proc_ticks_now();
	r->stop_signal = stop_signal;
	r->shutdown_ms = shutdown_ms;
	strncpy(r->service, service, sizeof(r->service) - 1);
	r->service[sizeof(r->service) - 1] = '\0';
	/* Marked live last: a reader never takes a half-written entry. */
	__atomic_store_n(&r->live, LEDGER_LIVE, __ATOMIC_RELEASE);
	pidmap_put(&ledger_pids, pid, (void *)(uintptr_t)(slot + 1));
}

void
ledger_ended(pid_t pid)
{
	uintptr_t	v;
	uint32_t	slot;

	if (ledger_map == NULL ||
	    (v = (uintptr_t)pidmap_get(&ledger_pids, pid)) == 0)
		return;
	pidmap_del(&ledger_pids, pid);
	slot = (uint32_t)(v - 1);
	__atomic_store_n(&ledger_rec(slot)->live, 0, __ATOMIC_RELEASE);
	if (ledger_nfree % 64 == 0)
		ledger_free = xreallocarray(ledger_free, ledger_nfree + 64,
		    sizeof(*ledger_free));
	ledger_free[ledger_nfree++] = slot;
}
