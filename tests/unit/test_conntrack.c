/* test_conntrack.c: nf_conntrack count and per-CPU stat parser: recorded, hand-made and malformed files, and the live /proc. */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "conntrack.h"
#include "oneshot_fixture.h"

#define PROC_FIXTURES FIXTURES "/proc"

/* The 6.x header as this machine's kernel writes it (tests/fixtures/proc/host). */
#define HDR6 "entries  clashres found new invalid ignore delete chainlength insert insert_failed " \
	     "drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n"
/* One 6.x row: insert_failed 2, drop 0x10, early_drop 3. */
#define ROW6 "00000005  00000000 00000001 00000000 00000000 00000000 00000000 00000000 " \
	     "00000007 00000002 00000010 00000003 00000000  00000000 00000000 00000000 00000000\n"

static struct conntrack_stat ct;

static void reset(void)
{
	memset(&ct, 0, sizeof(ct));
	ct.count = -1;
}

TestSuite(conntrack, .init = reset);

static int parse_str(const char *s)
{
	return conntrack_parse_stat(s, strlen(s), &ct);
}

static void assert_sums(uint64_t drop, uint64_t early, uint64_t failed)
{
	cr_assert_eq(ct.drop, drop, "drop %llu", (unsigned long long)ct.drop);
	cr_assert_eq(ct.early_drop, early, "early_drop %llu", (unsigned long long)ct.early_drop);
	cr_assert_eq(ct.insert_failed, failed, "insert_failed %llu",
		     (unsigned long long)ct.insert_failed);
}

/* Recorded: this kernel has nf_conntrack built in; idle, two CPUs. */
Test(conntrack, host_fixture)
{
	cr_assert_eq(conntrack_read(PROC_FIXTURES "/host", &ct), 0);
	cr_assert(ct.present);
	cr_assert_eq(ct.count, 0);
	cr_assert(ct.have_stat);
	assert_sums(0, 0, 0);
	cr_assert_eq(ct.malformed, 0);
}

/* Recorded in a child namespace: the files are per namespace and present there too. */
Test(conntrack, namespace_fixture)
{
	cr_assert_eq(conntrack_read(PROC_FIXTURES "/timewait", &ct), 0);
	cr_assert(ct.present);
	cr_assert_eq(ct.count, 0);
	cr_assert(ct.have_stat);
	cr_assert_eq(ct.malformed, 0);
}

/*
 * HAND-MADE fixture (tests/fixtures/proc/README, conntrack-full/): no table
 * can be filled here without changing a global setting, so it was built
 * from ct_cpu_seq_show()'s format as 3.x/4.x kernels had it (other column
 * names, 16 columns, a blank before each newline), four CPUs.
 */
Test(conntrack, full_fixture_handmade)
{
	cr_assert_eq(conntrack_read(PROC_FIXTURES "/conntrack-full", &ct), 0);
	cr_assert(ct.present);
	cr_assert_eq(ct.count, 262128);
	cr_assert(ct.have_stat);
	assert_sums(82, 386, 4);
	cr_assert_eq(ct.malformed, 0);
}

/* No module: neither file exists; that is no error. */
Test(conntrack, module_absent)
{
	ct.present = true;
	ct.drop = 5;
	ct.malformed = 3;
	cr_assert_eq(conntrack_read(PROC_FIXTURES "/overflow", &ct), 0);
	cr_assert(!ct.present);
	cr_assert_eq(ct.count, -1);
	cr_assert(!ct.have_stat);
	assert_sums(0, 0, 0);
	cr_assert_eq(ct.malformed, 0);
	cr_assert_eq(conntrack_read("/nonexistent/backlogd", &ct), 0);
	cr_assert(!ct.present);
}

Test(conntrack, live_proc)
{
	int r = conntrack_read("/proc", &ct);

	cr_assert_eq(r, 0);
	if (access("/proc/sys/net/netfilter/nf_conntrack_count", R_OK) != 0) {
		cr_assert(!ct.present);
		return;
	}
	cr_assert(ct.present);
	cr_assert_geq(ct.count, 0);
	cr_assert(ct.have_stat);
	cr_assert_eq(ct.malformed, 0);
}

static char tmp[] = "/tmp/backlogd-conntrack-XXXXXX";

