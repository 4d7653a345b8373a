/* test_netstat.c: netstat/snmp parser against recorded kernel files and malformed variants of them. */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "netstat.h"
#include "oneshot_fixture.h"

#define PROC_FIXTURES FIXTURES "/proc"

/* Pieces of the real files (tests/fixtures/proc/overflow), cut down. */
#define TCPEXT_HDR "TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops\n"
#define TCPEXT_VAL "TcpExt: 0 0 14 14\n"
#define TCP_HDR    "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens\n"
#define TCP_VAL    "Tcp: 1 200 120000 -1 10\n"
#define IPEXT_HDR  "IpExt: InNoRoutes InOctets OutOctets\n"
#define IPEXT_VAL  "IpExt: 0 1512 1512\n"

static struct counters c;

static void setup(void)
{
	counters_init(&c);
}

static void teardown(void)
{
	counters_free(&c);
}

TestSuite(netstat, .init = setup, .fini = teardown);

static int parse_str(const char *s)
{
	return netstat_parse(s, strlen(s), &c);
}

static int64_t get(const char *name)
{
	int64_t v = 0;

	cr_assert(counters_get(&c, name, &v), "%s missing", name);
	return v;
}

static bool has(const char *name)
{
	return counters_get(&c, name, NULL);
}

static void assert_sorted(void)
{
	for (size_t i = 1; i < c.count; i++)
		cr_assert(strcmp(c.items[i - 1].name, c.items[i].name) < 0,
			  "not strictly sorted at %zu: %s, %s", i,
			  c.items[i - 1].name, c.items[i].name);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_geq(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/*
 * An independent reading of a recorded file: split pairs with strtok_r and
 * check that every field is in c with the same value. Return: field count.
 */
static size_t check_every_field(const char *path)
{
	size_t len, n = 0;
	char *text = slurp(path, &len), *save = NULL, *hdr, *val;

	for (hdr = strtok_r(text, "\n", &save); hdr; hdr = strtok_r(NULL, "\n", &save)) {
		char *hs = NULL, *vs = NULL, *name, *num, *prefix;

		val = strtok_r(NULL, "\n", &save);
		cr_assert_not_null(val, "%s: odd number of lines", path);
		prefix = strtok_r(hdr, ": ", &hs);
		cr_assert_str_eq(prefix, strtok_r(val, ": ", &vs));
		while ((name = strtok_r(NULL, " ", &hs)) != NULL) {
			char full[COUNTER_NAME_MAX * 2];

			num = strtok_r(NULL, " ", &vs);
			cr_assert_not_null(num);
			snprintf(full, sizeof(full), "%s.%s", prefix, name);
			cr_assert_eq(get(full), strtoll(num, NULL, 10), "%s", full);
			n++;
		}
		cr_assert_null(strtok_r(NULL, " ", &vs), "%s: more values than names", prefix);
	}
	free(text);
	return n;
}

Test(netstat, overflow_fixture)
{
	cr_assert_eq(netstat_read(PROC_FIXTURES "/overflow", &c), 0);
	cr_assert_eq(c.malformed, 0);
	/* 135 TcpExt + 18 IpExt + 76 MPTcpExt; 20 Ip + 29 Icmp + 15 Tcp + 9 Udp + 9 UdpLite */
	cr_assert_eq(c.count, 229 + 82);
	cr_assert_eq(get("TcpExt.ListenOverflows"), 14);
	cr_assert_eq(get("TcpExt.ListenDrops"), 14);
	cr_assert_eq(get("TcpExt.TCPSynRetrans"), 7);
	cr_assert_eq(get("TcpExt.TCPReqQFullDrop"), 0);
	cr_assert_eq(get("IpExt.InOctets"), 1512);
	cr_assert_eq(get("MPTcpExt.WinProbe"), 0);
	cr_assert_eq(get("Tcp.MaxConn"), -1);
	cr_assert_eq(get("Tcp.ActiveOpens"), 10);
	cr_assert_eq(get("Tcp.RtoMax"), 120000);
	/* IcmpMsg lists only the types seen: a fresh namespace has none, so no pair. */
	cr_assert_not(has("IcmpMsg.InType3"));
	cr_assert_eq(get("UdpLite.MemErrors"), 0);
	assert_sorted();
}

Test(netstat, host_fixture)
{
	cr_assert_eq(netstat_read(PROC_FIXTURES "/host", &c), 0);
	cr_assert_eq(c.malformed, 0);
	cr_assert_eq(get("IcmpMsg.InType3"), 1);
	cr_assert_eq(get("Tcp.MaxConn"), -1);
	cr_assert_eq(get("TcpExt.ListenOverflows"), 0);
}

Test(netstat, every_recorded_field)
{
	static const char *const roots[] = { "host", "overflow", "newer-kernel" };

	for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
		char root[512], path[600];
		size_t n;

		snprintf(root, sizeof(root), "%s/%s", PROC_FIXTURES, roots[i]);
		cr_assert_eq(netstat_read(root, &c), 0, "%s", root);
		cr_assert_eq(c.malformed, 0, "%s", root);
		snprintf(path, sizeof(path), "%s/net/netstat", root);
		n = check_every_field(path);
		snprintf(path, sizeof(path), "%s/net/snmp", root);
		n += check_every_field(path);
		cr_assert_eq(c.count, n, "%s: %zu parsed, %zu in the files", root, c.count, n);
		assert_sorted();
	}
}

/* A field a newer kernel adds must be kept, not dropped as unknown. */
Test(netstat, newer_kernel_field_kept)
{
	cr_assert_eq(netstat_read(PROC_FIXTURES "/newer-kernel", &c), 0);
	cr_assert_eq(c.malformed, 0);
	cr_assert_eq(c.count, 229 + 82 + 1);
	cr_assert_eq(get("TcpExt.TCPFutureCounter"), 42);
	cr_assert_eq(get("TcpExt.TCPAODroppedIcmps"), 0);
	cr_assert_eq(get("TcpExt.ListenOverflows"), 14);
}

Test(netstat, live_proc)
{
	cr_assert_eq(netstat_read("/proc", &c), 0);
	cr_assert_eq(c.malformed, 0);
	cr_assert(has("TcpExt.ListenOverflows"));
	cr_assert(has("TcpExt.ListenDrops"));
	cr_assert_eq(get("Tcp.MaxConn"), -1);
	assert_sorted();
}

Test(netstat, missing_root)
{
	cr_assert_eq(netstat_read("/nonexistent/backlogd", &c), -ENOENT);
	cr_assert_eq(c.count, 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fputs(text, f) >= 0, true);
	cr_assert_eq(fclose(f), 0);
}

/* One readable file is still a result; the previous contents are cleared. */
Test(netstat, only_snmp)
{
	char root[] = "/tmp/backlogd-netstat-XXXXXX", path[256];

	cr_assert_not_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/net", root);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/net/snmp", root);
	write_file(path, TCP_HDR TCP_VAL);

	cr_assert_eq(parse_str(TCPEXT_HDR TCPEXT_VAL "garbage\n"), 0);
	cr_assert_eq(c.malformed, 1);
	cr_assert_eq(netstat_read(root, &c), 0);
	cr_assert_eq(c.count, 5);
	cr_assert_eq(c.malformed, 0);
	cr_assert_not(has("TcpExt.ListenDrops"));
	cr_assert_eq(get("Tcp.MaxConn"), -1);

	unlink(path);
	snprintf(path, sizeof(path), "%s/net", root);
	rmdir(path);
	rmdir(root);
}

