/*
 * jsonerr.h: the errors of a parser that walks a jansson tree.
 *
 * warden.json (config.c) and drill files (drill-parse.c) are checked the
 * same way: jansson reads the text, then a walk over the tree keeps the
 * key path it is at, and the first thing wrong becomes one line,
 * "FILE:LINE:COL: key.path[2].key: message", LINE:COL found by jsonpos.
 * This is that walk's state and its error messages, for both.
 */
#ifndef WARDEN_JSONERR_H
#define WARDEN_JSONERR_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "jsonpos.h"

struct jsonerr {
	const char		*text;
	size_t			 len;
	const char		*file;	/* names the text in messages */
	char			*err;	/* where the one line goes */
	size_t			 errlen;
	struct jsonpos_path	 path;	/* where the walk is */
};

/*
 * Parse text, rejecting duplicate keys, and make e ready for the walk.
 * On a syntax error, return NULL with "FILE:LINE:COL: what" in err.
 * err may be NULL. jsonerr_free() is due either way.
 */
json_t	*jsonerr_load(struct jsonerr *e, const char *text, size_t len,
	    const char *file, char *err, size_t errlen);
void	 jsonerr_free(struct jsonerr *);

/*
 * Each writes the error line and returns -1, so that a check can say
 * "return jsonerr_value(e, ...)". _value: the value at the path is
 * wrong; _key: the key of the path's last member is; _missing: the
 * object at the path lacks key.
 */
int	 jsonerr_value(struct jsonerr *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 jsonerr_key(struct jsonerr *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 jsonerr_missing(struct jsonerr *, const char *key);

/* The path, as the walk goes down and up the tree. */
void	 jsonerr_push_key(struct jsonerr *, const char *key);
void	 jsonerr_push_index(struct jsonerr *, size_t index);
void	 jsonerr_pop(struct jsonerr *);
/* obj's member key; when there is one, the path steps into it. */
json_t	*jsonerr_get(struct jsonerr *, json_t *obj, const char *key);

/* Is s in the NULL-ended list (NULL: an empty one)? */
bool	 jsonerr_listed(const char *const *list, const char *s);
/* Every key of obj is in known or also (NULL: none); else "unknown key". */
int	 jsonerr_keys(struct jsonerr *, json_t *obj, const char *const *known,
	    const char *const *also);
/* v is an object whose keys are all known; else the error. */
int	 jsonerr_object(struct jsonerr *, json_t *v, const char *const *known);

#endif
