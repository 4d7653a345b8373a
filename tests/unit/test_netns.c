/* test_netns.c: namespace discovery and naming on fake proc roots and real namespaces, and the namespace worker thread. */
#include "base.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "netns.h"
#include "nsworker.h"

/* ---- helpers ---- */

static uint64_t ino_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return 0;
	return (uint64_t)st.st_ino;
}

static const struct netns_id *find_ino(const struct netns_list *l, uint64_t ino)
{
	size_t i;

	for (i = 0; i < l->count; i++)
		if (l->items[i].inode == ino)
			return &l->items[i];
	return NULL;
}

static const struct netns_id *find_name(const struct netns_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->count; i++)
		if (strcmp(l->items[i].name, name) == 0)
			return &l->items[i];
	return NULL;
}

static void assert_sorted(const struct netns_list *l)
{
	size_t i;

	for (i = 1; i < l->count; i++)
		cr_assert_lt(l->items[i - 1].inode, l->items[i].inode, "not sorted or not unique at %zu", i);
}

static int count_fds(void)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void sh(const char *cmd)
{
	int rc = system(cmd);

	cr_assert(rc == 0, "`%s` failed: status %d", cmd, rc);
}

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: making namespaces and setns() need CAP_SYS_ADMIN");
}

/*
 * A /run/netns of this test's own. Criterion runs each test in its own
 * process, so the mount namespace made here ends with the test and the
 * host's /run/netns is never touched. When the host has no /run/netns, the
 * tmpfs goes over /run instead: a mkdir there would outlive the test.
 */
static void private_run_netns(void)
{
	need_root();
	if (unshare(CLONE_NEWNS) < 0)
		cr_skip_test("unshare(CLONE_NEWNS): %s", strerror(errno));
	/* Our mounts must not propagate back to the host's mount namespace. */
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0,
		     "make / private: %s", strerror(errno));
	if (access("/run/netns", F_OK) == 0) {
		cr_assert_eq(mount("t4", "/run/netns", "tmpfs", 0, "mode=0755"), 0,
			     "tmpfs on /run/netns: %s", strerror(errno));
	} else {
		cr_assert_eq(mount("t4", "/run", "tmpfs", 0, "mode=0755"), 0,
			     "tmpfs on /run: %s", strerror(errno));
		cr_assert_eq(mkdir("/run/netns", 0755), 0);
	}
	if (system("command -v ip >/dev/null 2>&1") != 0)
		cr_skip_test("ip(8) not found (iproute2)");
}

/* ---- names from /proc/PID/cgroup ---- */

struct cgroup_case {
	const char *text;
	const char *want;
};

#define ID64 "3f2a9c1b7d2e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a"
#define UID "8d3f0a4e-6c1b-4b7a-9e2d-5f6a7b8c9d0e"
#define UID_ "8d3f0a4e_6c1b_4b7a_9e2d_5f6a7b8c9d0e"

