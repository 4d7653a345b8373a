// SPDX-License-Identifier: GPL-2.0
/*
 * drops.bpf.c: the eBPF tier's programs. Each one sees one way a listener
 * loses a connection and writes a struct drop_wire to the ring buffer
 * "events", only for a namespace in "watched" and only once the packet is
 * known to be one: every test runs before the ring buffer is touched
 * (reserving then discarding a record per packet made the drop path three
 * times slower).
 *   tp_btf/kfree_skb       ACK_OVERFLOW (reason TCP_LISTEN_OVERFLOW) and
 *                          COOKIE_OVERFLOW (NO_SOCKET, rx_sk a listener)
 *   cgroup_skb/ingress     SYN_OVERFLOW: a SYN to a listener whose accept
 *                          queue is full (no drop reason: consume_skb)
 *   tp_btf/tcp_send_reset  REFUSED: a RST answering a SYN nobody listens for
 * GPL: bpf_probe_read_kernel and the tracing programs need it.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "drops_kernel.h"
#include "drop_wire.h"

char LICENSE[] SEC("license") = "GPL";

/* enum skb_drop_reason's numbers change between kernels: the loader reads them from BTF. */
const volatile __u32 overflow_reason = 0xffffffff;
const volatile __u32 nosock_reason = 0xffffffff;

#define EVENTS_BYTES (1 << 20)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, EVENTS_BYTES);
} events SEC(".maps");

/*
 * Waking the reader costs the sender of the dropped packet a wakeup of
 * another task, several microseconds, and the reader a turn of its loop:
 * for every packet of a drop storm that would double what a drop costs the
 * host. So the first event after a quiet spell wakes backlogd at once (an
 * overflow is reported milliseconds after it starts), then at most one
 * event every WAKE_NS does, or one that finds the ring a quarter full. The
 * rest wait for the next wakeup, or the tick, which reads the ring too.
 */
#define WAKE_NS 10000000ULL

__u64 last_wake_ns = 0;   /* racy between CPUs, harmlessly: at worst two wakeups */

/*
 * The namespaces the daemon watches, by inode: filled from user space. As
 * many as max_namespaces allows at most; not preallocated, so the kernel
 * holds memory only for the namespaces there are.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, DROP_WATCHED_MAX);
	__type(key, __u32);
	__type(value, __u8);
} watched SEC(".maps");

/* DROP_COUNT_*: per CPU, so that a drop storm does not fight over one cache line. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_COUNTS);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *n = bpf_map_lookup_elem(&counts, &which);

	if (n)
		*n += 1;
}

/* Return: true when the namespace is watched; else counted as unwatched. */
static __always_inline bool watching(__u32 netns)
{
	if (bpf_map_lookup_elem(&watched, &netns))
		return true;
	count(DROP_COUNT_UNWATCHED);
	return false;
}

static __always_inline void emit(struct drop_wire *w)
{
	__u64 now = bpf_ktime_get_ns(), flags = BPF_RB_NO_WAKEUP;

	w->mono_ns = now;
	if (now - last_wake_ns >= WAKE_NS || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= EVENTS_BYTES / 4) {
		last_wake_ns = now;
		flags = BPF_RB_FORCE_WAKEUP;
	}
	if (bpf_ringbuf_output(&events, w, sizeof(*w), flags))
		count(DROP_COUNT_LOST);
}

static __always_inline __u32 dev_netns(const struct sk_buff *skb)
{
	struct net_device *dev = BPF_CORE_READ(skb, dev);

	return dev ? BPF_CORE_READ(dev, nd_net.net, ns.inum) : 0;
}

/*
 * The addresses, ports and TCP flags of an skb seen by a tracing program:
 * the headers through skb->head and the header offsets (skb->data has
 * moved past them by now). Return: 0, or -1 when it is not TCP over IP.
 */
