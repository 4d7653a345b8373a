/* test_procmap.c: socket inode -> owners (cmdline, user, cgroup-narrowed lookup), against the live /proc and cgroup2 and against fake proc roots built here. */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "listener.h"
#include "cgroup.h"
#include "procinfo.h"
#include "ownertab.h"
#include "procmap.h"
#include "procmap_fixture.h"
#include "sockdiag.h"

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

/*
 * What procmap should show for our own /proc/self/cmdline, when it is plain
 * ASCII (it is: the test binary's path and criterion's options): NULs as
 * spaces, the trailing one dropped, cut to fit.
 */
static void check_own_cmdline(const char *got)
{
	char raw[4096], want[OWNER_CMDLINE_MAX];
	FILE *f = fopen("/proc/self/cmdline", "r");
	size_t n, i;

	cr_assert_not_null(f);
	n = fread(raw, 1, sizeof(raw), f);
	fclose(f);
	while (n > 0 && raw[n - 1] == '\0')
		n--;
	cr_assert_gt(n, 0);
	for (i = 0; i < n; i++) {
		if (raw[i] != '\0' && (raw[i] < 0x20 || raw[i] > 0x7e)) {
			cr_log_warn("own cmdline is not plain ASCII: only its length is checked");
			cr_assert_gt(strlen(got), 0);
			return;
		}
	}
	if (n > sizeof(want) - 1)
		n = sizeof(want) - 1;
	for (i = 0; i < n; i++)
		want[i] = raw[i] ? raw[i] : ' ';
	want[n] = '\0';
	cr_assert_str_eq(got, want);
}

/* Our real uid and its name ("root" for root). */
static void check_own_user(const struct owner *o)
{
	struct passwd *pw = getpwuid(getuid());

	cr_assert_eq(o->uid, (int64_t)getuid());
	if (getuid() == 0)
		cr_assert_str_eq(o->user, "root");
	if (pw)
		cr_assert_str_eq(o->user, pw->pw_name);
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
	cr_assert_eq(o->nprocs, 1);
	cr_assert_eq(o->nprocs_total, 1);
	cr_assert_eq(o->procs[0].pid, getpid());
	cr_assert_str_eq(o->procs[0].comm, comm);
	check_own_cmdline(o->procs[0].cmdline);
	check_own_user(o);
	cr_assert_eq(procmap_full_walks(pm), 1);
	cr_assert_eq(procmap_cgroup_hits(pm), 0);

	/* The steady state reads nothing. */
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	cr_assert_eq(procmap_full_walks(pm), 1);

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
	cr_assert_eq(procinfo_state("/proc", kids[0]), 'T');
	cr_assert_eq(procinfo_state("/proc", kids[1]), 'S');
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
	cr_assert_eq(procinfo_state("/proc", getpid()), 'R');
	cr_assert_eq(procinfo_state("/proc", 0), 0);
	cr_assert_eq(procinfo_state("/proc", -1), 0);
}

/* ---- live children: exec'd holders, pre-fork, cgroup2 ---- */

/* Children still running when a test ends, even by a failed assertion (the suites' fini). */
#define MAX_KIDS 8
static pid_t kids_alive[MAX_KIDS];

static void kid_add(pid_t pid)
{
	for (int i = 0; i < MAX_KIDS; i++) {
		if (kids_alive[i] == 0) {
			kids_alive[i] = pid;
			return;
		}
	}
	kill(pid, SIGKILL);
	cr_assert_fail("more than %d children", MAX_KIDS);
}

static void kids_reap(void)
{
	for (int i = 0; i < MAX_KIDS; i++) {
		if (kids_alive[i] > 0) {
			kill(kids_alive[i], SIGKILL);
			waitpid(kids_alive[i], NULL, 0);
			kids_alive[i] = 0;
		}
	}
}

/*
 * Fork a child that execs "/bin/sleep SECS" holding listener fd across the
 * exec. With go[] (not NULL) the child first waits for a byte on go[0] and
 * only then makes a listener of its own, so that the socket is charged to
 * the cgroup the parent has moved it to in the meantime (a socket belongs
 * to its creator's cgroup at creation), and reports its inode on the info
 * pipe. Return: the pid; *info_rd is for kid_exec_wait.
 */
static pid_t kid_start(int fd, const char *secs, const int *go, int *info_rd)
{
	int info[2];
	pid_t pid;

	cr_assert_eq(pipe2(info, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char *argv[] = { (char *)"sleep", (char *)secs, NULL };
		char c;

		/* Never outlive the test, whatever happens to it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		close(info[0]);
		if (go) {
			struct sockaddr_in sin = { .sin_family = AF_INET };
			struct stat st;
			uint32_t ino;

			close(go[1]);
			if (read(go[0], &c, 1) != 1)
				_exit(2);
			fd = socket(AF_INET, SOCK_STREAM, 0);
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
			    listen(fd, 16) != 0 || fstat(fd, &st) != 0)
				_exit(3);
			ino = (uint32_t)st.st_ino;
			if (write(info[1], &ino, sizeof(ino)) != sizeof(ino))
				_exit(4);
		} else if (fcntl(fd, F_SETFD, 0) != 0) {
			_exit(5);  /* the listener would not survive the exec */
		}
		execv("/bin/sleep", argv);
		_exit(127);
	}
	close(info[1]);
	kid_add(pid);
	*info_rd = info[0];
	return pid;
}

/* Wait until the child has exec'd: its CLOEXEC end of the info pipe closes then. */
static void kid_exec_wait(int info_rd, uint32_t *inode)
{
	char c;

	if (inode)
		cr_assert_eq(read(info_rd, inode, sizeof(*inode)), (ssize_t)sizeof(*inode),
			     "the child made no listener");
	cr_assert_eq(read(info_rd, &c, 1), 0, "the child did not exec /bin/sleep");
	close(info_rd);
}

static pid_t spawn_sleep(int fd, const char *secs)
{
	int info_rd;
	pid_t pid = kid_start(fd, secs, NULL, &info_rd);

	kid_exec_wait(info_rd, NULL);
	return pid;
}

TestSuite(procmap_kids, .fini = kids_reap);

/* A child that execs /bin/sleep with arguments holds the listener alone. */
Test(procmap_kids, exec_child_cmdline)
{
	struct procmap *pm = procmap_new("/proc");
	const struct owner *o;
	int fd;
	uint32_t ino = listen_inode(&fd);
	pid_t kid;

	cr_assert_not_null(pm);
	kid = spawn_sleep(fd, "30");
	close(fd);
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	o = procmap_get(pm, ino);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, 1);
	cr_assert_eq(o->procs[0].pid, kid);
	cr_assert_str_eq(o->procs[0].comm, "sleep");
	cr_assert_str_eq(o->procs[0].cmdline, "sleep 30");
	cr_assert_eq(o->uid, (int64_t)getuid());
	procmap_free(pm);
}

