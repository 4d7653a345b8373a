/* monitor.c: one tick end to end, shared by backlogd and `backlogctl diagnose`. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diagnose.h"
#include "monitor.h"

/* Resolved findings kept for `backlogctl status`. */
#define MONITOR_RESOLVED_KEPT 64

int monitor_init(struct monitor *m, const struct config *cfg, const char *proc_root)
{
	int r;

	memset(m, 0, sizeof(*m));
	m->proc_root = proc_root;
	m->cfg = *cfg;
	listener_set_init(&m->dump);
	counters_init(&m->counters);
	track_init(&m->track);
	finding_list_init(&m->firing);
	findings_init(&m->findings, MONITOR_RESOLVED_KEPT);
	m->limits.somaxconn = SYSCTL_UNKNOWN;
	m->limits.tcp_max_syn_backlog = SYSCTL_UNKNOWN;
	m->limits.tcp_syncookies = SYSCTL_UNKNOWN;
	m->limits.tcp_abort_on_overflow = SYSCTL_UNKNOWN;
	m->started = (int64_t)time(NULL);

	r = sockdiag_open(&m->sd);
	if (r < 0)
		goto out_free;
	m->pm = procmap_new(proc_root);
	if (!m->pm) {
		r = -ENOMEM;
		goto out_sockdiag;
	}
	return 0;

out_sockdiag:
	sockdiag_close(m->sd);
	m->sd = NULL;
out_free:
	findings_free(&m->findings);
	finding_list_free(&m->firing);
	track_free(&m->track);
	counters_free(&m->counters);
	listener_set_free(&m->dump);
	return r;
}

void monitor_done(struct monitor *m)
{
	procmap_free(m->pm);
	sockdiag_close(m->sd);
	free(m->inodes);
	findings_free(&m->findings);
	finding_list_free(&m->firing);
	track_free(&m->track);
	counters_free(&m->counters);
	listener_set_free(&m->dump);
	memset(m, 0, sizeof(*m));
}

void monitor_set_config(struct monitor *m, const struct config *cfg)
{
	m->cfg = *cfg;
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
 * Give every tracked listener its owner. procmap walks /proc only for
 * inodes it has not seen, so a steady state costs a lookup per listener.
 */
static int attach_owners(struct monitor *m)
{
	struct track *t = &m->track;
	size_t i;
	int r;

	if (t->count > m->inodes_cap) {
		size_t cap = t->count * 2;
		uint32_t *n = realloc(m->inodes, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		m->inodes = n;
		m->inodes_cap = cap;
	}
	for (i = 0; i < t->count; i++)
		m->inodes[i] = t->items[i].l.inode;
	r = procmap_update(m->pm, m->inodes, t->count);
	if (r < 0)
		return r;
	for (i = 0; i < t->count; i++) {
		struct tracked *tr = &t->items[i];
		const struct owner *o = procmap_get(m->pm, tr->l.inode);

		if (o)
			tr->owner = *o;
		/* The owner's state matters only when it is dropping (slow-accept). */
		tr->owner_state = 0;
		if (tr->drops_delta > 0 && tr->owner.nprocs > 0)
			tr->owner_state = procmap_proc_state(m->proc_root, tr->owner.procs[0].pid);
	}
	return 0;
}

int monitor_tick(struct monitor *m, int64_t now_ms, finding_cb cb, void *arg)
{
	int r;

	r = sockdiag_dump_listeners(m->sd, &m->dump);
	if (r < 0)
		goto out_fail;
	filter_ignored(m);
	/* Counters that cannot be read leave host deltas unknown; listeners still count. */
	if (netstat_read(m->proc_root, &m->counters) < 0)
		counters_clear(&m->counters);
	sysctl_read_limits(m->proc_root, &m->limits);
	r = track_update(&m->track, &m->dump, &m->counters, &m->limits, now_ms);
	if (r < 0)
		goto out_fail;
	r = attach_owners(m);
	if (r < 0)
		goto out_fail;
	r = diagnose(&m->track, &m->cfg.thr, &m->firing);
	if (r < 0)
		goto out_fail;
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
