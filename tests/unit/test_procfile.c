/* test_procfile.c: the shared /proc reader's size cap and growth, and the span number edges the probe tests do not reach. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sched.h>
#include <sys/stat.h>
#include <criterion/criterion.h>

#include "netstat.h"
#include "procfile.h"
#include "tmp_fixture.h"
#include "oneshot_fixture.h"

/* What *buf holds before a failing call, which must leave it alone. */
static char sentinel[] = "untouched";


/* A file of n bytes whose every byte depends on its offset, so a lost or doubled chunk shows. */
static char *write_pattern(const char *name, size_t n)
{
	char path[256];
	char *data = malloc(n ? n : 1);
	FILE *f;

	cr_assert_not_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)('a' + (i * 7 + i / 251) % 26);
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, n, f), n);
	cr_assert_eq(fclose(f), 0);
	return data;
}

static void assert_reads_whole(const char *name, size_t n, size_t max)
{
	char *want = write_pattern(name, n), *buf = NULL;
	size_t len = 0;

	cr_assert_eq(procfile_read(tmp, name, max, &buf, &len), 0, "n %zu max %zu", n, max);
	cr_assert_eq(len, n, "n %zu max %zu", n, max);
	cr_assert(n == 0 || memcmp(buf, want, n) == 0, "n %zu max %zu: bytes differ", n, max);
	free(buf);
	free(want);
}

static void assert_refused(const char *name, size_t n, size_t max)
{
	char *data = write_pattern(name, n), *buf = sentinel;
	size_t len = 12345;

	cr_assert_eq(procfile_read(tmp, name, max, &buf, &len), -EFBIG, "n %zu max %zu", n, max);
	cr_assert_eq(buf, sentinel);
	cr_assert_eq(len, 12345);
	free(data);
}

/*
 * The callers' caps (sysctl's 32 bytes, sockstat's 64 KiB, conntrack's
 * 1 MiB) all mean "a file that fills the buffer is refused": max - 1 bytes
 * read, max bytes do not, below the first buffer and after it has grown.
 */
Test(procfile, cap_boundary, .init = tmp_setup, .fini = tmp_teardown)
{
	static const size_t caps[] = { 1, 32, 8192, 8193, 65536, 3 * 8192 + 5 };

	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		assert_reads_whole("f", caps[i] - 1, caps[i]);
		assert_refused("f", caps[i], caps[i]);
		assert_refused("f", caps[i] + 1, caps[i]);
	}
}

/* netstat reads with no cap: the buffer grows several times and keeps every byte in order. */
Test(procfile, grows_without_cap, .init = tmp_setup, .fini = tmp_teardown)
{
	assert_reads_whole("f", 0, SIZE_MAX);
	assert_reads_whole("f", 8192, SIZE_MAX);
	assert_reads_whole("f", 300001, SIZE_MAX);
}

Test(procfile, errors, .init = tmp_setup, .fini = tmp_teardown)
{
	char *buf = sentinel, *long_rel;
	size_t len = 12345;
	char *data = write_pattern("f", 4);

	cr_assert_eq(procfile_read(tmp, "f", 0, &buf, &len), -EINVAL);
	cr_assert_eq(procfile_read(tmp, "missing", 64, &buf, &len), -ENOENT);
	cr_assert_eq(procfile_read(tmp, ".", 64, &buf, &len), -EISDIR);
	long_rel = malloc(5000);
	cr_assert_not_null(long_rel);
	memset(long_rel, 'x', 4999);
	long_rel[4999] = '\0';
	cr_assert_eq(procfile_read(tmp, long_rel, 64, &buf, &len), -ENAMETOOLONG);
	free(long_rel);
	cr_assert_eq(buf, sentinel);
	cr_assert_eq(len, 12345);
	free(data);
}

