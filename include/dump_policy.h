/* dump_policy.h: whether a tick dumps the listeners, decided from the cheap signals read before it. */
#ifndef BACKLOGD_DUMP_POLICY_H
#define BACKLOGD_DUMP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sample.h"
#include "track.h"

/*
 * How long after a listener vanished the listeners are dumped at every
 * tick, whatever else says: the gap's end is then seen within a tick even
 * when the socket count that would have told (sockstat) moved back to where
 * it was in the same tick. Restarts are shorter; a longer outage is seen
 * to end by that count, or by the next refresh.
 */
#define DUMP_GAP_WATCH_MS 60000

/* What the decision weighs. */
struct dump_policy_in {
	const struct track *track;          /* as the previous tick left it */
	/* This tick's cheap probes: counters, sockstat, kernel log (no listeners yet). */
	const struct tick_sample *sample;
	size_t hot;                         /* listeners hot now (their queue above half, lately) */
	bool owners_moved;                  /* a listener's owners changed (a worker exited, stopped) */
	bool stale;                         /* the listeners are not known: a dump failed, or the configuration changed */
	int64_t refresh_ms;                 /* dump at least this often; 0: every tick */
	int64_t mono_ms;                    /* now, monotonic */
	int64_t last_dump_ms;               /* monotonic ms of the last good dump; 0: none yet */
};

/*
 * A tick needs the LISTEN dump when something a listener shows may have
 * moved: a listen or SYN-queue counter (the per-listener drop counters
 * move with them), the number of TCP sockets (a listener that opens or
 * closes changes it, and so does every connection that enters an accept
 * queue), a hot listener, a young gap, owners that changed, a kernel log line;
 * otherwise at the refresh period. Return: why (a constant string, for
 * status), or NULL: the listeners of the last dump stand for this tick.
 */
const char *dump_policy_reason(const struct dump_policy_in *in);

#endif
