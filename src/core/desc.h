/*
 * desc.h: reading and writing the description of a state handed over to
 * the next image by a reexec (reexec.h).
 *
 * The new image reads what the old one wrote, and the old one is gone by
 * then: nothing in a description is trusted. Each reader checks one member
 * and returns 0, or -1 with err saying "WHERE.KEY: what is wrong" (WHERE
 * names the object, "clients[2]" say), so that the image can refuse with
 * a message instead of crashing on a mistyped field. Bytes that need not
 * be UTF-8 (a partial line, queued output) travel as base64.
 */
#ifndef WARDEN_DESC_H
#define WARDEN_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* An integer from lo to hi. */
int	 desc_int(const json_t *o, const char *where, const char *key,
	    json_int_t lo, json_int_t hi, json_int_t *out, char *err,
	    size_t errlen);
/* The same, or null: then *present is false and *out untouched. */
int	 desc_opt_int(const json_t *o, const char *where, const char *key,
	    json_int_t lo, json_int_t hi, json_int_t *out, bool *present,
	    char *err, size_t errlen);
int	 desc_bool(const json_t *o, const char *where, const char *key,
	    bool *out, char *err, size_t errlen);
/* A non-empty string without NUL bytes (borrowed from o). */
int	 desc_string(const json_t *o, const char *where, const char *key,
	    const char **out, char *err, size_t errlen);
/* An object or an array (borrowed). */
int	 desc_object(const json_t *o, const char *where, const char *key,
	    json_t **out, char *err, size_t errlen);
int	 desc_array(const json_t *o, const char *where, const char *key,
	    json_t **out, char *err, size_t errlen);
/* Bytes written by desc_b64(): *out malloc'd (one byte more, a NUL), *len. */
int	 desc_bytes(const json_t *o, const char *where, const char *key,
	    char **out, size_t *len, char *err, size_t errlen);
/* len bytes as a base64 string. */
json_t	*desc_b64(const void *, size_t len);

#endif
