/* nl.h: the one netlink transport: socket setup, dump loop, errors as -errno. */
#ifndef BACKLOGD_NL_H
#define BACKLOGD_NL_H

#include <stddef.h>
#include <libmnl/libmnl.h>

/* The kernel sizes dump skbs up to 32 KiB; a smaller buffer truncates silently. */
#define NL_RECV_BUF (64 * 1024)

struct nl_sock {
	struct mnl_socket *mnl;
	int protocol;
	unsigned int portid;
	unsigned int seq;
	char *buf;            /* NL_RECV_BUF bytes, reused for every dump */
};

/* Open a netlink socket of PROTOCOL with NETLINK_EXT_ACK on. Return: 0 or -errno. */
int nl_open(struct nl_sock *nl, int protocol);
void nl_close(struct nl_sock *nl);
/* Close and reopen (after ENOBUFS). Return: 0 or -errno. */
int nl_reopen(struct nl_sock *nl);

/*
 * Send the request in nlh (its nlmsg_seq is set here) and run cb on every
 * reply until NLMSG_DONE. Return: 0, or -errno (-ENOBUFS, -EINTR for an
 * interrupted dump that the caller should redo, or the kernel's error).
 */
int nl_dump(struct nl_sock *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

#endif
