/*
 * wardenctltest.c: runs of wardenctl and readers of its output for the
 * wardenctl suites (wardenctltest.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "wardenctltest.h"

const char conf_ab[] =
    "{ \"supervisor\": { \"strategy\": \"one_for_one\",\n"
    "  \"max_restarts\": 20, \"max_seconds\": 60, \"children\": [\n"
    "    { \"name\": \"a\", \"command\": [\"@WORKER@\"] },\n"
    "    { \"name\": \"b\", \"command\": [\"@WORKER@\"] } ] } }\n";

char	*ctl_out, *ctl_err;

void
forget(void)
{
	free(ctl_out);
	free(ctl_err);
	ctl_out = ctl_err = NULL;
}

/* Run argv as it is (no -S added); WARDEN_SOCKET points at h. */
int
ctl_run(struct harness *h, const char *const *argv)
{
	forget();
	return harness_run(h, argv, &ctl_out, &ctl_err, 60000);
}

void
has(const char *text, const char *needle, const char *what)
{
	ck_assert_msg(text != NULL && strstr(text, needle) != NULL,
	    "%s: no \"%s\" in:\n%s", what, needle, text != NULL ? text : "");
}

json_t *
parse_output(const char *text, const char *what)
{
	json_error_t	 jerr;
	json_t		*v;

	v = json_loads(text, JSON_DECODE_ANY, &jerr);
	ck_assert_msg(v != NULL, "%s: not JSON (%s): %s", what, jerr.text,
	    text);
	return v;
}

/*
 * The row of a table whose first column is name, split into columns
 * (two or more spaces apart, as wardenctl aligns them, so a cell with
 * one space stays whole). Returns the number of columns.
 */
size_t
table_row(const char *text, const char *name, char cols[][64], size_t max)
{
	const char	*line, *end, *p, *q;
	size_t		 n, len;

	for (line = text; line != NULL && *line != '\0'; line = end) {
		end = strchr(line, '\n');
		len = end != NULL ? (size_t)(end - line) : strlen(line);
		if (end != NULL)
			end++;
		if (strncmp(line, name, strlen(name)) != 0 ||
		    (line[strlen(name)] != ' ' && line[strlen(name)] != '\n'))
			continue;
		n = 0;
		for (p = line; p < line + len && n < max; ) {
			q = strstr(p, "  ");
			if (q == NULL || q > line + len)
				q = line + len;
			snprintf(cols[n++], 64, "%.*s", (int)(q - p), p);
			p = q;
			while (p < line + len && *p == ' ')
				p++;
		}
		return n;
	}
	ck_abort_msg("no row for %s in:\n%s", name, text != NULL ? text : "");
	return 0;
}