static const struct cgroup_case cgroup_cases[] = {
	/* docker, systemd driver (cgroup v2) and cgroupfs driver (v1). */
	{ "0::/system.slice/docker-" ID64 ".scope\n", "docker:3f2a9c1b7d2e" },
	{ "12:pids:/docker/" ID64 "\n1:name=systemd:/docker/" ID64 "\n0::/\n", "docker:3f2a9c1b7d2e" },
	/* A removed cgroup still names its container. */
	{ "0::/system.slice/docker-" ID64 ".scope (deleted)\n", "docker:3f2a9c1b7d2e" },
	/* podman; its monitor conmon is not the container. */
	{ "0::/machine.slice/libpod-" ID64 ".scope\n", "podman:3f2a9c1b7d2e" },
	{ "0::/machine.slice/libpod-conmon-" ID64 ".scope\n", "" },
	{ "0::/system.slice/cri-containerd-" ID64 ".scope\n", "containerd:3f2a9c1b7d2e" },
	/* kubepods, systemd driver on v2: the pod wins over its container. */
	{ "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	  ".slice/cri-containerd-" ID64 ".scope\n", "pod:" UID },
	{ "0::/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID64 ".scope\n", "pod:" UID },
	/* kubepods, cgroupfs driver on v1, and a pod's own slice with no container yet. */
	{ "11:memory:/kubepods/besteffort/pod" UID "/" ID64 "\n1:name=systemd:/kubepods/besteffort/pod"
	  UID "/" ID64 "\n", "pod:" UID },
	{ "0::/kubepods/pod" UID "\n", "pod:" UID },
	/* kind: kubelet in a docker node container. */
	{ "0::/docker/" ID64 "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	  "kubelet-kubepods-besteffort-pod" UID_ ".slice/cri-containerd-" ID64 ".scope\n", "pod:" UID },
	/* "pod..." outside kubepods is just a name. */
	{ "0::/system.slice/pod" UID ".slice\n", "" },
	{ "0::/lxc.payload.web1\n", "lxc:web1" },
	{ "0::/lxc.payload.web1/system.slice/nginx.service\n", "lxc:web1" },
	{ "0::/machine.slice/machine-qemu\\x2d1\\x2dvm.scope\n", "machine:qemu-1-vm" },
	{ "0::/machine.slice/machine-fedora.scope/payload\n", "machine:fedora" },
	/* Innermost container: docker in docker has a namespace per level. */
	{ "0::/docker/" ID64 "/docker/0123456789abcdef0123\n", "docker:0123456789ab" },
	/* Not containers. */
	{ "0::/system.slice/nginx.service\n", "" },
	{ "0::/system.slice/docker.service\n", "" },
	{ "0::/user.slice/user-1000.slice/session-3.scope\n", "" },
	{ "0::/docker/notanid\n", "" },
	{ "0::/system.slice/docker-1234.scope\n", "" },
	{ "0::/\n", "" },
	{ "", "" },
	{ "garbage without colons\n", "" },
};

Test(netns_cgroup, table)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cgroup_cases); i++) {
		char name[NETNS_NAME_MAX];

		netns_container_from_cgroup(cgroup_cases[i].text, name, sizeof(name));
		cr_expect_str_eq(name, cgroup_cases[i].want, "case %zu: %s", i, cgroup_cases[i].text);
	}
}

Test(netns_cgroup, short_buffer_and_hostile_bytes)
{
	char small[8], name[NETNS_NAME_MAX];

	/* Too small for the whole name: none rather than a cut one. */
	netns_container_from_cgroup("0::/system.slice/docker-" ID64 ".scope\n", small, sizeof(small));
	cr_assert_str_eq(small, "");
	netns_container_from_cgroup("0::/lxc.payload.a\tb\x1b[1m\n", name, sizeof(name));
	cr_assert_str_eq(name, "lxc:a?b?[1m");
	/* len 0 writes nothing. */
	netns_container_from_cgroup("0::/lxc.payload.x\n", name, 0);
}

Test(netns_kind, names)
{
	cr_assert_str_eq(netns_kind_name(NETNS_HOST), "host");
	cr_assert_str_eq(netns_kind_name(NETNS_NAMED), "named");
	cr_assert_str_eq(netns_kind_name(NETNS_CONTAINER), "container");
	cr_assert_str_eq(netns_kind_name(NETNS_PROCESS), "process");
}

/* ---- which namespaces to watch under max_namespaces ---- */

/* A list of kinds in inode order (inode i + 1), as netns_scan leaves it. */
static void kinds_list(struct netns_list *l, struct netns_id *items, const enum netns_kind *kinds,
		       size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&items[i], 0, sizeof(items[i]));
		items[i].inode = i + 1;
		items[i].kind = kinds[i];
	}
	l->items = items;
	l->count = n;
	l->cap = n;
}

/* The flood: anonymous namespaces all over, a few that matter among them. */
Test(netns_select, cap_keeps_host_named_container_before_anonymous)
{
	enum netns_kind kinds[] = {
		NETNS_PROCESS, NETNS_PROCESS, NETNS_CONTAINER, NETNS_PROCESS, NETNS_HOST,
		NETNS_PROCESS, NETNS_NAMED, NETNS_PROCESS, NETNS_CONTAINER, NETNS_PROCESS,
	};
	struct netns_id items[10];
	struct netns_list l;
	bool pick[10];

	kinds_list(&l, items, kinds, 10);
	cr_assert_eq(netns_select(&l, NULL, 5, pick), 5);
	/* host (4), named (6), both containers (2, 8), then the first anonymous one by inode (0). */
	for (size_t i = 0; i < 10; i++)
		cr_assert_eq(pick[i], i == 4 || i == 6 || i == 2 || i == 8 || i == 0, "index %zu", i);

	/* A cap of one is the host alone, wherever it is in the list. */
	cr_assert_eq(netns_select(&l, NULL, 1, pick), 1);
	for (size_t i = 0; i < 10; i++)
		cr_assert_eq(pick[i], i == 4, "index %zu", i);
}

