/* monitor.c: one tick end to end, shared by backlogd and `backlogctl diagnose`. */
#include "base.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diagnose.h"
#include "monitor.h"
#include "clock.h"

/* Resolved findings kept for `backlogctl status`. */
#define MONITOR_RESOLVED_KEPT 64
/* "Sockets near the port range" runs the deep tier at most this often on its own. */
#define MONITOR_PORTS_TICKS 10
/*
 * ... and, like the periodic run, spends at most 1 / this of the time on
 * the deep tier (5 times as much while a destination is half-way): a host
 * with 200,000 connections, whose deep dump takes a second, looks every
 * 100 s, a small one as often as asked. The symptoms (counters, the kernel
 * log) run it whatever it costs.
 */
#define MONITOR_DEEP_DUTY 100
#define MONITOR_DEEP_DUTY_WARM 20
/* The deep tier's working state kept between runs (a few thousand sockets' worth); more is freed. */
#define MONITOR_DEEP_KEEP_BYTES (256 * 1024)
/*
 * Readlinks per tick spent checking that owners still hold their sockets
 * (procmap_prune_exited): each holder process is asked once a tick (an exit
 * is seen at the next tick), and what is left of this goes to a slice of
 * the sockets one by one, for the rare live process that closed one of
 * them while others hold it still: a host with 1,000 listeners is gone
 * round every 2 minutes, one with 10,000 every 20, for a fixed cost a tick
 * (a readlink under /proc costs as much as a hundred listeners' dump).
 */
#define MONITOR_PRUNE_CHECKS 8
/* Owners always come from the real /proc, whatever proc_root says. */
#define MONITOR_PID_ROOT "/proc"

int monitor_init(struct monitor *m, const struct config *cfg, const char *proc_root)
{
	return monitor_init_ns(m, cfg, proc_root, NULL);
}

int monitor_init_ns(struct monitor *m, const struct config *cfg, const char *proc_root,
		    const char *sys_root)
{
	int r;

	memset(m, 0, sizeof(*m));
	m->proc_root = proc_root;
	m->sys_root = sys_root ? sys_root : proc_root;
	m->cfg = *cfg;
	listener_set_init(&m->dump);
	listener_set_init(&m->fast_set);
	counters_init(&m->counters);
	track_init(&m->track);
	finding_list_init(&m->firing);
	findings_init(&m->findings, MONITOR_RESOLVED_KEPT);
	deep_sample_init(&m->deep);
	limits_unknown(&m->limits);
	sysctl_files_init(&m->sysctl_files);
	m->started = (int64_t)time(NULL);

	/* The /proc/net files read every tick stay open: their path walk is most of their cost. */
	r = procbuf_init_kept(&m->pbuf);
	if (r < 0)
		goto out_free;
	r = sockdiag_open(&m->sd);
	if (r < 0)
		goto out_free;
	m->pm = procmap_new(MONITOR_PID_ROOT);
	if (!m->pm) {
		r = -ENOMEM;
		goto out_sockdiag;
	}
	/* Interface drops are one cause among many: go on without rtnetlink. */
	if (links_open(&m->links) < 0)
		m->links = NULL;
	return 0;

out_sockdiag:
	sockdiag_close(m->sd);
	m->sd = NULL;
out_free:
	deep_sample_free(&m->deep);
	findings_free(&m->findings);
	finding_list_free(&m->firing);
	track_free(&m->track);
	counters_free(&m->counters);
	listener_set_free(&m->dump);
	listener_set_free(&m->fast_set);
	procbuf_free(&m->pbuf);
	return r;
}

void monitor_done(struct monitor *m)
{
	sysctl_files_close(&m->sysctl_files);
	if (m->links)
		links_close(m->links);
	procmap_free(m->pm);
	sockdiag_close(m->sd);
	deep_sample_free(&m->deep);
	findings_free(&m->findings);
	finding_list_free(&m->firing);
	track_free(&m->track);
	counters_free(&m->counters);
	listener_set_free(&m->dump);
	listener_set_free(&m->fast_set);
	procbuf_free(&m->pbuf);
	memset(m, 0, sizeof(*m));
}

void monitor_set_config(struct monitor *m, const struct config *cfg)
{
	m->cfg = *cfg;
}

