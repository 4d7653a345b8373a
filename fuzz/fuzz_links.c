/* fuzz_links.c: an RTM_GETLINK dump, parsed with libnl-3 (links_parse). */
#include "base.h"

#include <string.h>

#include "fuzz.h"
#include "links.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct link_table t;

	memset(&t, 0, sizeof(t));
	links_parse(data, size, &t);
	return 0;
}
