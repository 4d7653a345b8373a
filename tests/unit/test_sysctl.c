/* test_sysctl.c: sysctl reads (single and multi-value) from recorded proc roots, the live /proc and garbage files. */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "sysctl.h"
#include "oneshot_fixture.h"

#define PROC_FIXTURES FIXTURES "/proc"

static char root[] = "/tmp/backlogd-sysctl-XXXXXX";

static void write_file(const char *name, const char *data, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

static void tmp_setup(void)
{
	cr_assert_not_null(mkdtemp(root));
}

static void tmp_teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	cr_assert_eq(system(cmd), 0);
}

/* Recorded inside `unshare -n` right after an accept-queue overflow. */
Test(sysctl, overflow_fixture)
{
	struct limits l;

	sysctl_read_limits(PROC_FIXTURES "/overflow", &l);
	cr_assert_eq(l.somaxconn, 4096);
	cr_assert_eq(l.tcp_max_syn_backlog, 2048);
	cr_assert_eq(l.tcp_syncookies, 1);
	cr_assert_eq(l.tcp_abort_on_overflow, 0);
}

Test(sysctl, host_fixture)
{
	cr_assert_eq(sysctl_read_int(PROC_FIXTURES "/host", "sys/net/core/somaxconn"), 4096);
	cr_assert_eq(sysctl_read_int(PROC_FIXTURES "/host", "sys/net/ipv4/tcp_syncookies"), 1);
}

/* A proc root with no sysctls (the newer-kernel fixture has only net/). */
Test(sysctl, missing_files_unknown)
{
	struct limits l;

	sysctl_read_limits(PROC_FIXTURES "/newer-kernel", &l);
	cr_assert_eq(l.somaxconn, SYSCTL_UNKNOWN);
	cr_assert_eq(l.tcp_max_syn_backlog, SYSCTL_UNKNOWN);
	cr_assert_eq(l.tcp_syncookies, SYSCTL_UNKNOWN);
	cr_assert_eq(l.tcp_abort_on_overflow, SYSCTL_UNKNOWN);
	cr_assert_eq(sysctl_read_int("/nonexistent/backlogd", "sys/net/core/somaxconn"),
		     SYSCTL_UNKNOWN);
}

Test(sysctl, live_proc)
{
	struct limits l;

	sysctl_read_limits("/proc", &l);
	cr_assert_gt(l.somaxconn, 0);
	cr_assert_gt(l.tcp_max_syn_backlog, 0);
	cr_assert(l.tcp_syncookies >= 0 && l.tcp_syncookies <= 2);
	cr_assert(l.tcp_abort_on_overflow == 0 || l.tcp_abort_on_overflow == 1);
	/* Two numbers in one file are not one integer. */
	cr_assert_eq(sysctl_read_int("/proc", "sys/net/ipv4/ip_local_port_range"), SYSCTL_UNKNOWN);
	/* A directory is not a value. */
	cr_assert_eq(sysctl_read_int("/proc", "sys/net/core"), SYSCTL_UNKNOWN);
}

Test(sysctl, values, .init = tmp_setup, .fini = tmp_teardown)
{
	static const struct {
		const char *text;
		int64_t want;
	} cases[] = {
		{ "4096\n", 4096 },
		{ "0\n", 0 },
		{ "128", 128 },                     /* no newline: still whole */
		{ "-5\n", -5 },
		{ "9223372036854775807\n", INT64_MAX },
		{ "", SYSCTL_UNKNOWN },
		{ "\n", SYSCTL_UNKNOWN },
		{ "abc\n", SYSCTL_UNKNOWN },
		{ "12x\n", SYSCTL_UNKNOWN },
		{ " 12\n", SYSCTL_UNKNOWN },
		{ "12 \n", SYSCTL_UNKNOWN },
		{ "12\n\n", SYSCTL_UNKNOWN },
		{ "+12\n", SYSCTL_UNKNOWN },
		{ "-\n", SYSCTL_UNKNOWN },
		{ "0x10\n", SYSCTL_UNKNOWN },
		{ "32768\t60999\n", SYSCTL_UNKNOWN },
		{ "9223372036854775808\n", SYSCTL_UNKNOWN },
		{ "99999999999999999999999999999999999999999\n", SYSCTL_UNKNOWN },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		write_file("v", cases[i].text, strlen(cases[i].text));
		cr_assert_eq(sysctl_read_int(root, "v"), cases[i].want, "\"%s\"", cases[i].text);
	}
	write_file("v", "40\0" "96\n", 6);
	cr_assert_eq(sysctl_read_int(root, "v"), SYSCTL_UNKNOWN, "embedded NUL");
}

