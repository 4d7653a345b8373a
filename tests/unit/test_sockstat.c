/* test_sockstat.c: sockstat/sockstat6 parser against recorded kernel files, the live /proc and malformed variants. */
#include "base.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "sockstat.h"
#include "oneshot_fixture.h"

#define PROC_FIXTURES FIXTURES "/proc"

/* Lines of the real files (tests/fixtures/proc/timewait). */
#define SOCKETS "sockets: used 44\n"
#define TCP     "TCP: inuse 41 orphan 20 tw 100 alloc 45 mem 999\n"
#define UDP     "UDP: inuse 0 mem 0\n"
#define FRAG    "FRAG: inuse 0 memory 0\n"
#define TCP6    "TCP6: inuse 3\n"

static struct sockstat ss;

static void reset(void)
{
	ss.sockets_used = ss.tcp_inuse = ss.tcp_orphan = ss.tcp_tw = -1;
	ss.tcp_alloc = ss.tcp_mem = ss.tcp6_inuse = -1;
	ss.malformed = 0;
}

TestSuite(sockstat, .init = reset);

static int parse_str(const char *s)
{
	return sockstat_parse(s, strlen(s), &ss);
}

static void assert_tcp_unset(void)
{
	cr_assert_eq(ss.tcp_inuse, -1);
	cr_assert_eq(ss.tcp_orphan, -1);
	cr_assert_eq(ss.tcp_tw, -1);
	cr_assert_eq(ss.tcp_alloc, -1);
	cr_assert_eq(ss.tcp_mem, -1);
}

static char tmp[] = "/tmp/backlogd-sockstat-XXXXXX";

