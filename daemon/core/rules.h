/* rules.h: what the rule files share: one diagnose() run's context, and the helpers that fill a finding. */
#ifndef BACKLOGD_CORE_RULES_H
#define BACKLOGD_CORE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diagnose.h"
#include "sbuf.h"

/* One diagnose() run: the track, the thresholds in force, and the host counters' deltas of this tick. */
struct ctx {
	const struct track *t;
	const struct limits *lim;
	struct diag_thresholds th;
	struct finding_list *out;
	/* Deltas since the previous tick; -1 when the counter was not read on both. */
	int64_t overflows;         /* TcpExt.ListenOverflows */
	int64_t listen_drops;      /* TcpExt.ListenDrops */
	int64_t reqq_drop;         /* TcpExt.TCPReqQFullDrop */
	int64_t reqq_cookies;      /* TcpExt.TCPReqQFullDoCookies */
	int64_t cookies_sent;      /* TcpExt.SyncookiesSent */
	int64_t tw_overflow;       /* TcpExt.TCPTimeWaitOverflow */
	int64_t mem_pressures;     /* TcpExt.TCPMemoryPressures */
	int64_t abort_mem;         /* TcpExt.TCPAbortOnMemory */
	int64_t out_rsts;          /* Tcp.OutRsts */
};

/* The rules, in the order diagnose() runs them; each returns 0 or -ENOMEM. */
int rule_accept_queue(struct ctx *c);      /* rules_accept.c */
int rule_syn_queue_drop(struct ctx *c);    /* rules_syn.c */
int rule_syn_flood(struct ctx *c);
int rule_listener_gap(struct ctx *c);      /* rules_gaps.c */
int rule_ephemeral_ports(struct ctx *c);   /* rules_host.c */
int rule_timewait_overflow(struct ctx *c);
int rule_tcp_memory(struct ctx *c);
int rule_orphans(struct ctx *c);
int rule_conntrack_full(struct ctx *c);
int rule_link_drops(struct ctx *c);

/*
 * reuseport-imbalance, asked by the accept-queue rule for each overflowing
 * socket tr: a finding when tr is the only member of its SO_REUSEPORT group
 * without room. Return: 0 or -ENOMEM.
 */
int rule_reuseport_member(struct ctx *c, const struct tracked *tr);

/*
 * What tells a SYN flood from a burst of legitimate clients: the namespace's
 * cookie counters of one tick and, when the question is about one listener,
 * its own requests. Filled by rule_syn_flood from the track and by chain.c
 * from a syn-flood finding's evidence, so both ask the same question.
 */
struct syn_flood_signs {
	int64_t cookies_sent;      /* TcpExt.SyncookiesSent delta; -1 unknown */
	int64_t cookies_recv;      /* TcpExt.SyncookiesRecv delta; -1 unknown */
	int64_t syn_recv;          /* the listener's requests in SYN_RECV; -1 unknown or no listener */
	int64_t backlog;           /* its backlog, which is its SYN queue's length; -1 no listener */
};

/* Return: true when the signs prove SYNs that do not complete (rules_syn.c says which and why). */
bool syn_flood_proven(const struct syn_flood_signs *s);

/* The causal chain (chain.c): mark side effects, then put primaries first. */
void chain_explain(struct finding_list *out);

/* ---- filling a finding (diagnose.c) ---- */

/* Delta of a host counter this tick; -1 when it was not read on both ticks. */
int64_t host_delta(const struct track *t, const char *name);

/*
 * A finding of cause, with its usual scope and severity from the cause
 * table, ready for its rule to fill: a cause in its own right, no knob yet.
 * Return: NULL when out of memory.
 */
struct finding *new_finding(struct ctx *c, enum cause cause);
/* One named number of evidence; past FINDING_EXTRA_MAX the rest are left out. */
void add_ev(struct finding *f, const char *name, int64_t value);
void set_knob(struct finding *f, const char *knob, int64_t cur, int64_t sug);
/* A key that is no listener: "eth0", "10.0.0.5:5432"; the subject is the key. */
void set_key(struct finding *f, const char *key);
/* The finding is about the whole host: key "host", scope SCOPE_HOST. */
void set_host(struct finding *f);
/* The listener's numbers in the common evidence, for rules about one listener. */
void listener_evidence(struct finding *f, const struct tracked *tr);
/* Return: true when out already holds a finding of cause on key. */
bool have_finding(const struct finding_list *out, enum cause cause, const char *key);
/* Kernel log lines of this kind read this tick. */
size_t count_kmsg(const struct track *t, enum kmsg_kind kind);

/* ---- who a finding is about (subject.c) ---- */

static inline bool owner_known(const struct tracked *tr)
{
	return tracked_owner(tr)->nprocs > 0;
}

/* "nginx[812]" or "nginx[812] +3 more"; nothing when the owner is unknown. */
void who_owner(const struct owner *o, struct sbuf *sb);
/* "nginx[812]", or unknown when nobody could resolve the owner (o may be NULL). */
void owner_or(struct sbuf *sb, const struct owner *o, const char *unknown);
/* Who to name in a sentence: tr's owner, or "the application behind KEY" when it is unknown. */
void actor(const struct tracked *tr, const struct finding *f, struct sbuf *sb);
/* Key, cookie, owner and subject of a finding about the tracked listener tr. */
void fill_identity(struct finding *f, const struct tracked *tr);
/* The same from an owner that may belong to a socket no longer tracked (a vanished listener). */
void owner_identity(struct finding *f, const char *key, const struct owner *o, uint64_t cookie,
		    uint32_t inode);

/* ---- the backlog the remedies suggest (rules_accept.c) ---- */

/* The listen() backlog to suggest when at least want requests must fit; -1 when none is bigger. */
int64_t suggest_backlog(const struct limits *lim, int64_t backlog, int64_t want);

static inline bool somaxconn_known(const struct limits *lim)
{
	return lim->somaxconn >= 0;
}

static inline int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static inline int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

#endif
