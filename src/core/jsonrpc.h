/*
 * jsonrpc.h: JSON-RPC 2.0 requests as the control socket gets them, and
 * the answers to them, as pure functions: no socket, no loop, no clock.
 *
 * A line is framed first (jsonrpc_line): one request or a batch, or, for
 * a line that is neither (too deep, not JSON, an empty or oversized
 * batch), the one answer it gets. Each request's envelope is then checked
 * (jsonrpc_request), its params made the object a method takes
 * (jsonrpc_params, jsonrpc_keys) and read by the reader of its method
 * (jsonrpc_wait_params and the others). Whatever is wrong comes back as a
 * struct jsonrpc_error, which jsonrpc_error_answer() turns into the
 * answer; the caller decides where an answer goes. A batch collects its
 * members' answers in order (struct jsonrpc_batch) and is answered as one
 * array when its last member is.
 *
 * Messages quote what clients sent and are cut at JSONRPC_MESSAGE_MAX
 * bytes; a character cut in two, or any byte that is not UTF-8, becomes
 * '?' (jansson refuses text that is not UTF-8, and the client would get
 * no answer at all).
 */
#ifndef WARDEN_JSONRPC_H
#define WARDEN_JSONRPC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "protocol.h"

#define JSONRPC_MESSAGE_MAX	1024	/* bytes of an error's message, its NUL included */
#define JSONRPC_WAIT_DEFAULT_MS	30000
#define JSONRPC_WAIT_MAX_MS	(24 * 3600 * 1000)

/* --- errors and answers ---------------------------------------------------- */

struct jsonrpc_error {
	int	 code;				/* RPC_* (protocol.h) */
	char	 message[JSONRPC_MESSAGE_MAX];
	json_t	*data;				/* data's members but "kind"; NULL: none */
};