/* One unreadable sysctl leaves the others known. */
Test(sysctl, limits_partial, .init = tmp_setup, .fini = tmp_teardown)
{
	char path[256];
	struct limits l;

	snprintf(path, sizeof(path), "%s/sys", root);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sys/net", root);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sys/net/core", root);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sys/net/ipv4", root);
	cr_assert_eq(mkdir(path, 0755), 0);
	write_file("sys/net/core/somaxconn", "128\n", 4);
	write_file("sys/net/ipv4/tcp_max_syn_backlog", "garbage\n", 8);
	write_file("sys/net/ipv4/tcp_abort_on_overflow", "1\n", 2);

	sysctl_read_limits(root, &l);
	cr_assert_eq(l.somaxconn, 128);
	cr_assert_eq(l.tcp_max_syn_backlog, SYSCTL_UNKNOWN);
	cr_assert_eq(l.tcp_syncookies, SYSCTL_UNKNOWN);
	cr_assert_eq(l.tcp_abort_on_overflow, 1);
}

static void mkdirs_ipv4(void)
{
	static const char *const dirs[] = { "sys", "sys/net", "sys/net/core", "sys/net/ipv4",
					    "sys/net/netfilter" };
	char path[256];

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		cr_assert_eq(mkdir(path, 0755), 0, "%s", path);
	}
}

static void assert_new_unknown(const struct limits *l)
{
	cr_assert_eq(l->port_range_lo, SYSCTL_UNKNOWN);
	cr_assert_eq(l->port_range_hi, SYSCTL_UNKNOWN);
	cr_assert_eq(l->tcp_tw_reuse, SYSCTL_UNKNOWN);
	cr_assert_eq(l->tcp_max_tw_buckets, SYSCTL_UNKNOWN);
	cr_assert_eq(l->tcp_max_orphans, SYSCTL_UNKNOWN);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(l->tcp_mem[i], SYSCTL_UNKNOWN);
	cr_assert_eq(l->nf_conntrack_max, SYSCTL_UNKNOWN);
}

Test(sysctl, limits_unknown_sets_all)
{
	struct limits l;

	memset(&l, 0x5a, sizeof(l));
	limits_unknown(&l);
	cr_assert_eq(l.somaxconn, SYSCTL_UNKNOWN);
	cr_assert_eq(l.tcp_max_syn_backlog, SYSCTL_UNKNOWN);
	cr_assert_eq(l.tcp_syncookies, SYSCTL_UNKNOWN);
	cr_assert_eq(l.tcp_abort_on_overflow, SYSCTL_UNKNOWN);
	assert_new_unknown(&l);
}

/* Recorded on the host (initial namespace): every limit is readable there. */
Test(sysctl, host_fixture_limits)
{
	struct limits l;

	sysctl_read_limits(PROC_FIXTURES "/host", &l);
	cr_assert_eq(l.somaxconn, 4096);
	cr_assert_eq(l.port_range_lo, 32768);      /* "32768\t60999" */
	cr_assert_eq(l.port_range_hi, 60999);
	cr_assert_eq(l.tcp_tw_reuse, 2);
	cr_assert_eq(l.tcp_max_tw_buckets, 131072);
	cr_assert_eq(l.tcp_max_orphans, 131072);
	cr_assert_eq(l.tcp_mem[0], 287901);
	cr_assert_eq(l.tcp_mem[1], 383868);
	cr_assert_eq(l.tcp_mem[2], 575802);
	cr_assert_eq(l.nf_conntrack_max, 262144);
}

/*
 * Recorded in a child namespace with its own port range, tw_reuse and
 * tw_buckets: tcp_mem and tcp_max_orphans do not exist there at all.
 */