/* A pre-fork server: the parent and three exec'd children hold one listener. */
Test(procmap_kids, prefork_cmdlines)
{
	static const char *const secs[3] = { "30", "31", "32" };
	struct procmap *pm = procmap_new("/proc");
	const struct owner *o;
	pid_t kid[3];
	int fd;
	uint32_t ino = listen_inode(&fd);

	cr_assert_not_null(pm);
	for (int i = 0; i < 3; i++)
		kid[i] = spawn_sleep(fd, secs[i]);
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	o = procmap_get(pm, ino);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, 4);
	cr_assert_eq(o->nprocs_total, 4);
	for (unsigned i = 0; i < 4; i++) {
		const struct owner_proc *p = &o->procs[i];
		bool matched = false;

		if (i > 0)
			cr_assert_lt(o->procs[i - 1].pid, p->pid);
		if (p->pid == getpid()) {
			check_own_cmdline(p->cmdline);
			matched = true;
		}
		for (int k = 0; k < 3; k++) {
			char want[16];

			if (p->pid != kid[k])
				continue;
			snprintf(want, sizeof(want), "sleep %s", secs[k]);
			cr_assert_str_eq(p->cmdline, want);
			cr_assert_str_eq(p->comm, "sleep");
			matched = true;
		}
		cr_assert(matched, "unexpected holder %d", p->pid);
	}
	/* The user is procs[0]'s; all four are ours. */
	check_own_user(o);
	procmap_free(pm);
	kids_reap();
	close(fd);
}

/* The cgroup made for a test, removed by fini even when an assertion fails. */
static char cg_dir[4096];

static void cg_cleanup(void)
{
	kids_reap();
	if (cg_dir[0] == '\0')
		return;
	/* A cgroup empties asynchronously after its last process is reaped. */
	for (int i = 0; i < 100; i++) {
		if (rmdir(cg_dir) == 0 || errno == ENOENT)
			break;
		usleep(10000);
	}
	if (access(cg_dir, F_OK) == 0)
		cr_log_error("could not remove %s: %s", cg_dir, strerror(errno));
	cg_dir[0] = '\0';
}

/* The first cgroup2 mount of /proc/self/mountinfo into buf. Return: false when none. */
static bool cgroup2_mount(char *buf, size_t len)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char mnt[4096];
		const char *dash = strstr(line, " - cgroup2 ");

		/* A mount point with escaped characters is not worth decoding here. */
		if (dash && sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && !strchr(mnt, '\\')) {
			snprintf(buf, len, "%s", mnt);
			found = true;
		}
	}
	fclose(f);
	return found;
}

TestSuite(procmap_cgroup, .fini = cg_cleanup);

/*
 * A child in a cgroup of its own makes a listener there, so sock_diag
 * charges the socket to that cgroup: the hint finds it among that cgroup's
 * processes alone. A wrong hint still finds it, by the full walk.
 */
Test(procmap_cgroup, hinted_live)
{
	char mnt[4096], path[4200], pidtxt[32];
	struct procmap *pm;
	const struct owner *o;
	struct stat st;
	uint64_t cgid, hint;
	uint32_t ino = 0;
	int go[2], cfd, len, info_rd;
	pid_t kid;

	if (!cgroup2_mount(mnt, sizeof(mnt)))
		cr_skip_test("no cgroup2 mount in /proc/self/mountinfo");
	len = snprintf(cg_dir, sizeof(cg_dir), "%s/backlogd-test-%d", mnt, (int)getpid());
	cr_assert(len > 0 && (size_t)len < sizeof(cg_dir));
	if (mkdir(cg_dir, 0755) != 0) {
		int e = errno;

		cg_dir[0] = '\0';
		cr_skip_test("cannot make a cgroup under %s: %s", mnt, strerror(e));
	}
	cr_assert_eq(pipe2(go, O_CLOEXEC), 0);
	kid = kid_start(-1, "30", go, &info_rd);
	close(go[0]);

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg_dir);
	snprintf(pidtxt, sizeof(pidtxt), "%d\n", (int)kid);
	cfd = open(path, O_WRONLY | O_CLOEXEC);
	cr_assert_geq(cfd, 0, "%s: %s", path, strerror(errno));
	if (write(cfd, pidtxt, strlen(pidtxt)) != (ssize_t)strlen(pidtxt)) {
		int e = errno;

		close(cfd);
		cr_skip_test("cannot move a process into %s: %s", cg_dir, strerror(e));
	}
	close(cfd);
	cr_assert_eq(write(go[1], "g", 1), 1);
	close(go[1]);
	kid_exec_wait(info_rd, &ino);

	/* The cgroup id is the inode of the cgroup's directory. */
	cr_assert_eq(stat(cg_dir, &st), 0);
	cgid = (uint64_t)st.st_ino;

	/* What sock_diag says, when this kernel and our rights allow asking. */
	{
		struct listener_set set;
		struct sockdiag *sd;
		bool seen = false;

		listener_set_init(&set);
		if (sockdiag_open(&sd) == 0) {
			cr_assert_eq(sockdiag_dump_listeners(sd, &set), 0);
			for (size_t i = 0; i < set.count; i++) {
				if (set.items[i].inode != ino)
					continue;
				seen = true;
				if (set.items[i].cgroup_id == 0)
					cr_log_warn("this kernel gives no INET_DIAG_CGROUP_ID");
				else
					cr_assert_eq(set.items[i].cgroup_id, cgid,
						     "sock_diag cgroup %" PRIu64 ", directory inode %" PRIu64,
						     set.items[i].cgroup_id, cgid);
			}
			cr_assert(seen, "sock_diag did not list the child's listener");
			sockdiag_close(sd);
		} else {
			cr_log_warn("no sock_diag here: the cgroup id is taken from the directory only");
		}
		listener_set_free(&set);
	}

	/* The right hint: the child's cgroup alone is looked at. */
	pm = procmap_new("/proc");
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update_hinted(pm, &ino, &cgid, 1), 0);
	o = procmap_get(pm, ino);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, 1);
	cr_assert_eq(o->procs[0].pid, kid);
	cr_assert_str_eq(o->procs[0].comm, "sleep");
	cr_assert_str_eq(o->procs[0].cmdline, "sleep 30");
	check_own_user(o);
	cr_assert_eq(procmap_cgroup_hits(pm), 1);
	cr_assert_eq(procmap_full_walks(pm), 0);
	/* Cached: the next tick costs nothing. */
	cr_assert_eq(procmap_update_hinted(pm, &ino, &cgid, 1), 0);
	cr_assert_eq(procmap_cgroup_hits(pm), 1);
	cr_assert_eq(procmap_full_walks(pm), 0);
	procmap_free(pm);

	/* An id that is no cgroup at all: one index rebuild, then the full walk. */
	hint = UINT64_MAX - 7;
	pm = procmap_new("/proc");
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update_hinted(pm, &ino, &hint, 1), 0);
	o = procmap_get(pm, ino);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, 1);
	cr_assert_eq(o->procs[0].pid, kid);
	cr_assert_eq(procmap_cgroup_hits(pm), 0);
	cr_assert_eq(procmap_full_walks(pm), 1);
	procmap_free(pm);

	/* A real cgroup that does not hold it (the root): not found there, so the full walk. */
	cr_assert_eq(stat(mnt, &st), 0);
	hint = (uint64_t)st.st_ino;
	pm = procmap_new("/proc");
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update_hinted(pm, &ino, &hint, 1), 0);
	o = procmap_get(pm, ino);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, 1);
	cr_assert_eq(o->procs[0].pid, kid);
	cr_assert_eq(procmap_cgroup_hits(pm), 0);
	cr_assert_eq(procmap_full_walks(pm), 1);
	procmap_free(pm);

	cg_cleanup();
	cr_assert_neq(access(path, F_OK), 0, "the test cgroup is still there");
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
	cr_assert_eq(procmap_update(pm, want, ARRAY_SIZE(want)), 0);

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
		cr_assert_eq(o->nprocs, 1);
		cr_assert_eq(o->procs[0].pid, 700);
	}
	procmap_free(pm);
}

