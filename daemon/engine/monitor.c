/* monitor.c: one tick end to end, shared by backlogd and `backlogctl diagnose`. */
#include "base.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "deep_policy.h"
#include "diagnose.h"
#include "dump_policy.h"
#include "monitor.h"
#include "ownertab.h"
#include "procinfo.h"

/* Resolved findings kept for `backlogctl status`. */
#define MONITOR_RESOLVED_KEPT 64
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
/*
 * Ticks between looks for the conntrack module while it is not loaded: a
 * table just created is empty, and "table full" is logged by the kernel
 * too (a kernel log line dumps and diagnoses at once).
 */
#define MONITOR_CONNTRACK_LOOK_TICKS 10
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
	fast_peaks_init(&m->fast);
	counters_init(&m->counters);
	track_init(&m->track);
	finding_list_init(&m->firing);
	findings_init(&m->findings, MONITOR_RESOLVED_KEPT);
	client_book_init(&m->clients);
	qhist_init(&m->qhist);
	deep_sample_init(&m->deep);
	limits_unknown(&m->limits);
	sysctl_files_init(&m->sysctl_files);
	procfd_init(&m->conntrack_count);
	m->started = (int64_t)time(NULL);

	/* The /proc/net files read every tick stay open: their path walk is most of their cost. */
	m->keep_files = sys_root == NULL;
	procbuf_init(&m->pbuf);
	r = m->keep_files ? procbuf_init_kept(&m->pbuf) : 0;
	if (r < 0)
		goto out_fail;
	r = sockdiag_open(&m->sd);
	if (r < 0)
		goto out_fail;
	m->pm = procmap_new(MONITOR_PID_ROOT);
	if (!m->pm) {
		r = -ENOMEM;
		goto out_fail;
	}
	/* Interface drops are one cause among many: go on without rtnetlink. */
	if (links_open(&m->links) < 0)
		m->links = NULL;
	return 0;

out_fail:
	/* Everything above is either opened or still zero, which monitor_done takes too. */
	monitor_done(m);
	return r;
}

void monitor_done(struct monitor *m)
{
	sysctl_files_close(&m->sysctl_files);
	procfd_close(&m->conntrack_count);
	if (m->links)
		links_close(m->links);
	procmap_free(m->pm);
	sockdiag_close(m->sd);
	deep_sample_free(&m->deep);
	findings_free(&m->findings);
	client_book_free(&m->clients);
	qhist_free(&m->qhist);
	finding_list_free(&m->firing);
	track_free(&m->track);
	counters_free(&m->counters);
	listener_set_free(&m->dump);
	listener_set_free(&m->fast_set);
	fast_peaks_free(&m->fast);
	free(m->owners);
	free(m->owner_states);
	procbuf_free(&m->pbuf);
	memset(m, 0, sizeof(*m));
}

void monitor_set_config(struct monitor *m, const struct config *cfg)
{
	m->cfg = *cfg;
	/* The listeners to ignore may have changed: the next tick dumps them again. */
	m->listeners_stale = true;
}

void monitor_add_kmsg(struct monitor *m, const struct kmsg_event *ev, size_t n)
{
	size_t room = TRACK_KMSG_MAX - m->n_kmsg_pending;
	size_t take = n < room ? n : room;

	memcpy(&m->kmsg_pending[m->n_kmsg_pending], ev, take * sizeof(*ev));
	m->n_kmsg_pending += take;
	m->kmsg_overflow += (unsigned)(n - take);
}

bool monitor_add_drop(struct monitor *m, const struct drop_event *ev, int64_t wall_ms)
{
	size_t before = m->clients.count;

	client_book_add(&m->clients, ev, wall_ms);
	return ev->kind != DROP_REFUSED && m->clients.count > before;
}

/* Ticks a listener stays hot after its queue was last seen above half its backlog. */
#define MONITOR_HOT_TICKS 3

/*
 * Above half its backlog in the last few ticks (a queue that a server
 * empties in batches swings under the line between two samples): a burst
 * from there can fill it before the next tick.
 */
static bool listener_hot(const struct tracked *tr)
{
	return tr->l.backlog != 0 && tr->above_half_seen != 0 &&
	       tr->ticks_seen - tr->above_half_seen < MONITOR_HOT_TICKS;
}

bool monitor_listener_hot(const struct tracked *tr)
{
	return listener_hot(tr);
}

/* Ports sampled per fast round at most: hot listeners are few, or it is all a tick's work. */
#define MONITOR_FAST_PORTS SOCKDIAG_MAX_PORTS

