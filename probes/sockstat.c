/* sockstat.c: parse /proc/net/sockstat and sockstat6 (TCP sockets in use, orphans, TIME_WAIT, memory pages). */
#include "base.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "procfile.h"
#include "sockstat.h"

/*
 * sockstat is under 400 bytes and sockstat6 under 150 on 6.x kernels. A
 * file far larger than that is not one we know how to read: refuse it
 * rather than grow without bound.
 */
#define SOCKSTAT_FILE_MAX 65536

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

/*
 * Every word after the prefix pairs up as key, number; at least one pair.
 * The kernel prints the numbers with %d/%ld: a negative one is possible in
 * the text even if every field is clamped at 0 on current kernels.
 */
static bool pairs_ok(struct span rest)
{
	struct span key, val;
	unsigned pairs = 0;
	int64_t v;

	while (span_next_token(&rest, &key)) {
		if (!is_key(&key) || !span_next_token(&rest, &val) || !span_dec(&val, &v))
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

	if (!span_next_token(&rest, &prefix) || !is_prefix(&line, &prefix) || !pairs_ok(rest))
		return false;
	while (span_next_token(&rest, &key) && span_next_token(&rest, &val)) {
		int64_t *dst = field_for(out, &prefix, &key);

		(void)span_dec(&val, &v);  /* checked by pairs_ok */
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
	struct span rest = { text, text + len }, line;
	unsigned good = 0;
	bool whole;

	if (len == 0) {
		out->malformed++;
		return -EINVAL;
	}
	while (span_next_line(&rest, &line, &whole)) {
		if (!whole || !parse_line(line, out)) {
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

/* Read PROC_ROOT/REL whole into pb and parse it. Return: 0 or -errno. */
static int read_one(const char *proc_root, const char *rel, struct sockstat *out,
		    struct procbuf *pb)
{
	int err;

	err = procfile_read_buf(proc_root, rel, SOCKSTAT_FILE_MAX, pb);
	if (err)
		return err;
	return sockstat_parse(pb->p, pb->len, out);
}

/*
 * sockstat6 is optional: a kernel without IPv6 (or booted with
 * ipv6.disable=1) has no such file, and tcp6_inuse stays -1. The result is
 * that of net/sockstat alone.
 */
int sockstat_read_buf(const char *proc_root, struct sockstat *out, struct procbuf *pb)
{
	int err;

	sockstat_reset(out);
	err = read_one(proc_root, "net/sockstat", out, pb);
	(void)read_one(proc_root, "net/sockstat6", out, pb);
	return err;
}
