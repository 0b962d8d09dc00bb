/*
 * readers.c: the workers' report sockets and what warden keeps of their
 * reads (see readers.h; the format and the record are core/observe.c's).
 *
 * A report is believed only from the worker's process group (the kernel
 * says the sender's pid: SO_PASSCRED): anything else is dropped and
 * counted, as is garbage (not a report, checked strictly), which is said
 * in the log at most once a minute per worker. A worker flooding its
 * socket is read READERS_BATCH datagrams per wake-up, and past
 * READERS_FLOOD_PER_S messages in a second its socket is not listened to
 * for a second: the loop stays fair to every other client and worker.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "barrier.h"
#include "flagsvc.h"
#include "log.h"
#include "observe.h"
#include "readers.h"
#include "readysock.h"
#include "tree-private.h"
#include "util.h"

#define READERS_SAY_EVERY_MS	60000	/* garbage and floods, in the log */
#define STR_(x)			#x
#define STR(x)			STR_(x)

struct readers {
	struct node		*node;
	int			 fd;
	struct event		*ev;
	struct event		*resume;	/* a flood's pause ends */
	char			*addr;		/* "@warden-report...", NULL: none */
	/* Made at its first report: most workers of many may never read. */
	struct observe_record	*rec;
	/* The flags any of its instances read: the guard's (scope readers). */
	struct observe_names	 ever;
	struct observe_gate	 gate;
	uint64_t		 garbage_said;	/* when garbage was last said, */
	uint64_t		 flood_said;	/* ... and a flood; 0: never */
};

static unsigned	readers_counter;

/* A warning about the worker's reports, at most once a minute each. */
static void
readers_say(struct readers *r, uint64_t *said, const char *what,
    const char *why)
{
	uint64_t	now = util_now_ms();

	if (*said != 0 && now - *said < READERS_SAY_EVERY_MS)
		return;
	*said = now != 0 ? now : 1;
	log_warnx("%s: reports: %s: %s (said at most once a minute)",
	    r->node->name, what, why);
}

/* The record, made at the first report (or handover) that needs it. */
static struct observe_record *
readers_rec(struct readers *r)
{
	if (r->rec == NULL) {
		r->rec = xmalloc(sizeof(*r->rec));
		observe_record_init(r->rec);
	}
	return r->rec;
}

bool
readers_alive(pid_t pid, void *arg)
{
	const struct node	*n = arg;

	return n->pid > 0 && pid > 0 && (pid == n->pid || getpgid(pid) == n->pid);
}

static void
readers_note_ever(struct readers *r, const struct observe_report *rep)
{
	const struct flags	*fs = flagsvc_flags();
	size_t			 i;

	for (i = 0; i < rep->nflags; i++)
		if (fs != NULL && rep->flag[i] < fs->nflags)
			(void)observe_names_add(&r->ever,
			    fs->flag[rep->flag[i]].name);
}

/* One datagram of the worker's socket. */
static void
readers_take(struct readers *r, pid_t pid, const char *buf, size_t len,
    bool cut)
{
	struct observe_report	 rep;
	struct node		*n = r->node;
	uint64_t		 before;
	char			 why[160];

	if (!readers_alive(pid, n)) {
		readers_rec(r)->dropped++;
		log_debug("%s: reports: one from pid %ld, not of the worker, "
		    "dropped", n->name, (long)pid);
		return;
	}
	if (cut) {
		readers_rec(r)->garbage++;
		snprintf(why, sizeof(why), "over %d bytes", OBSERVE_REPORT_MAX);
		readers_say(r, &r->garbage_said, "garbage dropped", why);
		return;
	}
	if (observe_parse(buf, len, flagsvc_generation(), flagsvc_flags(),
	    &rep, why, sizeof(why)) == -1) {
		readers_rec(r)->garbage++;
		readers_say(r, &r->garbage_said, "garbage dropped", why);
		return;
	}
	before = observe_record_note(readers_rec(r), pid, &rep, flagsvc_flags(),
	    util_now_ms(), util_wall_ms());
	readers_note_ever(r, &rep);
	if (rep.has_gen && rep.gen > before)
		barrier_reported(n, rep.gen);
}

