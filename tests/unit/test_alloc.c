/* test_alloc.c: a steady tick allocates nothing: the probes, track, owners, diagnose and findings reuse their buffers. */
#include "base.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "monitor.h"
#include "procfile.h"
#include "netns_fixture.h"
#include "tmp_fixture.h"
#include "oneshot_fixture.h"

/*
 * The link is made with -Wl,--wrap for malloc, calloc, realloc and free:
 * every call to them from an object linked in statically (libbacklog.a,
 * which is the daemon's own code, and this file) comes here first. Shared
 * libraries call the real ones unseen: libmnl and libnl-3's attribute
 * parser (neither allocates in a steady read: test_links.c counts the
 * whole process around links_read), and libc may allocate inside a
 * function we call (glibc's qsort before 2.37 does for an array over
 * 1 KiB, opendir always). None is counted here; bench/tickbench, which
 * replaces malloc for the whole process, counts them all.
 */
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void __wrap_free(void *p);

/* The distinct calling sites counted, to name them when the test fails. */
#define SITES_KEPT 16

struct site {
	const void *ret;        /* the return address into the caller */
	const char *fn;         /* "malloc", "calloc", "realloc" */
	unsigned n;
};

static struct {
	bool on;
	unsigned allocs;
	unsigned frees;
	struct site site[SITES_KEPT];
	size_t n_sites;
} count;

static void count_alloc(const char *fn, const void *ret)
{
	size_t i;

	if (!count.on)
		return;
	count.allocs++;
	for (i = 0; i < count.n_sites; i++)
		if (count.site[i].ret == ret) {
			count.site[i].n++;
			return;
		}
	if (count.n_sites < SITES_KEPT)
		count.site[count.n_sites++] = (struct site){ ret, fn, 1 };
}

void *__wrap_malloc(size_t size)
{
	count_alloc("malloc", __builtin_return_address(0));
	return __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
	count_alloc("calloc", __builtin_return_address(0));
	return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
	count_alloc("realloc", __builtin_return_address(0));
	return __real_realloc(p, size);
}

void __wrap_free(void *p)
{
	if (count.on && p)
		count.frees++;
	__real_free(p);
}

static void count_start(void)
{
	memset(&count, 0, sizeof(count));
	count.on = true;
}

static void count_stop(void)
{
	count.on = false;
}

/*
 * Fail naming where the allocations came from, as offsets into this
 * program: `addr2line -f -i -e tests/unit/test_alloc OFFSET` gives the line.
 */
static void assert_none_counted(unsigned ticks)
{
	char where[SITES_KEPT * 48] = "";
	size_t used = 0;

	for (size_t i = 0; i < count.n_sites; i++) {
		const struct site *st = &count.site[i];
		uintptr_t off = (uintptr_t)st->ret;
		Dl_info di;
		int n;

		if (dladdr(st->ret, &di) && di.dli_fbase)
			off -= (uintptr_t)di.dli_fbase;
		/* The call is the instruction before the return address. */
		n = snprintf(where + used, sizeof(where) - used, " %ux %s@%#lx", st->n, st->fn,
			     (unsigned long)(off - 1));
		if (n < 0 || (size_t)n >= sizeof(where) - used)
			break;
		used += (size_t)n;
	}
	cr_assert_eq(count.allocs, 0, "%u allocations in %u steady ticks, from:%s",
		     count.allocs, ticks, where);
	cr_assert_eq(count.frees, 0, "%u frees in %u steady ticks", count.frees, ticks);
}

/* ---- the reusable read buffer, on files of our own ---- */


/* A file of n bytes, each one its offset's letter, so a stale or shifted byte shows. */
static void write_file(const char *name, size_t n)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	f = fopen(path, "we");
	cr_assert_not_null(f, "%s", path);
	for (size_t i = 0; i < n; i++)
		cr_assert_neq(fputc('a' + (int)(i % 26), f), EOF);
	cr_assert_eq(fclose(f), 0);
}

static bool holds_pattern(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 'a' + (int)(i % 26))
			return false;
	return true;
}