Test(netstat, well_formed_pairs_append_sorted)
{
	cr_assert_eq(parse_str(TCPEXT_HDR TCPEXT_VAL IPEXT_HDR IPEXT_VAL), 0);
	cr_assert_eq(parse_str(TCP_HDR TCP_VAL), 0);
	cr_assert_eq(c.malformed, 0);
	cr_assert_eq(c.count, 4 + 3 + 5);
	assert_sorted();
	cr_assert_eq(get("TcpExt.ListenOverflows"), 14);
	cr_assert_eq(get("IpExt.OutOctets"), 1512);
	cr_assert_eq(get("Tcp.RtoAlgorithm"), 1);
	cr_assert_eq(get("Tcp.ActiveOpens"), 10);
}

Test(netstat, empty_input)
{
	cr_assert_eq(netstat_parse("", 0, &c), 0);
	cr_assert_eq(c.count, 0);
	cr_assert_eq(c.malformed, 1);
}

Test(netstat, header_without_values_at_end)
{
	cr_assert_eq(parse_str(TCP_HDR TCP_VAL TCPEXT_HDR), 0);
	cr_assert_eq(c.count, 5);
	cr_assert_eq(c.malformed, 1);
}

/* The header after a lone header is still paired with its own values. */
Test(netstat, header_without_values_in_middle)
{
	cr_assert_eq(parse_str(TCPEXT_HDR TCP_HDR TCP_VAL), 0);
	cr_assert_eq(c.count, 5);
	cr_assert_eq(c.malformed, 1);
	cr_assert_not(has("TcpExt.ListenOverflows"));
}

