/* record-links.c: save the raw bytes of an RTM_GETLINK dump, as probes/links.c asks for it, for test fixtures. */
#include "version.h"	/* the autoconf header (_GNU_SOURCE); include/config.h is the config module */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/rtnetlink.h>

#include <libmnl/libmnl.h>

/* The same size as the daemon's buffer (nl.h) so the recording shows its recv() pattern. */
#define RECORD_BUF (64 * 1024)

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

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Return: true when buf holds the message that ends the dump. */
static int ends_dump(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int rem = (int)len;

	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem))
		if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	char req_buf[MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct ifinfomsg))];
	struct ifinfomsg *ifi;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	unsigned recvs = 0;
	size_t total = 0;
	char *buf;
	int fd;

	if (argc != 2 || argv[1][0] == '-')
		usage();
	buf = malloc(RECORD_BUF);
	if (!buf) {
		perror("malloc");
		return 1;
	}
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink socket");
		return 1;
	}

	/* The same request as links_dump in probes/links.c. */
	memset(req_buf, 0, sizeof(req_buf));
	nlh = mnl_nlmsg_put_header(req_buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		perror("send");
		return 1;
	}

	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, RECORD_BUF);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("recv");
			return 1;
		}
		if (write_all(fd, buf, (size_t)n) < 0) {
			perror(argv[1]);
			return 1;
		}
		recvs++;
		total += (size_t)n;
		if (ends_dump(buf, (size_t)n))
			break;
	}
	if (close(fd) < 0) {
		perror(argv[1]);
		return 1;
	}
	fprintf(stderr, "%s: %zu bytes in %u recv()\n", argv[1], total, recvs);
	mnl_socket_close(nl);
	free(buf);
	return 0;
}
