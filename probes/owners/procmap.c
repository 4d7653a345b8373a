/* procmap.c: map listener socket inodes to the processes holding them (comm, cmdline, user) and their systemd unit, cached by inode. */
#include "base.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "ownertab.h"
#include "procmap.h"
#include "procmap_int.h"
#include "sort.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/*
 * Bounds on everything this file iterates over, so that a strange or
 * hostile /proc or cgroup tree costs a known amount, never a hang.
 */
#define PROCMAP_MAX_PIDS 4194304      /* PID_MAX_LIMIT: no host has more */
#define PROCMAP_MAX_FDS 4194304       /* fds looked at in one process */
#define PROCMAP_READ_TRIES 64         /* EINTRs tolerated on one small file */
#define CG_MAX_DIRS 65536             /* cgroups indexed; a big k8s node has a few thousand */
#define CG_MAX_DEPTH 64               /* cgroup nesting followed */
#define CG_PROCS_MAX 65536            /* a bigger cgroup saves nothing over the full walk */
#define CG_PROCS_READS 65536          /* read() calls on one cgroup.procs */
#define MOUNTINFO_MAX_LINES 100000
#define CG_DEFAULT_MOUNT "/sys/fs/cgroup"

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
	return pm;
}

static void cg_index_clear(struct procmap *pm)
{
	free(pm->cg_mount);
	free(pm->cg);
	free(pm->cg_paths);
	pm->cg_mount = NULL;
	pm->cg = NULL;
	pm->cg_paths = NULL;
	pm->ncg = pm->cgcap = 0;
	pm->cg_paths_len = pm->cg_paths_cap = 0;
	pm->cg_built = false;
}

