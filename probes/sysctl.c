/* sysctl.c: read the integer sysctls (somaxconn, SYN backlog, syncookies, abort_on_overflow) the diagnosis compares against. */
#include "version.h"	/* the autoconf header (_GNU_SOURCE); include/config.h is the config module */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sysctl.h"

/*
 * A strict decimal: optional '-', digits, optional trailing newline, and
 * nothing else. A multi-value sysctl ("32768\t60999") or a truncated or
 * out-of-range number is garbage, never a best guess.
 */
static bool parse_int(const char *s, size_t len, int64_t *out)
{
	bool neg = false;
	uint64_t v = 0, limit;
	size_t i = 0;

	if (len > 0 && s[len - 1] == '\n')
		len--;
	if (i < len && s[i] == '-') {
		neg = true;
		i++;
	}
	if (i == len)
		return false;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return false;
		d = (unsigned)(s[i] - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (!neg)
		*out = (int64_t)v;
	else if (v == (uint64_t)INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t)v;
	return true;
}

int64_t sysctl_read_int(const char *proc_root, const char *relpath)
{
	/* An int64 with sign and newline is 21 bytes; more than that is garbage. */
	char path[4096], buf[32];
	size_t len = 0;
	int64_t value;
	int fd, n;

	n = snprintf(path, sizeof(path), "%s/%s", proc_root, relpath);
	if (n < 0 || (size_t)n >= sizeof(path))
		return SYSCTL_UNKNOWN;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SYSCTL_UNKNOWN;
	for (;;) {
		ssize_t r;

		if (len == sizeof(buf)) {
			close(fd);
			return SYSCTL_UNKNOWN;
		}
		r = read(fd, buf + len, sizeof(buf) - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return SYSCTL_UNKNOWN;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (!parse_int(buf, len, &value))
		return SYSCTL_UNKNOWN;
	return value;
}

void sysctl_read_limits(const char *proc_root, struct limits *out)
{
	out->somaxconn = sysctl_read_int(proc_root, "sys/net/core/somaxconn");
	out->tcp_max_syn_backlog = sysctl_read_int(proc_root, "sys/net/ipv4/tcp_max_syn_backlog");
	out->tcp_syncookies = sysctl_read_int(proc_root, "sys/net/ipv4/tcp_syncookies");
	out->tcp_abort_on_overflow = sysctl_read_int(proc_root, "sys/net/ipv4/tcp_abort_on_overflow");
}
