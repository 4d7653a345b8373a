/*
 * fuzz_drop_event.c: one record of the eBPF tier's ring buffer
 * (drop_event_decode). What it accepts must be an event the daemon can use
 * as it is: a known kind and family, an IPv4 address's tail zero.
 */
#include "base.h"

#include <stdlib.h>
#include <sys/socket.h>

#include "drop_event.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct drop_event ev;

	if (drop_event_decode(data, size, &ev))
		return 0;
	if (ev.kind < DROP_SYN_OVERFLOW || ev.kind > DROP_REFUSED)
		abort();
	if (ev.family != AF_INET && ev.family != AF_INET6)
		abort();
	for (size_t i = 4; ev.family == AF_INET && i < sizeof(ev.paddr); i++)
		if (ev.paddr[i] || ev.laddr[i])
			abort();
	return 0;
}