Test(netstat, prefix_mismatch)
{
	cr_assert_eq(parse_str(TCPEXT_HDR "IpExt: 0 0 14 14\n" IPEXT_HDR IPEXT_VAL), 0);
	cr_assert_eq(c.malformed, 1);
	cr_assert_eq(c.count, 3);
	cr_assert_not(has("TcpExt.ListenOverflows"));
	cr_assert_not(has("IpExt.ListenOverflows"));
	cr_assert_eq(get("IpExt.InOctets"), 1512);
}

Test(netstat, value_line_without_header)
{
	cr_assert_eq(parse_str(TCPEXT_VAL TCP_HDR TCP_VAL), 0);
	cr_assert_eq(c.malformed, 1);
	cr_assert_eq(c.count, 5);
}

/* A count mismatch could shift every column: the whole pair goes. */
Test(netstat, count_mismatch)
{
	cr_assert_eq(parse_str(TCPEXT_HDR "TcpExt: 0 0 14\n" TCP_HDR TCP_VAL), 0);
	cr_assert_eq(parse_str(TCPEXT_HDR "TcpExt: 0 0 14 14 7\n"), 0);
	cr_assert_eq(c.malformed, 2);
	cr_assert_eq(c.count, 5);
	cr_assert_not(has("TcpExt.SyncookiesSent"));
}

Test(netstat, non_numeric_values)
{
	static const char *const bad[] = {
		"TcpExt: 0 0 x 14\n", "TcpExt: 0 0 14abc 14\n", "TcpExt: 0 0 0x10 14\n",
		"TcpExt: 0 0 +5 14\n", "TcpExt: 0 0 --1 14\n", "TcpExt: 0 0 - 14\n",
		"TcpExt: 0 0 1.5 14\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[256];

		snprintf(text, sizeof(text), "%s%s%s", TCPEXT_HDR, bad[i], TCP_HDR TCP_VAL);
		counters_clear(&c);
		cr_assert_eq(parse_str(text), 0);
		cr_assert_eq(c.malformed, 1, "%s", bad[i]);
		cr_assert_eq(c.count, 5, "%s", bad[i]);
		cr_assert_not(has("TcpExt.SyncookiesSent"), "%s", bad[i]);
	}
}

/* "TcpExt." is 7 bytes: a 56-byte field name just fits COUNTER_NAME_MAX - 1. */
Test(netstat, overlong_name_rejects_that_field)
{
	char fits[57], toolong[58], text[512], key[80];

	memset(fits, 'F', sizeof(fits) - 1);
	fits[sizeof(fits) - 1] = '\0';
	memset(toolong, 'L', sizeof(toolong) - 1);
	toolong[sizeof(toolong) - 1] = '\0';
	snprintf(text, sizeof(text), "TcpExt: ListenOverflows %s %s ListenDrops\nTcpExt: 14 1 2 15\n",
		 fits, toolong);
	cr_assert_eq(parse_str(text), 0);
	cr_assert_eq(c.malformed, 1);
	cr_assert_eq(c.count, 3);
	cr_assert_eq(get("TcpExt.ListenOverflows"), 14);
	cr_assert_eq(get("TcpExt.ListenDrops"), 15);
	snprintf(key, sizeof(key), "TcpExt.%s", fits);
	cr_assert_eq(strlen(key), COUNTER_NAME_MAX - 1);
	cr_assert_eq(get(key), 1);
	snprintf(key, sizeof(key), "TcpExt.%s", toolong);
	cr_assert_not(has(key));
}

/* A last line without a newline is a cut-off read: its digits may be cut too. */
Test(netstat, missing_trailing_newline)
{
	cr_assert_eq(parse_str(IPEXT_HDR IPEXT_VAL TCP_HDR "Tcp: 1 200 120000 -1 10"), 0);
	cr_assert_eq(c.count, 3);
	cr_assert_eq(c.malformed, 2);
	cr_assert_not(has("Tcp.ActiveOpens"));
}

Test(netstat, nul_byte)
{
	static const char text[] = TCP_HDR "Tcp: 1 200\0 120000 -1 10\n" IPEXT_HDR IPEXT_VAL;

	cr_assert_eq(netstat_parse(text, sizeof(text) - 1, &c), 0);
	cr_assert_eq(c.count, 3);
	cr_assert_geq(c.malformed, 1);
	cr_assert_not(has("Tcp.RtoMin"));
	cr_assert_eq(get("IpExt.InOctets"), 1512);
}

Test(netstat, lines_without_prefix)
{
	cr_assert_eq(parse_str("garbage\n\n: 1 2\nTcp : 1\nTcp:x 1\n" TCP_HDR TCP_VAL), 0);
	cr_assert_eq(c.malformed, 5);
	cr_assert_eq(c.count, 5);
}