Test(netns_select, under_the_cap_everything)
{
	enum netns_kind kinds[] = { NETNS_HOST, NETNS_PROCESS, NETNS_PROCESS, NETNS_CONTAINER };
	struct netns_id items[4];
	struct netns_list l;
	bool pick[4];

	kinds_list(&l, items, kinds, 4);
	cr_assert_eq(netns_select(&l, NULL, 4, pick), 4);
	cr_assert_eq(netns_select(&l, NULL, 256, pick), 4);
	for (size_t i = 0; i < 4; i++)
		cr_assert(pick[i]);
	/* Nothing found, nothing picked. */
	l.count = 0;
	cr_assert_eq(netns_select(&l, NULL, 4, pick), 0);
}

/*
 * Within a kind the ones watched already stay: new anonymous namespaces
 * do not make the daemon drop and re-add the ones it has. A new named or
 * container one does displace a watched anonymous one.
 */
Test(netns_select, watched_first_within_a_kind_not_across)
{
	enum netns_kind kinds[] = {
		NETNS_HOST, NETNS_PROCESS, NETNS_PROCESS, NETNS_PROCESS, NETNS_PROCESS, NETNS_NAMED,
	};
	bool watched[6] = { true, false, false, true, true, false };
	struct netns_id items[6];
	struct netns_list l;
	bool pick[6];

	kinds_list(&l, items, kinds, 6);
	/* host, the new named one, then the two watched anonymous ones (3, 4) before 1 and 2. */
	cr_assert_eq(netns_select(&l, watched, 4, pick), 4);
	cr_assert(pick[0] && pick[5] && pick[3] && pick[4]);
	cr_assert(!pick[1] && !pick[2]);
	/* One less: the named one still gets in, one watched anonymous one goes (the later by inode). */
	cr_assert_eq(netns_select(&l, watched, 3, pick), 3);
	cr_assert(pick[0] && pick[5] && pick[3]);
	cr_assert(!pick[1] && !pick[2] && !pick[4]);
}

/* A container name in a user's own cgroup subtree is the user's to choose: no priority from it. */
Test(netns_select, container_in_a_users_subtree_ranks_as_a_process)
{
	enum netns_kind kinds[] = { NETNS_HOST, NETNS_PROCESS, NETNS_CONTAINER, NETNS_CONTAINER };
	struct netns_id items[4];
	struct netns_list l;
	bool pick[4];

	kinds_list(&l, items, kinds, 4);
	items[2].user_cgroup = true;
	cr_assert_eq(netns_select(&l, NULL, 2, pick), 2);
	cr_assert(pick[0] && pick[3] && !pick[1] && !pick[2]);
	/* Among the anonymous ones it is one more, by inode order. */
	cr_assert_eq(netns_select(&l, NULL, 3, pick), 3);
	cr_assert(pick[0] && pick[3] && pick[1] && !pick[2]);
}

/* ---- a fake proc root: hard links stand in for shared namespaces ---- */

static char fake_dir[] = "/tmp/t4nsXXXXXX";
static bool fake_made;

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fake_dir, rel);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void mkdirs(const char *rel)
{
	char path[PATH_MAX];
	char cmd[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", fake_dir, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	sh(cmd);
}

static void link_ns(const char *target_rel, const char *rel)
{
	char a[PATH_MAX], b[PATH_MAX];

	snprintf(a, sizeof(a), "%s/%s", fake_dir, target_rel);
	snprintf(b, sizeof(b), "%s/%s", fake_dir, rel);
	cr_assert_eq(link(a, b), 0, "link %s %s: %s", a, b, strerror(errno));
}

static uint64_t fake_ino(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", fake_dir, rel);
	return ino_of(path);
}

static void fake_proc(const char *pid, const char *comm, const char *cgroup)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "proc/%s/ns", pid);
	mkdirs(rel);
	snprintf(rel, sizeof(rel), "proc/%s/comm", pid);
	put(rel, comm);
	snprintf(rel, sizeof(rel), "proc/%s/cgroup", pid);
	put(rel, cgroup);
}

static void fake_teardown(void)
{
	char cmd[PATH_MAX + 16];

	if (!fake_made)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fake_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", fake_dir);
}

