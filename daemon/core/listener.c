/* listener.c: the listener set (one dump's worth) and how a listener's address is written. */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listener.h"

/* A host with a handful of listeners should not realloc on every add. */
#define LISTENER_SET_MIN_CAP 16

/** listener_set_init - make an empty set that owns no memory yet. */
void listener_set_init(struct listener_set *set)
{
	memset(set, 0, sizeof(*set));
}

/**
 * listener_set_clear - empty the set but keep its memory for the next dump
 * @set: the set; its skipped count is reset too
 */
void listener_set_clear(struct listener_set *set)
{
	set->count = 0;
	set->skipped = 0;
}

/** listener_set_free - release the memory; the set is then empty and reusable. */
void listener_set_free(struct listener_set *set)
{
	free(set->items);
	memset(set, 0, sizeof(*set));
}

/**
 * listener_set_add - append a zeroed listener
 * @set: the set
 *
 * Return: the new slot, or NULL (errno ENOMEM) when it cannot grow. The
 * pointer is valid until the next add.
 */
struct listener *listener_set_add(struct listener_set *set)
{
	struct listener *l;

	if (set->count == set->cap) {
		size_t cap = set->cap ? set->cap : LISTENER_SET_MIN_CAP / 2;
		struct listener *items;

		if (cap > SIZE_MAX / 2 / sizeof(*items)) {
			errno = ENOMEM;
			return NULL;
		}
		cap *= 2;
		items = realloc(set->items, cap * sizeof(*items));
		if (!items)
			return NULL;
		set->items = items;
		set->cap = cap;
	}
	l = &set->items[set->count++];
	memset(l, 0, sizeof(*l));
	return l;
}

/* Write s into buf as far as it fits, always NUL-terminated when len > 0. */
static const char *copy_out(char *buf, size_t len, const char *s)
{
	if (len > 0)
		snprintf(buf, len, "%s", s);
	return buf;
}

/**
 * listener_addr - write the listener's address without the port
 * @l: the listener
 * @buf: output
 * @len: size of buf; INET6_ADDRSTRLEN is always enough
 *
 * IPv4-mapped addresses of IPv6 sockets stay in IPv6 notation
 * ("::ffff:127.0.0.1"): the socket is an IPv6 one and ss shows it so.
 *
 * Return: buf ("?" for an unknown family, truncated when len is too small).
 */
const char *listener_addr(const struct listener *l, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN];
	int af;

	if (l->family == AF_INET)
		af = AF_INET;
	else if (l->family == AF_INET6)
		af = AF_INET6;
	else
		return copy_out(buf, len, "?");
	/* Format into a buffer known to be big enough, then copy what fits. */
	if (!inet_ntop(af, l->addr, tmp, sizeof(tmp)))
		return copy_out(buf, len, "?");
	return copy_out(buf, len, tmp);
}

/**
 * listener_name - write "127.0.0.1:8080" or "[::1]:443"
 * @l: the listener
 * @buf: output
 * @len: size of buf; LISTENER_NAME_MAX is always enough
 *
 * Return: buf (truncated when len is too small).
 */
const char *listener_name(const struct listener *l, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (len == 0)
		return buf;
	listener_addr(l, addr, sizeof(addr));
	if (l->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", addr, (unsigned)l->port);
	else
		snprintf(buf, len, "%s:%u", addr, (unsigned)l->port);
	return buf;
}

/**
 * endpoint_name - "127.0.0.1:8080" / "[::1]:443" for an endpoint that is not a listener
 * @family: AF_INET or AF_INET6
 * @addr: 4 or 16 bytes, in a 16-byte buffer
 * @port: host order
 * @buf: output
 * @len: size of buf; LISTENER_NAME_MAX is always enough
 *
 * Return: buf.
 */
const char *endpoint_name(uint8_t family, const uint8_t addr[16], uint16_t port, char *buf, size_t len)
{
	struct listener l;

	memset(&l, 0, sizeof(l));
	l.family = family;
	memcpy(l.addr, addr, sizeof(l.addr));
	l.port = port;
	return listener_name(&l, buf, len);
}

/**
 * endpoint_addr - "127.0.0.11" / "::1": the address of an endpoint that is not a listener (a peer)
 * @family: AF_INET or AF_INET6
 * @addr: 4 or 16 bytes, in a 16-byte buffer
 * @buf: output
 * @len: size of buf; INET6_ADDRSTRLEN is always enough
 *
 * Return: buf.
 */
const char *endpoint_addr(uint8_t family, const uint8_t addr[16], char *buf, size_t len)
{
	struct listener l;

	memset(&l, 0, sizeof(l));
	l.family = family;
	memcpy(l.addr, addr, sizeof(l.addr));
	return listener_addr(&l, buf, len);
}

size_t addr_len(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

bool listener_is_wildcard(const struct listener *l)
{
	static const uint8_t zero[16];

	return memcmp(l->addr, zero, addr_len(l->family)) == 0;
}

bool listener_same_endpoint(const struct listener *a, const struct listener *b)
{
	return a->family == b->family && a->port == b->port &&
	       memcmp(a->addr, b->addr, addr_len(a->family)) == 0;
}

/*
 * The kernel overflows at backlog + 1 (sk_acceptq_is_full is "queue >
 * backlog"), but a sample taken at exactly the limit is one connection from
 * it: under load the queue sits between backlog and backlog + 1 as each
 * accept() frees a slot that the next handshake takes. Counting 5 of 5 as
 * not full broke every run of full ticks and hid stalls. An empty queue is
 * never full: listen(fd, 0) still queues one connection, and is full then.
 */
bool acceptq_full(uint32_t queue, uint32_t backlog)
{
	return queue > 0 && queue >= backlog;
}

bool listener_queue_full(const struct listener *l)
{
	return acceptq_full(l->queue, l->backlog);
}
