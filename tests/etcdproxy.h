/*
 * etcdproxy.h: a TCP proxy in front of a real etcd, in a thread of the
 * test, that can hold a transaction on its way: a warden whose fleet
 * endpoint is the proxy reads the prefix as usual, its txn is held while
 * the test makes another write straight to etcd, then released, so that
 * two writes meet in the order the test chose and not the scheduler.
 *
 * The proxy listens on a free loopback port (bound to port 0, so no other
 * suite can take it) and forwards every connection to etcd both ways,
 * byte for byte (watch streams and keepalives included). Armed, it scans
 * what clients send for "POST /v3/kv/txn" (bodies are JSON with base64
 * keys and values: they never hold that text): the first request found
 * is held, bytes before it forwarded, it and what follows kept, and the
 * test told (a condition variable: no sleeping). Other connections go on.
 * Released, the held bytes go to etcd as they came.
 *
 * Every function asserts (ck_assert) instead of returning an error.
 */
#ifndef WARDEN_TESTS_ETCDPROXY_H
#define WARDEN_TESTS_ETCDPROXY_H

struct etcdproxy;

/* A proxy to 127.0.0.1:port, running. */
struct etcdproxy	*etcdproxy_start(int port);
/* "http://127.0.0.1:PORT", the proxy's (borrowed). */
const char		*etcdproxy_url(const struct etcdproxy *);
/* Hold the next transaction a client sends. */
void			 etcdproxy_arm(struct etcdproxy *);
/* Wait until it holds one; timeout_ms only bounds a failure. */
void			 etcdproxy_wait_held(struct etcdproxy *, int timeout_ms);
/* Send the held request on to etcd. */
void			 etcdproxy_release(struct etcdproxy *);
/* Transactions held so far. */
int			 etcdproxy_held_count(struct etcdproxy *);
/* Stopped, every connection closed, freed. */
void			 etcdproxy_stop(struct etcdproxy *);

#endif