/*
 * 100: us (host). 200 and 201 share a docker container's namespace,
 * 250 and 300 a plain process's, which /run/netns also names "blue"
 * (and "zz-blue"). 400 vanished. "green" is a namespace nobody is in.
 */
static void fake_setup(void)
{
	cr_assert_not_null(mkdtemp(fake_dir));
	fake_made = true;
	fake_proc("100", "backlogd\n", "0::/system.slice/backlogd.service\n");
	fake_proc("200", "nginx\n", "0::/system.slice/docker-" ID64 ".scope\n");
	fake_proc("201", "nginx\n", "0::/system.slice/docker-" ID64 ".scope\n");
	fake_proc("300", "sleep\n", "0::/user.slice/user-0.slice/session-1.scope\n");
	fake_proc("250", "sleep\n", "0::/user.slice/user-0.slice/session-1.scope\n");
	fake_proc("500", "odd\x1bname\n", "0::/\n");
	fake_proc("400", "gone\n", "0::/\n");
	mkdirs("proc/acpi");
	mkdirs("run");
	put("proc/100/ns/net", "");
	put("proc/200/ns/net", "");
	link_ns("proc/200/ns/net", "proc/201/ns/net");
	put("proc/300/ns/net", "");
	link_ns("proc/300/ns/net", "proc/250/ns/net");
	put("proc/500/ns/net", "");
	link_ns("proc/300/ns/net", "run/zz-blue");
	link_ns("proc/300/ns/net", "run/blue");
	put("run/green", "");
	/*
	 * 600 exits after the walk saw its namespace, before it was named
	 * (ns/net is still there, cgroup and comm are gone); 601 is in it too.
	 * 700 does the same alone.
	 */
	mkdirs("proc/600/ns");
	put("proc/600/ns/net", "");
	fake_proc("601", "survivor\n", "0::/\n");
	link_ns("proc/600/ns/net", "proc/601/ns/net");
	mkdirs("proc/700/ns");
	put("proc/700/ns/net", "");
	{
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/proc/self", fake_dir);
		cr_assert_eq(symlink("100", path), 0);
	}
}

/*
 * 800 is in a cgroup named like a docker container inside a user's own
 * subtree (systemd delegates user@UID.service to the user): it is named as
 * one, but marked, while the real container (200) is not.
 */
Test(netns_fake, container_in_a_users_subtree_is_marked, .init = fake_setup, .fini = fake_teardown)
{
	char proc[PATH_MAX], run[PATH_MAX];
	struct netns_list l;
	const struct netns_id *e;

	fake_proc("800", "sleep\n",
		  "0::/user.slice/user-1000.slice/user@1000.service/app.slice/docker-" ID64 ".scope\n");
	put("proc/800/ns/net", "");
	snprintf(proc, sizeof(proc), "%s/proc", fake_dir);
	snprintf(run, sizeof(run), "%s/run", fake_dir);
	netns_list_init(&l);
	cr_assert_eq(netns_scan(proc, run, &l), 0);
	e = find_ino(&l, fake_ino("proc/800/ns/net"));
	cr_assert_not_null(e);
	cr_assert_eq(e->kind, NETNS_CONTAINER);
	cr_assert(e->user_cgroup);
	e = find_ino(&l, fake_ino("proc/200/ns/net"));
	cr_assert_not_null(e);
	cr_assert_eq(e->kind, NETNS_CONTAINER);
	cr_assert(!e->user_cgroup);
	netns_list_free(&l);
}