static void tmp_setup(void)
{
	static const char *const dirs[] = { "net", "net/stat", "sys", "sys/net", "sys/net/netfilter" };
	char path[256];

	reset();
	cr_assert_not_null(mkdtemp(tmp));
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, dirs[i]);
		cr_assert_eq(mkdir(path, 0755), 0);
	}
}

static void tmp_teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	cr_assert_eq(system(cmd), 0);
}

static void write_file(const char *name, const char *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* A count without the stat file, and a stat file that does not parse. */
Test(conntrack, read_partial, .init = tmp_setup, .fini = tmp_teardown)
{
	write_file("sys/net/netfilter/nf_conntrack_count", "1234\n", 5);
	cr_assert_eq(conntrack_read(tmp, &ct), 0);
	cr_assert(ct.present);
	cr_assert_eq(ct.count, 1234);
	cr_assert(!ct.have_stat);

	write_file("net/stat/nf_conntrack", "garbage\n", 8);
	cr_assert_eq(conntrack_read(tmp, &ct), -EINVAL);
	cr_assert(ct.present);
	cr_assert_eq(ct.count, 1234);
	cr_assert(!ct.have_stat);
	cr_assert_eq(ct.malformed, 1);

	write_file("net/stat/nf_conntrack", "", 0);
	cr_assert_eq(conntrack_read(tmp, &ct), -EINVAL);
	cr_assert(!ct.have_stat);

	write_file("sys/net/netfilter/nf_conntrack_count", "12 34\n", 6);
	write_file("net/stat/nf_conntrack", HDR6 ROW6, strlen(HDR6 ROW6));
	cr_assert_eq(conntrack_read(tmp, &ct), 0);
	cr_assert(!ct.present, "a count that is not one number is no count");
	cr_assert_eq(ct.count, -1);
	cr_assert(ct.have_stat);
	assert_sums(0x10, 3, 2);
}

/* A file larger than any kernel's (a million bytes) is refused. */
Test(conntrack, huge_file, .init = tmp_setup, .fini = tmp_teardown)
{
	size_t rowlen = strlen(ROW6), n = strlen(HDR6) + 8000 * rowlen;
	char *big = malloc(n);

	cr_assert_not_null(big);
	memcpy(big, HDR6, strlen(HDR6));
	for (size_t i = 0; i < 8000; i++)
		memcpy(big + strlen(HDR6) + i * rowlen, ROW6, rowlen);
	write_file("net/stat/nf_conntrack", big, n);
	free(big);
	cr_assert_eq(conntrack_read(tmp, &ct), -EFBIG);
	cr_assert(!ct.have_stat);
}

Test(conntrack, sums_rows)
{
	cr_assert_eq(parse_str(HDR6 ROW6 ROW6 ROW6), 0);
	cr_assert(ct.have_stat);
	assert_sums(0x30, 9, 6);
	/* set, not added to */
	cr_assert_eq(parse_str(HDR6 ROW6), 0);
	assert_sums(0x10, 3, 2);
}

/* Columns are found by name: another order, other names, fewer columns. */
Test(conntrack, columns_by_name)
{
	cr_assert_eq(parse_str("early_drop future drop insert_failed\n"
			       "00000001 ffffffff 00000002 00000003\n"
			       "00000010 ffffffff 00000020 00000030\n"), 0);
	assert_sums(0x22, 0x11, 0x33);
	cr_assert_eq(ct.malformed, 0);
	/* a header with only one of the three still serves that one */
	cr_assert_eq(parse_str("entries drop\n0000000a 0000000b\n"), 0);
	assert_sums(0xb, 0, 0);
	/* uppercase hex and wider fields are still hex */
	cr_assert_eq(parse_str("drop\n00000000FFFFFFFF\n"), 0);
	assert_sums(0xffffffffULL, 0, 0);
}

Test(conntrack, header_without_sums)
{
	cr_assert_eq(parse_str("entries searched found\n00000001 00000002 00000003\n"), -EINVAL);
	cr_assert(!ct.have_stat);
	cr_assert_eq(ct.malformed, 1);
}

/* Each bad header is -EINVAL; nothing after it is trusted. */
Test(conntrack, bad_headers)
{
	static const char *const bad[] = {
		"",
		"\n",
		ROW6,                                          /* rows with no header */
		"entries drop drop\n00000001 00000002 00000003\n",   /* a name twice */
		"entries Drop\n00000001 00000002\n",           /* not a kernel's name */
		"entries drop-count\n00000001 00000002\n",
		"entries drop",                                /* cut before its newline */
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		reset();
		cr_assert_eq(parse_str(bad[i]), -EINVAL, "\"%s\"", bad[i]);
		cr_assert(!ct.have_stat);
		assert_sums(0, 0, 0);
		cr_assert_geq(ct.malformed, 1);
	}
}

/* Each bad row is counted and left out of the sums; the good rows still count. */
Test(conntrack, bad_rows)
{
	static const char *const bad[] = {
		"00000005  00000000\n",                        /* too few fields */
		"00000005  00000000 00000001 00000000 00000000 00000000 00000000 00000000 "
		"00000007 00000002 00000010 00000003 00000000  00000000 00000000 00000000 00000000 00000001\n",
		"00000005  00000000 00000001 00000000 00000000 00000000 00000000 00000000 "
		"00000007 00000002 0000001g 00000003 00000000  00000000 00000000 00000000 00000000\n",
		"00000005  00000000 00000001 00000000 00000000 00000000 00000000 00000000 "
		"00000007 00000002 -0000010 00000003 00000000  00000000 00000000 00000000 00000000\n",
		"00000005  00000000 00000001 00000000 00000000 00000000 00000000 00000000 "
		"00000007 00000002 10000000000000000 00000003 00000000  00000000 00000000 00000000 00000000\n",
		"\n",
		"garbage\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[1024];

		reset();
		snprintf(text, sizeof(text), "%s%s%s%s", HDR6, ROW6, bad[i], ROW6);
		cr_assert_eq(parse_str(text), 0, "%s", bad[i]);
		cr_assert_eq(ct.malformed, 1, "%s", bad[i]);
		assert_sums(0x20, 6, 4);
	}
}

/* A cut-off read: the last row has no newline, its last field may be cut. */
Test(conntrack, truncated)
{
	char text[1024];

	snprintf(text, sizeof(text), "%s%s%.*s", HDR6, ROW6, (int)strlen(ROW6) - 1, ROW6);
	cr_assert_eq(parse_str(text), 0);
	cr_assert_eq(ct.malformed, 1);
	assert_sums(0x10, 3, 2);
	/* header only, or every row bad: no sums at all, not zero sums */
	reset();
	cr_assert_eq(parse_str(HDR6), -EINVAL);
	cr_assert(!ct.have_stat);
	reset();
	cr_assert_eq(parse_str(HDR6 "garbage\n"), -EINVAL);
	cr_assert(!ct.have_stat);
	cr_assert_eq(ct.malformed, 2);
}

Test(conntrack, nul_bytes)
{
	const char text[] = HDR6 "00000005  00000000\0" "00000001\n" ROW6;
	const char hdr[] = "entries drop\0 early_drop\n00000001 00000002\n";

	cr_assert_eq(conntrack_parse_stat(text, sizeof(text) - 1, &ct), 0);
	cr_assert_eq(ct.malformed, 1);
	assert_sums(0x10, 3, 2);
	reset();
	cr_assert_eq(conntrack_parse_stat(hdr, sizeof(hdr) - 1, &ct), -EINVAL);
}

/* Hostile values cannot wrap the sums. */
Test(conntrack, saturates)
{
	cr_assert_eq(parse_str("drop\nffffffffffffffff\nffffffffffffffff\n00000001\n"), 0);
	assert_sums(UINT64_MAX, 0, 0);
}

/* An overlong row (thousands of fields) is a bad row, nothing worse. */
Test(conntrack, overlong_row)
{
	size_t cap = 100000, len;
	char *text = malloc(cap);

	cr_assert_not_null(text);
	len = (size_t)snprintf(text, cap, "%s%s", HDR6, ROW6);
	for (int i = 0; i < 5000; i++)
		len += (size_t)snprintf(text + len, cap - len, "%08x ", i);
	len += (size_t)snprintf(text + len, cap - len, "\n%s", ROW6);
	cr_assert_lt(len, cap);
	cr_assert_eq(conntrack_parse_stat(text, len, &ct), 0);
	cr_assert_eq(ct.malformed, 1);
	assert_sums(0x20, 6, 4);
	free(text);
}
