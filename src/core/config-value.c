/*
 * config-value.c: the values of warden.json as the parser checks them:
 * integers and numbers in a range, non-empty strings, one of a list of
 * names, service and flag names, and paths made absolute against the
 * config's folder. Each check names the value's path in its error.
 */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config-int.h"
#include "jsonerr.h"
#include "util.h"

/*
 * An integer, or a real without a fraction (1e3 is 1000): 0. Anything else,
 * 1.5 included: -1. Huge reals are clamped; the range checks reject them.
 */
int
config_whole(json_t *v, long long *out)
{
	double	d;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_real(v))
		return -1;
	d = json_real_value(v);
	if (d != floor(d))
		return -1;
	if (d >= 9.2e18)
		*out = LLONG_MAX;
	else if (d <= -9.2e18)
		*out = LLONG_MIN;
	else
		*out = (long long)d;
	return 0;
}

int
config_int(struct parser *c, json_t *v, int min, int max, int *out)
{
	long long	n;

	if (config_whole(v, &n) == -1)
		return jsonerr_value(&c->je, "expected an integer");
	if (n < min && max == INT_MAX)
		return jsonerr_value(&c->je, "expected an integer >= %d", min);
	if (n < min || n > max)
		return jsonerr_value(&c->je, "expected an integer from %d to "
		    "%d", min, max);
	*out = (int)n;
	return 0;
}

int
config_opt_int(struct parser *c, json_t *obj, const char *key, int min, int max,
    int *out)
{
	json_t	*v;

	if ((v = jsonerr_get(&c->je, obj, key)) == NULL)
		return 0;
	if (config_int(c, v, min, max, out) == -1)
		return -1;
	jsonerr_pop(&c->je);
	return 0;
}

/* A number in [min, max]; max may be HUGE_VAL. */
int
config_opt_num(struct parser *c, json_t *obj, const char *key, double min,
    double max, double *out)
{
	json_t	*v;
	double	 d;

	if ((v = jsonerr_get(&c->je, obj, key)) == NULL)
		return 0;
	if (!json_is_number(v))
		return jsonerr_value(&c->je, "expected a number");
	d = json_number_value(v);
	if (d < min && isinf(max))
		return jsonerr_value(&c->je, "expected a number >= %g", min);
	if (d < min || d > max)
		return jsonerr_value(&c->je, "expected a number from %g to %g",
		    min, max);
	*out = d;
	jsonerr_pop(&c->je);
	return 0;
}

/*
 * A command: a non-empty array of non-empty strings, its first made
 * absolute when it has a '/' (a bare name is looked up in PATH when it
 * runs). *argv is NULL-terminated, set first so that the caller frees
 * what was read on error.
 */
int
config_argv(struct parser *c, json_t *v, char ***argv, size_t *argc)
{
	json_t		*e;
	const char	*s;
	size_t		 i;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return jsonerr_value(&c->je, "expected a non-empty array of "
		    "strings");
	*argv = xcalloc(json_array_size(v) + 1, sizeof(**argv));
	*argc = 0;
	json_array_foreach(v, i, e) {
		jsonerr_push_index(&c->je, i);
		if (config_str(c, e, &s) == -1)
			return -1;
		if (i == 0 && strchr(s, '/') != NULL)
			(*argv)[i] = config_abspath(c, s);
		else
			(*argv)[i] = xstrdup(s);
		(*argc)++;
		jsonerr_pop(&c->je);
	}
	return 0;
}

/* A non-empty string. */
int
config_str(struct parser *c, json_t *v, const char **out)
{
	if (!json_is_string(v))
		return jsonerr_value(&c->je, "expected a string");
	if (json_string_length(v) == 0)
		return jsonerr_value(&c->je, "must not be empty");
	*out = json_string_value(v);
	return 0;
}

int
config_opt_enum(struct parser *c, json_t *obj, const char *key,
    const char *const *names, size_t n, int *out)
{
	char	 list[256];
	json_t	*v;
	size_t	 i, off = 0;

	if ((v = jsonerr_get(&c->je, obj, key)) == NULL)
		return 0;
	for (i = 0; json_is_string(v) && i < n; i++)
		if (strcmp(json_string_value(v), names[i]) == 0) {
			*out = (int)i;
			jsonerr_pop(&c->je);
			return 0;
		}
	list[0] = '\0';
	for (i = 0; i < n && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
		    i > 0 ? ", " : "", names[i]);
	if (n == 1)
		return jsonerr_value(&c->je, "expected %s", list);
	return jsonerr_value(&c->je, "expected one of %s", list);
}

/* Service and flag names: [A-Za-z0-9_.-]{1,63}. NULL when fine. */
const char *
config_name_problem(const char *s)
{
	size_t	len = strlen(s);

	if (len == 0)
		return "invalid name: empty";
	if (len > CONFIG_NAME_MAX)
		return "invalid name: longer than 63 characters";
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") != len)
		return "invalid name: only letters, digits, '_', '.' and '-' "
		    "are allowed";
	return NULL;
}

/*
 * Drop ".", ".." and repeated slashes from an absolute path, in place. This
 * is lexical, like filepath.Clean: "conf/../run" names the run folder next
 * to conf, which is what the person writing it means.
 */
void
config_clean(char *path)
{
	char	*r = path, *w = path, *seg;
	size_t	 n;

	while (*r != '\0') {
		while (*r == '/')
			r++;
		if (*r == '\0')
			break;
		seg = r;
		while (*r != '\0' && *r != '/')
			r++;
		n = (size_t)(r - seg);
		if (n == 1 && seg[0] == '.')
			continue;
		if (n == 2 && seg[0] == '.' && seg[1] == '.') {
			while (w > path && *--w != '/')
				;
			continue;
		}
		*w++ = '/';
		memmove(w, seg, n);
		w += n;
	}
	if (w == path)
		*w++ = '/';
	*w = '\0';
}

char *
config_abspath(struct parser *c, const char *p)
{
	char	*abs;

	if (p[0] == '/')
		abs = xstrdup(p);
	else
		xasprintf(&abs, "%s/%s", c->conf->dir, p);
	config_clean(abs);
	return abs;
}

/* A path, made absolute. maxlen 0: no limit on its length. */
int
config_opt_path(struct parser *c, json_t *obj, const char *key, size_t maxlen,
    char **out)
{
	json_t		*v;
	const char	*s;
	char		*abs;

	if ((v = jsonerr_get(&c->je, obj, key)) == NULL)
		return 0;
	if (config_str(c, v, &s) == -1)
		return -1;
	abs = config_abspath(c, s);
	if (maxlen != 0 && strlen(abs) > maxlen) {
		free(abs);
		return jsonerr_value(&c->je, "path too long for a socket (%zu "
		    "bytes at most)", maxlen);
	}
	free(*out);
	*out = abs;
	jsonerr_pop(&c->je);
	return 0;
}
