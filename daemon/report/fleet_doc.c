/* fleet_doc.c: the status, listeners and findings documents over every namespace of a fleet. */
#include "base.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "netns.h"
#include "report.h"
#include "report_int.h"

static int cmp_member_ptr(const void *pa, const void *pb)
{
	const struct fleet_member *a = *(const struct fleet_member *const *)pa;
	const struct fleet_member *b = *(const struct fleet_member *const *)pb;
	int c = strncmp(a->ns.name, b->ns.name, sizeof(a->ns.name));

	if (c)
		return c;
	return a->ns.inode < b->ns.inode ? -1 : a->ns.inode > b->ns.inode ? 1 : 0;
}

const struct fleet_member **ordered_members(const struct fleet *fl, size_t *n, bool *oom)
{
	const struct fleet_member **v;
	size_t k = 0;

	*n = 0;
	*oom = false;
	if (!fl->members || fl->count == 0)
		return NULL;
	v = calloc(fl->count, sizeof(*v));
	if (!v) {
		*oom = true;
		return NULL;
	}
	for (size_t i = 0; i < fl->count; i++)
		if (fl->members[i])
			v[k++] = fl->members[i];
	if (k > 1) {
		/* members[0] stays first only when it is there; a hole there leaves no host to pin. */
		size_t from = fl->members[0] ? 1 : 0;

		qsort(v + from, k - from, sizeof(*v), cmp_member_ptr);
	}
	*n = k;
	if (k == 0) {
		free(v);
		return NULL;
	}
	return v;
}

/* The host member, ready, or NULL: limits and host counters come from it. */
const struct fleet_member *host_member(const struct fleet *fl)
{
	if (!fl->members || fl->count == 0 || !fl->members[0] || !fl->members[0]->ready)
		return NULL;
	return fl->members[0];
}

/* Member i's namespace refs, kept alive for as long as entries point at them. */
static struct ns_ref *member_refs(const struct fleet_member **v, size_t n)
{
	struct ns_ref *refs = n ? calloc(n, sizeof(*refs)) : NULL;

	for (size_t i = 0; refs && i < n; i++)
		refs[i] = member_ns(v[i]);
	return refs;
}

/* Append every ready member's listeners to a. Return: 0 or -1. */
static int fleet_append_listeners(json_t *a, const struct fleet_member **v, const struct ns_ref *refs, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i]->ready)
			rc |= append_listeners(a, &v[i]->mon.track, &refs[i]);
	return rc;
}

/* Append every ready member's findings to a, active first across namespaces. Return: 0 or -1. */
static int fleet_append_findings(json_t *a, const struct fleet_member **v, const struct ns_ref *refs, size_t n)
{
	struct entry_vec ev = { 0 };
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		if (v[i]->ready)
			rc |= entries_add(&ev, &v[i]->mon.findings, &refs[i], i);
	if (rc == 0)
		rc |= append_entries(a, &ev);
	free(ev.items);
	return rc;
}

static int fleet_append_gaps(json_t *a, const struct fleet_member **v, const struct ns_ref *refs, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i]->ready)
			rc |= append_gaps(a, &v[i]->mon.track, &refs[i]);
	return rc;
}

/*
 * One entry of namespaces[]. A member whose monitor is not ready has no
 * numbers yet: they are null, not zero, so that "no listeners" is not
 * claimed for a namespace nobody has looked at.
 */
static json_t *report_namespace(const struct fleet_member *fm)
{
	const struct monitor *m = &fm->mon;
	bool ready = fm->ready;
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "inode", fm->ns.inode ? ju64(fm->ns.inode) : json_null());
	rc |= put(o, "name", JSTR_OR_NULL(fm->ns.name));
	rc |= put(o, "kind", json_string(netns_kind_name(fm->ns.kind)));
	rc |= put(o, "pid", fm->ns.pid > 0 ? json_integer(fm->ns.pid) : json_null());
	rc |= put(o, "ready", json_boolean(ready));
	rc |= put(o, "first_seen", fm->first_seen > 0 ? jint(fm->first_seen) : json_null());
	rc |= put(o, "ticks", ready ? json_integer((json_int_t)m->track.ticks) : json_null());
	rc |= put(o, "limits", ready ? report_limits(monitor_limits(m)) : json_null());
	rc |= put(o, "listeners_count", ready ? json_integer((json_int_t)m->track.count) : json_null());
	rc |= put(o, "findings_active", ready ?
		  json_integer((json_int_t)findings_active(&m->findings)) : json_null());
	rc |= put(o, "failed_ticks", ready ? json_integer((json_int_t)m->failed_ticks) : json_null());
	rc |= put(o, "last_error", ready && m->last_error ? json_string(strerror(-m->last_error)) : json_null());
	return finish(o, rc);
}

static int fleet_append_namespaces(json_t *a, const struct fleet_member **v, const struct ns_ref *refs, size_t n)
{
	int rc = 0;

	(void)refs;
	for (size_t i = 0; i < n; i++)
		rc |= append(a, report_namespace(v[i]));
	return rc;
}