/*
 * A buffer grown for a large file reads smaller ones in place, with no
 * allocation; each read's own cap still holds however large the buffer
 * has grown, and a failure keeps the memory.
 */
Test(procbuf, keeps_memory_and_each_cap, .init = tmp_setup, .fini = tmp_teardown)
{
	struct procbuf pb;
	char *mem;
	size_t cap;

	write_file("big", 20000);
	write_file("small", 100);
	write_file("f31", 31);
	write_file("f32", 32);
	procbuf_init(&pb);
	cr_assert_eq(procfile_read_buf(tmp, "big", SIZE_MAX, &pb), 0);
	cr_assert_eq(pb.len, 20000);
	cr_assert(holds_pattern(pb.p, pb.len));
	mem = pb.p;
	cap = pb.cap;
	cr_assert_geq(cap, 20000);

	count_start();
	cr_assert_eq(procfile_read_buf(tmp, "small", SIZE_MAX, &pb), 0);
	cr_assert_eq(pb.len, 100);
	cr_assert(holds_pattern(pb.p, pb.len));
	cr_assert_eq(procfile_read_buf(tmp, "f31", 32, &pb), 0);
	cr_assert_eq(pb.len, 31);
	cr_assert_eq(procfile_read_buf(tmp, "f32", 32, &pb), -EFBIG, "the cap is 32, not the buffer's");
	cr_assert_eq(pb.len, 0);
	cr_assert_eq(procfile_read_buf(tmp, "big", 8192, &pb), -EFBIG);
	cr_assert_eq(procfile_read_buf(tmp, "missing", 64, &pb), -ENOENT);
	cr_assert_eq(procfile_read_buf(tmp, "f31", 0, &pb), -EINVAL);
	cr_assert_eq(procfile_read_buf(tmp, "big", SIZE_MAX, &pb), 0);
	cr_assert(holds_pattern(pb.p, pb.len));
	count_stop();
	cr_assert_eq(pb.len, 20000);
	cr_assert_eq(pb.p, mem);
	cr_assert_eq(pb.cap, cap);
	assert_none_counted(0);
	procbuf_free(&pb);
	cr_assert_null(pb.p);
	cr_assert_eq(pb.cap, 0);
	procbuf_free(&pb);  /* twice is harmless */
}

/* The caller's buffer is the cap: size - 1 bytes read, size are refused, nothing allocated. */
Test(procbuf, fixed_never_allocates, .init = tmp_setup, .fini = tmp_teardown)
{
	char buf[32];
	size_t len = 12345;

	write_file("f31", 31);
	write_file("f32", 32);
	count_start();
	cr_assert_eq(procfile_read_fixed(tmp, "f31", buf, sizeof(buf), &len), 0);
	cr_assert_eq(len, 31);
	cr_assert(holds_pattern(buf, len));
	len = 12345;
	cr_assert_eq(procfile_read_fixed(tmp, "f32", buf, sizeof(buf), &len), -EFBIG);
	cr_assert_eq(procfile_read_fixed(tmp, "missing", buf, sizeof(buf), &len), -ENOENT);
	cr_assert_eq(procfile_read_fixed(tmp, "f31", buf, 0, &len), -EINVAL);
	count_stop();
	cr_assert_eq(len, 12345, "set only on success");
	assert_none_counted(0);
}

#define PROC_HOST FIXTURES "/proc/host"

/*
 * The /proc readers through one reused buffer read what the plain ones
 * read, and a second round allocates nothing: not the buffer, not the
 * counters' merge, not the sysctls.
 */
