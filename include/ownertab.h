/* ownertab.h: interned owners, one copy of each distinct owner however many sockets share it. */
#ifndef BACKLOGD_OWNERTAB_H
#define BACKLOGD_OWNERTAB_H

#include <stddef.h>
#include <stdint.h>
#include "procmap.h"

/*
 * A struct owner is 3 KiB (room for 16 processes with their command
 * lines), and a server with 10,000 listeners usually has one or a few
 * distinct owners: the table keeps each once, by content, and sockets
 * refer to it by index.
 */
struct ownertab {
	struct owner *items;
	size_t count;
	size_t cap;
	uint32_t *slots;        /* open addressing: index + 1, 0 empty; a power of two long */
	size_t nslots;
	uint32_t *remap;        /* ownertab_collect's scratch, kept for the next one */
	size_t remap_cap;
};

void ownertab_init(struct ownertab *t);
void ownertab_free(struct ownertab *t);

/*
 * The index of an owner equal to o (its processes, names, unit, user),
 * adding a copy when there is none. Adding may move every owner: pointers
 * from ownertab_get are valid only until the next intern or collect.
 * Return: the index, or -ENOMEM.
 */
long ownertab_intern(struct ownertab *t, const struct owner *o);

static inline const struct owner *ownertab_get(const struct ownertab *t, uint32_t idx)
{
	return &t->items[idx];
}

/*
 * Forget the owners no reference points at, and renumber the rest. refs
 * is the first of n uint32_t indices laid stride bytes apart (the index
 * field of an array of structs); each is rewritten to the new number.
 * Return: 0, or -ENOMEM (nothing forgotten, every index still valid).
 */
int ownertab_collect(struct ownertab *t, uint32_t *refs, size_t n, size_t stride);

/*
 * The holder that accepts on the socket, the one to name when its queue
 * fills: a pre-fork server's master holds the listener but never accepts.
 * Ranked: holders whose epoll set watches the socket, then children of
 * another holder (workers), then the rest; among equals one that is
 * stopped or blocked (T, t, D: the likeliest reason the queue is full),
 * then the lowest pid. Return: NULL when o has no processes.
 */
const struct owner_proc *owner_acceptor(const struct owner *o);

/* Return: the holder of o that is p's parent, or NULL (p is no holder's child). */
const struct owner_proc *owner_parent(const struct owner *o, const struct owner_proc *p);

#endif
