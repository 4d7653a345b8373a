/* procmap.c: map listener socket inodes to the processes holding them (comm, cmdline, user) and their systemd unit, cached by inode. */
#include "base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "ownertab.h"
#include "procfile.h"
#include "procinfo.h"
#include "procmap.h"
#include "procmap_int.h"
#include "sort.h"

/*
 * Bounds on the walks, so that a strange or hostile /proc costs a known
 * amount, never a hang.
 */
#define PROCMAP_MAX_PIDS 4194304      /* PID_MAX_LIMIT: no host has more */
#define PROCMAP_MAX_FDS 4194304       /* fds looked at in one process */

const struct owner owner_unknown = { .uid = -1 };

struct procmap *procmap_new(const char *proc_root)
{
	struct procmap *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return NULL;
	pm->proc_root = strdup(proc_root);
	if (!pm->proc_root) {
		free(pm);
		return NULL;
	}
	ownertab_init(&pm->owners);
	cgroup_index_init(&pm->cg);
	return pm;
}

void procmap_free(struct procmap *pm)
{
	if (!pm)
		return;
	cgroup_index_free(&pm->cg);
	for (size_t i = 0; i < pm->count; i++)
		entry_release(&pm->entries[i], ownertab_get(&pm->owners, pm->entries[i].owner)->nprocs);
	free(pm->entries);
	procmap_reps_free(pm);
	free(pm->rescan);
	free(pm->kids);
	ownertab_free(&pm->owners);
	free(pm->proc_root);
	free(pm);
}

unsigned long procmap_generation(const struct procmap *pm)
{
	return pm->generation;
}

unsigned long procmap_full_walks(const struct procmap *pm)
{
	return pm->full_walks;
}

unsigned long procmap_cgroup_hits(const struct procmap *pm)
{
	return pm->cgroup_hits;
}

static int entry_cmp(const void *key, const void *elem)
{
	uint32_t inode = *(const uint32_t *)key;
	const struct pm_entry *e = elem;

	return inode < e->inode ? -1 : inode > e->inode;
}

static struct pm_entry *entry_find(const struct procmap *pm, uint32_t inode)
{
	if (pm->count == 0)
		return NULL;
	return bsearch(&inode, pm->entries, pm->count, sizeof(*pm->entries), entry_cmp);
}

const struct owner *procmap_get(const struct procmap *pm, uint32_t inode)
{
	const struct pm_entry *e = entry_find(pm, inode);

	return e ? ownertab_get(&pm->owners, e->owner) : NULL;
}

/* The holder processes one update met; inodes refer to them by index. */
struct proc_table {
	struct proc_info *items;
	size_t count;
	size_t cap;
	bool failed;    /* out of memory: the update fails */
};

/* One inode being resolved during a walk. */
struct pending {
	uint32_t inode;
	uint64_t cgid;          /* the cgroup hint, 0 when none */
	bool done;              /* resolved by its cgroup: the full walk skips it */
	int last_pid;           /* the process already counted for this inode */
	int unit_pid;           /* the pid the unit comes from, 0 if none yet */
	uint32_t unit_info;     /* its proc_table index */
	unsigned nprocs;
	unsigned nprocs_total;
	int pid[OWNER_MAX_PROCS];       /* sorted */
	int fd[OWNER_MAX_PROCS];
	uint32_t info[OWNER_MAX_PROCS]; /* proc_table indices */
};

static int pending_cmp(const void *key, const void *elem)
{
	uint32_t inode = *(const uint32_t *)key;
	const struct pending *p = elem;

	return inode < p->inode ? -1 : inode > p->inode;
}

static int pending_inode_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* By cgroup, then inode: each cgroup's inodes are then a run sorted as bsearch needs. */
static int pending_cg_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	if (x->cgid != y->cgid)
		return x->cgid < y->cgid ? -1 : 1;
	return pending_inode_cmp(a, b);
}

/* The ones still unresolved first, each part by inode: the full walk takes the first run. */
static int pending_rest_cmp(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;

	if (x->done != y->done)
		return x->done ? 1 : -1;
	return pending_inode_cmp(a, b);
}

bool procmap_socket_link(const char *link, uint32_t *inode)
{
	const char *p = link + 8;
	uint64_t v = 0;

	if (strncmp(link, "socket:[", 8) != 0 || *p == ']')
		return false;
	for (; *p != ']'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return false;
	}
	if (p[1] != '\0')
		return false;
	*inode = (uint32_t)v;
	return true;
}

