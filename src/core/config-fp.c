/*
 * config-fp.c: a node's settings as one string, equal exactly when the
 * settings mean the same (a reload compares them): every value as
 * parsed, strings with their length before them, environments sorted by
 * name, numbers exactly (%a for the doubles). Made for every node of
 * every config read, so it is built by hand rather than through JSON.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-int.h"
#include "util.h"

void
fp_add(struct fp *f, const void *p, size_t n)
{
	if (f->len + n + 1 > f->cap) {
		f->cap = (f->len + n + 1) * 2;
		f->buf = xreallocarray(f->buf, f->cap, 1);
	}
	memcpy(f->buf + f->len, p, n);
	f->len += n;
	f->buf[f->len] = '\0';
}

void
fp_fmt(struct fp *f, const char *fmt, ...)
{
	char	tmp[128];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		fp_add(f, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

void
fp_str(struct fp *f, const char *key, const char *v)
{
	if (v == NULL) {
		fp_fmt(f, "%s=-;", key);
		return;
	}
	fp_fmt(f, "%s=%zu:", key, strlen(v));
	fp_add(f, v, strlen(v));
	fp_add(f, ";", 1);
}

static int
fp_env_cmp(const void *a, const void *b)
{
	const struct env_pair	*x = *(const struct env_pair *const *)a;
	const struct env_pair	*y = *(const struct env_pair *const *)b;

	return strcmp(x->key, y->key);
}

void
fp_env(struct fp *f, const char *count, const char *key, const char *value,
    const struct env_pair *pairs, size_t n)
{
	const struct env_pair	**env;
	size_t			  i;

	/* The same variables in another order are the same environment. */
	env = xcalloc(n + 1, sizeof(*env));
	for (i = 0; i < n; i++)
		env[i] = &pairs[i];
	qsort(env, n, sizeof(*env), fp_env_cmp);
	fp_fmt(f, "%s=%zu;", count, n);
	for (i = 0; i < n; i++) {
		fp_str(f, key, env[i]->key);
		fp_str(f, value, env[i]->value);
	}
	free(env);
}
