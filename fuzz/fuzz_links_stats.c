/* fuzz_links_stats.c: an RTM_GETSTATS dump, parsed with libnl-3 (links_parse_stats). */
#include "base.h"

#include <string.h>

#include "fuzz.h"
#include "links.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct link_table t;

	memset(&t, 0, sizeof(t));
	links_parse_stats(data, size, &t);
	return 0;
}
