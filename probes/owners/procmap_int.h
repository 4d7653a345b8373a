/* procmap_int.h: procmap's insides, shared by procmap.c (finding owners) and procmap_prune.c (keeping them current). */
#ifndef BACKLOGD_PROCMAP_INT_H
#define BACKLOGD_PROCMAP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>

#include "cgroup.h"
#include "ownertab.h"
#include "procinfo.h"
#include "procmap.h"

/*
 * A holder process and one socket it held, with the fd it held it on: one
 * readlink says whether the process is still there, whatever else it holds.
 */
struct pm_rep {
	int pid;
	int fd;
	uint32_t inode;
	int pidfd;          /* the process's pidfd, -1 when there is none: then fd and inode tell */
	bool gone;          /* this prune found the process gone */
};

/*
 * One socket inode: its owner (an index into the interned owners) and, for
 * each of the owner's processes, the fd it holds the socket on (to see,
 * later, that it still does). Most sockets have one holder: its fd is kept
 * in place, and only a shared socket has an array (owner's nprocs long).
 */
struct pm_entry {
	uint32_t inode;
	uint32_t owner;
	union {
		int one;
		int *many;
	} fd;
};

/* The fds of e, whose owner has nprocs processes. */
static inline int *entry_fds(struct pm_entry *e, unsigned nprocs)
{
	return nprocs > 1 ? e->fd.many : &e->fd.one;
}

/* Set e's fds to fd[0, nprocs), replacing what it had for had processes. Return: false on ENOMEM (e unchanged). */
static inline bool entry_set_fds(struct pm_entry *e, unsigned had, const int *fd, unsigned nprocs)
{
	int *many = NULL;

	if (nprocs > 1) {
		many = malloc(nprocs * sizeof(*many));
		if (!many)
			return false;
		memcpy(many, fd, nprocs * sizeof(*many));
	}
	if (had > 1)
		free(e->fd.many);
	if (many)
		e->fd.many = many;
	else
		e->fd.one = nprocs ? fd[0] : -1;
	return true;
}

/* Free what e holds; its owner has nprocs processes. */
static inline void entry_release(struct pm_entry *e, unsigned nprocs)
{
	if (nprocs > 1)
		free(e->fd.many);
}

/* A holder that is another holder's parent, and the hash of its children when last read. */
struct pm_kids {
	int pid;
	uint32_t hash;
};

struct procmap {
	char *proc_root;
	struct pm_entry *entries;   /* sorted by inode */
	size_t count;
	size_t cap;
	struct ownertab owners;
	size_t prune_next;          /* where the next slice of procmap_prune_exited starts */
	struct pm_rep *reps;        /* one socket per holder process, by pid (procmap_prune.c) */
	struct pollfd *pfds;        /* room for one per rep, for the poll of the pidfds */
	size_t nreps;
	size_t reps_next;           /* where the next check of the reps starts */
	unsigned long reps_generation;  /* the generation reps were built for */
	bool reps_stale;            /* rebuild them even if the generation did not move */

	unsigned long full_walks;
	unsigned long generation;   /* procmap_generation */
	unsigned long cgroup_hits;

	/*
	 * Sockets that lost some holders but not all: the set may have changed
	 * in other ways too (nginx -s reload forks new workers before the old
	 * ones let go), so the next update looks for their holders afresh.
	 */
	uint32_t *rescan;
	size_t nrescan;
	size_t rescan_cap;
	size_t states_next;         /* the owner procmap_refresh_states reads next */
	/*
	 * Masters' children as last seen (a hash of PID/task/PID/children): a
	 * master that forked a worker without any leaving (more workers, or a
	 * reload seen before the old ones go) has its sockets looked up afresh.
	 */
	struct pm_kids *kids;
	size_t nkids;
	size_t kids_cap;

	struct user_cache users;    /* the user names of the owners' uids */
	struct cgroup_index cg;     /* cgroup id -> directory, for the hinted lookups */
};

/* "socket:[12345]" -> 12345. Return: false for anything else. */
bool procmap_socket_link(const char *link, uint32_t *inode);

/* Forget the interned owners no entry uses any more. */
void procmap_owners_collect(struct procmap *pm);

/* Ask for inode's holders to be looked for again at the next update (failing quietly on ENOMEM). */
void procmap_want_rescan(struct procmap *pm, uint32_t inode);

/* Close and free the holder processes' reps (procmap_prune.c). */
void procmap_reps_free(struct procmap *pm);

#endif
