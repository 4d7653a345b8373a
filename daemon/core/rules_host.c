/* rules_host.c: the host limits: ephemeral ports, TIME_WAIT table, TCP memory, orphans, conntrack table, interface drops. */
#include "base.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rules.h"
#include "tcp_state.h"

/* The widest ip_local_port_range that leaves the well-known ports alone. */
#define PORT_RANGE_WIDE_LO 1024
#define PORT_RANGE_WIDE_HI 65535
/* The kernel's own default for tcp_max_tw_buckets on a machine with memory to spare. */
#define TW_BUCKETS_FLOOR 262144

/*
 * "raise KNOB from N to 2N (sysctl -w KNOB=2N; NOTE)", or "raise KNOB (it
 * could not be read)", and f's knob with it: for a limit on a count of
 * kernel objects, twice as many is the first step.
 */
static void raise_doubled(struct finding *f, struct sbuf *sb, const char *knob, int64_t max,
			  const char *note)
{
	set_knob(f, knob, max > 0 ? max : -1, max > 0 ? 2 * max : -1);
	if (max > 0)
		sb_printf(sb, "raise %s from %" PRId64 " to %" PRId64 " (sysctl -w %s=%" PRId64 "; %s)",
			  knob, max, 2 * max, knob, 2 * max, note);
	else
		sb_printf(sb, "raise %s (it could not be read)", knob);
}

/* ---- ephemeral-ports ---- */

/*
 * connect() takes a local port from ip_local_port_range; towards one remote
 * address:port every connection needs its own, TIME_WAIT ones included. No
 * counter moves when they run out: the client gets EADDRNOTAVAIL. So the
 * rule counts sockets per destination (the deep tier), against the range.
 */
int rule_ephemeral_ports(struct ctx *c)
{
	const struct deep_sample *ds = c->t->deep;
	const struct limits *lim = c->lim;
	int64_t lo, hi, size;
	bool in_range;
	size_t i;

	if (!ds)
		return 0;
	if (lim->port_range_lo >= 0 && lim->port_range_hi >= lim->port_range_lo) {
		lo = lim->port_range_lo;
		hi = lim->port_range_hi;
	} else if (ds->port_lo >= 0 && ds->port_hi >= ds->port_lo) {
		lo = ds->port_lo;
		hi = ds->port_hi;
	} else {
		return 0;
	}
	size = hi - lo + 1;
	/* in_port_range is only counted when the deep tier knew the range. */
	in_range = ds->port_lo >= 0 && ds->port_hi >= ds->port_lo;

	for (i = 0; i < ds->n_dests && i < DEEP_TOP_DESTS; i++) {
		const struct dest_count *d = &ds->dests[i];
		int64_t used = in_range ? d->in_port_range : d->total;
		char key[LISTENER_NAME_MAX];
		struct finding *f;
		struct sbuf sb;

		if (used * 100 < (int64_t)c->th.ephemeral_pct * size)
			continue;
		endpoint_name(d->family, d->addr, d->port, key, sizeof(key));
		f = new_finding(c, CAUSE_EPHEMERAL_PORTS);
		if (!f)
			return -ENOMEM;
		/* Used up: connect() fails now; near: it will. */
		f->priority = used >= size ? SEVERITY_ERR : SEVERITY_WARNING;
		set_key(f, key);

		sb_init(&sb, f->body.happened, sizeof(f->body.happened));
		sb_printf(&sb, "Connections from this host to %s hold %" PRId64 " local ports, %" PRId64
			  "%% of the %" PRId64 " in net.ipv4.ip_local_port_range %" PRId64 "-%" PRId64
			  " (%" PRIu32 " established, %" PRIu32 " in TIME_WAIT, %" PRIu32
			  " connecting, %" PRIu32 " in other states); %s this host's own clients get "
			  "EADDRNOTAVAIL (cannot assign requested address) from connect() to it.", key,
			  used, used * 100 / size, size, lo, hi, d->established, d->time_wait, d->syn_sent,
			  d->other, used >= size ? "the range is used up:" : "when the range runs out");

		add_ev(f, "sockets", used);
		add_ev(f, "established", d->established);
		add_ev(f, "time_wait", d->time_wait);
		add_ev(f, "syn_sent", d->syn_sent);
		add_ev(f, "other", d->other);
		add_ev(f, "port_range_size", size);
		add_ev(f, "port_range_lo", lo);
		add_ev(f, "port_range_hi", hi);
		add_ev(f, "tcp_tw_reuse", lim->tcp_tw_reuse);

		sb_init(&sb, f->body.fix, sizeof(f->body.fix));
		if (lo > PORT_RANGE_WIDE_LO || hi < PORT_RANGE_WIDE_HI) {
			/* knob_current/suggested are the range's sizes: the number compared above. */
			set_knob(f, "net.ipv4.ip_local_port_range", size,
				 PORT_RANGE_WIDE_HI - PORT_RANGE_WIDE_LO + 1);
			sb_printf(&sb, "widen net.ipv4.ip_local_port_range from %" PRId64 "-%" PRId64
				  " to %d-%d (sysctl -w net.ipv4.ip_local_port_range=\"%d %d\"; keep "
				  "listeners out of it with net.ipv4.ip_local_reserved_ports), ", lo, hi,
				  PORT_RANGE_WIDE_LO, PORT_RANGE_WIDE_HI, PORT_RANGE_WIDE_LO,
				  PORT_RANGE_WIDE_HI);
		} else if (lim->tcp_tw_reuse != 1 && d->time_wait > 0) {
			set_knob(f, "net.ipv4.tcp_tw_reuse", lim->tcp_tw_reuse, 1);
		} else {
			set_knob(f, "connection reuse", -1, -1);
		}
		if (lim->tcp_tw_reuse != 1) {
			sb_printf(&sb, "let connect() reuse TIME_WAIT ports with net.ipv4.tcp_tw_reuse=1 (now ");
			sb_value(&sb, lim->tcp_tw_reuse);
			sb_printf(&sb, "%s), ", lim->tcp_tw_reuse == 2 ? ", loopback only" : "");
		}
		sb_printf(&sb, "and reuse connections to %s (keep-alive, a connection pool) instead of "
			  "opening one per request", key);
	}
	return 0;
}

