/*
 * readers.h: who reads what. Each worker gets WARDEN_REPORT, the abstract
 * address of a datagram socket of its own on which libwarden reports the
 * table generation it observed and the flags it read (core/observe.h says
 * the format). readers.c receives the reports, accepts only those of the
 * worker's process group, and keeps per worker instance its reader pids,
 * the flags it read and its counts; barrier.c waits on them.
 */
#ifndef WARDEN_READERS_H
#define WARDEN_READERS_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

struct node;
struct observe_record;

/* A sender past this many messages a second is not listened to for one. */
#define READERS_FLOOD_PER_S	200
/* Datagrams read per socket per wake-up, so that the loop stays fair. */
#define READERS_BATCH		16

/*
 * The worker's WARDEN_REPORT: its socket, made at its first start and
 * kept across restarts (the worker's environment is kept from start to
 * start, and a report of an earlier instance's fork is told apart by its
 * process group). NULL: none (no table, or no socket: said in the log).
 */
const char	*readers_addr(struct node *);
/*
 * A new instance starts: what was known of its reads is gone; one ended:
 * it is no longer waited for.
 */
void		 readers_started(struct node *);
void		 readers_exited(struct node *);
void		 readers_free(struct node *);

/*
 * The guard's scope "readers": did any instance of n read a flag that the
 * stages from + 1 .. to enable? Its pending reports are read first.
 */
struct flags;
bool		 readers_guarded(struct node *, const struct flags *, int from,
		    int to);
/* The instance's record; NULL when it has none. */
struct observe_record *readers_record(struct node *);
/* Is pid a live process of the worker instance (its group)? */
bool		 readers_alive(pid_t, void *node);

/* service.status's "reads" ({generation, flags, at}); NULL: never reported. */
json_t		*readers_status_json(const struct node *);
/* The running workers that read flag: [{service, pid}]. */
json_t		*readers_of_flag(const char *flag);
size_t		 readers_count_flag(const char *flag);
/*
 * flag.get's flag: "readers" [{service, pid}] and "read"; flag.list's
 * flags: "readers", a count (or the list, with names), and "unread": true
 * for a flag no running worker reads.
 */
void		 readers_add_to_flag(json_t *flag);
void		 readers_add_to_flags(json_t *flags, bool names);
/* Does the running instance of the worker read flag? */
bool		 readers_node_reads(const struct node *, const char *flag);

/*
 * A reexec: the socket (its fd in fds) and what is known of the
 * instance's reads; null when the worker has no socket. readers_adopt()
 * takes it in the next image (null: nothing).
 */
json_t		*readers_handover(const struct node *, json_t *fds);
int		 readers_adopt(struct node *, const json_t *, char *err,
		    size_t errlen);

#endif
