/* fuzz_procexit.c: the process connector's messages, one recv (procexit_parse). */
#include "base.h"

#include "fuzz.h"
#include "procexit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_exit ev[8];
	size_t n = 0;
	unsigned dropped = 0;

	procexit_parse(data, size, ev, ARRAY_SIZE(ev), &n, &dropped);
	return 0;
}
