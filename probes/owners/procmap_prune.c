/* procmap_prune.c: keep cached owners current: holder processes that exited or closed the socket leave them. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procfile.h"
#include "procmap_int.h"
#include "sort.h"

/*
 * Owners are cached per inode and looked up again only for new listeners,
 * so a worker that exits would stay listed for as long as the listener
 * lives, and its pid could come to name an unrelated process. A process is
 * kept while the fd it held the socket on still points at it: that one
 * readlink catches an exit, a zombie, a closed fd and a reused pid alike.
 * An owner left with none is forgotten, so the next update resolves its
 * inode afresh (the socket may have been handed to a process still there).
 *
 * Done for every socket, that is a readlink per listener and holder: 10,000
 * of them on a host with 10,000 listeners. Processes exit far more often
 * than they close one listener and keep the rest, so each prune first asks
 * every holder process once, through one socket of its own (its "rep"),
 * and checks each socket of only those whose rep is gone. What that misses
 * (a live process that closed one of its listeners, which others still
 * hold) is caught by a slice of the sockets checked one by one, where the
 * last prune stopped, within the call's budget.
 */

/*
 * Holder processes asked per readlink of the slice's budget: a host with a
 * few processes asks them all every call, one with thousands of workers
 * goes round them.
 */
#define PRUNE_REPS_PER_CHECK 8

/* Does pid still hold inode on fd? Unknown (not allowed to look: EACCES) counts as yes, rather than guess. */
static bool still_holds(const struct procmap *pm, int pid, int fd, uint32_t inode)
{
	char path[PATH_MAX], link[64];
	uint32_t got;
	ssize_t len;

	snprintf(path, sizeof(path), "%s/%d/fd/%d", pm->proc_root, pid, fd);
	len = readlink(path, link, sizeof(link) - 1);
	if (len <= 0)
		return errno != ENOENT && errno != ESRCH;
	link[len] = '\0';
	return procmap_socket_link(link, &got) && got == inode;
}

/* The entry's owner without the processes keep[] says are gone. Return: false on ENOMEM (unchanged). */
static bool entry_drop_procs(struct procmap *pm, struct pm_entry *e, const bool *keep)
{
	struct owner o = *ownertab_get(&pm->owners, e->owner);
	const int *cur = entry_fds(e, o.nprocs);
	int fd[OWNER_MAX_PROCS];
	unsigned j, kept = 0, had = o.nprocs;
	long idx;

	for (j = 0; j < had; j++) {
		if (!keep[j])
			continue;
		o.procs[kept] = o.procs[j];
		fd[kept++] = cur[j];
	}
	o.nprocs_total -= had - kept;
	o.nprocs = kept;
	memset(&o.procs[kept], 0, (OWNER_MAX_PROCS - kept) * sizeof(o.procs[0]));
	/* An owner interned for nothing is collected later; fds and owner change together. */
	idx = ownertab_intern(&pm->owners, &o);
	if (idx < 0 || !entry_set_fds(e, had, fd, kept))
		return false;
	e->owner = (uint32_t)idx;
	return true;
}

/* What a prune has done so far. */
struct prune {
	size_t checks;          /* readlinks */
	unsigned removed;       /* processes dropped from owners */
	bool changed;
	bool forget;            /* some entry lost its last process: marked owner UINT32_MAX */
};

/* Check every process of e; drop those gone. */
static void prune_entry(struct procmap *pm, struct pm_entry *e, struct prune *pr)
{
	const struct owner *o = ownertab_get(&pm->owners, e->owner);
	bool keep[OWNER_MAX_PROCS];
	unsigned j, kept = 0, had = o->nprocs;

	for (j = 0; j < had; j++) {
		keep[j] = still_holds(pm, o->procs[j].pid, entry_fds(e, had)[j], e->inode);
		kept += keep[j];
	}
	pr->checks += had;
	if (kept == had)
		return;
	/* Even a failed attempt below may have moved the owners. */
	pm->generation++;
	if (kept == 0) {
		/* Forgotten: resolved again when next asked. */
		entry_release(e, had);
		e->owner = UINT32_MAX;
		pr->forget = true;
	} else if (!entry_drop_procs(pm, e, keep)) {
		return;         /* no memory: looked at again next time round */
	} else {
		/* A worker that went may have had successors forked meanwhile: find them. */
		procmap_want_rescan(pm, e->inode);
	}
	pr->removed += had - kept;
	pr->changed = true;
}

