/*
 * events.h: the daemon's event stream. Every event gets the next sequence
 * number (no gaps), its time as warden says times (UTC, ISO 8601,
 * milliseconds) and, for measurements, a CLOCK_MONOTONIC timestamp in
 * milliseconds ("ts"), and is handed to every listener at once, in order.
 */
#ifndef WARDEN_EVENTS_H
#define WARDEN_EVENTS_H

#include <stdint.h>
#include <jansson.h>

typedef void (*events_fn)(json_t *event, void *arg);

/* The params object of an event notification: {seq, time, ts, type, ...}. */
void		 events_emit(const char *type, json_t *fields /* stolen, may be NULL */);
void		 events_listen(events_fn, void *arg);
void		 events_unlisten(events_fn, void *arg);
uint64_t	 events_last_seq(void);
/* A reexec: the next image goes on from the last image's sequence. */
void		 events_set_last_seq(uint64_t);
/* A timestamp as events carry it: monotonic ms with microseconds. */
json_t		*events_ts_now(void);
/* Does topic (an event type or a prefix of one ending at a dot) cover type? */
int		 events_topic_match(const char *topic, const char *type);

#endif
