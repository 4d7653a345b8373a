/* fast_peaks.h: the highest queue the fast samples saw of each listener between two ticks. */
#ifndef BACKLOGD_FAST_PEAKS_H
#define BACKLOGD_FAST_PEAKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "listener.h"

/* One listener's fast samples since the last tick. */
struct fast_peak {
	uint64_t cookie;
	uint32_t queue;           /* the highest queue seen */
	uint32_t backlog;         /* its backlog in that sample */
	unsigned samples;         /* how many fast samples saw it */
	unsigned below_full;      /* how many saw its queue below full: it drained meanwhile */
};

/*
 * The fast samples of one tick interval, sorted by cookie. The memory is
 * kept from one interval to the next: it grows only with the listeners on
 * hot ports.
 */
struct fast_peaks {
	struct fast_peak *items;
	size_t count;
	size_t cap;
};

void fast_peaks_init(struct fast_peaks *fp);
void fast_peaks_free(struct fast_peaks *fp);
/* Forget the samples (a tick took them), keep the memory. */
void fast_peaks_clear(struct fast_peaks *fp);

/*
 * Fold one fast dump into fp: each listener's highest queue so far.
 * Return: 0, or -ENOMEM (listeners not seen before are then left out).
 */
int fast_peaks_add(struct fast_peaks *fp, const struct listener_set *set);

/* Return: the samples of the listener with this cookie, or NULL. */
const struct fast_peak *fast_peaks_find(const struct fast_peaks *fp, uint64_t cookie);

/* Return: whether a fast sample saw p's queue above half its backlog. */
bool fast_peak_hot(const struct fast_peak *p);

#endif