/*
 * Sockets with the same holders share one owner (one copy however many
 * listeners a server has); different holders, different owners.
 */
Test(procmap_fake, owners_shared_by_content)
{
	uint32_t want[5] = { 11, 12, 13, 21, 31 };
	struct procmap *pm;
	const struct owner *a, *b;

	mk_proc(700, "app\n", "0::/system.slice/app.service\n");
	mk_proc(701, "other\n", "0::/\n");
	mk_fd(700, 3, "socket:[11]");
	mk_fd(700, 4, "socket:[12]");
	mk_fd(700, 5, "socket:[13]");
	mk_fd(701, 3, "socket:[21]");
	mk_fd(700, 6, "socket:[31]");
	mk_fd(701, 4, "socket:[31]");
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, want, 5), 0);
	a = procmap_get(pm, 11);
	cr_assert_not_null(a);
	cr_assert_eq(procmap_get(pm, 12), a, "one owner for every socket of 700");
	cr_assert_eq(procmap_get(pm, 13), a);
	cr_assert_str_eq(a->unit, "app.service");
	b = procmap_get(pm, 21);
	cr_assert_neq(b, a);
	cr_assert_eq(b->procs[0].pid, 701);
	cr_assert_eq(procmap_get(pm, 31)->nprocs, 2);
	cr_assert_neq(procmap_get(pm, 31), a);

	/* When 701 exits, 31 is held by 700 alone: the same owner as 11's again. */
	rm_proc(701);
	cr_assert_eq(procmap_prune_exited(pm, 0), 2);
	cr_assert_null(procmap_get(pm, 21), "forgotten with its last holder");
	cr_assert_eq(procmap_get(pm, 31), procmap_get(pm, 11));
	cr_assert_eq(procmap_get(pm, 31)->nprocs_total, 1);
	procmap_free(pm);
}

/* The generation moves exactly when what procmap_get returns may have: the monitor keeps its pointers otherwise. */
Test(procmap_fake, generation_moves_only_on_change)
{
	uint32_t want[2] = { 11, 21 };
	struct procmap *pm;
	unsigned long g;

	mk_proc(700, "app\n", "0::/\n");
	mk_proc(701, "other\n", "0::/\n");
	mk_fd(700, 3, "socket:[11]");
	mk_fd(701, 3, "socket:[21]");
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	g = procmap_generation(pm);
	cr_assert_eq(procmap_update(pm, want, 1), 0);
	cr_assert_neq(procmap_generation(pm), g, "a new inode");
	g = procmap_generation(pm);
	cr_assert_eq(procmap_update(pm, want, 1), 0);
	cr_assert_eq(procmap_prune_exited(pm, 0), 0);
	cr_assert_eq(procmap_generation(pm), g, "the same inodes, nobody gone");
	cr_assert_eq(procmap_update(pm, want, 2), 0);
	cr_assert_neq(procmap_generation(pm), g, "another new inode");
	g = procmap_generation(pm);
	cr_assert_eq(procmap_update(pm, want, 1), 0);
	cr_assert_neq(procmap_generation(pm), g, "an inode no longer asked for");
	cr_assert_eq(procmap_update(pm, want, 2), 0);
	g = procmap_generation(pm);
	rm_proc(701);
	cr_assert_eq(procmap_prune_exited(pm, 0), 1);
	cr_assert_neq(procmap_generation(pm), g, "a holder gone");
	procmap_free(pm);
}

/* 64 sockets, each held by 700 and 701 on fd 100 + i. */
static struct procmap *two_holders_of_64(uint32_t *want)
{
	struct procmap *pm;

	mk_proc(700, "app\n", "0::/\n");
	mk_proc(701, "worker\n", "0::/\n");
	for (int i = 0; i < 64; i++) {
		char link[32];

		want[i] = (uint32_t)(1000 + i);
		snprintf(link, sizeof(link), "socket:[%u]", want[i]);
		mk_fd(700, 100 + i, link);
		mk_fd(701, 100 + i, link);
	}
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, want, 64), 0);
	cr_assert_eq(procmap_get(pm, 1000)->nprocs, 2);
	return pm;
}

/* A process that exits leaves every owner in one call, however small the budget: one readlink per process finds it gone. */
Test(procmap_fake, prune_exit_caught_at_once)
{
	uint32_t want[64];
	struct procmap *pm = two_holders_of_64(want);

	cr_assert_eq(procmap_prune_exited(pm, 4), 0, "nobody gone yet");
	rm_proc(701);
	cr_assert_eq(procmap_prune_exited(pm, 4), 64);
	for (int i = 0; i < 64; i++) {
		cr_assert_eq(procmap_get(pm, want[i])->nprocs, 1);
		cr_assert_eq(procmap_get(pm, want[i]), procmap_get(pm, want[0]));
	}
	cr_assert_eq(procmap_prune_exited(pm, 4), 0, "nothing left to prune");
	procmap_free(pm);
}

/*
 * A live process that closed some of its sockets is caught by the slices:
 * each call makes at most its budget of readlinks (two processes asked
 * once, then two per socket) and goes on where the last one stopped.
 */
Test(procmap_fake, prune_closed_fds_in_slices)
{
	uint32_t want[64];
	struct procmap *pm = two_holders_of_64(want);
	unsigned calls = 0, total = 0, got;
	char path[512];

	/* 701 keeps fd 100 (socket 1000) and closes the rest. */
	for (int i = 1; i < 64; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "701/fd/%d", 100 + i);
		fpath(path, sizeof(path), rel);
		cr_assert_eq(unlink(path), 0);
	}
	/* The two processes are asked first, then the slice: 10 readlinks, 2 per socket, 5 sockets a call. */
	while (total < 63 && calls < 100) {
		got = procmap_prune_exited(pm, 10);
		cr_assert_leq(got, 5, "call %u pruned %u", calls, got);
		total += got;
		calls++;
	}
	cr_assert_eq(total, 63);
	cr_assert_leq(calls, 13, "64 sockets at 5 a call, the kept one included");
	cr_assert_eq(procmap_get(pm, 1000)->nprocs, 2, "701 still holds 1000");
	for (int i = 1; i < 64; i++)
		cr_assert_eq(procmap_get(pm, want[i])->nprocs, 1);
	procmap_free(pm);
}