/*
 * Insert pid into p's processes keeping pid order. When they are full the
 * highest pid is dropped: the lowest is usually the master of a pre-fork
 * server, the one worth naming.
 */
static void add_proc(struct pending *p, int pid, int fd, uint32_t info)
{
	unsigned i, n = p->nprocs;

	p->nprocs_total++;
	if (n == OWNER_MAX_PROCS) {
		if (pid > p->pid[n - 1])
			return;
		n--;
	}
	for (i = n; i > 0 && p->pid[i - 1] > pid; i--) {
		p->pid[i] = p->pid[i - 1];
		p->fd[i] = p->fd[i - 1];
		p->info[i] = p->info[i - 1];
	}
	p->pid[i] = pid;
	p->fd[i] = fd;
	p->info[i] = info;
	p->nprocs = n + 1;
}

/*
 * Everything shown about a holder process: comm, cmdline, real uid, and
 * the unit of its cgroup. Return: its index in pt, or -1 when it is gone
 * (no comm) or pt is out of memory (pt->failed).
 */
static long proc_table_add(struct proc_table *pt, int procfd, int pid)
{
	if (pt->count == pt->cap) {
		size_t cap = pt->cap ? pt->cap * 2 : 8;
		struct proc_info *items = realloc(pt->items, cap * sizeof(*items));

		if (!items) {
			pt->failed = true;
			return -1;
		}
		pt->items = items;
		pt->cap = cap;
	}
	if (!procinfo_read(procfd, pid, &pt->items[pt->count]))
		return -1;
	return (long)pt->count++;
}

/* Epoll instances looked into per process: an event loop has one or a few. */
#define SCAN_MAX_EPOLLS 16

/*
 * Look at every fd of one process and record it as a holder of any
 * pending inode. A process that vanishes (ENOENT, ESRCH) or that we may
 * not inspect (EACCES) is skipped: it is not an error.
 */
static void scan_process(int procfd, int pid, struct pending *pend, size_t npend,
			 struct proc_table *pt)
{
	char fdpath[64], link[64];
	unsigned long nfds = 0;
	struct dirent *de;
	long self = -1;
	int epfd[SCAN_MAX_EPOLLS];
	unsigned nep = 0, i;
	int dfd;
	DIR *d;

	snprintf(fdpath, sizeof(fdpath), "%d/fd", pid);
	dfd = openat(procfd, fdpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	while (nfds++ < PROCMAP_MAX_FDS && (de = readdir(d)) != NULL) {
		struct pending *hit;
		uint32_t inode;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, "anon_inode:[eventpoll]") == 0 && nep < SCAN_MAX_EPOLLS)
			epfd[nep++] = atoi(de->d_name);
		if (!procmap_socket_link(link, &inode))
			continue;
		hit = bsearch(&inode, pend, npend, sizeof(*pend), pending_cmp);
		/* The same inode on several fds of one process counts once. */
		if (!hit || hit->last_pid == pid)
			continue;
		/* Gone while we looked (no comm), or no memory left. */
		if (self < 0 && (self = proc_table_add(pt, procfd, pid)) < 0)
			break;
		hit->last_pid = pid;
		add_proc(hit, pid, atoi(de->d_name), (uint32_t)self);
		/* Holders of one listener share a unit in practice; name the lowest pid's. */
		if (pt->items[self].unit[0] != '\0' && (hit->unit_pid == 0 || pid < hit->unit_pid)) {
			hit->unit_pid = pid;
			hit->unit_info = (uint32_t)self;
		}
	}
	closedir(d);
	/* A holder whose epoll set watches the socket is one that accepts on it. */
	for (i = 0; self >= 0 && i < nep; i++)
		if (!procinfo_read_epoll(procfd, pid, epfd[i], &pt->items[self]))
			pt->failed = true;
}

/* Resolve pend[0, n) (sorted by inode) with one walk of the proc directory. */
static void full_walk(DIR *proc, struct pending *pend, size_t n, struct proc_table *pt)
{
	unsigned long seen = 0;
	struct dirent *de;

	rewinddir(proc);
	while (seen++ < PROCMAP_MAX_PIDS && (de = readdir(proc)) != NULL) {
		int pid;

		if (procfile_pid_name(de->d_name, &pid))
			scan_process(dirfd(proc), pid, pend, n, pt);
	}
}


/* ---- update ---- */

