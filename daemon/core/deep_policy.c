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

/*
 * Sockets in use near the port range: maybe one destination has used it
 * up. A busy server has many sockets without any destination near the
 * range (its clients come from everywhere): look at most every
 * DEEP_PORTS_TICKS ticks, unless the last look found one half-way, or
 * this is a one-shot run's last tick.
 */
static bool ports_look(const struct deep_policy_in *in, const struct deep_book *b)
{
	const struct limits *lim = in->sample->limits;
	const struct sockstat *ss = in->sample->sockstat;
	int64_t range, used;

	if (!lim || !ss || lim->port_range_lo <= 0 || lim->port_range_hi < lim->port_range_lo ||
	    ss->tcp_inuse < 0)
		return false;
	range = lim->port_range_hi - lim->port_range_lo + 1;
	used = ss->tcp_inuse + (ss->tcp_tw > 0 ? ss->tcp_tw : 0);
	if (used * 2 < range)
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

/* Did the deep tier find a destination half-way to ephemeral-ports? Then it looks every tick. */
static bool dest_warm(const struct deep_policy_in *in, const struct deep_sample *ds)
{
	const struct limits *lim = in->sample->limits;
	struct diag_thresholds dflt;
	unsigned pct = in->ephemeral_pct;

	if (!pct) {
		/* Unset: diagnose's own default, so "half-way" means the same to both. */
		diag_thresholds_default(&dflt);
		pct = dflt.ephemeral_pct;
	}

	if (!lim || lim->port_range_lo <= 0 || lim->port_range_hi < lim->port_range_lo || ds->n_dests == 0)
		return false;
	return (int64_t)ds->dests[0].in_port_range * 200 >=
	       (int64_t)pct * (lim->port_range_hi - lim->port_range_lo + 1);
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
