/* deep_policy.c: whether the deep tier runs in this tick, decided from the cheap signals and the cost of its last runs. */
#include "base.h"

#include "deep_policy.h"
#include "diagnose.h"

/* "Sockets near the port range" runs the deep tier at most this often on its own. */
#define DEEP_PORTS_TICKS 10
/*
 * ... and, like the periodic run, spends at most 1 / this of the time on
 * the deep tier (5 times as much while a destination is half-way): a host
 * with 200,000 connections, whose deep dump takes a second, looks every
 * 100 s, a small one as often as asked. The symptoms (counters, the kernel
 * log) run it whatever it costs.
 */
#define DEEP_DUTY 100
#define DEEP_DUTY_WARM 20

/* Counters whose movement only the deep tier explains (which listener, which destination). */
static const char *const deep_signals[] = {
	"TcpExt.TCPReqQFullDrop", "TcpExt.TCPReqQFullDoCookies", "TcpExt.SyncookiesSent",
	"TcpExt.TCPMemoryPressures", "TcpExt.TCPAbortOnMemory", "TcpExt.TCPTimeWaitOverflow",
};

/* The tick being decided: track's count once it has taken this sample. */
static uint64_t this_tick(const struct deep_policy_in *in)
{
	return in->track->ticks + 1;
}

static bool moved(const struct track *t, const struct tick_sample *s, const char *name)
{
	int64_t d;

	return track_host_delta_to(t, s->counters, name, &d) && d > 0;
}

/* Has the deep tier rested 1/duty of the time since its last run, for what that run cost? */
static bool rested(const struct deep_policy_in *in, const struct deep_book *b, int64_t duty)
{
	return in->mono_ms - b->last_ms >= b->cost_ms * duty;
}

/* Sockstat's TCP pages at or past tcp_mem's pressure threshold. */
static bool tcp_mem_pressure(const struct tick_sample *s)
{
	const struct limits *lim = s->limits;

	return s->sockstat && lim && s->sockstat->tcp_mem >= 0 && lim->tcp_mem[1] > 0 &&
	       s->sockstat->tcp_mem >= lim->tcp_mem[1];
}

/* Listen drops beyond overflows: SYN-queue drops, which only the deep tier attributes. */
static bool syn_queue_drops(const struct deep_policy_in *in)
{
	int64_t overflows = 0, drops = 0;

	return track_host_delta_to(in->track, in->sample->counters, "TcpExt.ListenDrops", &drops) &&
	       track_host_delta_to(in->track, in->sample->counters, "TcpExt.ListenOverflows", &overflows) &&
	       drops > overflows;
}

/* The ephemeral-ports threshold, as diagnose will use it (0: its default), so "half-way" means the same to both. */
static int64_t ephemeral_pct(const struct deep_policy_in *in)
{
	struct diag_thresholds dflt;

	if (in->ephemeral_pct)
		return in->ephemeral_pct;
	diag_thresholds_default(&dflt);
	return dflt.ephemeral_pct;
}

/* The size of ip_local_port_range, or 0 when unknown. */
static int64_t port_range(const struct limits *lim)
{
	if (!lim || lim->port_range_lo <= 0 || lim->port_range_hi < lim->port_range_lo)
		return 0;
	return lim->port_range_hi - lim->port_range_lo + 1;
}

/* Are `sockets` on one destination half-way to an ephemeral-ports finding (dest_warm's level)? */
static bool half_way(int64_t sockets, int64_t pct, int64_t range)
{
	return sockets * 200 >= pct * range;
}

/*
 * Could a destination be half-way now, by what the last good run counted?
 *
 * in_port_range (probes/deep.c) counts, per remote address:port, every
 * socket of the walk but listeners -- established, TIME_WAIT, SYN_SENT,
 * SYN_RECV and the closing states alike -- whose local port is in the
 * range. A destination's count grows only by new entries in the
 * established hash towards it: a socket changing state (to TIME_WAIT,
 * say) keeps its 4-tuple and was counted already, and closed ones only
 * lower it. New entries come from connect(), which Tcp.ActiveOpens counts
 * as it sends the SYN (the socket is hashed before that, so a socket the
 * counter had counted when this tick read it was in the hash when the walk
 * began), or from a listener, whose passive sockets take the listener's
 * own port: towards one remote address:port they number at most one per
 * listening address:port, so they cannot pile up on a destination the way
 * connect()s do. Hence no destination holds more than the run's peak plus
 * the active opens since. (Not counted: a connect() under TCP_REPAIR, a
 * checkpoint being restored, and a TCP_FASTOPEN_CONNECT socket not yet
 * written to; both are a few sockets, not a range.)
 * Open (today's look) before a good run, with the counter unread or gone
 * backwards, or with the range changed since the run counted against it.
 */
static bool ports_bound_open(const struct deep_policy_in *in, const struct deep_book *b,
			     int64_t pct, int64_t range)
{
	const struct limits *lim = in->sample->limits;
	int64_t opens;

	if (!b->ports_bounded || !in->sample->counters ||
	    !counters_get(in->sample->counters, "Tcp.ActiveOpens", &opens) || opens < b->ports_opens ||
	    lim->port_range_lo != b->ports_lo || lim->port_range_hi != b->ports_hi)
		return true;
	return half_way(b->ports_peak + (opens - b->ports_opens), pct, range);
}

/*
 * Sockets in use near the port range: maybe one destination has used it
 * up. The cheap totals first: every TCP socket but request sockets is in
 * sockstat's inuse (IPv4), TCP6 inuse (IPv6, v4-mapped included) or tw,
 * so no destination holds more than their sum; a finding needs
 * ephemeral_pct of the range on one, and the look starts at half the
 * range (or at that threshold, when it is set lower). Then the bound of
 * the last run (ports_bound_open). A busy server has many sockets without
 * any destination near the range (its clients come from everywhere): look
 * at most every DEEP_PORTS_TICKS ticks, unless the last look found one
 * half-way, or this is a one-shot run's last tick.
 */
