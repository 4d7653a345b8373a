/* host.c: the host document: the namespace's TCP counters, sockstat, conntrack, interfaces, kernel log, deep sample. */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "listener.h"
#include "netstat.h"
#include "report.h"
#include "report_int.h"
#include "tcp_state.h"

/*
 * The counters that bear on refused and dropped connections, in the order a
 * person reads them: accept-queue overflows first, then the SYN queue,
 * cookies, resets.
 */
const char *const host_counter_names[] = {
	"TcpExt.ListenOverflows",
	"TcpExt.ListenDrops",
	"TcpExt.TCPReqQFullDrop",
	"TcpExt.TCPReqQFullDoCookies",
	"TcpExt.SyncookiesSent",
	"TcpExt.SyncookiesRecv",
	"TcpExt.SyncookiesFailed",
	"TcpExt.EmbryonicRsts",
	"TcpExt.TCPBacklogDrop",
	"TcpExt.TCPTimeWaitOverflow",
	"Tcp.OutRsts",
	"Tcp.AttemptFails",
	"Tcp.PassiveOpens",
};
const size_t host_counter_count = ARRAY_SIZE(host_counter_names);

/* Return: seconds between the last two updates, or a negative value when unknown. */
static double host_interval_s(const struct track *t)
{
	if (!t->have_prev || t->prev_ms <= 0 || t->now_ms <= t->prev_ms)
		return -1.0;
	return (double)(t->now_ms - t->prev_ms) / 1000.0;
}

uint64_t counter_rise(uint64_t cur, uint64_t prev)
{
	return cur >= prev ? cur - prev : 0;
}

/* {Name: {total, delta, per_sec}}; counters the kernel does not have are left out. */
static json_t *report_counters(const struct track *t, double interval)
{
	json_t *counters = json_object();
	int rc = 0;

	for (size_t i = 0; counters && i < ARRAY_SIZE(host_counter_names); i++) {
		const char *name = host_counter_names[i];
		const char *key = strchr(name, '.') + 1;
		int64_t total, delta;
		bool have_delta;
		json_t *c;
		int crc = 0;

		if (!counters_get(&t->host_cur, name, &total))
			continue;
		have_delta = track_host_delta(t, name, &delta);
		c = json_object();
		crc |= put(c, "total", jint(total));
		crc |= put(c, "delta", have_delta ? jint(delta) : json_null());
		crc |= put(c, "per_sec", have_delta && interval > 0 ?
			   json_real((double)delta / interval) : json_null());
		rc |= put(counters, key, finish(c, crc));
	}
	return finish(counters, rc);
}

/* {inuse, orphan, tw, alloc, mem, tcp6_inuse}, null before the first host sample. */
static json_t *report_sockstat(const struct host_state *hs)
{
	const struct sockstat *ss = &hs->ss;
	json_t *o;
	int rc = 0;

	if (!hs->valid)
		return json_null();
	o = json_object();
	rc |= put(o, "inuse", jint_or_null(ss->tcp_inuse));
	rc |= put(o, "orphan", jint_or_null(ss->tcp_orphan));
	rc |= put(o, "tw", jint_or_null(ss->tcp_tw));
	rc |= put(o, "alloc", jint_or_null(ss->tcp_alloc));
	rc |= put(o, "mem", jint_or_null(ss->tcp_mem));
	rc |= put(o, "tcp6_inuse", jint_or_null(ss->tcp6_inuse));
	return finish(o, rc);
}

/*
 * {present, count, max, drop, early_drop, insert_failed, deltas}: the drop
 * counters are null when the stat file was unreadable, deltas null until
 * two samples had it.
 */
