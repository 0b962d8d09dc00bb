/*
 * etcd.h: etcd's v3 JSON gateway as pure data: the bodies of requests
 * built, the answers read, and the watch stream cut into objects. No
 * socket and no loop here (the daemon's etcdc.c carries them).
 *
 * The gateway speaks JSON over HTTP POST (/v3/kv/range, /v3/kv/put,
 * /v3/kv/deleterange, /v3/kv/txn, /v3/kv/compaction, /v3/watch,
 * /v3/lease/grant, /v3/lease/keepalive, /v3/lease/revoke). Keys and values
 * are base64 in JSON; int64 fields (revision, ID, TTL, mod_revision...)
 * are JSON strings, and a field at its zero value is left out (a range
 * that found nothing has no "kvs", a txn whose compare failed no
 * "succeeded", a PUT event no "type").
 *
 * Builders return a new json_t (NULL only when a value is out of range:
 * a negative revision, say). Parsers are strict about the fields they
 * read: each must have its type, an int64 must be a string of digits
 * (no sign, no leading zero, no overflow) and base64 must be canonical;
 * anything else fails with an error naming the field ("kvs[3].value: not
 * base64"), and nothing is returned half filled. Members they do not read
 * (cluster_id, raft_term...) are ignored. An answer that is a gateway
 * error ({"error": ..., "code": N, "message": ...}) fails every parser
 * with "etcd error N: message", and etcd_error_parse() reads it.
 */
#ifndef WARDEN_ETCD_H
#define WARDEN_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define ETCD_ERR_MAX		256	/* an error message, with its NUL */
#define ETCD_SPLIT_MAX_DEFAULT	(4u * 1024 * 1024)

/* Bytes with their length, NUL-terminated past it for convenience. */
struct etcd_buf {
	char	*p;
	size_t	 len;
};

void		 etcd_buf_free(struct etcd_buf *);

/* --- base64 (RFC 4648, with padding) ----------------------------------------- */

/* data as base64, malloc'd. */
char		*etcd_b64_encode(const void *data, size_t len);
/*
 * Strict: the standard alphabet, padding to a multiple of 4, no spaces,
 * unused bits zero. 0 with *out filled, or -1.
 */
int		 etcd_b64_decode(const char *text, size_t len, struct etcd_buf *out);

/* --- numbers and names ------------------------------------------------------- */

/* An int64 field as the gateway writes it: "0".."9223372036854775807". */
int		 etcd_int64_parse(const char *s, int64_t *out);
/*
 * The range_end that makes a range of every key starting with prefix:
 * the prefix with its last byte below 0xff incremented and what follows
 * dropped; "\0" (every key) when there is none.
 */
void		 etcd_prefix_end(const char *prefix, struct etcd_buf *out);
/*
 * An endpoint "http://HOST:PORT" (a trailing "/" allowed): HOST a numeric
 * address or localhost, so that nothing is looked up. https is refused.
 * 0 with host (HOST_MAX bytes) and port, or -1 with a message in err.
 */
#define ETCD_HOST_MAX		64
int		 etcd_endpoint_parse(const char *url, char host[ETCD_HOST_MAX],
		    int *port, char err[ETCD_ERR_MAX]);

/* --- requests ---------------------------------------------------------------- */

/*
 * A range over key (end NULL: the key alone), at revision (0: the
 * newest), at most limit keys (0: all).
 */
json_t		*etcd_req_range(const char *key, const struct etcd_buf *end,
		    int64_t revision, int64_t limit);
/* A put of value, on lease (0: none). */
json_t		*etcd_req_put(const char *key, const void *value, size_t len,
		    int64_t lease);
json_t		*etcd_req_delete(const char *key, const struct etcd_buf *end);
json_t		*etcd_req_compact(int64_t revision);

enum etcd_target {
	ETCD_TARGET_MOD,	/* mod_revision */
	ETCD_TARGET_VERSION,	/* version: 0 when the key is absent */
	ETCD_TARGET_CREATE,	/* create_revision */
};
enum etcd_cmp {
	ETCD_CMP_EQUAL,
	ETCD_CMP_NOT_EQUAL,
	ETCD_CMP_LESS,
	ETCD_CMP_GREATER,
};
enum etcd_op {
	ETCD_OP_RANGE,
	ETCD_OP_PUT,
	ETCD_OP_DELETE,
};

/* An empty txn: {"compare": [], "success": [], "failure": []}. */
json_t		*etcd_req_txn(void);
/* A compare added: key's target result value. -1 when value < 0. */
int		 etcd_txn_compare(json_t *txn, const char *key,
		    enum etcd_target, enum etcd_cmp, int64_t value);
/*
 * A compare over every key of [key, end) (etcd 3.3 and later): it holds
 * when it holds for each key there, and for none there (an absent key's
 * fields are 0). A key deleted from the range leaves no trace a compare
 * could see: writers that must notice one put a value instead.
 */
