/* fuzz_netstat.c: /proc/net/netstat and /proc/net/snmp text (netstat_parse), twice into one table as every tick does, and the re-read of a layout (netstat_layout.c). */
#include "base.h"

#include <string.h>

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

	/*
	 * The input up to its first NUL as netstat, the rest as snmp: a whole
	 * read and its layout, then the same texts re-read, which must go into
	 * place and leave every value as it was; then each text as the other
	 * file, which must not crash.
	 */
	{
		const char *text = (const char *)data, *nul = memchr(data, 0, size);
		size_t len0 = nul ? (size_t)(nul - text) : size, len1 = nul ? size - len0 - 1 : 0;
		const char *text1 = nul ? nul + 1 : text + size;

		counters_init(&c);
		if (netstat_parse(text, len0, &c) == 0 && netstat_layout_note(&c, 0, text, len0) == 0 &&
		    netstat_parse(text1, len1, &c) == 0 && netstat_layout_note(&c, 1, text1, len1) == 0 &&
		    netstat_layout_finish(&c) == 0 && c.layout.valid) {
			uint64_t sum = 0, again = 0;

			for (size_t i = 0; i < c.count; i++)
				sum += (uint64_t)c.items[i].value;
			if (!netstat_layout_update(&c, 0, text, len0) || !netstat_layout_update(&c, 1, text1, len1))
				__builtin_trap();
			for (size_t i = 0; i < c.count; i++)
				again += (uint64_t)c.items[i].value;
			if (again != sum)
				__builtin_trap();
			(void)netstat_layout_update(&c, 0, text1, len1);
			(void)netstat_layout_update(&c, 1, text, len0);
		}
		counters_free(&c);
	}
	return 0;
}
