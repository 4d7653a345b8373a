/* netns.c: find the host's network namespaces in /proc and /run/netns, tell them apart by nsfs inode and name them. */
#include "base.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "cgroup.h"
#include "netns.h"
#include "safe_text.h"
#include "sort.h"
#include "procfile.h"

/* Long enough for /proc/PID/cgroup on a cgroup v1 host with a dozen hierarchies and kubepods paths. */
#define CGROUP_TEXT_MAX 16384
/* A short hex prefix is how docker, podman and crictl show container ids. */
#define SHORT_ID_LEN 12

void netns_list_init(struct netns_list *l)
{
	l->items = NULL;
	l->count = 0;
	l->cap = 0;
}

void netns_list_free(struct netns_list *l)
{
	if (!l)
		return;
	free(l->items);
	netns_list_init(l);
}

const char *netns_kind_name(enum netns_kind k)
{
	switch (k) {
	case NETNS_HOST:
		return "host";
	case NETNS_NAMED:
		return "named";
	case NETNS_CONTAINER:
		return "container";
	case NETNS_PROCESS:
		return "process";
	}
	return "unknown";
}

/* ---- naming from a cgroup path ---- */

static bool has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t plen = strlen(prefix);

	return len >= plen && memcmp(s, prefix, plen) == 0;
}

static bool has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t slen = strlen(suffix);

	return len >= slen && memcmp(s + len - slen, suffix, slen) == 0;
}

static bool is_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "PREFIX:" followed by the first 12 characters of a container id. */
static int set_short_id(char *name, size_t len, const char *prefix, const char *id)
{
	return snprintf(name, len, "%s:%.*s", prefix, SHORT_ID_LEN, id);
}

/*
 * A container id component: all hex and long enough to be one. Short or
 * non-hex names (libpod-conmon-ID.scope is podman's monitor, not the
 * container) do not count.
 */
static bool container_id(const char *id, size_t len)
{
	return len >= SHORT_ID_LEN && is_hex(id, len);
}

/*
 * "PREFIX<id>.scope", the systemd cgroup driver's shape, or "PREFIX<id>",
 * the cgroupfs driver's. Return: the id's length, 0 when it is none.
 */
static size_t runtime_scope_id(const char *c, size_t clen, const char *prefix)
{
	size_t plen = strlen(prefix), idlen;

	if (!has_prefix(c, clen, prefix))
		return 0;
	idlen = clen - plen;
	if (has_suffix(c, clen, ".scope"))
		idlen -= 6;
	return container_id(c + plen, idlen) ? idlen : 0;
}

/*
 * systemd escapes unit name characters as "\xNN" (machine-qemu\x2d1\x2dvm.scope
 * is the libvirt machine qemu-1-vm): undo it so the name is the one
 * machinectl shows.
 */
static void unescape_unit(const char *s, size_t slen, char *out, size_t len)
{
	size_t i = 0, o = 0;

	while (i < slen && o + 1 < len) {
		int hi, lo;

		if (slen - i >= 4 && s[i] == '\\' && s[i + 1] == 'x' &&
		    (hi = hexval(s[i + 2])) >= 0 && (lo = hexval(s[i + 3])) >= 0 &&
		    (hi || lo)) {
			out[o++] = (char)(hi * 16 + lo);
			i += 4;
		} else {
			out[o++] = s[i++];
		}
	}
	out[o] = '\0';
}

/*
 * The pod uid in one component: "kubepods[-QOS]-pod<uid>.slice" (systemd
 * driver, '-' in the uid escaped to '_') or "pod<uid>" (cgroupfs driver,
 * under a kubepods component). uid is written with dashes, as kubectl shows it.
 * Return: true when the component is a pod.
 */
static bool pod_uid(const char *c, size_t clen, char *uid, size_t len)
{
	const char *u = NULL;
	size_t ulen = 0, i;

	if (has_suffix(c, clen, ".slice")) {
		size_t slen = clen - 6;

		/* The last "-pod" of the slice name: QoS classes come before it. */
		for (i = slen; i >= 4; i--)
			if (memcmp(c + i - 4, "-pod", 4) == 0) {
				u = c + i;
				ulen = slen - i;
				break;
			}
	} else if (has_prefix(c, clen, "pod")) {
		u = c + 3;
		ulen = clen - 3;
	}
	/* A uid is a UUID, or 32 hex digits for a static pod; nothing shorter. */
	if (!u || ulen < 8 || ulen >= len)
		return false;
	for (i = 0; i < ulen; i++) {
		char ch = u[i];

		if (ch == '_')
			ch = '-';
		else if (ch != '-' && !is_hex(&ch, 1))
			return false;
		uid[i] = ch;
	}
	uid[ulen] = '\0';
	return true;
}

