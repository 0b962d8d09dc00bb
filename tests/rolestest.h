/*
 * rolestest.h: what the suites of warden's security boundaries
 * (check_roles, check_roles_socket) share: the peers, each a child of the
 * test that takes another uid and set of groups before it connects; the
 * method table of rpc.c by role; a configuration with access lists; and
 * the checks that a call was served, or refused and changed nothing.
 *
 * The tests run as root (they need setuid); as another user each test
 * says so and passes nothing but that.
 */
#ifndef WARDEN_TESTS_ROLESTEST_H
#define WARDEN_TESTS_ROLESTEST_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "harness.h"

#define T_WAIT		5000	/* failure bound of one wait, ms */
#define T_CASE		30	/* failure bound of one test, s */

/* Peers. None of these uids is warden's (root), none needs a passwd entry. */
#define UID_NOBODY	65534
#define GID_NOGROUP	65534
#define UID_OPERATE	40001	/* in access.operate.uids */
#define UID_ADMIN	40002	/* in access.admin.uids */
#define UID_GROUPED	40003	/* listed nowhere; its groups decide */

#define GROUP_OPERATE	"users"	/* in access.operate.groups */
#define GROUP_ADMIN	"staff"	/* in access.admin.groups */


/* A peer: the credentials the child takes before it connects. */
struct ident {
	uid_t	uid;
	gid_t	gid;
	gid_t	groups[4];	/* supplementary */
	int	ngroups;
};

extern const struct ident id_nobody, id_operate, id_admin;

/* One call: a method of rpc.c's table and params for it (' for "). */
struct call {
	const char	*method;
	const char	*params;	/* NULL: none */
};

/*
 * The method table of rpc.c, by role. Params are valid ones that would
 * change something if the call went through (the tests set the state up so
 * that each of them would): a refusal that changes nothing proves that the
 * role was checked, not that the call happened to be a no-op.
 */
extern const struct call read_calls[10];	/* subscribe last */
extern const struct call operate_calls[9];
extern const struct call admin_calls[5];

/*
 * a and b under the root, flags f1, f2 and sentinel, stages 1 (f1) and 2
 * (f2); the operate and admin lists name the peers above. Its %s takes
 * more children: conf_c, or "".
 */
extern const char	conf_roles[];
/* The same, but operate is nobody's (uid 65534) and admin no one's. */
extern const char	conf_roles_swapped[];
extern const char	conf_c[];

/* Root: true; otherwise false, with a message that the tests are skipped. */
bool		 is_root(void);
/* A group's gid, or -1 (with a message) when the system has no such group. */
gid_t		 group_gid(const char *name);
/* Start warden on text (' for ") with a socket others can reach. */
void		 start_open(struct harness *h, const char *text);
/* start_open() on conf_roles. */
void		 start_roles(struct harness *h);
/* A call as root (params ' for ", or NULL) that must succeed. */
json_t		*root_result(struct harness *h, const char *method,
		    const char *params);
/* The inode under /dev/shm of the table, 0 when there is none. */
ino_t		 table_ino(struct harness *h);

/* --- peers ----------------------------------------------------------------- */

/*
 * Send msgs (JSON-RPC requests or batches, one line each; stolen) to warden
 * as who, from a child that takes who's credentials first. Returns the
 * child's report, {"answers": [...]} or {"errno": N, "step": "..."} when
 * it could not get that far, with "pid" added: the peer's pid, which
 * warden sees through SO_PEERCRED.
 */
json_t		*as_peer(struct harness *h, const struct ident *who,
		    json_t *msgs);
/* A JSON-RPC request (params ' for ", or NULL). */
json_t		*rpc_request(long long id, const char *method,
		    const char *params);
/*
 * Make the calls as who over one connection: the answers (one per call,
 * in order; new reference), the peer's pid in *pidp.
 */
json_t		*peer_calls(struct harness *h, const struct ident *who,
		    const struct call *calls, size_t n, pid_t *pidp);
/* The result of a call made as who, which must have succeeded. */
json_t		*peer_result(struct harness *h, const struct ident *who,
		    const char *method, const char *params, pid_t *pidp);
/* An answer must be a result for this id. */
void		 check_ok(const json_t *ans, long long id, const char *method,
		    uid_t uid);
/* An answer must be -32002 forbidden for this id. */
void		 check_forbidden(const json_t *ans, long long id,
		    const char *method, uid_t uid);
/* Each refusal is in warden.log with the peer's uid and pid. */
void		 check_refusals_logged(struct harness *h,
		    const struct call *calls, size_t n, uid_t uid, pid_t pid);

/* --- "nothing changed" ------------------------------------------------------ */

/*
 * Everything a call could change, minus what moves with the clock (new
 * reference).
 */
json_t		*snapshot(struct harness *h);
/* The state is still before (stolen), or what changed it is named. */
void		 check_unchanged(struct harness *h, json_t *before,
		    const char *what);
/*
 * Set up what the forbidden calls would change: stage 1, f2 at 50, b
 * stopped, and a config file on disk that adds c.
 */
void		 setup_changeable(struct harness *h);
/*
 * Calls as who that must all be refused and change nothing: answers,
 * state, events, log.
 */
void		 check_all_forbidden(struct harness *h, const struct ident *who,
		    const struct call *calls, size_t n);
/* Calls as who that must all succeed (only their answers are checked). */
void		 check_all_ok(struct harness *h, const struct ident *who,
		    const struct call *calls, size_t n);

#endif
