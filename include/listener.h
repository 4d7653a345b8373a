/* listener.h: one TCP listening socket as sock_diag reports it, plain data. */
#ifndef BACKLOGD_LISTENER_H
#define BACKLOGD_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "[ffff:...]:65535" plus NUL, rounded up. */
#define LISTENER_NAME_MAX 64

struct listener {
	uint64_t cookie;     /* idiag_cookie: identity across ticks */
	uint64_t cgroup_id;  /* INET_DIAG_CGROUP_ID, 0 when the kernel gave none */
	uint32_t inode;
	uint32_t uid;
	uint32_t queue;      /* Recv-Q: connections waiting for accept() */
	uint32_t backlog;    /* Send-Q: effective backlog, min(listen() arg, somaxconn) */
	uint32_t drops;      /* SK_MEMINFO_DROPS of the listener */
	bool has_drops;      /* false when INET_DIAG_SKMEMINFO was missing */
	uint8_t family;      /* AF_INET or AF_INET6 */
	uint16_t port;       /* host byte order */
	uint8_t addr[16];    /* network byte order; IPv4 in the first 4 bytes */
};

/* A growable array of listeners; one dump's worth. */
struct listener_set {
	struct listener *items;
	size_t count;
	size_t cap;
	unsigned skipped;    /* malformed entries skipped while parsing */
};

void listener_set_init(struct listener_set *set);
void listener_set_clear(struct listener_set *set);
void listener_set_free(struct listener_set *set);
/* Return: pointer to a new zeroed slot, or NULL when out of memory. */
struct listener *listener_set_add(struct listener_set *set);

/* Format "127.0.0.1:8080" or "[::1]:443" into buf. Return: buf. */
const char *listener_name(const struct listener *l, char *buf, size_t len);
/* Format only the address ("127.0.0.1", "::1"). Return: buf. */
const char *listener_addr(const struct listener *l, char *buf, size_t len);
/* "127.0.0.1:8080" / "[::1]:443" for any endpoint (a destination, a kernel log line). Return: buf. */
const char *endpoint_name(uint8_t family, const uint8_t addr[16], uint16_t port, char *buf, size_t len);
/* Only the address of any endpoint ("127.0.0.11", "::1"), as listener_addr writes it. Return: buf. */
const char *endpoint_addr(uint8_t family, const uint8_t addr[16], char *buf, size_t len);
/* Bytes of an address of this family that mean something: 4 for AF_INET, else 16. */
size_t addr_len(uint8_t family);
/* 0.0.0.0 or ::, which accepts on every local address of its port. */
bool listener_is_wildcard(const struct listener *l);
/* Same family, address and port. */
bool listener_same_endpoint(const struct listener *a, const struct listener *b);
/* An accept queue of this length is full: not empty, at its backlog or past it. The one full test. */
bool acceptq_full(uint32_t queue, uint32_t backlog);
/* acceptq_full() of l's queue and backlog. */
bool listener_queue_full(const struct listener *l);

#endif
