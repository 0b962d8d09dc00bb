/*
 * logfile.h: a service's lines written to a file of its own, rotated by
 * size, by a writer thread: the loop only queues, so a slow or full disk,
 * a folder that vanished or a FIFO nobody reads never stalls it. What
 * cannot be queued or written is counted and said.
 */
#ifndef WARDEN_LOGFILE_H
#define WARDEN_LOGFILE_H

#include <stddef.h>
#include <stdint.h>

struct logfile;

/* A file for service's lines, opened by the writer on its first line. */
struct logfile	*logfile_new(const char *service, const char *path,
		    int max_bytes, int keep);
/* Is it the file of path, max_bytes and keep? (a reload keeps it then) */
int		 logfile_is(const struct logfile *, const char *path,
		    int max_bytes, int keep);
/* Queue one line (without its newline); -1: no room, the line is lost. */
int		 logfile_write(struct logfile *, const char *line, size_t len);
/* Lines the writer could not write (open or write failed). */
uint64_t	 logfile_lost(struct logfile *);
/* What is queued is written, then the file closed and freed. */
void		 logfile_close(struct logfile *);
/*
 * warden's end or reexec: wait, ms at most, until what is queued is
 * written. Lines still queued then are lost with the process (said).
 */
void		 logfile_flush(int ms);
/* warden's end: the same, then the writer ends (every file closed first). */
void		 logfile_shutdown(int ms);

#endif
