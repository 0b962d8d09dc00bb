/*
 * pidmap.c: process id -> pointer (see pidmap.h).
 */
#include <stdint.h>
#include <stdlib.h>

#include "log.h"
#include "pidmap.h"
#include "util.h"

static size_t
pidmap_home(const struct pidmap *m, pid_t pid)
{
	/* Fibonacci hashing: the product's top bits, not its low ones. */
	return (size_t)(((uint32_t)pid * 2654435769u) >> m->shift);
}

static void
pidmap_grow(struct pidmap *m)
{
	struct pidmap_slot	*old = m->slots;
	size_t			 oldcap = m->cap, i;

	m->cap = oldcap == 0 ? 64 : oldcap * 2;
	m->shift = 32;
	for (i = m->cap; i > 1; i >>= 1)
		m->shift--;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	m->len = 0;
	for (i = 0; i < oldcap; i++)
		if (old[i].pid != 0)
			pidmap_put(m, old[i].pid, old[i].ptr);
	free(old);
}

void
pidmap_put(struct pidmap *m, pid_t pid, void *ptr)
{
	size_t	i;

	if (pid <= 0)
		fatalx("pidmap_put: pid %ld", (long)pid);
	if ((m->len + 1) * 2 > m->cap)
		pidmap_grow(m);
	for (i = pidmap_home(m, pid); m->slots[i].pid != 0; i = (i + 1) & (m->cap - 1)) {
		if (m->slots[i].pid == pid) {
			m->slots[i].ptr = ptr;
			return;
		}
	}
	m->slots[i].pid = pid;
	m->slots[i].ptr = ptr;
	m->len++;
}

void *
pidmap_get(const struct pidmap *m, pid_t pid)
{
	size_t	i;

	if (m->cap == 0 || pid <= 0)
		return NULL;
	for (i = pidmap_home(m, pid); m->slots[i].pid != 0; i = (i + 1) & (m->cap - 1))
		if (m->slots[i].pid == pid)
			return m->slots[i].ptr;
	return NULL;
}

void
pidmap_del(struct pidmap *m, pid_t pid)
{
	size_t	i, j, home, mask = m->cap - 1;

	if (m->cap == 0 || pid <= 0)
		return;
	for (i = pidmap_home(m, pid); m->slots[i].pid != pid; i = (i + 1) & mask)
		if (m->slots[i].pid == 0)
			return;
	/*
	 * Shift back every later entry of the run that may not stay behind
	 * the hole: one whose home is not cyclically in (i, j].
	 */
	for (j = (i + 1) & mask; m->slots[j].pid != 0; j = (j + 1) & mask) {
		home = pidmap_home(m, m->slots[j].pid);
		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].pid = 0;
	m->slots[i].ptr = NULL;
	m->len--;
}

void
pidmap_free(struct pidmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = 0;
	m->len = 0;
}
