/* drop_event.h: one packet the kernel dropped or refused at a listener, as the eBPF tier saw it. */
#ifndef BACKLOGD_DROP_EVENT_H
#define BACKLOGD_DROP_EVENT_H

#include <stddef.h>
#include <stdint.h>

/* Why the packet went; the numbers are the wire's (probes/bpf/drop_wire.h). */
enum drop_kind {
	DROP_SYN_OVERFLOW = 1,     /* a SYN dropped because the accept queue was full (no drop reason: seen by cgroup_skb) */
	DROP_ACK_OVERFLOW = 2,     /* the handshake's last ACK dropped, reason TCP_LISTEN_OVERFLOW (kfree_skb) */
	DROP_COOKIE_OVERFLOW = 3,  /* a syncookie ACK dropped with the accept queue full (NO_SOCKET, rx_sk a listener) */
	DROP_REFUSED = 4,          /* a SYN to no listener, answered with a RST: "connection refused" (tcp_send_reset) */
};

/* Bit (1u << kind): which kinds a query wants. */
#define DROP_KINDS_OVERFLOW ((1u << DROP_SYN_OVERFLOW) | (1u << DROP_ACK_OVERFLOW) | (1u << DROP_COOKIE_OVERFLOW))
#define DROP_KINDS_REFUSED (1u << DROP_REFUSED)

struct drop_event {
	uint64_t mono_ns;          /* when, CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	uint64_t netns;            /* the namespace's inode number */
	uint64_t cookie;           /* the listener's socket cookie (sock_diag's idiag_cookie); 0 unknown or none */
	enum drop_kind kind;
	uint8_t family;            /* AF_INET or AF_INET6 */
	uint16_t lport;            /* local (listener) port, host byte order */
	uint16_t pport;            /* peer port, host byte order */
	uint8_t laddr[16];         /* local address of the packet, network byte order; IPv4 in the first 4 bytes */
	uint8_t paddr[16];         /* peer address, the same way */
	uint32_t queue;            /* the listener's accept queue at the drop; 0 with backlog 0: unknown */
	uint32_t backlog;
};

/*
 * Decode one ring-buffer record of the eBPF tier (struct drop_wire) into
 * out. Pure; the record is hostile until checked: a short record, an
 * unknown kind or family is refused.
 * Return: 0 or -EINVAL.
 */
int drop_event_decode(const void *rec, size_t len, struct drop_event *out);

#endif
