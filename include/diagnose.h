/* diagnose.h: pure rules, (tracked history, limits) in, findings out. */
#ifndef BACKLOGD_DIAGNOSE_H
#define BACKLOGD_DIAGNOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "causes.h"
#include "listener.h"
#include "track.h"

struct diag_thresholds {
	/* slow-accept: the queue seen full by this many consecutive ticks (and 1.5 s), no drain between. */
	unsigned slow_accept_ticks;
	/* A drop counts as an overflow when the queue was seen full within this many ticks. */
	unsigned full_window_ticks;
	/* listener-gap: how long a vanished address:port is remembered, and reported. */
	unsigned gap_memory_secs;
	/* ephemeral-ports: sockets to one destination at this % of the port range. */
	unsigned ephemeral_pct;
	/* orphans: sockstat orphan at this % of tcp_max_orphans. */
	unsigned orphans_pct;
	/* conntrack-full: nf_conntrack_count at this % of nf_conntrack_max. */
	unsigned conntrack_pct;
	/* reuseport-imbalance: the other members' queues below this % of their backlog. */
	unsigned reuseport_room_pct;
	/* link-drops: rx_dropped alone must rise this much in a tick (missed/fifo: any). */
	unsigned link_dropped_min;
};

#define FINDING_SUBJECT_MAX 192
#define FINDING_TEXT_MAX 640
#define FINDING_DETAIL_MAX 1024
#define FINDING_EXTRA_MAX 12
/* "ip netns exec red", "nsenter -t 812 -n": the monitor's netns_enter fits. */
#define FINDING_NETNS_ENTER_MAX 112

/* A named number of evidence beyond the accept-queue ones ("orphans", "tcp_max_orphans"). */
struct evidence_item {
	char name[32];             /* lower_snake_case; the journal field is BACKLOGD_ + upper case */
	int64_t value;
};

struct finding_evidence {
	uint32_t drops_delta;      /* this tick */
	uint64_t drops_total;      /* since the listener was first seen */
	uint32_t queue;
	uint32_t backlog;
	uint32_t peak_queue;
	unsigned ticks_full;
	int64_t somaxconn;
	int64_t abort_on_overflow;
	int64_t host_overflows;    /* TcpExt.ListenOverflows delta this tick, -1 unknown */
	char owner_state;          /* 0 unknown */
};

/* One peer the eBPF tier saw dropped (or refused) at the finding's listener. */
struct finding_client {
	uint8_t family;            /* AF_INET or AF_INET6 */
	uint8_t addr[16];          /* network byte order; IPv4 in the first 4 bytes */
	uint16_t port;             /* its latest source port, host byte order */
	uint64_t count;            /* packets dropped (a retransmitted SYN counts again, as in ListenOverflows) */
	int64_t first_ms;          /* wall clock, milliseconds */
	int64_t last_ms;
};

#define FINDING_CLIENTS_MAX 8

/*
 * Who the listener dropped or refused, stamped by the monitor from the
 * eBPF tier (diagnose leaves it zero). The busiest peers by count, and
 * the totals over every peer, named or not.
 */
struct finding_clients {
	bool known;                /* false: the tier was off, or saw nothing for this listener */
	size_t n;
	struct finding_client top[FINDING_CLIENTS_MAX];
	uint64_t total;            /* packets, every peer */
	uint64_t peers;            /* distinct peers counted (>= n); a lower bound past the book's bound */
	int64_t first_ms;          /* the first and last packet, wall clock, milliseconds */
	int64_t last_ms;
};

/*
 * The rule's own sentences, without the side-effect and namespace clauses:
 * every consumer reads them through finding_words() (finding_text.h), which
 * adds those clauses once.
 */
struct finding_body {
	char happened[FINDING_TEXT_MAX];   /* what happened and what clients saw, one sentence */
	char fix[FINDING_TEXT_MAX];        /* the exact knob, current and suggested values */
};

