/* record-links.c: save the raw bytes of an RTM_GETLINK dump, as probes/links.c asks for it, for test fixtures. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "record.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: record-links FILE\n"
		"  Dump every link of this network namespace exactly as backlogd asks\n"
		"  (RTM_GETLINK, NLM_F_DUMP, AF_UNSPEC, no IFLA_EXT_MASK), and write the\n"
		"  bytes of every recv() to FILE, concatenated, up to and including\n"
		"  NLMSG_DONE.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char req_buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg))];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;

	if (argc != 2 || argv[1][0] == '-')
		usage();
	/* The same request as links_dump in probes/links.c. */
	memset(req_buf, 0, sizeof(req_buf));
	nlh = mnl_nlmsg_put_header(req_buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	return record_dump(NETLINK_ROUTE, nlh, argv[1]);
}