Test(netns_fake, dedupe_and_names, .init = fake_setup, .fini = fake_teardown)
{
	char proc[PATH_MAX], run[PATH_MAX], want[PATH_MAX + 16];
	struct netns_list l;
	const struct netns_id *e;

	snprintf(proc, sizeof(proc), "%s/proc", fake_dir);
	snprintf(run, sizeof(run), "%s/run", fake_dir);
	netns_list_init(&l);
	cr_assert_eq(netns_scan(proc, run, &l), 0);
	cr_assert_eq(l.count, 6);
	assert_sorted(&l);

	cr_assert_eq(netns_self_inode(proc), fake_ino("proc/100/ns/net"));
	e = find_ino(&l, fake_ino("proc/100/ns/net"));
	cr_assert_not_null(e);
	cr_assert_eq(e->kind, NETNS_HOST);
	cr_assert_str_eq(e->name, "host");
	cr_assert_str_eq(e->path, "");
	cr_assert_eq(e->pid, 100);

	e = find_ino(&l, fake_ino("proc/200/ns/net"));
	cr_assert_not_null(e);
	cr_assert_eq(e->kind, NETNS_CONTAINER);
	cr_assert_str_eq(e->name, "docker:3f2a9c1b7d2e");
	cr_assert_eq(e->pid, 200);
	snprintf(want, sizeof(want), "%s/200/ns/net", proc);
	cr_assert_str_eq(e->path, want);

	/* Named wins over the process; the first name in byte order; the lowest pid. */
	e = find_ino(&l, fake_ino("proc/300/ns/net"));
	cr_assert_not_null(e);
	cr_assert_eq(e->kind, NETNS_NAMED);
	cr_assert_str_eq(e->name, "blue");
	cr_assert_eq(e->pid, 250);
	snprintf(want, sizeof(want), "%s/blue", run);
	cr_assert_str_eq(e->path, want);

	e = find_name(&l, "green");
	cr_assert_not_null(e);
	cr_assert_eq(e->kind, NETNS_NAMED);
	cr_assert_eq(e->pid, 0);
	cr_assert_eq(e->inode, fake_ino("run/green"));

	e = find_ino(&l, fake_ino("proc/500/ns/net"));
	cr_assert_not_null(e);
	cr_assert_eq(e->kind, NETNS_PROCESS);
	cr_assert_str_eq(e->name, "pid 500 (odd?name)");
	cr_assert_str_eq(netns_kind_name(e->kind), "process");
	/* 600's namespace is named by the next process in it, not dropped. */
	e = find_ino(&l, fake_ino("proc/600/ns/net"));
	cr_assert_not_null(e);
	cr_assert_eq(e->pid, 601);
	cr_assert_str_eq(e->name, "pid 601 (survivor)");
	snprintf(want, sizeof(want), "%s/601/ns/net", proc);
	cr_assert_str_eq(e->path, want);
	/* No process left in 700's: no way in, left out rather than listed with a dead path. */
	cr_assert_null(find_ino(&l, fake_ino("proc/700/ns/net")));

	/* Rescan into the same list: cleared first, same answer. */
	cr_assert_eq(netns_scan(proc, run, &l), 0);
	cr_assert_eq(l.count, 6);
	netns_list_free(&l);
	netns_list_free(&l);
}

