/*
 * jsonpos.h: where a value sits in JSON text, by key path.
 *
 * jansson reports positions for syntax errors only. To point at the value
 * a semantic check rejected, the config loader scans the text jansson has
 * already accepted and follows a path of object keys and array indexes.
 */
#ifndef WARDEN_JSONPOS_H
#define WARDEN_JSONPOS_H

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

#endif
