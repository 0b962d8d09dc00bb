/*
 * table-private.h: what the table's two files share (table.c: the state and
 * its publishing; table-object.c: the shared-memory objects); the rest of
 * warden has table.h.
 */
#ifndef WARDEN_TABLE_PRIVATE_H
#define WARDEN_TABLE_PRIVATE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "table.h"


#define TABLE_SHM_DIR	"/dev/shm"
/*
 * Enough of the object to set its retired word: even a truncated table
 * can still send its readers to the fresh one.
 */
#define TABLE_RETIRED_END \
	(offsetof(struct table_header, retired) + sizeof(uint32_t))

struct table {
	char			 name[TABLE_SHM_NAME_SIZE];	/* NUL-padded */
	char			 path[sizeof(TABLE_SHM_DIR) + TABLE_SHM_NAME_SIZE];
	mode_t			 mode;
	uid_t			 uid;
	uint64_t		 start;		/* our start time (ticks), or 0 */
	int			 fd;		/* O_RDWR, the live object, -1: none */
	int			 rofd;		/* O_RDONLY, for workers */
	struct table_layout	*map;		/* NULL: no object (unavailable) */
	long			 replaced_uid;	/* another uid's object replaced, -1 */
	dev_t			 dev;
	ino_t			 ino;
	uint64_t		 seq;		/* the last sequence written */
	struct table_copy	 image;		/* the state: both copies */
	struct table_copy	 next;		/* a publish is built here */
};

/* A freshly made object, not yet the table's. */
struct table_obj {
	int			 fd;
	int			 rofd;
	struct table_layout	*map;
	dev_t			 dev;
	ino_t			 ino;
};

/* The message in err, when there is room. */
void		 table_err(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
/* Can the live mapping be touched without SIGBUS? */
bool		 table_live_ok(int fd, size_t need);
/* The start time of process PID (clock ticks after boot), 0: none. */
uint64_t	 table_proc_start(pid_t pid);
/* Mark a mapping we own retired (when asked), then let it go. */
void		 table_obj_release(struct table_obj *o, bool retire);
/*
 * Make a complete object from the state and rename it over the name, into
 * o; 0, or -1 with errno and err.
 */
int		 table_make(struct table *t, struct table_obj *o, char *err,
		    size_t errlen);

#endif