/* ---- timewait-overflow ---- */

int rule_timewait_overflow(struct ctx *c)
{
	const struct track *t = c->t;
	int64_t max = c->lim->tcp_max_tw_buckets;
	int64_t tw = t->hs_cur.valid ? t->hs_cur.ss.tcp_tw : -1;
	int64_t sug = max64(max >= 0 ? 2 * max : 0, TW_BUCKETS_FLOOR);
	struct finding *f;
	struct sbuf sb;

	if (c->tw_overflow <= 0)
		return 0;
	f = new_finding(c, CAUSE_TIMEWAIT_OVERFLOW);
	if (!f)
		return -ENOMEM;
	set_host(f);
	sb_init(&sb, f->body.happened, sizeof(f->body.happened));
	sb_printf(&sb, "The TIME_WAIT table is full: %" PRId64 " closing connection%s skipped "
		  "TIME_WAIT in one tick (TCPTimeWaitOverflow) with ", c->tw_overflow,
		  c->tw_overflow == 1 ? "" : "s");
	sb_value(&sb, tw);
	sb_printf(&sb, " sockets in TIME_WAIT against net.ipv4.tcp_max_tw_buckets=");
	sb_value(&sb, max);
	sb_printf(&sb, "; their peers may see the port pair reused early, and late segments of "
		  "an old connection can hit a new one and draw resets.");

	add_ev(f, "tw_overflow", c->tw_overflow);
	add_ev(f, "tw", tw);
	add_ev(f, "tcp_max_tw_buckets", max);

	if (sug <= max)
		sug = -1;
	set_knob(f, "net.ipv4.tcp_max_tw_buckets", max, sug);
	sb_init(&sb, f->body.fix, sizeof(f->body.fix));
	if (sug > 0) {
		sb_printf(&sb, "raise net.ipv4.tcp_max_tw_buckets from ");
		sb_value(&sb, max);
		sb_printf(&sb, " to %" PRId64 " (sysctl -w net.ipv4.tcp_max_tw_buckets=%" PRId64
			  "; persist in /etc/sysctl.d/; a bucket costs a few hundred bytes), and ",
			  sug, sug);
	}
	sb_printf(&sb, "find who closes so many connections (ss -tan state time-wait shows the "
		  "peers): connection reuse leaves fewer TIME_WAIT sockets behind");
	return 0;
}

/* ---- tcp-memory ---- */