Test(netns_fake, missing_run_netns_and_vanished_process, .init = fake_setup, .fini = fake_teardown)
{
	char proc[PATH_MAX], cmd[PATH_MAX + 16];
	const struct netns_id *e;
	struct netns_list l;

	snprintf(proc, sizeof(proc), "%s/proc", fake_dir);
	netns_list_init(&l);
	cr_assert_eq(netns_scan(proc, "/nonexistent/netns", &l), 0);
	/* host, docker, the sleep namespace as a process now, 500, 601. */
	cr_assert_eq(l.count, 5);
	cr_assert_not_null(find_name(&l, "pid 250 (sleep)"));

	/* 200 exits: 201 is in the namespace too and now names it. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/200'", proc);
	sh(cmd);
	cr_assert_eq(netns_scan(proc, "/nonexistent/netns", &l), 0);
	cr_assert_eq(l.count, 5);
	e = find_ino(&l, fake_ino("proc/201/ns/net"));
	cr_assert_not_null(e);
	cr_assert_eq(e->pid, 201);
	cr_assert_str_eq(e->name, "docker:3f2a9c1b7d2e");
	netns_list_free(&l);
}

Test(netns_fake, no_proc_root)
{
	struct netns_list l;

	netns_list_init(&l);
	cr_assert_eq(netns_scan("/nonexistent/proc", "/nonexistent/netns", &l), -ENOENT);
	cr_assert_eq(l.count, 0);
	cr_assert_eq(netns_self_inode("/nonexistent/proc"), 0);
	netns_list_free(&l);
}

/* ---- the real kernel ---- */

Test(netns_live, host_without_root)
{
	struct netns_list l;
	const struct netns_id *h;
	uint64_t self = netns_self_inode("/proc");

	cr_assert_neq(self, 0);
	cr_assert_eq(self, ino_of("/proc/thread-self/ns/net"));
	netns_list_init(&l);
	cr_assert_eq(netns_scan("/proc", "/nonexistent/netns", &l), 0);
	assert_sorted(&l);
	h = find_ino(&l, self);
	cr_assert_not_null(h);
	cr_assert_eq(h->kind, NETNS_HOST);
	cr_assert_str_eq(h->name, "host");
	cr_assert_str_eq(h->path, "");
	netns_list_free(&l);
}

Test(netns_live, named)
{
	struct netns_list l;
	const struct netns_id *h, *a, *b;
	uint64_t self, ino_a;

	private_run_netns();
	sh("ip netns add t4a");
	sh("ip netns add t4b");
	/* A file left behind with no namespace mounted on it is no namespace. */
	sh("touch /run/netns/t4stale");
	self = netns_self_inode("/proc");
	cr_assert_neq(self, 0);

	netns_list_init(&l);
	cr_assert_eq(netns_scan("/proc", "/run/netns", &l), 0);
	assert_sorted(&l);
	h = find_ino(&l, self);
	cr_assert_not_null(h);
	cr_assert_eq(h->kind, NETNS_HOST);
	cr_assert_str_eq(h->name, "host");
	a = find_name(&l, "t4a");
	b = find_name(&l, "t4b");
	cr_assert_not_null(a);
	cr_assert_not_null(b);
	cr_assert_eq(a->kind, NETNS_NAMED);
	cr_assert_eq(b->kind, NETNS_NAMED);
	cr_assert_str_eq(a->path, "/run/netns/t4a");
	cr_assert_str_eq(b->path, "/run/netns/t4b");
	cr_assert_eq(a->pid, 0, "nobody is in t4a");
	cr_assert_eq(a->inode, ino_of("/run/netns/t4a"));
	cr_assert_eq(b->inode, ino_of("/run/netns/t4b"));
	cr_assert_neq(a->inode, b->inode);
	cr_assert_neq(a->inode, self);
	cr_assert_neq(b->inode, self);
	cr_assert_null(find_name(&l, "t4stale"));
	cr_assert_null(find_ino(&l, ino_of("/run/netns/t4stale")));
	ino_a = a->inode;

	sh("ip netns del t4a");
	cr_assert_eq(netns_scan("/proc", "/run/netns", &l), 0);
	cr_assert_null(find_name(&l, "t4a"));
	cr_assert_null(find_ino(&l, ino_a));
	cr_assert_not_null(find_name(&l, "t4b"));
	cr_assert_not_null(find_ino(&l, self));
	netns_list_free(&l);
}

Test(netns_live, process)
{
	char want_name[NETNS_NAME_MAX], want_path[64], path[64], ok = 0;
	struct netns_list l;
	const struct netns_id *e;
	uint64_t ino;
	int p[2], status;
	pid_t pid;

	need_root();
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* Dies with the test even if an assertion ends it early. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, "t4sleeper");
		ok = unshare(CLONE_NEWNET) == 0 ? 'K' : 'E';
		if (write(p[1], &ok, 1) != 1 || ok != 'K')
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	cr_assert_eq(read(p[0], &ok, 1), 1);
	close(p[0]);
	if (ok != 'K') {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		cr_skip_test("unshare(CLONE_NEWNET) not permitted");
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	ino = ino_of(path);
	cr_assert_neq(ino, 0);
	cr_assert_neq(ino, netns_self_inode("/proc"));

	netns_list_init(&l);
	cr_assert_eq(netns_scan("/proc", "/nonexistent/netns", &l), 0);
	e = find_ino(&l, ino);
	cr_assert_not_null(e, "the sleeper's namespace was not found");
	snprintf(want_name, sizeof(want_name), "pid %d (t4sleeper)", (int)pid);
	snprintf(want_path, sizeof(want_path), "/proc/%d/ns/net", (int)pid);
	cr_assert_eq(e->pid, (int)pid);
	cr_assert_str_eq(e->path, want_path);
	{
		/* Run inside a container, the sleeper is named after the container. */
		char cg[NETNS_NAME_MAX] = "", text[8192] = "";
		FILE *f = fopen("/proc/self/cgroup", "re");

		if (f) {
			size_t n = fread(text, 1, sizeof(text) - 1, f);

			text[n] = '\0';
			fclose(f);
		}
		netns_container_from_cgroup(text, cg, sizeof(cg));
		if (cg[0] == '\0') {
			cr_assert_eq(e->kind, NETNS_PROCESS);
			cr_assert_str_eq(e->name, want_name);
		} else {
			cr_assert_eq(e->kind, NETNS_CONTAINER);
			cr_assert_str_eq(e->name, cg);
		}
	}

	kill(pid, SIGKILL);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert_eq(netns_scan("/proc", "/nonexistent/netns", &l), 0);
	cr_assert_null(find_ino(&l, ino), "a namespace whose only process died is still listed");
	netns_list_free(&l);
}

/* ---- the worker thread ---- */

struct probe {
	int calls;
	uint64_t ino;          /* the worker's namespace while fn ran */
	bool signals_blocked;
	int listen_fd;
	int connect_err;
};

static int fn_where(void *arg)
{
	struct probe *pr = arg;
	sigset_t set;

	pr->calls++;
	pr->ino = ino_of("/proc/thread-self/ns/net");
	pthread_sigmask(SIG_BLOCK, NULL, &set);
	pr->signals_blocked = sigismember(&set, SIGTERM) == 1 && sigismember(&set, SIGINT) == 1 &&
			      sigismember(&set, SIGHUP) == 1 && sigismember(&set, SIGUSR1) == 1;
	return 42;
}

static int lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		err = -errno;
	} else {
		ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			err = -errno;
	}
	close(fd);
	return err;
}