static bool ports_look(const struct deep_policy_in *in, const struct deep_book *b)
{
	const struct sockstat *ss = in->sample->sockstat;
	int64_t range = port_range(in->sample->limits), pct = ephemeral_pct(in), used;

	if (!range || !ss || ss->tcp_inuse < 0)
		return false;
	used = ss->tcp_inuse + (ss->tcp6_inuse > 0 ? ss->tcp6_inuse : 0) + (ss->tcp_tw > 0 ? ss->tcp_tw : 0);
	if (used * 2 < range && used * 100 < pct * range)
		return false;
	if (!ports_bound_open(in, b, pct, range))
		return false;
	/* A one-shot run has no later tick to look in: it looks now. */
	if (in->oneshot)
		return true;
	return (b->dest_warm || this_tick(in) - b->last_tick >= DEEP_PORTS_TICKS) &&
	       rested(in, b, b->dest_warm ? DEEP_DUTY_WARM : DEEP_DUTY);
}

const char *deep_policy_reason(const struct deep_policy_in *in, const struct deep_book *b)
{
	const struct tick_sample *s = in->sample;
	size_t i;

	/*
	 * The periodic run only when asked ([deep] every_ticks, 0 by default):
	 * it would find nothing the cheap preconditions below miss. Each rule
	 * reads the deep sample in a tick that one of them ran it for: SYN-queue
	 * drops and cookies (syn-queue-drop, syn-flood), TCP memory short
	 * (tcp-memory's holders), the kernel log, and the port hint
	 * (ephemeral-ports). What it adds is a tally on quiet ticks for status
	 * and explain, for whoever sets it; set, it keeps its meaning.
	 */
	if (in->every_ticks && this_tick(in) - b->last_tick >= in->every_ticks && rested(in, b, DEEP_DUTY))
		return "periodic";
	for (i = 0; i < ARRAY_SIZE(deep_signals); i++)
		if (moved(in->track, s, deep_signals[i]))
			return deep_signals[i];
	if (syn_queue_drops(in))
		return "ListenDrops beyond ListenOverflows";
	if (s->n_kmsg)
		return "kernel log";
	if (tcp_mem_pressure(s))
		return "TCP memory pressure";
	if (ports_look(in, b))
		return "sockets near the port range";
	return NULL;
}

/*
 * The most sockets any one destination held on ports of the range, by a
 * finished walk: the listed destinations' own counts, and for the others
 * (dests[] keeps the DEEP_TOP_DESTS with most sockets in all) no more than
 * the last listed one's total.
 */
static int64_t dest_peak(const struct deep_sample *ds, bool unlisted)
{
	int64_t peak = 0;
	size_t i;

	for (i = 0; i < ds->n_dests && i < DEEP_TOP_DESTS; i++)
		if (ds->dests[i].in_port_range > peak)
			peak = ds->dests[i].in_port_range;
	if (unlisted && ds->n_dests >= DEEP_TOP_DESTS && ds->dests[DEEP_TOP_DESTS - 1].total > peak)
		peak = ds->dests[DEEP_TOP_DESTS - 1].total;
	return peak;
}

/* Did the deep tier find a destination half-way to ephemeral-ports? Then it looks every tick. */
static bool dest_warm(const struct deep_policy_in *in, const struct deep_sample *ds)
{
	int64_t range = port_range(in->sample->limits);

	return range && ds->n_dests && half_way(dest_peak(ds, false), ephemeral_pct(in), range);
}

/*
 * Keep the port bound of a good run: its peak and the active opens this
 * tick read (before the walk). A walk that skipped malformed entries, or
 * counted against no range, or a tick without the counter, gives none.
 */
static void book_ports(struct deep_book *b, const struct deep_policy_in *in, const struct deep_sample *ds)
{
	b->ports_bounded = ds->skipped == 0 && ds->port_lo > 0 && ds->port_hi >= ds->port_lo &&
			   in->sample->counters &&
			   counters_get(in->sample->counters, "Tcp.ActiveOpens", &b->ports_opens);
	b->ports_peak = b->ports_bounded ? dest_peak(ds, true) : 0;
	b->ports_lo = ds->port_lo;
	b->ports_hi = ds->port_hi;
}

void deep_policy_ran(struct deep_book *b, const struct deep_policy_in *in,
		     const struct deep_sample *ds, int64_t end_ms)
{
	b->last_ms = end_ms;
	b->cost_ms = end_ms - in->mono_ms;
	if (!ds)
		return;
	b->last_tick = this_tick(in);
	b->dest_warm = dest_warm(in, ds);
	book_ports(b, in, ds);
}

static int64_t delta_or_unknown(const struct track *t, const struct tick_sample *s, const char *name)
{
	int64_t d;

	return track_host_delta_to(t, s->counters, name, &d) ? d : -1;
}

bool deep_policy_memory_short(const struct track *t, const struct tick_sample *s)
{
	struct tcp_memory_signs sg = {
		.mem_pages = s->sockstat ? s->sockstat->tcp_mem : -1,
		.pressure_pages = s->limits ? s->limits->tcp_mem[1] : -1,
		.pressures = delta_or_unknown(t, s, "TcpExt.TCPMemoryPressures"),
		.aborts = delta_or_unknown(t, s, "TcpExt.TCPAbortOnMemory"),
	};
	size_t i;

	for (i = 0; i < s->n_kmsg; i++)
		sg.ooms += s->kmsg[i].kind == KMSG_TCP_OOM;
	return tcp_memory_short(&sg);
}
