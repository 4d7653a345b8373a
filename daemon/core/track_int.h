/* track_int.h: what track.c and track_gaps.c share: the sort keys, the address index and the gap bookkeeping. */
#ifndef BACKLOGD_TRACK_INT_H
#define BACKLOGD_TRACK_INT_H

#include <stddef.h>
#include <stdint.h>
#include "track.h"

/* One listener of a dump, keyed for sorting: cookie first, dump position second. */
struct track_key {
	uint64_t cookie;
	size_t idx;
};

/* A listener's (family, address, port) and cookie; sorted, it tells who holds an address:port now. */
struct track_addr_key {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
	uint64_t cookie;
};

/*
 * The address index of this dump's listeners (keys[0..u) of t->keys), in
 * t->addr_keys, when gaps need it: gone listeners vanished or a gap is
 * open. *na is 0 when none was built. Return: 0 or -ENOMEM.
 */
int track_gaps_index(struct track *t, const struct listener_set *now, size_t u, size_t gone,
		     size_t *na);

/*
 * Open and close gaps for this tick. Runs before the merge changes
 * t->items, so track_find still answers for the previous tick; keys[0..u)
 * are this dump's cookies, sorted; t->addr_keys[0..na) the same listeners
 * by address; host is this tick's counters (NULL: not read).
 */
void track_gaps_update(struct track *t, size_t u, size_t na, const struct counters *host,
		       int64_t now_ms);

/*
 * A tick without a dump: the open gaps are one tick longer and count the
 * RSTs sent so far (host: this tick's counters, NULL not read). Runs
 * before host_cur moves.
 */
void track_gaps_carry(struct track *t, const struct counters *host);

/*
 * Keep the process deaths among ev[0..n) (this tick's kernel log events)
 * for TRACK_DEATH_KEEP_MS, and stamp each on the gap its process left.
 * Runs after track_gaps_update, at t->now_ms.
 */
void track_gaps_deaths(struct track *t, const struct kmsg_event *ev, size_t n);

/*
 * Keep, as deaths, the exits among ev[0..n) (this tick's, from the process
 * connector) that were a crash (see track_exit_is_crash) of a process that
 * holds a listener or held one that vanished within TRACK_DEATH_KEEP_MS.
 * Runs after track_gaps_update, at t->now_ms. Out of memory, the exits of
 * this tick are passed over.
 */
void track_gaps_exits(struct track *t, const struct proc_exit *ev, size_t n);

#endif