/* "10.0.0.1:5432 -> 10.0.0.9:40122 ESTABLISHED unread 4194304 B unsent 0 B postgres[311]" */
static void holder_line(struct sbuf *sb, const struct mem_holder *h)
{
	char l[LISTENER_NAME_MAX], r[LISTENER_NAME_MAX];

	endpoint_name(h->family, h->laddr, h->lport, l, sizeof(l));
	endpoint_name(h->family, h->raddr, h->rport, r, sizeof(r));
	sb_printf(sb, "%s -> %s %s unread %" PRIu32 " B unsent %" PRIu32 " B", l, r,
		  tcp_state_name(h->state), h->rqueue, h->wqueue);
	if (h->pid > 0)
		sb_printf(sb, " %.*s[%d]", (int)sizeof(h->comm) - 1, h->comm, h->pid);
	else if (h->inode == 0)
		sb_printf(sb, " (orphaned)");
}

static void tcp_mem_triple(struct sbuf *sb, const struct limits *lim, int mult)
{
	if (lim->tcp_mem[0] < 0 || lim->tcp_mem[1] < 0 || lim->tcp_mem[2] < 0) {
		sb_printf(sb, "(unknown)");
		return;
	}
	sb_printf(sb, "%" PRId64 " %" PRId64 " %" PRId64, lim->tcp_mem[0] * mult,
		  lim->tcp_mem[1] * mult, lim->tcp_mem[2] * mult);
}

/*
 * Socket buffers are charged to a global pool counted in pages (sockstat
 * "mem"); past tcp_mem[1] the kernel shrinks buffers (TCPMemoryPressures),
 * past tcp_mem[2] it aborts sockets (TCPAbortOnMemory, "out of memory --
 * consider tuning tcp_mem"). The usual culprit is data nobody reads.
 */
bool tcp_memory_short(const struct tcp_memory_signs *sg)
{
	return (sg->mem_pages >= 0 && sg->pressure_pages > 0 && sg->mem_pages >= sg->pressure_pages) ||
	       sg->pressures > 0 || sg->aborts > 0 || sg->ooms > 0;
}

bool diagnose_tcp_memory_short(const struct track *t)
{
	struct tcp_memory_signs sg = {
		.mem_pages = t->hs_cur.valid ? t->hs_cur.ss.tcp_mem : -1,
		.pressure_pages = t->limits.tcp_mem[1],
		.pressures = host_delta(t, "TcpExt.TCPMemoryPressures"),
		.aborts = host_delta(t, "TcpExt.TCPAbortOnMemory"),
		.ooms = count_kmsg(t, KMSG_TCP_OOM),
	};

	return tcp_memory_short(&sg);
}

