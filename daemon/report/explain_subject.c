/* explain_subject.c: the evidence chains for subjects with no live listener: the host, an interface, a destination, a vanished address:port. */
#include "base.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "explain_int.h"
#include "listener.h"
#include "report_int.h"
#include "tcp_state.h"

/* Sockets against their limits: the numbers behind orphans, timewait-overflow and tcp-memory. */
static int step_sockets(json_t *steps, const struct track *t)
{
	const struct sockstat *ss = &t->hs_cur.ss;
	const struct limits *lim = &t->limits;
	char b[9][24];

	return step(steps, "sockets", "TCP sockets in use %s (IPv6 %s); orphaned %s of net.ipv4.tcp_max_orphans %s; "
		    "TIME_WAIT %s of net.ipv4.tcp_max_tw_buckets %s; memory %s pages, net.ipv4.tcp_mem "
		    "pressure at %s, hard limit %s",
		    fmt_i64(ss->tcp_inuse, b[0], 24), fmt_i64(ss->tcp6_inuse, b[1], 24),
		    fmt_i64(ss->tcp_orphan, b[2], 24), fmt_i64(lim->tcp_max_orphans, b[3], 24),
		    fmt_i64(ss->tcp_tw, b[4], 24), fmt_i64(lim->tcp_max_tw_buckets, b[5], 24),
		    fmt_i64(ss->tcp_mem, b[6], 24), fmt_i64(lim->tcp_mem[1], b[7], 24),
		    fmt_i64(lim->tcp_mem[2], b[8], 24));
}

static int step_conntrack(json_t *steps, const struct track *t)
{
	const struct conntrack_stat *ct = &t->hs_cur.ct;
	const struct conntrack_stat *pv = &t->hs_prev.ct;
	char drops[160] = "", count[24], max[24];

	if (!ct->present)
		return step(steps, "conntrack", "no connection tracking table (nf_conntrack is not loaded)");
	if (ct->have_stat && t->hs_prev.valid && pv->have_stat)
		snprintf(drops, sizeof(drops), "; this tick: drop +%" PRIu64 ", early_drop +%" PRIu64
			 ", insert_failed +%" PRIu64, counter_rise(ct->drop, pv->drop),
			 counter_rise(ct->early_drop, pv->early_drop),
			 counter_rise(ct->insert_failed, pv->insert_failed));
	return step(steps, "conntrack", "%s connections tracked of net.netfilter.nf_conntrack_max %s%s",
		    fmt_i64(ct->count, count, sizeof(count)), fmt_i64(t->limits.nf_conntrack_max, max, sizeof(max)),
		    drops);
}

/* What the kernel logged this tick, in its own terms. Return: 0 (no step) when it logged nothing. */
static int step_kernel(json_t *steps, const struct track *t)
{
	char text[STEP_TEXT_MAX];
	size_t off = 0, n = t->n_kmsg < TRACK_KMSG_MAX ? t->n_kmsg : TRACK_KMSG_MAX;

	if (n == 0)
		return 0;
	text[0] = '\0';
	for (size_t i = 0; i < n && off < sizeof(text); i++) {
		const struct kmsg_event *ev = &t->kmsg[i];
		int w;

		if (ev->kind == KMSG_SYN_FLOOD)
			w = snprintf(text + off, sizeof(text) - off, "%spossible SYN flooding on %.*s%sport %u (%s)",
				     off ? "; " : "", (int)strnlen(ev->addr, sizeof(ev->addr)), ev->addr,
				     ev->addr[0] ? " " : "", (unsigned)ev->port,
				     ev->cookies ? "sending cookies" : "dropping requests");
		else
			w = snprintf(text + off, sizeof(text) - off, "%s%s", off ? "; " : "",
				     kmsg_kind_name(ev->kind));
		if (w < 0)
			break;
		off += (size_t)w;
	}
	return step(steps, "kernel", "the kernel logged this tick: %s", text);
}

/*
 * Who holds the memory: the deep tier's top sockets, unread bytes first,
 * each with the process that holds it, so that "TCP memory is short" ends
 * at the application that does not read. Return: 0 (no step) when the
 * deep tier did not run this tick or found no socket holding any.
 */