struct finding {
	enum cause cause;
	enum cause underlying;     /* for overflow-reset: the overflow's own cause; else == cause */
	enum finding_scope scope;
	/* CAUSE_NONE: a cause in its own right; else the cause it is a side effect of. */
	enum cause explained_by;
	/* The explaining finding's key ("127.0.0.1:8080", "10.0.0.5:5432"); "" when that one is host-wide. */
	char explained_by_key[LISTENER_NAME_MAX];
	enum severity priority;    /* the journal's PRIORITY (syslog numbers) */
	char listener[LISTENER_NAME_MAX];   /* the key with cause: "127.0.0.1:8080", "host", "eth0", "10.0.0.5:5432" (see scope) */
	char subject[FINDING_SUBJECT_MAX];  /* "127.0.0.1:8080 nginx[812] nginx.service" */
	uint64_t cookie;
	uint32_t inode;
	int pid;                   /* first owner, 0 unknown */
	char comm[16];
	char unit[128];
	/* The owner's account and command line, for the journal and explain; "" unknown. */
	char user[OWNER_USER_MAX];
	int64_t uid;               /* meaningful only when user[0] is set */
	char cmdline[OWNER_CMDLINE_MAX];
	struct finding_evidence ev;
	struct finding_body body;  /* read through finding_words() */
	char knob[64];             /* "net.core.somaxconn", "listen() backlog", ... */
	int64_t knob_current;      /* -1 unknown */
	int64_t knob_suggested;    /* -1 none */
	struct evidence_item extra[FINDING_EXTRA_MAX];
	size_t n_extra;
	/* The namespace, stamped by the monitor (diagnose leaves them zero). */
	uint64_t netns_inode;
	char netns_name[96];
	char netns_enter[FINDING_NETNS_ENTER_MAX];  /* how to enter it for the remedy; "" for ours */
	char detail[FINDING_DETAIL_MAX];    /* lists: top memory holders, per-state counts, ... ("" none) */
	/* accept-queue family: the peers dropped; listener-gap: the peers refused. */
	struct finding_clients clients;
};

struct finding_list {
	struct finding *items;
	size_t count;
	size_t cap;
};

void finding_list_init(struct finding_list *fl);
void finding_list_clear(struct finding_list *fl);
void finding_list_free(struct finding_list *fl);

/* The default thresholds: the one place their numbers are written (config starts from these). */
void diag_thresholds_default(struct diag_thresholds *thr);

/* Return: true when f is a side effect of another finding's cause (explained_by). */
bool finding_is_side_effect(const struct finding *f);

/*
 * Run every rule over t (listeners with their history, host counters,
 * t->limits). out is cleared first. Pure: no I/O, no clock.
 * Return: 0 or -ENOMEM.
 */
int diagnose(const struct track *t, const struct diag_thresholds *thr, struct finding_list *out);

/* The signs of short TCP memory in one tick, however the caller came by them. */
struct tcp_memory_signs {
	int64_t mem_pages;         /* sockstat "mem"; -1 unknown */
	int64_t pressure_pages;    /* tcp_mem[1]; <= 0 unknown */
	int64_t pressures;         /* TcpExt.TCPMemoryPressures this tick; -1 unknown */
	int64_t aborts;            /* TcpExt.TCPAbortOnMemory this tick; -1 unknown */
	size_t ooms;               /* kernel log lines "out of memory -- consider tuning tcp_mem" */
};

/*
 * The one rule for "TCP memory is short": sockstat mem at tcp_mem's
 * pressure threshold, TCPMemoryPressures or TCPAbortOnMemory moved, or the
 * kernel logged that it ran out. tcp-memory fires on it after the tick;
 * deep_policy_memory_short asks it before, to name the memory holders.
 */
bool tcp_memory_short(const struct tcp_memory_signs *sg);
/* tcp_memory_short() on t's latest tick. */
bool diagnose_tcp_memory_short(const struct track *t);

#endif