static void port_add(uint16_t *ports, size_t *nports, uint16_t port)
{
	size_t j;

	for (j = 0; j < *nports && ports[j] != port; j++)
		;
	if (j == *nports && *nports < MONITOR_FAST_PORTS)
		ports[(*nports)++] = port;
}

/*
 * The hot listeners: hot by their history, or by a fast sample since the
 * tick. With ports, their ports are gathered too (MONITOR_FAST_PORTS).
 * Return: how many listeners are hot.
 */
static size_t hot_scan(const struct monitor *m, uint16_t *ports, size_t *nports)
{
	const struct track *t = &m->track;
	size_t i, hot = 0;

	for (i = 0; i < t->count; i++) {
		if (!listener_hot(&t->items[i]))
			continue;
		hot++;
		if (ports)
			port_add(ports, nports, t->items[i].l.port);
	}
	/* A listener sampled on a hot port may be hot itself by now (its history does not say it yet). */
	for (i = 0; i < m->fast.count; i++) {
		const struct fast_peak *p = &m->fast.items[i];
		const struct tracked *tr = fast_peak_hot(p) ? track_find(t, p->cookie) : NULL;

		if (!tr || listener_hot(tr))
			continue;
		hot++;
		if (ports)
			port_add(ports, nports, tr->l.port);
	}
	return hot;
}

size_t monitor_hot(const struct monitor *m)
{
	return hot_scan(m, NULL, NULL);
}

