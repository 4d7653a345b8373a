/* track.h: listeners matched across ticks by cookie, with deltas and a short history. */
#ifndef BACKLOGD_TRACK_H
#define BACKLOGD_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conntrack.h"
#include "deep.h"
#include "kmsg.h"
#include "links.h"
#include "listener.h"
#include "netstat.h"
#include "sockstat.h"
#include "procmap.h"
#include "procexit.h"
#include "sample.h"
#include "sysctl.h"

/* Ticks of per-listener history kept; bounds memory and the rules' window. */
#define TRACK_HISTORY 32
/*
 * How long an ended stall is remembered: its clients' dropped SYNs come back
 * 1, 3, 7 and 15 s later, and the overflow they make is the stall's.
 */
#define TRACK_STALL_KEEP_MS 30000

struct tick_point {
	uint32_t queue;
	uint32_t backlog;
	uint32_t drops_delta;
};

struct tracked {
	struct listener l;        /* latest sample */
	const struct owner *owner;  /* the sample's (shared, procmap's): read it with tracked_owner */
	char owner_state;         /* state letter of the owner's acceptor (owner_acceptor) while dropping, 0 = unknown */
	int64_t first_seen_ms;    /* wall clock, ms */
	int64_t last_seen_ms;
	uint32_t drops_first;     /* l.drops when first seen */
	uint32_t drops_delta;     /* drops since the previous tick (0 on the first) */
	uint64_t drops_total;     /* drops seen since first seen */
	uint32_t peak_queue;      /* highest queue seen */
	unsigned ticks_full;      /* consecutive ticks with the queue full (acceptq_full), no drain seen between */
	unsigned ticks_seen;
	/* ticks_seen at the newest history point whose queue was above half its backlog; 0 none (hot, in O(1)). */
	unsigned above_half_seen;
	/*
	 * Stalls: how long the queue has been seen full at every sample, tick
	 * or fast, with none seeing it drain. An application that accepts
	 * lets the queue dip below full; one that stopped (a blocked event
	 * loop, a GC pause, a stopped worker) keeps it full, arrivals or not.
	 */
	int64_t full_since_ms;    /* the first tick of the current full run; 0 when not full */
	uint64_t full_drops;      /* drops counted during the current full run */
	int64_t stall_ms;         /* the longest full run that ended lately (see TRACK_STALL_KEEP_MS) */
	int64_t stall_end_ms;     /* when it was last seen full; 0 none */
	uint64_t stall_drops;     /* drops counted during it */
	/*
	 * The history, read with tracked_hist. Most listeners of a big host
	 * are idle, every point the same: they keep that one point (hist_same)
	 * and no ring; the ring is allocated the first time a point differs,
	 * and freed with the listener.
	 */
	unsigned hist_len;        /* points kept, up to TRACK_HISTORY */
	unsigned hist_head;       /* next ring slot to write; newest at (hist_head + TRACK_HISTORY - 1) % TRACK_HISTORY */
	struct tick_point hist_same;  /* every point so far, while hist is NULL */
	struct tick_point *hist;  /* the ring (TRACK_HISTORY points), or NULL */
};

#define TRACK_GAPS_MAX 64
#define TRACK_KMSG_MAX 32
/* Process deaths the kernel logged, kept this long (and this many) for the gap they explain. */
#define TRACK_DEATHS_MAX 16
#define TRACK_DEATH_KEEP_MS 30000

/*
 * A process the kernel said it killed (a kmsg_is_death line), or one whose
 * exit event says it died by a crash signal or exited non-zero.
 */
struct proc_death {
	enum kmsg_kind kind;      /* the kernel's line; not set when by_exit */
	bool by_exit;             /* known from the exit event alone: the kernel logged no line */
	int exit_status;          /* by_exit: the status it exited with, -1 when a signal killed it */
	int pid;                  /* 0: none */
	char comm[KMSG_COMM_MAX];
	char signal[10];          /* "SIGSEGV", "" unknown (or, by_exit, it exited) */
	int64_t seen_ms;          /* the tick that read the line or the event */
};

/*
 * Whether an exit was a crash rather than a stop: SIGTERM, SIGINT, SIGQUIT
 * and SIGHUP (unhandled) are how systemctl stop/restart, Ctrl-C and
 * operators stop a server, and so are the statuses a runtime gives for
 * them (128+N: a JVM exits 143 on SIGTERM). Any other signal or non-zero
 * status is a crash; SIGKILL too (an operator may have sent it, but the
 * process got no say). Return: true for a crash.
 */
bool track_exit_is_crash(const struct proc_exit *e);

/*
 * An address:port whose last listener vanished: kept for a while so that a
 * restart gap (it came back) or an outage (it did not) can be told.
 */
struct listener_gap {
	uint8_t family;
	uint16_t port;
	uint8_t addr[16];
	char listener[LISTENER_NAME_MAX];
	struct owner old_owner;   /* who held it before it vanished */
	int64_t last_seen_ms;     /* the last tick it was there: the gap began after this */
	int64_t missing_ms;       /* the first tick it was missing */
	int64_t returned_ms;      /* the tick it was back, 0 while absent */
	uint64_t new_cookie;      /* the listener that came back, 0 while absent */
	int64_t out_rsts;         /* Tcp.OutRsts moved during the gap (so far, while absent), -1 unknown */
	int64_t out_rsts_base;    /* Tcp.OutRsts at the last tick it was there, -1 unknown */
	unsigned missing_ticks;   /* updates that found it absent (0 when replaced) */
	bool replaced;            /* a new socket within one tick (no tick saw it absent) */
	struct proc_death death;  /* the old holder's death, when the kernel logged it (pid 0: it did not) */
};