/*
 * The container of one component, prev being the component above it ("" at
 * the top). Return: true when name was set.
 */
static bool container_component(const char *c, size_t clen, const char *prev,
				size_t prevlen, char *name, size_t len)
{
	char buf[NETNS_NAME_MAX];
	int n;

	if (runtime_scope_id(c, clen, "docker-") > 0) {
		n = set_short_id(name, len, "docker", c + 7);
	} else if (prevlen == 6 && memcmp(prev, "docker", 6) == 0 && container_id(c, clen)) {
		/* The cgroupfs driver: /docker/<id>. */
		n = set_short_id(name, len, "docker", c);
	} else if (runtime_scope_id(c, clen, "libpod-") > 0) {
		n = set_short_id(name, len, "podman", c + 7);
	} else if (runtime_scope_id(c, clen, "cri-containerd-") > 0) {
		n = set_short_id(name, len, "containerd", c + 15);
	} else if (runtime_scope_id(c, clen, "crio-") > 0) {
		n = set_short_id(name, len, "crio", c + 5);
	} else if (has_prefix(c, clen, "lxc.payload.") && clen > 12) {
		n = snprintf(name, len, "lxc:%.*s", (int)(clen - 12), c + 12);
	} else if (has_prefix(c, clen, "machine-") && has_suffix(c, clen, ".scope") &&
		   clen > 8 + 6) {
		unescape_unit(c + 8, clen - 8 - 6, buf, sizeof(buf));
		n = snprintf(name, len, "machine:%s", buf);
	} else {
		return false;
	}
	/* A cut name could be another container's: better none. */
	if (n < 0 || (size_t)n >= len) {
		name[0] = '\0';
		return false;
	}
	return true;
}

/*
 * Name from one cgroup path. A pod owns the namespace all its containers
 * share, so a pod anywhere on the path wins over a container (kubepods
 * paths end in the container's cri-containerd-ID.scope). Otherwise the
 * innermost container wins: a nested container (docker in docker) has a
 * namespace of its own, which the outer container's name would not tell apart.
 */
static void name_from_path(const char *path, size_t plen, char *name, size_t len)
{
	char pod[64] = "", ctr[NETNS_NAME_MAX] = "";
	const char *p = path, *end, *prev = "";
	size_t prevlen = 0;
	bool kube = false;
	int n;

	end = path + cgroup_path_len(path, plen);
	while (p < end) {
		const char *c = p;
		size_t clen;

		while (p < end && *p != '/')
			p++;
		clen = (size_t)(p - c);
		if (p < end)
			p++;
		if (clen == 0)
			continue;
		/* "pod<uid>" is a pod only under kubepods (kind prefixes it "kubelet-kubepods"). */
		if (memmem(c, clen, "kubepods", 8))
			kube = true;
		if (!(kube && pod_uid(c, clen, pod, sizeof(pod))))
			container_component(c, clen, prev, prevlen, ctr, sizeof(ctr));
		prev = c;
		prevlen = clen;
	}
	if (pod[0] != '\0')
		n = snprintf(name, len, "pod:%s", pod);
	else
		n = snprintf(name, len, "%s", ctr);
	/* A cut name could be another container's: better none. */
	if (n < 0 || (size_t)n >= len)
		name[0] = '\0';
}

/* Names end up in logs: the paths' bytes are neutralised once a name is found. */
void netns_container_from_cgroup(const char *text, char *name, size_t len)
{
	cgroup_name_from_text(text, name_from_path, name, len);
	if (len > 0)
		safe_text_inplace(name);
}

/* ---- the scan ---- */

/* A process that exited between readdir() and our look at it: a -errno. */
static bool vanished(long err)
{
	return err == -ENOENT || err == -ESRCH;
}

/* Binary search by inode. Return: the index of ino, or where it would go. */
static size_t list_pos(const struct netns_list *l, uint64_t ino, bool *found)
{
	return sort_find_u64(l->items, l->count, sizeof(*l->items), offsetof(struct netns_id, inode), ino, found);
}

/*
 * The entry of ino, inserted (zeroed, kind NETNS_PROCESS, unnamed) in
 * inode order if new. Return: NULL when out of memory.
 */
static struct netns_id *list_get(struct netns_list *l, uint64_t ino, bool *added)
{
	bool found;
	size_t i = list_pos(l, ino, &found);
	void *grown;

	*added = false;
	if (found)
		return &l->items[i];
	if (array_reserve(l->items, &l->cap, l->count + 1, sizeof(*l->items), &grown) < 0)
		return NULL;
	l->items = grown;
	memmove(&l->items[i + 1], &l->items[i], (l->count - i) * sizeof(*l->items));
	l->count++;
	memset(&l->items[i], 0, sizeof(l->items[i]));
	l->items[i].inode = ino;
	l->items[i].kind = NETNS_PROCESS;
	*added = true;
	return &l->items[i];
}