/* More holder processes than a call asks (8 per readlink of budget): they are asked in turn, and an exit is still found. */
Test(procmap_fake, prune_asks_many_processes_in_turn)
{
	uint32_t want[20];
	struct procmap *pm;
	unsigned calls = 0, got = 0;

	for (int i = 0; i < 20; i++) {
		char link[32];

		mk_proc(800 + i, "w\n", "0::/\n");
		want[i] = (uint32_t)(2000 + i);
		snprintf(link, sizeof(link), "socket:[%u]", want[i]);
		mk_fd(800 + i, 3, link);
	}
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, want, 20), 0);
	rm_proc(819);
	/* Budget 1: 8 processes a call and a 1-readlink slice; 819 is asked within 3 calls. */
	while (got == 0 && calls < 10) {
		got = procmap_prune_exited(pm, 1);
		calls++;
	}
	cr_assert_eq(got, 1);
	cr_assert_leq(calls, 3, "asked in turn: %u calls", calls);
	cr_assert_null(procmap_get(pm, 2019), "forgotten with its only holder");
	cr_assert_not_null(procmap_get(pm, 2018));
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

	cr_assert_eq(procinfo_state(root, 700), 'S');
	cr_assert_eq(procinfo_state(root, 701), 0);
	cr_assert_eq(procinfo_state(root, 702), 0);
	cr_assert_eq(procinfo_state(root, 703), 'I');
	cr_assert_eq(procinfo_state(root, 704), 0);
	cr_assert_eq(procinfo_state(root, 705), 0);
}

/*
 * An nginx master (300, never polls the listener) and its workers 301 and
 * 302, whose epoll sets watch the listener's fd 6; 302 is stopped.
 */
static void prefork_with_epoll(void)
{
	static const int pids[] = { 300, 301, 302 };
	static const char *const stats[] = {
		"300 (nginx) S 1 300 300 0 -1 0\n",
		"301 (nginx) S 300 300 300 0 -1 0\n",
		"302 (nginx) T 300 300 300 0 -1 0\n",
	};

	for (int i = 0; i < 3; i++) {
		char rel[64];

		mk_proc(pids[i], "nginx\n", "0::/system.slice/nginx.service\n");
		snprintf(rel, sizeof(rel), "%d/stat", pids[i]);
		mk_file(rel, stats[i]);
		mk_fd(pids[i], 6, "socket:[123]");
		snprintf(rel, sizeof(rel), "%d/fdinfo", pids[i]);
		mk_dir(rel);
	}
	/* The master's own epoll (its channel to the workers) does not watch fd 6. */
	mk_fd(300, 9, "anon_inode:[eventpoll]");
	mk_file("300/fdinfo/9", "pos:\t0\nflags:\t02\nmnt_id:\t15\n"
		"tfd:        3 events:       19 data:                3  pos:0 ino:2a sdev:e\n");
	for (int i = 1; i < 3; i++) {
		char rel[64];

		mk_fd(pids[i], 11, "anon_inode:[eventpoll]");
		snprintf(rel, sizeof(rel), "%d/fdinfo/11", pids[i]);
		mk_file(rel, "pos:\t0\nflags:\t02\nmnt_id:\t15\n"
			"tfd:        9 events:       19 data:       9  pos:0 ino:2a sdev:e\n"
			"tfd:        6 events:       19 data:       6  pos:0 ino:7b sdev:8\n");
	}
}

/* Each holder's ppid, state and polling are read; the acceptor is a polling worker, the stopped one first. */
Test(procmap_fake, prefork_acceptor)
{
	uint32_t ino = 123;
	struct procmap *pm;
	const struct owner *o;
	const struct owner_proc *a;

	prefork_with_epoll();
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	o = procmap_get(pm, 123);
	cr_assert_eq(o->nprocs, 3);
	cr_assert_eq(o->procs[0].ppid, 1);
	cr_assert_eq(o->procs[0].state, 'S');
	cr_assert_not(o->procs[0].polls, "the master's epoll watches fd 3, not the listener's fd 6");
	cr_assert_eq(o->procs[1].ppid, 300);
	cr_assert(o->procs[1].polls);
	cr_assert_eq(o->procs[2].state, 'T');
	cr_assert(o->procs[2].polls);
	a = owner_acceptor(o);
	cr_assert_eq(a->pid, 302, "the stopped polling worker, not the master: %d", a->pid);
	cr_assert_eq(owner_parent(o, a)->pid, 300);
	procmap_free(pm);
}

/* A worker stopped after it was found is shown stopped; R and S alone move nothing. */
Test(procmap_fake, states_read_again)
{
	uint32_t ino = 123;
	struct procmap *pm;
	unsigned long gen;

	prefork_with_epoll();
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	cr_assert_eq(procmap_get(pm, 123)->procs[1].state, 'S');
	gen = procmap_generation(pm);
	cr_assert_eq(procmap_refresh_states(pm, 64), 0);
	mk_file("301/stat", "301 (nginx) R 300 300 300 0 -1 0\n");
	cr_assert_eq(procmap_refresh_states(pm, 64), 0, "S to R is no change worth an owner");
	cr_assert_eq(procmap_generation(pm), gen);
	mk_file("301/stat", "301 (nginx) T 300 300 300 0 -1 0\n");
	mk_file("302/stat", "302 (nginx) S 300 300 300 0 -1 0\n");
	cr_assert_eq(procmap_refresh_states(pm, 64), 2);
	cr_assert_neq(procmap_generation(pm), gen);
	cr_assert_eq(procmap_get(pm, 123)->procs[1].state, 'T', "stopped since it was found");
	cr_assert_eq(procmap_get(pm, 123)->procs[2].state, 'S', "continued since");
	cr_assert_eq(owner_acceptor(procmap_get(pm, 123))->pid, 301);
	procmap_free(pm);
}

/* A master that forks one more worker, none leaving: its socket is looked up afresh and the worker listed. */
Test(procmap_fake, new_child_of_master_found)
{
	uint32_t ino = 123;
	struct procmap *pm;

	prefork_with_epoll();
	mk_dir("300/task");
	mk_dir("300/task/300");
	mk_file("300/task/300/children", "301 302 ");
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	procmap_refresh_states(pm, 64);
	procmap_refresh_states(pm, 64);
	cr_assert_not(procmap_rescan_wanted(pm), "the same children: nothing to look for");
	mk_proc(303, "nginx\n", "0::/system.slice/nginx.service\n");
	mk_file("303/stat", "303 (nginx) S 300 300 300 0 -1 0\n");
	mk_fd(303, 6, "socket:[123]");
	mk_file("300/task/300/children", "301 302 303 ");
	procmap_refresh_states(pm, 64);
	cr_assert(procmap_rescan_wanted(pm), "the master forked");
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	cr_assert_eq(procmap_get(pm, 123)->nprocs, 4);
	cr_assert_eq(procmap_get(pm, 123)->procs[3].pid, 303);
	procmap_refresh_states(pm, 64);
	cr_assert_not(procmap_rescan_wanted(pm));
	procmap_free(pm);
}

