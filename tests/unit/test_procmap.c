/* test_procmap.c: socket inode -> owners, against the live /proc and against fake proc roots built here. */
#include "version.h"	/* the autoconf header (_GNU_SOURCE); include/config.h is the config module */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "procmap.h"

/* ---- live /proc ---- */

static uint32_t listen_inode(int *fdp)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct stat st;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(fd, 16), 0);
	cr_assert_eq(fstat(fd, &st), 0);
	*fdp = fd;
	return (uint32_t)st.st_ino;
}

static void own_comm(char *comm, size_t len)
{
	FILE *f = fopen("/proc/self/comm", "r");

	cr_assert_not_null(f);
	cr_assert_not_null(fgets(comm, (int)len, f));
	comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

Test(procmap_live, own_listener)
{
	char comm[OWNER_COMM_MAX + 8];
	struct procmap *pm = procmap_new("/proc");
	const struct owner *o;
	int fd, dup1, dup2;
	uint32_t ino = listen_inode(&fd);

	cr_assert_not_null(pm);
	/* The same listener on three fds of one process counts once. */
	dup1 = dup(fd);
	dup2 = dup(fd);
	cr_assert(dup1 >= 0 && dup2 >= 0);
	own_comm(comm, sizeof(comm));

	cr_assert_null(procmap_get(pm, ino));
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	o = procmap_get(pm, ino);
	cr_assert_not_null(o);
	cr_assert_eq(o->inode, ino);
	cr_assert_eq(o->nprocs, 1);
	cr_assert_eq(o->nprocs_total, 1);
	cr_assert_eq(o->procs[0].pid, getpid());
	cr_assert_str_eq(o->procs[0].comm, comm);

	procmap_free(pm);
	close(dup2);
	close(dup1);
	close(fd);
}

/* Inode 0xfffffff0 is held by nobody: it is cached as ownerless, not left unresolved. */
Test(procmap_live, unowned_inode_cached)
{
	struct procmap *pm = procmap_new("/proc");
	uint32_t ino = 0xfffffff0u;
	const struct owner *o;

	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	o = procmap_get(pm, ino);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, 0);
	cr_assert_eq(o->nprocs_total, 0);
	cr_assert_str_eq(o->unit, "");
	procmap_free(pm);
}

/* A pre-fork server: the parent and two children hold one listener. */
Test(procmap_live, prefork)
{
	int fd, ready[2], go[2];
	uint32_t ino = listen_inode(&fd);
	char comm[OWNER_COMM_MAX + 8];
	pid_t kids[2];
	struct procmap *pm;
	const struct owner *o;

	own_comm(comm, sizeof(comm));
	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(go), 0);
	for (int i = 0; i < 2; i++) {
		kids[i] = fork();
		cr_assert_geq(kids[i], 0);
		if (kids[i] == 0) {
			char name[16], c;

			snprintf(name, sizeof(name), "worker-%d", i);
			prctl(PR_SET_NAME, name, 0, 0, 0);
			close(go[1]);
			if (write(ready[1], "x", 1) != 1)
				_exit(1);
			/* Hold the listener until the parent is done (EOF on go). */
			while (read(go[0], &c, 1) > 0)
				;
			_exit(0);
		}
	}
	close(go[0]);
	for (int i = 0; i < 2; i++) {
		char c;

		cr_assert_eq(read(ready[0], &c, 1), 1);
	}

	pm = procmap_new("/proc");
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	o = procmap_get(pm, ino);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, 3);
	cr_assert_eq(o->nprocs_total, 3);
	cr_assert_lt(o->procs[0].pid, o->procs[1].pid);
	cr_assert_lt(o->procs[1].pid, o->procs[2].pid);
	for (unsigned i = 0; i < 3; i++) {
		const struct owner_proc *p = &o->procs[i];

		if (p->pid == getpid())
			cr_assert_str_eq(p->comm, comm);
		else if (p->pid == kids[0])
			cr_assert_str_eq(p->comm, "worker-0");
		else if (p->pid == kids[1])
			cr_assert_str_eq(p->comm, "worker-1");
		else
			cr_assert_fail("unexpected holder %d", p->pid);
	}

	/* The children's states: sleeping in read(), then stopped. */
	cr_assert_eq(kill(kids[0], SIGSTOP), 0);
	{
		int status;

		cr_assert_eq(waitpid(kids[0], &status, WUNTRACED), kids[0]);
		cr_assert(WIFSTOPPED(status));
	}
	cr_assert_eq(procmap_proc_state("/proc", kids[0]), 'T');
	cr_assert_eq(procmap_proc_state("/proc", kids[1]), 'S');
	cr_assert_eq(kill(kids[0], SIGCONT), 0);

	close(go[1]);
	for (int i = 0; i < 2; i++) {
		int status;

		cr_assert_eq(waitpid(kids[i], &status, 0), kids[i]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	procmap_free(pm);
	close(ready[0]);
	close(ready[1]);
	close(fd);
}

Test(procmap_live, own_state)
{
	cr_assert_eq(procmap_proc_state("/proc", getpid()), 'R');
	cr_assert_eq(procmap_proc_state("/proc", 0), 0);
	cr_assert_eq(procmap_proc_state("/proc", -1), 0);
}

/* ---- fake proc roots ---- */

static char root[] = "/tmp/backlogd-procmap-XXXXXX";

static void fake_setup(void)
{
	cr_assert_not_null(mkdtemp(root));
}

static void fake_teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

static void fpath(char *buf, size_t len, const char *rel)
{
	int n = snprintf(buf, len, "%s/%s", root, rel);

	cr_assert(n > 0 && (size_t)n < len);
}

static void mk_dir(const char *rel)
{
	char path[512];

	fpath(path, sizeof(path), rel);
	cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
}

static void mk_file(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	fpath(path, sizeof(path), rel);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	cr_assert(fputs(text, f) >= 0);
	cr_assert_eq(fclose(f), 0);
}

static void mk_link(const char *rel, const char *target)
{
	char path[512];

	fpath(path, sizeof(path), rel);
	cr_assert_eq(symlink(target, path), 0, "%s", path);
}

/* A process dir: comm and cgroup are optional (NULL leaves them out). */
static void mk_proc(int pid, const char *comm, const char *cgroup)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "%d", pid);
	mk_dir(rel);
	snprintf(rel, sizeof(rel), "%d/fd", pid);
	mk_dir(rel);
	if (comm) {
		snprintf(rel, sizeof(rel), "%d/comm", pid);
		mk_file(rel, comm);
	}
	if (cgroup) {
		snprintf(rel, sizeof(rel), "%d/cgroup", pid);
		mk_file(rel, cgroup);
	}
}

