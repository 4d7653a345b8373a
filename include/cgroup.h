/* cgroup.h: cgroup membership: the paths of a /proc/PID/cgroup text, the systemd unit they name, and cgroup v2 ids back to their directories. */
#ifndef BACKLOGD_CGROUP_H
#define BACKLOGD_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Read PROCFD/PID/cgroup into buf (size bytes), NUL-terminated. A text cut
 * by size loses its last line, since a cut path could name another cgroup.
 * Return: the bytes kept, or -errno (-ENOENT or -ESRCH: the process is gone).
 */
ssize_t cgroup_read_text(int procfd, int pid, char *buf, size_t size);

/* Writes into name (len bytes) what one cgroup path names, "" when nothing. */
typedef void (*cgroup_path_namer)(const char *path, size_t plen, char *name, size_t len);

/*
 * The first name name_path gives a cgroup path of a /proc/PID/cgroup text,
 * the paths taken in the order that tells where a process belongs: the
 * "0::" line (cgroup v2) first, then "name=systemd", then the other v1
 * hierarchies. name is "" when no path names anything; untouched when len
 * is 0.
 */
void cgroup_name_from_text(const char *text, cgroup_path_namer name_path, char *name, size_t len);

/*
 * The systemd unit in a /proc/PID/cgroup text: the innermost path component
 * ending in .service or .scope ("nginx.service"), in cgroup_name_from_text's
 * order; "" when none, or when the name does not fit in len.
 */
void cgroup_unit_from_text(const char *text, char *unit, size_t len);

/*
 * The length of a cgroup path without the " (deleted)" cgroup v2 adds for a
 * removed cgroup: its processes still belong where the path says.
 */
size_t cgroup_path_len(const char *path, size_t len);

/* One cgroup of the index: its id (directory inode) and its path under the mount. */
struct cgroup_entry {
	uint64_t id;
	size_t path;        /* offset of the NUL-terminated relative path in paths */
	unsigned depth;     /* used only while walking */
};

/*
 * cgroup v2 id -> directory, for the ids sock_diag reports: built by one
 * walk of the cgroup2 tree when an id is first asked for, walked again
 * when one is not in it.
 */
struct cgroup_index {
	bool built;                     /* walked at least once */
	char *mount;                    /* the cgroup2 mount point, NULL when there is none */
	struct cgroup_entry *items;     /* sorted by id once built */
	size_t count;
	size_t cap;
	char *paths;                    /* all relative paths, NUL-separated */
	size_t paths_len;
	size_t paths_cap;
};

/* An empty index that owns no memory; the first cgroup_index_open walks. */
void cgroup_index_init(struct cgroup_index *ci);
/* Release the memory; ci is then as after init. */
void cgroup_index_free(struct cgroup_index *ci);

/*
 * The directory of cgroup id, the cgroup2 mount found through
 * PROC_ROOT/self/mountinfo. The index is (re)built when id is not in it,
 * at most once per *walked (a caller's pass over many ids): a cgroup made
 * since the last walk is found, and ids that exist nowhere cost one walk
 * per pass, not one per id. Return: an fd of the directory, or -1.
 */
int cgroup_index_open(struct cgroup_index *ci, const char *proc_root, uint64_t id, bool *walked);

/*
 * The pids of cgroup.procs in the cgroup directory cgfd, sorted and
 * without repeats (the kernel promises neither), in a new array (*out, the
 * caller frees it). Return: the count, or -1 when it cannot be read, holds
 * more than a cgroup worth narrowing to, or is out of memory.
 */
long cgroup_read_pids(int cgfd, int **out);

#endif