/*
 * nginx -s reload: the new worker 303 is forked while the old ones still
 * hold the listener; when an old one goes, the next update finds 303.
 */
Test(procmap_fake, reload_finds_new_workers)
{
	uint32_t ino = 123;
	struct procmap *pm;
	const struct owner *o;

	prefork_with_epoll();
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	cr_assert_eq(procmap_get(pm, 123)->nprocs, 3);
	mk_proc(303, "nginx\n", "0::/system.slice/nginx.service\n");
	mk_file("303/stat", "303 (nginx) S 300 300 300 0 -1 0\n");
	mk_fd(303, 6, "socket:[123]");
	cr_assert_not(procmap_rescan_wanted(pm));
	rm_proc(301);
	rm_proc(302);
	cr_assert_eq(procmap_prune_exited(pm, 4), 2);
	cr_assert(procmap_rescan_wanted(pm), "holders went while the master stays");
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	cr_assert_not(procmap_rescan_wanted(pm));
	o = procmap_get(pm, 123);
	cr_assert_eq(o->nprocs, 2);
	cr_assert_eq(o->procs[0].pid, 300);
	cr_assert_eq(o->procs[1].pid, 303, "the new worker is listed");
	cr_assert_eq(owner_acceptor(o)->pid, 303, "a child of the master, not the master");
	procmap_free(pm);
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

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(unit, 'z', sizeof(unit));
		cgroup_unit_from_text(cases[i].text, unit, sizeof(unit));
		cr_assert_str_eq(unit, cases[i].unit, "\"%s\"", cases[i].text);
	}
}

/* A unit name that does not fit is left out, not cut into another name. */
Test(procmap_unit, small_buffer)
{
	char unit[16];

	memset(unit, 'z', sizeof(unit));
	cgroup_unit_from_text("0::/system.slice/nginx.service\n", unit, 13);
	cr_assert_str_eq(unit, "");
	cgroup_unit_from_text("0::/system.slice/nginx.service\n", unit, 14);
	cr_assert_str_eq(unit, "nginx.service");
	unit[0] = 'q';
	cgroup_unit_from_text("0::/system.slice/nginx.service\n", unit, 0);
	cr_assert_eq(unit[0], 'q');
}

/* A cgroup text cut by the buffer loses its last line: a cut path could name another unit. */
Test(procmap_unit, cut_text_drops_last_line)
{
	char dir[] = "/tmp/backlogd-cg-XXXXXX", path[64], buf[64], big[128];
	const char *text = "1:name=systemd:/system.slice/b.service\n0::/system.slice/nginx.service\n";
	FILE *f;
	int fd;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/42", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/42/cgroup", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	/* Whole: the 0:: line names the unit. */
	cr_assert_eq(cgroup_read_text(fd, 42, big, sizeof(big)), (ssize_t)strlen(text));
	cgroup_unit_from_text(big, path, sizeof(path));
	cr_assert_str_eq(path, "nginx.service");
	/* Cut inside "nginx.servi": that line goes, and the unit comes from name=systemd. */
	cr_assert_eq(cgroup_read_text(fd, 42, buf, 60), 39);
	cr_assert_str_eq(buf, "1:name=systemd:/system.slice/b.service\n");
	cgroup_unit_from_text(buf, path, sizeof(path));
	cr_assert_str_eq(path, "b.service");
	/* Cut inside the first line: nothing is left. */
	cr_assert_eq(cgroup_read_text(fd, 42, buf, 20), 0);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(cgroup_read_text(fd, 43, buf, 20), -ENOENT);
	close(fd);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	cr_assert_eq(system(path), 0);
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
	cgroup_unit_from_text(text, unit, sizeof(unit));
	cr_assert_lt(strlen(unit), sizeof(unit));
}

/* ---- fake proc roots: cmdline and user ---- */