static void mk_fd(int pid, int fd, const char *target)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "%d/fd/%d", pid, fd);
	mk_link(rel, target);
}

static void rm_proc(int pid)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/%d'", root, pid);
	cr_assert_eq(system(cmd), 0);
}

/*
 * 100, 101, 102: an nginx master and workers sharing listener 123
 *   (100 holds it on two fds, 102 has an overlong comm).
 * 200: a pid dir without fd/ (a kernel thread, or gone mid-walk).
 * 300: holds 456 but has no comm (exited while we looked).
 * 400: sshd on cgroup v1 hybrid, listener 789.
 * 500: junk links. Plus non-pid entries: self, net/, a file named 42.
 */
static void build_tree(void)
{
	mk_proc(100, "nginx\n", "0::/system.slice/nginx.service\n");
	mk_fd(100, 3, "socket:[123]");
	mk_fd(100, 4, "socket:[123]");
	mk_fd(100, 5, "pipe:[9]");
	mk_fd(100, 6, "/dev/null");
	mk_proc(101, "nginx\n", "0::/system.slice/other.service\n");
	mk_fd(101, 7, "socket:[123]");
	mk_proc(102, "nginx-worker-process-long\n", "0::/system.slice/nginx.service/worker\n");
	mk_fd(102, 3, "socket:[123]");
	mk_dir("200");
	mk_file("200/comm", "kthreadd\n");
	mk_proc(300, NULL, NULL);
	mk_fd(300, 3, "socket:[456]");
	mk_proc(400, "sshd\n",
		"12:memory:/system.slice/ssh.service\n"
		"1:name=systemd:/system.slice/ssh.service\n"
		"0::/\n");
	mk_fd(400, 3, "socket:[789]");
	mk_proc(500, "junk\n", "0::/\n");
	mk_fd(500, 1, "socket:[99999999999]");
	mk_fd(500, 2, "socket:[12a]");
	mk_fd(500, 3, "socket:[]");
	mk_fd(500, 4, "socket:[123]x");
	mk_link("self", "100");
	mk_dir("net");
	mk_file("42", "not a process\n");
}

TestSuite(procmap_fake, .init = fake_setup, .fini = fake_teardown);