static void tmp_setup(void)
{
	char path[256];

	reset();
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/net", tmp);
	cr_assert_eq(mkdir(path, 0755), 0);
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

/* The build machine's own namespace, idle. */
Test(sockstat, host_fixture)
{
	cr_assert_eq(sockstat_read(PROC_FIXTURES "/host", &ss), 0);
	cr_assert_eq(ss.sockets_used, 14);
	cr_assert_eq(ss.tcp_inuse, 1);
	cr_assert_eq(ss.tcp_orphan, 0);
	cr_assert_eq(ss.tcp_tw, 0);
	cr_assert_eq(ss.tcp_alloc, 1);
	cr_assert_eq(ss.tcp_mem, 210);
	cr_assert_eq(ss.tcp6_inuse, 0);
	cr_assert_eq(ss.malformed, 0);
}

/* A namespace with 100 TIME_WAIT (tw_buckets capped), 20 orphans, one IPv6 pair. */
Test(sockstat, timewait_fixture)
{
	cr_assert_eq(sockstat_read(PROC_FIXTURES "/timewait", &ss), 0);
	cr_assert_eq(ss.sockets_used, 44);
	cr_assert_eq(ss.tcp_inuse, 41);
	cr_assert_eq(ss.tcp_orphan, 20);
	cr_assert_eq(ss.tcp_tw, 100);
	cr_assert_eq(ss.tcp_alloc, 45);
	cr_assert_eq(ss.tcp_mem, 999);
	cr_assert_eq(ss.tcp6_inuse, 3);
	cr_assert_eq(ss.malformed, 0);
}

/* sockstat_read starts from -1, whatever out held. */
Test(sockstat, read_resets)
{
	ss.tcp_tw = 77;
	ss.malformed = 9;
	cr_assert_eq(sockstat_read("/nonexistent/backlogd", &ss), -ENOENT);
	cr_assert_eq(ss.sockets_used, -1);
	assert_tcp_unset();
	cr_assert_eq(ss.tcp6_inuse, -1);
	cr_assert_eq(ss.malformed, 0);
	/* The first slice's fixtures have no sockstat at all. */
	cr_assert_eq(sockstat_read(PROC_FIXTURES "/overflow", &ss), -ENOENT);
	cr_assert_eq(ss.tcp_tw, -1);
}

Test(sockstat, live_proc)
{
	cr_assert_eq(sockstat_read("/proc", &ss), 0);
	cr_assert_geq(ss.sockets_used, 0);
	cr_assert_geq(ss.tcp_inuse, 0);
	cr_assert_geq(ss.tcp_orphan, 0);
	cr_assert_geq(ss.tcp_tw, 0);
	cr_assert_geq(ss.tcp_alloc, 0);
	cr_assert_geq(ss.tcp_mem, 0);
	if (access("/proc/net/sockstat6", R_OK) == 0)
		cr_assert_geq(ss.tcp6_inuse, 0);
	cr_assert_eq(ss.malformed, 0);
}

/* No IPv6 in the kernel: no sockstat6, which is no error. */
Test(sockstat, no_sockstat6, .init = tmp_setup, .fini = tmp_teardown)
{
	write_file("net/sockstat", SOCKETS TCP UDP, strlen(SOCKETS TCP UDP));
	cr_assert_eq(sockstat_read(tmp, &ss), 0);
	cr_assert_eq(ss.tcp_tw, 100);
	cr_assert_eq(ss.tcp6_inuse, -1);
	cr_assert_eq(ss.malformed, 0);
}

/* sockstat6 alone is not enough: the TCP line is what the diagnosis needs. */
Test(sockstat, sockstat_missing, .init = tmp_setup, .fini = tmp_teardown)
{
	write_file("net/sockstat6", TCP6, strlen(TCP6));
	cr_assert_eq(sockstat_read(tmp, &ss), -ENOENT);
	cr_assert_eq(ss.tcp6_inuse, 3);
	cr_assert_eq(ss.tcp_inuse, -1);
}

Test(sockstat, empty_files, .init = tmp_setup, .fini = tmp_teardown)
{
	write_file("net/sockstat", "", 0);
	write_file("net/sockstat6", "", 0);
	cr_assert_eq(sockstat_read(tmp, &ss), -EINVAL);
	assert_tcp_unset();
	cr_assert_eq(ss.malformed, 2);
}

/* A file far larger than any sockstat is refused, not read without bound. */
Test(sockstat, huge_file, .init = tmp_setup, .fini = tmp_teardown)
{
	size_t n = 200000;
	char *big = malloc(n);

	cr_assert_not_null(big);
	for (size_t i = 0; i < n; i += strlen(TCP))
		memcpy(big + i, TCP, i + strlen(TCP) <= n ? strlen(TCP) : n - i);
	write_file("net/sockstat", big, n);
	free(big);
	cr_assert_eq(sockstat_read(tmp, &ss), -EFBIG);
	assert_tcp_unset();
}

/* A newer kernel may reorder keys, add keys and add lines: match by name. */
Test(sockstat, keys_by_name)
{
	cr_assert_eq(parse_str("TCP: mem 7 alloc 6 future 99 tw 5 orphan 4 inuse 3\n"
			       "MPTCP: inuse 2\n"
			       "sockets: used 1 spare 0\n"), 0);
	cr_assert_eq(ss.tcp_inuse, 3);
	cr_assert_eq(ss.tcp_orphan, 4);
	cr_assert_eq(ss.tcp_tw, 5);
	cr_assert_eq(ss.tcp_alloc, 6);
	cr_assert_eq(ss.tcp_mem, 7);
	cr_assert_eq(ss.sockets_used, 1);
	cr_assert_eq(ss.tcp6_inuse, -1);
	cr_assert_eq(ss.malformed, 0);
}

/* Fields a text does not hold stay as they were: sockstat then sockstat6. */
Test(sockstat, parse_merges)
{
	cr_assert_eq(parse_str(SOCKETS TCP), 0);
	cr_assert_eq(parse_str(TCP6 "UDP6: inuse 0\n"), 0);
	cr_assert_eq(ss.tcp_tw, 100);
	cr_assert_eq(ss.tcp6_inuse, 3);
	/* A "TCP:" key is not a "TCP6:" one and the other way round. */
	reset();
	cr_assert_eq(parse_str("TCP6: inuse 3 orphan 9\nUDP: inuse 8\n"), 0);
	cr_assert_eq(ss.tcp_inuse, -1);
	cr_assert_eq(ss.tcp_orphan, -1);
	cr_assert_eq(ss.tcp6_inuse, 3);
	cr_assert_eq(ss.sockets_used, -1);
}

/* Each bad line is counted and skipped; the good lines around it still count. */
Test(sockstat, malformed_lines)
{
	static const char *const bad[] = {
		"TCP: inuse 41 orphan 20 tw\n",               /* truncated: key without value */
		"TCP: inuse 41 orphan\n",
		"TCP:\n",                                     /* no pairs */
		"TCP: inuse forty\n",                         /* value not a number */
		"TCP: inuse 4x1\n",
		"TCP: inuse +41\n",
		"TCP: inuse 0x29\n",
		"TCP: 41 inuse\n",                            /* key not a word */
		"TCP: inuse 99999999999999999999\n",          /* past int64 */
		"TCP inuse 41\n",                             /* no colon */
		"TCP:inuse 41\n",
		" TCP: inuse 41\n",                           /* prefix not at the start */
		":: inuse 41\n",
		"\n",
		"garbage\n",
		"\xff\xfe\x01 \x80\n",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char text[256];

		reset();
		snprintf(text, sizeof(text), "%s%s%s", SOCKETS, bad[i], TCP6);
		cr_assert_eq(parse_str(text), 0, "%s", bad[i]);
		cr_assert_eq(ss.malformed, 1, "%s", bad[i]);
		assert_tcp_unset();
		cr_assert_eq(ss.sockets_used, 44);
		cr_assert_eq(ss.tcp6_inuse, 3);
		/* alone, nothing parsed at all */
		reset();
		cr_assert_eq(parse_str(bad[i]), -EINVAL, "%s", bad[i]);
		cr_assert_eq(ss.malformed, 1);
	}
}

/* The last line has no newline: a cut-off read, and its numbers may be cut too. */
Test(sockstat, truncated_file)
{
	const char text[] = SOCKETS "TCP: inuse 41 orphan 20 tw 100 alloc 45 mem 99";

	cr_assert_eq(parse_str(text), 0);
	cr_assert_eq(ss.sockets_used, 44);
	assert_tcp_unset();
	cr_assert_eq(ss.malformed, 1);
}

Test(sockstat, empty_and_nul)
{
	const char nul[] = "TCP: inuse 4\0" "1 orphan 20\n" TCP6;

	cr_assert_eq(sockstat_parse("", 0, &ss), -EINVAL);
	cr_assert_eq(ss.malformed, 1);
	reset();
	cr_assert_eq(sockstat_parse(nul, sizeof(nul) - 1, &ss), 0);
	cr_assert_eq(ss.tcp_inuse, -1, "a NUL byte must not end the line early");
	cr_assert_eq(ss.tcp6_inuse, 3);
	cr_assert_eq(ss.malformed, 1);
	reset();
	cr_assert_eq(sockstat_parse("\0\0\0\n", 4, &ss), -EINVAL);
}

/* A very long line (a thousand pairs) is no harder than a short one. */
Test(sockstat, overlong_line)
{
	size_t cap = 64 * 1024, len = 0;
	char *text = malloc(cap);

	cr_assert_not_null(text);
	len += (size_t)snprintf(text + len, cap - len, "TCP:");
	for (int i = 0; i < 1000; i++)
		len += (size_t)snprintf(text + len, cap - len, " k%d %d", i, i);
	len += (size_t)snprintf(text + len, cap - len, " tw 12\n");
	cr_assert_lt(len, cap);
	cr_assert_eq(sockstat_parse(text, len, &ss), 0);
	cr_assert_eq(ss.tcp_tw, 12);
	cr_assert_eq(ss.malformed, 0);
	/* a key of 10,000 letters is no key */
	reset();
	len = (size_t)snprintf(text, cap, "TCP: ");
	memset(text + len, 'k', 10000);
	len += 10000;
	len += (size_t)snprintf(text + len, cap - len, " 1 tw 5\n");
	cr_assert_eq(sockstat_parse(text, len, &ss), -EINVAL);
	cr_assert_eq(ss.tcp_tw, -1);
	free(text);
}

/*
 * The kernel clamps its per-CPU sums at 0; only tw could print negative,
 * for a moment while a namespace dies. Never confuse that with "missing".
 */
Test(sockstat, negative_clamped)
{
	cr_assert_eq(parse_str("TCP: inuse 0 orphan 0 tw -1 alloc 0 mem 0\n"), 0);
	cr_assert_eq(ss.tcp_tw, 0);
	cr_assert_eq(ss.malformed, 0);
	cr_assert_eq(parse_str("TCP: tw 9223372036854775807\n"), 0);
	cr_assert_eq(ss.tcp_tw, INT64_MAX);
}

/* Blanks: tabs and runs of spaces separate like one space; CRLF does not. */
Test(sockstat, blanks)
{
	cr_assert_eq(parse_str("TCP:\tinuse  5\t\torphan 1   \n"), 0);
	cr_assert_eq(ss.tcp_inuse, 5);
	cr_assert_eq(ss.tcp_orphan, 1);
	reset();
	cr_assert_eq(parse_str("TCP: inuse 5\r\n"), -EINVAL);
	cr_assert_eq(ss.tcp_inuse, -1);
}