static struct sockaddr_in addr_7777(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7777) };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

/* A socket belongs to the namespace it was made in, whichever thread uses it later. */
static int fn_listen(void *arg)
{
	struct probe *pr = arg;
	struct sockaddr_in sin = addr_7777();
	int fd, err;

	fn_where(pr);
	err = lo_up();
	if (err)
		return err;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 8) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	pr->listen_fd = fd;
	return 0;
}

static int fn_connect(void *arg)
{
	struct probe *pr = arg;
	struct sockaddr_in sin = addr_7777();
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	fn_where(pr);
	if (fd < 0)
		return -errno;
	pr->connect_err = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ? errno : 0;
	close(fd);
	return 0;
}

Test(nsworker, basics_without_namespaces)
{
	struct nsworker *w;
	struct probe pr = { 0 };
	int devnull;

	nsworker_stop(NULL);
	cr_assert_eq(nsworker_start(&w), 0);
	cr_assert_not_null(w);
	/* -1 is home, where the worker already is: no setns, no privilege needed. */
	cr_assert_eq(nsworker_run(w, -1, fn_where, &pr), 42);
	cr_assert_eq(pr.calls, 1);
	cr_assert_eq(pr.ino, ino_of("/proc/thread-self/ns/net"));
	cr_assert(pr.signals_blocked, "the worker must not take the daemon's signals");

	/* Bad descriptors: -errno, and fn is not called. */
	cr_assert_eq(nsworker_run(w, 1000000, fn_where, &pr), -EBADF);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cr_assert_geq(devnull, 0);
	cr_assert_eq(nsworker_run(w, devnull, fn_where, &pr), -EINVAL);
	close(devnull);
	cr_assert_eq(pr.calls, 1);
	cr_assert_eq(nsworker_run(w, -1, NULL, NULL), -EINVAL);
	cr_assert_eq(nsworker_run(NULL, -1, fn_where, &pr), -EINVAL);
	cr_assert_eq(nsworker_run(w, -1, fn_where, &pr), 42);
	cr_assert_eq(pr.calls, 2);
	nsworker_stop(w);
}

Test(nsworker, start_stop_leaks_nothing)
{
	int before = count_fds(), i;

	for (i = 0; i < 200; i++) {
		struct nsworker *w;
		struct probe pr = { 0 };

		cr_assert_eq(nsworker_start(&w), 0);
		/* Half of them never ran a job: stop must not wait for one. */
		if (i % 2)
			cr_assert_eq(nsworker_run(w, -1, fn_where, &pr), 42);
		nsworker_stop(w);
	}
	cr_assert_eq(count_fds(), before);
}

/* Two named namespaces and descriptors for them. */
struct two_ns {
	int fd_a, fd_b;
	uint64_t ino_a, ino_b, home;
};

static void two_ns_setup(struct two_ns *t)
{
	private_run_netns();
	sh("ip netns add t4a");
	sh("ip netns add t4b");
	t->fd_a = open("/run/netns/t4a", O_RDONLY | O_CLOEXEC);
	t->fd_b = open("/run/netns/t4b", O_RDONLY | O_CLOEXEC);
	cr_assert(t->fd_a >= 0 && t->fd_b >= 0);
	t->ino_a = ino_of("/run/netns/t4a");
	t->ino_b = ino_of("/run/netns/t4b");
	t->home = ino_of("/proc/thread-self/ns/net");
	cr_assert(t->ino_a && t->ino_b && t->home);
}

