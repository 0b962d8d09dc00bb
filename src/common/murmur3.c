/*
 * murmur3.c: MurmurHash3_x86_32 (see murmur3.h).
 *
 * Written from Austin Appleby's public-domain reference (SMHasher,
 * MurmurHash3.cpp). Blocks are read as little-endian words whatever the
 * host, which is what the reference computes on x86 and what every other
 * implementation of the rollout rule expects; the bytes are assembled
 * one by one so that an unaligned key is never read as a word.
 */
#include <stddef.h>
#include <stdint.h>

#include "murmur3.h"

#define MURMUR3_C1	0xcc9e2d51u
#define MURMUR3_C2	0x1b873593u

static inline uint32_t
murmur3_rotl(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static inline uint32_t
murmur3_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Scramble one block (or the zero-padded tail) before it meets the hash. */
static inline uint32_t
murmur3_scramble(uint32_t k)
{
	k *= MURMUR3_C1;
	k = murmur3_rotl(k, 15);
	k *= MURMUR3_C2;
	return k;
}

static inline uint32_t
murmur3_mix(uint32_t h, uint32_t k)
{
	h ^= murmur3_scramble(k);
	h = murmur3_rotl(h, 13);
	return h * 5 + 0xe6546b64u;
}

/* The finalisation: tail, length, then the avalanche (fmix32). */
static inline uint32_t
murmur3_finish(uint32_t h, uint32_t tail, size_t ntail, uint32_t len)
{
	if (ntail > 0)
		h ^= murmur3_scramble(tail);
	h ^= len;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

uint32_t
murmur3_x86_32(const void *key, size_t len, uint32_t seed)
{
	const unsigned char	*p = key;
	uint32_t		 h = seed, tail = 0;
	size_t			 i, nblocks = len / 4, ntail = len & 3;

	for (i = 0; i < nblocks; i++)
		h = murmur3_mix(h, murmur3_le32(p + 4 * i));
	p += 4 * nblocks;
	for (i = 0; i < ntail; i++)
		tail |= (uint32_t)p[i] << (8 * i);
	/* The reference hashes an int length: the low 32 bits. */
	return murmur3_finish(h, tail, ntail, (uint32_t)len);
}

void
murmur3_init(struct murmur3_state *st, uint32_t seed)
{
	st->h = seed;
	st->carry = 0;
	st->ncarry = 0;
	st->total = 0;
}

void
murmur3_update(struct murmur3_state *st, const void *data, size_t len)
{
	const unsigned char	*p = data;
	/*
	 * Locals, not st->: the key is read through a char pointer, which
	 * may alias *st, so the compiler would store and reload the state
	 * around every byte.
	 */
	uint32_t		 h = st->h, carry = st->carry;
	uint32_t		 ncarry = st->ncarry;

	st->total += (uint32_t)len;
	/* Complete a block begun by an earlier piece. */
	if (ncarry > 0) {
		for (; ncarry < 4 && len > 0; len--)
			carry |= (uint32_t)*p++ << (8 * ncarry++);
		if (ncarry == 4) {
			h = murmur3_mix(h, carry);
			carry = 0;
			ncarry = 0;
		}
	}
	for (; len >= 4; p += 4, len -= 4)
		h = murmur3_mix(h, murmur3_le32(p));
	/* Keep what is left for the next piece or for the tail. */
	for (; len > 0; len--)
		carry |= (uint32_t)*p++ << (8 * ncarry++);
	st->h = h;
	st->carry = carry;
	st->ncarry = ncarry;
}

uint32_t
murmur3_final(const struct murmur3_state *st)
{
	return murmur3_finish(st->h, st->carry, st->ncarry, st->total);
}
