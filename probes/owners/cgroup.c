/* cgroup.c: cgroup membership: which line of /proc/PID/cgroup counts, the systemd unit of a path, and the cgroup v2 id index that leads from a socket's cgroup to its processes. */
#include "base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "array.h"
#include "cgroup.h"
#include "procfile.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/*
 * Bounds on what the index walks and reads, so that a strange or hostile
 * cgroup tree costs a known amount, never a hang.
 */
#define CG_MAX_DIRS 65536             /* cgroups indexed; a big k8s node has a few thousand */
#define CG_MAX_DEPTH 64               /* cgroup nesting followed */
#define CG_PROCS_MAX 65536            /* a bigger cgroup saves nothing over the full walk */
#define CG_PROCS_READS 65536          /* read() calls on one cgroup.procs */
#define MOUNTINFO_MAX_LINES 100000
#define CG_DEFAULT_MOUNT "/sys/fs/cgroup"

/* ---- the text of /proc/PID/cgroup ---- */

ssize_t cgroup_read_text(int procfd, int pid, char *buf, size_t size)
{
	char rel[32];
	ssize_t len;

	snprintf(rel, sizeof(rel), "%d/cgroup", pid);
	len = procfile_read_head_at(procfd, rel, buf, size);
	/* A cut last line could look like another path: drop it. */
	if (len > 0 && (size_t)len == size - 1 && buf[len - 1] != '\n') {
		char *nl = strrchr(buf, '\n');

		len = nl ? nl + 1 - buf : 0;
		buf[len] = '\0';
	}
	return len;
}

size_t cgroup_path_len(const char *path, size_t len)
{
	static const char deleted[] = " (deleted)";
	const size_t dlen = sizeof(deleted) - 1;

	if (len >= dlen && memcmp(path + len - dlen, deleted, dlen) == 0)
		len -= dlen;
	return len;
}

