/* drop_feed.c: the eBPF tier in the daemon's loop: opened as configured, its events read into the fleet. */
#include "base.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "drop_feed.h"
#include "log.h"
#include "sort.h"

int drop_feed_open(struct drop_feed *df, enum config_bpf mode)
{
	int r;

	memset(df, 0, sizeof(*df));
	if (mode == CONFIG_BPF_NO) {
		snprintf(df->report.why, sizeof(df->report.why), "off by configuration ([daemon] bpf = no)");
		return 0;
	}
	r = bpf_tier_open(&df->tier, df->report.why, sizeof(df->report.why));
	if (r < 0) {
		df->tier = NULL;
		if (mode == CONFIG_BPF_YES)
			return r;
		/* Polling still tells every cause; only the clients' names and the early finding are missing. */
		log_warnx("eBPF tier off: %s; findings will not name the clients dropped", df->report.why);
		return 0;
	}
	df->report.on = true;
	snprintf(df->report.parts, sizeof(df->report.parts), "%s", bpf_tier_parts(df->tier));
	if (df->report.why[0])
		log_warnx("eBPF tier: running %s; %s", df->report.parts, df->report.why);
	else
		log_info("eBPF tier: running %s", df->report.parts);
	return 0;
}

int drop_feed_fd(const struct drop_feed *df)
{
	return df->tier ? bpf_tier_fd(df->tier) : -1;
}

size_t drop_feed_read(struct drop_feed *df, struct fleet *fl)
{
	size_t opened = 0;
	int batch, n;

	if (!df->tier)
		return 0;
	for (batch = 0; batch < DROP_FEED_BATCHES; batch++) {
		unsigned bad = 0;

		n = bpf_tier_read(df->tier, df->buf, DROP_FEED_BATCH, &bad);
		df->report.bad += bad;
		if (n < 0) {
			errno = -n;
			log_warn("eBPF tier: reading its events failed");
			break;
		}
		opened += fleet_add_drops(fl, df->buf, (size_t)n, clock_wall_ms(), clock_mono_us() * 1000u,
					  &df->unwatched_here);
		df->report.events += (uint64_t)n;
		if ((size_t)n < DROP_FEED_BATCH)
			break;
	}
	return opened;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The fleet's ready namespaces, sorted, in a new array. Return: how many, or -ENOMEM. */
static int ready_inodes(const struct fleet *fl, uint64_t **out)
{
	uint64_t *v;
	size_t i, n = 0;

	v = calloc(fl->count ? fl->count : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < fl->count; i++)
		if (fl->members[i]->ready)
			v[n++] = fl->members[i]->ns.inode;
	sort_inplace(v, n, sizeof(*v), cmp_u64);
	*out = v;
	return (int)n;
}

/*
 * Tell the tier the namespaces that came and went since the last time. One
 * it cannot watch (its map is full) stays out of the watched list, so the
 * next sync, after a namespace went, tries it again.
 */
static void watch_fleet(struct drop_feed *df, const struct fleet *fl)
{
	uint64_t *now;
	size_t i = 0, j = 0, n, kept = 0, failed = 0;
	int r;

	r = ready_inodes(fl, &now);
	if (r < 0)
		return;
	n = (size_t)r;
	/* Both sorted: a merge tells the namespaces that went from those that came. */
	while (i < df->n_watched || j < n) {
		if (j == n || (i < df->n_watched && df->watched[i] < now[j])) {
			bpf_tier_watch(df->tier, df->watched[i++], false);
			continue;
		}
		if (i == df->n_watched || now[j] < df->watched[i]) {
			if (bpf_tier_watch(df->tier, now[j], true) < 0) {
				failed++;
				j++;
				continue;
			}
		} else {
			i++;
		}
		now[kept++] = now[j++];
	}
	if (failed && !df->report.unwatched_ns)
		log_warnx("eBPF tier: cannot watch %zu namespace(s) (its map is full): their findings "
			  "will not name the clients dropped", failed);
	df->report.unwatched_ns = failed;
	free(df->watched);
	df->watched = now;
	df->n_watched = kept;
	df->fleet_added = fl->ns_added;
	df->fleet_removed = fl->ns_removed;
	df->synced = true;
}

void drop_feed_sync(struct drop_feed *df, const struct fleet *fl)
{
	struct bpf_tier_counts c;

	if (!df->tier)
		return;
	if (!df->synced || df->fleet_added != fl->ns_added || df->fleet_removed != fl->ns_removed)
		watch_fleet(df, fl);
	bpf_tier_counts(df->tier, &c);
	df->report.lost = c.lost;
	df->report.unwatched = c.unwatched + df->unwatched_here;
}

void drop_feed_close(struct drop_feed *df)
{
	if (df->tier)
		bpf_tier_close(df->tier);
	free(df->watched);
	memset(df, 0, sizeof(*df));
}
