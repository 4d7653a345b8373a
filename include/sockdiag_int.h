/* sockdiag_int.h: internal to the probes: the transport and the dump request behind a sockdiag handle, for the deep dump. */
#ifndef BACKLOGD_SOCKDIAG_INT_H
#define BACKLOGD_SOCKDIAG_INT_H

#include <stdint.h>
#include <libmnl/libmnl.h>

struct nl_sock;
struct sockdiag;

/*
 * The deep tier (sockdiag_deep.c) dumps over the same NETLINK_SOCK_DIAG
 * socket as the LISTEN dump rather than opening a second one; callers run
 * the two dumps one after the other (one dump at a time per socket).
 * Return: the handle's transport, never NULL.
 */
struct nl_sock *sockdiag_nl(struct sockdiag *sd);

/*
 * One inet_diag dump over nl of the TCP sockets of family in the states set
 * in states (bit 1 << TCP_x), asking for the extensions set in ext (bit
 * 1 << (INET_DIAG_x - 1)); cb gets every reply message. The one place the
 * request is built, for the LISTEN dump and the deep one alike.
 * Return: as nl_dump.
 */
int sockdiag_dump_tcp(struct nl_sock *nl, uint8_t family, uint32_t states, uint8_t ext,
		      mnl_cb_t cb, void *data);

#endif
