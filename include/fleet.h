/* fleet.h: one monitor per network namespace, followed as namespaces come and go. */
#ifndef BACKLOGD_FLEET_H
#define BACKLOGD_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "drop_event.h"
#include "findings.h"
#include "kmsg.h"
#include "monitor.h"
#include "netns.h"
#include "nsworker.h"

struct finding_log;

struct fleet_member {
	struct netns_id ns;
	int nsfd;                 /* open namespace file; -1 for backlogd's own */
	struct monitor mon;
	bool ready;               /* mon initialised */
	int64_t first_seen;       /* wall clock, seconds */
};

struct fleet {
	struct config cfg;
	const char *proc_root;    /* "/proc", or -P for the host's files */
	const char *run_netns;    /* "/run/netns" */
	bool scan;                /* follow every namespace, not only our own */
	struct nsworker *worker;  /* NULL when scan is off */
	struct fleet_member **members;  /* pointers: a monitor never moves; [0] is the host */
	size_t count;
	size_t cap;
	struct netns_list found;  /* scratch for the scan, reused */
	unsigned long scans;
	unsigned long ns_added;
	unsigned long ns_removed;
	int last_scan_error;      /* -errno of the latest failed scan, 0 */
	size_t ns_found;          /* namespaces the latest scan found, the host's included */
	size_t ns_skipped;        /* of those, not watched: over max_namespaces or out of descriptors */
	bool capped;              /* the latest scan skipped some: one log line per crossing */
	bool fd_short;            /* a namespace was skipped for want of descriptors, logged once */
	/* Measured and counted by the daemon's loop for the metrics; fleet_tick leaves them. */
	int64_t tick_us;          /* how long the latest fleet_tick took, 0 before the first */
	unsigned long opened[CAUSE_COUNT];  /* findings opened since start, by cause */
	/* The daemon's memory of finding events, which it keeps; NULL where none is kept (diagnose). */
	struct finding_log *log;
};

/*
 * Start with backlogd's own namespace; with scan, a worker thread for the
 * others (found at each fleet_tick). Return: 0 or -errno.
 */
int fleet_init(struct fleet *fl, const struct config *cfg, const char *proc_root,
	       const char *run_netns, bool scan);
void fleet_done(struct fleet *fl);
void fleet_set_config(struct fleet *fl, const struct config *cfg);

/* Kernel log lines are host-wide: every namespace's next tick weighs them. */
void fleet_add_kmsg(struct fleet *fl, const struct kmsg_event *ev, size_t n);

/*
 * The eBPF tier's events, each to the monitor of its namespace (events of
 * a namespace not watched are counted in *unwatched). wall_ms and mono_ns
 * are now on both clocks, to date the events. Return: how many opened an
 * overflow at an endpoint not seen lately (monitor_add_drop).
 */
size_t fleet_add_drops(struct fleet *fl, const struct drop_event *ev, size_t n, int64_t wall_ms,
		       uint64_t mono_ns, uint64_t *unwatched);

/*
 * Process exits are host-wide too: every namespace's next tick looks among
 * ev[0..n) for its listeners' holders. ev must last until that tick.
 */
void fleet_set_exits(struct fleet *fl, const struct proc_exit *ev, size_t n);

/*
 * Rescan the namespaces (new ones get a monitor made inside them, vanished
 * ones are closed), then tick every monitor. A namespace whose tick fails
 * keeps its last state. cb sees every finding open and resolve, with its
 * namespace in finding.netns_*. Return: 0, or the host monitor's -errno.
 */
int fleet_tick(struct fleet *fl, int64_t now_ms, finding_cb cb, void *arg);

/*
 * Sample the hot listeners of every namespace between ticks (see
 * monitor_fast_sample). Return: hot listeners in all namespaces.
 */
size_t fleet_fast_sample(struct fleet *fl);
/* Return: hot listeners in all namespaces, without sampling. */
size_t fleet_hot(const struct fleet *fl);

/* Return: the member for a namespace name or inode (decimal), or NULL. */
const struct fleet_member *fleet_find(const struct fleet *fl, const char *name_or_inode);

#endif
