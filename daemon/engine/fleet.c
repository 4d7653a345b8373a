/* fleet.c: one monitor per network namespace, followed as namespaces come and go. */
#include "base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fleet.h"
#include "log.h"

/*
 * Inside another namespace a monitor reads its counters through
 * /proc/thread-self/net (the worker thread's namespace, not the process's)
 * and its sysctls through /proc/sys, which resolves by the reading thread's
 * namespace too.
 */
#define NS_PROC_ROOT "/proc/thread-self"
#define NS_SYS_ROOT "/proc"

/*
 * Descriptors no namespace may take: one per control client slot, and the
 * files a tick opens for a moment (procfs, procmap, the kernel log), so that
 * the control socket and the tick keep working whatever a flood makes.
 */
#define FLEET_FD_RESERVE 96
/* What one watched namespace holds between ticks (its file, sock_diag and rtnetlink sockets), with room. */
#define FLEET_NS_FDS 6

struct ns_job {
	struct fleet_member *m;
	const struct config *cfg;
	int64_t now_ms;
	finding_cb cb;
	void *arg;
};

static int ns_init_fn(void *arg)
{
	struct ns_job *j = arg;

	return monitor_init_ns(&j->m->mon, j->cfg, NS_PROC_ROOT, NS_SYS_ROOT);
}

static int ns_fast_fn(void *arg)
{
	struct ns_job *j = arg;

	return (int)monitor_fast_sample(&j->m->mon);
}

static int ns_tick_fn(void *arg)
{
	struct ns_job *j = arg;

	return monitor_tick(&j->m->mon, j->now_ms, j->cb, j->arg);
}

static void member_name(struct fleet_member *m)
{
	m->mon.netns_inode = m->ns.inode;
	snprintf(m->mon.netns_name, sizeof(m->mon.netns_name), "%s", m->ns.name);
	/* How a person runs the remedy in there. */
	if (m->ns.kind == NETNS_NAMED)
		snprintf(m->mon.netns_enter, sizeof(m->mon.netns_enter), "ip netns exec %s", m->ns.name);
	else if (m->ns.kind != NETNS_HOST && m->ns.pid > 0)
		snprintf(m->mon.netns_enter, sizeof(m->mon.netns_enter), "nsenter -t %d -n", m->ns.pid);
	else
		m->mon.netns_enter[0] = '\0';
}

int fleet_init(struct fleet *fl, const struct config *cfg, const char *proc_root,
	       const char *run_netns, bool scan)
{
	struct fleet_member *host;
	int r;

	memset(fl, 0, sizeof(*fl));
	fl->cfg = *cfg;
	fl->proc_root = proc_root;
	fl->run_netns = run_netns;
	fl->scan = scan;
	netns_list_init(&fl->found);

	fl->cap = 8;
	fl->members = calloc(fl->cap, sizeof(*fl->members));
	host = calloc(1, sizeof(*host));
	if (!fl->members || !host) {
		r = -ENOMEM;
		goto out_free;
	}
	host->nsfd = -1;
	host->ns.kind = NETNS_HOST;
	host->ns.inode = netns_self_inode("/proc");
	host->ns.pid = (int)getpid();
	snprintf(host->ns.name, sizeof(host->ns.name), "host");
	host->first_seen = (int64_t)time(NULL);
	r = monitor_init(&host->mon, cfg, proc_root);
	if (r < 0)
		goto out_free;
	member_name(host);
	host->ready = true;
	fl->members[fl->count++] = host;

	if (scan) {
		r = nsworker_start(&fl->worker);
		if (r < 0) {
			errno = -r;
			log_warn("cannot start the namespace worker; watching only our own namespace");
			fl->scan = false;
		}
	}
	return 0;

out_free:
	free(host);
	free(fl->members);
	netns_list_free(&fl->found);
	memset(fl, 0, sizeof(*fl));
	return r;
}

/* Resolve what was active: the namespace, and with it the cause, is gone. */
static void member_close(struct fleet_member *m, finding_cb cb, void *arg)
{
	size_t i;

	if (m->ready) {
		int64_t now = (int64_t)time(NULL);

		for (i = 0; i < m->mon.findings.count; i++) {
			struct finding_entry *e = &m->mon.findings.items[i];

			if (e->state != FINDING_ACTIVE)
				continue;
			e->state = FINDING_RESOLVED;
			e->resolved_at = now;
			if (cb)
				cb(e, FINDING_EVENT_RESOLVED, arg);
		}
		monitor_done(&m->mon);
	}
	if (m->nsfd >= 0)
		close(m->nsfd);
	free(m);
}

void fleet_done(struct fleet *fl)
{
	size_t i;

	for (i = 0; i < fl->count; i++)
		member_close(fl->members[i], NULL, NULL);
	nsworker_stop(fl->worker);
	free(fl->members);
	netns_list_free(&fl->found);
	memset(fl, 0, sizeof(*fl));
}