Test(procfile, head_at_cuts, .init = tmp_setup, .fini = tmp_teardown)
{
	char *data = write_pattern("f", 100), buf[16];
	int dirfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	cr_assert_geq(dirfd, 0);
	/* The head only: the rest is left unread, not refused. */
	cr_assert_eq(procfile_read_head_at(dirfd, "f", buf, sizeof(buf)), 15);
	cr_assert_eq(memcmp(buf, data, 15), 0);
	cr_assert_eq(buf[15], '\0');
	cr_assert_eq(procfile_read_head_at(dirfd, "f", buf, 1), 0);
	cr_assert_str_eq(buf, "");
	cr_assert_eq(procfile_read_head_at(dirfd, "missing", buf, sizeof(buf)), -ENOENT);
	cr_assert_eq(procfile_read_head_at(dirfd, "f", buf, 0), -EINVAL);
	free(data);
	data = write_pattern("g", 3);
	cr_assert_eq(procfile_read_head_at(dirfd, "g", buf, sizeof(buf)), 3);
	cr_assert_eq(memcmp(buf, data, 3), 0);
	cr_assert_eq(buf[3], '\0');
	close(dirfd);
	free(data);
}

Test(procfile, pid_name)
{
	int pid = -7;

	cr_assert(procfile_pid_name("1", &pid));
	cr_assert_eq(pid, 1);
	cr_assert(procfile_pid_name("2147483647", &pid));
	cr_assert_eq(pid, 2147483647);
	pid = -7;
	cr_assert_not(procfile_pid_name("2147483648", &pid));
	cr_assert_not(procfile_pid_name("0", &pid));
	cr_assert_not(procfile_pid_name("", &pid));
	cr_assert_not(procfile_pid_name("12a", &pid));
	cr_assert_not(procfile_pid_name("-1", &pid));
	cr_assert_not(procfile_pid_name("self", &pid));
	cr_assert_not(procfile_pid_name("99999999999999999999", &pid));
	cr_assert_eq(pid, -7);
}

static struct span sp(const char *s)
{
	struct span r = { s, s + strlen(s) };

	return r;
}

static void assert_line(struct span *text, const char *want, size_t want_len, bool want_whole)
{
	struct span line;
	bool whole = !want_whole;

	cr_assert(span_next_line(text, &line, &whole), "no line where \"%s\" was due", want);
	cr_assert_eq((size_t)(line.end - line.p), want_len, "\"%s\"", want);
	cr_assert(memcmp(line.p, want, want_len) == 0, "\"%s\"", want);
	cr_assert_eq(whole, want_whole, "\"%s\"", want);
}

/*
 * A NUL byte or a missing last newline marks a line the kernel did not
 * write: the probes drop it even where its fields would still parse (a
 * netstat header name is not otherwise checked).
 */
Test(procfile, next_line_whole)
{
	static const char text[] = "a b\n\nA\0B\nc\0\nlast";
	struct span rest = { text, text + sizeof(text) - 1 }, line;
	bool whole;

	assert_line(&rest, "a b", 3, true);
	assert_line(&rest, "", 0, true);
	assert_line(&rest, "A\0B", 3, false);
	assert_line(&rest, "c\0", 2, false);
	assert_line(&rest, "last", 4, false);
	cr_assert_not(span_next_line(&rest, &line, &whole));

	rest.p = rest.end = text;
	cr_assert_not(span_next_line(&rest, &line, &whole), "empty text has no line");
	rest.p = text + 3;
	rest.end = text + 4;
	assert_line(&rest, "", 0, true);
	cr_assert_not(span_next_line(&rest, &line, &whole), "no empty line after the last newline");
}

/* A clamped number is still a number only if every character is a digit. */
Test(procfile, dec_clamp_checks_all_digits)
{
	int64_t v = 7;
	struct span t;

	t = sp("99999999999999999999x");
	cr_assert_not(span_dec_clamp(&t, &v));
	t = sp("-99999999999999999999-");
	cr_assert_not(span_dec_clamp(&t, &v));
	cr_assert_eq(v, 7, "set on failure");
	t = sp("99999999999999999999");
	cr_assert_not(span_dec(&t, &v), "strict refuses what clamp takes");
	cr_assert(span_dec_clamp(&t, &v));
	cr_assert_eq(v, INT64_MAX);
}

