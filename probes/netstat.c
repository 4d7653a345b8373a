/* netstat.c: parse /proc/net/netstat and /proc/net/snmp into a sorted "Prefix.Name" -> value table. */
#include "base.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netstat.h"
#include "netstat_int.h"
#include "procfile.h"
#include "sort.h"

void counters_init(struct counters *c)
{
	c->items = NULL;
	c->count = 0;
	c->cap = 0;
	c->malformed = 0;
	c->spare = NULL;
	c->spare_cap = 0;
	c->order = NULL;
	c->order_cap = 0;
	memset(&c->layout, 0, sizeof(c->layout));
}

/* Keep the buffer: the same counters are read again every tick. */
void counters_clear(struct counters *c)
{
	c->count = 0;
	c->malformed = 0;
}

void counters_free(struct counters *c)
{
	free(c->items);
	free(c->spare);
	free(c->order);
	for (size_t f = 0; f < NETSTAT_FILES; f++)
		free(c->layout.hdr[f]);
	free(c->layout.slot);
	counters_init(c);
}

static int counter_cmp(const void *a, const void *b)
{
	const struct counter *ca = a, *cb = b;

	return strcmp(ca->name, cb->name);
}

/*
 * items[] is kept sorted by name (netstat_parse sorts what it appends), so
 * a lookup is a binary search over ~300 entries.
 */
const struct counter *netstat_find(const struct counters *c, const char *name)
{
	struct counter key;
	size_t len = strlen(name);

	if (len >= sizeof(key.name) || c->count == 0)
		return NULL;
	memcpy(key.name, name, len + 1);
	return bsearch(&key, c->items, c->count, sizeof(*c->items), counter_cmp);
}

bool counters_get(const struct counters *c, const char *name, int64_t *value)
{
	const struct counter *hit = netstat_find(c, name);

	if (!hit)
		return false;
	if (value)
		*value = hit->value;
	return true;
}

static int counters_reserve(struct counters *c, size_t extra)
{
	struct counter *items;
	size_t cap;

	if (c->count + extra <= c->cap)
		return 0;
	cap = c->cap ? c->cap : 256;
	while (cap < c->count + extra)
		cap *= 2;
	items = realloc(c->items, cap * sizeof(*items));
	if (!items)
		return -ENOMEM;
	c->items = items;
	c->cap = cap;
	return 0;
}

/*
 * True when every token after the prefix is a number: a value line. snmp
 * has signed fields (Tcp.MaxConn -1); netstat counters are unsigned 64-bit,
 * and one above INT64_MAX is clamped there rather than refused or wrapped,
 * so a value never turns negative and a caller's delta never overflows.
 */
static bool all_numeric(struct span rest)
{
	struct span tok;
	int64_t v;

	while (span_next_token(&rest, &tok))
		if (!span_dec_clamp(&tok, &v))
			return false;
	return true;
}

bool netstat_split_line(struct span line, struct pline *out)
{
	const char *colon = memchr(line.p, ':', (size_t)(line.end - line.p));
	const char *q;

	if (!colon || colon == line.p)
		return false;
	for (q = line.p; q < colon; q++)
		if (span_blank(*q))
			return false;
	if (colon + 1 < line.end && !span_blank(colon[1]))
		return false;
	out->prefix.p = line.p;
	out->prefix.end = colon;
	out->rest.p = colon + 1;
	out->rest.end = line.end;
	return true;
}

bool netstat_same_prefix(const struct pline *a, const struct pline *b)
{
	size_t la = (size_t)(a->prefix.end - a->prefix.p);
	size_t lb = (size_t)(b->prefix.end - b->prefix.p);

	return la == lb && memcmp(a->prefix.p, b->prefix.p, la) == 0;
}

bool netstat_field_name(char dst[COUNTER_NAME_MAX], struct span prefix, struct span field)
{
	size_t plen = (size_t)(prefix.end - prefix.p), nlen = (size_t)(field.end - field.p);

	if (plen + 1 + nlen > COUNTER_NAME_MAX - 1)
		return false;
	memcpy(dst, prefix.p, plen);
	dst[plen] = '.';
	memcpy(dst + plen + 1, field.p, nlen);
	dst[plen + 1 + nlen] = '\0';
	return true;
}

