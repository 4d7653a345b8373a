/* fuzz_netstat.c: /proc/net/netstat and /proc/net/snmp text (netstat_parse), twice into one table as every tick does. */
#include "base.h"

#include "fuzz.h"
#include "netstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct counters c;
	int64_t v;

	counters_init(&c);
	netstat_parse((const char *)data, size, &c);
	counters_get(&c, "TcpExt.ListenOverflows", &v);
	/* A re-read merges into the kept table: the path of every later tick. */
	netstat_parse((const char *)data, size, &c);
	counters_free(&c);
	return 0;
}
