/* report.h: the JSON documents of the control protocol and --json output. */
#ifndef BACKLOGD_REPORT_H
#define BACKLOGD_REPORT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "finding_log.h"
#include "findings.h"
#include "fleet.h"
#include "monitor.h"
#include "sysctl.h"
#include "track.h"

/*
 * {inode, name, kind}: which network namespace a listener, finding, gap or
 * explain chain is about. inode 0, name "" and kind NULL are unknown (null).
 */
json_t *report_netns(uint64_t inode, const char *name, const char *kind);
/* {somaxconn, tcp_max_syn_backlog, tcp_syncookies, tcp_abort_on_overflow}; unknown is null. */
json_t *report_limits(const struct limits *lim);
/*
 * {address, port, family, listener, queue, backlog, peak_queue, drops, drops_delta,
 * processes:[{pid, comm, cmdline}], unit, user, owner_uid, ...}; no "netns" (the
 * documents below add it).
 */
json_t *report_listener(const struct tracked *tr);
json_t *report_listeners(const struct track *t);
/*
 * {cause, severity, listener, subject, pid, comm, unit, user, uid, cmdline, message,
 * remedy, state, first_seen, last_seen, evidence:{...}, netns} (netns from the
 * finding's own stamp, kind null).
 */
json_t *report_finding_entry(const struct finding_entry *e);
json_t *report_finding(const struct finding *f, const char *state, int64_t first_seen, int64_t last_seen);
json_t *report_findings(const struct finding_table *ft);
/* {counters: {ListenOverflows: {total, delta, per_sec}, ...}} */
json_t *report_host(const struct track *t);
/* {daemon:{...}, limits, host, listeners, findings, gaps}; one monitor, each entry with its "netns". */
json_t *report_status(const struct monitor *m, int64_t now);
/*
 * Evidence chain for "ADDR:PORT" or "PORT" (or "host", an interface, a
 * destination). Each chain's steps are {step, text}. Evidence steps give
 * numbers and owners and assert no cause: "listener", "backlog", "queue",
 * "drops", "syn queue", "gap" (a listener); "sockets", "conntrack",
 * "kernel", "interface", "destination" (other subjects). Then diagnose's
 * words: "clients" (a listener with an active finding: the first finding's
 * message, quoted), "finding" / "side effect" (cause, severity, message
 * unless "clients" quoted it, and the remedy), "evidence", "detail"; with
 * no active finding, one "finding" step saying the subject is healthy.
 * Return: NULL with err set when nothing matches.
 */
json_t *report_explain(const struct monitor *m, const char *target, char *err, size_t errlen);

/*
 * The documents for every namespace of a fleet. They read the monitors, so
 * call them from the thread that runs fleet_tick, between two ticks. A
 * member not ready yet is listed in namespaces[] only. Namespaces come host
 * (members[0]) first, then by name and inode.
 */

/*
 * {daemon:{...as report_status, listeners_count and findings_active summed,
 * namespaces_count, scan, scans, ns_added, ns_removed, scan_error},
 * limits, host (the host member's), listeners, findings (active first, then
 * resolved), gaps (each with "netns"), namespaces:[{inode, name, kind, pid,
 * ready, first_seen, ticks, limits, listeners_count, findings_active, last_error}]}
 * at now (wall clock, seconds). Return: NULL when out of memory.
 */
json_t *report_fleet_status(const struct fleet *fl, int64_t now);
/* Every namespace's listeners, flat, each with "netns". */
json_t *report_fleet_listeners(const struct fleet *fl);
/* Every namespace's findings, flat, active first, each with "netns". */
json_t *report_fleet_findings(const struct fleet *fl);
/*
 * The events of log at or after now - since (wall clock, seconds), oldest
 * first: {now, since, from, kept_from, capacity, kept, dropped, lost, bytes,
 * events:[{at, event, revised_from, cause, severity, priority, listener,
 * subject, message, remedy, first_seen, clients, netns}]}.
 * Return: NULL when out of memory.
 */
json_t *report_finding_events(const struct finding_log *log, int64_t now, int64_t since);
/*
 * report_explain over every namespace: {target, netns, chains:[{..., netns}]}.
 * "NETNS/TARGET" (a name or an inode, up to the last '/') looks in that one
 * only. Without it, listener matches from every namespace are kept; failing
 * those, subjects ("host", an interface) from the host namespace and from
 * namespaces with a finding on them; failing those, wildcard listeners.
 * Return: NULL with err set (unknown namespace, no match, bad target, memory).
 */
json_t *report_fleet_explain(const struct fleet *fl, const char *target, char *err, size_t errlen);
/*
 * What backlogctl top draws, at now (wall clock, seconds): {now, interval_ms,
 * history_ticks, daemon (as status has it, with history_kept,
 * history_bytes and history_not_kept), limits,
 * host, listeners:[{listener, netns, queue, backlog, full, drops_delta,
 * drops_per_sec, drops_minute, pid, comm, unit, history?}] (every listener
 * of every namespace, host first; "history" for those ever hot or
 * dropping), findings (the active ones)}. Return: NULL when out of memory.
 */
json_t *report_fleet_top(const struct fleet *fl, int64_t now);

#endif