/* 16 hex digits fill a u64; a 17th could not fit and is refused, even as a leading 0. */
Test(procfile, hex_width)
{
	uint64_t v = 7;
	struct span t;

	t = sp("fFfFfFfFfFfFfFfF");
	cr_assert(span_hex(&t, &v));
	cr_assert_eq(v, UINT64_MAX);
	t = sp("00000000000000001");
	cr_assert_not(span_hex(&t, &v));
	t = sp("");
	cr_assert_not(span_hex(&t, &v));
	t = sp("0x1");
	cr_assert_not(span_hex(&t, &v));
	cr_assert_eq(v, UINT64_MAX, "set on failure");
}

/*
 * A sysctl kept open shows each new value: read it, change it, read it
 * again through the same descriptor. In a namespace of our own, so the
 * host's somaxconn is never touched.
 */
Test(procfd, sysctl_kept_open_reads_afresh)
{
	struct procfd pf;
	char buf[32];
	size_t len;
	int fd;
	FILE *f;

	if (unshare(CLONE_NEWNET) < 0)
		cr_skip_test("unshare(CLONE_NEWNET): %s (needs root)", strerror(errno));
	procfd_init(&pf);
	cr_assert_eq(procfd_read_fixed(&pf, "/proc", "sys/net/core/somaxconn", buf, sizeof(buf), &len), 0);
	cr_assert_geq(pf.fd, 0, "a procfs file is kept open");
	fd = pf.fd;
	f = fopen("/proc/sys/net/core/somaxconn", "we");
	cr_assert_not_null(f);
	fputs("77\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(procfd_read_fixed(&pf, "/proc", "sys/net/core/somaxconn", buf, sizeof(buf), &len), 0);
	cr_assert_eq(pf.fd, fd, "the same descriptor");
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(buf, "77\n", 3), 0);
	procfd_close(&pf);
	cr_assert_eq(pf.fd, -1);
}