static void mk_bin(const char *rel, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	fpath(path, sizeof(path), rel);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* A holder of socket:[INODE] with the given cmdline bytes; returns its owner after one update. */
static const struct owner *owner_with_cmdline(struct procmap *pm, uint32_t ino, const void *cmd,
					      size_t len)
{
	char rel[64], link[32];
	int pid = (int)ino;

	mk_proc(pid, "app\n", "0::/\n");
	snprintf(link, sizeof(link), "socket:[%u]", ino);
	mk_fd(pid, 3, link);
	snprintf(rel, sizeof(rel), "%d/cmdline", pid);
	mk_bin(rel, cmd, len);
	cr_assert_eq(procmap_update(pm, &ino, 1), 0);
	cr_assert_not_null(procmap_get(pm, ino));
	cr_assert_eq(procmap_get(pm, ino)->nprocs, 1);
	return procmap_get(pm, ino);
}

#define CMD(s) s, sizeof(s) - 1

Test(procmap_fake, cmdline_forms)
{
	char big[400], want[OWNER_CMDLINE_MAX];
	struct procmap *pm = procmap_new(root);
	const struct owner *o;

	cr_assert_not_null(pm);
	/* Arguments joined by spaces, the trailing NUL and setproctitle's padding dropped. */
	o = owner_with_cmdline(pm, 100, CMD("/usr/sbin/nginx\0-g\0daemon off;\0"));
	cr_assert_str_eq(o->procs[0].cmdline, "/usr/sbin/nginx -g daemon off;");
	o = owner_with_cmdline(pm, 101, CMD("nginx: master process /usr/sbin/nginx\0\0\0\0\0\0"));
	cr_assert_str_eq(o->procs[0].cmdline, "nginx: master process /usr/sbin/nginx");
	/* An empty argument still shows as its separator. */
	o = owner_with_cmdline(pm, 102, CMD("a\0\0b\0"));
	cr_assert_str_eq(o->procs[0].cmdline, "a  b");
	/* A kernel thread (or a zombie): an empty file. */
	o = owner_with_cmdline(pm, 103, CMD(""));
	cr_assert_str_eq(o->procs[0].cmdline, "");
	cr_assert_str_eq(o->procs[0].comm, "app");
	/* Controls and bytes that are not UTF-8 become '?'; UTF-8 stays. */
	o = owner_with_cmdline(pm, 104, CMD("a\x01" "b\tc\x7f" "d\0e\xff" "f\xc3\xa9" "g\xc2\x85" "h\xe2\x82" "i\0"));
	cr_assert_str_eq(o->procs[0].cmdline, "a?b?c?d e?f\xc3\xa9g?h??i");
	/* Overlong and surrogate forms are not UTF-8 either. */
	o = owner_with_cmdline(pm, 105, CMD("\xc0\xaf" "x\xed\xa0\x80" "y\xf4\x90\x80\x80"));
	cr_assert_str_eq(o->procs[0].cmdline, "??x???y????");
	/* A cmdline file missing altogether (never on Linux, but gone is gone). */
	mk_proc(106, "app\n", "0::/\n");
	mk_fd(106, 3, "socket:[106]");
	{
		uint32_t ino = 106;

		cr_assert_eq(procmap_update(pm, &ino, 1), 0);
		cr_assert_str_eq(procmap_get(pm, 106)->procs[0].cmdline, "");
	}

	/* Long: cut to OWNER_CMDLINE_MAX - 1 bytes. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i % 10 == 9 ? '\0' : 'a' + (char)(i % 10));
	o = owner_with_cmdline(pm, 107, big, sizeof(big));
	cr_assert_eq(strlen(o->procs[0].cmdline), OWNER_CMDLINE_MAX - 1);
	for (size_t i = 0; i < OWNER_CMDLINE_MAX - 1; i++)
		want[i] = big[i] ? big[i] : ' ';
	want[OWNER_CMDLINE_MAX - 1] = '\0';
	cr_assert_str_eq(o->procs[0].cmdline, want);

	/* A character that would straddle the cut is left out whole, never halved. */
	memset(big, 'x', sizeof(big));
	memcpy(big + OWNER_CMDLINE_MAX - 2, "\xc3\xa9", 2);
	o = owner_with_cmdline(pm, 108, big, sizeof(big));
	cr_assert_eq(strlen(o->procs[0].cmdline), OWNER_CMDLINE_MAX - 2);
	cr_assert_eq(o->procs[0].cmdline[OWNER_CMDLINE_MAX - 3], 'x');
	memcpy(big + OWNER_CMDLINE_MAX - 3, "\xc3\xa9", 2);
	o = owner_with_cmdline(pm, 109, big, sizeof(big));
	cr_assert_eq(strlen(o->procs[0].cmdline), OWNER_CMDLINE_MAX - 1);
	cr_assert_str_eq(o->procs[0].cmdline + OWNER_CMDLINE_MAX - 3, "\xc3\xa9");
	/* Controls at the cut: one '?' each, so nothing to cut in half. */
	memset(big, '\x01', sizeof(big));
	o = owner_with_cmdline(pm, 110, big, sizeof(big));
	cr_assert_eq(strlen(o->procs[0].cmdline), OWNER_CMDLINE_MAX - 1);
	cr_assert_eq(strspn(o->procs[0].cmdline, "?"), OWNER_CMDLINE_MAX - 1);
	procmap_free(pm);
}

/* A uid no passwd entry names; looked up, not guessed. */
static uint32_t nameless_uid(void)
{
	for (uint32_t uid = 3999999; uid < 3999999 + 100; uid++)
		if (!getpwuid(uid))
			return uid;
	cr_skip_test("every uid tried has a passwd entry");
}

static void mk_status(int pid, const char *uidline)
{
	char rel[64], text[512];

	snprintf(rel, sizeof(rel), "%d/status", pid);
	snprintf(text, sizeof(text),
		 "Name:\tapp\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%d\nNgid:\t0\n"
		 "Pid:\t%d\nPPid:\t1\nTracerPid:\t0\n%sGid:\t0\t0\t0\t0\nFDSize:\t64\n",
		 pid, pid, uidline);
	mk_file(rel, text);
}

Test(procmap_fake, uid_and_user)
{
	static const uint32_t want[] = { 11, 12, 13, 14, 15 };
	uint32_t nobody = nameless_uid();
	struct passwd *pw33 = getpwuid(33);
	char line[64], num[16];
	struct procmap *pm;
	const struct owner *o;

	/* 11: root. 12: a uid with no name, held by two processes of it. */
	mk_proc(100, "sshd\n", "0::/\n");
	mk_status(100, "Uid:\t0\t0\t0\t0\n");
	mk_fd(100, 3, "socket:[11]");
	snprintf(line, sizeof(line), "Uid:\t%u\t%u\t%u\t%u\n", nobody, nobody, nobody, nobody);
	mk_proc(200, "app\n", "0::/\n");
	mk_status(200, line);
	mk_fd(200, 3, "socket:[12]");
	mk_proc(201, "app\n", "0::/\n");
	mk_status(201, line);
	mk_fd(201, 3, "socket:[12]");
	mk_fd(201, 4, "socket:[13]");
	/* 13: the real uid of procs[0] (pid 150, uid 33), not its effective one, nor 201's. */
	mk_proc(150, "www\n", "0::/\n");
	mk_status(150, "Uid:\t33\t0\t0\t0\n");
	mk_fd(150, 3, "socket:[13]");
	/* 14: no status. 15: a status without a readable Uid line. */
	mk_proc(300, "gone\n", "0::/\n");
	mk_fd(300, 3, "socket:[14]");
	mk_proc(400, "odd\n", "0::/\n");
	mk_status(400, "Uid:\tx\t0\t0\t0\n");
	mk_fd(400, 3, "socket:[15]");

	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, want, ARRAY_SIZE(want)), 0);

	o = procmap_get(pm, 11);
	cr_assert_eq(o->uid, 0);
	cr_assert_str_eq(o->user, "root");

	snprintf(num, sizeof(num), "%u", nobody);
	o = procmap_get(pm, 12);
	cr_assert_eq(o->nprocs, 2);
	cr_assert_eq(o->uid, (int64_t)nobody);
	cr_assert_str_eq(o->user, num);

	o = procmap_get(pm, 13);
	cr_assert_eq(o->nprocs, 2);
	cr_assert_eq(o->procs[0].pid, 150);
	cr_assert_eq(o->uid, 33);
	cr_assert_str_eq(o->user, pw33 ? pw33->pw_name : "33");

	o = procmap_get(pm, 14);
	cr_assert_eq(o->nprocs, 1);
	cr_assert_eq(o->uid, -1);
	cr_assert_str_eq(o->user, "");
	o = procmap_get(pm, 15);
	cr_assert_eq(o->uid, -1);
	cr_assert_str_eq(o->user, "");

	/* Nobody holds it: no uid either. */
	{
		uint32_t ino = 16;

		cr_assert_eq(procmap_update(pm, &ino, 1), 0);
		o = procmap_get(pm, 16);
		cr_assert_eq(o->nprocs, 0);
		cr_assert_eq(o->uid, -1);
		cr_assert_str_eq(o->user, "");
	}
	procmap_free(pm);
}

/* ---- fake proc roots: cgroup-narrowed lookup ---- */

