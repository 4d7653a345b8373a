/* test_netstat_layout.c: the re-read of netstat and snmp with the last headers: values parsed into place, and anything else falling back to a whole read. */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "netstat.h"
#include "procfile.h"

#define PROC_FIXTURES FIXTURES "/proc"

#define NETSTAT_A "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 14 14\n" \
		  "IpExt: InNoRoutes InOctets\nIpExt: 0 1512\n"
#define SNMP_A    "Tcp: RtoAlgorithm MaxConn ActiveOpens\nTcp: 1 -1 10\n"

static struct counters c;

static void setup(void)
{
	counters_init(&c);
}

static void teardown(void)
{
	counters_free(&c);
}

TestSuite(netstat_layout, .init = setup, .fini = teardown);

/* A whole read of the two texts, as netstat_read_each makes it. */
static void whole_read(const char *netstat, const char *snmp)
{
	counters_clear(&c);
	netstat_layout_drop(&c);
	cr_assert_eq(netstat_parse(netstat, strlen(netstat), &c), 0);
	cr_assert_eq(netstat_layout_note(&c, 0, netstat, strlen(netstat)), 0);
	cr_assert_eq(netstat_parse(snmp, strlen(snmp), &c), 0);
	cr_assert_eq(netstat_layout_note(&c, 1, snmp, strlen(snmp)), 0);
	cr_assert_eq(netstat_layout_finish(&c), 0);
}

static int64_t get(const char *name)
{
	int64_t v = 0;

	cr_assert(counters_get(&c, name, &v), "%s missing", name);
	return v;
}

Test(netstat_layout, same_headers_new_values_go_into_place)
{
	whole_read(NETSTAT_A, SNMP_A);
	cr_assert(c.layout.valid);
	cr_assert(netstat_layout_update(&c, 0, "TcpExt: SyncookiesSent ListenOverflows ListenDrops\n"
					       "TcpExt: 3 99 120\nIpExt: InNoRoutes InOctets\nIpExt: 0 9999999999999\n",
					strlen("TcpExt: SyncookiesSent ListenOverflows ListenDrops\n"
					       "TcpExt: 3 99 120\nIpExt: InNoRoutes InOctets\nIpExt: 0 9999999999999\n")));
	cr_assert(netstat_layout_update(&c, 1, "Tcp: RtoAlgorithm MaxConn ActiveOpens\nTcp: 1 -1 77\n",
					strlen("Tcp: RtoAlgorithm MaxConn ActiveOpens\nTcp: 1 -1 77\n")));
	cr_assert_eq(c.count, 8);
	cr_assert_eq(get("TcpExt.SyncookiesSent"), 3);
	cr_assert_eq(get("TcpExt.ListenOverflows"), 99);
	cr_assert_eq(get("TcpExt.ListenDrops"), 120);
	cr_assert_eq(get("IpExt.InOctets"), 9999999999999);
	cr_assert_eq(get("Tcp.MaxConn"), -1);
	cr_assert_eq(get("Tcp.ActiveOpens"), 77);
}

/* Each of these is not the layout: the update says so and a whole read must follow. */
Test(netstat_layout, anything_else_is_refused)
{
	static const char *const bad_netstat[] = {
		/* a field a newer kernel adds */
		"TcpExt: SyncookiesSent ListenOverflows ListenDrops NewOne\nTcpExt: 0 14 14 1\n"
		"IpExt: InNoRoutes InOctets\nIpExt: 0 1512\n",
		/* a value missing, or one too many */
		"TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 14\n"
		"IpExt: InNoRoutes InOctets\nIpExt: 0 1512\n",
		"TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 14 14 5\n"
		"IpExt: InNoRoutes InOctets\nIpExt: 0 1512\n",
		/* a value line netstat_parse would refuse: no blank after the colon */
		"TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt:0 14 14\n"
		"IpExt: InNoRoutes InOctets\nIpExt: 0 1512\n",
		/* not a number, the value line of another prefix */
		"TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 x 14\n"
		"IpExt: InNoRoutes InOctets\nIpExt: 0 1512\n",
		"TcpExt: SyncookiesSent ListenOverflows ListenDrops\nIpExt: 0 14 14\n"
		"IpExt: InNoRoutes InOctets\nIpExt: 0 1512\n",
		/* a pair left out, a value line left out, a cut-off read, nothing */
		"TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 14 14\n",
		"TcpExt: SyncookiesSent ListenOverflows ListenDrops\nIpExt: InNoRoutes InOctets\nIpExt: 0 1512\n",
		"TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 14 14\n"
		"IpExt: InNoRoutes InOctets\nIpExt: 0 15",
		"",
		/* the pairs in another order */
		"IpExt: InNoRoutes InOctets\nIpExt: 0 1512\n"
		"TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 14 14\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad_netstat); i++) {
		whole_read(NETSTAT_A, SNMP_A);
		cr_assert_not(netstat_layout_update(&c, 0, bad_netstat[i], strlen(bad_netstat[i])), "case %zu", i);
	}
	/* Each file against its own headers only. */
	whole_read(NETSTAT_A, SNMP_A);
	cr_assert_not(netstat_layout_update(&c, 1, NETSTAT_A, strlen(NETSTAT_A)));
	cr_assert_not(netstat_layout_update(&c, 2, NETSTAT_A, strlen(NETSTAT_A)));
}