Test(procmap_fake, owners_units_and_vanished)
{
	static const uint32_t want[] = { 789, 123, 456, 1000, 123 };
	struct procmap *pm;
	const struct owner *o;

	build_tree();
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, want, sizeof(want) / sizeof(want[0])), 0);

	o = procmap_get(pm, 123);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, 3);
	cr_assert_eq(o->nprocs_total, 3);
	cr_assert_eq(o->procs[0].pid, 100);
	cr_assert_eq(o->procs[1].pid, 101);
	cr_assert_eq(o->procs[2].pid, 102);
	cr_assert_str_eq(o->procs[0].comm, "nginx");
	cr_assert_str_eq(o->procs[2].comm, "nginx-worker-pr");  /* 15 bytes, as the kernel cuts */
	/* The unit of the lowest pid holding it. */
	cr_assert_str_eq(o->unit, "nginx.service");

	o = procmap_get(pm, 456);
	cr_assert_not_null(o, "an inode whose holder vanished is still cached");
	cr_assert_eq(o->nprocs, 0);

	o = procmap_get(pm, 789);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, 1);
	cr_assert_eq(o->procs[0].pid, 400);
	cr_assert_str_eq(o->procs[0].comm, "sshd");
	cr_assert_str_eq(o->unit, "ssh.service");

	o = procmap_get(pm, 1000);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, 0);
	cr_assert_str_eq(o->unit, "");

	cr_assert_null(procmap_get(pm, 12));
	cr_assert_null(procmap_get(pm, 0));
	procmap_free(pm);
}

Test(procmap_fake, cache_no_rescan_and_forget)
{
	uint32_t want[2] = { 123, 789 };
	struct procmap *pm;
	const struct owner *o;

	build_tree();
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, want, 2), 0);
	cr_assert_eq(procmap_get(pm, 123)->nprocs, 3);

	/* The holders are gone from the tree: a rescan would find nobody. */
	rm_proc(100);
	rm_proc(101);
	rm_proc(102);
	cr_assert_eq(procmap_update(pm, want, 2), 0);
	o = procmap_get(pm, 123);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, 3, "cached owner was rescanned");
	cr_assert_eq(o->procs[0].pid, 100);

	/* A new inode walks /proc for itself only; 789 is forgotten. */
	mk_proc(600, "redis-server\n", "0::/system.slice/redis.service\n");
	mk_fd(600, 9, "socket:[321]");
	want[1] = 321;
	cr_assert_eq(procmap_update(pm, want, 2), 0);
	cr_assert_eq(procmap_get(pm, 123)->nprocs, 3, "cached owner was rescanned");
	o = procmap_get(pm, 321);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, 1);
	cr_assert_eq(o->procs[0].pid, 600);
	cr_assert_str_eq(o->unit, "redis.service");
	cr_assert_null(procmap_get(pm, 789));

	/* An update without 123 forgets it; asking again resolves afresh. */
	cr_assert_eq(procmap_update(pm, want + 1, 1), 0);
	cr_assert_null(procmap_get(pm, 123));
	cr_assert_not_null(procmap_get(pm, 321));
	cr_assert_eq(procmap_update(pm, want, 1), 0);
	o = procmap_get(pm, 123);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, 0);
	cr_assert_null(procmap_get(pm, 321));

	cr_assert_eq(procmap_update(pm, NULL, 0), 0);
	cr_assert_null(procmap_get(pm, 123));
	procmap_free(pm);
}

/* More holders than OWNER_MAX_PROCS: keep the lowest pids, count them all. */
Test(procmap_fake, many_holders)
{
	uint32_t ino = 555;
	struct procmap *pm;
	const struct owner *o;

	for (int pid = 1019; pid >= 1000; pid--) {
		mk_proc(pid, "worker\n", "0::/system.slice/app.service\n");
		mk_fd(pid, 5, "socket:[555]");
	}
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	o = procmap_get(pm, 555);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, OWNER_MAX_PROCS);
	cr_assert_eq(o->nprocs_total, 20);
	for (unsigned i = 0; i < OWNER_MAX_PROCS; i++)
		cr_assert_eq(o->procs[i].pid, 1000 + (int)i);
	cr_assert_str_eq(o->unit, "app.service");
	procmap_free(pm);
}

/* Many listeners, several new at once and in any order: the cache stays sorted. */
Test(procmap_fake, many_inodes)
{
	uint32_t want[64];
	struct procmap *pm;

	mk_proc(700, "app\n", "0::/\n");
	for (int i = 0; i < 64; i++) {
		char link[32];

		want[i] = (uint32_t)((i * 37) % 64 + 10);
		snprintf(link, sizeof(link), "socket:[%u]", want[i]);
		mk_fd(700, 100 + i, link);
	}
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, want, 32), 0);
	cr_assert_eq(procmap_update(pm, want + 16, 48), 0);
	for (int i = 0; i < 64; i++) {
		const struct owner *o = procmap_get(pm, want[i]);

		if (i < 16) {
			cr_assert_null(o, "%u", want[i]);
			continue;
		}
		cr_assert_not_null(o, "%u", want[i]);
		cr_assert_eq(o->inode, want[i]);
		cr_assert_eq(o->nprocs, 1);
		cr_assert_eq(o->procs[0].pid, 700);
	}
	procmap_free(pm);
}

