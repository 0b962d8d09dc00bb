/*
 * fleet.c: the fleet's names and keys, this host's report, and who lags
 * (see fleet.h for the model; values in fleet-value.c, applying changes in
 * fleet-plan.c).
 *
 * Keys are parsed strictly: a key under the prefix that is not exactly
 * "desired/stage", "desired/flags/NAME" or "hosts/NAME" with a valid name
 * is unknown, and whoever reads it reports it rather than guessing what
 * was meant.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "jsonrpc.h"
#include "util.h"

#define FLEET_NAME_CHARS \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

/* s (len bytes) is a name of 1..max characters of FLEET_NAME_CHARS. */
static bool
fleet_name_ok(const char *s, size_t len, size_t max)
{
	size_t	i;

	if (len == 0 || len > max)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(FLEET_NAME_CHARS, s[i]) == NULL)
			return false;
	return true;
}

const char *
fleet_host_problem(const char *s)
{
	if (*s == '\0')
		return "a host's name must not be empty";
	if (strlen(s) > FLEET_HOST_MAX)
		return "a host's name is at most 64 characters";
	if (!fleet_name_ok(s, strlen(s), FLEET_HOST_MAX))
		return "a host's name has only letters, digits, '_', '.' "
		    "and '-'";
	return NULL;
}

bool
fleet_flag_name_ok(const char *s)
{
	return fleet_name_ok(s, strlen(s), CONFIG_NAME_MAX);
}

const char *
fleet_prefix_problem(const char *s)
{
	size_t	len = strlen(s), i;

	if (len < 3 || s[0] != '/' || s[len - 1] != '/')
		return "expected a prefix that starts and ends with '/', "
		    "like \"/warden/\"";
	if (len > FLEET_PREFIX_MAX)
		return "a prefix is at most 128 bytes";
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return "a prefix is printable ASCII without spaces";
	if (strstr(s, "//") != NULL)
		return "a prefix has no empty segment (\"//\")";
	return NULL;
}

/* --- keys ------------------------------------------------------------------------- */

char *
fleet_key_desired(const char *prefix)
{
	char	*k;

	xasprintf(&k, "%s" FLEET_DESIRED, prefix);
	return k;
}

char *
fleet_key_hosts(const char *prefix)
{
	char	*k;

	xasprintf(&k, "%s" FLEET_HOSTS, prefix);
	return k;
}

char *
fleet_key_stage(const char *prefix)
{
	char	*k;

	xasprintf(&k, "%s" FLEET_DESIRED "stage", prefix);
	return k;
}

char *
fleet_key_flag(const char *prefix, const char *name)
{
	char	*k;

	xasprintf(&k, "%s" FLEET_DESIRED "flags/%s", prefix, name);
	return k;
}

char *
fleet_key_host(const char *prefix, const char *host)
{
	char	*k;

	xasprintf(&k, "%s" FLEET_HOSTS "%s", prefix, host);
	return k;
}

char *
fleet_key_range_end(const char *prefix)
{
	char	*end = xstrdup(prefix);

	/* A prefix is printable ASCII: its last byte has a successor. */
	end[strlen(end) - 1]++;
	return end;
}

/* key (len) is prefix then part then a name of 1..max: copy it to name. */
static bool
fleet_key_named(const char *key, size_t len, const char *part, size_t max,
    char name[FLEET_NAME_BUF])
{
	size_t	plen = strlen(part);

	if (len <= plen || memcmp(key, part, plen) != 0 ||
	    !fleet_name_ok(key + plen, len - plen, max))
		return false;
	memcpy(name, key + plen, len - plen);
	name[len - plen] = '\0';
	return true;
}

enum fleet_key_kind
fleet_key_parse(const char *prefix, const char *key, size_t len,
    char name[FLEET_NAME_BUF])
{
	size_t	plen = strlen(prefix);

	name[0] = '\0';
	if (len < plen || memcmp(key, prefix, plen) != 0)
		return FLEET_KEY_UNKNOWN;
	key += plen;
	len -= plen;
	if (fleet_key_named(key, len, FLEET_HOSTS, FLEET_HOST_MAX, name))
		return FLEET_KEY_HOST;
	plen = strlen(FLEET_DESIRED);
	if (len < plen || memcmp(key, FLEET_DESIRED, plen) != 0)
		return FLEET_KEY_UNKNOWN;
	key += plen;
	len -= plen;
	if (len == 5 && memcmp(key, "stage", 5) == 0)
		return FLEET_KEY_STAGE;
	if (fleet_key_named(key, len, "flags/", CONFIG_NAME_MAX, name))
		return FLEET_KEY_FLAG;
	name[0] = '\0';
	return FLEET_KEY_UNKNOWN;
}

