/* sockdiag_fast.c: the LISTEN dump of one port, for sampling a hot listener between ticks. */
#include "version.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

#include "compat.h"
#include "nl.h"
#include "sockdiag.h"
#include "sockdiag_int.h"

/* Each reply message goes through the one listener parser. */
static int port_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct listener_set *out = data;

	return sockdiag_parse(nlh, nlh->nlmsg_len, out) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/*
 * The kernel's listener walk skips every socket whose port differs from
 * id.idiag_sport (inet_diag_dump_icsk), so this costs a few entries however
 * many listeners the host has.
 */
static int dump_port_family(struct nl_sock *nl, uint8_t family, uint16_t port, struct listener_set *out)
{
	char buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct inet_diag_req_v2))];
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = 1U << TCP_LISTEN;
	req->idiag_ext = 1U << (INET_DIAG_SKMEMINFO - 1);
	req->id.idiag_sport = htons(port);
	return nl_dump(nl, nlh, port_msg_cb, out);
}

int sockdiag_dump_port(struct sockdiag *sd, uint16_t port, struct listener_set *out)
{
	struct nl_sock *nl = sockdiag_nl(sd);
	int r;

	listener_set_clear(out);
	r = dump_port_family(nl, AF_INET, port, out);
	if (r == 0)
		r = dump_port_family(nl, AF_INET6, port, out);
	/* No IPv6 here: the IPv4 listeners are the whole answer. */
	if (r == -EAFNOSUPPORT || r == -ENOENT)
		r = 0;
	if (r < 0) {
		listener_set_clear(out);
		/* A failed dump may leave replies behind: start the next one afresh. */
		nl_reopen(nl);
	}
	return r;
}