static void
readers_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct readers	*r = arg;

	(void)fd;
	(void)what;
	if (event_add(r->ev, NULL) == -1)
		log_warnx("%s: reports: cannot listen again", r->node->name);
}

/* Past the flood bound: not listened to for a second. */
static void
readers_pause(struct readers *r)
{
	struct timeval	tv = { 1, 0 };

	(void)event_del(r->ev);
	if (r->resume == NULL &&
	    (r->resume = evtimer_new(tree.base, readers_resume_cb, r)) == NULL)
		fatalx("%s: reports: cannot make a timer", r->node->name);
	if (evtimer_add(r->resume, &tv) == -1)
		fatalx("%s: reports: cannot arm a timer", r->node->name);
	readers_say(r, &r->flood_said, "flood", "over "
	    STR(READERS_FLOOD_PER_S) " messages a second: not listened to "
	    "for a second");
}

static void
readers_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct readers	*r = arg;
	char		 buf[OBSERVE_REPORT_MAX + 1];
	ssize_t		 n;
	pid_t		 pid;
	bool		 cut;
	int		 i;

	(void)what;
	for (i = 0; i < READERS_BATCH; i++) {
		n = readysock_recv(fd, buf, sizeof(buf), &pid, &cut);
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("%s: reports: recvmsg", r->node->name);
			return;
		}
		readers_take(r, pid, buf, (size_t)n,
		    cut || n > OBSERVE_REPORT_MAX);
		if (observe_gate_over(&r->gate, READERS_FLOOD_PER_S, 1000,
		    util_now_ms())) {
			readers_pause(r);
			return;
		}
	}
}

static struct readers *
readers_new(struct node *n)
{
	struct readers	*r = xcalloc(1, sizeof(*r));

	r->node = n;
	r->fd = -1;
	n->readers = r;
	return r;
}

/* Watch r->fd. */
static void
readers_watch(struct readers *r)
{
	r->ev = event_new(tree.base, r->fd, EV_READ | EV_PERSIST,
	    readers_read_cb, r);
	if (r->ev == NULL || event_add(r->ev, NULL) == -1)
		fatalx("%s: reports: cannot watch the socket", r->node->name);
}

/*
 * A fresh abstract address: "@warden-report.<pid>.<n>". A reexec keeps
 * the pid and hands over the sockets of its workers: a number already
 * bound is passed over.
 */
static int
readers_bind(struct readers *r)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	char			addr[sizeof(sun.sun_path)];
	int			one = 1, tries;

	r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (r->fd == -1)
		return -1;
	if (setsockopt(r->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1)
		goto fail;
	for (tries = 0; tries < 1000; tries++) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		snprintf(addr, sizeof(addr), "@warden-report.%ld.%u",
		    (long)getpid(), readers_counter++);
		memcpy(sun.sun_path + 1, addr + 1, strlen(addr) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    strlen(addr));
		if (bind(r->fd, (struct sockaddr *)&sun, len) == 0) {
			free(r->addr);
			r->addr = xstrdup(addr);
			return 0;
		}
		if (errno != EADDRINUSE)
			break;
	}
fail:
	close(r->fd);
	r->fd = -1;
	return -1;
}

const char *
readers_addr(struct node *n)
{
	struct readers	*r = n->readers;

	if (r != NULL && r->fd != -1)
		return r->addr;
	if (flagsvc_table_name() == NULL && flagsvc_table_fd() == -1)
		return NULL;
	if (r == NULL)
		r = readers_new(n);
	if (readers_bind(r) == -1) {
		log_warn("%s: no report socket (who reads what is not known)",
		    n->name);
		return NULL;
	}
	readers_watch(r);
	return r->addr;
}

void
readers_started(struct node *n)
{
	if (n->readers != NULL)
		if (n->readers->rec != NULL)
			observe_record_clear(n->readers->rec);
}

/*
 * What the instance read is kept until the next starts (status shows
 * it); without a process it is no reader (readers_record()).
 */
void
readers_exited(struct node *n)
{
	if (n->readers == NULL)
		return;
	/* It is no longer waited for. */
	barrier_reported(n, 0);
}