void monitor_add_kmsg(struct monitor *m, const struct kmsg_event *ev, size_t n)
{
	size_t room = TRACK_KMSG_MAX - m->n_kmsg_pending;
	size_t take = n < room ? n : room;

	memcpy(&m->kmsg_pending[m->n_kmsg_pending], ev, take * sizeof(*ev));
	m->n_kmsg_pending += take;
	m->kmsg_overflow += (unsigned)(n - take);
}

/* Ticks a listener stays hot after its queue was last seen above half its backlog. */
#define MONITOR_HOT_TICKS 3

/*
 * Above half its backlog, now or in the last few ticks (a queue that a
 * server empties in batches swings under the line between two samples): a
 * burst from there can fill it before the next tick.
 */
static bool listener_hot(const struct tracked *tr)
{
	unsigned k;

	if (tr->l.backlog == 0)
		return false;
	if ((uint64_t)tr->fast_peak_queue * 2 > tr->l.backlog)
		return true;
	for (k = 0; k < MONITOR_HOT_TICKS; k++) {
		const struct tick_point *p = tracked_hist(tr, k);

		if (!p)
			break;
		if ((uint64_t)p->queue * 2 > p->backlog)
			return true;
	}
	return false;
}

bool monitor_listener_hot(const struct tracked *tr)
{
	return listener_hot(tr);
}

size_t monitor_hot(const struct monitor *m)
{
	size_t i, n = 0;

	for (i = 0; i < m->track.count; i++)
		n += listener_hot(&m->track.items[i]);
	return n;
}

/* Ports sampled per fast round at most: hot listeners are few, or it is all a tick's work. */
#define MONITOR_FAST_PORTS SOCKDIAG_MAX_PORTS

size_t monitor_fast_sample(struct monitor *m)
{
	uint16_t ports[MONITOR_FAST_PORTS];
	size_t i, j, nports = 0, hot = 0;

	for (i = 0; i < m->track.count; i++) {
		const struct tracked *tr = &m->track.items[i];

		if (!listener_hot(tr))
			continue;
		hot++;
		for (j = 0; j < nports && ports[j] != tr->l.port; j++)
			;
		if (j == nports && nports < MONITOR_FAST_PORTS)
			ports[nports++] = tr->l.port;
	}
	/* One dump for all the hot ports: each dump walks every listener in the kernel. */
	if (nports == 0 || sockdiag_dump_ports(m->sd, ports, nports, &m->fast_set) < 0)
		return hot;
	m->fast_dumps++;
	for (j = 0; j < m->fast_set.count; j++) {
		const struct listener *l = &m->fast_set.items[j];
		struct tracked *tr = track_find(&m->track, l->cookie);

		if (!tr)
			continue;       /* new since the tick: the tick will see it */
		if (l->queue > tr->fast_peak_queue)
			tr->fast_peak_queue = l->queue;
		tr->fast_samples++;
	}
	return hot;
}

/*
 * What the fast samples saw between the previous tick and this one counts
 * as seen in this tick: the queue point of this tick's history, the peak,
 * and a full queue (so an overflow in a burst is told as one).
 */
static void fold_fast_samples(struct monitor *m)
{
	size_t i;

	for (i = 0; i < m->track.count; i++) {
		struct tracked *tr = &m->track.items[i];
		struct tick_point *p;

		if (!tr->fast_samples)
			continue;
		p = tracked_hist_newest(tr);
		if (!p) {
			/* No memory for the ring: the samples are not folded this tick. */
			tr->fast_peak_queue = 0;
			tr->fast_samples = 0;
			continue;
		}
		if (tr->fast_peak_queue > tr->l.backlog && p->queue <= p->backlog) {
			m->fast_full++;
			if (tr->ticks_full == 0)
				tr->ticks_full = 1;
		}
		if (tr->fast_peak_queue > p->queue)
			p->queue = tr->fast_peak_queue;
		if (tr->fast_peak_queue > tr->peak_queue)
			tr->peak_queue = tr->fast_peak_queue;
		tr->fast_peak_queue = 0;
		tr->fast_samples = 0;
	}
}