void fleet_set_config(struct fleet *fl, const struct config *cfg)
{
	size_t i;

	fl->cfg = *cfg;
	for (i = 0; i < fl->count; i++)
		if (fl->members[i]->ready)
			monitor_set_config(&fl->members[i]->mon, cfg);
}

void fleet_add_kmsg(struct fleet *fl, const struct kmsg_event *ev, size_t n)
{
	size_t i;

	for (i = 0; i < fl->count; i++)
		if (fl->members[i]->ready)
			monitor_add_kmsg(&fl->members[i]->mon, ev, n);
}

void fleet_set_exits(struct fleet *fl, const struct proc_exit *ev, size_t n)
{
	size_t i;

	for (i = 0; i < fl->count; i++) {
		if (fl->members[i]->ready) {
			fl->members[i]->mon.exits = ev;
			fl->members[i]->mon.n_exits = n;
		}
	}
}

static struct fleet_member *member_by_inode(const struct fleet *fl, uint64_t inode)
{
	size_t i;

	for (i = 0; i < fl->count; i++)
		if (fl->members[i]->ns.inode == inode)
			return fl->members[i];
	return NULL;
}

/* An event's wall-clock time: now, less how long ago it was on the monotonic clock. */
static int64_t event_wall_ms(const struct drop_event *ev, int64_t wall_ms, uint64_t mono_ns)
{
	if (ev->mono_ns >= mono_ns)
		return wall_ms;
	return wall_ms - (int64_t)((mono_ns - ev->mono_ns) / 1000000u);
}

size_t fleet_add_drops(struct fleet *fl, const struct drop_event *ev, size_t n, int64_t wall_ms,
		       uint64_t mono_ns, uint64_t *unwatched)
{
	struct fleet_member *m = NULL;
	size_t i, opened = 0;

	for (i = 0; i < n; i++) {
		/* A burst comes from one namespace: look again only when it changes. */
		if (!m || m->ns.inode != ev[i].netns)
			m = member_by_inode(fl, ev[i].netns);
		if (!m || !m->ready) {
			(*unwatched)++;
			continue;
		}
		opened += monitor_add_drop(&m->mon, &ev[i], event_wall_ms(&ev[i], wall_ms, mono_ns));
	}
	return opened;
}

static const struct netns_id *found_by_inode(const struct netns_list *l, uint64_t inode)
{
	size_t i;

	for (i = 0; i < l->count; i++)
		if (l->items[i].inode == inode)
			return &l->items[i];
	return NULL;
}

/* fd is the namespace of that inode. */
static bool fd_is_ns(int fd, uint64_t inode)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (uint64_t)st.st_ino == inode;
}

/* A monitor made inside ns, through the worker. Return: 0 or -errno. */
static int member_add(struct fleet *fl, const struct netns_id *ns)
{
	struct fleet_member *m;
	struct ns_job job;
	int r;

	if (fl->count == fl->cap) {
		size_t cap = fl->cap * 2;
		struct fleet_member **p = realloc(fl->members, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		fl->members = p;
		fl->cap = cap;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ns = *ns;
	m->first_seen = (int64_t)time(NULL);
	/* The fd keeps the namespace reachable after the process we found it by exits. */
	m->nsfd = open(ns->path, O_RDONLY | O_CLOEXEC);
	if (m->nsfd < 0) {
		r = -errno;
		free(m);
		return r;
	}
	/* The pid it was found by may since be another process's, in another namespace. */
	if (!fd_is_ns(m->nsfd, ns->inode)) {
		close(m->nsfd);
		free(m);
		return -ESRCH;
	}
	job = (struct ns_job){ .m = m, .cfg = &fl->cfg };
	r = nsworker_run(fl->worker, m->nsfd, ns_init_fn, &job);
	if (r < 0) {
		close(m->nsfd);
		free(m);
		return r;
	}
	member_name(m);
	/* tcp_mem and tcp_max_orphans exist only in the host's /proc/sys: read there, apply here. */
	m->mon.host_limits = &fl->members[0]->mon.limits;
	m->ready = true;
	fl->members[fl->count++] = m;
	fl->ns_added++;
	log_debug("watching network namespace %s (inode %llu)", m->ns.name,
		  (unsigned long long)m->ns.inode);
	return 0;
}

/* Drop members[i]: its monitor, its descriptors, and with them the namespace's last hold. */
static void member_remove(struct fleet *fl, size_t i, finding_cb cb, void *arg)
{
	member_close(fl->members[i], cb, arg);
	memmove(&fl->members[i], &fl->members[i + 1], (fl->count - i - 1) * sizeof(*fl->members));
	fl->count--;
	fl->ns_removed++;
}

/*
 * Still there, asked without a descriptor (when the scan could not run,
 * most likely for want of one): the process it was found by, or its
 * /run/netns mount, still shows its inode. A namespace whose first process
 * exited while others live on is dropped too, and found again by the next
 * scan that can run: better than holding on to dead ones.
 */
static bool member_seen(const struct fleet_member *m)
{
	char path[64];
	struct stat st;

	if (m->ns.pid > 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", m->ns.pid);
		if (stat(path, &st) == 0 && (uint64_t)st.st_ino == m->ns.inode)
			return true;
	}
	return m->ns.kind == NETNS_NAMED && stat(m->ns.path, &st) == 0 &&
	       (uint64_t)st.st_ino == m->ns.inode;
}

/*
 * Close the members whose namespace is gone: not in found (NULL: the scan
 * failed, ask member_seen). Gone means neither a process nor a /run/netns
 * mount holds it but our own descriptors, which go with it.
 */
static void prune_gone(struct fleet *fl, const struct netns_list *found, finding_cb cb, void *arg)
{
	size_t i;

	for (i = 1; i < fl->count; ) {
		struct fleet_member *m = fl->members[i];

		if (found ? found_by_inode(found, m->ns.inode) != NULL : member_seen(m)) {
			i++;
			continue;
		}
		log_debug("network namespace %s (inode %llu) is gone", m->ns.name,
			  (unsigned long long)m->ns.inode);
		member_remove(fl, i, cb, arg);
	}
}

/* Descriptors that may still be opened, the reserve kept. Return: 0 when that cannot be told. */
static long fd_room(void)
{
	struct dirent *de;
	struct rlimit rl;
	long used = 0;
	DIR *d;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)LONG_MAX / 2)
		return LONG_MAX / 2;
	d = opendir("/proc/self/fd");
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			used++;
	closedir(d);
	return (long)rl.rlim_cur - used - FLEET_FD_RESERVE;
}

