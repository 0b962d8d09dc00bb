/*
 * warden.h: read warden's feature flags and migration stage from the
 * shared-memory table that the warden daemon publishes (libwarden(3)).
 *
 *	#include <warden.h>		cc ... $(pkg-config --cflags --libs warden)
 *
 * A read takes no lock, allocates nothing and makes no system call; it never
 * sees a half-applied change, even if warden is killed while writing. When
 * there is no table, or it has been deleted or damaged, every function
 * still answers: from the last consistent value this handle saw, else with
 * the caller's default. A handle reattaches to a fresh table by itself.
 *
 * Flag values are 0 (off), 100 (on) or a rollout percentage 1..99.
 * warden_enabled() is true only for 100. warden_enabled_for() is true for
 * 100, false for 0, and for a percentage p true exactly when
 * murmur3_x86_32("<flag>:<id>", seed 0) % 10000 < p * 100, so raising the
 * percentage only ever adds ids.
 *
 * A handle maps only a table owned by a user it trusts: root, and the
 * owner of the object on WARDEN_TABLE_FD (warden's user) for a handle
 * opened with a NULL name from warden's descriptor; root, the caller's
 * effective uid and the user named by WARDEN_TABLE_OWNER (a uid or a user
 * name) for a handle opened by name. An object of anyone else under the
 * name is never mapped: the handle answers from the last table it trusted,
 * else with defaults, and warden_state() says WARDEN_UNTRUSTED.
 *
 * A handle looks at the name at most every 100 ms while it is read, and
 * moves to a new table under it by itself, also when the old one was never
 * retired (removed while warden was down).
 *
 * A handle of the worker's own table, when warden set WARDEN_REPORT, tells
 * warden the generation it observed and the flags it read, from the reads
 * that follow a change (one datagram per change at most, never blocking):
 * a cache hit stays free of system calls. See "Reports to warden" in
 * libwarden(3).
 *
 * A handle may be used by several threads at once; warden_close() must
 * not race with reads on the same handle.
 */
#ifndef WARDEN_H
#define WARDEN_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct warden_table warden_table;

/* warden_state(): what a handle reads from. */
#define WARDEN_NO_TABLE		0	/* nothing: defaults */
#define WARDEN_ATTACHED		1	/* a table it trusts */
#define WARDEN_UNTRUSTED	2	/* the name leads to another user's object */

warden_table *warden_open(const char *name);   /* NULL: from WARDEN_TABLE_FD / WARDEN_TABLE */
bool warden_enabled(warden_table *t, const char *flag, bool dflt);
bool warden_enabled_for(warden_table *t, const char *flag, const char *id, bool dflt);
int  warden_stage(warden_table *t);             /* -1 when unknown */
/* One more at every change warden publishes; 0 when unknown. */
unsigned long long warden_generation(warden_table *t);
int  warden_state(warden_table *t);             /* WARDEN_NO_TABLE, _ATTACHED, _UNTRUSTED */
void warden_close(warden_table *t);

#ifdef __cplusplus
}
#endif

#endif