static size_t count_tokens(struct span rest)
{
	struct span tok;
	size_t n = 0;

	while (span_next_token(&rest, &tok))
		n++;
	return n;
}

/*
 * Append the fields of one header/value pair. The whole pair is rejected
 * when the counts differ or a value is not a number (the columns could not
 * be trusted); a single field is rejected when its name is too long.
 */
static int add_pair(struct counters *out, const struct pline *hdr,
		    const struct pline *val)
{
	size_t n = count_tokens(hdr->rest);
	struct span names = hdr->rest, values = val->rest, name, value;
	int err;

	if (n != count_tokens(val->rest) || !all_numeric(val->rest)) {
		out->malformed++;
		return 0;
	}
	err = counters_reserve(out, n);
	if (err)
		return err;
	while (span_next_token(&names, &name) && span_next_token(&values, &value)) {
		struct counter *c = &out->items[out->count];

		if (!netstat_field_name(c->name, hdr->prefix, name)) {
			out->malformed++;
			continue;
		}
		(void)span_dec_clamp(&value, &c->value);  /* checked by all_numeric */
		out->count++;
	}
	return 0;
}

/*
 * Order by name; equal names by position in items[] (the pointers all point
 * into one array), which makes the sort stable: the first occurrence wins.
 */
static int ptr_cmp(const void *a, const void *b)
{
	const struct counter *ca = *(const struct counter *const *)a;
	const struct counter *cb = *(const struct counter *const *)b;
	int r = strcmp(ca->name, cb->name);

	if (r)
		return r;
	return ca < cb ? -1 : ca > cb;
}

/*
 * Make the merge scratch as large as items: the merge writes up to cap
 * entries into spare, and sorts up to that many pointers in order. Both
 * only ever grow, so the same fields read again need no allocation.
 */
static int merge_reserve(struct counters *c)
{
	if (c->spare_cap < c->cap) {
		struct counter *spare = realloc(c->spare, c->cap * sizeof(*spare));

		if (!spare)
			return -ENOMEM;
		c->spare = spare;
		c->spare_cap = c->cap;
	}
	if (c->order_cap < c->cap) {
		const struct counter **order = realloc(c->order, c->cap * sizeof(*order));

		if (!order)
			return -ENOMEM;
		c->order = order;
		c->order_cap = c->cap;
	}
	return 0;
}

/*
 * items[0, old) is sorted; items[old, count) was just appended in file
 * order. Sort the new part, then merge both into the spare array, which
 * then trades places with items. A name seen twice is a duplicate the
 * kernel never writes: the first one stays, the later one counts as
 * malformed.
 */
static int merge_new(struct counters *c, size_t old)
{
	size_t nnew = c->count - old, i = 0, j = 0, k = 0, cap;
	const struct counter **fresh;
	struct counter *merged;

	if (nnew == 0)
		return 0;
	if (merge_reserve(c) < 0) {
		c->count = old;
		return -ENOMEM;
	}
	fresh = c->order;
	merged = c->spare;
	for (j = 0; j < nnew; j++)
		fresh[j] = &c->items[old + j];
	sort_inplace(fresh, nnew, sizeof(*fresh), ptr_cmp);

	j = 0;
	while (i < old || j < nnew) {
		const struct counter *next;

		/* On a tie the old entry goes first, so the new one is the duplicate. */
		if (j == nnew || (i < old && strcmp(c->items[i].name, fresh[j]->name) <= 0))
			next = &c->items[i++];
		else
			next = fresh[j++];
		if (k > 0 && strcmp(merged[k - 1].name, next->name) == 0) {
			c->malformed++;
			continue;
		}
		merged[k++] = *next;
	}
	cap = c->spare_cap;
	c->spare = c->items;
	c->spare_cap = c->cap;
	c->items = merged;
	c->cap = cap;
	c->count = k;
	return 0;
}

