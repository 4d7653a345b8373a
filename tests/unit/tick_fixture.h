/* tick_fixture.h: one tick of listeners and counters through track_tick, for tests that build a tick by hand. */
#ifndef BACKLOGD_TICK_FIXTURE_H
#define BACKLOGD_TICK_FIXTURE_H

#include "sample.h"
#include "track.h"

/*
 * A tick that measured only the listeners, the counters and the sysctls
 * (any may be NULL): owners stay as track has them, the host samples are
 * unknown.
 */
static inline int tick_listeners(struct track *t, const struct listener_set *set, const struct counters *host,
				 const struct limits *lim, int64_t now_ms)
{
	struct tick_sample s = { .listeners = set, .counters = host, .limits = lim };

	return track_tick(t, &s, now_ms);
}

#endif