/* The unit of one cgroup path: its innermost component ending in .service or .scope. */
static void unit_from_path(const char *path, size_t plen, char *unit, size_t len)
{
	const char *p;

	unit[0] = '\0';
	plen = cgroup_path_len(path, plen);
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
 * Call fn(path, len, arg) for each cgroup path of a /proc/PID/cgroup text
 * until it returns true. cgroup v2 has one line "0::/path". cgroup v1 has
 * one line per hierarchy "ID:controllers:/path"; systemd tracks units in
 * "name=systemd". On hybrid
 * hosts both exist: take "0::" first, then "name=systemd" (a v1 host can
 * show "0::/" with the unit only under name=systemd), then the other
 * hierarchies in order, since systemd mirrors units into v1 controllers too.
 */
static void walk_text(const char *text, bool (*fn)(const char *path, size_t len, void *arg),
		      void *arg)
{
	int rank;

	for (rank = 0; rank < 3; rank++) {
		const char *p = text;

		while (*p) {
			const char *nl = strchr(p, '\n');
			const char *eol = nl ? nl : p + strlen(p);
			const char *path;

			if (cgroup_line_rank(p, eol, &path) == rank && fn(path, (size_t)(eol - path), arg))
				return;
			p = nl ? nl + 1 : eol;
		}
	}
}

/* A naming of cgroup paths, and where its name goes. */
struct name_out {
	cgroup_path_namer name_path;
	char *buf;
	size_t len;
};

static bool name_found(const char *path, size_t plen, void *arg)
{
	struct name_out *o = arg;

	o->name_path(path, plen, o->buf, o->len);
	return o->buf[0] != '\0';
}

void cgroup_name_from_text(const char *text, cgroup_path_namer name_path, char *name, size_t len)
{
	struct name_out o = { name_path, name, len };

	if (len == 0)
		return;
	name[0] = '\0';
	walk_text(text, name_found, &o);
}

void cgroup_unit_from_text(const char *text, char *unit, size_t len)
{
	cgroup_name_from_text(text, unit_from_path, unit, len);
}

/* ---- cgroup id -> directory ---- */


/* Undo the octal escapes (\040 for a space ...) of a mountinfo field, in place. */
static void unescape_mountinfo(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/*
 * The cgroup2 mount point from PROC_ROOT/self/mountinfo: the first cgroup2
 * mount of the whole hierarchy (root "/"), else the first cgroup2 mount.
 * When mountinfo cannot be read, /sys/fs/cgroup if it is cgroup2; a hybrid
 * host has a tmpfs there and cgroup2 at /sys/fs/cgroup/unified, which is
 * why mountinfo is asked first. Return: a new string, or NULL when there
 * is no cgroup2 (or no memory: the hint is then unused, never wrong).
 */
static char *cg_find_mount(const char *proc_root)
{
	char path[4096], *line = NULL, *found = NULL;
	unsigned long lines = 0;
	size_t cap = 0;
	struct statfs sf;
	FILE *f;
	int n, fd;

	n = snprintf(path, sizeof(path), "%s/self/mountinfo", proc_root);
	fd = n > 0 && (size_t)n < sizeof(path) ? procfile_open_at(AT_FDCWD, path) : -1;
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f && fd >= 0)
		close(fd);
	if (!f) {
		if (statfs(CG_DEFAULT_MOUNT, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
			return strdup(CG_DEFAULT_MOUNT);
		return NULL;
	}
	while (lines++ < MOUNTINFO_MAX_LINES && getline(&line, &cap, f) > 0) {
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER */
		char *field[6], *save = NULL, *tok, *fstype = NULL;
		int nf = 0;
		bool dash = false;

		line[strcspn(line, "\n")] = '\0';
		for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			if (nf < 6) {
				field[nf++] = tok;
			} else if (dash) {
				fstype = tok;
				break;
			} else if (strcmp(tok, "-") == 0) {
				dash = true;
			}
		}
		if (nf < 6 || !fstype || strcmp(fstype, "cgroup2") != 0)
			continue;
		unescape_mountinfo(field[4]);
		if (!found) {
			found = strdup(field[4]);
			if (!found)
				break;
		}
		if (strcmp(field[3], "/") == 0) {
			char *whole = strdup(field[4]);

			if (whole) {
				free(found);
				found = whole;
			}
			break;
		}
	}
	free(line);
	fclose(f);
	return found;
}

void cgroup_index_init(struct cgroup_index *ci)
{
	memset(ci, 0, sizeof(*ci));
}

void cgroup_index_free(struct cgroup_index *ci)
{
	free(ci->mount);
	free(ci->items);
	free(ci->paths);
	cgroup_index_init(ci);
}

static bool cg_index_add(struct cgroup_index *ci, uint64_t id, const char *rel, unsigned depth)
{
	size_t rlen = strlen(rel) + 1;

	void *items, *paths;

	if (array_reserve(ci->items, &ci->cap, ci->count + 1, sizeof(*ci->items), &items) < 0)
		return false;
	ci->items = items;
	if (array_reserve(ci->paths, &ci->paths_cap, ci->paths_len + rlen, 1, &paths) < 0)
		return false;
	ci->paths = paths;
	memcpy(ci->paths + ci->paths_len, rel, rlen);
	ci->items[ci->count].id = id;
	ci->items[ci->count].path = ci->paths_len;
	ci->items[ci->count].depth = depth;
	ci->count++;
	ci->paths_len += rlen;
	return true;
}

static int cg_entry_cmp(const void *a, const void *b)
{
	const struct cgroup_entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Walk the cgroup2 tree once, breadth first, with the index itself as the
 * queue: every directory is a cgroup and its inode number is the cgroup id
 * sock_diag reports. Mounts inside the tree are not crossed. A directory
 * that vanishes mid-walk is skipped. On failure the index is left empty
 * and unbuilt, so that a later update tries again.
 */
static void cg_index_build(struct cgroup_index *ci, const char *proc_root)
{
	struct stat st;
	size_t i;
	int rootfd;

	cgroup_index_free(ci);
	ci->built = true;
	ci->mount = cg_find_mount(proc_root);
	if (!ci->mount)
		return;
	rootfd = open(ci->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return;
	if (fstat(rootfd, &st) < 0 || !cg_index_add(ci, (uint64_t)st.st_ino, "", 0))
		goto fail;
	for (i = 0; i < ci->count && ci->count < CG_MAX_DIRS; i++) {
		char rel[PATH_MAX];
		unsigned depth = ci->items[i].depth;
		struct dirent *de;
		size_t rlen;
		int dfd;
		DIR *d;

		if (depth >= CG_MAX_DEPTH)
			continue;
		/* cg_index_add may move cg_paths: work on a copy of the parent's path. */
		rlen = strlen(ci->paths + ci->items[i].path);
		memcpy(rel, ci->paths + ci->items[i].path, rlen + 1);
		dfd = rlen ? openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
			   : dup(rootfd);
		if (dfd < 0)
			continue;
		d = fdopendir(dfd);
		if (!d) {
			close(dfd);
			continue;
		}
		while (ci->count < CG_MAX_DIRS && (de = readdir(d)) != NULL) {
			struct stat cst;
			int n;

			if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
				continue;
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (fstatat(dirfd(d), de->d_name, &cst, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISDIR(cst.st_mode) || cst.st_dev != st.st_dev)
				continue;
			n = rlen ? snprintf(rel + rlen, sizeof(rel) - rlen, "/%s", de->d_name)
				 : snprintf(rel, sizeof(rel), "%s", de->d_name);
			if (n > 0 && rlen + (size_t)n < sizeof(rel) &&
			    !cg_index_add(ci, (uint64_t)cst.st_ino, rel, depth + 1)) {
				closedir(d);
				goto fail;
			}
			rel[rlen] = '\0';
		}
		closedir(d);
	}
	close(rootfd);
	qsort(ci->items, ci->count, sizeof(*ci->items), cg_entry_cmp);
	return;
fail:
	close(rootfd);
	cgroup_index_free(ci);
}

/* Return: an fd of the directory of cgroup id per the index, or -1. */
static int cg_open_indexed(const struct cgroup_index *ci, uint64_t id)
{
	struct cgroup_entry key = { .id = id }, *e;
	char path[PATH_MAX + 64];
	struct stat st;
	int n, fd;

	if (ci->count == 0 || !ci->mount)
		return -1;
	e = bsearch(&key, ci->items, ci->count, sizeof(*ci->items), cg_entry_cmp);
	if (!e)
		return -1;
	n = snprintf(path, sizeof(path), "%s/%s", ci->mount, ci->paths + e->path);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/*
	 * Ids are never reused, but paths are: a restarted unit gets a new
	 * cgroup at the old path. Trust the path only if it is still that id.
	 */
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_ino != id) {
		close(fd);
		return -1;
	}
	return fd;
}

int cgroup_index_open(struct cgroup_index *ci, const char *proc_root, uint64_t id, bool *walked)
{
	int fd = ci->built ? cg_open_indexed(ci, id) : -1;

	if (fd >= 0 || *walked)
		return fd;
	*walked = true;
	cg_index_build(ci, proc_root);
	return cg_open_indexed(ci, id);
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* More than CG_PROCS_MAX pids is a cgroup not worth narrowing a search to. */
long cgroup_read_pids(int cgfd, int **out)
{
	char buf[4096];
	int *pids = NULL;
	size_t n = 0, cap = 0, i, k;
	int64_t cur = -1;       /* the number being read; -1 between numbers */
	bool bad = false;       /* the current line is not a number */
	unsigned reads;
	int fd;

	/* The mount came from mountinfo under the proc root: only a regular file is read. */
	fd = procfile_open_at(cgfd, "cgroup.procs");
	if (fd < 0)
		return -1;
	for (reads = 0; reads < CG_PROCS_READS; reads++) {
		ssize_t r = read(fd, buf, sizeof(buf));
		bool eof = r == 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		/* A final line without '\n' ends at EOF. */
		for (ssize_t j = 0; j < r || (eof && j == r); j++) {
			char c = j < r ? buf[j] : '\n';

			if (c >= '0' && c <= '9' && !bad) {
				cur = (cur < 0 ? 0 : cur * 10) + (c - '0');
				if (cur > INT32_MAX)
					bad = true;
				continue;
			}
			if (c != '\n') {
				bad = true;
				continue;
			}
			if (!bad && cur > 0) {
				if (n == CG_PROCS_MAX)
					goto fail;
				if (n == cap) {
					size_t ncap = cap ? cap * 2 : 256;
					int *p = realloc(pids, ncap * sizeof(*p));

					if (!p)
						goto fail;
					pids = p;
					cap = ncap;
				}
				pids[n++] = (int)cur;
			}
			cur = -1;
			bad = false;
		}
		if (eof)
			break;
	}
	close(fd);
	if (n > 1)
		qsort(pids, n, sizeof(*pids), int_cmp);
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || pids[k - 1] != pids[i])
			pids[k++] = pids[i];
	*out = pids;
	return (long)k;
fail:
	close(fd);
	free(pids);
	return -1;
}