/*
 * A cgroup2 tree in ROOT/cg 2 (a space, to be unescaped from mountinfo),
 * named in ROOT/self/mountinfo after a tmpfs and a v1 cgroup line:
 *   /                      procs 7 (a lone process of the root)
 *   init.scope             procs 1 (systemd: made listener 900, activated into 650)
 *   system.slice/nginx.service   100, 101 (123), junk lines, repeats, no final '\n'
 *   system.slice/redis.service   600 (321); 555 was passed to 800 in the root
 *   system.slice/app.service     650 (900)
 * 700 (777) is in no cgroup listed: found only by the full walk.
 */
static void mk_cgroup(const char *rel, const char *procs)
{
	char path[512];

	snprintf(path, sizeof(path), "cg 2/%s", rel);
	mk_dir(path);
	snprintf(path, sizeof(path), "cg 2/%s/cgroup.procs", rel);
	mk_file(path, procs);
}

static uint64_t cg_id(const char *rel)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/cg 2/%s", root, rel);
	cr_assert_eq(stat(path, &st), 0, "%s", path);
	return (uint64_t)st.st_ino;
}

static void build_cgroup_tree(void)
{
	char text[1024];

	mk_dir("self");
	snprintf(text, sizeof(text),
		 "23 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
		 "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs ro,mode=755\n"
		 "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime shared:7 - cgroup cgroup rw,name=systemd\n"
		 "41 31 0:38 / %s/cg\\0402 rw,relatime shared:9 master:2 - cgroup2 cgroup2 rw\n", root);
	mk_file("self/mountinfo", text);
	mk_dir("cg 2");
	mk_file("cg 2/cgroup.procs", "7\n800\n");
	mk_cgroup("init.scope", "1\n");
	mk_cgroup("system.slice", "");
	mk_cgroup("system.slice/nginx.service", "101\n100\nnot-a-pid\n\n101\n99999999999\n100");
	mk_cgroup("system.slice/redis.service", "600\n");
	mk_cgroup("system.slice/app.service", "650\n");

	mk_proc(1, "systemd\n", "0::/init.scope\n");
	mk_fd(1, 40, "socket:[900]");
	mk_proc(7, "lonely\n", "0::/\n");
	mk_proc(100, "nginx\n", "0::/system.slice/nginx.service\n");
	mk_fd(100, 6, "socket:[123]");
	mk_proc(101, "nginx\n", "0::/system.slice/nginx.service\n");
	mk_fd(101, 6, "socket:[123]");
	mk_proc(600, "redis-server\n", "0::/system.slice/redis.service\n");
	mk_fd(600, 6, "socket:[321]");
	mk_proc(650, "app\n", "0::/system.slice/app.service\n");
	mk_fd(650, 3, "socket:[900]");
	mk_proc(700, "loner\n", "0::/\n");
	mk_fd(700, 3, "socket:[777]");
	mk_proc(800, "worker\n", "0::/\n");
	mk_fd(800, 3, "socket:[555]");
}

Test(procmap_fake, hinted_found_in_its_cgroup)
{
	uint32_t ino = 123;
	uint64_t id;
	struct procmap *pm;
	const struct owner *o;

	build_cgroup_tree();
	id = cg_id("system.slice/nginx.service");
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update_hinted(pm, &ino, &id, 1), 0);
	o = procmap_get(pm, 123);
	cr_assert_not_null(o);
	/* The junk and repeated lines of cgroup.procs count nobody twice. */
	cr_assert_eq(o->nprocs, 2);
	cr_assert_eq(o->nprocs_total, 2);
	cr_assert_eq(o->procs[0].pid, 100);
	cr_assert_eq(o->procs[1].pid, 101);
	cr_assert_str_eq(o->unit, "nginx.service");
	cr_assert_eq(procmap_cgroup_hits(pm), 1);
	cr_assert_eq(procmap_full_walks(pm), 0);

	/* The steady state touches nothing. */
	cr_assert_eq(procmap_update_hinted(pm, &ino, &id, 1), 0);
	cr_assert_eq(procmap_cgroup_hits(pm), 1);
	cr_assert_eq(procmap_full_walks(pm), 0);
	procmap_free(pm);
}

/* Several new inodes at once: one cgroup.procs per cgroup, one full walk for all the rest. */
Test(procmap_fake, hinted_batch_and_fallbacks)
{
	uint32_t inos[6] = { 777, 555, 321, 123, 900, 123 };
	uint64_t ids[6];
	struct procmap *pm;
	const struct owner *o;

	build_cgroup_tree();
	ids[0] = 0;                                         /* no hint */
	ids[1] = cg_id("system.slice/redis.service");       /* passed on to 800 */
	ids[2] = cg_id("system.slice/redis.service");
	ids[3] = cg_id("system.slice/nginx.service");
	ids[4] = cg_id("init.scope");                       /* socket activation */
	ids[5] = 0;                                         /* a repeat without the hint */
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update_hinted(pm, inos, ids, 6), 0);
	cr_assert_eq(procmap_cgroup_hits(pm), 2);
	cr_assert_eq(procmap_full_walks(pm), 1);

	cr_assert_eq(procmap_get(pm, 123)->nprocs, 2);
	o = procmap_get(pm, 321);
	cr_assert_eq(o->nprocs, 1);
	cr_assert_eq(o->procs[0].pid, 600);
	o = procmap_get(pm, 555);
	cr_assert_eq(o->nprocs, 1);
	cr_assert_eq(o->procs[0].pid, 800);
	o = procmap_get(pm, 777);
	cr_assert_eq(o->nprocs, 1);
	cr_assert_eq(o->procs[0].pid, 700);
	/* PID 1 made it, a service serves it: the full walk names both, each once. */
	o = procmap_get(pm, 900);
	cr_assert_eq(o->nprocs, 2);
	cr_assert_eq(o->nprocs_total, 2);
	cr_assert_eq(o->procs[0].pid, 1);
	cr_assert_eq(o->procs[1].pid, 650);
	cr_assert_str_eq(o->procs[1].comm, "app");
	procmap_free(pm);
}

/* A cgroup made after the index, and a unit restarted into a new cgroup at the old path. */
Test(procmap_fake, hinted_index_rebuilt)
{
	uint32_t ino[2] = { 123, 1001 };
	uint64_t id[2];
	char path[512], moved[512];
	struct procmap *pm;
	const struct owner *o;

	build_cgroup_tree();
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	id[0] = cg_id("system.slice/nginx.service");
	cr_assert_eq(procmap_update_hinted(pm, ino, id, 1), 0);
	cr_assert_eq(procmap_cgroup_hits(pm), 1);

	/* A new cgroup: not in the index, which is walked again, without a full walk. */
	mk_cgroup("system.slice/new.service", "1000\n");
	mk_proc(1000, "new\n", "0::/system.slice/new.service\n");
	mk_fd(1000, 3, "socket:[1001]");
	id[1] = cg_id("system.slice/new.service");
	cr_assert_eq(procmap_update_hinted(pm, ino, id, 2), 0);
	o = procmap_get(pm, 1001);
	cr_assert_eq(o->nprocs, 1);
	cr_assert_eq(o->procs[0].pid, 1000);
	cr_assert_eq(procmap_cgroup_hits(pm), 2);
	cr_assert_eq(procmap_full_walks(pm), 0);

	/*
	 * The old nginx cgroup moves away and a new one takes its path: the
	 * indexed path now names another id, which is noticed and rewalked.
	 */
	fpath(path, sizeof(path), "cg 2/system.slice/nginx.service");
	fpath(moved, sizeof(moved), "cg 2/system.slice/nginx.service.old");
	cr_assert_eq(rename(path, moved), 0);
	mk_cgroup("system.slice/nginx.service", "101\n");
	cr_assert_eq(procmap_update_hinted(pm, NULL, NULL, 0), 0);
	cr_assert_eq(procmap_update_hinted(pm, ino, id, 1), 0);
	o = procmap_get(pm, 123);
	cr_assert_eq(o->nprocs, 2, "found at the cgroup's new path");
	cr_assert_eq(procmap_cgroup_hits(pm), 3);
	cr_assert_eq(procmap_full_walks(pm), 0);
	procmap_free(pm);
}