size_t monitor_fast_sample(struct monitor *m)
{
	uint16_t ports[MONITOR_FAST_PORTS];
	size_t nports = 0, hot = hot_scan(m, ports, &nports);

	/* One dump for all the hot ports: each dump walks every listener in the kernel. */
	if (nports == 0 || sockdiag_dump_ports(m->sd, ports, nports, &m->fast_set) < 0)
		return hot;
	m->fast_dumps++;
	/* Out of memory: listeners not sampled before are left out until the tick. */
	(void)fast_peaks_add(&m->fast, &m->fast_set);
	return hot;
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

/* The host-wide limits a namespace has no file for: the host's, which apply in it. */
static void host_wide_limits(struct monitor *m)
{
	const struct limits *h = m->host_limits;

	if (!h)
		return;
	if (m->limits.tcp_max_orphans == SYSCTL_UNKNOWN)
		m->limits.tcp_max_orphans = h->tcp_max_orphans;
	if (m->limits.tcp_mem[0] == SYSCTL_UNKNOWN && m->limits.tcp_mem[1] == SYSCTL_UNKNOWN &&
	    m->limits.tcp_mem[2] == SYSCTL_UNKNOWN)
		memcpy(m->limits.tcp_mem, h->tcp_mem, sizeof(m->limits.tcp_mem));
}

/* The sysctls in force, read through descriptors kept open in our own namespace. */
static void read_limits(struct monitor *m)
{
	sysctl_read_limits_kept(&m->sysctl_files, m->sys_root, &m->limits);
	if (!m->keep_files)
		sysctl_files_close(&m->sysctl_files);
	host_wide_limits(m);
}

/* The LISTEN dump and the sysctls, for m->dump_reason. Return: 0 or the dump's -errno. */
static int dump_listeners(struct monitor *m, struct tick_sample *s)
{
	int64_t mono_ms = clock_mono_ms();
	int r;

	read_limits(m);
	/* Repeats are dropped by track, which sorts by cookie anyway. */
	r = sockdiag_dump_listeners_raw(m->sd, &m->dump);
	if (r < 0) {
		/* Part of a dump may be in m->dump: it is no tick's, and the next tick dumps again. */
		m->listeners_stale = true;
		/* The owners moved since track was given them (an exit, a stop): they may be gone. */
		if (procmap_generation(m->pm) != m->owners_gen)
			track_forget_owners(&m->track);
		snprintf(m->last_error_detail, sizeof(m->last_error_detail), "%s", sockdiag_ext_ack(m->sd));
		return r;
	}
	filter_ignored(m);
	m->listeners_stale = false;
	m->last_dump_mono_ms = mono_ms;
	m->listeners_at_ms = clock_wall_ms();
	m->dumps++;
	s->listeners = &m->dump;
	return 0;
}

/*
 * The listeners, when dump_policy asks (m->dump_reason); s->listeners is
 * then the dump, else NULL and the last dump's stand. The sysctls are read
 * with them: they are what a drop's remedy weighs, and on a quiet host
 * the refresh reads them often enough. Return: 0 or the dump's -errno.
 */
static int read_listeners(struct monitor *m, struct tick_sample *s)
{
	struct dump_policy_in in = {
		.track = &m->track,
		.sample = s,
		.hot = monitor_hot(m),
		/* Owner pointers handed to track may be stale: the dump's tick hands out new ones. */
		.owners_moved = procmap_generation(m->pm) != m->owners_gen || procmap_rescan_wanted(m->pm),
		.stale = m->listeners_stale,
		.refresh_ms = m->cfg.listener_refresh_ms,
		.mono_ms = clock_mono_ms(),
		.last_dump_ms = m->last_dump_mono_ms,
	};

	m->dump_reason = dump_policy_reason(&in);
	return m->dump_reason ? dump_listeners(m, s) : 0;
}

/*
 * The cheap probes of a tick into the monitor's buffers, and the sample
 * pointing at them: the counters and socket counts first, for they say
 * whether the listeners need dumping at all (read_listeners).
 * Return: 0 or the dump's -errno.
 */
static int read_cheap(struct monitor *m, struct tick_sample *s)
{
	int e_netstat, e_snmp;

	/* Counters that cannot be read leave host deltas unknown; listeners still count. */
	if (netstat_read_each(m->proc_root, &m->counters, &m->pbuf, &e_netstat, &e_snmp) < 0)
		counters_clear(&m->counters);
	sources_note(&m->sources, m->proc_root, SOURCE_NETSTAT, e_netstat);
	sources_note(&m->sources, m->proc_root, SOURCE_SNMP, e_snmp);
	sources_note(&m->sources, m->proc_root, SOURCE_SOCKSTAT,
		     sockstat_read_buf(m->proc_root, &m->sockstat, &m->pbuf));
	/* Without the module there is no table to fill: looked for again now and then, not every tick. */
	if (m->conntrack.present || m->track.ticks % MONITOR_CONNTRACK_LOOK_TICKS == 0)
		conntrack_read_kept(m->proc_root, m->sys_root, &m->conntrack, &m->pbuf,
				    m->keep_files ? &m->conntrack_count : NULL);
	if (!m->links || links_read(m->links, &m->link_table) < 0)
		m->link_table.count = 0;

	memset(s, 0, sizeof(*s));
	s->counters = &m->counters;
	s->limits = &m->limits;
	s->sockstat = &m->sockstat;
	s->conntrack = &m->conntrack;
	s->links = &m->link_table;
	s->kmsg = m->kmsg_pending;
	s->n_kmsg = m->n_kmsg_pending;
	s->exits = m->exits;
	s->n_exits = m->n_exits;
	s->fast = &m->fast;
	/* The host's limits may have come (or changed) since the sysctls were read. */
	host_wide_limits(m);
	/*
	 * Workers exit: every holder process asked at every tick (one poll of
	 * their pidfds), and an owner that lost one makes the tick dump
	 * (dump_policy). The rest of the upkeep (the slice of sockets, the
	 * holders' states, which matter while a listener drops or fills)
	 * waits for a tick that dumps (read_owners).
	 */
	procmap_prune_exited(m->pm, 1);
	return read_listeners(m, s);
}

/* The deep tier, when deep_policy asks for it; s->deep is set when it ran. */
static void read_deep(struct monitor *m, struct tick_sample *s)
{
	struct deep_policy_in in = {
		.track = &m->track,
		.sample = s,
		.every_ticks = m->cfg.deep_every_ticks,
		.ephemeral_pct = m->cfg.thr.ephemeral_pct,
		.mono_ms = clock_mono_ms(),
		.oneshot = m->deep_oneshot,
	};
	int r;

	m->deep_ran = false;
	m->deep_reason = deep_policy_reason(&in, &m->deep_book);
	if (!m->deep_reason)
		return;
	/* A failed deep dump costs the deep causes one tick, not the tick. */
	r = sockdiag_dump_deep(m->sd, &m->deep, m->limits.port_range_lo, m->limits.port_range_hi);
	deep_policy_ran(&m->deep_book, &in, r == 0 ? &m->deep : NULL, clock_mono_ms());
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
		s->deep = &m->deep;
	}
}

/*
 * Ask procmap for the owners of every listener of the dump and, when
 * holders is set, of the deep tier's top memory holders. Asked only when
 * the sockets change, so the arrays of inodes are made for the ask and
 * freed after it rather than kept: 12 bytes a listener for nothing most of
 * the time. Return: 0 or -ENOMEM.
 */
