/*
 * logs.h: what becomes of each line a worker writes. It is kept in the
 * service's ring (its last lines, for `wardenctl logs` and the failure
 * hooks), said in warden's log under the service's name, and sent to the
 * clients that follow the service's lines (service.logs with follow).
 */
#ifndef WARDEN_LOGS_H
#define WARDEN_LOGS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

struct node;
struct logline;

/* A node's lines kept, and its file if it has one; and their end. */
void	 logs_init(struct node *);
void	 logs_free(struct node *);
void	 logs_line(struct node *, int stream, pid_t, const char *, size_t);
/* Lines lost on the way to the journal or the service's file. */
uint64_t logs_dropped_count(const struct node *);
/* A reload: the service's bounds or file may have changed. */
void	 logs_limits(struct node *);
/*
 * A reload replaced old with succ (the same service, new settings): its
 * lines so far go with the service, and so do those old's instance
 * writes while it stops.
 */
void	 logs_succeed(struct node *old, struct node *succ);
/* A line as clients see it: {service, seq, time, stream, pid, text}. */
json_t	*logs_line_json(const char *service, const struct logline *);
/* The sequence number of the last line of any service (0: none yet). */
uint64_t logs_last_seq(void);
/*
 * A reexec: every service's lines kept, and the count, described for the
 * next image, which takes them (d NULL: an image that kept none).
 */
json_t	*logs_handover(void);
int	 logs_adopt(const json_t *d, char *err, size_t errlen);

#endif
