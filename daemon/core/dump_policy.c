/* dump_policy.c: whether a tick dumps the listeners, decided from the cheap signals read before it. */
#include "base.h"

#include "dump_policy.h"

/*
 * Counters that move when a listener drops or refuses (tcp_listendrop()
 * adds to the listener's sk_drops and to ListenDrops together; an
 * overflow adds ListenOverflows too), or when its SYN queue fills: after
 * any of them moved, the dump attributes the drops to their listener (its
 * drop counter is cumulative, so no drop is lost between two dumps).
 */
static const char *const listen_signals[] = {
	"TcpExt.ListenOverflows", "TcpExt.ListenDrops", "TcpExt.TCPReqQFullDrop",
	"TcpExt.TCPReqQFullDoCookies", "TcpExt.SyncookiesSent", "TcpExt.SyncookiesFailed",
};

static bool counter_moved(const struct track *t, const struct counters *next, const char *name)
{
	int64_t d;

	return track_host_delta_to(t, next, name, &d) && d > 0;
}

/* Every kernel has ListenOverflows: when it cannot be compared, nothing can, and any may have moved. */
static bool counters_known(const struct track *t, const struct counters *next)
{
	int64_t d;

	return track_host_delta_to(t, next, "TcpExt.ListenOverflows", &d);
}

/*
 * The TCP sockets of the namespace (sockstat's "TCP: inuse" and "TCP6:
 * inuse") came or went. The kernel counts a socket when it enters its
 * hash tables and uncounts it when it leaves them (__inet_hash() and
 * inet_ehash_nolisten(), inet_unhash(), net/ipv4/inet_hashtables.c): a
 * listener counts from listen() to close(), and an accepted connection
 * from its handshake on, queued or not. So on a quiet host a listener
 * that vanishes or comes back, or a connection that lands in a queue,
 * moves it; on a busy one it moves every tick and the dump happens as
 * before. An unknown count may have moved.
 */
static bool sockets_moved(const struct track *t, const struct sockstat *now)
{
	const struct sockstat *prev = &t->hs_cur.ss;

	if (!t->hs_cur.valid || !now || now->tcp_inuse < 0 || prev->tcp_inuse < 0)
		return true;
	return now->tcp_inuse != prev->tcp_inuse || now->tcp6_inuse != prev->tcp6_inuse;
}

/* A listener vanished lately and has not come back. */
static bool gap_young(const struct track *t)
{
	size_t i;

	for (i = 0; i < t->n_gaps; i++) {
		const struct listener_gap *g = &t->gaps[i];

		if (g->returned_ms == 0 && t->now_ms - g->missing_ms < DUMP_GAP_WATCH_MS)
			return true;
	}
	return false;
}

const char *dump_policy_reason(const struct dump_policy_in *in)
{
	const struct track *t = in->track;
	const struct tick_sample *s = in->sample;
	size_t i;

	if (t->ticks == 0 || in->last_dump_ms == 0)
		return "first tick";
	if (in->stale)
		return "listeners not known";
	if (in->refresh_ms == 0)
		return "every tick";
	if (!counters_known(t, s->counters))
		return "counters not known";
	for (i = 0; i < ARRAY_SIZE(listen_signals); i++)
		if (counter_moved(t, s->counters, listen_signals[i]))
			return listen_signals[i];
	if (sockets_moved(t, s->sockstat))
		return "TCP sockets came or went";
	if (in->hot)
		return "a listener is hot";
	if (gap_young(t))
		return "a listener is missing";
	if (in->owners_moved)
		return "owners changed";
	if (s->n_kmsg)
		return "kernel log";
	if (in->mono_ms - in->last_dump_ms >= in->refresh_ms)
		return "refresh";
	return NULL;
}
