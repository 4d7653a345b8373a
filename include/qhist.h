/* qhist.h: the recent past of every listener that was ever hot or dropped, for top and explain. */
#ifndef BACKLOGD_QHIST_H
#define BACKLOGD_QHIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "track.h"

/* Ticks of history kept per listener: a minute at the default interval. */
#define QHIST_POINTS 60
/*
 * Listeners kept per namespace. A flood of hot listeners must not grow the
 * daemon without bound: past this, a new one takes the place of the one
 * hot longest ago (a vanished one first), or is counted and not kept.
 */
#define QHIST_MAX 256

struct qhist_point {
	uint32_t queue;           /* the tick's queue, or the highest a fast sample saw since the last */
	uint32_t drops;           /* drops since the tick before */
};

struct qhist_entry {
	uint64_t cookie;          /* the listener's socket cookie */
	uint64_t newest_tick;     /* the track's tick count at the newest point */
	uint64_t hot_tick;        /* the latest tick that found it hot or dropping */
	uint32_t backlog;         /* at the newest point */
	uint16_t len;             /* points kept, up to QHIST_POINTS */
	uint16_t head;            /* the next slot to write */
	bool gone;                /* its listener has vanished; kept until its points scroll out */
	struct qhist_point pts[QHIST_POINTS];
};

struct qhist {
	struct qhist_entry *items;  /* sorted by cookie */
	size_t count;
	size_t cap;               /* grows to QHIST_MAX */
	size_t *fresh;            /* scratch: the track's listeners that qualified this tick, not kept yet */
	size_t not_kept;          /* of the latest tick's hot or dropping listeners, those without a history (all kept ones were hot too) */
	uint64_t evicted;         /* kept ones that gave their place to a newer one */
};

void qhist_init(struct qhist *h);
void qhist_free(struct qhist *h);

/*
 * After track_tick: one point for every kept listener still there; a
 * listener seen hot (queue above half its backlog) or dropping for the
 * first time is kept from now on, its earlier ticks taken from the track's
 * own history; vanished ones go once their points have scrolled out.
 * Return: 0, or -ENOMEM with h as it was (or with fewer new ones kept).
 */
int qhist_update(struct qhist *h, const struct track *t);

/* Return: the entry for cookie, or NULL. */
const struct qhist_entry *qhist_find(const struct qhist *h, uint64_t cookie);

/* Return: point k of e, 0 the oldest kept, k < e->len. */
const struct qhist_point *qhist_at(const struct qhist_entry *e, unsigned k);

/* Return: the drops of e's newest n points (all it has when fewer). */
uint64_t qhist_drops_last(const struct qhist_entry *e, unsigned n);

/* Return: the bytes h holds, for status and the bench. */
size_t qhist_bytes(const struct qhist *h);

#endif