bool
readers_guarded(struct node *n, const struct flags *fs, int from, int to)
{
	struct readers	*r = n->readers;

	if (r == NULL || r->fd == -1)
		return false;
	/* What it sent before it went down counts: read it now. */
	readers_read_cb(r->fd, EV_READ, r);
	return observe_reads_stages(&r->ever, fs, from, to);
}

void
readers_free(struct node *n)
{
	struct readers	*r = n->readers;

	if (r == NULL)
		return;
	if (r->ev != NULL)
		event_free(r->ev);
	if (r->resume != NULL)
		event_free(r->resume);
	if (r->fd != -1)
		close(r->fd);
	if (r->rec != NULL)
		observe_record_free(r->rec);
	free(r->rec);
	observe_names_free(&r->ever);
	free(r->addr);
	free(r);
	n->readers = NULL;
}

struct observe_record *
readers_record(struct node *n)
{
	return n->readers != NULL && n->pid > 0 ? n->readers->rec : NULL;
}

/* ---- who reads what ---- */

json_t *
readers_status_json(const struct node *n)
{
	const struct observe_record	*rec;
	json_t				*o, *flags, *pids;
	char				 iso[UTIL_ISO_LEN];
	size_t				 i;

	if (n->readers == NULL || (rec = n->readers->rec) == NULL)
		return NULL;
	if (rec->reports == 0 && rec->garbage == 0 && rec->dropped == 0)
		return NULL;
	flags = json_array();
	for (i = 0; i < rec->flags.n; i++)
		json_array_append_new(flags, json_string(rec->flags.v[i]));
	pids = json_array();
	for (i = 0; i < rec->nreaders; i++)
		json_array_append_new(pids, json_pack("{s:i,s:I}", "pid",
		    (int)rec->reader[i].pid, "generation",
		    (json_int_t)rec->reader[i].gen));
	o = json_pack("{s:I,s:o,s:o,s:I,s:I,s:I}", "generation",
	    (json_int_t)rec->gen, "flags", flags, "readers", pids,
	    "reports", (json_int_t)rec->reports, "garbage",
	    (json_int_t)rec->garbage, "dropped", (json_int_t)rec->dropped);
	json_object_set_new(o, "at", rec->at_wall_ms != 0 ?
	    json_string(util_iso_ms(rec->at_wall_ms, iso)) : json_null());
	return o;
}

bool
readers_node_reads(const struct node *n, const char *flag)
{
	return n->readers != NULL && n->pid > 0 &&
	    n->readers->rec != NULL && observe_record_reads(n->readers->rec,
	    flag);
}

struct readers_of {
	const char	*flag;
	json_t		*list;		/* NULL: count only */
	size_t		 count;
};

static int
readers_of_one(struct node *n, void *arg)
{
	struct readers_of	*o = arg;

	if (!readers_node_reads(n, o->flag))
		return 0;
	o->count++;
	if (o->list != NULL)
		json_array_append_new(o->list, json_pack("{s:s,s:i}",
		    "service", n->name, "pid", (int)n->pid));
	return 0;
}

json_t *
readers_of_flag(const char *flag)
{
	struct readers_of	o = { flag, json_array(), 0 };

	if (tree_root() != NULL)
		(void)tree_each_worker(tree_root(), readers_of_one, &o);
	return o.list;
}

size_t
readers_count_flag(const char *flag)
{
	struct readers_of	o = { flag, NULL, 0 };

	if (tree_root() != NULL)
		(void)tree_each_worker(tree_root(), readers_of_one, &o);
	return o.count;
}

void
readers_add_to_flag(json_t *flag)
{
	json_t	*list;

	list = readers_of_flag(json_string_value(json_object_get(flag,
	    "name")));
	json_object_set_new(flag, "read", json_boolean(json_array_size(list) >
	    0));
	json_object_set_new(flag, "readers", list);
}

void
readers_add_to_flags(json_t *flags, bool names)
{
	const char	*name;
	json_t		*f;
	size_t		 i, count;

	json_array_foreach(flags, i, f) {
		name = json_string_value(json_object_get(f, "name"));
		if (names) {
			readers_add_to_flag(f);
			count = json_array_size(json_object_get(f, "readers"));
			(void)json_object_del(f, "read");
		} else {
			count = readers_count_flag(name);
			json_object_set_new(f, "readers",
			    json_integer((json_int_t)count));
		}
		if (count == 0)
			json_object_set_new(f, "unread", json_true());
	}
}

