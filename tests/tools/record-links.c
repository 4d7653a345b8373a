/* record-links.c: save the raw bytes of an RTM_GETLINK or RTM_GETSTATS dump, as probes/links.c asks for them, for test fixtures. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

#include "record.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: record-links [--stats] FILE\n"
		"  Dump every link of this network namespace exactly as backlogd asks\n"
		"  (RTM_GETLINK, NLM_F_DUMP, AF_UNSPEC, no IFLA_EXT_MASK), and write the\n"
		"  bytes of every recv() to FILE, concatenated, up to and including\n"
		"  NLMSG_DONE.\n"
		"  --stats: the stats dump of a steady read instead (RTM_GETSTATS,\n"
		"  NLM_F_DUMP, AF_UNSPEC, filter IFLA_STATS_LINK_64).\n");
	exit(2);
}

/* The same request as links_stats_dump in probes/links.c. */
static int record_stats(const char *file)
{
	char req_buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct if_stats_msg))];
	struct if_stats_msg *ifsm;
	struct nlmsghdr *nlh;

	memset(req_buf, 0, sizeof(req_buf));
	nlh = mnl_nlmsg_put_header(req_buf);
	nlh->nlmsg_type = RTM_GETSTATS;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	ifsm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifsm));
	ifsm->family = AF_UNSPEC;
	ifsm->filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
	return record_dump(NETLINK_ROUTE, nlh, file);
}

int main(int argc, char **argv)
{
	char req_buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg))];
	struct ifinfomsg *ifi;
	struct nlmsghdr *nlh;

	if (argc == 3 && strcmp(argv[1], "--stats") == 0 && argv[2][0] != '-')
		return record_stats(argv[2]);
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
