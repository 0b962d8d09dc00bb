/*
 * jsonerr.c: the errors of a parser that walks a jansson tree (see
 * jsonerr.h). The messages here are the ones warden.json(5) and
 * warden-drill(5) users see, byte for byte: tests compare them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jsonerr.h"

json_t *
jsonerr_load(struct jsonerr *e, const char *text, size_t len,
    const char *file, char *err, size_t errlen)
{
	json_error_t	 je;
	json_t		*root;

	memset(e, 0, sizeof(*e));
	if (err == NULL)
		errlen = 0;
	if (errlen > 0)
		err[0] = '\0';
	e->text = text;
	e->len = len;
	e->file = file;
	e->err = err;
	e->errlen = errlen;
	if ((root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) !=
	    NULL)
		return root;
	/* jansson says column 0 at the very start of a line. */
	if (je.line >= 1)
		snprintf(err, errlen, "%s:%d:%d: %s", file, je.line,
		    je.column < 1 ? 1 : je.column, je.text);
	else
		snprintf(err, errlen, "%s: %s", file, je.text);
	/* jansson quotes what it met, control characters included. */
	if (errlen > 0 && strlen(err) > strlen(file))
		jsonpos_one_line(err + strlen(file));
	return NULL;
}

void
jsonerr_free(struct jsonerr *e)
{
	jsonpos_path_free(&e->path);
}

static int
jsonerr_vat(struct jsonerr *e, int want_key, const char *extra,
    const char *fmt, va_list ap)
{
	jsonpos_verror(e->text, e->len, e->file, &e->path, want_key, extra,
	    e->err, e->errlen, fmt, ap);
	return -1;
}

int
jsonerr_value(struct jsonerr *e, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	jsonerr_vat(e, 0, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int
jsonerr_key(struct jsonerr *e, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	jsonerr_vat(e, 1, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

/* Through jsonerr_vat for its va_list: the message has no arguments. */
static int
jsonerr_missing_at(struct jsonerr *e, const char *key, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	jsonerr_vat(e, 0, key, fmt, ap);
	va_end(ap);
	return -1;
}

int
jsonerr_missing(struct jsonerr *e, const char *key)
{
	return jsonerr_missing_at(e, key, "required key is missing");
}

void
jsonerr_push_key(struct jsonerr *e, const char *key)
{
	jsonpos_push(&e->path, key, 0);
}

void
jsonerr_push_index(struct jsonerr *e, size_t index)
{
	jsonpos_push(&e->path, NULL, index);
}

void
jsonerr_pop(struct jsonerr *e)
{
	jsonpos_pop(&e->path);
}

json_t *
jsonerr_get(struct jsonerr *e, json_t *obj, const char *key)
{
	json_t	*v;

	if ((v = json_object_get(obj, key)) != NULL)
		jsonerr_push_key(e, key);
	return v;
}

bool
jsonerr_listed(const char *const *list, const char *s)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

int
jsonerr_keys(struct jsonerr *e, json_t *obj, const char *const *known,
    const char *const *also)
{
	const char	*key;
	json_t		*v;

	json_object_foreach(obj, key, v) {
		if (jsonerr_listed(known, key) || jsonerr_listed(also, key))
			continue;
		jsonerr_push_key(e, key);
		return jsonerr_key(e, "unknown key");
	}
	return 0;
}

int
jsonerr_object(struct jsonerr *e, json_t *v, const char *const *known)
{
	if (!json_is_object(v))
		return jsonerr_value(e, "expected an object");
	return jsonerr_keys(e, v, known, NULL);
}
