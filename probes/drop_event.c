/* drop_event.c: one record of the eBPF tier's ring buffer, checked and decoded (no libbpf: always built). */
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "drop_event.h"
#include "bpf/drop_wire.h"

_Static_assert(sizeof(struct drop_wire) == 80, "drop_wire has no implicit padding");
_Static_assert(DROP_WIRE_SYN_OVERFLOW == DROP_SYN_OVERFLOW && DROP_WIRE_ACK_OVERFLOW == DROP_ACK_OVERFLOW &&
	       DROP_WIRE_COOKIE_OVERFLOW == DROP_COOKIE_OVERFLOW && DROP_WIRE_REFUSED == DROP_REFUSED,
	       "the wire's kinds are enum drop_kind's");
_Static_assert(DROP_WIRE_INET == AF_INET && DROP_WIRE_INET6 == AF_INET6, "the wire's families are the kernel's");

int drop_event_decode(const void *rec, size_t len, struct drop_event *out)
{
	struct drop_wire w;
	size_t alen;

	/* Exactly one record: the program and this decoder are built together. */
	if (!rec || len != sizeof(w))
		return -EINVAL;
	memcpy(&w, rec, sizeof(w));	/* the ring gives 8-byte alignment, a fuzzer none */
	if (w.kind < DROP_WIRE_SYN_OVERFLOW || w.kind > DROP_WIRE_REFUSED)
		return -EINVAL;
	if (w.family != DROP_WIRE_INET && w.family != DROP_WIRE_INET6)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->mono_ns = w.mono_ns;
	out->netns = w.netns;
	out->cookie = w.cookie;
	out->kind = (enum drop_kind)w.kind;
	out->family = (uint8_t)w.family;
	out->lport = ntohs(w.lport);
	out->pport = ntohs(w.pport);
	/* An IPv4 address is its first 4 bytes, the rest zero whatever the record held. */
	alen = w.family == DROP_WIRE_INET ? 4 : 16;
	memcpy(out->laddr, w.laddr, alen);
	memcpy(out->paddr, w.paddr, alen);
	out->queue = w.queue;
	out->backlog = w.backlog;
	return 0;
}