/* Host-wide samples other than the counters, kept for deltas. */
struct host_state {
	bool valid;
	struct sockstat ss;
	struct conntrack_stat ct;
	struct link_table links;
};

/* track_tick's sort keys, defined in track_int.h. */
struct track_key;
struct track_addr_key;

struct track {
	struct tracked *items;
	size_t count;
	size_t cap;
	uint64_t ticks;           /* ticks taken so far */
	int64_t now_ms;           /* time of the latest update */
	int64_t prev_ms;          /* time of the one before, 0 when none */
	struct counters host_prev;
	struct counters host_cur;
	bool have_prev;           /* host_prev is valid */
	struct limits limits;     /* limits in force at the latest update */
	struct host_state hs_prev;    /* the tick before */
	struct host_state hs_cur;
	struct kmsg_event kmsg[TRACK_KMSG_MAX];   /* kernel log events of this tick */
	size_t n_kmsg;
	const struct deep_sample *deep;  /* the deep tier of this tick, NULL when it did not run */
	struct listener_gap gaps[TRACK_GAPS_MAX]; /* oldest first; the oldest go when full */
	size_t n_gaps;
	struct proc_death deaths[TRACK_DEATHS_MAX];  /* recent, oldest first (track_gaps.c) */
	size_t n_deaths;
	struct proc_exit *exits;  /* scratch of track_gaps_exits: this tick's crash exits by pid */
	size_t exits_cap;
	size_t new_count;         /* listeners first seen in the latest tick */
	size_t gone_count;        /* listeners that vanished in the latest tick */
	size_t fast_full;         /* listeners whose fast samples saw the queue full when the latest tick did not */
	/*
	 * track_tick's sort keys, private to track.c and track_gaps.c: kept so that a steady
	 * tick allocates nothing; they grow only with the listener count.
	 */
	struct track_key *keys;
	size_t keys_cap;
	size_t keys_intact;       /* keys[0, keys_intact) are the latest dump's, sorted (0: not) */
	struct track_addr_key *addr_keys;
	size_t addr_keys_cap;
};

void track_init(struct track *t);
void track_free(struct track *t);

/*
 * Take one tick's sample: listeners matched by cookie (new ones added,
 * vanished ones removed) with their deltas, history and owners; gaps
 * opened and closed; host counters moved to host_prev/host_cur, host
 * samples to hs_prev/hs_cur; limits, kernel log events (the first
 * TRACK_KMSG_MAX) and the deep sample (kept as a pointer: it must stay
 * valid until the next tick) are this tick's; the fast samples fold into
 * the newest history point. Every write to t is made here.
 * Return: 0, or -ENOMEM with t as the previous tick left it.
 */
int track_tick(struct track *t, const struct tick_sample *s, int64_t now_ms);

/*
 * Before the tick, for the caller that resolves owners: true when now holds
 * the listeners of the latest tick in the same order (the steady state,
 * told in one pass). False may also mean the same listeners, reordered.
 */
bool track_same_listeners(const struct track *t, const struct listener_set *now);

/*
 * Before the tick: would track_tick count drops for l, a listener of the
 * dump about to be taken? (The owner's state is read only for those.)
 */
bool track_drops_moved(const struct track *t, const struct listener *l);

/*
 * Before the tick: true and *delta (next - the latest tick's, 0 if it went
 * backwards) when both have name, as track_host_delta will say after it.
 */
bool track_host_delta_to(const struct track *t, const struct counters *next, const char *name,
			 int64_t *delta);

/*
 * Forget every listener's owner (unknown until a tick gives them again):
 * for the caller whose owner source moved while no tick could hand out
 * the new ones, so that no report reads an owner that is gone.
 */
void track_forget_owners(struct track *t);

/* Return: the tracked listener with this cookie, or NULL. */
struct tracked *track_find(const struct track *t, uint64_t cookie);

/* Return: true and *delta (cur - prev, 0 if it went backwards) when both samples have name. */
bool track_host_delta(const struct track *t, const char *name, int64_t *delta);

/* Return: tr's owner; owner_unknown (nprocs 0) when none was set. */
static inline const struct owner *tracked_owner(const struct tracked *tr)
{
	return tr->owner ? tr->owner : &owner_unknown;
}

/* Return: how long tr's queue has been full with no drain seen, up to its latest tick; 0 when not full. */
static inline int64_t tracked_full_ms(const struct tracked *tr)
{
	/* A wall clock that stepped back makes no negative stall. */
	return tr->full_since_ms && tr->last_seen_ms > tr->full_since_ms ?
	       tr->last_seen_ms - tr->full_since_ms : 0;
}

/* Return: history point k ticks ago (0 = newest), or NULL past hist_len. */
const struct tick_point *tracked_hist(const struct tracked *tr, unsigned k);

#endif