int rule_tcp_memory(struct ctx *c)
{
	const struct track *t = c->t;
	const struct limits *lim = c->lim;
	const struct deep_sample *ds = t->deep;
	int64_t mem = t->hs_cur.valid ? t->hs_cur.ss.tcp_mem : -1;
	size_t oom = count_kmsg(t, KMSG_TCP_OOM), i;
	bool pressure = mem >= 0 && lim->tcp_mem[1] > 0 && mem >= lim->tcp_mem[1];
	bool over = mem >= 0 && lim->tcp_mem[2] > 0 && mem >= lim->tcp_mem[2];
	struct finding *f;
	struct sbuf sb;

	if (!diagnose_tcp_memory_short(t))
		return 0;
	f = new_finding(c, CAUSE_TCP_MEMORY);
	if (!f)
		return -ENOMEM;
	/* Pressure only shrinks buffers; aborting sockets is an error. */
	f->priority = c->abort_mem > 0 || oom || over ? SEVERITY_ERR : SEVERITY_WARNING;
	set_host(f);

	sb_init(&sb, f->body.happened, sizeof(f->body.happened));
	sb_printf(&sb, "TCP memory %s: sockets hold ", over ? "is at its limit" :
		  pressure ? "is under pressure" : "ran short");
	sb_value(&sb, mem);
	sb_printf(&sb, " pages against net.ipv4.tcp_mem ");
	tcp_mem_triple(&sb, lim, 1);
	sb_printf(&sb, " (min, pressure, max), TCPMemoryPressures ");
	sb_delta(&sb, c->mem_pressures);
	sb_printf(&sb, " and TCPAbortOnMemory ");
	sb_delta(&sb, c->abort_mem);
	sb_printf(&sb, " in one tick");
	if (oom)
		sb_printf(&sb, ", and the kernel logged out of memory -- consider tuning tcp_mem");
	sb_printf(&sb, "; clients saw stalls as the kernel shrank socket buffers%s.",
		  c->abort_mem > 0 || oom || over ? ", and resets on the connections it aborted"
						   : ", and resets once it starts aborting connections");

	add_ev(f, "mem_pages", mem);
	add_ev(f, "tcp_mem_min", lim->tcp_mem[0]);
	add_ev(f, "tcp_mem_pressure", lim->tcp_mem[1]);
	add_ev(f, "tcp_mem_max", lim->tcp_mem[2]);
	add_ev(f, "memory_pressures", c->mem_pressures);
	add_ev(f, "abort_on_memory", c->abort_mem);
	add_ev(f, "kmsg_tcp_oom", (int64_t)oom);
	if (ds && ds->n_holders)
		add_ev(f, "top_unread_bytes", ds->holders[0].rqueue);

	/* The list of who holds the memory: the finding's point, so it goes in whole. */
	sb_init(&sb, f->detail, sizeof(f->detail));
	for (i = 0; ds && i < ds->n_holders && i < DEEP_TOP_HOLDERS; i++) {
		if (i)
			sb_printf(&sb, "\n");
		holder_line(&sb, &ds->holders[i]);
	}

	set_knob(f, "net.ipv4.tcp_mem", lim->tcp_mem[1] > 0 ? lim->tcp_mem[1] : -1,
		 lim->tcp_mem[1] > 0 ? 2 * lim->tcp_mem[1] : -1);
	sb_init(&sb, f->body.fix, sizeof(f->body.fix));
	sb_printf(&sb, "first the applications that do not read their sockets: ");
	if (ds && ds->n_holders) {
		const struct mem_holder *h = &ds->holders[0];

		sb_printf(&sb, "the top holder is ");
		holder_line(&sb, h);
		sb_printf(&sb, " (all %zu listed in the detail)", ds->n_holders);
	} else {
		sb_printf(&sb, "ss -tmn lists each socket's memory, the largest Recv-Q first (the "
			  "deep tier did not run this tick)");
	}
	sb_printf(&sb, "; then, only if the memory is in real use, raise net.ipv4.tcp_mem from ");
	tcp_mem_triple(&sb, lim, 1);
	sb_printf(&sb, " to ");
	tcp_mem_triple(&sb, lim, 2);
	sb_printf(&sb, " pages");
	return 0;
}

/* ---- orphans ---- */

/*
 * Orphans are sockets the application closed and the peer has not: past
 * tcp_max_orphans the kernel resets them ("too many orphaned sockets").
 */
int rule_orphans(struct ctx *c)
{
	const struct track *t = c->t;
	int64_t orph = t->hs_cur.valid ? t->hs_cur.ss.tcp_orphan : -1;
	int64_t max = c->lim->tcp_max_orphans;
	size_t logged = count_kmsg(t, KMSG_ORPHANS);
	bool near = orph >= 0 && max > 0 && orph * 100 >= (int64_t)c->th.orphans_pct * max;
	struct finding *f;
	struct sbuf sb;

	if (!near && logged == 0)
		return 0;
	f = new_finding(c, CAUSE_ORPHANS);
	if (!f)
		return -ENOMEM;
	/* Past the limit (or logged as such) the kernel resets connections; near it, not yet. */
	f->priority = logged || (max > 0 && orph >= max) ? SEVERITY_ERR : SEVERITY_WARNING;
	set_host(f);
	sb_init(&sb, f->body.happened, sizeof(f->body.happened));
	sb_printf(&sb, "The host holds ");
	sb_value(&sb, orph);
	sb_printf(&sb, " orphaned TCP sockets (closed by their application, not yet by the peer)");
	if (orph >= 0 && max > 0)
		sb_printf(&sb, ", %" PRId64 "%% of net.ipv4.tcp_max_orphans=%" PRId64, orph * 100 / max,
			  max);
	if (logged)
		sb_printf(&sb, ", and the kernel logged too many orphaned sockets");
	sb_printf(&sb, "; past the limit the kernel resets orphaned connections, so peers saw "
		  "resets instead of the end of their data.");

	add_ev(f, "orphans", orph);
	add_ev(f, "tcp_max_orphans", max);
	add_ev(f, "kmsg_orphans", (int64_t)logged);

	sb_init(&sb, f->body.fix, sizeof(f->body.fix));
	sb_printf(&sb, "find the peers that do not close (ss -tan state fin-wait-1 or state "
		  "last-ack shows them) and ");
	raise_doubled(f, &sb, "net.ipv4.tcp_max_orphans", max,
		      "an orphan can hold up to 64 KiB of unswappable memory");
	sb_printf(&sb, ", or shorten their life with net.ipv4.tcp_orphan_retries");
	return 0;
}