/* Drop the listeners the configuration says to ignore, in place. */
static void filter_ignored(struct monitor *m)
{
	size_t i, kept = 0;

	if (m->cfg.n_ignore_ports == 0 && m->cfg.n_ignore_addrs == 0)
		return;
	for (i = 0; i < m->dump.count; i++)
		if (!config_ignores(&m->cfg, &m->dump.items[i]))
			m->dump.items[kept++] = m->dump.items[i];
	m->dump.count = kept;
}

/*
 * Ask procmap for the owners of every listener and, when holders is set,
 * of the deep tier's top memory holders. Asked only when the sockets
 * change, so the arrays of inodes are made for the ask and freed after it
 * rather than kept: 12 bytes a listener for nothing most of the time.
 * Return: 0 or -ENOMEM.
 */
static int ask_procmap(struct monitor *m, bool holders)
{
	const struct track *t = &m->track;
	size_t i, n = 0, max = t->count + DEEP_TOP_HOLDERS;
	uint32_t *inodes = malloc(max * sizeof(*inodes));
	uint64_t *cgroup_ids = malloc(max * sizeof(*cgroup_ids));
	int r = -ENOMEM;

	if (inodes && cgroup_ids) {
		/* The socket's cgroup (INET_DIAG_CGROUP_ID) narrows a new listener's search to its processes. */
		for (i = 0; i < t->count; i++) {
			cgroup_ids[n] = t->items[i].l.cgroup_id;
			inodes[n++] = t->items[i].l.inode;
		}
		for (i = 0; holders && i < m->deep.n_holders; i++)
			if (m->deep.holders[i].inode) {
				cgroup_ids[n] = 0;
				inodes[n++] = m->deep.holders[i].inode;
			}
		r = procmap_update_hinted(m->pm, inodes, cgroup_ids, n);
	}
	free(inodes);
	free(cgroup_ids);
	return r;
}

/*
 * Give every tracked listener, and while TCP memory is short every top
 * memory holder of the deep tier, its owner. procmap walks /proc only for
 * inodes it has not seen, and is asked nothing while the sockets stay the
 * same: a steady state costs the prune's few readlinks.
 */
static int attach_owners(struct monitor *m)
{
	struct track *t = &m->track;
	size_t i;
	/*
	 * The deep tier's top memory holders are named only while TCP memory
	 * is short (when tcp-memory lists them): a holder is any socket, not a
	 * listener procmap knows, and may take a walk of every process.
	 */
	bool ask, missing = false, holders = m->deep_ran && diagnose_tcp_memory_short(t);
	int r = 0;

	/* Workers exit: every holder process asked once, and a slice of sockets one by one. */
	procmap_prune_exited(m->pm, MONITOR_PRUNE_CHECKS);
	/*
	 * The same sockets as last tick need no asking: in the steady state
	 * neither the inodes are gathered nor procmap searched. If the ask
	 * fails, the pointers below are still set again if the prune moved
	 * them.
	 */
	ask = m->owners_stale || t->new_count > 0 || t->gone_count > 0 || holders;
	if (ask) {
		unsigned long scans = procmap_full_walks(m->pm) + procmap_cgroup_hits(m->pm);

		r = ask_procmap(m, holders);
		/* A scan of processes' fds (fdopendir buffers, names) leaves free pages in the heap: give them back. */
		if (procmap_full_walks(m->pm) + procmap_cgroup_hits(m->pm) != scans)
			malloc_trim(0);
	}
	/*
	 * Owners live in procmap and move when it changes: then every
	 * listener's pointer is set again, even when the update failed
	 * (procmap is still whole then, only some owners unknown). A new
	 * listener always brings a change (its inode was not cached).
	 */
	if (procmap_generation(m->pm) != m->owners_gen || t->new_count > 0) {
		for (i = 0; i < t->count; i++) {
			t->items[i].owner = procmap_get(m->pm, t->items[i].l.inode);
			missing |= !t->items[i].owner;
		}
		m->owners_gen = procmap_generation(m->pm);
		/* Not cached at all (/proc unreadable): ask again next tick. */
		m->owners_stale = missing;
	}
	m->owners_stale |= r < 0;
	for (i = 0; i < t->count; i++) {
		struct tracked *tr = &t->items[i];

		/* The owner's state matters only when it is dropping (slow-accept). */
		tr->owner_state = 0;
		if (tr->drops_delta > 0 && tracked_owner(tr)->nprocs > 0)
			tr->owner_state = procmap_proc_state(MONITOR_PID_ROOT, tracked_owner(tr)->procs[0].pid);
	}
	for (i = 0; holders && i < m->deep.n_holders; i++) {
		struct mem_holder *h = &m->deep.holders[i];
		const struct owner *o = h->inode ? procmap_get(m->pm, h->inode) : NULL;

		if (o && o->nprocs > 0) {
			h->pid = o->procs[0].pid;
			memcpy(h->comm, o->procs[0].comm, sizeof(h->comm));
		}
	}
	return r;
}

