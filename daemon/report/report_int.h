/* report_int.h: what the report documents share among their files; include/report.h is what other modules see. */
#ifndef BACKLOGD_REPORT_INT_H
#define BACKLOGD_REPORT_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diagnose.h"
#include "findings.h"
#include "fleet.h"
#include "monitor.h"
#include "qhist.h"
#include "track.h"

/* ---- nsref.c: which namespace a document's entries belong to ---- */

/* The namespace as the caller knows it: a fleet member (with its kind) or a lone monitor (kind unknown). */
struct ns_ref {
	uint64_t inode;
	const char *name;         /* NUL-terminated within NETNS_NAME_MAX */
	const char *kind;         /* NULL when unknown */
};

/* Set "netns" on o (an object) when ns is given. Return: 0 or -1. */
int tag_netns(json_t *o, const struct ns_ref *ns);
/* Return: o tagged with ns, or NULL (o released) when o is NULL or the tag could not be set. */
json_t *tagged(json_t *o, const struct ns_ref *ns);
/* A lone monitor's namespace: what it was told, kind unknown. */
struct ns_ref monitor_ns(const struct monitor *m);
/* A fleet member's namespace, kind included. */
struct ns_ref member_ns(const struct fleet_member *fm);

/* ---- listeners.c ---- */

/* The owner's processes that were recorded (nprocs, capped at OWNER_MAX_PROCS). */
unsigned owner_nprocs(const struct owner *ow);
/*
 * The tracked listeners in a stable order (port, family, address).
 * Return: a malloc'd array of t->count pointers, NULL when empty or out of memory.
 */
const struct tracked **sorted_tracked(const struct track *t);
/* Append t's listeners to a, sorted, each tagged with ns (NULL: no tag). Return: 0 or -1. */
int append_listeners(json_t *a, const struct track *t, const struct ns_ref *ns);

/* ---- findings_doc.c ---- */

/*
 * A finding's message and remedy come from finding_words() (core/finding_text.c)
 * only: report code adds no words of its own about side effects or namespaces.
 */
/* Return: the cause f is a side effect of, or CAUSE_NONE when f is a cause in its own right. */
enum cause side_effect_of(const struct finding *f);

/* "backlog-clamped", ...; "unknown" out of range. */
const char *cause_name(enum cause c);
/* syslog priority as the journal's severity word: "err", "warning", ... */
const char *severity_name(int priority);

/*
 * The entries of ft, active first, then by first_seen, as a malloc'd array
 * of pointers. Return: NULL when empty or out of memory (*n = 0 then).
 */
const struct finding_entry **sorted_entries(const struct finding_table *ft, size_t *n);

/* Finding entries gathered from several tables, each with the namespace it came from. */
struct entry_ref {
	const struct finding_entry *e;
	const struct ns_ref *ns;  /* NULL: no tag */
	size_t ns_order;          /* the namespace's place in the document */
};

struct entry_vec {
	struct entry_ref *items;
	size_t count;
	size_t cap;
};

/* Add every entry of ft. Return: 0 or -1 when out of memory. */
int entries_add(struct entry_vec *ev, const struct finding_table *ft, const struct ns_ref *ns, size_t ns_order);
/* Sort ev (active first, by first_seen, then by namespace) and append each entry, tagged, to a. Return: 0 or -1. */
int append_entries(json_t *a, struct entry_vec *ev);
/* The findings of ft, each tagged with ns (NULL: its own stamp), active first. */
json_t *findings_tagged(const struct finding_table *ft, const struct ns_ref *ns);

/* ---- host.c ---- */

/* The counters the host document (and the metrics) show, "TcpExt.ListenOverflows", ...: host_counter_count of them. */
extern const char *const host_counter_names[];
extern const size_t host_counter_count;

/* A counter's rise since the previous sample; one that went backwards (a reset) rose by 0. */
uint64_t counter_rise(uint64_t cur, uint64_t prev);
/* The same interface in the previous sample (same index and name), or NULL. */
const struct link_stat *prev_link(const struct track *t, const struct link_stat *cur);
/* "syn-flood", "conntrack-full", "tcp-oom", "orphans". */
const char *kmsg_kind_name(enum kmsg_kind k);

/* ---- gaps.c ---- */

/* How long the address:port went without a listener, at most (until now_ms while still missing). */
int64_t gap_ms(const struct listener_gap *g, int64_t now_ms);
/* When the gap was noticed: the first tick without it, or the tick that found a new socket. */
int64_t gap_noticed_ms(const struct listener_gap *g);
/* Append t's gaps to a, oldest first, each tagged with ns. Return: 0 or -1. */
int append_gaps(json_t *a, const struct track *t, const struct ns_ref *ns);

/* ---- status.c ---- */

/* The limits the latest tick used; before any tick, whatever monitor_init read. */
const struct limits *monitor_limits(const struct monitor *m);
/* One monitor's "daemon" object at now (wall clock, seconds). */
json_t *report_daemon(const struct monitor *m, int64_t now);

/* ---- fleet_doc.c ---- */

/*
 * The members in document order: the host (members[0]) first, the others by
 * name then inode, so that output does not reshuffle as namespaces come and
 * go. Return: a malloc'd array of *n pointers; NULL with *n = 0 when there
 * are none, or when out of memory (then *oom is set).
 */
const struct fleet_member **ordered_members(const struct fleet *fl, size_t *n, bool *oom);
/* The host member, ready, or NULL: limits and host counters come from it. */
const struct fleet_member *host_member(const struct fleet *fl);
/*
 * The daemon object of status and top: the host monitor's, with the counts
 * summed over every namespace and the fleet's own numbers.
 */
json_t *report_fleet_daemon(const struct fleet *fl, int64_t now);
/* Appends to an array from the ordered members v[0..n) and their refs. Return: 0 or -1. */
typedef int (*fleet_fill)(json_t *a, const struct fleet_member **v, const struct ns_ref *refs, size_t n);
/* Return: one array built by fill over the ordered members, or NULL when anything is missing. */
json_t *fleet_array(const struct fleet *fl, fleet_fill fill);

/* ---- history.c ---- */

/* {"backlog", "queue":[...], "drops":[...]}, oldest first; NULL when out of memory. */
json_t *report_history(const struct qhist_entry *e);
/* How many of the newest points make a minute at the tick interval tick_ms (1..QHIST_POINTS). */
unsigned history_minute_points(unsigned tick_ms);

#endif
