/* procmap.h: listener inode -> the processes holding it and their systemd unit. */
#ifndef BACKLOGD_PROCMAP_H
#define BACKLOGD_PROCMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OWNER_MAX_PROCS 16
#define OWNER_COMM_MAX 16
#define OWNER_UNIT_MAX 128
#define OWNER_CMDLINE_MAX 160
#define OWNER_USER_MAX 32

struct owner_proc {
	int pid;
	char comm[OWNER_COMM_MAX];
	char cmdline[OWNER_CMDLINE_MAX];  /* NULs shown as spaces, cut to fit; "" for kernel threads */
	/* What says which holder accepts (owner_acceptor) and whether it can. */
	int ppid;                   /* 0 unknown */
	int64_t uid;                /* real uid, -1 unknown */
	char state;                 /* /proc/PID/stat state when found: 'R', 'S', 'D', 'T', 't', 'Z'; 0 unknown */
	bool polls;                 /* an epoll set of this process watches the socket's fd */
};

struct owner {
	unsigned nprocs;            /* how many of procs[] are set */
	unsigned nprocs_total;      /* how many were found, may exceed OWNER_MAX_PROCS */
	struct owner_proc procs[OWNER_MAX_PROCS];  /* sorted by pid */
	char unit[OWNER_UNIT_MAX];  /* "nginx.service", "" when none */
	int64_t uid;                /* real uid of procs[0], -1 unknown */
	char user[OWNER_USER_MAX];  /* its name ("www-data"), or the number when it has none */
};

/* The owner of a socket nobody was found holding: no processes, uid -1. */
extern const struct owner owner_unknown;

struct procmap;

/* proc_root is "/proc" in production. Return: NULL when out of memory. */
struct procmap *procmap_new(const char *proc_root);
void procmap_free(struct procmap *pm);

/*
 * Make sure every inode in inodes[] has an owner entry. Inodes already
 * cached are not looked up again; cached inodes not in inodes[] are
 * forgotten. cgroup_ids[i] (0 = none) is the cgroup v2 id sock_diag gave
 * for inodes[i]: a new inode whose cgroup can be found is looked for only
 * among the processes of that cgroup (its cgroup.procs), so a host with
 * thousands of processes is not walked for one new listener; the rest are
 * resolved with one walk of PROC_ROOT/[pid]/fd. cgroup_ids may be NULL.
 * Processes that vanish mid-walk are skipped. Return: 0 or -ENOMEM.
 */
int procmap_update_hinted(struct procmap *pm, const uint32_t *inodes, const uint64_t *cgroup_ids,
			  size_t n);

/*
 * Drop cached processes that no longer hold the socket (exited, zombie,
 * closed it, or a reused pid): one readlink of the fd they held it on. An
 * owner left with none is forgotten and resolved again at the next update.
 * With max_checks 0 every socket is checked. Otherwise each holder process
 * is asked whether it is still there: all of them in one poll() of their
 * pidfds (real /proc only), or else through one of its sockets (at most
 * 8 * max_checks of them a call, in turn); every socket of a process found
 * gone is checked; then a slice of the sockets one by one, max_checks
 * readlinks, going on from where the previous call stopped.
 * Return: processes dropped.
 */
unsigned procmap_prune_exited(struct procmap *pm, size_t max_checks);

/*
 * Read the run state of the cached holders again, max_reads of them a
 * call (going on where the last call stopped): an owner whose holder was
 * stopped, blocked or continued since (into or out of T, t, D, Z; R and S
 * alone are not a change) is made anew with the new state, and the
 * generation moves. A master (a holder that is another's parent) whose
 * children changed since the last look has its sockets looked up afresh at
 * the next update (procmap_rescan_wanted): it forked workers that hold
 * them. Return: how many holders changed state.
 */
unsigned procmap_refresh_states(struct procmap *pm, size_t max_reads);

/*
 * Return: whether a prune saw some holders of a shared socket go while
 * others stay (a reload, a respawned worker): the next update should be
 * made even if the sockets did not change, so that it finds the new ones.
 */
bool procmap_rescan_wanted(const struct procmap *pm);

/*
 * Return: a number that changes whenever an update or a prune changed what
 * procmap_get returns (or where): while it stays the same, owner pointers
 * already handed out stay valid.
 */
unsigned long procmap_generation(const struct procmap *pm);

/* Counters for tests and the bench: full /proc walks, and cgroup-narrowed lookups. */
unsigned long procmap_full_walks(const struct procmap *pm);
unsigned long procmap_cgroup_hits(const struct procmap *pm);

/*
 * Return: the cached owner of inode (nprocs may be 0), or NULL if never
 * resolved. Owners are shared between inodes and move: the pointer is
 * valid until the next procmap_update_hinted or procmap_prune_exited.
 */
const struct owner *procmap_get(const struct procmap *pm, uint32_t inode);

#endif