void procmap_free(struct procmap *pm)
{
	if (!pm)
		return;
	cg_index_clear(pm);
	for (size_t i = 0; i < pm->count; i++)
		entry_release(&pm->entries[i], ownertab_get(&pm->owners, pm->entries[i].owner)->nprocs);
	free(pm->entries);
	procmap_reps_free(pm);
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

/*
 * Read a small file relative to dirfd into buf, NUL-terminated; longer
 * content is cut at size - 1. Return: bytes read, or -1 (errno set).
 */
static ssize_t read_small_at(int dirfd, const char *path, char *buf, size_t size)
{
	size_t len = 0;
	unsigned tries = 0;
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (len < size - 1) {
		ssize_t r = read(fd, buf + len, size - 1 - len);

		if (r < 0 && errno == EINTR && ++tries < PROCMAP_READ_TRIES)
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
void procmap_cgroup_walk(const char *text, bool (*fn)(const char *path, size_t len, void *arg),
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

struct name_out {
	char *buf;
	size_t len;
};

static bool unit_found(const char *path, size_t plen, void *arg)
{
	struct name_out *o = arg;

	unit_from_path(path, plen, o->buf, o->len);
	return o->buf[0] != '\0';
}

void procmap_unit_from_cgroup(const char *text, char *unit, size_t len)
{
	struct name_out o = { unit, len };

	if (len == 0)
		return;
	unit[0] = '\0';
	procmap_cgroup_walk(text, unit_found, &o);
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

/*
 * The length of the UTF-8 character at p[0, avail), p[0] >= 0x80.
 * Return: 2 to 4 when it is well-formed (no overlong forms, surrogates or
 * code points past U+10FFFF: what a JSON encoder accepts), 0 when it is
 * not, -1 when it may be but avail ends inside it.
 */
static int utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	int n, i;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((size_t)i >= avail)
			return -1;
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xbf;
	}
	return n;
}

/*
 * The bytes of /proc/PID/cmdline as one line: the NULs between arguments
 * become spaces, trailing NULs (the last argument's, and the padding left
 * by setproctitle) are dropped. Control characters and bytes that are not
 * well-formed UTF-8 become '?', one per byte, so the text is safe for a
 * terminal, the journal and JSON. Well-formed UTF-8 is kept; a character
 * is never cut in half. cut says raw was cut short by the read, so a
 * character it ends inside is simply left out.
 */
static void format_cmdline(const unsigned char *raw, size_t len, bool cut, char *out, size_t size)
{
	size_t i = 0, o = 0;

	while (len > 0 && raw[len - 1] == '\0')
		len--;
	while (i < len && o < size - 1) {
		unsigned char c = raw[i];
		int n;

		if (c < 0x80) {
			/* The argument separator; printable ASCII; C0 controls and DEL. */
			out[o++] = c == '\0' ? ' ' : c >= 0x20 && c < 0x7f ? (char)c : '?';
			i++;
			continue;
		}
		n = utf8_len(raw + i, len - i);
		if (n < 0 && cut)
			break;
		if (n <= 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		/* C1 controls (U+0080..U+009F) are as unprintable as C0 ones. */
		if (n == 2 && c == 0xc2 && raw[i + 1] < 0xa0) {
			out[o++] = '?';
			i += 2;
			continue;
		}
		if (o + (size_t)n > size - 1)
			break;
		memcpy(out + o, raw + i, (size_t)n);
		o += (size_t)n;
		i += (size_t)n;
	}
	out[o] = '\0';
}

/* The real uid on the "Uid:" line of a /proc/PID/status text. Return: -1 if none. */
static int64_t uid_from_status(const char *text)
{
	const char *p = text;
	unsigned lines = 0;

	while (*p && lines++ < 256) {
		if (strncmp(p, "Uid:", 4) == 0) {
			char *end;
			unsigned long long v;

			p += 4;
			while (*p == '\t' || *p == ' ')
				p++;
			if (*p < '0' || *p > '9')
				return -1;
			errno = 0;
			v = strtoull(p, &end, 10);
			/* (uid_t)-1 is "no uid", never a process's. */
			if (errno || v >= UINT32_MAX || (*end != '\t' && *end != ' ' && *end != '\n'))
				return -1;
			return (int64_t)v;
		}
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return -1;
}

/* What one holder process is: read once per update, however many inodes it holds. */
struct proc_info {
	int64_t uid;
	char comm[OWNER_COMM_MAX + 1];
	char cmdline[OWNER_CMDLINE_MAX];
	char unit[OWNER_UNIT_MAX];
};

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
 * comm and cmdline of pid. Return: false when the process is gone (no
 * comm). An empty cmdline is a kernel thread or a zombie: "" then.
 */
static bool read_names(int procfd, int pid, struct proc_info *pi)
{
	unsigned char raw[OWNER_CMDLINE_MAX + 8];
	char path[64];
	ssize_t len;

	snprintf(path, sizeof(path), "%d/comm", pid);
	len = read_small_at(procfd, path, pi->comm, sizeof(pi->comm));
	if (len < 0)
		return false;
	if (len > 0 && pi->comm[len - 1] == '\n')
		pi->comm[len - 1] = '\0';
	pi->comm[OWNER_COMM_MAX - 1] = '\0';

	/*
	 * A few bytes more than fit, so that a character straddling the end
	 * of what is shown is seen whole or known to be cut.
	 */
	snprintf(path, sizeof(path), "%d/cmdline", pid);
	len = read_small_at(procfd, path, (char *)raw, sizeof(raw));
	if (len < 0)
		len = 0;
	format_cmdline(raw, (size_t)len, (size_t)len == sizeof(raw) - 1, pi->cmdline,
		       sizeof(pi->cmdline));
	return true;
}

static int64_t read_uid(int procfd, int pid)
{
	/* "Uid:" is the ninth line; Name (64 bytes escaped at most) is the only long one before it. */
	char path[64], buf[1024];

	snprintf(path, sizeof(path), "%d/status", pid);
	if (read_small_at(procfd, path, buf, sizeof(buf)) < 0)
		return -1;
	return uid_from_status(buf);
}

/*
 * Everything shown about a holder process: comm, cmdline, real uid, and
 * the unit of its cgroup. Return: its index in pt, or -1 when it is gone
 * (no comm) or pt is out of memory (pt->failed).
 */
static long proc_table_add(struct proc_table *pt, int procfd, int pid)
{
	struct proc_info *pi;
	char path[64], cg[4096];

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
	pi = &pt->items[pt->count];
	memset(pi, 0, sizeof(*pi));
	if (!read_names(procfd, pid, pi))
		return -1;
	pi->uid = read_uid(procfd, pid);
	snprintf(path, sizeof(path), "%d/cgroup", pid);
	if (read_small_at(procfd, path, cg, sizeof(cg)) >= 0)
		procmap_unit_from_cgroup(cg, pi->unit, sizeof(pi->unit));
	return (long)pt->count++;
}

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
}

/* Resolve pend[0, n) (sorted by inode) with one walk of the proc directory. */
static void full_walk(DIR *proc, struct pending *pend, size_t n, struct proc_table *pt)
{
	unsigned long seen = 0;
	struct dirent *de;

	rewinddir(proc);
	while (seen++ < PROCMAP_MAX_PIDS && (de = readdir(proc)) != NULL) {
		long pid;

		if (!is_pid_name(de->d_name))
			continue;
		pid = strtol(de->d_name, NULL, 10);
		if (pid <= 0 || pid > INT32_MAX)
			continue;
		scan_process(dirfd(proc), (int)pid, pend, n, pt);
	}
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
	int n;

	n = snprintf(path, sizeof(path), "%s/self/mountinfo", proc_root);
	f = n > 0 && (size_t)n < sizeof(path) ? fopen(path, "re") : NULL;
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

static bool cg_index_add(struct procmap *pm, uint64_t id, const char *rel, unsigned depth)
{
	size_t rlen = strlen(rel) + 1;

	if (pm->ncg == pm->cgcap) {
		size_t cap = pm->cgcap ? pm->cgcap * 2 : 64;
		struct cg_entry *e = realloc(pm->cg, cap * sizeof(*e));

		if (!e)
			return false;
		pm->cg = e;
		pm->cgcap = cap;
	}
	if (pm->cg_paths_len + rlen > pm->cg_paths_cap) {
		size_t cap = pm->cg_paths_cap ? pm->cg_paths_cap : 4096;
		char *p;

		while (cap < pm->cg_paths_len + rlen)
			cap *= 2;
		p = realloc(pm->cg_paths, cap);
		if (!p)
			return false;
		pm->cg_paths = p;
		pm->cg_paths_cap = cap;
	}
	memcpy(pm->cg_paths + pm->cg_paths_len, rel, rlen);
	pm->cg[pm->ncg].id = id;
	pm->cg[pm->ncg].path = pm->cg_paths_len;
	pm->cg[pm->ncg].depth = depth;
	pm->ncg++;
	pm->cg_paths_len += rlen;
	return true;
}

static int cg_entry_cmp(const void *a, const void *b)
{
	const struct cg_entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Walk the cgroup2 tree once, breadth first, with the index itself as the
 * queue: every directory is a cgroup and its inode number is the cgroup id
 * sock_diag reports. Mounts inside the tree are not crossed. A directory
 * that vanishes mid-walk is skipped. On failure the index is left empty
 * and unbuilt, so that a later update tries again.
 */
static void cg_index_build(struct procmap *pm)
{
	struct stat st;
	size_t i;
	int rootfd;

	cg_index_clear(pm);
	pm->cg_built = true;
	pm->cg_mount = cg_find_mount(pm->proc_root);
	if (!pm->cg_mount)
		return;
	rootfd = open(pm->cg_mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return;
	if (fstat(rootfd, &st) < 0 || !cg_index_add(pm, (uint64_t)st.st_ino, "", 0))
		goto fail;
	for (i = 0; i < pm->ncg && pm->ncg < CG_MAX_DIRS; i++) {
		char rel[PATH_MAX];
		unsigned depth = pm->cg[i].depth;
		struct dirent *de;
		size_t rlen;
		int dfd;
		DIR *d;

		if (depth >= CG_MAX_DEPTH)
			continue;
		/* cg_index_add may move cg_paths: work on a copy of the parent's path. */
		rlen = strlen(pm->cg_paths + pm->cg[i].path);
		memcpy(rel, pm->cg_paths + pm->cg[i].path, rlen + 1);
		dfd = rlen ? openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
			   : dup(rootfd);
		if (dfd < 0)
			continue;
		d = fdopendir(dfd);
		if (!d) {
			close(dfd);
			continue;
		}
		while (pm->ncg < CG_MAX_DIRS && (de = readdir(d)) != NULL) {
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
			    !cg_index_add(pm, (uint64_t)cst.st_ino, rel, depth + 1)) {
				closedir(d);
				goto fail;
			}
			rel[rlen] = '\0';
		}
		closedir(d);
	}
	close(rootfd);
	qsort(pm->cg, pm->ncg, sizeof(*pm->cg), cg_entry_cmp);
	return;
fail:
	close(rootfd);
	cg_index_clear(pm);
}

/* Return: an fd of the directory of cgroup id per the index, or -1. */
static int cg_open_indexed(const struct procmap *pm, uint64_t id)
{
	struct cg_entry key = { .id = id }, *e;
	char path[PATH_MAX + 64];
	struct stat st;
	int n, fd;

	if (pm->ncg == 0 || !pm->cg_mount)
		return -1;
	e = bsearch(&key, pm->cg, pm->ncg, sizeof(*pm->cg), cg_entry_cmp);
	if (!e)
		return -1;
	n = snprintf(path, sizeof(path), "%s/%s", pm->cg_mount, pm->cg_paths + e->path);
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

/*
 * The directory of cgroup id. The index is (re)built when the id is not in
 * it, at most once per update (*walked): a cgroup made since the last walk
 * is found, and ids that exist nowhere cost one walk per update, not one
 * per inode. Return: an fd, or -1.
 */
static int cg_open(struct procmap *pm, uint64_t id, bool *walked)
{
	int fd = pm->cg_built ? cg_open_indexed(pm, id) : -1;

	if (fd >= 0 || *walked)
		return fd;
	*walked = true;
	cg_index_build(pm);
	return cg_open_indexed(pm, id);
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/*
 * The pids of cgroup.procs in the cgroup directory cgfd, sorted and
 * without repeats (the kernel promises neither). Return: the count, or -1
 * when it cannot be read, holds more than CG_PROCS_MAX pids, or is out of
 * memory.
 */
static long read_cgroup_pids(int cgfd, int **out)
{
	char buf[4096];
	int *pids = NULL;
	size_t n = 0, cap = 0, i, k;
	int64_t cur = -1;       /* the number being read; -1 between numbers */
	bool bad = false;       /* the current line is not a number */
	unsigned reads;
	int fd;

	fd = openat(cgfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
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

/* ---- uid -> user name ---- */

/*
 * The name of uid into out: from the cache, else from getpwuid_r (which may
 * ask NSS, even the network: hence the cache). A uid with no entry, or
 * with a name too long to show whole, is shown as its number.
 */
static void user_name(struct procmap *pm, uint32_t uid, char *out, size_t size)
{
	struct passwd pw, *res = NULL;
	char *buf = NULL;
	size_t blen = 1024, i;
	bool cacheable = false;
	int tries, r = 0;

	for (i = 0; i < pm->nusers; i++) {
		if (pm->users[i].uid == uid) {
			snprintf(out, size, "%s", pm->users[i].name);
			return;
		}
	}
	snprintf(out, size, "%" PRIu32, uid);
	for (tries = 0; tries < 8; tries++, blen *= 2) {
		char *nb = realloc(buf, blen);

		if (!nb)
			break;
		buf = nb;
		r = getpwuid_r((uid_t)uid, &pw, buf, blen, &res);
		if (r != ERANGE)
			break;
	}
	/* Only a definite answer is cached; a failing NSS is asked again next time. */
	if (r == 0 && buf) {
		cacheable = true;
		if (res && strlen(res->pw_name) < size && strlen(res->pw_name) < OWNER_USER_MAX)
			snprintf(out, size, "%s", res->pw_name);
	}
	free(buf);
	if (!cacheable)
		return;
	i = pm->nusers < PROCMAP_USERS_MAX ? pm->nusers++ : pm->users_next++ % PROCMAP_USERS_MAX;
	pm->users[i].uid = uid;
	snprintf(pm->users[i].name, sizeof(pm->users[i].name), "%s", out);
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
		cgfd = cg_open(pm, pend[g].cgid, &walked);
		if (cgfd >= 0) {
			npids = read_cgroup_pids(cgfd, &pids);
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

int procmap_update(struct procmap *pm, const uint32_t *inodes, size_t n)
{
	return procmap_update_hinted(pm, inodes, NULL, n);
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
	}
	/* The user is procs[0]'s. */
	if (p->nprocs > 0)
		o.uid = pt->items[p->info[0]].uid;
	if (p->unit_pid != 0)
		memcpy(o.unit, pt->items[p->unit_info].unit, sizeof(o.unit));
	if (o.uid >= 0)
		user_name(pm, (uint32_t)o.uid, o.user, sizeof(o.user));
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
	struct proc_table pt = { 0 };
	struct pending *pend = NULL;
	struct pm_entry *fresh = NULL;
	struct want *want = NULL;
	size_t nwant = 0, nfresh = 0, nhintless = 0, nrest = 0, i, j, k;
	bool changed = false;
	DIR *proc = NULL;
	int err = 0;

	if (n > 0) {
		/*
		 * Made for this update and freed after it: the monitor asks only
		 * when its sockets changed, and 16 bytes a listener kept for
		 * that would weigh on every tick's memory.
		 */
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
	}

	/* Forget cached inodes not asked for, in place: both lists are sorted. */
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

	/* The inodes not cached yet; when there are none, nothing is read at all. */
	for (i = 0; i < nwant; i++)
		if (!entry_find(pm, want[i].inode))
			want[nfresh++] = want[i];
	if (nfresh == 0)
		goto out;

	pend = calloc(nfresh, sizeof(*pend));
	fresh = calloc(nfresh, sizeof(*fresh));
	if (!pend || !fresh) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nfresh; i++) {
		pend[i].inode = want[i].inode;
		pend[i].cgid = want[i].cgid;
	}
	/*
	 * If PROC_ROOT cannot be read nothing is cached, so the next update
	 * tries again; an inode whose holder is simply not visible (another
	 * namespace, no permission) is cached with nprocs 0, so it is not
	 * looked for on every tick.
	 */
	proc = opendir(pm->proc_root);
	if (!proc)
		goto out;

	/* Those with a hint (after the ones without: cgid 0 sorts first) go by their cgroup. */
	sort_inplace(pend, nfresh, sizeof(*pend), pending_cg_cmp);
	while (nhintless < nfresh && pend[nhintless].cgid == 0)
		nhintless++;
	if (nhintless < nfresh)
		resolve_by_cgroup(pm, dirfd(proc), pend + nhintless, nfresh - nhintless, &pt);

	/* The rest, in inode order, share one walk of every process. */
	sort_inplace(pend, nfresh, sizeof(*pend), pending_rest_cmp);
	while (nrest < nfresh && !pend[nrest].done)
		nrest++;
	if (nrest > 0) {
		full_walk(proc, pend, nrest, &pt);
		pm->full_walks++;
	}
	if (pt.failed) {
		err = -ENOMEM;
		goto out;
	}

	err = entries_reserve(pm, pm->count + nfresh);
	if (err < 0)
		goto out;
	sort_inplace(pend, nfresh, sizeof(*pend), pending_inode_cmp);
	for (i = 0; i < nfresh; i++) {
		err = pending_finish(pm, &pend[i], &pt, &fresh[i]);
		if (err < 0) {
			while (i-- > 0)
				entry_release(&fresh[i], pend[i].nprocs);
			goto out;
		}
	}
	/* Merge from the back so the cache stays sorted without a copy. */
	i = pm->count;
	j = nfresh;
	k = pm->count + nfresh;
	while (j > 0) {
		if (i > 0 && pm->entries[i - 1].inode > fresh[j - 1].inode)
			pm->entries[--k] = pm->entries[--i];
		else
			pm->entries[--k] = fresh[--j];
	}
	pm->count += nfresh;
	changed = true;
out:
	if (changed || err < 0) {
		procmap_owners_collect(pm);
		pm->generation++;
	}
	if (proc)
		closedir(proc);
	free(pt.items);
	free(fresh);
	free(pend);
	free(want);
	return err;
}
