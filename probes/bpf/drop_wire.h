/*
 * drop_wire.h: one ring-buffer record of the eBPF tier, as drops.bpf.c
 * writes it and drop_event_decode() (probes/drop_event.c) reads it. Shared
 * by the bpf program and user space: only <linux/types.h> types, every
 * field at a fixed offset, no implicit padding (80 bytes).
 */
#ifndef BACKLOGD_DROP_WIRE_H
#define BACKLOGD_DROP_WIRE_H

#include <linux/types.h>

/* The kinds: the numbers of enum drop_kind (include/drop_event.h). */
#define DROP_WIRE_SYN_OVERFLOW 1
#define DROP_WIRE_ACK_OVERFLOW 2
#define DROP_WIRE_COOKIE_OVERFLOW 3
#define DROP_WIRE_REFUSED 4

/* Families as the kernel numbers them (AF_INET, AF_INET6). */
#define DROP_WIRE_INET 2
#define DROP_WIRE_INET6 10

/* Index of the per-CPU counters (map "counts"). */
/* Namespaces the watched map holds: max_namespaces's own bound (CONFIG_MAX_NAMESPACES). */
#define DROP_WATCHED_MAX 65536

#define DROP_COUNT_LOST 0      /* an event the ring buffer had no room for */
#define DROP_COUNT_UNWATCHED 1 /* an event of a namespace nobody watches */
#define DROP_COUNTS 2

struct drop_wire {
	__u64 mono_ns;   /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 netns;     /* inode of the packet's network namespace */
	__u64 cookie;    /* the listener's socket cookie; 0 none or unknown */
	__u32 kind;      /* DROP_WIRE_* */
	__u32 queue;     /* the listener's sk_ack_backlog at the drop */
	__u32 backlog;   /* its sk_max_ack_backlog; 0 with queue 0: unknown */
	__u16 family;    /* DROP_WIRE_INET or DROP_WIRE_INET6 */
	__be16 lport;    /* local (listener) port, network byte order */
	__be16 pport;    /* peer port, network byte order */
	__u16 pad0;
	__u32 pad1;
	__u8 laddr[16];  /* network byte order; IPv4 in the first 4 bytes */
	__u8 paddr[16];
};

#endif
