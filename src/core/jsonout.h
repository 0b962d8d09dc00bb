/*
 * jsonout.h: compact JSON text from a jansson value, fast.
 *
 * Every answer and event warden sends is a jansson value turned into one
 * line. json_dumps() spends most of its time guarding against cycles (a
 * hashtable insert keyed by a printed pointer for every object and array);
 * warden's values are trees it built itself, so this writer skips that and
 * appends to a buffer that is reused from line to line. The text is byte
 * for byte what json_dumps(v, JSON_COMPACT) gives.
 */
#ifndef WARDEN_JSONOUT_H
#define WARDEN_JSONOUT_H

#include <stddef.h>
#include <jansson.h>

struct jsonout {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

/* Append v's compact text. Aborts only when memory runs out (fatal). */
void	jsonout_append(struct jsonout *, const json_t *v);
/* Append raw bytes. */
void	jsonout_raw(struct jsonout *, const char *, size_t);
/* Empty it, keeping the memory (up to a limit, so one huge line is not kept). */
void	jsonout_reset(struct jsonout *);
void	jsonout_free(struct jsonout *);

#endif