Test(netstat_layout, no_layout_from_a_malformed_or_partial_read)
{
	/* A header without its values: malformed, so the next read is whole again. */
	whole_read("TcpExt: SyncookiesSent ListenOverflows\n" "IpExt: InNoRoutes\nIpExt: 0\n", SNMP_A);
	cr_assert_gt(c.malformed, 0);
	cr_assert_not(c.layout.valid);
	cr_assert_not(netstat_layout_update(&c, 1, SNMP_A, strlen(SNMP_A)));

	/* One file missing (snmp unreadable): no layout either. */
	counters_clear(&c);
	netstat_layout_drop(&c);
	cr_assert_eq(netstat_parse(NETSTAT_A, strlen(NETSTAT_A), &c), 0);
	cr_assert_eq(netstat_layout_note(&c, 0, NETSTAT_A, strlen(NETSTAT_A)), 0);
	cr_assert_eq(netstat_layout_finish(&c), 0);
	cr_assert_not(c.layout.valid);

	/* A name both files hold (the kernel writes none): the first stands, the layout is not kept. */
	whole_read(NETSTAT_A, "TcpExt: ListenDrops\nTcpExt: 5\n");
	cr_assert_not(c.layout.valid);
}

/* Copy a recorded proc root's net/netstat and net/snmp into dir. */
static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "r"), *out = fopen(to, "w");
	size_t n;

	cr_assert(in && out, "%s -> %s", from, to);
	n = fread(buf, 1, sizeof(buf), in);
	cr_assert_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
}

/*
 * Through netstat_read_each, on the recorded files of real kernels: the
 * re-read agrees with a whole read, and a file that changes under it (a
 * newer kernel's) is read whole, its new field kept.
 */
Test(netstat_layout, reads_agree_with_a_whole_read)
{
	char dir[] = "/tmp/backlogd-layout-XXXXXX", net[300], path[400];
	struct counters fresh;
	struct procbuf pb;
	int e1, e2;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(net, sizeof(net), "%s/net", dir);
	cr_assert_eq(mkdir(net, 0755), 0);
	snprintf(path, sizeof(path), "%s/netstat", net);
	copy_file(PROC_FIXTURES "/host/net/netstat", path);
	snprintf(path, sizeof(path), "%s/snmp", net);
	copy_file(PROC_FIXTURES "/host/net/snmp", path);
	procbuf_init(&pb);
	counters_init(&fresh);

	cr_assert_eq(netstat_read_each(dir, &c, &pb, &e1, &e2), 0);
	cr_assert(c.layout.valid, "the recorded files of a real kernel give a layout");
	cr_assert_eq(netstat_read_each(dir, &c, &pb, &e1, &e2), 0);
	cr_assert(netstat_layout_update(&c, 1, pb.p, pb.len), "a re-read takes the values alone");
	cr_assert_eq(netstat_read_buf(dir, &fresh, &pb), 0);
	cr_assert_eq(c.count, fresh.count);
	for (size_t i = 0; i < c.count; i++) {
		cr_assert_str_eq(c.items[i].name, fresh.items[i].name);
		cr_assert_eq(c.items[i].value, fresh.items[i].value, "%s", c.items[i].name);
	}

	/* The kernel is upgraded under us: the new field is read. */
	snprintf(path, sizeof(path), "%s/netstat", net);
	copy_file(PROC_FIXTURES "/newer-kernel/net/netstat", path);
	cr_assert_eq(netstat_read_each(dir, &c, &pb, &e1, &e2), 0);
	cr_assert_eq(get("TcpExt.TCPFutureCounter"), 42);
	cr_assert(c.layout.valid);

	counters_free(&fresh);
	procbuf_free(&pb);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	cr_assert_eq(system(path), 0);
}
