/* fuzz_sockdiag.c: a LISTEN sock_diag dump as received from the kernel (sockdiag_parse). */
#include "base.h"

#include "fuzz.h"
#include "listener.h"
#include "sockdiag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct listener_set set;

	listener_set_init(&set);
	sockdiag_parse(data, size, &set);
	listener_set_free(&set);
	return 0;
}