static int rep_cmp(const void *a, const void *b)
{
	const struct pm_rep *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* By pid, then socket: each process's rep is its lowest inode, whatever the sort did before. */
static int rep_sort_cmp(const void *a, const void *b)
{
	const struct pm_rep *x = a, *y = b;
	int c = rep_cmp(a, b);

	return c ? c : x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* A pidfd for pid, or -1 (a kernel before 5.3, or no such process). */
static int open_pidfd(int pid)
{
#ifdef SYS_pidfd_open
	long fd = syscall(SYS_pidfd_open, pid, 0);

	return fd >= 0 && fd <= INT_MAX ? (int)fd : -1;
#else
	(void)pid;
	return -1;
#endif
}

/*
 * Give the new reps their pidfds: carried over from the old reps of the same
 * pid (both sorted by pid), opened for the new pids; the old ones left over
 * are closed. Only for the real /proc: a replayed tree's pids are not ours.
 */
static void reps_pidfds(const struct procmap *pm, struct pm_rep *nw, size_t n, struct pm_rep *old,
			size_t nold)
{
	bool real = strcmp(pm->proc_root, "/proc") == 0;
	size_t i, j = 0;

	for (i = 0; i < n; i++) {
		while (j < nold && old[j].pid < nw[i].pid) {
			if (old[j].pidfd >= 0)
				close(old[j].pidfd);
			j++;
		}
		if (j < nold && old[j].pid == nw[i].pid) {
			nw[i].pidfd = old[j].pidfd;
			j++;
		} else {
			nw[i].pidfd = real ? open_pidfd(nw[i].pid) : -1;
		}
	}
	for (; j < nold; j++)
		if (old[j].pidfd >= 0)
			close(old[j].pidfd);
}

/*
 * One rep per holder process: every (process, fd, socket) of the entries,
 * sorted by pid, the lowest socket of each pid kept, with a pidfd where the
 * kernel gives one. Return: false on ENOMEM (then every entry is checked
 * one by one, as if every rep were gone).
 */
static bool reps_build(struct procmap *pm)
{
	struct pm_rep *nw;
	struct pollfd *pfds;
	size_t i, n = 0, k;

	for (i = 0; i < pm->count; i++)
		n += ownertab_get(&pm->owners, pm->entries[i].owner)->nprocs;
	nw = malloc((n ? n : 1) * sizeof(*nw));
	pfds = malloc((n ? n : 1) * sizeof(*pfds));
	if (!nw || !pfds) {
		free(nw);
		free(pfds);
		return false;
	}
	n = 0;
	for (i = 0; i < pm->count; i++) {
		struct pm_entry *e = &pm->entries[i];
		const struct owner *o = ownertab_get(&pm->owners, e->owner);
		unsigned j;

		for (j = 0; j < o->nprocs; j++) {
			nw[n].pid = o->procs[j].pid;
			nw[n].fd = entry_fds(e, o->nprocs)[j];
			nw[n].inode = e->inode;
			nw[n].pidfd = -1;
			nw[n].gone = false;
			n++;
		}
	}
	sort_inplace(nw, n, sizeof(*nw), rep_sort_cmp);
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || nw[k - 1].pid != nw[i].pid)
			nw[k++] = nw[i];
	reps_pidfds(pm, nw, k, pm->reps, pm->nreps);
	free(pm->reps);
	free(pm->pfds);
	pm->reps = nw;
	pm->pfds = pfds;
	pm->nreps = k;
	pm->reps_generation = pm->generation;
	pm->reps_stale = false;
	return true;
}

/* Close the reps' pidfds and free them (procmap_free). */
void procmap_reps_free(struct procmap *pm)
{
	reps_pidfds(pm, NULL, 0, pm->reps, pm->nreps);
	free(pm->reps);
	free(pm->pfds);
	pm->reps = NULL;
	pm->pfds = NULL;
	pm->nreps = 0;
}

static const struct pm_rep *rep_find(const struct procmap *pm, int pid)
{
	struct pm_rep key = { .pid = pid };

	if (pm->nreps == 0)
		return NULL;
	return bsearch(&key, pm->reps, pm->nreps, sizeof(*pm->reps), rep_cmp);
}

/* Does o have a process whose rep is gone (or none)? */
static bool owner_suspect(const struct procmap *pm, const struct owner *o)
{
	unsigned j;

	for (j = 0; j < o->nprocs; j++) {
		const struct pm_rep *r = rep_find(pm, o->procs[j].pid);

		if (!r || r->gone)
			return true;
	}
	return false;
}

/*
 * Ask each holder process whether it is still there. Those with a pidfd
 * all at once, in one poll() (a pidfd is readable once its process has
 * exited, and names that process only: a reused pid is another process);
 * the others (an older kernel, a replayed /proc) by a readlink of their
 * rep socket, at most max of them (0: all), going on from where the last
 * call stopped. Return: whether any is gone (or every entry must be looked
 * at).
 */
static bool reps_check(struct procmap *pm, size_t max, struct prune *pr)
{
	bool any = false;
	size_t i, k, n, np = 0, asked = 0;

	if ((pm->reps_stale || pm->reps_generation != pm->generation) && !reps_build(pm)) {
		procmap_reps_free(pm);  /* no reps: every entry is suspect */
		return true;
	}
	for (i = 0; i < pm->nreps; i++) {
		pm->reps[i].gone = false;
		if (pm->reps[i].pidfd >= 0) {
			pm->pfds[np].fd = pm->reps[i].pidfd;
			pm->pfds[np].events = POLLIN;
			pm->pfds[np].revents = 0;
			np++;
		}
	}
	if (np > 0) {
		pr->checks++;
		if (poll(pm->pfds, (nfds_t)np, 0) > 0)
			for (i = 0, k = 0; i < pm->nreps; i++)
				if (pm->reps[i].pidfd >= 0 && pm->pfds[k++].revents != 0) {
					pm->reps[i].gone = true;
					any = true;
				}
	}
	n = pm->nreps - np;
	if (max != 0 && max < n)
		n = max;
	for (k = 0, i = pm->reps_next < pm->nreps ? pm->reps_next : 0; asked < n && k < pm->nreps; k++) {
		struct pm_rep *r = &pm->reps[i];

		i = (i + 1) % pm->nreps;
		if (r->pidfd >= 0)
			continue;
		r->gone = !still_holds(pm, r->pid, r->fd, r->inode);
		any |= r->gone;
		asked++;
	}
	pm->reps_next = pm->nreps ? i : 0;
	pr->checks += asked;
	return any;
}

/* Drop the entries marked forgotten; *next (a position) moves with the entries before it. */
static void entries_compact(struct procmap *pm, size_t *next)
{
	size_t i, k = 0, before = 0;

	for (i = 0; i < pm->count; i++) {
		if (pm->entries[i].owner == UINT32_MAX) {
			before += i < *next;
			continue;
		}
		pm->entries[k++] = pm->entries[i];
	}
	pm->count = k;
	*next -= before;
}

unsigned procmap_prune_exited(struct procmap *pm, size_t max_checks)
{
	struct prune pr = { 0 };
	size_t i, scanned, slice_start, n = pm->count;

	if (n == 0)
		return 0;
	if (max_checks == 0) {
		for (i = 0; i < n; i++)
			prune_entry(pm, &pm->entries[i], &pr);
		i = 0;
	} else {
		/* Processes gone: each of their sockets is checked, whatever the budget. */
		if (reps_check(pm, max_checks * PRUNE_REPS_PER_CHECK, &pr)) {
			for (i = 0; i < n; i++)
				if (owner_suspect(pm, ownertab_get(&pm->owners, pm->entries[i].owner)))
					prune_entry(pm, &pm->entries[i], &pr);
			/* A rep whose socket went while its process stays: pick another next time. */
			pm->reps_stale = true;
		}
		/* Then the slice, max_checks readlinks. */
		slice_start = pr.checks;
		i = pm->prune_next < n ? pm->prune_next : 0;
		for (scanned = 0; scanned < n && pr.checks - slice_start < max_checks; scanned++) {
			if (pm->entries[i].owner != UINT32_MAX)
				prune_entry(pm, &pm->entries[i], &pr);
			i = (i + 1) % n;
		}
	}
	if (pr.forget)
		entries_compact(pm, &i);
	pm->prune_next = i;
	if (pr.changed)
		procmap_owners_collect(pm);
	return pr.removed;
}

/* ---- holder states ---- */

/* A holder whose state moved since its owner was made. */
struct state_change {
	int pid;
	char state;
};

#define STATE_CHANGES_MAX 16

/* Give every owner holding a changed pid its new state. Return: whether any owner changed. */
static bool apply_states(struct procmap *pm, const struct state_change *ch, size_t nch)
{
	bool any = false;
	size_t i, k;
	unsigned j;

	for (i = 0; i < pm->count; i++) {
		struct pm_entry *e = &pm->entries[i];
		struct owner o = *ownertab_get(&pm->owners, e->owner);
		bool changed = false;
		long idx;

		for (j = 0; j < o.nprocs && j < OWNER_MAX_PROCS; j++)
			for (k = 0; k < nch; k++)
				if (o.procs[j].pid == ch[k].pid && o.procs[j].state != ch[k].state) {
					o.procs[j].state = ch[k].state;
					changed = true;
				}
		if (!changed)
			continue;
		/* Out of memory: this one keeps its old state until the next call. */
		idx = ownertab_intern(&pm->owners, &o);
		if (idx < 0)
			continue;
		e->owner = (uint32_t)idx;
		any = true;
	}
	return any;
}

/* Stopped, traced, uninterruptible, zombie: a state that keeps a process from accepting. */
static bool state_stuck(char st)
{
	return st == 'T' || st == 't' || st == 'D' || st == 'Z';
}

/*
 * Only a move into, out of or between the stuck states counts: a busy
 * worker goes from R to S and back many times a second, and making its
 * owner anew each time would cost every tick a new generation.
 */
static bool state_moved(char had, char now)
{
	if (!now || now == had)
		return false;
	return state_stuck(had) || state_stuck(now);
}

/* Parents remembered at most: past it the memory starts again (a first sight asks nothing). */
#define KIDS_MAX 256

/* FNV-1a of pid's children list. Return: false when it cannot be read (no CONFIG_PROC_CHILDREN, gone). */
static bool kids_hash(const struct procmap *pm, int pid, uint32_t *hash)
{
	char path[PATH_MAX], buf[4096];
	uint32_t h = 2166136261U;
	ssize_t n, i;

	snprintf(path, sizeof(path), "%s/%d/task/%d/children", pm->proc_root, pid, pid);
	n = procfile_read_head_at(AT_FDCWD, path, buf, sizeof(buf));
	if (n < 0)
		return false;
	for (i = 0; i < n; i++) {
		h ^= (unsigned char)buf[i];
		h *= 16777619U;
	}
	*hash = h;
	return true;
}

/* Return: whether pid's children changed since the last look (never on a first look). */
static bool kids_changed(struct procmap *pm, int pid)
{
	uint32_t h;
	size_t i;

	if (!kids_hash(pm, pid, &h))
		return false;
	for (i = 0; i < pm->nkids; i++) {
		if (pm->kids[i].pid != pid)
			continue;
		if (pm->kids[i].hash == h)
			return false;
		pm->kids[i].hash = h;
		return true;
	}
	if (pm->nkids == KIDS_MAX)
		pm->nkids = 0;
	if (pm->nkids == pm->kids_cap) {
		size_t cap = pm->kids_cap ? pm->kids_cap * 2 : 8;
		struct pm_kids *k = realloc(pm->kids, cap * sizeof(*k));

		if (!k)
			return false;
		pm->kids = k;
		pm->kids_cap = cap;
	}
	pm->kids[pm->nkids++] = (struct pm_kids){ pid, h };
	return false;
}

/* Is procs[j] of o the parent of another of o's holders (a master)? */
static bool is_master(const struct owner *o, unsigned j)
{
	unsigned k;

	for (k = 0; k < o->nprocs && k < OWNER_MAX_PROCS; k++)
		if (k != j && o->procs[k].ppid == o->procs[j].pid)
			return true;
	return false;
}

/* Every socket whose owner holds pid is looked up afresh at the next update. */
static void rescan_holders_of(struct procmap *pm, int pid)
{
	size_t i;
	unsigned j;

	for (i = 0; i < pm->count; i++) {
		const struct owner *o = ownertab_get(&pm->owners, pm->entries[i].owner);

		for (j = 0; j < o->nprocs && j < OWNER_MAX_PROCS; j++)
			if (o->procs[j].pid == pid) {
				procmap_want_rescan(pm, pm->entries[i].inode);
				break;
			}
	}
}

/*
 * A worker stopped (SIGSTOP, a debugger) or blocked (D) after it was found
 * is the very one a person must see: states are read again, a slice of
 * max_reads holders a call, in turn, and the owners that changed are made
 * anew (a new generation).
 */
unsigned procmap_refresh_states(struct procmap *pm, size_t max_reads)
{
	struct state_change ch[STATE_CHANGES_MAX];
	int forked[STATE_CHANGES_MAX];
	size_t nch = 0, nforked = 0, reads = 0, n = pm->owners.count, i;

	if (n == 0 || pm->count == 0)
		return 0;
	for (i = 0; i < n && reads < max_reads; i++) {
		const struct owner *o = ownertab_get(&pm->owners, (uint32_t)((pm->states_next + i) % n));
		unsigned j;

		for (j = 0; j < o->nprocs && j < OWNER_MAX_PROCS; j++) {
			char st = procinfo_state(pm->proc_root, o->procs[j].pid);

			reads++;
			/* 0: gone or unreadable, which is the prune's to find. */
			if (state_moved(o->procs[j].state, st) && nch < STATE_CHANGES_MAX)
				ch[nch++] = (struct state_change){ o->procs[j].pid, st };
			if (st && is_master(o, j) && nforked < STATE_CHANGES_MAX) {
				reads++;
				if (kids_changed(pm, o->procs[j].pid))
					forked[nforked++] = o->procs[j].pid;
			}
		}
	}
	pm->states_next = (pm->states_next + i) % n;
	/* Before the states move the owners: the pids are looked for in the owners as they are. */
	for (i = 0; i < nforked; i++)
		rescan_holders_of(pm, forked[i]);
	if (nch == 0 || !apply_states(pm, ch, nch))
		return 0;
	pm->generation++;
	procmap_owners_collect(pm);
	return (unsigned)nch;
}
