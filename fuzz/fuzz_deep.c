/* fuzz_deep.c: a deep-tier sock_diag dump (SYN_RECV, destinations, memory holders; deep_parse). */
#include "base.h"

#include "deep.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct deep_sample ds;

	deep_sample_init(&ds);
	deep_sample_reset(&ds, 32768, 60999);
	deep_parse(data, size, &ds);
	deep_sample_finish(&ds);
	deep_sample_free(&ds);
	return 0;
}