/* Values above INT64_MAX are clamped, never wrapped to negative. */
Test(netstat, clamp_out_of_range)
{
	cr_assert_eq(parse_str("TcpExt: A B C\nTcpExt: 9223372036854775807 9223372036854775808 "
			       "99999999999999999999999\n"
			       "Tcp: A B C\nTcp: -9223372036854775808 -9223372036854775809 -0\n"), 0);
	cr_assert_eq(c.malformed, 0);
	cr_assert_eq(get("TcpExt.A"), INT64_MAX);
	cr_assert_eq(get("TcpExt.B"), INT64_MAX);
	cr_assert_eq(get("TcpExt.C"), INT64_MAX);
	cr_assert_eq(get("Tcp.A"), INT64_MIN);
	cr_assert_eq(get("Tcp.B"), INT64_MIN);
	cr_assert_eq(get("Tcp.C"), 0);
}

Test(netstat, extra_blanks_tolerated)
{
	cr_assert_eq(parse_str("Tcp:  A\tB \nTcp: 1  2\t\n"), 0);
	cr_assert_eq(c.malformed, 0);
	cr_assert_eq(get("Tcp.A"), 1);
	cr_assert_eq(get("Tcp.B"), 2);
}

/* The kernel never repeats a name; if a file does, the first value stays. */
Test(netstat, duplicates_keep_first)
{
	cr_assert_eq(parse_str("Tcp: A B A\nTcp: 1 2 3\n"), 0);
	cr_assert_eq(c.malformed, 1);
	cr_assert_eq(c.count, 2);
	cr_assert_eq(get("Tcp.A"), 1);
	cr_assert_eq(parse_str("Tcp: B C\nTcp: 20 30\n"), 0);
	cr_assert_eq(c.malformed, 2);
	cr_assert_eq(c.count, 3);
	cr_assert_eq(get("Tcp.B"), 2);
	cr_assert_eq(get("Tcp.C"), 30);
	assert_sorted();
}

Test(netstat, get_edge_cases)
{
	char longname[COUNTER_NAME_MAX + 8];

	cr_assert_not(counters_get(&c, "Tcp.MaxConn", NULL));
	cr_assert_eq(parse_str(TCP_HDR TCP_VAL), 0);
	cr_assert_not(has("Tcp.Nope"));
	cr_assert_not(has("Tcp"));
	cr_assert_not(has(""));
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_not(has(longname));
}

Test(netstat, clear_keeps_buffer_free_resets)
{
	struct counter *items;

	cr_assert_eq(parse_str(TCP_HDR TCP_VAL "junk\n"), 0);
	items = c.items;
	cr_assert_not_null(items);
	counters_clear(&c);
	cr_assert_eq(c.count, 0);
	cr_assert_eq(c.malformed, 0);
	cr_assert_eq(c.items, items);
	cr_assert_not(has("Tcp.MaxConn"));
	counters_free(&c);
	cr_assert_null(c.items);
	cr_assert_eq(c.cap, 0);
	counters_free(&c);  /* twice is harmless */
}

/* Every cut of a real file parses without harm, and a cut mid-line is noticed. */
Test(netstat, every_truncation_of_real_file)
{
	size_t len;
	char *text = slurp(PROC_FIXTURES "/overflow/net/snmp", &len);

	for (size_t cut = 0; cut <= len; cut++) {
		char *copy = malloc(cut ? cut : 1);

		cr_assert_not_null(copy);
		memcpy(copy, text, cut);  /* exact-size copy: ASan sees any over-read */
		counters_clear(&c);
		cr_assert_eq(netstat_parse(copy, cut, &c), 0);
		if (cut < len && (cut == 0 || text[cut - 1] != '\n'))
			cr_assert_gt(c.malformed, 0, "cut at %zu", cut);
		cr_assert_leq(c.count, 82);
		free(copy);
	}
	cr_assert_eq(c.malformed, 0);
	cr_assert_eq(c.count, 82);
	free(text);
}

/* Random byte damage to a real file: no crash, no over-read, no bogus growth. */
Test(netstat, random_corruption)
{
	size_t len;
	char *text = slurp(PROC_FIXTURES "/overflow/net/netstat", &len);
	char *copy = malloc(len);
	unsigned seed = 12345;

	cr_assert_not_null(copy);
	for (int round = 0; round < 2000; round++) {
		memcpy(copy, text, len);
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245u + 12345u;
			copy[(seed >> 8) % len] = (char)(seed >> 24);
		}
		counters_clear(&c);
		cr_assert_eq(netstat_parse(copy, len, &c), 0);
		cr_assert_leq(c.count, 229);
		for (size_t i = 0; i < c.count; i++)
			cr_assert_lt(strlen(c.items[i].name), COUNTER_NAME_MAX);
	}
	free(copy);
	free(text);
}
