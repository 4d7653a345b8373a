/* record-sockdiag.c: save the raw bytes of a TCP sock_diag dump (LISTEN, or the deep tier's states), for test fixtures. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "record.h"

#include "compat.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: record-sockdiag [-d] -4|-6 FILE\n"
		"  Dump every TCP listener of one family as tests/fixtures/sockdiag was\n"
		"  recorded (INET_DIAG_INFO and INET_DIAG_SKMEMINFO: backlogd now asks\n"
		"  SKMEMINFO alone, and its parser passes tcp_info over), and write the\n"
		"  bytes of every recv() to FILE, concatenated, up to and including\n"
		"  NLMSG_DONE.\n"
		"  -d  the deep tier's dump instead (probes/deep.c): every\n"
		"      state but LISTEN, no extensions.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char req_buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct inet_diag_req_v2))];
	struct inet_diag_req_v2 *req;
	struct nlmsghdr *nlh;
	uint8_t family;
	int deep = 0;

	if (argc == 4 && strcmp(argv[1], "-d") == 0) {
		deep = 1;
		argv++;
		argc--;
	}
	if (argc != 3)
		usage();
	if (strcmp(argv[1], "-4") == 0)
		family = AF_INET;
	else if (strcmp(argv[1], "-6") == 0)
		family = AF_INET6;
	else
		usage();

	memset(req_buf, 0, sizeof(req_buf));
	nlh = mnl_nlmsg_put_header(req_buf);
	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	if (deep) {
		/* The same request as deep_dump_family in probes/deep.c. */
		req->idiag_states = 0xffffffffU & ~(1U << TCP_LISTEN);
		req->idiag_ext = 0;
	} else {
		req->idiag_states = 1U << TCP_LISTEN;
		req->idiag_ext = (1U << (INET_DIAG_INFO - 1)) | (1U << (INET_DIAG_SKMEMINFO - 1));
	}
	return record_dump(NETLINK_SOCK_DIAG, nlh, argv[2]);
}
