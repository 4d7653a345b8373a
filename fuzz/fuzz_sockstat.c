/* fuzz_sockstat.c: /proc/net/sockstat and sockstat6 text (sockstat_parse). */
#include "base.h"

#include "fuzz.h"
#include "sockstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockstat s;

	sockstat_parse((const char *)data, size, &s);
	return 0;
}
