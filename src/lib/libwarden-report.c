/*
 * libwarden-report.c: what a worker's handle tells warden, so that warden
 * knows who observed which generation of the table and who reads which
 * flag (warden(8), "Who reads what, and the propagation barrier").
 *
 * A handle of the worker's own table, opened with WARDEN_REPORT in its
 * environment (an abstract AF_UNIX address warden binds for the worker),
 * sends text datagrams of lines:
 *
 *	G=<generation>	the generation its last consistent read saw
 *	R=<flag>	a flag it read (found) for the first time
 *
 * Nothing of this is on the hot path: a cache hit neither loads nor
 * stores anything more. The generation is noted after a consistent read
 * of the table (a fill or a read of the copy, which every publish causes
 * once per entry); a name after a fill that found it. The first thread to
 * see a new generation claims it with a CAS and sends at once if the
 * handle's last datagram is at least WT_REPORT_GAP_NS old; otherwise the
 * report stays pending and the handle's next_try is lowered so that the
 * slow path sends it when due. So there is one datagram per generation
 * change at most, and none while nothing changes. Sends never block
 * (MSG_DONTWAIT) nor raise SIGPIPE (MSG_NOSIGNAL); a full queue (EAGAIN,
 * ENOBUFS) leaves the report pending. The socket and the buffer are made
 * at open: nothing is allocated after.
 *
 * warden learns the sender's pid from the kernel (SCM_CREDENTIALS, as its
 * socket has SO_PASSCRED): a fork of the worker that inherited the handle
 * reports as itself.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libwarden-private.h"
#include "libwarden-test.h"

WT_HIDDEN void
wt_report_open(struct warden_table *t, const char *addr)
{
	struct wt_report	*r;
	struct stat		 st;
	size_t			 len;

	/* "@name": an abstract address, which is all warden hands out. */
	if (addr == NULL || addr[0] != '@' || (len = strlen(addr)) < 2 ||
	    len > sizeof(r->addr.sun_path))
		return;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return;
	r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r->fd == -1 || fstat(r->fd, &st) == -1) {
		if (r->fd != -1)
			close(r->fd);
		free(r);
		return;
	}
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->addr.sun_family = AF_UNIX;
	memcpy(r->addr.sun_path + 1, addr + 1, len - 1);
	r->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	t->rep = r;
}

WT_HIDDEN void
wt_report_close(struct warden_table *t)
{
	if (t->rep == NULL)
		return;
	/* A descriptor the program closed and reused is not ours to close. */
	if (!atomic_load_explicit(&t->rep->lost, memory_order_relaxed))
		close(t->rep->fd);
	free(t->rep);
	t->rep = NULL;
}

static bool
wt_report_pending(struct wt_report *r)
{
	if (atomic_load_explicit(&r->lost, memory_order_relaxed))
		return false;
	return atomic_load_explicit(&r->seen_gen, memory_order_relaxed) !=
	    atomic_load_explicit(&r->sent_gen, memory_order_relaxed) ||
	    atomic_load_explicit(&r->nnew, memory_order_relaxed) > 0;
}

/* A report that cannot go before WHEN: the slow path's turn then. */
static void
wt_report_later(struct warden_table *t, uint64_t when)
{
	/* Pending before lowered: wt_slow's store and look, the other way. */
	atomic_thread_fence(memory_order_seq_cst);
	wt_lower(&t->next_try, when);
}

/*
 * The datagram: the generation, then as many new names as fit; *taken
 * lists the slots of the names it carries.
 */
static size_t
wt_report_build(struct wt_report *r, uint64_t gen, uint16_t *taken,
    size_t *ntaken)
{
	size_t	len, n, i;
	int	w;

	w = snprintf(r->buf, sizeof(r->buf), "G=%llu\n",
	    (unsigned long long)gen);
	len = w > 0 ? (size_t)w : 0;
	*ntaken = 0;
	if (atomic_load_explicit(&r->nnew, memory_order_relaxed) <= 0)
		return len;
	for (i = 0; i < TABLE_CAPACITY; i++) {
		if (atomic_load_explicit(&r->slot[i], memory_order_acquire) !=
		    WT_SLOT_NEW)
			continue;
		n = strnlen(r->names[i], TABLE_NAME_MAX);
		if (len + n + 3 > sizeof(r->buf))
			break;		/* the next report takes the rest */
		memcpy(r->buf + len, "R=", 2);
		memcpy(r->buf + len + 2, r->names[i], n);
		r->buf[len + 2 + n] = '\n';
		len += n + 3;
		taken[(*ntaken)++] = (uint16_t)i;
	}
	return len;
}