/* Hints that cannot be used: each update falls back to one full walk, and finds the owner. */
Test(procmap_fake, hinted_unusable)
{
	uint32_t ino[2] = { 123, 321 };
	uint64_t id[2] = { UINT64_MAX - 3, UINT64_MAX - 4 };
	struct procmap *pm;
	char text[256];

	build_cgroup_tree();
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	/* Ids that are no cgroup: one index rebuild for both, one walk for both. */
	cr_assert_eq(procmap_update_hinted(pm, ino, id, 2), 0);
	cr_assert_eq(procmap_get(pm, 123)->nprocs, 2);
	cr_assert_eq(procmap_get(pm, 321)->nprocs, 1);
	cr_assert_eq(procmap_cgroup_hits(pm), 0);
	cr_assert_eq(procmap_full_walks(pm), 1);
	procmap_free(pm);

	/* A cgroup whose cgroup.procs cannot be read. */
	fpath(text, sizeof(text), "cg 2/system.slice/nginx.service/cgroup.procs");
	cr_assert_eq(unlink(text), 0);
	id[0] = cg_id("system.slice/nginx.service");
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update_hinted(pm, ino, id, 1), 0);
	cr_assert_eq(procmap_get(pm, 123)->nprocs, 2);
	cr_assert_eq(procmap_cgroup_hits(pm), 0);
	cr_assert_eq(procmap_full_walks(pm), 1);
	procmap_free(pm);

	/* No cgroup2 mount at all (a v1-only host). */
	mk_file("self/mountinfo",
		"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime shared:7 - cgroup cgroup rw,name=systemd\n");
	id[1] = cg_id("system.slice/redis.service");
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update_hinted(pm, ino + 1, id + 1, 1), 0);
	cr_assert_eq(procmap_get(pm, 321)->nprocs, 1);
	cr_assert_eq(procmap_cgroup_hits(pm), 0);
	cr_assert_eq(procmap_full_walks(pm), 1);
	procmap_free(pm);
}

/* A holder that exits between the cgroup listing and the scan is skipped, not an error. */
Test(procmap_fake, hinted_holder_gone)
{
	uint32_t ino = 123;
	uint64_t id;
	struct procmap *pm;

	build_cgroup_tree();
	rm_proc(100);
	id = cg_id("system.slice/nginx.service");
	pm = procmap_new(root);
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update_hinted(pm, &ino, &id, 1), 0);
	cr_assert_eq(procmap_get(pm, 123)->nprocs, 1);
	cr_assert_eq(procmap_get(pm, 123)->procs[0].pid, 101);
	cr_assert_eq(procmap_cgroup_hits(pm), 1);
	procmap_free(pm);
}

/*
 * On the real /proc, with a small budget: a worker that exits leaves every
 * one of its listeners at the next prune, reaped or still a zombie.
 */
Test(procmap, prune_budgeted_sees_an_exit_at_once)
{
	enum { N = 20 };
	struct procmap *pm;
	uint32_t inode[N];
	int fd[N], status;
	pid_t child[2];

	for (int i = 0; i < N; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		struct stat st;

		fd[i] = socket(AF_INET, SOCK_STREAM, 0);
		cr_assert_geq(fd[i], 0);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		cr_assert_eq(bind(fd[i], (struct sockaddr *)&sa, sizeof(sa)), 0);
		cr_assert_eq(listen(fd[i], 4), 0);
		cr_assert_eq(fstat(fd[i], &st), 0);
		inode[i] = (uint32_t)st.st_ino;
	}
	for (int k = 0; k < 2; k++) {
		child[k] = fork();
		cr_assert_geq(child[k], 0);
		if (child[k] == 0) {
			pause();
			_exit(0);
		}
	}
	pm = procmap_new("/proc");
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, inode, N), 0);
	cr_assert_eq(procmap_get(pm, inode[0])->nprocs, 3);
	cr_assert_eq(procmap_prune_exited(pm, 1), 0, "nobody gone yet");

	/* Reaped: the process is gone. */
	kill(child[0], SIGKILL);
	cr_assert_eq(waitpid(child[0], &status, 0), child[0]);
	cr_assert_eq(procmap_prune_exited(pm, 1), N, "every listener of the reaped worker, in one call");
	/* A zombie: exited, not reaped yet. */
	kill(child[1], SIGKILL);
	cr_assert_eq(waitid(P_PID, (id_t)child[1], NULL, WEXITED | WNOWAIT), 0);
	cr_assert_eq(procmap_prune_exited(pm, 1), N, "every listener of the zombie, in one call");
	cr_assert_eq(waitpid(child[1], &status, 0), child[1]);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(procmap_get(pm, inode[i])->nprocs, 1);
		cr_assert_eq(procmap_get(pm, inode[i])->procs[0].pid, getpid());
		close(fd[i]);
	}
	procmap_free(pm);
}

/* A pre-fork worker that exits leaves the list; the last one leaving forgets the owner. */
Test(procmap, prune_exited_drops_gone_workers)
{
	struct procmap *pm;
	const struct owner *o;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct stat st;
	pid_t child;
	uint32_t inode;
	int fd, status;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, 4), 0);
	cr_assert_eq(fstat(fd, &st), 0);
	inode = (uint32_t)st.st_ino;
	child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	pm = procmap_new("/proc");
	cr_assert_not_null(pm);
	cr_assert_eq(procmap_update(pm, &inode, 1), 0);
	o = procmap_get(pm, inode);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, 2);
	cr_assert_eq(procmap_prune_exited(pm, 0), 0, "nobody left yet");

	kill(child, SIGKILL);
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert_eq(procmap_prune_exited(pm, 0), 1);
	o = procmap_get(pm, inode);
	cr_assert_not_null(o);
	cr_assert_eq(o->nprocs, 1);
	cr_assert_eq(o->procs[0].pid, getpid());
	procmap_free(pm);
	close(fd);
}
