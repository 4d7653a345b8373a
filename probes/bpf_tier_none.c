/* bpf_tier_none.c: the eBPF tier of a build without it (configure found no clang, bpftool or libbpf): it says why. */
#include "base.h"

#include <errno.h>
#include <stdio.h>

#include "bpf_tier.h"

int bpf_tier_open(struct bpf_tier **out, char *why, size_t len)
{
	*out = NULL;
	snprintf(why, len, "built without the eBPF tier (configure: %s)", BPF_TIER_MISSING);
	return -EOPNOTSUPP;
}

/* Never called without a tier: bpf_tier_open gives none. */
int bpf_tier_fd(const struct bpf_tier *t)
{
	(void)t;
	return -1;
}

int bpf_tier_read(struct bpf_tier *t, struct drop_event *ev, size_t max, unsigned *bad)
{
	(void)t, (void)ev, (void)max, (void)bad;
	return -EOPNOTSUPP;
}

int bpf_tier_watch(struct bpf_tier *t, uint64_t netns_inode, bool on)
{
	(void)t, (void)netns_inode, (void)on;
	return -EOPNOTSUPP;
}

void bpf_tier_counts(const struct bpf_tier *t, struct bpf_tier_counts *c)
{
	(void)t;
	c->lost = 0;
	c->unwatched = 0;
}

const char *bpf_tier_parts(const struct bpf_tier *t)
{
	(void)t;
	return "";
}

void bpf_tier_close(struct bpf_tier *t)
{
	(void)t;
}
