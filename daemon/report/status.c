/* status.c: one monitor's status document: the daemon's own numbers, the limits in force, and every list. */
#include "base.h"

#include <string.h>

#include "json.h"
#include "report.h"
#include "report_int.h"

/*
 * A sysctl made of several numbers is read from one file: one unknown part
 * means the file was not read, so the whole value is null rather than a
 * half-filled array.
 */
static json_t *jints_or_null(const int64_t *v, size_t n)
{
	json_t *arr;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i] < 0)
			return json_null();
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		rc |= append(arr, jint(v[i]));
	return finish(arr, rc);
}

/* Return: the limits object; unknown limits are null. */
json_t *report_limits(const struct limits *lim)
{
	const int64_t port_range[2] = { lim->port_range_lo, lim->port_range_hi };
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "somaxconn", jint_or_null(lim->somaxconn));
	rc |= put(o, "tcp_max_syn_backlog", jint_or_null(lim->tcp_max_syn_backlog));
	rc |= put(o, "tcp_syncookies", jint_or_null(lim->tcp_syncookies));
	rc |= put(o, "tcp_abort_on_overflow", jint_or_null(lim->tcp_abort_on_overflow));
	rc |= put(o, "ip_local_port_range", jints_or_null(port_range, ARRAY_SIZE(port_range)));
	rc |= put(o, "tcp_tw_reuse", jint_or_null(lim->tcp_tw_reuse));
	rc |= put(o, "tcp_max_tw_buckets", jint_or_null(lim->tcp_max_tw_buckets));
	rc |= put(o, "tcp_max_orphans", jint_or_null(lim->tcp_max_orphans));
	rc |= put(o, "tcp_mem", jints_or_null(lim->tcp_mem, ARRAY_SIZE(lim->tcp_mem)));
	rc |= put(o, "nf_conntrack_max", jint_or_null(lim->nf_conntrack_max));
	return finish(o, rc);
}

const struct limits *monitor_limits(const struct monitor *m)
{
	return m->track.ticks > 0 ? &m->track.limits : &m->limits;
}

/* The /proc files the latest tick could not read, by their path under the proc root. */
static json_t *unreadable_sources(const struct sources *s)
{
	json_t *a = json_array();
	int rc = a ? 0 : -1;

	for (int i = 0; a && i < SOURCE_COUNT; i++)
		if (sources_unreadable(s, (enum source)i))
			rc |= json_array_append_new(a, json_string(source_name((enum source)i)));
	return finish(a, rc);
}

json_t *report_daemon(const struct monitor *m, int64_t now)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "version", json_string(PACKAGE_VERSION));
	rc |= put(o, "now", jint(now));
	rc |= put(o, "started", jint(m->started));
	rc |= put(o, "uptime_s", jint(now > m->started ? now - m->started : 0));
	rc |= put(o, "ticks", json_integer((json_int_t)m->track.ticks));
	rc |= put(o, "tick_interval_ms", json_integer(m->cfg.tick_ms));
	rc |= put(o, "failed_ticks", json_integer((json_int_t)m->failed_ticks));
	rc |= put(o, "last_error", m->last_error ? json_string(strerror(-m->last_error)) : json_null());
	rc |= put(o, "listeners_count", json_integer((json_int_t)m->track.count));
	rc |= put(o, "findings_active", json_integer((json_int_t)findings_active(&m->findings)));
	rc |= put(o, "kernel_log", json_boolean(m->kmsg_following));
	rc |= put(o, "proc_events", json_boolean(m->proc_events));
	rc |= put(o, "rtnetlink", json_boolean(m->links != NULL));
	rc |= put(o, "bpf", json_boolean(m->bpf.on));
	rc |= put(o, "bpf_why", m->bpf.why[0] ? json_string(m->bpf.why) : json_null());
	rc |= put(o, "bpf_parts", m->bpf.on ? json_string(m->bpf.parts) : json_null());
	rc |= put(o, "bpf_events", json_integer((json_int_t)m->bpf.events));
	rc |= put(o, "bpf_lost", json_integer((json_int_t)m->bpf.lost));
	rc |= put(o, "bpf_unwatched_namespaces", json_integer((json_int_t)m->bpf.unwatched_ns));
	rc |= put(o, "event_ticks", json_integer((json_int_t)m->bpf.event_ticks));
	rc |= put(o, "listener_dumps", json_integer((json_int_t)m->dumps));
	rc |= put(o, "listener_dump_reason", m->dump_reason ? json_string(m->dump_reason) : json_null());
	rc |= put(o, "listeners_at", m->listeners_at_ms ? jint(m->listeners_at_ms / 1000) : json_null());
	rc |= put(o, "deep_runs", json_integer((json_int_t)m->deep_runs));
	rc |= put(o, "deep_reason", m->deep_ran && m->deep_reason ? json_string(m->deep_reason) : json_null());
	rc |= put(o, "unreadable", unreadable_sources(&m->sources));
	return finish(o, rc);
}

/* Return: {daemon, limits, host, listeners, findings, gaps} at now (wall clock, seconds). */
json_t *report_status(const struct monitor *m, int64_t now)
{
	struct ns_ref ns = monitor_ns(m);
	json_t *o = json_object();
	json_t *listeners = json_array(), *gaps = json_array();
	int rc = 0;

	rc |= put(o, "daemon", report_daemon(m, now));
	rc |= put(o, "limits", report_limits(monitor_limits(m)));
	rc |= put(o, "host", report_host(&m->track));
	rc |= put(o, "listeners", finish(listeners, listeners ? append_listeners(listeners, &m->track, &ns) : -1));
	rc |= put(o, "findings", findings_tagged(&m->findings, &ns));
	rc |= put(o, "gaps", finish(gaps, gaps ? append_gaps(gaps, &m->track, &ns) : -1));
	return finish(o, rc);
}