Test(procbuf, readers_match_and_reuse)
{
	struct counters want_c, c;
	struct sockstat want_ss, ss;
	struct conntrack_stat want_ct, ct;
	struct limits want_lim, lim;
	struct procbuf pb;
	int r[3];

	counters_init(&want_c);
	counters_init(&c);
	procbuf_init(&pb);
	cr_assert_eq(netstat_read(PROC_HOST, &want_c), 0);
	cr_assert_eq(sockstat_read(PROC_HOST, &want_ss), 0);
	cr_assert_eq(conntrack_read(PROC_HOST, &want_ct), 0);
	sysctl_read_limits(PROC_HOST, &want_lim);

	for (int round = 0; round < 2; round++) {
		if (round == 1)
			count_start();
		memset(&ss, 0x5a, sizeof(ss));
		memset(&ct, 0x5a, sizeof(ct));
		r[0] = netstat_read_buf(PROC_HOST, &c, &pb);
		r[1] = sockstat_read_buf(PROC_HOST, &ss, &pb);
		r[2] = conntrack_read2_buf(PROC_HOST, PROC_HOST, &ct, &pb);
		sysctl_read_limits(PROC_HOST, &lim);
		count_stop();
		for (int i = 0; i < 3; i++)
			cr_assert_eq(r[i], 0, "round %d reader %d: %d", round, i, r[i]);
		cr_assert_gt(c.count, 100);
		cr_assert_eq(c.count, want_c.count);
		cr_assert_eq(c.malformed, want_c.malformed);
		for (size_t i = 0; i < c.count; i++) {
			cr_assert_str_eq(c.items[i].name, want_c.items[i].name);
			cr_assert_eq(c.items[i].value, want_c.items[i].value, "%s", c.items[i].name);
		}
		cr_assert_eq(ss.tcp_inuse, want_ss.tcp_inuse);
		cr_assert_eq(ss.tcp_mem, want_ss.tcp_mem);
		cr_assert_eq(ss.tcp6_inuse, want_ss.tcp6_inuse);
		cr_assert_eq(ss.malformed, want_ss.malformed);
		cr_assert_eq(ct.present, want_ct.present);
		cr_assert_eq(ct.count, want_ct.count);
		cr_assert_eq(ct.drop, want_ct.drop);
		cr_assert_eq(ct.insert_failed, want_ct.insert_failed);
		cr_assert_eq(memcmp(&lim, &want_lim, sizeof(lim)), 0);
	}
	assert_none_counted(1);
	procbuf_free(&pb);
	counters_free(&c);
	counters_free(&want_c);
}

/* ---- a namespace of our own with ~50 listeners ---- */

#define N_V4 48
#define N_V6 2
#define N_LISTEN (N_V4 + N_V6)
#define PORT0 20000
#define BACKLOG 128
#define WARMUP_TICKS 5
#define STEADY_TICKS 20
/* The deep tier runs every few ticks in the measured ones too: it must not allocate either. */
#define DEEP_EVERY 4

static int listen_fd[N_LISTEN];
static int client_fd[2] = { -1, -1 };
static int accepted_fd = -1;

static int listen_v4(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0, "bind %u: %s", port, strerror(errno));
	cr_assert_eq(listen(fd, BACKLOG), 0);
	return fd;
}

/* Return: the listener, or -1 on a kernel without IPv6. */
static int listen_v6(uint16_t port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int one = 1, fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 && errno == EAFNOSUPPORT)
		return -1;
	cr_assert(fd >= 0);
	a.sin6_addr = in6addr_any;
	cr_assert_eq(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)), 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0, "bind [::]:%u: %s", port,
		     strerror(errno));
	cr_assert_eq(listen(fd, BACKLOG), 0);
	return fd;
}

/* A client of 127.0.0.1:port that has sent data nobody reads. */
static int client_with_data(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	static const char data[4096];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0, "%s", strerror(errno));
	cr_assert_eq(send(fd, data, sizeof(data), 0), (ssize_t)sizeof(data));
	return fd;
}

/*
 * The listeners; one client left in the first listener's accept queue (a
 * queue of 1 to read back), and one accepted by the second whose data is
 * not read: a socket of ours holding memory, so the deep tier has a top
 * holder. Return: how many listeners there are.
 */
