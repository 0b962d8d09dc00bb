/*
 * ledger.h: the workers running, written down in state_dir for the next
 * warden.
 *
 * A warden that dies without stopping its workers (SIGKILL, a crash, the
 * OOM killer) leaves them to whoever adopts them. Each worker ends with
 * warden by its parent-death signal (spawn.c), unless it cleared it or
 * exec'd a set-user-ID program; for those, the next warden on the same
 * state_dir reads this ledger at start and stops the process groups of
 * the workers still running, before it starts its tree.
 *
 * state_dir/workers is mapped shared: a start or an exit is a few stores
 * into the page cache, no system call and no sync (the kernel keeps the
 * pages when warden dies; after a reboot the boot id no longer matches).
 * Each entry holds the worker's pid, which is its process group, the
 * bounds of its start time in clock ticks since boot (/proc/PID/stat
 * field 22), its stop signal and shutdown_ms, and the service's name.
 */
#ifndef WARDEN_LEDGER_H
#define WARDEN_LEDGER_H

#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

/*
 * With state_dir locked: stop what the ledger of an earlier warden lists
 * and still runs (stop signal to the group, SIGKILL after shutdown_ms),
 * then start a fresh ledger. -1 with err set when the file cannot be
 * made; the previous workers are still stopped when it can be read.
 */
int		ledger_open(const char *state_dir, char *err, size_t errlen);
void		ledger_close(void);
/*
 * A reexec: the ledger's fd ({fd}, or null), left open; after
 * ledger_adopt() in the next image, ledger_open() takes that file as it
 * is (its workers are this image's) instead of stopping them.
 */
json_t		*ledger_handover(void);
int		ledger_adopt(const json_t *, char *err, size_t errlen);
/* Before fork: the earliest start time the worker can have. */
uint64_t	ledger_clock(void);
void		ledger_started(const char *service, pid_t, uint64_t since,
		    int stop_signal, int shutdown_ms);
void		ledger_ended(pid_t);

#endif