static json_t *report_conntrack(const struct track *t)
{
	const struct conntrack_stat *ct = &t->hs_cur.ct;
	const struct conntrack_stat *pv = &t->hs_prev.ct;
	json_t *o, *d;
	int rc = 0, drc = 0;

	if (!t->hs_cur.valid)
		return json_null();
	o = json_object();
	rc |= put(o, "present", json_boolean(ct->present));
	rc |= put(o, "count", ct->present ? jint_or_null(ct->count) : json_null());
	rc |= put(o, "max", jint_or_null(t->limits.nf_conntrack_max));
	rc |= put(o, "drop", ct->have_stat ? ju64(ct->drop) : json_null());
	rc |= put(o, "early_drop", ct->have_stat ? ju64(ct->early_drop) : json_null());
	rc |= put(o, "insert_failed", ct->have_stat ? ju64(ct->insert_failed) : json_null());
	if (!ct->have_stat || !t->hs_prev.valid || !pv->have_stat)
		return finish(o, rc | put(o, "deltas", json_null()));
	d = json_object();
	drc |= put(d, "drop", ju64(counter_rise(ct->drop, pv->drop)));
	drc |= put(d, "early_drop", ju64(counter_rise(ct->early_drop, pv->early_drop)));
	drc |= put(d, "insert_failed", ju64(counter_rise(ct->insert_failed, pv->insert_failed)));
	rc |= put(o, "deltas", finish(d, drc));
	return finish(o, rc);
}

/* A rename is a new interface: the index and the name must both match. */
const struct link_stat *prev_link(const struct track *t, const struct link_stat *cur)
{
	size_t n = t->hs_prev.links.count < LINKS_MAX ? t->hs_prev.links.count : LINKS_MAX;

	if (!t->hs_prev.valid)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct link_stat *p = &t->hs_prev.links.items[i];

		if (p->ifindex == cur->ifindex && strncmp(p->name, cur->name, sizeof(p->name)) == 0)
			return p;
	}
	return NULL;
}

static json_t *report_link(const struct track *t, const struct link_stat *ls)
{
	const struct link_stat *p = prev_link(t, ls);
	json_t *o = json_object(), *d;
	int rc = 0, drc = 0;

	rc |= put(o, "name", JSTR(ls->name));
	rc |= put(o, "ifindex", json_integer(ls->ifindex));
	rc |= put(o, "rx_packets", ju64(ls->rx_packets));
	rc |= put(o, "rx_dropped", ju64(ls->rx_dropped));
	rc |= put(o, "rx_missed_errors", ju64(ls->rx_missed_errors));
	rc |= put(o, "rx_fifo_errors", ju64(ls->rx_fifo_errors));
	if (!p)
		return finish(o, rc | put(o, "deltas", json_null()));
	d = json_object();
	drc |= put(d, "rx_packets", ju64(counter_rise(ls->rx_packets, p->rx_packets)));
	drc |= put(d, "rx_dropped", ju64(counter_rise(ls->rx_dropped, p->rx_dropped)));
	drc |= put(d, "rx_missed_errors", ju64(counter_rise(ls->rx_missed_errors, p->rx_missed_errors)));
	drc |= put(d, "rx_fifo_errors", ju64(counter_rise(ls->rx_fifo_errors, p->rx_fifo_errors)));
	rc |= put(o, "deltas", finish(d, drc));
	return finish(o, rc);
}

static json_t *report_links(const struct track *t)
{
	size_t n = t->hs_cur.links.count < LINKS_MAX ? t->hs_cur.links.count : LINKS_MAX;
	json_t *a = json_array();
	int rc = 0;

	for (size_t i = 0; t->hs_cur.valid && i < n; i++)
		rc |= append(a, report_link(t, &t->hs_cur.links.items[i]));
	return finish(a, rc);
}

const char *kmsg_kind_name(enum kmsg_kind k)
{
	switch (k) {
	case KMSG_SYN_FLOOD:
		return "syn-flood";
	case KMSG_CONNTRACK_FULL:
		return "conntrack-full";
	case KMSG_TCP_OOM:
		return "tcp-oom";
	case KMSG_ORPHANS:
		return "orphans";
	case KMSG_SEGFAULT:
		return "segfault";
	case KMSG_TRAP:
		return "trap";
	case KMSG_OOM_KILL:
		return "oom-kill";
	}
	return "unknown";
}

