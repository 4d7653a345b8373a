/* compat.h: kernel constants newer than some build hosts' headers, in one place. */
#ifndef BACKLOGD_COMPAT_H
#define BACKLOGD_COMPAT_H

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef SK_MEMINFO_DROPS
#define SK_MEMINFO_DROPS 8
#endif
/* INET_DIAG_CGROUP_ID is an enum value (21) since 5.8; the enum cannot be #ifdef'd. */
#define BACKLOGD_INET_DIAG_CGROUP_ID 21
#ifndef TCP_LISTEN
#define TCP_LISTEN 10
#endif

#endif
