/* conntrack.c: read nf_conntrack's table fill (count) and its per-CPU drop counters from /proc. */
#include "base.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "conntrack.h"
#include "procfile.h"
#include "sysctl.h"

/*
 * One header of ~200 bytes plus one ~160-byte row per possible CPU: 1 MiB
 * covers 6,500 CPUs, and a file larger than that is refused rather than
 * read without bound.
 */
#define CT_FILE_MAX (1024 * 1024)

/* Which column holds each sum; -1 when the header lacks it. */
struct columns {
	long drop;
	long early_drop;
	long insert_failed;
	size_t count;      /* columns in the header */
};

/* A column name: a lowercase word with digits and '_' ("insert_failed"). */
static bool is_name(const struct span *tok)
{
	const char *p;

	for (p = tok->p; p < tok->end; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
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
	while (span_next_token(&line, &tok)) {
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
 * the columns cannot be trusted and the row is skipped whole. The kernel
 * prints each field with "%08x" of a u32; span_hex takes up to 16 digits,
 * so a wider field in some future kernel still reads.
 */
static bool parse_row(struct span line, const struct columns *col, struct conntrack_stat *out)
{
	struct span r = line, tok;
	uint64_t v, drop = 0, early = 0, failed = 0;
	long i = 0;

	while (span_next_token(&r, &tok)) {
		if ((size_t)i == col->count || !span_hex(&tok, &v))
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
	struct span rest = { text, text + len }, line;
	struct columns col = { -1, -1, -1, 0 };
	bool header = true, whole;
	unsigned rows = 0;

	out->have_stat = false;
	out->drop = out->early_drop = out->insert_failed = 0;
	while (span_next_line(&rest, &line, &whole)) {
		if (header) {
			if (!whole || !parse_header(line, &col)) {
				out->malformed++;
				return -EINVAL;
			}
			header = false;
			continue;
		}
		if (!whole || !parse_row(line, &col, out)) {
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

/*
 * nf_conntrack_count is per network namespace, like the stat rows; it is
 * compared with the global nf_conntrack_max, which is what makes a busy
 * namespace drop on its own. Without the module neither file exists: that
 * is present = false and 0. Any other failure is returned, with the parts
 * that could be read still filled in.
 */
int conntrack_read2_buf(const char *proc_root, const char *sys_root, struct conntrack_stat *out,
			struct procbuf *pb)
{
	return conntrack_read_kept(proc_root, sys_root, out, pb, NULL);
}

int conntrack_read_kept(const char *proc_root, const char *sys_root, struct conntrack_stat *out,
			struct procbuf *pb, struct procfd *count_fd)
{
	int err;

	out->present = false;
	out->count = -1;
	out->have_stat = false;
	out->drop = out->early_drop = out->insert_failed = 0;
	out->malformed = 0;

	out->count = count_fd ? sysctl_read_int_kept(count_fd, sys_root, "sys/net/netfilter/nf_conntrack_count")
			      : sysctl_read_int(sys_root, "sys/net/netfilter/nf_conntrack_count");
	if (out->count < 0)
		out->count = -1;
	out->present = out->count >= 0;

	err = procfile_read_buf(proc_root, "net/stat/nf_conntrack", CT_FILE_MAX, pb);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	return conntrack_parse_stat(pb->p, pb->len, out);
}
