/*
 * drill-int.h: what the files of the drill logic share (drill.c,
 * drill-parse.c, drill-match.c, drill-report.c); not for other callers,
 * which have drill.h.
 */
#ifndef WARDEN_DRILL_INT_H
#define WARDEN_DRILL_INT_H

#include <stdbool.h>

#include <jansson.h>

/* The comparison operators, $gt $ge $lt $le; NULL-ended. */
extern const char *const drill_comparisons[];

/* Is a pattern's key an operator ($...)? */
bool	 drill_is_operator(const char *key);

/* Compact JSON; reals as short as they read. The caller frees it. */
char	*drill_json_text(json_t *);

#endif
