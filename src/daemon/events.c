/*
 * events.c: the daemon's event stream (see events.h).
 */
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "util.h"

struct listener {
	events_fn	 fn;
	void		*arg;
};

static struct listener	*listeners;
static size_t		 nlisteners;
static uint64_t		 last_seq;

json_t *
events_ts_now(void)
{
	return json_real((double)util_now_us() / 1000.0);
}

void
events_emit(const char *type, json_t *fields)
{
	json_t	*ev = fields != NULL ? fields : json_object();
	char	 iso[UTIL_ISO_LEN];
	size_t	 i;

	json_object_set_new(ev, "seq", json_integer((json_int_t)++last_seq));
	json_object_set_new(ev, "time", json_string(util_iso_ms(util_wall_ms(),
	    iso)));
	json_object_set_new(ev, "ts", events_ts_now());
	json_object_set_new(ev, "type", json_string(type));
	/* A listener may unlisten itself; walk a count taken now. */
	for (i = 0; i < nlisteners; i++)
		listeners[i].fn(ev, listeners[i].arg);
	json_decref(ev);
}

void
events_listen(events_fn fn, void *arg)
{
	listeners = xreallocarray(listeners, nlisteners + 1, sizeof(*listeners));
	listeners[nlisteners].fn = fn;
	listeners[nlisteners].arg = arg;
	nlisteners++;
}

void
events_unlisten(events_fn fn, void *arg)
{
	size_t	i;

	for (i = 0; i < nlisteners; i++) {
		if (listeners[i].fn == fn && listeners[i].arg == arg) {
			memmove(&listeners[i], &listeners[i + 1],
			    (nlisteners - i - 1) * sizeof(*listeners));
			if (--nlisteners == 0) {
				free(listeners);
				listeners = NULL;
			}
			return;
		}
	}
}

uint64_t
events_last_seq(void)
{
	return last_seq;
}

int
events_topic_match(const char *topic, const char *type)
{
	size_t	n = strlen(topic);

	if (strncmp(topic, type, n) != 0)
		return 0;
	return type[n] == '\0' || type[n] == '.' || (n > 0 && topic[n - 1] == '.');
}

void
events_set_last_seq(uint64_t seq)
{
	last_seq = seq;
}