static void list_remove(struct netns_list *l, struct netns_id *e)
{
	size_t i = (size_t)(e - l->items);

	memmove(&l->items[i], &l->items[i + 1], (l->count - i - 1) * sizeof(*l->items));
	l->count--;
}

/*
 * One process: its namespace is recorded, keeping the lowest pid, which is
 * the oldest process in it and so the likeliest to outlive this scan.
 * A process we cannot look at (gone, or not ours to inspect) is skipped.
 */
static int scan_pid(struct netns_list *l, int procfd, int pid, dev_t nsdev)
{
	char rel[64];
	struct stat st;
	struct netns_id *e;
	bool added;

	snprintf(rel, sizeof(rel), "%d/ns/net", pid);
	/* stat follows the ns link to the namespace itself: st_ino is its identity. */
	if (fstatat(procfd, rel, &st, 0) < 0 || st.st_dev != nsdev)
		return 0;
	e = list_get(l, (uint64_t)st.st_ino, &added);
	if (!e)
		return -ENOMEM;
	if (added || pid < e->pid)
		e->pid = pid;
	return 0;
}

static int scan_proc(struct netns_list *l, int procfd, dev_t nsdev)
{
	struct dirent *de;
	int dfd, err = 0;
	DIR *d;

	/* A second descriptor: closedir() closes the one it is given. */
	dfd = openat(procfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	d = fdopendir(dfd);
	if (!d) {
		err = -errno;
		close(dfd);
		return err;
	}
	while (!err && (de = readdir(d)) != NULL) {
		int pid;

		if (procfile_pid_name(de->d_name, &pid))
			err = scan_pid(l, procfd, pid, nsdev);
	}
	closedir(d);
	return err;
}

/*
 * Bind mounts in RUN_NETNS name their namespace. A file there that is not
 * on nsfs (left behind by an `ip netns add` that failed, or a mount that
 * went away) is no namespace and is skipped. Two names for one namespace:
 * the first in byte order, so the name does not change from scan to scan.
 */
static int scan_run_netns(struct netns_list *l, const char *run_netns, dev_t nsdev)
{
	struct dirent *de;
	int err = 0;
	DIR *d;

	d = opendir(run_netns);
	/* No RUN_NETNS (nobody ran `ip netns add`), or one we may not read: no names from it. */
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char path[sizeof(l->items->path)];
		struct netns_id *e;
		struct stat st;
		bool added;
		int n;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0 || st.st_dev != nsdev)
			continue;
		e = list_get(l, (uint64_t)st.st_ino, &added);
		if (!e) {
			err = -ENOMEM;
			break;
		}
		n = snprintf(path, sizeof(path), "%s/%s", run_netns, de->d_name);
		/* A cut name or path would name or open something else: leave it to the other namers. */
		if (n < 0 || (size_t)n >= sizeof(path) || strlen(de->d_name) >= sizeof(e->name)) {
			/* Nobody is in it and it cannot be opened by path: nothing to watch. */
			if (added)
				list_remove(l, e);
			continue;
		}
		if (e->kind == NETNS_NAMED && strcmp(de->d_name, e->name) >= 0)
			continue;
		e->kind = NETNS_NAMED;
		/* Its length was checked above. */
		memcpy(e->name, de->d_name, strlen(de->d_name) + 1);
		safe_text_inplace(e->name);
		memcpy(e->path, path, sizeof(path));
	}
	closedir(d);
	return err;
}

/*
 * Name a namespace known only by its lowest pid: container, else process.
 * Return: false when the process is gone, so the entry has no way in.
 */
static bool name_by_pid(struct netns_id *e, int procfd, const char *proc_root)
{
	char rel[64], comm[80];
	char *cg;
	ssize_t len;
	int n;

	n = snprintf(e->path, sizeof(e->path), "%s/%d/ns/net", proc_root, e->pid);
	if (n < 0 || (size_t)n >= sizeof(e->path))
		return false;
	cg = malloc(CGROUP_TEXT_MAX);
	if (cg) {
		len = cgroup_read_text(procfd, e->pid, cg, CGROUP_TEXT_MAX);
		if (vanished(len)) {
			free(cg);
			return false;
		}
		if (len >= 0) {
			netns_container_from_cgroup(cg, e->name, sizeof(e->name));
			/* systemd delegates user@UID.service and below to the user. */
			e->user_cgroup = strstr(cg, "/user@") != NULL;
		}
		free(cg);
		if (e->name[0] != '\0') {
			e->kind = NETNS_CONTAINER;
			return true;
		}
	}
	snprintf(rel, sizeof(rel), "%d/comm", e->pid);
	len = procfile_read_head_at(procfd, rel, comm, sizeof(comm));
	if (vanished(len))
		return false;
	e->kind = NETNS_PROCESS;
	if (len < 0) {
		snprintf(e->name, sizeof(e->name), "pid %d", e->pid);
		return true;
	}
	comm[strcspn(comm, "\n")] = '\0';
	safe_text_inplace(comm);
	snprintf(e->name, sizeof(e->name), "pid %d (%s)", e->pid, comm);
	return true;
}

