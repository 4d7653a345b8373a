/* TEMP (helper 1 owns this file): the spec API. */
#ifndef BACKLOGD_BPF_TIER_H
#define BACKLOGD_BPF_TIER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "drop_event.h"
struct bpf_tier;
int bpf_tier_open(struct bpf_tier **out, char *why, size_t len);
int bpf_tier_fd(const struct bpf_tier *t);
int bpf_tier_read(struct bpf_tier *t, struct drop_event *ev, size_t max, unsigned *bad);
int bpf_tier_watch(struct bpf_tier *t, uint64_t netns_inode, bool on);
struct bpf_tier_counts { uint64_t lost; uint64_t unwatched; };
void bpf_tier_counts(const struct bpf_tier *t, struct bpf_tier_counts *c);
const char *bpf_tier_parts(const struct bpf_tier *t);
void bpf_tier_close(struct bpf_tier *t);
#endif