/* Return: one array built by fill over the ordered members, or NULL when anything is missing. */
json_t *fleet_array(const struct fleet *fl, fleet_fill fill)
{
	size_t n;
	bool oom;
	const struct fleet_member **v = ordered_members(fl, &n, &oom);
	struct ns_ref *refs = member_refs(v, n);
	json_t *a = json_array();
	int rc = oom || (n > 0 && !refs) || !a ? -1 : 0;

	if (rc == 0)
		rc |= fill(a, v, refs, n);
	free(refs);
	free(v);
	return finish(a, rc);
}

/* Return: every namespace's listeners, flat, host first, each with "netns". */
json_t *report_fleet_listeners(const struct fleet *fl)
{
	return fleet_array(fl, fleet_append_listeners);
}

/* Return: every namespace's findings, flat, active first, each with "netns". */
json_t *report_fleet_findings(const struct fleet *fl)
{
	return fleet_array(fl, fleet_append_findings);
}

/* Without a ready host monitor, the daemon object holds only what the fleet knows. */
static json_t *daemon_without_host(int64_t now)
{
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "version", json_string(PACKAGE_VERSION));
	rc |= put(o, "now", jint(now));
	rc |= put(o, "ticks", json_integer(0));
	rc |= put(o, "last_error", json_null());
	return finish(o, rc);
}

/*
 * The host monitor's daemon object, with the counts summed over every
 * namespace (the header and the flat lists must agree) and the fleet's own
 * numbers.
 */
json_t *report_fleet_daemon(const struct fleet *fl, int64_t now)
{
	const struct fleet_member *host = host_member(fl);
	size_t listeners = 0, active = 0, n = 0, kept = 0, bytes = 0, not_kept = 0;
	unsigned long fast_dumps = 0, fast_full = 0;
	json_t *o = host ? report_daemon(&host->mon, now) : daemon_without_host(now);
	int rc = 0;

	if (!o)
		return NULL;
	for (size_t i = 0; fl->members && i < fl->count; i++) {
		const struct fleet_member *fm = fl->members[i];

		if (!fm)
			continue;
		n++;
		if (!fm->ready)
			continue;
		listeners += fm->mon.track.count;
		active += findings_active(&fm->mon.findings);
		fast_dumps += fm->mon.fast_dumps;
		fast_full += fm->mon.fast_full;
		kept += fm->mon.qhist.count;
		bytes += qhist_bytes(&fm->mon.qhist);
		not_kept += fm->mon.qhist.not_kept;
	}
	rc |= put(o, "fast_interval_ms", json_integer(fl->cfg.fast_ms));
	rc |= put(o, "fast_dumps", json_integer((json_int_t)fast_dumps));
	rc |= put(o, "fast_full", json_integer((json_int_t)fast_full));
	rc |= put(o, "listeners_count", json_integer((json_int_t)listeners));
	rc |= put(o, "findings_active", json_integer((json_int_t)active));
	rc |= put(o, "namespaces_count", json_integer((json_int_t)n));
	/* The history top and explain draw: listeners kept, the memory they take, hot ones not kept. */
	rc |= put(o, "history_kept", json_integer((json_int_t)kept));
	rc |= put(o, "history_bytes", json_integer((json_int_t)bytes));
	rc |= put(o, "history_not_kept", json_integer((json_int_t)not_kept));
	rc |= put(o, "namespaces_found", json_integer((json_int_t)fl->ns_found));
	rc |= put(o, "namespaces_skipped", json_integer((json_int_t)fl->ns_skipped));
	rc |= put(o, "namespaces_cap", json_integer((json_int_t)fl->cfg.max_namespaces));
	/* Why some were skipped: the open-file limit is told apart from the configured cap. */
	rc |= put(o, "namespaces_capped", !fl->capped ? json_null() :
		  json_string(fl->fd_short ? "open files" : "max_namespaces"));
	rc |= put(o, "scan", json_boolean(fl->scan));
	rc |= put(o, "scans", json_integer((json_int_t)fl->scans));
	rc |= put(o, "ns_added", json_integer((json_int_t)fl->ns_added));
	rc |= put(o, "ns_removed", json_integer((json_int_t)fl->ns_removed));
	rc |= put(o, "scan_error", fl->last_scan_error ? json_string(strerror(-fl->last_scan_error)) : json_null());
	return finish(o, rc);
}

/* Return: the status of every namespace at now (wall clock, seconds); see report.h. */
json_t *report_fleet_status(const struct fleet *fl, int64_t now)
{
	const struct fleet_member *host = host_member(fl);
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "daemon", report_fleet_daemon(fl, now));
	rc |= put(o, "limits", host ? report_limits(monitor_limits(&host->mon)) : json_null());
	rc |= put(o, "host", host ? report_host(&host->mon.track) : json_null());
	rc |= put(o, "listeners", fleet_array(fl, fleet_append_listeners));
	rc |= put(o, "findings", fleet_array(fl, fleet_append_findings));
	rc |= put(o, "gaps", fleet_array(fl, fleet_append_gaps));
	rc |= put(o, "namespaces", fleet_array(fl, fleet_append_namespaces));
	return finish(o, rc);
}
