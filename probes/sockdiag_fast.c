/* sockdiag_fast.c: the listeners on the hot ports, one LISTEN dump per family filtered by bytecode, for sampling between ticks. */
#include "base.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

#include "compat.h"
#include "nl.h"
#include "sockdiag.h"
#include "sockdiag_int.h"

static struct inet_diag_bc_op bc_op(uint8_t code, size_t yes, size_t no)
{
	struct inet_diag_bc_op op = {
		.code = code,
		.yes = (unsigned char)yes,
		.no = (unsigned short)no,
	};

	return op;
}

/**
 * sockdiag_ports_bytecode - inet_diag bytecode that keeps a socket whose source port is one of ports
 * @ports: the ports, host byte order
 * @n: how many, 1 to SOCKDIAG_MAX_PORTS
 * @bc: SOCKDIAG_PORTS_BC_OPS(n) ops to fill
 *
 * An OR as ss builds one (misc/ss.c, ssfilter_bytecode). The kernel runs
 * the ops from the start: a test that holds goes on by its yes, one that
 * fails by its no, a JMP always by its no; a run that ends exactly at the
 * end keeps the socket, one that ends 4 bytes past it drops it. Per port:
 *
 *   S_EQ {yes 8, no 12}     a miss skips the operand and the JMP: next port
 *   {no = port}             the operand, passed over by the yes
 *   JMP  {yes 4, no = rest} after a match: to the end, which keeps the socket
 *
 * and the last port has no JMP: its match runs off the end (kept), its
 * miss jumps 12 bytes, 4 past the end (dropped). This keeps yes, a u8, at
 * the length of each op, as the audit (inet_diag_bc_audit) expects: every
 * yes and no is a multiple of 4, at most 4 past the end, and a no that lands
 * inside must land on an op the chain of yes jumps from the start reaches,
 * which every S_EQ here is. The longest jump, the first JMP, is under
 * 3 * 4 * SOCKDIAG_MAX_PORTS bytes: it fits no, a u16.
 *
 * Return: the length of the bytecode in bytes.
 */
size_t sockdiag_ports_bytecode(const uint16_t *ports, size_t n, struct inet_diag_bc_op *bc)
{
	const size_t op = sizeof(*bc);
	size_t i, k = 0, total = SOCKDIAG_PORTS_BC_OPS(n);

	for (i = 0; i < n; i++) {
		bc[k++] = bc_op(INET_DIAG_BC_S_EQ, 2 * op, 3 * op);
		bc[k++] = bc_op(0, 0, ports[i]);
		if (i + 1 < n) {
			bc[k] = bc_op(INET_DIAG_BC_JMP, op, (total - k) * op);
			k++;
		}
	}
	return k * op;
}

/**
 * sockdiag_ports_request - the LISTEN dump request of one family for the listeners on ports
 * @buf: SOCKDIAG_PORTS_REQ_SIZE bytes, aligned for a struct nlmsghdr
 * @family: AF_INET or AF_INET6
 * @ports: the ports, host byte order
 * @n: how many, 1 to SOCKDIAG_MAX_PORTS
 *
 * The extensions asked for are the full LISTEN dump's (SOCKDIAG_LISTEN_EXT).
 *
 * Return: the request, in buf.
 */
struct nlmsghdr *sockdiag_ports_request(void *buf, uint8_t family, const uint16_t *ports, size_t n)
{
	struct inet_diag_bc_op bc[SOCKDIAG_PORTS_BC_OPS(SOCKDIAG_MAX_PORTS)];
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	size_t len;

	nlh = sockdiag_tcp_request(buf, SOCKDIAG_PORTS_REQ_SIZE, family, 1U << TCP_LISTEN,
				   SOCKDIAG_LISTEN_EXT);
	req = mnl_nlmsg_get_payload(nlh);
	/*
	 * One port is the common case: the walk's own port test then passes
	 * over the other listeners before the bytecode runs on them (it first
	 * gathers a dozen fields of each socket), a fifth of the dump's cost
	 * at 10,000 listeners. The bytecode stays, the one filter still: the
	 * walk takes an idiag_sport of 0 for any port.
	 */
	if (n == 1)
		req->id.idiag_sport = htons(ports[0]);
	len = sockdiag_ports_bytecode(ports, n, bc);
	mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, len, bc);
	return nlh;
}

/*
 * The kernel's listener walk visits every listener of the namespace
 * whatever the request (inet_diag_dump_icsk), so a port filter in
 * id.idiag_sport costs one whole walk per port. The bytecode takes all the
 * ports in one walk per family, at one compare per port for each listener
 * of the family: at 10,000 listeners, 64 ports cost 2 to 3 ms where 64
 * walks cost 50, and 2 ports hardly more than one.
 */
static int dump_ports_family(struct sockdiag *sd, uint8_t family, void *arg,
			     struct listener_set *out)
{
	struct nlmsghdr *nlh = arg;
	struct inet_diag_req_v2 *req = mnl_nlmsg_get_payload(nlh);

	req->sdiag_family = family;
	return nlsock_dump(sockdiag_nl(sd), nlh, sockdiag_listener_cb, out);
}

/**
 * sockdiag_dump_ports - dump the listeners on some ports, IPv4 then IPv6
 * @sd: the handle
 * @ports: the ports, host byte order; a repeated one is harmless
 * @n: how many, 1 to SOCKDIAG_MAX_PORTS
 * @out: cleared, then filled; empty again on error
 *
 * ENOBUFS and interrupted dumps are redone from scratch (after a reopen
 * where needed) at most NL_DUMP_RETRIES times, as for the full dump.
 *
 * Return: 0, -EINVAL for n out of range, or -errno.
 */
int sockdiag_dump_ports(struct sockdiag *sd, const uint16_t *ports, size_t n,
			struct listener_set *out)
{
	union {
		struct nlmsghdr nlh;
		char buf[SOCKDIAG_PORTS_REQ_SIZE];
	} msg;

	listener_set_clear(out);
	if (n == 0 || n > SOCKDIAG_MAX_PORTS)
		return -EINVAL;
	return sockdiag_dump_families(sd, dump_ports_family,
				      sockdiag_ports_request(msg.buf, AF_INET, ports, n), true, out);
}
