/* sample.h: one tick's measurements, filled by the monitor's probes and taken by track in one call. */
#ifndef BACKLOGD_SAMPLE_H
#define BACKLOGD_SAMPLE_H

#include <stddef.h>
#include "conntrack.h"
#include "deep.h"
#include "fast_peaks.h"
#include "kmsg.h"
#include "links.h"
#include "listener.h"
#include "netstat.h"
#include "procmap.h"
#include "procexit.h"
#include "sockstat.h"
#include "sysctl.h"

/*
 * Plain data, all of it pointers to buffers the caller owns and reuses: the
 * sample copies nothing. Any part may be NULL: not measured this tick. track
 * copies what it keeps, except deep, which it points at until the next tick.
 */
struct tick_sample {
	/*
	 * This tick's LISTEN dump, the listeners the configuration ignores
	 * already left out. NULL: not dumped in this tick, because nothing a
	 * listener shows has moved (dump_policy.h): track carries each
	 * listener of the last dump forward as it was, with no drop.
	 */
	const struct listener_set *listeners;
	/*
	 * owners[i] holds listeners->items[i] (NULL: not found). The whole
	 * array NULL: the owners track has stand (the monitor resolves them
	 * only when the listeners or procmap changed).
	 */
	const struct owner *const *owners;
	/*
	 * owner_states[i]: the state letter ('S', 'T', ...) of the acceptor
	 * (owner_acceptor) of listeners->items[i]'s owner, read only for a listener
	 * whose drops moved (slow-accept asks whether it is stopped); 0 unknown.
	 */
	const char *owner_states;
	const struct counters *counters;        /* /proc/net/netstat and snmp */
	const struct limits *limits;            /* the sysctls in force */
	const struct sockstat *sockstat;
	const struct conntrack_stat *conntrack;
	const struct link_table *links;
	const struct kmsg_event *kmsg;          /* kernel log events since the last tick */
	size_t n_kmsg;
	const struct proc_exit *exits;          /* processes that died badly since the last tick */
	size_t n_exits;
	const struct deep_sample *deep;         /* the deep tier, when it ran in this tick */
	const struct fast_peaks *fast;          /* the fast samples since the last tick */
};

#endif
