/* ownertab.c: interned owners, found by content through an open-addressing hash of indices. */
#include "base.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ownertab.h"

void ownertab_init(struct ownertab *t)
{
	memset(t, 0, sizeof(*t));
}

void ownertab_free(struct ownertab *t)
{
	free(t->items);
	free(t->slots);
	free(t->remap);
	ownertab_init(t);
}

/* FNV-1a, over what owner_same compares: strings up to their NUL, not the bytes after. */
static uint32_t fnv(uint32_t h, const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= 16777619U;
	}
	return h;
}

static uint32_t fnv_str(uint32_t h, const char *s, size_t max)
{
	return fnv(h, s, strnlen(s, max));
}

static uint32_t owner_hash(const struct owner *o)
{
	uint32_t h = 2166136261U;
	unsigned i;

	h = fnv(h, &o->nprocs, sizeof(o->nprocs));
	h = fnv(h, &o->nprocs_total, sizeof(o->nprocs_total));
	h = fnv(h, &o->uid, sizeof(o->uid));
	h = fnv_str(h, o->unit, sizeof(o->unit));
	h = fnv_str(h, o->user, sizeof(o->user));
	for (i = 0; i < o->nprocs && i < OWNER_MAX_PROCS; i++) {
		h = fnv(h, &o->procs[i].pid, sizeof(o->procs[i].pid));
		h = fnv_str(h, o->procs[i].comm, sizeof(o->procs[i].comm));
		h = fnv_str(h, o->procs[i].cmdline, sizeof(o->procs[i].cmdline));
		h = fnv(h, &o->procs[i].ppid, sizeof(o->procs[i].ppid));
		h = fnv(h, &o->procs[i].state, sizeof(o->procs[i].state));
		h = fnv(h, &o->procs[i].polls, sizeof(o->procs[i].polls));
	}
	return h;
}

static bool str_same(const char *a, const char *b, size_t max)
{
	return strncmp(a, b, max) == 0;
}

static bool owner_same(const struct owner *a, const struct owner *b)
{
	unsigned i;

	if (a->nprocs != b->nprocs || a->nprocs_total != b->nprocs_total || a->uid != b->uid ||
	    !str_same(a->unit, b->unit, sizeof(a->unit)) || !str_same(a->user, b->user, sizeof(a->user)))
		return false;
	for (i = 0; i < a->nprocs && i < OWNER_MAX_PROCS; i++)
		if (a->procs[i].pid != b->procs[i].pid ||
		    !str_same(a->procs[i].comm, b->procs[i].comm, sizeof(a->procs[i].comm)) ||
		    !str_same(a->procs[i].cmdline, b->procs[i].cmdline, sizeof(a->procs[i].cmdline)) ||
		    a->procs[i].ppid != b->procs[i].ppid || a->procs[i].uid != b->procs[i].uid ||
		    a->procs[i].state != b->procs[i].state || a->procs[i].polls != b->procs[i].polls)
			return false;
	return true;
}

/* The slot holding an owner equal to o, or the empty slot where it would go. */
static size_t slot_of(const struct ownertab *t, const struct owner *o, uint32_t h)
{
	size_t mask = t->nslots - 1, s = h & mask;

	while (t->slots[s] != 0 && !owner_same(&t->items[t->slots[s] - 1], o))
		s = (s + 1) & mask;
	return s;
}

/* Rebuild the slots for n owners at most, at most half full. Return: 0 or -ENOMEM. */
static int rehash(struct ownertab *t, size_t n)
{
	size_t nslots = t->nslots > 16 ? t->nslots : 16, i;
	uint32_t *slots;

	while (nslots < n * 2)
		nslots *= 2;
	if (nslots != t->nslots) {
		slots = realloc(t->slots, nslots * sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		t->slots = slots;
		t->nslots = nslots;
	}
	memset(t->slots, 0, t->nslots * sizeof(*t->slots));
	for (i = 0; i < t->count; i++)
		t->slots[slot_of(t, &t->items[i], owner_hash(&t->items[i]))] = (uint32_t)i + 1;
	return 0;
}

long ownertab_intern(struct ownertab *t, const struct owner *o)
{
	uint32_t h = owner_hash(o);
	size_t s;

	if (t->nslots > 0) {
		s = slot_of(t, o, h);
		if (t->slots[s] != 0)
			return (long)t->slots[s] - 1;
	}
	if (t->count >= UINT32_MAX - 1)
		return -ENOMEM;
	if (t->count == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4;
		struct owner *items = realloc(t->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		t->items = items;
		t->cap = cap;
	}
	if ((t->count + 1) * 2 > t->nslots && rehash(t, t->count + 1) < 0)
		return -ENOMEM;
	t->items[t->count] = *o;
	t->slots[slot_of(t, o, h)] = (uint32_t)t->count + 1;
	return (long)t->count++;
}

static uint32_t *ref_at(uint32_t *refs, size_t i, size_t stride)
{
	return (uint32_t *)(void *)((char *)refs + i * stride);
}

int ownertab_collect(struct ownertab *t, uint32_t *refs, size_t n, size_t stride)
{
	size_t i, k = 0;

	if (t->count > t->remap_cap) {
		uint32_t *m = realloc(t->remap, t->count * sizeof(*m));

		if (!m)
			return -ENOMEM;
		t->remap = m;
		t->remap_cap = t->count;
	}
	for (i = 0; i < t->count; i++)
		t->remap[i] = UINT32_MAX;
	for (i = 0; i < n; i++)
		t->remap[*ref_at(refs, i, stride)] = 0;
	for (i = 0; i < t->count; i++) {
		if (t->remap[i] == UINT32_MAX)
			continue;
		if (k != i)
			t->items[k] = t->items[i];
		t->remap[i] = (uint32_t)k++;
	}
	for (i = 0; i < n; i++) {
		uint32_t *r = ref_at(refs, i, stride);

		*r = t->remap[*r];
	}
	if (k == t->count)
		return 0;
	t->count = k;
	/* The slots shrink with the table: nothing left points past count. */
	return t->nslots > 0 ? rehash(t, k) : 0;
}

const struct owner_proc *owner_parent(const struct owner *o, const struct owner_proc *p)
{
	unsigned i;

	for (i = 0; p->ppid > 0 && i < o->nprocs && i < OWNER_MAX_PROCS; i++)
		if (o->procs[i].pid == p->ppid && &o->procs[i] != p)
			return &o->procs[i];
	return NULL;
}

/* Why this holder, in order of weight: it polls the socket, it is a worker, it is stuck. */
static unsigned acceptor_rank(const struct owner *o, const struct owner_proc *p)
{
	bool stuck = p->state == 'T' || p->state == 't' || p->state == 'D';

	return (p->polls ? 4u : 0u) + (owner_parent(o, p) ? 2u : 0u) + (stuck ? 1u : 0u);
}

const struct owner_proc *owner_acceptor(const struct owner *o)
{
	const struct owner_proc *best = NULL;
	unsigned i, best_rank = 0;

	/* procs[] is sorted by pid: the first of the best rank is the lowest pid. */
	for (i = 0; i < o->nprocs && i < OWNER_MAX_PROCS; i++) {
		unsigned r = acceptor_rank(o, &o->procs[i]);

		if (!best || r > best_rank) {
			best = &o->procs[i];
			best_rank = r;
		}
	}
	return best;
}