/*
 * One kernel log event. The SYN-flood line names a port (and on newer
 * kernels an address): "listener" puts them in the form listeners are named
 * so that a script can join the two; the other kinds carry none.
 */
static json_t *report_kmsg_event(const struct kmsg_event *ev)
{
	bool syn = ev->kind == KMSG_SYN_FLOOD;
	size_t alen = strnlen(ev->addr, sizeof(ev->addr));
	char name[KMSG_ADDR_MAX + 16];
	json_t *o = json_object();
	int rc = 0;

	/* The address is the kernel's text, not bytes: endpoint_name() does not apply. */
	if (alen == 0)
		snprintf(name, sizeof(name), "*:%u", (unsigned)ev->port);
	else if (memchr(ev->addr, ':', alen))
		snprintf(name, sizeof(name), "[%.*s]:%u", (int)alen, ev->addr, (unsigned)ev->port);
	else
		snprintf(name, sizeof(name), "%.*s:%u", (int)alen, ev->addr, (unsigned)ev->port);
	rc |= put(o, "kind", json_string(kmsg_kind_name(ev->kind)));
	rc |= put(o, "seq", ju64(ev->seq));
	rc |= put(o, "ts_usec", ju64(ev->ts_usec));
	rc |= put(o, "port", syn && ev->port ? json_integer(ev->port) : json_null());
	rc |= put(o, "addr", syn ? JSTR_OR_NULL(ev->addr) : json_null());
	rc |= put(o, "listener", syn && ev->port ? jstr(name, sizeof(name)) : json_null());
	rc |= put(o, "cookies", syn ? json_boolean(ev->cookies) : json_null());
	if (kmsg_is_death(ev->kind)) {
		rc |= put(o, "pid", json_integer(ev->pid));
		rc |= put(o, "comm", jstr(ev->comm, sizeof(ev->comm)));
		rc |= put(o, "signal", JSTR_OR_NULL(ev->signal));
	}
	return finish(o, rc);
}

static json_t *report_kmsg(const struct track *t)
{
	size_t n = t->n_kmsg < TRACK_KMSG_MAX ? t->n_kmsg : TRACK_KMSG_MAX;
	json_t *a = json_array();
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		rc |= append(a, report_kmsg_event(&t->kmsg[i]));
	return finish(a, rc);
}

/* Listeners with the most half-open connections shown; a host with thousands of ports needs no more. */
#define REPORT_SYNRECV_MAX 64

static int cmp_synrecv_ptr(const void *pa, const void *pb)
{
	const struct synrecv_count *a = *(const struct synrecv_count *const *)pa;
	const struct synrecv_count *b = *(const struct synrecv_count *const *)pb;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* [{listener, count}], most first, at most REPORT_SYNRECV_MAX. */
static json_t *report_synrecv(const struct deep_sample *ds)
{
	const struct synrecv_count **v = NULL;
	size_t n = ds->synrecv ? ds->n_synrecv : 0;
	json_t *a = json_array();
	int rc = 0;

	if (n > 0) {
		v = calloc(n, sizeof(*v));
		if (!v)
			return finish(a, -1);
		for (size_t i = 0; i < n; i++)
			v[i] = &ds->synrecv[i];
		qsort(v, n, sizeof(*v), cmp_synrecv_ptr);
	}
	for (size_t i = 0; i < n && i < REPORT_SYNRECV_MAX; i++) {
		char name[LISTENER_NAME_MAX];
		json_t *o = json_object();
		int orc = 0;

		endpoint_name(v[i]->family, v[i]->addr, v[i]->port, name, sizeof(name));
		orc |= put(o, "listener", JSTR(name));
		orc |= put(o, "count", json_integer(v[i]->count));
		rc |= append(a, finish(o, orc));
	}
	free(v);
	return finish(a, rc);
}

static json_t *report_destinations(const struct deep_sample *ds)
{
	size_t n = ds->n_dests < DEEP_TOP_DESTS ? ds->n_dests : DEEP_TOP_DESTS;
	json_t *a = json_array();
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		const struct dest_count *d = &ds->dests[i];
		char name[LISTENER_NAME_MAX];
		json_t *o = json_object();
		int orc = 0;

		endpoint_name(d->family, d->addr, d->port, name, sizeof(name));
		orc |= put(o, "destination", JSTR(name));
		orc |= put(o, "total", json_integer(d->total));
		orc |= put(o, "established", json_integer(d->established));
		orc |= put(o, "time_wait", json_integer(d->time_wait));
		orc |= put(o, "syn_sent", json_integer(d->syn_sent));
		orc |= put(o, "other", json_integer(d->other));
		orc |= put(o, "in_port_range", json_integer(d->in_port_range));
		rc |= append(a, finish(o, orc));
	}
	return finish(a, rc);
}