Test(sysctl, namespace_fixture_limits)
{
	struct limits l;

	sysctl_read_limits(PROC_FIXTURES "/timewait", &l);
	cr_assert_eq(l.port_range_lo, 40000);
	cr_assert_eq(l.port_range_hi, 40999);
	cr_assert_eq(l.tcp_tw_reuse, 1);
	cr_assert_eq(l.tcp_max_tw_buckets, 100);
	cr_assert_eq(l.tcp_max_orphans, SYSCTL_UNKNOWN);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(l.tcp_mem[i], SYSCTL_UNKNOWN);
	cr_assert_eq(l.nf_conntrack_max, 262144);
	cr_assert_eq(l.somaxconn, 4096);
}

/* The first slice's fixtures predate the new files: all of them unknown, no error. */
Test(sysctl, old_fixtures_new_fields_unknown)
{
	struct limits l;

	sysctl_read_limits(PROC_FIXTURES "/overflow", &l);
	cr_assert_eq(l.somaxconn, 4096);
	assert_new_unknown(&l);
	sysctl_read_limits(PROC_FIXTURES "/newer-kernel", &l);
	assert_new_unknown(&l);
	sysctl_read_limits("/nonexistent/backlogd", &l);
	cr_assert_eq(l.somaxconn, SYSCTL_UNKNOWN);
	assert_new_unknown(&l);
}

Test(sysctl, live_proc_limits)
{
	struct limits l;

	sysctl_read_limits("/proc", &l);
	cr_assert_gt(l.port_range_lo, 0);
	cr_assert_geq(l.port_range_hi, l.port_range_lo);
	cr_assert_leq(l.port_range_hi, 65535);
	cr_assert(l.tcp_tw_reuse >= 0 && l.tcp_tw_reuse <= 2);
	cr_assert_gt(l.tcp_max_tw_buckets, 0);
	/* Only the initial namespace has these (a CI run may be in a child one). */
	if (access("/proc/sys/net/ipv4/tcp_mem", R_OK) == 0) {
		cr_assert_gt(l.tcp_mem[0], 0);
		cr_assert_geq(l.tcp_mem[1], l.tcp_mem[0]);
		cr_assert_geq(l.tcp_mem[2], l.tcp_mem[1]);
		cr_assert_gt(l.tcp_max_orphans, 0);
	} else {
		cr_assert_eq(l.tcp_mem[1], SYSCTL_UNKNOWN);
	}
	if (access("/proc/sys/net/netfilter/nf_conntrack_max", R_OK) == 0)
		cr_assert_gt(l.nf_conntrack_max, 0);
	else
		cr_assert_eq(l.nf_conntrack_max, SYSCTL_UNKNOWN);
}