char *
fleet_key_text(const char *key, size_t len)
{
	char	*out = xmalloc(len * 4 + 1), *p = out;
	size_t	 i;

	for (i = 0; i < len; i++) {
		unsigned char	ch = (unsigned char)key[i];

		if (ch < ' ' || ch >= 0x7f || ch == '\\')
			p += sprintf(p, "\\x%02x", ch);
		else
			*p++ = (char)ch;
	}
	*p = '\0';
	return out;
}

/* --- this host's report ---------------------------------------------------------------- */

/* r is the entry of key at revision for the reason why. */
static bool
fleet_report_same(const json_t *r, const char *key, int64_t revision,
    const char *why)
{
	const json_t	*k = json_object_get(r, "key");
	const json_t	*w = json_object_get(r, "reason");

	return json_integer_value(json_object_get(r, "revision")) == revision &&
	    json_is_string(k) && strcmp(json_string_value(k), key) == 0 &&
	    json_is_string(w) && strcmp(json_string_value(w), why) == 0;
}

void
fleet_report_reject(json_t *rejected, const char *key, int64_t revision,
    const char *why)
{
	const json_t	*r;
	char		*k = xstrdup(key), *w = xstrdup(why);
	size_t		 i;

	/*
	 * A reason cut to its bound may end inside a character, which jansson
	 * would refuse, losing the rejection: such bytes become '?'.
	 */
	jsonrpc_utf8_clean(k);
	jsonrpc_utf8_clean(w);
	/*
	 * The same key at the same revision for the same reason, read again
	 * (a resync): once. One key can be wrong in several ways at once (a
	 * stage's values naming two flags this host lacks): each is kept.
	 */
	json_array_foreach(rejected, i, r)
		if (fleet_report_same(r, k, revision, w)) {
			json_array_remove(rejected, i);
			break;
		}
	json_array_append_new(rejected, json_pack("{s:s, s:I, s:s}",
	    "key", k, "revision", (json_int_t)revision, "reason", w));
	while (json_array_size(rejected) > FLEET_REJECTED_MAX)
		json_array_remove(rejected, 0);
	free(k);
	free(w);
}

/* The last guard rollback in the stage history, if any. */
static void
fleet_report_guard(struct fleet_guard *g, const struct flags *fs)
{
	const json_t	*h;
	size_t		 i;

	memset(g, 0, sizeof(*g));
	for (i = json_array_size(fs->history); i-- > 0;) {
		h = json_array_get(fs->history, i);
		if (json_is_string(json_object_get(h, "kind")) &&
		    strcmp(json_string_value(json_object_get(h, "kind")),
		    "guard") == 0)
			break;
	}
	if (i == (size_t)-1)
		return;
	g->has = true;
	g->from = (int)json_integer_value(json_object_get(h, "from"));
	g->to = (int)json_integer_value(json_object_get(h, "to"));
	g->at = json_integer_value(json_object_get(h, "at"));
	if (json_is_string(json_object_get(h, "reason")))
		g->reason = xstrdup(json_string_value(json_object_get(h,
		    "reason")));
}

void
fleet_report_make(struct fleet_report *r, const struct flags *fs,
    uint64_t generation, int64_t revision, int64_t applied_at,
    int64_t unreachable_since, const json_t *rejected)
{
	memset(r, 0, sizeof(*r));
	r->stage = fs->stage;
	r->generation = generation;
	r->revision = revision;
	r->observed = revision;
	r->applied_at = applied_at;
	r->unreachable_since = unreachable_since;
	fleet_report_guard(&r->guard, fs);
	r->rejected = rejected != NULL ? json_deep_copy(rejected) :
	    json_array();
}

/* --- who lags ------------------------------------------------------------------------ */

static int
fleet_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
fleet_lag(const struct fleet_host *hosts, size_t n, int64_t revision,
    struct fleet_lag *lag)
{
	size_t	i;

	memset(lag, 0, sizeof(*lag));
	lag->applied = xcalloc(n + 1, sizeof(*lag->applied));
	lag->lagging = xcalloc(n + 1, sizeof(*lag->lagging));
	lag->unseen = xcalloc(n + 1, sizeof(*lag->unseen));
	for (i = 0; i < n; i++) {
		if (hosts[i].report == NULL ||
		    hosts[i].report->revision < revision) {
			lag->lagging[lag->nlagging++] = hosts[i].name;
			continue;
		}
		lag->applied[lag->napplied++] = hosts[i].name;
		if (hosts[i].report->observed < revision)
			lag->unseen[lag->nunseen++] = hosts[i].name;
	}
	qsort(lag->applied, lag->napplied, sizeof(*lag->applied),
	    fleet_name_cmp);
	qsort(lag->lagging, lag->nlagging, sizeof(*lag->lagging),
	    fleet_name_cmp);
	qsort(lag->unseen, lag->nunseen, sizeof(*lag->unseen),
	    fleet_name_cmp);
}

void
fleet_lag_free(struct fleet_lag *lag)
{
	free(lag->applied);
	free(lag->lagging);
	free(lag->unseen);
	memset(lag, 0, sizeof(*lag));
}
