/*
 * murmur3.h: MurmurHash3_x86_32, Austin Appleby's public-domain hash.
 *
 * warden uses it for two things that must agree bit for bit between the
 * daemon, the reader library and anyone reimplementing the rollout rule:
 * the percentage buckets of warden_enabled_for() (SPEC section 4:
 * murmur3_x86_32("<flag>:<id>", seed 0) % 10000 < percent * 100), and the
 * check words of the shared flag table.
 *
 * The streaming form gives the same value as the one-shot form over the
 * concatenation of its pieces, so a key too long for a stack buffer can be
 * hashed without building it (and without allocating).
 */
#ifndef WARDEN_MURMUR3_H
#define WARDEN_MURMUR3_H

#include <stddef.h>
#include <stdint.h>

struct murmur3_state {
	uint32_t	h;		/* running hash */
	uint32_t	carry;		/* up to 3 bytes not yet in a block */
	uint32_t	ncarry;		/* how many bytes carry holds */
	uint32_t	total;		/* length so far, mod 2^32 as the one-shot form */
};

uint32_t	murmur3_x86_32(const void *key, size_t len, uint32_t seed);

void		murmur3_init(struct murmur3_state *, uint32_t seed);
void		murmur3_update(struct murmur3_state *, const void *, size_t);
uint32_t	murmur3_final(const struct murmur3_state *);

#endif
