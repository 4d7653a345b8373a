/* procmap.c: map listener socket inodes to the processes holding them and their systemd unit, cached by inode. */
#include "version.h"	/* the autoconf header (_GNU_SOURCE); include/config.h is the config module */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procmap.h"

struct procmap {
	char *proc_root;
	struct owner *owners;   /* sorted by inode */
	size_t count;
	size_t cap;
};

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
	return pm;
}

void procmap_free(struct procmap *pm)
{
	if (!pm)
		return;
	free(pm->owners);
	free(pm->proc_root);
	free(pm);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int owner_cmp(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

const struct owner *procmap_get(const struct procmap *pm, uint32_t inode)
{
	struct owner key;

	if (pm->count == 0)
		return NULL;
	key.inode = inode;
	return bsearch(&key, pm->owners, pm->count, sizeof(*pm->owners), owner_cmp);
}

/*
 * Read a small file relative to dirfd into buf, NUL-terminated; longer
 * content is cut at size - 1. Return: bytes read, or -1 (errno set).
 */
static ssize_t read_small_at(int dirfd, const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (len < size - 1) {
		ssize_t r = read(fd, buf + len, size - 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int saved = errno;

			close(fd);
			errno = saved;
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

/* The unit of one cgroup path: its innermost component ending in .service or .scope. */
static void unit_from_path(const char *path, size_t plen, char *unit, size_t len)
{
	static const char deleted[] = " (deleted)";
	const size_t dlen = sizeof(deleted) - 1;
	const char *p;

	unit[0] = '\0';
	/* cgroup v2 marks a removed cgroup; its processes still belong to the unit. */
	if (plen >= dlen && memcmp(path + plen - dlen, deleted, dlen) == 0)
		plen -= dlen;
	p = path + plen;
	while (p > path) {
		const char *comp_end = p, *comp;
		size_t clen;

		while (p > path && p[-1] != '/')
			p--;
		comp = p;
		clen = (size_t)(comp_end - comp);
		if ((clen > 8 && memcmp(comp_end - 8, ".service", 8) == 0) ||
		    (clen > 6 && memcmp(comp_end - 6, ".scope", 6) == 0)) {
			/* A cut unit name would name another unit: report none. */
			if (clen < len) {
				memcpy(unit, comp, clen);
				unit[clen] = '\0';
			}
			return;
		}
		if (p > path)
			p--;  /* step over the '/' */
	}
}

/* Rank of a /proc/PID/cgroup line: 0 for "0::", 1 for "name=systemd", 2 other, -1 not a cgroup line. */
static int cgroup_line_rank(const char *line, const char *eol, const char **path)
{
	const char *c1 = memchr(line, ':', (size_t)(eol - line));
	const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;
	size_t clen;

	if (!c2)
		return -1;
	*path = c2 + 1;
	clen = (size_t)(c2 - c1 - 1);
	if (clen == 0 && c1 - line == 1 && line[0] == '0')
		return 0;
	if (clen == 12 && memcmp(c1 + 1, "name=systemd", 12) == 0)
		return 1;
	return 2;
}

/*
 * cgroup v2 has one line "0::/path". cgroup v1 has one line per hierarchy
 * "ID:controllers:/path"; systemd tracks units in "name=systemd". On hybrid
 * hosts both exist: take "0::" first, then "name=systemd" (a v1 host can
 * show "0::/" with the unit only under name=systemd), then the other
 * hierarchies in order, since systemd mirrors units into v1 controllers too.
 */
void procmap_unit_from_cgroup(const char *text, char *unit, size_t len)
{
	int rank;

	if (len == 0)
		return;
	unit[0] = '\0';
	for (rank = 0; rank < 3; rank++) {
		const char *p = text;

		while (*p) {
			const char *nl = strchr(p, '\n');
			const char *eol = nl ? nl : p + strlen(p);
			const char *path;

			if (cgroup_line_rank(p, eol, &path) == rank) {
				unit_from_path(path, (size_t)(eol - path), unit, len);
				if (unit[0] != '\0')
					return;
			}
			p = nl ? nl + 1 : eol;
		}
	}
}

char procmap_proc_state(const char *proc_root, int pid)
{
	/*
	 * Only the start is needed: pid, comm (at most 64 bytes, for kernel
	 * workers) and the state fit well within 256.
	 */
	char path[4096], buf[256];
	const char *rp;
	int n;

	n = snprintf(path, sizeof(path), "%s/%d/stat", proc_root, pid);
	if (n < 0 || (size_t)n >= sizeof(path))
		return 0;
	if (read_small_at(AT_FDCWD, path, buf, sizeof(buf)) < 0)
		return 0;
	/* comm may itself contain ") ": the state follows the last ')'. */
	rp = strrchr(buf, ')');
	if (!rp || rp[1] != ' ' || !isalpha((unsigned char)rp[2]))
		return 0;
	return rp[2];
}

/* One inode being resolved during a walk. */
struct pending {
	struct owner *owner;
	int last_pid;   /* the process already counted for this inode */
	int unit_pid;   /* the pid owner->unit came from, 0 if none yet */
};

static int pending_cmp(const void *key, const void *elem)
{
	uint32_t inode = *(const uint32_t *)key;
	const struct pending *p = elem;

	return inode < p->owner->inode ? -1 : inode > p->owner->inode;
}

/* "socket:[12345]" -> 12345. Return: false for anything else. */
static bool parse_socket_link(const char *link, uint32_t *inode)
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
 * Insert pid into owner->procs[] keeping pid order. When the array is full
 * the highest pid is dropped: the lowest is usually the master of a
 * pre-fork server, the one worth naming.
 */
static void add_proc(struct owner *o, int pid, const char *comm)
{
	unsigned i, n = o->nprocs;

	o->nprocs_total++;
	if (n == OWNER_MAX_PROCS) {
		if (pid > o->procs[n - 1].pid)
			return;
		n--;
	}
	for (i = n; i > 0 && o->procs[i - 1].pid > pid; i--)
		o->procs[i] = o->procs[i - 1];
	o->procs[i].pid = pid;
	snprintf(o->procs[i].comm, sizeof(o->procs[i].comm), "%s", comm);
	o->nprocs = n + 1;
}

static bool is_pid_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/*
 * Look at every fd of one process and record it as a holder of any
 * pending inode. A process that vanishes (ENOENT, ESRCH) or that we may
 * not inspect (EACCES) is skipped: it is not an error.
 */
static void scan_process(int procfd, const char *pidname, struct pending *pend,
			 size_t npend)
{
	char fdpath[64], link[64], comm[OWNER_COMM_MAX + 1] = "";
	bool have_comm = false;
	struct dirent *de;
	long lpid;
	int pid, dfd;
	DIR *d;

	lpid = strtol(pidname, NULL, 10);
	if (lpid <= 0 || lpid > INT32_MAX)
		return;
	pid = (int)lpid;
	snprintf(fdpath, sizeof(fdpath), "%s/fd", pidname);
	dfd = openat(procfd, fdpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct pending *hit;
		uint32_t inode;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (!parse_socket_link(link, &inode))
			continue;
		hit = bsearch(&inode, pend, npend, sizeof(*pend), pending_cmp);
		/* The same inode on several fds of one process counts once. */
		if (!hit || hit->last_pid == pid)
			continue;
		if (!have_comm) {
			char path[64];
			ssize_t len;

			snprintf(path, sizeof(path), "%s/comm", pidname);
			len = read_small_at(procfd, path, comm, sizeof(comm));
			/* No comm: the process exited while we looked. */
			if (len < 0)
				break;
			if (len > 0 && comm[len - 1] == '\n')
				comm[len - 1] = '\0';
			comm[OWNER_COMM_MAX - 1] = '\0';
			have_comm = true;
		}
		hit->last_pid = pid;
		add_proc(hit->owner, pid, comm);
		/* Holders of one listener share a unit in practice; name the lowest pid's. */
		if (hit->unit_pid == 0 || pid < hit->unit_pid) {
			char cg[4096], unit[OWNER_UNIT_MAX];
			char path[64];

			snprintf(path, sizeof(path), "%s/cgroup", pidname);
			if (read_small_at(procfd, path, cg, sizeof(cg)) >= 0) {
				procmap_unit_from_cgroup(cg, unit, sizeof(unit));
				if (unit[0] != '\0') {
					memcpy(hit->owner->unit, unit, sizeof(unit));
					hit->unit_pid = pid;
				}
			}
		}
	}
	closedir(d);
}

/*
 * Resolve pend[0, n) (sorted by inode) with one walk of PROC_ROOT.
 * Return: false when PROC_ROOT cannot be opened.
 */
static bool resolve(const char *proc_root, struct pending *pend, size_t n)
{
	struct dirent *de;
	DIR *proc;

	proc = opendir(proc_root);
	if (!proc)
		return false;
	while ((de = readdir(proc)) != NULL)
		if (is_pid_name(de->d_name))
			scan_process(dirfd(proc), de->d_name, pend, n);
	closedir(proc);
	return true;
}

int procmap_update(struct procmap *pm, const uint32_t *inodes, size_t n)
{
	uint32_t *want = NULL;
	struct owner *fresh = NULL;
	struct pending *pend = NULL;
	size_t nwant = 0, nfresh = 0, i, j, k;
	int err = 0;

	if (n > 0) {
		want = malloc(n * sizeof(*want));
		if (!want)
			return -ENOMEM;
		memcpy(want, inodes, n * sizeof(*want));
		qsort(want, n, sizeof(*want), u32_cmp);
		for (i = 0; i < n; i++)
			if (nwant == 0 || want[nwant - 1] != want[i])
				want[nwant++] = want[i];
	}

	/* Forget cached inodes not asked for, in place: both lists are sorted. */
	for (i = 0, j = 0, k = 0; i < pm->count; i++) {
		while (j < nwant && want[j] < pm->owners[i].inode)
			j++;
		if (j < nwant && want[j] == pm->owners[i].inode)
			pm->owners[k++] = pm->owners[i];
	}
	pm->count = k;

	/* The inodes not cached yet; when there are none, /proc is not walked at all. */
	for (i = 0; i < nwant; i++)
		if (!procmap_get(pm, want[i]))
			want[nfresh++] = want[i];
	if (nfresh == 0)
		goto out;

	fresh = calloc(nfresh, sizeof(*fresh));
	pend = calloc(nfresh, sizeof(*pend));
	if (!fresh || !pend) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nfresh; i++) {
		fresh[i].inode = want[i];
		pend[i].owner = &fresh[i];
	}
	/*
	 * If PROC_ROOT cannot be read nothing is cached, so the next update
	 * tries again; an inode whose holder is simply not visible (another
	 * namespace, no permission) is cached with nprocs 0, so it is not
	 * looked for on every tick.
	 */
	if (!resolve(pm->proc_root, pend, nfresh))
		goto out;

	if (pm->count + nfresh > pm->cap) {
		size_t cap = pm->cap ? pm->cap : 16;
		struct owner *o;

		while (cap < pm->count + nfresh)
			cap *= 2;
		o = realloc(pm->owners, cap * sizeof(*o));
		if (!o) {
			err = -ENOMEM;
			goto out;
		}
		pm->owners = o;
		pm->cap = cap;
	}
	/* Merge from the back so the cache stays sorted without a copy. */
	i = pm->count;
	j = nfresh;
	k = pm->count + nfresh;
	while (j > 0) {
		if (i > 0 && pm->owners[i - 1].inode > fresh[j - 1].inode)
			pm->owners[--k] = pm->owners[--i];
		else
			pm->owners[--k] = fresh[--j];
	}
	pm->count += nfresh;
out:
	free(pend);
	free(fresh);
	free(want);
	return err;
}