/* ---- conntrack-full ---- */

static int64_t u64_delta(uint64_t prev, uint64_t cur)
{
	/* Per-CPU sums go backwards only when the module was reloaded: nothing known moved. */
	if (cur < prev)
		return 0;
	return cur - prev > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(cur - prev);
}

/*
 * A full conntrack table drops packets before TCP sees them: clients time
 * out and no listen counter moves, which is how it is told from an
 * accept-queue overflow.
 */
int rule_conntrack_full(struct ctx *c)
{
	const struct track *t = c->t;
	const struct conntrack_stat *cur = &t->hs_cur.ct, *prev = &t->hs_prev.ct;
	int64_t max = c->lim->nf_conntrack_max;
	int64_t count = t->hs_cur.valid && cur->present ? cur->count : -1;
	int64_t drop = -1, early = -1, failed = -1;
	size_t logged = count_kmsg(t, KMSG_CONNTRACK_FULL);
	bool near = count >= 0 && max > 0 && count * 100 >= (int64_t)c->th.conntrack_pct * max;
	bool moved, quiet_listen;
	struct finding *f;
	struct sbuf sb;

	if (t->hs_cur.valid && t->hs_prev.valid && cur->have_stat && prev->have_stat) {
		drop = u64_delta(prev->drop, cur->drop);
		early = u64_delta(prev->early_drop, cur->early_drop);
		failed = u64_delta(prev->insert_failed, cur->insert_failed);
	}
	moved = drop > 0 || early > 0 || failed > 0;
	if (!near && !moved && logged == 0)
		return 0;
	f = new_finding(c, CAUSE_CONNTRACK_FULL);
	if (!f)
		return -ENOMEM;
	/* Packets dropped is an error; a table near full is a warning. */
	f->priority = moved || logged ? SEVERITY_ERR : SEVERITY_WARNING;
	set_host(f);
	quiet_listen = c->overflows == 0 && c->listen_drops == 0;

	sb_init(&sb, f->body.happened, sizeof(f->body.happened));
	if (near)
		sb_printf(&sb, "The conntrack table is full: %" PRId64 " of net.netfilter."
			  "nf_conntrack_max=%" PRId64 " entries", count, max);
	else if (count >= 0)
		sb_printf(&sb, "Connection tracking dropped packets with its table at %" PRId64
			  " of net.netfilter.nf_conntrack_max=", count);
	else
		sb_printf(&sb, "Connection tracking dropped packets");
	if (!near && count >= 0)
		sb_value(&sb, max);
	sb_printf(&sb, ", with drop ");
	sb_delta(&sb, drop);
	sb_printf(&sb, ", early_drop ");
	sb_delta(&sb, early);
	sb_printf(&sb, " and insert_failed ");
	sb_delta(&sb, failed);
	sb_printf(&sb, " in one tick");
	if (logged)
		sb_printf(&sb, " and the kernel logged nf_conntrack: table full, dropping packet");
	if (quiet_listen)
		sb_printf(&sb, ", and no listen counter moved (ListenOverflows +0, ListenDrops +0)");
	else if (c->overflows > 0 || c->listen_drops > 0)
		sb_printf(&sb, ", while listen counters moved too (ListenOverflows +%" PRId64
			  ", ListenDrops +%" PRId64 ")", max64(c->overflows, 0),
			  max64(c->listen_drops, 0));
	sb_printf(&sb, "; clients saw connect timeouts: their SYNs were dropped before reaching "
		  "any listener.");

	add_ev(f, "conntrack_count", count);
	add_ev(f, "nf_conntrack_max", max);
	add_ev(f, "drop", drop);
	add_ev(f, "early_drop", early);
	add_ev(f, "insert_failed", failed);
	add_ev(f, "listen_overflows", c->overflows);
	add_ev(f, "listen_drops", c->listen_drops);
	add_ev(f, "kmsg_conntrack_full", (int64_t)logged);

	sb_init(&sb, f->body.fix, sizeof(f->body.fix));
	raise_doubled(f, &sb, "net.netfilter.nf_conntrack_max", max,
		      "raise nf_conntrack hashsize with it");
	sb_printf(&sb, ", shorten the conntrack timeouts that hold dead entries "
		  "(net.netfilter.nf_conntrack_tcp_timeout_time_wait, "
		  "nf_conntrack_tcp_timeout_established), or exempt busy traffic from tracking "
		  "with a notrack rule");
	return 0;
}