/*
 * The lowest pid above after whose namespace is ino, 0 when none. A pid
 * at or below after was either looked at already or is newer than the scan.
 */
static int next_pid_in(int procfd, uint64_t ino, dev_t nsdev, int after)
{
	struct dirent *de;
	int dfd, best = 0;
	DIR *d;

	dfd = openat(procfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		char rel[64];
		struct stat st;
		int pid;

		if (!procfile_pid_name(de->d_name, &pid) || pid <= after || (best && pid >= best))
			continue;
		snprintf(rel, sizeof(rel), "%d/ns/net", pid);
		if (fstatat(procfd, rel, &st, 0) == 0 && st.st_dev == nsdev &&
		    (uint64_t)st.st_ino == ino)
			best = pid;
	}
	closedir(d);
	return best;
}

/*
 * Name e by a process in it. When that process exits before it could be
 * named, the namespace may still hold others: try the next few rather
 * than report a live namespace gone for one scan. Return: false when no
 * process is left in it, so it has no way in.
 */
static bool name_entry(struct netns_id *e, int procfd, const char *proc_root, dev_t nsdev)
{
	int tries;

	for (tries = 0; tries < 4; tries++) {
		if (name_by_pid(e, procfd, proc_root))
			return true;
		e->pid = next_pid_in(procfd, e->inode, nsdev, e->pid);
		if (e->pid == 0)
			return false;
	}
	return false;
}

int netns_scan(const char *proc_root, const char *run_netns, struct netns_list *out)
{
	struct netns_id *host;
	struct stat self;
	size_t i, k;
	bool added;
	int procfd, err;

	out->count = 0;
	procfd = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		return -errno;
	/*
	 * Our own namespace is the host's, and its st_dev is that of nsfs:
	 * anything on another device is not a namespace.
	 */
	if (fstatat(procfd, "self/ns/net", &self, 0) < 0) {
		err = -errno;
		goto out;
	}
	err = scan_proc(out, procfd, self.st_dev);
	if (err)
		goto out;
	err = scan_run_netns(out, run_netns, self.st_dev);
	if (err)
		goto out;
	/* Present even when PROC_ROOT/self is not among the pids (a fake proc root). */
	host = list_get(out, (uint64_t)self.st_ino, &added);
	if (!host) {
		err = -ENOMEM;
		goto out;
	}
	/* Nobody opens the host's namespace: the daemon is already in it. */
	host->kind = NETNS_HOST;
	snprintf(host->name, sizeof(host->name), "host");
	host->path[0] = '\0';

	for (i = 0, k = 0; i < out->count; i++) {
		struct netns_id *e = &out->items[i];

		if (e->kind == NETNS_PROCESS && !name_entry(e, procfd, proc_root, self.st_dev))
			continue;
		out->items[k++] = *e;
	}
	out->count = k;
out:
	if (err)
		out->count = 0;
	close(procfd);
	return err;
}

/* Watching order: 0 first. */
static unsigned watch_rank(const struct netns_id *e)
{
	switch (e->kind) {
	case NETNS_HOST:
		return 0;
	case NETNS_NAMED:
		return 1;
	case NETNS_CONTAINER:
		/* Any user may make a cgroup named like a container in their own subtree. */
		return e->user_cgroup ? 3 : 2;
	case NETNS_PROCESS:
		break;
	}
	return 3;
}

size_t netns_select(const struct netns_list *l, const bool *watched, size_t cap, bool *pick)
{
	size_t i, n = 0;
	unsigned pass;

	for (i = 0; i < l->count; i++)
		pick[i] = false;
	/* Pass 2r: kind rank r, watched already; pass 2r + 1: the same kind, new. */
	for (pass = 0; pass < 8 && n < cap; pass++) {
		bool want_watched = pass % 2 == 0;

		for (i = 0; i < l->count && n < cap; i++) {
			bool was = watched && watched[i];

			if (pick[i] || watch_rank(&l->items[i]) != pass / 2 || was != want_watched)
				continue;
			pick[i] = true;
			n++;
		}
	}
	return n;
}

uint64_t netns_self_inode(const char *proc_root)
{
	char path[4096];
	struct stat st;
	int n;

	n = snprintf(path, sizeof(path), "%s/self/ns/net", proc_root);
	if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) < 0)
		return 0;
	return (uint64_t)st.st_ino;
}