int		 etcd_txn_compare_range(json_t *txn, const char *key,
		    const struct etcd_buf *end, enum etcd_target,
		    enum etcd_cmp, int64_t value);
/*
 * An op added to success or failure: req (stolen) made by
 * etcd_req_range, _put or _delete, as kind says.
 */
int		 etcd_txn_op(json_t *txn, bool on_success, enum etcd_op kind,
		    json_t *req);

/*
 * A watch's create_request over key (end NULL: the key alone) from
 * start_revision (0: from now on), prev_kv false.
 */
json_t		*etcd_req_watch(const char *key, const struct etcd_buf *end,
		    int64_t start_revision);
json_t		*etcd_req_lease_grant(int64_t ttl_s, int64_t id);
json_t		*etcd_req_lease_keepalive(int64_t id);
json_t		*etcd_req_lease_revoke(int64_t id);

/* --- answers ----------------------------------------------------------------- */

/* A gateway error, in either of the forms the gateway writes. */
struct etcd_error {
	int	 code;			/* gRPC code */
	char	 message[ETCD_ERR_MAX];
};
/* 1 when j is an error (e filled), 0 when it is not. */
int		 etcd_error_parse(const json_t *j, struct etcd_error *e);

struct etcd_kv {
	struct etcd_buf	 key, value;
	int64_t		 create_revision, mod_revision, version, lease;
};

struct etcd_range {
	int64_t		 revision;	/* the header's */
	struct etcd_kv	*kvs;
	size_t		 n;
	int64_t		 count;
	bool		 more;
};

struct etcd_txn_resp {
	enum etcd_op	 kind;
	struct etcd_range range;	/* ETCD_OP_RANGE */
	int64_t		 revision;	/* every kind: its header's, 0 when none */
	int64_t		 deleted;	/* ETCD_OP_DELETE */
};

struct etcd_txn {
	int64_t			 revision;
	bool			 succeeded;
	struct etcd_txn_resp	*resp;
	size_t			 n;
};

enum etcd_event_type {
	ETCD_EVENT_PUT,
	ETCD_EVENT_DELETE,
};

struct etcd_event {
	enum etcd_event_type	 type;
	struct etcd_kv		 kv;
};

struct etcd_watch {
	int64_t		 revision;	/* 0 when the header has none */
	int64_t		 watch_id;	/* -1: not created (canceled says why) */
	bool		 created, canceled;
	int64_t		 compact_revision;	/* > 0: start_revision compacted */
	char		*cancel_reason;		/* malloc'd, or NULL */
	struct etcd_event *events;
	size_t		 n;
};

struct etcd_lease {
	int64_t		 revision;
	int64_t		 id;
	int64_t		 ttl;		/* 0 from keepalive: the lease is gone */
};

/* Every parser: 0 with *out filled (free it), or -1 with err. */
int	etcd_parse_range(const json_t *, struct etcd_range *, char err[ETCD_ERR_MAX]);
/* put, compaction, lease revoke: the header's revision. */
int	etcd_parse_header(const json_t *, int64_t *revision, char err[ETCD_ERR_MAX]);
int	etcd_parse_delete(const json_t *, int64_t *revision, int64_t *deleted,
	    char err[ETCD_ERR_MAX]);
int	etcd_parse_txn(const json_t *, struct etcd_txn *, char err[ETCD_ERR_MAX]);
/* One object of the watch stream, {"result": {...}}. */
int	etcd_parse_watch(const json_t *, struct etcd_watch *, char err[ETCD_ERR_MAX]);
/* A grant, or a keepalive's answer (under "result" or not). */
int	etcd_parse_lease(const json_t *, struct etcd_lease *, char err[ETCD_ERR_MAX]);

void	etcd_range_free(struct etcd_range *);
void	etcd_txn_free(struct etcd_txn *);
void	etcd_watch_free(struct etcd_watch *);

/* --- the watch stream -------------------------------------------------------- */

/*
 * The watch stream: JSON objects one after another (the gateway puts a
 * newline between them) in chunks that split an object anywhere or hold
 * several. Bytes are fed as they come; whole objects come out in order.
 * At most max bytes of an object not yet whole are kept: past that, or on
 * anything that is not an object, the splitter fails and stays failed
 * (the stream must be restarted, on a new splitter or after reset).
 */
struct etcd_split {
	char	*buf;
	size_t	 len, cap, max;
	size_t	 start;		/* where the object being read begins */
	size_t	 scan;		/* bytes of it already scanned */
	int	 depth;
	bool	 in_string, escaped, failed;
	char	 err[ETCD_ERR_MAX];
};

void	etcd_split_init(struct etcd_split *, size_t max);
void	etcd_split_reset(struct etcd_split *);
void	etcd_split_free(struct etcd_split *);
/* 0, or -1 when over the bound or already failed (s->err says why). */
int	etcd_split_feed(struct etcd_split *, const void *data, size_t len);
/* 1 with a new *obj, 0 when none is whole yet, -1 on bad input (s->err). */
int	etcd_split_next(struct etcd_split *, json_t **obj);

#endif