static __always_inline int skb_tcp(const struct sk_buff *skb, struct drop_wire *w, __u8 *flags)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__u16 th = BPF_CORE_READ(skb, transport_header);
	__be16 proto = BPF_CORE_READ(skb, protocol);
	struct tcphdr tcph;

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr iph;

		if (bpf_probe_read_kernel(&iph, sizeof(iph), head + nh) || iph.protocol != IPPROTO_TCP)
			return -1;
		w->family = DROP_WIRE_INET;
		__builtin_memcpy(w->paddr, &iph.saddr, 4);
		__builtin_memcpy(w->laddr, &iph.daddr, 4);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		/* transport_header is past any extension header; the kernel found TCP there. */
		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh))
			return -1;
		w->family = DROP_WIRE_INET6;
		__builtin_memcpy(w->paddr, &ip6.saddr, 16);
		__builtin_memcpy(w->laddr, &ip6.daddr, 16);
	} else {
		return -1;
	}
	if (bpf_probe_read_kernel(&tcph, sizeof(tcph), head + th))
		return -1;
	w->pport = tcph.source;
	w->lport = tcph.dest;
	*flags = ((__u8 *)&tcph)[13];
	return 0;
}

#define TCPF_SYN 0x02
#define TCPF_ACK 0x10

/* Which kind a kfree_skb is, 0 for none of ours: the cheap tests first. */
static __always_inline __u32 kfree_kind(__u32 reason, struct sock *rx_sk)
{
	if (reason == overflow_reason)
		return DROP_WIRE_ACK_OVERFLOW;
	/*
	 * cookie_v4/v6_check() found the accept queue full: NO_SOCKET, with the
	 * listener as rx_sk (TCP's: an SCTP listener is in TCP_LISTEN too).
	 */
	if (reason == nosock_reason && rx_sk && BPF_CORE_READ(rx_sk, __sk_common.skc_state) == TCP_LISTEN &&
	    BPF_CORE_READ(rx_sk, sk_protocol) == IPPROTO_TCP)
		return DROP_WIRE_COOKIE_OVERFLOW;
	return 0;
}

static __always_inline void kfree_event(struct sk_buff *skb, __u32 kind, struct sock *rx_sk, __u64 cookie)
{
	struct drop_wire w = { .kind = kind, .cookie = cookie };
	__u32 netns;
	__u8 flags;

	netns = rx_sk ? BPF_CORE_READ(rx_sk, __sk_common.skc_net.net, ns.inum) : dev_netns(skb);
	if (!watching(netns) || skb_tcp(skb, &w, &flags))
		return;
	w.netns = netns;
	if (rx_sk) {
		w.queue = BPF_CORE_READ(rx_sk, sk_ack_backlog);
		w.backlog = BPF_CORE_READ(rx_sk, sk_max_ack_backlog);
	}
	emit(&w);
}

/* Kernels 6.11 and later: the receiving socket, here the listener, is the 4th argument. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(kfree_skb_rx_sk, struct sk_buff *skb, void *location, unsigned int reason, struct sock *rx_sk)
{
	__u32 kind = kfree_kind(reason, rx_sk);

	if (kind)
		kfree_event(skb, kind, rx_sk, rx_sk ? bpf_get_socket_cookie(rx_sk) : 0);
	return 0;
}

/* Kernels before 6.11: no rx_sk, so no listener to name and no cookie path. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(kfree_skb_plain, struct sk_buff *skb, void *location, unsigned int reason)
{
	if (reason == overflow_reason)
		kfree_event(skb, DROP_WIRE_ACK_OVERFLOW, NULL, 0);
	return 0;
}

/*
 * A RST the kernel sends with no socket (sk NULL) in answer to a SYN: the
 * peer was told "connection refused". The namespace is the device's.
 */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(tcp_send_reset, const struct sock *sk, const struct sk_buff *skb)
{
	struct drop_wire w = { .kind = DROP_WIRE_REFUSED };
	__u32 netns;
	__u8 flags;

	if (sk || !skb)
		return 0;
	if (skb_tcp(skb, &w, &flags) || (flags & (TCPF_SYN | TCPF_ACK)) != TCPF_SYN)
		return 0;
	netns = dev_netns(skb);
	if (!watching(netns))
		return 0;
	w.netns = netns;
	emit(&w);
	return 0;
}