static size_t make_listeners(void)
{
	size_t n = 0;

	enter_netns();
	for (int i = 0; i < N_V4; i++)
		listen_fd[n++] = listen_v4((uint16_t)(PORT0 + i));
	for (int i = 0; i < N_V6; i++) {
		int fd = listen_v6((uint16_t)(PORT0 + N_V4 + i));

		if (fd >= 0)
			listen_fd[n++] = fd;
	}
	client_fd[0] = client_with_data(PORT0);
	client_fd[1] = client_with_data(PORT0 + 1);
	accepted_fd = accept4(listen_fd[1], NULL, NULL, SOCK_CLOEXEC);
	cr_assert(accepted_fd >= 0, "accept: %s", strerror(errno));
	return n;
}

static const struct listener *find_port(const struct listener_set *set, uint16_t port)
{
	for (size_t i = 0; i < set->count; i++)
		if (set->items[i].port == port)
			return &set->items[i];
	return NULL;
}

/* What every tick must still see, allocation or not. */
static void assert_tick_data(const struct listener_set *dump, const struct track *t,
			     const struct counters *c, const struct limits *lim,
			     const struct sockstat *ss, size_t n_listen)
{
	const struct listener *first = find_port(dump, PORT0);
	int64_t v;

	cr_assert_eq(dump->count, n_listen, "listeners %zu, want %zu", dump->count, n_listen);
	cr_assert_eq(t->count, n_listen);
	for (size_t i = 0; i < n_listen; i++) {
		const struct listener *l = find_port(dump, (uint16_t)(PORT0 + i));

		cr_assert_not_null(l, "port %zu missing", PORT0 + i);
		cr_assert_eq(l->family, i < N_V4 ? AF_INET : AF_INET6, "port %zu", PORT0 + i);
		cr_assert_eq(l->backlog, BACKLOG);
		cr_assert_not_null(track_find(t, l->cookie));
	}
	cr_assert_not_null(first);
	cr_assert_eq(first->queue, 1, "the client waits in the first accept queue");
	cr_assert(counters_get(c, "TcpExt.ListenOverflows", &v));
	cr_assert(counters_get(c, "Tcp.OutRsts", &v));
	cr_assert(counters_get(c, "Tcp.CurrEstab", &v) && v >= 1, "Tcp.CurrEstab %" PRId64, v);
	cr_assert(track_host_delta(t, "TcpExt.ListenOverflows", &v) && v == 0);
	cr_assert(lim->somaxconn > 0);
	cr_assert(lim->port_range_lo > 0 && lim->port_range_hi >= lim->port_range_lo);
	cr_assert(ss->tcp_inuse >= (int64_t)n_listen, "TCP inuse %" PRId64, ss->tcp_inuse);
	cr_assert_eq(t->ticks, WARMUP_TICKS + STEADY_TICKS);
}

/*
 * The parts of monitor_tick, called as it calls them, with the reusable
 * buffers: the probes fill one sample, track takes it, diagnose reads track.
 */
struct parts {
	struct config cfg;
	struct sockdiag *sd;
	struct procmap *pm;
	struct links *links;
	struct procbuf pb;
	struct listener_set dump;
	struct counters counters;
	struct limits limits;
	struct sockstat sockstat;
	struct conntrack_stat conntrack;
	struct link_table link_table;
	struct deep_sample deep;
	bool deep_ran;
	unsigned deep_runs;
	struct track track;
	struct finding_list firing;
	struct finding_table findings;
	uint32_t inodes[N_LISTEN + DEEP_TOP_HOLDERS];
	uint64_t cgroup_ids[N_LISTEN + DEEP_TOP_HOLDERS];
	const struct owner *owners[N_LISTEN];
};

