/* netns.h: the host's network namespaces: found, named and told apart by inode. */
#ifndef BACKLOGD_NETNS_H
#define BACKLOGD_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETNS_NAME_MAX 96

enum netns_kind {
	NETNS_HOST,       /* backlogd's own */
	NETNS_NAMED,      /* a bind mount in /run/netns (ip netns add) */
	NETNS_CONTAINER,  /* named after the container or pod its cgroup path tells */
	NETNS_PROCESS,    /* named after a process in it */
};

struct netns_id {
	uint64_t inode;               /* the nsfs inode: identity */
	enum netns_kind kind;
	char name[NETNS_NAME_MAX];    /* "host", "blue", "docker:3f2a9c1b7d2e", "pid 812 (nginx)" */
	int pid;                      /* a process in it, 0 for a /run/netns one nobody is in */
	char path[64];                /* what to open: "/proc/812/ns/net" or "/run/netns/blue" */
	/*
	 * Its process is in a user's own cgroup subtree (user@UID.service),
	 * where the user names the cgroups: a container name found there earns
	 * no priority under max_namespaces.
	 */
	bool user_cgroup;
};

struct netns_list {
	struct netns_id *items;       /* sorted by inode, host first is not guaranteed */
	size_t count;
	size_t cap;
};

void netns_list_init(struct netns_list *l);
void netns_list_free(struct netns_list *l);

/* "kind" as a word: "host", "named", "container", "process". */
const char *netns_kind_name(enum netns_kind k);

/*
 * Find every network namespace: PROC_ROOT/[pid]/ns/net (deduplicated by
 * inode) and every entry of RUN_NETNS (bind mounts). Name each: the /run/netns name, else
 * a container or pod from the cgroup path of a process in it (docker-ID.scope,
 * libpod-ID.scope, kubepods .../pod-UID, lxc.payload.NAME, machine-NAME.scope),
 * else "pid N (comm)". The namespace of PROC_ROOT/self is kind NETNS_HOST,
 * named "host". Processes that vanish mid-scan are skipped. out is cleared
 * first. Return: 0 or -errno.
 */
int netns_scan(const char *proc_root, const char *run_netns, struct netns_list *out);

/*
 * Which namespaces of l to watch when at most cap may be: the host first,
 * then named, container and process ones in that order (whoever can make a
 * namespace can make thousands of anonymous ones; a named or container one
 * took root). A container in a user's own cgroup subtree ranks as a process. Within a kind, those watched already (watched[i], NULL: none)
 * come first, so a flood does not displace them, then by inode order.
 * pick[i] is set for each chosen. Return: how many were chosen.
 */
size_t netns_select(const struct netns_list *l, const bool *watched, size_t cap, bool *pick);

/* The container or pod named by a /proc/PID/cgroup text, "" when none. */
void netns_container_from_cgroup(const char *text, char *name, size_t len);

/* Return: the nsfs inode of the calling process's network namespace, 0 on error. */
uint64_t netns_self_inode(const char *proc_root);

#endif