/* An unreadable proc root caches nothing, so the next update tries again. */
Test(procmap_fake, missing_root_retries)
{
	char path[512];
	uint32_t ino = 123;
	struct procmap *pm;

	fpath(path, sizeof(path), "later");
	pm = procmap_new(path);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	cr_assert_null(procmap_get(pm, 123));

	mk_dir("later");
	mk_dir("later/100");
	mk_dir("later/100/fd");
	mk_file("later/100/comm", "nginx\n");
	mk_link("later/100/fd/3", "socket:[123]");
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	cr_assert_not_null(procmap_get(pm, 123));
	cr_assert_eq(procmap_get(pm, 123)->nprocs, 1);
	cr_assert_str_eq(procmap_get(pm, 123)->unit, "");
	procmap_free(pm);
}

Test(procmap_fake, proc_state)
{
	mk_dir("700");
	mk_file("700/stat", "700 (a) b) (c) S 1 700 700 0 -1 4194560 0 0\n");
	mk_dir("701");
	mk_file("701/stat", "701 (x) 5 1\n");
	mk_dir("702");
	mk_file("702/stat", "702 (never closed S 1\n");
	mk_dir("703");
	mk_file("703/stat", "703 (idle) I 2 0 0\n");
	mk_dir("704");
	mk_file("704/stat", "704 (cut)");

	cr_assert_eq(procmap_proc_state(root, 700), 'S');
	cr_assert_eq(procmap_proc_state(root, 701), 0);
	cr_assert_eq(procmap_proc_state(root, 702), 0);
	cr_assert_eq(procmap_proc_state(root, 703), 'I');
	cr_assert_eq(procmap_proc_state(root, 704), 0);
	cr_assert_eq(procmap_proc_state(root, 705), 0);
}

/* ---- cgroup text -> unit ---- */

Test(procmap_unit, table)
{
	static const struct {
		const char *text;
		const char *unit;
	} cases[] = {
		{ "0::/system.slice/nginx.service\n", "nginx.service" },
		{ "0::/user.slice/user-0.slice/session-3.scope\n", "session-3.scope" },
		{ "0::/system.slice/foo.service/worker\n", "foo.service" },
		{ "0::/\n", "" },
		{ "", "" },
		{ "0::/system.slice\n", "" },
		{ "0::/system.slice/foo.services\n", "" },
		{ "0::/system.slice/.service\n", "" },
		{ "0::/system.slice/x.service", "x.service" },
		{ "0::/system.slice/x.service (deleted)\n", "x.service" },
		{ "0::/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-1234.scope\n",
		  "app-firefox-1234.scope" },
		{ "0::/system.slice/docker-abc.scope/system.slice/nginx.service\n", "nginx.service" },
		/* cgroup v1 and hybrid: 0:: first, then name=systemd, then the rest */
		{ "12:pids:/system.slice/a.service\n1:name=systemd:/system.slice/b.service\n"
		  "0::/system.slice/c.service\n", "c.service" },
		{ "12:pids:/system.slice/a.service\n1:name=systemd:/system.slice/b.service\n0::/\n",
		  "b.service" },
		{ "4:memory:/system.slice/m.service\n3:cpu,cpuacct:/\n", "m.service" },
		/* as recorded on this host (v1, not under systemd) */
		{ "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/8175cded43c727f9227f6fbcae7910f8\n"
		  "1:cpu:/\n0::/\n", "" },
		{ "hello\n", "" },
		{ "0:/system.slice/x.service\n", "" },
	};
	char unit[OWNER_UNIT_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(unit, 'z', sizeof(unit));
		procmap_unit_from_cgroup(cases[i].text, unit, sizeof(unit));
		cr_assert_str_eq(unit, cases[i].unit, "\"%s\"", cases[i].text);
	}
}

/* A unit name that does not fit is left out, not cut into another name. */
Test(procmap_unit, small_buffer)
{
	char unit[16];

	memset(unit, 'z', sizeof(unit));
	procmap_unit_from_cgroup("0::/system.slice/nginx.service\n", unit, 13);
	cr_assert_str_eq(unit, "");
	procmap_unit_from_cgroup("0::/system.slice/nginx.service\n", unit, 14);
	cr_assert_str_eq(unit, "nginx.service");
	unit[0] = 'q';
	procmap_unit_from_cgroup("0::/system.slice/nginx.service\n", unit, 0);
	cr_assert_eq(unit[0], 'q');
}

Test(procmap_unit, live_self)
{
	char text[4096], unit[OWNER_UNIT_MAX];
	FILE *f = fopen("/proc/self/cgroup", "r");
	size_t n;

	cr_assert_not_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	procmap_unit_from_cgroup(text, unit, sizeof(unit));
	cr_assert_lt(strlen(unit), sizeof(unit));
}
