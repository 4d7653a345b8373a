/* conntrack.c: read nf_conntrack's table fill (count) and its per-CPU drop counters from /proc. */
#include "version.h"	/* the autoconf header (_GNU_SOURCE); include/config.h is the config module */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conntrack.h"
#include "sysctl.h"

/*
 * One header of ~200 bytes plus one ~160-byte row per possible CPU: 64 KiB
 * covers 400 CPUs; the buffer grows up to CT_FILE_MAX (6,500 CPUs) and a
 * file larger than that is refused rather than read without bound.
 */
#define CT_CHUNK 65536
#define CT_FILE_MAX (1024 * 1024)

/* Which column holds each sum; -1 when the header lacks it. */
struct columns {
	long drop;
	long early_drop;
	long insert_failed;
	size_t count;      /* columns in the header */
};

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

/* A column name: a lowercase word with digits and '_' ("insert_failed"). */
static bool is_name(const struct span *tok)
{
	const char *p;

	for (p = tok->p; p < tok->end; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

/*
 * The kernel prints each field with "%08x" of a u32; accept up to 16 hex
 * digits so a wider field in some future kernel still reads. Return: false
 * when the token is not hex.
 */
static bool parse_hex(const struct span *tok, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (tok->p == tok->end || tok->end - tok->p > 16)
		return false;
	for (p = tok->p; p < tok->end; p++) {
		unsigned d;

		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (*p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

/* A sum of per-CPU u32 values never wraps a u64; clamp anyway for hostile input. */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Find the three columns by name. Return: false when the header is not one. */
static bool parse_header(struct span line, struct columns *col)
{
	struct span tok;
	long i = 0;

	col->drop = col->early_drop = col->insert_failed = -1;
	while (next_token(&line, &tok)) {
		if (!is_name(&tok))
			return false;
		/* A repeated name is not a header the kernel wrote. */
		if (span_is(&tok, "drop")) {
			if (col->drop >= 0)
				return false;
			col->drop = i;
		} else if (span_is(&tok, "early_drop")) {
			if (col->early_drop >= 0)
				return false;
			col->early_drop = i;
		} else if (span_is(&tok, "insert_failed")) {
			if (col->insert_failed >= 0)
				return false;
			col->insert_failed = i;
		}
		i++;
	}
	col->count = (size_t)i;
	return col->drop >= 0 || col->early_drop >= 0 || col->insert_failed >= 0;
}

/*
 * One CPU's row: exactly as many hex fields as the header has names, or
 * the columns cannot be trusted and the row is skipped whole.
 */
static bool parse_row(struct span line, const struct columns *col, struct conntrack_stat *out)
{
	struct span r = line, tok;
	uint64_t v, drop = 0, early = 0, failed = 0;
	long i = 0;

	while (next_token(&r, &tok)) {
		if ((size_t)i == col->count || !parse_hex(&tok, &v))
			return false;
		if (i == col->drop)
			drop = v;
		else if (i == col->early_drop)
			early = v;
		else if (i == col->insert_failed)
			failed = v;
		i++;
	}
	if ((size_t)i != col->count)
		return false;
	out->drop = sat_add(out->drop, drop);
	out->early_drop = sat_add(out->early_drop, early);
	out->insert_failed = sat_add(out->insert_failed, failed);
	return true;
}

/*
 * Rows that do not parse (a wrong field count, a non-hex field, a NUL
 * byte, a last line without its newline, which means a cut-off read) are
 * counted in out->malformed and left out of the sums. The sums are set,
 * not added to. Besides a header without any of the three names, a file
 * with no row that parsed is -EINVAL too: a kernel always has one possible
 * CPU, and zero sums from nothing would look like a counter reset.
 */
int conntrack_parse_stat(const char *text, size_t len, struct conntrack_stat *out)
{
	const char *p = text, *end = text + len;
	struct columns col = { -1, -1, -1, 0 };
	bool header = true;
	unsigned rows = 0;

	out->have_stat = false;
	out->drop = out->early_drop = out->insert_failed = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct span line = { p, nl ? nl : end };
		bool bad = !nl || memchr(line.p, '\0', (size_t)(line.end - line.p));

		p = nl ? nl + 1 : end;
		if (header) {
			if (bad || !parse_header(line, &col)) {
				out->malformed++;
				return -EINVAL;
			}
			header = false;
			continue;
		}
		if (bad || !parse_row(line, &col, out)) {
			out->malformed++;
			continue;
		}
		rows++;
	}
	if (header || rows == 0) {
		out->malformed++;
		out->drop = out->early_drop = out->insert_failed = 0;
		return -EINVAL;
	}
	out->have_stat = true;
	return 0;
}

/* Read a whole file of unknown size (/proc reports st_size 0). Return: 0 or -errno. */
static int read_file(const char *path, char **bufp, size_t *lenp)
{
	size_t cap = CT_CHUNK, len = 0;
	char *buf = malloc(cap), *nbuf;
	int fd, err;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto out_free;
	}
	for (;;) {
		ssize_t r;

		if (len == cap) {
			if (cap >= CT_FILE_MAX) {
				err = -EFBIG;
				goto out_close;
			}
			nbuf = realloc(buf, cap * 2);
			if (!nbuf) {
				err = -ENOMEM;
				goto out_close;
			}
			buf = nbuf;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len);
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
	close(fd);
	*bufp = buf;
	*lenp = len;
	return 0;

out_close:
	close(fd);
out_free:
	free(buf);
	return err;
}

/*
 * nf_conntrack_count is per network namespace, like the stat rows; it is
 * compared with the global nf_conntrack_max, which is what makes a busy
 * namespace drop on its own. Without the module neither file exists: that
 * is present = false and 0. Any other failure is returned, with the parts
 * that could be read still filled in.
 */
int conntrack_read(const char *proc_root, struct conntrack_stat *out)
{
	char path[4096];
	char *buf = NULL;
	size_t len = 0;
	int n, err;

	out->present = false;
	out->count = -1;
	out->have_stat = false;
	out->drop = out->early_drop = out->insert_failed = 0;
	out->malformed = 0;

	out->count = sysctl_read_int(proc_root, "sys/net/netfilter/nf_conntrack_count");
	if (out->count < 0)
		out->count = -1;
	out->present = out->count >= 0;

	n = snprintf(path, sizeof(path), "%s/net/stat/nf_conntrack", proc_root);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	err = read_file(path, &buf, &len);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	err = conntrack_parse_stat(buf, len, out);
	free(buf);
	return err;
}