/* The namespaces chosen out of found lose their member, the others keep or gain one. */
static void evict_unpicked(struct fleet *fl, const bool *pick, finding_cb cb, void *arg)
{
	size_t i, k;

	for (i = 0; i < fl->found.count; i++) {
		const struct netns_id *ns = &fl->found.items[i];

		if (pick[i] || ns->kind == NETNS_HOST)
			continue;
		for (k = 1; k < fl->count; k++) {
			if (fl->members[k]->ns.inode != ns->inode)
				continue;
			log_info("no longer watching network namespace %s: at the cap, a named or "
				 "container namespace comes first", fl->members[k]->ns.name);
			member_remove(fl, k, cb, arg);
			break;
		}
	}
}

/* Add or update the picked namespaces. Return: how many went without for want of a descriptor. */
static size_t watch_picked(struct fleet *fl, const bool *pick)
{
	size_t i, short_of_fds = 0;

	for (i = 0; i < fl->found.count; i++) {
		const struct netns_id *ns = &fl->found.items[i];
		struct fleet_member *m;
		int r;

		if (!pick[i] || ns->kind == NETNS_HOST)
			continue;
		m = member_by_inode(fl, ns->inode);
		if (m) {
			/*
			 * What the scan says of it can change: a /run/netns mount added
			 * later, the process it was found by gone, a first process in a
			 * namespace that was empty. The open fd stays what it was.
			 */
			m->ns = *ns;
			member_name(m);
			continue;
		}
		/* Once out of descriptors, the rest of this scan would only fail the same way. */
		r = short_of_fds > 0 ? -EMFILE : member_add(fl, ns);
		if (r == -EMFILE || r == -ENFILE) {
			short_of_fds++;
		} else if (r < 0 && r != -ENOENT && r != -ESRCH) {
			errno = -r;
			log_warn("cannot watch network namespace %s", ns->name);
		}
	}
	return short_of_fds;
}

/*
 * Count what was left out (skipped: not picked, or picked and short of a
 * descriptor; one that vanished before it could be opened is no skip), and
 * say so once when it starts and once when it ends.
 */
