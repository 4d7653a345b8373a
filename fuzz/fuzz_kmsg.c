/* fuzz_kmsg.c: one /dev/kmsg record, "PRI,SEQ,TS,FLAGS;message" (kmsg_parse_record). */
#include "base.h"

#include <string.h>

#include "fuzz.h"
#include "kmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmsg_event ev;

	memset(&ev, 0, sizeof(ev));
	kmsg_parse_record((const char *)data, size, &ev);
	return 0;
}