/* Send what is pending, by one thread at a time; never waits. */
static void
wt_report_send(struct warden_table *t, struct wt_report *r, uint64_t now)
{
	uint16_t	taken[TABLE_CAPACITY];
	struct stat	st;
	uint64_t	gen;
	size_t		len, ntaken, i;
	ssize_t		n;

	if (!wt_trylock(&r->sending, (int)getpid()))
		return;
	if (!wt_report_pending(r) ||
	    now < atomic_load_explicit(&r->due, memory_order_relaxed))
		goto out;
	/*
	 * A program that closed every descriptor (a daemon going to the
	 * background) may have reused this one for a connection: a datagram
	 * must never go into someone else's stream. One fstat a report.
	 */
	if (fstat(r->fd, &st) == -1 || st.st_dev != r->dev ||
	    st.st_ino != r->ino) {
		atomic_store_explicit(&r->lost, 1, memory_order_relaxed);
		goto out;
	}
	gen = atomic_load_explicit(&r->seen_gen, memory_order_relaxed);
	len = wt_report_build(r, gen, taken, &ntaken);
	n = sendto(r->fd, r->buf, len, MSG_DONTWAIT | MSG_NOSIGNAL,
	    (const struct sockaddr *)&r->addr, r->addrlen);
	if (n == -1) {
		/* A full queue frees itself soon; no warden there, not soon. */
		atomic_store_explicit(&r->due, now + (errno == EAGAIN ||
		    errno == ENOBUFS || errno == EINTR ? WT_REPORT_GAP_NS :
		    WT_REPORT_BACKOFF_NS), memory_order_relaxed);
		goto out;
	}
	atomic_store_explicit(&r->sent_gen, gen, memory_order_relaxed);
	for (i = 0; i < ntaken; i++)
		atomic_store_explicit(&r->slot[taken[i]], WT_SLOT_SENT,
		    memory_order_relaxed);
	atomic_fetch_sub_explicit(&r->nnew, (int)ntaken, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sends, 1, memory_order_relaxed);
	atomic_store_explicit(&r->due, now + WT_REPORT_GAP_NS,
	    memory_order_relaxed);
out:
	if (wt_report_pending(r))
		wt_report_later(t, atomic_load_explicit(&r->due,
		    memory_order_relaxed));
	wt_unlock(&r->sending);
}

/* Something to tell: now if it may go, else when it may. */
static void
wt_report_kick(struct warden_table *t, struct wt_report *r)
{
	uint64_t	now = wt_now();

	if (now >= atomic_load_explicit(&r->due, memory_order_relaxed))
		wt_report_send(t, r, now);
	else
		wt_report_later(t, atomic_load_explicit(&r->due,
		    memory_order_relaxed));
}

/*
 * The set of names read: open addressing on the table's own hash, a slot
 * claimed with a CAS. A slot being written by another thread ends the
 * look (it may hold this very name; if not, a later fill records it); a
 * full set records no more. true: a name new to the set.
 */
static bool
wt_report_name(struct wt_report *r, const char *flag, size_t n)
{
	uint32_t	h, i, probe;
	uint8_t		st;

	if (atomic_load_explicit(&r->full, memory_order_relaxed))
		return false;
	h = table_name_hash(flag, n);
	for (probe = 0; probe < TABLE_CAPACITY; probe++) {
		i = (h + probe) & (TABLE_CAPACITY - 1);
		st = atomic_load_explicit(&r->slot[i], memory_order_acquire);
		if (st == WT_SLOT_EMPTY) {
			if (!atomic_compare_exchange_strong_explicit(&r->slot[i],
			    &st, WT_SLOT_WRITING, memory_order_acquire,
			    memory_order_relaxed))
				return false;
			memcpy(r->names[i], flag, n);
			memset(r->names[i] + n, 0, TABLE_NAME_SIZE - n);
			atomic_fetch_add_explicit(&r->nnew, 1,
			    memory_order_relaxed);
			atomic_store_explicit(&r->slot[i], WT_SLOT_NEW,
			    memory_order_release);
			return true;
		}
		if (st == WT_SLOT_WRITING)
			return false;
		if (strncmp(r->names[i], flag, n + 1) == 0)
			return false;
	}
	atomic_store_explicit(&r->full, 1, memory_order_relaxed);
	return false;
}

/*
 * A consistent read saw generation gen, and found flag (NULL: none): one
 * report for both. Of the threads that see a new generation, the one
 * whose CAS claims it sends.
 */
WT_HIDDEN void
wt_report_note(struct warden_table *t, uint64_t gen, const char *flag,
    size_t n)
{
	struct wt_report	*r = t->rep;
	uint64_t		 seen;
	bool			 news = false;

	if (r == NULL)
		return;
	if (flag != NULL)
		news = wt_report_name(r, flag, n);
	seen = atomic_load_explicit(&r->seen_gen, memory_order_relaxed);
	if (gen != 0 && seen != gen && atomic_compare_exchange_strong_explicit(
	    &r->seen_gen, &seen, gen, memory_order_relaxed,
	    memory_order_relaxed))
		news = true;
	if (news)
		wt_report_kick(t, r);
}

WT_HIDDEN void
wt_report_due(struct warden_table *t, uint64_t now)
{
	struct wt_report	*r = t->rep;

	atomic_thread_fence(memory_order_seq_cst);
	if (!wt_report_pending(r))
		return;
	if (now >= atomic_load_explicit(&r->due, memory_order_relaxed))
		wt_report_send(t, r, now);
	else
		wt_report_later(t, atomic_load_explicit(&r->due,
		    memory_order_relaxed));
}

/* ---- test hooks (libwarden-test.h) ---- */

uint64_t
warden_test_reports(struct warden_table *t)
{
	return t != NULL && t->rep != NULL ?
	    atomic_load_explicit(&t->rep->sends, memory_order_relaxed) : 0;
}

int
warden_test_report_fd(struct warden_table *t)
{
	return t != NULL && t->rep != NULL ? t->rep->fd : -1;
}