static void note_skipped(struct fleet *fl, size_t skipped, bool short_of_fds)
{
	struct rlimit rl;

	fl->ns_found = fl->found.count;
	fl->ns_skipped = skipped;
	fl->fd_short = short_of_fds;
	if (fl->ns_skipped > 0 && !fl->capped) {
		if (!fl->fd_short || getrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warnx("watching %zu of %zu network namespaces (max_namespaces = %u): named "
				 "and container namespaces come first", fl->count, fl->ns_found,
				 fl->cfg.max_namespaces);
		else
			log_warnx("watching %zu of %zu network namespaces: the open-file limit (%llu) is "
				 "near, and descriptors are kept for the control socket and the tick; "
				 "named and container namespaces come first", fl->count, fl->ns_found,
				 (unsigned long long)rl.rlim_cur);
	} else if (fl->ns_skipped == 0 && fl->capped) {
		log_info("watching every network namespace again (%zu)", fl->count);
	}
	fl->capped = fl->ns_skipped > 0;
}

/*
 * After namespaces went, hand their monitors' memory back: a monitor is
 * a few hundred KB, made partly in the worker's malloc arena, and glibc
 * keeps freed blocks of that size for reuse, so a flood that passed would
 * leave the daemon at its peak size for good.
 */
static void release_freed(const struct fleet *fl, unsigned long removed_before)
{
#ifdef __GLIBC__
	if (fl->ns_removed != removed_before)
		malloc_trim(0);
#else
	(void)fl;
	(void)removed_before;
#endif
}

/*
 * Prune first, then open: pruning needs no descriptor, so a daemon out of
 * them still lets go of the namespaces that died, and has some again.
 */
static void fleet_scan(struct fleet *fl, finding_cb cb, void *arg)
{
	unsigned long removed = fl->ns_removed;
	size_t n, i, cap, picked, short_of_fds;
	bool *flags, fd_bound;
	long room;
	int r;

	/* Namespaces are found through the real /proc, whatever -P says for counters. */
	r = netns_scan("/proc", fl->run_netns, &fl->found);
	fl->scans++;
	fl->last_scan_error = r;
	if (r < 0) {
		prune_gone(fl, NULL, cb, arg);
		release_freed(fl, removed);
		return;
	}
	prune_gone(fl, &fl->found, cb, arg);
	release_freed(fl, removed);
	n = fl->found.count;
	/* watched[0..n) then pick[0..n); one more so that none is malloc(0). */
	flags = calloc(2 * n + 1, sizeof(*flags));
	if (!flags)
		return;
	for (i = 0; i < n; i++)
		flags[i] = member_by_inode(fl, fl->found.items[i].inode) != NULL;
	/*
	 * What the open-file limit leaves room for is a cap too, and the same
	 * priority applies under it: a named namespace made during a flood
	 * takes an anonymous one's place.
	 */
	room = fd_room();
	cap = fl->count + (room > 0 ? (size_t)room / FLEET_NS_FDS : 0);
	fd_bound = cap < fl->cfg.max_namespaces;
	if (!fd_bound)
		cap = fl->cfg.max_namespaces;
	picked = netns_select(&fl->found, flags, cap, flags + n);
	evict_unpicked(fl, flags + n, cb, arg);
	short_of_fds = watch_picked(fl, flags + n);
	note_skipped(fl, n - picked + short_of_fds, short_of_fds > 0 || (fd_bound && picked < n));
	free(flags);
}

int fleet_tick(struct fleet *fl, int64_t now_ms, finding_cb cb, void *arg)
{
	struct fleet_member *host = fl->members[0];
	size_t i;
	int r;

	/* A rescan costs a stat per process: every namespace_scan ticks, not every tick. */
	if (fl->scan && (fl->scans == 0 || fl->cfg.namespace_scan_ticks <= 1 ||
			 host->mon.track.ticks % fl->cfg.namespace_scan_ticks == 0))
		fleet_scan(fl, cb, arg);
	r = monitor_tick(&host->mon, now_ms, cb, arg);
	for (i = 1; i < fl->count; i++) {
		struct ns_job job = { .m = fl->members[i], .now_ms = now_ms, .cb = cb, .arg = arg };

		/* A namespace whose tick fails keeps its last state; its monitor says why. */
		nsworker_run(fl->worker, job.m->nsfd, ns_tick_fn, &job);
	}
	return r;
}

size_t fleet_hot(const struct fleet *fl)
{
	size_t i, hot = 0;

	for (i = 0; i < fl->count; i++)
		if (fl->members[i]->ready)
			hot += monitor_hot(&fl->members[i]->mon);
	return hot;
}

size_t fleet_fast_sample(struct fleet *fl)
{
	size_t i, hot = 0;

	for (i = 0; i < fl->count; i++) {
		struct fleet_member *m = fl->members[i];
		struct ns_job job = { .m = m };
		int r;

		if (!m->ready || !monitor_hot(&m->mon))
			continue;
		if (i == 0) {
			hot += monitor_fast_sample(&m->mon);
			continue;
		}
		r = nsworker_run(fl->worker, m->nsfd, ns_fast_fn, &job);
		if (r > 0)
			hot += (size_t)r;
	}
	return hot;
}

const struct fleet_member *fleet_find(const struct fleet *fl, const char *name_or_inode)
{
	char *end;
	unsigned long long inode;
	size_t i;

	for (i = 0; i < fl->count; i++)
		if (strcmp(fl->members[i]->ns.name, name_or_inode) == 0)
			return fl->members[i];
	inode = strtoull(name_or_inode, &end, 10);
	if (*name_or_inode && *end == '\0')
		return member_by_inode(fl, inode);
	return NULL;
}
