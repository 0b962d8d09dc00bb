/*
 * observe.h: what workers report of their reads (libwarden, WARDEN_REPORT),
 * read and kept: the pure half of "who reads what" and the propagation
 * barrier (warden(8)). A report is one datagram of lines, each ended by a
 * newline:
 *
 *	G=<generation>	the table generation the sender's last read saw
 *	R=<flag>	a flag it read
 *
 * The daemon (src/daemon/observe.c) receives them, attributes them to a
 * worker and keeps an observe_record per worker instance.
 */
#ifndef WARDEN_OBSERVE_H
#define WARDEN_OBSERVE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "table_layout.h"

struct flags;

/* A report's size at most (libwarden's WT_REPORT_MAX). */
#define OBSERVE_REPORT_MAX	2048
/* Reader pids kept per worker instance: the oldest report gives way. */
#define OBSERVE_PIDS		8

/* One report, read. */
struct observe_report {
	bool		 has_gen;
	uint64_t	 gen;
	size_t		 nflags;
	/* indexes into the flags the report was read against */
	uint32_t	 flag[OBSERVE_REPORT_MAX / 3];
};

/*
 * Read a report of LEN bytes against the flags configured now and the
 * table's generation CUR: 0, or -1 with why (garbage: not text lines,
 * a line neither G= nor R=, a generation not a decimal or above CUR, two
 * G= lines, a name that is no configured flag, over the size).
 */
int		 observe_parse(const char *msg, size_t len, uint64_t cur,
		    const struct flags *, struct observe_report *,
		    char *why, size_t whylen);

struct observe_reader {
	pid_t		 pid;
	uint64_t	 gen;		/* the last it reported; 0: none yet */
	uint64_t	 at_ms;		/* when (monotonic) */
};

/* A set of flag names: the few one worker reads, in order first read. */
struct observe_names {
	char		**v;
	size_t		  n, cap;
};

bool		 observe_names_has(const struct observe_names *, const char *);
/* false when it is there already. */
bool		 observe_names_add(struct observe_names *, const char *);
void		 observe_names_free(struct observe_names *);

/* What warden knows of one worker instance's reads. */
struct observe_record {
	struct observe_reader	 reader[OBSERVE_PIDS];
	size_t			 nreaders;
	struct observe_names	 flags;		/* the names read */
	uint64_t		 gen;		/* the highest generation reported */
	int64_t			 at_wall_ms;	/* the last report's (realtime) */
	uint64_t		 reports;	/* accepted */
	uint64_t		 garbage;	/* dropped: not a report */
	uint64_t		 dropped;	/* dropped: not from the worker */
};

void		 observe_record_init(struct observe_record *);
/* A new instance: no readers, no flags; the counts stay. */
void		 observe_record_clear(struct observe_record *);
void		 observe_record_free(struct observe_record *);
/*
 * An accepted report from pid (of the worker instance), the names of its
 * flags from fs. Returns the reader's generation before (0: none).
 */
uint64_t	 observe_record_note(struct observe_record *, pid_t,
		    const struct observe_report *, const struct flags *,
		    uint64_t now_ms, int64_t wall_ms);
/* Has it reported at least once? */
bool		 observe_record_is_reader(const struct observe_record *);
bool		 observe_record_reads(const struct observe_record *,
		    const char *flag);
/*
 * Has a live reader (alive(pid, arg)) reported gen or later? *pid and
 * *seen: the live reader with the highest generation (0, 0: none); dead
 * readers are forgotten.
 */
bool		 observe_record_observed(struct observe_record *, uint64_t gen,
		    bool (*alive)(pid_t, void *), void *arg, pid_t *pid,
		    uint64_t *seen);
/* Is one of names a flag that the stages from + 1 .. to of fs enable? */
bool		 observe_reads_stages(const struct observe_names *,
		    const struct flags *, int from, int to);
/* Add a name read (from a handover); false when it is there already. */
bool		 observe_record_add_flag(struct observe_record *, const char *);
void		 observe_record_add_reader(struct observe_record *, pid_t,
		    uint64_t gen, uint64_t at_ms);

/*
 * A flood gate: at most max messages in a window of win_ms; true when
 * this one is over (the caller pauses the sender's socket).
 */
struct observe_gate {
	uint64_t	 start_ms;
	unsigned	 count;
};
bool		 observe_gate_over(struct observe_gate *, unsigned max,
		    uint64_t win_ms, uint64_t now_ms);

#endif