/* One inode asked for, with its cgroup hint. */
struct want {
	uint32_t inode;
	uint64_t cgid;
};

/* By inode; for one inode a hint first, so that it is kept when repeats are dropped. */
static int want_cmp(const void *a, const void *b)
{
	const struct want *x = a, *y = b;

	if (x->inode != y->inode)
		return x->inode < y->inode ? -1 : 1;
	return x->cgid > y->cgid ? -1 : x->cgid < y->cgid;
}

/* Back to unresolved, for the full walk. */
static void pending_reset(struct pending *p)
{
	uint32_t inode = p->inode;
	uint64_t cgid = p->cgid;

	memset(p, 0, sizeof(*p));
	p->inode = inode;
	p->cgid = cgid;
}

/*
 * The cgroup-narrowed lookup: pend[0, n) sorted by (cgid, inode), all with
 * a hint. For each cgroup, only the pids of its cgroup.procs are scanned.
 * An inode found there is resolved (done) unless its holders include
 * PID 1: a listener made by the init system (systemd socket activation) is
 * in init's cgroup but served by a process elsewhere, which only the full
 * walk finds. Everything not resolved is reset for the full walk.
 */
static void resolve_by_cgroup(struct procmap *pm, int procfd, struct pending *pend, size_t n,
			      struct proc_table *pt)
{
	bool walked = false;
	size_t g = 0, e, i;

	while (g < n) {
		long npids = -1, p;
		int *pids = NULL;
		int cgfd;

		for (e = g + 1; e < n && pend[e].cgid == pend[g].cgid; e++)
			;
		cgfd = cgroup_index_open(&pm->cg, pm->proc_root, pend[g].cgid, &walked);
		if (cgfd >= 0) {
			npids = cgroup_read_pids(cgfd, &pids);
			close(cgfd);
		}
		for (p = 0; p < npids; p++)
			scan_process(procfd, pids[p], pend + g, e - g, pt);
		free(pids);
		for (i = g; i < e; i++) {
			if (pend[i].nprocs_total > 0 && pend[i].pid[0] != 1) {
				pend[i].done = true;
				pm->cgroup_hits++;
				continue;
			}
			pending_reset(&pend[i]);
		}
		g = e;
	}
}

/* Room for n entries. Return: 0 or -ENOMEM. */
static int entries_reserve(struct procmap *pm, size_t n)
{
	struct pm_entry *e;
	size_t cap;

	if (n <= pm->cap)
		return 0;
	cap = pm->cap ? pm->cap : 16;
	while (cap < n)
		cap *= 2;
	e = realloc(pm->entries, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	pm->entries = e;
	pm->cap = cap;
	return 0;
}

/*
 * What the walks found for p, as an owner interned in the table, and its
 * entry. Return: 0 or -ENOMEM.
 */
static int pending_finish(struct procmap *pm, const struct pending *p, const struct proc_table *pt,
			  struct pm_entry *out)
{
	struct owner o;
	unsigned j;
	long idx;

	memset(&o, 0, sizeof(o));
	o.uid = -1;
	o.nprocs = p->nprocs;
	o.nprocs_total = p->nprocs_total;
	memset(out, 0, sizeof(*out));
	out->inode = p->inode;
	if (!entry_set_fds(out, 0, p->fd, p->nprocs))
		return -ENOMEM;
	for (j = 0; j < p->nprocs; j++) {
		const struct proc_info *pi = &pt->items[p->info[j]];

		o.procs[j].pid = p->pid[j];
		/* pi->comm is NUL-terminated within OWNER_COMM_MAX (read_names). */
		memcpy(o.procs[j].comm, pi->comm, sizeof(o.procs[j].comm));
		memcpy(o.procs[j].cmdline, pi->cmdline, sizeof(o.procs[j].cmdline));
		o.procs[j].ppid = pi->ppid;
		o.procs[j].uid = pi->uid;
		o.procs[j].state = pi->state;
		o.procs[j].polls = procinfo_polls(pi, p->fd[j]);
	}
	/* The user is procs[0]'s. */
	if (p->nprocs > 0)
		o.uid = pt->items[p->info[0]].uid;
	if (p->unit_pid != 0)
		memcpy(o.unit, pt->items[p->unit_info].unit, sizeof(o.unit));
	if (o.uid >= 0)
		user_cache_name(&pm->users, (uint32_t)o.uid, o.user, sizeof(o.user));
	idx = ownertab_intern(&pm->owners, &o);
	if (idx < 0) {
		entry_release(out, p->nprocs);
		return (int)idx;
	}
	out->owner = (uint32_t)idx;
	return 0;
}

void procmap_owners_collect(struct procmap *pm)
{
	/* On ENOMEM the unused ones simply stay until the next time. */
	(void)ownertab_collect(&pm->owners, pm->count ? &pm->entries[0].owner : NULL, pm->count,
			       sizeof(*pm->entries));
}

/*
 * The inodes asked for, sorted, each once with its hint. Made for this
 * update and freed after it: the monitor asks only when its sockets
 * changed, and 16 bytes a listener kept for that would weigh on every
 * tick's memory. Return: how many, or -ENOMEM.
 */
static long want_list(const uint32_t *inodes, const uint64_t *cgroup_ids, size_t n,
		      struct want **out)
{
	struct want *want;
	size_t nwant = 0, i;

	*out = NULL;
	if (n == 0)
		return 0;
	want = malloc(n * sizeof(*want));
	if (!want)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		want[i].inode = inodes[i];
		want[i].cgid = cgroup_ids ? cgroup_ids[i] : 0;
	}
	sort_inplace(want, n, sizeof(*want), want_cmp);
	for (i = 0; i < n; i++)
		if (nwant == 0 || want[nwant - 1].inode != want[i].inode)
			want[nwant++] = want[i];
	*out = want;
	return (long)nwant;
}