/* ---- link-drops ---- */

static const struct link_stat *link_by_ifindex(const struct link_table *lt, int ifindex)
{
	size_t i;

	for (i = 0; i < lt->count && i < LINKS_MAX; i++)
		if (lt->items[i].ifindex == ifindex)
			return &lt->items[i];
	return NULL;
}

/* Packets lost on an interface never reach TCP: clients only see timeouts and retransmissions. */
int rule_link_drops(struct ctx *c)
{
	const struct track *t = c->t;
	size_t i;

	if (!t->hs_cur.valid || !t->hs_prev.valid)
		return 0;
	for (i = 0; i < t->hs_cur.links.count && i < LINKS_MAX; i++) {
		const struct link_stat *cur = &t->hs_cur.links.items[i];
		const struct link_stat *prev = link_by_ifindex(&t->hs_prev.links, cur->ifindex);
		int64_t dropped, missed, fifo, pkts;
		char name[LINK_NAME_MAX];
		struct finding *f;
		struct sbuf sb;

		if (!prev)
			continue;
		dropped = u64_delta(prev->rx_dropped, cur->rx_dropped);
		missed = u64_delta(prev->rx_missed_errors, cur->rx_missed_errors);
		fifo = u64_delta(prev->rx_fifo_errors, cur->rx_fifo_errors);
		pkts = u64_delta(prev->rx_packets, cur->rx_packets);
		/*
		 * rx_dropped also counts frames no protocol wants (LLDP, unknown
		 * EtherTypes): a few a tick are noise. The NIC running out of
		 * buffers (missed, fifo) is never noise.
		 */
		if (missed + fifo <= 0 && dropped < (int64_t)c->th.link_dropped_min)
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(cur->name) - 1, cur->name);
		f = new_finding(c, CAUSE_LINK_DROPS);
		if (!f)
			return -ENOMEM;
		set_key(f, name);
		sb_init(&sb, f->body.happened, sizeof(f->body.happened));
		sb_printf(&sb, "%s dropped %" PRId64 " received packets in one tick (rx_dropped +%" PRId64
			  ", rx_missed_errors +%" PRId64 ", rx_fifo_errors +%" PRId64 ", of %" PRId64
			  " received); clients whose packets were among them saw timeouts and slow "
			  "retransmissions, since lost packets never reach TCP.", name,
			  dropped + missed + fifo, dropped, missed, fifo, pkts);
		add_ev(f, "rx_dropped", dropped);
		add_ev(f, "rx_missed_errors", missed);
		add_ev(f, "rx_fifo_errors", fifo);
		add_ev(f, "rx_packets", pkts);
		add_ev(f, "ifindex", cur->ifindex);

		/* The knob is the first thing the remedy names. */
		set_knob(f, missed + fifo > 0 ? "NIC rx ring (ethtool -G)" : "net.core.netdev_max_backlog",
			 -1, -1);
		sb_init(&sb, f->body.fix, sizeof(f->body.fix));
		if (missed + fifo > 0)
			sb_printf(&sb, "the NIC ran out of receive buffers: see the ring size with ethtool "
				  "-g %s and raise it with ethtool -G %s rx N (up to the hardware "
				  "maximum), and spread interrupts over more CPUs (RSS, irqbalance)",
				  name, name);
		else
			sb_printf(&sb, "the kernel dropped them after the NIC (rx_dropped): check the "
				  "input backlog (net.core.netdev_max_backlog, softnet_stat), the ring "
				  "size (ethtool -g %s, ethtool -G %s rx N) and the interface itself", name,
				  name);
	}
	return 0;
}

