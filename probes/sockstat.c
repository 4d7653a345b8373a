/* sockstat.c: parse /proc/net/sockstat and sockstat6 (TCP sockets in use, orphans, TIME_WAIT, memory pages). */
#include "version.h"	/* the autoconf header (_GNU_SOURCE); include/config.h is the config module */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sockstat.h"

/*
 * sockstat is under 400 bytes and sockstat6 under 150 on 6.x kernels. A
 * file far larger than that is not one we know how to read: refuse it
 * rather than grow without bound.
 */
#define SOCKSTAT_FILE_MAX 65536

/* One line or token, not NUL-terminated: [p, end). */
struct span {
	const char *p;
	const char *end;
};

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool next_token(struct span *s, struct span *tok)
{
	while (s->p < s->end && is_blank(*s->p))
		s->p++;
	if (s->p == s->end)
		return false;
	tok->p = s->p;
	while (s->p < s->end && !is_blank(*s->p))
		s->p++;
	tok->end = s->p;
	return true;
}

static bool span_is(const struct span *s, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(s->end - s->p) == n && memcmp(s->p, lit, n) == 0;
}

/*
 * A decimal integer, optionally negative; false past the int64 range. The
 * kernel prints these with %d/%ld: a negative value is possible in the
 * text even if every field is clamped at 0 on current kernels.
 */
static bool parse_dec(const struct span *tok, int64_t *out)
{
	const char *p = tok->p;
	bool neg = false;
	uint64_t v = 0, limit;

	if (p < tok->end && *p == '-') {
		neg = true;
		p++;
	}
	if (p == tok->end)
		return false;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < tok->end; p++) {
		unsigned d;

		if (*p < '0' || *p > '9')
			return false;
		d = (unsigned)(*p - '0');
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

/* Where the value of KEY on the line with PREFIX goes; NULL for the rest. */
static int64_t *field_for(struct sockstat *out, const struct span *prefix, const struct span *key)
{
	if (span_is(prefix, "sockets:"))
		return span_is(key, "used") ? &out->sockets_used : NULL;
	if (span_is(prefix, "TCP:")) {
		if (span_is(key, "inuse"))
			return &out->tcp_inuse;
		if (span_is(key, "orphan"))
			return &out->tcp_orphan;
		if (span_is(key, "tw"))
			return &out->tcp_tw;
		if (span_is(key, "alloc"))
			return &out->tcp_alloc;
		if (span_is(key, "mem"))
			return &out->tcp_mem;
		return NULL;
	}
	if (span_is(prefix, "TCP6:"))
		return span_is(key, "inuse") ? &out->tcp6_inuse : NULL;
	return NULL;
}

/* A key is a short lowercase word; anything else means the columns slid. */
static bool is_key(const struct span *tok)
{
	const char *p;

	if (tok->end - tok->p > 32)
		return false;
	for (p = tok->p; p < tok->end; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

/* "TCP6:", "sockets:": a word and its colon, at the very start of the line. */
static bool is_prefix(const struct span *line, const struct span *tok)
{
	struct span word = { tok->p, tok->end - 1 };

	return tok->p == line->p && tok->end - tok->p >= 2 && tok->end[-1] == ':' &&
	       is_key(&word);
}

/* Every word after the prefix pairs up as key, number; at least one pair. */
static bool pairs_ok(struct span rest)
{
	struct span key, val;
	unsigned pairs = 0;
	int64_t v;

	while (next_token(&rest, &key)) {
		if (!is_key(&key) || !next_token(&rest, &val) || !parse_dec(&val, &v))
			return false;
		pairs++;
	}
	return pairs > 0;
}

/*
 * "Prefix: key value key value ...". The whole line is checked before any
 * of it is stored: a line with an odd word count, a value that is not a
 * number or a key that is not a word is a line whose pairs cannot be
 * trusted. Keys are matched by name, so a kernel that reorders them or
 * adds new ones is read correctly. Return: false when malformed.
 */
static bool parse_line(struct span line, struct sockstat *out)
{
	struct span prefix, rest = line, key, val;
	int64_t v;

	if (!next_token(&rest, &prefix) || !is_prefix(&line, &prefix) || !pairs_ok(rest))
		return false;
	while (next_token(&rest, &key) && next_token(&rest, &val)) {
		int64_t *dst = field_for(out, &prefix, &key);

		(void)parse_dec(&val, &v);  /* checked by pairs_ok */
		/*
		 * The kernel clamps its per-CPU sums at 0; only "tw"
		 * (tw_refcount - 1) could dip below during namespace teardown.
		 * 0 is the truth then, and -1 means "missing" here.
		 */
		if (dst)
			*dst = v < 0 ? 0 : v;
	}
	return true;
}

/*
 * Parse line by line. A line with a NUL byte, a last line without its
 * newline (a cut-off read) or a line that parse_line rejects is counted in
 * out->malformed and skipped; the others still count.
 */
int sockstat_parse(const char *text, size_t len, struct sockstat *out)
{
	const char *p = text, *end = text + len;
	unsigned good = 0;

	if (len == 0) {
		out->malformed++;
		return -EINVAL;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct span line = { p, nl ? nl : end };

		p = nl ? nl + 1 : end;
		if (!nl || memchr(line.p, '\0', (size_t)(line.end - line.p)) ||
		    !parse_line(line, out)) {
			out->malformed++;
			continue;
		}
		good++;
	}
	return good ? 0 : -EINVAL;
}

static void sockstat_reset(struct sockstat *out)
{
	out->sockets_used = -1;
	out->tcp_inuse = -1;
	out->tcp_orphan = -1;
	out->tcp_tw = -1;
	out->tcp_alloc = -1;
	out->tcp_mem = -1;
	out->tcp6_inuse = -1;
	out->malformed = 0;
}

/* Read PROC_ROOT/REL whole and parse it. Return: 0 or -errno. */
static int read_one(const char *proc_root, const char *rel, struct sockstat *out)
{
	char path[4096];
	char *buf;
	size_t len = 0;
	int fd, n, err = 0;

	n = snprintf(path, sizeof(path), "%s/%s", proc_root, rel);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	buf = malloc(SOCKSTAT_FILE_MAX);
	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out_free;
	}
	for (;;) {
		ssize_t r;

		if (len == SOCKSTAT_FILE_MAX) {
			err = -EFBIG;
			goto out_close;
		}
		r = read(fd, buf + len, SOCKSTAT_FILE_MAX - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out_close;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	err = sockstat_parse(buf, len, out);
out_close:
	close(fd);
out_free:
	free(buf);
	return err;
}

/*
 * sockstat6 is optional: a kernel without IPv6 (or booted with
 * ipv6.disable=1) has no such file, and tcp6_inuse stays -1. The result is
 * that of net/sockstat alone.
 */
int sockstat_read(const char *proc_root, struct sockstat *out)
{
	int err;

	sockstat_reset(out);
	err = read_one(proc_root, "net/sockstat", out);
	(void)read_one(proc_root, "net/sockstat6", out);
	return err;
}
