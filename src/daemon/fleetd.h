/*
 * fleetd.h: warden as a member of a fleet on etcd (SPEC 16; the keys,
 * values and plans are core/fleet.h's, the transport etcdc.h's).
 *
 * With a "fleet" in the configuration, warden takes a lease, reads the
 * fleet's desired state, P"desired/", at a revision R, brings its state
 * there (fleet_plan_resync), puts its report under P"hosts/"HOST on the
 * lease, then watches P"desired/" from R + 1 (never the other hosts'
 * reports, which it reads only when asked) and applies each change as the
 * local op it matches, through the flag service like any change (journal,
 * then table), with the fleet writer's audit. The report is put again
 * after each change applied, and the lease kept alive every lease_s / 3;
 * a lost lease is granted anew.
 *
 * etcd down, slow or answering errors never blocks the loop: every call is
 * bounded (etcdc), a watch that ends is started again with backoff (100 ms
 * doubling to 5 s) from the last revision applied, and a compaction past
 * it makes a whole resync. Meanwhile warden keeps its state and serves it.
 */
#ifndef WARDEN_FLEETD_H
#define WARDEN_FLEETD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

#include <jansson.h>

#include "flags.h"
#include "flagsvc.h"

struct config;
struct event_base;

/*
 * The host's name a configuration gives: fleet.host, or gethostname(),
 * which must be a valid host name. 0, or -1 with err.
 */
int		 fleetd_host(const struct config *, char *out, size_t len,
		    char *err, size_t errlen);
/* Whether conf's fleet can be joined (its host's name): 0, or -1 with err. */
int		 fleetd_check(const struct config *, char *err, size_t errlen);
/*
 * Join conf's fleet, if it has one (nothing otherwise). handover: what the
 * last image had (fleetd_handover()), NULL at a fresh start. -1 with err
 * when it cannot even start (an endpoint, the host's name).
 */
int		 fleetd_start(struct event_base *, const struct config *,
		    const json_t *handover, char *err, size_t errlen);
/* A reload: a changed (or added, or removed) fleet restarts the client. */
void		 fleetd_reconfigure(const struct config *);
/* Leave: every request canceled, the lease left to expire. */
void		 fleetd_stop(void);
/* A reexec: {revision, lease, rejected}; null when not a member. */
json_t		*fleetd_handover(void);

/* Whether this warden is a fleet member (local writes are refused). */
bool		 fleetd_member(void);
/* The fleet's prefix; "" when not a member. */
const char	*fleetd_prefix(void);
/* The local state changed outside the fleet (the guard's rollback). */
void		 fleetd_state_changed(void);
/*
 * For status and recovery: {prefix, host, endpoint, revision, observed
 * (of it, what every reader of the table has seen), applied_at,
 * unreachable_since, lease, rejected, events (the watch events received
 * since it joined)}; null when not a member.
 */
json_t		*fleetd_status_json(void);

/*
 * A change of the fleet written to etcd by this member (fleetd-write.c):
 * op with its params as the local op takes them, by uid and pid of this
 * host. FLAGSVC_OK with *out: done is called later, exactly once (never
 * from in here) with the result {key, revision} or why not; otherwise
 * why not at once, in err. The kinds of why not are a local change's
 * (flagsvc.h). wait_ms >= 0: once written, the answer waits until every
 * live host's report says it has applied the write's revision and its
 * readers have seen it, or wait_ms, and says {observed, applied, lagging,
 * unseen}.
 */
struct fleetd_write;
typedef void	 fleetd_write_fn(void *arg, enum flagsvc_err, json_t *result,
		    const char *err);
enum flagsvc_err	 fleetd_write(enum flags_op, const json_t *params, uid_t,
		    pid_t, int64_t wait_ms, fleetd_write_fn *done, void *arg,
		    struct fleetd_write **out, char *err, size_t errlen);
/* The one who asked is gone: done is not called. */
void		 fleetd_write_forget(struct fleetd_write *);
/* Every write in flight answered unavailable with why (a reexec, a stop). */
void		 fleetd_write_abort_all(const char *why);

/*
 * fleet.status: {prefix, host, revision (the newest change of the
 * fleet's stage and flags), as_of (the revision this member applied),
 * unreachable_since, hosts: [each live host's report with its name, or
 * {host, error}], applied, lagging: names, reports_error}. The reports
 * are read from etcd when asked: done is called later, exactly once,
 * with the answer (FLAGSVC_OK with *out) or FLAGSVC_CONFLICT at once when
 * this warden is no member. When etcd does not answer (within the
 * fleet's timeout_ms), the answer still comes, with this host's own
 * report alone and reports_error saying why the others' could not be
 * read (null when they were).
 */
struct fleetd_read;
typedef void	 fleetd_read_fn(void *arg, json_t *result);
enum flagsvc_err	 fleetd_fleet_read(fleetd_read_fn *done, void *arg,
		    struct fleetd_read **out, char *err, size_t errlen);
/* The one who asked is gone: done is not called. */
void		 fleetd_read_forget(struct fleetd_read *);
/* Every read in flight answered with this member's view alone and why. */
void		 fleetd_read_abort_all(const char *why);

#endif
