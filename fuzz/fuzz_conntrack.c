/* fuzz_conntrack.c: /proc/net/stat/nf_conntrack, the per-CPU table (conntrack_parse_stat). */
#include "base.h"

#include "conntrack.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conntrack_stat s = { 0 };

	conntrack_parse_stat((const char *)data, size, &s);
	return 0;
}
