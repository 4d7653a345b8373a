/* compat.h: kernel constants newer than some build hosts' headers, in one place. */
#ifndef BACKLOGD_COMPAT_H
#define BACKLOGD_COMPAT_H

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif
/* NLMSGERR_ATTR_MSG and _OFFS are enum values (1, 2) since 4.12; the enum cannot be #ifdef'd. */
#define BACKLOGD_NLMSGERR_ATTR_MSG 1
#define BACKLOGD_NLMSGERR_ATTR_OFFS 2
#ifndef SK_MEMINFO_DROPS
#define SK_MEMINFO_DROPS 8
#endif
/* INET_DIAG_CGROUP_ID is an enum value (21) since 5.8; the enum cannot be #ifdef'd. */
#define BACKLOGD_INET_DIAG_CGROUP_ID 21
#ifndef TCP_LISTEN
#define TCP_LISTEN 10
#endif

#endif