Test(sysctl, read_ints, .init = tmp_setup, .fini = tmp_teardown)
{
	static const struct {
		const char *text;
		size_t n;
		int ok;
		int64_t want[3];
	} cases[] = {
		{ "32768\t60999\n", 2, 1, { 32768, 60999 } },   /* as the kernel writes it */
		{ "1024 65535\n", 2, 1, { 1024, 65535 } },
		{ "1 \t  2", 2, 1, { 1, 2 } },                  /* any blank run, no newline */
		{ "287901\t383868\t575802\n", 3, 1, { 287901, 383868, 575802 } },
		{ "-1\t0\n", 2, 1, { -1, 0 } },
		{ "42\n", 1, 1, { 42 } },
		{ "32768\n", 2, 0, { 0 } },                     /* one number short */
		{ "1 2 3\n", 2, 0, { 0 } },                     /* one too many */
		{ " 1 2\n", 2, 0, { 0 } },                      /* leading blank */
		{ "1 2 \n", 2, 0, { 0 } },                      /* trailing blank */
		{ "1 2\n\n", 2, 0, { 0 } },
		{ "1\n2\n", 2, 0, { 0 } },                      /* newline is no separator */
		{ "1\n 2\n", 2, 0, { 0 } },
		{ "1,2\n", 2, 0, { 0 } },
		{ "1 x\n", 2, 0, { 0 } },
		{ "0x10 2\n", 2, 0, { 0 } },
		{ "1 99999999999999999999\n", 2, 0, { 0 } },
		{ "", 2, 0, { 0 } },
		{ "\n", 2, 0, { 0 } },
		{ "1 2\n", 0, 0, { 0 } },                       /* n = 0 is no request */
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int64_t v[3] = { 7, 7, 7 };
		int r;

		write_file("v", cases[i].text, strlen(cases[i].text));
		r = sysctl_read_ints(root, "v", v, cases[i].n);
		if (!cases[i].ok) {
			cr_assert_eq(r, -EINVAL, "\"%s\"", cases[i].text);
			for (size_t k = 0; k < cases[i].n; k++)
				cr_assert_eq(v[k], SYSCTL_UNKNOWN, "\"%s\" [%zu] half-read", cases[i].text, k);
			continue;
		}
		cr_assert_eq(r, 0, "\"%s\"", cases[i].text);
		for (size_t k = 0; k < cases[i].n; k++)
			cr_assert_eq(v[k], cases[i].want[k], "\"%s\" [%zu]", cases[i].text, k);
	}

	{
		int64_t v[SYSCTL_INTS_MAX + 1];
		char big[4096];

		write_file("v", "1 2\n", 4);
		cr_assert_eq(sysctl_read_ints(root, "v", v, SYSCTL_INTS_MAX + 1), -EINVAL);
		write_file("v", "1\0" " 2\n", 5);
		cr_assert_eq(sysctl_read_ints(root, "v", v, 2), -EINVAL, "embedded NUL");
		cr_assert_eq(v[0], SYSCTL_UNKNOWN);
		/* A long file is not cut to its first numbers. */
		memset(big, '1', sizeof(big));
		big[5] = '\t';
		write_file("v", big, sizeof(big));
		cr_assert_eq(sysctl_read_ints(root, "v", v, 2), -EINVAL, "overlong");
		cr_assert_eq(sysctl_read_ints(root, "missing", v, 2), -EINVAL);
		cr_assert_eq(v[1], SYSCTL_UNKNOWN);
	}
}

/* A port range or tcp_mem that is not the kernel's shape leaves its fields unknown, the rest known. */
Test(sysctl, limits_multi_garbage, .init = tmp_setup, .fini = tmp_teardown)
{
	static const char *const bad_ranges[] = {
		"60999\t32768\n",     /* low above high: the kernel refuses to store that */
		"32768\n",
		"32768 60999 1\n",
		"32768\t60999x\n",
		"",
	};
	struct limits l;

	mkdirs_ipv4();
	write_file("sys/net/ipv4/tcp_tw_reuse", "1\n", 2);
	write_file("sys/net/ipv4/tcp_max_tw_buckets", "262144\n", 7);
	write_file("sys/net/ipv4/tcp_max_orphans", "65536 1\n", 8);
	write_file("sys/net/netfilter/nf_conntrack_max", "-\n", 2);
	for (size_t i = 0; i < ARRAY_SIZE(bad_ranges); i++) {
		write_file("sys/net/ipv4/ip_local_port_range", bad_ranges[i], strlen(bad_ranges[i]));
		write_file("sys/net/ipv4/tcp_mem", "1 2\n", 4);
		sysctl_read_limits(root, &l);
		cr_assert_eq(l.port_range_lo, SYSCTL_UNKNOWN, "\"%s\"", bad_ranges[i]);
		cr_assert_eq(l.port_range_hi, SYSCTL_UNKNOWN, "\"%s\"", bad_ranges[i]);
		for (int k = 0; k < 3; k++)
			cr_assert_eq(l.tcp_mem[k], SYSCTL_UNKNOWN);
		cr_assert_eq(l.tcp_tw_reuse, 1);
		cr_assert_eq(l.tcp_max_tw_buckets, 262144);
		cr_assert_eq(l.tcp_max_orphans, SYSCTL_UNKNOWN);
		cr_assert_eq(l.nf_conntrack_max, SYSCTL_UNKNOWN);
		cr_assert_eq(l.somaxconn, SYSCTL_UNKNOWN);
	}
	/* lo == hi is one port, a legal if odd range */
	write_file("sys/net/ipv4/ip_local_port_range", "50000\t50000\n", 12);
	sysctl_read_limits(root, &l);
	cr_assert_eq(l.port_range_lo, 50000);
	cr_assert_eq(l.port_range_hi, 50000);
}
