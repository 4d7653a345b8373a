/* netstat_layout.c: a re-read of /proc/net/netstat and snmp with the headers of the last whole read parses only its values, into place. */
#include "base.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "netstat.h"
#include "netstat_int.h"
#include "procfile.h"

/*
 * The kernel writes each file as pairs of lines, "Prefix: Name1 Name2 ..."
 * then "Prefix: v1 v2 ...": the layout keeps the first of each pair.
 */

void netstat_layout_drop(struct counters *c)
{
	c->layout.valid = false;
	memset(c->layout.hdr_len, 0, sizeof(c->layout.hdr_len));
	memset(c->layout.nslot, 0, sizeof(c->layout.nslot));
}

int netstat_layout_note(struct counters *c, unsigned file, const char *text, size_t len)
{
	struct counters_layout *ly = &c->layout;
	struct span rest = { text, text + len }, line;
	size_t at = 0;
	bool whole, header = true;
	void *np;

	if (file >= NETSTAT_FILES)
		return -EINVAL;
	ly->valid = false;
	ly->hdr_len[file] = 0;
	/* Each line kept with a '\n', a last one without it too: at most len + 1 bytes. */
	if (array_reserve(ly->hdr[file], &ly->hdr_cap[file], len + 1, 1, &np) < 0)
		return -ENOMEM;
	ly->hdr[file] = np;
	while (span_next_line(&rest, &line, &whole)) {
		size_t l = (size_t)(line.end - line.p);

		if (header) {
			memcpy(ly->hdr[file] + at, line.p, l);
			ly->hdr[file][at + l] = '\n';
			at += l + 1;
		}
		header = !header;
	}
	ly->hdr_len[file] = at;
	return 0;
}

/* The items[] index of "prefix.field", or UINT32_MAX when there is none. */
static uint32_t slot_of(const struct counters *c, struct span prefix, struct span field)
{
	char name[COUNTER_NAME_MAX];
	const struct counter *hit;

	if (!netstat_field_name(name, prefix, field))
		return UINT32_MAX;
	hit = netstat_find(c, name);
	return hit ? (uint32_t)(hit - c->items) : UINT32_MAX;
}

/* Map one file's header lines to items[], appending to the slots. Return: false when a name is not there. */
static bool map_file(struct counters *c, unsigned file, size_t *k)
{
	struct counters_layout *ly = &c->layout;
	struct span text = { ly->hdr[file], ly->hdr[file] + ly->hdr_len[file] }, line, tok;
	struct pline hdr;
	bool whole;

	ly->nslot[file] = 0;
	while (span_next_line(&text, &line, &whole)) {
		if (!netstat_split_line(line, &hdr))
			return false;
		while (span_next_token(&hdr.rest, &tok)) {
			uint32_t s = slot_of(c, hdr.prefix, tok);

			if (s == UINT32_MAX)
				return false;
			ly->slot[(*k)++] = s;
			ly->nslot[file]++;
		}
	}
	return true;
}

int netstat_layout_finish(struct counters *c)
{
	struct counters_layout *ly = &c->layout;
	size_t k = 0, f;
	void *np;

	ly->valid = false;
	/* Anything malformed, or a file not read: the next read parses everything again. */
	if (c->malformed || c->count == 0 || c->count >= UINT32_MAX)
		return 0;
	for (f = 0; f < NETSTAT_FILES; f++)
		if (ly->hdr_len[f] == 0)
			return 0;
	if (array_reserve(ly->slot, &ly->slot_cap, c->count, sizeof(*ly->slot), &np) < 0)
		return -ENOMEM;
	ly->slot = np;
	for (f = 0; f < NETSTAT_FILES; f++)
		if (!map_file(c, (unsigned)f, &k))
			return 0;
	/* Every counter once: no name was read twice (that would be malformed) and none is left out. */
	ly->valid = k == c->count;
	return 0;
}

/* The first slot of file's values in the layout. */
static const uint32_t *file_slots(const struct counters_layout *ly, unsigned file)
{
	size_t off = 0, f;

	for (f = 0; f < file; f++)
		off += ly->nslot[f];
	return ly->slot + off;
}

/*
 * One value line under its header, as netstat_parse would take it: the same
 * prefix, split the same way, exactly as many numbers as names.
 * Return: values taken, or -1.
 */
static long take_values(struct counters *c, struct span hdr_line, struct span val_line,
			const uint32_t *slots, size_t room)
{
	struct pline hdr, val;
	struct span tok;
	size_t n = 0;
	int64_t v;

	if (!netstat_split_line(hdr_line, &hdr) || !netstat_split_line(val_line, &val) ||
	    !netstat_same_prefix(&hdr, &val))
		return -1;
	while (span_next_token(&hdr.rest, &tok)) {
		if (n == room || !span_next_token(&val.rest, &tok) || !span_dec_clamp(&tok, &v))
			return -1;
		c->items[slots[n++]].value = v;
	}
	return span_next_token(&val.rest, &tok) ? -1 : (long)n;
}

bool netstat_layout_update(struct counters *c, unsigned file, const char *text, size_t len)
{
	const struct counters_layout *ly = &c->layout;
	struct span rest = { text, text + len }, hdr, val;
	const char *want, *end;
	const uint32_t *slots;
	size_t used = 0;
	bool whole;

	if (!ly->valid || file >= NETSTAT_FILES)
		return false;
	want = ly->hdr[file];
	end = want + ly->hdr_len[file];
	slots = file_slots(ly, file);
	while (span_next_line(&rest, &hdr, &whole)) {
		size_t l = (size_t)(hdr.end - hdr.p);
		long took;

		/* The header line, byte for byte, then its value line. */
		if (!whole || (size_t)(end - want) < l + 1 || memcmp(want, hdr.p, l) != 0 || want[l] != '\n' ||
		    !span_next_line(&rest, &val, &whole) || !whole)
			return false;
		took = take_values(c, hdr, val, slots + used, ly->nslot[file] - used);
		if (took < 0)
			return false;
		used += (size_t)took;
		want += l + 1;
	}
	return want == end && used == ly->nslot[file];
}
