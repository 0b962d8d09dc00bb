/*
 * jsonpos.h: where a value sits in JSON text, by key path.
 *
 * jansson reports positions for syntax errors only. To point at the value
 * a semantic check rejected, the config loader scans the text jansson has
 * already accepted and follows a path of object keys and array indexes.
 */
#ifndef WARDEN_JSONPOS_H
#define WARDEN_JSONPOS_H

#include <stdarg.h>
#include <stddef.h>

/* One step of a path: an object member by key, or an array element. */
struct jsonpos_seg {
	const char	*key;	/* UTF-8; NULL for an array element */
	size_t		 index;	/* array element, when key is NULL */
};

/*
 * Find the value at path in text (npath 0: the top-level value). With
 * want_key and a last segment naming an object member, find the member's
 * key instead. Lines and columns count from 1; columns count characters,
 * not bytes, as jansson does. Returns 0, or -1 when the path is not there.
 */
int	jsonpos_find(const char *text, size_t len,
	    const struct jsonpos_seg *path, size_t npath, int want_key,
	    int *line, int *col);

/* A key path kept as a parser walks down and up the tree. */
struct jsonpos_path {
	struct jsonpos_seg	*seg;	/* keys point into the jansson tree */
	size_t			 n;
	size_t			 cap;
};

void	jsonpos_push(struct jsonpos_path *, const char *key, size_t index);
void	jsonpos_pop(struct jsonpos_path *);
void	jsonpos_path_free(struct jsonpos_path *);

/* Control characters become '?': an error message stays one line. */
void	jsonpos_one_line(char *);

/*
 * Write one line to err: "FILE:LINE:COL: key.path[2].extra: message",
 * LINE:COL being where the value at the path starts (its key with
 * want_key; left out when the path is not in the text). extra names a
 * missing key, or is NULL. Control characters after FILE become '?'.
 */
void	jsonpos_verror(const char *text, size_t len, const char *file,
	    const struct jsonpos_path *, int want_key, const char *extra,
	    char *err, size_t errlen, const char *fmt, va_list ap);

#endif