static int ask_procmap(struct monitor *m, bool holders)
{
	const struct listener_set *d = &m->dump;
	size_t i, n = 0, max = d->count + DEEP_TOP_HOLDERS;
	uint32_t *inodes = malloc(max * sizeof(*inodes));
	uint64_t *cgroup_ids = malloc(max * sizeof(*cgroup_ids));
	unsigned long scans = procmap_full_walks(m->pm) + procmap_cgroup_hits(m->pm);
	int r = -ENOMEM;

	if (inodes && cgroup_ids) {
		/* The socket's cgroup (INET_DIAG_CGROUP_ID) narrows a new listener's search to its processes. */
		for (i = 0; i < d->count; i++) {
			cgroup_ids[n] = d->items[i].cgroup_id;
			inodes[n++] = d->items[i].inode;
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
	/* A scan of processes' fds (fdopendir buffers, names) leaves free pages in the heap: give them back. */
	if (procmap_full_walks(m->pm) + procmap_cgroup_hits(m->pm) != scans)
		malloc_trim(0);
	return r;
}

/* Room for the owners and states of n listeners. Return: 0 or -ENOMEM. */
static int owners_room(struct monitor *m, size_t n)
{
	const struct owner **o;
	char *st;

	if (n <= m->owners_cap)
		return 0;
	o = realloc(m->owners, n * sizeof(*o));
	if (!o)
		return -ENOMEM;
	m->owners = o;
	st = realloc(m->owner_states, n);
	if (!st)
		return -ENOMEM;
	m->owner_states = st;
	m->owners_cap = n;
	return 0;
}

/*
 * Owners live in procmap and move when it changes: then every listener's
 * owner is looked up again, even when an update failed (procmap is still
 * whole then, only some owners unknown). So are they when the listeners
 * changed (a new one's inode was not cached). Otherwise the sample gives
 * none and track keeps what it has. Return: 0 or -ENOMEM.
 */
static int owners_lookup(struct monitor *m, struct tick_sample *s, bool same)
{
	const struct listener_set *d = &m->dump;
	bool missing = false;
	size_t i;

	if (procmap_generation(m->pm) == m->owners_gen && same)
		return 0;
	if (owners_room(m, d->count) < 0)
		return -ENOMEM;
	for (i = 0; i < d->count; i++) {
		m->owners[i] = procmap_get(m->pm, d->items[i].inode);
		missing |= !m->owners[i];
	}
	s->owners = m->owners;
	m->owners_gen = procmap_generation(m->pm);
	/* Not cached at all (/proc unreadable): ask again next tick. */
	m->owners_stale = missing;
	return 0;
}

/*
 * The owner's state matters only while its listener drops or its queue is
 * full (slow-accept: is it stopped? A stopped worker's queue stays full
 * with no new drop once clients give up): read for those alone; the
 * states stay NULL, all unknown, while nothing drops or fills.
 */
static void owner_states_read(struct monitor *m, struct tick_sample *s)
{
	const struct listener_set *d = &m->dump;
	size_t i;

	for (i = 0; i < d->count; i++) {
		const struct listener *l = &d->items[i];
		const struct tracked *tr;
		const struct owner *o;

		/* A cumulative counter at 0 has not moved: most listeners stop here. */
		if (!acceptq_full(l->queue, l->backlog) &&
		    (!l->has_drops || l->drops == 0 || !track_drops_moved(&m->track, l)))
			continue;
		if (!s->owner_states) {
			memset(m->owner_states, 0, d->count);
			s->owner_states = m->owner_states;
		}
		tr = s->owners ? NULL : track_find(&m->track, l->cookie);
		o = s->owners ? s->owners[i] : tr ? tracked_owner(tr) : NULL;
		if (o && o->nprocs > 0)
			m->owner_states[i] = procinfo_state(MONITOR_PID_ROOT, owner_acceptor(o)->pid);
	}
}

/* The deep tier's top memory holders get the pid and name of their owner, when procmap knows it. */
static void holders_name(struct monitor *m)
{
	size_t i;

	for (i = 0; i < m->deep.n_holders; i++) {
		struct mem_holder *h = &m->deep.holders[i];
		const struct owner *o = h->inode ? procmap_get(m->pm, h->inode) : NULL;

		if (o && o->nprocs > 0) {
			h->pid = o->procs[0].pid;
			memcpy(h->comm, o->procs[0].comm, sizeof(h->comm));
		}
	}
}

/*
 * The owners of the sample: of every listener, and while TCP memory is
 * short of every top memory holder of the deep tier. procmap walks /proc
 * only for inodes it has not seen, and is asked nothing while the sockets
 * stay the same: a steady state costs the prune's few readlinks.
 * Return: 0 or -ENOMEM (the owners then known are in the sample still).
 */
static int read_owners(struct monitor *m, struct tick_sample *s)
{
	/*
	 * A holder is any socket, not a listener procmap knows, and may take a
	 * walk of every process: named only when tcp-memory lists them.
	 */
	bool holders = s->deep && deep_policy_memory_short(&m->track, s);
	bool same;
	int r = 0;

	/* No dump (monitor_tick dumps when holders are to be named): the listeners keep their owners. */
	if (!s->listeners)
		return 0;
	same = track_same_listeners(&m->track, &m->dump);

	/* Workers exit: every holder process asked once, and a slice of sockets one by one. */
	procmap_prune_exited(m->pm, MONITOR_PRUNE_CHECKS);
	/* A stopped worker is shown stopped: holders' states read again, a slice a tick. */
	procmap_refresh_states(m->pm, MONITOR_PRUNE_CHECKS * 8);
	if (m->owners_stale || !same || holders || procmap_rescan_wanted(m->pm))
		r = ask_procmap(m, holders);
	/* Out of memory: the listeners keep the owners they had; new ones are unknown for now. */
	if (owners_lookup(m, s, same) < 0)
		r = -ENOMEM;
	m->owners_stale |= r < 0;
	if (owners_room(m, m->dump.count) == 0)
		owner_states_read(m, s);
	if (holders)
		holders_name(m);
	return r;
}
/*
 * diagnose knows nothing of namespaces: say in every finding which one it is
 * about, and how to enter it; finding_words() puts that in front of the
 * remedy, since a sysctl set on the host fixes nothing in a container's
 * namespace.
 */
static void stamp_netns(struct monitor *m)
{
	size_t i;

	for (i = 0; i < m->firing.count; i++) {
		struct finding *f = &m->firing.items[i];

		f->netns_inode = m->netns_inode;
		snprintf(f->netns_name, sizeof(f->netns_name), "%s", m->netns_name);
		snprintf(f->netns_enter, sizeof(f->netns_enter), "%s", m->netns_enter);
	}
}

/*
 * The eBPF tier's peers onto this tick's findings: an overflow's since its
 * endpoint was last quiet for the quiet period (the finding's own episode),
 * a gap's refused ones for as long as gaps are remembered.
 */
static void stamp_clients(struct monitor *m, int64_t now_ms)
{
	int64_t overflow_since = now_ms - (int64_t)m->cfg.quiet_secs * 1000;
	int64_t refused_since = now_ms - (int64_t)m->cfg.thr.gap_memory_secs * 1000;

	if (!m->clients.count)
		return;
	client_book_stamp(&m->clients, &m->firing, overflow_since, refused_since);
	client_book_expire(&m->clients, overflow_since, refused_since);
}

int monitor_tick(struct monitor *m, int64_t now_ms, finding_cb cb, void *arg)
{
	struct tick_sample s;
	int r, owners_r;

	m->last_error_detail[0] = '\0';
	r = read_cheap(m, &s);
	if (r < 0)
		goto out_fail;
	read_deep(m, &s);
	/*
	 * Naming the deep tier's memory holders asks procmap, which may move
	 * the owners track points at: only a tick with a dump hands out new ones.
	 */
	if (!s.listeners && s.deep && deep_policy_memory_short(&m->track, &s)) {
		m->dump_reason = "memory holders";
		r = dump_listeners(m, &s);
		if (r < 0)
			goto out_fail;
	}
	/* A failed ask of procmap fails the tick after track has taken it: the deltas stay one tick long. */
	owners_r = read_owners(m, &s);
	r = track_tick(&m->track, &s, now_ms);
	if (r < 0)
		goto out_fail;
	m->fast_full += m->track.fast_full;
	fast_peaks_clear(&m->fast);
	/* Short of memory, top and explain miss a point or a new listener; the tick goes on. */
	(void)qhist_update(&m->qhist, &m->track);
	m->n_kmsg_pending = 0;
	m->exits = NULL;
	m->n_exits = 0;
	r = owners_r;
	if (r < 0)
		goto out_fail;
	r = diagnose(&m->track, &m->cfg.thr, &m->firing);
	if (r < 0)
		goto out_fail;
	stamp_netns(m);
	stamp_clients(m, now_ms);
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