static int parts_tick(struct parts *p, int64_t now_ms)
{
	struct track *t = &p->track;
	struct tick_sample s = { .listeners = &p->dump, .counters = &p->counters, .limits = &p->limits,
				 .sockstat = &p->sockstat, .conntrack = &p->conntrack,
				 .links = &p->link_table };
	size_t i, n = 0;
	int r;

	r = sockdiag_dump_listeners(p->sd, &p->dump);
	if (r < 0)
		return r;
	if (netstat_read_buf("/proc", &p->counters, &p->pb) < 0)
		counters_clear(&p->counters);
	sysctl_read_limits("/proc", &p->limits);
	sockstat_read_buf("/proc", &p->sockstat, &p->pb);
	conntrack_read2_buf("/proc", "/proc", &p->conntrack, &p->pb);
	if (!p->links || links_read(p->links, &p->link_table) < 0)
		p->link_table.count = 0;
	p->deep_ran = (t->ticks + 1) % DEEP_EVERY == 0 &&
		      sockdiag_dump_deep(p->sd, &p->deep, p->limits.port_range_lo,
					 p->limits.port_range_hi) == 0;
	p->deep_runs += p->deep_ran;
	s.deep = p->deep_ran ? &p->deep : NULL;
	/*
	 * As monitor.c's read_owners: the prune every tick (its
	 * MONITOR_PRUNE_CHECKS), procmap asked only when the listeners
	 * changed (it allocates for the ask), the owners looked up again
	 * only then or when procmap moved them.
	 */
	procmap_prune_exited(p->pm, 8);
	if (!track_same_listeners(t, &p->dump)) {
		for (i = 0; i < p->dump.count && n < N_LISTEN; i++) {
			p->cgroup_ids[n] = p->dump.items[i].cgroup_id;
			p->inodes[n++] = p->dump.items[i].inode;
		}
		r = procmap_update_hinted(p->pm, p->inodes, p->cgroup_ids, n);
		if (r < 0)
			return r;
		for (i = 0; i < p->dump.count && i < N_LISTEN; i++)
			p->owners[i] = procmap_get(p->pm, p->dump.items[i].inode);
		s.owners = p->owners;
	}
	r = track_tick(t, &s, now_ms);
	if (r < 0)
		return r;
	r = diagnose(t, &p->cfg.thr, &p->firing);
	if (r < 0)
		return r;
	return findings_update(&p->findings, &p->firing, now_ms / 1000, p->cfg.quiet_secs, NULL, NULL);
}

/*
 * The probes, track, owners, diagnose and findings as monitor_tick runs
 * them: after a warm-up, 20 ticks over a namespace where nothing changes
 * allocate nothing, and still read every listener and counter.
 */
Test(alloc, steady_tick_parts)
{
	static struct parts p;
	int rc[STEADY_TICKS];
	size_t n_listen = make_listeners();
	const struct listener *first;
	const struct owner *o;
	unsigned long walks;
	int64_t now_ms = 1000;

	config_defaults(&p.cfg);
	procbuf_init(&p.pb);
	listener_set_init(&p.dump);
	counters_init(&p.counters);
	track_init(&p.track);
	deep_sample_init(&p.deep);
	finding_list_init(&p.firing);
	findings_init(&p.findings, 64);
	cr_assert_eq(sockdiag_open(&p.sd), 0);
	p.pm = procmap_new("/proc");
	cr_assert_not_null(p.pm);
	cr_assert_eq(links_open(&p.links), 0);

	for (int i = 0; i < WARMUP_TICKS; i++, now_ms += 1000)
		cr_assert_eq(parts_tick(&p, now_ms), 0);
	p.deep_runs = 0;
	walks = procmap_full_walks(p.pm);
	count_start();
	for (int i = 0; i < STEADY_TICKS; i++, now_ms += 1000)
		rc[i] = parts_tick(&p, now_ms);
	count_stop();
	walks = procmap_full_walks(p.pm) - walks;

	for (int i = 0; i < STEADY_TICKS; i++)
		cr_assert_eq(rc[i], 0, "steady tick %d: %s", i, strerror(-rc[i]));
	assert_none_counted(STEADY_TICKS);
	cr_assert_eq(walks, 0, "no owner was looked for again");
	assert_tick_data(&p.dump, &p.track, &p.counters, &p.limits, &p.sockstat, n_listen);
	cr_assert_eq(p.deep_runs, STEADY_TICKS / DEEP_EVERY);
	first = find_port(&p.dump, PORT0);
	cr_assert_not_null(first);
	o = procmap_get(p.pm, first->inode);
	cr_assert(o && o->nprocs > 0 && o->procs[0].pid == getpid(), "the listener's owner is us");
	/*
	 * The deep tier found the holders, and nobody walked /proc for their
	 * owners: that is done only while TCP memory is short (tcp-memory.sh
	 * checks the names it then gives).
	 */
	cr_assert_gt(p.deep.n_holders, 0);
	for (size_t i = 0; i < p.deep.n_holders; i++)
		cr_assert_null(procmap_get(p.pm, p.deep.holders[i].inode), "holder %zu looked up", i);
	cr_assert_eq(p.firing.count, 0, "nothing is wrong here");

	links_close(p.links);
	procmap_free(p.pm);
	sockdiag_close(p.sd);
	findings_free(&p.findings);
	finding_list_free(&p.firing);
	deep_sample_free(&p.deep);
	track_free(&p.track);
	counters_free(&p.counters);
	listener_set_free(&p.dump);
	procbuf_free(&p.pb);
}

