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

warden_table *warden_open(const char *name);   /* NULL: from WARDEN_TABLE_FD / WARDEN_TABLE */
bool warden_enabled(warden_table *t, const char *flag, bool dflt);
bool warden_enabled_for(warden_table *t, const char *flag, const char *id, bool dflt);
int  warden_stage(warden_table *t);             /* -1 when unknown */
void warden_close(warden_table *t);

#ifdef __cplusplus
}
#endif

#endif