/* How many of our threads are in namespace ino right now; 0: how many threads at all. */
static int threads_in(uint64_t ino)
{
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)) != NULL) {
		char path[300];

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/ns/net", de->d_name);
		if (ino == 0 || ino_of(path) == ino)
			n++;
	}
	closedir(d);
	return n;
}

Test(nsworker, runs_in_named_namespace)
{
	struct two_ns t;
	struct nsworker *w;
	struct probe pr = { .listen_fd = -1 };

	two_ns_setup(&t);
	cr_assert_eq(nsworker_start(&w), 0);

	cr_assert_eq(nsworker_run(w, t.fd_b, fn_listen, &pr), 0);
	cr_assert_eq(pr.ino, t.ino_b);
	cr_assert_geq(pr.listen_fd, 0);
	/* The main thread never moved. */
	cr_assert_eq(ino_of("/proc/thread-self/ns/net"), t.home);
	cr_assert_eq(netns_self_inode("/proc"), t.home);
	/* Nor does the worker stay in t4b after the job, keeping it alive. */
	cr_assert_eq(threads_in(t.ino_b), 0);
	cr_assert_eq(threads_in(t.home), threads_in(0));

	/* The listener is in t4b: reachable there, not from t4a (whose lo is down). */
	cr_assert_eq(nsworker_run(w, t.fd_b, fn_connect, &pr), 0);
	cr_assert_eq(pr.connect_err, 0, "connect in t4b: %s", strerror(pr.connect_err));
	cr_assert_eq(nsworker_run(w, t.fd_a, fn_connect, &pr), 0);
	cr_assert_eq(pr.ino, t.ino_a);
	cr_assert_neq(pr.connect_err, 0, "t4a must not reach t4b's listener");

	/* -1 goes back to where the worker started. */
	cr_assert_eq(nsworker_run(w, -1, fn_where, &pr), 42);
	cr_assert_eq(pr.ino, t.home);
	cr_assert(pr.signals_blocked);

	nsworker_stop(w);
	close(pr.listen_fd);
	close(t.fd_a);
	close(t.fd_b);
}

Test(nsworker, switching_leaks_no_fds)
{
	struct two_ns t;
	struct nsworker *w;
	struct probe pr = { 0 };
	int before, i;

	two_ns_setup(&t);
	cr_assert_eq(nsworker_start(&w), 0);
	before = count_fds();
	for (i = 0; i < 1000; i++) {
		int fd = i % 3 == 2 ? -1 : i % 3 ? t.fd_b : t.fd_a;
		uint64_t want = i % 3 == 2 ? t.home : i % 3 ? t.ino_b : t.ino_a;

		cr_assert_eq(nsworker_run(w, fd, fn_where, &pr), 42);
		cr_assert_eq(pr.ino, want, "run %d", i);
	}
	cr_assert_eq(pr.calls, 1000);
	cr_assert_eq(count_fds(), before);
	nsworker_stop(w);
	close(t.fd_a);
	close(t.fd_b);
}

struct caller {
	struct nsworker *w;
	int fd;
	uint64_t want;
	int wrong;
};

static void *caller_main(void *arg)
{
	struct caller *c = arg;
	int i;

	for (i = 0; i < 250; i++) {
		struct probe pr = { 0 };

		if (nsworker_run(c->w, c->fd, fn_where, &pr) != 42 || pr.ino != c->want)
			c->wrong++;
	}
	return NULL;
}

Test(nsworker, concurrent_callers_take_turns)
{
	struct caller c[4];
	pthread_t th[4];
	struct two_ns t;
	struct nsworker *w;
	int i;

	two_ns_setup(&t);
	cr_assert_eq(nsworker_start(&w), 0);
	for (i = 0; i < 4; i++) {
		c[i].w = w;
		c[i].fd = i == 3 ? -1 : i % 2 ? t.fd_b : t.fd_a;
		c[i].want = i == 3 ? t.home : i % 2 ? t.ino_b : t.ino_a;
		c[i].wrong = 0;
		cr_assert_eq(pthread_create(&th[i], NULL, caller_main, &c[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		cr_assert_eq(c[i].wrong, 0, "caller %d got another caller's namespace", i);
	}
	nsworker_stop(w);
	close(t.fd_a);
	close(t.fd_b);
}