/* The offset of the TCP header, or 0 when the packet is not TCP over IP. */
static __always_inline __u32 tcp_offset(struct __sk_buff *skb)
{
	__u8 b[10];

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, b, 10) || b[9] != IPPROTO_TCP || (b[0] & 0x0f) < 5)
			return 0;
		return (b[0] & 0x0f) * 4;
	}
	/* IPv6 extension headers are not followed: a SYN rarely carries one. */
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, 6, b, 1) || b[0] != IPPROTO_TCP)
			return 0;
		return sizeof(struct ipv6hdr);
	}
	return 0;
}

/*
 * Whether tcp_conn_request() will drop this SYN on a full accept queue
 * (ListenOverflows), read here, in tcp_filter(), just before: with
 * syncookies off and the SYN queue full it is dropped earlier instead
 * (TCPReqQFullDrop); then sk_acceptq_is_full().
 */
static __always_inline bool acceptq_drops_syn(struct tcp_sock *tp)
{
	struct sock *sk = &tp->inet_conn.icsk_inet.sk;
	__u32 max = sk->sk_max_ack_backlog;

	if (!sk->__sk_common.skc_net.net->ipv4.sysctl_tcp_syncookies &&
	    (__u32)tp->inet_conn.icsk_accept_queue.qlen.counter > max)
		return false;
	return sk->sk_ack_backlog > max;
}

static __always_inline void syn_event(struct __sk_buff *skb, struct tcp_sock *tp, __u32 off)
{
	struct sock *sk = &tp->inet_conn.icsk_inet.sk;
	struct drop_wire w = { .kind = DROP_WIRE_SYN_OVERFLOW };
	__u32 netns = sk->__sk_common.skc_net.net->ns.inum;

	if (!watching(netns))
		return;
	w.netns = netns;
	w.queue = sk->sk_ack_backlog;
	w.backlog = sk->sk_max_ack_backlog;
	w.cookie = bpf_get_socket_cookie(skb);
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		w.family = DROP_WIRE_INET;
		bpf_skb_load_bytes(skb, 12, w.paddr, 4);
		bpf_skb_load_bytes(skb, 16, w.laddr, 4);
	} else {
		w.family = DROP_WIRE_INET6;
		bpf_skb_load_bytes(skb, 8, w.paddr, 16);
		bpf_skb_load_bytes(skb, 24, w.laddr, 16);
	}
	bpf_skb_load_bytes(skb, off, &w.pport, 2);
	bpf_skb_load_bytes(skb, off + 2, &w.lport, 2);
	emit(&w);
}

/*
 * A SYN dropped because the accept queue is full has no drop reason (it is
 * freed with consume_skb): catch it on its way in, at the listener. Runs
 * for every packet of the host, so the listener state and the flags come
 * first. Always returns 1: it never drops anything.
 */
SEC("cgroup_skb/ingress")
int syn_ingress(struct __sk_buff *skb)
{
	struct bpf_sock *bsk = skb->sk;
	struct tcp_sock *tp;
	__u32 off;
	__u8 flags;

	if (!bsk || bsk->state != BPF_TCP_LISTEN)
		return 1;
	off = tcp_offset(skb);
	if (!off || bpf_skb_load_bytes(skb, off + 13, &flags, 1) || (flags & (TCPF_SYN | TCPF_ACK)) != TCPF_SYN)
		return 1;
	tp = bpf_skc_to_tcp_sock(bsk);
	if (tp && acceptq_drops_syn(tp))
		syn_event(skb, tp, off);
	return 1;
}
