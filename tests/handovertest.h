/*
 * handovertest.h: what the handover suites (check_handover,
 * check_handover_bytes, check_handover_reexec, check_handover_bad) share.
 * The test process is both warden and its clients: the control socket,
 * rpc.c, the flags and the tree are set up as warden sets them up (the
 * fixture), real clients connect (struct tc), and warden's loop runs until
 * the client's fd is readable or whatever proves the step, with a
 * deadline that only bounds a failure. Nothing sleeps.
 *
 * Every suite links every helper file, so the names here carry ho_ (tc_
 * for the client) to stay clear of the other suites' helpers.
 */
#ifndef WARDEN_TESTS_HANDOVERTEST_H
#define WARDEN_TESTS_HANDOVERTEST_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "control.h"

#define T_STEP		10000	/* failure bound of one step, ms */
#define PING(id)	"{\"jsonrpc\":\"2.0\",\"id\":" #id \
			",\"method\":\"ping\"}"

/* Warden's loop and configuration, as the fixture made them. */
extern struct event_base	*ho_base;
extern struct config		*ho_conf;

/*
 * The checked fixture of every handover suite: a configuration in a
 * temporary directory (five flags: f is waited on and set by a client, g
 * makes events for the subscriber, h is never set, k is set while no
 * image runs, s is stage 1's; stages 1 and 2, a guard that rolls back at
 * the second failure restart; output capped low so that a big answer
 * pauses reading),
 * and everything warden sets up on it. Teardown frees it all.
 */
void		 ho_setup(void);
void		 ho_teardown(void);

/* --- running warden's loop ------------------------------------------------ */

/* Run the loop until cond holds; false when it still does not after ms. */
bool		 ho_pump_until(bool (*cond)(void *), void *arg, int ms);
/* Turns of the loop with whatever is ready now, none waiting. */
void		 ho_pump_ready(void);

/* --- clients -------------------------------------------------------------- */

/* A client: our end, and warden's end of the same connection. */
struct tc {
	int	 fd;
	int	 sfd;
	char	*buf;
	size_t	 len;
	bool	 eof;
};

/* How many clients warden has; more_clients(&n): more than n. */
size_t		 ho_nclients(void);
bool		 ho_more_clients(void *arg);
/* A connected socket to warden's (not accepted yet). */
int		 ho_connect_sock(void);
/* A client warden has accepted. */
struct tc	*tc_open(void);
void		 tc_free(struct tc *t);
/* Warden's side of the client (NULL: gone). */
struct client	*ho_server(const struct tc *t);
void		 tc_send(struct tc *t, const char *text);
/* Whether the client (a struct tc) has something to read. */
bool		 ho_readable(void *arg);
/* The next line, decoded; NULL at the end of the stream or after ms. */
json_t		*tc_line_within(struct tc *t, int ms);
/* The next line, which must come within T_STEP. */
json_t		*tc_line(struct tc *t);
/* One request and its answer (the next line). */
json_t		*tc_call(struct tc *t, const char *text);

/* --- answers -------------------------------------------------------------- */

json_int_t	 ho_id_of(const json_t *r);
int		 ho_code_of(const json_t *r);
const char	*ho_message_of(const json_t *r);
const char	*ho_kind_of(const json_t *r);
/* A pong with this id; r is released. */
void		 ho_check_pong(json_t *r, json_int_t id);
/* An error with this id, code and data.kind. */
void		 ho_check_error(json_t *r, json_int_t id, int code,
		    const char *kind);
/* A flag's answer (a wait that held, a flag.set): flag name at value. */
void		 ho_check_flag(const json_t *res, const char *name,
		    bool value);
/* Set a flag from inside, as no client does. */
void		 ho_set_flag(const char *name, bool value);

/* --- what warden's side of a client is (for ho_wait_for) ------------------ */

bool		 ho_has_pending(void *arg);
bool		 ho_is_mid_line(void *arg);
/* Paused: its answers fill the output and a line waits behind them. */
bool		 ho_is_held_back(void *arg);
bool		 ho_is_eof(void *arg);
/* Run the loop until cond holds for t; what names it in the failure. */
void		 ho_wait_for(bool (*cond)(void *), struct tc *t,
		    const char *what);

/* --- the handover --------------------------------------------------------- */

/* Every fd a description names has close-on-exec as said. */
void		 ho_check_cloexec(const json_t *desc, bool on);
/* The description of the client whose fd this is. */
json_t		*ho_desc_of(json_t *desc, const struct tc *t);
/* Its first call awaiting an answer. */
json_t		*ho_call_of(json_t *desc, const struct tc *t);
/*
 * What an exec does to the in-process objects: the description becomes
 * text; everything is freed, every fd left open; rpc.c starts afresh.
 * between() runs while no image serves (NULL: nothing). Returns the
 * description as the new image reads it, edited by edit() (NULL: none).
 */
json_t		*ho_handover(void (*between)(void), void (*edit)(json_t *));
/* control_adopt() of desc, which must succeed. */
void		 ho_adopt(json_t *desc);

/* --- waits ---------------------------------------------------------------- */

/* A wait (id) on flag being true for a minute, between prefix and suffix. */
char		*ho_wait_line(int id, const char *flag, const char *prefix,
		    const char *suffix);
/* A client whose wait on flag is pending. */
struct tc	*tc_waiting(int id, const char *flag);

#endif
