/* sockdiag_int.h: internal to the probes: the transport and the dump requests behind a sockdiag handle, for the deep dump and the port filter. */
#ifndef BACKLOGD_SOCKDIAG_INT_H
#define BACKLOGD_SOCKDIAG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>

#include "sockdiag.h"

struct nlsock;
struct sockdiag;

/*
 * The deep tier (deep.c) dumps over the same NETLINK_SOCK_DIAG
 * socket as the LISTEN dump rather than opening a second one; callers run
 * the two dumps one after the other (one dump at a time per socket).
 * Return: the handle's transport, never NULL.
 */
struct nlsock *sockdiag_nl(struct sockdiag *sd);

/*
 * One inet_diag dump over nl of the TCP sockets of family in the states set
 * in states (bit 1 << TCP_x), asking for the extensions set in ext (bit
 * 1 << (INET_DIAG_x - 1)); cb gets every reply message. The one place the
 * request is built, for the LISTEN dump and the deep one alike.
 * Return: as nlsock_dump.
 */
int sockdiag_dump_tcp(struct nlsock *nl, uint8_t family, uint32_t states, uint8_t ext,
		      mnl_cb_t cb, void *data);

/*
 * The per-message parser of the listener dumps: appends the listener of one
 * reply message to the listener_set data; a malformed one is counted in its
 * skipped. No de-duplication: sockdiag_dump_families does it once at the end.
 * Return: MNL_CB_OK, or MNL_CB_ERROR (errno ENOMEM).
 */
int sockdiag_listener_cb(const struct nlmsghdr *nlh, void *data);

/* Dumps one family's listeners into out (appending): see sockdiag_dump_families. */
typedef int (*sockdiag_family_fn)(struct sockdiag *sd, uint8_t family, void *arg,
				  struct listener_set *out);

/*
 * A listener dump of both families (IPv4, then IPv6 if the kernel has it),
 * duplicates dropped once at the end when dedup is set, retried whole on
 * ENOBUFS or an interrupted dump as sockdiag_dump_listeners is. out is
 * cleared first and empty on error. Return: 0 or -errno.
 */
int sockdiag_dump_families(struct sockdiag *sd, sockdiag_family_fn dump_family, void *arg,
			   bool dedup, struct listener_set *out);

/* Bytes for a request of sockdiag_tcp_request with no attributes. */
#define SOCKDIAG_TCP_REQ_SIZE (MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct inet_diag_req_v2)))

/*
 * Build in buf (size bytes, at least SOCKDIAG_TCP_REQ_SIZE, aligned for a
 * struct nlmsghdr; zeroed first) the inet_diag dump request of the TCP
 * sockets of family in states, asking for the extensions in ext, as
 * sockdiag_dump_tcp sends it; the caller may put attributes after it
 * within size. Return: the request, at the start of buf.
 */
struct nlmsghdr *sockdiag_tcp_request(void *buf, size_t size, uint8_t family, uint32_t states,
				      uint8_t ext);

/*
 * The port filter of sockdiag_dump_ports (sockdiag_fast.c), here so that
 * tests can check it against the kernel's audit.
 */
/* Ops in the bytecode for n ports (1 <= n): S_EQ and its operand per port, a JMP between two. */
#define SOCKDIAG_PORTS_BC_OPS(n) (3 * (n) - 1)
/* Bytes for the longest request sockdiag_ports_request builds. */
#define SOCKDIAG_PORTS_REQ_SIZE							\
	(SOCKDIAG_TCP_REQ_SIZE + MNL_ATTR_HDRLEN +					\
	 MNL_ALIGN(SOCKDIAG_PORTS_BC_OPS(SOCKDIAG_MAX_PORTS) * sizeof(struct inet_diag_bc_op)))

/*
 * Write into bc (SOCKDIAG_PORTS_BC_OPS(n) ops) the bytecode that keeps a
 * socket whose source port (host byte order) is one of the n in ports,
 * 1 <= n <= SOCKDIAG_MAX_PORTS. Return: its length in bytes.
 */
size_t sockdiag_ports_bytecode(const uint16_t *ports, size_t n, struct inet_diag_bc_op *bc);

/*
 * Build in buf (SOCKDIAG_PORTS_REQ_SIZE bytes, aligned for a struct
 * nlmsghdr) the LISTEN dump request of family for the listeners on ports,
 * 1 <= n <= SOCKDIAG_MAX_PORTS. Return: the request, at the start of buf.
 */
struct nlmsghdr *sockdiag_ports_request(void *buf, uint8_t family, const uint16_t *ports, size_t n);

#endif