/* ---- reexec ---- */

json_t *
readers_handover(const struct node *n, json_t *fds)
{
	static const struct observe_record	 none;	/* never reported */
	const struct observe_record		*rec;
	const struct readers			*r = n->readers;
	json_t					*pids, *flags;
	size_t					 i;

	if (r == NULL || r->fd == -1)
		return json_null();
	rec = r->rec != NULL ? r->rec : &none;
	json_array_append_new(fds, json_integer(r->fd));
	pids = json_array();
	for (i = 0; i < rec->nreaders; i++)
		json_array_append_new(pids, json_pack("[i,I,I]",
		    (int)rec->reader[i].pid, (json_int_t)rec->reader[i].gen,
		    (json_int_t)rec->reader[i].at_ms));
	flags = json_array();
	for (i = 0; i < rec->flags.n; i++)
		json_array_append_new(flags, json_string(rec->flags.v[i]));
	return json_pack("{s:i,s:s,s:o,s:o,s:[I,I,I],s:I}", "fd", r->fd,
	    "addr", r->addr, "readers", pids, "flags", flags, "counts",
	    (json_int_t)rec->reports, (json_int_t)rec->garbage,
	    (json_int_t)rec->dropped, "at", (json_int_t)rec->at_wall_ms);
}

/* The readers and flags of a handover, each checked. */
static int
readers_adopt_record(struct observe_record *rec, const json_t *pids,
    const json_t *flags, char *err, size_t errlen)
{
	json_int_t	 pid, gen, at;
	const json_t	*v;
	size_t		 i;

	json_array_foreach(pids, i, v) {
		if (i >= OBSERVE_PIDS || json_unpack((json_t *)v, "[I,I,I]",
		    &pid, &gen, &at) == -1 || pid <= 0 || pid > INT_MAX ||
		    gen < 0 || at < 0) {
			snprintf(err, errlen, "readers[%zu]: want [pid, "
			    "generation, at]", i);
			return -1;
		}
		observe_record_add_reader(rec, (pid_t)pid, (uint64_t)gen,
		    (uint64_t)at);
	}
	json_array_foreach(flags, i, v) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > TABLE_NAME_MAX) {
			snprintf(err, errlen, "flags[%zu]: want a flag name", i);
			return -1;
		}
		(void)observe_record_add_flag(rec, json_string_value(v));
	}
	return 0;
}

int
readers_adopt(struct node *n, const json_t *d, char *err, size_t errlen)
{
	struct readers	*r;
	json_t		*pids, *flags;
	json_int_t	 fd, reports, garbage, dropped, at;
	const char	*addr;
	char		 why[200];

	if (d == NULL || json_is_null(d))
		return 0;
	if (json_unpack((json_t *)d, "{s:I,s:s,s:o,s:o,s:[I,I,I],s:I}", "fd",
	    &fd, "addr", &addr, "readers", &pids, "flags", &flags, "counts",
	    &reports, &garbage, &dropped, "at", &at) == -1 || fd < 3 ||
	    fd > INT_MAX || addr[0] != '@' ||
	    strlen(addr) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
	    !json_is_array(pids) || !json_is_array(flags) || reports < 0 ||
	    garbage < 0 || dropped < 0) {
		snprintf(err, errlen, "tree: %s: reports: want {fd, addr "
		    "\"@...\", readers, flags, counts, at}", n->name);
		return -1;
	}
	r = n->readers != NULL ? n->readers : readers_new(n);
	if (readysock_take_fd((int)fd, "reports", why, sizeof(why)) == -1 ||
	    readers_adopt_record(readers_rec(r), pids, flags, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "tree: %s: %s", n->name, why);
		return -1;
	}
	r->fd = (int)fd;
	free(r->addr);
	r->addr = xstrdup(addr);
	r->rec->reports = (uint64_t)reports;
	r->rec->garbage = (uint64_t)garbage;
	r->rec->dropped = (uint64_t)dropped;
	r->rec->at_wall_ms = at;
	readers_watch(r);
	return 0;
}