/*
 * The link probe on its own: its receive buffer is allocated by links_open,
 * and every read after that, the first included, reuses it.
 */
Test(alloc, links_read_steady)
{
	struct link_table t;
	struct links *lk;
	int rc[STEADY_TICKS];

	enter_netns();
	cr_assert_eq(links_open(&lk), 0);
	count_start();
	for (int i = 0; i < STEADY_TICKS; i++)
		rc[i] = links_read(lk, &t);
	count_stop();
	for (int i = 0; i < STEADY_TICKS; i++)
		cr_assert_eq(rc[i], 0, "read %d: %s", i, strerror(-rc[i]));
	assert_none_counted(STEADY_TICKS);
	cr_assert_geq(t.count, 1);
	cr_assert_eq(t.items[0].ifindex, 1);
	cr_assert_str_eq(t.items[0].name, "lo");
	links_close(lk);
}

/*
 * The same through monitor_tick itself: monitor.c reads /proc through a
 * procbuf of its own, and asks procmap nothing while the sockets stay the
 * same (the deep tier's holders only while TCP memory is short).
 */
static void steady_monitor_ticks(unsigned listener_refresh_ms)
{
	static struct monitor m;
	struct config cfg;
	int rc[STEADY_TICKS];
	size_t n_listen = make_listeners();
	unsigned long walks;
	int64_t now_ms = 1000;

	config_defaults(&cfg);
	cfg.deep_every_ticks = DEEP_EVERY;
	cfg.listener_refresh_ms = listener_refresh_ms;
	cr_assert_eq(monitor_init(&m, &cfg, "/proc"), 0);
	for (int i = 0; i < WARMUP_TICKS; i++, now_ms += 1000)
		cr_assert_eq(monitor_tick(&m, now_ms, NULL, NULL), 0);
	walks = procmap_full_walks(m.pm);
	count_start();
	for (int i = 0; i < STEADY_TICKS; i++, now_ms += 1000)
		rc[i] = monitor_tick(&m, now_ms, NULL, NULL);
	count_stop();
	walks = procmap_full_walks(m.pm) - walks;

	for (int i = 0; i < STEADY_TICKS; i++)
		cr_assert_eq(rc[i], 0, "steady tick %d: %s", i, strerror(-rc[i]));
	assert_none_counted(STEADY_TICKS);
	cr_assert_eq(walks, 0, "no owner was looked for again");
	assert_tick_data(&m.dump, &m.track, &m.counters, &m.limits, &m.sockstat, n_listen);
	cr_assert_gt(m.deep_runs, 0);
	cr_assert_eq(m.firing.count, 0, "nothing is wrong here");
	monitor_done(&m);
}

/* Every tick dumps the listeners ([daemon] listener_refresh = 0). */
Test(alloc, steady_monitor_tick)
{
	steady_monitor_ticks(0);
}

/* The default: ticks that dump and ticks that carry the listeners (as the host's sockets come and go). */
Test(alloc, steady_monitor_tick_quiet)
{
	steady_monitor_ticks(30000);
}
