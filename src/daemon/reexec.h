/*
 * reexec.h: warden executing a binary again in place (same pid), handing
 * its whole state over through an inherited memfd, so that an upgrade
 * restarts nothing (RPC reexec, SIGUSR2, wardenctl reexec).
 *
 * The old image first runs the new binary as "BINARY --handover-check",
 * which must print "warden-handover N" for a version N it accepts and exit
 * 0 within REEXEC_CHECK_MS; only then does it describe its state (the tree
 * with every worker's pid, pipes, timers and counts; the control socket
 * and every client with its pending calls; the flag state's lock and the
 * table), clear close-on-exec on the descriptors named there, and execute
 * "BINARY --handover FD -c CONFIG". The new image adopts all of it before
 * its loop first runs. Whatever fails before the exec leaves the old image
 * running as it was, and every reexec call waiting gets the reason.
 */
#ifndef WARDEN_REEXEC_H
#define WARDEN_REEXEC_H

#include <stddef.h>
#include <jansson.h>

/* What "--handover-check" prints, and the one version this build reads. */
#define REEXEC_HANDOVER_MAGIC	"warden-handover"
#define REEXEC_HANDOVER_VERSION	1
/* How long the new binary's check may take. */
#define REEXEC_CHECK_MS		5000

struct event_base;

/*
 * Ask for a reexec to binary (NULL: the file warden was started from).
 * 0: under way, the outcome reaches the waiting calls through
 * rpc_reexec_failed() in this image or rpc_reexec_done() in the next;
 * -1: refused at once, not now (a shutdown, another reexec under way);
 * -2: refused, the file is no binary to run (missing, not executable, a
 * relative path). err says why. A request while one is under way joins
 * it when it names the same binary.
 */
int	reexec_request(const char *binary, char *err, size_t errlen);
/* Is a reexec under way (checking the binary, or handing over)? */
int	reexec_pending(void);

/* At start: which file warden runs from (an upgrade replaces it later). */
void	reexec_init(struct event_base *);
void	reexec_free(void);
/* After each round of supervision: a reexec waiting for the tree goes. */
void	reexec_tree_changed(void);

/* The next image: the description handed over on fd (closed), or NULL. */
json_t	*reexec_read(int fd, char *err, size_t errlen);
/* The next image, at start: close every fd above 2 not named in it. */
void	reexec_close_others(const json_t *);
/* The next image, everything taken: no fd handed over goes to a child. */
void	reexec_cloexec_all(const json_t *);
/* The next image, everything adopted: the calls answered, the log told. */
void	reexec_done(const json_t *);

#endif
