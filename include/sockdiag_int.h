/* sockdiag_int.h: internal to the probes: the netlink transport behind a sockdiag handle, for the deep dump. */
#ifndef BACKLOGD_SOCKDIAG_INT_H
#define BACKLOGD_SOCKDIAG_INT_H

struct nl_sock;
struct sockdiag;

/*
 * The deep tier (sockdiag_deep.c) dumps over the same NETLINK_SOCK_DIAG
 * socket as the LISTEN dump rather than opening a second one; callers run
 * the two dumps one after the other (one dump at a time per socket).
 * Return: the handle's transport, never NULL.
 */
struct nl_sock *sockdiag_nl(struct sockdiag *sd);

#endif
