/* netns_fixture.h: a test's own network namespace, loopback up, for tests against the real kernel. */
#ifndef BACKLOGD_NETNS_FIXTURE_H
#define BACKLOGD_NETNS_FIXTURE_H

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <criterion/criterion.h>

/* Criterion runs each test in its own process, so unsharing here is contained. */
static inline void enter_netns(void)
{
	struct ifreq ifr;
	int fd;

	if (unshare(CLONE_NEWNET) < 0)
		cr_skip_test("unshare(CLONE_NEWNET): %s (needs root or user namespaces)", strerror(errno));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	cr_assert(ioctl(fd, SIOCGIFFLAGS, &ifr) == 0);
	ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
	cr_assert(ioctl(fd, SIOCSIFFLAGS, &ifr) == 0, "lo up: %s", strerror(errno));
	close(fd);
}

#endif