static json_t *report_holders(const struct deep_sample *ds)
{
	size_t n = ds->n_holders < DEEP_TOP_HOLDERS ? ds->n_holders : DEEP_TOP_HOLDERS;
	json_t *a = json_array();
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		const struct mem_holder *h = &ds->holders[i];
		char local[LISTENER_NAME_MAX], remote[LISTENER_NAME_MAX];
		json_t *o = json_object();
		int orc = 0;

		endpoint_name(h->family, h->laddr, h->lport, local, sizeof(local));
		endpoint_name(h->family, h->raddr, h->rport, remote, sizeof(remote));
		orc |= put(o, "local", JSTR(local));
		orc |= put(o, "remote", JSTR(remote));
		orc |= put(o, "state", json_string(tcp_state_key(h->state)));
		orc |= put(o, "rqueue", json_integer(h->rqueue));
		orc |= put(o, "wqueue", json_integer(h->wqueue));
		orc |= put(o, "pid", h->pid > 0 ? json_integer(h->pid) : json_null());
		orc |= put(o, "comm", JSTR_OR_NULL(h->comm));
		rc |= append(a, finish(o, orc));
	}
	return finish(a, rc);
}

/* The deep tier's results of this tick; null when it did not run (it runs only when asked). */
static json_t *report_deep(const struct deep_sample *ds)
{
	json_t *o;
	int rc = 0;

	if (!ds)
		return json_null();
	o = json_object();
	rc |= put(o, "sockets_seen", json_integer(ds->sockets_seen));
	rc |= put(o, "synrecv_listeners", json_integer((json_int_t)(ds->synrecv ? ds->n_synrecv : 0)));
	rc |= put(o, "synrecv", report_synrecv(ds));
	rc |= put(o, "destinations", report_destinations(ds));
	rc |= put(o, "holders", report_holders(ds));
	return finish(o, rc);
}

/*
 * Return: {interval_s, counters:{Name:{total, delta, per_sec}}, sockstat,
 * conntrack, links, kmsg, deep}; absent counters are left out, host samples
 * not taken yet are null (links and kmsg empty).
 */
json_t *report_host(const struct track *t)
{
	double interval = host_interval_s(t);
	json_t *o = json_object();
	int rc = 0;

	rc |= put(o, "interval_s", interval > 0 ? json_real(interval) : json_null());
	rc |= put(o, "counters", report_counters(t, interval));
	rc |= put(o, "sockstat", report_sockstat(&t->hs_cur));
	rc |= put(o, "conntrack", report_conntrack(t));
	rc |= put(o, "links", report_links(t));
	rc |= put(o, "kmsg", report_kmsg(t));
	rc |= put(o, "deep", report_deep(t->deep));
	return finish(o, rc);
}