/* A plain file (a replayed -P tree) is opened each time: a replaced one is seen. */
Test(procfd, plain_file_not_kept, .init = tmp_setup, .fini = tmp_teardown)
{
	struct procfd pf;
	char buf[32], path[256], next[256];
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/value", tmp);
	snprintf(next, sizeof(next), "%s/value.new", tmp);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("1\n", f);
	cr_assert_eq(fclose(f), 0);
	procfd_init(&pf);
	cr_assert_eq(procfd_read_fixed(&pf, tmp, "value", buf, sizeof(buf), &len), 0);
	cr_assert_eq(pf.fd, -1, "not on procfs: not kept");
	cr_assert_eq(memcmp(buf, "1\n", 2), 0);
	f = fopen(next, "w");
	cr_assert_not_null(f);
	fputs("22\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(rename(next, path), 0);
	cr_assert_eq(procfd_read_fixed(&pf, tmp, "value", buf, sizeof(buf), &len), 0);
	cr_assert_eq(len, 3);
	cr_assert_eq(memcmp(buf, "22\n", 3), 0);
	cr_assert_eq(procfd_read_fixed(&pf, tmp, "missing", buf, sizeof(buf), &len), -ENOENT);
}

/* A buffer for files read every tick keeps procfs files open and reads them afresh; plain files are opened each time. */
Test(procbuf, kept_open_for_procfs_only, .init = tmp_setup, .fini = tmp_teardown)
{
	struct procbuf pb;
	char path[256], next[256];
	FILE *f;

	cr_assert_eq(procbuf_init_kept(&pb), 0);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(procfile_read_buf("/proc", "net/netstat", SIZE_MAX, &pb), 0);
		cr_assert_geq(pb.len, 7);
		cr_assert_eq(memcmp(pb.p, "TcpExt:", 7), 0, "read %d from offset 0", i);
		cr_assert_eq(pb.nkept, 1, "one descriptor, kept");
	}
	cr_assert_eq(procfile_read_buf("/proc", "net/snmp", SIZE_MAX, &pb), 0);
	cr_assert_eq(pb.nkept, 2);

	snprintf(path, sizeof(path), "%s/value", tmp);
	snprintf(next, sizeof(next), "%s/value.new", tmp);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("old\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(procfile_read_buf(tmp, "value", 64, &pb), 0);
	cr_assert_eq(pb.nkept, 2, "not on procfs: not kept");
	f = fopen(next, "w");
	cr_assert_not_null(f);
	fputs("new\n", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert_eq(rename(next, path), 0);
	cr_assert_eq(procfile_read_buf(tmp, "value", 64, &pb), 0);
	cr_assert_eq(pb.len, 4);
	cr_assert_eq(memcmp(pb.p, "new\n", 4), 0);
	procbuf_free(&pb);
	cr_assert_eq(pb.nkept, 0);
	cr_assert_null(pb.kept);
}

/*
 * A FIFO under -P: opening one to read blocks until a writer comes, and
 * reading it waits for data, so each reader must refuse it at once. The
 * alarm turns a hang into a failure.
 */
Test(procfile, fifo_refused_at_once, .init = tmp_setup, .fini = tmp_teardown, .timeout = 5)
{
	char path[300], *buf = sentinel, small[64];
	struct procfd pf;
	size_t len = 12345;
	int dirfd;

	snprintf(path, sizeof(path), "%s/fifo", tmp);
	cr_assert_eq(mkfifo(path, 0600), 0);
	alarm(3);
	cr_assert_eq(procfile_read(tmp, "fifo", 64, &buf, &len), -EINVAL);
	cr_assert_eq(buf, sentinel);
	cr_assert_eq(procfile_read_fixed(tmp, "fifo", small, sizeof(small), &len), -EINVAL);
	procfd_init(&pf);
	cr_assert_eq(procfd_read_fixed(&pf, tmp, "fifo", small, sizeof(small), &len), -EINVAL);
	cr_assert_eq(pf.fd, -1);
	dirfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dirfd, 0);
	cr_assert_eq(procfile_read_head_at(dirfd, "fifo", small, sizeof(small)), -EINVAL);
	cr_assert_eq(procfile_open_at(dirfd, "fifo"), -EINVAL);
	/* A regular file still opens; /dev/null (a device) does not. */
	cr_assert_eq(procfile_open_at(AT_FDCWD, "/dev/null"), -EINVAL);
	close(dirfd);
	alarm(0);
	cr_assert_eq(len, 12345);
}

/* The kernel's netstat is ~4 KiB: a 64 MiB one under -P is refused without reading it all in. */
Test(procfile, huge_netstat_refused, .init = tmp_setup, .fini = tmp_teardown)
{
	char path[300];
	struct counters c;
	struct procbuf pb;
	int fd, e_netstat = 0, e_snmp = 0;

	snprintf(path, sizeof(path), "%s/net", tmp);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/net/netstat", tmp);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 64 << 20), 0);
	close(fd);
	counters_init(&c);
	procbuf_init(&pb);
	/* Neither file readable: the whole read fails, with the big one's reason. */
	cr_assert_eq(netstat_read_each(tmp, &c, &pb, &e_netstat, &e_snmp), -EFBIG);
	cr_assert_eq(e_netstat, -EFBIG);
	cr_assert_eq(e_snmp, -ENOENT);
	cr_assert_leq(pb.cap, PROCFILE_MAX, "the buffer grew to %zu", pb.cap);
	procbuf_free(&pb);
	counters_free(&c);
}