/* "invalid_params" for RPC_INVALID_PARAMS...; "internal_error" when unknown. */
const char	*jsonrpc_error_kind(int code);
/* Every byte that is not part of valid UTF-8 becomes '?'. */
void		 jsonrpc_utf8_clean(char *);
/* Fill e (data is taken over, may be NULL) and return -1. */
int		 jsonrpc_fail(struct jsonrpc_error *e, int code, json_t *data,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Drop what e holds (its data), after a failure that is not answered. */
void		 jsonrpc_error_clear(struct jsonrpc_error *);

/*
 * An error answer {jsonrpc, id, error: {code, message, data: {..., kind}}}:
 * id NULL is null; data is taken over (NULL: {}). Never NULL.
 */
json_t		*jsonrpc_error_response(json_t *id, int code, json_t *data,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
json_t		*jsonrpc_error_vresponse(json_t *id, int code, json_t *data,
		    const char *fmt, va_list) __attribute__((format(printf, 4, 0)));
/* The answer to e (its data taken over). */
json_t		*jsonrpc_error_answer(json_t *id, struct jsonrpc_error *e);
/* {jsonrpc, id, result}: result is taken over. */
json_t		*jsonrpc_result_response(json_t *id, json_t *result);

/* --- framing ------------------------------------------------------------------ */

/* The limits a line is read under (limits in warden.json). */
struct jsonrpc_limits {
	int	max_json_depth;
	int	max_batch;
};

struct jsonrpc_line {
	json_t	*answer;	/* the line's one answer (an error, id null), or NULL */
	json_t	*requests;	/* else what it holds: a request, or a batch's array */
	bool	 batch;
	size_t	 n;		/* requests: 1, or the batch's members */
};

/* Nesting depth of a JSON text, strings skipped: one pass, no allocation. */
size_t		 jsonrpc_depth(const char *, size_t);
/* Frame one line (without its newline). jsonrpc_line_free() it after. */
void		 jsonrpc_line(const char *, size_t, const struct jsonrpc_limits *,
		    struct jsonrpc_line *);
/* Request i of the line (borrowed). */
json_t		*jsonrpc_line_request(const struct jsonrpc_line *, size_t i);
void		 jsonrpc_line_free(struct jsonrpc_line *);

/* --- requests ------------------------------------------------------------------ */

struct jsonrpc_request {
	json_t		*id;		/* NULL: a notification, answered with nothing */
	const char	*method;
	json_t		*params;	/* as sent; NULL when absent */
};

/*
 * The envelope: an object with "jsonrpc": "2.0", a string method, an id
 * that is a string, a number or null, and nothing else. 0 with *req (its
 * members borrowed from v); or -1 with e, and req->id the id to answer
 * under: the request's, or null when it had none or a wrong one (a
 * request that is no request is answered, notification or not).
 */
int		 jsonrpc_request(json_t *v, struct jsonrpc_request *req,
		    struct jsonrpc_error *e);
bool		 jsonrpc_id_valid(const json_t *id);

/*
 * The params a method gets: an object (*out, a new reference). Absent and
 * null are {}, and so is [] for a method that takes no params (array_ok).
 */
int		 jsonrpc_params(json_t *params, bool array_ok, json_t **out,
		    struct jsonrpc_error *e);
/* Unknown params are errors, as unknown config keys are. */
int		 jsonrpc_keys(const json_t *params, const char *const *allowed,
		    struct jsonrpc_error *e);

/* --- the readers of each method's params (jsonrpc-params.c) ---------------------- */

/* A string param that must be there: "service" of status and the service operations. */
int		 jsonrpc_string_param(const json_t *params, const char *key,
		    const char **out, struct jsonrpc_error *e);

/* The states a service condition names, in the order of the daemon's. */
#define JSONRPC_NSTATES	6
const char	*jsonrpc_state_name(int);
int		 jsonrpc_state_parse(const char *);	/* -1 when not a state */

enum jsonrpc_cond_kind {
	/* {"service": NAME, "state"?: S, "health"?: H, "min_restarts"?: N}, S or H */
	JSONRPC_COND_SERVICE,
	JSONRPC_COND_RECOVERED,	/* {"recovered": true} */
	JSONRPC_COND_FLAG,	/* {"flag": NAME, "value": V} */
	JSONRPC_COND_STAGE,	/* {"stage": N} */
};

struct jsonrpc_cond {
	enum jsonrpc_cond_kind	 kind;
	const char		*name;		/* service or flag, borrowed */
	int			 state;		/* service: jsonrpc_state_parse()'s; -1: any */
	int			 health;	/* service: enum health_verdict; -1: any */
	unsigned		 min_restarts;	/* clamped to UINT_MAX */
	int			 value;		/* flag: 0..100 */
	int			 stage;		/* clamped to INT_MAX */
};

/* NULL when the condition is one, or what is wrong with it. */
const char	*jsonrpc_cond_check(const json_t *cond);
/* The same, read into *out; -1 with *why. */
int		 jsonrpc_cond_parse(const json_t *cond, struct jsonrpc_cond *out,
		    const char **why);

/* wait {condition, timeout_ms?} (keys checked by the caller). */
struct jsonrpc_wait {
	const json_t		*condition;	/* borrowed */
	struct jsonrpc_cond	 cond;
	json_int_t		 timeout_ms;
};
int		 jsonrpc_wait_params(const json_t *params, struct jsonrpc_wait *,
		    struct jsonrpc_error *e);

/* service.kill {service: NAME | [NAME, ...] | "*", signal?: SIG}. */
struct jsonrpc_kill {
	int		 sig;		/* SIGKILL when not given */
	bool		 all;		/* "*": every worker */
	json_t		*names;		/* else the names, a new array */
};
int		 jsonrpc_kill_params(const json_t *params, struct jsonrpc_kill *,
		    struct jsonrpc_error *e);
/* service.logs {service?, lines?, follow?} */
struct jsonrpc_logs {
	json_t		*names;		/* a new list; NULL: every service */
	int		 lines;		/* the last lines of all named; -1: all held */
	bool		 follow;
};
int		 jsonrpc_logs_params(const json_t *params, struct jsonrpc_logs *,
		    struct jsonrpc_error *e);
/*
 * "service": a name, a list of names, or "*": *names a new list, or NULL
 * for "*". Whether each names a service is the daemon's to say.
 */
int		 jsonrpc_services_param(const json_t *params, json_t **names,
		    struct jsonrpc_error *e);
/* service.signal {service, signal}: as kill's, but the signal is needed. */
int		 jsonrpc_signal_params(const json_t *params, struct jsonrpc_kill *,
		    struct jsonrpc_error *e);
/* stage.get {limit?}: *limit -1 when not given. */
#define JSONRPC_LIMIT_MAX	RPC_LIMIT_MAX
int		 jsonrpc_limit_param(const json_t *params, json_int_t *limit,
		    struct jsonrpc_error *e);
/*
 * A flag or stage change's {wait_observed?}: *ms -1 when absent, else
 * 0..JSONRPC_WAIT_OBSERVED_MAX (an hour).
 */
#define JSONRPC_WAIT_OBSERVED_MAX	3600000
int		 jsonrpc_wait_observed_param(const json_t *params,
		    json_int_t *ms, struct jsonrpc_error *e);
/*
 * The params a change is made of: a copy of params without its
 * "wait_observed" (a new reference; params itself when not an object).
 */
json_t		*jsonrpc_change_params(json_t *params);
/* subscribe {topics?}: *topics a new list, or NULL for every event. */
int		 jsonrpc_topics_params(const json_t *params, json_t **topics,
		    struct jsonrpc_error *e);
/* config.reload {dry_run?} */
int		 jsonrpc_reload_params(const json_t *params, bool *dry_run,
		    struct jsonrpc_error *e);
/* reexec {binary?}: *binary NULL for warden's own. */
int		 jsonrpc_reexec_params(const json_t *params, const char **binary,
		    struct jsonrpc_error *e);
/* flag.get {name} */
int		 jsonrpc_flag_params(const json_t *params, const char **name,
		    struct jsonrpc_error *e);

/* --- batches ---------------------------------------------------------------------- */

/*
 * A batch of n members has n + 1 slots: a member's answer (null: none
 * yet, or a notification's), and the batch's own, null, last. It is
 * outstanding once for each member not answered yet, and once for itself
 * while its members are being read, so that it cannot end before.
 */
struct jsonrpc_batch {
	json_t	*slots;
	size_t	 outstanding;
};

struct jsonrpc_batch *jsonrpc_batch_new(size_t n);
/*
 * The answer of slot's member (NULL: it has none, a notification), or
 * slot n: the batch's own. true when it was the last due: the batch is
 * freed, and *out is what to send (NULL: nothing, all were notifications).
 */
bool		 jsonrpc_batch_put(struct jsonrpc_batch *, size_t slot,
		    json_t *response, json_t **out);
/* A member that will never be answered (its client is gone): true when the batch is freed. */
bool		 jsonrpc_batch_drop(struct jsonrpc_batch *);
/* A batch handed over by a reexec, its slots as described (checked by the caller). */
struct jsonrpc_batch *jsonrpc_batch_adopt(const json_t *slots);
void		 jsonrpc_batch_free(struct jsonrpc_batch *);

#endif
