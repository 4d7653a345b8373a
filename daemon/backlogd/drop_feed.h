/* drop_feed.h: the eBPF tier in the daemon's loop: opened as configured, its events read into the fleet. */
#ifndef BACKLOGD_DROP_FEED_H
#define BACKLOGD_DROP_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bpf_tier.h"
#include "config.h"
#include "drop_event.h"
#include "fleet.h"

/* Events decoded per read of the ring; a turn of the loop reads at most DROP_FEED_BATCHES of them. */
#define DROP_FEED_BATCH 256
#define DROP_FEED_BATCHES 8

struct drop_feed {
	struct bpf_tier *tier;     /* NULL: off (report.why says why) */
	struct tier_report report;
	uint64_t *watched;         /* the namespaces told to the tier, sorted */
	size_t n_watched;
	bool synced;               /* watched was told at least once */
	unsigned long fleet_added; /* the fleet's ns_added and ns_removed then: a change syncs again */
	unsigned long fleet_removed;
	uint64_t unwatched_here;   /* events the tier sent for a namespace the fleet no longer watches */
	struct drop_event buf[DROP_FEED_BATCH];
};

/*
 * Start the tier unless mode is no. Return: 0 (report says whether it runs
 * and why not), or -errno when mode is yes and it cannot run.
 */
int drop_feed_open(struct drop_feed *df, enum config_bpf mode);
/* Return: the descriptor to poll, -1 when off. */
int drop_feed_fd(const struct drop_feed *df);
/*
 * Read what waits, bounded so a drop storm cannot hold the loop, into the
 * fleet's namespaces. Return: overflows that opened at an endpoint not
 * seen lately (fleet_add_drops): the caller may tick at once.
 */
size_t drop_feed_read(struct drop_feed *df, struct fleet *fl);
/* After a tick: tell the tier the fleet's namespaces when they changed, and count into report. */
void drop_feed_sync(struct drop_feed *df, const struct fleet *fl);
void drop_feed_close(struct drop_feed *df);

#endif