/* Did the deep tier find a destination half-way to ephemeral-ports? Then it looks every tick. */
static bool deep_dest_warm(const struct monitor *m)
{
	int64_t lo = m->limits.port_range_lo, hi = m->limits.port_range_hi;
	unsigned pct = m->cfg.thr.ephemeral_pct ? m->cfg.thr.ephemeral_pct : 80;

	if (lo <= 0 || hi < lo || m->deep.n_dests == 0)
		return false;
	return (int64_t)m->deep.dests[0].in_port_range * 200 >= (int64_t)pct * (hi - lo + 1);
}

/* Has the deep tier rested 1/duty of the time since its last run, for what that run cost? */
static bool deep_rested(const struct monitor *m, int64_t duty)
{
	return clock_mono_ms() - m->deep_last_ms >= m->deep_cost_ms * duty;
}

static bool host_moved(const struct track *t, const char *name)
{
	int64_t d;

	return track_host_delta(t, name, &d) && d > 0;
}

/*
 * The deep tier walks every connection on the host: run it only when a
 * cheap signal points at what it measures, or every N ticks.
 * Return: why it should run now, or NULL.
 */
static const char *deep_reason(const struct monitor *m)
{
	static const char *const signals[] = {
		"TcpExt.TCPReqQFullDrop", "TcpExt.TCPReqQFullDoCookies", "TcpExt.SyncookiesSent",
		"TcpExt.TCPMemoryPressures", "TcpExt.TCPAbortOnMemory", "TcpExt.TCPTimeWaitOverflow",
	};
	const struct track *t = &m->track;
	const struct sockstat *ss = &m->sockstat;
	const struct limits *lim = &m->limits;
	int64_t overflows = 0, drops = 0;
	size_t i;

	if (m->cfg.deep_every_ticks && t->ticks - m->deep_last_tick >= m->cfg.deep_every_ticks &&
	    deep_rested(m, MONITOR_DEEP_DUTY))
		return "periodic";
	for (i = 0; i < ARRAY_SIZE(signals); i++)
		if (host_moved(t, signals[i]))
			return signals[i];
	/* Listen drops beyond overflows: SYN-queue drops, which only the deep tier attributes. */
	if (track_host_delta(t, "TcpExt.ListenDrops", &drops) &&
	    track_host_delta(t, "TcpExt.ListenOverflows", &overflows) && drops > overflows)
		return "ListenDrops beyond ListenOverflows";
	if (m->n_kmsg_pending)
		return "kernel log";
	if (ss->tcp_mem >= 0 && lim->tcp_mem[1] > 0 && ss->tcp_mem >= lim->tcp_mem[1])
		return "TCP memory pressure";
	/* Sockets in use near the port range: maybe one destination has used it up. */
	if (lim->port_range_lo > 0 && lim->port_range_hi >= lim->port_range_lo && ss->tcp_inuse >= 0) {
		int64_t range = lim->port_range_hi - lim->port_range_lo + 1;
		int64_t used = ss->tcp_inuse + (ss->tcp_tw > 0 ? ss->tcp_tw : 0);

		/*
		 * A busy server has many sockets without any destination near the
		 * range (its clients come from everywhere): look at most every
		 * MONITOR_PORTS_TICKS ticks, unless the last look found one half-way.
		 */
		if (used * 2 >= range &&
		    (m->deep_dest_warm || t->ticks - m->deep_last_tick >= MONITOR_PORTS_TICKS) &&
		    deep_rested(m, m->deep_dest_warm ? MONITOR_DEEP_DUTY_WARM : MONITOR_DEEP_DUTY))
			return "sockets near the port range";
	}
	return NULL;
}