/*
 * Lines come in pairs "Prefix: Name1 Name2 ..." / "Prefix: v1 v2 ...".
 * A header waits for the next line; a line with the same prefix is its
 * values. Anything else (a header with no value line, a value line with
 * no header or another prefix, a line without "Prefix:", a NUL byte, a
 * last line with no newline, which means a cut-off read) is counted in
 * out->malformed and parsing goes on with the next line, so one bad pair
 * does not cost the others.
 */
int netstat_parse(const char *text, size_t len, struct counters *out)
{
	struct span rest = { text, text + len }, line;
	size_t old = out->count;
	struct pline hdr = { { NULL, NULL }, { NULL, NULL } }, cur;
	bool pending = false, whole;
	int err;

	if (len == 0) {
		out->malformed++;
		return 0;
	}
	while (span_next_line(&rest, &line, &whole)) {
		if (!whole || !netstat_split_line(line, &cur)) {
			out->malformed++;
			if (pending)
				out->malformed++;
			pending = false;
			continue;
		}
		if (pending && netstat_same_prefix(&hdr, &cur)) {
			err = add_pair(out, &hdr, &cur);
			if (err) {
				out->count = old;
				return err;
			}
			pending = false;
			continue;
		}
		if (pending) {
			/* header whose value line never came */
			out->malformed++;
			pending = false;
			if (all_numeric(cur.rest)) {
				/* values under the wrong prefix: reject the pair */
				continue;
			}
		} else if (all_numeric(cur.rest)) {
			out->malformed++;  /* value line without a header */
			continue;
		}
		hdr = cur;
		pending = true;
	}
	if (pending)
		out->malformed++;
	return merge_new(out, old);
}

static int read_one(const char *proc_root, const char *rel, struct counters *out,
		    struct procbuf *pb, unsigned file)
{
	int err;

	/* The kernel's files are ~4 KiB: a 64 MiB one under -P is refused, not read into memory. */
	err = procfile_read_buf(proc_root, rel, PROCFILE_MAX, pb);
	if (err)
		return err;
	err = netstat_parse(pb->p, pb->len, out);
	return err ? err : netstat_layout_note(out, file, pb->p, pb->len);
}

static const char *const netstat_files[NETSTAT_FILES] = { "net/netstat", "net/snmp" };

/*
 * The re-read of a tick: both files with the headers of the last whole
 * read, their values parsed into place. Return: false when either is not
 * (then some values may be new and others old: a whole read follows).
 */
static bool reread(const char *proc_root, struct counters *out, struct procbuf *pb)
{
	unsigned f;

	if (!out->layout.valid)
		return false;
	for (f = 0; f < NETSTAT_FILES; f++)
		if (procfile_read_buf(proc_root, netstat_files[f], PROCFILE_MAX, pb) != 0 ||
		    !netstat_layout_update(out, f, pb->p, pb->len))
			return false;
	return true;
}

int netstat_read_each(const char *proc_root, struct counters *out, struct procbuf *pb,
		      int *netstat_err, int *snmp_err)
{
	int e1, e2;

	*netstat_err = *snmp_err = 0;
	if (reread(proc_root, out, pb))
		return 0;
	counters_clear(out);
	netstat_layout_drop(out);
	*netstat_err = e1 = read_one(proc_root, netstat_files[0], out, pb, 0);
	if (e1 == -ENOMEM)
		return e1;
	*snmp_err = e2 = read_one(proc_root, netstat_files[1], out, pb, 1);
	if (e2 == -ENOMEM)
		return e2;
	if (netstat_layout_finish(out) < 0)
		return -ENOMEM;
	/* One file is enough to be useful; report only when both failed. */
	return e1 && e2 ? e1 : 0;
}

int netstat_read_buf(const char *proc_root, struct counters *out, struct procbuf *pb)
{
	int e1, e2;

	return netstat_read_each(proc_root, out, pb, &e1, &e2);
}
