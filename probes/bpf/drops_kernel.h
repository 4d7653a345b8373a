/*
 * drops_kernel.h: the kernel's own structures that drops.bpf.c reads, with
 * only the fields it uses (the libbpf-tools way, instead of a generated
 * vmlinux.h). preserve_access_index makes every access a CO-RE relocation:
 * libbpf finds each field by name in the running kernel's BTF at load time,
 * so neither the offsets nor the fields left out here matter.
 */
#ifndef BACKLOGD_DROPS_KERNEL_H
#define BACKLOGD_DROPS_KERNEL_H

#include <linux/types.h>

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct ns_common {
	unsigned int inum;
};

struct netns_ipv4 {
	__u8 sysctl_tcp_syncookies;
};

struct net {
	struct ns_common ns;
	struct netns_ipv4 ipv4;
};

typedef struct {
	struct net *net;
} possible_net_t;

struct net_device {
	possible_net_t nd_net;
};

struct sock_common {
	volatile unsigned char skc_state;
	possible_net_t skc_net;
};

struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol;	/* a __u16 since 5.6; read only of rx_sk (6.11 and later) */
	__u32 sk_ack_backlog;
	__u32 sk_max_ack_backlog;
};

typedef struct {
	int counter;
} atomic_t;

struct request_sock_queue {
	atomic_t qlen;
};

struct inet_sock {
	struct sock sk;
};

struct inet_connection_sock {
	struct inet_sock icsk_inet;
	struct request_sock_queue icsk_accept_queue;
};

struct tcp_sock {
	struct inet_connection_sock inet_conn;
};

struct sk_buff {
	struct net_device *dev;
	unsigned char *head;
	__u16 transport_header;
	__u16 network_header;
	__be16 protocol;
};

#pragma clang attribute pop

#define TCP_LISTEN 10

#endif