static int step_holders(json_t *steps, const struct track *t)
{
	const struct deep_sample *ds = t->deep;
	char text[STEP_TEXT_MAX];
	size_t off = 0, n;

	if (!ds || ds->n_holders == 0)
		return 0;
	n = ds->n_holders < DEEP_TOP_HOLDERS ? ds->n_holders : DEEP_TOP_HOLDERS;
	text[0] = '\0';
	for (size_t i = 0; i < n && off < sizeof(text); i++) {
		const struct mem_holder *h = &ds->holders[i];
		char l[LISTENER_NAME_MAX], r[LISTENER_NAME_MAX], who[OWNER_COMM_MAX + 24] = "";
		int w;

		endpoint_name(h->family, h->laddr, h->lport, l, sizeof(l));
		endpoint_name(h->family, h->raddr, h->rport, r, sizeof(r));
		if (h->pid > 0)
			snprintf(who, sizeof(who), " %.*s[%d]", (int)strnlen(h->comm, sizeof(h->comm) - 1),
				 h->comm, h->pid);
		else if (h->inode == 0)
			snprintf(who, sizeof(who), " (orphaned)");
		w = snprintf(text + off, sizeof(text) - off, "%s%s -> %s %s unread %" PRIu32 " B unsent %"
			     PRIu32 " B%s", i ? "; " : "", l, r, tcp_state_name(h->state), h->rqueue,
			     h->wqueue, who);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	return step(steps, "holders", "the sockets holding most memory, unread bytes first: %s", text);
}

/* Namespace-wide sockets against their limits, conntrack, and what the kernel logged this tick. */
static int steps_host(json_t *steps, const struct track *t)
{
	int rc = 0;

	if (!t->hs_cur.valid)
		return step(steps, "sockets", "no host-wide sample yet (sockstat, conntrack, interfaces)");
	rc |= step_sockets(steps, t);
	rc |= step_holders(steps, t);
	rc |= step_conntrack(steps, t);
	rc |= step_kernel(steps, t);
	return rc;
}

static int step_interface(json_t *steps, const struct track *t, const char *name)
{
	size_t n = t->hs_cur.links.count < LINKS_MAX ? t->hs_cur.links.count : LINKS_MAX;

	for (size_t i = 0; t->hs_cur.valid && i < n; i++) {
		const struct link_stat *ls = &t->hs_cur.links.items[i];
		const struct link_stat *p;
		char d[3][48] = { "", "", "" };

		if (strncmp(ls->name, name, sizeof(ls->name)) != 0)
			continue;
		p = prev_link(t, ls);
		if (p) {
			snprintf(d[0], sizeof(d[0]), " (+%" PRIu64 " this tick)", counter_rise(ls->rx_dropped, p->rx_dropped));
			snprintf(d[1], sizeof(d[1]), " (+%" PRIu64 ")",
				 counter_rise(ls->rx_missed_errors, p->rx_missed_errors));
			snprintf(d[2], sizeof(d[2]), " (+%" PRIu64 ")", counter_rise(ls->rx_fifo_errors, p->rx_fifo_errors));
		}
		return step(steps, "interface", "%.*s (ifindex %d): rx_dropped %" PRIu64 "%s, rx_missed_errors %"
			    PRIu64 "%s, rx_fifo_errors %" PRIu64 "%s, of %" PRIu64 " packets received",
			    (int)sizeof(ls->name), ls->name, ls->ifindex, ls->rx_dropped, d[0],
			    ls->rx_missed_errors, d[1], ls->rx_fifo_errors, d[2], ls->rx_packets);
	}
	return step(steps, "interface", "%s is not among the interfaces of the latest sample", name);
}

static int step_destination(json_t *steps, const struct track *t, const char *key)
{
	const struct deep_sample *ds = t->deep;
	size_t n;

	if (!ds)
		return step(steps, "destination", "no per-destination tally this tick: the deep tier runs only "
			    "when a cheap signal asks for it, or every [deep] every_ticks ticks when set");
	n = ds->n_dests < DEEP_TOP_DESTS ? ds->n_dests : DEEP_TOP_DESTS;
	for (size_t i = 0; i < n; i++) {
		const struct dest_count *d = &ds->dests[i];
		char name[LISTENER_NAME_MAX], range[96] = "";

		endpoint_name(d->family, d->addr, d->port, name, sizeof(name));
		if (strcmp(name, key) != 0)
			continue;
		if (ds->port_lo >= 0 && ds->port_hi >= ds->port_lo)
			snprintf(range, sizeof(range), " (net.ipv4.ip_local_port_range %" PRId64 "-%" PRId64
				 ": %" PRId64 " ports)", ds->port_lo, ds->port_hi, ds->port_hi - ds->port_lo + 1);
		return step(steps, "destination", "%s: %" PRIu32 " sockets towards it (established %" PRIu32
			    ", time_wait %" PRIu32 ", syn_sent %" PRIu32 ", other %" PRIu32 "), %" PRIu32
			    " of them on a local port from the ephemeral range%s",
			    name, d->total, d->established, d->time_wait, d->syn_sent, d->other,
			    d->in_port_range, range);
	}
	return step(steps, "destination", "%s is not among the %zu destinations with most sockets in this "
		    "tick's walk", key, n);
}

/* The subject's own numbers, as its scope has them. */
static int steps_subject(json_t *steps, const struct track *t, enum finding_scope scope, const char *key)
{
	const struct listener_gap *g;
	int rc = 0;

	switch (scope) {
	case SCOPE_HOST:
		return steps_host(steps, t);
	case SCOPE_INTERFACE:
		return step_interface(steps, t, key);
	case SCOPE_DESTINATION:
		return step_destination(steps, t, key);
	case SCOPE_LISTENER:
		rc |= step(steps, "listener", "no listener on %s now", key);
		g = latest_gap(t, key);
		if (g)
			rc |= step_gap(steps, t, g);
		return rc;
	}
	return 0;
}

json_t *explain_subject_chain(const struct monitor *m, enum finding_scope scope, const char *key)
{
	static const char *const what[] = {
		[SCOPE_LISTENER] = "this address:port", [SCOPE_HOST] = "the host",
		[SCOPE_INTERFACE] = "this interface", [SCOPE_DESTINATION] = "this destination",
	};
	struct chain_subject cs = { .tr = NULL, .scope = scope, .key = key };
	struct told_findings tf = { 0 };
	json_t *o = json_object();
	json_t *steps = json_array();
	json_t *findings = json_array();
	int rc = 0;

	if (!steps || !findings || told_gather(m, &cs, findings, &tf) < 0) {
		rc = -1;
		goto out;
	}
	rc |= steps_subject(steps, &m->track, scope, key);
	rc |= steps_told(steps, m, &tf, (unsigned)scope < ARRAY_SIZE(what) ? what[scope] : "this subject", false);
out:
	told_free(&tf);
	rc |= put(o, "match", json_string("subject"));
	rc |= put(o, "scope", json_string(scope_name(scope)));
	rc |= put(o, "subject", jstr(key, strlen(key)));
	rc |= put(o, "listener", json_null());
	rc |= put(o, "steps", steps);
	rc |= put(o, "findings", findings);
	return finish(o, rc);
}
