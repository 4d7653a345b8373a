/*
 * bpf_tier.h: the eBPF tier (probes/bpf_tier.c, programs in probes/bpf/):
 * exact drop events, each one packet a listener lost, with its peer, its
 * namespace and the listener's socket cookie, read from one ring buffer.
 * Built only when configure found clang, bpftool and libbpf (HAVE_BPF_TIER);
 * without it bpf_tier_open() says why and the rest is never called.
 */
#ifndef BACKLOGD_BPF_TIER_H
#define BACKLOGD_BPF_TIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drop_event.h"

struct bpf_tier;

/*
 * Load and attach every program; each that fails is named in why
 * ("cgroup_skb/ingress: attach to /sys/fs/cgroup/unified: Operation not
 * permitted"). Return: 0 when at least one of the overflow programs
 * (kfree_skb, cgroup_skb) runs, why then lists any part missing ("" when
 * none); -errno when nothing useful runs (why says which part and why).
 * Without HAVE_BPF_TIER: -EOPNOTSUPP, why = "built without the eBPF tier
 * (configure: <what was missing>)". No namespace is watched yet.
 */
int bpf_tier_open(struct bpf_tier **out, char *why, size_t len);

/* For epoll: readable when events wait. */
int bpf_tier_fd(const struct bpf_tier *t);

/*
 * Decode up to max waiting events into ev without blocking; *bad counts
 * (adds to) the records that failed drop_event_decode.
 * Return: count, or -errno.
 */
int bpf_tier_read(struct bpf_tier *t, struct drop_event *ev, size_t max, unsigned *bad);

/* Watch (on) or forget a network namespace by inode. Return: 0 or -errno (-E2BIG: 4,096 watched). */
int bpf_tier_watch(struct bpf_tier *t, uint64_t netns_inode, bool on);

struct bpf_tier_counts {
	uint64_t lost;       /* events the ring buffer had no room for */
	uint64_t unwatched;  /* events of namespaces not watched, not written */
};
/* Since open, summed over the CPUs. */
void bpf_tier_counts(const struct bpf_tier *t, struct bpf_tier_counts *c);

/* What runs, e.g. "kfree_skb cgroup_skb tcp_send_reset". */
const char *bpf_tier_parts(const struct bpf_tier *t);

/* Detach and unload everything; NULL is fine. */
void bpf_tier_close(struct bpf_tier *t);

#endif
