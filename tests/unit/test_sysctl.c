/* test_sysctl.c: integer sysctl reads from recorded proc roots, the live /proc and garbage files. */
#include "version.h"	/* the autoconf header (_GNU_SOURCE); include/config.h is the config module */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "sysctl.h"

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

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
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
