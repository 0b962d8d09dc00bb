/*
 * wardenctl-output.c: what wardenctl prints: JSON, table cells, durations
 * and aligned tables.
 *
 * JSON is written here rather than with json_dumps so that a real keeps
 * its shortest exact form (a ts of 1234.567 prints as 1234.567, not as
 * 1234.5670000000000073); everything else looks as jansson would write it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "wardenctl.h"

static void
output_string(FILE *fp, const char *s, size_t len)
{
	size_t		i;
	unsigned char	ch;

	fputc('"', fp);
	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		switch (ch) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\b':
			fputs("\\b", fp);
			break;
		case '\f':
			fputs("\\f", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		default:
			if (ch < 0x20)
				fprintf(fp, "\\u%04x", ch);
			else
				fputc(ch, fp);
		}
	}
	fputc('"', fp);
}

/* The shortest of %.15g..%.17g that reads back as the same double. */
static void
output_real(char *buf, size_t len, double d)
{
	int	prec;

	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, len, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (prec == 17)
		snprintf(buf, len, "%.17g", d);
	/* Keep it a real for whoever reads it back: 5 would be an integer. */
	if (strpbrk(buf, ".eEn") == NULL && strlen(buf) + 2 < len)
		strcat(buf, ".0");
}

static void
output_newline(FILE *fp, bool pretty, int depth)
{
	if (pretty)
		fprintf(fp, "\n%*s", depth * 2, "");
}

static void
output_json(FILE *fp, json_t *v, bool pretty, int depth)
{
	const char	*key;
	json_t		*item;
	size_t		 i;
	char		 buf[64];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (json_object_size(v) == 0) {
			fputs("{}", fp);
			break;
		}
		fputc('{', fp);
		i = 0;
		json_object_foreach(v, key, item) {
			if (i++ > 0)
				fputc(',', fp);
			output_newline(fp, pretty, depth + 1);
			output_string(fp, key, strlen(key));
			fputs(pretty ? ": " : ":", fp);
			output_json(fp, item, pretty, depth + 1);
		}
		output_newline(fp, pretty, depth);
		fputc('}', fp);
		break;
	case JSON_ARRAY:
		if (json_array_size(v) == 0) {
			fputs("[]", fp);
			break;
		}
		fputc('[', fp);
		json_array_foreach(v, i, item) {
			if (i > 0)
				fputc(',', fp);
			output_newline(fp, pretty, depth + 1);
			output_json(fp, item, pretty, depth + 1);
		}
		output_newline(fp, pretty, depth);
		fputc(']', fp);
		break;
	case JSON_STRING:
		output_string(fp, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		fprintf(fp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		output_real(buf, sizeof(buf), json_real_value(v));
		fputs(buf, fp);
		break;
	case JSON_TRUE:
		fputs("true", fp);
		break;
	case JSON_FALSE:
		fputs("false", fp);
		break;
	case JSON_NULL:
		fputs("null", fp);
		break;
	}
}

void
ctl_json_write(FILE *fp, json_t *v, bool pretty)
{
	output_json(fp, v, pretty, 0);
}

char *
ctl_json_text(json_t *v, bool pretty)
{
	FILE	*fp;
	char	*text = NULL;
	size_t	 len = 0;

	if ((fp = open_memstream(&text, &len)) == NULL)
		fatal("open_memstream");
	output_json(fp, v, pretty, 0);
	if (fclose(fp) == EOF)
		fatal("open_memstream");
	return text;
}

/* -j: the result, exactly, indented. */
void
ctl_print_result(json_t *result)
{
	ctl_json_write(stdout, result, true);
	putchar('\n');
}

const char *
ctl_json_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* The elements of an array, as cells joined by sep; "-" for none. */
char *
ctl_join_names(json_t *array, const char *sep)
{
	json_t	*item;
	char	*out = NULL, *cell, *tmp;
	size_t	 i;

	json_array_foreach(array, i, item) {
		cell = ctl_cell(item);
		if (out == NULL)
			out = cell;
		else {
			xasprintf(&tmp, "%s%s%s", out, sep, cell);
			free(out);
			free(cell);
			out = tmp;
		}
	}
	return out != NULL ? out : xstrdup("-");
}

/* A JSON value as a table cell: "-" for null or missing, yes/no, text. */
char *
ctl_cell(json_t *v)
{
	char	*s, buf[64];

	switch (v != NULL ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		return xstrdup(json_string_value(v));
	case JSON_INTEGER:
		xasprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return s;
	case JSON_REAL:
		output_real(buf, sizeof(buf), json_real_value(v));
		return xstrdup(buf);
	case JSON_TRUE:
		return xstrdup("yes");
	case JSON_FALSE:
		return xstrdup("no");
	case JSON_ARRAY:
		return ctl_join_names(v, ",");
	case JSON_OBJECT:
		return ctl_json_text(v, false);
	case JSON_NULL:
		break;
	}
	return xstrdup("-");
}

/* 850ms, 1.04ms, 3.2s, 5m10s, 2h3m, 4d2h. */
const char *
ctl_fmt_duration(char *buf, size_t len, double ms)
{
	long long	s;

	if (!(ms > 0))
		ms = 0;
	if (ms < 1000) {
		if (ms == (double)(long long)ms || ms >= 100)
			snprintf(buf, len, "%.0fms", ms);
		else
			snprintf(buf, len, "%.*fms", ms < 10 ? 2 : 1, ms);
		return buf;
	}
	if (ms < 60000) {
		snprintf(buf, len, "%.1fs", (double)(long long)(ms / 100) / 10);
		return buf;
	}
	s = (long long)(ms / 1000);
	if (s < 3600)
		snprintf(buf, len, "%lldm%llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%lldh", s / 86400, s % 86400 / 3600);
	return buf;
}

void
ctl_table_init(struct ctl_table *t, size_t ncols, ...)
{
	va_list	ap;
	size_t	i;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	va_start(ap, ncols);
	for (i = 0; i < ncols; i++)
		ctl_table_own(t, xstrdup(va_arg(ap, const char *)));
	va_end(ap);
}

/* Append a cell the table now owns; rows fill left to right. */
void
ctl_table_own(struct ctl_table *t, char *cell)
{
	if (t->ncells == t->cap) {
		t->cap = t->cap == 0 ? 64 : t->cap * 2;
		t->cells = xreallocarray(t->cells, t->cap, sizeof(*t->cells));
	}
	t->cells[t->ncells++] = cell;
}

void
ctl_table_cell(struct ctl_table *t, const char *fmt, ...)
{
	va_list	 ap;
	char	*cell;

	va_start(ap, fmt);
	if (vasprintf(&cell, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	ctl_table_own(t, cell);
}

/* Columns as wide as their widest cell, two spaces apart, no trailing blank. */
void
ctl_table_print(struct ctl_table *t, FILE *fp)
{
	size_t	*width, i, col, w;

	width = xcalloc(t->ncols, sizeof(*width));
	for (i = 0; i < t->ncells; i++) {
		w = strlen(t->cells[i]);
		if (w > width[i % t->ncols])
			width[i % t->ncols] = w;
	}
	for (i = 0; i < t->ncells; i++) {
		col = i % t->ncols;
		if (col == t->ncols - 1 || i == t->ncells - 1)
			fprintf(fp, "%s\n", t->cells[i]);
		else
			fprintf(fp, "%-*s  ", (int)width[col], t->cells[i]);
	}
	free(width);
}

void
ctl_table_free(struct ctl_table *t)
{
	size_t	i;

	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