/* Forget cached inodes not asked for, in place: both lists are sorted. Return: whether any was. */
static bool forget_unasked(struct procmap *pm, const struct want *want, size_t nwant)
{
	size_t i, j, k;
	bool changed;

	for (i = 0, j = 0, k = 0; i < pm->count; i++) {
		while (j < nwant && want[j].inode < pm->entries[i].inode)
			j++;
		if (j < nwant && want[j].inode == pm->entries[i].inode)
			pm->entries[k++] = pm->entries[i];
		else
			entry_release(&pm->entries[i],
				      ownertab_get(&pm->owners, pm->entries[i].owner)->nprocs);
	}
	changed = k != pm->count;
	pm->count = k;
	return changed;
}

void procmap_want_rescan(struct procmap *pm, uint32_t inode)
{
	if (pm->nrescan == pm->rescan_cap) {
		size_t cap = pm->rescan_cap ? pm->rescan_cap * 2 : 8;
		uint32_t *r = realloc(pm->rescan, cap * sizeof(*r));

		if (!r)
			return;
		pm->rescan = r;
		pm->rescan_cap = cap;
	}
	pm->rescan[pm->nrescan++] = inode;
}

bool procmap_rescan_wanted(const struct procmap *pm)
{
	return pm->nrescan > 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Uncache the sockets waiting for a rescan, so the update resolves them afresh. Return: whether any was. */
static bool forget_rescans(struct procmap *pm)
{
	size_t i, k = 0;

	if (pm->nrescan == 0)
		return false;
	sort_inplace(pm->rescan, pm->nrescan, sizeof(*pm->rescan), u32_cmp);
	for (i = 0; i < pm->count; i++) {
		struct pm_entry *e = &pm->entries[i];

		if (bsearch(&e->inode, pm->rescan, pm->nrescan, sizeof(*pm->rescan), u32_cmp))
			entry_release(e, ownertab_get(&pm->owners, e->owner)->nprocs);
		else
			pm->entries[k++] = *e;
	}
	pm->nrescan = 0;
	if (k == pm->count)
		return false;
	pm->count = k;
	/* prune_next is a position: start the slice again rather than skip some. */
	pm->prune_next = 0;
	return true;
}

/* Find the holders of pend[0, n): those with a hint by their cgroup, the rest by one full walk. */
static void walk_pending(struct procmap *pm, DIR *proc, struct pending *pend, size_t n,
			 struct proc_table *pt)
{
	size_t nhintless = 0, nrest = 0;

	/* Those with a hint (after the ones without: cgid 0 sorts first) go by their cgroup. */
	sort_inplace(pend, n, sizeof(*pend), pending_cg_cmp);
	while (nhintless < n && pend[nhintless].cgid == 0)
		nhintless++;
	if (nhintless < n)
		resolve_by_cgroup(pm, dirfd(proc), pend + nhintless, n - nhintless, pt);

	/* The rest, in inode order, share one walk of every process. */
	sort_inplace(pend, n, sizeof(*pend), pending_rest_cmp);
	while (nrest < n && !pend[nrest].done)
		nrest++;
	if (nrest > 0) {
		full_walk(proc, pend, nrest, pt);
		pm->full_walks++;
	}
}

/* Cache what the walks found for pend[0, n), whose inodes are not cached. Return: 0 or -ENOMEM. */
static int cache_pending(struct procmap *pm, struct pending *pend, size_t n,
			 const struct proc_table *pt)
{
	struct pm_entry *fresh;
	size_t i, j, k;
	int err;

	err = entries_reserve(pm, pm->count + n);
	if (err < 0)
		return err;
	fresh = calloc(n, sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	sort_inplace(pend, n, sizeof(*pend), pending_inode_cmp);
	for (i = 0; i < n; i++) {
		err = pending_finish(pm, &pend[i], pt, &fresh[i]);
		if (err < 0) {
			while (i-- > 0)
				entry_release(&fresh[i], pend[i].nprocs);
			free(fresh);
			return err;
		}
	}
	/* Merge from the back so the cache stays sorted without a copy. */
	i = pm->count;
	j = n;
	k = pm->count + n;
	while (j > 0) {
		if (i > 0 && pm->entries[i - 1].inode > fresh[j - 1].inode)
			pm->entries[--k] = pm->entries[--i];
		else
			pm->entries[--k] = fresh[--j];
	}
	pm->count += n;
	free(fresh);
	return 0;
}

/*
 * Resolve and cache want[0, n), none of them cached yet. If PROC_ROOT
 * cannot be read nothing is cached, so the next update tries again; an
 * inode whose holder is simply not visible (another namespace, no
 * permission) is cached with nprocs 0, so it is not looked for on every
 * tick. Return: 1 when they were cached, 0 when PROC_ROOT could not be
 * read, -ENOMEM.
 */
static int resolve_new(struct procmap *pm, const struct want *want, size_t n)
{
	struct proc_table pt = { 0 };
	struct pending *pend;
	DIR *proc;
	size_t i;
	int err;

	pend = calloc(n, sizeof(*pend));
	if (!pend)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		pend[i].inode = want[i].inode;
		pend[i].cgid = want[i].cgid;
	}
	proc = opendir(pm->proc_root);
	if (!proc) {
		free(pend);
		return 0;
	}
	walk_pending(pm, proc, pend, n, &pt);
	closedir(proc);
	err = pt.failed ? -ENOMEM : cache_pending(pm, pend, n, &pt);
	for (i = 0; i < pt.count; i++)
		free(pt.items[i].tfds);
	free(pt.items);
	free(pend);
	return err < 0 ? err : 1;
}

/*
 * The cost on a host with 5,000 processes: in the steady state every inode
 * asked for is cached, so nothing under /proc or the cgroup tree is
 * touched, and only the sorted copy of the inodes is allocated (the
 * monitor asks only when its sockets changed). A new listener with a cgroup hint
 * costs the fds of the processes of its cgroup only (a service's handful),
 * plus, the first time or when its cgroup is newer than the index, one walk
 * of the cgroup tree (directories, not processes). Only a listener with no
 * hint, or one not held by any process of its own cgroup (passed on by
 * socket activation, SCM_RIGHTS or a move to another cgroup), costs the walk
 * of all 5,000 processes' fds, and that walk is shared by every such inode
 * of the update. Memory: an entry per inode (its fds) and one copy of each
 * distinct owner, so 10,000 listeners of one server cost one owner.
 */
int procmap_update_hinted(struct procmap *pm, const uint32_t *inodes, const uint64_t *cgroup_ids,
			  size_t n)
{
	struct want *want;
	size_t nfresh = 0, i;
	long nwant;
	bool changed;
	int err = 0;

	nwant = want_list(inodes, cgroup_ids, n, &want);
	if (nwant < 0)
		return (int)nwant;
	changed = forget_unasked(pm, want, (size_t)nwant);
	changed |= forget_rescans(pm);
	/* The inodes not cached yet; when there are none, nothing is read at all. */
	for (i = 0; i < (size_t)nwant; i++)
		if (!entry_find(pm, want[i].inode))
			want[nfresh++] = want[i];
	if (nfresh > 0) {
		err = resolve_new(pm, want, nfresh);
		changed |= err > 0;
	}
	if (changed || err < 0) {
		procmap_owners_collect(pm);
		pm->generation++;
	}
	free(want);
	return err < 0 ? err : 0;
}
