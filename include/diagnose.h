/* diagnose.h: pure rules, (tracked history, limits) in, findings out. */
#ifndef BACKLOGD_DIAGNOSE_H
#define BACKLOGD_DIAGNOSE_H

#include <stddef.h>
#include <stdint.h>
#include "listener.h"
#include "track.h"

/* Stable codes: journal, JSON and metrics use them. */
enum cause {
	CAUSE_BACKLOG_CLAMPED,
	CAUSE_BACKLOG_SMALL,
	CAUSE_SLOW_ACCEPT,
	CAUSE_OVERFLOW_RESET,
	CAUSE_SYN_QUEUE_DROP,
	CAUSE_SYN_FLOOD,
	CAUSE_LISTENER_GAP,
	CAUSE_REUSEPORT_IMBALANCE,
	CAUSE_EPHEMERAL_PORTS,
	CAUSE_TIMEWAIT_OVERFLOW,
	CAUSE_TCP_MEMORY,
	CAUSE_ORPHANS,
	CAUSE_CONNTRACK_FULL,
	CAUSE_LINK_DROPS,
	CAUSE_COUNT
};

/* What a finding is about: its key (finding.listener) is named for it. */
enum finding_scope {
	SCOPE_LISTENER,     /* "127.0.0.1:8080" */
	SCOPE_HOST,         /* "host" */
	SCOPE_INTERFACE,    /* "eth0" */
	SCOPE_DESTINATION,  /* "10.0.0.5:5432", the remote end of client sockets */
};

/* "listener", "host", "interface", "destination". */
const char *scope_name(enum finding_scope s);

/* "backlog-clamped", ... Return: NULL for an out-of-range cause. */
const char *cause_code(enum cause c);
/* The catalogued 128-bit MESSAGE_ID, 32 hex digits. */
const char *cause_message_id(enum cause c);
/* Return: the cause with this code, or -1. */
int cause_from_code(const char *code);

struct diag_thresholds {
	/* Queue full this many consecutive ticks while dropping: slow-accept. */
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

struct finding {
	enum cause cause;
	enum cause underlying;     /* for overflow-reset: the overflow's own cause; else == cause */
	enum finding_scope scope;
	int explained_by;          /* -1: a cause in its own right; else the enum cause it is a side effect of */
	int priority;              /* syslog priority: LOG_ERR, LOG_WARNING, ... */
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
	char message[FINDING_TEXT_MAX];     /* what happened and what clients saw */
	char remedy[FINDING_TEXT_MAX];      /* the exact knob, current and suggested values */
	char knob[64];             /* "net.core.somaxconn", "listen() backlog", ... */
	int64_t knob_current;      /* -1 unknown */
	int64_t knob_suggested;    /* -1 none */
	struct evidence_item extra[FINDING_EXTRA_MAX];
	size_t n_extra;
	uint64_t netns_inode;      /* the namespace, stamped by the monitor (diagnose leaves 0) */
	char netns_name[96];
	char detail[FINDING_DETAIL_MAX];    /* lists: top memory holders, per-state counts, ... ("" none) */
};

struct finding_list {
	struct finding *items;
	size_t count;
	size_t cap;
};

void finding_list_init(struct finding_list *fl);
void finding_list_clear(struct finding_list *fl);
void finding_list_free(struct finding_list *fl);

void diag_thresholds_default(struct diag_thresholds *thr);

/*
 * Run every rule over t (listeners with their history, host counters,
 * t->limits). out is cleared first. Pure: no I/O, no clock.
 * Return: 0 or -ENOMEM.
 */
int diagnose(const struct track *t, const struct diag_thresholds *thr, struct finding_list *out);

/*
 * TCP memory is short in t's latest tick: sockstat mem at tcp_mem's
 * pressure threshold, TCPMemoryPressures or TCPAbortOnMemory moved, or the
 * kernel logged "out of memory -- consider tuning tcp_mem". When
 * tcp-memory fires, and when the monitor names the deep tier's holders.
 */
bool diagnose_tcp_memory_short(const struct track *t);

#endif
