/* deep_policy.h: whether the deep tier runs in this tick: a pure decision from the cheap signals and what the last runs cost. */
#ifndef BACKLOGD_DEEP_POLICY_H
#define BACKLOGD_DEEP_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include "deep.h"
#include "sample.h"
#include "track.h"

/* The deep tier's past runs, kept by the caller between ticks (zeroed at start). */
struct deep_book {
	uint64_t last_tick;       /* the tick (track's count, this one included) of the last good run */
	bool dest_warm;           /* that run found a destination half-way to ephemeral-ports */
	int64_t last_ms;          /* monotonic ms when the last run, good or not, ended */
	int64_t cost_ms;          /* how long it took */
	/*
	 * The port bound (deep_policy.c, ports_bound_open): as of the last good
	 * run that could give one, the most sockets any destination held on
	 * local ports of the range [ports_lo, ports_hi], and Tcp.ActiveOpens
	 * then. ports_bounded is false before such a run: no bound.
	 */
	bool ports_bounded;
	int64_t ports_peak;
	int64_t ports_opens;
	int64_t ports_lo, ports_hi;
};

/* What the decision weighs. */
struct deep_policy_in {
	const struct track *track;          /* as the previous tick left it */
	const struct tick_sample *sample;   /* this tick's cheap probes: counters, sockstat, limits, kmsg */
	unsigned every_ticks;               /* run at least this often, signal or not; 0: only when a signal asks */
	unsigned ephemeral_pct;             /* the ephemeral-ports threshold, % of the port range (0: diagnose's default) */
	int64_t mono_ms;                    /* now, monotonic */
	/*
	 * The last tick of a one-shot run (backlogctl diagnose): no later tick
	 * will look, so a signal runs the deep tier now, whatever the tick
	 * count or the budget (it is one run).
	 */
	bool oneshot;
};

/*
 * The deep tier walks every connection on the host: run it only when a
 * cheap signal points at what it measures (for sockets near the port
 * range, only while the last run's count and the active opens since leave
 * a destination able to be half-way), or every every_ticks ticks when set,
 * within a budget of time that grows with what the last run cost.
 * Return: why it should run now (a constant string, for status), or NULL.
 */
const char *deep_policy_reason(const struct deep_policy_in *in, const struct deep_book *b);

/*
 * Book a run that began at in->mono_ms and ended at end_ms; ds is its
 * sample, or NULL when it failed (then only its cost counts).
 */
void deep_policy_ran(struct deep_book *b, const struct deep_policy_in *in,
		     const struct deep_sample *ds, int64_t end_ms);

/*
 * Return: whether TCP memory is short by this tick's sample (pressure, the
 * kernel's memory counters moving, its "out of memory" line): then the
 * deep tier's top memory holders are worth naming before the tick.
 */
bool deep_policy_memory_short(const struct track *t, const struct tick_sample *s);

#endif