/*
 * diagnose knows nothing of namespaces: say in every finding which one it is
 * about, and where a remedy must be run: a sysctl set on the host fixes
 * nothing in a container's namespace.
 */
static void stamp_netns(struct monitor *m)
{
	char prefix[2 * NETNS_NAME_MAX + 64];
	size_t i, plen, rlen;

	for (i = 0; i < m->firing.count; i++) {
		struct finding *f = &m->firing.items[i];

		f->netns_inode = m->netns_inode;
		snprintf(f->netns_name, sizeof(f->netns_name), "%s", m->netns_name);
		if (!m->netns_enter[0])
			continue;
		snprintf(prefix, sizeof(prefix), "in network namespace %s (enter it with %s): ",
			 m->netns_name, m->netns_enter);
		plen = strlen(prefix);
		if (plen >= sizeof(f->remedy))
			continue;
		/* The remedy moves up behind the prefix; its end is cut if it must be. */
		rlen = strnlen(f->remedy, sizeof(f->remedy) - 1);
		if (plen + rlen > sizeof(f->remedy) - 1)
			rlen = sizeof(f->remedy) - 1 - plen;
		memmove(f->remedy + plen, f->remedy, rlen);
		memcpy(f->remedy, prefix, plen);
		f->remedy[plen + rlen] = '\0';
	}
}

int monitor_tick(struct monitor *m, int64_t now_ms, finding_cb cb, void *arg)
{
	int r;

	/* Repeats are dropped by track_update, which sorts by cookie anyway. */
	r = sockdiag_dump_listeners_raw(m->sd, &m->dump);
	if (r < 0)
		goto out_fail;
	filter_ignored(m);
	/* Counters that cannot be read leave host deltas unknown; listeners still count. */
	if (netstat_read_buf(m->proc_root, &m->counters, &m->pbuf) < 0)
		counters_clear(&m->counters);
	sysctl_read_limits_kept(&m->sysctl_files, m->sys_root, &m->limits);
	sockstat_read_buf(m->proc_root, &m->sockstat, &m->pbuf);
	conntrack_read2_buf(m->proc_root, m->sys_root, &m->conntrack, &m->pbuf);
	if (!m->links || links_read(m->links, &m->link_table) < 0)
		m->link_table.count = 0;
	r = track_update(&m->track, &m->dump, &m->counters, &m->limits, now_ms);
	if (r < 0)
		goto out_fail;
	fold_fast_samples(m);

	m->deep_reason = deep_reason(m);
	m->deep_ran = false;
	if (m->deep_reason) {
		int64_t start = clock_mono_ms();

		/* A failed deep dump costs the deep causes one tick, not the tick. */
		r = sockdiag_dump_deep(m->sd, &m->deep, m->limits.port_range_lo, m->limits.port_range_hi);
		m->deep_last_ms = clock_mono_ms();
		m->deep_cost_ms = m->deep_last_ms - start;
		/*
		 * A big run's working memory goes back to the kernel: the big
		 * blocks are mmap()ed (backlogd.c), and malloc_trim returns the
		 * free pages its smaller steps left in the heap.
		 */
		if (deep_sample_trim(&m->deep, MONITOR_DEEP_KEEP_BYTES) > 0)
			malloc_trim(0);
		if (r == 0) {
			m->deep_ran = true;
			m->deep_runs++;
			m->deep_last_tick = m->track.ticks;
			m->deep_dest_warm = deep_dest_warm(m);
		}
	}
	track_update_host(&m->track, &m->sockstat, &m->conntrack, &m->link_table,
			  m->kmsg_pending, m->n_kmsg_pending, m->deep_ran ? &m->deep : NULL);
	m->n_kmsg_pending = 0;

	r = attach_owners(m);
	if (r < 0)
		goto out_fail;
	r = diagnose(&m->track, &m->cfg.thr, &m->firing);
	if (r < 0)
		goto out_fail;
	stamp_netns(m);
	r = findings_update(&m->findings, &m->firing, now_ms / 1000, m->cfg.quiet_secs, cb, arg);
	if (r < 0)
		goto out_fail;
	m->last_error = 0;
	return 0;

out_fail:
	m->last_error = r;
	m->failed_ticks++;
	return r;
}
