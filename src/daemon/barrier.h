/*
 * barrier.h: the propagation barrier. A flag or stage change asked with
 * "wait_observed": MS is answered once every running worker that reads
 * the table (one that has reported at least once: readers.h) has a live
 * reader that reported the generation the change published, or later; or
 * when MS have passed, then naming those that had not (the laggards).
 * The answer gains "observed": {generation, readers, waited_ms, complete,
 * laggards: [{service, pid, generation}]}.
 */
#ifndef WARDEN_BARRIER_H
#define WARDEN_BARRIER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

struct call;
struct node;
struct pending;

/*
 * The answer to a change that succeeded (result, taken): at once when
 * wait_ms is -1 (not asked), else once observed or at wait_ms.
 */
void		 barrier_answer(struct call *, json_t *result,
		    json_int_t wait_ms);
/*
 * The worker reported generation gen, up from less; 0: it ended. The
 * barriers it may complete are tested again once the loop has read what
 * else came in.
 */
void		 barrier_reported(struct node *, uint64_t gen);
/* Whether every running worker that reads has a reader at gen or later. */
bool		 barrier_observed(uint64_t gen);
/*
 * Call fn(arg) once, at a turn of the loop after a report reached gen or
 * a worker ended (either may make gen observed: the caller asks
 * barrier_observed()). One such watch is kept; a new one replaces it, and
 * fn NULL drops it.
 */
typedef void	 barrier_notify_fn(void *arg);
void		 barrier_notify(uint64_t gen, barrier_notify_fn *fn, void *arg);
/* The pending call is going (answered, or its client went). */
void		 barrier_free(struct pending *);
/*
 * A reexec: a barrier's call described ({generation, started_ms,
 * deadline_ms, result}, added to o); in the next image, read and checked
 * (barrier_read: -1 with err naming what is wrong, nothing taken), then
 * taken again by its pending call.
 */
struct barrier_desc {
	json_int_t	 gen, started_ms, deadline_ms;
	json_t		*result;	/* borrowed from the description */
};
void		 barrier_describe(const struct pending *, json_t *o);
int		 barrier_read(const json_t *o, const char *where,
		    struct barrier_desc *, char *err, size_t errlen);
void		 barrier_adopt(struct pending *, const struct barrier_desc *);
void		 barrier_fini(void);

#endif
